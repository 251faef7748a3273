//! `lvs_timeouts [tcp SECS] [tcpfin SECS] [udp SECS]`: IPVS's connection timeouts (`ipvsadm
//! --set`), set when the check side starts and again on every reload. As keepalived.conf(5)
//! says, a value the configuration does not give is the one the kernel had when lvsd started
//! (so removing a value from the file and reloading puts the old one back).

use std::sync::Mutex;

use ipvs_netlink::{Ipvs, Timeouts};
use keepalived_conf::model::Config;
use tracing::{error, info};

/// The kernel's timeouts before lvsd first changed them.
static AT_START: Mutex<Option<Timeouts>> = Mutex::new(None);

/// Makes the kernel's timeouts those `conf` asks for (see the module documentation). Errors
/// are logged: the timeouts are not worth stopping the check side for.
pub fn apply(conf: &Config) {
    let Ok(mut at_start) = AT_START.lock() else {
        return;
    };
    if conf.global_defs.lvs_timeouts.is_none() && at_start.is_none() {
        return;
    }
    let r = Ipvs::connect().and_then(|mut ipvs| {
        let start = match *at_start {
            Some(t) => t,
            None => *at_start.insert(ipvs.timeouts()?),
        };
        let given = conf.global_defs.lvs_timeouts.clone().unwrap_or_default();
        let want = Timeouts {
            tcp: given.tcp.unwrap_or(start.tcp),
            tcp_fin: given.tcpfin.unwrap_or(start.tcp_fin),
            udp: given.udp.unwrap_or(start.udp),
        };
        ipvs.set_timeouts(&want)?;
        Ok(want)
    });
    match r {
        Ok(t) => info!(
            tcp = t.tcp,
            tcpfin = t.tcp_fin,
            udp = t.udp,
            "IPVS timeouts set (lvs_timeouts)"
        ),
        Err(e) => error!("lvs_timeouts not applied: {e}"),
    }
}
