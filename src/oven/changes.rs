//! What an oven command asks for, once read: one stage's keys, and the whole command. The
//! keys themselves, and how they are read, are in `command.rs`.

use super::state::TemperatureMode;
use super::wire::{Elements, TimerStart};
use crate::command::{Celsius2, CommandError, Food, PlanKeys, Temperature};
use crate::wire::TemperatureUnit;
use serde::ser::{Serialize, SerializeMap, Serializer};

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

    /// The stage's keys as the response echoes them (°C, seconds, words), into `map`: the
    /// top level of a one-stage command, or one entry of `stages`.
    fn echo_into<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        if let Some(mode) = self.temperature_mode {
            map.serialize_entry("temperature_mode", mode.as_str())?;
        }
        if let Some(t) = self.target_temperature {
            map.serialize_entry("target_temperature", &Celsius2(t))?;
        }
        if let Some(steam) = self.steam {
            map.serialize_entry("steam", &steam)?;
        }
        if let Some(e) = self.elements {
            map.serialize_entry("elements", &element_names(e))?;
        }
        if let Some(fan) = self.fan {
            map.serialize_entry("fan", &fan)?;
        }
        if let Some(timer) = self.timer {
            map.serialize_entry("timer", &timer)?;
        }
        if let Some(start) = self.timer_start {
            map.serialize_entry("timer_start", timer_start_name(start))?;
        }
        match self.probe_target {
            Some(Some(p)) => map.serialize_entry("probe_target", &Celsius2(p))?,
            // `0` clears the probe target.
            Some(None) => map.serialize_entry("probe_target", &0)?,
            None => {}
        }
        if let Some(title) = &self.title {
            map.serialize_entry("title", title)?;
        }
        Ok(())
    }
}

/// One stage serialises as the response echoes it.
impl Serialize for StageChanges {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.echo_into(&mut map)?;
        map.end()
    }
}

/// An oven command as the response echoes it (`docs/interface.md` §5.2): the keys given (°C,
/// seconds, words), with the stages a start used and the cook it started.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OvenEcho {
    /// What was asked; a start's plan puts the stages it used in `stages`.
    pub changes: OvenChanges,
    /// The cook a start began.
    pub cook_id: Option<String>,
}

impl Serialize for OvenEcho {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let changes = &self.changes;
        let mut map = serializer.serialize_map(None)?;
        if let Some(cook) = changes.cook {
            map.serialize_entry("cook", &cook)?;
        }
        if let Some(preset) = &changes.plan.preset {
            map.serialize_entry("preset", preset)?;
        }
        changes.stage.echo_into(&mut map)?;
        if let Some(stages) = &changes.stages {
            map.serialize_entry("stages", stages)?;
        }
        if let Some(unit) = changes.display_unit {
            map.serialize_entry("display_unit", &unit)?;
        }
        if let Some(food) = changes.food {
            map.serialize_entry("food", food.as_str())?;
        }
        if let Some(cook_id) = &self.cook_id {
            map.serialize_entry("cook_id", cook_id)?;
        }
        map.end()
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
    /// The keys of `docs/interface.md` §8 (`preset`).
    pub plan: PlanKeys,
}

impl OvenChanges {
    /// True when it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.cook.is_none()
            && self.stage.is_empty()
            && self.stages.is_none()
            && self.display_unit.is_none()
            && self.plan.is_empty()
    }

    /// `over` laid over a preset's keys: every key `over` gives wins. A preset of several
    /// stages is replaced by `over`'s stages, or kept whole; top-level stage keys cannot say
    /// which of its stages they mean, so they are refused.
    pub fn with_preset(
        preset: OvenChanges,
        over: OvenChanges,
    ) -> Result<OvenChanges, CommandError> {
        let (stage, stages) = match (over.stages, preset.stages) {
            (Some(stages), _) => (StageChanges::default(), Some(stages)),
            (None, Some(stages)) if over.stage.is_empty() => {
                (StageChanges::default(), Some(stages))
            }
            (None, Some(_)) => {
                return Err(CommandError::invalid(format!(
                    "preset {} is a cook of several stages; give `stages` to replace them, not \
                     top-level stage keys",
                    over.plan.preset.as_deref().unwrap_or_default()
                )))
            }
            (None, None) => (preset.stage.overlaid(&over.stage), None),
        };
        Ok(OvenChanges {
            cook: over.cook,
            stage,
            stages,
            display_unit: over.display_unit.or(preset.display_unit),
            food: over.food.or(preset.food),
            plan: over.plan,
        })
    }

    /// True when it changes what a cook does (a stage key or `stages`).
    pub fn changes_cook(&self) -> bool {
        !self.stage.is_empty() || self.stages.is_some()
    }

    /// `self`, or `invalid_value` when it does nothing or mixes stage keys and `stages`.
    pub(super) fn checked(self) -> Result<Self, CommandError> {
        if self.is_empty() {
            return Err(CommandError::invalid(
                "the command does nothing: give cook, mode, preset, a stage key, stages or display_unit",
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
