//! Two `lvsd -P` processes with the seed's DR configuration (documentation addresses) in two
//! network namespaces on one bridge: election, SIGKILL failover with gratuitous ARPs,
//! preemption back, SIGTERM takeover within Skew_Time.

mod vrrp_support;

use std::process::Command;
use std::time::{Duration, Instant};

use lvs_testkit::{Lan, skip_unless, wait_until};
use vrrp_support::*;
#[test]
fn pair_elects_the_priority_100_node() {
    if skip_unless("pair_elects_the_priority_100_node", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdel");
    // B first: it must not keep the VIP once A (priority 100) speaks.
    let b = p.start(&p.b, "node-b.conf", "b.log");
    let a = p.start(&p.a, "node-a.conf", "a.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A never took the VIP\nA: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    // A stays master and B stays without the VIP for a few adverts.
    std::thread::sleep(Duration::from_secs(2));
    assert!(holds_vip(&p.a), "A lost the VIP\nA: {}", p.log("a.log"));
    assert!(
        !holds_vip(&p.b),
        "split brain: B holds the VIP too\nB: {}",
        p.log("b.log")
    );
    assert!(
        p.log("a.log").contains("Entering MASTER STATE"),
        "{}",
        p.log("a.log")
    );
    assert!(
        p.log("b.log").contains("Entering BACKUP STATE"),
        "{}",
        p.log("b.log")
    );
    kill(a);
    kill(b);
}

#[test]
fn sigkill_failover_with_garp_then_preemption_back() {
    if skip_unless(
        "sigkill_failover_with_garp_then_preemption_back",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let p = Pair::new("lvsdkf");
    let a = p.start(&p.a, "node-a.conf", "a.log");
    let b = p.start(&p.b, "node-b.conf", "b.log");
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

    // Capture ARP on the bridge.
    let cap = Capture::start(&p, p.lan.ns(), "arp.txt", &["-i", "br0", "arp"]);

    let t_kill = Instant::now();
    kill(a);
    let took = wait_vip(&p.b, MDI_B + Duration::from_secs(2)).map(|_| t_kill.elapsed());
    let took = took.unwrap_or_else(|| panic!("B never took the VIP\nB: {}", p.log("b.log")));
    // A's last advert left at most 1 s (its interval) before the kill, so B's down timer runs
    // out between MDI − 1 s and MDI after the kill; 0.5 s slack for the `ip` polling.
    assert!(
        took >= MDI_B - Duration::from_secs(1) && took <= MDI_B + Duration::from_millis(500),
        "takeover after {took:?}, Master_Down_Interval {MDI_B:?}"
    );
    assert!(
        wait_until(Duration::from_secs(3), POLL, || {
            cap.text().lines().any(|l| {
                l.contains(&format!("who-has {VIP} "))
                    && l.ends_with(&format!("tell {VIP}, length 28"))
            })
        }),
        "no gratuitous ARP for {VIP} captured: {}",
        cap.text()
    );
    eprintln!("SIGKILL takeover after {took:?} (Master_Down_Interval {MDI_B:?})");

    // The killed process could not remove its VIP; A comes back, removes the stale VIP (a
    // backup must not answer for it), then preempts B after its own Master_Down_Interval.
    let t_restart = Instant::now();
    let a = p.start(&p.a, "node-a.conf", "a2.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || !holds_vip(&p.b)),
        "B kept the VIP after A came back\nA: {}\nB: {}",
        p.log("a2.log"),
        p.log("b.log")
    );
    let back = t_restart.elapsed();
    assert!(
        holds_vip(&p.a),
        "A does not hold the VIP\nA: {}",
        p.log("a2.log")
    );
    let a2 = p.log("a2.log");
    assert!(a2.contains("stale VIP removed at startup"), "{a2}");
    assert!(
        a2.contains("to=master reason=preempted lower-priority master"),
        "{a2}"
    );
    assert!(
        wait_until(Duration::from_secs(3), POLL, || p
            .log("b.log")
            .contains("to=backup reason=higher priority")),
        "B: {}",
        p.log("b.log")
    );
    eprintln!("preemption back after {back:?}");
    drop(cap);
    kill(a);
    kill(b);
}

#[test]
fn sigterm_master_hands_over_within_skew_time() {
    if skip_unless("sigterm_master_hands_over_within_skew_time", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdst");
    let mut a = p.start(&p.a, "node-a.conf", "a.log");
    let b = p.start(&p.b, "node-b.conf", "b.log");
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
    let t_term = Instant::now();
    signal(&a, "TERM");
    let took = wait_vip(&p.b, Duration::from_secs(5)).map(|_| t_term.elapsed());
    let took = took.unwrap_or_else(|| panic!("B never took the VIP\nB: {}", p.log("b.log")));
    // Priority 0 → B waits Skew_Time, far below the Master_Down_Interval − 1 s a silent stop
    // would give; 0.6 s slack for the `ip` polling.
    assert!(
        took <= SKEW_B + Duration::from_millis(600),
        "takeover after {took:?}, Skew_Time {SKEW_B:?}\nB: {}",
        p.log("b.log")
    );
    assert_eq!(
        wait_exit(&mut a, Duration::from_secs(5)),
        Some(0),
        "A: {}",
        p.log("a.log")
    );
    assert!(!holds_vip(&p.a), "A left its VIP behind");
    let blog = p.log("b.log");
    assert!(
        blog.contains("to=master reason=master sent priority 0, skew time passed"),
        "{blog}"
    );
    eprintln!("SIGTERM takeover after {took:?} (Skew_Time {SKEW_B:?})");
    kill(b);
}

#[test]
fn config_test_exit_codes() {
    if skip_unless("config_test_exit_codes", &["ip"]) {
        return;
    }
    // The seed's config where its interface exists: usable.
    let p = Pair::new("lvsdct");
    let ok =
        p.a.cmd(env!("CARGO_BIN_EXE_lvsd"))
            .args(["-t", "-f"])
            .arg(data("node-a.conf"))
            .output()
            .expect("lvsd -t");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // An instance on eth0 where eth0 exists and where it does not: lvsd -t and keepalived -t
    // (the judge) accept the first and refuse the second with exit status 5.
    let dir = tempdir::Dir::new("cfgtest");
    let vrrp = dir.0.join("vrrp.conf");
    std::fs::write(
        &vrrp,
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        203.0.113.62\n    }\n}\n",
    )
    .expect("write");
    let bare = lvs_testkit::Netns::new("lvsdct0").expect("netns");
    for (ns, want) in [(&p.a, 0), (&bare, lvsd::EXIT_CONFIG)] {
        let out = ns
            .cmd(env!("CARGO_BIN_EXE_lvsd"))
            .args(["-t", "-f"])
            .arg(&vrrp)
            .output()
            .expect("lvsd -t");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(want),
            "lvsd in {}: {err}",
            ns.name()
        );
        if want != 0 {
            assert!(err.contains("interface eth0 does not exist"), "{err}");
        }
        if lvs_testkit::have("keepalived") {
            let k = ns
                .cmd("keepalived")
                .args(["-t", "-f"])
                .arg(&vrrp)
                .output()
                .expect("keepalived -t");
            assert_eq!(k.status.code(), Some(want), "keepalived in {}", ns.name());
        }
    }

    let bad = dir.0.join("bad.conf");
    std::fs::write(
        &bad,
        "vrrp_instance VI_1 {\n    interface eth0\n    priority 100\n    virtual_ipaddress {\n        203.0.113.62\n    }\n}\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_lvsd"))
        .args(["-t", "-f"])
        .arg(&bad)
        .output()
        .expect("lvsd -t");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(lvsd::EXIT_CONFIG), "{err}");
    assert!(err.contains("virtual_router_id"), "{err}");
}

