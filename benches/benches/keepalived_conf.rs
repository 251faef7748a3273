//! keepalived-conf: parse (preprocess + block tree + typed model + checks) of the seed's NAT
//! configuration and of a generated 10,000 virtual services × 4 real servers file (the size
//! `lvsd-bench program` loads).
//!
//! Run: `cargo bench -p lvs-benches --bench keepalived_conf`.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keepalived_conf::{Options, parse_str};

/// The seed's NAT configuration (two VRRP instances, one virtual server).
const SEED_NAT: &str = include_str!("../../crates/keepalived-conf/tests/data/seed-nat-fixed.conf");

/// `services` virtual servers with `dests` real servers each (same shape as lvsd-bench's).
fn generated(services: usize, dests: usize) -> String {
    let mut s = String::with_capacity(services * (120 + dests * 60));
    s.push_str("! Generated.\nglobal_defs {\n    router_id BENCH\n}\n");
    for i in 0..services {
        let vip = format!("192.0.2.{}", 1 + i / 60_000);
        let port = 1024 + i % 60_000;
        let _ = writeln!(
            s,
            "virtual_server {vip} {port} {{\n    lb_algo wlc\n    lb_kind DR\n    protocol TCP"
        );
        for d in 0..dests {
            let _ = writeln!(
                s,
                "    real_server 198.51.100.{} {port} {{\n        weight 1\n    }}",
                d + 1
            );
        }
        s.push_str("}\n");
    }
    s
}

fn bench(c: &mut Criterion) {
    let opts = Options::default();
    let seed = parse_str(SEED_NAT, &opts);
    assert!(!seed.has_errors(), "{:?}", seed.diagnostics);
    c.bench_function("keepalived_conf/parse/seed_nat", |b| {
        b.iter(|| parse_str(black_box(SEED_NAT), &opts))
    });

    // `cargo test --benches` runs each benchmark once, unoptimised: keep that quick
    let services = if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        200
    };
    let big = generated(services, 4);
    let out = parse_str(&big, &opts);
    assert!(!out.has_errors(), "{:?}", out.diagnostics.first());
    assert_eq!(out.config.virtual_servers.len(), services);
    drop(out);
    let mut g = c.benchmark_group("keepalived_conf/parse");
    g.sample_size(10);
    g.bench_function(format!("{services}x4"), |b| {
        b.iter(|| parse_str(black_box(&big), &opts))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
