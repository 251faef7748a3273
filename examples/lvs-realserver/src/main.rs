//! `lvs-realserver`: prepares a host as an LVS real server, checks it, and restores it.
//!
//! It replaces the seed's hand-made real-server steps (`ip address add VIP/32 dev lo label lo:0`
//! plus the ARP sysctls for DR), its `lvs_tun.sh start|stop|status` script for TUN, and the
//! default route of a NAT real server:
//!
//! * `up` binds the VIP(s) (`lo` label `lo:0` for DR, `tunl0` for TUN, none for NAT), applies
//!   the mode's sysctl profile (lvs-sysctl) and, for NAT, makes `--gateway` the default route.
//!   Everything it changes is recorded in the state directory (`realserver.json` for addresses,
//!   links and routes, `sysctl.json` for sysctls), so that
//! * `down` reverts exactly those changes and nothing that was there before `up`;
//! * `status` prints every relevant effective value with where it comes from, the VIP binding
//!   and the tunnel state, and a verdict per item with the specific fix. It exits 0 only when
//!   the host is ready for the mode.
//!
//! Exit status: 0 success (ready, for `status`), 1 failure (not ready), 2 usage error.

#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use lvs_sysctl::{
    Diagnosis, Expect, IfName, Key, Mode as SysMode, Procfs, Profile, Scope, Snapshot, Source,
    Verdict,
};
use lvs_vip::{AddrScope, Address, AddressSpec, Netlink, Outcome};
use serde::{Deserialize, Serialize};

const TUNL0: &str = "tunl0";
const STATE_FILE: &str = "realserver.json";
const SYSCTL_FILE: &str = "sysctl.json";
const STATE_VERSION: u32 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "lvs-realserver",
    version,
    about = "Prepare (up), restore (down) and check (status) an LVS DR/TUN/NAT real server"
)]
struct Cli {
    /// What to do.
    action: Action,
    /// The forwarding method of the virtual service (default for down/status: from the state).
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// The virtual address(es), comma separated.
    #[arg(long, value_delimiter = ',')]
    vip: Vec<IpAddr>,
    /// DR/TUN: the interface where ARP requests for the VIP arrive (default: every interface).
    #[arg(long)]
    dev: Option<String>,
    /// NAT: the director's inside address, to become the default gateway.
    #[arg(long)]
    gateway: Option<IpAddr>,
    /// Where up records what it changed.
    #[arg(long, default_value = "/run/lvs-realserver")]
    state_dir: PathBuf,
    /// up: print what would change and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// status: print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Up,
    Down,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Dr,
    Tun,
    Nat,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Dr => "dr",
            Self::Tun => "tun",
            Self::Nat => "nat",
        }
    }

    fn sys(self) -> SysMode {
        match self {
            Self::Dr => SysMode::Dr,
            Self::Tun => SysMode::Tun,
            Self::Nat => SysMode::Nat,
        }
    }
}

/// An address that existed before `up` replaced it (same address, other prefix/label/...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OldAddress {
    prefix: u8,
    label: Option<String>,
    scope: u8,
    broadcast: Option<std::net::Ipv4Addr>,
}

/// An address `up` configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AddedAddress {
    iface: String,
    addr: IpAddr,
    prefix: u8,
    /// What was there before (restored by down), if `up` replaced something.
    replaced: Vec<OldAddress>,
}

/// The default route `up` replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RouteChange {
    gateway: IpAddr,
    /// The default gateways of the same family before `up` (empty: there was none).
    previous: Vec<IpAddr>,
}

/// What `up` changed besides sysctls (those are in lvs-sysctl's own state file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    version: u32,
    mode: Mode,
    vips: Vec<IpAddr>,
    dev: Option<String>,
    gateway: Option<IpAddr>,
    /// Links `up` set administratively up (tunl0).
    links_up: Vec<String>,
    addresses: Vec<AddedAddress>,
    /// Host routes `up` added: (destination, device).
    host_routes: Vec<(IpAddr, String)>,
    default_route: Option<RouteChange>,
}

