//! The Anova cloud simulator over a real WebSocket, with tokio-tungstenite as the client: frame
//! shapes against the real captures, whole cooks on both cooker generations and both oven
//! generations, the load generator, every quirk and every fault mode. Cooker frames are read
//! with the product's parser and normaliser (a cross-check of both sides); oven frames as raw
//! JSON.

use anova2mqtt::simulator::{
    demo_cookers, Alarm, AuthFailureMode, CookerStage, Fault, LoadModel, LoadSpec, OvenChange,
    OvenMode, OvenSettings, RawFrame, SimCookerSpec, SimOvenSpec, Simulator, SimulatorConfig,
    SimulatorHandle, WaterTank,
};
use anova2mqtt::sous_vide::state::{CookerState, Stage};
use anova2mqtt::sous_vide::wire::{ApcCommand, ApcState, DeviceRef};
use anova2mqtt::wire::{DeviceType, Event, Response, TemperatureUnit};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

/// The longest any single wait may take; tests normally finish far sooner.
const WAIT: Duration = Duration::from_secs(3);

/// How long "nothing arrives" is watched for in the few negative assertions.
const QUIET: Duration = Duration::from_millis(300);

const A7: &str = "a7demo000000000001";
const PRO: &str = "prodemo00000000001";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn start(config: SimulatorConfig) -> Simulator {
    Simulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

fn url(simulator: &Simulator, token: &str) -> String {
    format!(
        "{}/?token={token}&supportedAccessories=APC&platform=android",
        simulator.url()
    )
}

fn a7_ref() -> DeviceRef {
    DeviceRef {
        cloud_id: A7.into(),
        device_type: DeviceType::new("a7"),
    }
}

fn pro_ref() -> DeviceRef {
    DeviceRef {
        cloud_id: PRO.into(),
        device_type: DeviceType::new("pro"),
    }
}

fn start_cook(cooker: DeviceRef, target: f64, timer: Option<u32>) -> ApcCommand {
    ApcCommand::Start {
        cooker,
        target_temperature: target,
        unit: TemperatureUnit::C,
        timer,
    }
}

/// A WebSocket client reading the simulator's frames.
struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every frame read, as sent (the product's types only read frames; shapes are compared on
    /// the simulator's own text).
    frames: Vec<Value>,
}

impl Client {
    async fn connect(url: &str) -> Client {
        let (ws, _) = timeout(WAIT, connect_async(url))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        Client {
            ws,
            frames: Vec::new(),
        }
    }

    /// Connects and reads the connect sequence (device list, user state, one state per cooker).
    async fn connect_and_settle(url: &str, cookers: usize) -> (Client, Vec<Event>) {
        let mut client = Client::connect(url).await;
        let mut events = Vec::new();
        for _ in 0..cookers + 2 {
            events.push(client.event().await);
        }
        (client, events)
    }

    /// The next text frame (pings are skipped); panics on timeout or close.
    async fn text(&mut self) -> String {
        loop {
            match timeout(WAIT, self.ws.next())
                .await
                .expect("no frame in time")
            {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    async fn event(&mut self) -> Event {
        let text = self.text().await;
        self.frames
            .push(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")));
        Event::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    async fn send_text(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Sends an APC command; returns its request id.
    async fn send(&mut self, command: &ApcCommand) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.send_text(command.to_frame(&id)).await;
        id
    }

    /// Sends any command with this payload; returns its request id.
    async fn send_raw(&mut self, command: &str, payload: Value) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let frame = json!({"command": command, "requestId": id, "payload": payload});
        self.send_text(frame.to_string()).await;
        id
    }

    /// Reads until the RESPONSE to `request_id`; returns it and the events read before it.
    async fn response(&mut self, request_id: &str) -> (Response, Vec<Event>) {
        let mut before = Vec::new();
        loop {
            match self.event().await {
                Event::Response(r) if r.request_id == request_id => return (r, before),
                other => before.push(other),
            }
        }
    }

    /// Sends a command the simulator answers without touching any cooker, and reads up to its
    /// answer. Frames are queued in order, so whatever an earlier action pushed arrives before
    /// this answer: the returned events are everything that action caused.
    async fn barrier(&mut self) -> Vec<Event> {
        let id = self.send_raw("CMD_BARRIER", json!({})).await;
        self.response(&id).await.1
    }

    /// True when no text frame arrives for `QUIET`; panics if the socket ends.
    async fn is_quiet(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + QUIET;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(Message::Text(_)))) => return false,
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("the socket ended: {other:?}"),
            }
        }
    }
}

fn states_of<'a>(events: &'a [Event], cooker_id: &str) -> Vec<&'a ApcState> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ApcState(s) if s.cloud_id == cooker_id => Some(&s.state),
            _ => None,
        })
        .collect()
}

fn normalise(device_type: &str, state: &ApcState, previous: Option<&CookerState>) -> CookerState {
    CookerState::from_wire(
        &DeviceType::new(device_type),
        state,
        OffsetDateTime::now_utc(),
        previous,
    )
    .unwrap()
}

/// Follows one cooker's pushes through our normaliser and records its stages.
struct StageLog {
    cooker_id: &'static str,
    device_type: &'static str,
    last: Option<CookerState>,
    stages: Vec<Stage>,
}

impl StageLog {
    fn new(cooker_id: &'static str, device_type: &'static str) -> Self {
        Self {
            cooker_id,
            device_type,
            last: None,
            stages: Vec::new(),
        }
    }

    fn observe(&mut self, event: &Event) {
        if let Event::ApcState(s) = event {
            if s.cloud_id == self.cooker_id {
                let state = normalise(self.device_type, &s.state, self.last.as_ref());
                if self.stages.last() != Some(&state.stage) {
                    self.stages.push(state.stage);
                }
                self.last = Some(state);
            }
        }
    }

