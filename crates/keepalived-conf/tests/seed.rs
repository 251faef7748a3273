//! The seed's three configurations (DR, NAT with two VRRP instances, TUN), exactly as written in
//! the blog post (second real_server has `weight` without a value) and corrected.

use std::net::IpAddr;
use std::path::PathBuf;

use keepalived_conf::model::{
    AuthType, Config, LbAlgo, LbKind, Protocol, Timer, VrrpState, VsAddress,
};
use keepalived_conf::{Code, Options, ParseOutput, Severity, format, parse_file, parse_str};

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

fn parse(name: &str) -> ParseOutput {
    parse_file(data(name), &Options::default()).expect("test data readable")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The vrrp_instance VI_1 every seed config has.
fn assert_vi_1(c: &Config) {
    let i = c.instance("VI_1").expect("VI_1");
    assert_eq!(i.state, Some(VrrpState::Master));
    assert_eq!(i.interface.as_deref(), Some("eth0"));
    assert_eq!(i.virtual_router_id, Some(17));
    assert_eq!(i.priority, Some(100));
    assert_eq!(i.advert_int, Some(Timer::from_secs(1)));
    let auth = i.authentication.as_ref().expect("authentication");
    assert_eq!(auth.auth_type, Some(AuthType::Pass));
    assert_eq!(auth.auth_pass.as_deref(), Some("1717"));
    assert_eq!(i.virtual_ipaddress.len(), 1);
    assert_eq!(i.virtual_ipaddress[0].addr, ip("222.33.180.62"));
    assert_eq!(i.virtual_ipaddress[0].prefix_len, None);
}

fn assert_vs(c: &Config, kind: LbKind) {
    assert_eq!(c.virtual_servers.len(), 1);
    let vs = &c.virtual_servers[0];
    assert_eq!(
        vs.address,
        VsAddress::Ip {
            addr: ip("222.33.180.62"),
            port: Some(80)
        }
    );
    assert_eq!(vs.delay_loop, Some(Timer::from_secs(6)));
    assert_eq!(vs.lb_algo, Some(LbAlgo::Wrr));
    assert_eq!(vs.lb_kind, Some(kind));
    assert_eq!(vs.persistence_timeout, Some(10));
    assert_eq!(vs.protocol, Some(Protocol::Tcp));
    assert_eq!(vs.real_servers.len(), 2);
    assert_eq!(vs.real_servers[0].addr, ip("172.16.0.12"));
    assert_eq!(vs.real_servers[0].port, Some(80));
    assert_eq!(vs.real_servers[0].weight, Some(1));
    assert_eq!(vs.real_servers[1].addr, ip("172.16.0.13"));
    assert_eq!(vs.real_servers[1].port, Some(80));
    // as written: `weight` without a value → keepalived's fallback 1; corrected: weight 1
    assert_eq!(vs.real_servers[1].weight, Some(1));
    assert!(vs.real_servers.iter().all(|r| r.checkers.is_empty()));
}

/// Exactly one diagnostic: the value-less weight, at its line, with the fix hint.
fn assert_weight_error(out: &ParseOutput, line: u32) {
    assert_eq!(out.diagnostics.len(), 1, "{:#?}", out.diagnostics);
    let d = &out.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.code, Code::MissingValue);
    let loc = d.location.as_ref().expect("located");
    assert_eq!((loc.line, loc.col), (line, 5));
    assert_eq!(loc.source_line, "    weight");
    assert_eq!(
        d.help.as_deref(),
        Some("weight needs a value 0-65535; keepalived uses 1")
    );
    let text = d.to_string();
    assert!(
        text.starts_with("error[missing-value]: `weight` needs a value\n"),
        "{text}"
    );
    assert!(text.contains(&format!(":{line}:5\n")), "{text}");
    assert!(
        text.contains("    ^^^^^^ expected an integer 0-65535"),
        "{text}"
    );
}

fn assert_clean(out: &ParseOutput) {
    assert!(out.diagnostics.is_empty(), "{:#?}", out.diagnostics);
}

/// parse → fmt → parse gives the same model, and fmt is idempotent.
fn assert_round_trip(c: &Config) {
    let text = format(c);
    let again = parse_str(&text, &Options::default());
    assert!(!again.has_errors(), "{text}\n{:#?}", again.diagnostics);
    assert_eq!(&again.config, c, "{text}");
    assert_eq!(format(&again.config), text);
}

#[test]
fn dr_as_written() {
    let out = parse("seed-dr.conf");
    assert_weight_error(&out, 49);
    assert_vi_1(&out.config);
    assert_vs(&out.config, LbKind::Dr);
    assert_round_trip(&out.config);
}

#[test]
fn dr_corrected() {
    let out = parse("seed-dr-fixed.conf");
    assert_clean(&out);
    assert_vi_1(&out.config);
    assert_vs(&out.config, LbKind::Dr);
    assert_eq!(out.config.vrrp_instances.len(), 1);
    assert_round_trip(&out.config);
}

fn assert_nat(c: &Config) {
    assert_eq!(c.vrrp_instances.len(), 2);
    assert_eq!(c.vrrp_instances[0].name, "VI_2");
    let vi2 = &c.vrrp_instances[0];
    assert_eq!(vi2.interface.as_deref(), Some("eth1"));
    assert_eq!(vi2.virtual_router_id, Some(172));
    assert_eq!(vi2.state, Some(VrrpState::Master));
    assert_eq!(vi2.priority, Some(100));
    assert_eq!(vi2.virtual_ipaddress[0].addr, ip("172.16.0.252"));
    assert_vi_1(c);
    assert_vs(c, LbKind::Nat);
}

#[test]
fn nat_as_written() {
    let out = parse("seed-nat.conf");
    assert_weight_error(&out, 77);
    assert_nat(&out.config);
    assert_round_trip(&out.config);
}

#[test]
fn nat_corrected() {
    let out = parse("seed-nat-fixed.conf");
    assert_clean(&out);
    assert_nat(&out.config);
    assert_round_trip(&out.config);
}

#[test]
fn tun_as_written() {
    let out = parse("seed-tun.conf");
    assert_weight_error(&out, 49);
    assert_vi_1(&out.config);
    assert_vs(&out.config, LbKind::Tun);
    assert!(out.config.virtual_servers[0].tunnel_options.is_empty());
    assert_round_trip(&out.config);
}

#[test]
fn tun_corrected() {
    let out = parse("seed-tun-fixed.conf");
    assert_clean(&out);
    assert_vi_1(&out.config);
    assert_vs(&out.config, LbKind::Tun);
    assert_round_trip(&out.config);
}

#[test]
fn seed_comments_stay_in_the_test_data() {
    // the data files are the seed's text: the Chinese comments glued to `{` are still there
    let text = std::fs::read_to_string(data("seed-dr.conf")).unwrap();
    assert!(text.starts_with("    vrrp_instance VI_1 {#定义VRR组\n"));
    assert!(text.contains("\n    weight\n"));
    let fixed = std::fs::read_to_string(data("seed-dr-fixed.conf")).unwrap();
    assert!(!fixed.contains("\n    weight\n"));
}

#[test]
fn seed_models_serialise_to_json_and_back() {
    for f in ["seed-dr.conf", "seed-nat.conf", "seed-tun.conf"] {
        let c = parse(f).config;
        let json = serde_json::to_string(&c).unwrap();
        let back: Config = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
    let json = serde_json::to_value(parse("seed-dr-fixed.conf").config).unwrap();
    assert_eq!(json["vrrp_instances"][0]["advert_int"], 1_000_000);
    assert_eq!(json["virtual_servers"][0]["lb_kind"], "Dr");
}
