//! ipvsadm 1.31 compatibility: its command-line grammar ([`parse_args`], also the `-R` rule
//! format through [`parse_rules`]), its printed formats ([`save`], [`list`],
//! [`list_timeouts`], [`list_daemons`]) and its error strings ([`strerror`]).
//!
//! Formats follow ipvsadm 1.31 as Debian ships it: numeric output (`-n`); host and service
//! names are not resolved (ipvsadm without `-n` asks the resolver).
//!
//! # Example
//!
//! ```
//! use ipvs_netlink::ipvsadm::{parse_rules, Command};
//!
//! let rules = "-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 1\n";
//! let cmds = parse_rules(rules).unwrap();
//! assert!(matches!(cmds[0], Command::AddService(_)));
//! assert!(matches!(cmds[1], Command::AddDest(..)));
//! ```

use core::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::message::Request;
use crate::types::*;

/// Default persistence timeout (`IPVS_SVC_PERSISTENT_TIMEOUT`, 6 minutes).
pub const DEFAULT_PERSISTENT_TIMEOUT: u32 = 360;
/// Largest timeout ipvsadm accepts (31 days).
pub const MAX_TIMEOUT: u32 = 86400 * 31;
/// Default sync-daemon interface.
pub const DEFAULT_MCAST_IFN: &str = "eth0";

/// Listing options (`-L` modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFormat {
    /// `-n`.
    pub numeric: bool,
    /// `--stats`.
    pub stats: bool,
    /// `--rate`.
    pub rate: bool,
    /// `--thresholds`.
    pub thresholds: bool,
    /// `--persistent-conn`.
    pub persistent_conn: bool,
    /// `--exact`.
    pub exact: bool,
    /// `--nosort`.
    pub nosort: bool,
    /// `--tun-info`.
    pub tun_info: bool,
}

/// What `-L` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListWhat {
    /// Every service (`-L`).
    All,
    /// One service (`-L -t ...`).
    Service(ServiceKey),
    /// `-L --timeout`.
    Timeout,
    /// `-L --daemon`.
    Daemon,
    /// `-L -c` (connections).
    Connections,
}

/// One ipvsadm command line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `-A`.
    AddService(Service),
    /// `-E`.
    EditService(Service),
    /// `-D`.
    DelService(ServiceKey),
    /// `-C`.
    Clear,
    /// `-a`.
    AddDest(ServiceKey, Destination),
    /// `-e`.
    EditDest(ServiceKey, Destination),
    /// `-d`.
    DelDest(ServiceKey, SocketAddr),
    /// `-L` / `-l`.
    List(ListWhat, ListFormat),
    /// `-S` (with `-n` or not).
    Save {
        /// `-n`.
        numeric: bool,
    },
    /// `-R`.
    Restore,
    /// `-Z`.
    Zero(Option<ServiceKey>),
    /// `--set tcp tcpfin udp`.
    SetTimeouts(Timeouts),
    /// `--start-daemon`.
    StartDaemon(SyncDaemon),
    /// `--stop-daemon`.
    StopDaemon(DaemonState),
    /// `-h`.
    Help,
    /// `-v`.
    Version,
}

impl Command {
    /// The kernel request that carries this command out, for the commands that are one
    /// request.
    pub fn to_request(&self) -> Option<Request> {
        Some(match self {
            Self::AddService(s) => Request::NewService(s.clone()),
            Self::EditService(s) => Request::SetService(s.clone()),
            Self::DelService(k) => Request::DelService(*k),
            Self::Clear => Request::Flush,
            Self::AddDest(k, d) => Request::NewDest(*k, *d),
            Self::EditDest(k, d) => Request::SetDest(*k, *d),
            Self::DelDest(k, a) => Request::DelDest(*k, *a),
            Self::Zero(k) => Request::Zero(*k),
            Self::SetTimeouts(t) => Request::SetTimeouts(*t),
            Self::StartDaemon(d) => Request::NewDaemon(d.clone()),
            Self::StopDaemon(s) => Request::DelDaemon(*s),
            _ => return None,
        })
    }
}

/// A command line ipvsadm would refuse; `exit_code` is what ipvsadm exits with (2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub struct ArgError {
    /// ipvsadm's message.
    pub msg: String,
    /// Exit status (2 for usage errors, as ipvsadm's `fail(2, ...)`).
    pub exit_code: i32,
}

fn fail<T>(msg: impl Into<String>) -> Result<T, ArgError> {
    Err(ArgError {
        msg: msg.into(),
        exit_code: 2,
    })
}

/// A rule file line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct RuleError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub error: ArgError,
}

// Command indices (ipvsadm's CMD_* order) and names.
const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Add = 0,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

// Option indices (ipvsadm's OPT_* bit order) and names.
const OPT_NAMES: [&str; 34] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];
mod opt {
    pub(super) const NUMERIC: usize = 0;
    pub(super) const CONNECTION: usize = 1;
    pub(super) const SERVICE: usize = 2;
    pub(super) const SCHEDULER: usize = 3;
    pub(super) const PERSISTENT: usize = 4;
    pub(super) const NETMASK: usize = 5;
    pub(super) const SERVER: usize = 6;
    pub(super) const FORWARD: usize = 7;
    pub(super) const WEIGHT: usize = 8;
    pub(super) const UTHRESHOLD: usize = 9;
    pub(super) const LTHRESHOLD: usize = 10;
    pub(super) const MCAST: usize = 11;
    pub(super) const TIMEOUT: usize = 12;
    pub(super) const DAEMON: usize = 13;
    pub(super) const STATS: usize = 14;
    pub(super) const RATE: usize = 15;
    pub(super) const THRESHOLDS: usize = 16;
    pub(super) const PERSISTENTCONN: usize = 17;
    pub(super) const NOSORT: usize = 18;
    pub(super) const SYNCID: usize = 19;
    pub(super) const EXACT: usize = 20;
    pub(super) const ONEPACKET: usize = 21;
    pub(super) const PE: usize = 22;
    pub(super) const SCHED_FLAGS: usize = 23;
    pub(super) const MCAST_GROUP: usize = 24;
    pub(super) const MCAST_PORT: usize = 25;
    pub(super) const MCAST_TTL: usize = 26;
    pub(super) const SYNC_MAXLEN: usize = 27;
    pub(super) const TUN_INFO: usize = 28;
    pub(super) const TUN_TYPE: usize = 29;
    pub(super) const TUN_PORT: usize = 30;
    pub(super) const TUN_NOCSUM: usize = 31;
    pub(super) const TUN_CSUM: usize = 32;
    pub(super) const TUN_REMCSUM: usize = 33;
}

/// ipvsadm's `commands_v_options` table: '+' compulsory, 'x' illegal, '1' exclusive,
/// ' ' optional. Rows in [`Cmd`] order, columns in option order.
const COMMANDS_V_OPTIONS: [&[u8; 34]; 14] = [
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // ADD
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // EDIT
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // DEL
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // FLUSH
    b" 11xxxxxxxxx11       xxxxxxx xxxxx", // LIST
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // ADDSRV
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // DELSRV
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // EDITSRV
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // TIMEOUT
    b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx", // STARTD
    b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx", // STOPD
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // RESTORE
    b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // SAVE
    b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // ZERO
];

