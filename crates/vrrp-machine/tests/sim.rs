//! Simulator scenarios beyond the properties: IPv6, unicast peers, restart, tracking, loss.

use core::time::Duration;
use std::net::IpAddr;

use vrrp_machine::sim::{Action, Sim, SplitMix64};
use vrrp_machine::{Config, Instant, Interval, Reason, State, Track, TrackId, Version};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

#[test]
fn ipv6_v3_elects_by_priority_and_fails_over() {
    let cfg = |prio, me: &str| {
        Config::new(
            Version::V3,
            7,
            prio,
            Interval::from_centis(50),
            ip(me),
            vec![ip("fe80::7"), ip("2001:db8::7")],
        )
    };
    let mut sim = Sim::new(1);
    sim.set_default_delay(Duration::from_micros(100));
    let a = sim.add_router("a", cfg(150, "fe80::a"));
    let b = sim.add_router("b", cfg(120, "fe80::b"));
    sim.schedule(Instant::ZERO, Action::Start(a));
    sim.schedule(Instant::ZERO, Action::Start(b));
    sim.run_until(Instant::from_secs(5));
    assert_eq!(sim.masters(), [a]);
    sim.schedule(Instant::from_secs(5), Action::Crash(a));
    sim.run_until(Instant::from_secs(10));
    assert_eq!(sim.masters(), [b]);
    assert_eq!(sim.stats().codec_rejects, 0);
    assert_eq!(sim.stats().rx_rejects, 0);
}

#[test]
fn unicast_peers_reach_only_their_peers() {
    let peers = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
    let mut sim = Sim::new(2);
    for (k, (name, prio)) in [("a", 100), ("b", 200), ("c", 150)].into_iter().enumerate() {
        let mut cfg = Config::new(
            Version::V2,
            9,
            prio,
            Interval::DEFAULT,
            ip(peers[k]),
            vec![ip("192.0.2.99")],
        );
        cfg.unicast_peers = peers
            .iter()
            .filter(|p| **p != peers[k])
            .map(|p| ip(p))
            .collect();
        let r = sim.add_router(name, cfg);
        sim.schedule(Instant::ZERO, Action::Start(r));
    }
    sim.set_trace(true);
    sim.run_until(Instant::from_secs(10));
    assert_eq!(sim.masters(), [1]);
    // Every advert went to a peer address, one per peer.
    assert!(sim.sent_adverts().iter().all(|s| !s.dst.is_multicast()));
    // A unicast packet reaches exactly its one addressee (multicast would reach two).
    assert_eq!(sim.stats().delivered, sim.stats().sent);
    let from_b: Vec<String> = sim
        .sent_adverts()
        .iter()
        .filter(|s| s.router == 1)
        .map(|s| s.dst.to_string())
        .collect();
    assert_eq!(from_b[..2], ["192.0.2.1", "192.0.2.3"]);
    assert_eq!(sim.stats().codec_rejects, 0);
}

#[test]
fn restarted_master_preempts_back_and_reports_why() {
    let cfg = |prio, me: &str| {
        Config::new(
            Version::V3,
            1,
            prio,
            Interval::DEFAULT,
            ip(me),
            vec![ip("192.0.2.100")],
        )
    };
    let mut sim = Sim::new(3);
    let a = sim.add_router("a", cfg(200, "192.0.2.1"));
    let b = sim.add_router("b", cfg(100, "192.0.2.2"));
    sim.schedule(Instant::ZERO, Action::Start(a));
    sim.schedule(Instant::ZERO, Action::Start(b));
    sim.schedule(Instant::from_secs(5), Action::Crash(a));
    sim.schedule(Instant::from_secs(12), Action::Restart(a));
    sim.run_until(Instant::from_secs(20));
    assert_eq!(sim.masters(), [a]);
    let reasons: Vec<(usize, Reason)> = sim
        .transitions()
        .iter()
        .filter(|t| t.from == State::Backup || t.from == State::Master)
        .map(|t| (t.router, t.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (a, Reason::MasterDown),
            (b, Reason::MasterDown),
            (a, Reason::Preempted),
            (
                b,
                Reason::HigherPriority {
                    src: ip("192.0.2.1"),
                    priority: 200
                }
            ),
        ]
    );
}

#[test]
fn track_fault_hands_over_after_skew_time() {
    let mut cfg_a = Config::new(
        Version::V3,
        1,
        200,
        Interval::DEFAULT,
        ip("192.0.2.1"),
        vec![ip("192.0.2.100")],
    );
    cfg_a.tracks = vec![Track::fault(TrackId(1))];
    let cfg_b = Config::new(
        Version::V3,
        1,
        100,
        Interval::DEFAULT,
        ip("192.0.2.2"),
        vec![ip("192.0.2.100")],
    );
    let mut sim = Sim::new(4);
    let a = sim.add_router("a", cfg_a);
    let b = sim.add_router("b", cfg_b);
    sim.schedule(Instant::ZERO, Action::Start(a));
    sim.schedule(Instant::ZERO, Action::Start(b));
    sim.schedule(Instant::from_secs(10), Action::Track(a, TrackId(1), false));
    sim.run_until(Instant::from_secs(12));
    assert_eq!(sim.state(a), State::Fault);
    let t = sim
        .transitions()
        .iter()
        .find(|t| t.router == b && t.to == State::Master)
        .expect("b takes over");
    // The faulting master said priority 0: b waited only its Skew_Time (156/256 s).
    assert_eq!(
        t.at,
        Instant::from_secs(10) + Duration::from_micros(609_375)
    );
    sim.schedule(Instant::from_secs(12), Action::Track(a, TrackId(1), true));
    sim.run_until(Instant::from_secs(20));
    assert_eq!(sim.masters(), [a]);
}

#[test]
fn heavy_loss_still_converges_once_loss_stops() {
    for seed in 0..50 {
        let mut sim = Sim::new(seed);
        sim.set_loss(0.5);
        for k in 0..4u8 {
            let cfg = Config::new(
                Version::V3,
                1,
                50 + 40 * k,
                Interval::from_centis(20),
                IpAddr::from([192, 0, 2, k + 1]),
                vec![ip("192.0.2.100")],
            );
            let r = sim.add_router(format!("r{k}"), cfg);
            sim.schedule(Instant::ZERO, Action::Start(r));
        }
        sim.schedule(Instant::from_secs(10), Action::SetLoss(0.0));
        sim.run_until(Instant::from_secs(13));
        assert_eq!(sim.masters(), [3], "seed {seed}");
        assert!(sim.stats().lost > 0);
    }
}

#[test]
fn splitmix_is_deterministic_and_spread() {
    let mut a = SplitMix64::new(42);
    let mut b = SplitMix64::new(42);
    let xs: Vec<u64> = (0..1000).map(|_| a.next_u64()).collect();
    assert!(
        xs.iter()
            .zip((0..1000).map(|_| b.next_u64()))
            .all(|(x, y)| *x == y)
    );
    let mean = (0..10_000).map(|_| a.next_f64()).sum::<f64>() / 10_000.0;
    assert!((mean - 0.5).abs() < 0.02, "{mean}");
}
