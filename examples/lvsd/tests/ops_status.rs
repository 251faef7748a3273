//! `lvsd status` over the control socket, the SIGUSR1 dump and reload bookkeeping, against a
//! real `lvsd -P` with the seed's DR director configuration in a network namespace.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{Node, VIP, data, first_state, signal, status, wait_exit, wait_status};
use lvs_testkit::{skip_unless, wait_until};

#[test]
fn status_socket_dump_and_reload_bookkeeping() {
    if skip_unless("status_socket_dump_and_reload_bookkeeping", &[]) {
        return;
    }
    let node = Node::new("opsst");
    let conf = node.dir.join("keepalived.conf");
    let good = std::fs::read_to_string(data("node-a.conf")).expect("read config");
    std::fs::write(&conf, &good).expect("write config");
    let pid_file = node.dir.join("lvsd.pid");
    let mut lvsd = node.start(&conf, &["-P", "-p", pid_file.to_str().unwrap()], "lvsd.log");
    let log = || node.dir.read("lvsd.log");

    let st = wait_status(&node.control(), Duration::from_secs(10), |s| {
        first_state(s) == "MASTER"
    })
    .unwrap_or_else(|| panic!("never MASTER in `lvsd status`\n{}", log()));
    assert!(node.holds(VIP), "MASTER without the VIP\n{}", log());
    let d = &st["daemon"];
    assert_eq!(d["pid"], lvsd.id(), "{st:#}");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap_or_default(),
        format!("{}\n", lvsd.id()),
        "-p pid file"
    );
    assert_eq!(d["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(d["config_file"], conf.display().to_string());
    assert_eq!(d["subsystems"], serde_json::json!(["vrrp"]));
    assert_eq!(d["reloads"], 0);
    assert!(d["last_reload_error"].is_null());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let started = d["started_unix"].as_u64().expect("started_unix");
    assert!(started <= now && now - started < 60, "{st:#}");

    let i = &st["instances"][0];
    assert_eq!(i["name"], "VI_1");
    assert_eq!(i["interface"], "eth0");
    assert_eq!(i["vrid"], 17);
    assert_eq!(i["version"], 2);
    assert_eq!(i["priority"], 100);
    assert_eq!(i["effective_priority"], 100);
    assert_eq!(i["vips"], serde_json::json!([VIP]));
    assert_eq!(i["master"], "192.0.2.1", "a MASTER names itself");
    // The socket is the daemon's alone.
    let mode = std::fs::metadata(node.control())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "control socket mode {mode:o}");

    // Adverts go out once per second: the counter moves between two queries.
    let tx = |s: &serde_json::Value| s["instances"][0]["counters"]["adverts_tx"].as_u64();
    let first = tx(&st).unwrap_or(0);
    let later = wait_status(&node.control(), Duration::from_secs(5), |s| {
        tx(s).is_some_and(|n| n >= first + 2)
    });
    assert!(later.is_some(), "adverts_tx does not count\n{st:#}");

    // SIGUSR1: the same document in the dump file.
    let dump = node.dir.join("lvsd.json");
    signal(&lvsd, "USR1");
    assert!(
        wait_until(Duration::from_secs(5), common::POLL, || dump.exists()),
        "no dump after SIGUSR1\n{}",
        log()
    );
    let dumped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).expect("dump is JSON");
    assert_eq!(dumped["daemon"]["pid"], lvsd.id());
    assert_eq!(first_state(&dumped), "MASTER");

    // A broken configuration on SIGHUP: refused, recorded, the instance keeps running.
    std::fs::write(
        &conf,
        good.replace("virtual_router_id 17", "virtual_router_id"),
    )
    .unwrap();
    signal(&lvsd, "HUP");
    let st = wait_status(&node.control(), Duration::from_secs(5), |s| {
        !s["daemon"]["last_reload_error"].is_null()
    })
    .unwrap_or_else(|| panic!("refused reload not recorded\n{}", log()));
    assert_eq!(st["daemon"]["reloads"], 0, "{st:#}");
    assert_eq!(first_state(&st), "MASTER");
    assert!(log().contains("reload refused"), "{}", log());
    // Fixed: counted, the error cleared.
    std::fs::write(&conf, &good).unwrap();
    signal(&lvsd, "HUP");
    let st = wait_status(&node.control(), Duration::from_secs(5), |s| {
        s["daemon"]["reloads"] == 1
    })
    .unwrap_or_else(|| panic!("reload not counted\n{}", log()));
    assert!(st["daemon"]["last_reload_error"].is_null(), "{st:#}");
    assert!(node.holds(VIP));

    // SIGTERM: exit 0, the socket removed, `lvsd status` says nobody answers.
    signal(&lvsd, "TERM");
    assert_eq!(
        wait_exit(&mut lvsd, Duration::from_secs(5)),
        Some(0),
        "{}",
        log()
    );
    assert!(!node.control().exists(), "control socket left behind");
    assert!(!pid_file.exists(), "pid file left behind");
    let (code, err) = status(&node.control()).expect_err("status without a daemon");
    assert_eq!(code, Some(1));
    assert!(err.contains("is the daemon running"), "{err}");
}
