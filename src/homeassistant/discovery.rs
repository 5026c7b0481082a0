//! Turns a device's entities into discovery messages, in either discovery mode.
//!
//! Topics: device mode publishes one message on `<prefix>/device/<node>/config`; entity mode
//! publishes one per entity on `<prefix>/<platform>/<node>/<key>/config`. `<node>` is
//! `anova2mqtt_<id>` for a cooker and the bridge's identifier for the bridge, so every topic
//! level is within Home Assistant's `[a-zA-Z0-9_-]`.

use super::schema::{
    Availability, AvailabilityMode, Components, Device, DevicePayload, Entity, EntityBase,
    EntityCategory, EntityPayload, Origin, SensorConfig, Shared,
};
use super::DiscoveryMode;
use crate::ids::TopicId;
use crate::topics::Topics;
use serde::Serialize;

/// Where discovery goes and how.
#[derive(Debug, Clone, Copy)]
pub struct DiscoveryContext<'a> {
    /// `homeassistant.discovery_prefix`.
    pub prefix: &'a str,
    /// Device-based or per-entity.
    pub mode: DiscoveryMode,
    /// The bridge's topic tree.
    pub topics: &'a Topics,
}

/// One retained discovery message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryMessage {
    /// The config topic.
    pub topic: String,
    /// Compact JSON; empty removes what the topic had configured.
    pub payload: String,
}

impl DiscoveryMessage {
    /// An empty payload, which makes Home Assistant forget the topic's device or entity.
    pub fn removal(topic: String) -> Self {
        Self {
            topic,
            payload: String::new(),
        }
    }

    /// True for a removal.
    #[cfg(test)]
    pub fn is_removal(&self) -> bool {
        self.payload.is_empty()
    }
}

/// The prefix of every unique id, node id and device identifier we publish.
pub(crate) const ID_PREFIX: &str = "anova2mqtt";

/// `anova2mqtt_<id>`: a device's identifier and the node level of its topics.
pub(crate) fn node(id: &TopicId) -> String {
    format!("{ID_PREFIX}_{id}")
}

/// Which device a family's entities belong to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeviceBlock<'a> {
    /// The topic id.
    pub(crate) id: &'a TopicId,
    /// The name from the Anova app ("Anova <product>" when empty).
    pub(crate) name: &'a str,
    /// The product name ("Precision Cooker 3.0", "Precision Oven 2.0").
    pub(crate) product: &'static str,
    /// The exact Anova `type`.
    pub(crate) device_type: &'a str,
    /// Firmware version, when reported.
    pub(crate) firmware: Option<&'a str>,
}

/// What every entity of one device shares: its device block (model `<product> (<type>)`,
/// under the bridge), the origin, and availability on both the bridge and the device.
pub(crate) fn device_shared(ctx: &DiscoveryContext, block: &DeviceBlock) -> Shared {
    let name = match block.name.trim() {
        "" => format!("Anova {}", block.product),
        name => name.to_owned(),
    };
    Shared {
        device: Device {
            identifiers: vec![node(block.id)],
            name,
            manufacturer: "Anova",
            model: format!("{} ({})", block.product, block.device_type),
            sw_version: block
                .firmware
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
            via_device: Some(super::bridge_identifier(ctx.topics)),
        },
        origin: Origin::ANOVA2MQTT,
        availability: vec![
            Availability::topic(ctx.topics.bridge_state()),
            Availability::topic(ctx.topics.availability(block.id)),
        ],
        availability_mode: Some(AvailabilityMode::All),
        qos: 1,
    }
}

/// A measured value as its sensor shows it: what it measures, its unit, and the step the
/// bridge publishes it at (each family's `publish.rs` rounds to that step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reading {
    /// Home Assistant's device class.
    pub(crate) device_class: &'static str,
    /// The unit.
    pub(crate) unit: &'static str,
    /// The resolution of the published value.
    pub(crate) step: f64,
}

impl Reading {
    /// A temperature in °C, published to `step`.
    pub(crate) const fn celsius(step: f64) -> Self {
        Self {
            device_class: "temperature",
            unit: "°C",
            step,
        }
    }

    /// A relative humidity in %, published to `step`.
    pub(crate) const fn humidity(step: f64) -> Self {
        Self {
            device_class: "humidity",
            unit: "%",
            step,
        }
    }

