//! What a cook is (`docs/interface.md` §7): one identity from start to end whoever started it, a
//! change (the Personal Access Token restart included) as one `cook_changed`, an outcome and
//! a summary at the end, a restart of the daemon that continues the cook, and what is recorded.

use super::harness::*;
use super::*;
use crate::appliance::record::{CookOutcome, Record, ResumedCook, Source};
use crate::sous_vide::state::{CookerState, Stage};
use crate::sous_vide::wire::ApcCommand;
use time::macros::datetime;

fn recording() -> Harness {
    let mut h = Harness::ready();
    h.input(Input::History("ok".into()));
    h
}

fn events(outputs: &[Output], id: &str) -> Vec<Value> {
    json_on(outputs, &format!("anova2mqtt/{id}/event"))
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn records(outputs: &[Output]) -> Vec<&Record> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Record(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn preheating(model: &str, target: f64, timer: u32, water: f64) -> CookerState {
    CookerState {
        stage: Stage::Preheating,
        water_temperature: Some(water),
        timer_running: false,
        timer_remaining: timer,
        ..cooking_state(model, target, timer, timer)
    }
}

/// Starts a cook on the a7 through MQTT and confirms it; returns the cook's id.
fn start_by_mqtt(h: &mut Harness) -> (String, Vec<Output>) {
    let (ticket, command) = one_command(&h.set(
        A7_ID,
        r#"{"cook": true, "target_temperature": 57, "timer": 60, "food": "beef", "id": "go"}"#,
    ));
    assert!(matches!(command, ApcCommand::Start { .. }));
    h.result(ticket, Ok(()));
    let out = h.state(A7, preheating("a7", 57.0, 3600, 20.0));
    assert_eq!(response(&out, A7_ID)["status"], "ok");
    let started = events(&out, A7_ID);
    assert_eq!(kinds(&started), ["cook_started"]);
    let id = started[0]["cook_id"]
        .as_str()
        .expect("a cook id")
        .to_owned();
    assert_eq!(started[0]["source"], "mqtt");
    (id, out)
}

#[test]
fn a_whole_cooker_cook_is_one_cook_with_its_summary_and_records() {
    let mut h = recording();
    let (cook, out) = start_by_mqtt(&mut h);
    let opened = records(&out);
    assert!(
        matches!(opened[0], Record::CookOpened(c) if c.cook_id == cook && c.source == Source::Mqtt
            && c.family == "cooker" && c.plan.contains("\"food\":\"beef\"")),
        "{opened:?}"
    );
    assert!(opened.iter().any(
        |r| matches!(r, Record::Command { cook_id: Some(c), source: Source::Mqtt, response, .. }
        if *c == cook && response.contains("\"go\""))
    ));
    assert!(opened.iter().any(|r| matches!(r, Record::Sample { .. })));

    h.advance(Duration::from_secs(600));
    let out = h.state(A7, cooking_state("a7", 57.0, 3600, 3600));
    let e = events(&out, A7_ID);
    assert_eq!(kinds(&e), ["preheat_complete"]);
    assert_eq!(e[0]["cook_id"], cook.as_str());
    h.advance(Duration::from_secs(1800));
    let mut cooler = cooking_state("a7", 57.0, 3600, 1800);
    cooler.water_temperature = Some(56.8);
    h.state(A7, cooler);
    h.advance(Duration::from_secs(1800));
    let mut done = cooking_state("a7", 57.0, 3600, 0);
    done.stage = Stage::Maintaining;
    let e = events(&h.state(A7, done), A7_ID);
    assert_eq!(kinds(&e), ["timer_finished"]);
    let (ticket, _) = one_command(&h.set_key(A7_ID, "cook", "off"));
    h.result(ticket, Ok(()));
    h.advance(Duration::from_secs(12));
    let out = h.state(A7, idle_state("a7"));
    let e = events(&out, A7_ID);
    assert_eq!(kinds(&e), ["cook_stopped"]);
    let stopped = &e[0];
    assert_eq!(stopped["cook_id"], cook.as_str());
    assert_eq!(stopped["outcome"], "completed", "the timer had finished");
    assert_eq!(stopped["duration_s"], 4212);
    assert_eq!(stopped["time_to_target_s"], 600);
    assert_eq!(stopped["min_temperature"], 56.8);
    assert_eq!(stopped["max_temperature"], 57.0);
    let recorded = records(&out);
    assert!(recorded
        .iter()
        .any(|r| matches!(r, Record::CookClosed { cook_id, summary, .. }
        if *cook_id == cook && summary.outcome == CookOutcome::Completed)));
    assert!(
        recorded
            .iter()
            .any(|r| matches!(r, Record::Command { cook_id: Some(c), .. } if *c == cook)),
        "the stop's response belongs to the cook it stopped"
    );
    let last = json_on(&out, &format!("anova2mqtt/{A7_ID}/last_cook"));
    assert_eq!(last[0]["outcome"], "completed");
    assert_eq!(last[0]["cook_id"], cook.as_str());
    assert!(on(&out, &format!("anova2mqtt/{A7_ID}/last_cook"))[0].retain);
}

#[test]
fn a_stop_before_the_timer_is_stopped_and_one_on_the_device_is_stopped_on_device() {
    let mut h = recording();
    let (_, _) = start_by_mqtt(&mut h);
    let (ticket, _) = one_command(&h.set_key(A7_ID, "cook", "off"));
    h.result(ticket, Ok(()));
    let e = events(&h.state(A7, idle_state("a7")), A7_ID);
    assert_eq!(e[0]["outcome"], "stopped");

    // Started and stopped in the Anova app: we only see the states.
    let out = h.state(A7, preheating("a7", 60.0, 0, 21.0));
    let e = events(&out, A7_ID);
    assert_eq!(e[0]["source"], "device");
    assert!(records(&out)
        .iter()
        .any(|r| matches!(r, Record::CookOpened(c) if c.source == Source::Device)));
    let e = events(&h.state(A7, idle_state("a7")), A7_ID);
    assert_eq!(e[0]["outcome"], "stopped_on_device");
}

#[test]
fn an_alarm_fails_the_cook_and_an_unseen_end_is_unknown() {
    let mut h = recording();
    h.state(A7, preheating("a7", 60.0, 0, 21.0));
    let mut alarm = preheating("a7", 60.0, 0, 21.0);
    alarm.stage = Stage::Alarm;
    alarm.water_leak = Some(true);
    h.state(A7, alarm.clone());
    let mut stopped = idle_state("a7");
    stopped.water_leak = Some(true);
    let e = events(&h.state(A7, stopped), A7_ID);
    assert_eq!(kinds(&e), ["cook_stopped"]);
    assert_eq!(e[0]["outcome"], "failed");

    h.state(A7, preheating("a7", 60.0, 0, 21.0));
    h.cloud(CloudEvent::Link(LinkState::Down {
        reason: "reset".into(),
    }));
    h.cloud(CloudEvent::Link(LinkState::Up));
    let e = events(&h.state(A7, idle_state("a7")), A7_ID);
    assert_eq!(
        e[0]["outcome"], "unknown",
        "it ended while the link was down"
    );
}

#[test]
fn a_personal_access_token_restart_is_one_change_without_a_second_preheat() {
    let mut h = recording();
    h.state(PRO, preheating("pro", 57.0, 3600, 40.0));
    let e = events(
        &h.state(PRO, cooking_state("pro", 57.0, 3600, 3600)),
        PRO_ID,
    );
    assert_eq!(kinds(&e), ["preheat_complete"]);
    let cook = e[0]["cook_id"].clone();
    let (ticket, _) = one_command(&h.set_key(PRO_ID, "target_temperature", "60"));
    let out = h.result(ticket, Err(CloudError::Rejected("unauthorized".into())));
    let (ticket, command) = one_command(&out);
    assert!(matches!(command, ApcCommand::Start { .. }));
    h.result(ticket, Ok(()));
    // The restarted cook heats again to the new target.
    let out = h.state(PRO, preheating("pro", 60.0, 3600, 57.0));
    assert_eq!(response(&out, PRO_ID)["status"], "ok");
    let e = events(&out, PRO_ID);
    assert_eq!(kinds(&e), ["cook_changed"]);
    assert_eq!(e[0]["cook_id"], cook);
    assert_eq!(e[0]["source"], "mqtt");
    assert!(records(&out)
        .iter()
        .any(|r| matches!(r, Record::CookChanged { plan, .. } if plan.contains("60.0"))));
    let e = events(
        &h.state(PRO, cooking_state("pro", 60.0, 3600, 3600)),
        PRO_ID,
    );
    assert!(e.is_empty(), "no second preheat_complete: {e:?}");
    let e = events(&h.state(PRO, idle_state("pro")), PRO_ID);
    assert_eq!(kinds(&e), ["cook_stopped"]);
    assert_eq!(e[0]["cook_id"], cook);
}

#[test]
fn a_restart_through_an_idle_push_is_still_one_change() {
    let mut h = recording();
    h.state(PRO, cooking_state("pro", 57.0, 3600, 3000));
    let cook = h.bridge.devices[&TopicId::from(PRO_ID)].current_cook();
    let (ticket, _) = one_command(&h.set_key(PRO_ID, "target_temperature", "60"));
    let out = h.result(ticket, Err(CloudError::Rejected("unauthorized".into())));
    let (ticket, _) = one_command(&out);
    h.result(ticket, Ok(()));
    let e = events(&h.state(PRO, idle_state("pro")), PRO_ID);
    assert!(
        e.is_empty(),
        "held open while our restart is under way: {e:?}"
    );
    let e = events(
        &h.state(PRO, cooking_state("pro", 60.0, 3000, 3000)),
        PRO_ID,
    );
    assert_eq!(kinds(&e), ["cook_changed"]);
    assert_eq!(e[0]["cook_id"].as_str(), cook.as_deref());
}

#[test]
fn a_restart_that_leaves_the_device_idle_ends_the_cook() {
    let mut h = recording();
    h.state(PRO, cooking_state("pro", 57.0, 3600, 3000));
    let (ticket, _) = one_command(&h.set_key(PRO_ID, "target_temperature", "60"));
    let out = h.result(ticket, Err(CloudError::Rejected("unauthorized".into())));
    let (ticket, _) = one_command(&out);
    h.result(ticket, Ok(()));
    assert!(events(&h.state(PRO, idle_state("pro")), PRO_ID).is_empty());
    let out = h.advance(Duration::from_secs(30));
    assert_eq!(error_code(&response(&out, PRO_ID)), "not_confirmed");
    let e = events(&out, PRO_ID);
    assert_eq!(kinds(&e), ["cook_stopped"]);
    assert_eq!(e[0]["outcome"], "failed");
}

#[test]
fn a_daemon_restart_continues_the_cook_or_closes_it_as_unknown() {
    let resumed = |device: &str| ResumedCook {
        cook_id: format!("cook-of-{device}"),
        device: device.into(),
        source: Source::Http,
        started_at: datetime!(2025-01-01 09:00:00 UTC),
        plan: r#"{"target_temperature":57.0,"timer":0}"#.into(),
        reached_at: Some(datetime!(2025-01-01 09:20:00 UTC)),
        min_c: Some(56.9),
        max_c: Some(57.1),
        last_seen: datetime!(2025-01-01 09:55:00 UTC),
        points: vec![(datetime!(2025-01-01 09:00:00 UTC), 20.0, Some(57.0))],
    };
    let mut h = Harness::new(config());
    h.input(Input::History("ok".into()));
    h.input(Input::ResumeCooks(vec![
        resumed(A7_ID),
        resumed(PRO_ID),
        resumed("gone"),
    ]));
    h.input(Input::MqttConnected);
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    h.add(PRO, "pro", "Garage");
    let out = h.cloud(CloudEvent::DeviceListSynced);
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::CookClosed { cook_id, summary, .. }
            if cook_id == "cook-of-gone" && summary.outcome == CookOutcome::Unknown)),
        "a cook on a device no longer listed is closed"
    );
    // Still cooking: the same cook goes on, without a second cook_started.
    let out = h.state(A7, cooking_state("a7", 57.0, 0, 0));
    assert!(events(&out, A7_ID).is_empty());
    assert!(!records(&out)
        .iter()
        .any(|r| matches!(r, Record::CookOpened(_))));
    let chart = h.bridge.device_history(&TopicId::from(A7_ID)).unwrap();
    assert_eq!(
        chart["started_at"], "2025-01-01T09:00:00Z",
        "the chart goes on too"
    );
    let e = events(&h.state(A7, idle_state("a7")), A7_ID);
    assert_eq!(e[0]["cook_id"], format!("cook-of-{A7_ID}"));
    assert_eq!(e[0]["source"], "http");
    assert_eq!(e[0]["time_to_target_s"], 1200);
    // Idle at the first state: it ended while we were away.
    let e = events(&h.state(PRO, idle_state("pro")), PRO_ID);
    assert_eq!(kinds(&e), ["cook_stopped"]);
    assert_eq!(e[0]["cook_id"], format!("cook-of-{PRO_ID}"));
    assert_eq!(e[0]["outcome"], "unknown");
    assert_eq!(
        e[0]["duration_s"], 3300,
        "ended at its last recorded moment"
    );
}

