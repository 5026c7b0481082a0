//! The MCP server with an independent client (`docs/interface.md` §9): the official MCP Python SDK
//! (`tests/mcp_client.py`) drives the real binary, in front of the simulator and a real
//! mosquitto, over both transports: streamable HTTP at `/mcp` (with the handshake revisions'
//! session and with the sessionless 2026-07-28 revision) and `anova2mqtt mcp` on stdio. Also
//! `/mcp`'s token, `Host` and `Origin` rules, with raw HTTP. `mcp.mode = "read_only"` holds
//! for both: `/mcp` offers only the reading tools, and the API refuses a command marked as an
//! MCP client's.
//!
//! The SDK is required when `ANOVA2MQTT_REQUIRE_HTTP_TOOLS=1` (CI installs it); elsewhere a
//! missing SDK skips the tests that need it.

mod support;

use anova2mqtt::simulator::{demo_cookers, demo_ovens, Simulator, SimulatorConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::Broker;

const BIN: &str = env!("CARGO_BIN_EXE_anova2mqtt");
const TOKEN: &str = "mcp-test-token-0123456789";
const A7: &str = "a7demo000000000001";

/// The real daemon, with its HTTP API on a free port.
struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
    http: SocketAddr,
}

impl Daemon {
    /// `anova2mqtt run` against `broker` and `sim`, with the API token and `extra` config.
    fn start(broker: &Broker, sim: &Simulator, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("anova-token");
        std::fs::write(&token_file, "anova-mcp-test-token\n").unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[anova]\nurl = \"{}\"\ntoken_file = \"{}\"\ncommand_timeout = \"3s\"\n\
                 confirm_timeout = \"4s\"\n[mqtt]\nurl = \"{}\"\nclient_id = \"mcp-{}\"\n\
                 [http]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n[history]\n\
                 path = \"{}\"\n{extra}",
                sim.url(),
                token_file.display(),
                broker.url(),
                uuid::Uuid::new_v4().simple(),
                dir.path().join("history.sqlite3").display(),
            ),
        )
        .unwrap();
        let stderr = dir.path().join("stderr.log");
        let child = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["run", "--config"])
            .arg(&config)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let http = wait_for_address(&stderr);
        Self { child, dir, http }
    }

    fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.http)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The API's address, from the daemon's log line `HTTP API and web page on http://ADDR/`.
