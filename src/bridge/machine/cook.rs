//! What one cook is (`docs/interface.md` §7), for one device: when it begins, when it is the same
//! cook changed, when and how it ends, and what is recorded of it.
//!
//! The family reports raw transitions between two states ([`Family::events`]); this tracker
//! turns them into the cook's life, the same way for every family:
//! - a cook begins when the device starts cooking, whoever started it (`source`: the command
//!   of ours that sent the start, else `device`);
//! - a change to the running cook — a new target or timer, an oven's new cook in place of the
//!   running one, or the restart a Personal Access Token needs, even through an idle push in
//!   between — is one `cook_changed`, never `cook_stopped` + `cook_started`;
//! - `preheat_complete` comes once per cook (per stage for ovens): a restart does not repeat it;
//! - the end has an outcome and a summary, carried by `cook_stopped` and recorded;
//! - every event carries `cook_id` (`null` outside a cook);
//! - the curve gets a point when a reading moved by 0.1 °C, at most one per 10 s.
//!
//! A cook still open when the daemon stopped comes back from the store ([`CookTracker::resume`]):
//! the device's first state continues it, or closes it as `unknown`.

use super::context::{rfc3339, Ctx};
use super::history::History;
use crate::appliance::family::{Family, Ids};
use crate::appliance::record::{
    CookOpened, CookOutcome, CookSummary, CurvePoint, Record, ResumedCook, Source,
};
use crate::appliance::{CookEvent, CookEventKind};
use crate::bridge::io::HeatSample;
use crate::bridge::outbox::{Outbox, StreamMessage};
use crate::ids::TopicId;
use crate::wire::CloudCommand;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// At most one curve point per this many seconds.
const SAMPLE_INTERVAL_S: i64 = 10;

/// What of the command that started a cook its plan keeps besides what the state shows.
const PLAN_FROM_COMMAND: [&str; 2] = ["food", "stages"];

/// A reading must move at least this much (°C, or % humidity) for a new point.
const SAMPLE_STEP: f64 = 0.1;

/// Events and commands recorded per cook at most: a week of door openings or a runaway
/// automation cannot grow one cook without bound. (They are still published.)
const MAX_RECORDED_PER_COOK: u32 = 1_000;

/// The device a tracker belongs to, for what it publishes and records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta<'a> {
    /// The topic id.
    pub(crate) id: &'a TopicId,
    /// The Anova `type`.
    pub(crate) model: &'a str,
}

/// The cook that is running.
#[derive(Debug)]
struct OpenCook {
    id: String,
    started_at: OffsetDateTime,
    source: Source,
    plan: Map<String, Value>,
    /// When the target was first reached.
    reached_at: Option<OffsetDateTime>,
    min_c: Option<f64>,
    max_c: Option<f64>,
    /// `preheat_complete` was said for this cook (ovens: this stage).
    preheated: bool,
    /// Its timer (ovens: this stage's timer or probe) finished.
    finished: bool,
    /// An alarm or fault was raised during it.
    faulted: bool,
    /// Held open across an idle push while our restart of it is under way.
    interrupted: bool,
    last_point: Option<(OffsetDateTime, CurvePoint)>,
    /// Its first reading and target, °C: where its heating began (the store reads the same
    /// off its first sample).
    first: Option<(f64, f64)>,
    recorded: u32,
}

/// The figures of a cook as `cook_stopped` and the store carry them.
fn summary_of(cook: &OpenCook, ended_at: OffsetDateTime, outcome: CookOutcome) -> CookSummary {
    let seconds = |from: OffsetDateTime| u64::try_from((ended_at - from).whole_seconds().max(0));
    CookSummary {
        outcome,
        duration_s: seconds(cook.started_at).unwrap_or(0),
        time_to_target_s: cook
            .reached_at
            .map(|at| u64::try_from((at - cook.started_at).whole_seconds().max(0)).unwrap_or(0)),
        min_c: cook.min_c,
        max_c: cook.max_c,
    }
}

