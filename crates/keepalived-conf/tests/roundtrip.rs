//! Property: `parse(format(m)) == m` for generated models.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use keepalived_conf::model::*;
use keepalived_conf::{Options, format, parse_str};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_.-]{0,8}"
}

/// Free text for commands and strings: spaces, quotes, backslashes, comment characters, braces.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 /\"'#!{}\\\\.:-]{1,24}"
}

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s)))
}

fn ipaddr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![v4(), v6()]
}

fn timer() -> impl Strategy<Value = Timer> {
    prop_oneof![
        (0u64..100).prop_map(Timer::from_secs),
        (0u64..100_000_000).prop_map(Timer::from_micros)
    ]
}

fn run_as() -> impl Strategy<Value = RunAs> {
    (
        name(),
        of(prop_oneof![name(), name().prop_map(|g| format!(":{g}"))]),
    )
        .prop_map(|(u, g)| RunAs::new(u, g))
}

fn script() -> impl Strategy<Value = Script> {
    (text(), of(run_as())).prop_map(|(c, r)| {
        let mut s = Script::new(c);
        s.run_as = r;
        s
    })
}

fn vaddr(v6fam: bool) -> impl Strategy<Value = VirtualAddress> {
    let addr = if v6fam { v6().boxed() } else { v4().boxed() };
    let brd = if v6fam { v6().boxed() } else { v4().boxed() };
    let max = if v6fam { 128u8 } else { 32 };
    (
        addr,
        of(0..=max),
        of(brd),
        of(name()),
        of(prop_oneof![
            Just("link".to_string()),
            Just("host".to_string()),
            Just("site".to_string())
        ]),
        of(name()),
        vec(
            prop_oneof![
                Just("home"),
                Just("-nodad"),
                Just("noprefixroute"),
                Just("no_track")
            ],
            0..3,
        ),
    )
        .prop_map(|(a, p, b, d, s, l, o)| {
            let mut v = VirtualAddress::new(a);
            v.prefix_len = p;
            v.brd = b;
            v.dev = d;
            v.scope = s;
            v.label = l;
            v.options = o.into_iter().map(String::from).collect();
            v
        })
}

fn tracked() -> impl Strategy<Value = Tracked> {
    (name(), of(-253i32..=253), any::<bool>()).prop_map(|(n, w, r)| {
        let mut t = Tracked::new(n);
        t.weight = w;
        t.reverse = r && w.is_some();
        t
    })
}

fn notify() -> impl Strategy<Value = Notify> {
    (
        of(script()),
        of(script()),
        of(script()),
        of(script()),
        of(script()),
    )
        .prop_map(|(m, b, f, s, n)| {
            let mut x = Notify::default();
            x.master = m;
            x.backup = b;
            x.fault = f;
            x.stop = s;
            x.notify = n;
            x
        })
}

fn route() -> impl Strategy<Value = RouteSpec> {
    vec("[a-z0-9./:]{1,12}", 1..5).prop_map(RouteSpec)
}

