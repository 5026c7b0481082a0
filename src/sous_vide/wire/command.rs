//! The `CMD_APC_*` commands the gateway sends: a flat payload `{cookerId, type, …}`.

use crate::wire::device::{DeviceType, TemperatureUnit};
use crate::wire::lenient::{self, compact_float};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The sous-vide commands the gateway sends (`docs/anova-protocol.md` §4.2). Each carries the
/// cooker and its exact `type`; the payload is flat.
#[derive(Debug, Clone, PartialEq)]
pub enum ApcCommand {
    /// `CMD_APC_START`: start a cook at `target_temperature` read in `unit`, with an optional
    /// timer in seconds (0 = none).
    Start {
        /// Target cooker.
        cooker: DeviceRef,
        /// Target, in `unit`.
        target_temperature: f64,
        /// Unit of `target_temperature`.
        unit: TemperatureUnit,
        /// Timer in seconds; `None` leaves the key out.
        timer: Option<u32>,
    },
    /// `CMD_APC_STOP`.
    Stop {
        /// Target cooker.
        cooker: DeviceRef,
    },
    /// `CMD_APC_SET_TARGET_TEMP` (undocumented; changes a running cook).
    SetTargetTemp {
        /// Target cooker.
        cooker: DeviceRef,
        /// Target, in `unit`.
        target_temperature: f64,
        /// Unit of `target_temperature`.
        unit: TemperatureUnit,
    },
    /// `CMD_APC_SET_TIMER` (undocumented).
    SetTimer {
        /// Target cooker.
        cooker: DeviceRef,
        /// Timer in seconds.
        timer: u32,
    },
    /// `CMD_APC_SET_TEMPERATURE_UNIT`: the display unit only.
    SetTemperatureUnit {
        /// Target cooker.
        cooker: DeviceRef,
        /// New display unit.
        unit: TemperatureUnit,
    },
}

pub use crate::wire::device::DeviceRef;

/// The wire name of each command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandName {
    /// `CMD_APC_START`.
    Start,
    /// `CMD_APC_STOP`.
    Stop,
    /// `CMD_APC_SET_TARGET_TEMP`.
    SetTargetTemp,
    /// `CMD_APC_SET_TIMER`.
    SetTimer,
    /// `CMD_APC_SET_TEMPERATURE_UNIT`.
    SetTemperatureUnit,
}

impl CommandName {
    /// The `command` text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "CMD_APC_START",
            Self::Stop => "CMD_APC_STOP",
            Self::SetTargetTemp => "CMD_APC_SET_TARGET_TEMP",
            Self::SetTimer => "CMD_APC_SET_TIMER",
            Self::SetTemperatureUnit => "CMD_APC_SET_TEMPERATURE_UNIT",
        }
    }

    /// Parses a `command` text.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "CMD_APC_START" => Self::Start,
            "CMD_APC_STOP" => Self::Stop,
            "CMD_APC_SET_TARGET_TEMP" => Self::SetTargetTemp,
            "CMD_APC_SET_TIMER" => Self::SetTimer,
            "CMD_APC_SET_TEMPERATURE_UNIT" => Self::SetTemperatureUnit,
            _ => return None,
        })
    }
}

impl fmt::Display for CommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The flat payload of every APC command; absent keys are left out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct FlatPayload {
    #[serde(rename = "cookerId", default)]
    pub(crate) cooker_id: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) device_type: Option<DeviceType>,
    #[serde(
        rename = "targetTemperature",
        default,
        deserialize_with = "lenient::float",
        serialize_with = "compact_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) target_temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unit: Option<TemperatureUnit>,
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) timer: Option<i64>,
    /// The app's second, different requestId inside the payload; accepted and ignored.
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    pub(crate) inner_request_id: Option<String>,
}

impl ApcCommand {
    /// The command's wire name.
    pub fn name(&self) -> CommandName {
        match self {
            Self::Start { .. } => CommandName::Start,
            Self::Stop { .. } => CommandName::Stop,
            Self::SetTargetTemp { .. } => CommandName::SetTargetTemp,
            Self::SetTimer { .. } => CommandName::SetTimer,
            Self::SetTemperatureUnit { .. } => CommandName::SetTemperatureUnit,
        }
    }

    /// The cooker this command addresses.
    pub fn cooker(&self) -> &DeviceRef {
        match self {
            Self::Start { cooker, .. }
            | Self::Stop { cooker }
            | Self::SetTargetTemp { cooker, .. }
            | Self::SetTimer { cooker, .. }
            | Self::SetTemperatureUnit { cooker, .. } => cooker,
        }
    }

    pub(crate) fn flat_payload(&self) -> FlatPayload {
        let cooker = self.cooker();
        let mut payload = FlatPayload {
            cooker_id: cooker.cloud_id.to_string(),
            device_type: Some(cooker.device_type.clone()),
            ..FlatPayload::default()
        };
        match self {
            Self::Start {
                target_temperature,
                unit,
                timer,
                ..
            } => {
                payload.target_temperature = Some(*target_temperature);
                payload.unit = Some(*unit);
                payload.timer = timer.map(i64::from);
            }
            Self::Stop { .. } => {}
            Self::SetTargetTemp {
                target_temperature,
                unit,
                ..
            } => {
                payload.target_temperature = Some(*target_temperature);
                payload.unit = Some(*unit);
            }
            Self::SetTimer { timer, .. } => payload.timer = Some(i64::from(*timer)),
            Self::SetTemperatureUnit { unit, .. } => payload.unit = Some(*unit),
        }
        payload
    }

    /// Serialises the command frame: `{"command", "requestId", "payload": {cookerId, type, …}}`.
    pub fn to_frame(&self, request_id: &str) -> String {
        #[derive(Serialize)]
        struct Frame<'a> {
            command: &'static str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: FlatPayload,
        }
        serde_json::to_string(&Frame {
            command: self.name().as_str(),
            request_id,
            payload: self.flat_payload(),
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn cooker() -> DeviceRef {
        DeviceRef {
            cloud_id: "A7COOKERID000000000001".into(),
            device_type: DeviceType::new("a7"),
        }
    }

    #[test]
    fn start_without_timer_leaves_the_key_out() {
        let frame = ApcCommand::Start {
            cooker: cooker(),
            target_temperature: 57.5,
            unit: TemperatureUnit::C,
            timer: None,
        }
        .to_frame("r");
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"command":"CMD_APC_START","requestId":"r","payload":
                {"cookerId":"A7COOKERID000000000001","type":"a7","targetTemperature":57.5,"unit":"C"}})
        );
    }
}
