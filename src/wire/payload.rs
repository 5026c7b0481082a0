//! Reading a frame's payload into a family's type, and the error when it has the wrong shape.
//! A leaf module, so the families' wire modules can use it without importing the dispatch that
//! imports them.

use serde::Deserialize;
use serde_json::value::RawValue;

/// Why a frame could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The frame is not a JSON object with a string `command`.
    #[error("frame is not valid JSON with a \"command\": {0}")]
    InvalidFrame(#[source] serde_json::Error),
    /// A known command whose payload does not have the documented shape.
    #[error("{command}: payload does not match the documented shape: {source}")]
    InvalidPayload {
        /// The frame's `command`.
        command: String,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// Reads a payload (`null` when absent) into `T`; the error names the frame's command.
pub(crate) fn payload_of<'a, T: Deserialize<'a>>(
    command: &str,
    payload: Option<&'a RawValue>,
) -> Result<T, ProtocolError> {
    let raw = payload.map_or("null", RawValue::get);
    serde_json::from_str(raw).map_err(|source| ProtocolError::InvalidPayload {
        command: command.to_owned(),
        source,
    })
}
