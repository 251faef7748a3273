//! The VRRP subsystem: raw sockets in, machine outputs out.
//!
//! One thread per (interface, family) blocks in `recv` on its raw socket (module `io`) and feeds a
//! channel, which also carries the daemon's [`Command`]s, link-state changes (`lvs-vip`'s
//! [`LinkMonitor`]) and `vrrp_script` results (module `track`). The subsystem's thread owns the
//! machines and sleeps on that channel until the earliest deadline the machines report.
//!
//! # Units
//!
//! A `vrrp_instance` outside any `vrrp_sync_group` runs as one [`Instance`]; the members of a
//! sync group run together in one [`SyncGroup`] (they move to FAULT, BACKUP and MASTER
//! together). Either is a unit.
//!
//! # Faults and tracking
//!
//! The instance's own interface down (not up, or no carrier) puts it in FAULT (unless
//! `dont_track_primary`); `track_interface` and `track_script` objects (the instance's and its
//! sync group's) move its priority by their weight or, with weight 0 (the default), put it in
//! FAULT while down. `track_file` and `track_process` are not supported yet (warned at start).
//!
//! # Reload
//!
//! [`Command::Reload`] diffs the new configuration against the running units by name (the
//! instance's name, or the sync group's):
//!
//! * a single instance with the same machine configuration, interface and VIP specs is left
//!   alone (no state change, no advert out of turn, no GARP, no VIP touched); only its notify
//!   scripts are replaced;
//! * a single instance with the same interface, VRID, version and family and anything else
//!   changed (priority, interval, VIPs, preemption, tracking, ...) is reconfigured in place
//!   ([`Instance::reconfigure`]): it keeps its state; a MASTER removes the VIPs that left the
//!   list, adds the new ones and announces the list again (keepalived does the same for a
//!   VIP-only change); VIPs present before and after are never removed;
//! * a sync group whose members are all unchanged is left alone; any other change to a group
//!   (a member's configuration, the member list) restarts the group (vrrp-machine's
//!   [`SyncGroup`] has no in-place reconfiguration yet);
//! * another interface, VRID, version or family, or gone from the file: the old unit is shut
//!   down (priority 0 if MASTER, VIPs removed) and, if still configured, a new one starts
//!   (after the stale-VIP check that start-up does).
//!
//! An instance the new file cannot configure (unknown interface, bad settings) is logged and
//! the running one, if any, is kept. `vrrp_script`s whose definition is unchanged keep running
//! (and keep their state).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use anyhow::{Context, bail};
use keepalived_conf::model::{Config as Conf, Script, VirtualAddress, VrrpInstance};
use lvs_vip::{
    AddrScope, AddressSpec, LinkMonitor, LinkState, MacvlanMode, Netlink, Outcome, VmacSpec,
};
use tracing::{debug, error, info, warn};
use vrrp_machine::{Input, Instance, Instant, Notify, Output, Received, State, SyncGroup, TrackId};
use vrrp_packet::ValidationConfig;

mod exec;
mod io;
mod syncd;
mod track;

use exec::ScriptPolicy;
use io::{Link, Rx};
use syncd::SyncDaemons;
use track::{FileWatch, ScriptRunner};

use crate::conf::{TrackKind, track_id};
use crate::side::{Command, Side};
use crate::status::{InstanceStatus, Shared, SyncGroupStatus};

/// How long before a machine's deadline the VRRP thread stops sleeping and polls instead: at
/// most this much CPU per deadline (an advert interval's worth of them is 0.015 % of a core
/// at 1 s), for an expiry that is late by the time to notice it, not by the kernel's wake-up.
const SPIN: Duration = Duration::from_micros(150);

/// One `vrrp_instance` (its machine lives in its [`Unit`]).
#[derive(Debug)]
struct Slot {
    name: String,
    link: usize,
    vips: HashMap<IpAddr, AddressSpec>,
    /// During a reconfiguration's drain: the VIP specs before it (what to remove).
    old_vips: Option<HashMap<IpAddr, AddressSpec>>,
    notify: keepalived_conf::model::Notify,
    /// `strict_mode` / `vrrp_strict`.
    strict: bool,
    /// `dont_track_primary`: the interface's state does not fault the instance.
    dont_track_primary: bool,
    /// `use_vmac`: the macvlan lvsd created for the instance (removed when it stops).
    vmac: Option<String>,
    /// Rejected packets, total and per validation rule.
    rejected: u64,
    rejected_by_rule: BTreeMap<&'static str, u64>,
    /// When the state last changed (or the instance started).
    since: std::time::Instant,
    /// MASTER → any other state.
    released_master: u64,
}

/// The machine(s) of a unit.
#[derive(Debug)]
enum Machine {
    One(Box<Instance>),
    Group(SyncGroup),
}

impl Machine {
    fn instance(&self, k: usize) -> &Instance {
        match self {
            Self::One(i) => i,
            Self::Group(g) => g.member(k),
        }
    }

    fn handle_input(&mut self, now: Instant, k: usize, input: Input<'_>) {
        match self {
            Self::One(i) => i.handle_input(now, input),
            Self::Group(g) => g.handle_input(now, k, input),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::One(i) => i.handle_timeout(now),
            Self::Group(g) => g.handle_timeout(now),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Self::One(i) => i.poll_timeout(),
            Self::Group(g) => g.poll_timeout(),
        }
    }

