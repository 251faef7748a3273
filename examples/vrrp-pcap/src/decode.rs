//! `vrrp-pcap decode`: one JSON object per VRRP packet.

use std::io::Write;

use serde_json::{Value, json};
use vrrp_packet::{Datagram, HEADER_LEN, Packet, Repr, ValidationConfig, Version};

/// The JSON object for one VRRP datagram, keys in the documented order.
///
/// Keys: `src`, `dst`, `ttl`, `version`, `type`, `vrid`, `priority`, `count`, `auth_type`
/// (VRRPv2), `auth_data` (VRRPv2 simple text), `interval` (VRRPv2 seconds, VRRPv3
/// centiseconds), `checksum`, `checksum_ok`, `checksum_modes`, `addresses`, `error` (absent when
/// the packet passes receive validation with every checksum mode accepted).
///
/// A message too short for its fixed header has only `src`, `dst`, `ttl` and `error`.
pub(crate) fn describe(d: &Datagram<'_>) -> Vec<(&'static str, Value)> {
    let mut out = vec![
        ("src", json!(d.src.to_string())),
        ("dst", json!(d.dst.to_string())),
        ("ttl", json!(d.ttl)),
    ];
    // What an inspector accepts: any version, any checksum variant; TTL and the RFC rules apply.
    let error = d
        .validate(&ValidationConfig::any())
        .err()
        .map(|e| e.rule_name());
    if d.payload.len() < HEADER_LEN {
        out.push(("error", json!(error.unwrap_or("length"))));
        return out;
    }
    let packet: Packet<&[u8]> = d.packet();
    let version = packet.version();
    out.push(("version", json!(version)));
    out.push(("type", json!(packet.msg_type())));
    out.push(("vrid", json!(packet.vrid())));
    out.push(("priority", json!(packet.priority())));
    out.push(("count", json!(packet.addr_count())));
    let complete = packet.check_len().is_ok();
    if version == Version::V2.number() {
        out.push(("auth_type", json!(packet.auth_type())));
        if complete && packet.auth_type() == vrrp_packet::Auth::TYPE_SIMPLE_TEXT {
            let data = packet.auth_data();
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            out.push(("auth_data", json!(String::from_utf8_lossy(&data[..end]))));
        }
    }
    out.push(("interval", json!(packet.wire_interval())));
    out.push(("checksum", json!(format!("{:#06x}", packet.checksum()))));
    let modes = packet.verify_checksum(d.src, d.dst);
    out.push(("checksum_ok", json!(!modes.is_empty())));
    out.push((
        "checksum_modes",
        json!(modes.modes().map(|m| m.name()).collect::<Vec<_>>()),
    ));
    // Decoded through `Repr` when the message is well-formed, else as many whole addresses as
    // the message holds.
    let addresses: Vec<String> = match Repr::parse(&packet) {
        Ok(repr) => repr.addresses.iter().map(|a| a.to_string()).collect(),
        Err(_) => packet.addresses().iter().map(|a| a.to_string()).collect(),
    };
    out.push(("addresses", json!(addresses)));
    if let Some(e) = error {
        out.push(("error", json!(e)));
    }
    out
}

/// Writes `fields` as one JSON object on one line, keys in the given order.
pub(crate) fn write_object(w: &mut impl Write, fields: &[(&str, Value)]) -> std::io::Result<()> {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::from(*k)))
        .collect();
    writeln!(w, "{{{}}}", body.join(","))
}
