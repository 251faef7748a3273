//! `vrrp_script`s: each runs on its own thread every `interval` (argument vector, never a
//! shell), killed after `timeout`; `rise` successes in a row make it up, `fall` failures make it
//! down (keepalived's rules). Its first determined state and every change are reported.
//!
//! `vrrp_track_file`s: watched with inotify; every change of the number a file holds is
//! reported.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use anyhow::Context;
use keepalived_conf::model::{TrackFile, VrrpScript};
use tracing::{info, warn};

use super::exec::Prepared;

/// A running `vrrp_script`; stops when dropped (at its next run).
#[derive(Debug)]
pub(super) struct ScriptRunner {
    pub(super) def: VrrpScript,
    stop: Arc<AtomicBool>,
}

impl Drop for ScriptRunner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl ScriptRunner {
    /// Starts `def` as `script` (checked by [`ScriptPolicy::prepare`](super::exec::ScriptPolicy::prepare));
    /// `tx` hears `wrap(name, up)` with its first state and every change.
    pub(super) fn spawn<E: Send + 'static>(
        def: &VrrpScript,
        script: Prepared,
        tx: Sender<E>,
        wrap: fn(String, bool) -> E,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let d = def.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("vrrp-script-{}", def.name))
            .spawn(move || run(&d, &script, &stopped, &tx, wrap));
        if let Err(e) = spawned {
            warn!(script = %def.name, error = %e, "vrrp_script thread not started");
        }
        Self {
            def: def.clone(),
            stop,
        }
    }
}

fn run<E>(
    def: &VrrpScript,
    script: &Prepared,
    stop: &AtomicBool,
    tx: &Sender<E>,
    wrap: fn(String, bool) -> E,
) {
    let interval = def
        .interval
        .map_or(Duration::from_secs(1), |t| t.as_duration())
        .max(Duration::from_millis(10));
    let timeout = def.timeout.map_or(interval, |t| t.as_duration());
    let rise = def.rise.unwrap_or(1).max(1);
    let fall = def.fall.unwrap_or(1).max(1);
    // keepalived: up at start unless `init_fail`.
    let mut up = !def.init_fail;
    let mut reported = false;
    if def.init_fail {
        if tx.send(wrap(def.name.clone(), false)).is_err() {
            return;
        }
        reported = true;
    }
    let (mut ok_run, mut fail_run) = (0u32, 0u32);
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let ok = run_once(&def.name, script, timeout);
        if ok {
            ok_run += 1;
            fail_run = 0;
        } else {
            fail_run += 1;
            ok_run = 0;
        }
        let next = if !up && ok_run >= rise {
            true
        } else if up && fail_run >= fall {
            false
        } else {
            up
        };
        if next != up || (!reported && (ok_run >= rise || fail_run >= fall)) {
            if next != up {
                info!(script = %def.name, up = next, "vrrp_script state changed");
            }
            up = next;
            reported = true;
            if tx.send(wrap(def.name.clone(), up)).is_err() {
                return;
            }
        }
        if let Some(left) = interval.checked_sub(started.elapsed()) {
            std::thread::sleep(left);
        }
    }
}

/// One run: true on exit status 0 within `timeout`.
fn run_once(name: &str, script: &Prepared, timeout: Duration) -> bool {
    let child = script
        .command(&[])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            warn!(script = %name, error = %e, "vrrp_script not started");
            return false;
        }
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return st.success(),
            Ok(None) if Instant::now() >= deadline => {
                warn!(script = %name, "vrrp_script timed out: killed");
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return false,
        }
    }
}

/// The `vrrp_track_file`s in use: each file's number, read at start and again whenever the
/// file is written, created, replaced or removed (inotify on its directory, as keepalived
/// watches it). Stops when dropped (within a second).
#[derive(Debug)]
pub(super) struct FileWatch {
    /// (name, path) of every watched file.
    pub(super) files: Vec<(String, PathBuf)>,
    stop: Arc<AtomicBool>,
}

