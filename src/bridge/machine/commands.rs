//! The command queue of one device and each command's lifecycle (`docs/interface.md` §3.2).
//!
//! One rule, applied in one place ([`Machine::pump`]): commands run one at a time, in arrival
//! order. Whenever the running command ends — confirmed, answered at once, stored as pending,
//! refused, failed, timed out — the next waiting one starts in the same step. A waiting
//! command is answered `timeout` after `anova.command_timeout` without running; a running one
//! is answered at the latest `command_timeout + confirm_timeout` after it arrived. When the
//! cloud link drops, every running and waiting command is answered `cloud_unavailable` at
//! once and is gone. So a command can never run after one that arrived later.
//!
//! One exception, the family's choice ([`Family::start_settle`]): a start given alone to an
//! idle oven is *held* a moment before it runs, and values for the next start that arrive
//! meanwhile are kept at once (as they always are while idle), so the start uses them. Home
//! Assistant's thermostat sends "heat" and then the temperature as two messages; held, they
//! make one cook at that temperature instead of a cook and its replacement.

use super::context::{Ctx, Settings};
use super::cook::Meta;
use super::device::Device;
use super::preset::PresetEffect;
use crate::appliance::family::{Family, PlanInput, Running, StartPlan};
use crate::appliance::record::Source;
use crate::bridge::io::{Origin, Ticket};
use crate::bridge::outbox::{Outbox, PlanTag};
use crate::bridge::plans::expand::expand_preset;
use crate::cloud::CloudError;
use crate::command::{CallerId, CommandError, ErrorCode, Outcome, PlanKeys, Response};
use crate::wire::CloudCommand;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// At most this many commands wait behind a device's running one; more is `rate_limited`.
pub const MAX_QUEUED: usize = 4;

/// The rate-limit window of `limits.commands_per_minute`.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// A command as it arrived: a JSON object (the caller's id taken out) or one plain key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Request<'a> {
    /// The object of `<id>/set` or an API command.
    Object(&'a Map<String, Value>),
    /// `<id>/set/<key>` with its plain value.
    Key {
        /// The command key.
        key: &'a str,
        /// The value, trimmed.
        text: &'a str,
    },
}

/// Who asked: what the one response needs.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The id the response carries.
    pub(crate) id: CallerId,
    /// Where the response goes.
    pub(crate) origin: Origin,
    /// When the command arrived.
    pub(crate) arrived: Instant,
    /// Who sent it, for the cook history.
    pub(crate) source: Source,
    /// The command as received (JSON), for the cook history.
    pub(crate) request: Box<str>,
    /// The plan this command starts (`docs/interface.md` §8.2), when a plan's time came: its
    /// answer goes to the plan, which decides whether to try again, instead of out.
    pub(crate) plan: Option<PlanTag>,
}

/// A command that makes or cancels a plan, handed to the bridge (which keeps the plans): the
/// family has read and checked it as the start it will be.
#[derive(Debug)]
pub(crate) enum PlanAsk {
    /// `start_at` or `ready_by`: the start, checked from idle now.
    Make {
        /// Who asked.
        caller: Caller,
        /// The start.
        start: StartPlan,
        /// The command's keys of §8.
        keys: PlanKeys,
        /// The water temperature the device last reported (cookers).
        water_c: Option<f64>,
    },
    /// `schedule: cancel`.
    Cancel {
        /// Who asked.
        caller: Caller,
    },
    /// `cook: false` was accepted: it cancels the pending plan too.
    Stopping,
}

/// A parsed command for one device.
#[derive(Debug)]
struct Command<F: Family> {
    /// Who asked.
    caller: Caller,
    /// What it asks for.
    changes: F::Changes,
}

