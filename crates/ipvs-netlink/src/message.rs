//! IPVS generic-netlink messages: requests ([`Request::emit`]) and replies ([`parse_reply`]),
//! pure byte manipulation, byte-exact with `include/uapi/linux/ip_vs.h` and with what
//! ipvsadm's libipvs sends (attribute order, 16-byte addresses, full flags mask).
//!
//! # Example
//!
//! ```
//! use ipvs_netlink::message::{Request, parse_reply, Reply};
//! use ipvs_netlink::{Service, ServiceKey};
//!
//! let svc = Service::new(ServiceKey::tcp("192.0.2.1:80".parse().unwrap()));
//! let mut buf = Vec::new();
//! Request::NewService(svc).emit(&mut buf, 0x24, 7, true);
//! assert_eq!(&buf[4..6], &0x24u16.to_ne_bytes()); // family id
//! assert_eq!(buf[16], 1); // IPVS_CMD_NEW_SERVICE
//!
//! // An ACK for sequence 7, as the kernel sends it:
//! let mut ack = Vec::new();
//! ack.extend_from_slice(&36u32.to_ne_bytes());
//! ack.extend_from_slice(&2u16.to_ne_bytes()); // NLMSG_ERROR
//! ack.extend_from_slice(&0x100u16.to_ne_bytes()); // NLM_F_CAPPED
//! ack.extend_from_slice(&7u32.to_ne_bytes());
//! ack.extend_from_slice(&0u32.to_ne_bytes());
//! ack.extend_from_slice(&0i32.to_ne_bytes()); // error 0 = success
//! ack.extend_from_slice(&buf[..16]); // the request's header
//! let replies = parse_reply(&ack).unwrap();
//! assert_eq!(replies, vec![(7, Reply::Ack { errno: 0, ext_msg: None })]);
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::types::*;
use crate::wire::{self, Attrs, Messages, MsgWriter};

/// Generic netlink family name.
pub const IPVS_GENL_NAME: &str = "IPVS";
/// Generic netlink family version.
pub const IPVS_GENL_VERSION: u8 = 1;

/// `IPVS_CMD_*`.
pub(crate) mod cmd {
    pub(crate) const NEW_SERVICE: u8 = 1;
    pub(crate) const SET_SERVICE: u8 = 2;
    pub(crate) const DEL_SERVICE: u8 = 3;
    pub(crate) const GET_SERVICE: u8 = 4;
    pub(crate) const NEW_DEST: u8 = 5;
    pub(crate) const SET_DEST: u8 = 6;
    pub(crate) const DEL_DEST: u8 = 7;
    pub(crate) const GET_DEST: u8 = 8;
    pub(crate) const NEW_DAEMON: u8 = 9;
    pub(crate) const DEL_DAEMON: u8 = 10;
    pub(crate) const GET_DAEMON: u8 = 11;
    pub(crate) const SET_CONFIG: u8 = 12;
    pub(crate) const GET_CONFIG: u8 = 13;
    pub(crate) const SET_INFO: u8 = 14;
    pub(crate) const GET_INFO: u8 = 15;
    pub(crate) const ZERO: u8 = 16;
    pub(crate) const FLUSH: u8 = 17;
}

/// `IPVS_CMD_ATTR_*`.
mod attr {
    pub(crate) const SERVICE: u16 = 1;
    pub(crate) const DEST: u16 = 2;
    pub(crate) const DAEMON: u16 = 3;
    pub(crate) const TIMEOUT_TCP: u16 = 4;
    pub(crate) const TIMEOUT_TCP_FIN: u16 = 5;
    pub(crate) const TIMEOUT_UDP: u16 = 6;
}

/// `IPVS_SVC_ATTR_*`.
mod svc {
    pub(crate) const AF: u16 = 1;
    pub(crate) const PROTOCOL: u16 = 2;
    pub(crate) const ADDR: u16 = 3;
    pub(crate) const PORT: u16 = 4;
    pub(crate) const FWMARK: u16 = 5;
    pub(crate) const SCHED_NAME: u16 = 6;
    pub(crate) const FLAGS: u16 = 7;
    pub(crate) const TIMEOUT: u16 = 8;
    pub(crate) const NETMASK: u16 = 9;
    pub(crate) const STATS: u16 = 10;
    pub(crate) const PE_NAME: u16 = 11;
    pub(crate) const STATS64: u16 = 12;
}

