//! The kernel handle: a generic-netlink socket (neli's [`neli::socket::NlSocket`], used as
//! a byte pipe), the IPVS family id resolved once, single requests, dumps and pipelined
//! batches.

use std::io;
use std::net::SocketAddr;

use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;

use crate::error::{Error, Object};
use crate::message::{self, IPVS_GENL_NAME, Reply, Request, parse_one};
use crate::types::*;
use crate::wire::{self, Messages};

/// Receive buffer for one datagram: dumps fill skbs of up to 32 KiB.
const RECV_BUF: usize = 64 * 1024;
/// Socket receive buffer we ask for (the kernel caps it at `net.core.rmem_max`).
const SO_RCVBUF_WANTED: usize = 4 * 1024 * 1024;
/// Bytes of requests per `sendmsg` (the kernel refuses messages above `sk_sndbuf - 32`).
const BATCH_BYTES: usize = 60 * 1024;
/// Requests per `sendmsg`: bounds the error replies queued at once (each takes an skb).
const BATCH_MAX: usize = 256;

/// The outcome of one item of a batch.
pub type ItemResult = Result<(), Error>;

/// A handle on IPVS in the current network namespace.
///
/// All calls are synchronous. Reads need CAP_NET_ADMIN too (`GENL_ADMIN_PERM`).
///
/// # Example
///
/// ```no_run
/// use ipvs_netlink::{Destination, Forward, Ipvs, Service, ServiceKey};
///
/// let mut ipvs = Ipvs::connect()?; // Error::Unavailable without the ip_vs module
/// let key = ServiceKey::tcp("192.0.2.10:80".parse().unwrap());
/// ipvs.add_service(&Service::new(key))?;
/// ipvs.add_dest(&key, &Destination::new("198.51.100.1:80".parse().unwrap()).forward(Forward::Masq))?;
/// for vs in ipvs.dump()? {
///     println!("{:?} has {} destinations", vs.entry.service.key, vs.dests.len());
/// }
/// # Ok::<(), ipvs_netlink::Error>(())
/// ```
pub struct Ipvs {
    sock: NlSocket,
    family: u16,
    seq: u32,
    out: Vec<u8>,
    inbuf: Vec<u8>,
    /// Requests per sendmsg; halved after an ENOBUFS.
    window: usize,
}

