//! One device's life in the core, the way quinn separates a connection from its endpoint: the
//! device owns its state, what it remembers between commands, its command queue and the
//! command it is running, and the memo of what it last published. The bridge only routes to
//! it. Generic over the device [`Family`]; every family rule is a call into the family.
//!
//! - `commands.rs`: the queue and each command's lifecycle.
//! - this file: state pushes, availability, publishing, cook events, discovery input.

mod commands;
mod history;

pub(crate) use commands::Request;
pub use commands::MAX_QUEUED;

use super::io::Now;
use super::outbox::Outbox;
use crate::appliance::family::{DiscoveryDevice, Family};
use crate::appliance::DeviceInfo;
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::sous_vide::wire::CookerRef;
use crate::topics::Topics;
use commands::Commands;
use history::History;
use serde_json::{Map, Value};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A device's unchanged state is republished at most this often, to refresh `updated_at`.
pub const STATE_REFRESH: Duration = Duration::from_secs(60);

/// The settings every device machine uses.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `anova.command_timeout`: the longest a command waits for its turn, and for a RESPONSE.
    pub(crate) command_timeout: Duration,
    /// `anova.confirm_timeout`.
    pub(crate) confirm_timeout: Duration,
    /// `limits.commands_per_minute`.
    pub(crate) commands_per_minute: u32,
    /// `safety.max_temperature_c`.
    pub(crate) max_temperature_c: Option<f64>,
}

/// What a machine needs to know about its surroundings for one step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The time of this step.
    pub(crate) now: Now,
    /// The cloud link is up: commands can be sent.
    pub(crate) link_up: bool,
    /// The link as availability shows it: up, or reconnecting after a `refresh`.
    pub(crate) link_shown_up: bool,
    /// The topic tree.
    pub(crate) topics: &'a Topics,
    /// Shared settings.
    pub(crate) settings: &'a Settings,
}

/// What the bridge must follow up after a state push.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StateNews {
    /// Availability changed (`bridge/devices`, the online count).
    pub(crate) availability_changed: bool,
    /// The firmware differs from what discovery last said: republish discovery.
    pub(crate) discovery_outdated: bool,
    /// The first state, or a firmware change: `bridge/devices` changes.
    pub(crate) firmware_news: bool,
}

/// What was last published for a device.
#[derive(Debug)]
struct Memo<S> {
    /// The last published state and when.
    state: Option<(S, Instant)>,
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

/// One device.
#[derive(Debug)]
pub(crate) struct Machine<F: Family> {
    /// Identity from the device list.
    info: DeviceInfo,
    /// The sanitised id used in topics.
    id: String,
    /// The cloud address of its commands.
    address: CookerRef,
    limits: F::Limits,
    /// The last state the cloud pushed.
    state: Option<F::State>,
    memory: F::Memory,
    /// No push for `anova.stale_after`.
    stale: bool,
    memo: Memo<F::State>,
    commands: Commands<F>,
    /// The current (or last) cook's temperatures, for the web page's chart.
    history: History,
}

impl<F: Family> Machine<F> {
    /// A newly listed device.
    pub(crate) fn new(info: DeviceInfo, id: String, settings: &Settings) -> Self {
        let limits = F::limits(&info.device_type, settings.max_temperature_c);
        let address = CookerRef {
            cooker_id: info.cooker_id.clone(),
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
            memo: Memo::default(),
            commands: Commands::default(),
            history: History::default(),
        }
    }

    /// A new name or type from the device list.
    pub(crate) fn rename(&mut self, info: DeviceInfo, settings: &Settings) {
        self.limits = F::limits(&info.device_type, settings.max_temperature_c);
        self.address.device_type = info.device_type.clone();
        self.info = info;
    }

    /// `online` when the cloud link is up, the device reports itself online, and its last
    /// push is fresher than `anova.stale_after` (`interface.md` §3).
    pub(crate) fn available(&self, link_up: bool) -> bool {
        link_up && !self.stale && self.state.as_ref().is_some_and(F::reports_online)
    }

    fn firmware(&self) -> Option<&str> {
        self.state.as_ref().and_then(F::firmware)
    }

