//! The Home Assistant device of one oven and its entities (`docs/interface.md` §5.3).
//!
//! As for cookers, state entities read the retained JSON state on `<base>/<id>/state` through
//! templates, and controls publish plain values on `<base>/<id>/set/<key>`.

use super::limits::{OvenGeneration, OvenLimits, PROBE_C};
use super::publish::{COARSE_STEP, TEMPERATURE_STEP_C};
use super::state::{OvenStage, TemperatureMode};
use crate::homeassistant::discovery::templates::{
    COOK_ENDS_AT, HAS_END_TIME, ON_WHEN_COOKING, TIMER_MINUTES,
};
use crate::homeassistant::discovery::{
    device_shared, diagnostic, entity_base, last_cook_sensor, messages, node, reading_sensor,
    removals, sensor, DeviceBlock, Reading,
};
use crate::homeassistant::plans::{plan_entities, PLAN_ENTITIES};
use crate::homeassistant::schema::{
    Availability, BinarySensorConfig, ClimateConfig, Component, Entity, EntityBase, EntityCategory,
    EventConfig, NumberConfig, NumberMode, SelectConfig, SensorConfig, SwitchConfig,
};
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::TopicId;
use crate::wire::DeviceType;

/// The `event_type`s published on an oven's `<base>/<id>/event`.
pub const EVENT_TYPES: [&str; 15] = [
    "cook_started",
    "cook_changed",
    "preheat_complete",
    "stage_changed",
    "timer_finished",
    "probe_reached",
    "cook_stopped",
    "water_tank_empty",
    "door_opened",
    // Plans (`docs/interface.md` §8.2).
    "schedule_created",
    "schedule_started",
    "schedule_cancelled",
    "schedule_failed",
    "schedule_missed",
    "food_safety_alert",
];

/// The product name of an oven generation.
pub fn product_name(generation: OvenGeneration) -> &'static str {
    match generation {
        OvenGeneration::V1 => "Precision Oven 1.0",
        OvenGeneration::V2 => "Precision Oven 2.0",
    }
}

/// What discovery needs to know about an oven.
#[derive(Debug, Clone, Copy)]
pub struct OvenDiscovery<'a> {
    /// The topic id.
    pub id: &'a TopicId,
    /// The name from the Anova app.
    pub name: &'a str,
    /// The exact Anova `type`.
    pub device_type: &'a DeviceType,
    /// Firmware version, when reported.
    pub firmware: Option<&'a str>,
    /// Its limits.
    pub limits: OvenLimits,
    /// The names of the oven presets (`docs/interface.md` §8.1).
    pub presets: &'a [String],
}

/// The discovery messages that create or update an oven's device and entities.
pub fn oven_config(ctx: &DiscoveryContext, oven: &OvenDiscovery) -> Vec<DiscoveryMessage> {
    let mut entities: Vec<Entity> = OvenEntity::ALL
        .iter()
        .map(|entity| Entity {
            key: entity.key(),
            component: entity.component(ctx, oven),
            extra_availability: (*entity == OvenEntity::CookEndsAt).then(|| Availability {
                topic: ctx.topics.state(oven.id),
                value_template: Some(HAS_END_TIME),
            }),
        })
        .collect();
    entities.extend(plan_entities(ctx, oven.id, oven.presets));
    let shared = device_shared(
        ctx,
        &DeviceBlock {
            id: oven.id,
            name: oven.name,
            product: product_name(oven.limits.generation),
            device_type: oven.device_type.as_str(),
            firmware: oven.firmware,
        },
    );
    messages(ctx, &node(oven.id), &shared, &entities)
}

/// The discovery messages that remove an oven's device and entities.
pub fn oven_removal(ctx: &DiscoveryContext, id: &TopicId) -> Vec<DiscoveryMessage> {
    removals(
        ctx,
        &node(id),
        OvenEntity::ALL
            .iter()
            .map(|e| (e.platform(), e.key()))
            .chain(PLAN_ENTITIES),
    )
}

/// Every entity of an oven, in publishing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OvenEntity {
    Climate,
    Cook,
    TargetTemperature,
    Steam,
    Timer,
    ProbeTarget,
    TemperatureMode,
    Fan,
    DisplayUnit,
    Temperature,
    DryTemperature,
    WetTemperature,
    TopTemperature,
    BottomTemperature,
    ProbeTemperature,
    Humidity,
    Stage,
    StageNumber,
    TimeRemaining,
    CookEndsAt,
    BoilerTemperature,
    Cooking,
    Door,
    WaterTankEmpty,
    ProbeConnected,
    Lamp,
    ElementTop,
    ElementBottom,
    ElementRear,
    Vent,
    LastCook,
    Events,
}

