//! Property tests: `parse(emit(r)) == r` for every version, family and authentication, at the
//! message, datagram and frame level; arbitrary and mutated bytes never panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vrrp_packet::{
    Addresses, Auth, ChecksumMode, Datagram, Envelope, EthernetParams, Family, Frame, Interval,
    Packet, Repr, ValidationConfig, Version, emit_ethernet, emit_ip, validate,
};

/// An owned description of a `Repr`, so proptest can generate and shrink it.
#[derive(Debug, Clone)]
struct Advert {
    version: Version,
    vrid: u8,
    priority: u8,
    interval: Interval,
    auth: Auth,
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
    family: Family,
}

impl Advert {
    fn repr(&self) -> Repr<'_> {
        Repr {
            version: self.version,
            vrid: self.vrid,
            priority: self.priority,
            interval: self.interval,
            auth: self.auth,
            addresses: match self.family {
                Family::Ipv4 => Addresses::ipv4(&self.v4),
                Family::Ipv6 => Addresses::ipv6(&self.v6),
            },
        }
    }

    fn endpoints(&self, unicast: bool) -> (IpAddr, IpAddr) {
        match (self.family, unicast) {
            (Family::Ipv4, false) => ("192.0.2.1".parse().unwrap(), "224.0.0.18".parse().unwrap()),
            (Family::Ipv4, true) => ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()),
            (Family::Ipv6, false) => ("fe80::1".parse().unwrap(), "ff02::12".parse().unwrap()),
            (Family::Ipv6, true) => ("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap()),
        }
    }
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::None),
        any::<[u8; 8]>().prop_map(Auth::SimpleText),
        any::<[u8; 8]>().prop_map(Auth::Ah),
        (3u8..=255, any::<[u8; 8]>())
            .prop_map(|(auth_type, data)| Auth::Unknown { auth_type, data }),
    ]
}

fn addr_count() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..8, 1 => 8usize..=255]
}

fn advert() -> impl Strategy<Value = Advert> {
    let v2 = (any::<u8>(), any::<u8>(), any::<u8>(), auth(), addr_count()).prop_flat_map(
        |(vrid, priority, secs, auth, n)| {
            proptest::collection::vec(any::<[u8; 4]>().prop_map(Ipv4Addr::from), n).prop_map(
                move |v4| Advert {
                    version: Version::V2,
                    vrid,
                    priority,
                    interval: Interval::from_secs(secs),
                    auth,
                    v4,
                    v6: Vec::new(),
                    family: Family::Ipv4,
                },
            )
        },
    );
    let v3 = (
        any::<u8>(),
        any::<u8>(),
        0u16..=0x0fff,
        any::<bool>(),
        addr_count(),
    )
        .prop_flat_map(|(vrid, priority, centis, ipv6, n)| {
            (
                proptest::collection::vec(any::<[u8; 4]>().prop_map(Ipv4Addr::from), n),
                proptest::collection::vec(any::<[u8; 16]>().prop_map(Ipv6Addr::from), n),
            )
                .prop_map(move |(v4, v6)| Advert {
                    version: Version::V3,
                    vrid,
                    priority,
                    interval: Interval::from_centis(centis),
                    auth: Auth::None,
                    v4,
                    v6,
                    family: if ipv6 { Family::Ipv6 } else { Family::Ipv4 },
                })
        });
    prop_oneof![v2, v3]
}

fn mode(version: Version) -> impl Strategy<Value = ChecksumMode> {
    match version {
        Version::V2 => Just(ChecksumMode::V2).boxed(),
        Version::V3 => prop_oneof![
            Just(ChecksumMode::V3Pseudo),
            Just(ChecksumMode::V3NoPseudo),
            Just(ChecksumMode::V3PseudoMcast)
        ]
        .boxed(),
    }
}

fn advert_and_mode() -> impl Strategy<Value = (Advert, ChecksumMode, bool)> {
    advert().prop_flat_map(|a| {
        let v = a.version;
        (Just(a), mode(v), any::<bool>())
    })
}

