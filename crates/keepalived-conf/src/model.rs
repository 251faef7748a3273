//! The typed configuration model.
//!
//! Every struct is what the file says: `Option` fields are `None` when the keyword is absent, so
//! the model round-trips through [`crate::format`]. Keepalived's defaults are documented on each
//! field and available through accessor methods (for example [`VirtualServer::delay_loop`]).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A time value with microsecond resolution (keepalived's `<TIMER>`), kept exactly — never f64.
/// Serialised as an integer number of microseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timer(u64);

impl Timer {
    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        Self(s.saturating_mul(1_000_000))
    }
    /// From microseconds.
    pub const fn from_micros(us: u64) -> Self {
        Self(us)
    }
    /// From centiseconds (VRRPv3's advertisement unit).
    pub const fn from_centis(cs: u64) -> Self {
        Self(cs.saturating_mul(10_000))
    }
    /// Microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// Whole centiseconds (truncated).
    pub const fn as_centis(self) -> u64 {
        self.0 / 10_000
    }
    /// Whole seconds (truncated).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000
    }
    /// Whether there is a fractional part.
    pub const fn has_fraction(self) -> bool {
        self.0 % 1_000_000 != 0
    }
    /// As a [`std::time::Duration`].
    pub const fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_micros(self.0)
    }
    /// Parses `3`, `0.5`, `2.71828` (digits beyond microseconds are truncated).
    pub fn parse(s: &str) -> Option<Self> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut us: u64 = 0;
        for (i, b) in frac.bytes().take(6).enumerate() {
            us += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
        }
        Some(Self(whole.checked_mul(1_000_000)?.checked_add(us)?))
    }
}

impl fmt::Display for Timer {
    /// Seconds with the shortest exact fraction: `1`, `0.5`, `2.71828`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, us) = (self.0 / 1_000_000, self.0 % 1_000_000);
        if us == 0 {
            write!(f, "{s}")
        } else {
            let frac = format!("{us:06}");
            write!(f, "{s}.{}", frac.trim_end_matches('0'))
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}s")
    }
}

/// A user (and optional group, possibly prefixed with `:`) a script runs as.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunAs {
    /// User name.
    pub user: String,
    /// Group name (a leading `:` asks for supplementary groups, see the manual).
    pub group: Option<String>,
}

impl RunAs {
    /// `user [group]`.
    pub fn new(user: impl Into<String>, group: Option<String>) -> Self {
        Self {
            user: user.into(),
            group,
        }
    }
}

/// A script to run: the command string (quoted in the file when it has arguments) and an
/// optional user/group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Script {
    /// The command line, as one string.
    pub command: String,
    /// `[username [:][groupname]]`.
    pub run_as: Option<RunAs>,
}

impl Script {
    /// A script without a user.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            run_as: None,
        }
    }
}

/// A keyword keepalived knows but this model keeps as words (with its block, if any), so it is
/// preserved by the formatter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Directive {
    /// The keyword.
    pub keyword: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its block, if any.
    pub block: Option<Vec<Self>>,
}

impl Directive {
    /// A directive without block.
    pub fn new(keyword: impl Into<String>, args: Vec<String>) -> Self {
        Self {
            keyword: keyword.into(),
            args,
            block: None,
        }
    }
}

/// One line of a route or rule block, as `ip route`/`ip rule`-style words
/// (e.g. `192.168.110.0/24 via 192.168.200.254 dev eth1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RouteSpec(pub Vec<String>);

/// An address line in `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`:
/// `<IPADDR>[/<MASK>] [brd <IPADDR>] [dev <STRING>] [scope <SCOPE>] [label <LABEL>] ...`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VirtualAddress {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (keepalived default: 32 for IPv4, 128 for IPv6).
    pub prefix_len: Option<u8>,
    /// `brd` broadcast address.
    pub brd: Option<IpAddr>,
    /// `dev` interface (default: the instance's interface).
    pub dev: Option<String>,
    /// `scope` (site, link, host, nowhere, global or a number).
    pub scope: Option<String>,
    /// `label`.
    pub label: Option<String>,
    /// Other words (`home`, `-nodad`, `noprefixroute`, `peer ...`, `no_track`, ...), in order.
    pub options: Vec<String>,
}

