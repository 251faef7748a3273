//! The running monitor against real servers in namespaces: a server that dies and returns, and
//! quorum with hysteresis and a sorry server while a server flaps (root).

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use lvs_check::core::{Action, Dest};
use lvs_check::runner::{Event, Monitor};
use lvs_check::spec::resolve;
use lvs_testkit::{Netns, skip_unless};
use support::{block_in, listen, rs_addr, topo};

/// A TCP service that can be switched off (listener closed: connections are refused) and on.
struct Switch<'a> {
    ns: &'a Netns,
    port: u16,
    i: usize,
    l: Option<TcpListener>,
}

impl<'a> Switch<'a> {
    fn new(ns: &'a Netns, i: usize, port: u16) -> Self {
        let mut s = Self {
            ns,
            port,
            i,
            l: None,
        };
        s.set(true);
        s
    }
    fn set(&mut self, up: bool) {
        if up && self.l.is_none() {
            self.l = Some(listen(self.ns, rs_addr(self.i, self.port)));
        } else if !up {
            self.l = None;
        }
    }
}

fn specs(text: &str) -> Vec<lvs_check::spec::VirtualServerSpec> {
    let out = keepalived_conf::parse_str(text, &keepalived_conf::Options::default());
    assert!(!out.has_errors(), "{:?}", out.diagnostics);
    let (specs, errors) = resolve(&out.config);
    assert!(errors.is_empty(), "{errors:?}");
    specs
}

