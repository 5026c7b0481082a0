//! An oven command: the keys of `interface.md` §5.2, read from a command object or from the
//! plain payload of `<id>/set/<key>`. Reading only checks that each value is well formed;
//! ranges and the oven's rules are checked when the command is planned (`validate`).

use super::wire::{Elements, TimerStart};
use crate::command::{
    describe, json_number, merge_mode, parse_cook, parse_display_unit, parse_food, parse_mode,
    parse_temperature, parse_timer, round2, CommandError, ErrorCode, Food, Temperature,
};
use crate::wire::TemperatureUnit;
use serde_json::{Map, Value};

use super::state::TemperatureMode;

/// The command keys of an oven, for error messages.
pub const KEYS: [&str; 16] = [
    "cook",
    "mode",
    "temperature_mode",
    "target_temperature",
    "steam",
    "elements",
    "fan",
    "timer",
    "timer_start",
    "probe_target",
    "title",
    "stages",
    "display_unit",
    "food",
    "id",
    "transaction",
];

/// The keys of one stage (the top level of a one-stage cook, or an entry of `stages`).
pub const STAGE_KEYS: [&str; 9] = [
    "temperature_mode",
    "target_temperature",
    "steam",
    "elements",
    "fan",
    "timer",
    "timer_start",
    "probe_target",
    "title",
];

/// The most stages one cook may have. The app builds a handful; the bound keeps a command and
/// its start payload small.
pub const MAX_STAGES: usize = 10;

/// The longest stage title accepted.
const MAX_TITLE_CHARS: usize = 60;

/// What one stage asks for; every key optional (the rest comes from pending values and
/// defaults when the cook starts).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StageChanges {
    /// The bulb the stage controls.
    pub temperature_mode: Option<TemperatureMode>,
    /// The bulb's target.
    pub target_temperature: Option<Temperature>,
    /// Steam, 0–100 %.
    pub steam: Option<u8>,
    /// Elements.
    pub elements: Option<Elements>,
    /// Fan, 0–100.
    pub fan: Option<u8>,
    /// Timer, seconds (0 = none).
    pub timer: Option<u32>,
    /// When the timer starts.
    pub timer_start: Option<TimerStart>,
    /// Probe target; `Some(None)` clears it.
    pub probe_target: Option<Option<Temperature>>,
    /// Title.
    pub title: Option<String>,
}

impl StageChanges {
    /// True when no key is given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `self` with the keys `over` gives laid over it. A stage ends on its timer or on its
    /// probe, so a probe target given alone replaces an earlier timer, and a timer given alone
    /// replaces an earlier probe target.
    pub fn overlaid(&self, over: &StageChanges) -> StageChanges {
        let probe_given = matches!(over.probe_target, Some(Some(_)));
        let timer_given = over.timer.is_some_and(|t| t > 0);
        let base = StageChanges {
            timer: if probe_given && over.timer.is_none() {
                None
            } else {
                self.timer
            },
            probe_target: if timer_given && over.probe_target.is_none() {
                None
            } else {
                self.probe_target
            },
            ..self.clone()
        };
        let this = &base;
        StageChanges {
            temperature_mode: over.temperature_mode.or(this.temperature_mode),
            target_temperature: over.target_temperature.or(this.target_temperature),
            steam: over.steam.or(this.steam),
            elements: over.elements.or(this.elements),
            fan: over.fan.or(this.fan),
            timer: over.timer.or(this.timer),
            timer_start: over.timer_start.or(this.timer_start),
            probe_target: over.probe_target.or(this.probe_target),
            title: over.title.clone().or_else(|| this.title.clone()),
        }
    }

    /// The stage as the response echoes it: °C, seconds, words.
    pub fn echo(&self, map: &mut Map<String, Value>) {
        if let Some(mode) = self.temperature_mode {
            map.insert("temperature_mode".into(), Value::from(mode.as_str()));
        }
        if let Some(t) = self.target_temperature {
            map.insert(
                "target_temperature".into(),
                json_number(round2(t.celsius())),
            );
        }
        if let Some(steam) = self.steam {
            map.insert("steam".into(), Value::from(steam));
        }
        if let Some(e) = self.elements {
            map.insert("elements".into(), Value::from(element_names(e)));
        }
        if let Some(fan) = self.fan {
            map.insert("fan".into(), Value::from(fan));
        }
        if let Some(timer) = self.timer {
            map.insert("timer".into(), Value::from(timer));
        }
        if let Some(start) = self.timer_start {
            map.insert("timer_start".into(), Value::from(timer_start_name(start)));
        }
        if let Some(probe) = self.probe_target {
            let value = probe.map_or(Value::from(0), |p| json_number(round2(p.celsius())));
            map.insert("probe_target".into(), value);
        }
        if let Some(title) = &self.title {
            map.insert("title".into(), Value::from(title.as_str()));
        }
    }
}

/// What an oven command asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OvenChanges {
    /// Start (`true`) or stop (`false`); `mode` maps here too.
    pub cook: Option<bool>,
    /// The keys of a one-stage cook, given at the top level.
    pub stage: StageChanges,
    /// A multi-stage cook.
    pub stages: Option<Vec<StageChanges>>,
    /// New display unit.
    pub display_unit: Option<TemperatureUnit>,
    /// Turns on the food-safety rules.
    pub food: Option<Food>,
}

