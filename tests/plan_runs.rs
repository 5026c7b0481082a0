//! Plans end to end (`docs/interface.md` §8.2, §8.3), with real mosquitto, the simulator over
//! a real WebSocket and the daemon: a plan starts at its time with its own one response and
//! its cook is recorded as the plan's, a ready-by cook is done at its time, and a cooker that
//! goes silent while food waits is started. (Restarts and missed plans are `plans_e2e.rs`, the
//! ice bath that warms `plans_ice_bath.rs`.)

mod http_support;
mod support;

use anova2mqtt::simulator::{Fault, SimCookerSpec, SimulatorConfig};
use serde_json::Value;
use std::time::Duration;
use support::system::{sim_config, System, A7, PRO};
use support::Watcher;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An RFC 3339 time `seconds` from now, whole seconds.
fn in_seconds(seconds: i64) -> String {
    let at = OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
    at.replace_nanosecond(0)
        .expect("0 ns")
        .format(&Rfc3339)
        .expect("RFC 3339")
}

async fn event(watcher: &mut Watcher, device: &str, kind: &str) -> Value {
    let topic = format!("anova2mqtt/{device}/event");
    watcher
        .next_matching(Duration::from_secs(8), kind, |m| {
            m.topic == topic && m.json()["event_type"] == kind
        })
        .await
        .json()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_starts_at_its_time_with_its_own_one_response() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let plan = format!(
        r#"{{"id": "bath", "start_at": "{}", "target_temperature": 57, "food": "none"}}"#,
        in_seconds(3)
    );
    let r = sys.command(&format!("anova2mqtt/{A7}/set"), &plan).await;
    assert_eq!(r["status"], "ok", "{r}");
    let schedule_id = r["schedule"]["schedule_id"].as_str().unwrap().to_owned();
    assert!(
        sys.handle().commands().is_empty(),
        "nothing is sent before its time"
    );
    let schedule = format!("anova2mqtt/{A7}/schedule");
    let retained = sys
        .watcher
        .wait_for("the retained plan", |m| {
            m.topic == schedule && !m.payload.is_empty()
        })
        .await;
    assert_eq!(retained.json()["schedule_id"], schedule_id.as_str());

    // Its time: one start, one response with the plan's id, schedule_started, cleared.
    let response = format!("anova2mqtt/{A7}/response");
    let answer = sys
        .watcher
        .next_matching(Duration::from_secs(9), "the plan's response", |m| {
            m.topic == response
        })
        .await
        .json();
    assert_eq!(answer["id"], "bath", "{answer}");
    assert_eq!(answer["status"], "ok", "{answer}");
    let started = event(&mut sys.watcher, A7, "schedule_started").await;
    assert_eq!(started["schedule_id"], schedule_id.as_str());
    sys.watcher
        .wait_for("the plan cleared", |m| {
            m.topic == schedule && m.payload.is_empty()
        })
        .await;
    assert_eq!(sys.handle().commands().len(), 1, "one start");
    // The history says the cook came from the plan.
    let cooks = api_get(&sys, &format!("/api/v1/cooks?device={A7}")).await;
    let cook = &cooks["cooks"][0];
    assert_eq!(cook["source"], "schedule", "{cooks}");
    assert_eq!(cook["plan"]["schedule_id"], schedule_id.as_str(), "{cooks}");
    // Exactly one response for it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    sys.watcher.drain();
    let answers = sys
        .watcher
        .on(&response)
        .into_iter()
        .filter(|m| m.json()["id"] == "bath")
        .count();
    assert_eq!(
        answers, 2,
        "the plan's answer and its execution's, nothing more"
    );
    sys.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cooker_that_goes_silent_while_food_waits_is_started_with_an_alert() {
    let mut cooker = SimCookerSpec::a7(A7, "Kitchen");
    cooker.water_temperature_c = 1.0;
    cooker.ice_ratio = 0.25;
    let sim = SimulatorConfig {
        idle_push_interval: Duration::from_millis(200),
        cooking_push_interval: Duration::from_millis(100),
        ..SimulatorConfig::for_tests(vec![cooker, SimCookerSpec::pro(PRO, "Pro")])
    };
    let mut sys = System::start(sim, |c| c.anova.stale_after = Duration::from_secs(2)).await;
    sys.ready().await;
    let r = sys
        .command(
            &format!("anova2mqtt/{A7}/set"),
            &format!(
                r#"{{"id": "chicken", "start_at": "{}", "target_temperature": 60, "timer": "1h30m", "food": "poultry"}}"#,
                in_seconds(4 * 3600)
            ),
        )
        .await;
    assert_eq!(r["status"], "ok", "ice water may wait: {r}");
    sys.handle()
        .inject(Fault::Silent {
            cooker_id: A7.into(),
            silent: true,
        })
        .unwrap();
    let alert = event(&mut sys.watcher, A7, "food_safety_alert").await;
    let reason = alert["reason"].as_str().unwrap();
    assert!(reason.contains("stopped reporting"), "{alert}");
    assert_eq!(alert["action"], "started");
    // The start went out at once (the unplugged cooker acknowledges and ignores it, or the
    // bridge retries while it is offline): the plan is not waiting for 4 hours any more.
    let schedule: Value = api_get(&sys, "/api/v1/schedules").await;
    let state = schedule[0]["state"].as_str().unwrap_or("gone");
    assert!(state != "waiting", "{schedule}");
    sys.stop().await;
}

/// GET on the daemon's API, as JSON.
async fn api_get(sys: &System, path: &str) -> Value {
    let reply = http_support::get(sys.http, path, &[]).await;
    serde_json::from_str(&reply.body).expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ready_by_cook_is_done_at_its_time() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    // Water at the room's temperature and a target at it: no time to heat; a 4 s timer done
    // 9 s from now starts about 5 s from now.
    let water = sys.handle().cooker(A7).unwrap().water_temperature_c;
    let target = (water * 10.0).floor() / 10.0;
    let ready_by = in_seconds(9);
    let r = sys
        .command(
            &format!("anova2mqtt/{A7}/set"),
            &format!(
                r#"{{"id": "quick", "ready_by": "{ready_by}", "target_temperature": {target}, "timer": "4s", "food": "none"}}"#
            ),
        )
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["schedule"]["estimate"]["come_up_s"], 0, "{r}");
    // Started by the plan: the cooker's own end of the cook is when it is done.
    event(&mut sys.watcher, A7, "schedule_started").await;
    let state_topic = format!("anova2mqtt/{A7}/state");
    let state = sys
        .watcher
        .wait_for("the cook's end", |m| {
            m.topic == state_topic && m.json()["cook_ends_at"].is_string()
        })
        .await
        .json();
    let at = OffsetDateTime::parse(state["cook_ends_at"].as_str().unwrap(), &Rfc3339).unwrap();
    let ready = OffsetDateTime::parse(&ready_by, &Rfc3339).unwrap();
    // Tolerance (README): the start's confirmation and the timer's whole seconds, 2 s.
    let off = (at - ready).as_seconds_f64();
    assert!(
        (-2.0..=2.0).contains(&off),
        "done {off:+.1} s from ready_by"
    );
    sys.stop().await;
}
