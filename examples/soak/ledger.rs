//! Every command the soak sent, every response it saw, and every command the simulated cloud
//! received, checked against the contract (`docs/interface.md` §3.2, issue 9):
//! - every command is answered exactly once, with its id, within
//!   `command_timeout + confirm_timeout`, with a code its kind allows;
//! - only valid, non-retained commands reach the cloud, each at most that long after it was
//!   sent, in the order they were sent per device, never after it was answered and never after
//!   a newer command for the same device was answered `ok`.
//!
//! Cloud commands are traced back to MQTT commands by their target temperature: every valid
//! command with a target carries a marker (cookers 40.0 + n × 0.1 °C, ovens 100.0 + n × 0.1 °C
//! on the first stage, n < 400) unique among the last 400 commands of its device; retained
//! commands use 85.0–88.9 °C (ovens 160.0–163.9 °C), which no other command uses.

use crate::daemon::{COMMAND_TIMEOUT, CONFIRM_TIMEOUT};
use crate::report::Violations;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::time::Instant;

/// Delivery through the broker and to the observer, on top of the daemon's own deadline.
pub(crate) const SLACK: Duration = Duration::from_millis(1500);
/// How many target markers there are per device.
pub(crate) const MARKERS: u64 = 400;

/// The longest a command may take to be answered.
pub(crate) fn answer_bound() -> Duration {
    COMMAND_TIMEOUT + CONFIRM_TIMEOUT + SLACK
}

/// What the soak sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// `{"cook": true, "target_temperature": marker, "timer": …}`.
    Start,
    /// `{"cook": false}`.
    Stop,
    /// `{"target_temperature": marker}`.
    Target,
    /// A target far above every model's maximum.
    OutOfRange,
    /// `{"cook": "maybe"}`.
    BadValue,
    /// A key that does not exist.
    UnknownKey,
    /// `{"id": …}` and nothing else: nothing to do.
    NothingToDo,
    /// A start published retained (target 85.0–88.9 °C).
    Retained,
    /// Not JSON (no id: answered with a generated one).
    NotJson,
    /// `set/target_temperature` with a plain value (no id).
    PlainTarget,
    /// `set/cook` with a plain value that is not a switch (no id).
    PlainBad,
    /// Oven: a start with two stages, the first at the marker.
    OvenStages,
    /// Oven: a plan no oven takes (a timer and a probe on one stage, a wet bulb over 92 °C
    /// without steam, no stages, no element): refused, nothing sent.
    InvalidPlan,
    /// `oven_v1`: a plan only a 2.0 takes (all three elements, the bottom element alone over
    /// 180 °C, a timer that waits for the camera): refused, never sent.
    WrongGeneration,
    /// Oven: a start to an oven that acknowledges and drops it (unplugged): `not_confirmed`.
    DroppedPlan,
}

/// Ovens have "oven" in their ids, cookers do not.
pub(crate) fn is_oven(device: &str) -> bool {
    device.contains("oven")
}

/// The first target marker of a device's family, and the first retained one.
fn marker_bases(device: &str) -> (f64, f64) {
    if is_oven(device) {
        (100.0, 160.0)
    } else {
        (40.0, 85.0)
    }
}

impl Kind {
    /// A valid command that may run on the cloud.
    pub(crate) fn valid(self) -> bool {
        matches!(
            self,
            Self::Start
                | Self::Stop
                | Self::Target
                | Self::PlainTarget
                | Self::OvenStages
                | Self::DroppedPlan
        )
    }

    /// Carries an id the response must echo.
    pub(crate) fn has_id(self) -> bool {
        !matches!(self, Self::NotJson | Self::PlainTarget | Self::PlainBad)
    }

    /// The error codes (`None`: ok) this kind may be answered with, sent to an oven or not.
    fn allowed(self, code: Option<&str>, oven: bool) -> bool {
        // An oven's plan is checked when its turn in the device's queue comes (a change is
        // checked against the running cook): behind slow commands it may time out there first,
        // with nothing sent.
        let queued = oven
            && code == Some("timeout")
            && matches!(
                self,
                Self::OutOfRange | Self::InvalidPlan | Self::WrongGeneration | Self::DroppedPlan
            );
        if queued {
            return true;
        }
        // Conditions of the moment that any command may meet before it is looked at closely.
        let transient = matches!(
            code,
            Some("rate_limited" | "device_offline" | "cloud_unavailable")
        );
        match self {
            Self::Start | Self::Stop | Self::Target | Self::PlainTarget | Self::OvenStages => {
                matches!(
                    code,
                    None | Some(
                        "rate_limited"
                            | "device_offline"
                            | "cloud_unavailable"
                            | "timeout"
                            | "not_confirmed"
                            | "rejected"
                    )
                )
            }
            Self::OutOfRange => code == Some("out_of_range") || transient,
            Self::BadValue | Self::PlainBad => code == Some("invalid_value") || transient,
            Self::UnknownKey => code == Some("unknown_key") || transient,
            Self::NothingToDo => code == Some("invalid_value") || transient,
            Self::Retained => code == Some("retained_command"),
            Self::NotJson => code == Some("invalid_json") || transient,
            Self::InvalidPlan | Self::WrongGeneration => {
                matches!(code, Some("invalid_value" | "out_of_range")) || transient
            }
            // The oven drops it: never `ok`, and no `timeout` either (the cloud answers).
            Self::DroppedPlan => code == Some("not_confirmed") || transient,
        }
    }
}