    /// The decimals of the step: 0.1 → 1, 1 → 0.
    fn decimals(self) -> u8 {
        let mut decimals = 0;
        let mut step = self.step;
        while step.fract().abs() > 1e-9 && decimals < 6 {
            step *= 10.0;
            decimals += 1;
        }
        decimals
    }
}

/// A sensor of `value_template` on `state_topic`, with nothing else said about the value.
pub(crate) fn sensor(
    base: EntityBase,
    state_topic: String,
    value_template: &'static str,
) -> SensorConfig {
    SensorConfig {
        base,
        state_topic,
        value_template,
        device_class: None,
        state_class: None,
        unit_of_measurement: None,
        suggested_display_precision: None,
        options: None,
        json_attributes_topic: None,
        json_attributes_template: None,
    }
}

/// A sensor of a measured value: Home Assistant keeps its statistics (`measurement`), and its
/// display precision is the decimals of the step the bridge publishes it at, so the value is
/// shown as published: a tenth is never hidden, and a whole degree is not padded to `81.0`.
/// One rule for every family (the cooker's and the oven's builders had drifted: the oven gave
/// every temperature one decimal, whole-degree diagnostics included; the cooker only its
/// water temperature).
pub(crate) fn reading_sensor(
    base: EntityBase,
    state_topic: String,
    value_template: &'static str,
    reading: Reading,
) -> SensorConfig {
    SensorConfig {
        device_class: Some(reading.device_class),
        state_class: Some("measurement"),
        unit_of_measurement: Some(reading.unit),
        suggested_display_precision: Some(reading.decimals()),
        ..sensor(base, state_topic, value_template)
    }
}

/// `base` as an internal for troubleshooting: listed under diagnostics and, with `hidden`,
/// disabled until the user enables it.
pub(crate) fn diagnostic(base: EntityBase, hidden: bool) -> EntityBase {
    EntityBase {
        entity_category: Some(EntityCategory::Diagnostic),
        enabled_by_default: hidden.then_some(false).or(base.enabled_by_default),
        ..base
    }
}

/// Templates over the state fields every family publishes (`cooking`, `timer_total`,
/// `cook_ends_at`, `updated_at`).
pub(crate) mod templates {
    /// `ON` while a cook runs.
    pub(crate) const ON_WHEN_COOKING: &str = "{{ 'ON' if value_json.cooking else 'OFF' }}";
    /// "Cook ends at" only exists while a timer does. Home Assistant before 2024.10 logs a
    /// warning for every message that gives a timestamp sensor no timestamp (`None` included),
    /// and a state push arrives every few seconds. So the sensor is *unavailable* while there
    /// is no end time (an extra availability condition on the state topic, [`HAS_END_TIME`]),
    /// and its state template always yields a valid timestamp, falling back to `updated_at`,
    /// which is never shown because the entity is unavailable then.
    pub(crate) const COOK_ENDS_AT: &str = "{{ value_json.cook_ends_at or value_json.updated_at }}";
    /// The extra availability condition of "Cook ends at".
    pub(crate) const HAS_END_TIME: &str =
        "{{ 'online' if value_json.cook_ends_at else 'offline' }}";
    /// The state has seconds; the number (and the bridge's plain `set/timer`) speak minutes.
    pub(crate) const TIMER_MINUTES: &str = "{{ (value_json.timer_total / 60) | round(1) }}";
}

/// `<prefix>/device/<node>/config`.
pub(crate) fn device_topic(prefix: &str, node: &str) -> String {
    format!("{prefix}/device/{node}/config")
}

/// `<prefix>/<platform>/<node>/<key>/config`.
pub(crate) fn entity_topic(prefix: &str, platform: &str, node: &str, key: &str) -> String {
    format!("{prefix}/{platform}/{node}/{key}/config")
}

/// The discovery messages of one device in the context's mode.
pub(crate) fn messages(
    ctx: &DiscoveryContext,
    node: &str,
    shared: &Shared,
    entities: &[Entity],
) -> Vec<DiscoveryMessage> {
    match ctx.mode {
        DiscoveryMode::Device => vec![DiscoveryMessage {
            topic: device_topic(ctx.prefix, node),
            payload: to_json(&DevicePayload {
                shared,
                components: Components { shared, entities },
            }),
        }],
        DiscoveryMode::Entity => entities
            .iter()
            .map(|entity| {
                let own;
                let shared = match entity.availability(shared) {
                    Some(availability) => {
                        own = Shared {
                            availability,
                            availability_mode: Some(AvailabilityMode::All),
                            ..shared.clone()
                        };
                        &own
                    }
                    None => shared,
                };
                DiscoveryMessage {
                    topic: entity_topic(ctx.prefix, entity.component.platform(), node, entity.key),
                    payload: to_json(&EntityPayload {
                        shared,
                        component: &entity.component,
                    }),
                }
            })
            .collect(),
    }
}

