//! The lab's boot files: the kernel (decompressed once for a faster TCG boot) and a small initramfs
//! (busybox, the virtio/9p/overlay modules and the stage scripts), both cached by content.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};

use crate::util::find_program;

/// Modules stage 1 loads (with their dependencies, from modules.dep) to mount the host root.
const STAGE1_MODULES: &[&str] = &[
    "virtio_pci",
    "9pnet_virtio",
    "9p",
    "overlay",
    "virtio_console",
];

/// Bumped when the initramfs layout changes in a way the hashed inputs do not show.
const LAYOUT: &str = "lvs-lab initramfs v1";

const INIT: &str = include_str!("init.sh");
const STAGE2: &str = include_str!("stage2.sh");

/// An installed Debian kernel with IPVS modules.
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    /// `uname -r` of the kernel, e.g. `6.1.0-57-amd64`.
    pub(crate) version: String,
    /// `/boot/vmlinuz-<version>`.
    pub(crate) vmlinuz: PathBuf,
    /// `/lib/modules/<version>`.
    pub(crate) modules: PathBuf,
}

/// The files a VM boots from.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub(crate) kernel: Kernel,
    /// What `-kernel` gets: the decompressed ELF vmlinux (PVH boot) or, failing that, vmlinuz.
    pub(crate) boot_kernel: PathBuf,
    /// The initramfs (cpio newc, uncompressed).
    pub(crate) initrd: PathBuf,
}

/// Finds the newest kernel under /lib/modules that has a /boot/vmlinuz and the ip_vs module.
/// `LVS_LAB_KERNEL=<version>` picks one.
pub(crate) fn find_kernel() -> Result<Kernel> {
    let wanted = std::env::var("LVS_LAB_KERNEL").ok();
    let mut found = Vec::new();
    for entry in fs::read_dir("/lib/modules").into_iter().flatten().flatten() {
        let version = entry.file_name().to_string_lossy().into_owned();
        if wanted.as_ref().is_some_and(|w| *w != version) {
            continue;
        }
        let vmlinuz = PathBuf::from(format!("/boot/vmlinuz-{version}"));
        let modules = entry.path();
        let ipvs = modules.join("kernel/net/netfilter/ipvs");
        let has_ipvs = fs::read_dir(&ipvs)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("ip_vs.ko"))
            })
            .unwrap_or(false);
        if vmlinuz.is_file() && has_ipvs && modules.join("modules.dep").is_file() {
            found.push(Kernel {
                version,
                vmlinuz,
                modules,
            });
        }
    }
    found.sort_by_key(|k| version_key(&k.version));
    found.pop().with_context(|| match wanted {
        Some(w) => format!("LVS_LAB_KERNEL={w}: no /boot/vmlinuz-{w} with IPVS modules"),
        None => "no kernel with IPVS modules (/boot/vmlinuz-<v> and \
                 /lib/modules/<v>/kernel/net/netfilter/ipvs/ip_vs.ko); install linux-image-amd64"
            .to_string(),
    })
}

/// Sort key of a kernel version: its numbers in order (`6.1.0-57` → [6, 1, 0, 57]).
fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Builds (or finds in `cache`) the boot files for `kernel`.
pub(crate) fn prepare(cache: &Path, kernel: Kernel) -> Result<Image> {
    fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let boot_kernel = vmlinux(cache, &kernel)?;
    let initrd = initramfs(cache, &kernel)?;
    Ok(Image {
        kernel,
        boot_kernel,
        initrd,
    })
}

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut h = Md5::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Writes `data` to `path` through a temporary file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, data).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot rename to {}", path.display()))?;
    Ok(())
}

/// Removes cached files named `<prefix>*` other than `keep`.
fn prune(cache: &Path, prefix: &str, keep: &Path) {
    for e in fs::read_dir(cache).into_iter().flatten().flatten() {
        let p = e.path();
        if p != keep && e.file_name().to_string_lossy().starts_with(prefix) {
            let _ = fs::remove_file(p);
        }
    }
}