/// The command being executed.
#[derive(Debug)]
struct Active<F: Family> {
    command: Command<F>,
    /// Steps not sent yet.
    steps: VecDeque<CloudCommand>,
    /// The step waiting for its RESPONSE.
    sent: Option<(Ticket, CloudCommand)>,
    expect: F::Expect,
    update: F::Update,
    echo: F::Echo,
    pending: bool,
    warnings: Vec<String>,
    /// What success does to the preset the state shows.
    preset: PresetEffect,
    /// Set once every step was acknowledged: answer `not_confirmed` after this.
    confirm_by: Option<Instant>,
    /// The latest moment the command is answered, whatever it is doing.
    deadline: Instant,
}

/// A start held for the values sent right after it ([`Family::start_settle`]).
#[derive(Debug)]
struct Held<F: Family> {
    command: Command<F>,
    /// When it runs, whatever else arrives.
    until: Instant,
}

/// A device's commands.
#[derive(Debug)]
pub(super) struct Commands<F: Family> {
    /// Boxed: most devices run no command most of the time, and a running one is several
    /// hundred bytes that thousands of idle devices need not carry.
    active: Option<Box<Active<F>>>,
    /// A start waiting for its values; it runs before everything in `waiting`.
    held: Option<Box<Held<F>>>,
    waiting: VecDeque<Command<F>>,
    /// When recent cloud-bound commands started (the rate-limit window).
    recent: VecDeque<Instant>,
}

impl<F: Family> Default for Commands<F> {
    fn default() -> Self {
        Self {
            active: None,
            held: None,
            waiting: VecDeque::new(),
            recent: VecDeque::new(),
        }
    }
}

impl<F: Family> Commands<F> {
    /// The next moment a command needs attention.
    pub(super) fn next_deadline(&self, settings: &Settings) -> Option<Instant> {
        let waiting = self
            .waiting
            .front()
            .map(|c| c.caller.arrived + settings.command_timeout);
        let active = self.active.as_ref().map(|a| match a.confirm_by {
            Some(by) => by,
            None => a.deadline,
        });
        let held = self.held.as_ref().map(|h| h.until);
        waiting.into_iter().chain(active).chain(held).min()
    }
}

/// Why every command of a device ends at once.
#[derive(Debug, Clone, Copy)]
pub(super) enum Failure {
    /// The cloud link dropped.
    LinkLost,
    /// The device went silent.
    DeviceOffline,
    /// The device left the account.
    Removed,
}

impl<F: Family> Commands<F> {
    /// A command for this device: read by its family, then queued, or answered at once when
    /// it cannot be read.
    pub(crate) fn on_command(
        &mut self,
        dev: &mut Device<F>,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        caller: Caller,
        request: Request<'_>,
    ) -> Option<PlanAsk> {
        let parsed = match request {
            Request::Object(fields) => F::parse(fields),
            Request::Key { key, text } => F::parse_key(key, text),
        };
        let parsed = parsed.and_then(|changes| expand_preset::<F>(changes, &ctx.settings.presets));
        // What can be refused without the state is refused now, not after a wait in the queue.
        let parsed = parsed.and_then(|changes| F::check(&changes, &dev.limits).map(|()| changes));
        let changes = match parsed {
            Ok(changes) => changes,
            Err(error) => {
                Self::answer(dev, ctx, out, caller, Outcome::Failed(error));
                return None;
            }
        };
        let keys = F::plan_keys(&changes).clone();
        if keys.plans() {
            return match Self::plan_ask(dev, &changes, keys) {
                Ok(Some((start, keys, water_c))) => Some(PlanAsk::Make {
                    caller,
                    start,
                    keys,
                    water_c,
                }),
                Ok(None) => Some(PlanAsk::Cancel { caller }),
                Err(error) => {
                    Self::answer(dev, ctx, out, caller, Outcome::Failed(error));
                    None
                }
            };
        }
        let stopping = F::cook_action(&changes) == Some(false);
        self.submit(dev, ctx, out, Command { caller, changes });
        stopping.then_some(PlanAsk::Stopping)
    }

