//! The Home Assistant device of one cooker and its entities (`docs/interface.md` §4).
//!
//! State entities all read the retained JSON state on `<base>/<id>/state` through templates;
//! controls publish plain values on `<base>/<id>/set/<key>`. A template renders `None` where
//! the state has `null`, which Home Assistant shows as "unknown".

use super::publish::{DIAGNOSTIC_STEP_C, WATER_STEP_C};
use super::state::Stage;
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
    EventConfig, NumberConfig, NumberMode, SelectConfig, SensorConfig, Shared, SwitchConfig,
};
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::TopicId;
use crate::sous_vide::models::product_name;
use crate::wire::DeviceType;

/// The `event_type`s published on `<base>/<id>/event`.
pub const EVENT_TYPES: [&str; 13] = [
    "cook_started",
    "cook_changed",
    "preheat_complete",
    "timer_finished",
    "cook_stopped",
    "low_water",
    "alarm",
    // Plans (`docs/interface.md` §8.2).
    "schedule_created",
    "schedule_started",
    "schedule_cancelled",
    "schedule_failed",
    "schedule_missed",
    "food_safety_alert",
];

/// What discovery needs to know about a cooker.
#[derive(Debug, Clone, Copy)]
pub struct CookerDiscovery<'a> {
    /// The cooker's topic id (`cooker_topic_id` of its `cookerId`).
    pub id: &'a TopicId,
    /// The name from the Anova app.
    pub name: &'a str,
    /// The exact Anova `type`.
    pub device_type: &'a DeviceType,
    /// Firmware version, when the cooker has reported one.
    pub firmware: Option<&'a str>,
    /// Lowest target, °C.
    pub min_temperature_c: f64,
    /// Highest target, °C: the model's maximum, or the household's lower safety ceiling.
    pub max_temperature_c: f64,
    /// Longest timer, seconds.
    pub max_timer_s: u32,
    /// The names of the cooker presets (`docs/interface.md` §8.1).
    pub presets: &'a [String],
}

/// The discovery messages that create or update a cooker's device and entities.
pub fn cooker_config(ctx: &DiscoveryContext, cooker: &CookerDiscovery) -> Vec<DiscoveryMessage> {
    let mut entities: Vec<Entity> = CookerEntity::ALL
        .iter()
        .map(|entity| Entity {
            key: entity.key(),
            component: entity.component(ctx, cooker),
            extra_availability: entity.extra_availability(ctx, cooker),
        })
        .collect();
    entities.extend(plan_entities(ctx, cooker.id, cooker.presets));
    messages(ctx, &node(cooker.id), &shared(ctx, cooker), &entities)
}

/// The discovery messages that remove a cooker's device and entities from Home Assistant.
pub fn cooker_removal(ctx: &DiscoveryContext, id: &TopicId) -> Vec<DiscoveryMessage> {
    removals(
        ctx,
        &node(id),
        CookerEntity::ALL
            .iter()
            .map(|e| (e.platform(), e.key()))
            .chain(PLAN_ENTITIES),
    )
}

fn shared(ctx: &DiscoveryContext, cooker: &CookerDiscovery) -> Shared {
    device_shared(
        ctx,
        &DeviceBlock {
            id: cooker.id,
            name: cooker.name,
            product: product_name(cooker.device_type),
            device_type: cooker.device_type.as_str(),
            firmware: cooker.firmware,
        },
    )
}

/// Every entity of a cooker, in publishing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CookerEntity {
    Climate,
    Cook,
    TargetTemperature,
    Timer,
    DisplayUnit,
    WaterTemperature,
    Stage,
    TimeRemaining,
    CookEndsAt,
    HeaterTemperature,
    TriacTemperature,
    Cooking,
    LowWater,
    Alarm,
    LastCook,
    Events,
}

/// `null` (a model that does not report it) is unknown, not "no problem".
const LOW_WATER: &str =
    "{{ 'None' if value_json.low_water is none else ('ON' if value_json.low_water else 'OFF') }}";
/// Mirrors `CookerState::alarm_active`: the alarm stage or any alarm flag; `null` flags are off.
const ALARM: &str = "{{ 'ON' if value_json.stage == 'alarm' or value_json.water_critical \
    or value_json.water_leak or value_json.high_temp or value_json.motor_stuck \
    or value_json.triac_failed else 'OFF' }}";

