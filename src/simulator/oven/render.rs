//! `EVENT_APO_STATE` bodies, key for key as the real captures:
//! `EVENT_APO_STATE.oven_v1.idle.real.json` \[LIVE bogd] and the cook object of a v1 cook
//! \[LIVE ADK], and `EVENT_APO_STATE.oven_v2.cooking.real.json` \[LIVE awgneo]. The oven builds a
//! [`View`] of itself; this module only writes it in the generation's shape (v1: °C and °F, a
//! numeric fan, `vent`, `lamp`, a timer counting elapsed seconds; v2: °C only, fan words,
//! `exhaustVent`, two lamps, a timer with `startedAtTimestamp`, the camera, two tanks).
//!
//! Shapes the captures do not show \[INF]: steam percentage as `steamPercentage{setpoint}`
//! next to `relativeHumidity{current}`; a connected probe as `{current, setpoint?, connected}`;
//! v2 `processedCommandIds` (in the app's schema, absent from the one capture, which was started
//! from the app) once the oven processed a command; `state.mode: "error"` for the
//! wrong-generation error.

use super::cook::TimerPhase;
use super::physics::Cavity;
use super::plan::{Bulb, CookMeta, Settings, Steam, Vent};
use crate::simulator::config::OvenGeneration;
use crate::simulator::wire::{fahrenheit, round2, Millis, TemperatureUnit, WholeSeconds};
use serde_json::{json, Value};
use std::collections::VecDeque;
use time::OffsetDateTime;

/// The water tank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaterTank {
    /// Full enough.
    #[default]
    Full,
    /// Running low (`oven_v2` only; v1 shows nothing until it is empty).
    Low,
    /// Empty: no steam.
    Empty,
    /// Taken out (`oven_v2`; v1 shows it as empty): no steam.
    Removed,
}

/// Everything one state push shows, as the oven knows it.
#[derive(Debug, Clone)]
pub(crate) struct View<'a> {
    pub(crate) generation: OvenGeneration,
    /// Wall time of the push.
    pub(crate) now: OffsetDateTime,
    /// `idle`, `cook` or `error`.
    pub(crate) mode: &'static str,
    pub(crate) unit: TemperatureUnit,
    pub(crate) processed: &'a VecDeque<String>,
    pub(crate) cavity: Cavity,
    /// The settings the state shows: the active stage's while cooking, the last cook's after.
    pub(crate) settings: Settings,
    pub(crate) cooking: bool,
    pub(crate) heating: bool,
    pub(crate) steaming: bool,
    pub(crate) door_open: bool,
    pub(crate) tank: WaterTank,
    pub(crate) probe_connected: bool,
    pub(crate) food_present: bool,
    pub(crate) timer: TimerView,
    pub(crate) cook: Option<CookView<'a>>,
    pub(crate) system: SystemView<'a>,
}

/// `nodes.timer`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimerView {
    pub(crate) phase: TimerPhase,
    pub(crate) initial_s: u32,
    /// Seconds elapsed (v1 `current`).
    pub(crate) elapsed_s: u32,
    /// When it started, on the wall clock (v2 `startedAtTimestamp`).
    pub(crate) started_at: Option<OffsetDateTime>,
}

/// The `cook` object.
#[derive(Debug, Clone)]
pub(crate) struct CookView<'a> {
    pub(crate) meta: &'a CookMeta,
    pub(crate) echo: &'a [Value],
    pub(crate) active_index: usize,
    pub(crate) active_id: &'a str,
    pub(crate) entering: bool,
    pub(crate) started_at: OffsetDateTime,
    pub(crate) stage_started_at: OffsetDateTime,
    pub(crate) seconds_elapsed: u64,
    pub(crate) stage_seconds_elapsed: u64,
    pub(crate) pending_user_action: bool,
}

/// `systemInfo`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SystemView<'a> {
    pub(crate) device_id: &'a str,
    pub(crate) firmware: &'a str,
    pub(crate) online: bool,
    pub(crate) last_connected: OffsetDateTime,
    pub(crate) last_disconnected: OffsetDateTime,
    pub(crate) firmware_updated: OffsetDateTime,
}

