//! One qemu VM running one job: boot, stream the job's output, return its exit status.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::image::Image;
use crate::util::find_program;

/// Exit code of a job that ran out of time (as timeout(1)).
pub(crate) const TIMEOUT_EXIT: i32 = 124;

/// How the VM runs.
#[derive(Debug, Clone)]
pub(crate) struct VmOptions {
    /// Guest memory in MiB.
    pub(crate) mem_mb: u32,
    /// Virtual CPUs.
    pub(crate) cpus: u32,
    /// Limit for the whole run (boot included).
    pub(crate) timeout: Duration,
    /// `-accel kvm -cpu host` instead of TCG.
    pub(crate) kvm: bool,
    /// Print boot timing and the console log path.
    pub(crate) verbose: bool,
}

/// What the VM does once booted.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    /// Runs `argv` in `cwd` with the current environment plus `LVS_LAB=1`.
    Run { cwd: PathBuf, argv: Vec<OsString> },
    /// An interactive shell on the serial console (this terminal).
    Shell,
}

/// Outcome of [`run`].
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The job's exit status (128+N when a signal killed it), or [`TIMEOUT_EXIT`].
    pub(crate) code: i32,
    /// Kernel uptime when stage 2 started, in seconds.
    pub(crate) boot_secs: Option<f64>,
    /// Set when the job ran out of time: what to tell the user.
    pub(crate) timed_out: Option<String>,
}

