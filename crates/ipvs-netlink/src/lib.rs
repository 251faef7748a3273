//! IPVS (Linux Virtual Server) over generic netlink: every command of the kernel's "IPVS"
//! family, domain types instead of netlink types, pipelined batches, a kernel-state
//! reconcile, and ipvsadm's text formats.
//!
//! # Overview
//!
//! - [`Ipvs`] is the handle: [`Ipvs::connect`] resolves the family once; then services
//!   ([`Ipvs::add_service`], [`Ipvs::set_service`], [`Ipvs::del_service`],
//!   [`Ipvs::service`], [`Ipvs::services`]), destinations ([`Ipvs::add_dest`],
//!   [`Ipvs::set_dest`], [`Ipvs::del_dest`], [`Ipvs::dests`]), the full [`Ipvs::dump`],
//!   sync daemons, timeouts, [`Ipvs::info`], [`Ipvs::zero`] and [`Ipvs::flush`].
//! - [`Ipvs::apply`] pipelines many requests per `sendmsg` with one result per item, and
//!   [`Ipvs::reconcile`] applies [`reconcile::diff`] of a [`reconcile::DesiredState`]
//!   against a fresh dump.
//! - [`message`] is the pure codec: [`message::Request::emit`] and
//!   [`message::parse_reply`], byte-exact with `include/uapi/linux/ip_vs.h` (ports and the
//!   IPv4 netmask big-endian, the flags struct host order, weight a signed int).
//! - [`ipvsadm`] parses and prints ipvsadm 1.31's formats: rules (`-S` / `-R`), the listing
//!   (`-L -n`, `--stats`, `--rate`, `--thresholds`, `--persistent-conn`, `--exact`) and
//!   `--timeout`.
//! - [`Error`] maps the kernel's errno to its meaning for the request, with a hint.
//!
//! # Example
//!
//! ```
//! use ipvs_netlink::{ipvsadm, Destination, Forward, Service, ServiceKey, Scheduler};
//!
//! // Parse an `ipvsadm -S -n` line, then print it back.
//! let cmd = ipvsadm::parse_args(&["-A", "-t", "192.0.2.1:80", "-s", "rr"]).unwrap();
//! let key = ServiceKey::tcp("192.0.2.1:80".parse().unwrap());
//! assert_eq!(cmd, ipvsadm::Command::AddService(Service::new(key).scheduler(Scheduler::RoundRobin)));
//! ```
//!
//! Talking to the kernel needs the `ip_vs` module and CAP_NET_ADMIN:
//!
//! ```no_run
//! use ipvs_netlink::{Ipvs, reconcile::DesiredState, Service, ServiceKey, Destination};
//!
//! let mut ipvs = Ipvs::connect()?;
//! let mut want = DesiredState::default();
//! let key = ServiceKey::tcp("192.0.2.1:80".parse().unwrap());
//! want.insert(Service::new(key), vec![Destination::new("198.51.100.1:80".parse().unwrap())]);
//! let report = ipvs.reconcile(&want)?;
//! assert!(report.is_ok());
//! # Ok::<(), ipvs_netlink::Error>(())
//! ```
//!
//! # MSRV
//!
//! The workspace's `rust-version` (1.85).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod handle;
pub mod ipvsadm;
pub mod message;
pub mod reconcile;
mod types;
mod wire;

pub use error::{Error, KernelError, Object, errno_name};
pub use handle::{Ipvs, ItemResult, ReconcileReport};
pub use types::*;
