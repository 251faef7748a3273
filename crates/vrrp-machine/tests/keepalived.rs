//! keepalived behaviour on top of the RFC: FAULT, tracking weights, sync groups, the GARP
//! schedule, nopreempt / preempt_delay, unicast peers, statistics, configuration errors.

mod common;

use core::time::Duration;

use common::*;
use vrrp_machine::{
    Config, ConfigError, GarpConfig, Input, Instance, Instant, Interval, NewMasterReason, Notify,
    Output, Reason, RxError, State, SyncGroup, Track, TrackId, Version,
};

fn announces(out: &[Output]) -> Vec<u32> {
    out.iter()
        .filter_map(|o| match o {
            Output::Announce(a) => Some(a.count),
            _ => None,
        })
        .collect()
}

/// Runs every timer up to `end`, collecting (time, output).
fn run(i: &mut Instance, end: Instant) -> Vec<(Instant, Output)> {
    let mut all = Vec::new();
    for _ in 0..10_000 {
        match i.poll_timeout() {
            Some(t) if t <= end => {
                i.handle_timeout(t);
                all.extend(drain(i).into_iter().map(|o| (t, o)));
            }
            _ => break,
        }
    }
    all
}

#[test]
fn garp_defaults_five_now_five_after_five_seconds() {
    let (mut i, t0) = started(config(Version::V2, 100, 100), State::Backup);
    let _ = t0;
    let t = i.poll_timeout().expect("down timer");
    i.handle_timeout(t);
    let out = drain(&mut i);
    assert_eq!(announces(&out), [5]);
    let later = run(&mut i, t + Duration::from_secs(30));
    let garps: Vec<(Instant, u32)> = later
        .iter()
        .filter_map(|(at, o)| match o {
            Output::Announce(a) => Some((*at, a.count)),
            _ => None,
        })
        .collect();
    assert_eq!(
        garps,
        [(t + Duration::from_secs(5), 5)],
        "no refresh by default"
    );
    // 30 adverts in 30 s.
    assert_eq!(
        later
            .iter()
            .filter(|(_, o)| matches!(o, Output::Transmit(_)))
            .count(),
        30
    );
}

#[test]
fn garp_repeat_delay_refresh_and_interval_are_settable() {
    let mut cfg = config(Version::V3, 100, 100);
    cfg.garp = GarpConfig {
        master_repeat: 3,
        master_delay: None,
        master_refresh: Some(Duration::from_secs(10)),
        master_refresh_repeat: 2,
        interval: Duration::from_millis(100),
        ..GarpConfig::default()
    };
    let (mut i, t) = started(cfg, State::Master);
    let garps: Vec<(u64, u32)> = run(&mut i, t + Duration::from_secs(21))
        .iter()
        .filter_map(|(at, o)| match o {
            Output::Announce(a) => Some(((*at - t).as_millis() as u64, a.count)),
            _ => None,
        })
        .collect();
    // The first of the 3 went out with the transition; then spaced by 100 ms; refresh bursts of
    // 2 every 10 s, also spaced.
    assert_eq!(
        garps,
        [
            (100, 1),
            (200, 1),
            (10_000, 1),
            (10_100, 1),
            (20_000, 1),
            (20_100, 1)
        ]
    );
}

#[test]
fn lower_priority_advert_to_master_resends_garps() {
    let (mut i, t) = started(config(Version::V3, 100, 100), State::Master);
    let list = wire_vips();
    let out = rx(&mut i, t, "192.0.2.20", advert(&list, Version::V3, 50, 100));
    assert_eq!(announces(&out), [5]);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Notify(Notify::MasterRxLowerPriority { priority: 50, .. })
    )));
}

#[test]
fn start_in_backup_unless_owner() {
    let (i, _) = started(config(Version::V2, 254, 100), State::Backup);
    assert_eq!(i.state(), State::Backup);
    let mut cfg = config(Version::V2, 255, 100);
    cfg.owner_immediate_master = false; // keepalived `state BACKUP` on an owner
    let (i, _) = started(cfg, State::Backup);
    assert_eq!(i.master_down_interval(), Duration::from_micros(3_003_906));
    let (i, _) = started(config(Version::V2, 255, 100), State::Master);
    assert_eq!(i.stats().new_master_reason, NewMasterReason::Priority);
}

