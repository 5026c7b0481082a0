//! What clients send the cloud, as the simulated cloud reads it (`docs/anova-protocol.md` §2, §4;
//! `docs/anova-oven.md` §1.3): `{"command", "requestId", "payload"}` frames with the flat APC
//! payload (`{cookerId, type, …}`) or the nested oven envelope (`{id, type, payload?}`).
//!
//! Reading is as lenient as the real cloud seems to be: numbers may come as numeric strings, an
//! unknown key is ignored, the app's second `requestId` inside the payload is accepted. A known
//! APC command whose payload cannot be read still yields a frame ([`ClientCommand::Invalid`]),
//! so it can be answered `invalid command`.

use super::{DeviceType, TemperatureUnit};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// A client → server frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// The `command` text.
    pub command: String,
    /// The top-level `requestId` the RESPONSE echoes (empty when absent).
    pub request_id: String,
    /// What the command asks for.
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
    /// A `CMD_APO_*` command in the nested oven envelope.
    Apo(ApoEnvelope),
    /// An APC command with a payload the cloud refuses (START without a target, a unit `K`, …).
    Invalid {
        /// What was wrong.
        reason: String,
    },
    /// Any other command (app-only, token management, unknown), its payload kept verbatim.
    Other {
        /// The raw payload (`null` when absent).
        payload: Value,
    },
}

/// The nested envelope of every oven command: `{"id": <cookerId>, "type": <command>,
/// "payload": {…}}`; argument-less commands (STOP) leave the inner payload out.
#[derive(Debug, Clone, PartialEq)]
pub struct ApoEnvelope {
    /// `payload.id`: the oven (empty when absent or not a string).
    pub id: String,
    /// `payload.type`: the command's name again (empty when absent or not a string).
    pub command_type: String,
    /// `payload.payload`, verbatim.
    pub payload: Option<Value>,
}

/// The sous-vide commands (`docs/anova-protocol.md` §4.2). Each names the cooker and its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum ApcCommand {
    /// `CMD_APC_START`: a cook at `target_temperature` in `unit`, with an optional timer (s).
    Start {
        /// The cooker.
        cooker: CookerRef,
        /// Target, in `unit`.
        target_temperature: f64,
        /// Unit of `target_temperature` (`C` when absent).
        unit: TemperatureUnit,
        /// Timer in seconds, when sent.
        timer: Option<u32>,
    },
    /// `CMD_APC_STOP`.
    Stop {
        /// The cooker.
        cooker: CookerRef,
    },
    /// `CMD_APC_SET_TARGET_TEMP`.
    SetTargetTemp {
        /// The cooker.
        cooker: CookerRef,
        /// Target, in `unit`.
        target_temperature: f64,
        /// Unit of `target_temperature` (`C` when absent).
        unit: TemperatureUnit,
    },
    /// `CMD_APC_SET_TIMER`.
    SetTimer {
        /// The cooker.
        cooker: CookerRef,
        /// Timer in seconds.
        timer: u32,
    },
    /// `CMD_APC_SET_TEMPERATURE_UNIT`: the display unit only.
    SetTemperatureUnit {
        /// The cooker.
        cooker: CookerRef,
        /// The new display unit.
        unit: TemperatureUnit,
    },
}

impl ApcCommand {
    /// The command's wire name.
    pub fn name(&self) -> ApcCommandName {
        match self {
            Self::Start { .. } => ApcCommandName::Start,
            Self::Stop { .. } => ApcCommandName::Stop,
            Self::SetTargetTemp { .. } => ApcCommandName::SetTargetTemp,
            Self::SetTimer { .. } => ApcCommandName::SetTimer,
            Self::SetTemperatureUnit { .. } => ApcCommandName::SetTemperatureUnit,
        }
    }

    /// The cooker this command addresses.
    pub fn cooker(&self) -> &CookerRef {
        match self {
            Self::Start { cooker, .. }
            | Self::Stop { cooker }
            | Self::SetTargetTemp { cooker, .. }
            | Self::SetTimer { cooker, .. }
            | Self::SetTemperatureUnit { cooker, .. } => cooker,
        }
    }
}

/// `cookerId` and `type`, the address of every APC command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CookerRef {
    /// The cloud's device id (empty when absent).
    pub cooker_id: String,
    /// The type as sent (empty when absent).
    pub device_type: DeviceType,
}