impl VirtualAddress {
    /// A bare address.
    pub fn new(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix_len: None,
            brd: None,
            dev: None,
            scope: None,
            label: None,
            options: Vec::new(),
        }
    }
}

/// `global_defs { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GlobalDefs {
    /// `router_id` (default: the host name).
    pub router_id: Option<String>,
    /// `vrrp_version` 2 or 3 (default 2).
    pub vrrp_version: Option<u8>,
    /// `notification_email { ... }` addresses.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server HOST [PORT]` (default port 25).
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` seconds (default 30).
    pub smtp_connect_timeout: Option<u32>,
    /// `smtp_alert <BOOL>`.
    pub smtp_alert: Option<bool>,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<RunAs>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_garp_master_delay` seconds (default 5).
    pub vrrp_garp_master_delay: Option<u32>,
    /// `vrrp_garp_master_repeat` (default 5).
    pub vrrp_garp_master_repeat: Option<u32>,
    /// `vrrp_garp_master_refresh` seconds (default 0 = none).
    pub vrrp_garp_master_refresh: Option<u32>,
    /// `vrrp_garp_master_refresh_repeat` (default 1).
    pub vrrp_garp_master_refresh_repeat: Option<u32>,
    /// `vrrp_garp_lower_prio_delay` seconds.
    pub vrrp_garp_lower_prio_delay: Option<u32>,
    /// `vrrp_garp_lower_prio_repeat`.
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_interval` between gratuitous ARPs (default 0).
    pub vrrp_garp_interval: Option<Timer>,
    /// `vrrp_gna_interval` between unsolicited NAs (default 0).
    pub vrrp_gna_interval: Option<Timer>,
    /// `vrrp_mcast_group4` (default 224.0.0.18).
    pub vrrp_mcast_group4: Option<IpAddr>,
    /// `vrrp_mcast_group6` (default ff02::12).
    pub vrrp_mcast_group6: Option<IpAddr>,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `lvs_timeouts [tcp T] [tcpfin T] [udp T]`.
    pub lvs_timeouts: Option<LvsTimeouts>,
    /// `lvs_sync_daemon IFACE INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_flush`: flush IPVS at start.
    pub lvs_flush: bool,
    /// Other keywords keepalived knows, kept as words.
    pub other: Vec<Directive>,
}

/// `smtp_server HOST [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SmtpServer {
    /// Address or host name.
    pub host: String,
    /// Port (default 25).
    pub port: Option<u16>,
}

/// `lvs_timeouts`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LvsTimeouts {
    /// TCP timeout seconds.
    pub tcp: Option<u32>,
    /// TCP FIN timeout seconds.
    pub tcpfin: Option<u32>,
    /// UDP timeout seconds.
    pub udp: Option<u32>,
}

/// `lvs_sync_daemon`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LvsSyncDaemon {
    /// Interface the sync daemon uses.
    pub interface: String,
    /// VRRP instance whose state drives master/backup.
    pub instance: String,
    /// `id` syncid 0-255.
    pub id: Option<u8>,
    /// `maxlen` 1-65507.
    pub maxlen: Option<u16>,
    /// `port`.
    pub port: Option<u16>,
    /// `ttl` 1-255.
    pub ttl: Option<u8>,
    /// `group` multicast address.
    pub group: Option<IpAddr>,
}

/// `vrrp_script NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VrrpScript {
    /// The name track_script refers to.
    pub name: String,
    /// `script` command line.
    pub script: Option<String>,
    /// `interval` (default 1 s).
    pub interval: Option<Timer>,
    /// `timeout` (default: the interval).
    pub timeout: Option<Timer>,
    /// `weight -253..253` (default 0: failure means FAULT).
    pub weight: Option<i32>,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    /// `rise` (default 1).
    pub rise: Option<u32>,
    /// `fall` (default 1).
    pub fall: Option<u32>,
    /// `user USER [GROUP]`.
    pub user: Option<RunAs>,
    /// `init_fail`.
    pub init_fail: bool,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// `vrrp_track_file NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TrackFile {
    /// Name.
    pub name: String,
    /// `file PATH`.
    pub file: Option<String>,
    /// `weight N` (default 1).
    pub weight: Option<i32>,
    /// `weight N reverse`.
    pub reverse: bool,
    /// Other known keywords (`init_file`, ...).
    pub other: Vec<Directive>,
}