fn instance() -> impl Strategy<Value = VrrpInstance> {
    let a = (
        name(),
        of(prop_oneof![
            Just(VrrpState::Master),
            Just(VrrpState::Backup)
        ]),
        of(name()),
        of(1u8..=255),
        of(1u8..=255),
        of(timer()),
        of(2u8..=3),
        any::<bool>(),
    );
    let b = (
        of((
            of(prop_oneof![Just(AuthType::Pass), Just(AuthType::Ah)]),
            of("[a-z0-9]{1,8}"),
        )),
        any::<bool>().prop_flat_map(|v6| (vec(vaddr(v6), 0..3), vec(vaddr(!v6), 0..2))),
        vec(route(), 0..2),
        vec(route(), 0..2),
        of(ipaddr()),
        of(ipaddr()),
        vec(
            (ipaddr(), vec(prop_oneof![Just("min_ttl"), Just("1")], 0..2)),
            0..3,
        ),
    );
    let c = (
        any::<bool>(),
        of((0u64..=1000).prop_map(Timer::from_secs)),
        of(any::<bool>()),
        any::<bool>(),
        vec(tracked(), 0..3),
        vec(tracked(), 0..3),
        vec(tracked(), 0..2),
        vec(tracked(), 0..2),
        notify(),
        of(any::<bool>()),
    );
    let d = (
        of(of(name())),
        any::<bool>(),
        vec(of(0u32..100), 6),
        of(any::<bool>()),
    );
    (a, b, c, d).prop_map(|(a, b, c, d)| {
        let mut i = VrrpInstance::default();
        (
            i.name,
            i.state,
            i.interface,
            i.virtual_router_id,
            i.priority,
            i.advert_int,
            i.version,
            i.native_ipv6,
        ) = a;
        i.authentication = b.0.map(|(t, p)| {
            let mut x = Authentication::default();
            x.auth_type = t;
            x.auth_pass = p;
            x
        });
        (i.virtual_ipaddress, i.virtual_ipaddress_excluded) = b.1;
        (
            i.virtual_routes,
            i.virtual_rules,
            i.mcast_src_ip,
            i.unicast_src_ip,
        ) = (b.2, b.3, b.4, b.5);
        i.unicast_peer =
            b.6.into_iter()
                .map(|(a, o)| {
                    let mut p = UnicastPeer::new(a);
                    p.options = o.into_iter().map(String::from).collect();
                    p
                })
                .collect();
        (i.nopreempt, i.preempt_delay, i.accept, i.dont_track_primary) = (c.0, c.1, c.2, c.3);
        (
            i.track_interface,
            i.track_script,
            i.track_file,
            i.track_process,
            i.notify,
            i.smtp_alert,
        ) = (c.4, c.5, c.6, c.7, c.8, c.9);
        i.use_vmac = d.0.map(|n| {
            let mut v = Vmac::default();
            v.interface = n;
            v
        });
        i.vmac_xmit_base = d.1;
        (
            i.garp_master_delay,
            i.garp_master_repeat,
            i.garp_master_refresh,
            i.garp_master_refresh_repeat,
            i.garp_lower_prio_delay,
            i.garp_lower_prio_repeat,
        ) = (d.2[0], d.2[1], d.2[2], d.2[3], d.2[4], d.2[5]);
        i.strict_mode = d.3;
        if any_other(&i.name) {
            i.other.push(Directive::new("promote_secondaries", vec![]));
        }
        i
    })
}

fn any_other(s: &str) -> bool {
    s.len() % 3 == 0
}

fn common() -> impl Strategy<Value = CheckCommon> {
    (
        of(ipaddr()),
        of(any::<u16>()),
        of(ipaddr()),
        of(name()),
        of(any::<u16>()),
        of(any::<u32>()),
        of(any::<bool>()),
        (
            of(timer()),
            of(any::<u32>()),
            of(timer()),
            of(timer()),
            of(timer()),
            of(any::<bool>()),
        ),
    )
        .prop_map(|(ci, cp, bt, bi, bp, fw, al, (ct, r, dbr, w, dl, laf))| {
            let mut c = CheckCommon::default();
            (
                c.connect_ip,
                c.connect_port,
                c.bindto,
                c.bind_if,
                c.bind_port,
                c.fwmark,
                c.alpha,
            ) = (ci, cp, bt, bi, bp, fw, al);
            (
                c.connect_timeout,
                c.retry,
                c.delay_before_retry,
                c.warmup,
                c.delay_loop,
                c.log_all_failures,
            ) = (ct, r, dbr, w, dl, laf);
            c
        })
}

fn url() -> impl Strategy<Value = Url> {
    (
        of("/[a-z0-9/._-]{0,12}"),
        of("[0-9a-f]{32}"),
        vec((100u16..=999).prop_flat_map(|a| (Just(a), a..=999)), 0..3),
        of(name()),
        of(text()),
        any::<bool>(),
    )
        .prop_map(|(p, d, s, v, r, n)| {
            let mut u = Url::default();
            (u.path, u.digest, u.virtualhost, u.regex, u.regex_no_match) = (p, d, v, r, n);
            u.status_code = s.into_iter().map(|(a, b)| StatusRange::new(a, b)).collect();
            u
        })
}

