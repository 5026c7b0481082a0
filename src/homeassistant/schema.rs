//! Typed Home Assistant MQTT discovery options: one struct per platform, each flattening the
//! options every entity shares ([`EntityBase`]).
//!
//! Every key is a documented option of its platform's MQTT integration, spelled out in full (no
//! abbreviations). Options we leave at Home Assistant's default are simply absent. Home Assistant
//! 2024.3 ignores keys it does not know (`default_entity_id`, the sensor `options`), but validates
//! the `device` and `origin` blocks strictly, so those only carry keys it has always known.

use serde::{Serialize, Serializer};

/// The `origin` block: which software published the discovery, logged by Home Assistant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// Application name.
    pub name: &'static str,
    /// Application version.
    pub sw_version: &'static str,
    /// Where users get help.
    pub support_url: &'static str,
}

impl Origin {
    /// This build of anova2mqtt.
    pub const ANOVA2MQTT: Origin = Origin {
        name: "anova2mqtt",
        sw_version: env!("CARGO_PKG_VERSION"),
        support_url: env!("CARGO_PKG_REPOSITORY"),
    };
}

/// The `device` block, which ties entities to one entry in Home Assistant's device registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Stable ids of the device; never derived from a user-editable name.
    pub identifiers: Vec<String>,
    /// Shown as the device's name, and as the prefix of its entities' names.
    pub name: String,
    /// Manufacturer.
    pub manufacturer: &'static str,
    /// Model.
    pub model: String,
    /// Firmware or software version, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sw_version: Option<String>,
    /// The identifier of the device this one talks through (the bridge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_device: Option<String>,
}

/// One entry of an entity's `availability` list; the payloads are Home Assistant's defaults,
/// `online` and `offline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// The topic carrying `online`/`offline`.
    pub topic: String,
    /// Turns the topic's payload into `online`/`offline`, for a JSON topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_template: Option<&'static str>,
}

impl Availability {
    /// A topic that carries `online`/`offline` itself.
    pub fn topic(topic: String) -> Self {
        Self {
            topic,
            value_template: None,
        }
    }
}

/// How several availability topics combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AvailabilityMode {
    /// Available only while every topic says `online`.
    All,
}

/// What an entity is for, besides the device's main controls and readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityCategory {
    /// A setting of the device.
    Config,
    /// Health and internals, read only.
    Diagnostic,
}

/// Options that describe the entity itself, common to every platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityBase {
    /// Home Assistant's key for the entity; stable across renames.
    pub unique_id: String,
    /// The entity id Home Assistant suggests on first discovery (`<platform>.<object id>`).
    pub default_entity_id: String,
    /// The entity's name after the device name; `None` is sent as `null`, which makes the entity
    /// take the device's name (the device's main entity).
    pub name: Option<&'static str>,
    /// Setting or diagnostic; absent for main controls and readings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_category: Option<EntityCategory>,
    /// `false` for noisy internals the user can switch on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_by_default: Option<bool>,
}

/// `climate`: the cooker as a thermostat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClimateConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Supported HVAC modes.
    pub modes: &'static [&'static str],
    /// Where a mode change is published.
    pub mode_command_topic: String,
    /// Where the current mode is read.
    pub mode_state_topic: String,
    /// Extracts the mode.
    pub mode_state_template: &'static str,
    /// Where a new target temperature is published.
    pub temperature_command_topic: String,
    /// Where the target temperature is read.
    pub temperature_state_topic: String,
    /// Extracts the target temperature.
    pub temperature_state_template: &'static str,
    /// Where the measured temperature is read.
    pub current_temperature_topic: String,
    /// Extracts the measured temperature.
    pub current_temperature_template: &'static str,
    /// Where the current HVAC action is read.
    pub action_topic: String,
    /// Extracts the HVAC action (`off`, `heating`, `idle`).
    pub action_template: &'static str,
    /// Lowest settable target.
    pub min_temp: f64,
    /// Highest settable target.
    pub max_temp: f64,
    /// Target increment.
    pub temp_step: f64,
    /// Display precision (0.1, 0.5 or 1.0).
    pub precision: f64,
    /// Unit of every temperature above: `C`.
    pub temperature_unit: &'static str,
    /// The state topics are authoritative; no optimistic updates.
    pub optimistic: bool,
}

