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

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
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
    argv: Vec<OsString>,
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
        let mut argv = split_command(command)?;
        let Some(prog) = argv.first() else {
            return Err("empty command".to_owned());
        };
        let (uid, gid) = match run_as {
            Some(r) => resolve(r)?,
            None => self.default_user()?,
        };
        let path = find(prog).ok_or_else(|| format!("{}: not found", prog.to_string_lossy()))?;
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
        argv[0] = path.into_os_string();
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

/// A script's command line (the configuration's string, its own quotes and escapes already
/// taken out) as keepalived splits it into the program and its arguments, never through a
/// shell: unquoted blanks separate arguments; `'...'` and `"..."` keep blanks (and the other
/// kind of quote) inside one argument and are removed, parts next to each other join, `''` is an
/// empty argument; backslash escapes are those of keepalived.conf(5)'s quoted strings (`\a`,
/// `\b`, `\E`, `\f`, `\n`, `\r`, `\t`, `\v`, up to three octal digits, `\x` with up to two
/// hex digits, `\cC` for control-C, `\C` for any other C). keepalived 2.2.7 reads more than two
/// hex digits after `\x` (`\x20f` is byte 0x0f there, a space and `f` here, as the manual says).
///
/// # Errors
/// A quote left open.
fn split_command(command: &str) -> Result<Vec<OsString>, String> {
    let b = command.as_bytes();
    let mut args = Vec::new();
    let mut word: Option<Vec<u8>> = None;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        match (c, quote) {
            (b' ' | b'\t' | b'\n' | b'\r', None) => {
                if let Some(w) = word.take() {
                    args.push(OsString::from_vec(w));
                }
            }
            (b'\'' | b'"', None) => {
                quote = Some(c);
                word.get_or_insert_with(Vec::new);
            }
            (q, Some(open)) if q == open => quote = None,
            (b'\\', _) => {
                let w = word.get_or_insert_with(Vec::new);
                i = escape(b, i, w);
            }
            _ => word.get_or_insert_with(Vec::new).push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {} quote in `{command}`", q as char));
    }
    if let Some(w) = word {
        args.push(OsString::from_vec(w));
    }
    Ok(args)
}

/// The escape after a backslash at `b[i..]` into `out`; returns the index after it.
fn escape(b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let Some(&c) = b.get(i) else {
        out.push(b'\\');
        return i;
    };
    let digits = |radix: u32, max: usize| {
        let n = b[i + 1..]
            .iter()
            .take(max)
            .take_while(|d| (**d as char).is_digit(radix))
            .count();
        let v = b[i + 1..i + 1 + n].iter().fold(0u32, |v, d| {
            v * radix + (*d as char).to_digit(radix).unwrap_or(0)
        });
        (n, v)
    };
    match c {
        b'a' => out.push(0x07),
        b'b' => out.push(0x08),
        b'E' => out.push(0x1b),
        b'f' => out.push(0x0c),
        b'n' => out.push(b'\n'),
        b'r' => out.push(b'\r'),
        b't' => out.push(b'\t'),
        b'v' => out.push(0x0b),
        b'x' => {
            let (n, v) = digits(16, 2);
            if n == 0 {
                out.push(b'x');
            } else {
                out.push(v as u8);
            }
            return i + 1 + n;
        }
        b'0'..=b'7' => {
            let (n, v) = digits(8, 2);
            let v = (c - b'0') as u32 * 8u32.pow(n as u32) + v;
            out.push(v as u8);
            return i + 1 + n;
        }
        b'c' if i + 1 < b.len() => {
            out.push(b[i + 1] & 0x1f);
            return i + 2;
        }
        _ => out.push(c),
    }
    i + 1
}

/// A program name with a `/` as is; a bare name searched in `PATH`.
fn find(prog: &OsStr) -> Option<PathBuf> {
    if prog.as_bytes().contains(&b'/') {
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

#[cfg(test)]
mod tests {
    use super::split_command;

    fn split(s: &str) -> Vec<String> {
        split_command(s)
            .unwrap()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn blanks_separate_and_quotes_group() {
        // What keepalived 2.2.7 passed to a notify script for the same string.
        assert_eq!(
            split("/x.sh '\"s p a c e \"' SG1.low a\tb 'c d'e f g \"h i\" master"),
            [
                "/x.sh",
                "\"s p a c e \"",
                "SG1.low",
                "a",
                "b",
                "c de",
                "f",
                "g",
                "h i",
                "master"
            ]
        );
        assert_eq!(split("  /bin/true  "), ["/bin/true"]);
        assert_eq!(split("a '' b"), ["a", "", "b"]);
        assert_eq!(split("\"it's\" 'say \"hi\"'"), ["it's", "say \"hi\""]);
        assert!(split("").is_empty());
    }

    #[test]
    fn escapes_are_those_of_quoted_strings() {
        assert_eq!(split(r"' spaces\x20f\x69le '"), [" spaces file "]);
        assert_eq!(split(r"a\ b"), ["a b"]);
        assert_eq!(split(r"\101\102 \t\cA\E\q\\"), ["AB", "\t\u{1}\u{1b}q\\"]);
        assert_eq!(split(r"'\''"), ["'"]);
        assert_eq!(split(r"\x"), ["x"]);
        assert_eq!(split("end\\"), ["end\\"]);
    }

    #[test]
    fn an_open_quote_is_an_error() {
        let e = split_command("/x.sh 'a b").unwrap_err();
        assert!(e.contains("unterminated ' quote"), "{e}");
        assert!(split_command("\"a").is_err());
    }
}
