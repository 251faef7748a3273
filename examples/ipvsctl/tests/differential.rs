//! Differential tests in the kernel lab: the same command sequence runs once with ipvsadm
//! 1.31 (in one network namespace) and once with ipvsctl (in another). Required:
//! - every command exits the same way (0, 2 for usage errors, 255 for kernel errors) and a
//!   failing command's first stderr line is ipvsadm's message;
//! - `ipvsadm -S -n` and `ipvsadm -L -n` (and the --stats, --rate, --thresholds,
//!   --persistent-conn, --tun-info, --exact, --timeout, --daemon views, and `-S` / `-L`
//!   with service names) print the same in both namespaces;
//! - ipvsctl's own listing of its namespace is byte-identical to ipvsadm's.
//!
//! On the host each test prints `SKIP <test>: needs the kernel lab (IPVS)`.

use std::process::{Output, Stdio};

use lvs_lab::skip_unless_lab;
use lvs_testkit::Netns;

const IPVSCTL: &str = env!("CARGO_BIN_EXE_ipvsctl");

fn exec(ns: &Netns, prog: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = ns.cmd(prog);
    c.args(args).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap_or_else(|e| panic!("{prog}: {e}"));
    if let (Some(text), Some(mut si)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        si.write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Views compared after each script.
const VIEWS: &[&str] = &[
    "-S -n",
    "-L -n",
    "-S",
    "-L",
    "-L -n --stats",
    "-L -n --rate",
    "-L -n --stats --exact",
    "-L -n --thresholds",
    "-L -n --persistent-conn",
    "-L -n --tun-info",
    "-L -n --nosort",
    "-L --timeout",
    "-L --daemon",
];

struct Pair {
    adm: Netns,
    ctl: Netns,
}

impl Pair {
    fn new(tag: &str) -> Self {
        let p = Self {
            adm: Netns::new(&format!("{tag}a")).unwrap(),
            ctl: Netns::new(&format!("{tag}c")).unwrap(),
        };
        for ns in [&p.adm, &p.ctl] {
            // Interfaces for sync daemons.
            ns.run(&[
                "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
            ])
            .unwrap();
            ns.run(&["ip", "link", "set", "eth0", "up"]).unwrap();
            ns.run(&["ip", "link", "set", "eth1", "up"]).unwrap();
        }
        p
    }

    /// Runs one command line in both namespaces; checks exit codes and error messages.
    fn both(&self, line: &str) {
        let args: Vec<&str> = line.split_whitespace().collect();
        let a = exec(&self.adm, "ipvsadm", &args, None);
        let c = exec(&self.ctl, IPVSCTL, &args, None);
        assert_eq!(
            c.status.code(),
            a.status.code(),
            "`{line}`: ipvsadm exited {:?} ({}), ipvsctl {:?} ({})",
            a.status.code(),
            text(&a.stderr),
            c.status.code(),
            text(&c.stderr)
        );
        let first = |o: &Output| {
            text(&o.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .trim_end()
                .to_owned()
        };
        assert_eq!(first(&c), first(&a), "`{line}`: stderr differs");
        assert_eq!(text(&c.stdout), text(&a.stdout), "`{line}`: stdout differs");
    }

    /// Restores the same rules with `ipvsadm -R` and `ipvsctl -R`.
    fn restore(&self, rules: &str) {
        let a = exec(&self.adm, "ipvsadm", &["-R"], Some(rules));
        let c = exec(&self.ctl, IPVSCTL, &["-R"], Some(rules));
        assert!(a.status.success(), "ipvsadm -R: {}", text(&a.stderr));
        assert!(c.status.success(), "ipvsctl -R: {}", text(&c.stderr));
    }

    /// Every view, printed by ipvsadm in both namespaces and by ipvsctl in its own.
    fn compare(&self, what: &str) {
        for view in VIEWS {
            let args: Vec<&str> = view.split_whitespace().collect();
            let adm_in_adm = exec(&self.adm, "ipvsadm", &args, None);
            let adm_in_ctl = exec(&self.ctl, "ipvsadm", &args, None);
            let ctl_in_ctl = exec(&self.ctl, IPVSCTL, &args, None);
            assert!(
                adm_in_adm.status.success(),
                "{view}: {}",
                text(&adm_in_adm.stderr)
            );
            // Kernel order (--nosort) depends on the namespace (the service hash mixes in the
            // netns pointer): it is only compared within one namespace.
            if !view.contains("--nosort") {
                assert_eq!(
                    text(&adm_in_ctl.stdout),
                    text(&adm_in_adm.stdout),
                    "{what}: `ipvsadm {view}` differs between the ipvsadm-made and the ipvsctl-made table"
                );
            }
            assert_eq!(
                text(&ctl_in_ctl.stdout),
                text(&adm_in_ctl.stdout),
                "{what}: `ipvsctl {view}` differs from `ipvsadm {view}` (stderr: {})",
                text(&ctl_in_ctl.stderr)
            );
        }
    }

    fn script(&self, what: &str, lines: &[&str]) {
        for l in lines {
            self.both(l);
        }
        self.compare(what);
    }
}

/// The seed's three recipes (DR, NAT, TUN), with documentation addresses.
#[test]
fn seed_commands() {
    if skip_unless_lab("seed_commands") {
        return;
    }
    let p = Pair::new("seed");
    for (name, flag) in [("DR", "-g"), ("NAT", "-m"), ("TUN", "-i")] {
        p.script(
            name,
            &[
                "-C",
                "-A -t 203.0.113.62:80 -s wlc",
                &format!("-a -t 203.0.113.62:80 -r 192.0.2.12 {flag}"),
                &format!("-a -t 203.0.113.62:80 -r 192.0.2.13 {flag}"),
            ],
        );
    }
}

/// Every service kind, scheduler flag, persistence option, forwarding method and tunnel type.
#[test]
fn full_feature_table() {
    if skip_unless_lab("full_feature_table") {
        return;
    }
    let p = Pair::new("full");
    p.script(
        "full",
        &[
            "-A -t 192.0.2.1:80 -s sh -b sh-port,sh-fallback -p 100 -M 255.255.255.0",
            "-A -u 192.0.2.1:53 -s rr -o",
            "-A -f 5 -6 -s mh -b mh-port",
            "-A -f 7 -s wlc -b flag-1,flag-3 -p",
            "-A -t [2001:db8::1]:443 -s wrr -p -M 64 --pe sip",
            "-A --sctp-service 203.0.113.9:3868 -s lc",
            "-A -t 203.0.113.200:8080 -s nq",
            "-A -t 192.0.2.77:8080 -s fo",
            "-A -t 192.0.2.78:8080 -s ovf",
            "-A -t 192.0.2.79:8080 -s lblc",
            "-A -t 192.0.2.80:8080 -s lblcr",
            "-A -t 192.0.2.81:8080 -s dh",
            "-A -t 192.0.2.82:8080 -s sed",
            "-A -t 192.0.2.83:8080 -s none",
            "-a -t 192.0.2.1:80 -r 198.51.100.2 -m -w 3 -x 10 -y 5",
            "-a -t 192.0.2.1:80 -r 2001:db8::5 -i --tun-type gue --tun-port 6080 --tun-csum",
            "-a -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type gre --tun-csum",
            "-a -t 192.0.2.1:80 -r 198.51.100.4 -i",
            "-a -t 192.0.2.1:80 -r 198.51.100.5:8080 -m -w 0",
            "-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -g -w 65535",
            "-a -t [2001:db8::1]:443 -r [2001:db8::9]:443 -g",
            "-a -f 7 -r 198.51.100.7 -g",
            "-a -f 7 -r 198.51.100.8:0 -m",
            "-a -u 192.0.2.1:53 -r 198.51.100.53 -m",
            "-a -t 192.0.2.1:80 -r 198.51.100.6 -i --tun-type gue --tun-port 5555 --tun-remcsum",
            "--set 1000 100 200",
        ],
    );
}

/// Edits, deletions, zeroing, timeouts and the single-service listing.
#[test]
fn edit_delete_zero() {
    if skip_unless_lab("edit_delete_zero") {
        return;
    }
    let p = Pair::new("edit");
    p.script(
        "edit",
        &[
            "-A -t 192.0.2.1:80 -s rr",
            "-A -u 192.0.2.2:53 -s wlc -p 30",
            "-a -t 192.0.2.1:80 -r 198.51.100.1 -m -w 2",
            "-a -t 192.0.2.1:80 -r 198.51.100.2 -m",
            "-a -u 192.0.2.2:53 -r 198.51.100.3:5353 -m",
            "-E -t 192.0.2.1:80 -s wrr -p 60",
            "-E -u 192.0.2.2:53 -s sh -b sh-port",
            "-e -t 192.0.2.1:80 -r 198.51.100.1 -m -w 0 -x 100 -y 10",
            "-e -u 192.0.2.2:53 -r 198.51.100.3:5353 -m -w 7",
            "-d -t 192.0.2.1:80 -r 198.51.100.2",
            "-Z -t 192.0.2.1:80",
            "-Z",
            "-Ln -t 192.0.2.1:80",
            "-Ln -u 192.0.2.2:53 --stats",
            "-Ln -t 192.0.2.1:80 --thresholds",
            "--set 0 77 0",
            "-D -u 192.0.2.2:53",
        ],
    );
}

/// Commands the kernel or the option parser refuses: same exit code, same first line.
#[test]
fn errors_match() {
    if skip_unless_lab("errors_match") {
        return;
    }
    let p = Pair::new("err");
    p.script(
        "errors",
        &[
            "-A -t 192.0.2.1:80",
            "-A -t 192.0.2.1:80",
            "-D -t 192.0.2.99:80",
            "-a -t 192.0.2.1:80 -r 198.51.100.2 -m",
            "-a -t 192.0.2.1:80 -r 198.51.100.2 -m",
            "-d -t 192.0.2.1:80 -r 198.51.100.99",
            "-e -t 192.0.2.99:80 -r 198.51.100.2",
            "-e -t 192.0.2.1:80 -r 198.51.100.77",
            "-a -t 192.0.2.99:80 -r 198.51.100.2",
            "-A -t 192.0.2.50:80 -s bogus",
            "-A -t 192.0.2.1:0",
            "-A -t 192.0.2.51:80 -x 3",
            "-Ln -c --stats",
            "--stop-daemon master",
            "-Z -t 192.0.2.99:80",
            "-E -t 192.0.2.99:80",
            "-a -t 192.0.2.1:80 -r 198.51.100.20 --tun-type gue",
            "-a -t 192.0.2.1:80 -r 198.51.100.21 -i --tun-type gue",
            "-a -t 192.0.2.1:80 -r 198.51.100.22 -i --tun-type gre --tun-remcsum",
            "-A -t 192.0.2.1:81 -b sh-port",
            "-A -t 192.0.2.1:82 -o",
            "-a -t 192.0.2.1:80 -r 2001:db8::1 -m",
            "-A -f 0",
            "-A -t 192.0.2.1:83 -p 0",
            "-A -t 192.0.2.1:84 -s rr -s wlc",
            "-L extra",
        ],
    );
}

/// Sync daemons with every option.
#[test]
fn sync_daemons() {
    if skip_unless_lab("sync_daemons") {
        return;
    }
    let p = Pair::new("sync");
    p.script(
        "daemons",
        &[
            "--start-daemon master --mcast-interface eth0 --syncid 7",
            "--start-daemon backup --mcast-interface eth1 --syncid 9 --mcast-group 224.0.0.99 --mcast-port 9999 --mcast-ttl 3 --sync-maxlen 1400",
            "--start-daemon backup --mcast-interface eth1",
        ],
    );
    p.script(
        "daemons stopped",
        &[
            "--stop-daemon master",
            "--stop-daemon backup",
            "--stop-daemon backup",
        ],
    );
}

/// `-R` of ipvsadm's own `-S` output (the full table) through the batch path.
#[test]
fn restore_roundtrip() {
    if skip_unless_lab("restore_roundtrip") {
        return;
    }
    let src = Netns::new("rsrc").unwrap();
    for l in [
        "-A -t 192.0.2.1:80 -s sh -b sh-port -p 100 -M 255.255.255.0",
        "-A -u 192.0.2.1:53 -s rr -o",
        "-A -f 5 -6 -s mh -b mh-port,mh-fallback",
        "-A -t [2001:db8::1]:443 -s wrr -p -M 64 --pe sip",
        "-A --sctp-service 203.0.113.9:3868 -s lc",
        "-a -t 192.0.2.1:80 -r 198.51.100.2 -m -w 3",
        "-a -t 192.0.2.1:80 -r 2001:db8::5 -i --tun-type gue --tun-port 6080 --tun-csum",
        "-a -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type gre --tun-nocsum",
        "-a -t 192.0.2.1:80 -r 198.51.100.4 -i",
        "-a -t [2001:db8::1]:443 -r [2001:db8::9]:443 -g -w 5",
    ] {
        let mut v = vec!["ipvsadm"];
        v.extend(l.split_whitespace());
        src.run(&v).unwrap();
    }
    let mut rules = src.run(&["ipvsadm", "-S", "-n"]).unwrap();
    // Plus a few hundred services to exercise several sendmsg batches.
    for i in 0..300 {
        rules.push_str(&format!(
            "-A -t 192.0.2.2:{} -s rr\n-a -t 192.0.2.2:{} -r 198.51.100.9 -m -w 2\n",
            1000 + i,
            1000 + i
        ));
    }
    let p = Pair::new("rst");
    p.restore(&rules);
    p.compare("restore");
    // A failing line: both report it, the others are applied.
    let bad = "-A -t 192.0.2.1:80 -s rr\n-A -t 192.0.2.9:80 -s rr\n";
    let a = exec(&p.adm, "ipvsadm", &["-R"], Some(bad));
    let c = exec(&p.ctl, IPVSCTL, &["-R"], Some(bad));
    assert_eq!(
        text(&c.stderr).lines().next(),
        text(&a.stderr).lines().next()
    );
    assert!(!c.status.success());
    p.compare("restore with a failing line");
}
