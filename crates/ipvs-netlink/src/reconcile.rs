//! Reconcile: the minimal ordered list of requests that turns the kernel's current state
//! into a desired state. A pure function ([`diff`]); [`crate::Ipvs::reconcile`] feeds it a
//! fresh dump and applies the result as a batch.
//!
//! Order and rules, chosen so that a reload never drops a live service:
//! 1. services that are new: `NewService`, then their destinations;
//! 2. services that exist: `SetService` if the configuration differs (never delete and
//!    re-add), then destinations: new ones first, edits next, removals last;
//! 3. services that are no longer wanted: `DelService`, at the end.
//!
//! # Example
//!
//! ```
//! use ipvs_netlink::reconcile::{diff, DesiredState};
//! use ipvs_netlink::{Destination, Service, ServiceKey, message::Request};
//!
//! let key = ServiceKey::tcp("192.0.2.1:80".parse().unwrap());
//! let mut desired = DesiredState::default();
//! desired.insert(Service::new(key), vec![Destination::new("198.51.100.1:80".parse().unwrap())]);
//! let changes = diff(&desired, &[]);
//! assert!(matches!(changes[0], Request::NewService(_)));
//! assert!(matches!(changes[1], Request::NewDest(..)));
//! ```

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;

use crate::message::Request;
use crate::types::*;

/// A multiply-rotate hasher (the Fx hash of rustc) for the service keys and addresses of
/// the maps here: a 10,000-service table hashes each key a few times, and SipHash's
/// resistance to chosen keys buys nothing for keys from a configuration and a kernel dump.
#[derive(Debug, Clone, Copy, Default)]
struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// What IPVS should look like: services with their destinations, in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredState {
    services: Vec<(Service, Vec<Destination>)>,
    index: KeyMap<ServiceKey, usize>,
}

impl DesiredState {
    /// An empty desired state with room for `services` services (saves the regrowth of a
    /// large one built service by service).
    pub fn with_capacity(services: usize) -> Self {
        Self {
            services: Vec::with_capacity(services),
            index: KeyMap::with_capacity_and_hasher(services, Default::default()),
        }
    }
    /// Whether the service `key` is part of the desired state.
    ///
    /// ```
    /// use ipvs_netlink::reconcile::DesiredState;
    /// use ipvs_netlink::{Service, ServiceKey};
    ///
    /// let key = ServiceKey::tcp("192.0.2.1:80".parse().unwrap());
    /// let mut desired = DesiredState::with_capacity(1);
    /// desired.insert(Service::new(key), vec![]);
    /// assert!(desired.contains(&key));
    /// assert!(!desired.contains(&ServiceKey::tcp("192.0.2.2:80".parse().unwrap())));
    /// ```
    pub fn contains(&self, key: &ServiceKey) -> bool {
        self.index.contains_key(key)
    }
    /// Adds (or replaces) a service and its destinations.
    pub fn insert(&mut self, service: Service, dests: Vec<Destination>) {
        match self.index.entry(service.key) {
            Entry::Occupied(i) => self.services[*i.get()] = (service, dests),
            Entry::Vacant(v) => {
                v.insert(self.services.len());
                self.services.push((service, dests));
            }
        }
    }
    /// The services, in insertion order.
    pub fn services(&self) -> &[(Service, Vec<Destination>)] {
        &self.services
    }
    /// Number of services.
    pub fn len(&self) -> usize {
        self.services.len()
    }
    /// No services.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
    /// The desired state equal to a dump (statistics dropped).
    pub fn from_dump(dump: &[VirtualServer]) -> Self {
        let mut d = Self::with_capacity(dump.len());
        for vs in dump {
            d.insert(
                vs.entry.service.normalized(),
                vs.dests.iter().map(|e| e.dest).collect(),
            );
        }
        d
    }
}

impl FromIterator<(Service, Vec<Destination>)> for DesiredState {
    fn from_iter<I: IntoIterator<Item = (Service, Vec<Destination>)>>(iter: I) -> Self {
        let mut d = Self::default();
        for (s, ds) in iter {
            d.insert(s, ds);
        }
        d
    }
}

/// Whether the kernel's copy of a service matches the wanted one.
pub fn service_matches(want: &Service, have: &Service) -> bool {
    let (w, h) = (want.normalized(), have.normalized());
    let persistent = w.flags.contains(ServiceFlags::PERSISTENT);
    w.key == h.key
        && w.scheduler == h.scheduler
        && w.flags == h.flags
        && w.pe_name == h.pe_name
        // Timeout and netmask only matter (and are only meaningful) for persistence.
        && (!persistent || (w.timeout == h.timeout && w.netmask == h.netmask))
}

