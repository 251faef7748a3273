//! Instance configuration and its validation.

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_packet::{Auth, Interval, Version};

/// Identifies a tracked object (interface, script, file, process, BFD session) for this instance.
///
/// The daemon numbers its tracked objects; the machine only sees their up/down state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackId(pub u32);

/// What the machine knows of a tracked object: up or down (interfaces, scripts, processes), or
/// a number (`track_file`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrackState {
    Up,
    Down,
    Value(i64),
}

/// A tracked object and how its state moves the priority (keepalived `track_*` with `weight`).
///
/// * `weight == 0`: the instance goes to FAULT while the object is down.
/// * `weight > 0`: `weight` is added to the priority while the object is up.
/// * `weight < 0`: `weight` is added (subtracted) while the object is down.
/// * `reverse` negates the weight (and `weight 0 reverse` faults while the object is up).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Track {
    /// The object.
    pub id: TrackId,
    /// Weight, -254..=254 (0 = fault when down).
    pub weight: i16,
    /// keepalived `reverse`.
    pub reverse: bool,
}

impl Track {
    /// A track that puts the instance in FAULT while the object is down.
    #[must_use]
    pub const fn fault(id: TrackId) -> Self {
        Self {
            id,
            weight: 0,
            reverse: false,
        }
    }

    /// A weighted track.
    #[must_use]
    pub const fn weighted(id: TrackId, weight: i16) -> Self {
        Self {
            id,
            weight,
            reverse: false,
        }
    }

    /// The priority contribution for an object state (`None` means "fault").
    ///
    /// keepalived's table: a positive weight applies while up, a negative one while down, and
    /// `reverse` negates the weight (weight 0 reverse: fault while up). A value (`track_file`)
    /// contributes value × weight (negated by `reverse`), and faults below -253; with weight
    /// 0, a non-zero value is a fault (a zero one with `reverse`).
    pub(crate) fn contribution(&self, state: TrackState) -> Option<i32> {
        let w = i32::from(self.weight);
        let signed = if self.reverse { -w } else { w };
        let up = match state {
            TrackState::Up => true,
            TrackState::Down => false,
            TrackState::Value(v) => {
                if w == 0 {
                    return ((v != 0) == self.reverse).then_some(0);
                }
                let r = v.saturating_mul(i64::from(signed));
                return (r >= -253).then(|| i32::try_from(r.min(254)).unwrap_or(254));
            }
        };
        match w {
            0 if up == self.reverse => None,
            0 => Some(0),
            w if w > 0 => Some(if up { signed } else { 0 }),
            _ => Some(if up { 0 } else { signed }),
        }
    }
}

/// The gratuitous ARP / unsolicited NA schedule (keepalived `garp_*`).
///
/// Defaults are keepalived's: 5 at the transition to MASTER, 5 more after 5 s, no refresh, no
/// spacing, and the same 5 + 5 after a lower-priority advert is received while MASTER.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GarpConfig {
    /// `garp_master_repeat`: announcements per burst at the transition to MASTER.
    pub master_repeat: u32,
    /// `garp_master_delay`: delay of the second burst (`None` = no second burst).
    pub master_delay: Option<Duration>,
    /// `garp_master_refresh`: period of refresh bursts while MASTER (`None` = off).
    pub master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat`: announcements per refresh burst.
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_repeat`: announcements when a lower-priority advert arrives while MASTER.
    pub lower_prio_repeat: u32,
    /// `garp_lower_prio_delay`: delay of the second such burst (`None` = none).
    pub lower_prio_delay: Option<Duration>,
    /// `garp_interval` / `gna_interval`: spacing between announcements of one burst. Zero means
    /// one [`Announce`](crate::Announce) output carrying the whole burst count.
    pub interval: Duration,
}

impl Default for GarpConfig {
    fn default() -> Self {
        Self {
            master_repeat: 5,
            master_delay: Some(Duration::from_secs(5)),
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_repeat: 5,
            lower_prio_delay: Some(Duration::from_secs(5)),
            interval: Duration::ZERO,
        }
    }
}

impl GarpConfig {
    /// keepalived `vrrp_min_garp`: one announcement, no second burst.
    #[must_use]
    pub fn minimal() -> Self {
        Self {
            master_repeat: 1,
            master_delay: None,
            lower_prio_repeat: 1,
            lower_prio_delay: None,
            ..Self::default()
        }
    }
}

