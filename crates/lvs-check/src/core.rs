//! The sans-IO core: one [`Pool`] per virtual server.
//!
//! The pool holds every real server, each with its checkers, and implements keepalived's
//! checker semantics (`check_api.c`/`ipwrapper.c` as documented in keepalived.conf(5)):
//!
//! - A checker of a server that is up fails `retry` more times, `delay_before_retry` apart,
//!   before it is declared down: **down after `retry + 1` consecutive failures**. While down it
//!   is checked every `delay_loop`, and **one success brings it up**.
//! - `alpha`: the checker starts down (the real server is not in the pool until it succeeds);
//!   otherwise it starts up and the real server is in the pool from the start.
//! - A real server is alive when all its checkers are up.
//! - `inhibit_on_failure`: a failed server stays in the pool with weight 0 instead of being removed.
//! - `MISC_CHECK misc_dynamic` (and dynamic `FILE_CHECK`) results carry a weight.
//! - Quorum: the sum of the weights of the alive servers; quorum is lost when the sum falls below
//!   `quorum - hysteresis` (or is 0), gained when it reaches `quorum + hysteresis`. On loss the
//!   sorry server, if any, replaces every alive server; on gain it is removed again.
//!
//! Time enters as an argument ([`Duration`] since any epoch the caller picks) and the pool says
//! when it next needs attention ([`Pool::next_deadline`]). Its output is a list of [`Action`]s for
//! the IPVS layer and the script runner.
//!
//! One deliberate difference from keepalived: the periodic checks of a checker are aligned on a
//! grid (`first + k * delay_loop`), so a slow check does not push every later check back; keepalived
//! schedules the next check `delay_loop` after the previous one *finished*.
//!
//! ```
//! use std::time::Duration;
//! use lvs_check::core::{Action, Dest, Pool, PoolConfig, RealServerConfig, Timing, CheckResult};
//!
//! let s = Duration::from_secs;
//! let timing = Timing { delay_loop: s(6), retry: 1, delay_before_retry: s(1), warmup: s(0), alpha: false };
//! let cfg = PoolConfig::new(vec![RealServerConfig::new(1, vec![timing]), RealServerConfig::new(1, vec![timing])]);
//! let mut pool = Pool::new(cfg, 7);
//! let actions = pool.start(s(0));
//! assert!(actions.contains(&Action::Add { dest: Dest::Real(0), weight: 1 }));
//!
//! // Server 0 fails twice (retry 1): removed at the second failure, 1 s later.
//! let due = pool.due(s(0));
//! assert_eq!(due.len(), 2);
//! assert!(pool.on_result(s(0), due[0], CheckResult::fail()).is_empty());
//! assert!(pool.on_result(s(0), due[1], CheckResult::ok()).is_empty());
//! assert_eq!(pool.next_deadline(), Some(s(1)));
//! let due = pool.due(s(1));
//! let actions = pool.on_result(s(1), due[0], CheckResult::fail());
//! assert_eq!(actions, vec![Action::Remove { dest: Dest::Real(0) }, Action::NotifyDown(0)]);
//! assert_eq!(pool.members(), vec![(Dest::Real(1), 1)]);
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// Timing options of one checker (keepalived's effective values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Interval between checks.
    pub delay_loop: Duration,
    /// Additional attempts before an up checker is declared down.
    pub retry: u32,
    /// Delay before each additional attempt.
    pub delay_before_retry: Duration,
    /// Maximum random delay before the first check (0: check at start).
    pub warmup: Duration,
    /// Start down.
    pub alpha: bool,
}

/// The result of one check, as the core needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckResult {
    /// The check passed.
    pub ok: bool,
    /// A new weight for the real server (MISC_CHECK misc_dynamic, dynamic FILE_CHECK).
    pub weight: Option<u32>,
}

