//! The IPVS + checkers side (`lvsd -C`, and the check half of a plain `lvsd`).
//!
//! [`spawn`] builds the desired IPVS table from every `virtual_server` (through
//! `lvs_check::service::table`, keepalived's defaults), starts one `lvs_check::core::Pool` per
//! virtual server and programs the kernel in one batch (ipvs-netlink's diff against a dump,
//! restricted to the services the configuration names: services made by someone else are left
//! alone; `lvs_flush` in `global_defs` flushes everything first). It returns once that batch is
//! applied, so the daemon can report `READY=1`.
//!
//! Then the subsystem's thread runs a tokio runtime: the checkers of every real server, their
//! pool changes applied to the kernel as they happen (add, remove, weight 0 with
//! `inhibit_on_failure`, quorum and sorry server), notify scripts run as argument vectors.
//!
//! - [`Command::Reload`]: the new configuration is diffed against the kernel's actual state
//!   (a fresh dump): unchanged services are never dropped or re-created, real servers are
//!   added/removed/re-weighted in place, and an unchanged real server keeps its checkers'
//!   state (`Pool::carry_over`). Services the old configuration had and the new one lacks are
//!   deleted.
//! - [`Command::Stop`]: the IPVS table is kept (so a restart, or a crash, never empties it by
//!   itself); `lvs_flush_on_stop` flushes IPVS, `lvs_flush_on_stop VS` deletes only the
//!   services of the configuration. With `omega`, the `notify_down`/`quorum_down` scripts run.
//!   (keepalived's own default is to delete its services one by one at stop unless run with
//!   `--dont-release-ipvs`; lvsd keeps them, as a restart of the daemon should not cut traffic.)
//!
//! A kernel without IPVS: [`spawn`] fails with [`CheckError::NoIpvs`] (the meaning and the
//! hint `modprobe ip_vs`); the daemon keeps its VRRP side running.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ipvs_netlink::message::Request;
use ipvs_netlink::reconcile::{DesiredState, diff};
use ipvs_netlink::{Destination, Ipvs, ServiceKey, VirtualServer};
use keepalived_conf::model::Config;
use lvs_check::core::{Action, CheckId, Dest, Pool};
use lvs_check::service::{ServiceTable, key_label, push_addr, table};
use lvs_check::spec::{Probe, VirtualServerSpec};
use lvs_check::{Outcome, probe};
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::side::{Command, Side};
use crate::status::{RealServerStatus, Shared, VirtualServerStatus};

/// Checks that may run at the same time.
const MAX_CONCURRENT: usize = 1024;

/// Why the check side could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum CheckError {
    /// The kernel has no IPVS (or it cannot be reached).
    NoIpvs(ipvs_netlink::Error),
    /// A `virtual_server` cannot be turned into IPVS services.
    Config(lvs_check::service::TableError),
    /// The kernel refused the first programming (or its dump).
    Kernel(ipvs_netlink::Error),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoIpvs(_) => f.write_str(
                "the check side cannot start: this kernel has no IPVS (the VRRP side, \
                 `lvsd -P`, runs without it; on a machine whose kernel lacks the module, \
                 run the check side in the kernel lab: `cargo xtask lab`)",
            ),
            Self::Config(_) => f.write_str("the check side cannot start"),
            Self::Kernel(_) => f.write_str("programming IPVS"),
        }
    }
}

impl std::error::Error for CheckError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NoIpvs(e) | Self::Kernel(e) => Some(e),
            Self::Config(e) => Some(e),
        }
    }
}

/// One `virtual_server`: its IPVS objects, its checks and its pool.
struct Slot {
    /// Unique per slot: results of checks started for a replaced slot are dropped.
    id: u64,
    spec: VirtualServerSpec,
    table: ServiceTable,
    pool: Pool,
    probes: Vec<Vec<Arc<Probe>>>,
    last_failure: Vec<Option<String>>,
}

impl Slot {
    fn dest(&self, d: Dest, weight: u32) -> Option<Destination> {
        let base = match d {
            Dest::Real(i) => self.table.real_servers.get(i).copied(),
            Dest::Sorry => self.table.sorry,
        }?;
        Some(base.weight(i32::try_from(weight).unwrap_or(i32::MAX)))
    }

