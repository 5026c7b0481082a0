//! Where the tools get their answers: the daemon's main loop, reached in-process through the
//! HTTP adapter's [`ApiHandle`] ([`Local`], for `/mcp`), or a running daemon's HTTP API
//! ([`super::remote::Remote`], for `anova2mqtt mcp` on stdio). The tools are written once
//! against [`Backend`]; both ways end in the same bridge input as an HTTP command, with the
//! same validation, queue, confirmation and response.

use crate::appliance::record::Source;
use crate::http::{ApiError, ApiHandle, ApiRequest};
use crate::store::{CookFilter, Store, StoreError};
use serde_json::{json, Map, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Why a backend gave no answer of the gateway's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No device has this id.
    UnknownDevice(String),
    /// No recorded cook has this id.
    UnknownCook(String),
    /// The gateway could not be asked (busy, gone, unreachable, the token refused …).
    Gateway {
        /// A stable code (`busy`, `unavailable`, `no_daemon`, `unauthorized`, …).
        code: String,
        /// What happened and what to do.
        message: String,
    },
}

impl Failure {
    /// A gateway failure.
    pub fn gateway(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Gateway {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The code.
    pub fn code(&self) -> &str {
        match self {
            Self::UnknownDevice(_) => "unknown_device",
            Self::UnknownCook(_) => "unknown_cook",
            Self::Gateway { code, .. } => code,
        }
    }

    /// The answer a tool gives for it: the shape of a command's error response.
    pub fn body(&self, id: Option<&Value>) -> Value {
        let message = match self {
            Self::UnknownDevice(device) => format!(
                "no device with id {:?}; list_devices gives the ids",
                crate::command::bounded(device)
            ),
            Self::UnknownCook(cook) => format!(
                "no cook with id {:?}; list_cooks gives the ids",
                crate::command::bounded(cook)
            ),
            Self::Gateway { message, .. } => message.clone(),
        };
        error_body(self.code(), &message, id)
    }
}

/// `{"id": …, "status": "error", "error": {"code": …, "message": …}}`, the shape of every
/// error the gateway answers (`docs/interface.md` §3.3); `id` only when given.
pub(super) fn error_body(code: &str, message: &str, id: Option<&Value>) -> Value {
    let mut body = Map::new();
    if let Some(id) = id {
        body.insert("id".into(), id.clone());
    }
    body.insert("status".into(), json!("error"));
    body.insert("error".into(), json!({"code": code, "message": message}));
    Value::Object(body)
}

/// Which recorded cooks to list (`GET /api/v1/cooks`); the times are RFC 3339, already
/// checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CookQuery {
    /// Only this device.
    pub device: Option<String>,
    /// Only cooks started at or after this time.
    pub since: Option<String>,
    /// Only cooks started before this time.
    pub until: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// The page after this cursor.
    pub cursor: Option<String>,
}

/// What the tools need of the gateway. Each call is answered once; an answer that does not
/// come in time is a [`Failure`], never a hang.
pub trait Backend: Send + Sync + 'static {
    /// Every device as in `GET /api/v1/devices` (a JSON array).
    fn devices(&self) -> impl Future<Output = Result<Value, Failure>> + Send;

    /// One device as in `GET /api/v1/devices/{id}`.
    fn device(&self, id: &str) -> impl Future<Output = Result<Value, Failure>> + Send;

    /// Recorded cooks, newest first, as `GET /api/v1/cooks` gives them.
    fn cooks(&self, query: CookQuery) -> impl Future<Output = Result<Value, Failure>> + Send;

    /// One recorded cook with its whole curve, as `GET /api/v1/cooks/{cook_id}`.
    fn cook(&self, id: &str) -> impl Future<Output = Result<Value, Failure>> + Send;

    /// Every preset, as `GET /api/v1/presets` gives them (a JSON array).
    fn presets(&self) -> impl Future<Output = Result<Value, Failure>> + Send;

    /// Runs a command object on a device, as `POST /api/v1/devices/{id}/command`, marked as
    /// coming from MCP. `Ok` holds the response object, whether its `status` is ok or error.
    fn command(
        &self,
        id: &str,
        command: Map<String, Value>,
    ) -> impl Future<Output = Result<Value, Failure>> + Send;
}

