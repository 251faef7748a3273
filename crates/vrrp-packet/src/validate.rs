//! Receive validation (RFC 9568 §7.1, RFC 3768 §7.1).

use core::net::IpAddr;

use crate::addresses::{Addresses, Family};
use crate::checksum::{ChecksumMode, ChecksumModes};
use crate::datagram::Datagram;
use crate::error::Error;
use crate::packet::{HEADER_LEN, Packet, Version, matching_modes};
use crate::repr::{Auth, Interval, Repr};

/// The TTL / hop limit every VRRP packet is sent with and must arrive with.
pub const VRRP_TTL: u8 = 255;

/// What a receiving virtual router expects; the input of [`validate`].
///
/// Start from [`ValidationConfig::new`] (one version, its default checksum mode) or
/// [`ValidationConfig::any`] (any version, any checksum mode: for packet inspection), then set
/// the fields the router knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationConfig<'a> {
    /// The version the router runs; `None` accepts 2 and 3.
    pub version: Option<Version>,
    /// The VRID configured on the interface; `None` accepts any.
    pub vrid: Option<u8>,
    /// The VRRPv2 authentication configured: type and, for simple text, the password must match.
    /// `None` skips both checks.
    pub auth: Option<Auth>,
    /// The checksum modes accepted. A packet whose checksum matches none of them is rejected
    /// with [`Error::Checksum`].
    pub checksum_modes: ChecksumModes,
    /// Check that the TTL / hop limit is 255 (keepalived skips this for unicast peers).
    pub check_ttl: bool,
    /// The configured advertisement interval: VRRPv2 rejects a different one
    /// ([`Error::IntervalMismatch`]); VRRPv3 reports it in [`Validated::interval_matches`].
    pub interval: Option<Interval>,
    /// The configured addresses: VRRPv2 rejects a different list unless the sender is the owner
    /// ([`Error::AddressList`]); VRRPv3 reports it in [`Validated::address_list_matches`].
    pub addresses: Option<Addresses<'a>>,
}

impl<'a> ValidationConfig<'a> {
    /// A router running `version`: accepts the default checksum mode of that version
    /// ([`ChecksumMode::default_for`]), checks the TTL, and nothing else yet. For VRRPv3 over
    /// IPv4 you will usually also accept [`ChecksumMode::V3NoPseudo`] and
    /// [`ChecksumMode::V3PseudoMcast`] and latch what the peer uses.
    #[must_use]
    pub const fn new(version: Version) -> Self {
        Self {
            version: Some(version),
            vrid: None,
            auth: None,
            checksum_modes: ChecksumMode::default_for(version).as_flag(),
            check_ttl: true,
            interval: None,
            addresses: None,
        }
    }

    /// Any version, every checksum mode, TTL checked: what a packet inspector wants.
    #[must_use]
    pub const fn any() -> Self {
        Self {
            version: None,
            vrid: None,
            auth: None,
            checksum_modes: ChecksumModes::all(),
            check_ttl: true,
            interval: None,
            addresses: None,
        }
    }

    /// Sets [`vrid`](Self::vrid).
    #[must_use]
    pub const fn with_vrid(mut self, vrid: u8) -> Self {
        self.vrid = Some(vrid);
        self
    }

    /// Sets [`auth`](Self::auth).
    #[must_use]
    pub const fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sets [`checksum_modes`](Self::checksum_modes).
    #[must_use]
    pub const fn with_checksum_modes(mut self, modes: ChecksumModes) -> Self {
        self.checksum_modes = modes;
        self
    }

    /// Sets [`check_ttl`](Self::check_ttl).
    #[must_use]
    pub const fn with_check_ttl(mut self, check: bool) -> Self {
        self.check_ttl = check;
        self
    }

    /// Sets [`interval`](Self::interval).
    #[must_use]
    pub const fn with_interval(mut self, interval: Interval) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Sets [`addresses`](Self::addresses).
    #[must_use]
    pub const fn with_addresses(mut self, addresses: Addresses<'a>) -> Self {
        self.addresses = Some(addresses);
        self
    }
}

impl Default for ValidationConfig<'_> {
    fn default() -> Self {
        Self::any()
    }
}

