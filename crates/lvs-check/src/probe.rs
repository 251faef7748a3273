//! The async probes (tokio): one function runs one check once and says why it passed or failed.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use md5::{Digest, Md5};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use crate::core::CheckResult;
use crate::spec::{Probe, ProbeKind, ReplyPattern, Target, UrlSpec};

/// The result of one run of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The check passed.
    pub ok: bool,
    /// New weight (MISC_CHECK misc_dynamic, dynamic FILE_CHECK).
    pub weight: Option<u32>,
    /// What happened, e.g. `HTTP 503 from 198.51.100.12:80 /health, expected 200-299`.
    pub reason: String,
    /// How long the check took.
    pub elapsed: Duration,
}

impl Outcome {
    fn pass(reason: String) -> Self {
        Self {
            ok: true,
            weight: None,
            reason,
            elapsed: Duration::ZERO,
        }
    }
    fn fail(reason: String) -> Self {
        Self {
            ok: false,
            weight: None,
            reason,
            elapsed: Duration::ZERO,
        }
    }
    /// What the core needs.
    pub fn result(&self) -> CheckResult {
        CheckResult {
            ok: self.ok,
            weight: self.weight,
        }
    }
}

/// Runs the probe once.
///
/// ```no_run
/// # async fn f() {
/// use std::time::Duration;
/// use lvs_check::spec::{Probe, ProbeKind, Target};
/// let probe = Probe::new(ProbeKind::Tcp, Target::new("198.51.100.12:80".parse().unwrap(), Duration::from_secs(3)));
/// let outcome = lvs_check::probe::run(&probe).await;
/// println!("{} {}", outcome.ok, outcome.reason);
/// # }
/// ```
pub async fn run(probe: &Probe) -> Outcome {
    let start = Instant::now();
    let deadline = start + probe.target.timeout;
    let t = &probe.target;
    let mut out = match &probe.kind {
        ProbeKind::Tcp => tcp(t, deadline).await,
        ProbeKind::Http { tls, urls, http11 } => http(t, tls.as_ref(), urls, *http11).await,
        ProbeKind::Misc {
            argv,
            timeout,
            dynamic,
            user,
        } => misc(argv, *timeout, *dynamic, user.as_ref()).await,
        ProbeKind::Smtp { helo } => smtp(t, deadline, helo).await,
        ProbeKind::Dns { qtype, name } => dns(t, deadline, *qtype, name).await,
        ProbeKind::Udp {
            payload,
            require_reply,
            min_reply,
            max_reply,
        } => {
            udp(
                t,
                deadline,
                payload,
                require_reply.as_ref(),
                *min_reply,
                *max_reply,
            )
            .await
        }
        ProbeKind::Ping => ping(t, deadline).await,
        ProbeKind::File {
            path,
            weight,
            reverse,
            dynamic,
            base_weight,
        } => file(path, *weight, *reverse, *dynamic, *base_weight),
    };
    out.elapsed = start.elapsed();
    out
}

async fn phase<T>(
    deadline: Instant,
    what: impl FnOnce() -> String,
    fut: impl Future<Output = io::Result<T>>,
) -> Result<T, String> {
    match timeout_at(deadline, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{}: {}", what(), describe(&e))),
        Err(_) => Err(format!("{}: timeout", what())),
    }
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::UnexpectedEof => "connection closed early".into(),
        _ => e.to_string(),
    }
}

fn unspecified(addr: &SocketAddr) -> IpAddr {
    if addr.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    }
}

fn socket(t: &Target, ty: Type, proto: Protocol) -> io::Result<Socket> {
    // SOCK_NONBLOCK (and socket2's SOCK_CLOEXEC) at creation: no fcntl calls per check.
    let s = Socket::new(Domain::for_address(t.addr), ty.nonblocking(), Some(proto))?;
    setup(&s, t)?;
    Ok(s)
}