/// The daemon's own main loop, for `/mcp`.
#[derive(Clone)]
pub struct Local {
    handle: ApiHandle,
    /// The cook history; `None` when `history.enabled` is false.
    history: Option<Store>,
    /// How long a read may wait for the main loop.
    read_wait: Duration,
    /// How long a command may wait for its response (longer than the bridge's own timeouts,
    /// so the bridge's `timeout`/`not_confirmed` comes first).
    command_wait: Duration,
    /// `GET /api/v1/presets`'s answer (the presets come from the configuration).
    presets: Arc<str>,
}

impl Local {
    /// The backend behind `handle` and `history`, waiting as the HTTP API does, listing the
    /// presets of `presets` (the HTTP API's answer, [`crate::http::Settings::presets`]).
    pub fn new(
        handle: ApiHandle,
        history: Option<Store>,
        read_wait: Duration,
        command_wait: Duration,
        presets: Arc<str>,
    ) -> Self {
        Self {
            handle,
            history,
            read_wait,
            command_wait,
            presets,
        }
    }

    fn history(&self) -> Result<&Store, Failure> {
        self.history.as_ref().ok_or_else(|| {
            Failure::gateway(
                "history_disabled",
                "cook history is turned off on this gateway (history.enabled = false)",
            )
        })
    }
}

fn store_failure(err: StoreError) -> Failure {
    let err = ApiError::from(err);
    Failure::gateway(err.code, err.message)
}

/// An RFC 3339 time the tools checked already.
fn time(text: Option<String>) -> Option<OffsetDateTime> {
    text.and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
}

fn gateway(err: crate::http::BackendError) -> Failure {
    let err = ApiError::from(err);
    Failure::gateway(err.code, err.message)
}

impl Backend for Local {
    async fn devices(&self) -> Result<Value, Failure> {
        self.handle
            .ask(|reply| ApiRequest::Devices { reply }, self.read_wait)
            .await
            .map_err(gateway)
    }

    async fn device(&self, id: &str) -> Result<Value, Failure> {
        let asked = id.to_owned();
        self.handle
            .ask(
                |reply| ApiRequest::Device { id: asked, reply },
                self.read_wait,
            )
            .await
            .map_err(gateway)?
            .ok_or_else(|| Failure::UnknownDevice(id.to_owned()))
    }

    async fn cooks(&self, query: CookQuery) -> Result<Value, Failure> {
        let filter = CookFilter {
            device: query.device,
            since: time(query.since),
            until: time(query.until),
            limit: Some(query.limit),
            cursor: query.cursor,
        };
        let page = self.history()?.list(filter).await.map_err(store_failure)?;
        Ok(page.to_json())
    }

    async fn cook(&self, id: &str) -> Result<Value, Failure> {
        self.history()?
            .cook(id.to_owned(), None)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| Failure::UnknownCook(id.to_owned()))
    }

    async fn presets(&self) -> Result<Value, Failure> {
        serde_json::from_str(&self.presets)
            .map_err(|_| Failure::gateway("unavailable", "the presets' listing was not JSON"))
    }

    async fn command(&self, id: &str, command: Map<String, Value>) -> Result<Value, Failure> {
        let payload = bytes::Bytes::from(Value::Object(command).to_string());
        let device = id.to_owned();
        let reply = self
            .handle
            .ask(
                |reply| ApiRequest::Command {
                    source: Source::Mcp,
                    device,
                    payload,
                    reply,
                },
                self.command_wait,
            )
            .await
            .map_err(gateway)?
            .ok_or_else(|| Failure::UnknownDevice(id.to_owned()))?;
        serde_json::from_str(&reply.body)
            .map_err(|_| Failure::gateway("unavailable", "the bridge's response was not JSON"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_have_the_shape_of_a_command_error() {
        let body = Failure::UnknownDevice("oven".into()).body(Some(&json!("x")));
        assert_eq!(
            body,
            json!({"id": "x", "status": "error", "error": {"code": "unknown_device",
                "message": "no device with id \"oven\"; list_devices gives the ids"}})
        );
        let body = Failure::gateway("busy", "later").body(None);
        assert_eq!(body["error"]["code"], "busy");
        assert!(body.get("id").is_none());
    }
}
