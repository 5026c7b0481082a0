//! One upgraded, authenticated connection: frames out (batched, bounded, with back-pressure
//! from the socket), commands in (answered after the response delay), pings, and the faults
//! that act on a socket (reset, half-open, close after a response).

use super::config::SimulatorConfig;
use super::control::Shared;
use super::record::{PushRecord, PushTag, ReceivedCommand};
use super::request_line::PrefixedStream;
use super::routing::parse_command;
use super::wire::client::ClientFrame;
use super::world::{Outbound, Outcome};
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

/// How long one batch of frames may take to write before the client counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How long we wait for the client's answer to our close frame before dropping the socket
/// (a client that is not reading would otherwise hold up shutdown).
const CLOSE_TIMEOUT: Duration = Duration::from_millis(250);

/// At most this many queued frames go out with one flush (one write system call).
const MAX_BATCH: usize = 64;

pub(crate) type Socket = WebSocketStream<PrefixedStream>;

/// One upgraded, authenticated connection.
pub(crate) struct Connection {
    pub(crate) id: u64,
    pub(crate) peer: SocketAddr,
    pub(crate) socket: Socket,
    pub(crate) outbox: mpsc::Receiver<Outbound>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: Arc<SimulatorConfig>,
    /// Commands waiting for their response delay, in arrival order.
    pending: VecDeque<(Instant, ClientFrame)>,
    /// The pushes of the batch being written, for the latency hook.
    written: Vec<PushTag>,
}

/// Why writing stopped.
type End = &'static str;

impl Connection {
    pub(crate) fn new(
        id: u64,
        peer: SocketAddr,
        socket: Socket,
        outbox: mpsc::Receiver<Outbound>,
        shared: Arc<Shared>,
        config: Arc<SimulatorConfig>,
    ) -> Self {
        Self {
            id,
            peer,
            socket,
            outbox,
            shared,
            config,
            pending: VecDeque::new(),
            written: Vec::new(),
        }
    }

