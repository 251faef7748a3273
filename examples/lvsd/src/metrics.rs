//! The opt-in Prometheus endpoint (`--metrics 127.0.0.1:9650`): the [`Status`] in the text
//! exposition format (version 0.0.4), served by a small HTTP/1.1 responder on one thread.
//!
//! Families: `lvsd_build_info`, `lvsd_start_time_seconds`, `lvsd_reloads_total`,
//! `lvsd_last_reload_failed`, `lvsd_vrrp_state{instance,state}` (1 for the current state, 0 for
//! the others), `lvsd_vrrp_priority`, `lvsd_vrrp_effective_priority`, one
//! `lvsd_vrrp_<counter>_total` per instance counter, `lvsd_vs_quorum_up{vs}`,
//! `lvsd_vs_real_server_weight{vs,rs}`, `lvsd_vs_real_server_up{vs,rs}`.
//!
//! ```
//! use lvsd::status::{InstanceStatus, Status};
//! let mut st = Status::default();
//! st.instances.push(InstanceStatus {
//!     name: "VI_1".into(),
//!     state: "MASTER".into(),
//!     priority: 100,
//!     ..Default::default()
//! });
//! let text = lvsd::metrics::render(&st);
//! assert!(text.contains("lvsd_vrrp_state{instance=\"VI_1\",state=\"MASTER\"} 1\n"));
//! assert!(text.contains("lvsd_vrrp_priority{instance=\"VI_1\"} 100\n"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::status::{Shared, Status};

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The largest request head accepted (request line + headers).
const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its request or read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// keepalived's state words, in the order `lvsd_vrrp_state` lists them.
const STATES: [&str; 4] = ["INIT", "BACKUP", "MASTER", "FAULT"];

/// One metric family being written.
struct Family<'a> {
    out: &'a mut String,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &str, kind: &str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Self { out }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_label(self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// Label values: backslash, double quote and line feed escaped, as the format requires.
fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A counter name from the status (`rejected_auth_failure`) made a valid metric name part.
fn metric_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The status as Prometheus text exposition.
pub fn render(st: &Status) -> String {
    let mut out = String::new();
    let d = &st.daemon;
    Family::new(
        &mut out,
        "lvsd_build_info",
        "gauge",
        "lvsd's version (always 1).",
    )
    .sample("lvsd_build_info", &[("version", &d.version)], 1);
    Family::new(
        &mut out,
        "lvsd_start_time_seconds",
        "gauge",
        "Start time of the daemon, seconds since the Unix epoch.",
    )
    .sample("lvsd_start_time_seconds", &[], d.started_unix);
    Family::new(
        &mut out,
        "lvsd_reloads_total",
        "counter",
        "Successful configuration reloads (SIGHUP) since start.",
    )
    .sample("lvsd_reloads_total", &[], d.reloads);
    Family::new(
        &mut out,
        "lvsd_last_reload_failed",
        "gauge",
        "1 when the last reload was refused (the previous configuration keeps running).",
    )
    .sample(
        "lvsd_last_reload_failed",
        &[],
        u8::from(d.last_reload_error.is_some()),
    );

    if !st.instances.is_empty() {
        let mut f = Family::new(
            &mut out,
            "lvsd_vrrp_state",
            "gauge",
            "VRRP instance state: 1 for the current state, 0 for the others.",
        );
        for i in &st.instances {
            for s in STATES {
                f.sample(
                    "lvsd_vrrp_state",
                    &[("instance", &i.name), ("state", s)],
                    u8::from(i.state == s),
                );
            }
            if !STATES.contains(&i.state.as_str()) {
                f.sample(
                    "lvsd_vrrp_state",
                    &[("instance", &i.name), ("state", &i.state)],
                    1,
                );
            }
        }
        let mut f = Family::new(
            &mut out,
            "lvsd_vrrp_priority",
            "gauge",
            "Configured VRRP priority.",
        );
        for i in &st.instances {
            f.sample("lvsd_vrrp_priority", &[("instance", &i.name)], i.priority);
        }
        let mut f = Family::new(
            &mut out,
            "lvsd_vrrp_effective_priority",
            "gauge",
            "VRRP priority after tracking weights.",
        );
        for i in &st.instances {
            f.sample(
                "lvsd_vrrp_effective_priority",
                &[("instance", &i.name)],
                i.effective_priority,
            );
        }
        // One family per counter name, each listing every instance that has it.
        let mut counters: BTreeMap<String, Vec<(&str, u64)>> = BTreeMap::new();
        for i in &st.instances {
            for (k, v) in &i.counters {
                counters
                    .entry(format!("lvsd_vrrp_{}_total", metric_part(k)))
                    .or_default()
                    .push((&i.name, *v));
            }
        }
        for (name, samples) in &counters {
            let mut f = Family::new(&mut out, name, "counter", "VRRP instance counter.");
            for (inst, v) in samples {
                f.sample(name, &[("instance", inst)], v);
            }
        }
    }

    if !st.virtual_servers.is_empty() {
        let mut f = Family::new(
            &mut out,
            "lvsd_vs_quorum_up",
            "gauge",
            "1 when the virtual server has its quorum of live weight.",
        );
        for vs in &st.virtual_servers {
            f.sample(
                "lvsd_vs_quorum_up",
                &[("vs", &vs.key)],
                u8::from(vs.quorum_up),
            );
        }
        let mut f = Family::new(
            &mut out,
            "lvsd_vs_real_server_weight",
            "gauge",
            "Weight of the real server in the kernel (0 when inhibited or absent).",
        );
        for vs in &st.virtual_servers {
            for rs in &vs.real_servers {
                let w = if rs.in_kernel { rs.weight } else { 0 };
                f.sample(
                    "lvsd_vs_real_server_weight",
                    &[("vs", &vs.key), ("rs", &rs.address)],
                    w,
                );
            }
        }
        let mut f = Family::new(
            &mut out,
            "lvsd_vs_real_server_up",
            "gauge",
            "1 when every checker of the real server passes.",
        );
        for vs in &st.virtual_servers {
            for rs in &vs.real_servers {
                f.sample(
                    "lvsd_vs_real_server_up",
                    &[("vs", &vs.key), ("rs", &rs.address)],
                    u8::from(rs.alive),
                );
            }
        }
    }
    out
}

