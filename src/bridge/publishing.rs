//! What the bridge publishes besides each device's own topics: `bridge/info`,
//! `bridge/devices`, bridge events, discovery (with the bookkeeping of `discovery.rs`), the
//! full republish, and the removal of a device's retained topics.

use super::appliance::{removal, Appliance};
use super::backlog::Bulk;
use super::discovery::{other_mode, BRIDGE_NODE};
use super::io::Now;
use super::link::BridgeEvent;
use super::outbox::StreamMessage;
use super::timers::Timer;
use super::Bridge;
use crate::appliance::Kind;
use crate::homeassistant::{self, DiscoveryContext};
use crate::ids::TopicId;

impl Bridge {
    pub(super) fn publish_info(&mut self, force: bool) {
        let health = self.health();
        let info = match serde_json::to_string(&health.info(&self.config.version, self.started_at))
        {
            Ok(info) => info,
            Err(e) => {
                tracing::error!("bridge/info not published: {e}");
                return;
            }
        };
        if force || self.last_info.as_deref() != Some(info.as_str()) {
            self.out.stream(StreamMessage::BridgeInfo(&info));
            self.last_info = Some(info.clone());
            self.out.publish(self.topics.bridge_info(), info, true);
        }
    }

    pub(super) fn publish_devices(&mut self, force: bool) {
        // Before the cloud's list arrives we do not know the devices; an empty list would
        // mislead consumers (and erase what the last run left for cleanup).
        if !self.synced {
            return;
        }
        let shown = self.link_shown_up();
        let devices = match self.devices_list(shown) {
            Ok(devices) => devices,
            Err(e) => {
                tracing::error!("bridge/devices not published: {e}");
                return;
            }
        };
        if force || self.last_devices.as_deref() != Some(devices.as_str()) {
            self.out.stream(StreamMessage::Devices(&devices));
            self.last_devices = Some(devices.clone());
            self.out
                .publish(self.topics.bridge_devices(), devices, true);
        }
    }

    /// The `bridge/devices` payload, serialised from the devices as they are into a buffer the
    /// size of the last list: with thousands of devices, a tree of maps first would cost
    /// several times the payload, and the peak would stay with the allocator.
    fn devices_list(&self, shown: bool) -> Result<String, serde_json::Error> {
        use serde::ser::{SerializeSeq, Serializer};
        let capacity = self.last_devices.as_ref().map_or(0, |d| d.len() + 256);
        let mut buffer = Vec::with_capacity(capacity);
        let mut serializer = serde_json::Serializer::new(&mut buffer);
        let mut list = serializer.serialize_seq(Some(self.devices.len()))?;
        for device in self.devices.values() {
            list.serialize_element(&device.device_entry(shown))?;
        }
        list.end()?;
        String::from_utf8(buffer).map_err(|e| serde::ser::Error::custom(e.to_string()))
    }

    pub(super) fn bridge_event(&mut self, event: &BridgeEvent) {
        let payload = match serde_json::to_string(event) {
            Ok(payload) => payload,
            Err(e) => {
                tracing::error!("a bridge event was not published: {e}");
                return;
            }
        };
        self.out.stream(StreamMessage::BridgeEvent(&payload));
        self.out.publish(self.topics.bridge_event(), payload, false);
    }

    pub(super) fn discovery_context(&self) -> Option<DiscoveryContext<'_>> {
        self.config
            .homeassistant
            .as_ref()
            .map(|ha| DiscoveryContext {
                prefix: &ha.discovery_prefix,
                mode: ha.mode,
                topics: &self.topics,
            })
    }

    pub(super) fn publish_bridge_discovery(&mut self) {
        let Some(ha) = &self.config.homeassistant else {
            return;
        };
        let ctx = DiscoveryContext {
            prefix: &ha.discovery_prefix,
            mode: ha.mode,
            topics: &self.topics,
        };
        let other = homeassistant::bridge_removal(&other_mode(&ctx));
        let mut all = self
            .discovery
            .prepare(&ctx, &mut self.out, BRIDGE_NODE, other);
        all.extend(homeassistant::bridge_config(&ctx));
        for m in all {
            self.out.publish(m.topic, m.payload, true);
        }
    }

    /// Publishes one device's discovery.
    pub(super) fn publish_device_discovery(&mut self, id: &TopicId) {
        let Some(ha) = &self.config.homeassistant else {
            return;
        };
        let Some(device) = self.devices.get_mut(id) else {
            return;
        };
        let ctx = DiscoveryContext {
            prefix: &ha.discovery_prefix,
            mode: ha.mode,
            topics: &self.topics,
        };
        let other = device.removal(&other_mode(&ctx), id);
        let mut all = self
            .discovery
            .prepare(&ctx, &mut self.out, id.as_str(), other);
        let presets = self.config.plans.presets.names(device.kind());
        all.extend(device.discovery(&ctx, self.out.mqtt_connected, &presets));
        for m in all {
            self.out.publish(m.topic, m.payload, true);
        }
    }

    /// Everything retained, again: after a broker connect, a Home Assistant birth, or the
    /// `republish` request.
    pub(super) fn republish_all(&mut self, now: Now) {
        self.out
            .publish(self.topics.bridge_state(), "online".into(), true);
        self.publish_bridge_discovery();
        self.publish_info(true);
        self.out.publish(
            self.topics.bridge_presets(),
            self.config.plans.presets.listing().to_string(),
            true,
        );
        if self.synced {
            self.publish_devices(true);
            self.devices_built_at = Some(now.instant);
            self.timers.stop(Timer::DevicesList);
        }
        // Each device's discovery and retained topics as the broker takes them.
        let bulk = Bulk {
            discovery: self.config.homeassistant.is_some(),
            retained: true,
        };
        for id in self.devices.keys() {
            self.backlog.file(id, bulk);
        }
    }

    /// Clears a device's discovery and retained topics.
    pub(super) fn remove_retained(&mut self, id: &TopicId) {
        if let Some(ctx) = self.discovery_context() {
            // A device we no longer know (an earlier run's) is removed as the default family.
            let kind = self.devices.get(id).map_or(Kind::DEFAULT, Appliance::kind);
            let messages = removal(kind, &ctx, id);
            for m in messages {
                self.out.publish(m.topic, m.payload, true);
            }
        }
        self.out.publish(self.topics.state(id), String::new(), true);
        self.out
            .publish(self.topics.availability(id), String::new(), true);
        self.out
            .publish(self.topics.last_cook(id), String::new(), true);
        self.out
            .publish(self.topics.schedule(id), String::new(), true);
    }
}
