//! The per-device command queue (issue 9): every way a running command ends advances the queue
//! in the same step, commands run strictly in arrival order, a waiting command is answered
//! `timeout` without running, a lost link answers everything at once, every response carries
//! the caller's id, and a model-based test checks random interleavings against a reference.

use super::harness::*;
use super::*;
use crate::sous_vide::state::CookerState;
use crate::sous_vide::wire::ApcCommand;
use std::collections::{BTreeMap, VecDeque};

/// The topic of the a7's responses.
fn responses(outputs: &[Output]) -> Vec<Value> {
    json_on(outputs, &format!("anova2mqtt/{A7_ID}/response"))
}

fn ids(outputs: &[Output]) -> Vec<String> {
    responses(outputs)
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A cooking a7 with a command `first` running (sent, no RESPONSE yet) and `waiting` queued.
fn busy(first: &str, waiting: &[&str]) -> (Harness, Ticket) {
    let mut h = Harness::ready();
    h.state(A7, cooking_state("a7", 57.0, 0, 0));
    let (ticket, _) = one_command(&h.set(A7_ID, first));
    for command in waiting {
        let out = h.set(A7_ID, command);
        no_response(&out, A7_ID);
        assert!(cloud_commands(&out).is_empty(), "{command} must wait");
    }
    (h, ticket)
}

#[test]
fn a_refused_command_starts_the_next_one_in_the_same_step() {
    // The soak's stall: the command whose turn came was refused (unsafe here: the food rules
    // need the state, so it waits; an out-of-range value is refused on arrival), and nothing
    // started the one behind it.
    let (mut h, ticket) = busy(
        r#"{"id":"1","target_temperature":58}"#,
        &[
            r#"{"id":"2","target_temperature":58,"food":"ground_meat"}"#,
            r#"{"id":"3","target_temperature":59}"#,
        ],
    );
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 58.0, 0, 0));
    assert_eq!(ids(&out), ["1", "2"]);
    assert_eq!(error_code(&responses(&out)[1]), "unsafe");
    let (_, command) = one_command(&out);
    assert!(
        matches!(command, ApcCommand::SetTargetTemp { target_temperature, .. } if target_temperature == 59.0),
        "3 runs at once: {command:?}"
    );
}

