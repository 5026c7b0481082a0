//! Planning a cooker command: which Anova commands to send, in which order, what the state must
//! show before we answer `ok`, and what the cooker remembers for its next start.
//!
//! The rules (`docs/interface.md` §3.2): while idle, a target or timer becomes the *pending* value
//! the next start uses, and nothing is sent; a start uses the command's values, else the
//! pending ones, else the cooker's last ones; while cooking, a change goes out as
//! `CMD_APC_SET_TARGET_TEMP` / `CMD_APC_SET_TIMER`, and where the cloud refuses those (a
//! Personal Access Token may only start, stop and set the unit) the change is made by starting
//! the cook again with the new target and the remaining time (`recover`).

use super::command::CookerChanges;
use super::limits::CookerLimits;
use super::SousVide;
use crate::appliance::family::{Plan, Running, StartPlan};
use crate::command::{
    check_food_safety, json_number, round2, CommandError, ErrorCode, Temperature,
};
use crate::sous_vide::state::CookerState;
use crate::sous_vide::wire::{ApcCommand, CommandName, DeviceRef};
use crate::wire::CloudCommand;
use crate::wire::TemperatureUnit;
use serde_json::{Map, Value};

/// How close the reported target must be to what we asked for (the cooker keeps hundredths).
const TARGET_TOLERANCE_C: f64 = 0.05;

/// Said when a change was made by restarting the cook.
pub const RESTART_WARNING: &str = "the Anova cloud does not let this token change a running cook, so the cook was started again with the new values and the remaining time";

/// Commands the cloud refused for this cooker once; later changes go straight to the restart
/// instead of a round-trip that is known to fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refusals {
    /// `CMD_APC_SET_TARGET_TEMP` was answered with an error.
    pub set_target: bool,
    /// `CMD_APC_SET_TIMER` was answered with an error.
    pub set_timer: bool,
}

/// What a cooker remembers between commands.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CookerMemory {
    /// Target for the next start, set while idle.
    pub pending_target: Option<Temperature>,
    /// Timer for the next start, set while idle (seconds).
    pub pending_timer: Option<u32>,
    /// Commands the cloud refused.
    pub refusals: Refusals,
}

/// A change to [`CookerMemory`], applied when a command succeeds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CookerUpdate {
    /// A start used the pending values: clear them.
    pub consumes_pending: bool,
    /// New pending target.
    pub pending_target: Option<Temperature>,
    /// New pending timer.
    pub pending_timer: Option<u32>,
}

impl CookerUpdate {
    /// True when it stores values for the next start.
    pub fn stores_pending(&self) -> bool {
        self.pending_target.is_some() || self.pending_timer.is_some()
    }
}

/// Applies an update.
pub fn remember(memory: &mut CookerMemory, update: CookerUpdate) {
    if update.consumes_pending {
        memory.pending_target = None;
        memory.pending_timer = None;
    }
    if let Some(target) = update.pending_target {
        memory.pending_target = Some(target);
    }
    if let Some(timer) = update.pending_timer {
        memory.pending_timer = Some(timer);
    }
}

/// What the cooker's state must show for a command to count as done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CookerExpect {
    /// Cooking or not.
    pub cooking: Option<bool>,
    /// Target, °C.
    pub target_c: Option<f64>,
    /// Timer length, seconds.
    pub timer_total: Option<u32>,
    /// Display unit.
    pub display_unit: Option<TemperatureUnit>,
}

impl CookerExpect {
    fn target_met(target: f64, state: &CookerState) -> bool {
        state
            .target_temperature
            .is_some_and(|s| (s - target).abs() <= TARGET_TOLERANCE_C)
    }

    /// True when the state shows every expected value.
    pub fn met_by(&self, state: &CookerState) -> bool {
        self.cooking.is_none_or(|c| state.cooking == c)
            && self.target_c.is_none_or(|t| Self::target_met(t, state))
            && self.timer_total.is_none_or(|t| state.timer_total == t)
            && self
                .display_unit
                .is_none_or(|u| state.display_unit == Some(u))
    }

