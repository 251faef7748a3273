//! Netlink framing: `nlmsghdr`, `genlmsghdr` and attribute (TLV) writing and reading.
//!
//! Everything here is plain byte manipulation; no sockets. Integers in netlink headers and in
//! most IPVS attributes are host order (`to_ne_bytes`); the few big-endian IPVS fields (ports,
//! the IPv4 persistence netmask) are converted by the callers in [`crate::message`].

/// `struct nlmsghdr` length.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// `struct genlmsghdr` length.
pub(crate) const GENL_HDRLEN: usize = 4;
/// `struct nlattr` header length.
pub(crate) const NLA_HDRLEN: usize = 4;

pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_MULTI: u16 = 0x2;
pub(crate) const NLM_F_ACK: u16 = 0x4;
pub(crate) const NLM_F_DUMP: u16 = 0x300;
/// Set on an ACK whose original request was not copied back (`NETLINK_CAP_ACK`).
pub(crate) const NLM_F_CAPPED: u16 = 0x100;
/// Set on an ACK that carries extended-ack TLVs.
pub(crate) const NLM_F_ACK_TLVS: u16 = 0x200;

pub(crate) const NLMSG_NOOP: u16 = 1;
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLMSG_OVERRUN: u16 = 4;

/// `NLA_F_NESTED`: set by some senders on nested attributes; masked off when reading.
pub(crate) const NLA_F_NESTED: u16 = 1 << 15;
/// `NLA_F_NET_BYTEORDER`.
pub(crate) const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
pub(crate) const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Extended ack attribute: error message string.
pub(crate) const NLMSGERR_ATTR_MSG: u16 = 1;

pub(crate) const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// Builds one netlink message in a growing buffer, with nested attributes.
#[derive(Debug)]
pub(crate) struct MsgWriter<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
    /// Offsets of the open nested attributes (IPVS nests at most one level deep; a deeper
    /// nest is still closed by `finish`, only its length would not be patched).
    nests: [usize; MAX_NESTS],
    depth: usize,
}

/// Nesting depth [`MsgWriter`] tracks.
const MAX_NESTS: usize = 4;

impl<'a> MsgWriter<'a> {
    /// Starts a generic-netlink message at the end of `buf`.
    pub(crate) fn new_genl(
        buf: &'a mut Vec<u8>,
        family: u16,
        flags: u16,
        seq: u32,
        cmd: u8,
        version: u8,
    ) -> Self {
        // Room for a whole IPVS message (a destination is 172 bytes): the attributes then
        // never grow the buffer one by one.
        buf.reserve(256);
        let start = buf.len();
        let mut h = [0u8; NLMSG_HDRLEN + GENL_HDRLEN];
        // [0..4]: length, patched in finish(); [12..16]: port id 0, the kernel fills it in.
        h[4..6].copy_from_slice(&family.to_ne_bytes());
        h[6..8].copy_from_slice(&flags.to_ne_bytes());
        h[8..12].copy_from_slice(&seq.to_ne_bytes());
        h[16] = cmd;
        h[17] = version;
        buf.extend_from_slice(&h);
        MsgWriter {
            buf,
            start,
            nests: [0; MAX_NESTS],
            depth: 0,
        }
    }

    /// Appends one attribute with a raw payload, padded to 4 bytes.
    pub(crate) fn attr(&mut self, kind: u16, payload: &[u8]) {
        self.header(kind, payload.len());
        self.buf.extend_from_slice(payload);
        self.pad();
    }

    /// An attribute header for a payload of `len` bytes.
    fn header(&mut self, kind: u16, len: usize) {
        let len16 = u16::try_from(NLA_HDRLEN + len).unwrap_or(u16::MAX);
        let [a, b] = len16.to_ne_bytes();
        let [c, d] = kind.to_ne_bytes();
        self.buf.extend_from_slice(&[a, b, c, d]);
    }

    /// Appends one attribute with a fixed-size payload of at most 20 bytes (addresses,
    /// integers): one copy of a stack-built, padded attribute, sized at compile time.
    #[inline]
    pub(crate) fn fixed<const N: usize>(&mut self, kind: u16, payload: [u8; N]) {
        const { assert!(N <= 20) };
        let mut a = [0u8; 24];
        let len = NLA_HDRLEN + N;
        a[..2].copy_from_slice(&(len as u16).to_ne_bytes());
        a[2..4].copy_from_slice(&kind.to_ne_bytes());
        a[4..len].copy_from_slice(&payload);
        self.buf.extend_from_slice(&a[..align4(len)]);
    }

