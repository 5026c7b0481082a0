//! Every rule of the bridge as a fast, deterministic test: inputs in, outputs checked.

use super::harness::*;
use super::*;
use crate::sous_vide::state::Stage;
use crate::sous_vide::wire::{ApcCommand, CommandName};
use crate::wire::TemperatureUnit;
use time::macros::datetime;

// --- connection, discovery, state ------------------------------------------------------------

#[test]
fn broker_connect_subscribes_and_publishes_everything_retained() {
    let mut h = Harness::new(config());
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    h.cloud(CloudEvent::DeviceListSynced);
    h.state(A7, idle_state("a7"));
    let out = h.input(Input::MqttConnected);
    let Some(Output::Subscribe(filters)) = out.first() else {
        panic!("first output is not the subscription: {out:#?}");
    };
    for f in [
        "anova2mqtt/+/set/#",
        "anova2mqtt/bridge/request/+",
        "anova2mqtt/bridge/devices",
        "homeassistant/status",
    ] {
        assert!(
            filters.iter().any(|x| x == f),
            "{f} missing from {filters:?}"
        );
    }
    let p = publishes(&out);
    assert_eq!(p[0].topic, "anova2mqtt/bridge/state");
    assert_eq!(p[0].payload, "online");
    for topic in [
        "anova2mqtt/bridge/state",
        "anova2mqtt/bridge/info",
        "anova2mqtt/bridge/devices",
        "homeassistant/device/anova2mqtt_bridge/config",
        "homeassistant/device/anova2mqtt_a7cookerid000000000001/config",
        "anova2mqtt/a7cookerid000000000001/availability",
        "anova2mqtt/a7cookerid000000000001/state",
    ] {
        let found = on(&out, topic);
        assert!(!found.is_empty(), "{topic} not published");
        assert!(
            found.iter().all(|p| p.retain && p.qos == Qos::AtLeastOnce),
            "{topic}"
        );
    }
    assert_eq!(
        on(&out, "anova2mqtt/a7cookerid000000000001/availability")[0].payload,
        "online"
    );
    let state = &json_on(&out, "anova2mqtt/a7cookerid000000000001/state")[0];
    assert_eq!(state["stage"], "idle");
    assert_eq!(state["water_temperature"], 21.0);
    assert_eq!(state["online"], true);
    let devices = &json_on(&out, "anova2mqtt/bridge/devices")[0];
    assert_eq!(
        devices[0],
        json!({"id": A7_ID, "cooker_id": A7, "name": "Kitchen", "model": "a7", "firmware": "01.01.25",
               "online": true, "min_temperature_c": 0.0, "max_temperature_c": 95.0, "max_timer_s": 359940})
    );
    // The keys in the order `docs/interface.md` lists them, as consumers reading the text see them.
    assert_eq!(
        on(&out, "anova2mqtt/bridge/devices")[0].payload,
        format!(
            r#"[{{"id":"{A7_ID}","cooker_id":"{A7}","name":"Kitchen","model":"a7","firmware":"01.01.25","online":true,"min_temperature_c":0.0,"max_temperature_c":95.0,"max_timer_s":359940}}]"#
        )
    );
    let info = &json_on(&out, "anova2mqtt/bridge/info")[0];
    assert_eq!(info["cloud"], "connected");
    assert_eq!(info["devices"], 1);
    assert_eq!(info["version"], "0.1.0");
    assert_eq!(info["started_at"], "2025-01-01T10:00:00Z");
}

#[test]
fn nothing_is_published_while_the_broker_is_away() {
    let mut h = Harness::ready();
    h.input(Input::MqttDisconnected);
    let out = h.state(A7, cooking_state("a7", 57.0, 0, 0));
    assert!(publishes(&out).is_empty());
    // The reconnect brings the latest state.
    let out = h.input(Input::MqttConnected);
    let state = &json_on(&out, &format!("anova2mqtt/{A7_ID}/state"))[0];
    assert_eq!(state["cooking"], true);
}

#[test]
fn state_is_published_only_when_it_changes_at_a_tenth_of_a_degree() {
    let mut h = Harness::ready();
    let topic = format!("anova2mqtt/{A7_ID}/state");
    let mut s = idle_state("a7");
    s.water_temperature = Some(21.02);
    s.updated_at = datetime!(2025-01-01 10:00:02 UTC);
    assert!(
        on(&h.state(A7, s.clone()), &topic).is_empty(),
        "21.04 → 21.02 is the same 21.0"
    );
    s.water_temperature = Some(21.06);
    let out = h.state(A7, s.clone());
    assert_eq!(json_on(&out, &topic)[0]["water_temperature"], 21.1);
    assert!(on(&h.state(A7, s.clone()), &topic).is_empty());
    // Unchanged for a minute: republished once to refresh updated_at.
    let out = h.advance(STATE_REFRESH);
    assert_eq!(on(&out, &topic).len(), 1);
    assert!(on(&h.advance(Duration::from_secs(1)), &topic).is_empty());
}

