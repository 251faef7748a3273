//! LVS-TUN real server in the kernel lab (ipip is loaded there, so every namespace has
//! `tunl0`): `up --mode tun` does what the seed's `lvs_tun.sh start` does (tunl0 up, the VIP on
//! it with itself as broadcast, a host route, rp_filter off in effect), `status` says ready,
//! `down` reverts exactly that; and `status` diagnoses rp_filter left on for tunl0/all. Prints
//! SKIP outside the lab (`cargo xtask lab test -p lvs-realserver`).

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{addrs, arp_defaults, arp_values, root_values, rs, set_sysctl, sysctl};
use lvs_lab::skip_unless_lab;
use lvs_testkit::{Netns, udp_round_trip, veth};

const VIP: &str = "198.51.100.62";
const PORT: u16 = 5062;

/// The TUN data path, end to end: a UDP request from `director` to the VIP through its IPIP
/// tunnel, decapsulated on the real server's tunl0 and answered directly from the VIP over
/// eth0. True when the answer arrives within 2 s.
fn vip_answers(director: &Netns, real: &Netns) -> bool {
    let vip: IpAddr = VIP.parse().unwrap();
    let from: IpAddr = "198.51.100.254".parse().unwrap();
    udp_round_trip(
        director,
        from,
        real,
        (vip, PORT).into(),
        Duration::from_secs(2),
    )
}

fn tunl0_up(ns: &Netns) -> bool {
    let l = ns.run(&["ip", "-o", "link", "show", "tunl0"]).unwrap();
    let flags = &l[l.find('<').unwrap()..l.find('>').unwrap()];
    flags.split([',', '<']).any(|f| f == "UP")
}

fn host_route(ns: &Netns) -> String {
    ns.run(&["ip", "route", "show", "exact", "198.51.100.62/32"])
        .unwrap()
}