impl CookerEntity {
    const ALL: [CookerEntity; 16] = [
        Self::Climate,
        Self::Cook,
        Self::TargetTemperature,
        Self::Timer,
        Self::DisplayUnit,
        Self::WaterTemperature,
        Self::Stage,
        Self::TimeRemaining,
        Self::CookEndsAt,
        Self::HeaterTemperature,
        Self::TriacTemperature,
        Self::Cooking,
        Self::LowWater,
        Self::Alarm,
        Self::LastCook,
        Self::Events,
    ];

    /// The stable key: the last level of the unique id and of the discovery topic.
    fn key(self) -> &'static str {
        match self {
            Self::Climate => "climate",
            Self::Cook => "cook",
            Self::TargetTemperature => "target_temperature",
            Self::Timer => "timer",
            Self::DisplayUnit => "display_unit",
            Self::WaterTemperature => "water_temperature",
            Self::Stage => "stage",
            Self::TimeRemaining => "time_remaining",
            Self::CookEndsAt => "cook_ends_at",
            Self::HeaterTemperature => "heater_temperature",
            Self::TriacTemperature => "triac_temperature",
            Self::Cooking => "cooking",
            Self::LowWater => "low_water",
            Self::Alarm => "alarm",
            Self::LastCook => "last_cook",
            Self::Events => "event",
        }
    }

    /// The Home Assistant platform, known without building the options (for removal).
    fn platform(self) -> &'static str {
        match self {
            Self::Climate => "climate",
            Self::Cook => "switch",
            Self::TargetTemperature | Self::Timer => "number",
            Self::DisplayUnit => "select",
            Self::WaterTemperature
            | Self::Stage
            | Self::TimeRemaining
            | Self::CookEndsAt
            | Self::HeaterTemperature
            | Self::TriacTemperature
            | Self::LastCook => "sensor",
            Self::Cooking | Self::LowWater | Self::Alarm => "binary_sensor",
            Self::Events => "event",
        }
    }

    fn base(self, cooker: &CookerDiscovery, name: Option<&'static str>) -> EntityBase {
        // The device's main entity is the cooker itself: `climate.anova_<id>`.
        let main = matches!(self, Self::Climate);
        entity_base(cooker.id, self.key(), self.platform(), main, name)
    }

    /// An availability condition of this entity alone, besides the device's.
    fn extra_availability(
        self,
        ctx: &DiscoveryContext,
        cooker: &CookerDiscovery,
    ) -> Option<Availability> {
        match self {
            Self::CookEndsAt => Some(Availability {
                topic: ctx.topics.state(cooker.id),
                value_template: Some(HAS_END_TIME),
            }),
            _ => None,
        }
    }

    fn component(self, ctx: &DiscoveryContext, cooker: &CookerDiscovery) -> Component {
        let topics = ctx.topics;
        let state = || topics.state(cooker.id);
        let set = |key: &str| topics.set_key(cooker.id, key);
        let sensor = |name: &'static str, value_template: &'static str| {
            sensor(self.base(cooker, Some(name)), state(), value_template)
        };
        // Internals for troubleshooting, published to the whole degree: hidden until the user
        // enables them.
        let diagnostic_temperature = |name: &'static str, value_template: &'static str| {
            reading_sensor(
                diagnostic(self.base(cooker, Some(name)), true),
                state(),
                value_template,
                Reading::celsius(DIAGNOSTIC_STEP_C),
            )
        };
        let binary_sensor =
            |name: &'static str, value_template: &'static str, device_class: &'static str| {
                BinarySensorConfig {
                    base: self.base(cooker, Some(name)),
                    state_topic: state(),
                    value_template,
                    device_class,
                }
            };

        match self {
            Self::Climate => Component::Climate(ClimateConfig {
                base: self.base(cooker, None),
                modes: &["off", "heat"],
                mode_command_topic: set("mode"),
                mode_state_topic: state(),
                mode_state_template: "{{ 'heat' if value_json.cooking else 'off' }}",
                temperature_command_topic: set("target_temperature"),
                temperature_state_topic: state(),
                temperature_state_template: "{{ value_json.target_temperature }}",
                current_temperature_topic: state(),
                current_temperature_template: "{{ value_json.water_temperature }}",
                action_topic: state(),
                action_template: "{{ value_json.hvac_action }}",
                min_temp: cooker.min_temperature_c,
                max_temp: cooker.max_temperature_c,
                temp_step: 0.5,
                precision: 0.1,
                temperature_unit: "C",
                optimistic: false,
            }),
            Self::Cook => Component::Switch(SwitchConfig {
                base: self.base(cooker, Some("Cook")),
                command_topic: set("cook"),
                state_topic: state(),
                value_template: ON_WHEN_COOKING,
                payload_on: "ON",
                payload_off: "OFF",
            }),
            Self::TargetTemperature => Component::Number(NumberConfig {
                base: self.base(cooker, Some("Target temperature")),
                command_topic: set("target_temperature"),
                state_topic: state(),
                value_template: "{{ value_json.target_temperature }}",
                min: cooker.min_temperature_c,
                max: cooker.max_temperature_c,
                step: 0.5,
                mode: NumberMode::Box,
                unit_of_measurement: "°C",
                device_class: "temperature",
            }),
            Self::Timer => Component::Number(NumberConfig {
                base: self.base(cooker, Some("Timer")),
                command_topic: set("timer"),
                state_topic: state(),
                value_template: TIMER_MINUTES,
                min: 0.0,
                max: f64::from(cooker.max_timer_s / 60),
                step: 1.0,
                mode: NumberMode::Box,
                unit_of_measurement: "min",
                device_class: "duration",
            }),
            Self::DisplayUnit => Component::Select(SelectConfig {
                base: EntityBase {
                    entity_category: Some(EntityCategory::Config),
                    ..self.base(cooker, Some("Display unit"))
                },
                command_topic: set("display_unit"),
                state_topic: state(),
                value_template: "{{ value_json.display_unit }}",
                options: vec!["C".into(), "F".into()],
            }),
            Self::WaterTemperature => Component::Sensor(reading_sensor(
                self.base(cooker, Some("Water temperature")),
                state(),
                "{{ value_json.water_temperature }}",
                Reading::celsius(WATER_STEP_C),
            )),
            Self::Stage => Component::Sensor(SensorConfig {
                device_class: Some("enum"),
                options: Some(Stage::ALL.iter().map(|s| s.as_str()).collect()),
                ..sensor("Stage", "{{ value_json.stage }}")
            }),
            Self::TimeRemaining => Component::Sensor(SensorConfig {
                device_class: Some("duration"),
                unit_of_measurement: Some("s"),
                ..sensor("Time remaining", "{{ value_json.timer_remaining }}")
            }),
            Self::CookEndsAt => Component::Sensor(SensorConfig {
                device_class: Some("timestamp"),
                ..sensor("Cook ends at", COOK_ENDS_AT)
            }),
            Self::HeaterTemperature => Component::Sensor(diagnostic_temperature(
                "Heater temperature",
                "{{ value_json.heater_temperature }}",
            )),
            Self::TriacTemperature => Component::Sensor(diagnostic_temperature(
                "Triac temperature",
                "{{ value_json.triac_temperature }}",
            )),
            Self::Cooking => {
                Component::BinarySensor(binary_sensor("Cooking", ON_WHEN_COOKING, "running"))
            }
            Self::LowWater => {
                Component::BinarySensor(binary_sensor("Low water", LOW_WATER, "problem"))
            }
            Self::Alarm => Component::BinarySensor(binary_sensor("Alarm", ALARM, "problem")),
            Self::LastCook => Component::Sensor(last_cook_sensor(
                self.base(cooker, Some("Last cook")),
                topics.last_cook(cooker.id),
            )),
            Self::Events => Component::Event(EventConfig {
                base: self.base(cooker, Some("Cook events")),
                state_topic: topics.event(cooker.id),
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

    #[test]
    fn platform_known_for_removal_matches_the_options() {
        let topics = Topics::new("anova2mqtt");
        let ctx = DiscoveryContext {
            prefix: "homeassistant",
            mode: DiscoveryMode::Entity,
            topics: &topics,
        };
        let device_type = DeviceType::new("a7");
        let cooker = CookerDiscovery {
            id: &TopicId::from("x"),
            name: "X",
            device_type: &device_type,
            firmware: None,
            min_temperature_c: 0.0,
            max_temperature_c: 95.0,
            max_timer_s: 359_940,
            presets: &[],
        };
        for entity in CookerEntity::ALL {
            assert_eq!(
                entity.component(&ctx, &cooker).platform(),
                entity.platform(),
                "{entity:?}"
            );
        }
    }
}
