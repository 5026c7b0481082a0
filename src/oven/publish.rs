//! What is published for an oven: its state with the pending values laid over it while idle,
//! rounded against publish storms, and the cook events between two states.

use super::plan::OvenMemory;
use super::state::{OvenStage, OvenState};
use crate::appliance::{CookEvent, CookEventKind};
use crate::command::round2;
use serde_json::{Map, Value};
use time::Duration;

/// Temperatures are published to a tenth of a degree: oven bulbs report hundredths and swing
/// by tenths while holding.
pub const TEMPERATURE_STEP_C: f64 = 0.1;

/// Humidity and the boiler are published to the whole unit.
pub const COARSE_STEP: f64 = 1.0;

/// A timer this close to its end counts as run out when the stage moves on or the cook ends:
/// a Precision Oven 2.0 pushes about every 10 s while cooking, so its last push before the end
/// may show up to that much left. A stop with more time left is a stop, not a finished timer.
const TIMER_END_SLACK: Duration = Duration::seconds(15);

/// Rounds to a multiple of `step` (55.300000000000004 → 55.3).
fn round_to(value: f64, step: f64) -> f64 {
    round2((value / step).round() * step)
}

fn rounded(value: Option<f64>, step: f64) -> Option<f64> {
    value.map(|v| round_to(v, step))
}

/// The state as we publish it.
pub fn publishable(state: &OvenState, memory: &OvenMemory, online: bool) -> OvenState {
    let mut s = state.clone();
    if !s.cooking {
        // While idle the state shows what the next start will use: its bulb and its target
        // (pending, else the last cook's, else the app's default), so a thermostat always has
        // a target to show and "heat" starts there.
        let next = memory.next_stage();
        if let Some(mode) = next.temperature_mode {
            s.temperature_mode = Some(mode);
            s.temperature = match mode {
                super::state::TemperatureMode::Dry => s.dry_temperature,
                super::state::TemperatureMode::Wet => s.wet_temperature,
            };
        }
        if let Some(target) = next.target_temperature {
            s.target_temperature = Some(target.celsius());
        }
        if let Some(timer) = next.timer {
            s.timer_total = timer;
        }
        if let Some(steam) = next.steam {
            s.steam_target = (steam > 0).then_some(f64::from(steam));
        }
        if let Some(probe) = next.probe_target {
            s.probe_target = probe.map(|p| p.celsius());
        }
    }
    s.online = online;
    for value in [
        &mut s.temperature,
        &mut s.dry_temperature,
        &mut s.wet_temperature,
        &mut s.top_temperature,
        &mut s.bottom_temperature,
        &mut s.probe_temperature,
    ] {
        *value = rounded(*value, TEMPERATURE_STEP_C);
    }
    for value in [&mut s.target_temperature, &mut s.probe_target] {
        *value = value.map(round2);
    }
    s.humidity = rounded(s.humidity, COARSE_STEP);
    s.boiler_temperature = rounded(s.boiler_temperature, COARSE_STEP);
    s
}

/// True when two published states differ in anything but `updated_at`.
pub fn differs(a: &OvenState, b: &OvenState) -> bool {
    let mut b = b.clone();
    b.updated_at = a.updated_at;
    *a != b
}

fn became(previous: Option<bool>, current: Option<bool>) -> bool {
    previous != Some(true) && current == Some(true)
}