/// One device's cooks.
#[derive(Debug, Default)]
pub(crate) struct CookTracker {
    open: Option<Box<OpenCook>>,
    /// A cook of the last run, waiting for the device's first state.
    resume: Option<Box<ResumedCook>>,
    /// Our command sent a start while the device was idle: who asked, and what of the
    /// command goes into the plan.
    starting: Option<(Source, Map<String, Value>)>,
    /// Our command is starting the running cook again (a change): who asked.
    restarting: Option<Source>,
    /// Our command sent a stop.
    stopping: bool,
    /// A command of ours is changing the device now: who sent it.
    commanding: Option<Source>,
    /// The device was unavailable before this state: an end seen now was not witnessed.
    gap: bool,
    /// The cook that ended last, for the response of the command that ended it.
    last_closed: Option<String>,
    /// The current (or last) cook's temperatures for the web page's chart.
    pub(super) chart: History,
}

impl CookTracker {
    /// The running cook's id.
    pub(crate) fn current(&self) -> Option<&str> {
        self.open.as_deref().map(|c| c.id.as_str())
    }

    /// The cook a command's response belongs to: the running one, else the one that just
    /// ended (a stop's response comes after the state that ended it).
    pub(crate) fn for_command(&self) -> Option<&str> {
        self.current().or(self.last_closed.as_deref())
    }

    /// A cook the store says was running when the daemon last stopped.
    pub(crate) fn resume(&mut self, cook: ResumedCook) {
        if self.open.is_none() {
            self.resume = Some(Box::new(cook));
        }
    }

    /// The device or the link went away: an end seen after this was not witnessed.
    pub(crate) fn lost_sight(&mut self) {
        self.gap = true;
    }

    /// One of our commands sends `step` (`cooking`: the device's last state cooks); `echo`
    /// is the command as its response echoes it (a start's food and oven stages go into the
    /// cook's plan); `schedule`: the plan (§8.2) it starts, recorded in the cook's plan as
    /// `schedule_id`.
    pub(crate) fn step_sent<E: serde::Serialize>(
        &mut self,
        step: &CloudCommand,
        cooking: bool,
        source: Source,
        echo: &E,
        schedule: Option<&str>,
    ) {
        self.commanding = Some(source);
        if step.starts_a_cook() {
            if cooking {
                self.restarting = Some(source);
            } else {
                let mut asked = Map::new();
                if let Ok(Value::Object(echo)) = serde_json::to_value(echo) {
                    for key in PLAN_FROM_COMMAND {
                        if let Some(value) = echo.get(key).filter(|v| !v.is_null()) {
                            asked.insert(key.to_owned(), value.clone());
                        }
                    }
                }
                if let Some(schedule) = schedule {
                    asked.insert("schedule_id".to_owned(), Value::from(schedule));
                }
                self.starting = Some((source, asked));
            }
        } else if step.stops_a_cook() {
            self.stopping = true;
        }
    }

    /// The running command ended (answered, one way or another). A cook held open for our
    /// restart that did not come back has ended.
    pub(crate) fn command_ended<F: Family>(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        meta: Meta<'_>,
        state: Option<&F::State>,
    ) {
        self.starting = None;
        self.restarting = None;
        self.stopping = false;
        self.commanding = None;
        let held = self.open.as_ref().is_some_and(|c| c.interrupted);
        if held && !state.is_some_and(F::cooking) {
            // Our restart left the device idle.
            self.close::<F>(ctx, out, meta, state, ctx.now.wall, CookOutcome::Failed);
        }
    }