/// Binds `addr` (so a busy port is an error at start) and serves `GET /metrics` from `shared`
/// on a thread, one connection at a time, each bounded to 8 KiB of request and 2 s.
///
/// # Errors
/// The address cannot be bound.
pub fn serve(addr: SocketAddr, shared: Shared) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                if let Err(e) = answer(conn, &shared) {
                    tracing::debug!(error = %e, "metrics client");
                }
            }
        })?;
    Ok(local)
}

fn answer(mut conn: TcpStream, shared: &Shared) -> io::Result<()> {
    conn.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    conn.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let complete = loop {
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            break true;
        }
        if head.len() > MAX_REQUEST {
            break false;
        }
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    };
    let (code, reason, body, ctype) = if complete {
        route(&head, shared)
    } else {
        (
            431,
            "Request Header Fields Too Large",
            String::new(),
            "text/plain",
        )
    };
    let method_is_head = head.starts_with(b"HEAD ");
    let mut resp = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !method_is_head {
        resp.extend_from_slice(body.as_bytes());
    }
    conn.write_all(&resp)?;
    conn.flush()?;
    // Lingering close: drain what the client still sends (bounded), so closing with unread data
    // does not reset the connection before the client has read the answer.
    conn.shutdown(std::net::Shutdown::Write)?;
    conn.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut drained = 0;
    while drained < 4 * MAX_REQUEST {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    Ok(())
}

fn route(head: &[u8], shared: &Shared) -> (u16, &'static str, String, &'static str) {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return (
            400,
            "Bad Request",
            "bad request line\n".into(),
            "text/plain",
        );
    };
    if !version.starts_with("HTTP/1.") {
        return (
            505,
            "HTTP Version Not Supported",
            String::new(),
            "text/plain",
        );
    }
    if method != "GET" && method != "HEAD" {
        return (405, "Method Not Allowed", "GET only\n".into(), "text/plain");
    }
    let path = target.split('?').next().unwrap_or_default();
    match path {
        "/metrics" => (200, "OK", render(&shared.snapshot()), CONTENT_TYPE),
        "/" => (
            200,
            "OK",
            "lvsd: metrics at /metrics\n".into(),
            "text/plain; charset=utf-8",
        ),
        _ => (404, "Not Found", "not found\n".into(), "text/plain"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{InstanceStatus, RealServerStatus, VirtualServerStatus};

    fn get(addr: SocketAddr, req: &[u8]) -> String {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(req).unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn labels_are_escaped_and_families_declared_once() {
        let mut st = Status::default();
        for name in ["VI_1", "a\"b\\c\nd"] {
            st.instances.push(InstanceStatus {
                name: name.into(),
                state: "BACKUP".into(),
                counters: [("adverts_rx".to_string(), 3), ("rejected-ttl".into(), 1)].into(),
                ..Default::default()
            });
        }
        st.virtual_servers.push(VirtualServerStatus {
            key: "TCP 203.0.113.62:80".into(),
            real_servers: vec![RealServerStatus {
                address: "198.51.100.2:80".into(),
                weight: 3,
                in_kernel: false,
                alive: true,
                ..Default::default()
            }],
            ..Default::default()
        });
        let t = render(&st);
        assert!(
            t.contains(r#"lvsd_vrrp_state{instance="a\"b\\c\nd",state="BACKUP"} 1"#),
            "{t}"
        );
        assert_eq!(
            t.matches("# TYPE lvsd_vrrp_adverts_rx_total counter")
                .count(),
            1
        );
        assert!(t.contains("lvsd_vrrp_rejected_ttl_total{instance=\"VI_1\"} 1\n"));
        assert!(t.contains(
            "lvsd_vs_real_server_weight{vs=\"TCP 203.0.113.62:80\",rs=\"198.51.100.2:80\"} 0\n"
        ));
        assert!(t.contains(
            "lvsd_vs_real_server_up{vs=\"TCP 203.0.113.62:80\",rs=\"198.51.100.2:80\"} 1\n"
        ));
    }

    #[test]
    fn http_answers_get_metrics_and_refuses_the_rest() {
        let addr = serve("127.0.0.1:0".parse().unwrap(), Shared::default()).unwrap();
        let ok = get(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains(CONTENT_TYPE));
        assert!(ok.contains("lvsd_reloads_total 0\n"));
        assert!(get(addr, b"GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get(addr, b"POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        assert!(get(addr, b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
        let head = get(addr, b"HEAD /metrics HTTP/1.0\r\n\r\n");
        assert!(
            head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n"),
            "{head}"
        );
        let mut big = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_REQUEST + 10));
        assert!(get(addr, &big).starts_with("HTTP/1.1 431"));
    }
}