    /// Names what never showed, for `not_confirmed`.
    pub fn describe_unmet(&self, state: Option<&CookerState>) -> String {
        let met = |f: &dyn Fn(&CookerState) -> bool| state.is_some_and(f);
        let mut parts = Vec::new();
        if let Some(c) = self.cooking {
            if !met(&|s| s.cooking == c) {
                parts.push(format!("cooking {c}"));
            }
        }
        if let Some(t) = self.target_c {
            if !met(&|s| Self::target_met(t, s)) {
                parts.push(format!("target_temperature {} °C", round2(t)));
            }
        }
        if let Some(t) = self.timer_total {
            if !met(&|s| s.timer_total == t) {
                parts.push(format!("timer {t} s"));
            }
        }
        if let Some(u) = self.display_unit {
            if !met(&|s| s.display_unit == Some(u)) {
                parts.push(format!("display_unit {u}"));
            }
        }
        parts.join(", ")
    }
}

/// The ranges of the values a command gives (model and configured ceiling): they do not
/// depend on the cooker's state, so they are checked on arrival too.
pub fn check(changes: &CookerChanges, limits: &CookerLimits) -> Result<(), CommandError> {
    if let Some(target) = changes.target_temperature {
        limits.check_target(target)?;
    }
    if let Some(timer) = changes.timer {
        limits.check_timer(timer)?;
    }
    Ok(())
}

/// Plans a command against a cooker's last state and memory.
pub(crate) fn plan(
    changes: &CookerChanges,
    state: &CookerState,
    memory: &CookerMemory,
    limits: &CookerLimits,
    cooker: &DeviceRef,
) -> Result<Plan<SousVide>, CommandError> {
    check(changes, limits)?;
    let mut plan: Plan<SousVide> = Plan::echoing(changes.clone());
    if let Some(unit) = changes.display_unit {
        if state.display_unit != Some(unit) {
            plan.steps.push_back(
                ApcCommand::SetTemperatureUnit {
                    cooker: cooker.clone(),
                    unit,
                }
                .into(),
            );
            plan.expect.display_unit = Some(unit);
        }
    }
    match (changes.cook, state.cooking) {
        (Some(true), false) => plan_start(changes, state, memory, limits, cooker, &mut plan)?,
        (Some(false), true) => {
            plan.steps.push_back(
                ApcCommand::Stop {
                    cooker: cooker.clone(),
                }
                .into(),
            );
            plan.expect.cooking = Some(false);
            plan_pending(changes, state, memory, &mut plan)?;
        }
        (Some(false), false) => {
            plan.warnings.push("the cooker was not cooking".into());
            plan_pending(changes, state, memory, &mut plan)?;
        }
        (cook, true) => {
            if cook == Some(true) && changes.target_temperature.is_none() && changes.timer.is_none()
            {
                plan.warnings.push("the cooker was already cooking".into());
            }
            plan_running_change(changes, state, memory, cooker, &mut plan)?;
        }
        (None, false) => plan_pending(changes, state, memory, &mut plan)?,
    }
    plan.pending = plan.update.stores_pending();
    Ok(plan)
}

/// What the next start uses: the command's values, else the pending ones, else the cooker's
/// last ones (the target may be unknown).
fn next_start(
    changes: &CookerChanges,
    state: &CookerState,
    memory: &CookerMemory,
) -> (Option<Temperature>, u32) {
    let target = changes
        .target_temperature
        .or(memory.pending_target)
        .or(state.target_temperature.map(Temperature::from_celsius));
    let timer = changes
        .timer
        .or(memory.pending_timer)
        .unwrap_or(state.timer_total);
    (target, timer)
}

