//! LVS-TUN real server in the kernel lab (ipip is loaded there, so every namespace has `tunl0`):
//! what the seed's `lvs_tun.sh start` does, with lvs-vip and lvs-sysctl, checked end to end with
//! IPIP traffic from a director namespace. Prints SKIP outside the lab.

use std::net::IpAddr;
use std::time::Duration;

use lvs_lab::skip_unless_lab;
use lvs_sysctl::{
    Expect, IfName, Ipv4Conf, Key, Mode, Procfs, Profile, Scope, Snapshot, Source, apply, diagnose,
    revert,
};
use lvs_testkit::{Netns, udp_round_trip, veth};
use lvs_vip::{Netlink, Outcome};

const VIP: &str = "192.0.2.10";
const PORT: u16 = 5000;

fn v4(scope: &str, p: Ipv4Conf) -> Key {
    Key::ipv4(Scope::from_dir_name(scope).unwrap(), p)
}

/// A UDP request from the director to the VIP through its IPIP tunnel, answered by the real
/// server: the request is decapsulated on tunl0 and the answer goes straight back over eth0 (the
/// TUN data path). True when the answer arrives within 2 s.
fn probe_vip(director: &Netns, rs: &Netns) -> bool {
    let vip: IpAddr = VIP.parse().unwrap();
    let from: IpAddr = "198.51.100.1".parse().unwrap();
    udp_round_trip(
        director,
        from,
        rs,
        (vip, PORT).into(),
        Duration::from_secs(2),
    )
}

#[test]
fn tun_real_server_up_status_down() {
    if skip_unless_lab("tun_real_server_up_status_down") {
        return;
    }
    let director = Netns::new("tun-d").unwrap();
    let rs = Netns::new("tun-rs").unwrap();
    veth(&director, "eth0", &rs, "eth0").unwrap();
    director
        .run(&["ip", "address", "add", "198.51.100.1/24", "dev", "eth0"])
        .unwrap();
    rs.run(&["ip", "address", "add", "198.51.100.2/24", "dev", "eth0"])
        .unwrap();
    // The director's side of LVS-TUN: IPIP to the real server for the VIP.
    director
        .run(&[
            "ip",
            "link",
            "add",
            "t1",
            "type",
            "ipip",
            "remote",
            "198.51.100.2",
            "local",
            "198.51.100.1",
        ])
        .unwrap();
    director.run(&["ip", "link", "set", "t1", "up"]).unwrap();
    director
        .run(&["ip", "route", "add", &format!("{VIP}/32"), "dev", "t1"])
        .unwrap();
    // A distribution-style strict reverse-path filter on the real server.
    rs.run(&["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"])
        .unwrap();
    rs.run(&["sysctl", "-q", "-w", "net.ipv4.conf.default.rp_filter=1"])
        .unwrap();

    let vip: IpAddr = VIP.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tun.json");
    let expect = Expect {
        arp_ifaces: vec![IfName::new("eth0").unwrap()],
        ..Expect::new(Mode::Tun, [vip])
    };

    // `up`, part 1: tunl0 with the VIP (idempotent), as lvs_tun.sh start.
    let (first, again, before, not_ready) = rs
        .enter(|| {
            let nl = Netlink::new().unwrap();
            let sys = Procfs::system();
            let before = Snapshot::capture(&sys).unwrap();
            let first = nl.ensure_tunl0_vip(VIP.parse().unwrap()).unwrap();
            let again = nl.ensure_tunl0_vip(VIP.parse().unwrap()).unwrap();
            let d = diagnose(&sys, &expect, Some(&nl.host_facts().unwrap())).unwrap();
            (first, again, before, d)
        })
        .unwrap();
    assert_eq!((first, again), (Outcome::Changed, Outcome::Unchanged));
    let shown = rs
        .run(&["ip", "-4", "-o", "address", "show", "dev", "tunl0"])
        .unwrap();
    assert!(
        shown.contains(&format!("inet {VIP}/32 brd {VIP}")),
        "{shown}"
    );
    let shown = rs.run(&["ip", "route", "show", VIP]).unwrap();
    assert!(shown.contains("dev tunl0"), "{shown}");

    // Not ready yet: rp_filter is strict through all, and the ARP sysctls are unset.
    assert!(!not_ready.ready());
    let rp = not_ready
        .wrong()
        .find(|c| c.subject == "rp_filter on tunl0")
        .unwrap();
    assert!(
        rp.detail
            .starts_with("rp_filter on tunl0 is 1 = max(all=1, tunl0="),
        "{}",
        rp.detail
    );
    assert!(
        !probe_vip(&director, &rs),
        "strict rp_filter must drop the decapsulated request"
    );

    // `up`, part 2: the TUN profile.
    let ready = rs
        .enter(|| {
            let sys = Procfs::system();
            let plan = Profile::tun([IfName::new("eth0").unwrap()])
                .plan(&sys)
                .unwrap();
            apply(&sys, &plan, &state).unwrap();
            let nl = Netlink::new().unwrap();
            diagnose(&sys, &expect, Some(&nl.host_facts().unwrap())).unwrap()
        })
        .unwrap();
    assert!(ready.ready(), "{ready}");
    assert!(
        probe_vip(&director, &rs),
        "the real server answers for the VIP"
    );
    // Filtering elsewhere is unchanged: eth0 got all's strict value.
    let eth0 = rs
        .run(&["sysctl", "-n", "net.ipv4.conf.eth0.rp_filter"])
        .unwrap();
    assert_eq!(eth0.trim(), "1");

    // `down`: revert the sysctls and remove the VIP; everything is as before.
    let after = rs
        .enter(|| {
            let sys = Procfs::system();
            revert(&sys, &state).unwrap();
            let nl = Netlink::new().unwrap();
            assert_eq!(
                nl.remove_host_route(VIP.parse().unwrap(), "tunl0").unwrap(),
                Outcome::Changed
            );
            assert_eq!(
                nl.remove_address("tunl0", VIP.parse().unwrap()).unwrap(),
                Outcome::Changed
            );
            let snap = Snapshot::capture(&sys).unwrap();
            assert_eq!(sys.get(&v4("all", Ipv4Conf::RpFilter)).unwrap(), 1);
            snap
        })
        .unwrap();
    // Every value that existed before is back. tunl0's own conf directory only appears once the
    // device is up (its MTU becomes valid then), so it was not in `before`; its rp_filter is back
    // to what the kernel gave it (copied from default, 1).
    for (k, v) in before.iter() {
        assert_eq!(after.value(k), Some(v), "{k}");
    }
    assert_eq!(after.value(&v4("tunl0", Ipv4Conf::RpFilter)), Some(1));
    assert!(!probe_vip(&director, &rs));
}
