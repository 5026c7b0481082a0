//! The main loop's side of the local HTTP API: it answers the adapter's requests from the
//! bridge (reads at once; commands as bridge inputs with a ticket, answered when the bridge
//! replies) and passes stream messages on.

use crate::bridge::{ApiTicket, Bridge, Input};
use crate::command::Response;
use crate::http::{ApiHandle, ApiRequest, CommandReply, Health, StreamItem};
use crate::ids::TopicId;
use std::collections::HashMap;
use tokio::sync::oneshot;

/// The API as the main loop sees it.
#[derive(Default)]
pub(super) struct Api {
    /// `None` when `[http]` is off.
    handle: Option<ApiHandle>,
    /// Commands waiting for the bridge's response.
    pending: HashMap<ApiTicket, oneshot::Sender<Option<CommandReply>>>,
    next_ticket: u64,
    /// Stream listeners, as last told to the bridge.
    listening: bool,
}

impl Api {
    /// The API behind `handle`.
    pub(super) fn new(handle: ApiHandle) -> Self {
        Self {
            handle: Some(handle),
            ..Self::default()
        }
    }

    /// Answers a request; a command becomes a bridge input.
    pub(super) fn answer(&mut self, bridge: &Bridge, request: ApiRequest) -> Option<Input> {
        // A requester that gave up has dropped its receiver; its answer is not needed.
        match request {
            ApiRequest::Devices { reply } => {
                let _ = reply.send(bridge.device_views());
            }
            ApiRequest::Device { id, reply } => {
                let _ = reply.send(bridge.device_view(&TopicId::from(id)));
            }
            ApiRequest::Schedules { reply } => {
                let _ = reply.send(serde_json::Value::Array(bridge.schedules()));
            }
            ApiRequest::History { id, reply } => {
                let _ = reply.send(bridge.device_history(&TopicId::from(id)));
            }
            ApiRequest::Command {
                source,
                device,
                payload,
                reply,
            } => {
                // The path names a device by its topic id.
                let device = TopicId::from(device);
                if !bridge.has_device(&device) {
                    let _ = reply.send(None);
                    return None;
                }
                let ticket = ApiTicket(self.next_ticket);
                self.next_ticket += 1;
                self.pending.insert(ticket, reply);
                return Some(Input::ApiCommand {
                    ticket,
                    source,
                    device,
                    payload: payload.to_vec(),
                });
            }
        }
        None
    }

    /// Publishes the bridge's health for `/healthz`.
    pub(super) fn publish_health(&self, health: &crate::bridge::Health) {
        if let Some(handle) = &self.handle {
            handle.publish_health(Health {
                cloud: health.cloud.as_str().to_owned(),
                mqtt_connected: health.broker_connected,
                devices: health.devices,
                online: health.online,
                history: health.history.clone(),
            });
        }
    }

    /// The bridge answered an API command.
    pub(super) fn reply(&mut self, ticket: ApiTicket, response: &Response) {
        if let Some(reply) = self.pending.remove(&ticket) {
            let _ = reply.send(Some(CommandReply {
                code: response.code().map(|c| c.as_str().to_owned()),
                body: response.to_json(),
            }));
        }
    }

    /// A stream message for whoever listens.
    pub(super) fn broadcast(&self, item: StreamItem) {
        if let Some(handle) = &self.handle {
            handle.broadcast(item);
        }
    }

    /// `Some(listening)` when stream listeners came or went since the last call.
    pub(super) fn listening_changed(&mut self) -> Option<bool> {
        let now = self
            .handle
            .as_ref()
            .is_some_and(ApiHandle::has_stream_clients);
        (now != self.listening).then(|| {
            self.listening = now;
            now
        })
    }
}
