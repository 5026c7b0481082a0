//! The local HTTP API, Prometheus metrics, live stream and web page (`docs/interface.md` §6).
//!
//! For what cannot speak MQTT: a language model's tool (described by the OpenAPI document), a
//! dashboard or script that wants a live stream, Prometheus, a person with a browser.
//!
//! The adapter holds no device state. Every answer comes from the daemon's main loop through
//! an [`ApiHandle`] (bounded channels, see `backend.rs`), so an HTTP command takes exactly the
//! path of an MQTT `set`: same validation, same per-device queue and rate limit, same single
//! response.
//!
//! - [`bind`] opens the listener (a taken port is a clear error), [`serve`] runs the server
//!   until the shutdown future completes.
//! - `rest`: health, metrics, devices, history, commands, presets, the OpenAPI document and
//!   the page.
//! - `stream`: the WebSocket, with its heartbeat, acknowledgements, rate limit, slow-client
//!   cut-off and connection cap.
//! - `auth`: the token, compared in constant time, and the checks against other web sites.
//! - [`healthcheck`]: `anova2mqtt healthcheck`, the Docker probe (the image has no curl).

mod auth;
mod backend;
mod cooks;
mod error;
// The fuzz targets' way in (`fuzz/`, built with `--cfg fuzzing` by cargo fuzz only).
#[cfg(fuzzing)]
pub mod fuzzing;
mod healthcheck;
mod io;
mod listener;
mod openapi;
mod page;
mod ratelimit;
mod rest;
mod slots;
mod stream;
mod upgrade;

pub(crate) use backend::BackendError;
pub use backend::{ApiHandle, ApiRequest, CommandReply, Health, StreamItem};
pub(crate) use error::ApiError;
pub use healthcheck::healthcheck;
pub use openapi::document as openapi_document;
pub use ratelimit::RateLimit;
pub(crate) use ratelimit::{TokenBucket, Verdict};
pub use rest::SOURCE_HEADER;

use crate::config::{Config, HttpConfig};
use auth::{Auth, Presented};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How the server behaves. [`Settings::new`] derives it from the configuration; tests shorten
/// the times and shrink the limits.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `http.token`: required by every endpoint but `/healthz` and the page when set.
    pub token: Option<crate::secret::Secret>,
    /// How long to wait for the main loop's answer to anything but a command.
    pub request_timeout: Duration,
    /// How long to wait for a command's response; longer than the bridge's own timeouts, so
    /// the bridge's `timeout`/`not_confirmed` answer arrives first.
    pub command_timeout: Duration,
    /// The largest command body accepted.
    pub max_body_bytes: usize,
    /// How often stream clients get a heartbeat.
    pub heartbeat: Duration,
    /// How long a stream client without a token in its request has to send `auth`.
    pub auth_deadline: Duration,
    /// Authenticated stream clients at once; more are refused with `503`.
    pub max_stream_clients: usize,
    /// Stream connections waiting to authenticate (no token in the upgrade request) at once;
    /// when all are taken, the one that has waited longest is closed for a newcomer. They do
    /// not count towards [`Settings::max_stream_clients`].
    pub max_pending_auth: usize,
    /// Answers, errors and heartbeats waiting for one stream client; a client this far
    /// behind is disconnected. (Live messages wait in the broadcast buffer, see
    /// [`ApiHandle::with_capacity`].)
    pub stream_queue: usize,
    /// A stream client that cannot take one frame within this time is disconnected.
    pub stream_write_timeout: Duration,
    /// Messages a stream client may send.
    pub stream_rate: RateLimit,
    /// Commands one stream client may have waiting for responses.
    pub max_pending_commands: usize,
    /// After shutdown, how long requests in flight may still finish.
    pub shutdown_grace: Duration,
    /// Connections open at once (stream clients not counted: they have their own slots).
    /// When all are open, a new one closes the longest idle; when all are in a request, it
    /// is refused at once with `503`.
    pub max_connections: usize,
    /// How long a connection has to send a request's headers, from when it opened or its
    /// previous response was written; also how long a keep-alive connection may stay idle.
    pub header_timeout: Duration,
    /// A client that takes nothing of a response for this long is disconnected.
    pub write_timeout: Duration,
    /// Requests one connection may make (a client is a connection: HTTP/1.1 clients keep
    /// theirs open); more are answered `429 rate_limited` at once, and a connection that
    /// keeps going is closed.
    pub request_rate: RateLimit,
    /// The cook history (`/api/v1/cooks…`); `None` when `history.enabled` is false.
    pub history: Option<crate::store::Store>,
    /// The MCP server's router (`/mcp`, see `crate::mcp`), served behind the token and the
    /// site checks like every protected endpoint; `None` when `mcp.enabled` is false.
    pub mcp: Option<Router>,
    /// `mcp.mode`: while `read_only`, a command an MCP client sends through the API (marked
    /// with [`SOURCE_HEADER`], as `anova2mqtt mcp` does) is refused.
    pub mcp_mode: crate::config::McpMode,
    /// `GET /api/v1/presets`: every preset as JSON (`docs/interface.md` §8.1). They come from the
    /// configuration, so the answer is made once, not asked of the main loop.
    pub presets: Arc<str>,
}