fn setup(s: &Socket, t: &Target) -> io::Result<()> {
    if let Some(m) = t.fwmark {
        s.set_mark(m)?;
    }
    if let Some(dev) = &t.bind_if {
        s.bind_device(Some(dev.as_bytes()))?;
    }
    if t.bind_ip.is_some() || t.bind_port.is_some() {
        s.set_reuse_address(true)?;
        let ip = t.bind_ip.unwrap_or_else(|| unspecified(&t.addr));
        s.bind(&SocketAddr::new(ip, t.bind_port.unwrap_or(0)).into())?;
    }
    Ok(())
}

async fn connect(t: &Target) -> io::Result<TcpStream> {
    let s = socket(t, Type::STREAM, Protocol::TCP)?;
    let std: std::net::TcpStream = s.into();
    TcpSocket::from_std_stream(std).connect(t.addr).await
}

async fn tcp(t: &Target, deadline: Instant) -> Outcome {
    match phase(
        deadline,
        || format!("TCP connect to {}", t.addr),
        connect(t),
    )
    .await
    {
        Ok(_) => Outcome::pass(format!("TCP connect to {} ok", t.addr)),
        Err(e) => Outcome::fail(e),
    }
}

// ---------------------------------------------------------------- HTTP / SSL

#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        // keepalived's SSL_GET does not verify the server certificate unless a CA is given.
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CFG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CFG.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map(|b| {
                b.dangerous()
                    .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
                    .with_no_client_auth()
            });
        // The ring provider supports the default versions; a failure here is a build bug.
        Arc::new(cfg.unwrap_or_else(|e| panic!("rustls ring provider: {e}")))
    })
    .clone()
}

fn host_header(t: &Target, vhost: Option<&str>, tls: bool) -> String {
    if let Some(v) = vhost {
        return v.to_string();
    }
    let default = if tls { 443 } else { 80 };
    let ip = match t.addr.ip() {
        IpAddr::V6(v6) => format!("[{v6}]"),
        ip => ip.to_string(),
    };
    if t.addr.port() == default {
        ip
    } else {
        format!("{ip}:{}", t.addr.port())
    }
}

fn fmt_ranges(r: &[(u16, u16)]) -> String {
    r.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends the request and reads the whole response: status code and MD5 hex of the body.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    request: &[u8],
) -> io::Result<(u16, String)> {
    s.write_all(request).await?;
    s.flush().await?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    let body_start = loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the end of the HTTP header",
            ));
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if head.len() > 64 * 1024 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "HTTP header longer than 64 KiB",
            ));
        }
    };
    let line_end = head.iter().position(|&b| b == b'\r').unwrap_or(0);
    let line = String::from_utf8_lossy(&head[..line_end]).into_owned();
    let mut words = line.split_whitespace();
    let code = match (words.next(), words.next()) {
        (Some(v), Some(c)) if v.starts_with("HTTP/") => c.parse::<u16>().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad HTTP status line {line:?}"),
        )
    })?;
    let mut md5 = Md5::new();
    md5.update(&head[body_start..]);
    loop {
        match s.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => md5.update(&buf[..n]),
            // A TLS peer that closes without close_notify: the body ended.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
    }
    let digest: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((code, digest))
}

