//! Real servers for the namespace tests: a LAN with a checker host and real-server hosts, and
//! small responders (std threads on sockets created inside the namespaces).
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lvs_testkit::{Lan, Netns};

/// lb: 198.51.100.1 / 2001:db8::1; rs[i]: 198.51.100.(12+i) / 2001:db8::(12+i).
pub struct Topo {
    pub lb: Netns,
    pub rs: Vec<Netns>,
    _lan: Lan,
}

pub fn topo(tag: &str, n: usize) -> Topo {
    let lan = Lan::new(tag).expect("lan");
    let lb = Netns::new(&format!("{tag}-lb")).expect("lb");
    lan.attach(&lb, "eth0").expect("attach lb");
    lb.run(&["ip", "addr", "add", "198.51.100.1/24", "dev", "eth0"])
        .unwrap();
    lb.run(&[
        "ip",
        "addr",
        "add",
        "2001:db8::1/64",
        "dev",
        "eth0",
        "nodad",
    ])
    .unwrap();
    let mut rs = Vec::new();
    for i in 0..n {
        let ns = Netns::new(&format!("{tag}-rs{i}")).expect("rs");
        lan.attach(&ns, "eth0").expect("attach rs");
        let v4 = format!("198.51.100.{}/24", 12 + i);
        let v6 = format!("2001:db8::{}/64", 12 + i);
        ns.run(&["ip", "addr", "add", &v4, "dev", "eth0"]).unwrap();
        ns.run(&["ip", "addr", "add", &v6, "dev", "eth0", "nodad"])
            .unwrap();
        rs.push(ns);
    }
    Topo { lb, rs, _lan: lan }
}

pub fn rs_addr(i: usize, port: u16) -> SocketAddr {
    format!("198.51.100.{}:{port}", 12 + i).parse().unwrap()
}

/// Sets a flag on drop: the responder threads stop (their loops poll it every 5 ms).
#[derive(Clone, Default)]
pub struct Stop(pub Arc<AtomicBool>);

impl Stop {
    pub fn stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What an HTTP-ish responder does with a request.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Answer with this status and body.
    Http(u16, &'static str),
    /// Wait, then answer 200.
    Slow(Duration),
    /// Reset the connection (SO_LINGER 0 and close).
    Reset,
    /// SMTP dialogue: banner code, HELO reply code.
    Smtp(u16, u16),
}

pub fn listen(ns: &Netns, addr: SocketAddr) -> TcpListener {
    ns.enter(|| TcpListener::bind(addr))
        .unwrap()
        .unwrap_or_else(|e| panic!("bind {addr}: {e}"))
}

/// Serves `mode` on `addr` inside `ns`; records the request heads it saw.
pub fn serve(ns: &Netns, addr: SocketAddr, mode: Mode, stop: &Stop) -> Arc<Mutex<Vec<String>>> {
    let l = listen(ns, addr);
    l.set_nonblocking(true).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (stop, seen2) = (stop.clone(), seen.clone());
    std::thread::spawn(move || {
        while !stop.stopped() {
            match l.accept() {
                Ok((s, _)) => {
                    let (mode, seen) = (mode.clone(), seen2.clone());
                    std::thread::spawn(move || handle(s, &mode, &seen));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    seen
}

fn read_head(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16384 {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn handle(mut s: TcpStream, mode: &Mode, seen: &Mutex<Vec<String>>) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    match mode {
        Mode::Smtp(banner, helo) => {
            let _ = write!(s, "{banner} mail.example.test ESMTP\r\n");
            let mut b = [0u8; 512];
            let n = s.read(&mut b).unwrap_or(0);
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&b[..n]).into_owned());
            let _ = write!(s, "{helo} mail.example.test\r\n");
            let _ = s.read(&mut b);
        }
        _ => {
            let head = read_head(&mut s);
            seen.lock().unwrap().push(head);
            match mode {
                Mode::Http(code, body) => {
                    let _ = write!(
                        s,
                        "HTTP/1.0 {code} X\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
                Mode::Slow(d) => {
                    std::thread::sleep(*d);
                    let _ = write!(s, "HTTP/1.0 200 OK\r\n\r\nslow");
                }
                Mode::Reset => {
                    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                }
                Mode::Smtp(..) => {}
            }
        }
    }
}

/// A UDP responder: DNS (answers with `rcode`, 3 = NXDOMAIN for names containing "missing"),
/// or an echo with a prefix.
pub fn udp_serve(ns: &Netns, addr: SocketAddr, dns: bool, stop: &Stop) {
    let s = ns.enter(|| UdpSocket::bind(addr)).unwrap().unwrap();
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut b = [0u8; 1500];
        while !stop.stopped() {
            let Ok((n, from)) = s.recv_from(&mut b) else {
                continue;
            };
            let mut reply = b[..n].to_vec();
            if dns {
                if n < 12 {
                    continue;
                }
                let missing = reply.windows(7).any(|w| w == b"missing");
                reply[2] |= 0x80;
                reply[3] = (reply[3] & 0xf0) | if missing { 3 } else { 0 };
            } else {
                reply.splice(0..0, b"pong:".iter().copied());
            }
            let _ = s.send_to(&reply, from);
        }
    });
}

/// Runs `f`'s future on a current-thread runtime on a thread inside `ns`.
pub fn block_in<R: Send, F: Future<Output = R>>(ns: &Netns, f: impl FnOnce() -> F + Send) -> R {
    ns.enter(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f())
    })
    .unwrap()
}
