//! Tests of `state.rs` (kept apart so both files read in one sitting).

use super::*;
use crate::oven::wire::ApoStateEvent;
use crate::wire::Event;
use time::macros::datetime;

const V2_COOKING: &str =
    include_str!("../../tests/fixtures/anova-messages/EVENT_APO_STATE.oven_v2.cooking.real.json");
const V1_IDLE: &str =
    include_str!("../../tests/fixtures/anova-messages/EVENT_APO_STATE.oven_v1.idle.real.json");

pub(crate) fn event(text: &str) -> ApoStateEvent {
    match Event::parse(text).expect("a capture parses") {
        Event::ApoState(event) => event,
        other => panic!("not an oven state: {other:?}"),
    }
}

fn normalise(text: &str, now: OffsetDateTime, previous: Option<&OvenState>) -> OvenState {
    let event = event(text);
    let device_type = event.device_type.clone().expect("a capture names its type");
    OvenState::from_wire(&device_type, &event.state, now, previous).expect("a capture normalises")
}

/// Replaces a JSON pointer's value in a capture.
pub(crate) fn edited(text: &str, edits: &[(&str, serde_json::Value)]) -> String {
    let mut value: serde_json::Value = serde_json::from_str(text).expect("a capture is JSON");
    for (pointer, new) in edits {
        let (parent, key) = pointer.rsplit_once('/').expect("an edit names a pointer");
        let parent = value.pointer_mut(parent).expect("an edit's parent exists");
        parent[key] = new.clone();
    }
    value.to_string()
}

#[test]
fn the_v2_capture_is_detected_by_content_and_normalised() {
    let event = event(V2_COOKING);
    assert!(matches!(event.state, ApoState::V2(_)));
    let s = normalise(V2_COOKING, datetime!(2026-04-09 22:44:30 UTC), None);
    assert!(s.cooking);
    assert_eq!(s.stage, OvenStage::Preheating);
    assert_eq!(s.hvac_action, HvacAction::Heating);
    assert_eq!(s.temperature_mode, Some(TemperatureMode::Wet));
    assert_eq!(s.temperature, Some(24.96));
    assert_eq!(s.target_temperature, Some(54.44));
    assert_eq!(s.dry_temperature, Some(23.39));
    assert_eq!(s.wet_temperature, Some(24.96));
    assert_eq!(s.top_temperature, Some(23.39));
    assert_eq!(s.bottom_temperature, Some(23.29));
    assert_eq!(s.steam_mode, Some(SteamControl::RelativeHumidity));
    assert_eq!(s.humidity, Some(112.0));
    assert_eq!(s.steam_target, Some(100.0));
    assert_eq!(s.probe_connected, Some(false));
    assert_eq!(
        s.probe_temperature, None,
        "0 °C while unplugged is no reading"
    );
    assert_eq!(s.probe_target, None);
    assert_eq!(
        (s.element_top, s.element_bottom, s.element_rear),
        (Some(false), Some(false), Some(true))
    );
    // The running stage's own elements and fan, from the cook's echo.
    assert_eq!(s.stage_fan, Some(100));
    assert_eq!(
        s.stage_elements,
        Some(crate::oven::wire::Elements {
            top: false,
            bottom: false,
            rear: true
        })
    );
    assert_eq!(s.fan_speed, Some(100));
    assert_eq!(s.door_open, Some(false));
    assert_eq!(s.vent_open, Some(false));
    assert_eq!(s.lamp_on, Some(true));
    assert_eq!(
        (s.water_tank_empty, s.water_tank_low, s.water_tank_removed),
        (Some(false), Some(false), Some(false))
    );
    assert_eq!(s.waste_water_tank_full, Some(false));
    assert_eq!((s.stage_index, s.stage_count), (Some(1), Some(1)));
    assert_eq!(s.stage_title, None, "an empty title is no title");
    assert!(!s.timer_running, "the timer waits for the user or for food");
    assert_eq!((s.timer_total, s.timer_remaining), (300, 300));
    assert_eq!(s.cook_ends_at, None);
    assert_eq!(
        s.cook_id.as_deref(),
        Some("android-8e059d1a-1a1c-4075-8146-d4e0f7c2bff4")
    );
    assert_eq!(
        s.stage_ids,
        ["android-7511275c-3bde-4204-bc3d-82eb3d2792ba"]
    );
    assert_eq!(s.food_detected, Some(false));
    assert_eq!(s.boiler_temperature, Some(37.35));
    assert_eq!(s.descale_required, Some(false));
    assert_eq!(s.cavity_overheated, Some(false));
    assert_eq!(s.display_unit, Some(TemperatureUnit::F));
    assert_eq!(s.model, "oven_v2");
    assert_eq!(s.firmware.as_deref(), Some("11_225_1.4.2_01.01.26"));
    assert!(s.online);
    assert_eq!(s.updated_at, datetime!(2026-04-09 22:44:29 UTC));
}

