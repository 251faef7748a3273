//! Health checkers for LVS real servers, with keepalived's semantics.
//!
//! - [`core`]: the sans-IO state machine of one virtual server ([`core::Pool`]): per-checker
//!   retries and delays, alpha, warmup, inhibit_on_failure, dynamic weights, quorum with
//!   hysteresis and the sorry server. Time is an argument; the output is a list of
//!   [`core::Action`]s (pool changes and notifications) for the IPVS layer.
//! - [`spec`]: resolves a [`keepalived_conf::Config`] into runnable checks with keepalived's
//!   defaults (retry 1, 3 for DNS_CHECK, 0 for MISC_CHECK; delay_before_retry 1 s, 3 s for
//!   HTTP_GET/SSL_GET, delay_loop for DNS_CHECK; warmup = delay_loop; connect_timeout 5 s).
//! - [`probe`]: the tokio probes: TCP_CHECK, HTTP_GET, SSL_GET (rustls, optional SNI),
//!   MISC_CHECK (argv, never a shell; killed with its process group at misc_timeout),
//!   SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK (IPv4 and IPv6), FILE_CHECK.
//! - [`service`]: a `virtual_server` as IPVS services and destinations (`ipvs-netlink` types).
//! - [`runner`]: runs every check of a configuration, continuously ([`runner::Monitor`]) or
//!   once ([`runner::run_once`]).
//!
//! ```
//! use lvs_check::spec::resolve;
//! let text = "virtual_server 203.0.113.62 80 {\n delay_loop 6\n real_server 198.51.100.12 80 {\n  TCP_CHECK {\n   connect_timeout 3\n  }\n }\n}\n";
//! let out = keepalived_conf::parse_str(text, &keepalived_conf::Options::default());
//! let (vss, errors) = resolve(&out.config);
//! assert!(errors.is_empty());
//! let check = &vss[0].real_servers[0].checks[0];
//! assert_eq!(check.keyword, "TCP_CHECK");
//! assert_eq!(check.probe.to_string(), "tcp 198.51.100.12:80");
//! assert_eq!(check.timing.retry, 1);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod core;
pub mod probe;
pub mod runner;
pub mod service;
pub mod spec;

pub use crate::core::{Action, CheckId, CheckResult, Dest, Pool, PoolConfig, Timing};
pub use crate::probe::Outcome;
pub use crate::runner::{Event, Monitor, OnceReport, run_once};
pub use crate::spec::{CheckSpec, Probe, ProbeKind, RealServerSpec, Target, VirtualServerSpec};