#[test]
fn interop_lvsd_master_keepalived_backup() {
    if skip_unless(
        "interop_lvsd_master_keepalived_backup",
        &["ip", "keepalived"],
    ) {
        return;
    }
    let p = Pair::new("lvsdia");
    let k = p.start_keepalived(&p.b, "node-b.conf", "kb.log");
    let a = p.start(&p.a, "node-a.conf", "a.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A: {}",
        p.log("a.log")
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(holds_vip(&p.a), "lvsd lost the VIP\nA: {}", p.log("a.log"));
    assert!(
        !holds_vip(&p.b),
        "split brain\nkeepalived: {}",
        p.log("kb.log")
    );

    let t_kill = Instant::now();
    kill(a);
    let took = wait_vip(&p.b, MDI_B + Duration::from_secs(2)).map(|_| t_kill.elapsed());
    let took = took.unwrap_or_else(|| panic!("keepalived never took over\n{}", p.log("kb.log")));
    assert!(
        took >= MDI_B - Duration::from_secs(1) && took <= MDI_B + Duration::from_millis(500),
        "keepalived took over after {took:?}, Master_Down_Interval {MDI_B:?}"
    );

    // lvsd comes back and preempts keepalived.
    let a = p.start(&p.a, "node-a.conf", "a2.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || !holds_vip(&p.b)),
        "keepalived kept the VIP\nA: {}\nkeepalived: {}",
        p.log("a2.log"),
        p.log("kb.log")
    );
    assert!(holds_vip(&p.a), "A: {}", p.log("a2.log"));
    eprintln!("keepalived took over after {took:?}; lvsd preempted back");
    kill(a);
    kill(k);
}

#[test]
fn interop_keepalived_master_lvsd_backup() {
    if skip_unless(
        "interop_keepalived_master_lvsd_backup",
        &["ip", "keepalived"],
    ) {
        return;
    }
    let p = Pair::new("lvsdib");
    let b = p.start(&p.b, "node-b.conf", "b.log");
    let mut k = p.start_keepalived(&p.a, "node-a.conf", "ka.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "keepalived: {}",
        p.log("ka.log")
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(!holds_vip(&p.b), "split brain\nB: {}", p.log("b.log"));
    assert!(
        p.log("b.log").contains("Entering BACKUP STATE"),
        "{}",
        p.log("b.log")
    );

    let t_term = Instant::now();
    signal(&k, "TERM");
    let took = wait_vip(&p.b, Duration::from_secs(5)).map(|_| t_term.elapsed());
    let took = took.unwrap_or_else(|| panic!("lvsd never took over\nB: {}", p.log("b.log")));
    assert!(
        took <= SKEW_B + Duration::from_millis(600),
        "lvsd took over after {took:?}"
    );
    let blog = p.log("b.log");
    assert!(
        blog.contains("to=master reason=master sent priority 0, skew time passed"),
        "{blog}"
    );
    let _ = wait_exit(&mut k, Duration::from_secs(5));

    // keepalived comes back with priority 100 and preempts lvsd (count the lines: B may
    // already have yielded once at startup if its down timer beat keepalived's first advert).
    let yielded = "to=backup reason=higher priority 100 advert from 192.0.2.1";
    let before = p.log("b.log").matches(yielded).count();
    let k = p.start_keepalived(&p.a, "node-a.conf", "ka2.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || p
            .log("b.log")
            .matches(yielded)
            .count()
            > before),
        "B: {}\nkeepalived: {}",
        p.log("b.log"),
        p.log("ka2.log")
    );
    assert!(
        wait_until(Duration::from_secs(2), POLL, || !holds_vip(&p.b)),
        "lvsd kept the VIP\nB: {}",
        p.log("b.log")
    );
    assert!(
        wait_vip(&p.a, Duration::from_secs(3)).is_some(),
        "{}",
        p.log("ka2.log")
    );
    let klog = p.log("ka2.log");
    assert!(
        klog.contains("received lower priority (90) advert from 192.0.2.2"),
        "{klog}"
    );
    eprintln!(
        "lvsd took over from keepalived after {took:?} (Skew_Time {SKEW_B:?}); keepalived preempted back"
    );
    kill(k);
    kill(b);
}

#[test]
fn notify_scripts_run_with_an_argument_vector() {
    if skip_unless("notify_scripts_run_with_an_argument_vector", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdnt");
    let out = p.logs.0.join("notify.out");
    let script = p.logs.0.join("notify.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", out.display()),
    )
    .expect("script");
    let st = Command::new("chmod")
        .arg("755")
        .arg(&script)
        .status()
        .expect("chmod");
    assert!(st.success());
    let touched = p.logs.0.join("became-master");
    let conf = p.conf_from("node-a.conf", "notify.conf", |t| {
        t.replace(
            "    virtual_ipaddress {",
            &format!(
                "    notify_master \"/usr/bin/touch {}\"\n    notify {}\n    virtual_ipaddress {{",
                touched.display(),
                script.display()
            ),
        )
    });
    let a = p.start_path(&p.a, &conf, "a.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A: {}",
        p.log("a.log")
    );
    assert!(
        wait_until(Duration::from_secs(3), POLL, || touched.exists()),
        "notify_master did not run\nA: {}",
        p.log("a.log")
    );
    assert!(
        wait_until(Duration::from_secs(3), POLL, || {
            std::fs::read_to_string(&out).is_ok_and(|o| o.contains("INSTANCE VI_1 MASTER 100"))
        }),
        "notify output: {:?}\nA: {}",
        std::fs::read_to_string(&out),
        p.log("a.log")
    );
    let o = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(o.starts_with("INSTANCE VI_1 BACKUP 100\n"), "{o}");
    kill(a);
}

#[test]
fn unicast_peers_elect_and_hand_over() {
    if skip_unless("unicast_peers_elect_and_hand_over", &["ip", "tcpdump"]) {
        return;
    }
    let p = Pair::new("lvsduc");
    let uni = |me: &'static str, peer: &'static str| {
        move |t: String| {
            t.replace(
                "    virtual_ipaddress {",
                &format!(
                    "    unicast_src_ip {me}\n    unicast_peer {{\n        {peer}\n    }}\n    virtual_ipaddress {{"
                ),
            )
        }
    };
    let ca = p.conf_from("node-a.conf", "ua.conf", uni("192.0.2.1", "192.0.2.2"));
    let cb = p.conf_from("node-b.conf", "ub.conf", uni("192.0.2.2", "192.0.2.1"));
    let mut a = p.start_path(&p.a, &ca, "a.log");
    let b = p.start_path(&p.b, &cb, "b.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A: {}",
        p.log("a.log")
    );
    // Two seconds of adverts on the bridge: all unicast between the two nodes.
    let cap = Capture::start(&p, p.lan.ns(), "vrrp.txt", &["-i", "br0", "ip proto 112"]);
    std::thread::sleep(Duration::from_secs(2));
    let adverts = cap.text();
    drop(cap);
    assert!(adverts.lines().count() >= 1, "no advert captured");
    assert!(
        adverts
            .lines()
            .all(|l| l.contains("192.0.2.1 > 192.0.2.2: VRRPv2")),
        "{adverts}"
    );
    assert!(!holds_vip(&p.b), "split brain\nB: {}", p.log("b.log"));
    let t_term = Instant::now();
    signal(&a, "TERM");
    let took = wait_vip(&p.b, Duration::from_secs(5)).map(|_| t_term.elapsed());
    let took = took.unwrap_or_else(|| panic!("B never took over\nB: {}", p.log("b.log")));
    assert!(took <= SKEW_B + Duration::from_millis(600), "took {took:?}");
    assert_eq!(wait_exit(&mut a, Duration::from_secs(5)), Some(0));
    kill(b);
}

/// VRRPv3 over IPv4 (no authentication): `tests/data/<base>` turned into a v3 configuration.

#[test]
fn interop_vrrp_v3_keepalived_master_lvsd_backup() {
    if skip_unless(
        "interop_vrrp_v3_keepalived_master_lvsd_backup",
        &["ip", "keepalived"],
    ) {
        return;
    }
    let p = Pair::new("lvsdv3");
    let ca = p.conf_from("node-a.conf", "a3.conf", v3);
    let cb = p.conf_from("node-b.conf", "b3.conf", v3);
    let mut k = p.start_keepalived_path(&p.a, &ca, "ka.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "keepalived: {}",
        p.log("ka.log")
    );
    let b = p.start_path(&p.b, &cb, "b.log");
    // lvsd must accept keepalived's v3 adverts (checksum with the pseudo-header): it stays
    // backup for longer than its Master_Down_Interval.
    std::thread::sleep(MDI_B + Duration::from_secs(1));
    assert!(!holds_vip(&p.b), "split brain\nB: {}", p.log("b.log"));
    assert!(
        !p.log("b.log").contains("Entering MASTER STATE"),
        "{}",
        p.log("b.log")
    );

    let t_term = Instant::now();
    signal(&k, "TERM");
    let took = wait_vip(&p.b, Duration::from_secs(5)).map(|_| t_term.elapsed());
    let took = took.unwrap_or_else(|| panic!("lvsd never took over\nB: {}", p.log("b.log")));
    assert!(
        took <= SKEW_B + Duration::from_millis(600),
        "lvsd took over after {took:?}"
    );
    let _ = wait_exit(&mut k, Duration::from_secs(5));

    // keepalived (v3, priority 100) comes back and preempts; lvsd yields to its advert.
    let k = p.start_keepalived_path(&p.a, &ca, "ka2.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || p.log("b.log").contains(
            "to=backup reason=higher priority 100 advert from 192.0.2.1"
        )),
        "B: {}\nkeepalived: {}",
        p.log("b.log"),
        p.log("ka2.log")
    );
    assert!(
        wait_until(Duration::from_secs(2), POLL, || !holds_vip(&p.b)),
        "lvsd kept the VIP"
    );
    // keepalived parsed lvsd's v3 adverts while it waited for its down timer.
    let klog = p.log("ka2.log");
    assert!(
        klog.contains("received lower priority (90) advert from 192.0.2.2"),
        "{klog}"
    );
    eprintln!("v3: lvsd took over from keepalived after {took:?}");
    kill(k);
    kill(b);
}