/// A start from idle with the values of [`next_start`] (no state: nothing reported yet),
/// checked as [`plan_start`] checks it; see `Family::start_from_idle`.
pub(crate) fn start_from_idle(
    changes: &CookerChanges,
    memory: &CookerMemory,
    state: Option<&CookerState>,
    limits: &CookerLimits,
) -> Result<StartPlan, CommandError> {
    let target = changes
        .target_temperature
        .or(memory.pending_target)
        .or(state
            .and_then(|s| s.target_temperature)
            .map(Temperature::from_celsius))
        .ok_or_else(|| {
            CommandError::invalid("no target temperature is known: give target_temperature")
        })?;
    let timer = changes
        .timer
        .or(memory.pending_timer)
        .unwrap_or(state.map_or(0, |s| s.timer_total));
    limits.check_target(target)?;
    limits.check_timer(timer)?;
    check_food(changes, Some(target), timer)?;
    let mut command = Map::new();
    command.insert("cook".into(), Value::Bool(true));
    command.insert(
        "target_temperature".into(),
        json_number(round2(target.celsius())),
    );
    command.insert("timer".into(), Value::from(format!("{timer}s")));
    if let Some(food) = changes.food {
        command.insert("food".into(), Value::from(food.as_str()));
    }
    if let Some(unit) = changes.display_unit {
        command.insert("display_unit".into(), Value::from(unit.to_string()));
    }
    Ok(StartPlan {
        command,
        target_c: target.celsius(),
        cook_s: (timer > 0).then_some(timer),
        food: changes.food,
    })
}

/// A start with the values of [`next_start`]; the response echoes the values it used.
fn plan_start(
    changes: &CookerChanges,
    state: &CookerState,
    memory: &CookerMemory,
    limits: &CookerLimits,
    cooker: &DeviceRef,
    plan: &mut Plan<SousVide>,
) -> Result<(), CommandError> {
    let (target, timer) = next_start(changes, state, memory);
    let target = target.ok_or_else(|| {
        CommandError::invalid(
            "no target temperature is known for this cooker: give target_temperature",
        )
    })?;
    // The pending or last target may predate a lower safety ceiling.
    limits.check_target(target)?;
    limits.check_timer(timer)?;
    check_food(changes, Some(target), timer)?;
    plan.steps.push_back(
        ApcCommand::Start {
            cooker: cooker.clone(),
            target_temperature: target.value,
            unit: target.unit,
            timer: Some(timer),
        }
        .into(),
    );
    plan.expect.cooking = Some(true);
    plan.expect.target_c = Some(target.celsius());
    plan.update.consumes_pending = true;
    plan.echo.target_temperature = Some(target);
    plan.echo.timer = Some(timer);
    Ok(())
}

/// Idle changes are kept for the next start; nothing is sent for them.
fn plan_pending(
    changes: &CookerChanges,
    state: &CookerState,
    memory: &CookerMemory,
    plan: &mut Plan<SousVide>,
) -> Result<(), CommandError> {
    if changes.target_temperature.is_none() && changes.timer.is_none() {
        return Ok(());
    }
    let (target, timer) = next_start(changes, state, memory);
    check_food(changes, target, timer)?;
    plan.update.pending_target = changes.target_temperature;
    plan.update.pending_timer = changes.timer;
    Ok(())
}