#[test]
fn answered_at_once_and_pending_commands_start_the_next_one() {
    let mut h = Harness::ready();
    let (ticket, _) = one_command(&h.set(A7_ID, r#"{"id":"1","cook":true}"#));
    // Behind it: a no-op (answered at once when its turn comes), a pending change (idle by
    // then), and a start.
    for c in [
        r#"{"id":"2","display_unit":"C"}"#,
        r#"{"id":"3","cook":false}"#,
        r#"{"id":"4","cook":true,"target_temperature":60}"#,
    ] {
        no_response(&h.set(A7_ID, c), A7_ID);
    }
    // The first start fails: the three behind it are answered or started in one step.
    let out = h.result(ticket, Err(CloudError::Rejected("invalid command".into())));
    assert_eq!(ids(&out), ["1", "2", "3"]);
    assert_eq!(error_code(&responses(&out)[0]), "rejected");
    assert_eq!(responses(&out)[1]["status"], "ok");
    assert_eq!(
        responses(&out)[2]["warnings"][0],
        "the cooker was not cooking"
    );
    let (_, command) = one_command(&out);
    assert!(
        matches!(command, ApcCommand::Start { target_temperature, .. } if target_temperature == 60.0)
    );
}

#[test]
fn timeouts_and_not_confirmed_start_the_next_one() {
    let (mut h, ticket) = busy(
        r#"{"id":"1","target_temperature":58}"#,
        &[r#"{"id":"2","target_temperature":59}"#],
    );
    let out = h.result(ticket, Err(CloudError::Timeout));
    assert_eq!(ids(&out), ["1"]);
    assert_eq!(error_code(&responses(&out)[0]), "timeout");
    let (ticket, _) = one_command(&out);
    h.result(ticket, Ok(()));
    no_response(&h.advance(Duration::from_secs(14)), A7_ID);
    let out = h.set(A7_ID, r#"{"id":"3","target_temperature":60}"#);
    assert!(cloud_commands(&out).is_empty());
    // The state never shows 59: not confirmed, and 3 starts in the same step.
    let out = h.advance(Duration::from_secs(1));
    assert_eq!(ids(&out), ["2"]);
    assert_eq!(error_code(&responses(&out)[0]), "not_confirmed");
    let (_, command) = one_command(&out);
    assert!(
        matches!(command, ApcCommand::SetTargetTemp { target_temperature, .. } if target_temperature == 60.0)
    );
}

#[test]
fn a_waiting_command_is_answered_timeout_without_running() {
    let (mut h, _ticket) = busy(
        r#"{"id":"1","target_temperature":58}"#,
        &[r#"{"id":"2","cook":false}"#],
    );
    no_response(&h.advance(Duration::from_secs(9)), A7_ID);
    let out = h.advance(Duration::from_secs(1));
    assert_eq!(ids(&out), ["2"]);
    let r = &responses(&out)[0];
    assert_eq!(error_code(r), "timeout");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("not run"),
        "{r}"
    );
    assert!(cloud_commands(&out).is_empty(), "the stop never runs");
    // The running one is answered at its deadline at the latest (10 s + 15 s after it came).
    no_response(&h.advance(Duration::from_secs(14)), A7_ID);
    let out = h.advance(Duration::from_secs(1));
    assert_eq!(ids(&out), ["1"]);
    assert_eq!(error_code(&responses(&out)[0]), "timeout");
}

#[test]
fn a_lost_link_answers_every_command_at_once_and_nothing_replays() {
    let (mut h, ticket) = busy(
        r#"{"id":"1","cook":true,"target_temperature":59}"#,
        &[
            r#"{"id":"2","cook":true,"target_temperature":59}"#,
            r#"{"id":"3","target_temperature":58}"#,
        ],
    );
    let out = h.cloud(CloudEvent::Link(LinkState::Down {
        reason: "reset".into(),
    }));
    assert_eq!(ids(&out), ["1", "2", "3"]);
    assert!(responses(&out)
        .iter()
        .all(|r| r["error"]["code"] == "cloud_unavailable"));
    // The late result of the lost command changes nothing; after the link is back, a new
    // stop runs alone.
    assert!(h.result(ticket, Err(CloudError::Disconnected)).is_empty());
    h.cloud(CloudEvent::Link(LinkState::Up));
    let out = h.set(A7_ID, r#"{"id":"4","cook":false}"#);
    let (ticket, command) = one_command(&out);
    assert!(matches!(command, ApcCommand::Stop { .. }));
    h.result(ticket, Ok(()));
    let out = h.state(A7, idle_state("a7"));
    assert_eq!(ids(&out), ["4"]);
    assert!(
        cloud_commands(&out).is_empty(),
        "no old start follows the stop"
    );
    assert!(h
        .advance(Duration::from_secs(60))
        .iter()
        .all(|o| !matches!(o, Output::Cloud { .. })));
}

#[test]
fn every_error_class_echoes_the_callers_id() {
    let mut h = Harness::ready();
    let check = |out: Vec<Output>, key: &str, id: Value, code: &str| {
        let r = response(&out, A7_ID);
        assert_eq!(r[key], id, "{r}");
        assert_eq!(error_code(&r), code, "{r}");
    };
    check(
        h.set(A7_ID, r#"{"id":"x"}"#),
        "id",
        json!("x"),
        "invalid_value",
    );
    check(
        h.set(A7_ID, r#"{"transaction":"x"}"#),
        "transaction",
        json!("x"),
        "invalid_value",
    );
    check(
        h.set(A7_ID, r#"{"transaction":7,"food":"beef"}"#),
        "transaction",
        json!(7),
        "invalid_value",
    );
    check(
        h.set(A7_ID, r#"{"id":"d","cook":true,"cook":false}"#),
        "id",
        json!("d"),
        "invalid_json",
    );
    check(
        h.set(A7_ID, r#"{"id":"u","colour":"red"}"#),
        "id",
        json!("u"),
        "unknown_key",
    );
    check(
        h.set(A7_ID, r#"{"id":"v","cook":"maybe"}"#),
        "id",
        json!("v"),
        "invalid_value",
    );
    check(
        h.set(A7_ID, r#"{"id":"r","target_temperature":120}"#),
        "id",
        json!("r"),
        "out_of_range",
    );
    check(
        h.set(
            A7_ID,
            r#"{"id":"s","cook":true,"target_temperature":50,"food":"poultry"}"#,
        ),
        "id",
        json!("s"),
        "unsafe",
    );
    check(
        h.mqtt(
            &format!("anova2mqtt/{A7_ID}/set"),
            r#"{"id":"k","cook":true}"#,
            true,
        ),
        "id",
        json!("k"),
        "retained_command",
    );
    let out = h.set("nosuchcooker", r#"{"id":"n","cook":true}"#);
    assert_eq!(response(&out, "nosuchcooker")["id"], "n");
    // Cloud failures.
    let (ticket, _) = one_command(&h.set(A7_ID, r#"{"id":"j","cook":true}"#));
    check(
        h.result(ticket, Err(CloudError::Rejected("no".into()))),
        "id",
        json!("j"),
        "rejected",
    );
    h.cloud(CloudEvent::Stale {
        cloud_id: A7.into(),
    });
    check(
        h.set(A7_ID, r#"{"id":"o","cook":true}"#),
        "id",
        json!("o"),
        "device_offline",
    );
    h.cloud(CloudEvent::Link(LinkState::Down { reason: "x".into() }));
    check(
        h.set(A7_ID, r#"{"id":"c","cook":true}"#),
        "id",
        json!("c"),
        "cloud_unavailable",
    );
}

#[test]
fn rate_limited_and_offline_answers_keep_the_id_too() {
    let mut h = Harness::ready();
    h.state(A7, cooking_state("a7", 57.0, 0, 0));
    one_command(&h.set(A7_ID, r#"{"id":"a","target_temperature":58}"#));
    for i in 0..MAX_QUEUED {
        no_response(
            &h.set(
                A7_ID,
                &format!(r#"{{"id":"w{i}","target_temperature":58}}"#),
            ),
            A7_ID,
        );
    }
    let r = response(
        &h.set(A7_ID, r#"{"id":"z","target_temperature":58}"#),
        A7_ID,
    );
    assert_eq!(
        (r["id"].as_str(), error_code(&r)),
        (Some("z"), "rate_limited")
    );
    // A device that goes silent answers what it was asked.
    let out = h.cloud(CloudEvent::Stale {
        cloud_id: A7.into(),
    });
    let mut answered = ids(&out);
    answered.sort();
    assert_eq!(answered, ["a", "w0", "w1", "w2", "w3"]);
}

// --- the model-based test ----------------------------------------------------------------------

/// xorshift64*: a small deterministic generator for the random interleavings.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a command asked for, as the reference model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Asked {
    /// `{"cook": true, "target_temperature": t}`
    Start(f64),
    /// `{"cook": false}`
    Stop,
    /// `{"target_temperature": t}`
    Target(f64),
    /// Something invalid: answered at once, never queued.
    Invalid,
}

/// The simulated cooker behind the cloud: what the acknowledged commands did.
#[derive(Debug, Clone, Copy)]
struct Device {
    cooking: bool,
    target: f64,
}

#[test]
fn random_interleavings_match_the_reference_model() {
    for seed in 1..=40u64 {
        run_model(seed, 400);
    }
}

fn run_model(seed: u64, steps: usize) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut h = Harness::ready();
    let settings = config();
    let bound = settings.command_timeout + settings.confirm_timeout;
    let mut device = Device {
        cooking: false,
        target: 56.0,
    };
    let mut link_up = true;
    let mut next_id = 0u32;
    // Unanswered commands that were queued, in arrival order, with when they arrived.
    let mut queue: VecDeque<(String, Asked, Duration)> = VecDeque::new();
    let mut answered: BTreeMap<String, usize> = BTreeMap::new();
    let mut sent_ids: Vec<String> = Vec::new();
    // Cloud commands in flight, with the command whose step they are.
    let mut in_flight: Vec<(Ticket, ApcCommand, String)> = Vec::new();
    let mut clock = Duration::ZERO;

    let response_topic = format!("anova2mqtt/{A7_ID}/response");
    // Outputs in order: a step is attributed to the oldest unanswered queued command; if the
    // bridge ran a newer one first, the step does not fit the command it is attributed to.
    let mut check = |out: &[Output],
                     clock: Duration,
                     link_up: bool,
                     queue: &mut VecDeque<(String, Asked, Duration)>,
                     in_flight: &mut Vec<(Ticket, ApcCommand, String)>| {
        for o in out {
            match o {
                Output::Cloud {
                    ticket,
                    command: crate::wire::CloudCommand::Cooker(command),
                    ..
                } => {
                    assert!(
                        link_up,
                        "seed {seed}: {command:?} sent while the link is down"
                    );
                    let (id, asked, _) = queue.front().unwrap_or_else(|| {
                        panic!("seed {seed}: a step with no command waiting: {command:?}")
                    });
                    let fits = match (asked, command) {
                        (
                            Asked::Start(t) | Asked::Target(t),
                            ApcCommand::Start {
                                target_temperature, ..
                            }
                            | ApcCommand::SetTargetTemp {
                                target_temperature, ..
                            },
                        ) => (t - target_temperature).abs() < 1e-9,
                        (Asked::Stop, ApcCommand::Stop { .. }) => true,
                        _ => false,
                    };
                    assert!(
                        fits,
                        "seed {seed}: {command:?} sent for {id} ({asked:?}), not the oldest command's step"
                    );
                    sent_ids.push(id.clone());
                    in_flight.push((*ticket, command.clone(), id.clone()));
                }
                Output::Publish(p) if p.topic == response_topic => {
                    let r: Value = serde_json::from_str(&p.payload).unwrap_or(Value::Null);
                    let id = r["id"].as_str().unwrap_or_default().to_owned();
                    *answered.entry(id.clone()).or_default() += 1;
                    assert_eq!(answered[&id], 1, "seed {seed}: {id} answered twice: {r}");
                    if let Some(pos) = queue.iter().position(|(q, _, _)| *q == id) {
                        let (_, _, arrived) = queue[pos];
                        assert!(
                            clock.saturating_sub(arrived) <= bound,
                            "seed {seed}: {id} answered {:?} after it arrived",
                            clock - arrived
                        );
                        // Only the oldest can have run; a newer one can only end by timing
                        // out while waiting, by a lost link, or by being refused at once.
                        if pos > 0 {
                            assert!(
                                !sent_ids.contains(&id),
                                "seed {seed}: {id} ran before older commands were answered"
                            );
                        }
                        queue.remove(pos);
                    }
                    in_flight.retain(|(_, _, owner)| *owner != id);
                }
                _ => {}
            }
        }
    };

    for _ in 0..steps {
        let out = match rng.below(12) {
            0..=3 => {
                next_id += 1;
                let id = format!("c{next_id}");
                let t = 40.0 + f64::from(next_id % 500) / 10.0;
                let (asked, payload) = match rng.below(5) {
                    0 | 1 => (
                        Asked::Start(t),
                        format!(r#"{{"id":"{id}","cook":true,"target_temperature":{t}}}"#),
                    ),
                    2 => (Asked::Stop, format!(r#"{{"id":"{id}","cook":false}}"#)),
                    3 => (
                        Asked::Target(t),
                        format!(r#"{{"id":"{id}","target_temperature":{t}}}"#),
                    ),
                    _ => (
                        Asked::Invalid,
                        format!(r#"{{"id":"{id}","target_temperature":"hot"}}"#),
                    ),
                };
                if asked != Asked::Invalid {
                    queue.push_back((id.clone(), asked, clock));
                }
                h.set(A7_ID, &payload)
            }
            4..=6 if !in_flight.is_empty() => {
                let i = rng.below(in_flight.len() as u64) as usize;
                let (ticket, command, _) = in_flight.remove(i);
                let result = match rng.below(10) {
                    0..=5 => Ok(()),
                    6 | 7 => Err(CloudError::Rejected("unauthorized".into())),
                    8 => Err(CloudError::Timeout),
                    _ => Err(CloudError::Disconnected),
                };
                if result.is_ok() {
                    match command {
                        ApcCommand::Start {
                            target_temperature, ..
                        } => {
                            device = Device {
                                cooking: true,
                                target: target_temperature,
                            }
                        }
                        ApcCommand::SetTargetTemp {
                            target_temperature, ..
                        } => device.target = target_temperature,
                        ApcCommand::Stop { .. } => device.cooking = false,
                        _ => {}
                    }
                }
                h.result(ticket, result)
            }
            7 | 8 if link_up => {
                let state = if device.cooking {
                    cooking_state("a7", device.target, 0, 0)
                } else {
                    CookerState {
                        target_temperature: Some(device.target),
                        ..idle_state("a7")
                    }
                };
                h.state(A7, state)
            }
            9 => {
                link_up = !link_up;
                let link = if link_up {
                    LinkState::Up
                } else {
                    LinkState::Down {
                        reason: "chaos".into(),
                    }
                };
                let out = h.cloud(CloudEvent::Link(link));
                if !link_up {
                    check(&out, clock, link_up, &mut queue, &mut in_flight);
                    assert!(
                        queue.is_empty(),
                        "seed {seed}: a lost link left {queue:?} unanswered"
                    );
                    in_flight.clear();
                    continue;
                }
                out
            }
            _ => {
                // Like the driver: wake at the bridge's deadline if it comes first.
                let mut by = Duration::from_millis(100 + rng.below(6000));
                if let Some(deadline) = h.bridge.poll_timeout() {
                    let due = deadline.saturating_duration_since(h.now().instant);
                    if due < by {
                        by = due;
                    }
                }
                clock += by;
                h.advance(by)
            }
        };
        check(&out, clock, link_up, &mut queue, &mut in_flight);
    }
    // Let everything end: every command is answered exactly once.
    for _ in 0..100 {
        let Some(deadline) = h.bridge.poll_timeout() else {
            break;
        };
        let by = deadline.saturating_duration_since(h.now().instant);
        clock += by;
        let out = h.advance(by);
        check(&out, clock, link_up, &mut queue, &mut in_flight);
    }
    assert!(queue.is_empty(), "seed {seed}: never answered: {queue:?}");
    assert!(answered.values().all(|n| *n == 1));
    assert!(next_id > 0);
}

// --- leaving and reconnecting -----------------------------------------------------------------

#[test]
fn shutdown_marks_every_device_offline_or_removes_everything() {
    let mut h = Harness::ready();
    h.bridge.shutdown(false);
    let out = h.drain();
    for id in [A7_ID, PRO_ID] {
        let published = on(&out, &format!("anova2mqtt/{id}/availability"));
        assert_eq!(published.len(), 1, "{id}");
        assert_eq!(
            (published[0].payload.as_str(), published[0].retain),
            ("offline", true)
        );
    }
    // The demo leaves nothing retained behind.
    h.bridge.shutdown(true);
    let out = h.drain();
    for topic in [
        format!("anova2mqtt/{A7_ID}/availability"),
        format!("anova2mqtt/{A7_ID}/state"),
        format!("homeassistant/device/anova2mqtt_{A7_ID}/config"),
        "anova2mqtt/bridge/info".to_owned(),
        "anova2mqtt/bridge/devices".to_owned(),
        "homeassistant/device/anova2mqtt_bridge/config".to_owned(),
    ] {
        let published = on(&out, &topic);
        assert!(
            published.iter().any(|p| p.payload.is_empty() && p.retain),
            "{topic} not cleared"
        );
    }
}

#[test]
fn a_refresh_does_not_make_devices_flap() {
    let mut h = Harness::ready();
    let topic = format!("anova2mqtt/{A7_ID}/availability");
    let out = h.mqtt("anova2mqtt/bridge/request/refresh", "{}", false);
    assert!(out.iter().any(|o| matches!(o, Output::ReconnectCloud)));
    // The client goes straight to connecting after a requested reconnect.
    let down = h.cloud(CloudEvent::Link(LinkState::Connecting));
    assert!(
        on(&down, &topic).is_empty(),
        "no offline while reconnecting"
    );
    let up = h.cloud(CloudEvent::Link(LinkState::Up));
    assert!(on(&up, &topic).is_empty(), "still online: nothing to say");
    h.state(A7, idle_state("a7"));
    assert!(on(&h.advance(REFRESH_GRACE), &topic).is_empty());
    // A refresh whose reconnect fails does show offline once the grace is over.
    h.mqtt("anova2mqtt/bridge/request/refresh", "{}", false);
    h.cloud(CloudEvent::Link(LinkState::Connecting));
    h.cloud(CloudEvent::Link(LinkState::Down {
        reason: "connecting failed".into(),
    }));
    assert!(on(&h.advance(Duration::from_secs(5)), &topic).is_empty());
    let out = h.advance(REFRESH_GRACE);
    assert_eq!(on(&out, &topic)[0].payload, "offline");
}
