//! Device types, generations and temperature units as the cloud writes them.

use super::lenient::{self, StrVisitor};
use crate::ids::CloudId;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A device `type` exactly as the cloud spelled it (`a7`, `pro`, …).
///
/// Commands must carry the device's exact `type` (a wrong one is acknowledged `ok` and silently
/// ignored by the cloud), so the original text is kept; comparisons are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceType(pub String);

impl DeviceType {
    /// Builds a device type from its wire text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The exact wire text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Which state schema this type reports (`docs/anova-protocol.md` §3.2 and §4.5).
    pub fn generation(&self) -> Generation {
        // Read on every push: compared in place rather than through a lower-cased copy.
        const GENERATIONS: [(&str, Generation); 11] = [
            ("a7", Generation::Gen3),
            ("a6", Generation::Gen3),
            ("a8", Generation::Gen3),
            ("a9", Generation::Gen3),
            ("pro", Generation::Gen2),
            ("a4", Generation::Gen2),
            ("a5", Generation::Gen2),
            ("honey-badger", Generation::Gen2),
            ("a3", Generation::A3),
            ("oven_v1", Generation::OvenV1),
            ("oven_v2", Generation::OvenV2),
        ];
        GENERATIONS
            .iter()
            .find(|(name, _)| self.matches(name))
            .map_or(Generation::Unknown, |(_, generation)| *generation)
    }

    /// True for a Precision Oven type, including generations this version does not know
    /// (`oven_v3`): those are recognised but not bridged.
    pub fn is_oven(&self) -> bool {
        self.0.len() >= 4 && self.0[..4].eq_ignore_ascii_case("oven")
    }

    /// True when both name the same type, ignoring case (the app lowercases types).
    pub fn matches(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `cookerId` and `type`: a device's address on the cloud, whatever its family (the flat
/// payload of every APC command; ovens make their generation's address from it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceRef {
    /// The cloud's device id.
    #[serde(rename = "cookerId")]
    pub cloud_id: CloudId,
    /// The device's exact type.
    #[serde(rename = "type")]
    pub device_type: DeviceType,
}

/// The state schema family of a device type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// `a6`–`a9`: camelCase `SousVideState` with `{celsius}` objects.
    Gen3,
    /// `a4`, `a5`, `pro`, `honey-badger`: kebab-case `job` / `job-status` body.
    Gen2,
    /// First-generation Wi-Fi `a3`: camelCase, temperatures in the display unit.
    A3,
    /// Precision Oven 1.0: `{celsius, fahrenheit}` temperatures, flat preheat/cook stages.
    OvenV1,
    /// Precision Oven 2.0: Celsius only, `do`/`entry`/`exit` stages.
    OvenV2,
    /// A type this version does not know.
    Unknown,
}

/// A temperature unit as it appears in commands and Gen 2/Gen 3 state (`"C"` / `"F"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemperatureUnit {
    /// Degrees Celsius.
    C,
    /// Degrees Fahrenheit.
    F,
}

impl TemperatureUnit {
    /// Parses `C`/`c`/`F`/`f`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "C" | "c" => Some(Self::C),
            "F" | "f" => Some(Self::F),
            _ => None,
        }
    }

    /// `"C"` or `"F"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::C => "C",
            Self::F => "F",
        }
    }

    /// Converts a value in this unit to °C.
    pub fn to_celsius(self, value: f64) -> f64 {
        match self {
            Self::C => value,
            Self::F => (value - 32.0) * 5.0 / 9.0,
        }
    }

    /// Converts a °C value to this unit.
    pub fn from_celsius(self, celsius: f64) -> f64 {
        match self {
            Self::C => celsius,
            Self::F => celsius * 9.0 / 5.0 + 32.0,
        }
    }
}

impl fmt::Display for TemperatureUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TemperatureUnit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TemperatureUnit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserializer.deserialize_str(StrVisitor)?;
        Self::parse(&text).ok_or_else(|| de::Error::custom(format!("unknown unit {text:?}")))
    }
}

/// `{ "celsius": n }`, the Gen 3 way of writing a temperature.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Celsius {
    /// Degrees Celsius.
    #[serde(default, deserialize_with = "lenient::float")]
    pub celsius: Option<f64>,
}

impl Celsius {
    /// A known temperature.
    pub fn new(celsius: f64) -> Self {
        Self {
            celsius: Some(celsius),
        }
    }
}

// ---------------------------------------------------------------------------------------------
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_conversions() {
        assert!((TemperatureUnit::F.to_celsius(135.0) - 57.2222).abs() < 1e-3);
        assert!((TemperatureUnit::F.from_celsius(100.0) - 212.0).abs() < 1e-9);
        assert_eq!(TemperatureUnit::parse("f"), Some(TemperatureUnit::F));
        assert_eq!(TemperatureUnit::parse("K"), None);
    }

    #[test]
    fn device_type_generation_ignores_case() {
        assert_eq!(DeviceType::new("A7").generation(), Generation::Gen3);
        assert_eq!(
            DeviceType::new("Honey-Badger").generation(),
            Generation::Gen2
        );
        assert_eq!(DeviceType::new("a3").generation(), Generation::A3);
        assert_eq!(DeviceType::new("a99").generation(), Generation::Unknown);
        assert_eq!(DeviceType::new("Oven_V2").generation(), Generation::OvenV2);
        assert_eq!(DeviceType::new("oven_v1").generation(), Generation::OvenV1);
        assert_eq!(DeviceType::new("oven_v3").generation(), Generation::Unknown);
        assert!(DeviceType::new("PRO").matches("pro"));
    }
}
