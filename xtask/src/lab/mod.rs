//! The kernel lab (issue 4): a qemu VM whose kernel has IPVS and ipip, for tests that need them.
//!
//! This machine's kernel (and CI's) has neither IPVS nor ipip and loads no modules, so those tests
//! boot Debian's `linux-image-amd64` in qemu (TCG; KVM only when a probe boot works):
//!
//! - The guest's root file system is the host's `/`, shared read-only over 9p with a tmpfs
//!   overlay on top: every host program (ipvsadm, keepalived, tcpdump, tshark, iproute2, our test
//!   binaries) runs in place with its libraries, and writes stay in the VM's RAM. `/proc`, `/sys`,
//!   `/dev` and `/run` (with `/run/netns`) are the guest's own; `/tmp` shows the host's files
//!   (scripts written there run in the VM) but writes to it stay in the VM too.
//! - The initramfs only holds busybox, the virtio/9p/overlay modules and the two stage scripts
//!   (`init.sh`, `stage2.sh`); it and the decompressed kernel are cached by content in
//!   `.lab-cache/` (see `image.rs`).
//! - The job's stdout and stderr come back on their own virtio-serial ports, its exit status on a
//!   third one (see `vm.rs`), so kernel log noise on the console never mixes in.
//!
//! Commands: `lab run [--mem M] [--timeout S] -- CMD...`, `lab shell`, `lab test [-p PKG]...`,
//! `lab runner BINARY ARGS...` (the cargo runner) and `lab image` (build the cache, print paths).
//!
//! Which tests run in the lab: every test binary of a crate marked `[package.metadata.lvs]
//! lab = true` (the crate leaves the host's `cargo test --workspace`), or only the test targets a
//! crate lists in `[package.metadata.lvs] lab-tests = ["name", ...]` (the crate stays in the host
//! step, where those binaries print SKIP; e.g. lvsd, whose VRRP tests need no IPVS).

mod image;
mod vm;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::util::{ensure_packages, is_root, workspace_root};

/// Options of `cargo xtask lab`.
#[derive(Debug, Args)]
pub(crate) struct LabArgs {
    #[command(subcommand)]
    cmd: LabCmd,
}

/// VM settings shared by the lab commands.
#[derive(Debug, Clone, Args)]
struct VmArgs {
    /// Guest memory in MiB.
    #[arg(long, env = "LVS_LAB_MEM", default_value_t = 1024)]
    mem: u32,
    /// Virtual CPUs (more than one makes TCG boot slower).
    #[arg(long, env = "LVS_LAB_CPUS", default_value_t = 1)]
    cpus: u32,
    /// Seconds before the VM is killed (boot included).
    #[arg(long, env = "LVS_LAB_TIMEOUT", default_value_t = 900)]
    timeout: u64,
    /// Print boot timing.
    #[arg(short, long, env = "LVS_LAB_VERBOSE")]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum LabCmd {
    /// Boot a VM, run CMD in it (cwd and environment kept, LVS_LAB=1), return its exit status.
    Run {
        #[command(flatten)]
        vm: VmArgs,
        /// The command and its arguments (after `--`).
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        cmd: Vec<OsString>,
    },
    /// Boot a VM with an interactive shell on this terminal (exit the shell or Ctrl-A x to stop).
    Shell {
        #[command(flatten)]
        vm: VmArgs,
    },
    /// Run `cargo test --tests` for PKGs (default: the lab crates) with each test binary in a VM.
    Test {
        #[command(flatten)]
        vm: VmArgs,
        /// Packages to test (default: every crate with `[package.metadata.lvs] lab = true` or
        /// `lab-tests = [...]`; a `lab-tests` crate runs only those test targets).
        #[arg(short = 'p', long = "package")]
        packages: Vec<String>,
        /// Arguments for the test binaries (filters, --nocapture, ...).
        #[arg(last = true)]
        test_args: Vec<String>,
    },
    /// Cargo runner: run a test binary and its arguments in a VM (see `lab test`).
    #[command(hide = true)]
    Runner {
        #[command(flatten)]
        vm: VmArgs,
        /// The binary and its arguments, as cargo passes them.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        argv: Vec<OsString>,
    },
    /// Build (or find in the cache) the kernel and initramfs and print their paths.
    Image,
}

