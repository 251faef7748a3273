//! The seam between the daemon and its two subsystems (VRRP, IPVS + checkers).
//!
//! Each subsystem runs on its own thread(s). Its `spawn` function does the initial setup in the
//! caller's thread (sockets opened, or the first IPVS reconcile applied) and returns a [`Side`]
//! only once it is ready, so the daemon can report `READY=1` to systemd after every `spawn`
//! returned. The daemon then talks to it with [`Command`]s and joins it at exit.
//!
//! ```
//! use lvsd::side::{Command, Side};
//! let (tx, rx) = std::sync::mpsc::channel::<Command>();
//! let join = std::thread::spawn(move || -> anyhow::Result<()> {
//!     while let Ok(c) = rx.recv() {
//!         if matches!(c, Command::Stop) {
//!             break;
//!         }
//!     }
//!     Ok(())
//! });
//! let side = Side::new("demo", move |c| tx.send(c).is_ok(), join);
//! assert!(side.send(Command::Stop));
//! side.join()?;
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::sync::Arc;
use std::thread::JoinHandle;

use keepalived_conf::model::Config;

/// What the daemon asks of a subsystem.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Command {
    /// SIGHUP: the new configuration, already parsed without errors. The subsystem diffs it
    /// against what it runs: unchanged parts keep their state (no VIP flap, no re-election, no
    /// IPVS service dropped), changed parts are rebuilt, removed parts stopped.
    Reload(Arc<Config>),
    /// SIGTERM/SIGINT: stop (VRRP: priority-0 adverts and VIPs removed; IPVS: kept, or flushed
    /// when `lvs_flush_on_stop` says so), then return from the thread.
    Stop,
}

/// A running subsystem.
pub struct Side {
    name: &'static str,
    send: Box<dyn Fn(Command) -> bool + Send>,
    join: JoinHandle<anyhow::Result<()>>,
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side").field("name", &self.name).finish()
    }
}

impl Side {
    /// A subsystem named `name` (for logs), reached through `send` (returns false when the
    /// subsystem is gone), running on the thread `join`.
    pub fn new(
        name: &'static str,
        send: impl Fn(Command) -> bool + Send + 'static,
        join: JoinHandle<anyhow::Result<()>>,
    ) -> Self {
        Self {
            name,
            send: Box::new(send),
            join,
        }
    }

    /// The subsystem's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Sends a command; false when the subsystem has already stopped.
    pub fn send(&self, command: Command) -> bool {
        (self.send)(command)
    }

    /// True once the subsystem's thread has returned (it failed or was stopped).
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Waits for the subsystem's thread and returns its result.
    ///
    /// # Errors
    /// The subsystem's own error, or a panic of its thread.
    pub fn join(self) -> anyhow::Result<()> {
        match self.join.join() {
            Ok(r) => r,
            Err(_) => anyhow::bail!("the {} subsystem panicked", self.name),
        }
    }
}
