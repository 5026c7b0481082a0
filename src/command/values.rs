//! Readers for the values every device family accepts (`docs/interface.md` §3.2): `cook`, `mode`,
//! temperatures, timers, display units and foods.
//!
//! Forgiving about spelling (`ON`, `on`, `true`, `1`; `57.5`, `"135F"`; `90`, `"1h30m"`) and strict
//! about meaning: anything that cannot be read exactly is an error naming the key and quoting
//! (a bounded part of) what was sent.

use super::error::CommandError;
use crate::wire::device::TemperatureUnit;
use serde_json::Value;
use std::time::Duration;

/// The longest timer any device takes: 99 h 59 min (`docs/anova-protocol.md` §5).
pub const MAX_TIMER_S: u32 = 359_940;

/// At most this many characters of a bad value are quoted back in an error message.
const QUOTE_LIMIT: usize = 64;

/// A temperature as the user gave it: the value and the unit it was given in.
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

/// Foods with a safety profile (`docs/interface.md` §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

    /// What the food covers, for people and language models choosing one.
    pub fn meaning(self) -> &'static str {
        match self {
            Food::Poultry => "chicken, turkey, duck and other birds",
            Food::GroundMeat => "minced meat of any animal: burgers, sausages, meatballs",
            Food::Pork => "whole cuts of pork",
            Food::Beef => "whole cuts of beef: steaks, roasts",
            Food::Lamb => "whole cuts of lamb",
            Food::Fish => "fish and seafood",
            Food::Eggs => "eggs in the shell",
            Food::Vegetables => "vegetables and fruit",
        }
    }

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

/// Rounds to 2 decimals, the resolution of the devices' own readings.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// A temperature as responses echo it: °C to 2 decimals, whole numbers without a fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Celsius2(pub Temperature);

impl serde::Serialize for Celsius2 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        json_number(round2(self.0.celsius())).serialize(serializer)
    }
}

/// A JSON number, whole numbers without a fraction.
pub fn json_number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// A value as it is quoted in an error message: strings quoted, everything bounded.
pub fn describe(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    bounded(&text)
}

/// At most `QUOTE_LIMIT` characters of `text`, with `…` when cut.
pub fn bounded(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A number without a useless fraction: 92 rather than 92.0, 57.22 rather than 57.2222.
pub fn trim(value: f64) -> String {
    let rounded = round2(value);
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}

/// A temperature for messages: `57.5 °C`, or `135 °F (57.22 °C)`.
pub fn show_temperature(t: Temperature) -> String {
    let given = format!("{} °{}", trim(t.value), t.unit);
    match t.unit {
        TemperatureUnit::C => given,
        TemperatureUnit::F => format!("{given} ({} °C)", trim(t.celsius())),
    }
}

/// Seconds as `4 h`, `1 h 30 min`, `45 min`, `90 s`.
pub fn show_duration(seconds: u64) -> String {
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

/// `true`/`false`, `ON`/`OFF`, `start`/`stop`, `1`/`0`, in any case.
pub fn parse_cook(value: &Value) -> Result<bool, CommandError> {
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
        CommandError::invalid(format!(
            "cook {}: use true/false, ON/OFF, start/stop or 1/0",
            describe(value)
        ))
    })
}

/// `heat` / `off`, the climate entity's words for `cook`.
pub fn parse_mode(value: &Value) -> Result<bool, CommandError> {
    match value.as_str().map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s == "heat" => Ok(true),
        Some(s) if s == "off" => Ok(false),
        _ => Err(CommandError::invalid(format!(
            "mode {}: use heat or off",
            describe(value)
        ))),
    }
}

/// Merges `mode` into `cook`; the two must agree when both are given.
pub fn merge_mode(cook: Option<bool>, mode: Option<bool>) -> Result<Option<bool>, CommandError> {
    match (cook, mode) {
        (Some(cook), Some(mode)) if cook != mode => Err(CommandError::invalid(
            "cook and mode disagree: mode heat means cook true, mode off means cook false",
        )),
        (cook, mode) => Ok(mode.or(cook)),
    }
}

