//! `lvs-check`: run the health checks of a keepalived.conf by hand.
//!
//! - `lvs-check --config keepalived.conf --once [--json]`: runs every check of every real server
//!   once, prints each result with its timing and reason, and the pool each virtual server would
//!   have. Exit status 0 when every check passed, 1 when one failed, 2 on a configuration error.
//! - `lvs-check --config keepalived.conf [--duration SECS] [--json] [--stats]`: keeps running
//!   with keepalived's timing (delay_loop, retry, delay_before_retry, warmup) and prints every
//!   real server transition as a JSON line
//!   `{"t_ms":..,"vs":"..","rs":"..","from":"up","to":"down","reason":".."}`; with `--json`
//!   also every check result and pool action; with `--stats`, timer lateness, CPU and RSS at
//!   the end (on stderr).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use keepalived_conf::{Options, Severity};
use lvs_check::core::{Action, Dest};
use lvs_check::runner::{Event, Monitor, run_once};
use lvs_check::spec::{VirtualServerSpec, resolve};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "lvs-check",
    version,
    about = "Run the health checks of a keepalived.conf"
)]
struct Cli {
    /// keepalived configuration file.
    #[arg(short = 'f', long)]
    config: PathBuf,
    /// Config id for `@ID` conditional lines (like keepalived -i).
    #[arg(short = 'i', long = "config-id")]
    config_id: Option<String>,
    /// Run every check once, print the results and the pools, and exit (0 = all passed).
    #[arg(long)]
    once: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Continuous mode: stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    duration: Option<f64>,
    /// Continuous mode: print timer lateness, CPU time and RSS at the end (stderr).
    #[arg(long)]
    stats: bool,
    /// Maximum number of checks running at once.
    #[arg(long, default_value_t = 256)]
    max_concurrent: usize,
    /// Seed of the warmup delays (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Ignore warmup: every check starts at once.
    #[arg(long)]
    no_warmup: bool,
}

