//! End to end: the daemon against a real mosquitto (started per test) and the Anova cloud
//! simulator over a real WebSocket. Nothing is mocked.

mod support;

use anova2mqtt::simulator::{ApcCommand, ClientCommand, CookerStage, Fault, SimulatorConfig};
use serde_json::Value;
use std::time::Duration;
use support::system::{sim_config, System, A7, PRO};
use support::{Msg, Watcher, WAIT};

/// The keys of `docs/interface.md` §4, per cooker.
const COOKER_ENTITIES: [(&str, &str); 20] = [
    ("climate", "climate"),
    ("cook", "switch"),
    ("target_temperature", "number"),
    ("timer", "number"),
    ("display_unit", "select"),
    ("water_temperature", "sensor"),
    ("stage", "sensor"),
    ("time_remaining", "sensor"),
    ("cook_ends_at", "sensor"),
    ("heater_temperature", "sensor"),
    ("triac_temperature", "sensor"),
    ("cooking", "binary_sensor"),
    ("low_water", "binary_sensor"),
    ("alarm", "binary_sensor"),
    ("last_cook", "sensor"),
    ("event", "event"),
    ("preset", "select"),
    ("scheduled_start", "sensor"),
    ("cancel_schedule", "button"),
    ("firmware", "update"),
];

fn discovery(watcher: &mut Watcher, id: &str) -> Value {
    let topic = format!("homeassistant/device/anova2mqtt_{id}/config");
    let msgs: Vec<Msg> = watcher
        .on(&topic)
        .into_iter()
        .filter(|m| !m.payload.is_empty())
        .collect();
    msgs.last().map(Msg::json).unwrap_or(Value::Null)
}

#[tokio::test]
async fn discovery_state_and_availability_appear_retained() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    for id in [A7, PRO] {
        let topic = format!("homeassistant/device/anova2mqtt_{id}/config");
        sys.watcher
            .wait_for("discovery", |m| m.topic == topic && !m.payload.is_empty())
            .await;
        let config = discovery(&mut sys.watcher, id);
        let components = config["components"].as_object().expect("components");
        for (key, platform) in COOKER_ENTITIES {
            let component = components
                .get(key)
                .unwrap_or_else(|| panic!("{id}: {key} missing"));
            assert_eq!(component["platform"], platform, "{id}/{key}");
            assert_eq!(component["unique_id"], format!("anova2mqtt_{id}_{key}"));
        }
        assert_eq!(
            components.len(),
            COOKER_ENTITIES.len(),
            "{id}: {:?}",
            components.keys()
        );
        assert_eq!(config["device"]["manufacturer"], "Anova");
        assert_eq!(config["origin"]["name"], "anova2mqtt");
    }
    let a7 = discovery(&mut sys.watcher, A7);
    assert_eq!(a7["components"]["climate"]["max_temp"], 95.0);
    let pro = discovery(&mut sys.watcher, PRO);
    assert_eq!(pro["components"]["climate"]["max_temp"], 92.0);
    sys.watcher
        .wait_for("bridge discovery", |m| {
            m.topic == "homeassistant/device/anova2mqtt_bridge/config" && !m.payload.is_empty()
        })
        .await;

    // A newcomer sees all of it retained.
    let mut late = Watcher::connect(sys.broker.port, &["anova2mqtt/#", "homeassistant/#"]).await;
    for topic in [
        "anova2mqtt/bridge/state".to_owned(),
        "anova2mqtt/bridge/info".to_owned(),
        "anova2mqtt/bridge/devices".to_owned(),
        format!("anova2mqtt/{A7}/state"),
        format!("anova2mqtt/{PRO}/availability"),
        format!("homeassistant/device/anova2mqtt_{A7}/config"),
    ] {
        let m = late.wait_for(&topic, |m| m.topic == topic).await;
        assert!(m.retained, "{topic} is not retained");
    }
    let state = late.on(&format!("anova2mqtt/{A7}/state"))[0].json();
    assert_eq!(state["stage"], "idle");
    assert_eq!(state["model"], "a7");
    assert_eq!(state["online"], true);
    assert!(state["water_temperature"].is_number());
    let info = late.on("anova2mqtt/bridge/info")[0].json();
    assert_eq!(info["cloud"], "connected");
    assert_eq!(info["devices"], 2);
    sys.stop().await;
}