    /// Reads events until this cooker reaches `stage`.
    async fn until(&mut self, client: &mut Client, stage: Stage) -> CookerState {
        loop {
            let event = client.event().await;
            self.observe(&event);
            if let Some(last) = self.last.as_ref().filter(|s| s.stage == stage) {
                return last.clone();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Frame shapes against the real captures
// ---------------------------------------------------------------------------------------------

fn capture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anova-messages")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every path of a JSON tree with the JSON type found there. Keys are joined with `/` (the
/// condition keys contain dots); array elements all share the path `[]`.
fn key_tree(value: &Value, path: String, out: &mut BTreeMap<String, &'static str>) {
    out.insert(path.clone(), kind(value));
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                key_tree(child, format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_tree(item, format!("{path}/[]"), out);
            }
        }
        _ => {}
    }
}

/// Asserts that `ours` has every path of `capture` with the same JSON type, and no path the
/// capture lacks.
fn assert_same_shape(name: &str, capture: &Value, ours: &Value) {
    let (mut theirs, mut mine) = (BTreeMap::new(), BTreeMap::new());
    key_tree(capture, String::new(), &mut theirs);
    key_tree(ours, String::new(), &mut mine);
    let missing: Vec<_> = theirs
        .iter()
        .filter(|(path, kind)| mine.get(*path) != Some(kind))
        .map(|(path, kind)| format!("{path} ({kind}, ours: {:?})", mine.get(path)))
        .collect();
    let extra: Vec<_> = mine.keys().filter(|p| !theirs.contains_key(*p)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: missing or mistyped {missing:#?}, extra {extra:#?}\nours: {ours:#}"
    );
}

#[tokio::test]
async fn frames_have_the_shape_of_the_real_captures() {
    let simulator = start(SimulatorConfig {
        cookers: vec![
            SimCookerSpec {
                water_temperature_c: 59.0,
                ..SimCookerSpec::a7(A7, "Anova Precision Cooker 3.0")
            },
            SimCookerSpec {
                water_temperature_c: 4.1,
                ..SimCookerSpec::pro(PRO, "Anova Precision Cooker Pro")
            },
        ],
        speed: 60.0,
        preheat_rate_c_per_min: 5.0,
        ..SimulatorConfig::for_tests(Vec::new())
    })
    .await;
    let (mut client, _connect) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    assert_same_shape(
        "EVENT_APC_WIFI_LIST",
        &capture("EVENT_APC_WIFI_LIST.a4+a7.real.json"),
        &client.frames[0],
    );
    assert_same_shape(
        "EVENT_USER_STATE",
        &capture("EVENT_USER_STATE.real.json"),
        &client.frames[1],
    );
    assert_same_shape(
        "a7 idle",
        &capture("EVENT_APC_STATE.a7.idle.real.json"),
        &client.frames[2],
    );

    // A running timer on the a7, and a long preheat on the pro.
    let a7 = client.send(&start_cook(a7_ref(), 60.0, Some(3600))).await;
    client.response(&a7).await;
    let pro = client.send(&start_cook(pro_ref(), 69.0, Some(6960))).await;
    client.response(&pro).await;
    let (mut a7_cooking, mut pro_preheating) = (None, None);
    while a7_cooking.is_none() || pro_preheating.is_none() {
        let event = client.event().await;
        let raw = client.frames.last().cloned().unwrap_or(Value::Null);
        let Event::ApcState(state) = &event else {
            continue;
        };
        match &state.state {
            ApcState::Gen3(s)
                if s.nodes
                    .as_ref()
                    .unwrap()
                    .timer
                    .as_ref()
                    .unwrap()
                    .started_at_timestamp
                    .is_some() =>
            {
                a7_cooking = Some(raw);
            }
            ApcState::Gen2(s)
                if s.job.as_ref().unwrap().mode.as_ref().unwrap().as_str() == "COOK" =>
            {
                pro_preheating = Some(raw);
            }
            _ => {}
        }
    }
    assert_same_shape(
        "a7 cooking",
        &capture("EVENT_APC_STATE.a7.cooking.real.json"),
        &a7_cooking.unwrap(),
    );
    assert_same_shape(
        "pro preheating",
        &capture("EVENT_APC_STATE.pro.preheating.real.json"),
        &pro_preheating.unwrap(),
    );
    simulator.shutdown().await;
}

#[test]
fn the_shape_check_catches_a_difference() {
    // The comparison above must be able to fail.
    let capture = json!({"a": {"b": 1, "c": [{"d": "x"}]}});
    for ours in [
        json!({"a": {"b": 1, "c": [{"d": 2}]}}),
        json!({"a": {"b": 1, "c": [{"d": "x"}], "e": true}}),
        json!({"a": {"b": 1, "c": []}}),
    ] {
        let result = std::panic::catch_unwind(|| assert_same_shape("t", &capture, &ours));
        assert!(result.is_err(), "{ours}");
    }
    assert_same_shape("t", &capture, &json!({"a": {"b": 2.5, "c": [{"d": "y"}]}}));
}

// ---------------------------------------------------------------------------------------------
// Whole cooks
// ---------------------------------------------------------------------------------------------

/// speed 600, preheat 5 °C/min, water 1 °C below the target, a 2-minute timer: preheat takes
/// about 8 simulated seconds (15 ms), the timer 200 ms.
fn cook_config() -> SimulatorConfig {
    SimulatorConfig {
        speed: 600.0,
        preheat_rate_c_per_min: 5.0,
        ..SimulatorConfig::for_tests(vec![
            SimCookerSpec {
                water_temperature_c: 59.0,
                ..SimCookerSpec::a7(A7, "a7")
            },
            SimCookerSpec {
                water_temperature_c: 59.0,
                ..SimCookerSpec::pro(PRO, "pro")
            },
        ])
    }
}

async fn whole_cook(cooker: DeviceRef, cooker_id: &'static str, device_type: &'static str) {
    let simulator = start(cook_config()).await;
    let (mut client, connect) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let mut log = StageLog::new(cooker_id, device_type);
    connect.iter().for_each(|e| log.observe(e));

    let id = client
        .send(&start_cook(cooker.clone(), 60.0, Some(120)))
        .await;
    let (response, before) = client.response(&id).await;
    assert!(response.is_ok());
    before.iter().for_each(|e| log.observe(e));
    let cooking = log.until(&mut client, Stage::Cooking).await;
    assert!(cooking.timer_running);
    assert!(cooking.timer_remaining <= 120);
    assert_eq!(cooking.target_temperature, Some(60.0));
    let maintaining = log.until(&mut client, Stage::Maintaining).await;
    assert_eq!(maintaining.timer_remaining, 0);
    assert!(maintaining.cooking);

    let id = client.send(&ApcCommand::Stop { cooker }).await;
    let (response, before) = client.response(&id).await;
    assert!(response.is_ok());
    before.iter().for_each(|e| log.observe(e));
    let idle = log.until(&mut client, Stage::Idle).await;
    assert_eq!(idle.target_temperature, Some(60.0), "the target is kept");

    assert_eq!(
        log.stages,
        [
            Stage::Idle,
            Stage::Preheating,
            Stage::Cooking,
            Stage::Maintaining,
            Stage::Idle
        ]
    );
    simulator.shutdown().await;
}

#[tokio::test]
async fn whole_cook_on_an_a7() {
    whole_cook(a7_ref(), A7, "a7").await;
}

#[tokio::test]
async fn whole_cook_on_a_pro() {
    whole_cook(pro_ref(), PRO, "pro").await;
}

#[tokio::test]
async fn gen2_counts_up_while_maintaining() {
    let simulator = start(SimulatorConfig {
        cooking_push_interval: Duration::from_millis(50),
        ..cook_config()
    })
    .await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let id = client.send(&start_cook(pro_ref(), 60.0, Some(60))).await;
    client.response(&id).await;
    handle
        .wait_for_stage(PRO, CookerStage::Maintaining, WAIT)
        .await
        .unwrap();
    // Wait for a push at least 60 simulated seconds (100 ms) into maintaining.
    let mut log = StageLog::new(PRO, "pro");
    loop {
        log.observe(&client.event().await);
        if let Some(state) = &log.last {
            if state.stage == Stage::Maintaining && state.time_maintaining.unwrap_or(0) >= 60 {
                break;
            }
        }
    }
    simulator.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Connection, tokens, connect sequence
// ---------------------------------------------------------------------------------------------

async fn http_status(url: &str) -> u16 {
    match connect_async(url).await {
        Err(WsError::Http(response)) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn bad_or_missing_token_gets_http_401() {
    let simulator =
        start(SimulatorConfig::for_tests(demo_cookers()).with_token("anova-mine")).await;
    let handle = simulator.handle();
    assert_eq!(http_status(&url(&simulator, "anova-other")).await, 401);
    let missing = format!("{}/?supportedAccessories=APC", simulator.url());
    assert_eq!(http_status(&missing).await, 401);
    assert_eq!(handle.connection_attempts(), 2);
    assert_eq!(handle.open_connections(), 0);
    simulator.shutdown().await;
}

#[tokio::test]
async fn close_mode_accepts_then_closes_with_1008_and_no_frames() {
    let simulator = start(SimulatorConfig {
        auth_failure: AuthFailureMode::CloseAfterUpgrade,
        ..SimulatorConfig::for_tests(demo_cookers()).with_token("anova-mine")
    })
    .await;
    let mut client = Client::connect(&url(&simulator, "anova-other")).await;
    match timeout(WAIT, client.ws.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Policy),
        other => panic!("expected a 1008 close, got {other:?}"),
    }
    assert_eq!(simulator.handle().open_connections(), 0);
    simulator.shutdown().await;
}

#[tokio::test]
async fn token_rules() {
    // Configured: exactly that token.
    let configured =
        start(SimulatorConfig::for_tests(demo_cookers()).with_token("anova-mine")).await;
    Client::connect_and_settle(&url(&configured, "anova-mine"), 2).await;
    configured.shutdown().await;

    // None configured: any personal access token, nothing else.
    let open = start(SimulatorConfig::for_tests(demo_cookers())).await;
    Client::connect_and_settle(&url(&open, "anova-whatever"), 2).await;
    assert_eq!(http_status(&url(&open, "eyJhbGciOiJIUzI1NiJ9")).await, 401);
    assert_eq!(http_status(&url(&open, "anova-")).await, 401);
    open.shutdown().await;
}

#[tokio::test]
async fn url_forms_empty_segments_and_the_anova_v2_subprotocol() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let base = simulator.url();
    for url in [
        format!("{base}?token=anova-x&supportedAccessories=APC"),
        format!("{base}/?token=anova-x&supportedAccessories=APC"),
        format!("{base}/?token=anova-x&&supportedAccessories=APC&platform=android&uid=1"),
    ] {
        Client::connect_and_settle(&url, 2).await;
    }

    let mut request = url(&simulator, "anova-x").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "ANOVA_V2".parse().unwrap());
    let (_, response) = connect_async(request).await.unwrap();
    assert_eq!(
        response.headers().get("Sec-WebSocket-Protocol").unwrap(),
        "ANOVA_V2"
    );
    simulator.shutdown().await;
}

#[tokio::test]
async fn connect_sequence_is_list_user_state_then_states() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let (_, events) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let names: Vec<&str> = events.iter().map(Event::command).collect();
    assert_eq!(
        names,
        [
            "EVENT_APC_WIFI_LIST",
            "EVENT_USER_STATE",
            "EVENT_APC_STATE",
            "EVENT_APC_STATE"
        ]
    );
    let Event::ApcWifiList(list) = &events[0] else {
        panic!()
    };
    let ids: Vec<&str> = list.iter().map(|e| e.cloud_id.as_str()).collect();
    assert_eq!(ids, [A7, PRO]);
    assert_eq!(list[0].name.as_deref(), Some("Anova Precision Cooker 3.0"));
    assert!(list[1].paired_at.is_some());
    assert!(matches!(&events[2], Event::ApcState(s) if s.cloud_id == A7));
    assert!(matches!(&events[3], Event::ApcState(s) if s.cloud_id == PRO));
    simulator.shutdown().await;
}

#[tokio::test]
async fn server_pings() {
    let simulator = start(SimulatorConfig {
        ping_interval: Duration::from_millis(30),
        ..SimulatorConfig::for_tests(demo_cookers())
    })
    .await;
    let mut client = Client::connect(&url(&simulator, "anova-x")).await;
    loop {
        match timeout(WAIT, client.ws.next()).await.unwrap() {
            Some(Ok(Message::Ping(_))) => break,
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    simulator.shutdown().await;
}

#[tokio::test]
async fn offline_devices_at_connect() {
    let simulator = start(SimulatorConfig::for_tests(vec![
        SimCookerSpec {
            silent: true,
            ..SimCookerSpec::a7(A7, "a7")
        },
        SimCookerSpec {
            silent: true,
            ..SimCookerSpec::pro(PRO, "pro")
        },
    ]))
    .await;
    let (_, events) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let a7 = states_of(&events, A7);
    let ApcState::Gen3(state) = a7[0] else {
        panic!("gen 3")
    };
    assert_eq!(state.system_info.as_ref().unwrap().online, Some(false));
    let updated =
        anova2mqtt::sous_vide::state::parse_timestamp(state.updated_timestamp.as_deref().unwrap())
            .unwrap();
    let age = OffsetDateTime::now_utc() - updated;
    assert!(age > time::Duration::hours(17), "stale: {age}");
    assert!(!normalise("a7", a7[0], None).online);
    // Gen 2 has no online flag, but its cached state still comes.
    assert_eq!(states_of(&events, PRO).len(), 1);
    simulator.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Command quirks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn error_texts_and_the_error_shape() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let cases = [
        ("CMD_MAKE_COFFEE", json!({}), "Unknown command type"),
        (
            "CMD_APC_DISCONNECT",
            json!({"cookerId": A7, "type": "a7"}),
            "invalid command",
        ),
        (
            "CMD_APC_SET_METADATA",
            json!({"cookerId": A7, "type": "a7"}),
            "invalid command",
        ),
        (
            "AUTH_TOKEN_V2",
            json!({"token": "anova-x"}),
            "failed to process command",
        ),
        (
            "CMD_AUTH_TOKEN",
            json!({"token": "anova-x"}),
            "unauthorized",
        ),
        (
            "CMD_APC_START",
            json!({"cookerId": A7, "type": "a7"}),
            "invalid command",
        ),
        (
            "CMD_APC_START",
            json!({"cookerId": A7, "type": "a7", "targetTemperature": 60, "unit": "K"}),
            "invalid command",
        ),
    ];
    for (command, payload, error) in cases {
        let id = client.send_raw(command, payload).await;
        // The exact frame: {"command":"RESPONSE","requestId":…,"payload":{"status":"error","error":…}}
        let text = client.text().await;
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({"command": "RESPONSE", "requestId": id, "payload": {"status": "error", "error": error}}),
            "{command}"
        );
    }
    simulator.shutdown().await;
}

#[tokio::test]
async fn wrong_or_missing_type_and_unknown_cooker_are_ok_and_change_nothing() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let summary = |h: &SimulatorHandle| {
        h.cookers()
            .into_iter()
            .map(|c| (c.stage, c.target_temperature_c, c.timer_s))
            .collect::<Vec<_>>()
    };
    let before = summary(&handle);
    for payload in [
        json!({"cookerId": A7, "type": "pro", "targetTemperature": 60, "unit": "C"}),
        json!({"cookerId": A7, "targetTemperature": 60, "unit": "C"}),
        json!({"cookerId": "nosuchcooker", "type": "a7", "targetTemperature": 60, "unit": "C"}),
    ] {
        let id = client.send_raw("CMD_APC_START", payload.clone()).await;
        let (response, _) = client.response(&id).await;
        assert!(response.is_ok(), "{payload}");
        let pushed = client.barrier().await;
        assert!(states_of(&pushed, A7).is_empty(), "no push for {payload}");
    }
    assert_eq!(summary(&handle), before);
    assert_eq!(handle.commands().len(), 6);
    simulator.shutdown().await;
}

#[tokio::test]
async fn set_target_temp_on_an_idle_pro_is_ok_and_ignored() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let set = ApcCommand::SetTargetTemp {
        cooker: pro_ref(),
        target_temperature: 70.0,
        unit: TemperatureUnit::C,
    };
    let id = client.send(&set).await;
    assert!(client.response(&id).await.0.is_ok());
    assert!(states_of(&client.barrier().await, PRO).is_empty());
    assert_eq!(handle.cooker(PRO).unwrap().target_temperature_c, 60.0);

    // The a7 takes it while idle (the node setpoint moves) and pushes.
    let set_a7 = ApcCommand::SetTargetTemp {
        cooker: a7_ref(),
        target_temperature: 70.0,
        unit: TemperatureUnit::C,
    };
    let id = client.send(&set_a7).await;
    assert!(client.response(&id).await.0.is_ok());
    assert_eq!(states_of(&client.barrier().await, A7).len(), 1);
    assert_eq!(handle.cooker(A7).unwrap().target_temperature_c, 70.0);
    simulator.shutdown().await;
}

#[tokio::test]
async fn set_timer_and_display_unit() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    // SET_TIMER on an idle Pro updates `cook-time-seconds`.
    let set_timer = ApcCommand::SetTimer {
        cooker: pro_ref(),
        timer: 1200,
    };
    let id = client.send(&set_timer).await;
    let (_, mut pushed) = client.response(&id).await;
    pushed.extend(client.barrier().await);
    let pro = normalise("pro", states_of(&pushed, PRO)[0], None);
    assert_eq!(pro.timer_total, 1200);
    assert_eq!(pro.stage, Stage::Idle);

