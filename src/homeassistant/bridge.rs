//! The bridge's own Home Assistant device: the parent (`via_device`) of every cooker, with the
//! cloud link, the version and a button that republishes discovery.

use super::discovery::{
    entity_id_slug, messages, removals, DiscoveryContext, DiscoveryMessage, ID_PREFIX,
};
use super::schema::{
    Availability, BinarySensorConfig, ButtonConfig, Component, Device, Entity, EntityBase,
    EntityCategory, Origin, SensorConfig, Shared,
};
use crate::ids::topic_safe;
use crate::topics::Topics;

/// The base topic for which the bridge keeps the short identifier `anova2mqtt_bridge`.
const DEFAULT_BASE_TOPIC: &str = "anova2mqtt";

/// The bridge device's identifier: `anova2mqtt_bridge` under the default base topic, else
/// `anova2mqtt_bridge_<sanitised base>`, so two instances with different base topics can share
/// one Home Assistant.
pub fn bridge_identifier(topics: &Topics) -> String {
    if topics.base() == DEFAULT_BASE_TOPIC {
        format!("{ID_PREFIX}_bridge")
    } else {
        format!("{ID_PREFIX}_bridge_{}", topic_safe(topics.base()))
    }
}

/// The bridge's entities as `(platform, key)`, for removal.
const BRIDGE_ENTITIES: [(&str, &str); 3] = [
    ("binary_sensor", "cloud"),
    ("sensor", "version"),
    ("button", "republish"),
];

/// The discovery messages that remove the bridge device and its entities.
pub fn bridge_removal(ctx: &DiscoveryContext) -> Vec<DiscoveryMessage> {
    removals(ctx, &bridge_identifier(ctx.topics), BRIDGE_ENTITIES)
}

/// The discovery messages of the bridge device and its entities.
pub fn bridge_config(ctx: &DiscoveryContext) -> Vec<DiscoveryMessage> {
    let topics = ctx.topics;
    let identifier = bridge_identifier(topics);
    let name = if topics.base() == DEFAULT_BASE_TOPIC {
        "Anova2MQTT Bridge".to_owned()
    } else {
        format!("Anova2MQTT Bridge ({})", topics.base())
    };
    let shared = Shared {
        device: Device {
            identifiers: vec![identifier.clone()],
            name,
            manufacturer: "anova2mqtt",
            model: "Anova cloud to MQTT bridge".to_owned(),
            sw_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            via_device: None,
        },
        origin: Origin::ANOVA2MQTT,
        // The bridge's entities only need the bridge; a single topic needs no mode.
        availability: vec![Availability::topic(topics.bridge_state())],
        availability_mode: None,
        qos: 1,
    };
    let base = |platform: &str, key: &str, name, category| EntityBase {
        // `identifier` already starts with `anova2mqtt_`.
        unique_id: format!("{identifier}_{key}"),
        default_entity_id: format!("{platform}.{}_{key}", entity_id_slug(&identifier)),
        name: Some(name),
        entity_category: Some(category),
        enabled_by_default: None,
    };
    let entities = [
        Entity::new(
            "cloud",
            Component::BinarySensor(BinarySensorConfig {
                base: base(
                    "binary_sensor",
                    "cloud",
                    "Anova cloud",
                    EntityCategory::Diagnostic,
                ),
                state_topic: topics.bridge_info(),
                value_template: "{{ 'ON' if value_json.cloud == 'connected' else 'OFF' }}",
                device_class: "connectivity",
            }),
        ),
        Entity::new(
            "version",
            Component::Sensor(SensorConfig {
                base: base("sensor", "version", "Version", EntityCategory::Diagnostic),
                state_topic: topics.bridge_info(),
                value_template: "{{ value_json.version }}",
                device_class: None,
                state_class: None,
                unit_of_measurement: None,
                suggested_display_precision: None,
                options: None,
                json_attributes_topic: None,
                json_attributes_template: None,
            }),
        ),
        Entity::new(
            "republish",
            Component::Button(ButtonConfig {
                // Home Assistant files maintenance buttons (restart, identify…) under config.
                base: base(
                    "button",
                    "republish",
                    "Republish discovery",
                    EntityCategory::Config,
                ),
                command_topic: topics.bridge_request("republish"),
                payload_press: "{}",
            }),
        ),
    ];
    messages(ctx, &identifier, &shared, &entities)
}
