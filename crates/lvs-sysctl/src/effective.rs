//! The value the kernel actually uses on an interface, and where it comes from.

use core::fmt;

use crate::error::Error;
use crate::key::{Ipv4Conf, Key, Param, Rule};
use crate::name::{IfName, Scope};
use crate::procfs::Source;

/// The value the kernel uses for a parameter on an interface, with both inputs and the rule.
///
/// Displays as, for example, `arp_ignore on eth0 is 1 = max(all=1, eth0=0)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The parameter.
    pub param: Param,
    /// The interface.
    pub iface: IfName,
    /// How `all` and the interface value combine.
    pub rule: Rule,
    /// `conf/all/<param>`.
    pub all: i32,
    /// `conf/<iface>/<param>`.
    pub iface_value: i32,
    /// For [`Rule::RxRedirects`]: the interface's `forwarding`, which selects AND or OR.
    pub forwarding: Option<i32>,
    /// The value in effect.
    pub value: i32,
}

impl Explanation {
    /// The scope(s) whose value decides the result: the one to change to change the result.
    ///
    /// For `max`, the larger input (both when equal); for OR, the inputs that are on; for
    /// per-interface parameters, the interface.
    pub fn deciding(&self) -> Vec<Scope> {
        let all = Scope::All;
        let me = Scope::Iface(self.iface.clone());
        match self.rule {
            Rule::Max if self.all > self.iface_value => vec![all],
            Rule::Max if self.all < self.iface_value => vec![me],
            Rule::Max => vec![all, me],
            Rule::Or | Rule::RxRedirects => {
                let mut v = Vec::new();
                if self.all != 0 {
                    v.push(all);
                }
                if self.iface_value != 0 {
                    v.push(me);
                }
                v
            }
            Rule::Interface => vec![me],
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p, i, all, mine, v) = (
            self.param,
            &self.iface,
            self.all,
            self.iface_value,
            self.value,
        );
        match self.rule {
            Rule::Max => write!(f, "{p} on {i} is {v} = max(all={all}, {i}={mine})"),
            Rule::Or => write!(f, "{p} on {i} is {v} = all={all} OR {i}={mine}"),
            Rule::Interface => write!(
                f,
                "{p} on {i} is {v} = {i}={mine} (the interface value alone counts; all={all} is not consulted)"
            ),
            Rule::RxRedirects => {
                let fwd = self.forwarding.unwrap_or(0);
                let op = if fwd != 0 { "AND" } else { "OR" };
                write!(
                    f,
                    "{p} on {i} is {v} = all={all} {op} {i}={mine} ({op} because forwarding on {i} is {fwd})"
                )
            }
        }
    }
}

