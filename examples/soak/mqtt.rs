//! The soak's MQTT clients: one observer subscribed to everything (responses, state,
//! availability, discovery, and the token check on every payload), and publishers that send
//! commands one at a time and wait for the broker's PUBACK, so that commands from different
//! clients reach the daemon in the order the soak sent them.

use crate::ledger::Ledger;
use crate::report::Violations;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The base topic the daemon runs with (the default).
pub(crate) const BASE: &str = "anova2mqtt";

/// The last message on one topic.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// Payload text.
    pub(crate) payload: String,
    /// When the observer got it.
    pub(crate) at: Instant,
}

/// What the observer has seen.
#[derive(Default)]
pub(crate) struct Observed {
    /// The last message per topic.
    pub(crate) last: HashMap<String, Seen>,
    /// Messages seen in all.
    pub(crate) messages: u64,
    /// Connections to the broker (1 plus one per broker restart).
    pub(crate) connects: u64,
}

impl Observed {
    /// The last payload on `topic` seen at or after `since`.
    pub(crate) fn since(&self, topic: &str, since: Instant) -> Option<&str> {
        self.last
            .get(topic)
            .filter(|s| s.at >= since)
            .map(|s| s.payload.as_str())
    }

    /// The last payload on `topic`.
    pub(crate) fn payload(&self, topic: &str) -> Option<&str> {
        self.last.get(topic).map(|s| s.payload.as_str())
    }
}

fn options(id: &str, port: u16) -> MqttOptions {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(5));
    options.set_max_packet_size(1 << 20, 1 << 20);
    options
}

/// Starts the observer: subscribes to `#` after every connect and feeds responses to the
/// ledger.
pub(crate) fn observe(
    port: u16,
    token: String,
    ledger: Arc<Mutex<Ledger>>,
    violations: Violations,
) -> Arc<Mutex<Observed>> {
    let observed = Arc::new(Mutex::new(Observed::default()));
    let (client, mut eventloop) = AsyncClient::new(options("soak-observer", port), 1024);
    let seen = observed.clone();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    if let Ok(mut o) = seen.lock() {
                        o.connects += 1;
                    }
                    // A clean session: the subscription is gone after every broker restart.
                    let _ = client.try_subscribe("#", QoS::AtLeastOnce);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let at = Instant::now();
                    let payload = String::from_utf8_lossy(&p.payload).into_owned();
                    if payload.contains(&token) || p.topic.contains(&token) {
                        violations.add(format!(
                            "the token appears in an MQTT message on {}",
                            p.topic
                        ));
                    }
                    let mut parts = p.topic.split('/');
                    if let (Some(BASE), Some(device), Some("response"), None) =
                        (parts.next(), parts.next(), parts.next(), parts.next())
                    {
                        if let Ok(mut ledger) = ledger.lock() {
                            ledger.on_response(device, &payload, at, &violations);
                        }
                    }
                    if let Ok(mut o) = seen.lock() {
                        o.messages += 1;
                        o.last.insert(p.topic, Seen { payload, at });
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    observed
}

/// A client that publishes one message at a time.
pub(crate) struct Publisher {
    client: AsyncClient,
    acks: mpsc::UnboundedReceiver<()>,
}

impl Publisher {
    /// Connects (in the background; publishes wait for the connection).
    pub(crate) fn connect(name: &str, port: u16) -> Self {
        let (client, mut eventloop) = AsyncClient::new(options(name, port), 64);
        let (tx, acks) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        let _ = tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        Self { client, acks }
    }

    /// Publishes at QoS 1 and waits up to `wait` for the broker's PUBACK; false when none came
    /// (the broker is down or restarting).
    pub(crate) async fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        retain: bool,
        wait: Duration,
    ) -> bool {
        while self.acks.try_recv().is_ok() {}
        if self
            .client
            .publish(topic, QoS::AtLeastOnce, retain, payload.to_vec())
            .await
            .is_err()
        {
            return false;
        }
        matches!(
            tokio::time::timeout(wait, self.acks.recv()).await,
            Ok(Some(()))
        )
    }
}
