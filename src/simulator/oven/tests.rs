//! Tests of `mod.rs` (kept apart so both files read in one sitting).

use super::*;
use serde_json::json;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);

fn settings() -> OvenSettings {
    OvenSettings {
        heat_rate_c_per_min: 60.0,
        probe_time_constant_s: 60.0,
        ..OvenSettings::default()
    }
}

fn oven(spec: SimOvenSpec) -> SimOven {
    SimOven::new(&spec, NOW, &settings()).unwrap()
}

fn state(oven: &SimOven) -> Value {
    let frame: Value = serde_json::from_str(&oven.state_event(NOW)).unwrap();
    assert_eq!(frame["command"], "EVENT_APO_STATE");
    frame["payload"]["state"].clone()
}

/// Advances through any number of transitions.
fn run(oven: &mut SimOven, dt_s: f64) {
    let mut left = dt_s;
    while left > 1e-9 {
        let step = oven.advance(left);
        if step.simulated_s <= 0.0 {
            break;
        }
        left -= step.simulated_s;
    }
}

fn roast(setpoint: f64, timer_s: u32) -> Value {
    let preheated = json!({"conditions": {"and": {
        "nodes.temperatureBulbs.dry.current.celsius": {">=": setpoint}}}});
    json!({"cookId": "cook-1", "stages": [{
        "id": "s1",
        "do": {
            "type": "cook",
            "fan": {"speed": 100},
            "heatingElements": {"top": {"on": false}, "bottom": {"on": true}, "rear": {"on": true}},
            "exhaustVent": {"state": "closed"},
            "temperatureBulbs": {"mode": "dry", "dry": {"setpoint": {"celsius": setpoint}}},
            "timer": {"initial": timer_s, "entry": preheated},
        },
        "entry": preheated,
        "exit": {"conditions": {"and": {"nodes.timer.mode": {"=": "completed"}}}},
    }]})
}

#[test]
fn a_v2_roast_preheats_times_and_ends() {
    let mut oven = oven(SimOvenSpec::v2("o", "Oven"));
    assert_eq!(
        oven.start(Some(&roast(200.0, 300)), "req-1"),
        Started::Cooking
    );
    let entering = state(&oven);
    assert_eq!(entering["state"]["mode"], "cook");
    assert_eq!(entering["cook"]["activeStageMode"], "entering");
    assert_eq!(entering["cook"]["cookId"], "cook-1");
    assert_eq!(
        entering["nodes"]["timer"],
        json!({"initial": 300, "mode": "idle"})
    );
    assert_eq!(entering["nodes"]["heatingElements"]["rear"]["on"], true);
    assert_eq!(entering["state"]["processedCommandIds"], json!(["req-1"]));
    // 180 °C at 60 °C/min: three minutes of preheat.
    run(&mut oven, 179.0);
    assert!(oven.snapshot().preheating);
    run(&mut oven, 1.0);
    let running = state(&oven);
    assert_eq!(running["cook"]["activeStageMode"], "running");
    assert_eq!(running["nodes"]["timer"]["mode"], "running");
    // Three simulated minutes into the world's clock.
    assert_eq!(
        running["nodes"]["timer"]["startedAtTimestamp"],
        "2025-03-01T12:03:00Z"
    );
    run(&mut oven, 299.0);
    assert_eq!(oven.snapshot().timer_remaining_s, 1);
    run(&mut oven, 1.0);
    let done = state(&oven);
    assert_eq!(done["state"]["mode"], "idle");
    assert!(done.get("cook").is_none());
    assert_eq!(
        done["nodes"]["timer"],
        json!({"initial": 300, "mode": "completed"})
    );
    assert_eq!(oven.snapshot().mode, OvenMode::Idle);
}

#[test]
fn a_v1_oven_runs_preheat_then_cook() {
    let mut oven = oven(SimOvenSpec::v1("o", "Oven"));
    let stage = |id: &str, kind: &str| {
        json!({"id": id, "type": kind, "title": "", "userActionRequired": false,
               "temperatureBulbs": {"mode": "dry", "dry": {"setpoint": {"celsius": 100, "fahrenheit": 212}}},
               "heatingElements": {"top": {"on": false}, "bottom": {"on": false}, "rear": {"on": true}},
               "fan": {"speed": 40}, "vent": {"open": false}})
    };
    let mut cook = stage("c1", "cook");
    cook["timer"] = json!({"initial": 60});
    let plan = json!({"cookId": "k", "stages": [stage("c1-preheat", "preheat"), cook]});
    assert_eq!(oven.start(Some(&plan), "r1"), Started::Cooking);
    let preheat = state(&oven);
    assert_eq!(preheat["cook"]["activeStageId"], "c1-preheat");
    assert_eq!(preheat["cook"]["activeStageIndex"], 0);
    assert_eq!(
        preheat["nodes"]["fan"]["speed"], 100.0,
        "preheats at full fan"
    );
    assert_eq!(
        preheat["cook"]["stages"][0]["fan"]["speed"], 100,
        "echo rewritten"
    );
    assert_eq!(preheat["state"]["processedCommandIds"][9], "r1");
    run(&mut oven, 80.0);
    let cooking = state(&oven);
    assert_eq!(cooking["cook"]["activeStageIndex"], 1);
    assert_eq!(cooking["nodes"]["fan"]["speed"], 40.0);
    assert_eq!(cooking["nodes"]["timer"]["mode"], "running");
    run(&mut oven, 30.0);
    assert_eq!(state(&oven)["nodes"]["timer"]["current"], 30);
    run(&mut oven, 30.0);
    assert_eq!(state(&oven)["state"]["mode"], "idle");
    assert_eq!(
        state(&oven)["nodes"]["timer"],
        json!({"current": 60, "initial": 60, "mode": "completed"})
    );
}