#[test]
fn the_v1_capture_is_detected_by_content_and_normalised() {
    let event = event(V1_IDLE);
    assert!(matches!(event.state, ApoState::V1(_)));
    let s = normalise(V1_IDLE, datetime!(2024-01-03 22:09:06 UTC), None);
    assert!(!s.cooking);
    assert_eq!(s.stage, OvenStage::Idle);
    assert_eq!(s.hvac_action, HvacAction::Off);
    assert_eq!(s.temperature_mode, Some(TemperatureMode::Dry));
    assert_eq!(s.temperature, Some(24.36));
    assert_eq!(
        s.target_temperature, None,
        "the last cook's 58.33 °C is stale"
    );
    assert_eq!(s.dry_temperature, Some(24.36));
    assert_eq!(s.wet_temperature, Some(24.36));
    assert_eq!(s.top_temperature, Some(24.36));
    assert_eq!(s.bottom_temperature, Some(23.73));
    assert_eq!(s.steam_mode, Some(SteamControl::Off));
    assert_eq!(s.humidity, Some(100.0));
    assert_eq!(s.steam_target, None);
    assert_eq!(s.probe_connected, Some(false));
    assert_eq!(
        (s.element_top, s.element_bottom, s.element_rear),
        (Some(false), Some(false), Some(false)),
        "the bottom element's stale flag is not shown while idle"
    );
    assert_eq!(s.fan_speed, Some(0));
    assert_eq!(s.door_open, Some(false));
    assert_eq!(s.vent_open, Some(true));
    assert_eq!(s.lamp_on, Some(false));
    assert_eq!(
        (s.water_tank_empty, s.water_tank_low, s.water_tank_removed),
        (Some(false), None, None)
    );
    assert_eq!(s.waste_water_tank_full, None);
    assert_eq!((s.stage_index, s.stage_count), (None, None));
    assert_eq!((s.timer_total, s.timer_remaining), (0, 0));
    assert_eq!(s.boiler_temperature, Some(38.75));
    assert_eq!(s.cavity_overheated, None);
    assert_eq!(s.food_detected, None);
    assert_eq!(s.display_unit, Some(TemperatureUnit::F));
    assert_eq!(s.firmware.as_deref(), Some("2.1.7"));
    assert_eq!(s.updated_at, datetime!(2024-01-03 22:09:05 UTC));
}

#[test]
fn a_v2_timer_counts_from_its_start() {
    let text = edited(
        V2_COOKING,
        &[
            ("/payload/state/nodes/timer/mode", "running".into()),
            (
                "/payload/state/nodes/timer/startedAtTimestamp",
                "2026-04-09T22:45:00Z".into(),
            ),
            ("/payload/state/cook/activeStageMode", "running".into()),
        ],
    );
    let s = normalise(&text, datetime!(2026-04-09 22:46:40 UTC), None);
    assert_eq!(s.stage, OvenStage::Cooking);
    assert!(s.timer_running);
    assert_eq!(s.timer_remaining, 200);
    assert_eq!(s.cook_ends_at, Some(datetime!(2026-04-09 22:50:00 UTC)));
    let done = edited(
        &text,
        &[("/payload/state/nodes/timer/mode", "completed".into())],
    );
    let s = normalise(&done, datetime!(2026-04-09 22:50:02 UTC), None);
    assert!(s.timer_completed && !s.timer_running);
    assert_eq!(s.timer_remaining, 0);
}

/// A v1 cook 5 s into its preheat (the `cook` object of ADK's capture, `docs/anova-oven.md`
/// §1.6), laid over the idle capture.
fn v1_cooking(active: i64, timer: serde_json::Value) -> String {
    edited(
        V1_IDLE,
        &[
            ("/payload/state/state/mode", "cook".into()),
            ("/payload/state/nodes/timer", timer),
            (
                "/payload/state/cook",
                serde_json::json!({
                    "stages": [
                        {"id": "183af6fe-2e60-43b6-bdd7-251e1c845218-preheat", "type": "preheat", "title": ""},
                        {"id": "183af6fe-2e60-43b6-bdd7-251e1c845218", "type": "cook", "title": "Roast"},
                        {"id": "aaaa-preheat", "type": "preheat", "title": ""},
                        {"id": "aaaa", "type": "cook", "title": "Crisp"}
                    ],
                    "activeStageSecondsElapsed": 5,
                    "activeStageId": "x",
                    "cookId": "7eb889c6-403c-4971-a070-bb6ead247ea1",
                    "stageTransitionPendingUserAction": false,
                    "secondsElapsed": 5,
                    "activeStageIndex": active
                }),
            ),
        ],
    )
}

