//! `rss`: memory of the daemon's processes with the seed's DR configuration, as MASTER.

use std::time::Duration;

use anyhow::bail;
use lvs_testkit::{Lan, Netns};

use crate::{Ctx, Daemon, Mode, NODE_A, Table, alternate, kill_group, read_log};

/// Memory summed over a daemon's processes, in KiB.
#[derive(Debug, Clone, Copy)]
struct Mem {
    rss: u64,
    /// Anonymous (heap, stacks) and file-backed (binary, libraries) parts of `rss`.
    anon: u64,
    file: u64,
    pss: Option<u64>,
    procs: usize,
    threads: u64,
}

pub(crate) fn run(ctx: &Ctx, settle: Duration) -> anyhow::Result<()> {
    side(ctx, Mode::Vrrp, settle)?;
    if !crate::have_ipvs() {
        println!(
            "\nrss, full daemon (VRRP + IPVS + checkers): skipped, no IPVS in this kernel \
             (run it in the kernel lab)"
        );
        return Ok(());
    }
    match crate::lvsd_runs(ctx, Mode::Full)? {
        Ok(()) => side(ctx, Mode::Full, settle),
        Err(why) => {
            println!("\nrss, full daemon: lvsd not measured: {why}");
            // keepalived alone, so the figure is there once lvsd can be compared.
            let k = (0..ctx.repeat)
                .map(|i| trial(ctx, Daemon::Keepalived, Mode::Full, settle, i))
                .collect::<anyhow::Result<Vec<_>>>()?;
            print(ctx, Mode::Full, &[], &k);
            Ok(())
        }
    }
}

fn side(ctx: &Ctx, mode: Mode, settle: Duration) -> anyhow::Result<()> {
    let (l, k) = alternate(ctx, |d, i| trial(ctx, d, mode, settle, i))?;
    print(ctx, mode, &l, &k);
    Ok(())
}

fn print(ctx: &Ctx, mode: Mode, l: &[Mem], k: &[Mem]) {
    let flag = mode.flag();
    let mut t = Table::new(
        &format!(
            "rss: seed DR config (tests/data/node-a.conf) as MASTER, {}; memory summed over \
             the daemon's processes\n  median [min – max] over {} trial(s), alternating",
            if mode == Mode::Vrrp {
                "`-P` (VRRP only)"
            } else {
                "no flag (full daemon: VRRP + IPVS + checkers)"
            },
            ctx.repeat
        ),
        &format!("lvsd{flag}"),
        &format!("keepalived{flag}"),
    );
    let mib = |v: f64| format!("{:.1} MiB", v / 1024.0);
    let rss = |v: &[Mem]| v.iter().map(|m| m.rss as f64).collect::<Vec<_>>();
    let pss = |v: &[Mem]| {
        v.iter()
            .filter_map(|m| m.pss.map(|p| p as f64))
            .collect::<Vec<_>>()
    };
    let procs = |v: &[Mem]| v.iter().map(|m| m.procs as f64).collect::<Vec<_>>();
    let anon = |v: &[Mem]| v.iter().map(|m| m.anon as f64).collect::<Vec<_>>();
    let file = |v: &[Mem]| v.iter().map(|m| m.file as f64).collect::<Vec<_>>();
    t.row("RSS", &rss(l), &rss(k), mib);
    t.row("  of which anonymous", &anon(l), &anon(k), mib);
    t.row("  of which file", &file(l), &file(k), mib);
    t.row("PSS", &pss(l), &pss(k), mib);
    let threads = |v: &[Mem]| v.iter().map(|m| m.threads as f64).collect::<Vec<_>>();
    t.row("processes", &procs(l), &procs(k), |v| format!("{v:.0}"));
    t.row("threads", &threads(l), &threads(k), |v| format!("{v:.0}"));
    t.print();
}

/// One trial: a namespace on a bridge (node A's address), the daemon alone, MASTER after its
/// start-up, memory read `settle` after it took the VIP.
fn trial(ctx: &Ctx, d: Daemon, mode: Mode, settle: Duration, i: usize) -> anyhow::Result<Mem> {
    let dir = ctx
        .scratch
        .dir(&format!("rss{}-{i}-{}", mode.flag().trim(), d.name()))?;
    let conf = crate::write_conf(&dir, "node-a.conf", NODE_A)?;
    let lan = Lan::new("lbr")?;
    let ns = Netns::new("lbra")?;
    lan.attach(&ns, "eth0")?;
    ns.run(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"])?;
    let mut child = d.spawn(ctx, &ns, mode, &conf, &dir, "daemon")?;
    let r = (|| {
        if !crate::wait_vip(&ns, Duration::from_secs(15)) {
            bail!(
                "{} never took the VIP: {}",
                d.name(),
                crate::tail(&read_log(&dir, "daemon"), 5)
            );
        }
        std::thread::sleep(settle);
        if let Ok(Some(st)) = child.try_wait() {
            bail!("{} exited ({st})", d.name());
        }
        let pids = ns.pids();
        if pids.is_empty() {
            bail!("no process in the namespace");
        }
        let mut m = Mem {
            rss: 0,
            anon: 0,
            file: 0,
            pss: Some(0),
            procs: pids.len(),
            threads: 0,
        };
        for pid in pids {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
            m.rss += kib(&status, "VmRSS:").unwrap_or(0);
            m.threads += kib(&status, "Threads:").unwrap_or(0);
            m.anon += kib(&status, "RssAnon:").unwrap_or(0);
            m.file += kib(&status, "RssFile:").unwrap_or(0);
            let pss = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
                .ok()
                .and_then(|s| kib(&s, "Pss:"));
            m.pss = m.pss.zip(pss).map(|(a, b)| a + b);
        }
        Ok(m)
    })();
    kill_group(&mut child);
    ctx.show_log(&dir, "daemon");
    r
}

/// The number of a `/proc` line `key   1234 kB` (or `Threads:  3`).
fn kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
