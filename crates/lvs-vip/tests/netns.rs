//! Root tests against the real kernel, each inside network namespaces it creates (documentation
//! addresses only). The rtnetlink socket is opened on a thread that has entered the namespace.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use lvs_testkit::{Netns, skip_unless, veth};
use lvs_vip::{
    AddrScope, AddressSpec, Announcer, Error, Family, GarpKind, MacAddr, MacvlanMode, Netlink,
    Outcome, VmacSpec, garp_frame, na_frame,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ns_with_veth(tag: &str) -> Netns {
    let ns = Netns::new(tag).unwrap();
    ns.run(&[
        "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ])
    .unwrap();
    ns.run(&["ip", "link", "set", "eth0", "up"]).unwrap();
    ns.run(&["ip", "link", "set", "eth1", "up"]).unwrap();
    ns
}

#[test]
fn vip_on_lo_is_idempotent_and_fixes_a_wide_mask() {
    if skip_unless("vip_on_lo_is_idempotent_and_fixes_a_wide_mask", &["ip"]) {
        return;
    }
    let ns = ns_with_veth("vip-addr");
    // The classic mistake already in place: the VIP on lo as /24.
    ns.run(&["ip", "address", "add", "192.0.2.10/24", "dev", "lo"])
        .unwrap();
    let spec = AddressSpec::vip("lo", ip("192.0.2.10")).label("lo:0");
    let (first, second, facts) = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            let first = nl.ensure_address(&spec).unwrap();
            let second = nl.ensure_address(&spec).unwrap();
            (first, second, nl.host_facts().unwrap())
        })
        .unwrap();
    assert_eq!((first, second), (Outcome::Changed, Outcome::Unchanged));
    let shown = ns
        .run(&["ip", "-4", "-o", "address", "show", "dev", "lo"])
        .unwrap();
    assert!(
        shown.contains("inet 192.0.2.10/32 scope global lo:0"),
        "{shown}"
    );
    assert!(!shown.contains("192.0.2.10/24"), "{shown}");
    let f = facts
        .addresses
        .iter()
        .find(|a| a.addr == ip("192.0.2.10"))
        .unwrap();
    assert_eq!((f.iface.as_str(), f.prefix), ("lo", 32));

    let (v6, rm, rm2) = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            let v6 = nl
                .ensure_address(&AddressSpec::vip("lo", ip("2001:db8::10")))
                .unwrap();
            let rm = nl.remove_address("lo", ip("192.0.2.10")).unwrap();
            let rm2 = nl.remove_address("lo", ip("192.0.2.10")).unwrap();
            (v6, rm, rm2)
        })
        .unwrap();
    assert_eq!(
        (v6, rm, rm2),
        (Outcome::Changed, Outcome::Changed, Outcome::Unchanged)
    );
    let shown = ns
        .run(&["ip", "-o", "address", "show", "dev", "lo"])
        .unwrap();
    assert!(shown.contains("inet6 2001:db8::10/128"), "{shown}");
    assert!(!shown.contains("192.0.2.10"), "{shown}");
}

#[test]
fn scope_and_broadcast() {
    if skip_unless("scope_and_broadcast", &["ip"]) {
        return;
    }
    let ns = ns_with_veth("vip-scope");
    let vip = "198.51.100.20".parse().unwrap();
    let spec = AddressSpec::vip("eth0", IpAddr::V4(vip))
        .broadcast(vip)
        .scope(AddrScope::Host);
    let outcomes = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            let a = nl.ensure_address(&spec).unwrap();
            let b = nl.ensure_address(&spec).unwrap();
            // Same address, another scope: replaced.
            let c = nl
                .ensure_address(&spec.clone().scope(AddrScope::Global))
                .unwrap();
            (a, b, c)
        })
        .unwrap();
    assert_eq!(
        outcomes,
        (Outcome::Changed, Outcome::Unchanged, Outcome::Changed)
    );
    let shown = ns
        .run(&["ip", "-4", "-o", "address", "show", "dev", "eth0"])
        .unwrap();
    assert!(
        shown.contains("inet 198.51.100.20/32 brd 198.51.100.20 scope global eth0"),
        "{shown}"
    );
}

