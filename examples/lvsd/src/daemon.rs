//! The daemon's life around its subsystems: signals, reloads, the control socket, the metrics
//! endpoint and systemd notifications.
//!
//! [`run`] blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 before any thread starts (a dedicated
//! thread waits for them), starts the subsystems with [`start_sides`], reports `READY=1`, then
//! turns signals into [`Command`]s until SIGTERM/SIGINT:
//!
//! * SIGHUP: the file is parsed again; with errors the running configuration is kept and the
//!   error recorded in `daemon.last_reload_error`, else every side gets [`Command::Reload`] and
//!   `daemon.reloads` counts it.
//! * SIGUSR1: the status is written as JSON to `--dump-file` (default `/tmp/lvsd.json`).
//! * A subsystem whose thread ends on its own stops the daemon with an error (exit 1, so systemd
//!   restarts it); while every subsystem runs, `WATCHDOG=1` goes out at half `WatchdogSec`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use keepalived_conf::model::Config;
use nix::sys::signal::{SigSet, Signal};
use tracing::{debug, error, info, warn};

use crate::control::Control;
use crate::notify::Notifier;
use crate::side::{Command, Side};
use crate::status::Shared;

/// Which subsystems run (keepalived's `-P` / `-C`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `-P`: VRRP only.
    Vrrp,
    /// `-C`: IPVS + checkers only.
    Check,
    /// Neither flag (or both): both subsystems.
    Both,
}

impl Mode {
    /// From keepalived's `-P` and `-C` flags.
    pub fn from_flags(vrrp: bool, check: bool) -> Self {
        match (vrrp, check) {
            (true, false) => Self::Vrrp,
            (false, true) => Self::Check,
            _ => Self::Both,
        }
    }
}

/// What the command line decided.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-f`: the configuration file (parsed again on SIGHUP).
    pub config_file: PathBuf,
    /// `-i`: the id for `@ID` conditional lines.
    pub config_id: Option<String>,
    /// `-P` / `-C`.
    pub mode: Mode,
    /// `--control`: the status socket (`None`: no socket).
    pub control: Option<PathBuf>,
    /// `--dump-file`: where SIGUSR1 writes the status.
    pub dump_file: PathBuf,
    /// `--metrics`: the Prometheus endpoint's address (`None`: off).
    pub metrics: Option<SocketAddr>,
    /// `-p`: the PID file (written at start, removed at exit).
    pub pid_file: Option<PathBuf>,
}

/// A PID file, removed on drop.
struct PidFile(PathBuf);

