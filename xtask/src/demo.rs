//! `cargo xtask demo [dr|nat|tun]`: the seed's LVS cluster under traffic, its master killed and
//! brought back, shown as a live timeline (the logic is `lvs_topo::demo`, run by the
//! `lvs-topo-demo` binary).
//!
//! Builds `lvsd`, `lvs-realserver` and `lvs-topo-demo`, then runs the demo natively when this
//! kernel has IPVS (and ipip for tun) after a `modprobe` attempt, otherwise inside the kernel lab
//! (`cargo xtask lab run`, which streams the demo's output as it comes and stops the VM with
//! xtask). Natively, everything lives in `lvs-topo-*` network namespaces that the demo removes
//! at its end, on Ctrl-C, and (left by a killed run) at its next start.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::util::{ensure_packages, is_root, workspace_root};

/// Options of `cargo xtask demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The LVS forwarding method: dr, nat or tun.
    #[arg(default_value = "dr", value_parser = ["dr", "nat", "tun"])]
    mode: String,
    /// Run in the kernel lab even when this kernel has IPVS.
    #[arg(long)]
    lab: bool,
}

/// Builds the binaries and returns the path of `lvs-topo-demo` (lvsd and lvs-realserver are in
/// the same directory).
fn build() -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--message-format=json-render-diagnostics",
            "-p",
            "lvsd",
            "-p",
            "lvs-realserver",
            "-p",
            "lvs-topo",
            "--bin",
            "lvsd",
            "--bin",
            "lvs-realserver",
            "--bin",
            "lvs-topo-demo",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo build")?;
    if !out.status.success() {
        bail!("cargo build failed");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "lvs-topo-demo")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the lvs-topo-demo executable")
}

/// Whether this kernel can run `mode` natively (after trying to load the modules).
fn native_kernel(mode: &str) -> bool {
    let load = |m: &str| {
        let _ = Command::new("modprobe")
            .args(["-q", m])
            .stderr(Stdio::null())
            .status();
    };
    load("ip_vs");
    if !Path::new("/proc/net/ip_vs").exists() {
        return false;
    }
    if mode == "tun" {
        load("ipip");
        return Path::new("/sys/module/ipip").exists();
    }
    true
}

/// Entry point of `cargo xtask demo`.
pub(crate) fn run(args: DemoArgs) -> Result<i32> {
    if !is_root() {
        bail!(
            "`cargo xtask demo` needs root: it builds network namespaces (and may boot the kernel \
             lab); run it as root, e.g. `sudo -E cargo xtask demo {}`",
            args.mode
        );
    }
    let demo = build()?;
    // The real servers' httpd and the topology's `ip` run from the host's root file system, also
    // inside the lab (which mounts it).
    ensure_packages(&[("busybox", "busybox-static"), ("ip", "iproute2")])?;
    let status = if !args.lab && native_kernel(&args.mode) {
        eprintln!("xtask: this kernel has IPVS: running the demo natively");
        Command::new(&demo).arg(&args.mode).status()
    } else {
        eprintln!(
            "xtask: this kernel lacks IPVS{}: running the demo in the kernel lab (qemu; the \
             first run also builds its image)",
            if args.mode == "tun" { " or ipip" } else { "" }
        );
        let xtask = std::env::current_exe().context("cannot find xtask itself")?;
        Command::new(xtask)
            .args(["lab", "run", "--timeout", "300", "--"])
            .arg(&demo)
            .arg(&args.mode)
            .status()
    }
    .context("cannot run the demo")?;
    Ok(status.code().unwrap_or(130))
}
