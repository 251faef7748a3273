//! A synchronous, idempotent facade over rtnetlink: links, addresses, routes, macvlan VMACs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::TryStreamExt;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use rtnetlink::packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteScope, RouteType,
};
use rtnetlink::{Handle, LinkMacVlan, LinkUnspec, RouteMessageBuilder};

use crate::error::{Error, netlink_error};
use crate::mac::{Family, MacAddr};

/// Whether an `ensure_*` / `remove_*` call changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum Outcome {
    /// The kernel state was changed.
    Changed,
    /// It already was as wanted.
    Unchanged,
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The interface index.
    pub index: u32,
    /// The name.
    pub name: String,
    /// The hardware address (Ethernet-like links only).
    pub mac: Option<MacAddr>,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// The link kind (`macvlan`, `veth`, `ipip`, ...), if the kernel reports one.
    pub kind: Option<String>,
    /// The parent interface's index (`IFLA_LINK`), for macvlan and similar.
    pub parent: Option<u32>,
    /// The macvlan mode, for macvlan links.
    pub macvlan_mode: Option<MacvlanMode>,
}

/// Address scope (`ip address ... scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AddrScope {
    /// `global` (universe).
    #[default]
    Global,
    /// `site`.
    Site,
    /// `link`.
    Link,
    /// `host`.
    Host,
    /// Any other value.
    Other(u8),
}

impl From<AddressScope> for AddrScope {
    fn from(s: AddressScope) -> Self {
        // RT_SCOPE_* values (include/uapi/linux/rtnetlink.h).
        match u8::from(s) {
            0 => Self::Global,
            200 => Self::Site,
            253 => Self::Link,
            254 => Self::Host,
            v => Self::Other(v),
        }
    }
}

impl From<AddrScope> for AddressScope {
    fn from(s: AddrScope) -> Self {
        Self::from(match s {
            AddrScope::Global => 0,
            AddrScope::Site => 200,
            AddrScope::Link => 253,
            AddrScope::Host => 254,
            AddrScope::Other(v) => v,
        })
    }
}

/// An address configured on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The interface's name.
    pub iface: String,
    /// The interface's index.
    pub index: u32,
    /// The address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// The label (`lo:0`); IPv4 only.
    pub label: Option<String>,
    /// Its scope.
    pub scope: AddrScope,
    /// The broadcast address (IPv4).
    pub broadcast: Option<Ipv4Addr>,
}

/// An address to ensure, as `ip address add ADDR/PREFIX [brd B] [scope S] [label L] dev IFACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    /// The interface.
    pub iface: String,
    /// The address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Label (IPv4): must be the interface name or start with `<iface>:`.
    pub label: Option<String>,
    /// Scope.
    pub scope: AddrScope,
    /// Broadcast address (IPv4).
    pub broadcast: Option<Ipv4Addr>,
}

impl AddressSpec {
    /// A VIP: `/32` (IPv4) or `/128` (IPv6), scope global, on `iface`.
    pub fn vip(iface: &str, addr: IpAddr) -> Self {
        Self {
            iface: iface.to_owned(),
            addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
            label: None,
            scope: AddrScope::Global,
            broadcast: None,
        }
    }

    /// With a label such as `lo:0`.
    pub fn label(mut self, label: &str) -> Self {
        self.label = Some(label.to_owned());
        self
    }

    /// With a scope.
    pub fn scope(mut self, scope: AddrScope) -> Self {
        self.scope = scope;
        self
    }

    /// With a broadcast address (the seed's `broadcast $VIP` for tunl0).
    pub fn broadcast(mut self, brd: Ipv4Addr) -> Self {
        self.broadcast = Some(brd);
        self
    }

    /// With another prefix length.
    pub fn prefix(mut self, prefix: u8) -> Self {
        self.prefix = prefix;
        self
    }

    fn matches(&self, a: &Address) -> bool {
        a.addr == self.addr
            && a.prefix == self.prefix
            && a.scope == self.scope
            && (self.label.is_none() || a.label == self.label)
            && (self.broadcast.is_none() || a.broadcast == self.broadcast)
    }
}

/// The macvlan modes a VRRP VMAC uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacvlanMode {
    /// `private`: what keepalived creates.
    Private,
    /// `bridge`: macvlans on the same parent can talk to each other.
    Bridge,
    /// Another mode (vepa, passthru, source).
    Other,
}

/// A VRRP virtual-MAC interface to ensure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacSpec {
    /// Its name (such as `vrrp.51`).
    pub name: String,
    /// The interface it sits on.
    pub parent: String,
    /// Its MAC.
    pub mac: MacAddr,
    /// The macvlan mode.
    pub mode: MacvlanMode,
}

