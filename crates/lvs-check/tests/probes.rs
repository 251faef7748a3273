//! Every checker against real servers in network namespaces (root), and MISC_CHECK/FILE_CHECK
//! against real programs and files (no root needed).

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lvs_check::probe::{Outcome, run};
use lvs_check::spec::{Probe, ProbeKind, Target, UrlSpec, parse_hex};
use lvs_testkit::skip_unless;
use md5::{Digest, Md5};
use support::{Mode, Stop, block_in, rs_addr, serve, topo, udp_serve};

fn probe(kind: ProbeKind, addr: SocketAddr, timeout_ms: u64) -> Probe {
    Probe::new(kind, Target::new(addr, Duration::from_millis(timeout_ms)))
}

fn http(path: &str, status: Vec<(u16, u16)>, digest: Option<String>) -> ProbeKind {
    let mut u = UrlSpec::new(path);
    u.status = status;
    u.digest = digest;
    ProbeKind::Http {
        tls: None,
        urls: vec![u],
        http11: false,
    }
}

fn expect(o: &Outcome, ok: bool, needle: &str) {
    assert_eq!(o.ok, ok, "{o:?}");
    assert!(o.reason.contains(needle), "{:?} lacks {needle:?}", o.reason);
}

fn tls_server(
    ns: &lvs_testkit::Netns,
    addr: SocketAddr,
    stop: &Stop,
) -> Arc<Mutex<Vec<Option<String>>>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cert = rcgen::generate_simple_self_signed(vec!["rs.example.test".into()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = support::listen(ns, addr);
    l.set_nonblocking(true).unwrap();
    let sni = Arc::new(Mutex::new(Vec::new()));
    let (sni2, stop) = (sni.clone(), stop.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(l).unwrap();
            while !stop.stopped() {
                let Ok(Ok((s, _))) =
                    tokio::time::timeout(Duration::from_millis(50), l.accept()).await
                else {
                    continue;
                };
                let (acceptor, sni) = (acceptor.clone(), sni2.clone());
                tokio::spawn(async move {
                    let Ok(mut s) = acceptor.accept(s).await else {
                        return;
                    };
                    sni.lock()
                        .unwrap()
                        .push(s.get_ref().1.server_name().map(str::to_string));
                    let mut b = [0u8; 2048];
                    let _ = s.read(&mut b).await;
                    let _ = s
                        .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nsecure")
                        .await;
                    let _ = s.shutdown().await;
                });
            }
        });
    });
    sni
}

