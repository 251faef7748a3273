//! `program`: time from the daemon's start to every virtual service of a generated
//! configuration in the kernel's IPVS table (the kernel lab).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ipvs_netlink::{Ipvs, Protocol, ServiceKey};
use lvs_testkit::Netns;

use crate::{Ctx, Daemon, Mode, Table, alternate, kill_group, read_log};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Opts {
    pub(crate) services: usize,
    pub(crate) dests: usize,
    pub(crate) poll: Duration,
    pub(crate) timeout: Duration,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            services: 10_000,
            dests: 4,
            poll: Duration::from_millis(100),
            timeout: Duration::from_secs(300),
        }
    }
}

/// One trial's figures, in seconds.
#[derive(Debug, Clone, Copy)]
struct Took {
    /// Start → the end of the first poll that saw the sampled services complete, when a full
    /// count right after it found the whole table.
    done: f64,
    /// Start → the start of the poll before it (the table was not complete then).
    before: f64,
}

pub(crate) fn run(ctx: &Ctx, o: &Opts) -> anyhow::Result<()> {
    if !crate::have_ipvs() {
        bail!(
            "program: no IPVS in this kernel; run it in the kernel lab: cargo build --release \
             -p lvsd && cargo xtask lab run --timeout 900 --mem 2048 -- \
             $PWD/target/release/lvsd-bench program"
        );
    }
    if o.dests == 0 || o.dests > 250 || o.services == 0 || o.services > 254 * 60_000 {
        bail!("program: 1..=254×60000 services and 1..=250 real servers each");
    }
    let dir = ctx.scratch.dir("program")?;
    let conf = crate::write_conf(
        &dir,
        "many.conf",
        &lvs_testkit::generated_virtual_servers(o.services, o.dests),
    )?;
    let title = format!(
        "program: start → {} virtual services × {} real servers (DR, wlc, no checker) in IPVS, \
         from one keepalived.conf;\n  `-C` in a fresh namespace; every {} ms netlink asks for the \
         config's last, first and middle service with their real servers; once there, a full \
         count of /proc/net/ip_vs\n  confirms the whole table; median [min – max] over {} \
         trial(s), alternating",
        o.services,
        o.dests,
        o.poll.as_millis(),
        ctx.repeat
    );
    let secs = |v: f64| format!("{v:.2} s");
    match crate::lvsd_runs(ctx, Mode::Check)? {
        Ok(()) => {
            let (l, k) = alternate(ctx, |d, i| trial(ctx, d, &conf, o, i))?;
            let mut t = Table::new(&title, "lvsd -C", "keepalived -C");
            let done = |v: &[Took]| v.iter().map(|t| t.done).collect::<Vec<_>>();
            let before = |v: &[Took]| v.iter().map(|t| t.before).collect::<Vec<_>>();
            t.row("programmed (seen)", &done(&l), &done(&k), secs);
            t.row("not yet (poll before)", &before(&l), &before(&k), secs);
            t.note(&format!(
                "trials (s, in run order): lvsd {}; keepalived {}",
                list(&done(&l)),
                list(&done(&k))
            ));
            if let (Some(a), Some(b)) = (crate::Stats::of(&done(&l)), crate::Stats::of(&done(&k))) {
                t.note(&format!(
                    "keepalived/lvsd: {:.1}× (medians; the issue's goal is ≥ 10×)",
                    b.median / a.median
                ));
            }
            // The kernel's own share: the same table from pre-built requests, nothing else.
            let floor = (0..ctx.repeat)
                .map(|_| kernel_alone(o))
                .collect::<anyhow::Result<Vec<_>>>()?;
            t.row("kernel alone (pre-built requests)", &floor, &[], secs);
            if let (Some(f), Some(b)) = (crate::Stats::of(&floor), crate::Stats::of(&done(&k))) {
                t.note(&format!(
                    "kernel alone: the {} requests built beforehand and sent in lvsd's batches \
                     (ipvs-netlink's apply, same namespace set-up); keepalived / kernel alone = \
                     {:.1}×, the most any daemon could reach here",
                    o.services * (1 + o.dests),
                    b.median / f.median
                ));
            }
            t.print();
        }
        Err(why) => {
            let k = (0..ctx.repeat)
                .map(|i| trial(ctx, Daemon::Keepalived, &conf, o, i))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut t = Table::new(&title, "lvsd -C", "keepalived -C");
            let done = k.iter().map(|t| t.done).collect::<Vec<_>>();
            let before = k.iter().map(|t| t.before).collect::<Vec<_>>();
            t.row("programmed (seen)", &[], &done, secs);
            t.row("not yet (poll before)", &[], &before, secs);
            t.note(&format!("trials (s): keepalived {}", list(&done)));
            t.note(&format!("lvsd not measured: {why}"));
            t.print();
        }
    }
    Ok(())
}

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.2}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// (services, destinations) in `/proc/net/ip_vs` of the calling thread's namespace.
fn count() -> std::io::Result<(usize, usize)> {
    let text = std::fs::read_to_string("/proc/thread-self/net/ip_vs")?;
    let mut n = (0, 0);
    for l in text.lines() {
        if l.starts_with("  -> ") && !l.contains("RemoteAddress") {
            n.1 += 1;
        } else if ["TCP ", "UDP ", "SCTP ", "FWM "]
            .iter()
            .any(|p| l.starts_with(p))
        {
            n.0 += 1;
        }
    }
    Ok(n)
}