/// The wire names of the APC commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApcCommandName {
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

impl ApcCommandName {
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

    /// Reads a `command` text.
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

impl fmt::Display for ApcCommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that is not a command frame at all: there is nothing to answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object with a string `command` (and a string `requestId`, if any).
    #[error("not a command frame: {0}")]
    NotAFrame(&'static str),
}

/// The prefix of every oven command.
const APO_PREFIX: &str = "CMD_APO_";

impl ClientFrame {
    /// Reads one text frame sent by a client.
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
        let Value::Object(mut frame) = value else {
            return Err(FrameError::NotAFrame("not an object"));
        };
        let command = match frame.remove("command") {
            Some(Value::String(command)) => command,
            _ => return Err(FrameError::NotAFrame("no string command")),
        };
        let request_id = match frame.remove("requestId") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(id)) => id,
            Some(_) => return Err(FrameError::NotAFrame("requestId is not a string")),
        };
        let payload = frame.remove("payload").unwrap_or(Value::Null);
        let body = if let Some(name) = ApcCommandName::parse(&command) {
            decode_apc(name, &payload)
        } else if command.starts_with(APO_PREFIX) {
            ClientCommand::Apo(ApoEnvelope::read(payload))
        } else {
            ClientCommand::Other { payload }
        };
        Ok(Self {
            command,
            request_id,
            body,
        })
    }

    /// Writes the frame back: APC commands with their flat payload (and the app's inner
    /// `requestId` when it had one), oven commands in their envelope, anything else verbatim.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Frame<'a> {
            command: &'a str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: Value,
        }
        let payload = match &self.body {
            ClientCommand::Apc {
                command,
                inner_request_id,
            } => flat_payload(command, inner_request_id.as_deref()),
            ClientCommand::Apo(envelope) => envelope.to_value(),
            ClientCommand::Invalid { .. } => Value::Null,
            ClientCommand::Other { payload } => payload.clone(),
        };
        let frame = Frame {
            command: &self.command,
            request_id: &self.request_id,
            payload,
        };
        serde_json::to_string(&frame).unwrap_or_default()
    }
}

impl ApoEnvelope {
    fn read(payload: Value) -> Self {
        let Value::Object(mut map) = payload else {
            return Self {
                id: String::new(),
                command_type: String::new(),
                payload: None,
            };
        };
        let mut text = |key: &str| match map.remove(key) {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        Self {
            id: text("id"),
            command_type: text("type"),
            payload: map.remove("payload"),
        }
    }

    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), Value::String(self.id.clone()));
        map.insert("type".into(), Value::String(self.command_type.clone()));
        if let Some(payload) = &self.payload {
            map.insert("payload".into(), payload.clone());
        }
        Value::Object(map)
    }
}

/// A number, or a string holding one (as some clients send), or a bool as 0/1.
fn lenient_number(value: &Value) -> Option<f64> {
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    number.filter(|n| n.is_finite())
}

/// An optional string field: absent or `null` is `None`; anything but a string is an error.
fn optional_text<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key} is not a string")),
    }
}

fn decode_apc(name: ApcCommandName, payload: &Value) -> ClientCommand {
    match read_apc(name, payload) {
        Ok((command, inner_request_id)) => ClientCommand::Apc {
            command,
            inner_request_id,
        },
        Err(reason) => ClientCommand::Invalid { reason },
    }
}