async fn http(t: &Target, tls: Option<&Option<String>>, urls: &[UrlSpec], http11: bool) -> Outcome {
    let scheme = if tls.is_some() { "HTTPS" } else { "HTTP" };
    let mut last = String::new();
    for url in urls {
        // Each URL gets the whole connect_timeout, as keepalived restarts its timer per URL.
        let deadline = Instant::now() + t.timeout;
        let what = || format!("{scheme} {} {}", t.addr, url.path);
        let stream = match phase(deadline, what, connect(t)).await {
            Ok(s) => s,
            Err(e) => return Outcome::fail(e),
        };
        let mut req = format!(
            "GET {} HTTP/1.{}\r\nUser-Agent: KeepAliveClient\r\nHost: {}\r\n",
            url.path,
            u8::from(http11),
            host_header(t, url.virtualhost.as_deref(), tls.is_some())
        );
        if http11 {
            req.push_str("Connection: close\r\n");
        }
        req.push_str("\r\n");
        let res = match tls {
            None => phase(deadline, what, exchange(stream, req.as_bytes())).await,
            Some(sni) => {
                let name = match sni {
                    Some(n) => match rustls::pki_types::ServerName::try_from(n.clone()) {
                        Ok(n) => n,
                        Err(e) => return Outcome::fail(format!("bad SNI name {n:?}: {e}")),
                    },
                    // An IP address as server name: rustls sends no SNI.
                    None => rustls::pki_types::ServerName::IpAddress(t.addr.ip().into()),
                };
                let conn = tokio_rustls::TlsConnector::from(tls_config());
                let s = match phase(
                    deadline,
                    || format!("TLS handshake with {}", t.addr),
                    conn.connect(name, stream),
                )
                .await
                {
                    Ok(s) => s,
                    Err(e) => return Outcome::fail(e),
                };
                phase(deadline, what, exchange(s, req.as_bytes())).await
            }
        };
        let (code, digest) = match res {
            Ok(v) => v,
            Err(e) => return Outcome::fail(e),
        };
        if !url.accepts(code) {
            return Outcome::fail(format!(
                "{scheme} {code} from {} {}, expected {}",
                t.addr,
                url.path,
                fmt_ranges(&url.status)
            ));
        }
        if let Some(want) = &url.digest {
            if *want != digest {
                return Outcome::fail(format!(
                    "{scheme} body digest {digest} from {} {}, expected {want}",
                    t.addr, url.path
                ));
            }
        }
        last = format!("{scheme} {code} from {} {}", t.addr, url.path);
    }
    Outcome::pass(last)
}

// ---------------------------------------------------------------- MISC

/// Interprets a MISC_CHECK exit status: 0 = up, 1 = down, 2-255 with misc_dynamic = up with
/// weight status - 2; without misc_dynamic any non-zero status is a failure.
pub fn misc_verdict(code: i32, dynamic: bool) -> (bool, Option<u32>) {
    match code {
        0 => (true, None),
        2..=255 if dynamic => (true, Some((code - 2) as u32)),
        _ => (false, None),
    }
}

/// The uid and gid of `user [group]` (a leading `:` on the group is keepalived's "supplementary
/// groups" marker, ignored here).
fn credentials(user: &str, group: Option<&str>) -> Result<(u32, u32), String> {
    let u = nix::unistd::User::from_name(user)
        .map_err(|e| format!("user {user}: {e}"))?
        .ok_or_else(|| format!("no user {user}"))?;
    let gid = match group.map(|g| g.trim_start_matches(':')) {
        Some(g) if !g.is_empty() => {
            nix::unistd::Group::from_name(g)
                .map_err(|e| format!("group {g}: {e}"))?
                .ok_or_else(|| format!("no group {g}"))?
                .gid
        }
        _ => u.gid,
    };
    Ok((u.uid.as_raw(), gid.as_raw()))
}

async fn misc(
    argv: &[String],
    timeout: Duration,
    dynamic: bool,
    user: Option<&(String, Option<String>)>,
) -> Outcome {
    let line = argv.join(" ");
    let mut cmd = tokio::process::Command::new(&argv[0]);
    if let Some((u, g)) = user {
        match credentials(u, g.as_deref()) {
            Ok((uid, gid)) => {
                cmd.uid(uid).gid(gid);
            }
            Err(e) => return Outcome::fail(format!("MISC_CHECK {line}: {e}")),
        }
    }
    cmd.args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        // Its own process group, so a timeout kills the script and everything it started.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::fail(format!("MISC_CHECK {line}: cannot run: {e}")),
    };
    let pid = child.id();
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => match status.code() {
            Some(code) => {
                let (ok, weight) = misc_verdict(code, dynamic);
                let reason = match weight {
                    Some(w) => format!("MISC_CHECK {line}: exit {code}, weight {w}"),
                    None => format!("MISC_CHECK {line}: exit {code}"),
                };
                Outcome {
                    ok,
                    weight,
                    reason,
                    elapsed: Duration::ZERO,
                }
            }
            None => Outcome::fail(format!("MISC_CHECK {line}: killed by a signal ({status})")),
        },
        Ok(Err(e)) => Outcome::fail(format!("MISC_CHECK {line}: wait: {e}")),
        Err(_) => {
            if let Some(pid) = pid {
                if let Ok(pid) = i32::try_from(pid) {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
            let _ = child.start_kill();
            // Reap it: no zombie is left behind.
            let _ = child.wait().await;
            Outcome::fail(format!(
                "MISC_CHECK {line}: timed out after {}s, killed",
                timeout.as_secs_f64()
            ))
        }
    }
}

