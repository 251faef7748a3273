//! Interface names and the `all` / `default` / interface scope of a `conf` sysctl.

use core::fmt;
use core::str::FromStr;

/// Longest interface name the kernel accepts: `IFNAMSIZ` (16) minus the terminating NUL.
pub const IFNAME_MAX: usize = 15;

/// Why a string is not a valid Linux interface name.
///
/// The rules are the kernel's `dev_valid_name()` (net/core/dev.c), plus the two names that would
/// collide with the sysctl directories `conf/all` and `conf/default`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("interface name is empty")]
    Empty,
    /// The name is longer than [`IFNAME_MAX`] bytes.
    #[error(
        "interface name {name:?} is {len} bytes long; the kernel allows at most 15 (IFNAMSIZ 16 with the NUL)"
    )]
    TooLong {
        /// The rejected name.
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// `.` and `..` are not valid names.
    #[error("interface name {0:?} is not allowed (it is a path component)")]
    Dots(String),
    /// The name contains `/`, `:` or whitespace.
    #[error(
        "interface name {name:?} contains {ch:?}, which the kernel rejects in device names (`/`, `:` and whitespace){hint}"
    )]
    BadChar {
        /// The rejected name.
        name: String,
        /// The offending character.
        ch: char,
        /// Extra hint (for `:`: address labels such as `lo:0` are not devices).
        hint: &'static str,
    },
    /// `all` and `default` name the sysctl directories, not devices.
    #[error(
        "{0:?} names the sysctl directory conf/{0}, not an interface; use Scope::All or Scope::Default"
    )]
    Reserved(String),
}

/// A validated Linux network interface name, such as `eth0`, `tunl0` or the VLAN `eth0.100`.
///
/// In `/proc/sys/net/ipv4/conf/` the directory keeps the dot (`eth0.100`); in the dotted sysctl
/// notation (`net.ipv4.conf.eth0/100.arp_ignore`) the dot is written as `/`. Use
/// [`IfName::from_sysctl_component`] and [`IfName::sysctl_component`] for that form.
///
/// ```
/// use lvs_sysctl::IfName;
/// let vlan = IfName::new("eth0.100")?;
/// assert_eq!(vlan.sysctl_component(), "eth0/100");
/// assert_eq!(IfName::from_sysctl_component("eth0/100")?, vlan);
/// assert!(IfName::new("lo:0").is_err()); // an address label, not a device
/// # Ok::<(), lvs_sysctl::NameError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfName(String);

