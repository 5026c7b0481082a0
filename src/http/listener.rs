//! The listener: accepts connections itself (rather than through `axum::serve`) so that every
//! connection is bounded in number and in time, and a crowd of idle sockets cannot keep
//! anyone else out.
//!
//! - **Time.** A connection has [`Limits::header_timeout`] to send a request's headers,
//!   counted from when it opened or its previous response was written: a silent socket, a
//!   keep-alive connection left idle and a slowloris trickle are all closed then (hyper's
//!   header-read timer). A write that makes no progress for [`Limits::write_timeout`] closes
//!   it too (`io.rs`).
//! - **Number.** At most [`Limits::max_connections`] at once. When they are all open, a new
//!   connection closes the one that has waited longest without a request in progress (an idle
//!   or trickling socket costs its owner nothing, so the newest arrival, usually someone who
//!   is about to send a request, wins); when every one is in a request, the new one is refused
//!   at once with `503`. A connection upgraded to the stream leaves this count: the stream has
//!   its own slots.
//! - **Descriptors.** Running out of file descriptors closes an idle connection and tries
//!   again, instead of leaving `/healthz` in the kernel's backlog.
//!
//! Refusals and closures are counted (`anova2mqtt_http_connections_refused_total`,
//! `anova2mqtt_http_connections_closed_total`) and logged, at most one line per
//! [`PRESSURE_LOG_INTERVAL`].

use super::error::ApiError;
use super::io::StallGuard;
use super::ratelimit::{RateLimit, TokenBucket, Verdict};
use crate::metrics::Metrics;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often, at most, the pressure on the listener is logged.
pub(super) const PRESSURE_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// How long to wait before accepting again when the process is out of descriptors and no
/// connection can be closed to free one.
const DESCRIPTOR_BACKOFF: Duration = Duration::from_millis(100);

/// The bounds of every connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Connections open at once (not counting upgraded stream connections).
    pub max_connections: usize,
    /// How long a connection has to send a request's headers, from when it opened or its
    /// previous response was written.
    pub header_timeout: Duration,
    /// How long one write to the client may make no progress.
    pub write_timeout: Duration,
    /// Requests one connection may make; more are answered `429` without reaching a handler.
    pub request_rate: RateLimit,
}

/// The open connections, for the cap and for choosing which idle one to close.
pub(super) struct Connections {
    max: usize,
    open: Mutex<HashMap<u64, Arc<Entry>>>,
    next_id: AtomicU64,
    /// The zero of [`Entry::idle_since`].
    epoch: Instant,
}

/// One open connection.
pub(super) struct Entry {
    /// Requests in progress (0 or 1: HTTP/1.1 answers one at a time).
    in_request: AtomicU32,
    /// Milliseconds from [`Connections::epoch`] to when it last became idle (or opened).
    idle_since: AtomicU64,
    /// Cancelled to close it.
    close: CancellationToken,
}

/// What [`Connections::admit`] decided.
pub(super) enum Admission {
    /// Room for it.
    Open(Ticket),
    /// Room for it, made by closing the connection idle the longest.
    OpenAfterClosingIdle(Ticket),
    /// Every connection is in a request: refuse it.
    Full,
}

/// A place among the open connections; dropping it frees the place.
pub(super) struct Ticket {
    id: u64,
    entry: Arc<Entry>,
    connections: Arc<Connections>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
    }
}

