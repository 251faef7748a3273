//! Property tests over the simulator (issue 3): topologies, priorities, delays, loss and event
//! scripts are generated; every property runs 1,000 cases.
//!
//! Timing bounds need the link delay to stay below the skew difference between two adjacent
//! priorities (otherwise two Backups can legitimately both expire before hearing each other,
//! which is VRRP, not a bug). Priorities are therefore multiples of 10 and delays at most 1 ms:
//! 10/256 of the smallest interval (10 cs) is 3.9 ms.

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vrrp_machine::sim::{Action, RouterId, Sim};
use vrrp_machine::{
    Config, GarpConfig, Input, Instance, Instant, Interval, Output, State, Version,
};
use vrrp_packet::{Auth, ChecksumMode, ChecksumModes, Datagram, ValidationConfig};

const CASES: u32 = 1_000;

#[derive(Clone, Debug)]
struct Topo {
    version: Version,
    interval_cs: u16,
    prios: Vec<u8>,
    /// Last octet of each router's address (distinct).
    octets: Vec<u8>,
    delay_us: u64,
}

impl Topo {
    fn interval(&self) -> Duration {
        Duration::from_millis(u64::from(self.interval_cs) * 10)
    }
    fn mdi(&self, prio: u8) -> Duration {
        let iv = u64::from(self.interval_cs) * 10_000;
        Duration::from_micros(3 * iv + (256 - u64::from(prio)) * iv / 256)
    }
    fn skew(&self, prio: u8) -> Duration {
        let iv = u64::from(self.interval_cs) * 10_000;
        Duration::from_micros((256 - u64::from(prio)) * iv / 256)
    }
    fn delay(&self) -> Duration {
        Duration::from_micros(self.delay_us)
    }
    fn addr(&self, r: usize) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, self.octets[r]))
    }
    fn config(&self, r: usize) -> Config {
        let mut c = Config::new(
            self.version,
            51,
            self.prios[r],
            Interval::from_centis(self.interval_cs),
            self.addr(r),
            vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200))],
        );
        c.garp = GarpConfig::minimal();
        c
    }
    fn sim(&self, seed: u64) -> Sim {
        let mut sim = Sim::new(seed);
        sim.set_default_delay(self.delay());
        for r in 0..self.prios.len() {
            sim.add_router(format!("r{r}"), self.config(r));
        }
        sim
    }
    /// The rightful master among `alive`: highest priority, then highest address.
    fn rightful(&self, alive: impl Iterator<Item = usize>) -> Option<usize> {
        alive.max_by_key(|&r| (self.prios[r], self.octets[r]))
    }
    fn max_mdi(&self) -> Duration {
        self.prios
            .iter()
            .map(|&p| self.mdi(p))
            .max()
            .unwrap_or_default()
    }
}

