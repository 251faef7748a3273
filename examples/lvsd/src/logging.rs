//! Logging for the daemon: tracing to stderr, one line per event, never ANSI colours, and no
//! timestamp when stderr is the journal (`$JOURNAL_STREAM` set: journald stamps every line).

/// Installs the global subscriber: `info` (or `debug` with `detail`, keepalived's `-D`); the
/// `RUST_LOG` environment variable overrides both.
pub fn init(detail: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if detail { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