impl core::fmt::Debug for Ipvs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ipvs")
            .field("family", &self.family)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Ipvs {
    /// Opens a generic-netlink socket and resolves the "IPVS" family.
    pub fn connect() -> Result<Self, Error> {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())?;
        // Best effort: a bigger queue makes ENOBUFS rarer; extended acks give messages.
        let _ = sock.set_recv_buffer_size(SO_RCVBUF_WANTED);
        let _ = sock.enable_ext_ack(true);
        let mut me = Self {
            sock,
            family: 0,
            seq: std::process::id().wrapping_mul(7919),
            out: Vec::with_capacity(BATCH_BYTES + 4096),
            inbuf: vec![0; RECV_BUF],
            window: BATCH_MAX,
        };
        me.family = me.resolve_family()?;
        Ok(me)
    }

    /// Asks for a socket receive buffer of `bytes` (the kernel doubles it and caps it at
    /// `net.core.rmem_max`). [`Ipvs::connect`] asks for 4 MiB; a small buffer makes overruns
    /// (ENOBUFS) likely, which tests of the recovery path use.
    pub fn set_recv_buffer_size(&mut self, bytes: usize) -> Result<(), Error> {
        self.sock.set_recv_buffer_size(bytes)?;
        Ok(())
    }

    /// Requests per `sendmsg` in [`Ipvs::apply`] (default 256, halved after an overrun).
    pub fn set_batch_window(&mut self, n: usize) {
        self.window = n.clamp(1, BATCH_MAX);
    }

    /// The generic-netlink family id of IPVS in this kernel.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send_out(&mut self) -> Result<(), Error> {
        let mut off = 0;
        while off < self.out.len() {
            let n = self.sock.send(&self.out[off..], Msg::empty())?;
            if n == 0 {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "netlink send",
                )));
            }
            off += n;
        }
        self.out.clear();
        Ok(())
    }

    /// Receives one datagram into `inbuf`, returning its length.
    fn recv(&mut self) -> Result<usize, io::Error> {
        loop {
            match self.sock.recv(&mut self.inbuf[..], Msg::empty()) {
                Ok((n, _)) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let seq = self.next_seq();
        message::emit_getfamily(&mut self.out, IPVS_GENL_NAME, seq);
        self.send_out()?;
        let mut id = None;
        for _ in 0..64 {
            let n = self.recv()?;
            for m in Messages::new(&self.inbuf[..n]) {
                let (hdr, payload) = m.map_err(|_| message::ParseError("netlink header"))?;
                if hdr.seq != seq {
                    continue;
                }
                if hdr.kind == wire::NLMSG_ERROR {
                    let errno = payload
                        .get(..4)
                        .map(|b| -i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                        .unwrap_or(0);
                    return match (errno, id) {
                        (0, Some(id)) => Ok(id),
                        (libc::ENOENT, _) | (0, None) => Err(Error::Unavailable),
                        (e, _) => Err(Error::Io(io::Error::from_raw_os_error(e))),
                    };
                }
                if hdr.kind == 0x10 {
                    id = message::parse_family_id(payload);
                }
            }
        }
        Err(Error::NoReply(Object::Global))
    }

    /// Sends one request and collects its replies: the ACK for commands, every part up to
    /// `NLMSG_DONE` for dumps. An error reply becomes a typed [`Error`].
    pub fn request(&mut self, req: &Request) -> Result<Vec<Reply>, Error> {
        let dump = req.is_dump();
        for _attempt in 0..3 {
            let seq = self.next_seq();
            // Dumps end with NLMSG_DONE; commands with an ACK (NLM_F_ACK).
            req.emit(&mut self.out, self.family, seq, !dump);
            self.send_out()?;
            let mut replies = Vec::new();
            let mut overrun = false;
            'recv: loop {
                let n = match self.recv() {
                    Ok(n) => n,
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                        overrun = true;
                        break 'recv;
                    }
                    Err(e) => return Err(e.into()),
                };
                for m in Messages::new(&self.inbuf[..n]) {
                    let (hdr, payload) = m.map_err(|_| message::ParseError("netlink header"))?;
                    if hdr.seq != seq {
                        continue; // stale reply of an earlier request
                    }
                    match parse_one(hdr.kind, hdr.flags, payload) {
                        Reply::Ack { errno: 0, .. } => {
                            if !dump {
                                break 'recv;
                            }
                        }
                        Reply::Ack { errno, ext_msg } => {
                            return Err(Error::from_errno(req, errno, ext_msg));
                        }
                        Reply::Done => break 'recv,
                        r => {
                            replies.push(r);
                        }
                    }
                }
            }
            if !overrun {
                return Ok(replies);
            }
            if !dump {
                // The ACK of a command was lost: the command ran. Report it as done only
                // if it can be verified; commands that are not dumps are idempotent to
                // check by the caller, so surface the overrun.
                return Err(Error::Overrun("waiting for an acknowledgement"));
            }
            self.drain();
        }
        Err(Error::Overrun("dumping"))
    }

    /// Discards whatever is queued on the socket (after an overrun), non-blocking.
    fn drain(&mut self) {
        if self.sock.nonblock().is_err() {
            return;
        }
        for _ in 0..100_000 {
            match self.sock.recv(&mut self.inbuf[..], Msg::empty()) {
                Ok((0, _)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = self.sock.block();
    }

    fn command(&mut self, req: &Request) -> Result<(), Error> {
        self.request(req).map(|_| ())
    }

    /// `-A`: adds a service.
    pub fn add_service(&mut self, s: &Service) -> Result<(), Error> {
        self.command(&Request::NewService(s.clone()))
    }
    /// `-E`: edits a service (scheduler, flags, persistence).
    pub fn set_service(&mut self, s: &Service) -> Result<(), Error> {
        self.command(&Request::SetService(s.clone()))
    }
    /// `-D`: deletes a service and its destinations.
    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), Error> {
        self.command(&Request::DelService(*key))
    }
    /// One service (`GET_SERVICE` doit); ESRCH maps to `Ok(None)`.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Option<ServiceEntry>, Error> {
        match self.request(&Request::GetService(*key)) {
            Ok(r) => Ok(r.into_iter().find_map(|r| match r {
                Reply::Service(s) => Some(s),
                _ => None,
            })),
            Err(e) if e.errno() == Some(libc::ESRCH) => Ok(None),
            Err(e) => Err(e),
        }
    }
    /// All services (one dump), without destinations.
    pub fn services(&mut self) -> Result<Vec<ServiceEntry>, Error> {
        Ok(self
            .request(&Request::DumpServices)?
            .into_iter()
            .filter_map(|r| match r {
                Reply::Service(s) => Some(s),
                _ => None,
            })
            .collect())
    }
    /// `-a`: adds a destination.
    pub fn add_dest(&mut self, key: &ServiceKey, d: &Destination) -> Result<(), Error> {
        self.command(&Request::NewDest(*key, *d))
    }
    /// `-e`: edits a destination.
    pub fn set_dest(&mut self, key: &ServiceKey, d: &Destination) -> Result<(), Error> {
        self.command(&Request::SetDest(*key, *d))
    }
    /// `-d`: deletes a destination.
    pub fn del_dest(&mut self, key: &ServiceKey, addr: SocketAddr) -> Result<(), Error> {
        self.command(&Request::DelDest(*key, addr))
    }
    /// The destinations of one service (an unknown service gives an empty list, as the
    /// kernel does).
    pub fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, Error> {
        Ok(self
            .request(&Request::DumpDests(*key))?
            .into_iter()
            .filter_map(|r| match r {
                Reply::Dest(d) => Some(d),
                _ => None,
            })
            .collect())
    }
    /// Every service with its destinations: one service dump, then one destination dump per
    /// service (the kernel has no other way). A service deleted between the two is skipped.
    pub fn dump(&mut self) -> Result<Vec<VirtualServer>, Error> {
        let services = self.services()?;
        let mut out = Vec::with_capacity(services.len());
        for entry in services {
            let dests = self.dests(&entry.service.key)?;
            out.push(VirtualServer { entry, dests });
        }
        Ok(out)
    }
    /// `--start-daemon`.
    pub fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), Error> {
        self.command(&Request::NewDaemon(d.clone()))
    }
    /// `--stop-daemon`.
    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<(), Error> {
        self.command(&Request::DelDaemon(state))
    }
    /// Running sync daemons (0 to 2).
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        Ok(self
            .request(&Request::DumpDaemons)?
            .into_iter()
            .filter_map(|r| match r {
                Reply::Daemon(d) => Some(d),
                _ => None,
            })
            .collect())
    }
    /// `--set`: 0 leaves a timeout unchanged.
    pub fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error> {
        self.command(&Request::SetTimeouts(*t))
    }
    /// `-L --timeout`.
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        self.request(&Request::GetTimeouts)?
            .into_iter()
            .find_map(|r| match r {
                Reply::Timeouts(t) => Some(t),
                _ => None,
            })
            .ok_or(Error::NoReply(Object::Global))
    }
    /// Version and connection table size.
    pub fn info(&mut self) -> Result<Info, Error> {
        self.request(&Request::GetInfo)?
            .into_iter()
            .find_map(|r| match r {
                Reply::Info(i) => Some(i),
                _ => None,
            })
            .ok_or(Error::NoReply(Object::Global))
    }
    /// `-Z`: zeroes the counters of one service, or of everything with `None`.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), Error> {
        self.command(&Request::Zero(key.copied()))
    }
    /// `-C`: removes every service.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.command(&Request::Flush)
    }

    /// Applies many write requests pipelined: up to 256 netlink messages per
    /// `sendmsg`, each with its own sequence number. Only the last message of each send asks
    /// for an ACK: the kernel processes a send's messages in order and answers every failure
    /// with an error message, so when the last ACK arrives every message without an error
    /// succeeded. Returns one result per request, in order.
    ///
    /// If the socket overflows (ENOBUFS: error replies were dropped), the items of that send
    /// whose outcome is unknown are checked against a fresh dump; items not visible in the
    /// kernel are re-sent with a smaller window. No change is silently lost: every item ends
    /// `Ok` (seen applied) or with an error.
    ///
    /// Dumps are not allowed in a batch (the kernel runs one dump per socket at a time); a
    /// dump request gets [`Error::Invalid`].
    ///
    /// [`Ipvs::apply_failures`] does the same and returns only the failed items, which spares
    /// a large batch that succeeds one result per request.
    pub fn apply(&mut self, reqs: &[Request]) -> Vec<ItemResult> {
        let mut results: Vec<ItemResult> = Vec::with_capacity(reqs.len());
        let mut failures = self.apply_failures(reqs).into_iter().peekable();
        for i in 0..reqs.len() {
            results.push(match failures.next_if(|(at, _)| *at == i) {
                Some((_, e)) => Err(e),
                None => Ok(()),
            });
        }
        results
    }

    /// [`Ipvs::apply`], returning only the requests that failed: `(index in reqs, error)`,
    /// in request order. An empty list means every request was applied.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use ipvs_netlink::message::Request;
    /// use ipvs_netlink::{Destination, Ipvs, Service, ServiceKey};
    ///
    /// let mut ipvs = Ipvs::connect()?;
    /// let key = ServiceKey::tcp("192.0.2.10:80".parse().unwrap());
    /// let reqs = [
    ///     Request::NewService(Service::new(key)),
    ///     Request::NewDest(key, Destination::new("198.51.100.1:80".parse().unwrap())),
    /// ];
    /// for (i, e) in ipvs.apply_failures(&reqs) {
    ///     eprintln!("{:?} refused: {e}", reqs[i]);
    /// }
    /// # Ok::<(), ipvs_netlink::Error>(())
    /// ```
    pub fn apply_failures(&mut self, reqs: &[Request]) -> Vec<(usize, Error)> {
        let mut failures = Vec::new();
        // Outcomes of the current send, index `k` = request `start + k`: `None` until known.
        // Only looked at for errors and after an overrun; a send that succeeds leaves it
        // all `None`.
        let mut chunk: Vec<Option<ItemResult>> = Vec::new();
        let mut start = 0;
        while start < reqs.len() {
            // Chunk: bounded by count and bytes. Sequence numbers are consecutive from
            // `first`, so a reply's sequence number gives its request's index.
            let first = self.seq.wrapping_add(1);
            let mut end = start;
            let (mut last_msg, mut barrier) = (0, first);
            chunk.clear();
            while end < reqs.len() && chunk.len() < self.window && self.out.len() < BATCH_BYTES {
                let seq = self.next_seq();
                if reqs[end].is_dump() {
                    // Keeps the numbering: this request is never sent.
                    chunk.push(Some(Err(Error::Invalid(
                        "a dump cannot be part of a batch".into(),
                    ))));
                } else {
                    (last_msg, barrier) = (self.out.len(), seq);
                    reqs[end].emit(&mut self.out, self.family, seq, false);
                    chunk.push(None);
                }
                end += 1;
            }
            if self.out.is_empty() {
                Self::settle(start, &mut chunk, &mut failures);
                start = end;
                continue;
            }
            // The last message of the send carries the ACK: it is the batch's barrier.
            self.set_ack(last_msg);
            if let Err(e) = self.send_out() {
                let msg = e.to_string();
                for r in chunk.iter_mut().filter(|r| r.is_none()) {
                    *r = Some(Err(Error::Io(io::Error::other(msg.clone()))));
                }
                self.out.clear();
                Self::settle(start, &mut chunk, &mut failures);
                start = end;
                continue;
            }
            let overrun = self.collect_batch(&reqs[start..end], first, barrier, &mut chunk);
            if overrun {
                self.window = (self.window / 2).max(1);
                let unknown: Vec<usize> =
                    (0..chunk.len()).filter(|&k| chunk[k].is_none()).collect();
                self.resync(&reqs[start..end], &unknown, &mut chunk);
            }
            // Whatever has no outcome yet succeeded (or, after an overrun, was resolved).
            Self::settle(start, &mut chunk, &mut failures);
            start = end;
        }
        failures
    }

    /// Moves the errors of a send (request `start + k` for entry `k`) into `failures`.
    fn settle(start: usize, chunk: &mut [Option<ItemResult>], failures: &mut Vec<(usize, Error)>) {
        for (k, r) in chunk.iter_mut().enumerate() {
            if let Some(Err(e)) = r.take() {
                failures.push((start + k, e));
            }
        }
    }

    /// Sets NLM_F_ACK on the message that starts at offset `at` of `out`.
    fn set_ack(&mut self, at: usize) {
        if let Some(b) = self.out.get_mut(at + 6..at + 8) {
            let fl = u16::from_ne_bytes([b[0], b[1]]) | wire::NLM_F_ACK;
            b.copy_from_slice(&fl.to_ne_bytes());
        }
    }

    /// Reads replies of one send until the barrier's ACK. `reqs[k]` was sent with sequence
    /// number `first + k`; its error (or ACK) lands in `results[k]`. Returns true on ENOBUFS.
    fn collect_batch(
        &mut self,
        reqs: &[Request],
        first: u32,
        barrier: u32,
        results: &mut [Option<ItemResult>],
    ) -> bool {
        loop {
            let n = match self.recv() {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return true,
                Err(_) => return true,
            };
            let mut done = false;
            for m in Messages::new(&self.inbuf[..n]) {
                let Ok((hdr, payload)) = m else { break };
                let k = hdr.seq.wrapping_sub(first) as usize;
                let (Some(req), Some(slot)) = (reqs.get(k), results.get_mut(k)) else {
                    continue; // a stale reply of an earlier request
                };
                if let Reply::Ack { errno, ext_msg } = parse_one(hdr.kind, hdr.flags, payload) {
                    *slot = Some(if errno == 0 {
                        Ok(())
                    } else {
                        Err(Error::from_errno(req, errno, ext_msg))
                    });
                    if hdr.seq == barrier {
                        done = true;
                    }
                }
            }
            if done {
                return false;
            }
        }
    }

    /// After an overrun: wait for the kernel to finish (a fresh barrier), then decide each
    /// unknown item by looking at the kernel's state, re-sending what is not there.
    fn resync(&mut self, reqs: &[Request], unknown: &[usize], results: &mut [Option<ItemResult>]) {
        self.drain();
        let state = match self.dump() {
            Ok(s) => s,
            Err(e) => {
                let msg = e.to_string();
                for &i in unknown {
                    results[i] = Some(Err(Error::Io(io::Error::other(msg.clone()))));
                }
                return;
            }
        };
        let mut timeouts = None;
        let mut redo = Vec::new();
        for &i in unknown {
            let applied = match &reqs[i] {
                Request::SetTimeouts(t) => {
                    if timeouts.is_none() {
                        timeouts = self.timeouts().ok();
                    }
                    timeouts.is_some_and(|k| {
                        (t.tcp == 0 || t.tcp == k.tcp)
                            && (t.tcp_fin == 0 || t.tcp_fin == k.tcp_fin)
                            && (t.udp == 0 || t.udp == k.udp)
                    })
                }
                r => crate::reconcile::is_applied(r, &state).unwrap_or(false),
            };
            if applied {
                results[i] = Some(Ok(()));
            } else {
                redo.push(i);
            }
        }
        // Re-send one at a time with an ACK each: slow but certain.
        for i in redo {
            results[i] = Some(self.command(&reqs[i]));
        }
    }
}

