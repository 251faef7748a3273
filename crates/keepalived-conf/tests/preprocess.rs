//! The lexical layer: comments, quoting, include (globs, relative paths, cycles) on a real
//! temporary directory, `@` conditionals, `$NAME` definitions, multi-line definitions, `~SEQ`.

use std::fs;
use std::net::IpAddr;

use keepalived_conf::{Code, Options, parse_file, parse_str};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn vips(text: &str, opts: &Options) -> Vec<String> {
    let out = parse_str(text, opts);
    assert!(!out.has_errors(), "{:#?}", out.diagnostics);
    out.config
        .vrrp_instances
        .iter()
        .flat_map(|i| i.virtual_ipaddress.iter().map(|a| a.addr.to_string()))
        .collect()
}

const HEAD: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n";

#[test]
fn comments_quotes_and_braces() {
    let text = "global_defs { ! bang comment\n  router_id \"my router\" # hash comment\n  notification_email {a@b.c 'd e'}\n  smtp_helo_name x#y\n}\n";
    let out = parse_str(text, &Options::default());
    assert!(out.diagnostics.is_empty(), "{:#?}", out.diagnostics);
    let g = &out.config.global_defs;
    assert_eq!(g.router_id.as_deref(), Some("my router"));
    assert_eq!(g.notification_email, vec!["a@b.c", "d e"]);
    assert_eq!(g.smtp_helo_name.as_deref(), Some("x"));
    // quotes join: abcd" efg "mnop is one word; escapes inside quotes
    let out = parse_str(
        "global_defs {\n router_id abcd\" efg \"mnop\n smtp_helo_name \"a\\tb\\x41\\101\\\"\"\n}\n",
        &Options::default(),
    );
    assert_eq!(
        out.config.global_defs.router_id.as_deref(),
        Some("abcd efg mnop")
    );
    assert_eq!(
        out.config.global_defs.smtp_helo_name.as_deref(),
        Some("a\tbAA\"")
    );
    // a quoted `#` is not a comment and a quoted `{` is not a block
    let out = parse_str(
        "global_defs {\n router_id \"a#{b}\"\n}\n",
        &Options::default(),
    );
    assert_eq!(out.config.global_defs.router_id.as_deref(), Some("a#{b}"));
}

#[test]
fn brace_on_the_next_line() {
    let out = parse_str("global_defs\n{\n router_id x\n}\n", &Options::default());
    assert!(out.diagnostics.is_empty(), "{:#?}", out.diagnostics);
    assert_eq!(out.config.global_defs.router_id.as_deref(), Some("x"));
}

#[test]
fn include_glob_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("conf.d/sub")).unwrap();
    fs::write(
        root.join("keepalived.conf"),
        "global_defs {\n router_id main\n}\ninclude conf.d/*.conf\n",
    )
    .unwrap();
    fs::write(
        root.join("conf.d/10-a.conf"),
        "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\ninclude sub/{x,y}.inc\n",
    )
    .unwrap();
    fs::write(
        root.join("conf.d/20-b.conf"),
        "vrrp_instance B {\n interface eth0\n virtual_router_id 2\n}\n",
    )
    .unwrap();
    fs::write(root.join("conf.d/ignored.txt"), "this is not included\n").unwrap();
    fs::write(
        root.join("conf.d/sub/x.inc"),
        "vrrp_instance X {\n interface eth0\n virtual_router_id 3\n}\n",
    )
    .unwrap();
    fs::write(
        root.join("conf.d/sub/y.inc"),
        "vrrp_instance Y {\n interface eth0\n virtual_router_id 4\n priority\n}\n",
    )
    .unwrap();
    let out = parse_file(root.join("keepalived.conf"), &Options::default()).unwrap();
    let names: Vec<&str> = out
        .config
        .vrrp_instances
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["A", "X", "Y", "B"]);
    assert_eq!(out.sources.files().len(), 5);
    // the error in an included file points into that file
    assert_eq!(out.diagnostics.len(), 1, "{:#?}", out.diagnostics);
    let loc = out.diagnostics[0].location.as_ref().unwrap();
    assert!(loc.path.ends_with("conf.d/sub/y.inc"), "{}", loc.path);
    assert_eq!((loc.line, loc.col), (4, 2));
}

