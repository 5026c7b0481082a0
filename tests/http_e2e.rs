//! The local HTTP API end to end: the daemon with its API on a free port, a real mosquitto,
//! and the simulator over a real WebSocket. An API command enters the same bridge path as an
//! MQTT command: same validation, same queue, same single response.

mod http_support;
mod support;

use anova2mqtt::simulator::{ApcCommand, ClientCommand, Fault};
use http_support::{get, metric, next, next_of, post_json, send_json, ws_connect, Received};
use serde_json::{json, Value};
use std::time::Duration;
use support::system::{sim_config, System, A7, PRO};

fn starts(sys: &System) -> Vec<ApcCommand> {
    sys.handle()
        .commands()
        .into_iter()
        .filter_map(|c| match c.frame.body {
            ClientCommand::Apc { command, .. } => Some(command),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn rest_endpoints_answer_from_the_bridge_with_the_contracts_statuses() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let http = sys.http;

    let devices = get(http, "/api/v1/devices", &[]).await;
    assert_eq!(devices.status, 200);
    let devices = devices.json();
    let ids: Vec<&str> = devices
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, [A7, PRO]);
    assert!(
        devices[0]["state"]["water_temperature"].is_number(),
        "{devices}"
    );
    assert_eq!(devices[0]["online"], true);

    let one = get(http, &format!("/api/v1/devices/{PRO}"), &[]).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["model"], "pro");
    get(http, "/api/v1/devices/nosuchdevice", &[])
        .await
        .assert_error(404, "unknown_device");
    let history = get(http, &format!("/api/v1/devices/{A7}/history"), &[]).await;
    assert_eq!(
        (history.status, history.json()["device"].as_str()),
        (200, Some(A7))
    );

    let health = get(http, "/healthz", &[]).await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.json()["cloud"], "connected");

    // A start goes to the simulated cooker and is confirmed by its state: 200.
    let path = format!("/api/v1/devices/{A7}/command");
    let ok = post_json(
        http,
        &path,
        &[],
        r#"{"id":"h1","cook":true,"target_temperature":57}"#,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["id"], "h1");
    assert_eq!(ok.json()["status"], "ok");
    assert!(
        matches!(starts(&sys).last(), Some(ApcCommand::Start { target_temperature, .. }) if *target_temperature == 57.0)
    );

    // The contract's status per code; nothing reaches the cloud for a refused command.
    let sent = sys.handle().commands().len();
    for (body, status, code) in [
        (
            r#"{"id":"h2","target_temperature":120}"#,
            422,
            "out_of_range",
        ),
        (
            r#"{"id":"h3","cook":true,"target_temperature":50,"food":"poultry"}"#,
            422,
            "unsafe",
        ),
        (r#"{"id":"h4","colour":"red"}"#, 400, "unknown_key"),
        (r#"{"id":"h5","cook":"maybe"}"#, 400, "invalid_value"),
        (
            r#"{"id":"h6","cook":true,"cook":false}"#,
            400,
            "invalid_json",
        ),
    ] {
        let reply = post_json(http, &path, &[], body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
        assert_eq!(reply.json()["error"]["code"], code, "{body}");
        assert!(reply.json()["id"].is_string(), "{body}: the id is echoed");
    }
    assert_eq!(sys.handle().commands().len(), sent, "nothing was sent");
    let unknown = post_json(
        http,
        "/api/v1/devices/nosuchdevice/command",
        &[],
        r#"{"cook":true}"#,
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // Prometheus sees the links, the commands and the devices.
    let metrics = get(http, "/metrics", &[]).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body;
    assert_eq!(
        metric(&text, "anova2mqtt_cloud_connected"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "anova2mqtt_mqtt_connected"),
        Some(1.0),
        "{text}"
    );
    assert!(
        metric(&text, "anova2mqtt_cloud_frames_total").is_some_and(|n| n > 0.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "anova2mqtt_commands_total{code=\"out_of_range\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(
        metric(&text, "anova2mqtt_commands_total{code=\"ok\"}").is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            &format!("anova2mqtt_device_online{{device=\"{A7}\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains("anova2mqtt_command_duration_seconds_bucket"),
        "{text}"
    );

    // The cloud goes away: commands are 503, and so is /healthz.
    sys.handle().inject(Fault::RefuseAuth(true)).unwrap();
    sys.handle().inject(Fault::DropConnections).unwrap();
    sys.watcher
        .wait_for("cloud down", |m| {
            m.topic == "anova2mqtt/bridge/info" && !m.payload.contains("\"connected\"")
        })
        .await;
    let down = post_json(http, &path, &[], r#"{"id":"h7","cook":false}"#).await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.json()["error"]["code"], "cloud_unavailable");
    assert_eq!(get(http, "/healthz", &[]).await.status, 503);
    sys.stop().await;
}

#[tokio::test]
async fn api_and_mqtt_commands_for_one_cooker_run_one_at_a_time_in_arrival_order() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    // A slow cloud: each command waits for its RESPONSE, so the two overlap in time.
    sys.handle()
        .inject(Fault::ResponseDelay(Some(Duration::from_millis(300))))
        .unwrap();
    let before = sys.handle().commands().len();
    sys.watcher
        .publish(
            &format!("anova2mqtt/{A7}/set"),
            r#"{"id":"mqtt-1","cook":true,"target_temperature":58}"#,
            false,
        )
        .await;
    // Give the MQTT command time to arrive first.
    sys.handle()
        .wait_for_commands(before + 1, Duration::from_secs(5))
        .await
        .unwrap();
    let http = sys.http;
    let api = tokio::spawn(async move {
        post_json(
            http,
            &format!("/api/v1/devices/{A7}/command"),
            &[],
            r#"{"id":"api-1","target_temperature":59}"#,
        )
        .await
    });
    let mqtt = sys
        .watcher
        .wait_for("the MQTT response", |m| {
            m.topic == format!("anova2mqtt/{A7}/response") && m.payload.contains("mqtt-1")
        })
        .await
        .json();
    assert_eq!(mqtt["status"], "ok", "{mqtt}");
    let api = api.await.unwrap();
    assert_eq!(api.status, 200, "{}", api.body);
    // The API command's step was sent only after the MQTT command was answered.
    let commands = sys.handle().commands();
    let ours: Vec<&ApcCommand> = commands[before..]
        .iter()
        .filter_map(|c| match &c.frame.body {
            ClientCommand::Apc { command, .. } => Some(command),
            _ => None,
        })
        .collect();
    assert!(
        matches!(ours[0], ApcCommand::Start { target_temperature, .. } if *target_temperature == 58.0),
        "{ours:?}"
    );
    assert!(
        matches!(ours[1], ApcCommand::SetTargetTemp { target_temperature, .. } if *target_temperature == 59.0),
        "{ours:?}"
    );
    sys.stop().await;
}

#[tokio::test]
async fn the_stream_carries_states_and_answers_commands() {
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let mut ws = ws_connect(&format!("ws://{}/api/v1/stream", sys.http), &[])
        .await
        .expect("stream");
    let snapshot = next_of(&mut ws, "devices").await;
    assert_eq!(snapshot["devices"].as_array().map(Vec::len), Some(2));
    assert!(
        snapshot["devices"][0]["state"]["water_temperature"].is_number(),
        "{snapshot}"
    );
    // A command over the stream: acknowledged, answered like MQTT, and the cook that follows
    // arrives live as states and events.
    send_json(
        &mut ws,
        json!({"type": "command", "id": "s1", "device": PRO, "command": {"cook": true, "target_temperature": 60}}),
    )
    .await;
    let (mut ack, mut response, mut state, mut event) = (None, None, None, None);
    while ack.is_none() || response.is_none() || state.is_none() || event.is_none() {
        let Received::Json(message) = next(&mut ws).await else {
            panic!("the stream ended");
        };
        match message["type"].as_str() {
            Some("ack") => ack = Some(message),
            Some("response") => response = Some(message),
            Some("state") if message["device"] == PRO && message["state"]["cooking"] == true => {
                state = Some(message)
            }
            Some("event") if message["device"] == PRO => event = Some(message),
            _ => {}
        }
    }
    assert_eq!(ack.unwrap()["id"], "s1");
    let response = response.unwrap();
    assert_eq!(response["response"]["status"], "ok", "{response}");
    assert_eq!(response["response"]["id"], "s1", "{response}");
    assert_eq!(state.unwrap()["state"]["target_temperature"], 60.0);
    let event: Value = event.unwrap();
    assert_eq!(event["event"]["event_type"], "cook_started", "{event}");
    sys.stop().await;
}