    // SET_TEMPERATURE_UNIT changes the display unit only; values stay °C.
    let set_unit = ApcCommand::SetTemperatureUnit {
        cooker: a7_ref(),
        unit: TemperatureUnit::F,
    };
    let id = client.send(&set_unit).await;
    let (_, mut pushed) = client.response(&id).await;
    pushed.extend(client.barrier().await);
    let a7 = normalise("a7", states_of(&pushed, A7)[0], None);
    assert_eq!(a7.display_unit, Some(TemperatureUnit::F));
    assert_eq!(a7.target_temperature, Some(60.0));

    // START reads the target in its unit.
    let start_f = ApcCommand::Start {
        cooker: a7_ref(),
        target_temperature: 140.0,
        unit: TemperatureUnit::F,
        timer: Some(600),
    };
    let id = client.send(&start_f).await;
    let (_, mut pushed) = client.response(&id).await;
    pushed.extend(client.barrier().await);
    let a7 = normalise("a7", states_of(&pushed, A7)[0], None);
    assert_eq!(a7.target_temperature, Some(60.0));
    assert_eq!(a7.timer_total, 600);
    simulator.shutdown().await;
}

#[tokio::test]
async fn pat_allow_list_refuses_set_target_and_set_timer() {
    let simulator = start(SimulatorConfig {
        enforce_pat_allow_list: true,
        ..SimulatorConfig::for_tests(demo_cookers())
    })
    .await;
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    for command in [
        ApcCommand::SetTargetTemp {
            cooker: a7_ref(),
            target_temperature: 60.0,
            unit: TemperatureUnit::C,
        },
        ApcCommand::SetTimer {
            cooker: a7_ref(),
            timer: 60,
        },
    ] {
        let id = client.send(&command).await;
        let (response, _) = client.response(&id).await;
        assert_eq!(response.error.as_deref(), Some("unauthorized"));
    }
    let id = client.send(&start_cook(a7_ref(), 60.0, None)).await;
    assert!(client.response(&id).await.0.is_ok());
    simulator.shutdown().await;
}

#[tokio::test]
async fn commands_are_recorded_with_their_connection() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut first, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let (mut second, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    first.send(&ApcCommand::Stop { cooker: a7_ref() }).await;
    second.send(&ApcCommand::Stop { cooker: pro_ref() }).await;
    let commands = handle.wait_for_commands(2, WAIT).await.unwrap();
    let mut seen: Vec<(u64, String)> = commands
        .iter()
        .map(|c| (c.connection, c.frame.command.clone()))
        .collect();
    seen.sort();
    assert_eq!(seen[0].0 + 1, seen[1].0, "two different connections");
    assert!(seen.iter().all(|(_, name)| name == "CMD_APC_STOP"));
    simulator.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn withheld_responses_never_come() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    handle.inject(Fault::WithholdResponses(true)).unwrap();
    client.send(&start_cook(a7_ref(), 60.0, None)).await;
    handle.wait_for_commands(1, WAIT).await.unwrap();
    assert!(client.is_quiet().await, "no RESPONSE, no push");
    assert_eq!(
        handle.cooker(A7).unwrap().stage,
        CookerStage::Idle,
        "not applied"
    );

    handle.inject(Fault::WithholdResponses(false)).unwrap();
    let id = client.send(&start_cook(a7_ref(), 60.0, None)).await;
    assert!(client.response(&id).await.0.is_ok());
    simulator.shutdown().await;
}

#[tokio::test]
async fn close_after_response_gives_1005_and_the_reconnect_shows_the_change() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    handle.inject(Fault::CloseAfterResponse(true)).unwrap();
    let id = client.send(&start_cook(a7_ref(), 70.0, None)).await;
    assert_eq!(client.event().await, Event::Response(Response::ok(&id)));
    match timeout(WAIT, client.ws.next()).await.unwrap() {
        // A close frame without a status code: 1005 for the client.
        Some(Ok(Message::Close(None))) => {}
        other => panic!("expected a close without a code, got {other:?}"),
    }

    let (_, events) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let state = normalise("a7", states_of(&events, A7)[0], None);
    assert_eq!(state.stage, Stage::Preheating);
    assert_eq!(state.target_temperature, Some(70.0));
    simulator.shutdown().await;
}

#[tokio::test]
async fn drop_resets_every_connection_without_a_close_frame() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut first, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let (mut second, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    handle.wait_for_open_connections(2, WAIT).await.unwrap();
    handle.inject(Fault::DropConnections).unwrap();
    for client in [&mut first, &mut second] {
        match timeout(WAIT, client.ws.next()).await.unwrap() {
            Some(Err(_)) => {}
            other => panic!("expected a reset, got {other:?}"),
        }
    }
    handle.wait_for_open_connections(0, WAIT).await.unwrap();
    // The server keeps accepting.
    Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    simulator.shutdown().await;
}