impl VmacSpec {
    /// The VMAC of VRRP router `vrid` for `family` on `parent`.
    pub fn vrrp(name: &str, parent: &str, family: Family, vrid: u8, mode: MacvlanMode) -> Self {
        Self {
            name: name.to_owned(),
            parent: parent.to_owned(),
            mac: MacAddr::vrrp(family, vrid),
            mode,
        }
    }
}

/// A synchronous rtnetlink handle bound to the network namespace of the thread that creates it.
///
/// It owns a single-threaded tokio runtime and blocks on each request, so it must not be used
/// from inside an async runtime's worker (use `spawn_blocking`, or a dedicated thread). Every
/// `ensure_*` / `remove_*` call reads the kernel state first and changes only what differs,
/// returning [`Outcome`].
///
/// ```no_run
/// use lvs_vip::{AddressSpec, Netlink};
/// let nl = Netlink::new()?;
/// let vip = "192.0.2.10".parse()?;
/// nl.ensure_address(&AddressSpec::vip("lo", vip).label("lo:0"))?; // ip addr add VIP/32 dev lo label lo:0
/// assert_eq!(nl.ensure_address(&AddressSpec::vip("lo", vip).label("lo:0"))?, lvs_vip::Outcome::Unchanged);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Netlink {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) handle: Handle,
}

