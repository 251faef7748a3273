//! The IP datagram and Ethernet frame around a VRRP message: parse and build.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::err::ipv4::SliceError as V4Error;
use etherparse::err::ipv6::SliceError as V6Error;
use etherparse::{IpNumber, IpPayloadSlice, Ipv4Slice, Ipv6FlowLabel, Ipv6Header, Ipv6Slice};

use crate::addresses::Family;
use crate::checksum::{ChecksumMode, fold, sum_words};
use crate::error::{DatagramError, EmitError, Error};
use crate::packet::{Packet, Version};
use crate::repr::Repr;
use crate::validate::{Validated, ValidationConfig, validate};

/// The IP protocol number of VRRP.
pub const IP_PROTOCOL: u8 = 112;
/// The VRRP IPv4 multicast group, 224.0.0.18.
pub const VRRP_IPV4_MULTICAST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The VRRP IPv6 multicast group, ff02::12.
pub const VRRP_IPV6_MULTICAST: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The IPv4 TOS keepalived sends adverts with (DSCP CS6, "network control").
pub const KEEPALIVED_TOS: u8 = 0xc0;
/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of the IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// Length of an untagged Ethernet II header.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Length of one 802.1Q tag.
pub const VLAN_TAG_LEN: usize = 4;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// A VRRP message with the IP facts a receiver needs: source, destination, TTL / hop limit.
///
/// Build it with [`Datagram::parse_ipv4`] from what an IPv4 raw socket returns, with
/// [`Datagram::parse_ipv6`] from a whole IPv6 packet (from a capture), or with
/// [`Datagram::new`] from an IPv6 raw socket's payload and ancillary data (hop limit from
/// `IPV6_HOPLIMIT`, destination from `IPV6_PKTINFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Datagram<'a> {
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The VRRP message: the IP payload, cut to the length the IP header announces (so Ethernet
    /// padding is not part of it).
    pub payload: &'a [u8],
}

impl<'a> Datagram<'a> {
    /// A datagram from parts (e.g. an IPv6 raw socket's payload and ancillary data).
    #[must_use]
    pub const fn new(src: IpAddr, dst: IpAddr, ttl: u8, payload: &'a [u8]) -> Self {
        Self {
            src,
            dst,
            ttl,
            payload,
        }
    }

    /// Parses an IPv4 datagram, header included, as an IPv4 raw socket returns it.
    ///
    /// The payload is bounded by the header's Total Length (trailing octets are ignored); an
    /// IPsec AH header (VRRPv2 auth type 2) is skipped. Never panics, never allocates.
    ///
    /// # Errors
    /// [`DatagramError`]: truncated or malformed header, a fragment, or a protocol other than 112.
    pub fn parse_ipv4(data: &'a [u8]) -> Result<Self, DatagramError> {
        let ip = Ipv4Slice::from_slice(data).map_err(|e| match e {
            V4Error::Len(l) => DatagramError::Truncated {
                layer: "ipv4",
                required: l.required_len,
                len: l.len,
            },
            V4Error::Header(_) | V4Error::Exts(_) => DatagramError::IpHeader,
        })?;
        let header = ip.header();
        let payload = vrrp_payload(ip.payload())?;
        Ok(Self {
            src: IpAddr::V4(header.source_addr()),
            dst: IpAddr::V4(header.destination_addr()),
            ttl: header.ttl(),
            payload,
        })
    }

    /// Parses an IPv6 packet, fixed header included (extension headers are skipped).
    ///
    /// The payload is bounded by the Payload Length field. Never panics, never allocates.
    ///
    /// # Errors
    /// [`DatagramError`]: truncated or malformed header, a fragment, or a next header other
    /// than 112.
    pub fn parse_ipv6(data: &'a [u8]) -> Result<Self, DatagramError> {
        let ip = Ipv6Slice::from_slice(data).map_err(|e| match e {
            V6Error::Len(l) => DatagramError::Truncated {
                layer: "ipv6",
                required: l.required_len,
                len: l.len,
            },
            V6Error::Header(_) | V6Error::Exts(_) => DatagramError::IpHeader,
        })?;
        let header = ip.header();
        let payload = vrrp_payload(ip.payload())?;
        Ok(Self {
            src: IpAddr::V6(header.source_addr()),
            dst: IpAddr::V6(header.destination_addr()),
            ttl: header.hop_limit(),
            payload,
        })
    }

