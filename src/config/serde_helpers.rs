//! Field (de)serialisers for values that arrive from TOML and from environment variables.
//!
//! figment types environment values like TOML, so `ANOVA2MQTT_MQTT__USERNAME=1234` reaches
//! serde as an integer (Figment #42); [`text`] accepts that for fields that are text.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A human duration (`"30s"`, `"5m"`, `"1h 30m"`), written back the same way.
///
/// Unlike `humantime_serde`, a bad value gets an error that says what a good one looks like,
/// and a bare number is refused with a hint to add a unit instead of a cryptic type error.
pub(crate) mod duration {
    use super::*;

    /// Writes `"30s"`-style text.
    pub(crate) fn serialize<S: Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(*value))
    }

    /// Reads `"30s"`-style text.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }

    struct DurationVisitor;

    const HINT: &str =
        "write a positive duration with a unit, such as \"30s\", \"5m\" or \"1h 30m\"";

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"30s\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            humantime::parse_duration(text.trim())
                .map_err(|err| E::custom(format!("invalid duration {text:?} ({err}); {HINT}")))
        }

        fn visit_i64<E: de::Error>(self, number: i64) -> Result<Duration, E> {
            Err(E::custom(format!(
                "a duration needs a unit, not just {number}; {HINT}"
            )))
        }

        fn visit_u64<E: de::Error>(self, number: u64) -> Result<Duration, E> {
            Err(E::custom(format!(
                "a duration needs a unit, not just {number}; {HINT}"
            )))
        }

        fn visit_f64<E: de::Error>(self, number: f64) -> Result<Duration, E> {
            Err(E::custom(format!(
                "a duration needs a unit, not just {number}; {HINT}"
            )))
        }
    }
}

/// Text that may have arrived as a number or a boolean from an environment variable.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    S(String),
    I(i64),
    U(u64),
    F(f64),
    B(bool),
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        match text {
            Text::S(s) => s,
            Text::I(i) => i.to_string(),
            Text::U(u) => u.to_string(),
            Text::F(f) => f.to_string(),
            Text::B(b) => b.to_string(),
        }
    }
}

/// A text field.
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Text::deserialize(deserializer)
        .map(String::from)
        .map_err(|_| de::Error::custom("expected text"))
}

/// An optional text field.
pub(crate) fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    text(deserializer).map(Some)
}
