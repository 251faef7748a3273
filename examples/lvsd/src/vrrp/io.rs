//! One interface and address family: its raw IP protocol 112 socket, the thread that reads it,
//! sending adverts, and its announcer (gratuitous ARP / unsolicited NA).
//!
//! * IPv4: the socket returns the IP header, so the TTL is read from it (`vrrp-packet` checks
//!   it); adverts are built header included (`IP_HDRINCL`) with the instance's source address.
//! * IPv6: the kernel strips the header, so the hop limit (`IPV6_RECVHOPLIMIT`), the destination
//!   and the receive interface (`IPV6_RECVPKTINFO`) come from control messages; adverts go out
//!   with hop limit 255 from the instance's source address (the interface's link-local one by
//!   default), set per packet with `IPV6_PKTINFO`.
//!
//! Both families check the receive interface (`IP_PKTINFO` / `IPV6_PKTINFO`) on top of
//! `SO_BINDTODEVICE`: a datagram from another interface is dropped and counted.

use std::io::IoSliceMut;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::Duration;

use anyhow::{Context, bail};
use lvs_vip::{Announcer, GarpKind, MacAddr, Netlink};
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, recvmsg, sendmsg,
    setsockopt, sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use tracing::{debug, error, warn};
use vrrp_packet::{Datagram, Envelope, Repr, VRRP_IPV4_MULTICAST, VRRP_IPV6_MULTICAST};

/// A datagram read from a link, with what the socket told about it.
#[derive(Debug)]
pub(super) struct Rx {
    /// The link it came from.
    pub(super) link: usize,
    /// IPv4: the whole datagram; IPv6: the VRRP message.
    pub(super) data: Vec<u8>,
    /// IPv6 only: source, destination, hop limit (0 when the kernel did not say).
    pub v6: Option<(Ipv6Addr, Ipv6Addr, u8)>,
    /// When the receive thread read it.
    pub(super) at: std::time::Instant,
}

impl Rx {
    /// The datagram as `vrrp-packet` sees it.
    pub(super) fn datagram(&self) -> Result<Datagram<'_>, vrrp_packet::DatagramError> {
        match self.v6 {
            None => Datagram::parse_ipv4(&self.data),
            Some((src, dst, hops)) => Ok(Datagram::new(
                IpAddr::V6(src),
                IpAddr::V6(dst),
                hops,
                &self.data,
            )),
        }
    }
}

/// One (interface, family).
#[derive(Debug)]
pub(super) struct Link {
    pub(super) name: String,
    pub(super) index: u32,
    pub v6: bool,
    pub(super) mac: MacAddr,
    /// The default advert source: the primary IPv4 address, or the IPv6 link-local address.
    pub(super) primary: IpAddr,
    socket: Arc<Socket>,
    announcer: Announcer,
    /// Datagrams that arrived through another interface.
    pub(super) wrong_interface: Arc<AtomicU64>,
}

