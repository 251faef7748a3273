//! proptest strategies shared by the codec and ipvsadm tests.

use crate::types::*;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub(crate) fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}
pub(crate) fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (
            prop_oneof![
                Just(Protocol::Tcp),
                Just(Protocol::Udp),
                Just(Protocol::Sctp)
            ],
            ip(),
            any::<u16>()
        )
            .prop_map(|(protocol, ip, port)| ServiceKey::Addr {
                protocol,
                addr: SocketAddr::new(ip, port)
            }),
        (1..=u32::MAX, any::<bool>()).prop_map(|(mark, v6)| ServiceKey::Fwmark {
            mark,
            family: if v6 { Family::Inet6 } else { Family::Inet }
        }),
    ]
}
pub(crate) fn sched() -> impl Strategy<Value = Scheduler> {
    prop_oneof![
        Just("rr"),
        Just("wrr"),
        Just("lc"),
        Just("wlc"),
        Just("lblc"),
        Just("lblcr"),
        Just("dh"),
        Just("sh"),
        Just("sed"),
        Just("nq"),
        Just("fo"),
        Just("ovf"),
        Just("mh"),
        Just("twos"),
        Just("none"),
        Just("xyz")
    ]
    .prop_map(Scheduler::from_name)
}
pub(crate) fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        sched(),
        any::<u32>(),
        any::<u32>(),
        any::<[u8; 4]>(),
        1u32..=128,
        proptest::option::of("[a-z]{1,15}"),
    )
        .prop_map(
            |(key, scheduler, flags, timeout, m4, m6, pe_name)| Service {
                key,
                scheduler,
                flags: ServiceFlags::from_bits_retain(flags),
                timeout,
                netmask: match key.family() {
                    Family::Inet => Netmask::V4(Ipv4Addr::from(m4)),
                    Family::Inet6 => Netmask::V6(m6),
                },
                pe_name,
            },
        )
}
pub(crate) fn dest() -> impl Strategy<Value = Destination> {
    (
        ip(),
        any::<u16>(),
        0u32..5,
        any::<i32>(),
        any::<u32>(),
        any::<u32>(),
        0u8..3,
        any::<u16>(),
        0u16..3,
    )
        .prop_map(|(ip, port, fwd, weight, u, l, tt, tp, tf)| Destination {
            addr: SocketAddr::new(ip, port),
            forward: Forward::from_raw(fwd).unwrap(),
            weight,
            upper_threshold: u,
            lower_threshold: l,
            tun_type: TunnelType::from_raw(tt).unwrap(),
            tun_port: tp,
            tun_flags: TunnelCsum::from_raw(tf).unwrap(),
        })
}
pub(crate) fn stats() -> impl Strategy<Value = Stats> {
    any::<[u32; 8]>().prop_flat_map(|a| {
        (any::<u64>(), any::<u64>()).prop_map(move |(ib, ob)| Stats {
            conns: a[0],
            inpkts: a[1],
            outpkts: a[2],
            inbytes: ib,
            outbytes: ob,
            cps: a[3],
            inpps: a[4],
            outpps: a[5],
            inbps: a[6],
            outbps: a[7],
        })
    })
}
pub(crate) fn stats64() -> impl Strategy<Value = Stats64> {
    any::<[u64; 10]>().prop_map(|a| Stats64 {
        conns: a[0],
        inpkts: a[1],
        outpkts: a[2],
        inbytes: a[3],
        outbytes: a[4],
        cps: a[5],
        inpps: a[6],
        outpps: a[7],
        inbps: a[8],
        outbps: a[9],
    })
}
pub(crate) fn daemon() -> impl Strategy<Value = SyncDaemon> {
    (
        any::<bool>(),
        "[a-z0-9]{1,15}",
        any::<u32>(),
        proptest::option::of(any::<u16>()),
        proptest::option::of(ip().prop_filter("non-zero", |i| !i.is_unspecified())),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(|(m, ifn, id, ml, g, p, t)| SyncDaemon {
            state: if m {
                DaemonState::Master
            } else {
                DaemonState::Backup
            },
            mcast_ifn: ifn,
            sync_id: id,
            sync_maxlen: ml,
            mcast_group: g,
            mcast_port: p,
            mcast_ttl: t,
        })
}
