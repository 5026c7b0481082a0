//! The interface between the HTTP adapter and the daemon's main loop.
//!
//! The main loop owns the sans-IO bridge and nothing else may touch it, so HTTP handlers only
//! send it [`ApiRequest`]s, each with a oneshot for the answer, over a bounded channel. Live
//! updates go the other way over a bounded broadcast channel of already serialised
//! [`StreamItem`]s: the main loop never waits for an HTTP client, and a client that falls
//! behind is disconnected by its own task.
//!
//! Every wait on the main loop is bounded: a full request queue is answered at once (`503`),
//! an answer that does not come in time is a `504`, never a hung request.
//!
//! `/healthz` does not ask at all: the main loop publishes its [`Health`] whenever something in
//! it changes ([`ApiHandle::publish_health`]), and the handler reads the last one, so a crowd
//! of unauthenticated probes never takes a place in the request queue from an API client.

use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How many requests may wait for the main loop before new ones are refused with `503`.
pub(super) const DEFAULT_REQUEST_QUEUE: usize = 32;

/// How many stream messages the broadcast channel holds. A client more than this many
/// messages behind is disconnected (it would otherwise miss some).
pub(super) const DEFAULT_STREAM_BUFFER: usize = 256;

/// What HTTP handlers ask of the daemon's main loop. Answer every request once, through its
/// `reply`; a dropped `reply` is an error for the caller (`503`), never a hang. The sender may
/// be gone by the time the answer is ready (the client left): ignore the send error.
#[derive(Debug)]
pub enum ApiRequest {
    /// Every device as in `<base>/bridge/devices`, each with its current `state` (a JSON
    /// array).
    Devices {
        /// Where the array goes.
        reply: oneshot::Sender<serde_json::Value>,
    },
    /// One device as in `bridge/devices`, with its `state`; `None` for an unknown id.
    Device {
        /// The device id of the topics (`<base>/<id>/…`).
        id: String,
        /// Where the device goes.
        reply: oneshot::Sender<Option<serde_json::Value>>,
    },
    /// The current cook's temperature history of one device, for the chart; `None` for an
    /// unknown id. The shape is `DeviceHistory` in the OpenAPI document: `{"device": id,
    /// "started_at": RFC 3339 or null, "interval_s": seconds, "points": [[seconds since
    /// started_at, temperature °C or null, target °C or null], …]}`, at most a few hundred
    /// points.
    History {
        /// The device id.
        id: String,
        /// Where the history goes.
        reply: oneshot::Sender<Option<serde_json::Value>>,
    },
    /// Every pending plan (`docs/interface.md` §8.2), as `<base>/<id>/schedule` shows it (a JSON
    /// array).
    Schedules {
        /// Where the array goes.
        reply: oneshot::Sender<serde_json::Value>,
    },
    /// A command body exactly as on `<base>/<id>/set`, to run through the same validation,
    /// queue, rate limit and confirmation as MQTT commands. The reply is the same response
    /// object as on `<base>/<id>/response`; `None` when `device` is not a known device.
    Command {
        /// Who sends it: `http` for the REST API and the stream; the MCP server says `mcp`,
        /// plans `schedule` (recorded with the command and a cook it starts).
        source: crate::appliance::record::Source,
        /// The device id.
        device: String,
        /// The body as received (not checked here: the bridge answers `invalid_json`).
        payload: bytes::Bytes,
        /// Where the response goes.
        reply: oneshot::Sender<Option<CommandReply>>,
    },
}

/// The links' health, for `/healthz`: what the main loop last published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `connected`, `connecting`, `auth_failed` or `disconnected` (as in `bridge/info`).
    pub cloud: String,
    /// The MQTT broker connection is up.
    pub mqtt_connected: bool,
    /// Devices known.
    pub devices: usize,
    /// Devices available (the rule of `<base>/<id>/availability`).
    pub online: usize,
    /// The cook history: `ok`, `disabled`, `opening`, or the error (`docs/interface.md` §7). It
    /// does not make the daemon unhealthy: a broken disk degrades history, not the bridge.
    pub history: String,
}

impl Default for Health {
    /// Before the main loop published anything: nothing is connected yet.
    fn default() -> Self {
        Self {
            cloud: "connecting".to_owned(),
            mqtt_connected: false,
            devices: 0,
            online: 0,
            history: "opening".to_owned(),
        }
    }
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReply {
    /// `None` for `ok`, else the error code of the response (`docs/interface.md` §3.3); it decides
    /// the HTTP status.
    pub code: Option<String>,
    /// The response object as JSON text, exactly as published on `<base>/<id>/response`.
    pub body: String,
}

/// One message for stream clients, serialised once by the daemon for every client:
/// `{"type":"state","device":…,"state":{…}}`, `{"type":"event","device":…,"event":{…}}`,
/// `{"type":"bridge",…}` or `{"type":"devices","devices":[…]}`.
pub type StreamItem = Arc<str>;

/// The handle HTTP handlers use to reach the main loop. Cheap to clone.
#[derive(Clone)]
pub struct ApiHandle {
    /// Requests to the main loop (bounded).
    requests: mpsc::Sender<ApiRequest>,
    /// Live messages to stream clients (bounded; lagging receivers lose messages and are
    /// disconnected).
    stream: broadcast::Sender<StreamItem>,
    /// The daemon's metrics, rendered by `/metrics`.
    metrics: Arc<Metrics>,
    /// The links' health as the main loop last published it.
    health: watch::Sender<Health>,
}

/// Why the main loop gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackendError {
    /// Its request queue is full.
    Busy,
    /// It did not answer in time.
    NoAnswer,
    /// It is gone (the daemon is stopping) or dropped the request.
    Gone,
}

