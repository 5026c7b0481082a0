//! Ovens end to end: the daemon against a real mosquitto (started per test) and the simulator's
//! `oven_v1` and `oven_v2` over a real WebSocket, time-scaled so a whole cook takes seconds.

mod support;

use anova2mqtt::config::Config;
use anova2mqtt::secret::Secret;
use anova2mqtt::simulator::{
    Fault, OvenChange, OvenMode, OvenSettings, SimFirmwareOffer, SimOvenSpec, Simulator,
    SimulatorConfig, WaterTank,
};
use serde_json::{json, Value};
use std::time::Duration;
use support::{Broker, Watcher};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const V1: &str = "ovenv1000000000001";
const V2: &str = "ovenv2000000000001";

/// A running daemon with its broker and simulator.
struct System {
    _broker: Broker,
    sim: Simulator,
    watcher: Watcher,
    stop: Option<oneshot::Sender<()>>,
    daemon: Option<JoinHandle<anyhow::Result<()>>>,
    /// Where in `watcher.seen` the search for the next event starts.
    cursor: usize,
}

impl System {
    async fn start(confirm_timeout: Duration) -> Self {
        support::log_to_test_output();
        let broker = Broker::start();
        let config = SimulatorConfig {
            // A simulated minute per real second, with fast elements and probe: a preheat to
            // 180 °C takes a quarter second, a one-minute timer one second, and each push is
            // a few simulated seconds apart, as on a real oven.
            speed: 60.0,
            ovens: vec![
                // The real capture's offer: 2.1.7 installed, 2.1.8 offered.
                SimOvenSpec::v1(V1, "Old oven")
                    .with_firmware_offer(SimFirmwareOffer::captured_v1()),
                SimOvenSpec::v2(V2, "New oven"),
            ],
            oven: OvenSettings {
                v1_idle_push: Duration::from_millis(300),
                v1_cooking_push: Duration::from_millis(100),
                v2_idle_push: Duration::from_millis(600),
                v2_cooking_push: Duration::from_millis(150),
                heat_rate_c_per_min: 600.0,
                probe_time_constant_s: 30.0,
            },
            ..SimulatorConfig::for_tests(Vec::new())
        };
        let sim = Simulator::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("simulator");
        let watcher = Watcher::connect(broker.port, &["anova2mqtt/#", "homeassistant/#"]).await;
        let mut config = Config::default();
        config.anova.url = sim.url();
        config.anova.token = Some(Secret::new("anova-oven-token"));
        config.anova.command_timeout = Duration::from_secs(3);
        config.anova.confirm_timeout = confirm_timeout;
        config.mqtt.url = broker.url();
        config.mqtt.client_id = format!("anova2mqtt-oven-{}", uuid::Uuid::new_v4().simple());
        // Tests run in parallel: the local API takes any free port.
        config.http.listen = "127.0.0.1:0".into();
        config.validate_for_run().expect("valid config");
        let (stop, stopped) = oneshot::channel::<()>();
        // The cook history in memory, never in the developer's home.
        let options = anova2mqtt::daemon::RunOptions {
            history: Some(anova2mqtt::store::Settings::new(
                None,
                config.history.retention,
            )),
            ..anova2mqtt::daemon::RunOptions::default()
        };
        let daemon = tokio::spawn(async move {
            anova2mqtt::daemon::run_with(&config, options, async move {
                let _ = stopped.await;
            })
            .await
        });
        let mut system = Self {
            _broker: broker,
            sim,
            watcher,
            stop: Some(stop),
            daemon: Some(daemon),
            cursor: 0,
        };
        for id in [V1, V2] {
            let topic = format!("anova2mqtt/{id}/availability");
            system
                .watcher
                .wait_for("oven online", |m| m.topic == topic && m.payload == "online")
                .await;
        }
        system
    }

    /// Sends a command on `<id>/set` and returns its one response.
    async fn command(&mut self, id: &str, command: Value) -> Value {
        let topic = format!("anova2mqtt/{id}/response");
        self.watcher.drain();
        self.cursor = self.watcher.seen.len();
        self.watcher
            .publish(&format!("anova2mqtt/{id}/set"), &command.to_string(), false)
            .await;
        self.watcher
            .next_matching(Duration::from_secs(9), "a response", |m| m.topic == topic)
            .await
            .json()
    }