#[tokio::test]
async fn half_open_goes_silent_but_keeps_the_socket() {
    let simulator = start(SimulatorConfig {
        cooking_push_interval: Duration::from_millis(20),
        ..SimulatorConfig::for_tests(demo_cookers())
    })
    .await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let id = client.send(&start_cook(a7_ref(), 60.0, None)).await;
    client.response(&id).await;
    assert!(!client.is_quiet().await, "cooking pushes flow");

    handle.inject(Fault::HalfOpen(true)).unwrap();
    // Frames already on the wire may still arrive; then nothing at all.
    let mut quiet = false;
    for _ in 0..10 {
        if client.is_quiet().await {
            quiet = true;
            break;
        }
    }
    assert!(quiet, "the stream went silent");
    // Pings go unanswered, and the socket is still open (no close, no reset).
    client
        .ws
        .send(Message::Ping("are you there".into()))
        .await
        .unwrap();
    assert!(client.is_quiet().await);
    assert_eq!(handle.open_connections(), 1);

    // New connections work again once the fault is cleared; the frozen one stays frozen.
    handle.inject(Fault::HalfOpen(false)).unwrap();
    Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    assert!(client.is_quiet().await);
    handle.inject(Fault::DropConnections).unwrap();
    handle.wait_for_open_connections(0, WAIT).await.unwrap();
    simulator.shutdown().await;
}

#[tokio::test]
async fn refuse_auth_refuses_new_connections_in_the_configured_mode() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut open, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    handle.inject(Fault::RefuseAuth(true)).unwrap();
    assert_eq!(http_status(&url(&simulator, "anova-x")).await, 401);
    // An open connection is not affected.
    open.send(&ApcCommand::Stop { cooker: a7_ref() }).await;
    open.event().await;
    handle.inject(Fault::RefuseAuth(false)).unwrap();
    Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    assert_eq!(handle.connection_attempts(), 3);
    simulator.shutdown().await;
}

#[tokio::test]
async fn alarms_appear_in_the_state() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    for (cooker_id, device_type) in [(A7, "a7"), (PRO, "pro")] {
        for alarm in Alarm::ALL {
            let raise = |raised| Fault::Alarm {
                cooker_id: cooker_id.to_owned(),
                alarm,
                raised,
            };
            handle.inject(raise(true)).unwrap();
            let pushed = client.barrier().await;
            let states = states_of(&pushed, cooker_id);
            assert_eq!(states.len(), 1, "{cooker_id} {alarm}: one push");
            let state = normalise(device_type, states[0], None);
            let shown = match alarm {
                Alarm::LowWater => state.low_water == Some(true) && state.stage != Stage::Alarm,
                Alarm::WaterCritical => state.water_critical == Some(true),
                Alarm::WaterLeak => state.water_leak == Some(true),
                Alarm::HighTemp => state.high_temp == Some(true),
                Alarm::MotorStuck => state.motor_stuck == Some(true),
                Alarm::TriacFailed if device_type == "a7" => state.triac_failed == Some(true),
                // Gen 2 has no triac flag: the device reports a failure mode.
                Alarm::TriacFailed => state.stage == Stage::Alarm,
            };
            assert!(shown, "{cooker_id} {alarm}: {state:?}");
            assert!(handle.cooker(cooker_id).unwrap().alarms.contains(&alarm));

            handle.inject(raise(false)).unwrap();
            let pushed = client.barrier().await;
            let cleared = normalise(device_type, states_of(&pushed, cooker_id)[0], None);
            assert!(!cleared.alarm_active(), "{cooker_id} {alarm} cleared");
            assert_ne!(cleared.low_water, Some(true));
        }
    }
    assert!(handle
        .inject(Fault::Alarm {
            cooker_id: "nosuchcooker".into(),
            alarm: Alarm::LowWater,
            raised: true
        })
        .is_err());
    simulator.shutdown().await;
}

#[tokio::test]
async fn a_silent_cooker_stops_pushing_and_comes_back() {
    let simulator = start(SimulatorConfig {
        idle_push_interval: Duration::from_millis(20),
        ..SimulatorConfig::for_tests(demo_cookers())
    })
    .await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    handle
        .inject(Fault::Silent {
            cooker_id: A7.into(),
            silent: true,
        })
        .unwrap();
    // Everything queued before the fault arrives before this barrier's answer.
    client.barrier().await;
    // The pro keeps pushing every 20 ms; the a7 must not, for ten of its pushes.
    let mut pro_pushes = 0;
    while pro_pushes < 10 {
        match client.event().await {
            Event::ApcState(s) if s.cloud_id == PRO => pro_pushes += 1,
            Event::ApcState(s) => panic!("{} pushed while unplugged", s.cloud_id),
            _ => {}
        }
    }
    // At connect the cloud still sends its last state, offline.
    let (_, events) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    assert!(!normalise("a7", states_of(&events, A7)[0], None).online);

    handle
        .inject(Fault::Silent {
            cooker_id: A7.into(),
            silent: false,
        })
        .unwrap();
    loop {
        if let Event::ApcState(s) = client.event().await {
            if s.cloud_id == A7 {
                assert!(normalise("a7", &s.state, None).online);
                break;
            }
        }
    }
    simulator.shutdown().await;
}

#[tokio::test]
async fn added_and_removed_cookers() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;

    // Quietly added: only the next connection knows.
    handle
        .add_cooker(SimCookerSpec::a7("quietnew0000000001", "Quiet"), false)
        .unwrap();
    assert!(client.barrier().await.is_empty());
    let (_, events) = Client::connect_and_settle(&url(&simulator, "anova-x"), 3).await;
    let Event::ApcWifiList(list) = &events[0] else {
        panic!()
    };
    assert_eq!(list.len(), 3);
    assert_eq!(states_of(&events, "quietnew0000000001").len(), 1);

    // Announced: open connections hear about it.
    handle
        .add_cooker(SimCookerSpec::pro("loudnew00000000001", "Loud"), true)
        .unwrap();
    let heard = client.barrier().await;
    assert!(matches!(&heard[0], Event::ApcWifiAdded(e) if e.cloud_id == "loudnew00000000001"));
    handle.remove_cooker("loudnew00000000001", true).unwrap();
    assert!(
        matches!(&client.barrier().await[0], Event::ApcWifiRemoved(r) if r.cloud_id == "loudnew00000000001")
    );

    handle.remove_cooker(A7, false).unwrap();
    assert!(handle.remove_cooker(A7, false).is_err());
    let (_, events) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let Event::ApcWifiList(list) = &events[0] else {
        panic!()
    };
    let ids: Vec<&str> = list.iter().map(|e| e.cloud_id.as_str()).collect();
    assert_eq!(ids, [PRO, "quietnew0000000001"]);
    simulator.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_connections_and_stops_listening() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let address = simulator.url();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let handle: SimulatorHandle = simulator.handle();
    timeout(WAIT, simulator.shutdown()).await.unwrap();
    match timeout(WAIT, client.ws.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected a 1001 close, got {other:?}"),
    }
    assert!(connect_async(format!("{address}/?token=anova-x"))
        .await
        .is_err());
    assert_eq!(handle.open_connections(), 0);
}

#[tokio::test]
async fn serve_until_runs_until_told_to_stop() {
    // An occupied address is a clear error.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let error = anova2mqtt::simulator::serve_until(
        address,
        SimulatorConfig::for_tests(demo_cookers()),
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{error:#}").contains(&address.to_string()),
        "{error:#}"
    );
    drop(taken);

    // A free address: it serves until the shutdown future completes.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(anova2mqtt::simulator::serve_until(
        address,
        SimulatorConfig::for_tests(demo_cookers()),
        async {
            let _ = stopped.await;
        },
    ));
    let url = format!("ws://{address}/?token=anova-x&supportedAccessories=APC");
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut client = loop {
        match connect_async(url.as_str()).await {
            Ok((ws, _)) => {
                break Client {
                    ws,
                    frames: Vec::new(),
                }
            }
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => panic!("the simulator never came up: {error}"),
        }
    };
    assert!(matches!(client.event().await, Event::ApcWifiList(_)));
    stop.send(()).unwrap();
    timeout(WAIT, server).await.unwrap().unwrap().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Load generator
// ---------------------------------------------------------------------------------------------

