//! The glue of `lvsd`, a keepalived drop-in composed from the lvs-rs crates.
//!
//! First increment: the VRRP side (`lvsd -P`) over IPv4.
//!
//! * [`conf`]: `keepalived.conf` (parsed by `keepalived-conf`) into `vrrp-machine` configurations.
//! * [`vrrp`]: the run loop: one raw IP protocol 112 socket per interface, received datagrams
//!   validated by `vrrp-packet` and fed to the machines, their outputs carried out (adverts,
//!   VIPs through `lvs-vip`, gratuitous ARPs through `lvs-vip`'s `Announcer`, notify scripts),
//!   SIGTERM/SIGINT turned into a Shutdown of every instance.
//! * [`check`]: the IPVS + checkers side (`lvsd -C`): every `virtual_server` programmed in one
//!   batch at start, then kept in line with `lvs-check`'s pools; reloads reconcile against the
//!   kernel's dump; a kernel without IPVS is a [`check::CheckError::NoIpvs`] (VRRP runs on).
//!
//! ```no_run
//! let out = keepalived_conf::parse_file("/etc/keepalived/keepalived.conf", &Default::default())?;
//! let status = lvsd::status::Shared::default();
//! let vrrp = lvsd::vrrp::spawn(&out.config, status.clone())?;
//! // ... later, on SIGTERM:
//! vrrp.send(lvsd::side::Command::Stop);
//! vrrp.join()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod conf;
pub mod control;
pub mod daemon;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod side;
pub mod status;
pub mod vrrp;

use std::io::Write;

/// `lvsd -t`: prints every diagnostic to `out`, returns the process exit code (0 = usable, 1 =
/// errors), like `keepalived -t`.
pub fn config_test(parsed: &keepalived_conf::ParseOutput, out: &mut impl Write) -> i32 {
    for d in &parsed.diagnostics {
        let _ = writeln!(out, "{d}");
    }
    let mut problems = Vec::new();
    for inst in &parsed.config.vrrp_instances {
        if let Err(e) = conf::instance_config(inst, &parsed.config, None) {
            problems.push(format!("vrrp_instance {}: {e}", inst.name));
        }
    }
    for p in &problems {
        let _ = writeln!(out, "error: {p}");
    }
    i32::from(parsed.has_errors() || !problems.is_empty())
}
