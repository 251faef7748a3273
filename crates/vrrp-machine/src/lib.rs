//! A sans-IO VRRP state machine: VRRPv3 (RFC 9568) and VRRPv2 (RFC 3768), with the keepalived
//! behaviour operators rely on (FAULT, tracked-object weights, sync groups, the GARP schedule,
//! `nopreempt`, `preempt_delay`, unicast peers), and a deterministic simulator.
//!
//! The crate is fully deterministic: it contains no networking code, no threads, no async, and
//! never reads a clock. Time is an argument of every call, including construction
//! ([`Instant`] is microseconds since an epoch the caller picks). The daemon owns the sockets
//! and the timers; it feeds [`Input`]s and carries out [`Output`]s, draining after every call
//! (see [`Instance`] for the drain rule and a run loop).
//!
//! One [`Instance`] is one virtual router on one interface for one address family:
//! (interface, VRID, family). A [`SyncGroup`] moves several instances together.
//!
//! ```
//! use vrrp_machine::{Config, Input, Instance, Instant, Interval, Output, State, Version};
//!
//! let cfg = Config::new(Version::V2, 51, 100, Interval::DEFAULT,
//!     "192.0.2.1".parse()?, vec!["192.0.2.100".parse()?]);
//! let mut vrrp = Instance::new(cfg, Instant::ZERO)?;
//! vrrp.handle_input(Instant::ZERO, Input::Startup);
//! while let Some(_out) = vrrp.poll_output() {}
//! assert_eq!(vrrp.state(), State::Backup);
//! // Nobody else speaks: the Master_Down_Timer (3 s + 156/256 s) runs out.
//! let deadline = vrrp.poll_timeout().unwrap();
//! assert_eq!(deadline, Instant::from_micros(3_609_375));
//! vrrp.handle_timeout(deadline);
//! assert_eq!(vrrp.state(), State::Master);
//! assert!(std::iter::from_fn(|| vrrp.poll_output()).any(|o| matches!(o, Output::Transmit(_))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Timers
//!
//! Skew_Time and Master_Down_Interval follow RFC 3768 §6.1 (v2) and RFC 9568 §6.1 (v3), computed
//! exactly in microseconds (see [`Instance::skew_time`]). A v3 Backup adopts the master's
//! interval (§6.4.2); a v2 Backup discards adverts with another interval (RFC 3768 §7.1).
//!
//! # RFC map
//!
//! * RFC 9568 §6.4.1 (Initialize), §6.4.2 (Backup), §6.4.3 (Master, called Active in RFC 9568):
//!   [`Instance::handle_input`] and [`Instance::handle_timeout`]; one conformance test row per
//!   transition in `tests/conformance.rs`.
//! * RFC 9568 / RFC 3768 §7.1 receive checks that need the configuration (version, VRID, v2
//!   auth, interval, address list): in the instance; the rest (TTL, checksum, length, type) in
//!   `vrrp_packet::validate`, reported with [`Input::Rejected`].
//! * RFC 6527 counters: [`Stats`].
//! * keepalived: FAULT, [`Track`] weights, [`SyncGroup`], [`GarpConfig`], `nopreempt`,
//!   `preempt_delay`, unicast peers, `lower_prio_no_advert`, `higher_prio_send_advert`.
//!
//! # Simulator
//!
//! [`sim::Sim`] runs N instances on a virtual LAN (delay, loss, partitions, crashes); adverts
//! travel as bytes through `vrrp-packet`.
//!
//! # MSRV
//!
//! The workspace `rust-version` (1.85); bumped only in minor releases.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod config;
mod instance;
pub mod sim;
mod stats;
mod sync;
mod time;

pub use config::{Config, ConfigError, GarpConfig, Track, TrackId};
pub use instance::{
    Advert, Announce, Input, Instance, Notify, Output, Reason, Received, RxError, State,
    StateChange, Transmit,
};
pub use stats::{NewMasterReason, ProtoErrReason, Stats};
pub use sync::SyncGroup;
pub use time::Instant;
/// The codec's wire types, re-exported: the machine speaks them.
pub use vrrp_packet::{Auth, Interval, Version};
