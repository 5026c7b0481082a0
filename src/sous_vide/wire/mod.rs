//! The cooker's side of the cloud protocol: `EVENT_APC_STATE` bodies of every generation and the
//! `CMD_APC_*` commands (`docs/anova-protocol.md` §3.2, §4.2).

mod a3;
mod command;
mod gen2;
mod gen3;
mod single_pass;

pub use a3::*;
pub use command::*;
pub use gen2::*;
pub use gen3::*;
pub(crate) use single_pass::parse_state_frame;

use crate::ids::CloudId;
use crate::wire::device::{DeviceType, Generation};
use crate::wire::payload::{payload_of, ProtocolError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// `EVENT_APC_STATE`: `{cookerId, type, state}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApcStateEvent {
    /// The cooker.
    pub cloud_id: CloudId,
    /// Its type; missing in some captures (then the device list's type applies).
    pub device_type: Option<DeviceType>,
    /// The generation-specific body.
    pub state: ApcState,
}

/// The body of `EVENT_APC_STATE`, whose shape depends on the generation.
#[derive(Debug, Clone, PartialEq)]
pub enum ApcState {
    /// `a6`–`a9`.
    Gen3(Box<Gen3State>),
    /// `a4`, `a5`, `pro`, `honey-badger`.
    Gen2(Box<Gen2State>),
    /// `a3`.
    A3(Box<A3State>),
    /// A body we cannot place; kept verbatim.
    Unknown(Value),
}

impl ApcState {
    /// Picks the body's schema: by `type` first, as the app does, and by content when the type
    /// is missing, unknown, or its schema does not fit (`docs/anova-protocol.md` §3.2).
    pub fn parse(
        device_type: Option<&DeviceType>,
        raw: &RawValue,
    ) -> Result<Self, serde_json::Error> {
        let by_type = device_type.map(DeviceType::generation);
        let typed = match by_type {
            Some(Generation::Gen3) => serde_json::from_str(raw.get())
                .map(|s| Self::Gen3(Box::new(s)))
                .ok(),
            Some(Generation::Gen2) => serde_json::from_str(raw.get())
                .map(|s| Self::Gen2(Box::new(s)))
                .ok(),
            Some(Generation::A3) => serde_json::from_str(raw.get())
                .map(|s| Self::A3(Box::new(s)))
                .ok(),
            _ => None,
        };
        if let Some(state) = typed.filter(Self::has_landmarks) {
            return Ok(state);
        }
        // Content fallback: look at the top-level keys only.
        let keys: Map<String, Value> = serde_json::from_str(raw.get())?;
        if keys.contains_key("systemInfo") && keys.contains_key("nodes") {
            Ok(Self::Gen3(Box::new(serde_json::from_str(raw.get())?)))
        } else if keys.contains_key("job") || keys.contains_key("job-status") {
            Ok(Self::Gen2(Box::new(serde_json::from_str(raw.get())?)))
        } else if keys.contains_key("isCooking") {
            Ok(Self::A3(Box::new(serde_json::from_str(raw.get())?)))
        } else {
            Ok(Self::Unknown(Value::Object(keys)))
        }
    }

    /// A typed parse always succeeds on an empty object (every field is optional), so a body
    /// chosen by `type` is only trusted when it has that generation's landmark keys.
    fn has_landmarks(&self) -> bool {
        match self {
            Self::Gen3(s) => s.nodes.is_some() || s.state.is_some() || s.system_info.is_some(),
            Self::Gen2(s) => s.job.is_some() || s.job_status.is_some(),
            Self::A3(s) => s.is_cooking.is_some() || s.current_temperature.is_some(),
            Self::Unknown(_) => false,
        }
    }
}

impl ApcStateEvent {
    pub(crate) fn parse(payload: Option<&RawValue>) -> Result<Self, ProtocolError> {
        #[derive(Deserialize)]
        struct Header<'a> {
            #[serde(rename = "cookerId")]
            cloud_id: CloudId,
            #[serde(default, rename = "type")]
            device_type: Option<DeviceType>,
            #[serde(borrow)]
            state: &'a RawValue,
        }
        let header: Header<'_> = payload_of("EVENT_APC_STATE", payload)?;
        let state =
            ApcState::parse(header.device_type.as_ref(), header.state).map_err(|source| {
                ProtocolError::InvalidPayload {
                    command: "EVENT_APC_STATE".to_owned(),
                    source,
                }
            })?;
        Ok(Self {
            cloud_id: header.cloud_id,
            device_type: header.device_type,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Event;

    #[test]
    fn unknown_enum_values_are_kept() {
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"pro","state":
            {"job":{"mode":"SOUS VIDE 2"},"job-status":{"state":"DEFROSTING","cook-time-remaining":"12"}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        let ApcState::Gen2(state) = event.state else {
            panic!("not gen 2");
        };
        let job = state.job.unwrap();
        assert_eq!(job.mode, Some(JobMode::Unknown("SOUS VIDE 2".into())));
        let status = state.job_status.unwrap();
        assert_eq!(status.state, Some(JobState::Unknown("DEFROSTING".into())));
        assert_eq!(status.cook_time_remaining, Some(12));
    }

    #[test]
    fn state_without_type_falls_back_on_content() {
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","state":
            {"systemInfo":{"online":true},"nodes":{}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        assert!(matches!(event.state, ApcState::Gen3(_)));
    }

    #[test]
    fn state_with_wrong_type_falls_back_on_content() {
        // Claims to be an a7 but carries a Gen 2 body.
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":
            {"job":{"mode":"IDLE"},"job-status":{"state":""}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        assert!(matches!(event.state, ApcState::Gen2(_)));
    }

    #[test]
    fn lenient_numbers() {
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":
            {"nodes":{"timer":{"mode":"idle","initial":1200.0},"waterTemperatureSensor":{"current":{"celsius":"21.5"}}}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        let ApcState::Gen3(state) = event.state else {
            panic!("not gen 3");
        };
        let nodes = state.nodes.unwrap();
        assert_eq!(nodes.timer.unwrap().initial, Some(1200));
        assert_eq!(
            nodes
                .water_temperature_sensor
                .unwrap()
                .current
                .unwrap()
                .celsius,
            Some(21.5)
        );
    }
}
