//! Arbitrary bytes as a keepalived.conf: must never panic and must stay bounded.
//!
//! The input is split at NUL bytes: the first part is the main file `/etc/keepalived/keepalived.conf`,
//! the others are in-memory files `/etc/keepalived/inc<N>.conf` it may include. Nothing touches the
//! file system or the environment. The parsed model is formatted and parsed again.
#![no_main]

use keepalived_conf::{Limits, MemLoader, Options, format, parse_with};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let main = parts.next().unwrap_or_default();
    let mut loader = MemLoader::new();
    for (i, p) in parts.take(8).enumerate() {
        loader.insert(format!("/etc/keepalived/inc{i}.conf"), p);
    }
    let opts = Options::default().config_id("main").limits(Limits::small());
    let out = parse_with(
        &mut loader,
        Path::new("/etc/keepalived/keepalived.conf"),
        main,
        &opts,
    );
    for d in &out.diagnostics {
        let _ = d.to_string();
    }
    let text = format(&out.config);
    let again = parse_with(&mut MemLoader::new(), Path::new("/f.conf"), &text, &opts);
    let _ = again.config;
});