impl CheckResult {
    /// A pass.
    pub const fn ok() -> Self {
        Self {
            ok: true,
            weight: None,
        }
    }
    /// A failure.
    pub const fn fail() -> Self {
        Self {
            ok: false,
            weight: None,
        }
    }
    /// A pass that sets the weight.
    pub const fn weight(w: u32) -> Self {
        Self {
            ok: true,
            weight: Some(w),
        }
    }
}

/// One real server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RealServerConfig {
    /// Configured weight.
    pub weight: u32,
    /// `inhibit_on_failure`.
    pub inhibit: bool,
    /// One entry per checker.
    pub checks: Vec<Timing>,
}

impl RealServerConfig {
    /// A server with this weight and these checkers.
    pub fn new(weight: u32, checks: Vec<Timing>) -> Self {
        Self {
            weight,
            inhibit: false,
            checks,
        }
    }
    /// Sets `inhibit_on_failure`.
    #[must_use]
    pub fn inhibit(mut self, inhibit: bool) -> Self {
        self.inhibit = inhibit;
        self
    }
}

/// The sorry server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SorryConfig {
    /// `sorry_server_inhibit`: kept in the pool with weight 0 when unused.
    pub inhibit: bool,
}

/// One virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `hysteresis` (default 0).
    pub hysteresis: u32,
    /// `sorry_server`.
    pub sorry: Option<SorryConfig>,
    /// `omega`: run the down notifiers on [`Pool::stop`].
    pub omega: bool,
    /// Real servers.
    pub real_servers: Vec<RealServerConfig>,
}

impl PoolConfig {
    /// Quorum 1, no hysteresis, no sorry server.
    pub fn new(real_servers: Vec<RealServerConfig>) -> Self {
        Self {
            quorum: 1,
            hysteresis: 0,
            sorry: None,
            omega: false,
            real_servers,
        }
    }
    /// Sets quorum and hysteresis.
    #[must_use]
    pub fn quorum(mut self, quorum: u32, hysteresis: u32) -> Self {
        self.quorum = quorum;
        self.hysteresis = hysteresis;
        self
    }
    /// Sets the sorry server.
    #[must_use]
    pub fn sorry(mut self, sorry: Option<SorryConfig>) -> Self {
        self.sorry = sorry;
        self
    }
    /// Sets omega.
    #[must_use]
    pub fn omega(mut self, omega: bool) -> Self {
        self.omega = omega;
        self
    }
}

/// A destination of the virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dest {
    /// Real server by index.
    Real(usize),
    /// The sorry server.
    Sorry,
}

/// An intended change, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Add the destination with this weight.
    Add {
        /// Which.
        dest: Dest,
        /// Weight.
        weight: u32,
    },
    /// Change the weight of a destination already in the pool.
    SetWeight {
        /// Which.
        dest: Dest,
        /// Weight.
        weight: u32,
    },
    /// Remove the destination.
    Remove {
        /// Which.
        dest: Dest,
    },
    /// Run the real server's `notify_up`.
    NotifyUp(usize),
    /// Run the real server's `notify_down`.
    NotifyDown(usize),
    /// Run `quorum_up`.
    QuorumUp,
    /// Run `quorum_down`.
    QuorumDown,
}

/// Identifies one checker of one real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckId {
    /// Real server index.
    pub rs: usize,
    /// Checker index within the real server.
    pub check: usize,
}

#[derive(Debug, Clone)]
struct CheckState {
    timing: Timing,
    is_up: bool,
    has_run: bool,
    retry_it: u32,
    anchor: Duration,
    next: Duration,
    in_flight: bool,
    /// Bumped at every reschedule: older entries in the deadline heap are stale.
    generation: u32,
}

#[derive(Debug, Clone)]
struct RsState {
    weight: u32,
    inhibit: bool,
    alive: bool,
    /// In the kernel table, with this weight.
    set: Option<u32>,
    effective_weight: u32,
    num_failed: u32,
    checks: Vec<CheckState>,
}

