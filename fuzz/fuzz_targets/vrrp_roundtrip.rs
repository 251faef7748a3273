//! parse → emit → parse must give the same `Repr`, for bare messages (the first input octet
//! picks the family and checksum mode) and for whole Ethernet frames.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vrrp_packet::{
    ChecksumMode, Envelope, EthernetParams, Family, Frame, Packet, Repr, Version, emit_ethernet,
};

fn endpoints(family: Family) -> (IpAddr, IpAddr) {
    match family {
        Family::Ipv4 => (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        ),
        Family::Ipv6 => (
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
        ),
    }
}

fn check(repr: &Repr<'_>, mode: ChecksumMode) {
    let (src, dst) = endpoints(repr.family());
    let mut buf = [0u8; 8 + 255 * 16 + 8];
    let n = repr.emit_into(&mut buf, src, dst, mode).expect("buffer fits any message");
    assert_eq!(n, repr.buffer_len());
    let p = Packet::new_checked(&buf[..n], repr.family()).expect("emitted message is complete");
    assert_eq!(Repr::parse(&p).as_ref(), Ok(repr));
    assert!(p.verify_checksum(src, dst).contains(mode.as_flag()));

    // The same through a whole frame.
    let env = Envelope::new(src, dst, repr.version).with_checksum(mode);
    let eth = EthernetParams::for_advert(repr, dst);
    let mut frame = [0u8; 18 + 40 + 8 + 255 * 16 + 8];
    let n = emit_ethernet(repr, &env, &eth, &mut frame).expect("buffer fits any frame");
    let f = Frame::parse(&frame[..n]).expect("emitted frame parses");
    assert_eq!(f.datagram.repr().as_ref(), Ok(repr));
}

fuzz_target!(|data: &[u8]| {
    if let Some((&control, msg)) = data.split_first() {
        let family = if control & 1 == 0 { Family::Ipv4 } else { Family::Ipv6 };
        if let Ok(p) = Packet::new_checked(msg, family) {
            if let Ok(repr) = Repr::parse(&p) {
                let mode = match repr.version {
                    Version::V2 => ChecksumMode::V2,
                    Version::V3 => ChecksumMode::ALL[1 + usize::from(control >> 1) % 3],
                };
                check(&repr, mode);
            }
        }
    }
    if let Ok(f) = Frame::parse(data) {
        if let Ok(repr) = f.datagram.repr() {
            check(&repr, ChecksumMode::default_for(repr.version));
        }
    }
});
