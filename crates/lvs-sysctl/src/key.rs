//! Typed sysctl keys, their allowed values and the kernel's rule for combining `all` and the
//! interface value.

use core::fmt;
use core::str::FromStr;
use std::path::PathBuf;

use crate::name::{NameError, Scope};

/// An IPv4 per-interface parameter under `net.ipv4.conf.<scope>.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Ipv4Conf {
    /// `arp_ignore` (0–3 or 8; 4–7 reserved): which ARP requests for local addresses get a reply.
    ArpIgnore,
    /// `arp_announce` (0–2): which source address goes into ARP requests we send.
    ArpAnnounce,
    /// `arp_filter` (boolean): answer ARP only on the interface the kernel would route out of.
    ArpFilter,
    /// `rp_filter` (0 off, 1 strict, 2 loose): reverse-path source validation.
    RpFilter,
    /// `forwarding` (boolean): forward packets received on this interface.
    Forwarding,
    /// `accept_local` (boolean): accept packets whose source is a local address.
    AcceptLocal,
    /// `promote_secondaries` (boolean): promote a secondary address when the primary is removed.
    PromoteSecondaries,
    /// `accept_redirects` (boolean): accept ICMP redirects. Listed because writing `ip_forward`
    /// changes `all.accept_redirects` as a side effect.
    AcceptRedirects,
}

/// An IPv6 per-interface parameter under `net.ipv6.conf.<scope>.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Ipv6Conf {
    /// `forwarding` (boolean).
    Forwarding,
    /// `accept_dad` (0–2; the kernel shows -1 on loopback and NOARP devices).
    AcceptDad,
    /// `dad_transmits` (≥ 0): number of DAD probes.
    DadTransmits,
    /// `disable_ipv6` (boolean).
    DisableIpv6,
    /// `accept_ra` (0–2).
    AcceptRa,
    /// `addr_gen_mode` (0 EUI-64, 1 none, 2 stable privacy, 3 random).
    AddrGenMode,
    /// `keep_addr_on_down` (-1, 0, 1).
    KeepAddrOnDown,
}

/// A parameter that exists per interface, IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Param {
    /// An IPv4 `conf` parameter.
    V4(Ipv4Conf),
    /// An IPv6 `conf` parameter.
    V6(Ipv6Conf),
}

/// How the kernel combines the `all` value and the interface value into the value it uses.
///
/// Sources: `include/linux/inetdevice.h` (`IN_DEV_MAXCONF`, `IN_DEV_ORCONF`, `IN_DEV_CONF_GET`,
/// `IN_DEV_RX_REDIRECTS`) and, for IPv6 `accept_dad`, `net/ipv6/addrconf.c` since Linux 4.14
/// (commits 35e015e1f577 and a2d3f3e33853).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `max(all, iface)` (`IN_DEV_MAXCONF`): arp_ignore, arp_announce, rp_filter; IPv6 accept_dad.
    Max,
    /// `all || iface` (`IN_DEV_ORCONF`): arp_filter, accept_local, promote_secondaries.
    Or,
    /// Only the interface value counts (`IN_DEV_CONF_GET`): IPv4 forwarding and the IPv6
    /// parameters other than accept_dad. Writing `all` for forwarding (and IPv6 disable_ipv6)
    /// copies the value into every interface instead.
    Interface,
    /// accept_redirects (`IN_DEV_RX_REDIRECTS`): `all && iface` when the interface forwards,
    /// `all || iface` when it does not.
    RxRedirects,
}

impl Rule {
    /// Combines `all` and `iface`; `forwarding` is the interface's forwarding value (only
    /// consulted by [`Rule::RxRedirects`]).
    pub fn combine(self, all: i32, iface: i32, forwarding: i32) -> i32 {
        match self {
            Self::Max => all.max(iface),
            Self::Or => i32::from(all != 0 || iface != 0),
            Self::Interface => iface,
            Self::RxRedirects => {
                if forwarding != 0 {
                    i32::from(all != 0 && iface != 0)
                } else {
                    i32::from(all != 0 || iface != 0)
                }
            }
        }
    }