/// An entry of `track_interface`, `track_script`, `track_file` or `track_process`:
/// `NAME [weight N [reverse|noreverse]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tracked {
    /// Interface / script / file / process name.
    pub name: String,
    /// Weight override.
    pub weight: Option<i32>,
    /// `reverse`.
    pub reverse: bool,
}

impl Tracked {
    /// A name without weight.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            weight: None,
            reverse: false,
        }
    }
}

/// `vrrp_sync_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncGroup {
    /// Name.
    pub name: String,
    /// `group { VI_1 VI_2 }` member instances.
    pub group: Vec<String>,
    /// `track_interface { ... }`.
    pub track_interface: Vec<Tracked>,
    /// `track_script { ... }`.
    pub track_script: Vec<Tracked>,
    /// `track_file { ... }`.
    pub track_file: Vec<Tracked>,
    /// State-change scripts.
    pub notify: Notify,
    /// `smtp_alert <BOOL>`.
    pub smtp_alert: Option<bool>,
    /// `global_tracking`.
    pub global_tracking: bool,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`, `notify`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
    /// `notify` (called with TYPE NAME STATE PRIORITY).
    pub notify: Option<Script>,
}

/// VRRP instance initial state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VrrpState {
    /// `MASTER`.
    Master,
    /// `BACKUP` (the default).
    Backup,
}

/// `auth_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AuthType {
    /// `PASS`: simple password (VRRPv2 only).
    Pass,
    /// `AH`: IPsec AH (VRRPv2 only).
    Ah,
}

/// `authentication { auth_type ..., auth_pass ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Authentication {
    /// `auth_type`.
    pub auth_type: Option<AuthType>,
    /// `auth_pass` (only the first 8 characters are used).
    pub auth_pass: Option<String>,
}

/// `use_vmac [NAME]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Vmac {
    /// Interface name (default `vrrp.VRID`).
    pub interface: Option<String>,
}

/// A `unicast_peer` entry: `IP [min_ttl N] [max_ttl N]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnicastPeer {
    /// Peer address.
    pub addr: IpAddr,
    /// Further words (`min_ttl 1`, ...).
    pub options: Vec<String>,
}

