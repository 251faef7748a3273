//! DR and NAT real servers in network namespaces: the seed's ARP problem reproduced and fixed
//! with `up`, the classic mistakes diagnosed by `status`, and `down` restoring exactly what
//! `up` changed. Runs as root (prints SKIP otherwise); never touches the root namespace.

mod common;

use std::collections::BTreeSet;

use common::{addrs, arp_defaults, arp_values, root_values, rs, set_sysctl, sysctl};
use lvs_testkit::{Lan, Netns, skip_unless, veth};

const VIP: &str = "198.51.100.62";

/// The MACs answering `arping -c 2 -w 3 -I eth0 VIP` from `client`.
fn arp_responders(client: &Netns) -> BTreeSet<String> {
    let out = client
        .cmd("arping")
        .args(["-c", "2", "-w", "3", "-I", "eth0", VIP])
        .output()
        .expect("run arping");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.contains("reply from"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l.find(']')?;
            Some(l[start..end].to_ascii_lowercase())
        })
        .collect()
}

fn mac(ns: &Netns) -> String {
    ns.run(&["cat", "/sys/class/net/eth0/address"])
        .unwrap()
        .trim()
        .to_ascii_lowercase()
}

#[test]
fn dr_arp_problem_reproduced_fixed_and_restored() {
    if skip_unless(
        "dr_arp_problem_reproduced_fixed_and_restored",
        &["ip", "arping", "sysctl"],
    ) {
        return;
    }
    let root_before = root_values();
    let lan = Lan::new("rsarp").unwrap();
    let client = Netns::new("rs-cl").unwrap();
    let director = Netns::new("rs-dir").unwrap();
    let real = Netns::new("rs-rs").unwrap();
    for ns in [&client, &director, &real] {
        lan.attach(ns, "eth0").unwrap();
        arp_defaults(ns, &["eth0", "lo"]);
    }
    client
        .run(&["ip", "address", "add", "198.51.100.1/24", "dev", "eth0"])
        .unwrap();
    director
        .run(&["ip", "address", "add", "198.51.100.2/24", "dev", "eth0"])
        .unwrap();
    director
        .run(&["ip", "address", "add", "198.51.100.62/32", "dev", "eth0"])
        .unwrap();
    real.run(&["ip", "address", "add", "198.51.100.12/24", "dev", "eth0"])
        .unwrap();
    let (dmac, rmac) = (mac(&director), mac(&real));
    let state = tempfile::tempdir().unwrap();
    let st = state.path();
    let dr_args = ["--mode", "dr", "--vip", VIP, "--dev", "eth0"];
    let with = |action: &'static str| -> Vec<&'static str> {
        std::iter::once(action).chain(dr_args).collect()
    };

    // The seed's manual step without the sysctls: the real server answers ARP for the VIP.
    real.run(&[
        "ip",
        "address",
        "add",
        "198.51.100.62/32",
        "dev",
        "lo",
        "label",
        "lo:0",
    ])
    .unwrap();
    let before = arp_values(&real, &["eth0", "lo"]);
    let both: BTreeSet<String> = [dmac.clone(), rmac.clone()].into();
    assert_eq!(arp_responders(&client), both, "the ARP problem reproduced");
    let st_check = rs(&real, st, &with("status"));
    assert_eq!(st_check.code, 1, "{st_check}");
    assert!(
        st_check.stdout.contains("dr real server: NOT ready"),
        "{st_check}"
    );
    assert!(
        st_check
            .stdout
            .contains("fix: set net.ipv4.conf.all.arp_ignore=1"),
        "{st_check}"
    );

    // up: only the director answers; status says ready.
    let up = rs(&real, st, &with("up"));
    assert_eq!(up.code, 0, "{up}");
    assert_eq!(
        arp_responders(&client),
        BTreeSet::from([dmac.clone()]),
        "after up only the director answers"
    );
    let status = rs(&real, st, &with("status"));
    assert_eq!(status.code, 0, "{status}");
    assert!(status.stdout.contains("dr real server: ready"), "{status}");
    assert!(
        status
            .stdout
            .contains("arp_ignore on eth0 is 1 = max(all=1, eth0=1)"),
        "{status}"
    );
    // status without --mode/--vip takes them from the state.
    let status2 = rs(&real, st, &["status"]);
    assert_eq!(status2.code, 0, "{status2}");

    // down: the sysctls are back, the VIP (there before up) stays, the problem is back.
    let down = rs(&real, st, &["down"]);
    assert_eq!(down.code, 0, "{down}");
    assert_eq!(arp_values(&real, &["eth0", "lo"]), before);
    assert!(addrs(&real, "lo").contains("198.51.100.62/32"));
    assert_eq!(
        arp_responders(&client),
        both,
        "after down the real server answers again"
    );

    // Without the VIP before up: up binds it (label lo:0), down removes it.
    real.run(&["ip", "address", "del", "198.51.100.62/32", "dev", "lo"])
        .unwrap();
    let up = rs(&real, st, &with("up"));
    assert_eq!(up.code, 0, "{up}");
    let lo = addrs(&real, "lo");
    assert!(
        lo.contains("inet 198.51.100.62/32") && lo.contains("lo:0"),
        "{lo}"
    );
    assert_eq!(arp_responders(&client), BTreeSet::from([dmac.clone()]));
    // up twice changes nothing more, and down still restores the original.
    let again = rs(&real, st, &with("up"));
    assert_eq!(again.code, 0, "{again}");
    let down = rs(&real, st, &["down"]);
    assert_eq!(down.code, 0, "{down}");
    assert!(
        !addrs(&real, "lo").contains("198.51.100.62"),
        "VIP gone from lo"
    );
    assert_eq!(arp_values(&real, &["eth0", "lo"]), before);
    let down = rs(&real, st, &["down"]);
    assert!(down.stdout.contains("nothing to restore"), "{down}");

    assert_eq!(root_values(), root_before, "root namespace untouched");
}