    pub(crate) fn u8(&mut self, kind: u16, v: u8) {
        self.fixed(kind, [v]);
    }
    pub(crate) fn u16(&mut self, kind: u16, v: u16) {
        self.fixed(kind, v.to_ne_bytes());
    }
    pub(crate) fn be16(&mut self, kind: u16, v: u16) {
        self.fixed(kind, v.to_be_bytes());
    }
    pub(crate) fn u32(&mut self, kind: u16, v: u32) {
        self.fixed(kind, v.to_ne_bytes());
    }
    /// A NUL-terminated string.
    pub(crate) fn string(&mut self, kind: u16, s: &str) {
        self.header(kind, s.len() + 1);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        self.pad();
    }

    /// Opens a nested attribute; close it with [`Self::end_nest`].
    pub(crate) fn begin_nest(&mut self, kind: u16) {
        if let Some(slot) = self.nests.get_mut(self.depth) {
            *slot = self.buf.len();
        }
        self.depth += 1;
        self.header(kind, 0);
    }

    pub(crate) fn end_nest(&mut self) {
        if self.depth == 0 {
            return;
        }
        self.depth -= 1;
        if let Some(&at) = self.nests.get(self.depth) {
            let len = u16::try_from(self.buf.len() - at).unwrap_or(u16::MAX);
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
    }

    fn pad(&mut self) {
        let pad = align4(self.buf.len()) - self.buf.len();
        self.buf.extend_from_slice(&[0u8; 3][..pad]);
    }

    /// Closes open nests and patches the message length.
    pub(crate) fn finish(mut self) {
        while self.depth > 0 {
            self.end_nest();
        }
        let len = u32::try_from(self.buf.len() - self.start).unwrap_or(u32::MAX);
        self.buf[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

/// One netlink message header as read from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NlHeader {
    pub(crate) len: u32,
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    pub(crate) seq: u32,
    pub(crate) pid: u32,
}

/// Iterates over the netlink messages in a datagram. Stops (returning `Err`) at the first
/// malformed header; never panics.
#[derive(Debug)]
pub(crate) struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Messages { rest: buf }
    }
}

/// A message whose header is malformed (length shorter than the header or past the buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

impl<'a> Iterator for Messages<'a> {
    type Item = Result<(NlHeader, &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        if self.rest.len() < NLMSG_HDRLEN {
            self.rest = &[];
            return Some(Err(Malformed));
        }
        let r = self.rest;
        let len = u32::from_ne_bytes([r[0], r[1], r[2], r[3]]);
        let hdr = NlHeader {
            len,
            kind: u16::from_ne_bytes([r[4], r[5]]),
            flags: u16::from_ne_bytes([r[6], r[7]]),
            seq: u32::from_ne_bytes([r[8], r[9], r[10], r[11]]),
            pid: u32::from_ne_bytes([r[12], r[13], r[14], r[15]]),
        };
        let len = len as usize;
        if len < NLMSG_HDRLEN || len > r.len() {
            self.rest = &[];
            return Some(Err(Malformed));
        }
        let payload = &r[NLMSG_HDRLEN..len];
        let next = align4(len).min(r.len());
        self.rest = &r[next..];
        Some(Ok((hdr, payload)))
    }
}

/// Iterates over attributes; tolerant: a truncated trailing attribute ends the iteration.
#[derive(Debug, Clone)]
pub(crate) struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Attrs { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    /// (type without flag bits, payload)
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.rest;
        if r.len() < NLA_HDRLEN {
            self.rest = &[];
            return None;
        }
        let len = u16::from_ne_bytes([r[0], r[1]]) as usize;
        let kind = u16::from_ne_bytes([r[2], r[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || len > r.len() {
            self.rest = &[];
            return None;
        }
        let payload = &r[NLA_HDRLEN..len];
        self.rest = &r[align4(len).min(r.len())..];
        Some((kind, payload))
    }
}

/// Reads a host-order u16 from an attribute payload; `None` if shorter than 2 bytes. Longer
/// payloads are accepted (tolerant parsing, as the kernel's own `nla_get_*`).
pub(crate) fn get_u16(p: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(p.get(..2)?.try_into().ok()?))
}
pub(crate) fn get_be16(p: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(p.get(..2)?.try_into().ok()?))
}
pub(crate) fn get_u32(p: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(p.get(..4)?.try_into().ok()?))
}
pub(crate) fn get_u64(p: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(p.get(..8)?.try_into().ok()?))
}
pub(crate) fn get_u8(p: &[u8]) -> Option<u8> {
    p.first().copied()
}
/// Reads an unsigned counter that may be 4 or 8 bytes long.
pub(crate) fn get_uint(p: &[u8]) -> Option<u64> {
    if p.len() >= 8 {
        get_u64(p)
    } else {
        get_u32(p).map(u64::from)
    }
}
/// A NUL-terminated (or unterminated) string; invalid UTF-8 is replaced.
pub(crate) fn get_string(p: &[u8]) -> String {
    let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}
