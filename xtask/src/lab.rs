//! The kernel lab: a qemu VM whose kernel has IPVS and ipip (issue 4). Placeholder until it lands.

use std::process::Command;

use anyhow::{Result, bail};
use clap::Args;

/// Options of `cargo xtask lab`.
#[derive(Debug, Args)]
pub(crate) struct LabArgs {
    /// Arguments of the lab command.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Entry point of `cargo xtask lab`.
pub(crate) fn run(args: LabArgs) -> Result<i32> {
    bail!("the kernel lab is not built yet (issue 4); got {:?}", args.args)
}

/// Adds what `cargo test` needs to run kernel-lab tests inside the VM.
pub(crate) fn configure_test_command(_cmd: &mut Command) -> Result<()> {
    Ok(())
}
