//! A cooker command: the keys of `interface.md` §3.2, read from a command object or from the
//! plain payload of `<id>/set/<key>`.

use crate::command::{
    json_number, merge_mode, parse_cook, parse_display_unit, parse_food, parse_mode,
    parse_temperature, parse_timer, round2, CommandError, ErrorCode, Food, Temperature,
};
use crate::wire::TemperatureUnit;
use serde_json::{Map, Value};

/// The command keys of a cooker, for error messages.
pub const KEYS: [&str; 8] = [
    "cook",
    "mode",
    "target_temperature",
    "timer",
    "display_unit",
    "food",
    "id",
    "transaction",
];

/// What a cooker command asks for; every part optional, at least one that does something.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CookerChanges {
    /// Start (`true`) or stop (`false`) a cook; `mode` maps here too.
    pub cook: Option<bool>,
    /// New target.
    pub target_temperature: Option<Temperature>,
    /// New timer, whole seconds (0 = none).
    pub timer: Option<u32>,
    /// New display unit.
    pub display_unit: Option<TemperatureUnit>,
    /// Turns on the food-safety rules.
    pub food: Option<Food>,
}

impl CookerChanges {
    /// True when the command would change nothing (only `food`, or nothing at all).
    pub fn is_empty(&self) -> bool {
        self.cook.is_none()
            && self.target_temperature.is_none()
            && self.timer.is_none()
            && self.display_unit.is_none()
    }

    /// The command as the response echoes it: °C, seconds.
    pub fn echo(&self) -> Map<String, Value> {
        let mut map = Map::new();
        if let Some(cook) = self.cook {
            map.insert("cook".into(), Value::Bool(cook));
        }
        if let Some(t) = self.target_temperature {
            map.insert(
                "target_temperature".into(),
                json_number(round2(t.celsius())),
            );
        }
        if let Some(timer) = self.timer {
            map.insert("timer".into(), Value::from(timer));
        }
        if let Some(unit) = self.display_unit {
            map.insert("display_unit".into(), Value::from(unit.as_str()));
        }
        if let Some(food) = self.food {
            map.insert("food".into(), Value::from(food.as_str()));
        }
        map
    }

    fn checked(self) -> Result<Self, CommandError> {
        if self.is_empty() {
            return Err(CommandError::invalid(
                "the command does nothing: give cook, mode, target_temperature, timer or display_unit",
            ));
        }
        Ok(self)
    }
}

fn unknown(key: &str) -> CommandError {
    CommandError::new(
        ErrorCode::UnknownKey,
        format!(
            "unknown key {}; the keys are {}",
            crate::command::describe(&Value::String(key.to_owned())),
            KEYS.join(", ")
        ),
    )
}

/// Reads a command object; the first bad key fails it.
pub fn parse(fields: &Map<String, Value>) -> Result<CookerChanges, CommandError> {
    let mut changes = CookerChanges::default();
    let mut mode = None;
    for (key, value) in fields {
        match key.as_str() {
            "cook" => changes.cook = Some(parse_cook(value)?),
            "mode" => mode = Some(parse_mode(value)?),
            "target_temperature" => {
                changes.target_temperature = Some(parse_temperature(key, value)?)
            }
            "timer" => changes.timer = Some(parse_timer(key, value)?),
            "display_unit" => changes.display_unit = Some(parse_display_unit(value)?),
            "food" => changes.food = parse_food(value)?,
            other => return Err(unknown(other)),
        }
    }
    changes.cook = merge_mode(changes.cook, mode)?;
    changes.checked()
}

/// Reads the plain value of `<id>/set/<key>`.
pub fn parse_key(key: &str, text: &str) -> Result<CookerChanges, CommandError> {
    let value = Value::String(text.to_owned());
    let mut changes = CookerChanges::default();
    match key {
        "cook" => changes.cook = Some(parse_cook(&value)?),
        "mode" => changes.cook = Some(parse_mode(&value)?),
        "target_temperature" => changes.target_temperature = Some(parse_temperature(key, &value)?),
        "timer" => changes.timer = Some(parse_timer(key, &value)?),
        "display_unit" => changes.display_unit = Some(parse_display_unit(&value)?),
        "food" | "id" | "transaction" => {
            return Err(CommandError::invalid(format!(
                "{key} only qualifies a command; send it together with what to do on the JSON topic …/set"
            )))
        }
        other => return Err(unknown(other)),
    }
    changes.checked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json(value: Value) -> Result<CookerChanges, CommandError> {
        match value {
            Value::Object(fields) => parse(&fields),
            _ => unreachable!(),
        }
    }

    fn code(r: Result<CookerChanges, CommandError>) -> ErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn keys_of_a_cooker() {
        let c =
            json(json!({"cook": true, "target_temperature": "135F", "timer": "1h30m"})).unwrap();
        assert_eq!(c.cook, Some(true));
        assert_eq!(c.timer, Some(5400));
        assert_eq!(
            Value::Object(c.echo()),
            json!({"cook": true, "target_temperature": 57.22, "timer": 5400})
        );
        assert_eq!(
            json(json!({"mode": "heat", "cook": true})).unwrap().cook,
            Some(true)
        );
        assert_eq!(
            code(json(json!({"mode": "heat", "cook": false}))),
            ErrorCode::InvalidValue
        );
        assert_eq!(
            json(json!({"cook": true, "food": "Ground Meat"}))
                .unwrap()
                .food,
            Some(Food::GroundMeat)
        );
        assert_eq!(
            code(json(json!({"cook": true, "food": "tofu"}))),
            ErrorCode::InvalidValue
        );
        let err = json(json!({"colour": "red"})).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownKey);
        assert!(err.message.contains("colour"));
    }

    #[test]
    fn a_command_that_does_nothing_is_invalid() {
        assert_eq!(code(json(json!({}))), ErrorCode::InvalidValue);
        assert_eq!(code(json(json!({"food": "beef"}))), ErrorCode::InvalidValue);
    }

    #[test]
    fn plain_keys() {
        assert_eq!(parse_key("mode", "off").unwrap().cook, Some(false));
        assert_eq!(parse_key("timer", "90").unwrap().timer, Some(5400));
        assert_eq!(
            parse_key("display_unit", "f").unwrap().display_unit,
            Some(TemperatureUnit::F)
        );
        assert_eq!(code(parse_key("food", "beef")), ErrorCode::InvalidValue);
        assert_eq!(code(parse_key("colour", "red")), ErrorCode::UnknownKey);
        assert_eq!(code(parse_key("", "x")), ErrorCode::UnknownKey);
        assert_eq!(code(parse_key("cook", "maybe")), ErrorCode::InvalidValue);
    }
}
