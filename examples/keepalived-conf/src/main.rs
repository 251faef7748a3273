//! `keepalived-conf`: check, dump or format a keepalived.conf.
//!
//! - `keepalived-conf check [--strict] FILE`: diagnostics on stderr; exit 1 if any error
//!   (exit 0 otherwise, like `keepalived -t`).
//! - `keepalived-conf dump FILE`: the typed model as JSON on stdout.
//! - `keepalived-conf fmt FILE`: canonical keepalived.conf on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keepalived_conf::{Options, Severity};

#[derive(Debug, Parser)]
#[command(
    name = "keepalived-conf",
    version,
    about = "Check, dump and format keepalived.conf"
)]
struct Cli {
    /// Config id for `@ID` conditional lines (like keepalived -i).
    #[arg(short = 'i', long = "config-id", global = true)]
    config_id: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Check a configuration; exit 1 if it has errors.
    Check {
        /// Unknown keywords are errors.
        #[arg(long)]
        strict: bool,
        /// Configuration file.
        file: PathBuf,
    },
    /// Print the parsed model as JSON.
    Dump {
        /// Configuration file.
        file: PathBuf,
    },
    /// Print the configuration in canonical form.
    Fmt {
        /// Configuration file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut opts = Options::default();
    if let Some(id) = cli.config_id {
        opts = opts.config_id(id);
    }
    let (file, strict) = match &cli.cmd {
        Cmd::Check { strict, file } => (file, *strict),
        Cmd::Dump { file } | Cmd::Fmt { file } => (file, false),
    };
    let out = match keepalived_conf::parse_file(file, &opts.strict(strict)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(2);
        }
    };
    let show = |min: Severity| {
        for d in out.diagnostics.iter().filter(|d| d.severity >= min) {
            eprintln!("{d}");
        }
    };
    match cli.cmd {
        Cmd::Check { .. } => {
            show(Severity::Note);
            let errors = out.error_count();
            let warnings = out
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .count();
            eprintln!(
                "{}: {errors} error(s), {warnings} warning(s)",
                file.display()
            );
            if errors > 0 {
                return ExitCode::from(1);
            }
        }
        Cmd::Dump { .. } => {
            show(Severity::Error);
            match serde_json::to_string_pretty(&out.config) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("Error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        Cmd::Fmt { .. } => {
            show(Severity::Error);
            print!("{}", keepalived_conf::format(&out.config));
        }
    }
    ExitCode::SUCCESS
}
