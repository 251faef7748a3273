//! One VRRP instance: (interface, VRID, address family).

use core::fmt;
use core::time::Duration;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use vrrp_packet::{AddressList, Addresses, Auth, Interval, Repr, Version};

use crate::config::{Config, ConfigError, TrackId, TrackState, interval_micros};
use crate::stats::{NewMasterReason, ProtoErrReason, Stats};
use crate::time::Instant;

/// The protocol state (RFC 9568 §6.4, plus keepalived's FAULT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Initialize (§6.4.1): not started, or shut down.
    Initialize,
    /// Backup (§6.4.2).
    Backup,
    /// Master, "Active" in RFC 9568 (§6.4.3).
    Master,
    /// keepalived FAULT: interface down or a tracked object in fault; silent, no addresses.
    Fault,
}

impl State {
    /// Lower-case name, as keepalived prints it and the simulator's JSON uses it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Initialize => "init",
            Self::Backup => "backup",
            Self::Master => "master",
            Self::Fault => "fault",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An advertisement to send: plain data, the daemon turns it into bytes with `vrrp-packet`.
///
/// [`repr`](Self::repr) borrows a [`vrrp_packet::Repr`] from it, ready for
/// `Repr::emit` / `vrrp_packet::emit_ip`; the source address is the daemon's primary address on
/// the interface (IPv6: link-local) and the TTL / hop limit is 255.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    /// Protocol version.
    pub version: Version,
    /// Virtual Router ID.
    pub vrid: u8,
    /// Priority: the effective priority, or 0 when the master stops.
    pub priority: u8,
    /// Advertisement interval (v2 puts whole seconds on the wire).
    pub interval: Interval,
    /// VRRPv2 authentication ([`Auth::None`] for v3).
    pub auth: Auth,
    /// The virtual addresses, shared with the instance (cloning is cheap).
    pub addresses: Arc<AddressList>,
}

impl Advert {
    /// The codec's view of this advert.
    ///
    /// ```
    /// use vrrp_machine::{Config, Input, Instance, Instant, Interval, Output, Version};
    /// use vrrp_packet::{Datagram, Envelope, ValidationConfig};
    ///
    /// let cfg = Config::new(Version::V3, 7, 255, Interval::DEFAULT,
    ///     "192.0.2.1".parse()?, vec!["192.0.2.7".parse()?]);
    /// let mut owner = Instance::new(cfg, Instant::ZERO)?;
    /// owner.handle_input(Instant::ZERO, Input::Startup);
    /// let tx = std::iter::from_fn(|| owner.poll_output())
    ///     .find_map(|o| match o { Output::Transmit(t) => Some(t), _ => None })
    ///     .unwrap();
    /// let repr = tx.advert.repr();
    /// let mut buf = [0u8; 64];
    /// let env = Envelope::new("192.0.2.1".parse()?, tx.dst, repr.version);
    /// let n = vrrp_packet::emit_ip(&repr, &env, &mut buf)?;
    /// let rx = Datagram::parse_ipv4(&buf[..n])?.validate(&ValidationConfig::new(Version::V3))?;
    /// assert_eq!((rx.repr.vrid, rx.repr.priority), (7, 255));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn repr(&self) -> Repr<'_> {
        Repr {
            version: self.version,
            vrid: self.vrid,
            priority: self.priority,
            interval: self.interval,
            auth: self.auth,
            addresses: self.addresses.as_addresses(),
        }
    }
}

/// "Send this advert to `dst`". One per unicast peer, or one to the multicast group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination: 224.0.0.18, ff02::12, or a unicast peer. TTL / hop limit is always 255.
    pub dst: IpAddr,
    /// The advert.
    pub advert: Advert,
}

/// "Announce the virtual addresses": gratuitous ARP (IPv4) or unsolicited NA with R=1, S=0, O=1
/// (IPv6), `count` times back to back, for each address (RFC 9568 §6.4.2, errata 7947/7949).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announce {
    /// Addresses to announce.
    pub addresses: Arc<[IpAddr]>,
    /// How many announcements of each address (keepalived's `garp_*_repeat`).
    pub count: u32,
}

