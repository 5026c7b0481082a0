//! A cooker command: the keys of `docs/interface.md` §3.2, read from a command object or from the
//! plain payload of `<id>/set/<key>`.

use crate::command::keys::{self, find, Key, Plain, Role};
use crate::command::{
    merge_mode, parse_cook, parse_display_unit, parse_mode, parse_preset, parse_schedule,
    parse_temperature, parse_timer, parse_when, preset_schema, read_food, schedule_schema,
    when_schema, Celsius2, CommandError, Food, PlanKeys, Temperature,
};
use crate::wire::TemperatureUnit;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

/// A cooker command while it is read: the changes, and `mode` until it is merged into `cook`.
#[derive(Debug, Default)]
pub struct Draft {
    changes: CookerChanges,
    mode: Option<bool>,
}

/// The keys of a cooker command (`docs/interface.md` §3.2), the one list the parser, the OpenAPI
/// document and the MCP tools read (`command::keys`).
pub static KEYS: &[Key<Draft>] = &[
    Key::new(
        "cook",
        Role::Action,
        || {
            keys::cook(
                "true starts a cook with the target and timer of this command (else the \
                 pending ones); false stops the running cook.",
            )
        },
        |d, _, v| keys::set(&mut d.changes.cook, parse_cook(v)),
    ),
    Key::new("mode", Role::Action, keys::mode, |d, _, v| {
        keys::set(&mut d.mode, parse_mode(v))
    }),
    Key::new(
        "preset",
        Role::Cook,
        || preset_schema("cooker"),
        |d, _, v| keys::set(&mut d.changes.plan.preset, parse_preset(v)),
    ),
    Key::new(
        "target_temperature",
        Role::Cook,
        || {
            keys::temperature(
                "The water temperature to hold, in °C (or a text with a unit, such as \
                 \"135F\"). While cooking it changes the running cook; while idle it becomes \
                 the target the next start uses. From 0 °C up to the model's maximum \
                 (`max_temperature_c` in the device list) and the household's ceiling; out of \
                 range is refused (`out_of_range`), never clamped.",
            )
        },
        |d, key, v| keys::set(&mut d.changes.target_temperature, parse_temperature(key, v)),
    ),
    Key::new(
        "timer",
        Role::Cook,
        || {
            keys::timer(
                "How long to cook: minutes as a number (90) or a duration (\"1h30m\"). While \
                 cooking it changes the running cook's timer; while idle it becomes the pending \
                 timer.",
            )
        },
        |d, key, v| keys::set(&mut d.changes.timer, parse_timer(key, v)),
    ),
    Key::new(
        "display_unit",
        Role::Setting,
        || keys::display_unit(keys::DISPLAY_UNIT),
        |d, _, v| keys::set(&mut d.changes.display_unit, parse_display_unit(v)),
    ),
    Key::new("food", Role::Qualifier, keys::food, |d, _, v| {
        read_food(&mut d.changes.food, &mut d.changes.plan, v)
    }),
    Key::new(
        "start_at",
        Role::Plan,
        || when_schema(false),
        |d, key, v| keys::set(&mut d.changes.plan.start_at, parse_when(key, v)),
    ),
    Key::new(
        "ready_by",
        Role::Plan,
        || when_schema(true),
        |d, key, v| keys::set(&mut d.changes.plan.ready_by, parse_when(key, v)),
    ),
    Key::new("schedule", Role::Plan, schedule_schema, |d, _, v| {
        d.changes.plan.cancel = parse_schedule(v)?;
        Ok(())
    }),
];

/// The examples of the cooker's command schema; `tests/http_api.rs` checks that the parser
/// accepts each.
fn examples() -> Value {
    json!([
        {"cook": true, "target_temperature": 57.5, "timer": "1h30m", "id": "steak-1"},
        {"cook": false},
        {"target_temperature": "135F"},
        {"cook": true, "target_temperature": 63, "timer": 120, "food": "poultry"}
    ])
}

