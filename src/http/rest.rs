//! The request/response endpoints: health, metrics, devices, history, commands, and the
//! OpenAPI description (the web page is `page.rs`).

use super::backend::{ApiRequest, CommandReply, Health};
use super::error::{json_response, truncate, ApiError};
use super::App;
use crate::appliance::record::Source;
use crate::config::McpMode;
use axum::body::{to_bytes, Body};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde_json::json;
use std::sync::Arc;

/// `GET /healthz`: `200` when the cloud and the broker are connected, else `503`, both with
/// the same JSON. It needs no token, so probes and load balancers can use it, and it does not
/// ask the main loop: it reads the health the loop last published. Like the API, it answers
/// nothing to another web site (`Origin`) or, without a token, to a `Host` that is a foreign
/// name (DNS rebinding).
pub(crate) async fn healthz(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(err) = app.auth.check_site(&headers) {
        return err.into_response();
    }
    health_response(&app.handle.health())
}

fn health_response(health: &Health) -> Response {
    let healthy = health.cloud == "connected" && health.mqtt_connected;
    let body = json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "cloud": health.cloud,
        "mqtt": if health.mqtt_connected { "connected" } else { "disconnected" },
        "devices": health.devices,
        "online": health.online,
        "history": health.history,
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, body.to_string())
}

/// `GET /metrics`: Prometheus (OpenMetrics) text. The per-device series come from one device
/// list per scrape; without an answer from the main loop they are left out and the daemon's
/// own metrics are still served.
pub(crate) async fn metrics(State(app): State<Arc<App>>) -> Response {
    let metrics = app.handle.metrics();
    metrics.queue_depth("api_requests", app.handle.waiting_requests());
    let wait = app.settings.request_timeout;
    let devices = app
        .handle
        .ask(|reply| ApiRequest::Devices { reply }, wait)
        .await
        .ok();
    let mut response = Response::new(Body::from(metrics.render(devices.as_ref())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// `GET /api/v1/devices`.
pub(crate) async fn devices(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let wait = app.settings.request_timeout;
    let devices = app
        .handle
        .ask(|reply| ApiRequest::Devices { reply }, wait)
        .await?;
    Ok(json_response(StatusCode::OK, devices.to_string()))
}

/// `GET /api/v1/devices/{id}`.
pub(crate) async fn device(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let wait = app.settings.request_timeout;
    let asked = id.clone();
    match app
        .handle
        .ask(|reply| ApiRequest::Device { id: asked, reply }, wait)
        .await?
    {
        Some(device) => Ok(json_response(StatusCode::OK, device.to_string())),
        None => Err(ApiError::unknown_device(&id)),
    }
}

/// `GET /api/v1/devices/{id}/history`.
pub(crate) async fn history(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let wait = app.settings.request_timeout;
    let asked = id.clone();
    match app
        .handle
        .ask(|reply| ApiRequest::History { id: asked, reply }, wait)
        .await?
    {
        Some(history) => Ok(json_response(StatusCode::OK, history.to_string())),
        None => Err(ApiError::unknown_device(&id)),
    }
}

/// `POST /api/v1/devices/{id}/command`: the body goes to the bridge exactly as an MQTT `set`
/// payload would; the answer is the bridge's response object, with the HTTP status of its
/// code.
pub(crate) async fn command(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // JSON only: a cross-site form or `no-cors` fetch cannot send this content type, so a web
    // page cannot start a cooker through the user's browser.
    if !is_json(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the command as JSON with Content-Type: application/json",
        ));
    }
    let limit = app.settings.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the command body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let read = tokio::time::timeout(app.settings.request_timeout, to_bytes(body, limit));
    let payload = match read.await {
        Ok(Ok(payload)) => payload,
        // `to_bytes` fails for a body over the limit or a broken connection; the latter has
        // nobody left to read the answer.
        Ok(Err(_)) => return Err(too_large()),
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time",
            ))
        }
    };
    run_command(&app, id, &headers, payload).await
}

