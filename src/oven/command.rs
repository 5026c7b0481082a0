//! An oven command: the keys of `docs/interface.md` §5.2, read from a command object or from the
//! plain payload of `<id>/set/<key>`. Reading only checks that each value is well formed;
//! ranges and the oven's rules are checked when the command is planned (`validate`).
//!
//! The keys are two tables (`command::keys`): [`STAGE_KEYS`], the keys of one stage (the top
//! level of a one-stage cook, or an entry of `stages`), and [`KEYS`], the rest. The parser,
//! the OpenAPI document and the MCP tools all read them.

use super::limits::OvenGeneration;
use super::limits::{
    DEFAULT_TARGET_C, DRY_C, PROBE_C, PROOFING_MAX_C, WET_C, WET_MAX_WITHOUT_STEAM_C,
    WET_MAX_WITH_STEAM_C,
};
use super::state::TemperatureMode;
use super::wire::{Elements, TimerStart};
use crate::command::keys::{self, find, Key, Plain, Role};
use crate::command::{
    describe, merge_mode, parse_cook, parse_display_unit, parse_mode, parse_preset, parse_schedule,
    parse_temperature, parse_timer, parse_when, preset_schema, read_food, schedule_schema, trim,
    when_schema, CommandError, ErrorCode, Temperature,
};
use serde_json::{json, Map, Value};

pub use super::changes::{element_names, timer_start_name, OvenChanges, OvenEcho, StageChanges};

/// The most stages one cook may have. The app builds a handful; the bound keeps a command and
/// its start payload small.
pub const MAX_STAGES: usize = 10;

/// The longest stage title accepted.
const MAX_TITLE_CHARS: usize = 60;

/// Said of every key that changes a cook: an oven takes no change to a running cook from a
/// Personal Access Token, so the bridge starts it again.
const RESTARTS: &str = "While a cook runs, changing it restarts the cook with a complete new \
    start command (the response says so in `warnings`); while idle it becomes the pending value \
    the next start uses.";