fn generic_opt_check(cmd: Cmd, options: u64) -> Result<(), ArgError> {
    let row = COMMANDS_V_OPTIONS[cmd as usize];
    let mut last: Option<usize> = None;
    for (j, &rule) in row.iter().enumerate() {
        let set = options & (1 << j) != 0;
        if !set {
            if rule == b'+' {
                return fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPT_NAMES[j], CMD_NAMES[cmd as usize]
                ));
            }
        } else {
            if rule == b'x' {
                return fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPT_NAMES[j], CMD_NAMES[cmd as usize]
                ));
            }
            if rule == b'1' {
                if let Some(l) = last {
                    return fail(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        OPT_NAMES[j], OPT_NAMES[l], CMD_NAMES[cmd as usize]
                    ));
                }
                last = Some(j);
            }
        }
    }
    Ok(())
}

/// `string_to_number`: a decimal in `min..=max`.
fn number(s: &str, min: i64, max: i64) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    (min..=max).contains(&n).then_some(n)
}

/// Parses `addr[:port]` / `[v6]:port` as ipvsadm's `parse_service`: returns the address
/// and the port if one was given. Host and service names are looked up in `/etc/hosts`
/// and `/etc/services` (the port for `proto`).
pub fn parse_addr_port(s: &str, proto: Protocol) -> Option<(IpAddr, Option<u16>)> {
    if s.is_empty() || s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once(']')?;
        let p = p.strip_prefix(':')?;
        (h, Some(p))
    } else if s.parse::<std::net::Ipv6Addr>().is_ok() {
        (s, None)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let ip = if let Ok(v6) = host.parse::<std::net::Ipv6Addr>() {
        IpAddr::V6(v6)
    } else if let Some(v4) = inet_aton(host) {
        IpAddr::V4(v4)
    } else {
        // A host name: the hosts file (ipvsadm's gethostbyname, IPv4 only).
        match system_names().host_addr(host)? {
            IpAddr::V4(a) => IpAddr::V4(a),
            IpAddr::V6(_) => return None,
        }
    };
    let port = match port {
        Some(p) => Some(match number(p, 0, 65535) {
            Some(n) => u16::try_from(n).ok()?,
            None => system_names().service_port(p, proto)?,
        }),
        None => None,
    };
    Some((ip, port))
}

/// `inet_aton` for the dotted-quad forms ipvsadm users write (`a.b.c.d`).
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

struct Args<'a, S> {
    args: &'a [S],
    i: usize,
    /// Remaining characters of a clustered short option group (`-Ln`).
    cluster: Option<(usize, usize)>,
}

enum Tok<'a> {
    Short(char),
    Long(&'a str, Option<&'a str>),
    Positional(&'a str),
}

impl<'a, S: AsRef<str>> Args<'a, S> {
    fn next(&mut self) -> Option<Tok<'a>> {
        if let Some((idx, pos)) = self.cluster {
            let s = self.args[idx].as_ref();
            if let Some(c) = s[pos..].chars().next() {
                let np = pos + c.len_utf8();
                self.cluster = (np < s.len()).then_some((idx, np));
                return Some(Tok::Short(c));
            }
            self.cluster = None;
        }
        let s = self.args.get(self.i)?.as_ref();
        self.i += 1;
        if let Some(long) = s.strip_prefix("--") {
            if long.is_empty() {
                return Some(Tok::Positional(s));
            }
            return Some(match long.split_once('=') {
                Some((n, v)) => Tok::Long(n, Some(v)),
                None => Tok::Long(long, None),
            });
        }
        if s.len() > 1 && s.starts_with('-') {
            let c = s[1..].chars().next()?;
            let np = 1 + c.len_utf8();
            if np < s.len() {
                self.cluster = Some((self.i - 1, np));
            }
            return Some(Tok::Short(c));
        }
        Some(Tok::Positional(s))
    }

    /// The argument of an option: the rest of a cluster (`-s rr` or `-srr`) or the next word.
    fn value(&mut self, name: &str) -> Result<&'a str, ArgError> {
        if let Some((idx, pos)) = self.cluster.take() {
            return Ok(&self.args[idx].as_ref()[pos..]);
        }
        match self.args.get(self.i) {
            Some(v) => {
                self.i += 1;
                Ok(v.as_ref())
            }
            None => fail(format!("{name}: missing argument")),
        }
    }

    /// An optional argument (popt `POPT_ARGFLAG_OPTIONAL`): taken if it does not start with '-'.
    fn optional_value(&mut self) -> Option<&'a str> {
        if let Some((idx, pos)) = self.cluster.take() {
            return Some(&self.args[idx].as_ref()[pos..]);
        }
        let v = self.args.get(self.i)?.as_ref();
        if v.starts_with('-') {
            return None;
        }
        self.i += 1;
        Some(v)
    }
}

