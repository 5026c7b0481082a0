//! The temperatures of a device's current (or last) cook, for the web page's chart: bounded in
//! memory whatever the cook's length. Samples are taken at most every `interval`; when the
//! buffer is full every other sample is dropped and the interval doubles, so a cook of any
//! length fits in [`MAX_POINTS`] points of 8 bytes each: at most 1 KB per device, which
//! matters for an account of thousands.

use serde_json::{json, Value};
use std::time::Duration;
use time::OffsetDateTime;

/// The most samples kept per device.
pub(super) const MAX_POINTS: usize = 128;

/// The first sampling interval.
const FIRST_INTERVAL: Duration = Duration::from_secs(10);

/// One sample: seconds since the cook started, temperature and target in hundredths of °C
/// (±327 °C covers every cooker and oven), [`NO_TARGET`] for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Point {
    at_s: u32,
    temperature: i16,
    target: i16,
}

/// A point's target when the state had none.
const NO_TARGET: i16 = i16::MIN;

/// A cook's temperature history.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    started_at: Option<OffsetDateTime>,
    interval_s: u32,
    points: Vec<Point>,
}

fn centi(celsius: f64) -> i16 {
    // NaN casts to 0; the clamp keeps NO_TARGET for "none".
    (celsius * 100.0)
        .round()
        .clamp(f64::from(i16::MIN + 1), f64::from(i16::MAX)) as i16
}

impl History {
    /// A new cook starts: the history restarts.
    pub(crate) fn start(&mut self, at: OffsetDateTime) {
        self.started_at = Some(at);
        self.interval_s = FIRST_INTERVAL.as_secs() as u32;
        self.points.clear();
    }

    /// A reading during the cook; kept when the interval since the last kept one passed.
    pub(crate) fn record(&mut self, at: OffsetDateTime, temperature: f64, target: Option<f64>) {
        let Some(started) = self.started_at else {
            return;
        };
        let at_s = (at - started).whole_seconds().clamp(0, i64::from(u32::MAX)) as u32;
        if self
            .points
            .last()
            .is_some_and(|last| at_s < last.at_s.saturating_add(self.interval_s))
        {
            return;
        }
        if self.points.len() >= MAX_POINTS {
            let mut keep = false;
            self.points.retain(|_| {
                keep = !keep;
                keep
            });
            self.interval_s = self.interval_s.saturating_mul(2);
        }
        self.points.push(Point {
            at_s,
            temperature: centi(temperature),
            target: target.map_or(NO_TARGET, centi),
        });
    }

    /// `{"started_at", "interval_s", "points": [[seconds, temperature, target], …]}`.
    pub(crate) fn to_json(&self) -> Value {
        let points: Vec<Value> = self
            .points
            .iter()
            .map(|p| {
                json!([
                    p.at_s,
                    f64::from(p.temperature) / 100.0,
                    (p.target != NO_TARGET).then(|| f64::from(p.target) / 100.0)
                ])
            })
            .collect();
        json!({
            "started_at": self.started_at.map(super::context::rfc3339),
            "interval_s": self.interval_s,
            "points": points,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sampling_is_bounded_and_keeps_the_whole_cook() {
        let t0 = datetime!(2025-01-01 10:00:00 UTC);
        let mut h = History::default();
        h.record(t0, 20.0, None);
        assert!(h.points.is_empty(), "nothing before a cook starts");
        h.start(t0);
        for s in 0..(48 * 3600) {
            h.record(
                t0 + time::Duration::seconds(s),
                20.0 + s as f64 / 3600.0,
                Some(57.5),
            );
        }
        assert!(h.points.len() <= MAX_POINTS);
        assert!(h.points.len() > MAX_POINTS / 2);
        assert_eq!(h.points[0].at_s, 0);
        assert!(h.points.last().unwrap().at_s > 47 * 3600);
        let json = h.to_json();
        assert_eq!(json["points"][0], json!([0, 20.0, 57.5]));
        h.start(t0);
        assert!(h.points.is_empty());
        assert_eq!(std::mem::size_of::<Point>(), 8);
    }

    #[test]
    fn no_target_and_extreme_readings_survive_the_compact_points() {
        let t0 = datetime!(2025-01-01 10:00:00 UTC);
        let mut h = History::default();
        h.start(t0);
        h.record(t0, 250.0, None);
        h.record(t0 + time::Duration::seconds(60), -400.0, Some(1.0e9));
        let json = h.to_json();
        assert_eq!(json["points"][0], json!([0, 250.0, null]));
        assert_eq!(json["points"][1], json!([60, -327.67, 327.67]));
    }
}