/// `IPVS_DEST_ATTR_*`.
mod dest {
    pub(crate) const ADDR: u16 = 1;
    pub(crate) const PORT: u16 = 2;
    pub(crate) const FWD_METHOD: u16 = 3;
    pub(crate) const WEIGHT: u16 = 4;
    pub(crate) const U_THRESH: u16 = 5;
    pub(crate) const L_THRESH: u16 = 6;
    pub(crate) const ACTIVE_CONNS: u16 = 7;
    pub(crate) const INACT_CONNS: u16 = 8;
    pub(crate) const PERSIST_CONNS: u16 = 9;
    pub(crate) const STATS: u16 = 10;
    pub(crate) const ADDR_FAMILY: u16 = 11;
    pub(crate) const STATS64: u16 = 12;
    pub(crate) const TUN_TYPE: u16 = 13;
    pub(crate) const TUN_PORT: u16 = 14;
    pub(crate) const TUN_FLAGS: u16 = 15;
}

/// `IPVS_DAEMON_ATTR_*`.
mod daemon {
    pub(crate) const STATE: u16 = 1;
    pub(crate) const MCAST_IFN: u16 = 2;
    pub(crate) const SYNC_ID: u16 = 3;
    pub(crate) const SYNC_MAXLEN: u16 = 4;
    pub(crate) const MCAST_GROUP: u16 = 5;
    pub(crate) const MCAST_GROUP6: u16 = 6;
    pub(crate) const MCAST_PORT: u16 = 7;
    pub(crate) const MCAST_TTL: u16 = 8;
}

/// `IPVS_STATS_ATTR_*`.
mod stats {
    pub(crate) const CONNS: u16 = 1;
    pub(crate) const INPKTS: u16 = 2;
    pub(crate) const OUTPKTS: u16 = 3;
    pub(crate) const INBYTES: u16 = 4;
    pub(crate) const OUTBYTES: u16 = 5;
    pub(crate) const CPS: u16 = 6;
    pub(crate) const INPPS: u16 = 7;
    pub(crate) const OUTPPS: u16 = 8;
    pub(crate) const INBPS: u16 = 9;
    pub(crate) const OUTBPS: u16 = 10;
}

/// `IPVS_INFO_ATTR_*`.
mod info {
    pub(crate) const VERSION: u16 = 1;
    pub(crate) const CONN_TAB_SIZE: u16 = 2;
}

/// One IPVS request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `IPVS_CMD_NEW_SERVICE` (`-A`).
    NewService(Service),
    /// `IPVS_CMD_SET_SERVICE` (`-E`); all flags are replaced (mask `~0`, as ipvsadm).
    SetService(Service),
    /// `IPVS_CMD_DEL_SERVICE` (`-D`).
    DelService(ServiceKey),
    /// `IPVS_CMD_GET_SERVICE` for one service.
    GetService(ServiceKey),
    /// `IPVS_CMD_GET_SERVICE` with `NLM_F_DUMP`.
    DumpServices,
    /// `IPVS_CMD_NEW_DEST` (`-a`).
    NewDest(ServiceKey, Destination),
    /// `IPVS_CMD_SET_DEST` (`-e`).
    SetDest(ServiceKey, Destination),
    /// `IPVS_CMD_DEL_DEST` (`-d`).
    DelDest(ServiceKey, SocketAddr),
    /// `IPVS_CMD_GET_DEST` dump for one service.
    DumpDests(ServiceKey),
    /// `IPVS_CMD_NEW_DAEMON` (`--start-daemon`).
    NewDaemon(SyncDaemon),
    /// `IPVS_CMD_DEL_DAEMON` (`--stop-daemon`).
    DelDaemon(DaemonState),
    /// `IPVS_CMD_GET_DAEMON` dump.
    DumpDaemons,
    /// `IPVS_CMD_SET_CONFIG` (`--set`; 0 = unchanged).
    SetTimeouts(Timeouts),
    /// `IPVS_CMD_GET_CONFIG`.
    GetTimeouts,
    /// `IPVS_CMD_GET_INFO`.
    GetInfo,
    /// `IPVS_CMD_ZERO`: one service, or everything with `None`.
    Zero(Option<ServiceKey>),
    /// `IPVS_CMD_FLUSH` (`-C`).
    Flush,
}

impl Request {
    /// The generic-netlink command number.
    pub fn command(&self) -> u8 {
        match self {
            Self::NewService(_) => cmd::NEW_SERVICE,
            Self::SetService(_) => cmd::SET_SERVICE,
            Self::DelService(_) => cmd::DEL_SERVICE,
            Self::GetService(_) | Self::DumpServices => cmd::GET_SERVICE,
            Self::NewDest(..) => cmd::NEW_DEST,
            Self::SetDest(..) => cmd::SET_DEST,
            Self::DelDest(..) => cmd::DEL_DEST,
            Self::DumpDests(_) => cmd::GET_DEST,
            Self::NewDaemon(_) => cmd::NEW_DAEMON,
            Self::DelDaemon(_) => cmd::DEL_DAEMON,
            Self::DumpDaemons => cmd::GET_DAEMON,
            Self::SetTimeouts(_) => cmd::SET_CONFIG,
            Self::GetTimeouts => cmd::GET_CONFIG,
            Self::GetInfo => cmd::GET_INFO,
            Self::Zero(_) => cmd::ZERO,
            Self::Flush => cmd::FLUSH,
        }
    }

