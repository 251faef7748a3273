//! Table-driven conformance tests: one row per transition of RFC 9568 §6.4.1–§6.4.3 (and the
//! matching RFC 3768 §6.4 rows for VRRPv2 where the versions differ).

mod common;

use core::time::Duration;

use common::*;
use vrrp_machine::{Input, Instant, Output, Reason, State, Version};

/// What a row does to an instance that is in `start` at time `t0`.
#[derive(Clone, Copy, Debug)]
enum Event {
    Startup,
    Shutdown,
    /// Let the armed timer fire.
    Timer,
    /// An advert from `src` with `priority` and `interval_cs`.
    Advert {
        src: &'static str,
        priority: u8,
        interval_cs: u16,
    },
}

#[derive(Debug)]
struct Row {
    rfc: &'static str,
    what: &'static str,
    version: Version,
    local_priority: u8,
    preempt: bool,
    lower_prio_no_advert: bool,
    start: State,
    event: Event,
    /// State afterwards.
    state: State,
    /// Priority of the advert sent at once (None: nothing sent).
    sends: Option<u8>,
    /// Next deadline relative to the event time, in µs (None: no timer armed).
    deadline_us: Option<u64>,
    /// Reason of the state change, if any.
    reason: Option<Reason>,
}

const HIGHER: &str = "192.0.2.20"; // > ME (192.0.2.10)
const LOWER: &str = "192.0.2.5"; // < ME

fn row(rfc: &'static str, what: &'static str, start: State, event: Event) -> Row {
    Row {
        rfc,
        what,
        version: Version::V3,
        local_priority: 100,
        preempt: true,
        lower_prio_no_advert: false,
        start,
        event,
        state: start,
        sends: None,
        deadline_us: None,
        reason: None,
    }
}

/// Master_Down_Interval and Skew_Time for priority `p` and interval `cs`, µs.
fn mdi(p: u64, cs: u64) -> u64 {
    3 * cs * 10_000 + skew(p, cs)
}
fn skew(p: u64, cs: u64) -> u64 {
    (256 - p) * cs * 10_000 / 256
}

