//! Placeholder with the event contract of the cloud client; replaced when the client lands.

use super::model::{CookerInfo, CookerState};

/// What the client reports.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudEvent {
    /// The link changed.
    Link(LinkState),
    /// A cooker appeared.
    DeviceAdded(CookerInfo),
    /// A cooker vanished.
    DeviceRemoved {
        /// Which.
        cooker_id: String,
    },
    /// The registry is authoritative.
    DeviceListSynced {
        /// Every cooker.
        cooker_ids: Vec<String>,
    },
    /// A state push.
    State {
        /// Which.
        cooker_id: String,
        /// Normalised.
        state: CookerState,
    },
    /// No push for `stale_after`.
    Stale {
        /// Which.
        cooker_id: String,
    },
}

/// The link.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Connecting.
    Connecting,
    /// Up.
    Up,
    /// Down.
    Down {
        /// Why.
        reason: String,
    },
    /// Auth failed.
    AuthFailed {
        /// Why.
        reason: String,
    },
}

/// A command failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// Link down.
    #[error("not connected")]
    NotConnected,
    /// Lost.
    #[error("disconnected")]
    Disconnected,
    /// No response.
    #[error("timeout")]
    Timeout,
    /// Refused.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Shutting down.
    #[error("shutdown")]
    Shutdown,
}