fn checker() -> impl Strategy<Value = Checker> {
    let simple = common()
        .prop_map(|c| {
            let mut s = SimpleCheck::default();
            s.common = c;
            s
        })
        .boxed();
    let http = (
        common(),
        vec(url(), 0..3),
        of("1\\.[01]"),
        of(name()),
        of(any::<bool>()),
        any::<bool>(),
        of(name()),
        any::<bool>(),
    )
        .prop_map(|(c, u, hp, vh, fr, sni, sn, tls)| {
            let mut h = HttpCheck::default();
            (
                h.common,
                h.urls,
                h.http_protocol,
                h.virtualhost,
                h.fast_recovery,
                h.enable_sni,
                h.sni_name,
                h.tls_compliant,
            ) = (c, u, hp, vh, fr, sni, sn, tls);
            h
        })
        .boxed();
    let misc = (
        common(),
        text(),
        of(any::<u32>()),
        any::<bool>(),
        of(run_as()),
    )
        .prop_map(|(c, p, t, d, u)| {
            let mut m = MiscCheck::default();
            (
                m.common,
                m.misc_path,
                m.misc_timeout,
                m.misc_dynamic,
                m.user,
            ) = (c, Some(p), t, d, u);
            m
        });
    let smtp = (common(), of(text()), vec(common(), 0..2)).prop_map(|(c, h, hs)| {
        let mut s = SmtpCheck::default();
        (s.common, s.helo_name, s.hosts) = (c, h, hs);
        s
    });
    let dns = (
        common(),
        of(prop_oneof![Just("A"), Just("AAAA"), Just("SOA")]),
        of(name()),
    )
        .prop_map(|(c, t, n)| {
            let mut d = DnsCheck::default();
            (d.common, d.query_type, d.name) = (c, t.map(String::from), n);
            d
        });
    let udp = (
        common(),
        of("[0-9a-f]{1,4}( [0-9a-f]{1,4}){0,3}"),
        of(prop_oneof![Just(String::new()), "[0-9a-fx]{1,6}".boxed()]),
        of(any::<u32>()),
        of(any::<u32>()),
    )
        .prop_map(|(c, p, r, mi, ma)| {
            let mut u = UdpCheck::default();
            (
                u.common,
                u.payload,
                u.require_reply,
                u.min_reply_length,
                u.max_reply_length,
            ) = (c, p, r, mi, ma);
            u
        });
    let file = (
        of(name()),
        any::<bool>(),
        of(-2147483647i64..=2147483647),
        any::<bool>(),
    )
        .prop_map(|(t, d, w, r)| {
            let mut f = FileCheck::default();
            (f.track_file, f.dynamic, f.weight, f.reverse) = (t, d, w, r && w.is_some());
            f
        });
    let bfd = of(name()).prop_map(|n| {
        let mut b = BfdCheck::default();
        b.name = n;
        b
    });
    prop_oneof![
        simple.clone().prop_map(Checker::Tcp),
        simple.prop_map(Checker::Ping),
        http.clone().prop_map(Checker::HttpGet),
        http.prop_map(Checker::SslGet),
        misc.prop_map(Checker::Misc),
        smtp.prop_map(Checker::Smtp),
        dns.prop_map(Checker::Dns),
        udp.prop_map(Checker::Udp),
        file.prop_map(Checker::File),
        bfd.prop_map(Checker::Bfd),
    ]
}

fn lb_kind() -> impl Strategy<Value = LbKind> {
    prop_oneof![Just(LbKind::Nat), Just(LbKind::Dr), Just(LbKind::Tun)]
}

