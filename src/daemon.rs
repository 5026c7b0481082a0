//! The daemon: wires the cloud client, the broker connection and the sans-IO [`Bridge`]
//! together, and carries out what the bridge asks for.
//!
//! One task runs the loop below; it owns the bridge, so no lock is needed anywhere. It wakes
//! for a cloud event, an MQTT event, a finished cloud command, a watchdog probe, or the
//! bridge's next deadline — never on a polling interval.

use crate::bridge::{
    Bridge, BridgeConfig, HomeAssistant, Input, Now, Output, Publish, Qos, Ticket,
};
use crate::cloud::client::{self, ClientConfig, CloudHandle};
use crate::cloud::{CloudError, CloudEvent};
use crate::config::Config;
use crate::mqtt::connection::{MqttConnection, MqttEvent, MqttSettings, TlsFiles};
use crate::systemd::{Notifier, Watchdog};
use crate::topics::Topics;
use anyhow::Context;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long the cloud client gets to send its close frame at shutdown.
const CLOUD_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

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
        version: env!("CARGO_PKG_VERSION").to_owned(),
        // Only keeps generated ids of one run apart; any value works.
        seed: uuid::Uuid::new_v4().as_u64_pair().0,
    }
}

/// How a run ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Remove every retained topic and discovery config the bridge published when it stops
    /// (the demo, which must leave nothing behind on a real broker), instead of marking
    /// everything `offline`.
    pub purge_on_exit: bool,
}

/// Runs the daemon until `shutdown` completes; then publishes `offline`, closes the cloud
/// socket and returns. An error means a part of the daemon died and systemd should restart us.
pub async fn run(config: &Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    run_with(config, RunOptions::default(), shutdown).await
}

/// [`run`] with options.
pub async fn run_with(
    config: &Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let mqtt_settings = mqtt_settings(config)?;
    let mqtt = MqttConnection::start(&mqtt_settings, &stop).context("MQTT connection")?;
    let (cloud, cloud_events, cloud_task) =
        client::spawn(client_config(config), stop.child_token());
    tracing::info!(
        broker = format!("{}:{}", mqtt_settings.host, mqtt_settings.port),
        base_topic = config.mqtt.base_topic,
        "anova2mqtt {} starting",
        env!("CARGO_PKG_VERSION")
    );
    let bridge = Bridge::new(bridge_config(config), Now::system());
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
        mqtt_handle: mqtt.handle.clone(),
        commands: JoinSet::new(),
        notifier: Notifier::from_env(),
        ready: false,
        last_status: String::new(),
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
    let result = driver
        .run(&mut mqtt.events, cloud_events, probe_rx, shutdown)
        .await;

    driver.notifier.stopping();
    tracing::info!("stopping: publishing offline and closing the connections");
    driver.commands.abort_all();
    // Nothing retained may say a device is reachable once we are gone.
    driver.bridge.shutdown(options.purge_on_exit);
    driver.carry_out();
    mqtt.close(offline).await;
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
    result
}

/// The loop's state besides the bridge.
struct Driver {
    bridge: Bridge,
    cloud: CloudHandle,
    mqtt_handle: crate::mqtt::connection::MqttHandle,
    /// Cloud commands in flight, each reporting back with its ticket.
    commands: JoinSet<(Ticket, Result<(), CloudError>)>,
    notifier: Notifier,
    ready: bool,
    last_status: String,
}

impl Driver {
    async fn run(
        &mut self,
        mqtt_events: &mut mpsc::Receiver<MqttEvent>,
        mut cloud_events: mpsc::Receiver<CloudEvent>,
        mut probes: mpsc::Receiver<oneshot::Sender<()>>,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        loop {
            let deadline = self.bridge.poll_timeout();
            let input = tokio::select! {
                () = &mut shutdown => return Ok(()),
                event = cloud_events.recv() => match event {
                    Some(event) => Input::Cloud(event),
                    None => anyhow::bail!("the cloud client stopped"),
                },
                event = mqtt_events.recv() => match event {
                    Some(MqttEvent::Connected) => {
                        if !self.ready {
                            // Ready once the broker took us: from here on we serve MQTT.
                            self.ready = true;
                            self.notifier.ready();
                        }
                        Input::MqttConnected
                    }
                    Some(MqttEvent::Disconnected { .. }) => Input::MqttDisconnected,
                    Some(MqttEvent::Message { topic, payload, retained }) => Input::Mqtt { topic, payload, retained },
                    None => anyhow::bail!("the MQTT connection stopped"),
                },
                Some(done) = self.commands.join_next(), if !self.commands.is_empty() => match done {
                    Ok((ticket, result)) => Input::CloudResult { ticket, result },
                    Err(e) => anyhow::bail!("a cloud command task failed: {e}"),
                },
                Some(reply) = probes.recv() => {
                    let _ = reply.send(());
                    continue;
                }
                () = sleep_until(deadline) => Input::Tick,
            };
            self.bridge.handle(Now::system(), input);
            self.carry_out();
            self.update_status();
        }
    }

    /// Does what the bridge asked for, without awaiting anything.
    fn carry_out(&mut self) {
        while let Some(output) = self.bridge.poll_output() {
            match output {
                Output::Publish(publish) => self.mqtt_handle.publish(publish),
                Output::Subscribe(filters) => self.mqtt_handle.subscribe(filters),
                Output::Cloud {
                    ticket,
                    command,
                    deadline,
                } => {
                    let cloud = self.cloud.clone();
                    self.commands.spawn(async move {
                        // The bridge answers the command at its deadline anyway; a later
                        // RESPONSE is of no use.
                        let sent = tokio::time::timeout_at(deadline.into(), cloud.send(command));
                        (ticket, sent.await.unwrap_or(Err(CloudError::Timeout)))
                    });
                }
                Output::Reply { .. } => {}
                Output::ReconnectCloud => {
                    tracing::info!("reconnecting to the Anova cloud on request");
                    self.cloud.reconnect();
                }
            }
        }
    }

    /// Sends `STATUS=` when the line changed (it changes with the links and the cookers'
    /// availability, not with every message).
    fn update_status(&mut self) {
        if !self.notifier.is_enabled() {
            return;
        }
        let line = self.bridge.status_line();
        if line != self.last_status {
            self.notifier.status(&line);
            self.last_status = line;
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
