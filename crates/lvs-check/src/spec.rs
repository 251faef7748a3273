//! From the keepalived configuration model to runnable checks, with keepalived's defaults.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use keepalived_conf::model::{self, Checker, Config, VirtualServer, VsAddress};

use crate::core::{PoolConfig, RealServerConfig, SorryConfig, Timing};

/// Where a check connects, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// `connect_ip`:`connect_port` (defaults: the real server's address and port).
    pub addr: SocketAddr,
    /// `bindto` address.
    pub bind_ip: Option<IpAddr>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `bind_if` (SO_BINDTODEVICE).
    pub bind_if: Option<String>,
    /// `fwmark` set on the checker's packets (SO_MARK).
    pub fwmark: Option<u32>,
    /// `connect_timeout`: bound on the whole check.
    pub timeout: Duration,
}

impl Target {
    /// A target with no binding and a timeout.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Self {
        Self {
            addr,
            bind_ip: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
            timeout,
        }
    }
}

/// One `url` of HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UrlSpec {
    /// Request path (default `/`).
    pub path: String,
    /// Expected MD5 of the body, lower-case hex.
    pub digest: Option<String>,
    /// Accepted status codes, inclusive ranges (default 200-299).
    pub status: Vec<(u16, u16)>,
    /// Host header value (default: the target's address).
    pub virtualhost: Option<String>,
}

impl UrlSpec {
    /// `path` with the default status range 200-299.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            digest: None,
            status: vec![(200, 299)],
            virtualhost: None,
        }
    }
    /// Whether `code` is accepted.
    pub fn accepts(&self, code: u16) -> bool {
        self.status.iter().any(|&(a, b)| (a..=b).contains(&code))
    }
}

/// A reply pattern of UDP_CHECK `require_reply`: bytes with per-nibble masks (`X` = any).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplyPattern {
    /// (value, mask) per byte.
    pub bytes: Vec<(u8, u8)>,
}

impl ReplyPattern {
    /// Whether `data` matches up to the shorter length (keepalived's rule).
    pub fn matches(&self, data: &[u8]) -> bool {
        self.bytes
            .iter()
            .zip(data)
            .all(|(&(v, m), &d)| d & m == v & m)
    }
}

/// What a check does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeKind {
    /// TCP_CHECK: the connection is accepted.
    Tcp,
    /// HTTP_GET / SSL_GET.
    Http {
        /// TLS (SSL_GET) with this SNI name (`Some(None)`: TLS without SNI).
        tls: Option<Option<String>>,
        /// URLs, all must pass.
        urls: Vec<UrlSpec>,
        /// `HTTP/1.1` instead of `HTTP/1.0`.
        http11: bool,
    },
    /// MISC_CHECK: run a program.
    Misc {
        /// Program and arguments (never run through a shell).
        argv: Vec<String>,
        /// `misc_timeout` (default: delay_loop).
        timeout: Duration,
        /// `misc_dynamic`.
        dynamic: bool,
        /// `user NAME [GROUP]`: run as this user (and group; default the user's group).
        user: Option<(String, Option<String>)>,
    },
    /// SMTP_CHECK: banner 220, HELO answered 250.
    Smtp {
        /// HELO name.
        helo: String,
    },
    /// DNS_CHECK: the server answers the query without error.
    Dns {
        /// Query type number.
        qtype: u16,
        /// Query name.
        name: String,
    },
    /// UDP_CHECK.
    Udp {
        /// Datagram sent.
        payload: Vec<u8>,
        /// `require_reply` (Some(empty) = any reply).
        require_reply: Option<ReplyPattern>,
        /// `min_reply_length`.
        min_reply: usize,
        /// `max_reply_length`.
        max_reply: usize,
    },
    /// PING_CHECK: ICMP echo.
    Ping,
    /// FILE_CHECK: a number in a file.
    File {
        /// The file.
        path: PathBuf,
        /// Multiplier (0: non-zero = failure).
        weight: i64,
        /// `reverse`.
        reverse: bool,
        /// `dynamic`: the value adjusts the real server's weight.
        dynamic: bool,
        /// The real server's configured weight.
        base_weight: u32,
    },
}

/// A runnable check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Probe {
    /// What to do.
    pub kind: ProbeKind,
    /// Where.
    pub target: Target,
}

impl Probe {
    /// A probe.
    pub fn new(kind: ProbeKind, target: Target) -> Self {
        Self { kind, target }
    }
}

