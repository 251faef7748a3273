//! The glue of `lvsd`, a keepalived drop-in composed from the lvs-rs crates.
//!
//! * [`daemon`]: the process: starts the subsystems ([`side::Side`]), turns signals into
//!   [`side::Command`]s (SIGHUP reload, SIGTERM stop), serves [`control`] (`lvsd status`),
//!   [`metrics`] (Prometheus) and [`notify`] (systemd), all reading [`status::Shared`].
//! * [`conf`]: `keepalived.conf` (parsed by `keepalived-conf`) into `vrrp-machine` configurations.
//! * [`vrrp`]: the VRRP side (`lvsd -P`): raw IP protocol 112 sockets for IPv4 and IPv6,
//!   received datagrams validated by `vrrp-packet` and fed to the machines (sync groups,
//!   tracking, link state), their outputs carried out (adverts, VIPs and VMACs through `lvs-vip`,
//!   gratuitous ARPs / unsolicited NAs, notify scripts as argument vectors).
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
pub mod timeouts;
pub mod vrrp;

use std::io::Write;

/// keepalived's exit status for a configuration it refuses (`KEEPALIVED_EXIT_CONFIG`): `lvsd -t`
/// uses it too, so scripts written for `keepalived -t` read lvsd's verdict the same way.
pub const EXIT_CONFIG: i32 = 5;

/// `lvsd -t`: prints every diagnostic to `out`, returns the process exit code: 0 = usable,
/// [`EXIT_CONFIG`] (5) = errors, like `keepalived -t`. As keepalived does, an instance whose
/// interface does not exist (in the calling process's network namespace) is an error.
///
/// ```
/// let parsed = keepalived_conf::parse_str("vrrp_instance VI_1 {\n  priority 100\n}\n", &Default::default());
/// let mut out = Vec::new();
/// assert_eq!(lvsd::config_test(&parsed, &mut out), lvsd::EXIT_CONFIG);
/// assert!(String::from_utf8_lossy(&out).contains("interface"));
/// ```
pub fn config_test(parsed: &keepalived_conf::ParseOutput, out: &mut impl Write) -> i32 {
    for d in &parsed.diagnostics {
        let _ = writeln!(out, "{d}");
    }
    let mut problems = Vec::new();
    for inst in &parsed.config.vrrp_instances {
        if let Err(e) = conf::instance_config(inst, &parsed.config, None) {
            problems.push(format!("vrrp_instance {}: {e}", inst.name));
        }
        // keepalived refuses an instance on an interface that does not exist (unless
        // `dynamic_interfaces`, which lvsd does not support: it would not start either).
        if let Some(name) = inst.interface.as_deref() {
            if nix::net::if_::if_nametoindex(name).is_err() {
                problems.push(format!(
                    "vrrp_instance {}: interface {name} does not exist in this network namespace",
                    inst.name
                ));
            }
        }
    }
    for p in &problems {
        let _ = writeln!(out, "error: {p}");
    }
    if parsed.has_errors() || !problems.is_empty() {
        EXIT_CONFIG
    } else {
        0
    }
}