/// The state of one virtual server's pool.
#[derive(Debug, Clone)]
pub struct Pool {
    quorum: u32,
    hysteresis: u32,
    sorry: Option<SorryConfig>,
    omega: bool,
    sorry_alive: bool,
    sorry_set: Option<u32>,
    quorum_up: bool,
    rs: Vec<RsState>,
    rng: u64,
    started: bool,
    /// (deadline, generation, rs, check) of every check not in flight; O(log n) scheduling.
    heap: BinaryHeap<Reverse<(Duration, u32, usize, usize)>>,
}

enum Next {
    Loop,
    Retry,
}

impl Pool {
    /// A pool; `seed` drives the warmup delays (deterministic for a given seed).
    pub fn new(cfg: PoolConfig, seed: u64) -> Self {
        let rs = cfg
            .real_servers
            .into_iter()
            .map(|r| RsState {
                weight: r.weight,
                inhibit: r.inhibit,
                alive: false,
                set: None,
                effective_weight: r.weight,
                num_failed: r.checks.iter().filter(|t| t.alpha).count() as u32,
                checks: r
                    .checks
                    .into_iter()
                    .map(|timing| CheckState {
                        timing,
                        is_up: !timing.alpha,
                        has_run: false,
                        retry_it: 0,
                        anchor: Duration::ZERO,
                        next: Duration::ZERO,
                        in_flight: false,
                        generation: 0,
                    })
                    .collect(),
            })
            .collect();
        Self {
            quorum: cfg.quorum,
            hysteresis: cfg.hysteresis,
            sorry: cfg.sorry,
            omega: cfg.omega,
            sorry_alive: false,
            sorry_set: None,
            quorum_up: false,
            rs,
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            started: false,
            heap: BinaryHeap::new(),
        }
    }

    fn random_fraction(&mut self) -> f64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Starts the pool at `now`: schedules the first checks (after their random warmup) and
    /// returns the initial pool (servers without `alpha` are added at once).
    pub fn start(&mut self, now: Duration) -> Vec<Action> {
        if self.started {
            return Vec::new();
        }
        // Room for every server, the sorry server and a quorum change: no regrowth.
        let mut out = Vec::with_capacity(self.rs.len() + 3);
        self.started = true;
        for i in 0..self.rs.len() {
            for c in 0..self.rs[i].checks.len() {
                let warmup = self.rs[i].checks[c].timing.warmup;
                let delay = warmup.mul_f64(self.random_fraction());
                let ck = &mut self.rs[i].checks[c];
                ck.anchor = now + delay;
                ck.next = now + delay;
                self.heap.push(Reverse((ck.next, ck.generation, i, c)));
            }
            let rs = &mut self.rs[i];
            if (rs.num_failed == 0 && !rs.alive) || (rs.inhibit && rs.set.is_none()) {
                let weight = if rs.num_failed == 0 {
                    rs.effective_weight
                } else {
                    0
                };
                out.push(Action::Add {
                    dest: Dest::Real(i),
                    weight,
                });
                rs.set = Some(weight);
                if rs.num_failed == 0 {
                    rs.alive = true;
                }
            }
        }
        self.update_quorum(true, &mut out);
        if let Some(s) = self.sorry {
            if s.inhibit && self.sorry_set.is_none() {
                out.push(Action::Add {
                    dest: Dest::Sorry,
                    weight: 0,
                });
                self.sorry_set = Some(0);
            }
        }
        out
    }

