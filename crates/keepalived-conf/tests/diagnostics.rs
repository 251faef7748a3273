//! One test per diagnostic code: the code, severity, position and the help text.

use keepalived_conf::{
    Code, Diagnostic, Limits, MemLoader, Options, Severity, parse_str, parse_with,
};

const VI: &str = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n";

/// Parses `text` and returns the only diagnostic with `code`, checking line and column.
fn expect(
    text: &str,
    opts: &Options,
    code: Code,
    sev: Severity,
    line: u32,
    col: u32,
) -> Diagnostic {
    let out = parse_str(text, opts);
    let found: Vec<&Diagnostic> = out.with_code(code).collect();
    assert_eq!(found.len(), 1, "{code}: {:#?}", out.diagnostics);
    let d = found[0].clone();
    assert_eq!(d.severity, sev, "{d}");
    let loc = d.location.as_ref().expect("located");
    assert_eq!((loc.line, loc.col), (line, col), "{d}");
    // the rendered block names the code and the position
    let r = d.to_string();
    assert!(r.starts_with(&format!("{sev}[{}]: ", code.as_str())), "{r}");
    assert!(r.contains(&format!("keepalived.conf:{line}:{col}")), "{r}");
    d
}

fn def() -> Options {
    Options::default()
}

#[test]
fn missing_value() {
    let d = expect(
        &format!("{VI}    priority\n}}\n"),
        &def(),
        Code::MissingValue,
        Severity::Error,
        4,
        5,
    );
    assert_eq!(
        d.help.as_deref(),
        Some("priority needs a value 1-255; keepalived uses 100")
    );
    let out = parse_str(&format!("{VI}    priority\n}}\n"), &def());
    assert_eq!(out.config.vrrp_instances[0].priority, Some(100));
}

#[test]
fn invalid_value() {
    let d = expect(
        "virtual_server 192.0.2.1 80 {\n  lb_algo fastest\n}\n",
        &def(),
        Code::InvalidValue,
        Severity::Error,
        2,
        11,
    );
    assert!(d.label.unwrap().contains("rr|wrr|lc|wlc"));
}

#[test]
fn out_of_range() {
    let d = expect(
        "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n}\n",
        &def(),
        Code::OutOfRange,
        Severity::Error,
        3,
        21,
    );
    assert_eq!(d.label.as_deref(), Some("expected 1-255"));
    // priority 0 likewise (keepalived: "Priority not valid! must be between 1 & 255")
    expect(
        &format!("{VI}  priority 0\n}}\n"),
        &def(),
        Code::OutOfRange,
        Severity::Error,
        4,
        12,
    );
    // advert_int per version: v3 allows 0.01-40.95
    expect(
        &format!("{VI}  version 3\n  advert_int 41\n}}\n"),
        &def(),
        Code::OutOfRange,
        Severity::Error,
        5,
        14,
    );
}

#[test]
fn extra_argument() {
    expect(
        &format!("{VI}  nopreempt yes please\n}}\n"),
        &def(),
        Code::ExtraArgument,
        Severity::Warning,
        4,
        13,
    );
}

#[test]
fn unknown_keyword_is_a_warning_unless_strict() {
    let text = "global_defs {\n  router_id r1\n  frobnicate 3\n}\n";
    let d = expect(text, &def(), Code::UnknownKeyword, Severity::Warning, 3, 3);
    assert!(d.message.contains("frobnicate"));
    let out = parse_str(text, &def());
    assert!(!out.has_errors());
    assert_eq!(out.config.global_defs.router_id.as_deref(), Some("r1"));
    expect(
        text,
        &def().strict(true),
        Code::UnknownKeyword,
        Severity::Error,
        3,
        3,
    );
}

#[test]
fn unknown_block_is_skipped_whole() {
    let out = parse_str(
        "vrrp_thing X {\n  priority 5\n}\nglobal_defs {\n  router_id a\n}\n",
        &def(),
    );
    assert_eq!(out.diagnostics.len(), 1, "{:#?}", out.diagnostics);
    assert_eq!(out.config.global_defs.router_id.as_deref(), Some("a"));
}

#[test]
fn missing_block() {
    expect(
        &format!("{VI}  virtual_ipaddress 192.0.2.1\n}}\n"),
        &def(),
        Code::MissingBlock,
        Severity::Error,
        4,
        3,
    );
}

#[test]
fn unexpected_open_brace() {
    expect(
        "global_defs {\n  router_id a\n}\n{\n}\n",
        &def(),
        Code::UnexpectedOpenBrace,
        Severity::Error,
        4,
        1,
    );
}

#[test]
fn unexpected_close_brace() {
    expect(
        "global_defs {\n  router_id a\n}\n}\n",
        &def(),
        Code::UnexpectedCloseBrace,
        Severity::Error,
        4,
        1,
    );
}