/// On tokio's paused clock. The fleet's schedule runs from the simulator's start, and on the
/// wall clock a busy machine could leave this reader more than a push interval behind (the
/// 500-state connect sequence alone is a lot of parsing in a debug build): the pushes queued
/// meanwhile then arrived in one burst ("750 pushes took 707 ms"), or the outbox filled, the
/// fleet fell behind and skipped pushes, breaking the round robin. That was the race: the
/// schedule's wall clock against the reader's. Paused, the clock moves only when every task
/// (this reader included) waits, so the reader always keeps up, and what is measured is the
/// schedule itself. How the fleet behaves when a reader does fall behind is
/// `load.rs`'s `a_fleet_that_falls_behind_skips_instead_of_bursting`.
#[tokio::test(start_paused = true)]
async fn the_load_generator_spreads_its_pushes_and_moves_every_cookers_water() {
    const COOKERS: usize = 500;
    let interval = Duration::from_secs(1);
    let simulator = start(SimulatorConfig {
        load: Some(LoadSpec {
            cookers: COOKERS,
            push_interval: interval,
            model: LoadModel::Mixed,
        }),
        ..SimulatorConfig::for_tests(Vec::new())
    })
    .await;
    let handle = simulator.handle();
    let mut written = handle.push_times(10_000);
    let (mut client, connect) =
        Client::connect_and_settle(&url(&simulator, "anova-x"), COOKERS).await;
    let Event::ApcWifiList(list) = &connect[0] else {
        panic!("a device list first")
    };
    assert_eq!(list.len(), COOKERS);
    assert_eq!(list[0].cloud_id, "LOAD000001");
    assert_eq!(list[1].device_type.as_str(), "pro");

    // 1.5 pushes per cooker: 750 pushes, about 1.5 s.
    let mut received = Vec::new();
    let mut water: HashMap<String, f64> = HashMap::new();
    let (mut first, mut last) = (None, None);
    while received.len() < COOKERS * 3 / 2 {
        let Event::ApcState(push) = client.event().await else {
            continue;
        };
        let now = tokio::time::Instant::now();
        first.get_or_insert(now);
        last = Some(now);
        let device_type = push.device_type.as_ref().unwrap().as_str().to_owned();
        let state = normalise(&device_type, &push.state, None);
        assert!(state.cooking, "{}: {state:?}", push.cloud_id);
        let celsius = state.water_temperature.unwrap();
        if let Some(before) = water.insert(push.cloud_id.to_string(), celsius) {
            // Every push of a cooker moves its water by 0.2 °C: no push was lost.
            assert!(
                ((celsius - before).abs() - 0.2).abs() < 1e-6,
                "{}: {before} → {celsius}",
                push.cloud_id
            );
        }
        received.push((push.cloud_id.to_string(), celsius));
    }
    // Round robin over the fleet, in id order (from wherever the fleet was when we connected).
    let offset: usize = received[0].0[4..].parse::<usize>().unwrap() - 1;
    for (i, (id, _)) in received.iter().enumerate() {
        assert_eq!(*id, format!("LOAD{:06}", (offset + i) % COOKERS + 1));
    }
    // Spread over the interval, not sent in one burst.
    let spread = last.unwrap() - first.unwrap();
    assert!(
        spread >= Duration::from_millis(750) && spread < Duration::from_secs(5),
        "750 pushes took {spread:?}"
    );
    let pushes = handle.load_pushes();
    assert!(pushes.sent >= received.len() as u64);
    assert_eq!(pushes.skipped, 0);

    // The latency hook saw the same pushes, in the same order, with the same water.
    for (id, celsius) in &received {
        let record = written.recv().await.unwrap();
        assert_eq!(
            (&*record.cooker_id, record.water_temperature_c),
            (id.as_str(), Some(*celsius))
        );
        assert_eq!(record.connection, 1);
        assert!(record.written_at <= std::time::Instant::now());
    }
    simulator.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Precision Ovens
// ---------------------------------------------------------------------------------------------

const OVEN_V1: &str = "ovenv1sim000000001";
const OVEN_V2: &str = "ovenv2sim000000001";

/// Both ovens, pushing every 50 ms, heating 60 °C per simulated minute, at 600× speed: a
/// 180 °C preheat takes 0.3 s, a five-minute timer half a second.
fn oven_config() -> SimulatorConfig {
    let quick = Duration::from_millis(50);
    SimulatorConfig {
        speed: 600.0,
        ovens: vec![
            SimOvenSpec::v1(OVEN_V1, "Oven 1"),
            SimOvenSpec::v2(OVEN_V2, "Oven 2"),
        ],
        oven: OvenSettings {
            v1_idle_push: quick,
            v1_cooking_push: quick,
            v2_idle_push: quick,
            v2_cooking_push: quick,
            heat_rate_c_per_min: 60.0,
            probe_time_constant_s: 60.0,
        },
        ..SimulatorConfig::for_tests(Vec::new())
    }
}

fn oven_url(simulator: &Simulator) -> String {
    format!(
        "{}/?token=anova-x&supportedAccessories=APC,APO",
        simulator.url()
    )
}

impl Client {
    async fn json(&mut self) -> Value {
        let text = self.text().await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// Sends an oven command in the nested envelope; returns its request id.
    async fn send_oven(&mut self, command: &str, oven: &str, inner: Option<Value>) -> String {
        let mut payload = json!({"id": oven, "type": command});
        if let Some(inner) = inner {
            payload["payload"] = inner;
        }
        self.send_raw(command, payload).await
    }

    /// Reads until the RESPONSE to `request_id`; returns its payload and the frames before it.
    async fn json_response(&mut self, request_id: &str) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let frame = self.json().await;
            if frame["command"] == "RESPONSE" && frame["requestId"] == request_id {
                return (frame["payload"].clone(), before);
            }
            before.push(frame);
        }
    }

    /// Reads until a state push of `oven` satisfies `condition`; returns that state body.
    async fn oven_until(&mut self, oven: &str, mut condition: impl FnMut(&Value) -> bool) -> Value {
        loop {
            let frame = self.json().await;
            if frame["command"] == "EVENT_APO_STATE" && frame["payload"]["cookerId"] == oven {
                let state = &frame["payload"]["state"];
                if condition(state) {
                    return state.clone();
                }
            }
        }
    }
}

/// The connect sequence of an APC+APO connection with no cookers and both ovens.
async fn connect_ovens(simulator: &Simulator) -> (Client, Vec<Value>) {
    let mut client = Client::connect(&oven_url(simulator)).await;
    let mut frames = Vec::new();
    // Cookers' list, ovens' list, user state, two oven states.
    for _ in 0..5 {
        frames.push(client.json().await);
    }
    (client, frames)
}

/// A dry stage in the v2 shape: preheat to `setpoint`, a timer starting when preheated.
fn v2_stage(id: &str, setpoint: f64, timer_s: Option<u32>, exit: Value) -> Value {
    let preheated = json!({"conditions": {"and": {
        "nodes.temperatureBulbs.dry.current.celsius": {">=": setpoint}}}});
    let mut action = json!({
        "type": "cook",
        "fan": {"speed": 100},
        "heatingElements": {"top": {"on": false}, "bottom": {"on": true}, "rear": {"on": true}},
        "exhaustVent": {"state": "closed"},
        "temperatureBulbs": {"mode": "dry", "dry": {"setpoint": {"celsius": setpoint}}},
    });
    if let Some(timer_s) = timer_s {
        action["timer"] = json!({"initial": timer_s, "entry": preheated});
    }
    json!({"id": id, "title": "", "description": "", "rackPosition": 3,
           "do": action, "entry": preheated, "exit": exit})
}

fn timer_completed() -> Value {
    json!({"conditions": {"and": {"nodes.timer.mode": {"=": "completed"}}}})
}

fn until_stopped() -> Value {
    json!({"conditions": {"and": {}}})
}

fn v2_start(stages: Vec<Value>) -> Value {
    json!({"stages": stages, "cookId": uuid::Uuid::new_v4().to_string(), "cookerId": OVEN_V2,
           "cookableId": "", "title": "", "type": "oven_v2", "originSource": "api",
           "cookableType": "manual"})
}

/// A v1 stage (`preheat` or `cook`), dry.
fn v1_stage(id: &str, kind: &str, setpoint: f64) -> Value {
    json!({"stepType": "stage", "id": id, "title": "", "description": "", "type": kind,
           "userActionRequired": false,
           "temperatureBulbs": {"dry": {"setpoint": {"celsius": setpoint, "fahrenheit": setpoint * 1.8 + 32.0}},
                                "mode": "dry"},
           "heatingElements": {"bottom": {"on": false}, "top": {"on": false}, "rear": {"on": true}},
           "fan": {"speed": 25}, "vent": {"open": false}, "rackPosition": 3})
}

fn v1_pair(cook_id: &str, setpoint: f64, timer_s: u32) -> Vec<Value> {
    let mut cook = v1_stage(cook_id, "cook", setpoint);
    cook["timerAdded"] = json!(true);
    cook["probeAdded"] = json!(false);
    cook["timer"] = json!({"initial": timer_s});
    vec![
        v1_stage(&format!("{cook_id}-preheat"), "preheat", setpoint),
        cook,
    ]
}

