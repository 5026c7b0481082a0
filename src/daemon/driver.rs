//! The main loop: the one task that owns the [`Bridge`] and keeps its calling contract (written
//! on [`Bridge`]: inputs, then outputs, the backlog, the status line, the timeout). It turns
//! cloud events, MQTT events, finished cloud commands, API requests and the bridge's deadlines
//! into inputs, and carries out the outputs without awaiting anything, so no lock is needed
//! anywhere and nothing waits on a slow peer.

use super::api::Api;
use crate::alarm::Alarm;
use crate::bridge::{Bridge, HeatSample, Input, Now, Output, Publish, Qos, Ticket};
use crate::cloud::client::CloudHandle;
use crate::cloud::{CloudError, CloudEvent, LinkState};
use crate::http::ApiRequest;
use crate::metrics::Metrics;
use crate::mqtt::connection::{MqttEvent, MqttHandle};
use crate::store::{HistoryStatus, Store};
use crate::systemd::Notifier;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

/// The loop's state besides the bridge.
pub(super) struct Driver {
    pub(super) bridge: Bridge,
    pub(super) cloud: CloudHandle,
    pub(super) mqtt: MqttHandle,
    /// Cloud commands in flight, each reporting back with its ticket.
    pub(super) commands: JoinSet<(Ticket, Result<(), CloudError>)>,
    pub(super) notifier: Notifier,
    pub(super) metrics: Arc<Metrics>,
    /// The local API's requests and stream (when `[http]` is enabled).
    pub(super) api: Api,
    pub(super) ready: bool,
    pub(super) last_status: String,
    /// The cloud link has been up before (a later `Up` is a reconnect).
    pub(super) cloud_was_up: bool,
    /// The cook history, when on: records go there without waiting.
    pub(super) history: Option<Store>,
    /// A `restart` request ended the run.
    pub(super) restart: bool,
    /// The log's lines for `<base>/bridge/logging`.
    pub(super) log_lines: tokio::sync::broadcast::Receiver<crate::telemetry::LogLine>,
}

/// Where the inputs come from.
pub(super) struct Sources {
    pub(super) mqtt: mpsc::Receiver<MqttEvent>,
    pub(super) cloud: mpsc::Receiver<CloudEvent>,
    pub(super) probes: mpsc::Receiver<oneshot::Sender<()>>,
    pub(super) api: Option<mpsc::Receiver<ApiRequest>>,
    /// The cook history's status, when history is on.
    pub(super) history: Option<watch::Receiver<HistoryStatus>>,
}