#[test]
fn interface_down_is_fault_and_up_returns_to_backup() {
    let (mut i, t) = started(config(Version::V3, 100, 100), State::Master);
    i.handle_input(t, Input::InterfaceDown);
    let out = drain(&mut i);
    assert_eq!(i.state(), State::Fault);
    assert!(transmits(&out).is_empty(), "no advert on a dead link");
    assert!(out.iter().any(|o| matches!(o, Output::RemoveAddresses(_))));
    assert_eq!(changes(&out)[0].reason, Reason::InterfaceDown);
    assert_eq!(i.poll_timeout(), None, "FAULT is silent");
    // Adverts are ignored in FAULT.
    let list = wire_vips();
    let _ = rx(&mut i, t, "192.0.2.20", advert(&list, Version::V3, 50, 100));
    assert_eq!(i.state(), State::Fault);
    i.handle_input(t + Duration::from_secs(1), Input::InterfaceUp);
    let out = drain(&mut i);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(changes(&out)[0].reason, Reason::FaultCleared);
}

#[test]
fn weight_zero_track_is_fault_and_master_says_priority_zero() {
    let mut cfg = config(Version::V3, 100, 100);
    cfg.tracks = vec![Track::fault(TrackId(7))];
    let (mut i, t) = started(cfg, State::Master);
    i.handle_input(
        t,
        Input::Track {
            id: TrackId(7),
            up: false,
        },
    );
    let out = drain(&mut i);
    assert_eq!(i.state(), State::Fault);
    assert_eq!(
        transmits(&out)
            .iter()
            .map(|t| t.advert.priority)
            .collect::<Vec<_>>(),
        [0]
    );
    assert_eq!(changes(&out)[0].reason, Reason::TrackFault(TrackId(7)));
    assert_eq!(i.stats().sent_pri_zero_packets, 1);
}

#[test]
fn track_weights_clamp_to_1_254_and_owner_stays_255() {
    let mut cfg = config(Version::V3, 200, 100);
    cfg.tracks = vec![
        Track::weighted(TrackId(1), 100),
        Track::weighted(TrackId(2), -250),
        Track {
            id: TrackId(3),
            weight: 10,
            reverse: true,
        },
    ];
    let (mut i, t) = started(cfg.clone(), State::Backup);
    // All up: 200 + 100 - 10 (reverse, up) = 290 → 254.
    assert_eq!(i.priority(), 254);
    i.handle_input(
        t,
        Input::Track {
            id: TrackId(2),
            up: false,
        },
    );
    // 200 + 100 - 250 - 10 = 40.
    assert_eq!(i.priority(), 40);
    i.handle_input(
        t,
        Input::Track {
            id: TrackId(1),
            up: false,
        },
    );
    // 200 - 250 - 10 → 1.
    assert_eq!(i.priority(), 1);
    let out = drain(&mut i);
    assert!(out.contains(&Output::Notify(Notify::PriorityChanged { effective: 1 })));
    cfg.priority = 255;
    let (mut owner, t) = started(cfg, State::Master);
    owner.handle_input(
        t,
        Input::Track {
            id: TrackId(2),
            up: false,
        },
    );
    assert_eq!(owner.priority(), 255);
}