    /// Starts the pool at `now` as the successor of `old` after a configuration reload: each
    /// pair `(new, old)` of `same` names a real server that is unchanged (same address, same
    /// checkers); it keeps its checkers' state (up/down, retries, next check time) and its
    /// dynamic weight. The others start as in [`Pool::start`]. The quorum and sorry-server
    /// state carry over too, then the quorum is re-evaluated with the new configuration.
    ///
    /// Afterwards [`Pool::members`] is the table the kernel should hold; the returned actions
    /// are the notifications (and pool changes) the re-evaluation caused. A check of `old`
    /// that was in flight is due again at once.
    pub fn carry_over(
        &mut self,
        now: Duration,
        old: &Self,
        same: &[(usize, usize)],
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if self.started {
            return out;
        }
        self.started = true;
        self.quorum_up = old.quorum_up;
        self.sorry_alive = old.sorry_alive && self.sorry.is_some();
        for i in 0..self.rs.len() {
            let prev = same
                .iter()
                .find(|(n, _)| *n == i)
                .and_then(|&(_, o)| old.rs.get(o))
                .filter(|o| o.checks.len() == self.rs[i].checks.len());
            if let Some(o) = prev {
                let rs = &mut self.rs[i];
                rs.alive = o.alive;
                rs.num_failed = o.num_failed;
                if o.effective_weight != o.weight {
                    // A dynamic checker's weight stays until its next result.
                    rs.effective_weight = o.effective_weight;
                }
                for (c, oc) in rs.checks.iter_mut().zip(&o.checks) {
                    c.is_up = oc.is_up;
                    c.has_run = oc.has_run;
                    c.retry_it = oc.retry_it;
                    c.anchor = oc.anchor;
                    c.next = if oc.in_flight { now } else { oc.next };
                }
            } else {
                for c in 0..self.rs[i].checks.len() {
                    let warmup = self.rs[i].checks[c].timing.warmup;
                    let delay = warmup.mul_f64(self.random_fraction());
                    let ck = &mut self.rs[i].checks[c];
                    ck.anchor = now + delay;
                    ck.next = now + delay;
                }
                let rs = &mut self.rs[i];
                rs.alive = rs.num_failed == 0;
            }
            for (c, ck) in self.rs[i].checks.iter().enumerate() {
                self.heap.push(Reverse((ck.next, ck.generation, i, c)));
            }
        }
        let in_use = self.pool_in_use();
        for rs in &mut self.rs {
            rs.set = if rs.alive && in_use {
                Some(rs.effective_weight)
            } else if rs.inhibit {
                Some(0)
            } else {
                None
            };
        }
        self.sorry_set = match self.sorry {
            Some(_) if self.sorry_alive => Some(1),
            Some(s) if s.inhibit => Some(0),
            _ => None,
        };
        // `init`: a sorry server new in this configuration comes up if the quorum is down.
        self.update_quorum(true, &mut out);
        out
    }

    /// The checks due at `now`, marked in flight (they are not due again until their result
    /// is reported with [`Pool::on_result`]).
    pub fn due(&mut self, now: Duration) -> Vec<CheckId> {
        let mut v = Vec::new();
        if !self.started {
            return v;
        }
        while let Some(&Reverse((t, generation, i, c))) = self.heap.peek() {
            if t > now {
                break;
            }
            self.heap.pop();
            let ck = &mut self.rs[i].checks[c];
            if ck.in_flight || ck.generation != generation {
                continue;
            }
            ck.in_flight = true;
            v.push(CheckId { rs: i, check: c });
        }
        v.sort_unstable();
        v
    }

    /// The earliest time a check that is not in flight is due.
    pub fn next_deadline(&self) -> Option<Duration> {
        if !self.started {
            return None;
        }
        // A stale entry (left by a check rescheduled through `on_result_final`) can make this
        // earlier than the truth: the caller then wakes once for nothing, and `due` drops it.
        self.heap.peek().map(|Reverse((t, ..))| *t)
    }

    /// Reports the result of a check started from [`Pool::due`].
    pub fn on_result(&mut self, now: Duration, id: CheckId, result: CheckResult) -> Vec<Action> {
        self.result(now, id, result, false)
    }

    /// Reports a result as final: a failure takes the checker down at once, with no retries
    /// (what keepalived does for a checker whose server has already failed; used by one-shot runs).
    pub fn on_result_final(
        &mut self,
        now: Duration,
        id: CheckId,
        result: CheckResult,
    ) -> Vec<Action> {
        self.result(now, id, result, true)
    }

