//! From a keepalived `virtual_server` to the IPVS objects it stands for (`ipvs-netlink`
//! [`Service`]s and [`Destination`]s), with keepalived's defaults: scheduler `wlc`,
//! forwarding NAT, weight 1, `persistence_timeout` without a value = 360 s (the parser's),
//! a fwmark service in the family of `ip_family` (else of its first real server, else IPv4).
//!
//! A `virtual_server group NAME` stands for one service per entry of its
//! `virtual_server_group` (address ranges expanded); every one of them gets the same
//! destinations.
//!
//! ```
//! use lvs_check::service::table;
//! use ipvs_netlink::{Forward, ServiceFlags};
//! let text = "virtual_server 203.0.113.62 80 {\n lb_algo wrr\n lb_kind DR\n persistence_timeout 60\n protocol TCP\n real_server 198.51.100.2 80 {\n  weight 3\n }\n}\n";
//! let cfg = keepalived_conf::parse_str(text, &Default::default()).config;
//! let t = table(&cfg, &cfg.virtual_servers[0])?;
//! assert_eq!(t.services[0].key.to_string(), "-t 203.0.113.62:80");
//! assert_eq!(t.services[0].scheduler.name(), "wrr");
//! assert!(t.services[0].flags.contains(ServiceFlags::PERSISTENT));
//! assert_eq!(t.services[0].timeout, 60);
//! assert_eq!(t.real_servers[0].forward, Forward::DirectRoute);
//! assert_eq!(t.real_servers[0].weight, 3);
//! # Ok::<(), lvs_check::service::TableError>(())
//! ```

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs_netlink::{
    Destination, Family, Forward, Netmask, Protocol, Scheduler, Service, ServiceFlags, ServiceKey,
    TunnelCsum, TunnelType,
};
use keepalived_conf::model::{self, Config, IpFamily, LbKind, VirtualServer, VsAddress, VsgEntry};

/// The IPVS objects of one `virtual_server`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceTable {
    /// The services (one, or one per `virtual_server_group` entry).
    pub services: Vec<Service>,
    /// One destination per `real_server`, in configuration order, with its configured weight.
    pub real_servers: Vec<Destination>,
    /// The `sorry_server` destination (weight 1).
    pub sorry: Option<Destination>,
}

/// A `virtual_server` that cannot be turned into IPVS objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("virtual_server {vs}: {reason}")]
#[non_exhaustive]
pub struct TableError {
    /// The virtual server (`203.0.113.62:80`, `fwmark 1`, `group NAME`).
    pub vs: String,
    /// Why.
    pub reason: String,
}

/// The ipvsadm-style key of a service, as `ipvsadm -Ln` prints it: `TCP  203.0.113.62:80`
/// without the padding (`TCP 203.0.113.62:80`, `UDP [2001:db8::1]:53`, `FWM 1`).
pub fn key_label(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr { protocol, addr } => {
            let p = match protocol {
                Protocol::Tcp => "TCP ",
                Protocol::Udp => "UDP ",
                Protocol::Sctp => "SCTP ",
            };
            let mut s = String::with_capacity(32);
            s.push_str(p);
            push_addr(&mut s, addr);
            s
        }
        ServiceKey::Fwmark {
            mark,
            family: Family::Inet,
        } => format!("FWM {mark}"),
        ServiceKey::Fwmark {
            mark,
            family: Family::Inet6,
        } => format!("FWM {mark} IPv6"),
    }
}

/// Appends `addr` to `out` exactly as its `Display` writes it (`192.0.2.1:80`,
/// `[2001:db8::1]:53`), an IPv4 address without the formatting machinery (about ten times
/// cheaper: status and names of 10,000 virtual servers are made of these).
///
/// ```
/// let mut s = String::from("at ");
/// lvs_check::service::push_addr(&mut s, &"203.0.113.62:80".parse().unwrap());
/// assert_eq!(s, "at 203.0.113.62:80");
/// ```
pub fn push_addr(out: &mut String, addr: &SocketAddr) {
    match addr {
        SocketAddr::V4(a) => {
            push_ipv4(out, a.ip());
            out.push(':');
            push_decimal(out, u32::from(a.port()));
        }
        SocketAddr::V6(_) => {
            let _ = write!(out, "{addr}");
        }
    }
}

/// `a.b.c.d`, as `Ipv4Addr`'s `Display`.
pub(crate) fn push_ipv4(out: &mut String, ip: &Ipv4Addr) {
    for (i, o) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(out, u32::from(o));
    }
}