    /// Serves until the connection ends; returns why, for the log.
    pub(crate) async fn run(
        mut self,
        cancel: CancellationToken,
        mut drops: watch::Receiver<u64>,
        mut half_open: watch::Receiver<bool>,
        mut closes: watch::Receiver<(u64, Option<u16>)>,
    ) -> End {
        let ping_every = self.config.ping_interval;
        let period = ping_every.max(Duration::from_millis(1));
        let mut ping = tokio::time::interval_at(Instant::now() + period, period);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            if *half_open.borrow_and_update() {
                // Half-open: hold the socket, poll nothing (so pings go unanswered too).
                self.shared.update(|w| w.freeze(self.id));
                tokio::select! {
                    () = cancel.cancelled() => return "shutdown (half-open)",
                    _ = drops.changed() => {
                        reset(self.socket);
                        return "reset (half-open)";
                    }
                }
            }
            let next_due = self.pending.front().map(|(due, _)| *due);
            tokio::select! {
                () = cancel.cancelled() => {
                    let away = CloseFrame { code: CloseCode::Away, reason: "".into() };
                    close_gracefully(&mut self.socket, Some(away)).await;
                    return "shutdown";
                }
                _ = drops.changed() => {
                    reset(self.socket);
                    return "reset (fault injected)";
                }
                _ = closes.changed() => {
                    let code = closes.borrow().1;
                    let frame = code.map(|code| CloseFrame { code: code.into(), reason: "".into() });
                    close_gracefully(&mut self.socket, frame).await;
                    return "closed by the server (fault injected)";
                }
                _ = half_open.changed() => {}
                item = self.outbox.recv() => {
                    // The world never drops a registered outbox; end quietly anyway.
                    let Some(first) = item else { return "outbox closed" };
                    if let Err(end) = self.write_batch(first, &cancel).await {
                        return end;
                    }
                }
                incoming = self.socket.next() => match incoming {
                    Some(Ok(Message::Text(text))) => self.receive(text.as_str()),
                    // Pongs are queued by tungstenite itself; binary frames are ignored, as
                    // the apps ignore them.
                    Some(Ok(_)) => {}
                    Some(Err(_)) => return "read failed",
                    None => return "closed by the client",
                },
                () = sleep_until_due(next_due) => self.answer_next(),
                _ = ping.tick(), if !ping_every.is_zero() => {
                    let ping = self.socket.send(Message::Ping(Default::default()));
                    if let Err(end) = guarded(ping, &cancel).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Writes `first` and whatever else is queued (up to [`MAX_BATCH`]) with one flush. A
    /// response that must close the socket ends the batch and the connection.
    async fn write_batch(
        &mut self,
        first: Outbound,
        cancel: &CancellationToken,
    ) -> Result<(), End> {
        self.written.clear();
        let mut next = Some(first);
        let mut count = 0;
        let mut close_after = false;
        while let Some(item) = next.take() {
            let message = match item {
                Outbound::Frame { text, push } => {
                    self.written.extend(push);
                    Message::Text(text)
                }
                Outbound::Response {
                    text,
                    close_after: close,
                } => {
                    close_after = close;
                    Message::text(text)
                }
                Outbound::Binary(bytes) => Message::Binary(bytes),
            };
            guarded(self.socket.feed(message), cancel).await?;
            count += 1;
            if close_after || count >= MAX_BATCH {
                break;
            }
            next = self.outbox.try_recv().ok();
        }
        guarded(self.socket.flush(), cancel).await?;
        if !self.written.is_empty() {
            let written_at = std::time::Instant::now();
            for push in self.written.drain(..) {
                self.shared.record_push(PushRecord {
                    connection: self.id,
                    cooker_id: push.cooker_id,
                    water_temperature_c: push.water_temperature_c,
                    written_at,
                });
            }
        }
        if close_after {
            // No status code in the close frame: the client reads 1005.
            close_gracefully(&mut self.socket, None).await;
            return Err("closed after a response (fault injected)");
        }
        Ok(())
    }

    /// Records a command and schedules its answer (unless responses are withheld).
    fn receive(&mut self, text: &str) {
        let Some(frame) = parse_command(text) else {
            debug!(
                connection = self.id,
                "simulator: ignoring a frame that is not a command"
            );
            return;
        };
        let received_at = Instant::now();
        let (withheld, delay) = self.shared.update(|w| {
            w.commands.push(ReceivedCommand {
                connection: self.id,
                received_at,
                frame: frame.clone(),
            });
            (
                w.faults.withhold_responses,
                w.response_delay(self.config.response_delay),
            )
        });
        if withheld {
            self.log_command(&frame, "withheld (fault injected)");
            return;
        }
        self.pending.push_back((received_at + delay, frame));
    }

    /// Answers the oldest pending command; its frames land in our outbox.
    fn answer_next(&mut self) {
        let Some((_, frame)) = self.pending.pop_front() else {
            return;
        };
        let outcome = self
            .shared
            .update(|w| w.execute(self.id, &frame, OffsetDateTime::now_utc(), Instant::now()));
        let summary = match outcome {
            Outcome::Applied => "ok, applied".to_owned(),
            Outcome::Ignored(why) => format!("ok, ignored: {why}"),
            Outcome::Refused(error) => format!("error: {error}"),
        };
        self.log_command(&frame, &summary);
    }

    fn log_command(&self, frame: &ClientFrame, outcome: &str) {
        let (connection, peer) = (self.id, self.peer);
        let (command, request_id) = (frame.command.as_str(), frame.request_id.as_str());
        if self.config.log_commands {
            info!(connection, %peer, command, request_id, outcome, "simulator: command");
        } else {
            debug!(connection, %peer, command, request_id, outcome, "simulator: command");
        }
    }
}

/// Runs one write, giving up on shutdown, or when the client has stopped reading long enough
/// for the socket buffers to stay full.
async fn guarded<E>(
    write: impl std::future::Future<Output = Result<(), E>>,
    cancel: &CancellationToken,
) -> Result<(), End> {
    tokio::select! {
        () = cancel.cancelled() => Err("shutdown"),
        sent = tokio::time::timeout(SEND_TIMEOUT, write) => match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err("write failed"),
            Err(_) => Err("write timed out: the client is not reading"),
        },
    }
}

/// Sleeps until `due`, or forever when nothing is due.
async fn sleep_until_due(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Drops the connection with a TCP reset: no close frame, no FIN.
pub(crate) fn reset(socket: Socket) {
    // SO_LINGER 0 makes the close send RST; if it cannot be set, a plain close still ends it.
    let _ = socket.get_ref().tcp().set_zero_linger();
    drop(socket);
}

/// Sends a close frame and waits briefly for the client's answer.
pub(crate) async fn close_gracefully(socket: &mut Socket, frame: Option<CloseFrame>) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        if socket.send(Message::Close(frame)).await.is_err() {
            return;
        }
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}
