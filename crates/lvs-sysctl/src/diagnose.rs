//! Checks for `lvs-realserver status`: per mode, a verdict and a specific fix for each item.

use core::fmt;
use std::net::IpAddr;

use crate::effective::{Explanation, effective};
use crate::error::Error;
use crate::key::{Ipv4Conf, Key, Param};
use crate::name::{IfName, Scope};
use crate::procfs::Source;
use crate::profile::TUNL0;

/// Which role the host is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// LVS-DR real server.
    Dr,
    /// LVS-TUN real server.
    Tun,
    /// LVS-NAT real server.
    Nat,
    /// LVS director.
    Director,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dr => "dr",
            Self::Tun => "tun",
            Self::Nat => "nat",
            Self::Director => "director",
        })
    }
}

/// One address configured on the host (as lvs-vip reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrFact {
    /// The interface holding it.
    pub iface: IfName,
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
}

/// What the host looks like beyond sysctls, gathered by the caller (lvs-vip): addresses and
/// default routes. Keeping it as plain input keeps the checks pure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// Every address on every interface.
    pub addresses: Vec<AddrFact>,
    /// The gateways of the default routes (both families).
    pub default_gateways: Vec<IpAddr>,
}

/// What the host should be prepared for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The role.
    pub mode: Mode,
    /// The virtual addresses.
    pub vips: Vec<IpAddr>,
    /// Interfaces where ARP requests arrive. Empty: every IPv4 interface but `lo` and the tunnel.
    pub arp_ifaces: Vec<IfName>,
    /// NAT: the director's inside address that must be the default gateway.
    pub gateway: Option<IpAddr>,
    /// TUN: the tunnel device (`tunl0`).
    pub tunnel: IfName,
}

impl Expect {
    /// Expectations for `mode` with these VIPs; other fields empty.
    pub fn new(mode: Mode, vips: impl IntoIterator<Item = IpAddr>) -> Self {
        Self {
            mode,
            vips: vips.into_iter().collect(),
            arp_ifaces: Vec::new(),
            gateway: None,
            tunnel: IfName::new(TUNL0).expect("valid"),
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Correct for the mode.
    Ok,
    /// Wrong: the check's `fix` says what to do.
    Wrong,
    /// Could not be checked (missing input).
    Unknown,
}

/// One checked item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// A short name of what was checked (`arp_ignore on eth0`, `VIP 192.0.2.10`).
    pub subject: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What was found and what it means.
    pub detail: String,
    /// The specific fix, when wrong.
    pub fix: Option<String>,
    /// For sysctl checks: the effective value and where it comes from.
    pub explanation: Option<Explanation>,
}

/// All checks for one mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The mode checked.
    pub mode: Mode,
    /// The checks, in a stable order.
    pub checks: Vec<Check>,
}

impl Diagnosis {
    /// True only when every check is [`Verdict::Ok`].
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.verdict == Verdict::Ok)
    }

    /// The checks that are [`Verdict::Wrong`].
    pub fn wrong(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Wrong)
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let tag = match c.verdict {
                Verdict::Ok => "ok",
                Verdict::Wrong => "WRONG",
                Verdict::Unknown => "unknown",
            };
            writeln!(f, "[{tag:^7}] {}: {}", c.subject, c.detail)?;
            if let Some(fix) = &c.fix {
                writeln!(f, "          fix: {fix}")?;
            }
        }
        let verdict = if self.ready() { "ready" } else { "NOT ready" };
        writeln!(f, "{} mode: {verdict}", self.mode)
    }
}

