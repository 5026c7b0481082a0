//! The broker connection (rumqttc), shaped around its pitfalls (rumqttc 0.25's own
//! `eventloop.rs`, and its issues #250, #703 and #918):
//! - rumqttc only makes progress while `EventLoop::poll` is awaited, and its client calls wait
//!   on a bounded channel that only the polling task drains. So one task only polls and
//!   forwards, and a separate publisher task owns every client call; the poll task never
//!   awaits the client, and nobody awaits the poll task's consumer while holding the client.
//! - rumqttc reconnects on the next `poll` with no delay at all: we sleep with a growing
//!   delay between failed connects.
//! - Subscriptions vanish with a clean session: the bridge subscribes again after every
//!   `Connected` (it receives [`MqttEvent::Connected`] and answers with a subscribe).
//! - A clean DISCONNECT suppresses the last will, so a graceful stop publishes `offline`
//!   itself before disconnecting.
//! - The default 10 KiB incoming packet limit is far too small for commands and retained
//!   discovery; we raise it to [`MAX_INCOMING_PACKET_SIZE`].
//!
//! We speak MQTT 5 for one reason: command topics are subscribed with *Retain As Published*,
//! so the broker tells us whether a live command was published retained. MQTT 3.1.1 clears the
//! flag on live delivery, so a retained command would run once and be caught only when it
//! replays after a reconnect; the contract is that it never runs.

use crate::backoff::{jitter_sample, Backoff, BackoffPolicy};
use crate::bridge::{Publish, Qos};
use crate::secret::Secret;
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Filter, LastWill, Packet};
use rumqttc::v5::mqttbytes::{Error as MqttBytesError, QoS};
use rumqttc::v5::{
    AsyncClient, ClientError, ConnectionError, Event, EventLoop, MqttOptions, StateError,
};
use rumqttc::{Outgoing, TlsConfiguration, Transport};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The largest packet we accept. The MQTT 5 CONNECT tells the broker, and the broker then
/// drops anything larger for us without telling anyone, so this is set well above any command
/// (the bridge answers a command above its own, much smaller limit with an error) while one
/// packet still costs bounded memory. What arrives larger anyway (a broker that ignores the
/// limit) ends the connection with a warning naming the sizes, and we reconnect.
pub const MAX_INCOMING_PACKET_SIZE: usize = 4 * 1024 * 1024;

/// Waits between connect attempts: about 1 s doubling to 30 s, reset once connected. A local
/// broker restarts in seconds; there is no reason to wait minutes.
const RECONNECT: BackoffPolicy = BackoffPolicy {
    initial: Duration::from_secs(1),
    max: Duration::from_secs(30),
    factor: 2,
    jitter: 0.2,
};

/// Publishes and subscriptions waiting for the publisher task. A connect republishes
/// everything (a few dozen messages per device), so this is roomy; it only fills when the
/// broker stops reading and the connection has not noticed yet.
const REQUEST_QUEUE: usize = 1024;

/// Bulk publishes (discovery, a republish) are built only while this much of the queue is
/// free, so the messages of single pushes and command responses always find room.
const BULK_HEADROOM: usize = 256;

/// The most QoS 1 publishes awaiting the broker's acknowledgement.
const MAX_INFLIGHT: u16 = 64;

/// How long a graceful close may take before the connection is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long to wait for the broker to close the connection after our DISCONNECT.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// How long to wait for the close once the broker has acknowledged every publish (so it has our
/// `offline`): it reads our DISCONNECT right behind them, and brokers close at once.
const ACKED_GRACE: Duration = Duration::from_millis(100);

/// TLS material for `mqtts://`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TlsFiles {
    /// A PEM file of CA certificates to trust instead of the public web roots.
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate (chain).
    pub client_cert_file: Option<PathBuf>,
    /// The PEM private key of the client certificate.
    pub client_key_file: Option<PathBuf>,
}