    /// A command with `start_at`, `ready_by` or `schedule`: checked as the start it will be,
    /// for the bridge to plan (`None`: `schedule: cancel`).
    #[allow(clippy::type_complexity)]
    fn plan_ask(
        dev: &Device<F>,
        changes: &F::Changes,
        keys: PlanKeys,
    ) -> Result<Option<(StartPlan, PlanKeys, Option<f64>)>, CommandError> {
        let refuse = |message: &str| Err(CommandError::invalid(message));
        if keys.cancel {
            let alone = keys.start_at.is_none()
                && keys.ready_by.is_none()
                && keys.preset.is_none()
                && F::cook_action(changes).is_none()
                && !F::changes_cook(changes);
            if !alone {
                return refuse(
                    "schedule: cancel goes alone; send the new plan or the change separately",
                );
            }
            return Ok(None);
        }
        if keys.start_at.is_some() && keys.ready_by.is_some() {
            return refuse(
                "give start_at or ready_by, not both: ready_by works out the start itself",
            );
        }
        if F::cook_action(changes) == Some(false) {
            return refuse(
                "a plan starts a cook: leave out cook: false (or send cook: false alone to stop \
                 now and cancel the pending plan)",
            );
        }
        let start = F::start_from_idle(changes, &dev.memory, dev.state.as_ref(), &dev.limits)?;
        let water_c = dev.state.as_ref().and_then(F::watched_temperature);
        Ok(Some((start, keys, water_c)))
    }

    /// A new command: it starts now if nothing runs or waits, else it waits its turn.
    fn submit(&mut self, dev: &mut Device<F>, ctx: Ctx<'_>, out: &mut Outbox, command: Command<F>) {
        let idle = self.active.is_none() && self.waiting.is_empty();
        let state = dev.state.as_ref();
        if idle && self.held.is_some() {
            if state.is_some_and(|s| F::only_pending(&command.changes, s)) {
                // A value for the held start: kept now, as while idle; the start uses it.
                self.start(dev, ctx, out, command);
                return;
            }
            // Anything else ends the wait: the held start runs first, then this one.
            self.waiting.push_back(command);
        } else if idle && ctx.link_up && dev.available(ctx.link_up) {
            match state.and_then(|s| F::start_settle(&command.changes, s)) {
                Some(settle) => {
                    let until = ctx.now.instant + settle;
                    self.held = Some(Box::new(Held { command, until }));
                }
                None => self.start(dev, ctx, out, command),
            }
        } else if idle {
            self.start(dev, ctx, out, command);
        } else if self.waiting.len() >= MAX_QUEUED {
            let error = CommandError::new(
                ErrorCode::RateLimited,
                format!("{MAX_QUEUED} commands are already waiting for this {}; try again when they are answered", F::NOUN),
            );
            Self::answer(dev, ctx, out, command.caller, Outcome::Failed(error));
        } else {
            self.waiting.push_back(command);
        }
        self.pump(dev, ctx, out);
    }

    /// Starts waiting commands while nothing runs: the one place the queue advances. A held
    /// start runs first, once its time has come or something else waits behind it.
    pub(super) fn pump(&mut self, dev: &mut Device<F>, ctx: Ctx<'_>, out: &mut Outbox) {
        while self.active.is_none() {
            if let Some(held) = self.held.take() {
                if held.until > ctx.now.instant && self.waiting.is_empty() {
                    self.held = Some(held);
                    return;
                }
                self.start(dev, ctx, out, held.command);
                continue;
            }
            let Some(next) = self.waiting.pop_front() else {
                return;
            };
            self.start(dev, ctx, out, next);
        }
    }