    /// A state push: the cook's life, its events published with `cook_id`, its curve.
    pub(crate) fn on_state<F: Family>(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        meta: Meta<'_>,
        previous: Option<&F::State>,
        current: &F::State,
        was_available: bool,
    ) {
        let now = ctx.now.wall;
        let cooking = F::cooking(current);
        if !was_available {
            self.gap = true;
        }
        if let Some(resumed) = self.resume.take() {
            self.take_over::<F>(ctx, out, meta, *resumed, current);
        }
        if previous.is_none() && cooking && self.open.is_none() {
            // Cooking at the first state, with nothing to continue (history off, or a cook
            // older than it): a cook all the same, so that its events have an id. Not
            // announced: it did not start now.
            self.open_cook::<F>(ctx, out, meta, current);
        }
        let raw = previous.map(|p| F::events(p, current)).unwrap_or_default();
        let mut changed = false;
        for event in raw {
            match event.kind {
                CookEventKind::CookStarted => {
                    if let Some(open) = self.open.as_deref_mut() {
                        // Back from the idle push of our restart: the same cook, changed.
                        changed |= std::mem::take(&mut open.interrupted);
                        continue;
                    }
                    self.open_cook::<F>(ctx, out, meta, current);
                    self.publish::<F>(ctx, out, meta, current, event);
                }
                CookEventKind::CookStopped => {
                    if self.restarting.is_some() {
                        if let Some(open) = self.open.as_deref_mut() {
                            open.interrupted = true;
                            continue;
                        }
                    }
                    let outcome = self.outcome::<F>(previous, current);
                    if self.open.is_some() {
                        self.close::<F>(ctx, out, meta, Some(current), now, outcome);
                    } else {
                        self.publish::<F>(ctx, out, meta, current, event);
                    }
                }
                CookEventKind::PreheatComplete => {
                    if let Some(open) = self.open.as_deref_mut() {
                        if std::mem::replace(&mut open.preheated, true) {
                            continue;
                        }
                        open.reached_at.get_or_insert(now);
                    }
                    self.publish::<F>(ctx, out, meta, current, event);
                }
                CookEventKind::StageChanged => {
                    if let Some(open) = self.open.as_deref_mut() {
                        open.preheated = false;
                        open.finished = false;
                    }
                    self.publish::<F>(ctx, out, meta, current, event);
                }
                CookEventKind::TimerFinished | CookEventKind::ProbeReached => {
                    if let Some(open) = self.open.as_deref_mut() {
                        open.finished = true;
                    }
                    self.publish::<F>(ctx, out, meta, current, event);
                }
                CookEventKind::Alarm => {
                    if let Some(open) = self.open.as_deref_mut() {
                        open.faulted = true;
                    }
                    self.publish::<F>(ctx, out, meta, current, event);
                }
                _ => self.publish::<F>(ctx, out, meta, current, event),
            }
        }
        if let (Some(previous), true) = (previous, cooking) {
            changed |= self.open.as_ref().is_some_and(|c| !c.interrupted)
                && F::cooking(previous)
                && F::cook_changed(previous, current);
        }
        if changed {
            self.changed::<F>(ctx, out, meta, current);
        }
        if cooking {
            self.observe::<F>(out, current, now);
        }
        self.gap = false;
    }

    /// The first state after a restart of the daemon decides about the cook of the last run:
    /// still cooking continues it; idle closes it, as nobody saw how it ended.
    fn take_over<F: Family>(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        meta: Meta<'_>,
        resumed: ResumedCook,
        current: &F::State,
    ) {
        let plan = match serde_json::from_str(&resumed.plan) {
            Ok(Value::Object(plan)) => plan,
            _ => Map::new(),
        };
        let cook = Box::new(OpenCook {
            id: resumed.cook_id,
            started_at: resumed.started_at,
            source: resumed.source,
            plan,
            reached_at: resumed.reached_at,
            min_c: resumed.min_c,
            max_c: resumed.max_c,
            preheated: resumed.reached_at.is_some(),
            finished: false,
            faulted: false,
            interrupted: false,
            last_point: None,
            first: resumed
                .points
                .first()
                .and_then(|(_, temperature, target)| Some((*temperature, (*target)?))),
            recorded: 0,
        });
        self.chart.start(cook.started_at);
        for (at, temperature, target) in &resumed.points {
            self.chart.record(*at, *temperature, *target);
        }
        self.open = Some(cook);
        if F::cooking(current) {
            tracing::info!(device = %meta.id, cook = self.current().unwrap_or_default(), "the cook of the last run goes on");
        } else {
            self.close::<F>(
                ctx,
                out,
                meta,
                Some(current),
                resumed.last_seen,
                CookOutcome::Unknown,
            );
        }
    }

    fn open_cook<F: Family>(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        meta: Meta<'_>,
        current: &F::State,
    ) {
        let now = ctx.now.wall;
        let (source, asked) = self.starting.take().unwrap_or((Source::Device, Map::new()));
        let mut plan = F::plan_of(current);
        plan.extend(asked);
        let id = out.ids.uuid();
        tracing::info!(device = %meta.id, cook = id, source = source.as_str(), "cook started");
        out.record(|| {
            Record::CookOpened(Box::new(CookOpened {
                cook_id: id.clone(),
                device: meta.id.as_str().to_owned(),
                model: meta.model.to_owned(),
                family: F::NOUN,
                source,
                started_at: now,
                plan: Value::Object(plan.clone()).to_string(),
            }))
        });
        self.chart.start(now);
        self.last_closed = None;
        self.open = Some(Box::new(OpenCook {
            id,
            started_at: now,
            source,
            plan,
            reached_at: None,
            min_c: None,
            max_c: None,
            preheated: false,
            finished: false,
            faulted: false,
            interrupted: false,
            last_point: None,
            first: None,
            recorded: 0,
        }));
    }