// ---------------------------------------------------------------- SMTP

async fn smtp_reply<R: AsyncBufReadExt + Unpin>(r: &mut R) -> io::Result<(u16, String)> {
    // Multi-line replies: `220-...` continues, `220 ...` ends.
    for _ in 0..100 {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let l = line.trim_end();
        let code = l
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad SMTP reply {l:?}"))
            })?;
        if l.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, l.to_string()));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "SMTP reply longer than 100 lines",
    ))
}

async fn smtp(t: &Target, deadline: Instant, helo: &str) -> Outcome {
    let what = || format!("SMTP {}", t.addr);
    let s = match phase(deadline, what, connect(t)).await {
        Ok(s) => s,
        Err(e) => return Outcome::fail(e),
    };
    let (rd, mut wr) = s.into_split();
    let mut rd = BufReader::new(rd);
    let conv = async {
        let (code, line) = smtp_reply(&mut rd).await?;
        if code != 220 {
            return Ok(Err(format!(
                "SMTP banner {line:?} from {}, expected 220",
                t.addr
            )));
        }
        wr.write_all(format!("HELO {helo}\r\n").as_bytes()).await?;
        let (code, line) = smtp_reply(&mut rd).await?;
        if code != 250 {
            return Ok(Err(format!(
                "SMTP HELO answered {line:?} by {}, expected 250",
                t.addr
            )));
        }
        let _ = wr.write_all(b"QUIT\r\n").await;
        Ok(Ok(()))
    };
    match phase(deadline, what, conv).await {
        Ok(Ok(())) => Outcome::pass(format!("SMTP 220/250 from {}", t.addr)),
        Ok(Err(e)) | Err(e) => Outcome::fail(e),
    }
}

// ---------------------------------------------------------------- DNS

fn next_id() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (t ^ n.wrapping_mul(0x9E37_79B9) ^ std::process::id()) as u16
}

/// Builds a DNS query (RFC 1035 §4.1): header with RD, one question of class IN.
/// None when a label is empty or longer than 63 bytes, or the name longer than 255.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 63 {
                return None;
            }
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
    }
    q.push(0);
    if q.len() - 12 > 255 {
        return None;
    }
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    Some(q)
}

async fn udp_socket(t: &Target) -> io::Result<UdpSocket> {
    let s = socket(t, Type::DGRAM, Protocol::UDP)?;
    let u = UdpSocket::from_std(s.into())?;
    u.connect(t.addr).await?;
    Ok(u)
}

async fn dns(t: &Target, deadline: Instant, qtype: u16, name: &str) -> Outcome {
    let what = || format!("DNS {}", t.addr);
    let id = next_id();
    let Some(query) = dns_query(id, name, qtype) else {
        return Outcome::fail(format!("DNS name {name:?} is not valid"));
    };
    let conv = async {
        let sock = udp_socket(t).await?;
        sock.send(&query).await?;
        let mut buf = [0u8; 1500];
        loop {
            let n = sock.recv(&mut buf).await?;
            // Not ours (wrong id or not a response): keep waiting until the deadline.
            if n < 12 || buf[..2] != id.to_be_bytes() || buf[2] & 0x80 == 0 {
                continue;
            }
            return Ok((buf[3] & 0x0f, u16::from_be_bytes([buf[6], buf[7]])));
        }
    };
    match phase(deadline, what, conv).await {
        Ok((0, answers)) => Outcome::pass(format!(
            "DNS {} answered {name} type {qtype} ({answers} answers)",
            t.addr
        )),
        Ok((rcode, _)) => Outcome::fail(format!(
            "DNS {} answered {name} type {qtype} with rcode {rcode}, expected 0 (NOERROR)",
            t.addr
        )),
        Err(e) => Outcome::fail(e),
    }
}

