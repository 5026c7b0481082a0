//! The food-safety watch of a delayed plan against physics (`interface.md` §8.3): a real
//! mosquitto, the simulator over a real WebSocket, the daemon between them. The a7 stands in
//! an ice bath; a chicken plan is made to start hours later; once the bath's ice is gone the
//! simulated water warms towards the room by the simulator's own thermal model, and as soon as
//! the bridge sees it above 4.4 °C it starts the cook at once with `food_safety_alert`: waiting
//! would leave the chicken in the danger zone for longer than the 2 hours the USDA allows.
//!
//! Time: the simulator runs 600 times faster than real time, so the water's 20 simulated
//! minutes from 1 °C to 4.4 °C take about 2 s; the bridge's own clock is real.

mod support;

use anova2mqtt::simulator::{ApcCommand, ClientCommand, CookerStage, ICE_WATER_C};
use serde_json::Value;
use std::time::Duration;
use support::system::{sim_config, System, A7};
use support::Msg;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// How long the bridge may take to act on a warm reading (a push every 200 ms).
const ACT_WITHIN: Duration = Duration::from_secs(8);

fn topic(leaf: &str) -> String {
    format!("anova2mqtt/{A7}/{leaf}")
}

/// The water temperature of a state message of the a7, if it is one.
fn water(m: &Msg) -> Option<f64> {
    (m.topic == topic("state"))
        .then(|| m.json()["water_temperature"].as_f64())
        .flatten()
}

fn starts(sys: &System) -> Vec<ApcCommand> {
    sys.handle()
        .commands()
        .into_iter()
        .filter_map(|c| match c.frame.body {
            ClientCommand::Apc {
                command: command @ ApcCommand::Start { .. },
                ..
            } if command.cooker().cooker_id == A7 => Some(command),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warming_ice_bath_starts_a_chicken_plan_early_with_a_food_safety_alert() {
    let mut sys = System::start(
        anova2mqtt::simulator::SimulatorConfig {
            speed: 600.0,
            ..sim_config()
        },
        |_| {},
    )
    .await;
    sys.ready().await;
    // The chicken goes into an ice bath: 1 °C, plenty of ice (it would last 10 s here).
    sys.ice_bath(A7, 0.25);
    sys.watcher
        .next_matching(ACT_WITHIN, "the ice bath's water", |m| {
            water(m).is_some_and(|t| (t - ICE_WATER_C).abs() < 0.1)
        })
        .await;

    // Planned for three hours from now: fine while the water is ice-cold.
    let start_at = (OffsetDateTime::now_utc() + time::Duration::hours(3))
        .replace_nanosecond(0)
        .unwrap()
        .format(&Rfc3339)
        .unwrap();
    let plan = format!(
        r#"{{"id": "chicken-plan", "cook": true, "target_temperature": 62, "timer": "1h30m",
            "food": "poultry", "start_at": "{start_at}"}}"#
    );
    let answer = sys.command(&topic("set"), &plan).await;
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(answer["id"], "chicken-plan", "{answer}");
    let schedule = &answer["schedule"];
    assert!(schedule["schedule_id"].is_string(), "{answer}");
    assert_eq!(
        OffsetDateTime::parse(schedule["start_at"].as_str().unwrap(), &Rfc3339).unwrap(),
        OffsetDateTime::parse(&start_at, &Rfc3339).unwrap(),
        "{answer}"
    );
    let retained = sys
        .watcher
        .wait_for("the retained plan", |m| {
            m.topic == topic("schedule") && !m.payload.is_empty()
        })
        .await;
    assert_eq!(
        retained.json()["schedule_id"],
        schedule["schedule_id"],
        "{}",
        retained.payload
    );
    assert!(starts(&sys).is_empty(), "nothing started yet");

    // The last of the ice melts: from here on the simulator's physics warm the water towards
    // the 20 °C room (1 → 4.4 °C in about 20 simulated minutes).
    sys.ice_bath(A7, 0.0);
    // The bridge starts the cook at once, says why, and answers the plan's command once more
    // (its execution, with the plan's id).
    let alert = sys
        .watcher
        .next_matching(ACT_WITHIN, "food_safety_alert", |m| {
            m.topic == topic("event") && m.json()["event_type"] == "food_safety_alert"
        })
        .await;
    // It acted on what it saw: the a7's state showed the water above 4.4 °C before the alert,
    // and never before the ice was gone.
    let seen = &sys.watcher.seen;
    let at = |m: &Msg| seen.iter().position(|s| s == m).unwrap();
    let warm = seen
        .iter()
        .find(|m| water(m).is_some_and(|t| t > 4.4))
        .expect("a state above 4.4 °C");
    assert!(at(warm) < at(&alert), "{}", warm.payload);
    let alert = alert.json();
    let reason = alert.to_string();
    assert!(
        reason.contains("4.4") && reason.contains("2 h"),
        "the alert says why: {alert}"
    );
    let started = sys
        .watcher
        .wait_for_within(ACT_WITHIN, "the plan's execution", |m| {
            m.topic == topic("response") && m.json()["id"] == "chicken-plan" && {
                let json: Value = m.json();
                json.get("schedule").is_none()
            }
        })
        .await;
    assert_eq!(started.json()["status"], "ok", "{}", started.payload);
    sys.watcher
        .wait_for_within(ACT_WITHIN, "schedule_started", |m| {
            m.topic == topic("event") && m.json()["event_type"] == "schedule_started"
        })
        .await;
    // The device itself cooks, at the plan's target, hours before the plan's time.
    let cooking = sys
        .handle()
        .wait_for_stage(A7, CookerStage::Preheating, ACT_WITHIN)
        .await
        .expect("the a7 preheats");
    assert_eq!(cooking.target_temperature_c, 62.0);
    assert_eq!(starts(&sys).len(), 1, "exactly one start");
    // Its pending plan is gone: the retained message is cleared.
    sys.watcher
        .wait_for_within(ACT_WITHIN, "the retained plan cleared", |m| {
            m.topic == topic("schedule") && m.payload.is_empty()
        })
        .await;
    sys.stop().await;
}
