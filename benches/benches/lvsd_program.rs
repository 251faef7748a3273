//! lvsd's user-space path from a parsed keepalived.conf to the IPVS requests of its first
//! programming (`lvsd -C` start), phase by phase, on a generated 10,000 virtual services × 4
//! real servers configuration (the size `lvsd-bench program` loads), with no kernel:
//!
//! - `table`: `lvs_check::spec::resolve` + `lvs_check::service::table` + `Pool::new` per
//!   virtual server (lvsd's `build`);
//! - `start`: `Pool::start` of every pool;
//! - `desired`: the desired state from every pool's members (lvsd's `desired`);
//! - `diff`: `reconcile::diff` against an empty kernel (50,000 requests);
//! - `emit`: the 50,000 requests encoded into netlink messages, batch by batch, as
//!   `Ipvs::apply` sends them.
//!
//! Run: `cargo bench -p lvs-benches --bench lvsd_program`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ipvs_netlink::Destination;
use ipvs_netlink::message::Request;
use ipvs_netlink::reconcile::{DesiredState, diff};
use keepalived_conf::model::Config;
use lvs_check::core::{Dest, Pool};
use lvs_check::service::{ServiceTable, table};

/// The IPVS objects and pool of one virtual server, as lvsd holds them.
#[derive(Clone)]
struct Slot {
    table: ServiceTable,
    pool: Pool,
}

fn build(conf: &Config) -> Vec<Slot> {
    let (specs, errors) = lvs_check::spec::resolve(conf);
    assert!(errors.is_empty());
    conf.virtual_servers
        .iter()
        .zip(specs)
        .enumerate()
        .map(|(i, (vs, spec))| Slot {
            table: table(conf, vs).expect("table"),
            pool: Pool::new(spec.pool_config(), i as u64 + 1),
        })
        .collect()
}

fn start(slots: &mut [Slot]) -> usize {
    slots
        .iter_mut()
        .map(|s| s.pool.start(Duration::ZERO).len())
        .sum()
}

/// The destinations the pool has put in the table (lvsd's `Slot::members`).
fn members(s: &Slot) -> Vec<Destination> {
    let mut out = Vec::with_capacity(s.table.real_servers.len() + 1);
    let dests = (0..s.pool.len()).map(Dest::Real);
    for d in dests.chain(std::iter::once(Dest::Sorry)) {
        let base = match d {
            Dest::Real(i) => s.table.real_servers.get(i).copied(),
            Dest::Sorry => s.table.sorry,
        };
        if let (Some(w), Some(b)) = (s.pool.weight_in_table(d), base) {
            out.push(b.weight(i32::try_from(w).unwrap_or(i32::MAX)));
        }
    }
    out
}

/// lvsd's `desired`: every service of every slot with its pool's members.
fn desired(slots: &[Slot]) -> DesiredState {
    let services = slots.iter().map(|s| s.table.services.len()).sum();
    let mut d = DesiredState::with_capacity(services);
    for s in slots {
        let mut m = Some(members(s));
        let n = s.table.services.len();
        for (k, svc) in s.table.services.iter().enumerate() {
            let m = if k + 1 == n { m.take() } else { m.clone() };
            d.insert(svc.clone(), m.unwrap_or_default());
        }
    }
    d
}

/// Encodes `reqs` as `Ipvs::apply` does: up to 256 messages or 60 KiB per send.
fn emit(reqs: &[Request], buf: &mut Vec<u8>) -> usize {
    let mut bytes = 0;
    let mut n = 0;
    for (seq, r) in reqs.iter().enumerate() {
        r.emit(buf, 0x24, seq as u32, false);
        n += 1;
        if n == 256 || buf.len() >= 60 * 1024 {
            bytes += buf.len();
            buf.clear();
            n = 0;
        }
    }
    bytes + buf.len()
}

/// One pass of every phase on 10,000 × 4, each in its own function, for an instruction count
/// that host load does not blur: `LVSD_PROGRAM_ONCE=1 valgrind --tool=callgrind
/// --toggle-collect='lvsd_program::once_*' target/release/deps/lvsd_program-*`.
fn once() {
    #[inline(never)]
    fn once_table(conf: &Config) -> Vec<Slot> {
        build(conf)
    }
    #[inline(never)]
    fn once_start(slots: &mut [Slot]) -> usize {
        start(slots)
    }
    #[inline(never)]
    fn once_desired(slots: &[Slot]) -> DesiredState {
        desired(slots)
    }
    #[inline(never)]
    fn once_diff(want: &DesiredState) -> Vec<Request> {
        diff(want, &[])
    }
    #[inline(never)]
    fn once_emit(reqs: &[Request]) -> usize {
        emit(reqs, &mut Vec::with_capacity(64 * 1024))
    }
    let text = lvs_testkit::generated_virtual_servers(10_000, 4);
    let conf = keepalived_conf::parse_str(&text, &Default::default()).config;
    let mut slots = once_table(&conf);
    once_start(&mut slots);
    let want = once_desired(&slots);
    let reqs = once_diff(&want);
    black_box(once_emit(&reqs));
}

fn bench(c: &mut Criterion) {
    if std::env::var_os("LVSD_PROGRAM_ONCE").is_some() {
        return once();
    }
    // `cargo test --benches` runs each benchmark once, unoptimised: keep that quick
    let services = if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        200
    };
    let text = lvs_testkit::generated_virtual_servers(services, 4);
    let out = keepalived_conf::parse_str(&text, &Default::default());
    assert!(!out.has_errors(), "{:?}", out.diagnostics.first());
    let conf = out.config;

    let mut slots = build(&conf);
    assert!(start(&mut slots) >= services * 4);
    let want = desired(&slots);
    let reqs = diff(&want, &[]);
    assert_eq!(reqs.len(), services * 5);

    let mut g = c.benchmark_group(format!("lvsd_program/{services}x4"));
    g.sample_size(10);
    g.bench_function("table", |b| b.iter(|| build(black_box(&conf))));
    g.bench_function("start", |b| {
        b.iter_batched(
            || build(&conf),
            |mut s| start(&mut s),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("desired", |b| b.iter(|| desired(black_box(&slots))));
    g.bench_function("diff", |b| b.iter(|| diff(black_box(&want), &[])));
    let mut buf = Vec::with_capacity(64 * 1024);
    g.bench_function("emit", |b| b.iter(|| emit(black_box(&reqs), &mut buf)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