/// A real server on a two-namespace link.
fn real_server(tag: &str) -> (Netns, Netns) {
    let peer = Netns::new(&format!("{tag}-p")).unwrap();
    let real = Netns::new(tag).unwrap();
    veth(&peer, "eth0", &real, "eth0").unwrap();
    peer.run(&["ip", "address", "add", "198.51.100.254/24", "dev", "eth0"])
        .unwrap();
    real.run(&["ip", "address", "add", "198.51.100.12/24", "dev", "eth0"])
        .unwrap();
    arp_defaults(&real, &["eth0", "lo"]);
    (peer, real)
}

#[test]
fn status_diagnoses_sysctls_only_on_lo() {
    if skip_unless("status_diagnoses_sysctls_only_on_lo", &["ip", "sysctl"]) {
        return;
    }
    let root_before = root_values();
    let (_peer, real) = real_server("rs-lo");
    let state = tempfile::tempdir().unwrap();
    let vip = "203.0.113.62";
    real.run(&["ip", "address", "add", "203.0.113.62/32", "dev", "lo"])
        .unwrap();
    // The mistake: the ARP sysctls set on lo only.
    set_sysctl(&real, "net.ipv4.conf.lo.arp_ignore", 1);
    set_sysctl(&real, "net.ipv4.conf.lo.arp_announce", 2);
    let args = ["status", "--mode", "dr", "--vip", vip, "--dev", "eth0"];
    let r = rs(&real, state.path(), &args);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout.contains(
            "arp_ignore is 1 on lo but 0 on all and eth0: ARP for the VIP will be answered on eth0"
        ),
        "{r}"
    );
    assert!(
        r.stdout.contains("fix: set net.ipv4.conf.all.arp_ignore=1"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("arp_announce is 2 on lo but 0 on all and eth0"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("fix: set net.ipv4.conf.all.arp_announce=2"),
        "{r}"
    );
    assert!(r.stdout.contains("[  ok   ] VIP 203.0.113.62"), "{r}");
    assert!(r.stdout.contains("dr real server: NOT ready"), "{r}");
    // --json carries the same verdicts.
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let j = rs(&real, state.path(), &json_args);
    assert_eq!(j.code, 1, "{j}");
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["ready"], false);
    let wrong: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "wrong")
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(wrong, ["arp_ignore on eth0", "arp_announce on eth0"]);
    assert_eq!(v["checks"][0]["effective"]["all"], 0);
    assert_eq!(v["checks"][0]["fix"], "set net.ipv4.conf.all.arp_ignore=1");
    assert_eq!(root_values(), root_before, "root namespace untouched");
}

