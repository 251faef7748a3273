//! `lvsd-bench`: lvsd side by side with Debian's keepalived, in one run (root).
//!
//! * `takeover`: a keepalived master (VRRPv2, priority 100, advert_int 1) and a priority-90
//!   backup on one bridge, in network namespaces; the master is SIGKILLed and the bridge
//!   captured with tcpdump. Error = (first advert of the new master − last advert of the old
//!   one) − Master_Down_Interval (3 × 1 s + (256 − 90)/256 s). The backup is lvsd in one trial
//!   and keepalived in the next, alternating, so drift of the machine affects both.
//! * `rss`: RSS and PSS, summed over the daemon's processes, with the seed's DR configuration
//!   once it holds the VIP as MASTER: `-P` (VRRP only) on any kernel, and the full daemon
//!   (VRRP + IPVS + checkers) where IPVS exists (the kernel lab).
//! * `program` (IPVS needed: the kernel lab): time from the daemon's start to 10,000 virtual
//!   services × 4 real servers in the kernel, from a generated configuration, detected by
//!   polling `/proc/net/ip_vs` of the daemon's namespace.
//! * `all`: every measurement that this kernel allows.
//!
//! Each measurement is repeated `--repeat` times; tables give median, min and max, and the
//! ratio of the medians. Nothing is written outside a scratch directory and the namespaces
//! the bench creates.
//!
//! `lvs-testkit` (namespaces, bridges) is a normal dependency of the crate for this binary,
//! as for `ipvsctl bench` and `lvs-check-bench`: it only needs `nix`, which lvsd already uses.
#![forbid(unsafe_code)]

// A crate root's modules sit next to it; these live in `lvsd-bench/` instead.
#[path = "lvsd-bench/program.rs"]
mod program;
#[path = "lvsd-bench/rss.rs"]
mod rss;
#[path = "lvsd-bench/takeover.rs"]
mod takeover;

use std::fmt::Write as _;
use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use lvs_testkit::{Netns, wait_until};