    /// The kernel macro or source that implements the rule.
    pub fn source(self) -> &'static str {
        match self {
            Self::Max => "IN_DEV_MAXCONF, include/linux/inetdevice.h",
            Self::Or => "IN_DEV_ORCONF, include/linux/inetdevice.h",
            Self::Interface => "IN_DEV_CONF_GET, include/linux/inetdevice.h",
            Self::RxRedirects => "IN_DEV_RX_REDIRECTS, include/linux/inetdevice.h",
        }
    }
}

/// What values a parameter accepts when we write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    Bool,
    Range(i32, i32),
    ArpIgnore,
    NonNegative,
}

impl Ipv4Conf {
    /// Every IPv4 parameter this crate knows.
    pub const ALL: [Self; 8] = [
        Self::ArpIgnore,
        Self::ArpAnnounce,
        Self::ArpFilter,
        Self::RpFilter,
        Self::Forwarding,
        Self::AcceptLocal,
        Self::PromoteSecondaries,
        Self::AcceptRedirects,
    ];

    /// The file name under `conf/<scope>/`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ArpIgnore => "arp_ignore",
            Self::ArpAnnounce => "arp_announce",
            Self::ArpFilter => "arp_filter",
            Self::RpFilter => "rp_filter",
            Self::Forwarding => "forwarding",
            Self::AcceptLocal => "accept_local",
            Self::PromoteSecondaries => "promote_secondaries",
            Self::AcceptRedirects => "accept_redirects",
        }
    }

    /// The rule combining `all` and the interface value.
    pub fn rule(self) -> Rule {
        match self {
            Self::ArpIgnore | Self::ArpAnnounce | Self::RpFilter => Rule::Max,
            Self::ArpFilter | Self::AcceptLocal | Self::PromoteSecondaries => Rule::Or,
            Self::Forwarding => Rule::Interface,
            Self::AcceptRedirects => Rule::RxRedirects,
        }
    }

    fn domain(self) -> Domain {
        match self {
            Self::ArpIgnore => Domain::ArpIgnore,
            Self::ArpAnnounce | Self::RpFilter => Domain::Range(0, 2),
            _ => Domain::Bool,
        }
    }
}

impl Ipv6Conf {
    /// Every IPv6 parameter this crate knows.
    pub const ALL: [Self; 7] = [
        Self::Forwarding,
        Self::AcceptDad,
        Self::DadTransmits,
        Self::DisableIpv6,
        Self::AcceptRa,
        Self::AddrGenMode,
        Self::KeepAddrOnDown,
    ];

    /// The file name under `conf/<scope>/`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Forwarding => "forwarding",
            Self::AcceptDad => "accept_dad",
            Self::DadTransmits => "dad_transmits",
            Self::DisableIpv6 => "disable_ipv6",
            Self::AcceptRa => "accept_ra",
            Self::AddrGenMode => "addr_gen_mode",
            Self::KeepAddrOnDown => "keep_addr_on_down",
        }
    }

    /// The rule combining `all` and the interface value.
    pub fn rule(self) -> Rule {
        match self {
            Self::AcceptDad => Rule::Max,
            _ => Rule::Interface,
        }
    }

    fn domain(self) -> Domain {
        match self {
            Self::Forwarding | Self::DisableIpv6 => Domain::Bool,
            Self::AcceptDad | Self::AcceptRa => Domain::Range(0, 2),
            Self::DadTransmits => Domain::NonNegative,
            Self::AddrGenMode => Domain::Range(0, 3),
            Self::KeepAddrOnDown => Domain::Range(-1, 1),
        }
    }
}

