//! The load generator's clock and waveform: N cookers, each pushing once per push interval,
//! the pushes spread evenly over the interval, each push's water temperature 0.2 °C away from
//! the same cooker's previous one. Pure: no clock reads, no I/O.
//!
//! The schedule is one global sequence: push `s` belongs to cooker `s mod N` and is due at
//! `start + s × interval / N`. Finding what is due is O(1) per push whatever N is: no timer per
//! cooker, no walk over the fleet.

use std::time::Duration;
use tokio::time::Instant;

/// The cook every load cooker runs, °C.
pub(crate) const LOAD_SETPOINT_C: f64 = 55.0;

/// Water temperature steps, °C: twice the product's 0.1 °C resolution, so every push of a
/// cooker shows a new value whatever the rounding.
const STEP_C: f64 = 0.2;

/// Steps from the bottom of the triangle wave to its top.
const HALF_PERIOD: u64 = 25;

/// The water temperature of cooker `cooker` at its `push`-th push: a triangle wave between
/// 52.5 and 57.5 °C in 0.2 °C steps, shifted by the cooker's index so the fleet is not in
/// lockstep. Successive pushes of one cooker differ by exactly 0.2 °C.
pub(crate) fn water_temperature_c(cooker: usize, push: u64) -> f64 {
    let position = (cooker as u64).wrapping_add(push) % (2 * HALF_PERIOD);
    let steps = if position <= HALF_PERIOD {
        position
    } else {
        2 * HALF_PERIOD - position
    };
    // At most 25 steps: exact in f64.
    let value = LOAD_SETPOINT_C - STEP_C * HALF_PERIOD as f64 / 2.0 + STEP_C * steps as f64;
    (value * 100.0).round() / 100.0
}

/// One due push: which cooker, and how many pushes it made before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DuePush {
    pub(crate) cooker: usize,
    pub(crate) push: u64,
}

/// When each push of the fleet is due.
#[derive(Debug, Clone)]
pub(crate) struct LoadSchedule {
    start: Instant,
    interval: Duration,
    cookers: u64,
    /// The next push of the global sequence.
    next: u64,
    /// Pushes skipped because the fleet fell more than one interval behind.
    skipped: u64,
}

impl LoadSchedule {
    /// `cookers` cookers (at least one), each pushing every `interval` (positive), from `start`.
    pub(crate) fn new(start: Instant, interval: Duration, cookers: usize) -> Self {
        Self {
            start,
            interval: interval.max(Duration::from_nanos(1)),
            cookers: (cookers as u64).max(1),
            next: 0,
            skipped: 0,
        }
    }

    /// When push `sequence` of the global sequence is due.
    fn due(&self, sequence: u64) -> Instant {
        let nanos = self.interval.as_nanos() * u128::from(sequence) / u128::from(self.cookers);
        // Beyond u64 nanoseconds (585 years) the run has long ended.
        self.start + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// When the next push is due.
    pub(crate) fn next_due(&self) -> Instant {
        self.due(self.next)
    }

    /// The next push if it is due at `now` (it stays next until [`Self::advance`]). When the
    /// fleet has fallen more than one whole interval behind (the reader cannot keep up), the
    /// missed pushes are skipped rather than sent in a burst.
    pub(crate) fn peek(&mut self, now: Instant) -> Option<DuePush> {
        let elapsed = now.saturating_duration_since(self.start).as_nanos();
        let due_now = elapsed * u128::from(self.cookers) / self.interval.as_nanos();
        let due_now = u64::try_from(due_now).unwrap_or(u64::MAX);
        let oldest_kept = due_now.saturating_sub(self.cookers);
        if self.next < oldest_kept {
            self.skipped += oldest_kept - self.next;
            self.next = oldest_kept;
        }
        (self.due(self.next) <= now).then(|| DuePush {
            cooker: (self.next % self.cookers) as usize,
            push: self.next / self.cookers,
        })
    }

    /// The push returned by [`Self::peek`] was sent.
    pub(crate) fn advance(&mut self) {
        self.next += 1;
    }

    /// Pushes sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.next - self.skipped
    }

    /// Pushes skipped so far.
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_push_moves_the_water_by_two_tenths() {
        for cooker in [0, 1, 7, 49, 50, 9_999] {
            let mut previous = water_temperature_c(cooker, 0);
            for push in 1..500 {
                let now = water_temperature_c(cooker, push);
                assert!(
                    ((now - previous).abs() - 0.2).abs() < 1e-9,
                    "{cooker}/{push}: {previous} → {now}"
                );
                assert!((52.5..=57.5).contains(&now));
                assert_eq!(now, (now * 10.0).round() / 10.0, "on the 0.1 grid");
                previous = now;
            }
        }
        assert_ne!(water_temperature_c(0, 0), water_temperature_c(1, 0));
    }

    #[test]
    fn pushes_are_spread_evenly_over_the_interval() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut schedule = LoadSchedule::new(start, second, 4);
        let mut seen = Vec::new();
        for ms in (0..2000).step_by(50) {
            let now = start + Duration::from_millis(ms);
            while let Some(push) = schedule.peek(now) {
                seen.push((ms, push.cooker, push.push));
                schedule.advance();
            }
        }
        assert_eq!(
            seen,
            [
                (0, 0, 0),
                (250, 1, 0),
                (500, 2, 0),
                (750, 3, 0),
                (1000, 0, 1),
                (1250, 1, 1),
                (1500, 2, 1),
                (1750, 3, 1)
            ]
        );
        assert_eq!(schedule.sent(), 8);
        assert_eq!(schedule.next_due(), start + Duration::from_secs(2));
    }

    #[test]
    fn a_fleet_that_falls_behind_skips_instead_of_bursting() {
        let start = Instant::now();
        let mut schedule = LoadSchedule::new(start, Duration::from_secs(1), 10);
        // Nothing sent for ten seconds: only the last interval's pushes are still owed.
        let now = start + Duration::from_secs(10);
        let mut burst = 0;
        while schedule.peek(now).is_some() {
            schedule.advance();
            burst += 1;
        }
        assert_eq!(
            burst, 11,
            "one interval's worth, plus the one due right now"
        );
        assert_eq!(schedule.skipped(), 90);
        assert_eq!(schedule.sent(), 11);
    }

    #[test]
    fn ten_thousand_cookers_cost_nothing_to_schedule() {
        let start = Instant::now();
        let mut schedule = LoadSchedule::new(start, Duration::from_secs(1), 10_000);
        let now = start + Duration::from_millis(1);
        let mut due = 0;
        while schedule.peek(now).is_some() {
            schedule.advance();
            due += 1;
        }
        assert_eq!(due, 11, "pushes 0..=10 are due after 1 ms");
    }
}
