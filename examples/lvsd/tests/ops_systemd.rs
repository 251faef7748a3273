//! systemd integration without systemd: a real datagram socket stands in for the service
//! manager's `NOTIFY_SOCKET` while `lvsd -P` runs in a network namespace (READY=1 after the
//! VRRP sockets are open and never when a subsystem fails to start, WATCHDOG=1 at half
//! `WATCHDOG_USEC`, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on SIGTERM), and the unit
//! file checked by `systemd-analyze verify`.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Node, Scratch, data, kill, lvsd_bin, signal, wait_exit};
use lvs_testkit::{have, skip_unless};

/// WATCHDOG_USEC given to lvsd: it must ping every 200 ms.
const WATCHDOG: Duration = Duration::from_millis(400);

/// Every datagram received on the fake notify socket, with its arrival time.
fn listen(path: &std::path::Path) -> mpsc::Receiver<(Instant, String)> {
    let sock = UnixDatagram::bind(path).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if tx.send((Instant::now(), msg)).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (bounded) for a datagram with a line equal to `line`; returns it and those before it.
fn wait_line(
    rx: &mpsc::Receiver<(Instant, String)>,
    line: &str,
    timeout: Duration,
) -> Option<(Instant, Vec<String>)> {
    let end = Instant::now() + timeout;
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        let (t, msg) = rx.recv_timeout(left).ok()?;
        let hit = msg.lines().any(|l| l == line);
        seen.push(msg);
        if hit {
            return Some((t, seen));
        }
    }
    None
}

/// Whether the namespace has a raw IP protocol 112 (VRRP) socket open.
fn vrrp_socket_open(node: &Node) -> bool {
    node.ns.run(&["cat", "/proc/net/raw"]).is_ok_and(|t| {
        t.lines().skip(1).any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(":0070"))
        })
    })
}

#[test]
fn notify_protocol_ready_watchdog_reload_stopping() {
    if skip_unless("notify_protocol_ready_watchdog_reload_stopping", &[]) {
        return;
    }
    let node = Node::new("opsntf");
    let sock = node.dir.join("notify.sock");
    let rx = listen(&sock);
    assert!(!vrrp_socket_open(&node));
    let mut lvsd = node
        .lvsd(&data("node-a.conf"), &["-P"], "lvsd.log")
        .env("NOTIFY_SOCKET", &sock)
        .env("WATCHDOG_USEC", WATCHDOG.as_micros().to_string())
        .spawn()
        .expect("spawn lvsd");
    let log = || node.dir.read("lvsd.log");

    let (_, before) = wait_line(&rx, "READY=1", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no READY=1\n{}", log()));
    assert!(
        vrrp_socket_open(&node),
        "READY=1 but no VRRP socket\n{}",
        log()
    );
    assert_eq!(before.len(), 1, "messages before READY=1: {before:?}");
    assert!(
        before[0].lines().any(|l| l == "STATUS=running: vrrp"),
        "{before:?}"
    );

    // Watchdog pings for 2 s: every gap under WATCHDOG_USEC (systemd's limit), none much early.
    let t0 = Instant::now();
    let mut pings = Vec::new();
    let mut statuses = Vec::new();
    while t0.elapsed() < Duration::from_secs(2) {
        let Ok((t, msg)) = rx.recv_timeout(Duration::from_secs(1)) else {
            break;
        };
        if msg == "WATCHDOG=1" {
            pings.push(t);
        } else {
            statuses.push(msg);
        }
    }
    assert!(
        (7..=12).contains(&pings.len()),
        "{} pings in 2 s (every 200 ms expected)\n{}",
        pings.len(),
        log()
    );
    for w in pings.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= Duration::from_millis(150) && gap < WATCHDOG,
            "watchdog gap {gap:?}"
        );
    }
    // The instance's state in STATUS=, as it changes (BACKUP first, MASTER after its
    // Master_Down_Interval with no other router on the link).
    assert!(
        statuses
            .iter()
            .any(|m| m == "STATUS=VI_1 BACKUP" || m == "STATUS=VI_1 MASTER"),
        "no STATUS line with the state: {statuses:?}"
    );
    if !statuses.iter().any(|m| m == "STATUS=VI_1 MASTER") {
        assert!(
            wait_line(&rx, "STATUS=VI_1 MASTER", Duration::from_secs(10)).is_some(),
            "no STATUS=VI_1 MASTER\n{}",
            log()
        );
    }

    // SIGHUP: RELOADING=1, then READY=1.
    signal(&lvsd, "HUP");
    let (t_reloading, _) = wait_line(&rx, "RELOADING=1", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no RELOADING=1\n{}", log()));
    let (t_ready, _) = wait_line(&rx, "READY=1", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no READY=1 after the reload\n{}", log()));
    assert!(t_ready >= t_reloading);

    // SIGTERM: STOPPING=1, exit 0.
    signal(&lvsd, "TERM");
    assert!(
        wait_line(&rx, "STOPPING=1", Duration::from_secs(5)).is_some(),
        "no STOPPING=1\n{}",
        log()
    );
    assert_eq!(
        wait_exit(&mut lvsd, Duration::from_secs(5)),
        Some(0),
        "{}",
        log()
    );
}

#[test]
fn no_ready_when_the_vrrp_side_cannot_start() {
    if skip_unless("no_ready_when_the_vrrp_side_cannot_start", &[]) {
        return;
    }
    let node = Node::new("opsnrd");
    let sock = node.dir.join("notify.sock");
    let rx = listen(&sock);
    let conf = node.dir.join("bad-if.conf");
    let text = std::fs::read_to_string(data("node-a.conf")).expect("config");
    std::fs::write(&conf, text.replace("interface eth0", "interface eth9")).expect("write");
    let mut lvsd = node
        .lvsd(&conf, &["-P"], "lvsd.log")
        .env("NOTIFY_SOCKET", &sock)
        .spawn()
        .expect("spawn lvsd");
    let code = wait_exit(&mut lvsd, Duration::from_secs(10));
    assert_eq!(code, Some(1), "{}", node.dir.read("lvsd.log"));
    let msgs: Vec<String> = rx.try_iter().map(|m| m.1).collect();
    assert!(
        !msgs.iter().any(|m| m.lines().any(|l| l == "READY=1")),
        "READY=1 although the VRRP side failed: {msgs:?}"
    );
    assert!(!node.control().exists(), "control socket left behind");
    kill(lvsd);
}

#[test]
fn unit_file_passes_systemd_analyze_verify() {
    if !have("systemd-analyze") {
        eprintln!(
            "SKIP unit_file_passes_systemd_analyze_verify: needs the program `systemd-analyze`"
        );
        return;
    }
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/lvsd.service"))
        .expect("read unit");
    assert!(unit.contains("\nType=notify\n") && unit.contains("\nWatchdogSec="));
    assert!(unit.contains("\nAmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW\n"));
    // The binary must exist for verify: point ExecStart at the one under test.
    let dir = Scratch::new("opsunit");
    let path = dir.join("lvsd.service");
    std::fs::write(&path, unit.replace("/usr/sbin/lvsd", lvsd_bin())).expect("write unit");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.trim().is_empty(), "systemd-analyze warns:\n{text}");
}