impl Netlink {
    /// Opens a netlink socket in the calling thread's network namespace.
    pub fn new() -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|source| Error::Io {
                op: "start the netlink runtime".into(),
                hint: "",
                source,
            })?;
        let (conn, handle, _) =
            rt.block_on(async { rtnetlink::new_connection() })
                .map_err(|source| Error::Io {
                    op: "open a NETLINK_ROUTE socket".into(),
                    hint: "",
                    source,
                })?;
        rt.spawn(conn);
        Ok(Self { rt, handle })
    }

    /// Every interface.
    pub fn links(&self) -> Result<Vec<Link>, Error> {
        let msgs: Vec<LinkMessage> = self
            .rt
            .block_on(self.handle.link().get().execute().try_collect())
            .map_err(|e| netlink_error("list links".into(), e))?;
        Ok(msgs.into_iter().map(parse_link).collect())
    }

    /// The interface called `name`.
    pub fn link(&self, name: &str) -> Result<Link, Error> {
        self.links()?
            .into_iter()
            .find(|l| l.name == name)
            .ok_or_else(|| Error::NoSuchInterface(name.to_owned()))
    }

    /// Sets the interface administratively up or down.
    pub fn set_up(&self, name: &str, up: bool) -> Result<Outcome, Error> {
        let link = self.link(name)?;
        if link.up == up {
            return Ok(Outcome::Unchanged);
        }
        let b = LinkUnspec::new_with_index(link.index);
        let msg = if up { b.up() } else { b.down() }.build();
        let op = format!("set {name} {}", if up { "up" } else { "down" });
        self.rt
            .block_on(self.handle.link().set(msg).execute())
            .map_err(|e| netlink_error(op, e))?;
        Ok(Outcome::Changed)
    }

    /// Every address on every interface.
    pub fn addresses(&self) -> Result<Vec<Address>, Error> {
        let links = self.links()?;
        let msgs: Vec<AddressMessage> = self
            .rt
            .block_on(self.handle.address().get().execute().try_collect())
            .map_err(|e| netlink_error("list addresses".into(), e))?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| parse_address(m, &links))
            .collect())
    }

    /// Makes sure exactly `spec` is configured: adds it if missing; if the address is there with
    /// another prefix, label, scope or broadcast (a VIP on `lo` as /24, say), replaces it.
    pub fn ensure_address(&self, spec: &AddressSpec) -> Result<Outcome, Error> {
        let link = self.link(&spec.iface)?;
        let existing: Vec<Address> = self
            .addresses()?
            .into_iter()
            .filter(|a| a.index == link.index && a.addr == spec.addr)
            .collect();
        if existing.len() == 1 && spec.matches(&existing[0]) {
            return Ok(Outcome::Unchanged);
        }
        for a in &existing {
            self.delete_address(a)?;
        }
        let op = format!(
            "add address {}/{} on {}",
            spec.addr, spec.prefix, spec.iface
        );
        let mut req = self
            .handle
            .address()
            .add(link.index, spec.addr, spec.prefix);
        let msg = req.message_mut();
        msg.header.scope = spec.scope.into();
        if let Some(label) = &spec.label {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
        if let Some(brd) = spec.broadcast {
            msg.attributes
                .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
            msg.attributes.push(AddressAttribute::Broadcast(brd));
        }
        self.rt
            .block_on(req.execute())
            .map_err(|e| netlink_error(op, e))?;
        Ok(Outcome::Changed)
    }

    /// Removes `addr` (any prefix) from `iface`. A missing address or interface is
    /// [`Outcome::Unchanged`].
    pub fn remove_address(&self, iface: &str, addr: IpAddr) -> Result<Outcome, Error> {
        let found: Vec<Address> = self
            .addresses()?
            .into_iter()
            .filter(|a| a.iface == iface && a.addr == addr)
            .collect();
        for a in &found {
            self.delete_address(a)?;
        }
        Ok(if found.is_empty() {
            Outcome::Unchanged
        } else {
            Outcome::Changed
        })
    }

    fn delete_address(&self, a: &Address) -> Result<(), Error> {
        let mut msg = AddressMessage::default();
        msg.header.family = family_of(a.addr);
        msg.header.prefix_len = a.prefix;
        msg.header.index = a.index;
        msg.attributes.push(AddressAttribute::Local(a.addr));
        msg.attributes.push(AddressAttribute::Address(a.addr));
        let op = format!("delete address {}/{} from {}", a.addr, a.prefix, a.iface);
        self.rt
            .block_on(self.handle.address().del(msg).execute())
            .map_err(|e| netlink_error(op, e))
    }

    fn routes(&self) -> Result<Vec<RouteMessage>, Error> {
        let mut out = Vec::new();
        for v6 in [false, true] {
            let filter = if v6 {
                RouteMessageBuilder::<Ipv6Addr>::new().build()
            } else {
                RouteMessageBuilder::<Ipv4Addr>::new().build()
            };
            let msgs: Vec<RouteMessage> = self
                .rt
                .block_on(self.handle.route().get(filter).execute().try_collect())
                .map_err(|e| netlink_error("list routes".into(), e))?;
            out.extend(msgs);
        }
        Ok(out)
    }

    /// The gateways of the default routes in the main table (both families).
    pub fn default_gateways(&self) -> Result<Vec<IpAddr>, Error> {
        Ok(self
            .routes()?
            .iter()
            .filter(|r| is_main(r) && r.header.destination_prefix_length == 0)
            .filter_map(route_gateway)
            .collect())
    }

    /// Makes `gw` the only default gateway of its family (`ip route replace default via GW`).
    pub fn ensure_default_route(&self, gw: IpAddr) -> Result<Outcome, Error> {
        let same: Vec<IpAddr> = self
            .default_gateways()?
            .into_iter()
            .filter(|g| g.is_ipv4() == gw.is_ipv4())
            .collect();
        if same == [gw] {
            return Ok(Outcome::Unchanged);
        }
        let msg = match gw {
            IpAddr::V4(g) => RouteMessageBuilder::<Ipv4Addr>::new().gateway(g).build(),
            IpAddr::V6(g) => RouteMessageBuilder::<Ipv6Addr>::new().gateway(g).build(),
        };
        let op = format!("set the default route via {gw}");
        self.rt
            .block_on(self.handle.route().add(msg).replace().execute())
            .map_err(|e| netlink_error(op, e))?;
        Ok(Outcome::Changed)
    }

    /// Removes the default route via `gw`, if present.
    pub fn remove_default_route(&self, gw: IpAddr) -> Result<Outcome, Error> {
        let routes = self.routes()?;
        let found: Vec<&RouteMessage> = routes
            .iter()
            .filter(|r| is_main(r) && r.header.destination_prefix_length == 0)
            .filter(|r| route_gateway(r) == Some(gw))
            .collect();
        for r in &found {
            let op = format!("delete the default route via {gw}");
            self.rt
                .block_on(self.handle.route().del((*r).clone()).execute())
                .map_err(|e| netlink_error(op, e))?;
        }
        Ok(if found.is_empty() {
            Outcome::Unchanged
        } else {
            Outcome::Changed
        })
    }

    /// Ensures a host route to `dest` through `dev` (`route add -host DEST dev DEV`, scope link).
    pub fn ensure_host_route(&self, dest: IpAddr, dev: &str) -> Result<Outcome, Error> {
        let link = self.link(dev)?;
        let full = if dest.is_ipv4() { 32 } else { 128 };
        let exists = self.routes()?.iter().any(|r| {
            is_main(r)
                && r.header.destination_prefix_length == full
                && route_destination(r) == Some(dest)
                && route_oif(r) == Some(link.index)
        });
        if exists {
            return Ok(Outcome::Unchanged);
        }
        let msg = match dest {
            IpAddr::V4(d) => RouteMessageBuilder::<Ipv4Addr>::new()
                .destination_prefix(d, 32)
                .output_interface(link.index)
                .scope(RouteScope::Link)
                .build(),
            IpAddr::V6(d) => RouteMessageBuilder::<Ipv6Addr>::new()
                .destination_prefix(d, 128)
                .output_interface(link.index)
                .build(),
        };
        let op = format!("add a host route to {dest} via {dev}");
        self.rt
            .block_on(self.handle.route().add(msg).execute())
            .map_err(|e| netlink_error(op, e))?;
        Ok(Outcome::Changed)
    }

    /// Removes the host route to `dest` through `dev`, if present.
    pub fn remove_host_route(&self, dest: IpAddr, dev: &str) -> Result<Outcome, Error> {
        let Ok(link) = self.link(dev) else {
            return Ok(Outcome::Unchanged);
        };
        let full = if dest.is_ipv4() { 32 } else { 128 };
        let routes = self.routes()?;
        let found: Vec<&RouteMessage> = routes
            .iter()
            .filter(|r| {
                is_main(r)
                    && r.header.destination_prefix_length == full
                    && route_destination(r) == Some(dest)
                    && route_oif(r) == Some(link.index)
            })
            .collect();
        for r in &found {
            let op = format!("delete the host route to {dest} via {dev}");
            self.rt
                .block_on(self.handle.route().del((*r).clone()).execute())
                .map_err(|e| netlink_error(op, e))?;
        }
        Ok(if found.is_empty() {
            Outcome::Unchanged
        } else {
            Outcome::Changed
        })
    }

    /// Creates the macvlan VMAC if missing. It is created down: apply the VMAC sysctls
    /// (lvs-sysctl `Profile::Vmac`) first, then [`Netlink::set_up`]. An existing interface
    /// with the name but another kind, parent, MAC or mode is a [`Error::Conflict`].
    pub fn ensure_macvlan(&self, spec: &VmacSpec) -> Result<Outcome, Error> {
        let parent = self.link(&spec.parent)?;
        if let Ok(existing) = self.link(&spec.name) {
            let mut diffs = Vec::new();
            if existing.kind.as_deref() != Some("macvlan") {
                diffs.push(format!(
                    "is a {} link",
                    existing.kind.as_deref().unwrap_or("plain")
                ));
            }
            if existing.parent != Some(parent.index) {
                diffs.push(format!("is not on {}", spec.parent));
            }
            if existing.mac != Some(spec.mac) {
                let mac = existing
                    .mac
                    .map_or_else(|| "none".to_owned(), |m| m.to_string());
                diffs.push(format!("has MAC {mac}, not {}", spec.mac));
            }
            if existing.macvlan_mode != Some(spec.mode) {
                diffs.push(format!("is not in {:?} mode", spec.mode));
            }
            if diffs.is_empty() {
                return Ok(Outcome::Unchanged);
            }
            return Err(Error::Conflict {
                name: spec.name.clone(),
                detail: diffs.join(", "),
            });
        }
        let mode = match spec.mode {
            MacvlanMode::Private => MacVlanMode::Private,
            MacvlanMode::Bridge | MacvlanMode::Other => MacVlanMode::Bridge,
        };
        let msg = LinkMacVlan::new(&spec.name, parent.index, mode)
            .address(spec.mac.0.to_vec())
            .build();
        let op = format!(
            "create macvlan {} ({}) on {}",
            spec.name, spec.mac, spec.parent
        );
        self.rt
            .block_on(self.handle.link().add(msg).execute())
            .map_err(|e| netlink_error(op, e))?;
        Ok(Outcome::Changed)
    }

    /// Deletes the interface `name`, if it exists.
    pub fn remove_link(&self, name: &str) -> Result<Outcome, Error> {
        let Ok(link) = self.link(name) else {
            return Ok(Outcome::Unchanged);
        };
        let op = format!("delete interface {name}");
        self.rt
            .block_on(self.handle.link().del(link.index).execute())
            .map_err(|e| netlink_error(op, e))?;
        Ok(Outcome::Changed)
    }

    /// What the seed's `lvs_tun.sh start` does, idempotently: `tunl0` up, the VIP on it as /32
    /// with itself as broadcast, and a host route to the VIP through `tunl0`.
    pub fn ensure_tunl0_vip(&self, vip: Ipv4Addr) -> Result<Outcome, Error> {
        const TUNL0: &str = "tunl0";
        if let Err(Error::NoSuchInterface(_)) = self.link(TUNL0) {
            return Err(Error::Netlink {
                op: format!("put {vip} on tunl0"),
                errno: libc::ENODEV,
                meaning: std::io::Error::from_raw_os_error(libc::ENODEV).to_string(),
                hint: "tunl0 does not exist: load the ipip module (modprobe ipip)",
            });
        }
        let a = self.set_up(TUNL0, true)?;
        let b = self.ensure_address(&AddressSpec::vip(TUNL0, IpAddr::V4(vip)).broadcast(vip))?;
        let c = self.ensure_host_route(IpAddr::V4(vip), TUNL0)?;
        Ok(if [a, b, c].contains(&Outcome::Changed) {
            Outcome::Changed
        } else {
            Outcome::Unchanged
        })
    }

    /// Addresses and default gateways as lvs-sysctl's diagnostics take them.
    pub fn host_facts(&self) -> Result<lvs_sysctl::HostFacts, Error> {
        let addresses = self
            .addresses()?
            .into_iter()
            .filter_map(|a| {
                Some(lvs_sysctl::AddrFact {
                    iface: lvs_sysctl::IfName::new(&a.iface).ok()?,
                    addr: a.addr,
                    prefix: a.prefix,
                })
            })
            .collect();
        Ok(lvs_sysctl::HostFacts {
            addresses,
            default_gateways: self.default_gateways()?,
        })
    }
}

