//! One device's pending plan (`docs/interface.md` §8.2) and what it should do at a given moment:
//! keep waiting (until when), start (on time, late, or early for food safety), give up
//! (`schedule_failed`) or report a start missed while the daemon was away (`schedule_missed`).
//! Plain data with pure decisions: the bridge feeds it readings and the time, and carries the
//! decision out. It serialises as the store keeps it, so a restart continues it.

use super::safety::{self, Watch, BUDGET_S, COLD_C};
use crate::appliance::record::Source;
use crate::command::{show_duration, trim};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

/// A cooker that sends no reading for this long while a perishable plan waits is silent: the
/// bridge can no longer see the water, so it starts the cook (§8.3). Shorter than the default
/// `anova.stale_after` (5 min), so the start still reaches a cooker whose pushes stopped; a
/// shorter `anova.stale_after` shortens it too ([`super::plan_silence`]).
pub(crate) const SILENT_AFTER: Duration = Duration::minutes(2);

/// A start that failed because the cloud or the device was unavailable is tried again this
/// often (and at once when they come back), until the latest safe start.
pub(crate) const RETRY_EVERY: Duration = Duration::seconds(30);

/// A plan without perishable food (water only, vegetables) that could not start on time may
/// still start this much later; after that the moment it was meant for is gone.
pub(crate) const LATE_GRACE: Duration = Duration::hours(1);

/// How the time to reach a target was estimated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Estimate {
    /// Heating rate, °C per minute.
    pub(crate) rate_c_per_min: f64,
    /// `history` (the median of this device's similar past cooks) or `default`.
    pub(crate) basis: String,
    /// How many past cooks the median is of (0 for the default).
    pub(crate) cooks: usize,
    /// Seconds from the start to the target, at the water temperature when the plan was made.
    pub(crate) come_up_s: i64,
}

/// Where a plan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stage {
    /// Not started yet.
    Waiting,
    /// Its start command is under way.
    Starting,
    /// A start could not reach the device or the cloud; tried again until the latest safe
    /// start.
    Retrying,
}

/// A pending plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingPlan {
    /// Its id.
    pub(crate) schedule_id: String,
    /// The device's topic id.
    pub(crate) device: String,
    /// `cooker` or `oven`.
    pub(crate) family: String,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    /// When it starts.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) start_at: OffsetDateTime,
    /// When it should be done, for a `ready_by` plan.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) ready_by: Option<OffsetDateTime>,
    /// The latest moment it may still start (food safety, or [`LATE_GRACE`]); for a watched
    /// cooker plan this moves with the water temperature.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) latest_start: OffsetDateTime,
    /// The command that starts it, every value explicit.
    pub(crate) command: Map<String, Value>,
    /// The key of the caller's id (`id` or `transaction`) and its value: the execution's
    /// response carries it.
    pub(crate) id_key: String,
    /// See `id_key`.
    pub(crate) id: Value,
    /// Who made it.
    pub(crate) made_by: Source,
    /// The food named (`none` for water only).
    pub(crate) food: String,
    /// The food must be kept cold while it waits.
    pub(crate) perishable: bool,
    /// The cook's target, °C.
    pub(crate) target_c: f64,
    /// The cook's length once at its target, seconds.
    pub(crate) cook_s: Option<u32>,
    /// The come-up estimate.
    pub(crate) estimate: Estimate,
    /// The water watch of a perishable cooker plan.
    pub(crate) watch: Option<Watch>,
    /// Where it is.
    pub(crate) stage: Stage,
    /// Start attempts so far.
    pub(crate) attempts: u32,
    /// Why the last attempt failed.
    pub(crate) last_error: Option<String>,
    /// Its error code.
    pub(crate) last_code: Option<String>,
    /// When to try again.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) retry_at: Option<OffsetDateTime>,
    /// Why it started early (food safety), once it did.
    pub(crate) alert: Option<String>,
    /// It starts after its time: the daemon was away when it came.
    #[serde(default)]
    pub(crate) late: bool,
}

/// What a plan should do now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Due {
    /// Nothing yet; look again at this time (or at the next reading).
    Wait(Option<OffsetDateTime>),
    /// Start now. `alert`: it starts early for food safety, and why; `late`: its time passed
    /// while the daemon was away, and it is still safe.
    Start {
        /// Why it starts early.
        alert: Option<String>,
        /// It starts late.
        late: bool,
    },
    /// Give up: `schedule_failed`, with why.
    Fail(String),
    /// Its start passed while the daemon was away and starting now is not safe.
    Miss(String),
}

