//! The cloud client over real sockets, first against a scripted Anova cloud (every test decides
//! exactly what the server sends or withholds on each connection: half-open sockets, 401,
//! out-of-order and duplicate frames), then against our simulator of the real cloud.
//!
//! Intervals are milliseconds so each test takes well under a few seconds; the tests wait for
//! events with timeouts. Where a test asserts that something does *not* happen (no reconnect
//! storm, no close on missing pongs) it watches for a bounded window, which is the property
//! under test.

use anova2mqtt::backoff::BackoffPolicy;
use anova2mqtt::cloud::client::{spawn, ClientConfig, CloudHandle};
use anova2mqtt::cloud::{CloudError, CloudEvent, LinkState};
use anova2mqtt::secret::Secret;
use anova2mqtt::simulator::{self as sim, ClientCommand, ClientFrame};
use anova2mqtt::simulator::{AuthFailureMode, Fault, SimCookerSpec, Simulator, SimulatorConfig};
use anova2mqtt::sous_vide::wire::{ApcCommand, DeviceRef};
use anova2mqtt::wire::{DeviceType, TemperatureUnit};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request, Response as Upgrade,
};
use tokio_tungstenite::tungstenite::http;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "anova-eyJTEST.t0ken-that-must-never-leak_42";
const A7: &str = "A7COOKERID000000000001";
const PRO: &str = "PROCOOKERID0000001";
/// How long any single expected event may take.
const PATIENCE: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------------------
// The scripted cloud
// ---------------------------------------------------------------------------------------------

/// How the scripted cloud treats the next connections.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Upgrade and hand the socket to the test.
    Accept,
    /// Answer the upgrade with HTTP 401.
    Unauthorized,
    /// Upgrade, then close at once without a frame (the other bad-token behaviour).
    CloseAtOnce,
}

/// A WebSocket server on 127.0.0.1 whose behaviour the test scripts.
struct ScriptedCloud {
    url: String,
    mode: Arc<Mutex<Mode>>,
    /// TCP connections accepted so far.
    attempts: Arc<AtomicUsize>,
    connections: mpsc::UnboundedReceiver<ServerSide>,
}

impl ScriptedCloud {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(Mode::Accept));
        let attempts = Arc::new(AtomicUsize::new(0));
        let (tx, connections) = mpsc::unbounded_channel();
        let (task_mode, task_attempts) = (Arc::clone(&mode), Arc::clone(&attempts));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                task_attempts.fetch_add(1, Ordering::SeqCst);
                let mode = *task_mode.lock().unwrap();
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Some(conn) = ServerSide::accept(stream, mode).await {
                        let _ = tx.send(conn);
                    }
                });
            }
        });
        Self {
            url,
            mode,
            attempts,
            connections,
        }
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }

    /// The next upgraded connection.
    async fn next_connection(&mut self) -> ServerSide {
        timeout(PATIENCE, self.connections.recv())
            .await
            .expect("the client did not connect in time")
            .unwrap()
    }
}

/// The server's end of one connection.
struct ServerSide {
    ws: WebSocketStream<TcpStream>,
    /// The request path and query the client asked for.
    uri: String,
}

impl ServerSide {
    async fn accept(stream: TcpStream, mode: Mode) -> Option<Self> {
        let mut uri = String::new();
        // The error type is tungstenite's `Callback` contract, not ours to shrink.
        #[allow(clippy::result_large_err)]
        let callback = |request: &Request, response: Upgrade| -> Result<Upgrade, ErrorResponse> {
            uri = request.uri().to_string();
            if mode == Mode::Unauthorized {
                let refusal = http::Response::builder()
                    .status(http::StatusCode::UNAUTHORIZED)
                    .body(None)
                    .unwrap();
                return Err(refusal);
            }
            Ok(response)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback)
            .await
            .ok()?;
        if mode == Mode::CloseAtOnce {
            let _ = ws.close(None).await;
            return None;
        }
        Some(Self { ws, uri })
    }

