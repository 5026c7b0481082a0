//! Planning a validated command: which Anova commands to send, in which order, and what the
//! cooker's state must show before we answer `ok`.
//!
//! The rules (`interface.md` §3.2): while idle, a target or timer becomes the *pending* value the
//! next start uses, and nothing is sent; a start uses the command's values, else the pending
//! ones, else the cooker's last ones; while cooking, a change goes out as
//! `CMD_APC_SET_TARGET_TEMP` / `CMD_APC_SET_TIMER`, and where the cloud refuses those (a
//! Personal Access Token may only start, stop and set the unit) the change is made by starting
//! the cook again with the new target and the remaining time.

use super::command::{round2, Changes, CommandError, ErrorCode, Temperature};
use super::cooker::Cooker;
use super::validate::{check_food_safety, check_target, check_timer, Limits};
use super::Ticket;
use crate::anova::model::CookerState;
use crate::anova::protocol::{ApcCommand, CommandName, CookerRef, TemperatureUnit};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::time::Instant;

/// How close the reported target must be to what we asked for (the cooker keeps hundredths).
const TARGET_TOLERANCE_C: f64 = 0.05;

/// A parsed command waiting for its cooker's previous command to finish.
#[derive(Debug)]
pub struct Queued {
    /// The id echoed in the response.
    pub id: String,
    /// `id` or `transaction`.
    pub id_key: &'static str,
    /// What to do.
    pub changes: Changes,
}

/// What the cooker's state must show for a command to count as done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// Cooking or not.
    pub cooking: Option<bool>,
    /// Target, °C.
    pub target_c: Option<f64>,
    /// Timer length, seconds.
    pub timer_total: Option<u32>,
    /// Display unit.
    pub display_unit: Option<TemperatureUnit>,
}

impl Expect {
    /// True when the state shows every expected value.
    pub fn met_by(&self, state: &CookerState) -> bool {
        self.cooking.is_none_or(|c| state.cooking == c)
            && self.target_c.is_none_or(|t| {
                state
                    .target_temperature
                    .is_some_and(|s| (s - t).abs() <= TARGET_TOLERANCE_C)
            })
            && self.timer_total.is_none_or(|t| state.timer_total == t)
            && self
                .display_unit
                .is_none_or(|u| state.display_unit == Some(u))
    }