/// An advertisement that passed [`validate`], with what the receiver needs beyond the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Validated<'a> {
    /// The advertisement.
    pub repr: Repr<'a>,
    /// IP source (the sender's primary address; the Master election tie-breaker).
    pub src: IpAddr,
    /// IP destination (224.0.0.18, ff02::12, or a unicast address).
    pub dst: IpAddr,
    /// TTL / hop limit.
    pub ttl: u8,
    /// The Checksum field.
    pub checksum: u16,
    /// Every checksum mode whose computation matches (at least one of them is accepted). A
    /// receiver in auto mode latches the peer's variant from this.
    pub checksum_modes: ChecksumModes,
    /// Whether the address list equals the configured one (`None` when none is configured).
    /// VRRPv3 only logs a mismatch (RFC 9568 §7.1); for VRRPv2 a mismatch from a non-owner was
    /// already rejected, so `Some(false)` means the sender is the owner (priority 255).
    pub address_list_matches: Option<bool>,
    /// Whether the interval equals the configured one (`None` when none is configured). VRRPv3
    /// only logs a mismatch; a VRRPv2 mismatch was already rejected.
    pub interval_matches: Option<bool>,
}

/// Validates a VRRP message received in `datagram` against what the router expects.
///
/// Checks, in order, each failure its own [`Error`] variant: TTL/hop limit 255, version, type 1,
/// complete length, checksum (one accepted mode matches), VRID, then for VRRPv3 address count
/// ≠ 0, interval ≠ 0 and (IPv6) a link-local first address, and for VRRPv2 auth type, auth data,
/// interval and address list (owner exempt). Never panics, never allocates.
///
/// ```
/// use vrrp_packet::{ChecksumModes, Datagram, ValidationConfig, Version, validate};
///
/// // An IPv4 datagram as a raw socket returns it: keepalived VRRPv3, VRID 51, 0.05 s.
/// let mut buf = [0u8; 64];
/// let bytes = {
///     use vrrp_packet::{Addresses, Auth, Envelope, Interval, Repr};
///     let vips = ["192.0.2.100".parse()?];
///     let repr = Repr { version: Version::V3, vrid: 51, priority: 100,
///         interval: Interval::from_centis(5), auth: Auth::None,
///         addresses: Addresses::ipv4(&vips) };
///     let env = Envelope::new("192.0.2.1".parse()?, "224.0.0.18".parse()?, Version::V3);
///     let n = vrrp_packet::emit_ip(&repr, &env, &mut buf)?;
///     &buf[..n]
/// };
/// let datagram = Datagram::parse_ipv4(bytes)?;
/// let cfg = ValidationConfig::new(Version::V3).with_vrid(51);
/// let advert = validate(&datagram, &cfg)?;
/// assert_eq!(advert.repr.priority, 100);
/// assert!(advert.checksum_modes.contains(ChecksumModes::V3_PSEUDO));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The first rule the message breaks.
#[inline]
pub fn validate<'a>(
    datagram: &Datagram<'a>,
    cfg: &ValidationConfig<'_>,
) -> Result<Validated<'a>, Error> {
    if cfg.check_ttl && datagram.ttl != VRRP_TTL {
        return Err(Error::Ttl { ttl: datagram.ttl });
    }
    let buf = datagram.payload;
    let family = datagram.family();
    if buf.len() < HEADER_LEN {
        return Err(Error::Length {
            required: HEADER_LEN,
            len: buf.len(),
        });
    }
    let packet = Packet::new_unchecked(buf, family);
    let version = packet.version();
    if let Some(expected) = cfg.version {
        if version != expected.number() {
            return Err(Error::Version { version });
        }
    }
    // Version, type and completeness.
    let repr = Repr::parse(&packet)?;

    // Repr::parse checked that the buffer holds the whole message.
    let msg = buf.get(..repr.buffer_len()).unwrap_or(buf);
    let checksum_modes = matching_modes(msg, family == Family::Ipv6, datagram.src, datagram.dst);
    if !checksum_modes.intersects(cfg.checksum_modes) {
        return Err(Error::Checksum {
            checksum: packet.checksum(),
            matching: checksum_modes,
        });
    }
    if let Some(expected) = cfg.vrid {
        if repr.vrid != expected {
            return Err(Error::VrId {
                vrid: repr.vrid,
                expected,
            });
        }
    }
    let address_list_matches = cfg.addresses.map(|a| a == repr.addresses);
    let interval_matches = cfg
        .interval
        .map(|i| i.wire_value(repr.version) == repr.interval.wire_value(repr.version));
    match repr.version {
        Version::V3 => {
            if repr.addresses.is_empty() {
                return Err(Error::AddressCount);
            }
            if repr.interval.as_centis() == 0 {
                return Err(Error::IntervalZero);
            }
            if family == Family::Ipv6 {
                let link_local = matches!(
                    repr.addresses.first(),
                    Some(IpAddr::V6(a)) if a.is_unicast_link_local()
                );
                if !link_local {
                    return Err(Error::Ipv6LinkLocal);
                }
            }
        }
        Version::V2 => {
            if let Some(expected) = cfg.auth {
                if repr.auth.auth_type() != expected.auth_type() {
                    return Err(Error::AuthType {
                        received: repr.auth.auth_type(),
                        expected: expected.auth_type(),
                    });
                }
                let data_checked = matches!(expected, Auth::SimpleText(_));
                if data_checked && repr.auth.data() != expected.data() {
                    return Err(Error::AuthData);
                }
            }
            if interval_matches == Some(false) {
                return Err(Error::IntervalMismatch {
                    received: repr.interval.wire_value(Version::V2) as u8,
                    expected: cfg.interval.map_or(0, |i| i.wire_value(Version::V2) as u8),
                });
            }
            if address_list_matches == Some(false) && repr.priority != 255 {
                return Err(Error::AddressList);
            }
        }
    }
    Ok(Validated {
        repr,
        src: datagram.src,
        dst: datagram.dst,
        ttl: datagram.ttl,
        checksum: packet.checksum(),
        checksum_modes,
        address_list_matches,
        interval_matches,
    })
}

