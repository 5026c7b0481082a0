//! What a device is apart from its commands: its identity, last state, memory, availability,
//! what was last published for it, and its cook's chart.

use super::context::{Ctx, Settings};
use super::cook::{CookTracker, Meta};
use super::preset::{Published, ShownPreset};
use crate::appliance::family::{DiscoveryDevice, Family};
use crate::appliance::{DeviceInfo, Firmware, Update};
use crate::bridge::outbox::{Outbox, StreamMessage};
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::{CloudId, TopicId};
use crate::wire::DeviceRef;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A device's unchanged state is republished at most this often, to refresh `updated_at`.
pub const STATE_REFRESH: Duration = Duration::from_secs(60);

/// A device's entry in `bridge/devices` (`docs/interface.md` §3), serialised straight from the
/// device: a fleet's list is one string, never a tree of maps per device.
#[derive(Debug, Serialize)]
pub(crate) struct DeviceEntry<'a> {
    id: &'a TopicId,
    /// Named `cooker_id` in the published contract, for ovens too.
    #[serde(rename = "cooker_id")]
    cloud_id: &'a CloudId,
    name: &'a str,
    model: &'a str,
    firmware: Option<&'a str>,
    online: bool,
    min_temperature_c: f64,
    max_temperature_c: f64,
    max_timer_s: u32,
}

/// What the bridge must follow up after a state push.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StateNews {
    /// Availability changed (`bridge/devices`, the online count).
    pub(crate) availability_changed: bool,
    /// Availability before the push.
    pub(crate) was_available: bool,
    /// The firmware differs from what discovery last said: republish discovery.
    pub(crate) discovery_outdated: bool,
    /// The first state, or a firmware change: `bridge/devices` changes.
    pub(crate) firmware_news: bool,
}

/// What was last published for a device.
#[derive(Debug)]
struct Memo<S> {
    /// The last published state, the preset it showed, and when.
    state: Option<(S, Option<String>, Instant)>,
    /// The last published availability.
    availability: Option<bool>,
    /// The firmware the last discovery carried (`None` = never published).
    discovery_firmware: Option<Option<String>>,
}

impl<S> Default for Memo<S> {
    fn default() -> Self {
        Self {
            state: None,
            availability: None,
            discovery_firmware: None,
        }
    }
}

/// What a device is, apart from its commands.
#[derive(Debug)]
pub(crate) struct Device<F: Family> {
    /// Identity from the device list.
    pub(super) info: DeviceInfo,
    /// The sanitised id used in topics.
    pub(super) id: TopicId,
    /// The cloud address of its commands.
    pub(super) address: DeviceRef,
    pub(super) limits: F::Limits,
    /// The last state the cloud pushed.
    pub(super) state: Option<F::State>,
    pub(super) memory: F::Memory,
    /// No push for `anova.stale_after`.
    pub(super) stale: bool,
    /// The preset the state shows.
    pub(super) preset: ShownPreset,
    /// What the cloud last said of its firmware (`None`: nothing yet).
    cloud_firmware: Option<Firmware>,
    /// The cloud's word on the firmware changed since the state was last published.
    firmware_unpublished: bool,
    memo: Memo<F::State>,
    /// Its cooks: what one is, what is recorded, the web page's chart.
    pub(super) cook: CookTracker,
}

impl<F: Family> Device<F> {
    /// A newly listed device.
    pub(crate) fn new(info: DeviceInfo, id: TopicId, settings: &Settings) -> Self {
        let limits = F::limits(&info.device_type, settings.ceilings);
        let address = DeviceRef {
            cloud_id: info.cloud_id.clone(),
            device_type: info.device_type.clone(),
        };
        Self {
            info,
            id,
            address,
            limits,
            state: None,
            memory: F::Memory::default(),
            stale: false,
            preset: ShownPreset::default(),
            cloud_firmware: None,
            firmware_unpublished: false,
            memo: Memo::default(),
            cook: CookTracker::default(),
        }
    }

    /// A new name or type from the device list.
    pub(crate) fn rename(&mut self, info: DeviceInfo, settings: &Settings) {
        self.limits = F::limits(&info.device_type, settings.ceilings);
        self.address.device_type = info.device_type.clone();
        self.info = info;
    }

    /// `online` when the cloud link is up, the device reports itself online, and its last
    /// push is fresher than `anova.stale_after` (`docs/interface.md` §3).
    pub(crate) fn available(&self, link_up: bool) -> bool {
        link_up && !self.stale && self.state.as_ref().is_some_and(F::reports_online)
    }

    fn firmware(&self) -> Option<&str> {
        self.state.as_ref().and_then(F::firmware)
    }

    /// A state push: the state is kept, the chart and cook events follow it. The machine
    /// confirms commands and publishes afterwards.
    pub(crate) fn receive(&mut self, ctx: Ctx<'_>, out: &mut Outbox, state: F::State) -> StateNews {
        let was_available = self.available(ctx.link_shown_up);
        if std::mem::take(&mut self.stale) {
            tracing::info!(device = %self.id, "the {} reports again: online", F::NOUN);
        }
        let discovery_outdated = self
            .memo
            .discovery_firmware
            .as_ref()
            .is_some_and(|f| f.as_deref() != F::firmware(&state));
        let firmware_news = self
            .state
            .as_ref()
            .is_none_or(|p| F::firmware(p) != F::firmware(&state));
        if self.state.as_ref().is_some_and(F::cooking) && !F::cooking(&state) {
            self.preset.cook_ended();
        }
        let previous = self.state.replace(state);
        if let Some(current) = &self.state {
            let meta = Meta {
                id: &self.id,
                model: self.info.device_type.as_str(),
            };
            self.cook
                .on_state::<F>(ctx, out, meta, previous.as_ref(), current, was_available);
        }
        StateNews {
            was_available,
            discovery_outdated,
            firmware_news,
            ..StateNews::default()
        }
    }

