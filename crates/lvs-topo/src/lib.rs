//! The seed's three LVS clusters (DR, NAT, TUN), laid out in network namespaces.
//!
//! A [`Topology`] is the seed's picture: a client, an upstream router (DR and TUN), two
//! directors running `lvsd` with the seed's configuration ([`conf`]), and real servers serving
//! HTTP with `busybox httpd` (each page names its server), prepared with `lvs-realserver` for the
//! mode. [`client::Traffic`] sends steady HTTP requests to the VIP from the client's namespace and
//! records who answered; [`demo`] is the live timeline behind `cargo xtask demo`.
//!
//! Addresses (documentation ranges only):
//!
//! | Host | DR / TUN | NAT |
//! |---|---|---|
//! | client | 192.0.2.10, via the router 192.0.2.1 | 203.0.113.10 (front LAN) |
//! | router | 192.0.2.1 / 198.51.100.1 | — |
//! | director A, B | 198.51.100.2, .3 | 203.0.113.2, .3 / 198.51.100.2, .3 |
//! | VIP | 203.0.113.62 on the master's eth0 | 203.0.113.62 + gateway 198.51.100.252 on eth1 |
//! | real servers rs1, rs2, rs3 | 198.51.100.12, .13, .14 | same, default route via .252 |
//!
//! Every namespace is a [`lvs_testkit::Netns`] named `lvs-topo-...-<pid>-<n>`, deleted with its
//! processes when the topology is dropped (also while a panic unwinds); [`cleanup_stale`]
//! removes the ones a killed process left behind.
//!
//! The binaries `lvsd` and `lvs-realserver` are taken from the target directory of the running
//! executable ([`Binaries::locate`]): build them first with `cargo build -p lvsd -p lvs-realserver`.
//!
//! ```no_run
//! use lvs_topo::{Binaries, Mode, Topology, client::Traffic};
//! use std::time::Duration;
//!
//! let mut topo = Topology::build(Mode::Dr, Binaries::locate()?, 2)?;
//! topo.start()?;
//! let traffic = Traffic::start(topo.client(), topo.service())?;
//! std::thread::sleep(Duration::from_secs(3));
//! let report = traffic.stop().report();
//! println!("{report}");
//! # Ok::<(), std::io::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod conf;
pub mod demo;

use std::fmt;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use lvs_testkit::{Netns, run_cmd, wait_until};

pub use conf::Node;

/// The virtual service address (the seed's 222.33.180.62).
pub const VIP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 62);
/// NAT: the real servers' gateway, a second VIP on the directors' inside (the seed's 172.16.0.252).
pub const INNER_VIP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 252);
/// The service port.
pub const PORT: u16 = 80;

/// The LVS forwarding method of a topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Direct routing: the director rewrites the MAC; real servers hold the VIP on `lo`.
    Dr,
    /// NAT: the director rewrites addresses; real servers route back through the inner VIP.
    Nat,
    /// IP-in-IP tunnelling: real servers hold the VIP on `tunl0` (needs the `ipip` module).
    Tun,
}

impl Mode {
    /// All three, in the seed's order.
    pub const ALL: [Self; 3] = [Self::Dr, Self::Nat, Self::Tun];

    /// `dr`, `nat` or `tun` (lvs-realserver's `--mode`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Dr => "dr",
            Self::Nat => "nat",
            Self::Tun => "tun",
        }
    }

    /// keepalived's `lb_kind`.
    pub fn lb_kind(self) -> &'static str {
        match self {
            Self::Dr => "DR",
            Self::Nat => "NAT",
            Self::Tun => "TUN",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lb_kind())
    }
}

/// A mode name that is not `dr`, `nat` or `tun`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMode(pub String);

impl fmt::Display for UnknownMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown mode {:?}: expected dr, nat or tun", self.0)
    }
}

impl std::error::Error for UnknownMode {}

impl FromStr for Mode {
    type Err = UnknownMode;
    fn from_str(s: &str) -> Result<Self, UnknownMode> {
        match s.to_ascii_lowercase().as_str() {
            "dr" => Ok(Self::Dr),
            "nat" => Ok(Self::Nat),
            "tun" => Ok(Self::Tun),
            _ => Err(UnknownMode(s.to_string())),
        }
    }
}

/// Where the programs a topology runs are.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The daemon.
    pub lvsd: PathBuf,
    /// The real-server preparation tool.
    pub realserver: PathBuf,
}