/// The `i`-th service of [`lvs_testkit::generated_virtual_servers`].
fn key(i: usize) -> ServiceKey {
    let ip = Ipv4Addr::new(192, 0, 2, u8::try_from(1 + i / 60_000).unwrap_or(255));
    let port = u16::try_from(1024 + i % 60_000).unwrap_or(u16::MAX);
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: SocketAddr::from((ip, port)),
    }
}

/// Whether the sampled services (the configuration's last, first and middle) are in the
/// kernel with all their real servers: three small netlink requests and three destination
/// dumps, cheap even under emulation, unlike a full read of `/proc/net/ip_vs`.
fn sampled_done(ipvs: &mut Ipvs, o: &Opts) -> anyhow::Result<bool> {
    for i in [o.services - 1, 0, o.services / 2] {
        if ipvs.service(&key(i))?.is_none() || ipvs.dests(&key(i))?.len() < o.dests {
            return Ok(false);
        }
    }
    Ok(true)
}

fn trial(ctx: &Ctx, d: Daemon, conf: &std::path::Path, o: &Opts, i: usize) -> anyhow::Result<Took> {
    let dir = ctx.scratch.dir(&format!("program-{i}-{}", d.name()))?;
    let ns = Netns::new("lbp")?;
    let want = (o.services, o.services * o.dests);
    let t0 = Instant::now();
    let mut child = d.spawn(ctx, &ns, Mode::Check, conf, &dir, "daemon")?;
    // The whole poll runs on one thread inside the namespace, with one netlink socket.
    let r = ns.enter(|| {
        let mut ipvs = Ipvs::connect().context("IPVS generic netlink")?;
        let mut before = 0.0;
        loop {
            let t_poll = t0.elapsed().as_secs_f64();
            if sampled_done(&mut ipvs, o)? {
                let done = t0.elapsed().as_secs_f64();
                // Every service and real server there? One full count settles it.
                let n = count().context("read /proc/net/ip_vs")?;
                if n == want {
                    return Ok(Took { done, before });
                }
            }
            if let Ok(Some(st)) = child.try_wait() {
                bail!(
                    "{} exited ({st}) with {:?} in IPVS: {}",
                    d.name(),
                    count().unwrap_or_default(),
                    crate::tail(&read_log(&dir, "daemon"), 5)
                );
            }
            if t0.elapsed() > o.timeout {
                bail!(
                    "{} had {:?} of {want:?} in IPVS after {:?}",
                    d.name(),
                    count().unwrap_or_default(),
                    o.timeout
                );
            }
            before = t_poll;
            std::thread::sleep(o.poll);
        }
    });
    kill_group(&mut child);
    ctx.show_log(&dir, "daemon");
    // Empty the table now (one netlink flush), so the namespace's deletion leaves no work to
    // the kernel that would run during the next trial.
    let _ = ns.run(&["ipvsadm", "-C"]);
    r?
}

/// Seconds the kernel takes for the table alone: the requests of the generated configuration
/// (as `ipvsadm -R` rules, parsed beforehand) applied in one `Ipvs::apply` in a fresh namespace.
fn kernel_alone(o: &Opts) -> anyhow::Result<f64> {
    use std::fmt::Write as _;
    let mut rules = String::with_capacity(o.services * (40 + o.dests * 50));
    for i in 0..o.services {
        let ServiceKey::Addr { addr, .. } = key(i) else {
            unreachable!("key() makes address services")
        };
        let _ = writeln!(rules, "-A -t {addr} -s wlc");
        for d in 0..o.dests {
            let _ = writeln!(
                rules,
                "-a -t {addr} -r 198.51.100.{}:{} -g -w 1",
                d + 1,
                addr.port()
            );
        }
    }
    let reqs = ipvs_netlink::ipvsadm::parse_rules(&rules)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .iter()
        .map(|c| c.to_request().context("a restore rule"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ns = Netns::new("lbk")?;
    let took = ns.enter(|| -> anyhow::Result<f64> {
        let mut ipvs = Ipvs::connect().context("IPVS generic netlink")?;
        let t0 = Instant::now();
        let failed = ipvs.apply_failures(&reqs);
        let took = t0.elapsed().as_secs_f64();
        if let Some((i, e)) = failed.first() {
            bail!("kernel alone: request {i} refused: {e}");
        }
        Ok(took)
    })??;
    let n = count_in(&ns)?;
    let _ = ns.run(&["ipvsadm", "-C"]);
    if n != (o.services, o.services * o.dests) {
        bail!("kernel alone: {n:?} in IPVS");
    }
    Ok(took)
}

/// [`count`] for `ns`, from a thread inside it.
fn count_in(ns: &Netns) -> anyhow::Result<(usize, usize)> {
    ns.enter(count)?.context("read /proc/net/ip_vs")
}
