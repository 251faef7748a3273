//! systemd's notification protocol (`Type=notify`, `WatchdogSec=`) without libsystemd.
//!
//! systemd passes `NOTIFY_SOCKET` (a path, or `@name` for an abstract socket) and, when the unit
//! has `WatchdogSec=`, `WATCHDOG_USEC` (and `WATCHDOG_PID`). The daemon sends newline-separated
//! `KEY=value` datagrams: `READY=1` once every subsystem is up, `RELOADING=1` … `READY=1` around a
//! reload, `STOPPING=1` at stop, `STATUS=…` for `systemctl status`, `WATCHDOG=1` at half the
//! watchdog period. See sd_notify(3).
//!
//! ```
//! use std::os::unix::net::UnixDatagram;
//! let dir = std::env::temp_dir().join(format!("lvsd-notify-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("notify.sock");
//! let listener = UnixDatagram::bind(&path)?;
//! let n = lvsd::notify::Notifier::from_vars(Some(path.as_os_str()), Some("2000000"), None, 1)?
//!     .expect("NOTIFY_SOCKET is set");
//! assert_eq!(n.watchdog_interval(), Some(std::time::Duration::from_secs(1)));
//! n.send("READY=1")?;
//! let mut buf = [0; 64];
//! let len = listener.recv(&mut buf)?;
//! assert_eq!(&buf[..len], b"READY=1");
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::ffi::OsStr;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// A connection to the service manager's notification socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From this process's environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`).
    /// `Ok(None)` when `NOTIFY_SOCKET` is unset (not started by systemd as `Type=notify`).
    ///
    /// # Errors
    /// An unusable `NOTIFY_SOCKET` value, or no datagram socket.
    pub fn from_env() -> io::Result<Option<Self>> {
        let socket = std::env::var_os("NOTIFY_SOCKET");
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        Self::from_vars(
            socket.as_deref(),
            usec.as_deref(),
            pid.as_deref(),
            std::process::id(),
        )
    }

    /// From explicit values (see [`Notifier::from_env`]). The watchdog is on when
    /// `watchdog_usec` is a positive number and `watchdog_pid`, when given, equals `pid`
    /// (sd_watchdog_enabled(3)).
    ///
    /// # Errors
    /// An empty or too long socket address, a `vsock:` address (not supported), or no socket.
    pub fn from_vars(
        notify_socket: Option<&OsStr>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
        pid: u32,
    ) -> io::Result<Option<Self>> {
        let Some(raw) = notify_socket else {
            return Ok(None);
        };
        let bytes = raw.as_bytes();
        let addr = match bytes.first() {
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "empty NOTIFY_SOCKET",
                ));
            }
            Some(b'@') => SocketAddr::from_abstract_name(&bytes[1..])?,
            Some(b'/') => SocketAddr::from_pathname(raw)?,
            Some(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!(
                        "NOTIFY_SOCKET {}: only absolute paths and @abstract names are supported",
                        raw.to_string_lossy()
                    ),
                ));
            }
        };
        let pid_matches = watchdog_pid.is_none_or(|p| p.trim().parse::<u32>() == Ok(pid));
        let watchdog = watchdog_usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|&u| u > 0 && pid_matches)
            .map(|u| Duration::from_micros(u / 2));
        Ok(Some(Self {
            socket: UnixDatagram::unbound()?,
            addr,
            watchdog,
        }))
    }

    /// Sends one notification (`READY=1`, `STATUS=…`, several lines joined by `\n`).
    ///
    /// # Errors
    /// The send failed (the service manager went away).
    pub fn send(&self, state: &str) -> io::Result<()> {
        self.socket.send_to_addr(state.as_bytes(), &self.addr)?;
        Ok(())
    }

    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, or `None` when the watchdog is
    /// off.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_socket_means_no_notifier() {
        assert!(
            Notifier::from_vars(None, Some("1000"), None, 1)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn watchdog_follows_sd_watchdog_enabled_rules() {
        let s = OsStr::new("/run/systemd/notify");
        let iv = |usec, pid| {
            Notifier::from_vars(Some(s), usec, pid, 42)
                .unwrap()
                .unwrap()
                .watchdog_interval()
        };
        assert_eq!(iv(Some("3000000"), None), Some(Duration::from_millis(1500)));
        assert_eq!(
            iv(Some("3000000"), Some("42")),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            iv(Some("3000000"), Some("43")),
            None,
            "another process's watchdog"
        );
        assert_eq!(iv(Some("0"), None), None);
        assert_eq!(iv(Some("soon"), None), None);
        assert_eq!(iv(None, None), None);
    }

    #[test]
    fn bad_addresses_are_refused() {
        assert!(Notifier::from_vars(Some(OsStr::new("")), None, None, 1).is_err());
        assert!(Notifier::from_vars(Some(OsStr::new("vsock:2:1")), None, None, 1).is_err());
        assert!(Notifier::from_vars(Some(OsStr::new("@abstract")), None, None, 1).is_ok());
    }

    #[test]
    fn abstract_names_are_reached() {
        let name = format!("lvsd-notify-test-{}", std::process::id());
        let listener =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        let n = Notifier::from_vars(Some(OsStr::new(&format!("@{name}"))), None, None, 1)
            .unwrap()
            .unwrap();
        n.send("STATUS=hello\nREADY=1").unwrap();
        let mut buf = [0; 64];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STATUS=hello\nREADY=1");
    }
}
