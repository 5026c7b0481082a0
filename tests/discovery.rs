//! Home Assistant discovery: snapshots of every payload (cookers, ovens, the bridge), the rules of
//! `docs/interface.md` §4 checked over all of them, and every template against the state it reads.

use anova2mqtt::homeassistant::{
    bridge_config, bridge_identifier, bridge_removal, DiscoveryContext, DiscoveryMessage,
    DiscoveryMode,
};
use anova2mqtt::ids::{CloudId, TopicId};
use anova2mqtt::oven::discovery::{oven_config, OvenDiscovery};
use anova2mqtt::oven::limits::OvenLimits;
use anova2mqtt::oven::state::OvenState;
use anova2mqtt::sous_vide::discovery::{
    cooker_config, cooker_removal, CookerDiscovery, EVENT_TYPES,
};
use anova2mqtt::sous_vide::models::limits;
use anova2mqtt::sous_vide::state::CookerState;
use anova2mqtt::topics::Topics;
use anova2mqtt::wire::{DeviceType, Event};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use time::OffsetDateTime;

const PREFIX: &str = "homeassistant";
const A7_ID: &str = "a7cookerid000000000001";
/// A Gen 2 `cookerId` has a space; its topic id keeps the hyphen.
const PRO_ID: &str = "anova_f56-a021bded770";

fn ctx(topics: &Topics, mode: DiscoveryMode) -> DiscoveryContext<'_> {
    DiscoveryContext {
        prefix: PREFIX,
        mode,
        topics,
    }
}

/// A cooker with its model's limits and no safety ceiling.
fn cooker<'a>(
    id: &'a str,
    name: &'a str,
    device_type: &'a DeviceType,
    firmware: Option<&'a str>,
) -> CookerDiscovery<'a> {
    let limits = limits(device_type);
    CookerDiscovery {
        // Leaked: a test's few topic ids live as long as the test anyway.
        id: Box::leak(Box::new(TopicId::from(id))),
        name,
        device_type,
        firmware,
        min_temperature_c: limits.min_temperature_c,
        max_temperature_c: limits.max_temperature_c,
        max_timer_s: limits.max_timer_s,
        presets: presets(),
    }
}

/// An empty retained payload removes a discovery config.
fn is_removal(message: &DiscoveryMessage) -> bool {
    message.payload.is_empty()
}

/// The names of the built-in cooker presets.
fn presets() -> &'static [String] {
    static NAMES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        anova2mqtt::presets::PresetBook::default().names(anova2mqtt::appliance::Kind::Cooker)
    });
    &NAMES
}

/// The names of the built-in oven presets.
fn oven_presets() -> &'static [String] {
    static NAMES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        anova2mqtt::presets::PresetBook::default().names(anova2mqtt::appliance::Kind::Oven)
    });
    &NAMES
}

fn a7_type() -> DeviceType {
    DeviceType::new("a7")
}

fn pro_type() -> DeviceType {
    DeviceType::new("pro")
}

fn parse(message: &DiscoveryMessage) -> Value {
    let value: Value = serde_json::from_str(&message.payload)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", message.topic, message.payload));
    assert!(value.is_object(), "{}: not an object", message.topic);
    value
}

/// Entity-mode messages as `[{topic, payload}]`, for snapshots.
fn as_list(messages: &[DiscoveryMessage]) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| json!({"topic": m.topic, "payload": parse(m)}))
            .collect(),
    )
}

/// Every cooker and bridge message, in both modes.
fn all_messages(topics: &Topics) -> Vec<(DiscoveryMode, DiscoveryMessage)> {
    let (a7, pro) = (a7_type(), pro_type());
    let mut out = Vec::new();
    for mode in [DiscoveryMode::Device, DiscoveryMode::Entity] {
        let ctx = ctx(topics, mode);
        let cookers = [
            cooker(A7_ID, "Kitchen", &a7, Some("01.02.03")),
            cooker(PRO_ID, "Garage", &pro, None),
        ];
        for c in &cookers {
            out.extend(cooker_config(&ctx, c).into_iter().map(|m| (mode, m)));
        }
        out.extend(bridge_config(&ctx).into_iter().map(|m| (mode, m)));
    }
    out
}

