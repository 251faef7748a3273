//! Every command against the real kernel, in the kernel lab (`cargo xtask test`, or
//! `cargo xtask lab test -p ipvs-netlink`). Each test works in its own network namespace
//! (IPVS tables are per namespace) and checks what the kernel did with ipvsadm 1.31 as the
//! judge. On the host these print `SKIP <test>: needs the kernel lab (IPVS)`.

use std::net::SocketAddr;

use ipvs_netlink::message::Request;
use ipvs_netlink::reconcile::{self, DesiredState};
use ipvs_netlink::*;
use lvs_lab::skip_unless_lab;
use lvs_testkit::Netns;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Runs `f` with an [`Ipvs`] handle inside a fresh namespace; returns the namespace too so
/// the test can ask ipvsadm afterwards.
fn with_ipvs<R: Send>(tag: &str, f: impl FnOnce(&mut Ipvs, &Netns) -> R + Send) -> (Netns, R) {
    let ns = Netns::new(tag).unwrap();
    let r = ns
        .enter(|| {
            let mut ipvs = Ipvs::connect().expect("IPVS in the lab");
            f(&mut ipvs, &ns)
        })
        .unwrap();
    (ns, r)
}

fn ipvsadm(ns: &Netns, args: &str) -> String {
    let mut v = vec!["ipvsadm"];
    v.extend(args.split_whitespace());
    ns.run(&v).unwrap()
}

#[test]
fn without_ipvs_connect_says_load_the_module() {
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        eprintln!("SKIP without_ipvs_connect_says_load_the_module: this kernel has IPVS");
        return;
    }
    let e = Ipvs::connect().unwrap_err();
    assert!(matches!(e, Error::Unavailable), "{e:?}");
    assert_eq!(
        e.to_string(),
        "IPVS is not available: load the ip_vs module (modprobe ip_vs)"
    );
}

#[test]
fn info_and_default_timeouts() {
    if skip_unless_lab("info_and_default_timeouts") {
        return;
    }
    let (_ns, (info, t)) = with_ipvs("info", |ipvs, _| {
        (ipvs.info().unwrap(), ipvs.timeouts().unwrap())
    });
    assert_eq!(info.version_triple(), (1, 2, 1));
    assert!(info.conn_tab_size >= 4096, "{info:?}");
    assert_eq!(
        t,
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }
    );
}

#[test]
fn services_add_get_dump_edit_delete() {
    if skip_unless_lab("services_add_get_dump_edit_delete") {
        return;
    }
    let (ns, ()) = with_ipvs("svc", |ipvs, _| {
        let tcp = Service::new(ServiceKey::tcp(sa("192.0.2.1:80")));
        let mut udp6 =
            Service::new(ServiceKey::udp(sa("[2001:db8::1]:53"))).scheduler(Scheduler::RoundRobin);
        udp6.flags |= ServiceFlags::ONEPACKET;
        let mut sctp = Service::new(ServiceKey::sctp(sa("203.0.113.9:3868")))
            .scheduler(Scheduler::LeastConnection)
            .persistent(100);
        sctp.netmask = Netmask::V4("255.255.255.0".parse().unwrap());
        let mut fw6 =
            Service::new(ServiceKey::fwmark(5, Family::Inet6)).scheduler(Scheduler::Maglev);
        fw6.flags |= ServiceFlags::SCHED_MH_PORT;
        let mut fw4 = Service::new(ServiceKey::fwmark(7, Family::Inet)).persistent(360);
        fw4.pe_name = None;
        let mut sip = Service::new(ServiceKey::udp(sa("192.0.2.2:5060"))).persistent(60);
        sip.pe_name = Some("sip".into());
        let all = [
            tcp.clone(),
            udp6.clone(),
            sctp.clone(),
            fw6.clone(),
            fw4.clone(),
            sip.clone(),
        ];
        for s in &all {
            ipvs.add_service(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        }
        // Single get: the kernel's copy equals what was sent (HASHED aside).
        for s in &all {
            let got = ipvs.service(&s.key).unwrap().expect("service exists");
            assert_eq!(got.service.normalized(), s.normalized(), "{s:?}");
            assert!(got.service.flags.contains(ServiceFlags::HASHED));
        }
        assert_eq!(
            ipvs.service(&ServiceKey::tcp(sa("192.0.2.99:80"))).unwrap(),
            None
        );
        let dumped = ipvs.services().unwrap();
        assert_eq!(dumped.len(), all.len());
        // Edit: scheduler and persistence replaced.
        let edited = tcp
            .clone()
            .scheduler(Scheduler::WeightedRoundRobin)
            .persistent(30);
        ipvs.set_service(&edited).unwrap();
        assert_eq!(
            ipvs.service(&tcp.key)
                .unwrap()
                .unwrap()
                .service
                .normalized(),
            edited
        );
        // Duplicate add: EEXIST naming the service.
        let e = ipvs.add_service(&tcp).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EEXIST));
        assert_eq!(
            e.to_string(),
            "service -t 192.0.2.1:80: service already exists (EEXIST)"
        );
        // Unknown scheduler: ENOENT with the module's name.
        let bogus = Service::new(ServiceKey::tcp(sa("192.0.2.3:80")))
            .scheduler(Scheduler::from_name("bogus"));
        let e = ipvs.add_service(&bogus).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENOENT));
        assert!(e.to_string().contains("ip_vs_bogus"), "{e}");
        // Delete; deleting again is ESRCH.
        ipvs.del_service(&sctp.key).unwrap();
        let e = ipvs.del_service(&sctp.key).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ESRCH));
        assert!(e.to_string().contains("no such service"), "{e}");
    });
    let save = ipvsadm(&ns, "-S -n");
    assert_eq!(
        save,
        "-A -t 192.0.2.1:80 -s wrr -p 30\n\
         -A -u 192.0.2.2:5060 -s wlc -p 60 --pe sip\n\
         -A -u [2001:db8::1]:53 -s rr -o\n\
         -A -f 5 -6 -s mh -b mh-port\n\
         -A -f 7 -s wlc -p 360\n"
    );
}