/// The cook events between two states (`docs/interface.md` §5.3).
pub fn cook_events(previous: &OvenState, current: &OvenState) -> Vec<CookEvent> {
    let mut events = Vec::new();
    let same_cook = previous.cooking && current.cooking && previous.cook_id == current.cook_id;
    // A new cook in place of the running one (how every change to an oven's cook is made) is
    // not a stop and a start: the core reports it as one change (`docs/interface.md` §7).
    if current.cooking && !previous.cooking {
        events.push(CookEvent::new(CookEventKind::CookStarted));
    }
    let same_stage = same_cook && previous.stage_index == current.stage_index;
    if same_stage && previous.stage == OvenStage::Preheating && current.stage == OvenStage::Cooking
    {
        events.push(CookEvent::new(CookEventKind::PreheatComplete));
    }
    let timer_ran_out = current.timer_completed
        || i64::from(previous.timer_remaining) <= TIMER_END_SLACK.whole_seconds()
        || previous
            .cook_ends_at
            .is_some_and(|end| end <= current.updated_at + TIMER_END_SLACK);
    if previous.cooking
        && previous.timer_running
        && !(same_stage && current.timer_running)
        && timer_ran_out
    {
        events.push(CookEvent::new(CookEventKind::TimerFinished));
    }
    if same_cook && previous.stage_index != current.stage_index {
        let mut event = CookEvent::new(CookEventKind::StageChanged);
        if let Some(from) = previous.stage_index {
            event = event.with("previous_stage_index", from);
        }
        events.push(event);
    }
    let reached = |s: &OvenState| match (s.probe_temperature, s.probe_target) {
        (Some(t), Some(target)) => t >= target,
        _ => false,
    };
    // Judged against the target the probe had, so a cook that ends on its probe still counts.
    let target_before = previous.probe_target;
    let reached_now = match (
        current.probe_temperature,
        current.probe_target.or(target_before),
    ) {
        (Some(t), Some(target)) => t >= target,
        _ => false,
    };
    if previous.cooking && target_before.is_some() && !reached(previous) && reached_now {
        events.push(CookEvent::new(CookEventKind::ProbeReached));
    }
    if previous.cooking && !current.cooking {
        events.push(CookEvent::new(CookEventKind::CookStopped));
    }
    if became(previous.water_tank_empty, current.water_tank_empty) {
        events.push(CookEvent::new(CookEventKind::WaterTankEmpty));
    }
    if became(previous.door_open, current.door_open) {
        events.push(CookEvent::new(CookEventKind::DoorOpened));
    }
    events
}

/// The readings of the cook's curve, rounded as published.
pub fn curve_point(state: &OvenState) -> crate::appliance::record::CurvePoint {
    crate::appliance::record::CurvePoint {
        temperature: rounded(state.temperature, TEMPERATURE_STEP_C),
        target: state.target_temperature.map(round2),
        probe: rounded(state.probe_temperature, TEMPERATURE_STEP_C),
        humidity: rounded(state.humidity, COARSE_STEP),
    }
}

/// What the running cook was asked to do, as the state shows it: the stage's mode, target,
/// steam, probe target and timer, and where it is in a multi-stage cook.
pub fn plan_of(state: &OvenState) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "temperature_mode".into(),
        state.temperature_mode.map(|m| m.as_str()).into(),
    );
    map.insert(
        "target_temperature".into(),
        state.target_temperature.map(round2).into(),
    );
    map.insert("steam".into(), state.steam_target.into());
    map.insert("probe_target".into(), state.probe_target.map(round2).into());
    map.insert("timer".into(), Value::from(state.timer_total));
    map.insert("stage_count".into(), state.stage_count.into());
    map.insert("stage_title".into(), state.stage_title.clone().into());
    map
}

