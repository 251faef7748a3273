//! The codec against real keepalived 2.2.7 adverts, with tshark as the judge.
//!
//! `tests/data/*.pcap` were captured by `tests/data/capture.sh` (keepalived in one network
//! namespace, tcpdump in another, the configs next to the pcaps). For every packet of every
//! capture these tests check that:
//!
//! - every field we decode equals what tshark shows: live when tshark is installed, and always
//!   against the frozen `*.tshark.tsv` recorded with the capture;
//! - the checksum verifies in exactly the modes keepalived's variant implies;
//! - emitting a message from the decoded fields gives the captured message byte for byte, and
//!   the same for the whole IP datagram and Ethernet frame (keepalived's IP header: TOS 0xc0,
//!   TTL 255, protocol 112, DF clear; the IPv4 ID (keepalived's per-instance counter 1, 2, 3, …)
//!   and the IPv6 flow label (the kernel's) are taken from the capture);
//! - the packets pass receive validation configured as the keepalived config says;
//! - the priority-0 advert keepalived sends on SIGTERM is there.
//!
//! `live_keepalived_capture` (root, keepalived and tcpdump required) runs `capture.sh` for one
//! config in fresh namespaces and applies the same checks to the new packets.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;
use vrrp_packet::{
    Addresses, Auth, ChecksumMode, ChecksumModes, Datagram, Envelope, EthernetParams, Frame,
    Interval, KEEPALIVED_TOS, VRRP_TTL, ValidationConfig, Version, emit_ethernet, emit_ip,
    multicast_mac,
};

/// What a capture's keepalived config says (checked against the `.conf` text below).
struct Capture {
    name: &'static str,
    conf: &'static str,
    vrid: u8,
    priority: u8,
    /// `advert_int` in centiseconds.
    interval: u16,
    auth_pass: Option<&'static str>,
    addresses: &'static [&'static str],
    /// The checksum modes that must match, exactly.
    modes: ChecksumModes,
    link: DataLink,
    /// Minimum number of packets in the committed pcap.
    min_packets: usize,
}

const MCAST_PSEUDO: ChecksumModes = ChecksumModes::V3_PSEUDO.union(ChecksumModes::V3_PSEUDO_MCAST);

const CAPTURES: &[Capture] = &[
    Capture {
        name: "v2_pass",
        conf: "v2_pass.conf",
        vrid: 17,
        priority: 100,
        interval: 100,
        auth_pass: Some("1717"),
        addresses: &["192.0.2.100"],
        modes: ChecksumModes::V2,
        link: DataLink::ETHERNET,
        min_packets: 3,
    },
    Capture {
        name: "v2_noauth_3vip",
        conf: "v2_noauth_3vip.conf",
        vrid: 51,
        priority: 150,
        interval: 100,
        auth_pass: None,
        addresses: &["192.0.2.101", "192.0.2.102", "192.0.2.103"],
        modes: ChecksumModes::V2,
        link: DataLink::LINUX_SLL,
        min_packets: 3,
    },
    Capture {
        name: "v3_ipv4_50ms",
        conf: "v3_ipv4_50ms.conf",
        vrid: 33,
        priority: 200,
        interval: 5,
        auth_pass: None,
        addresses: &["192.0.2.133"],
        // Sent to 224.0.0.18: the real destination is the multicast group, so the two
        // pseudo-header modes coincide; keepalived's default is not the RFC 9568 wording.
        modes: MCAST_PSEUDO,
        link: DataLink::ETHERNET,
        min_packets: 6,
    },
    Capture {
        name: "v3_ipv6",
        conf: "v3_ipv6.conf",
        vrid: 66,
        priority: 120,
        interval: 100,
        auth_pass: None,
        addresses: &["fe80::66", "2001:db8::66"],
        modes: MCAST_PSEUDO,
        link: DataLink::ETHERNET,
        min_packets: 3,
    },
    Capture {
        name: "v3_unicast",
        conf: "v3_unicast.conf",
        vrid: 44,
        priority: 110,
        interval: 50,
        auth_pass: None,
        addresses: &["192.0.2.144"],
        // keepalived >= 1.3.7: the pseudo-header carries the real (unicast) destination.
        modes: ChecksumModes::V3_PSEUDO,
        link: DataLink::LINUX_SLL2,
        min_packets: 3,
    },
    Capture {
        name: "v2_pass_sigterm",
        conf: "v2_pass.conf",
        vrid: 17,
        priority: 100,
        interval: 100,
        auth_pass: Some("1717"),
        addresses: &["192.0.2.100"],
        modes: ChecksumModes::V2,
        link: DataLink::ETHERNET,
        min_packets: 3,
    },
];