#[test]
fn availability_follows_link_cooker_flag_and_staleness() {
    let mut h = Harness::ready();
    let topic = format!("anova2mqtt/{A7_ID}/availability");
    let out = h.cloud(CloudEvent::Stale {
        cloud_id: A7.into(),
    });
    assert_eq!(on(&out, &topic)[0].payload, "offline");
    assert_eq!(
        json_on(&out, &format!("anova2mqtt/{A7_ID}/state"))[0]["online"],
        false
    );
    let out = h.state(A7, idle_state("a7"));
    assert_eq!(on(&out, &topic)[0].payload, "online");
    // The cooker itself says it is offline (Gen 3 systemInfo.online).
    let mut off = idle_state("a7");
    off.reported_online = Some(false);
    let out = h.state(A7, off);
    assert_eq!(on(&out, &topic)[0].payload, "offline");
    h.state(A7, idle_state("a7"));
    // The link goes down: every cooker is offline, and back.
    let out = h.cloud(CloudEvent::Link(LinkState::Down {
        reason: "closed".into(),
    }));
    assert_eq!(on(&out, &topic)[0].payload, "offline");
    assert_eq!(
        on(&out, &format!("anova2mqtt/{PRO_ID}/availability"))[0].payload,
        "offline"
    );
    let event = &json_on(&out, "anova2mqtt/bridge/event")[0];
    assert_eq!(event["event"], "cloud_disconnected");
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/info")[0]["cloud"],
        "disconnected"
    );
    let out = h.cloud(CloudEvent::Link(LinkState::Up));
    assert_eq!(on(&out, &topic)[0].payload, "online");
    let info = &json_on(&out, "anova2mqtt/bridge/info")[0];
    assert_eq!(info["reconnects"], 1);
    assert_eq!(info["last_error"], "closed");
}

#[test]
fn a_cooker_without_state_is_offline() {
    let mut h = Harness::ready();
    let out = h.add("NEW1", "a7", "New");
    assert_eq!(
        on(&out, "anova2mqtt/new1/availability")[0].payload,
        "offline"
    );
    assert!(on(&out, "anova2mqtt/new1/state").is_empty());
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/event")[0]["event"],
        "device_added"
    );
    assert!(!on(&out, "homeassistant/device/anova2mqtt_new1/config").is_empty());
}

#[test]
fn auth_failure_is_reported_once() {
    let mut h = Harness::new(config());
    h.input(Input::MqttConnected);
    let out = h.cloud(CloudEvent::Link(LinkState::AuthFailed {
        reason: "HTTP 401".into(),
    }));
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/event")[0]["event"],
        "auth_failed"
    );
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/info")[0]["cloud"],
        "auth_failed"
    );
    // The slow retry keeps saying auth_failed, without a new event.
    let out = h.cloud(CloudEvent::Link(LinkState::Connecting));
    assert!(on(&out, "anova2mqtt/bridge/info").is_empty());
    let out = h.cloud(CloudEvent::Link(LinkState::AuthFailed {
        reason: "HTTP 401".into(),
    }));
    assert!(on(&out, "anova2mqtt/bridge/event").is_empty());
}

#[test]
fn removed_cookers_lose_discovery_and_retained_topics() {
    let mut h = Harness::ready();
    let mut out = h.cloud(CloudEvent::DeviceRemoved {
        cloud_id: PRO.into(),
    });
    // `bridge/devices` was built a moment ago: the next build is due a second later.
    assert!(on(&out, "anova2mqtt/bridge/devices").is_empty());
    out.extend(h.advance(DEVICES_INTERVAL));
    let discovery = on(
        &out,
        &format!("homeassistant/device/anova2mqtt_{PRO_ID}/config"),
    );
    assert_eq!(discovery[0].payload, "");
    assert!(discovery[0].retain);
    assert_eq!(
        on(&out, &format!("anova2mqtt/{PRO_ID}/state"))[0].payload,
        ""
    );
    assert_eq!(
        on(&out, &format!("anova2mqtt/{PRO_ID}/availability"))[0].payload,
        ""
    );
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/event")[0]["event"],
        "device_removed"
    );
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/devices")[0]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Commands to it are answered.
    let out = h.set_key(PRO_ID, "cook", "ON");
    assert_eq!(error_code(&response(&out, PRO_ID)), "device_offline");
}

#[test]
fn cookers_removed_while_we_were_away_are_cleaned_up() {
    let mut h = Harness::new(config());
    h.input(Input::MqttConnected);
    let previous =
        json!([{"id": "old1", "cooker_id": "OLD1"}, {"id": A7_ID, "cooker_id": A7}]).to_string();
    // Our own retained list from the last run: until the cloud answers, they are offline.
    let out = h.mqtt("anova2mqtt/bridge/devices", &previous, true);
    assert_eq!(
        on(&out, "anova2mqtt/old1/availability")[0].payload,
        "offline"
    );
    // Our own live echo is not a previous run.
    assert!(publishes(&h.mqtt("anova2mqtt/bridge/devices", "[]", false)).is_empty());
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    let out = h.cloud(CloudEvent::DeviceListSynced);
    assert_eq!(
        on(&out, "homeassistant/device/anova2mqtt_old1/config")[0].payload,
        ""
    );
    assert_eq!(on(&out, "anova2mqtt/old1/state")[0].payload, "");
    assert!(on(
        &out,
        &format!("homeassistant/device/anova2mqtt_{A7_ID}/config")
    )
    .iter()
    .all(|p| !p.payload.is_empty()));
}

#[test]
fn home_assistant_birth_republishes_after_a_short_delay() {
    let mut h = Harness::ready();
    let out = h.mqtt("homeassistant/status", "online", false);
    assert!(publishes(&out).is_empty());
    assert_eq!(
        h.bridge.poll_timeout(),
        Some(h.now().instant + HA_REPUBLISH_DELAY)
    );
    // A second birth within the delay does not add a second republish.
    h.mqtt("homeassistant/status", "online", false);
    let out = h.advance(HA_REPUBLISH_DELAY);
    assert_eq!(
        on(
            &out,
            &format!("homeassistant/device/anova2mqtt_{A7_ID}/config")
        )
        .len(),
        1
    );
    assert_eq!(on(&out, &format!("anova2mqtt/{A7_ID}/state")).len(), 1);
    assert_eq!(on(&out, "anova2mqtt/bridge/state")[0].payload, "online");
    assert!(publishes(&h.advance(HA_REPUBLISH_DELAY)).is_empty());
    // A retained birth or an offline is not a reason.
    h.mqtt("homeassistant/status", "online", true);
    h.mqtt("homeassistant/status", "offline", false);
    assert!(publishes(&h.advance(HA_REPUBLISH_DELAY)).is_empty());
}

