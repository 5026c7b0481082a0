//! The HTTP API's request/response endpoints (`docs/interface.md` §6) against the real server on a
//! free port, in front of a fake main loop: every endpoint, every HTTP status of a command
//! response, the adapter's own errors, tokens, and the metrics.

mod http_support;

use anova2mqtt::config::HttpConfig;
use anova2mqtt::http::{self, BindError};
use http_support::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TOKEN: &str = "s3cret-Token_42";

fn with_token() -> anova2mqtt::http::Settings {
    let mut settings = quick_settings();
    settings.token = Some(anova2mqtt::secret::Secret::new(TOKEN));
    settings
}

#[tokio::test]
async fn devices_one_device_and_history() {
    let server = TestServer::start(quick_settings()).await;
    let all = get(server.addr, "/api/v1/devices", &[]).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.header("content-type"), Some("application/json"));
    assert_eq!(all.json(), server.fake.lock().unwrap().devices);

    let one = get(server.addr, &format!("/api/v1/devices/{A7}"), &[]).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["state"]["water_temperature"], 56.8);
    assert_eq!(one.json()["id"], A7);

    get(server.addr, "/api/v1/devices/nope", &[])
        .await
        .assert_error(404, "unknown_device");

    let history = get(server.addr, &format!("/api/v1/devices/{OVEN}/history"), &[]).await;
    assert_eq!(history.status, 200);
    assert_eq!(history.json(), fake_history(OVEN));
    get(server.addr, "/api/v1/devices/nope/history", &[])
        .await
        .assert_error(404, "unknown_device");
}

#[tokio::test]
async fn healthz_follows_the_links() {
    let server = TestServer::start(quick_settings()).await;
    let healthy = get(server.addr, "/healthz", &[]).await;
    assert_eq!(healthy.status, 200);
    assert_eq!(
        healthy.json(),
        json!({"status": "ok", "cloud": "connected", "mqtt": "connected", "devices": 3, "online": 3, "history": "ok"})
    );

    // A broken history database is said, but the bridge is still healthy.
    server.set_health(|health| health.history = "history database: disk I/O error".to_owned());
    let degraded = get(server.addr, "/healthz", &[]).await;
    assert_eq!(degraded.status, 200);
    assert_eq!(
        degraded.json()["history"],
        "history database: disk I/O error"
    );

    server.set_health(|health| health.cloud = "connecting".to_owned());
    let cloud_down = get(server.addr, "/healthz", &[]).await;
    assert_eq!(cloud_down.status, 503);
    assert_eq!(cloud_down.json()["status"], "unavailable");
    assert_eq!(cloud_down.json()["cloud"], "connecting");

    server.set_health(|health| {
        health.cloud = "connected".to_owned();
        health.mqtt_connected = false;
    });
    let mqtt_down = get(server.addr, "/healthz", &[]).await;
    assert_eq!(mqtt_down.status, 503);
    assert_eq!(mqtt_down.json()["mqtt"], "disconnected");
}

#[tokio::test]
async fn health_answers_at_once_while_the_main_loop_is_stalled_and_its_queue_full() {
    let server = TestServer::start_with(quick_settings(), 2, 16).await;
    // The loop takes one request and stops reading; two more fill its queue.
    server.set_mode(Mode::Stalled);
    let waiting: Vec<_> = (0..3)
        .map(|_| tokio::spawn(get(server.addr, "/api/v1/devices", &[])))
        .collect();
    let deadline = Instant::now() + WAIT;
    loop {
        let reply = get(server.addr, "/api/v1/devices", &[]).await;
        if reply.status == 503 && reply.json()["error"]["code"] == "busy" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue never filled: {reply:?}"
        );
    }
    let started = Instant::now();
    let health = get(server.addr, "/healthz", &[]).await;
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(health.json()["cloud"], "connected");
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    server.set_mode(Mode::Answer);
    for request in waiting {
        let _ = request.await;
    }
}

