//! `vrrp-pcap` as a user runs it, with tshark as the judge.
//!
//! tshark's VRRP dissector (Wireshark 4.0) checks the checksum like this: VRRPv2 over the
//! message only; VRRPv3 with the pseudo-header of the packet's real source and destination
//! (IPv4 and IPv6) — keepalived's default. Its preference `vrrp.v3_checksum_as_in_v2:TRUE`
//! switches VRRPv3 over **IPv4** to the message only (the RFC 9568 wording, Cisco/Juniper);
//! IPv6 keeps the pseudo-header. So, per `--checksum-mode`:
//!
//! | mode              | tshark default                       | `v3_checksum_as_in_v2:TRUE` |
//! |-------------------|--------------------------------------|-----------------------------|
//! | `v2`              | good                                 | good                        |
//! | `v3_pseudo`       | good                                 | IPv4 bad, IPv6 good         |
//! | `v3_no_pseudo`    | bad                                  | IPv4 good, IPv6 bad         |
//! | `v3_pseudo_mcast` | good to the group, bad to a unicast  | IPv4 bad; IPv6 as default   |
//!
//! Every mode is `[correct]` in some tshark setting except `v3_pseudo_mcast` sent to a unicast
//! address and `v3_no_pseudo` over IPv6: tshark has no setting for those, and reports them bad
//! while `vrrp-pcap decode` names exactly the mode that matches.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_vrrp-pcap");

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/vrrp-packet/tests/data")
}

const CAPTURES: &[&str] = &[
    "v2_pass",
    "v2_noauth_3vip",
    "v3_ipv4_50ms",
    "v3_ipv6",
    "v3_unicast",
    "v2_pass_sigterm",
];

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run vrrp-pcap")
}

/// `vrrp-pcap decode` on `files`: the JSON objects, or a panic with stderr.
fn decode(files: &[&Path]) -> Vec<Value> {
    let out = Command::new(BIN)
        .arg("decode")
        .args(files)
        .output()
        .expect("run vrrp-pcap");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "decode failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    parse_lines(&out.stdout)
}

fn parse_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

const TSHARK_FIELDS: &[&str] = &[
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "ip.dsfield",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hlim",
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

/// tshark's view of every packet of `pcap`, one map per packet.
fn tshark(pcap: &Path, v3_as_v2: bool) -> Vec<BTreeMap<String, String>> {
    let pref = if v3_as_v2 { "TRUE" } else { "FALSE" };
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        .arg("-r")
        .arg(pcap)
        .args(["-o", &format!("vrrp.v3_checksum_as_in_v2:{pref}")])
        .args(["-T", "fields", "-E", "header=y", "-E", "separator=/t"])
        .args(["-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in TSHARK_FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_tsv(&String::from_utf8(out.stdout).expect("UTF-8"))
}

fn parse_tsv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, c)| ((*h).to_owned(), c.to_owned()))
                .collect()
        })
        .collect()
}

/// A JSON value as tshark prints it ("" when absent).
fn text(obj: &Value, key: &str) -> String {
    match obj.get(key) {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().expect("string").to_owned())
            .collect::<Vec<_>>()
            .join(","),
        Some(v) => v.to_string(),
    }
}

/// Asserts that our JSON object shows what tshark shows about the same packet.
fn assert_same_as_tshark(what: &str, ours: &Value, row: &BTreeMap<String, String>) {
    let t = |k: &str| row.get(k).cloned().unwrap_or_default();
    let ipv6 = !t("ipv6.src").is_empty();
    let (src, dst, ttl, addrs) = if ipv6 {
        ("ipv6.src", "ipv6.dst", "ipv6.hlim", "vrrp.ipv6_addr")
    } else {
        ("ip.src", "ip.dst", "ip.ttl", "vrrp.ip_addr")
    };
    let v2 = t("vrrp.version") == "2";
    let pairs = [
        ("src", src),
        ("dst", dst),
        ("ttl", ttl),
        ("version", "vrrp.version"),
        ("type", "vrrp.type"),
        ("vrid", "vrrp.virt_rtr_id"),
        ("priority", "vrrp.prio"),
        ("count", "vrrp.addr_count"),
        ("auth_type", "vrrp.auth_type"),
        ("auth_data", "vrrp.auth_string"),
        (
            "interval",
            if v2 {
                "vrrp.adver_int"
            } else {
                "vrrp.short_adver_int"
            },
        ),
        ("checksum", "vrrp.checksum"),
        ("addresses", addrs),
    ];
    for (ours_key, theirs_key) in pairs {
        assert_eq!(
            text(ours, ours_key),
            t(theirs_key),
            "{what}: {ours_key} vs tshark {theirs_key}"
        );
    }
}