#[test]
fn discovery_is_disabled_with_home_assistant() {
    let mut h = Harness::new(BridgeConfig {
        homeassistant: None,
        ..config()
    });
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    let out = h.input(Input::MqttConnected);
    assert!(publishes(&out)
        .iter()
        .all(|p| !p.topic.starts_with("homeassistant/")));
    let Some(Output::Subscribe(filters)) = out.first() else {
        panic!()
    };
    assert!(!filters.iter().any(|f| f == "homeassistant/status"));
}

#[test]
fn firmware_change_republishes_discovery() {
    let mut h = Harness::ready();
    let topic = format!("homeassistant/device/anova2mqtt_{A7_ID}/config");
    assert!(on(&h.state(A7, idle_state("a7")), &topic).is_empty());
    let mut updated = idle_state("a7");
    updated.firmware = Some("01.02.00".into());
    assert_eq!(on(&h.state(A7, updated), &topic).len(), 1);
}

// --- cook events ------------------------------------------------------------------------------

#[test]
fn cook_events_follow_state_transitions() {
    let mut h = Harness::ready();
    let topic = format!("anova2mqtt/{A7_ID}/event");
    let mut pre = cooking_state("a7", 57.0, 600, 600);
    pre.stage = Stage::Preheating;
    let out = h.state(A7, pre);
    let events = json_on(&out, &topic);
    assert_eq!(events[0]["event_type"], "cook_started");
    assert!(on(&out, &topic).iter().all(|p| !p.retain));
    let out = h.state(A7, cooking_state("a7", 57.0, 600, 590));
    assert_eq!(json_on(&out, &topic)[0]["event_type"], "preheat_complete");
    let mut hold = cooking_state("a7", 57.0, 600, 0);
    hold.stage = Stage::Maintaining;
    let out = h.state(A7, hold);
    assert_eq!(json_on(&out, &topic)[0]["event_type"], "timer_finished");
    let out = h.state(A7, idle_state("a7"));
    assert_eq!(json_on(&out, &topic)[0]["event_type"], "cook_stopped");
    let mut low = idle_state("a7");
    low.low_water = Some(true);
    assert_eq!(
        json_on(&h.state(A7, low), &topic)[0]["event_type"],
        "low_water"
    );
    let mut leak = idle_state("a7");
    leak.water_leak = Some(true);
    leak.stage = Stage::Alarm;
    let alarm = &json_on(&h.state(A7, leak), &topic)[0];
    assert_eq!(alarm["event_type"], "alarm");
    assert_eq!(alarm["alarms"], json!(["water_leak"]));
}

// --- commands: validation ---------------------------------------------------------------------

#[test]
fn invalid_json_unknown_key_and_invalid_value() {
    let mut h = Harness::ready();
    let r = response(&h.set(A7_ID, "{not json"), A7_ID);
    assert_eq!(error_code(&r), "invalid_json");
    assert!(
        r["id"].as_str().is_some_and(|id| !id.is_empty()),
        "an id is generated"
    );
    let out = h.set(A7_ID, r#"{"id":"k1","colour":"red"}"#);
    let r = response(&out, A7_ID);
    assert_eq!(error_code(&r), "unknown_key");
    assert_eq!(r["id"], "k1");
    assert!(cloud_commands(&out).is_empty());
    let r = response(&h.set_key(A7_ID, "timer", "soon"), A7_ID);
    assert_eq!(error_code(&r), "invalid_value");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("timer"));
    let r = response(&h.set_key(A7_ID, "colour", "red"), A7_ID);
    assert_eq!(error_code(&r), "unknown_key");
}

#[test]
fn out_of_range_is_rejected_and_nothing_is_sent() {
    let mut h = Harness::ready();
    let out = h.set(
        PRO_ID,
        r#"{"id":"t1","cook":true,"target_temperature":120}"#,
    );
    assert!(cloud_commands(&out).is_empty());
    let r = response(&out, PRO_ID);
    assert_eq!(error_code(&r), "out_of_range");
    assert_eq!(r["id"], "t1");
    assert_eq!(
        r["error"]["message"],
        "target_temperature 120 °C is above this cooker's maximum of 92 °C"
    );
    let r = response(&h.set_key(A7_ID, "timer", "6000"), A7_ID);
    assert_eq!(error_code(&r), "out_of_range");
    // One bad part fails the whole command: the good cook part is not sent either.
    let out = h.set(A7_ID, r#"{"cook":true,"timer":"101h"}"#);
    assert!(cloud_commands(&out).is_empty());
}

#[test]
fn the_safety_ceiling_applies_to_commands_and_starts() {
    let mut h = Harness::new(BridgeConfig {
        max_temperature_c: Some(70.0),
        ..config()
    });
    h.input(Input::MqttConnected);
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    let mut state = idle_state("a7");
    state.target_temperature = Some(84.4);
    h.state(A7, state);
    let r = response(&h.set_key(A7_ID, "target_temperature", "75"), A7_ID);
    assert_eq!(error_code(&r), "out_of_range");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("safety.max_temperature_c"));
    // The cooker's last target (84.4) is above the ceiling: starting with it is refused too.
    let out = h.set_key(A7_ID, "cook", "ON");
    assert!(cloud_commands(&out).is_empty());
    assert_eq!(error_code(&response(&out, A7_ID)), "out_of_range");
}

