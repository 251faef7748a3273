//! `keepalived.conf` instances into `vrrp-machine` configurations (keepalived's defaults).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use anyhow::{Context, bail};
use keepalived_conf::model::{
    AuthType, Config as Conf, TrackFile, Tracked, VrrpInstance, VrrpState,
};
use vrrp_machine::{Auth, Config, Interval, Track, TrackId, Version};

/// The machine configuration of `inst`. `primary` is the interface's primary address (the advert
/// source); `None` (config test) uses `mcast_src_ip` or a placeholder of the instance's family.
///
/// # Errors
/// A missing interface or VRID, an interval the version cannot carry, AH authentication, or any
/// rule [`Config::validate`] enforces.
pub fn instance_config(
    inst: &VrrpInstance,
    conf: &Conf,
    primary: Option<IpAddr>,
) -> anyhow::Result<Config> {
    if inst.interface.is_none() {
        bail!("no `interface`");
    }
    let vrid = inst.virtual_router_id.context("no `virtual_router_id`")?;
    // IPv6 is VRRPv3 only (keepalived upgrades such instances to version 3 too).
    let version = match inst.version.or(conf.global_defs.vrrp_version) {
        Some(2) if inst.is_ipv6() && inst.version == Some(2) => {
            bail!("`version 2` with IPv6 addresses: VRRP over IPv6 is version 3 only")
        }
        _ if inst.is_ipv6() => Version::V3,
        Some(3) => Version::V3,
        _ => Version::V2,
    };
    let centis = u16::try_from(inst.advert_int().as_centis())
        .ok()
        .filter(|c| *c > 0)
        .context("`advert_int` out of range")?;
    let interval = Interval::from_centis(centis);
    let primary = primary
        .or(inst.mcast_src_ip)
        .or(inst.unicast_src_ip)
        .unwrap_or(if inst.is_ipv6() {
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1))
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    let mut vips: Vec<IpAddr> = inst.virtual_ipaddress.iter().map(|v| v.addr).collect();
    // RFC 9568 §5.2.9: over IPv6 the first address is link-local. keepalived only insists in
    // strict mode and otherwise sends the list as configured; lvsd then advertises the
    // interface's link-local address (the advert source) first, without managing it as a VIP.
    let strict = inst.strict_mode.unwrap_or(conf.global_defs.vrrp_strict);
    let link_local_first = matches!(vips.first(), Some(IpAddr::V6(a)) if a.is_unicast_link_local());
    if inst.is_ipv6() && !link_local_first {
        if strict {
            bail!("strict mode: the first IPv6 virtual address must be link-local");
        }
        let ll = match primary {
            IpAddr::V6(a) if a.is_unicast_link_local() => a,
            _ => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        };
        vips.insert(0, IpAddr::V6(ll));
    }
    let mut cfg = Config::new(version, vrid, inst.priority(), interval, primary, vips);
    cfg.preempt = !inst.nopreempt;
    cfg.preempt_delay = inst
        .preempt_delay
        .map_or(Duration::ZERO, |t| t.as_duration());
    cfg.accept_mode = inst.accept.unwrap_or(true);
    cfg.unicast_peers = inst.unicast_peer.iter().map(|p| p.addr).collect();
    cfg.owner_immediate_master = inst.state() == VrrpState::Master;
    if let Some(a) = &inst.authentication {
        match a.auth_type {
            Some(AuthType::Pass) => {
                let pass = a.auth_pass.as_deref().unwrap_or("");
                let bytes = pass.as_bytes();
                cfg.auth = Auth::simple_text(&bytes[..bytes.len().min(8)]);
            }
            Some(AuthType::Ah) => bail!("auth_type AH is not supported by lvsd yet"),
            _ => {}
        }
    }
    if version == Version::V3 {
        cfg.auth = Auth::None;
    }
    let g = &mut cfg.garp;
    if let Some(n) = inst.garp_master_repeat {
        g.master_repeat = n;
    }
    if let Some(s) = inst.garp_master_delay {
        g.master_delay = (s > 0).then(|| Duration::from_secs(s.into()));
    }
    if let Some(s) = inst.garp_master_refresh {
        g.master_refresh = (s > 0).then(|| Duration::from_secs(s.into()));
    }
    if let Some(n) = inst.garp_master_refresh_repeat {
        g.master_refresh_repeat = n;
    }
    if let Some(n) = inst.garp_lower_prio_repeat {
        g.lower_prio_repeat = n;
    }
    if let Some(s) = inst.garp_lower_prio_delay {
        g.lower_prio_delay = (s > 0).then(|| Duration::from_secs(s.into()));
    }
    cfg.tracks = tracks(inst, conf)?;
    cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(cfg)
}

