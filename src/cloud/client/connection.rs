//! The connection task: connect, run one session, back off, repeat, until shutdown.
//!
//! The task is the only owner of the socket, the registry and the pending-request table, so
//! nothing is shared and no lock exists. Every wait is a `select!` over the socket, the
//! command channel, the reconnect signal, the shutdown token and deadline timers (watchdog,
//! pings, staleness, command expiry); nothing polls.
//!
//! Two phases alternate:
//! - **down** (backing off or connecting): commands fail at once with `NotConnected`, and
//!   staleness keeps ticking;
//! - **session**: the socket is read continuously, so tungstenite can answer the cloud's pings
//!   (it queues the pong and flushes it on the next read or write; we never send pongs
//!   ourselves).

use super::endpoint::Endpoint;
use super::pending::{PendingRequests, Resolution};
use super::registry::Registry;
use super::{ClientConfig, CommandRequest};
use crate::alarm::Alarm;
use crate::backoff::{jitter_sample, Backoff};
use crate::cloud::{CloudError, CloudEvent, LinkState};
use crate::wire::Event;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Writer = SplitSink<Socket, Message>;

/// State frames are a few KB. The device list grows by about 100 bytes per device: a large
/// account (or the load harness's 10,000 cookers, 1 MB) must fit, while one frame still costs
/// bounded memory.
const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// tungstenite zero-fills its read buffer up to this size before every read attempt, the last
/// one of each push included (it finds the socket empty): with the 128 KiB default that was a
/// 128 KiB `memset` per attempt for a 1.6 KB push, 3 % of the daemon's CPU at 100 pushes a
/// second (perf under `examples/load.rs`). 4 KiB holds a cooker's state in one read; a larger frame (an oven's
/// state, the device list) still grows the buffer, and only a burst pays more reads.
const READ_BUFFER_SIZE: usize = 4 * 1024;

/// The shortest wait between attempts whatever the configuration says, so a zero duration
/// can never turn into a tight reconnect loop.
const MIN_RETRY_DELAY: Duration = Duration::from_millis(10);

/// How long we try to say goodbye (a close frame) before dropping the socket anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The channels between the task and its owner.
pub(super) struct Channels {
    /// Events to the owner.
    pub(super) events: mpsc::Sender<CloudEvent>,
    /// Commands from the handles.
    pub(super) requests: mpsc::Receiver<CommandRequest>,
    /// `CloudHandle::reconnect`.
    pub(super) reconnect: Arc<Notify>,
    /// The link state the handles read.
    pub(super) link: watch::Sender<LinkState>,
    /// Ends the task.
    pub(super) shutdown: CancellationToken,
}

/// The TLS client configuration, built once; its error text if that failed.
type TlsSetup = Result<Arc<rustls::ClientConfig>, String>;

/// Why a connection attempt failed.
enum ConnectFailure {
    /// The cloud refused the token on the upgrade (HTTP 401/403).
    Refused(String),
    /// Anything else: DNS, TCP, TLS, timeout, another HTTP status.
    Failed(String),
}

/// How a session ended.
enum SessionEnd {
    /// The shutdown token was cancelled.
    Shutdown,
    /// The owner asked for a fresh connection.
    Reconnect,
    /// The connection was lost.
    Lost(Loss),
}

/// A lost connection.
struct Loss {
    reason: String,
    /// How long the link was up; `None` when the cloud never sent a frame.
    up_for: Option<Duration>,
    /// The cloud closed or reset the connection (as opposed to our watchdog or a failed write).
    by_peer: bool,
}

/// What a wait while down ended with.
enum Waited<T> {
    Done(T),
    Reconnect,
    Shutdown,
}

/// Whether a reconnect request ends a wait while down.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnReconnect {
    /// Backing off: a reconnect request skips the rest of the wait.
    CutShort,
    /// Already connecting: nothing to do.
    Ignore,
}

/// The connection task's state.
pub(super) struct Worker {
    config: ClientConfig,
    endpoint: Endpoint,
    tls: TlsSetup,
    channels: Channels,
    registry: Registry,
    pending: PendingRequests,
    backoff: Backoff,
    /// Connections in a row the cloud closed before sending anything.
    silent_closes: u32,
    /// An unreadable frame is logged as a warning once per connection, then at debug level,
    /// so a changed message cannot flood the journal.
    warned_unreadable: bool,
}