impl PendingPlan {
    /// Seconds to heat to 54.4 °C from the water's last reading.
    fn come_up_to_safe(&self) -> i64 {
        let water = self.watch.as_ref().and_then(|w| w.last_c);
        safety::come_up_to_safe_s(water, self.estimate.rate_c_per_min)
    }

    /// The latest start food safety allows from `now` if the water stays as it is (`silent`:
    /// unknown, counted warm): the budget less the time above 4.4 °C so far and the come-up.
    /// Fixed for a plan without a watch.
    pub(crate) fn latest_safe(&self, now: OffsetDateTime, silent: bool) -> OffsetDateTime {
        match &self.watch {
            Some(watch) => {
                let left = BUDGET_S as f64
                    - watch.exposure_at(now, silent)
                    - self.come_up_to_safe() as f64;
                if watch.is_warm() || silent {
                    now + Duration::seconds_f64(left.max(-1.0e9))
                } else {
                    // Cold water does not use the budget: the plan's own time, then the budget.
                    self.start_at.max(now) + Duration::seconds_f64(left.max(0.0))
                }
            }
            None => self.latest_start,
        }
    }

    /// The decision at `now`. `silent`: the cooker stopped reporting (or is offline), which it
    /// counts as after `silent_after` without a reading; `resumed`: the first look after the
    /// daemon started again.
    pub(crate) fn due(
        &self,
        now: OffsetDateTime,
        silent: bool,
        resumed: bool,
        silent_after: Duration,
    ) -> Due {
        match self.stage {
            Stage::Starting => Due::Wait(None),
            Stage::Retrying => {
                let latest = self.latest_safe(now, silent);
                if now > latest {
                    return Due::Fail(format!(
                        "it could not start until its latest safe start ({}): {}",
                        super::super::machine::rfc3339(latest),
                        self.last_error.as_deref().unwrap_or("unavailable")
                    ));
                }
                match self.retry_at {
                    Some(at) if at > now => Due::Wait(Some(at.min(latest))),
                    _ => Due::Start {
                        alert: None,
                        late: false,
                    },
                }
            }
            Stage::Waiting => self.due_waiting(now, silent, resumed, silent_after),
        }
    }

    fn due_waiting(
        &self,
        now: OffsetDateTime,
        silent: bool,
        resumed: bool,
        silent_after: Duration,
    ) -> Due {
        if resumed && now > self.start_at {
            let latest = self.latest_safe(now, true);
            return if now <= latest {
                Due::Start {
                    alert: None,
                    late: true,
                }
            } else {
                Due::Miss(format!(
                    "its start ({}) passed while the bridge was not running, and starting \
                     now is not safe any more (latest safe start {})",
                    super::super::machine::rfc3339(self.start_at),
                    super::super::machine::rfc3339(latest)
                ))
            };
        }
        if let Some(watch) = &self.watch {
            if silent {
                return Due::Start {
                    alert: Some(format!(
                        "the cooker stopped reporting its water temperature (nothing for {}): \
                         the bridge cannot see whether the food stays cold, so it started the \
                         cook now rather than at {}",
                        show_duration(silent_after.whole_seconds().unsigned_abs()),
                        super::super::machine::rfc3339(self.start_at)
                    )),
                    late: false,
                };
            }
            let exposure = watch.exposure_at(now, false);
            let waiting = if watch.is_warm() {
                (self.start_at - now).as_seconds_f64().max(0.0)
            } else {
                0.0
            };
            let projected = exposure + waiting + self.come_up_to_safe() as f64;
            // Without a reading (just after a restart) only silence decides.
            let known = watch.last_c.is_some();
            if known && now < self.start_at && projected > BUDGET_S as f64 {
                return Due::Start {
                    alert: Some(format!(
                        "the water reached {} °C, above {} °C: waiting until {} would keep the \
                         food in the danger zone for about {} with the time to heat (USDA: at \
                         most 2 h), so the cook started now; it cooks longer at a safe \
                         temperature instead",
                        watch.last_c.map_or("?".to_owned(), trim),
                        trim(COLD_C),
                        super::super::machine::rfc3339(self.start_at),
                        show_duration(projected as u64)
                    )),
                    late: false,
                };
            }
            if now >= self.start_at {
                return Due::Start {
                    alert: None,
                    late: false,
                };
            }
            // The next look: the start, or the moment silence would begin. (While the water
            // holds its temperature the projection does not change: each reading looks again.)
            let silence = watch.last_at.map(|t| t + silent_after);
            let wake = [Some(self.start_at), silence].into_iter().flatten().min();
            return Due::Wait(wake);
        }
        if now >= self.start_at {
            Due::Start {
                alert: None,
                late: false,
            }
        } else {
            Due::Wait(Some(self.start_at))
        }
    }