fn table() -> Vec<Row> {
    use Event::*;
    use State::*;
    let adv = |src, priority, interval_cs| Advert {
        src,
        priority,
        interval_cs,
    };
    vec![
        // §6.4.1 Initialize
        Row {
            local_priority: 255,
            state: Master,
            sends: Some(255),
            deadline_us: Some(1_000_000),
            reason: Some(Reason::AddressOwner),
            ..row(
                "6.4.1",
                "owner startup: advert, GARP, Adver_Timer, -> Master",
                Initialize,
                Startup,
            )
        },
        Row {
            state: Backup,
            deadline_us: Some(mdi(100, 100)),
            reason: Some(Reason::Startup),
            ..row(
                "6.4.1",
                "startup: Master_Down_Timer = Master_Down_Interval, -> Backup",
                Initialize,
                Startup,
            )
        },
        Row {
            state: Initialize,
            ..row(
                "6.4.1",
                "shutdown in Initialize: nothing",
                Initialize,
                Shutdown,
            )
        },
        // §6.4.2 Backup
        Row {
            state: Initialize,
            reason: Some(Reason::Shutdown),
            ..row(
                "6.4.2",
                "shutdown: cancel Master_Down_Timer, -> Initialize",
                Backup,
                Shutdown,
            )
        },
        Row {
            state: Master,
            sends: Some(100),
            deadline_us: Some(1_000_000),
            reason: Some(Reason::MasterDown),
            ..row(
                "6.4.2",
                "Master_Down_Timer fires: advert, GARP, -> Master",
                Backup,
                Timer,
            )
        },
        Row {
            deadline_us: Some(skew(100, 100)),
            ..row(
                "6.4.2",
                "priority 0: Master_Down_Timer = Skew_Time",
                Backup,
                adv(HIGHER, 0, 100),
            )
        },
        Row {
            deadline_us: Some(mdi(100, 50)),
            ..row(
                "6.4.2",
                "higher priority: adopt interval (v3), reset timer",
                Backup,
                adv(LOWER, 150, 50),
            )
        },
        Row {
            deadline_us: Some(mdi(100, 100)),
            ..row(
                "6.4.2",
                "equal priority: accept (>=), reset timer",
                Backup,
                adv(LOWER, 100, 100),
            )
        },
        Row {
            preempt: false,
            deadline_us: Some(mdi(100, 200)),
            ..row(
                "6.4.2",
                "lower priority, Preempt_Mode false: accept, reset timer",
                Backup,
                adv(HIGHER, 50, 200),
            )
        },
        Row {
            // Unchanged: the startup deadline, seen from the event time (t0 = 0).
            deadline_us: Some(mdi(100, 100)),
            ..row(
                "6.4.2",
                "lower priority, Preempt_Mode true: discard",
                Backup,
                adv(HIGHER, 50, 200),
            )
        },
        Row {
            version: Version::V2,
            deadline_us: Some(mdi(100, 100)),
            ..row(
                "3768 6.4.2",
                "v2 higher priority: interval not adopted",
                Backup,
                adv(LOWER, 150, 100),
            )
        },
        Row {
            version: Version::V2,
            deadline_us: Some(mdi(100, 100)),
            ..row(
                "3768 7.1",
                "v2 interval mismatch: discarded",
                Backup,
                adv(LOWER, 150, 200),
            )
        },
        // §6.4.3 Master
        Row {
            state: Initialize,
            sends: Some(0),
            reason: Some(Reason::Shutdown),
            ..row(
                "6.4.3",
                "shutdown: cancel Adver_Timer, advert priority 0, -> Initialize",
                Master,
                Shutdown,
            )
        },
        Row {
            sends: Some(100),
            deadline_us: Some(1_000_000),
            ..row(
                "6.4.3",
                "Adver_Timer fires: advert, reset Adver_Timer",
                Master,
                Timer,
            )
        },
        Row {
            sends: Some(100),
            deadline_us: Some(1_000_000),
            ..row(
                "6.4.3",
                "priority 0: advert, reset Adver_Timer",
                Master,
                adv(HIGHER, 0, 100),
            )
        },
        Row {
            state: Backup,
            deadline_us: Some(mdi(100, 50)),
            reason: Some(Reason::HigherPriority {
                src: ip(LOWER),
                priority: 150,
            }),
            ..row(
                "6.4.3",
                "higher priority: adopt interval, Master_Down_Timer, -> Backup",
                Master,
                adv(LOWER, 150, 50),
            )
        },
        Row {
            state: Backup,
            deadline_us: Some(mdi(100, 100)),
            reason: Some(Reason::HigherAddress { src: ip(HIGHER) }),
            ..row(
                "6.4.3",
                "equal priority, higher address: -> Backup",
                Master,
                adv(HIGHER, 100, 100),
            )
        },
        Row {
            sends: Some(100),
            // The 5 s second GARP burst is armed; the Adver_Timer keeps its phase.
            deadline_us: Some(1_000_000),
            ..row(
                "6.4.3",
                "equal priority, lower address: discard, advert at once (RFC 9568)",
                Master,
                adv(LOWER, 100, 100),
            )
        },
        Row {
            sends: Some(100),
            deadline_us: Some(1_000_000),
            ..row(
                "6.4.3",
                "lower priority: discard, advert at once (RFC 9568)",
                Master,
                adv(HIGHER, 50, 100),
            )
        },
        Row {
            lower_prio_no_advert: true,
            deadline_us: Some(1_000_000),
            ..row(
                "6.4.3",
                "lower priority, lower_prio_no_advert: discard silently (RFC 5798)",
                Master,
                adv(HIGHER, 50, 100),
            )
        },
    ]
}