    /// Waits for each cook event in turn, since the last command (others may come between).
    async fn events(&mut self, id: &str, kinds: &[&str]) -> Vec<Value> {
        let topic = format!("anova2mqtt/{id}/event");
        let mut found = Vec::new();
        for kind in kinds {
            let is = |m: &support::Msg| m.topic == topic && m.json()["event_type"] == *kind;
            self.watcher.drain();
            let earlier = self.watcher.seen[self.cursor..].iter().position(is);
            let msg = match earlier {
                Some(at) => {
                    self.cursor += at + 1;
                    self.watcher.seen[self.cursor - 1].clone()
                }
                None => {
                    let msg = self
                        .watcher
                        .next_matching(Duration::from_secs(8), kind, is)
                        .await;
                    self.cursor = self.watcher.seen.len();
                    msg
                }
            };
            found.push(msg.json());
        }
        found
    }

    /// The latest published state.
    async fn state(&mut self, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let topic = format!("anova2mqtt/{id}/state");
        if let Some(last) = self.watcher.on(&topic).last().map(|m| m.json()) {
            if pred(&last) {
                return last;
            }
        }
        self.watcher
            .next_matching(Duration::from_secs(8), what, |m| {
                m.topic == topic && pred(&m.json())
            })
            .await
            .json()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(daemon) = self.daemon.take() {
            tokio::time::timeout(Duration::from_secs(5), daemon)
                .await
                .expect("the daemon stops within 5 s")
                .expect("join")
                .expect("clean exit");
        }
    }
}

/// Firmware (issue 27 item 18): the cloud's `EVENT_APO_WIFI_FIRMWARE_UPDATE` becomes the
/// state's `update` object, and each oven has a Home Assistant `update` entity reading it (no
/// install command: a token cannot start one).
#[tokio::test]
async fn an_offered_firmware_update_reaches_the_state_and_home_assistant() {
    let mut sys = System::start(Duration::from_secs(3)).await;
    let offered = sys
        .state(V1, "the offer in the state", |s| {
            s["firmware_update"]["latest_version"] == "2.1.8"
        })
        .await;
    let update = &offered["firmware_update"];
    assert_eq!(update["installed_version"], "2.1.7");
    assert_eq!(update["update_available"], true);
    assert_eq!(update["required"], false);
    assert_eq!(
        update["release_summary"],
        "2.1.8 - Prevent cooks when idle or NTC broken"
    );
    assert!(update["release_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://www.notion.so/")));
    // No offer for the other oven: the installed version, the latest unknown.
    let plain = sys
        .state(V2, "the v2 state", |s| s["firmware_update"].is_object())
        .await;
    assert_eq!(
        plain["firmware_update"]["installed_version"],
        "11_225_1.4.2_01.01.26"
    );
    assert_eq!(plain["firmware_update"]["latest_version"], Value::Null);
    // Home Assistant (device discovery, the default): an `update` entity on the state.
    let topic = format!("homeassistant/device/anova2mqtt_{V1}/config");
    let config = sys
        .watcher
        .wait_for("the oven's discovery", |m| m.topic == topic)
        .await
        .json();
    let firmware = &config["components"]["firmware"];
    assert_eq!(firmware["platform"], "update");
    assert_eq!(firmware["device_class"], "firmware");
    assert_eq!(firmware["state_topic"], format!("anova2mqtt/{V1}/state"));
    assert_eq!(
        firmware["value_template"],
        "{{ value_json.firmware_update | tojson }}"
    );
    assert!(firmware.get("command_topic").is_none());
    sys.stop().await;
}