fn real_server() -> impl Strategy<Value = RealServer> {
    (
        ipaddr(),
        of(any::<u16>()),
        of(0u32..=65535),
        of(lb_kind()),
        of(any::<bool>()),
        (
            of(script()),
            of(script()),
            of(any::<u32>()),
            of(any::<u32>()),
            of(any::<bool>()),
            of(name()),
            of(any::<bool>()),
        ),
        (
            of(timer()),
            of(any::<u32>()),
            of(timer()),
            of(timer()),
            of(timer()),
        ),
        vec(checker(), 0..3),
    )
        .prop_map(
            |(a, p, w, k, inh, (nu, nd, ut, lt, sa, vh, al), (ct, r, dbr, wu, dl), ch)| {
                let mut rs = RealServer::new(a, p);
                (rs.weight, rs.lb_kind, rs.inhibit_on_failure) = (w, k, inh);
                (
                    rs.notify_up,
                    rs.notify_down,
                    rs.uthreshold,
                    rs.lthreshold,
                    rs.smtp_alert,
                    rs.virtualhost,
                    rs.alpha,
                ) = (nu, nd, ut, lt, sa, vh, al);
                (
                    rs.connect_timeout,
                    rs.retry,
                    rs.delay_before_retry,
                    rs.warmup,
                    rs.delay_loop,
                ) = (ct, r, dbr, wu, dl);
                rs.checkers = ch;
                rs
            },
        )
}

fn virtual_server() -> impl Strategy<Value = VirtualServer> {
    let addr = prop_oneof![
        (ipaddr(), of(any::<u16>())).prop_map(|(addr, port)| VsAddress::Ip { addr, port }),
        (1u32..).prop_map(|mark| VsAddress::Fwmark { mark }),
        name().prop_map(|name| VsAddress::Group { name }),
    ];
    let algo = proptest::sample::select(LbAlgo::ALL.to_vec());
    (
        addr,
        (
            of(timer()),
            of(algo),
            of(lb_kind()),
            vec(prop_oneof![Just("type"), Just("gre"), Just("nocsum")], 0..3),
        ),
        (
            of(1u32..),
            of(prop_oneof![
                Just("255.255.255.0".to_string()),
                Just("64".to_string())
            ]),
            of(name()),
        ),
        (
            of(prop_oneof![
                Just(Protocol::Tcp),
                Just(Protocol::Udp),
                Just(Protocol::Sctp)
            ]),
            any::<[bool; 4]>(),
            of(name()),
        ),
        (
            of(1u32..),
            of(script()),
            of(script()),
            of(any::<u32>()),
            of(prop_oneof![Just(IpFamily::Inet), Just(IpFamily::Inet6)]),
        ),
        (
            of((ipaddr(), of(any::<u16>()))),
            any::<[bool; 2]>(),
            of(timer()),
            of(any::<u32>()),
            of(timer()),
            of(timer()),
            of(any::<bool>()),
        ),
        vec(real_server(), 0..3),
    )
        .prop_map(
            |(
                a,
                (dl, al, k, tun),
                (pt, pg, pe),
                (pr, fl, vh),
                (q, qu, qd, h, fam),
                (ss, f2, ct, r, dbr, wu, sa),
                rs,
            )| {
                let mut vs = VirtualServer::default();
                vs.address = a;
                (vs.delay_loop, vs.lb_algo, vs.lb_kind) = (dl, al, k);
                vs.tunnel_options = if k == Some(LbKind::Tun) {
                    tun.into_iter().map(String::from).collect()
                } else {
                    Vec::new()
                };
                (
                    vs.persistence_timeout,
                    vs.persistence_granularity,
                    vs.persistence_engine,
                ) = (pt, pg, pe);
                (
                    vs.protocol,
                    vs.ha_suspend,
                    vs.ops,
                    vs.alpha,
                    vs.omega,
                    vs.virtualhost,
                ) = (pr, fl[0], fl[1], fl[2], fl[3], vh);
                (
                    vs.quorum,
                    vs.quorum_up,
                    vs.quorum_down,
                    vs.hysteresis,
                    vs.ip_family,
                ) = (q, qu, qd, h, fam);
                vs.sorry_server = ss.map(|(addr, port)| SorryServer::new(addr, port));
                (vs.sorry_server_inhibit, vs.inhibit_on_failure) = (f2[0], f2[1]);
                (
                    vs.connect_timeout,
                    vs.retry,
                    vs.delay_before_retry,
                    vs.warmup,
                    vs.smtp_alert,
                ) = (ct, r, dbr, wu, sa);
                vs.real_servers = rs;
                vs
            },
        )
}