/// Parses one ipvsadm command line (without the program name), with ipvsadm 1.31's rules:
/// option table checks, defaults (wlc, weight 1, direct routing, persistence 360 s), the
/// destination port copied from the service for `-g`/`-i` or when omitted.
pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<Command, ArgError> {
    let mut it = Args {
        args,
        i: 0,
        cluster: None,
    };
    let mut cmd: Option<Cmd> = None;
    let mut options: u64 = 0;
    let mut fmt = ListFormat::default();
    let mut svc_af: Option<Family> = None;
    let mut protocol = Protocol::Tcp;
    let mut svc_addr: Option<(IpAddr, u16)> = None;
    let mut fwmark: Option<u32> = None;
    let mut fwmark_v6 = false;
    let mut sched: Option<String> = None;
    let mut flags = ServiceFlags::empty();
    let mut timeout = 0u32;
    let mut netmask_arg: Option<&str> = None;
    let mut pe_name: Option<String> = None;
    let mut sched_flags_arg: Option<&str> = None;
    let mut dest_arg: Option<(IpAddr, Option<u16>)> = None;
    let mut forward = Forward::DirectRoute;
    let mut weight: i32 = 1;
    let mut uth = 0u32;
    let mut lth = 0u32;
    let mut tun_type = TunnelType::Ipip;
    let mut tun_port = 0u16;
    let mut tun_flags = TunnelCsum::NoCsum;
    let mut daemon_state = DaemonState::Master;
    let mut mcast_ifn: Option<String> = None;
    let mut syncid = 0u32;
    let mut sync_maxlen = None;
    let mut mcast_group = None;
    let mut mcast_port = None;
    let mut mcast_ttl = None;
    let mut positionals: Vec<&str> = Vec::new();

    let set_option = |options: &mut u64, o: usize| -> Result<(), ArgError> {
        if *options & (1 << o) != 0 {
            return fail(format!("multiple '{}' options specified", OPT_NAMES[o]));
        }
        *options |= 1 << o;
        Ok(())
    };
    let set_command = |cmd: &mut Option<Cmd>, c: Cmd| -> Result<(), ArgError> {
        if cmd.is_some() {
            return fail("multiple commands specified");
        }
        *cmd = Some(c);
        Ok(())
    };

    while let Some(tok) = it.next() {
        // Normalize long names to their short letter where one exists.
        let (name, inline): (String, Option<&str>) = match tok {
            Tok::Short(c) => (c.to_string(), None),
            Tok::Long(n, v) => (
                match n {
                    "add-service" => "A",
                    "edit-service" => "E",
                    "delete-service" => "D",
                    "clear" => "C",
                    "list" => "L",
                    "zero" => "Z",
                    "add-server" => "a",
                    "edit-server" => "e",
                    "delete-server" => "d",
                    "help" => "h",
                    "version" => "v",
                    "restore" => "R",
                    "save" => "S",
                    "tcp-service" => "t",
                    "udp-service" => "u",
                    "fwmark-service" => "f",
                    "scheduler" => "s",
                    "persistent" => "p",
                    "netmask" => "M",
                    "real-server" => "r",
                    "masquerading" => "m",
                    "ipip" => "i",
                    "gatewaying" => "g",
                    "weight" => "w",
                    "u-threshold" => "x",
                    "l-threshold" => "y",
                    "numeric" => "n",
                    "connection" => "c",
                    "exact" => "X",
                    "ipv6" => "6",
                    "ops" => "o",
                    "sched-flags" => "b",
                    other => other,
                }
                .to_string(),
                v,
            ),
            Tok::Positional(p) => {
                positionals.push(p);
                continue;
            }
        };
        macro_rules! val {
            () => {
                match inline {
                    Some(v) => v,
                    None => it.value(&name)?,
                }
            };
        }
        match name.as_str() {
            "A" => set_command(&mut cmd, Cmd::Add)?,
            "E" => set_command(&mut cmd, Cmd::Edit)?,
            "D" => set_command(&mut cmd, Cmd::Del)?,
            "a" => set_command(&mut cmd, Cmd::AddDest)?,
            "e" => set_command(&mut cmd, Cmd::EditDest)?,
            "d" => set_command(&mut cmd, Cmd::DelDest)?,
            "C" => set_command(&mut cmd, Cmd::Flush)?,
            "L" | "l" => set_command(&mut cmd, Cmd::List)?,
            "Z" => set_command(&mut cmd, Cmd::Zero)?,
            "set" => set_command(&mut cmd, Cmd::Timeout)?,
            "R" => set_command(&mut cmd, Cmd::Restore)?,
            "S" => set_command(&mut cmd, Cmd::Save)?,
            "h" => return Ok(Command::Help),
            "v" => return Ok(Command::Version),
            "start-daemon" | "stop-daemon" => {
                let start = name == "start-daemon";
                set_command(
                    &mut cmd,
                    if start {
                        Cmd::StartDaemon
                    } else {
                        Cmd::StopDaemon
                    },
                )?;
                daemon_state = match val!() {
                    "master" => DaemonState::Master,
                    "backup" => DaemonState::Backup,
                    _ if start => return fail("illegal start-daemon parameter specified"),
                    _ => return fail("illegal start_daemon specified"),
                };
            }
            "t" | "u" | "sctp-service" => {
                set_option(&mut options, opt::SERVICE)?;
                protocol = match name.as_str() {
                    "t" => Protocol::Tcp,
                    "u" => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                let v = val!();
                let Some((ip, port)) = parse_addr_port(v, protocol) else {
                    return fail("illegal virtual server address[:port] specified");
                };
                svc_af = Some(Family::of(&ip));
                svc_addr = Some((ip, port.unwrap_or(0)));
            }
            "f" => {
                set_option(&mut options, opt::SERVICE)?;
                let v = val!();
                match v.parse::<u64>() {
                    Ok(m) if m > 0 && m <= u64::from(u32::MAX) => fwmark = Some(m as u32),
                    _ => return fail(format!("invalid fwmark value `{v}' specified")),
                }
                svc_af = Some(Family::Inet);
            }
            "6" => {
                if fwmark.is_some() {
                    fwmark_v6 = true;
                    svc_af = Some(Family::Inet6);
                } else {
                    return fail("-6 used before -f\n");
                }
            }
            "s" => {
                set_option(&mut options, opt::SCHEDULER)?;
                let v = val!();
                sched = Some(v.chars().take(15).collect());
            }
            "p" => {
                set_option(&mut options, opt::PERSISTENT)?;
                flags |= ServiceFlags::PERSISTENT;
                let v = match inline {
                    Some(v) => Some(v),
                    None => it.optional_value(),
                };
                timeout = match v {
                    None => DEFAULT_PERSISTENT_TIMEOUT,
                    Some(v) => match number(v, 1, i64::from(MAX_TIMEOUT)) {
                        Some(n) => n as u32,
                        None => return fail(format!("invalid timeout value `{v}' specified")),
                    },
                };
            }
            "M" => {
                set_option(&mut options, opt::NETMASK)?;
                netmask_arg = Some(val!());
            }
            "pe" => {
                set_option(&mut options, opt::PE)?;
                pe_name = Some(val!().chars().take(15).collect());
            }
            "o" => {
                set_option(&mut options, opt::ONEPACKET)?;
                flags |= ServiceFlags::ONEPACKET;
            }
            "b" => {
                set_option(&mut options, opt::SCHED_FLAGS)?;
                sched_flags_arg = Some(val!());
            }
            "r" => {
                set_option(&mut options, opt::SERVER)?;
                let v = val!();
                let Some(p) = parse_addr_port(v, protocol) else {
                    return fail("illegal real server address[:port] specified");
                };
                dest_arg = Some(p);
            }
            "i" | "g" | "m" => {
                set_option(&mut options, opt::FORWARD)?;
                forward = match name.as_str() {
                    "i" => Forward::Tunnel,
                    "g" => Forward::DirectRoute,
                    _ => Forward::Masq,
                };
            }
            "w" => {
                set_option(&mut options, opt::WEIGHT)?;
                weight = match number(val!(), 0, i64::from(i32::MAX)) {
                    Some(n) => n as i32,
                    None => return fail("illegal weight specified"),
                };
            }
            "x" => {
                set_option(&mut options, opt::UTHRESHOLD)?;
                uth = match number(val!(), 0, i64::from(i32::MAX)) {
                    Some(n) => n as u32,
                    None => return fail("illegal u_threshold specified"),
                };
            }
            "y" => {
                set_option(&mut options, opt::LTHRESHOLD)?;
                lth = match number(val!(), 0, i64::from(i32::MAX)) {
                    Some(n) => n as u32,
                    None => return fail("illegal l_threshold specified"),
                };
            }
            "c" => set_option(&mut options, opt::CONNECTION)?,
            "n" => {
                set_option(&mut options, opt::NUMERIC)?;
                fmt.numeric = true;
            }
            "mcast-interface" => {
                set_option(&mut options, opt::MCAST)?;
                mcast_ifn = Some(val!().chars().take(15).collect());
            }
            "syncid" => {
                set_option(&mut options, opt::SYNCID)?;
                syncid = match number(val!(), 0, 255) {
                    Some(n) => n as u32,
                    None => return fail("illegal syncid specified"),
                };
            }
            "sync-maxlen" => {
                set_option(&mut options, opt::SYNC_MAXLEN)?;
                sync_maxlen = match number(val!(), 1, 65535 - 20 - 8) {
                    Some(n) => Some(n as u16),
                    None => return fail("illegal sync-maxlen specified"),
                };
            }
            "mcast-group" => {
                set_option(&mut options, opt::MCAST_GROUP)?;
                let v = val!();
                match v.parse::<IpAddr>() {
                    Ok(g @ IpAddr::V4(a)) if a.is_multicast() => mcast_group = Some(g),
                    Ok(g @ IpAddr::V6(a)) if a.is_multicast() => mcast_group = Some(g),
                    Ok(IpAddr::V6(_)) => return fail(format!("invalid IPv6 mcast-group `{v}'")),
                    _ => return fail(format!("invalid IPv4 mcast-group `{v}'")),
                }
            }
            "mcast-port" => {
                set_option(&mut options, opt::MCAST_PORT)?;
                mcast_port = match number(val!(), 1, 65535) {
                    Some(n) => Some(n as u16),
                    None => return fail("illegal mcast-port specified"),
                };
            }
            "mcast-ttl" => {
                set_option(&mut options, opt::MCAST_TTL)?;
                mcast_ttl = match number(val!(), 1, 255) {
                    Some(n) => Some(n as u8),
                    None => return fail("illegal mcast-ttl specified"),
                };
            }
            "timeout" => set_option(&mut options, opt::TIMEOUT)?,
            "daemon" => set_option(&mut options, opt::DAEMON)?,
            "stats" => {
                set_option(&mut options, opt::STATS)?;
                fmt.stats = true;
            }
            "rate" => {
                set_option(&mut options, opt::RATE)?;
                fmt.rate = true;
            }
            "thresholds" => {
                set_option(&mut options, opt::THRESHOLDS)?;
                fmt.thresholds = true;
            }
            "persistent-conn" => {
                set_option(&mut options, opt::PERSISTENTCONN)?;
                fmt.persistent_conn = true;
            }
            "nosort" => {
                set_option(&mut options, opt::NOSORT)?;
                fmt.nosort = true;
            }
            "sort" => {}
            "X" => {
                set_option(&mut options, opt::EXACT)?;
                fmt.exact = true;
            }
            "tun-info" => {
                set_option(&mut options, opt::TUN_INFO)?;
                fmt.tun_info = true;
            }
            "tun-type" => {
                set_option(&mut options, opt::TUN_TYPE)?;
                tun_type = match val!() {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    _ => return fail("illegal tunnel type specified"),
                };
            }
            "tun-port" => {
                set_option(&mut options, opt::TUN_PORT)?;
                tun_port = match number(val!(), 1, 65535) {
                    Some(n) => n as u16,
                    None => return fail("illegal tunnel port specified"),
                };
            }
            "tun-nocsum" => {
                set_option(&mut options, opt::TUN_NOCSUM)?;
                tun_flags = TunnelCsum::NoCsum;
            }
            "tun-csum" => {
                set_option(&mut options, opt::TUN_CSUM)?;
                tun_flags = TunnelCsum::Csum;
            }
            "tun-remcsum" => {
                set_option(&mut options, opt::TUN_REMCSUM)?;
                tun_flags = TunnelCsum::RemCsum;
            }
            other => {
                let shown = if other.len() == 1 {
                    format!("-{other}")
                } else {
                    format!("--{other}")
                };
                return fail(format!("invalid option `{shown}'"));
            }
        }
    }

    let Some(cmd) = cmd else {
        return fail("no command specified (try -h)");
    };

    let mut timeouts = Timeouts::default();
    if cmd == Cmd::Timeout {
        if positionals.len() < 3 {
            return fail("--set option requires 3 timeout values");
        }
        let t: Vec<u32> = positionals
            .drain(..3)
            .map(|v| {
                number(v, 0, i64::from(MAX_TIMEOUT))
                    .map(|n| n as u32)
                    .ok_or_else(|| ArgError {
                        msg: format!("invalid timeout value `{v}' specified"),
                        exit_code: 2,
                    })
            })
            .collect::<Result<_, _>>()?;
        timeouts = Timeouts {
            tcp: t[0],
            tcp_fin: t[1],
            udp: t[2],
        };
    }
    if let Some(p) = positionals.first() {
        return fail(format!("unexpected argument {p}"));
    }

    generic_opt_check(cmd, options)?;

    // The service.
    let family = svc_af.unwrap_or(Family::Inet);
    let key = match (fwmark, svc_addr) {
        (Some(mark), _) => Some(ServiceKey::Fwmark {
            mark,
            family: if fwmark_v6 {
                Family::Inet6
            } else {
                Family::Inet
            },
        }),
        (None, Some((ip, port))) => Some(ServiceKey::Addr {
            protocol,
            addr: SocketAddr::new(ip, port),
        }),
        (None, None) => None,
    };
    let netmask = match netmask_arg {
        None => Netmask::full(family),
        Some(m) => match family {
            Family::Inet => match inet_aton(m) {
                Some(a) => Netmask::V4(a),
                None => return fail("illegal virtual server persistent mask specified"),
            },
            Family::Inet6 => match number(m, 1, 128) {
                Some(n) => Netmask::V6(n as u32),
                None => return fail("illegal ipv6 netmask specified"),
            },
        },
    };
    let scheduler = sched.unwrap_or_else(|| "wlc".to_owned());
    if let Some(b) = sched_flags_arg {
        flags |= parse_sched_flags(&scheduler, b)?;
    }

    Ok(match cmd {
        Cmd::Add | Cmd::Edit => {
            let key = key.expect("service option checked");
            if fwmark.is_none() && key.port() == 0 && !flags.contains(ServiceFlags::PERSISTENT) {
                return fail("Zero port specified for non-persistent service");
            }
            if flags.contains(ServiceFlags::ONEPACKET)
                && !matches!(
                    key,
                    ServiceKey::Fwmark { .. }
                        | ServiceKey::Addr {
                            protocol: Protocol::Udp,
                            ..
                        }
                )
            {
                return fail("One-Packet Scheduling is only for UDP virtual services");
            }
            let s = Service {
                key,
                scheduler: Scheduler::from_name(&scheduler),
                flags,
                timeout,
                netmask,
                pe_name,
            };
            if cmd == Cmd::Add {
                Command::AddService(s)
            } else {
                Command::EditService(s)
            }
        }
        Cmd::Del => Command::DelService(key.expect("service option checked")),
        Cmd::Flush => Command::Clear,
        Cmd::AddDest | Cmd::EditDest | Cmd::DelDest => {
            let key = key.expect("service option checked");
            let (ip, port) = dest_arg.expect("server option checked");
            // Copy the virtual port if none was given; DR and TUN must use it anyway.
            let mut port = port.unwrap_or(key.port());
            if cmd != Cmd::DelDest
                && fwmark.is_none()
                && matches!(forward, Forward::Tunnel | Forward::DirectRoute)
            {
                port = key.port();
            }
            let addr = SocketAddr::new(ip, port);
            if cmd == Cmd::DelDest {
                Command::DelDest(key, addr)
            } else {
                if Family::of(&ip) != key.family() && forward != Forward::Tunnel {
                    return fail("Different address family is allowed only for tunneling servers");
                }
                let tun_opts = options
                    & ((1 << opt::TUN_TYPE)
                        | (1 << opt::TUN_PORT)
                        | (1 << opt::TUN_NOCSUM)
                        | (1 << opt::TUN_CSUM)
                        | (1 << opt::TUN_REMCSUM));
                if tun_opts != 0 && forward != Forward::Tunnel {
                    return fail("Tunnel options conflict with forward method");
                }
                tunnel_opt_check(tun_type, options)?;
                let d = Destination {
                    addr,
                    forward,
                    weight,
                    upper_threshold: uth,
                    lower_threshold: lth,
                    tun_type,
                    tun_port,
                    tun_flags,
                };
                if cmd == Cmd::AddDest {
                    Command::AddDest(key, d)
                } else {
                    Command::EditDest(key, d)
                }
            }
        }
        Cmd::List => {
            let conflict = (options
                & ((1 << opt::CONNECTION) | (1 << opt::TIMEOUT) | (1 << opt::DAEMON))
                != 0
                && options & ((1 << opt::STATS) | (1 << opt::RATE) | (1 << opt::THRESHOLDS)) != 0)
                || (options & ((1 << opt::TIMEOUT) | (1 << opt::DAEMON)) != 0
                    && options & (1 << opt::PERSISTENTCONN) != 0);
            if conflict {
                return fail("options conflicts in the list command");
            }
            let what = if options & (1 << opt::CONNECTION) != 0 {
                ListWhat::Connections
            } else if let Some(k) = key {
                ListWhat::Service(k)
            } else if options & (1 << opt::TIMEOUT) != 0 {
                ListWhat::Timeout
            } else if options & (1 << opt::DAEMON) != 0 {
                ListWhat::Daemon
            } else {
                ListWhat::All
            };
            Command::List(what, fmt)
        }
        Cmd::Timeout => Command::SetTimeouts(timeouts),
        Cmd::StartDaemon => Command::StartDaemon(SyncDaemon {
            state: daemon_state,
            mcast_ifn: mcast_ifn.unwrap_or_else(|| DEFAULT_MCAST_IFN.to_owned()),
            sync_id: syncid,
            sync_maxlen,
            mcast_group,
            mcast_port,
            mcast_ttl,
        }),
        Cmd::StopDaemon => Command::StopDaemon(daemon_state),
        Cmd::Restore => Command::Restore,
        Cmd::Save => Command::Save {
            numeric: fmt.numeric,
        },
        Cmd::Zero => Command::Zero(key),
    })
}

/// ipvsadm's `tunnel_types_v_options` check.
fn tunnel_opt_check(t: TunnelType, options: u64) -> Result<(), ArgError> {
    // Columns: tun-port tun-nocsum tun-csum tun-remcsum.
    let row: &[u8; 4] = match t {
        TunnelType::Ipip => b"xxxx",
        TunnelType::Gue => b"+111",
        TunnelType::Gre => b"x11x",
    };
    let cols = [
        opt::TUN_PORT,
        opt::TUN_NOCSUM,
        opt::TUN_CSUM,
        opt::TUN_REMCSUM,
    ];
    let mut last: Option<usize> = None;
    for (j, &o) in cols.iter().enumerate() {
        let set = options & (1 << o) != 0;
        if !set {
            if row[j] == b'+' {
                return fail(format!(
                    "You need to supply the '{}' option for the '{}' tunnel type",
                    OPT_NAMES[o],
                    t.name()
                ));
            }
        } else {
            if row[j] == b'x' {
                return fail(format!(
                    "Illegal '{}' option with the '{}' tunnel type",
                    OPT_NAMES[o],
                    t.name()
                ));
            }
            if row[j] == b'1' {
                if let Some(l) = last {
                    return fail(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                        OPT_NAMES[o],
                        OPT_NAMES[l],
                        t.name()
                    ));
                }
                last = Some(o);
            }
        }
    }
    Ok(())
}

