//! What keeps one client from costing everyone else: a rate limit on tool calls per session,
//! and a bound on the sessions kept in memory.
//!
//! - **Rate.** Each session (a stdio process, a streamable-HTTP session of the handshake
//!   revisions) has its own token bucket for tool calls; over it, a call is answered with the
//!   tool error `rate_limited` saying when to try again. Requests of the 2026-07-28 revision
//!   carry no session at all (the revision removed them): they share one bucket.
//! - **Sessions.** [`Sessions`] wraps rmcp's in-memory session manager: at most
//!   [`McpLimits::max_sessions`] at once (an `initialize` beyond that is refused with `503`
//!   before rmcp sees it, and the manager refuses too, for a race), and a session idle for
//!   [`McpLimits::idle_timeout`] is closed and forgotten. A client that opens sessions and
//!   never closes them therefore holds at most the cap, for at most the idle time.

use crate::http::{RateLimit, TokenBucket, Verdict};
use crate::metrics::Metrics;
use futures_util::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    EventStore, RestoreOutcome, ServerSseMessage, SessionId, SessionManager,
};
use rmcp::RoleServer;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The bounds of the MCP server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McpLimits {
    /// Tool calls per session (`strikes` is not used: a limited call is answered, never
    /// disconnected).
    pub rate: RateLimit,
    /// Streamable-HTTP sessions at once.
    pub max_sessions: usize,
    /// A session without a request for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for McpLimits {
    fn default() -> Self {
        Self {
            // A model reads a device or two, then acts: a few calls a minute. A burst of 20
            // and one a second leave it room and stop a runaway loop.
            rate: RateLimit {
                burst: 20,
                per_second: 1.0,
                strikes: u32::MAX,
            },
            max_sessions: 16,
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// One session's share of the rate limit.
pub(super) struct SessionBucket(Mutex<TokenBucket>);

/// The rate limit of every session of one server.
pub(super) struct Limits {
    /// Tool calls per session.
    pub rate: RateLimit,
    /// The bucket of requests that carry no session.
    sessionless: SessionBucket,
}

impl Limits {
    /// Limits of `rate`.
    pub(super) fn new(rate: RateLimit) -> Self {
        Self {
            rate,
            sessionless: SessionBucket(Mutex::new(TokenBucket::new(rate, Instant::now()))),
        }
    }

    /// A full bucket for a new session.
    pub(super) fn session_bucket(&self) -> SessionBucket {
        SessionBucket(Mutex::new(TokenBucket::new(self.rate, Instant::now())))
    }

    /// Takes a token for a call of the session whose bucket is `session`; `Err` says how
    /// long until the next call would be admitted. A request that came over HTTP without a
    /// session id draws from the shared bucket instead.
    pub(super) fn admit(
        &self,
        session: &SessionBucket,
        context: &RequestContext<RoleServer>,
    ) -> Result<(), Duration> {
        let sessionless = context
            .extensions
            .get::<axum::http::request::Parts>()
            .is_some_and(|parts| !parts.headers.contains_key("mcp-session-id"));
        let bucket = if sessionless {
            &self.sessionless
        } else {
            session
        };
        // The lock is held for a few arithmetic operations, never across an await.
        let mut bucket = bucket.0.lock().unwrap_or_else(PoisonError::into_inner);
        match bucket.take(Instant::now()) {
            Verdict::Allow => Ok(()),
            Verdict::Limit | Verdict::Close => Err(bucket.retry_after()),
        }
    }
}

/// Why [`Sessions`] refused or failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum SessionError {
    /// Every slot is taken.
    #[error("too many MCP sessions are open ({0}); close one or wait until an idle one expires")]
    Full(usize),
    /// rmcp's manager failed.
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

/// rmcp's in-memory session manager, bounded in number (its own idle expiry bounds time).
pub(super) struct Sessions {
    inner: LocalSessionManager,
    max: usize,
    metrics: Arc<Metrics>,
}

impl Sessions {
    /// A manager for at most `limits.max_sessions`, each closed after `limits.idle_timeout`
    /// without a request.
    pub(super) fn new(limits: &McpLimits, metrics: Arc<Metrics>) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = Some(limits.idle_timeout);
        // A client that opens a session and never sends `initialize`.
        inner.session_config.init_timeout = Some(limits.idle_timeout.min(Duration::from_secs(30)));
        Self {
            inner,
            max: limits.max_sessions,
            metrics,
        }
    }

    /// Sessions open now.
    pub(super) async fn open(&self) -> usize {
        self.inner.sessions.read().await.len()
    }

    /// True when a new session would be refused.
    pub(super) async fn full(&self) -> bool {
        self.open().await >= self.max
    }

    /// The most sessions at once.
    pub(super) fn max(&self) -> usize {
        self.max
    }

    async fn count(&self) {
        self.metrics.mcp_sessions(self.open().await);
    }
}

impl SessionManager for Sessions {
    type Error = SessionError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        if self.full().await {
            return Err(SessionError::Full(self.max));
        }
        let created = self.inner.create_session().await?;
        self.count().await;
        Ok(created)
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        let closed = self.inner.close_session(id).await;
        self.count().await;
        Ok(closed?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }

    async fn restore_session(
        &self,
        _id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        // Sessions live in this process only: a restarted daemon answers an old session id
        // with 404 and the client starts a new session.
        Ok(RestoreOutcome::NotSupported)
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        None
    }
}
