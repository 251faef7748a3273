//! Domain types: services, destinations, statistics, timeouts, sync daemons, info.

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Address family of a service or destination (`AF_INET` / `AF_INET6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (`AF_INET` = 2).
    Inet,
    /// IPv6 (`AF_INET6` = 10).
    Inet6,
}

impl Family {
    /// The kernel's `AF_*` number.
    pub const fn to_af(self) -> u16 {
        match self {
            Self::Inet => 2,
            Self::Inet6 => 10,
        }
    }
    /// From an `AF_*` number.
    pub const fn from_af(af: u16) -> Option<Self> {
        match af {
            2 => Some(Self::Inet),
            10 => Some(Self::Inet6),
            _ => None,
        }
    }
    /// The family of an address.
    pub const fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::Inet,
            IpAddr::V6(_) => Self::Inet6,
        }
    }
}

/// Transport protocol of an address-based service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// SCTP (132).
    Sctp,
}

impl Protocol {
    /// The IP protocol number.
    pub const fn number(self) -> u16 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
            Self::Sctp => 132,
        }
    }
    /// From an IP protocol number.
    pub const fn from_number(n: u16) -> Option<Self> {
        match n {
            6 => Some(Self::Tcp),
            17 => Some(Self::Udp),
            132 => Some(Self::Sctp),
            _ => None,
        }
    }
}

/// What identifies a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKey {
    /// Protocol + virtual address and port (`-t`, `-u`, `--sctp-service`).
    Addr {
        /// Transport protocol.
        protocol: Protocol,
        /// Virtual IP and port.
        addr: SocketAddr,
    },
    /// Firewall mark (`-f`), in one address family.
    Fwmark {
        /// The mark (non-zero).
        mark: u32,
        /// Address family (`-6` in ipvsadm selects IPv6).
        family: Family,
    },
}

impl ServiceKey {
    /// A TCP service.
    pub const fn tcp(addr: SocketAddr) -> Self {
        Self::Addr {
            protocol: Protocol::Tcp,
            addr,
        }
    }
    /// A UDP service.
    pub const fn udp(addr: SocketAddr) -> Self {
        Self::Addr {
            protocol: Protocol::Udp,
            addr,
        }
    }
    /// An SCTP service.
    pub const fn sctp(addr: SocketAddr) -> Self {
        Self::Addr {
            protocol: Protocol::Sctp,
            addr,
        }
    }
    /// A firewall-mark service.
    pub const fn fwmark(mark: u32, family: Family) -> Self {
        Self::Fwmark { mark, family }
    }
    /// The service's address family.
    pub fn family(&self) -> Family {
        match self {
            Self::Addr { addr, .. } => Family::of(&addr.ip()),
            Self::Fwmark { family, .. } => *family,
        }
    }
    /// The virtual port (0 for fwmark services).
    pub fn port(&self) -> u16 {
        match self {
            Self::Addr { addr, .. } => addr.port(),
            Self::Fwmark { .. } => 0,
        }
    }
}

impl fmt::Display for ServiceKey {
    /// ipvsadm's rule syntax: `-t 192.0.2.1:80`, `-u [2001:db8::1]:53`, `-f 7 -6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Addr { protocol, addr } => {
                let p = match protocol {
                    Protocol::Tcp => "-t",
                    Protocol::Udp => "-u",
                    Protocol::Sctp => "--sctp-service",
                };
                write!(f, "{p} {addr}")
            }
            Self::Fwmark {
                mark,
                family: Family::Inet,
            } => write!(f, "-f {mark}"),
            Self::Fwmark {
                mark,
                family: Family::Inet6,
            } => write!(f, "-f {mark} -6"),
        }
    }
}

/// A scheduler, by the kernel's name (`ip_vs_<name>` module).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Scheduler {
    /// Round robin.
    RoundRobin,
    /// Weighted round robin.
    WeightedRoundRobin,
    /// Least connection.
    LeastConnection,
    /// Weighted least connection (ipvsadm's default).
    #[default]
    WeightedLeastConnection,
    /// Locality-based least connection.
    LocalityLeastConnection,
    /// Locality-based least connection with replication.
    LocalityLeastConnectionReplication,
    /// Destination hashing.
    DestinationHashing,
    /// Source hashing.
    SourceHashing,
    /// Shortest expected delay.
    ShortestExpectedDelay,
    /// Never queue.
    NeverQueue,
    /// Weighted failover.
    Failover,
    /// Weighted overflow.
    Overflow,
    /// Maglev hashing.
    Maglev,
    /// Weighted random twos choice.
    Twos,
    /// The `none` scheduler (no scheduling; only persistence templates / sync).
    None,
    /// Any other name (a scheduler this crate does not know).
    Other(String),
}