#[test]
fn nat_pair_moves_both_instances_on_two_interfaces() {
    if skip_unless("nat_pair_moves_both_instances_on_two_interfaces", &["ip"]) {
        return;
    }
    // The seed's NAT directors: VI_1 on the public side (eth0), VI_2 (the real servers'
    // gateway) on the private side (eth1).
    let p = Pair::new("lvsdnat");
    let private = Lan::new("lvsdnatp").expect("private lan");
    for (ns, ip) in [(&p.a, "198.51.100.1/24"), (&p.b, "198.51.100.2/24")] {
        private.attach(ns, "eth1").expect("attach eth1");
        ns.run(&["ip", "addr", "add", ip, "dev", "eth1"])
            .expect("address");
    }
    let gw = "198.51.100.252";
    let mut a = p.start(&p.a, "nat-a.conf", "a.log");
    let b = p.start(&p.b, "nat-b.conf", "b.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && holds(&p.a, "eth1", gw)),
        "A: {}",
        p.log("a.log")
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        holds_vip(&p.a) && holds(&p.a, "eth1", gw),
        "A: {}",
        p.log("a.log")
    );
    assert!(
        !holds_vip(&p.b) && !holds(&p.b, "eth1", gw),
        "B: {}",
        p.log("b.log")
    );

    let t_term = Instant::now();
    signal(&a, "TERM");
    assert!(
        wait_until(Duration::from_secs(5), POLL, || holds_vip(&p.b)
            && holds(&p.b, "eth1", gw)),
        "B: {}",
        p.log("b.log")
    );
    let took = t_term.elapsed();
    assert!(took <= SKEW_B + Duration::from_millis(600), "took {took:?}");
    assert_eq!(wait_exit(&mut a, Duration::from_secs(5)), Some(0));
    assert!(
        !holds_vip(&p.a) && !holds(&p.a, "eth1", gw),
        "A left a VIP behind"
    );
    let blog = p.log("b.log");
    for inst in ["VI_1", "VI_2"] {
        assert!(
            blog.lines()
                .any(|l| l.contains("to=master reason=master sent priority 0")
                    && l.contains(&format!("instance={inst}"))),
            "{blog}"
        );
    }
    kill(b);
}