// ---------------------------------------------------------------- UDP

async fn udp(
    t: &Target,
    deadline: Instant,
    payload: &[u8],
    require: Option<&ReplyPattern>,
    min: usize,
    max: usize,
) -> Outcome {
    let sock = match udp_socket(t).await {
        Ok(s) => s,
        Err(e) => return Outcome::fail(format!("UDP {}: {}", t.addr, describe(&e))),
    };
    if let Err(e) = sock.send(payload).await {
        return Outcome::fail(format!("UDP {}: {}", t.addr, describe(&e)));
    }
    let mut buf = vec![0u8; 65536];
    match timeout_at(deadline, sock.recv(&mut buf)).await {
        Ok(Ok(n)) => {
            let data = &buf[..n];
            if let Some(p) = require {
                if n < min || n > max {
                    return Outcome::fail(format!(
                        "UDP {} replied {n} bytes, expected {min}-{max}",
                        t.addr
                    ));
                }
                if !p.matches(data) {
                    return Outcome::fail(format!(
                        "UDP {} reply does not match require_reply",
                        t.addr
                    ));
                }
            }
            Outcome::pass(format!("UDP {} replied {n} bytes", t.addr))
        }
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
            Outcome::fail(format!("UDP {}: ICMP port unreachable", t.addr))
        }
        Ok(Err(e)) => Outcome::fail(format!("UDP {}: {}", t.addr, describe(&e))),
        Err(_) if require.is_some() => Outcome::fail(format!("UDP {}: no reply (timeout)", t.addr)),
        Err(_) => Outcome::pass(format!("UDP {}: no ICMP error before the timeout", t.addr)),
    }
}

// ---------------------------------------------------------------- PING

fn icmp_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += u32::from(w);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

async fn ping(t: &Target, deadline: Instant) -> Outcome {
    let ip = t.addr.ip();
    let v4 = ip.is_ipv4();
    let (domain, proto) = if v4 {
        (Domain::IPV4, Protocol::ICMPV4)
    } else {
        (Domain::IPV6, Protocol::ICMPV6)
    };
    // An unprivileged ping socket when ping_group_range allows it, else a raw socket (root).
    let (sock, raw) = match Socket::new(domain, Type::DGRAM.nonblocking(), Some(proto)) {
        Ok(s) => (s, false),
        Err(_) => match Socket::new(domain, Type::RAW.nonblocking(), Some(proto)) {
            Ok(s) => (s, true),
            Err(e) => return Outcome::fail(format!("PING {ip}: cannot open an ICMP socket: {e}")),
        },
    };
    let mut t0 = t.clone();
    t0.bind_port = None;
    if let Err(e) = setup(&sock, &t0) {
        return Outcome::fail(format!("PING {ip}: {e}"));
    }
    let sock = match UdpSocket::from_std(sock.into()) {
        Ok(s) => s,
        Err(e) => return Outcome::fail(format!("PING {ip}: {e}")),
    };
    let id = next_id();
    let seq = next_id();
    let mut pkt = vec![if v4 { 8 } else { 128 }, 0, 0, 0];
    pkt.extend_from_slice(&id.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(b"lvs-check ping..");
    if v4 {
        let c = icmp_checksum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
    }
    let conv = async {
        sock.send_to(&pkt, SocketAddr::new(ip, 0)).await?;
        let mut buf = [0u8; 1500];
        loop {
            let (n, from) = sock.recv_from(&mut buf).await?;
            let mut m = &buf[..n];
            if raw && v4 {
                let ihl = usize::from(m.first().map_or(0, |b| b & 0x0f)) * 4;
                m = m.get(ihl..).unwrap_or(&[]);
            }
            let reply = if v4 { 0 } else { 129 };
            if m.len() < 8 || m[0] != reply || from.ip() != ip || m[6..8] != seq.to_be_bytes() {
                continue;
            }
            if raw && m[4..6] != id.to_be_bytes() {
                continue;
            }
            return Ok(());
        }
    };
    match phase(deadline, || format!("PING {ip}"), conv).await {
        Ok(()) => Outcome::pass(format!("PING {ip}: echo reply")),
        Err(e) => Outcome::fail(e),
    }
}

// ---------------------------------------------------------------- FILE

fn file(
    path: &std::path::Path,
    weight: i64,
    reverse: bool,
    dynamic: bool,
    base_weight: u32,
) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Outcome::fail(format!("FILE_CHECK {}: {e}", path.display())),
    };
    let word = text.split_whitespace().next().unwrap_or("0");
    let Ok(value) = word.parse::<i64>() else {
        return Outcome::fail(format!(
            "FILE_CHECK {}: {word:?} is not a number",
            path.display()
        ));
    };
    let (ok, w) = file_verdict(value, weight, reverse, dynamic, base_weight);
    let reason = format!("FILE_CHECK {}: value {value}", path.display());
    Outcome {
        ok,
        weight: w,
        reason,
        elapsed: Duration::ZERO,
    }
}

