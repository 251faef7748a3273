//! The crate's error type.

use std::io;

/// Everything that can go wrong configuring addresses, links and routes, or announcing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused a netlink request.
    #[error("cannot {op}: {meaning} (errno {errno}){}", if hint.is_empty() { String::new() } else { format!("; {hint}") })]
    Netlink {
        /// What was attempted, naming the interface and address.
        op: String,
        /// The positive errno.
        errno: i32,
        /// The errno's meaning.
        meaning: String,
        /// What usually causes it here (may be empty).
        hint: &'static str,
    },
    /// A netlink transport failure (no errno).
    #[error("cannot {op}: {detail}")]
    Transport {
        /// What was attempted.
        op: String,
        /// The rtnetlink error.
        detail: String,
    },
    /// The interface does not exist.
    #[error("interface {0} does not exist in this network namespace")]
    NoSuchInterface(String),
    /// An interface exists with the wanted name but is not what we would create.
    #[error("interface {name} exists but {detail}; not touching it")]
    Conflict {
        /// The interface.
        name: String,
        /// How it differs.
        detail: String,
    },
    /// A socket or runtime operation failed.
    #[error("cannot {op}: {source}{}", if hint.is_empty() { String::new() } else { format!("; {hint}") })]
    Io {
        /// What was attempted.
        op: String,
        /// What usually causes it here (may be empty).
        hint: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

pub(crate) fn netlink_error(op: String, e: rtnetlink::Error) -> Error {
    if let rtnetlink::Error::NetlinkError(msg) = &e {
        if let Some(code) = msg.code {
            let errno = -code.get();
            return Error::Netlink {
                op,
                errno,
                meaning: io::Error::from_raw_os_error(errno).to_string(),
                hint: hint(errno),
            };
        }
    }
    Error::Transport {
        op,
        detail: e.to_string(),
    }
}

fn hint(errno: i32) -> &'static str {
    match errno {
        libc::EPERM | libc::EACCES => "needs CAP_NET_ADMIN in the interface's network namespace",
        libc::EEXIST => "it already exists with different parameters",
        libc::ENODEV => "the interface does not exist (or was deleted meanwhile)",
        libc::EADDRNOTAVAIL => "the address is not configured there",
        libc::EOPNOTSUPP => {
            "the kernel lacks the needed module (macvlan, ipip) or the device does not support it"
        }
        libc::ENETUNREACH => "the gateway is not reachable through a directly connected network",
        libc::ESRCH => "no such route",
        libc::EINVAL => "the kernel rejected the parameters",
        libc::EBUSY => {
            "the device is busy (for macvlan: the parent already has an incompatible mode)"
        }
        _ => "",
    }
}