fn global_defs() -> impl Strategy<Value = GlobalDefs> {
    (
        (
            of(name()),
            of(2u8..=3),
            vec(name(), 0..3),
            of(name()),
            of((name(), of(any::<u16>()))),
            of(text()),
            of(any::<u32>()),
        ),
        (
            of(any::<bool>()),
            of(run_as()),
            any::<[bool; 5]>(),
            vec(of(0u32..1000), 6),
            of(timer()),
            of(timer()),
        ),
        (
            of(v4()),
            of(v6()),
            of((of(any::<u32>()), of(any::<u32>()), of(any::<u32>()))),
        ),
        of((
            name(),
            name(),
            of(any::<u8>()),
            of(1u16..=65507),
            of(any::<u16>()),
            of(1u8..=255),
            of(ipaddr()),
        )),
    )
        .prop_map(
            |((r, v, ne, nf, ss, hn, ct), (sa, su, fl, garp, gi, gn), (m4, m6, lt), sd)| {
                let mut g = GlobalDefs::default();
                (
                    g.router_id,
                    g.vrrp_version,
                    g.notification_email,
                    g.notification_email_from,
                ) = (r, v, ne, nf);
                g.smtp_server = ss.map(|(host, port)| {
                    let mut s = SmtpServer::default();
                    (s.host, s.port) = (host, port);
                    s
                });
                (
                    g.smtp_helo_name,
                    g.smtp_connect_timeout,
                    g.smtp_alert,
                    g.script_user,
                ) = (hn, ct, sa, su);
                (
                    g.enable_script_security,
                    g.vrrp_strict,
                    g.vrrp_skip_check_adv_addr,
                    g.vrrp_check_unicast_src,
                    g.lvs_flush,
                ) = (fl[0], fl[1], fl[2], fl[3], fl[4]);
                (
                    g.vrrp_garp_master_delay,
                    g.vrrp_garp_master_repeat,
                    g.vrrp_garp_master_refresh,
                    g.vrrp_garp_master_refresh_repeat,
                    g.vrrp_garp_lower_prio_delay,
                    g.vrrp_garp_lower_prio_repeat,
                ) = (garp[0], garp[1], garp[2], garp[3], garp[4], garp[5]);
                (
                    g.vrrp_garp_interval,
                    g.vrrp_gna_interval,
                    g.vrrp_mcast_group4,
                    g.vrrp_mcast_group6,
                ) = (gi, gn, m4, m6);
                g.lvs_timeouts = lt.map(|(a, b, c)| {
                    let mut t = LvsTimeouts::default();
                    (t.tcp, t.tcpfin, t.udp) = (a, b, c);
                    t
                });
                g.lvs_sync_daemon = sd.map(|(i, n, id, ml, p, ttl, gr)| {
                    let mut s = LvsSyncDaemon::default();
                    (
                        s.interface,
                        s.instance,
                        s.id,
                        s.maxlen,
                        s.port,
                        s.ttl,
                        s.group,
                    ) = (i, n, id, ml, p, ttl, gr);
                    s
                });
                g.other
                    .push(Directive::new("vrrp_iptables", vec!["KA_IN".into()]));
                g
            },
        )
}

