//! What the cloud client reports, as plain data: the bridge core's cloud inputs. Kept apart
//! from the async client so the core depends on these types only.

use crate::appliance::{DeviceInfo, Firmware};
use crate::ids::CloudId;
use crate::oven::state::OvenState;
use crate::sous_vide::state::CookerState;

/// A device's normalised state, of its family.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceState {
    /// A sous-vide cooker's.
    Cooker(CookerState),
    /// A Precision Oven's.
    Oven(Box<OvenState>),
}

impl DeviceState {
    /// The Anova `type` the state was normalised as.
    pub fn model(&self) -> &str {
        match self {
            Self::Cooker(s) => &s.model,
            Self::Oven(s) => &s.model,
        }
    }

    /// True while a cook runs.
    pub fn cooking(&self) -> bool {
        match self {
            Self::Cooker(s) => s.cooking,
            Self::Oven(s) => s.cooking,
        }
    }
}

impl From<CookerState> for DeviceState {
    fn from(state: CookerState) -> Self {
        Self::Cooker(state)
    }
}

impl From<OvenState> for DeviceState {
    fn from(state: OvenState) -> Self {
        Self::Oven(Box::new(state))
    }
}

/// What the client tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudEvent {
    /// The link to the cloud changed.
    Link(LinkState),
    /// A device appeared, or its name or type changed.
    DeviceAdded(DeviceInfo),
    /// A device was unpaired (or vanished from a fresh device list).
    DeviceRemoved {
        /// The cloud's id of the device.
        cloud_id: CloudId,
    },
    /// After each device list: the registry is now authoritative (lets the bridge clean up
    /// devices that vanished while we were down).
    DeviceListSynced,
    /// A device pushed its state.
    State {
        /// The cloud's id of the device.
        cloud_id: CloudId,
        /// The normalised state.
        state: DeviceState,
    },
    /// What the cloud says of a device's firmware: installed, offered (`EVENT_APC_WIFI_VERSION`,
    /// `EVENT_APO_WIFI_FIRMWARE_UPDATE`). Handed on for listed devices only, after their
    /// `DeviceAdded`.
    Firmware {
        /// The cloud's id of the device.
        cloud_id: CloudId,
        /// Installed and offered versions.
        firmware: Firmware,
    },
    /// No push from this device for its staleness limit; its next State means it is fresh
    /// again.
    Stale {
        /// The cloud's id of the device.
        cloud_id: CloudId,
    },
}

/// The state of the link to the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// A connection attempt is in progress (or the socket is open but the cloud has not
    /// spoken yet).
    Connecting,
    /// The cloud is talking to us; commands can be sent.
    Up,
    /// No connection; the client is waiting to reconnect.
    Down {
        /// Why the last connection or attempt ended (never contains the token).
        reason: String,
    },
    /// The cloud seems to refuse the token; retried slowly.
    AuthFailed {
        /// What the cloud did.
        reason: String,
    },
}

/// Why a command did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// The link was not up when the command was sent; it was not queued.
    #[error("not connected to the Anova cloud")]
    NotConnected,
    /// The connection dropped before the cloud answered; the command may or may not have
    /// been applied.
    #[error("the connection to the Anova cloud dropped before it answered")]
    Disconnected,
    /// The cloud did not answer within the command timeout.
    #[error("the Anova cloud did not answer in time")]
    Timeout,
    /// The cloud answered with an error; its text is kept verbatim.
    #[error("the Anova cloud rejected the command: {0}")]
    Rejected(String),
    /// The client is shutting down.
    #[error("the Anova cloud client is shutting down")]
    Shutdown,
}
