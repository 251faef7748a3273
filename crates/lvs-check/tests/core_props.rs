//! Properties of the sans-IO core against small reference models of keepalived's rules.

use std::time::Duration;

use lvs_check::core::{
    Action, CheckId, CheckResult, Dest, Pool, PoolConfig, RealServerConfig, SorryConfig, Timing,
};
use proptest::prelude::*;

fn timing(retry: u32, alpha: bool) -> Timing {
    Timing {
        delay_loop: Duration::from_secs(6),
        retry,
        delay_before_retry: Duration::from_secs(1),
        warmup: Duration::ZERO,
        alpha,
    }
}

/// Runs one check of `rs`/`check` at the pool's next deadline with this result.
fn step(pool: &mut Pool, now: &mut Duration, id: CheckId, r: CheckResult) -> Vec<Action> {
    let t = pool.scheduled_at(id).unwrap();
    *now = (*now).max(t);
    let due = pool.due(*now);
    assert!(due.contains(&id), "{id:?} not due at {now:?}");
    let mut actions = Vec::new();
    for d in due {
        if d == id {
            actions.extend(pool.on_result(*now, d, r));
        } else {
            // Other checks due at the same time keep their state: report what they are.
            let up = pool.check_is_up(d);
            actions.extend(pool.on_result(
                *now,
                d,
                if up {
                    CheckResult::ok()
                } else {
                    CheckResult::fail()
                },
            ));
        }
    }
    actions
}

/// keepalived's checker rule: down after retry+1 consecutive failures while up; one success up.
#[derive(Debug)]
struct Model {
    up: bool,
    fails: u32,
    retry: u32,
}