/// One checker of a real server, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckSpec {
    /// `TCP_CHECK`, `HTTP_GET`, ...
    pub keyword: &'static str,
    /// What to run.
    pub probe: Probe,
    /// Effective timing.
    pub timing: Timing,
}

/// A real server, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RealServerSpec {
    /// Address and port.
    pub addr: SocketAddr,
    /// Configured weight.
    pub weight: u32,
    /// Effective `inhibit_on_failure`.
    pub inhibit: bool,
    /// Checkers.
    pub checks: Vec<CheckSpec>,
    /// `notify_up` command line.
    pub notify_up: Option<String>,
    /// `notify_down` command line.
    pub notify_down: Option<String>,
}

/// A virtual server, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VirtualServerSpec {
    /// `203.0.113.62:80`, `fwmark 1` or `group NAME`.
    pub name: String,
    /// Real servers.
    pub real_servers: Vec<RealServerSpec>,
    /// `sorry_server`.
    pub sorry: Option<SocketAddr>,
    /// `sorry_server_inhibit`.
    pub sorry_inhibit: bool,
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `hysteresis` (default 0).
    pub hysteresis: u32,
    /// `omega`.
    pub omega: bool,
    /// `quorum_up` command line.
    pub quorum_up: Option<String>,
    /// `quorum_down` command line.
    pub quorum_down: Option<String>,
}

impl VirtualServerSpec {
    /// The core configuration of this virtual server.
    pub fn pool_config(&self) -> PoolConfig {
        PoolConfig::new(
            self.real_servers
                .iter()
                .map(|r| {
                    RealServerConfig::new(r.weight, r.checks.iter().map(|c| c.timing).collect())
                        .inhibit(r.inhibit)
                })
                .collect(),
        )
        .quorum(self.quorum, self.hysteresis)
        .sorry(self.sorry.map(|_| SorryConfig {
            inhibit: self.sorry_inhibit,
        }))
        .omega(self.omega)
    }
}

/// A checker that cannot run, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{vs} real server {rs} {keyword}: {reason}")]
#[non_exhaustive]
pub struct SpecError {
    /// Virtual server name.
    pub vs: String,
    /// Real server.
    pub rs: String,
    /// Checker keyword.
    pub keyword: &'static str,
    /// Why.
    pub reason: String,
}

fn us(t: model::Timer) -> Duration {
    t.as_duration()
}

pub(crate) fn vs_name(vs: &VirtualServer) -> String {
    match &vs.address {
        VsAddress::Ip { addr, port } => {
            let mut s = String::with_capacity(24);
            match (addr, port) {
                (_, Some(p)) => crate::service::push_addr(&mut s, &SocketAddr::new(*addr, *p)),
                (IpAddr::V4(a), None) => crate::service::push_ipv4(&mut s, a),
                (IpAddr::V6(a), None) => {
                    let _ = write!(s, "{a}");
                }
            }
            s
        }
        VsAddress::Fwmark { mark } => format!("fwmark {mark}"),
        VsAddress::Group { name } => format!("group {name}"),
        _ => "virtual_server".to_string(),
    }
}