#[tokio::test]
async fn oven_frames_have_the_shape_of_the_real_captures() {
    let simulator = start(SimulatorConfig {
        oven: OvenSettings {
            // Only the pushes this test asks for.
            v1_idle_push: Duration::from_secs(600),
            v2_idle_push: Duration::from_secs(600),
            v1_cooking_push: Duration::from_secs(600),
            v2_cooking_push: Duration::from_secs(600),
            ..OvenSettings::default()
        },
        ..oven_config()
    })
    .await;
    let (mut client, connect) = connect_ovens(&simulator).await;
    let names: Vec<&str> = connect
        .iter()
        .map(|f| f["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "EVENT_APC_WIFI_LIST",
            "EVENT_APO_WIFI_LIST",
            "EVENT_USER_STATE",
            "EVENT_APO_STATE",
            "EVENT_APO_STATE"
        ]
    );
    // The oven list has the keys of the device lists.
    let mut list = capture("EVENT_APC_WIFI_LIST.a4+a7.real.json");
    list["command"] = json!("EVENT_APO_WIFI_LIST");
    assert_same_shape("EVENT_APO_WIFI_LIST", &list, &connect[1]);
    assert_eq!(connect[1]["payload"][1]["type"], "oven_v2");
    assert_same_shape(
        "oven_v1 idle",
        &capture("EVENT_APO_STATE.oven_v1.idle.real.json"),
        &connect[3],
    );

    // A wet-bulb stage as the app starts it, 18 s in, preheating, its timer waiting for the
    // user or for food: the v2 capture.
    let mut stage = v2_stage(
        "android-7511275c-3bde-4204-bc3d-82eb3d2792ba",
        54.44,
        None,
        timer_completed(),
    );
    stage["entry"] = json!({"conditions": {"and": {
        "nodes.temperatureBulbs.wet.current.celsius": {">=": 54.44}}}});
    stage["do"]["temperatureBulbs"] =
        json!({"wet": {"setpoint": {"celsius": 54.44}}, "mode": "wet"});
    stage["do"]["heatingElements"] =
        json!({"rear": {"on": true}, "top": {"on": false}, "bottom": {"on": false}});
    stage["do"]["steamGenerators"] =
        json!({"relativeHumidity": {"setpoint": 100}, "mode": "relative-humidity"});
    stage["do"]["timer"] = json!({"initial": 300, "entry": {"conditions": {"or": {
        "userAction": {"=": true}, "nodes.cavityCamera.isEmpty": {"=": false}}}}});
    let mut plan = v2_start(vec![stage]);
    plan["originSource"] = json!("android");
    plan["cookableId"] = json!("MXuqSXSO9w9qDs4rpdhZ");
    let id = client.send_oven("CMD_APO_START", OVEN_V2, Some(plan)).await;
    let (answer, _) = client.json_response(&id).await;
    assert_eq!(answer, json!({"status": "ok"}));
    let mut cooking = client.json().await;
    assert_eq!(cooking["payload"]["cookerId"], OVEN_V2);
    let state = &mut cooking["payload"]["state"];
    assert_eq!(state["cook"]["activeStageMode"], "entering");
    assert_eq!(
        state["nodes"]["timer"],
        json!({"initial": 300, "mode": "idle"})
    );
    // In the app's schema but not in this capture (started from the app): the ids it processed.
    let processed = state["state"]
        .as_object_mut()
        .unwrap()
        .remove("processedCommandIds");
    assert_eq!(processed, Some(json!([id])));
    assert_same_shape(
        "oven_v2 cooking",
        &capture("EVENT_APO_STATE.oven_v2.cooking.real.json"),
        &cooking,
    );

    // The cook object of a real v1 cook, 5 s into preheat [LIVE ADK].
    let adk_cook = json!({
      "stages": [
        {"temperatureBulbs": {"dry": {"setpoint": {"celsius": 204.44, "fahrenheit": 400}}, "mode": "dry"},
         "id": "08e26061-765e-4e09-b1cf-e78cf5add176", "type": "preheat", "vent": {"open": false},
         "heatingElements": {"bottom": {"on": false}, "rear": {"on": true}, "top": {"on": false}},
         "title": "", "userActionRequired": false, "fan": {"speed": 100}},
        {"type": "cook", "heatingElements": {"top": {"on": false}, "rear": {"on": true}, "bottom": {"on": false}},
         "fan": {"speed": 25},
         "temperatureBulbs": {"dry": {"setpoint": {"celsius": 204.44, "fahrenheit": 400}}, "mode": "dry"},
         "vent": {"open": false}, "title": "", "userActionRequired": true,
         "id": "183af6fe-2e60-43b6-bdd7-251e1c845218"}
      ],
      "activeStageSecondsElapsed": 5, "activeStageId": "08e26061-765e-4e09-b1cf-e78cf5add176",
      "cookId": "7eb889c6-403c-4971-a070-bb6ead247ea1", "stageTransitionPendingUserAction": false,
      "secondsElapsed": 5, "activeStageIndex": 0
    });
    let mut cook = v1_stage("x1", "cook", 204.44);
    cook["userActionRequired"] = json!(true);
    let plan = json!({"cookId": "k1", "stages": [v1_stage("x1-preheat", "preheat", 204.44), cook]});
    let id = client.send_oven("CMD_APO_START", OVEN_V1, Some(plan)).await;
    client.json_response(&id).await;
    let state = client
        .oven_until(OVEN_V1, |s| s.get("cook").is_some())
        .await;
    assert_same_shape("oven_v1 cook", &adk_cook, &state["cook"]);
    assert_eq!(
        state["cook"]["stages"][0]["fan"]["speed"], 100,
        "the preheat fan"
    );
    simulator.shutdown().await;
}

#[tokio::test]
async fn ovens_come_only_to_connections_that_ask_for_them() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut cookers_only, events) =
        Client::connect_and_settle(&url(&simulator, "anova-x"), 0).await;
    let names: Vec<&str> = events.iter().map(Event::command).collect();
    assert_eq!(names, ["EVENT_APC_WIFI_LIST", "EVENT_USER_STATE"]);
    assert!(cookers_only.is_quiet().await, "no oven pushes");
    // Oven commands are routed all the same: the token is the account's.
    let id = cookers_only
        .send_oven(
            "CMD_APO_SET_TEMPERATURE_UNIT",
            OVEN_V2,
            Some(json!({"temperatureUnit": "F"})),
        )
        .await;
    assert_eq!(
        cookers_only.json_response(&id).await.0,
        json!({"status": "ok"})
    );
    assert_eq!(
        handle.oven(OVEN_V2).unwrap().display_unit,
        anova2mqtt::simulator::TemperatureUnit::F
    );
    simulator.shutdown().await;
}

#[tokio::test]
async fn whole_cook_on_a_v2_oven() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    let plan = v2_start(vec![v2_stage("s1", 200.0, Some(300), until_stopped())]);
    let cook_id = plan["cookId"].clone();
    let id = client.send_oven("CMD_APO_START", OVEN_V2, Some(plan)).await;
    assert_eq!(client.json_response(&id).await.0["status"], "ok");
    let preheating = client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "cook")
        .await;
    assert_eq!(preheating["cook"]["activeStageMode"], "entering");
    assert_eq!(preheating["cook"]["cookId"], cook_id);
    assert_eq!(preheating["nodes"]["heatingElements"]["rear"]["on"], true);
    assert_eq!(
        preheating["nodes"]["heatingElements"]["rear"]["watts"],
        1200.0
    );
    let cooking = client
        .oven_until(OVEN_V2, |s| s["cook"]["activeStageMode"] == "running")
        .await;
    assert_eq!(cooking["nodes"]["timer"]["mode"], "running");
    assert!(cooking["nodes"]["timer"]["startedAtTimestamp"].is_string());
    assert!(
        cooking["nodes"]["temperatureBulbs"]["dry"]["current"]["celsius"]
            .as_f64()
            .unwrap()
            >= 200.0
    );
    let done = client
        .oven_until(OVEN_V2, |s| s["nodes"]["timer"]["mode"] == "completed")
        .await;
    assert_eq!(
        done["state"]["mode"], "cook",
        "no exit condition: it holds until stopped"
    );
    let id = client.send_oven("CMD_APO_STOP", OVEN_V2, None).await;
    let (answer, _) = client.json_response(&id).await;
    assert_eq!(answer["status"], "ok");
    let idle = client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "idle")
        .await;
    assert!(idle.get("cook").is_none());
    assert_eq!(idle["nodes"]["heatingElements"]["rear"]["on"], false);
    let snapshot = handle.oven(OVEN_V2).unwrap();
    assert_eq!(snapshot.mode, OvenMode::Idle);
    assert_eq!(snapshot.processed_command_ids.len(), 2);
    simulator.shutdown().await;
}

#[tokio::test]
async fn whole_cook_on_a_v1_oven() {
    let simulator = start(oven_config()).await;
    let (mut client, _) = connect_ovens(&simulator).await;
    let plan = json!({"cookId": "v1cook", "stages": v1_pair("c1", 180.0, 300)});
    let id = client.send_oven("CMD_APO_START", OVEN_V1, Some(plan)).await;
    assert_eq!(client.json_response(&id).await.0["status"], "ok");
    let preheat = client
        .oven_until(OVEN_V1, |s| s["state"]["mode"] == "cook")
        .await;
    assert_eq!(preheat["cook"]["activeStageId"], "c1-preheat");
    assert_eq!(
        preheat["nodes"]["fan"]["speed"], 100.0,
        "v1 preheats at full fan"
    );
    assert_eq!(
        preheat["nodes"]["temperatureBulbs"]["dry"]["setpoint"]["fahrenheit"],
        356.0
    );
    let cooking = client
        .oven_until(OVEN_V1, |s| s["cook"]["activeStageIndex"] == 1)
        .await;
    assert_eq!(cooking["cook"]["activeStageId"], "c1");
    assert_eq!(cooking["nodes"]["timer"]["mode"], "running");
    assert_eq!(cooking["nodes"]["fan"]["speed"], 25.0);
    let running = client
        .oven_until(OVEN_V1, |s| {
            s["nodes"]["timer"]["current"].as_u64() > Some(0)
        })
        .await;
    assert_eq!(running["nodes"]["timer"]["initial"], 300);
    // The timer ends the last stage, and with it the cook.
    let done = client
        .oven_until(OVEN_V1, |s| s["state"]["mode"] == "idle")
        .await;
    assert_eq!(
        done["nodes"]["timer"],
        json!({"current": 300, "initial": 300, "mode": "completed"})
    );
    let id = client.send_oven("CMD_APO_STOP", OVEN_V1, None).await;
    assert_eq!(client.json_response(&id).await.0["status"], "ok");
    simulator.shutdown().await;
}