fn family_of(a: IpAddr) -> rtnetlink::packet_route::AddressFamily {
    if a.is_ipv4() {
        rtnetlink::packet_route::AddressFamily::Inet
    } else {
        rtnetlink::packet_route::AddressFamily::Inet6
    }
}

fn parse_link(m: LinkMessage) -> Link {
    let mut link = Link {
        index: m.header.index,
        name: String::new(),
        mac: None,
        up: m.header.flags.contains(LinkFlags::Up),
        kind: None,
        parent: None,
        macvlan_mode: None,
    };
    for a in m.attributes {
        match a {
            LinkAttribute::IfName(n) => link.name = n,
            LinkAttribute::Address(mac) => {
                link.mac = <[u8; 6]>::try_from(mac.as_slice()).ok().map(MacAddr);
            }
            LinkAttribute::Link(p) => link.parent = Some(p),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(k) => link.kind = Some(kind_name(&k)),
                        LinkInfo::Data(InfoData::MacVlan(d)) => {
                            for x in d {
                                if let InfoMacVlan::Mode(mode) = x {
                                    link.macvlan_mode = Some(match mode {
                                        MacVlanMode::Private => MacvlanMode::Private,
                                        MacVlanMode::Bridge => MacvlanMode::Bridge,
                                        _ => MacvlanMode::Other,
                                    });
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    link
}

fn kind_name(k: &InfoKind) -> String {
    match k {
        InfoKind::MacVlan => "macvlan".into(),
        InfoKind::Veth => "veth".into(),
        InfoKind::IpIp => "ipip".into(),
        InfoKind::Bridge => "bridge".into(),
        InfoKind::Dummy => "dummy".into(),
        InfoKind::Vlan => "vlan".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn parse_address(m: AddressMessage, links: &[Link]) -> Option<Address> {
    let index = m.header.index;
    let iface = links.iter().find(|l| l.index == index)?.name.clone();
    let mut local = None;
    let mut address = None;
    let mut label = None;
    let mut broadcast = None;
    for a in m.attributes {
        match a {
            AddressAttribute::Local(ip) => local = Some(ip),
            AddressAttribute::Address(ip) => address = Some(ip),
            AddressAttribute::Label(l) => label = Some(l),
            AddressAttribute::Broadcast(b) => broadcast = Some(b),
            _ => {}
        }
    }
    Some(Address {
        iface,
        index,
        // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on point-to-point).
        addr: local.or(address)?,
        prefix: m.header.prefix_len,
        label,
        scope: m.header.scope.into(),
        broadcast,
    })
}

fn is_main(r: &RouteMessage) -> bool {
    let table = r
        .attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(r.header.table));
    table == u32::from(RouteHeader::RT_TABLE_MAIN) && r.header.kind == RouteType::Unicast
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

fn route_gateway(r: &RouteMessage) -> Option<IpAddr> {
    r.attributes.iter().find_map(|a| match a {
        RouteAttribute::Gateway(g) => ip_of(g),
        _ => None,
    })
}

fn route_destination(r: &RouteMessage) -> Option<IpAddr> {
    r.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(d) => ip_of(d),
        _ => None,
    })
}

fn route_oif(r: &RouteMessage) -> Option<u32> {
    r.attributes.iter().find_map(|a| match a {
        RouteAttribute::Oif(o) => Some(*o),
        _ => None,
    })
}
