//! `GET /api/v1/stream`: the live WebSocket (`docs/interface.md` §6).
//!
//! One task per client, running two halves side by side. The session reads the client's
//! messages, a heartbeat timer and the answers to the client's commands, and puts what the
//! client should receive into a small bounded queue. The writer sends that queue and the
//! daemon's broadcast to the socket, queue first.
//!
//! The daemon never waits for a client: the broadcast never blocks, and its buffer is each
//! client's bounded backlog of live messages. A client that falls a whole buffer behind
//! (`Lagged`), lets its small control queue fill up, or cannot take one frame within the write
//! timeout is disconnected without further ado.
//!
//! Messages (all JSON text frames; the OpenAPI document describes each):
//! - server → client: `devices` (the snapshot, first), `state`, `event`, `bridge` (from the
//!   daemon), `heartbeat`, `ack`, `response`, `auth`, `error`;
//! - client → server: `auth` (`{"type":"auth","token":…}`, first, when the token was not sent
//!   with the upgrade), `command` (`{"type":"command","id":…,"device":…,"command":{…}}`).

use super::auth::Presented;
use super::backend::{ApiRequest, BackendError, CommandReply, StreamItem};
use super::ratelimit::{TokenBucket, Verdict};
use super::slots::Pending;
use super::upgrade::{self, ServerSocket, Upgrade};
use super::{error::ApiError, App};
use crate::metrics::DropReason;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{FuturesUnordered, SplitSink};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// How long a closing client gets to receive its last frames.
const CLOSE_FLUSH: Duration = Duration::from_secs(1);

/// The handler: checks, then upgrades.
pub(crate) async fn stream(State(app): State<Arc<App>>, request: Request) -> Response {
    if let Err(err) = app.auth.check_site(request.headers()) {
        return err.into_response();
    }
    let authenticated = match app.auth.check(request.headers(), request.uri()) {
        Presented::Valid => true,
        // The first message may carry it.
        Presented::Missing => false,
        Presented::Wrong => return ApiError::unauthorized().into_response(),
    };
    let upgrade = match Upgrade::from_request(request) {
        Ok(upgrade) => upgrade,
        Err(err) => return upgrade::refusal(err),
    };
    // Only a connection that presented the token takes a client's place now; one that will
    // send it as its first message waits apart (`slots.rs`).
    let admission = if authenticated {
        match app.stream_slots.client() {
            Some(place) => Admission::Client { _place: place },
            None => return too_many_clients(&app).into_response(),
        }
    } else {
        Admission::Pending(app.stream_slots.pending())
    };
    let (response, socket) = upgrade.accept();
    let tracked = app.clone();
    app.tasks.spawn(async move {
        if let Some(socket) = socket.await {
            run(tracked, socket, admission).await;
        }
    });
    response
}

/// `503 too_many_clients`.
fn too_many_clients(app: &App) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_clients",
        format!(
            "the stream already has {} clients, its maximum",
            app.settings.max_stream_clients
        ),
    )
}