impl UnicastPeer {
    /// A bare peer.
    pub fn new(addr: IpAddr) -> Self {
        Self {
            addr,
            options: Vec::new(),
        }
    }
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VrrpInstance {
    /// Name.
    pub name: String,
    /// `state MASTER|BACKUP` (default BACKUP).
    pub state: Option<VrrpState>,
    /// `interface`.
    pub interface: Option<String>,
    /// `virtual_router_id` 1-255 (required).
    pub virtual_router_id: Option<u8>,
    /// `priority` 1-255 (default 100; 255 = address owner).
    pub priority: Option<u8>,
    /// `advert_int` (default 1 s; v2: whole seconds 1-255, v3: 0.01-40.95 s).
    pub advert_int: Option<Timer>,
    /// `version 2|3` (default: global vrrp_version, else 2).
    pub version: Option<u8>,
    /// `native_ipv6`.
    pub native_ipv6: bool,
    /// `authentication { ... }`.
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress { ... }`.
    pub virtual_ipaddress: Vec<VirtualAddress>,
    /// `virtual_ipaddress_excluded { ... }`.
    pub virtual_ipaddress_excluded: Vec<VirtualAddress>,
    /// `virtual_routes { ... }`.
    pub virtual_routes: Vec<RouteSpec>,
    /// `virtual_rules { ... }`.
    pub virtual_rules: Vec<RouteSpec>,
    /// `mcast_src_ip`.
    pub mcast_src_ip: Option<IpAddr>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer { ... }`.
    pub unicast_peer: Vec<UnicastPeer>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay` (0-1000 s, default 0).
    pub preempt_delay: Option<Timer>,
    /// `accept` (Some(true)) / `no_accept` (Some(false)); default accept unless vrrp_strict.
    pub accept: Option<bool>,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `track_interface { ... }`.
    pub track_interface: Vec<Tracked>,
    /// `track_script { ... }`.
    pub track_script: Vec<Tracked>,
    /// `track_file { ... }`.
    pub track_file: Vec<Tracked>,
    /// `track_process { ... }`.
    pub track_process: Vec<Tracked>,
    /// State-change scripts.
    pub notify: Notify,
    /// `smtp_alert <BOOL>`.
    pub smtp_alert: Option<bool>,
    /// `use_vmac [NAME]`.
    pub use_vmac: Option<Vmac>,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// `garp_master_delay` seconds (default: global, 5).
    pub garp_master_delay: Option<u32>,
    /// `garp_master_repeat`.
    pub garp_master_repeat: Option<u32>,
    /// `garp_master_refresh` seconds.
    pub garp_master_refresh: Option<u32>,
    /// `garp_master_refresh_repeat`.
    pub garp_master_refresh_repeat: Option<u32>,
    /// `garp_lower_prio_delay`.
    pub garp_lower_prio_delay: Option<u32>,
    /// `garp_lower_prio_repeat`.
    pub garp_lower_prio_repeat: Option<u32>,
    /// `strict_mode <BOOL>`.
    pub strict_mode: Option<bool>,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

impl VrrpInstance {
    /// Effective priority (default 100).
    pub fn priority(&self) -> u8 {
        self.priority.unwrap_or(100)
    }
    /// Effective advertisement interval (default 1 s).
    pub fn advert_int(&self) -> Timer {
        self.advert_int.unwrap_or(Timer::from_secs(1))
    }
    /// Effective initial state (default BACKUP).
    pub fn state(&self) -> VrrpState {
        self.state.unwrap_or(VrrpState::Backup)
    }
    /// Whether the instance is IPv6 (its first VIP is IPv6, or `native_ipv6`).
    pub fn is_ipv6(&self) -> bool {
        self.native_ipv6
            || self
                .virtual_ipaddress
                .first()
                .is_some_and(|v| v.addr.is_ipv6())
    }
}

/// IPVS forwarding method (`lb_kind` / `lvs_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LbKind {
    /// `NAT` (masquerading).
    Nat,
    /// `DR` (direct routing).
    Dr,
    /// `TUN` (IP-in-IP tunnelling).
    Tun,
}

/// IPVS scheduler (`lb_algo` / `lvs_sched`): the kernel's scheduler module names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum LbAlgo {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Lblcr,
    Dh,
    Sh,
    Sed,
    Nq,
    Fo,
    Ovf,
    Mh,
    Twos,
}

impl LbAlgo {
    /// All schedulers.
    pub const ALL: [Self; 14] = [
        Self::Rr,
        Self::Wrr,
        Self::Lc,
        Self::Wlc,
        Self::Lblc,
        Self::Lblcr,
        Self::Dh,
        Self::Sh,
        Self::Sed,
        Self::Nq,
        Self::Fo,
        Self::Ovf,
        Self::Mh,
        Self::Twos,
    ];
    /// Kernel name (`wrr`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rr => "rr",
            Self::Wrr => "wrr",
            Self::Lc => "lc",
            Self::Wlc => "wlc",
            Self::Lblc => "lblc",
            Self::Lblcr => "lblcr",
            Self::Dh => "dh",
            Self::Sh => "sh",
            Self::Sed => "sed",
            Self::Nq => "nq",
            Self::Fo => "fo",
            Self::Ovf => "ovf",
            Self::Mh => "mh",
            Self::Twos => "twos",
        }
    }
    /// From the kernel name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == s)
    }
}

impl LbKind {
    /// keepalived's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nat => "NAT",
            Self::Dr => "DR",
            Self::Tun => "TUN",
        }
    }
}

/// `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// Address family (`ip_family inet|inet6`, fwmark family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IpFamily {
    /// `inet`.
    Inet,
    /// `inet6`.
    Inet6,
}

/// What a virtual_server listens on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VsAddress {
    /// `virtual_server IP [PORT]` (the port may be omitted only for persistent services).
    Ip {
        /// Address.
        addr: IpAddr,
        /// Port.
        port: Option<u16>,
    },
    /// `virtual_server fwmark N`.
    Fwmark {
        /// Firewall mark.
        mark: u32,
    },
    /// `virtual_server group NAME`.
    Group {
        /// virtual_server_group name.
        name: String,
    },
}