/// The tshark fields recorded by `capture.sh` (same list, any order).
const TSHARK_FIELDS: &[&str] = &[
    "frame.number",
    "eth.src",
    "eth.dst",
    "sll.pkttype",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "ip.dsfield",
    "ip.id",
    "ip.flags",
    "ip.len",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hlim",
    "ipv6.tclass",
    "ipv6.plen",
    "ipv6.nxt",
    "vrrp.version",
    "vrrp.type",
    "vrrp.virt_rtr_id",
    "vrrp.prio",
    "vrrp.addr_count",
    "vrrp.auth_type",
    "vrrp.adver_int",
    "vrrp.short_adver_int",
    "vrrp.checksum",
    "vrrp.checksum.status",
    "vrrp.ip_addr",
    "vrrp.ipv6_addr",
    "vrrp.auth_string",
];

/// The fields compared with tshark: everything tshark shows about the IP header and the VRRP
/// message except those that only describe the link layer.
const COMPARED: &[&str] = &[
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "ip.dsfield",
    "ip.id",
    "ip.len",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hlim",
    "ipv6.tclass",
    "ipv6.plen",
    "ipv6.nxt",
    "vrrp.version",
    "vrrp.type",
    "vrrp.virt_rtr_id",
    "vrrp.prio",
    "vrrp.addr_count",
    "vrrp.auth_type",
    "vrrp.adver_int",
    "vrrp.short_adver_int",
    "vrrp.checksum",
    "vrrp.checksum.status",
    "vrrp.ip_addr",
    "vrrp.ipv6_addr",
    "vrrp.auth_string",
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// One captured frame: the link type and the octets.
struct Record {
    link: DataLink,
    data: Vec<u8>,
}

fn read_pcap(path: &Path) -> Vec<Record> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapReader::new(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let link = reader.header().datalink;
    let mut out = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push(Record {
            link,
            data: packet.data.into_owned(),
        });
    }
    out
}

/// The IP datagram inside a frame of the link types tcpdump writes.
fn ip_bytes(link: DataLink, data: &[u8]) -> &[u8] {
    let offset = match link {
        DataLink::ETHERNET => 14,
        DataLink::LINUX_SLL => 16,
        DataLink::LINUX_SLL2 => 20,
        other => panic!("unexpected link type {other:?}"),
    };
    &data[offset..]
}

/// tshark's `-T fields` output as one map per packet.
fn parse_tsv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("tshark header line")
        .split('\t')
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), header.len(), "tshark row {line:?}");
            header
                .iter()
                .zip(cols)
                .map(|(h, c)| ((*h).to_owned(), c.to_owned()))
                .collect()
        })
        .collect()
}