impl State {
    fn load(dir: &Path) -> Result<Option<Self>, String> {
        let path = dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let s: Self = serde_json::from_str(&text).map_err(|e| {
            format!(
                "state file {} is corrupt (line {}, column {}: {e}); left in place",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        if s.version != STATE_VERSION {
            return Err(format!(
                "state file {} has version {}, expected {STATE_VERSION}",
                path.display(),
                s.version
            ));
        }
        Ok(Some(s))
    }

    fn store(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(STATE_FILE);
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create state directory {}: {e}", dir.display()))?;
        let tmp = dir.join(format!(".{STATE_FILE}.tmp.{}", std::process::id()));
        let mut json = serde_json::to_vec_pretty(self).expect("state serializes");
        json.push(b'\n');
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write state file {}: {e}", path.display()))
    }

    fn is_empty(&self) -> bool {
        self.links_up.is_empty()
            && self.addresses.is_empty()
            && self.host_routes.is_empty()
            && self.default_route.is_none()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("lvs-realserver: usage error: {msg}");
            eprintln!("try `lvs-realserver --help`");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("lvs-realserver: {msg}");
            ExitCode::from(1)
        }
    }
}

#[derive(Debug)]
enum Failure {
    Usage(String),
    Runtime(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Self::Runtime(s)
    }
}

impl From<lvs_sysctl::Error> for Failure {
    fn from(e: lvs_sysctl::Error) -> Self {
        Self::Runtime(e.to_string())
    }
}

impl From<lvs_vip::Error> for Failure {
    fn from(e: lvs_vip::Error) -> Self {
        Self::Runtime(e.to_string())
    }
}

fn run(cli: &Cli) -> Result<ExitCode, Failure> {
    if let Some(dev) = &cli.dev {
        IfName::new(dev).map_err(|e| Failure::Usage(format!("--dev {dev}: {e}")))?;
    }
    if cli.dry_run && cli.action != Action::Up {
        return Err(Failure::Usage("--dry-run only applies to up".into()));
    }
    if cli.json && cli.action != Action::Status {
        return Err(Failure::Usage("--json only applies to status".into()));
    }
    match cli.action {
        Action::Up => up(cli),
        Action::Down => down(cli),
        Action::Status => status(cli),
    }
}

/// The mode and VIPs from the command line, checked for the mode.
fn target(cli: &Cli, state: Option<&State>) -> Result<(Mode, Vec<IpAddr>), Failure> {
    let mode = match (cli.mode, state) {
        (Some(m), _) => m,
        (None, Some(s)) => s.mode,
        (None, None) => {
            return Err(Failure::Usage(
                "--mode dr|tun|nat is required (no state from an earlier up)".into(),
            ));
        }
    };
    let vips = match (cli.vip.is_empty(), state) {
        (false, _) => cli.vip.clone(),
        (true, Some(s)) if s.mode == mode => s.vips.clone(),
        _ => Vec::new(),
    };
    if vips.is_empty() && mode != Mode::Nat {
        return Err(Failure::Usage(format!(
            "--vip ADDR[,ADDR...] is required for --mode {}",
            mode.name()
        )));
    }
    if mode == Mode::Tun {
        if let Some(v6) = vips.iter().find(|v| v.is_ipv6()) {
            return Err(Failure::Usage(format!(
                "--vip {v6}: LVS-TUN over tunl0 (IPIP) carries IPv4 only"
            )));
        }
    }
    Ok((mode, vips))
}

fn arp_ifaces(dev: Option<&str>) -> Vec<IfName> {
    dev.map(|d| IfName::new(d).expect("checked in run"))
        .into_iter()
        .collect()
}

fn scope_u8(s: AddrScope) -> u8 {
    match s {
        AddrScope::Global => 0,
        AddrScope::Site => 200,
        AddrScope::Link => 253,
        AddrScope::Host => 254,
        AddrScope::Other(v) => v,
    }
}

fn scope_of(v: u8) -> AddrScope {
    match v {
        0 => AddrScope::Global,
        200 => AddrScope::Site,
        253 => AddrScope::Link,
        254 => AddrScope::Host,
        v => AddrScope::Other(v),
    }
}

/// The address spec `up` wants for `vip` in `mode`.
fn vip_spec(mode: Mode, vip: IpAddr) -> AddressSpec {
    match (mode, vip) {
        (Mode::Tun, IpAddr::V4(v4)) => AddressSpec::vip(TUNL0, vip).broadcast(v4),
        (_, IpAddr::V4(_)) => AddressSpec::vip("lo", vip).label("lo:0"),
        (_, IpAddr::V6(_)) => AddressSpec::vip("lo", vip),
    }
}

fn spec_matches(spec: &AddressSpec, a: &Address) -> bool {
    a.iface == spec.iface
        && a.addr == spec.addr
        && a.prefix == spec.prefix
        && a.scope == spec.scope
        && (spec.label.is_none() || a.label == spec.label)
        && (spec.broadcast.is_none() || a.broadcast == spec.broadcast)
}

/// A copy of the host's sysctls as they will be once `tunl0` is up: the kernel creates its
/// `conf` directory then, with the values of `default`. Used to plan a dry run.
fn with_tunl0(sys: &Procfs) -> Result<Snapshot, Failure> {
    let mut snap = Snapshot::capture(sys)?;
    let tun = Scope::Iface(IfName::new(TUNL0).expect("valid"));
    let defaults: Vec<(Key, i32)> = snap
        .iter()
        .filter(|(k, _)| k.scope() == Some(&Scope::Default))
        .map(|(k, v)| (k.clone(), v))
        .collect();
    for (k, v) in defaults {
        if let Some(p) = k.param() {
            snap.set(p.key(tun.clone()), v);
        }
    }
    Ok(snap)
}

fn up(cli: &Cli) -> Result<ExitCode, Failure> {
    let existing = State::load(&cli.state_dir)?;
    let (mode, vips) = target(cli, None)?;
    if mode == Mode::Nat && cli.gateway.is_none() {
        return Err(Failure::Usage(
            "--gateway ADDR (the director's inside address) is required for --mode nat".into(),
        ));
    }
    if let Some(s) = &existing {
        if s.mode != mode {
            return Err(Failure::Runtime(format!(
                "already up in mode {} (state in {}); run `lvs-realserver down --state-dir {}` first",
                s.mode.name(),
                cli.state_dir.display(),
                cli.state_dir.display()
            )));
        }
    }
    let nl = Netlink::new()?;
    let sys = Procfs::system();
    let ifaces = arp_ifaces(cli.dev.as_deref());
    let profile = match mode {
        Mode::Dr => Profile::dr(ifaces),
        Mode::Tun => Profile::tun(ifaces),
        Mode::Nat => Profile::nat(),
    };
    let tunl0 = if mode == Mode::Tun {
        Some(nl.link(TUNL0).map_err(|_| {
            Failure::Runtime(
                "tunl0 does not exist: load the ipip module (modprobe ipip), which creates it"
                    .into(),
            )
        })?)
    } else {
        None
    };

    if cli.dry_run {
        let plan = match &tunl0 {
            Some(l) if !l.up => profile.plan(&with_tunl0(&sys)?)?,
            _ => profile.plan(&sys)?,
        };
        println!("dry run: nothing is changed");
        if let Some(l) = &tunl0 {
            if !l.up {
                println!("  ip link set {TUNL0} up");
            }
        }
        print!("{plan}");
        let addrs = nl.addresses()?;
        for vip in &vips {
            if mode == Mode::Nat {
                continue;
            }
            let spec = vip_spec(mode, *vip);
            if !addrs.iter().any(|a| spec_matches(&spec, a)) {
                for a in addrs
                    .iter()
                    .filter(|a| a.iface == spec.iface && a.addr == *vip)
                {
                    println!("  ip address del {}/{} dev {}", a.addr, a.prefix, a.iface);
                }
                let label = spec
                    .label
                    .as_ref()
                    .map(|l| format!(" label {l}"))
                    .unwrap_or_default();
                let brd = spec
                    .broadcast
                    .map(|b| format!(" broadcast {b}"))
                    .unwrap_or_default();
                println!(
                    "  ip address add {vip}/{}{brd} dev {}{label}",
                    spec.prefix, spec.iface
                );
            }
            if mode == Mode::Tun {
                println!("  ip route add {vip}/32 dev {TUNL0} (if missing)");
            }
        }
        if let Some(gw) = cli.gateway.filter(|_| mode == Mode::Nat) {
            let same: Vec<IpAddr> = nl
                .default_gateways()?
                .into_iter()
                .filter(|g| g.is_ipv4() == gw.is_ipv4())
                .collect();
            if same != [gw] {
                let was: Vec<String> = same.iter().map(ToString::to_string).collect();
                println!(
                    "  ip route replace default via {gw} (now: {})",
                    if was.is_empty() {
                        "none".into()
                    } else {
                        was.join(", ")
                    }
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut state = existing.unwrap_or(State {
        version: STATE_VERSION,
        mode,
        vips: Vec::new(),
        dev: cli.dev.clone(),
        gateway: cli.gateway,
        links_up: Vec::new(),
        addresses: Vec::new(),
        host_routes: Vec::new(),
        default_route: None,
    });
    for v in &vips {
        if !state.vips.contains(v) {
            state.vips.push(*v);
        }
    }
    if cli.dev.is_some() {
        state.dev.clone_from(&cli.dev);
    }
    if cli.gateway.is_some() {
        state.gateway = cli.gateway;
    }
    state.store(&cli.state_dir)?;
    let sysctl_state = cli.state_dir.join(SYSCTL_FILE);

    // TUN: tunl0 up first (the kernel creates its conf directory then, which the profile needs).
    if let Some(l) = &tunl0 {
        if nl.set_up(TUNL0, true)? == Outcome::Changed && !state.links_up.contains(&l.name) {
            state.links_up.push(l.name.clone());
            state.store(&cli.state_dir)?;
            println!("{TUNL0}: up");
        }
    }
    // Sysctls before the VIP: there is never a moment where the VIP is bound and answered by ARP.
    let plan = profile.plan(&sys)?;
    if !plan.is_empty() {
        let report = lvs_sysctl::apply(&sys, &plan, &sysctl_state)?;
        for c in &report.written {
            println!("{} = {} (was {})", c.key, c.new, c.old);
        }
    }
    for n in &plan.notes {
        println!("note: {n}");
    }
    if mode != Mode::Nat {
        for vip in &vips {
            let spec = vip_spec(mode, *vip);
            let before: Vec<Address> = nl
                .addresses()?
                .into_iter()
                .filter(|a| a.iface == spec.iface && a.addr == *vip)
                .collect();
            if nl.ensure_address(&spec)? == Outcome::Changed {
                println!("{vip}/{} on {}: added", spec.prefix, spec.iface);
                let recorded = state
                    .addresses
                    .iter()
                    .any(|a| a.iface == spec.iface && a.addr == *vip);
                if !recorded {
                    state.addresses.push(AddedAddress {
                        iface: spec.iface.clone(),
                        addr: *vip,
                        prefix: spec.prefix,
                        replaced: before
                            .iter()
                            .map(|a| OldAddress {
                                prefix: a.prefix,
                                label: a.label.clone(),
                                scope: scope_u8(a.scope),
                                broadcast: a.broadcast,
                            })
                            .collect(),
                    });
                }
                state.store(&cli.state_dir)?;
            }
            if mode == Mode::Tun && nl.ensure_host_route(*vip, TUNL0)? == Outcome::Changed {
                println!("route {vip}/32 dev {TUNL0}: added");
                let r = (*vip, TUNL0.to_owned());
                if !state.host_routes.contains(&r) {
                    state.host_routes.push(r);
                }
                state.store(&cli.state_dir)?;
            }
        }
    }
    if let Some(gw) = cli.gateway.filter(|_| mode == Mode::Nat) {
        let previous: Vec<IpAddr> = nl
            .default_gateways()?
            .into_iter()
            .filter(|g| g.is_ipv4() == gw.is_ipv4())
            .collect();
        if nl.ensure_default_route(gw)? == Outcome::Changed {
            let was: Vec<String> = previous.iter().map(ToString::to_string).collect();
            println!(
                "default route via {gw} (was: {})",
                if was.is_empty() {
                    "none".into()
                } else {
                    was.join(", ")
                }
            );
            match &mut state.default_route {
                // Keep the route from before the first up.
                Some(r) => r.gateway = gw,
                None => {
                    state.default_route = Some(RouteChange {
                        gateway: gw,
                        previous,
                    })
                }
            }
            state.store(&cli.state_dir)?;
        }
    }
    println!(
        "{} real server up; `lvs-realserver down --state-dir {}` restores the previous state",
        mode.name(),
        cli.state_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn down(cli: &Cli) -> Result<ExitCode, Failure> {
    let state = State::load(&cli.state_dir)?;
    let sysctl_state = cli.state_dir.join(SYSCTL_FILE);
    let Some(mut state) = state else {
        // A sysctl state alone (an up that stopped early) is still reverted.
        if sysctl_state.exists() {
            revert_sysctls(&sysctl_state)?;
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "nothing to restore: no state in {} (up was not run with this --state-dir, or down already ran)",
            cli.state_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    if let Some(m) = cli.mode {
        if m != state.mode {
            return Err(Failure::Runtime(format!(
                "the state in {} is for mode {}, not {}",
                cli.state_dir.display(),
                state.mode.name(),
                m.name()
            )));
        }
    }
    let nl = Netlink::new()?;
    if let Some(r) = state.default_route.clone() {
        let now = nl.default_gateways()?;
        if now.contains(&r.gateway) {
            match r.previous.first() {
                Some(old) => {
                    let _ = nl.ensure_default_route(*old)?;
                    println!("default route via {old} restored");
                }
                None => {
                    let _ = nl.remove_default_route(r.gateway)?;
                    println!("default route via {} removed", r.gateway);
                }
            }
        } else {
            println!(
                "default route via {} is gone (changed by someone else); left alone",
                r.gateway
            );
        }
        state.default_route = None;
        state.store(&cli.state_dir)?;
    }
    while let Some((dest, dev)) = state.host_routes.pop() {
        let _ = nl.remove_host_route(dest, &dev)?;
        println!("route {dest} dev {dev}: removed");
        state.store(&cli.state_dir)?;
    }
    while let Some(a) = state.addresses.pop() {
        let _ = nl.remove_address(&a.iface, a.addr)?;
        println!("{}/{} on {}: removed", a.addr, a.prefix, a.iface);
        for old in &a.replaced {
            let mut spec = AddressSpec::vip(&a.iface, a.addr)
                .prefix(old.prefix)
                .scope(scope_of(old.scope));
            spec.label.clone_from(&old.label);
            spec.broadcast = old.broadcast;
            let _ = nl.ensure_address(&spec)?;
            println!(
                "{}/{} on {}: restored as before up",
                a.addr, old.prefix, a.iface
            );
        }
        state.store(&cli.state_dir)?;
    }
    if sysctl_state.exists() {
        revert_sysctls(&sysctl_state)?;
    }
    while let Some(link) = state.links_up.pop() {
        let _ = nl.set_up(&link, false)?;
        println!("{link}: down (as before up)");
        state.store(&cli.state_dir)?;
    }
    debug_assert!(state.is_empty());
    let path = cli.state_dir.join(STATE_FILE);
    std::fs::remove_file(&path)
        .map_err(|e| format!("cannot remove state file {}: {e}", path.display()))?;
    println!("{} real server down: restored", state.mode.name());
    Ok(ExitCode::SUCCESS)
}

fn revert_sysctls(path: &Path) -> Result<(), Failure> {
    let report = lvs_sysctl::revert(&Procfs::system(), path)?;
    for r in &report.restored {
        println!("{} = {} (restored, was {})", r.key, r.to, r.from);
    }
    for d in &report.drifted {
        println!(
            "note: {} had been changed to {} after up (up wrote {}); restored anyway",
            d.key, d.found, d.applied
        );
    }
    for k in &report.gone {
        println!("note: {k}: the interface is gone; nothing to restore");
    }
    Ok(())
}

/// Checks this tool adds to lvs-sysctl's diagnosis: tunl0 administratively up (TUN) and no
/// VIP on a NAT real server.
fn extra_checks(mode: Mode, vips: &[IpAddr], nl: &Netlink) -> Vec<lvs_sysctl::Check> {
    let mut out = Vec::new();
    match mode {
        Mode::Tun => {
            if let Ok(l) = nl.link(TUNL0) {
                out.push(if l.up {
                    check(
                        "tunnel tunl0 state",
                        Verdict::Ok,
                        "tunl0 is up".into(),
                        None,
                    )
                } else {
                    check(
                        "tunnel tunl0 state",
                        Verdict::Wrong,
                        "tunl0 is down: IPIP packets from the director are not decapsulated".into(),
                        Some(format!("ip link set {TUNL0} up")),
                    )
                });
            }
        }
        Mode::Nat => {
            let addrs = nl.addresses().unwrap_or_default();
            for vip in vips {
                let held: Vec<&Address> = addrs.iter().filter(|a| a.addr == *vip).collect();
                out.push(match held.first() {
                    None => check(
                        &format!("VIP {vip}"),
                        Verdict::Ok,
                        format!("{vip} is not configured here (the director holds it)"),
                        None,
                    ),
                    Some(a) => check(
                        &format!("VIP {vip}"),
                        Verdict::Wrong,
                        format!(
                            "{vip} is configured on {}: a NAT real server must not hold the VIP \
                             (the director rewrites it to this host's own address)",
                            a.iface
                        ),
                        Some(format!("ip address del {vip}/{} dev {}", a.prefix, a.iface)),
                    ),
                });
            }
        }
        Mode::Dr => {}
    }
    out
}

fn check(
    subject: &str,
    verdict: Verdict,
    detail: String,
    fix: Option<String>,
) -> lvs_sysctl::Check {
    lvs_sysctl::Check {
        subject: subject.to_owned(),
        verdict,
        detail,
        fix,
        explanation: None,
    }
}

fn status(cli: &Cli) -> Result<ExitCode, Failure> {
    let state = State::load(&cli.state_dir)?;
    let (mode, vips) = target(cli, state.as_ref())?;
    let same = state.as_ref().filter(|s| s.mode == mode);
    let dev = cli.dev.clone().or_else(|| same.and_then(|s| s.dev.clone()));
    let gateway = cli.gateway.or_else(|| same.and_then(|s| s.gateway));
    let sys = Procfs::system();
    let mut expect = Expect::new(mode.sys(), vips.iter().copied());
    expect.arp_ifaces = arp_ifaces(dev.as_deref());
    expect.gateway = gateway;
    let nl = Netlink::new()?;
    let facts = nl.host_facts()?;
    let mut diagnosis: Diagnosis = lvs_sysctl::diagnose(&sys, &expect, Some(&facts))?;
    diagnosis.checks.extend(extra_checks(mode, &vips, &nl));
    let ready = diagnosis.ready();

    if cli.json {
        let checks: Vec<serde_json::Value> = diagnosis
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "subject": c.subject,
                    "verdict": match c.verdict {
                        Verdict::Ok => "ok",
                        Verdict::Wrong => "wrong",
                        Verdict::Unknown => "unknown",
                    },
                    "detail": c.detail,
                    "fix": c.fix,
                    "effective": c.explanation.as_ref().map(|e| serde_json::json!({
                        "param": e.param.to_string(),
                        "iface": e.iface.as_str(),
                        "all": e.all,
                        "iface_value": e.iface_value,
                        "value": e.value,
                        "explanation": e.to_string(),
                    })),
                })
            })
            .collect();
        let out = serde_json::json!({
            "mode": mode.name(),
            "vips": vips,
            "ready": ready,
            "checks": checks,
            "state": same.map(|s| serde_json::to_value(s).expect("serializes")),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serializes")
        );
    } else {
        for c in &diagnosis.checks {
            let tag = match c.verdict {
                Verdict::Ok => "ok",
                Verdict::Wrong => "WRONG",
                Verdict::Unknown => "unknown",
            };
            println!("[{tag:^7}] {}: {}", c.subject, c.detail);
            if let Some(e) = &c.explanation {
                let text = e.to_string();
                if !c.detail.contains(&text) {
                    println!("          effective: {text}");
                }
            }
            if let Some(fix) = &c.fix {
                println!("          fix: {fix}");
            }
        }
        if mode == Mode::Dr || mode == Mode::Tun {
            print_ip_forward_note(&sys);
        }
        match same {
            Some(s) if !s.is_empty() || cli.state_dir.join(SYSCTL_FILE).exists() => println!(
                "state: changes recorded by up in {} ({} address(es), {} route(s), {} link(s), sysctls: {})",
                cli.state_dir.display(),
                s.addresses.len(),
                s.host_routes.len() + usize::from(s.default_route.is_some()),
                s.links_up.len(),
                if cli.state_dir.join(SYSCTL_FILE).exists() {
                    "yes"
                } else {
                    "none"
                }
            ),
            _ => println!("state: nothing recorded in {}", cli.state_dir.display()),
        }
        println!(
            "{} real server: {}",
            mode.name(),
            if ready { "ready" } else { "NOT ready" }
        );
    }
    Ok(if ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// For information: forwarding does not matter to a DR/TUN real server, but operators ask.
fn print_ip_forward_note(sys: &Procfs) {
    if let Ok(v) = sys.get(&Key::IpForward) {
        println!("[ info  ] net.ipv4.ip_forward is {v} (not needed by a DR/TUN real server)");
    }
}
