//! A plan's times as instants: `HH:MM` is the next such wall-clock time in
//! `schedule.timezone`, resolved with the IANA rules the time zone carries (jiff's
//! `TimeZone`, built by the driver at start from the system's database or the bundled one;
//! nothing here reads a file or a clock).
//!
//! Daylight saving: a time that does not exist that day (02:30 when clocks spring from 02:00
//! to 03:00) is the moment just after the gap (03:30 local, the same instant as 02:30 in the
//! old offset); a time that happens twice (02:30 when clocks fall back) is the first one. This
//! is RFC 5545's and Temporal's "compatible" choice.

use crate::command::When;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use time::OffsetDateTime;

/// `when` as an instant, the next one after `now` for a time of day.
pub(crate) fn resolve(when: When, now: OffsetDateTime, tz: &TimeZone) -> Option<OffsetDateTime> {
    match when {
        When::At(at) => Some(at),
        When::Local { hour, minute } => {
            let now_ts = to_timestamp(now)?;
            let today = tz.to_datetime(now_ts).date();
            let at = |date: jiff::civil::Date| -> Option<Timestamp> {
                let local: DateTime = date.at(hour as i8, minute as i8, 0, 0);
                tz.to_ambiguous_timestamp(local).compatible().ok()
            };
            let mut candidate = at(today)?;
            if candidate <= now_ts {
                candidate = at(today.tomorrow().ok()?)?;
            }
            from_timestamp(candidate)
        }
    }
}

fn to_timestamp(t: OffsetDateTime) -> Option<Timestamp> {
    Timestamp::from_second(t.unix_timestamp()).ok()
}

fn from_timestamp(t: Timestamp) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.as_second()).ok()
}

/// The local time of `t` in `tz`, `HH:MM` with the zone's abbreviation, for messages.
pub(crate) fn local(t: OffsetDateTime, tz: &TimeZone) -> String {
    match to_timestamp(t) {
        Some(ts) => {
            let dt = tz.to_datetime(ts);
            format!("{:02}:{:02}", dt.hour(), dt.minute())
        }
        None => String::from("?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn berlin() -> TimeZone {
        jiff::tz::TimeZoneDatabase::bundled()
            .get("Europe/Berlin")
            .expect("the bundled database has Europe/Berlin")
    }

    fn at(hour: u8, minute: u8, now: OffsetDateTime, tz: &TimeZone) -> OffsetDateTime {
        resolve(When::Local { hour, minute }, now, tz).expect("resolves")
    }

    #[test]
    fn a_time_of_day_is_the_next_one_in_the_zone() {
        let tz = berlin();
        // 10:00 UTC is 11:00 in Berlin in winter: 18:00 today is 17:00 UTC.
        let now = datetime!(2026-01-15 10:00 UTC);
        assert_eq!(at(18, 0, now, &tz), datetime!(2026-01-15 17:00 UTC));
        // 07:30 has passed today: tomorrow's.
        assert_eq!(at(7, 30, now, &tz), datetime!(2026-01-16 06:30 UTC));
        // Summer time: UTC+2.
        let summer = datetime!(2026-07-01 10:00 UTC);
        assert_eq!(at(18, 0, summer, &tz), datetime!(2026-07-01 16:00 UTC));
        // An instant with an offset is itself.
        let given = datetime!(2026-07-01 18:00 +02:00);
        assert_eq!(resolve(When::At(given), summer, &tz), Some(given));
    }

    #[test]
    fn across_a_daylight_saving_change() {
        let tz = berlin();
        // The evening before clocks spring forward (29 March 2026, 02:00 → 03:00): 18:00 on
        // the day of the change is 16:00 UTC, not 17:00.
        let eve = datetime!(2026-03-28 20:00 UTC);
        assert_eq!(at(18, 0, eve, &tz), datetime!(2026-03-29 16:00 UTC));
        // 02:30 does not exist that night: the moment after the gap, 03:30 CEST.
        assert_eq!(at(2, 30, eve, &tz), datetime!(2026-03-29 01:30 UTC));
        // Clocks fall back on 25 October 2026 (03:00 → 02:00): 02:30 happens twice, the
        // first (CEST, UTC+2) is taken; 18:00 that day is 17:00 UTC.
        let eve = datetime!(2026-10-24 20:00 UTC);
        assert_eq!(at(2, 30, eve, &tz), datetime!(2026-10-25 00:30 UTC));
        assert_eq!(at(18, 0, eve, &tz), datetime!(2026-10-25 17:00 UTC));
        assert_eq!(local(datetime!(2026-10-25 17:00 UTC), &tz), "18:00");
    }

    #[test]
    fn other_zones() {
        let db = jiff::tz::TimeZoneDatabase::bundled();
        let ny = db.get("America/New_York").unwrap();
        // 9 March 2025 02:00 → 03:00 in New York.
        let eve = datetime!(2025-03-08 23:00 UTC);
        assert_eq!(at(7, 0, eve, &ny), datetime!(2025-03-09 11:00 UTC));
        let utc = TimeZone::UTC;
        assert_eq!(
            at(0, 0, datetime!(2025-03-08 23:59 UTC), &utc),
            datetime!(2025-03-09 00:00 UTC)
        );
    }
}