#[tokio::test]
async fn one_connection_hammering_the_api_is_limited_and_the_others_are_not() {
    let server = TestServer::start(quick_settings()).await;
    let burst = anova2mqtt::http::RateLimit::REQUESTS.burst as usize;
    // One keep-alive connection sends twice its burst at once.
    let mut flood = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let requests = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(burst * 2);
    tokio::io::AsyncWriteExt::write_all(&mut flood, requests.as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0; 8192];
    while String::from_utf8_lossy(&raw).matches("HTTP/1.1 ").count() < burst * 2 {
        let read = tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read(&mut flood, &mut buf))
            .await
            .expect("every request is answered")
            .unwrap();
        assert!(read > 0, "closed early");
        raw.extend_from_slice(&buf[..read]);
    }
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(text.matches("HTTP/1.1 200").count(), burst, "{text}");
    assert_eq!(text.matches("HTTP/1.1 429").count(), burst, "{text}");
    assert!(
        text.contains("\"rate_limited\"") && text.to_ascii_lowercase().contains("retry-after: 1")
    );
    // Another client is not affected.
    assert_eq!(get(server.addr, "/api/v1/devices", &[]).await.status, 200);
}

#[tokio::test]
async fn a_command_reaches_the_main_loop_verbatim() {
    let mut server = TestServer::start(quick_settings()).await;
    let body = r#"{"cook": true, "target_temperature": "135F", "timer": "1h30m", "id": "abc"}"#;
    let reply = post_json(
        server.addr,
        &format!("/api/v1/devices/{A7}/command"),
        &[],
        body,
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["id"], "abc");
    assert_eq!(reply.json()["status"], "ok");
    assert_eq!(
        server.next_command().await,
        (A7.to_owned(), body.to_owned())
    );

    // A body that is not JSON is the bridge's to judge, like an MQTT payload.
    let reply = post_json(
        server.addr,
        &format!("/api/v1/devices/{PRO}/command"),
        &[],
        "start!",
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"]["code"], "invalid_json");
    assert_eq!(
        server.next_command().await,
        (PRO.to_owned(), "start!".to_owned())
    );
}

#[tokio::test]
async fn every_response_code_has_its_http_status() {
    let server = TestServer::start(quick_settings()).await;
    for (code, status) in [
        ("invalid_json", 400),
        ("unknown_key", 400),
        ("invalid_value", 400),
        ("out_of_range", 422),
        ("unsafe", 422),
        ("rate_limited", 429),
        ("device_offline", 503),
        ("cloud_unavailable", 503),
        ("rejected", 502),
        ("timeout", 504),
        ("not_confirmed", 504),
    ] {
        let body = json!({"_code": code, "id": code}).to_string();
        let reply = post_json(
            server.addr,
            &format!("/api/v1/devices/{A7}/command"),
            &[],
            &body,
        )
        .await;
        assert_eq!(reply.status, status, "{code}: {reply:?}");
        let json = reply.json();
        assert_eq!(json["id"], code);
        assert_eq!(json["status"], "error");
        assert_eq!(json["error"]["code"], code);
    }
}

#[tokio::test]
async fn the_adapter_refuses_bad_command_requests_in_the_same_shape() {
    let mut server = TestServer::start(quick_settings()).await;
    let path = format!("/api/v1/devices/{A7}/command");

    let unknown = post_json(
        server.addr,
        "/api/v1/devices/nope/command",
        &[],
        r#"{"cook":true,"id":"x1"}"#,
    )
    .await;
    unknown.assert_error(404, "unknown_device");
    assert_eq!(unknown.json()["id"], "x1", "the command's id is echoed");
    assert_eq!(server.next_command().await.0, "nope");

    let no_type = request(server.addr, "POST", &path, &[], Some(b"{\"cook\":true}")).await;
    no_type.assert_error(415, "unsupported_media_type");
    let form = request(
        server.addr,
        "POST",
        &path,
        &[("Content-Type", "text/plain")],
        Some(b"{\"cook\":true}"),
    )
    .await;
    form.assert_error(415, "unsupported_media_type");

    let huge = format!("{{\"id\":\"{}\"}}", "x".repeat(70 * 1024));
    post_json(server.addr, &path, &[], &huge)
        .await
        .assert_error(413, "payload_too_large");

    // None of them reached the main loop.
    assert!(server.commands.try_recv().is_err());
}

#[tokio::test]
async fn a_main_loop_that_does_not_answer_is_503_or_504_never_a_hang() {
    let server = TestServer::start_with(quick_settings(), 1, 16).await;
    let command = format!("/api/v1/devices/{A7}/command");

    server.set_mode(Mode::Silent);
    get(server.addr, "/api/v1/devices", &[])
        .await
        .assert_error(504, "backend_timeout");
    let started = Instant::now();
    let reply = post_json(server.addr, &command, &[], r#"{"cook":true,"id":"slow"}"#).await;
    reply.assert_error(504, "backend_timeout");
    assert_eq!(reply.json()["id"], "slow");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited the command timeout"
    );

    server.set_mode(Mode::Drop);
    get(server.addr, &format!("/api/v1/devices/{A7}"), &[])
        .await
        .assert_error(503, "unavailable");

    // The loop stops reading: one request is taken, one fills the queue, the next is refused
    // at once.
    server.set_mode(Mode::Stalled);
    let first = tokio::spawn(get(server.addr, "/api/v1/devices", &[]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn(get(server.addr, "/api/v1/devices", &[]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    get(server.addr, "/api/v1/devices", &[])
        .await
        .assert_error(503, "busy");
    assert!(started.elapsed() < Duration::from_millis(400));
    first.await.unwrap().assert_error(504, "backend_timeout");
    second.await.unwrap().assert_error(504, "backend_timeout");
    server.set_mode(Mode::Answer);
}

#[tokio::test]
async fn a_token_is_required_by_header_or_query_except_for_health_and_page() {
    let server = TestServer::start(with_token()).await;
    let addr = server.addr;
    let bearer = format!("Bearer {TOKEN}");
    for path in [
        "/api/v1/devices",
        "/api/v1/openapi.json",
        "/metrics",
        "/api/v1/devices/x/history",
        "/api/v1/presets",
    ] {
        let none = get(addr, path, &[]).await;
        none.assert_error(401, "unauthorized");
        assert_eq!(
            none.header("www-authenticate"),
            Some("Bearer realm=\"anova2mqtt\"")
        );
        get(addr, path, &[("Authorization", "Bearer wrong")])
            .await
            .assert_error(401, "unauthorized");
        get(addr, path, &[("Authorization", "Basic czNjcmV0")])
            .await
            .assert_error(401, "unauthorized");
    }
    assert_eq!(
        get(addr, "/api/v1/devices", &[("Authorization", &bearer)])
            .await
            .status,
        200
    );
    assert_eq!(
        get(
            addr,
            "/api/v1/devices",
            &[("authorization", &format!("bearer {TOKEN}"))]
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(addr, &format!("/metrics?access_token={TOKEN}"), &[])
            .await
            .status,
        200
    );
    get(addr, "/metrics?access_token=s3cret", &[])
        .await
        .assert_error(401, "unauthorized");
    // Commands too, and a refused command never reaches the bridge.
    let path = format!("/api/v1/devices/{A7}/command");
    post_json(addr, &path, &[], "{\"cook\":true}")
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(
        post_json(
            addr,
            &path,
            &[("Authorization", &bearer)],
            "{\"cook\":true}"
        )
        .await
        .status,
        200
    );
    // With a token, a LAN name is fine.
    assert_eq!(
        get(
            addr,
            "/api/v1/devices",
            &[("Authorization", &bearer), ("Host", "kitchen.lan:8770")]
        )
        .await
        .status,
        200
    );
    // Public: the probe and the page (which holds no data).
    assert_eq!(get(addr, "/healthz", &[]).await.status, 200);
    let page = get(addr, "/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    // The token is never echoed.
    assert!(!get(
        addr,
        "/api/v1/devices",
        &[("Authorization", "Bearer s3cret-Token_4")]
    )
    .await
    .body
    .contains("s3cret"));
}

#[tokio::test]
async fn other_web_sites_are_refused_without_a_token() {
    let mut server = TestServer::start(quick_settings()).await;
    let addr = server.addr;
    get(
        addr,
        "/api/v1/devices",
        &[("Host", "attacker.example:8770")],
    )
    .await
    .assert_error(403, "forbidden_host");
    let path = format!("/api/v1/devices/{A7}/command");
    post_json(
        addr,
        &path,
        &[("Origin", "https://attacker.example")],
        "{\"cook\":true}",
    )
    .await
    .assert_error(403, "forbidden_origin");
    assert!(server.commands.try_recv().is_err());
    // The page itself, from its own origin.
    let origin = format!("http://{addr}");
    assert_eq!(
        post_json(addr, &path, &[("Origin", &origin)], "{\"cook\":true}")
            .await
            .status,
        200
    );
    assert_eq!(
        get(addr, "/api/v1/devices", &[("Host", "localhost:8770")])
            .await
            .status,
        200
    );

    // The page and the health say nothing to a foreign name (DNS rebinding) or site either.
    for path in ["/", "/healthz"] {
        let reply = get(addr, path, &[("Host", "attacker.example:8770")]).await;
        reply.assert_error(403, "forbidden_host");
        assert!(!reply.body.contains("devices") && !reply.body.contains("cloud"));
        get(addr, path, &[("Origin", "https://attacker.example")])
            .await
            .assert_error(403, "forbidden_origin");
        assert_eq!(
            get(addr, path, &[("Host", "localhost:8770")]).await.status,
            200
        );
    }
}

#[tokio::test]
async fn with_a_token_the_health_answers_any_host_name_but_no_other_site() {
    let server = TestServer::start(with_token()).await;
    let addr = server.addr;
    assert_eq!(
        get(addr, "/healthz", &[("Host", "kitchen.lan:8770")])
            .await
            .status,
        200
    );
    get(addr, "/healthz", &[("Origin", "https://attacker.example")])
        .await
        .assert_error(403, "forbidden_origin");
}

#[tokio::test]
async fn no_answer_is_sniffed() {
    let server = TestServer::start(with_token()).await;
    let addr = server.addr;
    let bearer = format!("Bearer {TOKEN}");
    let auth = [("Authorization", bearer.as_str())];
    for (path, headers) in [
        ("/healthz", &[][..]),
        ("/api/v1/devices", &auth[..]),
        ("/api/v1/devices", &[][..]),
        ("/api/v1/openapi.json", &auth[..]),
        ("/metrics", &auth[..]),
        ("/nowhere", &auth[..]),
        ("/", &[][..]),
    ] {
        let reply = get(addr, path, headers).await;
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_errors() {
    let server = TestServer::start(quick_settings()).await;
    get(server.addr, "/api/v2/devices", &[])
        .await
        .assert_error(404, "not_found");
    request(server.addr, "DELETE", "/api/v1/devices", &[], None)
        .await
        .assert_error(405, "method_not_allowed");
    get(server.addr, &format!("/api/v1/devices/{A7}/command"), &[])
        .await
        .assert_error(405, "method_not_allowed");
    get(server.addr, "/api/v1/stream", &[])
        .await
        .assert_error(426, "websocket_required");
}

#[tokio::test]
async fn metrics_carry_the_contract_names_and_the_devices() {
    let server = TestServer::start(quick_settings()).await;
    let metrics = server.handle.metrics();
    metrics.cloud_link(true);
    metrics.mqtt_link(true);
    metrics.cloud_reconnect();
    for _ in 0..5 {
        metrics.cloud_frame();
    }
    metrics.dropped_frame();
    metrics.publish();
    metrics.command_finished(None, Duration::from_millis(1500));
    metrics.command_finished(Some("device_offline"), Duration::from_millis(2));
    metrics.queue_depth("mqtt_out", 2);
    get(server.addr, "/api/v1/nothing", &[]).await;

    let reply = get(server.addr, "/metrics", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = &reply.body;
    for (series, value) in [
        ("anova2mqtt_cloud_connected", 1.0),
        ("anova2mqtt_mqtt_connected", 1.0),
        ("anova2mqtt_cloud_reconnects_total", 1.0),
        ("anova2mqtt_cloud_frames_total", 5.0),
        ("anova2mqtt_cloud_frames_dropped_total", 1.0),
        ("anova2mqtt_mqtt_publishes_total", 1.0),
        ("anova2mqtt_commands_total{code=\"ok\"}", 1.0),
        ("anova2mqtt_commands_total{code=\"device_offline\"}", 1.0),
        ("anova2mqtt_command_duration_seconds_count", 2.0),
        (
            "anova2mqtt_command_duration_seconds_bucket{le=\"2.5\"}",
            2.0,
        ),
        (
            "anova2mqtt_command_duration_seconds_bucket{le=\"1.0\"}",
            1.0,
        ),
        ("anova2mqtt_queue_depth{queue=\"mqtt_out\"}", 2.0),
        ("anova2mqtt_queue_depth{queue=\"api_requests\"}", 0.0),
        ("anova2mqtt_http_responses_total{code=\"404\"}", 1.0),
        ("anova2mqtt_stream_clients", 0.0),
        (&format!("anova2mqtt_device_online{{device=\"{A7}\"}}"), 1.0),
        (
            &format!("anova2mqtt_device_temperature_celsius{{device=\"{A7}\"}}"),
            56.8,
        ),
        (
            &format!("anova2mqtt_device_target_temperature_celsius{{device=\"{A7}\"}}"),
            57.0,
        ),
        (
            &format!("anova2mqtt_device_temperature_celsius{{device=\"{OVEN}\"}}"),
            142.5,
        ),
        (
            &format!("anova2mqtt_device_cooking{{device=\"{PRO}\"}}"),
            0.0,
        ),
    ] {
        assert_eq!(metric(text, series), Some(value), "{series} in:\n{text}");
    }
    assert!(
        text.contains("# TYPE anova2mqtt_command_duration_seconds histogram"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));

    // A scrape while the main loop is silent still serves the daemon's metrics.
    server.set_mode(Mode::Silent);
    let reply = get(server.addr, "/metrics", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(metric(&reply.body, "anova2mqtt_cloud_connected"), Some(1.0));
    assert!(!reply.body.contains("anova2mqtt_device_online{"));
}

#[tokio::test]
async fn the_page_is_self_contained() {
    let server = TestServer::start(quick_settings()).await;
    let page = get(server.addr, "/", &[]).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    // Scripts only by the hash of each of the page's own (Chromium runs them in
    // tests/http_page.rs under this header, so the hashes are right).
    let scripts = csp
        .split(';')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("script-src "))
        .unwrap_or_else(|| panic!("no script-src: {csp}"));
    let sources: Vec<&str> = scripts.split_whitespace().collect();
    assert!(
        sources
            .iter()
            .all(|source| source.starts_with("'sha256-") && source.ends_with("='")),
        "{csp}"
    );
    assert_eq!(sources.len(), page.body.matches("<script").count(), "{csp}");
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    // No external assets: the only absolute URL is the SVG namespace.
    assert_eq!(
        page.body.matches("://").count(),
        page.body.matches("http://www.w3.org/2000/svg").count(),
        "the page refers to another server"
    );
    assert!(!page.body.contains("@import") && !page.body.contains("<script src"));
    assert!(page.body.contains("/api/v1/stream"));
}

#[tokio::test]
async fn bind_names_a_taken_port() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = HttpConfig {
        listen: taken.local_addr().unwrap().to_string(),
        ..HttpConfig::default()
    };
    let err = http::bind(&config).await.unwrap_err();
    assert!(matches!(err, BindError::InUse { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("http.listen") && text.contains("already in use"),
        "{text}"
    );

    let free = HttpConfig {
        listen: "127.0.0.1:0".to_owned(),
        ..HttpConfig::default()
    };
    let listener = http::bind(&free).await.unwrap();
    assert_ne!(listener.local_addr().unwrap().port(), 0);
}

#[tokio::test]
async fn serve_returns_after_shutdown_even_with_a_command_in_flight() {
    let mut server = TestServer::start(quick_settings()).await;
    server.set_mode(Mode::Silent);
    let addr = server.addr;
    let pending = tokio::spawn(async move {
        post_json(
            addr,
            &format!("/api/v1/devices/{A7}/command"),
            &[],
            "{\"cook\":true}",
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    server.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The server is gone: the port no longer answers.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    drop(pending);
}

/// The document is valid OpenAPI 3.1 for an independent validator, describes every route,
/// and the real answers (and the document's own examples) match its schemas.
#[tokio::test]
async fn the_openapi_document_is_valid_and_matches_the_answers() {
    let history = http_support::history_with_a_cook().await;
    let server = TestServer::start(anova2mqtt::http::Settings {
        history: Some(history),
        ..quick_settings()
    })
    .await;
    let reply = get(server.addr, "/api/v1/openapi.json", &[]).await;
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for (path, method) in [
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices/{id}", "get"),
        ("/api/v1/devices/{id}/history", "get"),
        ("/api/v1/devices/{id}/command", "post"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/stream", "get"),
        ("/", "get"),
        ("/api/v1/cooks", "get"),
        ("/api/v1/cooks/{cook_id}", "get"),
        ("/api/v1/cooks/{cook_id}", "delete"),
        ("/api/v1/cooks/{cook_id}/samples.csv", "get"),
        ("/api/v1/presets", "get"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not described");
        assert!(
            operation["summary"].as_str().is_some_and(|s| s.len() > 10),
            "{path}"
        );
    }
    for code in [200, 400, 404, 413, 415, 422, 429, 502, 503, 504] {
        assert!(
            doc["paths"]["/api/v1/devices/{id}/command"]["post"]["responses"][code.to_string()]
                .is_object(),
            "command status {code} is not described"
        );
    }

    // Real answers, to check against the schemas.
    let addr = server.addr;
    let command = format!("/api/v1/devices/{A7}/command");
    let mut instances = vec![
        (
            "Device",
            get(addr, &format!("/api/v1/devices/{A7}"), &[])
                .await
                .json(),
        ),
        (
            "Device",
            get(addr, &format!("/api/v1/devices/{OVEN}"), &[])
                .await
                .json(),
        ),
        (
            "DeviceHistory",
            get(addr, &format!("/api/v1/devices/{A7}/history"), &[])
                .await
                .json(),
        ),
        ("Health", get(addr, "/healthz", &[]).await.json()),
        ("CookPage", get(addr, "/api/v1/cooks", &[]).await.json()),
        (
            "Cook",
            get(
                addr,
                &format!("/api/v1/cooks/{}", http_support::COOK_ID),
                &[],
            )
            .await
            .json(),
        ),
        ("Error", get(addr, "/api/v1/cooks/nope", &[]).await.json()),
        (
            "Error",
            get(addr, "/api/v1/cooks?limit=0", &[]).await.json(),
        ),
        (
            "CommandResponse",
            post_json(addr, &command, &[], "{\"cook\":true,\"id\":\"a\"}")
                .await
                .json(),
        ),
        (
            "Error",
            post_json(addr, &command, &[], "{\"_code\":\"unsafe\",\"id\":\"b\"}")
                .await
                .json(),
        ),
        ("Error", get(addr, "/api/v1/devices/nope", &[]).await.json()),
        ("Error", get(addr, "/nope", &[]).await.json()),
        (
            "Error",
            request(addr, "POST", &command, &[], Some(b"{}"))
                .await
                .json(),
        ),
    ];
    for device in get(addr, "/api/v1/devices", &[])
        .await
        .json()
        .as_array()
        .unwrap()
    {
        instances.push(("Device", device.clone()));
    }
    let presets = get(addr, "/api/v1/presets", &[]).await;
    assert_eq!(presets.status, 200);
    let presets = presets.json();
    let presets = presets.as_array().unwrap();
    assert!(presets.iter().any(|p| p["name"] == "chicken-breast"
        && p["family"] == "sous_vide"
        && p["command"]["timer"] == 5400));
    for preset in presets {
        instances.push(("Preset", preset.clone()));
    }
    server.set_health(|health| health.cloud = "connecting".to_owned());
    instances.push(("Health", get(addr, "/healthz", &[]).await.json()));
    validate_with_python(&doc, &instances);
}

/// Runs `openapi-spec-validator` on the document and checks each instance (and every schema
/// example) against its schema with `openapi-schema-validator`. Fails when Python or the
/// package is missing and `ANOVA2MQTT_REQUIRE_HTTP_TOOLS=1` (CI); skips otherwise.
fn validate_with_python(doc: &Value, instances: &[(&str, Value)]) {
    let available = std::process::Command::new("python3")
        .args([
            "-c",
            "import openapi_spec_validator, openapi_schema_validator",
        ])
        .output()
        .is_ok_and(|out| out.status.success());
    if !available {
        assert!(
            std::env::var("ANOVA2MQTT_REQUIRE_HTTP_TOOLS").as_deref() != Ok("1"),
            "python3 with openapi-spec-validator is required (ANOVA2MQTT_REQUIRE_HTTP_TOOLS=1): \
             pip install openapi-spec-validator"
        );
        eprintln!("openapi-spec-validator not installed: OpenAPI validation skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let doc_path = dir.path().join("openapi.json");
    std::fs::write(&doc_path, doc.to_string()).unwrap();
    let instances_path = dir.path().join("instances.json");
    let pairs: Vec<Value> = instances
        .iter()
        .map(|(name, value)| json!([name, value]))
        .collect();
    std::fs::write(&instances_path, Value::Array(pairs).to_string()).unwrap();
    let script = r##"
import json, sys
from openapi_spec_validator import validate
from openapi_schema_validator import OAS31Validator
doc = json.load(open(sys.argv[1]))
validate(doc)
def check(name, value):
    schema = {"$ref": "#/components/schemas/" + name, "components": doc["components"]}
    OAS31Validator(schema).validate(value)
for name, value in json.load(open(sys.argv[2])):
    check(name, value)
examples = 0
for name, schema in doc["components"]["schemas"].items():
    for example in schema.get("examples", []):
        check(name, example)
        examples += 1
print("valid; instances and", examples, "examples match")
"##;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&doc_path)
        .arg(&instances_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "OpenAPI validation failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The command examples of the OpenAPI document (what a language model copies) are accepted
/// by the bridge's real command parser.
#[test]
fn the_openapi_command_examples_are_valid_cooker_commands() {
    let doc: Value = serde_json::from_str(anova2mqtt::http::openapi_document()).unwrap();
    let mut examples: Vec<Value> = doc["components"]["schemas"]["CookerCommand"]["examples"]
        .as_array()
        .unwrap()
        .clone();
    let request = &doc["paths"]["/api/v1/devices/{id}/command"]["post"]["requestBody"];
    for (name, example) in request["content"]["application/json"]["examples"]
        .as_object()
        .unwrap()
    {
        if name != "oven" {
            examples.push(example["value"].clone());
        }
    }
    assert!(examples.len() >= 8);
    // The oven's examples are valid oven commands.
    let mut ovens: Vec<Value> = doc["components"]["schemas"]["OvenCommand"]["examples"]
        .as_array()
        .unwrap()
        .clone();
    ovens.push(request["content"]["application/json"]["examples"]["oven"]["value"].clone());
    for example in ovens {
        let envelope = anova2mqtt::command::parse_envelope(example.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{example}: {e:?}"));
        let parsed = anova2mqtt::oven::command::parse(&envelope.fields);
        assert!(parsed.is_ok(), "{example}: {parsed:?}");
    }
    for example in examples {
        let envelope = anova2mqtt::command::parse_envelope(example.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{example}: {e:?}"));
        let parsed = anova2mqtt::sous_vide::command::parse(&envelope.fields);
        assert!(parsed.is_ok(), "{example}: {parsed:?}");
    }
}