    /// Names what never showed, for `not_confirmed`.
    pub fn describe_unmet(&self, state: Option<&CookerState>) -> String {
        let mut parts = Vec::new();
        let met = |f: &dyn Fn(&CookerState) -> bool| state.is_some_and(f);
        if let Some(c) = self.cooking {
            if !met(&|s| s.cooking == c) {
                parts.push(format!("cooking {c}"));
            }
        }
        if let Some(t) = self.target_c {
            let probe = Expect {
                target_c: Some(t),
                ..Expect::default()
            };
            if !met(&|s| probe.met_by(s)) {
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

/// What a command will do.
#[derive(Debug, Default)]
pub struct Plan {
    /// Anova commands, sent one after the other.
    pub steps: VecDeque<ApcCommand>,
    /// The state that confirms them.
    pub expect: Expect,
    /// New pending target for the next start (idle changes).
    pub pending_target: Option<Temperature>,
    /// New pending timer for the next start (idle changes).
    pub pending_timer: Option<u32>,
    /// The start uses the pending values: clear them once it is confirmed.
    pub consumes_pending: bool,
    /// Said in the response.
    pub warnings: Vec<String>,
}

impl Plan {
    /// True when nothing goes to the cloud.
    pub fn is_local(&self) -> bool {
        self.steps.is_empty()
    }

    /// True when the command only stored values for the next start.
    pub fn is_pending(&self) -> bool {
        self.pending_target.is_some() || self.pending_timer.is_some()
    }
}

/// The command being executed for one cooker.
#[derive(Debug)]
pub struct Active {
    /// The id echoed in the response.
    pub id: String,
    /// `id` or `transaction`.
    pub id_key: &'static str,
    /// What was asked.
    pub changes: Changes,
    /// The rest of the plan.
    pub steps: VecDeque<ApcCommand>,
    /// The Anova command in flight.
    pub waiting: Option<(Ticket, CommandName)>,
    /// What confirms it.
    pub expect: Expect,
    /// Set once every step was acknowledged: answer `not_confirmed` after this.
    pub confirm_by: Option<Instant>,
    /// Clear the pending values once confirmed.
    pub consumes_pending: bool,
    /// Pending values this command stores once it succeeds (a stop with a new target).
    pub pending_target: Option<Temperature>,
    /// See `pending_target`.
    pub pending_timer: Option<u32>,
    /// Said in the response.
    pub warnings: Vec<String>,
}

fn cooker_ref(cooker: &Cooker) -> CookerRef {
    CookerRef {
        cooker_id: cooker.info.cooker_id.clone(),
        device_type: cooker.info.device_type.clone(),
    }
}

/// The time the running cook still has on its timer (0 = none or done).
fn remaining(state: &CookerState) -> u32 {
    state.timer_remaining
}

/// Plans a validated-as-text command against a cooker's current state. Every range and safety
/// rule is checked here, before anything is sent.
pub fn plan(changes: &Changes, cooker: &Cooker, limits: &Limits) -> Result<Plan, CommandError> {
    let Some(state) = cooker.state.as_ref() else {
        return Err(CommandError::new(
            ErrorCode::DeviceOffline,
            "the cooker has not reported its state yet",
        ));
    };
    if let Some(target) = changes.target_temperature {
        check_target(target, limits)?;
    }
    if let Some(timer) = changes.timer {
        check_timer(timer, limits)?;
    }

    let mut plan = Plan::default();
    if let Some(unit) = changes.display_unit {
        if state.display_unit != Some(unit) {
            plan.steps.push_back(ApcCommand::SetTemperatureUnit {
                cooker: cooker_ref(cooker),
                unit,
            });
            plan.expect.display_unit = Some(unit);
        }
    }

    match (changes.cook, state.cooking) {
        (Some(true), false) => plan_start(changes, cooker, state, limits, &mut plan)?,
        (Some(false), true) => {
            plan.steps.push_back(ApcCommand::Stop {
                cooker: cooker_ref(cooker),
            });
            plan.expect.cooking = Some(false);
            plan_pending(changes, cooker, state, &mut plan)?;
        }
        (Some(false), false) => {
            plan.warnings.push("the cooker was not cooking".into());
            plan_pending(changes, cooker, state, &mut plan)?;
        }
        (cook, true) => {
            if cook == Some(true) && changes.target_temperature.is_none() && changes.timer.is_none()
            {
                plan.warnings.push("the cooker was already cooking".into());
            }
            plan_running_change(changes, cooker, state, &mut plan)?;
        }
        (None, false) => plan_pending(changes, cooker, state, &mut plan)?,
    }
    Ok(plan)
}

/// What the next start uses: the command's values, else the pending ones, else the cooker's
/// last ones (the target may be unknown).
fn next_start(
    changes: &Changes,
    cooker: &Cooker,
    state: &CookerState,
) -> (Option<Temperature>, u32) {
    let target = changes
        .target_temperature
        .or(cooker.pending_target)
        .or(state.target_temperature.map(Temperature::from_celsius));
    let timer = changes
        .timer
        .or(cooker.pending_timer)
        .unwrap_or(state.timer_total);
    (target, timer)
}

/// A start with the values of [`next_start`].
fn plan_start(
    changes: &Changes,
    cooker: &Cooker,
    state: &CookerState,
    limits: &Limits,
    plan: &mut Plan,
) -> Result<(), CommandError> {
    let (target, timer) = next_start(changes, cooker, state);
    let target = target.ok_or_else(|| {
        CommandError::new(
            ErrorCode::InvalidValue,
            "no target temperature is known for this cooker: give target_temperature",
        )
    })?;
    // The pending or last target may predate a lower safety ceiling.
    check_target(target, limits)?;
    check_timer(timer, limits)?;
    check_food(changes, Some(target), timer)?;
    plan.steps.push_back(ApcCommand::Start {
        cooker: cooker_ref(cooker),
        target_temperature: target.value,
        unit: target.unit,
        timer: Some(timer),
    });
    plan.expect.cooking = Some(true);
    plan.expect.target_c = Some(target.celsius());
    plan.consumes_pending = true;
    Ok(())
}

/// Idle changes are kept for the next start; nothing is sent.
fn plan_pending(
    changes: &Changes,
    cooker: &Cooker,
    state: &CookerState,
    plan: &mut Plan,
) -> Result<(), CommandError> {
    if changes.target_temperature.is_none() && changes.timer.is_none() {
        return Ok(());
    }
    let (target, timer) = next_start(changes, cooker, state);
    check_food(changes, target, timer)?;
    plan.pending_target = changes.target_temperature;
    plan.pending_timer = changes.timer;
    Ok(())
}

/// Changes to a running cook: SET commands, or a restart where the cloud refuses them.
fn plan_running_change(
    changes: &Changes,
    cooker: &Cooker,
    state: &CookerState,
    plan: &mut Plan,
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
        changes.timer.unwrap_or_else(|| remaining(state)),
    )?;
    let refused = (changes.target_temperature.is_some() && cooker.refusals.set_target)
        || (changes.timer.is_some() && cooker.refusals.set_timer);
    if refused {
        let (start, expect) = restart(changes, cooker, state)?;
        plan.steps.push_back(start);
        merge_expect(&mut plan.expect, expect);
        plan.warnings.push(restart_warning());
        return Ok(());
    }
    if let Some(target) = changes.target_temperature {
        plan.steps.push_back(ApcCommand::SetTargetTemp {
            cooker: cooker_ref(cooker),
            target_temperature: target.value,
            unit: target.unit,
        });
        plan.expect.target_c = Some(target.celsius());
    }
    if let Some(timer) = changes.timer {
        plan.steps.push_back(ApcCommand::SetTimer {
            cooker: cooker_ref(cooker),
            timer,
        });
        plan.expect.timer_total = Some(timer);
    }
    Ok(())
}

/// The food-safety rules, when the command names a food, for a cook at `target` (if known)
/// with `timer` seconds.
fn check_food(
    changes: &Changes,
    target: Option<Temperature>,
    timer: u32,
) -> Result<(), CommandError> {
    match (changes.food, target) {
        (Some(food), Some(target)) => check_food_safety(food, target, timer),
        _ => Ok(()),
    }
}

fn merge_expect(into: &mut Expect, from: Expect) {
    into.cooking = from.cooking.or(into.cooking);
    into.target_c = from.target_c.or(into.target_c);
    into.timer_total = from.timer_total.or(into.timer_total);
    into.display_unit = from.display_unit.or(into.display_unit);
}

/// Said when a change was made by restarting the cook.
pub fn restart_warning() -> String {
    "the Anova cloud does not let this token change a running cook, so the cook was started again with the new values and the remaining time".into()
}

/// The fallback: start the cook again with the new target (else the current one) and the new
/// timer (else the time remaining).
pub fn restart(
    changes: &Changes,
    cooker: &Cooker,
    state: &CookerState,
) -> Result<(ApcCommand, Expect), CommandError> {
    let target = changes
        .target_temperature
        .or(state.target_temperature.map(Temperature::from_celsius))
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::Rejected,
                "the cooker does not report its target, so the cook cannot be restarted",
            )
        })?;
    let timer = changes.timer.unwrap_or_else(|| remaining(state));
    let start = ApcCommand::Start {
        cooker: cooker_ref(cooker),
        target_temperature: target.value,
        unit: target.unit,
        timer: Some(timer),
    };
    let expect = Expect {
        cooking: Some(true),
        target_c: Some(target.celsius()),
        timer_total: Some(timer),
        display_unit: None,
    };
    Ok((start, expect))
}

