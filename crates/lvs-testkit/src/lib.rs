//! Test support for lvs-rs: network namespaces, veth links and bridges built with the real kernel.
//!
//! Tests that need root build their own topology here and leave nothing behind: a [`Netns`] is
//! deleted (its processes killed first) when dropped, and a [`Lan`] is a namespace holding a bridge.
//! Only documentation addresses are to be used inside (192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24, 2001:db8::/32); nothing here touches the root namespace's interfaces or sysctls.
//!
//! ```no_run
//! use lvs_testkit::{Lan, Netns, skip_unless};
//!
//! if skip_unless("two_hosts_ping", &["ping"]) {
//!     return;
//! }
//! let lan = Lan::new("ping").unwrap();
//! let (a, b) = (Netns::new("a").unwrap(), Netns::new("b").unwrap());
//! lan.attach(&a, "eth0").unwrap();
//! lan.attach(&b, "eth0").unwrap();
//! a.run(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"]).unwrap();
//! b.run(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"]).unwrap();
//! a.run(&["ping", "-c1", "-W2", "192.0.2.2"]).unwrap();
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Whether this process runs as root (uid 0).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The full path of `prog`, searched on PATH and in the sbin directories.
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Whether `prog` can be found (see [`which`]).
pub fn have(prog: &str) -> bool {
    which(prog).is_some()
}

