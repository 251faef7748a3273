//! vrrp-packet: receive path (parse + validate + checksum) and emit, for one-address adverts.
//!
//! Run: `cargo bench -p lvs-benches --bench vrrp_packet`. Target: ≤ 25 ns per one-address
//! advert, zero allocations (the allocation side is proven by `crates/vrrp-packet/tests/no_alloc.rs`).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use vrrp_packet::{
    Addresses, Auth, ChecksumModes, Datagram, Envelope, Interval, Repr, ValidationConfig, Version,
    emit_ip, validate,
};

static V4: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 100)];
static V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x51)];

struct Case {
    name: &'static str,
    repr: Repr<'static>,
    src: IpAddr,
    dst: IpAddr,
}

fn cases() -> [Case; 3] {
    let src4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let dst4 = IpAddr::V4(vrrp_packet::VRRP_IPV4_MULTICAST);
    let src6 = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
    let dst6 = IpAddr::V6(vrrp_packet::VRRP_IPV6_MULTICAST);
    [
        Case {
            name: "v2_ipv4",
            repr: Repr {
                version: Version::V2,
                vrid: 51,
                priority: 100,
                interval: Interval::from_secs(1),
                auth: Auth::simple_text(b"1717"),
                addresses: Addresses::ipv4(&V4),
            },
            src: src4,
            dst: dst4,
        },
        Case {
            name: "v3_ipv4",
            repr: Repr {
                version: Version::V3,
                vrid: 51,
                priority: 100,
                interval: Interval::from_centis(100),
                auth: Auth::None,
                addresses: Addresses::ipv4(&V4),
            },
            src: src4,
            dst: dst4,
        },
        Case {
            name: "v3_ipv6",
            repr: Repr {
                version: Version::V3,
                vrid: 51,
                priority: 100,
                interval: Interval::from_centis(100),
                auth: Auth::None,
                addresses: Addresses::ipv6(&V6),
            },
            src: src6,
            dst: dst6,
        },
    ]
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let env = Envelope::new(case.src, case.dst, case.repr.version);
        let mut datagram = [0u8; 128];
        let n = emit_ip(&case.repr, &env, &mut datagram).unwrap();
        let datagram = &datagram[..n];
        let header = match case.src {
            IpAddr::V4(_) => vrrp_packet::IPV4_HEADER_LEN,
            IpAddr::V6(_) => vrrp_packet::IPV6_HEADER_LEN,
        };
        let message = &datagram[header..];
        let cfg = ValidationConfig::new(case.repr.version)
            .with_vrid(51)
            .with_auth(case.repr.auth)
            .with_interval(case.repr.interval)
            .with_addresses(case.repr.addresses)
            .with_checksum_modes(ChecksumModes::all());

        // The VRRP message with the IP facts from ancillary data (the IPv6 raw socket path):
        // Repr::parse + all checksum modes + every receive rule.
        c.bench_function(&format!("vrrp_packet/validate/{}", case.name), |b| {
            b.iter(|| {
                let d = Datagram::new(case.src, case.dst, 255, black_box(message));
                validate(&d, &cfg).unwrap().repr.priority
            })
        });
        // A whole datagram as an IPv4 raw socket returns it (etherparse IP header first).
        c.bench_function(
            &format!("vrrp_packet/datagram_validate/{}", case.name),
            |b| {
                b.iter(|| {
                    let d = Datagram::parse_ip(black_box(datagram)).unwrap();
                    validate(&d, &cfg).unwrap().repr.priority
                })
            },
        );
        // Emit the message with its checksum.
        let mut out = [0u8; 64];
        c.bench_function(&format!("vrrp_packet/emit/{}", case.name), |b| {
            b.iter(|| {
                black_box(&case.repr)
                    .emit_into(&mut out, case.src, case.dst, env.checksum)
                    .unwrap()
            })
        });
        // Emit the whole IP datagram.
        let mut out = [0u8; 128];
        c.bench_function(&format!("vrrp_packet/emit_ip/{}", case.name), |b| {
            b.iter(|| emit_ip(black_box(&case.repr), &env, &mut out).unwrap())
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
