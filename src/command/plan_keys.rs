//! The keys of `docs/interface.md` §8 that every device family reads alike: `preset`, the named
//! command a command starts from; `start_at` and `ready_by`, when a start is to happen; and
//! `schedule: cancel`. Each family's key table holds an entry for each (so the parser, the
//! OpenAPI document and the MCP tools know them like any other key); the bridge core acts on
//! them, because presets are configuration and plans have their own timing, neither of which
//! the families hold.

use super::error::CommandError;
use super::keys::described;
use super::values::{describe, parse_food, Food};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The longest preset name.
pub const MAX_PRESET_NAME: usize = 64;

/// A time a command names: an instant, or a wall-clock time of day in `schedule.timezone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// RFC 3339 with an offset: this instant.
    At(OffsetDateTime),
    /// `HH:MM`: the next such time in the configured time zone.
    Local {
        /// 0–23.
        hour: u8,
        /// 0–59.
        minute: u8,
    },
}

/// What a command asks of §8, besides the family's own keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanKeys {
    /// `preset`: start from this named command; the command's own keys override it.
    pub preset: Option<String>,
    /// `start_at`: start the cook then.
    pub start_at: Option<When>,
    /// `ready_by`: start early enough that the cook is done then.
    pub ready_by: Option<When>,
    /// `schedule: cancel`: cancel the device's pending plan.
    pub cancel: bool,
    /// `food` was given, `none` included: a delayed cooker plan needs an answer (§8.3).
    pub food_named: bool,
}

impl PlanKeys {
    /// True when no key of §8 was given (`food` aside).
    pub fn is_empty(&self) -> bool {
        self.preset.is_none() && !self.plans()
    }

    /// True when the command makes or cancels a plan rather than acting now.
    pub fn plans(&self) -> bool {
        self.start_at.is_some() || self.ready_by.is_some() || self.cancel
    }
}

/// Reads `food` into `food`, noting in `plan` that it was given (`none` included).
pub fn read_food(
    food: &mut Option<Food>,
    plan: &mut PlanKeys,
    value: &Value,
) -> Result<(), CommandError> {
    *food = parse_food(value)?;
    plan.food_named = true;
    Ok(())
}

/// Reads `start_at` / `ready_by` (`key`): RFC 3339 with an offset (`2026-12-24T18:00:00+01:00`,
/// `…Z`), or a local time of day `HH:MM` (`18:00`, `7:30`).
pub fn parse_when(key: &str, value: &Value) -> Result<When, CommandError> {
    let bad = || {
        CommandError::invalid(format!(
            "{key} {}: give a time of day \"HH:MM\" (the next such time in \
             schedule.timezone) or an RFC 3339 time with its offset, such as \
             \"2026-12-24T18:00:00+01:00\"",
            describe(value)
        ))
    };
    let text = value.as_str().map(str::trim).ok_or_else(bad)?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if let Some((h, m)) = text.split_once(':') {
        if h.len() <= 2 && m.len() == 2 && digits(h) && digits(m) {
            return match (h.parse::<u8>(), m.parse::<u8>()) {
                (Ok(hour), Ok(minute)) if hour < 24 && minute < 60 => {
                    Ok(When::Local { hour, minute })
                }
                _ => Err(bad()),
            };
        }
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .map(When::At)
        .map_err(|_| bad())
}

/// Reads `schedule`: only `cancel`.
pub fn parse_schedule(value: &Value) -> Result<bool, CommandError> {
    match value.as_str().map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s == "cancel" => Ok(true),
        _ => Err(CommandError::invalid(format!(
            "schedule {}: the only value is \"cancel\" (cancels the device's pending plan)",
            describe(value)
        ))),
    }
}

