//! Food safety of a plan (`docs/interface.md` §8.3), in one place for MQTT, HTTP and MCP: every
//! door's plan command reaches the core, and only this file decides whether food may wait.
//!
//! The numbers and where they come from:
//! - **4.4 °C (40 °F)**: the bottom of the USDA's "Danger Zone", 40 °F–140 °F, in which
//!   bacteria grow most rapidly (USDA Food Safety and Inspection Service, fact sheet "Danger
//!   Zone (40 °F – 140 °F)", fsis.usda.gov). Water at or below it keeps food cold.
//! - **2 hours**: the same fact sheet's rule, "never leave food out of refrigeration over 2
//!   hours". Time the water spends above 4.4 °C while the plan waits counts against it,
//!   together with the time the cooker then needs to heat the water to 54.4 °C.
//! - **54.4 °C (130 °F)**: the lowest temperature of the FDA Food Code's cooking table for
//!   whole roasts (FDA Food Code 2022, §3-401.11(B)(2): 54.4 °C / 130 °F for 112 minutes),
//!   and the temperature Douglas Baldwin gives as the floor of sous vide cooking because
//!   *Clostridium perfringens* grows up to 52.3 °C / 126.1 °F (A Practical Guide to Sous Vide
//!   Cooking, "Food Safety"). A delayed cook of perishable food must be at least this hot, and
//!   reaching it ends the food's time in the danger zone.
//! - Ovens: the bridge cannot see the food's temperature while an oven waits, so a perishable
//!   oven plan may not wait more than the 2 hours at all.

use crate::command::{json_number, show_duration, trim, CommandError, ErrorCode, Food};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Water at or below this keeps food cold, °C (USDA FSIS: 40 °F).
pub(crate) const COLD_C: f64 = 4.4;

/// The longest food may spend above [`COLD_C`] before it cooks, seconds (USDA FSIS: 2 hours).
pub(crate) const BUDGET_S: i64 = 2 * 3600;

/// The lowest target of a delayed cook of perishable food, °C (FDA Food Code 3-401.11,
/// Baldwin: 130 °F).
pub(crate) const COOK_MIN_C: f64 = 54.4;

/// Food that must be kept cold while it waits: everything but vegetables.
pub(crate) fn perishable(food: Option<Food>) -> bool {
    food.is_some_and(|f| f != Food::Vegetables)
}

/// Seconds to heat from `from_c` to `to_c` at `rate` °C per minute (0 when already there).
pub(crate) fn come_up_s(from_c: f64, to_c: f64, rate: f64) -> i64 {
    if to_c <= from_c || rate <= 0.0 {
        return 0;
    }
    ((to_c - from_c) * 60.0 / rate).ceil() as i64
}

/// Seconds to heat water at `water_c` to [`COOK_MIN_C`]. Unknown water (not reported yet,
/// or just after a restart) heats from [`COLD_C`]: the longest come-up that food spends in
/// the danger zone, while the watch counts the unknown time as warm. (A warm kitchen's 25 °C
/// would shorten it: water at 10 °C that nobody saw needs a quarter of an hour more.)
pub(crate) fn come_up_to_safe_s(water_c: Option<f64>, rate: f64) -> i64 {
    come_up_s(water_c.unwrap_or(COLD_C), COOK_MIN_C, rate)
}

fn unsafe_error(message: String, safe: Map<String, Value>) -> CommandError {
    CommandError {
        code: ErrorCode::Unsafe,
        message,
        safe: (!safe.is_empty()).then(|| Box::new(safe)),
    }
}

/// A cooker plan's food is named (`none` is an answer).
pub(crate) fn food_named(named: bool) -> Result<(), CommandError> {
    if named {
        return Ok(());
    }
    let mut safe = Map::new();
    safe.insert("food".into(), Value::from("none"));
    Err(unsafe_error(
        "a delayed sous-vide cook needs `food`: the bridge keeps perishable food safe while it \
         waits only when it knows there is some. Name it (poultry, beef, fish, …) and put it in \
         an ice bath, or give food: \"none\" for water only"
            .to_owned(),
        safe,
    ))
}

