//! Helpers shared by the lvsd namespace tests (`mod vrrp_support;` in each test file).
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use lvs_testkit::{Lan, Netns, wait_until};

pub(crate) const VIP: &str = "203.0.113.62";
/// Master_Down_Interval of the priority-90 backup: 3 × 1 s + (256 − 90)/256 s.
pub(crate) const MDI_B: Duration = Duration::from_micros(3_648_437);
/// Skew_Time of the priority-90 backup: (256 − 90)/256 s.
pub(crate) const SKEW_B: Duration = Duration::from_micros(648_437);
pub(crate) const POLL: Duration = Duration::from_millis(20);

pub(crate) fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub(crate) struct Pair {
    pub(crate) a: Netns,
    pub(crate) b: Netns,
    pub(crate) lan: Lan,
    pub(crate) logs: tempdir::Dir,
}

pub(crate) mod tempdir {
    /// A scratch directory removed on drop (std only).
    #[derive(Debug)]
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);
    impl Dir {
        pub(crate) fn new(tag: &str) -> Self {
            let p = std::env::temp_dir().join(format!("lvsd-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&p).expect("create scratch dir");
            Self(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Pair {
    pub(crate) fn new(tag: &str) -> Self {
        let lan = Lan::new(tag).expect("lan");
        let a = Netns::new(&format!("{tag}a")).expect("netns a");
        let b = Netns::new(&format!("{tag}b")).expect("netns b");
        for (ns, ip) in [(&a, "192.0.2.1/24"), (&b, "192.0.2.2/24")] {
            lan.attach(ns, "eth0").expect("attach");
            ns.run(&["ip", "addr", "add", ip, "dev", "eth0"])
                .expect("address");
        }
        Self {
            a,
            b,
            lan,
            logs: tempdir::Dir::new(tag),
        }
    }

    /// Starts `lvsd -P` in `ns` with `tests/data/<conf>`, stderr to `<logs>/<log>`.
    pub(crate) fn start(&self, ns: &Netns, conf: &str, log: &str) -> Child {
        self.start_path(ns, &data(conf), log)
    }

    /// Writes `<logs>/<name>`: `tests/data/<base>` with `edit` applied.
    pub(crate) fn conf_from(
        &self,
        base: &str,
        name: &str,
        edit: impl Fn(String) -> String,
    ) -> PathBuf {
        let text = std::fs::read_to_string(data(base)).expect("read config");
        let path = self.logs.0.join(name);
        std::fs::write(&path, edit(text)).expect("write config");
        path
    }

    pub(crate) fn start_path(&self, ns: &Netns, conf: &Path, log: &str) -> Child {
        let err = File::create(self.logs.0.join(log)).expect("log file");
        // Its own control socket and dump file: the default /run/lvsd/lvsd.sock is shared by
        // every namespace (and the host), and a test must leave nothing behind.
        ns.cmd(env!("CARGO_BIN_EXE_lvsd"))
            .args(["-P", "-l", "-n", "-D", "-f"])
            .arg(conf)
            .arg("--control")
            .arg(self.logs.0.join(format!("{log}.sock")))
            .arg("--dump-file")
            .arg(self.logs.0.join(format!("{log}.json")))
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn lvsd")
    }

    /// Starts Debian's keepalived (VRRP only, foreground) in `ns` with `tests/data/<conf>`.
    pub(crate) fn start_keepalived(&self, ns: &Netns, conf: &str, log: &str) -> Child {
        self.start_keepalived_path(ns, &data(conf), log)
    }

    pub(crate) fn start_keepalived_path(&self, ns: &Netns, conf: &Path, log: &str) -> Child {
        let err = File::create(self.logs.0.join(log)).expect("log file");
        let out = err.try_clone().expect("log file");
        let pid = self.logs.0.join(format!("{log}.pid"));
        let vrrp_pid = self.logs.0.join(format!("{log}.vrrp.pid"));
        ns.cmd("keepalived")
            .args(["-n", "-l", "-D", "-P", "-f"])
            .arg(conf)
            .arg("-p")
            .arg(pid)
            .arg("-r")
            .arg(vrrp_pid)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn keepalived")
    }

    pub(crate) fn log(&self, log: &str) -> String {
        std::fs::read_to_string(self.logs.0.join(log)).unwrap_or_default()
    }
}

pub(crate) fn holds_vip(ns: &Netns) -> bool {
    ns.run(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
        .is_ok_and(|out| out.contains(&format!(" {VIP}/")))
}

/// Waits (bounded) until `ns` holds the VIP; returns how long it took.
pub(crate) fn wait_vip(ns: &Netns, timeout: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    wait_until(timeout, POLL, || holds_vip(ns)).then(|| t0.elapsed())
}

// Process helpers live in lvs-testkit; not every test binary uses all three.
#[allow(unused_imports)]
pub(crate) use lvs_testkit::{kill, signal, wait_exit};

pub(crate) fn v3(text: String) -> String {
    let start = text
        .find("    authentication {")
        .expect("authentication block");
    let end = start + text[start..].find("    }\n").expect("block end") + "    }\n".len();
    format!("{}    version 3\n{}", &text[..start], &text[end..])
}

pub(crate) fn holds(ns: &Netns, dev: &str, vip: &str) -> bool {
    ns.run(&["ip", "-4", "-o", "addr", "show", "dev", dev])
        .is_ok_and(|out| out.contains(&format!(" {vip}/")))
}

/// A tcpdump running in a namespace, writing its text output to a file in the pair's logs.
pub(crate) struct Capture {
    child: Child,
    path: PathBuf,
}

impl Capture {
    /// Starts `tcpdump -n -l -U <args>` in `ns`, output to `<logs>/<name>`; waits (bounded) until
    /// it listens.
    pub(crate) fn start(p: &Pair, ns: &Netns, name: &str, args: &[&str]) -> Self {
        let path = p.logs.0.join(name);
        let errp = p.logs.0.join(format!("{name}.err"));
        let child = ns
            .cmd("tcpdump")
            .args(["-n", "-l", "-U"])
            .args(args)
            .stdout(File::create(&path).expect("capture file"))
            .stderr(File::create(&errp).expect("tcpdump log"))
            .spawn()
            .expect("tcpdump");
        assert!(
            wait_until(Duration::from_secs(5), POLL, || std::fs::read_to_string(
                &errp
            )
            .is_ok_and(|e| e.contains("listening on"))),
            "tcpdump did not start: {}",
            std::fs::read_to_string(&errp).unwrap_or_default()
        );
        Self { child, path }
    }

    /// What it captured so far.
    pub(crate) fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the VRRP side in this test process, inside `ns`, with the configuration file `conf`;
/// returns its handle and the status it publishes.
pub(crate) fn start_in_process(
    ns: &Netns,
    conf: &Path,
) -> (lvsd::side::Side, lvsd::status::Shared) {
    let parsed = keepalived_conf::parse_file(conf, &keepalived_conf::Options::default())
        .expect("parse config");
    let status = lvsd::status::Shared::default();
    let st = status.clone();
    let side = ns
        .enter(move || lvsd::vrrp::spawn(&parsed.config, st))
        .expect("enter the namespace")
        .expect("spawn the VRRP side");
    (side, status)
}