fn read_apc(name: ApcCommandName, payload: &Value) -> Result<(ApcCommand, Option<String>), String> {
    let map = payload
        .as_object()
        .ok_or_else(|| "payload is not an object".to_owned())?;
    let cooker = CookerRef {
        cooker_id: optional_text(map, "cookerId")?.unwrap_or("").to_owned(),
        device_type: DeviceType::new(optional_text(map, "type")?.unwrap_or("")),
    };
    let inner_request_id = optional_text(map, "requestId")?.map(str::to_owned);
    let unit = match optional_text(map, "unit")? {
        None => None,
        Some(text) => Some(TemperatureUnit::parse(text).ok_or(format!("unknown unit {text:?}"))?),
    };
    let target = map.get("targetTemperature").and_then(lenient_number);
    let timer = match map.get("timer").and_then(lenient_number) {
        None => None,
        // Rounded like the product's lenient reader; outside u32 is refused below.
        Some(t) => Some(u32::try_from(t.round() as i64).map_err(|_| "timer out of range")?),
    };
    let missing = |key: &str| format!("{key} missing");
    let command = match name {
        ApcCommandName::Start => ApcCommand::Start {
            cooker,
            target_temperature: target.ok_or_else(|| missing("targetTemperature"))?,
            unit: unit.unwrap_or(TemperatureUnit::C),
            timer,
        },
        ApcCommandName::Stop => ApcCommand::Stop { cooker },
        ApcCommandName::SetTargetTemp => ApcCommand::SetTargetTemp {
            cooker,
            target_temperature: target.ok_or_else(|| missing("targetTemperature"))?,
            unit: unit.unwrap_or(TemperatureUnit::C),
        },
        ApcCommandName::SetTimer => ApcCommand::SetTimer {
            cooker,
            timer: timer.ok_or_else(|| missing("timer"))?,
        },
        ApcCommandName::SetTemperatureUnit => ApcCommand::SetTemperatureUnit {
            cooker,
            unit: unit.ok_or_else(|| missing("unit"))?,
        },
    };
    Ok((command, inner_request_id))
}

