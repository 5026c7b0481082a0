//! The long-lived Anova cloud client.
//!
//! One task owns one WebSocket to the cloud for the life of the daemon and turns it into typed
//! [`CloudEvent`]s on a bounded channel; a cloneable [`CloudHandle`] sends commands and reads the
//! link state. The client must never need a restart (Home Assistant's integration does, after
//! drops and half-open sockets), so:
//! - every close, error, EOF or silent socket is routine: report the link down, back off with
//!   jitter, reconnect, and re-read the device list;
//! - a watchdog drops a socket on which nothing at all has arrived for a while, because the
//!   cloud has been seen leaving TCP connections half-open;
//! - a device that stops pushing (unplugged devices send nothing, not even an event) is
//!   reported [`CloudEvent::Stale`];
//! - a refused token is [`LinkState::AuthFailed`] and retried slowly, never in a tight loop;
//! - nothing is ever queued or re-sent on its own: a command either reaches the cloud now or
//!   fails at once.
//!
//! The pure bookkeeping (device registry, staleness, pending requests, URL) lives in small
//! sans-IO types under `client/`; `client/connection.rs` is the thin async loop around them.
//! The token travels in the URL, so the URL is only ever logged in its redacted form and every
//! library error text is scrubbed before it is logged or reported.

mod connection;
mod endpoint;
// The fuzz targets' way in (`fuzz/`, built with `--cfg fuzzing` by cargo fuzz only).
#[cfg(fuzzing)]
pub mod fuzzing;
mod pending;
mod registry;
mod staleness;

use crate::backoff::BackoffPolicy;
use crate::cloud::{CloudError, CloudEvent, LinkState};
use crate::secret::Secret;
use crate::wire::CloudCommand;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The real cloud endpoint.
pub const DEFAULT_URL: &str = "wss://devices.anovaculinary.io";

/// Everything the client needs; [`Default`] holds the production values (only `token` is
/// missing).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The cloud endpoint; `ws://` is allowed for the simulator and tests. The client appends
    /// its query parameters whether or not the URL already has a path or query.
    pub url: String,
    /// The Personal Access Token; sent only in the URL, never logged.
    pub token: Secret,
    /// Device families requested (`supportedAccessories`): `APC` cookers, `APO` ovens. The
    /// cloud requires `APC`; a user with no oven simply gets an empty oven list.
    pub accessories: Vec<String>,
    /// The `platform` query parameter the apps send.
    pub platform: String,
    /// Limit for DNS, TCP, TLS and the WebSocket upgrade together.
    pub connect_timeout: Duration,
    /// How long a command waits for its `RESPONSE`.
    pub command_timeout: Duration,
    /// A device with no state push for this long is reported [`CloudEvent::Stale`].
    pub stale_after: Duration,
    /// The connection is presumed dead when no frame at all arrives for this long.
    pub watchdog: Duration,
    /// How often we ping the cloud; a missing pong is never a reason to close by itself.
    pub ping_interval: Duration,
    /// The reconnect policy.
    pub backoff: BackoffPolicy,
    /// The wait between attempts once the token looks refused.
    pub auth_retry: Duration,
    /// How many connections in a row the cloud may close before sending anything until the
    /// token is presumed refused (the upgrade-then-close failure mode).
    pub auth_close_attempts: u32,
    /// Capacity of the event channel.
    pub event_capacity: usize,
    /// Where frames are counted (`anova2mqtt_cloud_frames_total`), when metrics are kept.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL.to_owned(),
            token: Secret::default(),
            accessories: vec!["APC".to_owned(), "APO".to_owned()],
            platform: "android".to_owned(),
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(10),
            stale_after: Duration::from_secs(5 * 60),
            watchdog: Duration::from_secs(2 * 60),
            ping_interval: Duration::from_secs(30),
            backoff: BackoffPolicy::default(),
            auth_retry: Duration::from_secs(5 * 60),
            auth_close_attempts: 3,
            event_capacity: 256,
            metrics: None,
        }
    }
}

/// One command on its way to the connection task.
#[derive(Debug)]
struct CommandRequest {
    command: CloudCommand,
    reply: oneshot::Sender<Result<(), CloudError>>,
}

