//! Support for the HTTP API tests: the real server on a free port, in front of a fake main
//! loop that answers `ApiRequest`s from a small scripted state; a tiny HTTP/1.1 client; and
//! WebSocket helpers.

#![allow(dead_code, unreachable_pub)]

use anova2mqtt::config::Config;
use anova2mqtt::http::{self, ApiHandle, ApiRequest, CommandReply, Health, Settings};
use anova2mqtt::metrics::Metrics;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// The default time to wait for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);

/// Ids of the fake devices.
pub const A7: &str = "a7demo000000000001";
pub const PRO: &str = "prodemo00000000001";
pub const OVEN: &str = "ovendemo0000000001";

/// How the fake main loop treats requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers at once.
    Answer,
    /// Reads requests and never answers (the reply senders are kept).
    Silent,
    /// Reads requests and drops them unanswered.
    Drop,
    /// Reads one request, keeps it, and stops reading until the mode changes (the request
    /// queue fills up).
    Stalled,
}

/// What the fake main loop answers with. Tests change it through [`TestServer::fake`].
pub struct FakeState {
    pub mode: Mode,
    pub devices: Value,
    pub health: Health,
    pub histories: HashMap<String, Value>,
    /// Kept so `Silent` requests stay unanswered rather than dropped.
    parked: Vec<ApiRequest>,
}

impl FakeState {
    /// Requests the fake main loop holds without answering.
    pub fn parked_requests(&self) -> usize {
        self.parked.len()
    }
}

/// Two cookers (an `a7` cooking, an idle `pro`) and an oven preheating: the contract's
/// state fields (`docs/interface.md` §3.1, §5.1).
pub fn fake_devices() -> Value {
    json!([
        device(A7, "Kitchen sous vide", "a7", "01.01.25", 92.0, a7_state()),
        device(PRO, "Garage Pro", "pro", "2.1.4", 99.5, pro_state()),
        device(
            OVEN,
            "Precision Oven",
            "oven_v2",
            "2.3.1",
            250.0,
            oven_state()
        ),
    ])
}

fn device(id: &str, name: &str, model: &str, firmware: &str, max: f64, state: Value) -> Value {
    let min = if model.starts_with("oven") { 25.0 } else { 0.0 };
    json!({"id": id, "cooker_id": id, "name": name, "model": model, "firmware": firmware,
           "online": true, "min_temperature_c": min, "max_temperature_c": max,
           "max_timer_s": 359940, "state": state})
}

