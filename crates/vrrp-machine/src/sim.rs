//! A deterministic simulator: N routers running [`Instance`]s on a virtual LAN.
//!
//! No threads, no clock, no sockets: an event queue holds packets in flight and scripted
//! [`Action`]s, and the clock jumps to the next event or instance deadline. Adverts travel as
//! bytes through the codec: the sender emits them with `vrrp_packet::Repr::emit_into`, the
//! receiver validates them with `vrrp_packet::validate` against its own configuration and feeds
//! the result to its instance. Each emitted packet is also validated against the sender's own
//! configuration; [`SimStats::codec_rejects`] counts failures (it must stay 0).
//!
//! Links have a delay (default and per pair), a loss probability (seeded PRNG: a splitmix64, so
//! runs are reproducible), and routers can be partitioned, crashed, restarted, shut down
//! gracefully and re-prioritised.
//!
//! ```
//! use core::time::Duration;
//! use vrrp_machine::sim::{Action, Sim};
//! use vrrp_machine::{Config, Instant, Interval, State, Version};
//!
//! let cfg = |prio, addr: &str| -> Result<Config, Box<dyn std::error::Error>> {
//!     Ok(Config::new(Version::V2, 51, prio, Interval::DEFAULT, addr.parse()?, vec!["192.0.2.100".parse()?]))
//! };
//! let mut sim = Sim::new(7);
//! sim.set_default_delay(Duration::from_micros(200));
//! let a = sim.add_router("a", cfg(200, "192.0.2.1")?);
//! let b = sim.add_router("b", cfg(100, "192.0.2.2")?);
//! sim.schedule(Instant::ZERO, Action::Start(a));
//! sim.schedule(Instant::ZERO, Action::Start(b));
//! sim.schedule(Instant::from_millis(5_000), Action::Crash(a));
//! sim.run_until(Instant::from_millis(10_000));
//! assert_eq!(sim.state(b), State::Master);
//! // a became master at 3.21875 s (3 s + 56/256 s) and advertised every second after that; b
//! // heard the last advert at 4.21875 s + 0.2 ms and took over 3.609375 s later.
//! let t = sim.transitions().iter().find(|t| t.router == b && t.to == State::Master).unwrap();
//! assert_eq!(t.at, Instant::from_micros(4_218_750 + 200 + 3_609_375));
//! assert_eq!(sim.stats().codec_rejects, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::cmp::Reverse;
use core::time::Duration;
use std::collections::BinaryHeap;
use std::net::IpAddr;

use vrrp_packet::{
    AddressList, ChecksumMode, ChecksumModes, Datagram, Repr, ValidationConfig, Version,
};

use crate::config::{Config, TrackId};
use crate::instance::{Input, Instance, Output, Reason, Received, RxError, State};
use crate::time::Instant;

/// Index of a router in a [`Sim`].
pub type RouterId = usize;

/// A scripted event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Create the instance (if not running) and send it Startup.
    Start(RouterId),
    /// The router dies silently: no priority 0, nothing more from it.
    Crash(RouterId),
    /// A crashed or stopped router comes back: a fresh instance and Startup.
    Restart(RouterId),
    /// Graceful stop: the Shutdown event (a master sends priority 0).
    Shutdown(RouterId),
    /// New base priority.
    SetPriority(RouterId, u8),
    /// Interface down.
    InterfaceDown(RouterId),
    /// Interface up.
    InterfaceUp(RouterId),
    /// A tracked object changes state.
    Track(RouterId, TrackId, bool),
    /// Partition: `groups[r]` is router r's side; packets cross only within a side.
    Partition(Vec<u32>),
    /// Remove every partition.
    Heal,
    /// New loss probability for every link.
    SetLoss(f64),
}

/// A state change seen in the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// When.
    pub at: Instant,
    /// Which router.
    pub router: RouterId,
    /// Old state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

/// An advert put on the wire (recorded when [`Sim::set_trace`] is on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentAdvert {
    /// When.
    pub at: Instant,
    /// Sender.
    pub router: RouterId,
    /// Priority carried.
    pub priority: u8,
    /// Destination.
    pub dst: IpAddr,
}