#[test]
fn decode_matches_tshark_for_every_capture() {
    let paths: Vec<PathBuf> = CAPTURES
        .iter()
        .map(|c| data_dir().join(format!("{c}.pcap")))
        .collect();
    let ours: Vec<Vec<Value>> = paths.iter().map(|p| decode(&[p])).collect();
    // tshark live when installed (one run over all captures merged into a pcapng, one
    // interface per capture: tshark takes most of a second to start), else the views frozen
    // with the captures.
    let rows: Vec<Vec<BTreeMap<String, String>>> = if lvs_testkit::have("tshark") {
        let dir = tempfile::tempdir().expect("temp dir");
        let all = dir.path().join("all.pcapng");
        write_pcapng(&all, paths.iter().map(|p| read_frames(p)));
        let mut rows = tshark(&all, false).into_iter();
        let split = ours
            .iter()
            .map(|o| rows.by_ref().take(o.len()).collect())
            .collect();
        assert_eq!(
            rows.next(),
            None,
            "tshark shows more packets than vrrp-pcap"
        );
        split
    } else {
        println!("SKIP live part of decode_matches_tshark_for_every_capture: tshark not installed");
        CAPTURES
            .iter()
            .map(|name| {
                let frozen = data_dir().join(format!("{name}.tshark.tsv"));
                parse_tsv(&std::fs::read_to_string(frozen).expect("frozen tshark view"))
            })
            .collect()
    };
    for ((name, ours), rows) in CAPTURES.iter().zip(&ours).zip(&rows) {
        assert_eq!(ours.len(), rows.len(), "{name}: packet count");
        assert!(ours.len() >= 3, "{name}");
        for (i, (o, row)) in ours.iter().zip(rows).enumerate() {
            let what = format!("{name} #{}", i + 1);
            assert_same_as_tshark(&what, o, row);
            // keepalived's packets are valid, and tshark agrees the checksum is good.
            assert_eq!(o.get("error"), None, "{what}: {o}");
            assert_eq!(o["checksum_ok"], Value::Bool(true), "{what}");
            assert_eq!(row["vrrp.checksum.status"], "1", "{what}");
        }
    }
    // Several files in one run: the objects of each, in order.
    let all = decode(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    assert_eq!(all, ours.concat());
}

/// Writes captures into one pcapng, an interface (with the capture's link type) per capture.
fn write_pcapng(path: &Path, captures: impl Iterator<Item = (DataLink, Vec<Vec<u8>>)>) {
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;

    let mut w = PcapNgWriter::new(std::fs::File::create(path).expect("create")).expect("shb");
    for (id, (link, frames)) in captures.enumerate() {
        w.write_pcapng_block(InterfaceDescriptionBlock::new(link, 0xffff))
            .expect("idb");
        for data in frames {
            w.write_pcapng_block(EnhancedPacketBlock {
                interface_id: u32::try_from(id).expect("few"),
                timestamp: std::time::Duration::ZERO,
                original_len: u32::try_from(data.len()).expect("small"),
                data: data.into(),
                options: Vec::new(),
            })
            .expect("epb");
        }
    }
}

#[test]
fn decode_names_the_checksum_variant_of_each_capture() {
    let modes = |name: &str| -> Vec<Value> {
        decode(&[&data_dir().join(format!("{name}.pcap"))])
            .into_iter()
            .map(|o| o["checksum_modes"].clone())
            .collect()
    };
    let v2 = serde_json::json!(["v2"]);
    let group = serde_json::json!(["v3_pseudo", "v3_pseudo_mcast"]);
    let unicast = serde_json::json!(["v3_pseudo"]);
    assert!(modes("v2_pass").iter().all(|m| *m == v2));
    assert!(modes("v3_ipv4_50ms").iter().all(|m| *m == group));
    assert!(modes("v3_ipv6").iter().all(|m| *m == group));
    assert!(modes("v3_unicast").iter().all(|m| *m == unicast));
    let sigterm = decode(&[&data_dir().join("v2_pass_sigterm.pcap")]);
    assert_eq!(sigterm.last().expect("packets")["priority"], 0);
}

/// One `craft` invocation and what it must produce.
#[derive(Debug, Clone)]
struct Craft {
    version: u8,
    vrid: u8,
    priority: u8,
    interval: u16,
    src: &'static str,
    dst: &'static str,
    auth_pass: Option<&'static str>,
    mode: &'static str,
    addresses: &'static [&'static str],
}

