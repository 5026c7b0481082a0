//! The heart of the daemon, kept sans-IO: a state machine whose inputs are cloud events, MQTT
//! messages, API commands and clock ticks, and whose outputs are publishes, cloud commands and
//! API replies.
//!
//! Nothing in here touches a socket, sleeps, or reads a clock or a random source: the driver
//! (`crate::daemon`) feeds [`Input`]s with the current time, drains [`Output`]s with
//! [`Bridge::poll_output`], and wakes the bridge again at [`Bridge::poll_timeout`]. That makes
//! every rule of `interface.md` a fast, deterministic unit test (`tests/`).
//!
//! The bridge routes; each device's life (state, command queue, publish memo) is its own
//! machine (`machine`), of the family its type names (`appliance`). The bridge keeps what is
//! not one device's: the cloud link, the broker connection, discovery bookkeeping, bridge
//! requests, and the deadlines of every device.

mod appliance;
mod deadlines;
mod discovery;
mod io;
mod link;
mod machine;
mod outbox;
mod requests;

#[cfg(test)]
mod tests;

pub use io::{ApiTicket, Input, Now, Origin, Output, Publish, Qos, Ticket};
pub use machine::{MAX_QUEUED, STATE_REFRESH};

use crate::appliance::{DeviceInfo, Kind};
use crate::cloud::{CloudError, CloudEvent, DeviceState, LinkState};
use crate::command::{
    id_of, parse_envelope, parse_plain, CallerId, CommandError, ErrorCode, Outcome, Response,
    RETAINED_REFUSAL,
};
use crate::homeassistant::{self, DiscoveryContext, DiscoveryMode};
use crate::topics::{cooker_topic_id, Incoming, Topics};
use crate::wire::DeviceType;
use appliance::Appliance;
use deadlines::Deadlines;
use discovery::{other_mode, DiscoveryBook, BRIDGE_NODE};
use link::{Link, LinkEvent};
use machine::{rfc3339, Ctx, Request, Settings};
use outbox::Outbox;
use requests::BridgeOp;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long to wait after Home Assistant says `online` before republishing: it has just
/// subscribed, and several births in a row (restarts) collapse into one republish.
pub const HA_REPUBLISH_DELAY: Duration = Duration::from_secs(1);

/// After a `refresh` request the devices keep their availability this long while the link
/// reconnects, so a deliberate reconnect does not make them flap `offline`/`online`.
pub const REFRESH_GRACE: Duration = Duration::from_secs(15);

/// Home Assistant settings the bridge needs.
#[derive(Debug, Clone, PartialEq)]
pub struct HomeAssistant {
    /// `homeassistant.discovery_prefix`.
    pub discovery_prefix: String,
    /// `homeassistant.discovery_mode`.
    pub mode: DiscoveryMode,
    /// `homeassistant.status_topic`.
    pub status_topic: String,
}

/// What the bridge needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeConfig {
    /// `mqtt.base_topic`.
    pub base_topic: String,
    /// Discovery settings; `None` when `homeassistant.enabled` is false.
    pub homeassistant: Option<HomeAssistant>,
    /// `anova.command_timeout`: a command waits at most this long for its turn.
    pub command_timeout: Duration,
    /// `anova.confirm_timeout`.
    pub confirm_timeout: Duration,
    /// `limits.commands_per_minute`.
    pub commands_per_minute: u32,
    /// `safety.max_temperature_c`.
    pub max_temperature_c: Option<f64>,
    /// Our version, for `bridge/info`.
    pub version: String,
    /// Seeds the ids the bridge generates (the driver picks it at random; tests fix it).
    pub seed: u64,
}

/// The bridge state machine.
#[derive(Debug)]
pub struct Bridge {
    config: BridgeConfig,
    settings: Settings,
    topics: Topics,
    started_at: OffsetDateTime,
    /// Devices by topic id; a `BTreeMap` so output order is stable.
    devices: BTreeMap<String, Appliance>,
    /// `cookerId` → topic id.
    ids: HashMap<String, String>,
    link: Link,
    /// The cloud's device list has arrived at least once.
    synced: bool,
    discovery: DiscoveryBook,
    republish_at: Option<Instant>,
    /// Until then, a `refresh` is reconnecting: availability holds.
    refresh_grace_until: Option<Instant>,
    last_info: Option<String>,
    last_devices: Option<String>,
    deadlines: Deadlines,
    out: Outbox,
}

