//! The daemon: wires the cloud client, the broker connection, the local HTTP API and the
//! sans-IO [`Bridge`] together, and carries out what the bridge asks for.
//!
//! One task runs the loop (`driver.rs`); it owns the bridge, so no lock is needed anywhere. It
//! wakes for a cloud event, an MQTT event, a finished cloud command, an API request, a
//! watchdog probe, or the bridge's next deadline — never on a polling interval.

mod api;
mod driver;

use crate::bridge::{Bridge, BridgeConfig, HomeAssistant, Now, PlanSettings, Publish, Qos};
use crate::cloud::client::{self, ClientConfig};
use crate::config::Config;
use crate::http::{self, ApiHandle};
use crate::mcp;
use crate::metrics::Metrics;
use crate::mqtt::connection::{MqttConnection, MqttSettings, TlsFiles};
use crate::presets::PresetBook;
use crate::store::{self, HistoryStatus, Store};
use crate::systemd::{Notifier, Watchdog};
use crate::topics::Topics;
use anyhow::Context;
use api::Api;
use driver::{Driver, Sources};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long the cloud client gets to send its close frame at shutdown.
const CLOUD_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the cook history gets to write its last batch at shutdown.
const HISTORY_CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the publishes of a stop (every device `offline`) may wait for the broker. With
/// thousands of devices they are more than the queue holds at once.
const LAST_WORDS_TIMEOUT: Duration = Duration::from_secs(5);

/// The cloud client's settings from the configuration.
pub fn client_config(config: &Config) -> ClientConfig {
    let anova = &config.anova;
    ClientConfig {
        url: anova.url.clone(),
        token: anova.token.clone().unwrap_or_default(),
        accessories: anova.accessories.clone(),
        command_timeout: anova.command_timeout,
        stale_after: anova.stale_after,
        watchdog: anova.watchdog,
        ..ClientConfig::default()
    }
}

/// The broker settings from the configuration.
pub fn mqtt_settings(config: &Config) -> anyhow::Result<MqttSettings> {
    let mqtt = &config.mqtt;
    let endpoint = mqtt
        .endpoint()
        .map_err(|problem| anyhow::anyhow!("{}: {}", problem.key, problem.message))?;
    Ok(MqttSettings {
        host: endpoint.host,
        port: endpoint.port,
        tls: endpoint.tls.then(|| TlsFiles {
            ca_file: mqtt.ca_file.clone(),
            client_cert_file: mqtt.client_cert_file.clone(),
            client_key_file: mqtt.client_key_file.clone(),
        }),
        username: mqtt.username.clone(),
        password: mqtt.password.clone(),
        client_id: mqtt.client_id.clone(),
        keepalive: mqtt.keepalive,
        will_topic: Topics::new(mqtt.base_topic.clone()).bridge_state(),
    })
}

/// The bridge's settings from the configuration.
pub fn bridge_config(config: &Config) -> BridgeConfig {
    let ha = &config.homeassistant;
    BridgeConfig {
        base_topic: config.mqtt.base_topic.clone(),
        homeassistant: ha.enabled.then(|| HomeAssistant {
            discovery_prefix: ha.discovery_prefix.clone(),
            mode: ha.discovery_mode,
            status_topic: ha.status_topic.clone(),
        }),
        command_timeout: config.anova.command_timeout,
        confirm_timeout: config.anova.confirm_timeout,
        commands_per_minute: config.limits.commands_per_minute,
        max_temperature_c: config.safety.max_temperature_c,
        oven_max_temperature_c: config.safety.oven_max_temperature_c,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        // Only keeps generated ids of one run apart; any value works.
        seed: uuid::Uuid::new_v4().as_u64_pair().0,
        plans: PlanSettings {
            presets: Arc::new(PresetBook::new(&config.presets)),
            // Checked when the configuration was loaded; UTC only if that check was skipped.
            timezone: config
                .schedule
                .time_zone()
                .unwrap_or(jiff::tz::TimeZone::UTC),
            silent_after: crate::bridge::plan_silence(config.anova.stale_after),
            ..PlanSettings::default()
        },
        restart: false,
    }
}

/// How a run starts and ends.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// Remove every retained topic and discovery config the bridge published when it stops
    /// (the demo, which must leave nothing behind on a real broker), instead of marking
    /// everything `offline`.
    pub purge_on_exit: bool,
    /// The local HTTP API's listener, when the caller opened it already (the demo, to print
    /// its address); else `[http]` is bound here when enabled.
    pub http_listener: Option<TcpListener>,
    /// The cook history's settings when they do not come from `[history]`: the demo keeps
    /// its history in memory unless its config file names a path; tests stand in a full disk.
    pub history: Option<store::Settings>,
    /// Serve the `restart` request: when one ends the run, this is set, and the caller starts
    /// again with the configuration read anew (`anova2mqtt run`). `None`: refused.
    pub restart: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Starts the cook history of `[history]` (or `history`, see [`RunOptions::history`]); `None` when it is off or
/// its thread cannot be started (said in the log; the bridge runs without).
fn start_history(
    config: &Config,
    history: Option<store::Settings>,
    metrics: &Arc<Metrics>,
) -> Option<(Store, watch::Receiver<HistoryStatus>)> {
    if !config.history.enabled {
        return None;
    }
    let settings = history.unwrap_or_else(|| {
        let path = config
            .history
            .effective_path(|name| std::env::var(name).ok());
        if path.is_none() {
            tracing::warn!(
                "no directory for the cook history ($STATE_DIRECTORY, $XDG_STATE_HOME and \
                 $HOME are unset): it is kept in memory only; set history.path"
            );
        }
        store::Settings::new(path, config.history.retention)
    });
    match Store::start(settings, Some(metrics.clone())) {
        Ok(started) => Some(started),
        Err(e) => {
            tracing::error!("cannot start the cook history's thread: {e}; running without it");
            None
        }
    }
}