impl Craft {
    fn args(&self, out: &Path) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "craft".into(),
            "-w".into(),
            out.display().to_string(),
            "--version".into(),
            self.version.to_string(),
            "--vrid".into(),
            self.vrid.to_string(),
            "--priority".into(),
            self.priority.to_string(),
            "--interval".into(),
            self.interval.to_string(),
            "--src".into(),
            self.src.into(),
            "--dst".into(),
            self.dst.into(),
            "--checksum-mode".into(),
            self.mode.into(),
        ];
        if let Some(p) = self.auth_pass {
            a.extend(["--auth-pass".into(), p.into()]);
        }
        a.extend(self.addresses.iter().map(|s| (*s).to_owned()));
        a
    }

    fn ipv6(&self) -> bool {
        self.src.contains(':')
    }

    fn to_group(&self) -> bool {
        self.dst.parse::<IpAddr>().expect("dst").is_multicast()
    }

    /// The checksum modes whose computation equals this frame's checksum.
    fn expected_modes(&self) -> Vec<&'static str> {
        match (self.mode, self.to_group()) {
            ("v2", _) => vec!["v2"],
            ("v3_pseudo" | "v3_pseudo_mcast", true) => vec!["v3_pseudo", "v3_pseudo_mcast"],
            ("v3_pseudo", false) => vec!["v3_pseudo"],
            ("v3_pseudo_mcast", false) => vec!["v3_pseudo_mcast"],
            ("v3_no_pseudo", _) => vec!["v3_no_pseudo"],
            (m, _) => panic!("unknown mode {m}"),
        }
    }

    /// Whether tshark reports the checksum good, with `vrrp.v3_checksum_as_in_v2` = `v3_as_v2`.
    fn tshark_good(&self, v3_as_v2: bool) -> bool {
        let tshark_mode = match (self.version, self.ipv6(), v3_as_v2) {
            (2, _, _) => "v2",
            (_, false, true) => "v3_no_pseudo",
            _ => "v3_pseudo",
        };
        self.expected_modes().contains(&tshark_mode)
    }
}

