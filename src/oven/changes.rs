//! What an oven command asks for, once read: one stage's keys, and the whole command. The
//! keys themselves, and how they are read, are in `command.rs`.

use super::state::TemperatureMode;
use super::wire::{Elements, TimerStart};
use crate::command::{json_number, round2, CommandError, Food, Temperature};
use crate::wire::TemperatureUnit;
use serde_json::{Map, Value};

/// What one stage asks for; every key optional (the rest comes from pending values and
/// defaults when the cook starts).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StageChanges {
    /// The bulb the stage controls.
    pub temperature_mode: Option<TemperatureMode>,
    /// The bulb's target.
    pub target_temperature: Option<Temperature>,
    /// Steam, 0–100 %.
    pub steam: Option<u8>,
    /// Elements.
    pub elements: Option<Elements>,
    /// Fan, 0–100.
    pub fan: Option<u8>,
    /// Timer, seconds (0 = none).
    pub timer: Option<u32>,
    /// When the timer starts.
    pub timer_start: Option<TimerStart>,
    /// Probe target; `Some(None)` clears it.
    pub probe_target: Option<Option<Temperature>>,
    /// Title.
    pub title: Option<String>,
}

impl StageChanges {
    /// True when no key is given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `self` with the keys `over` gives laid over it. A stage ends on its timer or on its
    /// probe, so a probe target given alone replaces an earlier timer, and a timer given alone
    /// replaces an earlier probe target.
    pub fn overlaid(&self, over: &StageChanges) -> StageChanges {
        let probe_given = matches!(over.probe_target, Some(Some(_)));
        let timer_given = over.timer.is_some_and(|t| t > 0);
        let base = StageChanges {
            timer: if probe_given && over.timer.is_none() {
                None
            } else {
                self.timer
            },
            probe_target: if timer_given && over.probe_target.is_none() {
                None
            } else {
                self.probe_target
            },
            ..self.clone()
        };
        let this = &base;
        StageChanges {
            temperature_mode: over.temperature_mode.or(this.temperature_mode),
            target_temperature: over.target_temperature.or(this.target_temperature),
            steam: over.steam.or(this.steam),
            elements: over.elements.or(this.elements),
            fan: over.fan.or(this.fan),
            timer: over.timer.or(this.timer),
            timer_start: over.timer_start.or(this.timer_start),
            probe_target: over.probe_target.or(this.probe_target),
            title: over.title.clone().or_else(|| this.title.clone()),
        }
    }

    /// The stage as the response echoes it: °C, seconds, words.
    pub fn echo(&self, map: &mut Map<String, Value>) {
        if let Some(mode) = self.temperature_mode {
            map.insert("temperature_mode".into(), Value::from(mode.as_str()));
        }
        if let Some(t) = self.target_temperature {
            map.insert(
                "target_temperature".into(),
                json_number(round2(t.celsius())),
            );
        }
        if let Some(steam) = self.steam {
            map.insert("steam".into(), Value::from(steam));
        }
        if let Some(e) = self.elements {
            map.insert("elements".into(), Value::from(element_names(e)));
        }
        if let Some(fan) = self.fan {
            map.insert("fan".into(), Value::from(fan));
        }
        if let Some(timer) = self.timer {
            map.insert("timer".into(), Value::from(timer));
        }
        if let Some(start) = self.timer_start {
            map.insert("timer_start".into(), Value::from(timer_start_name(start)));
        }
        if let Some(probe) = self.probe_target {
            let value = probe.map_or(Value::from(0), |p| json_number(round2(p.celsius())));
            map.insert("probe_target".into(), value);
        }
        if let Some(title) = &self.title {
            map.insert("title".into(), Value::from(title.as_str()));
        }
    }
}

/// What an oven command asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OvenChanges {
    /// Start (`true`) or stop (`false`); `mode` maps here too.
    pub cook: Option<bool>,
    /// The keys of a one-stage cook, given at the top level.
    pub stage: StageChanges,
    /// A multi-stage cook.
    pub stages: Option<Vec<StageChanges>>,
    /// New display unit.
    pub display_unit: Option<TemperatureUnit>,
    /// Turns on the food-safety rules.
    pub food: Option<Food>,
}

impl OvenChanges {
    /// True when it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.cook.is_none()
            && self.stage.is_empty()
            && self.stages.is_none()
            && self.display_unit.is_none()
    }

    /// True when it changes what a cook does (a stage key or `stages`).
    pub fn changes_cook(&self) -> bool {
        !self.stage.is_empty() || self.stages.is_some()
    }

    /// The command as the response echoes it.
    pub fn echo(&self) -> Map<String, Value> {
        let mut map = Map::new();
        if let Some(cook) = self.cook {
            map.insert("cook".into(), Value::Bool(cook));
        }
        self.stage.echo(&mut map);
        if let Some(stages) = &self.stages {
            let list = stages
                .iter()
                .map(|s| {
                    let mut m = Map::new();
                    s.echo(&mut m);
                    Value::Object(m)
                })
                .collect();
            map.insert("stages".into(), Value::Array(list));
        }
        if let Some(unit) = self.display_unit {
            map.insert("display_unit".into(), Value::from(unit.as_str()));
        }
        if let Some(food) = self.food {
            map.insert("food".into(), Value::from(food.as_str()));
        }
        map
    }

    /// `self`, or `invalid_value` when it does nothing or mixes stage keys and `stages`.
    pub(super) fn checked(self) -> Result<Self, CommandError> {
        if self.is_empty() {
            return Err(CommandError::invalid(
                "the command does nothing: give cook, mode, a stage key, stages or display_unit",
            ));
        }
        if self.stages.is_some() && !self.stage.is_empty() {
            return Err(CommandError::invalid(
                "give the stage keys either at the top level (one stage) or inside stages, not both",
            ));
        }
        Ok(self)
    }
}

/// The names of the elements that are on, in a fixed order.
pub fn element_names(e: Elements) -> Vec<&'static str> {
    [("top", e.top), ("bottom", e.bottom), ("rear", e.rear)]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect()
}

/// The key's word for a timer start.
pub fn timer_start_name(start: TimerStart) -> &'static str {
    match start {
        TimerStart::Immediately => "immediately",
        TimerStart::WhenPreheated => "when_preheated",
        TimerStart::Manually => "manually",
        TimerStart::OnFoodDetected => "on_food_detected",
    }
}