/// Why the state changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Startup of a non-owner (§6.4.1).
    Startup,
    /// Startup of the address owner, priority 255 (§6.4.1).
    AddressOwner,
    /// No advert for Master_Down_Interval (§6.4.2).
    MasterDown,
    /// The master sent priority 0 and Skew_Time passed (§6.4.2).
    MasterReleased,
    /// Preempted a lower-priority master: its adverts were discarded until the timer ran out.
    Preempted,
    /// A higher-priority advert arrived while MASTER (§6.4.3).
    HigherPriority {
        /// Sender.
        src: IpAddr,
        /// Its priority.
        priority: u8,
    },
    /// An equal-priority advert from a higher address arrived while MASTER (§6.4.3).
    HigherAddress {
        /// Sender.
        src: IpAddr,
    },
    /// The Shutdown event.
    Shutdown,
    /// The interface went down.
    InterfaceDown,
    /// A tracked object with weight 0 went into fault.
    TrackFault(TrackId),
    /// Another member of the sync group is in FAULT.
    GroupFault,
    /// Every fault cleared.
    FaultCleared,
    /// The sync group moved this member along with another one.
    SyncGroup,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Startup => f.write_str("startup"),
            Self::AddressOwner => f.write_str("address owner (priority 255) at startup"),
            Self::MasterDown => f.write_str("master down timer expired"),
            Self::MasterReleased => f.write_str("master sent priority 0, skew time passed"),
            Self::Preempted => f.write_str("preempted lower-priority master"),
            Self::HigherPriority { src, priority } => {
                write!(f, "higher priority {priority} advert from {src}")
            }
            Self::HigherAddress { src } => {
                write!(f, "equal priority advert from higher address {src}")
            }
            Self::Shutdown => f.write_str("shutdown"),
            Self::InterfaceDown => f.write_str("interface down"),
            Self::TrackFault(id) => write!(f, "tracked object {} in fault", id.0),
            Self::GroupFault => f.write_str("sync group member in fault"),
            Self::FaultCleared => f.write_str("faults cleared"),
            Self::SyncGroup => f.write_str("sync group transition"),
        }
    }
}

impl Reason {
    /// A short machine-friendly tag (used as `reason` in the simulator's JSON).
    #[must_use]
    pub const fn tag(&self) -> &'static str {
        match self {
            Self::Startup => "startup",
            Self::AddressOwner => "address-owner",
            Self::MasterDown => "master-down",
            Self::MasterReleased => "master-released",
            Self::Preempted => "preempted",
            Self::HigherPriority { .. } => "higher-priority",
            Self::HigherAddress { .. } => "higher-address",
            Self::Shutdown => "shutdown",
            Self::InterfaceDown => "interface-down",
            Self::TrackFault(_) => "track-fault",
            Self::GroupFault => "group-fault",
            Self::FaultCleared => "fault-cleared",
            Self::SyncGroup => "sync-group",
        }
    }
}

/// A state transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// When.
    pub at: Instant,
    /// Old state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

/// What keepalived would hand to its notify scripts / FIFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notify {
    /// `notify_master`.
    Master,
    /// `notify_backup`.
    Backup,
    /// `notify_fault`.
    Fault,
    /// `notify_stop`.
    Stop,
    /// `notify_master_rx_lower_pri`: a MASTER received a lower-priority advert.
    MasterRxLowerPriority {
        /// Sender.
        src: IpAddr,
        /// Its priority.
        priority: u8,
    },
    /// The effective priority changed (keepalived `notify_priority_changes`).
    PriorityChanged {
        /// The new effective priority.
        effective: u8,
    },
}

/// Something the daemon must do. See [`Instance`] for the drain rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send an advert (TTL/hop limit 255, IP protocol 112).
    Transmit(Transmit),
    /// Send gratuitous ARPs / unsolicited NAs for the virtual addresses.
    Announce(Announce),
    /// Configure the virtual addresses on the interface (becoming MASTER).
    AddAddresses(Arc<[IpAddr]>),
    /// Remove the virtual addresses (leaving MASTER).
    RemoveAddresses(Arc<[IpAddr]>),
    /// The state changed.
    StateChange(StateChange),
    /// A notify event.
    Notify(Notify),
}

/// A received advert that passed the codec's checks (TTL 255, checksum, length, type; see
/// `vrrp_packet::validate`), with its IP source address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received<'a> {
    /// IP source address: the sender's primary address (the tie-breaker).
    pub src: IpAddr,
    /// The advert.
    pub repr: Repr<'a>,
}

impl<'a> Received<'a> {
    /// From the codec's validation result.
    #[must_use]
    pub fn from_validated(v: &vrrp_packet::Validated<'a>) -> Self {
        Self {
            src: v.src,
            repr: v.repr,
        }
    }
}

/// Why the daemon's codec rejected a packet for this instance (counted in [`Stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RxError {
    /// TTL / hop limit not 255.
    Ttl,
    /// Version not the instance's.
    Version,
    /// Bad checksum.
    Checksum,
    /// Type not ADVERTISEMENT.
    Type,
    /// Truncated or inconsistent length, or address count 0.
    Length,
    /// VRID not configured here.
    VrId,
    /// v2 authentication failure.
    Auth,
    /// Address count 0, IPv6 first address not link-local, or a v2 address list mismatch.
    AddressList,
    /// Interval 0, or a v2 interval mismatch.
    Interval,
    /// Anything else the codec refuses.
    Other,
}

impl From<&vrrp_packet::Error> for RxError {
    fn from(e: &vrrp_packet::Error) -> Self {
        use vrrp_packet::Error as E;
        match e {
            E::Ttl { .. } => Self::Ttl,
            E::Version { .. } => Self::Version,
            E::Type { .. } => Self::Type,
            E::Length { .. } => Self::Length,
            E::Checksum { .. } => Self::Checksum,
            E::VrId { .. } => Self::VrId,
            E::AddressCount | E::Ipv6LinkLocal | E::AddressList => Self::AddressList,
            E::IntervalZero | E::IntervalMismatch { .. } => Self::Interval,
            E::AuthType { .. } | E::AuthData => Self::Auth,
            _ => Self::Other,
        }
    }
}