/// Configuration of one instance: one virtual router on one interface for one address family.
///
/// Build it with [`Config::new`] and adjust the public fields; [`Instance::new`](crate::Instance::new)
/// validates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Protocol version.
    pub version: Version,
    /// Virtual Router ID, 1..=255.
    pub vrid: u8,
    /// Base priority, 1..=255; 255 means this router owns the addresses.
    pub priority: u8,
    /// Advertisement_Interval.
    pub advert_interval: Interval,
    /// This router's primary address on the interface (the advert source, IPv6: link-local);
    /// used for the equal-priority tie-break and to ignore our own looped adverts.
    pub primary_address: IpAddr,
    /// The virtual addresses, in advert order (IPv6: the first must be link-local).
    pub virtual_addresses: Vec<IpAddr>,
    /// Preempt_Mode (keepalived: `preempt`, the default; `nopreempt` clears it).
    pub preempt: bool,
    /// keepalived `preempt_delay`: extra wait before preempting a lower-priority master, and
    /// added to the first Master_Down_Timer after startup.
    pub preempt_delay: Duration,
    /// Accept_Mode: the daemon reads it ([`Instance::accept_mode`](crate::Instance::accept_mode)).
    pub accept_mode: bool,
    /// Unicast peers: when non-empty, each advert is sent once per peer instead of multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// VRRPv2 authentication (must be [`Auth::None`] for v3; AH is left to the daemon).
    pub auth: Auth,
    /// keepalived `lower_prio_no_advert`: the pre-RFC 9568 rule, a MASTER stays silent when it
    /// receives a lower-priority advert. Off by default (RFC 9568 §6.4.3 sends one at once).
    pub lower_prio_no_advert: bool,
    /// keepalived `higher_prio_send_advert`: a MASTER sends one more advert before yielding.
    pub higher_prio_send_advert: bool,
    /// Announcement (GARP/NA) schedule.
    pub garp: GarpConfig,
    /// Tracked objects and their weights.
    pub tracks: Vec<Track>,
    /// An owner (priority 255) goes straight to MASTER at startup (RFC). keepalived only does
    /// that with `state MASTER`; set this to `false` to model `state BACKUP` on an owner.
    pub owner_immediate_master: bool,
    /// keepalived `down_timer_adverts` (RFC value 3): adverts in Master_Down_Interval.
    pub down_timer_adverts: u8,
}

impl Config {
    /// A configuration with keepalived/RFC defaults: preempt on, no delay, accept off,
    /// multicast, no auth, keepalived GARP defaults, no tracking, `down_timer_adverts` 3.
    #[must_use]
    pub fn new(
        version: Version,
        vrid: u8,
        priority: u8,
        advert_interval: Interval,
        primary_address: IpAddr,
        virtual_addresses: Vec<IpAddr>,
    ) -> Self {
        Self {
            version,
            vrid,
            priority,
            advert_interval,
            primary_address,
            virtual_addresses,
            preempt: true,
            preempt_delay: Duration::ZERO,
            accept_mode: false,
            unicast_peers: Vec::new(),
            auth: Auth::None,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            garp: GarpConfig::default(),
            tracks: Vec::new(),
            owner_immediate_master: true,
            down_timer_adverts: 3,
        }
    }

    /// Whether the instance is IPv6.
    #[must_use]
    pub fn is_ipv6(&self) -> bool {
        self.primary_address.is_ipv6()
    }

