//! Profiles: what a DR / TUN / NAT real server, a director or a VRRP VMAC interface needs, as a
//! plan of changes against the current values.

use core::fmt;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::key::{Ipv4Conf, Ipv6Conf, Key};
use crate::name::{IfName, Scope};
use crate::procfs::Source;

/// The name of the IPIP tunnel device that `modprobe ipip` creates.
pub const TUNL0: &str = "tunl0";

/// A host role with the sysctls it needs.
///
/// What each profile sets, and why:
///
/// * [`Profile::DrRealServer`]: `arp_ignore=1` and `arp_announce=2` on `all` and on each
///   interface where ARP requests arrive. The kernel uses `max(all, iface)`, so `all` covers
///   every interface (also ones created later) and the interface value keeps the protection if
///   `all` is reset. `lo` is skipped: it never receives ARP, which is why setting these only on
///   `lo` (a common mistake) does nothing. Values already stricter in the right way
///   (`arp_ignore=2`) are kept.
/// * [`Profile::TunRealServer`]: the DR settings, plus `rp_filter` 0 (or loose 2) in effect on
///   the tunnel: decapsulated packets arrive on `tunl0` with the client's source address, whose
///   route leaves through another interface, so strict filtering drops them. Because the kernel
///   uses `max(all, tunl0)`, `all.rp_filter` must not be 1 either; when it is, its value is first
///   copied to every other interface and to `default` (as keepalived does for `use_vmac`) so
///   that their filtering does not change, then `all` is set to 0.
/// * [`Profile::NatRealServer`]: no sysctl. A NAT real server needs its default route via the
///   director (an lvs-vip operation), and must not hold the VIP.
/// * [`Profile::Director`]: `ip_forward=1` (IPv4) and/or `net.ipv6.conf.all.forwarding=1`:
///   NAT replies are forwarded by the director. DR and TUN directors transmit from the
///   LOCAL_IN hook and do not strictly need it.
/// * [`Profile::Vmac`]: what keepalived's `use_vmac` sets (keepalived
///   `vrrp_if_config.c`): on the macvlan `arp_ignore=1`, `accept_local=1`, `rp_filter=0`,
///   `promote_secondaries=1`; on its parent `arp_ignore=1` and `arp_filter=1`; with
///   `all.rp_filter` pushed down as above (keepalived.conf(5), `use_vmac`). For IPv4-only
///   instances IPv6 is disabled on the macvlan; for IPv6 `addr_gen_mode=1` (none) keeps the
///   kernel from adding a MAC-based link-local address (RFC 5798 §7.4).
///
/// ```
/// use lvs_sysctl::{IfName, Procfs, Profile};
/// let dir = tempfile::tempdir()?;
/// let sys = Procfs::fake(dir.path(), &["eth0"])?;
/// let plan = Profile::dr([IfName::new("eth0")?]).plan(&sys)?;
/// let keys: Vec<String> = plan.changes.iter().map(|c| c.key.to_string()).collect();
/// assert_eq!(keys, [
///     "net.ipv4.conf.eth0.arp_ignore",
///     "net.ipv4.conf.eth0.arp_announce",
///     "net.ipv4.conf.all.arp_ignore",
///     "net.ipv4.conf.all.arp_announce",
/// ]);
/// println!("{plan}"); // a printable dry run
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// LVS-DR real server (VIP on `lo`).
    DrRealServer {
        /// Interfaces where ARP requests for the VIP can arrive (usually the one facing the
        /// director and the clients' router).
        arp_ifaces: Vec<IfName>,
    },
    /// LVS-TUN real server (VIP on the IPIP tunnel).
    TunRealServer {
        /// The tunnel device (`tunl0`).
        tunnel: IfName,
        /// Interfaces where ARP requests for the VIP can arrive.
        arp_ifaces: Vec<IfName>,
    },
    /// LVS-NAT real server.
    NatRealServer,
    /// LVS director.
    Director {
        /// Enable IPv4 forwarding.
        ipv4: bool,
        /// Enable IPv6 forwarding.
        ipv6: bool,
    },
    /// A VRRP virtual-MAC (macvlan) interface and its parent, as keepalived's `use_vmac`.
    Vmac {
        /// The macvlan interface.
        vmac: IfName,
        /// The interface it sits on.
        parent: IfName,
        /// The VRRP instance (or its VIPs) is IPv6.
        ipv6: bool,
    },
}

