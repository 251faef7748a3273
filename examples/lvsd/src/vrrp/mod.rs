//! The VRRP subsystem: raw sockets in, machine outputs out.
//!
//! One thread per (interface, family) blocks in `recv` on its raw socket ([`io`]) and feeds a channel, which also
//! carries the daemon's [`Command`]s. The subsystem's thread owns the machines and sleeps on that
//! channel until the earliest deadline the machines report.
//!
//! # Reload
//!
//! [`Command::Reload`] diffs the new `vrrp_instance`s against the running ones by name:
//!
//! * same machine configuration, interface and VIP specs: the instance is left alone (no state
//!   change, no advert out of turn, no GARP, no VIP touched); only its notify scripts are
//!   replaced;
//! * same interface, VRID, version and family, anything else changed (priority, interval, VIPs,
//!   preemption, ...): the running machine is reconfigured in place
//!   ([`Instance::reconfigure`]): it keeps its state; a MASTER removes the VIPs that left
//!   the list, adds the new ones and announces the list again (keepalived does the same for a
//!   VIP-only change); VIPs present before and after are never removed;
//! * another interface, VRID, version or family: the old instance is shut down (priority 0 if
//!   MASTER, VIPs removed) and a new one starts;
//! * gone from the file: shut down the same way; new in the file: started (after the stale-VIP
//!   check that start-up does).
//!
//! An instance the new file cannot configure (unknown interface, bad settings) is logged and
//! the running one, if any, is kept.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use anyhow::{Context, bail};
use keepalived_conf::model::{Config as Conf, Script, VirtualAddress, VrrpInstance};
use lvs_vip::{AddrScope, AddressSpec, Netlink, Outcome};
use tracing::{debug, error, info, warn};
use vrrp_machine::{Input, Instance, Instant, Notify, Output, Received, State};
use vrrp_packet::ValidationConfig;

mod io;

use io::{Link, Rx};

use crate::side::{Command, Side};
use crate::status::{InstanceStatus, Shared};

/// One `vrrp_instance`.
#[derive(Debug)]
struct Slot {
    name: String,
    link: usize,
    vm: Instance,
    vips: HashMap<IpAddr, AddressSpec>,
    /// During a reconfiguration's drain: the VIP specs before it (what to remove).
    old_vips: Option<HashMap<IpAddr, AddressSpec>>,
    notify: keepalived_conf::model::Notify,
    /// `strict_mode` / `vrrp_strict`.
    strict: bool,
    /// Rejected packets, total and per validation rule.
    rejected: u64,
    rejected_by_rule: BTreeMap<&'static str, u64>,
    /// When the state last changed (or the instance started).
    since: std::time::Instant,
    /// MASTER → any other state.
    released_master: u64,
}

/// An instance as the configuration describes it, before it runs.
struct Plan {
    name: String,
    link: usize,
    cfg: vrrp_machine::Config,
    vips: HashMap<IpAddr, AddressSpec>,
    notify: keepalived_conf::model::Notify,
    strict: bool,
}

enum Event {
    Packet(Rx),
    Command(Command),
}

/// Everything the VRRP thread owns.
struct Runtime {
    links: Vec<Link>,
    slots: Vec<Slot>,
    nl: Netlink,
    tx: Sender<Event>,
    status: Shared,
    epoch: std::time::Instant,
    /// A state changed (or instances came or went) since the last publication.
    dirty: bool,
    published: Option<std::time::Instant>,
}

/// Starts the VRRP instances of `conf`; returns once every socket is open and every stale VIP
/// is gone. The instances run until [`Command::Stop`].
///
/// # Errors
/// An instance that cannot be configured (unknown interface, no IPv4 address, bad settings),
/// or a socket that cannot be opened (CAP_NET_RAW missing).
pub fn spawn(conf: &Conf, status: Shared) -> anyhow::Result<Side> {
    let (tx, rx) = mpsc::channel();
    let mut rt = Runtime {
        links: Vec::new(),
        slots: Vec::new(),
        nl: Netlink::new().context("open rtnetlink")?,
        tx: tx.clone(),
        status,
        epoch: std::time::Instant::now(),
        dirty: true,
        published: None,
    };
    for inst in &conf.vrrp_instances {
        let Some(plan) = rt.plan(inst, conf)? else {
            continue;
        };
        let slot = rt.slot(plan)?;
        rt.slots.push(slot);
    }
    if rt.slots.is_empty() {
        bail!("no usable vrrp_instance in the configuration");
    }
    // A crashed predecessor may have left VIPs behind: a backup must not hold them.
    for i in 0..rt.slots.len() {
        rt.remove_stale(i);
    }
    let join = std::thread::Builder::new()
        .name("vrrp".into())
        .spawn(move || rt.run(&rx))
        .context("start the VRRP thread")?;
    Ok(Side::new(
        "vrrp",
        move |c| tx.send(Event::Command(c)).is_ok(),
        join,
    ))
}