    /// How the running cook ended, judged at the state that shows it ended.
    fn outcome<F: Family>(&self, previous: Option<&F::State>, current: &F::State) -> CookOutcome {
        let open = self.open.as_deref();
        if open.is_some_and(|c| c.faulted)
            || previous.is_some_and(F::faulted)
            || F::faulted(current)
        {
            CookOutcome::Failed
        } else if open.is_some_and(|c| c.finished) {
            CookOutcome::Completed
        } else if self.stopping {
            CookOutcome::Stopped
        } else if self.gap {
            CookOutcome::Unknown
        } else {
            CookOutcome::StoppedOnDevice
        }
    }

    /// Ends the running cook: `cook_stopped` with the summary, the record, the retained last
    /// cook.
    fn close<F: Family>(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        meta: Meta<'_>,
        state: Option<&F::State>,
        ended_at: OffsetDateTime,
        outcome: CookOutcome,
    ) {
        let Some(cook) = self.open.take() else {
            return;
        };
        let summary = summary_of(&cook, ended_at, outcome);
        // How fast it heated, for the estimates of later plans (`docs/interface.md` §8.2), as
        // the store reads it at the next start.
        if let (Some(seconds @ 1..), Some((from, to))) = (summary.time_to_target_s, cook.first) {
            out.heated.push((
                meta.id.clone(),
                HeatSample {
                    target_c: to,
                    per_minute: (to - from) * 60.0 / seconds as f64,
                },
            ));
        }
        tracing::info!(device = %meta.id, cook = cook.id, outcome = outcome.as_str(), "cook ended");
        let mut details = summary_json(&summary);
        details.insert("source".into(), Value::from(cook.source.as_str()));
        let mut payload = Map::new();
        payload.insert("event_type".into(), Value::from("cook_stopped"));
        payload.insert("cook_id".into(), Value::from(cook.id.as_str()));
        if let Some(state) = state {
            payload.extend(F::event_payload(state));
        }
        payload.insert("at".into(), Value::from(rfc3339(ctx.now.wall)));
        payload.extend(details.clone());
        let payload = Value::Object(payload).to_string();
        out.stream(StreamMessage::Event(meta.id, &payload));
        out.publish(ctx.topics.event(meta.id), payload.clone(), false);
        let id = cook.id.clone();
        out.record(|| Record::Event {
            cook_id: id.clone(),
            at: ctx.now.wall,
            kind: CookEventKind::CookStopped.as_str(),
            payload,
        });
        out.record(|| Record::CookClosed {
            cook_id: id.clone(),
            ended_at,
            summary,
        });
        let mut last = Map::new();
        last.insert("cook_id".into(), Value::from(cook.id.as_str()));
        last.insert("started_at".into(), Value::from(rfc3339(cook.started_at)));
        last.insert("ended_at".into(), Value::from(rfc3339(ended_at)));
        last.extend(details);
        last.insert("plan".into(), Value::Object(cook.plan));
        out.publish(
            ctx.topics.last_cook(meta.id),
            Value::Object(last).to_string(),
            true,
        );
        self.last_closed = Some(cook.id);
    }

    /// The running cook was changed: `cook_changed` and its new plan.
    fn changed<F: Family>(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        meta: Meta<'_>,
        current: &F::State,
    ) {
        let source = self.commanding.unwrap_or(Source::Device);
        let Some(open) = self.open.as_deref_mut() else {
            return;
        };
        let food = open.plan.get("food").cloned();
        open.plan = F::plan_of(current);
        if let Some(food) = food {
            open.plan.insert("food".into(), food);
        }
        let (id, plan) = (
            open.id.clone(),
            Value::Object(open.plan.clone()).to_string(),
        );
        out.record(|| Record::CookChanged { cook_id: id, plan });
        let event = CookEvent::new(CookEventKind::CookChanged).with("source", source.as_str());
        self.publish::<F>(ctx, out, meta, current, event);
    }

