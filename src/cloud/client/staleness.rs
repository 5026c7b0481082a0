//! Per-cooker staleness: an unplugged cooker sends no event at all, its pushes simply stop
//! (`anova-protocol.md` §1.5), so silence is the only signal.
//!
//! Each cooker has a deadline `last push + stale_after`. The connection loop sleeps until the
//! earliest deadline (no polling) and asks which cookers just went stale; each goes stale once
//! until its next push.

use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// When each cooker last pushed, and whether it has been reported stale since.
#[derive(Debug)]
pub(crate) struct Staleness {
    stale_after: Duration,
    cookers: HashMap<String, Freshness>,
}

#[derive(Debug, Clone, Copy)]
struct Freshness {
    last_push: Instant,
    reported_stale: bool,
}

impl Staleness {
    /// Tracks nothing yet.
    pub(crate) fn new(stale_after: Duration) -> Self {
        Self {
            stale_after,
            cookers: HashMap::new(),
        }
    }

    /// Records a push (or the moment a cooker became known, so a cooker that never pushes
    /// goes stale too).
    pub(crate) fn pushed(&mut self, cooker_id: &str, now: Instant) {
        self.cookers.insert(
            cooker_id.to_owned(),
            Freshness {
                last_push: now,
                reported_stale: false,
            },
        );
    }

    /// Stops tracking a cooker that left the registry.
    pub(crate) fn forget(&mut self, cooker_id: &str) {
        self.cookers.remove(cooker_id);
    }

    /// The earliest moment a cooker that is still fresh goes stale.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.cookers
            .values()
            .filter(|f| !f.reported_stale)
            .map(|f| f.last_push + self.stale_after)
            .min()
    }

    /// The cookers that went stale by `now`, sorted; each is reported once.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<String> {
        let mut stale: Vec<String> = self
            .cookers
            .iter_mut()
            .filter(|(_, f)| !f.reported_stale && f.last_push + self.stale_after <= now)
            .map(|(id, f)| {
                f.reported_stale = true;
                id.clone()
            })
            .collect();
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
        staleness.pushed("b", t0);
        staleness.pushed("a", t0 + Duration::from_secs(10));
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

        staleness.pushed("b", t0 + after * 3);
        assert_eq!(staleness.next_deadline(), Some(t0 + after * 4));
    }

    #[test]
    fn forgotten_cookers_never_go_stale() {
        let t0 = Instant::now();
        let mut staleness = Staleness::new(Duration::from_secs(1));
        staleness.pushed("a", t0);
        staleness.forget("a");
        assert_eq!(staleness.next_deadline(), None);
        assert!(staleness.expire(t0 + Duration::from_secs(5)).is_empty());
    }
}
