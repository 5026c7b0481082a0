//! Test support: a real MQTT broker per test, and an MQTT client that waits for messages.
//!
//! The broker is a real mosquitto on a free port. Where mosquitto is missing the embedded broker
//! stands in, unless `ANOVA2MQTT_REQUIRE_MOSQUITTO=1` (set by CI) demands the real one.
//! `ANOVA2MQTT_TEST_BROKER=embedded` uses the embedded broker even where mosquitto is
//! installed, to check that fallback.

#![allow(dead_code, unreachable_pub)]

pub mod system;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::sync::mpsc;

/// The default time to wait for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

fn mosquitto_binary() -> Option<PathBuf> {
    if std::env::var("ANOVA2MQTT_TEST_BROKER").as_deref() == Ok("embedded") {
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("mosquitto"))
        .find(|p| p.is_file())
}

/// A broker for one test.
pub struct Broker {
    /// Its port on 127.0.0.1 (MQTT 3.1.1 and 5).
    pub port: u16,
    /// The port for the bridge: the same as `port`.
    pub v5_port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// True for a real mosquitto.
    pub mosquitto: bool,
}

impl Broker {
    /// Starts mosquitto (or the embedded fallback) on a free port.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match mosquitto_binary() {
            Some(binary) => {
                for _ in 0..5 {
                    let port = free_port();
                    if let Some(child) = spawn_mosquitto(&binary, &dir, port) {
                        return Self {
                            port,
                            v5_port: port,
                            child: Some(child),
                            dir,
                            mosquitto: true,
                        };
                    }
                }
                panic!("mosquitto did not start");
            }
            None => {
                assert!(
                    std::env::var("ANOVA2MQTT_REQUIRE_MOSQUITTO").as_deref() != Ok("1"),
                    "mosquitto is required (ANOVA2MQTT_REQUIRE_MOSQUITTO=1) but not installed"
                );
                eprintln!("mosquitto not found: using the embedded broker");
                let broker =
                    anova2mqtt::broker::start_embedded(SocketAddr::from(([127, 0, 0, 1], 0)))
                        .expect("embedded broker");
                let port = broker.addr.port();
                Self {
                    port,
                    v5_port: port,
                    child: None,
                    dir,
                    mosquitto: false,
                }
            }
        }
    }

    /// A real mosquitto whose listener has these extra options (for example TLS settings);
    /// `None` when mosquitto is not installed (CI requires it).
    pub fn start_mosquitto_with(listener_options: &str) -> Option<Self> {
        let Some(binary) = mosquitto_binary() else {
            assert!(
                std::env::var("ANOVA2MQTT_REQUIRE_MOSQUITTO").as_deref() != Ok("1"),
                "mosquitto is required (ANOVA2MQTT_REQUIRE_MOSQUITTO=1) but not installed"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = spawn_mosquitto_with(&binary, &dir, port, listener_options) {
                return Some(Self {
                    port,
                    v5_port: port,
                    child: Some(child),
                    dir,
                    mosquitto: true,
                });
            }
        }
        panic!("mosquitto did not start with: {listener_options}");
    }

    /// A real mosquitto that admits only `user` with `password` (a password file made with
    /// `mosquitto_passwd`); `None` when mosquitto is not installed (CI requires it).
    pub fn start_mosquitto_requiring_login(user: &str, password: &str) -> Option<Self> {
        let passwd_dir = tempfile::tempdir().expect("temp dir");
        let passwd = passwd_dir.path().join("passwd");
        let made = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwd)
            .args([user, password])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !made.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var("ANOVA2MQTT_REQUIRE_MOSQUITTO").as_deref() != Ok("1"),
                "mosquitto_passwd is required (ANOVA2MQTT_REQUIRE_MOSQUITTO=1)"
            );
            return None;
        }
        // mosquitto reads the file when it starts; the directory may go afterwards.
        Self::start_mosquitto_with(&format!(
            "allow_anonymous false\npassword_file {}",
            passwd.display()
        ))
    }

    /// `mqtt://127.0.0.1:<port>` for the bridge (MQTT 5).
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.v5_port)
    }

    /// Stops the broker and starts a fresh one on the same port, without persistence: every
    /// retained message is gone.
    pub fn restart(&mut self) {
        let binary = mosquitto_binary().expect("restart needs mosquitto");
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for _ in 0..50 {
            if let Some(child) = spawn_mosquitto(&binary, &self.dir, self.port) {
                self.child = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("mosquitto did not restart on port {}", self.port);
    }

    /// Stops the broker.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn_mosquitto(binary: &PathBuf, dir: &tempfile::TempDir, port: u16) -> Option<Child> {
    spawn_mosquitto_with(binary, dir, port, "")
}

fn spawn_mosquitto_with(
    binary: &PathBuf,
    dir: &tempfile::TempDir,
    port: u16,
    listener_options: &str,
) -> Option<Child> {
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\n{listener_options}\n{}persistence false\n",
            // Anonymous clients are welcome unless the options say otherwise.
            if listener_options.contains("allow_anonymous") {
                ""
            } else {
                "allow_anonymous true\n"
            }
        ),
    )
    .ok()?;
    let mut child = Command::new(binary)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..200 {
        if let Ok(Some(_)) = child.try_wait() {
            return None; // exited: the port was taken
        }
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            // Something answers, but it may be another test's listener that took the port
            // between `free_port` and this spawn: then our mosquitto exits at once for want
            // of the port, and a test would talk to a stranger (seen: a reset connection).
            std::thread::sleep(Duration::from_millis(50));
            if let Ok(Some(_)) = child.try_wait() {
                return None;
            }
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    None
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One message seen by a [`Watcher`].
#[derive(Debug, Clone, PartialEq)]
pub struct Msg {
    /// Topic.
    pub topic: String,
    /// Payload as text.
    pub payload: String,
    /// Retain flag.
    pub retained: bool,
}

impl Msg {
    /// The payload as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null)
    }
}