impl Settings {
    /// The settings for `config`: the token of `[http]`, and a command wait derived from the
    /// bridge's own timeouts (a command may wait for the one before it, then for the cloud's
    /// RESPONSE, then for the confirming state).
    pub fn new(config: &Config) -> Self {
        let anova = &config.anova;
        Self {
            token: config.http.token.clone(),
            request_timeout: Duration::from_secs(5),
            command_timeout: anova.command_timeout * 2
                + anova.confirm_timeout
                + Duration::from_secs(5),
            max_body_bytes: 64 * 1024,
            heartbeat: Duration::from_secs(15),
            auth_deadline: Duration::from_secs(5),
            max_stream_clients: 32,
            max_pending_auth: 8,
            stream_queue: 32,
            stream_write_timeout: Duration::from_secs(10),
            stream_rate: RateLimit::default(),
            max_pending_commands: 8,
            shutdown_grace: Duration::from_secs(3),
            max_connections: crate::descriptors::http_connection_budget(),
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            request_rate: RateLimit::REQUESTS,
            history: None,
            mcp: None,
            mcp_mode: config.mcp.mode,
            presets: crate::presets::PresetBook::new(&config.presets)
                .listing()
                .to_string()
                .into(),
        }
    }
}

/// What every handler shares.
pub(crate) struct App {
    settings: Settings,
    handle: ApiHandle,
    auth: Auth,
    /// Cancelled at shutdown; stream clients then get a close frame.
    stop: CancellationToken,
    /// The stream clients' tasks, awaited (briefly) at shutdown.
    tasks: TaskTracker,
    /// The stream's places: authenticated clients, and connections waiting to authenticate.
    stream_slots: Arc<slots::StreamSlots>,
}

/// Why the listener could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// `http.listen` is not an address.
    #[error("{0}")]
    Address(crate::config::Problem),
    /// Another program (or another anova2mqtt) has the port.
    #[error(
        "http.listen: {addr} is already in use by another program; stop it, choose another \
         port in http.listen, or set http.enabled = false"
    )]
    InUse {
        /// The address.
        addr: SocketAddr,
    },
    /// Ports below 1024 need privileges, and some addresses are not on this machine.
    #[error("http.listen: cannot listen on {addr}: {cause}")]
    Other {
        /// The address.
        addr: SocketAddr,
        /// What the system said: part of the message, not a source, so it is said once.
        cause: std::io::Error,
    },
}

/// Opens the listener of `[http]`.
pub async fn bind(config: &HttpConfig) -> Result<TcpListener, BindError> {
    let addr = config.listen_addr().map_err(BindError::Address)?;
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            BindError::InUse { addr }
        } else {
            BindError::Other {
                addr,
                cause: source,
            }
        }
    })
}

