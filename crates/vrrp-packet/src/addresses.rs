//! The address list of an advertisement, borrowed from the wire or from typed slices.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IP address family of a VRRP router (and of every address in its advertisements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4: 4-octet addresses, multicast group 224.0.0.18.
    Ipv4,
    /// IPv6: 16-octet addresses, multicast group ff02::12 (VRRPv3 only).
    Ipv6,
}

impl Family {
    /// The length of one address on the wire: 4 or 16 octets.
    #[must_use]
    pub const fn addr_len(self) -> usize {
        match self {
            Self::Ipv4 => 4,
            Self::Ipv6 => 16,
        }
    }

    /// The family of `addr`.
    #[must_use]
    pub const fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::Ipv4,
            IpAddr::V6(_) => Self::Ipv6,
        }
    }
}

#[derive(Clone, Copy)]
enum Inner<'a> {
    /// Packed 4-octet addresses as on the wire (length a multiple of 4).
    V4Wire(&'a [u8]),
    /// Packed 16-octet addresses as on the wire (length a multiple of 16).
    V6Wire(&'a [u8]),
    V4(&'a [Ipv4Addr]),
    V6(&'a [Ipv6Addr]),
}

/// The IPvX addresses of an advertisement, without copying them.
///
/// Parsing borrows the address octets from the packet; a sender borrows a typed slice from its
/// configuration with [`Addresses::ipv4`] or [`Addresses::ipv6`]. Both compare equal when they
/// hold the same addresses in the same order. A VRRP message holds at most 255 addresses: when
/// emitting, addresses beyond the 255th are left out.
///
/// ```
/// use std::net::Ipv4Addr;
/// use vrrp_packet::{Addresses, Family};
///
/// let vips = [Ipv4Addr::new(192, 0, 2, 10), Ipv4Addr::new(192, 0, 2, 11)];
/// let list = Addresses::ipv4(&vips);
/// assert_eq!(list.family(), Family::Ipv4);
/// assert_eq!(list.len(), 2);
/// assert_eq!(list.iter().nth(1), Some(vips[1].into()));
/// ```
#[derive(Clone, Copy)]
pub struct Addresses<'a>(Inner<'a>);

impl<'a> Addresses<'a> {
    /// Borrows a list of IPv4 addresses.
    #[must_use]
    pub const fn ipv4(addrs: &'a [Ipv4Addr]) -> Self {
        Self(Inner::V4(addrs))
    }

    /// Borrows a list of IPv6 addresses.
    #[must_use]
    pub const fn ipv6(addrs: &'a [Ipv6Addr]) -> Self {
        Self(Inner::V6(addrs))
    }

    /// Borrows packed wire addresses of `family`; a trailing partial address is ignored.
    #[must_use]
    #[inline]
    pub fn from_wire(family: Family, octets: &'a [u8]) -> Self {
        let whole = octets.len() - octets.len() % family.addr_len();
        let octets = octets.get(..whole).unwrap_or_default();
        match family {
            Family::Ipv4 => Self(Inner::V4Wire(octets)),
            Family::Ipv6 => Self(Inner::V6Wire(octets)),
        }
    }

    /// Borrows packed wire addresses whose length is known to be a multiple of the address
    /// length (no division on the parse path).
    #[inline]
    pub(crate) const fn from_wire_exact(family: Family, octets: &'a [u8]) -> Self {
        match family {
            Family::Ipv4 => Self(Inner::V4Wire(octets)),
            Family::Ipv6 => Self(Inner::V6Wire(octets)),
        }
    }

    /// The empty list of `family`.
    #[must_use]
    pub const fn empty(family: Family) -> Self {
        match family {
            Family::Ipv4 => Self(Inner::V4(&[])),
            Family::Ipv6 => Self(Inner::V6(&[])),
        }
    }

    /// The address family.
    #[must_use]
    #[inline]
    pub const fn family(&self) -> Family {
        match self.0 {
            Inner::V4Wire(_) | Inner::V4(_) => Family::Ipv4,
            Inner::V6Wire(_) | Inner::V6(_) => Family::Ipv6,
        }
    }

    /// The number of addresses.
    #[must_use]
    #[inline]
    pub const fn len(&self) -> usize {
        match self.0 {
            Inner::V4Wire(b) => b.len() / 4,
            Inner::V6Wire(b) => b.len() / 16,
            Inner::V4(a) => a.len(),
            Inner::V6(a) => a.len(),
        }
    }

    /// The number of addresses a message can carry: [`len`](Self::len), at most 255.
    #[must_use]
    pub const fn wire_count(&self) -> u8 {
        let n = self.len();
        if n > 255 { 255 } else { n as u8 }
    }

    /// True when the list is empty.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th address.
    #[must_use]
    #[inline]
    pub fn get(&self, i: usize) -> Option<IpAddr> {
        match self.0 {
            Inner::V4Wire(b) => {
                let o: [u8; 4] = b.get(i * 4..i * 4 + 4)?.try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(o)))
            }
            Inner::V6Wire(b) => {
                let o: [u8; 16] = b.get(i * 16..i * 16 + 16)?.try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(o)))
            }
            Inner::V4(a) => a.get(i).map(|a| IpAddr::V4(*a)),
            Inner::V6(a) => a.get(i).map(|a| IpAddr::V6(*a)),
        }
    }

    /// The first address (VRRPv3 over IPv6 requires it to be link-local).
    #[must_use]
    #[inline]
    pub fn first(&self) -> Option<IpAddr> {
        self.get(0)
    }

    /// Iterates over the addresses.
    #[must_use]
    pub fn iter(&self) -> AddressIter<'a> {
        AddressIter {
            list: *self,
            next: 0,
            end: self.len(),
        }
    }

    /// True when `addr` is in the list.
    #[must_use]
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.iter().any(|a| a == addr)
    }

    /// Writes the first [`wire_count`](Self::wire_count) addresses packed into `out`, which must
    /// be exactly `wire_count() * family().addr_len()` octets long.
    pub(crate) fn write_to(&self, out: &mut [u8]) {
        let n = usize::from(self.wire_count());
        match self.0 {
            Inner::V4Wire(b) | Inner::V6Wire(b) => out.copy_from_slice(&b[..out.len()]),
            Inner::V4(a) => {
                for (dst, a) in out.chunks_exact_mut(4).zip(&a[..n]) {
                    dst.copy_from_slice(&a.octets());
                }
            }
            Inner::V6(a) => {
                for (dst, a) in out.chunks_exact_mut(16).zip(&a[..n]) {
                    dst.copy_from_slice(&a.octets());
                }
            }
        }
    }
}