    fn result(
        &mut self,
        now: Duration,
        id: CheckId,
        result: CheckResult,
        last: bool,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(ck) = self.rs.get(id.rs).and_then(|r| r.checks.get(id.check)) else {
            return out;
        };
        if !ck.in_flight && !last {
            return out;
        }
        if last {
            let ck = &mut self.rs[id.rs].checks[id.check];
            ck.retry_it = ck.retry_it.max(ck.timing.retry);
        }
        if result.ok {
            if let Some(w) = result.weight {
                self.update_weight(id.rs, w, &mut out);
            }
        }
        let ck = &self.rs[id.rs].checks[id.check];
        let (is_up, has_run) = (ck.is_up, ck.has_run);
        let next;
        if result.ok || ((is_up || !has_run) && ck.retry_it >= ck.timing.retry) {
            self.rs[id.rs].checks[id.check].retry_it = 0;
            if result.ok && (!is_up || !has_run) {
                self.checker_state(id, true, &mut out);
            } else if !result.ok && (is_up || !has_run) {
                self.checker_state(id, false, &mut out);
            }
            next = Next::Loop;
        } else if is_up {
            self.rs[id.rs].checks[id.check].retry_it += 1;
            next = Next::Retry;
        } else {
            next = Next::Loop;
        }
        let ck = &mut self.rs[id.rs].checks[id.check];
        ck.has_run = true;
        ck.in_flight = false;
        ck.generation = ck.generation.wrapping_add(1);
        ck.next = match next {
            Next::Retry => now + ck.timing.delay_before_retry,
            Next::Loop => {
                let dl = ck.timing.delay_loop.max(Duration::from_millis(1));
                if now < ck.anchor {
                    ck.anchor
                } else {
                    let k = (now - ck.anchor).as_nanos() / dl.as_nanos() + 1;
                    ck.anchor + dl * u32::try_from(k).unwrap_or(u32::MAX)
                }
            }
        };
        let entry = Reverse((ck.next, ck.generation, id.rs, id.check));
        self.heap.push(entry);
        out
    }

    /// keepalived's `update_svr_checker_state`.
    fn checker_state(&mut self, id: CheckId, alive: bool, out: &mut Vec<Action>) {
        let ck = &self.rs[id.rs].checks[id.check];
        if ck.is_up == alive {
            if !ck.has_run {
                if ck.timing.alpha || !alive {
                    out.push(if self.rs[id.rs].alive {
                        Action::NotifyUp(id.rs)
                    } else {
                        Action::NotifyDown(id.rs)
                    });
                }
                self.rs[id.rs].checks[id.check].has_run = true;
            }
            return;
        }
        self.rs[id.rs].checks[id.check].has_run = true;
        let failed = self.rs[id.rs].num_failed;
        if alive {
            if failed <= 1 {
                self.server_state(id.rs, true, out);
            }
        } else if failed == 0 {
            self.server_state(id.rs, false, out);
        }
        let rs = &mut self.rs[id.rs];
        rs.checks[id.check].is_up = alive;
        if alive {
            rs.num_failed = rs.num_failed.saturating_sub(1);
        } else {
            rs.num_failed += 1;
        }
    }

    fn pool_in_use(&self) -> bool {
        self.quorum_up || self.sorry.is_none() || !self.sorry_alive
    }

    /// keepalived's `perform_svr_state`.
    fn server_state(&mut self, i: usize, alive: bool, out: &mut Vec<Action>) {
        if self.rs[i].alive == alive {
            return;
        }
        if self.pool_in_use() {
            if alive {
                self.dest_up(i, out);
            } else {
                self.dest_down(i, out);
            }
        }
        self.rs[i].alive = alive;
        out.push(if alive {
            Action::NotifyUp(i)
        } else {
            Action::NotifyDown(i)
        });
        self.update_quorum(false, out);
    }

