//! Link-state notifications: an rtnetlink subscription to `RTNLGRP_LINK` on its own thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{StreamExt, TryStreamExt};
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::{MulticastGroup, new_multicast_connection};

use crate::error::{Error, netlink_error};

/// The state of one interface as a link notification tells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkState {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Carrier and operationally up (`IFF_RUNNING`).
    pub running: bool,
    /// The interface was deleted (`RTM_DELLINK`).
    pub deleted: bool,
}

impl LinkState {
    /// Up, running and present: what keepalived calls an interface that is up.
    #[must_use]
    pub fn is_usable(&self) -> bool {
        self.up && self.running && !self.deleted
    }
}

/// Watches every interface of the network namespace it was started in.
///
/// [`LinkMonitor::spawn`] subscribes to the kernel's link notifications, then lists the links,
/// so `on_change` first hears the state of every interface, then every change (an interface
/// going up or down, losing its carrier, being deleted), in order, on the monitor's thread.
/// Notifications that repeat the previous state of a link are passed on as well; compare
/// with [`LinkState::is_usable`] to react to edges only. The thread ends when the monitor is
/// dropped (at the next notification) or `on_change` returns `false`.
///
/// ```no_run
/// let (tx, rx) = std::sync::mpsc::channel();
/// let _monitor = lvs_vip::LinkMonitor::spawn(move |s| tx.send(s).is_ok())?;
/// for state in rx.iter().take(3) {
///     println!("{} usable: {}", state.name, state.is_usable());
/// }
/// # Ok::<(), lvs_vip::Error>(())
/// ```
#[derive(Debug)]
pub struct LinkMonitor {
    stop: Arc<AtomicBool>,
}

impl LinkMonitor {
    /// Subscribes (in the calling thread's network namespace) and starts the monitor thread.
    ///
    /// # Errors
    /// The netlink socket cannot be opened or bound, or the first link dump fails.
    pub fn spawn(
        mut on_change: impl FnMut(LinkState) -> bool + Send + 'static,
    ) -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|source| Error::Io {
                op: "start the link monitor runtime".into(),
                hint: "",
                source,
            })?;
        // The socket is created here, so it belongs to the caller's namespace.
        let (conn, handle, mut messages) = rt
            .block_on(async { new_multicast_connection(&[MulticastGroup::Link]) })
            .map_err(|source| Error::Io {
                op: "subscribe to link notifications (RTNLGRP_LINK)".into(),
                hint: "",
                source,
            })?;
        rt.spawn(conn);
        let dump: Vec<LinkMessage> = rt
            .block_on(handle.link().get().execute().try_collect())
            .map_err(|e| netlink_error("list links".into(), e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("link-monitor".into())
            .spawn(move || {
                for m in dump {
                    if !on_change(state(m, false)) {
                        return;
                    }
                }
                rt.block_on(async {
                    while let Some((msg, _)) = messages.next().await {
                        if stopped.load(Ordering::Relaxed) {
                            return;
                        }
                        let s = match msg.payload {
                            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => {
                                state(m, false)
                            }
                            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                                state(m, true)
                            }
                            _ => continue,
                        };
                        if !on_change(s) {
                            return;
                        }
                    }
                });
            })
            .map_err(|source| Error::Io {
                op: "start the link monitor thread".into(),
                hint: "",
                source,
            })?;
        Ok(Self { stop })
    }
}

impl Drop for LinkMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn state(m: LinkMessage, deleted: bool) -> LinkState {
    let name = m
        .attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_default();
    LinkState {
        index: m.header.index,
        name,
        up: m.header.flags.contains(LinkFlags::Up),
        running: m.header.flags.contains(LinkFlags::Running),
        deleted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A veth pair in a namespace: the monitor reports it, then its peer going down (carrier
    /// lost) and coming back.
    #[test]
    fn reports_link_changes() {
        if lvs_testkit::skip_unless("monitor::reports_link_changes", &["ip"]) {
            return;
        }
        let ns = lvs_testkit::Netns::new("vipmon").expect("netns");
        ns.run(&[
            "ip", "link", "add", "m0", "type", "veth", "peer", "name", "m1",
        ])
        .expect("veth");
        ns.run(&["ip", "link", "set", "m0", "up"]).expect("up");
        ns.run(&["ip", "link", "set", "m1", "up"]).expect("up");
        let (tx, rx) = std::sync::mpsc::channel();
        let _mon = ns
            .enter(move || LinkMonitor::spawn(move |s| tx.send(s).is_ok()))
            .expect("enter")
            .expect("monitor");
        let next_m0 = |want: bool| {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(s) if s.name == "m0" && s.is_usable() == want => return true,
                    Ok(_) => {}
                    Err(_) => return false,
                }
            }
            false
        };
        assert!(next_m0(true), "m0 not reported usable");
        ns.run(&["ip", "link", "set", "m1", "down"]).expect("down");
        assert!(next_m0(false), "m0 carrier loss not reported");
        ns.run(&["ip", "link", "set", "m1", "up"]).expect("up");
        assert!(next_m0(true), "m0 recovery not reported");
        ns.run(&["ip", "link", "set", "m0", "down"]).expect("down");
        assert!(next_m0(false), "m0 admin down not reported");
    }
}