    /// The multicast destination of adverts: 224.0.0.18 or ff02::12.
    #[must_use]
    pub fn multicast_group(&self) -> IpAddr {
        if self.is_ipv6() {
            IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12))
        } else {
            IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18))
        }
    }

    /// Checks every rule the wire format and the RFCs put on a configuration.
    ///
    /// # Errors
    /// The first violated rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.vrid == 0 {
            return Err(ConfigError::Vrid);
        }
        if self.priority == 0 {
            return Err(ConfigError::Priority);
        }
        let cs = self.advert_interval.as_centis();
        match self.version {
            Version::V2 => {
                if cs == 0 || cs % 100 != 0 || cs > 25_500 {
                    return Err(ConfigError::Interval {
                        centis: cs,
                        version: self.version,
                    });
                }
                if self.is_ipv6() {
                    return Err(ConfigError::V2Ipv6);
                }
            }
            Version::V3 => {
                if cs == 0 || cs > 4095 {
                    return Err(ConfigError::Interval {
                        centis: cs,
                        version: self.version,
                    });
                }
                if self.auth != Auth::None {
                    return Err(ConfigError::V3Auth);
                }
            }
        }
        if self.virtual_addresses.is_empty() {
            return Err(ConfigError::NoAddresses);
        }
        if self.virtual_addresses.len() > 255 {
            return Err(ConfigError::TooManyAddresses(self.virtual_addresses.len()));
        }
        let v6 = self.is_ipv6();
        if let Some(a) = self
            .virtual_addresses
            .iter()
            .chain(&self.unicast_peers)
            .find(|a| a.is_ipv6() != v6)
        {
            return Err(ConfigError::MixedFamily(*a));
        }
        if let Some(IpAddr::V6(first)) = self.virtual_addresses.first() {
            if !is_link_local(first) {
                return Err(ConfigError::FirstNotLinkLocal(*first));
            }
        }
        if self.down_timer_adverts == 0 || self.down_timer_adverts > 100 {
            return Err(ConfigError::DownTimerAdverts(self.down_timer_adverts));
        }
        if let Some(t) = self
            .tracks
            .iter()
            .find(|t| !(-254..=254).contains(&t.weight))
        {
            return Err(ConfigError::TrackWeight(t.weight));
        }
        if self.preempt_delay > Duration::from_secs(1000) {
            return Err(ConfigError::PreemptDelay(self.preempt_delay));
        }
        Ok(())
    }
}

/// `fe80::/10`.
pub(crate) fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// Microseconds of an interval.
pub(crate) const fn interval_micros(i: Interval) -> u64 {
    i.as_centis() as u64 * 10_000
}

/// A configuration rule that [`Config::validate`] found broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// VRID 0 is reserved (RFC 9568 §5.2.3: 1..255).
    #[error("virtual router id must be 1..=255 (RFC 9568 §5.2.3)")]
    Vrid,
    /// Priority 0 is reserved for "master stops" (RFC 9568 §5.2.4).
    #[error("priority must be 1..=255; 0 is reserved for a stopping master (RFC 9568 §5.2.4)")]
    Priority,
    /// The interval does not fit the version's wire field.
    #[error(
        "advert interval {centis} cs is invalid for VRRP{version:?}: v2 carries whole seconds 1..=255 (RFC 3768 §5.3.7), v3 1..=4095 cs (RFC 9568 §5.2.7)"
    )]
    Interval {
        /// The interval given.
        centis: u16,
        /// The version it was given for.
        version: Version,
    },
    /// VRRPv2 is IPv4 only.
    #[error("VRRPv2 is IPv4 only (RFC 3768); use version 3 for IPv6")]
    V2Ipv6,
    /// VRRPv3 has no authentication.
    #[error("VRRPv3 has no authentication field (RFC 9568 §9)")]
    V3Auth,
    /// No virtual address.
    #[error("at least one virtual address is required (RFC 9568 §5.2.5, erratum 8299)")]
    NoAddresses,
    /// More addresses than the count field holds.
    #[error("{0} virtual addresses do not fit the 8-bit count field")]
    TooManyAddresses(usize),
    /// An address of the other family.
    #[error("address {0} is not of the instance's family (RFC 9568 §5.2.9)")]
    MixedFamily(IpAddr),
    /// IPv6 instances must list a link-local address first.
    #[error(
        "the first IPv6 virtual address {0} must be link-local (RFC 9568 §5.2.9, erratum 8300)"
    )]
    FirstNotLinkLocal(Ipv6Addr),
    /// `down_timer_adverts` outside 1..=100.
    #[error("down_timer_adverts {0} must be 1..=100")]
    DownTimerAdverts(u8),
    /// A track weight outside -254..=254.
    #[error("track weight {0} must be -254..=254")]
    TrackWeight(i16),
    /// `preempt_delay` above keepalived's 1000 s.
    #[error("preempt_delay {0:?} exceeds 1000 s")]
    PreemptDelay(Duration),
    /// [`Instance::reconfigure`](crate::Instance::reconfigure) cannot change what identifies an
    /// instance.
    #[error(
        "version, VRID and address family identify an instance; create a new one to change them"
    )]
    Identity,
}
