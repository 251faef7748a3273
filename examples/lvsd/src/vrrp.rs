//! The VRRP subsystem (IPv4): raw sockets in, machine outputs out.
//!
//! One thread per interface blocks in `recv` on its raw socket and feeds a channel, which also
//! carries the daemon's [`Command`]s. The subsystem's thread owns the machines and sleeps on that
//! channel until the earliest deadline the machines report.

use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use anyhow::{Context, bail};
use keepalived_conf::model::{Config as Conf, Script, VirtualAddress};
use lvs_vip::{AddressSpec, Announcer, GarpKind, MacAddr, Netlink, Outcome};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use tracing::{debug, error, info, warn};
use vrrp_machine::{Input, Instance, Instant, Notify, Output, Received, State};
use vrrp_packet::{Datagram, Envelope, VRRP_IPV4_MULTICAST, ValidationConfig};

use crate::side::{Command, Side};
use crate::status::{InstanceStatus, Shared};

/// One interface: its raw socket (shared with its receive thread) and its announcer.
#[derive(Debug)]
struct Link {
    name: String,
    mac: MacAddr,
    primary: Ipv4Addr,
    socket: Arc<Socket>,
    announcer: Announcer,
}

/// One `vrrp_instance`.
#[derive(Debug)]
struct Slot {
    name: String,
    link: usize,
    vm: Instance,
    vips: HashMap<IpAddr, AddressSpec>,
    notify: keepalived_conf::model::Notify,
    rejected: u64,
}

enum Event {
    Packet { link: usize, data: Vec<u8> },
    Command(Command),
}

/// Starts the VRRP instances of `conf`; returns once every socket is open and every stale VIP
/// is gone. The instances run until [`Command::Stop`].
///
/// # Errors
/// An instance that cannot be configured (unknown interface, no IPv4 address, bad settings),
/// or a socket that cannot be opened (CAP_NET_RAW missing).
pub fn spawn(conf: &Conf, status: Shared) -> anyhow::Result<Side> {
    let nl = Netlink::new().context("open rtnetlink")?;
    let epoch = std::time::Instant::now();
    let now = || Instant::from_micros(epoch.elapsed().as_micros().try_into().unwrap_or(u64::MAX));
    let (tx, rx) = mpsc::channel();
    let mut links: Vec<Link> = Vec::new();
    let mut slots: Vec<Slot> = Vec::new();

    for inst in &conf.vrrp_instances {
        if inst.is_ipv6() {
            warn!(instance = %inst.name, "IPv6 instances are not supported by lvsd yet; skipped");
            continue;
        }
        let ifname = inst.interface.clone().context("no `interface`")?;
        let link = match links.iter().position(|l| l.name == ifname) {
            Some(i) => i,
            None => {
                links.push(open_link(&nl, &ifname, tx.clone(), links.len())?);
                links.len() - 1
            }
        };
        let primary = inst.mcast_src_ip.unwrap_or(IpAddr::V4(links[link].primary));
        let cfg = crate::conf::instance_config(inst, conf, Some(primary))
            .with_context(|| format!("vrrp_instance {}", inst.name))?;
        let vm = Instance::new(cfg, now()).map_err(|e| anyhow::anyhow!("{}: {e}", inst.name))?;
        let vips = inst
            .virtual_ipaddress
            .iter()
            .map(|v| (v.addr, spec(v, &ifname)))
            .collect();
        info!(instance = %inst.name, interface = %ifname, vrid = ?inst.virtual_router_id,
            priority = inst.priority(), "instance configured");
        slots.push(Slot {
            name: inst.name.clone(),
            link,
            vm,
            vips,
            notify: inst.notify.clone(),
            rejected: 0,
        });
    }
    if slots.is_empty() {
        bail!("no usable vrrp_instance in the configuration");
    }
    // A crashed predecessor may have left VIPs behind: a backup must not hold them.
    for s in &slots {
        for spec in s.vips.values() {
            match nl.remove_address(&spec.iface, spec.addr) {
                Ok(Outcome::Changed) => {
                    warn!(instance = %s.name, vip = %spec.addr, "stale VIP removed at startup");
                }
                Ok(_) => {}
                Err(e) => {
                    warn!(instance = %s.name, vip = %spec.addr, error = %e, "stale VIP check")
                }
            }
        }
    }
    let join = std::thread::Builder::new()
        .name("vrrp".into())
        .spawn(move || event_loop(slots, links, nl, rx, status, epoch))
        .context("start the VRRP thread")?;
    Ok(Side::new(
        "vrrp",
        move |c| tx.send(Event::Command(c)).is_ok(),
        join,
    ))
}