/// One response as seen.
#[derive(Debug, Clone)]
struct Answer {
    at: Instant,
    code: Option<String>,
}

/// One command sent.
#[derive(Debug)]
struct Sent {
    device: String,
    /// Order among the device's commands.
    dev_seq: u64,
    kind: Kind,
    id: Option<String>,
    sent_at: Instant,
    /// The broker was down around it: it may be lost, late or delivered twice.
    at_risk: bool,
    answers: Vec<Answer>,
    executed: bool,
    audited: bool,
}

/// Per device.
#[derive(Debug, Default)]
struct DeviceBook {
    next_seq: u64,
    next_marker: u64,
    next_retained: u64,
    /// The newest command of this device that ran on the cloud.
    max_executed: Option<u64>,
    /// marker → index into `sent`.
    by_marker: HashMap<u64, usize>,
    anonymous_sent: u64,
    anonymous_answers: u64,
}

/// The ledger.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    sent: Vec<Sent>,
    by_id: HashMap<String, usize>,
    devices: BTreeMap<String, DeviceBook>,
    /// Answer codes by kind, for the summary.
    pub(crate) codes: BTreeMap<(Kind, String), u64>,
    /// Answer codes of commands without an id.
    pub(crate) anonymous_codes: BTreeMap<String, u64>,
    /// Answer latencies of commands with ids.
    pub(crate) latencies: Vec<Duration>,
    /// Cloud commands received, by name.
    pub(crate) cloud_commands: BTreeMap<String, u64>,
    /// Commands excused from the lost/late/duplicate checks because of a broker restart.
    pub(crate) excused: u64,
    /// Broker outages: [start, end) (end `None` while down).
    pub(crate) broker_down: Vec<(Instant, Option<Instant>)>,
}

/// A command to send, as planned by the ledger.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// Index in the ledger.
    pub(crate) index: usize,
    /// The id in the payload, if any.
    pub(crate) id: Option<String>,
    /// The target marker in °C, if any.
    pub(crate) target_c: Option<f64>,
}

impl Ledger {
    /// Registers a command about to be sent to `device` and returns its id and marker.
    pub(crate) fn plan(&mut self, device: &str, kind: Kind, id_seq: u64) -> Planned {
        let book = self.devices.entry(device.to_owned()).or_default();
        let dev_seq = book.next_seq;
        book.next_seq += 1;
        let (base, retained_base) = marker_bases(device);
        let (marker, target_c) = match kind {
            Kind::Start
            | Kind::Target
            | Kind::PlainTarget
            | Kind::OvenStages
            | Kind::DroppedPlan => {
                let n = book.next_marker % MARKERS;
                book.next_marker += 1;
                (Some(n), Some(base + n as f64 / 10.0))
            }
            Kind::Retained => {
                let n = book.next_retained % 40;
                book.next_retained += 1;
                (None, Some(retained_base + n as f64 / 10.0))
            }
            _ => (None, None),
        };
        let id = kind.has_id().then(|| format!("soak-{id_seq:06}"));
        if !kind.has_id() {
            book.anonymous_sent += 1;
        }
        let index = self.sent.len();
        if let Some(n) = marker {
            book.by_marker.insert(n, index);
        }
        if let Some(id) = &id {
            self.by_id.insert(id.clone(), index);
        }
        self.sent.push(Sent {
            device: device.to_owned(),
            dev_seq,
            kind,
            id: id.clone(),
            sent_at: Instant::now(),
            at_risk: false,
            answers: Vec::new(),
            executed: false,
            audited: false,
        });
        Planned {
            index,
            id,
            target_c,
        }
    }

    /// The broker did not acknowledge the publish: the command may never arrive.
    pub(crate) fn unacknowledged(&mut self, index: usize) {
        if let Some(sent) = self.sent.get_mut(index) {
            sent.at_risk = true;
        }
    }

    /// How many commands were sent, and how many of them carried an id.
    pub(crate) fn sent_counts(&self) -> (usize, usize) {
        (
            self.sent.len(),
            self.sent.iter().filter(|s| s.id.is_some()).count(),
        )
    }

