//! Small helpers shared by the xtask commands.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Whether this process runs as root (real uid 0), read from /proc so no unsafe call is needed.
pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Whether `prog` is found on PATH (or, for sbin tools, in /usr/sbin and /sbin).
pub(crate) fn have(prog: &str) -> bool {
    find_program(prog).is_some()
}

/// The full path of `prog`, searching PATH and the sbin directories.
pub(crate) fn find_program(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Runs a command with inherited stdio, failing with the command line on a non-zero exit.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// Installs Debian packages so that each `(program, package)` pair's program exists.
///
/// Runs `apt-get update` once per process, only when something is missing. Fails loudly when not
/// root or when apt-get fails: tests that need the tools must not silently skip in CI.
pub(crate) fn ensure_packages(wanted: &[(&str, &str)]) -> Result<()> {
    static UPDATED: OnceLock<()> = OnceLock::new();
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(prog, _)| !have(prog))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing programs from Debian packages {missing:?}; install them (apt-get install {}) or run as root",
            missing.join(" ")
        );
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    if UPDATED.get().is_none() {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        let _ = UPDATED.set(());
    }
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    for (prog, pkg) in wanted {
        if !have(prog) {
            bail!("installed {pkg} but {prog} is still missing");
        }
    }
    Ok(())
}