/// Splits a keepalived command line into words without a shell: words are separated by
/// blanks; `'...'` and `"..."` quote, `\` escapes the next character (as keepalived's script
/// parser does).
pub fn split_command(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Parses keepalived's free-form hex (`Ab12f 3 456` = AB 12 0F 03 45 06); `X` nibbles are
/// wildcards when `wild` is set. None on a bad character.
pub fn parse_hex(s: &str, wild: bool) -> Option<ReplyPattern> {
    let mut bytes = Vec::new();
    for word in s.split_whitespace() {
        let nibbles: Vec<char> = word.chars().collect();
        for pair in nibbles.chunks(2) {
            let nib = |c: char| -> Option<(u8, u8)> {
                if wild && (c == 'x' || c == 'X') {
                    Some((0, 0))
                } else {
                    c.to_digit(16).map(|d| (d as u8, 0xf))
                }
            };
            let (v, m) = if pair.len() == 2 {
                let (a, am) = nib(pair[0])?;
                let (b, bm) = nib(pair[1])?;
                ((a << 4) | b, (am << 4) | bm)
            } else {
                nib(pair[0])?
            };
            bytes.push((v, m));
        }
    }
    Some(ReplyPattern { bytes })
}

/// DNS type number for keepalived's names (A, NS, CNAME, SOA, MX, TXT, AAAA).
pub fn dns_type(name: &str) -> Option<u16> {
    Some(match name.to_ascii_uppercase().as_str() {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "SOA" => 6,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        _ => return None,
    })
}

/// Resolves every checker of every virtual server. Checkers that cannot run (no port for a
/// fwmark service, unknown track_file, BFD_CHECK) are reported, and left out.
pub fn resolve(cfg: &Config) -> (Vec<VirtualServerSpec>, Vec<SpecError>) {
    let mut out = Vec::with_capacity(cfg.virtual_servers.len());
    let mut errors = Vec::new();
    for vs in &cfg.virtual_servers {
        let name = vs_name(vs);
        let vs_port = match vs.address {
            VsAddress::Ip { port, .. } => port,
            _ => None,
        };
        let mut real_servers = Vec::with_capacity(vs.real_servers.len());
        for rs in &vs.real_servers {
            let port = rs.port.or(vs_port);
            let addr = SocketAddr::new(rs.addr, port.unwrap_or(0));
            let mut checks = Vec::new();
            for ck in &rs.checkers {
                match resolve_check(cfg, vs, rs, ck, addr) {
                    Ok(c) => checks.push(c),
                    Err(reason) => errors.push(SpecError {
                        vs: name.clone(),
                        rs: addr.to_string(),
                        keyword: ck.keyword(),
                        reason,
                    }),
                }
            }
            real_servers.push(RealServerSpec {
                addr,
                weight: rs.weight(),
                inhibit: rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure),
                checks,
                notify_up: rs.notify_up.as_ref().map(|s| s.command.clone()),
                notify_down: rs.notify_down.as_ref().map(|s| s.command.clone()),
            });
        }
        out.push(VirtualServerSpec {
            name,
            real_servers,
            sorry: vs
                .sorry_server
                .as_ref()
                .map(|s| SocketAddr::new(s.addr, s.port.or(vs_port).unwrap_or(0))),
            sorry_inhibit: vs.sorry_server_inhibit,
            quorum: vs.quorum.unwrap_or(1),
            hysteresis: vs.hysteresis.unwrap_or(0),
            omega: vs.omega,
            quorum_up: vs.quorum_up.as_ref().map(|s| s.command.clone()),
            quorum_down: vs.quorum_down.as_ref().map(|s| s.command.clone()),
        });
    }
    (out, errors)
}

