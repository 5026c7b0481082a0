//! The bridge's own timers, one table keyed by an enum (the way quinn-proto keeps a
//! connection's timers): [`Bridge::poll_timeout`](super::Bridge::poll_timeout) and the bridge's
//! `run_due` iterate the table, so a new timer is one variant of [`Timer`] and one arm where
//! it fires.
//!
//! A device's deadlines (its commands, its state refresh) are not here: there is one per
//! device, and they live in the ordered index of `crate::deadlines`, so that finding what is
//! due never walks every device.

use std::time::Instant;

/// A timer of the bridge itself (not of one device).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Home Assistant said `online`: republish everything at the deadline
    /// ([`HA_REPUBLISH_DELAY`](super::HA_REPUBLISH_DELAY)).
    Republish = 0,
    /// A `refresh` reconnects the cloud link: until the deadline availability holds
    /// ([`REFRESH_GRACE`](super::REFRESH_GRACE)).
    RefreshGrace = 1,
    /// `bridge/devices` changed and is rebuilt at the deadline
    /// ([`DEVICES_INTERVAL`](super::DEVICES_INTERVAL) after the last rebuild).
    DevicesList = 2,
}

impl Timer {
    /// Every timer, in the order expired ones fire within one step. Each variant's
    /// discriminant is its place here (checked at compile time below).
    pub(crate) const VALUES: [Self; 3] = [Self::Republish, Self::RefreshGrace, Self::DevicesList];
}

// A variant missing from `VALUES`, or listed out of place, fails the build here.
const _: () = {
    let mut i = 0;
    while i < Timer::VALUES.len() {
        assert!(Timer::VALUES[i] as usize == i);
        i += 1;
    }
};

/// When each [`Timer`] fires, if it is armed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TimerTable {
    at: [Option<Instant>; Timer::VALUES.len()],
}

impl TimerTable {
    /// Arms `timer` for `at` (re-arming replaces the earlier deadline).
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.at[timer as usize] = Some(at);
    }

    /// Disarms `timer`.
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.at[timer as usize] = None;
    }

    /// True while `timer` is armed.
    pub(crate) fn is_set(&self, timer: Timer) -> bool {
        self.at[timer as usize].is_some()
    }

    /// The earliest armed deadline.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Disarms `timer` and returns true when it was armed for `now` or earlier.
    pub(crate) fn take_expired(&mut self, timer: Timer, now: Instant) -> bool {
        let slot = &mut self.at[timer as usize];
        if slot.is_some_and(|at| at <= now) {
            *slot = None;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_earliest_armed_timer_is_the_timeout_and_expired_ones_are_taken_once() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut table = TimerTable::default();
        assert_eq!(table.next_timeout(), None);
        table.set(Timer::DevicesList, t0 + s(3));
        table.set(Timer::Republish, t0 + s(1));
        table.set(Timer::RefreshGrace, t0 + s(2));
        table.set(Timer::RefreshGrace, t0 + s(5));
        assert_eq!(table.next_timeout(), Some(t0 + s(1)));
        assert!(!table.take_expired(Timer::DevicesList, t0 + s(2)));
        assert!(table.take_expired(Timer::Republish, t0 + s(2)));
        assert!(!table.take_expired(Timer::Republish, t0 + s(2)));
        assert!(!table.is_set(Timer::Republish));
        assert_eq!(table.next_timeout(), Some(t0 + s(3)));
        table.stop(Timer::DevicesList);
        assert!(table.is_set(Timer::RefreshGrace));
        assert_eq!(table.next_timeout(), Some(t0 + s(5)));
    }
}
