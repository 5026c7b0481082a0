//! The `CMD_APO_*` commands the gateway sends: the only three a Personal Access Token may send
//! an oven (`anova-oven.md` §1.4), in the nested envelope
//! `{"command", "requestId", "payload": {"id": <oven>, "type": <command>, "payload"?: {…}}}`.
//!
//! A start goes out in its generation's own shape, and a plan can never reach an oven of the
//! other generation: [`OvenV1`] and [`OvenV2`] can only be made from a device of that type
//! ([`OvenAddress::of`]), and [`ApoCommand::StartV1`] / [`ApoCommand::StartV2`] only take the
//! matching one. (A v1 plan puts a real v2 oven into an error state until it is power-cycled.)
//! `CMD_APO_DISCONNECT`, which unpairs the oven, is deliberately not here.

use super::start::{start_v1, start_v2, CookSpec};
use crate::wire::{CookerRef, Generation, TemperatureUnit};
use serde::Serialize;
use serde_json::{json, Value};

/// The address of a Precision Oven 1.0; only [`OvenAddress::of`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvenV1(CookerRef);

/// The address of a Precision Oven 2.0; only [`OvenAddress::of`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvenV2(CookerRef);

/// An oven's address, by generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OvenAddress {
    /// `oven_v1`.
    V1(OvenV1),
    /// `oven_v2`.
    V2(OvenV2),
}

impl OvenAddress {
    /// The address of a device whose type names an oven generation we know; `None` otherwise.
    pub fn of(device: &CookerRef) -> Option<Self> {
        match device.device_type.generation() {
            Generation::OvenV1 => Some(Self::V1(OvenV1(device.clone()))),
            Generation::OvenV2 => Some(Self::V2(OvenV2(device.clone()))),
            _ => None,
        }
    }

    /// The `cookerId` and exact `type`.
    pub fn device(&self) -> &CookerRef {
        match self {
            Self::V1(OvenV1(d)) | Self::V2(OvenV2(d)) => d,
        }
    }
}

/// The oven commands the gateway sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ApoCommand {
    /// `CMD_APO_START` to a Precision Oven 1.0, in the v1 shape.
    StartV1 {
        /// The oven.
        oven: OvenV1,
        /// The cook.
        cook: CookSpec,
    },
    /// `CMD_APO_START` to a Precision Oven 2.0, in the v2 shape.
    StartV2 {
        /// The oven.
        oven: OvenV2,
        /// The cook.
        cook: CookSpec,
    },
    /// `CMD_APO_STOP`.
    Stop {
        /// The oven.
        oven: OvenAddress,
    },
    /// `CMD_APO_SET_TEMPERATURE_UNIT`: the display only; the wire stays °C.
    SetTemperatureUnit {
        /// The oven.
        oven: OvenAddress,
        /// The new display unit.
        unit: TemperatureUnit,
    },
}

impl ApoCommand {
    /// A start in the shape of the oven's generation.
    pub fn start(oven: OvenAddress, cook: CookSpec) -> Self {
        match oven {
            OvenAddress::V1(oven) => Self::StartV1 { oven, cook },
            OvenAddress::V2(oven) => Self::StartV2 { oven, cook },
        }
    }

    /// The `command` text.
    pub fn name(&self) -> &'static str {
        match self {
            Self::StartV1 { .. } | Self::StartV2 { .. } => "CMD_APO_START",
            Self::Stop { .. } => "CMD_APO_STOP",
            Self::SetTemperatureUnit { .. } => "CMD_APO_SET_TEMPERATURE_UNIT",
        }
    }

    /// The oven's `cookerId` and `type`.
    pub fn device(&self) -> &CookerRef {
        match self {
            Self::StartV1 {
                oven: OvenV1(d), ..
            }
            | Self::StartV2 {
                oven: OvenV2(d), ..
            } => d,
            Self::Stop { oven } | Self::SetTemperatureUnit { oven, .. } => oven.device(),
        }
    }

    /// The inner `payload`, absent for commands without arguments.
    fn inner(&self) -> Option<Value> {
        match self {
            Self::StartV1 {
                oven: OvenV1(d),
                cook,
            } => Some(start_v1(cook, &d.cooker_id, d.device_type.as_str())),
            Self::StartV2 {
                oven: OvenV2(d),
                cook,
            } => Some(start_v2(cook, &d.cooker_id, d.device_type.as_str())),
            Self::Stop { .. } => None,
            Self::SetTemperatureUnit { unit, .. } => {
                Some(json!({"temperatureUnit": unit.as_str()}))
            }
        }
    }

    /// The whole frame.
    pub fn to_frame(&self, request_id: &str) -> String {
        #[derive(Serialize)]
        struct Envelope<'a> {
            id: &'a str,
            #[serde(rename = "type")]
            command: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            payload: Option<Value>,
        }
        #[derive(Serialize)]
        struct Frame<'a> {
            command: &'static str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: Envelope<'a>,
        }
        serde_json::to_string(&Frame {
            command: self.name(),
            request_id,
            payload: Envelope {
                id: &self.device().cooker_id,
                command: self.name(),
                payload: self.inner(),
            },
        })
        .unwrap_or_default()
    }
}
