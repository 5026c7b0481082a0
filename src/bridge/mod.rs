//! The heart of the daemon, kept sans-IO: a state machine whose inputs are cloud events, MQTT
//! messages and clock ticks, and whose outputs are publishes and cloud commands.
//!
//! Nothing in here touches a socket or sleeps. The driver (`crate::daemon`) feeds [`Input`]s in
//! with the current time, drains [`Output`]s with [`Bridge::poll_output`], and wakes the bridge
//! again at [`Bridge::poll_timeout`]. That makes every rule of `interface.md` §3 a fast,
//! deterministic unit test (see `tests.rs`).
//!
//! Commands run one at a time per cooker: each is validated, planned (`exec`), sent step by
//! step, and answered exactly once — when the state shows the change, at once for a pending
//! change, or at `anova.confirm_timeout`.

pub mod command;
pub mod cooker;
pub mod exec;
pub mod validate;

#[cfg(test)]
mod tests;

use crate::anova::client::{CloudEvent, CommandError as CloudError, LinkState};
use crate::anova::model::{limits as model_limits, CookerInfo, CookerState};
use crate::anova::protocol::ApcCommand;
use crate::homeassistant::{self, CookerDiscovery, DiscoveryContext, DiscoveryMode};
use crate::mqtt::topics::{cooker_topic_id, Incoming, Topics};
use command::{CommandError, CommandRequest, ErrorCode, ParseFailure};
use cooker::{cook_events, differs, Cooker};
use exec::{Active, Expect, Queued, Reply};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use validate::Limits;

/// How long to wait after Home Assistant says `online` before republishing: it has just
/// subscribed, and several births in a row (restarts) collapse into one republish.
pub const HA_REPUBLISH_DELAY: Duration = Duration::from_secs(1);

/// A cooker's unchanged state is republished at most this often, to refresh `updated_at`.
pub const STATE_REFRESH: Duration = Duration::from_secs(60);

/// The rate-limit window of `limits.commands_per_minute`.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// At most this many commands wait behind a cooker's running one; more is `rate_limited`.
pub const MAX_QUEUED: usize = 4;

/// The bridge request operations.
pub const BRIDGE_OPS: [&str; 3] = ["health_check", "republish", "refresh"];

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
    /// `anova.confirm_timeout`.
    pub confirm_timeout: Duration,
    /// `limits.commands_per_minute`.
    pub commands_per_minute: u32,
    /// `safety.max_temperature_c`.
    pub max_temperature_c: Option<f64>,
    /// Our version, for `bridge/info`.
    pub version: String,
}

/// The current time, both clocks: monotonic for deadlines, wall for what we publish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// For deadlines.
    pub instant: Instant,
    /// For timestamps.
    pub wall: OffsetDateTime,
}

impl Now {
    /// The real current time.
    pub fn system() -> Self {
        Self {
            instant: Instant::now(),
            wall: OffsetDateTime::now_utc(),
        }
    }
}

/// Identifies a cloud command the driver runs for us; its result comes back with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The cloud client reported something.
    Cloud(CloudEvent),
    /// The broker accepted our connection (again): subscribe and republish everything.
    MqttConnected,
    /// The broker connection dropped.
    MqttDisconnected,
    /// A message on a topic we subscribed to.
    Mqtt {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
        /// The retain flag (a retained command is never executed).
        retained: bool,
    },
    /// The result of a cloud command from [`Output::Cloud`].
    CloudResult {
        /// Which command.
        ticket: Ticket,
        /// The cloud's answer.
        result: Result<(), CloudError>,
    },
    /// Time passed (wake-ups at [`Bridge::poll_timeout`]).
    Tick,
}

/// The MQTT quality of service of a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qos {
    /// Fire and forget.
    AtMostOnce,
    /// Acknowledged; what everything in the contract uses.
    AtLeastOnce,
}

/// One MQTT publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Payload (empty removes a retained message).
    pub payload: String,
    /// Retained.
    pub retain: bool,
    /// QoS.
    pub qos: Qos,
}

/// Something for the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Subscribe to these topic filters (after every broker connect).
    Subscribe(Vec<String>),
    /// Publish.
    Publish(Publish),
    /// Send a command to the cloud and report its result as [`Input::CloudResult`].
    Cloud {
        /// Correlates the result.
        ticket: Ticket,
        /// The command.
        command: ApcCommand,
    },
    /// Drop the cloud connection and reconnect (the `refresh` request).
    ReconnectCloud,
}

/// The cloud link as `bridge/info` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloudStatus {
    Connecting,
    Connected,
    AuthFailed,
    Disconnected,
}

impl CloudStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::AuthFailed => "auth_failed",
            Self::Disconnected => "disconnected",
        }
    }
}