impl Bridge {
    /// A bridge that has seen nothing yet.
    pub fn new(config: BridgeConfig, now: Now) -> Self {
        let topics = Topics::new(config.base_topic.clone());
        let settings = Settings {
            command_timeout: config.command_timeout,
            confirm_timeout: config.confirm_timeout,
            commands_per_minute: config.commands_per_minute,
            max_temperature_c: config.max_temperature_c,
        };
        let out = Outbox::new(config.seed);
        Self {
            config,
            settings,
            topics,
            started_at: now.wall,
            devices: BTreeMap::new(),
            ids: HashMap::new(),
            link: Link::new(),
            synced: false,
            discovery: DiscoveryBook::default(),
            republish_at: None,
            refresh_grace_until: None,
            last_info: None,
            last_devices: None,
            deadlines: Deadlines::default(),
            out,
        }
    }

    /// The topic tree.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// The next output to carry out.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// When the bridge next needs an [`Input::Tick`], if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.deadlines.next(),
            self.republish_at,
            self.refresh_grace_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// True when the cloud link is up.
    pub fn cloud_connected(&self) -> bool {
        self.link.up()
    }

    /// The number of known devices.
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// Every device as the API shows it: its `bridge/devices` entry with its `state`.
    pub fn device_views(&self) -> Value {
        let shown = self.link_shown_up();
        Value::Array(self.devices.values().map(|d| d.view(shown)).collect())
    }

    /// One device as the API shows it; `None` for an unknown topic id.
    pub fn device_view(&self, id: &str) -> Option<Value> {
        let shown = self.link_shown_up();
        self.devices.get(id).map(|d| d.view(shown))
    }

    /// The current (or last) cook's temperatures of one device, for the web page's chart.
    pub fn device_history(&self, id: &str) -> Option<Value> {
        self.devices.get(id).map(Appliance::history)
    }

    /// A one-line status for systemd's `STATUS=`.
    pub fn status_line(&self) -> String {
        let shown = self.link_shown_up();
        let online = self.devices.values().filter(|d| d.available(shown)).count();
        format!(
            "cloud {}, broker {}, {} cooker(s), {} online",
            self.link.status.as_str(),
            if self.out.mqtt_connected {
                "connected"
            } else {
                "disconnected"
            },
            self.devices.len(),
            online
        )
    }

    /// Feeds one input.
    pub fn handle(&mut self, now: Now, input: Input) {
        match input {
            Input::Cloud(event) => self.on_cloud(now, event),
            Input::MqttConnected => self.on_mqtt_connected(now),
            Input::MqttDisconnected => {
                self.out.mqtt_connected = false;
                self.reschedule_all();
            }
            Input::Mqtt {
                topic,
                payload,
                retained,
            } => self.on_mqtt(now, &topic, &payload, retained),
            Input::ApiCommand {
                ticket,
                device,
                payload,
            } => self.on_api_command(now, ticket, &device, &payload),
            Input::CloudResult { ticket, result } => self.on_cloud_result(now, ticket, result),
            Input::Tick => {}
        }
        self.run_due(now);
    }

    /// Everything to publish before the daemon stops: every device's availability
    /// `offline`, so nothing retained says a device is reachable; with `purge` (the demo),
    /// every retained topic and discovery config this bridge published is removed instead.
    pub fn shutdown(&mut self, purge: bool) {
        let ids: Vec<String> = self.devices.keys().cloned().collect();
        if purge {
            for id in &ids {
                self.remove_retained(id);
            }
            if let Some(ctx) = self.discovery_context() {
                for m in homeassistant::bridge_removal(&ctx) {
                    self.out.publish(m.topic, m.payload, true);
                }
            }
            self.out
                .publish(self.topics.bridge_info(), String::new(), true);
            self.out
                .publish(self.topics.bridge_devices(), String::new(), true);
        } else {
            for id in &ids {
                self.out
                    .publish(self.topics.availability(id), "offline".into(), true);
            }
        }
    }

