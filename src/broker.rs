//! The embedded MQTT broker of `anova2mqtt demo` (and the tests' fallback when mosquitto is
//! missing): rumqttd, without TLS or WebSocket listeners.
//!
//! rumqttd's `Broker::start` blocks and has no stop, so it runs on its own thread until the
//! process exits; that is what a demo needs. Deployments use a real broker (mosquitto).
//!
//! rumqttd serves MQTT 3.1.1 and 5 on separate listeners of one broker: 3.1.1 on the port the
//! user asked for (what `mosquitto_sub` and most tools speak by default), and MQTT 5 on a second
//! port on the same address for the bridge itself (it needs *Retain As Published*).

#[cfg(feature = "embedded-broker")]
use std::net::TcpListener;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Why the embedded broker did not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The port is taken (another broker is probably running).
    #[error("cannot listen on {addr}: {source} (is another MQTT broker running? choose another port with --mqtt-port, or use it with --mqtt mqtt://{addr})")]
    PortInUse {
        /// The address.
        addr: SocketAddr,
        /// The bind error.
        source: std::io::Error,
    },
    /// It did not accept connections in time.
    #[error("the embedded MQTT broker did not start listening on {0}")]
    NotListening(SocketAddr),
    /// This build was made without the `embedded-broker` cargo feature.
    #[error("this build of anova2mqtt has no embedded MQTT broker (cargo feature \"embedded-broker\"); give an existing broker with --mqtt URL")]
    NotBuiltIn,
}

/// How long to wait for the broker thread to accept connections.
#[cfg(feature = "embedded-broker")]
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the embedded broker listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedBroker {
    /// MQTT 3.1.1, for people and their tools.
    pub v4: SocketAddr,
    /// MQTT 5, for the bridge.
    pub v5: SocketAddr,
}

#[cfg(feature = "embedded-broker")]
fn config(v4: SocketAddr, v5: SocketAddr) -> rumqttd::Config {
    use rumqttd::{Config, ConnectionSettings, RouterConfig, ServerSettings};
    use std::collections::HashMap;
    let connections = ConnectionSettings {
        connection_timeout_ms: 5000,
        max_payload_size: crate::mqtt::connection::MAX_PACKET_SIZE,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = |name: &str, listen| ServerSettings {
        name: name.to_owned(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: connections.clone(),
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1000,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 10,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("v4".to_owned(), server("v4", v4))])),
        v5: Some(HashMap::from([("v5".to_owned(), server("v5", v5))])),
        ws: None,
        cluster: None,
        console: None,
        bridge: None,
        prometheus: None,
        metrics: None,
    }
}

/// Starts the embedded broker: MQTT 3.1.1 on `listen`, MQTT 5 on a free port of the same
/// address; returns once both accept connections.
#[cfg(feature = "embedded-broker")]
pub fn start_embedded(listen: SocketAddr) -> Result<EmbeddedBroker, BrokerError> {
    // rumqttd only logs a bind failure from its own thread; check first for a clear error.
    drop(
        TcpListener::bind(listen).map_err(|source| BrokerError::PortInUse {
            addr: listen,
            source,
        })?,
    );
    let v5 = TcpListener::bind(SocketAddr::new(listen.ip(), 0))
        .and_then(|l| l.local_addr())
        .map_err(|source| BrokerError::PortInUse {
            addr: listen,
            source,
        })?;
    let config = config(listen, v5);
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!("the embedded MQTT broker stopped: {e}");
            }
        })
        .map_err(|_| BrokerError::NotListening(listen))?;
    wait_listening(listen, START_TIMEOUT)?;
    wait_listening(v5, START_TIMEOUT)?;
    Ok(EmbeddedBroker { v4: listen, v5 })
}

/// Without the `embedded-broker` feature there is nothing to start.
#[cfg(not(feature = "embedded-broker"))]
pub fn start_embedded(_listen: SocketAddr) -> Result<EmbeddedBroker, BrokerError> {
    Err(BrokerError::NotBuiltIn)
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_listening(addr: SocketAddr, timeout: Duration) -> Result<(), BrokerError> {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(BrokerError::NotListening(addr));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