/// Whether the kernel's copy of a destination matches the wanted one. The kernel turns a
/// local real server into "Local" forwarding by itself; that is accepted as a match.
pub fn dest_matches(want: &Destination, have: &Destination) -> bool {
    let fwd_ok = want.forward == have.forward || have.forward == Forward::Local;
    let tun_ok = want.forward != Forward::Tunnel
        || (want.tun_type == have.tun_type
            && want.tun_port == have.tun_port
            && want.tun_flags == have.tun_flags);
    want.addr == have.addr
        && fwd_ok
        && tun_ok
        && want.weight == have.weight
        && want.upper_threshold == have.upper_threshold
        && want.lower_threshold == have.lower_threshold
}

/// The minimal ordered change list from `current` (a kernel dump) to `desired`.
pub fn diff(desired: &DesiredState, current: &[VirtualServer]) -> Vec<Request> {
    let cur: KeyMap<ServiceKey, &VirtualServer> = current
        .iter()
        .map(|vs| (vs.entry.service.key, vs))
        .collect();
    // Room for a first programming (every service and destination new) without regrowth,
    // a 10,000-service table is 50,000 requests (pages never written are never touched).
    let mut out = Vec::with_capacity(
        desired.services.len() + desired.services.iter().map(|(_, d)| d.len()).sum::<usize>(),
    );
    for (svc, dests) in &desired.services {
        match cur.get(&svc.key) {
            None => {
                out.push(Request::NewService(svc.clone()));
                for d in dests {
                    out.push(Request::NewDest(svc.key, *d));
                }
            }
            Some(vs) => {
                if !service_matches(svc, &vs.entry.service) {
                    out.push(Request::SetService(svc.clone()));
                }
                let have: KeyMap<SocketAddr, &Destination> =
                    vs.dests.iter().map(|e| (e.dest.addr, &e.dest)).collect();
                let mut edits = Vec::new();
                for d in dests {
                    match have.get(&d.addr) {
                        None => out.push(Request::NewDest(svc.key, *d)),
                        Some(h) if !dest_matches(d, h) => edits.push(Request::SetDest(svc.key, *d)),
                        Some(_) => {}
                    }
                }
                out.extend(edits);
                for e in &vs.dests {
                    if !dests.iter().any(|d| d.addr == e.dest.addr) {
                        out.push(Request::DelDest(svc.key, e.dest.addr));
                    }
                }
            }
        }
    }
    for vs in current {
        if !desired.index.contains_key(&vs.entry.service.key) {
            out.push(Request::DelService(vs.entry.service.key));
        }
    }
    out
}

