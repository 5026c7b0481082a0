//! Turns a device's entities into discovery messages, in either discovery mode.
//!
//! Topics: device mode publishes one message on `<prefix>/device/<node>/config`; entity mode
//! publishes one per entity on `<prefix>/<platform>/<node>/<key>/config`. `<node>` is
//! `anova2mqtt_<id>` for a cooker and the bridge's identifier for the bridge, so every topic
//! level is within Home Assistant's `[a-zA-Z0-9_-]`.

use super::schema::{AvailabilityMode, Components, DevicePayload, Entity, EntityPayload, Shared};
use super::DiscoveryMode;
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
    pub fn is_removal(&self) -> bool {
        self.payload.is_empty()
    }
}

/// The prefix of every unique id, node id and device identifier we publish.
pub(crate) const ID_PREFIX: &str = "anova2mqtt";

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
