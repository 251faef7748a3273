//! SIGHUP reload of the VRRP side: an unchanged instance is left alone (no state change, no
//! gratuitous ARP, no VIP flap); a VIP added to the file is added and announced by the master
//! without an election.

mod vrrp_support;

use std::time::Duration;

use lvs_testkit::{skip_unless, wait_until};
use vrrp_support::*;

const VIP2: &str = "203.0.113.63";

fn entering(log: &str) -> usize {
    log.matches("Entering ").count()
}

#[test]
fn reload_keeps_unchanged_instances_and_adds_a_vip() {
    if skip_unless(
        "reload_keeps_unchanged_instances_and_adds_a_vip",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let p = Pair::new("lvsdrl");
    // Each node runs from a copy of its file, so the test can rewrite it before SIGHUP.
    let ca = p.conf_from("node-a.conf", "a.conf", |t| t);
    let cb = p.conf_from("node-b.conf", "b.conf", |t| t);
    let a = p.start_path(&p.a, &ca, "a.log");
    let b = p.start_path(&p.b, &cb, "b.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A: {}",
        p.log("a.log")
    );
    assert!(
        wait_until(Duration::from_secs(5), POLL, || p
            .log("b.log")
            .contains("Entering BACKUP STATE")),
        "B: {}",
        p.log("b.log")
    );
    // Let A's start-up GARP burst (5 at once, 5 more after garp_master_delay 5 s) finish.
    std::thread::sleep(Duration::from_secs(6));
    let arp = Capture::start(&p, p.lan.ns(), "arp.txt", &["-i", "br0", "arp"]);
    let (ea, eb) = (entering(&p.log("a.log")), entering(&p.log("b.log")));

    // 1. The same file: nothing moves.
    signal(&a, "HUP");
    signal(&b, "HUP");
    assert!(
        wait_until(Duration::from_secs(5), POLL, || p
            .log("a.log")
            .contains("reload: unchanged")
            && p.log("b.log").contains("reload: unchanged")),
        "A: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    std::thread::sleep(Duration::from_secs(4));
    let (la, lb) = (p.log("a.log"), p.log("b.log"));
    assert_eq!(entering(&la), ea, "A changed state on reload: {la}");
    assert_eq!(entering(&lb), eb, "B changed state on reload: {lb}");
    assert!(!la.contains("VIP removed"), "A flapped its VIP: {la}");
    assert!(holds_vip(&p.a) && !holds_vip(&p.b), "A: {la}\nB: {lb}");
    let cap = arp.text();
    assert!(
        !cap.contains(&format!("tell {VIP}")),
        "gratuitous ARP on an unchanged reload: {cap}"
    );

    // 2. A VIP added on both nodes (v2 adverts carry the address list: both must agree).
    let add = |t: String| {
        t.replace(
            "        203.0.113.62\n",
            "        203.0.113.62\n        203.0.113.63\n",
        )
    };
    std::fs::write(&cb, add(std::fs::read_to_string(&cb).expect("read"))).expect("write");
    std::fs::write(&ca, add(std::fs::read_to_string(&ca).expect("read"))).expect("write");
    signal(&b, "HUP");
    signal(&a, "HUP");
    assert!(
        wait_until(Duration::from_secs(5), POLL, || holds(&p.a, "eth0", VIP2)),
        "A did not add {VIP2}: {}",
        p.log("a.log")
    );
    assert!(
        wait_until(Duration::from_secs(3), POLL, || arp.text().lines().any(
            |l| { l.contains(&format!("who-has {VIP2} ")) && l.contains(&format!("tell {VIP2}")) }
        )),
        "no gratuitous ARP for {VIP2}: {}",
        arp.text()
    );
    // Longer than B's Master_Down_Interval: B accepts A's new list and stays backup.
    std::thread::sleep(MDI_B);
    let (la, lb) = (p.log("a.log"), p.log("b.log"));
    assert_eq!(entering(&la), ea, "A changed state on reload: {la}");
    assert_eq!(entering(&lb), eb, "B changed state on reload: {lb}");
    assert!(!la.contains("VIP removed"), "A flapped its VIP: {la}");
    assert!(holds_vip(&p.a), "A lost {VIP}: {la}");
    assert!(!holds_vip(&p.b) && !holds(&p.b, "eth0", VIP2), "B: {lb}");
    drop(arp);
    kill(a);
    kill(b);
}

/// The NAT pair: A drops VI_2 from its file and reloads (VI_2 stops with priority 0, its VIP
/// goes, B takes it within Skew_Time, VI_1 does not move), then puts it back (a new VI_2
/// starts and, priority 100 against 90, preempts B).
#[test]
fn reload_removes_and_adds_an_instance() {
    if skip_unless("reload_removes_and_adds_an_instance", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdra");
    let private = lvs_testkit::Lan::new("lvsdrap").expect("private lan");
    for (ns, ip) in [(&p.a, "198.51.100.1/24"), (&p.b, "198.51.100.2/24")] {
        private.attach(ns, "eth1").expect("attach eth1");
        ns.run(&["ip", "addr", "add", ip, "dev", "eth1"])
            .expect("address");
    }
    let gw = "198.51.100.252";
    let full = std::fs::read_to_string(data("nat-a.conf")).expect("read");
    let ca = p.conf_from("nat-a.conf", "a.conf", |t| t);
    let a = p.start_path(&p.a, &ca, "a.log");
    let b = p.start(&p.b, "nat-b.conf", "b.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && holds(&p.a, "eth1", gw)),
        "A: {}",
        p.log("a.log")
    );
    std::thread::sleep(Duration::from_secs(1));
    let vi1_changes = |log: &str| {
        log.lines()
            .filter(|l| l.contains("instance=VI_1") && l.contains("Entering "))
            .count()
    };
    let before = vi1_changes(&p.log("a.log"));

    // Without VI_2.
    let start = full.find("vrrp_instance VI_2 {").expect("VI_2");
    let end = start + full[start..].find("\n}\n").expect("end of VI_2") + 3;
    std::fs::write(&ca, format!("{}{}", &full[..start], &full[end..])).expect("write");
    let t0 = std::time::Instant::now();
    signal(&a, "HUP");
    assert!(
        wait_until(Duration::from_secs(3), POLL, || holds(&p.b, "eth1", gw)),
        "B did not take VI_2\nA: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    let took = t0.elapsed();
    assert!(took <= SKEW_B + Duration::from_millis(600), "took {took:?}");
    assert!(
        !holds(&p.a, "eth1", gw),
        "A kept VI_2's VIP: {}",
        p.log("a.log")
    );
    assert!(
        p.log("a.log").contains("instance stopped"),
        "{}",
        p.log("a.log")
    );
    assert!(
        p.log("b.log").lines().any(|l| l.contains("instance=VI_2")
            && l.contains("to=master reason=master sent priority 0")),
        "{}",
        p.log("b.log")
    );

    // VI_2 back: it starts anew and preempts B.
    std::fs::write(&ca, &full).expect("write");
    signal(&a, "HUP");
    assert!(
        wait_until(Duration::from_secs(8), POLL, || holds(&p.a, "eth1", gw)
            && !holds(&p.b, "eth1", gw)),
        "A did not take VI_2 back\nA: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    let alog = p.log("a.log");
    assert_eq!(vi1_changes(&alog), before, "VI_1 moved: {alog}");
    assert!(holds_vip(&p.a) && !holds_vip(&p.b), "A: {alog}");
    kill(a);
    kill(b);
}

/// The seed's NAT directors with VI_1 and VI_2 in `vrrp_sync_group VG_1`: a reload that moves
/// VI_2's gateway address reconfigures the group in place (the old address goes, the new one
/// comes, no member changes state on either node) instead of restarting the group.
#[test]
fn reload_reconfigures_a_sync_group_member_in_place() {
    if skip_unless("reload_reconfigures_a_sync_group_member_in_place", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdrg");
    let private = lvs_testkit::Lan::new("lvsdrgp").expect("private lan");
    for (ns, ip) in [(&p.a, "198.51.100.1/24"), (&p.b, "198.51.100.2/24")] {
        private.attach(ns, "eth1").expect("attach eth1");
        ns.run(&["ip", "addr", "add", ip, "dev", "eth1"])
            .expect("address");
    }
    let group = "vrrp_sync_group VG_1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n\n";
    let ca = p.conf_from("nat-a.conf", "a.conf", |t| format!("{group}{t}"));
    let cb = p.conf_from("nat-b.conf", "b.conf", |t| format!("{group}{t}"));
    let a = p.start_path(&p.a, &ca, "a.log");
    let b = p.start_path(&p.b, &cb, "b.log");
    let (old_gw, new_gw) = ("198.51.100.252", "198.51.100.251");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && holds(&p.a, "eth1", old_gw)),
        "A: {}",
        p.log("a.log")
    );
    assert!(
        wait_until(Duration::from_secs(5), POLL, || p
            .log("b.log")
            .matches("Entering BACKUP STATE")
            .count()
            >= 2),
        "B: {}",
        p.log("b.log")
    );
    std::thread::sleep(Duration::from_secs(1));
    let (ea, eb) = (entering(&p.log("a.log")), entering(&p.log("b.log")));
    for c in [&cb, &ca] {
        let t = std::fs::read_to_string(c).expect("read");
        std::fs::write(c, t.replace(old_gw, new_gw)).expect("write");
    }
    signal(&b, "HUP");
    signal(&a, "HUP");
    assert!(
        wait_until(Duration::from_secs(5), POLL, || holds(&p.a, "eth1", new_gw)
            && !holds(&p.a, "eth1", old_gw)),
        "A did not move the gateway: {}",
        p.log("a.log")
    );
    std::thread::sleep(Duration::from_secs(3));
    let (la, lb) = (p.log("a.log"), p.log("b.log"));
    for l in [&la, &lb] {
        assert!(l.contains("sync group reconfigured in place"), "{l}");
    }
    assert_eq!(entering(&la), ea, "A changed state on reload: {la}");
    assert_eq!(entering(&lb), eb, "B changed state on reload: {lb}");
    assert!(holds_vip(&p.a) && holds(&p.a, "eth1", new_gw), "A: {la}");
    assert!(
        !holds_vip(&p.b) && !holds(&p.b, "eth1", new_gw) && !holds(&p.b, "eth1", old_gw),
        "B: {lb}"
    );
    kill(a);
    kill(b);
}