/// Everything needed to reach the broker.
#[derive(Debug, Clone, PartialEq)]
pub struct MqttSettings {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// TLS, for `mqtts://`.
    pub tls: Option<TlsFiles>,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// Stable client id.
    pub client_id: String,
    /// Keep-alive interval.
    pub keepalive: Duration,
    /// Where the last will `offline` goes (`<base>/bridge/state`).
    pub will_topic: String,
}

/// Something that happened on the broker connection.
#[derive(Debug, Clone, PartialEq)]
pub enum MqttEvent {
    /// The broker accepted the connection (again).
    Connected,
    /// The connection failed or dropped; we will retry.
    Disconnected {
        /// Why, for the logs.
        reason: String,
    },
    /// A message on a subscribed topic.
    Message {
        /// Topic.
        topic: String,
        /// Payload.
        payload: Vec<u8>,
        /// Retain flag.
        retained: bool,
    },
}

/// Why the connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// A TLS file could not be read or used.
    #[error("{what} {path}: {reason}")]
    TlsFile {
        /// Which file.
        what: &'static str,
        /// Its path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The TLS configuration was refused.
    #[error("TLS configuration: {0}")]
    Tls(String),
}

enum Request {
    Publish(Publish),
    Subscribe(Vec<String>),
    Close(Publish),
}

/// The handle the daemon publishes through. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MqttHandle {
    requests: mpsc::Sender<Request>,
    connected: Arc<AtomicBool>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Publish(p) => write!(f, "Publish({})", p.topic),
            Request::Subscribe(t) => write!(f, "Subscribe({t:?})"),
            Request::Close(p) => write!(f, "Close({})", p.topic),
        }
    }
}

/// The running connection.
#[derive(Debug)]
pub struct MqttConnection {
    /// Publish and subscribe through this.
    pub handle: MqttHandle,
    /// Connection events and messages, in order.
    pub events: mpsc::Receiver<MqttEvent>,
    poll_task: JoinHandle<()>,
    publisher_task: JoinHandle<()>,
    stop: CancellationToken,
}

impl MqttHandle {
    /// Queues a publish. Never blocks: the bridge produces little, and blocking here could
    /// deadlock against the poll task that feeds the bridge. A full queue (the broker has
    /// stopped reading and the connection has not noticed yet) drops the message with a
    /// warning; every retained topic is published again on the next connect.
    pub fn publish(&self, publish: Publish) {
        self.queue(Request::Publish(publish));
    }

    /// Queues a subscription to these filters (QoS 1).
    pub fn subscribe(&self, filters: Vec<String>) {
        self.queue(Request::Subscribe(filters));
    }

    /// True while the queue to the broker has room for a device's bulk publishes.
    pub fn has_room(&self) -> bool {
        self.requests.capacity() >= BULK_HEADROOM
    }

    /// Completes once [`MqttHandle::has_room`] (or the connection stopped).
    pub async fn room(&self) {
        // The permits go back at once: this only waits for the publisher task to catch up.
        let _ = self.requests.reserve_many(BULK_HEADROOM).await;
    }

    /// Queues a publish, waiting for room (the bounded last words at shutdown).
    pub async fn publish_waiting(&self, publish: Publish) {
        if self.requests.send(Request::Publish(publish)).await.is_err() {
            tracing::debug!("MQTT publish dropped: the broker connection has stopped");
        }
    }

    fn queue(&self, request: Request) {
        if let Err(e) = self.requests.try_send(request) {
            let (why, request) = match e {
                mpsc::error::TrySendError::Full(r) => ("the queue to the broker is full", r),
                mpsc::error::TrySendError::Closed(r) => ("the broker connection has stopped", r),
            };
            tracing::warn!("MQTT {request:?} dropped: {why}");
        }
    }

