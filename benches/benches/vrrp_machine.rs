//! vrrp-machine: one received advert handled plus outputs drained (target ≤ 100 ns), and a tick
//! of 1,000 MASTER instances whose Adver_Timer is due (each sends one advert).
//!
//! Run: `cargo bench -p lvs-benches --bench vrrp_machine`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use vrrp_machine::sim::{Action, Sim};
use vrrp_machine::{
    Config, GarpConfig, Input, Instance, Instant, Interval, Received, State, Version,
};
use vrrp_packet::{AddressList, Auth, Repr};

const ME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20));
const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

fn config(vrid: u8, priority: u8) -> Config {
    let mut c = Config::new(
        Version::V3,
        vrid,
        priority,
        Interval::DEFAULT,
        ME,
        vec![IpAddr::V4(VIP)],
    );
    c.garp = GarpConfig::minimal();
    c
}

fn started(cfg: Config, master: bool) -> (Instance, Instant) {
    let mut i = Instance::new(cfg, Instant::ZERO).expect("valid config");
    i.handle_input(Instant::ZERO, Input::Startup);
    while i.poll_output().is_some() {}
    let mut now = Instant::ZERO;
    // Owners are Master at once; others become Master when their down timer runs out. Either
    // way, run one timer so that `now` is where the Adver_Timer phase starts.
    if master {
        now = i.poll_timeout().expect("down timer");
        i.handle_timeout(now);
        while i.poll_output().is_some() {}
        assert_eq!(i.state(), State::Master);
    }
    (i, now)
}

fn rx(c: &mut Criterion) {
    let list = AddressList::Ipv4(vec![VIP]);
    let advert = |priority| Repr {
        version: Version::V3,
        vrid: 51,
        priority,
        interval: Interval::DEFAULT,
        auth: Auth::None,
        addresses: list.as_addresses(),
    };
    let mut g = c.benchmark_group("vrrp_machine/rx_advert_and_drain");
    // The steady state of every Backup: the master's advert resets Master_Down_Timer.
    {
        let (mut inst, mut now) = started(config(51, 100), false);
        let repr = advert(200);
        g.bench_function("backup_from_master", |b| {
            b.iter(|| {
                now += Duration::from_secs(1);
                inst.handle_input(
                    now,
                    Input::Advert(Received {
                        src: PEER,
                        repr: black_box(repr),
                    }),
                );
                while let Some(o) = inst.poll_output() {
                    black_box(o);
                }
            });
        });
        assert_eq!(inst.state(), State::Backup);
    }
    // A Master hearing a lower priority: RFC 9568 advert at once plus the notify (GARPs off).
    {
        let mut cfg = config(51, 200);
        cfg.garp.lower_prio_repeat = 0;
        let (mut inst, mut now) = started(cfg, true);
        let repr = advert(100);
        g.bench_function("master_from_lower_priority", |b| {
            b.iter(|| {
                now += Duration::from_millis(1);
                inst.handle_input(
                    now,
                    Input::Advert(Received {
                        src: PEER,
                        repr: black_box(repr),
                    }),
                );
                while let Some(o) = inst.poll_output() {
                    black_box(o);
                }
            });
        });
        assert_eq!(inst.state(), State::Master);
    }
    g.finish();
}

fn tick(c: &mut Criterion) {
    // 1,000 masters (VRIDs 1..=250 on 4 interfaces' worth of instances), all due at once.
    let mut now = Instant::ZERO;
    let mut fleet: Vec<Instance> = (0..1_000u32)
        .map(|k| {
            let (i, t) = started(config((k % 250 + 1) as u8, 255), true);
            now = now.max(t);
            i
        })
        .collect();
    c.bench_function("vrrp_machine/tick_1000_masters", |b| {
        b.iter(|| {
            now += Duration::from_secs(1);
            let mut sent = 0u32;
            for inst in &mut fleet {
                inst.handle_timeout(now);
                while let Some(o) = inst.poll_output() {
                    sent += 1;
                    black_box(o);
                }
            }
            assert_eq!(sent, 1_000);
        });
    });
}

fn scenario(c: &mut Criterion) {
    // One seeded simulator scenario: 3 routers, v3 at 1 s, master crash at 5 s and restart at
    // 12 s, 1 ms links with 5 % loss, 20 s of virtual time (the vrrp-sim example).
    let mut seed = 0;
    c.bench_function("vrrp_machine/sim_scenario_20s_3_routers", |b| {
        b.iter(|| {
            seed += 1;
            let mut sim = Sim::new(seed);
            sim.set_default_delay(Duration::from_millis(1));
            sim.set_loss(0.05);
            for (k, prio) in [200u8, 150, 100].into_iter().enumerate() {
                let mut cfg = config(51, prio);
                cfg.primary_address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + k as u8));
                let r = sim.add_router(format!("r{k}"), cfg);
                sim.schedule(Instant::ZERO, Action::Start(r));
            }
            sim.schedule(Instant::from_secs(5), Action::Crash(0));
            sim.schedule(Instant::from_secs(12), Action::Restart(0));
            sim.run_until(Instant::from_secs(20));
            black_box(sim.masters())
        });
    });
}

criterion_group!(benches, rx, tick, scenario);
criterion_main!(benches);
