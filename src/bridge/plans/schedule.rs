//! Making and cancelling plans (`docs/interface.md` §8.2): a command with `start_at` or `ready_by`
//! is checked completely at once (the family checked it as a start; here its times, its
//! come-up estimate and its food safety) and answered at once with the `schedule` object.
//! One plan waits per device; a new one replaces it.

use super::pending::{Estimate, PendingPlan, Stage, LATE_GRACE};
use super::safety::{self, Watch, BUDGET_S};
use super::when;
use crate::appliance::family::Ids;
use crate::appliance::family::StartPlan;
use crate::appliance::record::Record;
use crate::appliance::Kind;
use crate::bridge::io::Now;
use crate::bridge::machine::{rfc3339, Caller, PlanAsk};
use crate::bridge::Bridge;
use crate::command::{
    show_duration, CommandError, ErrorCode, Food, Outcome, PlanKeys, Response, When,
};
use crate::ids::TopicId;
use serde_json::{json, Value};
use time::Duration;

/// The furthest ahead a plan may start.
pub(crate) const MAX_AHEAD: Duration = Duration::days(7);

/// Past cooks whose target is within this of the plan's count as similar for its estimate, °C.
const SIMILAR_C: f64 = 10.0;

/// Fewer similar past cooks than this and the default rate is used.
const MIN_SIMILAR: usize = 2;

impl Bridge {
    /// A device's command made or cancelled a plan, or stopped a cook (which cancels it).
    pub(crate) fn on_plan_ask(&mut self, now: Now, device: &TopicId, ask: PlanAsk) {
        match ask {
            PlanAsk::Make {
                caller,
                start,
                keys,
                water_c,
            } => {
                let made = self.make_plan(now, device, &caller, start, &keys, water_c);
                let outcome = match made {
                    Ok((schedule, command, warnings)) => Outcome::Planned {
                        command,
                        schedule,
                        warnings,
                    },
                    Err(error) => Outcome::Failed(error),
                };
                self.answer_plan_command(now, device, caller, outcome);
            }
            PlanAsk::Cancel { caller } => {
                let outcome = self.cancel_by_command(now, device);
                self.answer_plan_command(now, device, caller, outcome);
            }
            PlanAsk::Stopping => {
                if self
                    .plans
                    .get(device)
                    .is_some_and(|p| p.stage != Stage::Starting)
                {
                    self.end_plan(now, device, "cancelled", "cook: false");
                }
            }
        }
        self.look_at_plan(now, device);
    }

    /// The one response to a command that made or cancelled a plan.
    fn answer_plan_command(
        &mut self,
        now: Now,
        device: &TopicId,
        caller: Caller,
        outcome: Outcome,
    ) {
        if let Outcome::Failed(error) = &outcome {
            tracing::info!(%device, id = %caller.id.text(), code = %error.code, "plan refused: {}", error.message);
        }
        let response = Response {
            id: caller.id,
            outcome,
        };
        let took = now.instant.saturating_duration_since(caller.arrived);
        self.out
            .respond(caller.origin, self.topics.response(device), response, took);
    }

    fn cancel_by_command(&mut self, now: Now, device: &TopicId) -> Outcome {
        let echo = json!({"schedule": "cancel"});
        match self
            .plans
            .get(device)
            .map(|p| (p.stage, p.schedule_id.clone()))
        {
            None => Outcome::Done {
                command: echo,
                pending: false,
                warnings: vec!["no plan was pending for this device".to_owned()],
            },
            Some((Stage::Starting, id)) => Outcome::Failed(CommandError::invalid(format!(
                "the plan {id} is starting right now and can no longer be cancelled; send \
                 cook: false to stop the cook"
            ))),
            Some((_, id)) => {
                self.end_plan(now, device, "cancelled", "schedule: cancel");
                Outcome::Done {
                    command: json!({"schedule": "cancel", "schedule_id": id}),
                    pending: false,
                    warnings: Vec::new(),
                }
            }
        }
    }