impl Default for VsAddress {
    fn default() -> Self {
        Self::Fwmark { mark: 1 }
    }
}

/// `sorry_server IP [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SorryServer {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: Option<u16>,
}

impl SorryServer {
    /// `sorry_server ADDR [PORT]`.
    pub fn new(addr: IpAddr, port: Option<u16>) -> Self {
        Self { addr, port }
    }
}

/// `virtual_server ... { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VirtualServer {
    /// What it listens on.
    pub address: VsAddress,
    /// `delay_loop` between checks (default 60 s).
    pub delay_loop: Option<Timer>,
    /// `lb_algo` / `lvs_sched` (keepalived default: wlc).
    pub lb_algo: Option<LbAlgo>,
    /// `lb_kind` / `lvs_method` (default NAT).
    pub lb_kind: Option<LbKind>,
    /// Words after `TUN` (`type ipip|gue port N|gre`, `csum`, ...).
    pub tunnel_options: Vec<String>,
    /// `persistence_timeout` seconds (360 when given without a value).
    pub persistence_timeout: Option<u32>,
    /// `persistence_granularity` netmask.
    pub persistence_granularity: Option<String>,
    /// `persistence_engine`.
    pub persistence_engine: Option<String>,
    /// `protocol` (when missing keepalived 2.2.7 warns "no protocol set - defaulting to UDP").
    pub protocol: Option<Protocol>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `ops` (one-packet scheduling).
    pub ops: bool,
    /// `virtualhost` for HTTP checks.
    pub virtualhost: Option<String>,
    /// `alpha`: start with all real servers down.
    pub alpha: bool,
    /// `omega`: run quorum_down and clear on exit.
    pub omega: bool,
    /// `quorum` (default 1).
    pub quorum: Option<u32>,
    /// `quorum_up` script.
    pub quorum_up: Option<Script>,
    /// `quorum_down` script.
    pub quorum_down: Option<Script>,
    /// `hysteresis` (default 0).
    pub hysteresis: Option<u32>,
    /// `ip_family`.
    pub ip_family: Option<IpFamily>,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `sorry_server_inhibit`.
    pub sorry_server_inhibit: bool,
    /// `inhibit_on_failure`: set weight 0 instead of removing a failed server.
    pub inhibit_on_failure: bool,
    /// `connect_timeout` default for checkers (default 5 s).
    pub connect_timeout: Option<Timer>,
    /// `retry` default for checkers (default 1).
    pub retry: Option<u32>,
    /// `delay_before_retry` default for checkers (default 1 s).
    pub delay_before_retry: Option<Timer>,
    /// `warmup` default for checkers.
    pub warmup: Option<Timer>,
    /// `smtp_alert <BOOL>`.
    pub smtp_alert: Option<bool>,
    /// `real_server` blocks.
    pub real_servers: Vec<RealServer>,
    /// Other known keywords (`flag-1`, `sh-port`, `snmp_name`, ...).
    pub other: Vec<Directive>,
}

impl VirtualServer {
    /// Effective delay_loop (default 60 s).
    pub fn delay_loop(&self) -> Timer {
        self.delay_loop.unwrap_or(Timer::from_secs(60))
    }
    /// Effective protocol (keepalived 2.2.7 defaults to UDP, with a warning, when none is set).
    pub fn protocol(&self) -> Protocol {
        self.protocol.unwrap_or(Protocol::Udp)
    }
    /// Effective forwarding method (default NAT).
    pub fn lb_kind(&self) -> LbKind {
        self.lb_kind.unwrap_or(LbKind::Nat)
    }
    /// Effective scheduler (keepalived default wlc).
    pub fn lb_algo(&self) -> LbAlgo {
        self.lb_algo.unwrap_or(LbAlgo::Wlc)
    }
}