impl Scheduler {
    /// The kernel's name (`wlc`, `mh`, ...).
    pub fn name(&self) -> &str {
        match self {
            Self::RoundRobin => "rr",
            Self::WeightedRoundRobin => "wrr",
            Self::LeastConnection => "lc",
            Self::WeightedLeastConnection => "wlc",
            Self::LocalityLeastConnection => "lblc",
            Self::LocalityLeastConnectionReplication => "lblcr",
            Self::DestinationHashing => "dh",
            Self::SourceHashing => "sh",
            Self::ShortestExpectedDelay => "sed",
            Self::NeverQueue => "nq",
            Self::Failover => "fo",
            Self::Overflow => "ovf",
            Self::Maglev => "mh",
            Self::Twos => "twos",
            Self::None => "none",
            Self::Other(s) => s,
        }
    }
    /// From the kernel's name; unknown names become [`Scheduler::Other`].
    pub fn from_name(name: &str) -> Self {
        match name {
            "rr" => Self::RoundRobin,
            "wrr" => Self::WeightedRoundRobin,
            "lc" => Self::LeastConnection,
            "wlc" => Self::WeightedLeastConnection,
            "lblc" => Self::LocalityLeastConnection,
            "lblcr" => Self::LocalityLeastConnectionReplication,
            "dh" => Self::DestinationHashing,
            "sh" => Self::SourceHashing,
            "sed" => Self::ShortestExpectedDelay,
            "nq" => Self::NeverQueue,
            "fo" => Self::Failover,
            "ovf" => Self::Overflow,
            "mh" => Self::Maglev,
            "twos" => Self::Twos,
            "none" => Self::None,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheduler {
    type Err = core::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from_name(s))
    }
}

bitflags::bitflags! {
    /// Service flags (`IP_VS_SVC_F_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ServiceFlags: u32 {
        /// Persistent service (`-p`).
        const PERSISTENT = 0x0001;
        /// Hashed entry (kernel-internal; stripped on add).
        const HASHED = 0x0002;
        /// One-packet scheduling (`-o`, `ops`).
        const ONEPACKET = 0x0004;
        /// Scheduler flag 1 (`flag-1`).
        const SCHED1 = 0x0008;
        /// Scheduler flag 2 (`flag-2`).
        const SCHED2 = 0x0010;
        /// Scheduler flag 3 (`flag-3`).
        const SCHED3 = 0x0020;
        /// `sh-fallback`: the sh scheduler's meaning of flag 1.
        const SCHED_SH_FALLBACK = 0x0008;
        /// `sh-port`: the sh scheduler's meaning of flag 2.
        const SCHED_SH_PORT = 0x0010;
        /// `mh-fallback`: the mh scheduler's meaning of flag 1.
        const SCHED_MH_FALLBACK = 0x0008;
        /// `mh-port`: the mh scheduler's meaning of flag 2.
        const SCHED_MH_PORT = 0x0010;
        // Unknown bits are kept.
        const _ = !0;
    }
}

impl ServiceFlags {
    /// The three scheduler flags.
    pub const SCHED_MASK: Self = Self::SCHED1.union(Self::SCHED2).union(Self::SCHED3);
}

/// Persistence granularity (`-M`): an IPv4 netmask or an IPv6 prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Netmask {
    /// IPv4 netmask (sent big-endian).
    V4(Ipv4Addr),
    /// IPv6 prefix length, 1..=128.
    V6(u32),
}

impl Netmask {
    /// The default for a family: /32 resp. /128.
    pub const fn full(family: Family) -> Self {
        match family {
            Family::Inet => Self::V4(Ipv4Addr::BROADCAST),
            Family::Inet6 => Self::V6(128),
        }
    }
    /// The 4 attribute bytes (`IPVS_SVC_ATTR_NETMASK`).
    pub(crate) fn to_wire(self) -> [u8; 4] {
        match self {
            Self::V4(m) => m.octets(),
            Self::V6(p) => p.to_ne_bytes(),
        }
    }
    pub(crate) fn from_wire(family: Family, b: [u8; 4]) -> Self {
        match family {
            Family::Inet => Self::V4(Ipv4Addr::from(b)),
            Family::Inet6 => Self::V6(u32::from_ne_bytes(b)),
        }
    }
}