#[test]
fn errors_name_the_interface_and_the_errno() {
    if skip_unless("errors_name_the_interface_and_the_errno", &["ip"]) {
        return;
    }
    let ns = ns_with_veth("vip-err");
    let (missing, tunl0, unreachable) = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            (
                nl.ensure_address(&AddressSpec::vip("eth9", ip("192.0.2.1")))
                    .unwrap_err(),
                // Without the ipip module there is no tunl0 (this machine); the lab has one.
                match nl.link("tunl0") {
                    Err(_) => Some(
                        nl.ensure_tunl0_vip("192.0.2.1".parse().unwrap())
                            .unwrap_err(),
                    ),
                    Ok(_) => None,
                },
                nl.ensure_default_route(ip("203.0.113.1")).unwrap_err(),
            )
        })
        .unwrap();
    assert!(
        matches!(&missing, Error::NoSuchInterface(n) if n == "eth9"),
        "{missing}"
    );
    if let Some(tunl0) = tunl0 {
        let t = tunl0.to_string();
        assert!(t.contains("modprobe ipip"), "{t}");
    }
    let u = unreachable.to_string();
    assert!(
        matches!(unreachable, Error::Netlink { errno, .. } if errno == libc_enetunreach()),
        "{u}"
    );
    assert!(
        u.starts_with("cannot set the default route via 203.0.113.1: Network is unreachable"),
        "{u}"
    );
}

/// ENETUNREACH on Linux.
fn libc_enetunreach() -> i32 {
    101
}

#[test]
fn default_route_for_a_nat_real_server() {
    if skip_unless("default_route_for_a_nat_real_server", &["ip"]) {
        return;
    }
    let ns = ns_with_veth("vip-gw");
    ns.run(&["ip", "address", "add", "198.51.100.2/24", "dev", "eth0"])
        .unwrap();
    let (a, b, c, gws, d, e, after) = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            let a = nl.ensure_default_route(ip("198.51.100.1")).unwrap();
            let b = nl.ensure_default_route(ip("198.51.100.1")).unwrap();
            let c = nl.ensure_default_route(ip("198.51.100.254")).unwrap();
            let gws = nl.default_gateways().unwrap();
            let d = nl.remove_default_route(ip("198.51.100.254")).unwrap();
            let e = nl.remove_default_route(ip("198.51.100.254")).unwrap();
            (a, b, c, gws, d, e, nl.default_gateways().unwrap())
        })
        .unwrap();
    assert_eq!(
        (a, b, c),
        (Outcome::Changed, Outcome::Unchanged, Outcome::Changed)
    );
    assert_eq!(gws, vec![ip("198.51.100.254")], "replace, not add");
    assert_eq!((d, e), (Outcome::Changed, Outcome::Unchanged));
    assert!(after.is_empty());
}

#[test]
fn host_route_through_a_device() {
    if skip_unless("host_route_through_a_device", &["ip"]) {
        return;
    }
    let ns = ns_with_veth("vip-hr");
    let outcomes = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            let a = nl.ensure_host_route(ip("192.0.2.10"), "eth0").unwrap();
            let b = nl.ensure_host_route(ip("192.0.2.10"), "eth0").unwrap();
            (a, b)
        })
        .unwrap();
    assert_eq!(outcomes, (Outcome::Changed, Outcome::Unchanged));
    let shown = ns.run(&["ip", "route", "show", "192.0.2.10"]).unwrap();
    assert_eq!(shown.trim(), "192.0.2.10 dev eth0 proto static scope link");
    let (c, d) = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            (
                nl.remove_host_route(ip("192.0.2.10"), "eth0").unwrap(),
                nl.remove_host_route(ip("192.0.2.10"), "eth0").unwrap(),
            )
        })
        .unwrap();
    assert_eq!((c, d), (Outcome::Changed, Outcome::Unchanged));
    assert_eq!(
        ns.run(&["ip", "route", "show", "192.0.2.10"])
            .unwrap()
            .trim(),
        ""
    );
}

