//! The entities every device has whatever its family: presets and plans
//! (`docs/interface.md` §8) and its firmware (`update`). Each family's discovery appends them
//! to its own.

use super::discovery::{entity_base, sensor};
use super::schema::{
    Availability, ButtonConfig, Component, Entity, EntityCategory, SelectConfig, SensorConfig,
    UpdateConfig,
};
use super::DiscoveryContext;
use crate::ids::TopicId;

/// Every entity below as `(platform, key)`, for removal.
pub(crate) const PLAN_ENTITIES: [(&str, &str); 4] = [
    ("select", "preset"),
    ("sensor", "scheduled_start"),
    ("button", "cancel_schedule"),
    ("update", "firmware"),
];

/// The pending plan's start from the retained `<base>/<id>/schedule`. Home Assistant before
/// 2024.10 logs a warning for every message that gives a timestamp sensor no timestamp (`None`
/// and an empty state included), and the topic is cleared with a zero-length message when the
/// plan ends. So, as "Cook ends at" does, the sensor is *unavailable* while no plan waits
/// ([`HAS_PLAN`]), and its state template always yields a valid timestamp (the epoch when the
/// topic is empty, never shown). `value_json` is only read when there is a payload.
const SCHEDULED_START: &str = "{{ value_json.start_at if value else '1970-01-01T00:00:00+00:00' }}";

/// The extra availability condition of "Scheduled start": a plan waits.
const HAS_PLAN: &str = "{{ 'online' if value else 'offline' }}";

/// The plan as the sensor's attributes; `{}` when none.
const SCHEDULE_ATTRIBUTES: &str = "{{ value if value else '{}' }}";

/// The state's `firmware_update` object as Home Assistant's `update` entity reads it: a JSON object
/// (a bare string would be taken as the installed version alone).
const UPDATE: &str = "{{ value_json.firmware_update | tojson }}";

/// The entities of presets and plans of device `id`, whose family's presets are `presets`
/// (names, in listing order).
pub(crate) fn plan_entities(
    ctx: &DiscoveryContext,
    id: &TopicId,
    presets: &[String],
) -> Vec<Entity> {
    let topics = ctx.topics;
    let mut entities = Vec::new();
    // Home Assistant refuses a select without options; every family has built-in presets, so
    // this only guards a build without them.
    if !presets.is_empty() {
        // Choosing one sets the pending values (`<id>/set/preset`), as a target set while
        // idle does; the Cook switch then starts them. The state's `preset` is null when no
        // preset's values are pending or running, which the template renders as `None`:
        // Home Assistant shows the select as unknown then.
        entities.push(Entity::new(
            "preset",
            Component::Select(SelectConfig {
                base: entity_base(id, "preset", "select", false, Some("Preset")),
                command_topic: topics.set_key(id, "preset"),
                state_topic: topics.state(id),
                value_template: "{{ value_json.preset }}",
                options: presets.to_vec(),
            }),
        ));
    }
    // The pending plan's start (`docs/interface.md` §8.2), the plan itself as attributes.
    let mut scheduled = Entity::new(
        "scheduled_start",
        Component::Sensor(SensorConfig {
            device_class: Some("timestamp"),
            json_attributes_topic: Some(topics.schedule(id)),
            json_attributes_template: Some(SCHEDULE_ATTRIBUTES),
            ..sensor(
                entity_base(
                    id,
                    "scheduled_start",
                    "sensor",
                    false,
                    Some("Scheduled start"),
                ),
                topics.schedule(id),
                SCHEDULED_START,
            )
        }),
    );
    scheduled.extra_availability = Some(Availability {
        topic: topics.schedule(id),
        value_template: Some(HAS_PLAN),
    });
    entities.push(scheduled);
    // Cancels it, as `schedule: cancel` does (nothing pending: answered with a warning).
    entities.push(Entity::new(
        "cancel_schedule",
        Component::Button(ButtonConfig {
            base: entity_base(
                id,
                "cancel_schedule",
                "button",
                false,
                Some("Cancel schedule"),
            ),
            command_topic: topics.set_key(id, "schedule"),
            payload_press: "cancel",
        }),
    ));
    // The firmware: installed and offered versions with the release notes. Read only: a
    // Personal Access Token cannot start an update (`CMD_APC_OTA` is the app's).
    let mut base = entity_base(id, "firmware", "update", false, Some("Firmware"));
    base.entity_category = Some(EntityCategory::Config);
    entities.push(Entity::new(
        "firmware",
        Component::Update(UpdateConfig {
            base,
            state_topic: topics.state(id),
            value_template: UPDATE,
            device_class: "firmware",
        }),
    ));
    entities
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::homeassistant::DiscoveryMode;
    use crate::topics::Topics;

    #[test]
    fn the_removal_list_names_every_entity() {
        let topics = Topics::new("anova2mqtt");
        let ctx = DiscoveryContext {
            prefix: "homeassistant",
            mode: DiscoveryMode::Entity,
            topics: &topics,
        };
        let entities = plan_entities(&ctx, &TopicId::from("x"), &["a".to_owned()]);
        let listed: Vec<(&str, &str)> = entities
            .iter()
            .map(|e| (e.component.platform(), e.key))
            .collect();
        assert_eq!(listed, PLAN_ENTITIES);
    }
}
