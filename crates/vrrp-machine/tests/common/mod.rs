//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::net::IpAddr;

use vrrp_machine::{
    Config, Input, Instance, Instant, Interval, Output, Received, State, StateChange, Transmit,
    Version,
};
use vrrp_packet::{AddressList, Auth, Repr};

pub const ME: &str = "192.0.2.10";
pub const VIP: &str = "192.0.2.100";

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

pub fn config(version: Version, priority: u8, interval_cs: u16) -> Config {
    Config::new(
        version,
        51,
        priority,
        Interval::from_centis(interval_cs),
        ip(ME),
        vec![ip(VIP)],
    )
}

pub fn drain(i: &mut Instance) -> Vec<Output> {
    std::iter::from_fn(|| i.poll_output()).collect()
}

pub fn transmits(out: &[Output]) -> Vec<&Transmit> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit(t) => Some(t),
            _ => None,
        })
        .collect()
}

pub fn changes(out: &[Output]) -> Vec<StateChange> {
    out.iter()
        .filter_map(|o| match o {
            Output::StateChange(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// The VIP list as the codec's owned list.
pub fn wire_vips() -> AddressList {
    AddressList::Ipv4(vec![VIP.parse().expect("vip")])
}

/// An advert from `src` as the codec would hand it over.
pub fn advert<'a>(
    list: &'a AddressList,
    version: Version,
    priority: u8,
    interval_cs: u16,
) -> Repr<'a> {
    Repr {
        version,
        vrid: 51,
        priority,
        interval: Interval::from_centis(interval_cs),
        auth: Auth::None,
        addresses: list.as_addresses(),
    }
}

pub fn rx(i: &mut Instance, now: Instant, src: &str, repr: Repr<'_>) -> Vec<Output> {
    i.handle_input(now, Input::Advert(Received { src: ip(src), repr }));
    drain(i)
}

/// An instance driven to `state` at time 0 (Master by letting the down timer run out).
pub fn started(cfg: Config, state: State) -> (Instance, Instant) {
    let mut i = Instance::new(cfg, Instant::ZERO).expect("valid config");
    i.handle_input(Instant::ZERO, Input::Startup);
    let _ = drain(&mut i);
    let mut now = Instant::ZERO;
    if state == State::Master && i.state() == State::Backup {
        now = i.poll_timeout().expect("down timer");
        i.handle_timeout(now);
        let _ = drain(&mut i);
    }
    assert_eq!(i.state(), state);
    (i, now)
}