/// The target of a delayed cook of perishable food.
pub(crate) fn target(food: Food, target_c: f64) -> Result<(), CommandError> {
    if target_c + 1e-9 >= COOK_MIN_C {
        return Ok(());
    }
    let mut safe = Map::new();
    safe.insert("target_temperature".into(), json_number(COOK_MIN_C));
    Err(unsafe_error(
        format!(
            "a delayed cook of {} must be at least {} °C (it is {} °C): below it the food \
             would not leave the danger zone. Cook at {} °C or more, or start now",
            food.as_str().replace('_', " "),
            trim(COOK_MIN_C),
            trim(target_c),
            trim(COOK_MIN_C)
        ),
        safe,
    ))
}

/// A cooker plan made while the water is at `water_c`, to start in `wait_s`, heating at
/// `rate`: the budget allows it, or `unsafe` saying what would be safe (`latest`: the latest
/// start the budget allows at this water temperature, as text for the message and RFC 3339
/// for `safe`).
pub(crate) fn cooker_wait(
    water_c: Option<f64>,
    wait_s: i64,
    rate: f64,
    latest: impl Fn(i64) -> (String, Value),
) -> Result<(), CommandError> {
    let come_up = come_up_to_safe_s(water_c, rate);
    let warm = water_c.is_none_or(|w| w > COLD_C);
    let needed = come_up + if warm { wait_s } else { 0 };
    if needed <= BUDGET_S {
        return Ok(());
    }
    let water = water_c.map_or("not reported yet".to_owned(), |w| format!("{} °C", trim(w)));
    let mut safe = Map::new();
    let allowed = BUDGET_S - come_up;
    let mut message = if warm {
        format!(
            "the water is {water}, above {} °C: food in it may spend at most 2 h in the danger \
             zone (USDA), and heating it to {} °C takes about {}, so the cook must start within \
             {}, but the plan starts in {}. Cool the water to ice temperature (below {} °C, \
             ice and water) first",
            trim(COLD_C),
            trim(COOK_MIN_C),
            show_duration(come_up.max(0) as u64),
            show_duration(allowed.max(0) as u64),
            show_duration(wait_s.max(0) as u64),
            trim(COLD_C),
        )
    } else {
        format!(
            "heating the water from {water} to {} °C takes about {}, longer than the 2 h food \
             may spend in the danger zone; use a smaller water bath or a hotter start",
            trim(COOK_MIN_C),
            show_duration(come_up.max(0) as u64)
        )
    };
    if warm && allowed > 0 {
        let (text, rfc) = latest(allowed);
        message.push_str(&format!(", or start by {text}"));
        safe.insert("start_at".into(), rfc);
    }
    Err(unsafe_error(message, safe))
}

/// A perishable oven plan may wait at most the whole budget.
pub(crate) fn oven_wait(
    food: Food,
    wait_s: i64,
    latest: impl Fn(i64) -> (String, Value),
) -> Result<(), CommandError> {
    if wait_s <= BUDGET_S {
        return Ok(());
    }
    let (text, rfc) = latest(BUDGET_S);
    let mut safe = Map::new();
    safe.insert("start_at".into(), rfc);
    Err(unsafe_error(
        format!(
            "{} may wait in an oven at most 2 h before it cooks (USDA: never more than 2 hours \
             out of refrigeration; the oven cannot keep food cold), but the plan starts in {}; \
             start by {text}, or keep the food in the refrigerator and plan later",
            food.as_str().replace('_', " "),
            show_duration(wait_s.max(0) as u64)
        ),
        safe,
    ))
}

/// The water's time above [`COLD_C`] while a cooker plan waits, from the cooker's readings.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Watch {
    /// Seconds above [`COLD_C`] so far (up to `last_at`).
    pub(crate) exposure_s: f64,
    /// The last reading: when, and the water temperature.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) last_at: Option<OffsetDateTime>,
    /// The water temperature then, °C.
    pub(crate) last_c: Option<f64>,
}

impl Watch {
    /// A watch that starts at `now` with the water at `water_c`.
    pub(crate) fn new(now: OffsetDateTime, water_c: Option<f64>) -> Self {
        Self {
            exposure_s: 0.0,
            last_at: Some(now),
            last_c: water_c,
        }
    }

    /// The time since the last reading counts when either end was warm: an unknown
    /// temperature is warm.
    fn warm(&self) -> bool {
        self.last_c.is_none_or(|c| c > COLD_C)
    }

    /// A reading of the water.
    pub(crate) fn reading(&mut self, at: OffsetDateTime, water_c: Option<f64>) {
        let now_warm = water_c.is_none_or(|c| c > COLD_C);
        if let Some(last) = self.last_at {
            let span = (at - last).as_seconds_f64().max(0.0);
            if self.warm() || now_warm {
                self.exposure_s += span;
            }
        }
        self.last_at = Some(at);
        self.last_c = water_c;
    }