/// A virtual service's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    /// What identifies the service.
    pub key: ServiceKey,
    /// Scheduler.
    pub scheduler: Scheduler,
    /// Flags (persistent, one-packet, scheduler flags).
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with [`ServiceFlags::PERSISTENT`]).
    pub timeout: u32,
    /// Persistence granularity.
    pub netmask: Netmask,
    /// Persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
}

impl Service {
    /// A service with ipvsadm's defaults: `wlc`, no flags, not persistent, full netmask.
    pub fn new(key: ServiceKey) -> Self {
        Self {
            key,
            scheduler: Scheduler::default(),
            flags: ServiceFlags::empty(),
            timeout: 0,
            netmask: Netmask::full(key.family()),
            pe_name: None,
        }
    }
    /// Sets the scheduler.
    pub fn scheduler(mut self, s: Scheduler) -> Self {
        self.scheduler = s;
        self
    }
    /// Makes the service persistent with this timeout (seconds).
    pub fn persistent(mut self, timeout: u32) -> Self {
        self.flags |= ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }
    /// The configuration as the kernel stores it, for comparisons: HASHED cleared.
    pub fn normalized(&self) -> Self {
        let mut s = self.clone();
        s.flags.remove(ServiceFlags::HASHED);
        if let Some(pe) = &s.pe_name {
            if pe.is_empty() {
                s.pe_name = None;
            }
        }
        s
    }
}

/// Forwarding method (`IP_VS_CONN_F_*`, masked with 0x7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Forward {
    /// NAT (`-m`, "Masq") = 0.
    Masq,
    /// Local node = 1.
    Local,
    /// IP tunnel (`-i`, "Tunnel") = 2.
    Tunnel,
    /// Direct routing (`-g`, "Route") = 3, ipvsadm's default.
    #[default]
    DirectRoute,
    /// Bypass = 4.
    Bypass,
}

impl Forward {
    /// The kernel's value.
    pub const fn to_raw(self) -> u32 {
        match self {
            Self::Masq => 0,
            Self::Local => 1,
            Self::Tunnel => 2,
            Self::DirectRoute => 3,
            Self::Bypass => 4,
        }
    }
    /// From the kernel's value (masked with 0x7); 5..7 are not defined.
    pub const fn from_raw(v: u32) -> Option<Self> {
        match v & 0x7 {
            0 => Some(Self::Masq),
            1 => Some(Self::Local),
            2 => Some(Self::Tunnel),
            3 => Some(Self::DirectRoute),
            4 => Some(Self::Bypass),
            _ => None,
        }
    }
}

/// Tunnel encapsulation for [`Forward::Tunnel`] (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelType {
    /// IP-in-IP = 0 (the default).
    #[default]
    Ipip,
    /// Generic UDP Encapsulation = 1 (needs a tunnel port).
    Gue,
    /// GRE = 2.
    Gre,
}

impl TunnelType {
    /// The kernel's value.
    pub const fn to_raw(self) -> u8 {
        match self {
            Self::Ipip => 0,
            Self::Gue => 1,
            Self::Gre => 2,
        }
    }
    /// From the kernel's value.
    pub const fn from_raw(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Ipip),
            1 => Some(Self::Gue),
            2 => Some(Self::Gre),
            _ => None,
        }
    }
    /// ipvsadm's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ipip => "ipip",
            Self::Gue => "gue",
            Self::Gre => "gre",
        }
    }
}

/// Tunnel checksum mode (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelCsum {
    /// No checksum = 0.
    #[default]
    NoCsum,
    /// Checksum = 1.
    Csum,
    /// Remote checksum offload = 2.
    RemCsum,
}

impl TunnelCsum {
    /// The kernel's value.
    pub const fn to_raw(self) -> u16 {
        match self {
            Self::NoCsum => 0,
            Self::Csum => 1,
            Self::RemCsum => 2,
        }
    }
    /// From the kernel's value (unknown values read as [`TunnelCsum::NoCsum`] would hide
    /// data, so they are `None`).
    pub const fn from_raw(v: u16) -> Option<Self> {
        match v {
            0 => Some(Self::NoCsum),
            1 => Some(Self::Csum),
            2 => Some(Self::RemCsum),
            _ => None,
        }
    }
}