#[tokio::test]
async fn pending_target_then_cook_on_starts_a_cook() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let r = sys
        .command(&format!("anova2mqtt/{A7}/set/target_temperature"), "57.5")
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["pending"], true);
    assert!(
        sys.handle().commands().is_empty(),
        "a pending target sends nothing"
    );
    let r = sys
        .command(&format!("anova2mqtt/{A7}/set/cook"), "ON")
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let commands = sys.handle().commands();
    assert_eq!(commands.len(), 1);
    let ClientCommand::Apc {
        command:
            ApcCommand::Start {
                cooker,
                target_temperature,
                ..
            },
        ..
    } = &commands[0].frame.body
    else {
        panic!("not a start: {:?}", commands[0].frame);
    };
    assert_eq!(cooker.cooker_id, A7);
    assert_eq!(cooker.device_type.as_str(), "a7");
    assert_eq!(*target_temperature, 57.5);
    let cooker = sys.handle().cooker(A7).expect("cooker");
    assert_ne!(cooker.stage, CookerStage::Idle);
    assert_eq!(cooker.target_temperature_c, 57.5);
    let topic = format!("anova2mqtt/{A7}/event");
    sys.watcher
        .wait_for("cook_started", |m| {
            m.topic == topic && m.json()["event_type"] == "cook_started"
        })
        .await;
    sys.stop().await;
}

#[tokio::test]
async fn out_of_range_sends_nothing_to_the_cloud() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let r = sys
        .command(
            &format!("anova2mqtt/{PRO}/set"),
            r#"{"id":"big","cook":true,"target_temperature":120}"#,
        )
        .await;
    assert_eq!(r["id"], "big");
    assert_eq!(r["status"], "error");
    assert_eq!(r["error"]["code"], "out_of_range");
    assert_eq!(
        r["error"]["message"],
        "target_temperature 120 °C is above this cooker's maximum of 92 °C"
    );
    assert!(sys.handle().commands().is_empty());
    sys.stop().await;
}