/// `-b flag,flag`: flag-1..3 for any scheduler, sh-* only with sh, mh-* only with mh.
pub fn parse_sched_flags(sched: &str, arg: &str) -> Result<ServiceFlags, ArgError> {
    let mut f = ServiceFlags::empty();
    for name in arg.split(',') {
        f |= match name {
            "flag-1" => ServiceFlags::SCHED1,
            "flag-2" => ServiceFlags::SCHED2,
            "flag-3" => ServiceFlags::SCHED3,
            "sh-fallback" | "sh-port" if sched != "sh" => {
                return fail(format!("incompatible scheduler flag `{name}'"));
            }
            "sh-fallback" => ServiceFlags::SCHED_SH_FALLBACK,
            "sh-port" => ServiceFlags::SCHED_SH_PORT,
            "mh-fallback" | "mh-port" if sched != "mh" => {
                return fail(format!("incompatible scheduler flag `{name}'"));
            }
            "mh-fallback" => ServiceFlags::SCHED_MH_FALLBACK,
            "mh-port" => ServiceFlags::SCHED_MH_PORT,
            _ => return fail(format!("invalid scheduler flag `{name}'")),
        };
    }
    Ok(f)
}

/// Splits a rule file into lines of words and parses each with [`parse_args`]. Empty lines
/// and `#` comments are skipped. A leading program name (`ipvsadm`) on a line is accepted.
pub fn parse_rules(text: &str) -> Result<Vec<Command>, RuleError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        let words = if words[0] == "ipvsadm" || words[0].ends_with("/ipvsadm") {
            &words[1..]
        } else {
            &words[..]
        };
        match parse_args(words) {
            Ok(Command::Restore) => {
                return Err(RuleError {
                    line: n + 1,
                    error: ArgError {
                        msg: "-R is not allowed in a rule file".into(),
                        exit_code: 2,
                    },
                });
            }
            Ok(c) => out.push(c),
            Err(error) => return Err(RuleError { line: n + 1, error }),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Printing.

/// `addrport_to_anyname` with `-n`: `1.2.3.4:80`, `[2001:db8::1]:80`.
fn addrport(addr: &SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(a) => format!("{a}:{}", addr.port()),
        IpAddr::V6(a) => format!("[{a}]:{}", addr.port()),
    }
}

