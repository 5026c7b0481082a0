//! Ovens in the core: their own safety ceiling, and Home Assistant's thermostat on an idle oven
//! (issue 27 items 3 and 5).

use super::harness::*;
use super::*;
use crate::oven::state::OvenState;
use crate::oven::wire::ApoCommand;
use crate::wire::CloudCommand;

const OVEN: &str = "OVENV2ID0000000001";
const OVEN_ID: &str = "ovenv2id0000000001";

/// An a7 and an idle oven_v2, connected; the outputs so far (with a `bridge/devices` build).
fn ready(config: BridgeConfig) -> (Harness, Vec<Output>) {
    let mut h = Harness::new(config);
    let mut outputs = h.input(Input::MqttConnected);
    outputs.extend(h.cloud(CloudEvent::Link(LinkState::Up)));
    outputs.extend(h.add(A7, "a7", "Kitchen"));
    outputs.extend(h.add(OVEN, "oven_v2", "Oven"));
    outputs.extend(h.cloud(CloudEvent::DeviceListSynced));
    outputs.extend(h.state(A7, idle_state("a7")));
    outputs.extend(h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: OvenState::idle_example("oven_v2").into(),
    }));
    outputs.extend(h.advance(Duration::from_secs(2)));
    (h, outputs)
}

/// One ceiling per family (issue 27 item 3): a household that caps its cooker at 70 °C still
/// roasts at 200 °C, and an oven ceiling caps only ovens, naming its own key.
#[test]
fn each_family_has_its_own_safety_ceiling() {
    let roast = r#"{"id":"roast","target_temperature":200}"#;

    let (mut h, outputs) = ready(BridgeConfig {
        max_temperature_c: Some(70.0),
        ..config()
    });
    let r = response(&h.set(OVEN_ID, roast), OVEN_ID);
    assert_eq!(r["status"], "ok", "{r}");
    let r = response(&h.set_key(A7_ID, "target_temperature", "75"), A7_ID);
    assert!(r["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("safety.max_temperature_c of 70 °C"));
    // bridge/devices shows each device's own maximum.
    let lists = json_on(&outputs, "anova2mqtt/bridge/devices");
    let list = lists.last().expect("bridge/devices");
    let max = |id: &str| {
        list.as_array()
            .and_then(|l| l.iter().find(|d| d["id"] == id))
            .map(|d| d["max_temperature_c"].clone())
    };
    assert_eq!(max(A7_ID), Some(json!(70.0)));
    assert_eq!(max(OVEN_ID), Some(json!(250.0)));

    let (mut h, _) = ready(BridgeConfig {
        oven_max_temperature_c: Some(180.0),
        ..config()
    });
    let r = response(&h.set(OVEN_ID, roast), OVEN_ID);
    assert_eq!(error_code(&r), "out_of_range");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("safety.oven_max_temperature_c of 180 °C"),
        "{r}"
    );
    let r = response(&h.set_key(A7_ID, "target_temperature", "90"), A7_ID);
    assert_eq!(r["status"], "ok", "{r}");
}

/// Every oven command sent in `outputs`, with its ticket.
fn oven_commands(outputs: &[Output]) -> Vec<(Ticket, ApoCommand)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Cloud {
                ticket,
                command: CloudCommand::Oven(command),
                ..
            } => Some((*ticket, command.clone())),
            _ => None,
        })
        .collect()
}

/// The cook a start sends: its id and its first stage's target, °C.
fn started(command: &ApoCommand) -> (String, f64) {
    match command {
        ApoCommand::StartV1 { cook, .. } | ApoCommand::StartV2 { cook, .. } => {
            (cook.cook_id.clone(), cook.stages[0].target.celsius)
        }
        other => panic!("not a start: {other:?}"),
    }
}

/// The oven's state once it runs `cook_id` at `target`.
fn cooking(cook_id: &str, target: f64) -> OvenState {
    let mut state = OvenState::idle_example("oven_v2");
    state.cooking = true;
    state.stage = crate::oven::state::OvenStage::Preheating;
    state.cook_id = Some(cook_id.into());
    state.target_temperature = Some(target);
    state
}

/// Issue 27 item 5: Home Assistant's `climate.set_temperature` with `hvac_mode: heat` publishes
/// `set/mode heat` and then `set/target_temperature 200.0`, milliseconds apart. On an idle
/// oven that is one cook at 200 °C: the start is held a moment, the target is kept for it
/// (answered at once, as while idle), and one CMD_APO_START goes out. Each message gets its
/// one response.
#[test]
fn home_assistants_heat_then_temperature_is_one_cook_at_that_temperature() {
    let (mut h, _) = ready(config());
    let out = h.mqtt("anova2mqtt/ovenv2id0000000001/set/mode", "heat", false);
    assert!(oven_commands(&out).is_empty(), "held, not sent: {out:#?}");
    no_response(&out, OVEN_ID);
    let out = h.advance(Duration::from_millis(5));
    assert!(oven_commands(&out).is_empty());
    let out = h.mqtt(
        "anova2mqtt/ovenv2id0000000001/set/target_temperature",
        "200.0",
        false,
    );
    assert!(oven_commands(&out).is_empty());
    let r = response(&out, OVEN_ID);
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["pending"], true, "{r}");
    // The idle state shows the target the held start will use.
    let state = &json_on(&out, "anova2mqtt/ovenv2id0000000001/state")[0];
    assert_eq!(state["target_temperature"], 200.0);

    let out = h.advance(crate::oven::plan::START_SETTLE);
    let sent = oven_commands(&out);
    assert_eq!(sent.len(), 1, "one start: {out:#?}");
    let (ticket, command) = &sent[0];
    let (cook_id, target) = started(command);
    assert_eq!(target, 200.0);
    no_response(&out, OVEN_ID);
    h.result(*ticket, Ok(()));
    let out = h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: cooking(&cook_id, 200.0).into(),
    });
    let r = response(&out, OVEN_ID);
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["command"]["stages"][0]["target_temperature"], 200.0);
    assert!(oven_commands(&h.advance(Duration::from_secs(5))).is_empty());
}

