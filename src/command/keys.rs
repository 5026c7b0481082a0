//! The command keys as data: one table per device family lists each key once, with its
//! name, its role, the JSON Schema of its value (with a description a language model can act
//! on: units, ranges, what a value means) and the function that reads it.
//!
//! The families' parsers walk their table, the OpenAPI document's command schemas are built
//! from it (`http::openapi`) and so are the MCP tools' input schemas (`mcp::tools`): adding a
//! key is one entry in a table, and it is then accepted on MQTT and HTTP, described in the
//! OpenAPI document and offered to language models alike.
//!
//! The building blocks below ([`temperature`], [`timer`], [`food`], …) are the schemas of the
//! values every family reads with the readers of `values.rs`.

use super::error::{CommandError, ErrorCode};
use super::food::{safe_minimum_c, DANGER_ZONE_CEILING_C, DANGER_ZONE_MAX_S};
use super::values::{describe, show_duration, trim, Food, MAX_TIMER_S};
use serde_json::{json, Map, Value};

/// What a key does in a command. The MCP tools use it to pick their keys (`start_cook` and
/// `change_cook` set `cook` themselves), the plain topics `<id>/set/<key>` to refuse keys that
/// only qualify a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Starts or stops a cook (`cook`, `mode`).
    Action,
    /// What a cook does (target, timer, stages …): applied to the running cook, else pending.
    Cook,
    /// A setting of the device itself (`display_unit`).
    Setting,
    /// Qualifies the command it comes with (`food`): meaningless alone.
    Qualifier,
    /// When the command's start happens, or the cancel of one planned (`start_at`,
    /// `ready_by`, `schedule`; `docs/interface.md` §8.2).
    Plan,
}

/// How the plain payload of `<id>/set/<key>` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain {
    /// As a string value (the readers accept text for every scalar key).
    Text,
    /// As JSON text (`stages`).
    Json,
    /// Refused: the key only qualifies a command (its role is [`Role::Qualifier`]).
    Refused,
}

/// One command key. `T` is what the family's parser fills in.
pub struct Key<T> {
    /// The key, as in the command object.
    pub name: &'static str,
    /// What it does.
    pub role: Role,
    /// The JSON Schema of its value, with its description.
    pub schema: fn() -> Value,
    /// Reads a value into `T`; the `&str` names the key in errors (`stages[2].fan`).
    pub read: fn(&mut T, &str, &Value) -> Result<(), CommandError>,
    /// How `<id>/set/<key>` is read.
    pub plain: Plain,
}

impl<T> Key<T> {
    /// A key whose plain payload is read as text (refused for a qualifier).
    pub const fn new(
        name: &'static str,
        role: Role,
        schema: fn() -> Value,
        read: fn(&mut T, &str, &Value) -> Result<(), CommandError>,
    ) -> Self {
        let plain = match role {
            Role::Qualifier => Plain::Refused,
            _ => Plain::Text,
        };
        Self {
            name,
            role,
            schema,
            read,
            plain,
        }
    }

    /// The same key with its plain payload read as JSON.
    pub const fn plain_json(self) -> Self {
        Self {
            plain: Plain::Json,
            ..self
        }
    }
}

/// Stores a value read, for the readers of the tables: `keys::set(&mut c.timer, parse_timer(…))`.
pub fn set<V>(slot: &mut Option<V>, value: Result<V, CommandError>) -> Result<(), CommandError> {
    *slot = Some(value?);
    Ok(())
}

/// The key called `name` in `keys`.
pub fn find<'a, T>(keys: &'a [Key<T>], name: &str) -> Option<&'a Key<T>> {
    keys.iter().find(|key| key.name == name)
}

/// The keys every command object takes besides its family's: the caller's id, read with the
/// envelope (`request.rs`) before any family looks at the command.
pub const ENVELOPE_KEYS: [&str; 2] = ["id", "transaction"];

/// The schemas of [`ENVELOPE_KEYS`].
pub fn envelope_properties() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "id".into(),
        json!({
            "type": "string",
            "description": "Any text, echoed in the response; generated when absent. \
                `transaction` is accepted as a synonym."
        }),
    );
    map.insert(
        "transaction".into(),
        json!({"type": "string", "description": "Synonym of `id`."}),
    );
    map
}

/// `unknown_key`, naming every key of `tables` (and the envelope's) so the caller can correct
/// it.
pub fn unknown_key(key: &str, names: &[&str]) -> CommandError {
    CommandError::new(
        ErrorCode::UnknownKey,
        format!(
            "unknown key {}; the keys are {}",
            describe(&Value::String(key.to_owned())),
            names.join(", ")
        ),
    )
}

/// The reply to an envelope key or a qualifier sent alone on `<id>/set/<key>`.
pub fn qualifier_alone(key: &str) -> CommandError {
    CommandError::invalid(format!(
        "{key} only qualifies a command; send it together with what to do on the JSON topic …/set"
    ))
}

/// The properties of `keys`, in table order.
pub fn properties<T>(keys: &[Key<T>]) -> Map<String, Value> {
    keys.iter()
        .map(|key| (key.name.to_owned(), (key.schema)()))
        .collect()
}

