//! `vrrp-sim`: run a VRRP scenario on the deterministic simulator of `vrrp-machine` and print
//! one JSON line per state change.
//!
//! ```text
//! vrrp-sim --router a:100:192.0.2.1 --router b:90:192.0.2.2 --version 3 --interval 100 \
//!     --at 5000:crash:a --at 12000:restart:a --loss 0.05 --seed 7 --until 20000
//! {"t_ms":3609.375,"router":"a","from":"backup","to":"master","reason":"master-down","detail":"master down timer expired"}
//! ```
//!
//! Routers: `NAME:PRIORITY:ADDRESS[:OPTION...]`, options `nopreempt`, `preempt_delay=MS`,
//! `late` (not started at 0; start it with `--at T:start:NAME`), `unicast` (adverts to every
//! other router's address instead of multicast).
//!
//! Actions (`--at MS:ACTION[:ARGS]`): `start:R`, `crash:R`, `restart:R`, `shutdown:R`,
//! `priority:R:P`, `ifdown:R`, `ifup:R`, `partition:R,R/R,R` (sides separated by `/`), `heal`,
//! `loss:P`.
//!
//! `--script FILE` reads the same flags from a file, one per line without the dashes
//! (`router a:100:192.0.2.1`, `at 5000 crash a` or `at 5000:crash:a`); `#` starts a comment.
//! `--trace` adds a line per advert sent (`"event":"advert"`). Needs no privileges.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use vrrp_machine::sim::{Action, Sim};
use vrrp_machine::{Config, GarpConfig, Instant, Interval, Version};

/// Command line (also the script-file syntax).
#[derive(Debug, Parser)]
#[command(
    name = "vrrp-sim",
    about = "Simulate VRRP routers on a virtual LAN; one JSON line per state change"
)]
struct Args {
    /// Read more flags from a file (one `flag value` per line).
    #[arg(long)]
    script: Option<std::path::PathBuf>,
    /// A router: `NAME:PRIORITY:ADDRESS[:nopreempt|:preempt_delay=MS|:late|:unicast]...`
    #[arg(long = "router")]
    routers: Vec<String>,
    /// VRRP version, 2 or 3.
    #[arg(long, default_value_t = 3)]
    version: u8,
    /// Advertisement interval in centiseconds (v2: a multiple of 100).
    #[arg(long, default_value_t = 100)]
    interval: u16,
    /// Virtual router id.
    #[arg(long, default_value_t = 51)]
    vrid: u8,
    /// Virtual address (default 192.0.2.100, or fe80::100 for IPv6 routers).
    #[arg(long)]
    vip: Option<IpAddr>,
    /// One-way link delay in milliseconds (fractions allowed).
    #[arg(long, default_value_t = 0.0)]
    delay: f64,
    /// Packet loss probability on every link.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Seed of the loss PRNG.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// End of the run, in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    until: u64,
    /// Scripted events: `MS:ACTION[:ARGS]`.
    #[arg(long = "at")]
    events: Vec<String>,
    /// Also print a line per advert sent.
    #[arg(long)]
    trace: bool,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let mut argv: Vec<String> = std::env::args().collect();
    let first = Args::parse_from(&argv);
    if let Some(path) = &first.script {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        // Script lines go before the command line so that flags given there win.
        let mut script = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((flag, rest)) = line
                .split_once(char::is_whitespace)
                .or(Some((line, "")))
                .filter(|(f, _)| !f.is_empty())
            else {
                continue;
            };
            if flag == "script" {
                bail!(
                    "{}:{}: scripts cannot include scripts",
                    path.display(),
                    n + 1
                );
            }
            script.push(format!("--{flag}"));
            let rest = rest.trim();
            if !rest.is_empty() {
                // `at 5000 crash a` is the same as `at 5000:crash:a`.
                script.push(if flag == "at" {
                    rest.split_whitespace().collect::<Vec<_>>().join(":")
                } else {
                    rest.to_owned()
                });
            }
        }
        argv.splice(1..1, script);
    }
    let args = Args::try_parse_from(&argv)?;
    simulate(&args)
}