/// The bridge state machine.
#[derive(Debug)]
pub struct Bridge {
    config: BridgeConfig,
    topics: Topics,
    started_at: OffsetDateTime,
    /// Cookers by topic id; a `BTreeMap` so output order is stable.
    cookers: BTreeMap<String, Cooker>,
    /// `cookerId` → topic id.
    ids: HashMap<String, String>,
    cloud: CloudStatus,
    ever_connected: bool,
    reconnects: u64,
    last_error: Option<String>,
    /// The cloud's device list has arrived at least once.
    synced: bool,
    mqtt_connected: bool,
    /// Cookers our retained `bridge/devices` listed in an earlier run, until cleaned up.
    previous_run: Option<BTreeSet<String>>,
    /// Device mode: the devices (topic ids, `bridge` for ours) whose entity-mode topics were
    /// already cleared in this process.
    entity_topics_cleared: BTreeSet<String>,
    /// Entity mode: the device-mode topics we watch for a stale retained config (since the
    /// last broker connect; subscriptions do not survive a reconnect).
    device_topics_watched: BTreeSet<String>,
    republish_at: Option<Instant>,
    last_info: Option<String>,
    last_devices: Option<String>,
    next_ticket: u64,
    /// Cloud commands in flight → the cooker (topic id) whose active command sent it.
    in_flight: HashMap<Ticket, String>,
    outputs: VecDeque<Output>,
}

impl Bridge {
    /// A bridge that has seen nothing yet.
    pub fn new(config: BridgeConfig, now: Now) -> Self {
        let topics = Topics::new(config.base_topic.clone());
        Self {
            config,
            topics,
            started_at: now.wall,
            cookers: BTreeMap::new(),
            ids: HashMap::new(),
            cloud: CloudStatus::Connecting,
            ever_connected: false,
            reconnects: 0,
            last_error: None,
            synced: false,
            mqtt_connected: false,
            previous_run: None,
            entity_topics_cleared: BTreeSet::new(),
            device_topics_watched: BTreeSet::new(),
            republish_at: None,
            last_info: None,
            last_devices: None,
            next_ticket: 0,
            in_flight: HashMap::new(),
            outputs: VecDeque::new(),
        }
    }