#[cfg(test)]
mod test {
    use core::net::Ipv4Addr;

    use super::*;
    use crate::golden::*;

    /// Copies `bytes`, applies `edit` to the packet, refills the checksum with `mode`.
    fn edited<const N: usize>(
        bytes: &[u8; N],
        family: Family,
        mode: ChecksumMode,
        src: IpAddr,
        dst: IpAddr,
        edit: impl FnOnce(&mut Packet<&mut [u8]>),
    ) -> [u8; N] {
        let mut out = *bytes;
        let mut p = Packet::new_unchecked(&mut out[..], family);
        edit(&mut p);
        p.fill_checksum(mode, src, dst);
        out
    }

    fn v2_cfg() -> ValidationConfig<'static> {
        ValidationConfig::new(Version::V2)
            .with_vrid(51)
            .with_auth(Auth::simple_text(b"1717"))
            .with_interval(Interval::from_secs(1))
            .with_addresses(Addresses::ipv4(&V2_PASS_ADDRS))
    }

    fn v2(bytes: &[u8]) -> Datagram<'_> {
        Datagram::new(SRC4, MCAST4, 255, bytes)
    }

    #[test]
    fn accepts_valid_adverts() {
        let ok = validate(&v2(&V2_PASS), &v2_cfg()).unwrap();
        assert_eq!(ok.repr.vrid, 51);
        assert_eq!(ok.checksum_modes, ChecksumModes::V2);
        assert_eq!(ok.checksum, 0x54f7);
        assert_eq!(ok.address_list_matches, Some(true));
        assert_eq!(ok.interval_matches, Some(true));

        let cfg = ValidationConfig::new(Version::V3).with_vrid(51);
        let ok = validate(&Datagram::new(SRC4, MCAST4, 255, &V3_V4), &cfg).unwrap();
        assert_eq!(ok.address_list_matches, None);
        let ok = validate(&Datagram::new(SRC6, MCAST6, 255, &V3_V6), &cfg).unwrap();
        assert_eq!(ok.repr.family(), Family::Ipv6);
        let cfg = ValidationConfig::any();
        assert!(validate(&Datagram::new(SRC6, MCAST6, 255, &KEEPALIVED_V3_V6), &cfg).is_ok());
        assert!(
            validate(
                &Datagram::new(SRC4, PEER4, 255, &KEEPALIVED_V3_UNICAST),
                &cfg
            )
            .is_ok()
        );
    }

    #[test]
    fn error_ttl() {
        let err = validate(&Datagram::new(SRC4, MCAST4, 254, &V2_PASS), &v2_cfg());
        assert_eq!(err, Err(Error::Ttl { ttl: 254 }));
        assert_eq!(err.unwrap_err().rule_name(), "ttl");
        // Unicast peers may be configured to skip it (as keepalived does).
        let cfg = v2_cfg().with_check_ttl(false);
        assert!(validate(&Datagram::new(SRC4, MCAST4, 64, &V2_PASS), &cfg).is_ok());
    }

    #[test]
    fn error_version() {
        // A VRRPv3 message reaching a VRRPv2 router.
        let err = validate(&Datagram::new(SRC4, MCAST4, 255, &V3_V4), &v2_cfg()).unwrap_err();
        assert_eq!(err, Error::Version { version: 3 });
        assert_eq!(err.rule_name(), "version");
        // An unknown version, any config.
        let bytes = edited(
            &V3_V4,
            Family::Ipv4,
            ChecksumMode::V3Pseudo,
            SRC4,
            MCAST4,
            |p| p.set_version_type(4, 1),
        );
        let err = validate(
            &Datagram::new(SRC4, MCAST4, 255, &bytes),
            &ValidationConfig::any(),
        );
        assert_eq!(err, Err(Error::Version { version: 4 }));
    }

    #[test]
    fn error_type() {
        let bytes = edited(
            &V2_PASS,
            Family::Ipv4,
            ChecksumMode::V2,
            SRC4,
            MCAST4,
            |p| p.set_version_type(2, 2),
        );
        let err = validate(&v2(&bytes), &v2_cfg()).unwrap_err();
        assert_eq!(err, Error::Type { kind: 2 });
        assert_eq!(err.rule_name(), "type");
    }

    #[test]
    fn error_length() {
        let err = validate(&v2(&V2_PASS[..19]), &v2_cfg()).unwrap_err();
        assert_eq!(
            err,
            Error::Length {
                required: 20,
                len: 19
            }
        );
        assert_eq!(err.rule_name(), "length");
        let err = validate(&v2(&V2_PASS[..5]), &v2_cfg()).unwrap_err();
        assert_eq!(
            err,
            Error::Length {
                required: 8,
                len: 5
            }
        );
    }

    #[test]
    fn error_checksum() {
        let mut bytes = V2_PASS;
        bytes[7] ^= 1;
        let err = validate(&v2(&bytes), &v2_cfg()).unwrap_err();
        assert_eq!(
            err,
            Error::Checksum {
                checksum: 0x54f6,
                matching: ChecksumModes::empty()
            }
        );
        assert_eq!(err.rule_name(), "checksum");
        // A Cisco-style v3 checksum reaching a router that accepts only the pseudo-header mode.
        let bytes = edited(
            &V3_V4,
            Family::Ipv4,
            ChecksumMode::V3NoPseudo,
            SRC4,
            MCAST4,
            |_| {},
        );
        let cfg = ValidationConfig::new(Version::V3);
        let err = validate(&Datagram::new(SRC4, MCAST4, 255, &bytes), &cfg).unwrap_err();
        assert_eq!(
            err,
            Error::Checksum {
                checksum: 0xa861,
                matching: ChecksumModes::V3_NO_PSEUDO
            }
        );
        // Accepting it too: the receiver learns the peer's mode.
        let cfg = cfg.with_checksum_modes(ChecksumModes::V3_PSEUDO | ChecksumModes::V3_NO_PSEUDO);
        let ok = validate(&Datagram::new(SRC4, MCAST4, 255, &bytes), &cfg).unwrap();
        assert_eq!(ok.checksum_modes, ChecksumModes::V3_NO_PSEUDO);
    }

    #[test]
    fn error_vrid() {
        let cfg = v2_cfg().with_vrid(52);
        let err = validate(&v2(&V2_PASS), &cfg).unwrap_err();
        assert_eq!(
            err,
            Error::VrId {
                vrid: 51,
                expected: 52
            }
        );
        assert_eq!(err.rule_name(), "vrid");
    }

    #[test]
    fn error_address_count() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&V3_V4[..8]);
        let bytes = edited(
            &bytes,
            Family::Ipv4,
            ChecksumMode::V3Pseudo,
            SRC4,
            MCAST4,
            |p| p.set_addr_count(0),
        );
        let err = validate(
            &Datagram::new(SRC4, MCAST4, 255, &bytes),
            &ValidationConfig::any(),
        );
        assert_eq!(err, Err(Error::AddressCount));
        assert_eq!(Error::AddressCount.rule_name(), "address_count");
    }

    #[test]
    fn error_interval_zero() {
        let bytes = edited(
            &V3_V4,
            Family::Ipv4,
            ChecksumMode::V3Pseudo,
            SRC4,
            MCAST4,
            |p| p.set_max_adver_int(0),
        );
        let err = validate(
            &Datagram::new(SRC4, MCAST4, 255, &bytes),
            &ValidationConfig::any(),
        );
        assert_eq!(err, Err(Error::IntervalZero));
        assert_eq!(Error::IntervalZero.rule_name(), "interval");
    }

    #[test]
    fn error_interval_mismatch_v2_only() {
        let cfg = v2_cfg().with_interval(Interval::from_secs(3));
        let err = validate(&v2(&V2_PASS), &cfg).unwrap_err();
        assert_eq!(
            err,
            Error::IntervalMismatch {
                received: 1,
                expected: 3
            }
        );
        assert_eq!(err.rule_name(), "interval_mismatch");
        // VRRPv3 reports it and accepts (RFC 9568 §7.1 / §6.4.2: the Backup adopts it).
        let cfg = ValidationConfig::new(Version::V3).with_interval(Interval::from_centis(100));
        let ok = validate(&Datagram::new(SRC4, MCAST4, 255, &V3_V4), &cfg).unwrap();
        assert_eq!(ok.interval_matches, Some(false));
    }

    #[test]
    fn error_ipv6_link_local() {
        let bytes = edited(
            &V3_V6,
            Family::Ipv6,
            ChecksumMode::V3Pseudo,
            SRC6,
            MCAST6,
            |p| p.addresses_mut()[..2].copy_from_slice(&[0x20, 0x01]),
        );
        let err = validate(
            &Datagram::new(SRC6, MCAST6, 255, &bytes),
            &ValidationConfig::any(),
        );
        assert_eq!(err, Err(Error::Ipv6LinkLocal));
        assert_eq!(Error::Ipv6LinkLocal.rule_name(), "ipv6_link_local");
    }

    #[test]
    fn error_auth_type() {
        let cfg = v2_cfg().with_auth(Auth::None);
        let err = validate(&v2(&V2_PASS), &cfg).unwrap_err();
        assert_eq!(
            err,
            Error::AuthType {
                received: 1,
                expected: 0
            }
        );
        assert_eq!(err.rule_name(), "auth_type");
    }

    #[test]
    fn error_auth_data() {
        let cfg = v2_cfg().with_auth(Auth::simple_text(b"1718"));
        let err = validate(&v2(&V2_PASS), &cfg).unwrap_err();
        assert_eq!(err, Error::AuthData);
        assert_eq!(err.rule_name(), "auth_data");
        // AH data is opaque: only the type is compared.
        let bytes = edited(
            &V2_PASS,
            Family::Ipv4,
            ChecksumMode::V2,
            SRC4,
            MCAST4,
            |p| p.set_auth_type(2),
        );
        let cfg = v2_cfg().with_auth(Auth::Ah([0; 8]));
        assert!(validate(&v2(&bytes), &cfg).is_ok());
    }

    #[test]
    fn error_address_list_v2_but_not_from_owner_or_v3() {
        static OTHER: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 101)];
        let cfg = v2_cfg().with_addresses(Addresses::ipv4(&OTHER));
        let err = validate(&v2(&V2_PASS), &cfg).unwrap_err();
        assert_eq!(err, Error::AddressList);
        assert_eq!(err.rule_name(), "address_list");
        // The owner (priority 255) is exempt.
        let cfg = ValidationConfig::new(Version::V2).with_addresses(Addresses::ipv4(&OTHER));
        let ok = validate(&v2(&V2_NOAUTH_3), &cfg).unwrap();
        assert_eq!(ok.address_list_matches, Some(false));
        // VRRPv3 reports the mismatch and accepts.
        let cfg = ValidationConfig::new(Version::V3).with_addresses(Addresses::ipv4(&OTHER));
        let ok = validate(&Datagram::new(SRC4, MCAST4, 255, &V3_V4), &cfg).unwrap();
        assert_eq!(ok.address_list_matches, Some(false));
    }
}
