//! The check side of lvsd (`lvsd -C`) against the real kernel's IPVS, in the kernel lab
//! (`[package.metadata.lvs] lab-tests`): on the host these tests print SKIP.
//!
//! Every test builds its own namespaces; IPVS tables are per namespace. `ipvsadm -Sn` (Debian's
//! ipvsadm) is the judge of what the kernel holds.

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod common;

use lvs_testkit::{Lan, Netns, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const LVSD: &str = env!("CARGO_BIN_EXE_lvsd");

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A configuration file written for one test (in the VM, /tmp writes stay in its RAM).
struct TempConf(PathBuf);

impl TempConf {
    fn new(tag: &str, text: &str) -> Self {
        let p = std::env::temp_dir().join(format!("lvsd-{tag}-{}.conf", std::process::id()));
        std::fs::write(&p, text).expect("write the configuration");
        Self(p)
    }
}

impl Drop for TempConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn control_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lvsd-{tag}-{}.sock", std::process::id()))
}

/// `lvsd -C` running in a namespace, its log in a file.
struct Lvsd {
    child: Child,
    log: PathBuf,
}

impl Lvsd {
    fn start(ns: &Netns, conf: &std::path::Path, tag: &str) -> Self {
        Self::start_with(ns, conf, tag, "-C")
    }

    /// `lvsd FLAG`: `-C`, `-P`, or both sides with any other flag (e.g. `-D`).
    fn start_with(ns: &Netns, conf: &std::path::Path, tag: &str, flag: &str) -> Self {
        let log = std::env::temp_dir().join(format!("lvsd-{tag}-{}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("log file");
        let control = control_path(tag);
        let child = ns
            .cmd(LVSD)
            .arg(flag)
            .arg("-f")
            .arg(conf)
            .arg("--control")
            .arg(control)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start lvsd");
        Self { child, log }
    }

    /// `lvsd status` (JSON) from this daemon's control socket.
    fn status(&self, tag: &str) -> serde_json::Value {
        let out = std::process::Command::new(LVSD)
            .arg("status")
            .arg("--control")
            .arg(control_path(tag))
            .output()
            .expect("lvsd status");
        assert!(out.status.success(), "lvsd status: {out:?}");
        serde_json::from_slice(&out.stdout).expect("status JSON")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, s: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), s).expect("signal lvsd");
    }