/// The decompressed kernel (an ELF with a PVH entry point that qemu boots directly), which saves
/// the ~5 s the compressed kernel spends unpacking itself under TCG. Falls back to vmlinuz.
fn vmlinux(cache: &Path, kernel: &Kernel) -> Result<PathBuf> {
    let bz = fs::read(&kernel.vmlinuz).with_context(|| {
        format!(
            "cannot read {} (root only on some systems)",
            kernel.vmlinuz.display()
        )
    })?;
    let out = cache.join(format!(
        "vmlinux-{}-{}",
        kernel.version,
        &md5_hex(&[&bz])[..16]
    ));
    if out.is_file() {
        return Ok(out);
    }
    let formats: [(&[u8], &str, &[&str]); 3] = [
        (b"\xfd7zXZ\x00", "xz", &["-dc", "--single-stream"]),
        (b"\x28\xb5\x2f\xfd", "zstd", &["-dcq"]),
        (b"\x1f\x8b\x08", "gzip", &["-dc"]),
    ];
    for (magic, tool, args) in formats {
        let Some(at) = bz.windows(magic.len()).position(|w| w == magic) else {
            continue;
        };
        let Some(tool) = find_program(tool) else {
            continue;
        };
        let elf = decompress(&tool, args, &bz[at..])?;
        if elf.len() > 1 << 20 && elf.starts_with(b"\x7fELF") {
            write_atomic(&out, &elf)?;
            prune(
                cache,
                &format!("vmlinux-{}-", kernel.version),
                out.as_path(),
            );
            return Ok(out);
        }
    }
    eprintln!(
        "lab: cannot decompress {} (xz-utils missing?); booting it as is, which is slower",
        kernel.vmlinuz.display()
    );
    Ok(kernel.vmlinuz.clone())
}

/// Pipes `input` through `tool args` and returns its output (trailing garbage errors ignored: the
/// caller checks the result).
fn decompress(tool: &Path, args: &[&str], input: &[u8]) -> Result<Vec<u8>> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", tool.display()))?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output()?;
    let _ = feeder.join();
    Ok(out.stdout)
}

/// A parsed modules.dep: module name → (path relative to the modules dir, dependency names).
type ModDeps = BTreeMap<String, (String, Vec<String>)>;

/// The module name of a modules.dep path (`kernel/fs/9p/9p.ko.xz` → `9p`; `-` becomes `_`).
fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

fn parse_modules_dep(text: &str) -> ModDeps {
    let mut deps = ModDeps::new();
    for line in text.lines() {
        let Some((module, rest)) = line.split_once(':') else {
            continue;
        };
        let names = rest.split_whitespace().map(module_name).collect();
        deps.insert(module_name(module), (module.to_string(), names));
    }
    deps
}

/// `wanted` and their dependencies, each after what it depends on.
fn load_order(deps: &ModDeps, wanted: &[&str]) -> Result<Vec<String>> {
    fn visit(
        deps: &ModDeps,
        name: &str,
        seen: &mut HashSet<String>,
        out: &mut Vec<String>,
    ) -> Result<()> {
        if !seen.insert(name.to_string()) {
            return Ok(());
        }
        let (_, ds) = deps
            .get(name)
            .with_context(|| format!("module {name} is not in modules.dep"))?;
        for d in ds {
            visit(deps, d, seen, out)?;
        }
        out.push(name.to_string());
        Ok(())
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for w in wanted {
        visit(deps, w, &mut seen, &mut out)?;
    }
    Ok(out)
}

/// A module file's bytes, decompressed when Debian ships it compressed (busybox insmod may not
/// read .ko.xz/.ko.zst).
fn module_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.to_string_lossy();
    let tool = if name.ends_with(".ko.xz") {
        "xz"
    } else if name.ends_with(".ko.zst") {
        "zstd"
    } else if name.ends_with(".ko.gz") {
        "gzip"
    } else {
        return Ok(raw);
    };
    let prog = find_program(tool).with_context(|| format!("{tool} is needed to unpack {name}"))?;
    let out = decompress(&prog, &["-dc"], &raw)?;
    if !out.starts_with(b"\x7fELF") {
        bail!("{tool} could not unpack {name}");
    }
    Ok(out)
}

/// The shared libraries `ldd` lists for `prog` (none for a static program).
fn ldd_libraries(prog: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd")
        .arg(prog)
        .output()
        .context("cannot run ldd")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut libs = Vec::new();
    for line in text.lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split_once("=>") {
            Some((_, right)) => right.split_whitespace().next(),
            None => line
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/')),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(p));
        }
    }
    Ok(libs)
}

