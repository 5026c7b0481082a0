//! The bridge as a whole: a fuzzer-chosen script of inputs — device lists and states (real
//! captures of every family with fuzzer-edited numbers, through the client's registry), any
//! cloud frame, commands on `set`, `set/<key>` and the API (valid and not, retained or not,
//! with ids), cloud results, link changes, broker reconnects, Home Assistant births, bridge
//! requests and time — driven through the sans-IO `Bridge` as the daemon drives it.
//!
//! Invariants:
//! - every command is answered exactly once, carrying the caller's id, by the time its
//!   deadlines have passed;
//! - no command reaches the cloud unvalidated: a command answered with a validation error, and
//!   every retained command, sends nothing in the step it arrives; every cloud command
//!   addresses a known device with values within the contract's ranges;
//! - a retained command is answered `retained_command` and never runs.

#![no_main]

#[path = "common.rs"]
mod common;

use anova2mqtt::bridge::{ApiTicket, Input, Output, Ticket};
use anova2mqtt::cloud::client::fuzzing::FrameReader;
use anova2mqtt::cloud::{CloudError, CloudEvent, LinkState};
use anova2mqtt::sous_vide::wire::ApcCommand;
use anova2mqtt::wire::CloudCommand;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// One device per captured state: its frame, with the cookerId replaced.
const STATES: &[(&str, &str, &str)] = &[
    (
        "a7fuzz000000000001",
        "A7COOKERID000000000001",
        include_str!("../../tests/fixtures/anova-messages/EVENT_APC_STATE.a7.cooking.real.json"),
    ),
    (
        "a7fuzz000000000002",
        "A7COOKERID000000000001",
        include_str!("../../tests/fixtures/anova-messages/EVENT_APC_STATE.a7.idle.real.json"),
    ),
    (
        "profuzz00000000003",
        "",
        include_str!(
            "../../tests/fixtures/anova-messages/EVENT_APC_STATE.pro.preheating.real.json"
        ),
    ),
    (
        "a3fuzz000000000004",
        "",
        include_str!("../../tests/fixtures/anova-messages/EVENT_APC_STATE.a3.cooking.real.json"),
    ),
    (
        "ovenv1fuzz00000005",
        "",
        include_str!("../../tests/fixtures/anova-messages/EVENT_APO_STATE.oven_v1.idle.real.json"),
    ),
    (
        "ovenv2fuzz00000006",
        "",
        include_str!(
            "../../tests/fixtures/anova-messages/EVENT_APO_STATE.oven_v2.cooking.real.json"
        ),
    ),
];

/// Command keys of both families, and some that are not.
const KEYS: &[&str] = &[
    "cook",
    "mode",
    "target_temperature",
    "timer",
    "display_unit",
    "food",
    "stages",
    "steam",
    "probe_target",
    "fan_speed",
    "elements",
    "vent",
    "temprature",
    "",
];

#[derive(Debug, Arbitrary)]
enum Op {
    /// A device's state: a capture with up to a few numbers replaced.
    State {
        device: u8,
        edits: Vec<(u8, i32)>,
        online: bool,
    },
    /// Any text as a cloud frame.
    Frame(String),
    /// A device list of a subset of the devices.
    List { mask: u8, ovens: bool },
    /// A command object on `set` or the API.
    Command {
        device: u8,
        fields: Vec<(u8, Val)>,
        id: IdChoice,
        retained: bool,
        api: bool,
    },
    /// Raw bytes on `set`.
    Raw {
        device: u8,
        payload: Vec<u8>,
        retained: bool,
    },
    /// A plain value on `set/<key>`.
    Plain {
        device: u8,
        key: u8,
        value: String,
        retained: bool,
    },
    /// The cloud's answer to one outstanding command.
    Result { which: u8, outcome: u8 },
    /// The link changes (in-flight commands fail as the client fails them).
    Link { state: u8, fail_first: bool },
    /// The broker connection.
    Mqtt(bool),
    /// Home Assistant's birth.
    Birth,
    /// A bridge request.
    Request {
        op: u8,
        payload: Vec<u8>,
        retained: bool,
    },
    /// Time passes.
    Wait(u16),
}

