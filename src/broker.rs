//! The embedded MQTT broker of `anova2mqtt demo` (and the tests' fallback when mosquitto is
//! missing): rumqttd, without TLS or WebSocket listeners, behind one port that speaks both
//! MQTT 3.1.1 and MQTT 5.
//!
//! rumqttd serves each protocol version on a listener of its own and drops a client that
//! speaks the other one, which `mosquitto_sub -V mqttv5` then retries for ever. People use the
//! port they asked for with whatever version their tool speaks, and the bridge needs MQTT 5
//! (*Retain As Published*). So the user's port is a small front: it reads the first packet far
//! enough to see the protocol level of the CONNECT and then splices the connection to
//! rumqttd's 3.1.1 or MQTT 5 listener, two ports on loopback that nobody else needs to know.
//!
//! rumqttd's `Broker::start` blocks and has no stop, so the broker and the front each run on a
//! thread of their own until the process exits; that is what a demo needs. Deployments use a
//! real broker (mosquitto).

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Why the embedded broker did not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The port is taken (another broker is probably running).
    #[error("--mqtt-port: {addr} is already in use (is another MQTT broker running? choose another port with --mqtt-port, or use that broker with --mqtt mqtt://{addr})")]
    PortInUse {
        /// The address.
        addr: SocketAddr,
    },
    /// The port cannot be had for another reason (a port below 1024 needs privileges). The
    /// system's words are part of the message, not a source, so they are said once.
    #[error("--mqtt-port: cannot listen on {addr}: {cause}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        cause: std::io::Error,
    },
    /// It did not accept connections in time.
    #[error("the embedded MQTT broker did not start listening on {0}")]
    NotListening(SocketAddr),
    /// A thread or the front's runtime could not be started.
    #[error("cannot start the embedded MQTT broker: {0}")]
    Start(std::io::Error),
    /// This build was made without the `embedded-broker` cargo feature.
    #[error("this build of anova2mqtt has no embedded MQTT broker (cargo feature \"embedded-broker\"); give an existing broker with --mqtt URL")]
    NotBuiltIn,
}

/// Where the embedded broker listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedBroker {
    /// The one address for everybody (the port asked for, or the one the system chose for
    /// port 0): MQTT 3.1.1 and MQTT 5.
    pub addr: SocketAddr,
}

#[cfg(any(feature = "embedded-broker", test))]
/// What the first bytes of a connection say about its protocol.
// Only the embedded broker peeks (and the tests); without it this is unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peek {
    /// Not enough bytes yet.
    NeedMore,
    /// A CONNECT with this protocol level (4 = MQTT 3.1.1, 5 = MQTT 5, 3 = MQTT 3.1).
    Level(u8),
    /// Not an MQTT CONNECT.
    NotMqtt,
}

#[cfg(any(feature = "embedded-broker", test))]
/// The longest prefix [`peek`] needs: packet type, up to 4 length bytes, the protocol name
/// (`MQIsdp` is the longest) with its 2-byte length, and the level.
const PEEK_LEN: usize = 1 + 4 + 2 + 6 + 1;

#[cfg(any(feature = "embedded-broker", test))]
/// Reads the protocol level from the start of a CONNECT packet.
fn peek(bytes: &[u8]) -> Peek {
    let Some((&packet_type, rest)) = bytes.split_first() else {
        return Peek::NeedMore;
    };
    if packet_type != 0x10 {
        return Peek::NotMqtt;
    }
    // The remaining length: 1 to 4 bytes, the high bit meaning "more follow".
    let Some(length_bytes) = rest.iter().position(|b| b & 0x80 == 0) else {
        return if rest.len() >= 4 {
            Peek::NotMqtt
        } else {
            Peek::NeedMore
        };
    };
    if length_bytes >= 4 {
        return Peek::NotMqtt;
    }
    let rest = &rest[length_bytes + 1..];
    let [high, low, rest @ ..] = rest else {
        return Peek::NeedMore;
    };
    let name_len = usize::from(u16::from_be_bytes([*high, *low]));
    if !matches!(name_len, 4 | 6) {
        return Peek::NotMqtt;
    }
    match rest.get(name_len) {
        None => Peek::NeedMore,
        Some(_) if !matches!(&rest[..name_len], b"MQTT" | b"MQIsdp") => Peek::NotMqtt,
        Some(&level) => Peek::Level(level),
    }
}

#[cfg(feature = "embedded-broker")]
mod embedded {
    use super::{peek, BrokerError, EmbeddedBroker, Peek, PEEK_LEN};
    use std::net::{SocketAddr, TcpListener};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// How long to wait for the broker threads to accept connections.
    const START_TIMEOUT: Duration = Duration::from_secs(5);