/// Issue 26, finding 9, over the broker: every badly formed command is answered once, with
/// the caller's id wherever the payload has a readable one.
#[tokio::test]
async fn badly_formed_commands_are_answered_with_the_callers_id() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let set = format!("anova2mqtt/{A7}/set");
    for (payload, id) in [
        (
            r#"{"id":"nan","target_temperature":NaN,"cook":true}"#,
            "nan",
        ),
        (r#"{"id":"inf","timer":Infinity}"#, "inf"),
        (r#"{"id":"huge","target_temperature":1e309}"#, "huge"),
        (r#"{"id":"one","cook":true,"id":"two"}"#, "one"),
    ] {
        let r = sys.command(&set, payload).await;
        assert_eq!(r["error"]["code"], "invalid_json", "{payload}");
        assert_eq!(r["id"], id, "{payload}");
    }
    let deep = format!(
        "{{\"id\":\"deep\",\"cook\":{}true{}}}",
        "[".repeat(500),
        "]".repeat(500)
    );
    let r = sys.command(&set, &deep).await;
    assert_eq!(
        (r["error"]["code"].as_str(), r["id"].as_str()),
        (Some("invalid_json"), Some("deep"))
    );

    let response_topic = format!("anova2mqtt/{A7}/response");
    sys.watcher.drain();
    let mut not_utf8 = br#"{"id":"bytes","cook":"on"#.to_vec();
    not_utf8.extend_from_slice(&[0xc3, 0x28, b'"', b'}']);
    sys.watcher.publish_bytes(&set, &not_utf8).await;
    let r = sys
        .watcher
        .next_matching(WAIT, "a response", |m| m.topic == response_topic)
        .await
        .json();
    assert_eq!(
        (r["error"]["code"].as_str(), r["id"].as_str()),
        (Some("invalid_json"), Some("bytes"))
    );

    // No device id in the topic: answered on <base>//response, not ignored.
    let r = sys
        .command("anova2mqtt//set", r#"{"id":"who","cook":true}"#)
        .await;
    assert_eq!(r["id"], "who");
    assert_eq!(r["error"]["code"], "device_offline");
    assert!(sys.handle().commands().is_empty());
    sys.stop().await;
}

#[tokio::test]
async fn a_retained_command_is_refused() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    if !sys.broker.mosquitto {
        return; // the embedded broker does not implement Retain As Published
    }
    sys.ready().await;
    let response_topic = format!("anova2mqtt/{A7}/response");
    sys.watcher
        .publish(&format!("anova2mqtt/{A7}/set/cook"), "ON", true)
        .await;
    let r = sys
        .watcher
        .wait_for("response", |m| m.topic == response_topic)
        .await
        .json();
    assert_eq!(r["error"]["code"], "retained_command");
    // The refusal says how to clear it (issue 27 item 9), and that command, run as given (with
    // the broker's port), clears it: a new subscriber gets no retained "ON" first.
    let message = r["error"]["message"].as_str().unwrap_or_default();
    let clear = format!("mosquitto_pub -r -n -t 'anova2mqtt/{A7}/set/cook'");
    assert!(message.contains(&clear), "{message}");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{clear} -h 127.0.0.1 -p {}", sys.broker.port))
        .status()
        .expect("sh");
    assert!(status.success());
    let topic = format!("anova2mqtt/{A7}/set/cook");
    // A retained message comes with the subscription, before anything published later.
    let mut fresh = Watcher::connect(sys.broker.port, &[topic.as_str(), "test/marker"]).await;
    fresh.publish("test/marker", "marker", false).await;
    let first = fresh.wait_for("the marker", |_| true).await;
    assert_eq!(first.topic, "test/marker", "{}", first.payload);
    // Clearing it is not a command either.
    sys.watcher
        .publish(&format!("anova2mqtt/{A7}/set/cook"), "", true)
        .await;
    let r = sys
        .command(&format!("anova2mqtt/{A7}/set/display_unit"), "C")
        .await;
    assert_eq!(r["status"], "ok");
    assert!(sys.handle().commands().is_empty());
    assert_eq!(sys.watcher.on(&response_topic).len(), 2);
    sys.stop().await;
}

#[tokio::test]
async fn a_refused_change_to_a_running_cook_still_takes_effect() {
    let sim = SimulatorConfig {
        enforce_pat_allow_list: true,
        ..sim_config()
    };
    let mut sys = System::start(sim, |_| {}).await;
    sys.ready().await;
    let r = sys
        .command(
            &format!("anova2mqtt/{PRO}/set"),
            r#"{"cook":true,"target_temperature":56,"timer":"2h"}"#,
        )
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let r = sys
        .command(&format!("anova2mqtt/{PRO}/set/target_temperature"), "60")
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap_or("")
            .contains("started again"),
        "{r}"
    );
    let cooker = sys.handle().cooker(PRO).expect("pro");
    assert_eq!(cooker.target_temperature_c, 60.0);
    assert_ne!(cooker.stage, CookerStage::Idle);
    let names: Vec<String> = sys
        .handle()
        .commands()
        .iter()
        .map(|c| c.frame.command.clone())
        .collect();
    assert_eq!(
        names,
        ["CMD_APC_START", "CMD_APC_SET_TARGET_TEMP", "CMD_APC_START"]
    );
    // The refusal is remembered: the next change restarts at once.
    let r = sys
        .command(&format!("anova2mqtt/{PRO}/set/target_temperature"), "61")
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(sys.handle().commands().len(), 4);
    sys.stop().await;
}

#[tokio::test]
async fn a_silent_cooker_goes_offline_and_refuses_commands() {
    let mut sys = System::start(sim_config(), |c| {
        c.anova.stale_after = Duration::from_secs(1)
    })
    .await;
    sys.ready().await;
    sys.handle()
        .inject(Fault::Silent {
            cooker_id: A7.into(),
            silent: true,
        })
        .expect("fault");
    let topic = format!("anova2mqtt/{A7}/availability");
    sys.watcher
        .next_matching(Duration::from_secs(4), "offline", |m| {
            m.topic == topic && m.payload == "offline"
        })
        .await;
    let r = sys
        .command(&format!("anova2mqtt/{A7}/set/cook"), "ON")
        .await;
    assert_eq!(r["error"]["code"], "device_offline");
    assert!(sys.handle().commands().is_empty());
    // The other cooker is unaffected.
    let pro = sys.watcher.on(&format!("anova2mqtt/{PRO}/availability"));
    assert_eq!(pro.last().map(|m| m.payload.as_str()), Some("online"));
    // Plugged in again: online.
    sys.handle()
        .inject(Fault::Silent {
            cooker_id: A7.into(),
            silent: false,
        })
        .expect("fault");
    sys.watcher
        .next_matching(Duration::from_secs(4), "online", |m| {
            m.topic == topic && m.payload == "online"
        })
        .await;
    sys.stop().await;
}

#[tokio::test]
async fn everything_comes_back_after_a_broker_restart() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    if !sys.broker.mosquitto {
        return; // restarting needs the real broker
    }
    sys.ready().await;
    sys.broker.restart();
    // A fresh broker without persistence: only what the daemon republishes is there.
    let mut fresh = Watcher::connect(sys.broker.port, &["anova2mqtt/#", "homeassistant/#"]).await;
    for topic in [
        "anova2mqtt/bridge/state".to_owned(),
        format!("homeassistant/device/anova2mqtt_{A7}/config"),
        format!("homeassistant/device/anova2mqtt_{PRO}/config"),
        format!("anova2mqtt/{A7}/availability"),
        format!("anova2mqtt/{PRO}/state"),
    ] {
        fresh
            .wait_for_within(Duration::from_secs(8), &topic, |m| {
                m.topic == topic && !m.payload.is_empty()
            })
            .await;
    }
    assert_eq!(
        fresh
            .on("anova2mqtt/bridge/state")
            .last()
            .map(|m| m.payload.clone())
            .as_deref(),
        Some("online")
    );
    // And commands work again (the subscriptions were renewed).
    sys.watcher = fresh;
    let r = sys
        .command(&format!("anova2mqtt/{A7}/set/timer"), "30")
        .await;
    assert_eq!(r["status"], "ok");
    sys.stop().await;
}

