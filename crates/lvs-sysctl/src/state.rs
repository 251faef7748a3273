//! Applying a plan with a record of the previous values, and reverting exactly those.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::key::Key;
use crate::procfs::Procfs;
use crate::profile::{Change, Plan, SideEffect};

const STATE_VERSION: u32 = 1;

/// The content of a state file: what `apply` changed and the values to put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Format version (1).
    pub version: u32,
    /// The profile that was applied.
    pub profile: String,
    /// The keys written, in order, with the value each had before the first apply.
    pub changes: Vec<Change>,
    /// Keys the kernel rewrote as a side effect, with their earlier values.
    pub side_effects: Vec<SideEffect>,
}

impl State {
    /// Reads a state file. `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::StateIo {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let state: Self = serde_json::from_str(&text).map_err(|e| Error::StateCorrupt {
            path: path.to_owned(),
            detail: format!("line {}, column {}: {e}", e.line(), e.column()),
        })?;
        if state.version != STATE_VERSION {
            return Err(Error::StateCorrupt {
                path: path.to_owned(),
                detail: format!(
                    "unsupported version {} (expected {STATE_VERSION})",
                    state.version
                ),
            });
        }
        Ok(Some(state))
    }

    /// Writes the state file atomically: a temporary file in the same directory, synced, then
    /// renamed over `path`.
    pub fn store(&self, path: &Path) -> Result<(), Error> {
        let err = |source| Error::StateIo {
            path: path.to_owned(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(err)?;
        let file_name = path
            .file_name()
            .map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| err(e.into()))?;
        json.push(b'\n');
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            // Make the rename durable; not all filesystems allow syncing a directory.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(err)
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// The keys written by this call (old = the value just before this call).
    pub written: Vec<Change>,
    /// Planned keys that already had the wanted value when applied (changed by someone else
    /// since the plan, or applied twice).
    pub already_set: Vec<Key>,
    /// The state file.
    pub state_path: PathBuf,
}

/// One restored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The key.
    pub key: Key,
    /// Its value before revert.
    pub from: i32,
    /// The value put back.
    pub to: i32,
}

/// A key that someone changed after `apply`: it no longer had the value apply wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The key.
    pub key: Key,
    /// What apply wrote.
    pub applied: i32,
    /// What revert found.
    pub found: i32,
}

/// What [`revert`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevertReport {
    /// Keys written back.
    pub restored: Vec<Restored>,
    /// Keys of interfaces that no longer exist (deleted with the interface; nothing to restore).
    pub gone: Vec<Key>,
    /// Keys changed by someone else after apply (restored anyway).
    pub drifted: Vec<Drift>,
}

