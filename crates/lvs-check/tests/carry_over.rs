//! `Pool::carry_over`: a reload keeps the state of unchanged real servers.

use std::time::Duration;

use lvs_check::core::{Action, CheckResult, Dest, Pool, PoolConfig, RealServerConfig, Timing};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn timing() -> Timing {
    Timing {
        delay_loop: s(6),
        retry: 0,
        delay_before_retry: s(1),
        warmup: s(0),
        alpha: false,
    }
}

fn pool(weights: &[u32], inhibit: bool) -> Pool {
    Pool::new(
        PoolConfig::new(
            weights
                .iter()
                .map(|&w| RealServerConfig::new(w, vec![timing()]).inhibit(inhibit))
                .collect(),
        ),
        1,
    )
}

#[test]
fn down_server_stays_down_and_new_server_joins() {
    let mut old = pool(&[1, 1], false);
    old.start(s(0));
    let due = old.due(s(0));
    assert_eq!(due.len(), 2);
    let a = old.on_result(s(0), due[0], CheckResult::fail());
    assert!(a.contains(&Action::Remove {
        dest: Dest::Real(0)
    }));
    old.on_result(s(0), due[1], CheckResult::ok());
    // New configuration: old server 0 unchanged (now index 1), old server 1 gone, a new
    // server at index 0 with weight 5.
    let mut new = pool(&[5, 1], false);
    let actions = new.carry_over(s(2), &old, &[(1, 0)]);
    assert!(!new.is_alive(1), "the failed server keeps its state");
    assert!(new.is_alive(0));
    assert_eq!(new.members(), vec![(Dest::Real(0), 5)]);
    assert!(!actions.contains(&Action::QuorumDown));
    // The carried-over check keeps its schedule (next loop at 6 s), the new one starts now.
    assert_eq!(new.next_deadline(), Some(s(2)));
    let due = new.due(s(2));
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].rs, 0);
    assert_eq!(new.next_deadline(), Some(s(6)));
    // One success brings the carried-over server back.
    let due = new.due(s(6));
    let a = new.on_result(s(6), due[0], CheckResult::ok());
    assert!(a.contains(&Action::Add {
        dest: Dest::Real(1),
        weight: 1
    }));
}

#[test]
fn inhibited_server_keeps_weight_zero_and_in_flight_check_is_due_again() {
    let mut old = pool(&[2], true);
    old.start(s(0));
    let due = old.due(s(0));
    old.on_result(s(0), due[0], CheckResult::fail());
    assert_eq!(old.members(), vec![(Dest::Real(0), 0)]);
    // A check in flight at the reload.
    let due = old.due(s(6));
    assert_eq!(due.len(), 1);
    let mut new = pool(&[2], true);
    new.carry_over(s(7), &old, &[(0, 0)]);
    assert_eq!(new.members(), vec![(Dest::Real(0), 0)]);
    assert_eq!(new.due(s(7)).len(), 1);
}
