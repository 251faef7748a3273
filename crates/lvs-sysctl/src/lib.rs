//! Typed, validated, explainable and reversible kernel sysctls for LVS hosts.
//!
//! Half of preparing an LVS host is sysctls, and they go wrong in known ways: ARP settings put
//! only on `lo` while the kernel uses `max(all, incoming interface)`, `rp_filter` left on for
//! `tunl0` (or on `all`, which wins by the same max rule), forwarding written through
//! `ip_forward` silently rewriting every interface. This crate turns them into:
//!
//! * typed [`Key`]s with validated values ([`Key::validate`]) and interface names
//!   ([`IfName`], with the `eth0.100` ↔ `eth0/100` notations);
//! * [`effective`]: the value the kernel uses on an interface and an [`Explanation`] of where
//!   it comes from (`arp_ignore on eth0 is 1 = max(all=1, eth0=0)`);
//! * [`Profile`]s (DR, TUN and NAT real servers, director, keepalived-style VMAC) that produce a
//!   printable [`Plan`] of only the values that differ, [`apply`] it with the previous values
//!   recorded in a JSON state file, and [`revert`] exactly those;
//! * [`diagnose`]: per-mode checks with a verdict and the specific fix, for
//!   `lvs-realserver status`.
//!
//! All reads and writes go through [`Procfs`], rooted at `/proc/sys` or at a test directory
//! ([`Procfs::fake`]). `/proc/sys/net` belongs to the network namespace of the thread that
//! opens the files, so a thread that has `setns(2)`'d into a namespace sees that namespace.
//!
//! ```
//! use lvs_sysctl::{apply, diagnose, revert, Expect, IfName, Mode, Procfs, Profile};
//! let dir = tempfile::tempdir()?;
//! let sys = Procfs::fake(&dir.path().join("sys"), &["eth0"])?; // Procfs::system() for real
//! let eth0 = IfName::new("eth0")?;
//!
//! let mut expect = Expect::new(Mode::Dr, ["192.0.2.10".parse()?]);
//! expect.arp_ifaces = vec![eth0.clone()];
//! assert!(!diagnose(&sys, &expect, None)?.wrong().next().is_none());
//!
//! let plan = Profile::dr([eth0]).plan(&sys)?;
//! print!("{plan}");
//! apply(&sys, &plan, &dir.path().join("dr.json"))?;
//! assert!(diagnose(&sys, &expect, None)?.wrong().next().is_none());
//! revert(&sys, &dir.path().join("dr.json"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod diagnose;
mod effective;
mod error;
mod key;
mod name;
mod procfs;
mod profile;
mod state;

pub use diagnose::{AddrFact, Check, Diagnosis, Expect, HostFacts, Mode, Verdict, diagnose};
pub use effective::{Explanation, effective};
pub use error::Error;
pub use key::{Ipv4Conf, Ipv6Conf, Key, KeyParseError, Param, Rule, ValueError};
pub use name::{IFNAME_MAX, IfName, NameError, Scope};
pub use procfs::{Procfs, Snapshot, Source};
pub use profile::{Change, Plan, Profile, SideEffect, TUNL0};
pub use state::{ApplyReport, Drift, Restored, RevertReport, State, apply, revert};
