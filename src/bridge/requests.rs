//! Bridge requests: `<base>/bridge/request/<op>` answered on `<base>/bridge/response/<op>`
//! (`docs/interface.md` §3).

use crate::command::{CommandError, ErrorCode};

/// The operations of `<base>/bridge/request/<op>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BridgeOp {
    /// Link health and counts.
    HealthCheck,
    /// Discovery and state, again.
    Republish,
    /// Reconnect to the cloud.
    Refresh,
}

impl BridgeOp {
    /// Every operation.
    pub(crate) const ALL: [BridgeOp; 3] = [Self::HealthCheck, Self::Republish, Self::Refresh];

    /// The `<op>` level of the topic.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::HealthCheck => "health_check",
            Self::Republish => "republish",
            Self::Refresh => "refresh",
        }
    }

    /// Reads the `<op>` level.
    pub(crate) fn parse(op: &str) -> Result<Self, CommandError> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == op)
            .ok_or_else(|| {
                CommandError::new(
                    ErrorCode::UnknownKey,
                    format!(
                        "unknown bridge request {}; the requests are {}",
                        crate::command::bounded(&format!("{op:?}")),
                        Self::ALL.map(Self::as_str).join(", ")
                    ),
                )
            })
    }
}

/// A request payload must be empty or a JSON object (such as `{"id": "1"}`).
pub(crate) fn check_payload(payload: &[u8]) -> Result<(), CommandError> {
    if payload.trim_ascii().is_empty()
        || matches!(
            serde_json::from_slice::<serde_json::Value>(payload),
            Ok(serde_json::Value::Object(_))
        )
    {
        Ok(())
    } else {
        Err(CommandError::new(
            ErrorCode::InvalidJson,
            "the request payload must be empty or a JSON object such as {\"id\": \"1\"}",
        ))
    }
}