/// An event for the instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input<'a> {
    /// The Startup event (§6.4.1). Ignored unless in Initialize.
    Startup,
    /// The Shutdown event: a MASTER sends priority 0 and everything stops.
    Shutdown,
    /// An advert addressed to this instance passed the codec's checks.
    Advert(Received<'a>),
    /// A packet for this instance failed the codec's checks.
    Rejected(RxError),
    /// The interface came up.
    InterfaceUp,
    /// The interface went down.
    InterfaceDown,
    /// A tracked object changed state.
    Track {
        /// Which object.
        id: TrackId,
        /// Up (OK) or down (failed).
        up: bool,
    },
    /// A tracked value changed (keepalived `track_file`): value × weight (negated with
    /// `reverse`) is added to the priority, below -253 the instance goes to FAULT; with weight
    /// 0 a non-zero value is a fault.
    TrackValue {
        /// Which object.
        id: TrackId,
        /// The number read.
        value: i64,
    },
    /// New base priority (1..=255; 0 is ignored).
    SetPriority(u8),
    /// New Preempt_Mode.
    SetPreempt(bool),
    /// Sync group: another member is (or no longer is) in FAULT.
    GroupFault(bool),
    /// Sync group: move to MASTER or BACKUP along with another member (other targets ignored).
    GroupMove(State),
    /// Sync group: hold an expired Master_Down_Timer until the group moves
    /// ([`Instance::wants_master`] tells), or release it.
    GroupHold(bool),
}

#[derive(Clone, Debug, Default)]
struct GarpSchedule {
    /// Announcements still to send in the current spaced burst.
    burst_left: u32,
    burst_next: Option<Instant>,
    /// A delayed burst: when and how many.
    second: Option<(Instant, u32)>,
    refresh: Option<Instant>,
}

/// One VRRP instance: the sans-IO state machine.
///
/// # Drive loop and drain rule
///
/// Every call that takes `now` may queue outputs and move the next deadline. After **every**
/// [`handle_input`](Self::handle_input) and [`handle_timeout`](Self::handle_timeout) the caller
/// must drain [`poll_output`](Self::poll_output) until it returns `None`, then ask
/// [`poll_timeout`](Self::poll_timeout) for the next deadline and call `handle_timeout` once the
/// clock reaches it (a late call is fine; an early one does nothing). Outputs come out in the
/// order they must be carried out (for example, on becoming Master: state change, advert, add
/// addresses, GARPs, as RFC 9568 §6.4.2 orders them).
///
/// ```no_run
/// use std::net::IpAddr;
/// use vrrp_machine::{Config, Input, Instance, Instant, Interval, Output, Received, Version};
/// use vrrp_packet::{Datagram, Envelope, ValidationConfig};
///
/// # fn recv_until(_deadline: Option<Instant>) -> Option<Vec<u8>> { None }
/// # fn send(_bytes: &[u8]) {}
/// # fn garp(_addrs: &[IpAddr], _count: u32) {}
/// # fn set_addresses(_add: bool, _addrs: &[IpAddr]) {}
/// # fn now() -> Instant { Instant::ZERO }
/// let me: IpAddr = "192.0.2.1".parse()?;
/// let config = Config::new(Version::V3, 51, 100, Interval::DEFAULT, me, vec!["192.0.2.100".parse()?]);
/// let mut vrrp = Instance::new(config, now())?;
/// vrrp.handle_input(now(), Input::Startup);
/// let mut buf = [0u8; 1500];
/// loop {
///     // 1. Drain every output.
///     while let Some(out) = vrrp.poll_output() {
///         match out {
///             Output::Transmit(t) => {
///                 let repr = t.advert.repr();
///                 let n = vrrp_packet::emit_ip(&repr, &Envelope::new(me, t.dst, repr.version), &mut buf)?;
///                 send(&buf[..n]);
///             }
///             Output::Announce(a) => garp(&a.addresses, a.count),
///             Output::AddAddresses(a) => set_addresses(true, &a),
///             Output::RemoveAddresses(a) => set_addresses(false, &a),
///             Output::StateChange(c) => println!("{} -> {}: {}", c.from, c.to, c.reason),
///             _ => {}
///         }
///     }
///     // 2. Wait for a packet or the next deadline, whichever comes first.
///     match recv_until(vrrp.poll_timeout()) {
///         Some(datagram) => {
///             let dg = Datagram::parse_ipv4(&datagram)?;
///             match dg.validate(&ValidationConfig::new(Version::V3).with_vrid(51)) {
///                 Ok(v) => vrrp.handle_input(now(), Input::Advert(Received::from_validated(&v))),
///                 Err(e) => vrrp.handle_input(now(), Input::Rejected((&e).into())),
///             }
///         }
///         None => vrrp.handle_timeout(now()),
///     }
/// }
/// # #[allow(unreachable_code)] Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Instance {
    cfg: Config,
    addrs: Arc<[IpAddr]>,
    wire_addrs: Arc<AddressList>,
    state: State,
    base_priority: u8,
    effective: u8,
    /// State per `cfg.tracks` entry; objects start up.
    track: Vec<TrackState>,
    interface_up: bool,
    group_fault: bool,
    master_adver: Interval,
    master_addr: Option<IpAddr>,
    down_timer: Option<Instant>,
    adver_timer: Option<Instant>,
    preempt_deadline: Option<Instant>,
    /// The down timer was set to Skew_Time by a priority-0 advert.
    released: bool,
    /// A lower-priority advert was discarded since the down timer was last reset.
    discarded_lower: bool,
    /// The next Master_Down_Timer includes `preempt_delay` (first one after startup).
    startup_delay: bool,
    /// Sync group: an expired Master_Down_Timer waits for the group instead of going MASTER.
    group_hold: bool,
    /// Sync group: the down timer expired while held (with the reason it would have had).
    want_master: Option<Reason>,
    garp: GarpSchedule,
    out: VecDeque<Output>,
    stats: Stats,
}