impl Worker {
    /// Prepares the task; nothing connects until [`Worker::run`].
    pub(super) fn new(config: ClientConfig, channels: Channels) -> Self {
        let endpoint = Endpoint::new(
            &config.url,
            &config.token,
            &config.accessories,
            &config.platform,
        );
        Self {
            endpoint,
            tls: crate::tls::client_config(crate::tls::public_roots(), None)
                .map(Arc::new)
                .map_err(|error| error.to_string()),
            registry: Registry::new(config.stale_after),
            pending: PendingRequests::default(),
            backoff: Backoff::new(config.backoff),
            silent_closes: 0,
            warned_unreadable: false,
            channels,
            config,
        }
    }

    /// Connects, runs sessions and reconnects until shutdown.
    pub(super) async fn run(mut self) {
        self.emit(CloudEvent::Link(LinkState::Connecting)).await;
        let mut wait: Option<Duration> = None;
        loop {
            if let Some(delay) = wait.take() {
                let delay = delay.max(MIN_RETRY_DELAY);
                tracing::debug!("reconnecting in {}", format_duration(delay));
                let pause = tokio::time::sleep(delay);
                if let Waited::Shutdown = self.while_down(pause, OnReconnect::CutShort).await {
                    break;
                }
            }
            self.set_link(LinkState::Connecting).await;
            tracing::info!(url = %self.endpoint.redacted(), "connecting to the Anova cloud");
            let attempt = connect(
                self.endpoint.clone(),
                self.tls.clone(),
                self.config.connect_timeout,
            );
            let socket = match self.while_down(attempt, OnReconnect::Ignore).await {
                Waited::Shutdown => break,
                // Not produced while connecting; connect again at once if it ever is.
                Waited::Reconnect => continue,
                Waited::Done(Ok(socket)) => socket,
                Waited::Done(Err(ConnectFailure::Refused(reason))) => {
                    self.auth_failed(reason).await;
                    wait = Some(self.config.auth_retry);
                    continue;
                }
                Waited::Done(Err(ConnectFailure::Failed(reason))) => {
                    self.down(reason).await;
                    wait = Some(self.backoff.next_delay(jitter_sample()));
                    continue;
                }
            };
            match self.session(socket).await {
                SessionEnd::Shutdown => break,
                // Asked for (`refresh`): not a fault, so no warning and no `Down` (whose
                // reason `bridge/info` and `health_check` keep as `last_error`); the link goes
                // straight to connecting, at once.
                SessionEnd::Reconnect => {
                    tracing::info!("reconnecting to the Anova cloud, as requested");
                }
                SessionEnd::Lost(loss) => wait = Some(self.after_loss(loss).await),
            }
        }
        self.finish();
    }

    /// Runs `work` (a backoff pause or a connection attempt) while the link is down: commands
    /// are refused at once, staleness keeps ticking, shutdown is honoured.
    async fn while_down<F: Future>(
        &mut self,
        work: F,
        on_reconnect: OnReconnect,
    ) -> Waited<F::Output> {
        tokio::pin!(work);
        let mut stale = Alarm::new();
        loop {
            stale.set(self.registry.next_stale_deadline());
            tokio::select! {
                biased;
                () = self.channels.shutdown.cancelled() => return Waited::Shutdown,
                output = &mut work => return Waited::Done(output),
                Some(request) = self.channels.requests.recv() => {
                    let _ = request.reply.send(Err(CloudError::NotConnected));
                }
                () = self.channels.reconnect.notified() => {
                    if on_reconnect == OnReconnect::CutShort {
                        return Waited::Reconnect;
                    }
                }
                () = stale.fired() => self.expire_stale().await,
            }
        }
    }

