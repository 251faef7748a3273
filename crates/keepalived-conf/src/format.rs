//! Writes a [`Config`] back as canonical keepalived.conf text.

use std::fmt::Write;

use crate::model::*;

/// Quotes a word when keepalived's lexer would otherwise split or reinterpret it.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(['@', '$', '~'])
        && !matches!(
            s,
            "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
        )
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"'#!{}\\".contains(&b) || b >= 0x80);
    if plain {
        return s.to_string();
    }
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(o, "\\x{:02x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

struct W {
    out: String,
    indent: usize,
}

impl W {
    fn line(&mut self, words: &[&str]) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        let q: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { (*w).to_string() } else { quote(w) })
            .collect();
        self.out.push_str(&q.join(" "));
        self.out.push('\n');
    }
    /// A line whose every word (including the first) is data.
    fn data(&mut self, words: &[String]) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        let q: Vec<String> = words.iter().map(|w| quote(w)).collect();
        self.out.push_str(&q.join(" "));
        self.out.push('\n');
    }
    fn open(&mut self, words: &[&str]) {
        let mut v: Vec<&str> = words.to_vec();
        v.push("{");
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        let q: Vec<String> = v
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == 0 || *w == "{" {
                    (*w).to_string()
                } else {
                    quote(w)
                }
            })
            .collect();
        self.out.push_str(&q.join(" "));
        self.out.push('\n');
        self.indent += 1;
    }
    fn close(&mut self) {
        self.indent -= 1;
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str("}\n");
    }
    fn opt<T: ToString>(&mut self, kw: &str, v: &Option<T>) {
        if let Some(v) = v {
            self.line(&[kw, &v.to_string()]);
        }
    }
    fn flag(&mut self, kw: &str, v: bool) {
        if v {
            self.line(&[kw]);
        }
    }
    fn boolean(&mut self, kw: &str, v: Option<bool>) {
        if let Some(b) = v {
            self.line(&[kw, if b { "on" } else { "off" }]);
        }
    }
    fn script(&mut self, kw: &str, s: &Option<Script>) {
        if let Some(s) = s {
            let mut v = vec![kw, s.command.as_str()];
            if let Some(r) = &s.run_as {
                v.push(&r.user);
                if let Some(g) = &r.group {
                    v.push(g);
                }
            }
            self.line(&v);
        }
    }
    fn run_as(&mut self, kw: &str, r: &Option<RunAs>) {
        if let Some(r) = r {
            let mut v = vec![kw, r.user.as_str()];
            if let Some(g) = &r.group {
                v.push(g);
            }
            self.line(&v);
        }
    }
    fn directives(&mut self, ds: &[Directive]) {
        for d in ds {
            let mut v: Vec<&str> = vec![&d.keyword];
            v.extend(d.args.iter().map(String::as_str));
            match &d.block {
                None => self.line(&v),
                Some(b) => {
                    self.open(&v);
                    self.directives(b);
                    self.close();
                }
            }
        }
    }
    fn addresses(&mut self, kw: &str, v: &[VirtualAddress]) {
        if v.is_empty() {
            return;
        }
        self.open(&[kw]);
        for a in v {
            let mut w = vec![match a.prefix_len {
                Some(p) => format!("{}/{p}", a.addr),
                None => a.addr.to_string(),
            }];
            if let Some(b) = a.brd {
                w.push("brd".into());
                w.push(b.to_string());
            }
            for (k, v) in [("dev", &a.dev), ("scope", &a.scope), ("label", &a.label)] {
                if let Some(v) = v {
                    w.push(k.into());
                    w.push(v.clone());
                }
            }
            w.extend(a.options.iter().cloned());
            self.data(&w);
        }
        self.close();
    }
    fn routes(&mut self, kw: &str, v: &[RouteSpec]) {
        if v.is_empty() {
            return;
        }
        self.open(&[kw]);
        for r in v {
            if !r.0.is_empty() {
                self.data(&r.0);
            }
        }
        self.close();
    }
    fn tracked(&mut self, kw: &str, v: &[Tracked]) {
        if v.is_empty() {
            return;
        }
        self.open(&[kw]);
        for t in v {
            let mut w = vec![t.name.clone()];
            if let Some(x) = t.weight {
                w.push("weight".into());
                w.push(x.to_string());
            }
            if t.reverse {
                w.push("reverse".into());
            }
            self.data(&w);
        }
        self.close();
    }
    fn notify(&mut self, n: &Notify) {
        self.script("notify_master", &n.master);
        self.script("notify_backup", &n.backup);
        self.script("notify_fault", &n.fault);
        self.script("notify_stop", &n.stop);
        self.script("notify", &n.notify);
    }
    fn common(&mut self, c: &CheckCommon) {
        self.opt("connect_ip", &c.connect_ip);
        self.opt("connect_port", &c.connect_port);
        self.opt("bindto", &c.bindto);
        self.opt("bind_if", &c.bind_if);
        self.opt("bind_port", &c.bind_port);
        self.opt("fwmark", &c.fwmark);
        self.boolean("alpha", c.alpha);
        self.opt("connect_timeout", &c.connect_timeout);
        self.opt("retry", &c.retry);
        self.opt("delay_before_retry", &c.delay_before_retry);
        self.opt("warmup", &c.warmup);
        self.opt("delay_loop", &c.delay_loop);
        self.boolean("log_all_failures", c.log_all_failures);
    }
}