/// Writes `plan` and records the previous values in `state_path` (JSON, atomically replaced).
///
/// The state file is written before the first sysctl, so a crash part-way leaves a record.
/// Each key is read again just before writing: one that already has the wanted value is left
/// alone and not recorded. Applying again merges into the existing state and keeps the values
/// from before the first apply, so a later [`revert`] still restores the original host. If a
/// write fails, the keys written by this call are put back and the state file is restored.
///
/// ```
/// use lvs_sysctl::{apply, revert, IfName, Procfs, Profile, Snapshot};
/// let dir = tempfile::tempdir()?;
/// let sys = Procfs::fake(&dir.path().join("sys"), &["eth0"])?;
/// let state = dir.path().join("dr.json");
/// let before = Snapshot::capture(&sys)?;
///
/// let plan = Profile::dr([IfName::new("eth0")?]).plan(&sys)?;
/// let report = apply(&sys, &plan, &state)?;
/// assert_eq!(report.written.len(), 4);
/// assert!(Profile::dr([IfName::new("eth0")?]).plan(&sys)?.is_empty());
///
/// let reverted = revert(&sys, &state)?;
/// assert_eq!(reverted.restored.len(), 4);
/// assert_eq!(Snapshot::capture(&sys)?, before);
/// assert!(revert(&sys, &state).unwrap_err().is_no_state());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply(sys: &Procfs, plan: &Plan, state_path: &Path) -> Result<ApplyReport, Error> {
    let previous = State::load(state_path)?;
    if let Some(p) = &previous {
        if p.profile != plan.profile {
            return Err(Error::StateProfileMismatch {
                path: state_path.to_owned(),
                found: p.profile.clone(),
                expected: plan.profile.clone(),
            });
        }
    }
    let mut state = previous.clone().unwrap_or_else(|| State {
        version: STATE_VERSION,
        profile: plan.profile.clone(),
        changes: Vec::new(),
        side_effects: Vec::new(),
    });

    let mut to_write = Vec::new();
    let mut already_set = Vec::new();
    for c in &plan.changes {
        c.key.validate(c.new)?;
        let now = sys.read(&c.key)?;
        if now == c.new {
            already_set.push(c.key.clone());
            continue;
        }
        to_write.push(Change {
            old: now,
            ..c.clone()
        });
        match state.changes.iter_mut().find(|r| r.key == c.key) {
            // Keep the value from before the first apply.
            Some(r) => r.new = c.new,
            None => state.changes.push(Change {
                old: now,
                ..c.clone()
            }),
        }
    }
    if !to_write.is_empty() {
        for s in &plan.side_effects {
            let recorded = state.side_effects.iter().any(|r| r.key == s.key)
                || state.changes.iter().any(|r| r.key == s.key);
            if recorded {
                continue;
            }
            match sys.read(&s.key) {
                Ok(old) => state.side_effects.push(SideEffect {
                    key: s.key.clone(),
                    old,
                }),
                Err(Error::NoSuchKey { .. } | Error::NoSuchInterface { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    if previous.as_ref() != Some(&state) {
        state.store(state_path)?;
    }

    for (i, c) in to_write.iter().enumerate() {
        if let Err(e) = sys.write(&c.key, c.new) {
            let mut rollback_failures = Vec::new();
            for done in to_write[..i].iter().rev() {
                if let Err(re) = sys.write_unchecked(&done.key, done.old) {
                    rollback_failures.push(format!("{}: {re}", done.key));
                }
            }
            // Put the state file back as it was.
            let restore = match &previous {
                Some(p) => p.store(state_path),
                None => std::fs::remove_file(state_path).map_err(|source| Error::StateIo {
                    path: state_path.to_owned(),
                    source,
                }),
            };
            if let Err(se) = restore {
                rollback_failures.push(format!("state file: {se}"));
            }
            return Err(Error::ApplyFailed {
                key: c.key.clone(),
                source: Box::new(e),
                rolled_back: i,
                rollback_failures,
            });
        }
    }
    Ok(ApplyReport {
        written: to_write,
        already_set,
        state_path: state_path.to_owned(),
    })
}

/// Restores the values recorded in `state_path` by [`apply`], in reverse order, then the
/// kernel's side effects, and removes the state file.
///
/// Values are restored exactly, including ones outside the documented range that the kernel
/// had accepted (such as `arp_ignore=5`). Keys of interfaces deleted since are skipped and
/// listed in [`RevertReport::gone`]. Without a state file this returns [`Error::NoState`]
/// (see [`Error::is_no_state`]). If some writes fail, the state file keeps exactly the entries
/// that were not restored, and [`Error::RevertIncomplete`] lists them.
pub fn revert(sys: &Procfs, state_path: &Path) -> Result<RevertReport, Error> {
    let state = State::load(state_path)?.ok_or_else(|| Error::NoState {
        path: state_path.to_owned(),
    })?;
    let mut report = RevertReport::default();
    let mut left = State {
        changes: Vec::new(),
        side_effects: Vec::new(),
        ..state.clone()
    };
    let mut failures = Vec::new();

    for c in state.changes.iter().rev() {
        match restore(sys, &c.key, c.old, Some(c.new), &mut report) {
            Ok(()) => {}
            Err(e) => {
                failures.push(format!("{}: {e}", c.key));
                left.changes.insert(0, c.clone());
            }
        }
    }
    for s in &state.side_effects {
        if let Err(e) = restore(sys, &s.key, s.old, None, &mut report) {
            failures.push(format!("{}: {e}", s.key));
            left.side_effects.push(s.clone());
        }
    }

    if failures.is_empty() {
        match std::fs::remove_file(state_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::StateIo {
                    path: state_path.to_owned(),
                    source,
                });
            }
        }
        Ok(report)
    } else {
        left.store(state_path)?;
        Err(Error::RevertIncomplete { failures })
    }
}

fn restore(
    sys: &Procfs,
    key: &Key,
    old: i32,
    applied: Option<i32>,
    report: &mut RevertReport,
) -> Result<(), Error> {
    let now = match sys.read(key) {
        Ok(v) => v,
        Err(Error::NoSuchInterface { .. }) => {
            report.gone.push(key.clone());
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if let Some(applied) = applied {
        if now != applied {
            report.drifted.push(Drift {
                key: key.clone(),
                applied,
                found: now,
            });
        }
    }
    if now != old {
        sys.write_unchecked(key, old)?;
        report.restored.push(Restored {
            key: key.clone(),
            from: now,
            to: old,
        });
    }
    Ok(())
}
