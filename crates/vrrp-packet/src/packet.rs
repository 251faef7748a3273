//! Zero-copy view of a VRRP message.

use core::net::IpAddr;

use crate::addresses::{Addresses, Family};
use crate::checksum::{
    ChecksumMode, ChecksumModes, addr_sum, fold, mcast_sum, pseudo_base, pseudo_sum, sum_words,
    verifies,
};
use crate::error::Error;

/// Field offsets (RFC 3768 §5.1 for VRRPv2, RFC 9568 §5.1 for VRRPv3).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Type  | Virtual Rtr ID|   Priority    | Count IPvX Addr|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// v2: |  Auth Type    |   Adver Int   |          Checksum            |
/// v3: |(rsvd) |     Max Adver Int     |          Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  IPvX Address(es) (count × 4 or 16)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// v2 only: |      Authentication Data (8 octets)                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod field {
    pub(crate) type Field = core::ops::Range<usize>;

    pub(crate) const VER_TYPE: usize = 0;
    pub(crate) const VRID: usize = 1;
    pub(crate) const PRIORITY: usize = 2;
    pub(crate) const COUNT: usize = 3;
    /// VRRPv2 Auth Type.
    pub(crate) const AUTH_TYPE: usize = 4;
    /// VRRPv2 Adver Int (seconds).
    pub(crate) const ADVER_INT: usize = 5;
    /// VRRPv3 4 reserved bits and the 12-bit Max Adver Int (centiseconds).
    pub(crate) const MAX_ADVER_INT: Field = 4..6;
    pub(crate) const CHECKSUM: Field = 6..8;
    /// First octet after the fixed header.
    pub(crate) const HEADER_END: usize = 8;

    /// The address list of `count` addresses of `addr_len` octets.
    pub(crate) const fn addresses(count: u8, addr_len: usize) -> Field {
        HEADER_END..HEADER_END + count as usize * addr_len
    }

    /// VRRPv2 Authentication Data after `count` addresses of `addr_len` octets.
    pub(crate) const fn auth_data(count: u8, addr_len: usize) -> Field {
        let start = addresses(count, addr_len).end;
        start..start + super::AUTH_DATA_LEN
    }
}

/// Length of the fixed VRRP header (both versions).
pub const HEADER_LEN: usize = field::HEADER_END;
/// Length of the VRRPv2 Authentication Data trailer.
pub const AUTH_DATA_LEN: usize = 8;
/// The only VRRP message type: ADVERTISEMENT.
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// A VRRP protocol version this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// VRRPv2, RFC 3768 (IPv4 only, interval in seconds, 8 octets of auth data).
    V2 = 2,
    /// VRRPv3, RFC 9568 (IPv4 and IPv6, interval in centiseconds).
    V3 = 3,
}

impl Version {
    /// The version number on the wire.
    #[must_use]
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The version for a wire number, if supported.
    #[must_use]
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            2 => Some(Self::V2),
            3 => Some(Self::V3),
            _ => None,
        }
    }
}