/// keepalived.conf(5), "Track files": value × weight moves the priority, below -253 is FAULT;
/// with weight 0 a non-zero value is a fault; `reverse` negates.
#[test]
fn track_values_move_the_priority_and_fault_below_minus_253() {
    let value = |i: &mut Instance, t, id, value| {
        i.handle_input(
            t,
            Input::TrackValue {
                id: TrackId(id),
                value,
            },
        );
    };
    let mut cfg = config(Version::V3, 100, 100);
    cfg.tracks = vec![
        Track::weighted(TrackId(1), -2),
        Track::fault(TrackId(2)),
        Track {
            id: TrackId(3),
            weight: 5,
            reverse: true,
        },
    ];
    let (mut i, t) = started(cfg, State::Master);
    // Before any value, the objects count as up: weight -2 up and weight 0 add nothing, the
    // reversed +5 takes 5 off.
    assert_eq!(i.priority(), 95);
    value(&mut i, t, 3, 0);
    assert_eq!(i.priority(), 100);
    value(&mut i, t, 1, 10);
    assert_eq!(i.priority(), 80);
    value(&mut i, t, 1, -30);
    assert_eq!(i.priority(), 160);
    value(&mut i, t, 3, 4);
    assert_eq!(i.priority(), 140);
    assert_eq!(i.state(), State::Master);
    // -2 × 127 = -254 < -253: FAULT, and back when the value is sane again.
    value(&mut i, t, 1, 127);
    assert_eq!(i.state(), State::Fault);
    assert_eq!(
        changes(&drain(&mut i)).last().map(|c| c.reason),
        Some(Reason::TrackFault(TrackId(1)))
    );
    value(&mut i, t, 1, 126);
    assert_ne!(i.state(), State::Fault);
    assert_eq!(i.priority(), 1, "100 - 252 - 20, clamped");
    // Weight 0: a non-zero value is a fault, zero is fine.
    value(&mut i, t, 2, 1);
    assert_eq!(i.state(), State::Fault);
    value(&mut i, t, 2, 0);
    assert_ne!(i.state(), State::Fault);
    // The same value twice changes nothing.
    let _ = drain(&mut i);
    value(&mut i, t, 2, 0);
    assert!(drain(&mut i).is_empty());
}

#[test]
fn priority_change_takes_effect_in_the_election() {
    // A Backup raised above the master preempts it once its adverts are discarded.
    let (mut i, _) = started(config(Version::V3, 100, 100), State::Backup);
    let list = wire_vips();
    let _ = rx(
        &mut i,
        Instant::from_secs(1),
        "192.0.2.20",
        advert(&list, Version::V3, 150, 100),
    );
    i.handle_input(Instant::from_secs(1), Input::SetPriority(200));
    for s in 2..10 {
        let _ = rx(
            &mut i,
            Instant::from_secs(s),
            "192.0.2.20",
            advert(&list, Version::V3, 150, 100),
        );
        let _ = run(&mut i, Instant::from_secs(s));
    }
    assert_eq!(i.state(), State::Master);
    let t = i.stats();
    assert_eq!(t.new_master_reason, NewMasterReason::Preempted);
}

#[test]
fn nopreempt_backup_keeps_accepting_a_lower_master() {
    let mut cfg = config(Version::V3, 200, 100);
    cfg.preempt = false;
    let (mut i, _) = started(cfg, State::Backup);
    let list = wire_vips();
    for s in 1..60 {
        let _ = rx(
            &mut i,
            Instant::from_secs(s),
            "192.0.2.20",
            advert(&list, Version::V3, 100, 100),
        );
        let _ = run(&mut i, Instant::from_secs(s));
    }
    assert_eq!(i.state(), State::Backup);
}

#[test]
fn preempt_delay_postpones_the_takeover() {
    let mut cfg = config(Version::V3, 200, 100);
    cfg.preempt_delay = Duration::from_secs(10);
    let (mut i, _) = started(cfg, State::Backup);
    // Startup: Master_Down_Interval + preempt_delay.
    assert_eq!(
        i.poll_timeout(),
        Some(Instant::from_micros(3_218_750 + 10_000_000))
    );
    let list = wire_vips();
    let mut took_over = None;
    for s in 1..40 {
        let now = Instant::from_secs(s);
        let out = run(&mut i, now);
        if let Some((at, _)) = out
            .iter()
            .find(|(_, o)| matches!(o, Output::StateChange(c) if c.to == State::Master))
        {
            took_over = Some(*at);
            break;
        }
        let _ = rx(
            &mut i,
            now,
            "192.0.2.20",
            advert(&list, Version::V3, 100, 100),
        );
    }
    // First lower advert at 1 s starts the 10 s delay; adverts are accepted until 11 s; the last
    // accepted one (10 s) + Master_Down_Interval.
    assert_eq!(
        took_over,
        Some(Instant::from_micros(10_000_000 + 3_218_750))
    );
}