#[test]
fn food_safety_says_why_and_what_is_safe() {
    let mut h = Harness::ready();
    let out = h.set(
        A7_ID,
        r#"{"cook":true,"target_temperature":55,"food":"poultry"}"#,
    );
    assert!(cloud_commands(&out).is_empty());
    let r = response(&out, A7_ID);
    assert_eq!(error_code(&r), "unsafe");
    assert_eq!(r["error"]["safe"]["target_temperature"], 57);
    let r = response(
        &h.set(
            A7_ID,
            r#"{"cook":true,"target_temperature":52,"timer":"6h","food":"beef"}"#,
        ),
        A7_ID,
    );
    assert_eq!(error_code(&r), "unsafe");
    assert_eq!(r["error"]["safe"]["timer"], 14400);
    // Without `food` the same cook is allowed: the rules are opt-in.
    let out = h.set(
        A7_ID,
        r#"{"cook":true,"target_temperature":52,"timer":"6h"}"#,
    );
    assert_eq!(cloud_commands(&out).len(), 1);
}

#[test]
fn retained_commands_are_refused() {
    let mut h = Harness::ready();
    let out = h.mqtt(
        &format!("anova2mqtt/{A7_ID}/set"),
        r#"{"id":"r1","cook":true}"#,
        true,
    );
    assert!(cloud_commands(&out).is_empty());
    let r = response(&out, A7_ID);
    assert_eq!(error_code(&r), "retained_command");
    assert_eq!(r["id"], "r1");
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("mosquitto_pub -r -n -t 'anova2mqtt/{A7_ID}/set'")),
        "{message}"
    );
    let out = h.mqtt(&format!("anova2mqtt/{A7_ID}/set/cook"), "ON", true);
    assert!(cloud_commands(&out).is_empty());
    let r = response(&out, A7_ID);
    assert_eq!(error_code(&r), "retained_command");
    // Each says how to clear its own topic.
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "mosquitto_pub -r -n -t 'anova2mqtt/{A7_ID}/set/cook'"
        )),
        "{message}"
    );
    // Clearing the retained message (an empty payload) is not a command at all.
    assert!(h
        .mqtt(&format!("anova2mqtt/{A7_ID}/set"), "", false)
        .is_empty());
    assert!(h
        .mqtt(&format!("anova2mqtt/{A7_ID}/set/cook"), "", true)
        .is_empty());
}

#[test]
fn offline_cooker_and_cloud_down_are_answered_at_once() {
    let mut h = Harness::ready();
    h.cloud(CloudEvent::Stale {
        cloud_id: A7.into(),
    });
    let out = h.set_key(A7_ID, "cook", "ON");
    assert!(cloud_commands(&out).is_empty());
    assert_eq!(error_code(&response(&out, A7_ID)), "device_offline");
    h.cloud(CloudEvent::Link(LinkState::Down {
        reason: "gone".into(),
    }));
    let out = h.set_key(PRO_ID, "cook", "ON");
    assert!(cloud_commands(&out).is_empty());
    assert_eq!(error_code(&response(&out, PRO_ID)), "cloud_unavailable");
    // An unknown cooker id.
    let r = response(&h.set_key("nope", "cook", "ON"), "nope");
    assert_eq!(error_code(&r), "device_offline");
}

#[test]
fn rate_limit_per_cooker() {
    let mut h = Harness::new(BridgeConfig {
        commands_per_minute: 2,
        ..config()
    });
    h.input(Input::MqttConnected);
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    h.add(PRO, "pro", "Garage");
    h.state(A7, idle_state("a7"));
    h.state(PRO, idle_state("pro"));
    for unit in ["F", "C"] {
        let (ticket, _) = one_command(&h.set_key(A7_ID, "display_unit", unit));
        h.result(ticket, Ok(()));
        let mut s = idle_state("a7");
        s.display_unit = TemperatureUnit::parse(unit);
        let out = h.state(A7, s);
        assert_eq!(response(&out, A7_ID)["status"], "ok");
    }
    let out = h.set_key(A7_ID, "display_unit", "F");
    assert!(cloud_commands(&out).is_empty());
    assert_eq!(error_code(&response(&out, A7_ID)), "rate_limited");
    // Another cooker has its own budget, and pending-only changes never count.
    assert_eq!(
        cloud_commands(&h.set_key(PRO_ID, "display_unit", "F")).len(),
        1
    );
    assert_eq!(
        response(&h.set_key(A7_ID, "timer", "30"), A7_ID)["status"],
        "ok"
    );
    // A minute later the budget is back.
    h.advance(Duration::from_secs(61));
    assert_eq!(
        cloud_commands(&h.set_key(A7_ID, "display_unit", "F")).len(),
        1
    );
}

// --- commands: execution ----------------------------------------------------------------------