#[test]
fn destinations_every_forwarding_method_and_tunnel_type() {
    if skip_unless_lab("destinations_every_forwarding_method_and_tunnel_type") {
        return;
    }
    let key = ServiceKey::tcp(sa("192.0.2.1:80"));
    let (ns, ()) = with_ipvs("dest", |ipvs, _| {
        ipvs.add_service(&Service::new(key)).unwrap();
        let masq = {
            let mut d = Destination::new(sa("198.51.100.1:8080"))
                .forward(Forward::Masq)
                .weight(100_000);
            d.upper_threshold = 10;
            d.lower_threshold = 5;
            d
        };
        let dr = Destination::new(sa("198.51.100.2:80"));
        let ipip = Destination::new(sa("198.51.100.3:80")).forward(Forward::Tunnel);
        let gue = {
            let mut d = Destination::new(sa("[2001:db8::5]:80")).forward(Forward::Tunnel);
            d.tun_type = TunnelType::Gue;
            d.tun_port = 6080;
            d.tun_flags = TunnelCsum::RemCsum;
            d
        };
        let gre = {
            let mut d = Destination::new(sa("198.51.100.4:80")).forward(Forward::Tunnel);
            d.tun_type = TunnelType::Gre;
            d.tun_flags = TunnelCsum::Csum;
            d
        };
        for d in [masq, dr, ipip, gue, gre] {
            ipvs.add_dest(&key, &d)
                .unwrap_or_else(|e| panic!("{d:?}: {e}"));
        }
        let got: Vec<Destination> = ipvs
            .dests(&key)
            .unwrap()
            .into_iter()
            .map(|e| e.dest)
            .collect();
        for d in [masq, dr, ipip, gue, gre] {
            assert!(got.contains(&d), "{d:?} not in {got:?}");
        }
        // Edit the weight to 0 (quiesce); delete one; errors are typed.
        ipvs.set_dest(&key, &dr.weight(0)).unwrap();
        ipvs.del_dest(&key, ipip.addr).unwrap();
        let e = ipvs.del_dest(&key, ipip.addr).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENOENT));
        let e = ipvs.add_dest(&key, &masq).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EEXIST));
        let missing = ServiceKey::tcp(sa("192.0.2.9:80"));
        let e = ipvs.add_dest(&missing, &dr).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ESRCH));
        // GUE without a port: EINVAL with the routing hint.
        let mut bad = gue;
        bad.addr = sa("[2001:db8::6]:80");
        bad.tun_port = 0;
        let e = ipvs.add_dest(&key, &bad).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EINVAL));
        assert!(
            e.to_string().contains("is the destination routable?"),
            "{e}"
        );
        // A negative weight is ERANGE (the kernel's int).
        let e = ipvs
            .add_dest(&key, &Destination::new(sa("198.51.100.9:80")).weight(-1))
            .unwrap_err();
        assert_eq!(e.errno(), Some(libc::ERANGE));
        // Dests of an unknown service: an empty dump, as the kernel does.
        assert!(ipvs.dests(&missing).unwrap().is_empty());
    });
    // ipvsadm reads back exactly what we wrote (ports big-endian, GUE port not swapped).
    assert_eq!(
        ipvsadm(&ns, "-S -n"),
        "-A -t 192.0.2.1:80 -s wlc\n\
         -a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 100000\n\
         -a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 0\n\
         -a -t 192.0.2.1:80 -r 198.51.100.4:80 -i -w 1 --tun-type gre --tun-csum\n\
         -a -t 192.0.2.1:80 -r [2001:db8::5]:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum\n"
    );
    let thr = ipvsadm(&ns, "-Ln --thresholds");
    let line = thr
        .lines()
        .find(|l| l.contains("198.51.100.1:8080"))
        .unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["->", "198.51.100.1:8080", "10", "5", "0", "0"]
    );
}