#[tokio::test]
async fn a_multi_stage_oven_cook() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    let plan = v2_start(vec![
        v2_stage("first", 100.0, Some(60), timer_completed()),
        v2_stage("second", 150.0, None, until_stopped()),
    ]);
    let id = client.send_oven("CMD_APO_START", OVEN_V2, Some(plan)).await;
    client.json_response(&id).await;
    let first = client
        .oven_until(OVEN_V2, |s| s["cook"]["activeStageMode"] == "running")
        .await;
    assert_eq!(first["cook"]["activeStageId"], "first");
    assert_eq!(first["cook"]["stages"].as_array().unwrap().len(), 2);
    let second = client
        .oven_until(OVEN_V2, |s| s["cook"]["activeStageIndex"] == 1)
        .await;
    assert_eq!(second["cook"]["activeStageId"], "second");
    assert_eq!(
        second["cook"]["activeStageMode"], "entering",
        "preheating to 150"
    );
    assert_eq!(
        second["nodes"]["temperatureBulbs"]["dry"]["setpoint"]["celsius"],
        150.0
    );
    client
        .oven_until(OVEN_V2, |s| s["cook"]["activeStageMode"] == "running")
        .await;
    let oven = handle.oven(OVEN_V2).unwrap();
    assert_eq!((oven.stage_index, oven.stage_count), (Some(1), 2));
    assert_eq!(
        oven.mode,
        OvenMode::Cooking,
        "the last stage runs until stopped"
    );
    simulator.shutdown().await;
}

#[tokio::test]
async fn a_probe_cook_ends_when_the_food_is_done() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    let probe = |connected| Fault::Oven {
        cooker_id: OVEN_V2.into(),
        change: OvenChange::Probe { connected },
    };
    handle.inject(probe(true)).unwrap();
    let plugged = client
        .oven_until(OVEN_V2, |s| {
            s["nodes"]["temperatureProbe"]["connected"] == true
        })
        .await;
    assert_eq!(
        plugged["nodes"]["temperatureProbe"]["current"]["celsius"],
        4.0
    );
    let mut stage = v2_stage(
        "probe",
        60.0,
        None,
        json!({"conditions": {"and": {
        "nodes.temperatureProbe.current.celsius": {">=": 57}}}}),
    );
    stage["do"]["temperatureBulbs"] = json!({"mode": "wet", "wet": {"setpoint": {"celsius": 60}}});
    stage["do"]["steamGenerators"] =
        json!({"mode": "relative-humidity", "relativeHumidity": {"setpoint": 100}});
    stage["do"]["temperatureProbe"] = json!({"setpoint": {"celsius": 57}});
    stage["entry"] =
        json!({"conditions": {"and": {"nodes.temperatureBulbs.wet.current.celsius": {">=": 60}}}});
    let id = client
        .send_oven("CMD_APO_START", OVEN_V2, Some(v2_start(vec![stage])))
        .await;
    client.json_response(&id).await;
    let cooking = client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "cook")
        .await;
    assert_eq!(
        cooking["nodes"]["temperatureProbe"]["setpoint"]["celsius"],
        57.0
    );
    assert_eq!(
        cooking["nodes"]["steamGenerators"]["mode"],
        "relative-humidity"
    );
    let done = client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "idle")
        .await;
    let reading = done["nodes"]["temperatureProbe"]["current"]["celsius"]
        .as_f64()
        .unwrap();
    assert!((57.0..60.0).contains(&reading), "probe at {reading}");
    // Unplugged, it reads 0 as the capture shows.
    handle.inject(probe(false)).unwrap();
    let out = client
        .oven_until(OVEN_V2, |s| {
            s["nodes"]["temperatureProbe"]["connected"] == false
        })
        .await;
    assert_eq!(out["nodes"]["temperatureProbe"]["current"]["celsius"], 0.0);
    simulator.shutdown().await;
}

#[tokio::test]
async fn a_plan_the_oven_cannot_run_is_acknowledged_and_dropped() {
    let simulator = start(SimulatorConfig {
        oven: OvenSettings {
            v1_idle_push: Duration::from_secs(600),
            v2_idle_push: Duration::from_secs(600),
            ..oven_config().oven
        },
        ..oven_config()
    })
    .await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    // Everything but the clock.
    let ovens = |h: &SimulatorHandle| {
        h.ovens()
            .into_iter()
            .map(|o| anova2mqtt::simulator::OvenSnapshot {
                simulated_s: 0.0,
                ..o
            })
            .collect::<Vec<_>>()
    };
    let before = ovens(&handle);
    let mut all_on = v1_pair("c1", 180.0, 60);
    for stage in &mut all_on {
        stage["heatingElements"] =
            json!({"bottom": {"on": true}, "top": {"on": true}, "rear": {"on": true}});
    }
    let cases = [
        (
            OVEN_V1,
            json!({"stages": v1_pair("c1", 180.0, 60).into_iter().rev().collect::<Vec<_>>()}),
        ),
        (OVEN_V1, json!({"stages": all_on})),
        (
            OVEN_V2,
            v2_start(vec![v2_stage("hot", 300.0, None, until_stopped())]),
        ),
        (
            OVEN_V2,
            v2_start(vec![v2_stage(
                "long",
                200.0,
                Some(400_000),
                timer_completed(),
            )]),
        ),
    ];
    for (oven, plan) in cases {
        let id = client
            .send_oven("CMD_APO_START", oven, Some(plan.clone()))
            .await;
        let (answer, _) = client.json_response(&id).await;
        assert_eq!(answer, json!({"status": "ok"}), "{plan}");
        let pushed = client.barrier().await;
        assert!(
            pushed.iter().all(|e| e.command() != "EVENT_APO_STATE"),
            "nothing changed, nothing pushed: {plan}"
        );
    }
    assert_eq!(ovens(&handle), before);
    // Not a START payload at all: the validators answer.
    let id = client
        .send_oven("CMD_APO_START", OVEN_V2, Some(json!({"cookId": "x"})))
        .await;
    assert_eq!(
        client.json_response(&id).await.0,
        json!({"status": "error", "error": "invalid command"})
    );
    simulator.shutdown().await;
}

#[tokio::test]
async fn a_v1_plan_errors_a_v2_oven_until_it_is_power_cycled() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    let plan = json!({"cookId": "wrong", "stages": v1_pair("c1", 180.0, 60)});
    let id = client.send_oven("CMD_APO_START", OVEN_V2, Some(plan)).await;
    assert_eq!(client.json_response(&id).await.0["status"], "ok");
    let errored = client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "error")
        .await;
    assert!(errored.get("cook").is_none());
    assert_eq!(handle.oven(OVEN_V2).unwrap().mode, OvenMode::Error);
    // It ignores a good plan now.
    let good = v2_start(vec![v2_stage("s1", 100.0, None, until_stopped())]);
    let id = client
        .send_oven("CMD_APO_START", OVEN_V2, Some(good.clone()))
        .await;
    assert_eq!(client.json_response(&id).await.0["status"], "ok");
    client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "error")
        .await;
    assert_eq!(handle.oven(OVEN_V2).unwrap().mode, OvenMode::Error);
    handle
        .inject(Fault::Oven {
            cooker_id: OVEN_V2.into(),
            change: OvenChange::PowerCycle,
        })
        .unwrap();
    client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "idle")
        .await;
    let id = client.send_oven("CMD_APO_START", OVEN_V2, Some(good)).await;
    client.json_response(&id).await;
    client
        .oven_until(OVEN_V2, |s| s["state"]["mode"] == "cook")
        .await;
    simulator.shutdown().await;
}

#[tokio::test]
async fn the_water_tank_and_the_door() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    let mut steam = v2_stage("steam", 100.0, None, until_stopped());
    steam["do"]["steamGenerators"] =
        json!({"mode": "steam-percentage", "steamPercentage": {"setpoint": 100}});
    let id = client
        .send_oven("CMD_APO_START", OVEN_V2, Some(v2_start(vec![steam])))
        .await;
    client.json_response(&id).await;
    let steaming = client
        .oven_until(OVEN_V2, |s| {
            s["nodes"]["steamGenerators"]["boiler"]["watts"] == 600
        })
        .await;
    assert_eq!(
        steaming["nodes"]["steamGenerators"]["steamPercentage"]["setpoint"],
        100.0
    );
    let tank = |cooker_id: &str, level| Fault::Oven {
        cooker_id: cooker_id.into(),
        change: OvenChange::WaterTank(level),
    };
    handle.inject(tank(OVEN_V2, WaterTank::Empty)).unwrap();
    let empty = client
        .oven_until(OVEN_V2, |s| s["nodes"]["waterTank"]["empty"] == true)
        .await;
    assert_eq!(
        empty["nodes"]["steamGenerators"]["boiler"]["watts"], 0,
        "no water, no steam"
    );
    assert_eq!(empty["state"]["mode"], "cook", "the cook goes on");
    handle.inject(tank(OVEN_V2, WaterTank::Low)).unwrap();
    let low = client
        .oven_until(OVEN_V2, |s| s["nodes"]["waterTank"]["empty"] == false)
        .await;
    assert_eq!(low["nodes"]["waterTank"]["low"], true);
    handle.inject(tank(OVEN_V1, WaterTank::Removed)).unwrap();
    let v1 = client
        .oven_until(OVEN_V1, |s| s["nodes"]["waterTank"]["empty"] == true)
        .await;
    assert_eq!(v1["nodes"]["waterTank"], json!({"empty": true}));
    handle
        .inject(Fault::Oven {
            cooker_id: OVEN_V2.into(),
            change: OvenChange::Door { open: true },
        })
        .unwrap();
    let open = client
        .oven_until(OVEN_V2, |s| s["nodes"]["door"]["closed"] == false)
        .await;
    assert_eq!(open["nodes"]["heatingElements"]["rear"]["on"], false);
    assert_eq!(open["nodes"]["fan"]["speed"], "off");
    assert!(handle
        .inject(Fault::Oven {
            cooker_id: "nosuchoven".into(),
            change: OvenChange::UserAction,
        })
        .is_err());
    simulator.shutdown().await;
}