    fn poll_output(&mut self) -> Option<(usize, Output)> {
        match self {
            Self::One(i) => i.poll_output().map(|o| (0, o)),
            Self::Group(g) => g.poll_output(),
        }
    }
}

/// A single instance, or the members of a sync group.
#[derive(Debug)]
struct Unit {
    /// The sync group's name, `None` for a single instance.
    group: Option<String>,
    machine: Machine,
    members: Vec<Slot>,
}

/// An instance as the configuration describes it, before it runs.
struct Plan {
    name: String,
    link: usize,
    cfg: vrrp_machine::Config,
    vips: HashMap<IpAddr, AddressSpec>,
    notify: keepalived_conf::model::Notify,
    strict: bool,
    dont_track_primary: bool,
    vmac: Option<String>,
}

/// A unit as the configuration describes it.
struct UnitPlan {
    group: Option<String>,
    members: Vec<Plan>,
}

impl UnitPlan {
    fn name(&self) -> &str {
        self.group
            .as_deref()
            .unwrap_or_else(|| self.members.first().map_or("", |p| p.name.as_str()))
    }
}

enum Event {
    Packet(Rx),
    Command(Command),
    Link(LinkState),
    Script(String, bool),
    File(String, i64),
}

/// Everything the VRRP thread owns.
struct Runtime {
    links: Vec<Link>,
    units: Vec<Unit>,
    nl: Netlink,
    tx: Sender<Event>,
    status: Shared,
    epoch: std::time::Instant,
    /// A state changed (or instances came or went) since the last publication.
    dirty: bool,
    published: Option<std::time::Instant>,
    /// Usable (up and running) per interface name, as the link monitor last said.
    link_up: HashMap<String, bool>,
    /// Script states as last reported (tracks start up).
    script_up: HashMap<String, bool>,
    scripts: HashMap<String, ScriptRunner>,
    /// The `vrrp_track_file`s in use and the numbers their files last held.
    files: Option<FileWatch>,
    file_value: HashMap<String, i64>,
    /// `lvs_sync_daemon`.
    syncd: Option<SyncDaemons>,
    /// During a reload: the VMACs the new configuration uses (a retired unit leaves them).
    keep_vmacs: Vec<String>,
    /// `script_user` / `enable_script_security`.
    policy: ScriptPolicy,
    _monitor: LinkMonitor,
}

