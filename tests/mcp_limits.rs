//! `/mcp`'s bounds, over a real HTTP connection in front of the fake main loop: sessions are
//! capped and expire when idle (a client that opens sessions and never closes them holds at
//! most the cap, for at most the idle time), `DELETE` frees a slot at once, tool calls are
//! rate limited per session with a tool error the model can read, and every call is counted
//! by tool and outcome. `tests/mcp.rs` has the protocol itself, with the official SDK.

mod http_support;

use anova2mqtt::config::McpMode;
use anova2mqtt::http::RateLimit;
use anova2mqtt::mcp::McpLimits;
use http_support::*;
use serde_json::{json, Value};
use std::time::Duration;

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

fn limits(max_sessions: usize, idle: Duration, burst: u32) -> McpLimits {
    McpLimits {
        rate: RateLimit {
            burst,
            per_second: 0.01,
            strikes: u32::MAX,
        },
        max_sessions,
        idle_timeout: idle,
    }
}

fn initialize() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "limits", "version": "1"}}})
    .to_string()
}

/// Opens a session: its id, or the refusal.
async fn open(server: &TestServer) -> Result<String, Reply> {
    let reply = post_json(server.addr, "/mcp", &[ACCEPT], &initialize()).await;
    match reply.header("mcp-session-id") {
        Some(id) if reply.status == 200 => {
            let id = id.to_owned();
            let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            let sent = post_json(
                server.addr,
                "/mcp",
                &[
                    ACCEPT,
                    ("Mcp-Session-Id", &id),
                    ("Mcp-Protocol-Version", "2025-06-18"),
                ],
                &initialized.to_string(),
            )
            .await;
            assert_eq!(sent.status, 202, "{sent:?}");
            Ok(id)
        }
        _ => Err(reply),
    }
}

/// A tool call in session `id`; the JSON-RPC result.
async fn call(server: &TestServer, id: &str, n: u64, tool: &str, arguments: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    let reply = post_json(
        server.addr,
        "/mcp",
        &[
            ACCEPT,
            ("Mcp-Session-Id", id),
            ("Mcp-Protocol-Version", "2025-06-18"),
        ],
        &request.to_string(),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // One SSE event carries the answer.
    let data = reply
        .body
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .find(|data| data.contains("\"jsonrpc\""))
        .unwrap_or_else(|| panic!("no answer in {:?}", reply.body));
    let message: Value = serde_json::from_str(data).unwrap();
    assert_eq!(message["id"], n, "{message}");
    message["result"].clone()
}

#[tokio::test]
async fn sessions_are_capped_and_a_deleted_one_frees_its_slot() {
    let server = TestServer::start_mcp(
        quick_settings(),
        McpMode::Control,
        limits(2, Duration::from_secs(60), 10),
    )
    .await;
    let first = open(&server).await.expect("first session");
    let _second = open(&server).await.expect("second session");
    let refused = open(&server).await.expect_err("a third is one too many");
    assert_eq!(refused.status, 503, "{refused:?}");
    let error = refused.json();
    assert_eq!(error["id"], 1);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many MCP sessions"),
        "{error}"
    );
    let metrics = get(server.addr, "/metrics", &[]).await.body;
    assert_eq!(
        metrics_value(&metrics, "anova2mqtt_mcp_sessions"),
        Some(2.0)
    );

    let deleted = request(
        server.addr,
        "DELETE",
        "/mcp",
        &[
            ("Mcp-Session-Id", &first),
            ("Mcp-Protocol-Version", "2025-06-18"),
        ],
        None,
    )
    .await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    open(&server).await.expect("the deleted session's slot");
    // A deleted session is gone.
    let gone = post_json(
        server.addr,
        "/mcp",
        &[
            ACCEPT,
            ("Mcp-Session-Id", &first),
            ("Mcp-Protocol-Version", "2025-06-18"),
        ],
        &json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}).to_string(),
    )
    .await;
    assert_eq!(gone.status, 404, "{gone:?}");
}

#[tokio::test]
async fn idle_sessions_expire_and_free_their_slots() {
    let server = TestServer::start_mcp(
        quick_settings(),
        McpMode::Control,
        limits(2, Duration::from_millis(300), 10),
    )
    .await;
    // A client that opens sessions and never closes them.
    for _ in 0..2 {
        open(&server).await.expect("a session");
    }
    assert_eq!(open(&server).await.unwrap_err().status, 503);
    let start = std::time::Instant::now();
    loop {
        match open(&server).await {
            Ok(_) => break,
            Err(reply) => assert_eq!(reply.status, 503, "{reply:?}"),
        }
        assert!(start.elapsed() < WAIT, "idle sessions never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = get(server.addr, "/metrics", &[]).await.body;
    assert!(metrics_value(&metrics, "anova2mqtt_mcp_sessions").is_some_and(|n| n <= 2.0));
}

#[tokio::test]
async fn tool_calls_are_rate_limited_per_session_and_counted() {
    let server = TestServer::start_mcp(
        quick_settings(),
        McpMode::Control,
        limits(4, Duration::from_secs(60), 3),
    )
    .await;
    let busy = open(&server).await.unwrap();
    for n in 0..3 {
        let result = call(&server, &busy, 10 + n, "list_devices", json!({})).await;
        assert_eq!(result["isError"], false, "{result}");
    }
    let limited = call(&server, &busy, 20, "get_device", json!({"device": A7})).await;
    assert_eq!(limited["isError"], true, "{limited}");
    assert_eq!(
        limited["structuredContent"]["error"]["code"],
        "rate_limited"
    );
    let message = limited["structuredContent"]["error"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("try again in"), "{message}");
    // Another session has its own budget.
    let other = open(&server).await.unwrap();
    let result = call(&server, &other, 30, "get_device", json!({"device": A7})).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["id"], A7);
    // A command's error response is a tool error with its code.
    let refused = call(
        &server,
        &other,
        31,
        "start_cook",
        json!({"device": A7, "_code": "not_confirmed"}),
    )
    .await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(
        refused["structuredContent"]["error"]["code"],
        "not_confirmed"
    );

    let metrics = get(server.addr, "/metrics", &[]).await.body;
    for (series, value) in [
        (
            "anova2mqtt_mcp_tool_calls_total{tool=\"list_devices\",outcome=\"ok\"}",
            3.0,
        ),
        (
            "anova2mqtt_mcp_tool_calls_total{tool=\"get_device\",outcome=\"rate_limited\"}",
            1.0,
        ),
        (
            "anova2mqtt_mcp_tool_calls_total{tool=\"get_device\",outcome=\"ok\"}",
            1.0,
        ),
        (
            "anova2mqtt_mcp_tool_calls_total{tool=\"start_cook\",outcome=\"not_confirmed\"}",
            1.0,
        ),
    ] {
        assert_eq!(
            metrics_value(&metrics, series),
            Some(value),
            "{series}\n{metrics}"
        );
    }
}

/// The value of the series named exactly `series` (name and labels).
fn metrics_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(name, _)| *name == series)
        .and_then(|(_, value)| value.parse().ok())
}