    /// Checks and files a plan; its `schedule` object, the command it will run and the
    /// response's warnings.
    fn make_plan(
        &mut self,
        now: Now,
        device: &TopicId,
        caller: &Caller,
        start: StartPlan,
        keys: &PlanKeys,
        water_c: Option<f64>,
    ) -> Result<(Value, Value, Vec<String>), CommandError> {
        let kind = self.devices.get(device).map_or(Kind::DEFAULT, |d| d.kind());
        let wall = now.wall;
        let tz = self.config.plans.timezone.clone();
        let resolve = |key: &str, w: When| {
            when::resolve(w, wall, &tz)
                .ok_or_else(|| CommandError::invalid(format!("{key}: the time cannot be resolved")))
        };
        let (rate, basis, cooks) = self.estimate(device, kind, start.target_c);
        let from_c = water_c.unwrap_or(match kind {
            Kind::Cooker => 20.0,
            Kind::Oven => 20.0,
        });
        let come_up = safety::come_up_s(from_c, start.target_c, rate);
        let mut ready_by = None;
        let start_at = match (keys.start_at, keys.ready_by) {
            (Some(at), _) => {
                let at = resolve("start_at", at)?;
                if at <= wall {
                    return Err(CommandError::invalid(format!(
                        "start_at {} has passed (it is {} now); give a later time, or leave \
                         start_at out to start now",
                        rfc3339(at),
                        rfc3339(wall)
                    )));
                }
                at
            }
            (None, Some(by)) => {
                let by = resolve("ready_by", by)?;
                let Some(cook_s) = start.cook_s else {
                    return Err(CommandError::invalid(
                        "ready_by needs a cook with a timer (a stage ending on the probe has no \
                         known end): give timer, or use start_at",
                    ));
                };
                ready_by = Some(by);
                let at = by - Duration::seconds(i64::from(cook_s) + come_up);
                if at <= wall {
                    let earliest = wall + Duration::seconds(i64::from(cook_s) + come_up);
                    return Err(CommandError::new(
                        ErrorCode::OutOfRange,
                        format!(
                            "ready_by {} is too soon: the cook needs {} (its timer {} and about \
                             {} to reach {} °C); the earliest it can be ready is {} ({} local); \
                             start it now instead",
                            rfc3339(by),
                            show_duration((i64::from(cook_s) + come_up) as u64),
                            show_duration(u64::from(cook_s)),
                            show_duration(come_up as u64),
                            crate::command::trim(start.target_c),
                            rfc3339(earliest),
                            when::local(earliest, &tz)
                        ),
                    ));
                }
                at
            }
            (None, None) => {
                return Err(CommandError::invalid("give start_at or ready_by"));
            }
        };
        if start_at > wall + MAX_AHEAD {
            return Err(CommandError::new(
                ErrorCode::OutOfRange,
                format!(
                    "the plan would start {}, more than 7 days ahead; plans wait at most a week",
                    rfc3339(start_at)
                ),
            ));
        }
        let wait_s = (start_at - wall).whole_seconds();
        let latest = |allowed_s: i64| {
            let at = wall + Duration::seconds(allowed_s);
            (
                format!("{} ({} local)", rfc3339(at), when::local(at, &tz)),
                Value::from(rfc3339(at)),
            )
        };
        // §8.3, in one place for every door.
        let perishable = safety::perishable(start.food);
        let mut watch = None;
        let latest_start = match kind {
            Kind::Cooker => {
                safety::food_named(keys.food_named || start.food.is_some())?;
                if let Some(food) = start.food.filter(|_| perishable) {
                    safety::target(food, start.target_c)?;
                    safety::cooker_wait(water_c, wait_s, rate, latest)?;
                    watch = Some(Watch::new(wall, water_c));
                    let needed = safety::come_up_to_safe_s(water_c, rate)
                        + if water_c.is_none_or(|w| w > safety::COLD_C) {
                            wait_s
                        } else {
                            0
                        };
                    start_at + Duration::seconds(BUDGET_S - needed)
                } else {
                    start_at + LATE_GRACE
                }
            }
            Kind::Oven => match start.food.filter(|_| perishable) {
                Some(food) => {
                    safety::oven_wait(food, wait_s, latest)?;
                    wall + Duration::seconds(BUDGET_S)
                }
                None => start_at + LATE_GRACE,
            },
        };
        let mut warnings = Vec::new();
        if let Some(old) = self.plans.get(device) {
            if old.stage == Stage::Starting {
                return Err(CommandError::invalid(format!(
                    "the plan {} is starting right now; wait for its response, then plan again",
                    old.schedule_id
                )));
            }
            warnings.push(format!(
                "it replaces the plan {} that was to start at {}",
                old.schedule_id,
                rfc3339(old.start_at)
            ));
            self.end_plan(now, device, "replaced", "a new plan replaced it");
        }
        let food = start.food.map_or("none", Food::as_str).to_owned();
        let plan = PendingPlan {
            schedule_id: self.out.ids.uuid(),
            device: device.as_str().to_owned(),
            family: match kind {
                Kind::Cooker => "cooker",
                Kind::Oven => "oven",
            }
            .to_owned(),
            created_at: wall,
            start_at,
            ready_by,
            latest_start,
            command: start.command,
            id_key: caller.id.key.as_str().to_owned(),
            id: caller.id.value.clone(),
            made_by: caller.source,
            food,
            perishable,
            target_c: start.target_c,
            cook_s: start.cook_s,
            estimate: Estimate {
                rate_c_per_min: rate,
                basis: basis.to_owned(),
                cooks,
                come_up_s: come_up,
            },
            watch,
            stage: Stage::Waiting,
            attempts: 0,
            last_error: None,
            last_code: None,
            retry_at: None,
            alert: None,
            late: false,
        };
        tracing::info!(%device, schedule = plan.schedule_id, start_at = %rfc3339(start_at), "plan made");
        let schedule = plan.view(wall);
        let command = plan.shown_command();
        let mut details = serde_json::Map::new();
        details.insert("start_at".into(), Value::from(rfc3339(start_at)));
        self.plans.insert(device.clone(), plan);
        self.save_plan(now, device);
        self.plan_event(now, device, "schedule_created", details);
        self.publish_schedule(now, device);
        Ok((schedule, command, warnings))
    }

