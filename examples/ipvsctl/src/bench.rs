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
//! Each tool gets a fresh network namespace (the ipvsadm one is deleted before ipvsctl runs, so
//! neither pays for the other's estimators or destination trash), and the caller's IPVS table
//! is never touched. Needs root, the ip_vs module, iproute2 and ipvsadm.

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use ipvs_netlink::reconcile::DesiredState;
use ipvs_netlink::{Ipvs, ipvsadm};
use lvs_testkit::Netns;

struct Opts {
    services: usize,
    dests: usize,
    ipvsadm: String,
    no_estimation: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        services: 10_000,
        dests: 4,
        ipvsadm: "ipvsadm".into(),
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
    match inner(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::from(1)
        }
    }
}

/// A fresh namespace (loopback up; IPv4 destinations need it), with estimation off if asked.
fn namespace(tag: &str, o: &Opts) -> Result<Netns, String> {
    let ns = Netns::new(tag).map_err(|e| format!("netns: {e}"))?;
    if o.no_estimation {
        // Rate estimators cost CPU per service and destination (a kernel thread walks them
        // every 2 s); with one slow vCPU they dominate. This namespace only.
        ns.run(&["sh", "-c", "echo 0 > /proc/sys/net/ipv4/vs/run_estimation"])
            .map_err(|e| format!("run_estimation: {e}"))?;
    }
    Ok(ns)
}

fn in_ns<R: Send>(
    ns: &Netns,
    f: impl FnOnce(&mut Ipvs) -> Result<R, String> + Send,
) -> Result<R, String> {
    ns.enter(|| {
        let mut ipvs = Ipvs::connect().map_err(|e| e.to_string())?;
        f(&mut ipvs)
    })
    .map_err(|e| e.to_string())?
}

fn inner(o: &Opts) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let text = rules(o.services, o.dests);

    // ipvsadm in its own namespace; the namespace is gone before ipvsctl runs, so neither
    // run pays for the other's estimators or destination trash.
    let (t_adm_r, t_adm_l, out_adm, save_adm) = {
        let ns = namespace("benchadm", o)?;
        let mut c = ns.cmd(&o.ipvsadm);
        c.arg("-R");
        let (t_r, _) = timed(c, Some(text.as_bytes()))?;
        let mut c = ns.cmd(&o.ipvsadm);
        c.arg("-Ln");
        let (t_l, out) = timed(c, None)?;
        let save = in_ns(&ns, |ipvs| {
            Ok(ipvsadm::save(&ipvs.dump().map_err(|e| e.to_string())?))
        })?;
        (t_r, t_l, out, save)
    };

    let ns = namespace("benchctl", o)?;
    let mut c = ns.cmd(exe.to_str().ok_or("exe path")?);
    c.arg("-R");
    let (t_ctl_r, _) = timed(c, Some(text.as_bytes()))?;
    let mut c = ns.cmd(exe.to_str().ok_or("exe path")?);
    c.arg("-Ln");
    let (t_ctl_l, out_ctl) = timed(c, None)?;
    let dump = in_ns(&ns, |ipvs| ipvs.dump().map_err(|e| e.to_string()))?;
    let save_ctl = ipvsadm::save(&dump);
    if dump.len() != o.services || save_adm != save_ctl {
        return Err(format!(
            "restores differ: ipvsctl made {} services (saves equal: {})",
            dump.len(),
            save_adm == save_ctl
        ));
    }
    if out_adm != out_ctl {
        return Err("ipvsadm -Ln and ipvsctl -Ln outputs differ".into());
    }

    // Reconcile: one destination weight changed among all services.
    let mut services = DesiredState::from_dump(&dump).services().to_vec();
    let mid = services.len() / 2;
    if let Some(d) = services.get_mut(mid).and_then(|(_, ds)| ds.first_mut()) {
        d.weight = 7;
    }
    let desired: DesiredState = services.into_iter().collect();
    let (t_rec, t_noop) = in_ns(&ns, |ipvs| {
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
        Ok((t_rec, t_noop))
    })?;
    drop(ns);

    let s = |d: Duration| d.as_secs_f64();
    println!(
        "ipvsctl bench: {} TCP services x {} DR destinations{}",
        o.services,
        o.dests,
        if o.no_estimation {
            " (run_estimation=0)"
        } else {
            ""
        }
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