/// A read/write wrapper around a VRRP message buffer (smoltcp style).
///
/// The address family is not on the wire (it is that of the IP layer), so the view carries it.
/// Getters panic when the buffer is shorter than the field they read: call
/// [`new_checked`](Self::new_checked) (or [`check_len`](Self::check_len)) first on untrusted
/// input. The checksum functions never panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T, family: Family) -> Self {
        Self { buffer, family }
    }

    /// Wraps a buffer and checks with [`check_len`](Self::check_len) that every getter is safe.
    ///
    /// # Errors
    /// [`Error::Length`] when the buffer is shorter than the message its header announces.
    pub fn new_checked(buffer: T, family: Family) -> Result<Self, Error> {
        let packet = Self::new_unchecked(buffer, family);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the fixed header, the address list its count announces and,
    /// for version 2, the Authentication Data. A longer buffer is fine (the rest is ignored).
    ///
    /// # Errors
    /// [`Error::Length`] with the octets required and present.
    #[inline]
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Length {
                required: HEADER_LEN,
                len,
            });
        }
        let required = self.message_len();
        if len < required {
            return Err(Error::Length { required, len });
        }
        Ok(())
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The address family the view was created with.
    pub const fn family(&self) -> Family {
        self.family
    }

    /// The Version field (high nibble of octet 0).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// The Type field (low nibble of octet 0); 1 is ADVERTISEMENT.
    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// The Virtual Router ID.
    #[inline]
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// The Priority.
    #[inline]
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// The Count IPvX Addr field.
    #[inline]
    pub fn addr_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// VRRPv2 Auth Type (octet 4; part of the reserved bits and interval in VRRPv3).
    #[inline]
    pub fn auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_TYPE]
    }

    /// VRRPv2 Adver Int in seconds (octet 5).
    #[inline]
    pub fn adver_int(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// VRRPv3 Max Adver Int in centiseconds (the low 12 bits of octets 4–5).
    #[inline]
    pub fn max_adver_int(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::MAX_ADVER_INT];
        u16::from_be_bytes([b[0], b[1]]) & 0x0fff
    }

    /// VRRPv3 reserved bits (the high nibble of octet 4).
    #[inline]
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::MAX_ADVER_INT.start] >> 4
    }

    /// The advertisement interval in the unit of the message's version: seconds for version 2,
    /// centiseconds otherwise. This is the number Wireshark and `vrrp-pcap decode` show.
    #[inline]
    pub fn wire_interval(&self) -> u16 {
        if self.version() == 2 {
            u16::from(self.adver_int())
        } else {
            self.max_adver_int()
        }
    }

    /// The Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::CHECKSUM];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The message length the header announces: 8 + count × address length, plus 8 octets of
    /// Authentication Data for version 2.
    #[inline]
    pub fn message_len(&self) -> usize {
        let count = self.addr_count();
        let end = field::addresses(count, self.family.addr_len()).end;
        if self.version() == 2 {
            end + AUTH_DATA_LEN
        } else {
            end
        }
    }

    /// The address list (as many whole addresses as the buffer holds, up to the count).
    pub fn addresses(&self) -> Addresses<'_> {
        let buf = self.buffer.as_ref();
        let range = field::addresses(self.addr_count(), self.family.addr_len());
        let end = range.end.min(buf.len());
        Addresses::from_wire(self.family, buf.get(HEADER_LEN..end).unwrap_or_default())
    }

    /// VRRPv2 Authentication Data (the 8 octets after the addresses).
    pub fn auth_data(&self) -> [u8; AUTH_DATA_LEN] {
        let range = field::auth_data(self.addr_count(), self.family.addr_len());
        let mut out = [0u8; AUTH_DATA_LEN];
        out.copy_from_slice(&self.buffer.as_ref()[range]);
        out
    }

    /// The message octets: the buffer cut to [`message_len`](Self::message_len) (or the whole
    /// buffer when shorter).
    #[inline]
    pub fn message(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        if buf.len() < HEADER_LEN {
            return buf;
        }
        &buf[..self.message_len().min(buf.len())]
    }

    /// The checksum `mode` prescribes for this message sent from `src` to `dst` (`src` and `dst`
    /// are unused by [`ChecksumMode::V2`] and [`ChecksumMode::V3NoPseudo`]). The checksum field's
    /// current value does not matter. Never panics.
    pub fn compute_checksum(&self, mode: ChecksumMode, src: IpAddr, dst: IpAddr) -> u16 {
        let msg = self.message();
        let mut acc = sum_words(0, msg);
        // Take the current checksum field out of the sum.
        if let Some(c) = msg.get(field::CHECKSUM) {
            acc += 0xffff - u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
        acc += pseudo_sum(mode, self.family == Family::Ipv6, src, dst, msg.len());
        !fold(acc)
    }

    /// The checksum modes whose computation matches the Checksum field, for a message received
    /// from `src` by `dst`. Never panics.
    ///
    /// A version-2 message is only tested against [`ChecksumMode::V2`]; any other version against
    /// the three VRRPv3 modes. Several modes can match: for a message sent to the multicast group
    /// [`V3Pseudo`](ChecksumMode::V3Pseudo) and [`V3PseudoMcast`](ChecksumMode::V3PseudoMcast)
    /// coincide. An empty set means a bad checksum.
    #[inline]
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> ChecksumModes {
        matching_modes(self.message(), self.family == Family::Ipv6, src, dst)
    }
}

