//! Ethernet MAC addresses and the VRRP virtual MACs.

use core::fmt;
use core::str::FromStr;

/// An Ethernet (EUI-48) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

/// The address family of a VRRP instance, which selects its virtual MAC prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: `00:00:5e:00:01:<vrid>` (RFC 5798 §7.3).
    V4,
    /// IPv6: `00:00:5e:00:02:<vrid>` (RFC 5798 §7.3).
    V6,
}

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Self = Self([0xff; 6]);

    /// The VRRP virtual router MAC for `vrid` (RFC 5798 §7.3).
    ///
    /// ```
    /// use lvs_vip::{Family, MacAddr};
    /// assert_eq!(MacAddr::vrrp(Family::V4, 51).to_string(), "00:00:5e:00:01:33");
    /// assert_eq!(MacAddr::vrrp(Family::V6, 1).to_string(), "00:00:5e:00:02:01");
    /// ```
    pub fn vrrp(family: Family, vrid: u8) -> Self {
        let f = match family {
            Family::V4 => 1,
            Family::V6 => 2,
        };
        Self([0x00, 0x00, 0x5e, 0x00, f, vrid])
    }

    /// The IPv6 multicast MAC for an IPv6 multicast group (RFC 2464 §7): `33:33` + low 32 bits.
    pub fn ipv6_multicast(group: std::net::Ipv6Addr) -> Self {
        let o = group.octets();
        Self([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// The six octets.
    pub fn octets(self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

/// A string that is not `xx:xx:xx:xx:xx:xx`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a MAC address (expected six hex octets separated by ':')")]
pub struct MacParseError(pub String);

impl FromStr for MacAddr {
    type Err = MacParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacParseError(s.to_owned());
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for o in &mut out {
            let p = parts.next().ok_or_else(err)?;
            if p.len() != 2 {
                return Err(err());
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrrp_macs_and_parsing() {
        assert_eq!(
            MacAddr::vrrp(Family::V4, 255),
            "00:00:5e:00:01:ff".parse().unwrap()
        );
        assert_eq!(MacAddr::vrrp(Family::V6, 17).0, [0, 0, 0x5e, 0, 2, 17]);
        assert_eq!(
            MacAddr::ipv6_multicast("ff02::1".parse().unwrap()).to_string(),
            "33:33:00:00:00:01"
        );
        for bad in [
            "",
            "00:00:5e:00:01",
            "00:00:5e:00:01:33:44",
            "0:00:5e:00:01:33",
            "zz:00:5e:00:01:33",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
