//! IPv6 VIPs without duplicate address detection (`ip address add ... nodad`), as keepalived
//! adds them: a VIP taken over from a master that died without removing it would otherwise
//! fail DAD against the dead master's kernel and stay unusable (`dadfailed`).

use std::net::IpAddr;

use futures_util::TryStreamExt;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};

use crate::error::{Error, netlink_error};
use crate::netlink::{AddressSpec, Netlink, Outcome};

impl Netlink {
    /// Makes sure `spec` (an IPv6 address) is configured with `IFA_F_NODAD`: a present address
    /// with the same prefix and scope that has not failed DAD is left alone; anything else at
    /// that address on the interface (another prefix, a `dadfailed` copy) is replaced. IPv4
    /// addresses have no DAD: they go through [`Netlink::ensure_address`].
    ///
    /// ```no_run
    /// use lvs_vip::{AddressSpec, Netlink};
    /// let nl = Netlink::new()?;
    /// let vip = "2001:db8::66".parse()?;
    /// nl.ensure_address_nodad(&AddressSpec::vip("eth0", vip).prefix(64))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// No such interface, or the kernel refused the request.
    pub fn ensure_address_nodad(&self, spec: &AddressSpec) -> Result<Outcome, Error> {
        if spec.addr.is_ipv4() {
            return self.ensure_address(spec);
        }
        let link = self.link(&spec.iface)?;
        let (rt, handle) = (&self.rt, &self.handle);
        let existing: Vec<AddressMessage> = rt
            .block_on(
                handle
                    .address()
                    .get()
                    .set_link_index_filter(link.index)
                    .set_address_filter(spec.addr)
                    .execute()
                    .try_collect(),
            )
            .map_err(|e| netlink_error(format!("list addresses of {}", spec.iface), e))?;
        let existing: Vec<AddressMessage> = existing
            .into_iter()
            .filter(|m| address_of(m) == Some(spec.addr) && m.header.index == link.index)
            .collect();
        if let [m] = existing.as_slice() {
            let failed = m.header.flags.contains(AddressHeaderFlags::Dadfailed)
                || m.attributes.iter().any(
                    |a| matches!(a, AddressAttribute::Flags(f) if f.contains(AddressFlags::Dadfailed)),
                );
            if !failed
                && m.header.prefix_len == spec.prefix
                && crate::netlink::AddrScope::from(m.header.scope) == spec.scope
            {
                return Ok(Outcome::Unchanged);
            }
        }
        for m in existing {
            rt.block_on(handle.address().del(m).execute())
                .map_err(|e| {
                    netlink_error(format!("delete {} from {}", spec.addr, spec.iface), e)
                })?;
        }
        let mut req = handle.address().add(link.index, spec.addr, spec.prefix);
        let msg = req.message_mut();
        msg.header.scope = spec.scope.into();
        msg.header.flags |= AddressHeaderFlags::Nodad;
        msg.attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
        let op = format!(
            "add address {}/{} nodad on {}",
            spec.addr, spec.prefix, spec.iface
        );
        rt.block_on(req.execute())
            .map_err(|e| netlink_error(op, e))?;
        Ok(Outcome::Changed)
    }
}

fn address_of(m: &AddressMessage) -> Option<IpAddr> {
    m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(a) => Some(*a),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Two namespaces on one veth: the second adds the address the first still holds; without
    /// DAD it is usable at once (`ip address add` alone would leave it `dadfailed`).
    #[test]
    fn nodad_address_survives_a_duplicate() {
        if lvs_testkit::skip_unless("nodad::nodad_address_survives_a_duplicate", &["ip"]) {
            return;
        }
        let a = lvs_testkit::Netns::new("vipdada").expect("netns");
        let b = lvs_testkit::Netns::new("vipdadb").expect("netns");
        lvs_testkit::veth(&a, "eth0", &b, "eth0").expect("veth");
        // A holds the address (as a master killed before it could remove it).
        a.run(&[
            "ip",
            "addr",
            "add",
            "2001:db8::66/64",
            "dev",
            "eth0",
            "nodad",
        ])
        .expect("address on a");
        let vip: IpAddr = "2001:db8::66".parse().expect("ip");
        let spec = AddressSpec::vip("eth0", vip).prefix(64);
        let show = || {
            b.run(&["ip", "-6", "-o", "addr", "show", "dev", "eth0"])
                .expect("ip")
        };
        // Let B's link-local finish DAD first (B's own address checks must run).
        assert!(lvs_testkit::wait_until(
            Duration::from_secs(5),
            Duration::from_millis(50),
            || !show().contains("tentative")
        ));
        let out = b
            .enter(|| {
                let nl = Netlink::new()?;
                let first = nl.ensure_address_nodad(&spec)?;
                let again = nl.ensure_address_nodad(&spec)?;
                Ok::<_, Error>((first, again))
            })
            .expect("enter")
            .expect("ensure");
        assert_eq!(out, (Outcome::Changed, Outcome::Unchanged));
        std::thread::sleep(Duration::from_millis(1500));
        let line = show();
        let line = line
            .lines()
            .find(|l| l.contains("2001:db8::66/64"))
            .unwrap_or_else(|| panic!("address missing: {line}"));
        assert!(
            !line.contains("dadfailed") && !line.contains("tentative"),
            "{line}"
        );
    }
}
