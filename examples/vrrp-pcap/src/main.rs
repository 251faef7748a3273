//! `vrrp-pcap`: decode VRRP adverts from capture files to JSON lines, and craft VRRP frames.
//!
//! ```text
//! vrrp-pcap decode FILE.pcap...
//! vrrp-pcap craft -w OUT.pcap --version 2|3 --vrid N --priority N --interval N \
//!     --src IP --dst IP [--auth-pass TEXT] [--checksum-mode MODE] ADDR...
//! ```
//!
//! `decode` reads pcap and pcapng files (link types Ethernet, Linux cooked SLL / SLL2 as
//! `tcpdump -i any` writes, and raw IP), skips frames that are not VRRP, and prints one JSON
//! object per VRRP packet: `src`, `dst`, `ttl` (hop limit for IPv6), `version`, `type`, `vrid`,
//! `priority`, `count`, `auth_type` (v2), `auth_data` (v2 simple text), `interval` (v2 seconds,
//! v3 centiseconds), `checksum`, `checksum_ok`, `checksum_modes` (every variant that matches:
//! `v2`, `v3_pseudo`, `v3_no_pseudo`, `v3_pseudo_mcast`), `addresses`, and `error` (the short
//! name of the first receive rule the packet breaks, absent when it is valid). It exits non-zero
//! only when a file cannot be read.
//!
//! `craft` writes one Ethernet frame (TTL 255, protocol 112, TOS 0xc0, virtual router MAC as
//! source and the group's multicast MAC as destination, RFC 9568 §7.3) into a new pcap file.
#![forbid(unsafe_code)]

mod craft;
mod decode;
mod link;

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};
use vrrp_packet::ChecksumMode;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Decode VRRP adverts from captures; craft VRRP frames"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print one JSON object per VRRP packet of each capture file (pcap or pcapng).
    Decode {
        /// Capture files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write one Ethernet + IP + VRRP frame into a new pcap file.
    Craft {
        /// Output pcap file.
        #[arg(short = 'w', long = "write")]
        out: PathBuf,
        /// VRRP version: 2 (IPv4 only) or 3.
        #[arg(long)]
        version: u8,
        /// Virtual router ID, 1-255.
        #[arg(long)]
        vrid: u8,
        /// Priority, 0-255 (0: the Master gives up; 255: address owner).
        #[arg(long)]
        priority: u8,
        /// Advertisement interval: seconds (1-255) for v2, centiseconds (1-4095) for v3.
        #[arg(long)]
        interval: u16,
        /// IP source.
        #[arg(long)]
        src: IpAddr,
        /// IP destination (224.0.0.18, ff02::12, or a unicast peer).
        #[arg(long)]
        dst: IpAddr,
        /// VRRPv2 simple text password (auth type 1), at most 8 octets.
        #[arg(long)]
        auth_pass: Option<String>,
        /// Checksum variant: v2, v3_pseudo (default for v3), v3_no_pseudo, v3_pseudo_mcast.
        #[arg(long, value_parser = parse_mode)]
        checksum_mode: Option<ChecksumMode>,
        /// IP TTL / hop limit (255 is the only valid value; others craft a TTL error).
        #[arg(long, default_value_t = 255)]
        ttl: u8,
        /// Source MAC (default: the virtual router MAC 00:00:5e:00:01:VRID / 00:00:5e:00:02:VRID).
        #[arg(long, value_parser = craft::parse_mac)]
        src_mac: Option<[u8; 6]>,
        /// Destination MAC (default: the multicast MAC of --dst, broadcast for unicast).
        #[arg(long, value_parser = craft::parse_mac)]
        dst_mac: Option<[u8; 6]>,
        /// Pad the frame with zeros to the 60-octet Ethernet minimum, as a NIC does.
        #[arg(long)]
        pad: bool,
        /// Virtual addresses, all of the family of --src.
        #[arg(required = true)]
        addresses: Vec<IpAddr>,
    },
}

fn parse_mode(s: &str) -> Result<ChecksumMode, String> {
    ChecksumMode::from_name(s)
        .ok_or_else(|| format!("{s:?}: one of v2, v3_pseudo, v3_no_pseudo, v3_pseudo_mcast"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode { files } => decode(&files),
        Command::Craft {
            out,
            version,
            vrid,
            priority,
            interval,
            src,
            dst,
            auth_pass,
            checksum_mode,
            ttl,
            src_mac,
            dst_mac,
            pad,
            addresses,
        } => {
            let spec = craft::Spec {
                version,
                vrid,
                priority,
                interval,
                src,
                dst,
                ttl,
                auth_pass,
                checksum_mode,
                addresses,
                src_mac,
                dst_mac,
                pad,
            };
            craft(&spec, &out)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vrrp-pcap: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Decodes every file; an unreadable file is reported and makes the exit status non-zero, the
/// others are still decoded.
fn decode(files: &[PathBuf]) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut code = ExitCode::SUCCESS;
    for path in files {
        let records = match link::read_capture(path) {
            Ok(r) => r,
            Err(e) => {
                out.flush()?;
                eprintln!("vrrp-pcap: {e:#}");
                code = ExitCode::FAILURE;
                continue;
            }
        };
        let mut malformed = Vec::new();
        let mut link_types = Vec::new();
        for rec in &records {
            match link::datagram(rec.link, &rec.data) {
                Ok(d) => decode::write_object(&mut out, &decode::describe(&d))?,
                Err(link::Skip::NotVrrp) => {}
                Err(link::Skip::LinkType(n)) => {
                    if !link_types.contains(&n) {
                        link_types.push(n);
                    }
                }
                Err(link::Skip::Malformed(e)) => malformed.push(format!("{} ({e})", rec.number)),
            }
        }
        out.flush()?;
        for n in link_types {
            eprintln!(
                "vrrp-pcap: {}: link type {n} not supported (Ethernet, Linux SLL/SLL2, raw IP are), its frames skipped",
                path.display()
            );
        }
        if !malformed.is_empty() {
            eprintln!(
                "vrrp-pcap: {}: skipped malformed frames: {}",
                path.display(),
                malformed.join(", ")
            );
        }
    }
    out.flush()?;
    Ok(code)
}

fn craft(spec: &craft::Spec, out: &std::path::Path) -> Result<ExitCode> {
    let frame = craft::frame(spec)?;
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ts_resolution: TsResolution::MicroSecond,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(file, header)
        .with_context(|| format!("writing {}", out.display()))?;
    let len = u32::try_from(frame.len()).context("frame length")?;
    // A fixed timestamp: the same flags give the same file.
    let packet = PcapPacket::new(std::time::Duration::ZERO, len, &frame);
    w.write_packet(&packet)
        .with_context(|| format!("writing {}", out.display()))?;
    w.into_writer()
        .flush()
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(ExitCode::SUCCESS)
}
