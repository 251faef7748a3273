//! Block tree → typed model, with per-keyword diagnostics and the semantic checks.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::diag::{Code, DiagMut, Diagnostic, Severity};
use crate::model::*;
use crate::pre::Token;
use crate::source::Span;
use crate::tree::{Block, Node, Parser};

const GLOBAL_OTHER: &[&str] = &[
    "bfd_cpu_affinity",
    "bfd_no_swap",
    "bfd_priority",
    "bfd_process_name",
    "bfd_rlimit_rttime",
    "bfd_rt_priority",
    "checker_cpu_affinity",
    "checker_log_all_failures",
    "checker_no_swap",
    "checker_priority",
    "checker_process_name",
    "checker_rlimit_rttime",
    "checker_rt_priority",
    "child_wait_time",
    "config_save_dir",
    "data_use_instance",
    "dbus_no_interface_name",
    "dbus_service_name",
    "default_interface",
    "dynamic_interfaces",
    "enable_dbus",
    "enable_snmp_checker",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_traps",
    "fifo_write_vrrp_states_on_reload",
    "include_check",
    "instance",
    "iproute_etc_dir",
    "iproute_usr_dir",
    "json_file_location",
    "json_version",
    "linkbeat_use_polling",
    "log_unknown_vrids",
    "lvs_flush_on_stop",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "max_auto_priority",
    "min_auto_priority_delay",
    "namespace_with_ipsets",
    "net_namespace",
    "net_namespace_ipvs",
    "nftables",
    "nftables_counters",
    "nftables_ifindex",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "nftables_priority",
    "no_checker_emails",
    "no_email_faults",
    "notify_fifo",
    "notify_fifo_script",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "process_name",
    "process_names",
    "random_seed",
    "reload_check_config",
    "reload_file",
    "reload_repeat",
    "reload_time_file",
    "rs_init_notifies",
    "set_supplementary_groups",
    "shutdown_script",
    "shutdown_script_timeout",
    "smtp_alert_checker",
    "smtp_alert_vrrp",
    "snmp_rs_stats_update_interval",
    "snmp_socket",
    "snmp_vs_stats_update_interval",
    "startup_script",
    "startup_script_timeout",
    "state_file_location",
    "stats_file_location",
    "tmp_config_directory",
    "umask",
    "use_pid_dir",
    "use_symlink_paths",
    "v3_checksum_as_v2",
    "vmac_addr_prefix",
    "vmac_prefix",
    "vrrp_cpu_affinity",
    "vrrp_delay_after_boot",
    "vrrp_down_timer_adverts",
    "vrrp_garp_extra_if",
    "vrrp_higher_prio_send_advert",
    "vrrp_ipsets",
    "vrrp_iptables",
    "vrrp_lower_prio_no_advert",
    "vrrp_min_garp",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "vrrp_no_swap",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_notify_priority_changes",
    "vrrp_priority",
    "vrrp_process_name",
    "vrrp_rlimit_rttime",
    "vrrp_rt_priority",
    "vrrp_rx_bufs_multiplier",
    "vrrp_rx_bufs_policy",
    "vrrp_startup_delay",
    "lvs_sync_daemon_interface",
    "lvs_id",
    "smtp_alert",
    "checker_process_name",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
];

const TOP_OTHER: &[&str] = &[
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
    "use_pid_dir",
    "linkbeat_use_polling",
    "child_wait_time",
    "linkbeat_interfaces",
    "static_track_group",
    "vrrp_track_process",
    "bfd_instance",
    "garp_group",
    "SSL",
    "track_group",
];

const INSTANCE_OTHER: &[&str] = &[
    "active_key",
    "anti_replay",
    "auth_hmac",
    "check_unicast_src",
    "debug",
    "down_timer_adverts",
    "garp_extra_if",
    "higher_prio_send_advert",
    "kernel_rx_buf_size",
    "key",
    "linkbeat_use_polling",
    "lower_prio_no_advert",
    "mcast_dst_ip",
    "mode",
    "no_virtual_ipaddress",
    "notify_master_rx_lower_pri",
    "notify_priority_changes",
    "notify_deleted",
    "old_unicast_checksum",
    "preempt",
    "promote_secondaries",
    "skip_check_adv_addr",
    "time_window",
    "timer_expired_backup",
    "track_bfd",
    "track_src_ip",
    "unicast_fault_no_peer",
    "unicast_ttl",
    "use_ipvlan",
    "use_vmac_addr",
    "v3_checksum_as_v2",
    "vrf",
    "lvs_sync_daemon_interface",
    "unicast_checksum_compat",
];

const SYNC_OTHER: &[&str] = &[
    "track_process",
    "track_bfd",
    "notify_priority_changes",
    "sync_group_tracking_weight",
    "notify_deleted",
];
const SCRIPT_OTHER: &[&str] = &[];
const TRACK_FILE_OTHER: &[&str] = &["init_file"];
const VS_OTHER: &[&str] = &[
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
    "snmp_name",
    "sorry_server_lvs_method",
    "lvs_method_tun",
    "delay_before_retry_max",
    "retry_max",
    "lb_kind_tun",
];
const RS_OTHER: &[&str] = &["snmp_name", "BFD_CHECK_disabled"];
const CHECK_OTHER: &[&str] = &[
    "regex_options",
    "regex_stack",
    "regex_min_offset",
    "regex_max_offset",
    "tls_compliant",
    "warmup_max",
    "retry_max",
];

/// A reference to check once everything is read.
struct Ref {
    name: String,
    span: Span,
    what: &'static str,
}

pub(crate) struct Builder<'d> {
    diags: &'d mut Vec<Diagnostic>,
    strict: bool,
    script_refs: Vec<Ref>,
    instance_refs: Vec<Ref>,
    group_refs: Vec<Ref>,
    file_refs: Vec<Ref>,
    vrid_seen: HashMap<(String, bool, u8), (String, Span)>,
    names: HashMap<(&'static str, String), Span>,
    pending_instances: Vec<(usize, Span, Option<Span>, Option<Span>)>,
}

fn tok_span(t: &Token) -> Span {
    t.span
}

impl<'d> Builder<'d> {
    pub(crate) fn new(diags: &'d mut Vec<Diagnostic>, strict: bool) -> Self {
        Self {
            diags,
            strict,
            script_refs: Vec::new(),
            instance_refs: Vec::new(),
            group_refs: Vec::new(),
            file_refs: Vec::new(),
            vrid_seen: HashMap::new(),
            names: HashMap::new(),
            pending_instances: Vec::new(),
        }
    }

