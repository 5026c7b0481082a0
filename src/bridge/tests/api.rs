//! The local API's side of the core: API commands go through the same path as MQTT commands
//! and are answered with [`Output::Reply`]; stream messages exist only while someone listens;
//! every answer is counted.

use super::harness::*;
use super::*;

fn replies(outputs: &[Output]) -> Vec<(ApiTicket, Value)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Reply { ticket, response } => Some((
                *ticket,
                serde_json::from_str(&response.to_json()).unwrap_or(Value::Null),
            )),
            _ => None,
        })
        .collect()
}

fn stream(outputs: &[Output]) -> Vec<Value> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Stream(text) => serde_json::from_str(text).ok(),
            _ => None,
        })
        .collect()
}

fn api(h: &mut Harness, ticket: u64, body: &str) -> Vec<Output> {
    h.input(Input::ApiCommand {
        ticket: ApiTicket(ticket),
        source: crate::appliance::record::Source::Http,
        device: A7_ID.into(),
        payload: body.as_bytes().to_vec(),
    })
}

#[test]
fn an_api_command_is_queued_like_mqtt_and_answered_by_reply() {
    let mut h = Harness::ready();
    let out = api(
        &mut h,
        7,
        r#"{"id":"a","cook":true,"target_temperature":57}"#,
    );
    let (ticket, _) = one_command(&out);
    // The MQTT command behind it waits its turn.
    let out = h.set(A7_ID, r#"{"id":"m","cook":false}"#);
    assert!(cloud_commands(&out).is_empty());
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 57.0, 0, 0));
    let answered = replies(&out);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].0, ApiTicket(7));
    assert_eq!(answered[0].1["id"], "a");
    assert_eq!(answered[0].1["status"], "ok");
    no_response(&out, A7_ID);
    // The stop behind it starts in the same step.
    let (stop, command) = one_command(&out);
    assert!(matches!(
        command,
        crate::sous_vide::wire::ApcCommand::Stop { .. }
    ));
    h.result(stop, Ok(()));
    assert_eq!(response(&h.state(A7, idle_state("a7")), A7_ID)["id"], "m");
    // Refusals go back by ticket as well, with the caller's id.
    let out = api(&mut h, 8, r#"{"id":"b","target_temperature":120}"#);
    let answered = replies(&out);
    assert_eq!(answered[0].0, ApiTicket(8));
    assert_eq!(error_code(&answered[0].1), "out_of_range");
    let out = api(&mut h, 9, "{nope");
    assert_eq!(error_code(&replies(&out)[0].1), "invalid_json");
}

#[test]
fn every_answer_is_counted_with_its_code() {
    let mut h = Harness::ready();
    let out = h.set(A7_ID, r#"{"target_temperature":120}"#);
    let done: Vec<Option<ErrorCode>> = out
        .iter()
        .filter_map(|o| match o {
            Output::CommandDone { code, .. } => Some(*code),
            _ => None,
        })
        .collect();
    assert_eq!(done, [Some(ErrorCode::OutOfRange)]);
    let out = h.set_key(A7_ID, "target_temperature", "57");
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::CommandDone { code: None, .. })));
}

#[test]
fn stream_messages_only_while_someone_listens() {
    let mut h = Harness::ready();
    let mut warmer = idle_state("a7");
    warmer.water_temperature = Some(30.0);
    assert!(stream(&h.state(A7, warmer.clone())).is_empty());
    h.input(Input::StreamListeners(true));
    warmer.water_temperature = Some(31.0);
    let messages = stream(&h.state(A7, warmer.clone()));
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["type"], "state");
    assert_eq!(messages[0]["device"], A7_ID);
    assert_eq!(messages[0]["state"]["water_temperature"], 31.0);
    // Cook events, bridge events and the device list go out too.
    let messages = stream(&h.state(A7, cooking_state("a7", 57.0, 0, 0)));
    assert!(messages
        .iter()
        .any(|m| m["type"] == "event" && m["event"]["event_type"] == "cook_started"));
    let mut out = h.cloud(CloudEvent::Link(LinkState::Down { reason: "x".into() }));
    out.extend(h.advance(DEVICES_INTERVAL));
    let messages = stream(&out);
    assert!(messages
        .iter()
        .any(|m| m["type"] == "bridge" && m["info"]["cloud"] == "disconnected"));
    assert!(messages
        .iter()
        .any(|m| m["type"] == "bridge" && m["event"]["event"] == "cloud_disconnected"));
    assert!(messages.iter().any(|m| m["type"] == "devices"));
    h.input(Input::StreamListeners(false));
    assert!(stream(&h.cloud(CloudEvent::Link(LinkState::Up))).is_empty());
}
