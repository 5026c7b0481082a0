//! The state nodes both oven generations share (`docs/anova-oven.md` §1.5–§1.7). Every field is
//! optional and read leniently: a node the firmware leaves out, or fills with something new,
//! costs that field only, never the frame.

use crate::wire::device::TemperatureUnit;
use crate::wire::lenient;
use crate::wire::lenient::wire_enum;
use serde::Deserialize;

/// A temperature as the oven writes it: v1 `{celsius, fahrenheit}`, v2 `{celsius}`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Reading {
    /// Degrees Celsius (both generations).
    #[serde(deserialize_with = "lenient::float")]
    pub celsius: Option<f64>,
    /// Degrees Fahrenheit (v1 only).
    #[serde(deserialize_with = "lenient::float")]
    pub fahrenheit: Option<f64>,
}

impl Reading {
    /// The value in °C, from Celsius when present, else converted from Fahrenheit.
    pub fn to_celsius(self) -> Option<f64> {
        self.celsius
            .or_else(|| self.fahrenheit.map(|f| TemperatureUnit::F.to_celsius(f)))
    }
}

/// One temperature bulb or sensor: current reading and, under the active mode, the setpoint.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Bulb {
    /// What it reads.
    #[serde(deserialize_with = "lenient::loose")]
    pub current: Option<Reading>,
    /// Its target (only under the bulb the cook controls; v1 keeps a stale one while idle).
    #[serde(deserialize_with = "lenient::loose")]
    pub setpoint: Option<Reading>,
}

wire_enum! {
    /// `temperatureBulbs.mode`: which bulb the cook controls.
    pub enum BulbMode {
        /// The dry bulb (an ordinary oven).
        Dry = "dry",
        /// The wet bulb (sous vide in the oven).
        Wet = "wet",
    }
}

/// `nodes.temperatureBulbs`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TemperatureBulbs {
    /// Which bulb controls the cook.
    #[serde(deserialize_with = "lenient::loose")]
    pub mode: Option<BulbMode>,
    /// The dry bulb.
    #[serde(deserialize_with = "lenient::loose")]
    pub dry: Option<Bulb>,
    /// The wet bulb.
    #[serde(deserialize_with = "lenient::loose")]
    pub wet: Option<Bulb>,
    /// The sensor near the top element.
    #[serde(deserialize_with = "lenient::loose")]
    pub dry_top: Option<Bulb>,
    /// The sensor near the bottom element.
    #[serde(deserialize_with = "lenient::loose")]
    pub dry_bottom: Option<Bulb>,
}

wire_enum! {
    /// `steamGenerators.mode`.
    pub enum SteamMode {
        /// No steam.
        Idle = "idle",
        /// Humidity control (below 100 °C).
        RelativeHumidity = "relative-humidity",
        /// Steam share (from 100 °C).
        SteamPercentage = "steam-percentage",
    }
}

/// A humidity or steam reading and target, in %.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Percent {
    /// What it reads.
    #[serde(deserialize_with = "lenient::float")]
    pub current: Option<f64>,
    /// Its target.
    #[serde(deserialize_with = "lenient::float")]
    pub setpoint: Option<f64>,
}

/// The boiler or evaporator of the steam generators.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SteamHeater {
    /// Its temperature, °C.
    #[serde(deserialize_with = "lenient::float")]
    pub celsius: Option<f64>,
    /// Power drawn now.
    #[serde(deserialize_with = "lenient::float")]
    pub watts: Option<f64>,
    /// A hardware fault.
    #[serde(deserialize_with = "lenient::boolean")]
    pub failed: Option<bool>,
    /// The boiler needs descaling.
    #[serde(deserialize_with = "lenient::boolean")]
    pub descale_required: Option<bool>,
}