#[test]
fn rfc9568_transitions() {
    let mut failures = Vec::new();
    for r in table() {
        let mut cfg = config(r.version, r.local_priority, 100);
        cfg.preempt = r.preempt;
        cfg.lower_prio_no_advert = r.lower_prio_no_advert;
        let (mut inst, t0) = match r.start {
            State::Initialize => {
                let i = vrrp_machine::Instance::new(cfg, Instant::ZERO).expect("config");
                (i, Instant::ZERO)
            }
            s => started(cfg, s),
        };
        let list = wire_vips();
        let (now, out) = match r.event {
            Event::Startup => {
                inst.handle_input(t0, Input::Startup);
                (t0, drain(&mut inst))
            }
            Event::Shutdown => {
                inst.handle_input(t0, Input::Shutdown);
                (t0, drain(&mut inst))
            }
            Event::Timer => {
                let t = inst.poll_timeout().expect("a timer is armed");
                inst.handle_timeout(t);
                (t, drain(&mut inst))
            }
            Event::Advert {
                src,
                priority,
                interval_cs,
            } => {
                let repr = advert(&list, r.version, priority, interval_cs);
                (t0, rx(&mut inst, t0, src, repr))
            }
        };
        let sent: Vec<u8> = transmits(&out).iter().map(|t| t.advert.priority).collect();
        let got = (
            inst.state(),
            sent.first().copied(),
            inst.poll_timeout().map(|d| (d - now).as_micros() as u64),
            changes(&out).first().map(|c| c.reason),
        );
        let want = (r.state, r.sends, r.deadline_us, r.reason);
        if got != want || sent.len() > 1 {
            failures.push(format!(
                "RFC {} {}: got {got:?} (sent {sent:?}), want {want:?}",
                r.rfc, r.what
            ));
        }
        // Side rules of §6.4.2 / §6.4.3: addresses are configured exactly while Master.
        let added = out.iter().any(|o| matches!(o, Output::AddAddresses(_)));
        let removed = out.iter().any(|o| matches!(o, Output::RemoveAddresses(_)));
        let became_master = r.state == State::Master && r.start != State::Master;
        let left_master = r.start == State::Master && r.state != State::Master;
        if added != became_master || removed != left_master {
            failures.push(format!(
                "RFC {} {}: add {added} remove {removed}",
                r.rfc, r.what
            ));
        }
        if became_master
            && !out
                .iter()
                .any(|o| matches!(o, Output::Announce(a) if a.count == 5))
        {
            failures.push(format!("RFC {} {}: no GARP burst", r.rfc, r.what));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn outputs_of_a_takeover_come_in_order() {
    let (mut i, _) = started(config(Version::V3, 100, 100), State::Backup);
    let t = i.poll_timeout().expect("down timer");
    i.handle_timeout(t);
    let kinds: Vec<&str> = drain(&mut i)
        .iter()
        .map(|o| match o {
            Output::StateChange(_) => "state",
            Output::AddAddresses(_) => "add",
            Output::Transmit(_) => "advert",
            Output::Announce(_) => "garp",
            Output::Notify(_) => "notify",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["state", "advert", "add", "garp", "notify"]);
}

#[test]
fn textbook_timers() {
    // v2, priority 100, 1 s: 3 s + 156/256 s.
    let (i, _) = started(config(Version::V2, 100, 100), State::Backup);
    assert_eq!(i.master_down_interval(), Duration::from_micros(3_609_375));
    assert_eq!(i.skew_time(), Duration::from_micros(609_375));
    // v3, priority 100, 100 cs: 300 cs + 156·100/256 cs = 360.9375 cs, kept to the µs.
    let (i, _) = started(config(Version::V3, 100, 100), State::Backup);
    assert_eq!(i.master_down_interval(), Duration::from_micros(3_609_375));
    // v3, 10 cs: 0.3 s + 60.9375 ms (FRR's example shape), priority 200 at 1 s: 3.21875 s.
    let (i, _) = started(config(Version::V3, 100, 10), State::Backup);
    assert_eq!(i.master_down_interval(), Duration::from_micros(360_937));
    let (i, _) = started(config(Version::V3, 200, 100), State::Backup);
    assert_eq!(i.skew_time(), Duration::from_micros(218_750));
}

#[test]
fn v3_backup_adopts_master_interval_then_skew_uses_it() {
    let (mut i, _) = started(config(Version::V3, 100, 100), State::Backup);
    let list = wire_vips();
    let _ = rx(
        &mut i,
        Instant::from_secs(1),
        HIGHER,
        advert(&list, Version::V3, 200, 400),
    );
    assert_eq!(i.master_adver_interval().as_centis(), 400);
    assert_eq!(i.stats().adv_interval_errors, 1);
    let _ = rx(
        &mut i,
        Instant::from_secs(2),
        HIGHER,
        advert(&list, Version::V3, 0, 400),
    );
    assert_eq!(
        i.poll_timeout(),
        Some(Instant::from_secs(2) + Duration::from_micros(skew(100, 400)))
    );
}
