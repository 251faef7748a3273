//! Gratuitous ARP and unsolicited neighbour advertisements: frame builders (pure) and an
//! AF_PACKET sender.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, Icmpv6Type, PacketBuilder,
    icmpv6::NeighborAdvertisementHeader,
};
use socket2::{Domain, SockAddr, Socket, Type};

use crate::error::Error;
use crate::mac::MacAddr;

/// The two gratuitous ARP forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GarpKind {
    /// ARP request for the address itself, target hardware address `ff:ff:ff:ff:ff:ff`: what
    /// keepalived sends (`vrrp_arp.c`).
    Request,
    /// Unsolicited ARP reply, target hardware address = the sender's (as `arping -A`).
    Reply,
}

/// Length of an Ethernet + ARP (IPv4 over Ethernet) frame, before padding.
pub const GARP_LEN: usize = 14 + 28;

/// Length of an Ethernet + IPv6 + NA with one target link-layer address option.
pub const NA_LEN: usize = 14 + 40 + 24 + 8;

/// A gratuitous ARP announcing that `ip` is at `mac`: Ethernet broadcast, sender and target
/// protocol address both `ip`.
///
/// ```
/// use lvs_vip::{garp_frame, GarpKind, MacAddr};
/// let mac: MacAddr = "00:00:5e:00:01:33".parse()?;
/// let f = garp_frame(mac, "192.0.2.10".parse()?, GarpKind::Request);
/// assert_eq!(f.len(), 42);
/// assert_eq!(&f[0..6], &[0xff; 6]);          // broadcast
/// assert_eq!(&f[12..14], &[0x08, 0x06]);     // ARP
/// assert_eq!(&f[20..22], &[0x00, 0x01]);     // request
/// assert_eq!(&f[28..32], &[192, 0, 2, 10]);  // sender IP
/// assert_eq!(&f[38..42], &[192, 0, 2, 10]);  // target IP
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn garp_frame(mac: MacAddr, ip: Ipv4Addr, kind: GarpKind) -> Vec<u8> {
    let (op, tha) = match kind {
        GarpKind::Request => (ArpOperation::REQUEST, MacAddr::BROADCAST),
        GarpKind::Reply => (ArpOperation::REPLY, mac),
    };
    let arp = ArpPacket::new(
        ArpHardwareId::ETHERNET,
        EtherType::IPV4,
        op,
        &mac.0,
        &ip.octets(),
        &tha.0,
        &ip.octets(),
    )
    .expect("6-byte hardware and 4-byte protocol addresses are valid");
    let builder = PacketBuilder::ethernet2(mac.0, MacAddr::BROADCAST.0).arp(arp);
    let mut out = Vec::with_capacity(GARP_LEN);
    builder
        .write_to_vec(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// An unsolicited neighbour advertisement (RFC 4861 §7.2.6) announcing that `ip` is at `mac`:
/// to all-nodes `ff02::1` (Ethernet `33:33:00:00:00:01`), from `ip`, hop limit 255, override
/// flag set, solicited flag clear, `router` as given (keepalived sets it when the interface
/// forwards), with a target link-layer address option.
///
/// ```
/// use lvs_vip::{na_frame, MacAddr};
/// let f = na_frame("00:00:5e:00:02:01".parse()?, "2001:db8::10".parse()?, false);
/// assert_eq!(f.len(), 86);
/// assert_eq!(f[54], 136);        // ICMPv6 neighbour advertisement
/// assert_eq!(f[58], 0b0010_0000); // R=0 S=0 O=1
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn na_frame(mac: MacAddr, ip: Ipv6Addr, router: bool) -> Vec<u8> {
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let header = NeighborAdvertisementHeader {
        router,
        solicited: false,
        r#override: true,
    };
    let builder = PacketBuilder::ethernet2(mac.0, MacAddr::ipv6_multicast(all_nodes).0)
        .ipv6(ip.octets(), all_nodes.octets(), 255)
        .icmpv6(Icmpv6Type::NeighborAdvertisement(header));
    // Payload: the target address, then option 2 (target link-layer address), length 1 (8 bytes).
    let mut payload = Vec::with_capacity(24);
    payload.extend_from_slice(&ip.octets());
    payload.extend_from_slice(&[2, 1]);
    payload.extend_from_slice(&mac.0);
    let mut out = Vec::with_capacity(NA_LEN);
    builder
        .write_to_vec(&mut out, &payload)
        .expect("writing to a Vec cannot fail");
    out
}

/// Sends raw Ethernet frames on one interface through an AF_PACKET socket.
///
/// Needs CAP_NET_RAW. Create it on a thread in the network namespace of the interface.
#[derive(Debug)]
pub struct Announcer {
    socket: Socket,
    ifindex: u32,
    ifname: String,
}

impl Announcer {
    /// Opens the socket for the interface with index `ifindex` (`ifname` is used in errors).
    pub fn new(ifindex: u32, ifname: &str) -> Result<Self, Error> {
        // Protocol 0: the socket only sends (it receives nothing).
        let socket = Socket::new(Domain::PACKET, Type::RAW, None).map_err(|e| Error::Io {
            op: format!("open an AF_PACKET socket for {ifname}"),
            hint: io_hint(&e),
            source: e,
        })?;
        Ok(Self {
            socket,
            ifindex,
            ifname: ifname.to_owned(),
        })
    }

    /// Sends one complete Ethernet frame (destination MAC first).
    pub fn send(&self, frame: &[u8]) -> Result<(), Error> {
        let dst: [u8; 6] = frame
            .get(0..6)
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| Error::Io {
                op: format!("send a frame on {}", self.ifname),
                hint: "",
                source: io::Error::new(io::ErrorKind::InvalidInput, "frame shorter than 6 bytes"),
            })?;
        let addr = link_addr(self.ifindex, dst);
        let sent = self.socket.send_to(frame, &addr).map_err(|e| Error::Io {
            op: format!("send a {}-byte frame on {}", frame.len(), self.ifname),
            hint: io_hint(&e),
            source: e,
        })?;
        if sent != frame.len() {
            return Err(Error::Io {
                op: format!("send a {}-byte frame on {}", frame.len(), self.ifname),
                hint: "",
                source: io::Error::new(io::ErrorKind::WriteZero, format!("only {sent} bytes sent")),
            });
        }
        Ok(())
    }

    /// Sends a gratuitous ARP for `ip` from `mac`.
    pub fn garp(&self, mac: MacAddr, ip: Ipv4Addr, kind: GarpKind) -> Result<(), Error> {
        self.send(&garp_frame(mac, ip, kind))
    }

    /// Sends an unsolicited neighbour advertisement for `ip` from `mac`.
    pub fn na(&self, mac: MacAddr, ip: Ipv6Addr, router: bool) -> Result<(), Error> {
        self.send(&na_frame(mac, ip, router))
    }
}

fn io_hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => "AF_PACKET sockets need CAP_NET_RAW",
        Some(libc::ENXIO | libc::ENODEV) => {
            "the interface does not exist in this network namespace"
        }
        Some(libc::ENETDOWN) => "the interface is down",
        _ => "",
    }
}

