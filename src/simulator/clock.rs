//! Time scaling. Each device keeps its own simulated clock (seconds since the simulator
//! started, advanced by `real elapsed × speed`). Every instant it remembers (cook start, stage
//! start, timer start) is a simulated instant, and is reported as
//! `wall_now − (simulated_now − simulated_instant)`: clients compute a timer's remaining time
//! as `initial − (now − startedAtTimestamp)` with their real clock, so this projection makes
//! them see the scaled countdown; at speed 1 it is the plain truth.

use time::{Duration, OffsetDateTime};

/// How long a device that starts unplugged has been away: the real a7 seen offline at connect
/// reported an `updatedTimestamp` about 18 hours old \[LIVE].
pub(crate) const OFFLINE_AT_START: Duration = Duration::hours(18);

/// The wall time of simulated instant `at_s`, given that simulated second `clock_s` is the
/// wall time `now`; `now` itself when the result would be out of the calendar's range.
pub(crate) fn project(now: OffsetDateTime, clock_s: f64, at_s: f64) -> OffsetDateTime {
    Duration::checked_seconds_f64((clock_s - at_s).max(0.0))
        .and_then(|ago| now.checked_sub(ago))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn projection_saturates() {
        let now = datetime!(2025-03-01 12:00:00 UTC);
        assert_eq!(project(now, 100.0, 40.0), now - Duration::seconds(60));
        assert_eq!(project(now, 1.0, 5.0), now, "future instants are now");
        assert_eq!(project(now, 1.0e30, 0.0), now, "out of range");
    }
}
