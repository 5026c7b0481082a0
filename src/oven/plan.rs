//! Planning an oven command: which `CMD_APO_*` to send, what the state must show before we
//! answer `ok`, and what the oven remembers for its next start.
//!
//! The rules (`docs/interface.md` §5.2):
//! - While idle, stage keys become *pending* values the next start uses; nothing is sent.
//! - A start uses the command's stages, else its stage keys over the pending ones, and fills
//!   the rest with defaults (rear element, fan high, no steam, a timer that starts when
//!   preheated). Without a target it starts from the one its idle state shows: the last cook
//!   this bridge started with that bulb, else the Anova app's default for the bulb
//!   ([`DEFAULT_TARGET_C`]), so "heat" on an idle thermostat does what the card shows.
//! - A Personal Access Token may only start, stop and set the unit, so a change to a running
//!   cook is a complete new start: the running stage as the state shows it, with the change.
//!   The response says what that means for the timer.
//! - The oven drops a bad plan without an error, so a start is confirmed only when the state
//!   shows its `cookId`, a stop when the oven is idle, a unit when the state shows it.

use super::changes::{element_names, timer_start_name};
use super::command::{OvenChanges, OvenEcho, StageChanges};
use super::limits::{OvenLimits, ResolvedStage, DEFAULT_TARGET_C};
use super::state::{OvenState, TemperatureMode};
use super::wire::{
    ApoCommand, CookSpec, Elements, OvenAddress, Setpoint, StageSpec, StageTimer, TimerStart,
};
use super::Oven;
use crate::appliance::family::{Ids, Plan, StartPlan};
use crate::command::{check_food_safety, json_number, round2, CommandError, Food, Temperature};
use crate::wire::{DeviceRef, TemperatureUnit};
use serde_json::{Map, Value};
use std::time::Duration;

/// How long a start given alone (`set/mode heat`, `set/cook ON`) to an idle oven waits for
/// the values sent right after it: Home Assistant's `climate.set_temperature` with `hvac_mode`
/// publishes the mode and then the temperature, milliseconds apart. Held this long, the two
/// make one cook at the requested temperature instead of a cook and its replacement.
pub const START_SETTLE: Duration = Duration::from_secs(1);

/// Said when a running cook was changed by starting it again.
pub const RESTART_WARNING: &str = "an oven only takes a whole new cook from this token, so the change was sent as a new cook that replaces the running one: the stage starts again (its timer with the time that was remaining) and later stages of a multi-stage cook are not kept";

/// Said when a command asks for a probe target while the oven shows no probe plugged in: the
/// oven takes the cook, but a stage that ends on the probe would hold its heat until someone
/// plugs one in (issue 27 item 2).
pub const NO_PROBE_WARNING: &str = "no food probe is connected: a stage with a probe_target ends only when the probe reaches it, so plug the probe into the oven (until then the stage keeps heating)";

/// What an oven remembers between commands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OvenMemory {
    /// Stage keys for the next start, given while idle.
    pub pending: StageChanges,
    /// Stages for the next start, given while idle.
    pub pending_stages: Option<Vec<StageChanges>>,
    /// The target of the last cook this bridge started, per bulb (dry, wet).
    pub last_target: (Option<Temperature>, Option<Temperature>),
}

impl OvenMemory {
    /// The target a start with this bulb uses when none is given or pending: the last cook's,
    /// else the app's default.
    pub fn idle_target(&self, mode: TemperatureMode) -> Temperature {
        let (last, default) = match mode {
            TemperatureMode::Dry => (self.last_target.0, DEFAULT_TARGET_C.0),
            TemperatureMode::Wet => (self.last_target.1, DEFAULT_TARGET_C.1),
        };
        last.unwrap_or(Temperature::from_celsius(default))
    }

