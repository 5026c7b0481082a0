//! Transitional paths: the wire types now live in [`crate::wire`] (shared) and
//! [`crate::sous_vide::wire`] (cookers). The server-side frame parser below serves the simulator
//! until it has its own.

use crate::sous_vide::wire::FlatPayload;
pub use crate::sous_vide::wire::*;
use crate::wire::event::{payload_of, RawFrame};
pub use crate::wire::*;
use serde::Serialize;
use serde_json::Value;

/// A client → server frame as the cloud (our simulator) reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// The `command` text.
    pub command: String,
    /// The top-level `requestId` the RESPONSE must echo.
    pub request_id: String,
    /// The decoded command.
    pub body: ClientCommand,
}

/// What a client asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientCommand {
    /// One of the five APC commands, with the cooker it addresses as sent. `cooker.device_type`
    /// is empty when the client left `type` out (the real cloud then ignores the command).
    Apc {
        /// The decoded command.
        command: ApcCommand,
        /// The inner `payload.requestId` the app adds, if any.
        inner_request_id: Option<String>,
    },
    /// An APC command with a payload the cloud would refuse (for example START without a
    /// target): `invalid command`.
    Invalid {
        /// What was wrong.
        reason: String,
    },
    /// Any other command (APO, app-only, unknown), kept verbatim.
    Other {
        /// The raw payload.
        payload: Value,
    },
}

impl ClientFrame {
    /// Parses one text frame sent by a client.
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let frame: RawFrame<'_> =
            serde_json::from_str(text).map_err(ProtocolError::InvalidFrame)?;
        let command = frame.command.into_owned();
        let request_id = frame.request_id.unwrap_or_default();
        let body = match CommandName::parse(&command) {
            Some(name) => {
                let payload: FlatPayload = payload_of(&command, frame.payload)?;
                Self::decode_apc(name, payload)
            }
            None => ClientCommand::Other {
                payload: match frame.payload {
                    Some(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
                    None => Value::Null,
                },
            },
        };
        Ok(Self {
            command,
            request_id,
            body,
        })
    }

    /// Serialises the frame back: APC commands with their flat payload (and the app's inner
    /// `requestId` when it had one), anything else with its payload verbatim.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Frame<'a, P> {
            command: &'a str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: P,
        }
        let frame = |payload| {
            serde_json::to_string(&Frame {
                command: &self.command,
                request_id: &self.request_id,
                payload,
            })
            .unwrap_or_default()
        };
        match &self.body {
            ClientCommand::Apc {
                command,
                inner_request_id,
            } => {
                let mut payload = command.flat_payload();
                payload.inner_request_id = inner_request_id.clone();
                serde_json::to_value(payload).map(frame).unwrap_or_default()
            }
            ClientCommand::Invalid { .. } => frame(Value::Null),
            ClientCommand::Other { payload } => frame(payload.clone()),
        }
    }

    fn decode_apc(name: CommandName, payload: FlatPayload) -> ClientCommand {
        let inner_request_id = payload.inner_request_id.clone();
        let cooker = CookerRef {
            cooker_id: payload.cooker_id,
            device_type: payload.device_type.unwrap_or_else(|| DeviceType::new("")),
        };
        let invalid = |reason: &str| ClientCommand::Invalid {
            reason: reason.to_owned(),
        };
        let timer = match payload.timer {
            None => None,
            Some(t) => match u32::try_from(t) {
                Ok(t) => Some(t),
                Err(_) => return invalid("timer out of range"),
            },
        };
        let command = match name {
            CommandName::Start => {
                let Some(target_temperature) = payload.target_temperature else {
                    return invalid("targetTemperature missing");
                };
                ApcCommand::Start {
                    cooker,
                    target_temperature,
                    unit: payload.unit.unwrap_or(TemperatureUnit::C),
                    timer,
                }
            }
            CommandName::Stop => ApcCommand::Stop { cooker },
            CommandName::SetTargetTemp => {
                let Some(target_temperature) = payload.target_temperature else {
                    return invalid("targetTemperature missing");
                };
                ApcCommand::SetTargetTemp {
                    cooker,
                    target_temperature,
                    unit: payload.unit.unwrap_or(TemperatureUnit::C),
                }
            }
            CommandName::SetTimer => {
                let Some(timer) = timer else {
                    return invalid("timer missing");
                };
                ApcCommand::SetTimer { cooker, timer }
            }
            CommandName::SetTemperatureUnit => {
                let Some(unit) = payload.unit else {
                    return invalid("unit missing");
                };
                ApcCommand::SetTemperatureUnit { cooker, unit }
            }
        };
        ClientCommand::Apc {
            command,
            inner_request_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cooker() -> CookerRef {
        CookerRef {
            cooker_id: "A7COOKERID000000000001".into(),
            device_type: DeviceType::new("a7"),
        }
    }

    #[test]
    fn every_command_round_trips_through_the_server_parser() {
        let commands = [
            ApcCommand::Start {
                cooker: cooker(),
                target_temperature: 135.0,
                unit: TemperatureUnit::F,
                timer: Some(5400),
            },
            ApcCommand::Stop { cooker: cooker() },
            ApcCommand::SetTargetTemp {
                cooker: cooker(),
                target_temperature: 60.0,
                unit: TemperatureUnit::C,
            },
            ApcCommand::SetTimer {
                cooker: cooker(),
                timer: 1200,
            },
            ApcCommand::SetTemperatureUnit {
                cooker: cooker(),
                unit: TemperatureUnit::F,
            },
        ];
        for command in commands {
            let frame = ClientFrame::parse(&command.to_frame("req-1")).unwrap();
            assert_eq!(frame.request_id, "req-1");
            assert_eq!(frame.command, command.name().as_str());
            assert_eq!(
                frame.body,
                ClientCommand::Apc {
                    command,
                    inner_request_id: None
                }
            );
        }
    }

    #[test]
    fn start_without_target_is_invalid() {
        let frame = ClientFrame::parse(
            r#"{"command":"CMD_APC_START","requestId":"r","payload":{"cookerId":"X","type":"a7"}}"#,
        )
        .unwrap();
        assert!(matches!(frame.body, ClientCommand::Invalid { .. }));
    }
}
