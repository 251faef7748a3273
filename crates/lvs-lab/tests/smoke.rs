//! Smoke tests of the kernel lab: what every other lab test relies on. They run inside the VM
//! (`cargo xtask test`, or `cargo xtask lab test -p lvs-lab`) and print SKIP on the host.
//!
//! Each test works in its own network namespaces (IPVS tables are per namespace), so the tests of
//! this binary can run in parallel in one VM.

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use lvs_lab::skip_unless_lab;
use lvs_testkit::{Lan, Netns, veth};

/// The names of the loaded modules (first column of /proc/modules).
fn loaded_modules() -> Vec<String> {
    std::fs::read_to_string("/proc/modules")
        .expect("/proc/modules")
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Whether the running kernel ships `name` as a module.
fn kernel_has_module(dir: &str, name: &str) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    let dir = Path::new("/lib/modules").join(release.trim()).join(dir);
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{name}.ko"))
            })
        })
        .unwrap_or(false)
}

#[test]
fn ipvs_is_present() {
    if skip_unless_lab("ipvs_is_present") {
        return;
    }
    assert!(loaded_modules().iter().any(|m| m == "ip_vs"));
    let ns = Netns::new("ipvs").unwrap();
    let out = ns.run(&["ipvsadm", "-Ln"]).unwrap();
    assert!(
        out.starts_with("IP Virtual Server version "),
        "ipvsadm -Ln printed {out:?}"
    );
    // A fresh namespace has an empty table.
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn schedulers_load_on_demand() {
    if skip_unless_lab("schedulers_load_on_demand") {
        return;
    }
    let ns = Netns::new("sched").unwrap();
    let mut schedulers = vec!["wrr", "mh", "sh"];
    if kernel_has_module("kernel/net/netfilter/ipvs", "ip_vs_twos") {
        schedulers.push("twos");
    } else {
        eprintln!("note: this kernel has no ip_vs_twos (CONFIG_IP_VS_TWOS unset)");
    }
    for (i, s) in schedulers.iter().enumerate() {
        let vip = format!("203.0.113.{}:80", i + 1);
        ns.run(&["ipvsadm", "-A", "-t", &vip, "-s", s])
            .unwrap_or_else(|e| panic!("scheduler {s}: {e}"));
        let module = format!("ip_vs_{s}");
        assert!(
            loaded_modules().contains(&module),
            "{module} not loaded after adding a service with -s {s}"
        );
        let table = ns.run(&["ipvsadm", "-Ln"]).unwrap();
        assert!(
            table
                .lines()
                .any(|l| l.contains(&format!("TCP  {vip} {s}"))),
            "{table}"
        );
    }
    // The kernel refuses a scheduler it does not have.
    let err = ns
        .run(&["ipvsadm", "-A", "-t", "203.0.113.99:80", "-s", "nosuch"])
        .unwrap_err();
    assert!(err.to_string().contains("cheduler"), "{err}");
}

#[test]
fn tunl0_comes_up_with_an_address() {
    if skip_unless_lab("tunl0_comes_up_with_an_address") {
        return;
    }
    assert!(loaded_modules().iter().any(|m| m == "ipip"));
    // ipip makes a fallback tunl0 in every namespace.
    let ns = Netns::new("tunl").unwrap();
    ns.run(&["ip", "link", "set", "tunl0", "up"]).unwrap();
    ns.run(&["ip", "addr", "add", "192.0.2.10/32", "dev", "tunl0"])
        .unwrap();
    let addr = ns
        .run(&["ip", "-o", "-4", "addr", "show", "dev", "tunl0"])
        .unwrap();
    assert!(addr.contains("inet 192.0.2.10/32"), "{addr}");
    let link = ns.run(&["ip", "-o", "link", "show", "tunl0"]).unwrap();
    assert!(link.contains("link/ipip") && link.contains(",UP"), "{link}");
}

#[test]
fn veth_pair_between_namespaces_passes_traffic() {
    if skip_unless_lab("veth_pair_between_namespaces_passes_traffic") {
        return;
    }
    let a = Netns::new("va").unwrap();
    let b = Netns::new("vb").unwrap();
    veth(&a, "eth0", &b, "eth0").unwrap();
    assert!(loaded_modules().iter().any(|m| m == "veth"));
    a.run(&["ip", "addr", "add", "198.51.100.1/24", "dev", "eth0"])
        .unwrap();
    b.run(&["ip", "addr", "add", "198.51.100.2/24", "dev", "eth0"])
        .unwrap();
    // ICMP through the kernel (busybox ping: iputils may not be installed).
    a.run(&["busybox", "ping", "-c", "1", "-W", "5", "198.51.100.2"])
        .unwrap();
    // UDP from sockets opened inside each namespace (setns works in the VM).
    let server = b
        .enter(|| UdpSocket::bind("198.51.100.2:5000"))
        .unwrap()
        .unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    a.enter(|| {
        let s = UdpSocket::bind("198.51.100.1:0")?;
        s.send_to(b"lab", "198.51.100.2:5000")
    })
    .unwrap()
    .unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"lab");
    assert_eq!(from.ip().to_string(), "198.51.100.1");
}