    /// SIGTERM, then the exit status (bounded).
    fn stop(mut self) -> i32 {
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(st) = self.child.try_wait().expect("wait lvsd") {
                return st.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("lvsd did not stop within 20 s:\n{}", self.log());
    }
}

impl Drop for Lvsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `ipvsadm -Sn` in `ns`, lines sorted (the kernel lists destinations in its own order).
fn table(ns: &Netns) -> String {
    let out = ns.run(&["ipvsadm", "-Sn"]).expect("ipvsadm -Sn");
    let mut lines: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort_unstable();
    lines.join("\n")
}

fn sorted(lines: &[&str]) -> String {
    let mut v = lines.to_vec();
    v.sort_unstable();
    v.join("\n")
}

/// Waits (bounded) until the table is `want`; panics with both tables and lvsd's log.
fn expect_table(ns: &Netns, lvsd: &Lvsd, want: &[&str], within: Duration, what: &str) {
    let want = sorted(want);
    let mut last = String::new();
    let ok = wait_until(within, Duration::from_millis(100), || {
        last = table(ns);
        last == want
    });
    assert!(
        ok,
        "{what}: IPVS table\n{last}\nwanted\n{want}\nlvsd log:\n{}",
        lvsd.log()
    );
}

/// A TCP listener on 0.0.0.0:80 inside a real server's namespace, accepting until stopped.
struct Listener {
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl Listener {
    fn start(ns: &Netns) -> Self {
        let l = ns
            .enter(|| TcpListener::bind("0.0.0.0:80"))
            .expect("enter")
            .expect("bind port 80");
        l.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let join = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match l.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self {
            stop,
            join: Some(join),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// Connections the kernel counted for the service (`ipvsadm -Ln --stats`, first service line).
fn service_conns(ns: &Netns) -> u64 {
    let out = ns
        .run(&["ipvsadm", "-Ln", "--stats"])
        .expect("ipvsadm --stats");
    out.lines()
        .find(|l| l.starts_with("TCP"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

const SEED_TABLE: [&str; 3] = [
    "-A -t 203.0.113.62:80 -s wrr -p 10",
    "-a -t 203.0.113.62:80 -r 198.51.100.12:80 -g -w 1",
    "-a -t 203.0.113.62:80 -r 198.51.100.13:80 -g -w 1",
];

/// (a, c) The seed's DR virtual_server is programmed exactly, a service made by someone else is
/// left alone, SIGTERM keeps the table (a restart changes nothing), `lvs_flush_on_stop` flushes.
#[test]
fn seed_dr_programmed_exactly_kept_at_stop_flushed_with_lvs_flush_on_stop() {
    if lvs_lab::skip_unless_lab(
        "seed_dr_programmed_exactly_kept_at_stop_flushed_with_lvs_flush_on_stop",
    ) {
        return;
    }
    let dir = Netns::new("ckdir").expect("netns");
    dir.run(&["ipvsadm", "-A", "-u", "192.0.2.53:53", "-s", "rr"])
        .expect("foreign service");
    let foreign = "-A -u 192.0.2.53:53 -s rr";
    let mut want: Vec<&str> = SEED_TABLE.to_vec();
    want.push(foreign);

    let lvsd = Lvsd::start(&dir, &data("check-seed-dr.conf"), "seed");
    expect_table(
        &dir,
        &lvsd,
        &want,
        Duration::from_secs(30),
        "lvsd -C with the seed",
    );
    assert_eq!(lvsd.stop(), 0, "lvsd exit status");
    assert_eq!(
        table(&dir),
        sorted(&want),
        "SIGTERM keeps the table by default"
    );

    // A restart on the live table changes nothing; lvs_flush_on_stop flushes at stop.
    let seed = std::fs::read_to_string(data("check-seed-dr.conf")).expect("read");
    let conf = TempConf::new(
        "flush",
        &format!("global_defs {{\n    lvs_flush_on_stop\n}}\n{seed}"),
    );
    let lvsd = Lvsd::start(&dir, &conf.0, "flush");
    let ok = wait_until(Duration::from_secs(30), Duration::from_millis(100), || {
        lvsd.log().contains("IPVS programmed")
    });
    assert!(ok, "lvsd did not program IPVS:\n{}", lvsd.log());
    assert!(
        lvsd.log().contains("changes=0"),
        "a restart on the same table made changes:\n{}",
        lvsd.log()
    );
    assert_eq!(table(&dir), sorted(&want));
    assert_eq!(lvsd.stop(), 0);
    assert_eq!(table(&dir), "", "lvs_flush_on_stop flushes IPVS");
}

/// (a, b) Checkers against namespace real servers keep the pool in line; SIGHUP with a changed
/// weight, a new real server and inhibit_on_failure: the kernel follows, the service is not
/// re-created (its connection counter survives).
#[test]
fn checkers_follow_real_servers_and_reload_keeps_the_service() {
    if lvs_lab::skip_unless_lab("checkers_follow_real_servers_and_reload_keeps_the_service") {
        return;
    }
    let lan = Lan::new("cklan").expect("lan");
    let dir = Netns::new("ckd").expect("netns");
    let rs1 = Netns::new("ckr1").expect("netns");
    let rs2 = Netns::new("ckr2").expect("netns");
    let client = Netns::new("ckc").expect("netns");
    for (ns, addr) in [
        (&dir, "198.51.100.1/24"),
        (&rs1, "198.51.100.12/24"),
        (&rs2, "198.51.100.13/24"),
        (&client, "198.51.100.100/24"),
    ] {
        lan.attach(ns, "eth0").expect("attach");
        ns.run(&["ip", "addr", "add", addr, "dev", "eth0"])
            .expect("address");
    }
    dir.run(&["ip", "addr", "add", "203.0.113.62/32", "dev", "eth0"])
        .expect("VIP");
    for rs in [&rs1, &rs2] {
        // DR: the real server accepts the VIP on lo and answers the client directly.
        rs.run(&["ip", "addr", "add", "203.0.113.62/32", "dev", "lo"])
            .expect("VIP on lo");
    }
    client
        .run(&[
            "ip",
            "route",
            "add",
            "203.0.113.62/32",
            "via",
            "198.51.100.1",
        ])
        .expect("route to the VIP");
    let l1 = Listener::start(&rs1);
    let l2 = Listener::start(&rs2);

    let conf = TempConf::new(
        "dr",
        &std::fs::read_to_string(data("check-dr.conf")).expect("read"),
    );
    let lvsd = Lvsd::start(&dir, &conf.0, "dr");
    let both = [
        "-A -t 203.0.113.62:80 -s wrr -p 10",
        "-a -t 203.0.113.62:80 -r 198.51.100.12:80 -g -w 1",
        "-a -t 203.0.113.62:80 -r 198.51.100.13:80 -g -w 1",
    ];
    expect_table(&dir, &lvsd, &both, Duration::from_secs(30), "start");
    // `lvsd status`: the virtual server, its pool and checkers as the kernel has them.
    let st = lvsd.status("dr");
    assert_eq!(
        st["daemon"]["subsystems"],
        serde_json::json!(["check"]),
        "{st:#}"
    );
    let vs = &st["virtual_servers"][0];
    assert_eq!(vs["key"], "TCP 203.0.113.62:80", "{st:#}");
    assert_eq!(vs["scheduler"], "wrr");
    assert_eq!(vs["forwarding"], "DR");
    assert_eq!(vs["quorum_up"], true);
    for (i, addr) in ["198.51.100.12:80", "198.51.100.13:80"].iter().enumerate() {
        let rs = &vs["real_servers"][i];
        assert_eq!(rs["address"], *addr, "{st:#}");
        assert_eq!(rs["in_kernel"], true, "{st:#}");
        assert_eq!(rs["weight"], 1, "{st:#}");
        assert_eq!(rs["checkers"], 1, "{st:#}");
    }

    // A client connection through the director (DR): the service counts it.
    let vip: SocketAddr = "203.0.113.62:80".parse().expect("addr");
    let conn = client
        .enter(|| TcpStream::connect_timeout(&vip, Duration::from_secs(5)))
        .expect("enter")
        .expect("connect to the VIP through IPVS");
    // The kernel folds its per-CPU counters into the shown ones every 2 s.
    let counted = wait_until(Duration::from_secs(10), Duration::from_millis(200), || {
        service_conns(&dir) == 1
    });
    assert!(counted, "the connection was not counted by IPVS");

    // One real server's listener goes: its destination leaves the table; back when it returns.
    drop(l2);
    let one = [
        "-A -t 203.0.113.62:80 -s wrr -p 10",
        "-a -t 203.0.113.62:80 -r 198.51.100.12:80 -g -w 1",
    ];
    expect_table(
        &dir,
        &lvsd,
        &one,
        Duration::from_secs(15),
        "listener of .13 stopped",
    );
    let st = lvsd.status("dr");
    let rs = &st["virtual_servers"][0]["real_servers"][1];
    assert_eq!(rs["alive"], false, "{st:#}");
    assert_eq!(rs["in_kernel"], false, "{st:#}");
    assert_eq!(rs["checkers_up"], 0, "{st:#}");
    assert!(rs["last_failure"].is_string(), "{st:#}");
    let l2 = Listener::start(&rs2);
    expect_table(
        &dir,
        &lvsd,
        &both,
        Duration::from_secs(15),
        "listener of .13 back",
    );

    // SIGHUP with the edited configuration.
    std::fs::write(
        &conf.0,
        std::fs::read_to_string(data("check-dr-reload.conf")).expect("read"),
    )
    .expect("write");
    lvsd.signal(Signal::SIGHUP);
    let reloaded = [
        "-A -t 203.0.113.62:80 -s wrr -p 10",
        "-a -t 203.0.113.62:80 -r 198.51.100.12:80 -g -w 5",
        "-a -t 203.0.113.62:80 -r 198.51.100.13:80 -g -w 1",
        "-a -t 203.0.113.62:80 -r 198.51.100.14:80 -g -w 2",
    ];
    expect_table(
        &dir,
        &lvsd,
        &reloaded,
        Duration::from_secs(15),
        "after SIGHUP",
    );
    assert_eq!(
        service_conns(&dir),
        1,
        "the service was re-created by the reload (its counters were reset):\n{}",
        lvsd.log()
    );

    // inhibit_on_failure now: a failed server stays with weight 0.
    drop(l2);
    let inhibited = [
        "-A -t 203.0.113.62:80 -s wrr -p 10",
        "-a -t 203.0.113.62:80 -r 198.51.100.12:80 -g -w 5",
        "-a -t 203.0.113.62:80 -r 198.51.100.13:80 -g -w 0",
        "-a -t 203.0.113.62:80 -r 198.51.100.14:80 -g -w 2",
    ];
    expect_table(
        &dir,
        &lvsd,
        &inhibited,
        Duration::from_secs(15),
        "inhibit_on_failure",
    );
    drop(conn);
    drop(l1);
    let mut log = String::new();
    let code = {
        let _ = std::fs::File::open(&lvsd.log).and_then(|mut f| f.read_to_string(&mut log));
        lvsd.stop()
    };
    assert_eq!(code, 0, "lvsd exit status; log:\n{log}");
}

/// A virtual_server_group (address range + fwmark) with alpha, quorum 2 and a sorry server: at
/// start no real server has passed a check, so every service of the group holds only the sorry
/// server; once both real servers answer, the quorum is up and they replace it.
#[test]
fn group_alpha_quorum_sorry_server() {
    if lvs_lab::skip_unless_lab("group_alpha_quorum_sorry_server") {
        return;
    }
    let dir = Netns::new("ckgd").expect("netns");
    let rs = Netns::new("ckgr").expect("netns");
    lvs_testkit::veth(&dir, "eth0", &rs, "eth0").expect("veth");
    dir.run(&["ip", "addr", "add", "198.51.100.1/24", "dev", "eth0"])
        .expect("address");
    for a in ["198.51.100.21/24", "198.51.100.22/24"] {
        rs.run(&["ip", "addr", "add", a, "dev", "eth0"])
            .expect("address");
    }
    let lvsd = Lvsd::start(&dir, &data("check-group.conf"), "group");
    let services = ["-t 203.0.113.70:80", "-t 203.0.113.71:80", "-f 7"];
    let mut sorry = Vec::new();
    let mut real = Vec::new();
    for s in services {
        sorry.push(format!("-A {s} -s rr"));
        sorry.push(format!("-a {s} -r 198.51.100.99:80 -m -w 1"));
        real.push(format!("-A {s} -s rr"));
        real.push(format!("-a {s} -r 198.51.100.21:80 -m -w 1"));
        real.push(format!("-a {s} -r 198.51.100.22:80 -m -w 1"));
    }
    let sorry: Vec<&str> = sorry.iter().map(String::as_str).collect();
    let real: Vec<&str> = real.iter().map(String::as_str).collect();
    expect_table(
        &dir,
        &lvsd,
        &sorry,
        Duration::from_secs(30),
        "quorum down at start",
    );
    let st = lvsd.status("group");
    let vss = st["virtual_servers"].as_array().expect("virtual_servers");
    assert_eq!(vss.len(), 3, "{st:#}");
    assert_eq!(vss[2]["key"], "FWM 7", "{st:#}");
    assert_eq!(vss[0]["quorum_up"], false, "{st:#}");
    assert_eq!(vss[0]["sorry_active"], true, "{st:#}");

    let _l = Listener::start(&rs);
    expect_table(&dir, &lvsd, &real, Duration::from_secs(20), "quorum up");
    let st = lvsd.status("group");
    assert_eq!(st["virtual_servers"][1]["quorum_up"], true, "{st:#}");
    assert_eq!(st["virtual_servers"][1]["sorry_active"], false, "{st:#}");
    assert_eq!(lvsd.stop(), 0);
}

/// The seed's DR director configuration (node A) run unchanged by a plain `lvsd` (both sides)
/// on a kernel with IPVS: the virtual_server programmed, the instance MASTER with its VIP;
/// SIGTERM removes the VIP and keeps the IPVS table.
#[test]
fn both_sides_run_the_seed_director_config() {
    if lvs_lab::skip_unless_lab("both_sides_run_the_seed_director_config") {
        return;
    }
    let node = common::Node::new("ckboth");
    let mut lvsd = node.start(&common::data("node-a.conf"), &[], "both.log");
    let log = || node.dir.read("both.log");
    let want = sorted(&[
        "-A -t 203.0.113.62:80 -s wrr -p 60",
        "-a -t 203.0.113.62:80 -r 198.51.100.2:80 -g -w 3",
    ]);
    let mut last = String::new();
    let programmed = wait_until(Duration::from_secs(30), Duration::from_millis(100), || {
        last = table(&node.ns);
        last == want
    });
    assert!(programmed, "IPVS table\n{last}\nwanted\n{want}\n{}", log());
    let st = common::wait_status(&node.control(), Duration::from_secs(20), |s| {
        common::first_state(s) == "MASTER"
    })
    .unwrap_or_else(|| panic!("never MASTER\n{}", log()));
    let mut subsystems: Vec<String> =
        serde_json::from_value(st["daemon"]["subsystems"].clone()).expect("subsystems");
    subsystems.sort();
    assert_eq!(subsystems, ["check", "vrrp"], "{st:#}");
    assert!(node.holds(common::VIP), "MASTER without the VIP\n{}", log());
    assert_eq!(
        st["virtual_servers"][0]["key"], "TCP 203.0.113.62:80",
        "{st:#}"
    );
    common::signal(&lvsd, "TERM");
    assert_eq!(
        common::wait_exit(&mut lvsd, Duration::from_secs(20)),
        Some(0),
        "{}",
        log()
    );
    assert!(
        !node.holds(common::VIP),
        "VIP left after SIGTERM\n{}",
        log()
    );
    assert_eq!(table(&node.ns), want, "SIGTERM keeps the table");
}

/// The seed's NAT and TUN directors: the same virtual_server with `lb_kind NAT` / `lb_kind TUN`
/// (the seed's other two configurations), programmed exactly.
#[test]
fn seed_nat_and_tun_virtual_servers_programmed_exactly() {
    if lvs_lab::skip_unless_lab("seed_nat_and_tun_virtual_servers_programmed_exactly") {
        return;
    }
    let seed = std::fs::read_to_string(data("check-seed-dr.conf")).expect("read");
    for (kind, lines) in [
        (
            "NAT",
            [
                "-a -t 203.0.113.62:80 -r 198.51.100.12:80 -m -w 1",
                "-a -t 203.0.113.62:80 -r 198.51.100.13:80 -m -w 1",
            ],
        ),
        (
            "TUN",
            [
                "-a -t 203.0.113.62:80 -r 198.51.100.12:80 -i -w 1 --tun-type ipip",
                "-a -t 203.0.113.62:80 -r 198.51.100.13:80 -i -w 1 --tun-type ipip",
            ],
        ),
    ] {
        let text = seed.replace("lb_kind DR", &format!("lb_kind {kind}"));
        assert_ne!(text, seed);
        let conf = TempConf::new(kind, &text);
        let dir = Netns::new("ckkind").expect("netns");
        let lvsd = Lvsd::start(&dir, &conf.0, kind);
        let want = [SEED_TABLE[0], lines[0], lines[1]];
        expect_table(&dir, &lvsd, &want, Duration::from_secs(30), kind);
        assert_eq!(lvsd.stop(), 0, "{kind}");
    }
}

/// `lvs_sync_daemon eth0 VI_1 id 7`: the backup sync daemon runs while VI_1 is BACKUP, only the
/// master one once it is MASTER, none after SIGTERM (`ipvsadm -L --daemon` judging).
#[test]
fn sync_daemon_follows_its_vrrp_instance() {
    if lvs_lab::skip_unless_lab("sync_daemon_follows_its_vrrp_instance") {
        return;
    }
    let ns = Netns::new("cksyncd").expect("netns");
    for cmd in [
        &[
            "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
        ][..],
        &["ip", "link", "set", "eth0", "up"],
        &["ip", "link", "set", "eth1", "up"],
        &["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"],
    ] {
        ns.run(cmd).expect("link");
    }
    let conf = TempConf::new(
        "syncd",
        "global_defs {\n    lvs_sync_daemon eth0 VI_1 id 7\n}\n\n\
         vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n\
         \x20   priority 100\n    advert_int 1\n    virtual_ipaddress {\n        192.0.2.100\n    }\n}\n",
    );
    let daemons = || ns.run(&["ipvsadm", "-L", "--daemon"]).unwrap_or_default();
    // lvsd -P started, its instance still BACKUP: the backup daemon runs, not the master one.
    let start = || {
        let lvsd = Lvsd::start_with(&ns, &conf.0, "syncd", "-P");
        assert!(
            wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
                daemons().contains("backup sync daemon (mcast=eth0, syncid=7,")
            }),
            "no backup sync daemon while BACKUP: {:?}\n{}",
            daemons(),
            lvsd.log()
        );
        lvsd
    };
    let stop = |lvsd: Lvsd| {
        let log = lvsd.log();
        assert_eq!(lvsd.stop(), 0, "lvsd exit status");
        assert_eq!(
            daemons().trim(),
            "",
            "sync daemon left after SIGTERM\n{log}"
        );
    };
    // Stopped while still BACKUP: its backup daemon goes with it.
    stop(start());
    // Again, this time until MASTER.
    let lvsd = start();
    assert!(!daemons().contains("master"), "{}", daemons());
    // Alone on its link, VI_1 becomes MASTER after Master_Down_Interval (about 3.6 s).
    assert!(
        wait_until(Duration::from_secs(15), Duration::from_millis(100), || {
            let d = daemons();
            d.contains("master sync daemon (mcast=eth0, syncid=7,") && !d.contains("backup")
        }),
        "the master daemon did not replace the backup one: {:?}\n{}",
        daemons(),
        lvsd.log()
    );
    stop(lvsd);
}

/// `lvs_timeouts`: set when the check side starts; on reload a value the file no longer gives
/// goes back to the kernel's value from before lvsd (`ipvsadm -L --timeout` judging).
#[test]
fn lvs_timeouts_set_at_start_and_restored_on_reload() {
    if lvs_lab::skip_unless_lab("lvs_timeouts_set_at_start_and_restored_on_reload") {
        return;
    }
    let ns = Netns::new("cktmo").expect("netns");
    let timeouts = || {
        ns.run(&["ipvsadm", "-L", "--timeout"])
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let before = "Timeout (tcp tcpfin udp): 900 120 300";
    assert_eq!(timeouts(), before, "a fresh namespace's defaults");
    let vs =
        "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n}\n";
    let conf = TempConf::new(
        "tmo",
        &format!("global_defs {{\n    lvs_timeouts tcp 7200 udp 60\n}}\n{vs}"),
    );
    let lvsd = Lvsd::start(&ns, &conf.0, "tmo");
    assert!(
        wait_until(Duration::from_secs(20), Duration::from_millis(100), || {
            timeouts() == "Timeout (tcp tcpfin udp): 7200 120 60"
        }),
        "{:?}\n{}",
        timeouts(),
        lvsd.log()
    );
    std::fs::write(
        &conf.0,
        format!("global_defs {{\n    lvs_timeouts tcpfin 30\n}}\n{vs}"),
    )
    .expect("rewrite");
    lvsd.signal(Signal::SIGHUP);
    assert!(
        wait_until(Duration::from_secs(20), Duration::from_millis(100), || {
            timeouts() == "Timeout (tcp tcpfin udp): 900 30 300"
        }),
        "{:?}\n{}",
        timeouts(),
        lvsd.log()
    );
    assert_eq!(lvsd.stop(), 0, "lvsd exit status");
}
