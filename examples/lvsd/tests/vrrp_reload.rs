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