/// Checks the host for `expect.mode`.
///
/// Sysctl values come from `source`; addresses and routes from `facts` (`None`: those checks are
/// [`Verdict::Unknown`]). The three classic mistakes are reported with their fix: ARP sysctls
/// set only on `lo` while the kernel uses `max(all, iface)`; `rp_filter` left on for `tunl0` (or
/// `all`); a VIP with a wider mask than /32.
///
/// ```
/// use lvs_sysctl::{diagnose, Expect, IfName, Ipv4Conf, Key, Mode, Procfs, Scope};
/// let dir = tempfile::tempdir()?;
/// let sys = Procfs::fake(dir.path(), &["eth0"])?;
/// // The classic mistake: only lo was configured.
/// let lo = Scope::Iface(IfName::new("lo")?);
/// sys.write(&Key::ipv4(lo.clone(), Ipv4Conf::ArpIgnore), 1)?;
/// sys.write(&Key::ipv4(lo, Ipv4Conf::ArpAnnounce), 2)?;
/// let mut expect = Expect::new(Mode::Dr, ["192.0.2.10".parse()?]);
/// expect.arp_ifaces = vec![IfName::new("eth0")?];
/// let d = diagnose(&sys, &expect, None)?;
/// assert!(!d.ready());
/// let first = d.wrong().next().unwrap();
/// assert_eq!(
///     format!("{}; {}", first.detail, first.fix.as_deref().unwrap()),
///     "arp_ignore is 1 on lo but 0 on all and eth0: ARP for the VIP will be answered on eth0; \
///      set net.ipv4.conf.all.arp_ignore=1"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn diagnose(
    source: &impl Source,
    expect: &Expect,
    facts: Option<&HostFacts>,
) -> Result<Diagnosis, Error> {
    let mut checks = Vec::new();
    match expect.mode {
        Mode::Dr => {
            arp_checks(source, expect, "lo", &mut checks)?;
            vip_checks(expect, "lo", facts, &mut checks);
        }
        Mode::Tun => {
            let tunnel_exists = tunnel_check(source, &expect.tunnel, &mut checks)?;
            arp_checks(source, expect, expect.tunnel.as_str(), &mut checks)?;
            if tunnel_exists {
                rp_filter_check(source, &expect.tunnel, &mut checks)?;
            }
            vip_checks(expect, expect.tunnel.as_str(), facts, &mut checks);
        }
        Mode::Nat => gateway_check(expect, facts, &mut checks),
        Mode::Director => {
            let v = source.get(&Key::IpForward)?;
            checks.push(if v == 1 {
                ok("ip_forward", "net.ipv4.ip_forward is 1".into(), None)
            } else {
                wrong(
                    "ip_forward",
                    format!(
                        "net.ipv4.ip_forward is {v}: LVS-NAT replies from the real servers will not \
                         be forwarded back to the clients"
                    ),
                    "set net.ipv4.ip_forward=1".into(),
                    None,
                )
            });
        }
    }
    Ok(Diagnosis {
        mode: expect.mode,
        checks,
    })
}

fn ok(subject: &str, detail: String, explanation: Option<Explanation>) -> Check {
    Check {
        subject: subject.to_owned(),
        verdict: Verdict::Ok,
        detail,
        fix: None,
        explanation,
    }
}

fn wrong(subject: &str, detail: String, fix: String, explanation: Option<Explanation>) -> Check {
    Check {
        subject: subject.to_owned(),
        verdict: Verdict::Wrong,
        detail,
        fix: Some(fix),
        explanation,
    }
}

fn unknown(subject: &str, detail: String) -> Check {
    Check {
        subject: subject.to_owned(),
        verdict: Verdict::Unknown,
        detail,
        fix: None,
        explanation: None,
    }
}

fn arp_ifaces(source: &impl Source, expect: &Expect, vip_dev: &str) -> Result<Vec<IfName>, Error> {
    if !expect.arp_ifaces.is_empty() {
        return Ok(expect.arp_ifaces.clone());
    }
    Ok(source
        .interfaces("ipv4")?
        .into_iter()
        .filter(|i| i.as_str() != "lo" && i.as_str() != vip_dev && *i != expect.tunnel)
        .collect())
}