/// How the owner talks to the running client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CloudHandle {
    requests: mpsc::Sender<CommandRequest>,
    reconnect: Arc<Notify>,
    link: watch::Receiver<LinkState>,
    shutdown: CancellationToken,
    command_timeout: Duration,
}

impl CloudHandle {
    /// Sends a command and waits for the cloud's `RESPONSE` (at most `command_timeout`).
    ///
    /// Fails at once with [`CloudError::NotConnected`] when the link is not up; nothing is
    /// ever queued for later. Success means the cloud acknowledged it, not that the device
    /// applied it: confirm through the next state.
    pub async fn send(&self, command: CloudCommand) -> Result<(), CloudError> {
        if self.shutdown.is_cancelled() {
            return Err(CloudError::Shutdown);
        }
        if !matches!(*self.link.borrow(), LinkState::Up) {
            return Err(CloudError::NotConnected);
        }
        let (reply, answer) = oneshot::channel();
        let exchange = async {
            self.requests
                .send(CommandRequest { command, reply })
                .await
                .map_err(|_| CloudError::Shutdown)?;
            // The task answers every request it takes; a dropped reply means it has ended.
            answer.await.map_err(|_| CloudError::Shutdown)?
        };
        // The task keeps its own deadline too (so its table never leaks); this one also covers
        // a task that is momentarily blocked on a full event channel.
        tokio::time::timeout(self.command_timeout, exchange)
            .await
            .unwrap_or(Err(CloudError::Timeout))
    }

    /// Drops the current connection and reconnects right away (the bridge's `refresh`); also
    /// cuts a backoff wait short.
    pub fn reconnect(&self) {
        self.reconnect.notify_one();
    }

    /// The current link state.
    pub fn link(&self) -> LinkState {
        self.link.borrow().clone()
    }
}

/// Starts the client on the current tokio runtime.
///
/// Returns the handle, the event stream and the task; the task ends after `shutdown` is
/// cancelled (it sends a close frame and fails commands in flight with
/// [`CloudError::Shutdown`]). The owner should keep draining the events: while the channel
/// is full the client stops reading the socket.
pub fn spawn(
    config: ClientConfig,
    shutdown: CancellationToken,
) -> (CloudHandle, mpsc::Receiver<CloudEvent>, JoinHandle<()>) {
    let (events_tx, events_rx) = mpsc::channel(config.event_capacity.max(1));
    let (requests_tx, requests_rx) = mpsc::channel(64);
    let (link_tx, link_rx) = watch::channel(LinkState::Connecting);
    let reconnect = Arc::new(Notify::new());
    let handle = CloudHandle {
        requests: requests_tx,
        reconnect: Arc::clone(&reconnect),
        link: link_rx,
        shutdown: shutdown.clone(),
        command_timeout: config.command_timeout,
    };
    let worker = connection::Worker::new(
        config,
        connection::Channels {
            events: events_tx,
            requests: requests_rx,
            reconnect,
            link: link_tx,
            shutdown,
        },
    );
    let task = tokio::spawn(worker.run());
    (handle, events_rx, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_can_be_shared_across_tasks() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<CloudHandle>();
    }

    #[test]
    fn defaults_are_the_production_values() {
        let config = ClientConfig::default();
        assert_eq!(config.url, DEFAULT_URL);
        assert_eq!(config.accessories, ["APC", "APO"]);
        assert_eq!(config.platform, "android");
        assert_eq!(config.watchdog, Duration::from_secs(120));
        assert_eq!(config.stale_after, Duration::from_secs(300));
        assert_eq!(config.auth_retry, Duration::from_secs(300));
        assert_eq!(format!("{config:?}").matches("[redacted]").count(), 1);
    }

    #[test]
    fn command_errors_read_well() {
        assert_eq!(
            CloudError::Rejected("invalid command".to_owned()).to_string(),
            "the Anova cloud rejected the command: invalid command"
        );
        assert_eq!(
            CloudError::NotConnected.to_string(),
            "not connected to the Anova cloud"
        );
    }
}
