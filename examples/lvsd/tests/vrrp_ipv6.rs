//! VRRPv3 over IPv6 (raw IPv6 sockets, ff02::12, hop limit 255, link-local source, unsolicited
//! NAs) between two lvsd and with Debian's keepalived both ways, and unicast peers with
//! keepalived (IPv4).

mod vrrp_support;

use std::process::Child;
use std::time::{Duration, Instant};

use lvs_testkit::{Netns, skip_unless, wait_until};
use vrrp_support::*;

const VIP6: &str = "2001:db8::66";
/// Skew_Time of the priority-90 backup, plus slack for polling and keepalived's shutdown.
const TAKEOVER_SLACK: Duration = Duration::from_millis(600);

fn holds6(ns: &Netns, addr: &str) -> bool {
    ns.run(&["ip", "-6", "-o", "addr", "show", "dev", "eth0"])
        .is_ok_and(|out| out.contains(&format!(" {addr}/")))
}

/// The pair, once both eth0 have a usable (non-tentative) link-local address.
fn pair6(tag: &str) -> Pair {
    let p = Pair::new(tag);
    for ns in [&p.a, &p.b] {
        assert!(
            wait_until(Duration::from_secs(5), POLL, || ns
                .run(&[
                    "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"
                ])
                .is_ok_and(|o| o.contains("fe80::") && !o.contains("tentative"))),
            "no link-local address"
        );
    }
    p
}

fn link_local(ns: &Netns) -> String {
    let out = ns
        .run(&[
            "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link",
        ])
        .expect("ip");
    let word = out
        .split_whitespace()
        .find(|w| w.starts_with("fe80::"))
        .expect("link-local address");
    word.split('/').next().expect("address").to_owned()
}

/// `v6-*.conf` without the link-local first address: what keepalived users usually write.
fn global_only(p: &Pair, base: &str, name: &str) -> std::path::PathBuf {
    p.conf_from(base, name, |t| t.replace("        fe80::66/64\n", ""))
}

