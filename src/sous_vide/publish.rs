//! What is published for a cooker: its state with the pending target and timer laid over it
//! while idle, rounded against publish storms, and the cook events between two states.

use super::plan::CookerMemory;
use crate::appliance::{CookEvent, CookEventKind};
use crate::command::round2;
use crate::sous_vide::state::{CookerState, Stage};
use serde_json::{Map, Value};

/// Water temperature is published rounded to this step (°C). The cooker reports hundredths and
/// pushes every two seconds; at 0.1 °C a steady bath publishes rarely and a heating one about
/// once per push, which is what a graph needs.
pub const WATER_STEP_C: f64 = 0.1;

/// Heater and triac temperatures (diagnostics) are published to the whole degree: they swing by
/// tenths on every push and nobody automates on them.
pub const DIAGNOSTIC_STEP_C: f64 = 1.0;

/// Rounds to a multiple of `step`, cleaning up binary noise (55.300000000000004 → 55.3).
pub fn round_to(value: f64, step: f64) -> f64 {
    round2((value / step).round() * step)
}

/// The state as we publish it.
pub fn publishable(state: &CookerState, memory: &CookerMemory, online: bool) -> CookerState {
    let mut state = state.clone();
    if !state.cooking {
        // While idle the state shows what the next start will use.
        if let Some(target) = memory.pending_target {
            state.target_temperature = Some(target.celsius());
        }
        if let Some(timer) = memory.pending_timer {
            state.timer_total = timer;
        }
    }
    state.online = online;
    state.water_temperature = state.water_temperature.map(|t| round_to(t, WATER_STEP_C));
    state.target_temperature = state.target_temperature.map(round2);
    state.heater_temperature = state
        .heater_temperature
        .map(|t| round_to(t, DIAGNOSTIC_STEP_C));
    state.triac_temperature = state
        .triac_temperature
        .map(|t| round_to(t, DIAGNOSTIC_STEP_C));
    state
}

/// True when two published states differ in anything but `updated_at`.
pub fn differs(a: &CookerState, b: &CookerState) -> bool {
    let mut b = b.clone();
    b.updated_at = a.updated_at;
    b.clock_anchor = a.clock_anchor;
    *a != b
}

/// The alarm flags raised in a state, by the name used in events.
fn raised_alarms(state: &CookerState) -> Vec<&'static str> {
    let mut alarms: Vec<&'static str> = state
        .alarms()
        .into_iter()
        .filter(|(_, flag)| *flag == Some(true))
        .map(|(name, _)| name)
        .collect();
    if alarms.is_empty() && state.stage == Stage::Alarm && state.low_water != Some(true) {
        // An alarm mode without a specific flag (a Gen 2 DEVICE FAILURE, an unknown mode).
        alarms.push("device_failure");
    }
    alarms
}

/// The cook events between `previous` and `current` (`docs/interface.md` §3: `cook_started`,
/// `preheat_complete`, `timer_finished`, `cook_stopped`, `low_water`, `alarm`).
pub fn cook_events(previous: &CookerState, current: &CookerState) -> Vec<CookEvent> {
    let mut events = Vec::new();
    if !previous.cooking && current.cooking {
        events.push(CookEvent::new(CookEventKind::CookStarted));
    }
    if previous.cooking
        && previous.stage == Stage::Preheating
        && matches!(current.stage, Stage::Cooking | Stage::Maintaining)
    {
        events.push(CookEvent::new(CookEventKind::PreheatComplete));
    }
    if previous.cooking
        && matches!(previous.stage, Stage::Preheating | Stage::Cooking)
        && current.stage == Stage::Maintaining
    {
        events.push(CookEvent::new(CookEventKind::TimerFinished));
    }
    if previous.cooking && !current.cooking {
        events.push(CookEvent::new(CookEventKind::CookStopped));
    }
    if previous.low_water != Some(true) && current.low_water == Some(true) {
        events.push(CookEvent::new(CookEventKind::LowWater));
    }
    let before = raised_alarms(previous);
    let new: Vec<&'static str> = raised_alarms(current)
        .into_iter()
        .filter(|a| !before.contains(a))
        .collect();
    if !new.is_empty() {
        events.push(CookEvent::new(CookEventKind::Alarm).with("alarms", new));
    }
    events
}