/// The flat payload of an APC command: `{cookerId, type, targetTemperature?, unit?, timer?,
/// requestId?}`, whole-number temperatures without a fraction as the apps write them.
fn flat_payload(command: &ApcCommand, inner_request_id: Option<&str>) -> Value {
    let cooker = command.cooker();
    let mut map = Map::new();
    map.insert("cookerId".into(), cooker.cooker_id.clone().into());
    map.insert("type".into(), cooker.device_type.as_str().into());
    let temperature = |t: f64| -> Value {
        if t.fract() == 0.0 && t.abs() < 1e15 {
            // Exact: a whole number well inside i64.
            Value::from(t as i64)
        } else {
            Value::from(t)
        }
    };
    match command {
        ApcCommand::Start {
            target_temperature,
            unit,
            timer,
            ..
        } => {
            map.insert("targetTemperature".into(), temperature(*target_temperature));
            map.insert("unit".into(), unit.to_string().into());
            if let Some(timer) = timer {
                map.insert("timer".into(), (*timer).into());
            }
        }
        ApcCommand::Stop { .. } => {}
        ApcCommand::SetTargetTemp {
            target_temperature,
            unit,
            ..
        } => {
            map.insert("targetTemperature".into(), temperature(*target_temperature));
            map.insert("unit".into(), unit.to_string().into());
        }
        ApcCommand::SetTimer { timer, .. } => {
            map.insert("timer".into(), (*timer).into());
        }
        ApcCommand::SetTemperatureUnit { unit, .. } => {
            map.insert("unit".into(), unit.to_string().into());
        }
    }
    if let Some(id) = inner_request_id {
        map.insert("requestId".into(), id.into());
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(command: &str, payload: Value) -> String {
        json!({"command": command, "requestId": "r", "payload": payload}).to_string()
    }

    fn apc(text: &str) -> ApcCommand {
        match ClientFrame::parse(text).unwrap().body {
            ClientCommand::Apc { command, .. } => command,
            other => panic!("not an APC command: {other:?}"),
        }
    }

    #[test]
    fn the_five_apc_commands() {
        let a7 = CookerRef {
            cooker_id: "c".into(),
            device_type: DeviceType::new("a7"),
        };
        let start = frame(
            "CMD_APC_START",
            json!({"cookerId": "c", "type": "a7", "targetTemperature": "57.5", "unit": "F", "timer": 60}),
        );
        assert_eq!(
            apc(&start),
            ApcCommand::Start {
                cooker: a7.clone(),
                target_temperature: 57.5,
                unit: TemperatureUnit::F,
                timer: Some(60)
            }
        );
        let stop = frame("CMD_APC_STOP", json!({"cookerId": "c", "type": "a7"}));
        assert_eq!(apc(&stop), ApcCommand::Stop { cooker: a7.clone() });
        let set = frame(
            "CMD_APC_SET_TARGET_TEMP",
            json!({"cookerId": "c", "type": "a7", "targetTemperature": 60}),
        );
        assert!(matches!(
            apc(&set),
            ApcCommand::SetTargetTemp { unit: TemperatureUnit::C, target_temperature, .. } if target_temperature == 60.0
        ));
        let timer = frame(
            "CMD_APC_SET_TIMER",
            json!({"cookerId": "c", "type": "a7", "timer": 1200}),
        );
        assert!(matches!(
            apc(&timer),
            ApcCommand::SetTimer { timer: 1200, .. }
        ));
        let unit = frame(
            "CMD_APC_SET_TEMPERATURE_UNIT",
            json!({"cookerId": "c", "type": "a7", "unit": "F"}),
        );
        assert_eq!(apc(&unit).name(), ApcCommandName::SetTemperatureUnit);
        assert_eq!(apc(&unit).cooker(), &a7);
    }

    #[test]
    fn payloads_the_cloud_refuses_are_invalid_but_answerable() {
        for payload in [
            json!({"cookerId": "c", "type": "a7"}),
            json!({"cookerId": "c", "type": "a7", "targetTemperature": 60, "unit": "K"}),
            json!({"cookerId": "c", "type": "a7", "targetTemperature": 60, "timer": -1}),
            json!({"cookerId": 7, "type": "a7", "targetTemperature": 60}),
            json!("not an object"),
            Value::Null,
        ] {
            let parsed = ClientFrame::parse(&frame("CMD_APC_START", payload.clone())).unwrap();
            assert_eq!(parsed.request_id, "r");
            assert!(
                matches!(parsed.body, ClientCommand::Invalid { .. }),
                "{payload}"
            );
        }
    }

    #[test]
    fn missing_type_or_id_is_kept_empty() {
        let command = apc(&frame("CMD_APC_STOP", json!({})));
        assert_eq!(command.cooker().cooker_id, "");
        assert_eq!(command.cooker().device_type.as_str(), "");
    }

    #[test]
    fn oven_envelopes() {
        let text = frame(
            "CMD_APO_STOP",
            json!({"type": "CMD_APO_STOP", "id": "oven1"}),
        );
        let parsed = ClientFrame::parse(&text).unwrap();
        assert_eq!(
            parsed.body,
            ClientCommand::Apo(ApoEnvelope {
                id: "oven1".into(),
                command_type: "CMD_APO_STOP".into(),
                payload: None
            })
        );
        let unit = frame(
            "CMD_APO_SET_TEMPERATURE_UNIT",
            json!({"id": "o", "type": "CMD_APO_SET_TEMPERATURE_UNIT", "payload": {"temperatureUnit": "F"}}),
        );
        let ClientCommand::Apo(envelope) = ClientFrame::parse(&unit).unwrap().body else {
            panic!()
        };
        assert_eq!(envelope.payload, Some(json!({"temperatureUnit": "F"})));
        // A broken envelope is still an oven command, addressed to nobody.
        let broken = ClientFrame::parse(&frame("CMD_APO_START", json!(3))).unwrap();
        assert!(
            matches!(broken.body, ClientCommand::Apo(ApoEnvelope { ref id, .. }) if id.is_empty())
        );
    }

    #[test]
    fn frames_round_trip() {
        for text in [
            frame(
                "CMD_APC_START",
                json!({"cookerId": "c", "type": "a7", "targetTemperature": 65, "unit": "C", "timer": 3600}),
            ),
            frame(
                "CMD_APC_SET_TIMER",
                json!({"cookerId": "c", "type": "pro", "timer": 1200, "requestId": "inner"}),
            ),
            frame(
                "CMD_APO_START",
                json!({"id": "o", "type": "CMD_APO_START", "payload": {"cookId": "x", "stages": []}}),
            ),
            frame("CMD_MAKE_COFFEE", json!({"beans": 2})),
        ] {
            let parsed = ClientFrame::parse(&text).unwrap();
            let again: Value = serde_json::from_str(&parsed.to_json()).unwrap();
            assert_eq!(
                again,
                serde_json::from_str::<Value>(&text).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn not_a_command_frame() {
        assert!(matches!(
            ClientFrame::parse("hello"),
            Err(FrameError::NotJson(_))
        ));
        assert!(ClientFrame::parse(r#"{"payload":{}}"#).is_err());
        assert!(ClientFrame::parse(r#"[1]"#).is_err());
        assert!(ClientFrame::parse(r#"{"command":"X","requestId":5}"#).is_err());
    }
}
