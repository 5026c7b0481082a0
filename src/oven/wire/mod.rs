//! The oven's side of the cloud protocol (`docs/anova-oven.md`): `EVENT_APO_STATE` bodies of both
//! generations and the `CMD_APO_*` commands a Personal Access Token may send.
//!
//! Inbound types only deserialise, and leniently: an unknown node, field or enum value never
//! fails a frame (`crate::wire::lenient`).

mod command;
mod nodes;
mod start;
mod v1;
mod v2;

pub use command::{ApoCommand, OvenAddress, OvenV1, OvenV2};
pub use nodes::*;
pub use start::{CookSpec, Elements, Setpoint, StageSpec, StageTimer, TimerStart};
pub use v1::*;
pub use v2::*;

use crate::ids::CloudId;
use crate::wire::device::{DeviceType, Generation};
use crate::wire::payload::{payload_of, ProtocolError};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The state body of an oven; the generations differ in their `nodes` and `cook`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[serde(bound(deserialize = "Nodes: serde::de::DeserializeOwned + Default, \
                             Cook: serde::de::DeserializeOwned + Default"))]
pub struct OvenBody<Nodes, Cook> {
    /// Schema version: 1 or 2.
    #[serde(deserialize_with = "crate::wire::lenient::int")]
    pub version: Option<i64>,
    /// When the oven reported.
    #[serde(deserialize_with = "crate::wire::lenient::loose")]
    pub updated_timestamp: Option<String>,
    /// Mode and display unit (and the 2.0's over-temperature flag).
    #[serde(deserialize_with = "crate::wire::lenient::loose")]
    pub state: Option<OvenStatus>,
    /// Firmware and connection.
    #[serde(deserialize_with = "crate::wire::lenient::loose")]
    pub system_info: Option<SystemInfo>,
    /// Sensors and actuators.
    #[serde(deserialize_with = "crate::wire::lenient::loose")]
    pub nodes: Option<Nodes>,
    /// The running cook; absent while idle.
    #[serde(deserialize_with = "crate::wire::lenient::loose")]
    pub cook: Option<Cook>,
}

/// `EVENT_APO_STATE`: `{cookerId, type, state}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApoStateEvent {
    /// The oven.
    pub cloud_id: CloudId,
    /// `oven_v1` / `oven_v2`, when given.
    pub device_type: Option<DeviceType>,
    /// The generation's body.
    pub state: ApoState,
}

/// The body of `EVENT_APO_STATE`.
#[derive(Debug, Clone, PartialEq)]
pub enum ApoState {
    /// A Precision Oven 1.0 body.
    V1(Box<OvenV1State>),
    /// A Precision Oven 2.0 body.
    V2(Box<OvenV2State>),
    /// A body of neither shape.
    Unknown,
}

impl ApoState {
    /// Picks the body's generation as the app does, by content rather than by `type`
    /// (`docs/anova-oven.md` §1.5): a `state.state` without `cavityOverheated` is v1, with it v2;
    /// `version` decides when `state.state` is missing, and `type` only when both are.
    pub fn parse(device_type: Option<&DeviceType>, raw: &RawValue) -> Self {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Landmarks {
            // Only which keys are there matters: nothing below them is built.
            #[serde(deserialize_with = "crate::wire::lenient::loose")]
            state: Option<BTreeMap<String, IgnoredAny>>,
            #[serde(deserialize_with = "crate::wire::lenient::int")]
            version: Option<i64>,
            #[serde(deserialize_with = "crate::wire::lenient::loose")]
            nodes: Option<IgnoredAny>,
        }
        let Ok(landmarks) = serde_json::from_str::<Landmarks>(raw.get()) else {
            return Self::Unknown;
        };
        let v2 = match (&landmarks.state, landmarks.version) {
            (Some(status), _) if status.contains_key("cavityOverheated") => true,
            (Some(_), Some(version)) => version >= 2,
            (Some(_), None) => false,
            (None, Some(version)) => version >= 2,
            (None, None) if landmarks.nodes.is_some() => {
                device_type.is_some_and(|t| t.generation() == Generation::OvenV2)
            }
            (None, None) => return Self::Unknown,
        };
        let parsed = if v2 {
            serde_json::from_str(raw.get()).map(|s| Self::V2(Box::new(s)))
        } else {
            serde_json::from_str(raw.get()).map(|s| Self::V1(Box::new(s)))
        };
        parsed.unwrap_or(Self::Unknown)
    }
}

impl ApoStateEvent {
    pub(crate) fn parse(payload: Option<&RawValue>) -> Result<Self, ProtocolError> {
        #[derive(Deserialize)]
        struct Header<'a> {
            #[serde(rename = "cookerId")]
            cloud_id: CloudId,
            #[serde(default, rename = "type")]
            device_type: Option<DeviceType>,
            #[serde(borrow, default)]
            state: Option<&'a RawValue>,
        }
        let header: Header<'_> = payload_of("EVENT_APO_STATE", payload)?;
        let state = header.state.map_or(ApoState::Unknown, |raw| {
            ApoState::parse(header.device_type.as_ref(), raw)
        });
        Ok(Self {
            cloud_id: header.cloud_id,
            device_type: header.device_type,
            state,
        })
    }
}