impl Binaries {
    /// Finds `lvsd` and `lvs-realserver` in `$LVS_TOPO_BIN_DIR`, or else in the target directory
    /// of the running executable (`target/debug` for `target/debug/deps/<test>` and for
    /// `target/debug/<bin>`). An error says what to build when one is missing.
    pub fn locate() -> io::Result<Self> {
        let dir = match std::env::var_os("LVS_TOPO_BIN_DIR") {
            Some(d) => PathBuf::from(d),
            None => {
                let exe = std::env::current_exe()?;
                let mut dir = exe
                    .parent()
                    .ok_or_else(|| io::Error::other("the executable has no directory"))?
                    .to_path_buf();
                if dir.ends_with("deps") {
                    dir.pop();
                }
                dir
            }
        };
        Self::in_dir(&dir)
    }

    /// `lvsd` and `lvs-realserver` in `dir`, which must both exist.
    pub fn in_dir(dir: &Path) -> io::Result<Self> {
        let b = Self {
            lvsd: dir.join("lvsd"),
            realserver: dir.join("lvs-realserver"),
        };
        for p in [&b.lvsd, &b.realserver] {
            if !p.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} is missing: build it first with `cargo build -p lvsd -p lvs-realserver` \
                         (same target directory), or set LVS_TOPO_BIN_DIR",
                        p.display()
                    ),
                ));
            }
        }
        Ok(b)
    }
}

