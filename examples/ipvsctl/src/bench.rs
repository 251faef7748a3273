//! `ipvsctl bench`: programming speed against ipvsadm, measured in one run.
//!
//! N TCP services × M direct-routing destinations (documentation addresses: VIPs in
//! 192.0.2.0/24 over many ports, real servers in 198.51.100.0/24):
//! 1. restore the rules with `ipvsadm -R` and with `ipvsctl -R` (both as processes reading
//!    the same file, table flushed before each);
//! 2. list them with `ipvsadm -Ln` and `ipvsctl -Ln` (output to a pipe, checked equal);
//! 3. reconcile with one service's destination weight changed (dump + diff + apply).
//!
//! `--no-estimation` sets `net.ipv4.vs.run_estimation=0` in that namespace first (the kernel's
//! rate estimators otherwise take CPU in proportion to the table size).
//!
//! It runs in a fresh network namespace (`unshare -n`), so the caller's IPVS table is never
//! touched. Needs root, the ip_vs module, `unshare` and ipvsadm.

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use ipvs_netlink::reconcile::DesiredState;
use ipvs_netlink::{Ipvs, ipvsadm};

struct Opts {
    services: usize,
    dests: usize,
    ipvsadm: String,
    inner: bool,
    no_estimation: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        services: 10_000,
        dests: 4,
        ipvsadm: "ipvsadm".into(),
        inner: false,
        no_estimation: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--services" => {
                o.services = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--services N")?
            }
            "--dests" => o.dests = it.next().and_then(|v| v.parse().ok()).ok_or("--dests M")?,
            "--ipvsadm" => o.ipvsadm = it.next().cloned().ok_or("--ipvsadm PATH")?,
            "--inner" => o.inner = true,
            "--no-estimation" => o.no_estimation = true,
            other => return Err(format!("bench: unknown argument {other}")),
        }
    }
    if o.dests > 250 || o.services > 254 * 60_000 {
        return Err("bench: too many services or destinations".into());
    }
    Ok(o)
}

/// The rule file: `-A` then its `-a` lines, service by service.
pub(crate) fn rules(services: usize, dests: usize) -> String {
    let mut s = String::with_capacity(services * (40 + dests * 60));
    for i in 0..services {
        let vip = format!("192.0.2.{}:{}", 1 + i / 60_000, 1024 + i % 60_000);
        s.push_str(&format!("-A -t {vip} -s wlc\n"));
        let port = 1024 + i % 60_000;
        for d in 0..dests {
            s.push_str(&format!(
                "-a -t {vip} -r 198.51.100.{}:{port} -g -w 1\n",
                d + 1
            ));
        }
    }
    s
}

fn timed(mut cmd: Command, stdin: Option<&[u8]>) -> Result<(Duration, Vec<u8>), String> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn {cmd:?}: {e}"))?;
    if let (Some(data), Some(mut si)) = (stdin, child.stdin.take()) {
        si.write_all(data).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let t = start.elapsed();
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", out.status));
    }
    Ok((t, out.stdout))
}

pub(crate) fn run(args: &[String]) -> ExitCode {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if !o.inner {
        // Re-run inside a private network namespace.
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("bench: {e}");
                return ExitCode::from(1);
            }
        };
        // Loopback up first: with lo down the kernel refuses IPv4 destinations (EINVAL).
        let mut c = Command::new("unshare");
        c.args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
            .arg(exe)
            .arg("bench")
            .args(args)
            .arg("--inner");
        return match c.status() {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(e) => {
                eprintln!("bench: unshare: {e}");
                ExitCode::from(1)
            }
        };
    }
    match inner(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::from(1)
        }
    }
}

fn inner(o: &Opts) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    if o.no_estimation {
        // Rate estimators cost CPU per service and destination (a kernel thread walks them
        // every 2 s); with one slow vCPU they dominate. This namespace only.
        std::fs::write("/proc/sys/net/ipv4/vs/run_estimation", "0")
            .map_err(|e| format!("run_estimation: {e}"))?;
    }
    let text = rules(o.services, o.dests);
    let mut ipvs = Ipvs::connect().map_err(|e| e.to_string())?;
    let flush = |ipvs: &mut Ipvs| ipvs.flush().map_err(|e| e.to_string());

    flush(&mut ipvs)?;
    let (t_adm_r, _) = timed(
        {
            let mut c = Command::new(&o.ipvsadm);
            c.arg("-R");
            c
        },
        Some(text.as_bytes()),
    )?;
    let n_adm = ipvs.services().map_err(|e| e.to_string())?.len();
    let save_adm = ipvsadm::save(&ipvs.dump().map_err(|e| e.to_string())?);
    flush(&mut ipvs)?;
    let (t_ctl_r, _) = timed(
        {
            let mut c = Command::new(&exe);
            c.arg("-R");
            c
        },
        Some(text.as_bytes()),
    )?;
    let dump = ipvs.dump().map_err(|e| e.to_string())?;
    let save_ctl = ipvsadm::save(&dump);
    if n_adm != o.services || dump.len() != o.services || save_adm != save_ctl {
        return Err(format!(
            "restores differ: ipvsadm made {n_adm} services, ipvsctl {} (saves equal: {})",
            dump.len(),
            save_adm == save_ctl
        ));
    }

    let (t_adm_l, out_adm) = timed(
        {
            let mut c = Command::new(&o.ipvsadm);
            c.arg("-Ln");
            c
        },
        None,
    )?;
    let (t_ctl_l, out_ctl) = timed(
        {
            let mut c = Command::new(&exe);
            c.arg("-Ln");
            c
        },
        None,
    )?;
    if out_adm != out_ctl {
        return Err("ipvsadm -Ln and ipvsctl -Ln outputs differ".into());
    }

    // Reconcile: one destination weight changed among all services.
    let mut desired = DesiredState::from_dump(&dump);
    let mut services = desired.services().to_vec();
    let mid = services.len() / 2;
    if let Some((_, ds)) = services.get_mut(mid) {
        if let Some(d) = ds.first_mut() {
            d.weight = 7;
        }
    }
    desired = services.into_iter().collect();
    let start = Instant::now();
    let report = ipvs.reconcile(&desired).map_err(|e| e.to_string())?;
    let t_rec = start.elapsed();
    if report.changes.len() != 1 || !report.is_ok() {
        return Err(format!(
            "reconcile made {} changes, ok={}",
            report.changes.len(),
            report.is_ok()
        ));
    }
    let start = Instant::now();
    let report2 = ipvs.reconcile(&desired).map_err(|e| e.to_string())?;
    let t_noop = start.elapsed();
    if !report2.changes.is_empty() {
        return Err("second reconcile was not a no-op".into());
    }
    flush(&mut ipvs)?;

    let s = |d: Duration| d.as_secs_f64();
    println!(
        "ipvsctl bench: {} TCP services x {} DR destinations",
        o.services, o.dests
    );
    println!("| operation | ipvsadm 1.31 | ipvsctl | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| restore (-R) | {:.3} s | {:.3} s | {:.1}x |",
        s(t_adm_r),
        s(t_ctl_r),
        s(t_adm_r) / s(t_ctl_r)
    );
    println!(
        "| list (-Ln) | {:.3} s | {:.3} s | {:.1}x |",
        s(t_adm_l),
        s(t_ctl_l),
        s(t_adm_l) / s(t_ctl_l)
    );
    println!(
        "| reconcile, 1 weight changed (dump+diff+apply) | - | {:.3} s | - |",
        s(t_rec)
    );
    println!(
        "| reconcile, nothing changed | - | {:.3} s | - |",
        s(t_noop)
    );
    Ok(())
}