    /// Commands sent by kind.
    pub(crate) fn sent_by_kind(&self) -> BTreeMap<Kind, u64> {
        let mut map = BTreeMap::new();
        for s in &self.sent {
            *map.entry(s.kind).or_default() += 1;
        }
        map
    }

    /// A response on `<base>/<device>/response`.
    pub(crate) fn on_response(&mut self, device: &str, payload: &str, at: Instant, v: &Violations) {
        let Ok(Value::Object(body)) = serde_json::from_str::<Value>(payload) else {
            v.add(format!(
                "{device}: a response that is not a JSON object: {payload}"
            ));
            return;
        };
        let code = match body.get("status").and_then(Value::as_str) {
            Some("ok") => None,
            Some("error") => Some(
                body.get("error")
                    .and_then(|e| e.get("code"))
                    .and_then(Value::as_str)
                    .unwrap_or("<no code>")
                    .to_owned(),
            ),
            other => {
                v.add(format!(
                    "{device}: a response with status {other:?}: {payload}"
                ));
                return;
            }
        };
        let id = body.get("id").and_then(Value::as_str);
        let Some(&index) = id.and_then(|id| self.by_id.get(id)) else {
            let book = self.devices.entry(device.to_owned()).or_default();
            book.anonymous_answers += 1;
            if book.anonymous_answers > book.anonymous_sent {
                v.add(format!(
                    "{device}: more answers with unknown ids ({}) than commands without one \
                     ({}); the last: {payload}",
                    book.anonymous_answers, book.anonymous_sent
                ));
            }
            *self
                .anonymous_codes
                .entry(code.unwrap_or_else(|| "ok".into()))
                .or_default() += 1;
            return;
        };
        let sent = &mut self.sent[index];
        if sent.device != device {
            v.add(format!(
                "{:?}: answered on {device}'s topic, sent to {}",
                sent.id, sent.device
            ));
        }
        sent.answers.push(Answer {
            at,
            code: code.clone(),
        });
        let took = at.saturating_duration_since(sent.sent_at);
        if sent.answers.len() == 1 {
            self.latencies.push(took);
            *self
                .codes
                .entry((sent.kind, code.clone().unwrap_or_else(|| "ok".into())))
                .or_default() += 1;
        }
        if !sent.kind.allowed(code.as_deref(), is_oven(device)) {
            v.add(format!(
                "{:?} ({:?}) answered {:?}: {payload}",
                sent.id, sent.kind, code
            ));
        }
        // A retained command is answered again each time the daemon subscribes anew.
        let repeat_ok = sent.kind == Kind::Retained;
        if sent.audited && !sent.at_risk && !repeat_ok {
            v.add(format!(
                "{:?} ({:?}) answered again or late, {:.1} s after it was sent: {payload}",
                sent.id,
                sent.kind,
                took.as_secs_f64()
            ));
        }
    }