fn simulate(args: &Args) -> Result<()> {
    let version = match args.version {
        2 => Version::V2,
        3 => Version::V3,
        v => bail!("--version {v}: must be 2 or 3"),
    };
    if args.routers.is_empty() {
        bail!("no --router given");
    }
    let mut sim = Sim::new(args.seed);
    sim.set_default_delay(Duration::from_secs_f64(args.delay.max(0.0) / 1_000.0));
    sim.set_loss(args.loss);
    sim.set_trace(args.trace);
    let mut names = Vec::new();
    let mut late = Vec::new();
    let specs: Vec<Vec<&str>> = args
        .routers
        .iter()
        .map(|r| r.split(':').collect())
        .collect();
    let addrs: Vec<IpAddr> = specs
        .iter()
        .zip(&args.routers)
        .map(|(s, r)| {
            s.get(2)
                .context("address")
                .and_then(|a| Ok(a.parse::<IpAddr>()?))
                .with_context(|| format!("--router {r}"))
        })
        .collect::<Result<_>>()?;
    for ((spec, raw), &addr) in specs.iter().zip(&args.routers).zip(&addrs) {
        let (name, prio) = match spec.as_slice() {
            [name, prio, _, ..] => (
                *name,
                prio.parse::<u8>()
                    .with_context(|| format!("--router {raw}: priority"))?,
            ),
            _ => bail!("--router {raw}: expected NAME:PRIORITY:ADDRESS[:OPTION...]"),
        };
        let vip = args.vip.unwrap_or_else(|| {
            if addr.is_ipv6() {
                "fe80::100".parse()
            } else {
                "192.0.2.100".parse()
            }
            .unwrap_or(addr)
        });
        let mut cfg = Config::new(
            version,
            args.vrid,
            prio,
            Interval::from_centis(args.interval),
            addr,
            vec![vip],
        );
        cfg.garp = GarpConfig::minimal();
        for opt in &spec[3..] {
            match opt.split_once('=') {
                None if *opt == "nopreempt" => cfg.preempt = false,
                None if *opt == "late" => late.push(names.len()),
                None if *opt == "unicast" => {
                    cfg.unicast_peers = addrs.iter().copied().filter(|a| *a != addr).collect()
                }
                Some(("preempt_delay", ms)) => {
                    cfg.preempt_delay = Duration::from_millis(
                        ms.parse()
                            .with_context(|| format!("--router {raw}: {opt}"))?,
                    );
                }
                _ => bail!("--router {raw}: unknown option {opt:?}"),
            }
        }
        vrrp_machine::Instance::new(cfg.clone(), Instant::ZERO)
            .with_context(|| format!("--router {raw}"))?;
        names.push(name.to_owned());
        sim.add_router(name, cfg);
    }
    let router = |n: &str| {
        names
            .iter()
            .position(|x| x == n)
            .with_context(|| format!("unknown router {n:?}"))
    };
    for r in (0..names.len()).filter(|r| !late.contains(r)) {
        sim.schedule(Instant::ZERO, Action::Start(r));
    }
    for ev in &args.events {
        let parts: Vec<&str> = ev.split(':').collect();
        let t: u64 = parts[0]
            .parse()
            .with_context(|| format!("--at {ev}: time in ms"))?;
        let action = match parts[1..] {
            ["start", r] => Action::Start(router(r)?),
            ["crash", r] => Action::Crash(router(r)?),
            ["restart", r] => Action::Restart(router(r)?),
            ["shutdown", r] => Action::Shutdown(router(r)?),
            ["priority", r, p] => Action::SetPriority(
                router(r)?,
                p.parse().with_context(|| format!("--at {ev}: priority"))?,
            ),
            ["ifdown", r] => Action::InterfaceDown(router(r)?),
            ["ifup", r] => Action::InterfaceUp(router(r)?),
            ["heal"] => Action::Heal,
            ["loss", p] => Action::SetLoss(
                p.parse()
                    .with_context(|| format!("--at {ev}: probability"))?,
            ),
            ["partition", sides] => {
                let mut v = vec![0u32; names.len()];
                for (k, side) in sides.split('/').enumerate() {
                    for r in side.split(',').filter(|s| !s.is_empty()) {
                        v[router(r)?] = u32::try_from(k)?;
                    }
                }
                Action::Partition(v)
            }
            _ => bail!(
                "--at {ev}: unknown action (start crash restart shutdown priority ifdown ifup partition heal loss)"
            ),
        };
        sim.schedule(Instant::from_millis(t), action);
    }
    sim.run_until(Instant::from_millis(args.until));

    // Keys in a fixed, readable order: t_ms, router, then the rest.
    let q = |s: &str| serde_json::Value::from(s).to_string();
    let mut lines: Vec<(Instant, u8, String)> = sim
        .transitions()
        .iter()
        .map(|x| {
            let line = format!(
                r#"{{"t_ms":{},"router":{},"from":"{}","to":"{}","reason":"{}","detail":{}}}"#,
                x.at.as_millis_f64(),
                q(&names[x.router]),
                x.from,
                x.to,
                x.reason.tag(),
                q(&x.reason.to_string())
            );
            (x.at, 0, line)
        })
        .collect();
    lines.extend(sim.sent_adverts().iter().map(|a| {
        let line = format!(
            r#"{{"t_ms":{},"router":{},"event":"advert","priority":{},"dst":"{}"}}"#,
            a.at.as_millis_f64(),
            q(&names[a.router]),
            a.priority,
            a.dst
        );
        (a.at, 1, line)
    }));
    lines.sort_by_key(|(t, k, _)| (*t, *k));
    for (_, _, line) in lines {
        println!("{line}");
    }
    let s = sim.stats();
    eprintln!(
        "vrrp-sim: {} packets sent, {} delivered, {} lost, {} dropped, {} rejected, codec rejects {}",
        s.sent, s.delivered, s.lost, s.dropped, s.rx_rejects, s.codec_rejects
    );
    Ok(())
}