    /// One connection, from the upgrade until it ends.
    async fn session(&mut self, socket: Socket) -> SessionEnd {
        let (mut writer, mut reader) = socket.split();
        self.registry.begin_connection();
        self.warned_unreadable = false;
        // The link is up once the cloud has said anything; until then commands are refused.
        let mut up_since: Option<Instant> = None;
        let watchdog = tokio::time::sleep(self.config.watchdog);
        tokio::pin!(watchdog);
        let ping_every = self.config.ping_interval.max(Duration::from_millis(1));
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);

        let mut stale = Alarm::new();
        let mut command_expiry = Alarm::new();
        // Registered once, not once per frame.
        let shutdown = self.channels.shutdown.clone().cancelled_owned();
        tokio::pin!(shutdown);
        let end = loop {
            stale.set(self.registry.next_stale_deadline());
            command_expiry.set(self.pending.next_deadline());
            tokio::select! {
                biased;
                () = &mut shutdown => break SessionEnd::Shutdown,
                frame = reader.next() => {
                    watchdog.as_mut().reset(Instant::now() + self.config.watchdog);
                    match frame {
                        Some(Ok(Message::Close(close))) => {
                            break self.lost(describe_close(close.as_ref()), up_since, true);
                        }
                        Some(Ok(message)) => {
                            if up_since.is_none() {
                                up_since = Some(Instant::now());
                                self.link_up().await;
                            }
                            if let Message::Text(text) = message {
                                self.on_text(text.as_str()).await;
                            }
                        }
                        Some(Err(error)) => {
                            let reason = self.endpoint.scrub(&format!("connection error: {error}"));
                            break self.lost(reason, up_since, true);
                        }
                        None => {
                            let reason = "the cloud ended the connection".to_owned();
                            break self.lost(reason, up_since, true);
                        }
                    }
                }
                Some(request) = self.channels.requests.recv() => {
                    if up_since.is_none() {
                        let _ = request.reply.send(Err(CloudError::NotConnected));
                    } else if let Err(reason) = self.send_command(&mut writer, request).await {
                        break self.lost(reason, up_since, false);
                    }
                }
                _ = ping.tick() => {
                    // Only to provoke traffic; a missing pong is the watchdog's business.
                    let probe = Message::Ping(Default::default());
                    if let Err(reason) = self.write(&mut writer, probe).await {
                        break self.lost(reason, up_since, false);
                    }
                }
                () = &mut watchdog => {
                    let reason = format!(
                        "nothing received for {}; presuming the connection dead",
                        format_duration(self.config.watchdog)
                    );
                    break self.lost(reason, up_since, false);
                }
                () = stale.fired() => self.expire_stale().await,
                () = command_expiry.fired() => {
                    let expired = self.pending.expire(Instant::now());
                    tracing::debug!(expired, "commands timed out waiting for a RESPONSE");
                }
                () = self.channels.reconnect.notified() => break SessionEnd::Reconnect,
            }
        };