impl Runtime {
    fn now(&self) -> Instant {
        Instant::from_micros(
            self.epoch
                .elapsed()
                .as_micros()
                .try_into()
                .unwrap_or(u64::MAX),
        )
    }

    /// What `inst` asks for; `None` when lvsd skips it (with a warning). Opens its interface.
    fn plan(&mut self, inst: &VrrpInstance, conf: &Conf) -> anyhow::Result<Option<Plan>> {
        let v6 = inst.is_ipv6();
        let ifname = inst.interface.clone().context("no `interface`")?;
        let link = match self
            .links
            .iter()
            .position(|l| l.name == ifname && l.v6 == v6)
        {
            Some(i) => i,
            None => {
                let l = Link::open(
                    &self.nl,
                    &ifname,
                    v6,
                    self.links.len(),
                    self.tx.clone(),
                    Event::Packet,
                )?;
                self.links.push(l);
                self.links.len() - 1
            }
        };
        // The advert source: `mcast_src_ip`, else `unicast_src_ip`, else the link's own.
        let primary = inst
            .mcast_src_ip
            .or(inst.unicast_src_ip)
            .filter(|a| a.is_ipv6() == v6)
            .unwrap_or(self.links[link].primary);
        let cfg = crate::conf::instance_config(inst, conf, Some(primary))
            .with_context(|| format!("vrrp_instance {}", inst.name))?;
        let vips = inst
            .virtual_ipaddress
            .iter()
            .map(|v| (v.addr, spec(v, &ifname)))
            .collect();
        Ok(Some(Plan {
            name: inst.name.clone(),
            link,
            cfg,
            vips,
            notify: inst.notify.clone(),
            strict: inst.strict_mode.unwrap_or(conf.global_defs.vrrp_strict),
        }))
    }

    fn slot(&self, p: Plan) -> anyhow::Result<Slot> {
        info!(instance = %p.name, interface = %self.links[p.link].name, vrid = p.cfg.vrid,
            priority = p.cfg.priority, "instance configured");
        let vm =
            Instance::new(p.cfg, self.now()).map_err(|e| anyhow::anyhow!("{}: {e}", p.name))?;
        Ok(Slot {
            name: p.name,
            link: p.link,
            vm,
            vips: p.vips,
            old_vips: None,
            notify: p.notify,
            strict: p.strict,
            rejected: 0,
            rejected_by_rule: BTreeMap::new(),
            since: std::time::Instant::now(),
            released_master: 0,
        })
    }

