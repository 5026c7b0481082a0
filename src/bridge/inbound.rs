//! What arrives over MQTT or the API: commands for devices (validated envelope, then the
//! device's family), bridge requests, Home Assistant's birth, and our own retained
//! `bridge/devices` from an earlier run.

use super::io::{ApiTicket, Now, Origin, Output};
use super::machine::{Caller, Request};
use super::requests::{self, BridgeOp};
use super::timers::Timer;
use super::{Bridge, HA_REPUBLISH_DELAY, REFRESH_GRACE};
use crate::appliance::record::Source;
use crate::appliance::Kind;
use crate::command::{
    id_of, parse_envelope, parse_plain, retained_refusal, CallerId, CommandError, ErrorCode,
    Outcome, Response,
};
use crate::ids::{CloudId, TopicId};
use crate::topics::Incoming;
use crate::wire::DeviceType;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// Refuses a retained message on command or request `topic`, and says so in the log too: the
/// response is not retained, and whoever left the message there may not be listening when it
/// is refused again at the next start.
fn refuse_retained(topic: String) -> CommandError {
    tracing::warn!(
        "refused the retained message on {topic} (commands are never taken from retained \
         messages); clear it with: mosquitto_pub -r -n -t '{topic}'"
    );
    retained_refusal(&topic)
}

impl Bridge {
    pub(super) fn on_mqtt_connected(&mut self, now: Now) {
        self.out.mqtt_connected = true;
        self.discovery.broker_connected();
        let mut filters = self.topics.subscriptions();
        if let Some(ha) = &self.config.homeassistant {
            filters.push(ha.status_topic.clone());
        }
        self.out.push(Output::Subscribe(filters));
        self.republish_all(now);
        self.reschedule_all();
        self.look_at_resumed_plans(now);
    }

    pub(super) fn on_mqtt(&mut self, now: Now, topic: &str, payload: &[u8], retained: bool) {
        let ha_status = self
            .config
            .homeassistant
            .as_ref()
            .is_some_and(|ha| ha.status_topic == topic);
        if ha_status {
            // A retained birth is an old one; we republish on every connect anyway.
            if !retained && payload.trim_ascii().eq_ignore_ascii_case(b"online") {
                tracing::info!("Home Assistant came online; republishing discovery and state");
                self.timers
                    .set(Timer::Republish, now.instant + HA_REPUBLISH_DELAY);
            }
            return;
        }
        if retained && !payload.is_empty() && self.discovery.watches(topic) {
            tracing::info!(topic, "clearing a device-mode discovery config left from before the switch to entity mode");
            self.out.publish(topic.to_owned(), String::new(), true);
            return;
        }
        let incoming = self.topics.parse(topic);
        if payload.is_empty()
            && matches!(
                incoming,
                Some(Incoming::Set { .. } | Incoming::SetKey { .. })
            )
        {
            // An empty message is how a retained command is cleared, not a command.
            tracing::debug!(topic, "empty payload on a command topic ignored");
            return;
        }
        match incoming {
            Some(Incoming::Set { id }) => {
                let id = TopicId::from(id);
                self.on_json_command(now, &id, Origin::Mqtt, payload, retained);
            }
            Some(Incoming::SetKey { id, key }) => {
                let (id, key) = (TopicId::from(id), key.to_owned());
                self.on_key_command(now, &id, &key, payload, retained);
            }
            Some(Incoming::Get { id }) => {
                let id = TopicId::from(id);
                self.on_get(now, &id, retained);
            }
            Some(Incoming::BridgeRequest { op }) => {
                let op = op.to_owned();
                self.on_bridge_request(now, &op, payload, retained);
            }
            // Our own list comes back to us (we subscribe for the previous run's): with
            // thousands of devices it is megabytes, not worth parsing again.
            Some(Incoming::BridgeDevices)
                if self.last_devices.as_deref().map(str::as_bytes) == Some(payload) => {}
            Some(Incoming::BridgeDevices) if retained => self.on_previous_devices(payload),
            Some(Incoming::BridgeDevices) => {}
            None => tracing::debug!(
                topic,
                "message on a topic the bridge does not serve; ignored"
            ),
        }
    }

    pub(super) fn on_api_command(
        &mut self,
        now: Now,
        ticket: ApiTicket,
        source: Source,
        device: &TopicId,
        payload: &[u8],
    ) {
        self.on_json_command(now, device, Origin::Api(ticket, source), payload, false);
    }

