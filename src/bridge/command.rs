//! Turning an MQTT command into a typed [`CommandRequest`]: the JSON form on `<id>/set` and the
//! plain form on `<id>/set/<key>` (`interface.md` §3.2).
//!
//! Parsing is forgiving about spelling (`ON`, `on`, `true`, `1`; `57.5`, `"135F"`; `90`,
//! `"1h30m"`) and strict about meaning: anything it cannot read exactly is an error naming the
//! part, and nothing is sent. Range and safety checks happen later, against the cooker's model
//! (see `validate`), because they need to know which cooker it is.

use crate::anova::protocol::TemperatureUnit;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;

/// The error codes of `interface.md` §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The payload of `set` is not a JSON object.
    InvalidJson,
    /// A key we do not know.
    UnknownKey,
    /// A value we cannot read.
    InvalidValue,
    /// Outside the model's or the configured range.
    OutOfRange,
    /// Refused by the food-safety rules.
    Unsafe,
    /// A retained message on a command topic.
    RetainedCommand,
    /// Too many commands.
    RateLimited,
    /// The cooker is offline.
    DeviceOffline,
    /// The cloud link is down.
    CloudUnavailable,
    /// The cloud answered with an error.
    Rejected,
    /// No RESPONSE from the cloud in time.
    Timeout,
    /// The cloud said ok but the state never showed the change.
    NotConfirmed,
}

/// A command error: a code from the contract and a message for humans.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandError {
    /// The machine-readable code.
    pub code: ErrorCode,
    /// What went wrong, naming the part.
    pub message: String,
    /// For `unsafe`: the values that would be accepted.
    pub safe: Option<Box<Map<String, Value>>>,
}

impl CommandError {
    /// An error without a safe alternative.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            safe: None,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

/// A target temperature as the user gave it: the value, the unit it was given in, and °C.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Temperature {
    /// As given.
    pub value: f64,
    /// The unit it was given in (°C when none was given).
    pub unit: TemperatureUnit,
}

impl Temperature {
    /// In °C.
    pub fn celsius(self) -> f64 {
        self.unit.to_celsius(self.value)
    }

    /// A °C value.
    pub fn from_celsius(celsius: f64) -> Self {
        Self {
            value: celsius,
            unit: TemperatureUnit::C,
        }
    }
}

/// Foods with a safety profile (`interface.md` §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Food {
    /// Chicken, turkey, duck…
    Poultry,
    /// Minced meat of any kind.
    GroundMeat,
    /// Whole cuts of pork.
    Pork,
    /// Whole cuts of beef.
    Beef,
    /// Whole cuts of lamb.
    Lamb,
    /// Fish and seafood.
    Fish,
    /// Eggs in the shell.
    Eggs,
    /// Vegetables.
    Vegetables,
}

impl Food {
    /// Every food, in the order of the contract.
    pub const ALL: [Food; 8] = [
        Food::Poultry,
        Food::GroundMeat,
        Food::Pork,
        Food::Beef,
        Food::Lamb,
        Food::Fish,
        Food::Eggs,
        Food::Vegetables,
    ];

    /// The key used in commands.
    pub fn as_str(self) -> &'static str {
        match self {
            Food::Poultry => "poultry",
            Food::GroundMeat => "ground_meat",
            Food::Pork => "pork",
            Food::Beef => "beef",
            Food::Lamb => "lamb",
            Food::Fish => "fish",
            Food::Eggs => "eggs",
            Food::Vegetables => "vegetables",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let key = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL.into_iter().find(|f| f.as_str() == key)
    }
}

/// What a command asks for; every part optional, at least one present.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes {
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

impl Changes {
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
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRequest {
    /// The caller's `id` (or `transaction`); `None` means we generate one.
    pub id: Option<String>,
    /// Which key carried the id (`id` or `transaction`), echoed back under the same name.
    pub id_key: &'static str,
    /// What to do.
    pub changes: Changes,
}

/// A command that could not be parsed, with the caller's id if we could read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseFailure {
    /// The caller's id, when readable.
    pub id: Option<String>,
    /// Which key carried it.
    pub id_key: &'static str,
    /// What was wrong.
    pub error: CommandError,
}

/// The command keys of the contract, for error messages.
pub const KEYS: [&str; 7] = [
    "cook",
    "mode",
    "target_temperature",
    "timer",
    "display_unit",
    "food",
    "id",
];

