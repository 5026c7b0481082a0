//! The sockets: the accept loop, the upgrade with its token check, one task per connection
//! (frames out, commands in, pings, socket faults), and the physics ticker.
//!
//! Every task is spawned on one [`TaskTracker`] and stops on one [`CancellationToken`], so
//! [`Simulator::shutdown`] ends them all.

use super::config::{AuthFailureMode, SimulatorConfig};
use super::connection::{close_gracefully, Connection};
use super::control::{Shared, SimulatorHandle};
use super::handshake::{check_token, offers_anova_v2, Accessories, ConnectRequest, Refusal};
use super::request_line::normalise_request_line;
use super::world::{LoadStep, World};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

/// A client that connects but never finishes its upgrade request is dropped after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running simulated Anova cloud.
pub struct Simulator {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Simulator {
    /// Binds `listen` (port 0 picks a free port) and starts serving. Fails on an unusable
    /// config (`InvalidInput`) or when the address cannot be bound.
    pub async fn start(listen: SocketAddr, config: SimulatorConfig) -> io::Result<Simulator> {
        config
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let world = World::new(&config, OffsetDateTime::now_utc(), Instant::now())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(listen).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(world));
        let config = Arc::new(config);
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        tracker.spawn(run_physics(shared.clone(), config.clone(), cancel.clone()));
        if config.load.is_some() {
            tracker.spawn(run_load(shared.clone(), cancel.clone()));
        }
        tracker.spawn(drop_periodically(shared.clone(), cancel.clone()));
        tracker.spawn(accept_loop(
            listener,
            shared.clone(),
            config,
            cancel.clone(),
            tracker.clone(),
        ));
        Ok(Self {
            local_addr,
            shared,
            cancel,
            tracker,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `ws://ADDR`, the URL clients connect to (add `?token=…&supportedAccessories=APC`).
    pub fn url(&self) -> String {
        format!("ws://{}", self.local_addr)
    }

    /// The control handle.
    pub fn handle(&self) -> SimulatorHandle {
        SimulatorHandle::new(self.shared.clone())
    }

    /// Stops accepting, closes every connection, and waits until every task has ended.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl Drop for Simulator {
    /// Dropping without [`Simulator::shutdown`] still stops every task (without waiting).
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Advances the physics every `tick_interval`, scaled by `speed`.
async fn run_physics(shared: Arc<Shared>, config: Arc<SimulatorConfig>, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(config.tick_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last = Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {
                let now = Instant::now();
                let simulated_s = (now - last).as_secs_f64() * config.speed;
                last = now;
                let wall = OffsetDateTime::now_utc();
                shared.update(|w| w.tick(simulated_s, wall, now));
            }
        }
    }
}

/// Drives the load generator: sends what is due, sleeps until the next push (at most every
/// 4 ms, sending every push due by then), and waits for room when a reader is slow.
async fn run_load(shared: Arc<Shared>, cancel: CancellationToken) {
    /// Each wake-up costs about as much as rendering ten pushes (timer, lock, the connection
    /// task's wake-up and write), so a large fleet's pushes go out in small batches: 10,000
    /// cookers at 1 s send 40 pushes every 4 ms, still spread evenly at that granularity.
    const MIN_SLEEP: Duration = Duration::from_millis(4);
    loop {
        let woke = Instant::now();
        let step = shared.update_quietly(|w| w.push_load(woke, OffsetDateTime::now_utc()));
        match step {
            LoadStep::WaitUntil(due) => tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep_until(due.max(woke + MIN_SLEEP)) => {}
            },
            LoadStep::Blocked(outbox) => tokio::select! {
                () = cancel.cancelled() => return,
                // The permit is handed back at once: it only tells us there is room now.
                _ = outbox.reserve() => {}
            },
            LoadStep::Off => return,
        }
    }
}

/// [`Fault::DropEvery`](super::Fault::DropEvery): resets every connection each period while
/// it is set.
async fn drop_periodically(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut period = shared.drop_every.subscribe();
    loop {
        let every = *period.borrow_and_update();
        let tick = async {
            match every {
                Some(every) if !every.is_zero() => tokio::time::sleep(every).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            // A new period (or none) starts over.
            _ = period.changed() => {}
            () = tick => {
                shared.drop_generation.send_modify(|g| *g = g.wrapping_add(1));
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    config: Arc<SimulatorConfig>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracker.spawn(serve_connection(
                        stream,
                        peer,
                        shared.clone(),
                        config.clone(),
                        cancel.clone(),
                    ));
                }
                Err(error) => {
                    // Usually out of file descriptors: back off a little instead of spinning.
                    warn!(%error, "simulator: accept failed");
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            }
        }
    }
}

/// What the upgrade request said, as decided inside the handshake callback.
struct Admission {
    accessories: Accessories,
    platform: Option<String>,
    subprotocol: bool,
    refusal: Option<Refusal>,
}

/// The upgrade: checks the path and the token, echoes `ANOVA_V2`, and refuses with 401 (or
/// 404 for another path) when asked to.
// The signature is tungstenite's handshake callback; its error type is not ours to shrink.
#[allow(clippy::result_large_err)]
fn admit(
    request: &Request,
    mut response: Response,
    config: &SimulatorConfig,
    refuse_auth: bool,
    admission: &mut Option<Admission>,
) -> Result<Response, ErrorResponse> {
    let connect = ConnectRequest::from_query(request.uri().query());
    let refusal = if !matches!(request.uri().path(), "" | "/") {
        Some(Refusal::WrongPath)
    } else if refuse_auth {
        Some(Refusal::Injected)
    } else {
        check_token(connect.token.as_ref(), config.token.as_ref()).err()
    };
    let subprotocol = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(offers_anova_v2);
    if subprotocol {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(super::handshake::ANOVA_V2),
        );
    }
    *admission = Some(Admission {
        accessories: connect.accessories,
        platform: connect.platform,
        subprotocol,
        refusal,
    });
    let status = match refusal {
        None => return Ok(response),
        Some(Refusal::WrongPath) => StatusCode::NOT_FOUND,
        Some(_) if config.auth_failure == AuthFailureMode::CloseAfterUpgrade => {
            return Ok(response)
        }
        Some(_) => StatusCode::UNAUTHORIZED,
    };
    let mut refused = ErrorResponse::new(Some(
        status.canonical_reason().unwrap_or("refused").to_owned(),
    ));
    *refused.status_mut() = status;
    Err(refused)
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    config: Arc<SimulatorConfig>,
    cancel: CancellationToken,
) {
    // Subscribed before anything else, so a drop injected from now on reaches this connection.
    let drops = shared.drop_generation.subscribe();
    let half_open = shared.half_open.subscribe();
    let closes = shared.close_generation.subscribe();
    let refuse_auth = shared.update(|w| {
        w.attempts += 1;
        w.faults.refuse_auth
    });
    // Small frames, sent at once: tests measure latencies in milliseconds.
    let _ = stream.set_nodelay(true);

    let mut admission = None;
    let upgrade = async {
        let stream = normalise_request_line(stream)
            .await
            .map_err(tokio_tungstenite::tungstenite::Error::Io)?;
        #[allow(clippy::result_large_err)] // tungstenite's callback signature, as in `admit`
        let callback = |request: &Request, response| {
            admit(request, response, &config, refuse_auth, &mut admission)
        };
        tokio_tungstenite::accept_hdr_async(stream, callback).await
    };
    let upgraded = tokio::select! {
        () = cancel.cancelled() => return,
        result = tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade) => result,
    };
    let (mut socket, admission) = match (upgraded, admission) {
        (Ok(Ok(socket)), Some(admission)) => (socket, admission),
        (
            Ok(Err(_)),
            Some(Admission {
                refusal: Some(reason),
                ..
            }),
        ) => {
            info!(%peer, %reason, "simulator: connection refused with an HTTP error");
            return;
        }
        // The callback runs before every successful upgrade, so this cannot happen.
        (Ok(Ok(_)), None) => return,
        (Ok(Err(error)), _) => {
            debug!(%peer, %error, "simulator: upgrade failed");
            return;
        }
        (Err(_), _) => {
            debug!(%peer, "simulator: upgrade timed out");
            return;
        }
    };
    if let Some(reason) = admission.refusal {
        info!(%peer, %reason, "simulator: connection refused, closing with 1008");
        let policy = CloseFrame {
            code: CloseCode::Policy,
            reason: "".into(),
        };
        close_gracefully(&mut socket, Some(policy)).await;
        return;
    }
    info!(
        %peer,
        platform = admission.platform.as_deref().unwrap_or("-"),
        apc = admission.accessories.apc,
        apo = admission.accessories.apo,
        anova_v2 = admission.subprotocol,
        "simulator: connection accepted"
    );
    let accessories = admission.accessories;
    let (id, outbox) = shared.update(|w| w.register(accessories, OffsetDateTime::now_utc()));
    let connection = Connection::new(id, peer, socket, outbox, shared.clone(), config.clone());
    let log_closes = config.log_commands;
    let end = connection.run(cancel, drops, half_open, closes).await;
    shared.update(|w| w.unregister(id));
    if log_closes {
        info!(%peer, connection = id, end, "simulator: connection closed");
    } else {
        debug!(%peer, connection = id, end, "simulator: connection closed");
    }
}
