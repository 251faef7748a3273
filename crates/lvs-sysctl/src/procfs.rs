//! Reading and writing sysctls through a procfs root that tests can replace with a directory.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::key::{Ipv4Conf, Ipv6Conf, Key, Param};
use crate::name::{IfName, Scope};

/// Anything that can answer "what is the value of this key?": the live [`Procfs`] or a
/// [`Snapshot`] taken from it (or built by hand in tests).
pub trait Source {
    /// The current value of `key`.
    fn get(&self, key: &Key) -> Result<i32, Error>;
    /// The interfaces that have a `conf` directory for `family` (`"ipv4"` or `"ipv6"`).
    fn interfaces(&self, family: &str) -> Result<BTreeSet<IfName>, Error>;
}

/// The sysctl tree, rooted at `/proc/sys` or, for tests, at any directory laid out the same way.
///
/// `/proc/sys/net` belongs to the network namespace of the thread that opens the files, so a
/// `Procfs::system()` used on a thread that has `setns(2)`'d into a namespace reads and writes
/// that namespace's values.
///
/// ```
/// use lvs_sysctl::{IfName, Ipv4Conf, Key, Procfs, Scope, Source};
/// let dir = tempfile::tempdir()?;
/// let sys = Procfs::fake(dir.path(), &["eth0"])?; // kernel defaults, as in a fresh namespace
/// let key = Key::ipv4(Scope::Iface(IfName::new("eth0")?), Ipv4Conf::ArpIgnore);
/// assert_eq!(sys.get(&key)?, 0);
/// sys.write(&key, 1)?;
/// assert_eq!(sys.get(&key)?, 1);
/// assert!(sys.write(&key, 5).is_err()); // reserved value, refused before touching the file
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procfs {
    root: PathBuf,
}

impl Procfs {
    /// The running kernel's tree, `/proc/sys`.
    pub fn system() -> Self {
        Self::at("/proc/sys")
    }

    /// A tree rooted at `root` (a directory containing `net/ipv4/...`).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds `key`.
    pub fn file(&self, key: &Key) -> PathBuf {
        self.root.join(key.path())
    }

    /// Reads `key`.
    pub fn read(&self, key: &Key) -> Result<i32, Error> {
        let path = self.file(key);
        let text = std::fs::read_to_string(&path).map_err(|e| self.io_error(key, "read", e))?;
        text.trim().parse().map_err(|_| Error::Unparsable {
            key: key.clone(),
            path,
            text: text.trim().to_owned(),
        })
    }

    /// Validates `value` for `key`, then writes it.
    pub fn write(&self, key: &Key, value: i32) -> Result<(), Error> {
        key.validate(value)?;
        self.write_unchecked(key, value)
    }

    /// Writes `value` without range validation. Used to restore a recorded value exactly, even
    /// one outside the documented range (such as arp_ignore 5) that the kernel had accepted.
    pub fn write_unchecked(&self, key: &Key, value: i32) -> Result<(), Error> {
        let path = self.file(key);
        // Never create files: the kernel's tree has them all, and a fake tree should too.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| self.io_error(key, "write", e))?;
        io::Write::write_all(&mut f, format!("{value}\n").as_bytes())
            .map_err(|e| self.io_error(key, "write", e))
    }

    /// Whether the interface has a `conf` directory for the key's family.
    pub fn has_scope(&self, key: &Key) -> bool {
        self.file(key).parent().is_some_and(Path::is_dir)
    }

    fn io_error(&self, key: &Key, op: &'static str, source: io::Error) -> Error {
        let path = self.file(key);
        if source.kind() == io::ErrorKind::NotFound {
            if let Some(Scope::Iface(iface)) = key.scope() {
                if !self.has_scope(key) {
                    return Error::NoSuchInterface {
                        iface: iface.clone(),
                        family: key.param().map_or("ipv4", Param::family),
                    };
                }
            }
            return Error::NoSuchKey {
                key: key.clone(),
                path,
            };
        }
        Error::Io {
            op,
            key: key.clone(),
            path,
            hint: io_hint(&source),
            source,
        }
    }