/// Rounds to 2 decimals, the resolution of the cooker's own readings.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// A JSON number, whole numbers without a fraction.
pub fn json_number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError::new(ErrorCode::InvalidValue, message)
}

/// Parses the JSON object of `<id>/set`.
pub fn parse_json(payload: &[u8]) -> Result<CommandRequest, ParseFailure> {
    let fail = |id: Option<String>, id_key, error| ParseFailure { id, id_key, error };
    let value: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(e) => {
            return Err(fail(
                None,
                "id",
                CommandError::new(
                    ErrorCode::InvalidJson,
                    format!("payload is not valid JSON: {e}"),
                ),
            ))
        }
    };
    let Value::Object(object) = value else {
        return Err(fail(
            None,
            "id",
            CommandError::new(
                ErrorCode::InvalidJson,
                "payload must be a JSON object such as {\"cook\": true}",
            ),
        ));
    };

    // Read the id first so that every later error can still be correlated.
    let (id, id_key) = match read_id(&object) {
        Ok(found) => found,
        Err(error) => return Err(fail(None, "id", error)),
    };
    let mut changes = Changes::default();
    let mut mode = None;
    for (key, value) in &object {
        let result = match key.as_str() {
            "id" | "transaction" => Ok(()),
            "cook" => parse_cook(value).map(|v| changes.cook = Some(v)),
            "mode" => parse_mode(value).map(|v| mode = Some(v)),
            "target_temperature" => {
                parse_temperature(value).map(|v| changes.target_temperature = Some(v))
            }
            "timer" => parse_timer(value).map(|v| changes.timer = Some(v)),
            "display_unit" => parse_display_unit(value).map(|v| changes.display_unit = Some(v)),
            "food" => parse_food(value).map(|v| changes.food = v),
            other => Err(CommandError::new(
                ErrorCode::UnknownKey,
                format!("unknown key {other:?}; the keys are {}", KEYS.join(", ")),
            )),
        };
        if let Err(error) = result {
            return Err(fail(id, id_key, error));
        }
    }
    if let Err(error) = merge_mode(&mut changes, mode) {
        return Err(fail(id, id_key, error));
    }
    finish(id, id_key, changes).map_err(|error| fail(None, id_key, error))
}

/// Parses the plain payload of `<id>/set/<key>`.
pub fn parse_plain(key: &str, payload: &[u8]) -> Result<CommandRequest, ParseFailure> {
    let fail = |error| ParseFailure {
        id: None,
        id_key: "id",
        error,
    };
    let text = std::str::from_utf8(payload)
        .map_err(|_| fail(invalid(format!("{key}: payload is not UTF-8 text"))))?;
    // Node-RED and shells sometimes quote plain values; a JSON string is the same value.
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    let value = Value::String(text.to_owned());
    let mut changes = Changes::default();
    let result = match key {
        "cook" => parse_cook(&value).map(|v| changes.cook = Some(v)),
        "mode" => parse_mode(&value).map(|v| changes.cook = Some(v)),
        "target_temperature" => parse_temperature(&value).map(|v| changes.target_temperature = Some(v)),
        "timer" => parse_timer(&value).map(|v| changes.timer = Some(v)),
        "display_unit" => parse_display_unit(&value).map(|v| changes.display_unit = Some(v)),
        "food" | "id" | "transaction" => Err(invalid(format!(
            "{key} only qualifies a command; send it together with what to do on the JSON topic …/set"
        ))),
        other => Err(CommandError::new(
            ErrorCode::UnknownKey,
            format!("unknown key {other:?}; the keys are {}", KEYS.join(", ")),
        )),
    };
    result.map_err(fail)?;
    finish(None, "id", changes).map_err(fail)
}

fn finish(
    id: Option<String>,
    id_key: &'static str,
    changes: Changes,
) -> Result<CommandRequest, CommandError> {
    if changes.is_empty() {
        return Err(invalid(
            "the command does nothing: give cook, mode, target_temperature, timer or display_unit",
        ));
    }
    Ok(CommandRequest {
        id,
        id_key,
        changes,
    })
}

fn read_id(object: &Map<String, Value>) -> Result<(Option<String>, &'static str), CommandError> {
    let (key, value) = match (object.get("id"), object.get("transaction")) {
        (Some(v), _) => ("id", v),
        (None, Some(v)) => ("transaction", v),
        (None, None) => return Ok((None, "id")),
    };
    let id = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => return Ok((None, key)),
        _ => return Err(invalid(format!("{key} must be a string"))),
    };
    Ok((Some(id), key))
}

