//! The unit tests of `plan.rs`.

use super::*;
use crate::command::ErrorCode;
use crate::oven::command::parse;
use crate::oven::state::OvenStage;
use crate::oven::wire::OvenAddress;
use crate::wire::DeviceType;
use serde_json::{json, Value};

/// Ids `id-1`, `id-2`, … in order.
#[derive(Default)]
struct Counter(u32);

impl Ids for Counter {
    fn uuid(&mut self) -> String {
        self.0 += 1;
        format!("id-{}", self.0)
    }
}

fn device(t: &str) -> DeviceRef {
    DeviceRef {
        cloud_id: "oven1".into(),
        device_type: DeviceType::new(t),
    }
}

fn run(command: Value, state: &OvenState, memory: &OvenMemory) -> Result<Plan<Oven>, CommandError> {
    let Value::Object(fields) = command else {
        unreachable!()
    };
    let changes = parse(&fields)?;
    let device = device(&state.model);
    let limits = OvenLimits::of(&device.device_type, None);
    plan(
        &changes,
        Inputs {
            state,
            memory,
            limits: &limits,
            device: &device,
            ids: &mut Counter::default(),
        },
    )
}

fn frame(plan: &Plan<Oven>, i: usize) -> Value {
    serde_json::from_str(&plan.steps[i].to_frame("r")).expect("a step is a JSON frame")
}

fn cooking(model: &str) -> OvenState {
    OvenState {
        cooking: true,
        stage: OvenStage::Cooking,
        target_temperature: Some(200.0),
        element_top: Some(false),
        element_bottom: Some(true),
        element_rear: Some(true),
        fan_speed: Some(100),
        timer_running: true,
        timer_total: 1800,
        timer_remaining: 600,
        cook_id: Some("old".into()),
        ..OvenState::idle_example(model)
    }
}

#[test]
fn idle_keys_are_pending_and_a_start_uses_them() {
    let idle = OvenState::idle_example("oven_v2");
    let pending = run(
        json!({"target_temperature": 180, "timer": 30}),
        &idle,
        &OvenMemory::default(),
    )
    .expect("a target and a timer while idle are pending values");
    assert!(pending.steps.is_empty());
    let mut memory = OvenMemory::default();
    remember(&mut memory, pending.update);
    assert_eq!(memory.pending.timer, Some(1800));

    let start =
        run(json!({"cook": true, "fan": "low"}), &idle, &memory).expect("a start with a fan word");
    assert_eq!(start.steps.len(), 1);
    assert_eq!(start.expect.cook_id.as_deref(), Some("id-1"));
    assert_eq!(start.expect.cooking, Some(true));
    assert!(start.update.consumes_pending);
    let f = frame(&start, 0);
    assert_eq!(f["command"], "CMD_APO_START");
    assert_eq!(f["payload"]["type"], "CMD_APO_START");
    let payload = &f["payload"]["payload"];
    assert_eq!(payload["type"], "oven_v2", "the v2 shape for a v2 oven");
    assert_eq!(payload["cookId"], "id-1");
    let stage = &payload["stages"][0];
    assert_eq!(stage["id"], "id-2");
    assert_eq!(
        stage["do"]["temperatureBulbs"],
        json!({"mode": "dry", "dry": {"setpoint": {"celsius": 180}}})
    );
    assert_eq!(stage["do"]["fan"]["speed"], 33);
    assert_eq!(stage["do"]["timer"]["initial"], 1800);
    assert_eq!(
        stage["do"]["timer"]["entry"],
        json!({"conditions": {"and": {"nodes.temperatureBulbs.dry.current.celsius": {">=": 180}}}}),
        "the timer waits for the preheat by default"
    );
    assert_eq!(
        serde_json::to_value(&start.echo).expect("an echo is JSON")["stages"][0],
        json!({"temperature_mode": "dry", "target_temperature": 180, "steam": 0,
            "elements": ["rear"], "fan": 33, "timer": 1800, "timer_start": "when_preheated"})
    );
}