/// v2 and v3 × IPv4 and IPv6 × every checksum mode, to the group and to a unicast peer.
fn craft_matrix() -> Vec<Craft> {
    let mut out = vec![
        Craft {
            version: 2,
            vrid: 17,
            priority: 100,
            interval: 1,
            src: "192.0.2.1",
            dst: "224.0.0.18",
            auth_pass: Some("1717"),
            mode: "v2",
            addresses: &["192.0.2.100"],
        },
        Craft {
            version: 2,
            vrid: 51,
            priority: 255,
            interval: 3,
            src: "192.0.2.1",
            dst: "192.0.2.2",
            auth_pass: None,
            mode: "v2",
            addresses: &["192.0.2.101", "192.0.2.102", "192.0.2.103"],
        },
    ];
    for mode in ["v3_pseudo", "v3_no_pseudo", "v3_pseudo_mcast"] {
        for (src, dst, addresses) in [
            ("192.0.2.1", "224.0.0.18", &["192.0.2.133"][..]),
            (
                "192.0.2.1",
                "192.0.2.2",
                &["192.0.2.144", "198.51.100.7"][..],
            ),
            ("fe80::1", "ff02::12", &["fe80::66", "2001:db8::66"][..]),
            ("fe80::1", "fe80::2", &["fe80::77"][..]),
        ] {
            out.push(Craft {
                version: 3,
                vrid: 200,
                priority: 0,
                interval: 4095,
                src,
                dst,
                auth_pass: None,
                mode,
                addresses,
            });
        }
    }
    // Distinct field values per frame, so a mix-up would show.
    for (i, c) in out.iter_mut().enumerate().skip(2) {
        c.vrid = 100 + i as u8;
        c.priority = 10 * i as u8;
        c.interval = 5 * i as u16;
    }
    out
}

fn read_frames(path: &Path) -> (DataLink, Vec<Vec<u8>>) {
    let mut r = PcapReader::new(std::fs::File::open(path).expect("open")).expect("pcap");
    let link = r.header().datalink;
    let mut frames = Vec::new();
    while let Some(p) = r.next_packet() {
        frames.push(p.expect("packet").data.into_owned());
    }
    (link, frames)
}

fn write_pcap(path: &Path, link: DataLink, frames: &[Vec<u8>]) {
    let header = PcapHeader {
        datalink: link,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(path).expect("create"), header)
        .expect("header");
    for f in frames {
        let len = u32::try_from(f.len()).expect("small");
        w.write_packet(&PcapPacket::new(std::time::Duration::ZERO, len, f))
            .expect("write");
    }
}