/// An MQTT client that records everything on its subscriptions.
pub struct Watcher {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<Msg>,
    /// Everything seen so far, in order.
    pub seen: Vec<Msg>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Connects to the broker on `port` and subscribes to `filters` (waits for the SUBACK).
    pub async fn connect(port: u16, filters: &[&str]) -> Self {
        let id = format!("watcher-{}", uuid::Uuid::new_v4().simple());
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_max_packet_size(1 << 20, 1 << 20);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let (tx, rx) = mpsc::unbounded_channel();
        let (subacked_tx, mut subacked) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(Msg {
                            topic: p.topic,
                            payload: String::from_utf8_lossy(&p.payload).into_owned(),
                            retained: p.retain,
                        });
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subacked_tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        for filter in filters {
            client
                .subscribe(*filter, QoS::AtLeastOnce)
                .await
                .expect("subscribe");
            tokio::time::timeout(WAIT, subacked.recv())
                .await
                .expect("no SUBACK");
        }
        Self {
            client,
            rx,
            seen: Vec::new(),
            task,
        }
    }

    /// Publishes.
    pub async fn publish(&self, topic: &str, payload: &str, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.as_bytes().to_vec())
            .await
            .expect("publish");
    }

    /// Publishes raw bytes (which need not be UTF-8).
    pub async fn publish_bytes(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_vec())
            .await
            .expect("publish");
    }

    /// Waits for a message (already seen or new) matching `pred`.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Msg) -> bool) -> Msg {
        self.wait_for_within(WAIT, what, pred).await
    }

    /// [`Watcher::wait_for`] with a timeout.
    pub async fn wait_for_within(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Msg) -> bool,
    ) -> Msg {
        if let Some(m) = self.seen.iter().find(|m| pred(m)) {
            return m.clone();
        }
        self.next_matching(timeout, what, pred).await
    }

    /// Waits for a *new* message matching `pred` (ignores what was already seen).
    pub async fn next_matching(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Msg) -> bool,
    ) -> Msg {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    self.seen.push(m.clone());
                    if pred(&m) {
                        return m;
                    }
                }
                Ok(None) => panic!("watcher stopped while waiting for {what}"),
                Err(_) => panic!(
                    "timed out after {timeout:?} waiting for {what}; seen:\n{}",
                    self.seen
                        .iter()
                        .map(|m| format!(
                            "  {} {} {}",
                            m.topic,
                            if m.retained { "(r)" } else { "" },
                            m.payload
                        ))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }

    /// Takes whatever arrived without waiting.
    pub fn drain(&mut self) {
        while let Ok(m) = self.rx.try_recv() {
            self.seen.push(m);
        }
    }

    /// Forgets what was seen.
    pub fn clear(&mut self) {
        self.drain();
        self.seen.clear();
    }

    /// Everything seen on `topic`.
    pub fn on(&mut self, topic: &str) -> Vec<Msg> {
        self.drain();
        self.seen
            .iter()
            .filter(|m| m.topic == topic)
            .cloned()
            .collect()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The daemon's logs in the test's output (shown when a test fails), filtered as the daemon
/// filters them: `RUST_LOG`, else `info`.
pub fn log_to_test_output() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::Layer as _;
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter =
        anova2mqtt::telemetry::build_filter(rust_log.as_deref(), "info").unwrap_or_default();
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .with_filter(filter),
        )
        .try_init();
}
