//! The demo behind `cargo xtask demo [dr|nat|tun]`: the seed's cluster under steady traffic, a
//! live timeline once per second, the master killed and brought back, then a summary.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Report, Traffic};
use crate::{Binaries, Mode, Node, Topology};

/// When things happen in the demo, in seconds from the first request.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// The master director dies at this second.
    pub kill_at: u64,
    /// It comes back this many seconds later.
    pub down_for: u64,
    /// The demo ends this many seconds after it came back.
    pub tail: u64,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            kill_at: 5,
            down_for: 8,
            tail: 10,
        }
    }
}

/// What the demo measured.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The mode shown.
    pub mode: Mode,
    /// The whole run.
    pub report: Report,
    /// Seconds from the master's death to the backup holding the VIP (as seen once a second).
    pub takeover_s: Option<u64>,
    /// Whether the demo was interrupted (Ctrl-C).
    pub interrupted: bool,
}

/// Who holds the VIP: "A", "B", "-" (nobody) or "A+B" (a restarted director's stale address,
/// until its lvsd removes it); a dead director is shown as "(A)".
fn holders_text(topo: &Topology, dead: Option<Node>) -> String {
    let names: Vec<String> = topo
        .vip_holders()
        .into_iter()
        .map(|n| {
            if Some(n) == dead {
                format!("({})", n.name())
            } else {
                n.name().to_string()
            }
        })
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join("+")
    }
}

/// Runs the demo for `mode`, writing the timeline to `out`; returns early (tearing everything
/// down) when `stop` becomes true.
pub fn run(
    mode: Mode,
    bins: Binaries,
    script: Script,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> io::Result<Summary> {
    let t0 = Instant::now();
    let hosts = match mode {
        Mode::Nat => "client, directors A and B (two LANs), real servers rs1 and rs2",
        Mode::Dr | Mode::Tun => "client, router, directors A and B, real servers rs1 and rs2",
    };
    writeln!(
        out,
        "lvs-rs demo: LVS-{mode} with two lvsd directors ({hosts})"
    )?;
    writeln!(
        out,
        "  VIP {}:{}  real servers 198.51.100.12 (rs1) and .13 (rs2), wrr 1:1, every name space lvs-topo-*",
        crate::VIP,
        crate::PORT
    )?;
    let mut topo = Topology::build(mode, bins, 2)?;
    topo.start()?;
    writeln!(
        out,
        "  built and started in {:.1} s; director A is MASTER, B is BACKUP",
        t0.elapsed().as_secs_f64()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  (VIP on: who has the address; (A) = left on a dead director's downed link)"
    )?;
    writeln!(out, "  time  VIP on   rs1/s  rs2/s  failed/s   event")?;
    let traffic = Traffic::start(topo.client(), topo.service())?;
    let end = script.kill_at + script.down_for + script.tail;
    let mut takeover_s = None;
    let mut preempted = false;
    let mut interrupted = false;
    for sec in 1..=end {
        // Sleep to the second boundary, watching for Ctrl-C.
        let boundary = Duration::from_secs(sec);
        while traffic.now() < boundary {
            if stop.load(Ordering::Relaxed) {
                interrupted = true;
                break;
            }
            std::thread::sleep(
                Duration::from_millis(20).min(boundary.saturating_sub(traffic.now())),
            );
        }
        if interrupted {
            break;
        }
        let last = Report::of(&traffic.window(boundary - Duration::from_secs(1), boundary));
        let master = topo.master();
        let dead =
            (script.kill_at < sec && sec <= script.kill_at + script.down_for).then_some(Node::A);
        let holders = holders_text(&topo, dead);
        let mut event = String::new();
        if sec == script.kill_at {
            topo.kill_director(Node::A)?;
            event = "director A dies (SIGKILL lvsd, links down)".into();
        } else if sec > script.kill_at && takeover_s.is_none() && master == Some(Node::B) {
            takeover_s = Some(sec - script.kill_at);
            event = "B took over the VIP".into();
        } else if sec == script.kill_at + script.down_for {
            topo.restart_director(Node::A)?;
            event = "director A comes back (links up, lvsd started: BACKUP first)".into();
        } else if sec > script.kill_at + script.down_for && !preempted && master == Some(Node::A) {
            preempted = true;
            event = "A preempted: MASTER again".into();
        }
        let line = format!(
            "  {sec:>3} s  {holders:<6} {:>6} {:>6} {:>9}   {event}",
            last.count("rs1"),
            last.count("rs2"),
            last.failures
        );
        writeln!(out, "{}", line.trim_end())?;
        out.flush()?;
    }
    let report = traffic.stop().report();
    if !interrupted && !preempted {
        writeln!(
            out,
            "  A did not preempt; its lvsd log ends with:\n{}",
            topo.director(Node::A).log_tail(20)
        )?;
    }
    drop(topo);
    writeln!(out)?;
    writeln!(out, "summary (LVS-{mode}): {report}")?;
    match report.outages.iter().max_by_key(|o| o.ms()) {
        Some(o) => writeln!(
            out,
            "  longest outage: {} ms from the first failed to the first successful request ({} requests failed)",
            o.ms(),
            o.failed
        )?,
        None => writeln!(out, "  no request failed")?,
    }
    let mine = format!("-{}-", std::process::id());
    let left: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("lvs-topo-") && n.contains(&mine))
                .collect()
        })
        .unwrap_or_default();
    let cleaned = if left.is_empty() {
        "every name space removed".to_string()
    } else {
        format!("name spaces left behind: {}", left.join(" "))
    };
    writeln!(
        out,
        "  served {} of {} requests; {cleaned}",
        report.served(),
        report.requests
    )?;
    Ok(Summary {
        mode,
        report,
        takeover_s,
        interrupted,
    })
}
