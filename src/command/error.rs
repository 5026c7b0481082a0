//! The error vocabulary of every command response (`docs/interface.md` §3.3).

use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// The error codes of `docs/interface.md` §3.3; one name per meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The payload of `set` is not a JSON object (or repeats a key).
    InvalidJson,
    /// A key we do not know.
    UnknownKey,
    /// A value we cannot read, or a command that does nothing.
    InvalidValue,
    /// Outside the model's or the configured range.
    OutOfRange,
    /// Refused by the food-safety rules.
    Unsafe,
    /// A retained message on a command topic.
    RetainedCommand,
    /// Too many commands.
    RateLimited,
    /// The device is offline or unknown.
    DeviceOffline,
    /// The cloud link is down.
    CloudUnavailable,
    /// The cloud answered with an error.
    Rejected,
    /// No RESPONSE from the cloud in time, or the command waited too long for its turn.
    Timeout,
    /// The cloud said ok but the state never showed the change.
    NotConfirmed,
}

impl ErrorCode {
    /// Every code, in the order of the contract.
    pub const ALL: [ErrorCode; 12] = [
        Self::InvalidJson,
        Self::UnknownKey,
        Self::InvalidValue,
        Self::OutOfRange,
        Self::Unsafe,
        Self::RetainedCommand,
        Self::RateLimited,
        Self::DeviceOffline,
        Self::CloudUnavailable,
        Self::Rejected,
        Self::Timeout,
        Self::NotConfirmed,
    ];

    /// The code as it appears in responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::UnknownKey => "unknown_key",
            Self::InvalidValue => "invalid_value",
            Self::OutOfRange => "out_of_range",
            Self::Unsafe => "unsafe",
            Self::RetainedCommand => "retained_command",
            Self::RateLimited => "rate_limited",
            Self::DeviceOffline => "device_offline",
            Self::CloudUnavailable => "cloud_unavailable",
            Self::Rejected => "rejected",
            Self::Timeout => "timeout",
            Self::NotConfirmed => "not_confirmed",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A command error: a code from the contract and a message for humans.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandError {
    /// The machine-readable code.
    pub code: ErrorCode,
    /// What went wrong, naming the part.
    pub message: String,
    /// For `unsafe`: the values that would be accepted.
    pub safe: Option<Box<Map<String, Value>>>,
}

impl CommandError {
    /// An error without a safe alternative.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            safe: None,
        }
    }

    /// `invalid_value`, the most common parse error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidValue, message)
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
