//! Discovery bookkeeping: what must happen before a device's discovery is published so that
//! switching `discovery_mode` leaves no duplicates in Home Assistant, and the cleanup of
//! devices an earlier run published that left the account while we were away.

use super::io::Output;
use super::outbox::Outbox;
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage, DiscoveryMode};
use crate::ids::CloudId;
use std::collections::BTreeSet;

/// The node used for the bridge's own device in the bookkeeping.
pub(crate) const BRIDGE_NODE: &str = "bridge";

/// What the bridge remembers about discovery.
#[derive(Debug, Default)]
pub(crate) struct DiscoveryBook {
    /// Device mode: the devices (topic ids, [`BRIDGE_NODE`] for ours) whose entity-mode topics
    /// were already cleared in this process.
    entity_topics_cleared: BTreeSet<String>,
    /// Entity mode: the device-mode topics we watch for a stale retained config (since the
    /// last broker connect; subscriptions do not survive a reconnect).
    device_topics_watched: BTreeSet<String>,
    /// Devices (cloud ids) our retained `bridge/devices` listed in an earlier run, until
    /// cleaned up.
    pub(crate) previous_run: Option<BTreeSet<CloudId>>,
}

impl DiscoveryBook {
    /// A new broker connection: watched topics must be subscribed again.
    pub(crate) fn broker_connected(&mut self) {
        self.device_topics_watched.clear();
    }

    /// True for a device-mode config topic we watch in entity mode.
    pub(crate) fn watches(&self, topic: &str) -> bool {
        self.device_topics_watched.contains(topic)
    }

    /// What must go out before a device's discovery, given its messages in the *other* mode:
    /// - device mode: clear the device's entity-mode topics, once per process. Any Home
    ///   Assistant that reads device discovery also reads per-entity topics, and an empty
    ///   payload for an unknown entity is silently ignored.
    /// - entity mode: watch the device-mode topic and clear it only if a retained config is
    ///   there. Home Assistant before 2024.11 warns about *any* message on a device topic, so
    ///   we never publish there blindly.
    pub(crate) fn prepare(
        &mut self,
        ctx: &DiscoveryContext<'_>,
        out: &mut Outbox,
        node: &str,
        other_mode: Vec<DiscoveryMessage>,
    ) -> Vec<DiscoveryMessage> {
        if !out.mqtt_connected {
            return Vec::new();
        }
        match ctx.mode {
            DiscoveryMode::Device => {
                if self.entity_topics_cleared.insert(node.to_owned()) {
                    return other_mode;
                }
            }
            DiscoveryMode::Entity => {
                let topics: Vec<String> = other_mode
                    .into_iter()
                    .map(|m| m.topic)
                    .filter(|t| self.device_topics_watched.insert(t.clone()))
                    .collect();
                if !topics.is_empty() {
                    out.push(Output::Subscribe(topics));
                }
            }
        }
        Vec::new()
    }
}

/// The same context in the other discovery mode.
pub(crate) fn other_mode<'a>(ctx: &DiscoveryContext<'a>) -> DiscoveryContext<'a> {
    DiscoveryContext {
        mode: match ctx.mode {
            DiscoveryMode::Device => DiscoveryMode::Entity,
            DiscoveryMode::Entity => DiscoveryMode::Device,
        },
        ..*ctx
    }
}
