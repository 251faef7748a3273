//! `lvs-topo-demo [dr|nat|tun]`: the demo (see `lvs_topo::demo`). Needs root and a kernel with
//! IPVS (and ipip for tun); `cargo xtask demo` runs it natively or in the kernel lab.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use lvs_topo::{Binaries, Mode, demo};

fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "dr".into());
    if arg == "-h" || arg == "--help" {
        println!(
            "usage: lvs-topo-demo [dr|nat|tun]   (root; a kernel with IPVS, and ipip for tun)"
        );
        return ExitCode::SUCCESS;
    }
    let mode: Mode = match arg.parse() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("lvs-topo-demo: {e}");
            return ExitCode::from(2);
        }
    };
    if !lvs_testkit::is_root() {
        eprintln!("lvs-topo-demo: needs root (it creates network namespaces); try sudo");
        return ExitCode::from(1);
    }
    for (prog, pkg) in [("ip", "iproute2"), ("busybox", "busybox-static")] {
        if !lvs_testkit::have(prog) {
            eprintln!("lvs-topo-demo: needs `{prog}` (Debian package {pkg})");
            return ExitCode::from(1);
        }
    }
    let _ = Command::new("modprobe").args(["-q", "ip_vs"]).status();
    if !Path::new("/proc/net/ip_vs").exists() {
        eprintln!(
            "lvs-topo-demo: this kernel has no IPVS; `cargo xtask demo` runs it in the kernel lab"
        );
        return ExitCode::from(1);
    }
    if mode == Mode::Tun {
        let _ = Command::new("modprobe").args(["-q", "ipip"]).status();
        if !Path::new("/sys/module/ipip").exists() {
            eprintln!("lvs-topo-demo: this kernel has no ipip (tunl0) for TUN");
            return ExitCode::from(1);
        }
    }
    for name in lvs_topo::cleanup_stale() {
        eprintln!("lvs-topo-demo: removed {name}, left by an earlier run");
    }
    let bins = match Binaries::locate() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("lvs-topo-demo: {e}");
            return ExitCode::from(1);
        }
    };
    // Ctrl-C / SIGTERM: blocked here (threads inherit the mask) and waited for on one thread,
    // which asks the demo to stop; the demo then drops the topology, removing every namespace.
    let stop = Arc::new(AtomicBool::new(false));
    let mut sigs = nix::sys::signal::SigSet::empty();
    sigs.add(nix::sys::signal::Signal::SIGINT);
    sigs.add(nix::sys::signal::Signal::SIGTERM);
    if let Err(e) = sigs.thread_block() {
        eprintln!("lvs-topo-demo: cannot block signals: {e}");
        return ExitCode::from(1);
    }
    let flag = stop.clone();
    std::thread::spawn(move || {
        if sigs.wait().is_ok() {
            flag.store(true, Ordering::Relaxed);
        }
    });
    let mut out = std::io::stdout();
    match demo::run(mode, bins, demo::Script::default(), &stop, &mut out) {
        Ok(s) if s.interrupted => {
            println!("interrupted: everything torn down");
            ExitCode::from(130)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lvs-topo-demo: {e}");
            ExitCode::from(1)
        }
    }
}
