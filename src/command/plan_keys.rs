//! The keys of `docs/interface.md` §8 that every device family reads alike: `preset`, the named
//! command a command starts from. Each family's key table holds an entry for it (so the parser,
//! the OpenAPI document and the MCP tools know it like any other key); the bridge core expands
//! it, because the presets are configuration the families do not hold.

use super::error::CommandError;
use super::keys::described;
use super::values::describe;
use serde_json::{json, Value};

/// The longest preset name.
pub const MAX_PRESET_NAME: usize = 64;

/// What a command asks of §8, besides the family's own keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanKeys {
    /// `preset`: start from this named command; the command's own keys override it.
    pub preset: Option<String>,
}

impl PlanKeys {
    /// True when no key of §8 was given.
    pub fn is_empty(&self) -> bool {
        self.preset.is_none()
    }
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
