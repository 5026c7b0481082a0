//! How the bridge runs its plans (`docs/interface.md` §8.2): it looks at a device's plan when its
//! time may have come (a deadline of its own, at most [`LOOK_AT_LEAST_EVERY`] ahead so that a
//! jump of the wall clock is noticed), when the device reports (the food-safety watch reads
//! the water), and when the cloud or the device comes back; it starts the plan as a normal
//! command with the id of the command that made it, and takes that command's one answer to
//! decide: started, try again, or give up.

use super::pending::{Due, PendingPlan, Stage, RETRY_EVERY};
use crate::appliance::record::Source;
use crate::bridge::io::{Now, Origin};
use crate::bridge::machine::{rfc3339, Caller, Request};
use crate::bridge::outbox::{PlanAnswer, PlanTag};
use crate::bridge::Bridge;
use crate::command::{CallerId, CommandError, ErrorCode, IdKey, Outcome, Response};
use crate::ids::TopicId;
use serde_json::{Map, Value};
use std::time::Duration as StdDuration;
use time::{Duration, OffsetDateTime};

/// A plan is looked at least this often while it waits, whatever its next moment: the wall
/// clock may jump (NTP, a suspended machine), and the plan's times are wall-clock times.
const LOOK_AT_LEAST_EVERY: StdDuration = StdDuration::from_secs(60);

/// A waiting plan is saved again (its watch's figures) at most this often; a restart counts
/// the time since the last save as warm, so a coarse save errs on the safe side.
const SAVE_EVERY: Duration = Duration::minutes(1);

impl Bridge {
    /// The plans the store kept: each continues (its watch counts the time the daemon was
    /// away as warm), starts late if that is still safe, or is reported missed.
    pub(crate) fn resume_plans(&mut self, now: Now, kept: Vec<String>) {
        for data in kept {
            let mut plan: PendingPlan = match serde_json::from_str(&data) {
                Ok(plan) => plan,
                Err(e) => {
                    tracing::warn!("a stored plan cannot be read, dropped: {e}");
                    continue;
                }
            };
            let device = TopicId::from(plan.device.clone());
            if let Some(watch) = plan.watch.as_mut() {
                watch.resume(now.wall);
            }
            // A start that was under way when the daemon stopped is decided again: the cook
            // it sent, if it arrived, shows in the device's state, and a start is sent only
            // while it is still safe.
            plan.stage = Stage::Waiting;
            plan.retry_at = None;
            tracing::info!(%device, schedule = plan.schedule_id, start_at = %rfc3339(plan.start_at), "plan of the last run resumed");
            self.plans.insert(device.clone(), plan);
            self.resumed_plans.insert(device.clone());
            self.publish_schedule(now, &device);
            self.look_at_plan(now, &device);
        }
    }

    /// A device reported: a waiting plan's watch reads the water, and the plan is looked at
    /// (a retry goes at once when the device is back).
    pub(crate) fn plan_reading(&mut self, now: Now, device: &TopicId) {
        let Some(plan) = self.plans.get_mut(device) else {
            return;
        };
        let Some(appliance) = self.devices.get(device) else {
            return;
        };
        let water = appliance.watched_temperature();
        let available = appliance.available(self.link.up());
        if let Some(watch) = plan.watch.as_mut() {
            if plan.stage != Stage::Starting {
                watch.reading(now.wall, water);
            }
        }
        if plan.stage == Stage::Retrying && available {
            plan.retry_at = None;
        }
        let save = self
            .plan_saved_at
            .get(device)
            .is_none_or(|at| now.wall - *at >= SAVE_EVERY);
        if save && plan.watch.is_some() {
            self.save_plan(now, device);
        }
        self.look_at_plan(now, device);
    }

    /// The cloud link or a device came back: retries go at once.
    pub(crate) fn plans_may_retry(&mut self, now: Now) {
        let retrying: Vec<TopicId> = self
            .plans
            .iter_mut()
            .filter(|(_, p)| p.stage == Stage::Retrying)
            .map(|(id, p)| {
                p.retry_at = None;
                id.clone()
            })
            .collect();
        for device in retrying {
            self.look_at_plan(now, &device);
        }
    }

    /// The device left the account: its plan cannot run.
    pub(crate) fn plan_device_removed(&mut self, now: Now, device: &TopicId) {
        if self.plans.contains_key(device) {
            self.give_up(now, device, "the device was removed from the Anova account");
        }
    }

    /// Plans whose moment came ([`Bridge::run_due`]).
    pub(crate) fn run_due_plans(&mut self, now: Now) {
        while let Some(device) = self.plan_deadlines.pop_due(now.instant) {
            self.look_at_plan(now, &device);
        }
    }

