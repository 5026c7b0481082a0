//! The adapter's own errors (401, 404, 413, 503, …), all in the shape of a command's error
//! response (`docs/interface.md` §3.3): `{"status":"error","error":{"code":…,"message":…}}`. A
//! client, person or language model reads one shape whatever went wrong.

use super::backend::BackendError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered by the adapter itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable code (`unauthorized`, `unknown_device`, …).
    pub code: &'static str,
    /// What happened and what to do, for people.
    pub message: String,
    /// The command's `id`, when the error is about a command that has one.
    pub id: Option<serde_json::Value>,
}

impl ApiError {
    /// An error without an id.
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            id: None,
        }
    }

    /// `401`: no token or a wrong one.
    pub(super) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid token is required: send Authorization: Bearer <http.token> \
             (or ?access_token=<http.token>)",
        )
    }

    /// `404` for a device id the bridge does not know.
    pub(super) fn unknown_device(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_device",
            format!(
                "no device with id {id:?}; GET /api/v1/devices lists the ids",
                id = truncate(id, 64)
            ),
        )
    }

    /// The JSON body.
    pub(super) fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "status": "error",
            "error": {"code": self.code, "message": self.message},
        });
        if let (Some(id), Some(object)) = (&self.id, body.as_object_mut()) {
            // `id` first, as in the bridge's responses.
            let mut with_id = serde_json::Map::with_capacity(3);
            with_id.insert("id".to_owned(), id.clone());
            with_id.append(object);
            return serde_json::Value::Object(with_id);
        }
        body
    }
}

impl From<BackendError> for ApiError {
    fn from(err: BackendError) -> Self {
        match err {
            BackendError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the bridge has too many requests waiting; try again shortly",
            ),
            BackendError::NoAnswer => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "backend_timeout",
                "the bridge did not answer in time",
            ),
            BackendError::Gone => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the bridge is not running (it may be shutting down)",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, self.body().to_string());
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"anova2mqtt\""),
            );
        }
        response
    }
}

/// A response with a JSON body that is already text.
pub(crate) fn json_response(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // A browser must not take the JSON for anything else (a user-chosen device name or
    // command id inside it could otherwise be read as HTML or script).
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// At most `max` characters of `text`, so a huge path cannot make a huge error.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_is_that_of_a_command_error() {
        let mut err = ApiError::unknown_device("nope");
        assert_eq!(
            err.body(),
            json!({"status": "error", "error": {"code": "unknown_device",
                "message": "no device with id \"nope\"; GET /api/v1/devices lists the ids"}})
        );
        err.id = Some(json!("abc"));
        let text = err.body().to_string();
        assert!(
            text.starts_with("{\"id\":\"abc\",\"status\":\"error\""),
            "{text}"
        );
        assert_eq!(truncate("ééé", 2), "éé");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