/// What the running cook was asked to do, as the state shows it: its target and timer.
pub fn plan_of(state: &CookerState) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "target_temperature".into(),
        state.target_temperature.map(round2).into(),
    );
    map.insert("timer".into(), Value::from(state.timer_total));
    map
}

/// True when a running cook got a new target or timer: what a change to it looks like,
/// including the restart a Personal Access Token needs (which starts the timer anew with the
/// time that was remaining).
pub fn cook_changed(previous: &CookerState, current: &CookerState) -> bool {
    let target = |s: &CookerState| s.target_temperature.map(|t| (t * 100.0).round() as i64);
    target(previous) != target(current) || previous.timer_total != current.timer_total
}

/// The keys of every cooker event payload.
pub fn event_payload(state: &CookerState) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("stage".into(), Value::from(state.stage.as_str()));
    map.insert(
        "water_temperature".into(),
        state
            .water_temperature
            .map(|t| round_to(t, WATER_STEP_C))
            .into(),
    );
    map.insert(
        "target_temperature".into(),
        state.target_temperature.map(round2).into(),
    );
    map.insert("timer_total".into(), Value::from(state.timer_total));
    map.insert("timer_remaining".into(), Value::from(state.timer_remaining));
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Temperature;
    use time::macros::datetime;

    fn state(stage: Stage, cooking: bool) -> CookerState {
        CookerState {
            cooking,
            stage,
            water_temperature: Some(55.27),
            target_temperature: Some(57.0),
            heater_temperature: Some(61.4),
            ..CookerState::idle_example("a7")
        }
    }

    fn kinds(events: Vec<CookEvent>) -> Vec<&'static str> {
        events.into_iter().map(|e| e.kind.as_str()).collect()
    }

    #[test]
    fn a_whole_cook_emits_each_event_once() {
        let idle = state(Stage::Idle, false);
        let pre = state(Stage::Preheating, true);
        let cook = state(Stage::Cooking, true);
        let hold = state(Stage::Maintaining, true);
        assert_eq!(kinds(cook_events(&idle, &pre)), ["cook_started"]);
        assert_eq!(kinds(cook_events(&pre, &pre)), Vec::<&str>::new());
        assert_eq!(kinds(cook_events(&pre, &cook)), ["preheat_complete"]);
        assert_eq!(kinds(cook_events(&cook, &hold)), ["timer_finished"]);
        assert_eq!(kinds(cook_events(&hold, &idle)), ["cook_stopped"]);
        // A short timer can finish between two pushes.
        assert_eq!(
            kinds(cook_events(&pre, &hold)),
            ["preheat_complete", "timer_finished"]
        );
    }

    #[test]
    fn alarms_are_edges() {
        let cook = state(Stage::Cooking, true);
        let mut low = cook.clone();
        low.low_water = Some(true);
        assert_eq!(kinds(cook_events(&cook, &low)), ["low_water"]);
        assert!(cook_events(&low, &low).is_empty());
        let mut leak = low.clone();
        leak.stage = Stage::Alarm;
        leak.water_leak = Some(true);
        let events = cook_events(&low, &leak);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, CookEventKind::Alarm);
        assert_eq!(
            events[0].details["alarms"],
            serde_json::json!(["water_leak"])
        );
    }

    #[test]
    fn publishing_rounds_and_overlays_pending() {
        let memory = CookerMemory {
            pending_target: Some(Temperature::from_celsius(60.0)),
            pending_timer: Some(5400),
            ..CookerMemory::default()
        };
        let published = publishable(&state(Stage::Idle, false), &memory, true);
        assert_eq!(published.water_temperature, Some(55.3));
        assert_eq!(published.heater_temperature, Some(61.0));
        assert_eq!(published.target_temperature, Some(60.0));
        assert_eq!(published.timer_total, 5400);
        assert!(published.online);
        assert!(!publishable(&state(Stage::Idle, false), &memory, false).online);
        // A cook in progress shows the cooker's own values.
        let cooking = publishable(&state(Stage::Cooking, true), &memory, true);
        assert_eq!(cooking.target_temperature, Some(57.0));
    }

    #[test]
    fn comparison_ignores_the_timestamp() {
        let a = state(Stage::Idle, false);
        let mut b = a.clone();
        b.updated_at = datetime!(2025-01-01 10:00:02 UTC);
        assert!(!differs(&a, &b));
        b.water_temperature = Some(55.4);
        assert!(differs(&a, &b));
    }
}