    /// The command as a response shows it (see [`shown`]).
    pub(crate) fn shown_command(&self) -> Value {
        shown(&self.command)
    }

    /// The plan as `<base>/<id>/schedule`, the API and the response show it.
    pub(crate) fn view(&self, now: OffsetDateTime) -> Value {
        let rfc = super::super::machine::rfc3339;
        let mut map = Map::new();
        map.insert("schedule_id".into(), Value::from(self.schedule_id.as_str()));
        map.insert("device".into(), Value::from(self.device.as_str()));
        map.insert("start_at".into(), Value::from(rfc(self.start_at)));
        map.insert(
            "ready_by".into(),
            self.ready_by.map_or(Value::Null, |t| Value::from(rfc(t))),
        );
        map.insert("command".into(), shown(&self.command));
        map.insert(self.id_key.clone(), self.id.clone());
        map.insert("created_at".into(), Value::from(rfc(self.created_at)));
        map.insert("made_by".into(), Value::from(self.made_by.as_str()));
        map.insert(
            "state".into(),
            Value::from(match self.stage {
                Stage::Waiting => "waiting",
                Stage::Starting => "starting",
                Stage::Retrying => "retrying",
            }),
        );
        let mut estimate = Map::new();
        estimate.insert("come_up_s".into(), Value::from(self.estimate.come_up_s));
        estimate.insert(
            "heating_rate_c_per_min".into(),
            crate::command::json_number(crate::command::round2(self.estimate.rate_c_per_min)),
        );
        estimate.insert("basis".into(), Value::from(self.estimate.basis.as_str()));
        estimate.insert("cooks".into(), Value::from(self.estimate.cooks));
        map.insert("estimate".into(), Value::Object(estimate));
        let mut safety = Map::new();
        safety.insert("food".into(), Value::from(self.food.as_str()));
        safety.insert("perishable".into(), Value::Bool(self.perishable));
        if self.perishable {
            let silent = false;
            safety.insert(
                "latest_start".into(),
                Value::from(rfc(self.latest_safe(now, silent))),
            );
        }
        if let Some(watch) = &self.watch {
            safety.insert(
                "water_temperature".into(),
                watch.last_c.map_or(Value::Null, |c| {
                    crate::command::json_number(crate::command::round2(c))
                }),
            );
            safety.insert(
                "time_above_4_4_s".into(),
                Value::from(watch.exposure_at(now, false).round() as i64),
            );
            safety.insert("budget_s".into(), Value::from(BUDGET_S));
        }
        map.insert("food_safety".into(), Value::Object(safety));
        if let Some(error) = &self.last_error {
            map.insert("last_error".into(), Value::from(error.as_str()));
        }
        Value::Object(map)
    }
}

/// A plan's start command as every response echoes a command (`docs/interface.md` §3.2):
/// timers in seconds as numbers (`"timer": 5400`). The plan keeps them as `"5400s"` because a
/// bare number given as a command means minutes, and the kept command is read again when the
/// plan runs.
fn shown(command: &Map<String, Value>) -> Value {
    fn seconds(value: &mut Value) {
        let parsed = value
            .as_str()
            .and_then(|text| text.strip_suffix('s'))
            .and_then(|digits| digits.parse::<u64>().ok());
        if let Some(seconds) = parsed {
            *value = Value::from(seconds);
        }
    }
    let mut shown = command.clone();
    if let Some(timer) = shown.get_mut("timer") {
        seconds(timer);
    }
    if let Some(Value::Array(stages)) = shown.get_mut("stages") {
        for stage in stages.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(timer) = stage.get_mut("timer") {
                seconds(timer);
            }
        }
    }
    Value::Object(shown)
}