    /// The first stage of the next start as far as it is known while idle: the pending stage
    /// (or the first pending stage), its bulb dry unless given, and its target as
    /// [`OvenMemory::idle_target`] when none is pending.
    pub fn next_stage(&self) -> StageChanges {
        let mut next = self
            .pending_stages
            .as_ref()
            .and_then(|stages| stages.first())
            .unwrap_or(&self.pending)
            .clone();
        let mode = *next.temperature_mode.get_or_insert(TemperatureMode::Dry);
        if next.target_temperature.is_none() {
            next.target_temperature = Some(self.idle_target(mode));
        }
        next
    }
}

/// A change to [`OvenMemory`], applied when a command succeeds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OvenUpdate {
    /// A start used the pending values: clear them.
    pub consumes_pending: bool,
    /// New pending stage keys, laid over the old ones.
    pub pending: Option<StageChanges>,
    /// New pending stages.
    pub pending_stages: Option<Vec<StageChanges>>,
    /// A cook started with this bulb and target (its first stage's).
    pub started: Option<(TemperatureMode, Temperature)>,
}

/// Applies an update.
pub fn remember(memory: &mut OvenMemory, update: OvenUpdate) {
    if update.consumes_pending {
        memory.pending = StageChanges::default();
        memory.pending_stages = None;
    }
    match update.started {
        Some((TemperatureMode::Dry, target)) => memory.last_target.0 = Some(target),
        Some((TemperatureMode::Wet, target)) => memory.last_target.1 = Some(target),
        None => {}
    }
    if let Some(stage) = update.pending {
        memory.pending = memory.pending.overlaid(&stage);
        // One stage given after stages: the next start is that one stage.
        memory.pending_stages = None;
    }
    if let Some(stages) = update.pending_stages {
        memory.pending_stages = Some(stages);
        memory.pending = StageChanges::default();
    }
}

/// What the oven's state must show for a command to count as done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OvenExpect {
    /// Cooking or not.
    pub cooking: Option<bool>,
    /// The cook we started.
    pub cook_id: Option<String>,
    /// Display unit.
    pub display_unit: Option<TemperatureUnit>,
}

impl OvenExpect {
    /// True when the state shows every expected value.
    pub fn met_by(&self, state: &OvenState) -> bool {
        self.cooking.is_none_or(|c| state.cooking == c)
            && self
                .cook_id
                .as_ref()
                .is_none_or(|id| state.cook_id.as_ref() == Some(id))
            && self
                .display_unit
                .is_none_or(|u| state.display_unit == Some(u))
    }

    /// Names what never showed, for `not_confirmed`.
    pub fn describe_unmet(&self, state: Option<&OvenState>) -> String {
        let mut parts = Vec::new();
        if let Some(id) = &self.cook_id {
            if state.is_none_or(|s| s.cook_id.as_ref() != Some(id)) {
                parts.push(format!(
                    "the cook {id} (the oven drops a plan it does not accept without an error)"
                ));
            }
        } else if let Some(c) = self.cooking {
            if state.is_none_or(|s| s.cooking != c) {
                parts.push(format!("cooking {c}"));
            }
        }
        if let Some(u) = self.display_unit {
            if state.is_none_or(|s| s.display_unit != Some(u)) {
                parts.push(format!("display_unit {u}"));
            }
        }
        parts.join(", ")
    }
}

/// The narrow inputs of [`plan`].
pub(crate) struct Inputs<'a> {
    /// The oven's last state.
    pub(crate) state: &'a OvenState,
    /// What it remembers.
    pub(crate) memory: &'a OvenMemory,
    /// Its limits.
    pub(crate) limits: &'a OvenLimits,
    /// Its address.
    pub(crate) device: &'a DeviceRef,
    /// Fresh ids for the cook and its stages.
    pub(crate) ids: &'a mut dyn Ids,
}

