//! Golden messages for the unit tests, written out field by field from the RFC layouts
//! (RFC 3768 §5.1, RFC 9568 §5.1). Checksums were computed independently (a separate RFC 1071
//! implementation); the two "keepalived" messages are the VRRP octets of keepalived 2.2.7
//! adverts in this crate's captures.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// VRRPv2, VRID 51, priority 100, 1 address, auth type 1 (simple text), 1 s, checksum 0x54f7,
/// 192.0.2.100, auth data "1717" zero-padded (the seed's `auth_type PASS` / `auth_pass 1717`).
pub(crate) static V2_PASS: [u8; 20] = [
    0x21, 51, 100, 1, //
    1, 1, 0x54, 0xf7, //
    192, 0, 2, 100, //
    b'1', b'7', b'1', b'7', 0, 0, 0, 0,
];

/// VRRPv2, VRID 1, priority 255 (owner), 3 addresses, auth type 0, 1 s, checksum 0x6157,
/// 198.51.100.1-3, zero auth data.
pub(crate) static V2_NOAUTH_3: [u8; 28] = [
    0x21, 1, 255, 3, //
    0, 1, 0x61, 0x57, //
    198, 51, 100, 1, //
    198, 51, 100, 2, //
    198, 51, 100, 3, //
    0, 0, 0, 0, 0, 0, 0, 0,
];

/// VRRPv3 IPv4, VRID 51, priority 100, 1 address, 5 cs, checksum 0x05d1 with the pseudo-header
/// 192.0.2.1 → 224.0.0.18 (0xa861 without), 192.0.2.100.
pub(crate) static V3_V4: [u8; 12] = [
    0x31, 51, 100, 1, //
    0x00, 0x05, 0x05, 0xd1, //
    192, 0, 2, 100,
];

/// VRRPv3 IPv6, VRID 51, priority 100, 1 address, 100 cs, checksum 0x6d76 with the
/// pseudo-header fe80::1 → ff02::12, fe80::51.
pub(crate) static V3_V6: [u8; 24] = [
    0x31, 51, 100, 1, //
    0x00, 0x64, 0x6d, 0x76, //
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x51,
];

/// keepalived VRRPv3 unicast 192.0.2.1 → 192.0.2.2: VRID 44, priority 110, 50 cs, checksum
/// 0x198f (pseudo-header with the real destination; 0xfb7e with 224.0.0.18, 0x9e0f without),
/// 192.0.2.144.
pub(crate) static KEEPALIVED_V3_UNICAST: [u8; 12] = [
    0x31, 0x2c, 0x6e, 0x01, 0x00, 0x32, 0x19, 0x8f, 0xc0, 0x00, 0x02, 0x90,
];

/// keepalived VRRPv3 IPv6 fe80::1 → ff02::12: VRID 66, priority 120, 100 cs, checksum 0x2b22,
/// fe80::66 and 2001:db8::66.
pub(crate) static KEEPALIVED_V3_V6: [u8; 40] = [
    0x31, 0x42, 0x78, 0x02, 0x00, 0x64, 0x2b, 0x22, //
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66, //
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66,
];

pub(crate) const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
pub(crate) const PEER4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
pub(crate) const MCAST4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
pub(crate) const SRC6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
pub(crate) const MCAST6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

pub(crate) static V2_PASS_ADDRS: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 100)];
pub(crate) static V2_NOAUTH_3_ADDRS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(198, 51, 100, 1),
    Ipv4Addr::new(198, 51, 100, 2),
    Ipv4Addr::new(198, 51, 100, 3),
];
pub(crate) static V3_V6_ADDRS: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x51)];
pub(crate) static KEEPALIVED_V3_V6_ADDRS: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x66),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x66),
];
