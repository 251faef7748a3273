//! keepalived's own sample configurations (../shared/keepalived-samples, read in place) parse
//! with zero errors and round-trip through the formatter.

use std::path::PathBuf;

use keepalived_conf::model::{Checker, LbKind, VsAddress, VsgEntry};
use keepalived_conf::{Options, ParseOutput, Severity, format, parse_file, parse_str};

fn samples_dir() -> PathBuf {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/keepalived-samples"
    ));
    assert!(
        d.is_dir(),
        "keepalived samples not found at {} (CI keeps a copy of shared/ beside the clone)",
        d.display()
    );
    d
}

fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("keepalived.conf")
        })
        .collect();
    v.sort();
    v
}

/// The conditional sample says "Run keepalived with either '-i high' or '-i low'".
fn ids_for(p: &std::path::Path) -> Vec<Option<&'static str>> {
    if p.ends_with("keepalived.conf.conditional_conf") {
        vec![Some("high"), Some("low")]
    } else {
        vec![None]
    }
}

fn parse(p: &std::path::Path, id: Option<&str>) -> ParseOutput {
    let mut o = Options::default();
    if let Some(id) = id {
        o = o.config_id(id);
    }
    parse_file(p, &o).unwrap()
}

#[test]
fn every_sample_parses_without_errors() {
    let all = samples();
    assert!(
        all.len() >= 25,
        "expected keepalived's samples, found {}",
        all.len()
    );
    for p in &all {
        for id in ids_for(p) {
            let out = parse(p, id);
            let errors: Vec<String> = out
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(ToString::to_string)
                .collect();
            assert!(
                errors.is_empty(),
                "{} (-i {id:?}):\n{}",
                p.display(),
                errors.join("\n")
            );
            let c = &out.config;
            assert!(
                !c.vrrp_instances.is_empty() || !c.virtual_servers.is_empty(),
                "{}: nothing parsed",
                p.display()
            );
        }
    }
}

#[test]
fn every_sample_round_trips_through_fmt() {
    for p in samples() {
        for id in ids_for(&p) {
            let c = parse(&p, id).config;
            let text = format(&c);
            let again = parse_str(&text, &Options::default());
            assert!(
                !again.has_errors(),
                "{}:\n{text}\n{:#?}",
                p.display(),
                again.diagnostics
            );
            assert_eq!(again.config, c, "{}:\n{text}", p.display());
        }
    }
}

#[test]
fn only_the_old_sync_group_syntax_warns() {
    // keepalived 2.2.7 says "Unknown keyword 'VI_2'" for the bare names in this sample too
    for p in samples() {
        for id in ids_for(&p) {
            let out = parse(&p, id);
            let warnings: Vec<_> = out
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .collect();
            if p.ends_with("keepalived.conf.vrrp.lvs_syncd") {
                assert_eq!(warnings.len(), 2, "{warnings:#?}");
                assert!(warnings.iter().all(|w| w.message.contains("VI_")));
            } else {
                assert!(warnings.is_empty(), "{}: {warnings:#?}", p.display());
            }
        }
    }
}

#[test]
fn sample_details() {
    let d = samples_dir();
    let c = parse(&d.join("keepalived.conf.virtual_server_group"), None).config;
    let g = &c.virtual_server_groups[0];
    assert_eq!(g.name, "VSG_1");
    assert!(g.entries.contains(&VsgEntry::Addr {
        addr: "192.168.200.3".parse().unwrap(),
        range_end: Some(10),
        port: Some(80)
    }));
    assert!(g.entries.contains(&VsgEntry::Fwmark {
        mark: 2,
        family: None
    }));
    assert_eq!(
        c.virtual_servers[0].address,
        VsAddress::Group {
            name: "VSG_1".into()
        }
    );

    let c = parse(&d.join("keepalived.conf.sample"), None).config;
    assert_eq!(c.global_defs.router_id.as_deref(), Some("LVS_DEVEL"));
    assert_eq!(
        c.global_defs.notification_email,
        vec!["acassen".to_string()]
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.lb_kind, Some(LbKind::Nat));
    assert_eq!(vs.sorry_server.as_ref().unwrap().port, Some(1358));
    let Checker::HttpGet(h) = &vs.real_servers[0].checkers[0] else {
        panic!("HTTP_GET expected")
    };
    assert_eq!(h.urls[0].path.as_deref(), Some("/testurl3/test.jsp"));
    assert_eq!(
        h.urls[0].digest.as_deref(),
        Some("640205b7b0fc66c1ea91c463fac6334d")
    );

    let c = parse(&d.join("keepalived.conf.conditional_conf"), Some("high")).config;
    assert_eq!(c.vrrp_instances[0].priority, Some(170));
    assert_eq!(
        c.vrrp_scripts[0].script.as_deref(),
        Some("/etc/keepalived/scripts/check_high_VI_0.sh")
    );
    let c = parse(&d.join("keepalived.conf.conditional_conf"), Some("low")).config;
    assert_eq!(c.vrrp_instances[0].priority, Some(85));

    let c = parse(&d.join("keepalived.conf.SMTP_CHECK"), None).config;
    let Checker::Smtp(s) = &c.virtual_servers[0].real_servers[1].checkers[0] else {
        panic!("SMTP_CHECK expected")
    };
    assert_eq!(s.helo_name.as_deref(), Some("foo.bar.com"));
    assert_eq!(s.hosts.len(), 3);
}