/// Issue 27 item 5: "heat" on an idle oven starts from the target its state shows: the
/// pending one, else the last cook's for that bulb, else the app's default.
#[test]
fn a_start_without_a_target_uses_the_last_cooks_or_the_apps_default() {
    let idle = OvenState::idle_example("oven_v2");
    let first_stage = |plan: &Plan<Oven>| {
        let echo = serde_json::to_value(&plan.echo).expect("an echo is JSON");
        (
            echo["stages"][0]["temperature_mode"].clone(),
            echo["stages"][0]["target_temperature"].clone(),
        )
    };
    let mut memory = OvenMemory::default();
    assert_eq!(
        memory.next_stage().target_temperature,
        Some(Temperature::from_celsius(180.0))
    );
    let start = run(json!({"cook": true}), &idle, &memory).unwrap();
    assert_eq!(first_stage(&start), (json!("dry"), json!(180)));
    let wet = run(
        json!({"cook": true, "temperature_mode": "wet"}),
        &idle,
        &memory,
    )
    .unwrap();
    assert_eq!(first_stage(&wet), (json!("wet"), json!(55)));

    // A cook at 210 °C is remembered for the dry bulb only.
    let roast = run(
        json!({"cook": true, "target_temperature": 210}),
        &idle,
        &memory,
    )
    .unwrap();
    remember(&mut memory, roast.update);
    assert_eq!(
        memory.idle_target(TemperatureMode::Dry),
        Temperature::from_celsius(210.0)
    );
    assert_eq!(
        memory.idle_target(TemperatureMode::Wet),
        Temperature::from_celsius(55.0)
    );
    let again = run(json!({"cook": true}), &idle, &memory).unwrap();
    assert_eq!(first_stage(&again), (json!("dry"), json!(210)));
    // A pending target wins over both.
    let pending = run(json!({"target_temperature": 190}), &idle, &memory).unwrap();
    remember(&mut memory, pending.update);
    let start = run(json!({"cook": true}), &idle, &memory).unwrap();
    assert_eq!(first_stage(&start), (json!("dry"), json!(190)));
    remember(&mut memory, start.update);
    assert_eq!(memory.pending, StageChanges::default(), "the start used it");
    assert_eq!(
        memory.idle_target(TemperatureMode::Dry),
        Temperature::from_celsius(190.0)
    );
}

#[test]
fn a_start_needs_a_valid_plan_and_every_stage_a_target() {
    let idle = OvenState::idle_example("oven_v1");
    let none = OvenMemory::default();
    let err = run(
        json!({"cook": true, "stages": [{"target_temperature": 200}, {"timer": 60}]}),
        &idle,
        &none,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidValue);
    assert!(
        err.message.contains("give stages[2].target_temperature"),
        "{}",
        err.message
    );
    let err = run(
        json!({"cook": true, "stages": [
            {"target_temperature": 200, "timer": 10},
            {"target_temperature": 200, "elements": "bottom"}
        ]}),
        &idle,
        &none,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::OutOfRange);
    assert!(
        err.message
            .starts_with("stages[2].target_temperature 200 °C is above the 180 °C"),
        "{}",
        err.message
    );
    // A bad pending value is refused at once, not at the next start.
    let err = run(json!({"target_temperature": 300}), &idle, &none).unwrap_err();
    assert_eq!(err.code, ErrorCode::OutOfRange);
}

#[test]
fn food_rules_apply_to_wet_cooks_and_probe_targets() {
    let idle = OvenState::idle_example("oven_v2");
    let none = OvenMemory::default();
    let err = run(
        json!({"cook": true, "temperature_mode": "wet", "target_temperature": 55, "steam": 100, "food": "poultry", "timer": 60}),
        &idle,
        &none,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsafe);
    let err = run(
        json!({"cook": true, "target_temperature": 180, "probe_target": 50, "food": "poultry"}),
        &idle,
        &none,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsafe);
    assert!(err.message.starts_with("probe_target"), "{}", err.message);
    // A dry roast is not a sous-vide hold: the food rules judge its probe only.
    assert!(run(
        json!({"cook": true, "target_temperature": 180, "probe_target": 74, "food": "poultry"}),
        &idle,
        &none
    )
    .is_ok());
}