    /// Decides what a device's plan does now, does it, and files its next look.
    pub(crate) fn look_at_plan(&mut self, now: Now, device: &TopicId) {
        let Some(plan) = self.plans.get(device) else {
            self.plan_deadlines.set(device, None);
            return;
        };
        let resumed = self.resumed_plans.contains(device);
        if resumed && !self.resumed_plan_can_be_judged(device) {
            // A start that can no longer be safe is reported as soon as that can be told;
            // anything else waits for the device's first report (a late start needs the
            // device, a watch its water). Looked at again when the broker connects and the
            // device reports.
            let missed = matches!(
                plan.due(now.wall, true, true, self.config.plans.silent_after),
                Due::Miss(_)
            );
            if !(missed && self.out.mqtt_connected) {
                self.file_look(now, device, None);
                return;
            }
        }
        let silent = self.plan_silent(now, device, plan);
        self.resumed_plans.remove(device);
        match plan.due(now.wall, silent, resumed, self.config.plans.silent_after) {
            Due::Wait(at) => self.file_look(now, device, at),
            Due::Start { alert, late } => self.start_plan(now, device, alert, late),
            Due::Fail(why) => self.give_up(now, device, &why),
            Due::Miss(why) => {
                let mut details = Map::new();
                details.insert("reason".into(), Value::from(why.as_str()));
                self.plan_event(now, device, "schedule_missed", details);
                self.end_plan(now, device, "missed", &why);
            }
        }
    }

    /// The broker took the daemon: the plans resumed before it are decided now.
    pub(crate) fn look_at_resumed_plans(&mut self, now: Now) {
        let resumed: Vec<TopicId> = self.resumed_plans.iter().cloned().collect();
        for device in resumed {
            self.look_at_plan(now, &device);
        }
    }

    /// A plan of the last run is judged (late, missed, waiting) once what it decides can be
    /// told (the broker is connected) and its device has reported, or is known to be gone.
    fn resumed_plan_can_be_judged(&self, device: &TopicId) -> bool {
        let reported = self.devices.get(device).is_some_and(|d| d.has_state());
        let gone = self.synced && !self.devices.contains_key(device);
        self.out.mqtt_connected && (reported || gone)
    }

    /// The cooker of a watched plan stopped reporting: nothing for
    /// [`PlanSettings::silent_after`](super::PlanSettings::silent_after) since the plan was
    /// made or resumed, or the device
    /// itself is unavailable (stale past `anova.stale_after`, or reported offline). A cloud
    /// link that is down is not the cooker's silence: the plan then waits for it, up to its
    /// latest safe start.
    fn plan_silent(&self, now: Now, device: &TopicId, plan: &PendingPlan) -> bool {
        let Some(watch) = &plan.watch else {
            return false;
        };
        let heard = watch.last_at.unwrap_or(plan.created_at);
        let gone = self
            .devices
            .get(device)
            .is_some_and(|d| d.has_state() && !d.available(true));
        gone || now.wall - heard >= self.config.plans.silent_after
    }

    /// Files the next look at a device's plan: at `at`, or within a minute.
    fn file_look(&mut self, now: Now, device: &TopicId, at: Option<OffsetDateTime>) {
        let cap = now.instant + LOOK_AT_LEAST_EVERY;
        let next = match at {
            Some(at) => {
                let ahead = (at - now.wall).max(Duration::ZERO);
                let ahead = StdDuration::try_from(ahead).unwrap_or(LOOK_AT_LEAST_EVERY);
                (now.instant + ahead).min(cap)
            }
            None => cap,
        };
        // Always ahead of now, so that one input never looks at the same plan twice.
        let next = next.max(now.instant + StdDuration::from_millis(1));
        self.plan_deadlines.set(device, Some(next));
    }

    /// Starts a plan: its command goes to the device's queue like any other, and its one
    /// answer comes back to [`Bridge::take_plan_answers`].
    fn start_plan(&mut self, now: Now, device: &TopicId, alert: Option<String>, late: bool) {
        let listed = self.devices.contains_key(device);
        let Some(plan) = self.plans.get_mut(device) else {
            return;
        };
        if let Some(why) = alert {
            if plan.alert.is_none() {
                plan.alert = Some(why.clone());
                let mut details = Map::new();
                details.insert("reason".into(), Value::from(why.as_str()));
                details.insert("action".into(), Value::from("started"));
                details.insert("start_at".into(), Value::from(rfc3339(plan.start_at)));
                self.plan_event(now, device, "food_safety_alert", details);
            }
        }
        let Some(plan) = self.plans.get_mut(device) else {
            return;
        };
        plan.late |= late;
        if !listed {
            let error = CommandError::new(
                ErrorCode::DeviceOffline,
                format!("{device} is not listed by the Anova cloud (yet)"),
            );
            self.plan_unavailable(now, device, &error);
            return;
        }
        plan.stage = Stage::Starting;
        plan.attempts += 1;
        let key = if plan.id_key == IdKey::Transaction.as_str() {
            IdKey::Transaction
        } else {
            IdKey::Id
        };
        let caller = Caller {
            id: CallerId {
                key,
                value: plan.id.clone(),
            },
            origin: Origin::Schedule,
            arrived: now.instant,
            source: Source::Schedule,
            request: Value::Object(plan.command.clone()).to_string().into(),
            plan: Some(PlanTag {
                schedule_id: plan.schedule_id.clone(),
                sent: false,
            }),
        };
        let command = plan.command.clone();
        tracing::info!(%device, schedule = plan.schedule_id, attempt = plan.attempts, "plan starting");
        self.plan_deadlines.set(device, None);
        // A plan's command carries no key of §8, so it asks nothing of the plans.
        let _ = self.with_device(now, device, |d, ctx, out| {
            d.on_command(ctx, out, caller, Request::Object(&command))
        });
        self.save_plan(now, device);
        self.publish_schedule(now, device);
        self.take_plan_answers(now);
    }