#[test]
fn unicast_peers_get_one_advert_each() {
    let mut cfg = config(Version::V3, 255, 100);
    cfg.unicast_peers = vec![ip("192.0.2.11"), ip("192.0.2.12"), ip("192.0.2.13")];
    let mut i = Instance::new(cfg, Instant::ZERO).expect("config");
    i.handle_input(Instant::ZERO, Input::Startup);
    let out = drain(&mut i);
    let dsts: Vec<String> = transmits(&out).iter().map(|t| t.dst.to_string()).collect();
    assert_eq!(dsts, ["192.0.2.11", "192.0.2.12", "192.0.2.13"]);
    assert_eq!(i.stats().sent_advertisements, 1);
}

#[test]
fn multicast_destination_per_family() {
    let (mut i, _) = started(config(Version::V3, 255, 100), State::Master);
    i.handle_input(Instant::ZERO, Input::Shutdown);
    assert_eq!(transmits(&drain(&mut i))[0].dst, ip("224.0.0.18"));
    let cfg = Config::new(
        Version::V3,
        9,
        255,
        Interval::DEFAULT,
        ip("fe80::1"),
        vec![ip("fe80::9"), ip("2001:db8::9")],
    );
    let mut i = Instance::new(cfg, Instant::ZERO).expect("config");
    i.handle_input(Instant::ZERO, Input::Startup);
    assert_eq!(transmits(&drain(&mut i))[0].dst, ip("ff02::12"));
}

#[test]
fn sync_group_members_move_together() {
    let member = |vrid: u8, vip: &str| {
        let cfg = Config::new(
            Version::V3,
            vrid,
            100,
            Interval::DEFAULT,
            ip(ME),
            vec![ip(vip)],
        );
        Instance::new(cfg, Instant::ZERO).expect("config")
    };
    let mut g = SyncGroup::new(vec![member(1, "192.0.2.101"), member(2, "192.0.2.102")]);
    g.handle_input(Instant::ZERO, 0, Input::Startup);
    g.handle_input(Instant::ZERO, 1, Input::Startup);
    while g.poll_output().is_some() {}
    // Both down timers run out together: the group goes Master.
    let t = g.poll_timeout().expect("timers");
    g.handle_timeout(t);
    while g.poll_output().is_some() {}
    assert_eq!(g.member(0).state(), State::Master);
    assert_eq!(g.member(1).state(), State::Master);
    // A higher-priority master on VRID 2 takes member 1 to Backup: member 0 follows.
    let list = vrrp_packet::AddressList::Ipv4(vec!["192.0.2.102".parse().expect("ip")]);
    let mut repr = advert(&list, Version::V3, 200, 100);
    repr.vrid = 2;
    g.handle_input(
        t,
        1,
        Input::Advert(vrrp_machine::Received {
            src: ip("192.0.2.20"),
            repr,
        }),
    );
    let outs: Vec<(usize, Output)> = std::iter::from_fn(|| g.poll_output()).collect();
    assert_eq!(g.member(0).state(), State::Backup);
    assert_eq!(g.member(1).state(), State::Backup);
    assert!(
        outs.iter().any(|(m, o)| *m == 0
            && matches!(o, Output::StateChange(c) if c.reason == Reason::SyncGroup))
    );
    // Member 0's interface fails: the whole group is in FAULT until it comes back.
    g.handle_input(t, 0, Input::InterfaceDown);
    assert_eq!(
        (g.member(0).state(), g.member(1).state()),
        (State::Fault, State::Fault)
    );
    g.handle_input(t, 1, Input::InterfaceUp); // not the faulty one: nothing changes
    assert_eq!(g.member(1).state(), State::Fault);
    g.handle_input(t, 0, Input::InterfaceUp);
    assert_eq!(
        (g.member(0).state(), g.member(1).state()),
        (State::Backup, State::Backup)
    );
}

