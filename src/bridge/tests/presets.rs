//! Presets in the core (`docs/interface.md` §8.1): a command names one, its own keys win, an
//! unknown or other-family preset is refused naming the valid ones, and the state says which
//! preset's values are pending or running.

use super::harness::*;
use super::*;
use crate::oven::state::OvenState;
use crate::sous_vide::state::{CookerState, Stage};
use crate::sous_vide::wire::ApcCommand;
use crate::wire::TemperatureUnit;

const OVEN: &str = "OVENV2ID0000000001";
const OVEN_ID: &str = "ovenv2id0000000001";

fn state_of(out: &[Output], id: &str) -> Value {
    json_on(out, &format!("anova2mqtt/{id}/state"))
        .pop()
        .unwrap_or(Value::Null)
}

#[test]
fn a_preset_sets_the_pending_values_and_the_state_names_it() {
    let mut h = Harness::ready();
    let out = h.set_key(A7_ID, "preset", "Chicken-Breast");
    let answer = response(&out, A7_ID);
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(answer["pending"], true);
    assert_eq!(
        answer["command"],
        json!({"preset": "chicken-breast", "target_temperature": 60, "timer": 5400, "food": "poultry"})
    );
    assert!(
        cloud_commands(&out).is_empty(),
        "nothing is sent while idle"
    );
    let state = state_of(&out, A7_ID);
    assert_eq!(state["target_temperature"], 60.0);
    assert_eq!(state["timer_total"], 5400);
    assert_eq!(state["preset"], "chicken-breast");

    // The Cook switch starts it; the running cook still shows the preset.
    let out = h.set_key(A7_ID, "cook", "ON");
    let (ticket, command) = one_command(&out);
    assert!(
        matches!(command, ApcCommand::Start { target_temperature, timer: Some(5400), .. } if target_temperature == 60.0),
        "{command:?}"
    );
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 60.0, 5400, 5400));
    assert_eq!(response(&out, A7_ID)["status"], "ok");
    assert_eq!(state_of(&out, A7_ID)["preset"], "chicken-breast");

    // When the cook ends, so does its preset.
    let out = h.state(
        A7,
        CookerState {
            stage: Stage::Idle,
            ..idle_state("a7")
        },
    );
    assert_eq!(state_of(&out, A7_ID)["preset"], Value::Null);
}

#[test]
fn the_commands_own_keys_override_the_preset() {
    let mut h = Harness::ready();
    let out = h.set(
        A7_ID,
        r#"{"id":"p","preset":"steak-medium-rare","target_temperature":"135F","cook":true}"#,
    );
    let (ticket, command) = one_command(&out);
    let ApcCommand::Start {
        target_temperature,
        unit,
        timer,
        ..
    } = command
    else {
        panic!("{command:?}");
    };
    assert_eq!((target_temperature, unit), (135.0, TemperatureUnit::F));
    assert_eq!(timer, Some(8100), "the preset's 2 h 15 min");
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 57.22, 8100, 8100));
    let response = response(&out, A7_ID);
    assert_eq!(response["command"]["preset"], "steak-medium-rare");
    assert_eq!(response["command"]["food"], "beef");
    assert_eq!(response["command"]["target_temperature"], 57.22);
}

#[test]
fn the_presets_food_rules_apply_to_the_command() {
    let mut h = Harness::ready();
    let out = h.set(
        A7_ID,
        r#"{"id":"u","preset":"chicken-breast","target_temperature":52,"cook":true}"#,
    );
    let response = response(&out, A7_ID);
    assert_eq!(error_code(&response), "unsafe", "{response}");
    assert!(cloud_commands(&out).is_empty());
}

#[test]
fn an_unknown_or_other_family_preset_is_invalid_value_naming_the_valid_ones() {
    let mut h = Harness::ready();
    h.add(OVEN, "oven_v2", "Oven");
    h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: OvenState::idle_example("oven_v2").into(),
    });
    h.drain();
    for (device, payload, expected, not) in [
        (
            A7_ID,
            r#"{"id":"a","preset":"pizza"}"#,
            "no preset \"pizza\"",
            "roast-chicken",
        ),
        (
            A7_ID,
            r#"{"id":"b","preset":"roast-chicken"}"#,
            "is for ovens",
            "roast-chicken,",
        ),
        (
            OVEN_ID,
            r#"{"id":"c","preset":"chicken-breast"}"#,
            "is for cookers",
            "turkey",
        ),
        (
            A7_ID,
            r#"{"id":"d","preset":7}"#,
            "give the name of a preset",
            "\u{0}",
        ),
    ] {
        let out = h.set(device, payload);
        let response = response(&out, device);
        assert_eq!(error_code(&response), "invalid_value", "{response}");
        let message = response["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains(not), "{message}");
        if device == OVEN_ID {
            assert!(message.contains("roast-chicken"), "{message}");
        } else if payload.contains("pizza") {
            assert!(message.contains("chicken-breast"), "{message}");
        }
    }
}

#[test]
fn an_oven_preset_is_laid_under_the_commands_keys() {
    let mut h = Harness::ready();
    h.add(OVEN, "oven_v2", "Oven");
    h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: OvenState::idle_example("oven_v2").into(),
    });
    h.drain();
    let out = h.set(
        OVEN_ID,
        r#"{"id":"o","preset":"roast-chicken","fan":"low"}"#,
    );
    let response = response(&out, OVEN_ID);
    assert_eq!(response["status"], "ok", "{response}");
    assert_eq!(response["command"]["preset"], "roast-chicken");
    assert_eq!(response["command"]["probe_target"], 74);
    assert_eq!(response["command"]["fan"], 33, "the command's fan wins");
    assert_eq!(state_of(&out, OVEN_ID)["preset"], "roast-chicken");
}

#[test]
fn the_presets_are_retained_on_bridge_presets_at_every_connect() {
    let mut h = Harness::ready();
    let out = h.input(Input::MqttConnected);
    let found = on(&out, "anova2mqtt/bridge/presets");
    assert_eq!(found.len(), 1);
    assert!(found[0].retain);
    let list: Value = serde_json::from_str(&found[0].payload).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"chicken-breast") && names.contains(&"pork-roast"),
        "{names:?}"
    );
    // The demo leaves nothing retained behind.
    h.bridge.shutdown(true);
    let out = h.drain();
    assert_eq!(on(&out, "anova2mqtt/bridge/presets")[0].payload, "");
}