#[derive(Debug, Arbitrary)]
enum Val {
    Bool(bool),
    Int(i32),
    Float(f64),
    Text(String),
    Word(u8),
    Null,
    List(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum IdChoice {
    None,
    Id,
    Transaction,
    NumberId,
    Bad,
}

const WORDS: &[&str] = &[
    "on", "off", "heat", "start", "stop", "57.5C", "135F", "90m", "1h30m", "C", "F", "poultry",
    "beef", "maybe", "",
];

fn value(v: &Val) -> Value {
    match v {
        Val::Bool(b) => json!(b),
        Val::Int(i) => json!(i),
        Val::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Val::Text(t) => json!(t),
        Val::Word(w) => json!(WORDS[*w as usize % WORDS.len()]),
        Val::Null => Value::Null,
        Val::List(l) => json!([{"type": "cook", "temperature": l.first().copied().unwrap_or(0)}]),
    }
}

fn device_id(device: u8) -> &'static str {
    // One id in eight is unknown: it must be answered too.
    if device % 8 == 7 {
        return "nosuchdevice";
    }
    STATES[device as usize % STATES.len()].0
}

fn state_frame(device: u8, edits: &[(u8, i32)], online: bool) -> String {
    let (id, _, text) = STATES[device as usize % STATES.len()];
    let Ok(mut frame) = serde_json::from_str::<Value>(text) else {
        return String::new();
    };
    if let Some(payload) = frame.get_mut("payload").and_then(Value::as_object_mut) {
        payload.insert("cookerId".into(), json!(id));
        if let Some(Value::Object(state)) = payload.get_mut("state") {
            if let Some(Value::Object(inner)) = state.get_mut("state") {
                inner.insert("online".into(), json!(online));
            }
        }
    }
    let mut leaves = Vec::new();
    collect_numbers(&mut frame, &mut leaves);
    for (index, new) in edits.iter().take(4) {
        if leaves.is_empty() {
            break;
        }
        let n = *index as usize % leaves.len();
        *leaves[n] = json!(new);
    }
    frame.to_string()
}

fn collect_numbers<'a>(v: &'a mut Value, out: &mut Vec<&'a mut Value>) {
    match v {
        Value::Number(_) => out.push(v),
        Value::Array(a) => a.iter_mut().for_each(|x| collect_numbers(x, out)),
        Value::Object(o) => o.values_mut().for_each(|x| collect_numbers(x, out)),
        _ => {}
    }
}

fn list_frame(mask: u8, ovens: bool) -> String {
    let entries: Vec<Value> = STATES
        .iter()
        .enumerate()
        .filter(|(i, (id, ..))| mask & (1 << i) != 0 && id.starts_with("oven") == ovens)
        .map(|(_, (id, _, text))| {
            let kind = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|f| f.pointer("/payload/type").cloned())
                .unwrap_or(json!("a7"));
            json!({"cookerId": id, "type": kind, "name": id})
        })
        .collect();
    let command = if ovens {
        "EVENT_APO_WIFI_LIST"
    } else {
        "EVENT_APC_WIFI_LIST"
    };
    json!({"command": command, "payload": entries}).to_string()
}

/// Codes that mean "refused before anything was sent".
const VALIDATION: &[&str] = &[
    "invalid_json",
    "unknown_key",
    "invalid_value",
    "out_of_range",
    "unsafe",
    "retained_command",
];

struct Harness {
    driver: common::Driver,
    reader: FrameReader,
    /// Our ids → how often answered.
    answers: HashMap<String, u32>,
    /// Commands sent with our id, and whether they came over MQTT.
    expected: BTreeMap<String, bool>,
    /// MQTT commands whose answer may be lost: the broker went away before it (the bridge
    /// publishes nothing while it is away; the contract cannot be kept without a broker).
    excused: HashSet<String>,
    /// The broker is connected: MQTT messages only arrive then.
    mqtt_up: bool,
    /// Cloud commands in flight: ticket → deadline.
    in_flight: BTreeMap<Ticket, Instant>,
    next_id: u64,
    next_ticket: u64,
}

