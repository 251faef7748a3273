//! Test-side helpers of the kernel lab.
//!
//! The kernel lab (`cargo xtask lab`, README "Kernel lab") boots Debian's kernel in qemu so tests
//! can use IPVS and ipip, which the build machine's kernel lacks. `cargo xtask test` runs the tests
//! of every crate marked `[package.metadata.lvs] lab = true` inside the lab, one VM per test
//! binary; the VM sets `LVS_LAB=1`. Tests that need the lab start with [`skip_unless_lab`], so a
//! plain `cargo test` on the host prints why they did nothing instead of failing.
//!
//! Inside the VM the tests run as root with the host's programs (ipvsadm, keepalived, tcpdump,
//! iproute2, busybox) and a kernel that loads IPVS schedulers, `veth`, `dummy`, `bridge` and
//! `macvlan` on demand; `ip_vs` and `ipip` are loaded at boot. Build topologies with
//! `lvs-testkit`'s `Netns`, `veth` and `Lan`: IPVS tables are per network namespace, so tests
//! running in parallel in one VM do not see each other's services.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The environment variable the lab's VM sets to `1` for the programs it runs.
pub const LAB_ENV: &str = "LVS_LAB";

/// Whether this process runs inside the kernel lab's VM (`LVS_LAB=1`).
///
/// ```
/// if lvs_lab::in_lab() {
///     assert!(std::path::Path::new("/proc/net/ip_vs").exists());
/// }
/// ```
pub fn in_lab() -> bool {
    std::env::var_os(LAB_ENV).is_some_and(|v| v == "1")
}

/// Returns `true`, after printing `SKIP <test>: needs the kernel lab (IPVS) ...`, when the caller
/// does not run inside the lab; the test should then return.
///
/// ```
/// // The body of a #[test] fn ipvs_table_starts_empty():
/// if lvs_lab::skip_unless_lab("ipvs_table_starts_empty") {
///     return;
/// }
/// // Only in the VM, where IPVS is loaded:
/// assert!(std::path::Path::new("/proc/net/ip_vs").exists());
/// ```
pub fn skip_unless_lab(test: &str) -> bool {
    if in_lab() {
        return false;
    }
    eprintln!(
        "SKIP {test}: needs the kernel lab (IPVS); run it with `cargo xtask lab test -p <crate>`"
    );
    true
}