    /// The destinations the pool has put in the table, with their weights.
    fn members(&self) -> Vec<Destination> {
        let mut out = Vec::with_capacity(self.table.real_servers.len() + 1);
        let dests = (0..self.pool.len()).map(Dest::Real);
        for d in dests.chain(std::iter::once(Dest::Sorry)) {
            if let Some(m) = self.pool.weight_in_table(d).and_then(|w| self.dest(d, w)) {
                out.push(m);
            }
        }
        out
    }

    /// The status entries of the slot (one per service).
    fn status(&self) -> Vec<VirtualServerStatus> {
        let real_servers: Vec<RealServerStatus> = self
            .spec
            .real_servers
            .iter()
            .enumerate()
            .map(|(i, rs)| {
                let checks = rs.checks.len();
                let up = (0..checks)
                    .filter(|&c| self.pool.check_is_up(CheckId { rs: i, check: c }))
                    .count();
                let in_kernel = self.pool.weight_in_table(Dest::Real(i));
                let mut address = String::with_capacity(24);
                push_addr(&mut address, &rs.addr);
                RealServerStatus {
                    address,
                    configured_weight: rs.weight,
                    weight: in_kernel.unwrap_or(0),
                    in_kernel: in_kernel.is_some(),
                    alive: self.pool.is_alive(i),
                    checkers: u32::try_from(checks).unwrap_or(u32::MAX),
                    checkers_up: u32::try_from(up).unwrap_or(u32::MAX),
                    last_failure: self.last_failure.get(i).cloned().flatten(),
                }
            })
            .collect();
        let forwarding = self
            .table
            .real_servers
            .first()
            .map(|d| forward_name(d.forward))
            .unwrap_or_default();
        // The last service takes the lists; the others (a group's) get copies.
        let n = self.table.services.len();
        let mut shared = Some((forwarding, real_servers));
        self.table
            .services
            .iter()
            .enumerate()
            .filter_map(|(k, s)| {
                let (forwarding, real_servers) = if k + 1 == n {
                    shared.take()?
                } else {
                    shared.clone()?
                };
                Some(VirtualServerStatus {
                    key: key_label(&s.key),
                    scheduler: s.scheduler.name().to_string(),
                    forwarding,
                    quorum_up: self.pool.quorum_up(),
                    sorry_active: self.pool.sorry_active(),
                    real_servers,
                })
            })
            .collect()
    }
}

fn forward_name(f: ipvs_netlink::Forward) -> String {
    match f {
        ipvs_netlink::Forward::Masq => "NAT",
        ipvs_netlink::Forward::DirectRoute => "DR",
        ipvs_netlink::Forward::Tunnel => "TUN",
        ipvs_netlink::Forward::Local => "Local",
        ipvs_netlink::Forward::Bypass => "Bypass",
    }
    .to_string()
}

/// The subsystem's state.
struct State {
    ipvs: Ipvs,
    slots: Vec<Slot>,
    by_id: HashMap<u64, usize>,
    /// Where each slot's entries start in `Status::virtual_servers`.
    status_at: Vec<usize>,
    /// (deadline, slot id) of every slot's next check: the loop wakes for the earliest and
    /// touches only the slots that are due (entries a later change superseded are skipped).
    timers: BinaryHeap<Reverse<(Duration, u64)>>,
    next_id: u64,
    epoch: Instant,
    status: Shared,
    /// `global_defs`: `lvs_flush_on_stop` (None: keep; Some(false): flush all; Some(true): VS).
    flush_on_stop: Option<bool>,
}