fn push_decimal(out: &mut String, mut v: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// The IPVS forwarding method of a keepalived `lb_kind` (None for a kind IPVS lacks).
pub fn forward(kind: LbKind) -> Option<Forward> {
    Some(match kind {
        LbKind::Nat => Forward::Masq,
        LbKind::Dr => Forward::DirectRoute,
        LbKind::Tun => Forward::Tunnel,
        _ => return None,
    })
}

/// The services, real servers and sorry server of `vs` (a member of `cfg`, which holds its
/// `virtual_server_group`).
///
/// # Errors
/// A group that does not exist or is empty, a bad `persistence_granularity`, a bad tunnel
/// option.
pub fn table(cfg: &Config, vs: &VirtualServer) -> Result<ServiceTable, TableError> {
    // The name is only formatted for an error.
    let err = |reason: String| TableError {
        vs: crate::spec::vs_name(vs),
        reason,
    };
    let protocol = match vs.protocol() {
        model::Protocol::Tcp => Protocol::Tcp,
        model::Protocol::Udp => Protocol::Udp,
        model::Protocol::Sctp => Protocol::Sctp,
        other => return Err(err(format!("unsupported protocol {other:?}"))),
    };
    let rs_family = vs
        .real_servers
        .first()
        .map(|r| Family::of(&r.addr))
        .unwrap_or(Family::Inet);
    let fw_family = |f: Option<IpFamily>| match f.or(vs.ip_family) {
        Some(IpFamily::Inet6) => Family::Inet6,
        Some(IpFamily::Inet) => Family::Inet,
        _ => rs_family,
    };
    // One service (`single`), or a group's (`keys`, never allocated for the others).
    let mut single = None;
    let mut keys = Vec::new();
    let vs_port = match &vs.address {
        VsAddress::Ip { addr, port } => {
            single = Some(ServiceKey::Addr {
                protocol,
                addr: SocketAddr::new(*addr, port.unwrap_or(0)),
            });
            *port
        }
        VsAddress::Fwmark { mark } => {
            single = Some(ServiceKey::fwmark(*mark, fw_family(None)));
            None
        }
        VsAddress::Group { name: g } => {
            let group = cfg
                .virtual_server_groups
                .iter()
                .find(|x| &x.name == g)
                .ok_or_else(|| err(format!("no virtual_server_group named {g:?}")))?;
            for e in &group.entries {
                match e {
                    VsgEntry::Addr {
                        addr,
                        range_end,
                        port,
                    } => {
                        for ip in expand(*addr, *range_end).map_err(&err)? {
                            keys.push(ServiceKey::Addr {
                                protocol,
                                addr: SocketAddr::new(ip, port.unwrap_or(0)),
                            });
                        }
                    }
                    VsgEntry::Fwmark { mark, family } => {
                        keys.push(ServiceKey::fwmark(*mark, fw_family(*family)));
                    }
                    _ => return Err(err("unsupported virtual_server_group entry".into())),
                }
            }
            if keys.is_empty() {
                return Err(err(format!("virtual_server_group {g:?} is empty")));
            }
            // keepalived takes the real servers' port from the group's entries when they
            // share one; a real server without a port otherwise gets 0.
            None
        }
        _ => return Err(err("unsupported virtual_server address".into())),
    };
    let mut flags = ServiceFlags::empty();
    if vs.ops {
        flags |= ServiceFlags::ONEPACKET;
    }
    for d in &vs.other {
        flags |= match d.keyword.as_str() {
            "flag-1" | "sh-fallback" | "mh-fallback" => ServiceFlags::SCHED1,
            "flag-2" | "sh-port" | "mh-port" => ServiceFlags::SCHED2,
            "flag-3" => ServiceFlags::SCHED3,
            _ => ServiceFlags::empty(),
        };
    }
    let mut services = Vec::with_capacity(usize::from(single.is_some()) + keys.len());
    for key in single.into_iter().chain(keys) {
        let mut s = Service::new(key).scheduler(Scheduler::from_name(vs.lb_algo().name()));
        s.flags |= flags;
        if let Some(t) = vs.persistence_timeout {
            s = s.persistent(t);
            if let Some(g) = &vs.persistence_granularity {
                s.netmask = netmask(g, key.family()).map_err(&err)?;
            }
            s.pe_name = vs.persistence_engine.clone();
        }
        services.push(s);
    }
    let tunnel = tunnel_options(&vs.tunnel_options).map_err(&err)?;
    let dest = |addr: SocketAddr, kind: LbKind| {
        let fwd = forward(kind).ok_or_else(|| err(format!("unsupported lb_kind {kind:?}")))?;
        let mut d = Destination::new(addr).forward(fwd);
        if fwd == Forward::Tunnel {
            (d.tun_type, d.tun_port, d.tun_flags) = tunnel;
        }
        Ok::<_, TableError>(d)
    };
    let real_servers = vs
        .real_servers
        .iter()
        .map(|rs| {
            let port = rs.port.or(vs_port).unwrap_or(0);
            let mut d = dest(
                SocketAddr::new(rs.addr, port),
                rs.lb_kind.unwrap_or(vs.lb_kind()),
            )?;
            d.weight = i32::try_from(rs.weight()).unwrap_or(i32::MAX);
            d.upper_threshold = rs.uthreshold.unwrap_or(0);
            d.lower_threshold = rs.lthreshold.unwrap_or(0);
            Ok(d)
        })
        .collect::<Result<_, TableError>>()?;
    let sorry_kind = vs
        .other
        .iter()
        .find(|d| d.keyword == "sorry_server_lvs_method")
        .and_then(|d| d.args.first())
        .map(|m| match m.to_ascii_uppercase().as_str() {
            "DR" => Ok(LbKind::Dr),
            "TUN" => Ok(LbKind::Tun),
            "NAT" => Ok(LbKind::Nat),
            other => Err(err(format!("unknown sorry_server_lvs_method {other}"))),
        })
        .transpose()?
        .unwrap_or(vs.lb_kind());
    let sorry = vs
        .sorry_server
        .as_ref()
        .map(|s| {
            dest(
                SocketAddr::new(s.addr, s.port.or(vs_port).unwrap_or(0)),
                sorry_kind,
            )
        })
        .transpose()?;
    Ok(ServiceTable {
        services,
        real_servers,
        sorry,
    })
}

/// `192.0.2.1-10` → .1 to .10 (the last byte; the last 16-bit group for IPv6).
fn expand(first: IpAddr, end: Option<u16>) -> Result<Vec<IpAddr>, String> {
    let Some(end) = end else {
        return Ok(vec![first]);
    };
    match first {
        IpAddr::V4(a) => {
            let o = a.octets();
            if end > 255 || end < u16::from(o[3]) {
                return Err(format!("bad address range {a}-{end}"));
            }
            Ok((u16::from(o[3])..=end)
                .map(|b| IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], b as u8)))
                .collect())
        }
        IpAddr::V6(a) => {
            let mut s = a.segments();
            if end < s[7] {
                return Err(format!("bad address range {a}-{end:x}"));
            }
            Ok((s[7]..=end)
                .map(|g| {
                    s[7] = g;
                    IpAddr::V6(Ipv6Addr::from(s))
                })
                .collect())
        }
    }
}