    /// True while the broker connection is up.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

fn qos(q: Qos) -> QoS {
    match q {
        Qos::AtLeastOnce => QoS::AtLeastOnce,
    }
}

fn read_file(what: &'static str, path: &PathBuf) -> Result<Vec<u8>, MqttError> {
    std::fs::read(path).map_err(|e| MqttError::TlsFile {
        what,
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The rustls configuration for `mqtts://`: the given CA file instead of the public roots,
/// and a client certificate when configured.
fn tls_config(files: &TlsFiles) -> Result<rustls::ClientConfig, MqttError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let file_error = |what: &'static str, path: &PathBuf, reason: String| MqttError::TlsFile {
        what,
        path: path.display().to_string(),
        reason,
    };
    let roots = match &files.ca_file {
        Some(path) => {
            let pem = read_file("mqtt.ca_file", path)?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| file_error("mqtt.ca_file", path, e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| file_error("mqtt.ca_file", path, e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(file_error(
                    "mqtt.ca_file",
                    path,
                    "no PEM certificate found".into(),
                ));
            }
            roots
        }
        None => crate::tls::public_roots(),
    };
    let client_auth = match (&files.client_cert_file, &files.client_key_file) {
        (Some(cert_path), Some(key_path)) => {
            let cert_pem = read_file("mqtt.client_cert_file", cert_path)?;
            let chain = CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| file_error("mqtt.client_cert_file", cert_path, e.to_string()))?;
            let key_pem = read_file("mqtt.client_key_file", key_path)?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|e| file_error("mqtt.client_key_file", key_path, e.to_string()))?;
            Some((chain, key))
        }
        (None, None) => None,
        _ => {
            return Err(MqttError::Tls(
                "mqtt.client_cert_file and mqtt.client_key_file go together".into(),
            ))
        }
    };
    crate::tls::client_config(roots, client_auth).map_err(|e| MqttError::Tls(e.to_string()))
}

fn options(settings: &MqttSettings) -> Result<MqttOptions, MqttError> {
    let mut options = MqttOptions::new(
        settings.client_id.clone(),
        settings.host.clone(),
        settings.port,
    );
    // rumqttc panics on keep-alives under a second; the config never allows that, but a
    // panic is not an error message.
    options.set_keep_alive(settings.keepalive.max(Duration::from_secs(1)));
    // A clean session: the broker must not queue commands for us while we are away, or a
    // start would replay an hour later.
    options.set_clean_start(true);
    options.set_max_packet_size(u32::try_from(MAX_INCOMING_PACKET_SIZE).ok());
    options.set_request_channel_capacity(256);
    // rumqttc allocates one slot per possible in-flight QoS 1 publish up front, and without an
    // upper limit that is 65,536 slots: 14 MB, most of the daemon's memory at idle. Brokers
    // grant far fewer (mosquitto: 20), and the smaller of the two is used anyway.
    options.set_outgoing_inflight_upper_limit(MAX_INFLIGHT);
    // Each publish is written as soon as it is ready; Nagle's algorithm would hold a state
    // behind the acknowledgement of the one before it.
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    options.set_network_options(network);
    options.set_last_will(LastWill::new(
        settings.will_topic.clone(),
        "offline",
        QoS::AtLeastOnce,
        true,
        None,
    ));
    if let Some(user) = &settings.username {
        let password = settings
            .password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        options.set_credentials(user.clone(), password);
    }
    if let Some(files) = &settings.tls {
        let config = tls_config(files)?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(config),
        )));
    }
    Ok(options)
}

impl MqttConnection {
    /// Starts connecting; events arrive on `events`. Stops when `shutdown` is cancelled or on
    /// [`MqttConnection::close`].
    pub fn start(settings: &MqttSettings, shutdown: &CancellationToken) -> Result<Self, MqttError> {
        let options = options(settings)?;
        let (client, eventloop) = AsyncClient::new(options, 256);
        let (event_tx, events) = mpsc::channel(1024);
        let (requests, request_rx) = mpsc::channel(REQUEST_QUEUE);
        let connected = Arc::new(AtomicBool::new(false));
        let stop = shutdown.child_token();
        let endpoint = format!("{}:{}", settings.host, settings.port);
        let login = Login {
            username: settings.username.is_some(),
            password: settings.password.is_some(),
        };
        let poll_task = tokio::spawn(poll_loop(
            eventloop,
            event_tx,
            connected.clone(),
            stop.clone(),
            endpoint,
            login,
        ));
        let publisher_task = tokio::spawn(publisher(client, request_rx, stop.clone()));
        Ok(Self {
            handle: MqttHandle {
                requests,
                connected,
            },
            events,
            poll_task,
            publisher_task,
            stop,
        })
    }

