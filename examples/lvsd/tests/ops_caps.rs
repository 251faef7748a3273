//! `lvsd -P` as an unprivileged user holding only CAP_NET_ADMIN and CAP_NET_RAW (what the unit
//! file grants): it opens its VRRP socket, becomes MASTER, adds the VIP, answers `lvsd status`
//! on a socket in a directory it owns (systemd's RuntimeDirectory=), and removes the VIP on
//! SIGTERM.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{Node, VIP, data, first_state, signal, wait_exit, wait_status};
use lvs_testkit::{skip_unless, wait_until};

const NOBODY: u32 = 65534;

/// A `/proc/PID/status` field.
fn proc_field(pid: u32, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_owned()))
        .unwrap_or_default()
}

#[test]
fn runs_unprivileged_with_net_admin_and_net_raw_only() {
    if skip_unless(
        "runs_unprivileged_with_net_admin_and_net_raw_only",
        &["setpriv"],
    ) {
        return;
    }
    let node = Node::new("opscap");
    // The run directory the service manager would create for the service's user.
    let run = node.dir.join("run");
    std::fs::create_dir(&run).expect("run dir");
    std::os::unix::fs::chown(&run, Some(NOBODY), Some(NOBODY)).expect("chown");
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let control = run.join("lvsd.sock");
    let conf = data("node-a.conf");

    let log = node.dir.join("lvsd.log");
    let err = std::fs::File::create(&log).expect("log");
    let mut lvsd = node
        .ns
        .cmd("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--bounding-set=-all,+net_admin,+net_raw",
            "--inh-caps=-all,+net_admin,+net_raw",
            "--ambient-caps=+net_admin,+net_raw",
            "--",
            common::lvsd_bin(),
            "-P",
            "-l",
            "-n",
            "--control",
        ])
        .arg(&control)
        .arg("--dump-file")
        .arg(run.join("lvsd.json"))
        .arg("-f")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .spawn()
        .expect("spawn setpriv lvsd");
    let log = || std::fs::read_to_string(&log).unwrap_or_default();

    let st = wait_status(&control, Duration::from_secs(10), |s| {
        first_state(s) == "MASTER"
    })
    .unwrap_or_else(|| panic!("never MASTER as an unprivileged user\n{}", log()));
    assert!(node.holds(VIP), "MASTER without the VIP\n{}", log());
    // setpriv execs lvsd: same process. It runs as nobody with exactly the two capabilities.
    let pid = lvsd.id();
    assert_eq!(st["daemon"]["pid"], pid);
    assert!(
        proc_field(pid, "Uid:").starts_with("65534\t65534"),
        "{}",
        proc_field(pid, "Uid:")
    );
    let cap_eff = u64::from_str_radix(&proc_field(pid, "CapEff:"), 16).expect("CapEff");
    assert_eq!(cap_eff, (1 << 12) | (1 << 13), "CapEff {cap_eff:#x}");
    assert!(!log().contains("WARN"), "warnings as nobody:\n{}", log());

    signal(&lvsd, "TERM");
    assert_eq!(
        wait_exit(&mut lvsd, Duration::from_secs(5)),
        Some(0),
        "{}",
        log()
    );
    assert!(
        wait_until(Duration::from_secs(2), common::POLL, || !node.holds(VIP)),
        "VIP left behind"
    );
    assert!(!control.exists(), "control socket left behind");
}