#[test]
fn tun_up_status_down_and_rp_filter_mistake() {
    if skip_unless_lab("tun_up_status_down_and_rp_filter_mistake") {
        return;
    }
    let root_before = root_values();
    let director = Netns::new("tun-d").unwrap();
    let real = Netns::new("tun-rs").unwrap();
    veth(&director, "eth0", &real, "eth0").unwrap();
    real.run(&["ip", "address", "add", "198.51.100.12/24", "dev", "eth0"])
        .unwrap();
    // The director's side of LVS-TUN: the VIP's packets go through IPIP to the real server.
    director
        .run(&["ip", "address", "add", "198.51.100.254/24", "dev", "eth0"])
        .unwrap();
    for scope in ["all", "default", "eth0"] {
        set_sysctl(&director, &format!("net.ipv4.conf.{scope}.rp_filter"), 0);
    }
    director
        .run(&[
            "ip",
            "link",
            "add",
            "t1",
            "type",
            "ipip",
            "remote",
            "198.51.100.12",
            "local",
            "198.51.100.254",
        ])
        .unwrap();
    director.run(&["ip", "link", "set", "t1", "up"]).unwrap();
    director
        .run(&["ip", "route", "add", "198.51.100.62/32", "dev", "t1"])
        .unwrap();
    arp_defaults(&real, &["eth0", "lo"]);
    // A host with strict reverse-path filtering everywhere (a common distribution default).
    for scope in ["all", "default", "eth0"] {
        set_sysctl(&real, &format!("net.ipv4.conf.{scope}.rp_filter"), 1);
    }
    assert!(!tunl0_up(&real), "tunl0 starts down");
    let before = arp_values(&real, &["eth0", "lo"]);
    let state = tempfile::tempdir().unwrap();
    let st = state.path();
    let tun = ["--mode", "tun", "--vip", VIP, "--dev", "eth0"];
    let cmd = |a: &'static str| -> Vec<&str> { std::iter::once(a).chain(tun).collect() };

    // The dry run plans it without changing anything.
    let mut dry = cmd("up");
    dry.push("--dry-run");
    let r = rs(&real, st, &dry);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("ip link set tunl0 up"), "{r}");
    assert!(
        r.stdout.contains("net.ipv4.conf.tunl0.rp_filter = 0"),
        "{r}"
    );
    assert!(!tunl0_up(&real));

    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 1, "{r}");
    assert!(!vip_answers(&director, &real), "no VIP yet: no answer");

    // up: what lvs_tun.sh start does.
    let r = rs(&real, st, &cmd("up"));
    assert_eq!(r.code, 0, "{r}");
    assert!(tunl0_up(&real), "tunl0 up");
    let a = addrs(&real, "tunl0");
    assert!(a.contains("inet 198.51.100.62/32 brd 198.51.100.62"), "{a}");
    assert!(
        host_route(&real).contains("dev tunl0"),
        "{}",
        host_route(&real)
    );
    assert_eq!(sysctl(&real, "net.ipv4.conf.tunl0.rp_filter"), 0);
    assert_eq!(sysctl(&real, "net.ipv4.conf.all.rp_filter"), 0);
    // all.rp_filter was pushed down first: eth0 keeps filtering.
    assert_eq!(sysctl(&real, "net.ipv4.conf.eth0.rp_filter"), 1);
    assert_eq!(sysctl(&real, "net.ipv4.conf.all.arp_ignore"), 1);

    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("tun real server: ready"), "{r}");
    assert!(
        r.stdout
            .contains("rp_filter on tunl0 is 0 = max(all=0, tunl0=0)"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("[  ok   ] tunnel tunl0 state: tunl0 is up"),
        "{r}"
    );
    assert!(
        vip_answers(&director, &real),
        "after up the real server answers for the VIP over IPIP"
    );

    // down: everything back.
    let r = rs(&real, st, &["down"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(!tunl0_up(&real), "tunl0 down again");
    assert!(!addrs(&real, "tunl0").contains(VIP));
    assert_eq!(host_route(&real).trim(), "");
    assert_eq!(arp_values(&real, &["eth0", "lo"]), before);
    assert!(!vip_answers(&director, &real), "after down no answer");

    // The classic mistake: tunl0 and the VIP by hand, ARP right, rp_filter left on.
    real.run(&["ip", "link", "set", "tunl0", "up"]).unwrap();
    real.run(&["ip", "address", "add", "198.51.100.62/32", "dev", "tunl0"])
        .unwrap();
    set_sysctl(&real, "net.ipv4.conf.all.arp_ignore", 1);
    set_sysctl(&real, "net.ipv4.conf.all.arp_announce", 2);
    set_sysctl(&real, "net.ipv4.conf.tunl0.rp_filter", 1);
    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout.contains(
            "rp_filter on tunl0 is 1 = max(all=1, tunl0=1): decapsulated requests arrive on tunl0"
        ),
        "{r}"
    );
    assert!(
        r.stdout.contains("set net.ipv4.conf.all.rp_filter=0"),
        "{r}"
    );
    assert!(
        r.stdout.contains("set net.ipv4.conf.tunl0.rp_filter=0"),
        "{r}"
    );
    assert!(
        !vip_answers(&director, &real),
        "strict rp_filter drops the decapsulated request"
    );
    // Only all left on: the fix names all alone.
    set_sysctl(&real, "net.ipv4.conf.tunl0.rp_filter", 0);
    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout.contains("set net.ipv4.conf.all.rp_filter=0"),
        "{r}"
    );
    assert!(
        !r.stdout.contains("set net.ipv4.conf.tunl0.rp_filter=0"),
        "{r}"
    );
    // Fixed as the status said: ready, and the data path works.
    set_sysctl(&real, "net.ipv4.conf.all.rp_filter", 0);
    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 0, "{r}");
    assert!(
        vip_answers(&director, &real),
        "with rp_filter off the real server answers"
    );

    assert_eq!(root_values(), root_before, "root namespace untouched");
}