impl Connections {
    /// Room for `max` connections (at least 1).
    pub(super) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Entry>>> {
        // Nothing panics while holding it; a poisoned map is still a correct map.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How many are open.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// A place for a new connection, closing the longest-idle one when all are taken.
    pub(super) fn admit(self: &Arc<Self>) -> Admission {
        let mut open = self.lock();
        let mut closed_one = false;
        if open.len() >= self.max {
            if !Self::close_longest_idle(&mut open) {
                return Admission::Full;
            }
            closed_one = true;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Entry {
            in_request: AtomicU32::new(0),
            idle_since: AtomicU64::new(self.now_ms()),
            close: CancellationToken::new(),
        });
        open.insert(id, entry.clone());
        drop(open);
        let ticket = Ticket {
            id,
            entry,
            connections: self.clone(),
        };
        if closed_one {
            Admission::OpenAfterClosingIdle(ticket)
        } else {
            Admission::Open(ticket)
        }
    }

    /// Closes the connection idle the longest, to free a descriptor; false when every
    /// connection is in a request.
    pub(super) fn close_one_idle(&self) -> bool {
        Self::close_longest_idle(&mut self.lock())
    }

    /// Takes the longest-idle connection out of `open` and tells it to close.
    fn close_longest_idle(open: &mut HashMap<u64, Arc<Entry>>) -> bool {
        let oldest = open
            .iter()
            .filter(|(_, entry)| entry.in_request.load(Ordering::Relaxed) == 0)
            .min_by_key(|(id, entry)| (entry.idle_since.load(Ordering::Relaxed), **id))
            .map(|(id, _)| *id);
        let Some(entry) = oldest.and_then(|id| open.remove(&id)) else {
            return false;
        };
        entry.close.cancel();
        true
    }
}

/// Why connections were refused or closed, counted between two log lines.
#[derive(Debug, Default)]
struct Pressure {
    /// Idle connections closed to make room.
    closed_idle: u64,
    /// Connections refused because every one was in a request.
    refused_full: u64,
    /// Accepts that failed for want of descriptors.
    out_of_descriptors: u64,
    /// When the last line was logged.
    logged_at: Option<Instant>,
}

impl Pressure {
    /// Logs the counts when the last line is old enough (the first event at once).
    fn maybe_log(&mut self, max: usize) {
        let now = Instant::now();
        if self
            .logged_at
            .is_some_and(|at| now.duration_since(at) < PRESSURE_LOG_INTERVAL)
        {
            return;
        }
        let window = match self.logged_at {
            Some(_) => format!("in the last {} s", PRESSURE_LOG_INTERVAL.as_secs()),
            None => "just now".to_owned(),
        };
        tracing::warn!(
            "HTTP API under connection pressure ({max} connections at most): {window}, \
             {} idle connections closed to make room, {} connections refused because all \
             were busy, {} accepts failed for want of file descriptors",
            self.closed_idle,
            self.refused_full,
            self.out_of_descriptors
        );
        *self = Self {
            logged_at: Some(now),
            ..Self::default()
        };
    }
}

/// Accepts connections on `listener` until `stop` is cancelled, each served on its own task
/// (tracked by `tasks`) by `router`, within `limits`.
pub(super) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    tasks: TaskTracker,
    stop: CancellationToken,
) {
    let connections = Connections::new(limits.max_connections);
    let mut pressure = Pressure::default();
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) if is_out_of_descriptors(&err) => {
                metrics.http_connection_refused("descriptors");
                pressure.out_of_descriptors += 1;
                pressure.maybe_log(limits.max_connections);
                if connections.close_one_idle() {
                    metrics.http_connection_closed("evicted");
                    pressure.closed_idle += 1;
                    // Let the closed connection's task run and give its descriptor back.
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(DESCRIPTOR_BACKOFF).await;
                }
                continue;
            }
            // The peer gave up before we got to it, and the like: nothing to do.
            Err(err) => {
                tracing::debug!("HTTP accept: {err}");
                continue;
            }
        };
        let ticket = match connections.admit() {
            Admission::Open(ticket) => ticket,
            Admission::OpenAfterClosingIdle(ticket) => {
                metrics.http_connection_closed("evicted");
                pressure.closed_idle += 1;
                pressure.maybe_log(limits.max_connections);
                ticket
            }
            Admission::Full => {
                metrics.http_connection_refused("limit");
                pressure.refused_full += 1;
                pressure.maybe_log(limits.max_connections);
                refuse(stream);
                continue;
            }
        };
        metrics.http_connections(connections.len());
        let (router, metrics, stop, connections) = (
            router.clone(),
            metrics.clone(),
            stop.clone(),
            connections.clone(),
        );
        tasks.spawn(async move {
            serve_connection(stream, ticket, router, limits, &metrics, stop).await;
            metrics.http_connections(connections.len());
        });
        // A connection closed to make room gives its descriptor back on its own task.
        tokio::task::yield_now().await;
    }
}

/// `EMFILE` (this process) or `ENFILE` (the whole system).
fn is_out_of_descriptors(err: &std::io::Error) -> bool {
    matches!(err.raw_os_error(), Some(24 | 23))
}

