//! The daemon's observable state: what `lvsd status` prints as JSON and what the Prometheus
//! endpoint exports. Each subsystem writes its own part into the [`Shared`] value whenever it
//! changes (and at least once per second for counters); readers clone it.
//!
//! ```
//! use lvsd::status::{InstanceStatus, Shared, Status};
//! let shared = Shared::default();
//! shared.update(|s| {
//!     s.instances = vec![InstanceStatus {
//!         name: "VI_1".into(),
//!         state: "MASTER".into(),
//!         ..Default::default()
//!     }]
//! });
//! let snapshot: Status = shared.snapshot();
//! assert_eq!(snapshot.instances[0].state, "MASTER");
//! let json = serde_json::to_string(&snapshot)?;
//! assert!(json.contains("\"VI_1\""));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Everything `lvsd status` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The daemon itself.
    pub daemon: DaemonStatus,
    /// Every running `vrrp_instance` (empty with `-C`).
    pub instances: Vec<InstanceStatus>,
    /// Every `vrrp_sync_group`.
    pub sync_groups: Vec<SyncGroupStatus>,
    /// Every virtual server the checker side manages (empty with `-P`).
    pub virtual_servers: Vec<VirtualServerStatus>,
}

/// The daemon's own figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// Process id.
    pub pid: u32,
    /// lvsd's version.
    pub version: String,
    /// The configuration file.
    pub config_file: String,
    /// Start time, seconds since the Unix epoch.
    pub started_unix: u64,
    /// Successful reloads since start.
    pub reloads: u64,
    /// The last reload's error, if the last reload failed (the old configuration keeps running).
    pub last_reload_error: Option<String>,
    /// Subsystems running: "vrrp", "check".
    pub subsystems: Vec<String>,
}

/// One `vrrp_instance`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// `vrrp_instance` name.
    pub name: String,
    /// Interface the instance runs on (the VMAC interface when `use_vmac`).
    pub interface: String,
    /// Virtual router id.
    pub vrid: u8,
    /// VRRP version: 2 or 3.
    pub version: u8,
    /// "inet" or "inet6".
    pub family: String,
    /// "INIT", "BACKUP", "MASTER" or "FAULT" (keepalived's words).
    pub state: String,
    /// Configured priority.
    pub priority: u8,
    /// Priority after tracking weights.
    pub effective_priority: u8,
    /// The current master's address as this router knows it (itself when master).
    pub master: Option<IpAddr>,
    /// The virtual addresses.
    pub vips: Vec<IpAddr>,
    /// Seconds since the last state change.
    pub since_change_secs: f64,
    /// Counters (RFC 6527 names where one exists, e.g. `adverts_rx`, `adverts_tx`,
    /// `became_master`, `released_master`, `priority_zero_rx`, `priority_zero_tx`, plus one
    /// `rejected_<rule>` per validation rule that fired).
    pub counters: BTreeMap<String, u64>,
}

/// One `vrrp_sync_group`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncGroupStatus {
    /// Group name.
    pub name: String,
    /// Member instances.
    pub members: Vec<String>,
    /// The group's state (keepalived's words).
    pub state: String,
}

/// One `virtual_server` (or `virtual_server_group` / fwmark service).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VirtualServerStatus {
    /// ipvsadm-style key: `TCP 203.0.113.62:80`, `UDP [2001:db8::1]:53`, `FWM 1`.
    pub key: String,
    /// Scheduler name.
    pub scheduler: String,
    /// Forwarding method of the real servers: "DR", "NAT", "TUN".
    pub forwarding: String,
    /// Enough live weight (quorum) for the service.
    pub quorum_up: bool,
    /// The sorry server is in the pool.
    pub sorry_active: bool,
    /// The real servers.
    pub real_servers: Vec<RealServerStatus>,
}

/// One `real_server`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RealServerStatus {
    /// `198.51.100.10:80`.
    pub address: String,
    /// Weight in the configuration.
    pub configured_weight: u32,
    /// Weight in the kernel now (0 when inhibited; absent from the kernel = `in_kernel` false).
    pub weight: u32,
    /// Present in the IPVS table.
    pub in_kernel: bool,
    /// Every checker passes.
    pub alive: bool,
    /// Number of checkers, and how many pass.
    pub checkers: u32,
    /// How many checkers pass.
    pub checkers_up: u32,
    /// The reason of the last failure, if any.
    pub last_failure: Option<String>,
}

/// The status every thread shares.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<Mutex<Status>>);

impl Shared {
    /// Changes the status under the lock.
    pub fn update(&self, f: impl FnOnce(&mut Status)) {
        let mut g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g);
    }

    /// Reads the status under the lock, without copying it (`f` should be quick: every
    /// thread that updates the status waits meanwhile).
    ///
    /// ```
    /// let shared = lvsd::status::Shared::default();
    /// assert_eq!(shared.read(|s| s.instances.len()), 0);
    /// ```
    pub fn read<R>(&self, f: impl FnOnce(&Status) -> R) -> R {
        let g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&g)
    }

    /// A copy of the current status.
    pub fn snapshot(&self) -> Status {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
