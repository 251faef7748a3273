//! Running scripts the way keepalived does: an argument vector (never a shell), as the user
//! `script_user` (or the script's own `USER [GROUP]`, or `keepalived_script` when it exists),
//! and with `enable_script_security`, never a script run as root that a non-root user could
//! change.
//!
//! The security rule (keepalived.conf(5), `enable_script_security`): a script run with uid or
//! gid 0 is unsafe when its file or any directory on its path (the path as written and the
//! resolved one) is owned by a non-root user, or is group-writable by a non-root group, or
//! world-writable (a directory with the sticky bit, such as `/tmp`, is exempt from the write
//! rules). Unsafe scripts are refused under `enable_script_security` and run with a warning
//! otherwise. With `enable_script_security`, scripts without a user of their own need
//! `script_user` or an existing `keepalived_script` user: lvsd never falls back to root then.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use keepalived_conf::model::{Config as Conf, RunAs};
use nix::unistd::{Group, User};
use tracing::warn;

/// Who runs scripts, and whether unsafe ones are refused.
///
/// The default user is looked up when the first script needs it, not at start: a user lookup
/// goes through NSS, which loads its modules (and their libraries) into the process for good,
/// about 0.6 MiB of a `-P` daemon's resident memory that a configuration without scripts never
/// needs.
#[derive(Debug, Clone)]
pub(super) struct ScriptPolicy {
    script_user: Option<RunAs>,
    security: bool,
    /// The default uid/gid, or why there is none, once looked up.
    default: OnceLock<Result<(u32, u32), String>>,
}

/// Two policies are the same when the configuration asks for the same thing.
impl PartialEq for ScriptPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.script_user == other.script_user && self.security == other.security
    }
}

impl Eq for ScriptPolicy {}

/// A script ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Prepared {
    argv: Vec<String>,
    uid: u32,
    gid: u32,
}

impl Prepared {
    /// The command, with `extra` arguments after the script's own.
    pub(super) fn command(&self, extra: &[String]) -> Command {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]).args(extra);
        if nix::unistd::geteuid().as_raw() != self.uid
            || nix::unistd::getegid().as_raw() != self.gid
        {
            cmd.uid(self.uid).gid(self.gid);
        }
        cmd
    }
}

impl ScriptPolicy {
    /// The policy `conf`'s `global_defs` ask for.
    pub(super) fn new(conf: &Conf) -> Self {
        let g = &conf.global_defs;
        Self {
            script_user: g.script_user.clone(),
            security: g.enable_script_security,
            default: OnceLock::new(),
        }
    }

    /// `script_user`, else `keepalived_script` when it exists, else lvsd's own user (never
    /// under `enable_script_security`).
    fn default_user(&self) -> Result<(u32, u32), String> {
        self.default
            .get_or_init(|| match &self.script_user {
                Some(r) => resolve(r),
                None => match User::from_name("keepalived_script") {
                    Ok(Some(u)) => Ok((u.uid.as_raw(), u.gid.as_raw())),
                    _ if self.security => Err(
                        "enable_script_security: no script_user and no keepalived_script user"
                            .to_owned(),
                    ),
                    _ => Ok((
                        nix::unistd::geteuid().as_raw(),
                        nix::unistd::getegid().as_raw(),
                    )),
                },
            })
            .clone()
    }

    /// Checks `command` (run as `run_as`, else the default user) and prepares it.
    ///
    /// # Errors
    /// Why it must not run: no such user, not found, not executable, or unsafe under
    /// `enable_script_security`.
    pub(super) fn prepare(
        &self,
        command: &str,
        run_as: Option<&RunAs>,
    ) -> Result<Prepared, String> {
        let mut argv: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        let Some(prog) = argv.first() else {
            return Err("empty command".to_owned());
        };
        let (uid, gid) = match run_as {
            Some(r) => resolve(r)?,
            None => self.default_user()?,
        };
        let path = find(prog).ok_or_else(|| format!("{prog}: not found"))?;
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !meta.is_file() || !executable(&meta, uid, gid) {
            return Err(format!(
                "{}: not executable by uid {uid} gid {gid}",
                path.display()
            ));
        }
        if uid == 0 || gid == 0 {
            let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            for p in [&path, &real] {
                if let Some(why) = unsafe_path(p) {
                    if self.security {
                        return Err(format!(
                            "{}: unsafe permissions ({why}) for a script run as root; refused (enable_script_security)",
                            path.display()
                        ));
                    }
                    warn!(script = %path.display(), reason = %why, "unsafe permissions for a script run as root (enable_script_security would refuse it)");
                    break;
                }
            }
        }
        argv[0] = path.to_string_lossy().into_owned();
        Ok(Prepared { argv, uid, gid })
    }
}

/// `USER [GROUP]` → uid, gid (the user's own group unless one is named).
fn resolve(r: &RunAs) -> Result<(u32, u32), String> {
    let u = User::from_name(&r.user)
        .ok()
        .flatten()
        .ok_or_else(|| format!("script user {} does not exist", r.user))?;
    let gid = match r.group.as_deref().map(|g| g.trim_start_matches(':')) {
        Some(g) if !g.is_empty() => Group::from_name(g)
            .ok()
            .flatten()
            .ok_or_else(|| format!("script group {g} does not exist"))?
            .gid
            .as_raw(),
        _ => u.gid.as_raw(),
    };
    Ok((u.uid.as_raw(), gid))
}

/// A program name with a `/` as is; a bare name searched in `PATH`.
fn find(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        return Some(PathBuf::from(prog));
    }
    let path = std::env::var("PATH")
        .unwrap_or_else(|_| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    path.split(':')
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file())
}

fn executable(meta: &std::fs::Metadata, uid: u32, gid: u32) -> bool {
    let mode = meta.permissions().mode();
    if uid == 0 {
        return mode & 0o111 != 0;
    }
    if meta.uid() == uid {
        mode & 0o100 != 0
    } else if meta.gid() == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Why `path` (absolute or relative to the current directory) is unsafe for a root script.
fn unsafe_path(path: &Path) -> Option<String> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut prefix = PathBuf::new();
    let comps: Vec<_> = abs.components().collect();
    for (i, c) in comps.iter().enumerate() {
        prefix.push(c);
        let last = i + 1 == comps.len();
        let Ok(m) = std::fs::symlink_metadata(&prefix) else {
            return Some(format!("{} cannot be examined", prefix.display()));
        };
        let ft = m.file_type();
        if !last && !ft.is_dir() && !ft.is_symlink() {
            return Some(format!("{} is not a directory", prefix.display()));
        }
        if m.uid() != 0 {
            return Some(format!("{} is owned by uid {}", prefix.display(), m.uid()));
        }
        let mode = m.permissions().mode();
        let sticky_dir = ft.is_dir() && mode & 0o1000 != 0;
        if (ft.is_dir() && !sticky_dir) || ft.is_file() {
            if m.gid() != 0 && mode & 0o020 != 0 {
                return Some(format!(
                    "{} is writable by group {}",
                    prefix.display(),
                    m.gid()
                ));
            }
            if mode & 0o002 != 0 {
                return Some(format!("{} is world-writable", prefix.display()));
            }
        }
    }
    None
}