    /// Validates, plans and starts one command; answers at once when nothing goes to the
    /// cloud or something is wrong.
    fn start(&mut self, dev: &mut Device<F>, ctx: Ctx<'_>, out: &mut Outbox, command: Command<F>) {
        let plan = if !ctx.link_up {
            Err(CommandError::new(
                ErrorCode::CloudUnavailable,
                "the Anova cloud is not connected; nothing was sent",
            ))
        } else if !dev.available(ctx.link_up) {
            Err(CommandError::new(
                ErrorCode::DeviceOffline,
                format!(
                    "the {} is offline (no recent state from the Anova cloud); nothing was sent",
                    F::NOUN
                ),
            ))
        } else if let Some(state) = &dev.state {
            F::plan(PlanInput {
                changes: &command.changes,
                state,
                memory: &dev.memory,
                limits: &dev.limits,
                device: &dev.address,
                ids: &mut out.ids,
            })
        } else {
            Err(CommandError::new(
                ErrorCode::DeviceOffline,
                format!("the {} has not reported its state yet", F::NOUN),
            ))
        };
        let plan = plan.and_then(|plan| {
            if !plan.steps.is_empty() {
                self.count_against_rate_limit(ctx)?;
            }
            Ok(plan)
        });
        let plan = match plan {
            Ok(plan) => plan,
            Err(error) => {
                Self::answer(dev, ctx, out, command.caller, Outcome::Failed(error));
                return;
            }
        };
        let changes = &command.changes;
        let preset = PresetEffect::of(
            F::plan_keys(changes).preset.as_deref(),
            F::changes_cook(changes),
            F::cook_action(changes),
            dev.state.as_ref().is_some_and(F::cooking),
        );
        if plan.steps.is_empty() {
            F::remember(&mut dev.memory, plan.update);
            dev.preset.apply(preset, F::changes_cook(&command.changes));
            dev.publish(ctx, out, false);
            let outcome = Outcome::Done {
                command: echo_json(&plan.echo),
                pending: plan.pending,
                warnings: plan.warnings,
            };
            Self::answer(dev, ctx, out, command.caller, outcome);
            return;
        }
        tracing::info!(
            device = %dev.id,
            id = %command.caller.id.text(),
            "command accepted: {} step(s)",
            plan.steps.len()
        );
        let settings = ctx.settings;
        let deadline = command.caller.arrived
            + settings.command_timeout
            + F::confirm_window(settings.confirm_timeout);
        self.active = Some(Box::new(Active {
            command,
            steps: plan.steps,
            sent: None,
            expect: plan.expect,
            update: plan.update,
            echo: plan.echo,
            pending: plan.pending,
            warnings: plan.warnings,
            preset,
            confirm_by: None,
            deadline,
        }));
        self.advance(dev, ctx, out);
    }

