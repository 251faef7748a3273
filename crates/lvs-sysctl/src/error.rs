//! The crate's error type.

use std::io;
use std::path::PathBuf;

use crate::key::{Key, ValueError};
use crate::name::IfName;

/// Everything that can go wrong reading, planning, applying or reverting sysctls.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value outside what the parameter accepts.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The interface has no `conf` directory: it does not exist (in this network namespace).
    #[error("interface {iface} does not exist (no /proc/sys/net/{family}/conf/{iface})")]
    NoSuchInterface {
        /// The interface.
        iface: IfName,
        /// ipv4 or ipv6.
        family: &'static str,
    },
    /// The TUN profile's tunnel has no `conf` directory.
    #[error(
        "{iface} has no /proc/sys/net/{family}/conf/{iface}: load the ipip module (modprobe ipip) and bring {iface} up first (lvs-vip ensure_tunl0_vip); the kernel creates the directory once the tunnel is up"
    )]
    TunnelMissing {
        /// The tunnel.
        iface: IfName,
        /// ipv4.
        family: &'static str,
    },
    /// The key's file does not exist (an older kernel, or IPv6 disabled at boot).
    #[error("{key}: no such sysctl ({path} does not exist; older kernel or IPv6 disabled?)")]
    NoSuchKey {
        /// The key.
        key: Key,
        /// The file that was looked for.
        path: PathBuf,
    },
    /// Reading or writing the file failed.
    #[error("cannot {op} {key} ({path}): {source}{}", if hint.is_empty() { String::new() } else { format!("; {hint}") })]
    Io {
        /// "read" or "write".
        op: &'static str,
        /// The key.
        key: Key,
        /// The file.
        path: PathBuf,
        /// What usually causes this errno here (may be empty).
        hint: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Listing the interfaces failed.
    #[error("cannot list {path}: {source}{}", if hint.is_empty() { String::new() } else { format!("; {hint}") })]
    ListInterfaces {
        /// The directory.
        path: PathBuf,
        /// What usually causes this errno here (may be empty).
        hint: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The file did not contain an integer.
    #[error("{key}: {path} contains {text:?}, not an integer")]
    Unparsable {
        /// The key.
        key: Key,
        /// The file.
        path: PathBuf,
        /// What it contained.
        text: String,
    },
    /// `revert` found no state file: nothing was applied (or it was already reverted).
    #[error("nothing to revert: no state file at {path} (never applied, or already reverted)")]
    NoState {
        /// The state file path.
        path: PathBuf,
    },
    /// The state file exists but cannot be used; it is left in place for inspection.
    #[error("state file {path} is corrupt ({detail}); left in place, nothing was changed")]
    StateCorrupt {
        /// The state file path.
        path: PathBuf,
        /// What is wrong (with line and column for JSON errors).
        detail: String,
    },
    /// The state file was written by a different profile than the one being applied.
    #[error(
        "state file {path} belongs to profile {found:?}, not {expected:?}; revert it first or use another state file"
    )]
    StateProfileMismatch {
        /// The state file path.
        path: PathBuf,
        /// The profile recorded in the file.
        found: String,
        /// The profile being applied.
        expected: String,
    },
    /// Reading, writing or removing the state file failed.
    #[error("state file {path}: {source}")]
    StateIo {
        /// The state file path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A write failed part-way through `apply`; the keys already written were put back.
    #[error("applying {key} failed: {source}; rolled back {rolled_back} earlier change(s){}", if rollback_failures.is_empty() { String::new() } else { format!(" ({} could not be rolled back: {})", rollback_failures.len(), rollback_failures.join("; ")) })]
    ApplyFailed {
        /// The key whose write failed.
        key: Key,
        /// Why.
        source: Box<Self>,
        /// How many earlier writes of this call were undone.
        rolled_back: usize,
        /// Rollback writes that failed too (key: error).
        rollback_failures: Vec<String>,
    },
    /// Some values could not be restored; the state file keeps exactly those entries.
    #[error("revert incomplete: {}", failures.join("; "))]
    RevertIncomplete {
        /// One line per key that could not be restored.
        failures: Vec<String>,
    },
}

impl Error {
    /// Whether this is [`Error::NoState`], which callers may treat as "already reverted".
    pub fn is_no_state(&self) -> bool {
        matches!(self, Self::NoState { .. })
    }
}