impl Model {
    /// Returns (transition, retry scheduled).
    fn feed(&mut self, ok: bool) -> (Option<bool>, bool) {
        if ok {
            self.fails = 0;
            if self.up {
                (None, false)
            } else {
                self.up = true;
                (Some(true), false)
            }
        } else if self.up {
            self.fails += 1;
            if self.fails > self.retry {
                self.up = false;
                self.fails = 0;
                (Some(false), false)
            } else {
                (None, true)
            }
        } else {
            (None, false)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// No transition without retry+1 consecutive failures (down) or a success (up), and the
    /// schedule is delay_before_retry after a failure that is retried, the delay_loop grid
    /// otherwise.
    #[test]
    fn single_checker_follows_keepalived(retry in 0u32..4, alpha in any::<bool>(),
                                         results in proptest::collection::vec(any::<bool>(), 1..60)) {
        let mut pool = Pool::new(PoolConfig::new(vec![RealServerConfig::new(3, vec![timing(retry, alpha)])]), 1);
        let start = pool.start(Duration::ZERO);
        prop_assert_eq!(start.contains(&Action::Add { dest: Dest::Real(0), weight: 3 }), !alpha);
        let mut model = Model { up: !alpha, fails: 0, retry };
        let id = CheckId { rs: 0, check: 0 };
        let mut now = Duration::ZERO;
        for ok in results {
            let actions = step(&mut pool, &mut now, id, if ok { CheckResult::ok() } else { CheckResult::fail() });
            let (transition, retried) = model.feed(ok);
            prop_assert_eq!(pool.is_alive(0), model.up);
            match transition {
                Some(true) => {
                    prop_assert!(actions.contains(&Action::Add { dest: Dest::Real(0), weight: 3 }), "{:?}", actions);
                    prop_assert!(actions.contains(&Action::NotifyUp(0)));
                }
                Some(false) => {
                    prop_assert!(actions.contains(&Action::Remove { dest: Dest::Real(0) }), "{:?}", actions);
                    prop_assert!(actions.contains(&Action::NotifyDown(0)));
                }
                None => prop_assert!(!actions.iter().any(|a| matches!(a,
                    Action::Add { .. } | Action::Remove { .. } | Action::NotifyUp(_))), "{:?}", actions),
            }
            let next = pool.next_deadline().unwrap();
            if retried {
                prop_assert_eq!(next, now + Duration::from_secs(1));
            } else {
                prop_assert!(next > now && next.as_secs() % 6 == 0 && next - now <= Duration::from_secs(6));
            }
        }
    }

    /// A real server is alive exactly when all its checkers are up.
    #[test]
    fn server_alive_iff_all_checkers_up(retries in proptest::collection::vec(0u32..3, 1..4),
                                        results in proptest::collection::vec((0usize..4, any::<bool>()), 1..80)) {
        let n = retries.len();
        let checks = retries.iter().map(|&r| timing(r, false)).collect();
        let mut pool = Pool::new(PoolConfig::new(vec![RealServerConfig::new(1, checks)]), 9);
        pool.start(Duration::ZERO);
        let mut models: Vec<Model> = retries.iter().map(|&r| Model { up: true, fails: 0, retry: r }).collect();
        let mut now = Duration::ZERO;
        for (c, ok) in results {
            let c = c % n;
            let id = CheckId { rs: 0, check: c };
            // Every due check gets a result; `step` reports the others' current state, which
            // the models must see as well.
            let t = pool.scheduled_at(id).unwrap();
            now = now.max(t);
            let due = pool.due(now);
            for d in due {
                let r = if d == id { ok } else { pool.check_is_up(d) };
                pool.on_result(now, d, if r { CheckResult::ok() } else { CheckResult::fail() });
                models[d.check].feed(r);
            }
            for (i, m) in models.iter().enumerate() {
                prop_assert_eq!(pool.check_is_up(CheckId { rs: 0, check: i }), m.up);
            }
            prop_assert_eq!(pool.is_alive(0), models.iter().all(|m| m.up));
        }
    }

    /// Quorum changes exactly at the hysteresis thresholds: lost below quorum - hysteresis (or at
    /// 0), gained at quorum + hysteresis; within the band it never flaps. The pool always matches
    /// the server states (sorry server, inhibit_on_failure).
    #[test]
    fn quorum_hysteresis_and_pool(n in 2usize..7, q in 1u32..7, h in 0u32..4, sorry in any::<bool>(),
                                  sorry_inhibit in any::<bool>(),
                                  inhibit in proptest::collection::vec(any::<bool>(), 7),
                                  results in proptest::collection::vec((0usize..7, any::<bool>()), 1..80)) {
        let q = q.min(n as u32);
        let rss = (0..n).map(|i| RealServerConfig::new(1, vec![timing(0, false)]).inhibit(inhibit[i])).collect();
        let cfg = PoolConfig::new(rss).quorum(q, h).sorry(sorry.then_some(SorryConfig { inhibit: sorry_inhibit }));
        let mut pool = Pool::new(cfg, 3);
        let start = pool.start(Duration::ZERO);
        let mut quorum = n as u32 >= q + h;
        prop_assert_eq!(pool.quorum_up(), quorum);
        prop_assert_eq!(start.contains(&Action::QuorumUp), quorum);
        let mut now = Duration::ZERO;
        for (i, ok) in results {
            let id = CheckId { rs: i % n, check: 0 };
            let actions = step(&mut pool, &mut now, id, if ok { CheckResult::ok() } else { CheckResult::fail() });
            let sum = (0..n).filter(|&r| pool.is_alive(r)).count() as u32;
            let before = quorum;
            if quorum && (sum == 0 || sum + h < q) {
                quorum = false;
            } else if !quorum && sum >= q + h {
                quorum = true;
            }
            prop_assert_eq!(pool.quorum_up(), quorum, "sum {} q {} h {}", sum, q, h);
            prop_assert_eq!(actions.contains(&Action::QuorumDown), before && !quorum);
            prop_assert_eq!(actions.contains(&Action::QuorumUp), !before && quorum);
            // The pool.
            let sorry_active = sorry && !quorum;
            prop_assert_eq!(pool.sorry_active(), sorry_active);
            let mut want = Vec::new();
            for (r, &inh) in inhibit.iter().enumerate().take(n) {
                let alive = pool.is_alive(r);
                if alive && !sorry_active {
                    want.push((Dest::Real(r), 1));
                } else if inh {
                    want.push((Dest::Real(r), 0));
                }
            }
            if sorry_active {
                want.push((Dest::Sorry, 1));
            } else if sorry && sorry_inhibit {
                want.push((Dest::Sorry, 0));
            }
            prop_assert_eq!(pool.members(), want);
        }
    }
}

#[test]
fn flapping_inside_the_band_keeps_quorum() {
    // 4 servers of weight 1, quorum 3, hysteresis 1: lost below 2, regained at 4.
    let rss = (0..4)
        .map(|_| RealServerConfig::new(1, vec![timing(0, false)]))
        .collect();
    let cfg = PoolConfig::new(rss)
        .quorum(3, 1)
        .sorry(Some(SorryConfig { inhibit: false }));
    let mut pool = Pool::new(cfg, 0);
    pool.start(Duration::ZERO);
    assert!(pool.quorum_up());
    let mut now = Duration::ZERO;
    let id = |rs| CheckId { rs, check: 0 };
    // Server 3 flaps; server 2 flaps too: the sum moves between 2 and 4, never below 2.
    for round in 0..20 {
        let ok = round % 2 == 1;
        for a in step(&mut pool, &mut now, id(3), CheckResult { ok, weight: None }) {
            assert!(!matches!(a, Action::QuorumDown | Action::QuorumUp), "{a:?}");
        }
        for a in step(&mut pool, &mut now, id(2), CheckResult { ok, weight: None }) {
            assert!(!matches!(a, Action::QuorumDown | Action::QuorumUp), "{a:?}");
        }
        assert!(pool.quorum_up());
        assert!(!pool.sorry_active());
    }
    // One more loss (sum 1 < 3 - 1): quorum lost, the sorry server replaces the survivors.
    step(&mut pool, &mut now, id(3), CheckResult::fail());
    step(&mut pool, &mut now, id(2), CheckResult::fail());
    let a = step(&mut pool, &mut now, id(1), CheckResult::fail());
    assert!(a.contains(&Action::QuorumDown), "{a:?}");
    assert_eq!(pool.members(), vec![(Dest::Sorry, 1)]);
    // Recovery needs 4 alive (3 + 1): at 3 the sorry server stays.
    step(&mut pool, &mut now, id(1), CheckResult::ok());
    step(&mut pool, &mut now, id(2), CheckResult::ok());
    assert!(!pool.quorum_up());
    let a = step(&mut pool, &mut now, id(3), CheckResult::ok());
    assert!(a.contains(&Action::QuorumUp), "{a:?}");
    assert_eq!(
        pool.members(),
        (0..4).map(|r| (Dest::Real(r), 1)).collect::<Vec<_>>()
    );
}

#[test]
fn misc_dynamic_weight_and_inhibit() {
    let cfg = PoolConfig::new(vec![
        RealServerConfig::new(5, vec![timing(0, false)]).inhibit(true),
    ]);
    let mut pool = Pool::new(cfg, 0);
    assert_eq!(
        pool.start(Duration::ZERO),
        vec![
            Action::Add {
                dest: Dest::Real(0),
                weight: 5
            },
            Action::QuorumUp
        ]
    );
    let mut now = Duration::ZERO;
    let id = CheckId { rs: 0, check: 0 };
    // Exit status 12 with misc_dynamic: weight 10.
    let a = step(&mut pool, &mut now, id, CheckResult::weight(10));
    assert_eq!(
        a,
        vec![Action::SetWeight {
            dest: Dest::Real(0),
            weight: 10
        }]
    );
    // Failure with inhibit_on_failure: weight 0, not removed.
    let a = step(&mut pool, &mut now, id, CheckResult::fail());
    assert_eq!(
        a,
        vec![
            Action::SetWeight {
                dest: Dest::Real(0),
                weight: 0
            },
            Action::NotifyDown(0),
            Action::QuorumDown
        ]
    );
    // Back with exit status 0: the last dynamic weight.
    let a = step(&mut pool, &mut now, id, CheckResult::ok());
    assert_eq!(
        a,
        vec![
            Action::SetWeight {
                dest: Dest::Real(0),
                weight: 10
            },
            Action::NotifyUp(0),
            Action::QuorumUp
        ]
    );
}

#[test]
fn alpha_starts_down_and_warmup_is_seeded() {
    let t = Timing {
        warmup: Duration::from_secs(10),
        ..timing(1, true)
    };
    let cfg = PoolConfig::new(vec![
        RealServerConfig::new(1, vec![t]),
        RealServerConfig::new(1, vec![t]),
    ]);
    let mut a = Pool::new(cfg.clone(), 42);
    let mut b = Pool::new(cfg.clone(), 42);
    let mut c = Pool::new(cfg, 43);
    // alpha: nothing in the pool, no quorum, no notification.
    assert!(a.start(Duration::ZERO).is_empty());
    b.start(Duration::ZERO);
    c.start(Duration::ZERO);
    let first = |p: &Pool| [0, 1].map(|rs| p.scheduled_at(CheckId { rs, check: 0 }).unwrap());
    assert_eq!(first(&a), first(&b));
    assert_ne!(first(&a), first(&c));
    for d in first(&a) {
        assert!(d <= Duration::from_secs(10));
    }
    // One success brings an alpha server up.
    let id = CheckId { rs: 0, check: 0 };
    let at = a.scheduled_at(id).unwrap();
    let due = a.due(at);
    assert!(due.contains(&id));
    let actions = a.on_result(at, id, CheckResult::ok());
    assert_eq!(
        actions,
        vec![
            Action::Add {
                dest: Dest::Real(0),
                weight: 1
            },
            Action::NotifyUp(0),
            Action::QuorumUp
        ]
    );
}