impl PidFile {
    fn create(path: &Path) -> anyhow::Result<Self> {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .with_context(|| format!("pid file {}", path.display()))?;
        Ok(Self(path.to_owned()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Parses the configuration file of `opts`, keeping diagnostics (errors included: at start
/// lvsd runs what keepalived would run, bad lines skipped).
///
/// # Errors
/// The file (or an included one) cannot be read.
pub fn parse(opts: &Options) -> anyhow::Result<keepalived_conf::ParseOutput> {
    let mut po = keepalived_conf::Options::default();
    if let Some(id) = &opts.config_id {
        po = po.config_id(id.clone());
    }
    let t = Instant::now();
    let parsed = keepalived_conf::parse_file(&opts.config_file, &po)?;
    debug!(
        file = %opts.config_file.display(),
        elapsed_ms = t.elapsed().as_millis() as u64,
        "configuration parsed"
    );
    Ok(parsed)
}

/// Parses for a reload: any error refuses it.
fn load_for_reload(opts: &Options) -> anyhow::Result<Config> {
    let parsed = parse(opts)?;
    let mut errors: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string().lines().next().unwrap_or_default().to_owned())
        .collect();
    for inst in &parsed.config.vrrp_instances {
        if let Err(e) = crate::conf::instance_config(inst, &parsed.config, None) {
            errors.push(format!("vrrp_instance {}: {e}", inst.name));
        }
    }
    if errors.is_empty() {
        Ok(parsed.config)
    } else {
        anyhow::bail!("{}", errors.join("; "))
    }
}

/// Starts the subsystems `mode` asks for, each ready when its `spawn` returns.
///
/// With both subsystems, a check side that cannot start (no IPVS in the kernel) is logged and
/// the VRRP side keeps running; with `-C` alone it is the daemon's error.
///
/// # Errors
/// The VRRP side cannot start, or (`-C` alone) the check side cannot.
pub fn start_sides(mode: Mode, conf: &Config, status: &Shared) -> anyhow::Result<Vec<Side>> {
    let mut sides = Vec::new();
    if mode != Mode::Check {
        sides.push(crate::vrrp::spawn(conf, status.clone())?);
    }
    if mode != Mode::Vrrp {
        match crate::check::spawn(conf, status.clone()) {
            Ok(side) => {
                sides.push(side);
                crate::timeouts::apply(conf);
            }
            Err(e) if mode == Mode::Both => {
                error!("the check subsystem did not start, VRRP keeps running: {e:#}");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(sides)
}

/// Waits for the blocked signals on its own thread and forwards them.
fn forward_signals(sigs: SigSet) -> anyhow::Result<mpsc::Receiver<Signal>> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            while let Ok(sig) = sigs.wait() {
                if tx.send(sig).is_err() {
                    break;
                }
            }
        })
        .context("start the signal thread")?;
    Ok(rx)
}

/// The service manager, when there is one.
struct Systemd(Option<Notifier>);

impl Systemd {
    fn send(&self, state: &str) {
        if let Some(n) = &self.0 {
            if let Err(e) = n.send(state) {
                warn!(error = %e, "systemd notification {state:?}");
            }
        }
    }
}

/// Runs the daemon until SIGTERM/SIGINT. Call it before starting any thread (the signals must
/// be blocked in every thread).
///
/// # Errors
/// A subsystem that cannot start or that failed, the metrics address in use, no signal thread.
pub fn run(opts: &Options, conf: Config) -> anyhow::Result<()> {
    let mut sigs = SigSet::empty();
    for s in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
    ] {
        sigs.add(s);
    }
    sigs.thread_block()?;
    let signals = forward_signals(sigs)?;
    let _pid_file = opts.pid_file.as_deref().map(PidFile::create).transpose()?;

    let status = Shared::default();
    status.update(|s| {
        s.daemon.pid = std::process::id();
        s.daemon.version = env!("CARGO_PKG_VERSION").into();
        s.daemon.config_file = opts.config_file.display().to_string();
        s.daemon.started_unix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
    });
    let systemd = Systemd(Notifier::from_env().unwrap_or_else(|e| {
        warn!(error = %e, "NOTIFY_SOCKET ignored");
        None
    }));
    let _control = opts
        .control
        .as_deref()
        .and_then(|p| match Control::bind(p, status.clone()) {
            Ok(c) => Some(c),
            Err(e) => {
                warn!(socket = %p.display(), error = %e, "no control socket: `lvsd status` will not answer");
                None
            }
        });
    if let Some(addr) = opts.metrics {
        let local = crate::metrics::serve(addr, status.clone())
            .with_context(|| format!("--metrics {addr}"))?;
        info!(address = %local, "metrics endpoint listening");
    }

    let sides = start_sides(opts.mode, &conf, &status)?;
    let names: Vec<String> = sides.iter().map(|s| s.name().to_owned()).collect();
    status.update(|s| s.daemon.subsystems = names.clone());
    info!(subsystems = %names.join(","), "ready");
    systemd.send(&format!("READY=1\nSTATUS=running: {}", names.join(", ")));

    let watchdog = systemd.0.as_ref().and_then(Notifier::watchdog_interval);
    let mut next_ping = Instant::now();
    let mut summary = String::new();
    let result = loop {
        let now = Instant::now();
        if let Some(iv) = watchdog {
            if now >= next_ping {
                systemd.send("WATCHDOG=1");
                next_ping = now + iv;
            }
        }
        let tick = watchdog.map_or(Duration::from_secs(1), |_| {
            next_ping
                .saturating_duration_since(now)
                .min(Duration::from_secs(1))
        });
        match signals.recv_timeout(tick) {
            Ok(Signal::SIGHUP) => reload(opts, &sides, &status, &systemd),
            Ok(Signal::SIGUSR1) => {
                match crate::control::dump(&opts.dump_file, &status.snapshot()) {
                    Ok(()) => info!(file = %opts.dump_file.display(), "status written (SIGUSR1)"),
                    Err(e) => error!(file = %opts.dump_file.display(), error = %e, "status dump"),
                }
            }
            Ok(sig) => {
                info!(signal = %sig, "stopping");
                break Ok(());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                break Err(anyhow::anyhow!("signal thread ended"));
            }
        }
        if let Some(side) = sides.iter().find(|s| s.is_finished()) {
            break Err(anyhow::anyhow!(
                "the {} subsystem stopped on its own",
                side.name()
            ));
        }
        let now_summary = instances_summary(&status);
        if now_summary != summary {
            systemd.send(&format!("STATUS={now_summary}"));
            summary = now_summary;
        }
    };
    systemd.send("STOPPING=1");
    for s in &sides {
        s.send(Command::Stop);
    }
    let mut side_error = None;
    for s in sides {
        let name = s.name();
        if let Err(e) = s.join() {
            error!("the {name} subsystem failed: {e:#}");
            side_error.get_or_insert(e);
        }
    }
    match side_error {
        Some(e) => Err(e),
        None => result,
    }
}

/// `VI_1 MASTER, VI_2 BACKUP` for systemd's STATUS= line.
fn instances_summary(status: &Shared) -> String {
    // Read in place: a copy would clone every virtual server's status once a second.
    status.read(|st| {
        let parts: Vec<String> = st
            .instances
            .iter()
            .map(|i| format!("{} {}", i.name, i.state))
            .collect();
        if parts.is_empty() {
            format!("running: {}", st.daemon.subsystems.join(", "))
        } else {
            parts.join(", ")
        }
    })
}

fn reload(opts: &Options, sides: &[Side], status: &Shared, systemd: &Systemd) {
    systemd.send("RELOADING=1\nSTATUS=reloading");
    match load_for_reload(opts) {
        Ok(conf) => {
            let conf = Arc::new(conf);
            for s in sides {
                s.send(Command::Reload(conf.clone()));
            }
            if sides.iter().any(|s| s.name() == "check") {
                crate::timeouts::apply(&conf);
            }
            status.update(|s| {
                s.daemon.reloads += 1;
                s.daemon.last_reload_error = None;
            });
            info!(file = %opts.config_file.display(), "configuration reloaded");
            systemd.send("READY=1\nSTATUS=reloaded");
        }
        Err(e) => {
            let msg = format!("{e:#}");
            error!("reload refused, the running configuration is kept: {msg}");
            systemd.send(&format!(
                "READY=1\nSTATUS=reload refused, running configuration kept: {msg}"
            ));
            status.update(|s| s.daemon.last_reload_error = Some(msg));
        }
    }
}