        let failure = match end {
            SessionEnd::Shutdown => CloudError::Shutdown,
            _ => CloudError::Disconnected,
        };
        self.pending.fail_all(&failure);
        // Say goodbye where we can; a dead socket gets dropped after a bounded try.
        let goodbye = async {
            match end {
                SessionEnd::Lost(_) => writer.close().await,
                _ => {
                    let close = CloseFrame {
                        code: CloseCode::Normal,
                        reason: "".into(),
                    };
                    writer.send(Message::Close(Some(close))).await
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, goodbye).await;
        end
    }

    /// Handles one text frame.
    async fn on_text(&mut self, text: &str) {
        if let Some(metrics) = &self.config.metrics {
            metrics.cloud_frame();
        }
        let event = match Event::parse(text) {
            Ok(event) => event,
            Err(error) => {
                if let Some(metrics) = &self.config.metrics {
                    metrics.dropped_frame();
                }
                if self.warned_unreadable {
                    tracing::debug!("ignoring a frame the client cannot read: {error}");
                } else {
                    self.warned_unreadable = true;
                    tracing::warn!("ignoring a frame the client cannot read: {error}");
                }
                return;
            }
        };
        tracing::trace!(command = event.command(), "frame from the cloud");
        let now = Instant::now();
        let events = match self.registry.apply(event, OffsetDateTime::now_utc(), now) {
            Ok(events) => events,
            Err(other) => match *other {
                Event::Response(response) => {
                    if self.pending.resolve(&response) == Resolution::Unmatched {
                        tracing::debug!(
                            request_id = %response.request_id,
                            "ignoring a RESPONSE no command waits for (unknown, late or duplicate)"
                        );
                    }
                    Vec::new()
                }
                other => {
                    tracing::trace!(
                        command = other.command(),
                        "ignoring an event the bridge does not use"
                    );
                    Vec::new()
                }
            },
        };
        for event in events {
            self.emit(event).await;
        }
    }

    /// Sends a command with a fresh `requestId` and records it as pending.
    async fn send_command(
        &mut self,
        writer: &mut Writer,
        request: CommandRequest,
    ) -> Result<(), String> {
        if request.reply.is_closed() {
            // The caller already gave up (timed out while the request was queued).
            return Ok(());
        }
        let request_id = Uuid::new_v4().to_string();
        let frame = request.command.to_frame(&request_id);
        tracing::debug!(
            %request_id,
            command = %request.command.name(),
            cloud_id = %request.command.device_id(),
            "sending a command"
        );
        let deadline = Instant::now() + self.config.command_timeout;
        self.pending.insert(request_id, request.reply, deadline);
        tracing::trace!(
            in_flight = self.pending.len(),
            "commands waiting for a RESPONSE"
        );
        self.write(writer, Message::text(frame)).await
    }

    /// Writes one frame; a write that cannot complete in time means the socket is dead.
    async fn write(&self, writer: &mut Writer, message: Message) -> Result<(), String> {
        match tokio::time::timeout(self.config.command_timeout, writer.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(self.endpoint.scrub(&format!("sending failed: {error}"))),
            Err(_) => Err("sending timed out; presuming the connection dead".to_owned()),
        }
    }

    fn lost(&self, reason: String, up_since: Option<Instant>, by_peer: bool) -> SessionEnd {
        SessionEnd::Lost(Loss {
            reason: self.endpoint.scrub(&reason),
            up_for: up_since.map(|since| since.elapsed()),
            by_peer,
        })
    }

    /// Decides what a lost connection means and how long to wait before the next attempt.
    async fn after_loss(&mut self, loss: Loss) -> Duration {
        match loss.up_for {
            // The link came up and the cloud talked: the drop is routine (the cloud drops
            // established links every so often), so the next attempt comes after the first,
            // short wait. Only attempts that fail to get that far grow the backoff.
            Some(_) => self.backoff.reset(),
            None if loss.by_peer => self.silent_closes = self.silent_closes.saturating_add(1),
            None => {}
        }
        let threshold = self.config.auth_close_attempts.max(1);
        if loss.up_for.is_none() && loss.by_peer && self.silent_closes >= threshold {
            // The upgrade-then-close failure mode of a refused token (`docs/anova-protocol.md`
            // §1.6).
            let reason = format!(
                "the cloud closed {} connections in a row before sending anything ({}); \
                 the token is probably refused",
                self.silent_closes, loss.reason
            );
            self.auth_failed(reason).await;
            self.config.auth_retry
        } else {
            self.down(loss.reason).await;
            self.backoff.next_delay(jitter_sample())
        }
    }

    async fn link_up(&mut self) {
        self.silent_closes = 0;
        tracing::info!("connected to the Anova cloud");
        self.set_link(LinkState::Up).await;
    }

    async fn down(&mut self, reason: String) {
        tracing::warn!("Anova cloud link down: {reason}");
        self.set_link(LinkState::Down { reason }).await;
    }

    async fn auth_failed(&mut self, reason: String) {
        tracing::error!(
            "Anova cloud authentication failed: {reason}; retrying in {}",
            format_duration(self.config.auth_retry)
        );
        self.set_link(LinkState::AuthFailed { reason }).await;
    }

    /// Publishes a new link state (to the watch and as an event) when it changed.
    async fn set_link(&mut self, state: LinkState) {
        let changed = self.channels.link.send_if_modified(|current| {
            if *current == state {
                false
            } else {
                *current = state.clone();
                true
            }
        });
        if changed {
            self.emit(CloudEvent::Link(state)).await;
        }
    }

    async fn expire_stale(&mut self) {
        for event in self.registry.expire_stale(Instant::now()) {
            if let CloudEvent::Stale { cloud_id } = &event {
                let silence = format_duration(self.config.stale_after);
                tracing::info!(%cloud_id, "no state push from the device for {silence}");
            }
            self.emit(event).await;
        }
    }

    /// Hands an event to the owner, waiting while the channel is full (but not past
    /// shutdown).
    async fn emit(&self, event: CloudEvent) {
        // Almost always there is room: then no shutdown waiter is registered and dropped for
        // each push.
        let event = match self.channels.events.try_send(event) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(event)) => event,
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::trace!("nobody listens to cloud events any more");
                return;
            }
        };
        tokio::select! {
            biased;
            () = self.channels.shutdown.cancelled() => {}
            sent = self.channels.events.send(event) => {
                if sent.is_err() {
                    tracing::trace!("nobody listens to cloud events any more");
                }
            }
        }
    }

    /// Fails everything still waiting and records the final link state.
    fn finish(mut self) {
        self.pending.fail_all(&CloudError::Shutdown);
        self.channels.requests.close();
        while let Ok(request) = self.channels.requests.try_recv() {
            let _ = request.reply.send(Err(CloudError::Shutdown));
        }
        let link = LinkState::Down {
            reason: "shut down".to_owned(),
        };
        self.channels.link.send_replace(link.clone());
        let _ = self.channels.events.try_send(CloudEvent::Link(link));
        tracing::info!("Anova cloud client stopped");
    }
}