async fn a_whole_cook(id: &str, device_type: &str) {
    let mut sys = System::start(Duration::from_secs(3)).await;
    let idle = sys.state(id, "idle state", |s| s["stage"] == "idle").await;
    assert_eq!(idle["model"], device_type);
    assert_eq!(idle["cooking"], false);

    let response = sys
        .command(
            id,
            json!({"id": "roast", "cook": true, "target_temperature": 180, "timer": "1m",
                "elements": ["top", "rear"]}),
        )
        .await;
    assert_eq!(response["status"], "ok", "{response}");
    assert_eq!(response["id"], "roast");
    let cook_id = response["command"]["cook_id"].as_str().unwrap().to_owned();
    let sent = sys.sim.handle().oven(id).unwrap();
    assert_eq!(sent.mode, OvenMode::Cooking);
    // What went over the wire has the shape the app sends to this generation
    // (`CMD_APO_START.oven_<generation>.real.json`): the cook header only for v2.
    let start = start_sent(&sys.sim, id);
    let mut keys: Vec<&str> = start
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    if device_type == "oven_v1" {
        assert_eq!(keys, ["cookId", "stages"], "{start}");
        let stages = start["stages"].as_array().unwrap();
        assert_eq!(stages.len(), 2, "a preheat and its cook stage: {start}");
        assert_eq!(
            (stages[0]["type"].as_str(), stages[1]["type"].as_str()),
            (Some("preheat"), Some("cook"))
        );
        assert_eq!(stages[1]["timerAdded"], true);
        assert_eq!(stages[1]["title"], "", "the pair's title is on its preheat");
    } else {
        assert_eq!(
            keys,
            [
                "cookId",
                "cookableId",
                "cookableType",
                "cookerId",
                "originSource",
                "stages",
                "title",
                "type"
            ],
            "{start}"
        );
        assert_eq!(start["type"], "oven_v2");
        assert_eq!(start["cookerId"], id);
    }
    let cooking = sys.state(id, "cooking", |s| s["cooking"] == true).await;
    assert_eq!(cooking["cook_id"], cook_id.as_str());
    assert_eq!(cooking["target_temperature"], 180.0);
    assert_eq!(cooking["element_top"], true);

    let events = sys
        .events(
            id,
            &[
                "cook_started",
                "preheat_complete",
                "timer_finished",
                "cook_stopped",
            ],
        )
        .await;
    assert_eq!(events[1]["stage"], "cooking");
    let idle = sys.state(id, "idle again", |s| s["cooking"] == false).await;
    assert_eq!(idle["stage"], "idle");
    // While idle the target is the one the next start uses: here the last cook's.
    assert_eq!(idle["target_temperature"], 180.0);

    // A cook without a timer runs until stopped.
    let response = sys
        .command(id, json!({"cook": true, "target_temperature": "350F"}))
        .await;
    assert_eq!(response["status"], "ok", "{response}");
    sys.events(id, &["cook_started"]).await;
    let stop = sys.command(id, json!({"cook": false})).await;
    assert_eq!(stop["status"], "ok", "{stop}");
    sys.events(id, &["cook_stopped"]).await;
    assert_eq!(sys.sim.handle().oven(id).unwrap().mode, OvenMode::Idle);
    sys.stop().await;
}