fn resolve_check(
    cfg: &Config,
    vs: &VirtualServer,
    rs: &model::RealServer,
    ck: &Checker,
    rs_addr: SocketAddr,
) -> Result<CheckSpec, String> {
    let empty = model::CheckCommon::default();
    let common = match ck {
        Checker::Tcp(c) | Checker::Ping(c) => &c.common,
        Checker::HttpGet(c) | Checker::SslGet(c) => &c.common,
        Checker::Misc(c) => &c.common,
        Checker::Smtp(c) => &c.common,
        Checker::Dns(c) => &c.common,
        Checker::Udp(c) => &c.common,
        Checker::File(_) => &empty,
        Checker::Bfd(_) => return Err("BFD_CHECK is not supported by lvs-check".into()),
        _ => return Err("unknown checker".into()),
    };
    let delay_loop = common
        .delay_loop
        .or(rs.delay_loop)
        .map(us)
        .unwrap_or_else(|| us(vs.delay_loop()));
    let (default_retry, default_dbr) = match ck {
        Checker::Dns(_) => (3, delay_loop),
        Checker::Misc(_) => (0, Duration::from_secs(1)),
        Checker::HttpGet(_) | Checker::SslGet(_) => (1, Duration::from_secs(3)),
        Checker::File(_) => (0, Duration::from_secs(1)),
        _ => (1, Duration::from_secs(1)),
    };
    let file = matches!(ck, Checker::File(_));
    let timing = Timing {
        delay_loop,
        retry: if file {
            0
        } else {
            common
                .retry
                .or(rs.retry)
                .or(vs.retry)
                .unwrap_or(default_retry)
        },
        delay_before_retry: common
            .delay_before_retry
            .or(rs.delay_before_retry)
            .or(vs.delay_before_retry)
            .map(us)
            .unwrap_or(default_dbr),
        warmup: if file {
            Duration::ZERO
        } else {
            common
                .warmup
                .or(rs.warmup)
                .or(vs.warmup)
                .map(us)
                .unwrap_or(delay_loop)
        },
        alpha: !file && common.alpha.or(rs.alpha).unwrap_or(vs.alpha),
    };
    let port = common.connect_port.unwrap_or(rs_addr.port());
    let ip = common.connect_ip.unwrap_or(rs_addr.ip());
    let needs_port = !matches!(ck, Checker::Ping(_) | Checker::Misc(_) | Checker::File(_));
    if needs_port && port == 0 {
        return Err("no port: set connect_port (the service has none)".into());
    }
    let timeout = common
        .connect_timeout
        .or(rs.connect_timeout)
        .or(vs.connect_timeout)
        .map(us)
        .unwrap_or(Duration::from_secs(5));
    let target = Target {
        addr: SocketAddr::new(ip, port),
        bind_ip: common.bindto,
        bind_port: common.bind_port,
        bind_if: common.bind_if.clone(),
        fwmark: common.fwmark,
        timeout,
    };
    let vhost = |own: &Option<String>| {
        own.clone()
            .or_else(|| rs.virtualhost.clone())
            .or_else(|| vs.virtualhost.clone())
    };
    let kind = match ck {
        Checker::Tcp(_) => ProbeKind::Tcp,
        Checker::Ping(_) => ProbeKind::Ping,
        Checker::HttpGet(h) | Checker::SslGet(h) => {
            let check_vhost = vhost(&h.virtualhost);
            let mut urls = Vec::new();
            for u in &h.urls {
                let mut spec = UrlSpec::new(u.path.clone().unwrap_or_else(|| "/".into()));
                spec.digest = u.digest.as_ref().map(|d| d.to_ascii_lowercase());
                if !u.status_code.is_empty() {
                    spec.status = u.status_code.iter().map(|r| (r.from, r.to)).collect();
                }
                spec.virtualhost = u.virtualhost.clone().or_else(|| check_vhost.clone());
                urls.push(spec);
            }
            if urls.is_empty() {
                return Err("no url block".into());
            }
            let tls = matches!(ck, Checker::SslGet(_)).then(|| {
                h.enable_sni
                    .then(|| h.sni_name.clone().or_else(|| check_vhost.clone()))
                    .flatten()
            });
            let http11 = h
                .http_protocol
                .as_deref()
                .is_some_and(|p| p.starts_with("1.1"));
            ProbeKind::Http { tls, urls, http11 }
        }
        Checker::Misc(m) => {
            let path = m.misc_path.as_deref().ok_or("no misc_path")?;
            let argv = split_command(path);
            if argv.is_empty() {
                return Err("empty misc_path".into());
            }
            ProbeKind::Misc {
                argv,
                timeout: m
                    .misc_timeout
                    .map_or(delay_loop, |s| Duration::from_secs(u64::from(s))),
                dynamic: m.misc_dynamic,
                user: m.user.as_ref().map(|u| (u.user.clone(), u.group.clone())),
            }
        }
        Checker::Smtp(s) => ProbeKind::Smtp {
            helo: s
                .helo_name
                .clone()
                .or_else(|| cfg.global_defs.smtp_helo_name.clone())
                .unwrap_or_else(|| "localhost".into()),
        },
        Checker::Dns(d) => {
            let t = d.query_type.as_deref().unwrap_or("SOA");
            ProbeKind::Dns {
                qtype: dns_type(t).ok_or_else(|| format!("unknown DNS type {t}"))?,
                name: d.name.clone().unwrap_or_else(|| ".".into()),
            }
        }
        Checker::Udp(u) => {
            let payload = match &u.payload {
                Some(p) => parse_hex(p, false)
                    .ok_or_else(|| format!("bad payload hex {p:?}"))?
                    .bytes
                    .into_iter()
                    .map(|(v, _)| v)
                    .collect(),
                None => b"lvs-check".to_vec(),
            };
            let require_reply = match &u.require_reply {
                Some(r) => {
                    Some(parse_hex(r, true).ok_or_else(|| format!("bad require_reply hex {r:?}"))?)
                }
                None => None,
            };
            ProbeKind::Udp {
                payload,
                require_reply,
                min_reply: u.min_reply_length.unwrap_or(0) as usize,
                max_reply: u.max_reply_length.unwrap_or(255) as usize,
            }
        }
        Checker::File(f) => {
            let name = f.track_file.as_deref().ok_or("no track_file")?;
            let tf = cfg
                .vrrp_track_files
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| format!("no track_file named {name:?}"))?;
            let path = tf
                .file
                .clone()
                .ok_or_else(|| format!("track_file {name:?} has no file"))?;
            ProbeKind::File {
                path: PathBuf::from(path),
                weight: f
                    .weight
                    .unwrap_or_else(|| i64::from(tf.weight.unwrap_or(1))),
                reverse: f.reverse || tf.reverse,
                dynamic: f.dynamic,
                base_weight: rs.weight(),
            }
        }
        _ => return Err("unsupported checker".into()),
    };
    Ok(CheckSpec {
        keyword: ck.keyword(),
        probe: Probe { kind, target },
        timing,
    })
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProbeKind::Tcp => write!(f, "tcp {}", self.target.addr),
            ProbeKind::Http { tls, urls, .. } => {
                let scheme = if tls.is_some() { "https" } else { "http" };
                let paths: Vec<&str> = urls.iter().map(|u| u.path.as_str()).collect();
                write!(f, "{scheme} {} {}", self.target.addr, paths.join(","))
            }
            ProbeKind::Misc { argv, .. } => write!(f, "misc {}", argv.join(" ")),
            ProbeKind::Smtp { .. } => write!(f, "smtp {}", self.target.addr),
            ProbeKind::Dns { name, qtype } => {
                write!(f, "dns {} type {qtype} {name}", self.target.addr)
            }
            ProbeKind::Udp { .. } => write!(f, "udp {}", self.target.addr),
            ProbeKind::Ping => write!(f, "ping {}", self.target.addr.ip()),
            ProbeKind::File { path, .. } => write!(f, "file {}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_keepalived() {
        assert_eq!(
            split_command(r#"/bin/check.sh "a b" 'c d' e\ f  g"#),
            vec!["/bin/check.sh", "a b", "c d", "e f", "g"]
        );
        assert_eq!(split_command("  "), Vec::<String>::new());
        assert_eq!(split_command(r#"x "" y"#), vec!["x", "", "y"]);
    }

    #[test]
    fn hex_like_keepalived() {
        let p = parse_hex("Ab12f 3 456 546443123", false).unwrap();
        let v: Vec<u8> = p.bytes.iter().map(|b| b.0).collect();
        assert_eq!(
            v,
            vec![
                0xAB, 0x12, 0x0F, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03
            ]
        );
        let w = parse_hex("4x", true).unwrap();
        assert!(w.matches(&[0x41, 0x99]));
        assert!(!w.matches(&[0x51]));
        assert!(parse_hex("zz", false).is_none());
    }

    #[test]
    fn defaults_from_config() {
        let text = "virtual_server 203.0.113.62 80 {\n delay_loop 6\n real_server 198.51.100.12 80 {\n  weight 2\n  HTTP_GET {\n   url {\n    path /health\n    status_code 200 300-302\n   }\n  }\n  MISC_CHECK {\n   misc_path \"/bin/check 'a b'\"\n  }\n  DNS_CHECK {\n   type A\n   name example.org\n  }\n }\n}\n";
        let out = keepalived_conf::parse_str(text, &keepalived_conf::Options::default());
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        let (vss, errs) = resolve(&out.config);
        assert!(errs.is_empty());
        let rs = &vss[0].real_servers[0];
        assert_eq!(rs.weight, 2);
        let http = &rs.checks[0];
        assert_eq!(http.timing.retry, 1);
        assert_eq!(http.timing.delay_before_retry, Duration::from_secs(3));
        assert_eq!(http.timing.delay_loop, Duration::from_secs(6));
        assert_eq!(http.timing.warmup, Duration::from_secs(6));
        assert_eq!(http.probe.target.timeout, Duration::from_secs(5));
        match &http.probe.kind {
            ProbeKind::Http { urls, tls, .. } => {
                assert!(tls.is_none());
                assert!(urls[0].accepts(301) && !urls[0].accepts(299) && urls[0].accepts(200));
            }
            k => panic!("{k:?}"),
        }
        let misc = &rs.checks[1];
        assert_eq!(misc.timing.retry, 0);
        match &misc.probe.kind {
            ProbeKind::Misc { argv, timeout, .. } => {
                assert_eq!(argv, &vec!["/bin/check".to_string(), "a b".to_string()]);
                assert_eq!(*timeout, Duration::from_secs(6));
            }
            k => panic!("{k:?}"),
        }
        let dns = &rs.checks[2];
        assert_eq!(dns.timing.retry, 3);
        assert_eq!(dns.timing.delay_before_retry, Duration::from_secs(6));
    }
}
