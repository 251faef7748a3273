//! The command line around the daemon: `-t` exit codes next to keepalived's, `lvsd status`
//! without a daemon, a busy `--metrics` address. None of these needs root.

mod common;

use std::process::Command;

use common::{Scratch, data, lvsd_bin};
use lvs_testkit::have;

fn lvsd(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(lvsd_bin())
        .args(args)
        .output()
        .expect("run lvsd");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `-t` refuses what keepalived refuses, with keepalived's exit status 5 (KEEPALIVED_EXIT_CONFIG).
#[test]
fn config_test_refuses_what_keepalived_refuses() {
    let dir = Scratch::new("opscli-t");
    let bad = dir.join("bad.conf");
    std::fs::write(
        &bad,
        "vrrp_instance VI_1 {\n    interface eth0\n    priority 100\n    virtual_ipaddress {\n        203.0.113.62\n    }\n}\n",
    )
    .expect("write");
    let bad = bad.to_str().expect("utf-8 path");
    let (code, out) = lvsd(&["-t", "-f", bad]);
    assert_eq!(code, Some(lvsd::EXIT_CONFIG), "{out}");
    assert!(out.contains("virtual_router_id"), "{out}");
    if have("keepalived") {
        let k = Command::new(lvs_testkit::which("keepalived").expect("keepalived"))
            .args(["-t", "-f", bad])
            .output()
            .expect("keepalived -t");
        assert_eq!(
            k.status.code(),
            Some(lvsd::EXIT_CONFIG),
            "keepalived's verdict on the bad config"
        );
    } else {
        eprintln!("SKIP config_test_refuses_what_keepalived_refuses (judge part): no keepalived");
    }
    // The seed's config on an interface every namespace has (`-t` checks that it exists).
    let good = dir.join("good.conf");
    let text = std::fs::read_to_string(data("node-a.conf")).expect("node-a.conf");
    std::fs::write(&good, text.replace("interface eth0", "interface lo")).expect("write");
    let (code, out) = lvsd(&["-t", "-f", good.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
}

/// A missing file is an error (keepalived 2.2.7 `-t` exits 0 on a missing file: lvsd does not
/// copy that).
#[test]
fn config_test_of_a_missing_file_fails_with_its_path() {
    let (code, out) = lvsd(&["-t", "-f", "/nonexistent/keepalived.conf"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("/nonexistent/keepalived.conf"), "{out}");
}

#[test]
fn status_without_a_daemon_is_a_clear_error() {
    let dir = Scratch::new("opscli-st");
    let sock = dir.join("lvsd.sock");
    let (code, out) = lvsd(&["status", "--control", sock.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(sock.to_str().unwrap()) && out.contains("is the daemon running"),
        "{out}"
    );
}

#[test]
fn busy_metrics_address_stops_the_daemon_at_start() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let dir = Scratch::new("opscli-m");
    let sock = dir.join("lvsd.sock");
    let (code, out) = lvsd(&[
        "-P",
        "--metrics",
        &addr,
        "--control",
        sock.to_str().unwrap(),
        "-f",
        data("node-a.conf").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("--metrics {addr}")), "{out}");
    assert!(!sock.exists(), "control socket left behind");
}

/// Logs: no ANSI escapes; under journald (`JOURNAL_STREAM` set) no timestamp and a `<N>`
/// syslog priority prefix journald reads.
#[test]
fn log_lines_suit_a_terminal_and_the_journal() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let dir = Scratch::new("opscli-log");
    let sock = dir.join("lvsd.sock");
    let conf = data("node-a.conf");
    let run = |journal: bool| {
        let mut cmd = Command::new(lvsd_bin());
        cmd.args(["-P", "--metrics", &addr, "--control"])
            .arg(&sock)
            .arg("-f")
            .arg(&conf)
            .env_remove("RUST_LOG")
            .env_remove("JOURNAL_STREAM");
        if journal {
            cmd.env("JOURNAL_STREAM", "8:12345");
        }
        let out = cmd.output().expect("run lvsd");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let console = run(false);
    let line = console
        .lines()
        .find(|l| l.contains("--metrics"))
        .unwrap_or_else(|| panic!("{console}"));
    assert!(line.starts_with("20") && line.contains("ERROR"), "{line}");
    assert!(!console.contains('\x1b'), "ANSI escape in {console:?}");

    let journal = run(true);
    let line = journal
        .lines()
        .find(|l| l.contains("--metrics"))
        .unwrap_or_else(|| panic!("{journal}"));
    assert!(line.starts_with("<3>") && line.contains("ERROR"), "{line}");
    assert!(
        !line.starts_with("<3>20"),
        "timestamp under journald: {line}"
    );
    assert!(!journal.contains('\x1b'), "ANSI escape in {journal:?}");
}