/// Kills qemu when dropped (error, timeout, panic): the VM never outlives the command.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Single-quotes `s` for sh.
fn sh_quote(s: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in s {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

fn valid_env_name(name: &[u8]) -> bool {
    !name.is_empty()
        && !name[0].is_ascii_digit()
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The job script: cd, the environment, exec.
fn job_script(cwd: &Path, argv: &[OsString]) -> Vec<u8> {
    let mut s = b"cd ".to_vec();
    s.extend(sh_quote(cwd.as_os_str().as_bytes()));
    s.extend_from_slice(b" 2>/dev/null || cd /\n");
    for (k, v) in std::env::vars_os() {
        let k = k.as_bytes();
        if !valid_env_name(k) || matches!(k, b"PWD" | b"OLDPWD" | b"SHLVL" | b"_") {
            continue;
        }
        s.extend_from_slice(b"export ");
        s.extend_from_slice(k);
        s.push(b'=');
        s.extend(sh_quote(v.as_bytes()));
        s.push(b'\n');
    }
    s.extend_from_slice(
        b"export LVS_LAB=1\nexport PATH=\"$PATH:/usr/local/sbin:/usr/sbin:/sbin\"\nexec",
    );
    for a in argv {
        s.push(b' ');
        s.extend(sh_quote(a.as_bytes()));
    }
    s.push(b'\n');
    s
}

fn random_hex() -> Result<String> {
    let mut b = [0u8; 16];
    fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The last `n` lines of the console log, for error messages.
fn console_tail(path: &Path, n: usize) -> String {
    let text = fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut out = String::new();
    for l in &lines[start..] {
        out.push_str("  | ");
        out.push_str(l.trim_end_matches('\r'));
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("  | (empty)\n");
    }
    out
}

/// Copies `from` to `to` until the end marker `mark` (which the guest writes last) or EOF.
/// Returns whether the marker was seen. Holds back only a possible marker prefix.
fn relay(mut from: UnixStream, to: &mut dyn Write, mark: &[u8]) -> bool {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = to.write_all(&pending);
                let _ = to.flush();
                return false;
            }
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        if let Some(at) = pending.windows(mark.len()).position(|w| w == mark) {
            let _ = to.write_all(&pending[..at]);
            let _ = to.flush();
            return true;
        }
        let keep = (mark.len() - 1).min(pending.len());
        let emit = pending.len() - keep;
        let _ = to.write_all(&pending[..emit]);
        let _ = to.flush();
        pending.drain(..emit);
    }
}

/// Accepts one connection on `l`, giving up when qemu exits or `deadline` passes.
fn accept(l: &UnixListener, qemu: &mut Qemu, deadline: Instant) -> Result<UnixStream> {
    l.set_nonblocking(true)?;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(st) = qemu.0.try_wait()? {
            bail!("qemu exited ({st}) before connecting its serial ports");
        }
        if Instant::now() > deadline {
            bail!("qemu did not connect its serial ports");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn qemu_command(image: &Image, opts: &VmOptions, job_dir: &Path, shell: bool) -> Result<Command> {
    let qemu = find_program("qemu-system-x86_64")
        .context("qemu-system-x86_64 is missing (qemu-system-x86)")?;
    // setpriv --pdeathsig: qemu dies with us even when we are SIGKILLed.
    let mut cmd = match find_program("setpriv") {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(qemu);
            c
        }
        None => Command::new(qemu),
    };
    let (accel, cpu) = if opts.kvm {
        ("kvm", "host")
    } else {
        ("tcg", "max")
    };
    let mut append = format!(
        "console=ttyS0 panic=-1 mitigations=off labjob={}",
        job_dir.display()
    );
    append.push_str(if shell { " loglevel=3" } else { " quiet" });
    if let Ok(extra) = std::env::var("LVS_LAB_APPEND") {
        append.push(' ');
        append.push_str(&extra);
    }
    cmd.args(["-accel", accel, "-cpu", cpu])
        .args([
            "-m",
            &opts.mem_mb.to_string(),
            "-smp",
            &opts.cpus.to_string(),
        ])
        .args([
            "-nodefaults",
            "-no-user-config",
            "-no-reboot",
            "-display",
            "none",
        ])
        .arg("-kernel")
        .arg(&image.boot_kernel)
        .arg("-initrd")
        .arg(&image.initrd)
        .args(["-append", &append])
        .args([
            "-fsdev",
            "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
            "-device",
            "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
            "-device",
            "virtio-serial-pci",
        ]);
    if shell {
        cmd.args(["-serial", "mon:stdio"]);
    } else {
        cmd.args(["-monitor", "none", "-serial"])
            .arg(format!("file:{}", job_dir.join("console.log").display()));
        for port in ["out", "err", "ctl"] {
            let sock = job_dir.join(format!("{port}.sock"));
            cmd.arg("-chardev")
                .arg(format!("socket,id={port},path={}", sock.display()))
                .args([
                    "-device",
                    &format!("virtserialport,chardev={port},name=lab.{port}"),
                ]);
        }
        cmd.stdin(Stdio::null());
    }
    Ok(cmd)
}

/// Boots a VM from `image` and runs `job` in it.
pub(crate) fn run(image: &Image, opts: &VmOptions, job: &Job) -> Result<Outcome> {
    let job_dir = tempfile::Builder::new()
        .prefix("lvs-lab-")
        .tempdir()
        .context("cannot create the job directory")?;
    let dir = job_dir.path();
    let mark = format!("\n\u{1}lvs-lab-end-{}\u{1}", random_hex()?);
    fs::write(dir.join("mark"), &mark)?;
    let (script, shell) = match job {
        Job::Run { cwd, argv } => (job_script(cwd, argv), false),
        Job::Shell => {
            // Sourced by stage 2 before it starts the shell.
            let term = std::env::var_os("TERM").unwrap_or_else(|| "vt100".into());
            let mut s = b"export TERM=".to_vec();
            s.extend(sh_quote(term.as_bytes()));
            s.push(b'\n');
            (s, true)
        }
    };
    fs::write(dir.join("job.sh"), script)?;
    fs::write(dir.join("mode"), if shell { "shell\n" } else { "run\n" })?;
    let console = dir.join("console.log");
    let started = Instant::now();
    let deadline = started + opts.timeout;

    if shell {
        let mut cmd = qemu_command(image, opts, dir, true)?;
        eprintln!(
            "lab: booting (TCG takes a few seconds); exit the shell, or press Ctrl-A x, to stop"
        );
        let status = cmd.status().context("cannot start qemu")?;
        return Ok(Outcome {
            code: status.code().unwrap_or(1),
            boot_secs: None,
            timed_out: None,
        });
    }

    let listeners = ["out", "err", "ctl"]
        .map(|p| UnixListener::bind(dir.join(format!("{p}.sock"))).context("cannot bind a socket"));
    let [out_l, err_l, ctl_l] = listeners;
    let (out_l, err_l, ctl_l) = (out_l?, err_l?, ctl_l?);
    let mut cmd = qemu_command(image, opts, dir, false)?;
    let mut qemu = Qemu(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start qemu-system-x86_64")?,
    );
    let qemu_stderr = qemu.0.stderr.take();
    let connect_deadline = Instant::now() + Duration::from_secs(30);
    let out = accept(&out_l, &mut qemu, connect_deadline);
    let err = out.and_then(|o| Ok((o, accept(&err_l, &mut qemu, connect_deadline)?)));
    let socks = err.and_then(|(o, e)| Ok((o, e, accept(&ctl_l, &mut qemu, connect_deadline)?)));
    let (out_s, err_s, ctl_s) = match socks {
        Ok(s) => s,
        Err(e) => {
            drop(qemu);
            let mut msg = String::new();
            if let Some(mut s) = qemu_stderr {
                let _ = s.read_to_string(&mut msg);
            }
            return Err(e.context(format!("qemu: {}", msg.trim())));
        }
    };

    let (done_tx, done_rx) = mpsc::channel::<bool>();
    let mark_b = mark.clone().into_bytes();
    let tx = done_tx.clone();
    let out_t = std::thread::spawn(move || {
        let seen = relay(out_s, &mut std::io::stdout(), &mark_b);
        let _ = tx.send(seen);
    });
    let mark_b = mark.clone().into_bytes();
    let err_t = std::thread::spawn(move || {
        let seen = relay(err_s, &mut std::io::stderr(), &mark_b);
        let _ = done_tx.send(seen);
    });

    let mut ctl_w = ctl_s.try_clone()?;
    let mut ctl = BufReader::new(ctl_s);
    let mut boot_secs = None;
    let mut code = None;
    let mut line = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        ctl.get_mut()
            .set_read_timeout(Some(left.min(Duration::from_millis(500))))?;
        line.clear();
        match ctl.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if qemu.0.try_wait()?.is_some() {
                    break;
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("boot"), Some(t)) => {
                boot_secs = t.parse().ok();
                if opts.verbose {
                    eprintln!(
                        "lab: guest up after {:.1} s (kernel uptime {t} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            (Some("status"), Some(n)) => {
                code = Some(n.parse::<i32>().unwrap_or(1));
                break;
            }
            _ => {}
        }
    }

    let Some(code) = code else {
        let timed_out = Instant::now() >= deadline;
        let st: Option<ExitStatus> = qemu.0.try_wait()?;
        drop(qemu);
        let _ = out_t.join();
        let _ = err_t.join();
        let what = match job {
            Job::Run { argv, .. } => argv
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            Job::Shell => "shell".into(),
        };
        if timed_out {
            let msg = format!(
                "lab: TIMEOUT: `{what}` did not finish within {} s in the VM; qemu killed \
                 (raise with --timeout or LVS_LAB_TIMEOUT). Last console lines:\n{}",
                opts.timeout.as_secs(),
                console_tail(&console, 15)
            );
            return Ok(Outcome {
                code: TIMEOUT_EXIT,
                boot_secs,
                timed_out: Some(msg),
            });
        }
        bail!(
            "the VM stopped ({}) before `{what}` reported its status. Last console lines:\n{}",
            st.map_or("still running".to_string(), |s| s.to_string()),
            console_tail(&console, 25)
        );
    };

    // Both output ports have delivered their end marker: nothing is lost when the guest powers off.
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        if done_rx
            .recv_timeout(left.max(Duration::from_secs(5)))
            .is_err()
        {
            eprintln!("lab: warning: the job's output may be incomplete");
            break;
        }
    }
    let _ = ctl_w.write_all(b"ack\n");
    let _ = out_t.join();
    let _ = err_t.join();
    let stop = Instant::now() + Duration::from_secs(10);
    while qemu.0.try_wait()?.is_none() && Instant::now() < stop {
        std::thread::sleep(Duration::from_millis(10));
    }
    if opts.verbose {
        eprintln!(
            "lab: done in {:.1} s (exit status {code})",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Outcome {
        code,
        boot_secs,
        timed_out: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_newlines() {
        assert_eq!(sh_quote(b"a'b"), b"'a'\\''b'");
        assert_eq!(sh_quote(b"x\ny"), b"'x\ny'");
        assert!(valid_env_name(b"RUST_LOG"));
        assert!(!valid_env_name(b"BASH_FUNC_x%%"));
        assert!(!valid_env_name(b"1A"));
    }

    #[test]
    fn relay_strips_the_marker_even_when_split() {
        let (a, b) = UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            let mut a = a;
            a.write_all(b"hello\n\x01MA").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            a.write_all(b"RK\x01").unwrap();
        });
        let mut out = Vec::new();
        assert!(relay(b, &mut out, b"\n\x01MARK\x01"));
        assert_eq!(out, b"hello");
        t.join().unwrap();
    }

    #[test]
    fn relay_reports_a_missing_marker() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut a = a;
        a.write_all(b"partial").unwrap();
        drop(a);
        let mut out = Vec::new();
        assert!(!relay(b, &mut out, b"\n\x01MARK\x01"));
        assert_eq!(out, b"partial");
    }
}