/// The place a connection holds.
enum Admission {
    /// An authenticated client's (counted in `anova2mqtt_stream_clients`), held until the
    /// session ends.
    Client { _place: OwnedSemaphorePermit },
    /// Waiting for the `auth` message.
    Pending(Pending),
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client closed or the connection broke.
    ClientGone,
    /// We close with this code and reason; `Some` when the client is cut off for
    /// misbehaving (counted in the metrics).
    Close(CloseCode, &'static str, Option<DropReason>),
    /// The client could not keep up: cut it off without a goodbye.
    Slow,
}

/// What the session hands the writer.
enum Outgoing {
    /// A frame to send.
    Frame(Message),
    /// The broadcast, to send from now on (after the snapshot, which is queued before it).
    Live(broadcast::Receiver<StreamItem>),
}

/// One client, from the upgrade to the close.
async fn run(app: Arc<App>, socket: ServerSocket, admission: Admission) {
    let (sink, mut incoming) = socket.split();
    let (queue, outgoing) = mpsc::channel(app.settings.stream_queue.max(1));
    let mut writer = std::pin::pin!(write_all(sink, outgoing, app.settings.stream_write_timeout));
    let mut session = Session::new(app.clone(), queue, admission);

    let end = tokio::select! {
        end = session.run(&mut incoming) => end,
        end = &mut writer => end,
    };
    match end {
        End::Slow => {
            app.handle.metrics().stream_client_dropped(DropReason::Slow);
            tracing::debug!("stream client dropped: too slow");
        }
        End::ClientGone => {}
        End::Close(code, reason, dropped) => {
            if let Some(why) = dropped {
                app.handle.metrics().stream_client_dropped(why);
            }
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            if session
                .queue
                .try_send(Outgoing::Frame(Message::Close(Some(frame))))
                .is_ok()
            {
                drop(session);
                let _ = tokio::time::timeout(CLOSE_FLUSH, writer).await;
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.authenticated() {
            self.app.handle.metrics().stream_client(-1);
        }
    }
}

/// Writes the queued frames and, once handed over, the broadcast, until the queue closes or
/// a close frame is sent (`ClientGone`: nothing more to do), a write fails (`ClientGone`), or
/// the client cannot keep up (`Slow`: it lagged the broadcast, or one write took longer than
/// `timeout`).
async fn write_all(
    mut sink: SplitSink<ServerSocket, Message>,
    mut outgoing: mpsc::Receiver<Outgoing>,
    timeout: Duration,
) -> End {
    let mut live = None;
    loop {
        let message = tokio::select! {
            // Answers and heartbeats first: they are few, and a client waits for them.
            biased;
            queued = outgoing.recv() => match queued {
                Some(Outgoing::Frame(message)) => message,
                Some(Outgoing::Live(receiver)) => {
                    live = Some(receiver);
                    continue;
                }
                None => return End::ClientGone,
            },
            item = recv_live(&mut live) => match item {
                Ok(item) => Message::text(&*item),
                Err(broadcast::error::RecvError::Lagged(_)) => return End::Slow,
                Err(broadcast::error::RecvError::Closed) => {
                    live = None;
                    continue;
                }
            },
        };
        let closing = matches!(message, Message::Close(_));
        match tokio::time::timeout(timeout, sink.send(message)).await {
            Ok(Ok(())) if !closing => {}
            Ok(_) => return End::ClientGone,
            Err(_) => return End::Slow,
        }
    }
}

/// A command waiting for its response.
type PendingCommand = Pin<Box<dyn Future<Output = Value> + Send>>;

/// The state of one client.
struct Session {
    app: Arc<App>,
    /// Frames for the writer.
    queue: mpsc::Sender<Outgoing>,
    /// A client's place once the token was accepted (or none is needed).
    admission: Admission,
    /// The client's message budget.
    bucket: TokenBucket,
    /// Commands sent to the daemon and not answered yet.
    pending: FuturesUnordered<PendingCommand>,
}

impl Session {
    fn new(app: Arc<App>, queue: mpsc::Sender<Outgoing>, admission: Admission) -> Self {
        let bucket = TokenBucket::new(app.settings.stream_rate, std::time::Instant::now());
        if matches!(admission, Admission::Client { .. }) {
            app.handle.metrics().stream_client(1);
        }
        Self {
            app,
            queue,
            admission,
            bucket,
            pending: FuturesUnordered::new(),
        }
    }

    /// The token was accepted (or none is needed).
    fn authenticated(&self) -> bool {
        matches!(self.admission, Admission::Client { .. })
    }

    /// Runs until the client leaves or must go.
    async fn run(&mut self, incoming: &mut futures_util::stream::SplitStream<ServerSocket>) -> End {
        let every = self.app.settings.heartbeat;
        let stop = self.app.stop.clone();
        let auth_deadline = tokio::time::sleep(self.app.settings.auth_deadline);
        tokio::pin!(auth_deadline);
        // Cancelled when a newer connection waiting to authenticate took this one's place.
        let evicted = match &self.admission {
            Admission::Pending(pending) => pending.evicted.clone(),
            Admission::Client { .. } => CancellationToken::new(),
        };
        let mut heartbeat = tokio::time::interval_at(Instant::now() + every, every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        if self.authenticated() {
            if let Err(end) = self.start_live().await {
                return end;
            }
        }
        loop {
            let result = tokio::select! {
                () = stop.cancelled() => Err(End::Close(CloseCode::Away, "the bridge is shutting down", None)),
                () = &mut auth_deadline, if !self.authenticated() => {
                    self.send(error_message(None, "unauthorized", "no auth message in time"));
                    Err(End::Close(CloseCode::Policy, "authentication required", Some(DropReason::Auth)))
                }
                () = evicted.cancelled(), if !self.authenticated() => {
                    self.send(error_message(None, "unauthorized", "too many connections are waiting to authenticate; send the token sooner"));
                    Err(End::Close(CloseCode::Again, "too many connections waiting to authenticate", Some(DropReason::AuthCrowded)))
                }
                frame = incoming.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.on_client_message(Some(text.as_str())).await,
                    Some(Ok(Message::Binary(_))) => self.on_client_message(None).await,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Err(End::ClientGone),
                    // Pings are answered by tungstenite itself.
                    Some(Ok(_)) => Ok(()),
                },
                _ = heartbeat.tick(), if self.authenticated() => {
                    self.push(heartbeat_message(every))
                }
                Some(message) = self.pending.next() => self.push(Message::text(message.to_string())),
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    /// Subscribes to the broadcast, then sends the snapshot: a change between the two arrives
    /// after the snapshot rather than being lost.
    async fn start_live(&mut self) -> Result<(), End> {
        let live = self.app.handle.subscribe();
        let wait = self.app.settings.request_timeout;
        let message = match self
            .app
            .handle
            .ask(|reply| ApiRequest::Devices { reply }, wait)
            .await
        {
            Ok(devices) => json!({"type": "devices", "devices": devices}),
            Err(err) => backend_error_message(None, err),
        };
        self.push(Message::text(message.to_string()))?;
        self.queue
            .try_send(Outgoing::Live(live))
            .map_err(|_| End::Slow)
    }

    /// Queues a message; a full queue means the client is not reading.
    fn push(&mut self, message: Message) -> Result<(), End> {
        self.queue
            .try_send(Outgoing::Frame(message))
            .map_err(|_| End::Slow)
    }

    /// Queues a JSON message, ignoring a full queue (the next push notices it).
    fn send(&mut self, message: Value) {
        let _ = self
            .queue
            .try_send(Outgoing::Frame(Message::text(message.to_string())));
    }

    /// Handles a text message (`None`: a binary one, which is always an error).
    async fn on_client_message(&mut self, text: Option<&str>) -> Result<(), End> {
        match self.bucket.take(std::time::Instant::now()) {
            Verdict::Allow => {}
            Verdict::Limit => {
                let retry = self.bucket.retry_after().as_secs_f64();
                return self.push(Message::text(
                    error_message(
                        None,
                        "rate_limited",
                        &format!("too many messages; wait {retry:.1} s"),
                    )
                    .to_string(),
                ));
            }
            Verdict::Close => {
                self.send(error_message(
                    None,
                    "rate_limited",
                    "too many messages; closing",
                ));
                return Err(End::Close(
                    CloseCode::Policy,
                    "too many messages",
                    Some(DropReason::RateLimit),
                ));
            }
        }
        let parsed = text.and_then(|text| serde_json::from_str::<Value>(text).ok());
        let Some(message) = parsed.filter(Value::is_object) else {
            return self.push(Message::text(
                error_message(
                    None,
                    "invalid_message",
                    "messages are JSON objects with a \"type\" (\"auth\" or \"command\")",
                )
                .to_string(),
            ));
        };
        let id = message.get("id").cloned();
        match message.get("type").and_then(Value::as_str) {
            Some("auth") => self.on_auth(&message).await,
            _ if !self.authenticated() => {
                self.send(error_message(
                    id.as_ref(),
                    "unauthorized",
                    "send {\"type\":\"auth\",\"token\":…} first",
                ));
                Err(End::Close(
                    CloseCode::Policy,
                    "authentication required",
                    Some(DropReason::Auth),
                ))
            }
            Some("command") => self.on_command(id, &message),
            _ => self.push(Message::text(
                error_message(
                    id.as_ref(),
                    "invalid_message",
                    "unknown message type; clients send \"auth\" or \"command\"",
                )
                .to_string(),
            )),
        }
    }

    async fn on_auth(&mut self, message: &Value) -> Result<(), End> {
        if self.authenticated() {
            return self.push(Message::text(
                json!({"type": "auth", "status": "ok"}).to_string(),
            ));
        }
        let token = message
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.app.auth.accepts(token) {
            self.send(error_message(None, "unauthorized", "wrong token"));
            return Err(End::Close(
                CloseCode::Policy,
                "wrong token",
                Some(DropReason::Auth),
            ));
        }
        let Some(permit) = self.app.stream_slots.client() else {
            let err = too_many_clients(&self.app);
            self.send(error_message(None, err.code, &err.message));
            return Err(End::Close(CloseCode::Again, "too many clients", None));
        };
        self.admission = Admission::Client { _place: permit };
        self.app.handle.metrics().stream_client(1);
        self.push(Message::text(
            json!({"type": "auth", "status": "ok"}).to_string(),
        ))?;
        self.start_live().await
    }

    fn on_command(&mut self, id: Option<Value>, message: &Value) -> Result<(), End> {
        let (Some(device), Some(command)) = (
            message.get("device").and_then(Value::as_str),
            message.get("command"),
        ) else {
            return self.push(Message::text(
                error_message(
                    id.as_ref(),
                    "invalid_message",
                    "a command message needs \"device\" (an id) and \"command\" (the object of \
                     POST /api/v1/devices/{id}/command)",
                )
                .to_string(),
            ));
        };
        if self.pending.len() >= self.app.settings.max_pending_commands {
            return self.push(Message::text(
                error_message(
                    id.as_ref(),
                    "busy",
                    "too many commands waiting for a response",
                )
                .to_string(),
            ));
        }
        let payload = with_command_id(command, id.as_ref());
        let device = device.to_owned();
        let answer = self.app.handle.send(|reply| ApiRequest::Command {
            source: crate::appliance::record::Source::Http,
            device: device.clone(),
            payload: payload.into(),
            reply,
        });
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) => {
                return self.push(Message::text(
                    backend_error_message(id.as_ref(), err).to_string(),
                ))
            }
        };
        self.push(Message::text(json!({"type": "ack", "id": id}).to_string()))?;
        let wait = self.app.settings.command_timeout;
        self.pending.push(Box::pin(async move {
            let reply = match tokio::time::timeout(wait, answer).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(_)) => return backend_error_message(id.as_ref(), BackendError::Gone),
                Err(_) => return backend_error_message(id.as_ref(), BackendError::NoAnswer),
            };
            response_message(id, &device, reply)
        }));
        Ok(())
    }
}

/// The next broadcast item, or never before the client is authenticated.
async fn recv_live(
    live: &mut Option<broadcast::Receiver<StreamItem>>,
) -> Result<StreamItem, broadcast::error::RecvError> {
    match live {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// The command as JSON text, with the stream message's `id` added when the command has no
/// `id` or `transaction` of its own, so the MQTT response and the logs carry it too.
pub(super) fn with_command_id(command: &Value, id: Option<&Value>) -> String {
    let id = match id {
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match (command, id) {
        (Value::Object(fields), Some(id))
            if !fields.contains_key("id") && !fields.contains_key("transaction") =>
        {
            let mut fields = fields.clone();
            fields.insert("id".to_owned(), Value::String(id));
            Value::Object(fields).to_string()
        }
        _ => command.to_string(),
    }
}

/// `{"type":"response",…}` for a command's answer, or an error for an unknown device.
fn response_message(id: Option<Value>, device: &str, reply: Option<CommandReply>) -> Value {
    let Some(reply) = reply else {
        let err = ApiError::unknown_device(device);
        return error_message(id.as_ref(), err.code, &err.message);
    };
    let response = serde_json::from_str::<Value>(&reply.body).unwrap_or(Value::String(reply.body));
    json!({"type": "response", "id": id, "device": device, "response": response})
}

/// `{"type":"error","id":…,"error":{"code":…,"message":…}}`.
fn error_message(id: Option<&Value>, code: &str, message: &str) -> Value {
    json!({"type": "error", "id": id, "error": {"code": code, "message": message}})
}

fn backend_error_message(id: Option<&Value>, err: BackendError) -> Value {
    let err = ApiError::from(err);
    error_message(id, err.code, &err.message)
}

/// `{"type":"heartbeat","time":…,"interval_s":…}`.
fn heartbeat_message(interval: Duration) -> Message {
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    // Whole seconds print as integers (15, not 15.0).
    let interval_s = match interval.subsec_nanos() {
        0 => json!(interval.as_secs()),
        _ => json!(interval.as_secs_f64()),
    };
    Message::text(json!({"type": "heartbeat", "time": time, "interval_s": interval_s}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_id_becomes_the_command_id() {
        let id = json!("web-1");
        assert_eq!(
            with_command_id(&json!({"cook": true}), Some(&id)),
            r#"{"cook":true,"id":"web-1"}"#
        );
        assert_eq!(
            with_command_id(&json!({"cook": true, "transaction": "t"}), Some(&id)),
            r#"{"cook":true,"transaction":"t"}"#
        );
        assert_eq!(
            with_command_id(&json!({"cook": true}), Some(&json!(7))),
            r#"{"cook":true,"id":"7"}"#
        );
        assert_eq!(with_command_id(&json!("start"), Some(&id)), r#""start""#);
        assert_eq!(
            with_command_id(&json!({"cook": true}), None),
            r#"{"cook":true}"#
        );
    }

    #[test]
    fn responses_carry_the_id_and_device() {
        let reply = CommandReply {
            code: None,
            body: r#"{"id":"1","status":"ok"}"#.to_owned(),
        };
        assert_eq!(
            response_message(Some(json!("1")), "a7", Some(reply)),
            json!({"type": "response", "id": "1", "device": "a7",
                   "response": {"id": "1", "status": "ok"}})
        );
        let unknown = response_message(Some(json!("2")), "x", None);
        assert_eq!(unknown["type"], "error");
        assert_eq!(unknown["id"], "2");
        assert_eq!(unknown["error"]["code"], "unknown_device");
    }
}