/// The slots of a configuration (pools not started).
fn build(conf: &Config, next_id: &mut u64) -> Result<Vec<Slot>, CheckError> {
    let (specs, errors) = lvs_check::spec::resolve(conf);
    for e in errors {
        warn!("checker left out: {e}");
    }
    let mut slots = Vec::with_capacity(specs.len());
    for (vs, spec) in conf.virtual_servers.iter().zip(specs) {
        let table = table(conf, vs).map_err(CheckError::Config)?;
        let pool = Pool::new(spec.pool_config(), *next_id);
        // Both lists are only read for a real server's checks: none, no lists.
        let checked = spec.real_servers.iter().any(|r| !r.checks.is_empty());
        let probes = if checked {
            spec.real_servers
                .iter()
                .map(|r| r.checks.iter().map(|c| Arc::new(c.probe.clone())).collect())
                .collect()
        } else {
            Vec::new()
        };
        let n = if checked { spec.real_servers.len() } else { 0 };
        slots.push(Slot {
            id: *next_id,
            spec,
            table,
            pool,
            probes,
            last_failure: vec![None; n],
        });
        *next_id += 1;
    }
    Ok(slots)
}

fn flush_on_stop(conf: &Config) -> Option<bool> {
    conf.global_defs
        .other
        .iter()
        .find(|d| d.keyword == "lvs_flush_on_stop")
        .map(|d| d.args.first().is_some_and(|a| a.eq_ignore_ascii_case("VS")))
}

/// Starts the IPVS + checkers side: programs the kernel from `conf` (one batch), then runs
/// the checkers on its own thread. Returns once the kernel holds the configuration.
///
/// # Errors
/// [`CheckError::NoIpvs`] on a kernel without IPVS, [`CheckError::Config`] for a
/// `virtual_server` that cannot be built, [`CheckError::Kernel`] when the first dump fails.
/// A refused single change (e.g. an unknown scheduler) is logged, not fatal.
pub fn spawn(conf: &Config, status: Shared) -> anyhow::Result<Side> {
    let mut ipvs = Ipvs::connect().map_err(CheckError::NoIpvs)?;
    let mut next_id = 1;
    let t = Instant::now();
    let slots = build(conf, &mut next_id)?;
    debug!(
        virtual_servers = slots.len(),
        elapsed_ms = t.elapsed().as_millis() as u64,
        "virtual servers resolved"
    );
    if conf.global_defs.lvs_flush {
        ipvs.flush().map_err(CheckError::Kernel)?;
        info!("IPVS flushed (lvs_flush)");
    }
    let mut st = State {
        ipvs,
        slots,
        by_id: HashMap::new(),
        status_at: Vec::new(),
        timers: BinaryHeap::new(),
        next_id,
        epoch: Instant::now(),
        status,
        flush_on_stop: flush_on_stop(conf),
    };
    // The initial pools are programmed below; only the notifications wait for the runtime.
    let mut notes = Vec::new();
    for (v, s) in st.slots.iter_mut().enumerate() {
        for a in s.pool.start(Duration::ZERO) {
            if is_notification(a) {
                notes.push((v, a));
            }
        }
    }
    st.reindex();
    let t = Instant::now();
    let n = st.program(&HashSet::new()).map_err(CheckError::Kernel)?;
    info!(
        virtual_servers = st.slots.len(),
        changes = n,
        elapsed_ms = t.elapsed().as_millis() as u64,
        "IPVS programmed"
    );
    st.publish();
    let (tx, rx) = mpsc::unbounded_channel();
    let join = std::thread::Builder::new()
        .name("check".into())
        .spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("start the checker runtime")?;
            rt.block_on(st.run(rx, notes))
        })
        .context("start the check thread")?;
    Ok(Side::new("check", move |c| tx.send(c).is_ok(), join))
}

type Result_ = (u64, CheckId, Outcome);