/// The keys of one stage.
pub static STAGE_KEYS: &[Key<StageChanges>] = &[
    Key::new(
        "temperature_mode",
        Role::Cook,
        || {
            keys::described(
                json!({"type": "string", "enum": ["dry", "wet"]}),
                "Which bulb the stage controls: dry (the air temperature: roasting, baking) or \
                 wet (the wet-bulb temperature: the oven's sous-vide mode, for food in bags or \
                 gentle cooking with steam).",
            )
        },
        |s, key, v| keys::set(&mut s.temperature_mode, parse_temperature_mode(key, v)),
    ),
    Key::new(
        "target_temperature",
        Role::Cook,
        || {
            keys::temperature(format!(
                "The controlled bulb's target, in °C (or a text with a unit, such as \"400F\"): \
                 dry {}–{} °C; wet {}–{} °C, at most {} °C without steam and {} °C with. A \
                 start without one uses the target the idle state shows (the last cook's with \
                 that bulb, else {} °C dry, {} °C wet). {RESTARTS}",
                trim(DRY_C.0),
                trim(DRY_C.1),
                trim(WET_C.0),
                trim(WET_C.1),
                trim(WET_MAX_WITHOUT_STEAM_C),
                trim(WET_MAX_WITH_STEAM_C),
                trim(DEFAULT_TARGET_C.0),
                trim(DEFAULT_TARGET_C.1),
            ))
        },
        |s, key, v| keys::set(&mut s.target_temperature, parse_temperature(key, v)),
    ),
    Key::new(
        "steam",
        Role::Cook,
        || {
            keys::described(
                json!({"type": keys::NUMBER, "minimum": 0, "maximum": 100}),
                "Steam, 0–100: the relative humidity in % below 100 °C, the steam percentage \
                 from 100 °C; 0 = off.",
            )
        },
        |s, key, v| keys::set(&mut s.steam, parse_steam(key, v)),
    ),
    Key::new(
        "elements",
        Role::Cook,
        || {
            keys::described(
                json!({"oneOf": [
                    {
                        "type": "array",
                        "items": {"type": "string", "enum": ["top", "bottom", "rear"]},
                        "minItems": 1
                    },
                    {"type": "string", "description": "comma-separated: \"top,rear\""}
                ]}),
                format!(
                    "The heating elements that are on: top, bottom, rear (at least one; a \
                     Precision Oven 1.0 takes at most two). The bottom element alone heats to \
                     {} °C on a Precision Oven 1.0 and {} °C on a 2.0. Rear alone is the usual \
                     choice for even roasting.",
                    trim(OvenGeneration::V1.bottom_only_max_c()),
                    trim(OvenGeneration::V2.bottom_only_max_c()),
                ),
            )
        },
        |s, key, v| keys::set(&mut s.elements, parse_elements(key, v)),
    ),
    Key::new(
        "fan",
        Role::Cook,
        || {
            keys::described(
                json!({"oneOf": [
                    {"type": "string", "enum": ["off", "low", "medium", "high"]},
                    {"type": keys::NUMBER, "minimum": 0, "maximum": 100}
                ]}),
                format!(
                    "Fan speed: off, low, medium, high, or 0–100. Off only for proofing (dry \
                     bulb, bottom element alone, at most {} °C).",
                    trim(PROOFING_MAX_C)
                ),
            )
        },
        |s, key, v| keys::set(&mut s.fan, parse_fan(key, v)),
    ),
    Key::new(
        "timer",
        Role::Cook,
        || {
            keys::timer(
                "The stage's timer: minutes as a number (90) or a duration (\"1h30m\"); a stage \
                 ends on its timer or on its probe target, not both.",
            )
        },
        |s, key, v| keys::set(&mut s.timer, parse_timer(key, v)),
    ),
    Key::new(
        "timer_start",
        Role::Cook,
        || {
            keys::described(
                json!({"type": "string", "enum":
                    ["immediately", "when_preheated", "on_food_detected", "manually"]}),
                "When the stage's timer starts: immediately, when_preheated (once the oven is at \
                 temperature), on_food_detected (food seen by the camera of a Precision Oven \
                 2.0) or manually (from the oven or the app).",
            )
        },
        |s, key, v| keys::set(&mut s.timer_start, parse_timer_start(key, v)),
    ),
    Key::new(
        "probe_target",
        Role::Cook,
        || {
            keys::described(
                json!({"type": keys::NUMBER, "minimum": 0, "maximum": PROBE_C.1}),
                format!(
                    "End the stage when the food probe reaches this temperature, °C ({}–{}); 0 \
                     clears it. It replaces a timer: a stage ends on one or the other. With \
                     `food`, it must be at least the food's safe minimum.",
                    trim(PROBE_C.0),
                    trim(PROBE_C.1)
                ),
            )
        },
        |s, key, v| keys::set(&mut s.probe_target, parse_probe(key, v)),
    ),
    Key::new(
        "title",
        Role::Cook,
        || {
            keys::described(
                json!({"type": "string", "maxLength": MAX_TITLE_CHARS}),
                "A name for the stage, shown as `stage_title` in the state.",
            )
        },
        |s, key, v| keys::set(&mut s.title, parse_title(key, v)),
    ),
];

/// An oven command while it is read: the changes, and `mode` until it is merged into `cook`.
#[derive(Debug, Default)]
pub struct Draft {
    changes: OvenChanges,
    mode: Option<bool>,
}

