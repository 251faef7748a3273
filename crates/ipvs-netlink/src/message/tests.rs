//! Golden bytes, derived by hand from `include/uapi/linux/ip_vs.h` (attribute numbers and
//! types), `net/netfilter/ipvs/ip_vs_ctl.c` (policies: `nla_get_be16` for ports,
//! `nla_get_be32` for the netmask) and libipvs (`ipvs_nl_fill_service_attr`: 16-byte
//! addresses, the flags struct with mask `~0`). Host order is little-endian here (x86_64).

use super::*;

/// Hex bytes, one group of lines; on each line, text after two spaces is a comment.
fn hex(s: &str) -> Vec<u8> {
    let s: String = s
        .lines()
        .map(|l| l.trim_start().split("  ").next().unwrap_or(""))
        .flat_map(|l| l.split_whitespace())
        .collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const FAMILY: u16 = 0x24;

fn svc_key() -> ServiceKey {
    ServiceKey::tcp("192.0.2.1:80".parse().unwrap())
}

/// `ipvsadm -A -t 192.0.2.1:80 -s wlc`
#[cfg(target_endian = "little")]
static NEW_SERVICE: &str = "
    68000000 2400 0500 01000000 00000000   nlmsghdr: len 104, type 0x24, REQUEST|ACK, seq 1
    01 01 0000                             genlmsghdr: NEW_SERVICE, version 1
    5400 0100                              IPVS_CMD_ATTR_SERVICE, len 84
      0600 0100 0200 0000                  AF = AF_INET (u16)
      0600 0200 0600 0000                  PROTOCOL = 6 (u16)
      1400 0300 c0000201 00000000 00000000 00000000   ADDR 192.0.2.1 (16 bytes)
      0600 0400 0050 0000                  PORT = 80, big-endian
      0800 0600 776c6300                   SCHED_NAME \"wlc\\0\"
      0c00 0700 00000000 ffffffff          FLAGS {flags 0, mask ~0}
      0800 0800 00000000                   TIMEOUT 0
      0800 0900 ffffffff                   NETMASK 255.255.255.255 (network order)
";

#[test]
#[cfg(target_endian = "little")]
fn new_service_golden() {
    let mut buf = Vec::new();
    Request::NewService(Service::new(svc_key())).emit(&mut buf, FAMILY, 1, true);
    assert_eq!(buf, hex(NEW_SERVICE));
}

/// `ipvsadm -A -t 192.0.2.1:80 -s sh -p 100 -M 255.255.255.0 -b sh-fallback,sh-port`
#[test]
#[cfg(target_endian = "little")]
fn persistent_service_with_netmask_and_flags_golden() {
    let mut s = Service::new(svc_key())
        .scheduler(Scheduler::SourceHashing)
        .persistent(100);
    s.netmask = Netmask::V4("255.255.255.0".parse().unwrap());
    s.flags |= ServiceFlags::SCHED_SH_FALLBACK | ServiceFlags::SCHED_SH_PORT;
    let mut buf = Vec::new();
    Request::SetService(s).emit(&mut buf, FAMILY, 2, false);
    let want = hex("
        68000000 2400 0100 02000000 00000000   len 104, REQUEST only, seq 2
        02 01 0000                             SET_SERVICE
        5400 0100
          0600 0100 0200 0000
          0600 0200 0600 0000
          1400 0300 c0000201 00000000 00000000 00000000
          0600 0400 0050 0000
          0700 0600 736800 00                  \"sh\\0\" + 1 pad
          0c00 0700 19000000 ffffffff          PERSISTENT|SCHED1|SCHED2 = 0x19
          0800 0800 64000000                   TIMEOUT 100
          0800 0900 ffffff00                   NETMASK 255.255.255.0 in network order
    ");
    assert_eq!(buf, want);
}

/// IPv6 service: prefix length as a host-order u32 (ipvsadm stores `netmask = 128`), 16-byte
/// address, and `--pe sip`.
#[test]
#[cfg(target_endian = "little")]
fn ipv6_service_golden() {
    let key = ServiceKey::tcp("[2001:db8::1]:443".parse().unwrap());
    let mut s = Service::new(key)
        .scheduler(Scheduler::WeightedRoundRobin)
        .persistent(360);
    s.netmask = Netmask::V6(64);
    s.pe_name = Some("sip".into());
    let mut buf = Vec::new();
    Request::NewService(s).emit(&mut buf, FAMILY, 3, true);
    let want = hex("
        70000000 2400 0500 03000000 00000000   len 112
        01 01 0000
        5c00 0100                              SERVICE, len 92
          0600 0100 0a00 0000                  AF_INET6 = 10
          0600 0200 0600 0000
          1400 0300 20010db8 00000000 00000000 00000001
          0600 0400 01bb 0000                  443 big-endian
          0800 0600 77727200                   \"wrr\\0\"
          0800 0b00 73697000                   PE_NAME \"sip\\0\"
          0c00 0700 01000000 ffffffff
          0800 0800 68010000                   360
          0800 0900 40000000                   prefix 64
    ");
    assert_eq!(buf, want);
}

/// `ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 3`: weight as u32, ports
/// big-endian, the tunnel attributes with their sizes (TUN_TYPE u8, TUN_PORT be16,
/// TUN_FLAGS u16).
#[test]
#[cfg(target_endian = "little")]
fn new_dest_golden() {
    let d = Destination::new("198.51.100.1:80".parse().unwrap())
        .forward(Forward::Masq)
        .weight(3);
    let mut buf = Vec::new();
    Request::NewDest(svc_key(), d).emit(&mut buf, FAMILY, 4, true);
    let want = hex("
        a4000000 2400 0500 04000000 00000000   len 164
        05 01 0000                             NEW_DEST
        3000 0100                              SERVICE (key only), len 48
          0600 0100 0200 0000
          0600 0200 0600 0000
          1400 0300 c0000201 00000000 00000000 00000000
          0600 0400 0050 0000
        6000 0200                              DEST, len 96
          1400 0100 c6336401 00000000 00000000 00000000
          0600 0200 0050 0000                  PORT 80 big-endian
          0800 0300 00000000                   FWD_METHOD MASQ
          0800 0400 03000000                   WEIGHT 3
          0800 0500 00000000                   U_THRESH
          0800 0600 00000000                   L_THRESH
          0600 0b00 0200 0000                  ADDR_FAMILY AF_INET
          0500 0d00 00 000000                  TUN_TYPE ipip (u8)
          0600 0e00 0000 0000                  TUN_PORT 0
          0600 0f00 0000 0000                  TUN_FLAGS nocsum
    ");
    assert_eq!(buf, want);
}

/// GUE tunnel port 6080 must be big-endian exactly once (cloudflare/ipvs sent it twice).
#[test]
#[cfg(target_endian = "little")]
fn gue_tunnel_port_is_big_endian_once() {
    let mut d = Destination::new("[2001:db8::5]:80".parse().unwrap()).forward(Forward::Tunnel);
    d.tun_type = TunnelType::Gue;
    d.tun_port = 6080;
    d.tun_flags = TunnelCsum::Csum;
    let mut buf = Vec::new();
    Request::SetDest(svc_key(), d).emit(&mut buf, FAMILY, 5, true);
    let find = |kind: u16| -> Vec<Vec<u8>> {
        // Locate attributes of the DEST nest by scanning: the nest starts after SERVICE.
        let dest = &buf[20 + 48 + 4..];
        Attrs::new(dest)
            .filter(|(k, _)| *k == kind)
            .map(|(_, v)| v.to_vec())
            .collect()
    };
    assert_eq!(find(14), vec![vec![0x17, 0xc0]]); // 6080 = 0x17c0, once
    assert_eq!(find(13), vec![vec![1]]); // GUE
    assert_eq!(find(15), vec![vec![1, 0]]); // CSUM, u16
    assert_eq!(find(3), vec![vec![2, 0, 0, 0]]); // TUNNEL
    assert_eq!(find(11), vec![vec![10, 0]]); // mixed family: AF_INET6 dest
}

#[test]
#[cfg(target_endian = "little")]
fn del_dest_and_fwmark_golden() {
    let key = ServiceKey::fwmark(5, Family::Inet6);
    let mut buf = Vec::new();
    Request::DelDest(key, "[2001:db8::7]:0".parse().unwrap()).emit(&mut buf, FAMILY, 6, true);
    let want = hex("
        50000000 2400 0500 06000000 00000000   len 80
        07 01 0000                             DEL_DEST
        1400 0100                              SERVICE len 20
          0600 0100 0a00 0000                  AF_INET6
          0800 0500 05000000                   FWMARK 5
        2800 0200                              DEST len 40
          1400 0100 20010db8 00000000 00000000 00000007
          0600 0200 0000 0000
          0600 0b00 0a00 0000
    ");
    assert_eq!(buf, want);
}

#[test]
#[cfg(target_endian = "little")]
fn config_info_flush_zero_daemon_golden() {
    let mut buf = Vec::new();
    Request::SetTimeouts(Timeouts {
        tcp: 900,
        tcp_fin: 0,
        udp: 300,
    })
    .emit(&mut buf, FAMILY, 7, true);
    assert_eq!(
        buf,
        hex("
        2c000000 2400 0500 07000000 00000000
        0c 01 0000                             SET_CONFIG
        0800 0400 84030000                     TIMEOUT_TCP 900
        0800 0500 00000000                     TIMEOUT_TCP_FIN 0 = unchanged
        0800 0600 2c010000                     TIMEOUT_UDP 300
    ")
    );
    for (req, cmd, dump) in [
        (Request::GetInfo, 15u8, false),
        (Request::GetTimeouts, 13, false),
        (Request::Flush, 17, false),
        (Request::Zero(None), 16, false),
        (Request::DumpServices, 4, true),
        (Request::DumpDaemons, 11, true),
    ] {
        let mut buf = Vec::new();
        req.emit(&mut buf, FAMILY, 9, !dump);
        let flags: u16 = if dump { 0x301 } else { 0x5 };
        let mut want = vec![20, 0, 0, 0, 0x24, 0];
        want.extend_from_slice(&flags.to_le_bytes());
        want.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0, cmd, 1, 0, 0]);
        assert_eq!(buf, want, "{req:?}");
    }
    let mut d = SyncDaemon::new(DaemonState::Backup, "eth1", 9);
    d.mcast_group = Some("224.0.0.81".parse().unwrap());
    d.mcast_port = Some(8848);
    d.mcast_ttl = Some(2);
    let mut buf = Vec::new();
    Request::NewDaemon(d).emit(&mut buf, FAMILY, 10, true);
    assert_eq!(
        buf,
        hex("
        4c000000 2400 0500 0a000000 00000000   len 76
        09 01 0000                             NEW_DAEMON
        3800 0300                              DAEMON len 56
          0800 0100 02000000                   STATE backup
          0900 0200 65746831 00 000000         MCAST_IFN \"eth1\\0\"
          0800 0300 09000000                   SYNC_ID 9
          0800 0500 e0000051                   MCAST_GROUP 224.0.0.81 (in_addr)
          0600 0700 9022 0000                  MCAST_PORT 8848 (u16, host order as the kernel reads it)
          0500 0800 02 000000                  MCAST_TTL 2
    ")
    );
}

/// A `NEW_SERVICE` reply shaped like `ip_vs_genl_fill_service`'s, written by hand, with an
/// attribute from the future (type 99), a STATS nest holding only two counters and a
/// 4-byte NLA_F_NESTED-flagged STATS64 nest: parsed tolerantly.
#[test]
#[cfg(target_endian = "little")]
fn parse_service_reply_golden() {
    let bytes = hex("
        a4000000 2400 0200 2a000000 39300000   len 164, MULTI, seq 42, pid 12345
        01 01 0000                             NEW_SERVICE
        9000 0100                              SERVICE len 144
          0600 0100 0200 0000
          0600 0200 1100 0000                  UDP
          1400 0300 c0000201 00000000 00000000 00000000
          0600 0400 0035 0000                  port 53
          0700 0600 727200 00                  \"rr\"
          0c00 0700 06000000 ffffffff          HASHED|ONEPACKET
          0800 0800 00000000
          0800 0900 ffffffff
          0800 6300 deadbeef                   unknown attribute 99
          1800 0a00                            STATS len 24
            0800 0100 07000000                 CONNS 7
            0c00 0400 00100000 00000000        INBYTES 4096 (u64)
          1c00 0c80                            STATS64 | NLA_F_NESTED, len 28
            0c00 0100 07000000 01000000        CONNS 2^32+7
            0c00 0900 40000000 00000000        INBPS 64
    ");
    let r = parse_reply(&bytes).unwrap();
    let mut want = Service::new(ServiceKey::udp("192.0.2.1:53".parse().unwrap()))
        .scheduler(Scheduler::RoundRobin);
    want.flags = ServiceFlags::HASHED | ServiceFlags::ONEPACKET;
    let Reply::Service(e) = &r[0].1 else {
        panic!("{r:?}")
    };
    assert_eq!(r[0].0, 42);
    assert_eq!(e.service, want);
    assert_eq!(e.stats.conns, 7);
    assert_eq!(e.stats.inbytes, 4096);
    assert_eq!(e.stats64.conns, (1 << 32) + 7);
    assert_eq!(e.stats64.inbps, 64);
}

/// A `NEW_DEST` reply: weight is a u32 (moby parsed it as u16), PERSIST_CONNS is read.
#[test]
#[cfg(target_endian = "little")]
fn parse_dest_reply_golden() {
    let bytes = hex("
        74000000 2400 0200 01000000 00000000   len 116
        05 01 0000
        6000 0200                              DEST len 96
          1400 0100 c6336402 00000000 00000000 00000000
          0600 0200 1f90 0000                  8080
          0800 0300 03000000                   DROUTE
          0800 0400 a0860100                   WEIGHT 100000 (> u16)
          0800 0500 0a000000                   U_THRESH 10
          0800 0600 05000000                   L_THRESH 5
          0800 0700 02000000                   ACTIVE 2
          0800 0800 03000000                   INACTIVE 3
          0800 0900 04000000                   PERSIST 4
          0600 0b00 0200 0000                  AF_INET
    ");
    let r = parse_reply(&bytes).unwrap();
    let Reply::Dest(e) = &r[0].1 else {
        panic!("{r:?}")
    };
    let mut d = Destination::new("198.51.100.2:8080".parse().unwrap()).weight(100_000);
    d.upper_threshold = 10;
    d.lower_threshold = 5;
    assert_eq!(e.dest, d);
    assert_eq!((e.active_conns, e.inact_conns, e.persist_conns), (2, 3, 4));
}

#[test]
#[cfg(target_endian = "little")]
fn parse_error_ack_with_extended_message() {
    // NLMSG_ERROR, flags CAPPED|ACK_TLVS, errno -EEXIST, capped request header, then
    // NLMSGERR_ATTR_MSG "boom".
    let bytes = hex("
        30000000 0200 0003 05000000 00000000
        efffffff                               -17
        10000000 2400 0500 05000000 00000000   original header
        0900 0100 626f6f6d 00 000000           MSG \"boom\"
    ");
    let r = parse_reply(&bytes).unwrap();
    assert_eq!(
        r,
        vec![(
            5,
            Reply::Ack {
                errno: libc::EEXIST,
                ext_msg: Some("boom".into())
            }
        )]
    );
}

#[test]
fn parse_reply_rejects_a_broken_header_and_survives_junk() {
    assert!(parse_reply(&[1, 2, 3]).is_err());
    assert!(parse_reply(&[0xff; 16]).is_err());
    // A valid header around garbage attributes: parsed as Other, no panic.
    let mut b = vec![
        28, 0, 0, 0, 0x24, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0,
    ];
    b.extend_from_slice(&[0xff, 0xff, 1, 0, 9, 9, 9, 9]);
    let r = parse_reply(&b).unwrap();
    assert!(matches!(r[0].1, Reply::Other { cmd: 1, .. }));
}

mod roundtrip {
    use super::*;
    use crate::message::tests_support::*;
    use proptest::prelude::*;

    fn roundtrip(r: Reply) {
        let mut buf = Vec::new();
        emit_reply(&r, &mut buf, FAMILY, 77, true);
        let got = parse_reply(&buf).unwrap();
        assert_eq!(got, vec![(77, r)]);
    }

    proptest! {
        #[test]
        fn service_reply_roundtrips(s in service(), st in stats(), st64 in stats64()) {
            roundtrip(Reply::Service(ServiceEntry { service: s, stats: st, stats64: st64 }));
        }

        #[test]
        fn dest_reply_roundtrips(d in dest(), a in any::<[u32; 3]>(), st in stats(), st64 in stats64()) {
            roundtrip(Reply::Dest(DestEntry {
                dest: d, active_conns: a[0], inact_conns: a[1], persist_conns: a[2], stats: st, stats64: st64,
            }));
        }

        #[test]
        fn daemon_timeouts_info_ack_roundtrip(d in daemon(), t in any::<[u32; 3]>(), i in any::<[u32; 2]>(), e in 0i32..4096) {
            roundtrip(Reply::Daemon(d));
            roundtrip(Reply::Timeouts(Timeouts { tcp: t[0], tcp_fin: t[1], udp: t[2] }));
            roundtrip(Reply::Info(Info { version: i[0], conn_tab_size: i[1] }));
            roundtrip(Reply::Ack { errno: e, ext_msg: None });
        }

        /// Requests carry the same attribute encodings as replies: a NEW_SERVICE request
        /// re-read by the reply parser gives the service back (the kernel's GET reply uses the
        /// same command number and nest).
        #[test]
        fn service_request_attributes_roundtrip(s in service()) {
            let mut buf = Vec::new();
            Request::NewService(s.clone()).emit(&mut buf, FAMILY, 1, true);
            let got = parse_reply(&buf).unwrap();
            let Reply::Service(e) = &got[0].1 else { panic!("{got:?}") };
            prop_assert_eq!(&e.service, &s);
        }

        /// Same for NEW_DEST: the DEST nest of the request parses back to the destination.
        #[test]
        fn dest_request_attributes_roundtrip(k in key(), d in dest()) {
            let mut buf = Vec::new();
            Request::NewDest(k, d).emit(&mut buf, FAMILY, 1, true);
            let got = parse_reply(&buf).unwrap();
            let Reply::Dest(e) = &got[0].1 else { panic!("{got:?}") };
            prop_assert_eq!(e.dest, d);
        }

        /// Parsing arbitrary bytes never panics.
        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_reply(&b);
        }
    }
}