    /// Publishes `offline` (the last will does not fire on a clean disconnect), disconnects
    /// cleanly, and ends both tasks; drops the connection if that takes too long.
    pub async fn close(self, offline: Publish) {
        if self.handle.is_connected() {
            // Behind the last words already queued (every device `offline`).
            let queued = self.handle.requests.send(Request::Close(offline));
            if !matches!(
                tokio::time::timeout(CLOSE_TIMEOUT, queued).await,
                Ok(Ok(()))
            ) {
                // The broker stopped reading: the last will says `offline` for us.
                self.stop.cancel();
            }
        } else {
            self.stop.cancel();
        }
        let mut poll_task = self.poll_task;
        if tokio::time::timeout(CLOSE_TIMEOUT, &mut poll_task)
            .await
            .is_err()
        {
            tracing::warn!(
                "the broker did not take our disconnect in time; dropping the connection"
            );
            self.stop.cancel();
            poll_task.abort();
        }
        self.stop.cancel();
        let _ = self.publisher_task.await;
    }
}

/// Owns every client call, so the poll task never waits on rumqttc's request channel.
async fn publisher(
    client: AsyncClient,
    mut requests: mpsc::Receiver<Request>,
    stop: CancellationToken,
) {
    // Registered once, not once per message.
    let stopped = stop.cancelled_owned();
    tokio::pin!(stopped);
    loop {
        let request = tokio::select! {
            () = &mut stopped => return,
            request = requests.recv() => match request {
                Some(r) => r,
                None => return,
            },
        };
        let result = match request {
            Request::Publish(p) => {
                client
                    .publish(p.topic, qos(p.qos), p.retain, p.payload)
                    .await
            }
            Request::Subscribe(filters) => {
                let filters = filters.into_iter().map(|path| Filter {
                    // Keep the retain flag on live delivery: a retained command is refused.
                    preserve_retain: true,
                    ..Filter::new(path, QoS::AtLeastOnce)
                });
                client.subscribe_many(filters).await
            }
            Request::Close(offline) => {
                let _ = client
                    .publish(
                        offline.topic,
                        qos(offline.qos),
                        offline.retain,
                        offline.payload,
                    )
                    .await;
                let _ = client.disconnect().await;
                return;
            }
        };
        if let Err(e) = result {
            // An invalid topic, or the event loop is gone (the poll task says why).
            tracing::warn!("MQTT {} dropped: {e}", describe_request(&e));
        }
    }
}

/// Which credentials the configuration gives (never their values), for the message when the
/// broker refuses the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Login {
    username: bool,
    password: bool,
}

impl Login {
    /// What to check when the broker refuses the login, naming what is set.
    fn hint(self) -> &'static str {
        match (self.username, self.password) {
            (true, true) => {
                "check mqtt.username and mqtt.password (or mqtt.password_file, or the \
                 user:password in the broker URL): both are set, and the broker does not \
                 accept them"
            }
            (true, false) => {
                "mqtt.username is set but no password: set mqtt.password or \
                 mqtt.password_file (or user:password in the broker URL)"
            }
            (false, true) => {
                "a password is set but no mqtt.username, so no login is sent: set \
                 mqtt.username (or user:password in the broker URL)"
            }
            (false, false) => {
                "neither mqtt.username nor mqtt.password is set, and this broker wants a \
                 login: set both (or mqtt.password_file, or user:password in the broker URL)"
            }
        }
    }
}

