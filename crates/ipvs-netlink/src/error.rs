//! Errors: the kernel's errno mapped to what it means for the request, with a hint.

use std::io;

use crate::message::Request;
use crate::types::{Destination, ServiceKey};

/// What a failed request was about, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Object {
    /// A service.
    Service(ServiceKey),
    /// A destination of a service.
    Dest(ServiceKey, std::net::SocketAddr),
    /// A sync daemon.
    Daemon,
    /// Global settings (timeouts, info, flush, zero all).
    Global,
}

impl core::fmt::Display for Object {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Service(k) => write!(f, "service {k}"),
            Self::Dest(k, a) => write!(f, "destination {a} of service {k}"),
            Self::Daemon => f.write_str("sync daemon"),
            Self::Global => f.write_str("IPVS"),
        }
    }
}

impl Object {
    /// The object a request acts on.
    pub fn of(req: &Request) -> Self {
        match req {
            Request::NewService(s) | Request::SetService(s) => Self::Service(s.key),
            Request::DelService(k) | Request::GetService(k) | Request::DumpDests(k) => {
                Self::Service(*k)
            }
            Request::Zero(Some(k)) => Self::Service(*k),
            Request::NewDest(k, d) | Request::SetDest(k, d) => Self::Dest(*k, dest_addr(d)),
            Request::DelDest(k, a) => Self::Dest(*k, *a),
            Request::NewDaemon(_) | Request::DelDaemon(_) | Request::DumpDaemons => Self::Daemon,
            _ => Self::Global,
        }
    }
}

fn dest_addr(d: &Destination) -> std::net::SocketAddr {
    d.addr
}

