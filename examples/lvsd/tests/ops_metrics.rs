//! `--metrics`: the Prometheus endpoint of a real `lvsd -P` in a network namespace, fetched over
//! HTTP and checked line by line against the text exposition format (0.0.4); `promtool check
//! metrics` judges it too when installed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Node, data, first_state, kill, wait_status};
use lvs_testkit::{have, skip_unless};

/// One parsed sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn is_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && !s.starts_with("__")
}

/// `{a="x",b="y\"z"}` (without the braces) into labels; escapes limited to `\\`, `\"`, `\n`.
fn parse_labels(mut s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    while !s.is_empty() {
        let eq = s.find("=\"").ok_or(format!("no =\" in {s:?}"))?;
        let name = &s[..eq];
        if !is_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = s[eq + 2..].char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(format!("unterminated label value in {s:?}")),
                Some((i, '"')) => break eq + 2 + i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((_, '\n')) => return Err("raw newline in a label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if out.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        s = &s[end + 1..];
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.is_empty() {
            return Err(format!("garbage after a label: {s:?}"));
        }
    }
    Ok(out)
}

/// Strict text-format check: every family declared by one HELP and one TYPE before its samples,
/// samples named after their family, valid names, escapes and values, no duplicate series.
fn parse_exposition(text: &str) -> Result<Vec<Sample>, String> {
    if !text.ends_with('\n') {
        return Err("no final line feed".into());
    }
    let mut samples = Vec::new();
    let mut family: Option<(String, String)> = None; // name, type
    let mut helped = BTreeSet::new();
    let mut typed = BTreeSet::new();
    let mut series = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let err = |m: String| format!("line {}: {m}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest
                .split_once(' ')
                .ok_or_else(|| err("HELP without text".into()))?;
            if !is_metric_name(name) || help.is_empty() || !helped.insert(name.to_owned()) {
                return Err(err("bad or repeated HELP".into()));
            }
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| err("TYPE without type".into()))?;
            if !is_metric_name(name)
                || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
                || !typed.insert(name.to_owned())
            {
                return Err(err("bad or repeated TYPE".into()));
            }
            if !helped.contains(name) {
                return Err(err("TYPE before its HELP".into()));
            }
            family = Some((name.to_owned(), kind.to_owned()));
        } else if line.starts_with('#') || line.is_empty() {
            return Err(err("unexpected comment or empty line".into()));
        } else {
            let (series_part, value) = line
                .rsplit_once(' ')
                .ok_or_else(|| err("no value".into()))?;
            let value: f64 = value.parse().map_err(|_| err("bad value".into()))?;
            let (name, labels) = match series_part.split_once('{') {
                Some((name, rest)) => {
                    let inner = rest
                        .strip_suffix('}')
                        .ok_or_else(|| err("no closing brace".into()))?;
                    (name, parse_labels(inner).map_err(err)?)
                }
                None => (series_part, BTreeMap::new()),
            };
            if !is_metric_name(name) {
                return Err(err("bad metric name".into()));
            }
            let Some((fam, kind)) = &family else {
                return Err(err("sample before any TYPE".into()));
            };
            if name != fam {
                return Err(err(format!("sample outside its family {fam}")));
            }
            if kind == "counter" && (!name.ends_with("_total") || value < 0.0) {
                return Err(err("counter not named _total or negative".into()));
            }
            if !series.insert(format!("{name}{labels:?}")) {
                return Err(err("duplicate series".into()));
            }
            samples.push((name.to_owned(), labels, value));
        }
    }
    Ok(samples)
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.2)
}

#[test]
fn exposition_parser_rejects_what_the_format_forbids() {
    let ok = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"q\\\"\\\\\\n\"} 1\n";
    assert_eq!(parse_exposition(ok).unwrap()[0].1["l"], "q\"\\\n");
    for bad in [
        "# HELP a x\n# TYPE a gauge\na 1",              // no final newline
        "# TYPE a gauge\na 1\n",                        // TYPE without HELP
        "# HELP a x\n# TYPE a gauge\nb 1\n",            // outside its family
        "# HELP a x\n# TYPE a gauge\na{l=\"\\t\"} 1\n", // bad escape
        "# HELP a x\n# TYPE a gauge\na{l=\"x\"} 1\na{l=\"x\"} 2\n", // duplicate
        "# HELP a x\n# TYPE a counter\na 1\n",          // counter without _total
        "# HELP a x\n# TYPE a gauge\na one\n",          // value
        "# HELP 1a x\n# TYPE 1a gauge\n1a 1\n",         // name
    ] {
        assert!(parse_exposition(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn metrics_endpoint_serves_valid_exposition() {
    if skip_unless("metrics_endpoint_serves_valid_exposition", &[]) {
        return;
    }
    let node = Node::new("opsmet");
    let lvsd = node.start(
        &data("node-a.conf"),
        &["-P", "--metrics", "127.0.0.1:9650"],
        "lvsd.log",
    );
    let log = || node.dir.read("lvsd.log");
    wait_status(&node.control(), Duration::from_secs(10), |s| {
        first_state(s) == "MASTER" && s["instances"][0]["counters"]["adverts_tx"].as_u64() > Some(0)
    })
    .unwrap_or_else(|| panic!("never MASTER\n{}", log()));

    let response = node
        .ns
        .enter(|| -> std::io::Result<String> {
            let mut c = TcpStream::connect("127.0.0.1:9650")?;
            c.set_read_timeout(Some(Duration::from_secs(5)))?;
            c.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
            let mut s = String::new();
            c.read_to_string(&mut s)?;
            Ok(s)
        })
        .expect("enter")
        .unwrap_or_else(|e| panic!("GET /metrics: {e}\n{}", log()));
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP head");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(
        head.contains(&format!("Content-Length: {}", body.len())),
        "{head}"
    );
    let samples = parse_exposition(body).unwrap_or_else(|e| panic!("{e}\n{body}"));

    let vi = [("instance", "VI_1")];
    let state = |s| {
        value(
            &samples,
            "lvsd_vrrp_state",
            &[("instance", "VI_1"), ("state", s)],
        )
    };
    assert_eq!(state("MASTER"), Some(1.0), "{body}");
    assert_eq!(state("BACKUP"), Some(0.0), "{body}");
    assert_eq!(value(&samples, "lvsd_vrrp_priority", &vi), Some(100.0));
    assert_eq!(
        value(&samples, "lvsd_vrrp_effective_priority", &vi),
        Some(100.0)
    );
    assert!(
        value(&samples, "lvsd_vrrp_adverts_tx_total", &vi) >= Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&samples, "lvsd_vrrp_became_master_total", &vi),
        Some(1.0),
        "{body}"
    );
    assert_eq!(value(&samples, "lvsd_reloads_total", &[]), Some(0.0));
    assert_eq!(
        value(
            &samples,
            "lvsd_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    // -P: no virtual server families at all.
    assert!(!body.contains("lvsd_vs_"), "{body}");

    if have("promtool") {
        let (ok, out) = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .output_with_stdin(body);
        assert!(ok, "promtool: {out}");
    }
    kill(lvsd);
}

/// `Command::output` with something on stdin: (success, stdout + stderr).
trait OutputWithStdin {
    fn output_with_stdin(&mut self, input: &str) -> (bool, String);
}

impl OutputWithStdin for std::process::Command {
    fn output_with_stdin(&mut self, input: &str) -> (bool, String) {
        let mut child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}
