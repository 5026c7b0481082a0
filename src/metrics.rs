//! Prometheus metrics (`docs/interface.md` §6, `GET /metrics`).
//!
//! [`Metrics`] holds the daemon-wide counters and gauges. The daemon calls its methods where
//! things happen (a frame arrives, a command ends, a link goes up); each is an atomic add or
//! store, so the per-push path pays a few nanoseconds and never a lock across `.await`.
//!
//! What belongs to a device (online, temperatures) is not kept here at all: a scrape asks the
//! main loop for the device list once and builds those series on the spot. Their cost is per
//! scrape, not per push, and a device that leaves the account leaves the metrics with it.
//!
//! The exposition is OpenMetrics text (what `prometheus-client` writes), which Prometheus reads
//! natively.

use prometheus_client::encoding::{text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use serde_json::Value;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The prefix of every metric name.
const PREFIX: &str = "anova2mqtt";

/// Bucket bounds of `anova2mqtt_command_duration_seconds`. A command waits for the cloud's
/// RESPONSE and then for a state push that confirms it, so seconds are normal; the top buckets
/// cover `anova.command_timeout` + `anova.confirm_timeout` with the defaults.
const COMMAND_DURATION_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0,
];

/// `{code="…"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    /// `ok` or a §3.3 error code; an HTTP status for HTTP responses.
    code: String,
}

/// `{queue="…"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    /// The queue's name, chosen by the daemon.
    queue: &'static str,
}

/// `{reason="…"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    /// Why a stream client was disconnected, or an HTTP connection refused or closed.
    reason: &'static str,
}

/// `{tool="…",outcome="…"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    /// The MCP tool's name (`unknown` for a name that is not a tool).
    tool: String,
    /// `ok` or the error code of the answer.
    outcome: String,
}

/// `{device="…"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeviceLabel {
    /// The device id of the topics (`<base>/<id>/…`).
    device: String,
}

/// `{device="…",name="…",model="…"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeviceInfoLabels {
    /// The device id.
    device: String,
    /// The name from the Anova app.
    name: String,
    /// The Anova `type` (`a7`, `pro`, `oven_v2`, …).
    model: String,
}

/// Why a stream client was disconnected, for `anova2mqtt_stream_clients_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// It did not read fast enough (its send queue filled up or it lagged the broadcast).
    Slow,
    /// It kept sending after being told it is over its message rate.
    RateLimit,
    /// No valid token in time.
    Auth,
    /// Waiting to authenticate, it was closed to make room for a newer connection.
    AuthCrowded,
}

impl DropReason {
    fn label(self) -> &'static str {
        match self {
            Self::Slow => "slow",
            Self::RateLimit => "rate_limit",
            Self::Auth => "auth",
            Self::AuthCrowded => "auth_crowded",
        }
    }
}

/// The daemon's metrics. Share it as `Arc<Metrics>`; every method takes `&self`.
pub struct Metrics {
    /// Every daemon-wide metric, encoded on each scrape.
    registry: Registry,
    cloud_connected: Gauge,
    mqtt_connected: Gauge,
    cloud_reconnects: Counter,
    cloud_frames: Counter,
    cloud_frames_dropped: Counter,
    mqtt_publishes: Counter,
    commands: Family<CodeLabel, Counter>,
    command_duration: Histogram,
    queue_depth: Family<QueueLabel, Gauge>,
    http_responses: Family<CodeLabel, Counter>,
    stream_clients: Gauge,
    stream_clients_dropped: Family<ReasonLabel, Counter>,
    http_connections: Gauge,
    http_connections_refused: Family<ReasonLabel, Counter>,
    http_connections_closed: Family<ReasonLabel, Counter>,
    history_write_errors: Counter,
    history_records_dropped: Counter,
    mcp_tool_calls: Family<ToolLabels, Counter>,
    mcp_sessions: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Every metric at zero (links down).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let cloud_connected = Gauge::default();
        let mqtt_connected = Gauge::default();
        let cloud_reconnects = Counter::default();
        let cloud_frames = Counter::default();
        let cloud_frames_dropped = Counter::default();
        let mqtt_publishes = Counter::default();
        let commands = Family::<CodeLabel, Counter>::default();
        let command_duration = Histogram::new(COMMAND_DURATION_BUCKETS);
        let queue_depth = Family::<QueueLabel, Gauge>::default();
        let http_responses = Family::<CodeLabel, Counter>::default();
        let stream_clients = Gauge::default();
        let stream_clients_dropped = Family::<ReasonLabel, Counter>::default();
        let http_connections = Gauge::default();
        let http_connections_refused = Family::<ReasonLabel, Counter>::default();
        let http_connections_closed = Family::<ReasonLabel, Counter>::default();
        let history_write_errors = Counter::default();
        let history_records_dropped = Counter::default();
        let mcp_tool_calls = Family::<ToolLabels, Counter>::default();
        let mcp_sessions = Gauge::default();