/// `null` (a generation that does not report it) is unknown, not "off".
macro_rules! flag {
    ($field:literal) => {
        concat!(
            "{{ 'None' if value_json.",
            $field,
            " is none else ('ON' if value_json.",
            $field,
            " else 'OFF') }}"
        )
    };
}

/// The fan's percentage in the select's words (the app's steps 0/33/67/100).
const FAN_WORD: &str = "{% set f = value_json.fan_speed %}{{ 'None' if f is none else \
    ('off' if f == 0 else ('low' if f <= 40 else ('medium' if f <= 75 else 'high'))) }}";

impl OvenEntity {
    const ALL: [OvenEntity; 32] = [
        Self::Climate,
        Self::Cook,
        Self::TargetTemperature,
        Self::Steam,
        Self::Timer,
        Self::ProbeTarget,
        Self::TemperatureMode,
        Self::Fan,
        Self::DisplayUnit,
        Self::Temperature,
        Self::DryTemperature,
        Self::WetTemperature,
        Self::TopTemperature,
        Self::BottomTemperature,
        Self::ProbeTemperature,
        Self::Humidity,
        Self::Stage,
        Self::StageNumber,
        Self::TimeRemaining,
        Self::CookEndsAt,
        Self::BoilerTemperature,
        Self::Cooking,
        Self::Door,
        Self::WaterTankEmpty,
        Self::ProbeConnected,
        Self::Lamp,
        Self::ElementTop,
        Self::ElementBottom,
        Self::ElementRear,
        Self::Vent,
        Self::LastCook,
        Self::Events,
    ];