    fn dest_up(&mut self, i: usize, out: &mut Vec<Action>) {
        let rs = &mut self.rs[i];
        let weight = rs.effective_weight;
        match rs.set {
            Some(w) if w == weight => {}
            Some(_) => out.push(Action::SetWeight {
                dest: Dest::Real(i),
                weight,
            }),
            None => out.push(Action::Add {
                dest: Dest::Real(i),
                weight,
            }),
        }
        rs.set = Some(weight);
    }

    fn dest_down(&mut self, i: usize, out: &mut Vec<Action>) {
        let rs = &mut self.rs[i];
        match (rs.inhibit, rs.set) {
            (true, Some(0)) | (false, None) => {}
            (true, _) => {
                out.push(if rs.set.is_some() {
                    Action::SetWeight {
                        dest: Dest::Real(i),
                        weight: 0,
                    }
                } else {
                    Action::Add {
                        dest: Dest::Real(i),
                        weight: 0,
                    }
                });
                rs.set = Some(0);
            }
            (false, Some(_)) => {
                out.push(Action::Remove {
                    dest: Dest::Real(i),
                });
                rs.set = None;
            }
        }
    }

    fn sorry_switch(&mut self, on: bool, out: &mut Vec<Action>) {
        let inhibit = self.sorry.is_some_and(|s| s.inhibit);
        let dest = Dest::Sorry;
        match (on, inhibit, self.sorry_set) {
            (true, _, None) => {
                out.push(Action::Add { dest, weight: 1 });
                self.sorry_set = Some(1);
            }
            (true, _, Some(w)) if w != 1 => {
                out.push(Action::SetWeight { dest, weight: 1 });
                self.sorry_set = Some(1);
            }
            (false, false, Some(_)) => {
                out.push(Action::Remove { dest });
                self.sorry_set = None;
            }
            (false, true, Some(w)) if w != 0 => {
                out.push(Action::SetWeight { dest, weight: 0 });
                self.sorry_set = Some(0);
            }
            _ => {}
        }
        self.sorry_alive = on;
    }

    /// Sum of the weights of the alive real servers.
    pub fn live_weight(&self) -> u64 {
        self.rs
            .iter()
            .filter(|r| r.alive)
            .map(|r| u64::from(r.effective_weight))
            .sum()
    }

    /// keepalived's `update_quorum_state`.
    fn update_quorum(&mut self, init: bool, out: &mut Vec<Action>) {
        let sum = self.live_weight() as i64;
        let (q, h) = (i64::from(self.quorum), i64::from(self.hysteresis));
        let threshold = if self.quorum_up { q - h } else { q + h };
        if !self.quorum_up && sum >= threshold {
            self.quorum_up = true;
            if self.sorry.is_some() && self.sorry_alive {
                self.sorry_switch(false, out);
                self.quorum_state(true, out);
            }
            out.push(Action::QuorumUp);
        } else if (self.quorum_up && (sum == 0 || sum < threshold))
            || (init && !self.quorum_up && self.sorry.is_some() && !self.sorry_alive)
        {
            self.quorum_up = false;
            if self.sorry.is_some() && !self.sorry_alive {
                self.quorum_state(false, out);
                self.sorry_switch(true, out);
            }
            out.push(Action::QuorumDown);
        }
    }

    /// keepalived's `perform_quorum_state`: add or remove every alive server.
    fn quorum_state(&mut self, add: bool, out: &mut Vec<Action>) {
        for i in 0..self.rs.len() {
            if !self.rs[i].alive {
                continue;
            }
            if add {
                self.dest_up(i, out);
            } else {
                self.dest_down(i, out);
            }
        }
    }

    /// keepalived's `update_svr_wgt`.
    fn update_weight(&mut self, i: usize, weight: u32, out: &mut Vec<Action>) {
        let rs = &mut self.rs[i];
        if rs.effective_weight == weight {
            return;
        }
        rs.effective_weight = weight;
        if rs.set.is_some() && rs.alive && self.pool_in_use() {
            self.rs[i].set = Some(weight);
            out.push(Action::SetWeight {
                dest: Dest::Real(i),
                weight,
            });
        }
        self.update_quorum(false, out);
    }

