//! The VRRP side's status (what `lvsd status` prints): state, master address, counters and the
//! time since the last change, read from `status::Shared` of two subsystems started in-process,
//! each in its own namespace (threads started inside `Netns::enter` stay in the namespace).

mod vrrp_support;

use std::net::IpAddr;
use std::time::Duration;

use lvs_testkit::{Netns, skip_unless, wait_until};
use lvsd::side::Command;
use lvsd::status::{InstanceStatus, Shared};
use vrrp_support::*;

fn vi1(status: &Shared) -> Option<InstanceStatus> {
    status
        .snapshot()
        .instances
        .into_iter()
        .find(|i| i.name == "VI_1")
}

fn counter(i: &InstanceStatus, name: &str) -> u64 {
    i.counters.get(name).copied().unwrap_or(0)
}

#[test]
fn status_reports_master_counters_and_age() {
    if skip_unless("status_reports_master_counters_and_age", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdst");
    let c = Netns::new("lvsdstc").expect("netns c");
    p.lan.attach(&c, "eth0").expect("attach");
    c.run(&["ip", "addr", "add", "192.0.2.3/24", "dev", "eth0"])
        .expect("address");
    let wrong = p.conf_from("node-b.conf", "wrong.conf", |t| {
        t.replace("auth_pass 1717", "auth_pass 9999")
            .replace("priority 90", "priority 50")
    });
    let a_ip: IpAddr = "192.0.2.1".parse().expect("ip");
    let b_ip: IpAddr = "192.0.2.2".parse().expect("ip");
    let (a, sa) = start_in_process(&p.a, &data("node-a.conf"));
    let (b, sb) = start_in_process(&p.b, &data("node-b.conf"));
    let (c_side, _sc) = start_in_process(&c, &wrong);

    // A: master, itself as master; B: backup, A as master, adverts counted.
    assert!(
        wait_until(Duration::from_secs(10), POLL, || {
            vi1(&sa).is_some_and(|i| i.state == "MASTER" && counter(&i, "adverts_tx") >= 3)
                && vi1(&sb).is_some_and(|i| i.state == "BACKUP" && counter(&i, "adverts_rx") >= 3)
        }),
        "A: {:?}\nB: {:?}",
        vi1(&sa),
        vi1(&sb)
    );
    let ia = vi1(&sa).expect("A");
    let ib = vi1(&sb).expect("B");
    assert_eq!(ia.master, Some(a_ip), "{ia:?}");
    assert_eq!(ia.interface, "eth0");
    assert_eq!((ia.vrid, ia.version, ia.family.as_str()), (17, 2, "inet"));
    assert_eq!((ia.priority, ia.effective_priority), (100, 100));
    assert_eq!(counter(&ia, "became_master"), 1, "{ia:?}");
    assert_eq!(ib.master, Some(a_ip), "{ib:?}");
    assert_eq!(counter(&ib, "became_master"), 0, "{ib:?}");
    assert_eq!(counter(&ib, "adverts_tx"), 0, "{ib:?}");
    // C's adverts (wrong password) are rejected by A and B, counted per rule.
    assert!(
        wait_until(Duration::from_secs(8), POLL, || vi1(&sb)
            .is_some_and(|i| counter(&i, "rejected_auth_data") >= 2)),
        "B: {:?}",
        vi1(&sb)
    );
    // The age of the state grows; the status is refreshed at least once per second.
    let before = vi1(&sb).expect("B").since_change_secs;
    std::thread::sleep(Duration::from_millis(2500));
    let after = vi1(&sb).expect("B").since_change_secs;
    assert!(
        after >= before + 1.0 && after <= before + 3.6,
        "{before} -> {after}"
    );

    // A stops: priority 0 sent and received, B becomes master and names itself.
    assert!(a.send(Command::Stop));
    a.join().expect("A stopped");
    assert!(
        wait_until(Duration::from_secs(3), POLL, || vi1(&sb)
            .is_some_and(|i| i.state == "MASTER")),
        "B: {:?}",
        vi1(&sb)
    );
    let ib = vi1(&sb).expect("B");
    assert_eq!(ib.master, Some(b_ip), "{ib:?}");
    assert_eq!(counter(&ib, "priority_zero_rx"), 1, "{ib:?}");
    assert_eq!(counter(&ib, "became_master"), 1, "{ib:?}");
    assert!(ib.since_change_secs < 2.0, "{ib:?}");
    assert!(
        vi1(&sa).is_none(),
        "a stopped side still lists its instances"
    );
    for s in [b, c_side] {
        assert!(s.send(Command::Stop));
        s.join().expect("stopped");
    }
}