#[test]
fn crafted_frames_decode_in_tshark_and_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let matrix = craft_matrix();
    let mut frames = Vec::new();
    for (i, c) in matrix.iter().enumerate() {
        let path = dir.path().join(format!("craft{i}.pcap"));
        let out = Command::new(BIN).args(c.args(&path)).output().expect("run");
        assert!(
            out.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (link, f) = read_frames(&path);
        assert_eq!(link, DataLink::ETHERNET);
        assert_eq!(f.len(), 1, "one frame per craft");
        frames.push(f.into_iter().next().expect("frame"));

        // decode round-trips the flags.
        let objs = decode(&[&path]);
        assert_eq!(objs.len(), 1);
        let o = &objs[0];
        let what = format!("{c:?}");
        assert_eq!(o["src"], c.src, "{what}");
        assert_eq!(o["dst"], c.dst, "{what}");
        assert_eq!(o["ttl"], 255, "{what}");
        assert_eq!(o["version"], c.version, "{what}");
        assert_eq!(o["type"], 1, "{what}");
        assert_eq!(o["vrid"], c.vrid, "{what}");
        assert_eq!(o["priority"], c.priority, "{what}");
        assert_eq!(o["interval"], c.interval, "{what}");
        assert_eq!(o["count"], c.addresses.len(), "{what}");
        assert_eq!(o["addresses"], serde_json::json!(c.addresses), "{what}");
        assert_eq!(
            o["checksum_modes"],
            serde_json::json!(c.expected_modes()),
            "{what}"
        );
        assert_eq!(o["checksum_ok"], true, "{what}");
        assert_eq!(o.get("error"), None, "{what}: {o}");
        if c.version == 2 {
            assert_eq!(o["auth_type"], u8::from(c.auth_pass.is_some()), "{what}");
            assert_eq!(
                o.get("auth_data").and_then(Value::as_str),
                c.auth_pass,
                "{what}"
            );
        } else {
            assert_eq!(o.get("auth_type"), None, "{what}");
        }
    }

    if !lvs_testkit::have("tshark") {
        println!(
            "SKIP tshark part of crafted_frames_decode_in_tshark_and_round_trip: tshark not installed"
        );
        return;
    }
    // tshark reads a crafted file as written...
    let first = tshark(&dir.path().join("craft0.pcap"), false);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["vrrp.checksum.status"], "1");
    // ...and all crafted frames in one file per preference (tshark start-up is slow).
    let all = dir.path().join("all.pcap");
    write_pcap(&all, DataLink::ETHERNET, &frames);
    let ours = decode(&[&all]);
    for v3_as_v2 in [false, true] {
        let rows = tshark(&all, v3_as_v2);
        assert_eq!(rows.len(), matrix.len());
        for ((c, row), o) in matrix.iter().zip(&rows).zip(&ours) {
            let what = format!("{c:?} (tshark v3_checksum_as_in_v2={v3_as_v2})");
            assert_same_as_tshark(&what, o, row);
            let good = if c.tshark_good(v3_as_v2) { "1" } else { "0" };
            assert_eq!(row["vrrp.checksum.status"], good, "{what}");
            // RFC 9568 §7.3 / keepalived: TTL 255, protocol 112, TOS 0xc0, virtual router MAC.
            let family = if c.ipv6() { 2 } else { 1 };
            assert_eq!(
                row["eth.src"],
                format!("00:00:5e:00:{family:02x}:{:02x}", c.vrid),
                "{what}"
            );
            let dst_mac = match c.dst {
                "224.0.0.18" => "01:00:5e:00:00:12",
                "ff02::12" => "33:33:00:00:00:12",
                _ => "ff:ff:ff:ff:ff:ff",
            };
            assert_eq!(row["eth.dst"], dst_mac, "{what}");
            if c.ipv6() {
                assert_eq!(row["ipv6.nxt"], "112", "{what}");
            } else {
                assert_eq!(row["ip.proto"], "112", "{what}");
                assert_eq!(row["ip.dsfield"], "0xc0", "{what}");
            }
        }
    }
    // Each mode is correct for tshark in at least one setting, except the two tshark cannot
    // express, which our decode names exactly.
    for c in &matrix {
        let never = !c.tshark_good(false) && !c.tshark_good(true);
        let inexpressible = (c.mode == "v3_pseudo_mcast" && !c.to_group())
            || (c.mode == "v3_no_pseudo" && c.ipv6());
        assert_eq!(never, inexpressible, "{c:?}");
        if never {
            assert_eq!(c.expected_modes(), [c.mode], "{c:?}");
        }
    }
}

#[test]
fn decode_reads_every_link_type_and_skips_what_is_not_vrrp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let crafted = dir.path().join("c.pcap");
    let c = &craft_matrix()[0];
    assert!(
        run(&c
            .args(&crafted)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>())
        .status
        .success()
    );
    let (_, frames) = read_frames(&crafted);
    let frame = &frames[0];
    let expected = decode(&[&crafted]);

    // Not VRRP: an ARP frame, and an IPv4/UDP datagram.
    let mut arp = frame.clone();
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    let mut udp = frame.clone();
    udp[14 + 9] = 17;
    // A frame padded to the Ethernet minimum, as a NIC sends it.
    let padded = dir.path().join("padded.pcap");
    let mut args = c.args(&padded);
    args.push("--pad".into());
    assert!(
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .status
            .success()
    );
    let (_, padded_frames) = read_frames(&padded);
    assert_eq!(padded_frames[0].len(), 60);
    assert_eq!(decode(&[&padded]), expected);

    // An 802.1Q-tagged frame (VLAN 42).
    let mut tagged = frame[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 42]);
    tagged.extend_from_slice(&frame[12..]);
    let vlan = dir.path().join("vlan.pcap");
    write_pcap(&vlan, DataLink::ETHERNET, &[tagged]);
    assert_eq!(decode(&[&vlan]), expected);

    let mixed = dir.path().join("mixed.pcap");
    write_pcap(
        &mixed,
        DataLink::ETHERNET,
        &[arp.clone(), frame.clone(), udp.clone()],
    );
    assert_eq!(decode(&[&mixed]), expected);

    // Raw IP link types: LINKTYPE_RAW, LINKTYPE_IPV4.
    let ip = frame[14..].to_vec();
    for link in [DataLink::RAW, DataLink::IPV4] {
        let p = dir.path().join("raw.pcap");
        write_pcap(&p, link, &[ip.clone(), udp[14..].to_vec()]);
        assert_eq!(decode(&[&p]), expected, "{link:?}");
    }
    // Linux cooked v1 (tcpdump -i any) with a non-IP frame in between.
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let mut sll_arp = sll.clone();
    sll_arp[14..16].copy_from_slice(&[0x08, 0x06]);
    let p = dir.path().join("sll.pcap");
    write_pcap(&p, DataLink::LINUX_SLL, &[sll_arp, sll]);
    assert_eq!(decode(&[&p]), expected);

    // pcapng, as tshark/dumpcap write by default: two interfaces of different link types.
    let ng = dir.path().join("c.pcapng");
    write_pcapng(
        &ng,
        [
            (DataLink::ETHERNET, vec![arp, frame.clone()]),
            (DataLink::RAW, vec![ip]),
        ]
        .into_iter(),
    );
    let twice = decode(&[&ng]);
    assert_eq!(twice.len(), 2);
    assert!(twice.iter().all(|o| *o == expected[0]));
}