/// `now` plus `seconds`, RFC 3339.
pub fn at(seconds: i64) -> String {
    let time = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        + time::Duration::seconds(seconds);
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn a7_state() -> Value {
    let mut state = json!({
        "cooking": true, "stage": "cooking", "hvac_action": "heating",
        "water_temperature": 56.8, "target_temperature": 57.0, "display_unit": "C",
        "timer_running": true, "timer_total": 5400, "timer_remaining": 3120,
        "cook_ends_at": at(3120), "time_maintaining": null,
        "heater_temperature": 61.5, "triac_temperature": 48.0, "model": "a7",
        "firmware": "01.01.25", "online": true, "updated_at": at(0)});
    for alarm in [
        "low_water",
        "water_critical",
        "water_leak",
        "high_temp",
        "motor_stuck",
        "triac_failed",
    ] {
        state[alarm] = json!(false);
    }
    state
}

/// The fake bridge's pending plans: carrots on the Pro, ready in a few hours (`interface.md`
/// §8.2's schedule object, as `GET /api/v1/schedules` lists it).
pub fn fake_schedules() -> Value {
    json!([{
        "schedule_id": "6f1c2a7e-3b9d-4c51-9a0e-5d2f8b7c4e11", "device": PRO,
        "start_at": at(2 * 3600), "ready_by": at(2 * 3600 + 64 * 60 + 3600),
        "command": {"cook": true, "target_temperature": 85, "timer": 3600, "food": "vegetables"},
        "id": "carrots", "created_at": at(-60), "made_by": "http", "state": "waiting",
        "estimate": {"come_up_s": 3810, "heating_rate_c_per_min": 1, "basis": "default", "cooks": 0},
        "food_safety": {"food": "vegetables", "perishable": false}
    }])
}

fn pro_state() -> Value {
    json!({
        "cooking": false, "stage": "idle", "hvac_action": "off",
        "water_temperature": 21.5, "target_temperature": 63.0, "display_unit": "F",
        "timer_running": false, "timer_total": 0, "timer_remaining": 0,
        "cook_ends_at": null, "time_maintaining": null, "low_water": false,
        "water_critical": null, "water_leak": null, "high_temp": false,
        "motor_stuck": null, "triac_failed": null, "heater_temperature": null,
        "triac_temperature": null, "model": "pro", "firmware": "2.1.4",
        "online": true, "updated_at": at(0)})
}

fn oven_state() -> Value {
    let mut state = json!({
        "cooking": true, "stage": "preheating", "temperature_mode": "dry",
        "temperature": 142.5, "target_temperature": 200.0,
        "dry_temperature": 142.5, "wet_temperature": 71.0,
        "top_temperature": 150.1, "bottom_temperature": 139.0,
        "steam_mode": "off", "humidity": 12, "steam_target": null,
        "probe_connected": false, "probe_temperature": null, "probe_target": null,
        "element_top": true, "element_bottom": true, "element_rear": true,
        "fan_speed": 100, "door_open": false, "vent_open": false, "lamp_on": true});
    let more = json!({
        "water_tank_empty": false, "stage_index": 1, "stage_count": 1,
        "stage_title": "Roast", "timer_running": false, "timer_total": 1800,
        "timer_remaining": 1800, "cook_ends_at": null, "display_unit": "C",
        "model": "oven_v2", "firmware": "2.3.1", "online": true,
        "updated_at": at(0)});
    if let (Some(state), Value::Object(more)) = (state.as_object_mut(), more) {
        state.extend(more);
    }
    state
}

/// A plausible history per device: the a7 heating from 20 °C to 57 °C over 40 minutes, the
/// oven preheating towards 200 °C for 10 minutes, nothing for the idle Pro.
pub fn fake_history(id: &str) -> Value {
    let curve = |from: f64, to: f64, tau: f64, count: u32, step: f64| -> Vec<Value> {
        (0..=count)
            .map(|i| {
                let t = f64::from(i) * step;
                let value = to - (to - from) * (-t / tau).exp();
                json!([t, (value * 10.0).round() / 10.0, to])
            })
            .collect()
    };
    let (started_at, points) = match id {
        A7 => (
            json!("2026-11-29T18:20:00Z"),
            curve(20.0, 57.0, 600.0, 80, 30.0),
        ),
        OVEN => (
            json!("2026-11-29T18:50:00Z"),
            curve(25.0, 200.0, 900.0, 40, 15.0),
        ),
        _ => (Value::Null, Vec::new()),
    };
    json!({"device": id, "started_at": started_at, "interval_s": 30, "points": points})
}

/// The server under test.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: ApiHandle,
    pub fake: Arc<Mutex<FakeState>>,
    /// Every command the fake main loop received: (device, body).
    pub commands: mpsc::UnboundedReceiver<(String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Settings with short times, for tests: heartbeat 200 ms, auth deadline 1 s.
pub fn quick_settings() -> Settings {
    let mut settings = Settings::new(&Config::default());
    settings.heartbeat = Duration::from_millis(200);
    settings.auth_deadline = Duration::from_secs(1);
    settings.request_timeout = Duration::from_millis(500);
    settings.command_timeout = Duration::from_secs(2);
    settings.shutdown_grace = Duration::from_millis(500);
    settings
}

impl TestServer {
    /// The server with `settings`, in front of the fake main loop with the fake devices.
    pub async fn start(settings: Settings) -> Self {
        Self::start_with(settings, 32, 256).await
    }

    /// As [`TestServer::start`], with the handle's queue sizes.
    pub async fn start_with(settings: Settings, requests: usize, stream: usize) -> Self {
        Self::start_full(settings, requests, stream, |_| None).await
    }

    /// As [`TestServer::start`], with the MCP server at `/mcp` over the fake main loop.
    pub async fn start_mcp(
        settings: Settings,
        mode: anova2mqtt::config::McpMode,
        limits: anova2mqtt::mcp::McpLimits,
    ) -> Self {
        let (read, command) = (settings.request_timeout, settings.command_timeout);
        let (history, presets) = (settings.history.clone(), settings.presets.clone());
        Self::start_full(settings, 32, 256, |handle| {
            let backend =
                anova2mqtt::mcp::Local::new(handle.clone(), history, read, command, presets);
            Some(anova2mqtt::mcp::router(
                backend,
                mode,
                limits,
                handle.metrics().clone(),
                tokio_util::sync::CancellationToken::new(),
            ))
        })
        .await
    }

    async fn start_full(
        mut settings: Settings,
        requests: usize,
        stream: usize,
        mcp: impl FnOnce(&ApiHandle) -> Option<axum::Router>,
    ) -> Self {
        let (handle, requests) =
            ApiHandle::with_capacity(Arc::new(Metrics::new()), requests, stream);
        settings.mcp = mcp(&handle);
        let fake = Arc::new(Mutex::new(FakeState {
            mode: Mode::Answer,
            devices: fake_devices(),
            health: Health {
                cloud: "connected".to_owned(),
                mqtt_connected: true,
                devices: 3,
                online: 3,
                history: "ok".to_owned(),
            },
            histories: [A7, PRO, OVEN]
                .into_iter()
                .map(|id| (id.to_owned(), fake_history(id)))
                .collect(),
            parked: Vec::new(),
        }));
        let (commands_tx, commands) = mpsc::unbounded_channel();
        handle.publish_health(fake.lock().unwrap().health.clone());
        tokio::spawn(fake_main_loop(requests, fake.clone(), commands_tx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(http::serve(
            listener,
            settings,
            handle.clone(),
            async move {
                let _ = stop.await;
            },
        ));
        Self {
            addr,
            handle,
            fake,
            commands,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Changes the health the fake main loop publishes for `/healthz`.
    pub fn set_health(&self, change: impl FnOnce(&mut Health)) {
        let mut fake = self.fake.lock().unwrap();
        change(&mut fake.health);
        self.handle.publish_health(fake.health.clone());
    }

    pub fn set_mode(&self, mode: Mode) {
        self.fake.lock().unwrap().mode = mode;
    }

    /// The next command the main loop received.
    pub async fn next_command(&mut self) -> (String, String) {
        tokio::time::timeout(WAIT, self.commands.recv())
            .await
            .expect("no command reached the main loop")
            .expect("main loop gone")
    }

    pub fn ws_url(&self, path_and_query: &str) -> String {
        format!("ws://{}{path_and_query}", self.addr)
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let server = self.server.take().expect("stopped twice");
        tokio::time::timeout(WAIT, server)
            .await
            .expect("serve did not return after shutdown")
            .unwrap()
    }
}

/// The fake main loop: answers each request from `state`.
async fn fake_main_loop(
    mut requests: mpsc::Receiver<ApiRequest>,
    state: Arc<Mutex<FakeState>>,
    commands: mpsc::UnboundedSender<(String, String)>,
) {
    while let Some(request) = requests.recv().await {
        if state.lock().unwrap().mode == Mode::Stalled {
            state.lock().unwrap().parked.push(request);
            while state.lock().unwrap().mode == Mode::Stalled {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            continue;
        }
        let mut state = state.lock().unwrap();
        match state.mode {
            Mode::Answer | Mode::Stalled => {}
            Mode::Silent => {
                state.parked.push(request);
                continue;
            }
            Mode::Drop => continue,
        }
        let find = |id: &str| {
            state
                .devices
                .as_array()
                .and_then(|all| all.iter().find(|d| d["id"] == id))
                .cloned()
        };
        match request {
            ApiRequest::Devices { reply } => {
                let _ = reply.send(state.devices.clone());
            }
            ApiRequest::Device { id, reply } => {
                let _ = reply.send(find(&id));
            }
            ApiRequest::History { id, reply } => {
                let _ = reply.send(find(&id).and(state.histories.get(&id).cloned()));
            }
            ApiRequest::Schedules { reply } => {
                let _ = reply.send(fake_schedules());
            }
            ApiRequest::Command {
                device,
                payload,
                reply,
                ..
            } => {
                let text = String::from_utf8_lossy(&payload).into_owned();
                let _ = commands.send((device.clone(), text.clone()));
                let _ = reply.send(find(&device).map(|_| fake_reply(&text)));
            }
        }
    }
}

/// The fake bridge's response: `invalid_json` for a body that is not a JSON object, the code
/// in `"_code"` when there is one (so tests can ask for every code), else `ok`.
fn fake_reply(body: &str) -> CommandReply {
    let parsed: Option<Value> = serde_json::from_str(body).ok().filter(Value::is_object);
    let Some(command) = parsed else {
        return CommandReply {
            code: Some("invalid_json".to_owned()),
            body: json!({"id": "generated", "status": "error",
                         "error": {"code": "invalid_json", "message": "not a JSON object"}})
            .to_string(),
        };
    };
    let id = command.get("id").cloned().unwrap_or(json!("generated"));
    match command.get("_code").and_then(Value::as_str) {
        Some(code) => CommandReply {
            code: Some(code.to_owned()),
            body: json!({"id": id, "status": "error",
                         "error": {"code": code, "message": format!("fake {code}")}})
            .to_string(),
        },
        None => {
            let mut echoed = command.clone();
            if let Some(fields) = echoed.as_object_mut() {
                fields.remove("id");
            }
            CommandReply {
                code: None,
                body: json!({"id": id, "status": "ok", "command": echoed}).to_string(),
            }
        }
    }
}

/// An HTTP response as the tests see it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Asserts the adapter's error shape with `code`.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        let body = self.json();
        assert_eq!(body["status"], "error", "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    tokio::time::timeout(WAIT, request_inner(addr, method, path, headers, body))
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no answer within {WAIT:?}"))
}

async fn request_inner(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    if let Some(body) = body {
        // The server may answer (413) before reading everything and close.
        let _ = stream.write_all(body).await;
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let body = if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    request(addr, "GET", path, headers, None).await
}

/// POSTs a JSON body.
pub async fn post_json(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    request(addr, "POST", path, &all, Some(body.as_bytes())).await
}

/// A stream client.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `url` with extra `headers`; `Err` holds the HTTP status of a refusal.
pub async fn ws_connect(url: &str, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
            Err(response.status().as_u16())
        }
        Ok(Err(err)) => panic!("websocket to {url}: {err}"),
        Err(_) => panic!("websocket to {url}: no answer"),
    }
}

/// What a stream client received next.
#[derive(Debug)]
pub enum Received {
    Json(Value),
    /// A close frame: its code and reason.
    Closed(u16, String),
    /// The connection ended without a close frame.
    Ended,
}

/// The next message (text as JSON), close or end.
pub async fn next(ws: &mut Ws) -> Received {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("nothing received from the stream in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Received::Json(serde_json::from_str(text.as_str()).unwrap())
            }
            Some(Ok(Message::Close(frame))) => {
                return match frame {
                    Some(frame) => {
                        Received::Closed(u16::from(frame.code), frame.reason.to_string())
                    }
                    None => Received::Closed(1005, String::new()),
                }
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Received::Ended,
        }
    }
}

/// The next JSON message whose `type` is `kind`, skipping others (heartbeats, states, …).
pub async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        match next(ws).await {
            Received::Json(message) if message["type"] == kind => return message,
            Received::Json(_) => continue,
            other => panic!("stream ended while waiting for {kind}: {other:?}"),
        }
    }
}

/// The close frame (or end) that comes next, skipping messages.
pub async fn closing(ws: &mut Ws) -> Received {
    loop {
        match next(ws).await {
            Received::Json(_) => continue,
            other => return other,
        }
    }
}

pub async fn send_json(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// The value of the metric sample line that starts with `series ` in `/metrics`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

/// The cook [`history_with_a_cook`] records.
pub const COOK_ID: &str = "2f1c4e36-0b7a-4a57-9d55-8c9b1f0e6a01";

/// An in-memory cook history holding one finished cooker cook ([`COOK_ID`], on the a7) with
/// events, a command and a short curve, and one running oven cook.
pub async fn history_with_a_cook() -> anova2mqtt::store::Store {
    use anova2mqtt::bridge::{CookOpened, CookOutcome, CookSummary, CurvePoint, Record, Source};
    use anova2mqtt::store::{Settings, Store};
    let (store, _status) =
        Store::start(Settings::new(None, Duration::from_secs(86400 * 365)), None).unwrap();
    let t0 = time::macros::datetime!(2026-11-29 18:20:00 UTC);
    let at = |s: i64| t0 + time::Duration::seconds(s);
    store.record(Record::CookOpened(Box::new(CookOpened {
        cook_id: COOK_ID.into(),
        device: A7.into(),
        model: "a7".into(),
        family: "cooker",
        source: Source::Mqtt,
        started_at: t0,
        plan: json!({"target_temperature": 57.0, "timer": 5400}).to_string(),
    })));
    store.record(Record::Command {
        device: A7.into(),
        cook_id: Some(COOK_ID.into()),
        at: at(1),
        source: Source::Mqtt,
        request: json!({"cook": true, "target_temperature": 57, "timer": 90}).to_string(),
        response: json!({"id": "1", "status": "ok", "command": {"cook": true, "target_temperature": 57.0, "timer": 5400}}).to_string(),
    });
    for (kind, s) in [
        ("cook_started", 0),
        ("preheat_complete", 900),
        ("timer_finished", 6300),
        ("cook_stopped", 6312),
    ] {
        store.record(Record::Event {
            cook_id: COOK_ID.into(),
            at: at(s),
            kind,
            payload: json!({"event_type": kind, "cook_id": COOK_ID, "at": format!("{}", at(s).format(&time::format_description::well_known::Rfc3339).unwrap())}).to_string(),
        });
    }
    for (s, t) in [
        (0, 20.4),
        (10, 20.9),
        (900, 57.0),
        (3000, 56.9),
        (6300, 57.2),
    ] {
        store.record(Record::Sample {
            cook_id: COOK_ID.into(),
            at: at(s),
            point: CurvePoint {
                temperature: Some(t),
                target: Some(57.0),
                ..CurvePoint::default()
            },
        });
    }
    store.record(Record::CookClosed {
        cook_id: COOK_ID.into(),
        ended_at: at(6312),
        summary: CookSummary {
            outcome: CookOutcome::Completed,
            duration_s: 6312,
            time_to_target_s: Some(900),
            min_c: Some(56.9),
            max_c: Some(57.2),
        },
    });
    store.record(Record::CookOpened(Box::new(CookOpened {
        cook_id: "oven-cook".into(),
        device: OVEN.into(),
        model: "oven_v2".into(),
        family: "oven",
        source: Source::Device,
        started_at: at(7000),
        plan: json!({"temperature_mode": "dry", "target_temperature": 200.0}).to_string(),
    })));
    store.record(Record::Sample {
        cook_id: "oven-cook".into(),
        at: at(7000),
        point: CurvePoint {
            temperature: Some(21.5),
            target: Some(200.0),
            probe: None,
            humidity: Some(40.0),
        },
    });
    store.flush().await.expect("the history is written");
    store
}