/// Runs tshark on `pcap` with the recorded field list. `v3_as_v2` sets tshark's
/// `vrrp.v3_checksum_as_in_v2` preference (default false: VRRPv3 over IPv4 with pseudo-header).
fn run_tshark(pcap: &Path, v3_as_v2: bool) -> Vec<BTreeMap<String, String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        .arg("-r")
        .arg(pcap)
        .args([
            "-o",
            &format!(
                "vrrp.v3_checksum_as_in_v2:{}",
                if v3_as_v2 { "TRUE" } else { "FALSE" }
            ),
        ])
        .args(["-T", "fields", "-E", "header=y", "-E", "separator=/t"])
        .args(["-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in TSHARK_FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_tsv(&String::from_utf8(out.stdout).expect("tshark output is UTF-8"))
}

fn join<I: IntoIterator<Item = IpAddr>>(addrs: I) -> String {
    addrs
        .into_iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Everything we decode, named and formatted as tshark names and formats it. `tshark_mode` is
/// the checksum computation tshark applies to this packet.
fn our_view(
    datagram: &Datagram<'_>,
    ip: &[u8],
    tshark_mode: ChecksumMode,
) -> BTreeMap<&'static str, String> {
    let repr = datagram.repr().expect("decodes");
    let packet = datagram.packet();
    let mut v = BTreeMap::new();
    // The IP header values come from the envelope we emit for this packet (equal to the
    // captured header: see `check_capture`), the captured ID / flow label aside.
    let env = envelope_for(datagram, ip, ChecksumMode::default_for(repr.version));
    let ip_total = vrrp_packet::ip_len(&repr, &env);
    match datagram.src {
        IpAddr::V4(_) => {
            v.insert("ip.src", datagram.src.to_string());
            v.insert("ip.dst", datagram.dst.to_string());
            v.insert("ip.ttl", datagram.ttl.to_string());
            v.insert("ip.dsfield", format!("{:#04x}", env.tos));
            v.insert("ip.id", format!("{:#06x}", env.ipv4_id));
            v.insert("ip.len", ip_total.to_string());
            v.insert("ip.proto", vrrp_packet::IP_PROTOCOL.to_string());
        }
        IpAddr::V6(_) => {
            v.insert("ipv6.src", datagram.src.to_string());
            v.insert("ipv6.dst", datagram.dst.to_string());
            v.insert("ipv6.hlim", datagram.ttl.to_string());
            v.insert("ipv6.tclass", format!("{:#010x}", env.tos));
            v.insert("ipv6.plen", repr.buffer_len().to_string());
            v.insert("ipv6.nxt", vrrp_packet::IP_PROTOCOL.to_string());
        }
    }
    v.insert("vrrp.version", repr.version.number().to_string());
    v.insert("vrrp.type", packet.msg_type().to_string());
    v.insert("vrrp.virt_rtr_id", repr.vrid.to_string());
    v.insert("vrrp.prio", repr.priority.to_string());
    v.insert("vrrp.addr_count", repr.addresses.len().to_string());
    match repr.version {
        Version::V2 => {
            v.insert("vrrp.auth_type", repr.auth.auth_type().to_string());
            v.insert(
                "vrrp.adver_int",
                repr.interval.wire_value(Version::V2).to_string(),
            );
            if let Some(pass) = repr.auth.password() {
                v.insert(
                    "vrrp.auth_string",
                    String::from_utf8_lossy(pass).into_owned(),
                );
            }
        }
        Version::V3 => {
            v.insert(
                "vrrp.short_adver_int",
                repr.interval.wire_value(Version::V3).to_string(),
            );
        }
    }
    v.insert("vrrp.checksum", format!("{:#06x}", packet.checksum()));
    let ok = packet
        .verify_checksum(datagram.src, datagram.dst)
        .contains(tshark_mode.as_flag());
    v.insert(
        "vrrp.checksum.status",
        if ok { "1" } else { "0" }.to_owned(),
    );
    let key = match datagram.src {
        IpAddr::V4(_) => "vrrp.ip_addr",
        IpAddr::V6(_) => "vrrp.ipv6_addr",
    };
    v.insert(key, join(repr.addresses.iter()));
    v
}

/// keepalived's envelope for a captured datagram: [`Envelope::new`]'s defaults (TTL 255, TOS
/// 0xc0, DF clear), with the IPv4 ID and IPv6 flow label of the capture. keepalived numbers its
/// IPv4 adverts 1, 2, 3, … per instance (`vrrp_build_ip4`: `++vrrp->ip_id`, never 0, which the
/// kernel would replace); the IPv6 flow label is the kernel's automatic one.
fn envelope_for(datagram: &Datagram<'_>, ip: &[u8], mode: ChecksumMode) -> Envelope {
    let version = datagram.repr().expect("decodes").version;
    let env = Envelope::new(datagram.src, datagram.dst, version).with_checksum(mode);
    match datagram.src {
        IpAddr::V4(_) => env.with_ipv4_id(u16::from_be_bytes([ip[4], ip[5]])),
        IpAddr::V6(_) => env.with_flow_label(u32::from_be_bytes([0, ip[1] & 0x0f, ip[2], ip[3]])),
    }
}

/// tshark's checksum computation for a packet, with its preference
/// `vrrp.v3_checksum_as_in_v2` (`v3_as_v2`): v2 → message only; v3 → pseudo-header with the
/// real destination, except v3 over IPv4 with the preference set → message only. (IPv6 always
/// uses the pseudo-header.)
fn tshark_mode(datagram: &Datagram<'_>, v3_as_v2: bool) -> ChecksumMode {
    match (datagram.payload[0] >> 4, datagram.src) {
        (2, _) => ChecksumMode::V2,
        (_, IpAddr::V4(_)) if v3_as_v2 => ChecksumMode::V3NoPseudo,
        _ => ChecksumMode::V3Pseudo,
    }
}

fn assert_matches_tshark(
    what: &str,
    records: &[Record],
    tshark: &[BTreeMap<String, String>],
    v3_as_v2: bool,
) {
    assert_eq!(
        records.len(),
        tshark.len(),
        "{what}: packet count vs tshark"
    );
    for (i, (rec, row)) in records.iter().zip(tshark).enumerate() {
        let ip = ip_bytes(rec.link, &rec.data);
        let datagram = Datagram::parse_ip(ip).unwrap_or_else(|e| panic!("{what} #{i}: {e}"));
        let ours = our_view(&datagram, ip, tshark_mode(&datagram, v3_as_v2));
        for key in COMPARED {
            let theirs = row.get(*key).map_or("", String::as_str);
            let mine = ours.get(key).map_or("", String::as_str);
            assert_eq!(mine, theirs, "{what} packet #{}: field {key}", i + 1);
        }
    }
}

fn frozen_tsv(name: &str) -> Vec<BTreeMap<String, String>> {
    let path = data_dir().join(format!("{name}.tshark.tsv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<&str> = text.lines().next().unwrap_or("").split('\t').collect();
    assert_eq!(
        header,
        TSHARK_FIELDS,
        "{}: field list differs from capture.sh",
        path.display()
    );
    parse_tsv(&text)
}

#[test]
fn every_capture_matches_frozen_tshark_view() {
    for c in CAPTURES {
        let records = read_pcap(&data_dir().join(format!("{}.pcap", c.name)));
        assert!(
            records.len() >= c.min_packets,
            "{}: {} packets",
            c.name,
            records.len()
        );
        assert!(
            records.iter().all(|r| r.link == c.link),
            "{}: link type",
            c.name
        );
        assert_matches_tshark(c.name, &records, &frozen_tsv(c.name), false);
    }
}

#[test]
fn every_capture_matches_live_tshark() {
    if !lvs_testkit::have("tshark") {
        println!("SKIP every_capture_matches_live_tshark: tshark not installed");
        return;
    }
    // tshark takes most of a second of CPU to start: dissect every capture in one run per
    // preference, from one pcapng with an interface per capture (each with its link type).
    let captures: Vec<(&Capture, Vec<Record>)> = CAPTURES
        .iter()
        .map(|c| (c, read_pcap(&data_dir().join(format!("{}.pcap", c.name)))))
        .collect();
    let all = std::env::temp_dir().join(format!("lvs-captures-all-{}.pcapng", std::process::id()));
    write_pcapng(&all, captures.iter().map(|(_, r)| r.as_slice()));
    std::thread::scope(|s| {
        // With tshark's "v3 checksum as v2" preference, keepalived's VRRPv3/IPv4 adverts must
        // be reported bad, as our V3NoPseudo computation says.
        for v3_as_v2 in [false, true] {
            let (all, captures) = (&all, &captures);
            s.spawn(move || {
                let mut rows = run_tshark(all, v3_as_v2).into_iter();
                for (c, records) in captures {
                    let tshark: Vec<_> = rows.by_ref().take(records.len()).collect();
                    assert_matches_tshark(c.name, records, &tshark, v3_as_v2);
                }
                assert_eq!(rows.next(), None, "tshark shows more packets than written");
            });
        }
    });
    std::fs::remove_file(&all).expect("remove temp pcapng");
}

/// Writes the records of several captures into one pcapng, one interface per capture.
fn write_pcapng<'a>(path: &Path, captures: impl Iterator<Item = &'a [Record]>) {
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;

    let file = std::fs::File::create(path).expect("create pcapng");
    let mut w = PcapNgWriter::new(file).expect("pcapng header");
    for (id, records) in captures.enumerate() {
        let link = records.first().expect("non-empty capture").link;
        w.write_pcapng_block(InterfaceDescriptionBlock::new(link, 0xffff))
            .expect("write IDB");
        for r in records {
            let block = EnhancedPacketBlock {
                interface_id: u32::try_from(id).expect("few captures"),
                timestamp: std::time::Duration::ZERO,
                original_len: u32::try_from(r.data.len()).expect("small frame"),
                data: std::borrow::Cow::Borrowed(&r.data),
                options: Vec::new(),
            };
            w.write_pcapng_block(block).expect("write EPB");
        }
    }
}

/// Checks one capture's packets against its config: decode, checksum modes, validation,
/// byte-identical emit of message / datagram / frame. Returns the priorities seen.
fn check_capture(c: &Capture, records: &[Record]) -> Vec<u8> {
    let conf = std::fs::read_to_string(data_dir().join(c.conf)).expect("read conf");
    // The table above says what the config says.
    assert!(
        conf.contains(&format!("virtual_router_id {}\n", c.vrid)),
        "{}",
        c.conf
    );
    assert!(
        conf.contains(&format!("priority {}\n", c.priority)),
        "{}",
        c.conf
    );
    for a in c.addresses {
        assert!(conf.contains(&format!("{a}/")), "{}: {a}", c.conf);
    }
    if let Some(pass) = c.auth_pass {
        assert!(conf.contains(&format!("auth_pass {pass}\n")), "{}", c.conf);
    }

    let addrs: Vec<IpAddr> = c
        .addresses
        .iter()
        .map(|a| a.parse().expect("address"))
        .collect();
    let v4: Vec<_> = addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    let v6: Vec<_> = addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        })
        .collect();
    let expected_addrs = if v6.is_empty() {
        Addresses::ipv4(&v4)
    } else {
        Addresses::ipv6(&v6)
    };
    let version = if c.auth_pass.is_some() || c.name.starts_with("v2") {
        Version::V2
    } else {
        Version::V3
    };
    let interval = Interval::from_centis(c.interval);
    let mut cfg = ValidationConfig::new(version)
        .with_vrid(c.vrid)
        .with_interval(interval)
        .with_addresses(expected_addrs)
        .with_checksum_modes(c.modes);
    cfg = cfg.with_auth(match c.auth_pass {
        Some(p) => Auth::simple_text(p.as_bytes()),
        None => Auth::None,
    });

    let mut priorities = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let what = format!("{} packet #{}", c.name, i + 1);
        let ip = ip_bytes(rec.link, &rec.data);
        let datagram = Datagram::parse_ip(ip).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(datagram.ttl, VRRP_TTL, "{what}");
        let repr = datagram.repr().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(repr.version, version, "{what}");
        assert_eq!(repr.vrid, c.vrid, "{what}");
        assert_eq!(repr.interval, interval, "{what}");
        assert_eq!(repr.addresses, expected_addrs, "{what}");
        match c.auth_pass {
            Some(p) => assert_eq!(repr.auth.password(), Some(p.as_bytes()), "{what}"),
            None => assert_eq!(repr.auth, Auth::None, "{what}"),
        }
        priorities.push(repr.priority);

        // Checksum: exactly the modes keepalived's variant implies.
        let modes = datagram
            .packet()
            .verify_checksum(datagram.src, datagram.dst);
        assert_eq!(modes, c.modes, "{what}: checksum modes");

        // Receive validation as a peer configured like this keepalived would run it.
        let valid = datagram
            .validate(&cfg)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(valid.repr, repr, "{what}");
        assert_eq!(valid.address_list_matches, Some(true), "{what}");
        assert_eq!(valid.interval_matches, Some(true), "{what}");

        // Emit from the decoded fields: byte-identical message, datagram and frame.
        let mode = ChecksumMode::default_for(version);
        let mut buf = [0u8; 2048];
        let n = repr
            .emit_into(&mut buf, datagram.src, datagram.dst, mode)
            .expect("buffer large enough");
        assert_eq!(&buf[..n], datagram.payload, "{what}: emitted message");

        let env = envelope_for(&datagram, ip, mode);
        assert_eq!(env.ttl, 255, "{what}");
        assert_eq!(env.tos, KEEPALIVED_TOS, "{what}");
        let n = emit_ip(&repr, &env, &mut buf).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(&buf[..n], ip, "{what}: emitted IP datagram");

        if rec.link == DataLink::ETHERNET {
            let frame = Frame::parse(&rec.data).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(frame.datagram, datagram, "{what}");
            assert_eq!(
                Some(frame.dst_mac),
                multicast_mac(datagram.dst),
                "{what}: dst MAC"
            );
            // keepalived without use_vmac sends from the interface MAC (capture.sh sets it).
            assert_eq!(frame.src_mac, [2, 0, 0, 0, 0, 0x0a], "{what}: src MAC");
            let eth = EthernetParams::new(frame.dst_mac, frame.src_mac);
            let n = emit_ethernet(&repr, &env, &eth, &mut buf)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(&buf[..n], &rec.data[..], "{what}: emitted frame");
        }
    }
    priorities
}