/// One sysctl to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The key.
    pub key: Key,
    /// Its value before the change.
    pub old: i32,
    /// The value to write.
    pub new: i32,
    /// Why the profile needs it.
    pub reason: String,
}

/// A key the kernel rewrites by itself when a [`Change`] is written (see [`Key::propagates`]);
/// its value before the change is recorded so that revert can put it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideEffect {
    /// The key.
    pub key: Key,
    /// Its value before the change.
    pub old: i32,
}

/// What a profile would change on this host. Empty when the host is already prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The profile's name ([`Profile::name`]).
    pub profile: String,
    /// The changes, in the order they are written.
    pub changes: Vec<Change>,
    /// Keys the kernel will rewrite as a consequence, recorded for revert.
    pub side_effects: Vec<SideEffect>,
    /// Things the profile cannot do with sysctls, or chose not to (printed with the plan).
    pub notes: Vec<String>,
}

impl Plan {
    /// Whether nothing needs to change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            writeln!(f, "profile {}: nothing to change", self.profile)?;
        } else {
            writeln!(
                f,
                "profile {}: {} change(s)",
                self.profile,
                self.changes.len()
            )?;
        }
        for c in &self.changes {
            writeln!(f, "  {} = {} (now {})  # {}", c.key, c.new, c.old, c.reason)?;
        }
        for s in &self.side_effects {
            writeln!(
                f,
                "  kernel side effect: {} (now {}) is rewritten too; restored on revert",
                s.key, s.old
            )?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        Ok(())
    }
}

impl Profile {
    /// DR real server, ARP arriving on `arp_ifaces`.
    pub fn dr(arp_ifaces: impl IntoIterator<Item = IfName>) -> Self {
        Self::DrRealServer {
            arp_ifaces: arp_ifaces.into_iter().collect(),
        }
    }

    /// TUN real server with the VIP on `tunl0`, ARP arriving on `arp_ifaces`.
    pub fn tun(arp_ifaces: impl IntoIterator<Item = IfName>) -> Self {
        Self::TunRealServer {
            tunnel: IfName::new(TUNL0).expect("tunl0 is a valid name"),
            arp_ifaces: arp_ifaces.into_iter().collect(),
        }
    }

    /// NAT real server (no sysctl).
    pub fn nat() -> Self {
        Self::NatRealServer
    }

    /// IPv4 director (`ip_forward=1`).
    pub fn director() -> Self {
        Self::Director {
            ipv4: true,
            ipv6: false,
        }
    }

    /// keepalived `use_vmac` settings for `vmac` on `parent`.
    pub fn vmac(vmac: IfName, parent: IfName, ipv6: bool) -> Self {
        Self::Vmac { vmac, parent, ipv6 }
    }

    /// A stable name, recorded in the state file.
    pub fn name(&self) -> String {
        match self {
            Self::DrRealServer { .. } => "dr-real-server".into(),
            Self::TunRealServer { .. } => "tun-real-server".into(),
            Self::NatRealServer => "nat-real-server".into(),
            Self::Director { .. } => "director".into(),
            Self::Vmac { vmac, .. } => format!("vmac-{vmac}"),
        }
    }