/// What [`Ipvs::reconcile`] did.
#[derive(Debug)]
pub struct ReconcileReport {
    /// The requests sent, in order.
    pub changes: Vec<Request>,
    /// One result per request.
    pub results: Vec<ItemResult>,
}

impl ReconcileReport {
    /// Whether every change succeeded.
    pub fn is_ok(&self) -> bool {
        self.results.iter().all(Result::is_ok)
    }
    /// The failed changes with their errors.
    pub fn failures(&self) -> impl Iterator<Item = (&Request, &Error)> {
        self.changes
            .iter()
            .zip(&self.results)
            .filter_map(|(c, r)| r.as_ref().err().map(|e| (c, e)))
    }
}

impl Ipvs {
    /// Makes the kernel match `desired`: dumps the current state (the kernel is the truth,
    /// not a remembered configuration), computes [`crate::reconcile::diff`] and applies it
    /// with [`Ipvs::apply`]. Live services are edited in place, never deleted and re-added.
    pub fn reconcile(
        &mut self,
        desired: &crate::reconcile::DesiredState,
    ) -> Result<ReconcileReport, Error> {
        let current = self.dump()?;
        let changes = crate::reconcile::diff(desired, &current);
        let results = self.apply(&changes);
        Ok(ReconcileReport { changes, results })
    }
}