    /// Counts a cloud-bound command against `limits.commands_per_minute`.
    fn count_against_rate_limit(&mut self, ctx: Ctx<'_>) -> Result<(), CommandError> {
        let now = ctx.now.instant;
        let recent = &mut self.recent;
        while recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= RATE_WINDOW)
        {
            recent.pop_front();
        }
        let per_minute = ctx.settings.commands_per_minute as usize;
        if recent.len() >= per_minute {
            return Err(CommandError::new(
                ErrorCode::RateLimited,
                format!(
                    "more than {per_minute} commands in a minute for this {} (limits.commands_per_minute)",
                    F::NOUN
                ),
            ));
        }
        recent.push_back(now);
        Ok(())
    }

    /// Sends the next step of the running command, or starts waiting for confirmation.
    fn advance(&mut self, dev: &mut Device<F>, ctx: Ctx<'_>, out: &mut Outbox) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        if let Some(step) = active.steps.pop_front() {
            let cooking = dev.state.as_ref().is_some_and(F::cooking);
            let schedule = active.command.caller.plan.as_mut().map(|tag| {
                tag.sent = true;
                tag.schedule_id.as_str()
            });
            dev.cook.step_sent(
                &step,
                cooking,
                active.command.caller.source,
                &active.echo,
                schedule,
            );
            let ticket = out.send(&dev.id, step.clone(), active.deadline);
            active.sent = Some((ticket, step));
            return;
        }
        active.sent = None;
        let window = F::confirm_window(ctx.settings.confirm_timeout);
        active.confirm_by = Some((ctx.now.instant + window).min(active.deadline));
        self.check_confirmed(dev, ctx, out);
    }

    /// Answers `ok` when the state shows every expected change.
    pub(super) fn check_confirmed(&mut self, dev: &mut Device<F>, ctx: Ctx<'_>, out: &mut Outbox) {
        let confirmed = match (&self.active, &dev.state) {
            (Some(active), Some(state)) => {
                active.confirm_by.is_some() && F::confirmed(&active.expect, state)
            }
            _ => false,
        };
        if confirmed {
            self.finish(dev, ctx, out, Ok(()));
        }
    }

    /// Answers the running command. The caller advances the queue.
    fn finish(
        &mut self,
        dev: &mut Device<F>,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        result: Result<(), CommandError>,
    ) {
        let Some(active) = self.active.take() else {
            return;
        };
        if let Some((ticket, _)) = active.sent {
            out.take_ticket(ticket);
        }
        let outcome = match result {
            Ok(()) => {
                F::remember(&mut dev.memory, active.update);
                dev.preset
                    .apply(active.preset, F::changes_cook(&active.command.changes));
                Outcome::Done {
                    command: echo_json(&active.echo),
                    pending: active.pending,
                    warnings: active.warnings,
                }
            }
            Err(error) => Outcome::Failed(error),
        };
        // State before the response: whoever reacts to the response reads the new state.
        dev.publish(ctx, out, false);
        let meta = Meta {
            id: &dev.id,
            model: dev.info.device_type.as_str(),
        };
        dev.cook
            .command_ended::<F>(ctx, out, meta, dev.state.as_ref());
        let command = active.command;
        Self::answer(dev, ctx, out, command.caller, outcome);
    }

    /// Sends one response where the command came from.
    fn answer(
        dev: &mut Device<F>,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        caller: Caller,
        outcome: Outcome,
    ) {
        let Caller {
            id,
            origin,
            arrived,
            source,
            request,
            plan,
        } = caller;
        match &outcome {
            Outcome::Failed(error) => tracing::info!(
                device = %dev.id,
                id = %id.text(),
                code = %error.code,
                "command failed: {}",
                error.message
            ),
            _ => tracing::info!(device = %dev.id, id = %id.text(), "command done"),
        }
        let response = Response { id, outcome };
        if out.recording {
            let meta = Meta {
                id: &dev.id,
                model: dev.info.device_type.as_str(),
            };
            dev.cook.command_answered(
                out,
                meta,
                ctx.now.wall,
                source,
                &request,
                &response.to_json(),
            );
        }
        let took = ctx.now.instant.saturating_duration_since(arrived);
        match plan {
            // A plan's start: the plan answers, once, when it is done trying.
            Some(tag) => out.plan_answered(&dev.id, tag, response, took),
            None => out.respond(origin, ctx.topics.response(&dev.id), response, took),
        }
    }

    /// The result of a step the running command sent.
    pub(crate) fn on_result(
        &mut self,
        dev: &mut Device<F>,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        ticket: Ticket,
        result: Result<(), CloudError>,
    ) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let step = match active.sent.take() {
            Some((sent, step)) if sent == ticket => step,
            other => {
                // A result for a command that was already answered.
                active.sent = other;
                return;
            }
        };
        let name = step.name();
        let error = match result {
            Ok(()) => {
                self.advance(dev, ctx, out);
                self.pump(dev, ctx, out);
                return;
            }
            Err(CloudError::Rejected(text)) => {
                let recovered = dev.state.as_ref().and_then(|state| {
                    F::recover(
                        &step,
                        &text,
                        Running {
                            changes: &active.command.changes,
                            steps: &mut active.steps,
                            expect: &mut active.expect,
                            warnings: &mut active.warnings,
                            state,
                            memory: &mut dev.memory,
                            device: &dev.address,
                        },
                    )
                });
                match recovered {
                    Some(Ok(())) => {
                        self.advance(dev, ctx, out);
                        self.pump(dev, ctx, out);
                        return;
                    }
                    Some(Err(error)) => error,
                    None => CommandError::new(
                        ErrorCode::Rejected,
                        format!("the Anova cloud refused {name}: {text}"),
                    ),
                }
            }
            Err(CloudError::Timeout) => CommandError::new(
                ErrorCode::Timeout,
                format!("no RESPONSE from the Anova cloud to {name} in time; the command may or may not have been applied"),
            ),
            Err(e @ (CloudError::NotConnected | CloudError::Disconnected | CloudError::Shutdown)) => {
                CommandError::new(
                    ErrorCode::CloudUnavailable,
                    format!("the Anova cloud connection was lost while sending {name} ({e})"),
                )
            }
        };
        self.finish(dev, ctx, out, Err(error));
        self.pump(dev, ctx, out);
    }

    /// Deadlines: waiting commands that waited too long, a running command past its
    /// confirmation or its deadline.
    pub(super) fn expire(&mut self, dev: &mut Device<F>, ctx: Ctx<'_>, out: &mut Outbox) {
        let now = ctx.now.instant;
        let settings = ctx.settings;
        while self
            .waiting
            .front()
            .is_some_and(|c| c.caller.arrived + settings.command_timeout <= now)
        {
            let Some(command) = self.waiting.pop_front() else {
                break;
            };
            let error = CommandError::new(
                ErrorCode::Timeout,
                format!(
                    "the command waited {} behind earlier commands for this {} and was not run; nothing was sent",
                    humantime::format_duration(settings.command_timeout),
                    F::NOUN
                ),
            );
            Self::answer(dev, ctx, out, command.caller, Outcome::Failed(error));
        }
        let error = self.active.as_ref().and_then(|active| {
            if let Some(by) = active.confirm_by {
                (by <= now).then(|| {
                    CommandError::new(
                        ErrorCode::NotConfirmed,
                        format!(
                            "the Anova cloud accepted the command but the {}'s state did not show {} within {}",
                            F::NOUN,
                            F::unmet(&active.expect, dev.state.as_ref()),
                            humantime::format_duration(F::confirm_window(settings.confirm_timeout))
                        ),
                    )
                })
            } else {
                (active.deadline <= now).then(|| {
                    let step = active.sent.as_ref().map_or("the command", |(_, s)| s.name());
                    CommandError::new(
                        ErrorCode::Timeout,
                        format!("no RESPONSE from the Anova cloud to {step} in time; the command may or may not have been applied"),
                    )
                })
            }
        });
        if let Some(error) = error {
            self.finish(dev, ctx, out, Err(error));
        }
        self.pump(dev, ctx, out);
    }

    /// Ends every command at once.
    pub(super) fn fail_all(
        &mut self,
        dev: &mut Device<F>,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        why: Failure,
    ) {
        let (code, running, waiting) = match why {
            Failure::LinkLost => (
                ErrorCode::CloudUnavailable,
                "the Anova cloud connection was lost before the command completed; it may or may not have been applied".to_owned(),
                "the Anova cloud connection was lost before the command could run; nothing was sent".to_owned(),
            ),
            Failure::DeviceOffline => (
                ErrorCode::DeviceOffline,
                format!("the {} went offline before the command completed", F::NOUN),
                format!("the {} went offline before the command could run; nothing was sent", F::NOUN),
            ),
            Failure::Removed => (
                ErrorCode::DeviceOffline,
                format!("the {} was removed from the Anova account", F::NOUN),
                format!("the {} was removed from the Anova account", F::NOUN),
            ),
        };
        if self.active.is_some() {
            self.finish(dev, ctx, out, Err(CommandError::new(code, running)));
        }
        let held = self.held.take().map(|held| held.command);
        for command in held.into_iter().chain(std::mem::take(&mut self.waiting)) {
            let error = CommandError::new(code, waiting.clone());
            Self::answer(dev, ctx, out, command.caller, Outcome::Failed(error));
        }
    }
}

/// A family's echo as the response's `command`. Echoes are maps of numbers and strings,
/// which always serialise; should one ever fail, the response says `null` rather than nothing.
fn echo_json(echo: &impl serde::Serialize) -> Value {
    serde_json::to_value(echo).unwrap_or_else(|e| {
        tracing::error!("a command's echo did not serialise: {e}");
        Value::Null
    })
}
