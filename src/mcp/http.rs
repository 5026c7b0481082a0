//! `/mcp`: the streamable-HTTP transport (rmcp's), as a router the HTTP adapter serves behind
//! its token, `Host` and `Origin` checks (`http::Settings::mcp`): an MCP endpoint is reachable
//! from the user's browser like the rest of the API, so it gets the same rules.
//!
//! rmcp's own `Host` check is off (ours already ran, and knows about the token); sessions are
//! bounded by [`Sessions`], and an `initialize` that would open one too many is refused here
//! with `503` and a JSON-RPC error a client can show, before rmcp sees it.

use super::backend::Local;
use super::limits::{Limits, McpLimits, Sessions};
use super::server::Shared;
use crate::config::McpMode;
use crate::metrics::Metrics;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The largest JSON-RPC message accepted: a command is at most 64 KiB (`command::request`).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// How often an idle SSE stream gets a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The router of `/mcp` over the daemon's main loop. Cancelling `stop` ends every session
/// and stream.
pub fn router(
    backend: Local,
    mode: McpMode,
    limits: McpLimits,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) -> Router {
    let shared = Shared::new(
        backend,
        mode,
        Arc::new(Limits::new(limits.rate)),
        metrics.clone(),
    );
    let sessions = Arc::new(Sessions::new(&limits, metrics));
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .with_sse_keep_alive(Some(KEEP_ALIVE))
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(stop);
    let service =
        StreamableHttpService::new(move || Ok(shared.session()), sessions.clone(), config);
    Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn_with_state(sessions, bound_sessions))
}

/// Refuses an `initialize` (a POST without a session id) while every session slot is taken,
/// and answers a session's `DELETE` with `204` (rmcp says `202`, which clients such as the
/// official Python SDK log as a failed termination).
async fn bound_sessions(
    State(sessions): State<Arc<Sessions>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::DELETE {
        let mut response = next.run(request).await;
        if response.status() == StatusCode::ACCEPTED {
            *response.status_mut() = StatusCode::NO_CONTENT;
        }
        return response;
    }
    let opens_session = request.method() == Method::POST
        && !request.headers().contains_key("mcp-session-id")
        && sessions.full().await;
    if !opens_session {
        return next.run(request).await;
    }
    // Only an `initialize` opens a session; the 2026-07-28 revision's requests carry none.
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            Value::Null,
            "the message is too large",
        );
    };
    let message: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if message.get("method").and_then(Value::as_str) == Some("initialize") {
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let text = format!(
            "too many MCP sessions are open ({}): close one (DELETE /mcp with its \
             Mcp-Session-Id) or wait until an idle one expires",
            sessions.max()
        );
        return refusal(StatusCode::SERVICE_UNAVAILABLE, id, &text);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A JSON-RPC error answered over HTTP.
fn refusal(status: StatusCode, id: Value, message: &str) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": -32000, "message": message},
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
