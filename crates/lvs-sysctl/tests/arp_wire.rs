//! The combination rules observed on the wire: does a DR real server with the VIP on `lo` answer
//! a client's ARP request for the VIP? (`arping` from a client namespace, real kernel.)

use lvs_sysctl::{IfName, Ipv4Conf, Key, Procfs, Profile, Scope, Snapshot, apply, revert};
use lvs_testkit::{Netns, skip_unless, veth};

const VIP: &str = "192.0.2.10";
const RS_IP: &str = "198.51.100.2";

fn v4(scope: &str, p: Ipv4Conf) -> Key {
    Key::ipv4(Scope::from_dir_name(scope).unwrap(), p)
}

struct Topology {
    client: Netns,
    rs: Netns,
}

fn topology() -> Topology {
    let client = Netns::new("sysctl-arp-c").unwrap();
    let rs = Netns::new("sysctl-arp-rs").unwrap();
    veth(&client, "eth0", &rs, "eth0").unwrap();
    client
        .run(&["ip", "address", "add", "198.51.100.1/24", "dev", "eth0"])
        .unwrap();
    rs.run(&[
        "ip",
        "address",
        "add",
        &format!("{RS_IP}/24"),
        "dev",
        "eth0",
    ])
    .unwrap();
    rs.run(&[
        "ip",
        "address",
        "add",
        &format!("{VIP}/32"),
        "dev",
        "lo",
        "label",
        "lo:0",
    ])
    .unwrap();
    Topology { client, rs }
}

impl Topology {
    /// Whether an ARP request for `target` from the client gets a reply (1 probe, 1 s).
    fn answered(&self, target: &str) -> bool {
        self.client
            .cmd("arping")
            .args([
                "-q",
                "-c",
                "1",
                "-w",
                "1",
                "-I",
                "eth0",
                "-s",
                "198.51.100.1",
                target,
            ])
            .status()
            .unwrap()
            .success()
    }

    fn set(&self, key: &Key, value: i32) {
        self.rs
            .run(&["sysctl", "-q", "-w", &format!("{key}={value}")])
            .unwrap();
    }
}

#[test]
fn arp_for_the_vip_follows_max_of_all_and_the_incoming_interface() {
    if skip_unless(
        "arp_for_the_vip_follows_max_of_all_and_the_incoming_interface",
        &["ip", "sysctl", "arping"],
    ) {
        return;
    }
    let t = topology();
    // A new namespace copies the root's IPv4 all/default values: start from known ones.
    for scope in ["all", "eth0"] {
        t.set(&v4(scope, Ipv4Conf::ArpIgnore), 0);
        t.set(&v4(scope, Ipv4Conf::ArpAnnounce), 0);
        t.set(&v4(scope, Ipv4Conf::ArpFilter), 0);
    }
    let root_before = Snapshot::capture(&Procfs::system())
        .unwrap()
        .value(&v4("all", Ipv4Conf::ArpIgnore));

    assert!(
        t.answered(VIP),
        "defaults: the real server answers ARP for the VIP on lo"
    );

    // The seed's mistake: only lo. lo never receives the request; nothing changes.
    t.set(&v4("lo", Ipv4Conf::ArpIgnore), 1);
    t.set(&v4("lo", Ipv4Conf::ArpAnnounce), 2);
    assert!(t.answered(VIP), "arp_ignore on lo alone must not matter");

    // max(all=1, eth0=0) = 1: no reply.
    t.set(&v4("all", Ipv4Conf::ArpIgnore), 1);
    assert!(!t.answered(VIP), "all=1 must win over eth0=0");
    assert!(
        t.answered(RS_IP),
        "the real server still answers for its own address"
    );

    // max(all=0, eth0=1) = 1: no reply either.
    t.set(&v4("all", Ipv4Conf::ArpIgnore), 0);
    t.set(&v4("eth0", Ipv4Conf::ArpIgnore), 1);
    assert!(!t.answered(VIP), "eth0=1 must win over all=0");

    // Reserved values win the max and behave like 0: max(all=5, eth0=1) = 5 answers.
    t.rs.run(&[
        "sh",
        "-c",
        "echo 5 > /proc/sys/net/ipv4/conf/all/arp_ignore",
    ])
    .unwrap();
    assert!(t.answered(VIP), "arp_ignore 5 (reserved) behaves like 0");

    // Back to defaults, then the DR profile does it properly, and revert undoes it.
    t.set(&v4("all", Ipv4Conf::ArpIgnore), 0);
    t.set(&v4("eth0", Ipv4Conf::ArpIgnore), 0);
    assert!(t.answered(VIP));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("dr.json");
    let eth0 = IfName::new("eth0").unwrap();
    t.rs.enter(|| {
        let sys = Procfs::system();
        apply(&sys, &Profile::dr([eth0]).plan(&sys).unwrap(), &state).unwrap();
    })
    .unwrap();
    assert!(
        !t.answered(VIP),
        "after the DR profile only the director may answer"
    );
    assert!(t.answered(RS_IP));
    t.rs.enter(|| revert(&Procfs::system(), &state).unwrap())
        .unwrap();
    assert!(
        t.answered(VIP),
        "after revert the original behaviour is back"
    );

    let root_after = Snapshot::capture(&Procfs::system())
        .unwrap()
        .value(&v4("all", Ipv4Conf::ArpIgnore));
    assert_eq!(root_before, root_after);
}