/// Element power at full heat, W: v1 as bogd lists the maxima, v2 as the capture's rear
/// element \[LIVE]; holding takes about a third \[INF].
fn watts(generation: OvenGeneration, view: &View<'_>, on: bool, full_v1: f64) -> f64 {
    let full = match generation {
        OvenGeneration::V1 => full_v1,
        OvenGeneration::V2 => 1200.0,
    };
    match (on && view.cooking && !view.door_open, view.heating) {
        (false, _) => 0.0,
        (true, true) => full,
        (true, false) => (full / 3.0).round(),
    }
}

/// The body of `EVENT_APO_STATE` for this view.
pub(crate) fn state(view: &View<'_>) -> Value {
    match view.generation {
        OvenGeneration::V1 => v1(view),
        OvenGeneration::V2 => v2(view),
    }
}

fn v1(view: &View<'_>) -> Value {
    let s = &view.settings;
    let c = &view.cavity;
    let temperature =
        |celsius: f64| json!({"celsius": round2(celsius), "fahrenheit": fahrenheit(celsius)});
    // The elements keep their last cook's flags while idle [LIVE ADK].
    let element = |on: bool, full: f64| json!({"failed": false, "on": on && !view.door_open, "watts": watts(view.generation, view, on, full)});
    let mut bulbs = json!({
        "dry": {"current": temperature(c.dry_c)},
        "dryBottom": {"current": temperature(c.dry_c - 0.6), "overheated": false},
        "dryTop": {"current": temperature(c.dry_c), "overheated": false},
        "mode": s.bulb.as_str(),
        "wet": {"current": temperature(c.wet_c), "doseFailed": false, "dosed": false},
    });
    bulbs[s.bulb.as_str()]["setpoint"] = temperature(s.setpoint_c);
    let mut probe = json!({"connected": view.probe_connected});
    if view.probe_connected {
        probe["current"] = temperature(c.probe_c);
        if let Some(target) = s.probe_target_c.filter(|_| view.cooking) {
            probe["setpoint"] = temperature(target);
        }
    }
    let mut body = json!({
        "nodes": {
            "door": {"closed": !view.door_open},
            "fan": {"failed": false, "speed": if view.cooking { s.fan } else { 0.0 }},
            "heatingElements": {
                "bottom": element(s.elements.bottom, 700.0),
                "rear": element(s.elements.rear, 1600.0),
                "top": element(s.elements.top, 1600.0),
            },
            "lamp": {"failed": false, "on": view.cooking || view.door_open, "preference": "on"},
            "steamGenerators": steam(view, json!({
                "boiler": {"celsius": round2(c.boiler_c), "descaleRequired": false, "dosed": false,
                           "failed": false, "overheated": false,
                           "watts": if view.steaming { 480.0 } else { 0.0 }},
                "evaporator": {"celsius": round2(c.boiler_c), "failed": false, "overheated": false,
                               "watts": if view.steaming { 160.0 } else { 0.0 }},
            })),
            "temperatureBulbs": bulbs,
            "temperatureProbe": probe,
            "timer": {
                "current": view.timer.elapsed_s,
                "initial": view.timer.initial_s,
                "mode": view.timer.phase.as_str(),
            },
            "userInterfaceCircuit": {"communicationFailed": false},
            "vent": {"open": if view.cooking { s.vent != Vent::Closed } else { true }},
            "waterTank": {"empty": matches!(view.tank, WaterTank::Empty | WaterTank::Removed)},
        },
        "state": {
            "mode": view.mode,
            "processedCommandIds": view.processed,
            "temperatureUnit": view.unit,
        },
        "systemInfo": {
            "firmwareUpdatedTimestamp": WholeSeconds(view.system.firmware_updated),
            "firmwareVersion": view.system.firmware,
            "hardwareVersion": "120V Universal",
            "lastConnectedTimestamp": WholeSeconds(view.system.last_connected),
            "lastDisconnectedTimestamp": WholeSeconds(view.system.last_disconnected),
            "online": view.system.online,
            "powerHertz": 60,
            "powerMains": 120,
            "triacsFailed": false,
            "uiFirmwareVersion": "1.0.22",
            "uiHardwareVersion": "UI_RENASAS",
        },
        "updatedTimestamp": WholeSeconds(view.now),
        "version": 1,
    });
    if let Some(cook) = &view.cook {
        body["cook"] = json!({
            "stages": cook.echo,
            "activeStageSecondsElapsed": cook.stage_seconds_elapsed,
            "activeStageId": cook.active_id,
            "cookId": cook.meta.cook_id,
            "stageTransitionPendingUserAction": cook.pending_user_action,
            "secondsElapsed": cook.seconds_elapsed,
            "activeStageIndex": cook.active_index,
        });
    }
    body
}

