//! FAULT and priority from the outside world: a sync group follows its member whose interface
//! went down; `track_interface` faults an instance while a tracked link has no carrier;
//! `track_script` with a weight lowers the priority while the script fails.

mod vrrp_support;

use std::process::Child;
use std::time::Duration;

use lvs_testkit::{Lan, Netns, skip_unless, wait_until};
use vrrp_support::*;

const GW: &str = "198.51.100.252";

fn states(log: &str, instance: &str, state: &str) -> usize {
    log.lines()
        .filter(|l| {
            l.contains(&format!("instance={instance}"))
                && l.contains(&format!("Entering {state} STATE"))
        })
        .count()
}

/// A's node-a.conf with `defs` before it and `track` (a `track_*` block) in VI_1; starts A with
/// it and B with node-b.conf, and waits until A holds the VIP.
fn start_tracking_pair(p: &Pair, defs: &str, track: &str) -> (Child, Child) {
    let ca = p.conf_from("node-a.conf", "a.conf", |t| {
        defs.to_owned()
            + &t.replace(
                "    virtual_ipaddress {",
                &format!("{track}    virtual_ipaddress {{"),
            )
    });
    let a = p.start_path(&p.a, &ca, "a.log");
    let b = p.start(&p.b, "node-b.conf", "b.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A: {}",
        p.log("a.log")
    );
    (a, b)
}

/// Waits until `holder` (A or B) alone holds the VIP.
fn wait_holder(p: &Pair, holder_is_a: bool, within: Duration) {
    let (yes, no) = if holder_is_a {
        (&p.a, &p.b)
    } else {
        (&p.b, &p.a)
    };
    assert!(
        wait_until(within, POLL, || holds_vip(yes) && !holds_vip(no)),
        "expected {} to hold the VIP\nA: {}\nB: {}",
        if holder_is_a { "A" } else { "B" },
        p.log("a.log"),
        p.log("b.log")
    );
}

#[test]
fn sync_group_moves_together_when_a_member_link_fails() {
    if skip_unless(
        "sync_group_moves_together_when_a_member_link_fails",
        &["ip"],
    ) {
        return;
    }
    // The seed's NAT directors, with VI_1 (eth0) and VI_2 (eth1) in one sync group.
    let p = Pair::new("lvsdsg");
    let private = Lan::new("lvsdsgp").expect("private lan");
    for (ns, ip) in [(&p.a, "198.51.100.1/24"), (&p.b, "198.51.100.2/24")] {
        private.attach(ns, "eth1").expect("attach eth1");
        ns.run(&["ip", "addr", "add", ip, "dev", "eth1"])
            .expect("address");
    }
    let group = |t: String| {
        t + "\nvrrp_sync_group VG_1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"
    };
    let ca = p.conf_from("nat-a.conf", "a.conf", group);
    let cb = p.conf_from("nat-b.conf", "b.conf", group);
    let a = p.start_path(&p.a, &ca, "a.log");
    let b = p.start_path(&p.b, &cb, "b.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && holds(&p.a, "eth1", GW)),
        "A: {}",
        p.log("a.log")
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !holds_vip(&p.b) && !holds(&p.b, "eth1", GW),
        "B: {}",
        p.log("b.log")
    );

    // A's private link fails: VI_2 faults, VI_1 follows it; B takes both.
    let t0 = std::time::Instant::now();
    p.a.run(&["ip", "link", "set", "eth1", "down"])
        .expect("link down");
    assert!(
        wait_until(Duration::from_secs(8), POLL, || holds_vip(&p.b)
            && holds(&p.b, "eth1", GW)),
        "B did not take both\nA: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    let took = t0.elapsed();
    assert!(!holds_vip(&p.a), "A kept {VIP}: {}", p.log("a.log"));
    let alog = p.log("a.log");
    assert_eq!(states(&alog, "VI_2", "FAULT"), 1, "{alog}");
    assert_eq!(states(&alog, "VI_1", "FAULT"), 1, "{alog}");
    assert!(
        alog.contains("reason=group-fault") || alog.contains("group"),
        "{alog}"
    );
    eprintln!("sync group hand-over after the link failure: {took:?}");

    // The link comes back: A leaves FAULT and, with priority 100, takes both back.
    p.a.run(&["ip", "link", "set", "eth1", "up"])
        .expect("link up");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && holds(&p.a, "eth1", GW)
            && !holds_vip(&p.b)
            && !holds(&p.b, "eth1", GW)),
        "A did not take both back\nA: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    kill(a);
    kill(b);
}