#[test]
fn status_diagnoses_wide_vip_mask_and_up_down_restore_it() {
    if skip_unless(
        "status_diagnoses_wide_vip_mask_and_up_down_restore_it",
        &["ip", "sysctl"],
    ) {
        return;
    }
    let root_before = root_values();
    let (_peer, real) = real_server("rs-mask");
    let state = tempfile::tempdir().unwrap();
    let vip = "203.0.113.62";
    set_sysctl(&real, "net.ipv4.conf.all.arp_ignore", 1);
    set_sysctl(&real, "net.ipv4.conf.all.arp_announce", 2);
    // The mistake: the VIP with its subnet's mask.
    real.run(&["ip", "address", "add", "203.0.113.62/24", "dev", "lo"])
        .unwrap();
    let status = ["status", "--mode", "dr", "--vip", vip, "--dev", "eth0"];
    let r = rs(&real, state.path(), &status);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout
            .contains("203.0.113.62/24 on lo has a /24 mask: the whole prefix becomes local"),
        "{r}"
    );
    assert!(
        r.stdout.contains(
            "fix: ip address del 203.0.113.62/24 dev lo; ip address add 203.0.113.62/32 dev lo"
        ),
        "{r}"
    );
    assert!(r.stdout.contains("[  ok   ] arp_ignore on eth0"), "{r}");
    let before = arp_values(&real, &["eth0", "lo"]);

    // up replaces it with /32 (the sysctls: only eth0's own values change)...
    let up = rs(
        &real,
        state.path(),
        &["up", "--mode", "dr", "--vip", vip, "--dev", "eth0"],
    );
    assert_eq!(up.code, 0, "{up}");
    let lo = addrs(&real, "lo");
    assert!(
        lo.contains("203.0.113.62/32") && !lo.contains("203.0.113.62/24"),
        "{lo}"
    );
    assert_eq!(rs(&real, state.path(), &status).code, 0);
    assert_eq!(sysctl(&real, "net.ipv4.conf.all.arp_ignore"), 1);
    // ...and down puts the /24 back as it was: it was there before up.
    let down = rs(&real, state.path(), &["down"]);
    assert_eq!(down.code, 0, "{down}");
    let lo = addrs(&real, "lo");
    assert!(
        lo.contains("203.0.113.62/24") && !lo.contains("203.0.113.62/32"),
        "{lo}"
    );
    assert_eq!(arp_values(&real, &["eth0", "lo"]), before);
    assert_eq!(root_values(), root_before, "root namespace untouched");
}

#[test]
fn dry_run_changes_nothing() {
    if skip_unless("dry_run_changes_nothing", &["ip", "sysctl"]) {
        return;
    }
    let root_before = root_values();
    let (_peer, real) = real_server("rs-dry");
    let state = tempfile::tempdir().unwrap();
    let st = state.path().join("s");
    let before = arp_values(&real, &["eth0", "lo"]);
    let r = rs(
        &real,
        &st,
        &[
            "up",
            "--mode",
            "dr",
            "--vip",
            VIP,
            "--dev",
            "eth0",
            "--dry-run",
        ],
    );
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("dry run: nothing is changed"), "{r}");
    assert!(
        r.stdout
            .contains("net.ipv4.conf.all.arp_ignore = 1 (now 0)"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("ip address add 198.51.100.62/32 dev lo label lo:0"),
        "{r}"
    );
    assert_eq!(arp_values(&real, &["eth0", "lo"]), before);
    assert!(!addrs(&real, "lo").contains(VIP));
    assert!(!st.exists(), "no state written");
    assert_eq!(root_values(), root_before, "root namespace untouched");
}