#[test]
fn v2_checks_auth_interval_and_address_list() {
    let mut cfg = config(Version::V2, 100, 100);
    cfg.auth = vrrp_packet::Auth::simple_text(b"1717");
    let (mut i, _) = started(cfg, State::Backup);
    let deadline = i.poll_timeout();
    let list = wire_vips();
    // No auth: rejected.
    let _ = rx(
        &mut i,
        Instant::from_secs(1),
        "192.0.2.20",
        advert(&list, Version::V2, 200, 100),
    );
    assert_eq!(i.stats().auth_errors, 1);
    assert_eq!(i.poll_timeout(), deadline);
    // Right auth, other addresses, not the owner: dropped; from the owner: accepted.
    let other = vrrp_packet::AddressList::Ipv4(vec!["192.0.2.99".parse().expect("ip")]);
    let mut repr = advert(&other, Version::V2, 200, 100);
    repr.auth = vrrp_packet::Auth::simple_text(b"1717");
    let _ = rx(&mut i, Instant::from_secs(1), "192.0.2.20", repr);
    assert_eq!(i.stats().address_list_errors, 1);
    assert_eq!(i.poll_timeout(), deadline);
    repr.priority = 255;
    let _ = rx(&mut i, Instant::from_secs(1), "192.0.2.20", repr);
    assert_eq!(
        i.poll_timeout(),
        Some(Instant::from_secs(1) + i.master_down_interval())
    );
    assert_eq!(i.stats().rcvd_advertisements, 3);
}

#[test]
fn rejected_packets_are_counted_per_rfc6527() {
    let (mut i, _) = started(config(Version::V3, 100, 100), State::Backup);
    for e in [
        RxError::Ttl,
        RxError::Checksum,
        RxError::Version,
        RxError::Length,
        RxError::Type,
        RxError::VrId,
    ] {
        i.handle_input(Instant::ZERO, Input::Rejected(e));
    }
    let s = i.stats();
    assert_eq!(
        (
            s.ip_ttl_errors,
            s.checksum_errors,
            s.version_errors,
            s.packet_length_errors,
            s.rcvd_invalid_type_packets,
            s.vrid_errors
        ),
        (1, 1, 1, 1, 1, 1)
    );
    assert_eq!(s.proto_err_reason, vrrp_machine::ProtoErrReason::VrIdError);
    // Codec errors map onto the same counters.
    assert_eq!(
        RxError::from(&vrrp_packet::Error::Ttl { ttl: 64 }),
        RxError::Ttl
    );
}

#[test]
fn own_looped_advert_is_ignored() {
    let (mut i, t) = started(config(Version::V3, 100, 100), State::Master);
    let list = wire_vips();
    let out = rx(&mut i, t, ME, advert(&list, Version::V3, 100, 100));
    assert!(out.is_empty());
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.stats().rcvd_advertisements, 0);
}

#[test]
fn config_errors_name_the_rule() {
    let bad = |f: &dyn Fn(&mut Config)| {
        let mut c = config(Version::V3, 100, 100);
        f(&mut c);
        Instance::new(c, Instant::ZERO).expect_err("invalid")
    };
    assert_eq!(bad(&|c| c.vrid = 0), ConfigError::Vrid);
    assert_eq!(bad(&|c| c.priority = 0), ConfigError::Priority);
    assert!(matches!(
        bad(&|c| c.advert_interval = Interval::from_centis(4096)),
        ConfigError::Interval { .. }
    ));
    assert!(matches!(
        bad(&|c| {
            c.version = Version::V2;
            c.advert_interval = Interval::from_centis(50);
        }),
        ConfigError::Interval { .. }
    ));
    assert_eq!(
        bad(&|c| c.auth = vrrp_packet::Auth::simple_text(b"x")),
        ConfigError::V3Auth
    );
    assert_eq!(
        bad(&|c| c.virtual_addresses.clear()),
        ConfigError::NoAddresses
    );
    assert!(matches!(
        bad(&|c| c.virtual_addresses.push(ip("2001:db8::1"))),
        ConfigError::MixedFamily(_)
    ));
    let e = bad(&|c| {
        c.primary_address = ip("fe80::1");
        c.virtual_addresses = vec![ip("2001:db8::1")];
    });
    assert!(e.to_string().contains("link-local"), "{e}");
}