/// Every entity as `(unique node, key, platform, options)`, whatever the mode: the components of
/// a device message, or the payload of an entity message.
fn entities(mode: DiscoveryMode, message: &DiscoveryMessage) -> Vec<(String, String, Value)> {
    let payload = parse(message);
    match mode {
        DiscoveryMode::Device => payload["components"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, options)| {
                let platform = options["platform"].as_str().unwrap().to_owned();
                (key.clone(), platform, options.clone())
            })
            .collect(),
        DiscoveryMode::Entity => {
            let levels: Vec<&str> = message.topic.split('/').collect();
            assert_eq!(levels.len(), 5, "{}", message.topic);
            vec![(levels[3].to_owned(), levels[1].to_owned(), payload)]
        }
    }
}

fn visit_keys(value: &Value, f: &mut impl FnMut(&str, &Value)) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                f(key, inner);
                visit_keys(inner, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| visit_keys(v, f)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn snapshot_a7_device_mode() {
    let topics = Topics::new("anova2mqtt");
    let a7 = a7_type();
    let messages = cooker_config(
        &ctx(&topics, DiscoveryMode::Device),
        &cooker(A7_ID, "Kitchen", &a7, Some("01.02.03")),
    );
    assert_eq!(messages.len(), 1);
    insta::assert_snapshot!("a7_device_topic", messages[0].topic);
    insta::assert_json_snapshot!("a7_device", parse(&messages[0]), {
        ".origin.sw_version" => "[version]",
    });
}

#[test]
fn snapshot_a7_entity_mode() {
    let topics = Topics::new("anova2mqtt");
    let a7 = a7_type();
    let messages = cooker_config(
        &ctx(&topics, DiscoveryMode::Entity),
        &cooker(A7_ID, "Kitchen", &a7, Some("01.02.03")),
    );
    insta::assert_json_snapshot!("a7_entity", as_list(&messages), {
        "[].payload.origin.sw_version" => "[version]",
    });
}

#[test]
fn snapshot_pro_device_mode() {
    let topics = Topics::new("anova2mqtt");
    let pro = pro_type();
    let messages = cooker_config(
        &ctx(&topics, DiscoveryMode::Device),
        &cooker(PRO_ID, "Garage", &pro, None),
    );
    assert_eq!(messages.len(), 1);
    insta::assert_snapshot!("pro_device_topic", messages[0].topic);
    insta::assert_json_snapshot!("pro_device", parse(&messages[0]), {
        ".origin.sw_version" => "[version]",
    });
}

#[test]
fn snapshot_pro_entity_mode() {
    let topics = Topics::new("anova2mqtt");
    let pro = pro_type();
    let messages = cooker_config(
        &ctx(&topics, DiscoveryMode::Entity),
        &cooker(PRO_ID, "Garage", &pro, None),
    );
    insta::assert_json_snapshot!("pro_entity", as_list(&messages), {
        "[].payload.origin.sw_version" => "[version]",
    });
}

#[test]
fn snapshot_bridge() {
    let topics = Topics::new("anova2mqtt");
    let device = bridge_config(&ctx(&topics, DiscoveryMode::Device));
    assert_eq!(device.len(), 1);
    insta::assert_snapshot!("bridge_device_topic", device[0].topic);
    insta::assert_json_snapshot!("bridge_device", parse(&device[0]), {
        ".origin.sw_version" => "[version]",
        ".device.sw_version" => "[version]",
    });
    let entity = bridge_config(&ctx(&topics, DiscoveryMode::Entity));
    insta::assert_json_snapshot!("bridge_entity", as_list(&entity), {
        "[].payload.origin.sw_version" => "[version]",
        "[].payload.device.sw_version" => "[version]",
    });
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

#[test]
fn every_payload_is_a_compact_json_object() {
    let topics = Topics::new("anova2mqtt");
    for (_, message) in all_messages(&topics) {
        parse(&message);
        assert!(!is_removal(&message), "{}", message.topic);
        assert!(!message.payload.contains('\n'), "{}", message.topic);
        assert!(!message.payload.contains(": "), "{}", message.topic);
    }
}

#[test]
fn unique_ids_are_unique_and_named_after_the_cooker_and_key() {
    let topics = Topics::new("anova2mqtt");
    let bridge = bridge_identifier(&topics);
    for mode in [DiscoveryMode::Device, DiscoveryMode::Entity] {
        let mut seen = BTreeSet::new();
        for (m, message) in all_messages(&topics) {
            if m != mode {
                continue;
            }
            for (key, _, options) in entities(mode, &message) {
                let unique_id = options["unique_id"].as_str().unwrap().to_owned();
                let owner = [A7_ID, PRO_ID]
                    .into_iter()
                    .map(|id| format!("anova2mqtt_{id}"))
                    .chain([bridge.clone()])
                    .find(|node| message.topic.contains(&format!("/{node}/")))
                    .unwrap_or_else(|| panic!("no known node in {}", message.topic));
                assert_eq!(unique_id, format!("{owner}_{key}"));
                assert!(seen.insert(unique_id.clone()), "duplicate {unique_id}");
            }
        }
        // 20 entities per cooker (the Preset select, Scheduled start, Cancel schedule and the
        // Firmware update included) and 3 for the bridge.
        assert_eq!(seen.len(), 43, "{mode:?}");
    }
}

#[test]
fn default_entity_ids_use_the_platform_and_a_valid_object_id() {
    let topics = Topics::new("anova2mqtt");
    for (mode, message) in all_messages(&topics) {
        for (key, platform, options) in entities(mode, &message) {
            let default = options["default_entity_id"].as_str().unwrap();
            let (domain, object_id) = default.split_once('.').unwrap();
            assert_eq!(domain, platform, "{default}");
            assert!(
                object_id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{default}"
            );
            if message.topic.contains("bridge") {
                assert!(object_id.starts_with("anova2mqtt_bridge_"), "{default}");
            } else if key == "climate" {
                assert!(!object_id.ends_with("_climate"), "{default}");
            } else {
                assert!(object_id.ends_with(&format!("_{key}")), "{default}");
            }
        }
    }
    let pro = pro_type();
    let messages = cooker_config(
        &ctx(&topics, DiscoveryMode::Entity),
        &cooker(PRO_ID, "Garage", &pro, None),
    );
    let climate = parse(&messages[0]);
    assert_eq!(
        climate["default_entity_id"],
        "climate.anova_anova_f56_a021bded770"
    );
    assert_eq!(climate["name"], Value::Null);
}

#[test]
fn no_object_id_anywhere() {
    let topics = Topics::new("anova2mqtt");
    for (_, message) in all_messages(&topics) {
        visit_keys(&parse(&message), &mut |key, _| {
            assert_ne!(key, "object_id", "{}", message.topic);
        });
    }
}

#[test]
fn cooker_entities_need_the_bridge_and_the_cooker_online() {
    let topics = Topics::new("base");
    let a7 = a7_type();
    for mode in [DiscoveryMode::Device, DiscoveryMode::Entity] {
        let messages = cooker_config(
            &ctx(&topics, mode),
            &cooker(A7_ID, "Kitchen", &a7, Some("01.02.03")),
        );
        let both = json!([
            {"topic": "base/bridge/state"},
            {"topic": format!("base/{A7_ID}/availability")}
        ]);
        // "Cook ends at" is also unavailable while no timer runs (no end time to show).
        let with_end_time = json!([
            {"topic": "base/bridge/state"},
            {"topic": format!("base/{A7_ID}/availability")},
            {"topic": format!("base/{A7_ID}/state"),
             "value_template": "{{ 'online' if value_json.cook_ends_at else 'offline' }}"}
        ]);
        // "Scheduled start" is also unavailable while no plan waits (its topic is cleared).
        let with_plan = json!([
            {"topic": "base/bridge/state"},
            {"topic": format!("base/{A7_ID}/availability")},
            {"topic": format!("base/{A7_ID}/schedule"),
             "value_template": "{{ 'online' if value else 'offline' }}"}
        ]);
        for message in &messages {
            let payload = parse(message);
            let expected = if message.topic.contains("/cook_ends_at/") {
                &with_end_time
            } else if message.topic.contains("/scheduled_start/") {
                &with_plan
            } else {
                &both
            };
            assert_eq!(&payload["availability"], expected, "{}", message.topic);
            if mode == DiscoveryMode::Device {
                let ends = &payload["components"]["cook_ends_at"];
                assert_eq!(ends["availability"], with_end_time);
                assert_eq!(ends["availability_mode"], "all");
                let scheduled = &payload["components"]["scheduled_start"];
                assert_eq!(scheduled["availability"], with_plan);
                assert_eq!(scheduled["availability_mode"], "all");
            }
            assert_eq!(payload["availability_mode"], "all");
            assert_eq!(payload["qos"], 1);
            assert_eq!(payload["origin"]["name"], "anova2mqtt");
            assert_eq!(payload["origin"]["sw_version"], env!("CARGO_PKG_VERSION"));
            assert_eq!(
                payload["origin"]["support_url"],
                env!("CARGO_PKG_REPOSITORY")
            );
            assert_eq!(
                payload["device"]["identifiers"],
                json!([format!("anova2mqtt_{A7_ID}")])
            );
            assert_eq!(payload["device"]["via_device"], "anova2mqtt_bridge_base");
        }
    }
}

#[test]
fn device_mode_is_one_message_per_device_and_entity_mode_one_per_entity() {
    let topics = Topics::new("anova2mqtt");
    let a7 = a7_type();
    let a7 = cooker(A7_ID, "Kitchen", &a7, None);

    let device = cooker_config(&ctx(&topics, DiscoveryMode::Device), &a7);
    assert_eq!(device.len(), 1);
    assert_eq!(
        device[0].topic,
        format!("homeassistant/device/anova2mqtt_{A7_ID}/config")
    );
    let payload = parse(&device[0]);
    let components = payload["components"].as_object().unwrap();
    assert_eq!(components.len(), 20);
    for (key, options) in components {
        assert!(options["platform"].is_string(), "{key}");
        assert!(options.get("device").is_none(), "{key}");
        // Only "Cook ends at" and "Scheduled start" have their own list; the rest use the
        // device's.
        assert_eq!(
            options.get("availability").is_some(),
            key == "cook_ends_at" || key == "scheduled_start",
            "{key}"
        );
    }

    let entity = cooker_config(&ctx(&topics, DiscoveryMode::Entity), &a7);
    assert_eq!(entity.len(), 20);
    for message in &entity {
        let levels: Vec<&str> = message.topic.split('/').collect();
        assert_eq!(levels[0], "homeassistant");
        assert_eq!(levels[2], format!("anova2mqtt_{A7_ID}"));
        assert_eq!(levels[4], "config");
        let payload = parse(message);
        assert!(payload.get("platform").is_none(), "{}", message.topic);
        assert_eq!(
            components[levels[3]]["platform"], levels[1],
            "{}",
            message.topic
        );
    }
}

#[test]
fn removal_clears_every_topic_the_config_used() {
    let topics = Topics::new("anova2mqtt");
    let pro = pro_type();
    for mode in [DiscoveryMode::Device, DiscoveryMode::Entity] {
        let ctx = ctx(&topics, mode);
        let configured: BTreeSet<String> = cooker_config(&ctx, &cooker(PRO_ID, "G", &pro, None))
            .into_iter()
            .map(|m| m.topic)
            .collect();
        let removal = cooker_removal(&ctx, &TopicId::from(PRO_ID));
        assert!(removal.iter().all(is_removal));
        let removed: BTreeSet<String> = removal.into_iter().map(|m| m.topic).collect();
        assert_eq!(removed, configured, "{mode:?}");
    }
    assert_eq!(
        cooker_removal(&ctx(&topics, DiscoveryMode::Device), &TopicId::from(PRO_ID)).len(),
        1
    );
}

#[test]
fn bridge_removal_clears_every_topic_the_bridge_config_used() {
    let topics = Topics::new("kitchen");
    for mode in [DiscoveryMode::Device, DiscoveryMode::Entity] {
        let ctx = ctx(&topics, mode);
        let configured: BTreeSet<String> =
            bridge_config(&ctx).into_iter().map(|m| m.topic).collect();
        let removal = bridge_removal(&ctx);
        assert!(removal.iter().all(is_removal));
        let removed: BTreeSet<String> = removal.into_iter().map(|m| m.topic).collect();
        assert_eq!(removed, configured, "{mode:?}");
    }
}

#[test]
fn temperature_limits_come_from_the_model_and_the_safety_ceiling() {
    let topics = Topics::new("anova2mqtt");
    let ctx = ctx(&topics, DiscoveryMode::Device);
    let max_of = |c: &CookerDiscovery| {
        let payload = parse(&cooker_config(&ctx, c)[0]);
        let climate = &payload["components"]["climate"];
        let number = &payload["components"]["target_temperature"];
        assert_eq!(climate["max_temp"], number["max"]);
        assert_eq!(climate["min_temp"], 0.0);
        assert_eq!(number["min"], 0.0);
        assert_eq!(payload["components"]["timer"]["max"], 5999.0);
        climate["max_temp"].as_f64().unwrap()
    };
    let (a7, pro) = (a7_type(), pro_type());
    assert_eq!(max_of(&cooker(A7_ID, "K", &a7, None)), 95.0);
    assert_eq!(max_of(&cooker(PRO_ID, "G", &pro, None)), 92.0);
    let ceiling = CookerDiscovery {
        max_temperature_c: 70.0,
        ..cooker(A7_ID, "K", &a7, None)
    };
    assert_eq!(max_of(&ceiling), 70.0);
}

#[test]
fn topics_are_ours_and_free_of_wildcards() {
    for base in ["anova2mqtt", "home/kitchen/anova"] {
        let topics = Topics::new(base);
        for (_, message) in all_messages(&topics) {
            assert!(!message.topic.contains(['+', '#']), "{}", message.topic);
            visit_keys(&parse(&message), &mut |key, value| {
                if key.ends_with("_topic") || key == "topic" {
                    let topic = value.as_str().unwrap();
                    assert!(!topic.contains(['+', '#']), "{key}: {topic}");
                    assert!(topic.starts_with(&format!("{base}/")), "{key}: {topic}");
                }
            });
        }
    }
}

#[test]
fn commands_go_to_plain_set_topics_and_state_comes_from_the_state_topic() {
    let topics = Topics::new("anova2mqtt");
    let a7 = a7_type();
    let payload = parse(
        &cooker_config(
            &ctx(&topics, DiscoveryMode::Device),
            &cooker(A7_ID, "K", &a7, None),
        )[0],
    );
    let set = |key: &str| format!("anova2mqtt/{A7_ID}/set/{key}");
    let state = format!("anova2mqtt/{A7_ID}/state");
    let c = &payload["components"];
    assert_eq!(c["climate"]["mode_command_topic"], set("mode"));
    assert_eq!(
        c["climate"]["temperature_command_topic"],
        set("target_temperature")
    );
    assert_eq!(c["cook"]["command_topic"], set("cook"));
    assert_eq!(
        c["target_temperature"]["command_topic"],
        set("target_temperature")
    );
    assert_eq!(c["timer"]["command_topic"], set("timer"));
    assert_eq!(c["display_unit"]["command_topic"], set("display_unit"));
    for (key, options) in c.as_object().unwrap() {
        if key == "event" {
            assert_eq!(options["state_topic"], format!("anova2mqtt/{A7_ID}/event"));
            assert_eq!(options["event_types"], json!(EVENT_TYPES));
        } else if key == "last_cook" {
            let last = format!("anova2mqtt/{A7_ID}/last_cook");
            assert_eq!(options["state_topic"], last);
            assert_eq!(options["json_attributes_topic"], last);
            assert_eq!(
                options["options"],
                json!([
                    "completed",
                    "stopped",
                    "stopped_on_device",
                    "failed",
                    "unknown"
                ])
            );
        } else if key == "scheduled_start" {
            // The pending plan (`docs/interface.md` §8.2), its start as a timestamp.
            let schedule = format!("anova2mqtt/{A7_ID}/schedule");
            assert_eq!(options["state_topic"], schedule);
            assert_eq!(options["json_attributes_topic"], schedule);
            assert_eq!(options["device_class"], "timestamp");
        } else if key == "cancel_schedule" {
            assert_eq!(options["command_topic"], set("schedule"));
            assert_eq!(options["payload_press"], "cancel");
        } else if key == "climate" {
            for t in [
                "mode_state_topic",
                "temperature_state_topic",
                "current_temperature_topic",
                "action_topic",
            ] {
                assert_eq!(options[t], state, "{t}");
            }
        } else {
            assert_eq!(options["state_topic"], state, "{key}");
        }
    }
}

#[test]
fn event_types_are_in_interface_order() {
    assert_eq!(
        EVENT_TYPES,
        [
            "cook_started",
            "cook_changed",
            "preheat_complete",
            "timer_finished",
            "cook_stopped",
            "low_water",
            "alarm",
            "schedule_created",
            "schedule_started",
            "schedule_cancelled",
            "schedule_failed",
            "schedule_missed",
            "food_safety_alert"
        ]
    );
}

#[test]
fn firmware_is_omitted_when_unknown() {
    let topics = Topics::new("anova2mqtt");
    let pro = pro_type();
    let ctx = ctx(&topics, DiscoveryMode::Device);
    for firmware in [None, Some(""), Some("  ")] {
        let payload = parse(&cooker_config(&ctx, &cooker(PRO_ID, "G", &pro, firmware))[0]);
        assert!(
            payload["device"].get("sw_version").is_none(),
            "{firmware:?}"
        );
    }
    let payload = parse(&cooker_config(&ctx, &cooker(PRO_ID, "G", &pro, Some("1.4.4")))[0]);
    assert_eq!(payload["device"]["sw_version"], "1.4.4");
    assert_eq!(payload["device"]["model"], "Precision Cooker Pro (pro)");
    assert_eq!(payload["device"]["manufacturer"], "Anova");
    assert_eq!(payload["device"]["name"], "G");
}

#[test]
fn device_blocks_only_use_keys_home_assistant_2024_3_knows() {
    // Its device schema rejects the whole discovery message on an unknown key.
    let known = [
        "identifiers",
        "connections",
        "manufacturer",
        "model",
        "name",
        "hw_version",
        "serial_number",
        "sw_version",
        "via_device",
        "suggested_area",
        "configuration_url",
    ];
    let topics = Topics::new("anova2mqtt");
    for (_, message) in all_messages(&topics) {
        let payload = parse(&message);
        for key in payload["device"].as_object().unwrap().keys() {
            assert!(
                known.contains(&key.as_str()),
                "{}: device.{key}",
                message.topic
            );
        }
        for key in payload["origin"].as_object().unwrap().keys() {
            assert!(
                ["name", "sw_version", "support_url"].contains(&key.as_str()),
                "{}: origin.{key}",
                message.topic
            );
        }
    }
}

#[test]
fn the_bridge_identifier_includes_a_custom_base_topic() {
    assert_eq!(
        bridge_identifier(&Topics::new("anova2mqtt")),
        "anova2mqtt_bridge"
    );
    let topics = Topics::new("home/Kitchen Anova");
    assert_eq!(
        bridge_identifier(&topics),
        "anova2mqtt_bridge_home_kitchen_anova"
    );
    let messages = bridge_config(&ctx(&topics, DiscoveryMode::Device));
    assert_eq!(
        messages[0].topic,
        "homeassistant/device/anova2mqtt_bridge_home_kitchen_anova/config"
    );
    let payload = parse(&messages[0]);
    assert_eq!(
        payload["device"]["name"],
        "Anova2MQTT Bridge (home/Kitchen Anova)"
    );
    assert_eq!(
        payload["components"]["cloud"]["unique_id"],
        "anova2mqtt_bridge_home_kitchen_anova_cloud"
    );
    assert_eq!(
        payload["availability"],
        json!([{"topic": "home/Kitchen Anova/bridge/state"}])
    );
    assert!(payload["device"].get("via_device").is_none());
}

// ---------------------------------------------------------------------------------------------
// Material for trying the payloads on a real Home Assistant
// ---------------------------------------------------------------------------------------------

fn fixture_state(name: &str) -> (CloudId, DeviceType, CookerState) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anova-messages")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let Event::ApcState(event) = Event::parse(&text).unwrap() else {
        panic!("{name} is not a state");
    };
    let device_type = event.device_type.clone().unwrap();
    let state = CookerState::from_wire(&device_type, &event.state, OffsetDateTime::now_utc(), None)
        .unwrap();
    (event.cloud_id, device_type, state)
}

