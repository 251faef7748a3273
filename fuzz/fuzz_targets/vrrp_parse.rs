//! Arbitrary bytes through every vrrp-packet entry point a receiver or capture tool uses:
//! Ethernet frame, IP datagram, bare message (both families), checksums, validation. Must never
//! panic.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vrrp_packet::{
    ChecksumMode, Datagram, Family, Frame, Packet, Repr, ValidationConfig, Version, validate,
};

const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const DST4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
const SRC6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
const DST6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

fn configs() -> [ValidationConfig<'static>; 3] {
    [
        ValidationConfig::any(),
        ValidationConfig::new(Version::V2).with_auth(vrrp_packet::Auth::simple_text(b"1717")),
        ValidationConfig::new(Version::V3).with_vrid(51),
    ]
}

fn message(bytes: &[u8], family: Family, src: IpAddr, dst: IpAddr) {
    let unchecked = Packet::new_unchecked(bytes, family);
    let _ = unchecked.verify_checksum(src, dst);
    for mode in ChecksumMode::ALL {
        let _ = unchecked.compute_checksum(mode, src, dst);
    }
    if let Ok(p) = Packet::new_checked(bytes, family) {
        let _ = (p.version(), p.msg_type(), p.vrid(), p.priority(), p.addr_count());
        let _ = (p.auth_type(), p.adver_int(), p.max_adver_int(), p.wire_interval());
        let _ = (p.checksum(), p.reserved(), p.message(), p.addresses().iter().count());
        if p.version() == 2 {
            let _ = p.auth_data();
        }
        if let Ok(r) = Repr::parse(&p) {
            assert!(r.buffer_len() <= bytes.len());
            let _ = r.addresses.iter().rev().count();
        }
    }
    let d = Datagram::new(src, dst, 255, bytes);
    for cfg in configs() {
        let _ = validate(&d, &cfg);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = Frame::parse(data) {
        for cfg in configs() {
            let _ = f.datagram.validate(&cfg);
        }
    }
    if let Ok(d) = Datagram::parse_ip(data) {
        let _ = d.repr();
        let _ = d.validate(&ValidationConfig::any());
    }
    message(data, Family::Ipv4, SRC4, DST4);
    message(data, Family::Ipv6, SRC6, DST6);
});