fn merge_mode(changes: &mut Changes, mode: Option<bool>) -> Result<(), CommandError> {
    match (changes.cook, mode) {
        (Some(cook), Some(mode)) if cook != mode => Err(invalid(
            "cook and mode disagree: mode heat means cook true, mode off means cook false",
        )),
        (_, Some(mode)) => {
            changes.cook = Some(mode);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// `true`/`false`, `ON`/`OFF`, `start`/`stop`, `1`/`0`, in any case.
fn parse_cook(value: &Value) -> Result<bool, CommandError> {
    let parsed = match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_f64() == Some(1.0) => Some(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Some(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "on" | "start" | "1" => Some(true),
            "false" | "off" | "stop" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| {
        invalid(format!(
            "cook {}: use true/false, ON/OFF, start/stop or 1/0",
            describe(value)
        ))
    })
}

/// `heat` / `off`, the climate entity's words.
fn parse_mode(value: &Value) -> Result<bool, CommandError> {
    match value.as_str().map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s == "heat" => Ok(true),
        Some(s) if s == "off" => Ok(false),
        _ => Err(invalid(format!(
            "mode {}: use heat or off",
            describe(value)
        ))),
    }
}

/// A number (°C) or a string with an optional unit: `57.5`, `"57.5C"`, `"135F"`, `"135 °F"`.
fn parse_temperature(value: &Value) -> Result<Temperature, CommandError> {
    let bad = || {
        invalid(format!(
            "target_temperature {}: give a number in °C or a string such as \"57.5C\" or \"135F\"",
            describe(value)
        ))
    };
    let parsed = match value {
        Value::Number(n) => n.as_f64().map(|value| Temperature {
            value,
            unit: TemperatureUnit::C,
        }),
        Value::String(s) => parse_temperature_text(s),
        _ => None,
    };
    match parsed {
        Some(t) if t.value.is_finite() => Ok(t),
        _ => Err(bad()),
    }
}

fn parse_temperature_text(text: &str) -> Option<Temperature> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().rev().find(|(_, c)| !c.is_whitespace()) {
        Some((i, c)) if c.eq_ignore_ascii_case(&'c') || c.eq_ignore_ascii_case(&'f') => {
            let unit = TemperatureUnit::parse(&c.to_string())?;
            let number = text[..i].trim_end();
            // "135 °F", "135°F", "57.5 deg C" are all fine; "57.5 xC" is not.
            let number = number
                .strip_suffix('°')
                .or_else(|| number.strip_suffix("deg"))
                .unwrap_or(number)
                .trim_end();
            (number, unit)
        }
        _ => (text, TemperatureUnit::C),
    };
    let value: f64 = number.parse().ok()?;
    Some(Temperature { value, unit })
}

/// Minutes as a number (`90`, `1.5`), or a duration string: `"90m"`, `"1h30m"`, `"5400s"`,
/// `"1:30"` (h:mm). Returns whole seconds.
fn parse_timer(value: &Value) -> Result<u32, CommandError> {
    let bad = |why: &str| {
        invalid(format!(
            "timer {}: {why}; give minutes (90) or a duration (\"90m\", \"1h30m\", \"5400s\", \"1:30\")",
            describe(value)
        ))
    };
    let seconds: f64 = match value {
        Value::Number(n) => n
            .as_f64()
            .map(|m| m * 60.0)
            .ok_or_else(|| bad("not a number"))?,
        Value::String(s) => parse_timer_text(s).ok_or_else(|| bad("not a duration"))?,
        _ => return Err(bad("not a number")),
    };
    if !seconds.is_finite() {
        return Err(bad("not a number"));
    }
    if seconds < 0.0 {
        return Err(bad("negative"));
    }
    // Anything that does not fit is far beyond the 99 h 59 min the range check will reject.
    Ok(if seconds >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        seconds.round() as u32
    })
}

fn parse_timer_text(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(minutes) = text.parse::<f64>() {
        return Some(minutes * 60.0);
    }
    if let Some((hours, rest)) = text.split_once(':') {
        let (minutes, seconds) = match rest.split_once(':') {
            Some((m, s)) => (m, Some(s)),
            None => (rest, None),
        };
        let hours: u64 = hours.trim().parse().ok()?;
        let minutes: u64 = minutes.trim().parse().ok()?;
        let seconds: u64 = match seconds {
            Some(s) => s.trim().parse().ok()?,
            None => 0,
        };
        if minutes >= 60 || seconds >= 60 {
            return None;
        }
        return Some((hours * 3600 + minutes * 60 + seconds) as f64);
    }
    humantime::parse_duration(text)
        .ok()
        .map(|d: Duration| d.as_secs_f64())
}

/// `C` / `F` (any case, `°C`, `celsius`, …).
fn parse_display_unit(value: &Value) -> Result<TemperatureUnit, CommandError> {
    let text = value
        .as_str()
        .map(|s| s.trim().trim_start_matches('°').to_ascii_lowercase());
    match text.as_deref() {
        Some("c" | "celsius") => Ok(TemperatureUnit::C),
        Some("f" | "fahrenheit") => Ok(TemperatureUnit::F),
        _ => Err(invalid(format!(
            "display_unit {}: use C or F",
            describe(value)
        ))),
    }
}

/// One of the foods, or `null`/`""`/`"none"` for none.
fn parse_food(value: &Value) -> Result<Option<Food>, CommandError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none") => {
            Ok(None)
        }
        Value::String(s) => Food::parse(s).map(Some).ok_or_else(|| {
            invalid(format!(
                "food {s:?}: use one of {}",
                Food::ALL.map(Food::as_str).join(", ")
            ))
        }),
        other => Err(invalid(format!(
            "food {}: must be a string",
            describe(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<CommandRequest, ParseFailure> {
        parse_json(text.as_bytes())
    }

    fn plain(key: &str, text: &str) -> Result<CommandRequest, ParseFailure> {
        parse_plain(key, text.as_bytes())
    }

    fn code(r: Result<CommandRequest, ParseFailure>) -> ErrorCode {
        r.unwrap_err().error.code
    }

    #[test]
    fn cook_spellings() {
        for on in ["ON", "on", "true", "TRUE", "1", "start", "Start", "\"on\""] {
            assert_eq!(plain("cook", on).unwrap().changes.cook, Some(true), "{on}");
        }
        for off in ["OFF", "off", "false", "0", "stop"] {
            assert_eq!(
                plain("cook", off).unwrap().changes.cook,
                Some(false),
                "{off}"
            );
        }
        assert_eq!(json(r#"{"cook":true}"#).unwrap().changes.cook, Some(true));
        assert_eq!(json(r#"{"cook":0}"#).unwrap().changes.cook, Some(false));
        assert_eq!(code(plain("cook", "maybe")), ErrorCode::InvalidValue);
        assert_eq!(code(json(r#"{"cook":2}"#)), ErrorCode::InvalidValue);
    }

    #[test]
    fn mode_maps_to_cook() {
        assert_eq!(plain("mode", "heat").unwrap().changes.cook, Some(true));
        assert_eq!(plain("mode", "off").unwrap().changes.cook, Some(false));
        assert_eq!(
            json(r#"{"mode":"heat","cook":true}"#).unwrap().changes.cook,
            Some(true)
        );
        assert_eq!(
            code(json(r#"{"mode":"heat","cook":false}"#)),
            ErrorCode::InvalidValue
        );
        assert_eq!(code(plain("mode", "cool")), ErrorCode::InvalidValue);
    }

    #[test]
    fn temperature_spellings() {
        let t = |s: &str| {
            plain("target_temperature", s)
                .unwrap()
                .changes
                .target_temperature
                .unwrap()
        };
        assert_eq!(
            t("57.5"),
            Temperature {
                value: 57.5,
                unit: TemperatureUnit::C
            }
        );
        assert_eq!(
            t("57.5C"),
            Temperature {
                value: 57.5,
                unit: TemperatureUnit::C
            }
        );
        assert_eq!(
            t("57.5 c"),
            Temperature {
                value: 57.5,
                unit: TemperatureUnit::C
            }
        );
        assert_eq!(
            t("135F"),
            Temperature {
                value: 135.0,
                unit: TemperatureUnit::F
            }
        );
        assert_eq!(
            t("135 °F"),
            Temperature {
                value: 135.0,
                unit: TemperatureUnit::F
            }
        );
        assert_eq!(
            t("135°F"),
            Temperature {
                value: 135.0,
                unit: TemperatureUnit::F
            }
        );
        assert!((t("135F").celsius() - 57.222).abs() < 1e-3);
        let j = json(r#"{"target_temperature":"57.5C"}"#).unwrap();
        assert_eq!(j.changes.target_temperature.unwrap().value, 57.5);
        let j = json(r#"{"target_temperature":60}"#).unwrap();
        assert_eq!(j.changes.target_temperature.unwrap().value, 60.0);
        for bad in ["", "hot", "57.5K", "57.5 xF", "NaN", "inf", "°F"] {
            assert_eq!(
                code(plain("target_temperature", bad)),
                ErrorCode::InvalidValue,
                "{bad}"
            );
        }
        assert_eq!(
            code(json(r#"{"target_temperature":true}"#)),
            ErrorCode::InvalidValue
        );
    }

    #[test]
    fn timer_spellings() {
        let t = |s: &str| plain("timer", s).unwrap().changes.timer.unwrap();
        assert_eq!(t("90"), 5400);
        assert_eq!(t("90.0"), 5400);
        assert_eq!(t("90m"), 5400);
        assert_eq!(t("1h30m"), 5400);
        assert_eq!(t("1h 30m"), 5400);
        assert_eq!(t("5400s"), 5400);
        assert_eq!(t("1:30"), 5400);
        assert_eq!(t("1:30:15"), 5415);
        assert_eq!(t("0"), 0);
        assert_eq!(json(r#"{"timer":90}"#).unwrap().changes.timer, Some(5400));
        assert_eq!(json(r#"{"timer":"2h"}"#).unwrap().changes.timer, Some(7200));
        for bad in ["", "soon", "-5", "1:75", "-1h"] {
            assert_eq!(code(plain("timer", bad)), ErrorCode::InvalidValue, "{bad}");
        }
    }

    #[test]
    fn display_unit_and_food() {
        assert_eq!(
            plain("display_unit", "f").unwrap().changes.display_unit,
            Some(TemperatureUnit::F)
        );
        assert_eq!(
            plain("display_unit", "°C").unwrap().changes.display_unit,
            Some(TemperatureUnit::C)
        );
        assert_eq!(code(plain("display_unit", "K")), ErrorCode::InvalidValue);
        let r = json(r#"{"cook":true,"food":"Ground Meat"}"#).unwrap();
        assert_eq!(r.changes.food, Some(Food::GroundMeat));
        assert_eq!(
            code(json(r#"{"cook":true,"food":"tofu"}"#)),
            ErrorCode::InvalidValue
        );
        assert_eq!(code(plain("food", "beef")), ErrorCode::InvalidValue);
    }

    #[test]
    fn ids_are_read_even_when_the_rest_is_bad() {
        let failure = json(r#"{"id":"abc","target_temperature":"hot"}"#).unwrap_err();
        assert_eq!(failure.id.as_deref(), Some("abc"));
        assert_eq!(failure.error.code, ErrorCode::InvalidValue);
        assert!(failure.error.message.contains("target_temperature"));
        let failure = json(r#"{"transaction":7,"colour":"red"}"#).unwrap_err();
        assert_eq!(failure.id.as_deref(), Some("7"));
        assert_eq!(failure.id_key, "transaction");
        assert_eq!(failure.error.code, ErrorCode::UnknownKey);
        assert!(failure.error.message.contains("colour"));
    }

    #[test]
    fn structural_errors() {
        assert_eq!(code(json("{nope")), ErrorCode::InvalidJson);
        assert_eq!(code(json("[1,2]")), ErrorCode::InvalidJson);
        assert_eq!(code(json("57")), ErrorCode::InvalidJson);
        assert_eq!(code(json(r#"{"id":"x"}"#)), ErrorCode::InvalidValue);
        assert_eq!(code(json(r#"{"food":"beef"}"#)), ErrorCode::InvalidValue);
        assert_eq!(code(plain("colour", "red")), ErrorCode::UnknownKey);
        assert_eq!(
            code(parse_plain("cook", &[0xff, 0xfe])),
            ErrorCode::InvalidValue
        );
    }

    #[test]
    fn echo_is_in_celsius_and_seconds() {
        let r =
            json(r#"{"cook":true,"target_temperature":"135F","timer":"1h30m","id":"a"}"#).unwrap();
        let echo = Value::Object(r.changes.echo());
        assert_eq!(
            echo,
            serde_json::json!({"cook":true,"target_temperature":57.22,"timer":5400})
        );
    }
}
