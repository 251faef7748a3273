//! Runs the built `vrrp-sim` binary and checks the textbook takeover times from its output.

use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vrrp-sim"))
        .args(args)
        .output()
        .expect("run vrrp-sim")
}

fn lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "vrrp-sim failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn t(v: &Value) -> f64 {
    v["t_ms"].as_f64().expect("t_ms")
}

/// Time from the last advert of `old` (before `event_ms`) to `new` becoming master.
fn takeover_after_last_advert(v: &[Value], old: &str, new: &str, event_ms: f64) -> f64 {
    let last = v
        .iter()
        .filter(|l| l["event"] == "advert" && l["router"] == old && t(l) <= event_ms)
        .map(t)
        .fold(f64::NAN, f64::max);
    let took = v
        .iter()
        .find(|l| l["router"] == new && l["to"] == "master" && t(l) > event_ms)
        .map(t)
        .expect("a takeover");
    took - last
}

const DELAY_MS: f64 = 0.5;

#[test]
fn v2_textbook_crash_takeover_is_3_609_s() {
    let out = run(&[
        "--router",
        "a:200:192.0.2.1",
        "--router",
        "b:100:192.0.2.2",
        "--version",
        "2",
        "--interval",
        "100",
        "--delay",
        "0.5",
        "--at",
        "5000:crash:a",
        "--until",
        "12000",
        "--trace",
    ]);
    let v = lines(&out);
    let dt = takeover_after_last_advert(&v, "a", "b", 5_000.0);
    // 3 s + 156/256 s = 3609.375 ms, plus the link delay of the last advert.
    assert!(
        (dt - 3_609.375).abs() <= DELAY_MS + 0.001,
        "takeover {dt} ms after the last advert"
    );
    let b = v
        .iter()
        .find(|l| l["router"] == "b" && l["to"] == "master")
        .expect("b master");
    assert_eq!(b["from"], "backup");
    assert_eq!(b["reason"], "master-down");
}

#[test]
fn v3_textbook_crash_takeover_at_100_cs_is_360_9375_cs() {
    let out = run(&[
        "--router",
        "a:200:192.0.2.1",
        "--router",
        "b:100:192.0.2.2",
        "--version",
        "3",
        "--interval",
        "100",
        "--delay",
        "0.5",
        "--at",
        "5000:crash:a",
        "--until",
        "12000",
        "--trace",
    ]);
    let dt = takeover_after_last_advert(&lines(&out), "a", "b", 5_000.0);
    assert!(
        (dt - 3_609.375).abs() <= DELAY_MS + 0.001,
        "takeover {dt} ms after the last advert"
    );
}

#[test]
fn v3_fast_interval_and_graceful_shutdown_takeover_is_skew_time() {
    // 10 cs, priority 100: Master_Down_Interval 360.9375 ms; a priority-0 advert cuts it to the
    // skew, 60.9375 ms.
    let args = [
        "--router",
        "a:200:192.0.2.1",
        "--router",
        "b:100:192.0.2.2",
        "--version",
        "3",
        "--interval",
        "10",
        "--delay",
        "0.5",
        "--until",
        "3000",
        "--trace",
    ];
    let mut crash = args.to_vec();
    crash.extend(["--at", "2005:crash:a"]);
    let dt = takeover_after_last_advert(&lines(&run(&crash)), "a", "b", 2_005.0);
    assert!((dt - 360.9375).abs() <= DELAY_MS + 0.001, "crash: {dt}");
    let mut stop = args.to_vec();
    stop.extend(["--at", "2005:shutdown:a"]);
    let v = lines(&run(&stop));
    let zero = v
        .iter()
        .find(|l| l["event"] == "advert" && l["priority"] == 0)
        .expect("priority 0 advert");
    assert_eq!(t(zero), 2_005.0);
    let took = v
        .iter()
        .find(|l| l["router"] == "b" && l["to"] == "master")
        .map(t)
        .expect("takeover");
    assert!(
        (took - 2_005.0 - 60.9375).abs() <= DELAY_MS + 0.001,
        "shutdown: {took}"
    );
}

#[test]
fn issue_example_runs_deterministically() {
    let args = [
        "--router",
        "a:100:192.0.2.1",
        "--router",
        "b:90:192.0.2.2",
        "--version",
        "3",
        "--interval",
        "100",
        "--at",
        "5000:crash:a",
        "--at",
        "12000:restart:a",
        "--loss",
        "0.05",
        "--seed",
        "7",
        "--until",
        "20000",
    ];
    let first = run(&args);
    let v = lines(&first);
    assert_eq!(first.stdout, run(&args).stdout, "same seed, same run");
    // a wins first (higher priority), b takes over after the crash, a preempts after restart.
    let masters: Vec<&str> = v
        .iter()
        .filter(|l| l["to"] == "master")
        .filter_map(|l| l["router"].as_str())
        .collect();
    assert_eq!(masters, ["a", "b", "a"]);
    let last = v.last().expect("lines");
    assert_eq!(
        (last["router"].as_str(), last["to"].as_str()),
        (Some("b"), Some("backup"))
    );
    for l in &v {
        for key in ["t_ms", "router", "from", "to", "reason"] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
}

#[test]
fn script_file_is_the_same_as_flags() {
    let dir = std::env::temp_dir().join(format!("vrrp-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let script = dir.join("scenario.txt");
    std::fs::write(
        &script,
        "# two routers, v2\nrouter a:200:192.0.2.1\nrouter b:100:192.0.2.2\nversion 2\n\
         at 5000 crash a   # same as 5000:crash:a\nuntil 12000\n",
    )
    .expect("write script");
    let from_file = run(&["--script", script.to_str().expect("utf-8 path")]);
    let from_flags = run(&[
        "--router",
        "a:200:192.0.2.1",
        "--router",
        "b:100:192.0.2.2",
        "--version",
        "2",
        "--at",
        "5000:crash:a",
        "--until",
        "12000",
    ]);
    assert_eq!(lines(&from_file), lines(&from_flags));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nopreempt_and_partition_options() {
    let v = lines(&run(&[
        "--router",
        "a:100:192.0.2.1",
        "--router",
        "b:200:192.0.2.2:nopreempt:late",
        "--at",
        "5000:start:b",
        "--at",
        "10000:partition:a/b",
        "--at",
        "15000:heal",
        "--until",
        "25000",
    ]));
    let masters: Vec<(&str, f64)> = v
        .iter()
        .filter(|l| l["to"] == "master")
        .map(|l| (l["router"].as_str().unwrap_or(""), t(l)))
        .collect();
    // b joins late with nopreempt: stays backup; the partition makes it master; after the heal
    // the two masters meet and the higher priority (b) keeps it.
    assert_eq!(masters.iter().map(|m| m.0).collect::<Vec<_>>(), ["a", "b"]);
    assert!(masters[1].1 > 10_000.0 && masters[1].1 < 15_000.0);
    let yielded = v
        .iter()
        .find(|l| l["router"] == "a" && l["from"] == "master")
        .expect("a yields");
    assert_eq!(yielded["reason"], "higher-priority");
}

#[test]
fn bad_input_is_a_clear_error() {
    let out = run(&["--router", "a:300:192.0.2.1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--router a:300:192.0.2.1") && err.contains("priority"),
        "{err}"
    );
    let out = run(&[
        "--router",
        "a:100:192.0.2.1",
        "--version",
        "2",
        "--interval",
        "50",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("RFC 3768"),
        "v2 sub-second interval refused"
    );
    let out = run(&["--router", "a:100:192.0.2.1", "--at", "10:explode:a"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown action"));
}