#[test]
fn vrrp_vmac_macvlan() {
    if skip_unless("vrrp_vmac_macvlan", &["ip"]) {
        return;
    }
    let ns = ns_with_veth("vip-vmac");
    let spec = VmacSpec::vrrp("vrrp.51", "eth0", Family::V4, 51, MacvlanMode::Private);
    let r = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            let a = nl.ensure_macvlan(&spec).unwrap();
            let link = nl.link("vrrp.51").unwrap();
            let b = nl.ensure_macvlan(&spec).unwrap();
            let up = nl.set_up("vrrp.51", true).unwrap();
            let other_vrid = nl
                .ensure_macvlan(&VmacSpec::vrrp(
                    "vrrp.51",
                    "eth0",
                    Family::V4,
                    52,
                    MacvlanMode::Private,
                ))
                .unwrap_err();
            let not_macvlan = nl
                .ensure_macvlan(&VmacSpec::vrrp(
                    "eth1",
                    "eth0",
                    Family::V4,
                    51,
                    MacvlanMode::Private,
                ))
                .unwrap_err();
            let v6 = nl
                .ensure_macvlan(&VmacSpec::vrrp(
                    "vrrp6.1",
                    "eth0",
                    Family::V6,
                    1,
                    MacvlanMode::Bridge,
                ))
                .unwrap();
            (a, link, b, up, other_vrid, not_macvlan, v6)
        })
        .unwrap();
    let (a, link, b, up, other_vrid, not_macvlan, v6) = r;
    assert_eq!(
        (a, b, up, v6),
        (
            Outcome::Changed,
            Outcome::Unchanged,
            Outcome::Changed,
            Outcome::Changed
        )
    );
    assert!(!link.up, "created down, so sysctls can be applied first");
    assert_eq!(link.kind.as_deref(), Some("macvlan"));
    assert_eq!(link.mac, Some("00:00:5e:00:01:33".parse().unwrap()));
    let o = other_vrid.to_string();
    assert!(
        o.contains("has MAC 00:00:5e:00:01:33, not 00:00:5e:00:01:34"),
        "{o}"
    );
    let n = not_macvlan.to_string();
    assert!(n.contains("eth1 exists but is a veth link"), "{n}");

    let shown = ns.run(&["ip", "-d", "link", "show", "vrrp.51"]).unwrap();
    assert!(shown.contains("vrrp.51@eth0"), "{shown}");
    assert!(shown.contains("link/ether 00:00:5e:00:01:33"), "{shown}");
    assert!(shown.contains("macvlan mode private"), "{shown}");
    let shown = ns.run(&["ip", "-d", "link", "show", "vrrp6.1"]).unwrap();
    assert!(shown.contains("link/ether 00:00:5e:00:02:01"), "{shown}");
    assert!(shown.contains("macvlan mode bridge"), "{shown}");

    let (rm, rm2) = ns
        .enter(|| {
            let nl = Netlink::new().unwrap();
            (
                nl.remove_link("vrrp.51").unwrap(),
                nl.remove_link("vrrp.51").unwrap(),
            )
        })
        .unwrap();
    assert_eq!((rm, rm2), (Outcome::Changed, Outcome::Unchanged));
}

/// Captures frames from `src_mac` on `ns`'s eth0 while `send` runs; returns the raw frames.
fn capture(
    ns: &Netns,
    filter: &str,
    count: usize,
    send: impl FnOnce(),
) -> (Vec<Vec<u8>>, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cap.pcap");
    let mut child = ns
        .cmd("tcpdump")
        .args(["-i", "eth0", "-U", "-n", "-c", &count.to_string(), "-w"])
        .arg(&path)
        .arg(filter)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded by tcpdump's own output) until it is listening.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    for _ in 0..10 {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 || line.contains("listening on") {
            break;
        }
    }
    assert!(
        line.contains("listening on"),
        "tcpdump did not start: {line}"
    );
    send();
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tcpdump did not see {count} frame(s) within 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let file = std::fs::File::open(&path).unwrap();
    let mut reader = pcap_file::pcap::PcapReader::new(file).unwrap();
    let mut frames = Vec::new();
    while let Some(p) = reader.next_packet() {
        frames.push(p.unwrap().data.into_owned());
    }
    (frames, path, dir)
}