    /// Creates a fake tree under `root` with the kernel's defaults for a fresh network namespace:
    /// `all`, `default`, `lo` and the given interfaces, every parameter this crate knows, all 0
    /// except IPv6 `accept_dad` (1 on `default` and interfaces, -1 on `lo`), `dad_transmits` 1,
    /// `accept_ra` 1, `accept_redirects` 1 and `keep_addr_on_down` 0. Meant for tests.
    pub fn fake(root: &Path, ifaces: &[&str]) -> io::Result<Self> {
        let sys = Self::at(root);
        std::fs::create_dir_all(root.join("net/ipv4"))?;
        std::fs::write(sys.file(&Key::IpForward), "0\n")?;
        for name in ifaces.iter().copied().chain(["lo"]) {
            let iface = IfName::new(name).map_err(io::Error::other)?;
            sys.fake_interface(&iface)?;
        }
        for scope in [Scope::All, Scope::Default] {
            sys.fake_scope(&scope, false)?;
        }
        Ok(sys)
    }

    /// Adds an interface to a fake tree (as if it had just been created), with default values.
    pub fn fake_interface(&self, iface: &IfName) -> io::Result<()> {
        self.fake_scope(&Scope::Iface(iface.clone()), iface.as_str() == "lo")
    }

    /// Removes an interface from a fake tree (as if it had been deleted).
    pub fn fake_remove_interface(&self, iface: &IfName) -> io::Result<()> {
        for fam in ["ipv4", "ipv6"] {
            let dir = self
                .root
                .join("net")
                .join(fam)
                .join("conf")
                .join(iface.as_str());
            if dir.exists() {
                std::fs::remove_dir_all(dir)?;
            }
        }
        Ok(())
    }

    fn fake_scope(&self, scope: &Scope, loopback: bool) -> io::Result<()> {
        for p in Ipv4Conf::ALL {
            let key = Key::ipv4(scope.clone(), p);
            let v = i32::from(p == Ipv4Conf::AcceptRedirects);
            std::fs::create_dir_all(self.file(&key).parent().expect("conf dir"))?;
            std::fs::write(self.file(&key), format!("{v}\n"))?;
        }
        for p in Ipv6Conf::ALL {
            let key = Key::ipv6(scope.clone(), p);
            let v = match p {
                Ipv6Conf::AcceptDad if loopback => -1,
                Ipv6Conf::AcceptDad => i32::from(*scope != Scope::All),
                Ipv6Conf::DadTransmits | Ipv6Conf::AcceptRa => 1,
                _ => 0,
            };
            std::fs::create_dir_all(self.file(&key).parent().expect("conf dir"))?;
            std::fs::write(self.file(&key), format!("{v}\n"))?;
        }
        Ok(())
    }
}

fn io_hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(1 | 13) => {
            "writing sysctls needs root (CAP_NET_ADMIN in the namespace that owns /proc/sys/net)"
        }
        Some(30) => {
            "/proc/sys is mounted read-only (a container without privileges over its sysctls)"
        }
        Some(22) => "the kernel rejected the value",
        _ => "",
    }
}

impl Source for Procfs {
    fn get(&self, key: &Key) -> Result<i32, Error> {
        self.read(key)
    }

    fn interfaces(&self, family: &str) -> Result<BTreeSet<IfName>, Error> {
        let dir = self.root.join("net").join(family).join("conf");
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            // IPv6 disabled at boot: no tree at all, so no interfaces.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
            Err(source) => {
                return Err(Error::ListInterfaces {
                    path: dir,
                    hint: io_hint(&source),
                    source,
                });
            }
        };
        let mut out = BTreeSet::new();
        for entry in rd {
            let entry = entry.map_err(|source| Error::ListInterfaces {
                path: dir.clone(),
                hint: io_hint(&source),
                source,
            })?;
            if let Some(Ok(Scope::Iface(n))) = entry.file_name().to_str().map(Scope::from_dir_name)
            {
                out.insert(n);
            }
        }
        Ok(out)
    }
}

