//! Sync groups (keepalived `vrrp_sync_group`): members move together.

use crate::config::{Config, ConfigError};
use crate::instance::{Input, Instance, Output, State};
use crate::time::Instant;

/// Several instances that move together, as keepalived's `vrrp_sync_group`:
///
/// * a member entering FAULT puts every other member in FAULT until no member has a fault of
///   its own;
/// * a member going MASTER → BACKUP takes every MASTER member to BACKUP;
/// * a member going BACKUP → MASTER takes every BACKUP member to MASTER;
/// * an expired Master_Down_Timer does not make a member MASTER on its own: it waits until every
///   member not already MASTER wants to be (keepalived's "prefer backup to avoid thrashing").
///   A member that hears its master again stops wanting.
///
/// keepalived requires the members' priorities to agree across routers (and ignores tracking
/// weights inside groups); the group does not check that.
///
/// The drain rule is the one of [`Instance`]: after every `handle_*` call, drain
/// [`poll_output`](Self::poll_output) (which says which member each output belongs to), then
/// wait for [`poll_timeout`](Self::poll_timeout).
///
/// ```
/// use vrrp_machine::{Config, Input, Instance, Instant, Interval, State, SyncGroup, Version};
///
/// let now = Instant::ZERO;
/// let member = |vrid, vip: &str| -> Result<Instance, Box<dyn std::error::Error>> {
///     let cfg = Config::new(Version::V3, vrid, 100, Interval::DEFAULT,
///         "192.0.2.1".parse()?, vec![vip.parse()?]);
///     Ok(Instance::new(cfg, now)?)
/// };
/// let mut group = SyncGroup::new(vec![member(1, "192.0.2.10")?, member(2, "192.0.2.20")?]);
/// group.handle_input(now, 0, Input::Startup);
/// group.handle_input(now, 1, Input::Startup);
/// group.handle_input(now, 1, Input::InterfaceDown);
/// while let Some((_member, _out)) = group.poll_output() {}
/// assert_eq!(group.member(0).state(), State::Fault);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SyncGroup {
    members: Vec<Instance>,
    next: usize,
}

impl SyncGroup {
    /// A group of `members` (indices are their positions).
    #[must_use]
    pub fn new(mut members: Vec<Instance>) -> Self {
        let hold = members.len() > 1;
        for m in &mut members {
            // Holding queues no output, so the instant does not matter.
            m.handle_input(Instant::ZERO, Input::GroupHold(hold));
        }
        Self { members, next: 0 }
    }

    /// The members.
    #[must_use]
    pub fn members(&self) -> &[Instance] {
        &self.members
    }

    /// One member.
    ///
    /// # Panics
    /// If `i` is out of range.
    #[must_use]
    pub fn member(&self, i: usize) -> &Instance {
        &self.members[i]
    }

    /// Feed an event to member `i` (out-of-range indices are ignored), then propagate.
    pub fn handle_input(&mut self, now: Instant, i: usize, input: Input<'_>) {
        let before = self.states();
        if let Some(m) = self.members.get_mut(i) {
            m.handle_input(now, input);
        }
        self.propagate(now, before);
    }

    /// Reconfigures member `i` in place (see [`Instance::reconfigure`]: state kept, address
    /// changes announced), then lets the group follow what that changed: a member that leaves
    /// MASTER on a lower priority takes the others along. Out-of-range indices are ignored.
    ///
    /// ```
    /// use vrrp_machine::{Config, Input, Instance, Instant, Interval, State, SyncGroup, Version};
    ///
    /// let now = Instant::ZERO;
    /// let cfg = |vrid, vip: &str| -> Result<Config, Box<dyn std::error::Error>> {
    ///     Ok(Config::new(Version::V3, vrid, 100, Interval::DEFAULT,
    ///         "192.0.2.1".parse()?, vec![vip.parse()?]))
    /// };
    /// let mut group = SyncGroup::new(vec![
    ///     Instance::new(cfg(1, "192.0.2.10")?, now)?,
    ///     Instance::new(cfg(2, "192.0.2.20")?, now)?,
    /// ]);
    /// group.handle_input(now, 0, Input::Startup);
    /// group.handle_input(now, 1, Input::Startup);
    /// group.reconfigure(now, 1, cfg(2, "192.0.2.21")?)?;
    /// while let Some((_member, _out)) = group.poll_output() {}
    /// assert_eq!(group.member(1).state(), State::Backup);
    /// assert_eq!(group.member(1).config().virtual_addresses, ["192.0.2.21".parse::<std::net::IpAddr>()?]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Instance::reconfigure`]: an invalid configuration or another identity (version,
    /// VRID, family); nothing is changed then.
    pub fn reconfigure(
        &mut self,
        now: Instant,
        i: usize,
        config: Config,
    ) -> Result<(), ConfigError> {
        let before = self.states();
        if let Some(m) = self.members.get_mut(i) {
            m.reconfigure(now, config)?;
        }
        self.propagate(now, before);
        Ok(())
    }

    /// Run every member's due timers, then propagate.
    pub fn handle_timeout(&mut self, now: Instant) {
        let before = self.states();
        for m in &mut self.members {
            m.handle_timeout(now);
        }
        self.propagate(now, before);
    }