    /// Whether the request is a dump (`NLM_F_DUMP`, answered by a multipart reply).
    pub fn is_dump(&self) -> bool {
        matches!(
            self,
            Self::DumpServices | Self::DumpDests(_) | Self::DumpDaemons
        )
    }

    /// Appends the complete netlink message to `buf`: `nlmsghdr` (family id as type,
    /// `NLM_F_REQUEST`, plus `NLM_F_ACK` if `ack`, plus `NLM_F_DUMP` for dumps), `genlmsghdr`
    /// (command, version 1) and the attributes.
    pub fn emit(&self, buf: &mut Vec<u8>, family: u16, seq: u32, ack: bool) {
        let mut flags = wire::NLM_F_REQUEST;
        if ack {
            flags |= wire::NLM_F_ACK;
        }
        if self.is_dump() {
            flags |= wire::NLM_F_DUMP;
        }
        let mut w = MsgWriter::new_genl(buf, family, flags, seq, self.command(), IPVS_GENL_VERSION);
        match self {
            Self::NewService(s) | Self::SetService(s) => put_service(&mut w, &s.key, Some(s)),
            Self::DelService(k) | Self::GetService(k) | Self::DumpDests(k) => {
                put_service(&mut w, k, None)
            }
            Self::Zero(Some(k)) => put_service(&mut w, k, None),
            Self::NewDest(k, d) | Self::SetDest(k, d) => {
                put_service(&mut w, k, None);
                put_dest(&mut w, d);
            }
            Self::DelDest(k, a) => {
                put_service(&mut w, k, None);
                w.begin_nest(attr::DEST);
                w.fixed(dest::ADDR, addr16(&a.ip()));
                w.be16(dest::PORT, a.port());
                w.u16(dest::ADDR_FAMILY, Family::of(&a.ip()).to_af());
                w.end_nest();
            }
            Self::NewDaemon(d) => {
                w.begin_nest(attr::DAEMON);
                w.u32(daemon::STATE, d.state.to_raw());
                w.string(daemon::MCAST_IFN, &d.mcast_ifn);
                w.u32(daemon::SYNC_ID, d.sync_id);
                if let Some(v) = d.sync_maxlen {
                    w.u16(daemon::SYNC_MAXLEN, v);
                }
                match d.mcast_group {
                    Some(IpAddr::V4(g)) => w.attr(daemon::MCAST_GROUP, &g.octets()),
                    Some(IpAddr::V6(g)) => w.attr(daemon::MCAST_GROUP6, &g.octets()),
                    None => {}
                }
                if let Some(v) = d.mcast_port {
                    w.u16(daemon::MCAST_PORT, v);
                }
                if let Some(v) = d.mcast_ttl {
                    w.u8(daemon::MCAST_TTL, v);
                }
                w.end_nest();
            }
            Self::DelDaemon(state) => {
                w.begin_nest(attr::DAEMON);
                w.u32(daemon::STATE, state.to_raw());
                w.end_nest();
            }
            Self::SetTimeouts(t) => {
                // 0 means "unchanged": ipvsadm sends all three; so do we.
                w.u32(attr::TIMEOUT_TCP, t.tcp);
                w.u32(attr::TIMEOUT_TCP_FIN, t.tcp_fin);
                w.u32(attr::TIMEOUT_UDP, t.udp);
            }
            Self::DumpServices
            | Self::DumpDaemons
            | Self::GetTimeouts
            | Self::GetInfo
            | Self::Zero(None)
            | Self::Flush => {}
        }
        w.finish();
    }
}

/// An address as a 16-byte `union nf_inet_addr`, as libipvs sends it.
fn addr16(ip: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    b
}