    /// Shuts the pool down: removes every destination; with `omega`, runs the down notifiers
    /// of the alive servers and `quorum_down`.
    pub fn stop(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if self.sorry_set.take().is_some() {
            out.push(Action::Remove { dest: Dest::Sorry });
        }
        self.sorry_alive = false;
        for i in 0..self.rs.len() {
            if self.rs[i].set.take().is_some() {
                out.push(Action::Remove {
                    dest: Dest::Real(i),
                });
            }
            if self.rs[i].alive {
                self.rs[i].alive = false;
                if self.omega {
                    out.push(Action::NotifyDown(i));
                }
            }
        }
        if self.quorum_up {
            self.quorum_up = false;
            if self.omega {
                out.push(Action::QuorumDown);
            }
        }
        self.started = false;
        out
    }

    /// When the check is (or was, while in flight) due: lateness = start time - this.
    pub fn scheduled_at(&self, id: CheckId) -> Option<Duration> {
        self.rs
            .get(id.rs)
            .and_then(|r| r.checks.get(id.check))
            .map(|c| c.next)
    }

    /// Whether the real server is alive (all its checkers up).
    pub fn is_alive(&self, rs: usize) -> bool {
        self.rs.get(rs).is_some_and(|r| r.alive)
    }

    /// Whether the checker is up.
    pub fn check_is_up(&self, id: CheckId) -> bool {
        self.rs
            .get(id.rs)
            .and_then(|r| r.checks.get(id.check))
            .is_some_and(|c| c.is_up)
    }

    /// The real server's current weight (configured, or set by a dynamic checker).
    pub fn effective_weight(&self, rs: usize) -> u32 {
        self.rs.get(rs).map_or(0, |r| r.effective_weight)
    }

    /// The real server's configured weight.
    pub fn configured_weight(&self, rs: usize) -> u32 {
        self.rs.get(rs).map_or(0, |r| r.weight)
    }

    /// Whether the virtual server has quorum.
    pub fn quorum_up(&self) -> bool {
        self.quorum_up
    }

    /// Whether the sorry server is in use.
    pub fn sorry_active(&self) -> bool {
        self.sorry_alive
    }

    /// Number of real servers.
    pub fn len(&self) -> usize {
        self.rs.len()
    }

    /// Whether there are no real servers.
    pub fn is_empty(&self) -> bool {
        self.rs.is_empty()
    }

    /// The weight the pool's actions have given `dest` in the table so far; `None` when it is
    /// not in the table (or does not exist). [`Pool::members`] without the list.
    ///
    /// ```
    /// use lvs_check::core::{Dest, Pool, PoolConfig, RealServerConfig};
    /// use std::time::Duration;
    ///
    /// let mut pool = Pool::new(PoolConfig::new(vec![RealServerConfig::new(3, vec![])]), 1);
    /// assert_eq!(pool.weight_in_table(Dest::Real(0)), None);
    /// pool.start(Duration::ZERO); // no checker: added at once
    /// assert_eq!(pool.weight_in_table(Dest::Real(0)), Some(3));
    /// assert_eq!(pool.weight_in_table(Dest::Sorry), None);
    /// ```
    pub fn weight_in_table(&self, dest: Dest) -> Option<u32> {
        match dest {
            Dest::Real(i) => self.rs.get(i).and_then(|r| r.set),
            Dest::Sorry => self.sorry_set,
        }
    }

    /// The destinations the pool's actions have put in the table so far, with their weights
    /// (real servers first, then the sorry server).
    pub fn members(&self) -> Vec<(Dest, u32)> {
        let mut v: Vec<(Dest, u32)> = self
            .rs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.set.map(|w| (Dest::Real(i), w)))
            .collect();
        if let Some(w) = self.sorry_set {
            v.push((Dest::Sorry, w));
        }
        v
    }
}
