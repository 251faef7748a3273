//! The four VRRP checksum behaviours seen in the field.

use core::net::IpAddr;

use crate::{IP_PROTOCOL, VRRP_IPV4_MULTICAST, VRRP_IPV6_MULTICAST};

/// How the VRRP checksum is computed.
///
/// All modes use the RFC 1071 Internet checksum over the whole VRRP message; they differ in the
/// pseudo-header that is summed in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumMode {
    /// VRRPv2 (RFC 3768 §5.3.8): the message only (including the Authentication Data).
    V2,
    /// VRRPv3 with the pseudo-header of the real IP source and destination (RFC 9568 §5.2.8 for
    /// IPv6, where it is the only correct mode; for IPv4 the default of keepalived and FRR).
    V3Pseudo,
    /// VRRPv3 over IPv4 without a pseudo-header: RFC 9568 §5.2.8 wording, as Cisco and Juniper
    /// send it (keepalived `v3_checksum_as_v2`, FRR `no checksum-with-ipv4-pseudoheader`).
    V3NoPseudo,
    /// VRRPv3 with a pseudo-header whose destination is the VRRP multicast group (224.0.0.18,
    /// or ff02::12 for IPv6) even when the packet was unicast: keepalived before 1.3.7
    /// (`old_unicast_checksum`) and FRR.
    V3PseudoMcast,
}

impl ChecksumMode {
    /// The mode a sender uses by default: [`V2`](Self::V2) for VRRPv2, and
    /// [`V3Pseudo`](Self::V3Pseudo) for VRRPv3 (what keepalived sends).
    #[must_use]
    pub const fn default_for(version: crate::Version) -> Self {
        match version {
            crate::Version::V2 => Self::V2,
            crate::Version::V3 => Self::V3Pseudo,
        }
    }

    /// This mode as a one-element [`ChecksumModes`] set.
    #[must_use]
    pub const fn as_flag(self) -> ChecksumModes {
        match self {
            Self::V2 => ChecksumModes::V2,
            Self::V3Pseudo => ChecksumModes::V3_PSEUDO,
            Self::V3NoPseudo => ChecksumModes::V3_NO_PSEUDO,
            Self::V3PseudoMcast => ChecksumModes::V3_PSEUDO_MCAST,
        }
    }

    /// A short stable name: `"v2"`, `"v3_pseudo"`, `"v3_no_pseudo"`, `"v3_pseudo_mcast"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V3Pseudo => "v3_pseudo",
            Self::V3NoPseudo => "v3_no_pseudo",
            Self::V3PseudoMcast => "v3_pseudo_mcast",
        }
    }

    /// All modes, in declaration order.
    pub const ALL: [Self; 4] = [
        Self::V2,
        Self::V3Pseudo,
        Self::V3NoPseudo,
        Self::V3PseudoMcast,
    ];

    /// Parses a name as returned by [`name`](Self::name).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl core::fmt::Display for ChecksumMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

bitflags::bitflags! {
    /// A set of [`ChecksumMode`]s: the modes a receiver accepts, or the modes whose computation
    /// matches a received checksum (see [`Packet::verify_checksum`](crate::Packet::verify_checksum)).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ChecksumModes: u8 {
        /// [`ChecksumMode::V2`].
        const V2 = 1 << 0;
        /// [`ChecksumMode::V3Pseudo`].
        const V3_PSEUDO = 1 << 1;
        /// [`ChecksumMode::V3NoPseudo`].
        const V3_NO_PSEUDO = 1 << 2;
        /// [`ChecksumMode::V3PseudoMcast`].
        const V3_PSEUDO_MCAST = 1 << 3;
    }
}

impl ChecksumModes {
    /// Iterates over the modes in this set.
    pub fn modes(self) -> impl Iterator<Item = ChecksumMode> {
        ChecksumMode::ALL
            .into_iter()
            .filter(move |m| self.contains(m.as_flag()))
    }
}

impl From<ChecksumMode> for ChecksumModes {
    fn from(mode: ChecksumMode) -> Self {
        mode.as_flag()
    }
}

