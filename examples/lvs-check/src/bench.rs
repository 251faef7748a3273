//! `lvs-check-bench`: the cost of checking many real servers, side by side with keepalived.
//!
//! `lvs-check-bench run [--servers 1000] [--delay-loop 1] [--seconds 20] [--keepalived]` (root):
//! builds a LAN of two network namespaces (checker 198.51.100.1, real servers
//! 198.51.100.12:10000.. on one host), writes a keepalived.conf with one virtual server and
//! `--servers` real servers, each with a TCP_CHECK at `--delay-loop`, starts a listener farm
//! (`lvs-check-bench serve`) on the real-server host, then measures `lvs-check` on that config
//! in the checker namespace: CPU % (scheduler run time over the measured window), RSS, and timer
//! lateness (how late each check started against its absolute deadline). With `--keepalived`,
//! the same config runs under `keepalived --check` (needs IPVS: run it in the kernel lab) and is
//! measured the same way (the whole process tree). Prints one JSON line per program.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use lvs_testkit::{Lan, Netns};
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(name = "lvs-check-bench", about = "Checker CPU/RSS/timer bench")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Listen on ADDR:FIRST.. (COUNT ports), accepting and closing connections.
    Serve {
        #[arg(long)]
        addr: IpAddr,
        #[arg(long)]
        first: u16,
        #[arg(long)]
        count: u16,
    },
    /// Run the bench (root).
    Run {
        /// Number of real servers.
        #[arg(long, default_value_t = 1000)]
        servers: u16,
        /// delay_loop in seconds.
        #[arg(long, default_value_t = 1.0)]
        delay_loop: f64,
        /// Measured window in seconds (after one warmup period).
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// Also measure `keepalived --check` (needs IPVS).
        #[arg(long)]
        keepalived: bool,
    },
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Serve { addr, first, count } => serve(addr, first, count),
        Cmd::Run {
            servers,
            delay_loop,
            seconds,
            keepalived,
        } => match run(servers, delay_loop, seconds, keepalived) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lvs-check-bench: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(addr: IpAddr, first: u16, count: u16) -> ExitCode {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let mut tasks = Vec::new();
        for p in first..first.saturating_add(count) {
            let l = match tokio::net::TcpListener::bind(SocketAddr::new(addr, p)).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("serve: bind {addr}:{p}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            tasks.push(tokio::spawn(async move {
                while let Ok((s, _)) = l.accept().await {
                    drop(s);
                }
            }));
        }
        println!("ready");
        for t in tasks {
            let _ = t.await;
        }
        ExitCode::SUCCESS
    })
}

/// (CPU seconds, RSS KiB) of `pid` and its descendants.
fn tree_usage(pid: i32) -> (f64, u64) {
    let mut pids = vec![pid];
    // Parent links of every process, then the descendants of `pid` (bounded by the process count).
    let mut parents = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if let Some(pp) = stat_fields(p).and_then(|f| f.get(1).and_then(|x| x.parse().ok())) {
                parents.push((p, pp));
            }
        }
    }
    for _ in 0..parents.len() {
        let before = pids.len();
        for &(p, pp) in &parents {
            if pids.contains(&pp) && !pids.contains(&p) {
                pids.push(p);
            }
        }
        if pids.len() == before {
            break;
        }
    }
    let mut cpu = 0.0;
    let mut rss = 0;
    for p in pids {
        // Scheduler run time of every thread, in ns (/proc/PID/task/TID/schedstat, field 1).
        // utime/stime are sampled at the tick and miss a program that wakes on the tick and
        // sleeps again before the next one (which is what an aligned checker does).
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for t in tasks.flatten() {
                let ns = std::fs::read_to_string(t.path().join("schedstat"))
                    .ok()
                    .and_then(|s| {
                        s.split_whitespace()
                            .next()
                            .and_then(|v| v.parse::<u64>().ok())
                    })
                    .unwrap_or(0);
                cpu += ns as f64 / 1e9;
            }
        }
        rss += std::fs::read_to_string(format!("/proc/{p}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            })
            .unwrap_or(0);
    }
    (cpu, rss)
}

/// Fields after the command name of /proc/PID/stat (index 0 = state, 1 = ppid, 11 = utime).
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = s.rsplit_once(')')?;
    let f: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    (f.len() > 13).then_some(f)
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name(name))
}

/// Measures `child` over `[warm, warm + seconds]`: CPU %, RSS at the end.
fn measure(child: &Child, warm: f64, seconds: f64) -> (f64, u64) {
    let pid = child.id() as i32;
    std::thread::sleep(Duration::from_secs_f64(warm));
    let (c0, _) = tree_usage(pid);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let (c1, rss) = tree_usage(pid);
    let wall = t0.elapsed().as_secs_f64();
    (100.0 * (c1 - c0) / wall, rss)
}