/// Entry point of `cargo xtask lab`.
pub(crate) fn run(args: LabArgs) -> Result<i32> {
    match args.cmd {
        LabCmd::Run { vm, cmd } => {
            let cwd = std::env::current_dir()?;
            Ok(run_job(&vm, &vm::Job::Run { cwd, argv: cmd })?.0)
        }
        LabCmd::Runner { vm, argv } => {
            if lists_no_tests(&argv) {
                // Nothing (left after filters) to run: save the boot.
                let status = Command::new(&argv[0])
                    .args(&argv[1..])
                    .status()
                    .with_context(|| format!("cannot run {:?}", argv[0]))?;
                return Ok(status.code().unwrap_or(101));
            }
            let cwd = std::env::current_dir()?;
            let t = Instant::now();
            let name = PathBuf::from(&argv[0]);
            let (code, boot) = run_job(&vm, &vm::Job::Run { cwd, argv })?;
            eprintln!(
                "lab: {} ran in the VM in {:.1} s (guest kernel booted in {} s; exit status {code})",
                name.file_name().unwrap_or_default().to_string_lossy(),
                t.elapsed().as_secs_f64(),
                boot.map_or("?".into(), |b| format!("{b:.1}")),
            );
            Ok(code)
        }
        LabCmd::Shell { vm } => Ok(run_job(&vm, &vm::Job::Shell)?.0),
        LabCmd::Test {
            vm,
            packages,
            test_args,
        } => {
            let known = lab_crates()?;
            let crates: Vec<LabCrate> = if packages.is_empty() {
                known
            } else {
                // A package named by hand keeps its lab-tests selection; one that is not
                // marked at all runs every test binary in the VM.
                packages
                    .iter()
                    .map(|p| {
                        known
                            .iter()
                            .find(|c| &c.name == p)
                            .cloned()
                            .unwrap_or(LabCrate {
                                name: p.clone(),
                                has_lib: false,
                                lab_tests: None,
                            })
                    })
                    .collect()
            };
            if crates.is_empty() {
                bail!(
                    "no lab crates (none has `[package.metadata.lvs] lab = true` or `lab-tests = [...]`)"
                );
            }
            prepare()?;
            let status = build_bins_command()
                .status()
                .context("cannot run cargo build")?;
            if !status.success() {
                bail!("building the workspace's binaries failed: {status}");
            }
            let mut code = 0;
            for mut cmd in runner_test_commands(&crates)? {
                if !test_args.is_empty() {
                    cmd.arg("--").args(&test_args);
                }
                cmd.env("LVS_LAB_MEM", vm.mem.to_string())
                    .env("LVS_LAB_CPUS", vm.cpus.to_string())
                    .env("LVS_LAB_TIMEOUT", vm.timeout.to_string());
                if vm.verbose {
                    cmd.env("LVS_LAB_VERBOSE", "true");
                }
                let status = cmd.status().context("cannot run cargo test")?;
                if code == 0 {
                    code = status.code().unwrap_or(1);
                }
            }
            Ok(code)
        }
        LabCmd::Image => {
            let t = Instant::now();
            let image = prepare()?;
            println!(
                "kernel  {} ({})",
                image.boot_kernel.display(),
                image.kernel.version
            );
            println!("initrd  {}", image.initrd.display());
            eprintln!("lab: ready in {:.2} s", t.elapsed().as_secs_f64());
            Ok(0)
        }
    }
}

/// Where the kernel and initramfs are cached (`.lab-cache/` in the workspace, gitignored).
fn cache_dir() -> PathBuf {
    std::env::var_os("LVS_LAB_CACHE")
        .map_or_else(|| workspace_root().join(".lab-cache"), PathBuf::from)
}

/// Debian packages whose programs the lab needs on the host (the guest runs the host's programs).
const LAB_PACKAGES: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("busybox", "busybox-static"),
    ("ip", "iproute2"),
    ("modprobe", "kmod"),
    ("ipvsadm", "ipvsadm"),
    ("keepalived", "keepalived"),
    ("tcpdump", "tcpdump"),
    ("xz", "xz-utils"),
    ("setpriv", "util-linux"),
];