/// keepalived's track-file rule for real servers: with weight 0 a non-zero value is a failure;
/// otherwise `value * weight` (negated by `reverse`) at or below -2^31 is a failure, and with
/// `dynamic` it is added to the configured weight (clamped to 0..=65535).
pub fn file_verdict(
    value: i64,
    weight: i64,
    reverse: bool,
    dynamic: bool,
    base: u32,
) -> (bool, Option<u32>) {
    if weight == 0 {
        return (value == 0, None);
    }
    let r = value
        .saturating_mul(weight)
        .saturating_mul(if reverse { -1 } else { 1 });
    if r <= i64::from(i32::MIN) {
        return (false, None);
    }
    let w = dynamic.then(|| (i64::from(base) + r).clamp(0, 65535) as u32);
    (true, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misc_exit_codes() {
        assert_eq!(misc_verdict(0, true), (true, None));
        assert_eq!(misc_verdict(1, true), (false, None));
        assert_eq!(misc_verdict(2, true), (true, Some(0)));
        assert_eq!(misc_verdict(12, true), (true, Some(10)));
        assert_eq!(misc_verdict(255, true), (true, Some(253)));
        assert_eq!(misc_verdict(12, false), (false, None));
    }

    #[test]
    fn file_values() {
        assert_eq!(file_verdict(0, 0, false, false, 1), (true, None));
        assert_eq!(file_verdict(3, 0, false, false, 1), (false, None));
        assert_eq!(file_verdict(3, 2, false, true, 1), (true, Some(7)));
        assert_eq!(file_verdict(3, 2, true, true, 10), (true, Some(4)));
        assert_eq!(file_verdict(-2147483648, 1, false, true, 1), (false, None));
    }

    #[test]
    fn dns_query_bytes() {
        let q = dns_query(0x1234, "example.org", 1).unwrap();
        assert_eq!(&q[..12], &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..], b"\x07example\x03org\x00\x00\x01\x00\x01");
        let root = dns_query(1, ".", 6).unwrap();
        assert_eq!(&root[12..], &[0, 0, 6, 0, 1]);
        assert!(dns_query(1, "a..b", 1).is_none());
    }

    #[test]
    fn checksum_rfc1071() {
        // Echo request, id 1 seq 1, no payload.
        let p = [8, 0, 0, 0, 0, 1, 0, 1];
        assert_eq!(icmp_checksum(&p), 0xf7fd);
    }

    #[test]
    fn host_header_rules() {
        let t = Target::new("198.51.100.12:80".parse().unwrap(), Duration::from_secs(1));
        assert_eq!(host_header(&t, None, false), "198.51.100.12");
        assert_eq!(host_header(&t, None, true), "198.51.100.12:80");
        assert_eq!(host_header(&t, Some("www.example"), false), "www.example");
        let t6 = Target::new(
            "[2001:db8::1]:8080".parse().unwrap(),
            Duration::from_secs(1),
        );
        assert_eq!(host_header(&t6, None, false), "[2001:db8::1]:8080");
    }
}