#[test]
fn every_checker_against_real_servers() {
    if skip_unless("every_checker_against_real_servers", &["busybox"]) {
        return;
    }
    let t = topo("chk", 2);
    let stop = Stop::default();

    // rs0: busybox httpd on :80 with /health; Rust responders on rs1.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("health"), "all good\n").unwrap();
    let mut httpd = t.rs[0]
        .cmd("busybox")
        .args(["httpd", "-f", "-p", "198.51.100.12:80", "-h"])
        .arg(dir.path())
        .spawn()
        .unwrap();
    let good_digest: String = Md5::digest(b"all good\n")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    serve(&t.rs[1], rs_addr(1, 8080), Mode::Http(503, "down"), &stop);
    let vhost_seen = serve(&t.rs[1], rs_addr(1, 8081), Mode::Http(200, "ok"), &stop);
    serve(
        &t.rs[1],
        rs_addr(1, 8082),
        Mode::Slow(Duration::from_secs(3)),
        &stop,
    );
    serve(&t.rs[1], rs_addr(1, 8083), Mode::Reset, &stop);
    let helo_seen = serve(&t.rs[1], rs_addr(1, 25), Mode::Smtp(220, 250), &stop);
    serve(&t.rs[1], rs_addr(1, 26), Mode::Smtp(220, 554), &stop);
    serve(&t.rs[1], rs_addr(1, 27), Mode::Smtp(421, 250), &stop);
    udp_serve(&t.rs[1], rs_addr(1, 53), true, &stop);
    udp_serve(&t.rs[1], rs_addr(1, 7), false, &stop);
    let sni_seen = tls_server(&t.rs[0], rs_addr(0, 443), &stop);
    // A UDP port that is open but never answers: no reply, no ICMP error.
    let _silent = t.rs[0]
        .enter(|| std::net::UdpSocket::bind(rs_addr(0, 9999)))
        .unwrap()
        .unwrap();

    let v6: SocketAddr = "[2001:db8::12]:0".parse().unwrap();
    let nobody: SocketAddr = "198.51.100.77:80".parse().unwrap();
    let digest = good_digest.clone();
    let results = block_in(&t.lb, || async move {
        // busybox httpd needs a moment to listen.
        for _ in 0..100 {
            if run(&probe(ProbeKind::Tcp, rs_addr(0, 80), 500)).await.ok {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut r: Vec<(&str, Outcome)> = Vec::new();
        let mut push = |n, o| r.push((n, o));
        push(
            "tcp ok",
            run(&probe(ProbeKind::Tcp, rs_addr(0, 80), 1000)).await,
        );
        push(
            "tcp refused",
            run(&probe(ProbeKind::Tcp, rs_addr(0, 81), 1000)).await,
        );
        push(
            "tcp timeout",
            run(&probe(ProbeKind::Tcp, nobody, 700)).await,
        );
        push(
            "http ok",
            run(&probe(
                http("/health", vec![(200, 299)], Some(digest.clone())),
                rs_addr(0, 80),
                2000,
            ))
            .await,
        );
        push(
            "http digest",
            run(&probe(
                http(
                    "/health",
                    vec![(200, 299)],
                    Some("0123456789abcdef0123456789abcdef".into()),
                ),
                rs_addr(0, 80),
                2000,
            ))
            .await,
        );
        push(
            "http 404",
            run(&probe(
                http("/missing", vec![(200, 299)], None),
                rs_addr(0, 80),
                2000,
            ))
            .await,
        );
        push(
            "http 404 accepted",
            run(&probe(
                http("/missing", vec![(200, 200), (400, 404)], None),
                rs_addr(0, 80),
                2000,
            ))
            .await,
        );
        push(
            "http 503",
            run(&probe(
                http("/health", vec![(200, 200)], None),
                rs_addr(1, 8080),
                2000,
            ))
            .await,
        );
        let mut vh = UrlSpec::new("/v");
        vh.virtualhost = Some("www.example.test".into());
        push(
            "http vhost",
            run(&probe(
                ProbeKind::Http {
                    tls: None,
                    urls: vec![vh],
                    http11: true,
                },
                rs_addr(1, 8081),
                2000,
            ))
            .await,
        );
        push(
            "http slow",
            run(&probe(
                http("/", vec![(200, 299)], None),
                rs_addr(1, 8082),
                800,
            ))
            .await,
        );
        push(
            "http reset",
            run(&probe(
                http("/", vec![(200, 299)], None),
                rs_addr(1, 8083),
                2000,
            ))
            .await,
        );
        let tls = |sni: Option<&str>| ProbeKind::Http {
            tls: Some(sni.map(str::to_string)),
            urls: vec![UrlSpec::new("/")],
            http11: false,
        };
        push(
            "ssl ok",
            run(&probe(tls(None), rs_addr(0, 443), 2000)).await,
        );
        push(
            "ssl sni",
            run(&probe(tls(Some("api.example.test")), rs_addr(0, 443), 2000)).await,
        );
        push(
            "ssl on plain http",
            run(&probe(tls(None), rs_addr(0, 80), 2000)).await,
        );
        let smtp = || ProbeKind::Smtp {
            helo: "lb.example.test".into(),
        };
        push("smtp ok", run(&probe(smtp(), rs_addr(1, 25), 2000)).await);
        push(
            "smtp helo 554",
            run(&probe(smtp(), rs_addr(1, 26), 2000)).await,
        );
        push(
            "smtp banner 421",
            run(&probe(smtp(), rs_addr(1, 27), 2000)).await,
        );
        let dns = |name: &str| ProbeKind::Dns {
            qtype: 6,
            name: name.into(),
        };
        push(
            "dns ok",
            run(&probe(dns("example.test"), rs_addr(1, 53), 1000)).await,
        );
        push(
            "dns nxdomain",
            run(&probe(dns("missing.example.test"), rs_addr(1, 53), 1000)).await,
        );
        push(
            "dns closed",
            run(&probe(dns("example.test"), rs_addr(0, 53), 1000)).await,
        );
        let udp = |req: Option<&str>| ProbeKind::Udp {
            payload: b"ping".to_vec(),
            require_reply: req.map(|h| parse_hex(h, true).unwrap()),
            min_reply: 0,
            max_reply: 255,
        };
        push(
            "udp reply",
            run(&probe(udp(Some("706f6e67 3a")), rs_addr(1, 7), 1000)).await,
        );
        push(
            "udp wildcard",
            run(&probe(udp(Some("7x6f")), rs_addr(1, 7), 1000)).await,
        );
        push(
            "udp mismatch",
            run(&probe(udp(Some("ff")), rs_addr(1, 7), 1000)).await,
        );
        push(
            "udp unreachable",
            run(&probe(udp(None), rs_addr(1, 9), 1000)).await,
        );
        push(
            "udp silent",
            run(&probe(udp(None), rs_addr(0, 9999), 300)).await,
        );
        push(
            "ping v4",
            run(&probe(ProbeKind::Ping, rs_addr(0, 0), 1000)).await,
        );
        push("ping v6", run(&probe(ProbeKind::Ping, v6, 1000)).await);
        push(
            "ping nobody",
            run(&probe(ProbeKind::Ping, nobody, 500)).await,
        );
        r
    });
    let get = |n: &str| &results.iter().find(|(k, _)| *k == n).unwrap().1;
    expect(get("tcp ok"), true, "TCP connect to 198.51.100.12:80 ok");
    expect(get("tcp refused"), false, "connection refused");
    expect(get("tcp timeout"), false, "timeout");
    expect(
        get("http ok"),
        true,
        "HTTP 200 from 198.51.100.12:80 /health",
    );
    expect(
        get("http digest"),
        false,
        &format!("body digest {good_digest}"),
    );
    expect(
        get("http 404"),
        false,
        "HTTP 404 from 198.51.100.12:80 /missing, expected 200-299",
    );
    expect(get("http 404 accepted"), true, "HTTP 404");
    expect(
        get("http 503"),
        false,
        "HTTP 503 from 198.51.100.13:8080 /health, expected 200",
    );
    expect(get("http vhost"), true, "HTTP 200");
    let head = vhost_seen.lock().unwrap()[0].clone();
    assert!(head.starts_with("GET /v HTTP/1.1\r\n"), "{head:?}");
    assert!(
        head.contains("Host: www.example.test\r\n") && head.contains("Connection: close\r\n"),
        "{head:?}"
    );
    expect(get("http slow"), false, "timeout");
    assert!(get("http slow").elapsed < Duration::from_millis(2500));
    expect(get("http reset"), false, "connection reset");
    expect(get("ssl ok"), true, "HTTPS 200 from 198.51.100.12:443 /");
    expect(get("ssl sni"), true, "HTTPS 200");
    assert_eq!(
        *sni_seen.lock().unwrap(),
        vec![None, Some("api.example.test".to_string())]
    );
    expect(
        get("ssl on plain http"),
        false,
        "TLS handshake with 198.51.100.12:80",
    );
    expect(get("smtp ok"), true, "SMTP 220/250");
    assert_eq!(helo_seen.lock().unwrap()[0], "HELO lb.example.test\r\n");
    expect(get("smtp helo 554"), false, "expected 250");
    expect(get("smtp banner 421"), false, "expected 220");
    expect(get("dns ok"), true, "answered example.test type 6");
    expect(get("dns nxdomain"), false, "rcode 3");
    expect(get("dns closed"), false, "connection refused");
    expect(get("udp reply"), true, "replied 9 bytes");
    expect(get("udp wildcard"), true, "replied");
    expect(get("udp mismatch"), false, "does not match");
    expect(get("udp unreachable"), false, "ICMP port unreachable");
    expect(get("udp silent"), true, "no ICMP error");
    expect(get("ping v4"), true, "echo reply");
    expect(get("ping v6"), true, "echo reply");
    expect(get("ping nobody"), false, "timeout");
    stop.stop();
    let _ = httpd.kill();
    let _ = httpd.wait();
}

fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

fn misc(line: &str, timeout: Duration, dynamic: bool) -> Probe {
    misc_as(line, timeout, dynamic, None)
}

fn misc_as(line: &str, timeout: Duration, dynamic: bool, user: Option<&str>) -> Probe {
    probe(
        ProbeKind::Misc {
            argv: lvs_check::spec::split_command(line),
            timeout,
            dynamic,
            user: user.map(|u| (u.to_string(), None)),
        },
        "198.51.100.12:0".parse().unwrap(),
        1000,
    )
}

/// Processes whose command line contains `needle`, and zombie children of this process left by
/// the hanging script.
fn leftovers(needle: &str) -> (Vec<String>, Vec<String>) {
    let me = std::process::id().to_string();
    let (mut found, mut zombies) = (Vec::new(), Vec::new());
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let p = e.path();
        if let Ok(cmd) = std::fs::read(p.join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(cmd);
            }
        }
        if let Ok(stat) = std::fs::read_to_string(p.join("stat")) {
            if let Some((_, rest)) = stat.rsplit_once(')') {
                let f: Vec<&str> = rest.split_whitespace().collect();
                // Only the hanging script's processes: other tests of this binary reap their
                // own children (busybox, ip) and may be between exit and wait right now.
                let ours = stat.contains("(hang)") || stat.contains("(sleep)");
                if ours && f.first() == Some(&"Z") && f.get(1) == Some(&me.as_str()) {
                    zombies.push(stat.clone());
                }
            }
        }
    }
    (found, zombies)
}