    /// A command the simulated cloud received: `cooker_id` as the cloud knows it, its name,
    /// its target in °C if it has one.
    pub(crate) fn on_cloud_command(
        &mut self,
        cooker_id: &str,
        name: &str,
        target_c: Option<f64>,
        received_at: Instant,
        v: &Violations,
    ) {
        *self.cloud_commands.entry(name.to_owned()).or_default() += 1;
        let device = cooker_id.to_lowercase();
        let (base, retained_base) = marker_bases(&device);
        let index = match target_c {
            Some(t) if (retained_base - 0.05..retained_base + 4.0).contains(&t) => {
                v.add(format!(
                    "{device}: a retained command ran ({name} at {t} °C)"
                ));
                return;
            }
            Some(t) => {
                let n = ((t - base) * 10.0).round();
                let found = (0.0..MARKERS as f64)
                    .contains(&n)
                    .then_some(n as u64)
                    .and_then(|n| {
                        self.devices
                            .get(&device)
                            .and_then(|b| b.by_marker.get(&n).copied())
                    });
                match found {
                    Some(index) => index,
                    None => {
                        v.add(format!(
                            "{device}: {name} at {t} °C reached the cloud, but no command asked for it"
                        ));
                        return;
                    }
                }
            }
            None if name.ends_with("_STOP") => {
                // The oldest stop of this device that has neither run nor been answered; one
                // the broker may have lost only when no other qualifies.
                let candidates: Vec<usize> = self
                    .sent
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        s.device == device
                            && s.kind == Kind::Stop
                            && !s.executed
                            && s.answers.iter().all(|a| a.at > received_at)
                            && received_at.saturating_duration_since(s.sent_at) <= answer_bound()
                    })
                    .map(|(i, _)| i)
                    .collect();
                let found = candidates
                    .iter()
                    .copied()
                    .find(|i| !self.risky(*i))
                    .or_else(|| candidates.first().copied());
                match found {
                    Some(index) => index,
                    None => {
                        v.add(format!(
                            "{device}: {name} reached the cloud, but no recent stop waits for it"
                        ));
                        return;
                    }
                }
            }
            // Timer and unit changes carry no marker: counted only.
            None => return,
        };
        let book_max = self.devices.get(&device).and_then(|b| b.max_executed);
        // Around a broker restart MQTT may deliver a command late (a client resends it after
        // reconnecting), after newer ones from other clients: the daemon saw it last, so it
        // rightly runs last. Such commands are excused from the order checks.
        let risky = self.risky(index);
        if risky {
            self.excused += 1;
        }
        let sent = &self.sent[index];
        let what = format!("{:?} ({:?}, {name})", sent.id, sent.kind);
        if !sent.kind.valid() {
            v.add(format!("{device}: {what} reached the cloud unvalidated"));
        }
        if !risky && book_max.is_some_and(|max| sent.dev_seq < max) {
            v.add(format!(
                "{device}: {what} ran after a newer command of the same device had run"
            ));
        }
        let late = received_at.saturating_duration_since(sent.sent_at);
        if late > answer_bound() && !risky {
            v.add(format!(
                "{device}: {what} ran {:.1} s after it was sent",
                late.as_secs_f64()
            ));
        }
        if let Some(answer) = sent.answers.iter().find(|a| a.at < received_at) {
            v.add(format!(
                "{device}: {what} ran after it had been answered {:?}",
                answer.code
            ));
        }
        let dev_seq = sent.dev_seq;
        let newer_ok = self.sent.iter().any(|s| {
            s.device == device
                && s.dev_seq > dev_seq
                && s.kind.valid()
                && s.answers
                    .iter()
                    .any(|a| a.code.is_none() && a.at < received_at)
                && received_at.saturating_duration_since(s.sent_at) <= answer_bound() * 4
        });
        if newer_ok && !risky {
            v.add(format!(
                "{device}: {what} ran after a newer command for it had been answered ok"
            ));
        }
        self.sent[index].executed = true;
        if let Some(book) = self.devices.get_mut(&device) {
            book.max_executed = Some(book.max_executed.map_or(dev_seq, |m| m.max(dev_seq)));
        }
    }

    /// The first answer's code of command `index` (`Some(None)`: `ok`), once answered.
    pub(crate) fn first_answer(&self, index: usize) -> Option<Option<String>> {
        self.sent
            .get(index)
            .and_then(|s| s.answers.first())
            .map(|a| a.code.clone())
    }

    /// The broker did not acknowledge command `index`, or was down around it.
    fn risky(&self, index: usize) -> bool {
        self.sent[index].at_risk || self.at_risk(self.sent[index].sent_at)
    }

    fn at_risk(&self, sent_at: Instant) -> bool {
        let end_of_window = sent_at + answer_bound();
        self.broker_down.iter().any(|(start, end)| {
            let end = end.map(|e| e + Duration::from_secs(1));
            *start <= end_of_window && end.is_none_or(|e| sent_at <= e)
        })
    }

    /// Checks every command whose answer is due by `now` (all of them when `last`): exactly
    /// one answer, in time.
    pub(crate) fn audit(&mut self, now: Instant, last: bool, v: &Violations) {
        let grace = answer_bound() + Duration::from_secs(2);
        for index in 0..self.sent.len() {
            if self.sent[index].audited || (!last && now < self.sent[index].sent_at + grace) {
                continue;
            }
            let at_risk = self.sent[index].at_risk || self.at_risk(self.sent[index].sent_at);
            let sent = &mut self.sent[index];
            sent.audited = true;
            sent.at_risk = at_risk;
            if sent.id.is_none() {
                continue;
            }
            let what = format!("{:?} ({:?}, to {})", sent.id, sent.kind, sent.device);
            let count = sent.answers.len();
            let late = sent
                .answers
                .first()
                .map(|a| a.at.saturating_duration_since(sent.sent_at))
                .filter(|took| *took > answer_bound());
            if at_risk && (count != 1 || late.is_some()) {
                self.excused += 1;
                continue;
            }
            if count == 0 {
                v.add(format!("{what} was never answered"));
            } else if count > 1 && sent.kind != Kind::Retained {
                v.add(format!("{what} was answered {count} times"));
            }
            if let Some(took) = late {
                v.add(format!(
                    "{what} was answered after {:.1} s",
                    took.as_secs_f64()
                ));
            }
        }
    }

    /// Per device: commands without an id sent, and answers with an unknown id seen.
    pub(crate) fn anonymous(&self) -> (u64, u64) {
        self.devices.values().fold((0, 0), |(s, a), b| {
            (s + b.anonymous_sent, a + b.anonymous_answers)
        })
    }
}