/// The removal messages of one device whose entities are `(platform, key)`.
pub(crate) fn removals<'a>(
    ctx: &DiscoveryContext,
    node: &str,
    entities: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<DiscoveryMessage> {
    match ctx.mode {
        DiscoveryMode::Device => vec![DiscoveryMessage::removal(device_topic(ctx.prefix, node))],
        DiscoveryMode::Entity => entities
            .into_iter()
            .map(|(platform, key)| {
                DiscoveryMessage::removal(entity_topic(ctx.prefix, platform, node, key))
            })
            .collect(),
    }
}

/// The ids and name of one entity of a device: unique id `anova2mqtt_<id>_<key>`, suggested
/// entity id `<platform>.anova_<id>_<key>`, or `<platform>.anova_<id>` for the device's main
/// entity (its climate), which also takes the device's name when `name` is `None`.
pub(crate) fn entity_base(
    device_id: &TopicId,
    key: &str,
    platform: &str,
    main: bool,
    name: Option<&'static str>,
) -> EntityBase {
    let object_id = if main {
        format!("anova_{}", entity_id_slug(device_id.as_str()))
    } else {
        format!("anova_{}_{key}", entity_id_slug(device_id.as_str()))
    };
    EntityBase {
        unique_id: format!("{ID_PREFIX}_{device_id}_{key}"),
        default_entity_id: format!("{platform}.{object_id}"),
        name,
        entity_category: None,
        enabled_by_default: None,
    }
}

/// How a cook can end (`docs/interface.md` §7, `outcome`): the states of the "Last cook" sensor.
pub(crate) const COOK_OUTCOMES: [&str; 5] = [
    "completed",
    "stopped",
    "stopped_on_device",
    "failed",
    "unknown",
];

/// The "Last cook" sensor of a device (`docs/interface.md` §7): the outcome of its last finished
/// cook as the state, the summary (times, duration, time to reach the target, min/max, plan)
/// as attributes, both from the retained `<base>/<id>/last_cook`.
pub(crate) fn last_cook_sensor(base: EntityBase, topic: String) -> SensorConfig {
    SensorConfig {
        device_class: Some("enum"),
        options: Some(COOK_OUTCOMES.to_vec()),
        json_attributes_topic: Some(topic.clone()),
        ..sensor(base, topic, "{{ value_json.outcome }}")
    }
}

/// Lower-cases `text` and replaces everything outside `[a-z0-9_]` with `_`: what Home Assistant
/// accepts in the object id of an entity id.
pub(crate) fn entity_id_slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn to_json(payload: &impl Serialize) -> String {
    // Discovery payloads are structs of strings, numbers and string-keyed maps, which
    // serde_json always serialises (non-finite numbers become `null`), so this cannot fail.
    serde_json::to_string(payload).expect("discovery payloads always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_shows_the_decimals_it_is_published_with() {
        assert_eq!(Reading::celsius(0.1).decimals(), 1);
        assert_eq!(Reading::celsius(1.0).decimals(), 0);
        assert_eq!(Reading::humidity(0.5).decimals(), 1);
        assert_eq!(Reading::celsius(0.01).decimals(), 2);
        let base = EntityBase {
            unique_id: "u".into(),
            default_entity_id: "sensor.u".into(),
            name: Some("Boiler"),
            entity_category: None,
            enabled_by_default: None,
        };
        let config = reading_sensor(
            diagnostic(base, true),
            "t".into(),
            "{{ value_json.x }}",
            Reading::celsius(1.0),
        );
        assert_eq!(config.suggested_display_precision, Some(0));
        assert_eq!(config.state_class, Some("measurement"));
        assert_eq!(
            config.base.entity_category,
            Some(EntityCategory::Diagnostic)
        );
        assert_eq!(config.base.enabled_by_default, Some(false));
    }
}