/// `real_server IP [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RealServer {
    /// Address.
    pub addr: IpAddr,
    /// Port (default: the virtual server's).
    pub port: Option<u16>,
    /// `weight` 0-65535 (default 1).
    pub weight: Option<u32>,
    /// `lvs_method` override.
    pub lb_kind: Option<LbKind>,
    /// `inhibit_on_failure [<BOOL>]`.
    pub inhibit_on_failure: Option<bool>,
    /// `notify_up` script.
    pub notify_up: Option<Script>,
    /// `notify_down` script.
    pub notify_down: Option<Script>,
    /// `uthreshold` maximum connections.
    pub uthreshold: Option<u32>,
    /// `lthreshold` minimum connections.
    pub lthreshold: Option<u32>,
    /// `smtp_alert <BOOL>`.
    pub smtp_alert: Option<bool>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `alpha <BOOL>`.
    pub alpha: Option<bool>,
    /// `connect_timeout`.
    pub connect_timeout: Option<Timer>,
    /// `retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Timer>,
    /// `warmup`.
    pub warmup: Option<Timer>,
    /// `delay_loop`.
    pub delay_loop: Option<Timer>,
    /// Health checkers.
    pub checkers: Vec<Checker>,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

impl RealServer {
    /// A real server with no options.
    pub fn new(addr: IpAddr, port: Option<u16>) -> Self {
        Self {
            addr,
            port,
            weight: None,
            lb_kind: None,
            inhibit_on_failure: None,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            smtp_alert: None,
            virtualhost: None,
            alpha: None,
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            delay_loop: None,
            checkers: Vec::new(),
            other: Vec::new(),
        }
    }
    /// Effective weight (default 1).
    pub fn weight(&self) -> u32 {
        self.weight.unwrap_or(1)
    }
}

/// Connection options shared by all checkers (and by SMTP_CHECK `host` blocks).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckCommon {
    /// `connect_ip` (default: the real server).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port`.
    pub connect_port: Option<u16>,
    /// `bindto` source address.
    pub bindto: Option<IpAddr>,
    /// `bind_if`.
    pub bind_if: Option<String>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// `alpha <BOOL>`.
    pub alpha: Option<bool>,
    /// `connect_timeout` (default 5 s).
    pub connect_timeout: Option<Timer>,
    /// `retry` (alias `nb_get_retry`).
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Timer>,
    /// `warmup`.
    pub warmup: Option<Timer>,
    /// `delay_loop`.
    pub delay_loop: Option<Timer>,
    /// `log_all_failures <BOOL>`.
    pub log_all_failures: Option<bool>,
}

/// A health checker inside a real_server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Checker {
    /// `TCP_CHECK`: connect succeeds.
    Tcp(SimpleCheck),
    /// `HTTP_GET`.
    HttpGet(HttpCheck),
    /// `SSL_GET`.
    SslGet(HttpCheck),
    /// `MISC_CHECK`: run a script.
    Misc(MiscCheck),
    /// `SMTP_CHECK`.
    Smtp(SmtpCheck),
    /// `DNS_CHECK`.
    Dns(DnsCheck),
    /// `UDP_CHECK`.
    Udp(UdpCheck),
    /// `PING_CHECK`: ICMP echo.
    Ping(SimpleCheck),
    /// `FILE_CHECK`.
    File(FileCheck),
    /// `BFD_CHECK`.
    Bfd(BfdCheck),
}

impl Checker {
    /// The keyword (`TCP_CHECK`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            Self::Tcp(_) => "TCP_CHECK",
            Self::HttpGet(_) => "HTTP_GET",
            Self::SslGet(_) => "SSL_GET",
            Self::Misc(_) => "MISC_CHECK",
            Self::Smtp(_) => "SMTP_CHECK",
            Self::Dns(_) => "DNS_CHECK",
            Self::Udp(_) => "UDP_CHECK",
            Self::Ping(_) => "PING_CHECK",
            Self::File(_) => "FILE_CHECK",
            Self::Bfd(_) => "BFD_CHECK",
        }
    }
}

/// TCP_CHECK / PING_CHECK: only the common options.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimpleCheck {
    /// Common options.
    pub common: CheckCommon,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// An HTTP status code or inclusive range (`200`, `200-299`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusRange {
    /// First code.
    pub from: u16,
    /// Last code (== from for a single code).
    pub to: u16,
}

impl StatusRange {
    /// `from-to`.
    pub fn new(from: u16, to: u16) -> Self {
        Self { from, to }
    }
}