/// Adds `data` to a wide one's-complement accumulator, as big-endian 16-bit words (odd length:
/// zero-padded). Works on 32-bit words: 2^16 ≡ 1 (mod 0xffff), so each one counts as its two
/// halves once folded.
#[inline]
pub(crate) fn sum_words(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        acc += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let last = match *chunks.remainder() {
        [a] => u32::from_be_bytes([a, 0, 0, 0]),
        [a, b] => u32::from_be_bytes([a, b, 0, 0]),
        [a, b, c] => u32::from_be_bytes([a, b, c, 0]),
        _ => 0,
    };
    acc + u64::from(last)
}

/// Folds a wide accumulator into a 16-bit one's-complement sum (branch-free: after the first
/// step the value is below 2^33, and three 16-bit folds bring that below 2^16).
#[inline]
pub(crate) fn fold(mut acc: u64) -> u16 {
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc as u16
}

/// True when a wide accumulator that includes the checksum field folds to 0xffff, i.e. the
/// checksum verifies. A non-zero sum folds to a value in 1..=0xffff congruent to it modulo
/// 0xffff, so this is a divisibility test (a multiply, no loop).
#[inline]
pub(crate) fn verifies(acc: u64) -> bool {
    acc != 0 && acc % 0xffff == 0
}

/// The sum of an address's octets.
#[inline]
pub(crate) fn addr_sum(addr: IpAddr) -> u64 {
    match addr {
        IpAddr::V4(a) => u64::from(a.to_bits()),
        IpAddr::V6(a) => {
            let b = a.to_bits();
            (b as u64 & 0xffff_ffff)
                + ((b >> 32) as u64 & 0xffff_ffff)
                + ((b >> 64) as u64 & 0xffff_ffff)
                + (b >> 96) as u64
        }
    }
}

/// The sum of the multicast group address of the family (`ipv6`).
#[inline]
pub(crate) fn mcast_sum(ipv6: bool) -> u64 {
    if ipv6 {
        addr_sum(IpAddr::V6(VRRP_IPV6_MULTICAST))
    } else {
        addr_sum(IpAddr::V4(VRRP_IPV4_MULTICAST))
    }
}

/// The pseudo-header sum without the destination: source, protocol and length. IPv4 (16-bit
/// length) and IPv6 (32-bit length, RFC 8200 §8.1) add up the same way.
#[inline]
pub(crate) fn pseudo_base(src: IpAddr, len: usize) -> u64 {
    addr_sum(src) + u64::from(IP_PROTOCOL) + len as u64
}

/// The sum of the pseudo-header `mode` prescribes, for a message of `len` octets.
///
/// `ipv6` selects the IPv6 multicast group for [`ChecksumMode::V3PseudoMcast`].
#[inline]
pub(crate) fn pseudo_sum(
    mode: ChecksumMode,
    ipv6: bool,
    src: IpAddr,
    dst: IpAddr,
    len: usize,
) -> u64 {
    match mode {
        ChecksumMode::V2 | ChecksumMode::V3NoPseudo => 0,
        ChecksumMode::V3Pseudo => pseudo_base(src, len) + addr_sum(dst),
        ChecksumMode::V3PseudoMcast => pseudo_base(src, len) + mcast_sum(ipv6),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum_words(0, &data)), 0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum_words(0, &[0x12, 0x34, 0x56])), 0x6834);
        assert_eq!(
            fold(sum_words(0, &[0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x01])),
            0x0102
        );
    }

    #[test]
    fn fold_and_verifies_agree() {
        for acc in [
            1u64,
            0xfffe,
            0xffff,
            0x1_0000,
            0x1_fffe,
            0x2_fffd,
            u64::from(u32::MAX) * 9,
        ] {
            assert_eq!(verifies(acc), fold(acc) == 0xffff, "{acc:#x}");
            assert_eq!(u64::from(fold(acc)) % 0xffff, acc % 0xffff, "{acc:#x}");
        }
        assert!(!verifies(0));
    }

    #[test]
    fn names_round_trip() {
        for m in ChecksumMode::ALL {
            assert_eq!(ChecksumMode::from_name(m.name()), Some(m));
        }
        assert_eq!(ChecksumMode::from_name("v4"), None);
        let set = ChecksumModes::V2 | ChecksumModes::V3_PSEUDO_MCAST;
        assert_eq!(
            set.modes().collect::<Vec<_>>(),
            [ChecksumMode::V2, ChecksumMode::V3PseudoMcast]
        );
    }
}