/// A command object's schema: `properties` plus the envelope's, nothing else allowed.
pub fn command_object(
    title: &str,
    description: &str,
    mut properties: Map<String, Value>,
    examples: Value,
) -> Value {
    properties.extend(envelope_properties());
    json!({
        "title": title,
        "description": description,
        "type": "object",
        "minProperties": 1,
        "additionalProperties": false,
        "properties": properties,
        "examples": examples,
    })
}

/// The JSON Schema `type` of a number. `["integer", "number"]` means the same as `"number"` to
/// a validator, but Home Assistant's MCP client (voluptuous-openapi 0.4) turns `"number"` into
/// a check that refuses whole numbers, so a model's `57` would never reach us from there.
pub const NUMBER: [&str; 2] = ["integer", "number"];

/// `schema` with `description` added.
pub fn described(mut schema: Value, description: impl Into<String>) -> Value {
    if let Value::Object(map) = &mut schema {
        map.insert("description".into(), Value::String(description.into()));
    }
    schema
}

/// `cook`: a boolean, or its spellings.
pub fn cook(description: &str) -> Value {
    described(
        json!({"oneOf": [
            {"type": "boolean"},
            {"type": "string", "description": "ON/OFF, start/stop, 1/0, true/false (any case)"},
            {"type": "integer", "enum": [0, 1]}
        ]}),
        description,
    )
}

/// `mode`: `heat` / `off`, the same for every family.
pub fn mode() -> Value {
    described(
        json!({"type": "string", "enum": ["heat", "off"]}),
        "The same as `cook`, in a thermostat's words: heat starts, off stops.",
    )
}

/// A temperature: °C as a number, or a number with a unit as text.
pub fn temperature(description: impl Into<String>) -> Value {
    described(
        json!({"oneOf": [
            {"type": NUMBER, "description": "degrees Celsius"},
            {
                "type": "string",
                "description": "a number with an optional unit: \"57.5\", \"57.5C\", \"135F\", \"135 °F\"",
                "pattern": "^\\s*-?[0-9]+(\\.[0-9]+)?\\s*(°\\s*)?[CFcf]?\\s*$"
            }
        ]}),
        description,
    )
}

/// A timer: minutes as a number, or a duration as text.
pub fn timer(description: &str) -> Value {
    described(
        json!({"oneOf": [
            {"type": NUMBER, "minimum": 0, "description": "minutes; 0 = no timer"},
            {
                "type": "string",
                "description": "a duration: \"90m\", \"1h30m\", \"5400s\", \"1:30\" (a bare number is minutes)"
            }
        ]}),
        format!(
            "{description} 0 = no timer; at most {}.",
            show_duration(u64::from(MAX_TIMER_S))
        ),
    )
}

/// What `display_unit` does, for every family.
pub const DISPLAY_UNIT: &str =
    "The unit the device's own display shows. Commands and state are always °C.";

/// `display_unit`: `C` / `F`.
pub fn display_unit(description: &str) -> Value {
    described(json!({"type": "string", "enum": ["C", "F"]}), description)
}

/// `food`: one of the foods, with what each means and its safe minimum (one text for every
/// family, so a schema that offers both families' keys says it once).
pub fn food() -> Value {
    let foods: Vec<String> = Food::ALL
        .iter()
        .map(|food| {
            format!(
                "{} ({}, at least {} °C)",
                food.as_str(),
                food.meaning(),
                trim(safe_minimum_c(*food))
            )
        })
        .collect();
    described(
        json!({"type": "string", "enum": Food::ALL.map(Food::as_str)}),
        format!(
            "What is being cooked; turns on the food-safety rules (for an oven, those of a wet, \
             sous-vide cook and of `probe_target`): a target below the food's safe minimum, or a \
             cook that would hold the food below {} °C for more than {} (or without a timer), \
             is refused with the code `unsafe` and a message saying what would be safe. Foods: \
             {}. Give it whenever food is cooked.",
            trim(DANGER_ZONE_CEILING_C),
            show_duration(u64::from(DANGER_ZONE_MAX_S)),
            foods.join("; ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_food_description_names_every_food_and_its_minimum() {
        let schema = food();
        let text = schema["description"].as_str().unwrap();
        for food in Food::ALL {
            assert!(text.contains(food.as_str()), "{text}");
        }
        assert!(text.contains("poultry (chicken"), "{text}");
        assert!(text.contains("at least 57 °C"), "{text}");
        assert!(text.contains("54.4 °C for more than 4 h"), "{text}");
        assert_eq!(schema["enum"].as_array().unwrap().len(), Food::ALL.len());
    }

    #[test]
    fn plain_payloads_follow_the_role() {
        fn read(_: &mut (), _: &str, _: &Value) -> Result<(), CommandError> {
            Ok(())
        }
        let qualifier = Key::new("food", Role::Qualifier, || json!({}), read);
        assert_eq!(qualifier.plain, Plain::Refused);
        let cook = Key::new("timer", Role::Cook, || json!({}), read);
        assert_eq!(cook.plain, Plain::Text);
        assert_eq!(cook.plain_json().plain, Plain::Json);
    }
}