/// Writes `topic<TAB>payload` lines to `$ANOVA2MQTT_DISCOVERY_DUMP`: the retained messages a
/// running bridge would publish for the captured a7 and pro (per-entity discovery, state,
/// availability) and for itself, ready for `mosquitto_pub -r`.
#[test]
#[ignore = "writes a file for trying the payloads on Home Assistant"]
fn dump_for_home_assistant() {
    let Ok(path) = std::env::var("ANOVA2MQTT_DISCOVERY_DUMP") else {
        panic!("set ANOVA2MQTT_DISCOVERY_DUMP to the output file");
    };
    let mode = match std::env::var("ANOVA2MQTT_DISCOVERY_MODE").as_deref() {
        Ok("device") => DiscoveryMode::Device,
        _ => DiscoveryMode::Entity,
    };
    let topics = Topics::new("anova2mqtt");
    let ctx = ctx(&topics, mode);
    let mut lines = Vec::new();
    let mut push = |topic: String, payload: String| lines.push(format!("{topic}\t{payload}"));
    for message in bridge_config(&ctx) {
        push(message.topic, message.payload);
    }
    push(topics.bridge_state(), "online".into());
    push(
        topics.bridge_info(),
        json!({"version": "0.1.0", "started_at": "2025-01-01T10:00:00Z", "cloud": "connected",
               "devices": 2, "reconnects": 0, "last_error": null})
        .to_string(),
    );
    for (fixture, name) in [
        ("EVENT_APC_STATE.a7.cooking.real.json", "Kitchen"),
        ("EVENT_APC_STATE.pro.preheating.real.json", "Garage"),
    ] {
        let (cloud_id, device_type, state) = fixture_state(fixture);
        let id = TopicId::of(&cloud_id);
        let limits = limits(&device_type);
        let cooker = CookerDiscovery {
            id: &id,
            name,
            device_type: &device_type,
            firmware: state.firmware.as_deref(),
            min_temperature_c: limits.min_temperature_c,
            max_temperature_c: limits.max_temperature_c,
            max_timer_s: limits.max_timer_s,
            presets: presets(),
        };
        for message in cooker_config(&ctx, &cooker) {
            push(message.topic, message.payload);
        }
        push(topics.availability(&id), "online".into());
        push(topics.state(&id), serde_json::to_string(&state).unwrap());
    }
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

// ---------------------------------------------------------------------------------------------
// Ovens, and every template against the state it reads
// ---------------------------------------------------------------------------------------------

const OVEN_V1_ID: &str = "ovenv1id00000000001";
const OVEN_V2_ID: &str = "ovenv2id00000000001";

/// An oven with its generation's limits and no safety ceiling.
fn oven(id: &str, device_type: &DeviceType, firmware: Option<&'static str>) -> OvenParts {
    OvenParts {
        id: TopicId::from(id),
        device_type: device_type.clone(),
        firmware,
    }
}

/// What an oven's discovery is built from (owned, so the test can borrow it).
struct OvenParts {
    id: TopicId,
    device_type: DeviceType,
    firmware: Option<&'static str>,
}

fn oven_messages(ctx: &DiscoveryContext, parts: &OvenParts) -> Vec<DiscoveryMessage> {
    oven_config(
        ctx,
        &OvenDiscovery {
            id: &parts.id,
            name: "Kitchen oven",
            device_type: &parts.device_type,
            firmware: parts.firmware,
            limits: OvenLimits::of(&parts.device_type, None),
            presets: oven_presets(),
        },
    )
}

#[test]
fn snapshot_oven_v2_device_mode() {
    let topics = Topics::new("anova2mqtt");
    let parts = oven(OVEN_V2_ID, &DeviceType::new("oven_v2"), Some("2.1.7"));
    let messages = oven_messages(&ctx(&topics, DiscoveryMode::Device), &parts);
    assert_eq!(messages.len(), 1);
    insta::assert_snapshot!("oven_v2_device_topic", messages[0].topic);
    insta::assert_json_snapshot!("oven_v2_device", parse(&messages[0]), {
        ".origin.sw_version" => "[version]",
    });
}

#[test]
fn snapshot_oven_v2_entity_mode() {
    let topics = Topics::new("anova2mqtt");
    let parts = oven(OVEN_V2_ID, &DeviceType::new("oven_v2"), Some("2.1.7"));
    let messages = oven_messages(&ctx(&topics, DiscoveryMode::Entity), &parts);
    insta::assert_json_snapshot!("oven_v2_entity", as_list(&messages), {
        "[].payload.origin.sw_version" => "[version]",
    });
}

#[test]
fn snapshot_oven_v1_device_mode() {
    // The 1.0 differs in its limits (`OvenLimits` per generation) and its product name.
    let topics = Topics::new("anova2mqtt");
    let parts = oven(OVEN_V1_ID, &DeviceType::new("oven_v1"), None);
    let messages = oven_messages(&ctx(&topics, DiscoveryMode::Device), &parts);
    insta::assert_json_snapshot!("oven_v1_device", parse(&messages[0]), {
        ".origin.sw_version" => "[version]",
    });
}

/// Every `value_json.<field>` in `text`.
fn fields_in(text: &str, out: &mut BTreeSet<String>) {
    for (at, _) in text.match_indices("value_json.") {
        let field: String = text[at + "value_json.".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.insert(field);
    }
}

/// Every template in `value` with the topic it reads: `value_template` reads `state_topic` (or an
/// availability entry's `topic`), `<x>_template` reads `<x>_topic`.
fn templates(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let (Some(template), Some(stem)) = (inner.as_str(), key.strip_suffix("template"))
                else {
                    continue;
                };
                let topic = match stem {
                    "value_" => map.get("state_topic").or_else(|| map.get("topic")),
                    _ => map.get(&format!("{stem}topic")),
                };
                let topic = topic.and_then(Value::as_str).unwrap_or_else(|| {
                    panic!("{key} has no topic beside it in {value}");
                });
                out.push((topic.to_owned(), template.to_owned()));
            }
            map.values().for_each(|v| templates(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| templates(v, out)),
        _ => {}
    }
}

/// The fields of a published state: the family's state, and the `preset` and
/// `firmware_update` the bridge adds to every family's (`docs/interface.md` §8.1, README
/// "Firmware updates"; `bridge/machine/preset.rs`'s `Published`).
fn state_fields(state: &impl serde::Serialize) -> BTreeSet<String> {
    let Value::Object(map) = serde_json::to_value(state).unwrap() else {
        panic!("a state is an object");
    };
    map.keys()
        .cloned()
        .chain(["preset".to_owned(), "firmware_update".to_owned()])
        .collect()
}

/// Checks that every template of `messages` that reads `state_topic` names a field of the
/// published state; templates on other topics read what those topics carry (the bridge's
/// state, a cook's summary) and are checked where those are made.
fn assert_templates_read_real_fields(
    family: &str,
    messages: &[DiscoveryMessage],
    state_topic: &str,
    fields: &BTreeSet<String>,
) {
    let mut found = Vec::new();
    for message in messages {
        templates(&parse(message), &mut found);
    }
    let mut used = BTreeSet::new();
    for (topic, template) in &found {
        if topic == state_topic {
            fields_in(template, &mut used);
        }
    }
    assert!(used.len() > 5, "{family}: the templates are read: {used:?}");
    let unknown: Vec<&String> = used.difference(fields).collect();
    assert!(
        unknown.is_empty(),
        "{family}: templates read fields its state does not publish: {unknown:?}"
    );
}

#[test]
fn every_template_reads_a_field_its_family_publishes() {
    let topics = Topics::new("anova2mqtt");
    for mode in [DiscoveryMode::Device, DiscoveryMode::Entity] {
        let ctx = ctx(&topics, mode);
        for fixture in [
            "EVENT_APC_STATE.a7.cooking.real.json",
            "EVENT_APC_STATE.pro.preheating.real.json",
            "EVENT_APC_STATE.a3.cooking.real.json",
        ] {
            let (_, device_type, state) = fixture_state(fixture);
            let messages = cooker_config(&ctx, &cooker(A7_ID, "K", &device_type, None));
            let topic = topics.state(&TopicId::from(A7_ID));
            assert_templates_read_real_fields(fixture, &messages, &topic, &state_fields(&state));
        }
        for (fixture, model) in [
            ("EVENT_APO_STATE.oven_v1.idle.real.json", "oven_v1"),
            ("EVENT_APO_STATE.oven_v2.cooking.real.json", "oven_v2"),
        ] {
            let state = oven_fixture_state(fixture, model);
            let parts = oven(OVEN_V2_ID, &DeviceType::new(model), None);
            let messages = oven_messages(&ctx, &parts);
            let topic = topics.state(&parts.id);
            assert_templates_read_real_fields(fixture, &messages, &topic, &state_fields(&state));
        }
        // The bridge's own entities read `bridge/info` (and `bridge/state`, a plain word).
        let info = json!({"version": "0.1.0", "started_at": "2025-01-01T10:00:00Z",
            "cloud": "connected", "devices": 2, "reconnects": 0, "last_error": null,
            "history": "ok"});
        let fields: BTreeSet<String> = info.as_object().unwrap().keys().cloned().collect();
        let mut found = Vec::new();
        for message in bridge_config(&ctx) {
            templates(&parse(&message), &mut found);
        }
        let mut used = BTreeSet::new();
        for (topic, template) in &found {
            if *topic == topics.bridge_info() {
                fields_in(template, &mut used);
            }
        }
        assert!(!used.is_empty(), "the bridge's templates are read");
        let unknown: Vec<&String> = used.difference(&fields).collect();
        assert!(
            unknown.is_empty(),
            "the bridge's templates read {unknown:?}"
        );
    }
}

#[test]
fn the_template_reader_finds_fields() {
    let mut found = Vec::new();
    templates(
        &json!({"state_topic": "s",
                "value_template": "{{ value_json.cook_ends_at or value_json.updated_at }}",
                "availability": [{"topic": "a", "value_template": "{{ value_json.online }}"}],
                "mode_state_topic": "m", "mode_state_template": "{{ value_json.cooking }}"}),
        &mut found,
    );
    let topics: BTreeSet<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(topics, BTreeSet::from(["s", "a", "m"]));
    let mut fields = BTreeSet::new();
    for (_, template) in &found {
        fields_in(template, &mut fields);
    }
    let expected = ["cook_ends_at", "updated_at", "online", "cooking"];
    assert_eq!(fields, expected.map(String::from).into());
}

fn oven_fixture_state(name: &str, model: &str) -> OvenState {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anova-messages")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let Event::ApoState(event) = Event::parse(&text).unwrap() else {
        panic!("{name} is not an oven state");
    };
    let device_type = event
        .device_type
        .clone()
        .unwrap_or_else(|| DeviceType::new(model));
    OvenState::from_wire(&device_type, &event.state, OffsetDateTime::now_utc(), None).unwrap()
}
