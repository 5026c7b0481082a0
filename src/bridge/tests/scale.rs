//! What keeps the cost of a push and of a start-up independent of the number of devices:
//! bulk publishes wait in a backlog for room at the broker, and `bridge/devices` is rebuilt at
//! most once per [`DEVICES_INTERVAL`].

use super::harness::*;
use super::*;

fn device_id(i: usize) -> String {
    format!("LOADCOOKER{i:06}")
}

/// A bridge with `n` cookers known and the broker connected, every output drained.
fn fleet(n: usize) -> Harness {
    let mut h = Harness::new(config());
    h.cloud(CloudEvent::Link(LinkState::Up));
    for i in 0..n {
        h.add(&device_id(i), "a7", "Load");
    }
    h.cloud(CloudEvent::DeviceListSynced);
    h.input(Input::MqttConnected);
    h
}

fn discovery_devices(outputs: &[Output]) -> Vec<String> {
    let mut ids: Vec<String> = publishes(outputs)
        .iter()
        .filter(|p| {
            p.topic.starts_with("homeassistant/device/") && !p.topic.contains("anova2mqtt_bridge")
        })
        .map(|p| p.topic.clone())
        .collect();
    ids.dedup();
    ids
}

#[test]
fn a_broker_connect_streams_discovery_one_device_at_a_time() {
    let mut h = fleet(0);
    for i in 0..50 {
        h.add(&device_id(i), "a7", "Load");
    }
    // Reconnect: the ready outputs carry the bridge's own topics, no device's discovery.
    h.input(Input::MqttDisconnected);
    let now = h.now();
    h.bridge.handle(now, Input::MqttConnected);
    let ready: Vec<Output> = std::iter::from_fn(|| h.bridge.poll_output()).collect();
    assert!(discovery_devices(&ready).is_empty(), "{ready:#?}");
    assert!(!on(&ready, "anova2mqtt/bridge/state").is_empty());
    assert!(h.bridge.has_backlog());
    // Each pull builds exactly one device's discovery and retained state.
    for i in 0..50 {
        assert!(h.bridge.pull_backlog(now));
        let one: Vec<Output> = std::iter::from_fn(|| h.bridge.poll_output()).collect();
        let id = device_id(i).to_lowercase();
        assert_eq!(
            discovery_devices(&one),
            vec![format!("homeassistant/device/anova2mqtt_{id}/config")]
        );
        assert_eq!(on(&one, &format!("anova2mqtt/{id}/availability")).len(), 1);
    }
    assert!(!h.bridge.pull_backlog(now));
    assert!(!h.bridge.has_backlog());
}

#[test]
fn a_lost_broker_drops_the_backlog_and_the_next_connect_refills_it() {
    let mut h = fleet(0);
    let now = h.now();
    h.bridge.handle(
        now,
        Input::Cloud(CloudEvent::DeviceAdded(crate::appliance::DeviceInfo {
            cloud_id: device_id(1).into(),
            device_type: crate::wire::DeviceType::new("a7"),
            name: "Load".into(),
        })),
    );
    assert!(h.bridge.has_backlog());
    h.bridge.handle(now, Input::MqttDisconnected);
    assert!(!h.bridge.has_backlog());
    let out = h.input(Input::MqttConnected);
    assert_eq!(discovery_devices(&out).len(), 1);
}

#[test]
fn bridge_devices_is_rebuilt_at_most_once_per_interval_while_devices_come_online() {
    let mut h = fleet(200);
    let mut builds = 0;
    let mut last = Value::Null;
    for i in 0..200 {
        let out = h.state(&device_id(i), idle_state("a7"));
        for devices in json_on(&out, "anova2mqtt/bridge/devices") {
            builds += 1;
            last = devices;
        }
    }
    // The connect built it; the 200 devices coming online within the same instant wait for
    // one more build, a second later.
    assert_eq!(builds, 0);
    let out = h.advance(DEVICES_INTERVAL);
    let devices = json_on(&out, "anova2mqtt/bridge/devices");
    assert_eq!(devices.len(), 1);
    last = devices.into_iter().next().unwrap_or(last);
    let online = last
        .as_array()
        .map(|all| all.iter().filter(|d| d["online"] == true).count());
    assert_eq!(online, Some(200));
    // Nothing changed since: no further build.
    assert!(on(&h.advance(DEVICES_INTERVAL), "anova2mqtt/bridge/devices").is_empty());
}

#[test]
fn the_status_line_is_rebuilt_only_after_a_change() {
    let mut h = fleet(3);
    assert!(h.bridge.take_status_dirty());
    assert!(!h.bridge.take_status_dirty());
    let mut warmer = idle_state("a7");
    h.state(&device_id(0), warmer.clone());
    assert!(h.bridge.take_status_dirty(), "a device came online");
    warmer.water_temperature = Some(31.0);
    h.state(&device_id(0), warmer);
    assert!(
        !h.bridge.take_status_dirty(),
        "a push that changes no availability"
    );
    h.cloud(CloudEvent::Link(LinkState::Down { reason: "x".into() }));
    assert!(h.bridge.take_status_dirty());
}

#[test]
fn an_unknown_device_error_names_a_bounded_number_of_devices() {
    let mut h = fleet(30);
    let out = h.set("nosuchcooker", r#"{"id": "u1", "cook": true}"#);
    let answer = response(&out, "nosuchcooker");
    assert_eq!(answer["id"], "u1");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.ends_with("and 10 more"), "{message}");
    assert_eq!(message.matches("loadcooker").count(), 20, "{message}");
}

#[test]
fn the_first_device_list_is_published_at_once() {
    // The broker connects before the cloud's list: nothing to build yet, and the list that
    // follows goes out at once, not an interval later.
    let mut h = Harness::new(config());
    h.input(Input::MqttConnected);
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(&device_id(1), "a7", "Load");
    let out = h.cloud(CloudEvent::DeviceListSynced);
    let devices = json_on(&out, "anova2mqtt/bridge/devices");
    assert_eq!(devices.len(), 1, "{out:#?}");
    assert_eq!(devices[0].as_array().map(Vec::len), Some(1));
}