#[tokio::test]
async fn home_assistant_online_triggers_a_republish() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let topic = format!("homeassistant/device/anova2mqtt_{A7}/config");
    sys.watcher
        .wait_for("discovery", |m| m.topic == topic)
        .await;
    sys.watcher.clear();
    sys.watcher
        .publish("homeassistant/status", "online", false)
        .await;
    let m = sys
        .watcher
        .next_matching(Duration::from_secs(4), "republished discovery", |m| {
            m.topic == topic && !m.payload.is_empty()
        })
        .await;
    assert!(
        !m.retained,
        "a live republish, not the broker's retained copy"
    );
    sys.stop().await;
}

#[tokio::test]
async fn bridge_requests_and_graceful_stop() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    sys.watcher
        .publish(
            "anova2mqtt/bridge/request/health_check",
            r#"{"id":"h"}"#,
            false,
        )
        .await;
    let r = sys
        .watcher
        .wait_for("health", |m| {
            m.topic == "anova2mqtt/bridge/response/health_check"
        })
        .await
        .json();
    assert_eq!(r["id"], "h");
    assert_eq!(r["data"]["healthy"], true);
    assert_eq!(r["data"]["devices"], 2);
    // refresh reconnects to the cloud.
    sys.watcher
        .publish("anova2mqtt/bridge/request/refresh", "", false)
        .await;
    sys.handle()
        .wait_for_connection_attempts(2, WAIT)
        .await
        .expect("a second connection");
    sys.watcher
        .wait_for("reconnect counted", |m| {
            m.topic == "anova2mqtt/bridge/info" && m.json()["reconnects"] == 1
        })
        .await;
    let mut watcher = Watcher::connect(sys.broker.port, &["anova2mqtt/bridge/state"]).await;
    watcher.wait_for("online", |m| m.payload == "online").await;
    sys.stop().await;
    watcher
        .next_matching(WAIT, "offline on stop", |m| m.payload == "offline")
        .await;
}

