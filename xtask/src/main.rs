//! Project automation for lvs-rs.
//!
//! - `cargo xtask test`: the one test command (README). It installs what the tests need, then runs
//!   fmt, clippy, the tests, rustdoc, the benches in quick mode and every fuzz target for a bounded
//!   number of runs, and ends with one summary line.
//! - `cargo xtask lab ...`: the qemu kernel lab (see `lab.rs`).
//! - `cargo xtask demo [dr|nat|tun]`: the seed's LVS cluster live (see `demo.rs`).

mod demo;
mod lab;
mod test;
mod util;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "lvs-rs project automation")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run every check the project has (what CI runs).
    Test(test::TestArgs),
    /// The kernel lab: a qemu VM with IPVS and ipip.
    Lab(lab::LabArgs),
    /// The seed's LVS cluster under traffic, its master killed and restored (needs root).
    Demo(demo::DemoArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Test(args) => test::run_tests(args),
        Cmd::Lab(args) => lab::run(args),
        Cmd::Demo(args) => demo::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            std::process::exit(1);
        }
    }
}