/// `addrport_to_anyname`: names when `names` is given (ipvsadm without `-n`), numbers
/// otherwise or when a name is unknown.
fn addrport_named(addr: &SocketAddr, proto: Protocol, names: Option<&Names>) -> String {
    let Some(n) = names else {
        return addrport(addr);
    };
    let host = n
        .host(&addr.ip())
        .map_or_else(|| addr.ip().to_string(), str::to_owned);
    let port = n
        .port(addr.port(), proto)
        .map_or_else(|| addr.port().to_string(), str::to_owned);
    match addr.ip() {
        IpAddr::V4(_) => format!("{host}:{port}"),
        IpAddr::V6(_) => format!("[{host}]:{port}"),
    }
}

/// Cuts `s` to at most `n` bytes (ipvsadm writes a NUL there), on a character boundary.
fn truncate_bytes(s: &mut String, n: usize) {
    if s.len() > n {
        let mut n = n;
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s.truncate(n);
    }
}

fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

/// Host and service names for listings without `-n`, from `/etc/hosts` and `/etc/services`
/// (the "files" sources ipvsadm's resolver calls read first; DNS is not asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    hosts: std::collections::HashMap<IpAddr, String>,
    host_addrs: std::collections::HashMap<String, IpAddr>,
    services: std::collections::HashMap<(u16, String), String>,
    ports: std::collections::HashMap<(String, String), u16>,
}