    /// A state push.
    pub(crate) fn on_state(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        state: F::State,
    ) -> StateNews {
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
        let was_cooking = self.state.as_ref().is_some_and(F::cooking);
        if F::cooking(&state) {
            if !was_cooking {
                self.history.start(ctx.now.wall);
            }
            if let Some((temperature, target)) = F::chart(&state) {
                self.history.record(ctx.now.wall, temperature, target);
            }
        }
        let previous = self.state.replace(state);
        if let (Some(previous), Some(current)) = (&previous, &self.state) {
            for event in F::events(previous, current) {
                let mut payload = Map::new();
                payload.insert("event_type".into(), Value::from(event.kind.as_str()));
                payload.extend(F::event_payload(current));
                payload.insert("at".into(), Value::from(rfc3339(ctx.now.wall)));
                payload.extend(event.details);
                tracing::info!(device = %self.id, "cook event {}", event.kind.as_str());
                out.publish(
                    ctx.topics.event(&self.id),
                    Value::Object(payload).to_string(),
                    false,
                );
            }
        }
        // Confirm first: a confirmed command may change what we publish (pending values).
        self.check_confirmed(ctx, out);
        self.publish(ctx, out, false);
        self.pump(ctx, out);
        StateNews {
            availability_changed: was_available != self.available(ctx.link_shown_up),
            discovery_outdated,
            firmware_news,
        }
    }

    /// No push for `anova.stale_after`: offline, and whatever it was asked is answered.
    pub(crate) fn on_stale(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        tracing::info!(device = %self.id, "no state from the {} for anova.stale_after: offline", F::NOUN);
        self.stale = true;
        self.fail_all(ctx, out, commands::Failure::DeviceOffline);
        self.publish(ctx, out, false);
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
        let state = F::publishable(state, &self.memory, available);
        let due = match &self.memo.state {
            None => true,
            Some((last, at)) => {
                F::differs(last, &state)
                    || ctx.now.instant.saturating_duration_since(*at) >= STATE_REFRESH
            }
        };
        if force || due {
            out.publish_json(ctx.topics.state(&self.id), &state, true);
            if out.mqtt_connected {
                self.memo.state = Some((state, ctx.now.instant));
            }
        }
    }

    /// The device's discovery messages; remembers the firmware they carry when they go out.
    pub(crate) fn discovery(
        &mut self,
        ctx: &DiscoveryContext<'_>,
        sent: bool,
    ) -> Vec<DiscoveryMessage> {
        let firmware = self.firmware().map(str::to_owned);
        let messages = F::discovery(
            ctx,
            &DiscoveryDevice {
                id: &self.id,
                name: &self.info.name,
                device_type: &self.info.device_type,
                firmware: firmware.as_deref(),
            },
            &self.limits,
        );
        if sent {
            self.memo.discovery_firmware = Some(firmware);
        }
        messages
    }

    /// The entry of `bridge/devices`.
    pub(crate) fn device_entry(&self, link_up: bool) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), Value::from(self.id.as_str()));
        map.insert(
            "cooker_id".into(),
            Value::from(self.info.cooker_id.as_str()),
        );
        map.insert("name".into(), Value::from(self.info.name.as_str()));
        map.insert("model".into(), Value::from(self.info.device_type.as_str()));
        map.insert("firmware".into(), self.firmware().into());
        map.insert("online".into(), Value::from(self.available(link_up)));
        map.extend(F::limits_entry(&self.limits));
        Value::Object(map)
    }

    /// When this machine next needs a tick.
    pub(crate) fn next_deadline(
        &self,
        settings: &Settings,
        mqtt_connected: bool,
    ) -> Option<Instant> {
        let refresh = self
            .memo
            .state
            .as_ref()
            .filter(|_| mqtt_connected)
            .map(|(_, at)| *at + STATE_REFRESH);
        self.commands
            .next_deadline(settings)
            .into_iter()
            .chain(refresh)
            .min()
    }

    /// Time passed: command deadlines and the periodic state refresh.
    pub(crate) fn on_tick(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        self.expire(ctx, out);
        if out.mqtt_connected {
            self.publish(ctx, out, false);
        }
    }

    /// The cloud link dropped: every command, running or waiting, is answered and gone.
    pub(crate) fn on_link_down(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        self.fail_all(ctx, out, commands::Failure::LinkLost);
    }

    /// The device left the account: its commands are answered.
    pub(crate) fn on_removed(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        self.fail_all(ctx, out, commands::Failure::Removed);
    }

    /// The device as the API shows it: its `bridge/devices` entry with its `state` (`null`
    /// before the first push).
    pub(crate) fn view(&self, link_up: bool) -> Value {
        let mut entry = self.device_entry(link_up);
        let state = self.state.as_ref().and_then(|state| {
            serde_json::to_value(F::publishable(state, &self.memory, self.available(link_up))).ok()
        });
        if let Value::Object(map) = &mut entry {
            map.insert("state".into(), state.unwrap_or(Value::Null));
        }
        entry
    }

    /// The current (or last) cook's temperatures.
    pub(crate) fn history(&self) -> Value {
        let mut json = self.history.to_json();
        if let Value::Object(map) = &mut json {
            map.insert("device".into(), Value::from(self.id.as_str()));
        }
        json
    }
}

/// RFC 3339 to the second, UTC.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}