    /// The earliest deadline of any member.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.members.iter().filter_map(Instance::poll_timeout).min()
    }

    /// The next output and the index of the member it belongs to.
    ///
    /// Members take turns, one output each: every member's outputs keep their own order
    /// (state change, advert, addresses, announcements, notify), and a group that moves
    /// together sends all its adverts before any member's slower address work begins.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<(usize, Output)> {
        let n = self.members.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if let Some(o) = self.members[i].poll_output() {
                self.next = (i + 1) % n;
                return Some((i, o));
            }
        }
        None
    }

    fn states(&self) -> Vec<State> {
        self.members.iter().map(Instance::state).collect()
    }

    fn propagate(&mut self, now: Instant, mut before: Vec<State>) {
        // Each round moves members only towards the group decision; bounded by a few rounds.
        for _ in 0..4 {
            let any_own_fault = self.members.iter().any(Instance::own_fault);
            for m in &mut self.members {
                let others_fault = any_own_fault && !m.own_fault();
                m.handle_input(now, Input::GroupFault(others_fault));
            }
            let after = self.states();
            let to_backup = before
                .iter()
                .zip(&after)
                .any(|(b, a)| *b == State::Master && *a == State::Backup);
            let to_master = before
                .iter()
                .zip(&after)
                .any(|(b, a)| *b == State::Backup && *a == State::Master);
            let all_want = self.members.iter().any(Instance::wants_master)
                && self
                    .members
                    .iter()
                    .all(|m| m.wants_master() || m.state() == State::Master);
            let target = if to_backup {
                Some(State::Backup)
            } else if to_master || all_want {
                Some(State::Master)
            } else {
                None
            };
            if let Some(t) = target {
                for m in &mut self.members {
                    m.handle_input(now, Input::GroupMove(t));
                }
            }
            let settled = self.states();
            if settled == after {
                break;
            }
            before = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Interval, Version};

    /// A v3 member config: VRID `vrid`, priority 100, one VIP.
    fn cfg(vrid: u8, vip: &str) -> Config {
        Config::new(
            Version::V3,
            vrid,
            100,
            Interval::DEFAULT,
            "192.0.2.1".parse().unwrap(),
            vec![vip.parse().unwrap()],
        )
    }

    /// Two members (VRIDs 1 and 2) started, their outputs drained, and their Master_Down_Timer
    /// expired (outputs not drained); the expiry instant.
    fn two_members_at_master_down() -> (SyncGroup, Instant) {
        let now = Instant::ZERO;
        let member = |vrid, vip| Instance::new(cfg(vrid, vip), now).unwrap();
        let mut g = SyncGroup::new(vec![member(1, "192.0.2.10"), member(2, "192.0.2.20")]);
        g.handle_input(now, 0, Input::Startup);
        g.handle_input(now, 1, Input::Startup);
        while g.poll_output().is_some() {}
        let t = g.poll_timeout().unwrap();
        g.handle_timeout(t);
        (g, t)
    }

    #[test]
    fn a_group_moving_to_master_sends_every_advert_before_any_address_work() {
        let (mut g, _) = two_members_at_master_down();
        let mut kinds = Vec::new();
        while let Some((i, o)) = g.poll_output() {
            match o {
                Output::Transmit(_) => kinds.push(format!("advert{i}")),
                Output::AddAddresses(_) => kinds.push(format!("add{i}")),
                _ => {}
            }
        }
        assert_eq!(g.member(0).state(), State::Master);
        assert_eq!(g.member(1).state(), State::Master);
        let last_advert = kinds.iter().rposition(|k| k.starts_with("advert")).unwrap();
        let first_add = kinds.iter().position(|k| k.starts_with("add")).unwrap();
        assert!(last_advert < first_add, "{kinds:?}");
        assert_eq!(kinds.iter().filter(|k| k.starts_with("add")).count(), 2);
    }

    #[test]
    fn reconfiguring_one_master_member_moves_only_its_addresses() {
        let (mut g, t) = two_members_at_master_down();
        while g.poll_output().is_some() {}
        assert_eq!(g.member(0).state(), State::Master);
        g.reconfigure(t, 1, cfg(2, "192.0.2.21")).unwrap();
        let mut outs = Vec::new();
        while let Some((i, o)) = g.poll_output() {
            outs.push((i, o));
        }
        assert_eq!(g.member(0).state(), State::Master);
        assert_eq!(g.member(1).state(), State::Master);
        assert!(outs.iter().all(|(i, _)| *i == 1), "{outs:?}");
        assert!(outs.iter().any(|(_, o)| matches!(o, Output::RemoveAddresses(a) if a[..] == ["192.0.2.20".parse::<std::net::IpAddr>().unwrap()])), "{outs:?}");
        assert!(outs.iter().any(|(_, o)| matches!(o, Output::AddAddresses(a) if a[..] == ["192.0.2.21".parse::<std::net::IpAddr>().unwrap()])), "{outs:?}");
        assert!(
            !outs
                .iter()
                .any(|(_, o)| matches!(o, Output::StateChange(_))),
            "{outs:?}"
        );
        // Another VRID is another router: refused, nothing changed.
        assert!(g.reconfigure(t, 1, cfg(3, "192.0.2.21")).is_err());
        assert_eq!(g.member(1).config().vrid, 2);
    }
}