#[tokio::test]
async fn app_only_oven_commands_are_unauthorized_for_a_token() {
    let simulator = start(SimulatorConfig {
        enforce_pat_allow_list: true,
        ..oven_config()
    })
    .await;
    let (mut client, _) = connect_ovens(&simulator).await;
    for (command, inner) in [
        ("CMD_APO_START_STAGE", json!({"stageId": "s1"})),
        ("CMD_APO_UPDATE_COOK_STAGES", json!({"stages": []})),
        ("CMD_APO_SET_LAMP", json!({"on": true})),
        ("CMD_APO_SET_FAN", json!({"speed": 100})),
        ("CMD_APO_DISCONNECT", json!({})),
    ] {
        let id = client.send_oven(command, OVEN_V2, Some(inner)).await;
        assert_eq!(
            client.json_response(&id).await.0,
            json!({"status": "error", "error": "unauthorized"}),
            "{command}"
        );
    }
    // What a token may send still works.
    let id = client
        .send_oven(
            "CMD_APO_SET_TEMPERATURE_UNIT",
            OVEN_V1,
            Some(json!({"temperatureUnit": "F"})),
        )
        .await;
    assert_eq!(client.json_response(&id).await.0, json!({"status": "ok"}));
    let state = client
        .oven_until(OVEN_V1, |s| s["state"]["temperatureUnit"] == "F")
        .await;
    assert_eq!(state["state"]["processedCommandIds"][9], id);
    simulator.shutdown().await;
}

#[tokio::test]
async fn a_manual_timer_starts_when_someone_presses_start() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    let mut stage = v2_stage("manual", 100.0, Some(600), timer_completed());
    stage["do"]["timer"]["entry"] = json!({"conditions": {"and": {"userAction": {"=": true}}}});
    let id = client
        .send_oven("CMD_APO_START", OVEN_V2, Some(v2_start(vec![stage])))
        .await;
    client.json_response(&id).await;
    client
        .oven_until(OVEN_V2, |s| s["cook"]["activeStageMode"] == "running")
        .await;
    assert!(client.oven_until(OVEN_V2, |_| true).await["nodes"]["timer"]["mode"] == "idle");
    handle
        .inject(Fault::Oven {
            cooker_id: OVEN_V2.into(),
            change: OvenChange::UserAction,
        })
        .unwrap();
    client
        .oven_until(OVEN_V2, |s| s["nodes"]["timer"]["mode"] == "running")
        .await;
    simulator.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Faults for the chaos soak
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn raw_frames_reach_every_connection_as_they_are() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut first, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    let (mut second, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    handle
        .inject(Fault::RawFrame(RawFrame::Text("{not json".into())))
        .unwrap();
    handle
        .inject(Fault::RawFrame(RawFrame::Binary(vec![0, 159, 146, 150])))
        .unwrap();
    for client in [&mut first, &mut second] {
        assert_eq!(client.text().await, "{not json");
        match timeout(WAIT, client.ws.next()).await.unwrap() {
            Some(Ok(Message::Binary(bytes))) => assert_eq!(&bytes[..], [0, 159, 146, 150]),
            other => panic!("expected the binary frame, got {other:?}"),
        }
        // The connection goes on.
        client.barrier().await;
    }
    simulator.shutdown().await;
}

#[tokio::test]
async fn close_connections_sends_the_code_asked_for() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    for (code, expected) in [(Some(1008), Some(CloseCode::Policy)), (None, None)] {
        let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
        handle.wait_for_open_connections(1, WAIT).await.unwrap();
        handle.inject(Fault::CloseConnections(code)).unwrap();
        match timeout(WAIT, client.ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => assert_eq!(frame.map(|f| f.code), expected),
            other => panic!("expected a close, got {other:?}"),
        }
        handle.wait_for_open_connections(0, WAIT).await.unwrap();
    }
    simulator.shutdown().await;
}

#[tokio::test]
async fn drop_every_resets_connections_until_cleared() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    handle
        .inject(Fault::DropEvery(Some(Duration::from_millis(100))))
        .unwrap();
    for _ in 0..2 {
        let mut client = Client::connect(&url(&simulator, "anova-x")).await;
        // Whatever arrives first, a reset follows within the period.
        loop {
            match timeout(WAIT, client.ws.next()).await.unwrap() {
                Some(Ok(_)) => {}
                Some(Err(_)) => break,
                None => panic!("closed without a reset"),
            }
        }
    }
    handle.inject(Fault::DropEvery(None)).unwrap();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    assert!(client.is_quiet().await, "no more drops");
    client.barrier().await;
    simulator.shutdown().await;
}

#[tokio::test]
async fn responses_can_be_slowed_down_and_duplicated() {
    let simulator = start(SimulatorConfig::for_tests(demo_cookers())).await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    handle
        .inject(Fault::ResponseDelay(Some(Duration::from_millis(400))))
        .unwrap();
    let sent = tokio::time::Instant::now();
    let id = client.send(&ApcCommand::Stop { cooker: a7_ref() }).await;
    assert!(client.is_quiet().await, "nothing within 300 ms");
    client.response(&id).await;
    assert!(sent.elapsed() >= Duration::from_millis(400));
    handle.inject(Fault::ResponseDelay(None)).unwrap();

    handle.inject(Fault::DuplicateResponses(true)).unwrap();
    let id = client.send(&ApcCommand::Stop { cooker: pro_ref() }).await;
    let (first, _) = client.response(&id).await;
    let (second, _) = client.response(&id).await;
    assert_eq!(first, second);
    handle.inject(Fault::DuplicateResponses(false)).unwrap();
    let id = client.send(&ApcCommand::Stop { cooker: pro_ref() }).await;
    client.response(&id).await;
    let after = client.barrier().await;
    assert!(
        after
            .iter()
            .all(|e| !matches!(e, Event::Response(r) if r.request_id == id)),
        "one answer again: {after:?}"
    );
    simulator.shutdown().await;
}

#[tokio::test]
async fn the_command_log_can_be_drained_and_counts_everything() {
    let simulator = start(SimulatorConfig {
        command_log_limit: 2,
        ..SimulatorConfig::for_tests(demo_cookers())
    })
    .await;
    let handle = simulator.handle();
    let (mut client, _) = Client::connect_and_settle(&url(&simulator, "anova-x"), 2).await;
    for _ in 0..3 {
        let id = client.send(&ApcCommand::Stop { cooker: a7_ref() }).await;
        client.response(&id).await;
    }
    assert_eq!(handle.commands_received(), 3);
    assert_eq!(handle.commands().len(), 2, "the oldest is forgotten");
    assert_eq!(handle.drain_commands().len(), 2);
    assert!(handle.commands().is_empty());
    assert_eq!(handle.wait_for_commands(3, WAIT).await.unwrap().len(), 0);
    simulator.shutdown().await;
}

#[tokio::test]
async fn an_unplugged_oven_goes_quiet_and_reports_itself_offline() {
    let simulator = start(oven_config()).await;
    let handle = simulator.handle();
    let (mut client, _) = connect_ovens(&simulator).await;
    let silent = |silent| Fault::Silent {
        cooker_id: OVEN_V2.into(),
        silent,
    };
    handle.inject(silent(true)).unwrap();
    client.barrier().await;
    // The v1 oven keeps pushing every 50 ms; the v2 must not, for ten of its pushes.
    let mut v1_pushes = 0;
    while v1_pushes < 10 {
        let frame = client.json().await;
        if frame["command"] == "EVENT_APO_STATE" {
            assert_eq!(
                frame["payload"]["cookerId"], OVEN_V1,
                "only the plugged-in oven"
            );
            v1_pushes += 1;
        }
    }
    let (_, connect) = connect_ovens(&simulator).await;
    let cached = connect
        .iter()
        .find(|f| f["payload"]["cookerId"] == OVEN_V2)
        .unwrap();
    assert_eq!(cached["payload"]["state"]["systemInfo"]["online"], false);
    // Commands to it are acknowledged and ignored.
    let id = client
        .send_oven(
            "CMD_APO_SET_TEMPERATURE_UNIT",
            OVEN_V2,
            Some(json!({"temperatureUnit": "F"})),
        )
        .await;
    assert_eq!(client.json_response(&id).await.0, json!({"status": "ok"}));
    handle.inject(silent(false)).unwrap();
    let back = client.oven_until(OVEN_V2, |_| true).await;
    assert_eq!(back["systemInfo"]["online"], true);
    assert_eq!(back["state"]["temperatureUnit"], "C");
    simulator.shutdown().await;
}

#[test]
fn the_simulators_parser_reads_every_captured_command() {
    // The server side of the protocol lives in the simulator: it must read what clients send
    // exactly as captured, and write it back unchanged.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anova-messages");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("CMD_") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let frame = anova2mqtt::simulator::ClientFrame::parse(&text).unwrap();
        assert_eq!(name.split('.').next().unwrap(), frame.command, "{name}");
        let again: Value = serde_json::from_str(&frame.to_json()).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<Value>(&text).unwrap(),
            "{name}"
        );
        let expected_apo = name.starts_with("CMD_APO_");
        assert_eq!(
            matches!(frame.body, anova2mqtt::simulator::ClientCommand::Apo(_)),
            expected_apo,
            "{name}"
        );
        if !expected_apo {
            assert!(
                matches!(frame.body, anova2mqtt::simulator::ClientCommand::Apc { .. }),
                "{name}"
            );
        }
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} commands");
}