/// Changes to a running cook: SET commands, or a restart where the cloud refuses them.
fn plan_running_change(
    changes: &CookerChanges,
    state: &CookerState,
    memory: &CookerMemory,
    cooker: &DeviceRef,
    plan: &mut Plan<SousVide>,
) -> Result<(), CommandError> {
    if changes.target_temperature.is_none() && changes.timer.is_none() {
        return Ok(());
    }
    // The rest of the running cook with these values.
    let target = changes
        .target_temperature
        .or(state.target_temperature.map(Temperature::from_celsius));
    check_food(
        changes,
        target,
        changes.timer.unwrap_or(state.timer_remaining),
    )?;
    let refused = (changes.target_temperature.is_some() && memory.refusals.set_target)
        || (changes.timer.is_some() && memory.refusals.set_timer);
    if refused {
        let (start, expect) = restart(changes, state, cooker)?;
        plan.steps.push_back(start);
        plan.expect = CookerExpect {
            display_unit: plan.expect.display_unit,
            ..expect
        };
        plan.warnings.push(RESTART_WARNING.into());
        return Ok(());
    }
    if let Some(target) = changes.target_temperature {
        plan.steps.push_back(
            ApcCommand::SetTargetTemp {
                cooker: cooker.clone(),
                target_temperature: target.value,
                unit: target.unit,
            }
            .into(),
        );
        plan.expect.target_c = Some(target.celsius());
    }
    if let Some(timer) = changes.timer {
        plan.steps.push_back(
            ApcCommand::SetTimer {
                cooker: cooker.clone(),
                timer,
            }
            .into(),
        );
        plan.expect.timer_total = Some(timer);
    }
    Ok(())
}

/// The food-safety rules, when the command names a food, for a cook at `target` (if known)
/// with `timer` seconds.
fn check_food(
    changes: &CookerChanges,
    target: Option<Temperature>,
    timer: u32,
) -> Result<(), CommandError> {
    match (changes.food, target) {
        (Some(food), Some(target)) => check_food_safety(food, "target_temperature", target, timer),
        _ => Ok(()),
    }
}

/// The fallback: start the cook again with the new target (else the current one) and the new
/// timer (else the time remaining).
fn restart(
    changes: &CookerChanges,
    state: &CookerState,
    cooker: &DeviceRef,
) -> Result<(CloudCommand, CookerExpect), CommandError> {
    let target = changes
        .target_temperature
        .or(state.target_temperature.map(Temperature::from_celsius))
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::Rejected,
                "the cooker does not report its target, so the cook cannot be restarted",
            )
        })?;
    let timer = changes.timer.unwrap_or(state.timer_remaining);
    let start = ApcCommand::Start {
        cooker: cooker.clone(),
        target_temperature: target.value,
        unit: target.unit,
        timer: Some(timer),
    };
    let expect = CookerExpect {
        cooking: Some(true),
        target_c: Some(target.celsius()),
        timer_total: Some(timer),
        display_unit: None,
    };
    Ok((start.into(), expect))
}

/// The cloud refused a step. A refused `SET_TARGET_TEMP`/`SET_TIMER` during a cook is
/// remembered (later changes go straight to a restart) and the remaining SET steps are
/// replaced by a START with the new values and the remaining time. Anything else simply fails.
pub(crate) fn recover(
    refused: &CloudCommand,
    text: &str,
    rework: Running<'_, SousVide>,
) -> Option<Result<(), CommandError>> {
    let (changes, state, cooker) = (rework.changes, rework.state, rework.device);
    let CloudCommand::Cooker(refused) = refused else {
        return None;
    };
    let name = refused.name();
    if !state.cooking || !matches!(name, CommandName::SetTargetTemp | CommandName::SetTimer) {
        return None;
    }
    match name {
        CommandName::SetTargetTemp => rework.memory.refusals.set_target = true,
        _ => rework.memory.refusals.set_timer = true,
    }
    tracing::info!(
        cooker = %cooker.cloud_id,
        "the cloud refused {name} ({text}); restarting the cook instead"
    );
    let (start, restart_expect) = match restart(changes, state, cooker) {
        Ok(found) => found,
        Err(error) => return Some(Err(error)),
    };
    rework.steps.retain(|s| {
        !matches!(
            s,
            CloudCommand::Cooker(ApcCommand::SetTargetTemp { .. } | ApcCommand::SetTimer { .. })
        )
    });
    rework.steps.push_back(start);
    *rework.expect = CookerExpect {
        display_unit: rework.expect.display_unit,
        ..restart_expect
    };
    rework.warnings.push(RESTART_WARNING.into());
    Some(Ok(()))
}