    /// Parses an IPv4 or IPv6 packet, by its version nibble.
    ///
    /// # Errors
    /// As [`parse_ipv4`](Self::parse_ipv4) and [`parse_ipv6`](Self::parse_ipv6).
    pub fn parse_ip(data: &'a [u8]) -> Result<Self, DatagramError> {
        match data.first().map(|b| b >> 4) {
            Some(4) => Self::parse_ipv4(data),
            Some(6) => Self::parse_ipv6(data),
            Some(_) => Err(DatagramError::IpHeader),
            None => Err(DatagramError::Truncated {
                layer: "ipv4",
                required: 1,
                len: 0,
            }),
        }
    }

    /// The address family (that of the source address).
    #[must_use]
    pub const fn family(&self) -> Family {
        Family::of(self.src)
    }

    /// A view of the VRRP message (unchecked: see [`Packet::check_len`]).
    #[must_use]
    pub const fn packet(&self) -> Packet<&'a [u8]> {
        Packet::new_unchecked(self.payload, self.family())
    }

    /// Decodes the VRRP message without judging it (see [`Repr::parse`]).
    ///
    /// # Errors
    /// As [`Repr::parse`].
    pub fn repr(&self) -> Result<Repr<'a>, Error> {
        let packet = self.packet();
        Repr::parse(&packet)
    }

    /// Validates the message (see [`validate`]).
    ///
    /// # Errors
    /// The first rule the message breaks.
    pub fn validate(&self, cfg: &ValidationConfig<'_>) -> Result<Validated<'a>, Error> {
        validate(self, cfg)
    }
}

/// The VRRP message of an IP payload: refuses fragments and protocols other than 112.
fn vrrp_payload<'a>(payload: &IpPayloadSlice<'a>) -> Result<&'a [u8], DatagramError> {
    if payload.fragmented {
        return Err(DatagramError::Fragment);
    }
    if payload.ip_number != IpNumber(IP_PROTOCOL) {
        return Err(DatagramError::NotVrrp {
            protocol: payload.ip_number.0,
        });
    }
    Ok(payload.payload)
}

/// An Ethernet frame carrying a VRRP datagram (for packet captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame<'a> {
    /// Destination MAC (01:00:5e:00:00:12 or 33:33:00:00:00:12 for multicast adverts).
    pub dst_mac: [u8; 6],
    /// Source MAC (the virtual MAC 00:00:5e:00:01:VRID or …:02:VRID when the Master uses it).
    pub src_mac: [u8; 6],
    /// The VLAN ID of the outermost 802.1Q / 802.1ad tag, if any.
    pub vlan: Option<u16>,
    /// The IP datagram.
    pub datagram: Datagram<'a>,
}

impl<'a> Frame<'a> {
    /// Parses an Ethernet II frame (up to two VLAN tags) carrying IPv4 or IPv6 with VRRP.
    /// Padding and a trailing FCS are ignored (the IP length fields bound the message).
    ///
    /// # Errors
    /// [`DatagramError::Truncated`], [`DatagramError::NotIp`], or the IP-level errors.
    pub fn parse(data: &'a [u8]) -> Result<Self, DatagramError> {
        let truncated = |required| DatagramError::Truncated {
            layer: "ethernet",
            required,
            len: data.len(),
        };
        let header = data
            .get(..ETHERNET_HEADER_LEN)
            .ok_or(truncated(ETHERNET_HEADER_LEN))?;
        let mut dst_mac = [0u8; 6];
        let mut src_mac = [0u8; 6];
        dst_mac.copy_from_slice(&header[..6]);
        src_mac.copy_from_slice(&header[6..12]);
        let mut ether_type = u16::from_be_bytes([header[12], header[13]]);
        let mut offset = ETHERNET_HEADER_LEN;
        let mut vlan = None;
        for _ in 0..2 {
            if !matches!(
                ether_type,
                ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
            ) {
                break;
            }
            let tag = data
                .get(offset..offset + VLAN_TAG_LEN)
                .ok_or(truncated(offset + VLAN_TAG_LEN))?;
            vlan = vlan.or(Some(u16::from_be_bytes([tag[0], tag[1]]) & 0x0fff));
            ether_type = u16::from_be_bytes([tag[2], tag[3]]);
            offset += VLAN_TAG_LEN;
        }
        let ip = &data[offset..];
        let datagram = match ether_type {
            ETHERTYPE_IPV4 => Datagram::parse_ipv4(ip)?,
            ETHERTYPE_IPV6 => Datagram::parse_ipv6(ip)?,
            ether_type => return Err(DatagramError::NotIp { ether_type }),
        };
        Ok(Self {
            dst_mac,
            src_mac,
            vlan,
            datagram,
        })
    }
}