/// `nodes.steamGenerators`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SteamGenerators {
    /// Which control runs.
    #[serde(deserialize_with = "lenient::loose")]
    pub mode: Option<SteamMode>,
    /// Humidity, % (live even while the mode is idle).
    #[serde(deserialize_with = "lenient::loose")]
    pub relative_humidity: Option<Percent>,
    /// Steam share, %.
    #[serde(deserialize_with = "lenient::loose")]
    pub steam_percentage: Option<Percent>,
    /// The boiler.
    #[serde(deserialize_with = "lenient::loose")]
    pub boiler: Option<SteamHeater>,
    /// The evaporator.
    #[serde(deserialize_with = "lenient::loose")]
    pub evaporator: Option<SteamHeater>,
}

/// One heating element.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Element {
    /// Switched on for this cook (v1 keeps the last cook's value while idle).
    #[serde(deserialize_with = "lenient::boolean")]
    pub on: Option<bool>,
    /// A hardware fault.
    #[serde(deserialize_with = "lenient::boolean")]
    pub failed: Option<bool>,
    /// Power drawn now.
    #[serde(deserialize_with = "lenient::float")]
    pub watts: Option<f64>,
}

/// `nodes.heatingElements`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct HeatingElements {
    /// Top.
    #[serde(deserialize_with = "lenient::loose")]
    pub top: Option<Element>,
    /// Bottom.
    #[serde(deserialize_with = "lenient::loose")]
    pub bottom: Option<Element>,
    /// Rear (with the convection fan).
    #[serde(deserialize_with = "lenient::loose")]
    pub rear: Option<Element>,
}

impl HeatingElements {
    /// Which elements a stage of a cook asks for (`None` when it names none of them).
    pub fn configured(&self) -> Option<super::Elements> {
        let on = |e: Option<Element>| e.and_then(|e| e.on);
        let (top, bottom, rear) = (on(self.top), on(self.bottom), on(self.rear));
        if top.is_none() && bottom.is_none() && rear.is_none() {
            return None;
        }
        Some(super::Elements {
            top: top.unwrap_or(false),
            bottom: bottom.unwrap_or(false),
            rear: rear.unwrap_or(false),
        })
    }
}

/// A fan speed: v1 writes 0–100, v2 a word (`off`, `min`, `mid`, `max`).
#[derive(Debug, Clone, PartialEq)]
pub enum FanSpeed {
    /// 0–100.
    Percent(f64),
    /// A word, kept verbatim.
    Word(String),
}

impl FanSpeed {
    /// 0–100: the v2 words as the app maps them (0/33/66/100); `None` for a word we do not know.
    pub fn percent(&self) -> Option<u8> {
        match self {
            // Clamped to the documented 0–100, so the cast cannot overflow.
            Self::Percent(p) => Some(p.clamp(0.0, 100.0).round() as u8),
            Self::Word(w) => match w.as_str() {
                "off" => Some(0),
                "min" | "low" => Some(33),
                "mid" | "medium" => Some(66),
                "max" | "high" => Some(100),
                _ => None,
            },
        }
    }
}

impl<'de> Deserialize<'de> for FanSpeed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        match Value::deserialize(d)? {
            Value::String(word) => Ok(Self::Word(word)),
            Value::Number(n) => Ok(Self::Percent(n.as_f64().unwrap_or(0.0))),
            other => Err(serde::de::Error::custom(format!(
                "a fan speed, not {other}"
            ))),
        }
    }
}

/// `nodes.fan`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Fan {
    /// The speed.
    #[serde(deserialize_with = "lenient::loose")]
    pub speed: Option<FanSpeed>,
    /// A hardware fault.
    #[serde(deserialize_with = "lenient::boolean")]
    pub failed: Option<bool>,
}

wire_enum! {
    /// `nodes.timer.mode`.
    pub enum TimerMode {
        /// Not counting (no timer, or waiting for its start condition).
        Idle = "idle",
        /// Counting.
        Running = "running",
        /// Paused.
        Paused = "paused",
        /// Ran out.
        Completed = "completed",
    }
}