impl Driver {
    /// Runs until `shutdown` completes or a part of the daemon dies.
    pub(super) async fn run(
        &mut self,
        sources: &mut Sources,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        let mut tick = Alarm::new();
        self.update_status();
        if let Some(status) = &mut sources.history {
            let text = status.borrow_and_update().as_text().to_owned();
            self.bridge.handle(Now::system(), Input::History(text));
        }
        self.resume_cooks().await;
        loop {
            tick.set(self.bridge.poll_timeout().map(Into::into));
            let input = tokio::select! {
                () = &mut shutdown => return Ok(()),
                event = sources.cloud.recv() => match event {
                    Some(event) => {
                        self.observe_cloud(&event);
                        Input::Cloud(event)
                    }
                    None => anyhow::bail!("the cloud client stopped"),
                },
                event = sources.mqtt.recv() => match event {
                    Some(MqttEvent::Connected) => {
                        if !self.ready {
                            // Ready once the broker took us: from here on we serve MQTT.
                            self.ready = true;
                            self.notifier.ready();
                        }
                        self.metrics.mqtt_link(true);
                        Input::MqttConnected
                    }
                    Some(MqttEvent::Disconnected { .. }) => {
                        self.metrics.mqtt_link(false);
                        Input::MqttDisconnected
                    }
                    Some(MqttEvent::Message { topic, payload, retained }) => Input::Mqtt { topic, payload, retained },
                    None => anyhow::bail!("the MQTT connection stopped"),
                },
                Some(done) = self.commands.join_next(), if !self.commands.is_empty() => match done {
                    Ok((ticket, result)) => Input::CloudResult { ticket, result },
                    Err(e) => anyhow::bail!("a cloud command task failed: {e}"),
                },
                Some(request) = next_request(&mut sources.api) => {
                    match self.api.answer(&self.bridge, request) {
                        Some(input) => input,
                        None => continue,
                    }
                }
                Some(reply) = sources.probes.recv() => {
                    let _ = reply.send(());
                    continue;
                }
                // The broker queue has room again for the devices still waiting for their
                // discovery or republish.
                () = self.mqtt.room(), if self.bridge.has_backlog() && !self.mqtt.has_room() => {
                    self.carry_out();
                    continue;
                }
                Some(status) = history_changed(&mut sources.history) => Input::History(status),
                line = self.log_lines.recv() => {
                    self.publish_log_line(line);
                    continue;
                }
                () = tick.fired() => Input::Tick,
            };
            if let Some(listening) = self.api.listening_changed() {
                self.bridge
                    .handle(Now::system(), Input::StreamListeners(listening));
            }
            self.bridge.handle(Now::system(), input);
            self.carry_out();
            self.update_status();
            if self.restart {
                tracing::info!("restarting on request");
                return Ok(());
            }
        }
    }

    /// One log line to `<base>/bridge/logging` (QoS 1 like every topic here, not retained), while
    /// the broker is connected; lines a slow broker made us miss are counted in one line.
    fn publish_log_line(
        &mut self,
        line: Result<crate::telemetry::LogLine, tokio::sync::broadcast::error::RecvError>,
    ) {
        use tokio::sync::broadcast::error::RecvError;
        let line = match line {
            Ok(line) => line,
            Err(RecvError::Lagged(missed)) => crate::telemetry::LogLine {
                level: "warn",
                message: format!("{missed} log lines were not published here"),
            },
            // The sender lives as long as the process.
            Err(RecvError::Closed) => return,
        };
        if !self.mqtt.is_connected() {
            return;
        }
        let Ok(payload) = serde_json::to_string(&line) else {
            return;
        };
        self.mqtt.publish(Publish {
            topic: self.bridge.topics().bridge_logging(),
            payload,
            retain: false,
            qos: Qos::AtLeastOnce,
        });
    }

    /// Hands the bridge the cooks that were running when the daemon last stopped, the heating
    /// rates of past cooks and the plans still pending, before
    /// the cloud's first state (cloud events wait in their channel meanwhile). A history that
    /// cannot be read only costs that: the cooks of the last run stay open in it.
    async fn resume_cooks(&mut self) {
        let Some(history) = &self.history else {
            return;
        };
        match history.open_cooks().await {
            Ok(cooks) if cooks.is_empty() => {}
            Ok(cooks) => {
                tracing::info!("{} cook(s) of the last run to continue", cooks.len());
                self.bridge.handle(Now::system(), Input::ResumeCooks(cooks));
            }
            Err(e) => tracing::warn!("the cooks of the last run cannot be read: {e}"),
        }
        // Before the plans: a resumed plan's estimate may need them.
        match history
            .heating_rates_by_device(crate::bridge::HEATING_SAMPLES_KEPT)
            .await
        {
            Ok(devices) => {
                for (device, rates) in devices {
                    let rates = rates
                        .iter()
                        .map(|r| HeatSample {
                            target_c: r.to_c,
                            per_minute: r.per_minute(),
                        })
                        .collect();
                    self.bridge.handle(
                        Now::system(),
                        Input::HeatingRates {
                            device: device.into(),
                            rates,
                        },
                    );
                }
            }
            Err(e) => tracing::warn!("the heating rates of past cooks cannot be read: {e}"),
        }
        match history.pending_plans().await {
            Ok(plans) if plans.is_empty() => {}
            Ok(plans) => {
                tracing::info!("{} plan(s) of the last run to continue", plans.len());
                self.bridge.handle(Now::system(), Input::ResumePlans(plans));
            }
            Err(e) => tracing::warn!("the plans of the last run cannot be read: {e}"),
        }
    }

