//! `lvsd`: a keepalived drop-in; see `lvsd --help` and `lvsd::daemon`.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lvsd::daemon::{self, Mode};

/// keepalived-compatible daemon built from the lvs-rs crates. lvsd always stays in the
/// foreground and logs to stderr.
#[derive(Debug, Parser)]
#[command(name = "lvsd", version, about)]
struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Configuration file.
    #[arg(
        short = 'f',
        long = "use-file",
        default_value = "/etc/keepalived/keepalived.conf"
    )]
    use_file: PathBuf,
    /// Run only the VRRP subsystem.
    #[arg(short = 'P', long = "vrrp")]
    vrrp: bool,
    /// Run only the IPVS + checkers subsystem.
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
    /// Control socket (`lvsd status`); the daemon creates it mode 0600 and removes it at exit.
    #[arg(long, global = true, default_value = lvsd::control::DEFAULT_PATH)]
    control: PathBuf,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9650); off by default.
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<SocketAddr>,
    /// Where SIGUSR1 writes the status as JSON (like keepalived's /tmp/keepalived.data).
    #[arg(long, default_value = lvsd::control::DEFAULT_DUMP)]
    dump_file: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Print the running daemon's status (JSON) from its control socket.
    Status,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Cmd::Status) = args.cmd {
        return ExitCode::from(lvsd::control::print_status(&args.control));
    }
    lvsd::logging::init(args.log_detail);
    let opts = daemon::Options {
        config_file: args.use_file,
        config_id: args.config_id,
        mode: Mode::from_flags(args.vrrp, args.check),
        control: Some(args.control),
        dump_file: args.dump_file,
        metrics: args.metrics,
        pid_file: args.pid,
    };
    let parsed = match daemon::parse(&opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lvsd: {e:#}");
            return ExitCode::from(1);
        }
    };
    if args.config_test {
        let code = lvsd::config_test(&parsed, &mut std::io::stderr());
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    for d in parsed.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!("{d}");
    }
    match daemon::run(&opts, parsed.config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}
