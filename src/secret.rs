//! A string that must never be printed: the Anova token (it travels in the WebSocket URL) and
//! the MQTT password.
//!
//! `Debug`, `Display` and `Serialize` all print `[redacted]`, so a secret can sit inside any
//! config or error type without leaking through `{:?}`, logs, `check-config` or MQTT. The only
//! way to the text is [`Secret::expose`], which is easy to search for.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What every redacted secret prints as.
pub const REDACTED: &str = "[redacted]";

/// A secret string.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The secret text. Only for the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replaces every occurrence of the secret in `text` with [`REDACTED`]; for error messages
    /// from libraries that might echo a URL.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, REDACTED)
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// Accepts numbers too: an environment variable such as `ANOVA2MQTT_MQTT__PASSWORD=1234`
    /// reaches us as an integer (figment types env values like TOML).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::config::serde_helpers::text(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("anova-abc");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        assert_eq!(s.expose(), "anova-abc");
        assert_eq!(
            s.scrub("wss://x/?token=anova-abc&a=1"),
            "wss://x/?token=[redacted]&a=1"
        );
    }

    #[test]
    fn numbers_are_text() {
        let s: Secret = serde_json::from_str("1234").unwrap();
        assert_eq!(s.expose(), "1234");
    }
}