/// An oven shows every element and its fan off while its door is open (found by the chaos
/// soak: such a change was refused, "at least one of top, bottom, rear must heat", or "fan off
/// is only for proofing"): a change keeps the elements and the fan the running stage asks for.
#[test]
fn a_change_with_the_door_open_keeps_the_stages_elements() {
    for model in ["oven_v1", "oven_v2"] {
        let state = OvenState {
            door_open: Some(true),
            element_top: Some(false),
            element_bottom: Some(false),
            element_rear: Some(false),
            fan_speed: Some(0),
            stage_fan: Some(66),
            stage_elements: Some(Elements {
                top: true,
                bottom: false,
                rear: true,
            }),
            ..cooking(model)
        };
        let change = run(
            json!({"target_temperature": 190}),
            &state,
            &OvenMemory::default(),
        )
        .unwrap_or_else(|e| panic!("{model}: {e:?}"));
        let f = frame(&change, 0);
        let stage = &f["payload"]["payload"]["stages"][0];
        let elements = stage
            .get("heatingElements")
            .unwrap_or(&stage["do"]["heatingElements"]);
        assert_eq!(
            elements,
            &json!({"top": {"on": true}, "bottom": {"on": false}, "rear": {"on": true}}),
            "{model}"
        );
        let fan = stage.get("fan").unwrap_or(&stage["do"]["fan"]);
        assert_eq!(fan["speed"], 66, "{model}");
    }
}

#[test]
fn a_change_to_a_running_cook_is_a_whole_new_start() {
    let state = cooking("oven_v1");
    let change = run(
        json!({"target_temperature": 190}),
        &state,
        &OvenMemory::default(),
    )
    .unwrap();
    assert_eq!(change.warnings, [RESTART_WARNING]);
    assert_eq!(change.steps.len(), 1);
    let f = frame(&change, 0);
    let payload = &f["payload"]["payload"];
    // The v1 shape for a v1 oven: flat stages, no v2 header.
    assert!(payload.get("cookerId").is_none(), "{payload}");
    assert_eq!(payload["stages"][0]["stepType"], "stage", "{payload}");
    let stages = payload["stages"].as_array().unwrap();
    assert_eq!(
        stages.len(),
        1,
        "the timer was running: it goes on at once, no preheat"
    );
    let stage = &stages[0];
    assert_eq!(stage["type"], "cook");
    assert_eq!(
        stage["timer"]["initial"], 600,
        "the time that was remaining"
    );
    assert_eq!(
        stage["temperatureBulbs"]["dry"]["setpoint"],
        json!({"celsius": 190, "fahrenheit": 374})
    );
    assert_eq!(
        stage["heatingElements"],
        json!({"top": {"on": false}, "bottom": {"on": true}, "rear": {"on": true}})
    );
    assert!(!change.update.consumes_pending);
    // A stop, and a start of what runs.
    let stop = run(json!({"cook": false}), &state, &OvenMemory::default()).unwrap();
    assert_eq!(
        frame(&stop, 0),
        json!({"command": "CMD_APO_STOP", "requestId": "r", "payload": {"id": "oven1", "type": "CMD_APO_STOP"}})
    );
    assert_eq!(stop.expect.cooking, Some(false));
    let again = run(json!({"cook": true}), &state, &OvenMemory::default()).unwrap();
    assert!(again.steps.is_empty());
    assert_eq!(again.warnings, ["the oven was already cooking"]);
}

#[test]
fn confirmation_needs_the_cook_sent() {
    let expect = OvenExpect {
        cooking: Some(true),
        cook_id: Some("id-1".into()),
        display_unit: None,
    };
    let mut state = cooking("oven_v2");
    assert!(!expect.met_by(&state), "another cook runs");
    assert!(expect
        .describe_unmet(Some(&state))
        .contains("the cook id-1"));
    state.cook_id = Some("id-1".into());
    assert!(expect.met_by(&state));
    let unit = OvenExpect {
        display_unit: Some(TemperatureUnit::F),
        ..OvenExpect::default()
    };
    assert!(!unit.met_by(&state));
    assert_eq!(unit.describe_unmet(None), "display_unit F");
}