#[test]
fn pending_target_and_timer_then_start() {
    let mut h = Harness::ready();
    let out = h.set_key(A7_ID, "target_temperature", "57.5");
    assert!(cloud_commands(&out).is_empty(), "idle changes send nothing");
    let r = response(&out, A7_ID);
    assert_eq!(r["status"], "ok");
    assert_eq!(r["pending"], true);
    assert_eq!(r["command"], json!({"target_temperature": 57.5}));
    assert_eq!(
        json_on(&out, &format!("anova2mqtt/{A7_ID}/state"))[0]["target_temperature"],
        57.5
    );
    let out = h.set_key(A7_ID, "timer", "1h30m");
    assert_eq!(
        json_on(&out, &format!("anova2mqtt/{A7_ID}/state"))[0]["timer_total"],
        5400
    );

    let out = h.set_key(A7_ID, "cook", "ON");
    no_response(&out, A7_ID);
    let (ticket, command) = one_command(&out);
    let ApcCommand::Start {
        cooker,
        target_temperature,
        unit,
        timer,
    } = command
    else {
        panic!("not a start: {command:?}");
    };
    assert_eq!(cooker.cloud_id, A7);
    assert_eq!(cooker.device_type.as_str(), "a7");
    assert_eq!(
        (target_temperature, unit, timer),
        (57.5, TemperatureUnit::C, Some(5400))
    );
    no_response(&h.result(ticket, Ok(())), A7_ID);
    // Answered when the state shows the cook.
    let mut pre = cooking_state("a7", 57.5, 5400, 5400);
    pre.stage = Stage::Preheating;
    let r = response(&h.state(A7, pre), A7_ID);
    assert_eq!(r["status"], "ok");
    // The response says which values the start used (issue 14: the pending ones here).
    assert_eq!(
        r["command"],
        json!({"cook": true, "target_temperature": 57.5, "timer": 5400})
    );
    // The pending values were used up: after a stop, the cooker's own values show.
    let (t, _) = one_command(&h.set_key(A7_ID, "cook", "OFF"));
    h.result(t, Ok(()));
    let out = h.state(A7, idle_state("a7"));
    assert_eq!(response(&out, A7_ID)["status"], "ok");
    assert_eq!(
        json_on(&out, &format!("anova2mqtt/{A7_ID}/state"))[0]["target_temperature"],
        56.0
    );
}

#[test]
fn start_in_fahrenheit_is_sent_as_given() {
    let mut h = Harness::ready();
    let out = h.set(
        A7_ID,
        r#"{"cook":true,"target_temperature":"135F","timer":90}"#,
    );
    let (ticket, command) = one_command(&out);
    assert!(matches!(
        command,
        ApcCommand::Start { target_temperature, unit: TemperatureUnit::F, timer: Some(5400), .. }
            if target_temperature == 135.0
    ));
    h.result(ticket, Ok(()));
    let r = response(&h.state(A7, cooking_state("a7", 57.22, 5400, 5400)), A7_ID);
    assert_eq!(r["status"], "ok");
    assert_eq!(
        r["command"],
        json!({"cook": true, "target_temperature": 57.22, "timer": 5400})
    );
}

#[test]
fn the_mode_key_is_the_climate_entity_of_cook() {
    let mut h = Harness::ready();
    let (_, command) = one_command(&h.set_key(A7_ID, "mode", "heat"));
    assert_eq!(command.name(), CommandName::Start);
}

#[test]
fn start_without_any_known_target_is_invalid() {
    let mut h = Harness::ready();
    let mut s = idle_state("a7");
    s.target_temperature = None;
    h.state(A7, s);
    let out = h.set_key(A7_ID, "cook", "ON");
    assert!(cloud_commands(&out).is_empty());
    assert_eq!(error_code(&response(&out, A7_ID)), "invalid_value");
}

#[test]
fn running_changes_use_set_commands() {
    let mut h = Harness::ready();
    h.state(A7, cooking_state("a7", 57.0, 3600, 1800));
    let (ticket, command) = one_command(&h.set_key(A7_ID, "target_temperature", "60"));
    assert!(
        matches!(command, ApcCommand::SetTargetTemp { target_temperature, .. } if target_temperature == 60.0)
    );
    h.result(ticket, Ok(()));
    assert_eq!(
        response(&h.state(A7, cooking_state("a7", 60.0, 3600, 1790)), A7_ID)["status"],
        "ok"
    );
    let (ticket, command) = one_command(&h.set_key(A7_ID, "timer", "120"));
    assert!(matches!(command, ApcCommand::SetTimer { timer: 7200, .. }));
    h.result(ticket, Ok(()));
    assert_eq!(
        response(&h.state(A7, cooking_state("a7", 60.0, 7200, 5390)), A7_ID)["status"],
        "ok"
    );
}

#[test]
fn a_refused_change_restarts_the_cook_with_the_remaining_time() {
    let mut h = Harness::ready();
    h.state(PRO, cooking_state("pro", 57.0, 3600, 1800));
    let (ticket, command) = one_command(&h.set_key(PRO_ID, "target_temperature", "60"));
    assert_eq!(command.name(), CommandName::SetTargetTemp);
    let out = h.result(ticket, Err(CloudError::Rejected("unauthorized".into())));
    no_response(&out, PRO_ID);
    let (ticket, command) = one_command(&out);
    assert!(
        matches!(command, ApcCommand::Start { target_temperature, timer: Some(1800), .. } if target_temperature == 60.0),
        "{command:?}"
    );
    h.result(ticket, Ok(()));
    let r = response(
        &h.state(PRO, cooking_state("pro", 60.0, 1800, 1800)),
        PRO_ID,
    );
    assert_eq!(r["status"], "ok");
    assert!(r["warnings"][0]
        .as_str()
        .unwrap_or("")
        .contains("started again"));
    // Learned: the next change restarts at once.
    let (_, command) = one_command(&h.set_key(PRO_ID, "target_temperature", "61"));
    assert_eq!(command.name(), CommandName::Start);
}