    /// How long a new connection may take to send the start of its CONNECT.
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    fn config(v4: SocketAddr, v5: SocketAddr) -> rumqttd::Config {
        use rumqttd::{Config, ConnectionSettings, RouterConfig, ServerSettings};
        use std::collections::HashMap;
        let connections = ConnectionSettings {
            connection_timeout_ms: 5000,
            // What the bridge accepts: a larger publish is refused at the publisher, which
            // sees its connection closed, instead of vanishing on the way to the bridge.
            max_payload_size: crate::mqtt::connection::MAX_INCOMING_PACKET_SIZE,
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

    /// A free port on loopback for one of rumqttd's listeners.
    fn free_loopback_addr() -> Result<SocketAddr, BrokerError> {
        TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map_err(BrokerError::Start)
    }

    /// Starts rumqttd and the front on `listen`; returns once both accept connections.
    pub(super) fn start(listen: SocketAddr) -> Result<EmbeddedBroker, BrokerError> {
        // Bind the user's port first: a clear error when it is taken, and no window in which
        // another process could take it.
        let front = TcpListener::bind(listen).map_err(|cause| {
            if cause.kind() == std::io::ErrorKind::AddrInUse {
                BrokerError::PortInUse { addr: listen }
            } else {
                BrokerError::Bind {
                    addr: listen,
                    cause,
                }
            }
        })?;
        let addr = front.local_addr().map_err(BrokerError::Start)?;
        let (v4, v5) = (free_loopback_addr()?, free_loopback_addr()?);
        let config = config(v4, v5);
        std::thread::Builder::new()
            .name("mqtt-broker".into())
            .spawn(move || {
                let mut broker = rumqttd::Broker::new(config);
                if let Err(e) = broker.start() {
                    tracing::error!("the embedded MQTT broker stopped: {e}");
                }
            })
            .map_err(BrokerError::Start)?;
        super::wait_listening(v4, START_TIMEOUT)?;
        super::wait_listening(v5, START_TIMEOUT)?;

        front.set_nonblocking(true).map_err(BrokerError::Start)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(BrokerError::Start)?;
        std::thread::Builder::new()
            .name("mqtt-front".into())
            .spawn(move || runtime.block_on(serve_front(front, v4, v5)))
            .map_err(BrokerError::Start)?;
        Ok(EmbeddedBroker { addr })
    }

    /// Accepts connections on the user's port and hands each to the right listener.
    async fn serve_front(front: TcpListener, v4: SocketAddr, v5: SocketAddr) {
        let front = match tokio::net::TcpListener::from_std(front) {
            Ok(front) => front,
            Err(e) => {
                tracing::error!("the embedded MQTT broker cannot accept connections: {e}");
                return;
            }
        };
        loop {
            match front.accept().await {
                Ok((client, _)) => {
                    tokio::spawn(route(client, v4, v5));
                }
                // Out of file descriptors, say: wait instead of spinning.
                Err(e) => {
                    tracing::warn!("the embedded MQTT broker cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Reads the start of the CONNECT, connects to the listener for its protocol version,
    /// replays what was read and splices the two sockets until either side closes.
    async fn route(mut client: TcpStream, v4: SocketAddr, v5: SocketAddr) {
        let mut head = [0u8; PEEK_LEN];
        let mut len = 0;
        let level = tokio::time::timeout(CONNECT_TIMEOUT, async {
            loop {
                match peek(&head[..len]) {
                    Peek::Level(level) => return Some(level),
                    Peek::NotMqtt => return None,
                    Peek::NeedMore if len == head.len() => return None,
                    Peek::NeedMore => {}
                }
                match client.read(&mut head[len..]).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => len += n,
                }
            }
        })
        .await;
        // Port probes, idle connections and other protocols are simply closed.
        let Ok(Some(level)) = level else { return };
        let target = if level == 5 { v5 } else { v4 };
        let Ok(mut broker) = TcpStream::connect(target).await else {
            return;
        };
        if broker.write_all(&head[..len]).await.is_err() {
            return;
        }
        let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
    }
}

/// Starts the embedded broker on `listen` (port 0 lets the system choose); returns once it
/// accepts connections.
#[cfg(feature = "embedded-broker")]
pub fn start_embedded(listen: SocketAddr) -> Result<EmbeddedBroker, BrokerError> {
    embedded::start(listen)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A CONNECT's first bytes: type, remaining length, protocol name and level.
    fn connect(name: &[u8], level: u8, length: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x10];
        bytes.extend_from_slice(length);
        bytes.extend_from_slice(&u16::try_from(name.len()).unwrap().to_be_bytes());
        bytes.extend_from_slice(name);
        bytes.push(level);
        bytes
    }

    #[test]
    fn the_protocol_level_is_read_from_the_connect() {
        assert_eq!(peek(&connect(b"MQTT", 5, &[20])), Peek::Level(5));
        assert_eq!(peek(&connect(b"MQTT", 4, &[0x80, 0x01])), Peek::Level(4));
        assert_eq!(peek(&connect(b"MQIsdp", 3, &[30])), Peek::Level(3));
        let full = connect(b"MQTT", 5, &[0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(full.len(), PEEK_LEN - 2);
        assert_eq!(peek(&full), Peek::Level(5));
        // Every shorter prefix asks for more.
        for len in 0..full.len() {
            assert_eq!(peek(&full[..len]), Peek::NeedMore, "{len}");
        }
    }

    #[test]
    fn anything_else_is_not_mqtt() {
        assert_eq!(peek(b"GET / HTTP/1.1\r\n"), Peek::NotMqtt);
        assert_eq!(peek(&[0x30, 2, 0, 0]), Peek::NotMqtt); // a PUBLISH first
        assert_eq!(peek(&[0x10, 0x80, 0x80, 0x80, 0x80, 0]), Peek::NotMqtt);
        assert_eq!(peek(&connect(b"MQTX", 4, &[20])), Peek::NotMqtt);
        assert_eq!(peek(&connect(b"HTTP/1", 4, &[20])), Peek::NotMqtt);
        assert_eq!(peek(&[0x10, 20, 0, 9]), Peek::NotMqtt);
    }
}
