//! The oven's rules through the bridge, on the harness's virtual clock: a start confirmed only
//! by its cook id, the doubled confirmation window, a refusal with no fallback (the oven's
//! `recover`), and stage keys kept for the next start. `oven.rs` beside it has the oven's own
//! ceiling and Home Assistant's thermostat; `tests/oven.rs` runs whole cooks against the
//! simulator; these need no wall clock and no socket.

use super::harness::*;
use super::*;
use crate::oven::state::{OvenStage, OvenState};
use crate::wire::CloudCommand;

/// A push of the oven's state.
fn push(h: &mut Harness, state: OvenState) -> Vec<Output> {
    h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: state.into(),
    })
}

/// The oven cooking the cook `cook_id`.
fn cooking(cook_id: Option<&str>) -> OvenState {
    OvenState {
        cooking: true,
        stage: OvenStage::Cooking,
        target_temperature: Some(180.0),
        cook_id: cook_id.map(str::to_owned),
        ..OvenState::idle_example("oven_v2")
    }
}

/// The one oven command in `outputs`, with its ticket and its frame as JSON.
fn one_oven_command(outputs: &[Output]) -> (Ticket, Value) {
    let commands: Vec<(Ticket, Value)> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Cloud {
                ticket,
                command: command @ CloudCommand::Oven(_),
                ..
            } => Some((*ticket, serde_json::from_str(&command.to_frame("r")).ok()?)),
            _ => None,
        })
        .collect();
    assert_eq!(
        commands.len(),
        1,
        "expected one oven command in {outputs:#?}"
    );
    commands.into_iter().next().expect("one, as asserted")
}

/// The first string under a `cookId` key anywhere in `value`.
fn cook_id_in(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get("cookId")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(cook_id_in)),
        Value::Array(items) => items.iter().find_map(cook_id_in),
        _ => None,
    }
}

#[test]
fn an_oven_start_is_confirmed_by_its_cook_id_only() {
    let mut h = Harness::with_oven();
    let out = h.set(
        OVEN_ID,
        r#"{"id":"roast","cook":true,"target_temperature":180}"#,
    );
    let (ticket, frame) = one_oven_command(&out);
    assert_eq!(frame["command"], "CMD_APO_START", "{frame}");
    let cook_id = cook_id_in(&frame).expect("the start names its cook");
    no_response(&h.result(ticket, Ok(())), OVEN_ID);
    // Cooking, but another cook (one started on the oven itself): not ours.
    no_response(&push(&mut h, cooking(Some("someone-else"))), OVEN_ID);
    no_response(&push(&mut h, cooking(None)), OVEN_ID);
    let r = response(&push(&mut h, cooking(Some(&cook_id))), OVEN_ID);
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["id"], "roast");
    assert_eq!(r["command"]["cook_id"], cook_id.as_str());
    assert_eq!(r["command"]["stages"][0]["target_temperature"], 180);
}

#[test]
fn an_oven_gets_twice_the_confirmation_window() {
    // A Precision Oven 2.0 pushes about every 10 s while cooking: 15 s would be too short.
    let mut h = Harness::with_oven();
    let (ticket, _) =
        one_oven_command(&h.set(OVEN_ID, r#"{"cook":true,"target_temperature":180}"#));
    h.result(ticket, Ok(()));
    // Where a cooker is answered (`confirm_timeout`, 15 s), the oven still waits.
    no_response(&h.advance(Duration::from_secs(15)), OVEN_ID);
    no_response(&h.advance(Duration::from_secs(14)), OVEN_ID);
    let r = response(&h.advance(Duration::from_secs(1)), OVEN_ID);
    assert_eq!(error_code(&r), "not_confirmed");
    let message = r["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("drops a plan"), "{message}");
    assert!(message.contains("30s"), "the window is named: {message}");
}

#[test]
fn a_refused_oven_start_fails_with_nothing_sent_instead() {
    // A cooker restarts a cook when a SET is refused; an oven's every change already is a
    // whole start, so a refusal ends the command.
    let mut h = Harness::with_oven();
    let (ticket, _) =
        one_oven_command(&h.set(OVEN_ID, r#"{"cook":true,"target_temperature":180}"#));
    let out = h.result(ticket, Err(CloudError::Rejected("invalid cook".into())));
    let r = response(&out, OVEN_ID);
    assert_eq!(error_code(&r), "rejected");
    assert!(
        !out.iter().any(|o| matches!(o, Output::Cloud { .. })),
        "nothing else is sent: {out:#?}"
    );
    no_response(&h.advance(Duration::from_secs(60)), OVEN_ID);
}

#[test]
fn stage_keys_given_while_idle_wait_for_the_next_start() {
    let mut h = Harness::with_oven();
    let out = h.set_key(OVEN_ID, "target_temperature", "200");
    let r = response(&out, OVEN_ID);
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["pending"], true);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Cloud { .. })),
        "nothing is sent while idle"
    );
    let state = json_on(&out, &format!("anova2mqtt/{OVEN_ID}/state"));
    assert_eq!(
        state.last().map(|s| &s["target_temperature"]),
        Some(&json!(200.0))
    );
    // The next start uses it, and says so. Given alone, the start is held a moment for a
    // value sent right after it (Home Assistant's thermostat), then runs.
    no_response(&h.set_key(OVEN_ID, "cook", "ON"), OVEN_ID);
    let (ticket, frame) = one_oven_command(&h.advance(crate::oven::plan::START_SETTLE));
    let cook_id = cook_id_in(&frame).expect("the start names its cook");
    h.result(ticket, Ok(()));
    let r = response(&push(&mut h, cooking(Some(&cook_id))), OVEN_ID);
    assert_eq!(r["command"]["stages"][0]["target_temperature"], 200, "{r}");
}