#[test]
fn include_cycle_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(
        root.join("a.conf"),
        "include b.conf\nglobal_defs {\n router_id a\n}\n",
    )
    .unwrap();
    fs::write(root.join("b.conf"), "include ./a.conf\n").unwrap();
    let out = parse_file(root.join("a.conf"), &Options::default()).unwrap();
    let cyc: Vec<_> = out.with_code(Code::IncludeCycle).collect();
    assert_eq!(cyc.len(), 1, "{:#?}", out.diagnostics);
    assert!(cyc[0].location.as_ref().unwrap().path.ends_with("b.conf"));
    assert_eq!(out.config.global_defs.router_id.as_deref(), Some("a"));
}

#[test]
fn conditionals() {
    let text = "global_defs {\n @main router_id main_router\n @backup router_id backup_router\n}\n";
    let r = |id: Option<&str>| {
        let o = match id {
            Some(i) => Options::default().config_id(i),
            None => Options::default(),
        };
        parse_str(text, &o).config.global_defs.router_id
    };
    assert_eq!(r(Some("main")).as_deref(), Some("main_router"));
    assert_eq!(r(Some("backup")).as_deref(), Some("backup_router"));
    assert_eq!(r(Some("other")), None);
    assert_eq!(r(None), None);
    // @^ is the negation: the manual's unicast_peer example
    let peers = format!(
        "{HEAD} unicast_peer {{\n  @^main 192.0.2.4\n  @^backup 192.0.2.5\n  @^backup2 192.0.2.6\n }}\n}}\n"
    );
    let out = parse_str(&peers, &Options::default().config_id("main"));
    let got: Vec<IpAddr> = out.config.vrrp_instances[0]
        .unicast_peer
        .iter()
        .map(|p| p.addr)
        .collect();
    assert_eq!(got, [ip("192.0.2.5"), ip("192.0.2.6")]);
}

#[test]
fn definitions_are_expanded_at_use_time() {
    // the manual's example: substitution happens at replacement time
    let text = format!(
        "$ADDRESS_BASE=192.0.${{ADDRESS_BASE_SUB}}\n$ADDRESS_BASE_SUB=2\n{HEAD} virtual_ipaddress {{\n  ${{ADDRESS_BASE}}.100/32\n }}\n}}\n$ADDRESS_BASE_SUB=3\nvrrp_instance VI_2 {{\n interface eth1\n virtual_router_id 9\n virtual_ipaddress {{\n  ${{ADDRESS_BASE}}.100/32\n }}\n}}\n"
    );
    assert_eq!(
        vips(&text, &Options::default()),
        ["192.0.2.100", "192.0.3.100"]
    );
    // $NAME followed by whitespace; undefined names stay as they are
    let out = parse_str(
        "$P=240\n@main $Q=7\nvrrp_instance V {\n interface eth0\n virtual_router_id $Q \n priority $P\n notify \"/bin/n ${UNDEF} ${P} $P\"\n}\n",
        &Options::default().config_id("main"),
    );
    assert!(!out.has_errors(), "{:#?}", out.diagnostics);
    let i = &out.config.vrrp_instances[0];
    assert_eq!((i.virtual_router_id, i.priority), (Some(7), Some(240)));
    assert_eq!(
        i.notify.notify.as_ref().unwrap().command,
        "/bin/n ${UNDEF} 240 $P"
    );
    // a definition expanding to a conditional
    let c = "$IF_MAIN=@main\nglobal_defs {\n $IF_MAIN router_id yes\n}\n";
    assert_eq!(
        parse_str(c, &Options::default().config_id("main"))
            .config
            .global_defs
            .router_id
            .as_deref(),
        Some("yes")
    );
    assert_eq!(
        parse_str(c, &Options::default().config_id("x"))
            .config
            .global_defs
            .router_id,
        None
    );
    // predefined: _HASH gives a literal '#'
    let out = parse_str(
        "global_defs {\n router_id a${_HASH}b\n}\n",
        &Options::default(),
    );
    assert_eq!(out.config.global_defs.router_id.as_deref(), Some("a#b"));
}