/// A number (°C) or a string with an optional unit: `57.5`, `"57.5C"`, `"135F"`, `"135 °F"`.
/// `key` names the command key in errors.
pub fn parse_temperature(key: &str, value: &Value) -> Result<Temperature, CommandError> {
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
        _ => Err(CommandError::invalid(format!(
            "{key} {}: give a number in °C or a string such as \"57.5C\" or \"135F\"",
            describe(value)
        ))),
    }
}

fn parse_temperature_text(text: &str) -> Option<Temperature> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().next_back() {
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
/// `"1:30"` (h:mm). Returns whole seconds, at most [`MAX_TIMER_S`]; `key` names the command
/// key in errors, which quote what was sent.
pub fn parse_timer(key: &str, value: &Value) -> Result<u32, CommandError> {
    let bad = |why: &str| {
        CommandError::invalid(format!(
            "{key} {}: {why}; give minutes (90) or a duration (\"90m\", \"1h30m\", \"5400s\", \"1:30\")",
            describe(value)
        ))
    };
    let seconds: f64 = match value {
        Value::Number(n) => n
            .as_f64()
            .map(|m| m * 60.0)
            .ok_or_else(|| bad("not a number"))?,
        Value::String(s) if s.trim_start().starts_with('-') => return Err(bad("negative")),
        Value::String(s) => parse_timer_text(s).ok_or_else(|| bad("not a duration"))?,
        _ => return Err(bad("not a number")),
    };
    if !seconds.is_finite() {
        return Err(bad("not a number"));
    }
    if seconds < 0.0 {
        return Err(bad("negative"));
    }
    let seconds = seconds.round();
    if seconds > f64::from(MAX_TIMER_S) {
        return Err(CommandError::new(
            super::ErrorCode::OutOfRange,
            format!(
                "{key} {} is above the maximum of {}",
                describe(value),
                show_duration(u64::from(MAX_TIMER_S))
            ),
        ));
    }
    Ok(seconds as u32)
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
        return Some(hours as f64 * 3600.0 + (minutes * 60 + seconds) as f64);
    }
    humantime::parse_duration(text)
        .ok()
        .map(|d: Duration| d.as_secs_f64())
}

/// `C` / `F` (any case, `°C`, `celsius`, …).
pub fn parse_display_unit(value: &Value) -> Result<TemperatureUnit, CommandError> {
    let text = value
        .as_str()
        .map(|s| s.trim().trim_start_matches('°').to_ascii_lowercase());
    match text.as_deref() {
        Some("c" | "celsius") => Ok(TemperatureUnit::C),
        Some("f" | "fahrenheit") => Ok(TemperatureUnit::F),
        _ => Err(CommandError::invalid(format!(
            "display_unit {}: use C or F",
            describe(value)
        ))),
    }
}