#[test]
fn wrong_password_adverts_are_rejected_and_counted() {
    if skip_unless("wrong_password_adverts_are_rejected_and_counted", &["ip"]) {
        return;
    }
    let p = Pair::new("lvsdpw");
    let cb = p.conf_from("node-b.conf", "wrong.conf", |t| {
        t.replace("auth_pass 1717", "auth_pass 9999")
    });
    let a = p.start(&p.a, "node-a.conf", "a.log");
    let b = p.start_path(&p.b, &cb, "b.log");
    // Each side discards the other's adverts (RFC 3768 §7.1 authentication), so both end up
    // MASTER, as keepalived does with mismatched passwords; neither process stops.
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && holds_vip(&p.b)),
        "A: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    // Every advert from A is rejected and counted, and B stays up.
    assert!(
        wait_until(Duration::from_secs(5), POLL, || p
            .log("b.log")
            .contains("rejected=3")),
        "B: {}",
        p.log("b.log")
    );
    let blog = p.log("b.log");
    assert!(
        blog.lines()
            .filter(|l| l.contains("advert rejected"))
            .all(|l| l.contains("src=192.0.2.1") && l.contains("authentication")),
        "{blog}"
    );
    assert!(holds_vip(&p.b), "B: {blog}");
    kill(a);
    kill(b);
}