    /// Metrics that follow the cloud link.
    fn observe_cloud(&mut self, event: &CloudEvent) {
        if let CloudEvent::Link(link) = event {
            let up = *link == LinkState::Up;
            self.metrics.cloud_link(up);
            if up {
                if self.cloud_was_up {
                    self.metrics.cloud_reconnect();
                }
                self.cloud_was_up = true;
            }
        }
    }

    /// Does what the bridge asked for, without awaiting anything; then builds the backlog's
    /// bulk publishes while the broker queue has room, so a start-up or republish with
    /// thousands of devices streams instead of building everything at once.
    pub(super) fn carry_out(&mut self) {
        loop {
            self.carry_out_ready();
            let pulled = self.bridge.has_backlog()
                && self.mqtt.has_room()
                && self.bridge.pull_backlog(Now::system());
            if !pulled {
                return;
            }
        }
    }

    fn carry_out_ready(&mut self) {
        while let Some(output) = self.bridge.poll_output() {
            match output {
                Output::Publish(publish) => {
                    self.metrics.publish();
                    self.mqtt.publish(publish);
                }
                Output::Subscribe(filters) => self.mqtt.subscribe(filters),
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
                Output::Reply { ticket, response } => self.api.reply(ticket, &response),
                Output::Stream(item) => self.api.broadcast(item),
                Output::Record(record) => {
                    if let Some(history) = &self.history {
                        history.record(record);
                    }
                }
                Output::CommandDone { code, took } => self
                    .metrics
                    .command_finished(code.map(|c| c.as_str()), took),
                Output::ReconnectCloud => {
                    tracing::info!("reconnecting to the Anova cloud on request");
                    self.cloud.reconnect();
                }
                Output::SetLogLevel(level) => {
                    if let Err(e) = crate::telemetry::set_level(level) {
                        tracing::warn!("the log level stays: {e:#}");
                    }
                }
                Output::Restart => self.restart = true,
            }
        }
    }

    /// The publishes of a stop, each waiting for room in the queue to the broker; anything
    /// else the bridge still wanted is moot now.
    pub(super) async fn publish_last_words(&mut self) {
        while let Some(output) = self.bridge.poll_output() {
            if let Output::Publish(publish) = output {
                self.metrics.publish();
                self.mqtt.publish_waiting(publish).await;
            }
        }
    }

    /// Publishes the health for `/healthz`, and sends `STATUS=` when the line changed, after
    /// anything they show may have changed (the links, the devices' availability, the
    /// history), not after every message.
    fn update_status(&mut self) {
        if !self.bridge.take_status_dirty() {
            return;
        }
        let health = self.bridge.health();
        self.api.publish_health(&health);
        if !self.notifier.is_enabled() {
            return;
        }
        let line = health.status_line();
        if line != self.last_status {
            self.notifier.status(&line);
            self.last_status = line;
        }
    }
}

/// The cook history's status when it changes; never ready when history is off. A store whose
/// thread ended is reported once, then no longer watched.
async fn history_changed(status: &mut Option<watch::Receiver<HistoryStatus>>) -> Option<String> {
    let Some(rx) = status else {
        return std::future::pending().await;
    };
    match rx.changed().await {
        Ok(()) => Some(rx.borrow_and_update().as_text().to_owned()),
        Err(_) => {
            *status = None;
            Some("the history store stopped".to_owned())
        }
    }
}

/// The next API request; never ready when the API is off.
async fn next_request(api: &mut Option<mpsc::Receiver<ApiRequest>>) -> Option<ApiRequest> {
    match api {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