#[test]
fn timeouts_zero_means_unchanged() {
    if skip_unless_lab("timeouts_zero_means_unchanged") {
        return;
    }
    let (ns, t) = with_ipvs("tmo", |ipvs, _| {
        ipvs.set_timeouts(&Timeouts {
            tcp: 1000,
            tcp_fin: 0,
            udp: 200,
        })
        .unwrap();
        ipvs.timeouts().unwrap()
    });
    assert_eq!(
        t,
        Timeouts {
            tcp: 1000,
            tcp_fin: 120,
            udp: 200
        }
    );
    assert_eq!(
        ipvsadm(&ns, "-L --timeout"),
        "Timeout (tcp tcpfin udp): 1000 120 200\n"
    );
}

#[test]
fn sync_daemons_start_list_stop() {
    if skip_unless_lab("sync_daemons_start_list_stop") {
        return;
    }
    let ns = Netns::new("sync").unwrap();
    ns.run(&[
        "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ])
    .unwrap();
    ns.run(&["ip", "link", "set", "eth0", "up"]).unwrap();
    ns.run(&["ip", "link", "set", "eth1", "up"]).unwrap();
    let ds = ns
        .enter(|| {
            let mut ipvs = Ipvs::connect().unwrap();
            ipvs.start_daemon(&SyncDaemon::new(DaemonState::Master, "eth0", 7))
                .unwrap();
            let mut b = SyncDaemon::new(DaemonState::Backup, "eth1", 9);
            b.mcast_group = Some("224.0.0.99".parse().unwrap());
            b.mcast_port = Some(9999);
            b.mcast_ttl = Some(3);
            b.sync_maxlen = Some(1400);
            ipvs.start_daemon(&b).unwrap();
            let e = ipvs.start_daemon(&b).unwrap_err();
            assert_eq!(e.errno(), Some(libc::EEXIST));
            ipvs.daemons().unwrap()
        })
        .unwrap();
    assert_eq!(ds.len(), 2, "{ds:?}");
    let listed = ipvsadm(&ns, "-L --daemon");
    assert_eq!(ipvsadm::list_daemons(&ds), listed);
    assert!(listed.contains("backup sync daemon (mcast=eth1, syncid=9, maxlen=1400, group=224.0.0.99, port=9999, ttl=3)"), "{listed}");
    ns.enter(|| {
        let mut ipvs = Ipvs::connect().unwrap();
        ipvs.stop_daemon(DaemonState::Master).unwrap();
        ipvs.stop_daemon(DaemonState::Backup).unwrap();
        let e = ipvs.stop_daemon(DaemonState::Backup).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ESRCH));
        assert!(ipvs.daemons().unwrap().is_empty());
    })
    .unwrap();
}

#[test]
fn zero_and_flush() {
    if skip_unless_lab("zero_and_flush") {
        return;
    }
    let (ns, ()) = with_ipvs("zero", |ipvs, _| {
        let k = ServiceKey::tcp(sa("192.0.2.1:80"));
        ipvs.add_service(&Service::new(k)).unwrap();
        ipvs.zero(Some(&k)).unwrap();
        ipvs.zero(None).unwrap();
        let e = ipvs
            .zero(Some(&ServiceKey::tcp(sa("192.0.2.2:80"))))
            .unwrap_err();
        assert_eq!(e.errno(), Some(libc::ESRCH));
        ipvs.flush().unwrap();
        assert!(ipvs.dump().unwrap().is_empty());
    });
    assert_eq!(ipvsadm(&ns, "-S -n"), "");
}

fn big_state(services: usize, dests: usize) -> DesiredState {
    (0..services)
        .map(|i| {
            let port = 1024 + i as u16;
            let s = Service::new(ServiceKey::tcp(SocketAddr::new(
                [192, 0, 2, 1].into(),
                port,
            )));
            let ds = (0..dests)
                .map(|d| {
                    Destination::new(SocketAddr::new([198, 51, 100, d as u8 + 1].into(), port))
                })
                .collect();
            (s, ds)
        })
        .collect()
}

fn requests(state: &DesiredState) -> Vec<Request> {
    reconcile::diff(state, &[])
}