/// Runs `ip -n <ns> -batch -` with `script` (one `ip` command per line, without `ip`).
fn ip_batch(ns: &Netns, script: &str) -> io::Result<()> {
    let mut child = Command::new("ip")
        .args(["-n", ns.name(), "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no stdin"))?
        .write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "ip -n {} -batch failed: {}\n{script}",
            ns.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Writes sysctls (`("net/ipv4/ip_forward", "1")`) inside `ns`.
fn sysctls(ns: &Netns, kv: &[(&str, &str)]) -> io::Result<()> {
    ns.enter(|| {
        for (k, v) in kv {
            std::fs::write(Path::new("/proc/sys").join(k), v)
                .map_err(|e| io::Error::other(format!("sysctl {k}={v}: {e}")))?;
        }
        Ok(())
    })?
}

/// A bridge namespace; hosts join it with a veth created from here (one `ip` batch).
#[derive(Debug)]
struct Lan {
    ns: Netns,
    ports: usize,
}

impl Lan {
    fn new(tag: &str) -> io::Result<Self> {
        let ns = Netns::new(&format!("topo-{tag}"))?;
        ip_batch(
            &ns,
            "link add br0 type bridge forward_delay 0 stp_state 0\nlink set br0 up\n",
        )?;
        Ok(Self { ns, ports: 0 })
    }

    /// Connects `host` as `ifname` (left down: the host's own batch brings it up).
    fn attach(&mut self, host: &Netns, ifname: &str) -> io::Result<()> {
        let p = format!("p{}", self.ports);
        self.ports += 1;
        ip_batch(
            &self.ns,
            &format!(
                "link add {p} type veth peer name {ifname} netns {}\n\
                 link set {p} master br0\nlink set {p} up\n",
                host.name()
            ),
        )
    }
}

/// A director: a namespace and the lvsd running in it.
#[derive(Debug)]
pub struct Director {
    node: Node,
    ns: Netns,
    ifaces: Vec<&'static str>,
    conf: PathBuf,
    log: PathBuf,
    lvsd: Option<Child>,
    starts: u32,
    /// False between kill and restart (links down).
    alive: bool,
}

impl Director {
    /// A or B.
    pub fn node(&self) -> Node {
        self.node
    }

    /// The director's namespace.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// Its keepalived.conf.
    pub fn conf_path(&self) -> &Path {
        &self.conf
    }

    /// Whether lvsd runs (started and not killed).
    pub fn running(&mut self) -> bool {
        matches!(self.lvsd.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// Whether the VIP is a local address here (a UDP bind to it succeeds): the VRRP master.
    pub fn holds_vip(&self) -> bool {
        self.ns
            .enter(|| std::net::UdpSocket::bind((VIP, 0)).is_ok())
            .unwrap_or(false)
    }

    /// The destinations of the virtual service in this director's IPVS table (address, weight),
    /// read from `/proc/net/ip_vs` inside the namespace. Empty when there is no service.
    pub fn ipvs_pool(&self) -> Vec<(Ipv4Addr, u32)> {
        let text = self
            .ns
            .enter(|| std::fs::read_to_string("/proc/thread-self/net/ip_vs"))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        parse_ipvs_pool(&text)
    }

    /// The last lines of lvsd's log (for failure messages).
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn start(&mut self, bins: &Binaries) -> io::Result<()> {
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        writeln!(&log, "---- start {} ----", self.starts)?;
        let mut cmd = self.ns.cmd(&bins.lvsd.to_string_lossy());
        cmd.args(["-l", "-f"]).arg(&self.conf);
        // /run is shared between namespaces: one control socket and dump file each.
        let dir = self.conf.parent().unwrap_or(Path::new("/tmp"));
        let n = self.node.name();
        cmd.arg("--control").arg(dir.join(format!("lvsd-{n}.sock")));
        cmd.arg("--dump-file")
            .arg(dir.join(format!("lvsd-{n}.json")));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.lvsd = Some(child);
        Ok(())
    }

    /// SIGKILL lvsd, then take every link down, as when the director's machine dies (with the
    /// links up, the kernel of a live namespace would keep forwarding for the VIP lvsd left).
    fn kill(&mut self) -> io::Result<()> {
        self.alive = false;
        if let Some(mut c) = self.lvsd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let script: String = self
            .ifaces
            .iter()
            .map(|i| format!("link set {i} down\n"))
            .collect();
        ip_batch(&self.ns, &script)
    }

    /// Links up again and lvsd restarted (it removes the VIPs its predecessor left).
    fn restart(&mut self, bins: &Binaries) -> io::Result<()> {
        let script: String = self
            .ifaces
            .iter()
            .map(|i| format!("link set {i} up\n"))
            .collect();
        ip_batch(&self.ns, &script)?;
        self.alive = true;
        self.start(bins)
    }

    fn signal(&self, sig: nix::sys::signal::Signal) -> io::Result<()> {
        let pid = self
            .lvsd
            .as_ref()
            .ok_or_else(|| io::Error::other("lvsd is not running"))?
            .id();
        let pid = i32::try_from(pid).map_err(io::Error::other)?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).map_err(io::Error::from)
    }
}

impl Drop for Director {
    fn drop(&mut self) {
        if let Some(mut c) = self.lvsd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `/proc/net/ip_vs` destinations: `  -> C6336C0C:0050      Route   1      0          0`.
fn parse_ipvs_pool(text: &str) -> Vec<(Ipv4Addr, u32)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            if f.next()? != "->" {
                return None;
            }
            let (hex, _) = f.next()?.split_once(':')?;
            let addr = Ipv4Addr::from(u32::from_str_radix(hex, 16).ok()?);
            let _fwd = f.next()?;
            let weight = f.next()?.parse().ok()?;
            Some((addr, weight))
        })
        .collect()
}

/// A real server: a namespace, its page and its httpd.
#[derive(Debug)]
pub struct RealServer {
    name: String,
    addr: Ipv4Addr,
    ns: Netns,
    docroot: PathBuf,
    httpd: Option<Child>,
}

impl RealServer {
    /// `rs1`, `rs2`, ...: the page's text, as the client reports it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its address (RIP).
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// Its namespace.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// Starts `busybox httpd` on port 80 and waits (bounded, 5 s) until it accepts connections.
    pub fn start_httpd(&mut self) -> io::Result<()> {
        if self.httpd.is_some() {
            return Ok(());
        }
        let child = self
            .ns
            .cmd("busybox")
            .args(["httpd", "-f", "-p", "80", "-h"])
            .arg(&self.docroot)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.httpd = Some(child);
        let addr = SocketAddr::from((self.addr, PORT));
        let up = wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
            self.ns
                .enter(|| {
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                })
                .unwrap_or(false)
        });
        if !up {
            return Err(io::Error::other(format!(
                "httpd on {} did not start",
                self.name
            )));
        }
        Ok(())
    }

    /// Kills its httpd (SIGKILL): connections to it are refused from then on.
    pub fn kill_httpd(&mut self) {
        if let Some(mut c) = self.httpd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        self.kill_httpd();
    }
}