/// `n` routers with distinct priorities from multiples of 10 (or any 1..=254 with ties if
/// `ties`), distinct addresses, version, interval and a delay ≤ 1 ms.
fn topo(n: std::ops::RangeInclusive<usize>, ties: bool) -> impl Strategy<Value = Topo> {
    let version_interval = prop_oneof![
        Just((Version::V2, 100u16)),
        Just((Version::V2, 200u16)),
        Just((Version::V3, 10u16)),
        Just((Version::V3, 50u16)),
        Just((Version::V3, 100u16)),
    ];
    // A link delay of at least 1 µs: with zero delay, a packet sent when one router's timer fires
    // would be delivered before a simultaneous timer of another router, so "simultaneous" ties
    // would be decided by event order instead of by the RFC's address tie-break.
    (version_interval, n, 1u64..=1_000).prop_flat_map(
        move |((version, interval_cs), n, delay_us)| {
            let prios = if ties {
                // Few distinct values so that ties are common.
                proptest::collection::vec(
                    prop_oneof![Just(100u8), Just(150), Just(200), 1u8..=254],
                    n,
                )
                .boxed()
            } else {
                Just((1u8..=25).map(|k| k * 10).collect::<Vec<u8>>())
                    .prop_shuffle()
                    .prop_map(move |v| v[..n].to_vec())
                    .boxed()
            };
            let octets = Just((1u8..=250).collect::<Vec<u8>>())
                .prop_shuffle()
                .prop_map(move |v| v[..n].to_vec());
            (prios, octets).prop_map(move |(prios, octets)| Topo {
                version,
                interval_cs,
                prios,
                octets,
                delay_us,
            })
        },
    )
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Start everyone at `starts[r]` and run until every router has had `2 × MDI` after the last
/// start: the converged state.
fn converge(t: &Topo, sim: &mut Sim, starts: &[Instant]) -> Instant {
    for (r, &at) in starts.iter().enumerate() {
        sim.schedule(at, Action::Start(r));
    }
    let end =
        starts.iter().copied().max().unwrap_or(Instant::ZERO) + t.max_mdi() * 2 + t.interval();
    sim.run_until(end);
    end
}

fn masters_after(sim: &Sim, after: Instant) -> Vec<(Instant, RouterId)> {
    sim.transitions()
        .iter()
        .filter(|x| x.at > after && x.to == State::Master)
        .map(|x| (x.at, x.router))
        .collect()
}

fn assert_single_master(t: &Topo, sim: &Sim, want: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(sim.masters(), vec![want], "topology {:?}", t);
    for r in 0..sim.len() {
        if r != want && sim.state(r) != State::Initialize {
            prop_assert_eq!(sim.state(r), State::Backup, "router {} of {:?}", r, t);
        }
    }
    prop_assert_eq!(sim.stats().codec_rejects, 0);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// 1. Connected LAN, no loss: after convergence exactly one Master, the highest priority;
    /// ties broken by the highest address (routers started together, so tied ones contend).
    #[test]
    fn p1_converges_to_the_rightful_master_with_ties(t in topo(2..=5, true), seed: u64) {
        let mut sim = t.sim(seed);
        let starts = vec![Instant::ZERO; t.prios.len()];
        let end = converge(&t, &mut sim, &starts);
        let want = t.rightful(0..t.prios.len()).expect("routers");
        assert_single_master(&t, &sim, want)?;
        // And it stays that way.
        sim.run_until(end + t.interval() * 10);
        assert_single_master(&t, &sim, want)?;
        prop_assert!(masters_after(&sim, end).is_empty());
    }

    /// 1b. Same with staggered starts (distinct priorities): a late higher router preempts.
    #[test]
    fn p1_converges_to_the_rightful_master_staggered(t in topo(2..=5, false), seed: u64, offsets in proptest::collection::vec(0u64..=5_000, 5)) {
        let mut sim = t.sim(seed);
        let starts: Vec<Instant> = (0..t.prios.len()).map(|r| Instant::from_millis(offsets[r])).collect();
        converge(&t, &mut sim, &starts);
        let want = t.rightful(0..t.prios.len()).expect("routers");
        assert_single_master(&t, &sim, want)?;
    }

    /// 2. The Master crashes: exactly one Backup takes over, the rightful one, within its
    /// Master_Down_Interval (+ link delay) of the crash.
    #[test]
    fn p2_crash_takeover_within_master_down_interval(t in topo(2..=5, false), seed: u64, frac in 0.0f64..1.0) {
        let mut sim = t.sim(seed);
        let n = t.prios.len();
        let end = converge(&t, &mut sim, &vec![Instant::ZERO; n]);
        let old = t.rightful(0..n).expect("routers");
        let crash = end + t.interval().mul_f64(frac);
        sim.schedule(crash, Action::Crash(old));
        let new = t.rightful((0..n).filter(|&r| r != old)).expect("a survivor");
        sim.run_until(crash + t.max_mdi() * 2);
        let took = masters_after(&sim, crash);
        prop_assert_eq!(took.len(), 1, "{:?} {:?}", took, t);
        prop_assert_eq!(took[0].1, new);
        prop_assert!(took[0].0 <= crash + t.mdi(t.prios[new]) + t.delay(), "{:?} crash {:?} {:?}", took, crash, t);
        assert_single_master(&t, &sim, new)?;
    }

    /// 3. Graceful shutdown (priority 0): the rightful Backup takes over within Skew_Time
    /// (+ link delay), and only it.
    #[test]
    fn p3_shutdown_takeover_within_skew_time(t in topo(2..=5, false), seed: u64, frac in 0.0f64..1.0) {
        let mut sim = t.sim(seed);
        let n = t.prios.len();
        let end = converge(&t, &mut sim, &vec![Instant::ZERO; n]);
        let old = t.rightful(0..n).expect("routers");
        let stop = end + t.interval().mul_f64(frac);
        sim.schedule(stop, Action::Shutdown(old));
        let new = t.rightful((0..n).filter(|&r| r != old)).expect("a survivor");
        sim.run_until(stop + t.max_mdi() * 2);
        let took = masters_after(&sim, stop);
        prop_assert_eq!(took.len(), 1, "{:?} {:?}", took, t);
        prop_assert_eq!(took[0].1, new);
        prop_assert_eq!(took[0].0, stop + t.delay() + t.skew(t.prios[new]));
        prop_assert_eq!(sim.state(old), State::Initialize);
        assert_single_master(&t, &sim, new)?;
    }

    /// 4. A partition (with loss on both sides) heals: within 2 × Master_Down_Interval exactly
    /// one Master remains, the rightful one.
    #[test]
    fn p4_partition_heals_to_the_rightful_master(
        t in topo(2..=5, false),
        seed: u64,
        sides in proptest::collection::vec(0u32..2, 5),
        loss in 0.0f64..0.3,
        split_for in 1u32..20,
    ) {
        let mut sim = t.sim(seed);
        let n = t.prios.len();
        let end = converge(&t, &mut sim, &vec![Instant::ZERO; n]);
        sim.schedule(end, Action::Partition(sides[..n].to_vec()));
        sim.schedule(end, Action::SetLoss(loss));
        let heal = end + t.max_mdi() + t.interval() * split_for;
        sim.schedule(heal, Action::Heal);
        sim.schedule(heal, Action::SetLoss(0.0));
        let want = t.rightful(0..n).expect("routers");
        let deadline = heal + t.max_mdi() * 2;
        sim.run_until(deadline);
        assert_single_master(&t, &sim, want)?;
        // Nothing else took over after the deadline either.
        sim.run_until(deadline + t.interval() * 5);
        assert_single_master(&t, &sim, want)?;
    }

    /// 5. nopreempt: a higher-priority router joining late stays Backup. preempt_delay: it
    /// takes over no earlier than the delay after joining and within delay + interval +
    /// Master_Down_Interval (+ delay).
    #[test]
    fn p5_nopreempt_and_preempt_delay(t in topo(2..=4, false), seed: u64, delay_ivs in 1u32..=20, nopreempt: bool) {
        let n = t.prios.len();
        let top = t.rightful(0..n).expect("routers");
        let mut cfg = t.config(top);
        let d = t.interval() * delay_ivs;
        if nopreempt {
            cfg.preempt = false;
        } else {
            cfg.preempt_delay = d;
        }
        let mut sim = Sim::new(seed);
        sim.set_default_delay(t.delay());
        for r in 0..n {
            sim.add_router(format!("r{r}"), if r == top { cfg.clone() } else { t.config(r) });
        }
        let mut starts = vec![Instant::ZERO; n];
        starts[top] = Instant::ZERO + t.max_mdi() * 2 + t.interval();
        let join = starts[top];
        let others = t.rightful((0..n).filter(|&r| r != top)).expect("others");
        for (r, &at) in starts.iter().enumerate() {
            sim.schedule(at, Action::Start(r));
        }
        sim.run_until(join);
        assert_single_master(&t, &sim, others)?;
        let horizon = join + d + t.interval() * 2 + t.mdi(t.prios[top]) * 2;
        sim.run_until(horizon);
        let took: Vec<_> = masters_after(&sim, join);
        if nopreempt {
            prop_assert!(took.is_empty(), "{:?}", took);
            assert_single_master(&t, &sim, others)?;
        } else {
            prop_assert_eq!(took.len(), 1, "{:?}", took);
            prop_assert_eq!(took[0].1, top);
            prop_assert!(took[0].0 >= join + d, "{:?} join {:?} delay {:?}", took, join, d);
            prop_assert!(took[0].0 <= join + d + t.interval() + t.delay() + t.mdi(t.prios[top]), "{:?}", took);
            assert_single_master(&t, &sim, top)?;
        }
    }
}

// ---- 7. random event scripts, then quiet: one master, the highest priority ------------------

#[derive(Clone, Debug)]
enum Chaos {
    Crash(usize),
    Restart(usize),
    Shutdown(usize),
    Priority(usize, u8),
    Partition(Vec<u32>),
    Heal,
    Loss(f64),
}

fn chaos() -> impl Strategy<Value = Chaos> {
    prop_oneof![
        1 => (0usize..5).prop_map(Chaos::Crash),
        2 => (0usize..5).prop_map(Chaos::Restart),
        1 => (0usize..5).prop_map(Chaos::Shutdown),
        2 => (0usize..5, 1u8..=25).prop_map(|(r, k)| Chaos::Priority(r, k * 10)),
        1 => proptest::collection::vec(0u32..3, 5).prop_map(Chaos::Partition),
        1 => Just(Chaos::Heal),
        1 => (0.0f64..0.5).prop_map(Chaos::Loss),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// 7. Any script of crashes, restarts, graceful stops, priority changes (ties allowed),
    /// partitions and loss; once the LAN is healed and lossless, within 3 × Master_Down_Interval
    /// exactly one running router is Master and it has the highest priority of the running
    /// routers (no split brain, no missing master).
    #[test]
    fn p7_any_script_then_quiet_converges(
        t in topo(2..=5, false),
        seed: u64,
        script in proptest::collection::vec((0u64..20_000, chaos()), 0..12),
    ) {
        let mut sim = t.sim(seed);
        let n = t.prios.len();
        for r in 0..n {
            sim.schedule(Instant::ZERO, Action::Start(r));
        }
        let span = t.interval() * 20;
        let mut quiet = Instant::ZERO;
        for (at, ev) in script {
            let at = Instant::ZERO + span.mul_f64(at as f64 / 20_000.0);
            quiet = quiet.max(at);
            let action = match ev {
                Chaos::Crash(r) => Action::Crash(r % n),
                Chaos::Restart(r) => Action::Restart(r % n),
                Chaos::Shutdown(r) => Action::Shutdown(r % n),
                Chaos::Priority(r, p) => Action::SetPriority(r % n, p),
                Chaos::Partition(sides) => Action::Partition(sides[..n].to_vec()),
                Chaos::Heal => Action::Heal,
                Chaos::Loss(p) => Action::SetLoss(p),
            };
            sim.schedule(at, action);
        }
        let quiet = quiet + Duration::from_micros(1);
        sim.schedule(quiet, Action::Heal);
        sim.schedule(quiet, Action::SetLoss(0.0));
        let deadline = quiet + t.max_mdi() * 3 + t.interval();
        sim.run_until(deadline);
        let alive: Vec<usize> = (0..n).filter(|&r| sim.state(r) != State::Initialize).collect();
        let masters = sim.masters();
        if alive.is_empty() {
            prop_assert!(masters.is_empty());
        } else {
            prop_assert_eq!(masters.len(), 1, "masters {:?} alive {:?} {:?}", masters, alive, t);
            let top = alive.iter().map(|&r| sim.config(r).priority).max();
            prop_assert_eq!(Some(sim.config(masters[0]).priority), top, "{:?}", t);
            for &r in &alive {
                if r != masters[0] {
                    prop_assert_eq!(sim.state(r), State::Backup);
                }
            }
        }
        prop_assert_eq!(sim.stats().codec_rejects, 0);
    }
}

// ---- 6. no output ever carries a packet the codec would reject ----------------------------------

#[derive(Clone, Debug)]
enum Ev {
    Startup,
    Shutdown,
    Timeout,
    Advert {
        prio: u8,
        higher_addr: bool,
        interval_cs: u16,
    },
    SetPriority(u8),
    Iface(bool),
    Track(bool),
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        1 => Just(Ev::Startup),
        1 => Just(Ev::Shutdown),
        4 => Just(Ev::Timeout),
        4 => (any::<u8>(), any::<bool>(), 1u16..=4095).prop_map(|(prio, higher_addr, interval_cs)| Ev::Advert { prio, higher_addr, interval_cs }),
        1 => (1u8..=255).prop_map(Ev::SetPriority),
        1 => any::<bool>().prop_map(Ev::Iface),
        1 => any::<bool>().prop_map(Ev::Track),
    ]
}

#[derive(Clone, Debug)]
struct AnyCfg {
    v6: bool,
    version: Version,
    interval_cs: u16,
    prio: u8,
    vips: usize,
    unicast: usize,
    auth: bool,
    weight: i16,
}

fn any_cfg() -> impl Strategy<Value = AnyCfg> {
    (
        any::<bool>(),
        any::<bool>(),
        1u16..=4095,
        1u8..=255,
        1usize..=20,
        0usize..=3,
        any::<bool>(),
        -254i16..=254,
    )
        .prop_map(|(v6, v3, iv, prio, vips, unicast, auth, weight)| {
            let version = if v6 || v3 { Version::V3 } else { Version::V2 };
            let interval_cs = if version == Version::V2 {
                (iv % 255 + 1) * 100
            } else {
                iv
            };
            AnyCfg {
                v6,
                version,
                interval_cs,
                prio,
                vips,
                unicast,
                auth: auth && version == Version::V2,
                weight,
            }
        })
}

impl AnyCfg {
    fn addr(&self, k: u16) -> IpAddr {
        if self.v6 {
            if k == 0 {
                IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100))
            } else {
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, k))
            }
        } else {
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, k as u8))
        }
    }
    fn config(&self) -> Config {
        let me = if self.v6 {
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x10))
        } else {
            self.addr(250)
        };
        let vips = (0..self.vips as u16)
            .map(|k| self.addr(k + u16::from(!self.v6)))
            .collect();
        let mut c = Config::new(
            self.version,
            42,
            self.prio,
            Interval::from_centis(self.interval_cs),
            me,
            vips,
        );
        c.unicast_peers = (0..self.unicast as u16)
            .map(|k| self.addr(200 + k))
            .collect();
        if self.auth {
            c.auth = Auth::simple_text(b"secret");
        }
        c.tracks = vec![vrrp_machine::Track::weighted(
            vrrp_machine::TrackId(1),
            self.weight,
        )];
        c
    }
}