    /// What would change on the host whose values `current` holds (a live [`crate::Procfs`] or
    /// a [`crate::Snapshot`]). Only values that differ from what the profile needs are listed.
    pub fn plan(&self, current: &impl Source) -> Result<Plan, Error> {
        let mut p = Planner {
            src: current,
            plan: Plan {
                profile: self.name(),
                changes: Vec::new(),
                side_effects: Vec::new(),
                notes: Vec::new(),
            },
        };
        match self {
            Self::DrRealServer { arp_ifaces } => p.arp(arp_ifaces, "lo")?,
            Self::TunRealServer { tunnel, arp_ifaces } => {
                // The tunnel must exist before anything is planned.
                // The tunnel must exist, and be up: the kernel only creates tunl0's conf
                // directory once its MTU is valid, which happens when it goes up.
                let rp = Key::ipv4(Scope::Iface(tunnel.clone()), Ipv4Conf::RpFilter);
                if let Err(Error::NoSuchInterface { iface, family }) = current.get(&rp) {
                    return Err(Error::TunnelMissing { iface, family });
                }
                p.arp(arp_ifaces, tunnel.as_str())?;
                p.rp_filter_off(
                    tunnel,
                    &[0, 2],
                    "decapsulated packets arrive on the tunnel with the client's source address, \
                     whose route leaves through another interface: strict rp_filter (1) drops them",
                )?;
            }
            Self::NatRealServer => p.plan.notes.push(
                "a NAT real server needs no sysctl: its default route must be the director's \
                 inside address (set with lvs-vip), and it must not hold the VIP"
                    .into(),
            ),
            Self::Director { ipv4, ipv6 } => {
                if *ipv4 {
                    p.want(
                        Key::IpForward,
                        1,
                        |v| v == 1,
                        "LVS-NAT replies from the real servers are forwarded by the director",
                    )?;
                }
                if *ipv6 {
                    p.want(
                        Key::ipv6(Scope::All, Ipv6Conf::Forwarding),
                        1,
                        |v| v == 1,
                        "IPv6 forwards only when conf.all.forwarding is 1; LVS-NAT replies for IPv6 \
                         VIPs are forwarded by the director",
                    )?;
                }
                p.plan.notes.push(
                    "DR and TUN directors transmit from the LOCAL_IN hook and do not strictly need \
                     forwarding; NAT does"
                        .into(),
                );
            }
            Self::Vmac { vmac, parent, ipv6 } => {
                let v = Scope::Iface(vmac.clone());
                let par = Scope::Iface(parent.clone());
                p.want(
                    Key::ipv4(v.clone(), Ipv4Conf::ArpIgnore),
                    1,
                    |x| x == 1,
                    "the VMAC must answer ARP only for the VIPs configured on it",
                )?;
                p.want(
                    Key::ipv4(v.clone(), Ipv4Conf::AcceptLocal),
                    1,
                    |x| x == 1,
                    "the VMAC must accept adverts from another local instance (source is local)",
                )?;
                p.want(
                    Key::ipv4(v.clone(), Ipv4Conf::PromoteSecondaries),
                    1,
                    |x| x == 1,
                    "removing one VIP must not remove the others in its subnet",
                )?;
                p.want(
                    Key::ipv4(par.clone(), Ipv4Conf::ArpIgnore),
                    1,
                    |x| x == 1,
                    "the parent must not answer ARP for the VIPs held on the VMAC",
                )?;
                p.want(
                    Key::ipv4(par, Ipv4Conf::ArpFilter),
                    1,
                    |x| x == 1,
                    "the parent must not answer ARP for its own address on behalf of the VMAC",
                )?;
                if *ipv6 {
                    p.want(
                        Key::ipv6(v.clone(), Ipv6Conf::AddrGenMode),
                        1,
                        |x| x == 1,
                        "no MAC-based link-local address on the VMAC (RFC 5798 7.4); set it \
                         before the link goes up",
                    )?;
                } else {
                    p.want(
                        Key::ipv6(v.clone(), Ipv6Conf::DisableIpv6),
                        1,
                        |x| x == 1,
                        "an IPv4 instance needs no IPv6 on its VMAC",
                    )?;
                }
                p.rp_filter_off(
                    vmac,
                    &[0],
                    "the VMAC may have no address of its own, and any rp_filter drops packets \
                     arriving on an interface without an address",
                )?;
            }
        }
        p.side_effects()?;
        Ok(p.plan)
    }
}

struct Planner<'a, S> {
    src: &'a S,
    plan: Plan,
}