/// The seed's picture in namespaces. See the crate documentation for the addresses.
#[derive(Debug)]
pub struct Topology {
    mode: Mode,
    bins: Binaries,
    // Field order is drop order: processes first, then hosts, then the bridges.
    directors: [Director; 2],
    servers: Vec<RealServer>,
    client: Netns,
    _router: Option<Netns>,
    _lans: Vec<Lan>,
    pool: Vec<(usize, u32)>,
    dir: tempfile::TempDir,
}

/// The inside (real servers') network's address of host `n`.
fn inside(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, n)
}

impl Topology {
    /// Builds the namespaces, links and addresses for `mode` with `servers` real servers (rs1,
    /// rs2, ... at 198.51.100.12, .13, ...), prepares them with lvs-realserver and starts their
    /// httpd. The pool is the first two servers with weights 1 and 1; the directors are written
    /// their configuration but not started (see [`start`](Self::start)).
    pub fn build(mode: Mode, bins: Binaries, servers: usize) -> io::Result<Self> {
        if !(2..=8).contains(&servers) {
            return Err(io::Error::other("between 2 and 8 real servers"));
        }
        let dir = tempfile::Builder::new().prefix("lvs-topo-").tempdir()?;
        let mut back = Lan::new("back")?;
        let client = Netns::new("topo-client")?;
        let mut lans = Vec::new();
        let mut router = None;
        let (client_addr, client_gw) = match mode {
            Mode::Dr | Mode::Tun => {
                let r = Netns::new("topo-router")?;
                ip_batch(
                    &r,
                    &format!(
                        "link add eth0 type veth peer name eth0 netns {}\n",
                        client.name()
                    ),
                )?;
                back.attach(&r, "eth1")?;
                ip_batch(
                    &r,
                    &format!(
                        "link set eth0 up\nlink set eth1 up\naddr add 192.0.2.1/24 dev eth0\n\
                         addr add {}/24 dev eth1\nroute add {VIP}/32 dev eth1\n",
                        inside(1)
                    ),
                )?;
                sysctls(&r, &[("net/ipv4/ip_forward", "1")])?;
                router = Some(r);
                ("192.0.2.10/24", "192.0.2.1")
            }
            Mode::Nat => {
                let mut front = Lan::new("front")?;
                front.attach(&client, "eth0")?;
                lans.push(front);
                ("203.0.113.10/24", "203.0.113.1")
            }
        };
        ip_batch(
            &client,
            &format!(
                "link set eth0 up\naddr add {client_addr} dev eth0\nroute add default via {client_gw}\n"
            ),
        )?;

        let mut make_director = |node: Node, n: u8| -> io::Result<Director> {
            let ns = Netns::new(&format!("topo-dir{}", node.name()))?;
            let mut script = String::new();
            let ifaces = if mode == Mode::Nat {
                lans[0].attach(&ns, "eth0")?;
                back.attach(&ns, "eth1")?;
                script.push_str(&format!(
                    "link set eth0 up\nlink set eth1 up\naddr add 203.0.113.{n}/24 dev eth0\n\
                     addr add {}/24 dev eth1\n",
                    inside(n)
                ));
                vec!["eth0", "eth1"]
            } else {
                back.attach(&ns, "eth0")?;
                script.push_str(&format!(
                    "link set eth0 up\naddr add {}/24 dev eth0\nroute add default via {}\n",
                    inside(n),
                    inside(1)
                ));
                vec!["eth0"]
            };
            ip_batch(&ns, &script)?;
            sysctls(&ns, &[("net/ipv4/ip_forward", "1")])?;
            Ok(Director {
                node,
                ns,
                ifaces,
                conf: dir.path().join(format!("director-{}.conf", node.name())),
                log: dir.path().join(format!("lvsd-{}.log", node.name())),
                lvsd: None,
                starts: 0,
                alive: true,
            })
        };
        let directors = [make_director(Node::A, 2)?, make_director(Node::B, 3)?];

        let mut rs = Vec::new();
        for i in 0..servers {
            let name = format!("rs{}", i + 1);
            let addr = inside(12 + u8::try_from(i).map_err(io::Error::other)?);
            let ns = Netns::new(&format!("topo-{name}"))?;
            back.attach(&ns, "eth0")?;
            let mut script = format!("link set eth0 up\naddr add {addr}/24 dev eth0\n");
            if mode != Mode::Nat {
                // NAT: lvs-realserver makes the inner VIP the default route.
                script.push_str(&format!("route add default via {}\n", inside(1)));
            }
            ip_batch(&ns, &script)?;
            let state = dir.path().join(format!("{name}-state"));
            let mut prep = ns.cmd(&bins.realserver.to_string_lossy());
            prep.args(["up", "--mode", mode.name(), "--vip", &VIP.to_string()]);
            prep.arg("--state-dir").arg(&state);
            match mode {
                Mode::Dr => {
                    prep.args(["--dev", "eth0"]);
                }
                Mode::Nat => {
                    prep.args(["--gateway", &INNER_VIP.to_string()]);
                }
                Mode::Tun => {}
            }
            run_cmd(&mut prep)?;
            let docroot = dir.path().join(format!("{name}-www"));
            std::fs::create_dir_all(&docroot)?;
            std::fs::write(docroot.join("index.html"), format!("{name}\n"))?;
            let mut server = RealServer {
                name,
                addr,
                ns,
                docroot,
                httpd: None,
            };
            server.start_httpd()?;
            rs.push(server);
        }
        lans.insert(0, back);
        let topo = Self {
            mode,
            bins,
            directors,
            servers: rs,
            client,
            _router: router,
            _lans: lans,
            pool: vec![(0, 1), (1, 1)],
            dir,
        };
        topo.write_confs()?;
        Ok(topo)
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The client's namespace.
    pub fn client(&self) -> &Netns {
        &self.client
    }

    /// The virtual service, VIP:80.
    pub fn service(&self) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(VIP), PORT)
    }

    /// Director A (index 0) or B (index 1).
    pub fn director(&self, node: Node) -> &Director {
        &self.directors[node as usize]
    }

    /// The real servers (rs1 first).
    pub fn servers(&self) -> &[RealServer] {
        &self.servers
    }

    /// Real server `i` (0 = rs1), mutable (to stop or start its httpd).
    pub fn server_mut(&mut self, i: usize) -> &mut RealServer {
        &mut self.servers[i]
    }

    /// The pool in the directors' configuration: (server index, weight).
    pub fn pool(&self) -> &[(usize, u32)] {
        &self.pool
    }

    /// The directory holding configurations, logs and pages (removed on drop).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The directors whose namespace has the VIP as a local address, alive or not (a dead or
    /// just restarted director keeps its stale VIP until its lvsd removes it at startup).
    pub fn vip_holders(&self) -> Vec<Node> {
        self.directors
            .iter()
            .filter(|d| d.holds_vip())
            .map(|d| d.node)
            .collect()
    }

    /// The live director holding the VIP, if exactly one does (a dead director's namespace may
    /// still have the address on its downed link).
    pub fn master(&self) -> Option<Node> {
        let held: Vec<Node> = self
            .directors
            .iter()
            .filter(|d| d.alive && d.holds_vip())
            .map(|d| d.node)
            .collect();
        match held[..] {
            [one] => Some(one),
            _ => None,
        }
    }

    fn pool_addrs(&self) -> Vec<(Ipv4Addr, u32)> {
        self.pool
            .iter()
            .map(|&(i, w)| (self.servers[i].addr, w))
            .collect()
    }

    fn write_confs(&self) -> io::Result<()> {
        let pool = self.pool_addrs();
        for d in &self.directors {
            std::fs::write(&d.conf, conf::director_conf(self.mode, d.node, &pool))?;
        }
        Ok(())
    }

    /// Starts lvsd on A, waits (bounded, 15 s) until A holds the VIP, then starts B and waits
    /// (bounded, 15 s) until both IPVS tables hold the pool with A still the only master.
    ///
    /// One after the other, as directors boot in practice: started together, both come up as
    /// BACKUP and their Master_Down_Intervals (3.61 s and 3.65 s) expire almost together, so
    /// under emulation both may become MASTER for a moment and the real servers' ARP entry for
    /// the NAT gateway can be left pointing at B.
    pub fn start(&mut self) -> io::Result<()> {
        for i in 0..2 {
            self.directors[i].start(&self.bins)?;
            if i == 0 {
                let a_up = wait_until(Duration::from_secs(15), Duration::from_millis(100), || {
                    self.master() == Some(Node::A)
                });
                if !a_up {
                    return Err(self.failure("director A did not become MASTER alone"));
                }
            }
        }
        let want = self.pool.len();
        let ok = wait_until(Duration::from_secs(15), Duration::from_millis(100), || {
            self.master() == Some(Node::A)
                && self.directors.iter().all(|d| d.ipvs_pool().len() == want)
        });
        if !ok {
            return Err(self.failure("the directors did not come up (A master, pool programmed)"));
        }
        Ok(())
    }

    /// An error carrying `what`, the tails of both lvsd logs and each director's addresses and
    /// IPVS table (with counters).
    pub fn failure(&self, what: &str) -> io::Error {
        let mut msg = what.to_string();
        for d in &self.directors {
            let addrs = d.ns.run(&["ip", "-br", "addr"]).unwrap_or_default();
            let ipvs =
                d.ns.run(&["ipvsadm", "-Ln", "--stats"])
                    .unwrap_or_else(|e| e.to_string());
            msg.push_str(&format!(
                "\n--- director {} lvsd log ---\n{}\n--- addresses ---\n{}--- ipvsadm -Ln --stats ---\n{}",
                d.node.name(),
                d.log_tail(20),
                addrs,
                ipvs
            ));
        }
        io::Error::other(msg)
    }

    /// "The director dies": SIGKILL its lvsd and take its links down.
    pub fn kill_director(&mut self, node: Node) -> io::Result<()> {
        self.directors[node as usize].kill()
    }

    /// The director comes back: links up, lvsd started again.
    pub fn restart_director(&mut self, node: Node) -> io::Result<()> {
        self.directors[node as usize].restart(&self.bins)
    }

    /// Whether lvsd runs on `node`.
    pub fn director_running(&mut self, node: Node) -> bool {
        self.directors[node as usize].running()
    }

    /// A new pool (server index, weight): both configurations rewritten, then SIGHUP to both
    /// lvsd. Returns once both IPVS tables show it
    /// (bounded, 10 s).
    pub fn reload_pool(&mut self, pool: &[(usize, u32)]) -> io::Result<()> {
        if pool.iter().any(|&(i, _)| i >= self.servers.len()) {
            return Err(io::Error::other("pool names a server that was not built"));
        }
        self.pool = pool.to_vec();
        self.write_confs()?;
        for d in &self.directors {
            if d.lvsd.is_some() {
                d.signal(nix::sys::signal::Signal::SIGHUP)?;
            }
        }
        let mut want = self.pool_addrs();
        want.sort();
        let ok = wait_until(Duration::from_secs(10), Duration::from_millis(100), || {
            self.directors.iter().all(|d| {
                let mut have = d.ipvs_pool();
                have.sort();
                have == want
            })
        });
        if !ok {
            return Err(self.failure("the reloaded pool did not reach both IPVS tables"));
        }
        Ok(())
    }
}