fn wait_for_address(log: &Path) -> SocketAddr {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split("web page on http://").nth(1) {
            if let Some(addr) = rest.split('/').next().and_then(|a| a.parse().ok()) {
                return addr;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the daemon did not open its API:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn simulator() -> Simulator {
    let config = SimulatorConfig {
        idle_push_interval: Duration::from_millis(200),
        cooking_push_interval: Duration::from_millis(100),
        ovens: demo_ovens(),
        log_commands: true,
        ..SimulatorConfig::for_tests(demo_cookers())
    };
    Simulator::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .unwrap()
}

/// A broker, the simulator and the real daemon between them, the devices online, for the
/// tests with the SDK.
struct System {
    _broker: Broker,
    sim: Simulator,
    daemon: Daemon,
}

/// `None` (the test is skipped) when the SDK is missing and not required.
async fn system(extra: &str) -> Option<System> {
    if !sdk_available() {
        return None;
    }
    let broker = Broker::start();
    let sim = simulator().await;
    let daemon = Daemon::start(&broker, &sim, extra);
    ready(&daemon).await;
    Some(System {
        _broker: broker,
        sim,
        daemon,
    })
}

impl Daemon {
    /// `GET path` with the token: the status and the body.
    async fn get(&self, path: &str) -> (u16, String) {
        let auth = format!("Bearer {TOKEN}");
        http(self.http, "GET", path, &[("Authorization", &auth)], None).await
    }
}

/// Waits until the daemon lists the three demo devices online.
async fn ready(daemon: &Daemon) {
    let start = Instant::now();
    loop {
        let reply = daemon.get("/api/v1/devices").await;
        if reply.0 == 200 {
            let devices: Value = serde_json::from_str(&reply.1).unwrap_or_default();
            let online = devices
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["online"] == true && d["state"].is_object())
                .count();
            if online == 3 {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "devices not online: {}\n{}",
            reply.1,
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True when python3 can import the SDK; fails the test instead when CI requires it.
fn sdk_available() -> bool {
    let available = Command::new("python3")
        .args(["-c", "import mcp, jsonschema, httpx2"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !available {
        assert!(
            std::env::var("ANOVA2MQTT_REQUIRE_HTTP_TOOLS").as_deref() != Ok("1"),
            "python3 with the MCP SDK is required (ANOVA2MQTT_REQUIRE_HTTP_TOOLS=1): pip install mcp"
        );
        eprintln!("the MCP Python SDK is not installed: test skipped");
    }
    available
}

/// Runs `tests/mcp_client.py` with the sessions of `jobs` (see the script) and the API token
/// in the environment, in one interpreter (importing the SDK takes seconds); their reports.
async fn client(jobs: Value) -> Vec<Value> {
    tokio::task::spawn_blocking(move || run_client(&jobs.to_string()))
        .await
        .unwrap()
}

fn run_client(jobs: &str) -> Vec<Value> {
    let script: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "mcp_client.py"]
        .iter()
        .collect();
    let out = Command::new("python3")
        .arg(script)
        .arg(jobs)
        .env("ANOVA2MQTT_HTTP__TOKEN", TOKEN)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a report ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The report's answer to call number `n`.
fn answer(report: &Value, n: usize) -> &Value {
    &report["calls"][n]["result"]
}

/// The error code a tool error carries, in its structured content and its text alike.
fn error_code(result: &Value) -> &str {
    assert_eq!(result["is_error"], true, "{result}");
    assert_eq!(result["structured"], result["text"], "{result}");
    assert_eq!(result["structured"]["status"], "error", "{result}");
    result["structured"]["error"]["code"]
        .as_str()
        .unwrap_or_default()
}

fn ok(result: &Value) -> &Value {
    assert_eq!(result["is_error"], false, "{result}");
    assert_eq!(result["structured"], result["text"], "{result}");
    &result["structured"]
}

/// What every full scenario must show, whatever the transport.
fn check_full(report: &Value) {
    let names: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "list_devices",
            "get_device",
            "list_cooks",
            "get_cook",
            "list_presets",
            "start_cook",
            "change_cook",
            "stop_cook",
            "cancel_schedule"
        ]
    );
    for tool in report["tools"].as_array().unwrap() {
        assert_eq!(tool["schema_error"], Value::Null, "{tool}");
        assert_eq!(tool["schema"]["type"], "object", "{tool}");
        let read_only = tool["annotations"]["readOnlyHint"] == true;
        let name = tool["name"].as_str().unwrap();
        assert_eq!(
            read_only,
            name.starts_with("list_") || name.starts_with("get_")
        );
        if !read_only {
            assert_eq!(tool["annotations"]["destructiveHint"], true, "{tool}");
            // A pending plan is the gateway's own: cancelling it reaches no device.
            let open_world = name != "cancel_schedule";
            assert_eq!(tool["annotations"]["openWorldHint"], open_world, "{tool}");
        }
    }
    // The cook tools take the command keys, described for a model.
    let start = &report["tools"][5]["schema"]["properties"];
    for key in [
        "device",
        "target_temperature",
        "timer",
        "food",
        "stages",
        "steam",
    ] {
        assert!(
            start[key]["description"]
                .as_str()
                .is_some_and(|d| d.len() > 20),
            "{key}"
        );
    }
    assert!(start.get("cook").is_none());

    let devices = ok(answer(report, 0))["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3);
    assert_eq!(ok(answer(report, 1))["id"], A7);
    assert_eq!(
        ok(answer(report, 1))["cook"],
        Value::Null,
        "idle: no running cook"
    );
    assert_eq!(error_code(answer(report, 2)), "unknown_device");
    assert_eq!(error_code(answer(report, 3)), "out_of_range");
    let unsafe_ = answer(report, 4);
    assert_eq!(error_code(unsafe_), "unsafe");
    let message = unsafe_["structured"]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("safe minimum of 57 °C for poultry"),
        "{message}"
    );
    let started = ok(answer(report, 5));
    assert_eq!(started["id"], "mcp-start");
    assert_eq!(started["command"]["cook"], true);
    assert_eq!(started["command"]["target_temperature"], 63);
    assert_eq!(ok(answer(report, 6))["command"]["timer"], 7200);
    // While it cooks, the device comes with its running cook, started by MCP.
    let cooking = ok(answer(report, 7));
    assert_eq!(cooking["state"]["cooking"], true, "{cooking}");
    assert_eq!(cooking["cook"]["source"], "mcp", "{cooking}");
    assert_eq!(cooking["cook"]["running"], true, "{cooking}");
    assert_eq!(ok(answer(report, 8))["command"]["cook"], false);
    assert_eq!(ok(answer(report, 9))["command"]["temperature_mode"], "dry");
    assert_eq!(ok(answer(report, 10))["command"]["cook"], false);
    assert!(
        answer(report, 11)["protocol_error"]
            .as_str()
            .is_some_and(|e| e.contains("no_such_tool")),
        "an unknown tool is a protocol error: {}",
        answer(report, 11)
    );
    // The presets, as GET /api/v1/presets lists them; narrowed to a family; a family that
    // does not exist is a tool error.
    let presets = ok(answer(report, 12))["presets"].as_array().unwrap();
    assert!(presets.len() >= 4, "{presets:?}");
    for family in ["sous_vide", "oven"] {
        assert!(presets.iter().any(|p| p["family"] == family), "{family}");
    }
    let chicken = presets
        .iter()
        .find(|p| p["family"] == "sous_vide" && p["built_in"] == true)
        .unwrap();
    assert!(chicken["source"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(chicken["command"]["target_temperature"].is_number());
    let ovens = ok(answer(report, 13))["presets"].as_array().unwrap();
    assert!(!ovens.is_empty() && ovens.iter().all(|p| p["family"] == "oven"));
    assert_eq!(error_code(answer(report, 14)), "invalid_value");
    // The history: the model's cook, started by MCP, with a curve of at most 20 rows.
    let cooks = ok(&report["list_cooks"])["cooks"].as_array().unwrap();
    assert_eq!(cooks.len(), 1);
    assert_eq!(cooks[0]["source"], "mcp", "{}", cooks[0]);
    let cook = ok(&report["get_cook"]);
    assert_eq!(cook["cook_id"], cooks[0]["cook_id"]);
    let rows = cook["curve"]["points"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() <= 20, "{}", cook["curve"]);
    assert_eq!(cook["curve"]["columns"][1], "water_temperature_min");
    assert!(
        cook["events"].as_array().is_some_and(|e| !e.is_empty()),
        "{cook}"
    );
    assert_eq!(error_code(&report["get_cook_unknown"]), "unknown_cook");
    assert_eq!(report["resources"].as_array().unwrap().len(), 3);
    assert_eq!(report["resource"]["id"], A7);
    assert!(report["resource"]["state"].is_object());
}

/// The simulator received the start with the target the model asked for: the device, not
/// only the bridge, carried it out.
fn check_device_saw(sim: &Simulator) {
    let starts: Vec<String> = sim
        .handle()
        .commands()
        .iter()
        .filter(|c| c.frame.command == "CMD_APC_START")
        .map(|c| format!("{:?}", c.frame.body))
        .filter(|body| body.contains(A7))
        .collect();
    assert!(!starts.is_empty(), "no start reached the simulated a7");
    assert!(starts.iter().any(|c| c.contains("63")), "{starts:?}");
}

/// The history recorded the model's cook as started by MCP, and its commands as MCP's.
async fn check_history_says_mcp(daemon: &Daemon) {
    let start = Instant::now();
    let cook = loop {
        let (_, body) = daemon
            .get(&format!("/api/v1/cooks?device={A7}&limit=1"))
            .await;
        let list: Value = serde_json::from_str(&body).unwrap_or_default();
        // The store writes in batches: wait for the cook's end.
        if list["cooks"][0]["ended_at"].is_string() {
            break list["cooks"][0].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no ended cook: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(cook["source"], "mcp", "{cook}");
    let id = cook["cook_id"].as_str().unwrap();
    let (_, body) = daemon.get(&format!("/api/v1/cooks/{id}")).await;
    let cook: Value = serde_json::from_str(&body).unwrap();
    let sources: Vec<&Value> = cook["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["source"])
        .collect();
    assert!(
        !sources.is_empty() && sources.iter().all(|s| *s == "mcp"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn streamable_http_with_the_official_sdk() {
    let Some(system) = system("").await else {
        return;
    };
    let (sim, daemon) = (&system.sim, &system.daemon);
    let url = daemon.mcp_url();
    // The handshake revisions with a session, then the 2026-07-28 revision (server/discover,
    // no session).
    let reports = client(json!([
        {"transport": "http", "target": url, "mode": "legacy", "scenario": "full"},
        {"transport": "http", "target": url, "mode": "auto", "scenario": "full"},
    ]))
    .await;
    for report in &reports {
        check_full(report);
    }
    check_device_saw(sim);
    check_history_says_mcp(daemon).await;
    // Every call was counted by tool and outcome.
    let metrics = daemon.get("/metrics").await.1;
    assert!(
        metrics
            .contains("anova2mqtt_mcp_tool_calls_total{tool=\"start_cook\",outcome=\"unsafe\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("anova2mqtt_mcp_tool_calls_total{tool=\"stop_cook\",outcome=\"ok\"} 4"),
        "{metrics}"
    );
}

/// Plans through MCP (`interface.md` §8.2, §8.3, §9): a delayed chicken cook in water at room
/// temperature is refused `unsafe` with why and what would be safe; without `food` it is
/// refused asking for one; the corrected call is accepted with its `schedule`, which
/// get_device then shows; cancel_schedule cancels it (and again, idempotently, says none is
/// pending); change_cook takes no plan. Nothing reaches the device.
#[tokio::test(flavor = "multi_thread")]
async fn plans_with_the_official_sdk() {
    let Some(system) = system("").await else {
        return;
    };
    let reports = client(json!([
        {"transport": "http", "target": system.daemon.mcp_url(), "mode": "legacy", "scenario": "plans"},
    ]))
    .await;
    let report = &reports[0];
    let tool = |name: &str| {
        report["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no tool {name}"))
    };
    let start = tool("start_cook");
    for key in ["start_at", "ready_by", "food"] {
        assert!(start["schema"]["properties"][key].is_object(), "{key}");
    }
    assert!(start["schema"]["properties"].get("schedule").is_none());
    let description = start["description"].as_str().unwrap();
    for words in [
        "HH:MM",
        "54.4 °C",
        "4.4 °C",
        "2 hours",
        "ice bath",
        "cancel_schedule",
    ] {
        assert!(description.contains(words), "{words}: {description}");
    }
    let cancel = tool("cancel_schedule");
    assert_eq!(cancel["annotations"]["destructiveHint"], true, "{cancel}");
    assert_eq!(cancel["annotations"]["idempotentHint"], true, "{cancel}");
    assert_eq!(cancel["annotations"]["openWorldHint"], false, "{cancel}");

    let refused = answer(report, 0);
    assert_eq!(error_code(refused), "unsafe");
    let message = refused["structured"]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("4.4 °C") && message.contains("ice"),
        "{message}"
    );
    assert!(
        refused["structured"]["error"]["safe"]["start_at"].is_string(),
        "what would be safe: {refused}"
    );
    let no_food = answer(report, 1);
    assert_eq!(error_code(no_food), "unsafe");
    assert!(
        no_food["structured"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("food"),
        "{no_food}"
    );
    let planned = ok(answer(report, 2));
    assert_eq!(planned["id"], "mcp-plan", "{planned}");
    let schedule = &planned["schedule"];
    let schedule_id = schedule["schedule_id"].as_str().expect("a schedule id");
    assert!(schedule["start_at"].is_string(), "{planned}");
    let device = ok(answer(report, 3));
    assert_eq!(device["schedule"]["schedule_id"], schedule_id, "{device}");
    assert_eq!(device["state"]["cooking"], false, "{device}");
    let cancelled = ok(answer(report, 4));
    assert_eq!(
        cancelled["command"]["schedule_id"], schedule_id,
        "{cancelled}"
    );
    let again = ok(answer(report, 5));
    assert!(
        again["warnings"].as_array().is_some_and(|w| !w.is_empty()),
        "nothing was pending: {again}"
    );
    assert_eq!(ok(answer(report, 6))["schedule"], Value::Null);
    assert_eq!(error_code(answer(report, 7)), "invalid_value");
    assert!(
        system.sim.handle().commands().is_empty(),
        "a plan does not reach the device before its time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_with_the_official_sdk() {
    let Some(system) = system("").await else {
        return;
    };
    let (sim, daemon) = (&system.sim, &system.daemon);
    let url = format!("http://{}", daemon.http);
    let reports = client(json!([{
        "transport": "stdio", "target": BIN, "args": ["--url", url],
        "mode": "auto", "scenario": "full",
    }]))
    .await;
    check_full(&reports[0]);
    check_device_saw(sim);
    check_history_says_mcp(daemon).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_offers_only_the_reading_tools() {
    let Some(system) = system("[mcp]\nmode = \"read_only\"\n").await else {
        return;
    };
    let (sim, daemon) = (&system.sim, &system.daemon);
    let reports = client(json!([
        {"transport": "http", "target": daemon.mcp_url(), "mode": "legacy", "scenario": "list"},
        {"transport": "stdio", "target": BIN, "mode": "legacy", "scenario": "list",
         "args": ["--url", format!("http://{}", daemon.http), "--mode", "read_only"]},
        // A stdio server that offers every tool: the daemon still refuses its commands.
        {"transport": "stdio", "target": BIN, "mode": "legacy", "scenario": "list",
         "args": ["--url", format!("http://{}", daemon.http)]},
    ]))
    .await;
    for report in &reports[..2] {
        let names: Vec<&str> = report["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "list_devices",
                "get_device",
                "list_cooks",
                "get_cook",
                "list_presets"
            ]
        );
        assert!(
            report["start_cook"]["protocol_error"].is_string(),
            "{}",
            report["start_cook"]
        );
    }
    assert_eq!(reports[2]["tools"].as_array().unwrap().len(), 9);
    assert_eq!(error_code(&reports[2]["start_cook"]), "read_only");
    assert!(
        sim.handle().commands().is_empty(),
        "nothing reached the devices"
    );
}

/// `initialize` as a streamable-HTTP client sends it.
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_token_host_and_origin_rules_hold_for_mcp() {
    let broker = Broker::start();
    let sim = simulator().await;
    let daemon = Daemon::start(&broker, &sim, "");
    let bearer = format!("Bearer {TOKEN}");
    let json = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    let with = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        json.iter()
            .chain(extra)
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect()
    };
    let (status, body) = http(
        daemon.http,
        "POST",
        "/mcp",
        &borrow(&with(&[])),
        Some(INITIALIZE),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = http(
        daemon.http,
        "POST",
        "/mcp",
        &borrow(&with(&[("Authorization", "Bearer wrong")])),
        Some(INITIALIZE),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = http(
        daemon.http,
        "POST",
        "/mcp",
        &borrow(&with(&[
            ("Authorization", &bearer),
            ("Origin", "https://evil.example"),
        ])),
        Some(INITIALIZE),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("forbidden_origin"), "{body}");
    let (status, body) = http(
        daemon.http,
        "POST",
        "/mcp",
        &borrow(&with(&[("Authorization", &bearer)])),
        Some(INITIALIZE),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"protocolVersion\":\"2025-06-18\""),
        "{body}"
    );
    assert!(body.contains("\"tools\""), "{body}");
    // The token in the URL, for clients that can only be given a URL (Home Assistant's).
    let (status, body) = http(
        daemon.http,
        "POST",
        &format!("/mcp?access_token={TOKEN}"),
        &borrow(&with(&[])),
        Some(INITIALIZE),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

fn borrow<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// One HTTP/1.1 request on a fresh connection: the status and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or_default();
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .expect("an answer")
}

/// The README's recorded session is what the server says today: `scripts/mcp-transcript.py`
/// against the demo's devices gives the README's block, but for generated ids, times and the
/// water's temperature.
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_transcript_is_what_the_server_says() {
    let Some(system) = system("").await else {
        return;
    };
    let url = format!("{}?access_token={TOKEN}", system.daemon.mcp_url());
    let script: PathBuf = [env!("CARGO_MANIFEST_DIR"), "scripts", "mcp-transcript.py"]
        .iter()
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let recorded = readme
        .split("```text\nprotocol ")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .map(|block| format!("protocol {block}\n"))
        .expect("the transcript block in README.md");
    assert_eq!(
        normalized(&String::from_utf8_lossy(&out.stdout)),
        normalized(&recorded),
        "the README's transcript is out of date: run scripts/mcp-transcript.py against \
         `anova2mqtt demo` and paste its output"
    );
}

/// `text` with what changes from run to run replaced: command ids (`1796567292-d82dba7a`),
/// times (`2026-12-06T14:28:12Z`, `17:34 local`), schedule ids (UUIDs), durations (`34 min
/// 26 s`), and the numbers after `"water_temperature": `, `"come_up_s": `,
/// `"time_above_4_4_s": ` and `water is ` (the simulated water wobbles); wrapped lines joined
/// first, so a different length cannot move a line break; trailing blank lines dropped.
fn normalized(text: &str) -> String {
    let text = text.trim_end().replace("\n    ", " ");
    let chars: Vec<char> = text.chars().collect();
    let shape = |at: usize, pattern: &str| -> bool {
        pattern.chars().enumerate().all(|(i, p)| {
            chars.get(at + i).is_some_and(|c| match p {
                '9' => c.is_ascii_digit(),
                'x' => c.is_ascii_hexdigit(),
                _ => *c == p,
            })
        })
    };
    let number_at = |at: usize| -> usize {
        let mut end = at;
        while chars
            .get(end)
            .is_some_and(|c| c.is_ascii_digit() || *c == '.')
        {
            end += 1;
        }
        end - at
    };
    // `N h`, `N min`, `N s` (not the start of a longer word): the length of that text.
    let duration_at = |at: usize| -> Option<usize> {
        let digits = number_at(at);
        if digits == 0 || chars.get(at + digits) != Some(&' ') {
            return None;
        }
        let unit = at + digits + 1;
        ["min", "h", "s"].iter().find_map(|u| {
            let end = unit + u.len();
            let word_ends = !chars.get(end).is_some_and(|c| c.is_alphanumeric());
            (shape(unit, u) && word_ends).then_some(end - at)
        })
    };
    let patterns = [
        ("9999999999-xxxxxxxx", "<id>"),
        ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "<uuid>"),
        ("9999-99-99T99:99:99Z", "<time>"),
        ("99:99 local", "<hh:mm> local"),
    ];
    let numbered = [
        "\"water_temperature\": ",
        "\"come_up_s\": ",
        "\"time_above_4_4_s\": ",
        "water is ",
    ];
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let after_letter = i > 0 && chars[i - 1].is_alphanumeric();
        if let Some((pattern, with)) = patterns.iter().find(|(p, _)| shape(i, p)) {
            out.push_str(with);
            i += pattern.len();
        } else if numbered.iter().any(|k| out.ends_with(k)) && number_at(i) > 0 {
            out.push_str("<number>");
            i += number_at(i);
        } else if let Some(length) = duration_at(i).filter(|_| !after_letter) {
            if !out.ends_with("<duration>") && !out.ends_with("<duration> ") {
                out.push_str("<duration>");
            } else if out.ends_with(' ') {
                out.pop();
            }
            i += length;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn the_transcript_normalizes_what_changes_from_run_to_run() {
    let a = "takes about 34 min 26 s, start in 2 h 59 min 16 s, by 2026-12-06T17:34:17Z (17:34 \
             local) {\"schedule_id\": \"34e70654-d46d-41a8-97d1-0705dbe60298\", \"come_up_s\": \
             2582} the water is 19.97 °C, at 57 °C for 2 h";
    let b = "takes about 34 min, start in 3 h, by 2026-12-06T18:00:00Z (18:00 local) \
             {\"schedule_id\": \"00e70654-d46d-41a8-97d1-0705dbe60299\", \"come_up_s\": 2580} \
             the water is 20 °C, at 57 °C for 2 h";
    assert_eq!(normalized(a), normalized(b));
    assert!(normalized(a).ends_with("at 57 °C for <duration>"));
    assert_ne!(normalized("at 57 °C"), normalized("at 58 °C"));
}
