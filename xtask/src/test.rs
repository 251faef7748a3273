//! `cargo xtask test`: the project's one test command.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::util::{ensure_packages, have, is_root, run, workspace_root};

/// Options of `cargo xtask test`.
#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// libFuzzer runs per fuzz target (0 skips fuzzing).
    #[arg(long, env = "LVS_FUZZ_RUNS", default_value_t = 200_000)]
    fuzz_runs: u64,
    /// Upper bound in seconds for each fuzz target's run.
    #[arg(long, env = "LVS_FUZZ_SECS", default_value_t = 120)]
    fuzz_secs: u64,
    /// Skip the kernel-lab tests (they need qemu and take a few minutes).
    #[arg(long)]
    no_lab: bool,
}

/// Debian packages whose programs the tests use as real peers and judges.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("tcpdump", "tcpdump"),
    ("tshark", "tshark"),
    ("keepalived", "keepalived"),
    ("ipvsadm", "ipvsadm"),
    ("arping", "iputils-arping"),
    ("ping", "iputils-ping"),
    ("busybox", "busybox-static"),
];

/// Counts of individual test cases seen in the test runners' output.
#[derive(Debug, Default)]
struct Counts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Counts {
    /// Adds the figures of a libtest line `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
    fn add_libtest_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            let ([_, n, what] | [n, what]) = words.as_slice() else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match *what {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

pub(crate) fn run_tests(args: TestArgs) -> Result<i32> {
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    let started = Instant::now();
    let mut steps: Vec<(String, Result<()>, f64)> = Vec::new();
    let mut counts = Counts::default();

    let mut step = |name: &str, f: &mut dyn FnMut(&mut Counts) -> Result<()>| {
        eprintln!("\n==== xtask: {name} ====");
        let t = Instant::now();
        let r = f(&mut counts);
        if let Err(e) = &r {
            eprintln!("xtask: step '{name}' failed: {e:#}");
        }
        steps.push((name.to_string(), r, t.elapsed().as_secs_f64()));
    };

    step("install test peers", &mut |_| {
        if is_root() {
            ensure_packages(TEST_PACKAGES)
        } else {
            eprintln!("xtask: not root: root-only tests will skip, packages are not installed");
            Ok(())
        }
    });
    step("cargo fmt --check", &mut |_| {
        run(Command::new("cargo").args(["fmt", "--all", "--check"]))
    });
    step("cargo clippy", &mut |_| {
        run(Command::new("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ]))
    });
    // Crates marked `[package.metadata.lvs] lab = true` run their tests in the kernel lab (one qemu
    // VM per test binary) in their own step, and `lab-tests = ["x"]` runs those test targets of a
    // crate there; with --no-lab they run on the host, where the tests that need IPVS print SKIP.
    let lab_crates = if args.no_lab {
        Ok(Vec::new())
    } else {
        crate::lab::lab_crates()
    };
    step("cargo test", &mut |c| {
        let mut cmd = Command::new("cargo");
        cmd.args(["test", "--workspace", "--no-fail-fast"]);
        // `lab = true` crates run in the lab step only; a crate with a `lab-tests` list runs
        // here too (its lab tests print SKIP on the host) and those binaries again in the lab.
        for k in lab_crates.iter().flatten().filter(|k| k.is_all_lab()) {
            cmd.args(["--exclude", &k.name]);
        }
        cargo_test(&mut cmd, c)
    });
    if !args.no_lab {
        step("lab tests (qemu)", &mut |c| {
            let crates = lab_crates
                .as_ref()
                .map_err(|e| anyhow::anyhow!("cannot list the lab crates: {e:#}"))?;
            for mut cmd in crate::lab::test_commands(crates)? {
                cargo_test(&mut cmd, c)?;
            }
            Ok(())
        });
    }
    step("benches (quick mode)", &mut |c| {
        cargo_test(
            Command::new("cargo").args(["test", "--workspace", "--benches"]),
            c,
        )
    });
    step("cargo doc", &mut |_| {
        run(Command::new("cargo")
            .args(["doc", "--workspace", "--no-deps", "--quiet"])
            .env("RUSTDOCFLAGS", "-D warnings"))
    });
    step("fuzz (bounded)", &mut |_| {
        fuzz(&root, args.fuzz_runs, args.fuzz_secs)
    });

    eprintln!("\n==== xtask: summary ====");
    let mut failed_steps = 0;
    for (name, r, secs) in &steps {
        let verdict = if r.is_ok() { "ok" } else { "FAILED" };
        failed_steps += usize::from(r.is_err());
        eprintln!("  {verdict:6} {name} ({secs:.0} s)");
    }
    eprintln!(
        "  {} of {} steps passed in {:.0} s; test cases: {} passed, {} failed, {} ignored",
        steps.len() - failed_steps,
        steps.len(),
        started.elapsed().as_secs_f64(),
        counts.passed,
        counts.failed,
        counts.ignored
    );
    // The closing line: test cases, with each failed step counted as a failure.
    println!(
        "xtask: {} passed, {} failed, {} skipped",
        counts.passed,
        counts.failed + failed_steps as u64,
        counts.ignored
    );
    Ok(if failed_steps == 0 { 0 } else { 1 })
}

/// Runs a `cargo test` command, echoing its stdout and counting libtest results.
fn cargo_test(cmd: &mut Command, counts: &mut Counts) -> Result<()> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        counts.add_libtest_line(&line);
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// Runs every fuzz target in `fuzz/fuzz_targets` for `runs` executions, seeded from `fuzz/seeds`.
///
/// Each target is also bounded in time (`max_secs`), so a slow target cannot stretch the CI run.
fn fuzz(root: &Path, runs: u64, max_secs: u64) -> Result<()> {
    if runs == 0 {
        eprintln!("xtask: fuzzing skipped (--fuzz-runs 0)");
        return Ok(());
    }
    let dir = root.join("fuzz/fuzz_targets");
    let mut targets: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let p = e.path();
                (p.extension()? == "rs").then(|| p.file_stem()?.to_str().map(str::to_owned))?
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    targets.sort();
    if targets.is_empty() {
        eprintln!("xtask: no fuzz targets yet");
        return Ok(());
    }
    if !have("cargo-fuzz") {
        eprintln!("xtask: installing cargo-fuzz");
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked", "--quiet"]))?;
    }
    for t in &targets {
        let corpus = root.join("fuzz/corpus").join(t);
        std::fs::create_dir_all(&corpus)?;
        let mut cmd = Command::new("cargo");
        // No sanitizer: every crate forbids unsafe code, and ASan slows the parsers ~20x on 2 cores.
        cmd.args(["+nightly", "fuzz", "run", "--sanitizer", "none", t])
            .arg(&corpus)
            .current_dir(root);
        let seeds = root.join("fuzz/seeds").join(t);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        }
        cmd.args([
            "--",
            &format!("-runs={runs}"),
            &format!("-max_total_time={max_secs}"),
            "-max_len=4096",
            "-print_final_stats=1",
        ]);
        run(&mut cmd).with_context(|| format!("fuzz target {t}"))?;
    }
    Ok(())
}