impl State {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// After the slots changed: the id index, the status offsets, every slot's timer.
    fn reindex(&mut self) {
        self.by_id = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i))
            .collect();
        let mut at = 0;
        self.status_at = self
            .slots
            .iter()
            .map(|s| {
                let here = at;
                at += s.table.services.len();
                here
            })
            .collect();
        self.timers.clear();
        for v in 0..self.slots.len() {
            self.arm(v);
        }
    }

    /// Records slot `v`'s next deadline.
    fn arm(&mut self, v: usize) {
        let s = &self.slots[v];
        if let Some(d) = s.pool.next_deadline() {
            self.timers.push(Reverse((d, s.id)));
        }
    }

    fn desired(&self) -> DesiredState {
        let services = self.slots.iter().map(|s| s.table.services.len()).sum();
        let mut d = DesiredState::with_capacity(services);
        for s in &self.slots {
            let mut members = Some(s.members());
            let n = s.table.services.len();
            for (k, svc) in s.table.services.iter().enumerate() {
                // The last service takes the list; the others (a group's) get copies.
                let m = if k + 1 == n {
                    members.take()
                } else {
                    members.clone()
                };
                d.insert(svc.clone(), m.unwrap_or_default());
            }
        }
        d
    }

    /// Makes the kernel hold the desired state: a fresh dump, restricted to the services of
    /// the configuration (and `also`, the services of the previous one), diffed and applied
    /// in one batch. Returns the number of changes.
    fn program(&mut self, also: &HashSet<ServiceKey>) -> Result<usize, ipvs_netlink::Error> {
        let t = Instant::now();
        let desired = self.desired();
        let ours = |k: &ServiceKey| desired.contains(k) || also.contains(k);
        let current: Vec<VirtualServer> = self
            .ipvs
            .dump()?
            .into_iter()
            .filter(|vs| ours(&vs.entry.service.key))
            .collect();
        let dumped = t.elapsed();
        let changes = diff(&desired, &current);
        let diffed = t.elapsed();
        self.apply(&changes);
        debug!(
            desired_and_dump_ms = dumped.as_millis() as u64,
            diff_ms = (diffed - dumped).as_millis() as u64,
            apply_ms = (t.elapsed() - diffed).as_millis() as u64,
            "IPVS reconciled"
        );
        Ok(changes.len())
    }

    fn apply(&mut self, reqs: &[Request]) {
        if reqs.is_empty() {
            return;
        }
        for (i, e) in self.ipvs.apply_failures(reqs) {
            error!(request = ?reqs[i], "IPVS change refused: {e}");
        }
    }

    /// Publishes the status of slot `v` only (its entries are replaced in place).
    fn publish_slot(&self, v: usize) {
        let at = self.status_at[v];
        let entries = self.slots[v].status();
        let mut full = false;
        self.status.update(
            |s| match s.virtual_servers.get_mut(at..at + entries.len()) {
                Some(dst) => dst.clone_from_slice(&entries),
                None => full = true,
            },
        );
        if full {
            self.publish();
        }
    }

    fn publish(&self) {
        let n = self.slots.iter().map(|s| s.table.services.len()).sum();
        let mut vss: Vec<VirtualServerStatus> = Vec::with_capacity(n);
        for s in &self.slots {
            vss.extend(s.status());
        }
        self.status.update(|s| {
            s.virtual_servers = vss;
            if !s.daemon.subsystems.iter().any(|x| x == "check") {
                s.daemon.subsystems.push("check".into());
            }
        });
    }

    /// Carries out pool actions of slot `v`: kernel changes in one batch, then scripts.
    fn act(&mut self, v: usize, actions: &[Action]) {
        let slot = &self.slots[v];
        let mut reqs = Vec::new();
        for a in actions {
            match *a {
                Action::Add { dest, weight } | Action::SetWeight { dest, weight } => {
                    let Some(d) = slot.dest(dest, weight) else {
                        continue;
                    };
                    let add = matches!(a, Action::Add { .. });
                    for s in &slot.table.services {
                        reqs.push(if add {
                            Request::NewDest(s.key, d)
                        } else {
                            Request::SetDest(s.key, d)
                        });
                    }
                    info!(vs = %slot.spec.name, rs = %d.addr, weight, "{}",
                        if add { "real server added" } else { "real server weight set" });
                }
                Action::Remove { dest } => {
                    let Some(d) = slot.dest(dest, 0) else {
                        continue;
                    };
                    for s in &slot.table.services {
                        reqs.push(Request::DelDest(s.key, d.addr));
                    }
                    info!(vs = %slot.spec.name, rs = %d.addr, "real server removed");
                }
                _ => {}
            }
        }
        self.apply(&reqs);
        notify(&self.slots[v], actions);
    }

    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        notes: Vec<(usize, Action)>,
    ) -> anyhow::Result<()> {
        for (v, a) in notes {
            notify(&self.slots[v], &[a]);
        }
        let sem = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT));
        let (tx, mut rx) = mpsc::unbounded_channel::<Result_>();
        loop {
            let now = self.now();
            while let Some(&Reverse((d, slot))) = self.timers.peek() {
                if d > now {
                    break;
                }
                self.timers.pop();
                let Some(&v) = self.by_id.get(&slot) else {
                    continue;
                };
                let s = &mut self.slots[v];
                if s.pool.next_deadline() != Some(d) {
                    continue; // superseded: the slot has another entry
                }
                for id in s.pool.due(now) {
                    let probe = s.probes[id.rs][id.check].clone();
                    let (sem, tx, slot) = (sem.clone(), tx.clone(), s.id);
                    tokio::spawn(async move {
                        let Ok(_permit) = sem.acquire_owned().await else {
                            return;
                        };
                        let outcome = probe::run(&probe).await;
                        let _ = tx.send((slot, id, outcome));
                    });
                }
                self.arm(v);
            }
            let next = self.timers.peek().map(|Reverse((d, _))| *d);
            let sleep = tokio::time::sleep_until(
                (self.epoch + next.unwrap_or(now + Duration::from_secs(3600))).into(),
            );
            tokio::select! {
                c = commands.recv() => match c {
                    Some(Command::Reload(conf)) => self.reload(&conf),
                    Some(Command::Stop) | None => break,
                },
                Some(first) = rx.recv() => {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    self.results(batch);
                }
                () = sleep => {}
            }
        }
        self.stop().await;
        Ok(())
    }

    fn results(&mut self, batch: Vec<Result_>) {
        let t = self.now();
        let mut changed = HashSet::new();
        for (slot, id, outcome) in batch {
            let Some(&v) = self.by_id.get(&slot) else {
                continue; // a check of a slot a reload replaced
            };
            let s = &mut self.slots[v];
            let was = (s.pool.check_is_up(id), s.pool.is_alive(id.rs));
            if !outcome.ok {
                s.last_failure[id.rs] = Some(outcome.reason.clone());
            }
            let actions = s.pool.on_result(t, id, outcome.result());
            let now = (s.pool.check_is_up(id), s.pool.is_alive(id.rs));
            if was.1 != now.1 {
                info!(vs = %s.spec.name, rs = %s.spec.real_servers[id.rs].addr,
                    reason = %outcome.reason, "real server {}", if now.1 { "up" } else { "down" });
            }
            if was != now || !actions.is_empty() {
                changed.insert(v);
            }
            if !actions.is_empty() {
                self.act(v, &actions);
            }
            self.arm(v);
        }
        for v in changed {
            self.publish_slot(v);
        }
    }

    fn reload(&mut self, conf: &Config) {
        let mut next_id = self.next_id;
        let mut new = match build(conf, &mut next_id) {
            Ok(s) => s,
            Err(e) => {
                error!("reload refused by the check side (old configuration kept): {e}");
                return;
            }
        };
        self.next_id = next_id;
        let now = self.now();
        let old_keys: HashSet<ServiceKey> = self
            .slots
            .iter()
            .flat_map(|s| s.table.services.iter().map(|x| x.key))
            .collect();
        let mut old: HashMap<String, Slot> = self
            .slots
            .drain(..)
            .map(|s| (s.spec.name.clone(), s))
            .collect();
        let mut notes = Vec::new();
        for (v, s) in new.iter_mut().enumerate() {
            match old.remove(&s.spec.name) {
                Some(o) if o.spec == s.spec && o.table == s.table => {
                    // Unchanged: the running slot goes on as it is (checks in flight too).
                    *s = o;
                }
                Some(o) => {
                    let pairs: Vec<(usize, usize)> = s
                        .spec
                        .real_servers
                        .iter()
                        .enumerate()
                        .filter_map(|(i, r)| {
                            o.spec
                                .real_servers
                                .iter()
                                .position(|q| {
                                    q.addr == r.addr
                                        && q.checks == r.checks
                                        && q.inhibit == r.inhibit
                                })
                                .map(|j| (i, j))
                        })
                        .collect();
                    for &(i, j) in &pairs {
                        // Same checks on both sides: both lists exist, or neither.
                        if let (Some(new), Some(old)) =
                            (s.last_failure.get_mut(i), o.last_failure.get(j))
                        {
                            new.clone_from(old);
                        }
                    }
                    for a in s.pool.carry_over(now, &o.pool, &pairs) {
                        notes.push((v, a));
                    }
                    info!(vs = %s.spec.name, kept = pairs.len(),
                        real_servers = s.spec.real_servers.len(), "virtual server changed");
                }
                None => {
                    for a in s.pool.start(now) {
                        notes.push((v, a));
                    }
                    info!(vs = %s.spec.name, "virtual server added");
                }
            }
        }
        for name in old.keys() {
            info!(vs = %name, "virtual server removed");
        }
        self.slots = new;
        self.flush_on_stop = flush_on_stop(conf);
        self.reindex();
        match self.program(&old_keys) {
            Ok(n) => info!(changes = n, "IPVS reconciled after reload"),
            Err(e) => error!("IPVS reconcile after reload: {e}"),
        }
        for (v, a) in notes {
            if is_notification(a) {
                notify(&self.slots[v], &[a]);
            }
        }
        self.publish();
    }

    async fn stop(&mut self) {
        let mut scripts = Vec::new();
        for s in &mut self.slots {
            let actions = s.pool.stop();
            scripts.extend(spawn_scripts(s, &actions));
        }
        // Give the omega scripts a bounded time to finish.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            for mut c in scripts {
                let _ = c.wait().await;
            }
        })
        .await;
        match self.flush_on_stop {
            None => info!("IPVS table kept (no lvs_flush_on_stop)"),
            Some(false) => match self.ipvs.flush() {
                Ok(()) => info!("IPVS flushed (lvs_flush_on_stop)"),
                Err(e) => error!("IPVS flush at stop: {e}"),
            },
            Some(true) => {
                let reqs: Vec<Request> = self
                    .slots
                    .iter()
                    .flat_map(|s| s.table.services.iter().map(|x| Request::DelService(x.key)))
                    .collect();
                self.apply(&reqs);
                info!(
                    services = reqs.len(),
                    "virtual servers removed (lvs_flush_on_stop VS)"
                );
            }
        }
        self.status.update(|s| {
            s.virtual_servers.clear();
            s.daemon.subsystems.retain(|x| x != "check");
        });
    }
}