impl Param {
    /// The parameter's file name (`arp_ignore`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::V4(p) => p.name(),
            Self::V6(p) => p.name(),
        }
    }

    /// The rule combining `all` and the interface value.
    pub fn rule(self) -> Rule {
        match self {
            Self::V4(p) => p.rule(),
            Self::V6(p) => p.rule(),
        }
    }

    /// `ipv4` or `ipv6`.
    pub fn family(self) -> &'static str {
        match self {
            Self::V4(_) => "ipv4",
            Self::V6(_) => "ipv6",
        }
    }

    /// The key of this parameter in `scope`.
    pub fn key(self, scope: Scope) -> Key {
        match self {
            Self::V4(param) => Key::Ipv4 { scope, param },
            Self::V6(param) => Key::Ipv6 { scope, param },
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value that a key does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Outside the documented range.
    #[error("{key}={value} is out of range: {param} accepts {allowed}")]
    OutOfRange {
        /// The key (dotted notation).
        key: String,
        /// The parameter name.
        param: &'static str,
        /// The rejected value.
        value: i32,
        /// The allowed values, in words.
        allowed: &'static str,
    },
    /// arp_ignore 4–7: reserved; the kernel treats them like 0 (reply for any local address).
    #[error(
        "{key}={value} is reserved: arp_ignore 4-7 behave like 0 (reply for any local address); use 0-3 or 8"
    )]
    Reserved {
        /// The key (dotted notation).
        key: String,
        /// The rejected value.
        value: i32,
    },
}

/// A typed sysctl key.
///
/// Displayed (and parsed) in the dotted notation of `sysctl(8)`, where a dot inside an interface
/// name is written `/` (`net.ipv4.conf.eth0/100.arp_ignore`); [`Key::path`] gives the file under
/// `/proc/sys` (`net/ipv4/conf/eth0.100/arp_ignore`). Parsing accepts both notations.
///
/// ```
/// use lvs_sysctl::{Ipv4Conf, Key, Scope, IfName};
/// let k: Key = "net.ipv4.conf.eth0/100.arp_ignore".parse()?;
/// assert_eq!(k, Key::ipv4(Scope::Iface(IfName::new("eth0.100")?), Ipv4Conf::ArpIgnore));
/// assert_eq!(k.path().to_str(), Some("net/ipv4/conf/eth0.100/arp_ignore"));
/// assert_eq!("net/ipv4/conf/eth0.100/arp_ignore".parse::<Key>()?, k);
/// assert!(k.validate(1).is_ok());
/// assert!(k.validate(5).is_err()); // reserved
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// `net.ipv4.ip_forward`: the same kernel variable as `net.ipv4.conf.all.forwarding`;
    /// writing it also sets `forwarding` on every interface and on `default`, and sets
    /// `conf.all.accept_redirects` to its negation (`inet_forward_change`, net/ipv4/devinet.c).
    IpForward,
    /// `net.ipv4.conf.<scope>.<param>`.
    Ipv4 {
        /// all, default or an interface.
        scope: Scope,
        /// The parameter.
        param: Ipv4Conf,
    },
    /// `net.ipv6.conf.<scope>.<param>`.
    Ipv6 {
        /// all, default or an interface.
        scope: Scope,
        /// The parameter.
        param: Ipv6Conf,
    },
}

/// Why a string is not a key this crate knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    /// Not of the form `net.ipv{4,6}.conf.<scope>.<param>` or `net.ipv4.ip_forward`.
    #[error(
        "{0:?} is not a key lvs-sysctl knows (expected net.ipv4.ip_forward or net.ipv{{4,6}}.conf.<all|default|iface>.<param>)"
    )]
    Unknown(String),
    /// The parameter name is not one of the typed parameters.
    #[error("{key:?}: unknown {family} parameter {param:?}")]
    UnknownParam {
        /// The whole key.
        key: String,
        /// ipv4 or ipv6.
        family: &'static str,
        /// The parameter that was not recognised.
        param: String,
    },
    /// The interface component is not a valid interface name.
    #[error("{key:?}: {source}")]
    BadInterface {
        /// The whole key.
        key: String,
        /// Why the name is invalid.
        source: NameError,
    },
}

