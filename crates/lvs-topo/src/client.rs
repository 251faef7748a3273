//! A steady HTTP client: one request per ~20 ms to the VIP from the client's namespace, each
//! recorded with its time, its outcome and the real server that answered.
//!
//! Each request is a new TCP connection (connect timeout 200 ms, then 1 s to answer), `GET /`
//! with HTTP/1.0; the page's text is the real server's name. [`Report`] sums a run (or a time
//! window of it): requests per server, failures, and the outage windows, each from the first
//! failed request to the next successful one.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lvs_testkit::Netns;

/// Time between the starts of two requests (when the previous one took less).
pub const INTERVAL: Duration = Duration::from_millis(20);
/// TCP connect timeout of one request.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
/// Time the server has to answer once connected.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);
/// The client stops by itself after this long (every loop is bounded).
pub const MAX_RUN: Duration = Duration::from_secs(900);

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// When it started, from the start of the run.
    pub at: Duration,
    /// How long it took.
    pub took: Duration,
    /// The real server that answered (the page's text), or `None` when it failed.
    pub server: Option<String>,
}

/// A running client (stop it with [`stop`](Self::stop); dropping it stops it too).
#[derive(Debug)]
pub struct Traffic {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
    start: Instant,
    join: Option<JoinHandle<io::Result<()>>>,
}

fn get(target: SocketAddr) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)?;
    s.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    s.set_write_timeout(Some(ANSWER_TIMEOUT))?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: lvs-topo\r\n\r\n")?;
    let mut buf = Vec::with_capacity(512);
    s.take(64 * 1024).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other("no HTTP header end"))?;
    if !head.starts_with("HTTP/1.") || !head.contains(" 200 ") {
        return Err(io::Error::other(format!(
            "unexpected answer {:?}",
            head.lines().next()
        )));
    }
    Ok(body.trim().to_string())
}

impl Traffic {
    /// Starts the client on a thread that enters `ns` (setns) and requests `target` until stopped.
    pub fn start(ns: &Netns, target: SocketAddr) -> io::Result<Self> {
        let file = File::open(ns.path())?;
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let (s, l) = (stop.clone(), log.clone());
        let join = std::thread::Builder::new()
            .name("lvs-topo-client".into())
            .spawn(move || -> io::Result<()> {
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(io::Error::from)?;
                let mut next = Instant::now();
                while !s.load(Ordering::Relaxed) && start.elapsed() < MAX_RUN {
                    let t = Instant::now();
                    let server = get(target).ok();
                    let r = Request {
                        at: t - start,
                        took: t.elapsed(),
                        server,
                    };
                    l.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                    next = (next + INTERVAL).max(Instant::now());
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                }
                Ok(())
            })?;
        Ok(Self {
            stop,
            log,
            start,
            join: Some(join),
        })
    }

    /// Time since the client started (the clock of [`Request::at`]).
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// A copy of the requests so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The requests started in `[from, to)`.
    pub fn window(&self, from: Duration, to: Duration) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.at >= from && r.at < to)
            .collect()
    }

    /// Waits (bounded by `timeout`) until `n` more requests than now have been recorded.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> bool {
        let want = self.requests().len() + n;
        lvs_testkit::wait_until(timeout, Duration::from_millis(20), || {
            self.requests().len() >= want
        })
    }

    /// Stops the client and returns every request it made.
    pub fn stop(mut self) -> Run {
        self.halt();
        Run {
            requests: self.requests(),
        }
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The requests of a finished run.
#[derive(Debug, Clone)]
pub struct Run {
    /// Every request, in order.
    pub requests: Vec<Request>,
}

impl Run {
    /// The report over the whole run.
    pub fn report(&self) -> Report {
        Report::of(&self.requests)
    }
}

/// An outage: consecutive failed requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// Start of the first failed request.
    pub from: Duration,
    /// Start of the next successful request (`None`: still failing at the end).
    pub to: Option<Duration>,
    /// Failed requests in it.
    pub failed: usize,
}

impl Outage {
    /// Its length in ms (up to the last failed request's end when it never ended).
    pub fn ms(&self) -> u128 {
        self.to
            .unwrap_or(self.from)
            .saturating_sub(self.from)
            .as_millis()
    }
}

/// Sums of a run or a window of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Requests made.
    pub requests: usize,
    /// Successful requests per real server name.
    pub per_server: BTreeMap<String, usize>,
    /// Failed requests.
    pub failures: usize,
    /// The outage windows, in order.
    pub outages: Vec<Outage>,
}

impl Report {
    /// Sums `requests` (in time order).
    ///
    /// ```
    /// use lvs_topo::client::{Report, Request};
    /// use std::time::Duration;
    /// let r = |ms, s: Option<&str>| Request {
    ///     at: Duration::from_millis(ms),
    ///     took: Duration::from_millis(1),
    ///     server: s.map(String::from),
    /// };
    /// let rep = Report::of(&[r(0, Some("rs1")), r(20, None), r(240, None), r(460, Some("rs2"))]);
    /// assert_eq!((rep.requests, rep.failures), (4, 2));
    /// assert_eq!(rep.per_server["rs1"], 1);
    /// assert_eq!(rep.outages[0].ms(), 440);
    /// assert_eq!(rep.longest_outage_ms(), 440);
    /// ```
    pub fn of(requests: &[Request]) -> Self {
        let mut rep = Self {
            requests: requests.len(),
            ..Self::default()
        };
        let mut open: Option<Outage> = None;
        for r in requests {
            match &r.server {
                Some(s) => {
                    *rep.per_server.entry(s.clone()).or_default() += 1;
                    if let Some(mut o) = open.take() {
                        o.to = Some(r.at);
                        rep.outages.push(o);
                    }
                }
                None => {
                    rep.failures += 1;
                    match &mut open {
                        Some(o) => o.failed += 1,
                        None => {
                            open = Some(Outage {
                                from: r.at,
                                to: None,
                                failed: 1,
                            })
                        }
                    }
                }
            }
        }
        rep.outages.extend(open);
        rep
    }

    /// Successful requests answered by `server`.
    pub fn count(&self, server: &str) -> usize {
        self.per_server.get(server).copied().unwrap_or(0)
    }

    /// Successful requests.
    pub fn served(&self) -> usize {
        self.requests - self.failures
    }

    /// The longest outage window in ms (0 when none).
    pub fn longest_outage_ms(&self) -> u128 {
        self.outages.iter().map(Outage::ms).max().unwrap_or(0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} requests, {} failed", self.requests, self.failures)?;
        for (s, n) in &self.per_server {
            write!(f, ", {s}: {n}")?;
        }
        if !self.outages.is_empty() {
            let w: Vec<String> = self
                .outages
                .iter()
                .map(|o| format!("{} ms ({} failed)", o.ms(), o.failed))
                .collect();
            write!(f, "; outages: {}", w.join(", "))?;
        }
        Ok(())
    }
}
