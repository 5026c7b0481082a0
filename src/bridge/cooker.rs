//! What the bridge remembers about one cooker, and the pure rules that turn its cloud state into
//! what we publish: availability, the published state (with the pending target and timer laid
//! over it while idle, rounded against publish storms), and cook events.

use super::command::{round2, Temperature};
use super::exec::{Active, Queued};
use super::validate::Limits;
use crate::anova::model::{CookerInfo, CookerState, Stage};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Instant;

/// Water temperature is published rounded to this step (°C). The cooker reports hundredths and
/// pushes every two seconds; at 0.1 °C a steady bath publishes rarely and a heating one about
/// once per push, which is what a graph needs.
pub const WATER_STEP_C: f64 = 0.1;

/// Heater and triac temperatures (diagnostics) are published to the whole degree: they swing by
/// tenths on every push and nobody automates on them.
pub const DIAGNOSTIC_STEP_C: f64 = 1.0;

/// Commands the cloud refused for this cooker once; later changes go straight to the fallback
/// (a restart of the cook) instead of a round-trip that is known to fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refusals {
    /// `CMD_APC_SET_TARGET_TEMP` was answered with an error.
    pub set_target: bool,
    /// `CMD_APC_SET_TIMER` was answered with an error.
    pub set_timer: bool,
}

/// One cooker.
#[derive(Debug)]
pub struct Cooker {
    /// Identity from the device list.
    pub info: CookerInfo,
    /// The sanitised id used in topics.
    pub id: String,
    /// The last state the cloud pushed.
    pub state: Option<CookerState>,
    /// No push for `stale_after`.
    pub stale: bool,
    /// The last state we published, with `updated_at` neutralised for comparison, and when.
    pub published_state: Option<(CookerState, Instant)>,
    /// The last availability we published.
    pub published_availability: Option<bool>,
    /// The firmware the last discovery message carried (`None` = never published).
    pub discovery_firmware: Option<Option<String>>,
    /// Target for the next start, set while idle.
    pub pending_target: Option<Temperature>,
    /// Timer for the next start, set while idle (seconds).
    pub pending_timer: Option<u32>,
    /// Commands the cloud refused.
    pub refusals: Refusals,
    /// When recent cloud-bound commands started (the rate-limit window).
    pub recent_commands: VecDeque<Instant>,
    /// The command being executed.
    pub active: Option<Active>,
    /// Commands waiting for the active one.
    pub queue: VecDeque<Queued>,
}

impl Cooker {
    /// A newly listed cooker.
    pub fn new(info: CookerInfo, id: String) -> Self {
        Self {
            info,
            id,
            state: None,
            stale: false,
            published_state: None,
            published_availability: None,
            discovery_firmware: None,
            pending_target: None,
            pending_timer: None,
            refusals: Refusals::default(),
            recent_commands: VecDeque::new(),
            active: None,
            queue: VecDeque::new(),
        }
    }

    /// `online` when the cloud link is up, the cooker reports itself online, and its last push
    /// is fresher than `anova.stale_after` (`interface.md` §3).
    pub fn available(&self, link_up: bool) -> bool {
        link_up
            && !self.stale
            && self
                .state
                .as_ref()
                .is_some_and(|s| s.reported_online != Some(false))
    }

    /// The firmware from the latest state.
    pub fn firmware(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.firmware.as_deref())
    }

    /// The state as we publish it, or `None` before the first push.
    pub fn published(&self, link_up: bool) -> Option<CookerState> {
        let mut state = self.state.clone()?;
        if !state.cooking {
            // While idle the state shows what the next start will use.
            if let Some(target) = self.pending_target {
                state.target_temperature = Some(target.celsius());
            }
            if let Some(timer) = self.pending_timer {
                state.timer_total = timer;
            }
        }
        state.online = self.available(link_up);
        state.water_temperature = state.water_temperature.map(|t| round_to(t, WATER_STEP_C));
        state.target_temperature = state.target_temperature.map(round2);
        state.heater_temperature = state
            .heater_temperature
            .map(|t| round_to(t, DIAGNOSTIC_STEP_C));
        state.triac_temperature = state
            .triac_temperature
            .map(|t| round_to(t, DIAGNOSTIC_STEP_C));
        Some(state)
    }

    /// The entry of `bridge/devices`.
    pub fn device_entry(&self, link_up: bool, limits: &Limits) -> Value {
        json!({
            "id": self.id,
            "cooker_id": self.info.cooker_id,
            "name": self.info.name,
            "model": self.info.device_type.as_str(),
            "firmware": self.firmware(),
            "online": self.available(link_up),
            "min_temperature_c": limits.model.min_temperature_c,
            "max_temperature_c": limits.max_temperature_c(),
            "max_timer_s": limits.model.max_timer_s,
        })
    }
}