/// The keys of an oven command besides [`STAGE_KEYS`].
pub static KEYS: &[Key<Draft>] = &[
    Key::new(
        "cook",
        Role::Action,
        || {
            keys::cook(
                "true starts a cook with the keys of this command (else the pending ones); \
                 false stops the running cook.",
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
        || preset_schema("oven"),
        |d, _, v| keys::set(&mut d.changes.plan.preset, parse_preset(v)),
    ),
    Key::new(
        "stages",
        Role::Cook,
        || {
            json!({
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STAGES,
                "items": stage_schema(),
                "description": format!(
                    "A multi-stage cook, run in order (1 to {MAX_STAGES} stages), each an object \
                     with the stage keys ({}). Give the stage keys either here or at the top \
                     level (a one-stage cook), not both. {RESTARTS}",
                    STAGE_KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
                ),
            })
        },
        |d: &mut Draft, _, v| keys::set(&mut d.changes.stages, parse_stages(v)),
    )
    .plain_json(),
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

/// Every key's name, for error messages.
fn names() -> Vec<&'static str> {
    KEYS.iter()
        .map(|key| key.name)
        .chain(STAGE_KEYS.iter().map(|key| key.name))
        .chain(keys::ENVELOPE_KEYS)
        .collect()
}

fn stage_names() -> Vec<&'static str> {
    STAGE_KEYS.iter().map(|key| key.name).collect()
}

/// The JSON Schema of one stage (`OvenStage` in the OpenAPI document).
pub fn stage_schema() -> Value {
    json!({
        "title": "Oven stage",
        "type": "object",
        "additionalProperties": false,
        "properties": keys::properties(STAGE_KEYS),
    })
}

/// The JSON Schema of an oven command object (`OvenCommand` in the OpenAPI document).
pub fn schema() -> Value {
    let mut properties = keys::properties(STAGE_KEYS);
    properties.extend(keys::properties(KEYS));
    keys::command_object(
        "Oven command",
        "A command for an Anova Precision Oven (models oven_v1, oven_v2), the same object as on \
         `<base>/<id>/set`. Any of the keys; with `stages`, a multi-stage cook run in order. A \
         Personal Access Token can only start, stop and set the unit of an oven, so every \
         change to a running cook is sent as a complete new start: the cook restarts with the \
         new settings, and the response says so in `warnings`. The response is ok only once \
         the oven's state shows the cook as sent.",
        properties,
        json!([
            {"cook": true, "temperature_mode": "dry", "target_temperature": 200,
             "elements": ["bottom", "rear"], "fan": "high", "timer": "30m", "id": "roast-1"},
            {"cook": true, "stages": [
                {"title": "Sear", "temperature_mode": "dry", "target_temperature": 230,
                 "elements": ["top", "rear"], "fan": "high", "timer": "10m"},
                {"title": "Finish", "temperature_mode": "wet", "target_temperature": 56,
                 "steam": 100, "timer": "45m", "timer_start": "when_preheated"}
            ]},
            {"cook": false}
        ]),
    )
}

/// Text of a value, lower-cased with `-` and spaces read as `_`.
fn word(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(|s| s.trim().to_ascii_lowercase().replace(['-', ' '], "_"))
}

fn parse_temperature_mode(key: &str, value: &Value) -> Result<TemperatureMode, CommandError> {
    match word(value).as_deref() {
        Some("dry") => Ok(TemperatureMode::Dry),
        Some("wet" | "sous_vide") => Ok(TemperatureMode::Wet),
        _ => Err(CommandError::invalid(format!(
            "{key} {}: use dry or wet",
            describe(value)
        ))),
    }
}

/// A whole percentage 0–100 from a number or text (`"40"`, `"40%"`).
fn parse_percent(key: &str, value: &Value, what: &str) -> Result<u8, CommandError> {
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse::<f64>().ok(),
        _ => None,
    };
    let Some(number) = number.filter(|n| n.is_finite()) else {
        return Err(CommandError::invalid(format!(
            "{key} {}: give {what}",
            describe(value)
        )));
    };
    if !(0.0..=100.0).contains(&number) {
        return Err(CommandError::new(
            ErrorCode::OutOfRange,
            format!("{key} {} is outside 0–100 %", describe(value)),
        ));
    }
    // In 0–100, so the cast is exact after rounding.
    Ok(number.round() as u8)
}

fn parse_steam(key: &str, value: &Value) -> Result<u8, CommandError> {
    match value {
        Value::Bool(false) => Ok(0),
        Value::String(s) if s.trim().eq_ignore_ascii_case("off") => Ok(0),
        _ => parse_percent(key, value, "a percentage 0–100 (0 = off)"),
    }
}

fn parse_fan(key: &str, value: &Value) -> Result<u8, CommandError> {
    match word(value).as_deref() {
        Some("off") => Ok(0),
        Some("low") => Ok(33),
        Some("medium") => Ok(67),
        Some("high") => Ok(100),
        _ => parse_percent(key, value, "off, low, medium, high or a number 0–100"),
    }
}

