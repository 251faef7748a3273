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

// Root and program discovery are shared with the tests' support crate.
pub(crate) use lvs_testkit::{have, is_root, which as find_program};

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