/// Returns `true` (after printing `SKIP <test>: <reason>`) when the test cannot run here: not root,
/// no `ip` command, or one of `programs` missing. Use as `if skip_unless("name", &[..]) { return; }`.
pub fn skip_unless(test: &str, programs: &[&str]) -> bool {
    let reason = if !is_root() {
        Some("needs root (network namespaces)".to_string())
    } else {
        std::iter::once(&"ip")
            .chain(programs)
            .find(|p| !have(p))
            .map(|p| format!("needs the program `{p}`"))
    };
    match reason {
        Some(r) => {
            eprintln!("SKIP {test}: {r}");
            true
        }
        None => false,
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(16)
        .collect();
    format!("lvs-{tag}-{}-{n}", std::process::id())
}

/// Runs a command, returning its stdout, or an error carrying the command line and its stderr.
pub fn run_cmd(cmd: &mut Command) -> io::Result<String> {
    let out: Output = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(io::Error::other(format!(
            "{cmd:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// A network namespace created for one test, deleted with its processes when dropped.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named `lvs-<tag>-<pid>-<n>` with its loopback up.
    pub fn new(tag: &str) -> io::Result<Self> {
        let name = unique_name(tag);
        run_cmd(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = Self { name };
        ns.run(&["ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name (as `ip netns` knows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's file under /run/netns.
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// A command that runs `prog` inside the namespace (through `ip netns exec`).
    pub fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, prog]);
        c
    }

    /// Runs `args` inside the namespace and returns its stdout; a non-zero exit is an error.
    pub fn run(&self, args: &[&str]) -> io::Result<String> {
        let (prog, rest) = args
            .split_first()
            .ok_or_else(|| io::Error::other("empty command"))?;
        run_cmd(self.cmd(prog).args(rest))
    }

    /// Runs `f` on a new thread that has entered this namespace with setns(2).
    ///
    /// Sockets (including netlink) opened and `/proc/sys/net` files read by that thread belong to
    /// this namespace. `/proc/net` is `/proc/self/net`, the main thread's view: read
    /// `/proc/thread-self/net/...` instead. The calling thread is not moved.
    pub fn enter<R: Send, F: FnOnce() -> R + Send>(&self, f: F) -> io::Result<R> {
        let file = File::open(self.path())?;
        std::thread::scope(|s| {
            s.spawn(move || {
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(io::Error::from)?;
                Ok(f())
            })
            .join()
            .map_err(|_| io::Error::other("thread inside the namespace panicked"))?
        })
    }

    /// The process ids running inside the namespace.
    pub fn pids(&self) -> Vec<i32> {
        run_cmd(Command::new("ip").args(["netns", "pids", &self.name]))
            .map(|s| {
                s.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends SIGKILL to every process inside and waits (bounded, 2 s) until they are gone.
    pub fn kill_all(&self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let pids = self.pids();
            if pids.is_empty() || Instant::now() > deadline {
                break;
            }
            for pid in pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.kill_all();
        if let Err(e) = run_cmd(Command::new("ip").args(["netns", "del", &self.name])) {
            eprintln!("lvs-testkit: cannot delete namespace {}: {e}", self.name);
        }
    }
}

/// Short, unique interface names for the root-side ends of veth pairs.
fn temp_ifname() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("lvt{}x{n}", std::process::id() % 100_000)
}

/// Creates a veth pair with one end `a_if` in `a` and the other `b_if` in `b`, both up.
///
/// The pair is made directly inside `a` (never in the root namespace), then one end is moved.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) -> io::Result<()> {
    let tmp = temp_ifname();
    a.run(&[
        "ip", "link", "add", a_if, "type", "veth", "peer", "name", &tmp,
    ])?;
    a.run(&["ip", "link", "set", &tmp, "netns", b.name()])?;
    b.run(&["ip", "link", "set", &tmp, "name", b_if])?;
    a.run(&["ip", "link", "set", a_if, "up"])?;
    b.run(&["ip", "link", "set", b_if, "up"])?;
    Ok(())
}

/// A shared Ethernet segment: a namespace holding the bridge `br0`, to which hosts attach.
#[derive(Debug)]
pub struct Lan {
    ns: Netns,
    ports: AtomicU32,
}

impl Lan {
    /// Creates the bridge namespace (STP off, forwarding delay 0, bridge up).
    pub fn new(tag: &str) -> io::Result<Self> {
        let ns = Netns::new(&format!("lan-{tag}"))?;
        ns.run(&[
            "ip",
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "forward_delay",
            "0",
            "stp_state",
            "0",
        ])?;
        ns.run(&["ip", "link", "set", "br0", "up"])?;
        Ok(Self {
            ns,
            ports: AtomicU32::new(0),
        })
    }

    /// The namespace holding the bridge (to capture on `br0`, for example).
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// Connects `host` to the bridge through a veth whose host end is named `ifname` (up).
    pub fn attach(&self, host: &Netns, ifname: &str) -> io::Result<()> {
        let port = format!("p{}", self.ports.fetch_add(1, Ordering::Relaxed));
        veth(&self.ns, &port, host, ifname)?;
        self.ns
            .run(&["ip", "link", "set", &port, "master", "br0"])?;
        Ok(())
    }
}

/// One UDP round trip between two namespaces: `client`, bound to `from`, sends a datagram to `to`;
/// an echo server in `server` answers it once. True when the echo comes back, from `to`'s
/// address, within `timeout`.
///
/// The server binds `to` when that address is local in `server`, and otherwise the wildcard on
/// `to`'s port, so a datagram for an address that is not (or no longer) local still finds no
/// listener that answers from it. Panics when a socket cannot be made or the server does not
/// start within 5 s: those are broken tests, not a "no".
pub fn udp_round_trip(
    client: &Netns,
    from: IpAddr,
    server: &Netns,
    to: SocketAddr,
    timeout: Duration,
) -> bool {
    const PAYLOAD: &[u8] = b"lvs-testkit";
    let wildcard: IpAddr = match to {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let echo = s.spawn(move || {
            server.enter(move || {
                let sock = UdpSocket::bind(to)
                    .or_else(|_| UdpSocket::bind((wildcard, to.port())))
                    .expect("bind the echo server");
                sock.set_read_timeout(Some(timeout + Duration::from_secs(1)))
                    .expect("set the echo server's timeout");
                ready_tx.send(()).expect("announce the echo server");
                let mut buf = [0u8; 64];
                if let Ok((n, peer)) = sock.recv_from(&mut buf) {
                    sock.send_to(&buf[..n], peer).expect("echo");
                }
            })
        });
        // Bounded: a server that failed to start drops the sender.
        let started = ready_rx.recv_timeout(Duration::from_secs(5)).is_ok();
        let answered = started
            && client
                .enter(|| {
                    let sock = UdpSocket::bind((from, 0)).expect("bind the client");
                    sock.set_read_timeout(Some(timeout))
                        .expect("set the client's timeout");
                    sock.send_to(PAYLOAD, to).expect("send the request");
                    let mut buf = [0u8; 64];
                    matches!(sock.recv_from(&mut buf),
                        Ok((n, peer)) if &buf[..n] == PAYLOAD && peer.ip() == to.ip())
                })
                .expect("enter the client's namespace");
        echo.join()
            .expect("the echo server thread panicked")
            .expect("enter the server's namespace");
        assert!(
            started,
            "the UDP echo server in {} did not start",
            server.name()
        );
        answered
    })
}

/// Polls `cond` every `step` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, step: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(step);
    }
}

/// A generated keepalived.conf with `services` TCP virtual servers, `192.0.2.N:port` (N from 1,
/// a new address every 60,000 services; ports from 1024), each with `dests` direct-routing real
/// servers 198.51.100.1.. on the same port, weight 1, no checker, scheduler wlc: the large
/// configuration the parser bench and `lvsd-bench program` both use.
///
/// ```
/// let conf = lvs_testkit::generated_virtual_servers(2, 4);
/// assert_eq!(conf.matches("virtual_server ").count(), 2);
/// assert_eq!(conf.matches("real_server ").count(), 8);
/// assert!(conf.contains("virtual_server 192.0.2.1 1025 {"));
/// ```
pub fn generated_virtual_servers(services: usize, dests: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(services * (120 + dests * 60));
    s.push_str("! Generated by lvs-testkit.\nglobal_defs {\n    router_id BENCH\n}\n");
    for i in 0..services {
        let vip = format!("192.0.2.{}", 1 + i / 60_000);
        let port = 1024 + i % 60_000;
        let _ = writeln!(
            s,
            "virtual_server {vip} {port} {{\n    lb_algo wlc\n    lb_kind DR\n    protocol TCP"
        );
        for d in 0..dests {
            let _ = writeln!(
                s,
                "    real_server 198.51.100.{} {port} {{\n        weight 1\n    }}",
                d + 1
            );
        }
        s.push_str("}\n");
    }
    s
}

/// Sends the signal `sig` (a `kill -s` name: "TERM", "HUP", "KILL", ...) to `child`; panics
/// (this is test support) when it cannot be delivered.
///
/// ```no_run
/// let child = std::process::Command::new("sleep").arg("30").spawn()?;
/// lvs_testkit::signal(&child, "TERM");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn signal(child: &std::process::Child, sig: &str) {
    let st = Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -s {sig} {}", child.id());
}

/// Waits up to `timeout` for `child` to exit; returns its exit code (`None`: still running, or
/// ended by a signal).
///
/// ```
/// let mut child = std::process::Command::new("sh").args(["-c", "exit 3"]).spawn()?;
/// let code = lvs_testkit::wait_exit(&mut child, std::time::Duration::from_secs(5));
/// assert_eq!(code, Some(3));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wait_exit(child: &mut std::process::Child, timeout: Duration) -> Option<i32> {
    let mut code = None;
    wait_until(timeout, Duration::from_millis(20), || {
        match child.try_wait() {
            Ok(Some(st)) => {
                code = st.code();
                true
            }
            _ => false,
        }
    });
    code
}

/// Kills `child` (SIGKILL) and reaps it, ignoring one that already ended.
pub fn kill(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_created_used_and_deleted() {
        if skip_unless("namespace_is_created_used_and_deleted", &[]) {
            return;
        }
        let ns = Netns::new("t").unwrap();
        let path = ns.path();
        assert!(path.exists());
        let links = ns.run(&["ip", "-o", "link"]).unwrap();
        assert!(links.contains("lo"), "{links}");
        assert!(
            !links.contains("eth"),
            "a fresh namespace has only lo: {links}"
        );
        drop(ns);
        assert!(!path.exists(), "namespace file removed on drop");
    }

    #[test]
    fn lan_connects_two_hosts() {
        if skip_unless("lan_connects_two_hosts", &["ping"]) {
            return;
        }
        let lan = Lan::new("t").unwrap();
        let a = Netns::new("a").unwrap();
        let b = Netns::new("b").unwrap();
        lan.attach(&a, "eth0").unwrap();
        lan.attach(&b, "eth0").unwrap();
        a.run(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"])
            .unwrap();
        b.run(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])
            .unwrap();
        a.run(&["ping", "-c1", "-W5", "192.0.2.2"]).unwrap();
        // Not connected: a third host without a link cannot reach them.
        let c = Netns::new("c").unwrap();
        assert!(c.run(&["ping", "-c1", "-W1", "192.0.2.2"]).is_err());
    }

    #[test]
    fn enter_sees_the_namespace_and_not_the_root() {
        if skip_unless("enter_sees_the_namespace_and_not_the_root", &[]) {
            return;
        }
        let ns = Netns::new("enter").unwrap();
        // This host kernel has no dummy driver: a veth pair serves as the test interface.
        ns.run(&[
            "ip", "link", "add", "dummy7", "type", "veth", "peer", "name", "dummy8",
        ])
        .unwrap();
        let inside = ns
            .enter(|| std::fs::read_to_string("/proc/thread-self/net/dev").unwrap())
            .unwrap();
        assert!(inside.contains("dummy7"), "{inside}");
        let outside = std::fs::read_to_string("/proc/net/dev").unwrap();
        assert!(!outside.contains("dummy7"));
        // sysctl written inside stays inside.
        let key = "/proc/sys/net/ipv4/conf/dummy7/arp_ignore";
        ns.enter(|| std::fs::write(key, "1")).unwrap().unwrap();
        let v = ns.enter(|| std::fs::read_to_string(key)).unwrap().unwrap();
        assert_eq!(v.trim(), "1");
        assert!(!std::path::Path::new(key).exists());
    }

    #[test]
    fn kill_all_ends_processes_inside() {
        if skip_unless("kill_all_ends_processes_inside", &["sleep"]) {
            return;
        }
        let ns = Netns::new("kill").unwrap();
        let mut child = ns.cmd("sleep").arg("30").spawn().unwrap();
        assert!(wait_until(
            Duration::from_secs(2),
            Duration::from_millis(10),
            || !ns.pids().is_empty()
        ));
        ns.kill_all();
        assert!(ns.pids().is_empty());
        let _ = child.wait();
    }
}