#[test]
fn unclosed_block() {
    let d = expect(
        "global_defs {\n  router_id a\n",
        &def(),
        Code::UnclosedBlock,
        Severity::Error,
        1,
        13,
    );
    assert_eq!(d.help.as_deref(), Some("add `}` at the end of the block"));
}

#[test]
fn unterminated_quote() {
    expect(
        "global_defs {\n  router_id \"abc\n}\n",
        &def(),
        Code::UnterminatedQuote,
        Severity::Error,
        2,
        13,
    );
}

#[test]
fn include_not_found() {
    // plain include: a warning (keepalived ignores it); includea: an error
    expect(
        "include /nonexistent/x.conf\n",
        &def(),
        Code::IncludeNotFound,
        Severity::Warning,
        1,
        9,
    );
    expect(
        "includea /nonexistent/x.conf\n",
        &def(),
        Code::IncludeNotFound,
        Severity::Error,
        1,
        10,
    );
}

#[test]
fn include_cycle() {
    let mut m = MemLoader::new();
    m.insert(
        "/k/b.conf",
        "global_defs {\n router_id b\n}\ninclude a.conf\n",
    );
    let out = parse_with(&mut m, "/k/a.conf".as_ref(), "include b.conf\n", &def());
    let d: Vec<_> = out.with_code(Code::IncludeCycle).collect();
    assert_eq!(d.len(), 1, "{:#?}", out.diagnostics);
    let loc = d[0].location.as_ref().unwrap();
    assert_eq!((loc.path.as_str(), loc.line, loc.col), ("/k/b.conf", 4, 9));
    assert_eq!(out.config.global_defs.router_id.as_deref(), Some("b"));
}

#[test]
fn include_depth() {
    let mut m = MemLoader::new();
    for i in 0..10 {
        m.insert(format!("/k/{i}.conf"), format!("include {}.conf\n", i + 1));
    }
    let out = parse_with(
        &mut m,
        "/k/main.conf".as_ref(),
        "include 0.conf\n",
        &def().limits(Limits::small()),
    );
    assert_eq!(
        out.with_code(Code::IncludeDepth).count(),
        1,
        "{:#?}",
        out.diagnostics
    );
}

#[test]
fn expansion_limit_stops_billion_laughs() {
    let mut text = String::from("$L0=lol lol lol lol lol lol lol lol lol lol\n");
    for i in 1..10 {
        let p = format!("${{L{}}} ", i - 1);
        text.push_str(&format!("$L{i}={}\n", p.repeat(10)));
    }
    text.push_str("global_defs {\n router_id ${L9}\n}\n");
    let out = parse_str(&text, &def());
    let d: Vec<_> = out.with_code(Code::ExpansionLimit).collect();
    assert_eq!(d.len(), 1, "{:#?}", out.diagnostics);
    assert_eq!(d[0].location.as_ref().unwrap().line, 12);
    // and a self-referencing definition
    let out = parse_str("$A=x $A\nglobal_defs {\n router_id $A\n}\n", &def());
    assert_eq!(
        out.with_code(Code::ExpansionLimit).count(),
        1,
        "{:#?}",
        out.diagnostics
    );
}

#[test]
fn bad_preprocessor() {
    expect(
        "~SEQ(I, 1, 0, 5) x\n",
        &def(),
        Code::BadPreprocessor,
        Severity::Error,
        1,
        1,
    );
    expect(
        "~SEQ(1bad, 3) x\n",
        &def(),
        Code::BadPreprocessor,
        Severity::Error,
        1,
        1,
    );
    expect(
        "@ router_id x\n",
        &def(),
        Code::BadPreprocessor,
        Severity::Error,
        1,
        1,
    );
}

#[test]
fn missing_keyword() {
    let d = expect(
        "vrrp_instance VI_1 {\n  virtual_router_id 1\n}\n",
        &def(),
        Code::MissingKeyword,
        Severity::Error,
        1,
        1,
    );
    assert!(d.message.contains("interface"));
    expect(
        "vrrp_script chk {\n  interval 2\n}\n",
        &def(),
        Code::MissingKeyword,
        Severity::Error,
        1,
        1,
    );
}

#[test]
fn duplicate_vrid() {
    let text =
        format!("{VI}}}\nvrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 1\n}}\n");
    let d = expect(&text, &def(), Code::DuplicateVrid, Severity::Error, 7, 23);
    assert!(d.message.contains("VI_1"));
    // another interface, or the other family, is fine
    let ok =
        format!("{VI}}}\nvrrp_instance VI_2 {{\n    interface eth1\n    virtual_router_id 1\n}}\n");
    assert!(!parse_str(&ok, &def()).has_errors());
    let v6 = format!(
        "{VI}    virtual_ipaddress {{\n 192.0.2.1\n }}\n}}\nvrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {{\n fe80::1\n }}\n}}\n"
    );
    assert!(
        !parse_str(&v6, &def()).has_errors(),
        "{:#?}",
        parse_str(&v6, &def()).diagnostics
    );
}

