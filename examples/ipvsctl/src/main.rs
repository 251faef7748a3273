//! `ipvsctl`: an ipvsadm-compatible command line on `ipvs-netlink`.
//!
//! Same grammar, output formats and exit codes as ipvsadm 1.31 (2 for usage errors, 255 for
//! a failed kernel request, 1 when IPVS cannot be reached); without `-n`, names come from
//! `/etc/hosts` and `/etc/services` only (no DNS); `-R` reads
//! rules from stdin and applies them as one pipelined batch. Needs root (CAP_NET_ADMIN) and
//! the `ip_vs` module. `ipvsctl bench ...` is the lab benchmark (see `bench.rs`).

use std::io::{Read, Write};
use std::process::ExitCode;

use ipvs_netlink::ipvsadm::{self, Command, ListWhat};
use ipvs_netlink::{Error, Ipvs, VirtualServer};

mod bench;

const USAGE: &str = "\
ipvsctl (ipvsadm 1.31 compatible)
Usage:
  ipvsctl -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ipvsctl -D virtual-service
  ipvsctl -C
  ipvsctl -R
  ipvsctl -S [-n]
  ipvsctl -a|e virtual-service -r server-address [options]
  ipvsctl -d virtual-service -r server-address
  ipvsctl -L|l [virtual-service] [options]
  ipvsctl -Z [virtual-service]
  ipvsctl --set tcp tcpfin udp
  ipvsctl --start-daemon {master|backup} [daemon-options]
  ipvsctl --stop-daemon {master|backup}
  ipvsctl bench [--services N] [--dests M] [--ipvsadm PATH] [--no-estimation]
  ipvsctl -h

virtual-service: --tcp-service|-t addr:port, --udp-service|-u addr:port,
                 --sctp-service addr:port, --fwmark-service|-f fwmark [-6]
Options: -s sched, -p [timeout], -M netmask, --pe engine, -o, -b flags, -r addr[:port],
         -g|-i|-m, -w weight, -x uthreshold, -y lthreshold, --tun-type ipip|gue|gre,
         --tun-port port, --tun-nocsum|--tun-csum|--tun-remcsum, -n, --stats, --rate,
         --thresholds, --persistent-conn, --tun-info, --exact, --nosort, --timeout, --daemon,
         --mcast-interface if, --syncid id, --sync-maxlen n, --mcast-group addr,
         --mcast-port port, --mcast-ttl ttl
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bench") {
        return bench::run(&args[1..]);
    }
    let prog = std::env::args().next().unwrap_or_else(|| "ipvsctl".into());
    let cmd = match ipvsadm::parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.msg.trim_end());
            if e.msg.starts_with("no command") {
                eprintln!("Try `{prog} -h' or '{prog} --help' for more information.");
            }
            return ExitCode::from(e.exit_code as u8);
        }
    };
    match cmd {
        Command::Help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!(
                "ipvsctl v{} (ipvsadm 1.31 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let mut ipvs = match Ipvs::connect() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("Can't initialize ipvs: {e}");
            return ExitCode::from(1);
        }
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    let r = run(&mut ipvs, cmd, &mut out);
    let _ = out.flush();
    r
}

fn report(req: &ipvs_netlink::message::Request, e: &Error) {
    match e {
        Error::Kernel(k) => {
            eprintln!("{}", ipvsadm::strerror(req, k.errno));
            if k.hint.is_some() {
                eprintln!("  ({k})");
            }
        }
        other => eprintln!("{other}"),
    }
}

fn dump_sorted(ipvs: &mut Ipvs) -> Result<Vec<VirtualServer>, Error> {
    ipvs.dump()
}

fn run(ipvs: &mut Ipvs, cmd: Command, out: &mut impl Write) -> ExitCode {
    match cmd {
        Command::List(what, fmt) => {
            // Without -n, names come from /etc/hosts and /etc/services.
            let names = (!fmt.numeric).then(ipvsadm::Names::system);
            let names = names.as_ref();
            let text = match what {
                ListWhat::All => ipvs.info().and_then(|i| {
                    dump_sorted(ipvs).map(|d| ipvsadm::list_named(&i, &d, &fmt, names))
                }),
                ListWhat::Service(k) => match ipvs.service(&k) {
                    Ok(Some(entry)) => ipvs.dests(&k).map(|dests| {
                        ipvsadm::list_service_named(&VirtualServer { entry, dests }, &fmt, names)
                    }),
                    Ok(None) => {
                        eprintln!("No such service");
                        return ExitCode::from(1);
                    }
                    Err(e) => Err(e),
                },
                ListWhat::Timeout => ipvs.timeouts().map(|t| ipvsadm::list_timeouts(&t)),
                ListWhat::Daemon => ipvs.daemons().map(|d| ipvsadm::list_daemons(&d)),
                ListWhat::Connections => {
                    eprintln!(
                        "ipvsctl: connection listing (-c) is not supported; read /proc/net/ip_vs_conn"
                    );
                    return ExitCode::from(2);
                }
            };
            match text {
                Ok(t) => {
                    let _ = out.write_all(t.as_bytes());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Save { numeric } => match ipvs.dump() {
            Ok(d) => {
                let names = (!numeric).then(ipvsadm::Names::system);
                let _ = out.write_all(ipvsadm::save_named(&d, names.as_ref()).as_bytes());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
        },
        Command::Restore => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                eprintln!("ipvsctl: reading stdin: {e}");
                return ExitCode::from(2);
            }
            restore(ipvs, &text)
        }
        other => {
            let Some(req) = other.to_request() else {
                eprintln!("ipvsctl: unsupported command");
                return ExitCode::from(2);
            };
            match ipvs.request(&req) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    report(&req, &e);
                    ExitCode::from(255)
                }
            }
        }
    }
}

/// `-R`: every line parsed first (a bad line changes nothing), then one pipelined batch.
pub(crate) fn restore(ipvs: &mut Ipvs, text: &str) -> ExitCode {
    let cmds = match ipvsadm::parse_rules(text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut reqs = Vec::with_capacity(cmds.len());
    for c in &cmds {
        match c.to_request() {
            Some(r) => reqs.push(r),
            None => {
                eprintln!("ipvsctl: `{c}' cannot be part of a restore");
                return ExitCode::from(2);
            }
        }
    }
    let results = ipvs.apply(&reqs);
    let mut failed = false;
    for (req, r) in reqs.iter().zip(&results) {
        if let Err(e) = r {
            failed = true;
            report(req, e);
        }
    }
    if failed {
        ExitCode::from(255)
    } else {
        ExitCode::SUCCESS
    }
}
