//! Arbitrary bytes as a netlink datagram from the kernel's IPVS family: `parse_reply` must
//! never panic, and whatever it decodes must survive emit → parse unchanged (the decoded
//! form is canonical).
#![no_main]

use ipvs_netlink::message::{Reply, emit_reply, parse_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(replies) = parse_reply(data) else { return };
    for (seq, reply) in replies {
        // Acks drop their extended-ack text on emit; messages the parser did not decode
        // (`Other`) have no canonical form; everything else is compared whole.
        let reply = match reply {
            Reply::Ack { errno, .. } => Reply::Ack { errno, ext_msg: None },
            Reply::Other { .. } => continue,
            other => other,
        };
        let mut buf = Vec::new();
        emit_reply(&reply, &mut buf, 0x24, seq, true);
        let again = parse_reply(&buf).expect("emitted reply parses");
        assert_eq!(again, vec![(seq, reply)]);
    }
});