/// Whether `state` shows the effect of `req`; `None` when a dump cannot tell (zero,
/// daemons, timeouts).
pub fn is_applied(req: &Request, state: &[VirtualServer]) -> Option<bool> {
    let find = |k: &ServiceKey| state.iter().find(|vs| vs.entry.service.key == *k);
    Some(match req {
        Request::NewService(s) | Request::SetService(s) => {
            find(&s.key).is_some_and(|vs| service_matches(s, &vs.entry.service))
        }
        Request::DelService(k) => find(k).is_none(),
        Request::NewDest(k, d) | Request::SetDest(k, d) => find(k).is_some_and(|vs| {
            vs.dests
                .iter()
                .any(|e| e.dest.addr == d.addr && dest_matches(d, &e.dest))
        }),
        Request::DelDest(k, a) => {
            find(k).is_none_or(|vs| vs.dests.iter().all(|e| e.dest.addr != *a))
        }
        Request::Flush => state.is_empty(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ServiceKey {
        ServiceKey::tcp(s.parse().unwrap())
    }
    fn dst(s: &str, w: i32) -> Destination {
        Destination::new(s.parse().unwrap()).weight(w)
    }
    fn entry(s: Service, ds: &[Destination]) -> VirtualServer {
        let mut svc = s;
        svc.flags |= ServiceFlags::HASHED; // as the kernel reports it
        VirtualServer {
            entry: ServiceEntry {
                service: svc,
                stats: Stats::default(),
                stats64: Stats64::default(),
            },
            dests: ds
                .iter()
                .map(|d| DestEntry {
                    dest: *d,
                    active_conns: 3,
                    inact_conns: 1,
                    persist_conns: 0,
                    stats: Stats::default(),
                    stats64: Stats64::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn identical_state_gives_no_change() {
        let s = Service::new(key("192.0.2.1:80"));
        let ds = vec![dst("198.51.100.1:80", 1), dst("198.51.100.2:80", 2)];
        let cur = vec![entry(s.clone(), &ds)];
        let desired: DesiredState = [(s, ds)].into_iter().collect();
        assert_eq!(diff(&desired, &cur), vec![]);
        // And from_dump round-trips.
        assert_eq!(diff(&DesiredState::from_dump(&cur), &cur), vec![]);
    }

    #[test]
    fn one_changed_weight_is_one_set_dest() {
        let s = Service::new(key("192.0.2.1:80"));
        let cur = vec![entry(
            s.clone(),
            &[dst("198.51.100.1:80", 1), dst("198.51.100.2:80", 1)],
        )];
        let want = vec![dst("198.51.100.1:80", 1), dst("198.51.100.2:80", 0)];
        let desired: DesiredState = [(s.clone(), want)].into_iter().collect();
        assert_eq!(
            diff(&desired, &cur),
            vec![Request::SetDest(s.key, dst("198.51.100.2:80", 0))]
        );
    }

    #[test]
    fn scheduler_change_edits_in_place_never_deletes() {
        let s = Service::new(key("192.0.2.1:80"));
        let cur = vec![entry(s.clone(), &[dst("198.51.100.1:80", 1)])];
        let s2 = s.clone().scheduler(Scheduler::RoundRobin);
        let desired: DesiredState = [(s2.clone(), vec![dst("198.51.100.1:80", 1)])]
            .into_iter()
            .collect();
        let ch = diff(&desired, &cur);
        assert_eq!(ch, vec![Request::SetService(s2)]);
    }

    #[test]
    fn order_adds_before_edits_before_removals_and_service_deletes_last() {
        let a = Service::new(key("192.0.2.1:80"));
        let b = Service::new(key("192.0.2.2:80"));
        let c = Service::new(key("192.0.2.3:80"));
        let cur = vec![
            entry(
                a.clone(),
                &[dst("198.51.100.1:80", 1), dst("198.51.100.2:80", 1)],
            ),
            entry(b.clone(), &[dst("198.51.100.1:80", 1)]),
        ];
        let desired: DesiredState = [
            (
                a.clone(),
                vec![dst("198.51.100.2:80", 5), dst("198.51.100.3:80", 1)],
            ),
            (c.clone(), vec![dst("198.51.100.9:80", 1)]),
        ]
        .into_iter()
        .collect();
        let ch = diff(&desired, &cur);
        assert_eq!(
            ch,
            vec![
                Request::NewDest(a.key, dst("198.51.100.3:80", 1)),
                Request::SetDest(a.key, dst("198.51.100.2:80", 5)),
                Request::DelDest(a.key, "198.51.100.1:80".parse().unwrap()),
                Request::NewService(c.clone()),
                Request::NewDest(c.key, dst("198.51.100.9:80", 1)),
                Request::DelService(b.key),
            ]
        );
    }

    #[test]
    fn non_persistent_timeout_is_ignored_and_hashed_flag_is_ignored() {
        let s = Service::new(key("192.0.2.1:80"));
        let mut have = s.clone();
        have.timeout = 0;
        have.flags |= ServiceFlags::HASHED;
        assert!(service_matches(&s, &have));
        let p = s.clone().persistent(300);
        let mut hp = p.clone();
        hp.timeout = 360;
        assert!(!service_matches(&p, &hp));
    }

    #[test]
    fn is_applied_reads_the_dump() {
        let s = Service::new(key("192.0.2.1:80"));
        let d = dst("198.51.100.1:80", 1);
        let cur = vec![entry(s.clone(), &[d])];
        assert_eq!(
            is_applied(&Request::NewService(s.clone()), &cur),
            Some(true)
        );
        assert_eq!(is_applied(&Request::NewDest(s.key, d), &cur), Some(true));
        assert_eq!(
            is_applied(&Request::NewDest(s.key, d.weight(3)), &cur),
            Some(false)
        );
        assert_eq!(
            is_applied(&Request::DelDest(s.key, d.addr), &cur),
            Some(false)
        );
        assert_eq!(
            is_applied(&Request::DelService(key("192.0.2.9:80")), &cur),
            Some(true)
        );
        assert_eq!(is_applied(&Request::Zero(None), &cur), None);
    }
}