/// `nodes.timer`: v1 `{mode, initial, current}` (current = seconds elapsed), v2
/// `{mode, initial, startedAtTimestamp}`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Timer {
    /// What it does.
    #[serde(deserialize_with = "lenient::loose")]
    pub mode: Option<TimerMode>,
    /// Length, seconds.
    #[serde(deserialize_with = "lenient::int")]
    pub initial: Option<i64>,
    /// Seconds elapsed (v1).
    #[serde(deserialize_with = "lenient::int")]
    pub current: Option<i64>,
    /// When it started (v2).
    #[serde(deserialize_with = "lenient::loose")]
    pub started_at_timestamp: Option<String>,
}

/// `nodes.temperatureProbe`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Probe {
    /// Plugged in.
    #[serde(deserialize_with = "lenient::boolean")]
    pub connected: Option<bool>,
    /// What it reads (0 while unplugged on v2).
    #[serde(deserialize_with = "lenient::loose")]
    pub current: Option<Reading>,
    /// The target that ends the stage.
    #[serde(deserialize_with = "lenient::loose")]
    pub setpoint: Option<Reading>,
}

/// The probe target of a stage (v2 inside `do`, v1 on the stage itself).
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ProbeTarget {
    /// The target.
    #[serde(deserialize_with = "lenient::loose")]
    pub setpoint: Option<Reading>,
}

/// `nodes.door`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Door {
    /// Closed.
    #[serde(deserialize_with = "lenient::boolean")]
    pub closed: Option<bool>,
}

/// `nodes.waterTank` (v1 has only `empty`) and, with `full`, v2's `nodes.wasteWaterTank`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Tank {
    /// Empty.
    #[serde(deserialize_with = "lenient::boolean")]
    pub empty: Option<bool>,
    /// Low (v2).
    #[serde(deserialize_with = "lenient::boolean")]
    pub low: Option<bool>,
    /// Taken out (v2).
    #[serde(deserialize_with = "lenient::boolean")]
    pub removed: Option<bool>,
    /// Full (the v2 waste-water tank).
    #[serde(deserialize_with = "lenient::boolean")]
    pub full: Option<bool>,
}

/// A lamp: v1 `lamp`, v2 `doorLamp` and `cavityLamp`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Lamp {
    /// Lit.
    #[serde(deserialize_with = "lenient::boolean")]
    pub on: Option<bool>,
    /// A hardware fault.
    #[serde(deserialize_with = "lenient::boolean")]
    pub failed: Option<bool>,
}

wire_enum! {
    /// `state.mode`.
    pub enum OvenMode {
        /// No cook.
        Idle = "idle",
        /// A cook runs.
        Cook = "cook",
        /// Descaling the boiler.
        Descale = "descale",
    }
}

/// `state`: mode, display unit and (v2) the over-temperature flag.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OvenStatus {
    /// What the oven does.
    #[serde(deserialize_with = "lenient::loose")]
    pub mode: Option<OvenMode>,
    /// The unit on the oven's display (temperatures on the wire stay °C).
    #[serde(deserialize_with = "lenient::loose")]
    pub temperature_unit: Option<TemperatureUnit>,
    /// Recently processed command ids.
    #[serde(deserialize_with = "lenient::loose")]
    pub processed_command_ids: Option<Vec<String>>,
    /// The cavity overheated (v2; its presence marks a v2 body).
    #[serde(deserialize_with = "lenient::boolean")]
    pub cavity_overheated: Option<bool>,
}

/// `systemInfo`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SystemInfo {
    /// The oven's own cloud connection flag.
    #[serde(deserialize_with = "lenient::boolean")]
    pub online: Option<bool>,
    /// Firmware version.
    #[serde(deserialize_with = "lenient::loose")]
    pub firmware_version: Option<String>,
    /// Hardware version.
    #[serde(deserialize_with = "lenient::loose")]
    pub hardware_version: Option<String>,
    /// The heater triacs failed (v1).
    #[serde(deserialize_with = "lenient::boolean")]
    pub triacs_failed: Option<bool>,
}