fn event_loop(
    mut slots: Vec<Slot>,
    links: Vec<Link>,
    nl: Netlink,
    rx: mpsc::Receiver<Event>,
    status: Shared,
    epoch: std::time::Instant,
) -> anyhow::Result<()> {
    let now = || Instant::from_micros(epoch.elapsed().as_micros().try_into().unwrap_or(u64::MAX));
    let t = now();
    for s in &mut slots {
        s.vm.handle_input(t, Input::Startup);
    }
    let mut stopping = false;
    loop {
        for s in &mut slots {
            drain(s, &links, &nl);
        }
        publish(&slots, &links, &status);
        if stopping {
            break;
        }
        let deadline = slots.iter().filter_map(|s| s.vm.poll_timeout()).min();
        let event = match deadline {
            Some(d) => rx.recv_timeout(d.saturating_duration_since(now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let t = now();
        match event {
            Ok(Event::Packet { link, data }) => receive(&mut slots, link, &data, t),
            Ok(Event::Command(Command::Reload(_))) => {
                warn!("reload of VRRP instances is not implemented yet; instances unchanged");
            }
            Ok(Event::Command(_)) => {
                info!("stopping: shutting every instance down");
                for s in &mut slots {
                    s.vm.handle_input(t, Input::Shutdown);
                }
                stopping = true;
            }
            Err(RecvTimeoutError::Timeout) => {
                for s in &mut slots {
                    if s.vm.poll_timeout().is_some_and(|d| d <= t) {
                        s.vm.handle_timeout(t);
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => bail!("every event source closed"),
        }
    }
    // Whatever the machines said, leave no VIP behind.
    for s in &slots {
        for spec in s.vips.values() {
            if let Err(e) = nl.remove_address(&spec.iface, spec.addr) {
                warn!(instance = %s.name, error = %e, "removing a VIP at exit");
            }
        }
    }
    status.update(|st| st.instances.clear());
    info!("stopped");
    Ok(())
}

/// Writes every instance's state into the shared status.
fn publish(slots: &[Slot], links: &[Link], status: &Shared) {
    let instances = slots
        .iter()
        .map(|s| {
            let cfg = s.vm.config();
            InstanceStatus {
                name: s.name.clone(),
                interface: links[s.link].name.clone(),
                vrid: cfg.vrid,
                version: if cfg.version == vrrp_machine::Version::V3 {
                    3
                } else {
                    2
                },
                family: "inet".into(),
                state: s.vm.state().as_str().to_uppercase(),
                priority: cfg.priority,
                effective_priority: s.vm.priority(),
                vips: cfg.virtual_addresses.clone(),
                ..Default::default()
            }
        })
        .collect();
    status.update(|st| st.instances = instances);
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
    spec
}

/// Opens the interface's raw socket and starts its receive thread.
fn open_link(nl: &Netlink, name: &str, tx: Sender<Event>, id: usize) -> anyhow::Result<Link> {
    let l = nl.link(name).with_context(|| format!("interface {name}"))?;
    let primary = nl
        .addresses()?
        .into_iter()
        .find_map(|a| match a.addr {
            IpAddr::V4(v4) if a.index == l.index => Some(v4),
            _ => None,
        })
        .with_context(|| format!("interface {name} has no IPv4 address"))?;
    let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))
        .context("open a raw IP protocol 112 socket (needs CAP_NET_RAW)")?;
    sock.bind_device(Some(name.as_bytes()))?;
    sock.join_multicast_v4_n(
        &VRRP_IPV4_MULTICAST,
        &InterfaceIndexOrAddress::Index(l.index),
    )
    .with_context(|| format!("join 224.0.0.18 on {name}"))?;
    sock.set_multicast_if_v4(&primary)?;
    sock.set_multicast_loop_v4(false)?;
    sock.set_multicast_ttl_v4(255)?;
    sock.set_ttl_v4(255)?;
    sock.set_header_included_v4(true)?;
    let socket = Arc::new(sock);
    let rx_sock = Arc::clone(&socket);
    let ifname = name.to_owned();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            match (&*rx_sock).read(&mut buf) {
                Ok(n) => {
                    let ev = Event::Packet {
                        link: id,
                        data: buf[..n].to_vec(),
                    };
                    if tx.send(ev).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    error!(interface = %ifname, error = %e, "receive");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    });
    Ok(Link {
        name: name.to_owned(),
        mac: l.mac.unwrap_or(MacAddr([0; 6])),
        primary,
        announcer: Announcer::new(l.index, name)?,
        socket,
    })
}

/// A datagram from `link` → validation → the instance with its VRID.
fn receive(slots: &mut [Slot], link: usize, data: &[u8], now: Instant) {
    let dg = match Datagram::parse_ipv4(data) {
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
        Err(e) => {
            s.rejected += 1;
            debug!(instance = %s.name, src = %dg.src, error = %e, rejected = s.rejected, "advert rejected");
            s.vm.handle_input(now, Input::Rejected((&e).into()));
        }
    }
}

/// Carries out every pending output of one instance.
fn drain(s: &mut Slot, links: &[Link], nl: &Netlink) {
    let link = &links[s.link];
    let mut buf = [0u8; 1500];
    while let Some(out) = s.vm.poll_output() {
        match out {
            Output::Transmit(t) => {
                let repr = t.advert.repr();
                let env = Envelope::new(IpAddr::V4(link.primary), t.dst, repr.version);
                let sent = vrrp_packet::emit_ip(&repr, &env, &mut buf)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .and_then(|n| {
                        let dst: SocketAddr = match t.dst {
                            IpAddr::V4(d) => SocketAddrV4::new(d, 0).into(),
                            IpAddr::V6(_) => bail!("IPv6 destination"),
                        };
                        Ok(link.socket.send_to(&buf[..n], &SockAddr::from(dst))?)
                    });
                if let Err(e) = sent {
                    warn!(instance = %s.name, dst = %t.dst, error = %e, "advert not sent");
                }
            }
            Output::Announce(a) => {
                for addr in a.addresses.iter() {
                    let IpAddr::V4(ip) = addr else { continue };
                    for _ in 0..a.count {
                        if let Err(e) = link.announcer.garp(link.mac, *ip, GarpKind::Request) {
                            warn!(instance = %s.name, vip = %ip, error = %e, "gratuitous ARP");
                        }
                    }
                }
                debug!(instance = %s.name, count = a.count, "gratuitous ARPs sent");
            }
            Output::AddAddresses(addrs) => {
                for a in addrs.iter() {
                    let Some(spec) = s.vips.get(a) else { continue };
                    match nl.ensure_address(spec) {
                        Ok(_) => {
                            info!(instance = %s.name, vip = %a, dev = %spec.iface, "VIP added")
                        }
                        Err(e) => error!(instance = %s.name, vip = %a, error = %e, "VIP not added"),
                    }
                }
            }
            Output::RemoveAddresses(addrs) => {
                for a in addrs.iter() {
                    let Some(spec) = s.vips.get(a) else { continue };
                    match nl.remove_address(&spec.iface, *a) {
                        Ok(_) => info!(instance = %s.name, vip = %a, "VIP removed"),
                        Err(e) => {
                            error!(instance = %s.name, vip = %a, error = %e, "VIP not removed")
                        }
                    }
                }
            }
            Output::StateChange(c) => {
                info!(instance = %s.name, from = %c.from, to = %c.to, reason = %c.reason,
                    "Entering {} STATE", c.to.as_str().to_uppercase());
            }
            Output::Notify(n) => notify(s, &n),
            _ => {}
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