fn put_service(w: &mut MsgWriter<'_>, key: &ServiceKey, full: Option<&Service>) {
    w.begin_nest(attr::SERVICE);
    w.u16(svc::AF, key.family().to_af());
    match key {
        ServiceKey::Fwmark { mark, .. } => w.u32(svc::FWMARK, *mark),
        ServiceKey::Addr { protocol, addr } => {
            w.u16(svc::PROTOCOL, protocol.number());
            w.fixed(svc::ADDR, addr16(&addr.ip()));
            w.be16(svc::PORT, addr.port());
        }
    }
    if let Some(s) = full {
        w.string(svc::SCHED_NAME, s.scheduler.name());
        if let Some(pe) = &s.pe_name {
            if !pe.is_empty() {
                w.string(svc::PE_NAME, pe);
            }
        }
        let mut fl = [0u8; 8];
        fl[..4].copy_from_slice(&s.flags.bits().to_ne_bytes());
        fl[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        w.fixed(svc::FLAGS, fl);
        w.u32(svc::TIMEOUT, s.timeout);
        w.fixed(svc::NETMASK, s.netmask.to_wire());
    }
    w.end_nest();
}

fn put_dest(w: &mut MsgWriter<'_>, d: &Destination) {
    w.begin_nest(attr::DEST);
    w.fixed(dest::ADDR, addr16(&d.addr.ip()));
    w.be16(dest::PORT, d.addr.port());
    w.u32(dest::FWD_METHOD, d.forward.to_raw());
    w.u32(dest::WEIGHT, d.weight as u32);
    w.u32(dest::U_THRESH, d.upper_threshold);
    w.u32(dest::L_THRESH, d.lower_threshold);
    w.u16(dest::ADDR_FAMILY, d.family().to_af());
    w.u8(dest::TUN_TYPE, d.tun_type.to_raw());
    w.be16(dest::TUN_PORT, d.tun_port);
    w.u16(dest::TUN_FLAGS, d.tun_flags.to_raw());
    w.end_nest();
}

/// One decoded message of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// `NLMSG_ERROR`: `errno` 0 is an ACK, otherwise the positive errno, with the extended
    /// ack message if the kernel sent one.
    Ack {
        /// Positive errno, or 0 for success.
        errno: i32,
        /// `NLMSGERR_ATTR_MSG`, if present.
        ext_msg: Option<String>,
    },
    /// `NLMSG_DONE`: end of a dump.
    Done,
    /// A service (reply to GET_SERVICE, or one part of a dump).
    Service(ServiceEntry),
    /// A destination (one part of a GET_DEST dump).
    Dest(DestEntry),
    /// A sync daemon (one part of a GET_DAEMON dump).
    Daemon(SyncDaemon),
    /// Timeouts (reply to GET_CONFIG).
    Timeouts(Timeouts),
    /// Info (reply to GET_INFO).
    Info(Info),
    /// A message this crate does not decode (other family or command), or an IPVS message
    /// lacking required attributes; kept for diagnostics.
    Other {
        /// nlmsg type.
        kind: u16,
        /// genl command (0 if none).
        cmd: u8,
    },
}