    /// Seconds above [`COLD_C`] up to `now`, the time since the last reading counted when the
    /// water was warm then (or `unknown`: the cooker stopped reporting).
    pub(crate) fn exposure_at(&self, now: OffsetDateTime, unknown: bool) -> f64 {
        let since = self
            .last_at
            .map_or(0.0, |t| (now - t).as_seconds_f64().max(0.0));
        self.exposure_s + if unknown || self.warm() { since } else { 0.0 }
    }

    /// The daemon starts again at `now`: the time it was away counts as warm (nobody watched
    /// the water), and the water is unknown until the cooker reports.
    pub(crate) fn resume(&mut self, now: OffsetDateTime) {
        self.reading(now, None);
    }

    /// The water is above [`COLD_C`] now, as far as the last reading says.
    pub(crate) fn is_warm(&self) -> bool {
        self.warm()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn never(_: i64) -> (String, Value) {
        ("never".into(), Value::Null)
    }

    #[test]
    fn unknown_water_takes_the_longest_come_up_in_the_danger_zone() {
        let unknown = come_up_to_safe_s(None, 1.0);
        assert_eq!(unknown, 50 * 60, "4.4 -> 54.4 °C at 1 °C/min");
        for water in [4.4, 10.0, 20.0, 25.0, 40.0] {
            assert!(come_up_to_safe_s(Some(water), 1.0) <= unknown, "{water} °C");
        }
    }

    #[test]
    fn the_rules_and_what_they_say() {
        assert!(perishable(Some(Food::Poultry)) && !perishable(Some(Food::Vegetables)));
        assert!(!perishable(None));
        assert_eq!(come_up_s(4.0, 54.4, 1.0), 3024);
        assert_eq!(come_up_s(60.0, 54.4, 1.0), 0);
        let err = food_named(false).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsafe);
        assert!(err.message.contains("food: \"none\""), "{err}");
        assert!(target(Food::Beef, 54.4).is_ok());
        let err = target(Food::Beef, 52.0).unwrap_err();
        assert_eq!(err.safe.unwrap()["target_temperature"], 54.4);
        // An ice bath may wait any time; heating from 2 °C at 1 °C/min takes 53 min.
        assert!(cooker_wait(Some(2.0), 10 * 3600, 1.0, never).is_ok());
        // Warm water: 20 °C needs 34.4 min to heat, so at most 85.6 min of waiting.
        assert!(cooker_wait(Some(20.0), 85 * 60, 1.0, never).is_ok());
        let err = cooker_wait(Some(20.0), 90 * 60, 1.0, |s| {
            (format!("in {s}"), Value::from(s))
        })
        .unwrap_err();
        assert!(err.message.contains("ice temperature"), "{err}");
        assert!(err.message.contains("start by in 5136"), "{err}");
        assert_eq!(err.safe.unwrap()["start_at"], 5136);
        // Heating alone longer than the budget (a very slow cooker).
        let err = cooker_wait(Some(1.0), 60, 0.2, never).unwrap_err();
        assert!(err.message.contains("takes about 4 h 27 min"), "{err}");
        assert!(oven_wait(Food::Poultry, 7200, never).is_ok());
        assert!(oven_wait(Food::Poultry, 7201, never).is_err());
    }

    #[test]
    fn the_watch_counts_time_above_the_cold_line() {
        let t0 = datetime!(2026-01-01 08:00 UTC);
        let min = time::Duration::minutes;
        let mut watch = Watch::new(t0, Some(1.0));
        watch.reading(t0 + min(30), Some(3.0));
        assert_eq!(watch.exposure_s, 0.0);
        // Warming past 4.4 °C: the span that ends warm counts.
        watch.reading(t0 + min(40), Some(5.0));
        assert_eq!(watch.exposure_s, 600.0);
        assert_eq!(watch.exposure_at(t0 + min(50), false), 1200.0);
        watch.reading(t0 + min(50), Some(4.0));
        assert_eq!(watch.exposure_s, 1200.0);
        // Cold again: nothing accrues; silence counts as warm.
        assert_eq!(watch.exposure_at(t0 + min(60), false), 1200.0);
        assert_eq!(watch.exposure_at(t0 + min(60), true), 1800.0);
    }
}