fn parse_elements(key: &str, value: &Value) -> Result<Elements, CommandError> {
    let bad = || {
        CommandError::invalid(format!(
            "{key} {}: give a list or comma text of top, bottom, rear",
            describe(value)
        ))
    };
    let names: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .map(|v| word(v).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        Value::String(text) => text
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => return Err(bad()),
    };
    let mut elements = Elements::default();
    for name in &names {
        match name.as_str() {
            "top" => elements.top = true,
            "bottom" => elements.bottom = true,
            "rear" | "back" => elements.rear = true,
            _ => return Err(bad()),
        }
    }
    Ok(elements)
}

fn parse_timer_start(key: &str, value: &Value) -> Result<TimerStart, CommandError> {
    match word(value).as_deref() {
        Some("immediately" | "now") => Ok(TimerStart::Immediately),
        Some("when_preheated" | "preheated") => Ok(TimerStart::WhenPreheated),
        Some("manually" | "manual") => Ok(TimerStart::Manually),
        Some("on_food_detected" | "on_detection") => Ok(TimerStart::OnFoodDetected),
        _ => Err(CommandError::invalid(format!(
            "{key} {}: use immediately, when_preheated, manually or on_food_detected",
            describe(value)
        ))),
    }
}

/// `0` (or `"off"`, `null`) clears the probe target; anything else is a temperature.
fn parse_probe(key: &str, value: &Value) -> Result<Option<Temperature>, CommandError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(None),
        Value::String(s) if matches!(s.trim(), "0" | "off" | "none" | "") => Ok(None),
        _ => parse_temperature(key, value).map(Some),
    }
}

fn parse_title(key: &str, value: &Value) -> Result<String, CommandError> {
    match value.as_str() {
        Some(s) if s.chars().count() <= MAX_TITLE_CHARS => Ok(s.trim().to_owned()),
        Some(_) => Err(CommandError::invalid(format!(
            "{key} is longer than {MAX_TITLE_CHARS} characters"
        ))),
        None => Err(CommandError::invalid(format!(
            "{key} {}: give a text",
            describe(value)
        ))),
    }
}