    fn push(&mut self, d: Diagnostic) -> DiagMut<'_> {
        self.diags.push(d);
        DiagMut(self.diags.last_mut().expect("just pushed"))
    }
    fn error(&mut self, code: Code, span: Span, msg: impl Into<String>) -> DiagMut<'_> {
        self.push(Diagnostic::new(Severity::Error, code, Some(span), msg))
    }
    fn warn(&mut self, code: Code, span: Span, msg: impl Into<String>) -> DiagMut<'_> {
        self.push(Diagnostic::new(Severity::Warning, code, Some(span), msg))
    }

    fn unknown(&mut self, n: &Node, ctx: &str) {
        let sev = if self.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        let skipped = if n.block.is_some() {
            "this line and its block are"
        } else {
            "this line is"
        };
        let d = Diagnostic::new(
            sev,
            Code::UnknownKeyword,
            Some(n.span()),
            format!("unknown keyword `{}` in {ctx}", n.kw()),
        )
        .label("keepalived does not know this keyword here")
        .note(format!("keepalived skips it; {skipped} ignored"));
        self.push(d);
    }

    /// Warns about arguments beyond `max`.
    fn extra(&mut self, n: &Node, max: usize) {
        if n.args.len() > max {
            let a = &n.args[max];
            let mut span = a.span;
            if let Some(l) = n.args.last() {
                if l.span.file == span.file && l.span.end > span.start {
                    span.end = l.span.end;
                }
            }
            let kw = n.kw();
            self.warn(
                Code::ExtraArgument,
                span,
                format!("`{kw}` takes {max} argument(s); the rest is ignored"),
            )
            .label("unexpected argument(s)");
        }
    }

    fn missing(&mut self, n: &Node, expected: &str, fallback: Option<&str>) {
        let kw = n.kw();
        let help = match fallback {
            Some(f) => format!(
                "{kw} needs a value {}; keepalived uses {f}",
                expected.trim_start_matches("an integer ")
            ),
            None => {
                format!("give {kw} a value ({expected}); keepalived ignores the line without one")
            }
        };
        self.error(
            Code::MissingValue,
            n.span(),
            format!("`{kw}` needs a value"),
        )
        .label(format!("expected {expected} after `{kw}`"))
        .help(help);
    }

    fn arg<'n, 's>(&mut self, n: &'n Node<'s>, expected: &str) -> Option<&'n Token<'s>> {
        let a = n.args.first();
        if a.is_none() {
            self.missing(n, expected, None);
        }
        a
    }

    fn flag(&mut self, n: &Node) -> bool {
        self.extra(n, 0);
        true
    }

    fn string(&mut self, n: &Node) -> Option<String> {
        let a = self.arg(n, "a string")?.text.to_string();
        self.extra(n, 1);
        Some(a)
    }

    fn int_tok(&mut self, t: &Token, kw: &str, min: i64, max: i64) -> Option<i64> {
        let Ok(v) = t.text.parse::<i64>() else {
            self.error(
                Code::InvalidValue,
                tok_span(t),
                format!("`{}` is not a number", t.text),
            )
            .label(format!("expected an integer {min}-{max} for `{kw}`"));
            return None;
        };
        if v < min || v > max {
            self.error(
                Code::OutOfRange,
                tok_span(t),
                format!("`{kw}` {v} is outside {min}-{max}"),
            )
            .label(format!("expected {min}-{max}"));
            return None;
        }
        Some(v)
    }

    /// An integer argument with a range and keepalived's fallback when the value is missing.
    fn int(&mut self, n: &Node, min: i64, max: i64, fallback: Option<i64>) -> Option<i64> {
        let Some(t) = n.args.first() else {
            let f = fallback.map(|f| f.to_string());
            self.missing(n, &format!("an integer {min}-{max}"), f.as_deref());
            return fallback;
        };
        let kw = n.kw();
        let v = self.int_tok(t, kw, min, max);
        self.extra(n, 1);
        v
    }

    fn u32(&mut self, n: &Node) -> Option<u32> {
        self.int(n, 0, i64::from(u32::MAX), None).map(|v| v as u32)
    }

    fn timer_tok(&mut self, t: &Token, kw: &str) -> Option<Timer> {
        let v = Timer::parse(t.text);
        if v.is_none() {
            self.error(
                Code::InvalidValue,
                t.span,
                format!("`{}` is not a time", t.text),
            )
            .label(format!("expected seconds for `{kw}`, e.g. 3 or 0.5"));
        }
        v
    }

    fn timer(&mut self, n: &Node) -> Option<Timer> {
        let t = self.arg(n, "a time in seconds")?;
        let kw = n.kw();
        let v = self.timer_tok(t, kw);
        self.extra(n, 1);
        v
    }

    fn ip_tok(&mut self, t: &Token, what: &str) -> Option<IpAddr> {
        match t.text.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(
                    Code::InvalidValue,
                    t.span,
                    format!("`{}` is not an IP address", t.text),
                )
                .label(format!("expected an IPv4 or IPv6 address for {what}"));
                None
            }
        }
    }

    fn ip(&mut self, n: &Node) -> Option<IpAddr> {
        let t = self.arg(n, "an IP address")?;
        // the label is only formatted for a bad address
        let v = match t.text.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => self.ip_tok(t, &format!("`{}`", n.kw())),
        };
        self.extra(n, 1);
        v
    }

    fn port_tok(&mut self, t: &Token) -> Option<u16> {
        self.int_tok(t, "port", 0, 65535).map(|v| v as u16)
    }

    /// `keyword [<BOOL>]`: no argument means true.
    fn bool_opt(&mut self, n: &Node) -> Option<bool> {
        let Some(t) = n.args.first() else {
            return Some(true);
        };
        self.extra(n, 1);
        match t.text.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" => Some(true),
            "off" | "false" | "no" => Some(false),
            _ => {
                self.error(
                    Code::InvalidValue,
                    t.span,
                    format!("`{}` is not a boolean", t.text),
                )
                .label("expected one of on|off|true|false|yes|no");
                None
            }
        }
    }

    fn script(&mut self, n: &Node) -> Option<Script> {
        let cmd = self
            .arg(n, "a script path or quoted command")?
            .text
            .to_string();
        let run_as = n.args.get(1).map(|u| {
            RunAs::new(
                u.text.to_string(),
                n.args.get(2).map(|g| g.text.to_string()),
            )
        });
        self.extra(n, 3);
        Some(Script {
            command: cmd,
            run_as,
        })
    }

    fn run_as(&mut self, n: &Node) -> Option<RunAs> {
        let u = self.arg(n, "a user name")?.text.to_string();
        let g = n.args.get(1).map(|g| g.text.to_string());
        self.extra(n, 2);
        Some(RunAs::new(u, g))
    }

    fn block<'n, 's>(&mut self, n: &'n Node<'s>) -> Option<&'n Block<'s>> {
        if n.block.is_none() {
            let kw = n.kw();
            self.error(
                Code::MissingBlock,
                n.line_span(),
                format!("`{kw}` needs a `{{ ... }}` block"),
            )
            .label("expected `{` after this")
            .help(format!("write `{kw} {{` and close the block with `}}`"));
        }
        n.block.as_ref()
    }

    fn name(&mut self, n: &Node, kind: &'static str) -> String {
        let name = match n.args.first() {
            Some(t) => t.text.to_string(),
            None => {
                let kw = n.kw();
                self.error(Code::MissingValue, n.span(), format!("`{kw}` needs a name"))
                    .label(format!("expected `{kw} NAME {{`"));
                String::new()
            }
        };
        self.extra(n, 1);
        if !name.is_empty() {
            if let Some(prev) = self.names.insert((kind, name.clone()), n.span()) {
                let _ = prev;
                self.error(
                    Code::DuplicateName,
                    n.span(),
                    format!("{kind} `{name}` is defined twice"),
                )
                .label("second definition")
                .help("rename one of them; keepalived uses the last");
            }
        }
        name
    }

    fn directive(n: &Node) -> Directive {
        Directive {
            keyword: n.kw().to_string(),
            args: n.args.iter().map(|t| t.text.to_string()).collect(),
            block: n
                .block
                .as_ref()
                .map(|b| b.items.iter().map(Self::directive).collect()),
        }
    }

    fn list(&mut self, n: &Node) -> Vec<Vec<String>> {
        let Some(b) = self.block(n) else {
            return Vec::new();
        };
        b.items
            .iter()
            .map(|i| {
                std::iter::once(i.kw().to_string())
                    .chain(i.args.iter().map(|t| t.text.to_string()))
                    .collect()
            })
            .collect()
    }

    // ---------------------------------------------------------------- top level

    /// Builds the model, dropping each top-level statement once it is used (the tree of a large
    /// file is then never held whole next to the model).
    pub(crate) fn config(&mut self, mut nodes: Parser<'_, '_>) -> Config {
        let mut c = Config::default();
        // the tokens of the statement being built (one buffer for them all)
        let mut buf = Vec::new();
        while let Some(n) = nodes.next_statement(&mut buf) {
            let n = &n;
            match n.kw() {
                "global_defs" => {
                    if let Some(b) = self.block(n) {
                        let mut g = std::mem::take(&mut c.global_defs);
                        self.global_defs(&b.items, &mut g);
                        c.global_defs = g;
                    }
                }
                "static_ipaddress" => {
                    let v = self.addresses(n);
                    c.static_ipaddress.extend(v);
                }
                "static_routes" => c
                    .static_routes
                    .extend(self.list(n).into_iter().map(RouteSpec)),
                "static_rules" => c
                    .static_rules
                    .extend(self.list(n).into_iter().map(RouteSpec)),
                "vrrp_script" => {
                    let s = self.vrrp_script(n);
                    c.vrrp_scripts.push(s);
                }
                "vrrp_track_file" => {
                    let s = self.track_file_block(n);
                    c.vrrp_track_files.push(s);
                }
                "vrrp_sync_group" => {
                    let s = self.sync_group(n);
                    c.vrrp_sync_groups.push(s);
                }
                "vrrp_instance" => {
                    let i = self.instance(n, c.vrrp_instances.len());
                    c.vrrp_instances.push(i);
                }
                "virtual_server_group" => {
                    let g = self.vs_group(n);
                    c.virtual_server_groups.push(g);
                }
                "virtual_server" => {
                    if let Some(v) = self.virtual_server(n) {
                        c.virtual_servers.push(v);
                    }
                }
                k if TOP_OTHER.contains(&k) => c.other.push(Self::directive(n)),
                _ => self.unknown(n, "the top level"),
            }
        }
        // grown by doubling: give the slack back (a large list is its own mapping, which
        // grows and shrinks without a copy)
        c.virtual_servers.shrink_to_fit();
        self.finish(&c);
        c
    }

    /// Cross-references and checks needing the whole configuration.
    fn finish(&mut self, c: &Config) {
        let global_v = c.global_defs.vrrp_version.unwrap_or(2);
        for (idx, span, adv_span, _) in std::mem::take(&mut self.pending_instances) {
            let i = &c.vrrp_instances[idx];
            let v = i.version.unwrap_or(global_v);
            if let (Some(adv), Some(sp)) = (i.advert_int, adv_span) {
                if v == 2 {
                    if adv.has_fraction() {
                        self.warn(Code::AdvertIntTruncated, sp, format!("advert_int {adv} has a fraction but VRRPv2 sends whole seconds"))
                            .label("VRRPv2 advertises whole seconds only")
                            .note("keepalived does not send fractional intervals on VRRPv2; 2.2.7 rounds the value (keepalived issue #1615)")
                            .help("use `version 3` for sub-second adverts, or a whole number of seconds");
                    }
                    if adv.as_secs() > 255 || adv < Timer::from_secs(1) && !adv.has_fraction() {
                        self.error(
                            Code::OutOfRange,
                            sp,
                            format!("advert_int {adv} is outside VRRPv2's 1-255 s"),
                        )
                        .label("expected 1-255 seconds");
                    }
                } else if adv < Timer::from_centis(1) || adv > Timer::from_centis(4095) {
                    self.error(
                        Code::OutOfRange,
                        sp,
                        format!("advert_int {adv} is outside VRRPv3's 0.01-40.95 s"),
                    )
                    .label("expected 0.01-40.95 seconds");
                }
            }
            if v == 3 && i.authentication.is_some() {
                self.warn(
                    Code::Inconsistent,
                    span,
                    format!("vrrp_instance `{}` uses authentication with VRRPv3", i.name),
                )
                .label("VRRPv3 has no authentication")
                .note("keepalived ignores the authentication block for version 3");
            }
        }
        let scripts: Vec<&str> = c.vrrp_scripts.iter().map(|s| s.name.as_str()).collect();
        for r in std::mem::take(&mut self.script_refs) {
            if !scripts.contains(&r.name.as_str()) {
                self.warn(
                    Code::UnknownReference,
                    r.span,
                    format!("{} `{}` is not defined", r.what, r.name),
                )
                .label("no vrrp_script has this name")
                .note("keepalived ignores this track_script entry")
                .help(format!(
                    "define `vrrp_script {} {{ script ... }}` or fix the name",
                    r.name
                ));
            }
        }
        let files: Vec<&str> = c.vrrp_track_files.iter().map(|s| s.name.as_str()).collect();
        for r in std::mem::take(&mut self.file_refs) {
            if !files.contains(&r.name.as_str()) {
                self.warn(
                    Code::UnknownReference,
                    r.span,
                    format!("{} `{}` is not defined", r.what, r.name),
                )
                .label("no vrrp_track_file has this name");
            }
        }
        let insts: Vec<&str> = c.vrrp_instances.iter().map(|s| s.name.as_str()).collect();
        for r in std::mem::take(&mut self.instance_refs) {
            if !insts.contains(&r.name.as_str()) {
                self.error(
                    Code::UnknownReference,
                    r.span,
                    format!("{} `{}` is not defined", r.what, r.name),
                )
                .label("no vrrp_instance has this name");
            }
        }
        let groups: Vec<&str> = c
            .virtual_server_groups
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        for r in std::mem::take(&mut self.group_refs) {
            if !groups.contains(&r.name.as_str()) {
                self.error(
                    Code::UnknownReference,
                    r.span,
                    format!("{} `{}` is not defined", r.what, r.name),
                )
                .label("no virtual_server_group has this name");
            }
        }
    }

    // ---------------------------------------------------------------- global_defs

    fn global_defs(&mut self, items: &[Node], g: &mut GlobalDefs) {
        for n in items {
            match n.kw() {
                "router_id" => g.router_id = self.string(n),
                "vrrp_version" => g.vrrp_version = self.int(n, 2, 3, None).map(|v| v as u8),
                "notification_email" => g
                    .notification_email
                    .extend(self.list(n).into_iter().flatten()),
                "notification_email_from" => g.notification_email_from = self.string(n),
                "smtp_server" => {
                    if let Some(h) = self.arg(n, "an address or host name") {
                        let host = h.text.to_string();
                        let port = n.args.get(1).and_then(|p| self.port_tok(p));
                        self.extra(n, 2);
                        g.smtp_server = Some(SmtpServer { host, port });
                    }
                }
                "smtp_helo_name" => g.smtp_helo_name = self.string(n),
                "smtp_connect_timeout" => g.smtp_connect_timeout = self.u32(n),
                "smtp_alert" => g.smtp_alert = self.bool_opt(n),
                "script_user" => g.script_user = self.run_as(n),
                "enable_script_security" => g.enable_script_security = self.flag(n),
                "vrrp_strict" => g.vrrp_strict = self.flag(n),
                "vrrp_garp_master_delay" => g.vrrp_garp_master_delay = self.u32(n),
                "vrrp_garp_master_repeat" => g.vrrp_garp_master_repeat = self.u32(n),
                "vrrp_garp_master_refresh" => g.vrrp_garp_master_refresh = self.u32(n),
                "vrrp_garp_master_refresh_repeat" => {
                    g.vrrp_garp_master_refresh_repeat = self.u32(n)
                }
                "vrrp_garp_lower_prio_delay" => g.vrrp_garp_lower_prio_delay = self.u32(n),
                "vrrp_garp_lower_prio_repeat" => g.vrrp_garp_lower_prio_repeat = self.u32(n),
                "vrrp_garp_interval" => g.vrrp_garp_interval = self.timer(n),
                "vrrp_gna_interval" => g.vrrp_gna_interval = self.timer(n),
                "vrrp_mcast_group4" => {
                    g.vrrp_mcast_group4 = self.ip(n);
                    if let Some(a) = g.vrrp_mcast_group4 {
                        if !a.is_ipv4() {
                            self.error(
                                Code::AddressFamily,
                                n.args[0].span,
                                "vrrp_mcast_group4 needs an IPv4 address",
                            )
                            .label("this is IPv6");
                        }
                    }
                }
                "vrrp_mcast_group6" => {
                    g.vrrp_mcast_group6 = self.ip(n);
                    if let Some(a) = g.vrrp_mcast_group6 {
                        if !a.is_ipv6() {
                            self.error(
                                Code::AddressFamily,
                                n.args[0].span,
                                "vrrp_mcast_group6 needs an IPv6 address",
                            )
                            .label("this is IPv4");
                        }
                    }
                }
                "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = self.flag(n),
                "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = self.flag(n),
                "lvs_flush" => g.lvs_flush = self.flag(n),
                "lvs_timeouts" => {
                    let mut t = LvsTimeouts::default();
                    let mut i = 0;
                    while i < n.args.len() {
                        let k = n.args[i].text;
                        let slot = match k {
                            "tcp" => &mut t.tcp,
                            "tcpfin" => &mut t.tcpfin,
                            "udp" => &mut t.udp,
                            _ => {
                                self.error(
                                    Code::InvalidValue,
                                    n.args[i].span,
                                    format!("unknown lvs_timeouts option `{k}`"),
                                )
                                .label("expected tcp, tcpfin or udp");
                                i += 1;
                                continue;
                            }
                        };
                        match n.args.get(i + 1) {
                            Some(v) => {
                                let parsed = v.text.parse::<u32>().ok();
                                if parsed.is_none() {
                                    let sp = v.span;
                                    self.diags.push(
                                        Diagnostic::new(
                                            Severity::Error,
                                            Code::InvalidValue,
                                            Some(sp),
                                            format!("`{}` is not a number of seconds", v.text),
                                        )
                                        .label("expected seconds"),
                                    );
                                }
                                *slot = parsed;
                            }
                            None => {
                                let sp = n.args[i].span;
                                self.error(Code::MissingValue, sp, format!("`{k}` needs a value"))
                                    .label("expected seconds");
                            }
                        }
                        i += 2;
                    }
                    g.lvs_timeouts = Some(t);
                }
                "lvs_sync_daemon" => {
                    if n.args.len() < 2 {
                        self.missing(n, "INTERFACE VRRP_INSTANCE", None);
                        continue;
                    }
                    let mut s = LvsSyncDaemon {
                        interface: n.args[0].text.to_string(),
                        instance: n.args[1].text.to_string(),
                        ..Default::default()
                    };
                    self.instance_refs.push(Ref {
                        name: s.instance.clone(),
                        span: n.args[1].span,
                        what: "lvs_sync_daemon instance",
                    });
                    let mut i = 2;
                    while i < n.args.len() {
                        let k = n.args[i].text.to_string();
                        let Some(v) = n.args.get(i + 1) else {
                            let sp = n.args[i].span;
                            self.error(Code::MissingValue, sp, format!("`{k}` needs a value"))
                                .label("expected a value");
                            break;
                        };
                        match k.as_str() {
                            "id" => s.id = self.int_tok(v, "id", 0, 255).map(|x| x as u8),
                            "maxlen" => {
                                s.maxlen = self.int_tok(v, "maxlen", 1, 65507).map(|x| x as u16)
                            }
                            "port" => s.port = self.port_tok(v),
                            "ttl" => s.ttl = self.int_tok(v, "ttl", 1, 255).map(|x| x as u8),
                            "group" => s.group = self.ip_tok(v, "group"),
                            _ => {
                                let sp = n.args[i].span;
                                self.error(
                                    Code::InvalidValue,
                                    sp,
                                    format!("unknown lvs_sync_daemon option `{k}`"),
                                )
                                .label("expected id, maxlen, port, ttl or group");
                            }
                        }
                        i += 2;
                    }
                    g.lvs_sync_daemon = Some(s);
                }
                k if GLOBAL_OTHER.contains(&k) => g.other.push(Self::directive(n)),
                _ => self.unknown(n, "global_defs"),
            }
        }
    }

    // ---------------------------------------------------------------- addresses

    fn addresses(&mut self, n: &Node) -> Vec<VirtualAddress> {
        let Some(b) = self.block(n) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in &b.items {
            if let Some(a) = self.address(item) {
                out.push(a);
            }
        }
        out
    }

    fn address(&mut self, n: &Node) -> Option<VirtualAddress> {
        let text = n.kw();
        let (a, plen) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let Ok(addr) = a.parse::<IpAddr>() else {
            self.error(
                Code::InvalidValue,
                n.span(),
                format!("`{text}` is not an IP address"),
            )
            .label("expected <IPADDR>[/<MASK>] [brd IP] [dev IFACE] [scope SCOPE] [label LABEL]");
            return None;
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let mut va = VirtualAddress::new(addr);
        if let Some(p) = plen {
            match p.parse::<u8>() {
                Ok(v) if v <= max => va.prefix_len = Some(v),
                _ => {
                    self.error(
                        Code::InvalidValue,
                        n.span(),
                        format!("`/{p}` is not a valid prefix length"),
                    )
                    .label(format!("expected /0-/{max}"));
                }
            }
        }
        let mut i = 0;
        while i < n.args.len() {
            let k = n.args[i].text;
            let v = n.args.get(i + 1);
            match (k, v) {
                ("brd" | "broadcast", Some(v)) if v.text.parse::<IpAddr>().is_ok() => {
                    va.brd = v.text.parse().ok();
                    i += 2;
                }
                ("dev", Some(v)) => {
                    va.dev = Some(v.text.to_string());
                    i += 2;
                }
                ("scope", Some(v)) => {
                    va.scope = Some(v.text.to_string());
                    i += 2;
                }
                ("label", Some(v)) => {
                    va.label = Some(v.text.to_string());
                    i += 2;
                }
                ("dev" | "scope" | "label", None) => {
                    let sp = n.args[i].span;
                    self.error(Code::MissingValue, sp, format!("`{k}` needs a value"))
                        .label("expected a value after it");
                    i += 1;
                }
                _ => {
                    va.options.push(k.to_string());
                    i += 1;
                }
            }
        }
        if let Some(b) = &va.brd {
            if b.is_ipv4() != addr.is_ipv4() {
                self.error(
                    Code::AddressFamily,
                    n.line_span(),
                    "broadcast address family differs from the address",
                )
                .label("brd must be the same family");
            }
        }
        Some(va)
    }

    fn tracked(&mut self, n: &Node, max_weight: i32) -> Vec<Tracked> {
        let Some(b) = self.block(n) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in &b.items {
            let mut t = Tracked::new(item.kw());
            let mut i = 0;
            while i < item.args.len() {
                match item.args[i].text {
                    "weight" => match item.args.get(i + 1) {
                        Some(v) => {
                            t.weight = self
                                .int_tok(v, "weight", -i64::from(max_weight), i64::from(max_weight))
                                .map(|x| x as i32);
                            i += 2;
                        }
                        None => {
                            let sp = item.args[i].span;
                            self.error(Code::MissingValue, sp, "`weight` needs a value")
                                .label(format!("expected an integer -{max_weight}..{max_weight}"));
                            i += 1;
                        }
                    },
                    "reverse" => {
                        t.reverse = true;
                        i += 1;
                    }
                    "noreverse" => {
                        t.reverse = false;
                        i += 1;
                    }
                    other => {
                        let sp = item.args[i].span;
                        self.warn(Code::ExtraArgument, sp, format!("unexpected `{other}`"))
                            .label("expected `weight N [reverse|noreverse]`");
                        i += 1;
                    }
                }
            }
            out.push(t);
        }
        out
    }

    // ---------------------------------------------------------------- vrrp_script & co

    fn vrrp_script(&mut self, n: &Node) -> VrrpScript {
        let mut s = VrrpScript {
            name: self.name(n, "vrrp_script"),
            ..Default::default()
        };
        let Some(b) = self.block(n) else { return s };
        for n in &b.items {
            match n.kw() {
                "script" => s.script = self.string(n),
                "interval" => s.interval = self.timer(n),
                "timeout" => s.timeout = self.timer(n),
                "weight" => {
                    s.weight = n
                        .args
                        .first()
                        .and_then(|t| self.int_tok(t, "weight", -253, 253))
                        .map(|v| v as i32);
                    if n.args.is_empty() {
                        self.missing(n, "an integer -253..253", Some("0"));
                        s.weight = Some(0);
                    }
                    s.weight_reverse = n.args.get(1).is_some_and(|t| t.text == "reverse");
                    self.extra(n, 2);
                }
                "rise" => s.rise = self.int(n, 1, i64::from(u32::MAX), None).map(|v| v as u32),
                "fall" => s.fall = self.int(n, 1, i64::from(u32::MAX), None).map(|v| v as u32),
                "user" => s.user = self.run_as(n),
                "init_fail" => s.init_fail = self.flag(n),
                k if SCRIPT_OTHER.contains(&k) => s.other.push(Self::directive(n)),
                _ => self.unknown(n, "vrrp_script"),
            }
        }
        if s.script.is_none() {
            self.error(
                Code::MissingKeyword,
                n.span(),
                format!("vrrp_script `{}` has no `script`", s.name),
            )
            .label("keepalived ignores a vrrp_script without script")
            .help("add `script \"/path/to/check\"`");
        }
        s
    }

    fn track_file_block(&mut self, n: &Node) -> TrackFile {
        let mut s = TrackFile {
            name: self.name(n, "vrrp_track_file"),
            ..Default::default()
        };
        let Some(b) = self.block(n) else { return s };
        for n in &b.items {
            match n.kw() {
                "file" => s.file = self.string(n),
                "weight" => {
                    s.weight = self.int(n, -254, 254, Some(1)).map(|v| v as i32);
                    s.reverse = n.args.get(1).is_some_and(|t| t.text == "reverse");
                }
                k if TRACK_FILE_OTHER.contains(&k) => s.other.push(Self::directive(n)),
                _ => self.unknown(n, "vrrp_track_file"),
            }
        }
        s
    }

    fn notify(&mut self, n: &Node, notify: &mut Notify) -> bool {
        let slot = match n.kw() {
            "notify_master" => &mut notify.master,
            "notify_backup" => &mut notify.backup,
            "notify_fault" => &mut notify.fault,
            "notify_stop" => &mut notify.stop,
            "notify" => &mut notify.notify,
            _ => return false,
        };
        *slot = self.script(n);
        true
    }

    fn sync_group(&mut self, n: &Node) -> SyncGroup {
        let mut s = SyncGroup {
            name: self.name(n, "vrrp_sync_group"),
            ..Default::default()
        };
        let Some(b) = self.block(n) else { return s };
        for n in &b.items {
            if self.notify(n, &mut s.notify) {
                continue;
            }
            match n.kw() {
                "group" => {
                    if let Some(b) = self.block(n) {
                        for m in &b.items {
                            for t in std::iter::once(&m.keyword).chain(m.args.iter()) {
                                s.group.push(t.text.to_string());
                                self.instance_refs.push(Ref {
                                    name: t.text.to_string(),
                                    span: t.span,
                                    what: "sync group member",
                                });
                            }
                        }
                    }
                }
                "track_interface" => s.track_interface = self.tracked(n, 253),
                "track_script" => {
                    s.track_script = self.tracked(n, 253);
                    self.refs_from(n, true);
                }
                "track_file" => {
                    s.track_file = self.tracked(n, 254);
                    self.refs_from(n, false);
                }
                "smtp_alert" => s.smtp_alert = self.bool_opt(n),
                "global_tracking" => s.global_tracking = self.flag(n),
                k if SYNC_OTHER.contains(&k) => s.other.push(Self::directive(n)),
                _ => self.unknown(n, "vrrp_sync_group"),
            }
        }
        s
    }

    fn refs_from(&mut self, n: &Node, script: bool) {
        if let Some(b) = &n.block {
            for i in &b.items {
                let r = Ref {
                    name: i.kw().to_string(),
                    span: i.span(),
                    what: if script { "track_script" } else { "track_file" },
                };
                if script {
                    self.script_refs.push(r);
                } else {
                    self.file_refs.push(r);
                }
            }
        }
    }

    // ---------------------------------------------------------------- vrrp_instance

    fn instance(&mut self, n: &Node, idx: usize) -> VrrpInstance {
        let mut v = VrrpInstance {
            name: self.name(n, "vrrp_instance"),
            ..Default::default()
        };
        let Some(b) = self.block(n) else { return v };
        let mut vrid_span = None;
        let mut adv_span = None;
        let mut prio_span = None;
        let mut vip_spans: Vec<Span> = Vec::new();
        let mut unicast_spans: Vec<Span> = Vec::new();
        for n in &b.items {
            if self.notify(n, &mut v.notify) {
                continue;
            }
            match n.kw() {
                "state" => {
                    if let Some(t) = self.arg(n, "MASTER or BACKUP") {
                        match t.text {
                            "MASTER" => v.state = Some(VrrpState::Master),
                            "BACKUP" => v.state = Some(VrrpState::Backup),
                            other => {
                                self.error(
                                    Code::InvalidValue,
                                    t.span,
                                    format!("unknown state `{other}`"),
                                )
                                .label("expected MASTER or BACKUP")
                                .help("keepalived starts as BACKUP");
                            }
                        }
                    }
                    self.extra(n, 1);
                }
                "interface" => v.interface = self.string(n),
                "virtual_router_id" => {
                    vrid_span = n.args.first().map(|t| t.span).or(Some(n.span()));
                    v.virtual_router_id = self.int(n, 1, 255, None).map(|x| x as u8);
                }
                "priority" => {
                    prio_span = n.args.first().map(|t| t.span);
                    v.priority = self.int(n, 1, 255, Some(100)).map(|x| x as u8);
                    if !n.args.is_empty() && v.priority.is_none() {
                        let d = self.diags.last_mut().expect("error pushed");
                        d.help = Some("keepalived uses the default priority 100".into());
                    }
                }
                "advert_int" => {
                    adv_span = n.args.first().map(|t| t.span);
                    v.advert_int = self.timer(n);
                }
                "version" => v.version = self.int(n, 2, 3, None).map(|x| x as u8),
                "native_ipv6" => v.native_ipv6 = self.flag(n),
                "authentication" => {
                    let mut a = Authentication::default();
                    if let Some(b) = self.block(n) {
                        for n in &b.items {
                            match n.kw() {
                                "auth_type" => {
                                    if let Some(t) = self.arg(n, "PASS or AH") {
                                        match t.text {
                                            "PASS" => a.auth_type = Some(AuthType::Pass),
                                            "AH" => a.auth_type = Some(AuthType::Ah),
                                            o => {
                                                self.error(
                                                    Code::InvalidValue,
                                                    t.span,
                                                    format!("unknown auth_type `{o}`"),
                                                )
                                                .label("expected PASS or AH");
                                            }
                                        }
                                    }
                                    self.extra(n, 1);
                                }
                                "auth_pass" => {
                                    a.auth_pass = self.string(n);
                                    if let (Some(p), Some(t)) = (&a.auth_pass, n.args.first()) {
                                        if p.len() > 8 {
                                            self.warn(
                                                Code::Inconsistent,
                                                t.span,
                                                "auth_pass is longer than 8 characters",
                                            )
                                            .label("only the first 8 characters are used");
                                        }
                                    }
                                }
                                _ => self.unknown(n, "authentication"),
                            }
                        }
                    }
                    v.authentication = Some(a);
                }
                "virtual_ipaddress" => {
                    if let Some(b) = &n.block {
                        vip_spans.extend(b.items.iter().map(Node::span));
                    }
                    let a = self.addresses(n);
                    v.virtual_ipaddress.extend(a);
                }
                "virtual_ipaddress_excluded" => {
                    let a = self.addresses(n);
                    v.virtual_ipaddress_excluded.extend(a);
                }
                "virtual_routes" => v
                    .virtual_routes
                    .extend(self.list(n).into_iter().map(RouteSpec)),
                "virtual_rules" => v
                    .virtual_rules
                    .extend(self.list(n).into_iter().map(RouteSpec)),
                "mcast_src_ip" => v.mcast_src_ip = self.ip(n),
                "unicast_src_ip" => v.unicast_src_ip = self.ip(n),
                "unicast_peer" => {
                    if let Some(b) = self.block(n) {
                        for p in &b.items {
                            if let Some(a) = self.ip_tok(&p.keyword, "unicast_peer") {
                                unicast_spans.push(p.span());
                                v.unicast_peer.push(UnicastPeer {
                                    addr: a,
                                    options: p.args.iter().map(|t| t.text.to_string()).collect(),
                                });
                            }
                        }
                    }
                }
                "nopreempt" => v.nopreempt = self.flag(n),
                "preempt_delay" => {
                    v.preempt_delay = self.timer(n);
                    if let (Some(t), Some(tok)) = (v.preempt_delay, n.args.first()) {
                        if t > Timer::from_secs(1000) {
                            self.error(
                                Code::OutOfRange,
                                tok.span,
                                format!("preempt_delay {t} is outside 0-1000 s"),
                            )
                            .label("expected 0-1000 seconds");
                            v.preempt_delay = None;
                        }
                    }
                }
                "accept" => v.accept = Some(self.flag(n)),
                "no_accept" => v.accept = Some(!self.flag(n)),
                "dont_track_primary" => v.dont_track_primary = self.flag(n),
                "track_interface" => v.track_interface.extend(self.tracked(n, 254)),
                "track_script" => {
                    v.track_script.extend(self.tracked(n, 254));
                    self.refs_from(n, true);
                }
                "track_file" => {
                    v.track_file.extend(self.tracked(n, 254));
                    self.refs_from(n, false);
                }
                "track_process" => v.track_process.extend(self.tracked(n, 254)),
                "smtp_alert" => v.smtp_alert = self.bool_opt(n),
                "use_vmac" => {
                    v.use_vmac = Some(Vmac {
                        interface: n.args.first().map(|t| t.text.to_string()),
                    });
                    self.extra(n, 1);
                }
                "vmac_xmit_base" => v.vmac_xmit_base = self.flag(n),
                "garp_master_delay" => v.garp_master_delay = self.u32(n),
                "garp_master_repeat" => v.garp_master_repeat = self.u32(n),
                "garp_master_refresh" => v.garp_master_refresh = self.u32(n),
                "garp_master_refresh_repeat" => v.garp_master_refresh_repeat = self.u32(n),
                "garp_lower_prio_delay" => v.garp_lower_prio_delay = self.u32(n),
                "garp_lower_prio_repeat" => v.garp_lower_prio_repeat = self.u32(n),
                "strict_mode" => v.strict_mode = self.bool_opt(n),
                k if INSTANCE_OTHER.contains(&k) => v.other.push(Self::directive(n)),
                _ => self.unknown(n, "vrrp_instance"),
            }
        }
        // semantic checks local to the instance
        let head = n.span();
        if v.interface.is_none() {
            self.error(
                Code::MissingKeyword,
                head,
                format!("vrrp_instance `{}` has no `interface`", v.name),
            )
            .label("keepalived needs the interface to send adverts on")
            .help("add `interface eth0` (your interface name)");
        }
        if v.virtual_router_id.is_none() && vrid_span.is_none() {
            self.error(
                Code::MissingKeyword,
                head,
                format!("vrrp_instance `{}` has no `virtual_router_id`", v.name),
            )
            .label("keepalived rejects an instance without a VRID")
            .help("add `virtual_router_id N` (1-255, the same on master and backup)");
        }
        if v.priority == Some(255) {
            if let Some(sp) = prio_span {
                self.push(
                    Diagnostic::new(
                        Severity::Note,
                        Code::PriorityOwner,
                        Some(sp),
                        "priority 255 makes this router the address owner",
                    )
                    .label("owner: always MASTER while up, preempts immediately")
                    .note("the owner must really own the VIPs; use 1-254 for a normal master"),
                );
            }
        }
        let v6 = v.is_ipv6();
        for (a, sp) in v.virtual_ipaddress.iter().zip(&vip_spans) {
            if a.addr.is_ipv6() != v6 {
                let fam = if v6 { "IPv6" } else { "IPv4" };
                self.warn(
                    Code::AddressFamily,
                    *sp,
                    format!(
                        "{} VIP in an {fam} instance",
                        if v6 { "IPv4" } else { "IPv6" }
                    ),
                )
                .label("the family differs from the instance's first VIP")
                .note("keepalived moves it to virtual_ipaddress_excluded")
                .help("put addresses of the other family in virtual_ipaddress_excluded");
            }
        }
        if v6 {
            if let (Some(first), Some(sp)) = (v.virtual_ipaddress.first(), vip_spans.first()) {
                if let IpAddr::V6(a) = first.addr {
                    if a.segments()[0] & 0xffc0 != 0xfe80 {
                        self.push(
                            Diagnostic::new(Severity::Note, Code::Ipv6FirstVipNotLinkLocal, Some(*sp), "first VIP of an IPv6 instance is not link-local")
                                .label("RFC 5798 wants a link-local address first")
                                .note("keepalived then uses the interface's link-local address as the primary VRRP address"),
                        );
                    }
                }
            }
        }
        for (p, sp) in v.unicast_peer.iter().zip(&unicast_spans) {
            if let Some(src) = v.unicast_src_ip {
                if src.is_ipv4() != p.addr.is_ipv4() {
                    self.error(
                        Code::AddressFamily,
                        *sp,
                        "unicast_peer family differs from unicast_src_ip",
                    )
                    .label("expected the same family as unicast_src_ip");
                }
            }
        }
        if let (Some(vrid), Some(iface)) = (v.virtual_router_id, &v.interface) {
            let key = (iface.clone(), v6, vrid);
            let sp = vrid_span.unwrap_or(head);
            if let Some((other, _)) = self.vrid_seen.get(&key).cloned() {
                let fam = if v6 { "IPv6" } else { "IPv4" };
                self.error(
                    Code::DuplicateVrid,
                    sp,
                    format!("VRID {vrid} is already used on {iface} ({fam}) by `{other}`"),
                )
                .label("duplicate virtual_router_id")
                .help("each instance on an interface and family needs its own VRID (1-255)");
            } else {
                self.vrid_seen.insert(key, (v.name.clone(), sp));
            }
        }
        self.pending_instances
            .push((idx, head, adv_span, prio_span));
        v
    }

    // ---------------------------------------------------------------- LVS

    fn vs_group(&mut self, n: &Node) -> VirtualServerGroup {
        let mut g = VirtualServerGroup {
            name: self.name(n, "virtual_server_group"),
            ..Default::default()
        };
        let Some(b) = self.block(n) else { return g };
        for n in &b.items {
            if n.kw() == "fwmark" {
                let Some(t) = self.arg(n, "a firewall mark") else {
                    continue;
                };
                let mark = self
                    .int_tok(t, "fwmark", 0, i64::from(u32::MAX))
                    .map(|v| v as u32);
                let family = match n.args.get(1).map(|t| t.text) {
                    Some("inet") => Some(IpFamily::Inet),
                    Some("inet6") => Some(IpFamily::Inet6),
                    Some(_) => {
                        let sp = n.args[1].span;
                        self.error(Code::InvalidValue, sp, "unknown address family")
                            .label("expected inet or inet6");
                        None
                    }
                    None => None,
                };
                self.extra(n, 2);
                if let Some(mark) = mark {
                    g.entries.push(VsgEntry::Fwmark { mark, family });
                }
                continue;
            }
            let text = n.kw();
            let (a, range) = match text.rsplit_once('-') {
                Some((a, r)) if !r.contains(':') && !r.contains('.') => (a, Some(r)),
                _ => (text, None),
            };
            let Ok(addr) = a.parse::<IpAddr>() else {
                self.error(
                    Code::InvalidValue,
                    n.span(),
                    format!("`{text}` is not an address or range"),
                )
                .label("expected <IPADDR>[-<LAST>] [<PORT>] or fwmark <N>");
                continue;
            };
            let range_end = match range {
                None => None,
                Some(r) => {
                    let v = if addr.is_ipv4() {
                        r.parse::<u16>().ok().filter(|v| *v <= 255)
                    } else {
                        u16::from_str_radix(r, 16).ok()
                    };
                    if v.is_none() {
                        self.error(Code::InvalidValue, n.span(), format!("bad range end `{r}`"))
                            .label(if addr.is_ipv4() {
                                "expected the last octet 0-255"
                            } else {
                                "expected a hex group"
                            });
                    }
                    v
                }
            };
            let port = n.args.first().and_then(|t| self.port_tok(t));
            self.extra(n, 1);
            g.entries.push(VsgEntry::Addr {
                addr,
                range_end,
                port,
            });
        }
        g
    }

    fn lb_kind_tok(&mut self, n: &Node) -> Option<(LbKind, Vec<String>)> {
        let t = self.arg(n, "NAT, DR or TUN")?;
        let k = match t.text {
            "NAT" => LbKind::Nat,
            "DR" => LbKind::Dr,
            "TUN" => LbKind::Tun,
            o => {
                self.error(
                    Code::InvalidValue,
                    t.span,
                    format!("unknown forwarding method `{o}`"),
                )
                .label("expected NAT, DR or TUN");
                return None;
            }
        };
        let rest: Vec<String> = n.args[1..].iter().map(|t| t.text.to_string()).collect();
        if k != LbKind::Tun {
            self.extra(n, 1);
            return Some((k, Vec::new()));
        }
        Some((k, rest))
    }

    fn virtual_server(&mut self, n: &Node) -> Option<VirtualServer> {
        let mut vs = VirtualServer::default();
        let first = n.args.first();
        let addr = match first.map(|t| t.text) {
            None => {
                self.error(Code::MissingValue, n.span(), "`virtual_server` needs an address")
                    .label("expected `virtual_server IP PORT`, `virtual_server fwmark N` or `virtual_server group NAME`");
                None
            }
            Some("fwmark") => match n.args.get(1) {
                Some(t) => {
                    self.extra(n, 2);
                    self.int_tok(t, "fwmark", 1, i64::from(u32::MAX))
                        .map(|m| VsAddress::Fwmark { mark: m as u32 })
                }
                None => {
                    self.error(Code::MissingValue, n.args[0].span, "`fwmark` needs a mark")
                        .label("expected an integer");
                    None
                }
            },
            Some("group") => match n.args.get(1) {
                Some(t) => {
                    self.extra(n, 2);
                    self.group_refs.push(Ref {
                        name: t.text.to_string(),
                        span: t.span,
                        what: "virtual_server_group",
                    });
                    Some(VsAddress::Group {
                        name: t.text.to_string(),
                    })
                }
                None => {
                    self.error(Code::MissingValue, n.args[0].span, "`group` needs a name")
                        .label("expected a virtual_server_group name");
                    None
                }
            },
            Some(_) => {
                let t = &n.args[0];
                let a = self.ip_tok(t, "virtual_server");
                let port = n.args.get(1).and_then(|p| self.port_tok(p));
                self.extra(n, 2);
                a.map(|addr| VsAddress::Ip { addr, port })
            }
        };
        let b = self.block(n)?;
        let mut persist_span = None;
        let mut gran_span = None;
        let mut rs_spans: Vec<(Span, Option<Span>)> = Vec::new();
        for n in &b.items {
            match n.kw() {
                "delay_loop" => vs.delay_loop = self.timer(n),
                "lb_algo" | "lvs_sched" => {
                    if let Some(t) = self.arg(n, "a scheduler name") {
                        vs.lb_algo = LbAlgo::from_name(t.text);
                        if vs.lb_algo.is_none() {
                            let names: Vec<&str> = LbAlgo::ALL.iter().map(|a| a.name()).collect();
                            self.error(
                                Code::InvalidValue,
                                t.span,
                                format!("unknown scheduler `{}`", t.text),
                            )
                            .label(format!("expected one of {}", names.join("|")));
                        }
                    }
                    self.extra(n, 1);
                }
                "lb_kind" | "lvs_method" => {
                    if let Some((k, rest)) = self.lb_kind_tok(n) {
                        vs.lb_kind = Some(k);
                        vs.tunnel_options = rest;
                    }
                }
                "persistence_timeout" => {
                    persist_span = Some(n.span());
                    vs.persistence_timeout = if n.args.is_empty() {
                        Some(360)
                    } else {
                        self.int(n, 1, i64::from(u32::MAX), None).map(|v| v as u32)
                    };
                }
                "persistence_granularity" => {
                    gran_span = Some(n.span());
                    vs.persistence_granularity = self.string(n);
                    if let (Some(g), Some(t)) = (&vs.persistence_granularity, n.args.first()) {
                        let ok = g.parse::<std::net::Ipv4Addr>().is_ok()
                            || g.parse::<u8>().is_ok_and(|v| v <= 128);
                        if !ok {
                            self.error(
                                Code::InvalidValue,
                                t.span,
                                format!("`{g}` is not a netmask"),
                            )
                            .label(
                                "expected an IPv4 netmask (255.255.255.0) or an IPv6 prefix length",
                            );
                        }
                    }
                }
                "persistence_engine" => vs.persistence_engine = self.string(n),
                "protocol" => {
                    if let Some(t) = self.arg(n, "TCP, UDP or SCTP") {
                        vs.protocol = match t.text {
                            "TCP" => Some(Protocol::Tcp),
                            "UDP" => Some(Protocol::Udp),
                            "SCTP" => Some(Protocol::Sctp),
                            o => {
                                self.error(
                                    Code::InvalidValue,
                                    t.span,
                                    format!("unknown protocol `{o}`"),
                                )
                                .label("expected TCP, UDP or SCTP");
                                None
                            }
                        };
                    }
                    self.extra(n, 1);
                }
                "ha_suspend" => vs.ha_suspend = self.flag(n),
                "ops" => vs.ops = self.flag(n),
                "virtualhost" => vs.virtualhost = self.string(n),
                "alpha" => vs.alpha = self.flag(n),
                "omega" => vs.omega = self.flag(n),
                "quorum" => {
                    vs.quorum = self
                        .int(n, 1, i64::from(u32::MAX), Some(1))
                        .map(|v| v as u32)
                }
                "quorum_up" => vs.quorum_up = self.script(n),
                "quorum_down" => vs.quorum_down = self.script(n),
                "hysteresis" => vs.hysteresis = self.u32(n),
                "ip_family" => {
                    if let Some(t) = self.arg(n, "inet or inet6") {
                        vs.ip_family = match t.text {
                            "inet" => Some(IpFamily::Inet),
                            "inet6" => Some(IpFamily::Inet6),
                            o => {
                                self.error(
                                    Code::InvalidValue,
                                    t.span,
                                    format!("unknown family `{o}`"),
                                )
                                .label("expected inet or inet6");
                                None
                            }
                        };
                    }
                    self.extra(n, 1);
                }
                "sorry_server" => {
                    if let Some(t) = self.arg(n, "an address and port") {
                        let a = self.ip_tok(t, "sorry_server");
                        let port = n.args.get(1).and_then(|p| self.port_tok(p));
                        self.extra(n, 2);
                        vs.sorry_server = a.map(|addr| SorryServer { addr, port });
                    }
                }
                "sorry_server_inhibit" => vs.sorry_server_inhibit = self.flag(n),
                "inhibit_on_failure" => vs.inhibit_on_failure = self.flag(n),
                "connect_timeout" => vs.connect_timeout = self.timer(n),
                "retry" => vs.retry = self.u32(n),
                "delay_before_retry" => vs.delay_before_retry = self.timer(n),
                "warmup" => vs.warmup = self.timer(n),
                "smtp_alert" => vs.smtp_alert = self.bool_opt(n),
                "real_server" => {
                    if self.real_server(n, &mut vs.real_servers) {
                        rs_spans.push((
                            n.args.first().map_or(n.span(), |t| t.span),
                            n.args.get(1).map(|t| t.span),
                        ));
                    }
                }
                k if VS_OTHER.contains(&k) => vs.other.push(Self::directive(n)),
                _ => self.unknown(n, "virtual_server"),
            }
        }
        if vs.protocol.is_none() && matches!(addr, Some(VsAddress::Ip { .. })) {
            self.warn(
                Code::MissingKeyword,
                n.span(),
                "virtual_server has no `protocol`",
            )
            .label("keepalived 2.2.7 warns \"no protocol set - defaulting to UDP\"")
            .help("add `protocol TCP` (or UDP/SCTP)");
        }
        if let (Some(sp), None) = (gran_span, persist_span) {
            self.warn(
                Code::Inconsistent,
                sp,
                "persistence_granularity without persistence_timeout",
            )
            .label("has no effect unless the service is persistent")
            .help("add `persistence_timeout` (360 s when given without a value)");
        }
        if let Some(VsAddress::Ip { addr, port: None }) = &addr {
            if persist_span.is_none() {
                self.error(
                    Code::MissingValue,
                    n.span(),
                    format!("virtual_server {addr} has no port"),
                )
                .label("the port may only be omitted for persistent services")
                .help("add the port, or `persistence_timeout`");
            }
        }
        if let Some(VsAddress::Ip {
            addr,
            port: vs_port,
        }) = &addr
        {
            let vs_port = *vs_port;
            let lb = vs.lb_kind.unwrap_or(LbKind::Nat);
            for (rs, (addr_span, port_span)) in vs.real_servers.iter().zip(&rs_spans) {
                let kind = rs.lb_kind.unwrap_or(lb);
                if kind != LbKind::Tun && rs.addr.is_ipv4() != addr.is_ipv4() {
                    self.error(
                        Code::AddressFamily,
                        *addr_span,
                        "real_server family differs from the virtual server",
                    )
                    .label("only TUN real servers may use the other family");
                }
                if let (Some(vport), Some(rport), Some(psp)) = (vs_port, rs.port, port_span) {
                    if kind != LbKind::Nat && vport != rport {
                        self.warn(
                            Code::Inconsistent,
                            *psp,
                            format!(
                                "{} cannot change the port: packets keep port {vport}",
                                kind.name()
                            ),
                        )
                        .label(format!("port {rport} is ignored with {}", kind.name()))
                        .help(format!("use port {vport}, or lb_kind NAT to map ports"));
                    }
                }
            }
        }
        vs.address = addr?;
        Some(vs)
    }

    /// Adds the real server of `n` to `out` (built in place: the struct is large); false when
    /// it has no usable address (nothing added).
    fn real_server(&mut self, n: &Node, out: &mut Vec<RealServer>) -> bool {
        let Some(t) = self.arg(n, "an address and port") else {
            return false;
        };
        let addr = self.ip_tok(t, "real_server");
        let port = n.args.get(1).and_then(|p| self.port_tok(p));
        self.extra(n, 2);
        out.push(RealServer::new(
            addr.unwrap_or(IpAddr::from([0, 0, 0, 0])),
            port,
        ));
        let Some(rs) = out.last_mut() else {
            return false;
        };
        if let Some(b) = &n.block {
            for n in &b.items {
                match n.kw() {
                    "weight" => rs.weight = self.int(n, 0, 65535, Some(1)).map(|v| v as u32),
                    "lvs_method" | "lb_kind" => rs.lb_kind = self.lb_kind_tok(n).map(|k| k.0),
                    "inhibit_on_failure" => rs.inhibit_on_failure = self.bool_opt(n),
                    "notify_up" => rs.notify_up = self.script(n),
                    "notify_down" => rs.notify_down = self.script(n),
                    "uthreshold" => rs.uthreshold = self.u32(n),
                    "lthreshold" => rs.lthreshold = self.u32(n),
                    "smtp_alert" => rs.smtp_alert = self.bool_opt(n),
                    "virtualhost" => rs.virtualhost = self.string(n),
                    "alpha" => rs.alpha = self.bool_opt(n),
                    "connect_timeout" => rs.connect_timeout = self.timer(n),
                    "retry" => rs.retry = self.u32(n),
                    "delay_before_retry" => rs.delay_before_retry = self.timer(n),
                    "warmup" => rs.warmup = self.timer(n),
                    "delay_loop" => rs.delay_loop = self.timer(n),
                    "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "MISC_CHECK" | "SMTP_CHECK"
                    | "DNS_CHECK" | "UDP_CHECK" | "PING_CHECK" | "FILE_CHECK" | "BFD_CHECK" => {
                        if let Some(c) = self.checker(n) {
                            rs.checkers.push(c);
                        }
                    }
                    k if RS_OTHER.contains(&k) => rs.other.push(Self::directive(n)),
                    _ => self.unknown(n, "real_server"),
                }
            }
        }
        if let (Some(u), Some(l)) = (rs.uthreshold, rs.lthreshold) {
            if l > u {
                self.warn(
                    Code::Inconsistent,
                    n.span(),
                    format!("lthreshold {l} is above uthreshold {u}"),
                )
                .label("the server would never be re-enabled");
            }
        }
        if addr.is_none() {
            out.pop();
            return false;
        }
        true
    }

    /// A checker-common keyword; false if `n` is not one.
    fn common(&mut self, n: &Node, c: &mut CheckCommon) -> bool {
        match n.kw() {
            "connect_ip" => c.connect_ip = self.ip(n),
            "connect_port" => {
                c.connect_port = n.args.first().and_then(|t| self.port_tok(t));
                if n.args.is_empty() {
                    self.missing(n, "a port 0-65535", None);
                }
                self.extra(n, 1);
            }
            "bindto" => c.bindto = self.ip(n),
            "bind_if" => c.bind_if = self.string(n),
            "bind_port" => {
                c.bind_port = n.args.first().and_then(|t| self.port_tok(t));
                if n.args.is_empty() {
                    self.missing(n, "a port 0-65535", None);
                }
                self.extra(n, 1);
            }
            "fwmark" => c.fwmark = self.u32(n),
            "alpha" => c.alpha = self.bool_opt(n),
            "connect_timeout" => c.connect_timeout = self.timer(n),
            "retry" | "nb_get_retry" => c.retry = self.u32(n),
            "delay_before_retry" => c.delay_before_retry = self.timer(n),
            "warmup" => c.warmup = self.timer(n),
            "delay_loop" => c.delay_loop = self.timer(n),
            "log_all_failures" => c.log_all_failures = self.bool_opt(n),
            _ => return false,
        }
        true
    }

    fn checker(&mut self, n: &Node) -> Option<Checker> {
        let kw = n.kw();
        self.extra(n, 0);
        let empty = Block {
            open: n.span(),
            close: None,
            items: Vec::new(),
        };
        let b = n.block.as_ref().unwrap_or(&empty);
        let ctx = kw;
        Some(match ctx {
            "TCP_CHECK" | "PING_CHECK" => {
                let mut s = SimpleCheck::default();
                for n in &b.items {
                    if !self.common(n, &mut s.common) {
                        match n.kw() {
                            k if CHECK_OTHER.contains(&k) => s.other.push(Self::directive(n)),
                            _ => self.unknown(n, ctx),
                        }
                    }
                }
                if ctx == "TCP_CHECK" {
                    Checker::Tcp(s)
                } else {
                    Checker::Ping(s)
                }
            }
            "HTTP_GET" | "SSL_GET" => {
                let mut h = HttpCheck::default();
                for n in &b.items {
                    if self.common(n, &mut h.common) {
                        continue;
                    }
                    match n.kw() {
                        "url" => {
                            let u = self.url(n);
                            h.urls.push(u);
                        }
                        "http_protocol" => h.http_protocol = self.string(n),
                        "virtualhost" => h.virtualhost = self.string(n),
                        "fast_recovery" => h.fast_recovery = self.bool_opt(n),
                        "enable_sni" => h.enable_sni = self.flag(n),
                        "sni_name" => h.sni_name = self.string(n),
                        "tls_compliant" => h.tls_compliant = self.flag(n),
                        k if CHECK_OTHER.contains(&k) => h.other.push(Self::directive(n)),
                        _ => self.unknown(n, ctx),
                    }
                }
                if ctx == "HTTP_GET" {
                    Checker::HttpGet(h)
                } else {
                    Checker::SslGet(h)
                }
            }
            "MISC_CHECK" => {
                let mut m = MiscCheck::default();
                for n in &b.items {
                    if self.common(n, &mut m.common) {
                        continue;
                    }
                    match n.kw() {
                        "misc_path" => m.misc_path = self.string(n),
                        "misc_timeout" => m.misc_timeout = self.u32(n),
                        "misc_dynamic" => m.misc_dynamic = self.flag(n),
                        "user" => m.user = self.run_as(n),
                        k if CHECK_OTHER.contains(&k) => m.other.push(Self::directive(n)),
                        _ => self.unknown(n, ctx),
                    }
                }
                if m.misc_path.is_none() {
                    self.error(
                        Code::MissingKeyword,
                        n.span(),
                        "MISC_CHECK has no `misc_path`",
                    )
                    .label("keepalived ignores a MISC_CHECK without a script")
                    .help("add `misc_path \"/path/to/check args\"`");
                }
                Checker::Misc(m)
            }
            "SMTP_CHECK" => {
                let mut s = SmtpCheck::default();
                for n in &b.items {
                    if self.common(n, &mut s.common) {
                        continue;
                    }
                    match n.kw() {
                        "helo_name" => s.helo_name = self.string(n),
                        "host" => {
                            let mut h = CheckCommon::default();
                            if let Some(b) = self.block(n) {
                                for m in &b.items {
                                    if !self.common(m, &mut h) {
                                        self.unknown(m, "SMTP_CHECK host");
                                    }
                                }
                            }
                            s.hosts.push(h);
                        }
                        k if CHECK_OTHER.contains(&k) => s.other.push(Self::directive(n)),
                        _ => self.unknown(n, ctx),
                    }
                }
                Checker::Smtp(s)
            }
            "DNS_CHECK" => {
                let mut d = DnsCheck::default();
                for n in &b.items {
                    if self.common(n, &mut d.common) {
                        continue;
                    }
                    match n.kw() {
                        "type" => {
                            d.query_type = self.string(n);
                            if let (Some(t), Some(tok)) = (&d.query_type, n.args.first()) {
                                if !["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"]
                                    .contains(&t.to_ascii_uppercase().as_str())
                                {
                                    self.error(
                                        Code::InvalidValue,
                                        tok.span,
                                        format!("unknown DNS type `{t}`"),
                                    )
                                    .label("expected A, NS, CNAME, SOA, MX, TXT or AAAA");
                                }
                            }
                        }
                        "name" => d.name = self.string(n),
                        k if CHECK_OTHER.contains(&k) => d.other.push(Self::directive(n)),
                        _ => self.unknown(n, ctx),
                    }
                }
                Checker::Dns(d)
            }
            "UDP_CHECK" => {
                let mut u = UdpCheck::default();
                for n in &b.items {
                    if self.common(n, &mut u.common) {
                        continue;
                    }
                    match n.kw() {
                        "payload" => {
                            u.payload =
                                Some(n.args.iter().map(|t| t.text).collect::<Vec<_>>().join(" "));
                            if n.args.is_empty() {
                                self.missing(n, "hex bytes", None);
                                u.payload = None;
                            }
                        }
                        "require_reply" => {
                            u.require_reply =
                                Some(n.args.iter().map(|t| t.text).collect::<Vec<_>>().join(" "))
                        }
                        "min_reply_length" => u.min_reply_length = self.u32(n),
                        "max_reply_length" => u.max_reply_length = self.u32(n),
                        k if CHECK_OTHER.contains(&k) => u.other.push(Self::directive(n)),
                        _ => self.unknown(n, ctx),
                    }
                }
                Checker::Udp(u)
            }
            "FILE_CHECK" => {
                let mut f = FileCheck::default();
                for n in &b.items {
                    match n.kw() {
                        "track_file" => {
                            f.track_file = self.string(n);
                            if let Some(t) = n.args.first() {
                                self.file_refs.push(Ref {
                                    name: t.text.to_string(),
                                    span: t.span,
                                    what: "FILE_CHECK track_file",
                                });
                            }
                        }
                        "dynamic" => f.dynamic = self.flag(n),
                        "weight" => {
                            f.weight = n
                                .args
                                .first()
                                .and_then(|t| self.int_tok(t, "weight", -2147483647, 2147483647));
                            if n.args.is_empty() {
                                self.missing(n, "an integer", None);
                            }
                            f.reverse = n.args.get(1).is_some_and(|t| t.text == "reverse");
                            self.extra(n, 2);
                        }
                        k if CHECK_OTHER.contains(&k) => f.other.push(Self::directive(n)),
                        _ => self.unknown(n, ctx),
                    }
                }
                Checker::File(f)
            }
            _ => {
                let mut f = BfdCheck::default();
                for n in &b.items {
                    match n.kw() {
                        "name" => f.name = self.string(n),
                        k if CHECK_OTHER.contains(&k) => f.other.push(Self::directive(n)),
                        _ => self.unknown(n, ctx),
                    }
                }
                Checker::Bfd(f)
            }
        })
    }

    fn url(&mut self, n: &Node) -> Url {
        let mut u = Url::default();
        let Some(b) = self.block(n) else { return u };
        for n in &b.items {
            match n.kw() {
                "path" => u.path = self.string(n),
                "digest" => {
                    u.digest = self.string(n);
                    if let (Some(d), Some(t)) = (&u.digest, n.args.first()) {
                        if d.len() != 32 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                            self.error(
                                Code::InvalidValue,
                                t.span,
                                "digest is not an MD5 hex string",
                            )
                            .label("expected 32 hex digits (genhash prints it)");
                        }
                    }
                }
                "status_code" => {
                    if n.args.is_empty() {
                        self.missing(n, "a status code or range", None);
                    }
                    for t in n.args {
                        let (a, b) = t.text.split_once('-').unwrap_or((t.text, t.text));
                        match (a.parse::<u16>(), b.parse::<u16>()) {
                            (Ok(a), Ok(b))
                                if (100..=999).contains(&a) && (a..=999).contains(&b) =>
                            {
                                u.status_code.push(StatusRange::new(a, b));
                            }
                            _ => {
                                self.error(
                                    Code::InvalidValue,
                                    t.span,
                                    format!("`{}` is not a status code", t.text),
                                )
                                .label("expected a code 100-999 or a range like 200-299");
                            }
                        }
                    }
                }
                "virtualhost" => u.virtualhost = self.string(n),
                "regex" => u.regex = self.string(n),
                "regex_no_match" => u.regex_no_match = self.flag(n),
                k if CHECK_OTHER.contains(&k) => u.other.push(Self::directive(n)),
                _ => self.unknown(n, "url"),
            }
        }
        u
    }
}
