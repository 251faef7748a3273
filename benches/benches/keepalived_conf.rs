//! keepalived-conf: parse (preprocess + block tree + typed model + checks) of the seed's NAT
//! configuration and of a generated 10,000 virtual services × 4 real servers file (the size
//! `lvsd-bench program` loads).
//!
//! Run: `cargo bench -p lvs-benches --bench keepalived_conf`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keepalived_conf::{Options, parse_str};

/// The seed's NAT configuration (two VRRP instances, one virtual server).
const SEED_NAT: &str = include_str!("../../crates/keepalived-conf/tests/data/seed-nat-fixed.conf");

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
    let big = lvs_testkit::generated_virtual_servers(services, 4);
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
