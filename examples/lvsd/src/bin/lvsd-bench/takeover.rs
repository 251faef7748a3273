//! `takeover`: SIGKILL the master, measure when the backup's first advert leaves.

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lvs_testkit::{Lan, Netns, wait_until};

use crate::{Ctx, Daemon, Mode, NODE_A, NODE_B, POLL, Table, alternate, kill_group, read_log};

const MASTER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const BACKUP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// Master_Down_Interval of the priority-90 backup, advert_int 1 s: 3 s + (256 − 90)/256 s.
const MDI: f64 = 3.0 + (256.0 - 90.0) / 256.0;

pub(crate) fn run(ctx: &Ctx) -> anyhow::Result<()> {
    let (l, k) = alternate(ctx, |d, i| trial(ctx, d, i))?;
    let split: Vec<f64> = l.iter().filter_map(|t| t.1).collect();
    let l: Vec<f64> = l.iter().map(|t| t.0).collect();
    let k: Vec<f64> = k.iter().map(|t| t.0).collect();
    let mut t = Table::new(
        &format!(
            "takeover: keepalived master (VRRPv2, priority 100, advert_int 1) SIGKILLed, backup \
             priority 90;\n  error = (first advert of the new master − last advert of the old, \
             tcpdump on the bridge) − MDI {MDI:.7} s\n  median [min – max] over {} trial(s), \
             alternating",
            ctx.repeat
        ),
        "lvsd -P backup",
        "keepalived -P backup",
    );
    let ms = |v: f64| format!("{:+.3} ms", v * 1e3);
    t.row("takeover error", &l, &k, ms);
    t.row("  lvsd: log → advert", &split, &[], ms);
    t.note(&format!(
        "trials (ms): lvsd {}; keepalived {}",
        list(&l),
        list(&k)
    ));
    t.note(
        "log → advert: lvsd's \"Entering MASTER STATE\" log timestamp to its first advert on the \
         wire (same clock); the rest of the error is the timer's own lateness",
    );
    t.print();
    Ok(())
}

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{:+.3}", x * 1e3))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One trial: fresh bridge and namespaces, keepalived master, `backup` as the backup.
/// Returns the takeover error in seconds and, for lvsd, the time from its logged transition
/// to MASTER to its first advert on the wire.
fn trial(ctx: &Ctx, backup: Daemon, i: usize) -> anyhow::Result<(f64, Option<f64>)> {
    let dir = ctx
        .scratch
        .dir(&format!("takeover-{i}-{}", backup.name()))?;
    let conf_a = crate::write_conf(&dir, "node-a.conf", NODE_A)?;
    let conf_b = crate::write_conf(&dir, "node-b.conf", NODE_B)?;
    let lan = Lan::new("lbt")?;
    let m = Netns::new("lbtm")?;
    let b = Netns::new("lbtb")?;
    for (ns, ip) in [(&m, MASTER), (&b, BACKUP)] {
        lan.attach(ns, "eth0")?;
        ns.run(&["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"])?;
    }
    let mut master = Daemon::Keepalived.spawn(ctx, &m, Mode::Vrrp, &conf_a, &dir, "master")?;
    let mut back = backup.spawn(ctx, &b, Mode::Vrrp, &conf_b, &dir, "backup")?;
    let result = measure(&lan, &m, &b, &dir, &mut master);
    kill_group(&mut master);
    kill_group(&mut back);
    ctx.show_log(&dir, "master");
    ctx.show_log(&dir, "backup");
    let split = match (&result, backup) {
        (Ok((_, new)), Daemon::Lvsd) => read_log(&dir, "backup")
            .lines()
            .rev()
            .find(|l| l.contains("Entering MASTER STATE"))
            .and_then(|l| rfc3339_utc(l.split_whitespace().next()?))
            .map(|t| new - t),
        _ => None,
    };
    result.map(|(err, _)| (err, split)).with_context(|| {
        format!(
            "logs in {}\nmaster: {}\nbackup: {}",
            dir.display(),
            crate::tail(&read_log(&dir, "master"), 5),
            crate::tail(&read_log(&dir, "backup"), 5)
        )
    })
}