impl Link {
    /// Opens the raw socket of (`name`, family) and starts its receive thread, which sends
    /// every datagram to `tx` as `wrap(Rx)`. The default advert source is the address of
    /// `addr_from` (the interface itself, or a VMAC's parent).
    pub(super) fn open<E: Send + 'static>(
        nl: &Netlink,
        name: &str,
        addr_from: &str,
        v6: bool,
        id: usize,
        tx: Sender<E>,
        wrap: fn(Rx) -> E,
    ) -> anyhow::Result<Self> {
        let l = nl.link(name).with_context(|| format!("interface {name}"))?;
        let from = nl
            .link(addr_from)
            .with_context(|| format!("interface {addr_from}"))?;
        let addrs = nl.addresses()?;
        let own_v4 = addrs.iter().any(|a| a.index == l.index && a.addr.is_ipv4());
        let primary = addrs
            .iter()
            .filter(|a| a.index == from.index)
            .find_map(|a| match a.addr {
                IpAddr::V4(v4) if !v6 => Some(IpAddr::V4(v4)),
                IpAddr::V6(a) if v6 && a.is_unicast_link_local() => Some(IpAddr::V6(a)),
                _ => None,
            })
            .with_context(|| {
                let what = if v6 { "IPv6 link-local" } else { "IPv4" };
                format!("interface {addr_from} has no {what} address")
            })?;
        let sock = if v6 {
            let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(112)))
                .context("open a raw IPv6 protocol 112 socket (needs CAP_NET_RAW)")?;
            s.bind_device(Some(name.as_bytes()))?;
            s.join_multicast_v6(&VRRP_IPV6_MULTICAST, l.index)
                .with_context(|| format!("join ff02::12 on {name}"))?;
            s.set_multicast_if_v6(l.index)?;
            s.set_multicast_loop_v6(false)?;
            s.set_multicast_hops_v6(255)?;
            s.set_unicast_hops_v6(255)?;
            setsockopt(&s, sockopt::Ipv6RecvHopLimit, &true)?;
            setsockopt(&s, sockopt::Ipv6RecvPacketInfo, &true)?;
            setsockopt(&s, sockopt::ReceiveTimestampns, &true)?;
            s
        } else {
            let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))
                .context("open a raw IP protocol 112 socket (needs CAP_NET_RAW)")?;
            s.bind_device(Some(name.as_bytes()))?;
            s.join_multicast_v4_n(
                &VRRP_IPV4_MULTICAST,
                &InterfaceIndexOrAddress::Index(l.index),
            )
            .with_context(|| format!("join 224.0.0.18 on {name}"))?;
            // A VMAC has no address of its own: the bound device alone picks the way out.
            s.set_multicast_if_v4(match &primary {
                IpAddr::V4(a) if own_v4 => a,
                _ => &Ipv4Addr::UNSPECIFIED,
            })?;
            s.set_multicast_loop_v4(false)?;
            s.set_multicast_ttl_v4(255)?;
            s.set_ttl_v4(255)?;
            s.set_header_included_v4(true)?;
            setsockopt(&s, sockopt::Ipv4PacketInfo, &true)?;
            setsockopt(&s, sockopt::ReceiveTimestampns, &true)?;
            s
        };
        let socket = Arc::new(sock);
        let wrong_interface = Arc::new(AtomicU64::new(0));
        let reader = Reader {
            socket: Arc::clone(&socket),
            ifname: name.to_owned(),
            index: l.index,
            v6,
            id,
            wrong_interface: Arc::clone(&wrong_interface),
        };
        std::thread::Builder::new()
            .name(format!("vrrp-rx-{name}"))
            .spawn(move || reader.run(&tx, wrap))
            .context("start a receive thread")?;
        Ok(Self {
            name: name.to_owned(),
            index: l.index,
            v6,
            mac: l.mac.unwrap_or(MacAddr([0; 6])),
            primary,
            announcer: Announcer::new(l.index, name)?,
            socket,
            wrong_interface,
        })
    }

    /// Sends one advert from `src` to `dst` (TTL / hop limit 255).
    pub(super) fn send(&self, repr: &Repr<'_>, src: IpAddr, dst: IpAddr) -> anyhow::Result<()> {
        let mut buf = [0u8; 1500];
        let env = Envelope::new(src, dst, repr.version);
        let n = vrrp_packet::emit_ip(repr, &env, &mut buf).map_err(|e| anyhow::anyhow!("{e}"))?;
        match (src, dst) {
            (IpAddr::V4(_), IpAddr::V4(d)) => {
                let to = SockAddr::from(SocketAddrV4::new(d, 0));
                self.socket.send_to(&buf[..n], &to)?;
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let scope = if d.is_multicast() || d.is_unicast_link_local() {
                    self.index
                } else {
                    0
                };
                let to = SockaddrIn6::from(SocketAddrV6::new(d, 0, 0, scope));
                let info = nix::libc::in6_pktinfo {
                    ipi6_addr: nix::libc::in6_addr {
                        s6_addr: s.octets(),
                    },
                    ipi6_ifindex: self.index,
                };
                let iov = [std::io::IoSlice::new(&buf[vrrp_packet::IPV6_HEADER_LEN..n])];
                sendmsg(
                    self.socket.as_raw_fd(),
                    &iov,
                    &[ControlMessage::Ipv6PacketInfo(&info)],
                    MsgFlags::empty(),
                    Some(&to),
                )?;
            }
            _ => bail!("source {src} and destination {dst} of different families"),
        }
        Ok(())
    }

    /// Announces `addr` once: a gratuitous ARP (IPv4) or an unsolicited NA (IPv6).
    pub(super) fn announce(&self, addr: IpAddr) -> anyhow::Result<()> {
        match addr {
            IpAddr::V4(ip) => self.announcer.garp(self.mac, ip, GarpKind::Request)?,
            IpAddr::V6(ip) => self.announcer.na(self.mac, ip, false)?,
        }
        Ok(())
    }
}

/// The receive side of a link, on its own thread.
struct Reader {
    socket: Arc<Socket>,
    ifname: String,
    index: u32,
    v6: bool,
    id: usize,
    wrong_interface: Arc<AtomicU64>,
}