fn run_monitor(
    lb: &Netns,
    specs: Vec<lvs_check::spec::VirtualServerSpec>,
    secs: f64,
) -> (Vec<Event>, Vec<(Dest, u32)>) {
    block_in(lb, move || async move {
        let mut events = Vec::new();
        let m = Monitor::new(specs, 1, 64)
            .run(tokio::time::sleep(Duration::from_secs_f64(secs)), |_, e| {
                events.push(e)
            })
            .await;
        let members = m.pools()[0].members();
        (events, members)
    })
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn sleep_until(start: Instant, at: f64) {
    let t = start + Duration::from_secs_f64(at);
    if let Some(d) = t.checked_duration_since(Instant::now()) {
        std::thread::sleep(d);
    }
}

#[test]
fn server_dies_and_returns() {
    if skip_unless("server_dies_and_returns", &[]) {
        return;
    }
    let t = topo("die", 1);
    let specs = specs(
        "virtual_server 203.0.113.62 80 {\n delay_loop 0.2\n real_server 198.51.100.12 80 {\n  TCP_CHECK {\n   connect_timeout 0.5\n   retry 2\n   delay_before_retry 0.1\n   warmup 0\n  }\n }\n}\n",
    );
    let mut sw = Switch::new(&t.rs[0], 0, 80);
    let (events, members) = std::thread::scope(|s| {
        let start = Instant::now();
        let sw = &mut sw;
        s.spawn(move || {
            sleep_until(start, 1.0);
            sw.set(false);
            sleep_until(start, 2.5);
            sw.set(true);
        });
        run_monitor(&t.lb, specs, 4.0)
    });
    let transitions: Vec<(f64, bool, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Transition { t, up, reason, .. } => Some((secs(*t), *up, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(transitions.len(), 2, "{transitions:?}");
    let (down_t, up_t) = (transitions[0].0, transitions[1].0);
    assert!(!transitions[0].1 && transitions[1].1, "{transitions:?}");
    assert!(
        transitions[0].2.contains("connection refused"),
        "{transitions:?}"
    );
    assert!((1.0..1.9).contains(&down_t), "down at {down_t}");
    assert!((2.5..3.2).contains(&up_t), "up at {up_t}");
    // Exactly retry + 1 = 3 consecutive failures, delay_before_retry (0.1 s) apart, took it down.
    let checks: Vec<(f64, f64, bool)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Check {
                t,
                scheduled,
                outcome,
                ..
            } => Some((secs(*t), secs(*scheduled), outcome.ok)),
            _ => None,
        })
        .collect();
    let before: Vec<_> = checks.iter().filter(|c| c.0 <= down_t).collect();
    let fails: Vec<_> = before.iter().rev().take_while(|c| !c.2).collect();
    assert_eq!(fails.len(), 3, "{before:?}");
    for w in fails.windows(2) {
        let gap = w[0].1 - w[1].1;
        assert!((0.09..0.2).contains(&gap), "retry gap {gap}: {fails:?}");
    }
    // While down: checked every delay_loop, on the 0.2 s grid (no retries, no drift).
    let while_down: Vec<_> = checks
        .iter()
        .filter(|c| c.0 > down_t && c.0 <= up_t)
        .collect();
    assert!(while_down.len() >= 4, "{while_down:?}");
    for c in &while_down {
        let k = c.1 / 0.2;
        assert!((k - k.round()).abs() < 0.01, "off-grid {c:?}");
    }
    let actions: Vec<Action> = events
        .iter()
        .filter_map(|e| match e {
            Event::Action { action, .. } => Some(*action),
            _ => None,
        })
        .collect();
    let real = Dest::Real(0);
    assert_eq!(
        actions,
        vec![
            Action::Add {
                dest: real,
                weight: 1
            },
            Action::QuorumUp,
            Action::Remove { dest: real },
            Action::NotifyDown(0),
            Action::QuorumDown,
            Action::Add {
                dest: real,
                weight: 1
            },
            Action::NotifyUp(0),
            Action::QuorumUp,
        ]
    );
    assert_eq!(members, vec![(real, 1)]);
}

#[test]
fn flapping_server_quorum_hysteresis_and_sorry_server() {
    if skip_unless("flapping_server_quorum_hysteresis_and_sorry_server", &[]) {
        return;
    }
    let t = topo("quo", 4);
    let mut text = String::from(
        "virtual_server 203.0.113.62 80 {\n delay_loop 0.2\n quorum 3\n hysteresis 1\n sorry_server 198.51.100.99 80\n",
    );
    for i in 0..4 {
        text.push_str(&format!(
            " real_server 198.51.100.{} 80 {{\n  TCP_CHECK {{\n   connect_timeout 0.5\n   retry 0\n   warmup 0\n  }}\n }}\n",
            12 + i
        ));
    }
    text.push_str("}\n");
    let specs = specs(&text);
    let mut sw: Vec<Switch<'_>> = (0..4).map(|i| Switch::new(&t.rs[i], i, 80)).collect();
    let (events, members) = std::thread::scope(|s| {
        let start = Instant::now();
        let sw = &mut sw;
        s.spawn(move || {
            // 1.0 s: rs3 leaves; rs2 flaps every 0.3 s until 3.0 s: live weight 2..3, never
            // below quorum - hysteresis = 2.
            sleep_until(start, 1.0);
            sw[3].set(false);
            for k in 0..6 {
                sw[2].set(k % 2 == 1);
                sleep_until(start, 1.3 + 0.3 * f64::from(k));
            }
            sleep_until(start, 3.0);
            // 3.0 s: rs1 and rs2 down: live weight 1, quorum lost, the sorry server steps in.
            sw[2].set(false);
            sw[1].set(false);
            // 4.5 s: all back: live weight 4 = quorum + hysteresis, quorum regained.
            sleep_until(start, 4.5);
            for s in sw.iter_mut() {
                s.set(true);
            }
        });
        run_monitor(&t.lb, specs, 6.0)
    });
    let timed: Vec<(f64, Action)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Action { t, action, .. } => Some((secs(*t), *action)),
            _ => None,
        })
        .collect();
    let at = |a: Action| -> Vec<f64> {
        timed
            .iter()
            .filter(|(_, b)| *b == a)
            .map(|(t, _)| *t)
            .collect()
    };
    let downs = at(Action::QuorumDown);
    let ups = at(Action::QuorumUp);
    assert_eq!(downs.len(), 1, "{timed:?}");
    assert!((3.0..3.8).contains(&downs[0]), "quorum lost at {downs:?}");
    assert_eq!(ups.len(), 2, "{timed:?}");
    assert!(ups[0] < 0.1 && (4.5..5.3).contains(&ups[1]), "{ups:?}");
    // rs2 really flapped in the band.
    let flaps = events
        .iter()
        .filter(
            |e| matches!(e, Event::Transition { t, rs: 2, .. } if (1.0..3.0).contains(&secs(*t))),
        )
        .count();
    assert!(flaps >= 4, "rs2 transitions in the band: {flaps}");
    // The sorry server replaced the last live server, then left again.
    let sorry_in = at(Action::Add {
        dest: Dest::Sorry,
        weight: 1,
    });
    let sorry_out = at(Action::Remove { dest: Dest::Sorry });
    assert_eq!(sorry_in, downs, "{timed:?}");
    assert_eq!(sorry_out, vec![ups[1]], "{timed:?}");
    assert!(
        at(Action::Remove {
            dest: Dest::Real(0)
        })
        .contains(&downs[0])
    );
    assert_eq!(
        members,
        (0..4).map(|i| (Dest::Real(i), 1)).collect::<Vec<_>>()
    );
}