#[test]
fn batch_applies_thousands_and_ipvsadm_agrees() {
    if skip_unless_lab("batch_applies_thousands_and_ipvsadm_agrees") {
        return;
    }
    let want = big_state(2000, 3);
    let reqs = requests(&want);
    let (ns, dump) = with_ipvs("batch", |ipvs, _| {
        let results = ipvs.apply(&reqs);
        assert_eq!(results.len(), reqs.len());
        assert!(results.iter().all(Result::is_ok));
        ipvs.dump().unwrap()
    });
    assert_eq!(dump.len(), 2000);
    assert!(dump.iter().all(|vs| vs.dests.len() == 3));
    assert_eq!(reconcile::diff(&want, &dump), vec![]);
    assert_eq!(ipvsadm(&ns, "-S -n"), ipvsadm::save(&dump));
}

/// With a tiny receive buffer the error replies of a batch overflow the socket (ENOBUFS);
/// every item must still get its true result: the successes are in the kernel, every
/// failure is reported.
#[test]
fn batch_overrun_loses_nothing() {
    if skip_unless_lab("batch_overrun_loses_nothing") {
        return;
    }
    let (ns, ()) = with_ipvs("overrun", |ipvs, _| {
        ipvs.set_recv_buffer_size(1).unwrap(); // the kernel's minimum
        let missing = ServiceKey::tcp(sa("192.0.2.200:80"));
        let mut reqs = Vec::new();
        let mut expect_ok = Vec::new();
        for i in 0..600u16 {
            if i % 3 == 0 {
                let k = ServiceKey::tcp(SocketAddr::new([192, 0, 2, 1].into(), 2000 + i));
                reqs.push(Request::NewService(Service::new(k)));
                expect_ok.push(true);
            } else {
                // Fails with ESRCH: each failure queues an error message.
                reqs.push(Request::NewDest(
                    missing,
                    Destination::new(SocketAddr::new([198, 51, 100, 1].into(), i)),
                ));
                expect_ok.push(false);
            }
        }
        let results = ipvs.apply(&reqs);
        for (i, (r, ok)) in results.iter().zip(&expect_ok).enumerate() {
            match r {
                Ok(()) => assert!(ok, "item {i} should have failed"),
                Err(e) => {
                    assert!(!ok, "item {i} failed: {e}");
                    assert_eq!(e.errno(), Some(libc::ESRCH), "item {i}: {e}");
                }
            }
        }
        assert_eq!(ipvs.services().unwrap().len(), 200);
    });
    assert_eq!(ipvsadm(&ns, "-S -n").lines().count(), 200);
}

#[test]
fn reconcile_edits_in_place_and_restores_external_deletions() {
    if skip_unless_lab("reconcile_edits_in_place_and_restores_external_deletions") {
        return;
    }
    let want = big_state(50, 2);
    let (ns, ()) = with_ipvs("reconcile", |ipvs, _| {
        let r = ipvs.reconcile(&want).unwrap();
        assert!(r.is_ok());
        assert_eq!(r.changes.len(), 150);
        let r = ipvs.reconcile(&want).unwrap();
        assert!(r.changes.is_empty(), "{:?}", r.changes);
    });
    // Someone deletes a destination and edits a service behind our back.
    ipvsadm(&ns, "-d -t 192.0.2.1:1030 -r 198.51.100.2");
    ipvsadm(&ns, "-E -t 192.0.2.1:1031 -s rr");
    let before = ipvsadm(&ns, "-S -n");
    assert!(!before.contains("-a -t 192.0.2.1:1030 -r 198.51.100.2:1030"));
    ns.enter(|| {
        let mut ipvs = Ipvs::connect().unwrap();
        let mut want2 = want.clone();
        // And the desired state changes one weight.
        let mut svcs = want2.services().to_vec();
        svcs[10].1[0].weight = 9;
        want2 = svcs.into_iter().collect();
        let r = ipvs.reconcile(&want2).unwrap();
        assert!(r.is_ok());
        assert_eq!(r.changes.len(), 3, "{:?}", r.changes);
        assert!(
            r.changes
                .iter()
                .all(|c| !matches!(c, Request::DelService(_)))
        );
    })
    .unwrap();
    let after = ipvsadm(&ns, "-S -n");
    assert!(
        after.contains("-a -t 192.0.2.1:1030 -r 198.51.100.2:1030 -g -w 1"),
        "{after}"
    );
    assert!(after.contains("-A -t 192.0.2.1:1031 -s wlc"), "{after}");
    assert!(
        after.contains("-a -t 192.0.2.1:1034 -r 198.51.100.1:1034 -g -w 9"),
        "{after}"
    );
}