/// How a command ended, for its response.
#[derive(Debug, Clone, Copy)]
pub enum Reply<'a> {
    /// Done: the command as understood (°C, seconds), whether it only stored pending values,
    /// and anything worth saying.
    Ok {
        /// The normalised command.
        echo: &'a Map<String, Value>,
        /// Stored for the next start; nothing was sent.
        pending: bool,
        /// Said in the response.
        warnings: &'a [String],
    },
    /// Failed.
    Err(&'a CommandError),
}

/// Builds a response payload (`interface.md` §3.3).
pub fn response(id_key: &str, id: &str, reply: Reply<'_>) -> String {
    let mut map = Map::new();
    map.insert(id_key.to_owned(), Value::from(id));
    match reply {
        Reply::Ok {
            echo,
            pending,
            warnings,
        } => {
            map.insert("status".into(), Value::from("ok"));
            map.insert("command".into(), Value::Object(echo.clone()));
            if pending {
                map.insert("pending".into(), Value::Bool(true));
            }
            if !warnings.is_empty() {
                map.insert("warnings".into(), Value::from(warnings.to_vec()));
            }
        }
        Reply::Err(error) => {
            map.insert("status".into(), Value::from("error"));
            let mut body = Map::new();
            body.insert(
                "code".into(),
                serde_json::to_value(error.code).unwrap_or(Value::Null),
            );
            body.insert("message".into(), Value::from(error.message.as_str()));
            if let Some(safe) = &error.safe {
                body.insert("safe".into(), Value::Object((**safe).clone()));
            }
            map.insert("error".into(), Value::Object(body));
        }
    }
    Value::Object(map).to_string()
}