/// Plans a command.
pub(crate) fn plan(changes: &OvenChanges, input: Inputs<'_>) -> Result<Plan<Oven>, CommandError> {
    let oven = OvenAddress::of(input.device).ok_or_else(|| {
        CommandError::invalid(format!(
            "this gateway does not know how to command an oven of type {}",
            input.device.device_type
        ))
    })?;
    let state = input.state;
    let mut plan: Plan<Oven> = Plan::echoing(OvenEcho {
        changes: changes.clone(),
        cook_id: None,
    });
    // Everything is validated before any step is planned.
    let start = match (changes.cook, state.cooking) {
        (Some(true), false) => Some(next_start(changes, input.memory)?),
        (cook, true) if cook != Some(false) && changes.changes_cook() => {
            Some(running_change(changes, state))
        }
        _ => None,
    };
    let resolved = match &start {
        Some(stages) => Some(resolve_all(stages, changes.food, input.limits)?),
        None => {
            check_pending(changes, input.memory, input.limits)?;
            None
        }
    };
    if let Some(unit) = changes.display_unit {
        if state.display_unit != Some(unit) {
            plan.steps.push_back(
                ApoCommand::SetTemperatureUnit {
                    oven: oven.clone(),
                    unit,
                }
                .into(),
            );
            plan.expect.display_unit = Some(unit);
        }
    }
    match (changes.cook, state.cooking, resolved) {
        (_, _, Some(stages)) => {
            let cook = spec(&stages, input.ids);
            plan.echo.cook_id = Some(cook.cook_id.clone());
            plan.echo.changes.stages = Some(echo_stages(&stages));
            plan.expect.cooking = Some(true);
            plan.expect.cook_id = Some(cook.cook_id.clone());
            plan.update.started = stages.first().map(|s| (s.mode, s.target));
            plan.steps.push_back(ApoCommand::start(oven, cook).into());
            if state.cooking {
                plan.warnings.push(RESTART_WARNING.into());
            } else {
                plan.update.consumes_pending = true;
            }
        }
        (Some(false), true, None) => {
            plan.steps
                .push_back(ApoCommand::Stop { oven: oven.clone() }.into());
            plan.expect.cooking = Some(false);
            store_pending(changes, &mut plan);
        }
        (Some(false), false, None) => {
            plan.warnings.push("the oven was not cooking".into());
            store_pending(changes, &mut plan);
        }
        (Some(true), true, None) => plan.warnings.push("the oven was already cooking".into()),
        (_, _, None) => store_pending(changes, &mut plan),
    }
    if state.probe_connected == Some(false) && asks_for_probe(changes, start.as_deref()) {
        plan.warnings.push(NO_PROBE_WARNING.into());
    }
    plan.pending = plan.steps.is_empty()
        && (plan.update.pending.is_some() || plan.update.pending_stages.is_some());
    Ok(plan)
}

/// True when the command gives a probe target, or the cook it starts has a stage that ends on
/// the probe (a pending one included).
fn asks_for_probe(changes: &OvenChanges, start: Option<&[StageChanges]>) -> bool {
    let ends_on_probe = |stage: &StageChanges| matches!(stage.probe_target, Some(Some(_)));
    ends_on_probe(&changes.stage)
        || changes.stages.iter().flatten().any(ends_on_probe)
        || start.into_iter().flatten().any(ends_on_probe)
}

/// A start from idle with the stages of [`next_start`], resolved and checked as a start is;
/// see `Family::start_from_idle`.
pub(crate) fn start_from_idle(
    changes: &OvenChanges,
    memory: &OvenMemory,
    limits: &OvenLimits,
) -> Result<StartPlan, CommandError> {
    let stages = resolve_all(&next_start(changes, memory)?, changes.food, limits)?;
    let mut command = Map::new();
    command.insert("cook".into(), Value::Bool(true));
    command.insert(
        "stages".into(),
        Value::Array(stages.iter().map(stage_command).collect()),
    );
    if let Some(food) = changes.food {
        command.insert("food".into(), Value::from(food.as_str()));
    }
    if let Some(unit) = changes.display_unit {
        command.insert("display_unit".into(), Value::from(unit.to_string()));
    }
    // Only a cook whose every stage ends on its timer has a length.
    let cook_s = stages
        .iter()
        .map(|s| (s.timer > 0 && s.probe.is_none()).then_some(s.timer))
        .sum::<Option<u32>>();
    Ok(StartPlan {
        command,
        target_c: stages.first().map_or(0.0, |s| s.target.celsius()),
        cook_s,
        food: changes.food,
    })
}