/// `255.255.255.0`, `24` (IPv4) or `64` (IPv6).
fn netmask(g: &str, family: Family) -> Result<Netmask, String> {
    let bad = || format!("bad persistence_granularity {g:?}");
    match family {
        Family::Inet => {
            if let Ok(m) = g.parse::<Ipv4Addr>() {
                return Ok(Netmask::V4(m));
            }
            let p: u32 = g.parse().map_err(|_| bad())?;
            if p > 32 {
                return Err(bad());
            }
            let bits = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            Ok(Netmask::V4(Ipv4Addr::from(bits)))
        }
        Family::Inet6 => {
            let p: u32 = g.parse().map_err(|_| bad())?;
            if !(1..=128).contains(&p) {
                return Err(bad());
            }
            Ok(Netmask::V6(p))
        }
    }
}

/// The words after `lb_kind TUN`: `type ipip|gre|gue port N`, `csum|nocsum|remcsum`.
fn tunnel_options(words: &[String]) -> Result<(TunnelType, u16, TunnelCsum), String> {
    let mut out = (TunnelType::Ipip, 0, TunnelCsum::NoCsum);
    let mut it = words.iter().map(String::as_str);
    while let Some(w) = it.next() {
        match w {
            "type" => {
                out.0 = match it.next() {
                    Some("ipip") => TunnelType::Ipip,
                    Some("gre") => TunnelType::Gre,
                    Some("gue") => TunnelType::Gue,
                    other => return Err(format!("bad tunnel type {other:?}")),
                }
            }
            "port" => {
                out.1 = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("bad tunnel port")?;
            }
            "csum" => out.2 = TunnelCsum::Csum,
            "remcsum" => out.2 = TunnelCsum::RemCsum,
            "nocsum" => out.2 = TunnelCsum::NoCsum,
            other => return Err(format!("unknown tunnel option {other:?}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        let out = keepalived_conf::parse_str(text, &Default::default());
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        out.config
    }

    #[test]
    fn keepalived_defaults_nat_wlc_weight_1() {
        let c = cfg(
            "virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 8080 {\n }\n real_server 198.51.100.2 {\n }\n}\n",
        );
        let t = table(&c, &c.virtual_servers[0]).unwrap();
        assert_eq!(t.services.len(), 1);
        assert_eq!(t.services[0].scheduler.name(), "wlc");
        assert!(t.services[0].flags.is_empty());
        assert_eq!(t.real_servers[0].forward, Forward::Masq);
        assert_eq!(t.real_servers[0].weight, 1);
        assert_eq!(t.real_servers[0].addr.to_string(), "198.51.100.1:8080");
        // No port on the real server: the virtual server's.
        assert_eq!(t.real_servers[1].addr.to_string(), "198.51.100.2:80");
        assert_eq!(key_label(&t.services[0].key), "TCP 192.0.2.1:80");
    }

    #[test]
    fn group_ranges_fwmark_ops_flags_granularity_sorry() {
        let c = cfg(
            "virtual_server_group G {\n 192.0.2.1-3 80\n fwmark 7\n}\nvirtual_server group G {\n protocol UDP\n lb_algo sh\n sh-port\n ops\n persistence_timeout 30\n persistence_granularity 255.255.255.0\n lb_kind DR\n sorry_server 198.51.100.9 80\n real_server 198.51.100.1 80 {\n  weight 2\n }\n}\n",
        );
        let t = table(&c, &c.virtual_servers[0]).unwrap();
        let keys: Vec<String> = t.services.iter().map(|s| key_label(&s.key)).collect();
        assert_eq!(
            keys,
            [
                "UDP 192.0.2.1:80",
                "UDP 192.0.2.2:80",
                "UDP 192.0.2.3:80",
                "FWM 7"
            ]
        );
        let s = &t.services[0];
        assert!(
            s.flags
                .contains(ServiceFlags::ONEPACKET | ServiceFlags::SCHED_SH_PORT)
        );
        assert_eq!(s.netmask, Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(s.timeout, 30);
        assert_eq!(t.sorry.unwrap().addr.to_string(), "198.51.100.9:80");
        assert_eq!(t.sorry.unwrap().forward, Forward::DirectRoute);
    }

    #[test]
    fn push_addr_writes_what_display_writes() {
        for a in [
            "0.0.0.0:0",
            "192.0.2.1:80",
            "255.255.255.255:65535",
            "10.20.3.100:1024",
            "[2001:db8::1]:53",
            "[::ffff:192.0.2.1]:8080",
        ] {
            let addr: SocketAddr = a.parse().unwrap();
            let mut s = String::new();
            push_addr(&mut s, &addr);
            assert_eq!(s, addr.to_string());
        }
        for ip in ["0.0.0.0", "9.99.199.255", "203.0.113.62"] {
            let ip: Ipv4Addr = ip.parse().unwrap();
            let mut s = String::new();
            push_ipv4(&mut s, &ip);
            assert_eq!(s, ip.to_string());
        }
    }

    #[test]
    fn tunnel_options_and_missing_group() {
        let c = cfg(
            "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_kind TUN type gue port 6080 csum\n real_server 198.51.100.1 80 {\n }\n}\n",
        );
        let d = table(&c, &c.virtual_servers[0]).unwrap().real_servers[0];
        assert_eq!(
            (d.forward, d.tun_type, d.tun_port, d.tun_flags),
            (Forward::Tunnel, TunnelType::Gue, 6080, TunnelCsum::Csum)
        );
        let mut c2 = c.clone();
        c2.virtual_servers[0].address = VsAddress::Group { name: "X".into() };
        let e = table(&c2, &c2.virtual_servers[0]).unwrap_err();
        assert!(
            e.to_string()
                .contains("no virtual_server_group named \"X\"")
        );
    }
}