/// True when the broker refused who we are: retrying cannot help until the user changes the
/// settings, so every retry stays a warning.
fn refuses_login(error: &ConnectionError) -> bool {
    matches!(
        error,
        ConnectionError::ConnectionRefused(
            ConnectReturnCode::BadUserNamePassword
                | ConnectReturnCode::NotAuthorized
                | ConnectReturnCode::BadAuthenticationMethod
                | ConnectReturnCode::Banned
        )
    )
}

/// Polls the event loop, forwards what happened, and spaces out reconnects.
async fn poll_loop(
    mut eventloop: EventLoop,
    events: mpsc::Sender<MqttEvent>,
    connected: Arc<AtomicBool>,
    stop: CancellationToken,
    endpoint: String,
    login: Login,
) {
    let mut backoff = Backoff::new(RECONNECT);
    let mut reported_down = false;
    // Registered once, not once per packet.
    let stopped = stop.clone().cancelled_owned();
    tokio::pin!(stopped);
    loop {
        let polled = tokio::select! {
            () = &mut stopped => return,
            polled = eventloop.poll() => polled,
        };
        match polled {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!(broker = %endpoint, "connected to the MQTT broker");
                connected.store(true, Ordering::Relaxed);
                backoff.reset();
                reported_down = false;
                if events.send(MqttEvent::Connected).await.is_err() {
                    return;
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let message = MqttEvent::Message {
                    topic: String::from_utf8_lossy(&p.topic).into_owned(),
                    payload: p.payload.to_vec(),
                    retained: p.retain,
                };
                if events.send(message).await.is_err() {
                    return;
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                connected.store(false, Ordering::Relaxed);
                drain_until_closed(&mut eventloop).await;
                tracing::info!("disconnected from the MQTT broker");
                return;
            }
            Ok(_) => {}
            Err(error) => {
                let was_connected = connected.swap(false, Ordering::Relaxed);
                let reason = describe(&error, login);
                let delay = backoff.next_delay(jitter_sample());
                let retry = humantime::format_duration(Duration::from_millis(
                    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                ));
                let attempt = backoff.failures();
                // Every failed attempt is worth a line: a user starting the bridge before the
                // broker sees it keep trying, and when; the wait grows, so the lines thin out.
                if was_connected {
                    tracing::warn!(broker = %endpoint, "MQTT connection lost: {reason}; reconnecting in {retry}");
                } else if !reported_down || refuses_login(&error) {
                    tracing::warn!(broker = %endpoint, attempt, "cannot connect to the MQTT broker: {reason}; retrying in {retry}");
                } else {
                    tracing::info!(broker = %endpoint, attempt, "still cannot connect to the MQTT broker: {reason}; retrying in {retry}");
                }
                if was_connected || !reported_down {
                    reported_down = true;
                    if events
                        .send(MqttEvent::Disconnected { reason })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                tokio::select! {
                    () = &mut stopped => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// After our DISCONNECT: keep reading until the broker closes the connection, then stop (the
/// next poll would reconnect). Dropping the socket at once, with the broker's acknowledgements
/// still unread, makes the kernel reset the connection, and a reset can make the broker discard
/// our last messages (the `offline`) before it has read them.
///
/// A broker that does not close (rumqttd may keep the socket open a while) would hold up every
/// shutdown for the whole [`DRAIN_TIMEOUT`]; once every QoS 1 publish is acknowledged the
/// broker has what matters, so from then on only [`ACKED_GRACE`] is left.
async fn drain_until_closed(eventloop: &mut EventLoop) {
    let mut deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    let mut acked = false;
    loop {
        if !acked && eventloop.state.inflight() == 0 {
            acked = true;
            deadline = deadline.min(tokio::time::Instant::now() + ACKED_GRACE);
        }
        match tokio::time::timeout_at(deadline, eventloop.poll()).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                tracing::debug!(
                    acked,
                    "the broker did not close the connection after our disconnect"
                );
                return;
            }
        }
    }
}

/// "publish to a/b" for a request rumqttc refused; its own text never names the topic.
fn describe_request(error: &ClientError) -> String {
    match error {
        ClientError::Request(rumqttc::v5::Request::Publish(p))
        | ClientError::TryRequest(rumqttc::v5::Request::Publish(p)) => {
            format!("publish to {}", String::from_utf8_lossy(&p.topic))
        }
        _ => "request".to_owned(),
    }
}

fn describe(error: &ConnectionError, login: Login) -> String {
    match error {
        ConnectionError::ConnectionRefused(code) if refuses_login(error) => {
            format!("the broker refused the login ({code:?}); {}", login.hint())
        }
        ConnectionError::ConnectionRefused(ConnectReturnCode::UnsupportedProtocolVersion) => {
            "the broker does not speak MQTT 5 (mosquitto 1.6 or later, EMQX, HiveMQ and Home Assistant's Mosquitto add-on do)".to_owned()
        }
        ConnectionError::ConnectionRefused(code) => {
            format!("the broker refused the connection ({code:?})")
        }
        ConnectionError::MqttState(StateError::Deserialization(
            MqttBytesError::PayloadSizeLimitExceeded { pkt_size, max },
        )) => format!(
            "the broker sent a message of {pkt_size} bytes although we accept at most {max} \
             (it ignored the maximum packet size we announced); that message is lost"
        ),
        ConnectionError::MqttState(StateError::OutgoingPacketTooLarge { pkt_size, max }) => {
            format!(
                "a message of {pkt_size} bytes is larger than the broker accepts ({max} bytes) \
                 and was not sent"
            )
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(topic: &str) -> Publish {
        Publish {
            topic: topic.into(),
            payload: "x".into(),
            retain: false,
            qos: Qos::AtLeastOnce,
        }
    }

    #[test]
    fn a_full_queue_drops_instead_of_growing() {
        let (requests, mut rx) = mpsc::channel(2);
        let handle = MqttHandle {
            requests,
            connected: Arc::new(AtomicBool::new(true)),
        };
        for topic in ["a", "b", "c"] {
            handle.publish(publish(topic));
        }
        let queued: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|r| format!("{r:?}"))
            .collect();
        assert_eq!(queued, ["Publish(a)", "Publish(b)"]);
        drop(rx);
        handle.publish(publish("d")); // closed: dropped with a warning, no panic
    }

    const LOGIN: Login = Login {
        username: true,
        password: true,
    };

    #[test]
    fn a_refused_login_names_the_settings_and_which_are_set() {
        let refused = ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized);
        let both = describe(&refused, LOGIN);
        assert!(both.contains("NotAuthorized") && both.contains("mqtt.username and mqtt.password"));
        assert!(both.contains("both are set"), "{both}");
        let none = describe(
            &refused,
            Login {
                username: false,
                password: false,
            },
        );
        assert!(
            none.contains("neither mqtt.username nor mqtt.password is set"),
            "{none}"
        );
        let user_only = describe(
            &ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword),
            Login {
                username: true,
                password: false,
            },
        );
        assert!(
            user_only.contains("mqtt.username is set but no password"),
            "{user_only}"
        );
        assert!(!refuses_login(&ConnectionError::ConnectionRefused(
            ConnectReturnCode::ServerBusy
        )));
    }

    #[test]
    fn oversized_messages_are_described_with_their_sizes() {
        let incoming = ConnectionError::MqttState(StateError::Deserialization(
            MqttBytesError::PayloadSizeLimitExceeded {
                pkt_size: 5_000_000,
                max: 4_194_304,
            },
        ));
        let text = describe(&incoming, LOGIN);
        assert!(
            text.contains("5000000 bytes") && text.contains("4194304"),
            "{text}"
        );
        let outgoing = ConnectionError::MqttState(StateError::OutgoingPacketTooLarge {
            pkt_size: 300,
            max: 256,
        });
        assert!(describe(&outgoing, LOGIN).contains("larger than the broker accepts (256 bytes)"));
    }
}