/// A `sockaddr_ll` for sending on `ifindex` to `dst`.
///
/// socket2 has no safe constructor for link-layer addresses, so this is the one place that
/// needs `unsafe`: it fills the zeroed `sockaddr_storage` that `SockAddr::try_init` hands out.
#[allow(unsafe_code)]
fn link_addr(ifindex: u32, dst: [u8; 6]) -> SockAddr {
    let mut ll: libc::sockaddr_ll = unsafe {
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        std::mem::zeroed()
    };
    ll.sll_family = libc::AF_PACKET as u16;
    ll.sll_ifindex = ifindex as i32;
    ll.sll_halen = 6;
    ll.sll_addr[..6].copy_from_slice(&dst);
    let len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    let ((), addr) = unsafe {
        // SAFETY: `storage` is a zeroed sockaddr_storage, which is larger than and suitably
        // aligned for sockaddr_ll; we write exactly one sockaddr_ll and report its size.
        SockAddr::try_init(|storage, out_len| {
            storage.cast::<libc::sockaddr_ll>().write(ll);
            *out_len = len;
            Ok(())
        })
    }
    .expect("the closure cannot fail");
    addr
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn mac() -> MacAddr {
        "02:00:00:00:00:0a".parse().unwrap()
    }

    #[test]
    fn garp_request_fields() {
        let f = garp_frame(mac(), Ipv4Addr::new(192, 0, 2, 10), GarpKind::Request);
        assert_eq!(f.len(), GARP_LEN);
        let p = SlicedPacket::from_ethernet(&f).unwrap();
        let eth = p.link.unwrap().to_header().unwrap();
        let eth = eth.ethernet2().unwrap();
        assert_eq!(eth.destination, [0xff; 6]);
        assert_eq!(eth.source, mac().0);
        assert_eq!(eth.ether_type, EtherType::ARP);
        let Some(NetSlice::Arp(arp)) = p.net else {
            panic!("not ARP")
        };
        assert_eq!(arp.hw_addr_type(), ArpHardwareId::ETHERNET);
        assert_eq!(arp.proto_addr_type(), EtherType::IPV4);
        assert_eq!(arp.operation(), ArpOperation::REQUEST);
        assert_eq!(arp.sender_hw_addr(), &mac().0);
        assert_eq!(arp.sender_protocol_addr(), &[192, 0, 2, 10]);
        assert_eq!(arp.target_hw_addr(), &[0xff; 6]);
        assert_eq!(arp.target_protocol_addr(), &[192, 0, 2, 10]);
    }

    #[test]
    fn garp_reply_fields() {
        let f = garp_frame(mac(), Ipv4Addr::new(198, 51, 100, 7), GarpKind::Reply);
        let p = SlicedPacket::from_ethernet(&f).unwrap();
        let Some(NetSlice::Arp(arp)) = p.net else {
            panic!("not ARP")
        };
        assert_eq!(arp.operation(), ArpOperation::REPLY);
        assert_eq!(arp.target_hw_addr(), &mac().0);
        assert_eq!(arp.target_protocol_addr(), &[198, 51, 100, 7]);
        assert_eq!(&f[0..6], &[0xff; 6]);
    }

    #[test]
    fn na_fields_and_checksum() {
        let ip: Ipv6Addr = "2001:db8::10".parse().unwrap();
        for router in [false, true] {
            let f = na_frame(mac(), ip, router);
            assert_eq!(f.len(), NA_LEN);
            let p = SlicedPacket::from_ethernet(&f).unwrap();
            let eth = p.link.as_ref().unwrap().to_header().unwrap();
            assert_eq!(
                eth.ethernet2().unwrap().destination,
                [0x33, 0x33, 0, 0, 0, 1]
            );
            let Some(NetSlice::Ipv6(ip6)) = &p.net else {
                panic!("not IPv6")
            };
            let h = ip6.header();
            assert_eq!(h.hop_limit(), 255);
            assert_eq!(h.source_addr(), ip);
            assert_eq!(h.destination_addr(), "ff02::1".parse::<Ipv6Addr>().unwrap());
            let Some(TransportSlice::Icmpv6(icmp)) = &p.transport else {
                panic!("not ICMPv6")
            };
            let Icmpv6Type::NeighborAdvertisement(na) = icmp.icmp_type() else {
                panic!("not NA")
            };
            assert!(na.r#override);
            assert!(!na.solicited);
            assert_eq!(na.router, router);
            assert!(
                icmp.is_checksum_valid(h.source(), h.destination()),
                "checksum"
            );
            let payload = icmp.payload();
            assert_eq!(&payload[0..16], &ip.octets());
            assert_eq!(&payload[16..18], &[2, 1]);
            assert_eq!(&payload[18..24], &mac().0);
        }
    }
}
