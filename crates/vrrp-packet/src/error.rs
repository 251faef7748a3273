//! Error types: one enum for the VRRP message rules, one for the IP/Ethernet envelope, one for emit.

use crate::checksum::ChecksumModes;

/// A VRRP message broke one of the receive rules of RFC 9568 §7.1 (VRRPv3) or RFC 3768 §7.1
/// (VRRPv2).
///
/// [`Repr::parse`](crate::Repr::parse) returns the structural variants ([`Length`](Self::Length),
/// [`Version`](Self::Version), [`Type`](Self::Type)); [`validate`](crate::validate) returns all of
/// them. Each variant names the MIB counter a receiver should increment: RFC 6527
/// (VRRPv3-MIB, `vrrpv3…`) and, for VRRPv2, RFC 2787 (VRRP-MIB, `vrrp…`).
/// [`Error::rule_name`] gives a short, stable name for logs and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The IP TTL / IPv6 Hop Limit is not 255 (RFC 9568 §7.1 and RFC 3768 §7.1: "MUST verify that
    /// the IPvX TTL/Hop Limit is 255"). Counters: `vrrpv3StatisticsIpTtlErrors`,
    /// `vrrpStatsIpTtlErrors`.
    #[error("TTL/hop limit is {ttl}, must be 255 (RFC 9568 §7.1, RFC 3768 §7.1)")]
    Ttl {
        /// The TTL or hop limit received.
        ttl: u8,
    },
    /// The version field is not the one the receiver runs (2 or 3), or is VRRPv2 over IPv6,
    /// which does not exist ("MUST verify the VRRP version field"). Counters:
    /// `vrrpv3RouterVersionErrors` (global), `vrrpRouterVersionErrors`.
    #[error("VRRP version {version} is not accepted (RFC 9568 §7.1, RFC 3768 §7.1)")]
    Version {
        /// The version field received.
        version: u8,
    },
    /// The type field is not 1 (ADVERTISEMENT), the only type defined (RFC 9568 §5.2.2: "A
    /// packet with unknown type MUST be discarded"). Counters:
    /// `vrrpv3StatisticsRcvdInvalidTypePackets`, `vrrpStatsInvalidTypePktsRcvd`.
    #[error("VRRP type {kind} is not 1 (ADVERTISEMENT) (RFC 9568 §5.2.2)")]
    Type {
        /// The type field received.
        kind: u8,
    },
    /// The message is shorter than its fixed fields plus the addresses its count announces (plus
    /// the 8 octets of Authentication Data in VRRPv2): "MUST verify that the received packet
    /// contains the complete VRRP packet". Counters: `vrrpv3StatisticsPacketLengthErrors`,
    /// `vrrpStatsPacketLengthErrors`.
    #[error("VRRP message is {len} octets, needs {required} (RFC 9568 §7.1, RFC 3768 §7.1)")]
    Length {
        /// Octets the message needs.
        required: usize,
        /// Octets available.
        len: usize,
    },
    /// The checksum matches none of the [`ChecksumMode`](crate::ChecksumMode)s the receiver
    /// accepts ("MUST verify the VRRP checksum"). Counters: `vrrpv3RouterChecksumErrors`
    /// (global), `vrrpRouterChecksumErrors`.
    #[error(
        "VRRP checksum {checksum:#06x} is wrong (modes that would match: {matching:?}) (RFC 9568 §7.1)"
    )]
    Checksum {
        /// The checksum field received.
        checksum: u16,
        /// The modes whose computation matches (outside the accepted set, or empty).
        matching: ChecksumModes,
    },
    /// The VRID is not the one configured on the receiving interface ("MUST verify that the VRID
    /// is configured on the receiving interface"). Counters: `vrrpv3RouterVrIdErrors` (global),
    /// `vrrpRouterVrIdErrors`.
    #[error("VRID {vrid} is not configured here (expected {expected}) (RFC 9568 §7.1)")]
    VrId {
        /// The VRID received.
        vrid: u8,
        /// The VRID configured.
        expected: u8,
    },
    /// VRRPv3 message with an address count of zero (RFC 9568 §7.1, erratum 8299: "MUST verify
    /// that the IPvX Addr Count is greater than 0"). RFC 6527 has no counter of its own; count it
    /// in `vrrpv3StatisticsAddressListErrors`.
    #[error("VRRPv3 address count is 0 (RFC 9568 §7.1)")]
    AddressCount,
    /// VRRPv3 message with a Max Advertise Interval of zero (RFC 9568 §7.1, erratum 8301: "MUST
    /// verify that the Max Adver Interval is greater than 0"). Counter:
    /// `vrrpv3StatisticsAdvIntervalErrors`.
    #[error("VRRPv3 Max Advertise Interval is 0 (RFC 9568 §7.1)")]
    IntervalZero,
    /// VRRPv2 message whose Advertisement Interval differs from the locally configured one
    /// (RFC 3768 §7.1: "MUST verify that the Adver Interval in the packet is the same as the
    /// locally configured for this virtual router"; VRRPv3 only logs this, see
    /// [`Validated::interval_matches`](crate::Validated::interval_matches)). Counter:
    /// `vrrpStatsAdvertiseIntervalErrors`.
    #[error(
        "VRRPv2 advertisement interval {received} s differs from the configured {expected} s (RFC 3768 §7.1)"
    )]
    IntervalMismatch {
        /// Seconds received.
        received: u8,
        /// Seconds configured.
        expected: u8,
    },
    /// VRRPv3 over IPv6 whose first address is not link-local (RFC 9568 §5.2.9 and §7.1, erratum
    /// 8300). RFC 6527 has no counter of its own; count it in
    /// `vrrpv3StatisticsAddressListErrors`.
    #[error("first IPv6 address of a VRRPv3 advertisement is not link-local (RFC 9568 §5.2.9)")]
    Ipv6LinkLocal,
    /// VRRPv2 authentication type differs from the configured one (RFC 3768 §7.1 / RFC 2338
    /// §7.1: "MUST verify that the Auth Type matches the locally configured authentication
    /// method"). Counters: `vrrpStatsAuthTypeMismatch`, or `vrrpStatsInvalidAuthType` when the
    /// received type is not 0, 1 or 2.
    #[error("VRRPv2 auth type {received} differs from the configured {expected} (RFC 2338 §7.1)")]
    AuthType {
        /// Auth type received.
        received: u8,
        /// Auth type configured.
        expected: u8,
    },
    /// VRRPv2 simple-text password differs from the configured one (RFC 2338 §5.3.6.1 and §7.1).
    /// Counter: `vrrpStatsAuthFailures`.
    #[error("VRRPv2 authentication data does not match (RFC 2338 §7.1)")]
    AuthData,
    /// VRRPv2 address list differs from the configured one and the sender is not the address
    /// owner (priority 255): RFC 3768 §7.1 says "MUST … discard". (VRRPv3 only logs this, see
    /// [`Validated::address_list_matches`](crate::Validated::address_list_matches).) Counters:
    /// `vrrpStatsAddressListErrors`, `vrrpv3StatisticsAddressListErrors`.
    #[error("VRRPv2 address list differs from the configured one (RFC 3768 §7.1)")]
    AddressList,
}