/// What a tracked object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// `track_interface`: up while the interface is up and running.
    Interface,
    /// `track_script`: up while the `vrrp_script` succeeds (after `rise` / `fall`).
    Script,
    /// `track_file`: the number the `vrrp_track_file`'s file holds, times the weight.
    File,
}

/// The id of a tracked object: a hash of its kind and name, so that it stays the same across
/// reloads (the machine keeps the state of a tracked object by id when reconfigured).
pub fn track_id(kind: TrackKind, name: &str) -> TrackId {
    // FNV-1a, 32 bits.
    let tag: &[u8] = match kind {
        TrackKind::Interface => b"if:",
        TrackKind::Script => b"script:",
        TrackKind::File => b"file:",
    };
    let mut h: u32 = 0x811c_9dc5;
    for b in tag.iter().chain(name.as_bytes()) {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    TrackId(h)
}

/// The `vrrp_track_file` called `name` that has a `file`.
pub fn tracked_file<'c>(conf: &'c Conf, name: &str) -> Option<&'c TrackFile> {
    conf.vrrp_track_files
        .iter()
        .find(|f| f.name == name && f.file.is_some())
}

/// The sync group `inst` belongs to, if any.
pub fn sync_group<'a>(
    inst: &VrrpInstance,
    conf: &'a Conf,
) -> Option<&'a keepalived_conf::model::SyncGroup> {
    conf.vrrp_sync_groups
        .iter()
        .find(|g| g.group.contains(&inst.name))
}

/// The instance's tracked objects: its own `track_interface` / `track_script` / `track_file`
/// and those of its sync group (keepalived applies a group's tracking to every member).
/// keepalived's default weight is 0 (the instance goes to FAULT while the object is down); a
/// `track_script` entry without a weight takes the `vrrp_script`'s, a `track_file` entry the
/// `vrrp_track_file`'s (default 1).
fn tracks(inst: &VrrpInstance, conf: &Conf) -> anyhow::Result<Vec<Track>> {
    let group = sync_group(inst, conf);
    let mut out: Vec<Track> = Vec::new();
    let mut add = |kind: TrackKind, t: &Tracked, default: Option<i32>, reverse: bool| {
        let w = t.weight.or(default).unwrap_or(0).clamp(-254, 254);
        let track = Track {
            id: track_id(kind, &t.name),
            weight: i16::try_from(w).unwrap_or(0),
            reverse: t.reverse || reverse,
        };
        if !out.iter().any(|o| o.id == track.id) {
            out.push(track);
        }
    };
    let ifs = inst
        .track_interface
        .iter()
        .chain(group.into_iter().flat_map(|g| &g.track_interface));
    for t in ifs {
        add(TrackKind::Interface, t, None, false);
    }
    let scripts = inst
        .track_script
        .iter()
        .chain(group.into_iter().flat_map(|g| &g.track_script));
    for t in scripts {
        let def = conf
            .vrrp_scripts
            .iter()
            .find(|s| s.name == t.name)
            .with_context(|| format!("track_script {}: no vrrp_script of that name", t.name))?;
        add(TrackKind::Script, t, def.weight, def.weight_reverse);
    }
    let files = inst
        .track_file
        .iter()
        .chain(group.into_iter().flat_map(|g| &g.track_file));
    for t in files {
        let def = tracked_file(conf, &t.name)
            .with_context(|| format!("track_file {}: no vrrp_track_file of that name", t.name))?;
        // The file's own weight (default 1) unless the entry names one.
        add(
            TrackKind::File,
            t,
            Some(def.weight.unwrap_or(1)),
            t.weight.is_none() && def.reverse,
        );
    }
    Ok(out)
}