fn dest_name(vs: &VirtualServerSpec, d: Dest) -> String {
    match d {
        Dest::Real(i) => vs.real_servers[i].addr.to_string(),
        Dest::Sorry => vs
            .sorry
            .map_or_else(|| "sorry".to_string(), |s| format!("{s} (sorry server)")),
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut opts = Options::default();
    if let Some(id) = &cli.config_id {
        opts = opts.config_id(id.clone());
    }
    let out = match keepalived_conf::parse_file(&cli.config, &opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("lvs-check: {e}");
            return ExitCode::from(2);
        }
    };
    for d in &out.diagnostics {
        if d.severity != Severity::Note {
            eprintln!("{d}");
        }
    }
    if out.has_errors() {
        eprintln!(
            "lvs-check: {}: {} error(s); checking what keepalived would use",
            cli.config.display(),
            out.error_count()
        );
    }
    let (mut specs, errors) = resolve(&out.config);
    for e in &errors {
        eprintln!("lvs-check: skipped: {e}");
    }
    if cli.no_warmup {
        for c in specs
            .iter_mut()
            .flat_map(|v| v.real_servers.iter_mut())
            .flat_map(|r| r.checks.iter_mut())
        {
            c.timing.warmup = Duration::ZERO;
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lvs-check: tokio: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.once {
        rt.block_on(once(&cli, &specs))
    } else {
        rt.block_on(continuous(&cli, specs))
    }
}

async fn once(cli: &Cli, specs: &[VirtualServerSpec]) -> ExitCode {
    let report = run_once(specs, cli.max_concurrent).await;
    let mut doc = Vec::new();
    for (v, vs) in specs.iter().enumerate() {
        let pool = &report.pools[v];
        let members: Vec<(String, u32)> = pool
            .members()
            .into_iter()
            .map(|(d, w)| (dest_name(vs, d), w))
            .collect();
        if cli.json {
            let checks: Vec<_> = report.results[v]
                .iter()
                .map(|(id, o)| {
                    let rs = &vs.real_servers[id.rs];
                    json!({
                        "rs": rs.addr.to_string(),
                        "check": rs.checks[id.check].keyword,
                        "target": rs.checks[id.check].probe.to_string(),
                        "ok": o.ok,
                        "ms": ms(o.elapsed),
                        "weight": o.weight,
                        "reason": o.reason,
                    })
                })
                .collect();
            let rss: Vec<_> = vs
                .real_servers
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({"rs": r.addr.to_string(), "up": pool.is_alive(i), "weight": pool.effective_weight(i)})
                })
                .collect();
            doc.push(json!({
                "vs": vs.name,
                "checks": checks,
                "real_servers": rss,
                "pool": members.iter().map(|(d, w)| json!({"dest": d, "weight": w})).collect::<Vec<_>>(),
                "quorum": if pool.quorum_up() { "up" } else { "down" },
                "live_weight": pool.live_weight(),
                "sorry_active": pool.sorry_active(),
            }));
        } else {
            println!("virtual_server {}", vs.name);
            for (id, o) in &report.results[v] {
                let rs = &vs.real_servers[id.rs];
                println!(
                    "  {:<24} {:<10} {:<4} {:>9.3} ms  {}",
                    rs.addr.to_string(),
                    rs.checks[id.check].keyword,
                    if o.ok { "ok" } else { "FAIL" },
                    ms(o.elapsed),
                    o.reason
                );
            }
            for r in vs.real_servers.iter().filter(|r| r.checks.is_empty()) {
                println!("  {:<24} (no checker: always up)", r.addr.to_string());
            }
            println!(
                "  quorum {} (live weight {} / quorum {}, hysteresis {}){}",
                if pool.quorum_up() { "up" } else { "down" },
                pool.live_weight(),
                vs.quorum,
                vs.hysteresis,
                if pool.sorry_active() {
                    ", sorry server active"
                } else {
                    ""
                }
            );
            if members.is_empty() {
                println!("  pool: (empty)");
            } else {
                let m: Vec<String> = members
                    .iter()
                    .map(|(d, w)| format!("{d} weight {w}"))
                    .collect();
                println!("  pool: {}", m.join(", "));
            }
        }
    }
    if cli.json {
        println!(
            "{}",
            json!({"config": cli.config.display().to_string(), "all_ok": report.all_ok(), "virtual_servers": doc})
        );
    }
    if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn action_json(vs: &VirtualServerSpec, a: Action) -> serde_json::Value {
    match a {
        Action::Add { dest, weight } => {
            json!({"action": "add", "dest": dest_name(vs, dest), "weight": weight})
        }
        Action::SetWeight { dest, weight } => {
            json!({"action": "set_weight", "dest": dest_name(vs, dest), "weight": weight})
        }
        Action::Remove { dest } => json!({"action": "remove", "dest": dest_name(vs, dest)}),
        Action::NotifyUp(i) => json!({"action": "notify_up", "dest": dest_name(vs, Dest::Real(i)),
            "script": vs.real_servers[i].notify_up}),
        Action::NotifyDown(i) => {
            json!({"action": "notify_down", "dest": dest_name(vs, Dest::Real(i)),
            "script": vs.real_servers[i].notify_down})
        }
        Action::QuorumUp => json!({"action": "quorum_up", "script": vs.quorum_up}),
        Action::QuorumDown => json!({"action": "quorum_down", "script": vs.quorum_down}),
    }
}

#[derive(Default)]
struct Lateness {
    n: u64,
    sum: Duration,
    max: Duration,
    over_10ms: u64,
}

async fn continuous(cli: &Cli, specs: Vec<VirtualServerSpec>) -> ExitCode {
    let seed = cli.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let monitor = Monitor::new(specs, seed, cli.max_concurrent);
    let duration = cli.duration;
    let stop = async move {
        match duration {
            Some(s) => tokio::time::sleep(Duration::from_secs_f64(s.max(0.0))).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    let json = cli.json;
    let mut late = Lateness::default();
    let cpu0 = cpu_time();
    let wall0 = std::time::Instant::now();
    let monitor = monitor
        .run(stop, |m, ev| match ev {
            Event::Check {
                t,
                vs,
                id,
                scheduled,
                started,
                outcome,
            } => {
                let l = started.saturating_sub(scheduled);
                late.n += 1;
                late.sum += l;
                late.max = late.max.max(l);
                if l > Duration::from_millis(10) {
                    late.over_10ms += 1;
                }
                if json {
                    let spec = &m.specs()[vs];
                    let rs = &spec.real_servers[id.rs];
                    println!(
                        "{}",
                        json!({"t_ms": t.as_millis() as u64, "event": "check", "vs": spec.name,
                               "rs": rs.addr.to_string(), "check": rs.checks[id.check].keyword,
                               "ok": outcome.ok, "ms": ms(outcome.elapsed), "late_ms": ms(l),
                               "reason": outcome.reason})
                    );
                }
            }
            Event::Transition {
                t,
                vs,
                rs,
                up,
                reason,
            } => {
                let spec = &m.specs()[vs];
                let (from, to) = if up { ("down", "up") } else { ("up", "down") };
                println!(
                    "{}",
                    json!({"t_ms": t.as_millis() as u64, "vs": spec.name,
                           "rs": spec.real_servers[rs].addr.to_string(),
                           "from": from, "to": to, "reason": reason})
                );
            }
            Event::Action { t, vs, action } if json => {
                let spec = &m.specs()[vs];
                let mut v = action_json(spec, action);
                v["t_ms"] = json!(t.as_millis() as u64);
                v["event"] = json!("action");
                v["vs"] = json!(spec.name);
                println!("{v}");
            }
            _ => {}
        })
        .await;
    drop(monitor);
    if cli.stats {
        let wall = wall0.elapsed();
        let cpu = cpu_time().saturating_sub(cpu0);
        let avg = if late.n > 0 {
            late.sum / u32::try_from(late.n).unwrap_or(u32::MAX)
        } else {
            Duration::ZERO
        };
        eprintln!(
            "{}",
            json!({"checks": late.n, "wall_s": wall.as_secs_f64(),
                   "cpu_s": cpu.as_secs_f64(), "cpu_percent": 100.0 * cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9),
                   "rss_kib": rss_kib(), "late_avg_ms": ms(avg), "late_max_ms": ms(late.max),
                   "late_over_10ms": late.over_10ms})
        );
    }
    ExitCode::SUCCESS
}

/// CPU time of this process: the scheduler's run time of every thread
/// (/proc/self/task/*/schedstat, ns), which unlike utime/stime is not sampled at the tick.
fn cpu_time() -> Duration {
    let mut ns = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            ns += std::fs::read_to_string(t.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(ns)
}

/// Resident set size in KiB (VmRSS).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