/// The VRRP virtual MAC of `vrid` (RFC 9568 §7.3): 00:00:5e:00:01:VRID for IPv4,
/// 00:00:5e:00:02:VRID for IPv6.
#[must_use]
pub const fn virtual_mac(family: Family, vrid: u8) -> [u8; 6] {
    let kind = match family {
        Family::Ipv4 => 0x01,
        Family::Ipv6 => 0x02,
    };
    [0x00, 0x00, 0x5e, 0x00, kind, vrid]
}

/// The Ethernet multicast MAC of a multicast IP address (RFC 1112 §6.4, RFC 2464 §7):
/// 01:00:5e:00:00:12 for 224.0.0.18 and 33:33:00:00:00:12 for ff02::12. `None` for a unicast
/// address.
#[must_use]
pub const fn multicast_mac(addr: IpAddr) -> Option<[u8; 6]> {
    match addr {
        IpAddr::V4(a) if a.is_multicast() => {
            let o = a.octets();
            Some([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
        }
        IpAddr::V6(a) if a.is_multicast() => {
            let o = a.octets();
            Some([0x33, 0x33, o[12], o[13], o[14], o[15]])
        }
        _ => None,
    }
}

/// The IP header around an emitted VRRP message.
///
/// [`Envelope::new`] gives keepalived's choices: TTL 255, TOS / traffic class 0xc0, IPv4 ID 0,
/// DF clear, flow label 0, and the default checksum mode of the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// IP source (the interface's primary IPv4 address, or its IPv6 link-local address).
    pub src: IpAddr,
    /// IP destination (224.0.0.18, ff02::12, or a unicast peer).
    pub dst: IpAddr,
    /// TTL / hop limit (255).
    pub ttl: u8,
    /// IPv4 TOS / IPv6 traffic class.
    pub tos: u8,
    /// IPv4 Identification.
    pub ipv4_id: u16,
    /// IPv4 Don't Fragment flag.
    pub dont_fragment: bool,
    /// IPv6 flow label (20 bits; higher bits are dropped).
    pub flow_label: u32,
    /// How the VRRP checksum is computed.
    pub checksum: ChecksumMode,
}

impl Envelope {
    /// An envelope from `src` to `dst` for a message of `version`, with keepalived's defaults.
    #[must_use]
    pub const fn new(src: IpAddr, dst: IpAddr, version: Version) -> Self {
        Self {
            src,
            dst,
            ttl: crate::validate::VRRP_TTL,
            tos: KEEPALIVED_TOS,
            ipv4_id: 0,
            dont_fragment: false,
            flow_label: 0,
            checksum: ChecksumMode::default_for(version),
        }
    }

    /// Sets [`checksum`](Self::checksum).
    #[must_use]
    pub const fn with_checksum(mut self, mode: ChecksumMode) -> Self {
        self.checksum = mode;
        self
    }

    /// Sets [`ttl`](Self::ttl).
    #[must_use]
    pub const fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets [`tos`](Self::tos).
    #[must_use]
    pub const fn with_tos(mut self, tos: u8) -> Self {
        self.tos = tos;
        self
    }

    /// Sets [`ipv4_id`](Self::ipv4_id).
    #[must_use]
    pub const fn with_ipv4_id(mut self, id: u16) -> Self {
        self.ipv4_id = id;
        self
    }

    /// Sets [`dont_fragment`](Self::dont_fragment).
    #[must_use]
    pub const fn with_dont_fragment(mut self, df: bool) -> Self {
        self.dont_fragment = df;
        self
    }

    /// Sets [`flow_label`](Self::flow_label).
    #[must_use]
    pub const fn with_flow_label(mut self, label: u32) -> Self {
        self.flow_label = label;
        self
    }

    const fn header_len(&self) -> usize {
        match self.src {
            IpAddr::V4(_) => IPV4_HEADER_LEN,
            IpAddr::V6(_) => IPV6_HEADER_LEN,
        }
    }
}

/// The length of the IP datagram [`emit_ip`] writes.
#[must_use]
pub const fn ip_len(repr: &Repr<'_>, env: &Envelope) -> usize {
    env.header_len() + repr.buffer_len()
}

/// Writes an IPv4 or IPv6 datagram (header without options or extension headers, then the VRRP
/// message) to the start of `buf` and returns its length. Source, destination and the
/// advertised addresses must be of one family.
///
/// # Errors
/// [`EmitError::FamilyMismatch`] or [`EmitError::BufferTooSmall`].
pub fn emit_ip(repr: &Repr<'_>, env: &Envelope, buf: &mut [u8]) -> Result<usize, EmitError> {
    let family = repr.family();
    if Family::of(env.src) != family || Family::of(env.dst) != family {
        return Err(EmitError::FamilyMismatch);
    }
    let len = ip_len(repr, env);
    let buf_len = buf.len();
    let out = buf.get_mut(..len).ok_or(EmitError::BufferTooSmall {
        required: len,
        len: buf_len,
    })?;
    let (head, msg) = out.split_at_mut(env.header_len());
    let msg_len = msg.len();
    match (env.src, env.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            // RFC 791 header without options, written directly (etherparse's `Ipv4Header`
            // goes through an `ArrayVec` and is several times slower here). A VRRP message is at
            // most 8 + 255 × 4 + 8 octets, far below the IPv4 limit.
            let flags: u8 = if env.dont_fragment { 0x40 } else { 0 };
            let [tl0, tl1] = (len as u16).to_be_bytes();
            let [id0, id1] = env.ipv4_id.to_be_bytes();
            let [s0, s1, s2, s3] = src.octets();
            let [d0, d1, d2, d3] = dst.octets();
            head.copy_from_slice(&[
                0x45,
                env.tos,
                tl0,
                tl1,
                id0,
                id1,
                flags,
                0,
                env.ttl,
                IP_PROTOCOL,
                0,
                0,
                s0,
                s1,
                s2,
                s3,
                d0,
                d1,
                d2,
                d3,
            ]);
            let checksum = !fold(sum_words(0, head));
            head[10..12].copy_from_slice(&checksum.to_be_bytes());
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let h = Ipv6Header {
                traffic_class: env.tos,
                flow_label: Ipv6FlowLabel::try_new(env.flow_label & 0x000f_ffff)
                    .unwrap_or_default(),
                payload_length: msg_len as u16,
                next_header: IpNumber(IP_PROTOCOL),
                hop_limit: env.ttl,
                source: src.octets(),
                destination: dst.octets(),
            };
            head.copy_from_slice(&h.to_bytes());
        }
        _ => return Err(EmitError::FamilyMismatch),
    }
    let mut packet = Packet::new_unchecked(msg, family);
    repr.emit(&mut packet, env.src, env.dst, env.checksum);
    Ok(len)
}