/// Issue 14: under `--speed`, times are steady and agree with each other. The simulated world's
/// clock runs N times faster; the bridge reads a Gen 3 cooker's times on its own clock and a
/// Gen 2 cooker's on its tick, so the end time holds from push to push, and while maintaining
/// the end lies before `updated_at` by exactly `time_maintaining`.
#[tokio::test]
async fn times_are_steady_and_consistent_at_sixty_times_speed() {
    use anova2mqtt::simulator::SimCookerSpec;
    let warm = |spec: SimCookerSpec| SimCookerSpec {
        water_temperature_c: 60.0,
        target_temperature_c: 60.0,
        ..spec
    };
    let sim = SimulatorConfig {
        speed: 60.0,
        idle_push_interval: Duration::from_millis(200),
        cooking_push_interval: Duration::from_millis(100),
        ..SimulatorConfig::for_tests(vec![
            warm(anova2mqtt::simulator::SimCookerSpec::a7(
                "A7DEMO000000000001",
                "a7",
            )),
            warm(anova2mqtt::simulator::SimCookerSpec::pro(
                "PRODEMO00000000001",
                "pro",
            )),
        ])
    };
    let mut sys = System::start(sim, |_| {}).await;
    sys.ready().await;
    for id in [A7, PRO] {
        let r = sys
            .command(
                &format!("anova2mqtt/{id}/set"),
                r#"{"cook":true,"target_temperature":60,"timer":"3m"}"#,
            )
            .await;
        assert_eq!(r["status"], "ok", "{r}");
    }
    // Three simulated minutes take three real seconds; watch until both maintain a while.
    for id in [A7, PRO] {
        let topic = format!("anova2mqtt/{id}/state");
        sys.watcher
            .next_matching(Duration::from_secs(8), "maintaining", |m| {
                m.topic == topic && m.json()["time_maintaining"].as_u64() >= Some(60)
            })
            .await;
    }
    let parse = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap_or(""),
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
    };
    for id in [A7, PRO] {
        let states: Vec<Value> = sys
            .watcher
            .on(&format!("anova2mqtt/{id}/state"))
            .iter()
            .map(Msg::json)
            .filter(|s| s["cooking"] == true)
            .collect();
        let ends: Vec<time::OffsetDateTime> = states
            .iter()
            .filter(|s| s["stage"] == "cooking" || s["stage"] == "maintaining")
            .filter_map(|s| parse(&s["cook_ends_at"]))
            .collect();
        assert!(ends.len() >= 3, "{id}: {states:#?}");
        let spread = *ends.iter().max().unwrap() - *ends.iter().min().unwrap();
        assert!(
            spread <= time::Duration::seconds(2),
            "{id}: cook_ends_at moved by {spread} over {} pushes",
            ends.len()
        );
        for s in states.iter().filter(|s| s["stage"] == "maintaining") {
            let (end, at) = (
                parse(&s["cook_ends_at"]).unwrap(),
                parse(&s["updated_at"]).unwrap(),
            );
            let maintaining = s["time_maintaining"].as_i64().unwrap_or(-1);
            assert!(
                end <= at,
                "{id}: ends after its own update while maintaining: {s}"
            );
            assert!(
                ((at - end).whole_seconds() - maintaining).abs() <= 2,
                "{id}: time_maintaining {maintaining} disagrees with {s}"
            );
        }
    }
    sys.stop().await;
}