    // --- helpers ---------------------------------------------------------------------------

    /// The link as availability shows it: up, or reconnecting after a `refresh`.
    fn link_shown_up(&self) -> bool {
        self.link.up() || self.refresh_grace_until.is_some()
    }

    /// Runs `f` on one device's machine, then files its next deadline.
    fn with_device<R>(
        &mut self,
        now: Now,
        id: &str,
        f: impl FnOnce(&mut Appliance, Ctx<'_>, &mut Outbox) -> R,
    ) -> Option<R> {
        let ctx = Ctx {
            now,
            link_up: self.link.up(),
            link_shown_up: self.link.up() || self.refresh_grace_until.is_some(),
            topics: &self.topics,
            settings: &self.settings,
        };
        let device = self.devices.get_mut(id)?;
        let result = f(device, ctx, &mut self.out);
        let next = device.next_deadline(&self.settings, self.out.mqtt_connected);
        self.deadlines.set(id, next);
        Some(result)
    }

    /// Runs `f` on every device (link changes, republishing).
    fn each_device(&mut self, now: Now, mut f: impl FnMut(&mut Appliance, Ctx<'_>, &mut Outbox)) {
        let ids: Vec<String> = self.devices.keys().cloned().collect();
        for id in ids {
            self.with_device(now, &id, |d, ctx, out| f(d, ctx, out));
        }
    }

    /// Re-files every device's deadline (the broker connection changes refresh deadlines).
    fn reschedule_all(&mut self) {
        for (id, device) in &self.devices {
            self.deadlines.set(
                id,
                device.next_deadline(&self.settings, self.out.mqtt_connected),
            );
        }
    }

    /// Ticks the devices whose deadline passed, and the bridge's own timers.
    fn run_due(&mut self, now: Now) {
        if self.republish_at.is_some_and(|at| at <= now.instant) {
            self.republish_at = None;
            self.republish_all(now);
        }
        if self.refresh_grace_until.is_some_and(|at| at <= now.instant) {
            self.refresh_grace_until = None;
            if !self.link.up() {
                self.each_device(now, |d, ctx, out| d.publish(ctx, out, false));
                self.publish_devices(false);
            }
        }
        while let Some(id) = self.deadlines.pop_due(now.instant) {
            self.with_device(now, &id, |d, ctx, out| d.on_tick(ctx, out));
        }
    }

    // --- publishing ------------------------------------------------------------------------

    fn publish_info(&mut self, force: bool) {
        let info = json!({
            "version": self.config.version,
            "started_at": rfc3339(self.started_at),
            "cloud": self.link.status.as_str(),
            "devices": self.devices.len(),
            "reconnects": self.link.reconnects,
            "last_error": self.link.last_error,
        })
        .to_string();
        if force || self.last_info.as_deref() != Some(info.as_str()) {
            self.last_info = Some(info.clone());
            self.out.publish(self.topics.bridge_info(), info, true);
        }
    }

    fn publish_devices(&mut self, force: bool) {
        // Before the cloud's list arrives we do not know the devices; an empty list would
        // mislead consumers (and erase what the last run left for cleanup).
        if !self.synced {
            return;
        }
        let shown = self.link_shown_up();
        let devices: Vec<Value> = self
            .devices
            .values()
            .map(|d| d.device_entry(shown))
            .collect();
        let devices = Value::Array(devices).to_string();
        if force || self.last_devices.as_deref() != Some(devices.as_str()) {
            self.last_devices = Some(devices.clone());
            self.out
                .publish(self.topics.bridge_devices(), devices, true);
        }
    }

    fn bridge_event(&mut self, event: &str, mut extra: Map<String, Value>) {
        extra.insert("event".into(), Value::from(event));
        self.out.publish(
            self.topics.bridge_event(),
            Value::Object(extra).to_string(),
            false,
        );
    }

    fn discovery_context(&self) -> Option<DiscoveryContext<'_>> {
        self.config
            .homeassistant
            .as_ref()
            .map(|ha| DiscoveryContext {
                prefix: &ha.discovery_prefix,
                mode: ha.mode,
                topics: &self.topics,
            })
    }

    fn publish_bridge_discovery(&mut self) {
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
    fn publish_device_discovery(&mut self, id: &str) {
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
        let mut all = self.discovery.prepare(&ctx, &mut self.out, id, other);
        all.extend(device.discovery(&ctx, self.out.mqtt_connected));
        for m in all {
            self.out.publish(m.topic, m.payload, true);
        }
    }

    /// Everything retained, again: after a broker connect, a Home Assistant birth, or the
    /// `republish` request.
    fn republish_all(&mut self, now: Now) {
        self.out
            .publish(self.topics.bridge_state(), "online".into(), true);
        self.publish_bridge_discovery();
        let ids: Vec<String> = self.devices.keys().cloned().collect();
        for id in &ids {
            self.publish_device_discovery(id);
        }
        self.publish_info(true);
        self.publish_devices(true);
        self.each_device(now, |d, ctx, out| d.publish(ctx, out, true));
    }

    /// Clears a device's discovery and retained topics.
    fn remove_retained(&mut self, id: &str) {
        if let Some(ctx) = self.discovery_context() {
            // Any family's removal names every entity topic a device of that family has;
            // a device we no longer know is removed as a cooker (the family of every earlier
            // release).
            let messages = match self.devices.get(id) {
                Some(device) => device.removal(&ctx, id),
                None => crate::sous_vide::discovery::cooker_removal(&ctx, id),
            };
            for m in messages {
                self.out.publish(m.topic, m.payload, true);
            }
        }
        self.out.publish(self.topics.state(id), String::new(), true);
        self.out
            .publish(self.topics.availability(id), String::new(), true);
    }

    // --- MQTT ------------------------------------------------------------------------------

    fn on_mqtt_connected(&mut self, now: Now) {
        self.out.mqtt_connected = true;
        self.discovery.broker_connected();
        let mut filters = self.topics.subscriptions();
        if let Some(ha) = &self.config.homeassistant {
            filters.push(ha.status_topic.clone());
        }
        self.out.push(Output::Subscribe(filters));
        self.republish_all(now);
        self.reschedule_all();
    }

    fn on_mqtt(&mut self, now: Now, topic: &str, payload: &[u8], retained: bool) {
        let ha_status = self
            .config
            .homeassistant
            .as_ref()
            .is_some_and(|ha| ha.status_topic == topic);
        if ha_status {
            // A retained birth is an old one; we republish on every connect anyway.
            if !retained && payload.trim_ascii().eq_ignore_ascii_case(b"online") {
                tracing::info!("Home Assistant came online; republishing discovery and state");
                self.republish_at = Some(now.instant + HA_REPUBLISH_DELAY);
            }
            return;
        }
        if retained && !payload.is_empty() && self.discovery.watches(topic) {
            tracing::info!(topic, "clearing a device-mode discovery config left from before the switch to entity mode");
            self.out.publish(topic.to_owned(), String::new(), true);
            return;
        }
        let incoming = self.topics.parse(topic);
        if payload.is_empty()
            && matches!(
                incoming,
                Some(Incoming::Set { .. } | Incoming::SetKey { .. })
            )
        {
            // An empty message is how a retained command is cleared, not a command.
            tracing::debug!(topic, "empty payload on a command topic ignored");
            return;
        }
        match incoming {
            Some(Incoming::Set { id }) => {
                let id = id.to_owned();
                self.on_json_command(now, &id, Origin::Mqtt, payload, retained);
            }
            Some(Incoming::SetKey { id, key }) => {
                let (id, key) = (id.to_owned(), key.to_owned());
                self.on_key_command(now, &id, &key, payload, retained);
            }
            Some(Incoming::BridgeRequest { op }) => {
                let op = op.to_owned();
                self.on_bridge_request(now, &op, payload, retained);
            }
            Some(Incoming::BridgeDevices) if retained => self.on_previous_devices(payload),
            Some(Incoming::BridgeDevices) => {}
            None => tracing::debug!(
                topic,
                "message on a topic the bridge does not serve; ignored"
            ),
        }
    }

    fn on_api_command(&mut self, now: Now, ticket: ApiTicket, device: &str, payload: &[u8]) {
        self.on_json_command(now, device, Origin::Api(ticket), payload, false);
    }

    /// A failure answered before any device looked at the command.
    fn refuse(
        &mut self,
        now: Now,
        device: &str,
        origin: Origin,
        id: Option<CallerId>,
        error: CommandError,
    ) {
        let id = id.unwrap_or_else(|| {
            CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()))
        });
        tracing::info!(device, id = %id.text(), code = %error.code, "command refused: {}", error.message);
        let response = Response::failed(id, error);
        self.out
            .respond(origin, self.topics.response(device), response);
    }

