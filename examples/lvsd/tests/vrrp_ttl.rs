//! The received TTL (IPv4, from the header) and hop limit (IPv6, from IPV6_RECVHOPLIMIT) must be
//! 255 (RFC 9568 §7.1): a higher-priority "master" whose adverts arrive with 64 is ignored
//! (and counted as `rejected_ttl`), the same adverts with 255 are obeyed.

mod vrrp_support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use lvs_testkit::{Netns, skip_unless, wait_until};
use lvsd::side::Command;
use lvsd::status::{InstanceStatus, Shared};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp_packet::{Addresses, Auth, Envelope, Interval, Repr, Version};
use vrrp_support::*;

fn instance(status: &Shared, name: &str) -> Option<InstanceStatus> {
    status
        .snapshot()
        .instances
        .into_iter()
        .find(|i| i.name == name)
}

fn rejected_ttl(status: &Shared, name: &str) -> u64 {
    instance(status, name)
        .and_then(|i| i.counters.get("rejected_ttl").copied())
        .unwrap_or(0)
}

/// Sends the IPv4 datagram `build` makes from `ns` every 200 ms for `secs` seconds.
fn send_for(ns: &Netns, secs: u64, build: impl Fn() -> (Vec<u8>, SockAddr) + Send) {
    ns.enter(move || {
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).expect("raw4");
        s.set_header_included_v4(true).expect("hdrincl");
        s.bind_device(Some(b"eth0")).expect("bind device");
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(secs) {
            let (bytes, to) = build();
            s.send_to(&bytes, &to).expect("send");
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .expect("enter");
}

#[test]
fn ipv4_adverts_with_ttl_below_255_are_ignored() {
    if skip_unless("ipv4_adverts_with_ttl_below_255_are_ignored", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdttl");
    let (b, sb) = start_in_process(&p.b, &data("node-b.conf"));
    static VIPS: [Ipv4Addr; 1] = [Ipv4Addr::new(203, 0, 113, 62)];
    let advert = |ttl: u8| {
        move || {
            let repr = Repr {
                version: Version::V2,
                vrid: 17,
                priority: 200,
                interval: Interval::from_centis(100),
                auth: Auth::simple_text(b"1717"),
                addresses: Addresses::ipv4(&VIPS),
            };
            let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
            let env = Envelope::new(src, IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)), Version::V2)
                .with_ttl(ttl);
            let mut buf = [0u8; 128];
            let n = vrrp_packet::emit_ip(&repr, &env, &mut buf).expect("emit");
            let to = SockAddr::from(SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 18), 0));
            (buf[..n].to_vec(), to)
        }
    };
    // TTL 64: B ignores the priority-200 "master" and takes over after Master_Down_Interval.
    send_for(&p.a, 5, advert(64));
    let i = instance(&sb, "VI_1").expect("VI_1");
    assert_eq!(i.state, "MASTER", "{i:?}");
    assert!(rejected_ttl(&sb, "VI_1") >= 10, "{i:?}");
    // TTL 255: the same adverts make B back off.
    send_for(&p.a, 2, advert(255));
    assert!(
        wait_until(Duration::from_secs(2), POLL, || instance(&sb, "VI_1")
            .is_some_and(|i| i.state == "BACKUP")),
        "{:?}",
        instance(&sb, "VI_1")
    );
    assert!(b.send(Command::Stop));
    b.join().expect("stopped");
}

#[test]
fn ipv6_adverts_with_hop_limit_below_255_are_ignored() {
    if skip_unless("ipv6_adverts_with_hop_limit_below_255_are_ignored", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdhl");
    for ns in [&p.a, &p.b] {
        assert!(
            wait_until(Duration::from_secs(5), POLL, || ns
                .run(&[
                    "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"
                ])
                .is_ok_and(|o| o.contains("fe80::") && !o.contains("tentative"))),
            "no link-local address"
        );
    }
    let out =
        p.a.run(&[
            "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link",
        ])
        .expect("ip");
    let a_ll: Ipv6Addr = out
        .split_whitespace()
        .find(|w| w.starts_with("fe80::"))
        .and_then(|w| w.split('/').next())
        .expect("link-local")
        .parse()
        .expect("address");
    let (b, sb) = start_in_process(&p.b, &data("v6-b.conf"));
    static VIPS: [Ipv6Addr; 2] = [
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x66),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x66),
    ];
    let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
    let advert = || {
        let repr = Repr {
            version: Version::V3,
            vrid: 66,
            priority: 200,
            interval: Interval::from_centis(100),
            auth: Auth::None,
            addresses: Addresses::ipv6(&VIPS),
        };
        let env = Envelope::new(IpAddr::V6(a_ll), IpAddr::V6(group), Version::V3);
        let mut buf = [0u8; 128];
        let n = vrrp_packet::emit_ip(&repr, &env, &mut buf).expect("emit");
        buf[vrrp_packet::IPV6_HEADER_LEN..n].to_vec()
    };
    let send = |hops: u32, secs: u64| {
        p.a.enter(move || {
            let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(112))).expect("raw6");
            let index = nix::net::if_::if_nametoindex("eth0").expect("eth0");
            s.bind_device(Some(b"eth0")).expect("bind device");
            s.bind(&SockAddr::from(SocketAddrV6::new(a_ll, 0, 0, index)))
                .expect("bind link-local");
            s.set_multicast_if_v6(index).expect("if");
            s.set_multicast_hops_v6(hops).expect("hops");
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(secs) {
                let bytes = advert();
                let to = SockAddr::from(SocketAddrV6::new(group, 0, 0, index));
                s.send_to(&bytes, &to).expect("send");
                std::thread::sleep(Duration::from_millis(200));
            }
        })
        .expect("enter");
    };
    send(64, 5);
    let i = instance(&sb, "VI_6").expect("VI_6");
    assert_eq!(i.state, "MASTER", "{i:?}");
    assert!(rejected_ttl(&sb, "VI_6") >= 10, "{i:?}");
    send(255, 2);
    assert!(
        wait_until(Duration::from_secs(2), POLL, || instance(&sb, "VI_6")
            .is_some_and(|i| i.state == "BACKUP")),
        "{:?}",
        instance(&sb, "VI_6")
    );
    assert!(b.send(Command::Stop));
    b.join().expect("stopped");
}