#[test]
fn gratuitous_arp_on_the_wire() {
    if skip_unless("gratuitous_arp_on_the_wire", &["ip", "tcpdump", "tshark"]) {
        return;
    }
    let a = Netns::new("vip-garp-a").unwrap();
    let b = Netns::new("vip-garp-b").unwrap();
    veth(&a, "eth0", &b, "eth0").unwrap();
    let mac = MacAddr::vrrp(Family::V4, 51);
    let vip = "192.0.2.10".parse().unwrap();
    let (frames, path, _dir) = capture(&b, &format!("ether src {mac}"), 2, || {
        a.enter(|| {
            let nl = Netlink::new().unwrap();
            let eth0 = nl.link("eth0").unwrap();
            let ann = Announcer::new(eth0.index, "eth0").unwrap();
            ann.garp(mac, vip, GarpKind::Request).unwrap();
            ann.garp(mac, vip, GarpKind::Reply).unwrap();
        })
        .unwrap();
    });
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0], garp_frame(mac, vip, GarpKind::Request));
    assert_eq!(frames[1], garp_frame(mac, vip, GarpKind::Reply));
    // An independent decoder agrees, field by field.
    let out = std::process::Command::new("tshark")
        .args(["-r"])
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-E",
            "separator=,",
            "-e",
            "eth.dst",
            "-e",
            "eth.src",
            "-e",
            "arp.opcode",
            "-e",
            "arp.src.hw_mac",
            "-e",
            "arp.src.proto_ipv4",
            "-e",
            "arp.dst.hw_mac",
            "-e",
            "arp.dst.proto_ipv4",
            "-e",
            "arp.isgratuitous",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "ff:ff:ff:ff:ff:ff,00:00:5e:00:01:33,1,00:00:5e:00:01:33,192.0.2.10,ff:ff:ff:ff:ff:ff,192.0.2.10,1",
            "ff:ff:ff:ff:ff:ff,00:00:5e:00:01:33,2,00:00:5e:00:01:33,192.0.2.10,00:00:5e:00:01:33,192.0.2.10,1",
        ],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unsolicited_neighbour_advertisement_on_the_wire() {
    if skip_unless(
        "unsolicited_neighbour_advertisement_on_the_wire",
        &["ip", "tcpdump", "tshark"],
    ) {
        return;
    }
    let a = Netns::new("vip-na-a").unwrap();
    let b = Netns::new("vip-na-b").unwrap();
    veth(&a, "eth0", &b, "eth0").unwrap();
    let mac = MacAddr::vrrp(Family::V6, 1);
    let vip = "2001:db8::10".parse().unwrap();
    let (frames, path, _dir) = capture(&b, &format!("ether src {mac}"), 1, || {
        a.enter(|| {
            let nl = Netlink::new().unwrap();
            let ann = Announcer::new(nl.link("eth0").unwrap().index, "eth0").unwrap();
            ann.na(mac, vip, false).unwrap();
        })
        .unwrap();
    });
    assert_eq!(frames, vec![na_frame(mac, vip, false)]);
    let out = std::process::Command::new("tshark")
        .args(["-r"])
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-E",
            "separator=,",
            "-e",
            "eth.dst",
            "-e",
            "ipv6.src",
            "-e",
            "ipv6.dst",
            "-e",
            "ipv6.hlim",
            "-e",
            "icmpv6.type",
            "-e",
            "icmpv6.nd.na.flag.r",
            "-e",
            "icmpv6.nd.na.flag.s",
            "-e",
            "icmpv6.nd.na.flag.o",
            "-e",
            "icmpv6.nd.na.target_address",
            "-e",
            "icmpv6.opt.linkaddr",
            "-e",
            "icmpv6.checksum.status",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        // Flags R=0 S=0 O=1; checksum status 1 = good.
        "33:33:00:00:00:01,2001:db8::10,ff02::1,255,136,0,0,1,2001:db8::10,00:00:5e:00:02:01,1",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
