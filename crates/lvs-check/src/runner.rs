//! Drives the core with the probes: every check of every virtual server, with bounded
//! concurrency and absolute deadlines (no polling loop: the task sleeps until the earliest
//! deadline or the next result).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use crate::core::{Action, CheckId, Pool};
use crate::probe::{self, Outcome};
use crate::spec::{Probe, VirtualServerSpec};

/// Something that happened, for the caller to print, apply or count.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A check finished.
    Check {
        /// Time since the monitor started.
        t: Duration,
        /// Virtual server index.
        vs: usize,
        /// Which check.
        id: CheckId,
        /// When it was due (since start); `started - scheduled` is the timer lateness.
        scheduled: Duration,
        /// When it started (since start).
        started: Duration,
        /// Its result.
        outcome: Outcome,
    },
    /// A real server changed between up and down.
    Transition {
        /// Time since start.
        t: Duration,
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
        /// Now up.
        up: bool,
        /// The reason of the check that caused it.
        reason: String,
    },
    /// An intended pool change or notification.
    Action {
        /// Time since start.
        t: Duration,
        /// Virtual server index.
        vs: usize,
        /// The change.
        action: Action,
    },
}

/// The checks of a configuration, running.
#[derive(Debug)]
pub struct Monitor {
    specs: Vec<VirtualServerSpec>,
    pools: Vec<Pool>,
    probes: Vec<Vec<Vec<Arc<Probe>>>>,
    sem: Arc<Semaphore>,
}

impl Monitor {
    /// A monitor for these virtual servers; at most `max_concurrent` checks run at once; `seed`
    /// drives the warmup delays.
    pub fn new(specs: Vec<VirtualServerSpec>, seed: u64, max_concurrent: usize) -> Self {
        let pools = specs
            .iter()
            .enumerate()
            .map(|(i, s)| Pool::new(s.pool_config(), seed.wrapping_add(i as u64)))
            .collect();
        let probes = specs
            .iter()
            .map(|v| {
                v.real_servers
                    .iter()
                    .map(|r| r.checks.iter().map(|c| Arc::new(c.probe.clone())).collect())
                    .collect()
            })
            .collect();
        Self {
            specs,
            pools,
            probes,
            sem: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    /// The virtual servers.
    pub fn specs(&self) -> &[VirtualServerSpec] {
        &self.specs
    }

    /// The pools (state of each virtual server).
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// Runs until `stop` completes, calling `sink` for every event. Returns the monitor with its
    /// final state.
    pub async fn run(
        mut self,
        stop: impl Future<Output = ()>,
        mut sink: impl FnMut(&Self, Event),
    ) -> Self {
        let start = Instant::now();
        let since = move |i: Instant| i.saturating_duration_since(start);
        let (tx, mut rx) =
            mpsc::unbounded_channel::<(usize, CheckId, Duration, Duration, Outcome)>();
        for v in 0..self.pools.len() {
            for action in self.pools[v].start(Duration::ZERO) {
                sink(
                    &self,
                    Event::Action {
                        t: Duration::ZERO,
                        vs: v,
                        action,
                    },
                );
            }
        }
        tokio::pin!(stop);
        loop {
            let now = since(Instant::now());
            for v in 0..self.pools.len() {
                if self.pools[v].next_deadline().is_none_or(|d| d > now) {
                    continue;
                }
                for id in self.pools[v].due(now) {
                    let scheduled = self.pools[v].scheduled_at(id).unwrap_or(now);
                    let probe = self.probes[v][id.rs][id.check].clone();
                    let sem = self.sem.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let Ok(_permit) = sem.acquire_owned().await else {
                            return;
                        };
                        let started = since(Instant::now());
                        let outcome = probe::run(&probe).await;
                        let _ = tx.send((v, id, scheduled, started, outcome));
                    });
                }
            }
            let next = self.pools.iter().filter_map(Pool::next_deadline).min();
            let sleep = tokio::time::sleep_until(start + next.unwrap_or(Duration::from_secs(3600)));
            tokio::select! {
                () = &mut stop => break,
                Some(first) = rx.recv() => {
                    // Every result that is already there, then one scheduling pass.
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    let t = since(Instant::now());
                    for (v, id, scheduled, started, outcome) in batch {
                        let was = self.pools[v].is_alive(id.rs);
                        let actions = self.pools[v].on_result(t, id, outcome.result());
                        let now_up = self.pools[v].is_alive(id.rs);
                        let reason = outcome.reason.clone();
                        sink(&self, Event::Check { t, vs: v, id, scheduled, started, outcome });
                        if was != now_up {
                            sink(&self, Event::Transition { t, vs: v, rs: id.rs, up: now_up, reason });
                        }
                        for action in actions {
                            sink(&self, Event::Action { t, vs: v, action });
                        }
                    }
                }
                () = sleep => {}
            }
        }
        self
    }
}

/// The result of running every check once.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OnceReport {
    /// Per virtual server: (check id, outcome) in configuration order.
    pub results: Vec<Vec<(CheckId, Outcome)>>,
    /// Per virtual server: the pool once every result is applied as final.
    pub pools: Vec<Pool>,
}

impl OnceReport {
    /// Whether every check passed.
    pub fn all_ok(&self) -> bool {
        self.results.iter().flatten().all(|(_, o)| o.ok)
    }
}

/// Runs every check of every virtual server once (at most `max_concurrent` at a time) and
/// computes the pool each virtual server would have.
pub async fn run_once(specs: &[VirtualServerSpec], max_concurrent: usize) -> OnceReport {
    let sem = Arc::new(Semaphore::new(max_concurrent.max(1)));
    let mut handles = Vec::new();
    for (v, vs) in specs.iter().enumerate() {
        for (r, rs) in vs.real_servers.iter().enumerate() {
            for (c, ck) in rs.checks.iter().enumerate() {
                let probe = ck.probe.clone();
                let sem = sem.clone();
                let id = CheckId { rs: r, check: c };
                handles.push((
                    v,
                    id,
                    tokio::spawn(async move {
                        let _permit = sem.acquire_owned().await;
                        probe::run(&probe).await
                    }),
                ));
            }
        }
    }
    let mut results: Vec<Vec<(CheckId, Outcome)>> = vec![Vec::new(); specs.len()];
    for (v, id, h) in handles {
        let outcome = match h.await {
            Ok(o) => o,
            Err(e) => Outcome {
                ok: false,
                weight: None,
                reason: format!("check task failed: {e}"),
                elapsed: Duration::ZERO,
            },
        };
        results[v].push((id, outcome));
    }
    let pools = specs
        .iter()
        .zip(&results)
        .map(|(s, res)| {
            let mut p = Pool::new(s.pool_config(), 0);
            p.start(Duration::ZERO);
            for (id, o) in res {
                p.on_result_final(Duration::ZERO, *id, o.result());
            }
            p
        })
        .collect();
    OnceReport { results, pools }
}