impl Key {
    /// `net.ipv4.conf.<scope>.<param>`.
    pub fn ipv4(scope: Scope, param: Ipv4Conf) -> Self {
        Self::Ipv4 { scope, param }
    }

    /// `net.ipv6.conf.<scope>.<param>`.
    pub fn ipv6(scope: Scope, param: Ipv6Conf) -> Self {
        Self::Ipv6 { scope, param }
    }

    /// The scope (`None` for `ip_forward`).
    pub fn scope(&self) -> Option<&Scope> {
        match self {
            Self::IpForward => None,
            Self::Ipv4 { scope, .. } | Self::Ipv6 { scope, .. } => Some(scope),
        }
    }

    /// The per-interface parameter (`None` for `ip_forward`).
    pub fn param(&self) -> Option<Param> {
        match self {
            Self::IpForward => None,
            Self::Ipv4 { param, .. } => Some(Param::V4(*param)),
            Self::Ipv6 { param, .. } => Some(Param::V6(*param)),
        }
    }

    /// The last component (`ip_forward`, `arp_ignore`, ...).
    pub fn param_name(&self) -> &'static str {
        match self {
            Self::IpForward => "ip_forward",
            Self::Ipv4 { param, .. } => param.name(),
            Self::Ipv6 { param, .. } => param.name(),
        }
    }

    /// The file path relative to the procfs sysctl root (`/proc/sys`).
    pub fn path(&self) -> PathBuf {
        match self {
            Self::IpForward => PathBuf::from("net/ipv4/ip_forward"),
            Self::Ipv4 { scope, param } => ["net", "ipv4", "conf", scope.dir_name(), param.name()]
                .iter()
                .collect(),
            Self::Ipv6 { scope, param } => ["net", "ipv6", "conf", scope.dir_name(), param.name()]
                .iter()
                .collect(),
        }
    }

    /// Checks that `value` is one the parameter documents (ip-sysctl.rst).
    ///
    /// The kernel itself stores almost any integer for these keys (`proc_dointvec`); values
    /// outside the documented set silently behave like a default (arp_ignore 4–7 and > 8 reply to
    /// everything, arp_announce > 2 behaves like 0), which is why writes are refused here.
    pub fn validate(&self, value: i32) -> Result<(), ValueError> {
        let domain = match self {
            Self::IpForward => Domain::Bool,
            Self::Ipv4 { param, .. } => param.domain(),
            Self::Ipv6 { param, .. } => param.domain(),
        };
        let out = |allowed| ValueError::OutOfRange {
            key: self.to_string(),
            param: self.param_name(),
            value,
            allowed,
        };
        match domain {
            Domain::Bool if !(0..=1).contains(&value) => Err(out("0 or 1")),
            Domain::Range(0, 2) if !(0..=2).contains(&value) => Err(out("0, 1 or 2")),
            Domain::Range(0, 3) if !(0..=3).contains(&value) => Err(out("0, 1, 2 or 3")),
            Domain::Range(lo, hi) if !(lo..=hi).contains(&value) => Err(out("-1, 0 or 1")),
            Domain::NonNegative if value < 0 => Err(out("a count >= 0")),
            Domain::ArpIgnore => match value {
                0..=3 | 8 => Ok(()),
                4..=7 => Err(ValueError::Reserved {
                    key: self.to_string(),
                    value,
                }),
                _ => Err(out("0, 1, 2, 3 or 8")),
            },
            _ => Ok(()),
        }
    }

    /// Whether the kernel copies a write of this key into other keys (so that restoring it
    /// alone does not restore them): `ip_forward`, `conf.all.forwarding` (both families),
    /// `ipv6.conf.all.disable_ipv6` and `ipv6.conf.all.addr_gen_mode` (into `default` and every
    /// interface), and every IPv4 `conf.default.*` key (into interfaces whose value was never
    /// written, `devinet_copy_dflt_conf`). IPv6 `default` is only copied into new interfaces.
    pub fn propagates(&self) -> bool {
        match self {
            Self::IpForward => true,
            Self::Ipv4 { scope, param } => {
                *scope == Scope::Default || (*scope == Scope::All && *param == Ipv4Conf::Forwarding)
            }
            Self::Ipv6 { scope, param } => {
                *scope == Scope::All
                    && matches!(
                        param,
                        Ipv6Conf::Forwarding | Ipv6Conf::DisableIpv6 | Ipv6Conf::AddrGenMode
                    )
            }
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IpForward => f.write_str("net.ipv4.ip_forward"),
            Self::Ipv4 { scope, param } => {
                write!(
                    f,
                    "net.ipv4.conf.{}.{}",
                    scope.sysctl_component(),
                    param.name()
                )
            }
            Self::Ipv6 { scope, param } => {
                write!(
                    f,
                    "net.ipv6.conf.{}.{}",
                    scope.sysctl_component(),
                    param.name()
                )
            }
        }
    }
}