#[test]
fn ipv6_pair_elects_announces_and_fails_over() {
    if skip_unless(
        "ipv6_pair_elects_announces_and_fails_over",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let p = pair6("lvsd6p");
    let a_ll = link_local(&p.a);
    let cap = Capture::start(
        &p,
        p.lan.ns(),
        "v6.txt",
        &[
            "-i",
            "br0",
            "-v",
            "ip6 proto 112 or (icmp6 and ip6[40] == 136)",
        ],
    );
    let b = p.start(&p.b, "v6-b.conf", "b.log");
    let a = p.start(&p.a, "v6-a.conf", "a.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds6(&p.a, VIP6)),
        "A never took {VIP6}\nA: {}\nB: {}",
        p.log("a.log"),
        p.log("b.log")
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(holds6(&p.a, VIP6), "A lost the VIP: {}", p.log("a.log"));
    assert!(holds6(&p.a, "fe80::66"), "A: {}", p.log("a.log"));
    assert!(!holds6(&p.b, VIP6), "split brain\nB: {}", p.log("b.log"));
    assert!(p.log("b.log").contains("Entering BACKUP STATE"));
    let text = cap.text();
    // A's adverts: from its link-local address to ff02::12, hop limit 255.
    let adverts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(&format!("{a_ll} > ff02::12")))
        .collect();
    assert!(adverts.len() >= 2, "no adverts from {a_ll}: {text}");
    assert!(
        adverts.iter().all(|l| l.contains("hlim 255")),
        "hop limit not 255: {text}"
    );
    // And its unsolicited neighbour advertisement for the VIP.
    assert!(
        text.contains(&format!("neighbor advertisement, length 32, tgt is {VIP6}")),
        "no unsolicited NA for {VIP6}: {text}"
    );

    let t_kill = Instant::now();
    kill(a);
    assert!(
        wait_until(MDI_B + Duration::from_secs(2), POLL, || holds6(&p.b, VIP6)),
        "B never took over: {}",
        p.log("b.log")
    );
    let took = t_kill.elapsed();
    assert!(
        took >= MDI_B - Duration::from_secs(1) && took <= MDI_B + Duration::from_millis(500),
        "takeover after {took:?}, Master_Down_Interval {MDI_B:?}"
    );
    eprintln!("IPv6 SIGKILL takeover after {took:?} (Master_Down_Interval {MDI_B:?})");
    // The killed master's kernel still holds the VIP: B's copy must not fail duplicate
    // address detection (VIPs are added without DAD, as keepalived does).
    std::thread::sleep(Duration::from_secs(2));
    let b_addrs =
        p.b.run(&["ip", "-6", "-o", "addr", "show", "dev", "eth0"])
            .expect("ip");
    let vip_line = b_addrs
        .lines()
        .find(|l| l.contains(&format!(" {VIP6}/")))
        .unwrap_or_else(|| panic!("B lost {VIP6}: {b_addrs}"));
    assert!(
        !vip_line.contains("dadfailed") && !vip_line.contains("tentative"),
        "B's VIP is not usable: {vip_line}"
    );
    kill(b);
}

/// A (keepalived or lvsd, priority 100) is master, B (the other, priority 90) backup for longer
/// than its Master_Down_Interval; SIGTERM on A hands over to B within Skew_Time.
fn interop6(p: &Pair, a: Child, a_log: &str, b_log: &str, b_is_lvsd: bool) {
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds6(&p.a, VIP6)),
        "A never took {VIP6}\nA: {}\nB: {}",
        p.log(a_log),
        p.log(b_log)
    );
    // B may have been master for a moment if its down timer beat A's first advert (keepalived
    // can take seconds to start): from now on it must stay backup.
    assert!(
        wait_until(Duration::from_secs(5), POLL, || !holds6(&p.b, VIP6)),
        "split brain\nA: {}\nB: {}",
        p.log(a_log),
        p.log(b_log)
    );
    let masters = p.log(b_log).matches("Entering MASTER STATE").count();
    std::thread::sleep(MDI_B + Duration::from_secs(1));
    assert!(holds6(&p.a, VIP6), "A: {}", p.log(a_log));
    assert!(
        !holds6(&p.b, VIP6),
        "split brain\nA: {}\nB: {}",
        p.log(a_log),
        p.log(b_log)
    );
    let blog = p.log(b_log);
    assert!(blog.contains("Entering BACKUP STATE"), "{blog}");
    assert_eq!(
        blog.matches("Entering MASTER STATE").count(),
        masters,
        "B left backup while A was master: {blog}"
    );

    let t_term = Instant::now();
    signal(&a, "TERM");
    assert!(
        wait_until(Duration::from_secs(5), POLL, || holds6(&p.b, VIP6)),
        "B never took over\nB: {}",
        p.log(b_log)
    );
    let took = t_term.elapsed();
    assert!(took <= SKEW_B + TAKEOVER_SLACK, "took {took:?}");
    if b_is_lvsd {
        let blog = p.log(b_log);
        assert!(
            blog.contains("to=master reason=master sent priority 0"),
            "{blog}"
        );
    }
    eprintln!("IPv6 SIGTERM hand-over after {took:?}");
    kill(a);
}

#[test]
fn interop_ipv6_keepalived_master_lvsd_backup() {
    if skip_unless(
        "interop_ipv6_keepalived_master_lvsd_backup",
        &["ip", "keepalived"],
    ) {
        return;
    }
    let p = pair6("lvsd6kb");
    let ca = global_only(&p, "v6-a.conf", "a.conf");
    let cb = global_only(&p, "v6-b.conf", "b.conf");
    let b = p.start_path(&p.b, &cb, "b.log");
    let k = p.start_keepalived_path(&p.a, &ca, "ka.log");
    interop6(&p, k, "ka.log", "b.log", true);
    kill(b);
}

