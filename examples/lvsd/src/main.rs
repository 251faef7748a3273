//! `lvsd`: a keepalived drop-in. This increment runs the VRRP side (`-P`); see `lvsd --help`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// keepalived-compatible daemon built from the lvs-rs crates. lvsd always stays in the
/// foreground and logs to stderr.
#[derive(Debug, Parser)]
#[command(name = "lvsd", version, about)]
struct Args {
    /// Configuration file.
    #[arg(
        short = 'f',
        long = "use-file",
        default_value = "/etc/keepalived/keepalived.conf"
    )]
    use_file: PathBuf,
    /// Run only the VRRP subsystem (the only subsystem of this version).
    #[arg(short = 'P', long = "vrrp")]
    vrrp: bool,
    /// Run only the IPVS + checkers subsystem: not implemented yet (exits with status 2).
    #[arg(short = 'C', long = "check")]
    check: bool,
    /// Check the configuration, print diagnostics, exit 0 (usable) or 1 (errors).
    #[arg(short = 't', long = "config-test")]
    config_test: bool,
    /// Configuration id for `@ID` conditional lines.
    #[arg(short = 'i', long = "config-id")]
    config_id: Option<String>,
    /// Log to the console (stderr; always on).
    #[arg(short = 'l', long = "log-console")]
    log_console: bool,
    /// Detailed (debug) logging.
    #[arg(short = 'D', long = "log-detail")]
    log_detail: bool,
    /// PID file to write (removed at exit).
    #[arg(short = 'p', long = "pid")]
    pid: Option<PathBuf>,
    /// Accepted for keepalived compatibility: lvsd never forks.
    #[arg(short = 'n', long = "dont-fork")]
    dont_fork: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let level = if args.log_detail { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();

    let mut opts = keepalived_conf::Options::default();
    if let Some(id) = &args.config_id {
        opts = opts.config_id(id.clone());
    }
    let parsed = match keepalived_conf::parse_file(&args.use_file, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lvsd: {e}");
            return ExitCode::from(1);
        }
    };
    if args.config_test {
        let code = lvsd::config_test(&parsed, &mut std::io::stderr());
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if args.check && !args.vrrp {
        eprintln!("lvsd: the checker subsystem (-C) is not implemented yet");
        return ExitCode::from(2);
    }
    if !args.vrrp {
        tracing::warn!("only the VRRP subsystem exists in this version: running as with -P");
    }
    for d in parsed.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!("{d}");
    }
    if let Some(p) = &args.pid {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            eprintln!("lvsd: pid file {}: {e}", p.display());
            return ExitCode::from(1);
        }
    }
    let code = match run(&args, parsed.config) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e:#}");
            1
        }
    };
    if let Some(p) = &args.pid {
        let _ = std::fs::remove_file(p);
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Starts the subsystems, then turns signals into commands until SIGTERM/SIGINT.
fn run(args: &Args, conf: keepalived_conf::model::Config) -> anyhow::Result<()> {
    use lvsd::side::Command;
    use nix::sys::signal::{SigSet, Signal};
    // Block the signals before any thread starts, so only this thread receives them.
    let mut sigs = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        sigs.add(s);
    }
    sigs.thread_block()?;
    let status = lvsd::status::Shared::default();
    let sides = vec![lvsd::vrrp::spawn(&conf, status.clone())?];
    loop {
        match sigs.wait()? {
            Signal::SIGHUP => {
                let mut opts = keepalived_conf::Options::default();
                if let Some(id) = &args.config_id {
                    opts = opts.config_id(id.clone());
                }
                match keepalived_conf::parse_file(&args.use_file, &opts) {
                    Ok(p) if !p.has_errors() => {
                        let conf = std::sync::Arc::new(p.config);
                        for s in &sides {
                            s.send(Command::Reload(conf.clone()));
                        }
                    }
                    Ok(p) => {
                        for d in p.diagnostics.iter().filter(|d| d.is_error()) {
                            tracing::error!("reload refused: {d}");
                        }
                    }
                    Err(e) => tracing::error!("reload refused: {e}"),
                }
            }
            sig => {
                tracing::info!(signal = %sig, "stopping");
                break;
            }
        }
    }
    for s in &sides {
        s.send(Command::Stop);
    }
    let mut result = Ok(());
    for s in sides {
        if let Err(e) = s.join() {
            result = Err(e);
        }
    }
    result
}
