//! `vrrp-pcap craft`: one Ethernet + IP + VRRP frame into a pcap file.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::{Result, bail};
use vrrp_packet::{
    Addresses, Auth, ChecksumMode, Envelope, EthernetParams, Interval, Repr, Version,
    emit_ethernet, ethernet_len,
};

/// Minimum Ethernet frame without FCS; `--pad` fills a frame up to it, as a NIC does.
pub(crate) const ETHERNET_MIN_LEN: usize = 60;

/// What the command line asks for, before any check.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) version: u8,
    pub(crate) vrid: u8,
    pub(crate) priority: u8,
    pub(crate) interval: u16,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) ttl: u8,
    pub(crate) auth_pass: Option<String>,
    pub(crate) checksum_mode: Option<ChecksumMode>,
    pub(crate) addresses: Vec<IpAddr>,
    pub(crate) src_mac: Option<[u8; 6]>,
    pub(crate) dst_mac: Option<[u8; 6]>,
    pub(crate) pad: bool,
}

/// Builds the frame, or says in one sentence which flags do not go together.
pub(crate) fn frame(spec: &Spec) -> Result<Vec<u8>> {
    let version = match spec.version {
        2 => Version::V2,
        3 => Version::V3,
        v => bail!("--version {v}: VRRP versions are 2 (RFC 3768) and 3 (RFC 9568)"),
    };
    if spec.vrid == 0 {
        bail!("--vrid 0: a virtual router ID is 1-255 (RFC 9568 §5.2.3)");
    }
    let ipv6 = match (spec.src, spec.dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => false,
        (IpAddr::V6(_), IpAddr::V6(_)) => true,
        _ => bail!(
            "--src {} and --dst {} are of different address families",
            spec.src,
            spec.dst
        ),
    };
    if ipv6 && version == Version::V2 {
        bail!("VRRPv2 is IPv4 only (RFC 3768); use --version 3 for IPv6");
    }
    if spec.addresses.is_empty() {
        bail!("give at least one virtual address");
    }
    if spec.addresses.len() > 255 {
        bail!(
            "{} addresses: the Count IPvX Addrs field holds at most 255",
            spec.addresses.len()
        );
    }
    if let Some(bad) = spec.addresses.iter().find(|a| a.is_ipv6() != ipv6) {
        bail!("address {bad} is not of the family of --src/--dst");
    }
    let interval = match version {
        Version::V2 if (1..=255).contains(&spec.interval) => {
            Interval::from_secs(spec.interval as u8)
        }
        Version::V2 => bail!(
            "--interval {}: VRRPv2 carries 1-255 whole seconds (RFC 3768 §5.3.7)",
            spec.interval
        ),
        Version::V3 if (1..=0x0fff).contains(&spec.interval) => {
            Interval::from_centis(spec.interval)
        }
        Version::V3 => bail!(
            "--interval {}: VRRPv3 carries 1-4095 centiseconds (RFC 9568 §5.2.7)",
            spec.interval
        ),
    };
    let auth = match (&spec.auth_pass, version) {
        (None, _) => Auth::None,
        (Some(_), Version::V3) => bail!("--auth-pass: VRRPv3 has no authentication (RFC 9568)"),
        (Some(p), Version::V2) if p.len() > 8 => bail!(
            "--auth-pass: {} octets, simple text authentication carries at most 8 (RFC 2338 §5.3.6.1)",
            p.len()
        ),
        (Some(p), Version::V2) => Auth::simple_text(p.as_bytes()),
    };
    let mode = spec
        .checksum_mode
        .unwrap_or(ChecksumMode::default_for(version));
    if (version == Version::V2) != (mode == ChecksumMode::V2) {
        match version {
            Version::V2 => bail!("--checksum-mode {mode} is a VRRPv3 mode; VRRPv2 uses v2"),
            Version::V3 => bail!(
                "--checksum-mode v2 is the VRRPv2 mode; for VRRPv3 without pseudo-header use v3_no_pseudo"
            ),
        }
    }

    let v4: Vec<Ipv4Addr> = spec
        .addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    let v6: Vec<Ipv6Addr> = spec
        .addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        })
        .collect();
    let addresses = if ipv6 {
        Addresses::ipv6(&v6)
    } else {
        Addresses::ipv4(&v4)
    };
    let repr = Repr {
        version,
        vrid: spec.vrid,
        priority: spec.priority,
        interval,
        auth,
        addresses,
    };
    let env = Envelope::new(spec.src, spec.dst, version)
        .with_checksum(mode)
        .with_ttl(spec.ttl);
    // RFC 9568 §7.3: the virtual router MAC as source, the group's multicast MAC as
    // destination (broadcast for a unicast destination unless --dst-mac says otherwise).
    let default = EthernetParams::for_advert(&repr, spec.dst);
    let eth = EthernetParams::new(
        spec.dst_mac.unwrap_or(default.dst_mac),
        spec.src_mac.unwrap_or(default.src_mac),
    );
    let len = ethernet_len(&repr, &env, &eth);
    let mut buf = vec![0u8; len.max(ETHERNET_MIN_LEN)];
    let n = emit_ethernet(&repr, &env, &eth, &mut buf)?;
    buf.truncate(if spec.pad { n.max(ETHERNET_MIN_LEN) } else { n });
    Ok(buf)
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub(crate) fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"));
    }
    let mut mac = [0u8; 6];
    for (o, p) in mac.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16)
            .ok()
            .filter(|_| p.len() == 2)
            .ok_or_else(|| format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"))?;
    }
    Ok(mac)
}