/// Opens the WebSocket: DNS, TCP, TLS and upgrade, all within `timeout`.
async fn connect(
    endpoint: Endpoint,
    tls: TlsSetup,
    timeout: Duration,
) -> Result<Socket, ConnectFailure> {
    let connector = match (endpoint.is_tls(), tls) {
        (false, _) => Connector::Plain,
        (true, Ok(config)) => Connector::Rustls(config),
        (true, Err(error)) => {
            return Err(ConnectFailure::Failed(format!("TLS setup failed: {error}")))
        }
    };
    let limits = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_SIZE)
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE));
    let attempt = tokio_tungstenite::connect_async_tls_with_config(
        endpoint.url(),
        Some(limits),
        true,
        Some(connector),
    );
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok((socket, _response))) => Ok(socket),
        Ok(Err(tungstenite::Error::Http(response)))
            if matches!(response.status().as_u16(), 401 | 403) =>
        {
            Err(ConnectFailure::Refused(format!(
                "the cloud refused the token (HTTP {})",
                response.status()
            )))
        }
        Ok(Err(error)) => Err(ConnectFailure::Failed(
            endpoint.scrub(&format!("connecting failed: {error}")),
        )),
        Err(_) => Err(ConnectFailure::Failed(format!(
            "no connection within {}",
            format_duration(timeout)
        ))),
    }
}

/// Describes a close frame the cloud sent (none at all is status 1005).
fn describe_close(close: Option<&CloseFrame>) -> String {
    match close {
        None => "the cloud closed the connection (code 1005, no status)".to_owned(),
        Some(frame) if frame.reason.is_empty() => format!(
            "the cloud closed the connection (code {})",
            u16::from(frame.code)
        ),
        Some(frame) => format!(
            "the cloud closed the connection (code {}: {})",
            u16::from(frame.code),
            frame.reason.as_str()
        ),
    }
}

/// Sleeps until `deadline`, or forever when there is none.
/// A duration for logs, to the millisecond (a jittered wait has nanoseconds nobody needs).
fn format_duration(duration: Duration) -> humantime::FormattedDuration {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    humantime::format_duration(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_descriptions() {
        assert_eq!(
            describe_close(None),
            "the cloud closed the connection (code 1005, no status)"
        );
        let frame = CloseFrame {
            code: CloseCode::Policy,
            reason: "rate limited".into(),
        };
        assert_eq!(
            describe_close(Some(&frame)),
            "the cloud closed the connection (code 1008: rate limited)"
        );
    }
}