    fn unknown_device(&self, id: &str) -> CommandError {
        let known: Vec<&str> = self.devices.keys().map(String::as_str).collect();
        CommandError::new(
            ErrorCode::DeviceOffline,
            if known.is_empty() {
                format!("no device {id:?} is known (no devices yet)")
            } else {
                format!(
                    "no device {id:?} is known; the devices are {}",
                    known.join(", ")
                )
            },
        )
    }

    fn on_json_command(
        &mut self,
        now: Now,
        device: &str,
        origin: Origin,
        payload: &[u8],
        retained: bool,
    ) {
        if retained {
            let error = CommandError::new(ErrorCode::RetainedCommand, RETAINED_REFUSAL);
            return self.refuse(now, device, origin, id_of(payload), error);
        }
        let envelope = match parse_envelope(payload) {
            Ok(envelope) => envelope,
            Err(refusal) => return self.refuse(now, device, origin, refusal.id, refusal.error),
        };
        if !self.devices.contains_key(device) {
            let error = self.unknown_device(device);
            return self.refuse(now, device, origin, envelope.id, error);
        }
        let id = envelope.id.unwrap_or_else(|| {
            CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()))
        });
        let request = Request::Object(&envelope.fields);
        self.with_device(now, device, |d, ctx, out| {
            d.on_command(ctx, out, id, origin, request)
        });
    }

    fn on_key_command(
        &mut self,
        now: Now,
        device: &str,
        key: &str,
        payload: &[u8],
        retained: bool,
    ) {
        let origin = Origin::Mqtt;
        if retained {
            let error = CommandError::new(ErrorCode::RetainedCommand, RETAINED_REFUSAL);
            return self.refuse(now, device, origin, None, error);
        }
        let text = match parse_plain(key, payload) {
            Ok(text) => text,
            Err(error) => return self.refuse(now, device, origin, None, error),
        };
        if !self.devices.contains_key(device) {
            let error = self.unknown_device(device);
            return self.refuse(now, device, origin, None, error);
        }
        let id = CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()));
        let request = Request::Key { key, text: &text };
        self.with_device(now, device, |d, ctx, out| {
            d.on_command(ctx, out, id, origin, request)
        });
    }

    /// Our retained `bridge/devices` from an earlier run: devices listed there but no longer
    /// on the account get their discovery and retained topics removed once the cloud's list
    /// is known; until then they are marked offline rather than left looking alive.
    fn on_previous_devices(&mut self, payload: &[u8]) {
        let Ok(Value::Array(entries)) = serde_json::from_slice::<Value>(payload) else {
            return;
        };
        let ids: BTreeSet<String> = entries
            .iter()
            .filter_map(|e| e.get("cooker_id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        // The cooker list's sync decides what left the account; an oven of an earlier run is
        // only marked offline (no sync says that the oven list is complete).
        let cookers: BTreeSet<String> = entries
            .iter()
            .filter(|e| {
                let model = e.get("model").and_then(Value::as_str).unwrap_or_default();
                Kind::of(&DeviceType::new(model)) != Some(Kind::Oven)
            })
            .filter_map(|e| e.get("cooker_id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        if self.synced {
            self.discovery.previous_run = Some(cookers);
            self.clean_up_previous_run();
            return;
        }
        for cooker_id in &ids {
            if !self.ids.contains_key(cooker_id) {
                let id = cooker_topic_id(cooker_id);
                self.out
                    .publish(self.topics.availability(&id), "offline".into(), true);
            }
        }
        self.discovery.previous_run = Some(cookers);
    }

    fn clean_up_previous_run(&mut self) {
        let Some(previous) = self.discovery.previous_run.take() else {
            return;
        };
        for cooker_id in previous {
            if !self.ids.contains_key(&cooker_id) {
                tracing::info!(
                    cooker_id,
                    "removing a device that left the account while we were away"
                );
                self.remove_retained(&cooker_topic_id(&cooker_id));
            }
        }
    }

    fn on_bridge_request(&mut self, now: Now, op: &str, payload: &[u8], retained: bool) {
        let topic = self.topics.bridge_response(op);
        let id = id_of(payload).unwrap_or_else(|| {
            CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()))
        });
        let result = if retained {
            Err(CommandError::new(
                ErrorCode::RetainedCommand,
                RETAINED_REFUSAL,
            ))
        } else {
            requests::check_payload(payload)
                .and_then(|()| BridgeOp::parse(op))
                .map(|op| match op {
                    BridgeOp::HealthCheck => self.health(now),
                    BridgeOp::Republish => {
                        self.republish_all(now);
                        json!({"cookers": self.devices.len()})
                    }
                    BridgeOp::Refresh => {
                        self.refresh_grace_until = Some(now.instant + REFRESH_GRACE);
                        self.out.push(Output::ReconnectCloud);
                        json!({})
                    }
                })
        };
        let outcome = match result {
            Ok(data) => Outcome::Data(data),
            Err(error) => Outcome::Failed(error),
        };
        let response = Response { id, outcome };
        self.out.publish(topic, response.to_json(), false);
    }

    fn health(&self, now: Now) -> Value {
        let shown = self.link_shown_up();
        json!({
            "healthy": self.link.up() && self.out.mqtt_connected,
            "cloud": self.link.status.as_str(),
            "mqtt": if self.out.mqtt_connected { "connected" } else { "disconnected" },
            "devices": self.devices.len(),
            "online": self.devices.values().filter(|d| d.available(shown)).count(),
            "uptime_s": (now.wall - self.started_at).whole_seconds().max(0),
            "reconnects": self.link.reconnects,
            "last_error": self.link.last_error,
        })
    }

    // --- cloud -----------------------------------------------------------------------------

    fn on_cloud_result(&mut self, now: Now, ticket: Ticket, result: Result<(), CloudError>) {
        let Some(id) = self.out.take_ticket(ticket) else {
            return;
        };
        self.with_device(now, &id, |d, ctx, out| {
            d.on_result(ctx, out, ticket, result)
        });
    }

    fn on_cloud(&mut self, now: Now, event: CloudEvent) {
        match event {
            CloudEvent::Link(link) => self.on_link(now, link),
            CloudEvent::DeviceAdded(info) => self.on_device_added(now, info),
            CloudEvent::DeviceRemoved { cooker_id } => self.on_device_removed(now, &cooker_id),
            CloudEvent::DeviceListSynced => {
                self.synced = true;
                self.clean_up_previous_run();
                self.publish_devices(false);
            }
            CloudEvent::State { cooker_id, state } => self.on_state(now, &cooker_id, state),
            CloudEvent::Stale { cooker_id } => {
                if let Some(id) = self.ids.get(&cooker_id).cloned() {
                    self.with_device(now, &id, |d, ctx, out| d.on_stale(ctx, out));
                    self.publish_devices(false);
                }
            }
        }
    }

    fn on_link(&mut self, now: Now, link: LinkState) {
        let was_up = self.link.up();
        let was_shown = self.link_shown_up();
        match self.link.change(link) {
            Some(LinkEvent::Connected) => self.bridge_event("cloud_connected", Map::new()),
            Some(LinkEvent::Disconnected { reason }) => {
                let mut extra = Map::new();
                extra.insert("reason".into(), Value::from(reason));
                self.bridge_event("cloud_disconnected", extra);
            }
            Some(LinkEvent::AuthFailed { reason }) => {
                let mut extra = Map::new();
                extra.insert("reason".into(), Value::from(reason));
                self.bridge_event("auth_failed", extra);
            }
            None => {}
        }
        if self.link.up() {
            // Reconnected: a refresh's grace is over.
            self.refresh_grace_until = None;
        }
        self.publish_info(false);
        if was_up && !self.link.up() {
            self.each_device(now, |d, ctx, out| d.on_link_down(ctx, out));
        }
        if was_shown != self.link_shown_up() {
            self.each_device(now, |d, ctx, out| d.publish(ctx, out, false));
            self.publish_devices(false);
        }
    }

    fn on_device_added(&mut self, now: Now, info: DeviceInfo) {
        let id = cooker_topic_id(&info.cooker_id);
        if let Some(existing) = self.ids.get(&info.cooker_id).cloned() {
            // A rename or a type change: keep the state, refresh discovery (a device that
            // changed family starts anew).
            if let Some(device) = self.devices.get_mut(&existing) {
                if device.fits(&info) {
                    device.rename(info, &self.settings);
                } else {
                    *device = Appliance::new(info, existing.clone(), &self.settings);
                }
            }
            self.publish_device_discovery(&existing);
            self.publish_devices(false);
            return;
        }
        if self.devices.contains_key(&id) {
            tracing::warn!(
                cooker_id = info.cooker_id,
                topic_id = id,
                "two devices share one topic id; ignoring the second"
            );
            return;
        }
        tracing::info!(device = %id, name = info.name, model = %info.device_type, "device added");
        let mut extra = Map::new();
        extra.insert("id".into(), Value::from(id.as_str()));
        extra.insert("cooker_id".into(), Value::from(info.cooker_id.as_str()));
        extra.insert("name".into(), Value::from(info.name.as_str()));
        extra.insert("model".into(), Value::from(info.device_type.as_str()));
        self.ids.insert(info.cooker_id.clone(), id.clone());
        self.devices
            .insert(id.clone(), Appliance::new(info, id.clone(), &self.settings));
        self.bridge_event("device_added", extra);
        self.publish_device_discovery(&id);
        self.with_device(now, &id, |d, ctx, out| d.publish(ctx, out, false));
        self.publish_info(false);
        self.publish_devices(false);
    }

    fn on_device_removed(&mut self, now: Now, cooker_id: &str) {
        let Some(id) = self.ids.remove(cooker_id) else {
            return;
        };
        tracing::info!(device = %id, "device removed from the account");
        self.with_device(now, &id, |d, ctx, out| d.on_removed(ctx, out));
        self.remove_retained(&id);
        self.devices.remove(&id);
        self.deadlines.set(&id, None);
        let mut extra = Map::new();
        extra.insert("id".into(), Value::from(id.as_str()));
        extra.insert("cooker_id".into(), Value::from(cooker_id));
        self.bridge_event("device_removed", extra);
        self.publish_info(false);
        self.publish_devices(false);
    }

    fn on_state(&mut self, now: Now, cooker_id: &str, state: DeviceState) {
        let Some(id) = self.ids.get(cooker_id).cloned() else {
            tracing::debug!(
                cooker_id,
                "state for a device not in the device list; ignored"
            );
            return;
        };
        let Some(news) = self.with_device(now, &id, |d, ctx, out| d.on_state(ctx, out, state))
        else {
            return;
        };
        if news.discovery_outdated {
            self.publish_device_discovery(&id);
        }
        // `bridge/devices` only changes with a device's availability or firmware; do not
        // rebuild it for every push.
        if news.firmware_news || news.availability_changed {
            self.publish_devices(false);
        }
    }
}
