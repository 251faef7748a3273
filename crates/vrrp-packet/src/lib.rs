//! VRRP packet codec: VRRPv2 (RFC 3768, with the RFC 2338 authentication types) and VRRPv3
//! (RFC 9568) for IPv4 and IPv6, byte-exact with keepalived.
//!
//! # Overview
//!
//! Two layers, as in smoltcp:
//!
//! - [`Packet`] is a zero-copy view of a message buffer: getters on `T: AsRef<[u8]>`, setters on
//!   `T: AsMut<[u8]>`, [`Packet::new_checked`] / [`Packet::check_len`] before reading untrusted
//!   input, and the checksums: [`Packet::compute_checksum`], [`Packet::verify_checksum`] (which
//!   tells every [`ChecksumMode`] that matches, so a receiver can detect its peer's variant) and
//!   [`Packet::fill_checksum`].
//! - [`Repr`] is the decoded advertisement (`Copy`, borrowing its [`Addresses`]):
//!   [`Repr::parse`], [`Repr::buffer_len`], [`Repr::emit`]. [`OwnedRepr`] (feature `alloc`) owns
//!   its address list.
//!
//! Around them:
//!
//! - [`Datagram`] takes a VRRP message out of an IPv4 datagram as a raw socket returns it
//!   ([`Datagram::parse_ipv4`]), out of an IPv6 packet ([`Datagram::parse_ipv6`]) or from parts
//!   ([`Datagram::new`]), and exposes source, destination and TTL / hop limit. [`Frame::parse`]
//!   does the same for an Ethernet frame (VLAN tags and padding tolerated).
//! - [`validate`] applies the receive rules of RFC 9568 §7.1 / RFC 3768 §7.1 against a
//!   [`ValidationConfig`]; each broken rule is its own [`Error`] variant, documented with the MIB
//!   counter it feeds and a stable [`Error::rule_name`].
//! - [`emit_ip`] and [`emit_ethernet`] build whole datagrams and frames ([`Envelope`],
//!   [`EthernetParams`], [`virtual_mac`], [`multicast_mac`]).
//!
//! # Contract
//!
//! Parsing never panics and never allocates, on any input: [`Packet::new_checked`],
//! [`Repr::parse`], [`Datagram::parse_ipv4`], [`Datagram::parse_ipv6`], [`Frame::parse`],
//! [`validate`] and the checksum functions (a test counts allocations; fuzz targets hammer the
//! rest). Getters of a [`Packet`] made with [`Packet::new_unchecked`] panic on a buffer too short
//! for the field. [`Repr::emit`] never panics when the buffer is at least
//! [`Repr::buffer_len`] octets long; [`Repr::emit_into`], [`emit_ip`] and [`emit_ethernet`]
//! check the length and never panic.
//!
//! # Example
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use vrrp_packet::{
//!     Addresses, Auth, ChecksumModes, Datagram, Envelope, Interval, Repr, ValidationConfig,
//!     Version,
//! };
//!
//! // A Master builds its advert from its configuration...
//! let vips = [Ipv4Addr::new(192, 0, 2, 100)];
//! let advert = Repr {
//!     version: Version::V3,
//!     vrid: 51,
//!     priority: 150,
//!     interval: Interval::from_centis(100),
//!     auth: Auth::None,
//!     addresses: Addresses::ipv4(&vips),
//! };
//! let env = Envelope::new(
//!     IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
//!     IpAddr::V4(vrrp_packet::VRRP_IPV4_MULTICAST),
//!     Version::V3,
//! );
//! let mut buf = [0u8; 64];
//! let n = vrrp_packet::emit_ip(&advert, &env, &mut buf)?;
//!
//! // ...and a Backup receives it from its raw socket.
//! let datagram = Datagram::parse_ipv4(&buf[..n])?;
//! let cfg = ValidationConfig::new(Version::V3)
//!     .with_vrid(51)
//!     .with_checksum_modes(ChecksumModes::V3_PSEUDO | ChecksumModes::V3_NO_PSEUDO)
//!     .with_addresses(Addresses::ipv4(&vips));
//! let received = datagram.validate(&cfg)?;
//! assert_eq!(received.repr, advert);
//! assert_eq!(received.src, env.src);
//! assert_eq!(received.address_list_matches, Some(true));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `std` (default): enables `alloc`. Without it the crate is `no_std`.
//! - `alloc`: [`OwnedRepr`] and [`AddressList`].
//!
//! # MSRV
//!
//! The workspace `rust-version` (1.85).
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;

mod addresses;
mod checksum;
mod datagram;
mod error;
#[cfg(test)]
mod golden;
mod packet;
mod repr;
mod validate;

pub use addresses::{AddressIter, Addresses, Family};
pub use checksum::{ChecksumMode, ChecksumModes};
pub use datagram::{
    Datagram, ETHERNET_HEADER_LEN, Envelope, EthernetParams, Frame, IP_PROTOCOL, IPV4_HEADER_LEN,
    IPV6_HEADER_LEN, KEEPALIVED_TOS, VLAN_TAG_LEN, VRRP_IPV4_MULTICAST, VRRP_IPV6_MULTICAST,
    emit_ethernet, emit_ip, ethernet_len, ip_len, multicast_mac, virtual_mac,
};
pub use error::{DatagramError, EmitError, Error};
pub use packet::{AUTH_DATA_LEN, HEADER_LEN, Packet, TYPE_ADVERTISEMENT, Version};
#[cfg(feature = "alloc")]
pub use repr::{AddressList, OwnedRepr};
pub use repr::{Auth, Interval, Repr};
pub use validate::{VRRP_TTL, Validated, ValidationConfig, validate};