fn config() -> impl Strategy<Value = Config> {
    let scripts = vec(
        (
            name(),
            of(text()),
            of(timer()),
            of(timer()),
            of(-253i32..=253),
            any::<bool>(),
            of(1u32..),
            of(1u32..),
            of(run_as()),
            any::<bool>(),
        ),
        0..3,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(n, sc, i, t, w, wr, r, f, u, init)| {
                let mut s = VrrpScript::default();
                (
                    s.name,
                    s.script,
                    s.interval,
                    s.timeout,
                    s.weight,
                    s.weight_reverse,
                ) = (n, sc, i, t, w, wr && w.is_some());
                (s.rise, s.fall, s.user, s.init_fail) = (r, f, u, init);
                s
            })
            .collect::<Vec<_>>()
    });
    let files = vec((name(), of(text()), of(-254i32..=254), any::<bool>()), 0..2).prop_map(|v| {
        v.into_iter()
            .map(|(n, f, w, r)| {
                let mut t = TrackFile::default();
                (t.name, t.file, t.weight, t.reverse) = (n, f, w, r && w.is_some());
                t
            })
            .collect::<Vec<_>>()
    });
    let groups = vec(
        (
            name(),
            vec(name(), 0..3),
            vec(tracked(), 0..2),
            vec(tracked(), 0..2),
            vec(tracked(), 0..2),
            notify(),
            of(any::<bool>()),
            any::<bool>(),
        ),
        0..2,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(n, g, ti, ts, tf, no, sa, gt)| {
                let mut s = SyncGroup::default();
                (
                    s.name,
                    s.group,
                    s.track_interface,
                    s.track_script,
                    s.track_file,
                    s.notify,
                    s.smtp_alert,
                    s.global_tracking,
                ) = (n, g, ti, ts, tf, no, sa, gt);
                s
            })
            .collect::<Vec<_>>()
    });
    let vsg = vec(
        (
            name(),
            vec(
                prop_oneof![
                    (v4(), of(0u16..=255), of(any::<u16>())).prop_map(|(addr, range_end, port)| {
                        VsgEntry::Addr {
                            addr,
                            range_end,
                            port,
                        }
                    }),
                    (v6(), of(any::<u16>()), of(any::<u16>())).prop_map(
                        |(addr, range_end, port)| VsgEntry::Addr {
                            addr,
                            range_end,
                            port
                        }
                    ),
                    (
                        any::<u32>(),
                        of(prop_oneof![Just(IpFamily::Inet), Just(IpFamily::Inet6)])
                    )
                        .prop_map(|(mark, family)| VsgEntry::Fwmark { mark, family }),
                ],
                0..4,
            ),
        ),
        0..2,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(n, e)| {
                let mut g = VirtualServerGroup::default();
                (g.name, g.entries) = (n, e);
                g
            })
            .collect::<Vec<_>>()
    });
    (
        global_defs(),
        any::<bool>().prop_flat_map(|v6| vec(vaddr(v6), 0..3)),
        vec(route(), 0..2),
        vec(route(), 0..2),
        scripts,
        files,
        groups,
        vec(instance(), 0..3),
        vsg,
        vec(virtual_server(), 0..3),
    )
        .prop_map(|(g, sa, sr, sru, sc, tf, sg, vi, vsg, vs)| {
            let mut c = Config::default();
            (
                c.global_defs,
                c.static_ipaddress,
                c.static_routes,
                c.static_rules,
            ) = (g, sa, sr, sru);
            (
                c.vrrp_scripts,
                c.vrrp_track_files,
                c.vrrp_sync_groups,
                c.vrrp_instances,
            ) = (sc, tf, sg, vi);
            (c.virtual_server_groups, c.virtual_servers) = (vsg, vs);
            c.other
                .push(Directive::new("net_namespace", vec!["blue".into()]));
            c
        })
}

/// The generated model types nest deeply; proptest's value trees need more stack than a test
/// thread's default in debug builds, so the runner gets its own thread.
fn run_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn parse_format_round_trips() {
    run_big_stack(|| {
        let mut runner = TestRunner::new(ProptestConfig {
            cases: 256,
            ..ProptestConfig::default()
        });
        let result = runner.run(&config(), |c| {
            let text = format(&c);
            let out = parse_str(&text, &Options::default());
            prop_assert_eq!(
                &out.config,
                &c,
                "text:\n{}\ndiagnostics: {:#?}",
                text,
                out.diagnostics
            );
            // formatting is canonical: a second pass is identical
            prop_assert_eq!(format(&out.config), text);
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}

proptest! {
    #[test]
    fn timers_round_trip(us in 0u64..u64::MAX / 2) {
        let t = Timer::from_micros(us);
        prop_assert_eq!(Timer::parse(&t.to_string()), Some(t));
    }
}