    /// Answers to plans' start commands, taken from the outbox after every input.
    pub(crate) fn take_plan_answers(&mut self, now: Now) {
        while !self.out.plan_answers.is_empty() {
            let answers = std::mem::take(&mut self.out.plan_answers);
            for answer in answers {
                self.on_plan_answer(now, answer);
            }
        }
    }

    fn on_plan_answer(&mut self, now: Now, answer: PlanAnswer) {
        let PlanAnswer {
            device,
            tag,
            response,
        } = answer;
        let ours = self
            .plans
            .get(&device)
            .is_some_and(|p| p.schedule_id == tag.schedule_id);
        if !ours {
            // The plan ended meanwhile (it cannot, while starting; kept for safety): the
            // command's answer still goes out, once.
            self.publish_plan_response(&device, &response);
            return;
        }
        match response.code() {
            None => {
                self.publish_plan_response(&device, &response);
                let mut details = Map::new();
                if let Some(plan) = self.plans.get(&device) {
                    details.insert("start_at".into(), Value::from(rfc3339(plan.start_at)));
                    details.insert("late".into(), Value::Bool(plan.late));
                    details.insert(
                        "early".into(),
                        Value::Bool(plan.alert.is_some() && now.wall < plan.start_at),
                    );
                    details.insert(plan.id_key.clone(), plan.id.clone());
                }
                self.plan_event(now, &device, "schedule_started", details);
                self.end_plan(now, &device, "started", "its start was confirmed");
            }
            Some(code) if retryable(code) && !tag.sent => {
                let error = match response.outcome {
                    Outcome::Failed(error) => error,
                    _ => CommandError::new(code, "unavailable"),
                };
                self.plan_unavailable(now, &device, &error);
            }
            Some(_) => {
                self.publish_plan_response(&device, &response);
                let why = match &response.outcome {
                    Outcome::Failed(error) => error.to_string(),
                    _ => String::new(),
                };
                let mut details = Map::new();
                details.insert("reason".into(), Value::from(why.as_str()));
                self.plan_event(now, &device, "schedule_failed", details);
                self.end_plan(now, &device, "failed", &why);
            }
        }
    }

    /// The start could not reach the device or the cloud: tried again, until the latest safe
    /// start.
    fn plan_unavailable(&mut self, now: Now, device: &TopicId, error: &CommandError) {
        let Some(plan) = self.plans.get_mut(device) else {
            return;
        };
        plan.stage = Stage::Retrying;
        plan.last_error = Some(error.message.clone());
        plan.last_code = Some(error.code.as_str().to_owned());
        plan.retry_at = Some(now.wall + RETRY_EVERY);
        tracing::info!(%device, schedule = plan.schedule_id, "plan start unavailable, retrying: {}", error.message);
        self.save_plan(now, device);
        self.publish_schedule(now, device);
        self.look_at_plan(now, device);
    }

    /// The plan could not start by its latest safe start: its one response (the last
    /// attempt's error) and `schedule_failed`.
    fn give_up(&mut self, now: Now, device: &TopicId, why: &str) {
        let Some(plan) = self.plans.get(device) else {
            return;
        };
        let code = match plan.last_code.as_deref() {
            Some("cloud_unavailable") => ErrorCode::CloudUnavailable,
            Some("timeout") => ErrorCode::Timeout,
            Some("rate_limited") => ErrorCode::RateLimited,
            _ => ErrorCode::DeviceOffline,
        };
        let key = if plan.id_key == IdKey::Transaction.as_str() {
            IdKey::Transaction
        } else {
            IdKey::Id
        };
        let response = Response::failed(
            CallerId {
                key,
                value: plan.id.clone(),
            },
            CommandError::new(code, format!("the planned start failed: {why}")),
        );
        self.publish_plan_response(device, &response);
        let mut details = Map::new();
        details.insert("reason".into(), Value::from(why));
        self.plan_event(now, device, "schedule_failed", details);
        self.end_plan(now, device, "failed", why);
    }

    fn publish_plan_response(&mut self, device: &TopicId, response: &Response) {
        self.out
            .publish(self.topics.response(device), response.to_json(), false);
    }
}

/// A start that did not reach the device may be tried again: the cloud or the device was
/// unavailable, or the command waited too long for its turn.
fn retryable(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::CloudUnavailable
            | ErrorCode::DeviceOffline
            | ErrorCode::Timeout
            | ErrorCode::RateLimited
    )
}