impl Drop for FileWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl FileWatch {
    /// Watches `files` (name, path); `tx` hears `wrap(name, value)` after every change of a
    /// file's value. Also returns the files' values (in `files`' order), read once the watches
    /// are in place (a write after that read is an event), for the caller to apply first.
    ///
    /// # Errors
    /// No inotify instance (a per-user limit), or a file's directory cannot be watched.
    pub(super) fn spawn<E: Send + 'static>(
        files: &[(String, PathBuf)],
        tx: Sender<E>,
        wrap: fn(String, i64) -> E,
    ) -> anyhow::Result<(Self, Vec<i64>)> {
        use nix::sys::inotify::{AddWatchFlags as F, InitFlags, Inotify};
        let ino = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .context("inotify for vrrp_track_file")?;
        let mask =
            F::IN_CLOSE_WRITE | F::IN_MOVED_TO | F::IN_MOVED_FROM | F::IN_CREATE | F::IN_DELETE;
        // (watch, file name in that directory, track name, path, last value sent)
        let mut watched = Vec::new();
        for (name, path) in files {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let wd = ino
                .add_watch(dir, mask)
                .with_context(|| format!("vrrp_track_file {name}: watch {}", dir.display()))?;
            let file = path.file_name().map(ToOwned::to_owned).unwrap_or_default();
            watched.push((wd, file, name.clone(), path.clone(), read_value(path)));
        }
        let values = watched.iter().map(|w| w.4).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("vrrp-track-file".into())
            .spawn(move || {
                use std::os::fd::AsFd;

                use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
                while !stopped.load(Ordering::Relaxed) {
                    let mut fds = [PollFd::new(ino.as_fd(), PollFlags::POLLIN)];
                    match poll(&mut fds, PollTimeout::from(1000u16)) {
                        Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                        Ok(_) => {}
                        Err(e) => {
                            warn!(error = %e, "vrrp_track_file: poll; watching stopped");
                            return;
                        }
                    }
                    let Ok(events) = ino.read_events() else {
                        continue;
                    };
                    for ev in events {
                        for (wd, file, name, path, last) in &mut watched {
                            if *wd != ev.wd || ev.name.as_deref() != Some(file.as_os_str()) {
                                continue;
                            }
                            let v = read_value(path);
                            if v != *last {
                                *last = v;
                                if tx.send(wrap(name.clone(), v)).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
            })
            .context("start the vrrp_track_file thread")?;
        let files = files.to_vec();
        Ok((Self { files, stop }, values))
    }
}

/// The number a tracked file holds: its first integer (optional sign, then digits, after any
/// leading blanks); 0 when the file is missing, empty or holds no number (as keepalived reads
/// it).
pub(super) fn read_value(path: &Path) -> i64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    let t = text.trim_start();
    let (sign, digits) = match t.as_bytes().first() {
        Some(b'-') => (-1, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end]
        .parse::<i64>()
        .map_or(0, |v| v.saturating_mul(sign))
}

/// keepalived's `init_file [VALUE] [overwrite]` of `def`: writes VALUE (default 0) to the file
/// when it does not exist, or always with `overwrite`.
pub(super) fn init_file(def: &TrackFile) {
    let Some(path) = def.file.as_deref() else {
        return;
    };
    let Some(d) = def.other.iter().find(|d| d.keyword == "init_file") else {
        return;
    };
    let overwrite = d.args.iter().any(|a| a == "overwrite");
    let value = d
        .args
        .iter()
        .find(|a| *a != "overwrite")
        .map_or("0", String::as_str);
    if overwrite || !Path::new(path).exists() {
        match std::fs::write(path, format!("{value}\n")) {
            Ok(()) => info!(track_file = %def.name, file = path, value, "init_file written"),
            Err(e) => warn!(track_file = %def.name, file = path, error = %e, "init_file"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::read_value;

    #[test]
    fn a_file_holds_its_first_integer_or_zero() {
        let dir = std::env::temp_dir().join(format!("lvsd-track-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("v");
        for (text, want) in [
            ("42\n", 42),
            ("  -7 apples", -7),
            ("+3", 3),
            ("", 0),
            ("none", 0),
            ("-", 0),
            ("99999999999999999999", 0),
        ] {
            std::fs::write(&f, text).unwrap();
            assert_eq!(read_value(&f), want, "{text:?}");
        }
        assert_eq!(read_value(&dir.join("missing")), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
