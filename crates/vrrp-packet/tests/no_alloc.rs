//! Proves that parsing, validating and emitting never allocate: a counting global allocator
//! counts every allocation made by the measuring thread while the codec runs.

// A `#[global_allocator]` must `unsafe impl GlobalAlloc`; this test file is the only place in
// the crate that needs `unsafe` (the library itself is `#![forbid(unsafe_code)]`).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_packet::{
    Addresses, Auth, ChecksumMode, ChecksumModes, Datagram, Envelope, EthernetParams, Family,
    Frame, Interval, Packet, Repr, ValidationConfig, Version, emit_ethernet, emit_ip, validate,
};

struct Counting;

thread_local! {
    /// Whether this thread is being measured.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Allocations this thread made while measured (per thread: tests run in parallel).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-local may be gone while a thread shuts down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`; the counting touches only a
// `const`-initialised thread-locals, which do not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged (see the impl comment).
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations the current thread made meanwhile.
fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn counting_allocator_sees_allocations() {
    // The harness works: a Vec allocates once.
    let n = allocations_in(|| {
        let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(16));
        drop(v);
    });
    assert_eq!(n, 1);
}

#[test]
fn parse_validate_emit_do_not_allocate() {
    let v4 = [
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(192, 0, 2, 101),
        Ipv4Addr::new(192, 0, 2, 102),
    ];
    let v6 = [
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x51),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x51),
    ];
    let src4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let dst4 = IpAddr::V4(vrrp_packet::VRRP_IPV4_MULTICAST);
    let src6 = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
    let dst6 = IpAddr::V6(vrrp_packet::VRRP_IPV6_MULTICAST);
    let adverts = [
        (
            Repr {
                version: Version::V2,
                vrid: 51,
                priority: 100,
                interval: Interval::from_secs(1),
                auth: Auth::simple_text(b"1717"),
                addresses: Addresses::ipv4(&v4),
            },
            src4,
            dst4,
        ),
        (
            Repr {
                version: Version::V3,
                vrid: 52,
                priority: 200,
                interval: Interval::from_centis(5),
                auth: Auth::None,
                addresses: Addresses::ipv4(&v4),
            },
            src4,
            dst4,
        ),
        (
            Repr {
                version: Version::V3,
                vrid: 53,
                priority: 120,
                interval: Interval::from_centis(100),
                auth: Auth::None,
                addresses: Addresses::ipv6(&v6),
            },
            src6,
            dst6,
        ),
    ];
    let mut frame = [0u8; 256];
    let mut second = [0u8; 256];
    let mut garbage = [0u8; 256];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    let n = allocations_in(|| {
        for (repr, src, dst) in &adverts {
            let env = Envelope::new(*src, *dst, repr.version);
            let eth = EthernetParams::for_advert(repr, *dst);
            let len = emit_ethernet(repr, &env, &eth, &mut frame).unwrap();
            let f = Frame::parse(&frame[..len]).unwrap();
            let cfg = ValidationConfig::new(repr.version)
                .with_vrid(repr.vrid)
                .with_auth(repr.auth)
                .with_addresses(repr.addresses)
                .with_checksum_modes(ChecksumModes::all());
            let ok = validate(&f.datagram, &cfg).unwrap();
            assert_eq!(ok.repr, *repr);
            assert_eq!(ok.repr.addresses.iter().count(), repr.addresses.len());
            let packet = Packet::new_checked(f.datagram.payload, repr.family()).unwrap();
            assert!(!packet.verify_checksum(*src, *dst).is_empty());
            assert_eq!(Repr::parse(&packet).unwrap(), *repr);
            let ip = emit_ip(
                repr,
                &env.with_checksum(ChecksumMode::V3NoPseudo),
                &mut second,
            )
            .unwrap();
            assert!(Datagram::parse_ip(&second[..ip]).is_ok());
            // Errors are plain values too.
            let bad = Datagram::new(*src, *dst, 64, f.datagram.payload);
            assert!(validate(&bad, &cfg).is_err());
        }
        for len in 0..garbage.len() {
            let bytes = &garbage[..len];
            let _ = Frame::parse(bytes);
            let _ = Datagram::parse_ip(bytes);
            for family in [Family::Ipv4, Family::Ipv6] {
                if let Ok(p) = Packet::new_checked(bytes, family) {
                    let _ = Repr::parse(&p);
                    let _ = p.verify_checksum(src4, dst4);
                }
            }
            let _ = validate(
                &Datagram::new(src4, dst4, 255, bytes),
                &ValidationConfig::any(),
            );
        }
    });
    assert_eq!(n, 0, "the codec allocated {n} times");
}