/// The keys of every oven event payload.
pub fn event_payload(state: &OvenState) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("stage".into(), Value::from(state.stage.as_str()));
    map.insert(
        "temperature".into(),
        rounded(state.temperature, TEMPERATURE_STEP_C).into(),
    );
    map.insert(
        "target_temperature".into(),
        state.target_temperature.map(round2).into(),
    );
    map.insert("stage_index".into(), state.stage_index.into());
    map.insert("stage_count".into(), state.stage_count.into());
    map.insert("timer_total".into(), Value::from(state.timer_total));
    map.insert("timer_remaining".into(), Value::from(state.timer_remaining));
    map.insert(
        "probe_temperature".into(),
        rounded(state.probe_temperature, TEMPERATURE_STEP_C).into(),
    );
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Temperature;
    use crate::oven::command::StageChanges;
    use crate::oven::state::TemperatureMode;

    fn at(stage: OvenStage, index: u32) -> OvenState {
        OvenState {
            cooking: stage != OvenStage::Idle,
            stage,
            stage_index: (stage != OvenStage::Idle).then_some(index),
            stage_count: (stage != OvenStage::Idle).then_some(2),
            cook_id: (stage != OvenStage::Idle).then(|| "c1".to_owned()),
            ..OvenState::idle_example("oven_v2")
        }
    }

    fn kinds(events: Vec<CookEvent>) -> Vec<&'static str> {
        events.into_iter().map(|e| e.kind.as_str()).collect()
    }

    #[test]
    fn a_two_stage_cook_emits_each_event_once() {
        let idle = at(OvenStage::Idle, 0);
        let pre = at(OvenStage::Preheating, 1);
        let cook = at(OvenStage::Cooking, 1);
        let mut timing = cook.clone();
        timing.timer_running = true;
        timing.cook_ends_at = Some(cook.updated_at + Duration::seconds(2));
        let mut next = at(OvenStage::Preheating, 2);
        next.updated_at = cook.updated_at + Duration::seconds(2);
        assert_eq!(kinds(cook_events(&idle, &pre)), ["cook_started"]);
        assert!(cook_events(&pre, &pre).is_empty());
        assert_eq!(kinds(cook_events(&pre, &cook)), ["preheat_complete"]);
        assert_eq!(
            kinds(cook_events(&timing, &next)),
            ["timer_finished", "stage_changed"]
        );
        let events = cook_events(&timing, &next);
        assert_eq!(events[1].details["previous_stage_index"], 1);
        assert_eq!(kinds(cook_events(&next, &idle)), ["cook_stopped"]);
        // A stop long before the timer's end is no timer_finished.
        let mut early = timing.clone();
        early.cook_ends_at = Some(cook.updated_at + Duration::seconds(600));
        early.timer_remaining = 600;
        assert_eq!(kinds(cook_events(&early, &idle)), ["cook_stopped"]);
        // A new cook in place of the running one is a change, made by the core.
        let mut other = cook.clone();
        other.cook_id = Some("c2".into());
        assert!(kinds(cook_events(&cook, &other)).is_empty());
    }

    #[test]
    fn probe_tank_and_door_are_edges() {
        let mut cook = at(OvenStage::Cooking, 1);
        cook.probe_connected = Some(true);
        cook.probe_target = Some(57.0);
        cook.probe_temperature = Some(56.0);
        let mut reached = cook.clone();
        reached.probe_temperature = Some(57.1);
        assert_eq!(kinds(cook_events(&cook, &reached)), ["probe_reached"]);
        assert!(cook_events(&reached, &reached).is_empty());
        let mut empty = cook.clone();
        empty.water_tank_empty = Some(true);
        empty.door_open = Some(true);
        assert_eq!(
            kinds(cook_events(&cook, &empty)),
            ["water_tank_empty", "door_opened"]
        );
        assert!(cook_events(&empty, &empty).is_empty());
    }

    #[test]
    fn publishing_rounds_and_overlays_pending() {
        let memory = OvenMemory {
            pending: StageChanges {
                temperature_mode: Some(TemperatureMode::Wet),
                target_temperature: Some(Temperature::from_celsius(60.0)),
                timer: Some(3600),
                steam: Some(80),
                ..StageChanges::default()
            },
            ..OvenMemory::default()
        };
        let mut idle = at(OvenStage::Idle, 0);
        idle.dry_temperature = Some(21.04);
        idle.humidity = Some(55.4);
        let published = publishable(&idle, &memory, true);
        assert_eq!(published.temperature_mode, Some(TemperatureMode::Wet));
        assert_eq!(published.temperature, Some(20.5), "the wet bulb's reading");
        assert_eq!(published.target_temperature, Some(60.0));
        assert_eq!(published.timer_total, 3600);
        assert_eq!(published.steam_target, Some(80.0));
        assert_eq!(published.dry_temperature, Some(21.0));
        assert_eq!(published.humidity, Some(55.0));
        let mut cooking = at(OvenStage::Cooking, 1);
        cooking.target_temperature = Some(200.0);
        assert_eq!(
            publishable(&cooking, &memory, true).target_temperature,
            Some(200.0),
            "a running cook shows its own values"
        );
        let mut later = idle.clone();
        later.updated_at += Duration::seconds(30);
        assert!(!differs(&idle, &later));
    }
}