impl ApiHandle {
    /// A handle with the default queue sizes, and the receiving end the main loop reads.
    pub fn new(metrics: Arc<Metrics>) -> (Self, mpsc::Receiver<ApiRequest>) {
        Self::with_capacity(metrics, DEFAULT_REQUEST_QUEUE, DEFAULT_STREAM_BUFFER)
    }

    /// A handle with `requests` queued requests at most and a stream buffer of `stream`
    /// messages (both at least 1).
    pub fn with_capacity(
        metrics: Arc<Metrics>,
        requests: usize,
        stream: usize,
    ) -> (Self, mpsc::Receiver<ApiRequest>) {
        let (request_tx, request_rx) = mpsc::channel(requests.max(1));
        let (stream_tx, _) = broadcast::channel(stream.max(1));
        let handle = Self {
            requests: request_tx,
            stream: stream_tx,
            metrics,
            health: watch::Sender::new(Health::default()),
        };
        (handle, request_rx)
    }

    /// Sends `item` to every stream client. Never blocks and never fails: without clients it
    /// is dropped.
    pub fn broadcast(&self, item: StreamItem) {
        let _ = self.stream.send(item);
    }

    /// True while at least one stream client listens; the daemon may skip serialising stream
    /// items otherwise.
    pub fn has_stream_clients(&self) -> bool {
        self.stream.receiver_count() > 0
    }

    /// Publishes the links' health for `/healthz` (the main loop calls it whenever something
    /// in it may have changed; an unchanged health wakes nobody).
    pub fn publish_health(&self, health: Health) {
        self.health.send_if_modified(|current| {
            let changed = *current != health;
            if changed {
                *current = health;
            }
            changed
        });
    }

    /// The health last published.
    pub(crate) fn health(&self) -> Health {
        self.health.borrow().clone()
    }

    /// The daemon's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// A new receiver of stream items, from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<StreamItem> {
        self.stream.subscribe()
    }

    /// Requests waiting for the main loop.
    pub(crate) fn waiting_requests(&self) -> usize {
        self.requests.max_capacity() - self.requests.capacity()
    }

    /// Sends the request `make` builds around a fresh oneshot, and waits at most `wait` for
    /// the answer.
    pub(crate) async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> ApiRequest,
        wait: Duration,
    ) -> Result<T, BackendError> {
        let answer = self.send(make)?;
        match tokio::time::timeout(wait, answer).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(BackendError::Gone),
            Err(_) => Err(BackendError::NoAnswer),
        }
    }

    /// Sends the request without waiting for room in the queue; the answer comes on the
    /// returned receiver.
    pub(crate) fn send<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> ApiRequest,
    ) -> Result<oneshot::Receiver<T>, BackendError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .try_send(make(reply))
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => BackendError::Busy,
                mpsc::error::TrySendError::Closed(_) => BackendError::Gone,
            })?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_way_of_not_answering_is_an_error() {
        let (handle, mut requests) = ApiHandle::with_capacity(Arc::new(Metrics::new()), 1, 4);
        let wait = Duration::from_millis(50);

        // Nobody reads: the first request waits in the queue and times out; the second finds
        // the queue full.
        let first = handle
            .ask(|reply| ApiRequest::Devices { reply }, wait)
            .await;
        assert_eq!(first.unwrap_err(), BackendError::NoAnswer);
        assert_eq!(handle.waiting_requests(), 1);
        let second = handle
            .ask(|reply| ApiRequest::Devices { reply }, wait)
            .await;
        assert_eq!(second.unwrap_err(), BackendError::Busy);

        // The loop drops a request without answering.
        drop(requests.recv().await);
        let answer = handle.send(|reply| ApiRequest::Devices { reply }).unwrap();
        drop(requests.recv().await);
        assert!(answer.await.is_err());

        // The loop answers.
        let asked = tokio::spawn({
            let handle = handle.clone();
            async move {
                handle
                    .ask(|reply| ApiRequest::Devices { reply }, wait * 20)
                    .await
            }
        });
        match requests.recv().await {
            Some(ApiRequest::Devices { reply }) => reply.send(serde_json::json!([])).unwrap(),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(asked.await.unwrap(), Ok(serde_json::json!([])));

        // The loop is gone.
        drop(requests);
        let gone = handle
            .ask(|reply| ApiRequest::Devices { reply }, wait)
            .await;
        assert_eq!(gone.unwrap_err(), BackendError::Gone);
    }

    #[test]
    fn health_is_read_without_asking_the_main_loop() {
        let (handle, _requests) = ApiHandle::with_capacity(Arc::new(Metrics::new()), 1, 4);
        assert_eq!(handle.health(), Health::default());
        let healthy = Health {
            cloud: "connected".to_owned(),
            mqtt_connected: true,
            devices: 2,
            online: 2,
            history: "ok".to_owned(),
        };
        handle.publish_health(healthy.clone());
        assert_eq!(handle.clone().health(), healthy);
        assert_eq!(handle.waiting_requests(), 0);
    }

    #[test]
    fn broadcast_without_clients_is_dropped() {
        let (handle, _requests) = ApiHandle::new(Arc::new(Metrics::new()));
        assert!(!handle.has_stream_clients());
        handle.broadcast(Arc::from("{}"));
        let mut rx = handle.subscribe();
        assert!(handle.has_stream_clients());
        handle.broadcast(Arc::from("{\"type\":\"bridge\"}"));
        assert_eq!(&*rx.try_recv().unwrap(), "{\"type\":\"bridge\"}");
    }
}
