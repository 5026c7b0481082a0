//! Per-device staleness: an unplugged device sends no event at all, its pushes simply stop
//! (`docs/anova-protocol.md` §1.5), so silence is the only signal.
//!
//! Each device has a deadline `last push + its limit`. The limit is `anova.stale_after`, except
//! for a Precision Oven 2.0 while idle, which pushes only about every 10 minutes
//! (`docs/anova-oven.md` §1.12): it gets [`V2_IDLE_FACTOR`] times as long (25 minutes by default),
//! so it does not go `offline` between two pushes. The connection loop sleeps until the
//! earliest deadline (no polling) and asks which devices just went stale; each goes stale once
//! until its next push.

use crate::deadlines::Deadlines;
use crate::ids::CloudId;
use crate::wire::{DeviceType, Generation};
use std::time::Duration;
use tokio::time::Instant;

/// How many times `anova.stale_after` an idle Precision Oven 2.0 may stay silent.
pub(crate) const V2_IDLE_FACTOR: u32 = 5;

/// The silence after which a device of this type, cooking or not, is stale.
pub(crate) fn limit_for(
    stale_after: Duration,
    device_type: &DeviceType,
    cooking: bool,
) -> Duration {
    match device_type.generation() {
        Generation::OvenV2 if !cooking => stale_after * V2_IDLE_FACTOR,
        _ => stale_after,
    }
}

/// Each device's deadline until it goes stale. A device reported stale leaves the index until
/// its next push, so it is reported once; finding the next deadline costs no walk.
#[derive(Debug)]
pub(crate) struct Staleness {
    stale_after: Duration,
    devices: Deadlines<CloudId, Instant>,
}

impl Staleness {
    /// Tracks nothing yet.
    pub(crate) fn new(stale_after: Duration) -> Self {
        Self {
            stale_after,
            devices: Deadlines::default(),
        }
    }

    /// Records a push (or the moment a device became known, so a device that never pushes
    /// goes stale too), with the default limit.
    #[cfg(test)]
    pub(crate) fn pushed(&mut self, cloud_id: &CloudId, now: Instant) {
        self.pushed_within(cloud_id, now, self.stale_after);
    }

    /// Records a push of a device that must push again within `limit`.
    pub(crate) fn pushed_within(&mut self, cloud_id: &CloudId, now: Instant, limit: Duration) {
        self.devices.set(cloud_id, Some(now + limit));
    }

    /// The default limit (`anova.stale_after`).
    pub(crate) fn stale_after(&self) -> Duration {
        self.stale_after
    }

    /// Stops tracking a device that left the registry.
    pub(crate) fn forget(&mut self, cloud_id: &CloudId) {
        self.devices.set(cloud_id, None);
    }

    /// The earliest moment a device that is still fresh goes stale.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.devices.next()
    }

    /// The devices that went stale by `now`, sorted; each is reported once.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<CloudId> {
        let mut stale: Vec<CloudId> = std::iter::from_fn(|| self.devices.pop_due(now)).collect();
        stale.sort();
        stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goes_stale_once_then_fresh_on_the_next_push() {
        let t0 = Instant::now();
        let after = Duration::from_secs(300);
        let mut staleness = Staleness::new(after);
        staleness.pushed(&"b".into(), t0);
        staleness.pushed(&"a".into(), t0 + Duration::from_secs(10));
        assert_eq!(staleness.next_deadline(), Some(t0 + after));

        assert!(staleness
            .expire(t0 + after - Duration::from_millis(1))
            .is_empty());
        assert_eq!(staleness.expire(t0 + after), ["b"]);
        assert_eq!(
            staleness.next_deadline(),
            Some(t0 + Duration::from_secs(10) + after)
        );
        assert_eq!(staleness.expire(t0 + after * 2), ["a"]);
        assert!(staleness.expire(t0 + after * 3).is_empty(), "reported once");
        assert_eq!(staleness.next_deadline(), None);

        staleness.pushed(&"b".into(), t0 + after * 3);
        assert_eq!(staleness.next_deadline(), Some(t0 + after * 4));
    }

    #[test]
    fn an_idle_v2_oven_may_stay_silent_longer() {
        let after = Duration::from_secs(300);
        let v2 = DeviceType::new("oven_v2");
        assert_eq!(limit_for(after, &v2, false), Duration::from_secs(1500));
        assert_eq!(limit_for(after, &v2, true), after);
        assert_eq!(limit_for(after, &DeviceType::new("oven_v1"), false), after);
        assert_eq!(limit_for(after, &DeviceType::new("a7"), false), after);
        let t0 = Instant::now();
        let mut staleness = Staleness::new(after);
        staleness.pushed_within(&"oven".into(), t0, limit_for(after, &v2, false));
        assert!(staleness.expire(t0 + Duration::from_secs(600)).is_empty());
        assert_eq!(staleness.expire(t0 + Duration::from_secs(1500)), ["oven"]);
    }

    #[test]
    fn forgotten_cookers_never_go_stale() {
        let t0 = Instant::now();
        let mut staleness = Staleness::new(Duration::from_secs(1));
        staleness.pushed(&"a".into(), t0);
        staleness.forget(&"a".into());
        assert_eq!(staleness.next_deadline(), None);
        assert!(staleness.expire(t0 + Duration::from_secs(5)).is_empty());
    }
}