    /// The heating rate for a plan of `target_c` on `device`: the median of its similar past
    /// cooks, else the family's default; with what it is based on and how many cooks.
    fn estimate(&self, device: &TopicId, kind: Kind, target_c: f64) -> (f64, &'static str, usize) {
        let mut similar: Vec<f64> = self
            .heating
            .get(device)
            .into_iter()
            .flatten()
            .filter(|s| (s.target_c - target_c).abs() <= SIMILAR_C)
            .map(|s| s.per_minute)
            .filter(|r| r.is_finite() && (0.05..=50.0).contains(r))
            .collect();
        if similar.len() < MIN_SIMILAR {
            let default = match kind {
                Kind::Cooker => self.config.plans.cooker_rate,
                Kind::Oven => self.config.plans.oven_rate,
            };
            return (default, "default", 0);
        }
        similar.sort_by(f64::total_cmp);
        let n = similar.len();
        let median = if n % 2 == 1 {
            similar[n / 2]
        } else {
            (similar[n / 2 - 1] + similar[n / 2]) / 2.0
        };
        (median, "history", n)
    }

    /// Ends a device's plan: recorded with `outcome`, announced (`schedule_cancelled` for a
    /// cancel or a replacement; the caller announces the rest), its retained topic cleared.
    pub(crate) fn end_plan(
        &mut self,
        now: Now,
        device: &TopicId,
        outcome: &'static str,
        why: &str,
    ) {
        let Some(plan) = self.plans.remove(device) else {
            return;
        };
        self.resumed_plans.remove(device);
        tracing::info!(%device, schedule = plan.schedule_id, outcome, "plan ended: {why}");
        self.out.record(|| Record::PlanEnded {
            schedule_id: plan.schedule_id.clone(),
            ended_at: now.wall,
            outcome,
        });
        if matches!(outcome, "cancelled" | "replaced") {
            let mut details = serde_json::Map::new();
            details.insert("schedule_id".into(), Value::from(plan.schedule_id.as_str()));
            details.insert("reason".into(), Value::from(why));
            details.insert("start_at".into(), Value::from(rfc3339(plan.start_at)));
            self.event(now, device, "schedule_cancelled", details);
        }
        self.publish_schedule(now, device);
    }