fn parse_stages(value: &Value) -> Result<Vec<StageChanges>, CommandError> {
    let Value::Array(items) = value else {
        return Err(CommandError::invalid(format!(
            "stages {}: give an array of stage objects",
            describe(value)
        )));
    };
    if items.is_empty() || items.len() > MAX_STAGES {
        return Err(CommandError::new(
            ErrorCode::OutOfRange,
            format!(
                "stages has {} entries; a cook has 1 to {MAX_STAGES} stages",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(fields) = item else {
                return Err(CommandError::invalid(format!(
                    "stages[{}] {}: give an object with the stage keys",
                    i + 1,
                    describe(item)
                )));
            };
            let mut stage = StageChanges::default();
            for (name, value) in fields {
                let path = format!("stages[{}].{name}", i + 1);
                let key = find(STAGE_KEYS, name)
                    .ok_or_else(|| keys::unknown_key(&path, &stage_names()))?;
                (key.read)(&mut stage, &path, value)?;
            }
            Ok(stage)
        })
        .collect()
}

/// Reads one key of a command into `draft`.
fn read(draft: &mut Draft, name: &str, value: &Value) -> Result<(), CommandError> {
    if let Some(key) = find(STAGE_KEYS, name) {
        return (key.read)(&mut draft.changes.stage, name, value);
    }
    let key = find(KEYS, name).ok_or_else(|| keys::unknown_key(name, &names()))?;
    (key.read)(draft, name, value)
}

fn finish(draft: Draft) -> Result<OvenChanges, CommandError> {
    let mut changes = draft.changes;
    changes.cook = merge_mode(changes.cook, draft.mode)?;
    changes.checked()
}

/// Reads a command object; the first bad key fails it.
pub fn parse(fields: &Map<String, Value>) -> Result<OvenChanges, CommandError> {
    let mut draft = Draft::default();
    for (name, value) in fields {
        read(&mut draft, name, value)?;
    }
    finish(draft)
}

/// Reads the plain value of `<id>/set/<key>`.
pub fn parse_key(name: &str, text: &str) -> Result<OvenChanges, CommandError> {
    if keys::ENVELOPE_KEYS.contains(&name) {
        return Err(keys::qualifier_alone(name));
    }
    let plain = find(STAGE_KEYS, name)
        .map(|key| key.plain)
        .or_else(|| find(KEYS, name).map(|key| key.plain))
        .ok_or_else(|| keys::unknown_key(name, &names()))?;
    let value = match plain {
        Plain::Refused => return Err(keys::qualifier_alone(name)),
        Plain::Text => Value::String(text.to_owned()),
        Plain::Json => serde_json::from_str(text)
            .map_err(|_| CommandError::invalid(format!("{name}: give the value as JSON")))?,
    };
    let mut draft = Draft::default();
    read(&mut draft, name, &value)?;
    finish(draft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Result<OvenChanges, CommandError> {
        match value {
            Value::Object(fields) => parse(&fields),
            _ => unreachable!(),
        }
    }

    fn error(value: Value) -> CommandError {
        object(value).unwrap_err()
    }

    #[test]
    fn keys_of_a_one_stage_cook() {
        let c = object(json!({
            "cook": true, "temperature_mode": "Dry", "target_temperature": "400F",
            "steam": "30%", "elements": "rear, bottom", "fan": "medium", "timer": "1h",
            "timer_start": "when-preheated", "title": "Roast"
        }))
        .unwrap();
        assert_eq!(c.cook, Some(true));
        assert_eq!(c.stage.temperature_mode, Some(TemperatureMode::Dry));
        assert_eq!(c.stage.steam, Some(30));
        assert_eq!(
            c.stage.elements,
            Some(Elements {
                top: false,
                bottom: true,
                rear: true
            })
        );
        assert_eq!(c.stage.fan, Some(67));
        assert_eq!(c.stage.timer, Some(3600));
        assert_eq!(c.stage.timer_start, Some(TimerStart::WhenPreheated));
        assert_eq!(
            serde_json::to_value(OvenEcho {
                changes: c,
                cook_id: None
            })
            .unwrap(),
            json!({"cook": true, "temperature_mode": "dry", "target_temperature": 204.44,
                "steam": 30, "elements": ["bottom", "rear"], "fan": 67, "timer": 3600,
                "timer_start": "when_preheated", "title": "Roast"})
        );
    }

    #[test]
    fn stages_name_the_bad_part() {
        let err = error(json!({"stages": [{"target_temperature": 180}, {"fan": "turbo"}]}));
        assert_eq!(err.code, ErrorCode::InvalidValue);
        assert!(
            err.message.starts_with("stages[2].fan \"turbo\""),
            "{}",
            err.message
        );
        let err = error(json!({"stages": [{"colour": "red"}]}));
        assert_eq!(err.code, ErrorCode::UnknownKey);
        assert!(err.message.contains("stages[1].colour"), "{}", err.message);
        let err = error(json!({"stages": [{"steam": 140}]}));
        assert_eq!(err.code, ErrorCode::OutOfRange);
        assert!(
            err.message.starts_with("stages[1].steam 140"),
            "{}",
            err.message
        );
        assert_eq!(error(json!({"stages": []})).code, ErrorCode::OutOfRange);
        assert_eq!(
            error(json!({"stages": [{"fan": 1}], "fan": 100})).code,
            ErrorCode::InvalidValue
        );
        let many: Vec<Value> = (0..=MAX_STAGES).map(|_| json!({})).collect();
        assert_eq!(error(json!({ "stages": many })).code, ErrorCode::OutOfRange);
    }

    #[test]
    fn values_are_read_strictly() {
        assert_eq!(
            error(json!({"elements": "top,side"})).code,
            ErrorCode::InvalidValue
        );
        assert_eq!(
            error(json!({"temperature_mode": "steam"})).code,
            ErrorCode::InvalidValue
        );
        assert_eq!(
            error(json!({"timer_start": "later"})).code,
            ErrorCode::InvalidValue
        );
        assert_eq!(error(json!({"fan": -1})).code, ErrorCode::OutOfRange);
        assert_eq!(error(json!({"colour": 1})).code, ErrorCode::UnknownKey);
        assert_eq!(error(json!({"food": "beef"})).code, ErrorCode::InvalidValue);
        assert_eq!(
            object(json!({"probe_target": 0}))
                .unwrap()
                .stage
                .probe_target,
            Some(None)
        );
        assert_eq!(
            object(json!({"steam": "off"})).unwrap().stage.steam,
            Some(0)
        );
        assert_eq!(
            object(json!({"elements": ["TOP", "rear"]}))
                .unwrap()
                .stage
                .elements,
            Some(Elements {
                top: true,
                bottom: false,
                rear: true
            })
        );
    }

    #[test]
    fn a_probe_replaces_a_timer_and_back() {
        let timed = StageChanges {
            timer: Some(600),
            ..StageChanges::default()
        };
        let probe = object(json!({"probe_target": 63})).unwrap().stage;
        let merged = timed.overlaid(&probe);
        assert_eq!(merged.timer, None);
        assert!(matches!(merged.probe_target, Some(Some(_))));
        let back = merged.overlaid(&timed);
        assert_eq!((back.timer, back.probe_target), (Some(600), None));
    }

    #[test]
    fn a_command_is_laid_over_a_preset() {
        let staged = object(json!({"stages": [{"target_temperature": 35, "timer": 60},
            {"target_temperature": 230, "timer": 30}]}))
        .unwrap();
        let one = object(json!({"target_temperature": 200, "fan": "high", "timer": 30})).unwrap();
        let over = |v: Value| object(v).unwrap();
        // One stage: key by key.
        let merged =
            OvenChanges::with_preset(one.clone(), over(json!({"preset": "x", "fan": "low"})))
                .unwrap();
        assert_eq!(
            (merged.stage.fan, merged.stage.timer),
            (Some(33), Some(1800))
        );
        // Several stages: kept whole, or replaced by the command's stages.
        let kept =
            OvenChanges::with_preset(staged.clone(), over(json!({"preset": "x", "cook": true})))
                .unwrap();
        assert_eq!(kept.stages.as_ref().map(Vec::len), Some(2));
        let replaced = OvenChanges::with_preset(
            staged.clone(),
            over(json!({"preset": "x", "stages": [{"target_temperature": 100}]})),
        )
        .unwrap();
        assert_eq!(replaced.stages.as_ref().map(Vec::len), Some(1));
        let replaced = OvenChanges::with_preset(
            one,
            over(json!({"preset": "x", "stages": [{"target_temperature": 100}]})),
        )
        .unwrap();
        assert!(replaced.stage.is_empty());
        let err = OvenChanges::with_preset(staged, over(json!({"preset": "bread", "fan": 1})))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidValue);
        assert!(
            err.message
                .contains("preset bread is a cook of several stages"),
            "{err}"
        );
    }

    #[test]
    fn plain_keys() {
        assert_eq!(parse_key("mode", "off").unwrap().cook, Some(false));
        assert_eq!(parse_key("fan", "high").unwrap().stage.fan, Some(100));
        assert_eq!(parse_key("steam", "40").unwrap().stage.steam, Some(40));
        assert_eq!(
            parse_key("temperature_mode", "wet")
                .unwrap()
                .stage
                .temperature_mode,
            Some(TemperatureMode::Wet)
        );
        let staged =
            parse_key("stages", r#"[{"target_temperature": 200}, {"timer": 10}]"#).unwrap();
        assert_eq!(staged.stages.unwrap().len(), 2);
        assert_eq!(
            parse_key("stages", "nope").unwrap_err().code,
            ErrorCode::InvalidValue
        );
        assert_eq!(
            parse_key("food", "beef").unwrap_err().code,
            ErrorCode::InvalidValue
        );
        assert_eq!(
            parse_key("colour", "red").unwrap_err().code,
            ErrorCode::UnknownKey
        );
    }
}