impl Reader {
    fn run<E>(self, tx: &Sender<E>, wrap: fn(Rx) -> E) {
        let mut buf = vec![0u8; 65536];
        loop {
            match self.recv(&mut buf) {
                Ok(Some(rx)) => {
                    if tx.send(wrap(rx)).is_err() {
                        break;
                    }
                }
                Ok(None) => {}
                Err(nix::errno::Errno::ENODEV | nix::errno::Errno::ENXIO) => {
                    // The interface is gone (a VMAC removed): so is this link.
                    debug!(interface = %self.ifname, "interface gone: receive thread ends");
                    break;
                }
                Err(e) => {
                    error!(interface = %self.ifname, error = %e, "receive");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// One datagram; `None` when it is dropped here (another interface).
    fn recv(&self, buf: &mut [u8]) -> nix::Result<Option<Rx>> {
        let mut cmsg = nix::cmsg_space!(
            nix::libc::in6_pktinfo,
            nix::libc::c_int,
            nix::libc::timespec
        );
        let fd = self.socket.as_raw_fd();
        let mut iov = [IoSliceMut::new(buf)];
        let mut stamp = None;
        let (len, ifindex, v6) = if self.v6 {
            let msg = recvmsg::<SockaddrIn6>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty())?;
            let (mut hops, mut dst, mut ifindex) = (0u8, Ipv6Addr::UNSPECIFIED, None);
            for c in msg.cmsgs()? {
                match c {
                    ControlMessageOwned::ScmTimestampns(ts) => stamp = Some(ts),
                    ControlMessageOwned::Ipv6HopLimit(h) => hops = u8::try_from(h).unwrap_or(0),
                    ControlMessageOwned::Ipv6PacketInfo(i) => {
                        dst = Ipv6Addr::from(i.ipi6_addr.s6_addr);
                        ifindex = Some(i.ipi6_ifindex);
                    }
                    _ => {}
                }
            }
            let src = msg.address.map_or(Ipv6Addr::UNSPECIFIED, |a| a.ip());
            (msg.bytes, ifindex, Some((src, dst, hops)))
        } else {
            let msg = recvmsg::<SockaddrIn>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty())?;
            let mut ifindex = None;
            for c in msg.cmsgs()? {
                match c {
                    ControlMessageOwned::Ipv4PacketInfo(i) => {
                        ifindex = u32::try_from(i.ipi_ifindex).ok();
                    }
                    ControlMessageOwned::ScmTimestampns(ts) => stamp = Some(ts),
                    _ => {}
                }
            }
            (msg.bytes, ifindex, None)
        };
        if ifindex.is_some_and(|i| i != self.index) {
            let n = self.wrong_interface.fetch_add(1, Ordering::Relaxed) + 1;
            debug!(interface = %self.ifname, ifindex = ?ifindex, dropped = n,
                "datagram from another interface dropped");
            return Ok(None);
        }
        if ifindex.is_none() {
            warn!(interface = %self.ifname, "no packet info from the kernel");
        }
        Ok(Some(Rx {
            link: self.id,
            data: buf[..len].to_vec(),
            v6,
            at: arrival(stamp),
        }))
    }
}

/// When a datagram arrived, on the monotonic clock: now, less the age the kernel's receive
/// timestamp (`SO_TIMESTAMPNS`, wall clock) gives it, so the time this thread took to wake up
/// does not delay the timers that start from it. Without a timestamp, or with an age the wall
/// clock cannot vouch for (negative, or over a second: the clock was just set), now.
fn arrival(stamp: Option<nix::sys::time::TimeSpec>) -> std::time::Instant {
    // The wall clock first: the age comes out short by the time between the two readings
    // rather than long, so a timer never starts before the datagram arrived.
    let wall = std::time::SystemTime::now();
    let now = std::time::Instant::now();
    let age = stamp.and_then(|ts| {
        let at = std::time::UNIX_EPOCH.checked_add(Duration::from(ts))?;
        wall.duration_since(at).ok()
    });
    age.filter(|a| *a < Duration::from_secs(1))
        .and_then(|a| now.checked_sub(a))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use nix::sys::time::TimeSpec;

    use super::arrival;

    fn stamp(at: SystemTime) -> Option<TimeSpec> {
        Some(TimeSpec::from_duration(
            at.duration_since(UNIX_EPOCH).unwrap(),
        ))
    }

    #[test]
    fn arrival_is_now_less_the_kernel_stamps_age() {
        // The datagram arrived 500 ms before `sent` was read, between `before` and `after`.
        let age = Duration::from_millis(500);
        let before = Instant::now();
        let sent = stamp(SystemTime::now() - age);
        let after = Instant::now();
        let at = arrival(sent);
        // The clocks are read at slightly different times: a generous slack, still far
        // from the half second a missing correction would leave.
        let slack = Duration::from_millis(100);
        assert!(at + age + slack >= before, "{at:?} {before:?}");
        assert!(at + age <= after + slack, "{at:?} {after:?}");
    }

    #[test]
    fn arrival_ignores_stamps_the_wall_clock_cannot_vouch_for() {
        for s in [
            None,
            stamp(SystemTime::now() + Duration::from_secs(5)),
            stamp(SystemTime::now() - Duration::from_secs(5)),
        ] {
            let before = Instant::now();
            let at = arrival(s);
            assert!(at >= before && at <= Instant::now(), "{s:?}");
        }
    }
}
