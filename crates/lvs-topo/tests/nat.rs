//! The seed's LVS-NAT cluster end to end in the kernel lab: the five scenarios of issue 10.
//! Needs `cargo build -p lvsd -p lvs-realserver` first (the binaries are taken from the same
//! target directory).

mod common;

#[test]
fn nat_five_scenarios() {
    common::five_scenarios(lvs_topo::Mode::Nat, "nat_five_scenarios");
}