#[test]
fn dr_destination_needs_loopback_up() {
    if skip_unless_lab("dr_destination_needs_loopback_up") {
        return;
    }
    // In a namespace whose loopback was never up (no local routing table yet), the kernel calls
    // every address "not unicast" and refuses direct-routing and tunnel destinations.
    let out = std::process::Command::new("unshare")
        .args(["-n", "sh", "-c"])
        .arg(
            "ipvsadm -A -t 203.0.113.1:80 -s rr && \
             ipvsadm -a -t 203.0.113.1:80 -r 192.0.2.20:80 -g",
        )
        .output()
        .unwrap();
    assert!(!out.status.success(), "DR destination accepted without lo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not unicast"), "{stderr}");
    // Once lo is up (Netns::new does that), both are accepted, even with no route to them.
    let ns = Netns::new("dr").unwrap();
    ns.run(&["ipvsadm", "-A", "-t", "203.0.113.1:80", "-s", "rr"])
        .unwrap();
    ns.run(&[
        "ipvsadm",
        "-a",
        "-t",
        "203.0.113.1:80",
        "-r",
        "192.0.2.20:80",
        "-g",
    ])
    .unwrap();
    ns.run(&[
        "ipvsadm",
        "-a",
        "-t",
        "203.0.113.1:80",
        "-r",
        "192.0.2.21:80",
        "-i",
    ])
    .unwrap();
    let table = ns.run(&["ipvsadm", "-Ln"]).unwrap();
    let has = |rs: &str, method: &str| {
        table
            .lines()
            .any(|l| l.contains(rs) && l.split_whitespace().nth(2) == Some(method))
    };
    assert!(has("192.0.2.20:80", "Route"), "{table}");
    assert!(has("192.0.2.21:80", "Tunnel"), "{table}");
}

#[test]
fn lan_bridge_and_dummy_load_on_demand() {
    if skip_unless_lab("lan_bridge_and_dummy_load_on_demand") {
        return;
    }
    let lan = Lan::new("smoke").unwrap();
    let a = Netns::new("la").unwrap();
    let b = Netns::new("lb").unwrap();
    lan.attach(&a, "eth0").unwrap();
    lan.attach(&b, "eth0").unwrap();
    a.run(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"])
        .unwrap();
    b.run(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])
        .unwrap();
    b.run(&["ip", "link", "add", "vip0", "type", "dummy"])
        .unwrap();
    let modules = loaded_modules();
    for m in ["bridge", "veth", "dummy"] {
        assert!(modules.iter().any(|l| l == m), "{m} not loaded");
    }
    a.run(&["busybox", "ping", "-c", "1", "-W", "5", "192.0.2.2"])
        .unwrap();
}

#[test]
fn dr_topology_round_trip() {
    if skip_unless_lab("dr_topology_round_trip") {
        return;
    }
    // client, director and real server on one Ethernet segment; the VIP is on the director's
    // eth0 and on the real server's lo (which must not answer ARP for it).
    let lan = Lan::new("dr").unwrap();
    let client = Netns::new("client").unwrap();
    let director = Netns::new("director").unwrap();
    let real = Netns::new("real").unwrap();
    for (ns, addr) in [
        (&client, "192.0.2.10/24"),
        (&director, "192.0.2.1/24"),
        (&real, "192.0.2.20/24"),
    ] {
        lan.attach(ns, "eth0").unwrap();
        ns.run(&["ip", "addr", "add", addr, "dev", "eth0"]).unwrap();
    }
    director
        .run(&["ip", "addr", "add", "192.0.2.100/32", "dev", "eth0"])
        .unwrap();
    real.enter(|| {
        std::fs::write("/proc/sys/net/ipv4/conf/all/arp_ignore", "1")?;
        std::fs::write("/proc/sys/net/ipv4/conf/all/arp_announce", "2")
    })
    .unwrap()
    .unwrap();
    real.run(&["ip", "addr", "add", "192.0.2.100/32", "dev", "lo"])
        .unwrap();
    director
        .run(&["ipvsadm", "-A", "-u", "192.0.2.100:5000", "-s", "rr"])
        .unwrap();
    director
        .run(&[
            "ipvsadm",
            "-a",
            "-u",
            "192.0.2.100:5000",
            "-r",
            "192.0.2.20:5000",
            "-g",
        ])
        .unwrap();

    let server = real
        .enter(|| UdpSocket::bind("192.0.2.100:5000"))
        .unwrap()
        .unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf)?;
        server.send_to(&buf[..n], from)?;
        std::io::Result::Ok(from)
    });
    let (reply, replier) = client
        .enter(|| {
            let s = UdpSocket::bind("192.0.2.10:0")?;
            s.set_read_timeout(Some(Duration::from_secs(20)))?;
            s.send_to(b"via the director", "192.0.2.100:5000")?;
            let mut buf = [0u8; 64];
            let (n, from) = s.recv_from(&mut buf)?;
            std::io::Result::Ok((buf[..n].to_vec(), from))
        })
        .unwrap()
        .unwrap();
    // The real server saw the client's own address (DR rewrites only the MAC) and its answer went
    // straight back from the VIP.
    let seen = echo.join().unwrap().unwrap();
    assert_eq!(seen.ip().to_string(), "192.0.2.10");
    assert_eq!(reply, b"via the director");
    assert_eq!(replier.to_string(), "192.0.2.100:5000");
    let conns = director.run(&["ipvsadm", "-Lnc"]).unwrap();
    assert!(conns.contains("192.0.2.20:5000"), "{conns}");
}
