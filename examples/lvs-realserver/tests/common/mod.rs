//! Shared helpers: run the built binary inside a namespace, read sysctls, guard the root
//! namespace.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use lvs_testkit::Netns;

pub const BIN: &str = env!("CARGO_BIN_EXE_lvs-realserver");

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `lvs-realserver ARGS --state-dir STATE` inside `ns`.
pub fn rs(ns: &Netns, state: &Path, args: &[&str]) -> Run {
    let o = ns
        .cmd(BIN)
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .output()
        .expect("run lvs-realserver");
    Run::from(o)
}

/// Runs `lvs-realserver ARGS` in the test's own (root) namespace: only for commands that fail
/// before touching anything (usage errors) or need no kernel state.
pub fn rs_here(args: &[&str]) -> Run {
    Run::from(
        std::process::Command::new(BIN)
            .args(args)
            .output()
            .expect("run lvs-realserver"),
    )
}

/// `sysctl -n KEY` inside `ns`.
pub fn sysctl(ns: &Netns, key: &str) -> i32 {
    ns.run(&["sysctl", "-n", key])
        .unwrap_or_else(|e| panic!("sysctl {key}: {e}"))
        .trim()
        .parse()
        .unwrap()
}

pub fn set_sysctl(ns: &Netns, key: &str, v: i32) {
    ns.run(&["sysctl", "-q", "-w", &format!("{key}={v}")])
        .unwrap_or_else(|e| panic!("sysctl -w {key}={v}: {e}"));
}

/// The ARP and rp_filter values of `all`, `default` and `ifaces` in `ns` (one `sysctl` run:
/// process start-up is what costs in the kernel lab's VM).
pub fn arp_values(ns: &Netns, ifaces: &[&str]) -> BTreeMap<String, i32> {
    let mut keys = Vec::new();
    for scope in ["all", "default"].iter().chain(ifaces) {
        for p in ["arp_ignore", "arp_announce", "rp_filter"] {
            keys.push(format!("net.ipv4.conf.{scope}.{p}"));
        }
    }
    let mut args = vec!["sysctl"];
    args.extend(keys.iter().map(String::as_str));
    let out = ns
        .run(&args)
        .unwrap_or_else(|e| panic!("sysctl {keys:?}: {e}"));
    let values: BTreeMap<String, i32> = out
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            Some((k.to_owned(), v.trim().parse().ok()?))
        })
        .collect();
    assert_eq!(values.len(), keys.len(), "{out}");
    values
}

/// Sets the ARP sysctls of `all`, `default` and `ifaces` to 0 (namespaces may inherit the
/// root namespace's `all`/`default`, so tests start from explicit values).
pub fn arp_defaults(ns: &Netns, ifaces: &[&str]) {
    let mut settings = Vec::new();
    for scope in ["all", "default"].iter().chain(ifaces) {
        for p in ["arp_ignore", "arp_announce"] {
            settings.push(format!("net.ipv4.conf.{scope}.{p}=0"));
        }
    }
    let mut args = vec!["sysctl", "-q", "-w"];
    args.extend(settings.iter().map(String::as_str));
    ns.run(&args)
        .unwrap_or_else(|e| panic!("sysctl -w {settings:?}: {e}"));
}

/// The root namespace's ARP and rp_filter values, read from this thread's /proc/sys (the test
/// process runs in the root namespace and never changes them).
pub fn root_values() -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for scope in ["all", "default", "lo"] {
        for p in ["arp_ignore", "arp_announce", "rp_filter"] {
            let path = PathBuf::from(format!("/proc/sys/net/ipv4/conf/{scope}/{p}"));
            let v = std::fs::read_to_string(&path).unwrap_or_default();
            out.insert(path, v);
        }
    }
    out
}

/// `ip -4 -o address show dev DEV` inside `ns`.
pub fn addrs(ns: &Netns, dev: &str) -> String {
    ns.run(&["ip", "-o", "address", "show", "dev", dev])
        .unwrap()
}