#[test]
fn decode_reports_the_broken_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let craft = |name: &str, extra: &[&str], c: &Craft| -> Value {
        let p = dir.path().join(name);
        let mut args = c.args(&p);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let objs = decode(&[&p]);
        assert_eq!(objs.len(), 1);
        objs.into_iter().next().expect("one")
    };
    let v2 = craft_matrix()[0].clone();
    let o = craft("ttl.pcap", &["--ttl", "64"], &v2);
    assert_eq!(o["error"], "ttl");
    assert_eq!(o["ttl"], 64);

    let v6 = Craft {
        version: 3,
        vrid: 9,
        priority: 100,
        interval: 100,
        src: "fe80::1",
        dst: "ff02::12",
        auth_pass: None,
        mode: "v3_pseudo",
        addresses: &["2001:db8::9"],
    };
    let o = craft("ll.pcap", &[], &v6);
    assert_eq!(o["error"], "ipv6_link_local");
    assert_eq!(o["checksum_ok"], true);

    // A corrupted checksum: no mode matches.
    let p = dir.path().join("ok.pcap");
    assert!(
        run(&v2.args(&p).iter().map(String::as_str).collect::<Vec<_>>())
            .status
            .success()
    );
    let (_, mut frames) = read_frames(&p);
    frames[0][14 + 20 + 6] ^= 0xff;
    let bad = dir.path().join("bad.pcap");
    write_pcap(&bad, DataLink::ETHERNET, &frames);
    let o = &decode(&[&bad])[0];
    assert_eq!(o["error"], "checksum");
    assert_eq!(o["checksum_ok"], false);
    assert_eq!(o["checksum_modes"], serde_json::json!([]));

    // A message cut short inside the IP datagram (IP lengths adjusted): "length".
    let mut short = frames[0].clone();
    short.truncate(short.len() - 4);
    let ip_len = u16::try_from(short.len() - 14).expect("small");
    short[16..18].copy_from_slice(&ip_len.to_be_bytes());
    short[24..26].copy_from_slice(&[0, 0]);
    let cut = dir.path().join("cut.pcap");
    write_pcap(&cut, DataLink::ETHERNET, &[short]);
    let o = &decode(&[&cut])[0];
    assert_eq!(o["error"], "length");
    assert_eq!(o["vrid"], v2.vrid);
}

