//! The HTTP API's request bodies: `POST /api/v1/devices/{id}/command` (the first input byte
//! is even) and the stream's `command` messages (odd), as the adapter reads them and hands
//! them to the bridge. Nothing may panic, the adapter and the bridge must agree on the
//! caller's id, and the one reply must carry it.

#![no_main]

#[path = "common.rs"]
mod common;

use anova2mqtt::bridge::{ApiTicket, Input, Output};
use anova2mqtt::cloud::client::fuzzing::FrameReader;
use anova2mqtt::cloud::{CloudEvent, LinkState};
use anova2mqtt::http::fuzzing::{command_id, stream_command};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const A7: &str =
    include_str!("../../tests/fixtures/anova-messages/EVENT_APC_STATE.a7.idle.real.json");

/// A bridge with one idle a7 (`a7cookerid000000000001`), link up.
fn driver() -> common::Driver {
    let mut driver = common::Driver::new();
    let mut reader = FrameReader::default();
    driver.input(Input::MqttConnected);
    driver.input(Input::Cloud(CloudEvent::Link(LinkState::Up)));
    for event in reader.frame(A7, driver.wall, true) {
        driver.input(Input::Cloud(event));
    }
    driver
}

fn reply_id(outputs: &[Output]) -> Option<Value> {
    let replies: Vec<&Output> = outputs
        .iter()
        .filter(|o| matches!(o, Output::Reply { .. }))
        .collect();
    assert!(replies.len() <= 1, "more than one reply: {outputs:?}");
    match replies.first() {
        Some(Output::Reply { response, .. }) => {
            let body: Value = serde_json::from_str(&response.to_json()).expect("JSON reply");
            body.get("id").or_else(|| body.get("transaction")).cloned()
        }
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, body)) = data.split_first() else {
        return;
    };
    let (device, payload) = if mode % 2 == 0 {
        ("a7cookerid000000000001".to_owned(), body.to_vec())
    } else {
        let Ok(text) = std::str::from_utf8(body) else {
            return;
        };
        match stream_command(text) {
            Some((device, payload)) => (device, payload.into_bytes()),
            None => return,
        }
    };
    let adapter_id = command_id(&payload);
    let mut driver = driver();
    let outputs = driver.input(Input::ApiCommand {
        ticket: ApiTicket(1),
        source: anova2mqtt::bridge::Source::Http,
        device: device.clone().into(),
        payload,
    });
    let answered = reply_id(&outputs);
    // The adapter's id (for its own errors) is the one the bridge echoes, when it is a string
    // or a number the bridge accepts.
    if let (Some(Value::String(sent)), Some(Value::String(got))) = (&adapter_id, &answered) {
        if sent.chars().count() <= 128 {
            assert_eq!(sent, got, "the reply does not carry the caller's id");
        }
    }
    if adapter_id.is_some()
        && device == "a7cookerid000000000001"
        && !outputs.iter().any(|o| matches!(o, Output::Cloud { .. }))
    {
        assert!(
            answered.is_some(),
            "no reply at once for a command that sent nothing: {outputs:?}"
        );
    }
});