/// Formats a configuration as canonical keepalived.conf text (4-space indentation, one keyword
/// per line, blocks in a fixed order). `parse(format(c))` gives back `c`.
///
/// ```
/// let out = keepalived_conf::parse_str("vrrp_instance VI_1 { interface eth0\n virtual_router_id 7 }\n", &Default::default());
/// let text = keepalived_conf::format(&out.config);
/// assert!(text.contains("virtual_router_id 7"));
/// ```
pub fn format(c: &Config) -> String {
    let mut w = W {
        out: String::new(),
        indent: 0,
    };
    let g = &c.global_defs;
    if *g != GlobalDefs::default() {
        w.open(&["global_defs"]);
        w.opt("router_id", &g.router_id);
        w.opt("vrrp_version", &g.vrrp_version);
        if !g.notification_email.is_empty() {
            w.open(&["notification_email"]);
            for e in &g.notification_email {
                w.data(std::slice::from_ref(e));
            }
            w.close();
        }
        w.opt("notification_email_from", &g.notification_email_from);
        if let Some(s) = &g.smtp_server {
            match s.port {
                Some(p) => w.line(&["smtp_server", &s.host, &p.to_string()]),
                None => w.line(&["smtp_server", &s.host]),
            }
        }
        w.opt("smtp_helo_name", &g.smtp_helo_name);
        w.opt("smtp_connect_timeout", &g.smtp_connect_timeout);
        w.boolean("smtp_alert", g.smtp_alert);
        w.run_as("script_user", &g.script_user);
        w.flag("enable_script_security", g.enable_script_security);
        w.flag("vrrp_strict", g.vrrp_strict);
        w.opt("vrrp_garp_master_delay", &g.vrrp_garp_master_delay);
        w.opt("vrrp_garp_master_repeat", &g.vrrp_garp_master_repeat);
        w.opt("vrrp_garp_master_refresh", &g.vrrp_garp_master_refresh);
        w.opt(
            "vrrp_garp_master_refresh_repeat",
            &g.vrrp_garp_master_refresh_repeat,
        );
        w.opt("vrrp_garp_lower_prio_delay", &g.vrrp_garp_lower_prio_delay);
        w.opt(
            "vrrp_garp_lower_prio_repeat",
            &g.vrrp_garp_lower_prio_repeat,
        );
        w.opt("vrrp_garp_interval", &g.vrrp_garp_interval);
        w.opt("vrrp_gna_interval", &g.vrrp_gna_interval);
        w.opt("vrrp_mcast_group4", &g.vrrp_mcast_group4);
        w.opt("vrrp_mcast_group6", &g.vrrp_mcast_group6);
        w.flag("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
        w.flag("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
        if let Some(t) = &g.lvs_timeouts {
            let mut v: Vec<String> = vec!["lvs_timeouts".into()];
            for (k, x) in [("tcp", t.tcp), ("tcpfin", t.tcpfin), ("udp", t.udp)] {
                if let Some(x) = x {
                    v.push(k.into());
                    v.push(x.to_string());
                }
            }
            let r: Vec<&str> = v.iter().map(String::as_str).collect();
            w.line(&r);
        }
        if let Some(s) = &g.lvs_sync_daemon {
            let mut v: Vec<String> = vec![
                "lvs_sync_daemon".into(),
                s.interface.clone(),
                s.instance.clone(),
            ];
            let opts = [
                ("id", s.id.map(|x| x.to_string())),
                ("maxlen", s.maxlen.map(|x| x.to_string())),
                ("port", s.port.map(|x| x.to_string())),
                ("ttl", s.ttl.map(|x| x.to_string())),
                ("group", s.group.map(|x| x.to_string())),
            ];
            for (k, x) in opts {
                if let Some(x) = x {
                    v.push(k.into());
                    v.push(x);
                }
            }
            let r: Vec<&str> = v.iter().map(String::as_str).collect();
            w.line(&r);
        }
        w.flag("lvs_flush", g.lvs_flush);
        w.directives(&g.other);
        w.close();
        w.out.push('\n');
    }
    w.directives(&c.other);
    w.addresses("static_ipaddress", &c.static_ipaddress);
    w.routes("static_routes", &c.static_routes);
    w.routes("static_rules", &c.static_rules);
    for s in &c.vrrp_scripts {
        w.open(&["vrrp_script", &s.name]);
        w.opt("script", &s.script);
        w.opt("interval", &s.interval);
        w.opt("timeout", &s.timeout);
        if let Some(x) = s.weight {
            if s.weight_reverse {
                w.line(&["weight", &x.to_string(), "reverse"]);
            } else {
                w.line(&["weight", &x.to_string()]);
            }
        }
        w.opt("rise", &s.rise);
        w.opt("fall", &s.fall);
        w.run_as("user", &s.user);
        w.flag("init_fail", s.init_fail);
        w.directives(&s.other);
        w.close();
        w.out.push('\n');
    }
    for f in &c.vrrp_track_files {
        w.open(&["vrrp_track_file", &f.name]);
        w.opt("file", &f.file);
        if let Some(x) = f.weight {
            if f.reverse {
                w.line(&["weight", &x.to_string(), "reverse"]);
            } else {
                w.line(&["weight", &x.to_string()]);
            }
        }
        w.directives(&f.other);
        w.close();
        w.out.push('\n');
    }
    for s in &c.vrrp_sync_groups {
        w.open(&["vrrp_sync_group", &s.name]);
        if !s.group.is_empty() {
            w.open(&["group"]);
            for m in &s.group {
                w.data(std::slice::from_ref(m));
            }
            w.close();
        }
        w.tracked("track_interface", &s.track_interface);
        w.tracked("track_script", &s.track_script);
        w.tracked("track_file", &s.track_file);
        w.notify(&s.notify);
        w.boolean("smtp_alert", s.smtp_alert);
        w.flag("global_tracking", s.global_tracking);
        w.directives(&s.other);
        w.close();
        w.out.push('\n');
    }
    for i in &c.vrrp_instances {
        w.open(&["vrrp_instance", &i.name]);
        if let Some(s) = i.state {
            w.line(&[
                "state",
                if s == VrrpState::Master {
                    "MASTER"
                } else {
                    "BACKUP"
                },
            ]);
        }
        w.opt("interface", &i.interface);
        w.opt("virtual_router_id", &i.virtual_router_id);
        w.opt("priority", &i.priority);
        w.opt("advert_int", &i.advert_int);
        w.opt("version", &i.version);
        w.flag("native_ipv6", i.native_ipv6);
        if let Some(a) = &i.authentication {
            w.open(&["authentication"]);
            if let Some(t) = a.auth_type {
                w.line(&["auth_type", if t == AuthType::Pass { "PASS" } else { "AH" }]);
            }
            w.opt("auth_pass", &a.auth_pass);
            w.close();
        }
        w.addresses("virtual_ipaddress", &i.virtual_ipaddress);
        w.addresses("virtual_ipaddress_excluded", &i.virtual_ipaddress_excluded);
        w.routes("virtual_routes", &i.virtual_routes);
        w.routes("virtual_rules", &i.virtual_rules);
        w.opt("mcast_src_ip", &i.mcast_src_ip);
        w.opt("unicast_src_ip", &i.unicast_src_ip);
        if !i.unicast_peer.is_empty() {
            w.open(&["unicast_peer"]);
            for p in &i.unicast_peer {
                let mut v = vec![p.addr.to_string()];
                v.extend(p.options.iter().cloned());
                w.data(&v);
            }
            w.close();
        }
        w.flag("nopreempt", i.nopreempt);
        w.opt("preempt_delay", &i.preempt_delay);
        match i.accept {
            Some(true) => w.line(&["accept"]),
            Some(false) => w.line(&["no_accept"]),
            None => {}
        }
        w.flag("dont_track_primary", i.dont_track_primary);
        w.tracked("track_interface", &i.track_interface);
        w.tracked("track_script", &i.track_script);
        w.tracked("track_file", &i.track_file);
        w.tracked("track_process", &i.track_process);
        w.notify(&i.notify);
        w.boolean("smtp_alert", i.smtp_alert);
        if let Some(v) = &i.use_vmac {
            match &v.interface {
                Some(n) => w.line(&["use_vmac", n]),
                None => w.line(&["use_vmac"]),
            }
        }
        w.flag("vmac_xmit_base", i.vmac_xmit_base);
        w.opt("garp_master_delay", &i.garp_master_delay);
        w.opt("garp_master_repeat", &i.garp_master_repeat);
        w.opt("garp_master_refresh", &i.garp_master_refresh);
        w.opt("garp_master_refresh_repeat", &i.garp_master_refresh_repeat);
        w.opt("garp_lower_prio_delay", &i.garp_lower_prio_delay);
        w.opt("garp_lower_prio_repeat", &i.garp_lower_prio_repeat);
        w.boolean("strict_mode", i.strict_mode);
        w.directives(&i.other);
        w.close();
        w.out.push('\n');
    }
    for g in &c.virtual_server_groups {
        w.open(&["virtual_server_group", &g.name]);
        for e in &g.entries {
            match e {
                VsgEntry::Addr {
                    addr,
                    range_end,
                    port,
                } => {
                    let mut a = addr.to_string();
                    if let Some(r) = range_end {
                        if addr.is_ipv4() {
                            let _ = write!(a, "-{r}");
                        } else {
                            let _ = write!(a, "-{r:x}");
                        }
                    }
                    let mut v = vec![a];
                    if let Some(p) = port {
                        v.push(p.to_string());
                    }
                    w.data(&v);
                }
                VsgEntry::Fwmark { mark, family } => {
                    let m = mark.to_string();
                    match family {
                        Some(IpFamily::Inet) => w.line(&["fwmark", &m, "inet"]),
                        Some(IpFamily::Inet6) => w.line(&["fwmark", &m, "inet6"]),
                        None => w.line(&["fwmark", &m]),
                    }
                }
            }
        }
        w.close();
        w.out.push('\n');
    }
    for vs in &c.virtual_servers {
        let head: Vec<String> = match &vs.address {
            VsAddress::Ip { addr, port } => {
                let mut v = vec![addr.to_string()];
                if let Some(p) = port {
                    v.push(p.to_string());
                }
                v
            }
            VsAddress::Fwmark { mark } => vec!["fwmark".into(), mark.to_string()],
            VsAddress::Group { name } => vec!["group".into(), name.clone()],
        };
        let mut hv: Vec<&str> = vec!["virtual_server"];
        hv.extend(head.iter().map(String::as_str));
        w.open(&hv);
        w.opt("delay_loop", &vs.delay_loop);
        if let Some(a) = vs.lb_algo {
            w.line(&["lb_algo", a.name()]);
        }
        if let Some(k) = vs.lb_kind {
            let mut v = vec!["lb_kind", k.name()];
            v.extend(vs.tunnel_options.iter().map(String::as_str));
            w.line(&v);
        }
        w.opt("persistence_timeout", &vs.persistence_timeout);
        w.opt("persistence_granularity", &vs.persistence_granularity);
        w.opt("persistence_engine", &vs.persistence_engine);
        if let Some(p) = vs.protocol {
            w.line(&[
                "protocol",
                match p {
                    Protocol::Tcp => "TCP",
                    Protocol::Udp => "UDP",
                    Protocol::Sctp => "SCTP",
                },
            ]);
        }
        w.flag("ha_suspend", vs.ha_suspend);
        w.flag("ops", vs.ops);
        w.opt("virtualhost", &vs.virtualhost);
        w.flag("alpha", vs.alpha);
        w.flag("omega", vs.omega);
        w.opt("quorum", &vs.quorum);
        w.script("quorum_up", &vs.quorum_up);
        w.script("quorum_down", &vs.quorum_down);
        w.opt("hysteresis", &vs.hysteresis);
        match vs.ip_family {
            Some(IpFamily::Inet) => w.line(&["ip_family", "inet"]),
            Some(IpFamily::Inet6) => w.line(&["ip_family", "inet6"]),
            None => {}
        }
        if let Some(s) = &vs.sorry_server {
            match s.port {
                Some(p) => w.line(&["sorry_server", &s.addr.to_string(), &p.to_string()]),
                None => w.line(&["sorry_server", &s.addr.to_string()]),
            }
        }
        w.flag("sorry_server_inhibit", vs.sorry_server_inhibit);
        w.flag("inhibit_on_failure", vs.inhibit_on_failure);
        w.opt("connect_timeout", &vs.connect_timeout);
        w.opt("retry", &vs.retry);
        w.opt("delay_before_retry", &vs.delay_before_retry);
        w.opt("warmup", &vs.warmup);
        w.boolean("smtp_alert", vs.smtp_alert);
        w.directives(&vs.other);
        for rs in &vs.real_servers {
            let a = rs.addr.to_string();
            let p = rs.port.map(|p| p.to_string());
            match &p {
                Some(p) => w.open(&["real_server", &a, p]),
                None => w.open(&["real_server", &a]),
            }
            w.opt("weight", &rs.weight);
            if let Some(k) = rs.lb_kind {
                w.line(&["lvs_method", k.name()]);
            }
            w.boolean("inhibit_on_failure", rs.inhibit_on_failure);
            w.script("notify_up", &rs.notify_up);
            w.script("notify_down", &rs.notify_down);
            w.opt("uthreshold", &rs.uthreshold);
            w.opt("lthreshold", &rs.lthreshold);
            w.boolean("smtp_alert", rs.smtp_alert);
            w.opt("virtualhost", &rs.virtualhost);
            w.boolean("alpha", rs.alpha);
            w.opt("connect_timeout", &rs.connect_timeout);
            w.opt("retry", &rs.retry);
            w.opt("delay_before_retry", &rs.delay_before_retry);
            w.opt("warmup", &rs.warmup);
            w.opt("delay_loop", &rs.delay_loop);
            for c in &rs.checkers {
                checker(&mut w, c);
            }
            w.directives(&rs.other);
            w.close();
        }
        w.close();
        w.out.push('\n');
    }
    w.out
}

fn checker(w: &mut W, c: &Checker) {
    w.open(&[c.keyword()]);
    match c {
        Checker::Tcp(s) | Checker::Ping(s) => {
            w.common(&s.common);
            w.directives(&s.other);
        }
        Checker::HttpGet(h) | Checker::SslGet(h) => {
            w.common(&h.common);
            w.opt("http_protocol", &h.http_protocol);
            w.opt("virtualhost", &h.virtualhost);
            w.boolean("fast_recovery", h.fast_recovery);
            w.flag("enable_sni", h.enable_sni);
            w.opt("sni_name", &h.sni_name);
            w.flag("tls_compliant", h.tls_compliant);
            for u in &h.urls {
                w.open(&["url"]);
                w.opt("path", &u.path);
                w.opt("digest", &u.digest);
                if !u.status_code.is_empty() {
                    let codes: Vec<String> = u
                        .status_code
                        .iter()
                        .map(|r| {
                            if r.from == r.to {
                                r.from.to_string()
                            } else {
                                format!("{}-{}", r.from, r.to)
                            }
                        })
                        .collect();
                    let mut v = vec!["status_code"];
                    v.extend(codes.iter().map(String::as_str));
                    w.line(&v);
                }
                w.opt("virtualhost", &u.virtualhost);
                w.opt("regex", &u.regex);
                w.flag("regex_no_match", u.regex_no_match);
                w.directives(&u.other);
                w.close();
            }
            w.directives(&h.other);
        }
        Checker::Misc(m) => {
            w.common(&m.common);
            w.opt("misc_path", &m.misc_path);
            w.opt("misc_timeout", &m.misc_timeout);
            w.flag("misc_dynamic", m.misc_dynamic);
            w.run_as("user", &m.user);
            w.directives(&m.other);
        }
        Checker::Smtp(s) => {
            w.common(&s.common);
            w.opt("helo_name", &s.helo_name);
            for h in &s.hosts {
                w.open(&["host"]);
                w.common(h);
                w.close();
            }
            w.directives(&s.other);
        }
        Checker::Dns(d) => {
            w.common(&d.common);
            w.opt("type", &d.query_type);
            w.opt("name", &d.name);
            w.directives(&d.other);
        }
        Checker::Udp(u) => {
            w.common(&u.common);
            if let Some(p) = &u.payload {
                let mut v = vec!["payload"];
                v.extend(p.split_whitespace());
                w.line(&v);
            }
            if let Some(r) = &u.require_reply {
                let mut v = vec!["require_reply"];
                v.extend(r.split_whitespace());
                w.line(&v);
            }
            w.opt("min_reply_length", &u.min_reply_length);
            w.opt("max_reply_length", &u.max_reply_length);
            w.directives(&u.other);
        }
        Checker::File(f) => {
            w.opt("track_file", &f.track_file);
            w.flag("dynamic", f.dynamic);
            if let Some(x) = f.weight {
                if f.reverse {
                    w.line(&["weight", &x.to_string(), "reverse"]);
                } else {
                    w.line(&["weight", &x.to_string()]);
                }
            }
            w.directives(&f.other);
        }
        Checker::Bfd(b) => {
            w.opt("name", &b.name);
            w.directives(&b.other);
        }
    }
    w.close();
}