#[test]
fn unknown_reference() {
    let d = expect(
        &format!("{VI}    track_script {{\n        chk_nope\n    }}\n}}\n"),
        &def(),
        Code::UnknownReference,
        Severity::Warning,
        5,
        9,
    );
    assert!(d.help.unwrap().contains("vrrp_script chk_nope"));
    expect(
        "virtual_server group NOPE {\n}\n",
        &def(),
        Code::UnknownReference,
        Severity::Error,
        1,
        22,
    );
}

#[test]
fn address_family() {
    let text = format!(
        "{VI}    virtual_ipaddress {{\n        192.0.2.1\n        2001:db8::1\n    }}\n}}\n"
    );
    let d = expect(&text, &def(), Code::AddressFamily, Severity::Warning, 6, 9);
    assert!(d.help.unwrap().contains("virtual_ipaddress_excluded"));
    let vs =
        "virtual_server 192.0.2.1 80 {\n  lb_kind DR\n  real_server 2001:db8::2 80 {\n  }\n}\n";
    expect(vs, &def(), Code::AddressFamily, Severity::Error, 3, 15);
}

#[test]
fn advert_int_truncated_on_v2() {
    let d = expect(
        &format!("{VI}    advert_int 0.5\n}}\n"),
        &def(),
        Code::AdvertIntTruncated,
        Severity::Warning,
        4,
        16,
    );
    assert!(d.notes[0].contains("#1615"));
    // fine on v3 (global or per instance)
    assert!(
        parse_str(
            &format!("{VI}    version 3\n    advert_int 0.5\n}}\n"),
            &def()
        )
        .diagnostics
        .is_empty()
    );
    let g = format!("global_defs {{\n vrrp_version 3\n}}\n{VI}    advert_int 0.05\n}}\n");
    assert!(parse_str(&g, &def()).diagnostics.is_empty());
}

#[test]
fn priority_owner_note() {
    expect(
        &format!("{VI}    priority 255\n}}\n"),
        &def(),
        Code::PriorityOwner,
        Severity::Note,
        4,
        14,
    );
}

#[test]
fn ipv6_first_vip_note() {
    let text = format!("{VI}    virtual_ipaddress {{\n        2001:db8::1/64\n    }}\n}}\n");
    expect(
        &text,
        &def(),
        Code::Ipv6FirstVipNotLinkLocal,
        Severity::Note,
        5,
        9,
    );
    let ll = format!(
        "{VI}    virtual_ipaddress {{\n        fe80::1\n        2001:db8::1/64\n    }}\n}}\n"
    );
    assert!(parse_str(&ll, &def()).diagnostics.is_empty());
}

#[test]
fn duplicate_name() {
    expect(
        "vrrp_script a {\n script x\n}\nvrrp_script a {\n script y\n}\n",
        &def(),
        Code::DuplicateName,
        Severity::Error,
        4,
        1,
    );
}

#[test]
fn inconsistent() {
    let vs = "virtual_server 192.0.2.1 80 {\n  persistence_granularity 255.255.255.0\n}\n";
    expect(vs, &def(), Code::Inconsistent, Severity::Warning, 2, 3);
    // DR/TUN cannot map ports
    let dr = "virtual_server 192.0.2.1 80 {\n  lb_kind DR\n  protocol TCP\n  real_server 192.0.2.2 8080 {\n  }\n}\n";
    let d = expect(dr, &def(), Code::Inconsistent, Severity::Warning, 4, 25);
    assert_eq!(
        d.help.as_deref(),
        Some("use port 80, or lb_kind NAT to map ports")
    );
    let nat = dr.replace("DR", "NAT");
    assert!(parse_str(&nat, &def()).diagnostics.is_empty());
}

#[test]
fn every_code_has_a_test_here() {
    let src = include_str!("diagnostics.rs");
    for c in Code::ALL {
        let name = format!("{c:?}");
        assert!(
            src.contains(&format!("Code::{name},")) || src.contains(&format!("Code::{name})")),
            "no test for {name}"
        );
    }
    // codes are unique and kebab-case
    let mut ids: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), Code::ALL.len());
    assert!(ids.iter().all(|s| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
    }));
}

#[test]
fn rendering_with_wide_characters() {
    // the seed's comments are Chinese; the caret still lines up under the keyword
    let out = parse_str(
        "vrrp_instance VI_1 {#定义VRR组\n  interface eth0 #对外\n  virtual_router_id 17\n  state MASTR\n}\n",
        &def(),
    );
    let d = out.with_code(Code::InvalidValue).next().expect("bad state");
    let r = d.to_string();
    assert!(r.contains("4 |   state MASTR\n"), "{r}");
    assert!(
        r.contains("  |         ^^^^^ expected MASTER or BACKUP\n"),
        "{r}"
    );
}