    /// Removes slot `i`'s VIPs from the kernel unless another running instance owns them (a
    /// crashed predecessor may have left them; a backup must not answer for them).
    fn remove_stale(&self, i: usize) {
        let s = &self.slots[i];
        for spec in s.vips.values() {
            let owned = self
                .slots
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.vips.contains_key(&spec.addr));
            if owned {
                continue;
            }
            match self.nl.remove_address(&spec.iface, spec.addr) {
                Ok(Outcome::Changed) => {
                    warn!(instance = %s.name, vip = %spec.addr, "stale VIP removed at startup");
                }
                Ok(_) => {}
                Err(e) => {
                    warn!(instance = %s.name, vip = %spec.addr, error = %e, "stale VIP check");
                }
            }
        }
    }

    fn run(mut self, rx: &mpsc::Receiver<Event>) -> anyhow::Result<()> {
        let t = self.now();
        for s in &mut self.slots {
            s.vm.handle_input(t, Input::Startup);
        }
        let mut stopping = false;
        loop {
            for i in 0..self.slots.len() {
                self.drain(i);
            }
            self.publish();
            if stopping {
                break;
            }
            let deadline = self.slots.iter().filter_map(|s| s.vm.poll_timeout()).min();
            let event = match deadline {
                Some(d) => rx.recv_timeout(d.saturating_duration_since(self.now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let t = self.now();
            match event {
                Ok(Event::Packet(rx)) => receive(&mut self.slots, &rx, t),
                Ok(Event::Command(Command::Reload(conf))) => self.reload(&conf),
                Ok(Event::Command(_)) => {
                    info!("stopping: shutting every instance down");
                    for s in &mut self.slots {
                        s.vm.handle_input(t, Input::Shutdown);
                    }
                    stopping = true;
                }
                Err(RecvTimeoutError::Timeout) => {
                    for s in &mut self.slots {
                        if s.vm.poll_timeout().is_some_and(|d| d <= t) {
                            s.vm.handle_timeout(t);
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => bail!("every event source closed"),
            }
        }
        // Whatever the machines said, leave no VIP behind.
        for s in &self.slots {
            self.remove_vips(s);
        }
        self.status.update(|st| st.instances.clear());
        info!("stopped");
        Ok(())
    }

    fn remove_vips(&self, s: &Slot) {
        for spec in s.vips.values() {
            if let Err(e) = self.nl.remove_address(&spec.iface, spec.addr) {
                warn!(instance = %s.name, error = %e, "removing a VIP");
            }
        }
    }

    /// Shuts slot `i` down (priority 0 if MASTER, VIPs removed) and forgets it.
    fn retire(&mut self, i: usize) {
        let t = self.now();
        self.slots[i].vm.handle_input(t, Input::Shutdown);
        self.drain(i);
        let s = self.slots.remove(i);
        self.remove_vips(&s);
        self.dirty = true;
        info!(instance = %s.name, "instance stopped");
    }

    /// [`Command::Reload`]: see the module documentation.
    fn reload(&mut self, conf: &Conf) {
        info!("reloading the VRRP instances");
        self.dirty = true;
        let mut plans = Vec::new();
        let mut failed = Vec::new();
        for inst in &conf.vrrp_instances {
            match self.plan(inst, conf) {
                Ok(Some(p)) => plans.push(p),
                Ok(None) => {}
                Err(e) => {
                    error!(instance = %inst.name, error = %format!("{e:#}"), "reload: instance not configurable; the running one (if any) is kept");
                    failed.push(inst.name.clone());
                }
            }
        }
        // Gone from the file: stop.
        let mut i = 0;
        while i < self.slots.len() {
            let name = &self.slots[i].name;
            if plans.iter().any(|p| &p.name == name) || failed.contains(name) {
                i += 1;
            } else {
                self.retire(i);
            }
        }
        let t = self.now();
        let mut started = Vec::new();
        for p in plans {
            let Some(i) = self.slots.iter().position(|s| s.name == p.name) else {
                started.push(p);
                continue;
            };
            let s = &mut self.slots[i];
            let old = s.vm.config();
            s.strict = p.strict;
            if *old == p.cfg && s.link == p.link && s.vips == p.vips {
                debug!(instance = %s.name, "reload: unchanged");
                s.notify = p.notify;
                continue;
            }
            let same_identity = s.link == p.link
                && old.vrid == p.cfg.vrid
                && old.version == p.cfg.version
                && old.is_ipv6() == p.cfg.is_ipv6();
            if same_identity {
                let old_vips = std::mem::replace(&mut s.vips, p.vips);
                match s.vm.reconfigure(t, p.cfg) {
                    Ok(()) => {
                        info!(instance = %s.name, state = %s.vm.state(), "reload: reconfigured in place");
                        s.old_vips = Some(old_vips);
                        s.notify = p.notify;
                        self.drain(i);
                        self.slots[i].old_vips = None;
                    }
                    Err(e) => {
                        s.vips = old_vips;
                        error!(instance = %s.name, error = %e, "reload: configuration refused; instance unchanged");
                    }
                }
                continue;
            }
            info!(instance = %p.name, "reload: interface, VRID, version or family changed: restarting the instance");
            self.retire(i);
            started.push(p);
        }
        for p in started {
            match self.slot(p) {
                Ok(s) => {
                    self.slots.push(s);
                    let i = self.slots.len() - 1;
                    self.remove_stale(i);
                    self.slots[i].vm.handle_input(t, Input::Startup);
                    self.drain(i);
                }
                Err(e) => error!(error = %format!("{e:#}"), "reload: instance not started"),
            }
        }
    }

    /// Writes every instance's state into the shared status: at once after a state change,
    /// otherwise at most once per second (counters).
    fn publish(&mut self) {
        let fresh = self
            .published
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
        if !self.dirty && fresh {
            return;
        }
        self.dirty = false;
        self.published = Some(std::time::Instant::now());
        let instances = self
            .slots
            .iter()
            .map(|s| instance_status(s, &self.links[s.link]))
            .collect();
        self.status.update(|st| st.instances = instances);
    }

    /// Carries out every pending output of slot `i`.
    fn drain(&mut self, i: usize) {
        let s = &mut self.slots[i];
        let link = &self.links[s.link];
        let nl = &self.nl;
        while let Some(out) = s.vm.poll_output() {
            match out {
                Output::Transmit(t) => {
                    let src = s.vm.config().primary_address;
                    if let Err(e) = link.send(&t.advert.repr(), src, t.dst) {
                        warn!(instance = %s.name, dst = %t.dst, error = %format!("{e:#}"), "advert not sent");
                    }
                }
                Output::Announce(a) => {
                    for addr in a.addresses.iter().filter(|a| s.vips.contains_key(a)) {
                        for _ in 0..a.count {
                            if let Err(e) = link.announce(*addr) {
                                warn!(instance = %s.name, vip = %addr, error = %format!("{e:#}"), "announcement");
                            }
                        }
                    }
                    debug!(instance = %s.name, count = a.count, "gratuitous ARPs / unsolicited NAs sent");
                }
                Output::AddAddresses(addrs) => {
                    for a in addrs.iter() {
                        let Some(spec) = s.vips.get(a) else { continue };
                        match nl.ensure_address(spec) {
                            Ok(Outcome::Changed) => {
                                info!(instance = %s.name, vip = %a, dev = %spec.iface, "VIP added");
                            }
                            Ok(_) => debug!(instance = %s.name, vip = %a, "VIP already present"),
                            Err(e) => {
                                error!(instance = %s.name, vip = %a, error = %e, "VIP not added");
                            }
                        }
                    }
                }
                Output::RemoveAddresses(addrs) => {
                    for a in addrs.iter() {
                        let spec = match &s.old_vips {
                            // A reconfiguration: a VIP that stays (same spec) is not touched.
                            Some(old) if old.get(a) == s.vips.get(a) => continue,
                            Some(old) => old.get(a),
                            None => s.vips.get(a),
                        };
                        let Some(spec) = spec else { continue };
                        match nl.remove_address(&spec.iface, *a) {
                            Ok(_) => info!(instance = %s.name, vip = %a, "VIP removed"),
                            Err(e) => {
                                error!(instance = %s.name, vip = %a, error = %e, "VIP not removed");
                            }
                        }
                    }
                }
                Output::StateChange(c) => {
                    s.since = std::time::Instant::now();
                    if c.from == State::Master {
                        s.released_master += 1;
                    }
                    self.dirty = true;
                    info!(instance = %s.name, from = %c.from, to = %c.to, reason = %c.reason,
                        "Entering {} STATE", c.to.as_str().to_uppercase());
                }
                Output::Notify(n) => notify(s, &n),
                _ => {}
            }
        }
    }
}

/// One instance's status: state, master, counters (RFC 6527 names where one exists).
fn instance_status(s: &Slot, link: &Link) -> InstanceStatus {
    let cfg = s.vm.config();
    let state = s.vm.state();
    let st = s.vm.stats();
    let master = match state {
        State::Master => Some(cfg.primary_address),
        State::Backup => s.vm.master_address(),
        _ => None,
    };
    let mut counters: BTreeMap<String, u64> = [
        ("adverts_rx", st.rcvd_advertisements),
        ("adverts_tx", st.sent_advertisements),
        ("became_master", st.master_transitions),
        ("released_master", s.released_master),
        ("priority_zero_rx", st.rcvd_pri_zero_packets),
        ("priority_zero_tx", st.sent_pri_zero_packets),
        ("adv_interval_errors", st.adv_interval_errors),
        ("address_list_errors", st.address_list_errors),
        ("auth_errors", st.auth_errors),
        ("ip_ttl_errors", st.ip_ttl_errors),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let wrong_if = link
        .wrong_interface
        .load(std::sync::atomic::Ordering::Relaxed);
    if wrong_if > 0 {
        counters.insert("rejected_interface".to_owned(), wrong_if);
    }
    for (rule, n) in &s.rejected_by_rule {
        counters.insert(format!("rejected_{rule}"), *n);
    }
    InstanceStatus {
        name: s.name.clone(),
        interface: link.name.clone(),
        vrid: cfg.vrid,
        version: if cfg.version == vrrp_machine::Version::V3 {
            3
        } else {
            2
        },
        family: if cfg.is_ipv6() { "inet6" } else { "inet" }.into(),
        state: state.as_str().to_uppercase(),
        priority: cfg.priority,
        effective_priority: s.vm.priority(),
        master,
        vips: cfg
            .virtual_addresses
            .iter()
            .filter(|a| s.vips.contains_key(a))
            .copied()
            .collect(),
        since_change_secs: s.since.elapsed().as_secs_f64(),
        counters,
    }
}

fn spec(v: &VirtualAddress, ifname: &str) -> AddressSpec {
    let mut spec = AddressSpec::vip(v.dev.as_deref().unwrap_or(ifname), v.addr);
    if let Some(p) = v.prefix_len {
        spec = spec.prefix(p);
    }
    if let Some(l) = &v.label {
        spec = spec.label(l);
    }
    if let Some(IpAddr::V4(b)) = v.brd {
        spec = spec.broadcast(b);
    }
    let link_local = matches!(v.addr, IpAddr::V6(a) if a.is_unicast_link_local());
    match v.scope.as_deref() {
        Some("link") => spec = spec.scope(AddrScope::Link),
        Some("host") => spec = spec.scope(AddrScope::Host),
        Some("site") => spec = spec.scope(AddrScope::Site),
        _ if link_local => spec = spec.scope(AddrScope::Link),
        _ => {}
    }
    spec
}
/// A datagram from `link` → validation → the instance with its VRID.
fn receive(slots: &mut [Slot], rx: &Rx, now: Instant) {
    let link = rx.link;
    let dg = match rx.datagram() {
        Ok(dg) => dg,
        Err(e) => return debug!(error = %e, "not a VRRP datagram"),
    };
    let Ok(first) = dg.repr() else {
        return debug!(src = %dg.src, "undecodable VRRP packet");
    };
    let vrid = first.vrid;
    let Some(s) = slots
        .iter_mut()
        .find(|s| s.link == link && s.vm.config().vrid == vrid)
    else {
        return debug!(src = %dg.src, vrid, "advert for a VRID not configured here");
    };
    let cfg = s.vm.config();
    let vc = ValidationConfig::new(cfg.version)
        .with_vrid(vrid)
        .with_auth(cfg.auth);
    match dg.validate(&vc) {
        Ok(v) => {
            s.vm.handle_input(now, Input::Advert(Received::from_validated(&v)))
        }
        // RFC 9568 wants a link-local first address over IPv6; keepalived sends the list as
        // configured and only insists in strict mode. The rule is the validator's last, so
        // every other check passed: accept the advert unless `strict_mode` / `vrrp_strict`.
        Err(vrrp_packet::Error::Ipv6LinkLocal) if !s.strict => {
            debug!(instance = %s.name, src = %dg.src, "first IPv6 address not link-local (accepted, not strict)");
            let rx = Received {
                src: dg.src,
                repr: first,
            };
            s.vm.handle_input(now, Input::Advert(rx));
        }
        Err(e) => {
            s.rejected += 1;
            *s.rejected_by_rule.entry(e.rule_name()).or_default() += 1;
            debug!(instance = %s.name, src = %dg.src, error = %e, rejected = s.rejected, "advert rejected");
            s.vm.handle_input(now, Input::Rejected((&e).into()));
        }
    }
}

/// Runs the notify scripts for `n` (argument vector, never a shell).
fn notify(s: &Slot, n: &Notify) {
    let (script, state) = match n {
        Notify::Master => (&s.notify.master, State::Master),
        Notify::Backup => (&s.notify.backup, State::Backup),
        Notify::Fault => (&s.notify.fault, State::Fault),
        Notify::Stop => (&s.notify.stop, State::Initialize),
        _ => return,
    };
    let word = if state == State::Initialize {
        "STOP".to_owned()
    } else {
        state.as_str().to_uppercase()
    };
    let generic = s.notify.notify.as_ref().map(|g| {
        let prio = s.vm.priority().to_string();
        (
            g,
            vec!["INSTANCE".to_owned(), s.name.clone(), word.clone(), prio],
        )
    });
    for (sc, extra) in script.iter().map(|sc| (sc, Vec::new())).chain(generic) {
        spawn_script(&s.name, sc, &extra);
    }
}

fn spawn_script(instance: &str, script: &Script, extra: &[String]) {
    let mut words = script.command.split_whitespace();
    let Some(prog) = words.next() else { return };
    let mut cmd = std::process::Command::new(prog);
    cmd.args(words).args(extra);
    match cmd.spawn() {
        Ok(mut child) => {
            // Reap it in the background so it never lingers as a zombie.
            std::thread::spawn(move || child.wait());
        }
        Err(e) => warn!(instance, script = %script.command, error = %e, "notify script"),
    }
}