/// The JSON Schema of a cooker command object (`CookerCommand` in the OpenAPI document).
pub fn schema() -> Value {
    keys::command_object(
        "Cooker command",
        "A command for a sous-vide cooker (models a3, a6, a7, pro, …), the same object as on \
         the MQTT topic `<base>/<id>/set`. Give any of the keys; everything is validated \
         before anything is sent, and a command with any bad part sends nothing and is \
         answered with one error naming the part. Out-of-range values are refused, never \
         clamped.",
        keys::properties(KEYS),
        examples(),
    )
}

/// Every key's name, for error messages.
fn names() -> Vec<&'static str> {
    KEYS.iter()
        .map(|key| key.name)
        .chain(keys::ENVELOPE_KEYS)
        .collect()
}

/// What a cooker command asks for; every part optional, at least one that does something.
///
/// It serialises as the response echoes it (`docs/interface.md` §3.3): the keys given, in °C and
/// seconds; a start's plan fills in the target and timer it used.
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
    /// The keys of `docs/interface.md` §8 (`preset`).
    pub plan: PlanKeys,
}

impl Serialize for CookerChanges {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(cook) = self.cook {
            map.serialize_entry("cook", &cook)?;
        }
        if let Some(preset) = &self.plan.preset {
            map.serialize_entry("preset", preset)?;
        }
        if let Some(t) = self.target_temperature {
            map.serialize_entry("target_temperature", &Celsius2(t))?;
        }
        if let Some(timer) = self.timer {
            map.serialize_entry("timer", &timer)?;
        }
        if let Some(unit) = self.display_unit {
            map.serialize_entry("display_unit", &unit)?;
        }
        if let Some(food) = self.food {
            map.serialize_entry("food", food.as_str())?;
        }
        map.end()
    }
}

impl CookerChanges {
    /// True when the command would change nothing (only `food`, or nothing at all).
    pub fn is_empty(&self) -> bool {
        self.cook.is_none()
            && self.target_temperature.is_none()
            && self.timer.is_none()
            && self.display_unit.is_none()
            && self.plan.is_empty()
    }

    /// True when it changes what a cook does (its target or timer).
    pub fn changes_cook(&self) -> bool {
        self.target_temperature.is_some() || self.timer.is_some()
    }

    /// `over` laid over a preset's keys: every key `over` gives wins.
    pub fn with_preset(preset: CookerChanges, over: CookerChanges) -> CookerChanges {
        CookerChanges {
            cook: over.cook,
            target_temperature: over.target_temperature.or(preset.target_temperature),
            timer: over.timer.or(preset.timer),
            display_unit: over.display_unit.or(preset.display_unit),
            food: over.food.or(preset.food),
            plan: over.plan,
        }
    }

    fn checked(self) -> Result<Self, CommandError> {
        if self.is_empty() {
            return Err(CommandError::invalid(
                "the command does nothing: give cook, mode, preset, target_temperature, timer or display_unit",
            ));
        }
        Ok(self)
    }
}

/// Reads a command object; the first bad key fails it.
pub fn parse(fields: &Map<String, Value>) -> Result<CookerChanges, CommandError> {
    let mut draft = Draft::default();
    for (name, value) in fields {
        let key = find(KEYS, name).ok_or_else(|| keys::unknown_key(name, &names()))?;
        (key.read)(&mut draft, name, value)?;
    }
    let mut changes = draft.changes;
    changes.cook = merge_mode(changes.cook, draft.mode)?;
    changes.checked()
}

/// Reads the plain value of `<id>/set/<key>`.
pub fn parse_key(name: &str, text: &str) -> Result<CookerChanges, CommandError> {
    if keys::ENVELOPE_KEYS.contains(&name) {
        return Err(keys::qualifier_alone(name));
    }
    let key = find(KEYS, name).ok_or_else(|| keys::unknown_key(name, &names()))?;
    let value = match key.plain {
        Plain::Refused => return Err(keys::qualifier_alone(name)),
        // No cooker key takes JSON; text is what the readers take.
        Plain::Text | Plain::Json => Value::String(text.to_owned()),
    };
    let mut draft = Draft::default();
    (key.read)(&mut draft, name, &value)?;
    let mut changes = draft.changes;
    changes.cook = merge_mode(changes.cook, draft.mode)?;
    changes.checked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::ErrorCode;

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
            serde_json::to_value(&c).unwrap(),
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
