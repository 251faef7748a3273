//! Real keepalived (2.2.7) as the judge: `keepalived -t` (config test mode) inside a private
//! network namespace with the interfaces the configs name. Where keepalived accepts a config we
//! report no error; where we report an error keepalived rejects the config too.
//! (keepalived -t also fails on its warnings, e.g. "No VIP specified", so the relation is
//! one-directional by design.) Needs root and keepalived; otherwise prints SKIP.

use std::path::{Path, PathBuf};

use keepalived_conf::{Options, parse_file};
use lvs_testkit::{Netns, skip_unless};

fn samples_dir() -> PathBuf {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/keepalived-samples"
    ));
    assert!(
        d.is_dir(),
        "keepalived samples not found at {}",
        d.display()
    );
    d
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

/// A namespace with veth interfaces eth0..eth3 up (the names the configs use).
fn judge_ns() -> Netns {
    let ns = Netns::new("kconf").expect("netns");
    for i in 0..4 {
        let (a, b) = (format!("eth{i}"), format!("peer{i}"));
        ns.run(&["ip", "link", "add", &a, "type", "veth", "peer", "name", &b])
            .expect("veth");
        ns.run(&["ip", "link", "set", &a, "up"]).expect("up");
    }
    ns
}

/// keepalived -t exit status for a file (0 = accepted).
fn keepalived_t(ns: &Netns, file: &Path, config_id: Option<&str>) -> i32 {
    let mut cmd = ns.cmd("keepalived");
    cmd.args(["-t", "-n", "-l", "-f"]).arg(file);
    if let Some(id) = config_id {
        cmd.args(["-i", id]);
    }
    let out = cmd.output().expect("run keepalived -t");
    out.status.code().unwrap_or(-1)
}

fn our_errors(file: &Path, config_id: Option<&str>) -> usize {
    let mut o = Options::default();
    if let Some(id) = config_id {
        o = o.config_id(id);
    }
    parse_file(file, &o).unwrap().error_count()
}

#[test]
fn seed_configs_agree_with_keepalived() {
    if skip_unless("seed_configs_agree_with_keepalived", &["keepalived", "ip"]) {
        return;
    }
    let ns = judge_ns();
    for f in ["seed-dr", "seed-nat", "seed-tun"] {
        let as_written = data(&format!("{f}.conf"));
        let fixed = data(&format!("{f}-fixed.conf"));
        assert_eq!(
            keepalived_t(&ns, &fixed, None),
            0,
            "keepalived rejects {}",
            fixed.display()
        );
        assert_eq!(our_errors(&fixed, None), 0);
        assert_ne!(
            keepalived_t(&ns, &as_written, None),
            0,
            "keepalived accepts {}",
            as_written.display()
        );
        assert_eq!(our_errors(&as_written, None), 1);
    }
}

/// Samples keepalived 2.2.7 itself complains about in this setup, and why.
const KEEPALIVED_COMPLAINS: &[(&str, &str)] = &[
    (
        "keepalived.conf.SSL_GET",
        "initial state MASTER is incompatible with AH authentication",
    ),
    (
        "keepalived.conf.conditional_conf",
        "needs -i high or -i low (checked below)",
    ),
    (
        "keepalived.conf.fwmark",
        "protocol specified for a fwmark service is ignored",
    ),
    (
        "keepalived.conf.track_interface",
        "eth0.1 (a VLAN) does not exist in the test namespace",
    ),
    (
        "keepalived.conf.vrrp.localcheck",
        "scripts without enable_script_security",
    ),
    (
        "keepalived.conf.vrrp.lvs_syncd",
        "old sync group syntax: unknown keywords VI_2, VI_3",
    ),
    (
        "keepalived.conf.vrrp.routes",
        "routes without interface cannot be tracked; deprecated `or`/`gw`",
    ),
    (
        "keepalived.conf.vrrp.rules",
        "invalid rule addresses 192.168.100./24",
    ),
    (
        "keepalived.conf.vrrp.static_ipaddress",
        "a static route without interface cannot be tracked",
    ),
];

#[test]
fn samples_agree_with_keepalived() {
    if skip_unless("samples_agree_with_keepalived", &["keepalived", "ip"]) {
        return;
    }
    let ns = judge_ns();
    let mut accepted = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("keepalived.conf")
        })
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let rc = keepalived_t(&ns, &p, None);
        match KEEPALIVED_COMPLAINS.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => assert_ne!(rc, 0, "{name}: keepalived now accepts it ({why})"),
            None => {
                assert_eq!(rc, 0, "{name}: keepalived -t exit {rc}");
                accepted += 1;
            }
        }
        let id = if name.ends_with("conditional_conf") {
            Some("high")
        } else {
            None
        };
        assert_eq!(our_errors(&p, id), 0, "{name}");
    }
    assert!(accepted >= 16, "only {accepted} samples accepted");
    let cond = samples_dir().join("keepalived.conf.conditional_conf");
    assert_eq!(keepalived_t(&ns, &cond, Some("high")), 0);
    assert_eq!(keepalived_t(&ns, &cond, Some("low")), 0);
}

#[test]
fn our_errors_are_keepalived_errors() {
    if skip_unless("our_errors_are_keepalived_errors", &["keepalived", "ip"]) {
        return;
    }
    let ns = judge_ns();
    let vip = " virtual_ipaddress {\n  192.0.2.1\n }\n";
    let head = "vrrp_instance VI_1 {\n interface eth0\n state BACKUP\n";
    let cases = [
        format!("{head} virtual_router_id 300\n{vip}}}\n"),
        format!("{head} virtual_router_id 1\n priority 0\n{vip}}}\n"),
        format!("{head} virtual_router_id 1\n state MASTR\n{vip}}}\n"),
        format!("{head} virtual_router_id 1\n priority\n{vip}}}\n"),
        format!("{head} virtual_router_id 1\n{vip}}}\nvrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 1\n{vip}}}\n"),
        "virtual_server 192.0.2.1 80 {\n lb_algo fastest\n real_server 192.0.2.2 80 {\n  weight 1\n }\n}\n".to_string(),
        "virtual_server 192.0.2.1 80 {\n real_server 192.0.2.2 80 {\n  weight\n }\n}\n".to_string(),
    ];
    let valid = format!(
        "{head} virtual_router_id 1\n priority 200\n advert_int 2\n{vip}}}\nvirtual_server 192.0.2.1 80 {{\n lb_kind DR\n lb_algo wrr\n protocol TCP\n persistence_timeout\n real_server 192.0.2.2 80 {{\n  weight 3\n  TCP_CHECK {{\n   connect_timeout 3\n  }}\n }}\n}}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in cases.iter().enumerate() {
        let f = dir.path().join(format!("bad{i}.conf"));
        std::fs::write(&f, text).unwrap();
        assert!(our_errors(&f, None) > 0, "case {i}: we accept\n{text}");
        assert_ne!(
            keepalived_t(&ns, &f, None),
            0,
            "case {i}: keepalived accepts\n{text}"
        );
    }
    let f = dir.path().join("good.conf");
    std::fs::write(&f, &valid).unwrap();
    assert_eq!(our_errors(&f, None), 0);
    assert_eq!(keepalived_t(&ns, &f, None), 0, "{valid}");
}
