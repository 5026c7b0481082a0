//! Range and food-safety checks, run before anything is sent (`interface.md` §3.2).
//!
//! Out-of-range values are rejected, never clamped: a cook at a silently different temperature
//! is worse than an error the user sees.

use super::command::{json_number, CommandError, ErrorCode, Food, Temperature};
use crate::anova::model::ModelLimits;
use serde_json::{Map, Value};

/// Below this temperature bacteria are not killed; food may not be held there for long.
pub const DANGER_ZONE_CEILING_C: f64 = 54.4;

/// The longest time food may spend below [`DANGER_ZONE_CEILING_C`].
pub const DANGER_ZONE_MAX_S: u32 = 4 * 3600;

/// The lowest target at which each food is considered safely cooked. Poultry and ground meat
/// follow the pasteurisation guidance quoted in `anova-protocol.md` §5; whole cuts of beef and
/// lamb are commonly served rare at 52 °C; eggs need 57 °C to pasteurise in the shell; fish is
/// often served barely cooked, but not below 50 °C; vegetables get the danger-zone ceiling.
pub fn safe_minimum_c(food: Food) -> f64 {
    match food {
        Food::Poultry => 57.0,
        Food::GroundMeat => 60.0,
        Food::Pork => 57.0,
        Food::Beef | Food::Lamb => 52.0,
        Food::Fish => 50.0,
        Food::Eggs => 57.0,
        Food::Vegetables => DANGER_ZONE_CEILING_C,
    }
}

/// The effective limits for one cooker: its model's, lowered by `safety.max_temperature_c`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The model's own limits.
    pub model: ModelLimits,
    /// The household ceiling, when configured.
    pub ceiling_c: Option<f64>,
}

impl Limits {
    /// The highest target accepted.
    pub fn max_temperature_c(&self) -> f64 {
        match self.ceiling_c {
            Some(c) => c.min(self.model.max_temperature_c),
            None => self.model.max_temperature_c,
        }
    }
}

/// Formats a temperature for messages: `57.5 °C`, or `135 °F (57.22 °C)`.
fn show(t: Temperature) -> String {
    let given = format!("{} °{}", trim(t.value), t.unit);
    match t.unit {
        crate::anova::protocol::TemperatureUnit::C => given,
        crate::anova::protocol::TemperatureUnit::F => format!("{given} ({} °C)", trim(t.celsius())),
    }
}

/// A number without a useless fraction: 92 rather than 92.0, 57.22 rather than 57.2222.
fn trim(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}

/// Formats seconds as `4 h`, `1 h 30 min`, `45 min`, `90 s`.
pub fn show_duration(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, 0) => format!("{h} h"),
        (h, m, 0) => format!("{h} h {m} min"),
        (h, m, s) => format!("{h} h {m} min {s} s"),
    }
}