#[test]
fn cloud_errors_map_to_error_codes() {
    let mut h = Harness::ready();
    let (ticket, _) = one_command(&h.set_key(A7_ID, "cook", "ON"));
    let r = response(
        &h.result(ticket, Err(CloudError::Rejected("invalid command".into()))),
        A7_ID,
    );
    assert_eq!(error_code(&r), "rejected");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("invalid command"));
    let (ticket, _) = one_command(&h.set_key(A7_ID, "cook", "ON"));
    assert_eq!(
        error_code(&response(
            &h.result(ticket, Err(CloudError::Timeout)),
            A7_ID
        )),
        "timeout"
    );
    let (ticket, _) = one_command(&h.set_key(A7_ID, "cook", "ON"));
    let r = response(&h.result(ticket, Err(CloudError::Disconnected)), A7_ID);
    assert_eq!(error_code(&r), "cloud_unavailable");
}

#[test]
fn not_confirmed_after_the_confirm_timeout() {
    let mut h = Harness::ready();
    let (ticket, _) = one_command(&h.set_key(A7_ID, "display_unit", "F"));
    h.result(ticket, Ok(()));
    // The state keeps saying C (a wrong type is acknowledged ok and ignored by the cloud).
    no_response(&h.state(A7, idle_state("a7")), A7_ID);
    no_response(&h.advance(Duration::from_secs(14)), A7_ID);
    let r = response(&h.advance(Duration::from_secs(1)), A7_ID);
    assert_eq!(error_code(&r), "not_confirmed");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("display_unit F"),
        "{r}"
    );
}

#[test]
fn commands_for_one_cooker_run_one_after_the_other() {
    let mut h = Harness::ready();
    h.state(A7, cooking_state("a7", 57.0, 0, 0));
    let (first, _) = one_command(&h.set(A7_ID, r#"{"id":"1","target_temperature":58}"#));
    let out = h.set(A7_ID, r#"{"id":"2","target_temperature":59}"#);
    assert!(cloud_commands(&out).is_empty(), "the second waits");
    h.result(first, Ok(()));
    let out = h.state(A7, cooking_state("a7", 58.0, 0, 0));
    assert_eq!(response(&out, A7_ID)["id"], "1");
    let (second, command) = one_command(&out);
    assert!(
        matches!(command, ApcCommand::SetTargetTemp { target_temperature, .. } if target_temperature == 59.0)
    );
    h.result(second, Ok(()));
    assert_eq!(
        response(&h.state(A7, cooking_state("a7", 59.0, 0, 0)), A7_ID)["id"],
        "2"
    );
    // Too many waiting is refused.
    one_command(&h.set_key(A7_ID, "target_temperature", "60"));
    for _ in 0..MAX_QUEUED {
        no_response(&h.set_key(A7_ID, "target_temperature", "61"), A7_ID);
    }
    assert_eq!(
        error_code(&response(
            &h.set_key(A7_ID, "target_temperature", "62"),
            A7_ID
        )),
        "rate_limited"
    );
}

#[test]
fn stop_with_a_new_target_keeps_it_for_next_time() {
    let mut h = Harness::ready();
    h.state(A7, cooking_state("a7", 57.0, 0, 0));
    let (ticket, command) = one_command(&h.set(A7_ID, r#"{"cook":false,"target_temperature":63}"#));
    assert_eq!(command.name(), CommandName::Stop);
    h.result(ticket, Ok(()));
    let out = h.state(A7, idle_state("a7"));
    assert_eq!(response(&out, A7_ID)["status"], "ok");
    assert_eq!(
        json_on(&out, &format!("anova2mqtt/{A7_ID}/state"))[0]["target_temperature"],
        63.0
    );
}

#[test]
fn idempotent_commands_answer_at_once_with_a_warning() {
    let mut h = Harness::ready();
    let out = h.set_key(A7_ID, "cook", "OFF");
    assert!(cloud_commands(&out).is_empty());
    let r = response(&out, A7_ID);
    assert_eq!(r["status"], "ok");
    assert_eq!(r["warnings"][0], "the cooker was not cooking");
    let r = response(&h.set_key(A7_ID, "display_unit", "C"), A7_ID);
    assert_eq!(r["status"], "ok");
}

#[test]
fn a_removed_cooker_answers_its_waiting_commands() {
    let mut h = Harness::ready();
    one_command(&h.set_key(A7_ID, "cook", "ON"));
    h.set_key(A7_ID, "cook", "OFF");
    let out = h.cloud(CloudEvent::DeviceRemoved {
        cloud_id: A7.into(),
    });
    let responses = json_on(&out, &format!("anova2mqtt/{A7_ID}/response"));
    assert_eq!(responses.len(), 2);
    assert!(responses
        .iter()
        .all(|r| r["error"]["code"] == "device_offline"));
}

// --- bridge requests --------------------------------------------------------------------------

#[test]
fn bridge_requests() {
    let mut h = Harness::ready();
    let out = h.mqtt(
        "anova2mqtt/bridge/request/health_check",
        r#"{"id":"h1"}"#,
        false,
    );
    let r = &json_on(&out, "anova2mqtt/bridge/response/health_check")[0];
    assert_eq!(r["id"], "h1");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["data"]["healthy"], true);
    assert_eq!(r["data"]["devices"], 2);

    let out = h.mqtt("anova2mqtt/bridge/request/republish", "", false);
    let r = &json_on(&out, "anova2mqtt/bridge/response/republish")[0];
    assert_eq!(r["status"], "ok");
    // `devices` counts ovens too; `cookers`, its old name, stays for whoever reads it.
    assert_eq!(r["data"], json!({"devices": 2, "cookers": 2}));
    assert_eq!(on(&out, &format!("anova2mqtt/{PRO_ID}/state")).len(), 1);

    let out = h.mqtt(
        "anova2mqtt/bridge/request/refresh",
        r#"{"transaction":"t"}"#,
        false,
    );
    assert!(out.contains(&Output::ReconnectCloud));
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/response/refresh")[0]["transaction"],
        "t"
    );

    let out = h.mqtt("anova2mqtt/bridge/request/reboot", "{}", false);
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/response/reboot")[0]["error"]["code"],
        "unknown_key"
    );
    let out = h.mqtt("anova2mqtt/bridge/request/refresh", "{}", true);
    assert!(!out.contains(&Output::ReconnectCloud));
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/response/refresh")[0]["error"]["code"],
        "retained_command"
    );
    let out = h.mqtt("anova2mqtt/bridge/request/refresh", "nope", false);
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/response/refresh")[0]["error"]["code"],
        "invalid_json"
    );
}