impl Error {
    /// A short, stable name of the broken rule, for logs, metrics labels and JSON: `"ttl"`,
    /// `"version"`, `"type"`, `"length"`, `"checksum"`, `"vrid"`, `"address_count"`,
    /// `"interval"`, `"interval_mismatch"`, `"ipv6_link_local"`, `"auth_type"`, `"auth_data"`,
    /// `"address_list"`.
    ///
    /// ```
    /// assert_eq!(vrrp_packet::Error::Ttl { ttl: 64 }.rule_name(), "ttl");
    /// ```
    #[must_use]
    pub const fn rule_name(&self) -> &'static str {
        match self {
            Self::Ttl { .. } => "ttl",
            Self::Version { .. } => "version",
            Self::Type { .. } => "type",
            Self::Length { .. } => "length",
            Self::Checksum { .. } => "checksum",
            Self::VrId { .. } => "vrid",
            Self::AddressCount => "address_count",
            Self::IntervalZero => "interval",
            Self::IntervalMismatch { .. } => "interval_mismatch",
            Self::Ipv6LinkLocal => "ipv6_link_local",
            Self::AuthType { .. } => "auth_type",
            Self::AuthData => "auth_data",
            Self::AddressList => "address_list",
        }
    }
}

/// The IP datagram or Ethernet frame around a VRRP message could not be taken apart.
///
/// These are not VRRP rule violations: a receiver drops such input silently (a packet capture
/// tool skips [`NotVrrp`](Self::NotVrrp) and [`NotIp`](Self::NotIp) frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatagramError {
    /// The input ends before a header or before the length its IP header announces.
    #[error("{layer} needs {required} octets, only {len} present")]
    Truncated {
        /// The layer being read: `"ethernet"`, `"ipv4"` or `"ipv6"`.
        layer: &'static str,
        /// Octets needed.
        required: usize,
        /// Octets present.
        len: usize,
    },
    /// The IP header is malformed (bad version nibble, header length, or extension header).
    #[error("malformed IP header")]
    IpHeader,
    /// The Ethernet frame does not carry IPv4 or IPv6.
    #[error("not an IP frame (EtherType {ether_type:#06x})")]
    NotIp {
        /// The EtherType after any VLAN tags.
        ether_type: u16,
    },
    /// The IP payload is not VRRP (IP protocol / next header 112).
    #[error("not VRRP (IP protocol {protocol})")]
    NotVrrp {
        /// The protocol number found.
        protocol: u8,
    },
    /// The datagram is an IP fragment; VRRP messages are never fragmented.
    #[error("IP fragment")]
    Fragment,
}

impl DatagramError {
    /// A short, stable name: `"ip_length"`, `"ip_header"`, `"not_ip"`, `"not_vrrp"`,
    /// `"fragment"`.
    #[must_use]
    pub const fn rule_name(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "ip_length",
            Self::IpHeader => "ip_header",
            Self::NotIp { .. } => "not_ip",
            Self::NotVrrp { .. } => "not_vrrp",
            Self::Fragment => "fragment",
        }
    }
}

/// Building a datagram or frame failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The output buffer is too small.
    #[error("buffer of {len} octets is too small, {required} needed")]
    BufferTooSmall {
        /// Octets needed.
        required: usize,
        /// Octets available.
        len: usize,
    },
    /// Source, destination and the advertised addresses are not all of one address family.
    #[error("source, destination and advertised addresses must be of one address family")]
    FamilyMismatch,
}
