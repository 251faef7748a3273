//! `lvs-check` against real servers in network namespaces (root): the seed's DR configuration
//! (documentation addresses, checkers added: see tests/data/seed-dr.conf) with one real server
//! down, then both up; and continuous mode printing a transition.

use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::Duration;

use lvs_testkit::{Lan, Netns, skip_unless, wait_until};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_lvs-check");

struct Topo {
    lb: Netns,
    rs12: Netns,
    rs13: Netns,
    _lan: Lan,
}

fn topo(tag: &str) -> Topo {
    let lan = Lan::new(tag).unwrap();
    let lb = Netns::new(&format!("{tag}-lb")).unwrap();
    let rs12 = Netns::new(&format!("{tag}-12")).unwrap();
    let rs13 = Netns::new(&format!("{tag}-13")).unwrap();
    for (ns, a) in [
        (&lb, "198.51.100.1/24"),
        (&rs12, "198.51.100.12/24"),
        (&rs13, "198.51.100.13/24"),
    ] {
        lan.attach(ns, "eth0").unwrap();
        ns.run(&["ip", "addr", "add", a, "dev", "eth0"]).unwrap();
    }
    Topo {
        lb,
        rs12,
        rs13,
        _lan: lan,
    }
}

/// busybox httpd serving `dir` on `addr` inside `ns`, once it answers.
fn httpd(ns: &Netns, addr: &str, dir: &std::path::Path) -> Child {
    let child = ns
        .cmd("busybox")
        .args(["httpd", "-f", "-p", addr, "-h"])
        .arg(dir)
        .spawn()
        .unwrap();
    let up = wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
        ns.run(&["ss", "-Hltn"])
            .is_ok_and(|s| s.split_whitespace().any(|w| w == addr))
    });
    assert!(up, "httpd on {addr} did not start");
    child
}

fn seed_conf() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed-dr.conf")
}

fn run_in(ns: &Netns, args: &[&str]) -> Output {
    let mut c: Command = ns.cmd(BIN);
    c.args(args).output().unwrap()
}

fn stop(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

#[test]
fn once_diagnoses_the_seed_dr_config() {
    if skip_unless("once_diagnoses_the_seed_dr_config", &["busybox", "ss"]) {
        return;
    }
    let t = topo("cli");
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("health"), "ok\n").unwrap();
    let conf = seed_conf();
    let conf = conf.to_str().unwrap();

    // 198.51.100.13 is down (nothing listens on :80).
    let h12 = httpd(&t.rs12, "198.51.100.12:80", www.path());
    let out = run_in(&t.lb, &["--config", conf, "--once", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["all_ok"], false);
    let vs = &v["virtual_servers"][0];
    assert_eq!(vs["vs"], "203.0.113.62:80");
    let checks = vs["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["rs"], "198.51.100.12:80");
    assert_eq!(checks[0]["check"], "TCP_CHECK");
    assert_eq!(checks[0]["ok"], true);
    assert_eq!(checks[1]["rs"], "198.51.100.13:80");
    assert_eq!(checks[1]["check"], "HTTP_GET");
    assert_eq!(checks[1]["ok"], false);
    let reason = checks[1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("198.51.100.13:80") && reason.contains("connection refused"),
        "{reason}"
    );
    assert_eq!(
        vs["pool"],
        serde_json::json!([{"dest": "198.51.100.12:80", "weight": 1}])
    );
    assert_eq!(vs["quorum"], "up");
    // The seed's `weight` without a value is reported on stderr (keepalived uses 1).
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("seed-dr.conf:39:9"), "{err}");

    // 198.51.100.13 answers, but without /health: a wrong status.
    let empty = tempfile::tempdir().unwrap();
    let h13 = httpd(&t.rs13, "198.51.100.13:80", empty.path());
    let out = run_in(&t.lb, &["--config", conf, "--once"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("HTTP 404 from 198.51.100.13:80 /health, expected 200"),
        "{text}"
    );
    assert!(text.contains("pool: 198.51.100.12:80 weight 1\n"), "{text}");
    stop(h13);

    // Both up: exit 0 and both in the pool.
    let h13 = httpd(&t.rs13, "198.51.100.13:80", www.path());
    let out = run_in(&t.lb, &["--config", conf, "--once", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["all_ok"], true);
    assert_eq!(
        v["virtual_servers"][0]["pool"],
        serde_json::json!([
            {"dest": "198.51.100.12:80", "weight": 1},
            {"dest": "198.51.100.13:80", "weight": 1}
        ])
    );
    stop(h13);
    stop(h12);
}

#[test]
fn continuous_mode_prints_transitions() {
    if skip_unless("continuous_mode_prints_transitions", &["busybox", "ss"]) {
        return;
    }
    let t = topo("cont");
    let www = tempfile::tempdir().unwrap();
    let conf = www.path().join("keepalived.conf");
    std::fs::write(
        &conf,
        "virtual_server 203.0.113.62 80 {\n delay_loop 0.3\n lb_kind DR\n \
         real_server 198.51.100.12 80 {\n  TCP_CHECK {\n   retry 0\n   connect_timeout 1\n  }\n }\n \
         real_server 198.51.100.13 80 {\n  TCP_CHECK {\n   retry 0\n   connect_timeout 1\n  }\n }\n}\n",
    )
    .unwrap();
    let h12 = httpd(&t.rs12, "198.51.100.12:80", www.path());
    let h13 = httpd(&t.rs13, "198.51.100.13:80", www.path());
    let child =
        t.lb.cmd(BIN)
            .args([
                "--config",
                conf.to_str().unwrap(),
                "--duration",
                "3",
                "--no-warmup",
                "--stats",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    stop(h13);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert_eq!(l["vs"], "203.0.113.62:80");
    assert_eq!(l["rs"], "198.51.100.13:80");
    assert_eq!(l["from"], "up");
    assert_eq!(l["to"], "down");
    assert!(
        l["reason"].as_str().unwrap().contains("connection refused"),
        "{l}"
    );
    let t_ms = l["t_ms"].as_u64().unwrap();
    assert!((1200..2200).contains(&t_ms), "{t_ms}");
    let err = String::from_utf8_lossy(&out.stderr);
    let stats: Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    // 2 servers every 0.3 s for 3 s.
    let n = stats["checks"].as_u64().unwrap();
    assert!((16..=22).contains(&n), "{stats}");
    assert!(stats["rss_kib"].as_u64().unwrap() > 0);
    stop(h12);
}
