//! Shared by the `ops_*` tests (and any other lvsd test that wants it): one `lvsd` node in a
//! network namespace, its scratch directory, and small process helpers.
//!
//! Use with `mod common;` at the top of a test file; every helper is bounded in time.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lvs_testkit::{Netns, veth, wait_until};

/// The VIP of `tests/data/node-a.conf`.
pub(crate) const VIP: &str = "203.0.113.62";
/// Polling step of every wait.
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// The `lvsd` binary under test.
pub(crate) fn lvsd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_lvsd")
}

/// `tests/data/<name>`.
pub(crate) fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A scratch directory (mode 0755, so an unprivileged lvsd can read what is in it), removed on
/// drop.
#[derive(Debug)]
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    /// `$TMPDIR/lvsd-<tag>-<pid>`.
    pub(crate) fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("lvsd-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create scratch dir");
        Self(p)
    }

    /// A path inside.
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The text of a file inside (empty when missing).
    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One director: namespace `ns` whose `eth0` (192.0.2.1/24) is a veth to a silent peer
/// namespace (192.0.2.2/24), plus a scratch directory for logs, sockets and configs.
pub(crate) struct Node {
    /// Where lvsd runs.
    pub(crate) ns: Netns,
    /// The other end of eth0 (runs nothing unless a test starts something there).
    pub(crate) peer: Netns,
    /// Logs, control socket, configs.
    pub(crate) dir: Scratch,
}

impl Node {
    /// Builds the namespaces.
    pub(crate) fn new(tag: &str) -> Self {
        let ns = Netns::new(tag).expect("netns");
        let peer = Netns::new(&format!("{tag}p")).expect("peer netns");
        veth(&ns, "eth0", &peer, "eth0").expect("veth");
        ns.run(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"])
            .expect("address");
        peer.run(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])
            .expect("peer address");
        Self {
            ns,
            peer,
            dir: Scratch::new(tag),
        }
    }

    /// The control socket path the node's lvsd uses.
    pub(crate) fn control(&self) -> PathBuf {
        self.dir.join("lvsd.sock")
    }

    /// `lvsd -l -n -D --control <dir>/lvsd.sock --dump-file <dir>/lvsd.json -f <conf> <extra>` in
    /// the namespace, stderr to `<dir>/<log>`, not yet spawned (add env, wrap it...).
    pub(crate) fn lvsd(&self, conf: &Path, extra: &[&str], log: &str) -> Command {
        let err = File::create(self.dir.join(log)).expect("log file");
        let mut cmd = self.ns.cmd(lvsd_bin());
        cmd.args(["-l", "-n", "-D", "--control"])
            .arg(self.control())
            .arg("--dump-file")
            .arg(self.dir.join("lvsd.json"))
            .arg("-f")
            .arg(conf)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(err);
        cmd
    }

    /// Spawns [`Node::lvsd`].
    pub(crate) fn start(&self, conf: &Path, extra: &[&str], log: &str) -> Child {
        self.lvsd(conf, extra, log).spawn().expect("spawn lvsd")
    }

    /// Whether eth0 holds `vip`.
    pub(crate) fn holds(&self, vip: &str) -> bool {
        self.ns
            .run(&["ip", "-o", "addr", "show", "dev", "eth0"])
            .is_ok_and(|out| out.contains(&format!(" {vip}/")))
    }
}

/// `lvsd status --control <path>`: the JSON, or `Err(stderr)` with the exit code.
pub(crate) fn status(control: &Path) -> Result<serde_json::Value, (Option<i32>, String)> {
    let out = Command::new(lvsd_bin())
        .arg("status")
        .arg("--control")
        .arg(control)
        .output()
        .expect("run lvsd status");
    if out.status.success() {
        serde_json::from_slice(&out.stdout).map_err(|e| (Some(0), e.to_string()))
    } else {
        Err((
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// Waits (bounded) until `lvsd status` answers and `pred` holds; returns the last answer.
pub(crate) fn wait_status(
    control: &Path,
    timeout: Duration,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    let mut last = None;
    wait_until(timeout, Duration::from_millis(100), || {
        last = status(control).ok();
        last.as_ref().is_some_and(&pred)
    })
    .then_some(())?;
    last
}

/// The first instance's state in a status document.
pub(crate) fn first_state(st: &serde_json::Value) -> &str {
    st["instances"][0]["state"].as_str().unwrap_or_default()
}

// Process helpers live in lvs-testkit; not every test binary uses all three.
#[allow(unused_imports)]
pub(crate) use lvs_testkit::{kill, signal, wait_exit};