#[test]
fn misc_check_runs_programs_without_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = script(d, "ok", "exit 0");
    let fail = script(d, "fail", "exit 1");
    let dynamic = script(d, "dyn", "exit 12");
    let args = script(d, "args", "[ \"$1\" = 'a b' ] && [ \"$2\" = 'c' ]");
    // A marker so we can find its processes: an unusual sleep length.
    let hang = script(d, "hang", "sleep 37.123\nexit 0");
    let marker = d.join("injected");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t = Duration::from_secs(5);
        expect(&run(&misc(&ok, t, false)).await, true, "exit 0");
        expect(&run(&misc(&fail, t, true)).await, false, "exit 1");
        let o = run(&misc(&dynamic, t, true)).await;
        expect(&o, true, "exit 12, weight 10");
        assert_eq!(o.weight, Some(10));
        let o = run(&misc(&dynamic, t, false)).await;
        expect(&o, false, "exit 12");
        assert_eq!(o.weight, None);
        expect(
            &run(&misc(&format!("{args} 'a b' c"), t, false)).await,
            true,
            "exit 0",
        );
        expect(
            &run(&misc(&format!("{args} a b c"), t, false)).await,
            false,
            "exit 1",
        );
        // No shell: `;` and `>` are plain arguments of echo.
        let line = format!("/bin/echo x ; touch {}", marker.display());
        expect(&run(&misc(&line, t, false)).await, true, "exit 0");
        assert!(!marker.exists(), "a shell ran the command line");
        expect(
            &run(&misc("/nonexistent/check", t, false)).await,
            false,
            "cannot run",
        );
        // A hanging script: killed at misc_timeout with its children, and reaped.
        let start = Instant::now();
        let o = run(&misc(&hang, Duration::from_millis(500), false)).await;
        expect(&o, false, "timed out after 0.5s, killed");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    });
    let (found, zombies) = leftovers("37.123");
    assert!(found.is_empty(), "still running: {found:?}");
    assert!(zombies.is_empty(), "zombies: {zombies:?}");
}

#[test]
fn file_check_reads_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("state");
    let file = |weight, dynamic| {
        probe(
            ProbeKind::File {
                path: f.clone(),
                weight,
                reverse: false,
                dynamic,
                base_weight: 1,
            },
            "198.51.100.12:0".parse().unwrap(),
            1000,
        )
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        expect(&run(&file(0, false)).await, false, "No such file");
        std::fs::write(&f, "0\n").unwrap();
        expect(&run(&file(0, false)).await, true, "value 0");
        std::fs::write(&f, "5\n").unwrap();
        expect(&run(&file(0, false)).await, false, "value 5");
        let o = run(&file(2, true)).await;
        expect(&o, true, "value 5");
        assert_eq!(o.weight, Some(11));
        std::fs::write(&f, "nope").unwrap();
        expect(&run(&file(1, false)).await, false, "not a number");
    });
}