fn arp_checks(
    source: &impl Source,
    expect: &Expect,
    vip_dev: &str,
    checks: &mut Vec<Check>,
) -> Result<(), Error> {
    let lo = IfName::new("lo").expect("valid");
    for iface in arp_ifaces(source, expect, vip_dev)? {
        if iface == lo {
            continue;
        }
        for param in [Ipv4Conf::ArpIgnore, Ipv4Conf::ArpAnnounce] {
            let e = match effective(source, Param::V4(param), &iface) {
                Ok(e) => e,
                Err(Error::NoSuchInterface { .. }) => {
                    checks.push(wrong(
                        &format!("{param} on {iface}", param = param.name()),
                        format!("interface {iface} does not exist"),
                        format!("check the interface name (--dev {iface})"),
                        None,
                    ));
                    break;
                }
                Err(e) => return Err(e),
            };
            let lo_value = source.get(&Key::ipv4(Scope::Iface(lo.clone()), param)).ok();
            checks.push(arp_check(param, &e, lo_value));
        }
    }
    Ok(())
}

fn arp_check(param: Ipv4Conf, e: &Explanation, lo_value: Option<i32>) -> Check {
    let subject = format!("{} on {}", param.name(), e.iface);
    let (good, want): (&[i32], i32) = match param {
        Ipv4Conf::ArpIgnore => (&[1, 2], 1),
        _ => (&[2], 2),
    };
    if good.contains(&e.value) {
        return ok(&subject, e.to_string(), Some(e.clone()));
    }
    let iface = &e.iface;
    let name = param.name();
    // The fix: `all` unless it is already right; the interface too if its value alone would
    // still win the max with a wrong value.
    let mut keys = Vec::new();
    if !good.contains(&e.all) {
        keys.push(format!("net.ipv4.conf.all.{name}={want}"));
    }
    if e.iface_value > want && !good.contains(&e.iface_value) {
        keys.push(format!(
            "net.ipv4.conf.{}.{name}={want}",
            iface.sysctl_component()
        ));
    }
    if keys.is_empty() {
        keys.push(format!("net.ipv4.conf.all.{name}={want}"));
    }
    let fix = format!("set {}", keys.join(" and "));

    let consequence = match (param, e.value) {
        (Ipv4Conf::ArpIgnore, 3) => format!(
            "arp_ignore 3 only refuses addresses of scope host, and a VIP is scope global, so ARP \
             for the VIP will be answered on {iface}"
        ),
        (Ipv4Conf::ArpIgnore, 8) => format!(
            "arp_ignore 8 answers no ARP at all on {iface}, not even for {iface}'s own address: \
             the real server becomes unreachable"
        ),
        (Ipv4Conf::ArpIgnore, 4..=7) | (Ipv4Conf::ArpIgnore, 9..) => format!(
            "arp_ignore {} is reserved and behaves like 0: ARP for the VIP will be answered on \
             {iface}",
            e.value
        ),
        (Ipv4Conf::ArpIgnore, _) => format!("ARP for the VIP will be answered on {iface}"),
        (_, v) if v > 2 => format!(
            "arp_announce {v} is undefined and behaves like 0: ARP requests sent on {iface} may \
             carry the VIP as sender address, so neighbours learn the VIP at this host's MAC"
        ),
        _ => format!(
            "ARP requests sent on {iface} may carry the VIP as sender address, so neighbours (the \
             router) learn the VIP at this host's MAC"
        ),
    };
    // The classic mistake: right on lo, where it changes nothing.
    let detail = match lo_value {
        Some(l) if good.contains(&l) => {
            let where_ = if e.all == e.iface_value {
                format!("{} on all and {iface}", e.all)
            } else {
                format!("{} on all and {} on {iface}", e.all, e.iface_value)
            };
            format!("{name} is {l} on lo but {where_}: {consequence}")
        }
        _ => format!("{e}: {consequence}"),
    };
    wrong(&subject, detail, fix, Some(e.clone()))
}

