//! `vrrp_script`s: each runs on its own thread every `interval` (argument vector, never a
//! shell), killed after `timeout`; `rise` successes in a row make it up, `fall` failures make it
//! down (keepalived's rules). Its first determined state and every change are reported.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use keepalived_conf::model::VrrpScript;
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