/// The values of every parameter this crate knows, for `all`, `default` and every interface,
/// read at one moment. Plans and diagnostics are pure functions of a snapshot.
///
/// ```
/// use lvs_sysctl::{Ipv4Conf, Key, Scope, Snapshot, Source};
/// let mut snap = Snapshot::default();
/// snap.set(Key::ipv4(Scope::All, Ipv4Conf::ArpIgnore), 1);
/// assert_eq!(snap.get(&Key::ipv4(Scope::All, Ipv4Conf::ArpIgnore))?, 1);
/// # Ok::<(), lvs_sysctl::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    values: BTreeMap<Key, i32>,
}

impl Snapshot {
    /// Reads every known key from `source`. Keys that do not exist (an older kernel without
    /// `addr_gen_mode`, IPv6 disabled at boot) are left out.
    pub fn capture(source: &impl Source) -> Result<Self, Error> {
        let mut snap = Self::default();
        let mut keys = vec![Key::IpForward];
        for (family, params) in [
            ("ipv4", Ipv4Conf::ALL.map(Param::V4).to_vec()),
            ("ipv6", Ipv6Conf::ALL.map(Param::V6).to_vec()),
        ] {
            let scopes = [Scope::All, Scope::Default]
                .into_iter()
                .chain(source.interfaces(family)?.into_iter().map(Scope::Iface));
            for scope in scopes {
                keys.extend(params.iter().map(|p| p.key(scope.clone())));
            }
        }
        for key in keys {
            match source.get(&key) {
                Ok(v) => {
                    snap.values.insert(key, v);
                }
                // Interfaces can vanish while we read; missing keys are just absent.
                Err(Error::NoSuchKey { .. } | Error::NoSuchInterface { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(snap)
    }

    /// Sets a value (for building snapshots by hand). Adding an interface key also makes the
    /// interface appear in [`Source::interfaces`].
    pub fn set(&mut self, key: Key, value: i32) -> &mut Self {
        self.values.insert(key, value);
        self
    }

    /// Every key and value.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, i32)> {
        self.values.iter().map(|(k, v)| (k, *v))
    }

    /// The value of `key`, if present.
    pub fn value(&self, key: &Key) -> Option<i32> {
        self.values.get(key).copied()
    }
}

impl Source for Snapshot {
    fn get(&self, key: &Key) -> Result<i32, Error> {
        self.value(key).ok_or_else(|| match key.scope() {
            Some(Scope::Iface(iface))
                if !self.iter().any(|(k, _)| {
                    k.scope() == key.scope()
                        && k.param().map(Param::family) == key.param().map(Param::family)
                }) =>
            {
                Error::NoSuchInterface {
                    iface: iface.clone(),
                    family: key.param().map_or("ipv4", Param::family),
                }
            }
            _ => Error::NoSuchKey {
                key: key.clone(),
                path: key.path(),
            },
        })
    }

    fn interfaces(&self, family: &str) -> Result<BTreeSet<IfName>, Error> {
        Ok(self
            .values
            .keys()
            .filter(|k| k.param().map(Param::family) == Some(family))
            .filter_map(|k| k.scope().and_then(Scope::iface).cloned())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth0() -> IfName {
        IfName::new("eth0").unwrap()
    }

    #[test]
    fn fake_tree_has_kernel_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let sys = Procfs::fake(dir.path(), &["eth0", "eth0.100"]).unwrap();
        assert_eq!(sys.read(&Key::IpForward).unwrap(), 0);
        let lo = Scope::Iface(IfName::new("lo").unwrap());
        assert_eq!(sys.read(&Key::ipv6(lo, Ipv6Conf::AcceptDad)).unwrap(), -1);
        assert_eq!(
            sys.read(&Key::ipv6(Scope::All, Ipv6Conf::AcceptDad))
                .unwrap(),
            0
        );
        assert_eq!(
            sys.read(&Key::ipv6(eth0().into(), Ipv6Conf::AcceptDad))
                .unwrap(),
            1
        );
        let ifs = sys.interfaces("ipv4").unwrap();
        let names: Vec<_> = ifs.iter().map(IfName::as_str).collect();
        assert_eq!(names, ["eth0", "eth0.100", "lo"]);
        assert!(
            dir.path()
                .join("net/ipv4/conf/eth0.100/arp_ignore")
                .is_file()
        );
    }

    #[test]
    fn write_validates_and_never_creates_files() {
        let dir = tempfile::tempdir().unwrap();
        let sys = Procfs::fake(dir.path(), &["eth0"]).unwrap();
        let k = Key::ipv4(eth0().into(), Ipv4Conf::ArpAnnounce);
        assert!(matches!(sys.write(&k, 3), Err(Error::Value(_))));
        assert_eq!(
            sys.read(&k).unwrap(),
            0,
            "rejected value must not be written"
        );
        sys.write(&k, 2).unwrap();
        assert_eq!(sys.read(&k).unwrap(), 2);
        sys.write_unchecked(&k, 7).unwrap();
        assert_eq!(sys.read(&k).unwrap(), 7);

        let missing = Key::ipv4(
            Scope::Iface(IfName::new("eth9").unwrap()),
            Ipv4Conf::ArpIgnore,
        );
        let e = sys.write(&missing, 1).unwrap_err();
        assert!(
            matches!(&e, Error::NoSuchInterface { iface, .. } if iface.as_str() == "eth9"),
            "{e}"
        );
        assert!(!sys.file(&missing).exists());
        let e = sys.read(&missing).unwrap_err();
        assert!(e.to_string().contains("eth9"), "{e}");

        std::fs::remove_file(sys.file(&k)).unwrap();
        assert!(matches!(sys.read(&k), Err(Error::NoSuchKey { .. })));
    }

    #[test]
    fn unparsable_value_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let sys = Procfs::fake(dir.path(), &[]).unwrap();
        std::fs::write(sys.file(&Key::IpForward), "yes\n").unwrap();
        let e = sys.read(&Key::IpForward).unwrap_err();
        assert!(
            matches!(&e, Error::Unparsable { text, .. } if text == "yes"),
            "{e}"
        );
    }

    #[test]
    fn snapshot_capture_reads_everything_and_tolerates_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let sys = Procfs::fake(dir.path(), &["eth0"]).unwrap();
        // An older kernel without addr_gen_mode.
        std::fs::remove_file(sys.file(&Key::ipv6(eth0().into(), Ipv6Conf::AddrGenMode))).unwrap();
        sys.write(&Key::ipv4(Scope::All, Ipv4Conf::RpFilter), 1)
            .unwrap();
        let snap = Snapshot::capture(&sys).unwrap();
        assert_eq!(
            snap.get(&Key::ipv4(Scope::All, Ipv4Conf::RpFilter))
                .unwrap(),
            1
        );
        assert_eq!(
            snap.value(&Key::ipv6(eth0().into(), Ipv6Conf::AddrGenMode)),
            None
        );
        assert_eq!(
            snap.interfaces("ipv4").unwrap(),
            sys.interfaces("ipv4").unwrap()
        );
        // 3 scopes of fixed keys + 2 interfaces, 8 IPv4 and 7 IPv6 params, minus the removed one.
        assert_eq!(snap.iter().count(), 1 + 4 * 8 + 4 * 7 - 1);
        let e = snap
            .get(&Key::ipv4(
                Scope::Iface(IfName::new("eth5").unwrap()),
                Ipv4Conf::ArpIgnore,
            ))
            .unwrap_err();
        assert!(matches!(e, Error::NoSuchInterface { .. }), "{e}");
    }

    #[test]
    fn snapshot_without_ipv6_tree() {
        let dir = tempfile::tempdir().unwrap();
        let sys = Procfs::fake(dir.path(), &["eth0"]).unwrap();
        std::fs::remove_dir_all(dir.path().join("net/ipv6")).unwrap();
        let snap = Snapshot::capture(&sys).unwrap();
        assert!(snap.interfaces("ipv6").unwrap().is_empty());
        assert_eq!(snap.interfaces("ipv4").unwrap().len(), 2);
    }
}