#[test]
fn v1_stages_pair_preheat_and_cook() {
    let idle_timer = serde_json::json!({"current": 0, "initial": 600, "mode": "idle"});
    let now = datetime!(2024-01-03 22:10:00 UTC);
    let s = normalise(&v1_cooking(0, idle_timer.clone()), now, None);
    assert_eq!(s.stage, OvenStage::Preheating);
    assert_eq!((s.stage_index, s.stage_count), (Some(1), Some(2)));
    assert_eq!(s.stage_title.as_deref(), Some("Roast"));
    assert_eq!(
        s.target_temperature,
        Some(58.33),
        "a running cook has a target"
    );
    assert_eq!(s.element_bottom, Some(true));
    assert_eq!(s.stage_ids.len(), 4);
    let s = normalise(&v1_cooking(3, idle_timer), now, None);
    assert_eq!(s.stage, OvenStage::Cooking);
    assert_eq!((s.stage_index, s.stage_count), (Some(2), Some(2)));
    assert_eq!(s.stage_title.as_deref(), Some("Crisp"));

    let running = serde_json::json!({"current": 100, "initial": 600, "mode": "running"});
    let first = normalise(&v1_cooking(1, running), now, None);
    assert!(first.timer_running);
    assert_eq!(first.timer_remaining, 500);
    assert_eq!(first.cook_ends_at, Some(now + Duration::seconds(500)));
    // Two seconds later the countdown says 497: the end time does not wobble.
    let later = serde_json::json!({"current": 103, "initial": 600, "mode": "running"});
    let second = normalise(
        &v1_cooking(1, later),
        now + Duration::seconds(2),
        Some(&first),
    );
    assert_eq!(second.timer_remaining, 497);
    assert_eq!(second.cook_ends_at, first.cook_ends_at);
}

#[test]
fn alarms_and_unknowns() {
    let hot = edited(
        V2_COOKING,
        &[("/payload/state/state/cavityOverheated", true.into())],
    );
    let s = normalise(&hot, datetime!(2026-04-09 22:44:30 UTC), None);
    assert_eq!(s.stage, OvenStage::Alarm);
    assert_eq!(s.hvac_action, HvacAction::Off);
    // New values and misshapen nodes cost only themselves.
    let odd = edited(
        V2_COOKING,
        &[
            ("/payload/state/nodes/fan/speed", "turbo".into()),
            ("/payload/state/nodes/door", "open".into()),
            ("/payload/state/nodes/steamGenerators/mode", "fog".into()),
            ("/payload/state/cook/activeStageMode", "pausing".into()),
        ],
    );
    let s = normalise(&odd, datetime!(2026-04-09 22:44:30 UTC), None);
    assert_eq!(s.fan_speed, None);
    assert_eq!(s.door_open, None);
    assert_eq!(s.steam_mode, Some(SteamControl::Off));
    assert_eq!(s.stage, OvenStage::Cooking);
    assert_eq!(s.temperature, Some(24.96));
    // A body of no known shape is an error, not a panic.
    let text = r#"{"command":"EVENT_APO_STATE","payload":{"cookerId":"o","type":"oven_v2","state":{"hello":1}}}"#;
    let e = event(text);
    assert!(OvenState::from_wire(
        &DeviceType::new("oven_v2"),
        &e.state,
        datetime!(2026-01-01 0:00 UTC),
        None
    )
    .is_err());
}

/// The app titles a preheat/cook pair on its preheat and sends `""` on the cook stage (the
/// capture `CMD_APO_START.oven_v1.real.json`, and what we send): the cook stage shows the
/// pair's title too.
#[test]
fn a_v1_cook_stage_without_a_title_shows_its_preheats() {
    let idle_timer = serde_json::json!({"current": 0, "initial": 600, "mode": "idle"});
    let now = datetime!(2024-01-03 22:10:00 UTC);
    let frame = |active: i64| {
        edited(
            V1_IDLE,
            &[
                ("/payload/state/state/mode", "cook".into()),
                ("/payload/state/nodes/timer", idle_timer.clone()),
                (
                    "/payload/state/cook",
                    serde_json::json!({
                        "stages": [
                            {"id": "a-preheat", "type": "preheat", "title": "Roast", "fan": {"speed": 100},
                             "heatingElements": {"top": {"on": true}, "bottom": {"on": false}, "rear": {"on": true}}},
                            {"id": "a", "type": "cook", "title": "", "fan": {"speed": 40},
                             "heatingElements": {"top": {"on": true}, "bottom": {"on": false}, "rear": {"on": true}}},
                            {"id": "b", "type": "cook", "title": ""}
                        ],
                        "cookId": "c", "activeStageIndex": active
                    }),
                ),
            ],
        )
    };
    for active in [0, 1] {
        let s = normalise(&frame(active), now, None);
        assert_eq!(s.stage_title.as_deref(), Some("Roast"), "stage {active}");
        // The stage's own elements (the live nodes may show them off: the door is open).
        assert_eq!(
            s.stage_elements,
            Some(crate::oven::wire::Elements {
                top: true,
                bottom: false,
                rear: true
            }),
            "stage {active}"
        );
        // The cook stage's fan, not the preheat's (which the oven runs at 100).
        assert_eq!(s.stage_fan, Some(40), "stage {active}");
    }
    assert_eq!(normalise(&frame(2), now, None).stage_elements, None);
    // A cook stage after another cook stage has no preheat's title to borrow.
    assert_eq!(normalise(&frame(2), now, None).stage_title, None);
}