proptest! {
    #![proptest_config(config())]

    /// 6. Every advert an instance asks for, whatever it went through, emits and passes the
    /// codec's receive validation for a peer configured like the sender.
    #[test]
    fn p6_every_transmit_passes_the_codec(c in any_cfg(), evs in proptest::collection::vec(ev(), 1..60)) {
        let cfg = c.config();
        let mut inst = Instance::new(cfg.clone(), Instant::ZERO).expect("generated config is valid");
        let wire = cfg.virtual_addresses.clone();
        let list = match wire[0] {
            IpAddr::V4(_) => vrrp_packet::AddressList::Ipv4(wire.iter().filter_map(|a| match a { IpAddr::V4(a) => Some(*a), IpAddr::V6(_) => None }).collect()),
            IpAddr::V6(_) => vrrp_packet::AddressList::Ipv6(wire.iter().filter_map(|a| match a { IpAddr::V6(a) => Some(*a), IpAddr::V4(_) => None }).collect()),
        };
        let modes = if c.version == Version::V2 { ChecksumModes::V2 } else { ChecksumModes::V3_PSEUDO };
        let mut vcfg = ValidationConfig::new(c.version)
            .with_vrid(42)
            .with_checksum_modes(modes)
            .with_interval(cfg.advert_interval)
            .with_addresses(list.as_addresses());
        if c.version == Version::V2 {
            vcfg = vcfg.with_auth(cfg.auth);
        }
        let mut now = Instant::ZERO;
        let mut buf = [0u8; 2048];
        for e in evs {
            match e {
                Ev::Startup => inst.handle_input(now, Input::Startup),
                Ev::Shutdown => inst.handle_input(now, Input::Shutdown),
                Ev::Timeout => if let Some(t) = inst.poll_timeout() { now = now.max(t); inst.handle_timeout(now); },
                Ev::Advert { prio, higher_addr, interval_cs } => {
                    let mut repr = vrrp_packet::Repr {
                        version: c.version, vrid: 42, priority: prio,
                        interval: Interval::from_centis(interval_cs), auth: cfg.auth, addresses: list.as_addresses(),
                    };
                    if c.version == Version::V2 { repr.interval = cfg.advert_interval; }
                    let src = if c.v6 {
                        IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, if higher_addr { 0x20 } else { 0x5 }))
                    } else {
                        c.addr(if higher_addr { 251 } else { 249 })
                    };
                    inst.handle_input(now, Input::Advert(vrrp_machine::Received { src, repr }));
                }
                Ev::SetPriority(p) => inst.handle_input(now, Input::SetPriority(p)),
                Ev::Iface(up) => inst.handle_input(now, if up { Input::InterfaceUp } else { Input::InterfaceDown }),
                Ev::Track(up) => inst.handle_input(now, Input::Track { id: vrrp_machine::TrackId(1), up }),
            }
            while let Some(o) = inst.poll_output() {
                if let Output::Transmit(tx) = o {
                    let repr = tx.advert.repr();
                    let mode = ChecksumMode::default_for(repr.version);
                    let n = repr.emit_into(&mut buf, cfg.primary_address, tx.dst, mode);
                    prop_assert!(n.is_some(), "emit failed for {:?}", tx);
                    let n = n.unwrap_or(0);
                    let dg = Datagram::new(cfg.primary_address, tx.dst, vrrp_packet::VRRP_TTL, &buf[..n]);
                    let v = dg.validate(&vcfg);
                    prop_assert!(v.is_ok(), "codec rejects {:?}: {:?}", tx, v);
                    // And through a full IP datagram as a raw socket would see it.
                    let env = vrrp_packet::Envelope::new(cfg.primary_address, tx.dst, repr.version);
                    let mut ipbuf = [0u8; 2200];
                    let m = vrrp_packet::emit_ip(&repr, &env, &mut ipbuf);
                    prop_assert!(m.is_ok(), "emit_ip failed: {:?}", m);
                    let m = m.unwrap_or(0);
                    let dg = if c.v6 { Datagram::parse_ipv6(&ipbuf[..m]) } else { Datagram::parse_ipv4(&ipbuf[..m]) };
                    prop_assert!(dg.is_ok_and(|d| d.validate(&vcfg).is_ok()));
                }
            }
        }
    }
}