impl IfName {
    /// Validates `name` with the kernel's rules.
    pub fn new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > IFNAME_MAX {
            return Err(NameError::TooLong {
                name: name.to_owned(),
                len: name.len(),
            });
        }
        if name == "." || name == ".." {
            return Err(NameError::Dots(name.to_owned()));
        }
        if let Some(ch) = name
            .chars()
            .find(|c| *c == '/' || *c == ':' || c.is_whitespace())
        {
            let hint = if ch == ':' {
                " (a name like lo:0 is an address label on lo, not a device)"
            } else {
                ""
            };
            return Err(NameError::BadChar {
                name: name.to_owned(),
                ch,
                hint,
            });
        }
        if name == "all" || name == "default" {
            return Err(NameError::Reserved(name.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// Parses the interface component of a dotted sysctl name, where `/` stands for `.`.
    pub fn from_sysctl_component(component: &str) -> Result<Self, NameError> {
        Self::new(&component.replace('/', "."))
    }

    /// The interface component for the dotted sysctl notation (`.` written as `/`).
    pub fn sysctl_component(&self) -> String {
        self.0.replace('.', "/")
    }

    /// The name as the kernel knows it (and as the `/proc/sys` directory is called).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IfName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for IfName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Which copy of a `conf` parameter a key addresses.
///
/// The kernel keeps one value per interface plus `all` (combined with the interface value by a
/// per-parameter rule, see [`crate::Rule`]) and `default` (copied into new interfaces, and also
/// into existing interfaces whose value was never written explicitly; see [`crate::effective`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `conf/all`.
    All,
    /// `conf/default`.
    Default,
    /// `conf/<interface>`.
    Iface(IfName),
}

impl Scope {
    /// The directory name under `/proc/sys/net/ipv{4,6}/conf/`.
    pub fn dir_name(&self) -> &str {
        match self {
            Self::All => "all",
            Self::Default => "default",
            Self::Iface(n) => n.as_str(),
        }
    }

    /// The component in the dotted sysctl notation.
    pub fn sysctl_component(&self) -> String {
        match self {
            Self::Iface(n) => n.sysctl_component(),
            other => other.dir_name().to_owned(),
        }
    }

    /// Parses a dotted-notation component: `all`, `default` or an interface (`/` for `.`).
    pub fn from_sysctl_component(c: &str) -> Result<Self, NameError> {
        match c {
            "all" => Ok(Self::All),
            "default" => Ok(Self::Default),
            other => IfName::from_sysctl_component(other).map(Self::Iface),
        }
    }

    /// Parses a `/proc/sys` directory name: `all`, `default` or an interface (dots kept).
    pub fn from_dir_name(c: &str) -> Result<Self, NameError> {
        match c {
            "all" => Ok(Self::All),
            "default" => Ok(Self::Default),
            other => IfName::new(other).map(Self::Iface),
        }
    }

    /// The interface, if this scope is one.
    pub fn iface(&self) -> Option<&IfName> {
        match self {
            Self::Iface(n) => Some(n),
            _ => None,
        }
    }
}

impl From<IfName> for Scope {
    fn from(n: IfName) -> Self {
        Self::Iface(n)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for n in [
            "eth0",
            "lo",
            "tunl0",
            "eth0.100",
            "vrrp.17",
            "a",
            "123456789012345",
            "br-lan_1",
        ] {
            let name = IfName::new(n).unwrap();
            assert_eq!(name.as_str(), n);
            assert_eq!(name.to_string(), n);
        }
    }

    #[test]
    fn invalid_names() {
        assert_eq!(IfName::new(""), Err(NameError::Empty));
        assert!(matches!(
            IfName::new("1234567890123456"),
            Err(NameError::TooLong { len: 16, .. })
        ));
        assert!(matches!(IfName::new("."), Err(NameError::Dots(_))));
        assert!(matches!(IfName::new(".."), Err(NameError::Dots(_))));
        assert!(matches!(
            IfName::new("a/b"),
            Err(NameError::BadChar { ch: '/', .. })
        ));
        assert!(matches!(
            IfName::new("a b"),
            Err(NameError::BadChar { ch: ' ', .. })
        ));
        assert!(matches!(
            IfName::new("a\tb"),
            Err(NameError::BadChar { ch: '\t', .. })
        ));
        let e = IfName::new("lo:0").unwrap_err();
        assert!(e.to_string().contains("address label"), "{e}");
        assert!(matches!(IfName::new("all"), Err(NameError::Reserved(_))));
        assert!(matches!(
            IfName::new("default"),
            Err(NameError::Reserved(_))
        ));
        // "..." is a legal (if odd) name: only "." and ".." are refused by the kernel.
        assert!(IfName::new("...").is_ok());
    }

    #[test]
    fn vlan_names_in_both_notations() {
        let n = IfName::from_sysctl_component("eth0/100").unwrap();
        assert_eq!(n.as_str(), "eth0.100");
        assert_eq!(n.sysctl_component(), "eth0/100");
        assert_eq!(
            Scope::from_sysctl_component("eth0/100").unwrap(),
            Scope::Iface(n.clone())
        );
        assert_eq!(Scope::from_dir_name("eth0.100").unwrap(), Scope::Iface(n));
        assert_eq!(Scope::from_sysctl_component("all").unwrap(), Scope::All);
        assert_eq!(Scope::from_dir_name("default").unwrap(), Scope::Default);
    }
}