#[test]
fn dropped_plans_change_nothing() {
    let mut oven = oven(SimOvenSpec::v2("o", "Oven"));
    let before = oven.clone();
    assert!(matches!(
        oven.start(Some(&roast(300.0, 60)), "r"),
        Started::Ignored(_)
    ));
    assert_eq!(oven, before);
    assert!(matches!(oven.start(None, "r"), Started::Invalid(_)));
}

#[test]
fn the_wrong_generation_errors_out_until_power_cycled() {
    let mut oven = oven(SimOvenSpec::v2("o", "Oven"));
    let v1 = json!({"stages": [{"id": "a", "type": "cook",
        "temperatureBulbs": {"mode": "dry", "dry": {"setpoint": {"celsius": 100}}}}]});
    assert_eq!(oven.start(Some(&v1), "r1"), Started::Errored);
    assert_eq!(state(&oven)["state"]["mode"], "error");
    assert!(matches!(
        oven.start(Some(&roast(200.0, 60)), "r2"),
        Started::Ignored(_)
    ));
    assert!(!oven.stop("r3"));
    assert!(oven.change(OvenChange::PowerCycle));
    assert_eq!(oven.snapshot().mode, OvenMode::Idle);
    assert_eq!(oven.start(Some(&roast(200.0, 60)), "r4"), Started::Cooking);
}

#[test]
fn door_tank_probe_and_food() {
    let mut oven = oven(SimOvenSpec::v2("o", "Oven"));
    assert!(oven.change(OvenChange::Door { open: true }));
    assert!(!oven.change(OvenChange::Door { open: true }));
    assert_eq!(state(&oven)["nodes"]["door"]["closed"], false);
    assert!(oven.change(OvenChange::WaterTank(WaterTank::Removed)));
    let tank = &state(&oven)["nodes"]["waterTank"];
    assert_eq!(tank, &json!({"removed": true, "empty": true, "low": true}));
    assert!(oven.change(OvenChange::Probe { connected: true }));
    let probe = &state(&oven)["nodes"]["temperatureProbe"];
    assert_eq!(probe["connected"], true);
    assert_eq!(probe["current"]["celsius"], 4.0);
    assert!(oven.change(OvenChange::Food { present: true }));
    assert_eq!(state(&oven)["nodes"]["cavityCamera"]["isEmpty"], false);
    assert!(!oven.change(OvenChange::UserAction), "nothing to start");
    let mut v1 = oven_v1();
    v1.change(OvenChange::WaterTank(WaterTank::Low));
    assert_eq!(state(&v1)["nodes"]["waterTank"], json!({"empty": false}));
    v1.change(OvenChange::WaterTank(WaterTank::Empty));
    assert_eq!(state(&v1)["nodes"]["waterTank"], json!({"empty": true}));
}

fn oven_v1() -> SimOven {
    oven(SimOvenSpec::v1("o1", "Oven"))
}

#[test]
fn stop_and_unit() {
    let mut oven = oven_v1();
    assert!(oven.set_unit(TemperatureUnit::F, "u"));
    assert_eq!(state(&oven)["state"]["temperatureUnit"], "F");
    assert!(oven.stop("s"));
    assert_eq!(oven.snapshot().processed_command_ids.len(), 10);
    assert_eq!(oven.snapshot().processed_command_ids[9], "s");
    assert_eq!(state(&oven)["temperatureBulbs"], Value::Null);
    assert_eq!(
        state(&oven)["nodes"]["temperatureBulbs"]["dry"]["current"]["fahrenheit"],
        68.0
    );
}

#[test]
fn an_offered_update_is_sent_as_the_real_capture_and_none_without_an_offer() {
    assert_eq!(
        oven(SimOvenSpec::v1("01234XXXXXXXXX", "Oven")).firmware_event(),
        None
    );
    let offered = oven(
        SimOvenSpec::v1("01234XXXXXXXXX", "Oven")
            .with_firmware_offer(SimFirmwareOffer::captured_v1()),
    );
    let sent = offered.firmware_event().expect("an offer");
    let captured = include_str!(
        "../../../tests/fixtures/anova-messages/EVENT_APO_WIFI_FIRMWARE_UPDATE.oven_v1.real.json"
    );
    // Key for key and value for value, in the capture's order.
    let captured: Value = serde_json::from_str(captured).unwrap();
    assert_eq!(sent.as_str(), serde_json::to_string(&captured).unwrap());
}