impl Names {
    /// Parses the texts of a hosts file and a services file. The first line naming an
    /// address (or a port/protocol) wins, as with glibc's files backend.
    pub fn from_texts(hosts: &str, services: &str) -> Self {
        let mut n = Self::default();
        for line in hosts.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut w = line.split_whitespace();
            let (Some(ip), Some(name)) = (w.next(), w.next()) else {
                continue;
            };
            let Ok(ip) = ip.parse::<IpAddr>() else {
                continue;
            };
            n.hosts.entry(ip).or_insert_with(|| name.to_owned());
            for alias in core::iter::once(name).chain(w) {
                n.host_addrs.entry(alias.to_owned()).or_insert(ip);
            }
        }
        for line in services.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut w = line.split_whitespace();
            let (Some(name), Some(pp)) = (w.next(), w.next()) else {
                continue;
            };
            let Some((port, proto)) = pp.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            n.services
                .entry((port, proto.to_owned()))
                .or_insert_with(|| name.to_owned());
            for alias in core::iter::once(name).chain(w) {
                n.ports
                    .entry((alias.to_owned(), proto.to_owned()))
                    .or_insert(port);
            }
        }
        n
    }

    /// `/etc/hosts` and `/etc/services` of this system (a missing file contributes nothing).
    pub fn system() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        Self::from_texts(&read("/etc/hosts"), &read("/etc/services"))
    }

    /// The name of an address, if the hosts file has one.
    pub fn host(&self, ip: &IpAddr) -> Option<&str> {
        self.hosts.get(ip).map(String::as_str)
    }

    /// The service name of a port for a protocol, if the services file has one.
    pub fn port(&self, port: u16, proto: Protocol) -> Option<&str> {
        self.services
            .get(&(port, proto_name(proto).to_owned()))
            .map(String::as_str)
    }

    /// The address of a host name.
    pub fn host_addr(&self, name: &str) -> Option<IpAddr> {
        self.host_addrs.get(name).copied()
    }

    /// The port of a service name for a protocol.
    pub fn service_port(&self, name: &str, proto: Protocol) -> Option<u16> {
        self.ports
            .get(&(name.to_owned(), proto_name(proto).to_owned()))
            .copied()
    }
}

fn system_names() -> &'static Names {
    static NAMES: std::sync::OnceLock<Names> = std::sync::OnceLock::new();
    NAMES.get_or_init(Names::system)
}

/// ipvsadm's comparison of two addresses: `ntohl(a) - ntohl(b)` in C `int` arithmetic,
/// word by word for IPv6 (wrapping, as ipvsadm; this is what decides its order).
fn cmp_addr(a: &IpAddr, b: &IpAddr) -> i32 {
    fn words(ip: &IpAddr) -> [u32; 4] {
        match ip {
            IpAddr::V4(a) => [u32::from(*a), 0, 0, 0],
            IpAddr::V6(a) => {
                let o = a.octets();
                core::array::from_fn(|i| {
                    u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
                })
            }
        }
    }
    let (wa, wb) = (words(a), words(b));
    let n = if matches!(a, IpAddr::V6(_)) { 4 } else { 1 };
    for i in 0..n {
        let r = wa[i].wrapping_sub(wb[i]) as i32;
        if r != 0 {
            return r;
        }
    }
    0
}

fn cmp_services(a: &Service, b: &Service) -> i32 {
    let fw = |s: &Service| match s.key {
        ServiceKey::Fwmark { mark, .. } => mark,
        _ => 0,
    };
    let r = fw(a).wrapping_sub(fw(b)) as i32;
    if r != 0 {
        return r;
    }
    let r = i32::from(a.key.family().to_af()) - i32::from(b.key.family().to_af());
    if r != 0 {
        return r;
    }
    let proto = |s: &Service| match s.key {
        ServiceKey::Addr { protocol, .. } => protocol.number(),
        ServiceKey::Fwmark { .. } => 6, // stored as TCP
    };
    let r = i32::from(proto(a)) - i32::from(proto(b));
    if r != 0 {
        return r;
    }
    let ip = |s: &Service| match s.key {
        ServiceKey::Addr { addr, .. } => addr.ip(),
        ServiceKey::Fwmark {
            family: Family::Inet,
            ..
        } => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        ServiceKey::Fwmark {
            family: Family::Inet6,
            ..
        } => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    };
    let r = cmp_addr(&ip(a), &ip(b));
    if r != 0 {
        return r;
    }
    i32::from(a.key.port()) - i32::from(b.key.port())
}

fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    // Mixed families compare as ipvsadm does: the first entry's family decides how many
    // words of `union nf_inet_addr` are compared (an IPv4 address is its first word).
    let r = cmp_addr(&a.addr.ip(), &b.addr.ip());
    if r != 0 {
        return r;
    }
    i32::from(a.addr.port()) - i32::from(b.addr.port())
}

/// glibc's `qsort` (a top-down merge sort, `msort`), so that even ipvsadm's non-transitive
/// comparisons give its exact order.
fn msort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    {
        let (a, b) = v.split_at_mut(n1);
        msort(a, cmp);
        msort(b, cmp);
    }
    let mut tmp = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            tmp.push(v[i].clone());
            i += 1;
        } else {
            tmp.push(v[j].clone());
            j += 1;
        }
    }
    tmp.extend_from_slice(&v[i..n1]);
    tmp.extend_from_slice(&v[j..n]);
    v.clone_from_slice(&tmp);
}

/// Sorts services and their destinations in ipvsadm's order.
pub fn sort(services: &mut [VirtualServer]) {
    msort(services, &|a: &VirtualServer, b: &VirtualServer| {
        cmp_services(&a.entry.service, &b.entry.service)
    });
    for vs in services.iter_mut() {
        msort(&mut vs.dests, &|a: &DestEntry, b: &DestEntry| {
            cmp_dests(&a.dest, &b.dest)
        });
    }
}

fn sched_flags_text(s: &Service) -> String {
    let f = s.flags;
    let mut out = String::new();
    let name = s.scheduler.name();
    let (n1, n2) = match name {
        "sh" => ("sh-fallback", "sh-port"),
        "mh" => ("mh-fallback", "mh-port"),
        _ => ("flag-1", "flag-2"),
    };
    if f.contains(ServiceFlags::SCHED1) {
        out.push_str(n1);
        out.push(',');
    }
    if f.contains(ServiceFlags::SCHED2) {
        out.push_str(n2);
        out.push(',');
    }
    if f.contains(ServiceFlags::SCHED3) {
        out.push_str("flag-3,");
    }
    out.pop();
    out
}

fn svc_name_rule(k: &ServiceKey, names: Option<&Names>) -> String {
    match (k, names) {
        (ServiceKey::Addr { protocol, addr }, Some(_)) => {
            let p = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
            };
            format!("{p} {}", addrport_named(addr, *protocol, names))
        }
        _ => k.to_string(),
    }
}

fn svc_name_list(k: &ServiceKey, names: Option<&Names>) -> String {
    match k {
        ServiceKey::Fwmark {
            mark,
            family: Family::Inet,
        } => format!("FWM  {mark}"),
        ServiceKey::Fwmark {
            mark,
            family: Family::Inet6,
        } => format!("FWM  {mark} IPv6"),
        ServiceKey::Addr { protocol, addr } => {
            let p = match protocol {
                Protocol::Tcp => "TCP",
                Protocol::Udp => "UDP",
                Protocol::Sctp => "SCTP",
            };
            let mut s = format!("{p:<4} {}", addrport_named(addr, *protocol, names));
            if addr.is_ipv4() {
                truncate_bytes(&mut s, 33);
            }
            s
        }
    }
}

fn netmask_text(s: &Service) -> Option<String> {
    match s.netmask {
        Netmask::V4(m) if s.key.family() == Family::Inet && m != Ipv4Addr::BROADCAST => {
            Some(m.to_string())
        }
        Netmask::V6(p) if s.key.family() == Family::Inet6 && p != 128 => Some(p.to_string()),
        _ => None,
    }
}

fn fwd_switch(f: Forward) -> &'static str {
    match f {
        Forward::Masq => "-m",
        Forward::Tunnel => "-i",
        Forward::Local | Forward::DirectRoute => "-g",
        Forward::Bypass => "(null)",
    }
}

