//! The check side on a kernel without IPVS (this build machine's, CI's): `lvsd -C` fails with a
//! clear error, while a plain `lvsd` (both sides) keeps its VRRP side running.

mod common;

use std::time::Duration;

use common::{Node, VIP, data, first_state, kill, signal, wait_exit, wait_status};
use lvs_testkit::skip_unless;

/// Whether this kernel has IPVS (then there is nothing to test here: see `check_lab`).
fn kernel_has_ipvs(test: &str) -> bool {
    let has = std::path::Path::new("/proc/net/ip_vs").exists();
    if has {
        println!("SKIP {test}: this kernel has IPVS (the check side is tested by check_lab)");
    }
    has
}

#[test]
fn without_ipvs_check_alone_fails_clearly_and_both_sides_keep_vrrp() {
    let name = "without_ipvs_check_alone_fails_clearly_and_both_sides_keep_vrrp";
    if skip_unless(name, &[]) || kernel_has_ipvs(name) {
        return;
    }
    let node = Node::new("ckhost");
    let conf = data("node-a.conf");

    // -C alone: the daemon's error, with the meaning and the hint.
    let mut c = node.start(&conf, &["-C"], "check.log");
    let code = wait_exit(&mut c, Duration::from_secs(10));
    let log = node.dir.read("check.log");
    assert_eq!(code, Some(1), "lvsd -C without IPVS\n{log}");
    assert!(log.contains("this kernel has no IPVS"), "{log}");
    assert!(log.contains("modprobe ip_vs"), "{log}");

    // Both sides: the check side is reported, VRRP runs on (MASTER with its VIP).
    let mut both = node.start(&conf, &[], "both.log");
    let st = wait_status(&node.control(), Duration::from_secs(10), |s| {
        first_state(s) == "MASTER"
    });
    let log = node.dir.read("both.log");
    let Some(st) = st else {
        kill(both);
        panic!("the VRRP side did not become MASTER\n{log}");
    };
    assert!(node.holds(VIP), "MASTER without the VIP\n{log}");
    assert_eq!(
        st["daemon"]["subsystems"],
        serde_json::json!(["vrrp"]),
        "{st:#}"
    );
    assert!(
        log.contains("the check subsystem did not start") && log.contains("modprobe ip_vs"),
        "{log}"
    );
    signal(&both, "TERM");
    assert_eq!(
        wait_exit(&mut both, Duration::from_secs(10)),
        Some(0),
        "{}",
        node.dir.read("both.log")
    );
}
