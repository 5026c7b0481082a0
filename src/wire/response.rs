//! `RESPONSE`: the cloud's answer to one command, matched by `requestId`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub(crate) struct ResponsePayload {
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) error: Option<Value>,
    #[serde(default)]
    pub(crate) data: Option<Value>,
}

/// `RESPONSE`: the cloud's answer to one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The `requestId` of the command this answers.
    pub request_id: String,
    /// `ok` on success; anything else is a failure.
    pub status: String,
    /// The error text, from `payload.error` or the top-level `error`.
    pub error: Option<String>,
    /// Extra data some commands return.
    pub data: Option<Value>,
}

impl Response {
    /// A success answer to `request_id` (what a test's scripted cloud expects to be read as).
    pub fn ok(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            status: "ok".to_owned(),
            error: None,
            data: None,
        }
    }

    /// A failure answer with the cloud's error text.
    pub fn error(request_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            status: "error".to_owned(),
            error: Some(text.into()),
            data: None,
        }
    }

    /// Success is exactly `payload.status == "ok"`.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

#[cfg(test)]
mod tests {
    use crate::wire::Event;

    #[test]
    fn response_error_text_from_payload_or_top_level() {
        let a = Event::parse(r#"{"command":"RESPONSE","requestId":"r1","payload":{"status":"error","error":"invalid command"}}"#).unwrap();
        let b = Event::parse(r#"{"command":"RESPONSE","requestId":"r1","error":"unauthorized","payload":{"status":"failed"}}"#).unwrap();
        let c = Event::parse(r#"{"command":"RESPONSE","requestId":"r1"}"#).unwrap();
        match (a, b, c) {
            (Event::Response(a), Event::Response(b), Event::Response(c)) => {
                assert_eq!(a.error.as_deref(), Some("invalid command"));
                assert!(!a.is_ok());
                assert_eq!(b.error.as_deref(), Some("unauthorized"));
                assert!(!c.is_ok());
            }
            other => panic!("{other:?}"),
        }
    }
}