    /// Publishes one event with `cook_id`, and records it with the running cook.
    fn publish<F: Family>(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        meta: Meta<'_>,
        state: &F::State,
        event: CookEvent,
    ) {
        let kind = event.kind.as_str();
        let mut payload = Map::new();
        payload.insert("event_type".into(), Value::from(kind));
        payload.insert(
            "cook_id".into(),
            self.current().map_or(Value::Null, Value::from),
        );
        payload.extend(F::event_payload(state));
        payload.insert("at".into(), Value::from(rfc3339(ctx.now.wall)));
        if event.kind == CookEventKind::CookStarted {
            if let Some(open) = &self.open {
                payload.insert("source".into(), Value::from(open.source.as_str()));
            }
        }
        payload.extend(event.details);
        tracing::info!(device = %meta.id, "cook event {kind}");
        let payload = Value::Object(payload).to_string();
        out.stream(StreamMessage::Event(meta.id, &payload));
        out.publish(ctx.topics.event(meta.id), payload.clone(), false);
        if let Some(open) = self.open.as_deref_mut() {
            if open.recorded < MAX_RECORDED_PER_COOK {
                open.recorded += 1;
                let id = open.id.clone();
                out.record(|| Record::Event {
                    cook_id: id,
                    at: ctx.now.wall,
                    kind,
                    payload,
                });
            }
        }
    }

    /// A cooking state: the figures once the target is reached, the chart and the curve.
    fn observe<F: Family>(&mut self, out: &mut Outbox, current: &F::State, now: OffsetDateTime) {
        let Some(open) = self.open.as_deref_mut() else {
            return;
        };
        let point = F::curve_point(current);
        if let (Some(t), Some(_)) = (point.temperature, open.reached_at) {
            open.min_c = Some(open.min_c.map_or(t, |m| m.min(t)));
            open.max_c = Some(open.max_c.map_or(t, |m| m.max(t)));
        }
        if let Some(t) = point.temperature {
            self.chart.record(now, t, point.target);
        }
        if let (None, Some(t), Some(target)) = (open.first, point.temperature, point.target) {
            open.first = Some((t, target));
        }
        let due = match &open.last_point {
            None => true,
            Some((at, last)) => {
                (now - *at).whole_seconds() >= SAMPLE_INTERVAL_S && moved(last, &point)
            }
        };
        if due {
            open.last_point = Some((now, point));
            let id = open.id.clone();
            out.record(|| Record::Sample {
                cook_id: id,
                at: now,
                point,
            });
        }
    }

    /// Records one command and its response with the cook it belongs to.
    pub(crate) fn command_answered(
        &mut self,
        out: &mut Outbox,
        meta: Meta<'_>,
        at: OffsetDateTime,
        source: Source,
        request: &str,
        response: &str,
    ) {
        if !out.recording {
            return;
        }
        let cook_id = self.for_command().map(str::to_owned);
        if let Some(open) = self.open.as_deref_mut() {
            if open.recorded >= MAX_RECORDED_PER_COOK {
                return;
            }
            open.recorded += 1;
        }
        out.record(|| Record::Command {
            device: meta.id.as_str().to_owned(),
            cook_id,
            at,
            source,
            request: request.to_owned(),
            response: response.to_owned(),
        });
    }
}

/// True when any reading moved by at least [`SAMPLE_STEP`] (or appeared, or went away).
fn moved(last: &CurvePoint, now: &CurvePoint) -> bool {
    let pairs = [
        (last.temperature, now.temperature),
        (last.target, now.target),
        (last.probe, now.probe),
        (last.humidity, now.humidity),
    ];
    pairs.iter().any(|pair| match pair {
        (Some(a), Some(b)) => (a - b).abs() >= SAMPLE_STEP - 1e-9,
        (None, None) => false,
        _ => true,
    })
}

/// The summary's keys in events and the retained last cook.
fn summary_json(summary: &CookSummary) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("outcome".into(), Value::from(summary.outcome.as_str()));
    map.insert("duration_s".into(), Value::from(summary.duration_s));
    map.insert("time_to_target_s".into(), summary.time_to_target_s.into());
    map.insert("min_temperature".into(), summary.min_c.into());
    map.insert("max_temperature".into(), summary.max_c.into());
    map
}
