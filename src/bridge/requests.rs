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
    /// Change settings at runtime (zigbee2mqtt's `options`): the log level.
    Options,
    /// Stop and start again with the configuration read anew (zigbee2mqtt's `restart`).
    Restart,
}

impl BridgeOp {
    /// Every operation.
    pub(crate) const ALL: [BridgeOp; 5] = [
        Self::HealthCheck,
        Self::Republish,
        Self::Refresh,
        Self::Options,
        Self::Restart,
    ];

    /// The `<op>` level of the topic.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::HealthCheck => "health_check",
            Self::Republish => "republish",
            Self::Refresh => "refresh",
            Self::Options => "options",
            Self::Restart => "restart",
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

/// The levels `options` may set (`log.level`'s plain levels; a per-target filter stays the
/// configuration's).
pub(crate) const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// The log level of an `options` request: `{"options": {"log": {"level": "debug"}}}`
/// (`log.level` of the configuration file, in its place).
pub(crate) fn log_level_option(payload: &[u8]) -> Result<&'static str, CommandError> {
    let wrong = |what: String| {
        CommandError::new(
            ErrorCode::InvalidValue,
            format!(
                "{what}; options takes {{\"options\": {{\"log\": {{\"level\": \"debug\"}}}}}} with a \
                 level of {}",
                LOG_LEVELS.join(", ")
            ),
        )
    };
    let request: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
    let Some(options) = request
        .get("options")
        .and_then(serde_json::Value::as_object)
    else {
        return Err(wrong("no \"options\" object".to_owned()));
    };
    if let Some(other) = options.keys().find(|k| *k != "log") {
        return Err(CommandError::new(
            ErrorCode::UnknownKey,
            format!(
                "options.{} cannot be changed at runtime; only options.log.level can (the rest \
                 with the configuration and a restart)",
                crate::command::bounded(other)
            ),
        ));
    }
    let log = options.get("log").and_then(serde_json::Value::as_object);
    if let Some(other) = log.and_then(|l| l.keys().find(|k| *k != "level")) {
        return Err(CommandError::new(
            ErrorCode::UnknownKey,
            format!(
                "options.log.{} cannot be changed at runtime; only options.log.level can",
                crate::command::bounded(other)
            ),
        ));
    }
    let level = log
        .and_then(|l| l.get("level"))
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| wrong("no options.log.level".to_owned()))?;
    let wanted = level.trim().to_ascii_lowercase();
    LOG_LEVELS
        .into_iter()
        .find(|l| *l == wanted)
        .ok_or_else(|| {
            wrong(format!(
                "options.log.level {} is not a level",
                crate::command::bounded(&format!("{level:?}"))
            ))
        })
}
