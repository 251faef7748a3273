//! Command-line behaviour that needs no kernel state: usage errors exit 2 with a clear line,
//! `down` without a state says so.

mod common;

use common::rs_here;

#[test]
fn usage_errors_exit_2() {
    for (args, needle) in [
        (&[][..], "<ACTION>"),
        (
            &["up", "--mode", "dr"][..],
            "--vip ADDR[,ADDR...] is required",
        ),
        (
            &["up", "--mode", "xx", "--vip", "192.0.2.10"][..],
            "invalid value 'xx'",
        ),
        (
            &["up", "--mode", "dr", "--vip", "192.0.2.300"][..],
            "invalid value '192.0.2.300'",
        ),
        (
            &["up", "--mode", "nat", "--vip", "192.0.2.10"][..],
            "--gateway ADDR (the director's inside address) is required",
        ),
        (
            &["up", "--mode", "tun", "--vip", "2001:db8::10"][..],
            "carries IPv4 only",
        ),
        (
            &[
                "status",
                "--vip",
                "192.0.2.10",
                "--state-dir",
                "/nonexistent/lvs-rs",
            ][..],
            "--mode dr|tun|nat is required",
        ),
        (&["down", "--dry-run"][..], "--dry-run only applies to up"),
        (
            &["up", "--mode", "dr", "--vip", "192.0.2.10", "--dev", "a/b"][..],
            "--dev a/b",
        ),
    ] {
        let r = rs_here(args);
        assert_eq!(r.code, 2, "{args:?}: {r}");
        assert!(
            r.stderr.contains(needle),
            "{args:?}: wanted {needle:?} in {r}"
        );
        assert!(r.stdout.is_empty(), "{args:?}: {r}");
    }
}

#[test]
fn down_without_state_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("none");
    let r = rs_here(&["down", "--state-dir", state.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("nothing to restore: no state in"), "{r}");
    assert!(!state.exists());
}

#[test]
fn corrupt_state_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("realserver.json");
    std::fs::write(&file, "{ not json").unwrap();
    let r = rs_here(&["down", "--state-dir", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("is corrupt (line 1, column"), "{r}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ not json");
}
