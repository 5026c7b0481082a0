//! A cooker's state frame read in one pass: the common case of the busiest frame there is.
//!
//! The general path ([`crate::wire::Event::parse`]) reads the envelope with the payload kept as
//! raw text, then the payload with the state kept as raw text, then the state: the body is
//! scanned three times, which was a fifth of a push's instructions. Every state frame seen puts
//! `command` before `payload` and `type` before `state`, so here the body goes straight into
//! its generation's type as the parser reaches it.
//!
//! This path only ever answers when the general path would give the same event: on anything
//! else (keys in another order or repeated, an escaped key, a missing or unknown `type`, a
//! body that fails its typed parse or lacks its generation's landmarks, `requestId` or `error`
//! in the envelope) it gives up and the general path decides, errors included.

use super::{A3State, ApcState, ApcStateEvent, Gen2State, Gen3State};
use crate::ids::CloudId;
use crate::wire::device::{DeviceType, Generation};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// The event when `text` is an `EVENT_APC_STATE` frame in the usual shape; `None` when the
/// general path has to decide.
pub(crate) fn parse_state_frame(text: &str) -> Option<ApcStateEvent> {
    let mut parser = serde_json::Deserializer::from_str(text);
    let event = (&mut parser).deserialize_map(FrameVisitor).ok()?;
    parser.end().ok()?;
    Some(event)
}

/// The error that hands the frame to the general path; never shown.
fn give_up<E: de::Error>() -> E {
    E::custom("not in the usual shape")
}

/// `{"command": "EVENT_APC_STATE", "payload": {…}}`.
struct FrameVisitor;

impl<'de> Visitor<'de> for FrameVisitor {
    type Value = ApcStateEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cooker state frame")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ApcStateEvent, A::Error> {
        let mut command_seen = false;
        let mut event = None;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "command" if !command_seen => {
                    if map.next_value::<&'de str>()? != "EVENT_APC_STATE" {
                        return Err(give_up());
                    }
                    command_seen = true;
                }
                "payload" if command_seen && event.is_none() => {
                    event = Some(map.next_value_seed(PayloadSeed)?);
                }
                "command" | "payload" | "requestId" | "error" => return Err(give_up()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        event.ok_or_else(give_up)
    }
}

/// `{"cookerId", "type", "state"}`, with `type` before `state`.
struct PayloadSeed;

impl<'de> DeserializeSeed<'de> for PayloadSeed {
    type Value = ApcStateEvent;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ApcStateEvent, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PayloadSeed {
    type Value = ApcStateEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cooker state payload")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ApcStateEvent, A::Error> {
        let mut cloud_id: Option<CloudId> = None;
        let mut device_type: Option<DeviceType> = None;
        let mut state = None;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "cookerId" if cloud_id.is_none() => cloud_id = Some(map.next_value()?),
                "type" if device_type.is_none() && state.is_none() => {
                    device_type = Some(
                        map.next_value::<Option<DeviceType>>()?
                            .ok_or_else(give_up)?,
                    );
                }
                "state" if state.is_none() => {
                    let generation = device_type.as_ref().ok_or_else(give_up)?.generation();
                    state = Some(match generation {
                        Generation::Gen3 => {
                            ApcState::Gen3(Box::new(map.next_value::<Gen3State>()?))
                        }
                        Generation::Gen2 => {
                            ApcState::Gen2(Box::new(map.next_value::<Gen2State>()?))
                        }
                        Generation::A3 => ApcState::A3(Box::new(map.next_value::<A3State>()?)),
                        _ => return Err(give_up()),
                    });
                }
                "cookerId" | "type" | "state" => return Err(give_up()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (cloud_id, state) {
            (Some(cloud_id), Some(state)) if state.has_landmarks() => Ok(ApcStateEvent {
                cloud_id,
                device_type,
                state,
            }),
            _ => Err(give_up()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Event;

    /// The general path's answer for a frame.
    fn general(text: &str) -> Option<ApcStateEvent> {
        match Event::parse_general(text) {
            Ok(Event::ApcState(event)) => Some(event),
            _ => None,
        }
    }

    #[test]
    fn real_captures_take_the_single_pass_and_read_the_same() {
        for name in [
            "EVENT_APC_STATE.a7.cooking.real.json",
            "EVENT_APC_STATE.a7.idle.real.json",
            "EVENT_APC_STATE.pro.preheating.real.json",
            "EVENT_APC_STATE.a3.cooking.real.json",
        ] {
            let path = format!(
                "{}/tests/fixtures/anova-messages/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).expect("fixture");
            let fast = parse_state_frame(&text).unwrap_or_else(|| panic!("{name}: gave up"));
            assert_eq!(Some(fast), general(&text), "{name}");
        }
    }

    #[test]
    fn anything_unusual_goes_to_the_general_path() {
        let state = r#"{"nodes":{"timer":{"initial":60}}}"#;
        for text in [
            // payload before command
            format!(r#"{{"payload":{{"cookerId":"X","type":"a7","state":{state}}},"command":"EVENT_APC_STATE"}}"#),
            // state before type
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"X","state":{state},"type":"a7"}}}}"#),
            // no type, unknown type, an oven's type, a null type
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"X","state":{state}}}}}"#),
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"X","type":"a11","state":{state}}}}}"#),
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"X","type":"oven_v2","state":{state}}}}}"#),
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"X","type":null,"state":{state}}}}}"#),
            // a Gen 2 body under a Gen 3 type, and the other way round
            r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":{"job":{"mode":"IDLE"}}}}"#.to_owned(),
            r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"pro","state":{"nodes":{}}}}"#.to_owned(),
            // a body that fails its typed parse
            r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":{"nodes":7}}}"#.to_owned(),
            // repeated keys, an escaped key, extra envelope keys, trailing text
            format!(r#"{{"command":"EVENT_APC_STATE","command":"EVENT_APC_STATE","payload":{{"cookerId":"X","type":"a7","state":{state}}}}}"#),
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"X","cookerId":"Y","type":"a7","state":{state}}}}}"#),
            format!(r#"{{"comm\u0061nd":"EVENT_APC_STATE","payload":{{"cookerId":"X","type":"a7","state":{state}}}}}"#),
            format!(r#"{{"command":"EVENT_APC_STATE","requestId":"r","payload":{{"cookerId":"X","type":"a7","state":{state}}}}}"#),
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"X","type":"a7","state":{state}}}}} x"#),
            // no cookerId; another command
            format!(r#"{{"command":"EVENT_APC_STATE","payload":{{"type":"a7","state":{state}}}}}"#),
            format!(r#"{{"command":"EVENT_APO_STATE","payload":{{"cookerId":"X","type":"a7","state":{state}}}}}"#),
        ] {
            assert_eq!(parse_state_frame(&text), None, "{text}");
        }
    }

    #[test]
    fn extra_keys_and_generations_read_like_the_general_path() {
        for text in [
            r#"{"command":"EVENT_APC_STATE","extra":[1,{"a":2}],"payload":{"cookerId":"X","type":"A7","firmware":"x","state":{"nodes":{"timer":{"initial":"60"}}}}}"#,
            r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"pro","state":{"job":{"mode":"COOK"},"job-status":{"state":"COOKING"}}}}"#,
            r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a3","state":{"isCooking":true}}}"#,
        ] {
            let fast = parse_state_frame(text).unwrap_or_else(|| panic!("gave up: {text}"));
            assert_eq!(Some(fast), general(text), "{text}");
        }
    }
}
