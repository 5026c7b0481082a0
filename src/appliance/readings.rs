//! Small rules every family's normalisation shares: wire timestamps to whole seconds, saturating
//! second counts, end times that do not wobble, and the climate entity's action words.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// How far a recomputed end time may move before we believe it changed: a countdown read at
/// `now + remaining` wobbles by a second or two from push to push.
const END_TIME_JITTER: Duration = Duration::seconds(3);

/// What the heater is doing, in Home Assistant's climate words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HvacAction {
    /// Not cooking.
    Off,
    /// Below the target window.
    Heating,
    /// Holding at the target.
    Idle,
}

/// Drops sub-second precision: every time we publish is whole seconds.
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// A receive time as we publish it: UTC, whole seconds.
pub(crate) fn utc_seconds(t: OffsetDateTime) -> OffsetDateTime {
    whole_seconds(t.to_offset(time::UtcOffset::UTC))
}

/// Parses an ISO 8601 / RFC 3339 timestamp from the wire.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok().map(utc_seconds)
}

/// A non-negative whole number of seconds, saturating.
pub(crate) fn seconds(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// Whole seconds from `from` to `to` (negative when `to` is earlier).
pub(crate) fn seconds_between(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    (to - from).whole_seconds()
}

/// The time a state describes: the device's own report time when it has one that is not
/// behind our receipt, else the receipt time. A live push's `updatedTimestamp` is the device's
/// report time, within moments of our receipt; following it keeps every derived time (remaining,
/// end, time maintaining) on the same clock as `updated_at`, including in a time-scaled
/// simulation whose clock runs faster. A report time behind our receipt (a cached state of a
/// device that stopped reporting) would make remaining times stale, so receipt wins then.
pub(crate) fn device_now(
    received: OffsetDateTime,
    reported: Option<OffsetDateTime>,
) -> OffsetDateTime {
    reported.map_or(received, |reported| reported.max(received))
}

/// Keeps a previously published end time when the new estimate only wobbled.
pub(crate) fn steady_end(new: OffsetDateTime, previous: Option<OffsetDateTime>) -> OffsetDateTime {
    match previous {
        Some(old) if (new - old).abs() <= END_TIME_JITTER => old,
        _ => new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn end_times_hold_against_jitter() {
        let t = datetime!(2025-01-01 10:00:00 UTC);
        assert_eq!(steady_end(t + Duration::seconds(2), Some(t)), t);
        assert_eq!(
            steady_end(t + Duration::seconds(9), Some(t)),
            t + Duration::seconds(9)
        );
        assert_eq!(seconds(-5), 0);
        let later = t + Duration::seconds(30);
        assert_eq!(
            device_now(t, Some(later)),
            later,
            "a clock ahead is followed"
        );
        assert_eq!(device_now(later, Some(t)), later, "a stale report is not");
        assert_eq!(device_now(t, None), t);
        assert_eq!(
            parse_timestamp("2026-04-09T22:44:29.431Z"),
            Some(datetime!(2026-04-09 22:44:29 UTC))
        );
    }
}