/// Starts the VRRP instances of `conf`; returns once every socket is open and every stale VIP
/// is gone. The instances run until [`Command::Stop`].
///
/// # Errors
/// An instance that cannot be configured (unknown interface, no IPv4 address, bad settings),
/// or a socket that cannot be opened (CAP_NET_RAW missing).
pub fn spawn(conf: &Conf, status: Shared) -> anyhow::Result<Side> {
    let (tx, rx) = mpsc::channel();
    let mtx = tx.clone();
    let monitor = LinkMonitor::spawn(move |s| mtx.send(Event::Link(s)).is_ok())
        .context("subscribe to link-state notifications")?;
    let mut rt = Runtime {
        links: Vec::new(),
        units: Vec::new(),
        nl: Netlink::new().context("open rtnetlink")?,
        tx: tx.clone(),
        status,
        epoch: std::time::Instant::now(),
        dirty: true,
        published: None,
        link_up: HashMap::new(),
        script_up: HashMap::new(),
        scripts: HashMap::new(),
        files: None,
        file_value: HashMap::new(),
        syncd: SyncDaemons::new(conf),
        keep_vmacs: Vec::new(),
        policy: ScriptPolicy::new(conf),
        _monitor: monitor,
    };
    let (plans, failed) = rt.plans(conf);
    if let Some(e) = failed.into_iter().next() {
        return Err(e);
    }
    rt.start_files(conf);
    for p in plans {
        let u = rt.unit(p)?;
        rt.units.push(u);
    }
    if rt.units.is_empty() {
        bail!("no usable vrrp_instance in the configuration");
    }
    // A crashed predecessor may have left VIPs behind: a backup must not hold them.
    for i in 0..rt.units.len() {
        rt.remove_stale(i);
    }
    rt.start_scripts(conf);
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
    /// `at` on the machines' clock (microseconds since this runtime started).
    fn instant_of(&self, at: std::time::Instant) -> Instant {
        Instant::from_micros(
            at.saturating_duration_since(self.epoch)
                .as_micros()
                .try_into()
                .unwrap_or(u64::MAX),
        )
    }

    fn now(&self) -> Instant {
        Instant::from_micros(
            self.epoch
                .elapsed()
                .as_micros()
                .try_into()
                .unwrap_or(u64::MAX),
        )
    }

    /// Every unit `conf` asks for, and the errors of the instances it cannot configure (with
    /// their names, so a reload keeps them running).
    fn plans(&mut self, conf: &Conf) -> (Vec<UnitPlan>, Vec<anyhow::Error>) {
        let mut units: Vec<UnitPlan> = Vec::new();
        let mut failed = Vec::new();
        for inst in &conf.vrrp_instances {
            for t in &inst.track_file {
                warn!(instance = %inst.name, file = %t.name, "track_file is not supported yet; ignored");
            }
            for t in &inst.track_process {
                warn!(instance = %inst.name, process = %t.name, "track_process is not supported yet; ignored");
            }
            let p = match self.plan(inst, conf) {
                Ok(p) => p,
                Err(e) => {
                    failed.push(e.context(format!("vrrp_instance {}", inst.name)));
                    continue;
                }
            };
            match crate::conf::sync_group(inst, conf) {
                Some(g) => match units
                    .iter_mut()
                    .find(|u| u.group.as_deref() == Some(g.name.as_str()))
                {
                    Some(u) => u.members.push(p),
                    None => units.push(UnitPlan {
                        group: Some(g.name.clone()),
                        members: vec![p],
                    }),
                },
                None => units.push(UnitPlan {
                    group: None,
                    members: vec![p],
                }),
            }
        }
        (units, failed)
    }

    /// What `inst` asks for. Opens its interface.
    fn plan(&mut self, inst: &VrrpInstance, conf: &Conf) -> anyhow::Result<Plan> {
        let v6 = inst.is_ipv6();
        let parent = inst.interface.clone().context("no `interface`")?;
        let vmac = match &inst.use_vmac {
            Some(v) => Some(self.vmac(inst, v, &parent, v6)?),
            None => None,
        };
        if inst.vmac_xmit_base {
            warn!(instance = %inst.name, "vmac_xmit_base is not supported yet: adverts use the VMAC");
        }
        // Adverts, VIPs and announcements on the VMAC when there is one.
        let ifname = vmac.clone().unwrap_or_else(|| parent.clone());
        let index = self.nl.link(&ifname).map(|l| l.index).ok();
        let link = match self
            .links
            .iter()
            .position(|l| l.name == ifname && l.v6 == v6 && Some(l.index) == index)
        {
            Some(i) => i,
            None => {
                let l = Link::open(
                    &self.nl,
                    &ifname,
                    &parent,
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
        let cfg = crate::conf::instance_config(inst, conf, Some(primary))?;
        let vips = inst
            .virtual_ipaddress
            .iter()
            .map(|v| (v.addr, spec(v, &ifname)))
            .collect();
        Ok(Plan {
            name: inst.name.clone(),
            link,
            cfg,
            vips,
            notify: inst.notify.clone(),
            strict: inst.strict_mode.unwrap_or(conf.global_defs.vrrp_strict),
            dont_track_primary: inst.dont_track_primary,
            vmac,
        })
    }

    /// `use_vmac`: ensures the instance's macvlan (`vrrp.<VRID>` unless named) on `parent`, with
    /// the VRRP virtual MAC 00-00-5E-00-01-<VRID> (IPv6: 00-00-5E-00-02-<VRID>), private mode
    /// as keepalived creates it, up.
    fn vmac(
        &self,
        inst: &VrrpInstance,
        v: &keepalived_conf::model::Vmac,
        parent: &str,
        v6: bool,
    ) -> anyhow::Result<String> {
        let vrid = inst.virtual_router_id.context("no `virtual_router_id`")?;
        let name = v
            .interface
            .clone()
            .unwrap_or_else(|| format!("vrrp.{vrid}"));
        let family = if v6 {
            lvs_vip::Family::V6
        } else {
            lvs_vip::Family::V4
        };
        let spec = VmacSpec::vrrp(&name, parent, family, vrid, MacvlanMode::Private);
        if self.nl.ensure_macvlan(&spec)? == Outcome::Changed {
            info!(instance = %inst.name, vmac = %name, mac = %spec.mac, parent, "VMAC interface created");
        }
        if !v6 {
            // An IPv4 VMAC sends nothing of its own: without IPv6 it does not announce the
            // shared virtual MAC through router solicitations / MLD from a backup router.
            let knob = format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
            if let Err(e) = std::fs::write(&knob, "1") {
                debug!(vmac = %name, error = %e, "IPv6 left enabled on the VMAC");
            }
        }
        let _ = self.nl.set_up(&name, true)?;
        Ok(name)
    }

    /// Builds a unit (in Initialize; send Startup to its members).
    fn unit(&self, p: UnitPlan) -> anyhow::Result<Unit> {
        let now = self.now();
        let mut vms = Vec::new();
        let mut members = Vec::new();
        for m in p.members {
            info!(instance = %m.name, interface = %self.links[m.link].name, vrid = m.cfg.vrid,
                priority = m.cfg.priority, group = ?p.group, "instance configured");
            let vm = Instance::new(m.cfg, now).map_err(|e| anyhow::anyhow!("{}: {e}", m.name))?;
            vms.push(vm);
            members.push(Slot {
                name: m.name,
                link: m.link,
                vips: m.vips,
                old_vips: None,
                notify: m.notify,
                strict: m.strict,
                dont_track_primary: m.dont_track_primary,
                vmac: m.vmac,
                rejected: 0,
                rejected_by_rule: BTreeMap::new(),
                since: std::time::Instant::now(),
                released_master: 0,
            });
        }
        let machine = match p.group {
            Some(_) => Machine::Group(SyncGroup::new(vms)),
            None => Machine::One(Box::new(vms.pop().context("an empty unit")?)),
        };
        Ok(Unit {
            group: p.group,
            machine,
            members,
        })
    }

    /// Starts unit `u`: Startup for every member, then the current link and script states.
    fn start_unit(&mut self, u: usize) {
        // Tracked files first: their numbers may put an instance in FAULT from the start.
        self.apply_files(u);
        let t = self.now();
        let unit = &mut self.units[u];
        for k in 0..unit.members.len() {
            unit.machine.handle_input(t, k, Input::Startup);
        }
        self.apply_states(u);
    }

    /// Feeds unit `u` the numbers of the files its members track (unchanged ones are no-ops).
    fn apply_files(&mut self, u: usize) {
        let t = self.now();
        let unit = &mut self.units[u];
        for (name, value) in &self.file_value {
            let id = track_id(TrackKind::File, name);
            for k in 0..unit.members.len() {
                if tracks(unit.machine.instance(k), id) {
                    let value = *value;
                    unit.machine
                        .handle_input(t, k, Input::TrackValue { id, value });
                }
            }
        }
    }

    /// (Re)starts the watch on the `vrrp_track_file`s the configuration's instances and sync
    /// groups track (kept when the set of files is unchanged), applying `init_file` and reading
    /// every value.
    fn start_files(&mut self, conf: &Conf) {
        let mut used: Vec<(String, std::path::PathBuf)> = Vec::new();
        let entries = conf
            .vrrp_instances
            .iter()
            .flat_map(|i| &i.track_file)
            .chain(conf.vrrp_sync_groups.iter().flat_map(|g| &g.track_file));
        for t in entries {
            if let Some(def) = crate::conf::tracked_file(conf, &t.name) {
                if !used.iter().any(|(n, _)| *n == def.name) {
                    if self
                        .files
                        .as_ref()
                        .is_none_or(|w| !w.files.iter().any(|(n, _)| *n == def.name))
                    {
                        track::init_file(def);
                    }
                    let path = def.file.clone().unwrap_or_default();
                    used.push((def.name.clone(), path.into()));
                }
            }
        }
        if self.files.as_ref().is_some_and(|w| w.files == used) {
            return;
        }
        self.files = None;
        self.file_value.clear();
        if used.is_empty() {
            return;
        }
        // The watch reads the values once its watches are in place: a later write is an event.
        let values = match FileWatch::spawn(&used, self.tx.clone(), Event::File) {
            Ok((w, values)) => {
                self.files = Some(w);
                values
            }
            Err(e) => {
                error!(error = %format!("{e:#}"), "vrrp_track_file: changes will not be seen");
                used.iter().map(|(_, p)| track::read_value(p)).collect()
            }
        };
        for ((name, path), v) in used.into_iter().zip(values) {
            info!(track_file = %name, file = %path.display(), value = v, "tracked file");
            self.file_value.insert(name, v);
        }
    }

    fn file_changed(&mut self, name: String, value: i64, t: Instant) {
        let id = track_id(TrackKind::File, &name);
        for (u, k) in self.tracking(id) {
            let unit = &mut self.units[u];
            info!(instance = %unit.members[k].name, track_file = %name, value, "tracked file changed");
            unit.machine
                .handle_input(t, k, Input::TrackValue { id, value });
        }
        self.file_value.insert(name, value);
    }

    /// The (unit, member) pairs whose instance tracks `id`.
    fn tracking(&self, id: TrackId) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (u, unit) in self.units.iter().enumerate() {
            for k in 0..unit.members.len() {
                if tracks(unit.machine.instance(k), id) {
                    out.push((u, k));
                }
            }
        }
        out
    }

    /// Feeds unit `u` the link and script states known so far.
    fn apply_states(&mut self, u: usize) {
        let t = self.now();
        let unit = &mut self.units[u];
        for k in 0..unit.members.len() {
            let s = &unit.members[k];
            let ifname = &self.links[s.link].name;
            if !s.dont_track_primary && self.link_up.get(ifname) == Some(&false) {
                unit.machine.handle_input(t, k, Input::InterfaceDown);
            }
            let tracks = unit.machine.instance(k).config().tracks.clone();
            for tr in tracks {
                let down_if = self
                    .link_up
                    .iter()
                    .any(|(n, up)| !up && track_id(TrackKind::Interface, n) == tr.id);
                let down_script = self
                    .script_up
                    .iter()
                    .any(|(n, up)| !up && track_id(TrackKind::Script, n) == tr.id);
                if down_if || down_script {
                    unit.machine.handle_input(
                        t,
                        k,
                        Input::Track {
                            id: tr.id,
                            up: false,
                        },
                    );
                }
            }
        }
    }

    /// (Re)starts the `vrrp_script`s the instances track; unchanged ones keep running (all
    /// restart when `script_user` / `enable_script_security` changed).
    fn start_scripts(&mut self, conf: &Conf) {
        let policy = ScriptPolicy::new(conf);
        if policy != self.policy {
            self.scripts.clear();
            self.policy = policy;
        }
        let used: Vec<&keepalived_conf::model::VrrpScript> = conf
            .vrrp_scripts
            .iter()
            .filter(|d| {
                let id = track_id(TrackKind::Script, &d.name);
                self.units
                    .iter()
                    .any(|u| (0..u.members.len()).any(|k| tracks(u.machine.instance(k), id)))
            })
            .collect();
        self.scripts
            .retain(|name, r| used.iter().any(|d| d.name == *name && **d == r.def));
        let scripts = self.scripts.keys().cloned().collect::<Vec<_>>();
        self.script_up.retain(|n, _| scripts.contains(n));
        for d in used {
            if !self.scripts.contains_key(&d.name) {
                let Some(command) = d.script.as_deref() else {
                    warn!(script = %d.name, "vrrp_script without `script`: not run");
                    continue;
                };
                match self.policy.prepare(command, d.user.as_ref()) {
                    Ok(prepared) => {
                        info!(script = %d.name, "vrrp_script started");
                        let r = ScriptRunner::spawn(d, prepared, self.tx.clone(), Event::Script);
                        self.scripts.insert(d.name.clone(), r);
                    }
                    Err(e) => error!(script = %d.name, error = %e, "vrrp_script disabled"),
                }
            }
        }
    }

    /// Removes unit `u`'s VIPs from the kernel unless another running instance owns them (a
    /// crashed predecessor may have left them; a backup must not answer for them).
    fn remove_stale(&self, u: usize) {
        for s in &self.units[u].members {
            for spec in s.vips.values() {
                let owned = self.units.iter().enumerate().any(|(j, o)| {
                    o.members
                        .iter()
                        .any(|m| !(j == u && m.name == s.name) && m.vips.contains_key(&spec.addr))
                });
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
    }

    /// The next event, or `Timeout` at `deadline`: a sleep until [`SPIN`] before it, then a
    /// busy wait, so the expiry does not also carry the kernel's wake-up latency (tens to
    /// hundreds of microseconds in a VM). The busy part is bounded by the deadline.
    fn recv_until(
        &self,
        rx: &mpsc::Receiver<Event>,
        deadline: Instant,
    ) -> Result<Event, RecvTimeoutError> {
        let left = deadline.saturating_duration_since(self.now());
        if left > SPIN {
            match rx.recv_timeout(left - SPIN) {
                Err(RecvTimeoutError::Timeout) => {}
                other => return other,
            }
        }
        loop {
            match rx.try_recv() {
                Ok(e) => return Ok(e),
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Err(RecvTimeoutError::Disconnected);
                }
                Err(mpsc::TryRecvError::Empty) if self.now() >= deadline => {
                    return Err(RecvTimeoutError::Timeout);
                }
                Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
    }

    fn run(mut self, rx: &mpsc::Receiver<Event>) -> anyhow::Result<()> {
        // The kernel may delay this thread's wake-ups by its timer slack (50 µs by default) to
        // batch them; a Master_Down_Timer wants its expiry on time.
        if let Err(e) = nix::sys::prctl::set_timerslack(1) {
            debug!(error = %e, "timer slack left at its default");
        }
        for u in 0..self.units.len() {
            self.start_unit(u);
        }
        self.start_syncd();
        let mut stopping = false;
        // The time of the last event handed to the machines: theirs never goes backwards.
        let mut last = Instant::ZERO;
        loop {
            for u in 0..self.units.len() {
                self.drain(u);
            }
            self.publish();
            if stopping {
                break;
            }
            let deadline = self
                .units
                .iter()
                .filter_map(|u| u.machine.poll_timeout())
                .min();
            let event = match deadline {
                Some(d) => self.recv_until(rx, d),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let mut t = self.now();
            match event {
                Ok(Event::Packet(rx)) => {
                    // When the advert arrived (the receive thread's clock reading), not when
                    // this thread got to it: the Master_Down_Timer it restarts runs from there.
                    // Never before the last event's time (min/max, not clamp: no panic even
                    // if the clock readings were ever out of order).
                    t = self.instant_of(rx.at).min(t).max(last);
                    self.receive(&rx, t);
                }
                Ok(Event::Link(s)) => self.link_changed(&s, t),
                Ok(Event::Script(name, up)) => self.script_changed(name, up, t),
                Ok(Event::File(name, value)) => self.file_changed(name, value, t),
                Ok(Event::Command(Command::Reload(conf))) => self.reload(&conf),
                Ok(Event::Command(_)) => {
                    info!("stopping: shutting every instance down");
                    for u in &mut self.units {
                        for k in 0..u.members.len() {
                            u.machine.handle_input(t, k, Input::Shutdown);
                        }
                    }
                    stopping = true;
                }
                Err(RecvTimeoutError::Timeout) => {
                    for u in &mut self.units {
                        if u.machine.poll_timeout().is_some_and(|d| d <= t) {
                            u.machine.handle_timeout(t);
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => bail!("every event source closed"),
            }
            last = t;
        }
        if let Some(d) = &mut self.syncd {
            d.stop();
        }
        // Whatever the machines said, leave no VIP behind.
        for u in &self.units {
            for s in &u.members {
                self.remove_vips(s);
            }
        }
        self.status.update(|st| {
            st.instances.clear();
            st.sync_groups.clear();
        });
        info!("stopped");
        Ok(())
    }

    /// A link notification: the instances on that interface go to (or leave) FAULT, and the
    /// `track_interface` objects of that name change state.
    fn link_changed(&mut self, s: &LinkState, t: Instant) {
        let usable = s.is_usable();
        if self.link_up.insert(s.name.clone(), usable) == Some(usable) {
            return;
        }
        if self.link_up.len() > 4096 {
            // Bounded: forget interfaces no instance uses (they come back on the next notice).
            let used: Vec<String> = self.links.iter().map(|l| l.name.clone()).collect();
            self.link_up.retain(|n, _| used.contains(n));
        }
        let id = track_id(TrackKind::Interface, &s.name);
        let mut touched = false;
        for u in &mut self.units {
            for k in 0..u.members.len() {
                let m = &u.members[k];
                if self.links[m.link].name == s.name && !m.dont_track_primary {
                    info!(instance = %m.name, interface = %s.name, up = usable, "interface state changed");
                    let input = if usable {
                        Input::InterfaceUp
                    } else {
                        Input::InterfaceDown
                    };
                    u.machine.handle_input(t, k, input);
                    touched = true;
                }
                if tracks(u.machine.instance(k), id) {
                    info!(instance = %u.members[k].name, interface = %s.name, up = usable, "tracked interface changed");
                    u.machine
                        .handle_input(t, k, Input::Track { id, up: usable });
                    touched = true;
                }
            }
        }
        if !touched {
            debug!(interface = %s.name, up = usable, "link state");
        }
    }

    /// A `vrrp_script` changed state.
    fn script_changed(&mut self, name: String, up: bool, t: Instant) {
        if !self.scripts.contains_key(&name) {
            return;
        }
        let id = track_id(TrackKind::Script, &name);
        for (u, k) in self.tracking(id) {
            let unit = &mut self.units[u];
            info!(instance = %unit.members[k].name, script = %name, up, "tracked script");
            unit.machine.handle_input(t, k, Input::Track { id, up });
        }
        self.script_up.insert(name, up);
    }

    /// Removes the VIPs of `s`, and its VMAC unless another running instance uses it.
    fn remove_vips(&self, s: &Slot) {
        for spec in s.vips.values() {
            if let Err(e) = self.nl.remove_address(&spec.iface, spec.addr) {
                warn!(instance = %s.name, error = %e, "removing a VIP");
            }
        }
        if let Some(v) = &s.vmac {
            let shared = self.units.iter().any(|u| {
                u.members
                    .iter()
                    .any(|m| m.name != s.name && m.vmac.as_ref() == Some(v))
            });
            if !shared && !self.keep_vmacs.contains(v) {
                match self.nl.remove_link(v) {
                    Ok(_) => info!(instance = %s.name, vmac = %v, "VMAC interface removed"),
                    Err(e) => warn!(instance = %s.name, vmac = %v, error = %e, "removing the VMAC"),
                }
            }
        }
    }

    /// Shuts unit `u` down (priority 0 if MASTER, VIPs removed) and forgets it.
    fn retire(&mut self, u: usize) {
        let t = self.now();
        for k in 0..self.units[u].members.len() {
            self.units[u].machine.handle_input(t, k, Input::Shutdown);
        }
        self.drain(u);
        let unit = self.units.remove(u);
        for s in &unit.members {
            self.remove_vips(s);
            info!(instance = %s.name, "instance stopped");
        }
        self.dirty = true;
    }

    /// [`Command::Reload`]: see the module documentation.
    fn reload(&mut self, conf: &Conf) {
        info!("reloading the VRRP instances");
        self.dirty = true;
        let (plans, failed) = self.plans(conf);
        self.keep_vmacs = plans
            .iter()
            .flat_map(|p| p.members.iter().filter_map(|m| m.vmac.clone()))
            .collect();
        for e in failed {
            error!(error = %format!("{e:#}"), "reload: instance not configurable; the running one (if any) is kept");
        }
        // Configured in the file but not configurable now: such instances keep running.
        let failed_names: Vec<&str> = conf
            .vrrp_instances
            .iter()
            .map(|i| i.name.as_str())
            .filter(|n| !plans.iter().any(|p| p.members.iter().any(|m| m.name == *n)))
            .collect();
        // Gone from the file (and not merely unconfigurable): stop.
        let mut u = 0;
        while u < self.units.len() {
            let unit = &self.units[u];
            let name = unit
                .group
                .clone()
                .unwrap_or_else(|| unit.members[0].name.clone());
            let kept = plans.iter().any(|p| p.name() == name)
                || unit
                    .members
                    .iter()
                    .any(|m| failed_names.contains(&m.name.as_str()));
            if kept {
                u += 1;
            } else {
                self.retire(u);
            }
        }
        let t = self.now();
        let mut started = Vec::new();
        for mut p in plans {
            let found = self.units.iter().position(|u| match (&u.group, &p.group) {
                (Some(a), Some(b)) => a == b,
                (None, None) => u.members[0].name == p.members[0].name,
                _ => false,
            });
            let Some(u) = found else {
                started.push(p);
                continue;
            };
            let unit = &mut self.units[u];
            let same_members = unit.members.len() == p.members.len()
                && unit
                    .members
                    .iter()
                    .zip(&p.members)
                    .all(|(s, m)| s.name == m.name);
            let unchanged = same_members
                && unit
                    .members
                    .iter()
                    .zip(&p.members)
                    .enumerate()
                    .all(|(k, (s, m))| {
                        *unit.machine.instance(k).config() == m.cfg
                            && s.link == m.link
                            && s.vips == m.vips
                    });
            if unchanged {
                for (s, m) in unit.members.iter_mut().zip(p.members) {
                    debug!(instance = %s.name, "reload: unchanged");
                    s.notify = m.notify;
                    s.strict = m.strict;
                    s.dont_track_primary = m.dont_track_primary;
                }
                continue;
            }
            let single = unit.group.is_none();
            if single {
                let m = p.members.pop().expect("a single instance's plan");
                let s = &mut unit.members[0];
                let Machine::One(vm) = &mut unit.machine else {
                    unreachable!("a unit without a group holds one instance")
                };
                if same_identity(s, vm.config(), &m) {
                    let old_vips = std::mem::replace(&mut s.vips, m.vips);
                    match vm.reconfigure(t, m.cfg) {
                        Ok(()) => {
                            info!(instance = %s.name, state = %vm.state(), "reload: reconfigured in place");
                            s.old_vips = Some(old_vips);
                            s.notify = m.notify;
                            s.strict = m.strict;
                            s.dont_track_primary = m.dont_track_primary;
                            self.drain(u);
                            self.units[u].members[0].old_vips = None;
                        }
                        Err(e) => {
                            s.vips = old_vips;
                            error!(instance = %s.name, error = %e, "reload: configuration refused; instance unchanged");
                        }
                    }
                    continue;
                }
                p.members.push(m);
                info!(instance = %p.name(), "reload: interface, VRID, version or family changed: restarting the instance");
            } else if same_members
                && unit
                    .members
                    .iter()
                    .zip(&p.members)
                    .enumerate()
                    .all(|(k, (s, m))| same_identity(s, unit.machine.instance(k).config(), m))
            {
                // Every member keeps its identity: reconfigured in place, all or none.
                if let Some(e) = p.members.iter().find_map(|m| m.cfg.validate().err()) {
                    error!(group = %p.name(), error = %e, "reload: configuration refused; sync group unchanged");
                    continue;
                }
                let name = p.name().to_owned();
                let Machine::Group(g) = &mut unit.machine else {
                    unreachable!("a unit with a group name holds a sync group")
                };
                for (k, m) in p.members.into_iter().enumerate() {
                    let s = &mut unit.members[k];
                    let old_vips = std::mem::replace(&mut s.vips, m.vips);
                    match g.reconfigure(t, k, m.cfg) {
                        Ok(()) => {
                            s.old_vips = Some(old_vips);
                            s.notify = m.notify;
                            s.strict = m.strict;
                            s.dont_track_primary = m.dont_track_primary;
                        }
                        Err(e) => {
                            s.vips = old_vips;
                            error!(instance = %s.name, error = %e, "reload: configuration refused; instance unchanged");
                        }
                    }
                }
                info!(group = %name, "reload: sync group reconfigured in place");
                self.drain(u);
                for s in &mut self.units[u].members {
                    s.old_vips = None;
                }
                continue;
            } else {
                info!(group = %p.name(), "reload: sync group members, interfaces, VRIDs, versions or families changed: restarting it");
            }
            self.retire(u);
            started.push(p);
        }
        self.start_files(conf);
        for u in 0..self.units.len() {
            self.apply_files(u);
            self.drain(u);
        }
        if self.syncd.as_ref().map(SyncDaemons::spec) != conf.global_defs.lvs_sync_daemon.as_ref() {
            if let Some(d) = &mut self.syncd {
                d.stop();
            }
            self.syncd = SyncDaemons::new(conf);
            self.start_syncd();
        }
        for p in started {
            match self.unit(p) {
                Ok(unit) => {
                    self.units.push(unit);
                    let u = self.units.len() - 1;
                    self.remove_stale(u);
                    self.start_unit(u);
                    self.drain(u);
                }
                Err(e) => error!(error = %format!("{e:#}"), "reload: instance not started"),
            }
        }
        self.start_scripts(conf);
        self.keep_vmacs.clear();
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
        let mut instances = Vec::new();
        let mut groups = Vec::new();
        for u in &self.units {
            for (k, s) in u.members.iter().enumerate() {
                instances.push(instance_status(
                    s,
                    u.machine.instance(k),
                    &self.links[s.link],
                ));
            }
            if let Some(g) = &u.group {
                let states: Vec<State> = (0..u.members.len())
                    .map(|k| u.machine.instance(k).state())
                    .collect();
                let state = if states.contains(&State::Fault) {
                    State::Fault
                } else {
                    states.first().copied().unwrap_or(State::Initialize)
                };
                groups.push(SyncGroupStatus {
                    name: g.clone(),
                    members: u.members.iter().map(|m| m.name.clone()).collect(),
                    state: state.as_str().to_uppercase(),
                });
            }
        }
        self.status.update(|st| {
            st.instances = instances;
            st.sync_groups = groups;
        });
    }

    /// A datagram from a link → validation → the instance with its VRID.
    fn receive(&mut self, rx: &Rx, now: Instant) {
        let dg = match rx.datagram() {
            Ok(dg) => dg,
            Err(e) => return debug!(error = %e, "not a VRRP datagram"),
        };
        let Ok(first) = dg.repr() else {
            return debug!(src = %dg.src, "undecodable VRRP packet");
        };
        let vrid = first.vrid;
        let found = self.units.iter().enumerate().find_map(|(u, unit)| {
            (0..unit.members.len())
                .find(|&k| {
                    unit.members[k].link == rx.link
                        && unit.machine.instance(k).config().vrid == vrid
                })
                .map(|k| (u, k))
        });
        let Some((u, k)) = found else {
            return debug!(src = %dg.src, vrid, "advert for a VRID not configured here");
        };
        let unit = &mut self.units[u];
        let s = &mut unit.members[k];
        let cfg = unit.machine.instance(k).config();
        // TTL / hop limit 255 (RFC 9568 §7.1), except from unicast peers: they may be routed,
        // and keepalived does not check the TTL of unicast adverts either.
        let vc = ValidationConfig::new(cfg.version)
            .with_vrid(vrid)
            .with_auth(cfg.auth)
            .with_check_ttl(cfg.unicast_peers.is_empty());
        match dg.validate(&vc) {
            Ok(v) => unit
                .machine
                .handle_input(now, k, Input::Advert(Received::from_validated(&v))),
            // RFC 9568 wants a link-local first address over IPv6; keepalived sends the list as
            // configured and only insists in strict mode. The rule is the validator's last, so
            // every other check passed: accept the advert unless `strict_mode` / `vrrp_strict`.
            Err(vrrp_packet::Error::Ipv6LinkLocal) if !s.strict => {
                debug!(instance = %s.name, src = %dg.src, "first IPv6 address not link-local (accepted, not strict)");
                let rx = Received {
                    src: dg.src,
                    repr: first,
                };
                unit.machine.handle_input(now, k, Input::Advert(rx));
            }
            Err(e) => {
                s.rejected += 1;
                *s.rejected_by_rule.entry(e.rule_name()).or_default() += 1;
                debug!(instance = %s.name, src = %dg.src, error = %e, rejected = s.rejected, "advert rejected");
                unit.machine
                    .handle_input(now, k, Input::Rejected((&e).into()));
            }
        }
    }

    /// Carries out every pending output of unit `u`.
    fn drain(&mut self, u: usize) {
        let unit = &mut self.units[u];
        let nl = &self.nl;
        // State changes are logged right after the advert that follows them (or at the end): the
        // takeover advert must not wait for a log line to be formatted and written.
        let mut changes: Vec<(String, vrrp_machine::StateChange)> = Vec::new();
        let mut moved: Vec<(String, State)> = Vec::new();
        let log = |changes: &mut Vec<(String, vrrp_machine::StateChange)>| {
            for (name, c) in changes.drain(..) {
                info!(instance = %name, from = %c.from, to = %c.to, reason = %c.reason,
                    "Entering {} STATE", c.to.as_str().to_uppercase());
            }
        };
        while let Some((k, out)) = unit.machine.poll_output() {
            let vm = unit.machine.instance(k);
            let s = &mut unit.members[k];
            let link = &self.links[s.link];
            match out {
                Output::Transmit(t) => {
                    let src = vm.config().primary_address;
                    if let Err(e) = link.send(&t.advert.repr(), src, t.dst) {
                        warn!(instance = %s.name, dst = %t.dst, error = %format!("{e:#}"), "advert not sent");
                    }
                    log(&mut changes);
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
                        // IPv6 VIPs without DAD (keepalived too): a dead master may still hold them.
                        match nl.ensure_address_nodad(spec) {
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
                    moved.push((s.name.clone(), c.to));
                    changes.push((s.name.clone(), c));
                }
                Output::Notify(n) => notify(s, vm.priority(), &n, &self.policy),
                _ => {}
            }
        }
        log(&mut changes);
        if let Some(d) = &mut self.syncd {
            for (name, to) in moved {
                d.follow(&name, to);
            }
        }
    }

    /// Starts the `lvs_sync_daemon` daemons its instance's current state asks for.
    fn start_syncd(&mut self) {
        let master = self
            .syncd
            .as_ref()
            .and_then(SyncDaemons::instance)
            .is_some_and(|name| self.is_master(name));
        if let Some(d) = &mut self.syncd {
            d.start(master);
        }
    }

    /// Whether the instance called `name` runs and is MASTER.
    fn is_master(&self, name: &str) -> bool {
        self.units.iter().any(|u| {
            u.members
                .iter()
                .enumerate()
                .any(|(k, m)| m.name == name && u.machine.instance(k).state() == State::Master)
        })
    }
}

/// Whether instance `vm` tracks the object `id`.
fn tracks(vm: &Instance, id: TrackId) -> bool {
    vm.config().tracks.iter().any(|t| t.id == id)
}

/// Whether the running instance `s` (configured with `old`) and its new plan `m` are the same
/// router: interface, VRID, version and family; it can then be reconfigured in place.
fn same_identity(s: &Slot, old: &vrrp_machine::Config, m: &Plan) -> bool {
    s.link == m.link
        && old.vrid == m.cfg.vrid
        && old.version == m.cfg.version
        && old.is_ipv6() == m.cfg.is_ipv6()
}

/// One instance's status: state, master, counters (RFC 6527 names where one exists).
fn instance_status(s: &Slot, vm: &Instance, link: &Link) -> InstanceStatus {
    let cfg = vm.config();
    let state = vm.state();
    let st = vm.stats();
    let master = match state {
        State::Master => Some(cfg.primary_address),
        State::Backup => vm.master_address(),
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
        effective_priority: vm.priority(),
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
/// Runs the notify scripts for `n` (argument vector, never a shell).
fn notify(s: &Slot, priority: u8, n: &Notify, policy: &ScriptPolicy) {
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
        let prio = priority.to_string();
        (
            g,
            vec!["INSTANCE".to_owned(), s.name.clone(), word.clone(), prio],
        )
    });
    for (sc, extra) in script.iter().map(|sc| (sc, Vec::new())).chain(generic) {
        spawn_script(&s.name, sc, &extra, policy);
    }
}

fn spawn_script(instance: &str, script: &Script, extra: &[String], policy: &ScriptPolicy) {
    let prepared = match policy.prepare(&script.command, script.run_as.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            return error!(instance, script = %script.command, error = %e, "notify script refused");
        }
    };
    match prepared.command(extra).spawn() {
        Ok(mut child) => {
            // Reap it in the background so it never lingers as a zombie.
            std::thread::spawn(move || child.wait());
        }
        Err(e) => warn!(instance, script = %script.command, error = %e, "notify script"),
    }
}
