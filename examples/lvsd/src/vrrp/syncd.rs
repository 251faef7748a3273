//! `lvs_sync_daemon`: the kernel's IPVS connection-sync daemons, driven by a VRRP instance
//! (keepalived.conf(5)): while the instance is MASTER only the master daemon runs (it sends the
//! connection table), otherwise only the backup daemon (it receives it), so a backup that takes
//! over already knows the connections. Without an instance both run as long as lvsd does. The
//! sync ID defaults to the instance's VRID (0 without one).
//!
//! A kernel without IPVS (or a refused daemon) is logged and the VRRP side carries on.

use ipvs_netlink::{DaemonState, Ipvs, SyncDaemon};
use keepalived_conf::model::{Config as Conf, LvsSyncDaemon};
use tracing::{error, info, warn};
use vrrp_machine::State;

/// The sync daemons lvsd runs for `lvs_sync_daemon`.
#[derive(Debug)]
pub(super) struct SyncDaemons {
    spec: LvsSyncDaemon,
    sync_id: u32,
    ipvs: Option<Ipvs>,
    /// The daemons lvsd started and that run.
    running: Vec<DaemonState>,
}

impl SyncDaemons {
    /// From `conf`'s `lvs_sync_daemon`, if any; nothing runs until [`start`](Self::start).
    pub(super) fn new(conf: &Conf) -> Option<Self> {
        let spec = conf.global_defs.lvs_sync_daemon.clone()?;
        let vrid = conf
            .vrrp_instances
            .iter()
            .find(|i| !spec.instance.is_empty() && i.name == spec.instance)
            .and_then(|i| i.virtual_router_id);
        let sync_id = u32::from(spec.id.or(vrid).unwrap_or(0));
        let ipvs = match Ipvs::connect() {
            Ok(i) => Some(i),
            Err(e) => {
                error!(error = %e, "lvs_sync_daemon: IPVS is not usable (modprobe ip_vs?); no connection sync");
                None
            }
        };
        Some(Self {
            spec,
            sync_id,
            ipvs,
            running: Vec::new(),
        })
    }

    /// The instance the daemons follow (`None`: both run).
    pub(super) fn instance(&self) -> Option<&str> {
        Some(self.spec.instance.as_str()).filter(|i| !i.is_empty())
    }

    /// The `lvs_sync_daemon` line these daemons run for.
    pub(super) fn spec(&self) -> &LvsSyncDaemon {
        &self.spec
    }

    /// Starts the daemons the instance's state `master` asks for.
    pub(super) fn start(&mut self, master: bool) {
        self.want(master);
    }

    /// Follows a state change of `instance`.
    pub(super) fn follow(&mut self, instance: &str, to: State) {
        if self.instance() != Some(instance) {
            return;
        }
        match to {
            State::Master => self.want(true),
            State::Backup | State::Fault => self.want(false),
            // Shut down (lvsd stopping, or the instance leaving on reload): [`stop`] follows.
            State::Initialize => {}
        }
    }

    /// Stops every daemon lvsd started.
    pub(super) fn stop(&mut self) {
        for s in std::mem::take(&mut self.running) {
            self.stop_one(s);
        }
    }

    fn want(&mut self, master: bool) {
        let want: &[DaemonState] = if self.spec.instance.is_empty() {
            &[DaemonState::Master, DaemonState::Backup]
        } else if master {
            &[DaemonState::Master]
        } else {
            &[DaemonState::Backup]
        };
        let (keep, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|s| want.contains(s));
        for s in gone {
            self.stop_one(s);
        }
        self.running = keep;
        for s in want {
            if !self.running.contains(s) && self.start_one(*s) {
                self.running.push(*s);
            }
        }
    }

    fn daemon(&self, state: DaemonState) -> SyncDaemon {
        let mut d = SyncDaemon::new(state, self.spec.interface.clone(), self.sync_id);
        d.sync_maxlen = self.spec.maxlen;
        d.mcast_port = self.spec.port;
        d.mcast_ttl = self.spec.ttl;
        d.mcast_group = self.spec.group;
        d
    }

    fn start_one(&mut self, state: DaemonState) -> bool {
        let d = self.daemon(state);
        let Some(ipvs) = self.ipvs.as_mut() else {
            return false;
        };
        let mut r = ipvs.start_daemon(&d);
        if matches!(&r, Err(e) if e.errno() == Some(nix::libc::EEXIST)) {
            // Left running by a predecessor (or ipvsadm): ours replaces it, with our settings.
            let _ = ipvs.stop_daemon(state);
            r = ipvs.start_daemon(&d);
        }
        match r {
            Ok(()) => {
                info!(daemon = ?state, interface = %d.mcast_ifn, sync_id = d.sync_id, "IPVS sync daemon started");
                true
            }
            Err(e) => {
                warn!(daemon = ?state, interface = %d.mcast_ifn, error = %e, "IPVS sync daemon not started");
                false
            }
        }
    }

    fn stop_one(&mut self, state: DaemonState) {
        let Some(ipvs) = self.ipvs.as_mut() else {
            return;
        };
        match ipvs.stop_daemon(state) {
            Ok(()) => info!(daemon = ?state, "IPVS sync daemon stopped"),
            Err(e) => warn!(daemon = ?state, error = %e, "IPVS sync daemon not stopped"),
        }
    }
}