/// A second veth pair inside `ns` (`eth1` ↔ `eth1p`): downing `eth1p` takes `eth1`'s carrier.
fn local_veth(ns: &Netns) {
    ns.run(&[
        "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ])
    .expect("veth");
    ns.run(&["ip", "link", "set", "eth1", "up"]).expect("up");
    ns.run(&["ip", "link", "set", "eth1p", "up"]).expect("up");
}

#[test]
fn track_interface_faults_while_the_tracked_link_is_down() {
    if skip_unless(
        "track_interface_faults_while_the_tracked_link_is_down",
        &["ip"],
    ) {
        return;
    }
    let p = Pair::new("lvsdti");
    local_veth(&p.a);
    let (a, b) = start_tracking_pair(&p, "", "    track_interface {\n        eth1\n    }\n");
    p.a.run(&["ip", "link", "set", "eth1p", "down"])
        .expect("down");
    assert!(
        wait_until(Duration::from_secs(6), POLL, || holds_vip(&p.b)
            && !holds_vip(&p.a)),
        "A: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    assert_eq!(
        states(&p.log("a.log"), "VI_1", "FAULT"),
        1,
        "{}",
        p.log("a.log")
    );
    p.a.run(&["ip", "link", "set", "eth1p", "up"]).expect("up");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && !holds_vip(&p.b)),
        "A: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    kill(a);
    kill(b);
}

#[test]
fn track_script_weight_hands_over_and_back() {
    if skip_unless("track_script_weight_hands_over_and_back", &["ip", "test"]) {
        return;
    }
    let p = Pair::new("lvsdts");
    let flag = p.logs.0.join("healthy");
    std::fs::write(&flag, "").expect("flag");
    let test = lvs_testkit::which("test").expect("test");
    let script = format!(
        "vrrp_script chk {{\n    script \"{} -e {}\"\n    interval 1\n    weight -20\n    fall 2\n    rise 2\n}}\n\n",
        test.display(),
        flag.display()
    );
    let (a, b) = start_tracking_pair(&p, &script, "    track_script {\n        chk\n    }\n");
    std::thread::sleep(Duration::from_secs(2));
    assert!(holds_vip(&p.a), "A: {}", p.log("a.log"));
    // The check fails: A's priority drops to 80 < 90, B preempts it.
    std::fs::remove_file(&flag).expect("remove flag");
    wait_holder(&p, false, Duration::from_secs(12));
    assert!(
        p.log("a.log").contains("script=chk up=false"),
        "{}",
        p.log("a.log")
    );
    assert_eq!(
        states(&p.log("a.log"), "VI_1", "FAULT"),
        0,
        "weighted: no FAULT"
    );
    // Healthy again: 100 > 90, A preempts back.
    std::fs::write(&flag, "").expect("flag");
    wait_holder(&p, true, Duration::from_secs(12));
    kill(a);
    kill(b);
}

/// `vrrp_track_file` with `weight -1`: the number written to the file is taken off A's
/// priority (B takes over below 90, A preempts back at 0), and a number that takes more than
/// 253 off puts A in FAULT; `init_file` creates the file with its value.
#[test]
fn track_file_value_moves_the_priority_and_faults() {
    if skip_unless("track_file_value_moves_the_priority_and_faults", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdtf");
    let file = p.logs.0.join("drain");
    let track = format!(
        "vrrp_track_file drain {{\n    file \"{}\"\n    weight -1\n    init_file 0\n}}\n\n",
        file.display()
    );
    let (a, b) = start_tracking_pair(&p, &track, "    track_file {\n        drain\n    }\n");
    assert_eq!(
        std::fs::read_to_string(&file).ok().as_deref(),
        Some("0\n"),
        "init_file"
    );
    // 100 - 20 = 80 < 90: B preempts A.
    std::fs::write(&file, "20\n").expect("write");
    wait_holder(&p, false, Duration::from_secs(8));
    assert!(
        p.log("a.log").contains("track_file=drain value=20"),
        "{}",
        p.log("a.log")
    );
    assert_eq!(states(&p.log("a.log"), "VI_1", "FAULT"), 0);
    // Replaced by a rename (as editors and config tools write files): 0, A preempts back.
    let tmp = p.logs.0.join("drain.tmp");
    std::fs::write(&tmp, "0\n").expect("write");
    std::fs::rename(&tmp, &file).expect("rename");
    wait_holder(&p, true, Duration::from_secs(8));
    // -254: FAULT.
    std::fs::write(&file, "254\n").expect("write");
    assert!(
        wait_until(Duration::from_secs(8), POLL, || states(
            &p.log("a.log"),
            "VI_1",
            "FAULT"
        ) == 1
            && holds_vip(&p.b)),
        "A: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    kill(a);
    kill(b);
}