fn measure(
    lan: &Lan,
    m: &Netns,
    b: &Netns,
    dir: &Path,
    master: &mut std::process::Child,
) -> anyhow::Result<(f64, f64)> {
    if !crate::wait_vip(m, Duration::from_secs(15)) {
        bail!("the master never took the VIP");
    }
    if !wait_until(Duration::from_secs(10), POLL, || {
        read_log(dir, "backup").contains("Entering BACKUP STATE")
    }) {
        bail!("the backup never entered BACKUP");
    }
    // A backup that timed out before the master spoke gives the VIP back on its first advert.
    if !wait_until(Duration::from_secs(5), POLL, || !crate::holds_vip(b)) {
        bail!("the backup kept the VIP (split brain)");
    }
    // A few adverts through the backup before the capture starts.
    std::thread::sleep(Duration::from_millis(1500));
    let cap = dir.join("vrrp.pcap");
    let err = dir.join("tcpdump.err");
    let mut tcpdump = lan
        .ns()
        .cmd("tcpdump")
        .args([
            "-i",
            "br0",
            "-n",
            "-U",
            "--immediate-mode",
            "--time-stamp-precision=micro",
            "-w",
        ])
        .arg(&cap)
        .args(["ip", "proto", "112"])
        .stdout(Stdio::null())
        .stderr(File::create(&err)?)
        .spawn()
        .context("tcpdump")?;
    let r = (|| {
        if !wait_until(Duration::from_secs(5), POLL, || {
            std::fs::read_to_string(&err).is_ok_and(|s| s.contains("listening on"))
        }) {
            bail!("tcpdump did not start");
        }
        // At least one advert of the master captured before the kill.
        if !wait_until(Duration::from_secs(3), POLL, || {
            adverts(&cap).iter().any(|a| a.1 == MASTER)
        }) {
            bail!("no advert of the master captured");
        }
        let t_kill = Instant::now();
        kill_group(master);
        let deadline = Duration::from_secs_f64(MDI + 3.0);
        let mut found = None;
        wait_until(deadline, POLL, || {
            found = gap(&adverts(&cap));
            found.is_some() || t_kill.elapsed() > deadline
        });
        let Some((old, new)) = found else {
            bail!("no advert from the backup within MDI + 3 s of the kill");
        };
        let list = adverts(&cap);
        if list.iter().any(|a| a.1 == BACKUP && a.0 < old) {
            bail!("the backup sent adverts while the master was alive (split brain)");
        }
        Ok((new - old - MDI, new))
    })();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(tcpdump.id()).unwrap_or(0)),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = tcpdump.wait();
    r
}

/// Last advert of the master, first advert of the backup after it (seconds).
fn gap(list: &[(f64, Ipv4Addr)]) -> Option<(f64, f64)> {
    let old = list.iter().rev().find(|a| a.1 == MASTER)?.0;
    let new = list.iter().find(|a| a.1 == BACKUP && a.0 > old)?.0;
    Some((old, new))
}

/// Every VRRP datagram in the capture so far: (timestamp in seconds, IPv4 source).
/// A truncated last record (tcpdump still writing) is ignored.
fn adverts(cap: &Path) -> Vec<(f64, Ipv4Addr)> {
    std::fs::read(cap)
        .map(|b| parse_pcap(&b))
        .unwrap_or_default()
}

/// Classic pcap (micro- or nanosecond magic, either byte order), Ethernet link type.
fn parse_pcap(b: &[u8]) -> Vec<(f64, Ipv4Addr)> {
    let mut out = Vec::new();
    let Some(magic) = b.get(..4) else {
        return out;
    };
    let (le, scale) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, 1e-6),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, 1e-6),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, 1e-9),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, 1e-9),
        _ => return out,
    };
    let u32_at = |o: usize| -> Option<u32> {
        let w: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    if u32_at(20) != Some(1) {
        return out; // not Ethernet
    }
    let mut off = 24;
    while let (Some(sec), Some(frac), Some(caplen)) =
        (u32_at(off), u32_at(off + 4), u32_at(off + 8))
    {
        let start = off + 16;
        let Some(frame) = b.get(start..start + caplen as usize) else {
            break;
        };
        off = start + caplen as usize;
        // Ethernet II, IPv4, protocol 112.
        if frame.len() >= 34 && frame[12..14] == [0x08, 0x00] && frame[23] == 112 {
            let src = Ipv4Addr::new(frame[26], frame[27], frame[28], frame[29]);
            out.push((f64::from(sec) + f64::from(frac) * scale, src));
        }
    }
    out
}

/// Seconds since the epoch of a tracing timestamp `2026-11-29T22:32:28.756314Z`.
fn rfc3339_utc(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|v| v.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (hh, mm) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let ss: f64 = t.next()?.parse().ok()?;
    // Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3_600 + mm * 60) as f64 + ss)
}