/// Checks a target temperature against the cooker's range and the configured ceiling.
pub fn check_target(target: Temperature, limits: &Limits) -> Result<(), CommandError> {
    let celsius = target.celsius();
    let min = limits.model.min_temperature_c;
    if celsius < min - 1e-9 {
        return Err(CommandError::new(
            ErrorCode::OutOfRange,
            format!(
                "target_temperature {} is below this cooker's minimum of {} °C",
                show(target),
                trim(min)
            ),
        ));
    }
    let model_max = limits.model.max_temperature_c;
    if celsius > model_max + 1e-9 {
        return Err(CommandError::new(
            ErrorCode::OutOfRange,
            format!(
                "target_temperature {} is above this cooker's maximum of {} °C",
                show(target),
                trim(model_max)
            ),
        ));
    }
    if let Some(ceiling) = limits.ceiling_c {
        if celsius > ceiling + 1e-9 {
            return Err(CommandError::new(
                ErrorCode::OutOfRange,
                format!(
                    "target_temperature {} is above the configured safety.max_temperature_c of {} °C",
                    show(target),
                    trim(ceiling)
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a timer (seconds) against the model's maximum.
pub fn check_timer(timer: u32, limits: &Limits) -> Result<(), CommandError> {
    if timer > limits.model.max_timer_s {
        return Err(CommandError::new(
            ErrorCode::OutOfRange,
            format!(
                "timer {} is above the maximum of {}",
                show_duration(timer),
                show_duration(limits.model.max_timer_s)
            ),
        ));
    }
    Ok(())
}

fn unsafe_error(message: String, safe: &[(&str, Value)]) -> CommandError {
    let safe: Map<String, Value> = safe
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    CommandError {
        code: ErrorCode::Unsafe,
        message,
        safe: Some(Box::new(safe)),
    }
}

/// The food-safety rules for a cook at `target` with `timer` seconds (0 = no timer, which holds
/// the food indefinitely), when the command names a food.
pub fn check_food_safety(food: Food, target: Temperature, timer: u32) -> Result<(), CommandError> {
    let celsius = target.celsius();
    let minimum = safe_minimum_c(food);
    if celsius < minimum - 1e-9 {
        return Err(unsafe_error(
            format!(
                "target_temperature {} is below the safe minimum of {} °C for {}",
                show(target),
                trim(minimum),
                food.as_str().replace('_', " ")
            ),
            &[("target_temperature", json_number(minimum))],
        ));
    }
    if celsius < DANGER_ZONE_CEILING_C {
        if timer == 0 {
            return Err(unsafe_error(
                format!(
                    "a cook at {} without a timer would hold food below {} °C indefinitely; set a timer of at most {} or a target of at least {} °C",
                    show(target),
                    trim(DANGER_ZONE_CEILING_C),
                    show_duration(DANGER_ZONE_MAX_S),
                    trim(DANGER_ZONE_CEILING_C)
                ),
                &[
                    ("timer", Value::from(DANGER_ZONE_MAX_S)),
                    ("target_temperature", json_number(DANGER_ZONE_CEILING_C)),
                ],
            ));
        }
        if timer > DANGER_ZONE_MAX_S {
            return Err(unsafe_error(
                format!(
                    "a cook at {} for {} would hold food below {} °C for more than {}; shorten the timer to {} or raise the target to {} °C",
                    show(target),
                    show_duration(timer),
                    trim(DANGER_ZONE_CEILING_C),
                    show_duration(DANGER_ZONE_MAX_S),
                    show_duration(DANGER_ZONE_MAX_S),
                    trim(DANGER_ZONE_CEILING_C)
                ),
                &[
                    ("timer", Value::from(DANGER_ZONE_MAX_S)),
                    ("target_temperature", json_number(DANGER_ZONE_CEILING_C)),
                ],
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anova::protocol::TemperatureUnit;

    fn pro() -> Limits {
        Limits {
            model: ModelLimits {
                min_temperature_c: 0.0,
                max_temperature_c: 92.0,
                max_timer_s: 359_940,
            },
            ceiling_c: None,
        }
    }

    fn c(v: f64) -> Temperature {
        Temperature::from_celsius(v)
    }

    #[test]
    fn target_range() {
        assert!(check_target(c(0.0), &pro()).is_ok());
        assert!(check_target(c(92.0), &pro()).is_ok());
        let err = check_target(c(120.0), &pro()).unwrap_err();
        assert_eq!(err.code, ErrorCode::OutOfRange);
        assert_eq!(
            err.message,
            "target_temperature 120 °C is above this cooker's maximum of 92 °C"
        );
        assert_eq!(
            check_target(c(-1.0), &pro()).unwrap_err().code,
            ErrorCode::OutOfRange
        );
        let f = Temperature {
            value: 200.0,
            unit: TemperatureUnit::F,
        };
        let err = check_target(f, &pro()).unwrap_err();
        assert!(err.message.contains("200 °F (93.33 °C)"), "{}", err.message);
    }

    #[test]
    fn ceiling() {
        let limits = Limits {
            ceiling_c: Some(85.0),
            ..pro()
        };
        assert_eq!(limits.max_temperature_c(), 85.0);
        let err = check_target(c(86.0), &limits).unwrap_err();
        assert!(err.message.contains("safety.max_temperature_c of 85 °C"));
        let limits = Limits {
            ceiling_c: Some(99.0),
            ..pro()
        };
        assert_eq!(limits.max_temperature_c(), 92.0);
    }

    #[test]
    fn timer_range() {
        assert!(check_timer(359_940, &pro()).is_ok());
        let err = check_timer(360_000, &pro()).unwrap_err();
        assert_eq!(err.code, ErrorCode::OutOfRange);
        assert_eq!(
            err.message,
            "timer 100 h is above the maximum of 99 h 59 min"
        );
    }

    #[test]
    fn food_minimums() {
        let err = check_food_safety(Food::Poultry, c(55.0), 3600).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsafe);
        assert!(err.message.contains("safe minimum of 57 °C for poultry"));
        assert_eq!(err.safe.unwrap()["target_temperature"], 57);
        assert!(check_food_safety(Food::Poultry, c(57.0), 3 * 3600).is_ok());
        let err = check_food_safety(Food::GroundMeat, c(58.0), 3600).unwrap_err();
        assert!(err.message.contains("60 °C for ground meat"));
        // 135 °F is 57.2 °C: fine for poultry.
        let f = Temperature {
            value: 135.0,
            unit: TemperatureUnit::F,
        };
        assert!(check_food_safety(Food::Poultry, f, 3600).is_ok());
    }

    #[test]
    fn danger_zone() {
        assert!(check_food_safety(Food::Beef, c(52.0), DANGER_ZONE_MAX_S).is_ok());
        let err = check_food_safety(Food::Beef, c(52.0), DANGER_ZONE_MAX_S + 60).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsafe);
        assert!(err.message.contains("more than 4 h"), "{}", err.message);
        let safe = err.safe.unwrap();
        assert_eq!(safe["timer"], 14400);
        assert_eq!(safe["target_temperature"], 54.4);
        let err = check_food_safety(Food::Fish, c(50.0), 0).unwrap_err();
        assert!(err.message.contains("without a timer"));
        assert!(check_food_safety(Food::Beef, c(54.4), 0).is_ok());
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(show_duration(90), "1 min 30 s");
        assert_eq!(show_duration(3661), "1 h 1 min 1 s");
        assert_eq!(show_duration(5400), "1 h 30 min");
        assert_eq!(show_duration(600), "10 min");
        assert_eq!(show_duration(45), "45 s");
    }
}