impl Harness {
    fn new() -> Self {
        Self {
            driver: common::Driver::new(),
            reader: FrameReader::default(),
            answers: HashMap::new(),
            expected: BTreeMap::new(),
            excused: HashSet::new(),
            mqtt_up: false,
            in_flight: BTreeMap::new(),
            next_id: 0,
            next_ticket: 0,
        }
    }

    /// Feeds an input; checks and books its outputs. Returns the codes of the responses to
    /// `id`, and whether a cloud command went out.
    fn feed(&mut self, input: Input, id: Option<&str>) -> (Vec<Option<String>>, bool) {
        let outputs = self.driver.input(input);
        // The online count is kept as devices change, not counted: it must match a count.
        let views = self.driver.bridge.device_views();
        let counted = views
            .as_array()
            .map_or(0, |all| all.iter().filter(|d| d["online"] == true).count());
        assert_eq!(self.driver.bridge.health().online, counted, "online count drifted");
        let mut codes = Vec::new();
        let mut sent = false;
        for output in outputs {
            match output {
                Output::Publish(p)
                    if p.topic.ends_with("/response") && !p.topic.contains("/bridge/") =>
                {
                    let body: Value = serde_json::from_str(&p.payload).expect("a response is JSON");
                    let answered = body.get("id").or_else(|| body.get("transaction"));
                    self.book(answered, &body, id, &mut codes);
                }
                Output::Reply { response, .. } => {
                    let body: Value =
                        serde_json::from_str(&response.to_json()).expect("a response is JSON");
                    let answered = body.get("id").or_else(|| body.get("transaction"));
                    self.book(answered, &body, id, &mut codes);
                }
                Output::Cloud {
                    ticket,
                    command,
                    deadline,
                } => {
                    sent = true;
                    check_cloud_command(&command);
                    assert!(
                        self.in_flight.insert(ticket, deadline).is_none(),
                        "ticket reused"
                    );
                }
                _ => {}
            }
        }
        (codes, sent)
    }

