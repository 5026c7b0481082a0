//! The Anova cloud WebSocket protocol pieces every device family shares.

use crate::anova::protocol::ApcCommand;
use std::fmt;

/// A command for the cloud, of any device family.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudCommand {
    /// A sous-vide cooker command (`CMD_APC_*`).
    Cooker(ApcCommand),
}

impl CloudCommand {
    /// The `command` text, e.g. `CMD_APC_START`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Cooker(c) => c.name().as_str(),
        }
    }

    /// The device this command addresses (`cookerId`).
    pub fn device_id(&self) -> &str {
        match self {
            Self::Cooker(c) => &c.cooker().cooker_id,
        }
    }

    /// The whole frame: `{"command", "requestId", "payload"}`.
    pub fn to_frame(&self, request_id: &str) -> String {
        match self {
            Self::Cooker(c) => c.to_frame(request_id),
        }
    }
}

impl fmt::Display for CloudCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ApcCommand> for CloudCommand {
    fn from(command: ApcCommand) -> Self {
        Self::Cooker(command)
    }
}