/// Why a reply could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed netlink reply: {0}")]
pub struct ParseError(pub &'static str);

/// Parses every netlink message in one received datagram into `(sequence number, Reply)`.
///
/// Tolerant: unknown attributes are ignored, short or long fixed-size attributes are read as
/// far as they go; a message whose netlink header is broken ends the parse with an error.
/// Never panics (fuzzed).
pub fn parse_reply(buf: &[u8]) -> Result<Vec<(u32, Reply)>, ParseError> {
    let mut out = Vec::new();
    for m in Messages::new(buf) {
        let (hdr, payload) = m.map_err(|_| ParseError("netlink header length"))?;
        out.push((hdr.seq, parse_one(hdr.kind, hdr.flags, payload)));
    }
    Ok(out)
}

pub(crate) fn parse_one(kind: u16, flags: u16, payload: &[u8]) -> Reply {
    match kind {
        wire::NLMSG_ERROR => {
            let errno = payload
                .get(..4)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .unwrap_or(0);
            let mut ext_msg = None;
            if flags & wire::NLM_F_ACK_TLVS != 0 {
                // TLVs follow the original message (header only if capped).
                let orig_len = if flags & wire::NLM_F_CAPPED != 0 {
                    wire::NLMSG_HDRLEN
                } else {
                    payload
                        .get(4..8)
                        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
                        .unwrap_or(0)
                };
                if let Some(tlvs) = payload.get(4 + wire::align4(orig_len)..) {
                    for (k, v) in Attrs::new(tlvs) {
                        if k == wire::NLMSGERR_ATTR_MSG {
                            ext_msg = Some(wire::get_string(v));
                        }
                    }
                }
            }
            Reply::Ack {
                errno: errno.checked_neg().unwrap_or(i32::MAX),
                ext_msg,
            }
        }
        wire::NLMSG_DONE => Reply::Done,
        wire::NLMSG_NOOP | wire::NLMSG_OVERRUN => Reply::Other { kind, cmd: 0 },
        _ => {
            if payload.len() < wire::GENL_HDRLEN {
                return Reply::Other { kind, cmd: 0 };
            }
            let c = payload[0];
            let attrs = &payload[wire::GENL_HDRLEN..];
            parse_genl(c, attrs).unwrap_or(Reply::Other { kind, cmd: c })
        }
    }
}

fn parse_genl(c: u8, attrs: &[u8]) -> Option<Reply> {
    match c {
        cmd::NEW_SERVICE => {
            let nest = Attrs::new(attrs).find(|(k, _)| *k == attr::SERVICE)?.1;
            parse_service(nest).map(Reply::Service)
        }
        cmd::NEW_DEST => {
            let nest = Attrs::new(attrs).find(|(k, _)| *k == attr::DEST)?.1;
            parse_dest(nest).map(Reply::Dest)
        }
        cmd::NEW_DAEMON => {
            let nest = Attrs::new(attrs).find(|(k, _)| *k == attr::DAEMON)?.1;
            parse_daemon(nest).map(Reply::Daemon)
        }
        cmd::SET_CONFIG => {
            let mut t = Timeouts::default();
            for (k, v) in Attrs::new(attrs) {
                match k {
                    attr::TIMEOUT_TCP => t.tcp = wire::get_u32(v).unwrap_or(0),
                    attr::TIMEOUT_TCP_FIN => t.tcp_fin = wire::get_u32(v).unwrap_or(0),
                    attr::TIMEOUT_UDP => t.udp = wire::get_u32(v).unwrap_or(0),
                    _ => {}
                }
            }
            Some(Reply::Timeouts(t))
        }
        cmd::SET_INFO => {
            let mut i = Info {
                version: 0,
                conn_tab_size: 0,
            };
            for (k, v) in Attrs::new(attrs) {
                match k {
                    info::VERSION => i.version = wire::get_u32(v).unwrap_or(0),
                    info::CONN_TAB_SIZE => i.conn_tab_size = wire::get_u32(v).unwrap_or(0),
                    _ => {}
                }
            }
            Some(Reply::Info(i))
        }
        _ => None,
    }
}

fn parse_addr(family: Family, p: &[u8]) -> Option<IpAddr> {
    match family {
        Family::Inet => {
            let b: [u8; 4] = p.get(..4)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
        Family::Inet6 => {
            let b: [u8; 16] = p.get(..16)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
    }
}

fn parse_stats32(p: &[u8]) -> Stats {
    let mut s = Stats::default();
    for (k, v) in Attrs::new(p) {
        let n = wire::get_uint(v).unwrap_or(0);
        let n32 = n as u32;
        match k {
            stats::CONNS => s.conns = n32,
            stats::INPKTS => s.inpkts = n32,
            stats::OUTPKTS => s.outpkts = n32,
            stats::INBYTES => s.inbytes = n,
            stats::OUTBYTES => s.outbytes = n,
            stats::CPS => s.cps = n32,
            stats::INPPS => s.inpps = n32,
            stats::OUTPPS => s.outpps = n32,
            stats::INBPS => s.inbps = n32,
            stats::OUTBPS => s.outbps = n32,
            _ => {}
        }
    }
    s
}

fn parse_stats64(p: &[u8]) -> Stats64 {
    let mut s = Stats64::default();
    for (k, v) in Attrs::new(p) {
        let n = wire::get_uint(v).unwrap_or(0);
        match k {
            stats::CONNS => s.conns = n,
            stats::INPKTS => s.inpkts = n,
            stats::OUTPKTS => s.outpkts = n,
            stats::INBYTES => s.inbytes = n,
            stats::OUTBYTES => s.outbytes = n,
            stats::CPS => s.cps = n,
            stats::INPPS => s.inpps = n,
            stats::OUTPPS => s.outpps = n,
            stats::INBPS => s.inbps = n,
            stats::OUTBPS => s.outbps = n,
            _ => {}
        }
    }
    s
}

/// Parses the attributes inside an `IPVS_CMD_ATTR_SERVICE` nest.
fn parse_service(p: &[u8]) -> Option<ServiceEntry> {
    let mut af = None;
    let mut protocol = None;
    let mut addr = None;
    let mut port = None;
    let mut fwmark = None;
    let mut sched = None;
    let mut flags = 0u32;
    let mut timeout = 0u32;
    let mut netmask = None;
    let mut pe_name = None;
    let mut st = Stats::default();
    let mut st64 = Stats64::default();
    for (k, v) in Attrs::new(p) {
        match k {
            svc::AF => af = wire::get_u16(v),
            svc::PROTOCOL => protocol = wire::get_u16(v),
            svc::ADDR => addr = Some(v),
            svc::PORT => port = wire::get_be16(v),
            svc::FWMARK => fwmark = wire::get_u32(v),
            svc::SCHED_NAME => sched = Some(wire::get_string(v)),
            svc::FLAGS => flags = wire::get_u32(v).unwrap_or(0),
            svc::TIMEOUT => timeout = wire::get_u32(v).unwrap_or(0),
            svc::NETMASK => netmask = v.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()),
            svc::PE_NAME => {
                let s = wire::get_string(v);
                if !s.is_empty() {
                    pe_name = Some(s);
                }
            }
            svc::STATS => st = parse_stats32(v),
            svc::STATS64 => st64 = parse_stats64(v),
            _ => {}
        }
    }
    let family = Family::from_af(af?)?;
    let key = match fwmark {
        Some(mark) if mark != 0 => ServiceKey::Fwmark { mark, family },
        _ => {
            let protocol = Protocol::from_number(protocol?)?;
            let ip = parse_addr(family, addr?)?;
            ServiceKey::Addr {
                protocol,
                addr: SocketAddr::new(ip, port.unwrap_or(0)),
            }
        }
    };
    let netmask = netmask.map_or(Netmask::full(family), |b| Netmask::from_wire(family, b));
    Some(ServiceEntry {
        service: Service {
            key,
            scheduler: Scheduler::from_name(&sched.unwrap_or_default()),
            flags: ServiceFlags::from_bits_retain(flags),
            timeout,
            netmask,
            pe_name,
        },
        stats: st,
        stats64: st64,
    })
}

/// Parses the attributes inside an `IPVS_CMD_ATTR_DEST` nest.
fn parse_dest(p: &[u8]) -> Option<DestEntry> {
    let mut addr = None;
    let mut port = 0;
    let mut af = None;
    let mut d = Destination::new(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    let mut e = DestEntry {
        dest: d,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        stats: Stats::default(),
        stats64: Stats64::default(),
    };
    let mut fwd = None;
    for (k, v) in Attrs::new(p) {
        match k {
            dest::ADDR => addr = Some(v),
            dest::PORT => port = wire::get_be16(v).unwrap_or(0),
            dest::FWD_METHOD => fwd = wire::get_u32(v),
            dest::WEIGHT => d.weight = wire::get_u32(v).unwrap_or(0) as i32,
            dest::U_THRESH => d.upper_threshold = wire::get_u32(v).unwrap_or(0),
            dest::L_THRESH => d.lower_threshold = wire::get_u32(v).unwrap_or(0),
            dest::ACTIVE_CONNS => e.active_conns = wire::get_u32(v).unwrap_or(0),
            dest::INACT_CONNS => e.inact_conns = wire::get_u32(v).unwrap_or(0),
            dest::PERSIST_CONNS => e.persist_conns = wire::get_u32(v).unwrap_or(0),
            dest::STATS => e.stats = parse_stats32(v),
            dest::STATS64 => e.stats64 = parse_stats64(v),
            dest::ADDR_FAMILY => af = wire::get_u16(v),
            dest::TUN_TYPE => {
                d.tun_type = wire::get_u8(v)
                    .and_then(TunnelType::from_raw)
                    .unwrap_or_default()
            }
            dest::TUN_PORT => d.tun_port = wire::get_be16(v).unwrap_or(0),
            dest::TUN_FLAGS => {
                d.tun_flags = wire::get_u16(v)
                    .and_then(TunnelCsum::from_raw)
                    .unwrap_or_default()
            }
            _ => {}
        }
    }
    let a = addr?;
    // Without ADDR_FAMILY (kernels before 3.18) guess from the address bytes: libipvs uses
    // the service's family; a dest dump carries no service family, so an address whose last
    // 12 bytes are zero is taken as IPv4.
    let family = match af.and_then(Family::from_af) {
        Some(f) => f,
        None if a.len() >= 16 && a[4..16].iter().all(|&b| b == 0) => Family::Inet,
        None if a.len() >= 16 => Family::Inet6,
        None => Family::Inet,
    };
    d.addr = SocketAddr::new(parse_addr(family, a)?, port);
    d.forward = Forward::from_raw(fwd?).unwrap_or(Forward::DirectRoute);
    e.dest = d;
    Some(e)
}

fn parse_daemon(p: &[u8]) -> Option<SyncDaemon> {
    let mut state = None;
    let mut d = SyncDaemon::new(DaemonState::Master, String::new(), 0);
    for (k, v) in Attrs::new(p) {
        match k {
            daemon::STATE => state = wire::get_u32(v),
            daemon::MCAST_IFN => d.mcast_ifn = wire::get_string(v),
            daemon::SYNC_ID => d.sync_id = wire::get_u32(v).unwrap_or(0),
            daemon::SYNC_MAXLEN => d.sync_maxlen = wire::get_u16(v),
            daemon::MCAST_GROUP => {
                let b: Option<[u8; 4]> = v.get(..4).and_then(|b| b.try_into().ok());
                if let Some(b) = b {
                    if b != [0; 4] {
                        d.mcast_group = Some(IpAddr::V4(Ipv4Addr::from(b)));
                    }
                }
            }
            daemon::MCAST_GROUP6 => {
                let b: Option<[u8; 16]> = v.get(..16).and_then(|b| b.try_into().ok());
                if let Some(b) = b {
                    if b != [0; 16] {
                        d.mcast_group = Some(IpAddr::V6(Ipv6Addr::from(b)));
                    }
                }
            }
            daemon::MCAST_PORT => d.mcast_port = wire::get_u16(v),
            daemon::MCAST_TTL => d.mcast_ttl = wire::get_u8(v),
            _ => {}
        }
    }
    d.state = match state? {
        1 => DaemonState::Master,
        2 => DaemonState::Backup,
        _ => return None,
    };
    Some(d)
}

/// Emits a reply message as the kernel would (for tests, fuzz seeds and simulations).
///
/// Produces what `ip_vs_genl_fill_service` / `_dest` / `_daemon` write: replies carry
/// 16-byte addresses, both STATS and STATS64, and the flags struct with mask `~0`.
pub fn emit_reply(reply: &Reply, buf: &mut Vec<u8>, family: u16, seq: u32, multi: bool) {
    let flags = if multi { wire::NLM_F_MULTI } else { 0 };
    match reply {
        Reply::Ack { errno, .. } => {
            let start = buf.len();
            buf.extend_from_slice(&36u32.to_ne_bytes());
            buf.extend_from_slice(&wire::NLMSG_ERROR.to_ne_bytes());
            buf.extend_from_slice(&wire::NLM_F_CAPPED.to_ne_bytes());
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            buf.extend_from_slice(&(-errno).to_ne_bytes());
            // Capped copy of the request header.
            buf.extend_from_slice(&16u32.to_ne_bytes());
            buf.extend_from_slice(&family.to_ne_bytes());
            buf.extend_from_slice(&wire::NLM_F_REQUEST.to_ne_bytes());
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            debug_assert_eq!(buf.len() - start, 36);
        }
        Reply::Done => {
            buf.extend_from_slice(&20u32.to_ne_bytes());
            buf.extend_from_slice(&wire::NLMSG_DONE.to_ne_bytes());
            buf.extend_from_slice(&wire::NLM_F_MULTI.to_ne_bytes());
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            buf.extend_from_slice(&0i32.to_ne_bytes());
        }
        Reply::Service(e) => {
            let mut w =
                MsgWriter::new_genl(buf, family, flags, seq, cmd::NEW_SERVICE, IPVS_GENL_VERSION);
            w.begin_nest(attr::SERVICE | wire::NLA_F_NESTED);
            let s = &e.service;
            w.u16(svc::AF, s.key.family().to_af());
            match s.key {
                ServiceKey::Fwmark { mark, .. } => w.u32(svc::FWMARK, mark),
                ServiceKey::Addr { protocol, addr } => {
                    w.u16(svc::PROTOCOL, protocol.number());
                    w.attr(svc::ADDR, &addr16(&addr.ip()));
                    w.be16(svc::PORT, addr.port());
                }
            }
            w.string(svc::SCHED_NAME, s.scheduler.name());
            if let Some(pe) = &s.pe_name {
                w.string(svc::PE_NAME, pe);
            }
            let mut fl = [0u8; 8];
            fl[..4].copy_from_slice(&s.flags.bits().to_ne_bytes());
            fl[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
            w.attr(svc::FLAGS, &fl);
            w.u32(svc::TIMEOUT, s.timeout);
            w.attr(svc::NETMASK, &s.netmask.to_wire());
            emit_stats(&mut w, svc::STATS, &e.stats);
            emit_stats64(&mut w, svc::STATS64, &e.stats64);
            w.end_nest();
            w.finish();
        }
        Reply::Dest(e) => {
            let mut w =
                MsgWriter::new_genl(buf, family, flags, seq, cmd::NEW_DEST, IPVS_GENL_VERSION);
            w.begin_nest(attr::DEST | wire::NLA_F_NESTED);
            let d = &e.dest;
            w.attr(dest::ADDR, &addr16(&d.addr.ip()));
            w.be16(dest::PORT, d.addr.port());
            w.u32(dest::FWD_METHOD, d.forward.to_raw());
            w.u32(dest::WEIGHT, d.weight as u32);
            w.u8(dest::TUN_TYPE, d.tun_type.to_raw());
            w.be16(dest::TUN_PORT, d.tun_port);
            w.u16(dest::TUN_FLAGS, d.tun_flags.to_raw());
            w.u32(dest::U_THRESH, d.upper_threshold);
            w.u32(dest::L_THRESH, d.lower_threshold);
            w.u32(dest::ACTIVE_CONNS, e.active_conns);
            w.u32(dest::INACT_CONNS, e.inact_conns);
            w.u32(dest::PERSIST_CONNS, e.persist_conns);
            w.u16(dest::ADDR_FAMILY, d.family().to_af());
            emit_stats(&mut w, dest::STATS, &e.stats);
            emit_stats64(&mut w, dest::STATS64, &e.stats64);
            w.end_nest();
            w.finish();
        }
        Reply::Daemon(d) => {
            let mut w =
                MsgWriter::new_genl(buf, family, flags, seq, cmd::NEW_DAEMON, IPVS_GENL_VERSION);
            w.begin_nest(attr::DAEMON | wire::NLA_F_NESTED);
            w.u32(daemon::STATE, d.state.to_raw());
            w.string(daemon::MCAST_IFN, &d.mcast_ifn);
            w.u32(daemon::SYNC_ID, d.sync_id);
            if let Some(v) = d.sync_maxlen {
                w.u16(daemon::SYNC_MAXLEN, v);
            }
            if let Some(v) = d.mcast_port {
                w.u16(daemon::MCAST_PORT, v);
            }
            if let Some(v) = d.mcast_ttl {
                w.u8(daemon::MCAST_TTL, v);
            }
            match d.mcast_group {
                Some(IpAddr::V4(g)) => w.attr(daemon::MCAST_GROUP, &g.octets()),
                Some(IpAddr::V6(g)) => w.attr(daemon::MCAST_GROUP6, &g.octets()),
                None => {}
            }
            w.end_nest();
            w.finish();
        }
        Reply::Timeouts(t) => {
            let mut w =
                MsgWriter::new_genl(buf, family, flags, seq, cmd::SET_CONFIG, IPVS_GENL_VERSION);
            w.u32(attr::TIMEOUT_TCP, t.tcp);
            w.u32(attr::TIMEOUT_TCP_FIN, t.tcp_fin);
            w.u32(attr::TIMEOUT_UDP, t.udp);
            w.finish();
        }
        Reply::Info(i) => {
            let mut w =
                MsgWriter::new_genl(buf, family, flags, seq, cmd::SET_INFO, IPVS_GENL_VERSION);
            w.u32(info::VERSION, i.version);
            w.u32(info::CONN_TAB_SIZE, i.conn_tab_size);
            w.finish();
        }
        Reply::Other { kind, cmd } => {
            let w = MsgWriter::new_genl(buf, *kind, flags, seq, *cmd, IPVS_GENL_VERSION);
            w.finish();
        }
    }
}

fn emit_stats(w: &mut MsgWriter<'_>, kind: u16, s: &Stats) {
    w.begin_nest(kind | wire::NLA_F_NESTED);
    w.u32(stats::CONNS, s.conns);
    w.u32(stats::INPKTS, s.inpkts);
    w.u32(stats::OUTPKTS, s.outpkts);
    w.attr(stats::INBYTES, &s.inbytes.to_ne_bytes());
    w.attr(stats::OUTBYTES, &s.outbytes.to_ne_bytes());
    w.u32(stats::CPS, s.cps);
    w.u32(stats::INPPS, s.inpps);
    w.u32(stats::OUTPPS, s.outpps);
    w.u32(stats::INBPS, s.inbps);
    w.u32(stats::OUTBPS, s.outbps);
    w.end_nest();
}

fn emit_stats64(w: &mut MsgWriter<'_>, kind: u16, s: &Stats64) {
    w.begin_nest(kind | wire::NLA_F_NESTED);
    for (k, v) in [
        (stats::CONNS, s.conns),
        (stats::INPKTS, s.inpkts),
        (stats::OUTPKTS, s.outpkts),
        (stats::INBYTES, s.inbytes),
        (stats::OUTBYTES, s.outbytes),
        (stats::CPS, s.cps),
        (stats::INPPS, s.inpps),
        (stats::OUTPPS, s.outpps),
        (stats::INBPS, s.inbps),
        (stats::OUTBPS, s.outbps),
    ] {
        w.attr(k, &v.to_ne_bytes());
    }
    w.end_nest();
}

/// Builds the `CTRL_CMD_GETFAMILY` request for `name` (generic netlink controller).
pub(crate) fn emit_getfamily(buf: &mut Vec<u8>, name: &str, seq: u32) {
    const GENL_ID_CTRL: u16 = 0x10;
    const CTRL_CMD_GETFAMILY: u8 = 3;
    const CTRL_ATTR_FAMILY_NAME: u16 = 2;
    let mut w = MsgWriter::new_genl(
        buf,
        GENL_ID_CTRL,
        wire::NLM_F_REQUEST | wire::NLM_F_ACK,
        seq,
        CTRL_CMD_GETFAMILY,
        1,
    );
    w.string(CTRL_ATTR_FAMILY_NAME, name);
    w.finish();
}

/// Finds `CTRL_ATTR_FAMILY_ID` in a controller reply payload (after the genl header).
pub(crate) fn parse_family_id(payload: &[u8]) -> Option<u16> {
    const CTRL_ATTR_FAMILY_ID: u16 = 1;
    let attrs = payload.get(wire::GENL_HDRLEN..)?;
    Attrs::new(attrs)
        .find(|(k, _)| *k == CTRL_ATTR_FAMILY_ID)
        .and_then(|(_, v)| wire::get_u16(v))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod tests_support;