#[test]
fn captures_decode_validate_and_emit_byte_identical() {
    for c in CAPTURES {
        let records = read_pcap(&data_dir().join(format!("{}.pcap", c.name)));
        assert!(records.len() >= c.min_packets, "{}", c.name);
        let priorities = check_capture(c, &records);
        if c.name != "v2_pass_sigterm" {
            assert!(
                priorities.iter().all(|&p| p == c.priority),
                "{}: {priorities:?}",
                c.name
            );
        }
    }
}

#[test]
fn sigterm_capture_ends_with_priority_zero() {
    let c = CAPTURES
        .iter()
        .find(|c| c.name == "v2_pass_sigterm")
        .expect("listed");
    let records = read_pcap(&data_dir().join("v2_pass_sigterm.pcap"));
    let priorities = check_capture(c, &records);
    // Adverts at the configured priority while Master, then RFC 3768 §6.4.3 "Shutdown": one
    // advert with priority 0, and nothing after it.
    let (last, before) = priorities.split_last().expect("packets");
    assert_eq!(*last, 0, "{priorities:?}");
    assert!(!before.is_empty(), "{priorities:?}");
    assert!(before.iter().all(|&p| p == c.priority), "{priorities:?}");
}

/// keepalived fills the IPv4 ID itself, counting each instance's adverts from 1 (so an
/// emitter that wants to look like keepalived numbers its adverts, it does not send ID 0).
#[test]
fn keepalived_numbers_ipv4_adverts_from_one() {
    for c in CAPTURES {
        let ids: Vec<u16> = read_pcap(&data_dir().join(format!("{}.pcap", c.name)))
            .iter()
            .map(|r| ip_bytes(r.link, &r.data))
            .filter(|ip| ip[0] >> 4 == 4)
            .map(|ip| u16::from_be_bytes([ip[4], ip[5]]))
            .collect();
        let expected: Vec<u16> = (1..=ids.len() as u16).collect();
        assert_eq!(ids, expected, "{}", c.name);
    }
}