/// Issue 27 item 5, as Home Assistant does it: `climate.set_temperature` with `hvac_mode: heat`
/// on an idle oven publishes `set/mode` = `heat` and then `set/target_temperature` = `200.0`
/// (the climate entity's two command topics), back to back. The end state is one cook, started
/// once, at 200 °C; each message has its one `ok`.
async fn home_assistants_heat_with_a_temperature(id: &str) {
    let mut sys = System::start(Duration::from_secs(3)).await;
    let idle = sys.state(id, "idle state", |s| s["stage"] == "idle").await;
    // The thermostat has a target to show while idle: the Anova app's default, dry.
    assert_eq!(idle["target_temperature"], 180.0);
    assert_eq!(idle["temperature_mode"], "dry");
    let discovery = sys
        .watcher
        .wait_for("the climate's discovery", |m| {
            m.topic.starts_with("homeassistant/")
                && m.payload.contains(&format!("anova2mqtt/{id}/set/mode"))
        })
        .await
        .json();
    let climate = match discovery.get("components") {
        Some(components) => components["climate"].clone(),
        None => discovery,
    };
    let mode_topic = climate["mode_command_topic"].as_str().unwrap().to_owned();
    let temperature_topic = climate["temperature_command_topic"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        temperature_topic,
        format!("anova2mqtt/{id}/set/target_temperature")
    );

    let before = sys.sim.handle().commands_received();
    sys.watcher.drain();
    sys.cursor = sys.watcher.seen.len();
    sys.watcher.publish(&mode_topic, "heat", false).await;
    sys.watcher
        .publish(&temperature_topic, "200.0", false)
        .await;

    let response_topic = format!("anova2mqtt/{id}/response");
    let mut responses = Vec::new();
    for _ in 0..2 {
        let msg = sys
            .watcher
            .next_matching(Duration::from_secs(9), "a response", |m| {
                m.topic == response_topic
            })
            .await;
        responses.push(msg.json());
    }
    assert!(
        responses.iter().all(|r| r["status"] == "ok"),
        "{responses:?}"
    );
    let cooking = sys.state(id, "cooking", |s| s["cooking"] == true).await;
    assert_eq!(cooking["target_temperature"], 200.0);
    let oven = sys.sim.handle().oven(id).unwrap();
    assert_eq!(oven.mode, OvenMode::Cooking);
    // One start and nothing else reached the cloud (a second start, for the temperature, would
    // have gone out before the second response: each is answered only once the state shows it).
    let starts: Vec<_> = sys.sim.handle().commands()[before as usize..]
        .iter()
        .filter_map(|c| match &c.frame.body {
            anova2mqtt::simulator::ClientCommand::Apo(envelope) => {
                Some(envelope.command_type.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(starts, ["CMD_APO_START"]);
    assert_eq!(sys.sim.handle().commands_received(), before + 1);
    let still = sys
        .state(id, "still cooking", |s| s["cooking"] == true)
        .await;
    assert_eq!(still["cook_id"], cooking["cook_id"]);
    sys.stop().await;
}

#[tokio::test]
async fn home_assistants_heat_with_a_temperature_is_one_cook_on_a_precision_oven_1() {
    home_assistants_heat_with_a_temperature(V1).await;
}

#[tokio::test]
async fn home_assistants_heat_with_a_temperature_is_one_cook_on_a_precision_oven_2() {
    home_assistants_heat_with_a_temperature(V2).await;
}

/// The inner payload of the last `CMD_APO_START` the simulator received for `oven`.
fn start_sent(sim: &Simulator, oven: &str) -> Value {
    sim.handle()
        .commands()
        .into_iter()
        .rev()
        .find_map(|c| match c.frame.body {
            anova2mqtt::simulator::ClientCommand::Apo(envelope)
                if envelope.command_type == "CMD_APO_START" && envelope.id == oven =>
            {
                envelope.payload
            }
            _ => None,
        })
        .expect("a start was sent")
}

#[tokio::test]
async fn a_whole_cook_on_a_precision_oven_1() {
    a_whole_cook(V1, "oven_v1").await;
}

#[tokio::test]
async fn a_whole_cook_on_a_precision_oven_2() {
    a_whole_cook(V2, "oven_v2").await;
}

#[tokio::test]
async fn a_two_stage_cook_moves_on_by_itself() {
    let mut sys = System::start(Duration::from_secs(3)).await;
    let response = sys
        .command(
            V2,
            json!({"cook": true, "stages": [
                {"title": "Sear", "target_temperature": 220, "timer": "1m", "timer_start": "immediately"},
                {"title": "Rest", "target_temperature": 120, "timer": "2m", "steam": 40, "timer_start": "immediately"}
            ]}),
        )
        .await;
    assert_eq!(response["status"], "ok", "{response}");
    assert_eq!(response["command"]["stages"].as_array().unwrap().len(), 2);
    let state = sys
        .state(V2, "stage 1 of 2", |s| s["stage_count"] == 2)
        .await;
    assert_eq!(state["stage_title"], "Sear");
    let events = sys.events(V2, &["stage_changed", "cook_stopped"]).await;
    assert_eq!(events[0]["stage_index"], 2);
    assert_eq!(events[0]["previous_stage_index"], 1);
    sys.stop().await;
}

#[tokio::test]
async fn a_probe_cook_ends_at_the_probe_target() {
    let mut sys = System::start(Duration::from_secs(3)).await;
    let handle = sys.sim.handle();
    handle
        .inject(Fault::Oven {
            cooker_id: V1.into(),
            change: OvenChange::Probe { connected: true },
        })
        .unwrap();
    sys.state(V1, "probe in", |s| s["probe_connected"] == true)
        .await;
    let response = sys
        .command(
            V1,
            json!({"cook": true, "target_temperature": 200, "probe_target": 60, "food": "pork"}),
        )
        .await;
    assert_eq!(response["status"], "ok", "{response}");
    let state = sys
        .state(V1, "probe target", |s| s["probe_target"] == 60.0)
        .await;
    assert!(state["probe_temperature"].as_f64().unwrap() < 60.0);
    let events = sys.events(V1, &["probe_reached", "cook_stopped"]).await;
    assert!(events[0]["probe_temperature"].as_f64().unwrap() >= 60.0);
    sys.stop().await;
}

/// Issue 27 item 2: a probe cook for an oven without its probe is started and answered with a
/// warning; it ends once the probe goes in and reaches the target.
#[tokio::test]
async fn a_probe_cook_without_a_probe_is_warned_about_and_ends_once_it_is_plugged_in() {
    let mut sys = System::start(Duration::from_secs(3)).await;
    sys.state(V1, "no probe", |s| s["probe_connected"] == false)
        .await;
    let response = sys
        .command(
            V1,
            json!({"cook": true, "target_temperature": 200, "probe_target": 60, "food": "pork"}),
        )
        .await;
    assert_eq!(response["status"], "ok", "{response}");
    let warnings = response["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("no food probe is connected")),
        "{response}"
    );
    sys.sim
        .handle()
        .inject(Fault::Oven {
            cooker_id: V1.into(),
            change: OvenChange::Probe { connected: true },
        })
        .unwrap();
    let events = sys.events(V1, &["probe_reached", "cook_stopped"]).await;
    assert!(events[0]["probe_temperature"].as_f64().unwrap() >= 60.0);
    sys.stop().await;
}

#[tokio::test]
async fn a_refused_plan_sends_nothing() {
    let mut sys = System::start(Duration::from_secs(3)).await;
    let before = sys.sim.handle().commands_received();
    let response = sys
        .command(
            V1,
            json!({"id": "x", "cook": true, "stages": [
                {"target_temperature": 150},
                {"target_temperature": 200, "elements": "bottom"}
            ]}),
        )
        .await;
    assert_eq!(response["status"], "error");
    assert_eq!(response["error"]["code"], "out_of_range");
    let message = response["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("stages[2].target_temperature 200 °C"),
        "{message}"
    );
    let response = sys
        .command(
            V2,
            json!({"cook": true, "temperature_mode": "wet", "target_temperature": 95}),
        )
        .await;
    assert_eq!(response["error"]["code"], "out_of_range");
    assert_eq!(
        sys.sim.handle().commands_received(),
        before,
        "nothing was sent"
    );
    sys.stop().await;
}

#[tokio::test]
async fn a_dropped_plan_is_not_confirmed() {
    let mut sys = System::start(Duration::from_millis(1500)).await;
    // An unplugged oven: the cloud acknowledges the start and nothing happens.
    sys.sim
        .handle()
        .inject(Fault::Silent {
            cooker_id: V2.into(),
            silent: true,
        })
        .unwrap();
    let response = sys
        .command(V2, json!({"cook": true, "target_temperature": 180}))
        .await;
    assert_eq!(response["status"], "error", "{response}");
    assert_eq!(response["error"]["code"], "not_confirmed");
    assert!(response["error"]["message"]
        .as_str()
        .unwrap()
        .contains("drops a plan"));
    sys.stop().await;
}

#[tokio::test]
async fn the_water_tank_alarm_and_the_door() {
    let mut sys = System::start(Duration::from_secs(3)).await;
    let handle = sys.sim.handle();
    let response = sys
        .command(
            V2,
            json!({"cook": true, "target_temperature": 100, "steam": 60}),
        )
        .await;
    assert_eq!(response["status"], "ok", "{response}");
    for change in [
        OvenChange::WaterTank(WaterTank::Empty),
        OvenChange::Door { open: true },
    ] {
        handle
            .inject(Fault::Oven {
                cooker_id: V2.into(),
                change,
            })
            .unwrap();
    }
    sys.events(V2, &["water_tank_empty"]).await;
    sys.events(V2, &["door_opened"]).await;
    let state = sys
        .state(V2, "tank empty, door open", |s| {
            s["water_tank_empty"] == true && s["door_open"] == true
        })
        .await;
    assert_eq!(state["cooking"], true);
    sys.stop().await;
}

/// The README's oven examples, sent as they are written (to this test's `oven_v2` instead of
/// the demo's): each is answered `ok`.
#[tokio::test]
async fn the_readme_examples_work() {
    let readme = include_str!("../README.md");
    let examples: Vec<(String, String)> = readme
        .split("mosquitto_pub")
        .filter(|chunk| chunk.contains("-t anova2mqtt/ovendemo0000000001/"))
        .map(|chunk| {
            let topic = chunk
                .split("-t ")
                .nth(1)
                .and_then(|t| t.split_whitespace().next())
                .unwrap()
                .replace("ovendemo0000000001", V2);
            let after = chunk.split("-m ").nth(1).unwrap();
            let payload = match after.strip_prefix('\'') {
                Some(quoted) => quoted.split('\'').next().unwrap(),
                None => after.split_whitespace().next().unwrap(),
            }
            .to_owned();
            (topic, payload)
        })
        .collect();
    assert!(examples.len() >= 5, "{examples:?}");
    let mut sys = System::start(Duration::from_secs(3)).await;
    sys.sim
        .handle()
        .inject(Fault::Oven {
            cooker_id: V2.into(),
            change: OvenChange::Probe { connected: true },
        })
        .unwrap();
    let response_topic = format!("anova2mqtt/{V2}/response");
    for (topic, payload) in examples {
        sys.watcher.drain();
        sys.watcher.publish(&topic, &payload, false).await;
        let response = sys
            .watcher
            .next_matching(Duration::from_secs(9), "a response", |m| {
                m.topic == response_topic
            })
            .await
            .json();
        assert_eq!(response["status"], "ok", "{topic} {payload}: {response}");
    }
    sys.stop().await;
}