/// Whether `a` may run a script (the pool changes are the kernel's).
fn is_notification(a: Action) -> bool {
    matches!(
        a,
        Action::NotifyUp(_) | Action::NotifyDown(_) | Action::QuorumUp | Action::QuorumDown
    )
}

/// Runs the scripts an action list names (notify_up/down, quorum_up/down), not waiting.
fn notify(slot: &Slot, actions: &[Action]) {
    for c in spawn_scripts(slot, actions) {
        tokio::spawn(async move {
            let mut c = c;
            let _ = c.wait().await;
        });
    }
}

fn spawn_scripts(slot: &Slot, actions: &[Action]) -> Vec<tokio::process::Child> {
    let mut out = Vec::new();
    for a in actions {
        let line = match *a {
            Action::NotifyUp(i) => slot
                .spec
                .real_servers
                .get(i)
                .and_then(|r| r.notify_up.as_ref()),
            Action::NotifyDown(i) => slot
                .spec
                .real_servers
                .get(i)
                .and_then(|r| r.notify_down.as_ref()),
            Action::QuorumUp => slot.spec.quorum_up.as_ref(),
            Action::QuorumDown => slot.spec.quorum_down.as_ref(),
            _ => None,
        };
        let Some(line) = line else { continue };
        let argv = lvs_check::spec::split_command(line);
        let Some((prog, args)) = argv.split_first() else {
            continue;
        };
        match tokio::process::Command::new(prog).args(args).spawn() {
            Ok(c) => out.push(c),
            Err(e) => warn!(vs = %slot.spec.name, script = %line, "notify script: {e}"),
        }
    }
    out
}
