//! apply / revert on a fake procfs tree: exactness, idempotence, merging, failures, state-file
//! corruption, and a property test over arbitrary initial values.

use std::path::{Path, PathBuf};

use lvs_sysctl::{
    Error, IfName, Ipv4Conf, Ipv6Conf, Key, Procfs, Profile, Scope, Snapshot, State, apply, revert,
};
use proptest::prelude::*;

fn n(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

fn v4(scope: &str, p: Ipv4Conf) -> Key {
    Key::ipv4(Scope::from_dir_name(scope).unwrap(), p)
}

struct Host {
    _dir: tempfile::TempDir,
    sys: Procfs,
    state: PathBuf,
}

/// A temporary directory, in memory when possible: the state file is fsync'd (file and
/// directory), which costs hundreds of milliseconds per call on some disks.
fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

fn host(ifaces: &[&str]) -> Host {
    let dir = tempdir();
    let sys = Procfs::fake(&dir.path().join("sys"), ifaces).unwrap();
    let state = dir.path().join("run/lvs/state.json");
    Host {
        _dir: dir,
        sys,
        state,
    }
}

#[test]
fn dr_apply_then_revert_restores_odd_prior_values() {
    let h = host(&["eth0", "eth1"]);
    // Odd but kernel-accepted values: reserved 5 on eth0, 2 (already fine) on all.
    h.sys
        .write_unchecked(&v4("eth0", Ipv4Conf::ArpIgnore), 5)
        .unwrap();
    h.sys.write(&v4("all", Ipv4Conf::ArpIgnore), 2).unwrap();
    h.sys.write(&v4("eth0", Ipv4Conf::ArpAnnounce), 1).unwrap();
    let before = Snapshot::capture(&h.sys).unwrap();

    let plan = Profile::dr([n("eth0")]).plan(&h.sys).unwrap();
    let report = apply(&h.sys, &plan, &h.state).unwrap();
    let written: Vec<String> = report
        .written
        .iter()
        .map(|c| format!("{}:{}->{}", c.key, c.old, c.new))
        .collect();
    assert_eq!(
        written,
        [
            "net.ipv4.conf.eth0.arp_ignore:5->1",
            "net.ipv4.conf.eth0.arp_announce:1->2",
            "net.ipv4.conf.all.arp_announce:0->2",
        ]
    );
    // all.arp_ignore=2 was already right: neither changed nor recorded.
    assert_eq!(h.sys.read(&v4("all", Ipv4Conf::ArpIgnore)).unwrap(), 2);
    let state = State::load(&h.state).unwrap().unwrap();
    assert_eq!(state.profile, "dr-real-server");
    assert!(
        !state
            .changes
            .iter()
            .any(|c| c.key == v4("all", Ipv4Conf::ArpIgnore))
    );
    assert_eq!(state.changes.len(), 3);

    let r = revert(&h.sys, &h.state).unwrap();
    assert_eq!(r.restored.len(), 3);
    assert!(r.drifted.is_empty() && r.gone.is_empty());
    assert_eq!(h.sys.read(&v4("eth0", Ipv4Conf::ArpIgnore)).unwrap(), 5);
    assert_eq!(Snapshot::capture(&h.sys).unwrap(), before);
    assert!(!h.state.exists(), "state file removed after revert");
}

#[test]
fn apply_twice_is_idempotent_and_keeps_the_state_file() {
    let h = host(&["eth0"]);
    let before = Snapshot::capture(&h.sys).unwrap();
    let profile = Profile::dr([n("eth0")]);
    apply(&h.sys, &profile.plan(&h.sys).unwrap(), &h.state).unwrap();
    let bytes = std::fs::read(&h.state).unwrap();
    let after_first = Snapshot::capture(&h.sys).unwrap();

    let plan = profile.plan(&h.sys).unwrap();
    assert!(plan.is_empty());
    let r = apply(&h.sys, &plan, &h.state).unwrap();
    assert!(r.written.is_empty());
    assert_eq!(
        std::fs::read(&h.state).unwrap(),
        bytes,
        "state file untouched"
    );
    assert_eq!(Snapshot::capture(&h.sys).unwrap(), after_first);

    // Applying an old plan again: every key is already set; nothing written, nothing recorded.
    let stale = {
        let fresh = host(&["eth0"]);
        profile.plan(&fresh.sys).unwrap()
    };
    let r = apply(&h.sys, &stale, &h.state).unwrap();
    assert!(r.written.is_empty());
    assert_eq!(r.already_set.len(), 4);
    assert_eq!(std::fs::read(&h.state).unwrap(), bytes);

    revert(&h.sys, &h.state).unwrap();
    assert_eq!(Snapshot::capture(&h.sys).unwrap(), before);
}

#[test]
fn reapply_after_drift_keeps_the_original_values() {
    let h = host(&["eth0"]);
    let before = Snapshot::capture(&h.sys).unwrap();
    let profile = Profile::dr([n("eth0")]);
    apply(&h.sys, &profile.plan(&h.sys).unwrap(), &h.state).unwrap();
    // Someone resets all.arp_ignore to 3; apply again.
    h.sys.write(&v4("all", Ipv4Conf::ArpIgnore), 3).unwrap();
    let plan = profile.plan(&h.sys).unwrap();
    assert_eq!(plan.changes.len(), 1);
    let r = apply(&h.sys, &plan, &h.state).unwrap();
    assert_eq!((r.written[0].old, r.written[0].new), (3, 1));
    let state = State::load(&h.state).unwrap().unwrap();
    let rec = state
        .changes
        .iter()
        .find(|c| c.key == v4("all", Ipv4Conf::ArpIgnore))
        .unwrap();
    assert_eq!(rec.old, 0, "the value from before the first apply is kept");
    revert(&h.sys, &h.state).unwrap();
    assert_eq!(Snapshot::capture(&h.sys).unwrap(), before);
}

#[test]
fn revert_reports_drift_and_restores_anyway() {
    let h = host(&["eth0"]);
    let before = Snapshot::capture(&h.sys).unwrap();
    apply(
        &h.sys,
        &Profile::dr([n("eth0")]).plan(&h.sys).unwrap(),
        &h.state,
    )
    .unwrap();
    h.sys.write(&v4("eth0", Ipv4Conf::ArpAnnounce), 1).unwrap();
    let r = revert(&h.sys, &h.state).unwrap();
    assert_eq!(r.drifted.len(), 1);
    assert_eq!((r.drifted[0].applied, r.drifted[0].found), (2, 1));
    assert_eq!(Snapshot::capture(&h.sys).unwrap(), before);
}

#[test]
fn revert_without_state_is_a_clear_error() {
    let h = host(&["eth0"]);
    let e = revert(&h.sys, &h.state).unwrap_err();
    assert!(e.is_no_state());
    assert!(
        e.to_string()
            .starts_with("nothing to revert: no state file at "),
        "{e}"
    );
}

#[test]
fn apply_with_nothing_to_do_still_leaves_a_revertible_state() {
    let h = host(&["eth0"]);
    let plan = Profile::nat().plan(&h.sys).unwrap();
    apply(&h.sys, &plan, &h.state).unwrap();
    let r = revert(&h.sys, &h.state).unwrap();
    assert!(r.restored.is_empty());
    assert!(!h.state.exists());
}

fn corrupt(h: &Host, content: &str) -> Error {
    std::fs::create_dir_all(h.state.parent().unwrap()).unwrap();
    std::fs::write(&h.state, content).unwrap();
    let before = Snapshot::capture(&h.sys).unwrap();
    let e = revert(&h.sys, &h.state).unwrap_err();
    assert_eq!(
        Snapshot::capture(&h.sys).unwrap(),
        before,
        "nothing changed"
    );
    assert!(h.state.exists(), "a corrupt state file is left in place");
    let plan = Profile::dr([n("eth0")]).plan(&h.sys).unwrap();
    let e2 = apply(&h.sys, &plan, &h.state).unwrap_err();
    assert!(matches!(e2, Error::StateCorrupt { .. }), "{e2}");
    assert_eq!(
        Snapshot::capture(&h.sys).unwrap(),
        before,
        "apply refused too"
    );
    e
}

#[test]
fn corrupt_state_files_are_clear_errors() {
    let h = host(&["eth0"]);
    let e = corrupt(
        &h,
        "{\"version\": 1, \"profile\": \"dr-real-server\",\n  \"changes\": [tru",
    );
    let msg = e.to_string();
    assert!(matches!(e, Error::StateCorrupt { .. }));
    assert!(msg.contains("line 2, column"), "{msg}");

    let e = corrupt(&h, "");
    assert!(e.to_string().contains("line 1, column 0"), "{e}");

    let e = corrupt(
        &h,
        r#"{"version":1,"profile":"dr-real-server","changes":[{"key":"net.ipv4.conf.eth0.arp_nope","old":0,"new":1,"reason":""}],"side_effects":[]}"#,
    );
    assert!(
        e.to_string()
            .contains("unknown ipv4 parameter \"arp_nope\""),
        "{e}"
    );

    let e = corrupt(
        &h,
        r#"{"version":9,"profile":"dr-real-server","changes":[],"side_effects":[]}"#,
    );
    assert!(e.to_string().contains("unsupported version 9"), "{e}");
}

#[test]
fn apply_refuses_another_profiles_state() {
    let h = host(&["eth0"]);
    apply(&h.sys, &Profile::nat().plan(&h.sys).unwrap(), &h.state).unwrap();
    let e = apply(&h.sys, &Profile::director().plan(&h.sys).unwrap(), &h.state).unwrap_err();
    assert!(matches!(e, Error::StateProfileMismatch { .. }), "{e}");
    assert_eq!(h.sys.read(&Key::IpForward).unwrap(), 0);
}

#[test]
fn failed_write_rolls_back_and_restores_the_state_file() {
    let h = host(&["eth0"]);
    let before = Snapshot::capture(&h.sys).unwrap();
    let plan = Profile::dr([n("eth0")]).plan(&h.sys).unwrap();
    // The last key becomes a read-only kernel file (0444: even root cannot write it).
    let last = h.sys.file(&v4("all", Ipv4Conf::ArpAnnounce));
    std::fs::remove_file(&last).unwrap();
    std::os::unix::fs::symlink("/proc/sys/kernel/ngroups_max", &last).unwrap();
    let e = apply(&h.sys, &plan, &h.state).unwrap_err();
    let msg = e.to_string();
    match &e {
        Error::ApplyFailed {
            key,
            rolled_back,
            rollback_failures,
            ..
        } => {
            assert_eq!(*key, v4("all", Ipv4Conf::ArpAnnounce));
            assert_eq!(*rolled_back, 3);
            assert!(rollback_failures.is_empty(), "{msg}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(msg.contains("needs root"), "errno hint: {msg}");
    assert!(!h.state.exists(), "no state left behind");
    let now = Snapshot::capture(&h.sys).unwrap();
    for (k, v) in before.iter() {
        if *k != v4("all", Ipv4Conf::ArpAnnounce) {
            assert_eq!(now.value(k), Some(v), "{k}");
        }
    }
}

#[test]
fn revert_skips_deleted_interfaces() {
    let h = host(&["eth0", "vrrp.9"]);
    h.sys.write(&v4("all", Ipv4Conf::RpFilter), 1).unwrap();
    let plan = Profile::vmac(n("vrrp.9"), n("eth0"), false)
        .plan(&h.sys)
        .unwrap();
    apply(&h.sys, &plan, &h.state).unwrap();
    assert_eq!(h.sys.read(&v4("all", Ipv4Conf::RpFilter)).unwrap(), 0);
    assert_eq!(h.sys.read(&v4("eth0", Ipv4Conf::RpFilter)).unwrap(), 1);
    assert_eq!(h.sys.read(&v4("eth0", Ipv4Conf::ArpFilter)).unwrap(), 1);
    // The daemon deletes the macvlan before reverting.
    h.sys.fake_remove_interface(&n("vrrp.9")).unwrap();
    let r = revert(&h.sys, &h.state).unwrap();
    let gone: Vec<String> = r.gone.iter().map(ToString::to_string).collect();
    assert_eq!(
        gone,
        [
            "net.ipv6.conf.vrrp/9.disable_ipv6",
            "net.ipv4.conf.vrrp/9.promote_secondaries",
            "net.ipv4.conf.vrrp/9.accept_local",
            "net.ipv4.conf.vrrp/9.arp_ignore",
            // A side effect: writing default.rp_filter reaches never-written interfaces.
            "net.ipv4.conf.vrrp/9.rp_filter",
        ]
    );
    assert_eq!(h.sys.read(&v4("all", Ipv4Conf::RpFilter)).unwrap(), 1);
    assert_eq!(h.sys.read(&v4("eth0", Ipv4Conf::RpFilter)).unwrap(), 0);
    assert_eq!(h.sys.read(&v4("eth0", Ipv4Conf::ArpFilter)).unwrap(), 0);
}

#[test]
fn state_file_is_plain_json_with_dotted_keys() {
    let h = host(&["eth0.100"]);
    apply(
        &h.sys,
        &Profile::dr([n("eth0.100")]).plan(&h.sys).unwrap(),
        &h.state,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&h.state).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["changes"][0]["key"], "net.ipv4.conf.eth0/100.arp_ignore");
    assert_eq!(v["changes"][0]["old"], 0);
    assert_eq!(v["changes"][0]["new"], 1);
    // No temporary file left next to it.
    let names: Vec<_> = std::fs::read_dir(h.state.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

/// Every key of the fake tree, in a fixed order.
fn all_keys(sys: &Procfs) -> Vec<Key> {
    Snapshot::capture(sys)
        .unwrap()
        .iter()
        .map(|(k, _)| k.clone())
        .collect()
}

fn profiles() -> Vec<Profile> {
    vec![
        Profile::dr([n("eth0"), n("eth1")]),
        Profile::tun([n("eth0")]),
        Profile::nat(),
        Profile::director(),
        Profile::Director {
            ipv4: true,
            ipv6: true,
        },
        Profile::vmac(n("vrrp.1"), n("eth0"), false),
        Profile::vmac(n("vrrp.1"), n("eth0"), true),
    ]
}

fn set_all(sys: &Procfs, keys: &[Key], values: &[i32]) {
    for (k, v) in keys.iter().zip(values) {
        // rp_filter values are pushed down from all to other interfaces, so keep them valid.
        let v = if k.param_name() == "rp_filter" {
            v.rem_euclid(3)
        } else {
            *v
        };
        sys.write_unchecked(k, v).unwrap();
    }
}

fn tree(dir: &Path) -> Procfs {
    Procfs::fake(dir, &["eth0", "eth1", "tunl0", "vrrp.1"]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn apply_then_revert_restores_the_original_tree(
        values in proptest::collection::vec(-1i32..=9, 128),
        which in 0usize..7,
        twice in any::<bool>(),
    ) {
        let dir = tempdir();
        let sys = tree(&dir.path().join("sys"));
        let keys = all_keys(&sys);
        prop_assert!(keys.len() <= values.len());
        set_all(&sys, &keys, &values);
        let before = Snapshot::capture(&sys).unwrap();
        let state = dir.path().join("state.json");
        let profile = &profiles()[which];

        let plan = profile.plan(&sys).unwrap();
        apply(&sys, &plan, &state).unwrap();
        // Prepared: planning again finds nothing.
        let again = profile.plan(&sys).unwrap();
        prop_assert!(again.is_empty(), "{}", again);
        if twice {
            apply(&sys, &again, &state).unwrap();
        }
        // Only planned keys changed.
        let after = Snapshot::capture(&sys).unwrap();
        for (k, v) in before.iter() {
            if let Some(c) = plan.changes.iter().find(|c| &c.key == k) {
                prop_assert_eq!(after.value(k), Some(c.new));
            } else {
                prop_assert_eq!(after.value(k), Some(v), "{} changed but was not planned", k);
            }
        }
        revert(&sys, &state).unwrap();
        prop_assert_eq!(Snapshot::capture(&sys).unwrap(), before);
        prop_assert!(!state.exists());
    }
}

#[test]
fn ipv6_keys_round_trip_through_apply() {
    let h = host(&["eth0", "vrrp.2"]);
    h.sys
        .write(
            &Key::ipv6(Scope::Iface(n("vrrp.2")), Ipv6Conf::AddrGenMode),
            2,
        )
        .unwrap();
    let before = Snapshot::capture(&h.sys).unwrap();
    let plan = Profile::vmac(n("vrrp.2"), n("eth0"), true)
        .plan(&h.sys)
        .unwrap();
    apply(&h.sys, &plan, &h.state).unwrap();
    assert_eq!(
        h.sys
            .read(&Key::ipv6(Scope::Iface(n("vrrp.2")), Ipv6Conf::AddrGenMode))
            .unwrap(),
        1
    );
    revert(&h.sys, &h.state).unwrap();
    assert_eq!(Snapshot::capture(&h.sys).unwrap(), before);
}