/// Removes the `lvs-topo-*` namespaces (and their processes) of processes that no longer run:
/// what a killed demo or test left behind. Returns their names.
pub fn cleanup_stale() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // lvs-topo-<tag>-<pid>-<n>
        let Some(rest) = name.strip_prefix("lvs-topo-") else {
            continue;
        };
        let mut parts = rest.rsplit('-');
        let (_n, pid) = (parts.next(), parts.next());
        let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(out) = run_cmd(Command::new("ip").args(["netns", "pids", &name])) {
            for p in out.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        if run_cmd(Command::new("ip").args(["netns", "del", &name])).is_ok() {
            removed.push(name);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_parses_and_names() {
        assert_eq!("DR".parse::<Mode>(), Ok(Mode::Dr));
        assert_eq!("tun".parse::<Mode>(), Ok(Mode::Tun));
        let e = "gre".parse::<Mode>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown mode \"gre\": expected dr, nat or tun"
        );
        assert_eq!(Mode::Nat.to_string(), "NAT");
    }

    #[test]
    fn ipvs_proc_lines_parse() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
            Prot LocalAddress:Port Scheduler Flags\n\
              -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n\
            TCP  CB00713E:0050 wrr \n\
              -> C633640D:0050      Route   3      0          1         \n\
              -> C633640C:0050      Route   1      2          0         \n";
        assert_eq!(
            parse_ipvs_pool(text),
            vec![
                (Ipv4Addr::new(198, 51, 100, 13), 3),
                (Ipv4Addr::new(198, 51, 100, 12), 1)
            ]
        );
    }

    #[test]
    fn missing_binaries_say_what_to_build() {
        let dir = tempfile::tempdir().unwrap();
        let e = Binaries::in_dir(dir.path()).unwrap_err();
        assert!(
            e.to_string()
                .contains("cargo build -p lvsd -p lvs-realserver"),
            "{e}"
        );
    }
}