/// Serves the API on `listener` until `shutdown` completes; then stream clients get a close
/// frame and requests in flight get [`Settings::shutdown_grace`] to finish.
pub async fn serve(
    listener: TcpListener,
    settings: Settings,
    handle: ApiHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = CancellationToken::new();
    let grace = settings.shutdown_grace;
    let app = Arc::new(App {
        auth: Auth::new(settings.token.as_ref()),
        stream_slots: slots::StreamSlots::new(
            settings.max_stream_clients,
            settings.max_pending_auth,
        ),
        settings,
        handle,
        stop: stop.clone(),
        tasks: TaskTracker::new(),
    });
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("HTTP API and web page on http://{addr}/");
    }
    let limits = listener::Limits {
        max_connections: app.settings.max_connections,
        header_timeout: app.settings.header_timeout,
        write_timeout: app.settings.write_timeout,
        request_rate: app.settings.request_rate,
    };
    let connections = TaskTracker::new();
    let accept = listener::accept_loop(
        listener,
        router(app.clone()),
        limits,
        app.handle.metrics().clone(),
        connections.clone(),
        stop.clone(),
    );
    tokio::select! {
        () = accept => {}
        () = shutdown => stop.cancel(),
    }
    stop.cancel();
    // Requests in flight may finish (a command may wait many seconds for its confirmation;
    // shutdown does not), and stream clients get their close frame.
    connections.close();
    app.tasks.close();
    let _ = tokio::time::timeout(grace, async {
        connections.wait().await;
        app.tasks.wait().await;
    })
    .await;
    Ok(())
}

/// Every route. `/healthz` and the page are public; `/api/v1/stream` checks its own token
/// (it may arrive as the first message); everything else needs the token.
fn router(app: Arc<App>) -> Router {
    let mut protected = Router::new();
    if let Some(mcp) = app.settings.mcp.clone() {
        protected = protected.route_service("/mcp", mcp);
    }
    let protected = protected
        .route("/metrics", get(rest::metrics))
        .route("/api/v1/devices", get(rest::devices))
        .route("/api/v1/devices/{id}", get(rest::device))
        .route("/api/v1/devices/{id}/history", get(rest::history))
        .route("/api/v1/devices/{id}/command", post(rest::command))
        .route("/api/v1/cooks", get(cooks::list))
        .route(
            "/api/v1/cooks/{cook_id}",
            get(cooks::cook).delete(cooks::delete),
        )
        .route(
            "/api/v1/cooks/{cook_id}/samples.csv",
            get(cooks::samples_csv),
        )
        .route("/api/v1/presets", get(rest::presets))
        .route("/api/v1/schedules", get(rest::schedules))
        .route(
            "/api/v1/devices/{id}/schedule",
            axum::routing::delete(rest::cancel_schedule),
        )
        .route("/api/v1/openapi.json", get(rest::openapi))
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token));
    Router::new()
        .route("/healthz", get(rest::healthz))
        .route("/", get(page::page))
        .route("/api/v1/stream", get(stream::stream))
        .merge(protected)
        .fallback(rest::not_found)
        .method_not_allowed_fallback(rest::method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// The token and site checks of the protected routes.
async fn require_token(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if let Err(err) = app.auth.check_site(request.headers()) {
        return err.into_response();
    }
    match app.auth.check(request.headers(), request.uri()) {
        Presented::Valid => next.run(request).await,
        Presented::Missing | Presented::Wrong => ApiError::unauthorized().into_response(),
    }
}

/// Counts responses by status and logs requests, without their query (it may hold the token).
async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = error::truncate(request.uri().path(), 200).to_owned();
    let mut response = next.run(request).await;
    // Every answer is what its Content-Type says, never sniffed (JSON, metrics text, CSV, the
    // page).
    response.headers_mut().insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    let status = response.status();
    app.handle.metrics().http_response(status.as_u16());
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!("HTTP {method} {path}: {status}");
    } else {
        tracing::debug!("HTTP {method} {path}: {status}");
    }
    response
}