impl Instance {
    /// A new instance in Initialize; send [`Input::Startup`] to start it.
    ///
    /// # Errors
    /// The configuration breaks a rule (see [`Config::validate`]).
    pub fn new(config: Config, now: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        let addrs: Arc<[IpAddr]> = config.virtual_addresses.clone().into();
        let wire_addrs = Arc::new(address_list(&config.virtual_addresses));
        let mut me = Self {
            addrs,
            wire_addrs,
            state: State::Initialize,
            base_priority: config.priority,
            effective: config.priority,
            track: vec![TrackState::Up; config.tracks.len()],
            interface_up: true,
            group_fault: false,
            master_adver: config.advert_interval,
            master_addr: None,
            down_timer: None,
            adver_timer: None,
            preempt_deadline: None,
            released: false,
            discarded_lower: false,
            startup_delay: false,
            group_hold: false,
            want_master: None,
            garp: GarpSchedule::default(),
            out: VecDeque::with_capacity(8),
            stats: Stats {
                discontinuity_time: now,
                ..Stats::default()
            },
            cfg: config,
        };
        me.effective = me.compute_effective();
        Ok(me)
    }

    /// The configuration (with the base priority and preempt mode as last set).
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// The effective priority: base + tracked weights, clamped to 1..=254 (255 stays 255).
    #[must_use]
    pub fn priority(&self) -> u8 {
        self.effective
    }

    /// Whether this router owns the addresses (effective priority 255).
    #[must_use]
    pub fn is_owner(&self) -> bool {
        self.effective == 255
    }

    /// Accept_Mode as the daemon should apply it while MASTER: the owner always accepts.
    #[must_use]
    pub fn accept_mode(&self) -> bool {
        self.cfg.accept_mode || self.is_owner()
    }

    /// Statistics.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Master_Adver_Interval (v3 Backup: the master's; otherwise ours).
    #[must_use]
    pub fn master_adver_interval(&self) -> Interval {
        self.master_adver
    }

    /// The address of the current master as last heard (Backup only).
    #[must_use]
    pub fn master_address(&self) -> Option<IpAddr> {
        self.master_addr
    }

    /// Skew_Time = (256 − Priority) × Master_Adver_Interval / 256, in microseconds.
    ///
    /// Computed exactly in µs (then truncated to whole µs), not rounded to centiseconds: 100 cs
    /// at priority 100 gives 609 375 µs, so Master_Down_Interval is 3.609375 s for both v2 and
    /// v3, as keepalived computes it.
    #[must_use]
    pub fn skew_time(&self) -> Duration {
        Duration::from_micros(
            u64::from(256 - u16::from(self.effective)) * interval_micros(self.master_adver) / 256,
        )
    }

    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time (3 = `down_timer_adverts`).
    #[must_use]
    pub fn master_down_interval(&self) -> Duration {
        Duration::from_micros(
            u64::from(self.cfg.down_timer_adverts) * interval_micros(self.master_adver),
        ) + self.skew_time()
    }

    /// Applies a new configuration without restarting the election (a reload): the state is
    /// kept; a MASTER whose addresses change removes the old ones, adds the new ones and
    /// announces them; tracked objects keep their state by id (new ones start up); the
    /// effective priority is recomputed. Drain [`poll_output`](Self::poll_output) afterwards.
    ///
    /// # Errors
    /// The new configuration is invalid, or changes the version, VRID or address family
    /// ([`ConfigError::Identity`]); nothing is changed then.
    pub fn reconfigure(&mut self, now: Instant, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        if config.version != self.cfg.version
            || config.vrid != self.cfg.vrid
            || config.is_ipv6() != self.cfg.is_ipv6()
        {
            return Err(ConfigError::Identity);
        }
        let track = config
            .tracks
            .iter()
            .map(|t| {
                self.cfg
                    .tracks
                    .iter()
                    .zip(&self.track)
                    .find(|(old, _)| old.id == t.id)
                    .map_or(TrackState::Up, |(_, s)| *s)
            })
            .collect();
        let addresses_changed = config.virtual_addresses != self.cfg.virtual_addresses;
        let master = self.state == State::Master;
        if addresses_changed && master {
            self.out
                .push_back(Output::RemoveAddresses(self.addrs.clone()));
        }
        if addresses_changed {
            self.addrs = config.virtual_addresses.clone().into();
            self.wire_addrs = Arc::new(address_list(&config.virtual_addresses));
        }
        self.track = track;
        self.base_priority = config.priority;
        self.cfg = config;
        if !self.cfg.preempt {
            self.preempt_deadline = None;
        }
        if master {
            self.master_adver = self.cfg.advert_interval;
            if addresses_changed {
                self.out.push_back(Output::AddAddresses(self.addrs.clone()));
                self.start_burst(now, self.cfg.garp.master_repeat);
            }
        }
        self.recompute_priority();
        self.update_faults(now);
        Ok(())
    }