/// Counters of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Packets put on the wire (one per destination address).
    pub sent: u64,
    /// Packet copies delivered to a running router.
    pub delivered: u64,
    /// Copies lost to the loss probability.
    pub lost: u64,
    /// Copies dropped by a partition or a dead receiver.
    pub dropped: u64,
    /// Copies the receiver's validation refused (for example a different VRID or interval).
    pub rx_rejects: u64,
    /// Emitted packets the codec refuses against the sender's own configuration, or that could
    /// not be emitted at all: always 0 unless the machine is wrong.
    pub codec_rejects: u64,
}

/// splitmix64: a tiny, good-enough PRNG so the crate needs no `rand`.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug)]
struct Router {
    name: String,
    config: Config,
    wire_addrs: AddressList,
    inst: Option<Instance>,
}

#[derive(Debug, PartialEq)]
enum Kind {
    Deliver {
        to: RouterId,
        src: IpAddr,
        dst: IpAddr,
        bytes: Vec<u8>,
    },
    Act(Action),
}

#[derive(Debug)]
struct Event {
    at: Instant,
    seq: u64,
    kind: Kind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The simulator. See the [module docs](self).
#[derive(Debug)]
pub struct Sim {
    now: Instant,
    routers: Vec<Router>,
    queue: BinaryHeap<Reverse<Event>>,
    seq: u64,
    rng: SplitMix64,
    default_delay: Duration,
    delays: Vec<(RouterId, RouterId, Duration)>,
    loss: f64,
    sides: Vec<u32>,
    transitions: Vec<Transition>,
    trace: Option<Vec<SentAdvert>>,
    stats: SimStats,
    buf: Vec<u8>,
}

impl Sim {
    /// An empty LAN at time zero; `seed` drives packet loss.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            now: Instant::ZERO,
            routers: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            rng: SplitMix64::new(seed),
            default_delay: Duration::ZERO,
            delays: Vec::new(),
            loss: 0.0,
            sides: Vec::new(),
            transitions: Vec::new(),
            trace: None,
            stats: SimStats::default(),
            buf: vec![0; 4096],
        }
    }

    /// Adds a router (not started: schedule [`Action::Start`]).
    pub fn add_router(&mut self, name: impl Into<String>, config: Config) -> RouterId {
        let wire_addrs = wire_list(&config.virtual_addresses);
        self.routers.push(Router {
            name: name.into(),
            config,
            wire_addrs,
            inst: None,
        });
        self.sides.push(0);
        self.routers.len() - 1
    }

    /// Delay of every link without its own.
    pub fn set_default_delay(&mut self, d: Duration) {
        self.default_delay = d;
    }

    /// Delay between `a` and `b` (both directions).
    pub fn set_link_delay(&mut self, a: RouterId, b: RouterId, d: Duration) {
        self.delays
            .retain(|&(x, y, _)| !((x, y) == (a, b) || (x, y) == (b, a)));
        self.delays.push((a, b, d));
    }

    /// Loss probability of every link, 0..=1.
    pub fn set_loss(&mut self, p: f64) {
        self.loss = p.clamp(0.0, 1.0);
    }

    /// Record every advert sent ([`Sim::sent_adverts`]).
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on.then(Vec::new);
    }

    /// Schedules an action.
    pub fn schedule(&mut self, at: Instant, action: Action) {
        self.push(at, Kind::Act(action));
    }

    /// The virtual clock.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Number of routers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.routers.len()
    }

    /// Whether there is no router.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.routers.is_empty()
    }

    /// A router's name.
    #[must_use]
    pub fn name(&self, r: RouterId) -> &str {
        &self.routers[r].name
    }

    /// A router's configuration (with the priority as last set).
    #[must_use]
    pub fn config(&self, r: RouterId) -> &Config {
        &self.routers[r].config
    }

    /// A router's instance, if running.
    #[must_use]
    pub fn instance(&self, r: RouterId) -> Option<&Instance> {
        self.routers[r].inst.as_ref()
    }

    /// A router's state (`Initialize` when crashed or never started).
    #[must_use]
    pub fn state(&self, r: RouterId) -> State {
        self.routers[r]
            .inst
            .as_ref()
            .map_or(State::Initialize, Instance::state)
    }

    /// Routers now in MASTER.
    #[must_use]
    pub fn masters(&self) -> Vec<RouterId> {
        (0..self.routers.len())
            .filter(|&r| self.state(r) == State::Master)
            .collect()
    }

    /// Every state change so far.
    #[must_use]
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// Adverts sent so far (empty unless [`Sim::set_trace`] is on).
    #[must_use]
    pub fn sent_adverts(&self) -> &[SentAdvert] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// Runs every event up to and including `end`, then sets the clock to `end`.
    pub fn run_until(&mut self, end: Instant) {
        loop {
            let next_event = self.queue.peek().map(|Reverse(e)| e.at);
            let next_timer = self
                .routers
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    r.inst
                        .as_ref()
                        .and_then(Instance::poll_timeout)
                        .map(|t| (t, i))
                })
                .min();
            // Packets and actions at the same instant go before timers.
            let take_event = match (next_event, next_timer) {
                (Some(e), Some((t, _))) => e <= t,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_event {
                let at = next_event.unwrap_or(end);
                if at > end {
                    break;
                }
                self.now = self.now.max(at);
                if let Some(Reverse(e)) = self.queue.pop() {
                    self.process(e.kind);
                }
            } else if let Some((t, r)) = next_timer {
                if t > end {
                    break;
                }
                self.now = self.now.max(t);
                let now = self.now;
                if let Some(i) = self.routers[r].inst.as_mut() {
                    i.handle_timeout(now);
                }
                self.drain(r);
            }
        }
        self.now = self.now.max(end);
    }

    fn push(&mut self, at: Instant, kind: Kind) {
        self.seq += 1;
        self.queue.push(Reverse(Event {
            at,
            seq: self.seq,
            kind,
        }));
    }

    fn input(&mut self, r: RouterId, input: Input<'_>) {
        let now = self.now;
        if let Some(i) = self.routers[r].inst.as_mut() {
            i.handle_input(now, input);
            self.drain(r);
        }
    }

    fn process(&mut self, kind: Kind) {
        match kind {
            Kind::Deliver {
                to,
                src,
                dst,
                bytes,
            } => self.deliver(to, src, dst, &bytes),
            Kind::Act(a) => self.act(a),
        }
    }

    fn act(&mut self, a: Action) {
        let now = self.now;
        match a {
            Action::Start(r) | Action::Restart(r) => {
                let running = self.routers[r]
                    .inst
                    .as_ref()
                    .is_some_and(|i| i.state() != State::Initialize);
                if !running {
                    // The configuration was validated by the caller's Instance::new before; a bad
                    // one simply leaves the router down.
                    self.routers[r].inst = Instance::new(self.routers[r].config.clone(), now).ok();
                    self.input(r, Input::Startup);
                }
            }
            Action::Crash(r) => self.routers[r].inst = None,
            Action::Shutdown(r) => self.input(r, Input::Shutdown),
            Action::SetPriority(r, p) => {
                if p != 0 {
                    self.routers[r].config.priority = p;
                }
                self.input(r, Input::SetPriority(p));
            }
            Action::InterfaceDown(r) => self.input(r, Input::InterfaceDown),
            Action::InterfaceUp(r) => self.input(r, Input::InterfaceUp),
            Action::Track(r, id, up) => self.input(r, Input::Track { id, up }),
            Action::Partition(sides) => {
                for (s, v) in self.sides.iter_mut().zip(sides) {
                    *s = v;
                }
            }
            Action::Heal => self.sides.iter_mut().for_each(|s| *s = 0),
            Action::SetLoss(p) => self.set_loss(p),
        }
    }

    fn drain(&mut self, r: RouterId) {
        while let Some(out) = self.routers[r]
            .inst
            .as_mut()
            .and_then(Instance::poll_output)
        {
            match out {
                Output::Transmit(t) => self.transmit(r, t.dst, &t.advert.repr()),
                Output::StateChange(c) => self.transitions.push(Transition {
                    at: c.at,
                    router: r,
                    from: c.from,
                    to: c.to,
                    reason: c.reason,
                }),
                _ => {}
            }
        }
    }

    fn transmit(&mut self, from: RouterId, dst: IpAddr, repr: &Repr<'_>) {
        let src = self.routers[from].config.primary_address;
        let mode = ChecksumMode::default_for(repr.version);
        let Some(n) = repr.emit_into(&mut self.buf, src, dst, mode) else {
            self.stats.codec_rejects += 1;
            return;
        };
        let bytes = self.buf[..n].to_vec();
        // Property: the packet passes the codec's receive validation for a peer configured like
        // the sender.
        {
            let sender = &self.routers[from];
            let vcfg = validation_config(&sender.config, &sender.wire_addrs);
            if Datagram::new(src, dst, vrrp_packet::VRRP_TTL, &bytes)
                .validate(&vcfg)
                .is_err()
            {
                self.stats.codec_rejects += 1;
            }
        }
        self.stats.sent += 1;
        if let Some(t) = self.trace.as_mut() {
            t.push(SentAdvert {
                at: self.now,
                router: from,
                priority: repr.priority,
                dst,
            });
        }
        let multicast = dst.is_multicast();
        for to in 0..self.routers.len() {
            if to == from || !(multicast || self.routers[to].config.primary_address == dst) {
                continue;
            }
            if self.sides[to] != self.sides[from] {
                self.stats.dropped += 1;
                continue;
            }
            if self.loss > 0.0 && self.rng.next_f64() < self.loss {
                self.stats.lost += 1;
                continue;
            }
            let at = self.now + self.delay(from, to);
            self.push(
                at,
                Kind::Deliver {
                    to,
                    src,
                    dst,
                    bytes: bytes.clone(),
                },
            );
        }
    }

    fn delay(&self, a: RouterId, b: RouterId) -> Duration {
        self.delays
            .iter()
            .find(|&&(x, y, _)| (x, y) == (a, b) || (x, y) == (b, a))
            .map_or(self.default_delay, |&(_, _, d)| d)
    }

    fn deliver(&mut self, to: RouterId, src: IpAddr, dst: IpAddr, bytes: &[u8]) {
        let now = self.now;
        let router = &mut self.routers[to];
        let Some(inst) = router.inst.as_mut() else {
            self.stats.dropped += 1;
            return;
        };
        let vcfg = validation_config(&router.config, &router.wire_addrs);
        match Datagram::new(src, dst, vrrp_packet::VRRP_TTL, bytes).validate(&vcfg) {
            Ok(v) => {
                self.stats.delivered += 1;
                inst.handle_input(now, Input::Advert(Received::from_validated(&v)));
            }
            Err(e) => {
                self.stats.rx_rejects += 1;
                inst.handle_input(now, Input::Rejected(RxError::from(&e)));
            }
        }
        self.drain(to);
    }
}

/// What a router configured with `cfg` accepts.
fn validation_config<'a>(cfg: &Config, addrs: &'a AddressList) -> ValidationConfig<'a> {
    let modes = match cfg.version {
        Version::V2 => ChecksumModes::V2,
        Version::V3 => ChecksumModes::V3_PSEUDO,
    };
    let mut v = ValidationConfig::new(cfg.version)
        .with_vrid(cfg.vrid)
        .with_checksum_modes(modes)
        .with_interval(cfg.advert_interval)
        .with_addresses(addrs.as_addresses());
    if cfg.version == Version::V2 {
        v = v.with_auth(cfg.auth);
    }
    v
}

fn wire_list(addrs: &[IpAddr]) -> AddressList {
    crate::instance::address_list(addrs)
}