/// `switch`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SwitchConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where `payload_on`/`payload_off` is published.
    pub command_topic: String,
    /// Where the state is read.
    pub state_topic: String,
    /// Turns the state into `payload_on`/`payload_off`.
    pub value_template: &'static str,
    /// Sent to turn on; also the "on" state.
    pub payload_on: &'static str,
    /// Sent to turn off; also the "off" state.
    pub payload_off: &'static str,
}

/// How a `number` is edited in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberMode {
    /// An input box: exact values over a wide range.
    Box,
}

/// `number`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where a new value is published.
    pub command_topic: String,
    /// Where the value is read.
    pub state_topic: String,
    /// Extracts the value.
    pub value_template: &'static str,
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// Increment.
    pub step: f64,
    /// UI control.
    pub mode: NumberMode,
    /// Unit of the value.
    pub unit_of_measurement: &'static str,
    /// What the value measures.
    pub device_class: &'static str,
}

/// `select`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where the chosen option is published.
    pub command_topic: String,
    /// Where the current option is read.
    pub state_topic: String,
    /// Extracts the current option.
    pub value_template: &'static str,
    /// The choices.
    pub options: Vec<String>,
}

/// `sensor`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensorConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where the value is read.
    pub state_topic: String,
    /// Extracts the value.
    pub value_template: &'static str,
    /// What the value measures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_class: Option<&'static str>,
    /// How Home Assistant keeps statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_class: Option<&'static str>,
    /// Unit of the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_of_measurement: Option<&'static str>,
    /// Decimals shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_display_precision: Option<u8>,
    /// The possible values of an `enum` sensor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<&'static str>>,
    /// A JSON object whose keys become the entity's attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_attributes_topic: Option<String>,
    /// Turns the attributes topic's payload into that object (an empty payload, a cleared
    /// retained topic, into `{}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_attributes_template: Option<&'static str>,
}

/// `binary_sensor`; the state template yields Home Assistant's default `ON`/`OFF` (or `None`
/// for unknown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinarySensorConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where the state is read.
    pub state_topic: String,
    /// Turns the state into `ON`/`OFF`.
    pub value_template: &'static str,
    /// What the state means.
    pub device_class: &'static str,
}

/// `event`: the payload is JSON with an `event_type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where events arrive (never retained).
    pub state_topic: String,
    /// Every `event_type` that may arrive.
    pub event_types: &'static [&'static str],
}

/// `button`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ButtonConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where a press is published.
    pub command_topic: String,
    /// What a press publishes.
    pub payload_press: &'static str,
}

/// `update`: a firmware the device runs and the one offered. No `command_topic`: only the
/// Anova app can install one, so Home Assistant offers no install button.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateConfig {
    /// Shared entity options.
    #[serde(flatten)]
    pub base: EntityBase,
    /// Where the versions are read.
    pub state_topic: String,
    /// Renders a JSON object with `installed_version`, `latest_version`, `release_summary`,
    /// `release_url`.
    pub value_template: &'static str,
    /// `firmware`.
    pub device_class: &'static str,
}

/// The options of one entity, whatever its platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Component {
    /// `climate`.
    Climate(ClimateConfig),
    /// `switch`.
    Switch(SwitchConfig),
    /// `number`.
    Number(NumberConfig),
    /// `select`.
    Select(SelectConfig),
    /// `sensor`.
    Sensor(SensorConfig),
    /// `binary_sensor`.
    BinarySensor(BinarySensorConfig),
    /// `event`.
    Event(EventConfig),
    /// `button`.
    Button(ButtonConfig),
    /// `update`.
    Update(UpdateConfig),
}