/// Rounds to a multiple of `step`, cleaning up binary noise (55.300000000000004 → 55.3).
pub fn round_to(value: f64, step: f64) -> f64 {
    round2((value / step).round() * step)
}

/// True when two published states differ in anything but `updated_at`.
pub fn differs(a: &CookerState, b: &CookerState) -> bool {
    let mut b = b.clone();
    b.updated_at = a.updated_at;
    *a != b
}

/// A cook event derived from two consecutive states of one cooker.
#[derive(Debug, Clone, PartialEq)]
pub struct CookEvent {
    /// One of the contract's `event_type`s.
    pub event_type: &'static str,
    /// For `alarm`: which alarms were raised.
    pub alarms: Vec<&'static str>,
}

/// The alarm flags, by the name used in events.
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

/// The cook events between `previous` and `current` (`interface.md` §3: `cook_started`,
/// `preheat_complete`, `timer_finished`, `cook_stopped`, `low_water`, `alarm`).
pub fn cook_events(previous: &CookerState, current: &CookerState) -> Vec<CookEvent> {
    let mut events = Vec::new();
    let mut push = |event_type, alarms| events.push(CookEvent { event_type, alarms });
    if !previous.cooking && current.cooking {
        push("cook_started", Vec::new());
    }
    if previous.cooking
        && previous.stage == Stage::Preheating
        && matches!(current.stage, Stage::Cooking | Stage::Maintaining)
    {
        push("preheat_complete", Vec::new());
    }
    if previous.cooking
        && matches!(previous.stage, Stage::Preheating | Stage::Cooking)
        && current.stage == Stage::Maintaining
    {
        push("timer_finished", Vec::new());
    }
    if previous.cooking && !current.cooking {
        push("cook_stopped", Vec::new());
    }
    if previous.low_water != Some(true) && current.low_water == Some(true) {
        push("low_water", Vec::new());
    }
    let before = raised_alarms(previous);
    let new: Vec<&'static str> = raised_alarms(current)
        .into_iter()
        .filter(|a| !before.contains(a))
        .collect();
    if !new.is_empty() {
        push("alarm", new);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn types(events: Vec<CookEvent>) -> Vec<&'static str> {
        events.into_iter().map(|e| e.event_type).collect()
    }

    #[test]
    fn a_whole_cook_emits_each_event_once() {
        let idle = state(Stage::Idle, false);
        let pre = state(Stage::Preheating, true);
        let cook = state(Stage::Cooking, true);
        let hold = state(Stage::Maintaining, true);
        assert_eq!(types(cook_events(&idle, &pre)), ["cook_started"]);
        assert_eq!(types(cook_events(&pre, &pre)), Vec::<&str>::new());
        assert_eq!(types(cook_events(&pre, &cook)), ["preheat_complete"]);
        assert_eq!(types(cook_events(&cook, &hold)), ["timer_finished"]);
        assert_eq!(types(cook_events(&hold, &idle)), ["cook_stopped"]);
        // A short timer can finish between two pushes.
        assert_eq!(
            types(cook_events(&pre, &hold)),
            ["preheat_complete", "timer_finished"]
        );
    }

    #[test]
    fn alarms_are_edges() {
        let cook = state(Stage::Cooking, true);
        let mut low = cook.clone();
        low.low_water = Some(true);
        assert_eq!(types(cook_events(&cook, &low)), ["low_water"]);
        assert!(cook_events(&low, &low).is_empty());
        let mut leak = low.clone();
        leak.stage = Stage::Alarm;
        leak.water_leak = Some(true);
        let events = cook_events(&low, &leak);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "alarm");
        assert_eq!(events[0].alarms, ["water_leak"]);
    }

    #[test]
    fn publishing_rounds_and_overlays_pending() {
        let info = CookerInfo {
            cooker_id: "X".into(),
            device_type: crate::anova::protocol::DeviceType::new("a7"),
            name: "n".into(),
        };
        let mut cooker = Cooker::new(info, "x".into());
        cooker.state = Some(state(Stage::Idle, false));
        cooker.pending_target = Some(Temperature::from_celsius(60.0));
        cooker.pending_timer = Some(5400);
        let published = cooker.published(true).unwrap();
        assert_eq!(published.water_temperature, Some(55.3));
        assert_eq!(published.heater_temperature, Some(61.0));
        assert_eq!(published.target_temperature, Some(60.0));
        assert_eq!(published.timer_total, 5400);
        assert!(published.online);
        assert!(!cooker.published(false).unwrap().online);
        // A cook in progress shows the cooker's own values.
        cooker.state = Some(state(Stage::Cooking, true));
        assert_eq!(
            cooker.published(true).unwrap().target_temperature,
            Some(57.0)
        );
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