#[test]
fn only_a_known_oven_generation_is_addressed() {
    assert!(OvenAddress::of(&device("a7")).is_none());
    assert!(OvenAddress::of(&device("oven_v3")).is_none());
    assert!(matches!(
        OvenAddress::of(&device("OVEN_V1")),
        Some(OvenAddress::V1(_))
    ));
    assert!(matches!(
        OvenAddress::of(&device("oven_v2")),
        Some(OvenAddress::V2(_))
    ));
    let mut state = OvenState::idle_example("oven_v3");
    state.model = "oven_v3".into();
    let err = run(
        json!({"cook": true, "target_temperature": 180}),
        &state,
        &OvenMemory::default(),
    )
    .unwrap_err();
    assert!(err.message.contains("oven_v3"));
}

#[test]
fn the_display_unit_is_its_own_command() {
    let idle = OvenState::idle_example("oven_v2");
    let plan = run(json!({"display_unit": "F"}), &idle, &OvenMemory::default()).unwrap();
    assert_eq!(
        frame(&plan, 0),
        json!({"command": "CMD_APO_SET_TEMPERATURE_UNIT", "requestId": "r", "payload":
            {"id": "oven1", "type": "CMD_APO_SET_TEMPERATURE_UNIT", "payload": {"temperatureUnit": "F"}}})
    );
    assert_eq!(plan.expect.display_unit, Some(TemperatureUnit::F));
}

/// Issue 27 item 2: a probe target for an oven that shows no probe plugged in is taken (the
/// probe may go in before the stage needs it), with a warning that says the stage would
/// otherwise heat on; a plugged probe, an unknown one, a cleared target or no target: none.
#[test]
fn a_probe_target_without_a_probe_is_warned_about() {
    let unplugged = OvenState {
        probe_connected: Some(false),
        ..OvenState::idle_example("oven_v2")
    };
    let plugged = OvenState {
        probe_connected: Some(true),
        ..unplugged.clone()
    };
    let none = OvenMemory::default();
    let probe_cook = json!({"cook": true, "target_temperature": 180, "probe_target": 63});
    let start = run(probe_cook.clone(), &unplugged, &none).unwrap();
    assert_eq!(start.steps.len(), 1, "the start still goes out");
    assert_eq!(start.warnings, [NO_PROBE_WARNING]);
    assert!(run(probe_cook.clone(), &plugged, &none)
        .unwrap()
        .warnings
        .is_empty());
    let unknown = OvenState {
        probe_connected: None,
        ..unplugged.clone()
    };
    assert!(run(probe_cook, &unknown, &none)
        .unwrap()
        .warnings
        .is_empty());

    // Kept for the next start while idle: said then, and again by the start that uses it.
    let pending = run(json!({"probe_target": 63}), &unplugged, &none).unwrap();
    assert!(pending.pending);
    assert_eq!(pending.warnings, [NO_PROBE_WARNING]);
    let mut memory = OvenMemory::default();
    remember(&mut memory, pending.update);
    let start = run(json!({"cook": true}), &unplugged, &memory).unwrap();
    assert_eq!(start.warnings, [NO_PROBE_WARNING]);
    let stages = run(
        json!({"cook": true, "stages": [{"target_temperature": 200, "timer": 60},
            {"target_temperature": 160, "probe_target": 70}]}),
        &unplugged,
        &none,
    )
    .unwrap();
    assert_eq!(stages.warnings, [NO_PROBE_WARNING]);

    for quiet in [
        json!({"cook": true, "target_temperature": 180, "timer": "1h"}),
        json!({"probe_target": 0}),
        json!({"cook": false}),
    ] {
        let plan = run(quiet.clone(), &unplugged, &none).unwrap();
        assert!(
            !plan.warnings.iter().any(|w| w == NO_PROBE_WARNING),
            "{quiet}: {:?}",
            plan.warnings
        );
    }
}
