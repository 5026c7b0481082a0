//! The cloud link as the bridge reports it: `bridge/info`'s `cloud`, `reconnects` and
//! `last_error`, and the bridge events of §3.

use crate::cloud::LinkState;
use crate::ids::{CloudId, TopicId};
use serde::{Serialize, Serializer};

/// The cloud link as `bridge/info` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudStatus {
    /// Not connected yet, or reconnecting.
    Connecting,
    /// The cloud talks to us.
    Connected,
    /// The cloud refuses the token (kept while we retry).
    AuthFailed,
    /// The link dropped; a reconnect waits.
    Disconnected,
}

impl CloudStatus {
    /// The name `bridge/info`, the health check and `/healthz` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::AuthFailed => "auth_failed",
            Self::Disconnected => "disconnected",
        }
    }
}

impl Serialize for CloudStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A bridge event (`<base>/bridge/event`, `docs/interface.md` §3): `{"event": "<name>", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum BridgeEvent {
    /// The cloud link came up.
    CloudConnected,
    /// The cloud link dropped.
    CloudDisconnected {
        /// Why (never the token).
        reason: String,
    },
    /// The cloud refused the token.
    AuthFailed {
        /// What the cloud did.
        reason: String,
    },
    /// A device appeared on the account.
    DeviceAdded {
        /// Its topic id.
        id: TopicId,
        /// Its cloud id, named as in `bridge/devices`.
        #[serde(rename = "cooker_id")]
        cloud_id: CloudId,
        /// Its name.
        name: String,
        /// Its exact type.
        model: String,
    },
    /// A device left the account.
    DeviceRemoved {
        /// Its topic id.
        id: TopicId,
        /// Its cloud id, named as in `bridge/devices`.
        #[serde(rename = "cooker_id")]
        cloud_id: CloudId,
    },
}

/// What the bridge knows about its cloud link.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) status: CloudStatus,
    ever_connected: bool,
    pub(crate) reconnects: u64,
    pub(crate) last_error: Option<String>,
}

impl Link {
    pub(crate) fn new() -> Self {
        Self {
            status: CloudStatus::Connecting,
            ever_connected: false,
            reconnects: 0,
            last_error: None,
        }
    }

    /// True when commands can reach the cloud.
    pub(crate) fn up(&self) -> bool {
        self.status == CloudStatus::Connected
    }

    /// Applies a link change; returns the bridge event it is worth, if any.
    pub(crate) fn change(&mut self, link: LinkState) -> Option<BridgeEvent> {
        let before = self.status;
        match link {
            LinkState::Connecting => {
                // Keep showing an auth failure while we retry; it is the useful fact.
                if before != CloudStatus::AuthFailed {
                    self.status = CloudStatus::Connecting;
                }
                None
            }
            LinkState::Up => {
                self.status = CloudStatus::Connected;
                if self.ever_connected {
                    self.reconnects += 1;
                }
                self.ever_connected = true;
                Some(BridgeEvent::CloudConnected)
            }
            LinkState::Down { reason } => {
                self.status = CloudStatus::Disconnected;
                self.last_error = Some(reason.clone());
                (before == CloudStatus::Connected)
                    .then_some(BridgeEvent::CloudDisconnected { reason })
            }
            LinkState::AuthFailed { reason } => {
                self.status = CloudStatus::AuthFailed;
                self.last_error = Some(reason.clone());
                (before != CloudStatus::AuthFailed).then_some(BridgeEvent::AuthFailed { reason })
            }
        }
    }
}