    /// Every pending plan as `<base>/<id>/schedule` shows it (`GET /api/v1/schedules`), as
    /// of the last input.
    pub fn schedules(&self) -> Vec<Value> {
        self.plans.values().map(|p| p.view(self.wall)).collect()
    }

    /// A device's API view with its pending plan as `schedule` (null when none).
    pub(crate) fn with_schedule(&self, device: &TopicId, mut view: Value) -> Value {
        if let Value::Object(map) = &mut view {
            let plan = self.plans.get(device).map(|p| p.view(self.wall));
            map.insert("schedule".into(), plan.unwrap_or(Value::Null));
        }
        view
    }

    /// The plan as the store keeps it.
    pub(crate) fn save_plan(&mut self, now: Now, device: &TopicId) {
        let Some(plan) = self.plans.get(device) else {
            return;
        };
        let Ok(data) = serde_json::to_string(plan) else {
            return;
        };
        let (schedule_id, start_at) = (plan.schedule_id.clone(), plan.start_at);
        self.plan_saved_at.insert(device.clone(), now.wall);
        self.out.record(|| Record::PlanSaved {
            schedule_id,
            device: device.as_str().to_owned(),
            start_at,
            data,
        });
    }

    /// `<base>/<id>/schedule`: the pending plan, retained; zero-length when none.
    pub(crate) fn publish_schedule(&mut self, now: Now, device: &TopicId) {
        let payload = self
            .plans
            .get(device)
            .map(|p| p.view(now.wall).to_string())
            .unwrap_or_default();
        if !self.out.mqtt_connected {
            self.schedules_unsent.insert(device.clone());
        }
        self.out
            .publish(self.topics.schedule(device), payload, true);
    }

    /// An event on `<base>/<id>/event` (and the live stream) that no cook made: `cook_id` is
    /// the running cook's, if any.
    pub(crate) fn event(
        &mut self,
        now: Now,
        device: &TopicId,
        kind: &'static str,
        details: serde_json::Map<String, Value>,
    ) {
        let mut payload = serde_json::Map::new();
        payload.insert("event_type".into(), Value::from(kind));
        payload.insert(
            "cook_id".into(),
            self.devices
                .get(device)
                .and_then(|d| d.current_cook())
                .map_or(Value::Null, Value::from),
        );
        payload.insert("at".into(), Value::from(rfc3339(now.wall)));
        payload.extend(details);
        tracing::info!(%device, "plan event {kind}");
        let payload = Value::Object(payload).to_string();
        self.out.stream(crate::bridge::outbox::StreamMessage::Event(
            device, &payload,
        ));
        self.out.publish(self.topics.event(device), payload, false);
    }

    /// A plan event on `<base>/<id>/event`, with the plan's id.
    pub(crate) fn plan_event(
        &mut self,
        now: Now,
        device: &TopicId,
        kind: &'static str,
        mut details: serde_json::Map<String, Value>,
    ) {
        if let Some(plan) = self.plans.get(device) {
            details.insert("schedule_id".into(), Value::from(plan.schedule_id.as_str()));
        }
        self.event(now, device, kind, details);
    }
}