/// The Ethernet header of an emitted frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EthernetParams {
    /// Destination MAC.
    pub dst_mac: [u8; 6],
    /// Source MAC.
    pub src_mac: [u8; 6],
    /// An 802.1Q tag with this VLAN ID (12 bits), if any.
    pub vlan: Option<u16>,
}

impl EthernetParams {
    /// The MACs RFC 9568 §7.3 prescribes for an advert of `repr` sent to `dst`: the virtual
    /// MAC of the VRID as source, and the multicast MAC of `dst` as destination (for a unicast
    /// `dst`, the broadcast MAC: replace it with the peer's MAC).
    #[must_use]
    pub const fn for_advert(repr: &Repr<'_>, dst: IpAddr) -> Self {
        let dst_mac = match multicast_mac(dst) {
            Some(m) => m,
            None => [0xff; 6],
        };
        Self {
            dst_mac,
            src_mac: virtual_mac(repr.family(), repr.vrid),
            vlan: None,
        }
    }

    /// Explicit MACs, untagged.
    #[must_use]
    pub const fn new(dst_mac: [u8; 6], src_mac: [u8; 6]) -> Self {
        Self {
            dst_mac,
            src_mac,
            vlan: None,
        }
    }

    /// Sets [`vlan`](Self::vlan).
    #[must_use]
    pub const fn with_vlan(mut self, vlan: u16) -> Self {
        self.vlan = Some(vlan);
        self
    }