/// `DELETE /api/v1/devices/{id}/schedule`: cancels the device's pending plan, as the command
/// `{"schedule": "cancel"}` does (`docs/interface.md` §8.2); the answer is that command's response.
pub(crate) async fn cancel_schedule(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let payload = bytes::Bytes::from_static(br#"{"schedule":"cancel"}"#);
    run_command(&app, id, &headers, payload).await
}

/// `GET /api/v1/schedules`: every pending plan (`docs/interface.md` §8.2).
pub(crate) async fn schedules(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let wait = app.settings.request_timeout;
    let schedules = app
        .handle
        .ask(|reply| ApiRequest::Schedules { reply }, wait)
        .await?;
    Ok(json_response(StatusCode::OK, schedules.to_string()))
}

/// A command body for device `id`, through the bridge: its response with the status of its
/// code.
async fn run_command(
    app: &App,
    id: String,
    headers: &HeaderMap,
    payload: bytes::Bytes,
) -> Result<Response, ApiError> {
    let command_id = command_id(&payload);
    let source = source_of(headers);
    if source == Source::Mcp && app.settings.mcp_mode == McpMode::ReadOnly {
        return Err(ApiError {
            id: command_id,
            ..ApiError::new(
                StatusCode::FORBIDDEN,
                "read_only",
                "assistants may only read on this gateway (mcp.mode = \"read_only\"): no \
                 command from an MCP client is carried out",
            )
        });
    }
    let device = id.clone();
    let wait = app.settings.command_timeout;
    let reply = app
        .handle
        .ask(
            |reply| ApiRequest::Command {
                source,
                device,
                payload,
                reply,
            },
            wait,
        )
        .await
        .map_err(|err| ApiError {
            id: command_id.clone(),
            ..ApiError::from(err)
        })?;
    match reply {
        Some(reply) => Ok(command_response(reply)),
        None => Err(ApiError {
            id: command_id,
            ..ApiError::unknown_device(&id)
        }),
    }
}

/// Marks a command as coming from an MCP client (`anova2mqtt mcp` sends `mcp`): it is recorded
/// with `source: mcp`, and refused while `mcp.mode` is `read_only`. Any other value, or none,
/// is an HTTP command.
pub const SOURCE_HEADER: &str = "x-anova2mqtt-source";

/// Who sends a command: [`SOURCE_HEADER`] says `mcp`, or it is HTTP's.
fn source_of(headers: &HeaderMap) -> Source {
    match headers.get(SOURCE_HEADER).and_then(|v| v.to_str().ok()) {
        Some(value) if value.trim().eq_ignore_ascii_case("mcp") => Source::Mcp,
        _ => Source::Http,
    }
}

/// The answer to a command: the response object, with its code's status.
fn command_response(reply: CommandReply) -> Response {
    json_response(status_of(reply.code.as_deref()), reply.body)
}

/// The HTTP status for a command response's code (`docs/interface.md` §6).
pub(crate) fn status_of(code: Option<&str>) -> StatusCode {
    match code {
        None => StatusCode::OK,
        Some("out_of_range" | "unsafe") => StatusCode::UNPROCESSABLE_ENTITY,
        Some("rate_limited") => StatusCode::TOO_MANY_REQUESTS,
        Some("device_offline" | "cloud_unavailable") => StatusCode::SERVICE_UNAVAILABLE,
        Some("rejected") => StatusCode::BAD_GATEWAY,
        Some("timeout" | "not_confirmed") => StatusCode::GATEWAY_TIMEOUT,
        // invalid_json, unknown_key, invalid_value, and any code a later version adds for
        // a request that cannot be carried out as sent.
        Some(_) => StatusCode::BAD_REQUEST,
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`), or any `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
}

/// The `id` (or `transaction`) of a command body, for errors the adapter answers itself:
/// every response to a command carries its id when it has one.
pub(super) fn command_id(payload: &[u8]) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let id = value.get("id").or_else(|| value.get("transaction"))?;
    match id {
        serde_json::Value::String(text) => {
            Some(serde_json::Value::String(truncate(text, 128).to_owned()))
        }
        serde_json::Value::Number(_) => Some(id.clone()),
        _ => None,
    }
}

/// `GET /api/v1/presets`: every preset, built in and configured (`docs/interface.md` §8.1).
pub(crate) async fn presets(State(app): State<Arc<App>>) -> Response {
    json_response(StatusCode::OK, app.settings.presets.to_string())
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> Response {
    json_response(StatusCode::OK, super::openapi::document())
}

/// Any other path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; GET /api/v1/openapi.json describes them all",
    )
}

/// A known path with another method.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; GET /api/v1/openapi.json describes them all",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_status() {
        for (code, status) in [
            (None, 200),
            (Some("invalid_json"), 400),
            (Some("unknown_key"), 400),
            (Some("invalid_value"), 400),
            (Some("out_of_range"), 422),
            (Some("unsafe"), 422),
            (Some("rate_limited"), 429),
            (Some("device_offline"), 503),
            (Some("cloud_unavailable"), 503),
            (Some("rejected"), 502),
            (Some("timeout"), 504),
            (Some("not_confirmed"), 504),
            (Some("retained_command"), 400),
        ] {
            assert_eq!(status_of(code).as_u16(), status, "{code:?}");
        }
    }

    #[test]
    fn json_content_types() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn command_ids() {
        assert_eq!(command_id(br#"{"id":"a","cook":true}"#), Some(json!("a")));
        assert_eq!(command_id(br#"{"transaction":7}"#), Some(json!(7)));
        assert_eq!(command_id(br#"{"id":{"x":1}}"#), None);
        assert_eq!(command_id(b"not json"), None);
    }
}