    /// Sync group: the Master_Down_Timer expired while held; the member waits for the group.
    #[must_use]
    pub fn wants_master(&self) -> bool {
        self.want_master.is_some()
    }

    /// Whether the instance itself is in fault (interface down or a weight-0 track down),
    /// not counting a sync-group fault.
    #[must_use]
    pub fn own_fault(&self) -> bool {
        !self.interface_up || self.track_fault().is_some()
    }

    /// The next deadline, if any timer is armed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.down_timer,
            self.adver_timer,
            self.garp.burst_next,
            self.garp.second.map(|(t, _)| t),
            self.garp.refresh,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next output, or `None` once drained.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Feed an event. Drain [`poll_output`](Self::poll_output) afterwards.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Startup => self.startup(now),
            Input::Shutdown => self.shutdown(now),
            Input::Advert(rx) => self.receive(now, &rx),
            Input::Rejected(e) => self.rejected(e),
            Input::InterfaceUp => {
                self.interface_up = true;
                self.update_faults(now);
            }
            Input::InterfaceDown => {
                self.interface_up = false;
                self.update_faults(now);
            }
            Input::Track { id, up } => {
                let state = if up { TrackState::Up } else { TrackState::Down };
                self.track_changed(now, id, state);
            }
            Input::TrackValue { id, value } => {
                self.track_changed(now, id, TrackState::Value(value));
            }
            Input::SetPriority(p) => {
                if p != 0 {
                    self.base_priority = p;
                    self.cfg.priority = p;
                    self.recompute_priority();
                }
            }
            Input::SetPreempt(p) => {
                self.cfg.preempt = p;
                if !p {
                    self.preempt_deadline = None;
                }
            }
            Input::GroupFault(f) => {
                self.group_fault = f;
                self.update_faults(now);
            }
            Input::GroupMove(State::Master) if self.state == State::Backup => {
                let reason = self.want_master.take().unwrap_or(Reason::SyncGroup);
                self.become_master(now, reason);
            }
            Input::GroupHold(hold) => {
                self.group_hold = hold;
                if !hold {
                    if let Some(reason) = self.want_master.take() {
                        self.become_master(now, reason);
                    }
                }
            }
            Input::GroupMove(State::Backup) if self.state == State::Master => {
                self.become_backup(now, Reason::SyncGroup);
            }
            Input::GroupMove(_) => {}
        }
    }

    /// Run the timers due at `now`. Drain [`poll_output`](Self::poll_output) afterwards.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Each pass handles at least one due timer; bounded in case of a far-behind clock.
        for _ in 0..64 {
            if self.down_timer.is_some_and(|t| t <= now) {
                self.down_timer = None;
                let reason = if self.released {
                    Reason::MasterReleased
                } else if self.discarded_lower {
                    Reason::Preempted
                } else {
                    Reason::MasterDown
                };
                if self.group_hold {
                    // keepalived: a sync group goes MASTER only when every member wants to.
                    self.want_master = Some(reason);
                } else {
                    self.become_master(now, reason);
                }
                continue;
            }
            if let Some(t) = self.adver_timer.filter(|t| *t <= now) {
                self.send_advert(self.effective);
                let iv = self.cfg.advert_interval.as_duration();
                let next = t + iv;
                self.adver_timer = Some(if next <= now { now + iv } else { next });
                continue;
            }
            if self.garp.burst_next.is_some_and(|t| t <= now) {
                self.announce(1);
                self.garp.burst_left = self.garp.burst_left.saturating_sub(1);
                self.garp.burst_next =
                    (self.garp.burst_left > 0).then(|| now + self.cfg.garp.interval);
                continue;
            }
            if let Some((_, n)) = self.garp.second.filter(|(t, _)| *t <= now) {
                self.garp.second = None;
                self.start_burst(now, n);
                continue;
            }
            if self.garp.refresh.is_some_and(|t| t <= now) {
                let period = self
                    .cfg
                    .garp
                    .master_refresh
                    .unwrap_or(Duration::from_secs(1));
                self.garp.refresh = Some(now + period);
                self.start_burst(now, self.cfg.garp.master_refresh_repeat);
                continue;
            }
            break;
        }
    }

    // ---- transitions -------------------------------------------------------------------

    fn startup(&mut self, now: Instant) {
        if self.state != State::Initialize {
            return;
        }
        if let Some(reason) = self.fault_reason() {
            self.go_fault(now, reason);
        } else {
            self.enter_running(now, Reason::Startup);
        }
    }

    /// Initialize or FAULT → Backup, or Master for an owner (§6.4.1).
    fn enter_running(&mut self, now: Instant, reason: Reason) {
        self.startup_delay = reason == Reason::Startup;
        if self.effective == 255 && self.cfg.owner_immediate_master {
            self.become_master(now, Reason::AddressOwner);
        } else {
            self.master_adver = self.cfg.advert_interval;
            self.become_backup(now, reason);
        }
    }

    fn shutdown(&mut self, now: Instant) {
        let from = self.state;
        if from == State::Initialize {
            return;
        }
        if from == State::Master {
            // §6.4.3: cancel Adver_Timer, send priority 0.
            self.send_advert(0);
            self.out
                .push_back(Output::RemoveAddresses(self.addrs.clone()));
        }
        self.stop_timers();
        self.state = State::Initialize;
        self.change(now, from, Reason::Shutdown);
        self.out.push_back(Output::Notify(Notify::Stop));
    }

    fn become_master(&mut self, now: Instant, reason: Reason) {
        let from = self.state;
        self.stop_timers();
        self.state = State::Master;
        self.master_addr = None;
        self.master_adver = self.cfg.advert_interval;
        self.stats.master_transitions += 1;
        self.stats.new_master_reason = match reason {
            Reason::AddressOwner => NewMasterReason::Priority,
            Reason::Preempted => NewMasterReason::Preempted,
            _ => NewMasterReason::MasterNoResponse,
        };
        self.change(now, from, reason);
        // RFC 9568 §6.4.2 order: the advert first (it stops the other backups' timers and
        // demotes a lower-priority master as early as possible), then the addresses, then the
        // gratuitous ARPs / NAs that point the LAN at them. Adding the addresses takes a
        // netlink round trip the advert need not wait for.
        self.send_advert(self.effective);
        self.out.push_back(Output::AddAddresses(self.addrs.clone()));
        self.adver_timer = Some(now + self.cfg.advert_interval.as_duration());
        self.start_burst(now, self.cfg.garp.master_repeat);
        if let Some(d) = self.cfg.garp.master_delay {
            self.garp.second = Some((now + d, self.cfg.garp.master_repeat));
        }
        if let Some(p) = self.cfg.garp.master_refresh {
            self.garp.refresh = Some(now + p);
        }
        self.out.push_back(Output::Notify(Notify::Master));
    }

    fn become_backup(&mut self, now: Instant, reason: Reason) {
        let from = self.state;
        if from == State::Master {
            self.out
                .push_back(Output::RemoveAddresses(self.addrs.clone()));
        }
        self.stop_timers();
        self.state = State::Backup;
        self.change(now, from, reason);
        self.reset_down_timer(now);
        self.out.push_back(Output::Notify(Notify::Backup));
    }

    fn go_fault(&mut self, now: Instant, reason: Reason) {
        let from = self.state;
        if from == State::Fault {
            return;
        }
        if from == State::Master {
            if self.interface_up {
                // keepalived: a master leaving for FAULT with a working link says priority 0 so
                // that a backup takes over after Skew_Time rather than Master_Down_Interval.
                self.send_advert(0);
            }
            self.out
                .push_back(Output::RemoveAddresses(self.addrs.clone()));
        }
        self.stop_timers();
        self.state = State::Fault;
        self.change(now, from, reason);
        self.out.push_back(Output::Notify(Notify::Fault));
    }

    /// Enters or leaves FAULT after a change of the interface, a track or the group; the
    /// reason is the fault that holds (interface first, then tracks, then the group).
    fn update_faults(&mut self, now: Instant) {
        match (self.state, self.fault_reason()) {
            (State::Backup | State::Master, Some(r)) => self.go_fault(now, r),
            (State::Fault, None) => self.enter_running(now, Reason::FaultCleared),
            _ => {}
        }
    }

    fn fault_reason(&self) -> Option<Reason> {
        if !self.interface_up {
            Some(Reason::InterfaceDown)
        } else if let Some(id) = self.track_fault() {
            Some(Reason::TrackFault(id))
        } else if self.group_fault {
            Some(Reason::GroupFault)
        } else {
            None
        }
    }

    fn track_changed(&mut self, now: Instant, id: TrackId, state: TrackState) {
        let mut changed = false;
        for (t, s) in self.cfg.tracks.iter().zip(self.track.iter_mut()) {
            if t.id == id && *s != state {
                *s = state;
                changed = true;
            }
        }
        if changed {
            self.recompute_priority();
            self.update_faults(now);
        }
    }

    fn track_fault(&self) -> Option<TrackId> {
        self.cfg
            .tracks
            .iter()
            .zip(&self.track)
            .find(|(t, s)| t.contribution(**s).is_none())
            .map(|(t, _)| t.id)
    }

    fn compute_effective(&self) -> u8 {
        if self.base_priority == 255 {
            return 255;
        }
        let sum: i32 = self
            .cfg
            .tracks
            .iter()
            .zip(&self.track)
            .filter_map(|(t, s)| t.contribution(*s))
            .sum();
        // Clamped to 1..=254: only a configured owner has 255.
        (i32::from(self.base_priority) + sum).clamp(1, 254) as u8
    }

    fn recompute_priority(&mut self) {
        let e = self.compute_effective();
        if e != self.effective {
            self.effective = e;
            self.out
                .push_back(Output::Notify(Notify::PriorityChanged { effective: e }));
        }
    }

    // ---- receive -----------------------------------------------------------------------

    fn rejected(&mut self, e: RxError) {
        let s = &mut self.stats;
        match e {
            RxError::Ttl => {
                s.ip_ttl_errors += 1;
                s.proto_err_reason = ProtoErrReason::IpTtlError;
            }
            RxError::Version => {
                s.version_errors += 1;
                s.proto_err_reason = ProtoErrReason::VersionError;
            }
            RxError::Checksum => {
                s.checksum_errors += 1;
                s.proto_err_reason = ProtoErrReason::ChecksumError;
            }
            RxError::VrId => {
                s.vrid_errors += 1;
                s.proto_err_reason = ProtoErrReason::VrIdError;
            }
            RxError::Type => s.rcvd_invalid_type_packets += 1,
            RxError::Length => s.packet_length_errors += 1,
            RxError::Auth => s.auth_errors += 1,
            RxError::AddressList => s.address_list_errors += 1,
            RxError::Interval => s.adv_interval_errors += 1,
            RxError::Other => {}
        }
    }

    /// §7.1 checks that need the instance's configuration; `true` = keep the advert.
    fn accept(&mut self, rx: &Received<'_>) -> bool {
        let src = rx.src;
        let rx = &rx.repr;
        if rx.version != self.cfg.version {
            self.rejected(RxError::Version);
            return false;
        }
        if rx.vrid != self.cfg.vrid {
            self.rejected(RxError::VrId);
            return false;
        }
        if src.is_ipv6() != self.cfg.is_ipv6() {
            // The other family's instance: not for us.
            return false;
        }
        if self.cfg.version == Version::V2 && rx.auth != self.cfg.auth {
            self.rejected(RxError::Auth);
            return false;
        }
        if rx.interval != self.cfg.advert_interval {
            self.stats.adv_interval_errors += 1;
            // RFC 3768 §7.1: MUST discard; RFC 9568 §7.1: log only (a v3 Backup adopts it).
            if self.cfg.version == Version::V2 {
                return false;
            }
        }
        if rx.priority != 0 && !same_addresses(&rx.addresses, &self.addrs) {
            self.stats.address_list_errors += 1;
            // RFC 3768 §7.1: drop unless sent by the owner; RFC 9568: log only.
            if self.cfg.version == Version::V2 && rx.priority != 255 {
                return false;
            }
        }
        true
    }

    fn receive(&mut self, now: Instant, rx: &Received<'_>) {
        if rx.src == self.cfg.primary_address {
            // Our own advert looped back (multicast loop): not received from anyone.
            return;
        }
        self.stats.rcvd_advertisements += 1;
        if !self.accept(rx) {
            return;
        }
        if rx.repr.priority == 0 {
            self.stats.rcvd_pri_zero_packets += 1;
        }
        match self.state {
            State::Backup => self.backup_rx(now, rx),
            State::Master => self.master_rx(now, rx),
            State::Initialize | State::Fault => {}
        }
    }

    /// §6.4.2 with keepalived's `preempt_delay`.
    fn backup_rx(&mut self, now: Instant, rx: &Received<'_>) {
        let src = rx.src;
        let rx = &rx.repr;
        if rx.priority == 0 {
            self.down_timer = Some(now + self.skew_time());
            self.released = true;
            self.want_master = None;
            return;
        }
        let lower = rx.priority < self.effective;
        let delaying = self.cfg.preempt
            && lower
            && !self.cfg.preempt_delay.is_zero()
            && self.preempt_deadline.is_none_or(|d| now < d);
        if !self.cfg.preempt || !lower || delaying {
            if self.cfg.version == Version::V3 {
                self.master_adver = rx.interval;
            }
            self.master_addr = Some(src);
            if self.cfg.preempt && !self.cfg.preempt_delay.is_zero() {
                if !lower {
                    self.preempt_deadline = None;
                } else if self.preempt_deadline.is_none() {
                    self.preempt_deadline = Some(now + self.cfg.preempt_delay);
                }
            }
            self.startup_delay = false;
            self.reset_down_timer(now);
        } else {
            // Preempt: discard and let Master_Down_Timer run out.
            self.discarded_lower = true;
        }
    }

    /// §6.4.3.
    fn master_rx(&mut self, now: Instant, rx: &Received<'_>) {
        let src = rx.src;
        let rx = &rx.repr;
        if rx.priority == 0 {
            self.send_advert(self.effective);
            self.adver_timer = Some(now + self.cfg.advert_interval.as_duration());
            return;
        }
        if rx.priority > self.effective {
            self.yield_to(
                now,
                src,
                rx,
                Reason::HigherPriority {
                    src,
                    priority: rx.priority,
                },
            );
        } else if rx.priority == self.effective && addr_greater(src, self.cfg.primary_address) {
            self.yield_to(now, src, rx, Reason::HigherAddress { src });
        } else {
            self.out
                .push_back(Output::Notify(Notify::MasterRxLowerPriority {
                    src,
                    priority: rx.priority,
                }));
            if self.cfg.garp.lower_prio_repeat > 0 {
                self.start_burst(now, self.cfg.garp.lower_prio_repeat);
                if let Some(d) = self.cfg.garp.lower_prio_delay {
                    self.garp.second = Some((now + d, self.cfg.garp.lower_prio_repeat));
                }
            }
            // RFC 9568 §6.4.3: "Send an ADVERTISEMENT immediately".
            if !self.cfg.lower_prio_no_advert {
                self.send_advert(self.effective);
            }
        }
    }

    fn yield_to(&mut self, now: Instant, src: IpAddr, rx: &Repr<'_>, reason: Reason) {
        if self.cfg.higher_prio_send_advert {
            self.send_advert(self.effective);
        }
        self.become_backup(now, reason);
        if self.cfg.version == Version::V3 {
            self.master_adver = rx.interval;
        }
        self.master_addr = Some(src);
        self.reset_down_timer(now);
    }

    // ---- helpers -----------------------------------------------------------------------

    fn reset_down_timer(&mut self, now: Instant) {
        let mut t = now + self.master_down_interval();
        if self.startup_delay && self.cfg.preempt && self.state == State::Backup {
            t += self.cfg.preempt_delay;
        }
        self.down_timer = Some(t);
        self.released = false;
        self.discarded_lower = false;
        self.want_master = None;
    }

    fn stop_timers(&mut self) {
        self.down_timer = None;
        self.adver_timer = None;
        self.preempt_deadline = None;
        self.released = false;
        self.discarded_lower = false;
        self.want_master = None;
        self.garp = GarpSchedule::default();
    }

    fn change(&mut self, now: Instant, from: State, reason: Reason) {
        self.out.push_back(Output::StateChange(StateChange {
            at: now,
            from,
            to: self.state,
            reason,
        }));
    }

    fn send_advert(&mut self, priority: u8) {
        self.stats.sent_advertisements += 1;
        if priority == 0 {
            self.stats.sent_pri_zero_packets += 1;
        }
        let advert = Advert {
            version: self.cfg.version,
            vrid: self.cfg.vrid,
            priority,
            interval: self.cfg.advert_interval,
            auth: self.cfg.auth,
            addresses: self.wire_addrs.clone(),
        };
        if self.cfg.unicast_peers.is_empty() {
            let dst = self.cfg.multicast_group();
            self.out
                .push_back(Output::Transmit(Transmit { dst, advert }));
        } else {
            for &dst in &self.cfg.unicast_peers {
                self.out.push_back(Output::Transmit(Transmit {
                    dst,
                    advert: advert.clone(),
                }));
            }
        }
    }

    fn announce(&mut self, count: u32) {
        if count > 0 {
            self.out.push_back(Output::Announce(Announce {
                addresses: self.addrs.clone(),
                count,
            }));
        }
    }

    /// A burst of `n` announcements: all at once, or spaced by `garp.interval`.
    fn start_burst(&mut self, now: Instant, n: u32) {
        if n == 0 {
            return;
        }
        if self.cfg.garp.interval.is_zero() {
            self.announce(n);
        } else {
            self.announce(1);
            self.garp.burst_left = self.garp.burst_left.saturating_add(n - 1);
            if self.garp.burst_left > 0 && self.garp.burst_next.is_none() {
                self.garp.burst_next = Some(now + self.cfg.garp.interval);
            }
        }
    }
}

/// Unsigned comparison in network byte order (§6.4.3); `Ipv4Addr`/`Ipv6Addr` order by octets.
fn addr_greater(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets() > b.octets(),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets() > b.octets(),
        _ => false,
    }
}

/// Same address set (order-insensitive).
fn same_addresses(rx: &Addresses<'_>, ours: &[IpAddr]) -> bool {
    rx.len() == ours.len() && rx.iter().all(|a| ours.contains(&a))
}

/// The codec's owned address list for validated (single-family) addresses.
pub(crate) fn address_list(addrs: &[IpAddr]) -> AddressList {
    if addrs.first().is_some_and(IpAddr::is_ipv6) {
        AddressList::Ipv6(
            addrs
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V6(a) => Some(*a),
                    IpAddr::V4(_) => None,
                })
                .collect(),
        )
    } else {
        AddressList::Ipv4(
            addrs
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V4(a) => Some(*a),
                    IpAddr::V6(_) => None,
                })
                .collect(),
        )
    }
}