    async fn send(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Sends a frame written by the test (the product's types only read frames).
    async fn send_event(&mut self, frame: Value) {
        self.send(frame.to_string()).await;
    }

    /// The next frame that is not a ping or pong; `None` once the connection ended.
    async fn recv(&mut self) -> Option<Message> {
        loop {
            let frame = timeout(PATIENCE, self.ws.next())
                .await
                .expect("nothing from the client in time");
            match frame {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(message)) => return Some(message),
                Some(Err(_)) | None => return None,
            }
        }
    }

    async fn recv_command(&mut self) -> ClientFrame {
        match self.recv().await {
            Some(Message::Text(text)) => ClientFrame::parse(text.as_str()).unwrap(),
            other => panic!("expected a command, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire messages
// ---------------------------------------------------------------------------------------------

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anova-messages")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn a7_state() -> String {
    fixture("EVENT_APC_STATE.a7.idle.real.json")
}

fn pro_state() -> String {
    fixture("EVENT_APC_STATE.pro.preheating.real.json")
}

fn entry(cooker_id: &str, device_type: &str) -> Value {
    json!({
        "cookerId": cooker_id,
        "name": format!("My {device_type}"),
        "pairedAt": "2024-07-05T17:36:59.347Z",
        "type": device_type,
    })
}

fn device_list(cookers: &[(&str, &str)]) -> Value {
    let entries: Vec<Value> = cookers.iter().map(|(id, t)| entry(id, t)).collect();
    json!({"command": "EVENT_APC_WIFI_LIST", "payload": entries})
}

fn response_ok(request_id: &str) -> Value {
    json!({"command": "RESPONSE", "requestId": request_id, "payload": {"status": "ok"}})
}

fn response_error(request_id: &str, text: &str) -> Value {
    json!({"command": "RESPONSE", "requestId": request_id, "payload": {"status": "error", "error": text}})
}

fn a7_ref() -> DeviceRef {
    DeviceRef {
        cloud_id: A7.into(),
        device_type: DeviceType::new("a7"),
    }
}

// ---------------------------------------------------------------------------------------------
// The client under test
// ---------------------------------------------------------------------------------------------

/// Millisecond-scale settings; individual tests override what they exercise.
fn config(url: &str) -> ClientConfig {
    ClientConfig {
        url: url.to_owned(),
        token: Secret::new(TOKEN),
        connect_timeout: Duration::from_secs(1),
        command_timeout: Duration::from_secs(1),
        stale_after: Duration::from_secs(30),
        watchdog: Duration::from_secs(5),
        ping_interval: Duration::from_secs(1),
        backoff: BackoffPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
            factor: 2,
            jitter: 0.2,
        },
        auth_retry: Duration::from_secs(30),
        auth_close_attempts: 3,
        event_capacity: 64,
        ..ClientConfig::default()
    }
}

struct Client {
    handle: CloudHandle,
    events: mpsc::Receiver<CloudEvent>,
    task: JoinHandle<()>,
    shutdown: CancellationToken,
    /// The devices the client has announced and not removed, as of the last event.
    known: std::collections::BTreeSet<String>,
}

impl Client {
    fn start(config: ClientConfig) -> Self {
        Capture::global();
        let shutdown = CancellationToken::new();
        let (handle, events, task) = spawn(config, shutdown.clone());
        Self {
            handle,
            events,
            task,
            shutdown,
            known: Default::default(),
        }
    }

    async fn next(&mut self) -> CloudEvent {
        let event = timeout(PATIENCE, self.events.recv())
            .await
            .expect("no event in time")
            .expect("the client ended");
        match &event {
            CloudEvent::DeviceAdded(info) => {
                self.known.insert(info.cloud_id.to_string());
            }
            CloudEvent::DeviceRemoved { cloud_id } => {
                self.known.remove(cloud_id.as_str());
            }
            _ => {}
        }
        event
    }

    /// The next event, summarised; a sync lists the devices announced so far.
    async fn next_summary(&mut self) -> String {
        let event = self.next().await;
        summary(&self.known, &event)
    }

    /// The next event matching `wanted`, skipping others.
    async fn until(&mut self, wanted: impl Fn(&CloudEvent) -> bool) -> CloudEvent {
        loop {
            let event = self.next().await;
            if wanted(&event) {
                return event;
            }
        }
    }

    async fn until_link(&mut self, wanted: impl Fn(&LinkState) -> bool) -> LinkState {
        match self
            .until(|e| matches!(e, CloudEvent::Link(link) if wanted(link)))
            .await
        {
            CloudEvent::Link(link) => link,
            _ => unreachable!(),
        }
    }

    async fn until_up(&mut self) {
        self.until_link(|l| *l == LinkState::Up).await;
    }

    /// Every event that arrives within `window`.
    async fn events_within(&mut self, window: Duration) -> Vec<CloudEvent> {
        let end = Instant::now() + window;
        let mut seen = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(end, self.events.recv()).await {
            seen.push(event);
        }
        seen
    }

    async fn stop(self) {
        self.shutdown.cancel();
        timeout(PATIENCE, self.task)
            .await
            .expect("the client did not stop")
            .unwrap();
    }
}

fn is_down(link: &LinkState) -> bool {
    matches!(link, LinkState::Down { .. })
}

fn summary(known: &std::collections::BTreeSet<String>, event: &CloudEvent) -> String {
    match event {
        CloudEvent::Link(LinkState::Down { .. }) => "down".to_owned(),
        CloudEvent::Link(LinkState::AuthFailed { .. }) => "auth failed".to_owned(),
        CloudEvent::Link(link) => format!("{link:?}").to_lowercase(),
        CloudEvent::DeviceAdded(info) => format!("added {} {}", info.cloud_id, info.device_type),
        CloudEvent::DeviceRemoved { cloud_id } => format!("removed {cloud_id}"),
        CloudEvent::DeviceListSynced => {
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            format!("synced {}", known.join(","))
        }
        CloudEvent::State { cloud_id, state } => format!("state {cloud_id} {}", state.model()),
        CloudEvent::Stale { cloud_id } => format!("stale {cloud_id}"),
        CloudEvent::Firmware { cloud_id, .. } => format!("firmware {cloud_id}"),
    }
}

async fn summaries(client: &mut Client, count: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(client.next_summary().await);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn discovers_both_cookers_with_their_state() {
    let mut cloud = ScriptedCloud::start().await;
    let mut client = Client::start(config(&cloud.url));
    let mut server = cloud.next_connection().await;

    assert_eq!(
        server.uri,
        format!("/?token={TOKEN}&supportedAccessories=APC,APO&platform=android")
    );
    server
        .send_event(device_list(&[(A7, "a7"), (PRO, "pro")]))
        .await;
    server.send(fixture("EVENT_USER_STATE.real.json")).await;
    server.send(a7_state()).await;
    server.send(pro_state()).await;

    assert_eq!(
        summaries(&mut client, 7).await,
        [
            "connecting".to_owned(),
            "up".to_owned(),
            format!("added {A7} a7"),
            format!("added {PRO} pro"),
            format!("synced {A7},{PRO}"),
            format!("state {A7} a7"),
            format!("state {PRO} pro"),
        ]
    );
    assert_eq!(client.handle.link(), LinkState::Up);
    client.stop().await;
}

#[tokio::test]
async fn a_state_before_the_device_list_is_delivered_after_it() {
    let mut cloud = ScriptedCloud::start().await;
    let mut client = Client::start(config(&cloud.url));
    let mut server = cloud.next_connection().await;

    server.send(pro_state()).await;
    server.send(a7_state()).await;
    server
        .send_event(device_list(&[(A7, "a7"), (PRO, "pro")]))
        .await;

    client.until_up().await;
    assert_eq!(
        summaries(&mut client, 5).await,
        [
            format!("added {A7} a7"),
            format!("added {PRO} pro"),
            format!("synced {A7},{PRO}"),
            format!("state {A7} a7"),
            format!("state {PRO} pro"),
        ]
    );
    client.stop().await;
}

#[tokio::test]
async fn cookers_added_and_removed_on_the_server_are_reported() {
    let mut cloud = ScriptedCloud::start().await;
    let mut client = Client::start(config(&cloud.url));

    let mut first = cloud.next_connection().await;
    first.send_event(device_list(&[(A7, "a7")])).await;
    first.send(a7_state()).await;
    client
        .until(|e| matches!(e, CloudEvent::State { .. }))
        .await;
    drop(first);
    client.until_link(is_down).await;

    // A cooker paired while we were away appears after the reconnect; the known one is not
    // announced again.
    let mut second = cloud.next_connection().await;
    second
        .send_event(device_list(&[(A7, "a7"), (PRO, "pro")]))
        .await;
    client.until_up().await;
    assert_eq!(
        summaries(&mut client, 2).await,
        [format!("added {PRO} pro"), format!("synced {A7},{PRO}")]
    );

    // Mid-session pairing and unpairing.
    second
        .send_event(json!({"command": "EVENT_APC_WIFI_ADDED", "payload": entry("NEWCOOKER000000000001", "a6")}))
        .await;
    second
        .send_event(json!({"command": "EVENT_APC_WIFI_REMOVED", "payload": {"cookerId": "NEWCOOKER000000000001"}}))
        .await;
    assert_eq!(
        summaries(&mut client, 2).await,
        [
            "added NEWCOOKER000000000001 a6",
            "removed NEWCOOKER000000000001"
        ]
    );
    drop(second);
    client.until_link(is_down).await;

    // A cooker unpaired while we were away is reported removed.
    let mut third = cloud.next_connection().await;
    third.send_event(device_list(&[(PRO, "pro")])).await;
    client.until_up().await;
    assert_eq!(
        summaries(&mut client, 2).await,
        [format!("removed {A7}"), format!("synced {PRO}")]
    );
    client.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fifty_concurrent_commands_each_get_their_own_result() {
    let mut cloud = ScriptedCloud::start().await;
    let mut client = Client::start(config(&cloud.url));
    let mut server = cloud.next_connection().await;
    server.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;

    let callers: Vec<JoinHandle<Result<(), CloudError>>> = (0..50u32)
        .map(|timer| {
            let handle = client.handle.clone();
            tokio::spawn(async move {
                handle
                    .send(
                        ApcCommand::SetTimer {
                            cooker: a7_ref(),
                            timer,
                        }
                        .into(),
                    )
                    .await
            })
        })
        .collect();

    let mut received = Vec::new();
    for _ in 0..50 {
        let frame = server.recv_command().await;
        let timer = match &frame.body {
            ClientCommand::Apc {
                command: sim::ApcCommand::SetTimer { timer, .. },
                ..
            } => *timer,
            other => panic!("unexpected command {other:?}"),
        };
        let id = uuid::Uuid::parse_str(&frame.request_id).unwrap();
        assert_eq!(id.get_version_num(), 4, "requestId is a UUID v4");
        received.push((frame.request_id, timer));
    }
    let mut ids: Vec<&str> = received.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50, "every command has its own requestId");

    // Out of order, every fifth refused, number 49 never answered; then a duplicate and an
    // answer nobody asked for, which must change nothing.
    for (request_id, timer) in received.iter().rev() {
        let response = match timer {
            49 => continue,
            t if t % 5 == 0 => response_error(request_id, &format!("invalid command {t}")),
            _ => response_ok(request_id),
        };
        server.send_event(response).await;
    }
    let (first_id, _) = &received[0];
    server.send_event(response_ok(first_id)).await;
    server
        .send_event(response_ok("nobody-asked-for-this"))
        .await;

    for (timer, caller) in callers.into_iter().enumerate() {
        let result = caller.await.unwrap();
        let expected = match timer {
            49 => Err(CloudError::Timeout),
            t if t % 5 == 0 => Err(CloudError::Rejected(format!("invalid command {t}"))),
            _ => Ok(()),
        };
        assert_eq!(result, expected, "command {timer}");
    }
    assert_eq!(client.handle.link(), LinkState::Up, "the link survived");
    client.stop().await;
}

#[tokio::test]
async fn commands_fail_at_once_while_down_and_in_flight_ones_fail_at_disconnect() {
    let mut cloud = ScriptedCloud::start().await;
    let mut client = Client::start(config(&cloud.url));
    let stop = ApcCommand::Stop { cooker: a7_ref() };

    // Not up yet: refused at once, not queued.
    let early = timeout(
        Duration::from_millis(200),
        client.handle.send(stop.clone().into()),
    )
    .await;
    assert_eq!(early, Ok(Err(CloudError::NotConnected)));

    let mut server = cloud.next_connection().await;
    server.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;

    let handle = client.handle.clone();
    let in_flight = tokio::spawn({
        let stop = stop.clone();
        async move { handle.send(stop.into()).await }
    });
    server.recv_command().await;
    drop(server);
    assert_eq!(in_flight.await.unwrap(), Err(CloudError::Disconnected));

    client.until_link(is_down).await;
    assert_eq!(
        client.handle.send(stop.into()).await,
        Err(CloudError::NotConnected)
    );
    // Nothing is re-sent on its own after the reconnect.
    let mut again = cloud.next_connection().await;
    again.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;
    again.send(a7_state()).await;
    client
        .until(|e| matches!(e, CloudEvent::State { .. }))
        .await;
    assert!(
        timeout(Duration::from_millis(300), again.recv())
            .await
            .is_err(),
        "no command was replayed"
    );
    client.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Liveness
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_dropped_connection_is_re_established_within_the_backoff() {
    let mut cloud = ScriptedCloud::start().await;
    let cfg = config(&cloud.url);
    let initial = cfg.backoff.initial;
    let mut client = Client::start(cfg);
    let mut server = cloud.next_connection().await;
    server.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;

    // Taken before the drop, so the client's backoff starts no earlier.
    let dropped_at = Instant::now();
    drop(server);
    client.until_link(is_down).await;
    let mut server = cloud.next_connection().await;
    let waited = dropped_at.elapsed();
    assert!(
        waited >= initial.mul_f64(0.8) && waited < Duration::from_secs(1),
        "reconnected after {waited:?}, backoff starts at {initial:?}"
    );
    // The device list is read again on the new connection.
    server.send_event(device_list(&[(A7, "a7")])).await;
    assert_eq!(
        summaries(&mut client, 3).await,
        [
            "connecting".to_owned(),
            "up".to_owned(),
            format!("synced {A7}")
        ]
    );
    assert_eq!(cloud.attempts(), 2);
    client.stop().await;
}

#[tokio::test]
async fn an_established_link_that_keeps_dropping_is_back_quickly_every_time() {
    // The soak's minutes-long reconnects: the cloud dropped established links every ~40 s and
    // the backoff doubled each time. A link that came up resets it.
    let mut cloud = ScriptedCloud::start().await;
    let cfg = config(&cloud.url);
    let initial = cfg.backoff.initial;
    let mut client = Client::start(cfg);
    for round in 0..6 {
        let mut server = cloud.next_connection().await;
        server.send_event(device_list(&[(A7, "a7")])).await;
        client.until_up().await;
        let dropped_at = Instant::now();
        drop(server);
        client.until_link(is_down).await;
        let server = cloud.next_connection().await;
        let waited = dropped_at.elapsed();
        assert!(
            waited < initial.mul_f64(1.2) + Duration::from_millis(150),
            "round {round}: reconnected after {waited:?}; the first wait is {initial:?}"
        );
        drop(server);
        // A connection that never came up counts as a failure and grows the wait.
        client.until_link(is_down).await;
    }
    client.stop().await;
}

#[tokio::test]
async fn a_half_open_socket_is_detected_by_the_watchdog() {
    let mut cloud = ScriptedCloud::start().await;
    let watchdog = Duration::from_millis(300);
    let mut client = Client::start(ClientConfig {
        watchdog,
        ping_interval: Duration::from_millis(100),
        ..config(&cloud.url)
    });
    // The server says one thing, then neither reads nor writes: no close, no pongs.
    let mut half_open = cloud.next_connection().await;
    // Taken before the last frame, so the client's watchdog starts no earlier.
    let last_frame_at = Instant::now();
    half_open.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;

    let down = client.until_link(is_down).await;
    let after = last_frame_at.elapsed();
    assert!(
        after >= watchdog && after < watchdog * 4,
        "detected after {after:?}"
    );
    assert!(format!("{down:?}").contains("nothing received"), "{down:?}");
    cloud.next_connection().await;
    drop(half_open);
    client.stop().await;
}

#[tokio::test]
async fn a_missing_pong_never_closes_a_talking_connection() {
    let mut cloud = ScriptedCloud::start().await;
    let mut client = Client::start(ClientConfig {
        watchdog: Duration::from_millis(400),
        ping_interval: Duration::from_millis(20),
        ..config(&cloud.url)
    });
    let mut server = cloud.next_connection().await;
    server.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;

    // The server only writes (it never reads, so it never answers a ping) for 50 ping
    // intervals.
    let talker = tokio::spawn(async move {
        for _ in 0..10 {
            server.send(a7_state()).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    });
    let seen = client.events_within(Duration::from_secs(1)).await;
    assert!(
        !seen.iter().any(|e| matches!(e, CloudEvent::Link(_))),
        "the link changed: {:?}",
        seen.iter()
            .map(|e| summary(&client.known, e))
            .collect::<Vec<_>>()
    );
    assert!(seen.len() >= 5, "states kept flowing");
    talker.await.unwrap();
    assert_eq!(cloud.attempts(), 1);
    client.stop().await;
}

#[tokio::test]
async fn a_silent_cooker_goes_stale_and_its_next_push_makes_it_fresh() {
    let mut cloud = ScriptedCloud::start().await;
    let stale_after = Duration::from_millis(300);
    let mut client = Client::start(ClientConfig {
        stale_after,
        ..config(&cloud.url)
    });
    let mut server = cloud.next_connection().await;
    server.send_event(device_list(&[(A7, "a7")])).await;
    // Taken before the push, so the client's staleness clock starts no earlier.
    let pushed_at = Instant::now();
    server.send(a7_state()).await;
    client
        .until(|e| matches!(e, CloudEvent::State { .. }))
        .await;

    assert_eq!(
        client.next_summary().await,
        format!("stale {A7}"),
        "nothing else happens meanwhile"
    );
    let after = pushed_at.elapsed();
    assert!(
        after >= stale_after && after < stale_after * 4,
        "stale after {after:?}"
    );

    server.send(a7_state()).await;
    assert_eq!(client.next_summary().await, format!("state {A7} a7"));
    assert_eq!(
        client.handle.link(),
        LinkState::Up,
        "staleness is per cooker"
    );
    client.stop().await;
}

#[tokio::test]
async fn reconnect_drops_the_socket_and_connects_again_at_once() {
    let mut cloud = ScriptedCloud::start().await;
    let mut client = Client::start(ClientConfig {
        backoff: BackoffPolicy {
            initial: Duration::from_secs(10),
            ..config("").backoff
        },
        ..config(&cloud.url)
    });
    let mut server = cloud.next_connection().await;
    server.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;

    client.handle.reconnect();
    match server.recv().await {
        Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a close frame, got {other:?}"),
    }
    // A request is not a fault: straight to connecting, never `Down` (issue 27 item 15).
    let next = client.until_link(|l| !matches!(l, LinkState::Up)).await;
    assert_eq!(next, LinkState::Connecting);
    // Much sooner than the 10 s backoff.
    let mut again = cloud.next_connection().await;
    again.send_event(device_list(&[(A7, "a7")])).await;
    client.until_up().await;
    client.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Authentication failures
// ---------------------------------------------------------------------------------------------

/// Production timings divided by 60: a minute of the daemon's life is one second here.
fn scaled(url: &str) -> ClientConfig {
    let defaults = ClientConfig::default();
    ClientConfig {
        backoff: BackoffPolicy {
            initial: defaults.backoff.initial / 60,
            max: defaults.backoff.max / 60,
            ..defaults.backoff
        },
        auth_retry: defaults.auth_retry / 60,
        ..config(url)
    }
}

const SCALED_MINUTE: Duration = Duration::from_secs(1);

#[tokio::test]
async fn http_401_is_auth_failed_and_retried_slowly() {
    let cloud = ScriptedCloud::start().await;
    cloud.set_mode(Mode::Unauthorized);
    let started = Instant::now();
    let mut client = Client::start(scaled(&cloud.url));

    let link = client
        .until_link(|l| matches!(l, LinkState::AuthFailed { .. }))
        .await;
    assert!(format!("{link:?}").contains("401"), "{link:?}");
    assert_eq!(client.handle.link(), link);

    let rest = SCALED_MINUTE.saturating_sub(started.elapsed());
    let seen = client.events_within(rest).await;
    assert!(
        seen.is_empty(),
        "{:?}",
        seen.iter()
            .map(|e| summary(&client.known, e))
            .collect::<Vec<_>>()
    );
    assert_eq!(cloud.attempts(), 1, "one attempt in a (scaled) minute");

    // A refresh retries at once, and fails the same way.
    client.handle.reconnect();
    assert_eq!(
        summaries(&mut client, 2).await,
        ["connecting", "auth failed"]
    );
    assert_eq!(cloud.attempts(), 2);
    client.stop().await;
}

#[tokio::test]
async fn repeated_close_before_any_frame_is_auth_failed() {
    let cloud = ScriptedCloud::start().await;
    cloud.set_mode(Mode::CloseAtOnce);
    let started = Instant::now();
    let mut client = Client::start(scaled(&cloud.url));

    assert_eq!(
        summaries(&mut client, 6).await,
        [
            "connecting",
            "down",
            "connecting",
            "down",
            "connecting",
            "auth failed"
        ]
    );
    match client.handle.link() {
        LinkState::AuthFailed { reason } => {
            assert!(reason.contains("3 connections in a row"), "{reason}");
        }
        other => panic!("not auth failed: {other:?}"),
    }

    let rest = SCALED_MINUTE.saturating_sub(started.elapsed());
    let seen = client.events_within(rest).await;
    assert!(
        seen.is_empty(),
        "{:?}",
        seen.iter()
            .map(|e| summary(&client.known, e))
            .collect::<Vec<_>>()
    );
    assert_eq!(cloud.attempts(), 3, "three attempts in a (scaled) minute");
    client.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Shutdown and secrecy
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn shutdown_closes_the_socket_and_fails_commands_in_flight() {
    let mut cloud = ScriptedCloud::start().await;
    let client = {
        let mut client = Client::start(config(&cloud.url));
        let mut server = cloud.next_connection().await;
        server.send_event(device_list(&[(A7, "a7")])).await;
        client.until_up().await;

        let handle = client.handle.clone();
        let in_flight = tokio::spawn(async move {
            handle
                .send(ApcCommand::Stop { cooker: a7_ref() }.into())
                .await
        });
        server.recv_command().await;

        client.shutdown.cancel();
        assert_eq!(in_flight.await.unwrap(), Err(CloudError::Shutdown));
        match server.recv().await {
            Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Normal),
            other => panic!("expected a close frame, got {other:?}"),
        }
        client
    };
    let handle = client.handle.clone();
    client.stop().await;
    assert_eq!(
        handle
            .send(ApcCommand::Stop { cooker: a7_ref() }.into())
            .await,
        Err(CloudError::Shutdown)
    );
    assert!(matches!(handle.link(), LinkState::Down { .. }));
}

/// Everything `tracing` writes while this test binary runs.
///
/// One global subscriber rather than a per-test `set_default`: tracing caches per-callsite
/// interest process-wide, and with tests running in parallel on several threads a thread-local
/// subscriber misses events whose callsites another thread registered first. Every test logs
/// here, so the token check below covers the logs of all of them.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// The capture, installed as the global subscriber (at TRACE) on first use.
    fn global() -> &'static Capture {
        static CAPTURE: OnceLock<Capture> = OnceLock::new();
        CAPTURE.get_or_init(|| {
            let capture = Capture::default();
            let writer = capture.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            capture
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn the_token_never_appears_in_logs_or_reasons() {
    let capture = Capture::global();
    let mut reasons = Vec::new();

    // Refused token, then a session with a command, a rejected command and a drop.
    let mut cloud = ScriptedCloud::start().await;
    cloud.set_mode(Mode::Unauthorized);
    let mut client = Client::start(scaled(&cloud.url));
    reasons.push(
        client
            .until_link(|l| matches!(l, LinkState::AuthFailed { .. }))
            .await,
    );
    cloud.set_mode(Mode::Accept);
    client.handle.reconnect();
    let mut server = cloud.next_connection().await;
    server.send_event(device_list(&[(A7, "a7")])).await;
    server.send(a7_state()).await;
    server.send("{not json".to_owned()).await;
    client.until_up().await;
    let handle = client.handle.clone();
    let caller = tokio::spawn(async move {
        handle
            .send(ApcCommand::Stop { cooker: a7_ref() }.into())
            .await
    });
    let frame = server.recv_command().await;
    server
        .send_event(response_error(&frame.request_id, "unauthorized"))
        .await;
    assert!(matches!(
        caller.await.unwrap(),
        Err(CloudError::Rejected(_))
    ));
    drop(server);
    reasons.push(client.until_link(is_down).await);
    client.stop().await;

    // Nothing listening at all: a TCP error, and a close at once.
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let mut client = Client::start(config(&format!("ws://{closed_port}/path?x=1")));
    reasons.push(client.until_link(is_down).await);
    client.stop().await;
    let close_cloud = ScriptedCloud::start().await;
    close_cloud.set_mode(Mode::CloseAtOnce);
    let mut client = Client::start(scaled(&close_cloud.url));
    reasons.push(
        client
            .until_link(|l| matches!(l, LinkState::AuthFailed { .. }))
            .await,
    );
    client.stop().await;

    let logs = capture.text();
    assert!(
        logs.contains("token=[redacted]"),
        "the redacted URL is logged:\n{logs}"
    );
    assert!(
        logs.contains("connection error") || logs.contains("ended the connection"),
        "{reasons:?}\n{logs}"
    );
    assert!(logs.contains("connecting failed"), "{logs}");
    assert!(
        !logs.contains(TOKEN),
        "the token leaked into the logs:\n{logs}"
    );
    for reason in &reasons {
        assert!(!format!("{reason:?}").contains(TOKEN), "{reason:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Against the real simulator
// ---------------------------------------------------------------------------------------------

const SIM_A7: &str = "simA7cooker0000000001";
const SIM_PRO: &str = "simProCooker000001";

/// The simulated Anova cloud with an a7 and a pro, accepting only [`TOKEN`].
async fn simulator(adjust: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut config = SimulatorConfig::for_tests(vec![
        SimCookerSpec::a7(SIM_A7, "Kitchen"),
        SimCookerSpec::pro(SIM_PRO, "Garage"),
    ])
    .with_token(TOKEN);
    adjust(&mut config);
    Simulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

fn sim_a7_ref() -> DeviceRef {
    DeviceRef {
        cloud_id: SIM_A7.into(),
        device_type: DeviceType::new("a7"),
    }
}

/// Events until both cookers have reported a state; returns their summaries in order.
async fn until_both_states(client: &mut Client) -> Vec<String> {
    let mut seen = Vec::new();
    let mut states = std::collections::BTreeSet::new();
    while states.len() < 2 {
        let event = client.next().await;
        if let CloudEvent::State { cloud_id, .. } = &event {
            states.insert(cloud_id.clone());
        }
        seen.push(summary(&client.known, &event));
    }
    seen
}

#[tokio::test]
async fn simulator_both_cookers_are_discovered_and_pairing_changes_follow() {
    let sim = simulator(|_| {}).await;
    let cloud = sim.handle();
    let mut client = Client::start(config(&sim.url()));

    let seen = until_both_states(&mut client).await;
    assert_eq!(
        seen,
        [
            "connecting".to_owned(),
            "up".to_owned(),
            format!("added {SIM_A7} a7"),
            format!("added {SIM_PRO} pro"),
            format!("synced {SIM_A7},{SIM_PRO}"),
            format!("state {SIM_A7} a7"),
            format!("state {SIM_PRO} pro"),
        ]
    );

    // Paired while we are connected, without an announcement: it appears after a reconnect.
    cloud
        .add_cooker(SimCookerSpec::a7("simNewCooker000000001", "Patio"), false)
        .unwrap();
    cloud.inject(Fault::DropConnections).unwrap();
    client.until_link(is_down).await;
    client.until_up().await;
    assert_eq!(
        summaries(&mut client, 2).await,
        [
            "added simNewCooker000000001 a7".to_owned(),
            format!("synced {SIM_A7},simNewCooker000000001,{SIM_PRO}"),
        ]
    );

    // Unpaired while we were away: reported removed after the reconnect.
    cloud.remove_cooker(SIM_PRO, false).unwrap();
    cloud.inject(Fault::DropConnections).unwrap();
    client.until_link(is_down).await;
    client.until_up().await;
    assert_eq!(
        summaries(&mut client, 2).await,
        [
            format!("removed {SIM_PRO}"),
            format!("synced {SIM_A7},simNewCooker000000001"),
        ]
    );

    // Announced mid-session.
    cloud.remove_cooker("simNewCooker000000001", true).unwrap();
    client
        .until(|e| matches!(e, CloudEvent::DeviceRemoved { cloud_id } if cloud_id == "simNewCooker000000001"))
        .await;
    client.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn simulator_concurrent_commands_and_a_withheld_response() {
    let sim = simulator(|_| {}).await;
    let cloud = sim.handle();
    let mut client = Client::start(config(&sim.url()));
    until_both_states(&mut client).await;

    let units = [TemperatureUnit::F, TemperatureUnit::C];
    let callers: Vec<_> = (0..50)
        .map(|i| {
            let handle = client.handle.clone();
            let command = ApcCommand::SetTemperatureUnit {
                cooker: sim_a7_ref(),
                unit: units[i % 2],
            };
            tokio::spawn(async move { handle.send(command.into()).await })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), Ok(()));
    }
    let received = cloud.commands();
    assert_eq!(received.len(), 50);
    let mut ids: Vec<&str> = received
        .iter()
        .map(|c| c.frame.request_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50, "every command has its own requestId");

    cloud.inject(Fault::WithholdResponses(true)).unwrap();
    let stop = ApcCommand::Stop {
        cooker: sim_a7_ref(),
    };
    assert_eq!(
        client.handle.send(stop.into()).await,
        Err(CloudError::Timeout)
    );
    client.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn simulator_drops_half_open_sockets_and_silent_cookers() {
    let sim = simulator(|config| config.idle_push_interval = Duration::from_millis(50)).await;
    let cloud = sim.handle();
    let cfg = ClientConfig {
        watchdog: Duration::from_millis(400),
        ping_interval: Duration::from_millis(100),
        stale_after: Duration::from_millis(300),
        ..config(&sim.url())
    };
    let initial = cfg.backoff.initial;
    let mut client = Client::start(cfg);
    until_both_states(&mut client).await;

    // A dropped connection comes back within the backoff.
    let dropped_at = Instant::now();
    cloud.inject(Fault::DropConnections).unwrap();
    client.until_link(is_down).await;
    client.until_up().await;
    let waited = dropped_at.elapsed();
    assert!(
        waited >= initial.mul_f64(0.8) && waited < Duration::from_secs(1),
        "{waited:?}"
    );

    // A half-open socket is dropped by the watchdog.
    let frozen_at = Instant::now();
    cloud.inject(Fault::HalfOpen(true)).unwrap();
    let down = client.until_link(is_down).await;
    assert!(format!("{down:?}").contains("nothing received"), "{down:?}");
    assert!(frozen_at.elapsed() < Duration::from_secs(2));
    cloud.inject(Fault::HalfOpen(false)).unwrap();
    client.until_up().await;

    // An unplugged cooker goes stale while the other keeps pushing; back, it is fresh.
    cloud
        .inject(Fault::Silent {
            cooker_id: SIM_A7.to_owned(),
            silent: true,
        })
        .unwrap();
    client
        .until(|e| matches!(e, CloudEvent::Stale { cloud_id } if cloud_id == SIM_A7))
        .await;
    cloud
        .inject(Fault::Silent {
            cooker_id: SIM_A7.to_owned(),
            silent: false,
        })
        .unwrap();
    client
        .until(|e| matches!(e, CloudEvent::State { cloud_id, .. } if cloud_id == SIM_A7))
        .await;
    client.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn simulator_bad_token_is_auth_failed_without_hammering() {
    for mode in [AuthFailureMode::Http401, AuthFailureMode::CloseAfterUpgrade] {
        let sim = simulator(|config| config.auth_failure = mode).await;
        let started = Instant::now();
        let mut client = Client::start(ClientConfig {
            token: Secret::new("anova-not-the-right-token"),
            ..scaled(&sim.url())
        });
        client
            .until_link(|l| matches!(l, LinkState::AuthFailed { .. }))
            .await;
        let rest = SCALED_MINUTE.saturating_sub(started.elapsed());
        client.events_within(rest).await;
        let attempts = sim.handle().connection_attempts();
        let allowed = match mode {
            AuthFailureMode::Http401 => 1,
            AuthFailureMode::CloseAfterUpgrade => 3,
        };
        assert_eq!(attempts, allowed, "{mode:?}: attempts in a (scaled) minute");
        client.stop().await;
        sim.shutdown().await;
    }
}
