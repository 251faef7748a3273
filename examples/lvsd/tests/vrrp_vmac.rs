//! `use_vmac`: the instance runs on a macvlan `vrrp.<VRID>` with the VRRP virtual MAC; adverts
//! and gratuitous ARPs leave from that MAC, the VIP lives on the macvlan, and the macvlan goes
//! away with the daemon.

mod vrrp_support;

use std::time::{Duration, Instant};

use lvs_testkit::{skip_unless, wait_until};
use vrrp_support::*;

/// VRID 17 = 0x11.
const VMAC: &str = "00:00:5e:00:01:11";

fn vmac_conf(t: String) -> String {
    t.replace(
        "    virtual_router_id 17\n",
        "    virtual_router_id 17\n    use_vmac\n",
    )
}

#[test]
fn use_vmac_sends_from_the_virtual_mac() {
    if skip_unless("use_vmac_sends_from_the_virtual_mac", &["ip", "tcpdump"]) {
        return;
    }
    let p = Pair::new("lvsdvm");
    let ca = p.conf_from("node-a.conf", "a.conf", vmac_conf);
    let cb = p.conf_from("node-b.conf", "b.conf", vmac_conf);
    let cap = Capture::start(
        &p,
        p.lan.ns(),
        "frames.txt",
        &["-i", "br0", "-e", "ip proto 112 or arp"],
    );
    let mut a = p.start_path(&p.a, &ca, "a.log");
    let b = p.start_path(&p.b, &cb, "b.log");
    assert!(
        wait_until(Duration::from_secs(10), POLL, || holds(
            &p.a, "vrrp.17", VIP
        )),
        "A: {}",
        p.log("a.log")
    );
    let link =
        p.a.run(&["ip", "-o", "link", "show", "vrrp.17"])
            .expect("vrrp.17");
    assert!(link.contains(&format!("link/ether {VMAC}")), "{link}");
    assert!(link.contains("macvlan") || link.contains("@eth0"), "{link}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !holds(&p.b, "vrrp.17", VIP),
        "split brain: {}",
        p.log("b.log")
    );
    let blog = p.log("b.log");
    assert!(blog.contains("Entering BACKUP STATE"), "{blog}");
    assert!(!blog.contains("Entering MASTER STATE"), "{blog}");
    let text = cap.text();
    let adverts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("192.0.2.1 > 224.0.0.18"))
        .collect();
    assert!(adverts.len() >= 2, "no adverts from A: {text}");
    assert!(
        adverts
            .iter()
            .all(|l| l.contains(&format!("{VMAC} > 01:00:5e:00:00:12"))),
        "adverts not from the virtual MAC: {text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("{VMAC} > ff:ff:ff:ff:ff:ff"))
                && l.contains(&format!("who-has {VIP} "))
                && l.contains(&format!("tell {VIP},"))),
        "no gratuitous ARP from the virtual MAC: {text}"
    );

    // SIGTERM: B takes over on its own VMAC; A removes its macvlan.
    let t0 = Instant::now();
    signal(&a, "TERM");
    assert!(
        wait_until(Duration::from_secs(5), POLL, || holds(&p.b, "vrrp.17", VIP)),
        "B: {}",
        p.log("b.log")
    );
    let took = t0.elapsed();
    assert!(took <= SKEW_B + Duration::from_millis(600), "took {took:?}");
    assert_eq!(wait_exit(&mut a, Duration::from_secs(5)), Some(0));
    assert!(
        p.a.run(&["ip", "link", "show", "vrrp.17"]).is_err(),
        "A left vrrp.17 behind: {}",
        p.log("a.log")
    );
    kill(b);
}