#[test]
fn interop_vrrp_v3_lvsd_master_keepalived_backup() {
    if skip_unless(
        "interop_vrrp_v3_lvsd_master_keepalived_backup",
        &["ip", "keepalived"],
    ) {
        return;
    }
    let p = Pair::new("lvsdv3l");
    let ca = p.conf_from("node-a.conf", "a3.conf", v3);
    let cb = p.conf_from("node-b.conf", "b3.conf", v3);
    let mut a = p.start_path(&p.a, &ca, "a.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A: {}",
        p.log("a.log")
    );
    let k = p.start_keepalived_path(&p.b, &cb, "kb.log");
    // keepalived must accept lvsd's v3 adverts: backup for longer than its
    // Master_Down_Interval.
    assert!(
        wait_until(Duration::from_secs(10), POLL, || p
            .log("kb.log")
            .contains("Entering BACKUP STATE")),
        "keepalived: {}",
        p.log("kb.log")
    );
    std::thread::sleep(MDI_B + Duration::from_secs(1));
    let klog = p.log("kb.log");
    assert!(!holds_vip(&p.b), "split brain\nkeepalived: {klog}");
    assert!(!klog.contains("Entering MASTER STATE"), "{klog}");

    let t_term = Instant::now();
    signal(&a, "TERM");
    let took = wait_vip(&p.b, Duration::from_secs(5)).map(|_| t_term.elapsed());
    let took = took.unwrap_or_else(|| panic!("keepalived never took over: {}", p.log("kb.log")));
    assert!(
        took <= SKEW_B + Duration::from_millis(600),
        "keepalived took over after {took:?}"
    );
    assert_eq!(wait_exit(&mut a, Duration::from_secs(5)), Some(0));
    eprintln!("v3: keepalived took over from lvsd after {took:?}");
    kill(k);
}