/// The checksum modes that match the message `msg` (see [`Packet::verify_checksum`]).
#[inline]
pub(crate) fn matching_modes(msg: &[u8], ipv6: bool, src: IpAddr, dst: IpAddr) -> ChecksumModes {
    let body = sum_words(0, msg);
    if msg.first().is_some_and(|b| b >> 4 == 2) {
        return if verifies(body) {
            ChecksumModes::V2
        } else {
            ChecksumModes::empty()
        };
    }
    let base = body + pseudo_base(src, msg.len());
    let mut set = ChecksumModes::empty();
    set.set(ChecksumModes::V3_NO_PSEUDO, verifies(body));
    set.set(ChecksumModes::V3_PSEUDO, verifies(base + addr_sum(dst)));
    set.set(
        ChecksumModes::V3_PSEUDO_MCAST,
        verifies(base + mcast_sum(ipv6)),
    );
    set
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the Version and Type fields (octet 0).
    #[inline]
    pub fn set_version_type(&mut self, version: u8, msg_type: u8) {
        self.buffer.as_mut()[field::VER_TYPE] = (version << 4) | (msg_type & 0x0f);
    }

    /// Sets the Virtual Router ID.
    #[inline]
    pub fn set_vrid(&mut self, vrid: u8) {
        self.buffer.as_mut()[field::VRID] = vrid;
    }

    /// Sets the Priority.
    #[inline]
    pub fn set_priority(&mut self, priority: u8) {
        self.buffer.as_mut()[field::PRIORITY] = priority;
    }

    /// Sets the Count IPvX Addr field.
    #[inline]
    pub fn set_addr_count(&mut self, count: u8) {
        self.buffer.as_mut()[field::COUNT] = count;
    }

    /// Sets the VRRPv2 Auth Type.
    #[inline]
    pub fn set_auth_type(&mut self, auth_type: u8) {
        self.buffer.as_mut()[field::AUTH_TYPE] = auth_type;
    }

    /// Sets the VRRPv2 Adver Int (seconds).
    #[inline]
    pub fn set_adver_int(&mut self, secs: u8) {
        self.buffer.as_mut()[field::ADVER_INT] = secs;
    }

    /// Sets the VRRPv3 reserved bits to zero and Max Adver Int to the low 12 bits of `centis`.
    #[inline]
    pub fn set_max_adver_int(&mut self, centis: u16) {
        self.buffer.as_mut()[field::MAX_ADVER_INT]
            .copy_from_slice(&(centis & 0x0fff).to_be_bytes());
    }

    /// Sets the Checksum field.
    #[inline]
    pub fn set_checksum(&mut self, checksum: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&checksum.to_be_bytes());
    }

    /// The address list octets (as the count field announces), for writing.
    pub fn addresses_mut(&mut self) -> &mut [u8] {
        let range = field::addresses(self.addr_count(), self.family.addr_len());
        &mut self.buffer.as_mut()[range]
    }

    /// Sets the VRRPv2 Authentication Data (after the addresses the count announces).
    pub fn set_auth_data(&mut self, data: [u8; AUTH_DATA_LEN]) {
        let range = field::auth_data(self.addr_count(), self.family.addr_len());
        self.buffer.as_mut()[range].copy_from_slice(&data);
    }

    /// Computes the checksum with `mode` and writes it into the Checksum field.
    pub fn fill_checksum(&mut self, mode: ChecksumMode, src: IpAddr, dst: IpAddr) {
        let c = self.compute_checksum(mode, src, dst);
        self.set_checksum(c);
    }

    pub(crate) fn set_family(&mut self, family: Family) {
        self.family = family;
    }

    pub(crate) fn buffer_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::golden::*;

    #[test]
    fn test_deconstruct_v2() {
        let packet = Packet::new_checked(&V2_PASS[..], Family::Ipv4).unwrap();
        assert_eq!(packet.version(), 2);
        assert_eq!(packet.msg_type(), 1);
        assert_eq!(packet.vrid(), 51);
        assert_eq!(packet.priority(), 100);
        assert_eq!(packet.addr_count(), 1);
        assert_eq!(packet.auth_type(), 1);
        assert_eq!(packet.adver_int(), 1);
        assert_eq!(packet.wire_interval(), 1);
        assert_eq!(packet.checksum(), 0x54f7);
        assert_eq!(packet.message_len(), 20);
        assert_eq!(packet.auth_data(), *b"1717\0\0\0\0");
        assert_eq!(packet.addresses().first(), Some(V2_PASS_ADDRS[0].into()));
        assert_eq!(packet.verify_checksum(SRC4, MCAST4), ChecksumModes::V2);
        assert_eq!(
            packet.compute_checksum(ChecksumMode::V2, SRC4, MCAST4),
            0x54f7
        );
    }

    #[test]
    fn test_deconstruct_v3_ipv4() {
        let packet = Packet::new_checked(&V3_V4[..], Family::Ipv4).unwrap();
        assert_eq!(packet.version(), 3);
        assert_eq!(packet.msg_type(), 1);
        assert_eq!(packet.addr_count(), 1);
        assert_eq!(packet.reserved(), 0);
        assert_eq!(packet.max_adver_int(), 5);
        assert_eq!(packet.wire_interval(), 5);
        assert_eq!(packet.checksum(), 0x05d1);
        assert_eq!(packet.message_len(), 12);
        // Sent to the group: the real-destination and the group pseudo-headers coincide.
        assert_eq!(
            packet.verify_checksum(SRC4, MCAST4),
            ChecksumModes::V3_PSEUDO | ChecksumModes::V3_PSEUDO_MCAST
        );
        assert_eq!(
            packet.compute_checksum(ChecksumMode::V3NoPseudo, SRC4, MCAST4),
            0xa861
        );
        assert_eq!(
            packet.compute_checksum(ChecksumMode::V2, SRC4, MCAST4),
            0xa861
        );
    }

    #[test]
    fn test_deconstruct_v3_ipv6() {
        let packet = Packet::new_checked(&V3_V6[..], Family::Ipv6).unwrap();
        assert_eq!(packet.version(), 3);
        assert_eq!(packet.max_adver_int(), 100);
        assert_eq!(packet.message_len(), 24);
        assert_eq!(packet.addresses().first(), Some(V3_V6_ADDRS[0].into()));
        assert!(
            packet
                .verify_checksum(SRC6, MCAST6)
                .contains(ChecksumModes::V3_PSEUDO)
        );
    }

    #[test]
    fn test_keepalived_checksum_variants() {
        // Unicast: only the real-destination pseudo-header matches keepalived's checksum.
        let packet = Packet::new_checked(&KEEPALIVED_V3_UNICAST[..], Family::Ipv4).unwrap();
        assert_eq!(
            packet.verify_checksum(SRC4, PEER4),
            ChecksumModes::V3_PSEUDO
        );
        assert_eq!(
            packet.compute_checksum(ChecksumMode::V3PseudoMcast, SRC4, PEER4),
            0xfb7e
        );
        assert_eq!(
            packet.compute_checksum(ChecksumMode::V3NoPseudo, SRC4, PEER4),
            0x9e0f
        );
        let packet = Packet::new_checked(&KEEPALIVED_V3_V6[..], Family::Ipv6).unwrap();
        assert!(
            packet
                .verify_checksum(SRC6, MCAST6)
                .contains(ChecksumModes::V3_PSEUDO)
        );
        assert_eq!(
            packet.compute_checksum(ChecksumMode::V3Pseudo, SRC6, MCAST6),
            0x2b22
        );
    }

    #[test]
    fn test_construct_v2() {
        let mut bytes = [0xa5u8; 20];
        let mut packet = Packet::new_unchecked(&mut bytes[..], Family::Ipv4);
        packet.set_version_type(2, 1);
        packet.set_vrid(51);
        packet.set_priority(100);
        packet.set_addr_count(1);
        packet.set_auth_type(1);
        packet.set_adver_int(1);
        packet.set_checksum(0);
        packet.addresses_mut().copy_from_slice(&[192, 0, 2, 100]);
        packet.set_auth_data(*b"1717\0\0\0\0");
        packet.fill_checksum(ChecksumMode::V2, SRC4, MCAST4);
        assert_eq!(bytes, V2_PASS);
    }

    #[test]
    fn test_construct_v3() {
        let mut bytes = [0xa5u8; 12];
        let mut packet = Packet::new_unchecked(&mut bytes[..], Family::Ipv4);
        packet.set_version_type(3, 1);
        packet.set_vrid(51);
        packet.set_priority(100);
        packet.set_addr_count(1);
        packet.set_max_adver_int(5);
        packet.addresses_mut().copy_from_slice(&[192, 0, 2, 100]);
        packet.fill_checksum(ChecksumMode::V3Pseudo, SRC4, MCAST4);
        assert_eq!(bytes, V3_V4);
    }

    #[test]
    fn test_check_len() {
        assert_eq!(
            Packet::new_checked(&V2_PASS[..7], Family::Ipv4),
            Err(Error::Length {
                required: 8,
                len: 7
            })
        );
        // The auth data is part of a VRRPv2 message.
        assert_eq!(
            Packet::new_checked(&V2_PASS[..19], Family::Ipv4),
            Err(Error::Length {
                required: 20,
                len: 19
            })
        );
        // Interpreted as IPv6 the same octets announce a 16-octet address.
        assert_eq!(
            Packet::new_checked(&V3_V4[..], Family::Ipv6),
            Err(Error::Length {
                required: 24,
                len: 12
            })
        );
        // Trailing octets are not part of the message.
        let mut long = [0u8; 16];
        long[..12].copy_from_slice(&V3_V4);
        let packet = Packet::new_checked(&long[..], Family::Ipv4).unwrap();
        assert_eq!(packet.message(), &V3_V4[..]);
        assert!(
            packet
                .verify_checksum(SRC4, MCAST4)
                .contains(ChecksumModes::V3_PSEUDO)
        );
    }

    #[test]
    fn test_checksum_functions_never_panic_on_short_buffers() {
        for len in 0..V2_PASS.len() {
            let packet = Packet::new_unchecked(&V2_PASS[..len], Family::Ipv4);
            let _ = packet.verify_checksum(SRC4, MCAST4);
            let _ = packet.compute_checksum(ChecksumMode::V3Pseudo, SRC4, MCAST4);
            let _ = packet.message();
        }
    }

    #[test]
    fn test_set_max_adver_int_clears_reserved_bits() {
        let mut bytes = V3_V4;
        bytes[4] = 0xf0;
        let mut packet = Packet::new_unchecked(&mut bytes[..], Family::Ipv4);
        assert_eq!(packet.reserved(), 0xf);
        assert_eq!(packet.max_adver_int(), 5);
        packet.set_max_adver_int(0xffff);
        assert_eq!(packet.reserved(), 0);
        assert_eq!(packet.max_adver_int(), 0x0fff);
    }
}