#[test]
fn craft_rejects_bad_flag_combinations_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("never.pcap");
    let o = out.display().to_string();
    let base = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["craft", "-w", &o, "--vrid", "7", "--priority", "100"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    };
    let many: Vec<String> = (0..256)
        .map(|i| format!("198.51.100.{}", i % 256))
        .collect();
    let mut too_many = base(&[
        "--version",
        "3",
        "--interval",
        "100",
        "--src",
        "192.0.2.1",
        "--dst",
        "224.0.0.18",
    ]);
    too_many.extend(many);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "100",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "--auth-pass",
                "1717",
                "192.0.2.9",
            ]),
            "VRRPv3 has no authentication",
        ),
        (
            base(&[
                "--version",
                "2",
                "--interval",
                "1",
                "--src",
                "fe80::1",
                "--dst",
                "ff02::12",
                "fe80::9",
            ]),
            "VRRPv2 is IPv4 only",
        ),
        (too_many, "at most 255"),
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "4096",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "192.0.2.9",
            ]),
            "1-4095 centiseconds",
        ),
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "0",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "192.0.2.9",
            ]),
            "1-4095 centiseconds",
        ),
        (
            base(&[
                "--version",
                "2",
                "--interval",
                "256",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "192.0.2.9",
            ]),
            "1-255 whole seconds",
        ),
        (
            base(&[
                "--version",
                "2",
                "--interval",
                "1",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "--auth-pass",
                "123456789",
                "192.0.2.9",
            ]),
            "at most 8",
        ),
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "100",
                "--src",
                "192.0.2.1",
                "--dst",
                "ff02::12",
                "192.0.2.9",
            ]),
            "different address families",
        ),
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "100",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "2001:db8::1",
            ]),
            "not of the family",
        ),
        (
            base(&[
                "--version",
                "2",
                "--interval",
                "1",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "--checksum-mode",
                "v3_pseudo",
                "192.0.2.9",
            ]),
            "VRRPv3 mode",
        ),
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "1",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "--checksum-mode",
                "v2",
                "192.0.2.9",
            ]),
            "v3_no_pseudo",
        ),
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "1",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "--checksum-mode",
                "crc32",
                "192.0.2.9",
            ]),
            "one of v2, v3_pseudo, v3_no_pseudo, v3_pseudo_mcast",
        ),
        (
            base(&[
                "--version",
                "4",
                "--interval",
                "1",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
                "192.0.2.9",
            ]),
            "VRRP versions are 2",
        ),
        (
            base(&[
                "--version",
                "3",
                "--interval",
                "1",
                "--src",
                "192.0.2.1",
                "--dst",
                "224.0.0.18",
            ]),
            "required",
        ),
    ];
    for (args, needle) in cases {
        let outp = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let stderr = String::from_utf8_lossy(&outp.stderr);
        assert!(!outp.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(needle),
            "{args:?}: stderr {stderr:?} lacks {needle:?}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
    // --priority and --vrid out of u8 range are clap errors, not panics.
    let outp = run(&base(&["--priority", "256"])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(!outp.status.success());
    assert!(!String::from_utf8_lossy(&outp.stderr).contains("panicked"));
}

#[test]
fn decode_fails_only_for_unreadable_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = data_dir().join("v2_pass.pcap");
    let missing = dir.path().join("missing.pcap");
    let garbage = dir.path().join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all").expect("write");
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").expect("write");

    for (bad, needle) in [
        (&missing, "cannot open"),
        (&garbage, "not a pcap or pcapng file"),
        (&empty, "too short for a capture file"),
    ] {
        let out = Command::new(BIN)
            .arg("decode")
            .arg(&good)
            .arg(bad)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}", bad.display());
        assert!(stderr.contains(needle), "{stderr}");
        assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        // The readable file is still decoded.
        assert_eq!(parse_lines(&out.stdout), decode(&[&good]));
    }

    // A file with no VRRP in it is readable: success, no output.
    let c = &craft_matrix()[0];
    let p = dir.path().join("c.pcap");
    assert!(
        run(&c.args(&p).iter().map(String::as_str).collect::<Vec<_>>())
            .status
            .success()
    );
    let (_, frames) = read_frames(&p);
    let mut arp = frames[0].clone();
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    let none = dir.path().join("none.pcap");
    write_pcap(&none, DataLink::ETHERNET, &[arp]);
    assert!(decode(&[&none]).is_empty());
}