/// Without a target from anywhere, "heat" starts at the target the idle state shows (the app's
/// 180 °C dry); a command that is not a value for the next start ends the wait at once, and
/// runs after the start, in arrival order.
#[test]
fn a_held_start_runs_at_the_shown_target_or_before_the_next_command() {
    let (mut h, outputs) = ready(config());
    let shown = json_on(&outputs, "anova2mqtt/ovenv2id0000000001/state");
    assert_eq!(
        shown.last().map(|s| s["target_temperature"].clone()),
        Some(json!(180.0))
    );
    assert_eq!(
        shown.last().map(|s| s["temperature_mode"].clone()),
        Some(json!("dry"))
    );
    h.set_key(OVEN_ID, "cook", "ON");
    let out = h.advance(crate::oven::plan::START_SETTLE);
    let sent = oven_commands(&out);
    assert_eq!(sent.len(), 1);
    assert_eq!(started(&sent[0].1).1, 180.0);
    let (cook_id, _) = started(&sent[0].1);
    h.result(sent[0].0, Ok(()));
    h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: cooking(&cook_id, 180.0).into(),
    });
    let mut idle = OvenState::idle_example("oven_v2");
    idle.updated_at += time::Duration::seconds(30);
    h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: idle.into(),
    });

    // "heat", then "off" at once: the start is not held for a stop; both run, in order.
    let out = h.set(OVEN_ID, r#"{"id":"heat","mode":"heat"}"#);
    assert!(oven_commands(&out).is_empty());
    let out = h.set(OVEN_ID, r#"{"id":"off","mode":"off"}"#);
    let sent = oven_commands(&out);
    assert_eq!(sent.len(), 1, "the held start went out at once: {out:#?}");
    assert_eq!(started(&sent[0].1).1, 180.0, "the last cook's target");
}

/// A held start is answered like a waiting command when the link drops meanwhile: nothing was
/// sent.
#[test]
fn a_held_start_is_answered_when_the_link_drops() {
    let (mut h, _) = ready(config());
    h.set(OVEN_ID, r#"{"id":"h","cook":true}"#);
    let out = h.cloud(CloudEvent::Link(LinkState::Down { reason: "x".into() }));
    let r = response(&out, OVEN_ID);
    assert_eq!(r["id"], "h");
    assert_eq!(error_code(&r), "cloud_unavailable");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("nothing was sent"));
    assert!(oven_commands(&h.advance(Duration::from_secs(2))).is_empty());
}

/// Firmware (issue 27 item 18): the cloud's offer is published at once in the state's
/// `update` object, which Home Assistant's `update` entity reads; once the state reports the
/// offered version, nothing is left to install.
#[test]
fn a_firmware_offer_is_published_in_the_state_until_it_is_installed() {
    use crate::appliance::{Firmware, Offer};
    let (mut h, outputs) = ready(config());
    let state_topic = format!("anova2mqtt/{OVEN_ID}/state");
    let before = json_on(&outputs, &state_topic);
    let before = before.last().expect("the oven's state");
    assert_eq!(before["firmware_update"]["installed_version"], "2.1.7");
    assert_eq!(before["firmware_update"]["latest_version"], Value::Null);
    let offer = Firmware {
        installed: Some("2.1.7".into()),
        offer: Some(Offer {
            version: "2.1.8".into(),
            required: Some(false),
            notes: Some("2.1.8 - Prevent cooks https://example.com/notes".into()),
            image_url: Some("https://example.com/2.1.8.bin".into()),
        }),
    };
    let out = h.cloud(CloudEvent::Firmware {
        cloud_id: OVEN.into(),
        firmware: offer.clone(),
    });
    let states = json_on(&out, &state_topic);
    assert_eq!(states.len(), 1, "published at once: {out:#?}");
    let update = &states[0]["firmware_update"];
    assert_eq!(update["installed_version"], "2.1.7");
    assert_eq!(update["latest_version"], "2.1.8");
    assert_eq!(update["update_available"], true);
    assert_eq!(update["release_summary"], "2.1.8 - Prevent cooks");
    assert_eq!(update["release_url"], "https://example.com/notes");
    // The same word again publishes nothing new.
    let again = h.cloud(CloudEvent::Firmware {
        cloud_id: OVEN.into(),
        firmware: offer,
    });
    assert!(json_on(&again, &state_topic).is_empty());
    // Installed: the state reports the offered version.
    let mut updated = OvenState::idle_example("oven_v2");
    updated.firmware = Some("2.1.8".into());
    let out = h.cloud(CloudEvent::State {
        cloud_id: OVEN.into(),
        state: updated.into(),
    });
    let states = json_on(&out, &state_topic);
    assert_eq!(states[0]["firmware_update"]["installed_version"], "2.1.8");
    assert_eq!(states[0]["firmware_update"]["update_available"], false);
    // The API shows the same.
    let view = h
        .bridge
        .device_view(&TopicId::from(OVEN_ID))
        .expect("the oven");
    assert_eq!(view["state"]["firmware_update"]["latest_version"], "2.1.8");
}