mod sync_group_property {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Ev {
        Timeout,
        Advert { member: usize, priority: u8 },
        Iface { member: usize, up: bool },
        Track { member: usize, up: bool },
    }

    fn ev() -> impl Strategy<Value = Ev> {
        prop_oneof![
            3 => Just(Ev::Timeout),
            3 => (0usize..3, any::<u8>()).prop_map(|(member, priority)| Ev::Advert { member, priority }),
            1 => (0usize..3, any::<bool>()).prop_map(|(member, up)| Ev::Iface { member, up }),
            1 => (0usize..3, any::<bool>()).prop_map(|(member, up)| Ev::Track { member, up }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// After every input, the members agree: all FAULT if any is, otherwise all MASTER or
        /// all BACKUP; and a member in FAULT has no addresses configured.
        #[test]
        fn members_always_agree(evs in proptest::collection::vec(ev(), 1..80)) {
            let vips = ["192.0.2.101", "192.0.2.102", "192.0.2.103"];
            let members = (0..3)
                .map(|k| {
                    let mut c = Config::new(Version::V3, k as u8 + 1, 100, Interval::DEFAULT, ip(ME), vec![ip(vips[k])]);
                    c.tracks = vec![Track::fault(TrackId(1))];
                    Instance::new(c, Instant::ZERO).expect("config")
                })
                .collect();
            let mut g = SyncGroup::new(members);
            let mut now = Instant::ZERO;
            for k in 0..3 {
                g.handle_input(now, k, Input::Startup);
            }
            let mut has_vips = [false; 3];
            for e in evs {
                match e {
                    Ev::Timeout => {
                        if let Some(t) = g.poll_timeout() {
                            now = t;
                            g.handle_timeout(now);
                        }
                    }
                    Ev::Advert { member, priority } => {
                        let list = vrrp_packet::AddressList::Ipv4(vec![vips[member].parse().expect("ip")]);
                        let mut repr = advert(&list, Version::V3, priority, 100);
                        repr.vrid = member as u8 + 1;
                        g.handle_input(now, member, Input::Advert(vrrp_machine::Received { src: ip("192.0.2.20"), repr }));
                    }
                    Ev::Iface { member, up } => {
                        g.handle_input(now, member, if up { Input::InterfaceUp } else { Input::InterfaceDown });
                    }
                    Ev::Track { member, up } => g.handle_input(now, member, Input::Track { id: TrackId(1), up }),
                }
                while let Some((m, o)) = g.poll_output() {
                    match o {
                        Output::AddAddresses(_) => has_vips[m] = true,
                        Output::RemoveAddresses(_) => has_vips[m] = false,
                        _ => {}
                    }
                }
                let states: Vec<State> = g.members().iter().map(Instance::state).collect();
                let any_fault = states.contains(&State::Fault);
                if any_fault {
                    prop_assert!(states.iter().all(|s| *s == State::Fault), "{:?}", states);
                } else {
                    prop_assert!(states.iter().all(|s| *s == states[0]), "{:?}", states);
                }
                for k in 0..3 {
                    prop_assert_eq!(has_vips[k], states[k] == State::Master, "member {} {:?}", k, states);
                }
            }
        }
    }
}

#[test]
fn reconfigure_keeps_the_state_and_moves_addresses() {
    let mut cfg = config(Version::V3, 100, 100);
    cfg.tracks = vec![Track::weighted(TrackId(1), 20)];
    let (mut i, t) = started(cfg.clone(), State::Master);
    i.handle_input(
        t,
        Input::Track {
            id: TrackId(1),
            up: false,
        },
    );
    let _ = drain(&mut i);
    cfg.virtual_addresses = vec![ip("192.0.2.100"), ip("192.0.2.101")];
    cfg.priority = 150;
    cfg.tracks.push(Track::weighted(TrackId(2), 5));
    i.reconfigure(t, cfg.clone()).expect("valid reload");
    let out = drain(&mut i);
    assert_eq!(i.state(), State::Master, "a reload does not flap");
    // Track 1 stays down (0), track 2 starts up (+5).
    assert_eq!(i.priority(), 155);
    let kinds: Vec<&str> = out
        .iter()
        .map(|o| match o {
            Output::RemoveAddresses(a) => {
                if a.len() == 1 {
                    "remove-old"
                } else {
                    "remove?"
                }
            }
            Output::AddAddresses(a) => {
                if a.len() == 2 {
                    "add-new"
                } else {
                    "add?"
                }
            }
            Output::Announce(_) => "garp",
            Output::Notify(Notify::PriorityChanged { .. }) => "prio",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["remove-old", "add-new", "garp", "prio"]);
    // Adverts now carry both addresses.
    let t2 = i.poll_timeout().expect("adver timer");
    i.handle_timeout(t2);
    assert_eq!(
        transmits(&drain(&mut i))[0]
            .advert
            .addresses
            .as_addresses()
            .len(),
        2
    );
    // Identity changes are refused.
    cfg.vrid = 52;
    assert_eq!(i.reconfigure(t2, cfg), Err(ConfigError::Identity));
}

#[test]
fn sync_group_goes_master_only_when_every_member_wants_to() {
    let member = |vrid: u8, vip: &str| {
        let cfg = Config::new(
            Version::V3,
            vrid,
            100,
            Interval::DEFAULT,
            ip(ME),
            vec![ip(vip)],
        );
        Instance::new(cfg, Instant::ZERO).expect("config")
    };
    let mut g = SyncGroup::new(vec![member(1, "192.0.2.101"), member(2, "192.0.2.102")]);
    g.handle_input(Instant::ZERO, 0, Input::Startup);
    g.handle_input(Instant::ZERO, 1, Input::Startup);
    let list = vrrp_packet::AddressList::Ipv4(vec!["192.0.2.102".parse().expect("ip")]);
    let from_master = |prio| {
        let mut repr = advert(&list, Version::V3, prio, 100);
        repr.vrid = 2;
        Input::Advert(vrrp_machine::Received {
            src: ip("192.0.2.20"),
            repr,
        })
    };
    // VRID 2 has a live master; VRID 1 has none: member 0's timer expires, but it waits.
    for s in 1..=10 {
        g.handle_input(Instant::from_secs(s), 1, from_master(200));
        while let Some(t) = g.poll_timeout().filter(|t| *t <= Instant::from_secs(s)) {
            g.handle_timeout(t);
        }
    }
    while g.poll_output().is_some() {}
    assert!(g.member(0).wants_master());
    assert_eq!(
        (g.member(0).state(), g.member(1).state()),
        (State::Backup, State::Backup)
    );
    // VRID 2's master stops: after member 1's skew time the whole group goes MASTER.
    g.handle_input(Instant::from_secs(11), 1, from_master(0));
    let t = g.poll_timeout().expect("skew timer");
    assert_eq!(t, Instant::from_secs(11) + Duration::from_micros(609_375));
    g.handle_timeout(t);
    let outs: Vec<(usize, Output)> = std::iter::from_fn(|| g.poll_output()).collect();
    assert_eq!(
        (g.member(0).state(), g.member(1).state()),
        (State::Master, State::Master)
    );
    let mut reasons: Vec<(usize, Reason)> = outs
        .iter()
        .filter_map(|(m, o)| match o {
            Output::StateChange(c) => Some((*m, c.reason)),
            _ => None,
        })
        .collect();
    reasons.sort_by_key(|(m, _)| *m);
    assert_eq!(
        reasons,
        [(0, Reason::MasterDown), (1, Reason::MasterReleased)]
    );
}