/// Everything a receiver or a capture tool might call, on arbitrary input.
fn poke(bytes: &[u8]) {
    let _ = Frame::parse(bytes);
    let _ = Datagram::parse_ip(bytes);
    let _ = Datagram::parse_ipv4(bytes);
    let _ = Datagram::parse_ipv6(bytes);
    let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let dst = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
    for family in [Family::Ipv4, Family::Ipv6] {
        let unchecked = Packet::new_unchecked(bytes, family);
        let _ = unchecked.verify_checksum(src, dst);
        let _ = unchecked.compute_checksum(ChecksumMode::V3Pseudo, src, dst);
        let _ = unchecked.message();
        if let Ok(p) = Packet::new_checked(bytes, family) {
            let _ = (
                p.version(),
                p.msg_type(),
                p.vrid(),
                p.priority(),
                p.addr_count(),
            );
            let _ = (
                p.auth_type(),
                p.adver_int(),
                p.max_adver_int(),
                p.wire_interval(),
            );
            let _ = (
                p.checksum(),
                p.reserved(),
                p.message_len(),
                p.addresses().iter().count(),
            );
            if p.version() == 2 {
                let _ = p.auth_data();
            }
            if let Ok(r) = Repr::parse(&p) {
                let _ = r.addresses.iter().count();
                let _ = r.buffer_len();
            }
        }
        let (s, d) = match family {
            Family::Ipv4 => (src, dst),
            Family::Ipv6 => ("fe80::1".parse().unwrap(), "ff02::12".parse().unwrap()),
        };
        let _ = validate(&Datagram::new(s, d, 255, bytes), &ValidationConfig::any());
        let _ = validate(
            &Datagram::new(s, d, 255, bytes),
            &ValidationConfig::new(Version::V2),
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn message_round_trip((a, mode, unicast) in advert_and_mode()) {
        let repr = a.repr();
        let (src, dst) = a.endpoints(unicast);
        let mut buf = vec![0u8; repr.buffer_len()];
        prop_assert_eq!(repr.emit_into(&mut buf, src, dst, mode), Some(buf.len()));
        let packet = Packet::new_checked(&buf[..], a.family).unwrap();
        prop_assert_eq!(Repr::parse(&packet), Ok(repr));
        prop_assert!(packet.verify_checksum(src, dst).contains(mode.as_flag()));
        prop_assert_eq!(packet.compute_checksum(mode, src, dst), packet.checksum());
    }

    #[test]
    fn datagram_and_frame_round_trip((a, mode, unicast) in advert_and_mode(), id in any::<u16>()) {
        let repr = a.repr();
        let (src, dst) = a.endpoints(unicast);
        let env = Envelope::new(src, dst, a.version).with_checksum(mode).with_ipv4_id(id);
        let mut buf = vec![0u8; 8192];
        let n = emit_ip(&repr, &env, &mut buf).unwrap();
        let d = Datagram::parse_ip(&buf[..n]).unwrap();
        prop_assert_eq!((d.src, d.dst, d.ttl), (src, dst, 255));
        prop_assert_eq!(d.repr(), Ok(repr));
        let cfg = ValidationConfig::any().with_checksum_modes(mode.as_flag());
        match validate(&d, &cfg) {
            Ok(v) => prop_assert_eq!(v.repr, repr),
            // Generated values the receive rules reject (zero count/interval, global first
            // IPv6 address) fail with their own rule, never with a checksum error.
            Err(e) => prop_assert!(
                matches!(e.rule_name(), "address_count" | "interval" | "ipv6_link_local"),
                "{e}"
            ),
        }

        let eth = EthernetParams::for_advert(&repr, dst);
        let n = emit_ethernet(&repr, &env, &eth, &mut buf).unwrap();
        // Ethernet padding and an FCS after the datagram are ignored.
        buf[n..n + 30].fill(0x5a);
        let f = Frame::parse(&buf[..n + 30]).unwrap();
        prop_assert_eq!(f.src_mac, eth.src_mac);
        prop_assert_eq!(f.datagram.repr(), Ok(repr));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        poke(&bytes);
    }

    #[test]
    fn mutated_adverts_never_panic(
        (a, mode, unicast) in advert_and_mode(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let repr = a.repr();
        let (src, dst) = a.endpoints(unicast);
        let env = Envelope::new(src, dst, a.version).with_checksum(mode);
        let eth = EthernetParams::for_advert(&repr, dst);
        let mut buf = vec![0u8; 8192];
        let n = emit_ethernet(&repr, &env, &eth, &mut buf).unwrap();
        let frame = &mut buf[..n];
        for (i, v) in flips {
            let i = i.index(frame.len());
            frame[i] ^= v;
        }
        poke(frame);
        poke(&frame[..cut.index(frame.len() + 1)]);
        poke(&frame[14..]);
    }
}