/// An error from the IPVS bindings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The generic-netlink family "IPVS" is not registered.
    #[error("IPVS is not available: load the ip_vs module (modprobe ip_vs)")]
    Unavailable,
    /// A socket-level failure (socket, send, recv).
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    /// The kernel rejected a request.
    #[error(transparent)]
    Kernel(Box<KernelError>),
    /// A reply could not be parsed.
    #[error(transparent)]
    Parse(#[from] crate::message::ParseError),
    /// The kernel's receive queue overflowed (ENOBUFS) while dumping and the dump could not
    /// be completed after retries.
    #[error("netlink receive buffer overrun (ENOBUFS) while {0}; retry")]
    Overrun(&'static str),
    /// The kernel did not answer a request (its ACK never came).
    #[error("no reply from the kernel for {0}")]
    NoReply(Object),
    /// An argument the kernel would reject, caught before sending.
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// A request the kernel answered with an errno, with what it means and a hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object}: {meaning} ({errno_name}){}", hint_suffix(.hint))]
pub struct KernelError {
    /// What the request was about.
    pub object: Object,
    /// Positive errno.
    pub errno: i32,
    /// `EEXIST`, `ESRCH`, ...
    pub errno_name: &'static str,
    /// What the errno means for this request.
    pub meaning: String,
    /// A hint to fix it, if there is one.
    pub hint: Option<String>,
    /// The kernel's extended-ack message, if any.
    pub ext_msg: Option<String>,
}

fn hint_suffix(h: &Option<String>) -> String {
    match h {
        Some(h) => format!(": {h}"),
        None => String::new(),
    }
}

impl Error {
    /// The errno, if the kernel returned one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel(k) => Some(k.errno),
            Self::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }

    /// Maps a kernel errno for `req` to a typed error with meaning and hint.
    pub fn from_errno(req: &Request, errno: i32, ext_msg: Option<String>) -> Self {
        let object = Object::of(req);
        let (meaning, hint): (String, Option<String>) = match errno {
            libc::EPERM | libc::EACCES => (
                "permission denied".into(),
                Some("IPVS needs CAP_NET_ADMIN (run as root)".into()),
            ),
            libc::EEXIST => match req {
                Request::NewDest(..) => ("destination already exists".into(), None),
                Request::NewDaemon(_) => ("sync daemon is already running".into(), None),
                _ => ("service already exists".into(), None),
            },
            libc::ESRCH => match req {
                Request::DelDaemon(_) => ("no sync daemon is running".into(), None),
                _ => ("no such service".into(), None),
            },
            libc::ENOENT => match req {
                Request::NewService(s) | Request::SetService(s) => {
                    let mut hint = format!(
                        "scheduler `{0}` not found: is the kernel module ip_vs_{0} available?",
                        s.scheduler.name()
                    );
                    if let Some(pe) = &s.pe_name {
                        hint.push_str(&format!(
                            " (or persistence engine `{pe}`: module ip_vs_pe_{pe})"
                        ));
                    }
                    (
                        "scheduler or persistence engine not found".into(),
                        Some(hint),
                    )
                }
                Request::SetDest(..) | Request::DelDest(..) => ("no such destination".into(), None),
                _ => ("not found".into(), None),
            },
            libc::EINVAL => match req {
                Request::NewDest(..) | Request::SetDest(..) => (
                    "invalid destination".into(),
                    Some(
                        "is the destination routable? (address not unicast, mixed address \
                         families need tunnel forwarding, GUE needs --tun-port, \
                         lower threshold above upper)"
                            .into(),
                    ),
                ),
                Request::NewDaemon(_) => (
                    "invalid sync daemon settings".into(),
                    Some(
                        "the interface must exist, the group must be multicast, and no \
                         mixed-family destinations may exist"
                            .into(),
                    ),
                ),
                Request::SetTimeouts(_) => ("invalid timeout value".into(), None),
                _ => (
                    "invalid operation".into(),
                    Some("possibly wrong module version or address not unicast".into()),
                ),
            },
            libc::ERANGE => (
                "value out of range".into(),
                Some("weight must be >= 0 and the lower threshold <= the upper one".into()),
            ),
            libc::EAFNOSUPPORT => (
                "address family not supported".into(),
                Some("is the kernel built with IPVS IPv6 support?".into()),
            ),
            libc::ENOMEM => ("memory allocation problem".into(), None),
            libc::EBUSY => ("resource busy".into(), None),
            libc::EOPNOTSUPP => ("operation not supported".into(), None),
            _ => (io::Error::from_raw_os_error(errno).to_string(), None),
        };
        let meaning = match &ext_msg {
            Some(m) if !m.is_empty() => format!("{meaning} ({m})"),
            _ => meaning,
        };
        Self::Kernel(Box::new(KernelError {
            object,
            errno,
            errno_name: errno_name(errno),
            meaning,
            hint,
            ext_msg,
        }))
    }
}

/// The symbolic name of an errno.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ERANGE => "ERANGE",
        libc::ENOBUFS => "ENOBUFS",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        _ => "errno",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::*;

    fn key() -> ServiceKey {
        ServiceKey::tcp("192.0.2.1:80".parse().unwrap())
    }

    #[test]
    fn eexist_names_the_service() {
        let e = Error::from_errno(
            &Request::NewService(Service::new(key())),
            libc::EEXIST,
            None,
        );
        assert_eq!(
            e.to_string(),
            "service -t 192.0.2.1:80: service already exists (EEXIST)"
        );
        assert_eq!(e.errno(), Some(libc::EEXIST));
    }

    #[test]
    fn enoent_on_scheduler_names_the_module() {
        let s = Service::new(key()).scheduler(Scheduler::from_name("bogus"));
        let e = Error::from_errno(&Request::NewService(s), libc::ENOENT, None);
        assert!(e.to_string().contains("ip_vs_bogus"), "{e}");
    }

    #[test]
    fn einval_on_dest_asks_about_routing() {
        let d = Destination::new("198.51.100.1:80".parse().unwrap());
        let e = Error::from_errno(&Request::NewDest(key(), d), libc::EINVAL, None);
        let s = e.to_string();
        assert!(s.contains("is the destination routable?"), "{s}");
        assert!(
            s.starts_with("destination 198.51.100.1:80 of service -t 192.0.2.1:80"),
            "{s}"
        );
    }

    #[test]
    fn eperm_mentions_cap_net_admin() {
        let e = Error::from_errno(&Request::Flush, libc::EPERM, None);
        assert!(e.to_string().contains("CAP_NET_ADMIN"), "{e}");
    }

    #[test]
    fn esrch_and_ext_ack() {
        let e = Error::from_errno(&Request::DelService(key()), libc::ESRCH, Some("x".into()));
        assert_eq!(
            e.to_string(),
            "service -t 192.0.2.1:80: no such service (x) (ESRCH)"
        );
    }

    #[test]
    fn unavailable_says_modprobe() {
        assert!(
            Error::Unavailable
                .to_string()
                .contains("load the ip_vs module")
        );
    }
}