#[test]
fn tun_without_tunl0_is_diagnosed() {
    if skip_unless("tun_without_tunl0_is_diagnosed", &["ip", "sysctl"]) {
        return;
    }
    let (_peer, real) = real_server("rs-notun");
    if real.run(&["ip", "link", "show", "tunl0"]).is_ok() {
        eprintln!(
            "SKIP tun_without_tunl0_is_diagnosed: this kernel has ipip (tunl0 exists); tun_lab.rs covers TUN"
        );
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let args = ["--mode", "tun", "--vip", "203.0.113.62", "--dev", "eth0"];
    let mut status = vec!["status"];
    status.extend(args);
    let r = rs(&real, state.path(), &status);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout
            .contains("tunl0 does not exist: IPIP packets from the director are not decapsulated"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("fix: load the ipip module (modprobe ipip)"),
        "{r}"
    );
    let mut up = vec!["up"];
    up.extend(args);
    let r = rs(&real, state.path(), &up);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(r.stderr.lines().count(), 1, "one line: {r}");
    assert!(r.stderr.contains("modprobe ipip"), "{r}");
    assert!(!state.path().join("realserver.json").exists());
}

#[test]
fn nat_gateway_set_and_restored() {
    if skip_unless("nat_gateway_set_and_restored", &["ip", "sysctl"]) {
        return;
    }
    let root_before = root_values();
    let (_peer, real) = real_server("rs-nat");
    let state = tempfile::tempdir().unwrap();
    let st = state.path();
    let default = || real.run(&["ip", "route", "show", "default"]).unwrap();
    let nat = [
        "--mode",
        "nat",
        "--vip",
        "203.0.113.62",
        "--gateway",
        "198.51.100.252",
    ];
    let cmd = |a: &'static str| -> Vec<&str> { std::iter::once(a).chain(nat).collect() };

    // An existing default route is replaced, and put back by down.
    real.run(&["ip", "route", "add", "default", "via", "198.51.100.254"])
        .unwrap();
    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout
            .contains("the default route is via 198.51.100.254, not the director's 198.51.100.252"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("fix: ip route replace default via 198.51.100.252"),
        "{r}"
    );
    let r = rs(&real, st, &cmd("up"));
    assert_eq!(r.code, 0, "{r}");
    let d = default();
    assert!(
        d.contains("via 198.51.100.252") && !d.contains("198.51.100.254"),
        "{d}"
    );
    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("nat real server: ready"), "{r}");
    let r = rs(&real, st, &["down"]);
    assert_eq!(r.code, 0, "{r}");
    let d = default();
    assert!(
        d.contains("via 198.51.100.254") && !d.contains("198.51.100.252"),
        "{d}"
    );

    // Without a default route before up, down removes the one up added.
    real.run(&["ip", "route", "del", "default"]).unwrap();
    assert_eq!(rs(&real, st, &cmd("up")).code, 0);
    assert!(default().contains("via 198.51.100.252"));
    assert_eq!(rs(&real, st, &["down"]).code, 0);
    assert_eq!(default().trim(), "");

    // A NAT real server holding the VIP is wrong.
    real.run(&["ip", "route", "add", "default", "via", "198.51.100.252"])
        .unwrap();
    real.run(&["ip", "address", "add", "203.0.113.62/32", "dev", "lo"])
        .unwrap();
    let r = rs(&real, st, &cmd("status"));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout.contains("a NAT real server must not hold the VIP"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("fix: ip address del 203.0.113.62/32 dev lo"),
        "{r}"
    );
    assert_eq!(root_values(), root_before, "root namespace untouched");
}
