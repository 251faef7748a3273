//! Link lvsd's programs with packed relative relocations (`DT_RELR`, glibc ≥ 2.36).
//!
//! A position-independent Rust binary carries one 24-byte `R_X86_64_RELATIVE` entry per pointer
//! in its read-only data (vtables, string tables, panic locations): about 10,000 for lvsd, a
//! 260 KB table the dynamic loader reads whole at every start, so it stays in the daemon's
//! resident memory. Packed, the same relocations take a few kilobytes. Linkers that do not know
//! the option ignore it with a warning, and they only emit `DT_RELR` when the C library they
//! link against supports it.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