/// lvsd side by side with keepalived: takeover precision, memory, IPVS programming time.
#[derive(Debug, Parser)]
#[command(name = "lvsd-bench")]
struct Cli {
    #[command(subcommand)]
    what: What,
    /// Repetitions of each measurement (per daemon).
    #[arg(short = 'n', long, default_value_t = 5, global = true)]
    repeat: usize,
    /// The lvsd binary (default: `lvsd` next to this program).
    #[arg(long, global = true)]
    lvsd: Option<PathBuf>,
    /// The keepalived binary.
    #[arg(long, default_value = "keepalived", global = true)]
    keepalived: String,
    /// Keep the scratch directory (configurations, logs, captures) and print its path.
    #[arg(long, global = true)]
    keep: bool,
    /// Print the end of every daemon's log after each trial (stderr).
    #[arg(short = 'v', long, global = true)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum What {
    /// SIGKILL takeover error over Master_Down_Interval (VRRP only: any kernel).
    Takeover,
    /// RSS/PSS with the seed's DR config as MASTER (`-P` anywhere, full daemon where IPVS exists).
    Rss {
        /// Seconds to stay MASTER before memory is read.
        #[arg(long, default_value_t = 3.0)]
        settle: f64,
    },
    /// Start → N services × M real servers in IPVS (needs IPVS: run it in the kernel lab).
    Program {
        /// Virtual services.
        #[arg(long, default_value_t = 10_000)]
        services: usize,
        /// Real servers per service.
        #[arg(long, default_value_t = 4)]
        dests: usize,
        /// Interval between two reads of /proc/net/ip_vs, in milliseconds.
        #[arg(long, default_value_t = 100)]
        poll_ms: u64,
        /// Give up on one trial after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Everything this kernel allows (takeover and rss; rss full and program with IPVS).
    All,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lvsd-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    if !lvs_testkit::is_root() {
        bail!("needs root (network namespaces, raw sockets)");
    }
    for prog in ["ip", "tcpdump", &cli.keepalived] {
        if !lvs_testkit::have(prog) {
            bail!("{prog} not found");
        }
    }
    if cli.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let lvsd = match &cli.lvsd {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("lvsd"),
    };
    if !lvsd.is_file() {
        bail!(
            "{} missing: build it first (cargo build --release -p lvsd)",
            lvsd.display()
        );
    }
    let ctx = Ctx {
        lvsd,
        keepalived: cli.keepalived.clone(),
        repeat: cli.repeat,
        verbose: cli.verbose,
        scratch: Scratch::new(cli.keep)?,
    };
    println!(
        "lvsd-bench: {} vs {}, {} repetition(s) each, kernel {}, IPVS {}",
        ctx.lvsd.display(),
        keepalived_version(&ctx.keepalived),
        ctx.repeat,
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
        if have_ipvs() { "present" } else { "absent" },
    );
    match cli.what {
        What::Takeover => takeover::run(&ctx),
        What::Rss { settle } => rss::run(&ctx, Duration::from_secs_f64(settle)),
        What::Program {
            services,
            dests,
            poll_ms,
            timeout,
        } => program::run(
            &ctx,
            &program::Opts {
                services,
                dests,
                poll: Duration::from_millis(poll_ms),
                timeout: Duration::from_secs(timeout),
            },
        ),
        What::All => {
            let mut first_err = None;
            let mut step = |r: anyhow::Result<()>| {
                if let Err(e) = r {
                    eprintln!("lvsd-bench: {e:#}");
                    first_err.get_or_insert(e);
                }
            };
            step(takeover::run(&ctx));
            step(rss::run(&ctx, Duration::from_secs(3)));
            if have_ipvs() {
                step(program::run(&ctx, &program::Opts::default()));
            } else {
                println!("\nprogram: skipped, no IPVS in this kernel (run it in the kernel lab)");
            }
            first_err.map_or(Ok(()), Err)
        }
    }?;
    if cli.keep {
        println!("scratch directory kept: {}", ctx.scratch.0.display());
    }
    Ok(())
}

/// What every measurement needs.
#[derive(Debug)]
struct Ctx {
    lvsd: PathBuf,
    keepalived: String,
    repeat: usize,
    verbose: bool,
    scratch: Scratch,
}

impl Ctx {
    /// With `--verbose`, the end of `<dir>/<tag>.log` on stderr.
    fn show_log(&self, dir: &Path, tag: &str) {
        if self.verbose {
            eprintln!(
                "--- {}/{tag}.log\n{}",
                dir.display(),
                tail(&read_log(dir, tag), 12)
            );
        }
    }
}

/// A scratch directory, removed on drop unless kept.
#[derive(Debug)]
struct Scratch(PathBuf, bool);

impl Scratch {
    fn new(keep: bool) -> io::Result<Self> {
        let p = std::env::temp_dir().join(format!("lvsd-bench-{}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(Self(p, keep))
    }

    /// A fresh subdirectory.
    fn dir(&self, name: &str) -> io::Result<PathBuf> {
        let p = self.0.join(name);
        std::fs::create_dir_all(&p)?;
        Ok(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The seed's DR director configurations, documentation addresses (shared with the tests).
const NODE_A: &str = include_str!("../../tests/data/node-a.conf");
const NODE_B: &str = include_str!("../../tests/data/node-b.conf");
/// The seed's VIP in [`NODE_A`] / [`NODE_B`].
const VIP: &str = "203.0.113.62";
/// Polling step of every bounded wait.
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Daemon {
    Lvsd,
    Keepalived,
}

/// Which subsystems a daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `-P`
    Vrrp,
    /// `-C`
    Check,
    /// Neither flag: VRRP, IPVS and checkers.
    Full,
}

impl Mode {
    fn flag(self) -> &'static str {
        match self {
            Self::Vrrp => " -P",
            Self::Check => " -C",
            Self::Full => "",
        }
    }
}

impl Daemon {
    fn name(self) -> &'static str {
        match self {
            Self::Lvsd => "lvsd",
            Self::Keepalived => "keepalived",
        }
    }

    /// Starts the daemon in `ns` with `conf`, in the foreground, in a process group of its
    /// own (so [`kill_group`] reaches keepalived's children at once), stdout and stderr to
    /// `<dir>/<tag>.log`.
    fn spawn(
        self,
        ctx: &Ctx,
        ns: &Netns,
        mode: Mode,
        conf: &Path,
        dir: &Path,
        tag: &str,
    ) -> io::Result<Child> {
        let log = File::create(dir.join(format!("{tag}.log")))?;
        let mut cmd = match self {
            Self::Lvsd => ns.cmd(ctx.lvsd.to_str().ok_or_else(|| io::Error::other("path"))?),
            Self::Keepalived => {
                let mut c = ns.cmd(&ctx.keepalived);
                // Own pid files: two keepalived may run at once (master and backup).
                for (flag, what) in [("-p", "pid"), ("-r", "vrrp.pid"), ("-c", "check.pid")] {
                    c.arg(flag).arg(dir.join(format!("{tag}.{what}")));
                }
                c
            }
        };
        cmd.args(["-n", "-l", "-f"]).arg(conf);
        match mode {
            Mode::Vrrp => cmd.arg("-P"),
            Mode::Check => cmd.arg("-C"),
            Mode::Full => &mut cmd,
        };
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
    }
}

/// SIGKILL to the whole process group of `child` (one kill(2): every process at once), reaped.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.wait();
}

fn read_log(dir: &Path, tag: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{tag}.log"))).unwrap_or_default()
}

/// The last `n` lines of a log, for error messages.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn holds_vip(ns: &Netns) -> bool {
    ns.run(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
        .is_ok_and(|out| out.contains(&format!(" {VIP}/")))
}

/// Waits (bounded) until `ns` holds the VIP.
fn wait_vip(ns: &Netns, timeout: Duration) -> bool {
    wait_until(timeout, POLL, || holds_vip(ns))
}

/// Writes `text` to `<dir>/<name>` and returns the path.
fn write_conf(dir: &Path, name: &str, text: &str) -> io::Result<PathBuf> {
    let p = dir.join(name);
    std::fs::write(&p, text)?;
    Ok(p)
}

fn have_ipvs() -> bool {
    Path::new("/proc/net/ip_vs").exists()
}

fn keepalived_version(prog: &str) -> String {
    std::process::Command::new(prog)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stderr).into_owned()
                + &String::from_utf8_lossy(&o.stdout);
            text.lines()
                .find(|l| l.starts_with("Keepalived"))
                .map(|l| l.split(" (").next().unwrap_or(l).to_owned())
        })
        .unwrap_or_else(|| prog.to_owned())
}

