//! A whole system for end-to-end tests: a real mosquitto, the simulator over a real WebSocket,
//! and the daemon (with its local HTTP API on a free port) between them.

use super::{Broker, Watcher};
use anova2mqtt::config::Config;
use anova2mqtt::daemon::RunOptions;
use anova2mqtt::secret::Secret;
use anova2mqtt::simulator::{demo_cookers, Simulator, SimulatorConfig, SimulatorHandle};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The demo's a7.
pub const A7: &str = "a7demo000000000001";
/// The demo's pro.
pub const PRO: &str = "prodemo00000000001";

/// A running daemon with its broker and simulator.
pub struct System {
    pub broker: Broker,
    pub sim: Simulator,
    pub watcher: Watcher,
    /// The local HTTP API.
    pub http: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    daemon: Option<JoinHandle<anyhow::Result<()>>>,
    /// What the daemon was started with, for [`System::restart_daemon`].
    config: Config,
}

/// Quick pushes, the demo cookers.
pub fn sim_config() -> SimulatorConfig {
    SimulatorConfig {
        idle_push_interval: Duration::from_millis(200),
        cooking_push_interval: Duration::from_millis(100),
        ..SimulatorConfig::for_tests(demo_cookers())
    }
}

impl System {
    pub async fn start(sim: SimulatorConfig, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_history(sim, tweak, None).await
    }

    /// As [`System::start`], with the cook history's settings (`None`: in memory, unless the
    /// config names a file).
    pub async fn start_with_history(
        sim: SimulatorConfig,
        tweak: impl FnOnce(&mut Config),
        history: Option<anova2mqtt::store::Settings>,
    ) -> Self {
        // The daemon's logs, shown for a failing test (RUST_LOG picks the level).
        super::log_to_test_output();
        let broker = Broker::start();
        let sim = Simulator::start(([127, 0, 0, 1], 0).into(), sim)
            .await
            .expect("simulator");
        let watcher = Watcher::connect(broker.port, &["anova2mqtt/#", "homeassistant/#"]).await;
        let mut config = Config::default();
        config.anova.url = sim.url();
        config.anova.token = Some(Secret::new("anova-e2e-token"));
        config.anova.command_timeout = Duration::from_secs(3);
        config.anova.confirm_timeout = Duration::from_secs(4);
        config.mqtt.url = broker.url();
        config.mqtt.client_id = format!("anova2mqtt-e2e-{}", uuid::Uuid::new_v4().simple());
        config.mqtt.keepalive = Duration::from_secs(5);
        // Tests run in parallel: the local API takes any free port.
        config.http.listen = "127.0.0.1:0".into();
        tweak(&mut config);
        config.validate_for_run().expect("valid config");
        let history = history.or_else(|| {
            // The cook history in memory unless the test names a file; never in the
            // developer's home.
            config
                .history
                .path
                .is_none()
                .then(|| anova2mqtt::store::Settings::new(None, config.history.retention))
        });
        let (http, stop, daemon) = Self::spawn_daemon(&config, history).await;
        Self {
            broker,
            sim,
            watcher,
            http,
            stop: Some(stop),
            daemon: Some(daemon),
            config,
        }
    }

    async fn spawn_daemon(
        config: &Config,
        history: Option<anova2mqtt::store::Settings>,
    ) -> (
        SocketAddr,
        oneshot::Sender<()>,
        JoinHandle<anyhow::Result<()>>,
    ) {
        let listener = anova2mqtt::http::bind(&config.http).await.expect("http");
        let http = listener.local_addr().expect("http address");
        let options = RunOptions {
            purge_on_exit: false,
            http_listener: Some(listener),
            history,
            restart: None,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let config = config.clone();
        let daemon = tokio::spawn(async move {
            anova2mqtt::daemon::run_with(&config, options, async move {
                let _ = stopped.await;
            })
            .await
        });
        (http, stop, daemon)
    }

    /// Stops the daemon and starts it again with the same configuration (the cook history in
    /// its file), against the same broker and simulator.
    pub async fn restart_daemon(&mut self) {
        self.stop_daemon().await;
        let (http, stop, daemon) = Self::spawn_daemon(&self.config, None).await;
        self.http = http;
        self.stop = Some(stop);
        self.daemon = Some(daemon);
    }

    /// Starts the daemon again after [`System::stop_daemon`], with the same configuration.
    pub async fn start_daemon(&mut self) {
        assert!(self.daemon.is_none(), "the daemon is running");
        let (http, stop, daemon) = Self::spawn_daemon(&self.config, None).await;
        self.http = http;
        self.stop = Some(stop);
        self.daemon = Some(daemon);
    }

    /// Stops the daemon (cleanly, within 5 s); the broker and the simulator keep running.
    pub async fn stop_daemon(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(daemon) = self.daemon.take() {
            let result = tokio::time::timeout(Duration::from_secs(5), daemon).await;
            result
                .expect("the daemon stops within 5 s")
                .expect("join")
                .expect("clean exit");
        }
    }

    pub fn handle(&self) -> SimulatorHandle {
        self.sim.handle()
    }

    /// Fills a cooker's bath with ice water holding `ice_ratio` kg of ice per kg of water
    /// (0: its ice just melted); the simulator's physics take it from there.
    pub fn ice_bath(&self, cooker_id: &str, ice_ratio: f64) {
        self.handle()
            .inject(anova2mqtt::simulator::Fault::IceBath {
                cooker_id: cooker_id.into(),
                ice_ratio,
            })
            .expect("a simulated cooker");
    }

    /// Waits until both cookers are online with state.
    pub async fn ready(&mut self) {
        for id in [A7, PRO] {
            let topic = format!("anova2mqtt/{id}/availability");
            self.watcher
                .wait_for("availability online", |m| {
                    m.topic == topic && m.payload == "online"
                })
                .await;
            let topic = format!("anova2mqtt/{id}/state");
            self.watcher.wait_for("state", |m| m.topic == topic).await;
        }
    }

    pub async fn command(&mut self, topic: &str, payload: &str) -> Value {
        let id = topic.split('/').nth(1).unwrap_or_default().to_owned();
        let response_topic = format!("anova2mqtt/{id}/response");
        self.watcher.drain();
        let before = self.watcher.on(&response_topic).len();
        self.watcher.publish(topic, payload, false).await;
        let msg = self
            .watcher
            .next_matching(Duration::from_secs(8), "a response", |m| {
                m.topic == response_topic
            })
            .await;
        assert_eq!(self.watcher.on(&response_topic).len(), before + 1);
        msg.json()
    }

    pub async fn stop(mut self) {
        self.stop_daemon().await;
    }
}
