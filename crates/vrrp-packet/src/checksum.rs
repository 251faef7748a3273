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

/// Adds `data` as big-endian 16-bit words to a wide one's-complement accumulator.
#[inline]
pub(crate) fn sum_words(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        acc += u64::from(*b) << 8;
    }
    acc
}

/// Folds a wide accumulator into a 16-bit one's-complement sum.
#[inline]
pub(crate) fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

fn sum_addr(acc: u64, addr: IpAddr) -> u64 {
    match addr {
        IpAddr::V4(a) => sum_words(acc, &a.octets()),
        IpAddr::V6(a) => sum_words(acc, &a.octets()),
    }
}

/// The sum of the pseudo-header `mode` prescribes, for a message of `len` octets.
///
/// `ipv6` selects the IPv6 pseudo-header layout (RFC 8200 §8.1) over the IPv4 one.
pub(crate) fn pseudo_sum(
    mode: ChecksumMode,
    ipv6: bool,
    src: IpAddr,
    dst: IpAddr,
    len: usize,
) -> u64 {
    let dst = match mode {
        ChecksumMode::V2 | ChecksumMode::V3NoPseudo => return 0,
        ChecksumMode::V3Pseudo => dst,
        ChecksumMode::V3PseudoMcast if ipv6 => IpAddr::V6(VRRP_IPV6_MULTICAST),
        ChecksumMode::V3PseudoMcast => IpAddr::V4(VRRP_IPV4_MULTICAST),
    };
    let acc = sum_addr(sum_addr(0, src), dst) + u64::from(IP_PROTOCOL);
    // IPv4: a 16-bit length; IPv6: a 32-bit length. Both add up the same way.
    acc + (len as u64 & 0xffff) + ((len as u64 >> 16) & 0xffff)
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