#[test]
fn status_line_for_systemd() {
    let h = Harness::ready();
    assert_eq!(
        h.bridge.status_line(),
        "cloud connected, broker connected, 2 device(s), 2 online"
    );
}

// --- switching discovery modes ----------------------------------------------------------------

#[test]
fn device_mode_clears_entity_topics_once_per_process() {
    let mut h = Harness::new(config());
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    let out = h.input(Input::MqttConnected);
    let entity_topic = format!("homeassistant/switch/anova2mqtt_{A7_ID}/cook/config");
    let cleared = on(&out, &entity_topic);
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0].payload, "");
    assert!(cleared[0].retain);
    assert_eq!(
        on(
            &out,
            "homeassistant/button/anova2mqtt_bridge/republish/config"
        )[0]
        .payload,
        ""
    );
    // The clearing comes before the device config.
    let position = |topic: &str| publishes(&out).iter().position(|p| p.topic == topic);
    assert!(
        position(&entity_topic)
            < position(&format!("homeassistant/device/anova2mqtt_{A7_ID}/config"))
    );
    // Not again on a reconnect.
    h.input(Input::MqttDisconnected);
    let out = h.input(Input::MqttConnected);
    assert!(on(&out, &entity_topic).is_empty());
}

#[test]
fn entity_mode_clears_a_stale_device_config_only_when_one_is_there() {
    let mut h = Harness::new(BridgeConfig {
        homeassistant: Some(HomeAssistant {
            discovery_prefix: "homeassistant".into(),
            mode: DiscoveryMode::Entity,
            status_topic: "homeassistant/status".into(),
        }),
        ..config()
    });
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    let out = h.input(Input::MqttConnected);
    let device_topic = format!("homeassistant/device/anova2mqtt_{A7_ID}/config");
    // Never published blindly (old Home Assistant warns about any device topic)...
    assert!(publishes(&out)
        .iter()
        .all(|p| !p.topic.starts_with("homeassistant/device/")));
    // ...but watched.
    let watched: Vec<String> = out
        .iter()
        .filter_map(|o| match o {
            Output::Subscribe(f) => Some(f.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(watched.contains(&device_topic), "{watched:?}");
    assert!(watched.contains(&"homeassistant/device/anova2mqtt_bridge/config".to_owned()));
    assert!(!on(
        &out,
        &format!("homeassistant/switch/anova2mqtt_{A7_ID}/cook/config")
    )[0]
    .payload
    .is_empty());
    // A retained config from an earlier device-mode run is cleared.
    let out = h.mqtt(&device_topic, r#"{"components":{}}"#, true);
    assert_eq!(on(&out, &device_topic)[0].payload, "");
    // Our own clearing echo, or a live message, is left alone.
    assert!(publishes(&h.mqtt(&device_topic, "", true)).is_empty());
    assert!(publishes(&h.mqtt(&device_topic, "{}", false)).is_empty());
}

// --- robustness ---------------------------------------------------------------------------------

/// Whatever arrives on a command topic, the bridge never panics and answers exactly once:
/// at once for what it refuses, after the cloud and the confirmation timeout for what it sends.
#[test]
fn every_command_gets_exactly_one_response() {
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }
    let keys = [
        "cook",
        "mode",
        "target_temperature",
        "timer",
        "display_unit",
        "food",
        "id",
        "colour",
        "",
    ];
    let values = [
        "ON", "off", "1", "57.5", "135F", "-3", "1e400", "90m", "1:30", "C", "f", "poultry",
        "\u{0}", "{", "[]", "\"57\"", "null", "true", "120", "0", "99h59m", "100h",
    ];
    let json_values = [
        "true",
        "false",
        "57.5",
        "\"135F\"",
        "\"1h30m\"",
        "null",
        "[1]",
        "{}",
        "-1",
        "\"x\"",
        "7",
    ];
    let mut rng = XorShift(0x0bad_5eed_1234_5678);
    let mut h = Harness::ready();
    let response_topic = format!("anova2mqtt/{A7_ID}/response");
    for round in 0..3_000 {
        let (topic, payload) = match rng.next() % 3 {
            0 => (
                format!("anova2mqtt/{A7_ID}/set/{}", rng.pick(&keys)),
                rng.pick(&values).to_owned(),
            ),
            1 => {
                let mut object = Vec::new();
                for _ in 0..(rng.next() % 4) {
                    object.push(format!(
                        "\"{}\":{}",
                        rng.pick(&keys),
                        rng.pick(&json_values)
                    ));
                }
                (
                    format!("anova2mqtt/{A7_ID}/set"),
                    format!("{{{}}}", object.join(",")),
                )
            }
            _ => {
                let bytes: Vec<u8> = (0..(rng.next() % 24))
                    .map(|_| (rng.next() & 0xff) as u8)
                    .collect();
                (
                    format!("anova2mqtt/{A7_ID}/set"),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            }
        };
        let retained = rng.next().is_multiple_of(10);
        let mut out = h.mqtt(&topic, &payload, retained);
        let commands = cloud_commands(&out);
        if let Some((ticket, _)) = commands.first() {
            // The cloud says ok; the state never shows it: the confirmation times out.
            out.extend(h.result(*ticket, Ok(())));
            out.extend(h.advance(Duration::from_secs(16)));
        }
        let responses = on(&out, &response_topic).len();
        let expected = usize::from(!payload.is_empty());
        assert_eq!(
            responses, expected,
            "round {round}: {topic} {payload:?} retained={retained}: {out:#?}"
        );
        // Keep the cooker idle and the rate limit out of the way.
        h.state(A7, idle_state("a7"));
        h.advance(Duration::from_secs(3));
    }
}

#[test]
fn bridge_devices_changes_only_with_availability_or_firmware() {
    let mut h = Harness::new(BridgeConfig {
        homeassistant: None,
        ..config()
    });
    h.input(Input::MqttConnected);
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    h.cloud(CloudEvent::DeviceListSynced);
    h.state(A7, idle_state("a7"));
    let mut warmer = idle_state("a7");
    warmer.water_temperature = Some(30.0);
    assert!(on(&h.state(A7, warmer.clone()), "anova2mqtt/bridge/devices").is_empty());
    warmer.firmware = Some("01.02.00".into());
    let mut out = h.state(A7, warmer);
    out.extend(h.advance(DEVICES_INTERVAL));
    let devices = json_on(&out, "anova2mqtt/bridge/devices");
    assert_eq!(devices[0][0]["firmware"], "01.02.00");
    // Rebuilt at most once per DEVICES_INTERVAL: a change right after waits for it.
    let out = h.cloud(CloudEvent::Stale {
        cloud_id: A7.into(),
    });
    assert!(on(&out, "anova2mqtt/bridge/devices").is_empty());
    let out = h.advance(DEVICES_INTERVAL);
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/devices")[0][0]["online"],
        false
    );
}

/// zigbee2mqtt's conventions (issue 27 item 16): `<id>/get` answers with the state,
/// `options` sets the log level at runtime, `restart` asks the driver to start again.
#[test]
fn zigbee2mqtt_get_options_and_restart() {
    let mut h = Harness::ready();
    let state = format!("anova2mqtt/{A7_ID}/state");
    // Nothing changed, yet `get` publishes the state (and availability) again.
    assert!(on(&h.advance(Duration::from_secs(1)), &state).is_empty());
    let out = h.mqtt(&format!("anova2mqtt/{A7_ID}/get"), "", false);
    assert_eq!(on(&out, &state).len(), 1, "{out:#?}");
    assert!(on(&out, &state)[0].retain);
    assert_eq!(
        on(&out, &format!("anova2mqtt/{A7_ID}/availability"))[0].payload,
        "online"
    );
    // zigbee2mqtt's payload `{"state": ""}` is as good as none.
    let out = h.mqtt(&format!("anova2mqtt/{A7_ID}/get"), r#"{"state":""}"#, false);
    assert_eq!(on(&out, &state).len(), 1);
    // A retained get is refused like a retained command; an unknown device answered.
    let out = h.mqtt(&format!("anova2mqtt/{A7_ID}/get"), "", true);
    assert!(on(&out, &state).is_empty());
    assert_eq!(error_code(&response(&out, A7_ID)), "retained_command");
    let out = h.mqtt("anova2mqtt/nosuch/get", "", false);
    assert!(!json_on(&out, "anova2mqtt/nosuch/response").is_empty());

    let options = "anova2mqtt/bridge/response/options";
    let out = h.mqtt(
        "anova2mqtt/bridge/request/options",
        r#"{"id":"o","options":{"log":{"level":"DEBUG"}}}"#,
        false,
    );
    assert!(out.contains(&Output::SetLogLevel("debug")));
    let r = &json_on(&out, options)[0];
    assert_eq!((&r["id"], &r["status"]), (&json!("o"), &json!("ok")));
    assert_eq!(
        r["data"],
        json!({"restart_required": false, "log": {"level": "debug"}})
    );
    for (payload, code) in [
        (r#"{"options":{"log":{"level":"loud"}}}"#, "invalid_value"),
        (r#"{"options":{"mqtt":{"url":"x"}}}"#, "unknown_key"),
        (r#"{"options":{"log":{"format":"json"}}}"#, "unknown_key"),
        ("{}", "invalid_value"),
    ] {
        let out = h.mqtt("anova2mqtt/bridge/request/options", payload, false);
        assert!(!out.iter().any(|o| matches!(o, Output::SetLogLevel(_))));
        assert_eq!(
            json_on(&out, options)[0]["error"]["code"],
            code,
            "{payload}"
        );
    }

    let out = h.mqtt("anova2mqtt/bridge/request/restart", r#"{"id":"r"}"#, false);
    assert!(out.contains(&Output::Restart));
    let r = &json_on(&out, "anova2mqtt/bridge/response/restart")[0];
    assert_eq!((&r["id"], &r["status"]), (&json!("r"), &json!("ok")));
    // A driver that cannot restart (the demo) refuses it.
    let mut demo = Harness::new(BridgeConfig {
        restart: false,
        ..config()
    });
    demo.input(Input::MqttConnected);
    let out = demo.mqtt("anova2mqtt/bridge/request/restart", "", false);
    assert!(!out.contains(&Output::Restart));
    assert_eq!(
        json_on(&out, "anova2mqtt/bridge/response/restart")[0]["status"],
        "error"
    );
}