fn config(dir: &Path, servers: u16, delay_loop: f64) -> anyhow::Result<PathBuf> {
    let mut text = format!(
        "virtual_server 203.0.113.62 80 {{\n    delay_loop {delay_loop}\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n"
    );
    for i in 0..servers {
        text.push_str(&format!(
            "    real_server 198.51.100.12 {} {{\n        weight 1\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n",
            10000 + u32::from(i)
        ));
    }
    text.push_str("}\n");
    let p = dir.join("keepalived.conf");
    std::fs::write(&p, text)?;
    Ok(p)
}

fn run(servers: u16, delay_loop: f64, seconds: f64, keepalived: bool) -> anyhow::Result<()> {
    if !lvs_testkit::is_root() {
        anyhow::bail!("needs root (network namespaces)");
    }
    let dir = tempfile::tempdir()?;
    let conf = config(dir.path(), servers, delay_loop)?;
    let lan = Lan::new("bench")?;
    let lb = Netns::new("bench-lb")?;
    let rs = Netns::new("bench-rs")?;
    lan.attach(&lb, "eth0")?;
    lan.attach(&rs, "eth0")?;
    lb.run(&["ip", "addr", "add", "198.51.100.1/24", "dev", "eth0"])?;
    rs.run(&["ip", "addr", "add", "198.51.100.12/24", "dev", "eth0"])?;
    let mut farm = rs
        .cmd(
            sibling("lvs-check-bench")?
                .to_str()
                .unwrap_or("lvs-check-bench"),
        )
        .args([
            "serve",
            "--addr",
            "198.51.100.12",
            "--first",
            "10000",
            "--count",
        ])
        .arg(servers.to_string())
        .stdout(Stdio::piped())
        .spawn()?;
    {
        use std::io::BufRead;
        let mut line = String::new();
        let out = farm
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no farm stdout"))?;
        std::io::BufReader::new(out).read_line(&mut line)?;
        anyhow::ensure!(line.trim() == "ready", "listener farm failed");
    }
    // One warmup period (checks are spread over delay_loop), then the window.
    let warm = delay_loop + 1.0;
    let lvs = lb
        .cmd(sibling("lvs-check")?.to_str().unwrap_or("lvs-check"))
        .args([
            "--config",
            conf.to_str().unwrap_or_default(),
            "--stats",
            "--seed",
            "1",
        ])
        .args(["--duration", &format!("{}", warm + seconds + 0.5)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let (cpu, rss) = measure(&lvs, warm, seconds);
    let out = lvs.wait_with_output()?;
    let stats: Value = String::from_utf8_lossy(&out.stderr)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    println!(
        "{}",
        json!({"program": "lvs-check", "servers": servers, "delay_loop_s": delay_loop,
               "window_s": seconds, "cpu_percent": (cpu * 10.0).round() / 10.0, "rss_kib": rss,
               "checks": stats["checks"], "late_avg_ms": stats["late_avg_ms"],
               "late_max_ms": stats["late_max_ms"], "late_over_10ms": stats["late_over_10ms"]})
    );
    if keepalived {
        if !lb.enter(|| Path::new("/proc/thread-self/net/ip_vs").exists())? {
            println!(
                "{}",
                json!({"program": "keepalived --check", "skipped": "no IPVS in this kernel: run in the kernel lab (cargo xtask lab run -- lvs-check-bench run --keepalived)"})
            );
        } else {
            let mut ka = lb
                .cmd("keepalived")
                .args(["--check", "--dont-fork", "--log-console", "-f"])
                .arg(&conf)
                .arg("-p")
                .arg(dir.path().join("k.pid"))
                .arg("-c")
                .arg(dir.path().join("c.pid"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let (cpu, rss) = measure(&ka, warm, seconds);
            // SIGTERM: keepalived stops its checker child and removes its services.
            let _ = Command::new("kill")
                .args(["-TERM", &ka.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while ka.try_wait()?.is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = ka.kill();
            let _ = ka.wait();
            println!(
                "{}",
                json!({"program": "keepalived --check", "version": keepalived_version(), "servers": servers,
                       "delay_loop_s": delay_loop, "window_s": seconds,
                       "cpu_percent": (cpu * 10.0).round() / 10.0, "rss_kib": rss})
            );
        }
    }
    let _ = farm.kill();
    let _ = farm.wait();
    Ok(())
}

fn keepalived_version() -> String {
    Command::new("keepalived")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}