fn tunnel_check(
    source: &impl Source,
    tunnel: &IfName,
    checks: &mut Vec<Check>,
) -> Result<bool, Error> {
    let subject = format!("tunnel {tunnel}");
    match source.get(&Key::ipv4(Scope::Iface(tunnel.clone()), Ipv4Conf::RpFilter)) {
        Ok(_) => {
            checks.push(ok(&subject, format!("{tunnel} exists"), None));
            Ok(true)
        }
        Err(Error::NoSuchInterface { .. }) => {
            checks.push(wrong(
                &subject,
                format!(
                    "{tunnel} does not exist: IPIP packets from the director are not decapsulated"
                ),
                "load the ipip module (modprobe ipip), which creates tunl0".into(),
                None,
            ));
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn rp_filter_check(
    source: &impl Source,
    tunnel: &IfName,
    checks: &mut Vec<Check>,
) -> Result<(), Error> {
    let e = effective(source, Param::V4(Ipv4Conf::RpFilter), tunnel)?;
    let subject = format!("rp_filter on {tunnel}");
    if e.value == 0 || e.value == 2 {
        checks.push(ok(&subject, e.to_string(), Some(e)));
        return Ok(());
    }
    let mut fixes = Vec::new();
    if e.all != 0 && e.all != 2 {
        fixes.push(format!(
            "set net.ipv4.conf.all.rp_filter=0 (after copying {} to the other interfaces and to \
             default, to keep their filtering; the TUN profile does both)",
            e.all
        ));
    }
    if e.iface_value != 0 && e.iface_value != 2 {
        fixes.push(format!(
            "set net.ipv4.conf.{}.rp_filter=0",
            tunnel.sysctl_component()
        ));
    }
    let detail = format!(
        "{e}: decapsulated requests arrive on {tunnel} with the client's source address, whose \
         route leaves through another interface, so reverse-path filtering drops them"
    );
    checks.push(wrong(&subject, detail, fixes.join("; "), Some(e)));
    Ok(())
}

fn vip_checks(expect: &Expect, vip_dev: &str, facts: Option<&HostFacts>, checks: &mut Vec<Check>) {
    let Some(facts) = facts else {
        checks.push(unknown(
            "VIP binding",
            "not checked: no address list was given".into(),
        ));
        return;
    };
    if expect.vips.is_empty() {
        checks.push(unknown(
            "VIP binding",
            "not checked: no VIP was given".into(),
        ));
        return;
    }
    for vip in &expect.vips {
        let subject = format!("VIP {vip}");
        let host_len = if vip.is_ipv4() { 32 } else { 128 };
        let on: Vec<&AddrFact> = facts.addresses.iter().filter(|a| a.addr == *vip).collect();
        let (here, elsewhere): (Vec<&AddrFact>, Vec<&AddrFact>) =
            on.into_iter().partition(|a| a.iface.as_str() == vip_dev);
        let mut problems = 0;
        if here.is_empty() {
            checks.push(wrong(
                &subject,
                format!(
                    "{vip} is not configured on {vip_dev}: packets the director sends for it are \
                     dropped"
                ),
                format!("ip address add {vip}/{host_len} dev {vip_dev}"),
                None,
            ));
            problems += 1;
        }
        for a in &here {
            if a.prefix != host_len {
                checks.push(wrong(
                    &subject,
                    format!(
                        "{vip}/{p} on {vip_dev} has a /{p} mask: the whole prefix becomes local \
                         to this host (and a broadcast address is derived), so it stops reaching \
                         its neighbours in that subnet",
                        p = a.prefix
                    ),
                    format!(
                        "ip address del {vip}/{p} dev {vip_dev}; ip address add {vip}/{host_len} \
                         dev {vip_dev}",
                        p = a.prefix
                    ),
                    None,
                ));
                problems += 1;
            }
        }
        for a in &elsewhere {
            checks.push(wrong(
                &subject,
                format!(
                    "{vip} is also configured on {}: arp_ignore=1 still answers ARP for addresses \
                     on the incoming interface, so this host competes with the director for the VIP",
                    a.iface
                ),
                format!("ip address del {vip}/{} dev {}", a.prefix, a.iface),
                None,
            ));
            problems += 1;
        }
        if problems == 0 {
            checks.push(ok(&subject, format!("{vip}/{host_len} on {vip_dev}"), None));
        }
    }
}

fn gateway_check(expect: &Expect, facts: Option<&HostFacts>, checks: &mut Vec<Check>) {
    let subject = "default gateway";
    let Some(gw) = expect.gateway else {
        checks.push(unknown(
            subject,
            "not checked: the director's address was not given".into(),
        ));
        return;
    };
    let Some(facts) = facts else {
        checks.push(unknown(
            subject,
            "not checked: no route list was given".into(),
        ));
        return;
    };
    let same_family: Vec<&IpAddr> = facts
        .default_gateways
        .iter()
        .filter(|g| g.is_ipv4() == gw.is_ipv4())
        .collect();
    if same_family.contains(&&gw) && same_family.len() == 1 {
        checks.push(ok(subject, format!("default route via {gw}"), None));
        return;
    }
    let found = if same_family.is_empty() {
        "there is no default route".to_owned()
    } else {
        let list: Vec<String> = same_family.iter().map(ToString::to_string).collect();
        format!("the default route is via {}", list.join(", "))
    };
    checks.push(wrong(
        subject,
        format!(
            "{found}, not the director's {gw}: replies would bypass the director and reach clients \
             without being un-NATed"
        ),
        format!("ip route replace default via {gw}"),
        None,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfs::Snapshot;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn v4(scope: &str, p: Ipv4Conf) -> Key {
        Key::ipv4(Scope::from_dir_name(scope).unwrap(), p)
    }

    fn host(ifaces: &[&str]) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        let sys = crate::Procfs::fake(dir.path(), ifaces).unwrap();
        Snapshot::capture(&sys).unwrap()
    }

    fn vip() -> IpAddr {
        "192.0.2.10".parse().unwrap()
    }

    fn facts(addrs: &[(&str, &str, u8)]) -> HostFacts {
        HostFacts {
            addresses: addrs
                .iter()
                .map(|(i, a, p)| AddrFact {
                    iface: n(i),
                    addr: a.parse().unwrap(),
                    prefix: *p,
                })
                .collect(),
            default_gateways: vec![],
        }
    }

    fn dr(arp: &[&str]) -> Expect {
        let mut e = Expect::new(Mode::Dr, [vip()]);
        e.arp_ifaces = arp.iter().map(|s| n(s)).collect();
        e
    }

    #[test]
    fn prepared_dr_host_is_ready() {
        let mut h = host(&["eth0"]);
        h.set(v4("all", Ipv4Conf::ArpIgnore), 1)
            .set(v4("all", Ipv4Conf::ArpAnnounce), 2);
        let f = facts(&[
            ("lo", "127.0.0.1", 8),
            ("lo", "192.0.2.10", 32),
            ("eth0", "198.51.100.5", 24),
        ]);
        let d = diagnose(&h, &dr(&[]), Some(&f)).unwrap();
        assert!(d.ready(), "{d}");
        assert_eq!(d.checks.len(), 3, "{d}");
        assert_eq!(
            d.checks[0].detail,
            "arp_ignore on eth0 is 1 = max(all=1, eth0=0)"
        );
        assert!(d.to_string().ends_with("dr mode: ready\n"), "{d}");
    }

    #[test]
    fn classic_mistake_sysctls_only_on_lo() {
        let mut h = host(&["eth0"]);
        h.set(v4("lo", Ipv4Conf::ArpIgnore), 1)
            .set(v4("lo", Ipv4Conf::ArpAnnounce), 2);
        let d = diagnose(&h, &dr(&["eth0"]), None).unwrap();
        assert!(!d.ready());
        let w: Vec<&Check> = d.wrong().collect();
        assert_eq!(w.len(), 2);
        assert_eq!(
            w[0].detail,
            "arp_ignore is 1 on lo but 0 on all and eth0: ARP for the VIP will be answered on eth0"
        );
        assert_eq!(
            w[0].fix.as_deref(),
            Some("set net.ipv4.conf.all.arp_ignore=1")
        );
        assert!(w[1].detail.starts_with("arp_announce is 2 on lo but 0 on all and eth0: ARP requests sent on eth0 may carry the VIP"), "{}", w[1].detail);
        assert_eq!(
            w[1].fix.as_deref(),
            Some("set net.ipv4.conf.all.arp_announce=2")
        );
        // The address list was not given: unknown, so not ready either way.
        assert_eq!(d.checks.last().unwrap().verdict, Verdict::Unknown);
    }

    #[test]
    fn arp_ignore_odd_values_and_their_fixes() {
        let cases = [
            // (all, eth0, fix, detail fragment)
            (
                0,
                3,
                "set net.ipv4.conf.all.arp_ignore=1 and net.ipv4.conf.eth0.arp_ignore=1",
                "scope host",
            ),
            (
                1,
                8,
                "set net.ipv4.conf.eth0.arp_ignore=1",
                "not even for eth0's own address",
            ),
            (
                8,
                1,
                "set net.ipv4.conf.all.arp_ignore=1",
                "answers no ARP at all",
            ),
            (
                5,
                0,
                "set net.ipv4.conf.all.arp_ignore=1",
                "reserved and behaves like 0",
            ),
            (
                1,
                6,
                "set net.ipv4.conf.eth0.arp_ignore=1",
                "max(all=1, eth0=6)",
            ),
        ];
        for (all, eth0, fix, frag) in cases {
            let mut h = host(&["eth0"]);
            h.set(v4("all", Ipv4Conf::ArpIgnore), all)
                .set(v4("eth0", Ipv4Conf::ArpIgnore), eth0)
                .set(v4("all", Ipv4Conf::ArpAnnounce), 2);
            let d = diagnose(&h, &dr(&["eth0"]), None).unwrap();
            let c = &d.checks[0];
            assert_eq!(c.verdict, Verdict::Wrong, "{all}/{eth0}");
            assert_eq!(c.fix.as_deref(), Some(fix), "{all}/{eth0}");
            assert!(c.detail.contains(frag), "{all}/{eth0}: {}", c.detail);
            assert_eq!(c.explanation.as_ref().unwrap().value, all.max(eth0));
        }
        // arp_ignore 2 (stricter) is fine; only on the interface is fine too.
        for (all, eth0) in [(2, 0), (0, 1), (0, 2), (1, 2)] {
            let mut h = host(&["eth0"]);
            h.set(v4("all", Ipv4Conf::ArpIgnore), all)
                .set(v4("eth0", Ipv4Conf::ArpIgnore), eth0);
            let d = diagnose(&h, &dr(&["eth0"]), None).unwrap();
            assert_eq!(d.checks[0].verdict, Verdict::Ok, "{all}/{eth0}");
        }
    }

    #[test]
    fn arp_announce_fixes() {
        for (all, eth0, verdict, fix) in [
            (2, 0, Verdict::Ok, None),
            (0, 2, Verdict::Ok, None),
            (
                1,
                0,
                Verdict::Wrong,
                Some("set net.ipv4.conf.all.arp_announce=2"),
            ),
            (
                2,
                3,
                Verdict::Wrong,
                Some("set net.ipv4.conf.eth0.arp_announce=2"),
            ),
        ] {
            let mut h = host(&["eth0"]);
            h.set(v4("all", Ipv4Conf::ArpIgnore), 1)
                .set(v4("all", Ipv4Conf::ArpAnnounce), all)
                .set(v4("eth0", Ipv4Conf::ArpAnnounce), eth0);
            let d = diagnose(&h, &dr(&["eth0"]), None).unwrap();
            assert_eq!(d.checks[1].verdict, verdict, "{all}/{eth0}");
            assert_eq!(d.checks[1].fix.as_deref(), fix, "{all}/{eth0}");
        }
    }

    #[test]
    fn default_arp_ifaces_are_all_but_lo() {
        let h = host(&["eth0", "eth1"]);
        let d = diagnose(&h, &dr(&[]), None).unwrap();
        let subjects: Vec<&str> = d.checks.iter().map(|c| c.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "arp_ignore on eth0",
                "arp_announce on eth0",
                "arp_ignore on eth1",
                "arp_announce on eth1",
                "VIP binding"
            ]
        );
    }

    #[test]
    fn missing_arp_interface() {
        let d = diagnose(&host(&["eth0"]), &dr(&["eth7"]), None).unwrap();
        assert_eq!(d.checks[0].verdict, Verdict::Wrong);
        assert!(d.checks[0].detail.contains("eth7 does not exist"));
    }

    #[test]
    fn classic_mistake_vip_with_wide_mask() {
        let mut h = host(&["eth0"]);
        h.set(v4("all", Ipv4Conf::ArpIgnore), 1)
            .set(v4("all", Ipv4Conf::ArpAnnounce), 2);
        let f = facts(&[("lo", "192.0.2.10", 24)]);
        let d = diagnose(&h, &dr(&[]), Some(&f)).unwrap();
        let w: Vec<&Check> = d.wrong().collect();
        assert_eq!(w.len(), 1, "{d}");
        assert!(
            w[0].detail
                .starts_with("192.0.2.10/24 on lo has a /24 mask"),
            "{}",
            w[0].detail
        );
        assert_eq!(
            w[0].fix.as_deref(),
            Some("ip address del 192.0.2.10/24 dev lo; ip address add 192.0.2.10/32 dev lo")
        );
    }

    #[test]
    fn vip_missing_or_on_the_wrong_interface() {
        let mut h = host(&["eth0"]);
        h.set(v4("all", Ipv4Conf::ArpIgnore), 1)
            .set(v4("all", Ipv4Conf::ArpAnnounce), 2);
        let f = facts(&[("eth0", "192.0.2.10", 32)]);
        let d = diagnose(&h, &dr(&[]), Some(&f)).unwrap();
        let fixes: Vec<&str> = d.wrong().filter_map(|c| c.fix.as_deref()).collect();
        assert_eq!(
            fixes,
            [
                "ip address add 192.0.2.10/32 dev lo",
                "ip address del 192.0.2.10/32 dev eth0"
            ]
        );

        let mut e = dr(&[]);
        e.vips = vec!["2001:db8::10".parse().unwrap()];
        let f = facts(&[("lo", "2001:db8::10", 64)]);
        let d = diagnose(&h, &e, Some(&f)).unwrap();
        assert_eq!(
            d.wrong().next().unwrap().fix.as_deref(),
            Some("ip address del 2001:db8::10/64 dev lo; ip address add 2001:db8::10/128 dev lo")
        );
        let f = facts(&[("lo", "2001:db8::10", 128)]);
        assert!(diagnose(&h, &e, Some(&f)).unwrap().ready());
    }

    #[test]
    fn classic_mistake_rp_filter_on_tunl0_or_all() {
        let base = || {
            let mut h = host(&["eth0", "tunl0"]);
            h.set(v4("all", Ipv4Conf::ArpIgnore), 1)
                .set(v4("all", Ipv4Conf::ArpAnnounce), 2);
            h
        };
        let f = facts(&[("tunl0", "192.0.2.10", 32)]);
        let e = Expect::new(Mode::Tun, [vip()]);

        let d = diagnose(&base(), &e, Some(&f)).unwrap();
        assert!(d.ready(), "{d}");

        let mut h = base();
        h.set(v4("tunl0", Ipv4Conf::RpFilter), 1);
        let d = diagnose(&h, &e, Some(&f)).unwrap();
        let w: Vec<&Check> = d.wrong().collect();
        assert_eq!(w.len(), 1, "{d}");
        assert!(
            w[0].detail
                .starts_with("rp_filter on tunl0 is 1 = max(all=0, tunl0=1): decapsulated"),
            "{}",
            w[0].detail
        );
        assert_eq!(
            w[0].fix.as_deref(),
            Some("set net.ipv4.conf.tunl0.rp_filter=0")
        );

        let mut h = base();
        h.set(v4("all", Ipv4Conf::RpFilter), 1);
        let d = diagnose(&h, &e, Some(&f)).unwrap();
        let w = d.wrong().next().unwrap();
        assert!(
            w.detail
                .starts_with("rp_filter on tunl0 is 1 = max(all=1, tunl0=0)"),
            "{}",
            w.detail
        );
        assert!(
            w.fix
                .as_deref()
                .unwrap()
                .starts_with("set net.ipv4.conf.all.rp_filter=0 (after copying 1")
        );

        // Loose mode passes: the client is reachable through some interface.
        let mut h = base();
        h.set(v4("all", Ipv4Conf::RpFilter), 2);
        assert!(diagnose(&h, &e, Some(&f)).unwrap().ready());
    }

    #[test]
    fn tun_without_tunl0() {
        let mut h = host(&["eth0"]);
        h.set(v4("all", Ipv4Conf::ArpIgnore), 1)
            .set(v4("all", Ipv4Conf::ArpAnnounce), 2);
        let d = diagnose(&h, &Expect::new(Mode::Tun, [vip()]), Some(&facts(&[]))).unwrap();
        let w: Vec<&Check> = d.wrong().collect();
        assert_eq!(
            w[0].fix.as_deref(),
            Some("load the ipip module (modprobe ipip), which creates tunl0")
        );
        assert!(!d.checks.iter().any(|c| c.subject.starts_with("rp_filter")));
    }

    #[test]
    fn nat_gateway() {
        let h = host(&["eth0"]);
        let mut e = Expect::new(Mode::Nat, [vip()]);
        let d = diagnose(&h, &e, None).unwrap();
        assert_eq!(d.checks[0].verdict, Verdict::Unknown);

        e.gateway = Some("198.51.100.1".parse().unwrap());
        let mut f = HostFacts::default();
        let d = diagnose(&h, &e, Some(&f)).unwrap();
        assert!(
            d.checks[0]
                .detail
                .starts_with("there is no default route, not the director's 198.51.100.1"),
            "{d}"
        );
        assert_eq!(
            d.checks[0].fix.as_deref(),
            Some("ip route replace default via 198.51.100.1")
        );

        f.default_gateways = vec![
            "198.51.100.254".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        ];
        let d = diagnose(&h, &e, Some(&f)).unwrap();
        assert!(
            d.checks[0]
                .detail
                .starts_with("the default route is via 198.51.100.254,"),
            "{d}"
        );

        f.default_gateways = vec![
            "198.51.100.1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        ];
        assert!(diagnose(&h, &e, Some(&f)).unwrap().ready());
    }

    #[test]
    fn director_forwarding() {
        let mut h = host(&["eth0"]);
        let d = diagnose(&h, &Expect::new(Mode::Director, []), None).unwrap();
        assert_eq!(
            d.checks[0].fix.as_deref(),
            Some("set net.ipv4.ip_forward=1")
        );
        h.set(Key::IpForward, 1);
        assert!(
            diagnose(&h, &Expect::new(Mode::Director, []), None)
                .unwrap()
                .ready()
        );
    }
}