#[test]
fn interop_ipv6_lvsd_master_keepalived_backup() {
    if skip_unless(
        "interop_ipv6_lvsd_master_keepalived_backup",
        &["ip", "keepalived"],
    ) {
        return;
    }
    let p = pair6("lvsd6lk");
    // With the link-local first address this time (RFC 9568 style): keepalived accepts both.
    let k = p.start_keepalived(&p.b, "v6-b.conf", "kb.log");
    let a = p.start(&p.a, "v6-a.conf", "a.log");
    interop6(&p, a, "a.log", "kb.log", false);
    let klog = p.log("kb.log");
    assert!(klog.contains("Entering MASTER STATE"), "{klog}");
    kill(k);
}

#[test]
fn interop_unicast_peers_with_keepalived() {
    if skip_unless(
        "interop_unicast_peers_with_keepalived",
        &["ip", "keepalived", "tcpdump"],
    ) {
        return;
    }
    let p = Pair::new("lvsdku");
    let uni = |me: &'static str, peer: &'static str| {
        move |t: String| {
            t.replace(
                "    virtual_ipaddress {",
                &format!(
                    "    unicast_src_ip {me}\n    unicast_peer {{\n        {peer}\n    }}\n    virtual_ipaddress {{"
                ),
            )
        }
    };
    let ca = p.conf_from("node-a.conf", "ua.conf", uni("192.0.2.1", "192.0.2.2"));
    let cb = p.conf_from("node-b.conf", "ub.conf", uni("192.0.2.2", "192.0.2.1"));
    let cap = Capture::start(&p, p.lan.ns(), "vrrp.txt", &["-i", "br0", "ip proto 112"]);
    // lvsd master (A), keepalived backup (B): B hears A's unicast adverts and stays backup.
    // lvsd first, so keepalived hears a master from its first moment (keepalived's start-up
    // time varies with the machine's load).
    let a = p.start_path(&p.a, &ca, "a.log");
    assert!(
        wait_vip(&p.a, Duration::from_secs(10)).is_some(),
        "A: {}",
        p.log("a.log")
    );
    let k = p.start_keepalived_path(&p.b, &cb, "kb.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || p
            .log("kb.log")
            .contains("Entering BACKUP STATE")),
        "keepalived: {}",
        p.log("kb.log")
    );
    std::thread::sleep(MDI_B + Duration::from_secs(1));
    assert!(
        !holds_vip(&p.b),
        "split brain\nkeepalived: {}",
        p.log("kb.log")
    );
    let klog = p.log("kb.log");
    assert!(!klog.contains("Entering MASTER STATE"), "{klog}");
    let text = cap.text();
    assert!(
        text.contains("192.0.2.1 > 192.0.2.2: VRRPv2"),
        "no unicast advert from lvsd: {text}"
    );
    assert!(!text.contains("224.0.0.18"), "multicast advert: {text}");

    // lvsd stops: keepalived takes over within Skew_Time.
    let t_term = Instant::now();
    signal(&a, "TERM");
    assert!(
        wait_vip(&p.b, Duration::from_secs(5)).is_some(),
        "keepalived: {}",
        p.log("kb.log")
    );
    let took = t_term.elapsed();
    assert!(took <= SKEW_B + TAKEOVER_SLACK, "took {took:?}");
    kill(a);

    // lvsd comes back with priority 100: it hears keepalived's lower-priority unicast adverts
    // and preempts it.
    let a = p.start_path(&p.a, &ca, "a2.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds_vip(&p.a)
            && !holds_vip(&p.b)),
        "A: {}\nkeepalived: {}",
        p.log("a2.log"),
        p.log("kb.log")
    );
    let alog = p.log("a2.log");
    assert!(
        alog.contains("to=master reason=preempted lower-priority master"),
        "{alog}"
    );
    assert!(
        cap.text().contains("192.0.2.2 > 192.0.2.1: VRRPv2"),
        "no unicast advert from keepalived: {}",
        cap.text()
    );
    eprintln!("unicast: keepalived took over from lvsd after {took:?}");
    kill(a);
    kill(k);
}