    /// The topic tree.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// The next output to carry out.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the bridge next needs an [`Input::Tick`], if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let confirms = self
            .cookers
            .values()
            .filter_map(|c| c.active.as_ref().and_then(|a| a.confirm_by));
        let refreshes = self
            .cookers
            .values()
            .filter(|_| self.mqtt_connected)
            .filter_map(|c| {
                c.published_state
                    .as_ref()
                    .map(|(_, at)| *at + STATE_REFRESH)
            });
        confirms.chain(refreshes).chain(self.republish_at).min()
    }

    /// True when the cloud link is up.
    pub fn cloud_connected(&self) -> bool {
        self.cloud == CloudStatus::Connected
    }

    /// The number of known cookers.
    pub fn cooker_count(&self) -> usize {
        self.cookers.len()
    }

    /// A one-line status for systemd's `STATUS=`.
    pub fn status_line(&self) -> String {
        let online = self
            .cookers
            .values()
            .filter(|c| c.available(self.cloud_connected()))
            .count();
        format!(
            "cloud {}, broker {}, {} cooker(s), {} online",
            self.cloud.as_str(),
            if self.mqtt_connected {
                "connected"
            } else {
                "disconnected"
            },
            self.cookers.len(),
            online
        )
    }

    /// Feeds one input.
    pub fn handle(&mut self, now: Now, input: Input) {
        match input {
            Input::Cloud(event) => self.on_cloud(now, event),
            Input::MqttConnected => self.on_mqtt_connected(now),
            Input::MqttDisconnected => self.mqtt_connected = false,
            Input::Mqtt {
                topic,
                payload,
                retained,
            } => self.on_mqtt(now, &topic, &payload, retained),
            Input::CloudResult { ticket, result } => self.on_cloud_result(now, ticket, result),
            Input::Tick => {}
        }
        self.on_tick(now);
    }

    // --- publishing ------------------------------------------------------------------------

    fn publish(&mut self, topic: String, payload: String, retain: bool) {
        // While the broker is away nothing can be delivered; every retained topic is
        // republished on the next connect, and what is not retained is moot by then.
        if self.mqtt_connected {
            self.outputs.push_back(Output::Publish(Publish {
                topic,
                payload,
                retain,
                qos: Qos::AtLeastOnce,
            }));
        }
    }

    fn limits_for(&self, info: &CookerInfo) -> Limits {
        Limits {
            model: model_limits(&info.device_type),
            ceiling_c: self.config.max_temperature_c,
        }
    }

    fn publish_info(&mut self, force: bool) {
        let info = json!({
            "version": self.config.version,
            "started_at": rfc3339(self.started_at),
            "cloud": self.cloud.as_str(),
            "devices": self.cookers.len(),
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        })
        .to_string();
        if force || self.last_info.as_deref() != Some(info.as_str()) {
            self.last_info = Some(info.clone());
            self.publish(self.topics.bridge_info(), info, true);
        }
    }

    fn publish_devices(&mut self, force: bool) {
        // Before the cloud's list arrives we do not know the devices; an empty list would
        // mislead consumers (and erase what the last run left for cleanup).
        if !self.synced {
            return;
        }
        let link_up = self.cloud_connected();
        let devices: Vec<Value> = self
            .cookers
            .values()
            .map(|c| c.device_entry(link_up, &self.limits_for(&c.info)))
            .collect();
        let devices = Value::Array(devices).to_string();
        if force || self.last_devices.as_deref() != Some(devices.as_str()) {
            self.last_devices = Some(devices.clone());
            self.publish(self.topics.bridge_devices(), devices, true);
        }
    }

    fn bridge_event(&mut self, event: &str, mut extra: Map<String, Value>) {
        extra.insert("event".into(), Value::from(event));
        self.publish(
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

    /// What must happen before a device's discovery is published, so that switching
    /// `discovery_mode` leaves no duplicates in Home Assistant:
    /// - device mode: clear the device's entity-mode topics, once per process. Any Home
    ///   Assistant that reads device discovery also reads per-entity topics, and an empty
    ///   payload for an unknown entity is silently ignored.
    /// - entity mode: watch the device-mode topic and clear it only if a retained config is
    ///   there. Home Assistant before 2024.11 warns about *any* message on a device topic,
    ///   so we never publish there blindly.
    fn prepare_discovery(
        &mut self,
        node: &str,
        other_mode: Vec<homeassistant::DiscoveryMessage>,
    ) -> Vec<homeassistant::DiscoveryMessage> {
        let Some(ha) = &self.config.homeassistant else {
            return Vec::new();
        };
        if !self.mqtt_connected {
            return Vec::new();
        }
        match ha.mode {
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
                    self.outputs.push_back(Output::Subscribe(topics));
                }
            }
        }
        Vec::new()
    }

    fn other_mode_context(&self) -> Option<DiscoveryContext<'_>> {
        self.discovery_context().map(|ctx| DiscoveryContext {
            mode: match ctx.mode {
                DiscoveryMode::Device => DiscoveryMode::Entity,
                DiscoveryMode::Entity => DiscoveryMode::Device,
            },
            ..ctx
        })
    }

    fn publish_bridge_discovery(&mut self) {
        let Some(ctx) = self.discovery_context() else {
            return;
        };
        let messages = homeassistant::bridge_config(&ctx);
        let other = self
            .other_mode_context()
            .map(|other| homeassistant::bridge_removal(&other))
            .unwrap_or_default();
        let mut all = self.prepare_discovery("bridge", other);
        all.extend(messages);
        for m in all {
            self.publish(m.topic, m.payload, true);
        }
    }

    /// Publishes one cooker's discovery.
    fn publish_cooker_discovery(&mut self, id: &str) {
        let Some(ctx) = self.discovery_context() else {
            return;
        };
        let Some(cooker) = self.cookers.get(id) else {
            return;
        };
        let limits = self.limits_for(&cooker.info);
        let firmware = cooker.firmware().map(str::to_owned);
        let messages = homeassistant::cooker_config(
            &ctx,
            &CookerDiscovery {
                id,
                name: &cooker.info.name,
                device_type: &cooker.info.device_type,
                firmware: firmware.as_deref(),
                min_temperature_c: limits.model.min_temperature_c,
                max_temperature_c: limits.max_temperature_c(),
                max_timer_s: limits.model.max_timer_s,
            },
        );
        let other = self
            .other_mode_context()
            .map(|other| homeassistant::cooker_removal(&other, id))
            .unwrap_or_default();
        let mut all = self.prepare_discovery(id, other);
        all.extend(messages);
        if self.mqtt_connected {
            if let Some(c) = self.cookers.get_mut(id) {
                c.discovery_firmware = Some(firmware);
            }
        }
        for m in all {
            self.publish(m.topic, m.payload, true);
        }
    }

    /// Publishes a cooker's availability and state when they changed (or always, `force`).
    fn publish_cooker(&mut self, id: &str, now: Now, force: bool) {
        let link_up = self.cloud_connected();
        let mqtt = self.mqtt_connected;
        let Some(cooker) = self.cookers.get_mut(id) else {
            return;
        };
        let available = cooker.available(link_up);
        let availability = (force || cooker.published_availability != Some(available)).then(|| {
            if mqtt {
                cooker.published_availability = Some(available);
            }
            (
                self.topics.availability(id),
                if available { "online" } else { "offline" },
            )
        });
        let state = cooker.published(link_up).and_then(|state| {
            let due = match &cooker.published_state {
                None => true,
                Some((last, at)) => {
                    differs(last, &state)
                        || now.instant.saturating_duration_since(*at) >= STATE_REFRESH
                }
            };
            (force || due).then(|| {
                let payload = serde_json::to_string(&state).unwrap_or_default();
                if mqtt {
                    cooker.published_state = Some((state, now.instant));
                }
                payload
            })
        });
        if let Some((topic, payload)) = availability {
            self.publish(topic, payload.to_owned(), true);
        }
        if let Some(payload) = state {
            self.publish(self.topics.state(id), payload, true);
        }
    }

    /// Everything retained, again: after a broker connect, a Home Assistant birth, or the
    /// `republish` request.
    fn republish_all(&mut self, now: Now) {
        self.publish(self.topics.bridge_state(), "online".into(), true);
        self.publish_bridge_discovery();
        let ids: Vec<String> = self.cookers.keys().cloned().collect();
        for id in &ids {
            self.publish_cooker_discovery(id);
        }
        self.publish_info(true);
        self.publish_devices(true);
        for id in &ids {
            self.publish_cooker(id, now, true);
        }
    }

    // --- MQTT ------------------------------------------------------------------------------

    fn on_mqtt_connected(&mut self, now: Now) {
        self.mqtt_connected = true;
        self.device_topics_watched.clear();
        let mut filters = self.topics.subscriptions();
        if let Some(ha) = &self.config.homeassistant {
            filters.push(ha.status_topic.clone());
        }
        self.outputs.push_back(Output::Subscribe(filters));
        self.republish_all(now);
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
        if retained && !payload.is_empty() && self.device_topics_watched.contains(topic) {
            tracing::info!(topic, "clearing a device-mode discovery config left from before the switch to entity mode");
            self.publish(topic.to_owned(), String::new(), true);
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
                let parsed = if retained {
                    Err(retained_failure(payload))
                } else {
                    command::parse_json(payload)
                };
                self.on_command(now, &id, parsed);
            }
            Some(Incoming::SetKey { id, key }) => {
                let id = id.to_owned();
                let parsed = if retained {
                    Err(retained_failure(&[]))
                } else {
                    command::parse_plain(key, payload)
                };
                self.on_command(now, &id, parsed);
            }
            Some(Incoming::BridgeRequest { op }) => {
                let op = op.to_owned();
                self.on_bridge_request(now, &op, payload, retained);
            }
            Some(Incoming::BridgeDevices) if retained => self.on_previous_devices(now, payload),
            Some(Incoming::BridgeDevices) | None => {}
        }
    }

    /// Our retained `bridge/devices` from an earlier run: cookers listed there but no longer
    /// on the account get their discovery and retained topics removed once the cloud's list
    /// is known; until then they are marked offline rather than left looking alive.
    fn on_previous_devices(&mut self, now: Now, payload: &[u8]) {
        let Ok(Value::Array(entries)) = serde_json::from_slice::<Value>(payload) else {
            return;
        };
        let ids: BTreeSet<String> = entries
            .iter()
            .filter_map(|e| e.get("cooker_id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        if self.synced {
            self.previous_run = Some(ids);
            self.clean_up_previous_run(now);
            return;
        }
        for cooker_id in &ids {
            if !self.ids.contains_key(cooker_id) {
                let id = cooker_topic_id(cooker_id);
                self.publish(self.topics.availability(&id), "offline".into(), true);
            }
        }
        self.previous_run = Some(ids);
    }

    fn clean_up_previous_run(&mut self, now: Now) {
        let Some(previous) = self.previous_run.take() else {
            return;
        };
        for cooker_id in previous {
            if !self.ids.contains_key(&cooker_id) {
                tracing::info!(
                    cooker_id,
                    "removing a cooker that left the account while we were away"
                );
                self.remove_retained(&cooker_topic_id(&cooker_id));
            }
        }
        let _ = now;
    }

    /// Clears a cooker's discovery and retained topics.
    fn remove_retained(&mut self, id: &str) {
        if let Some(ctx) = self.discovery_context() {
            let messages = homeassistant::cooker_removal(&ctx, id);
            for m in messages {
                self.publish(m.topic, m.payload, true);
            }
        }
        self.publish(self.topics.state(id), String::new(), true);
        self.publish(self.topics.availability(id), String::new(), true);
    }

    fn on_bridge_request(&mut self, now: Now, op: &str, payload: &[u8], retained: bool) {
        let topic = self.topics.bridge_response(op);
        let (id_key, id) = request_id(payload, now);
        let reply = |status: Result<Value, CommandError>| {
            let mut map = Map::new();
            map.insert(id_key.to_owned(), Value::from(id.clone()));
            match status {
                Ok(data) => {
                    map.insert("status".into(), Value::from("ok"));
                    map.insert("data".into(), data);
                }
                Err(e) => {
                    map.insert("status".into(), Value::from("error"));
                    map.insert(
                        "error".into(),
                        json!({"code": e.code, "message": e.message}),
                    );
                }
            }
            Value::Object(map).to_string()
        };
        let result = if retained {
            Err(CommandError::new(
                ErrorCode::RetainedCommand,
                "retained requests are never executed (they would replay on every reconnect); publish without the retain flag",
            ))
        } else if !payload.trim_ascii().is_empty()
            && !matches!(
                serde_json::from_slice::<Value>(payload),
                Ok(Value::Object(_))
            )
        {
            Err(CommandError::new(
                ErrorCode::InvalidJson,
                "the request payload must be empty or a JSON object such as {\"id\": \"1\"}",
            ))
        } else {
            match op {
                "health_check" => Ok(self.health(now)),
                "republish" => {
                    self.republish_all(now);
                    Ok(json!({"cookers": self.cookers.len()}))
                }
                "refresh" => {
                    self.outputs.push_back(Output::ReconnectCloud);
                    Ok(json!({}))
                }
                other => Err(CommandError::new(
                    ErrorCode::UnknownKey,
                    format!(
                        "unknown bridge request {other:?}; the requests are {}",
                        BRIDGE_OPS.join(", ")
                    ),
                )),
            }
        };
        let payload = reply(result);
        self.publish(topic, payload, false);
    }

    fn health(&self, now: Now) -> Value {
        let link_up = self.cloud_connected();
        json!({
            "healthy": link_up && self.mqtt_connected,
            "cloud": self.cloud.as_str(),
            "mqtt": if self.mqtt_connected { "connected" } else { "disconnected" },
            "devices": self.cookers.len(),
            "online": self.cookers.values().filter(|c| c.available(link_up)).count(),
            "uptime_s": (now.wall - self.started_at).whole_seconds().max(0),
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        })
    }

    // --- commands --------------------------------------------------------------------------

    fn respond(&mut self, id: &str, payload: String) {
        self.publish(self.topics.response(id), payload, false);
    }

    fn on_command(&mut self, now: Now, id: &str, parsed: Result<CommandRequest, ParseFailure>) {
        let request = match parsed {
            Ok(request) => request,
            Err(failure) => {
                let request_id = failure.id.unwrap_or_else(|| generated_id(now));
                tracing::info!(cooker = id, code = ?failure.error.code, "command refused: {}", failure.error.message);
                let payload =
                    exec::response(failure.id_key, &request_id, Reply::Err(&failure.error));
                self.respond(id, payload);
                return;
            }
        };
        let request_id = request.id.clone().unwrap_or_else(|| generated_id(now));
        let queued = Queued {
            id: request_id,
            id_key: request.id_key,
            changes: request.changes,
        };
        let Some(cooker) = self.cookers.get_mut(id) else {
            let known: Vec<&str> = self.cookers.keys().map(String::as_str).collect();
            let error = CommandError::new(
                ErrorCode::DeviceOffline,
                if known.is_empty() {
                    format!("no cooker {id:?} is known (no cookers yet)")
                } else {
                    format!(
                        "no cooker {id:?} is known; the cookers are {}",
                        known.join(", ")
                    )
                },
            );
            let payload = exec::response(queued.id_key, &queued.id, Reply::Err(&error));
            self.respond(id, payload);
            return;
        };
        if cooker.active.is_some() {
            if cooker.queue.len() >= MAX_QUEUED {
                let error = CommandError::new(
                    ErrorCode::RateLimited,
                    format!("{MAX_QUEUED} commands are already waiting for this cooker; try again when they are answered"),
                );
                let payload = exec::response(queued.id_key, &queued.id, Reply::Err(&error));
                self.respond(id, payload);
            } else {
                cooker.queue.push_back(queued);
            }
            return;
        }
        self.start_command(now, id, queued);
    }

    /// Validates, plans and starts one command; answers at once when nothing goes to the
    /// cloud or something is wrong.
    fn start_command(&mut self, now: Now, id: &str, queued: Queued) {
        let link_up = self.cloud_connected();
        let limits = match self.cookers.get(id) {
            Some(c) => self.limits_for(&c.info),
            None => return,
        };
        let per_minute = self.config.commands_per_minute as usize;
        let Some(cooker) = self.cookers.get_mut(id) else {
            return;
        };
        let planned = if !link_up {
            Err(CommandError::new(
                ErrorCode::CloudUnavailable,
                "the Anova cloud is not connected; nothing was sent",
            ))
        } else if !cooker.available(link_up) {
            Err(CommandError::new(
                ErrorCode::DeviceOffline,
                "the cooker is offline (no recent state from the Anova cloud); nothing was sent",
            ))
        } else {
            exec::plan(&queued.changes, cooker, &limits)
        };
        let plan = planned.and_then(|plan| {
            if plan.is_local() {
                return Ok(plan);
            }
            while cooker
                .recent_commands
                .front()
                .is_some_and(|t| now.instant.saturating_duration_since(*t) >= RATE_WINDOW)
            {
                cooker.recent_commands.pop_front();
            }
            if cooker.recent_commands.len() >= per_minute {
                return Err(CommandError::new(
                    ErrorCode::RateLimited,
                    format!("more than {per_minute} commands in a minute for this cooker (limits.commands_per_minute)"),
                ));
            }
            cooker.recent_commands.push_back(now.instant);
            Ok(plan)
        });
        let plan = match plan {
            Ok(plan) => plan,
            Err(error) => {
                tracing::info!(cooker = id, code = ?error.code, "command refused: {}", error.message);
                let payload = exec::response(queued.id_key, &queued.id, Reply::Err(&error));
                self.respond(id, payload);
                return;
            }
        };
        if plan.is_local() {
            let pending = plan.is_pending();
            if let Some(target) = plan.pending_target {
                cooker.pending_target = Some(target);
            }
            if let Some(timer) = plan.pending_timer {
                cooker.pending_timer = Some(timer);
            }
            let payload = exec::response(
                queued.id_key,
                &queued.id,
                Reply::Ok {
                    echo: &queued.changes.echo(),
                    pending,
                    warnings: &plan.warnings,
                },
            );
            self.publish_cooker(id, now, false);
            self.respond(id, payload);
            return;
        }
        tracing::info!(
            cooker = id,
            id = queued.id,
            "command accepted: {} step(s)",
            plan.steps.len()
        );
        cooker.active = Some(Active {
            id: queued.id,
            id_key: queued.id_key,
            changes: queued.changes,
            steps: plan.steps,
            waiting: None,
            expect: plan.expect,
            confirm_by: None,
            consumes_pending: plan.consumes_pending,
            pending_target: plan.pending_target,
            pending_timer: plan.pending_timer,
            warnings: plan.warnings,
        });
        self.advance(now, id);
    }

    /// Sends the next step of a cooker's active command, or starts waiting for confirmation.
    fn advance(&mut self, now: Now, id: &str) {
        let confirm_timeout = self.config.confirm_timeout;
        let Some(active) = self.cookers.get_mut(id).and_then(|c| c.active.as_mut()) else {
            return;
        };
        if let Some(command) = active.steps.pop_front() {
            let ticket = Ticket(self.next_ticket);
            self.next_ticket += 1;
            active.waiting = Some((ticket, command.name()));
            self.in_flight.insert(ticket, id.to_owned());
            self.outputs.push_back(Output::Cloud { ticket, command });
            return;
        }
        active.waiting = None;
        active.confirm_by = Some(now.instant + confirm_timeout);
        self.check_confirmed(now, id);
    }

    /// Answers `ok` when the state shows every expected change.
    fn check_confirmed(&mut self, now: Now, id: &str) {
        let Some(cooker) = self.cookers.get(id) else {
            return;
        };
        let (Some(active), Some(state)) = (&cooker.active, &cooker.state) else {
            return;
        };
        if active.confirm_by.is_some() && active.expect.met_by(state) {
            self.finish(now, id, Ok(()));
        }
    }

    /// Answers the active command and starts the next queued one.
    fn finish(&mut self, now: Now, id: &str, result: Result<(), CommandError>) {
        let Some(cooker) = self.cookers.get_mut(id) else {
            return;
        };
        let Some(active) = cooker.active.take() else {
            return;
        };
        if result.is_ok() {
            if active.consumes_pending {
                cooker.pending_target = None;
                cooker.pending_timer = None;
            }
            if let Some(target) = active.pending_target {
                cooker.pending_target = Some(target);
            }
            if let Some(timer) = active.pending_timer {
                cooker.pending_timer = Some(timer);
            }
        }
        let pending = active.pending_target.is_some() || active.pending_timer.is_some();
        let echo = active.changes.echo();
        let payload = match &result {
            Ok(()) => {
                tracing::info!(cooker = id, id = active.id, "command confirmed");
                exec::response(
                    active.id_key,
                    &active.id,
                    Reply::Ok {
                        echo: &echo,
                        pending,
                        warnings: &active.warnings,
                    },
                )
            }
            Err(error) => {
                tracing::warn!(cooker = id, id = active.id, code = ?error.code, "command failed: {}", error.message);
                exec::response(active.id_key, &active.id, Reply::Err(error))
            }
        };
        // State before the response: whoever reacts to the response reads the new state.
        self.publish_cooker(id, now, false);
        self.respond(id, payload);
        self.next_queued(now, id);
    }

    fn next_queued(&mut self, now: Now, id: &str) {
        let next = self.cookers.get_mut(id).and_then(|c| {
            if c.active.is_some() {
                None
            } else {
                c.queue.pop_front()
            }
        });
        if let Some(next) = next {
            self.start_command(now, id, next);
        }
    }

    fn on_cloud_result(&mut self, now: Now, ticket: Ticket, result: Result<(), CloudError>) {
        use crate::anova::protocol::CommandName;
        let Some(id) = self.in_flight.remove(&ticket) else {
            return;
        };
        let Some(cooker) = self.cookers.get_mut(&id) else {
            return;
        };
        let cooking = cooker.state.as_ref().is_some_and(|s| s.cooking);
        let Some(active) = cooker.active.as_mut() else {
            return;
        };
        let name = match active.waiting {
            Some((waiting, name)) if waiting == ticket => name,
            _ => return,
        };
        active.waiting = None;
        let error = match result {
            Ok(()) => {
                self.advance(now, &id);
                return;
            }
            // A refused change to a running cook: restart the cook with the new values.
            Err(CloudError::Rejected(text))
                if cooking && matches!(name, CommandName::SetTargetTemp | CommandName::SetTimer) =>
            {
                match self.restart_instead(now, &id, name, &text) {
                    Ok(()) => return,
                    Err(error) => error,
                }
            }
            Err(CloudError::Rejected(text)) => CommandError::new(
                ErrorCode::Rejected,
                format!("the Anova cloud refused {name}: {text}"),
            ),
            Err(CloudError::Timeout) => CommandError::new(
                ErrorCode::Timeout,
                format!("no RESPONSE from the Anova cloud to {name} in time; the command may or may not have been applied"),
            ),
            Err(e @ (CloudError::NotConnected | CloudError::Disconnected | CloudError::Shutdown)) => {
                CommandError::new(
                    ErrorCode::CloudUnavailable,
                    format!("the Anova cloud connection was lost while sending {name} ({e})"),
                )
            }
        };
        self.finish(now, &id, Err(error));
    }

    /// The fallback for a refused `SET_TARGET_TEMP`/`SET_TIMER`: remember the refusal (later
    /// changes go straight to a restart) and replace the remaining SET steps by a START with
    /// the new values and the remaining time.
    fn restart_instead(
        &mut self,
        now: Now,
        id: &str,
        refused: crate::anova::protocol::CommandName,
        text: &str,
    ) -> Result<(), CommandError> {
        use crate::anova::protocol::CommandName;
        let gone = || CommandError::new(ErrorCode::DeviceOffline, "the cooker is gone");
        let cooker = self.cookers.get_mut(id).ok_or_else(gone)?;
        match refused {
            CommandName::SetTargetTemp => cooker.refusals.set_target = true,
            _ => cooker.refusals.set_timer = true,
        }
        tracing::info!(
            cooker = id,
            "the cloud refused {refused} ({text}); restarting the cook instead"
        );
        let (start, expect) = {
            let cooker = &*cooker;
            let active = cooker.active.as_ref().ok_or_else(gone)?;
            let state = cooker.state.as_ref().ok_or_else(gone)?;
            exec::restart(&active.changes, cooker, state)?
        };
        let active = cooker.active.as_mut().ok_or_else(gone)?;
        active.steps.retain(|s| {
            !matches!(
                s,
                ApcCommand::SetTargetTemp { .. } | ApcCommand::SetTimer { .. }
            )
        });
        active.steps.push_back(start);
        active.expect = Expect {
            display_unit: active.expect.display_unit,
            ..expect
        };
        active.warnings.push(exec::restart_warning());
        self.advance(now, id);
        Ok(())
    }

    // --- cloud -----------------------------------------------------------------------------

    fn on_cloud(&mut self, now: Now, event: CloudEvent) {
        match event {
            CloudEvent::Link(link) => self.on_link(now, link),
            CloudEvent::DeviceAdded(info) => self.on_device_added(now, info),
            CloudEvent::DeviceRemoved { cooker_id } => self.on_device_removed(now, &cooker_id),
            CloudEvent::DeviceListSynced { .. } => {
                self.synced = true;
                self.clean_up_previous_run(now);
                self.publish_devices(false);
            }
            CloudEvent::State { cooker_id, state } => self.on_state(now, &cooker_id, state),
            CloudEvent::Stale { cooker_id } => {
                if let Some(id) = self.ids.get(&cooker_id).cloned() {
                    if let Some(c) = self.cookers.get_mut(&id) {
                        tracing::info!(cooker = %id, "no state from the cooker for anova.stale_after: offline");
                        c.stale = true;
                    }
                    self.publish_cooker(&id, now, false);
                    self.publish_devices(false);
                }
            }
        }
    }

    fn on_link(&mut self, now: Now, link: LinkState) {
        let before = self.cloud;
        match link {
            LinkState::Connecting => {
                // Keep showing an auth failure while we retry; it is the useful fact.
                if before != CloudStatus::AuthFailed {
                    self.cloud = CloudStatus::Connecting;
                }
            }
            LinkState::Up => {
                self.cloud = CloudStatus::Connected;
                if self.ever_connected {
                    self.reconnects += 1;
                }
                self.ever_connected = true;
                self.bridge_event("cloud_connected", Map::new());
            }
            LinkState::Down { reason } => {
                self.cloud = CloudStatus::Disconnected;
                if before == CloudStatus::Connected {
                    let mut extra = Map::new();
                    extra.insert("reason".into(), Value::from(reason.as_str()));
                    self.bridge_event("cloud_disconnected", extra);
                }
                self.last_error = Some(reason);
            }
            LinkState::AuthFailed { reason } => {
                self.cloud = CloudStatus::AuthFailed;
                if before != CloudStatus::AuthFailed {
                    let mut extra = Map::new();
                    extra.insert("reason".into(), Value::from(reason.as_str()));
                    self.bridge_event("auth_failed", extra);
                }
                self.last_error = Some(reason);
            }
        }
        self.publish_info(false);
        if (before == CloudStatus::Connected) != self.cloud_connected() {
            let ids: Vec<String> = self.cookers.keys().cloned().collect();
            for id in &ids {
                self.publish_cooker(id, now, false);
            }
            self.publish_devices(false);
        }
    }

    fn on_device_added(&mut self, now: Now, info: CookerInfo) {
        let id = cooker_topic_id(&info.cooker_id);
        if let Some(existing) = self.ids.get(&info.cooker_id) {
            // A rename or a type change: keep the state, refresh discovery.
            let existing = existing.clone();
            if let Some(c) = self.cookers.get_mut(&existing) {
                c.info = info;
            }
            self.publish_cooker_discovery(&existing);
            self.publish_devices(false);
            return;
        }
        if self.cookers.contains_key(&id) {
            tracing::warn!(
                cooker_id = info.cooker_id,
                topic_id = id,
                "two cookers share one topic id; ignoring the second"
            );
            return;
        }
        tracing::info!(cooker = %id, name = info.name, model = %info.device_type, "cooker added");
        let mut extra = Map::new();
        extra.insert("id".into(), Value::from(id.as_str()));
        extra.insert("cooker_id".into(), Value::from(info.cooker_id.as_str()));
        extra.insert("name".into(), Value::from(info.name.as_str()));
        extra.insert("model".into(), Value::from(info.device_type.as_str()));
        self.ids.insert(info.cooker_id.clone(), id.clone());
        self.cookers
            .insert(id.clone(), Cooker::new(info, id.clone()));
        self.bridge_event("device_added", extra);
        self.publish_cooker_discovery(&id);
        self.publish_cooker(&id, now, false);
        self.publish_info(false);
        self.publish_devices(false);
    }

    fn on_device_removed(&mut self, now: Now, cooker_id: &str) {
        let Some(id) = self.ids.remove(cooker_id) else {
            return;
        };
        let Some(mut cooker) = self.cookers.remove(&id) else {
            return;
        };
        tracing::info!(cooker = %id, "cooker removed from the account");
        let error = CommandError::new(
            ErrorCode::DeviceOffline,
            "the cooker was removed from the Anova account",
        );
        self.in_flight.retain(|_, cooker_id| cooker_id != &id);
        let waiting: Vec<(String, &'static str)> = cooker
            .active
            .take()
            .map(|a| (a.id, a.id_key))
            .into_iter()
            .chain(cooker.queue.drain(..).map(|q| (q.id, q.id_key)))
            .collect();
        for (request_id, id_key) in waiting {
            let payload = exec::response(id_key, &request_id, Reply::Err(&error));
            self.respond(&id, payload);
        }
        self.remove_retained(&id);
        let mut extra = Map::new();
        extra.insert("id".into(), Value::from(id.as_str()));
        extra.insert("cooker_id".into(), Value::from(cooker_id));
        self.bridge_event("device_removed", extra);
        self.publish_info(false);
        self.publish_devices(false);
        let _ = now;
    }

    fn on_state(&mut self, now: Now, cooker_id: &str, state: CookerState) {
        let Some(id) = self.ids.get(cooker_id).cloned() else {
            tracing::debug!(
                cooker_id,
                "state for a cooker not in the device list; ignored"
            );
            return;
        };
        let Some(cooker) = self.cookers.get_mut(&id) else {
            return;
        };
        let was_available = cooker.available(self.cloud == CloudStatus::Connected);
        let was_stale = std::mem::take(&mut cooker.stale);
        let firmware_changed = cooker
            .discovery_firmware
            .as_ref()
            .is_some_and(|f| f.as_deref() != state.firmware.as_deref());
        let new_firmware = previous_firmware_differs(cooker.state.as_ref(), &state);
        let previous = cooker.state.replace(state);
        let events = match (&previous, &cooker.state) {
            (Some(previous), Some(current)) => cook_events(previous, current),
            _ => Vec::new(),
        };
        let current = cooker.state.clone();
        if was_stale {
            tracing::info!(cooker = %id, "the cooker reports again: online");
        }
        for event in events {
            if let Some(current) = &current {
                let mut payload = json!({
                    "event_type": event.event_type,
                    "stage": current.stage,
                    "water_temperature": current.water_temperature.map(|t| cooker::round_to(t, cooker::WATER_STEP_C)),
                    "target_temperature": current.target_temperature.map(command::round2),
                    "timer_total": current.timer_total,
                    "timer_remaining": current.timer_remaining,
                    "at": rfc3339(now.wall),
                });
                if !event.alarms.is_empty() {
                    payload["alarms"] = Value::from(event.alarms.clone());
                }
                tracing::info!(cooker = %id, "cook event {}", event.event_type);
                self.publish(self.topics.event(&id), payload.to_string(), false);
            }
        }
        if firmware_changed {
            self.publish_cooker_discovery(&id);
        }
        let is_available = self
            .cookers
            .get(&id)
            .is_some_and(|c| c.available(self.cloud_connected()));
        // Confirm first: a confirmed command may change what we publish (pending values).
        self.check_confirmed(now, &id);
        self.publish_cooker(&id, now, false);
        // `bridge/devices` only changes with a cooker's availability or firmware; do not
        // rebuild it for every push.
        if new_firmware || was_available != is_available {
            self.publish_devices(false);
        }
    }

    // --- time ------------------------------------------------------------------------------

    fn on_tick(&mut self, now: Now) {
        if self.republish_at.is_some_and(|at| at <= now.instant) {
            self.republish_at = None;
            self.republish_all(now);
        }
        let expired: Vec<String> = self
            .cookers
            .iter()
            .filter(|(_, c)| {
                c.active
                    .as_ref()
                    .and_then(|a| a.confirm_by)
                    .is_some_and(|by| by <= now.instant)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let message = self.cookers.get(&id).and_then(|c| {
                let active = c.active.as_ref()?;
                Some(format!(
                    "the Anova cloud accepted the command but the cooker's state did not show {} within {}",
                    active.expect.describe_unmet(c.state.as_ref()),
                    humantime::format_duration(self.config.confirm_timeout)
                ))
            });
            if let Some(message) = message {
                self.finish(
                    now,
                    &id,
                    Err(CommandError::new(ErrorCode::NotConfirmed, message)),
                );
            }
        }
        if self.mqtt_connected {
            let due: Vec<String> = self
                .cookers
                .iter()
                .filter(|(_, c)| {
                    c.published_state.as_ref().is_some_and(|(_, at)| {
                        now.instant.saturating_duration_since(*at) >= STATE_REFRESH
                    })
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in due {
                self.publish_cooker(&id, now, false);
            }
        }
    }
}

/// True for a cooker's first state, and when the firmware changed.
fn previous_firmware_differs(previous: Option<&CookerState>, current: &CookerState) -> bool {
    previous.is_none_or(|p| p.firmware != current.firmware)
}

/// A retained command is answered, never executed; its id is echoed if readable.
fn retained_failure(payload: &[u8]) -> ParseFailure {
    let (id, id_key) = match command::parse_json(payload) {
        Ok(request) => (request.id, request.id_key),
        Err(failure) => (failure.id, failure.id_key),
    };
    ParseFailure {
        id,
        id_key,
        error: CommandError::new(
            ErrorCode::RetainedCommand,
            "retained commands are never executed (they would replay on every reconnect); publish without the retain flag",
        ),
    }
}

/// The id of a bridge request: its `id` (or `transaction`), else a generated one.
fn request_id(payload: &[u8], now: Now) -> (&'static str, String) {
    let object = serde_json::from_slice::<Value>(payload).ok();
    for key in ["id", "transaction"] {
        match object.as_ref().and_then(|o| o.get(key)) {
            Some(Value::String(s)) => return (key, s.clone()),
            Some(Value::Number(n)) => return (key, n.to_string()),
            _ => {}
        }
    }
    ("id", generated_id(now))
}

/// An id for a command that came without one: unique enough to correlate a response, and
/// sortable by time.
fn generated_id(now: Now) -> String {
    let short = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", now.wall.unix_timestamp(), &short[..8])
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}