    fn book(
        &mut self,
        answered: Option<&Value>,
        body: &Value,
        id: Option<&str>,
        codes: &mut Vec<Option<String>>,
    ) {
        let Some(text) = answered.map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }) else {
            panic!("a response without an id: {body}");
        };
        let code = body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if Some(text.as_str()) == id {
            codes.push(code);
        }
        if self.expected.contains_key(&text) {
            let n = self.answers.entry(text.clone()).or_default();
            *n += 1;
            assert!(*n == 1, "{text} answered {n} times: {body}");
        }
    }

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("fz{}", self.next_id)
    }

    /// A command with our id: answered once, validated before anything is sent.
    fn command(&mut self, input: Input, id: Option<String>, retained: bool) {
        let mqtt = matches!(input, Input::Mqtt { .. });
        if mqtt && !self.mqtt_up {
            return;
        }
        if let Some(id) = &id {
            self.expected.insert(id.clone(), mqtt);
        }
        let (codes, sent) = self.feed(input, id.as_deref());
        if retained {
            assert!(!sent, "a retained command sent something to the cloud");
            if id.is_some() {
                assert_eq!(
                    codes,
                    vec![Some("retained_command".to_owned())],
                    "retained command not refused"
                );
            }
        }
        for code in codes.iter().flatten() {
            assert!(
                !(VALIDATION.contains(&code.as_str()) && sent),
                "a command refused {code} sent something to the cloud"
            );
        }
    }

    /// The driver reports a cloud command's result at the latest at its deadline.
    fn expire(&mut self) {
        let now = self.driver.instant;
        let due: Vec<Ticket> = self
            .in_flight
            .iter()
            .filter(|(_, d)| **d <= now)
            .map(|(t, _)| *t)
            .collect();
        for ticket in due {
            self.in_flight.remove(&ticket);
            self.feed(
                Input::CloudResult {
                    ticket,
                    result: Err(CloudError::Timeout),
                },
                None,
            );
        }
    }

    fn wait(&mut self, by: Duration) {
        let target = self.driver.instant + by;
        // Wake at every deadline on the way, as the daemon's loop does.
        loop {
            let next = [
                self.driver.bridge.poll_timeout(),
                self.in_flight.values().min().copied(),
            ]
            .into_iter()
            .flatten()
            .min()
            .filter(|t| *t <= target);
            let Some(at) = next else { break };
            if at > self.driver.instant {
                let step = at - self.driver.instant;
                self.driver.advance(step);
            }
            self.expire();
            self.feed(Input::Tick, None);
            if self
                .driver
                .bridge
                .poll_timeout()
                .is_some_and(|t| t <= self.driver.instant)
                && self.in_flight.values().all(|d| *d > self.driver.instant)
            {
                // A deadline that does not move after its tick would loop forever.
                self.driver.advance(Duration::from_millis(1));
            }
        }
        if target > self.driver.instant {
            let step = target - self.driver.instant;
            self.driver.advance(step);
        }
        self.expire();
        self.feed(Input::Tick, None);
    }

    fn op(&mut self, op: Op) {
        match op {
            Op::State {
                device,
                edits,
                online,
            } => {
                let text = state_frame(device, &edits, online);
                for event in self.reader.frame(&text, self.driver.wall, true) {
                    self.feed(Input::Cloud(event), None);
                }
            }
            Op::Frame(text) => {
                for event in self.reader.frame(&text, self.driver.wall, false) {
                    self.feed(Input::Cloud(event), None);
                }
            }
            Op::List { mask, ovens } => {
                let text = list_frame(mask, ovens);
                for event in self.reader.frame(&text, self.driver.wall, false) {
                    self.feed(Input::Cloud(event), None);
                }
            }
            Op::Command {
                device,
                fields,
                id,
                retained,
                api,
            } => {
                let mut object = Map::new();
                for (key, v) in fields.iter().take(6) {
                    object.insert(KEYS[*key as usize % KEYS.len()].to_owned(), value(v));
                }
                let ours = self.fresh_id();
                let id = match id {
                    IdChoice::None => None,
                    IdChoice::Id => {
                        object.insert("id".into(), json!(ours));
                        Some(ours)
                    }
                    IdChoice::Transaction => {
                        object.insert("transaction".into(), json!(ours));
                        Some(ours)
                    }
                    IdChoice::NumberId => {
                        let n = 1_000_000 + self.next_id;
                        object.insert("id".into(), json!(n));
                        Some(n.to_string())
                    }
                    // An id of the wrong type is still echoed (as sent).
                    IdChoice::Bad => {
                        object.insert("id".into(), json!([ours]));
                        None
                    }
                };
                let payload = Value::Object(object).to_string().into_bytes();
                let device = device_id(device).to_owned();
                let input = if api && !retained {
                    self.next_ticket += 1;
                    Input::ApiCommand {
                        ticket: ApiTicket(self.next_ticket),
                        source: anova2mqtt::bridge::Source::Http,
                        device: device.into(),
                        payload,
                    }
                } else {
                    Input::Mqtt {
                        topic: format!("anova2mqtt/{device}/set"),
                        payload,
                        retained,
                    }
                };
                self.command(input, id, retained);
            }
            Op::Raw {
                device,
                payload,
                retained,
            } => {
                let device = device_id(device);
                let input = Input::Mqtt {
                    topic: format!("anova2mqtt/{device}/set"),
                    payload,
                    retained,
                };
                self.command(input, None, retained);
            }
            Op::Plain {
                device,
                key,
                value,
                retained,
            } => {
                let device = device_id(device);
                let key = KEYS[key as usize % KEYS.len()];
                let input = Input::Mqtt {
                    topic: format!("anova2mqtt/{device}/set/{key}"),
                    payload: value.into_bytes(),
                    retained,
                };
                self.command(input, None, retained);
            }
            Op::Result { which, outcome } => {
                if self.in_flight.is_empty() {
                    return;
                }
                let n = which as usize % self.in_flight.len();
                let Some(ticket) = self.in_flight.keys().nth(n).copied() else {
                    return;
                };
                self.in_flight.remove(&ticket);
                let result = match outcome % 5 {
                    0 | 1 => Ok(()),
                    2 => Err(CloudError::Rejected("no".into())),
                    3 => Err(CloudError::Timeout),
                    _ => Err(CloudError::Disconnected),
                };
                self.feed(Input::CloudResult { ticket, result }, None);
            }
            Op::Link { state, fail_first } => {
                let link = match state % 4 {
                    0 => LinkState::Up,
                    1 => LinkState::Connecting,
                    2 => LinkState::Down {
                        reason: "reset".into(),
                    },
                    _ => LinkState::AuthFailed {
                        reason: "401".into(),
                    },
                };
                let fails = link != LinkState::Up && link != LinkState::Connecting;
                if fails && fail_first {
                    self.fail_all();
                }
                self.feed(Input::Cloud(CloudEvent::Link(link)), None);
                if fails && !fail_first {
                    self.fail_all();
                }
            }
            Op::Mqtt(up) => {
                if !up {
                    let unanswered = self
                        .expected
                        .iter()
                        .filter(|(id, mqtt)| **mqtt && !self.answers.contains_key(*id))
                        .map(|(id, _)| id.clone());
                    self.excused.extend(unanswered.collect::<Vec<_>>());
                }
                self.mqtt_up = up;
                self.feed(
                    if up {
                        Input::MqttConnected
                    } else {
                        Input::MqttDisconnected
                    },
                    None,
                );
            }
            Op::Birth if self.mqtt_up => {
                self.feed(
                    Input::Mqtt {
                        topic: "homeassistant/status".into(),
                        payload: b"online".to_vec(),
                        retained: false,
                    },
                    None,
                );
            }
            Op::Birth => {}
            Op::Request {
                op,
                payload,
                retained,
            } if self.mqtt_up => {
                let op = ["health_check", "republish", "refresh", "nothing"][op as usize % 4];
                self.feed(
                    Input::Mqtt {
                        topic: format!("anova2mqtt/bridge/request/{op}"),
                        payload,
                        retained,
                    },
                    None,
                );
            }
            Op::Request { .. } => {}
            Op::Wait(ms) => self.wait(Duration::from_millis(u64::from(ms) * 10)),
        }
    }

    /// The client fails every in-flight command when its connection ends.
    fn fail_all(&mut self) {
        for ticket in std::mem::take(&mut self.in_flight).into_keys() {
            self.feed(
                Input::CloudResult {
                    ticket,
                    result: Err(CloudError::Disconnected),
                },
                None,
            );
        }
    }

    /// After every deadline: each command answered exactly once.
    fn finish(&mut self) {
        self.wait(Duration::from_secs(60));
        for id in self.expected.keys() {
            let n = self.answers.get(id).copied().unwrap_or(0);
            assert!(
                n == 1 || (n == 0 && self.excused.contains(id)),
                "{id} answered {n} times"
            );
        }
    }
}