/// A `url { ... }` block of HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Url {
    /// `path`.
    pub path: Option<String>,
    /// `digest` MD5 hex of the body.
    pub digest: Option<String>,
    /// `status_code` list (default 200-299).
    pub status_code: Vec<StatusRange>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HttpCheck {
    /// Common options.
    pub common: CheckCommon,
    /// `url` blocks.
    pub urls: Vec<Url>,
    /// `http_protocol` (1.0, 1.0C, 1.1, 1.0K, 1.1K ...).
    pub http_protocol: Option<String>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `fast_recovery [<BOOL>]`.
    pub fast_recovery: Option<bool>,
    /// `enable_sni` (SSL_GET).
    pub enable_sni: bool,
    /// `sni_name` (SSL_GET).
    pub sni_name: Option<String>,
    /// `tls_compliant` (SSL_GET).
    pub tls_compliant: bool,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// MISC_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MiscCheck {
    /// Common options.
    pub common: CheckCommon,
    /// `misc_path` command line.
    pub misc_path: Option<String>,
    /// `misc_timeout` seconds.
    pub misc_timeout: Option<u32>,
    /// `misc_dynamic`: exit status 2-255 sets the weight.
    pub misc_dynamic: bool,
    /// `user`.
    pub user: Option<RunAs>,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// SMTP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SmtpCheck {
    /// Common options.
    pub common: CheckCommon,
    /// `helo_name`.
    pub helo_name: Option<String>,
    /// Legacy `host { ... }` blocks.
    pub hosts: Vec<CheckCommon>,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// DNS_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DnsCheck {
    /// Common options.
    pub common: CheckCommon,
    /// `type` (A, NS, CNAME, SOA, MX, TXT, AAAA; default SOA).
    pub query_type: Option<String>,
    /// `name` (default `.`).
    pub name: Option<String>,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// UDP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UdpCheck {
    /// Common options.
    pub common: CheckCommon,
    /// `payload` hex words.
    pub payload: Option<String>,
    /// `require_reply [HEX]` (Some("") = any reply).
    pub require_reply: Option<String>,
    /// `min_reply_length`.
    pub min_reply_length: Option<u32>,
    /// `max_reply_length`.
    pub max_reply_length: Option<u32>,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// FILE_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileCheck {
    /// `track_file` name.
    pub track_file: Option<String>,
    /// `dynamic`.
    pub dynamic: bool,
    /// `weight`.
    pub weight: Option<i64>,
    /// `weight N reverse`.
    pub reverse: bool,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// BFD_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BfdCheck {
    /// `name` of the bfd_instance.
    pub name: Option<String>,
    /// Other known keywords.
    pub other: Vec<Directive>,
}

/// An entry of a virtual_server_group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VsgEntry {
    /// `IP[-LAST] [PORT]` (a range varies the last byte/group up to `range_end`).
    Addr {
        /// First address.
        addr: IpAddr,
        /// Last value of the final octet (IPv4) or group (IPv6) of the range.
        range_end: Option<u16>,
        /// Port.
        port: Option<u16>,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// Mark.
        mark: u32,
        /// Family.
        family: Option<IpFamily>,
    },
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VirtualServerGroup {
    /// Name.
    pub name: String,
    /// Entries.
    pub entries: Vec<VsgEntry>,
}

/// A whole keepalived configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Config {
    /// `global_defs` (merged if given several times).
    pub global_defs: GlobalDefs,
    /// `static_ipaddress { ... }`.
    pub static_ipaddress: Vec<VirtualAddress>,
    /// `static_routes { ... }`.
    pub static_routes: Vec<RouteSpec>,
    /// `static_rules { ... }`.
    pub static_rules: Vec<RouteSpec>,
    /// `vrrp_script` blocks.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `vrrp_track_file` blocks.
    pub vrrp_track_files: Vec<TrackFile>,
    /// `vrrp_sync_group` blocks.
    pub vrrp_sync_groups: Vec<SyncGroup>,
    /// `vrrp_instance` blocks.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `virtual_server_group` blocks.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server` blocks.
    pub virtual_servers: Vec<VirtualServer>,
    /// Other top-level keywords keepalived knows (`garp_group`, `vrrp_track_process`,
    /// `bfd_instance`, `net_namespace`, `SSL`, ...), kept as words.
    pub other: Vec<Directive>,
}

impl Config {
    /// The vrrp_instance with this name.
    pub fn instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.vrrp_instances.iter().find(|i| i.name == name)
    }
}