impl FromStr for Key {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || KeyParseError::Unknown(s.to_owned());
        // sysctl(8): the first separator decides the notation.
        let slash = match s.find(['.', '/']) {
            Some(i) => s.as_bytes()[i] == b'/',
            None => return Err(unknown()),
        };
        let sep = if slash { '/' } else { '.' };
        let mut parts = s.splitn(4, sep);
        let (Some("net"), Some(family), Some(third)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(unknown());
        };
        if family == "ipv4" && third == "ip_forward" && parts.next().is_none() {
            return Ok(Self::IpForward);
        }
        if third != "conf" {
            return Err(unknown());
        }
        let rest = parts.next().ok_or_else(unknown)?;
        // The parameter is after the last separator; everything before it is the scope
        // (which, in slash notation, keeps its dots; in dot notation has '/' for '.').
        let (scope, param) = rest.rsplit_once(sep).ok_or_else(unknown)?;
        let scope = if slash {
            Scope::from_dir_name(scope)
        } else {
            Scope::from_sysctl_component(scope)
        }
        .map_err(|source| KeyParseError::BadInterface {
            key: s.to_owned(),
            source,
        })?;
        let unknown_param = |family| KeyParseError::UnknownParam {
            key: s.to_owned(),
            family,
            param: param.to_owned(),
        };
        match family {
            "ipv4" => Ipv4Conf::ALL
                .into_iter()
                .find(|p| p.name() == param)
                .map(|param| Self::Ipv4 { scope, param })
                .ok_or_else(|| unknown_param("ipv4")),
            "ipv6" => Ipv6Conf::ALL
                .into_iter()
                .find(|p| p.name() == param)
                .map(|param| Self::Ipv6 { scope, param })
                .ok_or_else(|| unknown_param("ipv6")),
            _ => Err(unknown()),
        }
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IfName;

    fn eth0() -> Scope {
        Scope::Iface(IfName::new("eth0").unwrap())
    }

    #[test]
    fn display_and_parse_round_trip_for_every_key() {
        let scopes = [
            Scope::All,
            Scope::Default,
            eth0(),
            Scope::Iface(IfName::new("eth0.100").unwrap()),
        ];
        let mut keys = vec![Key::IpForward];
        for s in &scopes {
            keys.extend(Ipv4Conf::ALL.map(|p| Key::ipv4(s.clone(), p)));
            keys.extend(Ipv6Conf::ALL.map(|p| Key::ipv6(s.clone(), p)));
        }
        for k in keys {
            let dotted = k.to_string();
            assert_eq!(dotted.parse::<Key>().unwrap(), k, "{dotted}");
            let slashed = k.path().to_str().unwrap().to_owned();
            assert_eq!(slashed.parse::<Key>().unwrap(), k, "{slashed}");
        }
    }