/// A real server (destination) of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Destination {
    /// Real server address and port (port 0 for fwmark services without a port).
    pub addr: SocketAddr,
    /// Forwarding method.
    pub forward: Forward,
    /// Weight: a signed int in the kernel; negative values are rejected (ERANGE). 0 quiesces.
    pub weight: i32,
    /// Upper connection threshold (0 = none).
    pub upper_threshold: u32,
    /// Lower connection threshold (0 = none).
    pub lower_threshold: u32,
    /// Tunnel type (only with [`Forward::Tunnel`]).
    pub tun_type: TunnelType,
    /// Tunnel (GUE) destination port, host order here, big-endian on the wire.
    pub tun_port: u16,
    /// Tunnel checksum mode.
    pub tun_flags: TunnelCsum,
}

impl Destination {
    /// A destination with ipvsadm's defaults: direct routing, weight 1.
    pub const fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            forward: Forward::DirectRoute,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: TunnelCsum::NoCsum,
        }
    }
    /// Sets the forwarding method.
    pub const fn forward(mut self, f: Forward) -> Self {
        self.forward = f;
        self
    }
    /// Sets the weight.
    pub const fn weight(mut self, w: i32) -> Self {
        self.weight = w;
        self
    }
    /// The destination's address family (may differ from the service's for tunnels).
    pub fn family(&self) -> Family {
        Family::of(&self.addr.ip())
    }
}

/// 32-bit statistics (`IPVS_*_ATTR_STATS`): counters truncated to u32, bytes u64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u32,
    /// Incoming packets.
    pub inpkts: u32,
    /// Outgoing packets.
    pub outpkts: u32,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u32,
    /// Incoming packets per second.
    pub inpps: u32,
    /// Outgoing packets per second.
    pub outpps: u32,
    /// Incoming bytes per second.
    pub inbps: u32,
    /// Outgoing bytes per second.
    pub outbps: u32,
}

/// 64-bit statistics (`IPVS_*_ATTR_STATS64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats64 {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub inpkts: u64,
    /// Outgoing packets.
    pub outpkts: u64,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

/// A service as dumped from the kernel: configuration plus statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// Configuration.
    pub service: Service,
    /// 32-bit statistics.
    pub stats: Stats,
    /// 64-bit statistics (zero if the kernel did not send them).
    pub stats64: Stats64,
}

/// A destination as dumped from the kernel: configuration plus counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestEntry {
    /// Configuration.
    pub dest: Destination,
    /// Active connections.
    pub active_conns: u32,
    /// Inactive connections.
    pub inact_conns: u32,
    /// Persistent connection templates.
    pub persist_conns: u32,
    /// 32-bit statistics.
    pub stats: Stats,
    /// 64-bit statistics.
    pub stats64: Stats64,
}

/// A service with its destinations, as returned by a full dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServer {
    /// The service.
    pub entry: ServiceEntry,
    /// Its destinations, in kernel order.
    pub dests: Vec<DestEntry>,
}

/// Connection timeouts in seconds (`--set tcp tcpfin udp`); in a `set`, 0 means "unchanged".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeouts {
    /// TCP established.
    pub tcp: u32,
    /// TCP after FIN.
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

/// Sync daemon role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonState {
    /// Master (sends) = 1.
    Master,
    /// Backup (receives) = 2.
    Backup,
}

impl DaemonState {
    /// The kernel's value.
    pub const fn to_raw(self) -> u32 {
        match self {
            Self::Master => 1,
            Self::Backup => 2,
        }
    }
    /// ipvsadm's word.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Master => "master",
            Self::Backup => "backup",
        }
    }
}

/// Connection-sync daemon settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    /// Master or backup.
    pub state: DaemonState,
    /// Multicast interface name.
    pub mcast_ifn: String,
    /// Sync ID (0..=255 in practice).
    pub sync_id: u32,
    /// Maximum sync message length.
    pub sync_maxlen: Option<u16>,
    /// Multicast group (IPv4 or IPv6).
    pub mcast_group: Option<IpAddr>,
    /// Multicast port.
    pub mcast_port: Option<u16>,
    /// Multicast TTL.
    pub mcast_ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon with only the required settings.
    pub fn new(state: DaemonState, mcast_ifn: impl Into<String>, sync_id: u32) -> Self {
        Self {
            state,
            mcast_ifn: mcast_ifn.into(),
            sync_id,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }
}

/// `GET_INFO` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Info {
    /// `IP_VS_VERSION_CODE` (0x010201 = 1.2.1).
    pub version: u32,
    /// Connection hash table size.
    pub conn_tab_size: u32,
}

impl Info {
    /// (major, minor, patch).
    pub const fn version_triple(&self) -> (u32, u32, u32) {
        (
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }
}
