//! Notify script identity and safety: `script_user` runs scripts as that user;
//! `enable_script_security` refuses a script run as root whose directory a non-root user could
//! write to (and without it, the same script runs with a warning), as keepalived does.

mod vrrp_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lvs_testkit::{skip_unless, wait_until};
use vrrp_support::*;

/// `<dir>/who.sh`: writes its uid into the file named by its first argument.
fn who_script(dir: &Path, mode: u32) -> PathBuf {
    std::fs::create_dir_all(dir).expect("script dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod dir");
    let script = dir.join("who.sh");
    std::fs::write(&script, "#!/bin/sh\nid -u > \"$1\"\n").expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// A directory anyone can write results into.
fn out_dir(p: &Pair) -> PathBuf {
    let out = p.logs.0.join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o1777)).expect("chmod out");
    out
}

/// node-b.conf (starts BACKUP, alone it becomes MASTER after its Master_Down_Interval) with
/// `global` lines in global_defs and `notify` lines in the instance.
fn conf(p: &Pair, name: &str, global: &str, notify: &str) -> PathBuf {
    p.conf_from("node-b.conf", name, |t| {
        t.replace(
            "   router_id LVS_B\n",
            &format!("   router_id LVS_B\n{global}"),
        )
        .replace(
            "    virtual_ipaddress {",
            &format!("{notify}    virtual_ipaddress {{"),
        )
    })
}

fn read_uid(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

#[test]
fn script_user_runs_notify_scripts_as_that_user() {
    if skip_unless(
        "script_user_runs_notify_scripts_as_that_user",
        &["ip", "id"],
    ) {
        return;
    }
    let nobody = std::process::Command::new("id")
        .args(["-u", "nobody"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(nobody) = nobody else {
        eprintln!("SKIP script_user_runs_notify_scripts_as_that_user: no user nobody");
        return;
    };
    let p = Pair::new("lvsdsu");
    let script = who_script(&p.logs.0.join("bin"), 0o755);
    let out = out_dir(&p);
    let (m, b) = (out.join("master"), out.join("backup"));
    let c = conf(
        &p,
        "su.conf",
        "   script_user nobody\n",
        &format!(
            "    notify_master \"{s} {m}\"\n    notify_backup \"{s} {b}\" root\n",
            s = script.display(),
            m = m.display(),
            b = b.display()
        ),
    );
    let child = p.start_path(&p.a, &c, "a.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || read_uid(&m)
            .is_some_and(|u| !u.is_empty())
            && read_uid(&b).is_some_and(|u| !u.is_empty())),
        "scripts did not run\nA: {}",
        p.log("a.log")
    );
    // script_user applies to scripts without a user of their own; `root` overrides it.
    assert_eq!(
        read_uid(&m).as_deref(),
        Some(nobody.as_str()),
        "{}",
        p.log("a.log")
    );
    assert_eq!(read_uid(&b).as_deref(), Some("0"), "{}", p.log("a.log"));
    kill(child);
}

#[test]
fn enable_script_security_refuses_unsafe_root_scripts() {
    if skip_unless(
        "enable_script_security_refuses_unsafe_root_scripts",
        &["ip", "id"],
    ) {
        return;
    }
    let p = Pair::new("lvsdss");
    let safe = who_script(&p.logs.0.join("safe"), 0o755);
    // A directory any user may write to (no sticky bit): whoever can write there can replace
    // the script that root runs.
    let unsafe_ = who_script(&p.logs.0.join("open"), 0o777);
    let out = out_dir(&p);
    let (m, b) = (out.join("master"), out.join("backup"));
    let notify = format!(
        "    notify_master \"{u} {m}\"\n    notify_backup \"{s} {b}\"\n",
        u = unsafe_.display(),
        s = safe.display(),
        m = m.display(),
        b = b.display()
    );
    let secure = conf(
        &p,
        "secure.conf",
        "   enable_script_security\n   script_user root\n",
        &notify,
    );
    let child = p.start_path(&p.a, &secure, "a.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)),
        "A never became master: {}",
        p.log("a.log")
    );
    assert!(
        wait_until(Duration::from_secs(3), POLL, || read_uid(&b).as_deref()
            == Some("0")),
        "the safe script did not run: {}",
        p.log("a.log")
    );
    std::thread::sleep(Duration::from_millis(500));
    let log = p.log("a.log");
    assert!(!m.exists(), "the unsafe script ran: {log}");
    assert!(
        log.lines()
            .any(|l| l.contains("notify script refused") && l.contains("world-writable")),
        "{log}"
    );
    kill(child);

    // Without enable_script_security the same script runs, with a warning.
    let _ = std::fs::remove_file(&b);
    let lax = conf(&p, "lax.conf", "   script_user root\n", &notify);
    let child = p.start_path(&p.a, &lax, "a2.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || read_uid(&m).as_deref()
            == Some("0")),
        "the script did not run without enable_script_security: {}",
        p.log("a2.log")
    );
    assert!(
        p.log("a2.log").contains("unsafe permissions"),
        "{}",
        p.log("a2.log")
    );
    kill(child);
}

/// The arguments a notify script gets from a quoted command line with blanks, quotes of both
/// kinds and escapes: lvsd passes what keepalived (the judge) passes.
#[test]
fn notify_arguments_split_as_keepalived_splits_them() {
    if skip_unless(
        "notify_arguments_split_as_keepalived_splits_them",
        &["ip", "keepalived"],
    ) {
        return;
    }
    let p = Pair::new("lvsdsq");
    let bin = p.logs.0.join("bin");
    std::fs::create_dir_all(&bin).expect("script dir");
    let script = bin.join("args.sh");
    // Each argument after the first (the output file) on a line of its own, bracketed.
    std::fs::write(
        &script,
        "#!/bin/sh\nout=$1; shift\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$out\"\n",
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = out_dir(&p);
    let run = |who: &str| {
        let file = out.join(who);
        let c = conf(
            &p,
            &format!("{who}.conf"),
            "   script_user root\n",
            &format!(
                r#"    notify_master "{s} {f} '\"s p a c e \"' a\tb 'c d'e f\ g \"h i\" ''  last"
"#,
                s = script.display(),
                f = file.display()
            ),
        );
        let child = if who == "keepalived" {
            p.start_keepalived_path(&p.a, &c, "k.log")
        } else {
            p.start_path(&p.a, &c, "a.log")
        };
        let ran = wait_until(Duration::from_secs(10), POLL, || {
            std::fs::read_to_string(&file).is_ok_and(|s| s.ends_with("[last]\n"))
        });
        // SIGTERM: keepalived's VRRP child leaves with its parent (and the VIP with it);
        // then nothing of this run may stay in the namespace for the next one.
        let mut child = child;
        signal(&child, "TERM");
        let _ = wait_exit(&mut child, Duration::from_secs(5));
        kill(child);
        p.a.kill_all();
        assert!(
            ran,
            "{who}'s notify_master did not run\n{}\n{}",
            p.log("k.log"),
            p.log("a.log")
        );
        std::fs::read_to_string(&file).expect("arguments")
    };
    let keepalived = run("keepalived");
    let lvsd = run("lvsd");
    assert_eq!(lvsd, keepalived);
    assert_eq!(
        keepalived,
        "[\"s p a c e \"]\n[a]\n[b]\n[c de]\n[f]\n[g]\n[h i]\n[]\n[last]\n"
    );
}
