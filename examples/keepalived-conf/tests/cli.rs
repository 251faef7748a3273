//! Runs the built `keepalived-conf` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keepalived-conf"))
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/keepalived-conf/tests/data"
    ))
    .join(name)
}

fn run(args: &[&str], file: &std::path::Path) -> Output {
    bin()
        .args(args)
        .arg(file)
        .output()
        .expect("run keepalived-conf")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_reports_the_seed_weight_error_and_exits_1() {
    let f = data("seed-dr.conf");
    let o = run(&["check"], &f);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("error[missing-value]: `weight` needs a value"),
        "{e}"
    );
    assert!(e.contains(&format!("--> {}:49:5", f.display())), "{e}");
    assert!(e.contains("49 |     weight\n"), "{e}");
    assert!(
        e.contains("= help: weight needs a value 0-65535; keepalived uses 1"),
        "{e}"
    );
    assert!(e.contains("1 error(s), 0 warning(s)"), "{e}");
    assert!(o.stdout.is_empty());
}

#[test]
fn check_accepts_the_corrected_seeds() {
    for f in [
        "seed-dr-fixed.conf",
        "seed-nat-fixed.conf",
        "seed-tun-fixed.conf",
    ] {
        let o = run(&["check"], &data(f));
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stderr(&o));
        assert!(stderr(&o).contains("0 error(s), 0 warning(s)"));
    }
}

#[test]
fn strict_turns_unknown_keywords_into_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("k.conf");
    std::fs::write(&f, "global_defs {\n router_id a\n frobnicate\n}\n").unwrap();
    let o = run(&["check"], &f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning[unknown-keyword]"));
    let o = run(&["check", "--strict"], &f);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[unknown-keyword]"));
}

#[test]
fn config_id_selects_conditional_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("k.conf");
    std::fs::write(
        &f,
        "global_defs {\n @main router_id main_router\n @backup router_id backup_router\n}\n",
    )
    .unwrap();
    let o = bin()
        .args(["-i", "backup", "dump"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["global_defs"]["router_id"], "backup_router");
    let o = bin()
        .args(["dump", "--config-id", "main"])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["global_defs"]["router_id"], "main_router");
}

#[test]
fn dump_prints_the_model_as_json() {
    let o = run(&["dump"], &data("seed-nat.conf"));
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["vrrp_instances"][0]["name"], "VI_2");
    assert_eq!(v["vrrp_instances"][0]["virtual_router_id"], 172);
    assert_eq!(v["virtual_servers"][0]["lb_kind"], "Nat");
    assert_eq!(v["virtual_servers"][0]["real_servers"][1]["weight"], 1);
    // the error is still reported on stderr
    assert!(stderr(&o).contains("missing-value"));
}

#[test]
fn fmt_output_is_canonical_and_checks_clean() {
    let o = run(&["fmt"], &data("seed-tun.conf"));
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("virtual_server 222.33.180.62 80 {\n    delay_loop 6\n    lb_algo wrr\n    lb_kind TUN\n"), "{text}");
    assert!(
        text.contains("    real_server 172.16.0.13 80 {\n        weight 1\n    }\n"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fmt.conf");
    std::fs::write(&f, &text).unwrap();
    let o = run(&["check"], &f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let again = run(&["fmt"], &f);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
}

#[test]
fn unreadable_file_exits_2() {
    let o = run(
        &["check"],
        std::path::Path::new("/nonexistent/keepalived.conf"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("Error: cannot read /nonexistent/keepalived.conf"));
}