/// One resolved stage as the keys of a command (°C, the timer as text), read back the same.
fn stage_command(stage: &ResolvedStage) -> Value {
    let mut map = Map::new();
    if !stage.title.is_empty() {
        map.insert("title".into(), Value::from(stage.title.as_str()));
    }
    map.insert("temperature_mode".into(), Value::from(stage.mode.as_str()));
    map.insert(
        "target_temperature".into(),
        json_number(round2(stage.target.celsius())),
    );
    map.insert("steam".into(), Value::from(stage.steam));
    map.insert(
        "elements".into(),
        Value::from(element_names(stage.elements)),
    );
    map.insert("fan".into(), Value::from(stage.fan));
    if stage.timer > 0 {
        map.insert("timer".into(), Value::from(format!("{}s", stage.timer)));
        map.insert(
            "timer_start".into(),
            Value::from(timer_start_name(stage.timer_start)),
        );
    }
    if let Some(probe) = stage.probe {
        map.insert("probe_target".into(), json_number(round2(probe.celsius())));
    }
    Value::Object(map)
}

/// Idle changes are kept for the next start; nothing is sent for them.
fn store_pending(changes: &OvenChanges, plan: &mut Plan<Oven>) {
    if !changes.stage.is_empty() {
        plan.update.pending = Some(changes.stage.clone());
    }
    if let Some(stages) = &changes.stages {
        plan.update.pending_stages = Some(stages.clone());
    }
}

/// The stages of the next start: the command's stages; else its stage keys over the pending
/// ones; else the pending stages.
fn next_start(
    changes: &OvenChanges,
    memory: &OvenMemory,
) -> Result<Vec<StageChanges>, CommandError> {
    if let Some(stages) = &changes.stages {
        return Ok(stages.clone());
    }
    if changes.stage.is_empty() {
        if let Some(stages) = &memory.pending_stages {
            return Ok(stages.clone());
        }
    }
    let mut stage = memory.pending.overlaid(&changes.stage);
    if stage.target_temperature.is_none() {
        let mode = stage.temperature_mode.unwrap_or(TemperatureMode::Dry);
        stage.target_temperature = Some(memory.idle_target(mode));
    }
    Ok(vec![stage])
}

/// Pending values are checked as far as they can be: as the stage they would start, once a
/// target is known.
fn check_pending(
    changes: &OvenChanges,
    memory: &OvenMemory,
    limits: &OvenLimits,
) -> Result<(), CommandError> {
    if let Some(stages) = &changes.stages {
        resolve_all(stages, changes.food, limits)?;
    } else if !changes.stage.is_empty() {
        let merged = memory.pending.overlaid(&changes.stage);
        if merged.target_temperature.is_some() {
            resolve_all(&[merged], changes.food, limits)?;
        }
    }
    Ok(())
}

/// The running stage as the state shows it, with the command's changes; or the command's
/// stages.
fn running_change(changes: &OvenChanges, state: &OvenState) -> Vec<StageChanges> {
    if let Some(stages) = &changes.stages {
        return stages.clone();
    }
    // The stage's own elements: the live flags are all off while the door is open.
    let live = match (state.element_top, state.element_bottom, state.element_rear) {
        (Some(top), Some(bottom), Some(rear)) => Some(Elements { top, bottom, rear }),
        _ => None,
    };
    let elements = state.stage_elements.or(live);
    let timer = (state.timer_total > 0).then_some(if state.timer_running {
        state.timer_remaining
    } else {
        state.timer_total
    });
    let running = StageChanges {
        temperature_mode: state.temperature_mode,
        target_temperature: state.target_temperature.map(Temperature::from_celsius),
        // Whole percent by construction of the state (0–100 from the oven).
        steam: state
            .steam_target
            .map(|s| s.clamp(0.0, 100.0).round() as u8),
        elements,
        // The stage's own fan: the live one is off while the door is open.
        fan: state.stage_fan.or(state.fan_speed),
        timer,
        timer_start: state.timer_running.then_some(TimerStart::Immediately),
        probe_target: state
            .probe_target
            .map(|p| Some(Temperature::from_celsius(p))),
        title: state.stage_title.clone(),
    };
    vec![running.overlaid(&changes.stage)]
}