    const fn header_len(&self) -> usize {
        match self.vlan {
            Some(_) => ETHERNET_HEADER_LEN + VLAN_TAG_LEN,
            None => ETHERNET_HEADER_LEN,
        }
    }
}

/// The length of the frame [`emit_ethernet`] writes (no padding, no FCS).
#[must_use]
pub const fn ethernet_len(repr: &Repr<'_>, env: &Envelope, eth: &EthernetParams) -> usize {
    eth.header_len() + ip_len(repr, env)
}

/// Writes an Ethernet II frame (optionally 802.1Q-tagged) carrying the datagram of
/// [`emit_ip`] to the start of `buf` and returns its length (no padding, no FCS: what a
/// capture on the sending host shows).
///
/// ```
/// use vrrp_packet::{Addresses, Auth, Envelope, EthernetParams, Frame, Interval, Repr, Version};
///
/// let vips = ["192.0.2.100".parse()?];
/// let repr = Repr { version: Version::V2, vrid: 51, priority: 100,
///     interval: Interval::from_secs(1), auth: Auth::simple_text(b"1717"),
///     addresses: Addresses::ipv4(&vips) };
/// let env = Envelope::new("192.0.2.1".parse()?, "224.0.0.18".parse()?, Version::V2);
/// let eth = EthernetParams::for_advert(&repr, env.dst);
/// let mut buf = [0u8; 128];
/// let n = vrrp_packet::emit_ethernet(&repr, &env, &eth, &mut buf)?;
/// assert_eq!(&buf[..12], &[1, 0, 0x5e, 0, 0, 0x12, 0, 0, 0x5e, 0, 1, 51]);
///
/// let frame = Frame::parse(&buf[..n])?;
/// assert_eq!(frame.datagram.ttl, 255);
/// assert_eq!(frame.datagram.repr()?, repr);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`emit_ip`].
pub fn emit_ethernet(
    repr: &Repr<'_>,
    env: &Envelope,
    eth: &EthernetParams,
    buf: &mut [u8],
) -> Result<usize, EmitError> {
    let len = ethernet_len(repr, env, eth);
    if buf.len() < len {
        return Err(EmitError::BufferTooSmall {
            required: len,
            len: buf.len(),
        });
    }
    let ether_type = match repr.family() {
        Family::Ipv4 => ETHERTYPE_IPV4,
        Family::Ipv6 => ETHERTYPE_IPV6,
    };
    let hl = eth.header_len();
    emit_ip(repr, env, &mut buf[hl..len])?;
    buf[..6].copy_from_slice(&eth.dst_mac);
    buf[6..12].copy_from_slice(&eth.src_mac);
    if let Some(vlan) = eth.vlan {
        buf[12..14].copy_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        buf[14..16].copy_from_slice(&(vlan & 0x0fff).to_be_bytes());
        buf[16..18].copy_from_slice(&ether_type.to_be_bytes());
    } else {
        buf[12..14].copy_from_slice(&ether_type.to_be_bytes());
    }
    Ok(len)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::addresses::Addresses;
    use crate::golden::*;
    use crate::repr::{Auth, Interval};
    use crate::validate::ValidationConfig;

    /// keepalived's VRRPv3 unicast advert as its raw socket sent it (IPv4 header + VRRP).
    static KEEPALIVED_V4_DATAGRAM: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x36, 0xa9, //
        192, 0, 2, 1, 192, 0, 2, 2, //
        0x31, 0x2c, 0x6e, 0x01, 0x00, 0x32, 0x19, 0x8f, 0xc0, 0x00, 0x02, 0x90,
    ];

    /// keepalived's VRRPv3 IPv6 advert, IPv6 header (traffic class 0xc0, flow label 0x304a5).
    static KEEPALIVED_V6_HEADER: [u8; 40] = [
        0x6c, 0x03, 0x04, 0xa5, 0x00, 0x28, 0x70, 0xff, //
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, //
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12,
    ];

    fn unicast_repr() -> Repr<'static> {
        static ADDR: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 144)];
        Repr {
            version: Version::V3,
            vrid: 44,
            priority: 110,
            interval: Interval::from_centis(50),
            auth: Auth::None,
            addresses: Addresses::ipv4(&ADDR),
        }
    }

    #[test]
    fn parse_ipv4_datagram() {
        let d = Datagram::parse_ipv4(&KEEPALIVED_V4_DATAGRAM).unwrap();
        assert_eq!((d.src, d.dst, d.ttl), (SRC4, PEER4, 255));
        assert_eq!(d.payload, &KEEPALIVED_V3_UNICAST[..]);
        assert_eq!(d.repr(), Ok(unicast_repr()));
        assert_eq!(Datagram::parse_ip(&KEEPALIVED_V4_DATAGRAM), Ok(d));
    }

    #[test]
    fn emit_ipv4_is_byte_identical_to_keepalived() {
        let env = Envelope::new(SRC4, PEER4, Version::V3).with_ipv4_id(1);
        let mut buf = [0u8; 64];
        let n = emit_ip(&unicast_repr(), &env, &mut buf).unwrap();
        assert_eq!(n, ip_len(&unicast_repr(), &env));
        assert_eq!(&buf[..n], &KEEPALIVED_V4_DATAGRAM[..]);
    }

    #[test]
    fn ipv6_parse_and_emit_match_keepalived() {
        let mut packet = [0u8; 80];
        packet[..40].copy_from_slice(&KEEPALIVED_V6_HEADER);
        packet[40..].copy_from_slice(&KEEPALIVED_V3_V6);
        let d = Datagram::parse_ipv6(&packet).unwrap();
        assert_eq!((d.src, d.dst, d.ttl), (SRC6, MCAST6, 255));
        assert_eq!(d.payload, &KEEPALIVED_V3_V6[..]);
        let repr = d.repr().unwrap();
        let env = Envelope::new(SRC6, MCAST6, Version::V3).with_flow_label(0x304a5);
        let mut out = [0u8; 80];
        assert_eq!(emit_ip(&repr, &env, &mut out), Ok(80));
        assert_eq!(out, packet);
    }

    #[test]
    fn ethernet_padding_and_vlan_are_tolerated() {
        // A 60-octet minimum frame: 14 + 32 + 14 octets of padding, then a 4-octet FCS.
        let mut frame = [0u8; 64];
        frame[..6].copy_from_slice(&[1, 0, 0x5e, 0, 0, 0x12]);
        frame[6..12].copy_from_slice(&virtual_mac(Family::Ipv4, 44));
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        frame[14..46].copy_from_slice(&KEEPALIVED_V4_DATAGRAM);
        frame[46..].fill(0xee);
        let f = Frame::parse(&frame).unwrap();
        assert_eq!(f.vlan, None);
        assert_eq!(f.src_mac, [0, 0, 0x5e, 0, 1, 44]);
        assert_eq!(f.datagram.payload, &KEEPALIVED_V3_UNICAST[..]);

        let mut tagged = [0u8; 68];
        tagged[..12].copy_from_slice(&frame[..12]);
        tagged[12..16].copy_from_slice(&[0x81, 0x00, 0x20, 0x07]);
        tagged[16..].copy_from_slice(&frame[12..]);
        let f = Frame::parse(&tagged).unwrap();
        assert_eq!(f.vlan, Some(7));
        assert_eq!(f.datagram.repr(), Ok(unicast_repr()));
    }

    #[test]
    fn emit_ethernet_tagged_round_trips() {
        let repr = unicast_repr();
        let env = Envelope::new(SRC4, MCAST4, Version::V3);
        let eth = EthernetParams::for_advert(&repr, MCAST4).with_vlan(100);
        let mut buf = [0u8; 128];
        let n = emit_ethernet(&repr, &env, &eth, &mut buf).unwrap();
        assert_eq!(n, 18 + 20 + 12);
        assert_eq!(n, ethernet_len(&repr, &env, &eth));
        let f = Frame::parse(&buf[..n]).unwrap();
        assert_eq!((f.dst_mac, f.vlan), ([1, 0, 0x5e, 0, 0, 0x12], Some(100)));
        assert_eq!(f.datagram.ttl, 255);
        assert_eq!(f.datagram.repr(), Ok(repr));
        let tos = buf[18 + 1];
        assert_eq!(tos, KEEPALIVED_TOS);
    }

    #[test]
    fn datagram_errors() {
        let mut other = KEEPALIVED_V4_DATAGRAM;
        other[9] = 17;
        let e = Datagram::parse_ipv4(&other).unwrap_err();
        assert_eq!(e, DatagramError::NotVrrp { protocol: 17 });
        assert_eq!(e.rule_name(), "not_vrrp");

        let mut frag = KEEPALIVED_V4_DATAGRAM;
        frag[6] = 0x20; // more fragments
        assert_eq!(Datagram::parse_ipv4(&frag), Err(DatagramError::Fragment));

        let e = Datagram::parse_ipv4(&KEEPALIVED_V4_DATAGRAM[..31]).unwrap_err();
        assert!(
            matches!(
                e,
                DatagramError::Truncated {
                    required: 32,
                    len: 31,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.rule_name(), "ip_length");

        let mut bad = KEEPALIVED_V4_DATAGRAM;
        bad[0] = 0x44; // IHL 4
        assert_eq!(Datagram::parse_ipv4(&bad), Err(DatagramError::IpHeader));
        assert_eq!(Datagram::parse_ip(&[0x50]), Err(DatagramError::IpHeader));
        assert!(Datagram::parse_ip(&[]).is_err());

        let mut arp = [0u8; 42];
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(
            Frame::parse(&arp),
            Err(DatagramError::NotIp { ether_type: 0x0806 })
        );
        assert!(matches!(
            Frame::parse(&arp[..13]),
            Err(DatagramError::Truncated { .. })
        ));
    }

    #[test]
    fn ipv4_ah_header_is_skipped() {
        // VRRPv2 auth type 2 (RFC 2338 §5.3.6.3): IP protocol 51 (AH, RFC 4302) with next
        // header 112. AH: next header, payload length (24 / 4 - 2 = 4), reserved, SPI,
        // sequence number, 12-octet ICV (HMAC-MD5-96), kept opaque.
        let mut msg = V2_PASS;
        let mut p = Packet::new_unchecked(&mut msg[..], Family::Ipv4);
        p.set_auth_type(2);
        p.set_auth_data([0; 8]);
        p.fill_checksum(ChecksumMode::V2, SRC4, MCAST4);
        let mut dg = [0u8; 20 + 24 + 20];
        dg[..20].copy_from_slice(&[
            0x45, 0xc0, 0, 64, 0, 0, 0, 0, 255, 51, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18,
        ]);
        dg[20..32].copy_from_slice(&[112, 4, 0, 0, 192, 0, 2, 1, 0, 0, 0, 7]);
        dg[32..44].fill(0x5a);
        dg[44..].copy_from_slice(&msg);
        let d = Datagram::parse_ipv4(&dg).unwrap();
        assert_eq!(d.payload, &msg[..]);
        let repr = d.repr().unwrap();
        assert_eq!(repr.auth, Auth::Ah([0; 8]));
        let cfg = ValidationConfig::new(Version::V2).with_auth(Auth::Ah([0; 8]));
        assert!(d.validate(&cfg).is_ok());
    }

    #[test]
    fn emit_errors() {
        let repr = unicast_repr();
        let env = Envelope::new(SRC6, MCAST6, Version::V3);
        let mut buf = [0u8; 128];
        assert_eq!(
            emit_ip(&repr, &env, &mut buf),
            Err(EmitError::FamilyMismatch)
        );
        let env = Envelope::new(SRC4, MCAST4, Version::V3);
        assert_eq!(
            emit_ip(&repr, &env, &mut buf[..31]),
            Err(EmitError::BufferTooSmall {
                required: 32,
                len: 31
            })
        );
        let eth = EthernetParams::new([0xff; 6], [2, 0, 0, 0, 0, 1]);
        assert_eq!(
            emit_ethernet(&repr, &env, &eth, &mut buf[..45]),
            Err(EmitError::BufferTooSmall {
                required: 46,
                len: 45
            })
        );
    }

    #[test]
    fn macs() {
        assert_eq!(virtual_mac(Family::Ipv6, 7), [0, 0, 0x5e, 0, 2, 7]);
        assert_eq!(multicast_mac(MCAST4), Some([1, 0, 0x5e, 0, 0, 0x12]));
        assert_eq!(multicast_mac(MCAST6), Some([0x33, 0x33, 0, 0, 0, 0x12]));
        assert_eq!(multicast_mac(PEER4), None);
        let repr = unicast_repr();
        assert_eq!(EthernetParams::for_advert(&repr, PEER4).dst_mac, [0xff; 6]);
    }
}