/// The value the kernel uses for `param` on `iface`, explained.
///
/// Rules (from `include/linux/inetdevice.h` and `net/ipv6/addrconf.c`):
/// arp_ignore, arp_announce, rp_filter and IPv6 accept_dad use `max(all, iface)`; arp_filter,
/// accept_local and promote_secondaries use `all OR iface`; IPv4 forwarding and the other IPv6
/// parameters use the interface value (writing `all` for forwarding copies the value into every
/// interface instead). `default` never takes part: it is copied into interfaces when they are
/// created, and into existing interfaces whose value was never written when `default` is written.
///
/// ```
/// use lvs_sysctl::{effective, IfName, Ipv4Conf, Key, Param, Scope, Snapshot};
/// let eth0 = IfName::new("eth0")?;
/// let mut snap = Snapshot::default();
/// snap.set(Key::ipv4(Scope::All, Ipv4Conf::ArpIgnore), 1)
///     .set(Key::ipv4(Scope::Iface(eth0.clone()), Ipv4Conf::ArpIgnore), 0);
/// let e = effective(&snap, Param::V4(Ipv4Conf::ArpIgnore), &eth0)?;
/// assert_eq!(e.value, 1);
/// assert_eq!(e.to_string(), "arp_ignore on eth0 is 1 = max(all=1, eth0=0)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn effective(source: &impl Source, param: Param, iface: &IfName) -> Result<Explanation, Error> {
    let me = Scope::Iface(iface.clone());
    // Read the interface first so that a missing interface is reported as such.
    let iface_value = source.get(&param.key(me.clone()))?;
    let all = source.get(&param.key(Scope::All))?;
    let rule = param.rule();
    let forwarding = if rule == Rule::RxRedirects {
        Some(source.get(&Key::ipv4(me, Ipv4Conf::Forwarding))?)
    } else {
        None
    };
    Ok(Explanation {
        param,
        iface: iface.clone(),
        rule,
        all,
        iface_value,
        forwarding,
        value: rule.combine(all, iface_value, forwarding.unwrap_or(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Ipv6Conf;
    use crate::procfs::Snapshot;

    fn snap(param: Param, all: i32, eth0: i32) -> Snapshot {
        let mut s = Snapshot::default();
        s.set(param.key(Scope::All), all)
            .set(param.key(Scope::Iface(IfName::new("eth0").unwrap())), eth0);
        s
    }

    fn eff(param: Param, all: i32, eth0: i32) -> Explanation {
        effective(
            &snap(param, all, eth0),
            param,
            &IfName::new("eth0").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn max_rule_parameters() {
        for p in [
            Param::V4(Ipv4Conf::ArpIgnore),
            Param::V4(Ipv4Conf::ArpAnnounce),
            Param::V4(Ipv4Conf::RpFilter),
            Param::V6(Ipv6Conf::AcceptDad),
        ] {
            for (a, i, want) in [
                (0, 0, 0),
                (1, 0, 1),
                (0, 2, 2),
                (2, 1, 2),
                (1, 1, 1),
                (-1, 0, 0),
            ] {
                let e = eff(p, a, i);
                assert_eq!(e.value, want, "{p} all={a} eth0={i}");
                assert_eq!(
                    e.to_string(),
                    format!("{p} on eth0 is {want} = max(all={a}, eth0={i})")
                );
            }
        }
    }

    #[test]
    fn or_rule_parameters() {
        for p in [
            Param::V4(Ipv4Conf::ArpFilter),
            Param::V4(Ipv4Conf::AcceptLocal),
            Param::V4(Ipv4Conf::PromoteSecondaries),
        ] {
            for (a, i, want) in [(0, 0, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1)] {
                let e = eff(p, a, i);
                assert_eq!(e.value, want);
                assert_eq!(
                    e.to_string(),
                    format!("{p} on eth0 is {want} = all={a} OR eth0={i}")
                );
            }
        }
    }

    #[test]
    fn interface_rule_parameters() {
        for p in [
            Param::V4(Ipv4Conf::Forwarding),
            Param::V6(Ipv6Conf::Forwarding),
            Param::V6(Ipv6Conf::DisableIpv6),
            Param::V6(Ipv6Conf::AddrGenMode),
            Param::V6(Ipv6Conf::DadTransmits),
            Param::V6(Ipv6Conf::AcceptRa),
            Param::V6(Ipv6Conf::KeepAddrOnDown),
        ] {
            let e = eff(p, 1, 0);
            assert_eq!(e.value, 0, "{p}");
            assert!(e.to_string().contains("all=1 is not consulted"), "{e}");
            assert_eq!(
                e.deciding(),
                vec![Scope::Iface(IfName::new("eth0").unwrap())]
            );
        }
    }

    #[test]
    fn accept_redirects_depends_on_forwarding() {
        let p = Param::V4(Ipv4Conf::AcceptRedirects);
        let eth0 = IfName::new("eth0").unwrap();
        let mut s = snap(p, 1, 0);
        s.set(
            Key::ipv4(Scope::Iface(eth0.clone()), Ipv4Conf::Forwarding),
            0,
        );
        let e = effective(&s, p, &eth0).unwrap();
        assert_eq!(e.value, 1);
        assert!(
            e.to_string().contains("OR because forwarding on eth0 is 0"),
            "{e}"
        );
        s.set(
            Key::ipv4(Scope::Iface(eth0.clone()), Ipv4Conf::Forwarding),
            1,
        );
        let e = effective(&s, p, &eth0).unwrap();
        assert_eq!(e.value, 0);
        assert!(
            e.to_string()
                .contains("AND because forwarding on eth0 is 1"),
            "{e}"
        );
    }

    #[test]
    fn deciding_scope() {
        let p = Param::V4(Ipv4Conf::ArpIgnore);
        let me = Scope::Iface(IfName::new("eth0").unwrap());
        assert_eq!(eff(p, 1, 0).deciding(), vec![Scope::All]);
        assert_eq!(eff(p, 0, 2).deciding(), vec![me.clone()]);
        assert_eq!(eff(p, 1, 1).deciding(), vec![Scope::All, me.clone()]);
        let p = Param::V4(Ipv4Conf::ArpFilter);
        assert_eq!(eff(p, 1, 1).deciding(), vec![Scope::All, me]);
        assert!(eff(p, 0, 0).deciding().is_empty());
    }

    #[test]
    fn missing_interface_is_reported() {
        let s = snap(Param::V4(Ipv4Conf::ArpIgnore), 0, 0);
        let e = effective(
            &s,
            Param::V4(Ipv4Conf::ArpIgnore),
            &IfName::new("eth1").unwrap(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::NoSuchInterface { .. }), "{e}");
    }
}