/// The answer to a connection refused at once (the shape of every API error).
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
    content-type: application/json\r\nretry-after: 1\r\nconnection: close\r\n\
    content-length: 119\r\n\r\n\
    {\"status\":\"error\",\"error\":{\"code\":\"too_many_connections\",\
    \"message\":\"the HTTP API has too many connections; try again\"}}";

/// Refuses a connection: [`REFUSAL`], if the socket takes it without waiting, then close.
fn refuse(stream: TcpStream) {
    let _ = stream.try_write(REFUSAL);
    drop(stream);
}

/// Serves one connection until it ends, is closed to make room, or the server stops (then
/// the request in progress may finish).
async fn serve_connection(
    stream: TcpStream,
    ticket: Ticket,
    router: Router,
    limits: Limits,
    metrics: &Arc<Metrics>,
    stop: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(StallGuard::new(stream, limits.write_timeout));
    let service = Tracked {
        inner: TowerToHyperService::new(router),
        entry: ticket.entry.clone(),
        connections: ticket.connections.clone(),
        bucket: Mutex::new(TokenBucket::new(
            limits.request_rate,
            std::time::Instant::now(),
        )),
        metrics: metrics.clone(),
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let close = ticket.entry.close.clone();
    let result = tokio::select! {
        result = connection.as_mut() => result,
        // Counted where it was decided.
        () = close.cancelled() => return,
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = close.cancelled() => return,
            }
        }
    };
    let Err(err) = result else { return };
    if err.is_timeout() {
        metrics.http_connection_closed("header_timeout");
        tracing::debug!("HTTP connection closed: no complete request in time");
    } else if is_write_timeout(&err) {
        metrics.http_connection_closed("write_timeout");
        tracing::debug!("HTTP connection closed: the client stopped reading");
    } else {
        tracing::debug!("HTTP connection ended: {err}");
    }
}

/// True when `err` comes from [`StallGuard`]'s deadline.
fn is_write_timeout(err: &hyper::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::TimedOut;
        }
        source = inner.source();
    }
    false
}

/// The router, marking its connection busy while a request is in progress, so that it is not
/// taken for idle and closed to make room; and the connection's request budget, so that one
/// client hammering the API is answered `429` at once instead of crowding out the others.
struct Tracked {
    inner: TowerToHyperService<Router>,
    entry: Arc<Entry>,
    connections: Arc<Connections>,
    bucket: Mutex<TokenBucket>,
    metrics: Arc<Metrics>,
}

impl Tracked {
    /// `429 rate_limited` for a request over the connection's budget; with `close`, the
    /// connection is closed after it (the client kept going while limited).
    fn limited(&self, retry_after: Duration, close: bool) -> Response {
        let seconds = retry_after.as_secs_f64();
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests on this connection; wait {seconds:.1} s"),
        )
        .into_response();
        let headers = response.headers_mut();
        let whole = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(whole.max(1)));
        if close {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        self.metrics
            .http_response(StatusCode::TOO_MANY_REQUESTS.as_u16());
        response
    }
}

/// Marks a connection idle again when the request's future is done or dropped.
struct InRequest {
    entry: Arc<Entry>,
    connections: Arc<Connections>,
}

impl Drop for InRequest {
    fn drop(&mut self) {
        self.entry
            .idle_since
            .store(self.connections.now_ms(), Ordering::Relaxed);
        self.entry.in_request.fetch_sub(1, Ordering::Relaxed);
    }
}

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let (verdict, retry_after) = {
            let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
            let verdict = bucket.take(std::time::Instant::now());
            (verdict, bucket.retry_after())
        };
        match verdict {
            Verdict::Allow => {}
            Verdict::Limit => {
                let response = self.limited(retry_after, false);
                return Box::pin(std::future::ready(Ok(response)));
            }
            Verdict::Close => {
                let response = self.limited(retry_after, true);
                return Box::pin(std::future::ready(Ok(response)));
            }
        }
        self.entry.in_request.fetch_add(1, Ordering::Relaxed);
        let busy = InRequest {
            entry: self.entry.clone(),
            connections: self.connections.clone(),
        };
        let response = self.inner.call(request.map(Body::new));
        Box::pin(async move {
            let response = response.await;
            drop(busy);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_house_closes_the_longest_idle_connection_or_refuses() {
        let connections = Connections::new(2);
        let Admission::Open(first) = connections.admit() else {
            panic!("room for the first")
        };
        let Admission::Open(second) = connections.admit() else {
            panic!("room for the second")
        };
        // The first is in a request: the second, though newer, is the one closed.
        first.entry.in_request.store(1, Ordering::Relaxed);
        let Admission::OpenAfterClosingIdle(third) = connections.admit() else {
            panic!("room made for the third")
        };
        assert!(second.entry.close.is_cancelled());
        assert!(!first.entry.close.is_cancelled());
        drop(second);
        assert_eq!(connections.len(), 2);

        // Both busy: refused.
        third.entry.in_request.store(1, Ordering::Relaxed);
        assert!(matches!(connections.admit(), Admission::Full));
        assert!(!connections.close_one_idle());

        // A place is freed when its connection ends.
        drop(first);
        assert!(matches!(connections.admit(), Admission::Open(_)));
    }

    #[test]
    fn the_refusal_is_well_formed() {
        let text = String::from_utf8_lossy(REFUSAL);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), length);
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "too_many_connections");
    }
}