/// Fills a stage's unset keys with the defaults and checks it.
fn resolve(
    stage: &StageChanges,
    at: &str,
    food: Option<Food>,
    limits: &OvenLimits,
) -> Result<ResolvedStage, CommandError> {
    let target = stage.target_temperature.ok_or_else(|| {
        CommandError::invalid(format!(
            "no target temperature is known for this cook: give {at}target_temperature"
        ))
    })?;
    let resolved = ResolvedStage {
        mode: stage.temperature_mode.unwrap_or(TemperatureMode::Dry),
        target,
        steam: stage.steam.unwrap_or(0),
        elements: stage.elements.unwrap_or(Elements {
            top: false,
            bottom: false,
            rear: true,
        }),
        fan: stage.fan.unwrap_or(100),
        timer: stage.timer.unwrap_or(0),
        timer_start: stage.timer_start.unwrap_or(TimerStart::WhenPreheated),
        probe: stage.probe_target.flatten(),
        title: stage.title.clone().unwrap_or_default(),
    };
    limits.check(&resolved, at)?;
    if let Some(food) = food {
        if resolved.mode == TemperatureMode::Wet {
            let key = format!("{at}target_temperature");
            check_food_safety(food, &key, target, resolved.timer)?;
        }
        if let Some(probe) = resolved.probe {
            // The stage ends when the probe reaches its target, so nothing is held below it:
            // only the food's safe minimum applies (a nominal 1 s stands for "no holding").
            check_food_safety(food, &format!("{at}probe_target"), probe, 1)?;
        }
    }
    Ok(resolved)
}

fn resolve_all(
    stages: &[StageChanges],
    food: Option<Food>,
    limits: &OvenLimits,
) -> Result<Vec<ResolvedStage>, CommandError> {
    let many = stages.len() > 1;
    stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let at = if many {
                format!("stages[{}].", i + 1)
            } else {
                String::new()
            };
            resolve(stage, &at, food, limits)
        })
        .collect()
}

fn setpoint(t: Temperature) -> Setpoint {
    // The unit the user gave stays exact; the other is rounded to hundredths as the app does.
    let round = crate::command::round2;
    match t.unit {
        TemperatureUnit::C => Setpoint {
            celsius: t.value,
            fahrenheit: round(TemperatureUnit::F.from_celsius(t.value)),
        },
        TemperatureUnit::F => Setpoint {
            celsius: round(t.celsius()),
            fahrenheit: t.value,
        },
    }
}

/// The cook to send, with fresh ids.
fn spec(stages: &[ResolvedStage], ids: &mut dyn Ids) -> CookSpec {
    CookSpec {
        cook_id: ids.uuid(),
        stages: stages
            .iter()
            .map(|s| StageSpec {
                id: ids.uuid(),
                title: s.title.clone(),
                mode: s.mode.bulb(),
                target: setpoint(s.target),
                steam: s.steam,
                elements: s.elements,
                fan: s.fan,
                timer: (s.timer > 0).then_some(StageTimer {
                    seconds: s.timer,
                    start: s.timer_start,
                }),
                probe: s.probe.map(setpoint),
            })
            .collect(),
    }
}

/// The stages a start used, as the response echoes them.
fn echo_stages(stages: &[ResolvedStage]) -> Vec<StageChanges> {
    stages
        .iter()
        .map(|s| StageChanges {
            temperature_mode: Some(s.mode),
            target_temperature: Some(s.target),
            steam: Some(s.steam),
            elements: Some(s.elements),
            fan: Some(s.fan),
            timer: Some(s.timer),
            timer_start: (s.timer > 0).then_some(s.timer_start),
            probe_target: s.probe.map(Some),
            title: (!s.title.is_empty()).then(|| s.title.clone()),
        })
        .collect()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
