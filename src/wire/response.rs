//! `RESPONSE`: the cloud's answer to one command, matched by `requestId`.

use serde::{Deserialize, Serialize};
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
    /// A success answer.
    pub fn ok(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            status: "ok".to_owned(),
            error: None,
            data: None,
        }
    }

    /// A failure answer with the cloud's error text (status `error`, as the simulator uses).
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

    /// Serialises as `{"command":"RESPONSE","requestId":…,"payload":{"status":…,"error"?:…}}`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Payload<'a> {
            status: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a Value>,
        }
        #[derive(Serialize)]
        struct Frame<'a> {
            command: &'static str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: Payload<'a>,
        }
        serde_json::to_string(&Frame {
            command: "RESPONSE",
            request_id: &self.request_id,
            payload: Payload {
                status: &self.status,
                error: self.error.as_deref(),
                data: self.data.as_ref(),
            },
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn response_round_trips() {
        for response in [
            Response::ok("abc"),
            Response::error("abc", "Unknown command type"),
        ] {
            assert_eq!(
                Event::parse(&response.to_json()).unwrap(),
                Event::Response(response)
            );
        }
    }
}