/// Values within the contract's ranges (`docs/interface.md` §3.2): target 0–100 °C (no model
/// goes higher), timer at most 99 h 59 min.
fn check_cloud_command(command: &CloudCommand) {
    if let CloudCommand::Cooker(c) = command {
        match c {
            ApcCommand::Start {
                target_temperature,
                unit,
                timer,
                ..
            } => {
                check_target(*target_temperature, *unit);
                assert!(
                    timer.unwrap_or(0) <= 99 * 3600 + 59 * 60,
                    "timer {timer:?} out of range"
                );
            }
            ApcCommand::SetTargetTemp {
                target_temperature,
                unit,
                ..
            } => check_target(*target_temperature, *unit),
            ApcCommand::SetTimer { timer, .. } => {
                assert!(*timer <= 99 * 3600 + 59 * 60, "timer {timer} out of range")
            }
            _ => {}
        }
    }
    assert!(
        STATES.iter().any(|(id, ..)| command.device_id() == id),
        "a command for an unknown device {:?}",
        command.device_id()
    );
}

fn check_target(t: f64, unit: anova2mqtt::wire::TemperatureUnit) {
    let c = unit.to_celsius(t);
    assert!(
        c.is_finite() && (-0.01..=100.01).contains(&c),
        "target {t} {unit:?} out of range"
    );
}

fuzz_target!(|ops: Vec<Op>| {
    let mut h = Harness::new();
    h.mqtt_up = true;
    h.feed(Input::MqttConnected, None);
    for op in ops.into_iter().take(64) {
        h.op(op);
    }
    h.finish();
});