/// The schema of `start_at` (`ready_by` false) or `ready_by`.
pub fn when_schema(ready_by: bool) -> Value {
    let what = if ready_by {
        "Have the cook done by this time: the bridge starts it early enough for its timer \
         (required) plus the time to reach the target, estimated from this device's past cooks \
         (else a conservative default). The response's `schedule` says when it will start."
    } else {
        "Start this cook at this time instead of now."
    };
    described(
        json!({"type": "string", "examples": ["18:00", "2026-12-24T18:00:00+01:00"]}),
        format!(
            "{what} A time of day \"HH:MM\" is the next such time in the bridge's \
             schedule.timezone; an RFC 3339 time needs its offset. The plan is checked at once \
             (ranges, food safety) and answered with a `schedule` object; one plan waits per \
             device, a new one replaces it. A delayed sous-vide cook needs `food` (\"none\" \
             for water only): perishable food must be kept in an ice bath, the bridge watches \
             the water and starts early if the food would spend more than 2 hours above \
             4.4 °C. Cancel with schedule: \"cancel\" or cook: false."
        ),
    )
}

/// The schema of `schedule`.
pub fn schedule_schema() -> Value {
    described(
        json!({"type": "string", "enum": ["cancel"]}),
        "\"cancel\" cancels the device's pending plan (a start_at or ready_by cook not started \
         yet); alone, without other keys.",
    )
}

/// True for a preset name: a slug of `a-z`, `0-9`, `-` and `_`, starting with a letter or a
/// digit, at most [`MAX_PRESET_NAME`] characters.
pub fn is_preset_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PRESET_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Reads `preset`: a preset's name, any case (`Chicken-Breast` is `chicken-breast`). Whether a
/// preset of that name exists is decided where the presets are known.
pub fn parse_preset(value: &Value) -> Result<String, CommandError> {
    let name = value
        .as_str()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| is_preset_name(s));
    name.ok_or_else(|| {
        CommandError::invalid(format!(
            "preset {}: give the name of a preset (GET /api/v1/presets or the retained \
             <base>/bridge/presets list them)",
            describe(value)
        ))
    })
}

/// The schema of `preset`; `family` is `cooker` or `oven`.
pub fn preset_schema(family: &str) -> Value {
    described(
        json!({"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}),
        format!(
            "Start from a preset: a named command of this {family}'s family (built in, or \
             `[[presets]]` in the configuration; GET /api/v1/presets lists them with their \
             values). The keys this command gives itself override the preset's. Without `cook` \
             it sets the values the next start uses while idle (or changes the running cook), \
             like a target does; with cook: true it starts them."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let at = |v: Value| parse_when("start_at", &v);
        assert_eq!(
            at(json!("18:00")),
            Ok(When::Local {
                hour: 18,
                minute: 0
            })
        );
        assert_eq!(at(json!(" 7:05 ")), Ok(When::Local { hour: 7, minute: 5 }));
        assert_eq!(
            at(json!("2026-03-29T02:30:00+01:00")).map(|w| match w {
                When::At(t) => t.unix_timestamp(),
                When::Local { .. } => 0,
            }),
            Ok(1_774_747_800)
        );
        for bad in [
            json!("24:00"),
            json!("18:60"),
            json!("18:0"),
            json!("1800"),
            json!(18),
            json!("2026-03-29T02:30:00"),
            json!("tomorrow"),
        ] {
            let err = at(bad.clone()).unwrap_err();
            assert!(err.message.starts_with("start_at "), "{bad}: {err}");
        }
        assert_eq!(parse_schedule(&json!("Cancel")), Ok(true));
        assert!(parse_schedule(&json!("now")).is_err());
    }

    #[test]
    fn preset_names() {
        assert_eq!(
            parse_preset(&json!(" Chicken-Breast ")).unwrap(),
            "chicken-breast"
        );
        assert_eq!(parse_preset(&json!("steak_55")).unwrap(), "steak_55");
        for bad in [json!(""), json!("-x"), json!("a b"), json!(3), json!("é")] {
            assert!(parse_preset(&bad).is_err(), "{bad}");
        }
        assert!(!is_preset_name(&"x".repeat(MAX_PRESET_NAME + 1)));
        assert!(is_preset_name(&"x".repeat(MAX_PRESET_NAME)));
    }
}