impl<S: Source> Planner<'_, S> {
    fn want(
        &mut self,
        key: Key,
        target: i32,
        ok: impl Fn(i32) -> bool,
        reason: &str,
    ) -> Result<(), Error> {
        if self.plan.changes.iter().any(|c| c.key == key) {
            return Ok(());
        }
        let old = self.src.get(&key)?;
        if !ok(old) {
            key.validate(target)?;
            self.plan.changes.push(Change {
                key,
                old,
                new: target,
                reason: reason.to_owned(),
            });
        }
        Ok(())
    }

    /// arp_ignore=1 / arp_announce=2 on each ARP interface, then on `all`.
    fn arp(&mut self, arp_ifaces: &[IfName], vip_dev: &str) -> Result<(), Error> {
        let ifaces: BTreeSet<&IfName> = arp_ifaces.iter().collect();
        for iface in ifaces {
            if iface.as_str() == "lo" {
                self.plan.notes.push(
                    "lo never receives ARP requests: arp_ignore/arp_announce on lo change nothing \
                     (the kernel uses max(all, incoming interface)); skipped"
                        .into(),
                );
                continue;
            }
            let s = Scope::Iface(iface.clone());
            self.want(
                Key::ipv4(s.clone(), Ipv4Conf::ArpIgnore),
                1,
                |v| v == 1 || v == 2,
                &format!(
                    "{iface} must not answer ARP for the VIP held on {vip_dev} (1: reply only for \
                     addresses configured on {iface}); kept if all is reset later"
                ),
            )?;
            self.want(
                Key::ipv4(s, Ipv4Conf::ArpAnnounce),
                2,
                |v| v == 2,
                &format!(
                    "ARP requests sent on {iface} must carry {iface}'s own address, never the VIP \
                     (else neighbours learn the VIP at this host's MAC)"
                ),
            )?;
        }
        self.want(
            Key::ipv4(Scope::All, Ipv4Conf::ArpIgnore),
            1,
            |v| v == 1 || v == 2,
            "the kernel uses max(all, iface): all=1 covers every interface, also ones created later",
        )?;
        self.want(
            Key::ipv4(Scope::All, Ipv4Conf::ArpAnnounce),
            2,
            |v| v == 2,
            "the kernel uses max(all, iface): all=2 covers every interface, also ones created later",
        )?;
        Ok(())
    }

    /// rp_filter in `acceptable` on `dev` in effect: `dev` itself, and `all` (max rule), after
    /// pushing a non-zero `all` down to every other interface and `default`.
    fn rp_filter_off(&mut self, dev: &IfName, acceptable: &[i32], why: &str) -> Result<(), Error> {
        let all_key = Key::ipv4(Scope::All, Ipv4Conf::RpFilter);
        let all = self.src.get(&all_key)?;
        let dev_key = Key::ipv4(Scope::Iface(dev.clone()), Ipv4Conf::RpFilter);
        if !acceptable.contains(&all) {
            let others = self
                .src
                .interfaces("ipv4")?
                .into_iter()
                .filter(|i| i != dev)
                .map(Scope::Iface)
                .chain([Scope::Default]);
            for scope in others {
                let key = Key::ipv4(scope.clone(), Ipv4Conf::RpFilter);
                self.want(
                    key,
                    all,
                    |v| v >= all,
                    &format!(
                        "keep rp_filter {all} in effect on {scope} (copied from all, which must \
                         become 0 for {dev})"
                    ),
                )?;
            }
        }
        self.want(dev_key, 0, |v| acceptable.contains(&v), why)?;
        self.want(
            all_key,
            0,
            |v| acceptable.contains(&v),
            &format!("the kernel uses max(all, {dev}) for rp_filter, so all must be 0 too ({why})"),
        )?;
        Ok(())
    }

    /// Records the keys that the kernel rewrites when the planned changes are written.
    fn side_effects(&mut self) -> Result<(), Error> {
        let mut keys: Vec<Key> = Vec::new();
        for c in &self.plan.changes {
            if !c.key.propagates() {
                continue;
            }
            match &c.key {
                Key::IpForward
                | Key::Ipv4 {
                    scope: Scope::All,
                    param: Ipv4Conf::Forwarding,
                } => {
                    keys.push(Key::ipv4(Scope::All, Ipv4Conf::AcceptRedirects));
                    keys.push(Key::ipv4(Scope::Default, Ipv4Conf::Forwarding));
                    for i in self.src.interfaces("ipv4")? {
                        keys.push(Key::ipv4(Scope::Iface(i), Ipv4Conf::Forwarding));
                    }
                }
                Key::Ipv4 { param, .. } => {
                    for i in self.src.interfaces("ipv4")? {
                        keys.push(Key::ipv4(Scope::Iface(i), *param));
                    }
                }
                Key::Ipv6 { param, .. } => {
                    keys.push(Key::ipv6(Scope::Default, *param));
                    for i in self.src.interfaces("ipv6")? {
                        keys.push(Key::ipv6(Scope::Iface(i), *param));
                    }
                }
            }
        }
        for key in keys {
            let planned = self.plan.changes.iter().any(|c| c.key == key);
            let seen = self.plan.side_effects.iter().any(|s| s.key == key);
            if planned || seen {
                continue;
            }
            match self.src.get(&key) {
                Ok(old) => self.plan.side_effects.push(SideEffect { key, old }),
                Err(Error::NoSuchKey { .. } | Error::NoSuchInterface { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
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

    /// A snapshot with every IPv4/IPv6 key of `ifaces` + lo at kernel defaults.
    fn host(ifaces: &[&str]) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        let sys = crate::Procfs::fake(dir.path(), ifaces).unwrap();
        Snapshot::capture(&sys).unwrap()
    }

    fn keys(plan: &Plan) -> Vec<String> {
        plan.changes
            .iter()
            .map(|c| format!("{}={}", c.key, c.new))
            .collect()
    }

    #[test]
    fn dr_on_a_fresh_host() {
        let plan = Profile::dr([n("eth0")]).plan(&host(&["eth0"])).unwrap();
        assert_eq!(
            keys(&plan),
            [
                "net.ipv4.conf.eth0.arp_ignore=1",
                "net.ipv4.conf.eth0.arp_announce=2",
                "net.ipv4.conf.all.arp_ignore=1",
                "net.ipv4.conf.all.arp_announce=2",
            ]
        );
        assert!(plan.changes.iter().all(|c| c.old == 0));
        assert!(plan.side_effects.is_empty());
        let text = plan.to_string();
        assert!(
            text.starts_with("profile dr-real-server: 4 change(s)"),
            "{text}"
        );
        assert!(
            text.contains(
                "net.ipv4.conf.all.arp_ignore = 1 (now 0)  # the kernel uses max(all, iface)"
            ),
            "{text}"
        );
    }

    #[test]
    fn dr_keeps_values_that_are_already_right_and_skips_lo() {
        let mut h = host(&["eth0", "eth1"]);
        h.set(v4("all", Ipv4Conf::ArpIgnore), 2) // stricter than 1: fine
            .set(v4("eth0", Ipv4Conf::ArpIgnore), 1)
            .set(v4("eth0", Ipv4Conf::ArpAnnounce), 2)
            .set(v4("eth1", Ipv4Conf::ArpIgnore), 8); // eth1 would not answer for its own address
        let plan = Profile::dr([n("eth0"), n("eth1"), n("lo"), n("eth0")])
            .plan(&h)
            .unwrap();
        assert_eq!(
            keys(&plan),
            [
                "net.ipv4.conf.eth1.arp_ignore=1",
                "net.ipv4.conf.eth1.arp_announce=2",
                "net.ipv4.conf.all.arp_announce=2",
            ]
        );
        assert_eq!(plan.changes[0].old, 8);
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("lo never receives ARP"))
        );
    }

    #[test]
    fn dr_replaces_reserved_and_weaker_values() {
        for bad in [0, 3, 4, 5, 6, 7, 8, 9] {
            let mut h = host(&["eth0"]);
            h.set(v4("all", Ipv4Conf::ArpIgnore), bad);
            let plan = Profile::dr([]).plan(&h).unwrap();
            let c = plan
                .changes
                .iter()
                .find(|c| c.key == v4("all", Ipv4Conf::ArpIgnore))
                .unwrap();
            assert_eq!((c.old, c.new), (bad, 1));
        }
        for bad in [0, 1, 3] {
            let mut h = host(&["eth0"]);
            h.set(v4("all", Ipv4Conf::ArpAnnounce), bad);
            let plan = Profile::dr([]).plan(&h).unwrap();
            assert!(
                plan.changes
                    .iter()
                    .any(|c| c.key == v4("all", Ipv4Conf::ArpAnnounce) && c.old == bad)
            );
        }
    }

    #[test]
    fn dr_on_a_prepared_host_is_empty() {
        let mut h = host(&["eth0"]);
        for s in ["all", "eth0"] {
            h.set(v4(s, Ipv4Conf::ArpIgnore), 1)
                .set(v4(s, Ipv4Conf::ArpAnnounce), 2);
        }
        let plan = Profile::dr([n("eth0")]).plan(&h).unwrap();
        assert!(plan.is_empty());
        assert!(plan.to_string().contains("nothing to change"));
    }

    #[test]
    fn dr_with_missing_interface() {
        let e = Profile::dr([n("eth9")]).plan(&host(&["eth0"])).unwrap_err();
        assert!(
            matches!(&e, Error::NoSuchInterface { iface, .. } if iface.as_str() == "eth9"),
            "{e}"
        );
    }

    #[test]
    fn tun_pushes_strict_rp_filter_down_before_clearing_all() {
        let mut h = host(&["eth0", "eth1", "tunl0"]);
        h.set(v4("all", Ipv4Conf::RpFilter), 1)
            .set(v4("eth1", Ipv4Conf::RpFilter), 2) // already >= 1: untouched
            .set(v4("tunl0", Ipv4Conf::RpFilter), 1);
        let plan = Profile::tun([n("eth0")]).plan(&h).unwrap();
        assert_eq!(
            keys(&plan),
            [
                "net.ipv4.conf.eth0.arp_ignore=1",
                "net.ipv4.conf.eth0.arp_announce=2",
                "net.ipv4.conf.all.arp_ignore=1",
                "net.ipv4.conf.all.arp_announce=2",
                "net.ipv4.conf.eth0.rp_filter=1",
                "net.ipv4.conf.lo.rp_filter=1",
                "net.ipv4.conf.default.rp_filter=1",
                "net.ipv4.conf.tunl0.rp_filter=0",
                "net.ipv4.conf.all.rp_filter=0",
            ]
        );
        // Writing default is copied by the kernel into never-written interfaces: recorded.
        assert!(
            plan.side_effects
                .iter()
                .any(|s| s.key == v4("eth1", Ipv4Conf::RpFilter) && s.old == 2)
        );
        assert!(
            !plan
                .side_effects
                .iter()
                .any(|s| s.key == v4("eth0", Ipv4Conf::RpFilter))
        );
    }

    #[test]
    fn tun_accepts_loose_mode_and_needs_tunl0() {
        let mut h = host(&["eth0", "tunl0"]);
        h.set(v4("all", Ipv4Conf::RpFilter), 2)
            .set(v4("tunl0", Ipv4Conf::RpFilter), 2);
        let plan = Profile::tun([]).plan(&h).unwrap();
        assert!(
            plan.changes
                .iter()
                .all(|c| c.key.param_name() != "rp_filter"),
            "{plan}"
        );

        let e = Profile::tun([n("eth0")])
            .plan(&host(&["eth0"]))
            .unwrap_err();
        assert!(
            matches!(&e, Error::TunnelMissing { iface, .. } if iface.as_str() == "tunl0"),
            "{e}"
        );
        assert!(e.to_string().contains("modprobe ipip"), "{e}");
    }

    #[test]
    fn tun_with_rp_filter_only_on_tunl0() {
        let mut h = host(&["eth0", "tunl0"]);
        h.set(v4("tunl0", Ipv4Conf::RpFilter), 1);
        let plan = Profile::tun([]).plan(&h).unwrap();
        assert_eq!(
            keys(&plan),
            [
                "net.ipv4.conf.all.arp_ignore=1",
                "net.ipv4.conf.all.arp_announce=2",
                "net.ipv4.conf.tunl0.rp_filter=0",
            ]
        );
    }

    #[test]
    fn nat_real_server_changes_nothing() {
        let plan = Profile::nat().plan(&host(&["eth0"])).unwrap();
        assert!(plan.is_empty());
        assert!(plan.notes[0].contains("default route"));
    }

    #[test]
    fn director_records_forwarding_side_effects() {
        let mut h = host(&["eth0", "eth1"]);
        h.set(v4("eth1", Ipv4Conf::Forwarding), 1);
        let plan = Profile::director().plan(&h).unwrap();
        assert_eq!(keys(&plan), ["net.ipv4.ip_forward=1"]);
        let side: Vec<String> = plan
            .side_effects
            .iter()
            .map(|s| format!("{}={}", s.key, s.old))
            .collect();
        assert_eq!(
            side,
            [
                "net.ipv4.conf.all.accept_redirects=1",
                "net.ipv4.conf.default.forwarding=0",
                "net.ipv4.conf.eth0.forwarding=0",
                "net.ipv4.conf.eth1.forwarding=1",
                "net.ipv4.conf.lo.forwarding=0",
            ]
        );
        h.set(Key::IpForward, 1);
        assert!(Profile::director().plan(&h).unwrap().is_empty());

        let plan = Profile::Director {
            ipv4: false,
            ipv6: true,
        }
        .plan(&host(&["eth0"]))
        .unwrap();
        assert_eq!(keys(&plan), ["net.ipv6.conf.all.forwarding=1"]);
        assert_eq!(plan.side_effects.len(), 3, "default, eth0, lo: {plan}");
    }

    #[test]
    fn vmac_ipv4_matches_keepalived() {
        let mut h = host(&["eth0", "vrrp.17"]);
        h.set(v4("all", Ipv4Conf::RpFilter), 1);
        let plan = Profile::vmac(n("vrrp.17"), n("eth0"), false)
            .plan(&h)
            .unwrap();
        assert_eq!(
            keys(&plan),
            [
                "net.ipv4.conf.vrrp/17.arp_ignore=1",
                "net.ipv4.conf.vrrp/17.accept_local=1",
                "net.ipv4.conf.vrrp/17.promote_secondaries=1",
                "net.ipv4.conf.eth0.arp_ignore=1",
                "net.ipv4.conf.eth0.arp_filter=1",
                "net.ipv6.conf.vrrp/17.disable_ipv6=1",
                "net.ipv4.conf.eth0.rp_filter=1",
                "net.ipv4.conf.lo.rp_filter=1",
                "net.ipv4.conf.default.rp_filter=1",
                "net.ipv4.conf.all.rp_filter=0",
            ]
        );
        assert_eq!(plan.profile, "vmac-vrrp.17");
    }

    #[test]
    fn vmac_ipv6_and_loose_all() {
        let mut h = host(&["eth0", "vrrp6.1"]);
        h.set(v4("all", Ipv4Conf::RpFilter), 2)
            .set(v4("eth0", Ipv4Conf::ArpIgnore), 2);
        let plan = Profile::vmac(n("vrrp6.1"), n("eth0"), true)
            .plan(&h)
            .unwrap();
        let k = keys(&plan);
        assert!(
            k.contains(&"net.ipv6.conf.vrrp6/1.addr_gen_mode=1".to_owned()),
            "{k:?}"
        );
        assert!(!k.iter().any(|s| s.contains("disable_ipv6")), "{k:?}");
        // keepalived wants exactly 1 on the parent, 2 is replaced.
        assert!(
            k.contains(&"net.ipv4.conf.eth0.arp_ignore=1".to_owned()),
            "{k:?}"
        );
        // Loose mode also blocks an address-less VMAC: pushed down, then all=0.
        assert!(
            k.contains(&"net.ipv4.conf.eth0.rp_filter=2".to_owned()),
            "{k:?}"
        );
        assert_eq!(k.last().unwrap(), "net.ipv4.conf.all.rp_filter=0");
    }
}
