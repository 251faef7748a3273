//! The control socket behind `lvsd status`, and the SIGUSR1 dump.
//!
//! The daemon listens on a Unix stream socket (default [`DEFAULT_PATH`], mode 0600, removed at
//! exit). A client connects and reads the [`Status`] as one JSON document; the daemon closes the
//! connection after it. On SIGUSR1 the daemon writes the same JSON to a file ([`dump`]), as
//! keepalived writes `/tmp/keepalived.data`.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("lvsd-control-doc-{}", std::process::id()));
//! let path = dir.join("lvsd.sock");
//! let shared = lvsd::status::Shared::default();
//! shared.update(|s| s.daemon.pid = 42);
//! let control = lvsd::control::Control::bind(&path, shared)?;
//! let status = lvsd::control::query(&path)?;
//! assert_eq!(status.daemon.pid, 42);
//! drop(control); // removes the socket
//! assert!(!path.exists());
//! assert!(lvsd::control::query(&path).is_err());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::status::{Shared, Status};

/// Where the daemon listens unless `--control` says otherwise (systemd's `RuntimeDirectory=lvsd`).
pub const DEFAULT_PATH: &str = "/run/lvsd/lvsd.sock";

/// Where SIGUSR1 writes the status unless `--dump-file` says otherwise.
pub const DEFAULT_DUMP: &str = "/tmp/lvsd.json";

/// How long a client may take to read the status before the daemon gives up on it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// A listening control socket, served by its own thread; the socket file is removed on drop.
#[derive(Debug)]
pub struct Control {
    path: PathBuf,
    /// Device and inode of the socket file this daemon created: at exit only that file is
    /// removed, never a socket a newer daemon has put at the same path since.
    id: (u64, u64),
}

impl Control {
    /// Creates the socket at `path` (its directory too, when missing), mode 0600, and serves the
    /// status of `shared` to every client. A stale socket left by a crashed daemon is replaced;
    /// a socket that still answers is not.
    ///
    /// # Errors
    /// Another daemon answers on `path`, or the socket cannot be created.
    pub fn bind(path: &Path, shared: Shared) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{}: another lvsd answers there", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        let meta = std::fs::symlink_metadata(path)?;
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || serve(&listener, &shared))?;
        Ok(Self {
            path: path.to_owned(),
            id: (meta.dev(), meta.ino()),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let ours =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn serve(listener: &UnixListener, shared: &Shared) {
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_write_timeout(Some(CLIENT_TIMEOUT));
        let Ok(mut json) = serde_json::to_vec(&shared.snapshot()) else {
            continue;
        };
        json.push(b'\n');
        if let Err(e) = conn.write_all(&json) {
            tracing::debug!(error = %e, "control client went away");
        }
    }
}

/// `lvsd status`: connects to the daemon at `path` and reads its status.
///
/// # Errors
/// No daemon answers (`NotFound` / `ConnectionRefused`, with the path and a hint), the daemon
/// did not answer in time, or its answer is not a status.
pub fn query(path: &Path) -> io::Result<Status> {
    let mut conn = UnixStream::connect(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "no lvsd answers on {} ({e}); is the daemon running? (--control PATH)",
                path.display()
            ),
        )
    })?;
    conn.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    let mut text = String::new();
    conn.read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not an lvsd status: {e}", path.display()),
        )
    })
}

/// `lvsd status`: prints the daemon's status as pretty JSON on stdout, or the error on stderr;
/// returns the process exit code (0, or 1 when no daemon answers).
pub fn print_status(path: &Path) -> u8 {
    match query(path).and_then(|st| Ok(serde_json::to_string_pretty(&st)?)) {
        Ok(json) => {
            println!("{json}");
            0
        }
        Err(e) => {
            eprintln!("lvsd: {e}");
            1
        }
    }
}

/// SIGUSR1: writes `status` as pretty JSON to `path`, atomically (a new file beside it, then
/// renamed over it, so a reader never sees half a document and a symlink planted at `path` is
/// replaced, not followed).
///
/// # Errors
/// The file cannot be written.
pub fn dump(path: &Path, status: &Status) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        serde_json::to_writer_pretty(&mut f, status)?;
        f.write_all(b"\n")?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lvsd-control-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn socket_is_private_and_refuses_a_second_daemon() {
        let d = scratch("second");
        let path = d.join("s.sock");
        let c = Control::bind(&path, Shared::default()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let e = Control::bind(&path, Shared::default()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        drop(c);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn stale_socket_is_replaced() {
        let d = scratch("stale");
        let path = d.join("s.sock");
        drop(UnixListener::bind(&path).unwrap()); // file left behind, nobody listens
        assert!(path.exists());
        let shared = Shared::default();
        shared.update(|s| s.daemon.reloads = 7);
        let _c = Control::bind(&path, shared).unwrap();
        assert_eq!(query(&path).unwrap().daemon.reloads, 7);
        drop(_c);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn exit_leaves_a_newer_daemons_socket_alone() {
        let d = scratch("newer");
        let path = d.join("s.sock");
        let old = Control::bind(&path, Shared::default()).unwrap();
        // The old daemon hangs; an operator removes its socket and a new daemon starts.
        std::fs::remove_file(&path).unwrap();
        let shared = Shared::default();
        shared.update(|s| s.daemon.pid = 2);
        let new = Control::bind(&path, shared).unwrap();
        drop(old);
        assert_eq!(query(&path).unwrap().daemon.pid, 2);
        drop(new);
        assert!(!path.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn no_daemon_is_a_clear_error() {
        let e = query(Path::new("/nonexistent/lvsd.sock")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("is the daemon running"), "{e}");
    }

    #[test]
    fn dump_replaces_a_symlink_instead_of_following_it() {
        let d = scratch("dump");
        let target = d.join("victim");
        std::fs::write(&target, "keep").unwrap();
        let path = d.join("lvsd.json");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let mut st = Status::default();
        st.daemon.version = "x".into();
        dump(&path, &st).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        let back: Status = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, st);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