/// Installs what the lab needs (as root; otherwise says what is missing) and finds the kernel.
fn ensure_installed() -> Result<image::Kernel> {
    ensure_packages(LAB_PACKAGES)?;
    if let Ok(k) = image::find_kernel() {
        return Ok(k);
    }
    if !is_root() {
        return image::find_kernel().context(
            "the lab needs a Debian kernel: apt-get install linux-image-amd64 (or run as root)",
        );
    }
    eprintln!("lab: installing linux-image-amd64 (the kernel with IPVS and ipip modules)");
    crate::util::run(Command::new("apt-get").args(["update", "-qq"]))?;
    crate::util::run(
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "linux-image-amd64",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .context("installing linux-image-amd64 failed")?;
    image::find_kernel().context("installed linux-image-amd64, but still no kernel with IPVS")
}

/// Installs the packages and builds (or finds) the boot files.
fn prepare() -> Result<image::Image> {
    let kernel = ensure_installed()?;
    image::prepare(&cache_dir(), kernel)
}

/// Whether to use KVM: `LVS_LAB_ACCEL=tcg|kvm|auto` (default auto: KVM when /dev/kvm opens and a
/// probe boot finishes within 12 s; the verdict is cached per kernel, since a hung KVM guest
/// costs those 12 s).
fn use_kvm(image: &image::Image, vm: &VmArgs) -> Result<bool> {
    let accel = std::env::var("LVS_LAB_ACCEL").unwrap_or_else(|_| "auto".into());
    match accel.as_str() {
        "tcg" => return Ok(false),
        "kvm" => return Ok(true),
        "auto" => {}
        other => bail!("LVS_LAB_ACCEL={other}: use tcg, kvm or auto"),
    }
    let kvm_ok = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if !kvm_ok {
        return Ok(false);
    }
    let stem = |p: &PathBuf| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let verdict = cache_dir().join(format!("kvm-probe-{}", stem(&image.boot_kernel)));
    if let Ok(v) = std::fs::read_to_string(&verdict) {
        return Ok(v.trim() == "ok");
    }
    eprintln!("lab: probing KVM with a test boot (once; the verdict is cached)");
    let opts = vm::VmOptions {
        mem_mb: vm.mem,
        cpus: 1,
        timeout: Duration::from_secs(12),
        kvm: true,
        verbose: false,
    };
    let job = vm::Job::Run {
        cwd: PathBuf::from("/"),
        argv: vec!["true".into()],
    };
    let ok = matches!(vm::run(image, &opts, &job), Ok(o) if o.code == 0 && o.timed_out.is_none());
    eprintln!(
        "lab: KVM {}",
        if ok {
            "works"
        } else {
            "probe boot failed or hung; using TCG"
        }
    );
    let _ = std::fs::write(&verdict, if ok { "ok\n" } else { "fail\n" });
    Ok(ok)
}

/// Whether the libtest binary `argv[0]`, given the same arguments (filters), lists no test.
/// Anything unexpected (not libtest, an error) counts as "has tests", so the VM runs it.
fn lists_no_tests(argv: &[OsString]) -> bool {
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .args(["--list", "--format=terse"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    matches!(out, Ok(o) if o.status.success() && o.stdout.iter().all(u8::is_ascii_whitespace))
}

/// Boots a VM for `job`; returns its exit status and the guest kernel's boot time in seconds.
fn run_job(vm: &VmArgs, job: &vm::Job) -> Result<(i32, Option<f64>)> {
    let image = prepare()?;
    let kvm = use_kvm(&image, vm)?;
    let opts = vm::VmOptions {
        mem_mb: vm.mem,
        cpus: vm.cpus,
        timeout: Duration::from_secs(vm.timeout),
        kvm,
        verbose: vm.verbose,
    };
    let outcome = vm::run(&image, &opts, job)?;
    if let Some(msg) = &outcome.timed_out {
        eprintln!("{msg}");
    }
    Ok((outcome.code, outcome.boot_secs))
}

/// A workspace crate whose tests run in the lab.
#[derive(Debug, Clone)]
pub(crate) struct LabCrate {
    /// Package name.
    pub(crate) name: String,
    /// Whether it has a library target (and so doctests).
    pub(crate) has_lib: bool,
    /// `None`: every test binary runs in the lab (`lab = true`). `Some(names)`: only these
    /// test targets (`lab-tests = ["name", ...]`); the crate's other tests, and its doctests,
    /// run on the host with the rest of the workspace.
    pub(crate) lab_tests: Option<Vec<String>>,
}

impl LabCrate {
    /// Whether every test of the crate runs in the lab (`lab = true`), so the host's
    /// `cargo test --workspace` leaves the crate out.
    pub(crate) fn is_all_lab(&self) -> bool {
        self.lab_tests.is_none()
    }
}

/// The workspace crates marked `[package.metadata.lvs] lab = true` in their Cargo.toml (every
/// test binary in the lab), or `lab-tests = ["a", "b"]` (only those test targets in the lab: the
/// tests print SKIP on the host, where the crate's other tests run).
pub(crate) fn lab_crates() -> Result<Vec<LabCrate>> {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata printed bad JSON")?;
    let mut crates = Vec::new();
    for p in meta["packages"].as_array().into_iter().flatten() {
        let lvs = &p["metadata"]["lvs"];
        let lab_tests = if lvs["lab"] == serde_json::Value::Bool(true) {
            None
        } else if let Some(names) = lvs["lab-tests"].as_array() {
            let names: Vec<String> = names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect();
            if names.is_empty() {
                continue;
            }
            Some(names)
        } else {
            continue;
        };
        let has_lib = p["targets"].as_array().into_iter().flatten().any(|t| {
            t["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k == "lib" || k == "rlib" || k == "proc-macro")
        });
        crates.push(LabCrate {
            name: p["name"].as_str().unwrap_or_default().to_string(),
            has_lib,
            lab_tests,
        });
    }
    Ok(crates)
}

/// The `cargo test` commands that run `crates`' lab tests with this xtask as the runner: one
/// `-p A -p B --tests` for the crates marked `lab = true`, one `-p C --test x --test y` per crate
/// with a `lab-tests` list. Each test binary boots its own VM. Cargo builds a package's binaries
/// before its integration tests, so `env!("CARGO_BIN_EXE_<name>")` exists inside the VM.
fn runner_test_commands(crates: &[LabCrate]) -> Result<Vec<Command>> {
    let mut cmds = Vec::new();
    let all: Vec<String> = crates
        .iter()
        .filter(|c| c.is_all_lab())
        .map(|c| c.name.clone())
        .collect();
    if !all.is_empty() {
        let mut cmd = runner_test_command(&all)?;
        cmd.arg("--tests");
        cmds.push(cmd);
    }
    for c in crates {
        if let Some(tests) = &c.lab_tests {
            let mut cmd = runner_test_command(std::slice::from_ref(&c.name))?;
            for t in tests {
                cmd.args(["--test", t]);
            }
            cmds.push(cmd);
        }
    }
    Ok(cmds)
}

/// `cargo build --workspace --bins`: lab tests that drive other packages' programs (lvs-topo runs
/// lvsd and lvs-realserver) find them next to their own executable, current and built, even
/// when the lab step runs alone (`cargo xtask lab test -p lvs-topo` on a fresh checkout).
fn build_bins_command() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Not xtask itself: rebuilding the running runner would replace its executable.
    cmd.args([
        "build",
        "--workspace",
        "--exclude",
        "xtask",
        "--bins",
        "--quiet",
    ])
    .current_dir(workspace_root());
    cmd
}

/// `cargo test -p PKG...` with this xtask as the target runner (the caller selects the targets:
/// with the runner set, doctests would boot the VM too).
fn runner_test_command(packages: &[String]) -> Result<Command> {
    let exe = std::env::current_exe().context("cannot find the xtask binary")?;
    let exe = exe.to_str().context("the xtask path is not UTF-8")?;
    if exe.contains(char::is_whitespace) {
        bail!("cargo splits runners at spaces; the xtask path {exe:?} contains one");
    }
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.arg("test");
    for p in packages {
        cmd.args(["-p", p]);
    }
    cmd.env(
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER",
        format!("{exe} lab runner"),
    )
    .current_dir(workspace_root());
    Ok(cmd)
}

/// The commands of `cargo xtask test`'s lab step for `crates`: their tests in the VM, then their
/// doctests on the host (doctests need no kernel and would each cost a boot). Installs the lab's
/// packages first (root; fails loudly otherwise) and warms the image cache.
pub(crate) fn test_commands(crates: &[LabCrate]) -> Result<Vec<Command>> {
    if crates.is_empty() {
        eprintln!("xtask: no lab crates");
        return Ok(Vec::new());
    }
    let t = Instant::now();
    let image = prepare()?;
    eprintln!(
        "xtask: lab ready in {:.1} s: kernel {}, initramfs {}",
        t.elapsed().as_secs_f64(),
        image.kernel.version,
        image.initrd.display()
    );
    let mut cmds = runner_test_commands(crates)?;
    for c in &mut cmds {
        // Every test binary runs even when one fails, so one run shows every failure.
        c.arg("--no-fail-fast");
    }
    cmds.insert(0, build_bins_command());
    // Doctests of the `lab = true` crates on the host (a `lab-tests` crate's doctests run in
    // the host step with the rest of the crate).
    let libs: Vec<&LabCrate> = crates
        .iter()
        .filter(|c| c.has_lib && c.is_all_lab())
        .collect();
    if !libs.is_empty() {
        let mut doc = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        doc.arg("test");
        for c in libs {
            doc.args(["-p", &c.name]);
        }
        doc.arg("--doc").current_dir(workspace_root());
        cmds.push(doc);
    }
    Ok(cmds)
}
