//! Food-safety rules, applied when a command names a `food` (`docs/interface.md` §3.2). They are
//! our policy, not Anova's: the devices themselves accept any temperature in range.

use super::error::{CommandError, ErrorCode};
use super::values::{json_number, show_duration, show_temperature, trim, Food, Temperature};
use serde_json::{Map, Value};

/// Below this temperature bacteria are not killed; food may not be held there for long.
pub const DANGER_ZONE_CEILING_C: f64 = 54.4;

/// The longest time food may spend below [`DANGER_ZONE_CEILING_C`], seconds.
pub const DANGER_ZONE_MAX_S: u32 = 4 * 3600;

/// The lowest target at which each food is considered safely cooked. Poultry and ground meat
/// follow common pasteurisation guidance (the research notes behind `docs/`); whole cuts
/// of beef and lamb are commonly served rare at 52 °C; eggs need 57 °C to pasteurise in the
/// shell; fish is often served barely cooked, but not below 50 °C; vegetables get the
/// danger-zone ceiling.
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

/// The rules for food held at `target` for `timer` seconds (0 = no timer, which holds the food
/// indefinitely). `key` names the temperature in messages (`target_temperature`,
/// `probe_target`).
pub fn check_food_safety(
    food: Food,
    key: &str,
    target: Temperature,
    timer: u32,
) -> Result<(), CommandError> {
    let celsius = target.celsius();
    let minimum = safe_minimum_c(food);
    if celsius < minimum - 1e-9 {
        return Err(unsafe_error(
            format!(
                "{key} {} is below the safe minimum of {} °C for {}",
                show_temperature(target),
                trim(minimum),
                food.as_str().replace('_', " ")
            ),
            &[(key, json_number(minimum))],
        ));
    }
    if celsius < DANGER_ZONE_CEILING_C {
        let safe = [
            ("timer", Value::from(DANGER_ZONE_MAX_S)),
            (key, json_number(DANGER_ZONE_CEILING_C)),
        ];
        let limit = show_duration(u64::from(DANGER_ZONE_MAX_S));
        if timer == 0 {
            return Err(unsafe_error(
                format!(
                    "a cook at {} without a timer would hold food below {} °C indefinitely; set a timer of at most {limit} or a target of at least {} °C",
                    show_temperature(target),
                    trim(DANGER_ZONE_CEILING_C),
                    trim(DANGER_ZONE_CEILING_C)
                ),
                &safe,
            ));
        }
        if timer > DANGER_ZONE_MAX_S {
            return Err(unsafe_error(
                format!(
                    "a cook at {} for {} would hold food below {} °C for more than {limit}; shorten the timer to {limit} or raise the target to {} °C",
                    show_temperature(target),
                    show_duration(u64::from(timer)),
                    trim(DANGER_ZONE_CEILING_C),
                    trim(DANGER_ZONE_CEILING_C)
                ),
                &safe,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::TemperatureUnit;

    fn c(v: f64) -> Temperature {
        Temperature::from_celsius(v)
    }

    fn check(food: Food, target: Temperature, timer: u32) -> Result<(), CommandError> {
        check_food_safety(food, "target_temperature", target, timer)
    }

    #[test]
    fn food_minimums() {
        let err = check(Food::Poultry, c(55.0), 3600).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsafe);
        assert!(err.message.contains("safe minimum of 57 °C for poultry"));
        assert_eq!(err.safe.unwrap()["target_temperature"], 57);
        assert!(check(Food::Poultry, c(57.0), 3 * 3600).is_ok());
        let err = check(Food::GroundMeat, c(58.0), 3600).unwrap_err();
        assert!(err.message.contains("60 °C for ground meat"));
        // 135 °F is 57.2 °C: fine for poultry.
        let f = Temperature {
            value: 135.0,
            unit: TemperatureUnit::F,
        };
        assert!(check(Food::Poultry, f, 3600).is_ok());
        let err = check_food_safety(Food::Poultry, "probe_target", c(50.0), 0).unwrap_err();
        assert!(err.message.starts_with("probe_target 50 °C"), "{err}");
        assert_eq!(err.safe.unwrap()["probe_target"], 57);
    }

    #[test]
    fn danger_zone() {
        assert!(check(Food::Beef, c(52.0), DANGER_ZONE_MAX_S).is_ok());
        let err = check(Food::Beef, c(52.0), DANGER_ZONE_MAX_S + 60).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsafe);
        assert!(err.message.contains("more than 4 h"), "{}", err.message);
        let safe = err.safe.unwrap();
        assert_eq!(safe["timer"], 14400);
        assert_eq!(safe["target_temperature"], 54.4);
        let err = check(Food::Fish, c(50.0), 0).unwrap_err();
        assert!(err.message.contains("without a timer"));
        assert!(check(Food::Beef, c(54.4), 0).is_ok());
    }
}