#[test]
fn unicast_capture_needs_the_real_destination_in_the_pseudo_header() {
    let records = read_pcap(&data_dir().join("v3_unicast.pcap"));
    for rec in &records {
        let ip = ip_bytes(rec.link, &rec.data);
        let d = Datagram::parse_ip(ip).expect("parses");
        assert!(!d.dst.is_multicast());
        let p = d.packet();
        let real = p.compute_checksum(ChecksumMode::V3Pseudo, d.src, d.dst);
        assert_eq!(real, p.checksum());
        // Old keepalived (< 1.3.7) / FRR would have sent a different checksum.
        let mcast = p.compute_checksum(ChecksumMode::V3PseudoMcast, d.src, d.dst);
        assert_ne!(mcast, p.checksum());
        // A receiver that only accepts the RFC 9568 wording rejects keepalived's default.
        let strict =
            ValidationConfig::new(Version::V3).with_checksum_modes(ChecksumModes::V3_NO_PSEUDO);
        let err = d
            .validate(&strict)
            .expect_err("no-pseudo receiver rejects it");
        assert_eq!(err.rule_name(), "checksum");
    }
}

#[test]
fn live_keepalived_capture() {
    const TEST: &str = "live_keepalived_capture";
    if lvs_testkit::skip_unless(TEST, &["ip", "keepalived", "tcpdump", "timeout", "bash"]) {
        return;
    }
    let c = CAPTURES
        .iter()
        .find(|c| c.name == "v3_ipv4_50ms")
        .expect("listed");
    let out = std::env::temp_dir().join(format!("lvs-captures-{}", std::process::id()));
    let status = Command::new("bash")
        .arg(data_dir().join("capture.sh"))
        .arg("-o")
        .arg(&out)
        .arg(c.name)
        .status()
        .expect("run capture.sh");
    assert!(status.success(), "capture.sh failed: {status}");
    let pcap = out.join(format!("{}.pcap", c.name));
    let records = read_pcap(&pcap);
    assert!(records.len() >= c.min_packets, "{} packets", records.len());
    assert!(records.iter().all(|r| r.link == c.link));
    let priorities = check_capture(c, &records);
    assert!(
        priorities.iter().all(|&p| p == c.priority),
        "{priorities:?}"
    );
    if lvs_testkit::have("tshark") {
        assert_matches_tshark(
            "live v3_ipv4_50ms",
            &records,
            &run_tshark(&pcap, false),
            false,
        );
    }
    std::fs::remove_dir_all(&out).expect("remove temp dir");
}
