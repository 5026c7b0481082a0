//! The WebSocket handshake of `/api/v1/stream` (RFC 6455 §4.2), on hyper's upgrade.
//!
//! axum's own `ws` feature would bring a second tungstenite (it pins an older release than
//! the cloud client's `tokio-tungstenite`); the handshake is a few header checks, so we do it
//! here and hand the upgraded connection to the same tungstenite the cloud client uses.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// The server side of an accepted stream connection.
pub(crate) type ServerSocket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// The largest message a stream client may send (a command with a multi-stage oven plan fits
/// many times over).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// A request that asked for a WebSocket and may get it.
pub(crate) struct Upgrade {
    /// Completes with the raw connection once the `101` response is sent.
    on_upgrade: OnUpgrade,
    /// `Sec-WebSocket-Accept` for the response.
    accept: HeaderValue,
}

impl Upgrade {
    /// Checks the handshake headers of `request`; the error says what is missing (answer it
    /// with [`refusal`]).
    pub(super) fn from_request(mut request: Request) -> Result<Self, ApiError> {
        let headers = request.headers();
        if !header_has_token(headers, header::CONNECTION, "upgrade")
            || !header_has_token(headers, header::UPGRADE, "websocket")
        {
            return Err(ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "websocket_required",
                "this is a WebSocket endpoint: connect with a WebSocket client \
                 (Connection: Upgrade, Upgrade: websocket)",
            ));
        }
        if headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return Err(ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                VERSION_REFUSED,
                "only WebSocket version 13 is supported",
            ));
        }
        let accept = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .and_then(|key| HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "websocket_key",
                    "Sec-WebSocket-Key is missing",
                )
            })?;
        let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
            // Only a server without upgrade support gets here (never axum::serve).
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "websocket_unsupported",
                "this connection cannot be upgraded",
            ));
        };
        Ok(Self { on_upgrade, accept })
    }

    /// The `101 Switching Protocols` response, and a future that completes with the socket
    /// once it has been sent.
    pub(super) fn accept(
        self,
    ) -> (
        Response,
        impl std::future::Future<Output = Option<ServerSocket>> + Send + 'static,
    ) {
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept);
        let on_upgrade = self.on_upgrade;
        let socket = async move {
            let upgraded = on_upgrade.await.ok()?;
            // Small buffers: a stream client sends a few small messages, and every client
            // would otherwise hold tungstenite's 128 KiB read buffer.
            let config = WebSocketConfig::default()
                .read_buffer_size(4 * 1024)
                .write_buffer_size(0)
                .max_message_size(Some(MAX_CLIENT_MESSAGE))
                .max_frame_size(Some(MAX_CLIENT_MESSAGE));
            Some(
                WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await,
            )
        };
        (response, socket)
    }
}

/// The code of a refused WebSocket version.
const VERSION_REFUSED: &str = "websocket_version";

/// The response to a refused handshake: the error, and for a wrong version the version we
/// speak (RFC 6455 §4.4).
pub(crate) fn refusal(err: ApiError) -> Response {
    let version = err.code == VERSION_REFUSED;
    let mut response = err.into_response();
    if version {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
    }
    response
}

/// True when the comma-separated header `name` contains `token` (in any case).
fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_tokens() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(header_has_token(&headers, header::CONNECTION, "upgrade"));
        assert!(!header_has_token(&headers, header::UPGRADE, "websocket"));
    }

    #[test]
    fn accept_key_of_rfc_6455() {
        // The example of RFC 6455 §1.3.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