    /// A failure answered before any device looked at the command.
    pub(super) fn refuse(
        &mut self,
        now: Now,
        device: &TopicId,
        origin: Origin,
        id: Option<CallerId>,
        error: CommandError,
    ) {
        let id = id.unwrap_or_else(|| {
            CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()))
        });
        tracing::info!(%device, id = %id.text(), code = %error.code, "command refused: {}", error.message);
        let response = Response::failed(id, error);
        self.out.respond(
            origin,
            self.topics.response(device),
            response,
            Duration::ZERO,
        );
    }

    pub(super) fn unknown_device(&self, id: &TopicId) -> CommandError {
        let id = id.as_str();
        if id.is_empty() {
            return CommandError::new(
                ErrorCode::DeviceOffline,
                format!(
                    "the topic names no device ({base}//set); publish to {base}/<id>/set with \
                     an id from {base}/bridge/devices",
                    base = self.topics.base()
                ),
            );
        }
        // A large account would make the message as long as its device list.
        const NAMED: usize = 20;
        let known: Vec<&str> = self
            .devices
            .keys()
            .take(NAMED)
            .map(TopicId::as_str)
            .collect();
        let more = self.devices.len().saturating_sub(NAMED);
        CommandError::new(
            ErrorCode::DeviceOffline,
            if known.is_empty() {
                format!("no device {id:?} is known (no devices yet)")
            } else if more > 0 {
                format!(
                    "no device {id:?} is known; the devices are {} and {more} more",
                    known.join(", ")
                )
            } else {
                format!(
                    "no device {id:?} is known; the devices are {}",
                    known.join(", ")
                )
            },
        )
    }

    pub(super) fn on_json_command(
        &mut self,
        now: Now,
        device: &TopicId,
        origin: Origin,
        payload: &[u8],
        retained: bool,
    ) {
        if retained {
            let error = refuse_retained(self.topics.set(device));
            return self.refuse(now, device, origin, id_of(payload), error);
        }
        let envelope = match parse_envelope(payload) {
            Ok(envelope) => envelope,
            Err(refusal) => return self.refuse(now, device, origin, refusal.id, refusal.error),
        };
        if !self.devices.contains_key(device) {
            let error = self.unknown_device(device);
            return self.refuse(now, device, origin, envelope.id, error);
        }
        let id = envelope.id.unwrap_or_else(|| {
            CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()))
        });
        let request = Request::Object(&envelope.fields);
        let caller = Caller {
            id,
            origin,
            arrived: now.instant,
            source: origin.source(),
            request: Value::Object(envelope.fields.clone()).to_string().into(),
            plan: None,
        };
        let ask = self.with_device(now, device, |d, ctx, out| {
            d.on_command(ctx, out, caller, request)
        });
        if let Some(Some(ask)) = ask {
            self.on_plan_ask(now, device, ask);
        }
    }

    pub(super) fn on_key_command(
        &mut self,
        now: Now,
        device: &TopicId,
        key: &str,
        payload: &[u8],
        retained: bool,
    ) {
        let origin = Origin::Mqtt;
        if retained {
            let error = refuse_retained(self.topics.set_key(device, key));
            return self.refuse(now, device, origin, None, error);
        }
        let text = match parse_plain(key, payload) {
            Ok(text) => text,
            Err(error) => return self.refuse(now, device, origin, None, error),
        };
        if !self.devices.contains_key(device) {
            let error = self.unknown_device(device);
            return self.refuse(now, device, origin, None, error);
        }
        let id = CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()));
        let request = Request::Key { key, text: &text };
        let mut echo = serde_json::Map::new();
        echo.insert(key.to_owned(), Value::from(text.as_str()));
        let caller = Caller {
            id,
            origin,
            arrived: now.instant,
            source: origin.source(),
            request: Value::Object(echo).to_string().into(),
            plan: None,
        };
        let ask = self.with_device(now, device, |d, ctx, out| {
            d.on_command(ctx, out, caller, request)
        });
        if let Some(Some(ask)) = ask {
            self.on_plan_ask(now, device, ask);
        }
    }

    /// Our retained `bridge/devices` from an earlier run: devices listed there but no longer
    /// on the account get their discovery and retained topics removed once the cloud's list
    /// is known; until then they are marked offline rather than left looking alive.
    pub(super) fn on_previous_devices(&mut self, payload: &[u8]) {
        let Ok(Value::Array(entries)) = serde_json::from_slice::<Value>(payload) else {
            return;
        };
        let ids: BTreeSet<CloudId> = entries
            .iter()
            .filter_map(|e| e.get("cooker_id").and_then(Value::as_str))
            .map(CloudId::from)
            .collect();
        // Only the family whose list completes the sync can say what left the account; an oven
        // of an earlier run is only marked offline (`Kind::list_completes_sync`).
        let synced: BTreeSet<CloudId> = entries
            .iter()
            .filter(|e| {
                let model = e.get("model").and_then(Value::as_str).unwrap_or_default();
                Kind::of(&DeviceType::new(model))
                    .unwrap_or(Kind::DEFAULT)
                    .list_completes_sync()
            })
            .filter_map(|e| e.get("cooker_id").and_then(Value::as_str))
            .map(CloudId::from)
            .collect();
        if self.synced {
            self.discovery.previous_run = Some(synced);
            self.clean_up_previous_run();
            return;
        }
        for cloud_id in &ids {
            if !self.ids.contains_key(cloud_id) {
                let id = TopicId::of(cloud_id);
                self.out
                    .publish(self.topics.availability(&id), "offline".into(), true);
            }
        }
        self.discovery.previous_run = Some(synced);
    }

    pub(super) fn clean_up_previous_run(&mut self) {
        let Some(previous) = self.discovery.previous_run.take() else {
            return;
        };
        for cloud_id in previous {
            if !self.ids.contains_key(&cloud_id) {
                tracing::info!(
                    %cloud_id,
                    "removing a device that left the account while we were away"
                );
                self.remove_retained(&TopicId::of(&cloud_id));
            }
        }
    }

    /// `<base>/<id>/get`: the device's availability and state, published again (retained, as
    /// always) whether they changed or not. A retained `get` would repeat at every start and
    /// is refused like a retained command; an unknown device is answered on its response topic.
    fn on_get(&mut self, now: Now, device: &TopicId, retained: bool) {
        if retained {
            let error = refuse_retained(self.topics.get(device));
            return self.refuse(now, device, Origin::Mqtt, None, error);
        }
        if !self.devices.contains_key(device) {
            let error = self.unknown_device(device);
            return self.refuse(now, device, Origin::Mqtt, None, error);
        }
        self.with_device(now, device, |d, ctx, out| d.publish(ctx, out, true));
    }

    pub(super) fn on_bridge_request(&mut self, now: Now, op: &str, payload: &[u8], retained: bool) {
        let topic = self.topics.bridge_response(op);
        let id = id_of(payload).unwrap_or_else(|| {
            CallerId::generated(self.out.ids.command_id(now.wall.unix_timestamp()))
        });
        let result = if retained {
            Err(refuse_retained(self.topics.bridge_request(op)))
        } else {
            requests::check_payload(payload)
                .and_then(|()| BridgeOp::parse(op))
                .map(|op| match op {
                    BridgeOp::HealthCheck => {
                        let uptime_s = (now.wall - self.started_at).whole_seconds().max(0);
                        Ok(serde_json::to_value(self.health().check(uptime_s))
                            .unwrap_or(Value::Null))
                    }
                    BridgeOp::Republish => {
                        self.republish_all(now);
                        // `cookers` is what earlier releases answered (it counted ovens
                        // too); it stays beside `devices` for whoever reads it.
                        Ok(json!({"devices": self.devices.len(), "cookers": self.devices.len()}))
                    }
                    BridgeOp::Refresh => {
                        self.timers
                            .set(Timer::RefreshGrace, now.instant + REFRESH_GRACE);
                        self.out.push(Output::ReconnectCloud);
                        Ok(json!({}))
                    }
                    BridgeOp::Options => requests::log_level_option(payload).map(|level| {
                        self.out.push(Output::SetLogLevel(level));
                        json!({"restart_required": false, "log": {"level": level}})
                    }),
                    BridgeOp::Restart if self.config.restart => {
                        self.out.push(Output::Restart);
                        Ok(json!({}))
                    }
                    BridgeOp::Restart => Err(CommandError::new(
                        ErrorCode::InvalidValue,
                        "restart is served by `anova2mqtt run` only (the demo's simulated \
                         cloud and broker do not outlive it: stop and start the demo instead)",
                    )),
                })
                .and_then(|result| result)
        };
        let outcome = match result {
            Ok(data) => Outcome::Data(data),
            Err(error) => Outcome::Failed(error),
        };
        let response = Response { id, outcome };
        self.out.publish(topic, response.to_json(), false);
    }
}
