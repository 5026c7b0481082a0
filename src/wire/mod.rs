//! The Anova cloud WebSocket protocol pieces every device family shares
//! (`wss://devices.anovaculinary.io`).
//!
//! Every frame is one JSON text frame. Server → client frames are
//! `{"command": "EVENT_…" | "RESPONSE", "payload": …}` (a `RESPONSE` also carries `requestId`);
//! client → server frames are `{"command": "CMD_…", "requestId": "…", "payload": {…}}`.
//!
//! **Never fail a whole frame on something new.** Unknown event names become
//! [`Event::Unknown`], unknown fields are ignored, and every enum has an `Unknown(String)` case
//! that keeps the value verbatim; numbers are read leniently (`lenient`).
//!
//! Each family's bodies and commands live with the family (`crate::sous_vide::wire`,
//! `crate::oven::wire`); this
//! module holds the envelope and dispatch (`event`), responses, device types and units, and
//! [`CloudCommand`], the command of any family.

pub(crate) mod device;
pub(crate) mod event;
pub(crate) mod lenient;
pub(crate) mod payload;
mod response;

pub use crate::ids::CloudId;
pub use device::{Celsius, DeviceRef, DeviceType, Generation, TemperatureUnit};
pub use event::{
    DeviceListEntry, DeviceRemoved, Event, FirmwareVersion, Ota, Subscription, UserState,
};
pub use lenient::Unread;
pub use payload::ProtocolError;
pub use response::Response;

use crate::oven::wire::ApoCommand;
use crate::sous_vide::wire::ApcCommand;
use std::fmt;

/// A command for the cloud, of any device family.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudCommand {
    /// A sous-vide cooker command (`CMD_APC_*`).
    Cooker(ApcCommand),
    /// An oven command (`CMD_APO_*`).
    Oven(ApoCommand),
}

impl CloudCommand {
    /// The `command` text, e.g. `CMD_APC_START`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Cooker(c) => c.name().as_str(),
            Self::Oven(c) => c.name(),
        }
    }

    /// True for a start (`CMD_APC_START`, `CMD_APO_START`): it begins a cook, or begins the
    /// running one again with new values.
    pub fn starts_a_cook(&self) -> bool {
        matches!(self.name(), "CMD_APC_START" | "CMD_APO_START")
    }

    /// True for a stop (`CMD_APC_STOP`, `CMD_APO_STOP`).
    pub fn stops_a_cook(&self) -> bool {
        matches!(self.name(), "CMD_APC_STOP" | "CMD_APO_STOP")
    }

    /// The device this command addresses (`cookerId`).
    pub fn device_id(&self) -> &CloudId {
        match self {
            Self::Cooker(c) => &c.cooker().cloud_id,
            Self::Oven(c) => &c.device().cloud_id,
        }
    }

    /// The whole frame: `{"command", "requestId", "payload"}`.
    pub fn to_frame(&self, request_id: &str) -> String {
        match self {
            Self::Cooker(c) => c.to_frame(request_id),
            Self::Oven(c) => c.to_frame(request_id),
        }
    }
}

impl fmt::Display for CloudCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ApoCommand> for CloudCommand {
    fn from(command: ApoCommand) -> Self {
        Self::Oven(command)
    }
}

impl From<ApcCommand> for CloudCommand {
    fn from(command: ApcCommand) -> Self {
        Self::Cooker(command)
    }
}