impl PartialEq for Addresses<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Inner::V4Wire(a), Inner::V4Wire(b)) | (Inner::V6Wire(a), Inner::V6Wire(b)) => a == b,
            (Inner::V4(a), Inner::V4(b)) => a == b,
            (Inner::V6(a), Inner::V6(b)) => a == b,
            (Inner::V4Wire(w), Inner::V4(t)) | (Inner::V4(t), Inner::V4Wire(w)) => {
                w.len() == t.len() * 4 && w.chunks_exact(4).zip(t).all(|(w, a)| *w == a.octets())
            }
            (Inner::V6Wire(w), Inner::V6(t)) | (Inner::V6(t), Inner::V6Wire(w)) => {
                w.len() == t.len() * 16 && w.chunks_exact(16).zip(t).all(|(w, a)| *w == a.octets())
            }
            _ => false,
        }
    }
}

impl Eq for Addresses<'_> {}

impl fmt::Debug for Addresses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Addresses<'a> {
    type Item = IpAddr;
    type IntoIter = AddressIter<'a>;
    fn into_iter(self) -> AddressIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Addresses<'a> {
    type Item = IpAddr;
    type IntoIter = AddressIter<'a>;
    fn into_iter(self) -> AddressIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Addresses`], yielding [`IpAddr`]s.
#[derive(Debug, Clone)]
pub struct AddressIter<'a> {
    list: Addresses<'a>,
    next: usize,
    end: usize,
}

impl Iterator for AddressIter<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        if self.next >= self.end {
            return None;
        }
        let a = self.list.get(self.next);
        self.next += 1;
        a
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end.saturating_sub(self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for AddressIter<'_> {}

impl DoubleEndedIterator for AddressIter<'_> {
    fn next_back(&mut self) -> Option<IpAddr> {
        if self.next >= self.end {
            return None;
        }
        self.end -= 1;
        self.list.get(self.end)
    }
}

impl core::iter::FusedIterator for AddressIter<'_> {}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn wire_and_typed_compare_equal() {
        let wire = [192, 0, 2, 1, 192, 0, 2, 2];
        let typed = [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
        let a = Addresses::from_wire(Family::Ipv4, &wire);
        assert_eq!(a, Addresses::ipv4(&typed));
        assert_ne!(a, Addresses::ipv4(&typed[..1]));
        assert_ne!(
            Addresses::empty(Family::Ipv4),
            Addresses::empty(Family::Ipv6)
        );
        assert_eq!(a.iter().next_back(), Some(typed[1].into()));
        assert_eq!(format!("{a:?}"), "[192.0.2.1, 192.0.2.2]");
    }

    #[test]
    fn from_wire_drops_partial_address() {
        let a = Addresses::from_wire(Family::Ipv6, &[0u8; 20]);
        assert_eq!(a.len(), 1);
        assert_eq!(a.get(1), None);
    }

    #[test]
    fn write_to_packs_typed_addresses() {
        let typed = [Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)];
        let mut out = [0u8; 16];
        Addresses::ipv6(&typed).write_to(&mut out);
        assert_eq!(out, typed[0].octets());
    }
}