    #[test]
    fn vlan_interface_notations() {
        let k: Key = "net.ipv6.conf.eth0/100.accept_dad".parse().unwrap();
        assert_eq!(k.to_string(), "net.ipv6.conf.eth0/100.accept_dad");
        assert_eq!(k.path(), PathBuf::from("net/ipv6/conf/eth0.100/accept_dad"));
        assert_eq!(k.scope().unwrap().dir_name(), "eth0.100");
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(
            "net.ipv4.conf.eth0.bogus".parse::<Key>(),
            Err(KeyParseError::UnknownParam { .. })
        ));
        assert!(matches!(
            "net.ipv4.tcp_syncookies".parse::<Key>(),
            Err(KeyParseError::Unknown(_))
        ));
        assert!(matches!(
            "kernel.hostname".parse::<Key>(),
            Err(KeyParseError::Unknown(_))
        ));
        assert!(matches!("".parse::<Key>(), Err(KeyParseError::Unknown(_))));
        assert!(matches!(
            "net.ipv5.conf.all.forwarding".parse::<Key>(),
            Err(KeyParseError::Unknown(_))
        ));
        assert!(matches!(
            "net.ipv4.conf.arp_ignore".parse::<Key>(),
            Err(KeyParseError::BadInterface { .. }) | Err(KeyParseError::Unknown(_))
        ));
        let e = "net.ipv4.conf.0123456789abcdef.arp_ignore"
            .parse::<Key>()
            .unwrap_err();
        assert!(
            matches!(
                e,
                KeyParseError::BadInterface {
                    source: NameError::TooLong { .. },
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            "net/ipv4/conf/lo:0/arp_ignore".parse::<Key>(),
            Err(KeyParseError::BadInterface { .. })
        ));
        assert_eq!(
            "net/ipv4/ip_forward".parse::<Key>().unwrap(),
            Key::IpForward
        );
    }

    #[test]
    fn arp_ignore_values() {
        let k = Key::ipv4(eth0(), Ipv4Conf::ArpIgnore);
        for v in [0, 1, 2, 3, 8] {
            assert!(k.validate(v).is_ok(), "{v}");
        }
        for v in 4..=7 {
            let e = k.validate(v).unwrap_err();
            assert!(matches!(e, ValueError::Reserved { value, .. } if value == v));
            assert!(e.to_string().contains("reserved"), "{e}");
        }
        for v in [-1, 9, 100] {
            assert!(
                matches!(k.validate(v), Err(ValueError::OutOfRange { .. })),
                "{v}"
            );
        }
    }

    #[test]
    fn ranges_of_every_parameter() {
        let cases: &[(Key, &[i32], &[i32])] = &[
            (Key::IpForward, &[0, 1], &[-1, 2]),
            (
                Key::ipv4(Scope::All, Ipv4Conf::ArpAnnounce),
                &[0, 1, 2],
                &[-1, 3],
            ),
            (
                Key::ipv4(Scope::All, Ipv4Conf::RpFilter),
                &[0, 1, 2],
                &[-1, 3],
            ),
            (
                Key::ipv4(Scope::All, Ipv4Conf::ArpFilter),
                &[0, 1],
                &[-1, 2],
            ),
            (Key::ipv4(Scope::All, Ipv4Conf::Forwarding), &[0, 1], &[2]),
            (Key::ipv4(Scope::All, Ipv4Conf::AcceptLocal), &[0, 1], &[2]),
            (
                Key::ipv4(Scope::All, Ipv4Conf::PromoteSecondaries),
                &[0, 1],
                &[2],
            ),
            (
                Key::ipv4(Scope::All, Ipv4Conf::AcceptRedirects),
                &[0, 1],
                &[2],
            ),
            (Key::ipv6(Scope::All, Ipv6Conf::Forwarding), &[0, 1], &[2]),
            (
                Key::ipv6(Scope::All, Ipv6Conf::AcceptDad),
                &[0, 1, 2],
                &[-1, 3],
            ),
            (
                Key::ipv6(Scope::All, Ipv6Conf::DadTransmits),
                &[0, 1, 5],
                &[-1],
            ),
            (Key::ipv6(Scope::All, Ipv6Conf::DisableIpv6), &[0, 1], &[2]),
            (Key::ipv6(Scope::All, Ipv6Conf::AcceptRa), &[0, 1, 2], &[3]),
            (
                Key::ipv6(Scope::All, Ipv6Conf::AddrGenMode),
                &[0, 1, 2, 3],
                &[4, -1],
            ),
            (
                Key::ipv6(Scope::All, Ipv6Conf::KeepAddrOnDown),
                &[-1, 0, 1],
                &[2, -2],
            ),
        ];
        for (k, good, bad) in cases {
            for v in *good {
                assert!(k.validate(*v).is_ok(), "{k}={v}");
            }
            for v in *bad {
                let e = k.validate(*v).unwrap_err();
                assert!(e.to_string().starts_with(&format!("{k}={v}")), "{e}");
            }
        }
    }