/// The HTTP adapter's settings for `config`, with the cook history and, when `mcp.enabled`,
/// the MCP server at `/mcp`; cancelling `stop` ends its sessions.
pub fn http_settings(
    config: &Config,
    handle: &ApiHandle,
    history: Option<store::Store>,
    stop: &CancellationToken,
) -> http::Settings {
    let mut settings = http::Settings::new(config);
    settings.history = history.clone();
    if config.mcp.enabled {
        let backend = mcp::Local::new(
            handle.clone(),
            history,
            settings.request_timeout,
            settings.command_timeout,
            settings.presets.clone(),
        );
        settings.mcp = Some(mcp::router(
            backend,
            config.mcp.mode,
            mcp::McpLimits::default(),
            handle.metrics().clone(),
            stop.child_token(),
        ));
    }
    settings
}

/// Runs the daemon until `shutdown` completes; then publishes `offline`, closes the cloud
/// socket and returns. An error means a part of the daemon died and systemd should restart us.
pub async fn run(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(config, RunOptions::default(), shutdown).await
}

/// [`run`] with options.
pub async fn run_with(
    config: &Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    // The API's port first: a taken port is a clear error before anything connects.
    let http_listener = match options.http_listener {
        Some(listener) => Some(listener),
        None if config.http.enabled => Some(http::bind(&config.http).await?),
        None => None,
    };
    let metrics = Arc::new(Metrics::new());
    let (history, history_status) = start_history(config, options.history, &metrics).unzip();
    let (api, api_requests) = match http_listener {
        Some(listener) => {
            let (handle, requests) = ApiHandle::new(metrics.clone());
            let settings = http_settings(config, &handle, history.clone(), &stop);
            tokio::spawn(http::serve(
                listener,
                settings,
                handle.clone(),
                stop.clone().cancelled_owned(),
            ));
            (Api::new(handle), Some(requests))
        }
        None => (Api::default(), None),
    };
    let mqtt_settings = mqtt_settings(config)?;
    let mqtt = MqttConnection::start(&mqtt_settings, &stop).context("MQTT connection")?;
    let client = ClientConfig {
        metrics: Some(metrics.clone()),
        ..client_config(config)
    };
    let (cloud, cloud_events, cloud_task) = client::spawn(client, stop.child_token());
    tracing::info!(
        broker = format!("{}:{}", mqtt_settings.host, mqtt_settings.port),
        base_topic = config.mqtt.base_topic,
        "anova2mqtt {} starting",
        env!("CARGO_PKG_VERSION")
    );
    let bridge = Bridge::new(
        BridgeConfig {
            restart: options.restart.is_some(),
            ..bridge_config(config)
        },
        Now::system(),
    );
    let offline = Publish {
        topic: bridge.topics().bridge_state(),
        // An empty retained message removes the topic altogether.
        payload: if options.purge_on_exit {
            String::new()
        } else {
            "offline".into()
        },
        retain: true,
        qos: Qos::AtLeastOnce,
    };
    let mut driver = Driver {
        bridge,
        cloud,
        mqtt: mqtt.handle.clone(),
        commands: JoinSet::new(),
        notifier: Notifier::from_env(),
        metrics,
        api,
        ready: false,
        last_status: String::new(),
        cloud_was_up: false,
        history: history.clone(),
        restart: false,
        log_lines: crate::telemetry::log_lines(),
    };

    // The watchdog only pings while the loop below answers its probes.
    let (probe_tx, probe_rx) = mpsc::channel::<oneshot::Sender<()>>(1);
    let watchdog = Watchdog::from_env().map(|watchdog| {
        let stop = stop.clone();
        tokio::spawn(async move {
            let probe = move || {
                let probe_tx = probe_tx.clone();
                async move {
                    let (tx, rx) = oneshot::channel();
                    probe_tx.send(tx).await.is_ok() && rx.await.is_ok()
                }
            };
            watchdog.run(probe, stop.cancelled_owned()).await;
        })
    });

    let mut mqtt = mqtt;
    let mut sources = Sources {
        mqtt: std::mem::replace(&mut mqtt.events, mpsc::channel(1).1),
        cloud: cloud_events,
        probes: probe_rx,
        api: api_requests,
        history: history_status,
    };
    // The shutdown future (in the daemon, two signal streams) runs as its own task: the loop
    // below wakes once per message and would otherwise poll it every time; a join handle is
    // one atomic load.
    let mut shutdown = tokio::spawn(shutdown);
    let result = driver
        .run(&mut sources, async {
            let _ = (&mut shutdown).await;
        })
        .await;
    shutdown.abort();

    if driver.restart && options.restart.is_some() {
        driver.notifier.reloading();
    } else {
        driver.notifier.stopping();
    }
    tracing::info!("stopping: publishing offline and closing the connections");
    driver.commands.abort_all();
    // Nothing retained may say a device is reachable once we are gone.
    driver.bridge.shutdown(options.purge_on_exit);
    if tokio::time::timeout(LAST_WORDS_TIMEOUT, driver.publish_last_words())
        .await
        .is_err()
    {
        tracing::warn!("the broker did not take every device's last state in time");
    }
    mqtt.close(offline).await;
    if let Some(history) = &history {
        history.stop(HISTORY_CLOSE_TIMEOUT).await;
    }
    stop.cancel();
    if tokio::time::timeout(CLOUD_CLOSE_TIMEOUT, cloud_task)
        .await
        .is_err()
    {
        tracing::warn!("the cloud connection did not close in time");
    }
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    if let (true, Some(restart)) = (driver.restart, &options.restart) {
        restart.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    result
}
