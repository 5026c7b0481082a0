//! Time scaling. Each device keeps its own simulated clock (seconds since the simulator
//! started, advanced by `real elapsed × speed`), and reports every time on the simulated
//! world's wall clock: `epoch + simulated seconds`, where `epoch` is the real time the simulator
//! started. At speed 1 that is the real time; at speed N the world's clock runs N times faster,
//! so every reported time agrees with every reported duration: a timer started at
//! `startedAtTimestamp` with `initial` seconds ends at `startedAtTimestamp + initial` on the
//! same clock as `updatedTimestamp`, and end times never move from push to push. Clients that
//! compute remaining times from the device's `updatedTimestamp` (as a real device's clock)
//! see the scaled countdown.

use time::{Duration, OffsetDateTime};

/// How long a device that starts unplugged has been away: the real a7 seen offline at connect
/// reported an `updatedTimestamp` about 18 hours old \[LIVE].
pub(crate) const OFFLINE_AT_START: Duration = Duration::hours(18);

/// The simulated world's wall clock at simulated second `clock_s`; `epoch` when out of range.
pub(crate) fn world_now(epoch: OffsetDateTime, clock_s: f64) -> OffsetDateTime {
    Duration::checked_seconds_f64(clock_s.max(0.0))
        .and_then(|since| epoch.checked_add(since))
        .unwrap_or(epoch)
}

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