impl OvenChanges {
    /// True when it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.cook.is_none()
            && self.stage.is_empty()
            && self.stages.is_none()
            && self.display_unit.is_none()
    }

    /// True when it changes what a cook does (a stage key or `stages`).
    pub fn changes_cook(&self) -> bool {
        !self.stage.is_empty() || self.stages.is_some()
    }

    /// The command as the response echoes it.
    pub fn echo(&self) -> Map<String, Value> {
        let mut map = Map::new();
        if let Some(cook) = self.cook {
            map.insert("cook".into(), Value::Bool(cook));
        }
        self.stage.echo(&mut map);
        if let Some(stages) = &self.stages {
            let list = stages
                .iter()
                .map(|s| {
                    let mut m = Map::new();
                    s.echo(&mut m);
                    Value::Object(m)
                })
                .collect();
            map.insert("stages".into(), Value::Array(list));
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
                "the command does nothing: give cook, mode, a stage key, stages or display_unit",
            ));
        }
        if self.stages.is_some() && !self.stage.is_empty() {
            return Err(CommandError::invalid(
                "give the stage keys either at the top level (one stage) or inside stages, not both",
            ));
        }
        Ok(self)
    }
}

/// The names of the elements that are on, in a fixed order.
pub fn element_names(e: Elements) -> Vec<&'static str> {
    [("top", e.top), ("bottom", e.bottom), ("rear", e.rear)]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect()
}

/// The key's word for a timer start.
pub fn timer_start_name(start: TimerStart) -> &'static str {
    match start {
        TimerStart::Immediately => "immediately",
        TimerStart::WhenPreheated => "when_preheated",
        TimerStart::Manually => "manually",
        TimerStart::OnFoodDetected => "on_food_detected",
    }
}

fn unknown(key: &str, keys: &[&str]) -> CommandError {
    CommandError::new(
        ErrorCode::UnknownKey,
        format!(
            "unknown key {}; the keys are {}",
            describe(&Value::String(key.to_owned())),
            keys.join(", ")
        ),
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

/// Reads one stage key into `stage`; `false` when `key` is not a stage key. `path` names the
/// key in errors (`stages[2].fan`).
fn read_stage_key(
    stage: &mut StageChanges,
    key: &str,
    path: &str,
    value: &Value,
) -> Result<bool, CommandError> {
    match key {
        "temperature_mode" => stage.temperature_mode = Some(parse_temperature_mode(path, value)?),
        "target_temperature" => stage.target_temperature = Some(parse_temperature(path, value)?),
        "steam" => stage.steam = Some(parse_steam(path, value)?),
        "elements" => stage.elements = Some(parse_elements(path, value)?),
        "fan" => stage.fan = Some(parse_fan(path, value)?),
        "timer" => stage.timer = Some(parse_timer(path, value)?),
        "timer_start" => stage.timer_start = Some(parse_timer_start(path, value)?),
        "probe_target" => stage.probe_target = Some(parse_probe(path, value)?),
        "title" => stage.title = Some(parse_title(path, value)?),
        _ => return Ok(false),
    }
    Ok(true)
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
            for (key, value) in fields {
                let path = format!("stages[{}].{key}", i + 1);
                if !read_stage_key(&mut stage, key, &path, value)? {
                    return Err(unknown(&path, &STAGE_KEYS));
                }
            }
            Ok(stage)
        })
        .collect()
}

/// Reads a command object; the first bad key fails it.
pub fn parse(fields: &Map<String, Value>) -> Result<OvenChanges, CommandError> {
    let mut changes = OvenChanges::default();
    let mut mode = None;
    for (key, value) in fields {
        if read_stage_key(&mut changes.stage, key, key, value)? {
            continue;
        }
        match key.as_str() {
            "cook" => changes.cook = Some(parse_cook(value)?),
            "mode" => mode = Some(parse_mode(value)?),
            "stages" => changes.stages = Some(parse_stages(value)?),
            "display_unit" => changes.display_unit = Some(parse_display_unit(value)?),
            "food" => changes.food = parse_food(value)?,
            other => return Err(unknown(other, &KEYS)),
        }
    }
    changes.cook = merge_mode(changes.cook, mode)?;
    changes.checked()
}

/// Reads the plain value of `<id>/set/<key>`.
pub fn parse_key(key: &str, text: &str) -> Result<OvenChanges, CommandError> {
    let value = Value::String(text.to_owned());
    let mut changes = OvenChanges::default();
    if read_stage_key(&mut changes.stage, key, key, &value)? {
        return changes.checked();
    }
    match key {
        "cook" => changes.cook = Some(parse_cook(&value)?),
        "mode" => changes.cook = Some(parse_mode(&value)?),
        "display_unit" => changes.display_unit = Some(parse_display_unit(&value)?),
        "stages" => {
            let parsed: Value = serde_json::from_str(text).map_err(|_| {
                CommandError::invalid("stages: give a JSON array of stage objects")
            })?;
            changes.stages = Some(parse_stages(&parsed)?);
        }
        "food" | "id" | "transaction" => {
            return Err(CommandError::invalid(format!(
                "{key} only qualifies a command; send it together with what to do on the JSON topic …/set"
            )))
        }
        other => return Err(unknown(other, &KEYS)),
    }
    changes.checked()
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
            Value::Object(c.echo()),
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