    #[test]
    fn combination_rules() {
        use Rule::*;
        assert_eq!(Ipv4Conf::ArpIgnore.rule(), Max);
        assert_eq!(Ipv4Conf::ArpAnnounce.rule(), Max);
        assert_eq!(Ipv4Conf::RpFilter.rule(), Max);
        assert_eq!(Ipv4Conf::ArpFilter.rule(), Or);
        assert_eq!(Ipv4Conf::AcceptLocal.rule(), Or);
        assert_eq!(Ipv4Conf::PromoteSecondaries.rule(), Or);
        assert_eq!(Ipv4Conf::Forwarding.rule(), Interface);
        assert_eq!(Ipv6Conf::AcceptDad.rule(), Max);
        assert_eq!(Ipv6Conf::DisableIpv6.rule(), Interface);
        assert_eq!(Max.combine(1, 0, 0), 1);
        assert_eq!(Max.combine(0, 2, 0), 2);
        assert_eq!(Max.combine(-1, 0, 0), 0);
        assert_eq!(Or.combine(0, 0, 0), 0);
        assert_eq!(Or.combine(1, 0, 0), 1);
        assert_eq!(Or.combine(0, 5, 0), 1);
        assert_eq!(Interface.combine(1, 0, 0), 0);
        assert_eq!(Interface.combine(0, 1, 0), 1);
        assert_eq!(RxRedirects.combine(1, 0, 0), 1);
        assert_eq!(RxRedirects.combine(1, 0, 1), 0);
        assert_eq!(RxRedirects.combine(1, 1, 1), 1);
        assert_eq!(RxRedirects.combine(0, 0, 0), 0);
    }

    #[test]
    fn propagation() {
        assert!(Key::IpForward.propagates());
        assert!(Key::ipv4(Scope::All, Ipv4Conf::Forwarding).propagates());
        assert!(Key::ipv4(Scope::Default, Ipv4Conf::RpFilter).propagates());
        assert!(!Key::ipv4(Scope::All, Ipv4Conf::RpFilter).propagates());
        assert!(!Key::ipv4(eth0(), Ipv4Conf::Forwarding).propagates());
        assert!(Key::ipv6(Scope::All, Ipv6Conf::DisableIpv6).propagates());
        assert!(Key::ipv6(Scope::All, Ipv6Conf::AddrGenMode).propagates());
        assert!(!Key::ipv6(Scope::All, Ipv6Conf::AcceptDad).propagates());
        assert!(!Key::ipv6(Scope::Default, Ipv6Conf::AcceptRa).propagates());
    }

    #[test]
    fn serde_as_string() {
        let k = Key::ipv4(
            Scope::Iface(IfName::new("eth0.7").unwrap()),
            Ipv4Conf::RpFilter,
        );
        let j = serde_json::to_string(&k).unwrap();
        assert_eq!(j, "\"net.ipv4.conf.eth0/7.rp_filter\"");
        assert_eq!(serde_json::from_str::<Key>(&j).unwrap(), k);
        assert!(serde_json::from_str::<Key>("\"net.ipv4.conf.eth0.nope\"").is_err());
    }
}