        registry.register(
            "build",
            "The running version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register(
            "cloud_connected",
            "1 while the Anova cloud WebSocket is connected and authenticated",
            cloud_connected.clone(),
        );
        registry.register(
            "mqtt_connected",
            "1 while the MQTT broker connection is up",
            mqtt_connected.clone(),
        );
        registry.register(
            "cloud_reconnects",
            "Connections to the Anova cloud after the first",
            cloud_reconnects.clone(),
        );
        registry.register(
            "cloud_frames",
            "Frames received from the Anova cloud",
            cloud_frames.clone(),
        );
        registry.register(
            "cloud_frames_dropped",
            "Frames from the Anova cloud that could not be used (malformed or unknown)",
            cloud_frames_dropped.clone(),
        );
        registry.register(
            "mqtt_publishes",
            "Messages published to the MQTT broker",
            mqtt_publishes.clone(),
        );
        registry.register(
            "commands",
            "Commands answered, by response code (ok or the error code)",
            commands.clone(),
        );
        registry.register(
            "command_duration_seconds",
            "Time from a command's arrival to its response",
            command_duration.clone(),
        );
        registry.register(
            "queue_depth",
            "Items waiting in the daemon's internal queues",
            queue_depth.clone(),
        );
        registry.register(
            "http_responses",
            "HTTP responses sent by the local API, by status code",
            http_responses.clone(),
        );
        registry.register(
            "stream_clients",
            "Connected clients of /api/v1/stream",
            stream_clients.clone(),
        );
        registry.register(
            "stream_clients_dropped",
            "Stream clients disconnected by the bridge, by reason",
            stream_clients_dropped.clone(),
        );
        registry.register(
            "http_connections",
            "Open connections to the local HTTP API (stream clients not counted)",
            http_connections.clone(),
        );
        registry.register(
            "http_connections_refused",
            "Connections to the local HTTP API refused at once, by reason (limit: every \
             connection was in a request; descriptors: the process ran out of file descriptors)",
            http_connections_refused.clone(),
        );
        registry.register(
            "http_connections_closed",
            "Connections to the local HTTP API closed by the bridge, by reason (evicted: the \
             longest idle one, to make room; header_timeout: no complete request in time; \
             write_timeout: the client stopped reading)",
            http_connections_closed.clone(),
        );
        registry.register(
            "history_write_errors",
            "Failed attempts to open or write the cook history database (it is retried)",
            history_write_errors.clone(),
        );
        registry.register(
            "history_records_dropped",
            "Cook history records not written: the store's queue was full, or the database \
             failed for longer than its backlog holds",
            history_records_dropped.clone(),
        );
        registry.register(
            "mcp_tool_calls",
            "MCP tool calls, by tool and outcome (ok or the error code of the answer)",
            mcp_tool_calls.clone(),
        );
        registry.register(
            "mcp_sessions",
            "Open streamable-HTTP sessions of the MCP server",
            mcp_sessions.clone(),
        );
        Self {
            registry,
            cloud_connected,
            mqtt_connected,
            cloud_reconnects,
            cloud_frames,
            cloud_frames_dropped,
            mqtt_publishes,
            commands,
            command_duration,
            queue_depth,
            http_responses,
            stream_clients,
            stream_clients_dropped,
            http_connections,
            http_connections_refused,
            http_connections_closed,
            history_write_errors,
            history_records_dropped,
            mcp_tool_calls,
            mcp_sessions,
        }
    }

    /// The history database could not be opened or written.
    pub fn history_write_error(&self) {
        self.history_write_errors.inc();
    }

    /// `n` history records were dropped.
    pub fn history_dropped(&self, n: u64) {
        self.history_records_dropped.inc_by(n);
    }

    /// The Anova cloud link went up (connected and authenticated) or down.
    pub fn cloud_link(&self, up: bool) {
        self.cloud_connected.set(i64::from(up));
    }

    /// The MQTT broker link went up or down.
    pub fn mqtt_link(&self, up: bool) {
        self.mqtt_connected.set(i64::from(up));
    }

    /// A new connection to the cloud after the first.
    pub fn cloud_reconnect(&self) {
        self.cloud_reconnects.inc();
    }

    /// A frame arrived from the cloud.
    pub fn cloud_frame(&self) {
        self.cloud_frames.inc();
    }

    /// A frame from the cloud could not be used.
    pub fn dropped_frame(&self) {
        self.cloud_frames_dropped.inc();
    }

    /// A message was published to the broker.
    pub fn publish(&self) {
        self.mqtt_publishes.inc();
    }

    /// A command was answered: `code` is `None` for `ok`, else the §3.3 error code; `duration`
    /// runs from its arrival to its response.
    pub fn command_finished(&self, code: Option<&str>, duration: Duration) {
        let code = code.unwrap_or("ok").to_owned();
        self.commands.get_or_create(&CodeLabel { code }).inc();
        self.command_duration.observe(duration.as_secs_f64());
    }

    /// How many items wait in the daemon queue `queue` (a fixed name such as `cloud_out`).
    pub fn queue_depth(&self, queue: &'static str, depth: usize) {
        let depth = i64::try_from(depth).unwrap_or(i64::MAX);
        self.queue_depth
            .get_or_create(&QueueLabel { queue })
            .set(depth);
    }

    /// The HTTP API answered with `status`.
    pub(crate) fn http_response(&self, status: u16) {
        let code = status.to_string();
        self.http_responses.get_or_create(&CodeLabel { code }).inc();
    }

    /// A stream client connected (`+1`) or left (`-1`).
    pub(crate) fn stream_client(&self, delta: i64) {
        self.stream_clients.inc_by(delta);
    }

    /// The bridge disconnected a stream client.
    pub(crate) fn stream_client_dropped(&self, reason: DropReason) {
        self.stream_clients_dropped
            .get_or_create(&ReasonLabel {
                reason: reason.label(),
            })
            .inc();
    }

    /// Connections open to the HTTP API.
    pub(crate) fn http_connections(&self, open: usize) {
        self.http_connections
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// A connection to the HTTP API was refused at once (`reason`: `limit`, `descriptors`).
    pub(crate) fn http_connection_refused(&self, reason: &'static str) {
        self.http_connections_refused
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// The bridge closed a connection to the HTTP API (`reason`: `evicted`,
    /// `header_timeout`, `write_timeout`).
    pub(crate) fn http_connection_closed(&self, reason: &'static str) {
        self.http_connections_closed
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// An MCP tool was called; `outcome` is `ok` or the error code of its answer.
    pub(crate) fn mcp_tool_call(&self, tool: &str, outcome: &str) {
        self.mcp_tool_calls
            .get_or_create(&ToolLabels {
                tool: tool.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Streamable-HTTP sessions of the MCP server open now.
    pub(crate) fn mcp_sessions(&self, open: usize) {
        self.mcp_sessions
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// The whole exposition: the daemon-wide metrics, then one series per device from
    /// `devices` (the JSON array of `ApiRequest::Devices`; `None` when the main loop did not
    /// answer, which leaves the device series out rather than failing the scrape).
    pub fn render(&self, devices: Option<&Value>) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail; the Results only exist for other writers.
        let _ = text::encode_registry(&mut out, &self.registry);
        if let Some(devices) = devices {
            let _ = text::encode_registry(&mut out, &device_registry(devices));
        }
        let _ = text::encode_eof(&mut out);
        out
    }
}

/// A throw-away registry with the per-device series of one scrape.
fn device_registry(devices: &Value) -> Registry {
    let mut registry = Registry::with_prefix(PREFIX);
    let info = Family::<DeviceInfoLabels, Gauge>::default();
    let online = Family::<DeviceLabel, Gauge>::default();
    let cooking = Family::<DeviceLabel, Gauge>::default();
    let temperature = Family::<DeviceLabel, Gauge<f64, AtomicU64>>::default();
    let target = Family::<DeviceLabel, Gauge<f64, AtomicU64>>::default();
    for device in devices.as_array().into_iter().flatten() {
        let Some(id) = device.get("id").and_then(Value::as_str) else {
            continue;
        };
        let text = |key: &str| {
            device
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        info.get_or_create(&DeviceInfoLabels {
            device: id.to_owned(),
            name: text("name"),
            model: text("model"),
        })
        .set(1);
        let label = DeviceLabel {
            device: id.to_owned(),
        };
        let state = device.get("state");
        let flag = |key: &str| {
            state
                .and_then(|s| s.get(key))
                .or_else(|| device.get(key))
                .and_then(Value::as_bool)
        };
        online
            .get_or_create(&label)
            .set(i64::from(flag("online") == Some(true)));
        if let Some(is_cooking) = flag("cooking") {
            cooking.get_or_create(&label).set(i64::from(is_cooking));
        }
        // Cookers report the water; ovens the controlling bulb (`docs/interface.md` §5.1).
        let number = |key: &str| state.and_then(|s| s.get(key)).and_then(Value::as_f64);
        if let Some(t) = number("water_temperature").or_else(|| number("temperature")) {
            temperature.get_or_create(&label).set(t);
        }
        if let Some(t) = number("target_temperature") {
            target.get_or_create(&label).set(t);
        }
    }
    registry.register(
        "device_info",
        "1 per device, labelled with its name and model",
        info,
    );
    registry.register(
        "device_online",
        "1 while the device is available (the rule of <base>/<id>/availability)",
        online,
    );
    registry.register("device_cooking", "1 while the device runs a cook", cooking);
    registry.register(
        "device_temperature_celsius",
        "Water temperature (cookers) or the controlling bulb's temperature (ovens), °C",
        temperature,
    );
    registry.register(
        "device_target_temperature_celsius",
        "Target temperature, °C",
        target,
    );
    registry
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The value of the sample line that starts with `series ` (name and labels).
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|value| value.parse().ok())
    }

    #[test]
    fn daemon_metrics_are_counted() {
        let m = Metrics::new();
        m.cloud_link(true);
        m.cloud_frame();
        m.cloud_frame();
        m.dropped_frame();
        m.publish();
        m.cloud_reconnect();
        m.command_finished(None, Duration::from_millis(300));
        m.command_finished(Some("out_of_range"), Duration::from_millis(1));
        m.queue_depth("cloud_out", 3);
        m.http_response(404);
        let text = m.render(None);
        assert_eq!(sample(&text, "anova2mqtt_cloud_connected"), Some(1.0));
        assert_eq!(sample(&text, "anova2mqtt_mqtt_connected"), Some(0.0));
        assert_eq!(sample(&text, "anova2mqtt_cloud_frames_total"), Some(2.0));
        assert_eq!(
            sample(&text, "anova2mqtt_cloud_frames_dropped_total"),
            Some(1.0)
        );
        assert_eq!(sample(&text, "anova2mqtt_mqtt_publishes_total"), Some(1.0));
        assert_eq!(
            sample(&text, "anova2mqtt_cloud_reconnects_total"),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "anova2mqtt_commands_total{code=\"ok\"}"),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "anova2mqtt_commands_total{code=\"out_of_range\"}"),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "anova2mqtt_command_duration_seconds_count"),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "anova2mqtt_command_duration_seconds_bucket{le=\"0.5\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "anova2mqtt_command_duration_seconds_bucket{le=\"0.05\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "anova2mqtt_queue_depth{queue=\"cloud_out\"}"),
            Some(3.0)
        );
        assert_eq!(
            sample(&text, "anova2mqtt_http_responses_total{code=\"404\"}"),
            Some(1.0)
        );
        assert!(text.contains("anova2mqtt_build_info{version=\""), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            !text.contains("device_online"),
            "no devices without a device list"
        );
    }

    #[test]
    fn device_series_come_from_the_device_list() {
        let devices = json!([
            {"id": "a7", "name": "Kitchen \"A7\"", "model": "a7", "online": true,
             "state": {"online": true, "cooking": true, "water_temperature": 56.5,
                       "target_temperature": 57.0}},
            {"id": "oven", "name": "Oven", "model": "oven_v2", "online": false,
             "state": {"online": false, "cooking": false, "temperature": 180.0,
                       "target_temperature": null}},
            {"id": "bare", "online": false},
            {"no_id": true}
        ]);
        let text = Metrics::new().render(Some(&devices));
        assert_eq!(
            sample(&text, "anova2mqtt_device_online{device=\"a7\"}"),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "anova2mqtt_device_online{device=\"oven\"}"),
            Some(0.0)
        );
        assert_eq!(
            sample(&text, "anova2mqtt_device_online{device=\"bare\"}"),
            Some(0.0)
        );
        assert_eq!(
            sample(
                &text,
                "anova2mqtt_device_temperature_celsius{device=\"a7\"}"
            ),
            Some(56.5)
        );
        assert_eq!(
            sample(
                &text,
                "anova2mqtt_device_temperature_celsius{device=\"oven\"}"
            ),
            Some(180.0)
        );
        assert_eq!(
            sample(
                &text,
                "anova2mqtt_device_target_temperature_celsius{device=\"a7\"}"
            ),
            Some(57.0)
        );
        assert!(!text.contains("anova2mqtt_device_target_temperature_celsius{device=\"oven\"}"));
        assert_eq!(
            sample(&text, "anova2mqtt_device_cooking{device=\"a7\"}"),
            Some(1.0)
        );
        assert!(
            text.contains(
                r#"anova2mqtt_device_info{device="a7",name="Kitchen \"A7\"",model="a7"} 1"#
            ),
            "{text}"
        );
        // One EOF marker, at the end.
        assert_eq!(text.matches("# EOF").count(), 1);
        assert!(text.ends_with("# EOF\n"));
    }
}