#[test]
fn the_curve_takes_a_point_per_tenth_of_a_degree_at_most_every_ten_seconds() {
    let mut h = recording();
    let samples = |out: &[Output]| {
        records(out)
            .iter()
            .filter(|r| matches!(r, Record::Sample { .. }))
            .count()
    };
    assert_eq!(samples(&h.state(A7, preheating("a7", 57.0, 0, 20.0))), 1);
    h.advance(Duration::from_secs(5));
    assert_eq!(
        samples(&h.state(A7, preheating("a7", 57.0, 0, 21.0))),
        0,
        "too soon"
    );
    h.advance(Duration::from_secs(5));
    assert_eq!(samples(&h.state(A7, preheating("a7", 57.0, 0, 21.0))), 1);
    h.advance(Duration::from_secs(30));
    assert_eq!(
        samples(&h.state(A7, preheating("a7", 57.0, 0, 21.04))),
        0,
        "moved too little"
    );
    h.advance(Duration::from_secs(10));
    assert_eq!(samples(&h.state(A7, preheating("a7", 57.0, 0, 21.1))), 1);
}

#[test]
fn without_history_nothing_is_recorded_and_events_still_carry_cook_ids() {
    let mut h = Harness::ready();
    let out = h.state(A7, preheating("a7", 57.0, 0, 20.0));
    assert!(records(&out).is_empty());
    assert!(events(&out, A7_ID)[0]["cook_id"].is_string());
    let mut door = idle_state("a7");
    door.low_water = Some(true);
    let e = events(&h.state(A7, idle_state("a7")), A7_ID);
    assert_eq!(kinds(&e), ["cook_stopped"]);
    let e = events(&h.state(A7, door), A7_ID);
    assert_eq!(kinds(&e), ["low_water"]);
    assert_eq!(e[0]["cook_id"], Value::Null, "outside a cook");
}
