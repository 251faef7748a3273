//! Reading capture files (pcap and pcapng) and taking the IP datagram out of each frame.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use vrrp_packet::{Datagram, DatagramError, Frame};

/// LINKTYPE_ numbers (<https://www.tcpdump.org/linktypes.html>) this tool understands.
const LINKTYPE_ETHERNET: u32 = 1;
/// DLT_RAW as OpenBSD (14) and BSD/OS (12) number it; LINKTYPE_RAW is 101.
const LINKTYPE_RAW_BSD: [u32; 2] = [12, 14];
const LINKTYPE_RAW: u32 = 101;
const LINKTYPE_LINUX_SLL: u32 = 113;
const LINKTYPE_IPV4: u32 = 228;
const LINKTYPE_IPV6: u32 = 229;
const LINKTYPE_LINUX_SLL2: u32 = 276;

const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// One frame of a capture, with the link type of the interface it was captured on.
#[derive(Debug)]
pub(crate) struct Record {
    /// 1-based frame number, as tshark counts.
    pub(crate) number: usize,
    pub(crate) link: DataLink,
    pub(crate) data: Vec<u8>,
}

/// Reads every frame of a pcap or pcapng file (told apart by the magic number).
///
/// # Errors
/// The file cannot be opened or is not a well-formed pcap/pcapng file; the message says which
/// frame broke.
pub(crate) fn read_capture(path: &Path) -> Result<Vec<Record>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 4];
    reader
        .read_exact(&mut magic)
        .with_context(|| format!("{}: too short for a capture file", path.display()))?;
    let reader = std::io::Cursor::new(magic).chain(reader);
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        read_pcapng(path, reader)
    } else {
        read_pcap(path, reader)
    }
}

fn read_pcap(path: &Path, reader: impl Read) -> Result<Vec<Record>> {
    let mut pcap = PcapReader::new(reader)
        .with_context(|| format!("{}: not a pcap or pcapng file", path.display()))?;
    let link = pcap.header().datalink;
    let mut out = Vec::new();
    while let Some(packet) = pcap.next_packet() {
        let number = out.len() + 1;
        let packet =
            packet.with_context(|| format!("{}: frame {number} unreadable", path.display()))?;
        out.push(Record {
            number,
            link,
            data: packet.data.into_owned(),
        });
    }
    Ok(out)
}

fn read_pcapng(path: &Path, reader: impl Read) -> Result<Vec<Record>> {
    let mut ng = PcapNgReader::new(reader)
        .with_context(|| format!("{}: bad pcapng section header", path.display()))?;
    let mut out = Vec::new();
    while let Some(block) = ng.next_block() {
        let number = out.len() + 1;
        let block = block.with_context(|| {
            format!(
                "{}: block after frame {} unreadable",
                path.display(),
                out.len()
            )
        })?;
        let (interface, data) = match block {
            Block::EnhancedPacket(p) => (p.interface_id, p.data.into_owned()),
            Block::Packet(p) => (u32::from(p.interface_id), p.data.into_owned()),
            Block::SimplePacket(p) => (0, p.data.into_owned()),
            _ => continue,
        };
        let Some(idb) = ng.interfaces().get(interface as usize) else {
            bail!(
                "{}: frame {number} names interface {interface}, which is not described",
                path.display()
            );
        };
        out.push(Record {
            number,
            link: idb.linktype,
            data,
        });
    }
    Ok(out)
}

/// Why a frame carries no VRRP datagram.
#[derive(Debug)]
pub(crate) enum Skip {
    /// Not IP, or IP but not protocol 112: skipped silently.
    NotVrrp,
    /// A link type this tool does not read.
    LinkType(u32),
    /// The frame or its IP header is malformed.
    Malformed(DatagramError),
}

/// The VRRP datagram in a frame of the given link type.
pub(crate) fn datagram(link: DataLink, data: &[u8]) -> Result<Datagram<'_>, Skip> {
    let ip = match u32::from(link) {
        LINKTYPE_ETHERNET => return Frame::parse(data).map(|f| f.datagram).map_err(skip),
        LINKTYPE_RAW | LINKTYPE_IPV4 | LINKTYPE_IPV6 => data,
        n if LINKTYPE_RAW_BSD.contains(&n) => data,
        LINKTYPE_LINUX_SLL => cooked(data, 14, SLL_HEADER_LEN)?,
        LINKTYPE_LINUX_SLL2 => cooked(data, 0, SLL2_HEADER_LEN)?,
        n => return Err(Skip::LinkType(n)),
    };
    Datagram::parse_ip(ip).map_err(skip)
}

/// The IP payload of a Linux cooked header whose protocol (an EtherType) is at `proto_at`.
fn cooked(data: &[u8], proto_at: usize, header_len: usize) -> Result<&[u8], Skip> {
    let (Some(proto), Some(ip)) = (data.get(proto_at..proto_at + 2), data.get(header_len..)) else {
        return Err(Skip::Malformed(DatagramError::Truncated {
            layer: "linux cooked",
            required: header_len,
            len: data.len(),
        }));
    };
    match u16::from_be_bytes([proto[0], proto[1]]) {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(ip),
        _ => Err(Skip::NotVrrp),
    }
}

fn skip(e: DatagramError) -> Skip {
    match e {
        DatagramError::NotIp { .. } | DatagramError::NotVrrp { .. } => Skip::NotVrrp,
        e => Skip::Malformed(e),
    }
}