fn fwd_name(f: Forward) -> &'static str {
    match f {
        Forward::Masq => "Masq",
        Forward::Local => "Local",
        Forward::Tunnel => "Tunnel",
        Forward::DirectRoute => "Route",
        Forward::Bypass => "(null)",
    }
}

/// `print_largenum`.
fn largenum(out: &mut String, i: u64, exact: bool) {
    if exact {
        let len = i.to_string().len();
        let w = if len <= 8 { 9 } else { len + 1 };
        let _ = write!(out, "{i:>w$}");
        return;
    }
    let _ = if i < 100_000_000 {
        write!(out, "{i:>9}")
    } else if i < 1_000_000_000 {
        write!(out, "{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        write!(out, "{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        write!(out, "{:>8}G", i / 1_000_000_000)
    } else {
        write!(out, "{:>8}T", i / 1_000_000_000_000)
    };
}

fn title(out: &mut String, f: &ListFormat) {
    let head = "Prot LocalAddress:Port";
    if f.stats {
        let _ = writeln!(
            out,
            "{head:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        );
    } else if f.rate {
        let _ = writeln!(
            out,
            "{head:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        );
    } else if f.thresholds {
        let _ = writeln!(
            out,
            "{head:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        );
    } else if f.persistent_conn {
        let _ = writeln!(
            out,
            "{head:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        );
    } else if f.tun_info {
        out.push_str("Prot LocalAddress:Port Scheduler Flags\n");
        out.push_str(
            "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n",
        );
    } else {
        out.push_str("Prot LocalAddress:Port Scheduler Flags\n");
        out.push_str("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    }
}

fn tun_info(d: &Destination) -> String {
    if d.forward != Forward::Tunnel {
        return "n/a".into();
    }
    let csum = match d.tun_flags {
        TunnelCsum::NoCsum => "-c",
        TunnelCsum::Csum => "+c",
        TunnelCsum::RemCsum => "r+c",
    };
    match d.tun_type {
        TunnelType::Ipip => "ipip".into(),
        TunnelType::Gue => format!("gue:{}:{csum}", d.tun_port),
        TunnelType::Gre => format!("gre:{csum}"),
    }
}

fn service_entry(
    out: &mut String,
    vs: &VirtualServer,
    f: &ListFormat,
    rule: bool,
    names: Option<&Names>,
) {
    let s = &vs.entry.service;
    let proto = match s.key {
        ServiceKey::Addr { protocol, .. } => protocol,
        ServiceKey::Fwmark { .. } => Protocol::Tcp,
    };
    let st = &vs.entry.stats64;
    if rule {
        let name = svc_name_rule(&s.key, names);
        let _ = write!(out, "-A {name} -s {}", s.scheduler.name());
        if s.flags.contains(ServiceFlags::PERSISTENT) {
            let _ = write!(out, " -p {}", s.timeout);
            if let Some(m) = netmask_text(s) {
                let _ = write!(out, " -M {m}");
            }
        }
        if let Some(pe) = &s.pe_name {
            let _ = write!(out, " --pe {pe}");
        }
        if s.flags.contains(ServiceFlags::ONEPACKET) {
            out.push_str(" -o");
        }
        if s.flags.intersects(ServiceFlags::SCHED_MASK) {
            let _ = write!(out, " -b {}", sched_flags_text(s));
        }
        out.push('\n');
        for e in &vs.dests {
            let d = &e.dest;
            let base = format!(
                "-a {name} -r {} {} -w {}",
                addrport_named(&d.addr, proto, names),
                fwd_switch(d.forward),
                d.weight
            );
            if d.forward == Forward::Tunnel {
                let opts = match d.tun_flags {
                    TunnelCsum::NoCsum => "--tun-nocsum",
                    TunnelCsum::Csum => "--tun-csum",
                    TunnelCsum::RemCsum => "--tun-remcsum",
                };
                let _ = match d.tun_type {
                    TunnelType::Gue => writeln!(
                        out,
                        "{base} --tun-type {} --tun-port {} {opts}",
                        d.tun_type.name(),
                        d.tun_port
                    ),
                    TunnelType::Gre => {
                        writeln!(out, "{base} --tun-type {} {opts}", d.tun_type.name())
                    }
                    TunnelType::Ipip => writeln!(out, "{base} --tun-type {}", d.tun_type.name()),
                };
            } else {
                let _ = writeln!(out, "{base}");
            }
        }
        return;
    }
    let name = svc_name_list(&s.key, names);
    if f.stats {
        let _ = write!(out, "{name:<33}");
        for v in [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes] {
            largenum(out, v, f.exact);
        }
    } else if f.rate {
        let _ = write!(out, "{name:<33}");
        for v in [st.cps, st.inpps, st.outpps, st.inbps, st.outbps] {
            largenum(out, v, f.exact);
        }
    } else {
        let _ = write!(out, "{name} {}", s.scheduler.name());
        if s.flags.intersects(ServiceFlags::SCHED_MASK) {
            let _ = write!(out, " ({})", sched_flags_text(s));
        }
        if s.flags.contains(ServiceFlags::PERSISTENT) {
            let _ = write!(out, " persistent {}", s.timeout);
            if let Some(m) = netmask_text(s) {
                let _ = write!(out, " mask {m}");
            }
        }
        if let Some(pe) = &s.pe_name {
            let _ = write!(out, " pe {pe}");
        }
        if s.flags.contains(ServiceFlags::ONEPACKET) {
            out.push_str(" ops");
        }
    }
    out.push('\n');
    for e in &vs.dests {
        let d = &e.dest;
        let mut dname = addrport_named(&d.addr, proto, names);
        if d.addr.is_ipv4() {
            truncate_bytes(&mut dname, 28);
        }
        let ds = &e.stats64;
        if f.stats {
            let _ = write!(out, "  -> {dname:<28}");
            for v in [ds.conns, ds.inpkts, ds.outpkts, ds.inbytes, ds.outbytes] {
                largenum(out, v, f.exact);
            }
            out.push('\n');
        } else if f.rate {
            let _ = write!(
                out,
                "  -> {dname:<28} {:>8} {:>8} {:>8}",
                ds.cps, ds.inpps, ds.outpps
            );
            largenum(out, ds.inbps, f.exact);
            largenum(out, ds.outbps, f.exact);
            out.push('\n');
        } else if f.thresholds {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
                d.upper_threshold, d.lower_threshold, e.active_conns, e.inact_conns
            );
        } else if f.persistent_conn {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                d.weight as u32, e.persist_conns, e.active_conns, e.inact_conns
            );
        } else if f.tun_info {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<13} {:<6} {:<10} {:<10}",
                fwd_name(d.forward),
                tun_info(d),
                d.weight,
                e.active_conns,
                e.inact_conns
            );
        } else {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                fwd_name(d.forward),
                d.weight,
                e.active_conns,
                e.inact_conns
            );
        }
    }
}

/// `ipvsadm -L -n [...]` for every service: the version line, the title, the services.
/// `services` is sorted here unless `--nosort`. Numeric; see [`list_named`] for names.
pub fn list(info: &Info, services: &[VirtualServer], f: &ListFormat) -> String {
    list_named(info, services, f, None)
}

/// [`list`] with host and service names from `names` (ipvsadm without `-n`).
pub fn list_named(
    info: &Info,
    services: &[VirtualServer],
    f: &ListFormat,
    names: Option<&Names>,
) -> String {
    let mut v = services.to_vec();
    if !f.nosort {
        sort(&mut v);
    }
    let (a, b, c) = info.version_triple();
    let mut out = format!(
        "IP Virtual Server version {a}.{b}.{c} (size={})\n",
        info.conn_tab_size
    );
    title(&mut out, f);
    for vs in &v {
        service_entry(&mut out, vs, f, false, names);
    }
    out
}

/// `ipvsadm -L -n -t ...`: the title and one service.
pub fn list_service(vs: &VirtualServer, f: &ListFormat) -> String {
    list_service_named(vs, f, None)
}

/// [`list_service`] with names.
pub fn list_service_named(vs: &VirtualServer, f: &ListFormat, names: Option<&Names>) -> String {
    let mut v = vs.clone();
    if !f.nosort {
        sort(core::slice::from_mut(&mut v));
    }
    let mut out = String::new();
    title(&mut out, f);
    service_entry(&mut out, &v, f, false, names);
    out
}

/// `ipvsadm -S -n`: one `-A` line per service and one `-a` line per destination.
pub fn save(services: &[VirtualServer]) -> String {
    save_named(services, None)
}

/// `ipvsadm -S` (without `-n`): [`save`] with names.
pub fn save_named(services: &[VirtualServer], names: Option<&Names>) -> String {
    let mut v = services.to_vec();
    sort(&mut v);
    let mut out = String::new();
    for vs in &v {
        service_entry(&mut out, vs, &ListFormat::default(), true, names);
    }
    out
}

/// `ipvsadm -L --timeout`.
pub fn list_timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp, t.tcp_fin, t.udp
    )
}

/// `ipvsadm -L --daemon`: master first, then backup.
pub fn list_daemons(ds: &[SyncDaemon]) -> String {
    let mut out = String::new();
    for state in [DaemonState::Master, DaemonState::Backup] {
        for d in ds.iter().filter(|d| d.state == state) {
            let _ = write!(
                out,
                "{} sync daemon (mcast={}, syncid={}",
                state.name(),
                d.mcast_ifn,
                d.sync_id
            );
            if let Some(m) = d.sync_maxlen.filter(|&m| m != 0) {
                let _ = write!(out, ", maxlen={m}");
            }
            if let Some(g) = d.mcast_group {
                let _ = write!(out, ", group={g}");
            }
            if let Some(p) = d.mcast_port.filter(|&p| p != 0) {
                let _ = write!(out, ", port={p}");
            }
            if let Some(t) = d.mcast_ttl.filter(|&t| t != 0) {
                let _ = write!(out, ", ttl={t}");
            }
            out.push_str(")\n");
        }
    }
    out
}

/// ipvsadm's message for a failed request (`ipvs_strerror`).
pub fn strerror(req: &Request, errno: i32) -> String {
    let s = match (req, errno) {
        (_, libc::EPERM) => "Permission denied (you must be root)",
        (Request::NewService(_), libc::EEXIST) => "Service already exists",
        (Request::NewService(_) | Request::SetService(_), libc::ENOENT) => {
            "Scheduler or persistence engine not found"
        }
        (Request::SetService(_) | Request::DelService(_) | Request::Zero(_), libc::ESRCH) => {
            "No such service"
        }
        (Request::NewDest(..) | Request::SetDest(..) | Request::DelDest(..), libc::ESRCH) => {
            "Service not defined"
        }
        (Request::NewDest(..), libc::EEXIST) => "Destination already exists",
        (Request::SetDest(..) | Request::DelDest(..), libc::ENOENT) => "No such destination",
        (Request::NewDaemon(_), libc::EEXIST) => "Daemon has already run",
        (Request::DelDaemon(_), libc::ESRCH) => "No daemon is running",
        (_, libc::EINVAL) => {
            "Invalid operation.  Possibly wrong module version, address not unicast, ..."
        }
        (_, libc::ENOPROTOOPT) => "Protocol not available",
        (_, libc::ENOMEM) => "Memory allocation problem",
        (_, libc::EAFNOSUPPORT) => "Operation not supported with specified address family",
        _ => {
            return std::io::Error::from_raw_os_error(errno)
                .to_string()
                .split(" (os error")
                .next()
                .unwrap_or("")
                .to_owned();
        }
    };
    s.to_owned()
}

impl fmt::Display for Command {
    /// The command as an ipvsadm rule line (for the commands `-S` prints).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddService(s) | Self::EditService(s) => {
                let vs = VirtualServer {
                    entry: ServiceEntry {
                        service: s.clone(),
                        stats: Stats::default(),
                        stats64: Stats64::default(),
                    },
                    dests: vec![],
                };
                let mut out = String::new();
                service_entry(&mut out, &vs, &ListFormat::default(), true, None);
                let line = out.trim_end();
                if matches!(self, Self::EditService(_)) {
                    write!(f, "-E{}", &line[2..])
                } else {
                    f.write_str(line)
                }
            }
            Self::AddDest(k, d) | Self::EditDest(k, d) => {
                let vs = VirtualServer {
                    entry: ServiceEntry {
                        service: Service::new(*k),
                        stats: Stats::default(),
                        stats64: Stats64::default(),
                    },
                    dests: vec![DestEntry {
                        dest: *d,
                        active_conns: 0,
                        inact_conns: 0,
                        persist_conns: 0,
                        stats: Stats::default(),
                        stats64: Stats64::default(),
                    }],
                };
                let mut out = String::new();
                service_entry(&mut out, &vs, &ListFormat::default(), true, None);
                let line = out.lines().nth(1).unwrap_or("");
                if matches!(self, Self::EditDest(..)) {
                    write!(f, "-e{}", &line[2..])
                } else {
                    f.write_str(line)
                }
            }
            Self::DelService(k) => write!(f, "-D {k}"),
            Self::DelDest(k, a) => write!(f, "-d {k} -r {}", addrport(a)),
            Self::Clear => f.write_str("-C"),
            Self::Zero(None) => f.write_str("-Z"),
            Self::Zero(Some(k)) => write!(f, "-Z {k}"),
            Self::SetTimeouts(t) => write!(f, "--set {} {} {}", t.tcp, t.tcp_fin, t.udp),
            Self::StopDaemon(s) => write!(f, "--stop-daemon {}", s.name()),
            Self::StartDaemon(d) => {
                write!(
                    f,
                    "--start-daemon {} --mcast-interface {} --syncid {}",
                    d.state.name(),
                    d.mcast_ifn,
                    d.sync_id
                )?;
                if let Some(m) = d.sync_maxlen {
                    write!(f, " --sync-maxlen {m}")?;
                }
                if let Some(g) = d.mcast_group {
                    write!(f, " --mcast-group {g}")?;
                }
                if let Some(p) = d.mcast_port {
                    write!(f, " --mcast-port {p}")?;
                }
                if let Some(t) = d.mcast_ttl {
                    write!(f, " --mcast-ttl {t}")?;
                }
                Ok(())
            }
            Self::List(..) => f.write_str("-L -n"),
            Self::Save { .. } => f.write_str("-S -n"),
            Self::Restore => f.write_str("-R"),
            Self::Help => f.write_str("-h"),
            Self::Version => f.write_str("-v"),
        }
    }
}

#[cfg(test)]
mod tests;