    /// What the cloud says of the firmware: published with the state (`firmware_update`).
    pub(crate) fn receive_firmware(&mut self, firmware: Firmware) {
        if self.cloud_firmware.as_ref() != Some(&firmware) {
            self.cloud_firmware = Some(firmware);
            self.firmware_unpublished = true;
        }
    }

    /// The state's `firmware_update` object.
    fn update(&self) -> Update {
        Update::of(self.firmware(), self.cloud_firmware.as_ref())
    }

    /// No push for `anova.stale_after`: offline.
    pub(crate) fn mark_stale(&mut self) {
        tracing::info!(device = %self.id, "no state from the {} for anova.stale_after: offline", F::NOUN);
        self.stale = true;
    }

    /// Publishes availability and state when they changed (or always, `force`).
    pub(crate) fn publish(&mut self, ctx: Ctx<'_>, out: &mut Outbox, force: bool) {
        let available = self.available(ctx.link_shown_up);
        if force || self.memo.availability != Some(available) {
            if out.mqtt_connected {
                self.memo.availability = Some(available);
            }
            let payload = if available { "online" } else { "offline" };
            out.publish(ctx.topics.availability(&self.id), payload.into(), true);
        }
        let Some(state) = &self.state else {
            return;
        };
        let preset = self.preset.shown(F::cooking(state));
        let state = F::publishable(state, &self.memory, available);
        let due = match &self.memo.state {
            None => true,
            Some((last, last_preset, at)) => {
                F::differs(last, &state)
                    || last_preset.as_deref() != preset
                    || self.firmware_unpublished
                    || ctx.now.instant.saturating_duration_since(*at) >= STATE_REFRESH
            }
        };
        if force || due {
            // Serialising our own state cannot fail in practice; if it ever did, nothing is
            // published, because an empty payload on a retained topic would delete it.
            let update = self.update();
            let shown = Published {
                state: &state,
                preset,
                update: &update,
            };
            match serde_json::to_string(&shown) {
                Ok(payload) => {
                    out.stream(StreamMessage::State(&self.id, &payload));
                    out.publish(ctx.topics.state(&self.id), payload, true);
                }
                Err(e) => tracing::error!(device = %self.id, "state not published: {e}"),
            }
            if out.mqtt_connected {
                self.memo.state = Some((state, preset.map(str::to_owned), ctx.now.instant));
                self.firmware_unpublished = false;
            }
        }
    }

    /// The device's discovery messages (`presets`: the names of its family's presets);
    /// remembers the firmware they carry when they go out.
    pub(crate) fn discovery(
        &mut self,
        ctx: &DiscoveryContext<'_>,
        sent: bool,
        presets: &[String],
    ) -> Vec<DiscoveryMessage> {
        let firmware = self.firmware().map(str::to_owned);
        let messages = F::discovery(
            ctx,
            &DiscoveryDevice {
                id: &self.id,
                name: &self.info.name,
                device_type: &self.info.device_type,
                firmware: firmware.as_deref(),
                presets,
            },
            &self.limits,
        );
        if sent {
            self.memo.discovery_firmware = Some(firmware);
        }
        messages
    }

    /// The entry of `bridge/devices`.
    pub(crate) fn device_entry(&self, link_up: bool) -> DeviceEntry<'_> {
        let limits = F::limits_entry(&self.limits);
        DeviceEntry {
            id: &self.id,
            cloud_id: &self.info.cloud_id,
            name: &self.info.name,
            model: self.info.device_type.as_str(),
            firmware: self.firmware(),
            online: self.available(link_up),
            min_temperature_c: limits.min_temperature_c,
            max_temperature_c: limits.max_temperature_c,
            max_timer_s: limits.max_timer_s,
        }
    }

    /// When the unchanged state is due to be republished.
    pub(crate) fn refresh_deadline(&self, mqtt_connected: bool) -> Option<Instant> {
        self.memo
            .state
            .as_ref()
            .filter(|_| mqtt_connected)
            .map(|(_, _, at)| *at + STATE_REFRESH)
    }

    /// The device as the API shows it: its `bridge/devices` entry with its `state` (`null`
    /// before the first push).
    pub(crate) fn view(&self, link_up: bool) -> Value {
        let mut entry = serde_json::to_value(self.device_entry(link_up)).unwrap_or(Value::Null);
        let state = self.state.as_ref().and_then(|state| {
            let preset = self.preset.shown(F::cooking(state));
            let state = F::publishable(state, &self.memory, self.available(link_up));
            serde_json::to_value(Published {
                state: &state,
                preset,
                update: &self.update(),
            })
            .ok()
        });
        if let Value::Object(map) = &mut entry {
            map.insert("state".into(), state.unwrap_or(Value::Null));
            map.insert(
                "cook_id".into(),
                self.cook.current().map_or(Value::Null, Value::from),
            );
        }
        entry
    }

    /// The current (or last) cook's temperatures.
    pub(crate) fn history(&self) -> Value {
        let mut json = self.cook.chart.to_json();
        if let Value::Object(map) = &mut json {
            map.insert(
                "cook_id".into(),
                self.cook.current().map_or(Value::Null, Value::from),
            );
            map.insert("device".into(), Value::from(self.id.as_str()));
        }
        json
    }
}