/// Whether `lvsd` runs `mode` on this kernel: started in a scratch namespace with the seed's
/// configuration, it must still run after 2 s. `Err` holds the reason (its last log lines).
fn lvsd_runs(ctx: &Ctx, mode: Mode) -> anyhow::Result<Result<(), String>> {
    let dir = ctx.scratch.dir(&format!("probe{}", mode.flag().trim()))?;
    let conf = write_conf(&dir, "node-a.conf", NODE_A)?;
    let ns = Netns::new("lbprobe")?;
    ns.run(&[
        "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ])?;
    ns.run(&["ip", "link", "set", "eth0", "up"])?;
    ns.run(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"])?;
    let mut child = Daemon::Lvsd.spawn(ctx, &ns, mode, &conf, &dir, "probe")?;
    let mut exited = None;
    wait_until(Duration::from_secs(2), POLL, || {
        exited = child.try_wait().ok().flatten();
        exited.is_some()
    });
    kill_group(&mut child);
    let log = read_log(&dir, "probe");
    let not_yet = "only the VRRP subsystem exists";
    Ok(match exited {
        Some(st) => Err(format!(
            "lvsd{} exited ({st}): {}",
            mode.flag(),
            tail(&log, 2)
        )),
        None if log.contains(not_yet) => Err(format!(
            "lvsd{} runs the VRRP side only in this version",
            mode.flag()
        )),
        None => Ok(()),
    })
}

/// Median, min, max of a sample.
#[derive(Debug, Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(v: &[f64]) -> Option<Self> {
        let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        if s.is_empty() {
            return None;
        }
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: s[0],
            max: s[n - 1],
        })
    }
}

/// A side-by-side table: one row per quantity, lvsd | keepalived | ratio of the medians.
#[derive(Debug, Default)]
struct Table {
    out: String,
}

impl Table {
    fn new(title: &str, left: &str, right: &str) -> Self {
        let mut out = String::new();
        let _ = writeln!(out, "\n{title}");
        let _ = writeln!(
            out,
            "  {:<22} {:>32} {:>32} {:>8}",
            "", left, right, "lvsd/ka"
        );
        Self { out }
    }

    /// A row: median [min – max] of each side through `fmt`, and lvsd's median over keepalived's.
    fn row(&mut self, what: &str, lvsd: &[f64], ka: &[f64], fmt: impl Fn(f64) -> String) {
        let cell = |v: &[f64]| match Stats::of(v) {
            Some(s) => format!(
                "{} [{} – {}]",
                fmt(s.median),
                fmt(s.min).trim(),
                fmt(s.max).trim()
            ),
            None => "n/a".to_owned(),
        };
        let ratio = match (Stats::of(lvsd), Stats::of(ka)) {
            (Some(l), Some(k)) if k.median != 0.0 => format!("{:.2}", l.median / k.median),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            self.out,
            "  {what:<22} {:>32} {:>32} {ratio:>8}",
            cell(lvsd),
            cell(ka)
        );
    }

    fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "  {text}");
    }

    fn print(&self) {
        print!("{}", self.out);
    }
}

/// Runs `f` for each daemon, `repeat` times, alternating which goes first.
fn alternate<T>(
    ctx: &Ctx,
    mut f: impl FnMut(Daemon, usize) -> anyhow::Result<T>,
) -> anyhow::Result<(Vec<T>, Vec<T>)> {
    let (mut l, mut k) = (Vec::new(), Vec::new());
    for i in 0..ctx.repeat {
        let order = if i % 2 == 0 {
            [Daemon::Lvsd, Daemon::Keepalived]
        } else {
            [Daemon::Keepalived, Daemon::Lvsd]
        };
        for d in order {
            let v = f(d, i).with_context(|| format!("{} trial {i}", d.name()))?;
            match d {
                Daemon::Lvsd => l.push(v),
                Daemon::Keepalived => k.push(v),
            }
        }
    }
    Ok((l, k))
}