impl Component {
    /// The Home Assistant platform (the `<component>` level of a per-entity discovery topic and
    /// the `platform` key of a device-based one).
    pub fn platform(&self) -> &'static str {
        match self {
            Self::Climate(_) => "climate",
            Self::Switch(_) => "switch",
            Self::Number(_) => "number",
            Self::Select(_) => "select",
            Self::Sensor(_) => "sensor",
            Self::BinarySensor(_) => "binary_sensor",
            Self::Event(_) => "event",
            Self::Button(_) => "button",
            Self::Update(_) => "update",
        }
    }

    /// The options every platform shares.
    pub fn base(&self) -> &EntityBase {
        match self {
            Self::Climate(c) => &c.base,
            Self::Switch(c) => &c.base,
            Self::Number(c) => &c.base,
            Self::Select(c) => &c.base,
            Self::Sensor(c) => &c.base,
            Self::BinarySensor(c) => &c.base,
            Self::Event(c) => &c.base,
            Self::Button(c) => &c.base,
            Self::Update(c) => &c.base,
        }
    }
}

/// One entity of a device: its key (the component id in device-based discovery, the object id
/// in per-entity discovery) and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Stable key, `[a-z0-9_]`.
    pub key: &'static str,
    /// Platform options.
    pub component: Component,
    /// One more condition for this entity only, on top of the device's availability list
    /// (which then applies with `availability_mode: all`).
    pub extra_availability: Option<Availability>,
}

impl Entity {
    /// An entity with the device's availability.
    pub fn new(key: &'static str, component: Component) -> Self {
        Self {
            key,
            component,
            extra_availability: None,
        }
    }

    /// The entity's own availability list, when it differs from the device's.
    pub fn availability(&self, shared: &Shared) -> Option<Vec<Availability>> {
        let extra = self.extra_availability.as_ref()?;
        let mut list = shared.availability.clone();
        list.push(extra.clone());
        Some(list)
    }
}

/// What every entity of one device shares: sent once at the root of a device-based payload, and
/// repeated in every per-entity payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shared {
    /// The device block.
    pub device: Device,
    /// The origin block.
    pub origin: Origin,
    /// Topics that must say `online`.
    pub availability: Vec<Availability>,
    /// How they combine; absent with a single topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_mode: Option<AvailabilityMode>,
    /// QoS of every subscription and command.
    pub qos: u8,
}

/// A per-entity discovery payload: the shared options and the entity's own.
#[derive(Serialize)]
pub struct EntityPayload<'a> {
    /// Device, origin, availability, QoS (the entity's own availability already merged in).
    #[serde(flatten)]
    pub shared: &'a Shared,
    /// The entity.
    #[serde(flatten)]
    pub component: &'a Component,
}

/// A device-based discovery payload (Home Assistant 2024.11+).
#[derive(Serialize)]
pub struct DevicePayload<'a> {
    /// Device, origin, availability, QoS.
    #[serde(flatten)]
    pub shared: &'a Shared,
    /// Every entity, keyed by its key, in order.
    pub components: Components<'a>,
}

/// The `components` map of a device-based payload.
pub struct Components<'a> {
    /// The device's shared options (for entities with their own availability).
    pub shared: &'a Shared,
    /// The entities.
    pub entities: &'a [Entity],
}

/// One entry of `components`: the platform and the entity's options.
#[derive(Serialize)]
struct ComponentEntry<'a> {
    platform: &'static str,
    /// Overrides the device's list for this component only.
    #[serde(skip_serializing_if = "Option::is_none")]
    availability: Option<Vec<Availability>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    availability_mode: Option<AvailabilityMode>,
    #[serde(flatten)]
    component: &'a Component,
}

impl Serialize for Components<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entities.iter().map(|entity| {
            let availability = entity.availability(self.shared);
            (
                entity.key,
                ComponentEntry {
                    platform: entity.component.platform(),
                    availability_mode: availability.as_ref().map(|_| AvailabilityMode::All),
                    availability,
                    component: &entity.component,
                },
            )
        }))
    }
}
