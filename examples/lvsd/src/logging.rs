//! Logging for the daemon: tracing to stderr, one line per event, never ANSI colours.
//!
//! When stderr is the journal (`$JOURNAL_STREAM` set, as systemd does for a service's
//! stdout/stderr), lines carry no timestamp (journald stamps them) and start with the syslog
//! priority in the `<N>` form journald reads (`SyslogLevelPrefix=`, on by default), so
//! `journalctl -p warning -u lvsd` shows warnings and errors only: ERROR `<3>`, WARN `<4>`,
//! INFO `<6>`, DEBUG and TRACE `<7>`.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The syslog priority of a tracing level (RFC 5424 severities).
pub fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Prefixes each line of the inner format with its `<N>` priority.
struct Prio<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prio<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", syslog_priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

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
        let format = tracing_subscriber::fmt::format()
            .without_time()
            .with_ansi(false);
        builder.event_format(Prio(format)).init();
    } else {
        builder.init();
    }
}