/// The initramfs: busybox (with its libraries if it is not the static build), the stage-1 modules
/// and the two stage scripts. Cached as `initrd-<hash of every input>.cpio`.
fn initramfs(cache: &Path, kernel: &Kernel) -> Result<PathBuf> {
    let busybox = find_program("busybox").context("busybox is missing (busybox-static)")?;
    let mut files: Vec<(String, Vec<u8>, u32)> = Vec::new();
    files.push(("init".into(), INIT.as_bytes().to_vec(), 0o755));
    files.push(("lab/stage2".into(), STAGE2.as_bytes().to_vec(), 0o755));
    let bb = fs::read(&busybox).with_context(|| format!("cannot read {}", busybox.display()))?;
    files.push(("bin/busybox".into(), bb, 0o755));
    for lib in ldd_libraries(&busybox)? {
        let data = fs::read(&lib).with_context(|| format!("cannot read {}", lib.display()))?;
        let name = lib.to_string_lossy().trim_start_matches('/').to_string();
        files.push((name, data, 0o755));
    }
    let dep_text = fs::read_to_string(kernel.modules.join("modules.dep"))?;
    let deps = parse_modules_dep(&dep_text);
    let order = load_order(&deps, STAGE1_MODULES)?;
    for m in &order {
        let rel = &deps[m].0;
        let data = module_bytes(&kernel.modules.join(rel))?;
        files.push((format!("lab/modules/{m}.ko"), data, 0o644));
    }
    let mut order_text = order.join("\n");
    order_text.push('\n');
    files.push(("lab/modules.order".into(), order_text.into_bytes(), 0o644));

    let mut parts: Vec<&[u8]> = vec![LAYOUT.as_bytes(), kernel.version.as_bytes()];
    for (name, data, _) in &files {
        parts.push(name.as_bytes());
        parts.push(data);
    }
    let out = cache.join(format!("initrd-{}.cpio", &md5_hex(&parts)[..16]));
    if out.is_file() {
        return Ok(out);
    }
    let mut cpio = Cpio::default();
    for dir in [
        "bin", "dev", "proc", "sys", "tmp", "lab", "lower", "upper", "newroot",
    ] {
        cpio.dir(dir);
    }
    cpio.node("dev/console", 0o020_600, (5, 1));
    for (name, data, mode) in &files {
        cpio.file(name, data, *mode);
    }
    write_atomic(&out, &cpio.finish())?;
    prune(cache, "initrd-", &out);
    Ok(out)
}

/// A minimal writer of the cpio "newc" format the kernel unpacks as initramfs.
#[derive(Debug, Default)]
struct Cpio {
    buf: Vec<u8>,
    ino: u32,
    dirs: HashSet<String>,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            if mode & 0o170_000 == 0o040_000 { 2 } else { 1 },
            0,
            u32::try_from(data.len()).expect("initramfs files are small"),
            0,
            0,
            rdev.0,
            rdev.1,
            u32::try_from(name.len() + 1).expect("short names"),
            0,
        ];
        self.buf.extend_from_slice(b"070701");
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
        self.buf.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    /// A directory and its missing parents.
    fn dir(&mut self, name: &str) {
        if name.is_empty() || self.dirs.contains(name) {
            return;
        }
        if let Some((parent, _)) = name.rsplit_once('/') {
            self.dir(parent);
        }
        self.dirs.insert(name.to_string());
        self.entry(name, 0o040_755, &[], (0, 0));
    }

    fn file(&mut self, name: &str, data: &[u8], perm: u32) {
        if let Some((parent, _)) = name.rsplit_once('/') {
            self.dir(parent);
        }
        self.entry(name, 0o100_000 | perm, data, (0, 0));
    }

    fn node(&mut self, name: &str, mode: u32, rdev: (u32, u32)) {
        self.entry(name, mode, &[], rdev);
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[], (0, 0));
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_order_puts_dependencies_first() {
        let deps = parse_modules_dep(
            "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko\n\
             kernel/net/9p/9pnet.ko:\n\
             kernel/fs/netfs/netfs.ko:\n\
             kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko\n\
             kernel/arch/x86/crypto/crc32c-intel.ko.xz:\n",
        );
        assert_eq!(
            load_order(&deps, &["9p"]).unwrap(),
            ["9pnet", "netfs", "fscache", "9p"]
        );
        assert!(deps.contains_key("crc32c_intel"));
        assert!(load_order(&deps, &["ip_vs"]).is_err());
    }

    #[test]
    fn cpio_entries_are_aligned_and_terminated() {
        let mut c = Cpio::default();
        c.file("a/b", b"hello", 0o644);
        let out = c.finish();
        assert_eq!(out.len() % 4, 0);
        assert!(out.starts_with(b"070701"));
        // the directory "a" comes before "a/b"
        let text = String::from_utf8_lossy(&out);
        assert!(text.find("a\0").unwrap() < text.find("a/b\0").unwrap());
        assert!(text.contains("hello"));
        assert!(text.contains("TRAILER!!!"));
    }

    #[test]
    fn kernel_versions_sort_numerically() {
        assert!(version_key("6.1.0-57-amd64") > version_key("6.1.0-9-amd64"));
    }
}