#[test]
fn multi_line_definitions_nest() {
    let text = "$RS= \\\n    real_server 192.0.2.${RS_NUM} 80 { \\\n        weight ${RS_NUM} \\\n    }\n$VS= \\\nvirtual_server 198.51.100.${VS_NUM} 80 { \\\n    quorum 2 \\\n    protocol TCP \\\n    $RS_NUM=1 \\\n    $RS \\\n    $RS_NUM=2 \\\n    $RS \\\n}\n$VS_NUM=1\n$VS\n$VS_NUM=2\n$VS\n";
    let out = parse_str(text, &Options::default());
    assert!(out.diagnostics.is_empty(), "{:#?}", out.diagnostics);
    let vss = &out.config.virtual_servers;
    assert_eq!(vss.len(), 2);
    for (k, vs) in vss.iter().enumerate() {
        assert_eq!(
            format!("{:?}", vs.address),
            format!("Ip {{ addr: 198.51.100.{}, port: Some(80) }}", k + 1)
        );
        assert_eq!(vs.quorum, Some(2));
        let w: Vec<Option<u32>> = vs.real_servers.iter().map(|r| r.weight).collect();
        assert_eq!(w, [Some(1), Some(2)]);
    }
}

#[test]
fn sequences_and_lists() {
    let text = format!(
        "{HEAD} virtual_ipaddress {{\n  ~SEQ(N, 0, 3) 192.0.2.${{N}}\n  ~SEQx(H, 0x90, 0x10, 0xc0) fe80::20:${{H}}:1\n  ~SEQ(D, 3, -1, 1) 198.51.100.$D\n }}\n}}\n"
    );
    assert_eq!(
        vips(&text, &Options::default()),
        [
            "192.0.2.0",
            "192.0.2.1",
            "192.0.2.2",
            "192.0.2.3",
            "fe80::20:90:1",
            "fe80::20:a0:1",
            "fe80::20:b0:1",
            "fe80::20:c0:1",
            "198.51.100.3",
            "198.51.100.2",
            "198.51.100.1"
        ]
    );
    let text = format!(
        "{HEAD} virtual_ipaddress {{\n  ~LST({{A, B}}, {{10,1}}, {{20,4}}) ~SEQ(C, 1, 2) 10.${{A}}.${{B}}.$C\n }}\n}}\n"
    );
    assert_eq!(
        vips(&text, &Options::default()),
        ["10.10.1.1", "10.10.1.2", "10.20.4.1", "10.20.4.2"]
    );
    // a whole instance per ~SEQ iteration via a multi-line definition
    let text = "$VI= \\\nvrrp_instance VI_${ID} { \\\n interface eth0 \\\n virtual_router_id ${ID} \\\n}\n~SEQ(ID, 1, 200) $VI\n";
    let out = parse_str(text, &Options::default());
    assert!(out.diagnostics.is_empty(), "{:#?}", out.diagnostics);
    assert_eq!(out.config.vrrp_instances.len(), 200);
    assert_eq!(out.config.vrrp_instances[199].virtual_router_id, Some(200));
}

#[test]
fn tokens_from_expansions_point_at_the_reference() {
    let out = parse_str(
        "$W=weight\nvirtual_server 192.0.2.1 80 {\n real_server 192.0.2.2 80 {\n    $W\n }\n}\n",
        &Options::default(),
    );
    let d = out
        .with_code(Code::MissingValue)
        .next()
        .expect("weight without value");
    let loc = d.location.as_ref().unwrap();
    assert_eq!((loc.line, loc.col), (4, 5));
}