/// One of the foods, or `null`/`""`/`"none"` for none.
pub fn parse_food(value: &Value) -> Result<Option<Food>, CommandError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none") => {
            Ok(None)
        }
        Value::String(s) => Food::parse(s).map(Some).ok_or_else(|| {
            CommandError::invalid(format!(
                "food {}: use one of {}",
                describe(value),
                Food::ALL.map(Food::as_str).join(", ")
            ))
        }),
        other => Err(CommandError::invalid(format!(
            "food {}: must be a string",
            describe(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::ErrorCode;
    use serde_json::json;

    fn text(s: &str) -> Value {
        Value::String(s.to_owned())
    }

    #[test]
    fn cook_and_mode_spellings() {
        for on in ["ON", "on", "true", "TRUE", "1", "start", "Start"] {
            assert_eq!(parse_cook(&text(on)), Ok(true), "{on}");
        }
        for off in ["OFF", "off", "false", "0", "stop"] {
            assert_eq!(parse_cook(&text(off)), Ok(false), "{off}");
        }
        assert_eq!(parse_cook(&json!(true)), Ok(true));
        assert_eq!(parse_cook(&json!(0)), Ok(false));
        assert!(parse_cook(&json!(2)).is_err());
        assert!(parse_cook(&text("maybe")).is_err());
        assert_eq!(parse_mode(&text("Heat")), Ok(true));
        assert_eq!(parse_mode(&text("off")), Ok(false));
        assert!(parse_mode(&text("cool")).is_err());
        assert_eq!(merge_mode(Some(true), Some(true)), Ok(Some(true)));
        assert_eq!(merge_mode(None, Some(false)), Ok(Some(false)));
        assert!(merge_mode(Some(true), Some(false)).is_err());
    }

    #[test]
    fn temperature_spellings() {
        let t = |s: &str| parse_temperature("target_temperature", &text(s)).unwrap();
        let c = |value| Temperature {
            value,
            unit: TemperatureUnit::C,
        };
        let f = |value| Temperature {
            value,
            unit: TemperatureUnit::F,
        };
        assert_eq!(t("57.5"), c(57.5));
        assert_eq!(t("57.5C"), c(57.5));
        assert_eq!(t("57.5 c"), c(57.5));
        assert_eq!(t("135F"), f(135.0));
        assert_eq!(t("135 °F"), f(135.0));
        assert_eq!(t("135°F"), f(135.0));
        assert!((t("135F").celsius() - 57.222).abs() < 1e-3);
        for bad in ["", "hot", "57.5K", "57.5 xF", "NaN", "inf", "°F"] {
            assert!(parse_temperature("t", &text(bad)).is_err(), "{bad}");
        }
        assert!(parse_temperature("t", &json!(true)).is_err());
    }

    #[test]
    fn timer_spellings_and_errors_quote_what_was_sent() {
        let t = |v: Value| parse_timer("timer", &v);
        assert_eq!(t(text("90")), Ok(5400));
        assert_eq!(t(text("90m")), Ok(5400));
        assert_eq!(t(text("1h 30m")), Ok(5400));
        assert_eq!(t(text("5400s")), Ok(5400));
        assert_eq!(t(text("1:30:15")), Ok(5415));
        assert_eq!(t(json!(90)), Ok(5400));
        assert_eq!(t(json!(0)), Ok(0));
        for bad in ["", "soon", "1:75"] {
            let err = t(text(bad)).unwrap_err();
            assert!(err.message.contains("not a duration"), "{bad}: {err}");
        }
        for negative in [text("-5"), text("-1h"), json!(-5)] {
            let err = t(negative.clone()).unwrap_err();
            assert!(err.message.contains("negative"), "{negative}: {err}");
        }
        let err = t(text("1000000000000h")).unwrap_err();
        assert_eq!(err.code, ErrorCode::OutOfRange);
        assert_eq!(
            err.message,
            "timer \"1000000000000h\" is above the maximum of 99 h 59 min"
        );
        let err = t(json!(6000)).unwrap_err();
        assert_eq!(
            err.message,
            "timer 6000 is above the maximum of 99 h 59 min"
        );
        assert_eq!(t(json!(5999)), Ok(359_940));
    }

    #[test]
    fn display_unit_and_food() {
        assert_eq!(parse_display_unit(&text("f")), Ok(TemperatureUnit::F));
        assert_eq!(parse_display_unit(&text("°C")), Ok(TemperatureUnit::C));
        assert!(parse_display_unit(&text("K")).is_err());
        assert_eq!(parse_food(&text("Ground Meat")), Ok(Some(Food::GroundMeat)));
        assert_eq!(parse_food(&text("none")), Ok(None));
        assert_eq!(parse_food(&Value::Null), Ok(None));
        assert!(parse_food(&text("tofu")).is_err());
    }

    #[test]
    fn huge_values_are_quoted_bounded() {
        let huge = "x".repeat(900_000);
        let err = parse_cook(&text(&huge)).unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message.len());
        assert!(err.message.contains('…'));
    }

    #[test]
    fn formatting() {
        assert_eq!(show_duration(90), "1 min 30 s");
        assert_eq!(show_duration(3661), "1 h 1 min 1 s");
        assert_eq!(show_duration(5400), "1 h 30 min");
        assert_eq!(trim(92.0), "92");
        assert_eq!(trim(57.2222), "57.22");
        assert_eq!(
            show_temperature(Temperature {
                value: 200.0,
                unit: TemperatureUnit::F
            }),
            "200 °F (93.33 °C)"
        );
    }
}