    /// The stable key: the last level of the unique id and of the discovery topic.
    fn key(self) -> &'static str {
        match self {
            Self::Climate => "climate",
            Self::Cook => "cook",
            Self::TargetTemperature => "target_temperature",
            Self::Steam => "steam",
            Self::Timer => "timer",
            Self::ProbeTarget => "probe_target",
            Self::TemperatureMode => "temperature_mode",
            Self::Fan => "fan",
            Self::DisplayUnit => "display_unit",
            Self::Temperature => "temperature",
            Self::DryTemperature => "dry_temperature",
            Self::WetTemperature => "wet_temperature",
            Self::TopTemperature => "top_temperature",
            Self::BottomTemperature => "bottom_temperature",
            Self::ProbeTemperature => "probe_temperature",
            Self::Humidity => "humidity",
            Self::Stage => "stage",
            Self::StageNumber => "stage_number",
            Self::TimeRemaining => "time_remaining",
            Self::CookEndsAt => "cook_ends_at",
            Self::BoilerTemperature => "boiler_temperature",
            Self::Cooking => "cooking",
            Self::Door => "door",
            Self::WaterTankEmpty => "water_tank_empty",
            Self::ProbeConnected => "probe_connected",
            Self::Lamp => "lamp",
            Self::ElementTop => "element_top",
            Self::ElementBottom => "element_bottom",
            Self::ElementRear => "element_rear",
            Self::Vent => "vent",
            Self::LastCook => "last_cook",
            Self::Events => "event",
        }
    }

    /// The Home Assistant platform, known without building the options (for removal).
    fn platform(self) -> &'static str {
        match self {
            Self::Climate => "climate",
            Self::Cook => "switch",
            Self::TargetTemperature | Self::Steam | Self::Timer | Self::ProbeTarget => "number",
            Self::TemperatureMode | Self::Fan | Self::DisplayUnit => "select",
            Self::Temperature
            | Self::DryTemperature
            | Self::WetTemperature
            | Self::TopTemperature
            | Self::BottomTemperature
            | Self::ProbeTemperature
            | Self::Humidity
            | Self::Stage
            | Self::StageNumber
            | Self::TimeRemaining
            | Self::CookEndsAt
            | Self::BoilerTemperature
            | Self::LastCook => "sensor",
            Self::Cooking
            | Self::Door
            | Self::WaterTankEmpty
            | Self::ProbeConnected
            | Self::Lamp
            | Self::ElementTop
            | Self::ElementBottom
            | Self::ElementRear
            | Self::Vent => "binary_sensor",
            Self::Events => "event",
        }
    }

    fn base(self, oven: &OvenDiscovery, name: Option<&'static str>) -> EntityBase {
        // The device's main entity is the oven itself: `climate.anova_<id>`.
        let main = matches!(self, Self::Climate);
        entity_base(oven.id, self.key(), self.platform(), main, name)
    }

    fn component(self, ctx: &DiscoveryContext, oven: &OvenDiscovery) -> Component {
        let topics = ctx.topics;
        let state = || topics.state(oven.id);
        let set = |key: &str| topics.set_key(oven.id, key);
        let limits = &oven.limits;
        let sensor = |name: &'static str, value_template: &'static str| {
            sensor(self.base(oven, Some(name)), state(), value_template)
        };
        let temperature = |name: &'static str, value_template: &'static str| {
            reading_sensor(
                self.base(oven, Some(name)),
                state(),
                value_template,
                Reading::celsius(TEMPERATURE_STEP_C),
            )
        };
        let binary = |name: &'static str, value_template: &'static str, class: &'static str| {
            BinarySensorConfig {
                base: self.base(oven, Some(name)),
                state_topic: state(),
                value_template,
                device_class: class,
            }
        };
        // Internals for troubleshooting: listed under diagnostics.
        let diagnostic_binary = |config: BinarySensorConfig| BinarySensorConfig {
            base: diagnostic(config.base, false),
            ..config
        };
        let number =
            |name: &'static str, key: &'static str, value_template: &'static str| NumberConfig {
                base: self.base(oven, Some(name)),
                command_topic: set(key),
                state_topic: state(),
                value_template,
                min: 0.0,
                max: 100.0,
                step: 1.0,
                mode: NumberMode::Box,
                unit_of_measurement: "%",
                device_class: "humidity",
            };
        let select = |name: &'static str,
                      key: &'static str,
                      value_template: &'static str,
                      options: &'static [&'static str]| SelectConfig {
            base: self.base(oven, Some(name)),
            command_topic: set(key),
            state_topic: state(),
            value_template,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        };
        let dry_min = limits.min_c(TemperatureMode::Dry);
        let dry_max = limits.max_c(TemperatureMode::Dry);

        match self {
            Self::Climate => Component::Climate(ClimateConfig {
                base: self.base(oven, None),
                modes: &["off", "heat"],
                mode_command_topic: set("mode"),
                mode_state_topic: state(),
                mode_state_template: "{{ 'heat' if value_json.cooking else 'off' }}",
                temperature_command_topic: set("target_temperature"),
                temperature_state_topic: state(),
                temperature_state_template: "{{ value_json.target_temperature }}",
                current_temperature_topic: state(),
                current_temperature_template: "{{ value_json.temperature }}",
                action_topic: state(),
                action_template: "{{ value_json.hvac_action }}",
                // The climate entity cannot change its range with the bulb: it offers the
                // whole dry range, and a wet target above the wet bulb's is refused by name.
                min_temp: dry_min,
                max_temp: dry_max,
                temp_step: 1.0,
                precision: 0.1,
                temperature_unit: "C",
                optimistic: false,
            }),
            Self::Cook => Component::Switch(SwitchConfig {
                base: self.base(oven, Some("Cook")),
                command_topic: set("cook"),
                state_topic: state(),
                value_template: ON_WHEN_COOKING,
                payload_on: "ON",
                payload_off: "OFF",
            }),
            Self::TargetTemperature => Component::Number(NumberConfig {
                min: dry_min,
                max: dry_max,
                unit_of_measurement: "°C",
                device_class: "temperature",
                ..number(
                    "Target temperature",
                    "target_temperature",
                    "{{ value_json.target_temperature }}",
                )
            }),
            Self::Steam => Component::Number(number(
                "Steam",
                "steam",
                "{{ value_json.steam_target or 0 }}",
            )),
            Self::Timer => Component::Number(NumberConfig {
                max: f64::from(crate::command::MAX_TIMER_S / 60),
                unit_of_measurement: "min",
                device_class: "duration",
                ..number("Timer", "timer", TIMER_MINUTES)
            }),
            Self::ProbeTarget => Component::Number(NumberConfig {
                // 0 clears the probe target.
                max: PROBE_C.1,
                unit_of_measurement: "°C",
                device_class: "temperature",
                ..number(
                    "Probe target",
                    "probe_target",
                    "{{ value_json.probe_target or 0 }}",
                )
            }),
            Self::TemperatureMode => Component::Select(select(
                "Temperature mode",
                "temperature_mode",
                "{{ value_json.temperature_mode }}",
                &["dry", "wet"],
            )),
            Self::Fan => Component::Select(select(
                "Fan",
                "fan",
                FAN_WORD,
                &["off", "low", "medium", "high"],
            )),
            Self::DisplayUnit => Component::Select(SelectConfig {
                base: EntityBase {
                    entity_category: Some(EntityCategory::Config),
                    ..self.base(oven, Some("Display unit"))
                },
                ..select(
                    "Display unit",
                    "display_unit",
                    "{{ value_json.display_unit }}",
                    &["C", "F"],
                )
            }),
            Self::Temperature => {
                Component::Sensor(temperature("Temperature", "{{ value_json.temperature }}"))
            }
            Self::DryTemperature => Component::Sensor(temperature(
                "Dry bulb temperature",
                "{{ value_json.dry_temperature }}",
            )),
            Self::WetTemperature => Component::Sensor(temperature(
                "Wet bulb temperature",
                "{{ value_json.wet_temperature }}",
            )),
            Self::TopTemperature => Component::Sensor(temperature(
                "Top temperature",
                "{{ value_json.top_temperature }}",
            )),
            Self::BottomTemperature => Component::Sensor(temperature(
                "Bottom temperature",
                "{{ value_json.bottom_temperature }}",
            )),
            Self::ProbeTemperature => Component::Sensor(temperature(
                "Probe temperature",
                "{{ value_json.probe_temperature }}",
            )),
            Self::Humidity => Component::Sensor(reading_sensor(
                self.base(oven, Some("Humidity")),
                state(),
                "{{ value_json.humidity }}",
                Reading::humidity(COARSE_STEP),
            )),
            Self::Stage => Component::Sensor(SensorConfig {
                device_class: Some("enum"),
                options: Some(OvenStage::ALL.iter().map(|s| s.as_str()).collect()),
                ..sensor("Stage", "{{ value_json.stage }}")
            }),
            Self::StageNumber => {
                Component::Sensor(sensor("Stage number", "{{ value_json.stage_index }}"))
            }
            Self::TimeRemaining => Component::Sensor(SensorConfig {
                device_class: Some("duration"),
                unit_of_measurement: Some("s"),
                ..sensor("Time remaining", "{{ value_json.timer_remaining }}")
            }),
            Self::CookEndsAt => Component::Sensor(SensorConfig {
                device_class: Some("timestamp"),
                ..sensor("Cook ends at", COOK_ENDS_AT)
            }),
            // Published to the whole degree; an internal, hidden until enabled.
            Self::BoilerTemperature => Component::Sensor(reading_sensor(
                diagnostic(self.base(oven, Some("Boiler temperature")), true),
                state(),
                "{{ value_json.boiler_temperature }}",
                Reading::celsius(COARSE_STEP),
            )),
            Self::Cooking => Component::BinarySensor(binary("Cooking", ON_WHEN_COOKING, "running")),
            Self::Door => Component::BinarySensor(binary("Door", flag!("door_open"), "door")),
            Self::WaterTankEmpty => Component::BinarySensor(binary(
                "Water tank empty",
                flag!("water_tank_empty"),
                "problem",
            )),
            Self::ProbeConnected => {
                Component::BinarySensor(binary("Probe connected", flag!("probe_connected"), "plug"))
            }
            Self::Lamp => Component::BinarySensor(diagnostic_binary(binary(
                "Lamp",
                flag!("lamp_on"),
                "light",
            ))),
            Self::ElementTop => Component::BinarySensor(diagnostic_binary(binary(
                "Top element",
                flag!("element_top"),
                "heat",
            ))),
            Self::ElementBottom => Component::BinarySensor(diagnostic_binary(binary(
                "Bottom element",
                flag!("element_bottom"),
                "heat",
            ))),
            Self::ElementRear => Component::BinarySensor(diagnostic_binary(binary(
                "Rear element",
                flag!("element_rear"),
                "heat",
            ))),
            Self::Vent => Component::BinarySensor(diagnostic_binary(binary(
                "Vent",
                flag!("vent_open"),
                "opening",
            ))),
            Self::LastCook => Component::Sensor(last_cook_sensor(
                self.base(oven, Some("Last cook")),
                topics.last_cook(oven.id),
            )),
            Self::Events => Component::Event(EventConfig {
                base: self.base(oven, Some("Cook events")),
                state_topic: topics.event(oven.id),
                event_types: &EVENT_TYPES,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::homeassistant::DiscoveryMode;
    use crate::topics::Topics;
    use serde_json::Value;

    static OVEN1: std::sync::LazyLock<TopicId> = std::sync::LazyLock::new(|| "oven1".into());

    fn oven<'a>(device_type: &'a DeviceType) -> OvenDiscovery<'a> {
        OvenDiscovery {
            id: &OVEN1,
            name: "",
            device_type,
            firmware: Some("2.1.7"),
            limits: OvenLimits::of(device_type, None),
            presets: &[],
        }
    }

    #[test]
    fn platform_known_for_removal_matches_the_options() {
        let topics = Topics::new("anova2mqtt");
        let ctx = DiscoveryContext {
            prefix: "homeassistant",
            mode: DiscoveryMode::Entity,
            topics: &topics,
        };
        let device_type = DeviceType::new("oven_v2");
        for entity in OvenEntity::ALL {
            assert_eq!(
                entity.component(&ctx, &oven(&device_type)).platform(),
                entity.platform(),
                "{entity:?}"
            );
        }
    }

    #[test]
    fn a_device_with_every_entity_in_both_modes() {
        let topics = Topics::new("anova2mqtt");
        let device_type = DeviceType::new("oven_v1");
        let ctx = DiscoveryContext {
            prefix: "homeassistant",
            mode: DiscoveryMode::Device,
            topics: &topics,
        };
        let messages = oven_config(&ctx, &oven(&device_type));
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].topic,
            "homeassistant/device/anova2mqtt_oven1/config"
        );
        let payload: Value = serde_json::from_str(&messages[0].payload).unwrap();
        assert_eq!(payload["device"]["model"], "Precision Oven 1.0 (oven_v1)");
        assert_eq!(payload["device"]["name"], "Anova Precision Oven 1.0");
        assert_eq!(payload["device"]["manufacturer"], "Anova");
        let components = payload["components"].as_object().unwrap();
        // Its own entities, the firmware's `update` and the plans' "Scheduled start" and
        // "Cancel schedule" (no presets given here, so no Preset select).
        assert_eq!(components.len(), OvenEntity::ALL.len() + 3);
        assert_eq!(components["scheduled_start"]["device_class"], "timestamp");
        assert_eq!(components["cancel_schedule"]["payload_press"], "cancel");
        let firmware = &components["firmware"];
        assert_eq!(firmware["platform"], "update");
        assert_eq!(firmware["device_class"], "firmware");
        assert_eq!(firmware["state_topic"], "anova2mqtt/oven1/state");
        assert_eq!(
            firmware["value_template"],
            "{{ value_json.firmware_update | tojson }}"
        );
        assert!(firmware.get("command_topic").is_none());
        assert_eq!(components["climate"]["max_temp"], 250.0);
        assert_eq!(components["door"]["device_class"], "door");
        assert_eq!(components["water_tank_empty"]["device_class"], "problem");
        assert_eq!(components["lamp"]["entity_category"], "diagnostic");
        assert_eq!(
            components["fan"]["options"],
            serde_json::json!(["off", "low", "medium", "high"])
        );
        assert_eq!(
            components["event"]["event_types"].as_array().unwrap().len(),
            15
        );
        assert_eq!(
            components["last_cook"]["value_template"],
            "{{ value_json.outcome }}"
        );
        assert_eq!(
            components["last_cook"]["json_attributes_topic"],
            "anova2mqtt/oven1/last_cook"
        );
        assert!(components["cook_ends_at"]["availability"].is_array());

        let ctx = DiscoveryContext {
            mode: DiscoveryMode::Entity,
            ..ctx
        };
        let messages = oven_config(&ctx, &oven(&device_type));
        assert_eq!(messages.len(), OvenEntity::ALL.len() + 3);
        assert!(messages.iter().any(|m| m.topic
            == "homeassistant/update/anova2mqtt_oven1/firmware/config"
            && m.payload.contains(r#""device_class":"firmware""#)));
        assert!(messages
            .iter()
            .any(|m| m.topic == "homeassistant/select/anova2mqtt_oven1/temperature_mode/config"));
        let removal = oven_removal(&ctx, &OVEN1);
        assert_eq!(removal.len(), OvenEntity::ALL.len() + PLAN_ENTITIES.len());
        assert!(removal.iter().all(DiscoveryMessage::is_removal));
    }
}