/// `mode` and the humidity nodes, added to the generators `base`.
fn steam(view: &View<'_>, mut base: Value) -> Value {
    let humidity = round2(view.cavity.humidity);
    let (mode, target) = match view.settings.steam {
        Steam::Humidity(t) if view.cooking => ("relative-humidity", Some(t)),
        Steam::Percentage(t) if view.cooking => ("steam-percentage", Some(t)),
        _ => ("idle", None),
    };
    base["mode"] = json!(mode);
    base["relativeHumidity"] = json!({"current": humidity});
    match (mode, target) {
        ("relative-humidity", Some(t)) => base["relativeHumidity"]["setpoint"] = json!(t),
        ("steam-percentage", Some(t)) => base["steamPercentage"] = json!({"setpoint": t}),
        _ => {}
    }
    base
}

fn fan_word(speed: f64) -> &'static str {
    match speed {
        s if s <= 0.0 => "off",
        s if s <= 33.0 => "min",
        s if s <= 67.0 => "mid",
        _ => "max",
    }
}

fn v2(view: &View<'_>) -> Value {
    let s = &view.settings;
    let c = &view.cavity;
    let celsius = |value: f64| json!({"celsius": round2(value)});
    let cooking_on = |on: bool| on && view.cooking && !view.door_open;
    let element = |on: bool, hours: f64| {
        json!({"watts": watts(view.generation, view, on, 0.0), "on": cooking_on(on),
               "failed": false, "usageHours": hours})
    };
    let mut bulbs = json!({
        "wet": {"current": celsius(c.wet_c), "numberOfOverCurrent": 0,
                "dc12VInletStatus": "no-error", "ntcConnected": true, "dosed": false},
        "dryBottom": {"current": celsius(c.dry_c - 0.1), "numberOfOverCurrent": 0, "ntcConnected": true},
        "dryTop": {"numberOfOverCurrent": 0, "current": celsius(c.dry_c), "ntcConnected": true},
        "mode": s.bulb.as_str(),
        "dry": {"numberOfOverCurrent": 0, "current": celsius(c.dry_c)},
    });
    bulbs[s.bulb.as_str()]["setpoint"] = celsius(s.setpoint_c);
    let mut probe = json!({
        "current": celsius(if view.probe_connected { c.probe_c } else { 0.0 }),
        "ntcConnected": true,
        "connected": view.probe_connected,
    });
    if let Some(target) = s
        .probe_target_c
        .filter(|_| view.cooking && view.probe_connected)
    {
        probe["setpoint"] = celsius(target);
    }
    let mut timer = json!({"initial": view.timer.initial_s, "mode": view.timer.phase.as_str()});
    if let Some(started) = view.timer.started_at {
        timer["startedAtTimestamp"] = json!(WholeSeconds(started));
    }
    let diagnostic_fan =
        json!({"dc12VStatus": "no-error", "speed": "mid", "numberOfOverCurrent": 0});
    let mut state = json!({
        "cavityOverheated": c.dry_c > 260.0,
        "temperatureUnit": view.unit,
        "mode": view.mode,
    });
    if !view.processed.is_empty() {
        state["processedCommandIds"] = json!(view.processed);
    }
    let mut body = json!({
        "nodes": {
            "wasteWaterTank": {"full": false, "removed": false},
            "temperatureProbe": probe,
            "exhaustFan": {"speed": if view.cooking { "mid" } else { "off" },
                           "dc12VStatus": "no-error", "numberOfOverCurrent": 0},
            "temperatureBulbs": bulbs,
            "steamGenerators": steam(view, json!({
                "boiler": {"numberOfOverCurrentOutletValveDescale": 0, "descaleRequired": false,
                           "numberOfOverCurrentInletPump": 0, "ntcConnected": true,
                           "dc12VInletPumpStatus": "no-error", "failed": false,
                           "celsius": round2(c.boiler_c), "dosed": false,
                           "dc12VOutletValveDescaleStatus": "no-error",
                           "watts": if view.steaming { 600 } else { 0 }, "usageHours": 17.4},
                "evaporator": {"watts": 0, "failed": false, "celsius": round2(c.boiler_c),
                               "usageHours": 9, "ntcConnected": true},
            })),
            "cavityCamera": {"isEmpty": !view.food_present, "streaming": false, "detection": "",
                             "lastDetectionMillis": 1_264_600_361_u64, "enabled": true},
            "heatingElements": {
                "rear": element(s.elements.rear, 2525.5),
                "bottom": element(s.elements.bottom, 346.7),
                "top": element(s.elements.top, 1137.9),
            },
            "waterTank": {
                "removed": view.tank == WaterTank::Removed,
                "empty": matches!(view.tank, WaterTank::Empty | WaterTank::Removed),
                "low": view.tank != WaterTank::Full,
            },
            "displayFan": diagnostic_fan,
            "powerBoardFan": {"numberOfOverCurrent": 0, "dc12VStatus": "no-error", "on": view.cooking},
            "exhaustVent": {"dc12VStatus": "no-error",
                            "state": if view.cooking { s.vent.as_str() } else { "closed" },
                            "numberOfOverCurrent": 0},
            "fan": {"failed": false, "speed": if view.cooking && !view.door_open { fan_word(s.fan) } else { "off" }},
            "ledFan": diagnostic_fan,
            "dc12VLine": {"numberOfFaults": 0, "numberOfRejections": 0},
            "timer": timer,
            "displayBoard": {"celsius": 38.6},
            "doorLamp": {"preferences": "on", "on": true},
            "door": {"closed": !view.door_open},
            "cavityLamp": {"on": view.door_open},
        },
        "systemInfo": {
            "firmwareUpdatedTimestamp": WholeSeconds(view.system.firmware_updated),
            "deviceId": view.system.device_id,
            "ramFree": 2939,
            "online": view.system.online,
            "flashFree": 6892,
            "firmwareVersion": view.system.firmware,
            "lastDisconnectedTimestamp": WholeSeconds(view.system.last_disconnected),
            "powerMains": 120,
            "lastConnectedTimestamp": WholeSeconds(view.system.last_connected),
            "powerHertz": 60,
            "releaseTrack": "production",
            "hardwareVersion": "nxpke1-i500",
        },
        "state": state,
        "updatedTimestamp": Millis(view.now),
        "version": 2,
    });
    if let Some(cook) = &view.cook {
        body["cook"] = json!({
            "activeStageStartedTimestamp": WholeSeconds(cook.stage_started_at),
            "stages": cook.echo,
            "rackPosition": cook.meta.rack_position,
            "startedTimestamp": WholeSeconds(cook.started_at),
            "activeStageMode": if cook.entering { "entering" } else { "running" },
            "originSource": cook.meta.origin_source,
            "cookId": cook.meta.cook_id,
            "cookableId": cook.meta.cookable_id,
            "activeStageIndex": cook.active_index,
            "cookableType": cook.meta.cookable_type,
            "cookTitle": cook.meta.title,
            "activeStageId": cook.active_id,
        });
    }
    body
}

/// The bulb the v1 probe setpoint and the stale idle values refer to.
pub(crate) const IDLE_SETTINGS: Settings = Settings {
    bulb: Bulb::Dry,
    // The app's default dry temperature [APP].
    setpoint_c: 180.0,
    steam: Steam::Off,
    elements: super::plan::Elements {
        top: false,
        bottom: true,
        rear: true,
    },
    fan: 100.0,
    vent: Vent::Closed,
    probe_target_c: None,
};
