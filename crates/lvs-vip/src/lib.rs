//! Host network setup for LVS and VRRP: VIPs, the IPIP tunnel, routes, VRRP virtual-MAC
//! interfaces, and the announcements that move a VIP.
//!
//! * [`Netlink`]: a synchronous facade over rtnetlink with idempotent `ensure_*` / `remove_*`
//!   operations ([`Outcome::Unchanged`] when nothing had to change): addresses with label,
//!   scope and broadcast ([`AddressSpec`]), `tunl0` with the VIP and its host route (what the
//!   seed's `lvs_tun.sh start` does), the default gateway of NAT real servers, and macvlan VMACs
//!   with the VRRP MAC `00:00:5e:00:01:<vrid>` / `00:00:5e:00:02:<vrid>` ([`VmacSpec`]).
//!   Errors name the interface and address and give the errno's meaning with a hint.
//! * [`garp_frame`] / [`na_frame`] build gratuitous ARP (request form, as keepalived sends, or
//!   reply form) and unsolicited neighbour advertisements (override flag set); [`Announcer`]
//!   sends them on an interface through an AF_PACKET socket.
//!
//! Everything binds to the network namespace of the thread that creates it, so tests (and
//! tools) can work inside a namespace from a thread that has `setns(2)`'d into it.
#![deny(unsafe_code)] // One audited exception: building a sockaddr_ll (see announce.rs).
#![warn(missing_docs)]

mod announce;
mod error;
mod mac;
mod monitor;
mod netlink;
mod nodad;

pub use announce::{Announcer, GARP_LEN, GarpKind, NA_LEN, garp_frame, na_frame};
pub use error::Error;
pub use mac::{Family, MacAddr, MacParseError};
pub use monitor::{LinkMonitor, LinkState};
pub use netlink::{AddrScope, Address, AddressSpec, Link, MacvlanMode, Netlink, Outcome, VmacSpec};
