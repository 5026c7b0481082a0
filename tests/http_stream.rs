//! `GET /api/v1/stream` (`docs/interface.md` §6) over real WebSockets: the snapshot, live items,
//! heartbeats, commands with ack and response, the three ways to authenticate, the rate limit,
//! the slow-client cut-off, the connection cap and shutdown.

mod http_support;

use anova2mqtt::http::{RateLimit, Settings, StreamItem};
use anova2mqtt::secret::Secret;
use http_support::*;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "stream-Token-7";

fn with_token() -> Settings {
    let mut settings = quick_settings();
    settings.token = Some(Secret::new(TOKEN));
    settings
}

/// Waits until `check` holds for the server's metrics text.
async fn until_metrics(server: &TestServer, what: &str, check: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let bearer = format!("Bearer {TOKEN}");
        let text = get(server.addr, "/metrics", &[("Authorization", &bearer)])
            .await
            .body;
        if check(&text) {
            return;
        }
        assert!(Instant::now() < deadline, "{what} never showed in:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_snapshot_comes_first_then_live_items_verbatim() {
    let server = TestServer::start(quick_settings()).await;
    let mut ws = ws_connect(&server.ws_url("/api/v1/stream"), &[])
        .await
        .unwrap();
    match next(&mut ws).await {
        Received::Json(first) => {
            assert_eq!(first["type"], "devices");
            assert_eq!(first["devices"], server.fake.lock().unwrap().devices);
        }
        other => panic!("expected the snapshot, got {other:?}"),
    }
    assert!(server.handle.has_stream_clients());
    let item: StreamItem = Arc::from(
        json!({"type": "state", "device": A7, "state": {"water_temperature": 56.9}}).to_string(),
    );
    server.handle.broadcast(item.clone());
    let state = next_of(&mut ws, "state").await;
    assert_eq!(state.to_string(), *item);
    server.handle.broadcast(Arc::from(
        r#"{"type":"bridge","event":{"event":"cloud_connected"}}"#,
    ));
    assert_eq!(
        next_of(&mut ws, "bridge").await["event"]["event"],
        "cloud_connected"
    );
}

#[tokio::test]
async fn heartbeats_arrive_at_the_interval() {
    let server = TestServer::start(quick_settings()).await;
    let mut ws = ws_connect(&server.ws_url("/api/v1/stream"), &[])
        .await
        .unwrap();
    next_of(&mut ws, "devices").await;
    let started = Instant::now();
    let first = next_of(&mut ws, "heartbeat").await;
    next_of(&mut ws, "heartbeat").await;
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(first["interval_s"], 0.2);
    assert!(
        first["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{first}"
    );
}

#[tokio::test]
async fn commands_are_acknowledged_then_answered() {
    let mut server = TestServer::start(quick_settings()).await;
    let mut ws = ws_connect(&server.ws_url("/api/v1/stream"), &[])
        .await
        .unwrap();
    next_of(&mut ws, "devices").await;

    send_json(
        &mut ws,
        json!({"type": "command", "id": "c1", "device": A7, "command": {"cook": true}}),
    )
    .await;
    let ack = next_of(&mut ws, "ack").await;
    assert_eq!(ack, json!({"type": "ack", "id": "c1"}));
    let response = next_of(&mut ws, "response").await;
    assert_eq!(response["id"], "c1");
    assert_eq!(response["device"], A7);
    assert_eq!(response["response"]["status"], "ok");
    assert_eq!(response["response"]["id"], "c1");
    // The stream's id became the command's id.
    assert_eq!(
        server.next_command().await,
        (A7.to_owned(), r#"{"cook":true,"id":"c1"}"#.to_owned())
    );

    // A command with its own id keeps it; an error answer is still a response.
    send_json(
        &mut ws,
        json!({"type": "command", "id": 2, "device": PRO, "command": {"_code": "out_of_range", "id": "own"}}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "ack").await["id"], 2);
    let response = next_of(&mut ws, "response").await;
    assert_eq!(response["id"], 2);
    assert_eq!(response["response"]["id"], "own");
    assert_eq!(response["response"]["error"]["code"], "out_of_range");

    send_json(
        &mut ws,
        json!({"type": "command", "id": "c3", "device": "nope", "command": {"cook": true}}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "ack").await["id"], "c3");
    let error = next_of(&mut ws, "error").await;
    assert_eq!(error["id"], "c3");
    assert_eq!(error["error"]["code"], "unknown_device");
}

#[tokio::test]
async fn bad_client_messages_get_errors_and_the_connection_stays() {
    let server = TestServer::start(quick_settings()).await;
    let mut ws = ws_connect(&server.ws_url("/api/v1/stream"), &[])
        .await
        .unwrap();
    next_of(&mut ws, "devices").await;
    for bad in [
        Message::text("not json"),
        Message::text("[1,2]"),
        Message::text(r#"{"type":"dance","id":"d"}"#),
        Message::text(r#"{"type":"command","id":"x","command":{"cook":true}}"#),
        Message::binary(vec![1, 2, 3]),
    ] {
        futures_util::SinkExt::send(&mut ws, bad.clone())
            .await
            .unwrap();
        let error = next_of(&mut ws, "error").await;
        assert_eq!(
            error["error"]["code"], "invalid_message",
            "{bad:?}: {error}"
        );
    }
    // The connection still works.
    send_json(
        &mut ws,
        json!({"type": "command", "id": "ok", "device": A7, "command": {"cook": false}}),
    )
    .await;
    assert_eq!(
        next_of(&mut ws, "response").await["response"]["status"],
        "ok"
    );
    // A message over 64 KiB ends it.
    send_json(
        &mut ws,
        json!({"type": "command", "pad": "x".repeat(70 * 1024)}),
    )
    .await;
    assert!(matches!(
        closing(&mut ws).await,
        Received::Ended | Received::Closed(..)
    ));
}

#[tokio::test]
async fn the_token_may_come_by_header_query_or_first_message() {
    let server = TestServer::start(with_token()).await;
    let url = server.ws_url("/api/v1/stream");

    assert_eq!(
        ws_connect(&url, &[("Authorization", "Bearer wrong")])
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        ws_connect(&server.ws_url("/api/v1/stream?access_token=wrong"), &[])
            .await
            .err(),
        Some(401)
    );

    let bearer = format!("Bearer {TOKEN}");
    let mut by_header = ws_connect(&url, &[("Authorization", &bearer)])
        .await
        .unwrap();
    let devices = server.fake.lock().unwrap().devices.clone();
    assert_eq!(next_of(&mut by_header, "devices").await["devices"], devices);

    let mut by_query = ws_connect(
        &server.ws_url(&format!("/api/v1/stream?access_token={TOKEN}")),
        &[],
    )
    .await
    .unwrap();
    next_of(&mut by_query, "devices").await;

    let mut by_message = ws_connect(&url, &[]).await.unwrap();
    send_json(&mut by_message, json!({"type": "auth", "token": TOKEN})).await;
    match next(&mut by_message).await {
        Received::Json(ok) => assert_eq!(ok, json!({"type": "auth", "status": "ok"})),
        other => panic!("{other:?}"),
    }
    next_of(&mut by_message, "devices").await;

    // Wrong token in the first message: an error, then close 1008.
    let mut wrong = ws_connect(&url, &[]).await.unwrap();
    send_json(&mut wrong, json!({"type": "auth", "token": "nope"})).await;
    assert_eq!(
        next_of(&mut wrong, "error").await["error"]["code"],
        "unauthorized"
    );
    assert!(matches!(
        closing(&mut wrong).await,
        Received::Closed(1008, _)
    ));

    // A command before auth is refused and closes; nothing reaches the bridge.
    let mut early = ws_connect(&url, &[]).await.unwrap();
    send_json(
        &mut early,
        json!({"type": "command", "id": "1", "device": A7, "command": {"cook": true}}),
    )
    .await;
    assert_eq!(
        next_of(&mut early, "error").await["error"]["code"],
        "unauthorized"
    );
    assert!(matches!(
        closing(&mut early).await,
        Received::Closed(1008, _)
    ));

    // Silence past the deadline (1 s here) closes too, without a snapshot or heartbeat first.
    let mut silent = ws_connect(&url, &[]).await.unwrap();
    let started = Instant::now();
    match next(&mut silent).await {
        Received::Json(error) => assert_eq!(error["error"]["code"], "unauthorized", "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        closing(&mut silent).await,
        Received::Closed(1008, _)
    ));
    assert!(started.elapsed() >= Duration::from_millis(900));
    until_metrics(&server, "auth drops", |text| {
        metric(
            text,
            "anova2mqtt_stream_clients_dropped_total{reason=\"auth\"}",
        ) == Some(3.0)
    })
    .await;
}

#[tokio::test]
async fn over_the_rate_messages_get_errors_and_persistent_abuse_closes() {
    let mut settings = quick_settings();
    settings.heartbeat = Duration::from_secs(60);
    settings.stream_rate = RateLimit {
        burst: 3,
        per_second: 0.1,
        strikes: 3,
    };
    let server = TestServer::start(settings).await;
    let mut ws = ws_connect(&server.ws_url("/api/v1/stream"), &[])
        .await
        .unwrap();
    next_of(&mut ws, "devices").await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        send_json(&mut ws, json!({"type": "hello"})).await;
        codes.push(
            next_of(&mut ws, "error").await["error"]["code"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        codes,
        [
            "invalid_message",
            "invalid_message",
            "invalid_message",
            "rate_limited",
            "rate_limited",
            "rate_limited"
        ]
    );
    send_json(&mut ws, json!({"type": "hello"})).await;
    assert_eq!(
        next_of(&mut ws, "error").await["error"]["code"],
        "rate_limited"
    );
    match closing(&mut ws).await {
        Received::Closed(code, reason) => {
            assert_eq!(code, 1008);
            assert!(reason.contains("too many"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    until_metrics(&server, "the rate-limit drop", |text| {
        metric(
            text,
            "anova2mqtt_stream_clients_dropped_total{reason=\"rate_limit\"}",
        ) == Some(1.0)
    })
    .await;
}

/// A client that stops reading is cut off, while the broadcast never waits and a client that
/// reads gets everything.
#[tokio::test]
async fn a_slow_client_is_dropped_and_never_slows_the_bridge() {
    let mut settings = quick_settings();
    settings.heartbeat = Duration::from_secs(60);
    settings.stream_queue = 4;
    settings.stream_write_timeout = Duration::from_millis(500);
    let server = TestServer::start_with(settings, 32, 1024).await;

    let mut fast = ws_connect(&server.ws_url("/api/v1/stream"), &[])
        .await
        .unwrap();
    next_of(&mut fast, "devices").await;
    let mut slow = slow_client(&server).await;
    next_of(&mut slow, "devices").await;
    until_metrics(&server, "two clients", |text| {
        metric(text, "anova2mqtt_stream_clients") == Some(2.0)
    })
    .await;

    let item: StreamItem = Arc::from(
        json!({"type": "state", "device": A7, "state": {"pad": "x".repeat(64 * 1024)}}).to_string(),
    );
    let count = 300;
    let started = Instant::now();
    for _ in 0..count {
        server.handle.broadcast(item.clone());
    }
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "broadcast waited: {:?}",
        started.elapsed()
    );

    let reader = tokio::spawn(async move {
        for _ in 0..count {
            next_of(&mut fast, "state").await;
        }
        fast
    });
    until_metrics(&server, "the slow drop", |text| {
        metric(
            text,
            "anova2mqtt_stream_clients_dropped_total{reason=\"slow\"}",
        ) == Some(1.0)
            && metric(text, "anova2mqtt_stream_clients") == Some(1.0)
    })
    .await;
    let mut fast = tokio::time::timeout(WAIT, reader).await.unwrap().unwrap();
    // The fast client is still served.
    server
        .handle
        .broadcast(Arc::from(r#"{"type":"bridge","event":{"event":"still"}}"#));
    assert_eq!(
        next_of(&mut fast, "bridge").await["event"]["event"],
        "still"
    );
    // The slow one finds its connection ended, after whatever was already in flight.
    let mut received = 0;
    while let Received::Json(_) = next(&mut slow).await {
        received += 1;
    }
    assert!(
        received < count,
        "the slow client got everything ({received})"
    );
}

/// A WebSocket client with a tiny receive buffer that reads nothing unless asked.
async fn slow_client(server: &TestServer) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        server.ws_url("/api/v1/stream"),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    ws
}

#[tokio::test]
async fn the_connection_cap_refuses_with_503() {
    let mut settings = quick_settings();
    settings.max_stream_clients = 2;
    let server = TestServer::start(settings).await;
    let url = server.ws_url("/api/v1/stream");
    let mut first = ws_connect(&url, &[]).await.unwrap();
    let _second = ws_connect(&url, &[]).await.unwrap();
    assert_eq!(ws_connect(&url, &[]).await.err(), Some(503));
    let reply = get(
        server.addr,
        "/api/v1/stream",
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    )
    .await;
    reply.assert_error(503, "too_many_clients");

    first.close(None).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while ws_connect(&url, &[]).await.is_err() {
        assert!(Instant::now() < deadline, "the slot was never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_valid_client_is_admitted_at_once_while_40_unauthenticated_upgrades_wait() {
    let mut settings = with_token();
    // Long enough that none of them gives up by itself during the test.
    settings.auth_deadline = Duration::from_secs(30);
    let server = TestServer::start(settings).await;
    let url = server.ws_url("/api/v1/stream");
    let mut waiting = Vec::new();
    for _ in 0..40 {
        waiting.push(
            ws_connect(&url, &[])
                .await
                .expect("an upgrade without a token"),
        );
    }

    // A client with the token in its request, and one that sends it first thing (the page).
    let start = Instant::now();
    let bearer = format!("Bearer {TOKEN}");
    let mut by_header = ws_connect(&url, &[("Authorization", &bearer)])
        .await
        .expect("admitted at once");
    next_of(&mut by_header, "devices").await;
    let mut by_message = ws_connect(&url, &[]).await.unwrap();
    send_json(&mut by_message, json!({"type": "auth", "token": TOKEN})).await;
    next_of(&mut by_message, "devices").await;
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );

    // At most 8 wait at once: each newcomer closed the one that had waited longest (the page
    // client's own upgrade closed one more), with 1013 "try again later".
    for ws in &mut waiting[..33] {
        match closing(ws).await {
            Received::Closed(1013, _) => {}
            other => panic!("{other:?}"),
        }
    }
    until_metrics(&server, "two clients, 33 closed waiting", |text| {
        metric(text, "anova2mqtt_stream_clients") == Some(2.0)
            && metric(
                text,
                "anova2mqtt_stream_clients_dropped_total{reason=\"auth_crowded\"}",
            ) == Some(33.0)
    })
    .await;
    // The seven newest still wait, and may still authenticate.
    let last = waiting.last_mut().unwrap();
    send_json(last, json!({"type": "auth", "token": TOKEN})).await;
    next_of(last, "devices").await;
}

#[tokio::test]
async fn a_client_authenticating_by_message_needs_a_free_client_place() {
    let mut settings = with_token();
    settings.max_stream_clients = 1;
    let server = TestServer::start(settings).await;
    let url = server.ws_url("/api/v1/stream");
    let bearer = format!("Bearer {TOKEN}");
    let mut first = ws_connect(&url, &[("Authorization", &bearer)])
        .await
        .unwrap();
    next_of(&mut first, "devices").await;
    assert_eq!(
        ws_connect(&url, &[("Authorization", &bearer)]).await.err(),
        Some(503)
    );
    let mut second = ws_connect(&url, &[]).await.unwrap();
    send_json(&mut second, json!({"type": "auth", "token": TOKEN})).await;
    assert_eq!(
        next_of(&mut second, "error").await["error"]["code"],
        "too_many_clients"
    );
    assert!(matches!(
        closing(&mut second).await,
        Received::Closed(1013, _)
    ));
}

#[tokio::test]
async fn other_sites_cannot_open_the_stream() {
    let server = TestServer::start(quick_settings()).await;
    let url = server.ws_url("/api/v1/stream");
    assert_eq!(
        ws_connect(&url, &[("Origin", "https://attacker.example")])
            .await
            .err(),
        Some(403)
    );
    let origin = format!("http://{}", server.addr);
    assert!(ws_connect(&url, &[("Origin", &origin)]).await.is_ok());
}

#[tokio::test]
async fn shutdown_closes_streams_with_going_away() {
    let mut server = TestServer::start(quick_settings()).await;
    let mut ws = ws_connect(&server.ws_url("/api/v1/stream"), &[])
        .await
        .unwrap();
    next_of(&mut ws, "devices").await;
    let stopping = tokio::spawn(async move {
        server.stop().await.unwrap();
    });
    match closing(&mut ws).await {
        Received::Closed(code, _) => assert_eq!(code, 1001),
        other => panic!("{other:?}"),
    }
    tokio::time::timeout(WAIT, stopping).await.unwrap().unwrap();
}
