//! The web page (`GET /`) in a real headless Chromium, driven over the Chrome DevTools
//! Protocol with the project's own WebSocket client: it shows the devices and their
//! temperatures, follows the live stream, and a click on Start sends a start command.
//!
//! Chromium is required in CI (`ANOVA2MQTT_REQUIRE_HTTP_TOOLS=1`); elsewhere a missing browser
//! skips these tests with a message.
//!
//! `cargo test --test http_page -- --ignored screenshots` writes the README's screenshots to
//! `docs/`.

mod http_support;
mod support;

use anova2mqtt::http::Settings;
use anova2mqtt::secret::Secret;
use futures_util::{SinkExt, StreamExt};
use http_support::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// A headless Chromium with one page, attached over the DevTools protocol.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    cdp: Ws,
    session: String,
    next_id: u64,
    /// JavaScript exceptions the page threw.
    exceptions: Vec<Value>,
}

fn chromium_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

impl Browser {
    /// Starts Chromium; `None` when it is not installed (and not required).
    async fn launch() -> Option<Self> {
        let Some(binary) = chromium_binary() else {
            assert!(
                std::env::var("ANOVA2MQTT_REQUIRE_HTTP_TOOLS").as_deref() != Ok("1"),
                "chromium is required (ANOVA2MQTT_REQUIRE_HTTP_TOOLS=1) but not installed"
            );
            eprintln!("chromium not found: web page test skipped");
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(binary)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--remote-debugging-port=0",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .arg("about:blank")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group, so that the browser's helpers go with it.
                .process_group(0)
                .spawn()
                .expect("start chromium")
        };
        // Chromium writes its port and browser endpoint here once it listens.
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(20);
        let endpoint = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break format!("ws://127.0.0.1:{port}{path}");
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromium did not open its DevTools port"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (cdp, _) = tokio_tungstenite::connect_async(endpoint)
            .await
            .expect("DevTools");
        let mut browser = Self {
            child,
            _profile: profile,
            cdp,
            session: String::new(),
            next_id: 0,
            exceptions: Vec::new(),
        };
        let target = browser
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Runtime.enable", json!({})).await;
        browser.call("Page.enable", json!({})).await;
        Some(browser)
    }

    /// One DevTools command (on the page once attached); its result.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.cdp
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.cdp.next())
                .await
                .unwrap_or_else(|_| panic!("DevTools did not answer {method}"));
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
                Some(Err(err)) => panic!("DevTools connection failed during {method}: {err}"),
                None => panic!("DevTools connection closed during {method}"),
            };
            let reply: Value = serde_json::from_str(text.as_str()).unwrap();
            if reply["method"] == "Runtime.exceptionThrown" {
                self.exceptions
                    .push(reply["params"]["exceptionDetails"].clone());
            }
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// Navigates and waits until the new document has loaded.
    async fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_for("location.protocol === 'http:' && document.readyState === 'complete'")
            .await;
    }

    /// Evaluates `expression` in the page and returns its value.
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page.
    async fn wait_for(&mut self, expression: &str) {
        let deadline = Instant::now() + WAIT;
        // An exception (an element not there yet) counts as "not yet".
        let guarded = format!("(() => {{ try {{ return ({expression}) === true; }} catch (e) {{ return false; }} }})()");
        while self.eval(&guarded).await != json!(true) {
            assert!(
                Instant::now() < deadline,
                "never true in the page: {expression}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A text in the page, by CSS selector.
    async fn text(&mut self, selector: &str) -> String {
        let value = self
            .eval(&format!(
                "(document.querySelector({selector:?}) || {{}}).textContent || null"
            ))
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG of the page at the given size (CSS pixels), light or dark.
    async fn screenshot(
        &mut self,
        path: &std::path::Path,
        width: u32,
        height: u32,
        mobile: bool,
        dark: bool,
    ) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": if mobile { 2 } else { 1 }, "mobile": mobile}),
        )
        .await;
        let scheme = if dark { "dark" } else { "light" };
        self.call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": false}),
            )
            .await;
        let png = base64_decode(shot["data"].as_str().unwrap());
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The process group we started: the browser and its helpers (the crash handlers
        // leave on their own when the browser is gone).
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        // Never hang a test on a browser that will not die.
        for _ in 0..100 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    digits
        .chunks(4)
        .flat_map(|chunk| {
            let n =
                chunk.iter().fold(0u32, |n, &d| n << 6 | u32::from(d)) << (6 * (4 - chunk.len()));
            let bytes = n.to_be_bytes();
            bytes[1..chunk.len()].to_vec()
        })
        .collect()
}

fn card(id: &str, inner: &str) -> String {
    format!("[data-device=\"{id}\"] {inner}")
}

#[tokio::test]
async fn the_page_shows_the_devices_live_and_start_sends_a_start_command() {
    let mut server = TestServer::start(quick_settings()).await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    browser.open(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.querySelectorAll('[data-device]').length === 3")
        .await;
    assert_eq!(browser.text(&card(A7, ".temp")).await, "56.8 °C");
    assert_eq!(browser.text(&card(A7, ".name")).await, "Kitchen sous vide");
    assert_eq!(browser.text(&card(OVEN, ".temp")).await, "142.5 °C");
    assert!(browser
        .text(&card(OVEN, ".facts"))
        .await
        .contains("preheating"));
    assert!(browser
        .text(&card(A7, ".facts"))
        .await
        .contains("remaining"));
    // The chart was drawn from the history.
    browser
        .wait_for(&format!(
            "!!document.querySelector('{}')",
            card(A7, "svg.chart path.water").replace('\'', "\\'")
        ))
        .await;
    browser
        .wait_for("document.getElementById('live').textContent === 'live'")
        .await;
    assert_eq!(browser.text("#cloud").await, "cloud connected");
    // The Pro's pending plan, from GET /api/v1/schedules.
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent.includes('ready by')",
            card(PRO, ".schedule .pending").replace('\'', "\\'")
        ))
        .await;
    let plan = browser.text(&card(PRO, ".schedule .pending")).await;
    for words in [
        "Scheduled: starts",
        "85.0 °C",
        "1:00:00",
        "vegetables",
        "about 64 min",
    ] {
        assert!(plan.contains(words), "{words}: {plan}");
    }
    assert!(browser
        .eval(&format!(
            "document.querySelector('{}').hidden",
            card(A7, ".schedule .pending").replace('\'', "\\'")
        ))
        .await
        .as_bool()
        .unwrap());

    // A state from the stream shows at once.
    let mut state = fake_devices()[0]["state"].clone();
    state["water_temperature"] = json!(57.3);
    server.handle.broadcast(Arc::from(
        json!({"type": "state", "device": A7, "state": state}).to_string(),
    ));
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent === '57.3 °C'",
            card(A7, ".temp").replace('\'', "\\'")
        ))
        .await;

    // Start on the idle Pro: a start command with its pending target reaches the bridge.
    browser
        .eval(&format!(
            "document.querySelector('{}').click(); true",
            card(PRO, "button[data-action=start]").replace('\'', "\\'")
        ))
        .await;
    let (device, body) = server.next_command().await;
    assert_eq!(device, PRO);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["cook"], true, "{body}");
    assert_eq!(body["target_temperature"], 63.0, "{body}");
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent.includes('Done')",
            card(PRO, ".response").replace('\'', "\\'")
        ))
        .await;

    // Stop on the oven.
    browser
        .eval(&format!(
            "document.querySelector('{}').click(); true",
            card(OVEN, "button[data-action=stop]").replace('\'', "\\'")
        ))
        .await;
    assert_eq!(
        server.next_command().await,
        (OVEN.to_owned(), r#"{"cook":false}"#.to_owned())
    );
    assert!(
        browser.exceptions.is_empty(),
        "the page threw: {:?}",
        browser.exceptions
    );
}

/// Issue 27 item 1: "remaining" counts down from the state's `timer_remaining` as of its
/// arrival, whatever the device's timestamps say: the demo at `--speed 60` stamps its states
/// with simulated time, hours ahead of the wall clock (the page showed 8:13:23 for 39:41).
#[tokio::test]
async fn the_remaining_time_counts_down_from_timer_remaining_not_the_wall_clock() {
    let server = TestServer::start(quick_settings()).await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    browser.open(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.querySelectorAll('[data-device]').length === 3")
        .await;
    let facts = card(A7, ".facts").replace('\'', "\\'");
    let shows =
        |text: &str| format!("document.querySelector('{facts}').textContent.includes({text:?})");
    // The snapshot's 3120 s (52:00), counted from when they arrived.
    browser.wait_for(&shows("remaining 5")).await;
    browser
        .wait_for("document.getElementById('live').textContent === 'live'")
        .await;

    let mut state = fake_devices()[0]["state"].clone();
    let ahead = 8 * 3600;
    state["timer_remaining"] = json!(2381);
    state["updated_at"] = json!(at(ahead));
    state["cook_ends_at"] = json!(at(ahead + 2381));
    server.handle.broadcast(Arc::from(
        json!({"type": "state", "device": A7, "state": state}).to_string(),
    ));
    browser.wait_for(&shows("remaining 39:4")).await;
    // And on by itself, a second at a time, between pushes.
    browser.wait_for(&shows("remaining 39:3")).await;

    // The same state again (a device list sent anew) does not start the count again.
    let mut devices = fake_devices();
    devices[0]["state"] = state.clone();
    server.handle.broadcast(Arc::from(
        json!({"type": "devices", "devices": devices}).to_string(),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = browser.text(&card(A7, ".facts")).await;
    assert!(text.contains("remaining 39:3"), "{text}");
    assert!(
        browser.exceptions.is_empty(),
        "the page threw: {:?}",
        browser.exceptions
    );
}

/// Issue 27 item 17: an oven's card shows and sets its mode, steam, elements, fan, probe and
/// stages (a cooker's card has none of it), and the charts' time axis has a unit.
#[tokio::test]
async fn an_ovens_card_has_its_controls_and_the_chart_a_time_unit() {
    let mut server = TestServer::start(quick_settings()).await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    browser.open(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.querySelectorAll('[data-device]').length === 3")
        .await;
    let q = |id: &str, inner: &str| {
        format!(
            "document.querySelector('{}')",
            card(id, inner).replace('\'', "\\'")
        )
    };
    browser
        .wait_for(&format!("!{}.hidden", q(OVEN, "fieldset.oven")))
        .await;
    assert_eq!(
        browser
            .eval(&format!("{}.hidden", q(A7, "fieldset.oven")))
            .await,
        json!(true),
        "no oven controls on a cooker"
    );
    // The fields show the state: dry, fan 100, all three elements, no steam, no probe target.
    let fields = browser
        .eval(&format!(
            "(() => {{ const f = {}; return [f.querySelector('[name=temperature_mode]').value,
              f.querySelector('[name=fan]').value, f.querySelector('[name=steam]').value,
              f.querySelector('[name=probe_target]').value,
              [...f.querySelectorAll('input[type=checkbox]')].map((b) => b.checked)]; }})()",
            q(OVEN, "fieldset.oven")
        ))
        .await;
    assert_eq!(fields, json!(["dry", "100", "0", "", [true, true, true]]));
    let facts = browser.text(&card(OVEN, ".facts")).await;
    for fact in [
        "mode dry",
        "elements top, bottom, rear",
        "fan 100",
        "probe not plugged in",
        "stage Roast",
    ] {
        assert!(facts.contains(fact), "{fact:?} in {facts:?}");
    }

    // Edited fields go with Start.
    let form = format!("document.querySelector('[data-device=\"{OVEN}\"]')");
    let set = |name: &str, value: &str| {
        format!("(() => {{ const n = {form}.querySelector('[name={name}]'); n.value = '{value}'; n.dispatchEvent(new Event('input')); return true; }})()")
    };
    let tick = |name: &str, on: bool| {
        format!("(() => {{ const n = {form}.querySelector('[name=element_{name}]'); n.checked = {on}; n.dispatchEvent(new Event('input')); return true; }})()")
    };
    for script in [
        set("target", "60"),
        set("timer", "2h"),
        set("temperature_mode", "wet"),
        set("steam", "80"),
        set("fan", "33"),
        tick("top", false),
        tick("bottom", false),
    ] {
        assert_eq!(browser.eval(&script).await, json!(true), "{script}");
    }
    browser
        .eval(&format!(
            "{form}.querySelector('button[data-action=start]').click(); true"
        ))
        .await;
    let (device, body) = server.next_command().await;
    assert_eq!(device, OVEN);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"cook": true, "target_temperature": 60, "timer": "2h", "temperature_mode": "wet",
            "steam": 80, "fan": 33, "elements": ["rear"]})
    );
    browser
        .wait_for(&format!(
            "{form}.querySelector('.response').textContent.includes('Done')"
        ))
        .await;

    // Answered ok, the fields follow the state again (the fake's: fan 100, every element).
    // Two stages collected from the form, then started as one cook.
    for script in [
        set("target", "120"),
        set("timer", "30"),
        set("steam", "60"),
        set("temperature_mode", "dry"),
        set("fan", "33"),
        tick("top", false),
        tick("bottom", false),
        format!("{form}.querySelector('button[data-action=stage-add]').click(); true"),
        set("target", "230"),
        set("timer", ""),
        set("steam", "0"),
        tick("top", true),
        set("probe_target", "70"),
        format!("{form}.querySelector('button[data-action=stage-add]').click(); true"),
    ] {
        assert_eq!(browser.eval(&script).await, json!(true), "{script}");
    }
    let listed = browser.text(&card(OVEN, "ol.stages")).await;
    assert!(listed.contains("dry · 120.0 °C · steam 60 %"), "{listed}");
    assert!(listed.contains("until the probe reads 70.0 °C"), "{listed}");
    browser
        .eval(&format!(
            "{form}.querySelector('button[data-action=stages-start]').click(); true"
        ))
        .await;
    let (_, body) = server.next_command().await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"cook": true, "stages": [
            {"temperature_mode": "dry", "target_temperature": 120, "steam": 60, "elements": ["rear"], "fan": 33, "timer": 30},
            {"temperature_mode": "dry", "target_temperature": 230, "steam": 0, "elements": ["top", "rear"], "fan": 33, "probe_target": 70}
        ]})
    );
    browser
        .wait_for(&format!(
            "{form}.querySelector('ol.stages').children.length === 0"
        ))
        .await;

    // The time axis says its unit: the a7's 40 minutes of history.
    browser
        .wait_for(&format!(
            "{}.textContent.includes('min since the start')",
            q(A7, "svg.chart")
        ))
        .await;
    assert!(
        browser.exceptions.is_empty(),
        "the page threw: {:?}",
        browser.exceptions
    );
}

/// The page on the real daemon, with the simulated cloud behind it: it shows the demo's
/// cookers with their temperatures, and Start reaches the simulator as `CMD_APC_START`.
#[tokio::test]
async fn on_the_real_daemon_start_reaches_the_simulated_cooker() {
    use anova2mqtt::simulator::{ApcCommand, ClientCommand};
    use support::system::{sim_config, System, A7};
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let Some(mut browser) = Browser::launch().await else {
        sys.stop().await;
        return;
    };
    browser.open(&format!("http://{}/", sys.http)).await;
    browser
        .wait_for("document.querySelectorAll('[data-device]').length === 2")
        .await;
    let temperature = browser.text(&card(A7, ".temp")).await;
    assert!(temperature.ends_with("°C"), "{temperature}");
    let before = sys.handle().commands().len();
    browser
        .eval(&format!(
            "document.querySelector('{}').click(); true",
            card(A7, "button[data-action=start]").replace('\'', "\\'")
        ))
        .await;
    sys.handle()
        .wait_for_commands(before + 1, Duration::from_secs(5))
        .await
        .expect("a command reaches the simulator");
    let commands = sys.handle().commands();
    assert!(
        matches!(
            &commands[before].frame.body,
            ClientCommand::Apc {
                command: ApcCommand::Start { .. },
                ..
            }
        ),
        "{:?}",
        commands[before].frame
    );
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent.includes('Done')",
            card(A7, ".response").replace('\'', "\\'")
        ))
        .await;
    assert!(
        browser.exceptions.is_empty(),
        "the page threw: {:?}",
        browser.exceptions
    );
    drop(browser);
    sys.stop().await;
}

/// The card's preset section (`docs/interface.md` §8.1): the family's presets with their values
/// and source, and "Set preset" makes the preset's values the pending ones.
#[tokio::test]
async fn on_the_real_daemon_a_preset_is_chosen_and_set_from_the_page() {
    use support::system::{sim_config, System, A7};
    let mut sys = System::start(sim_config(), |_| {}).await;
    sys.ready().await;
    let Some(mut browser) = Browser::launch().await else {
        sys.stop().await;
        return;
    };
    browser.open(&format!("http://{}/", sys.http)).await;
    let select = card(A7, "select[name=preset]").replace('\'', "\\'");
    browser
        .wait_for(&format!(
            "document.querySelector('{select}').options.length > 3"
        ))
        .await;
    let options = browser
        .eval(&format!(
            "[...document.querySelector('{select}').options].map(o => o.value)"
        ))
        .await;
    assert!(
        options
            .as_array()
            .unwrap()
            .contains(&json!("chicken-breast")),
        "{options}"
    );
    assert!(
        !options
            .as_array()
            .unwrap()
            .contains(&json!("roast-chicken")),
        "{options}"
    );
    browser
        .eval(&format!(
            "const s = document.querySelector('{select}'); s.value = 'chicken-breast'; \
             s.dispatchEvent(new Event('change')); true"
        ))
        .await;
    let about = browser.text(&card(A7, ".plans .about")).await;
    assert!(
        about.contains("60.0 °C") && about.contains("Baldwin"),
        "{about}"
    );
    browser
        .eval(&format!(
            "document.querySelector('{}').click(); true",
            card(A7, "button[data-action=preset-set]").replace('\'', "\\'")
        ))
        .await;
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent.includes('Done')",
            card(A7, ".response").replace('\'', "\\'")
        ))
        .await;
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent.includes('60.0')",
            card(A7, ".target").replace('\'', "\\'")
        ))
        .await;
    let topic = format!("anova2mqtt/{A7}/state");
    sys.watcher
        .wait_for("the state names the preset", |m| {
            let state = m.json();
            m.topic == topic && state["preset"] == "chicken-breast" && state["timer_total"] == 5400
        })
        .await;
    assert!(
        browser.exceptions.is_empty(),
        "the page threw: {:?}",
        browser.exceptions
    );
    drop(browser);
    sys.stop().await;
}

#[tokio::test]
async fn with_a_token_the_page_asks_for_it_and_then_works() {
    let mut settings: Settings = quick_settings();
    settings.token = Some(Secret::new("page-token-1"));
    let server = TestServer::start(settings).await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    browser.open(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("!document.getElementById('login').hidden")
        .await;
    browser
        .eval(
            "document.getElementById('token').value = 'page-token-1';\
             document.getElementById('login-form').requestSubmit(); true",
        )
        .await;
    browser
        .wait_for("document.querySelectorAll('[data-device]').length === 3")
        .await;
    // The stream authenticated with its first message: live updates arrive.
    browser
        .wait_for("document.getElementById('live').textContent === 'live'")
        .await;
    let mut state = fake_devices()[1]["state"].clone();
    state["water_temperature"] = json!(30.5);
    server.handle.broadcast(Arc::from(
        json!({"type": "state", "device": PRO, "state": state}).to_string(),
    ));
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent === '30.5 °C'",
            card(PRO, ".temp").replace('\'', "\\'")
        ))
        .await;

    // ?access_token= in the address works too, and leaves the address bar.
    let mut second = Browser::launch().await.unwrap();
    second
        .open(&format!(
            "http://{}/?access_token=page-token-1",
            server.addr
        ))
        .await;
    second
        .wait_for("document.querySelectorAll('[data-device]').length === 3")
        .await;
    assert_eq!(second.eval("location.search").await, json!(""));
}

/// Writes `docs/web-page.png` (desktop, light) and `docs/web-page-phone.png` (phone, dark)
/// from the fake devices. Run on purpose: `cargo test --test http_page -- --ignored`.
#[tokio::test]
#[ignore = "writes the README's screenshots"]
async fn screenshots() {
    let server = TestServer::start(quick_settings()).await;
    let mut browser = Browser::launch().await.expect("chromium");
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    browser
        .call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 820, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
    browser.open(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.querySelectorAll('svg.chart path.water').length >= 1")
        .await;
    browser
        .wait_for("document.getElementById('live').textContent === 'live'")
        .await;
    browser
        .screenshot(&docs.join("web-page.png"), 1280, 820, false, false)
        .await;
    browser
        .screenshot(&docs.join("web-page-phone.png"), 390, 844, true, true)
        .await;
}

/// The history view: a device's recorded cooks, and a past cook's chart with its target line,
/// its events as markers and a CSV download.
#[tokio::test]
async fn the_history_view_lists_cooks_and_draws_a_past_cook() {
    let history = history_with_a_cook().await;
    let server = TestServer::start(Settings {
        history: Some(history),
        ..quick_settings()
    })
    .await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    browser.open(&format!("http://{}/", server.addr)).await;
    let details = card(A7, "details.history").replace('\'', "\\'");
    browser
        .wait_for(&format!("!!document.querySelector('{details}')"))
        .await;
    browser
        .eval(&format!(
            "document.querySelector('{details}').open = true; true"
        ))
        .await;
    let item = format!("{details} .cooks button[data-cook=\"{COOK_ID}\"]").replace('"', "\\\"");
    browser
        .wait_for(&format!("!!document.querySelector(\"{item}\")"))
        .await;
    let listed = browser.text(&card(A7, "details.history .cooks")).await;
    assert!(listed.contains("completed"), "{listed}");
    assert!(listed.contains("57.0 °C"), "{listed}");
    browser
        .eval(&format!("document.querySelector(\"{item}\").click(); true"))
        .await;
    for part in [
        "svg.past-chart path.water",
        "svg.past-chart path.goal",
        "svg.past-chart line.mark[data-event=preheat_complete]",
        "svg.past-chart line.mark[data-event=cook_stopped]",
    ] {
        let selector = card(A7, part).replace('\'', "\\'");
        browser
            .wait_for(&format!("!!document.querySelector('{selector}')"))
            .await;
    }
    let summary = browser.text(&card(A7, ".past .summary")).await;
    assert!(summary.contains("started by mqtt"), "{summary}");
    assert!(summary.contains("56.9–57.2 °C"), "{summary}");
    let href = browser
        .eval(&format!(
            "document.querySelector('{}').getAttribute('href')",
            card(A7, ".past a.csv").replace('\'', "\\'")
        ))
        .await;
    assert_eq!(
        href,
        json!(format!("api/v1/cooks/{COOK_ID}/samples.csv")),
        "the CSV download"
    );
    // The oven's card has no cooks of its own but a running one.
    let oven = card(OVEN, "details.history").replace('\'', "\\'");
    browser
        .eval(&format!(
            "document.querySelector('{oven}').open = true; true"
        ))
        .await;
    browser
        .wait_for(&format!(
            "document.querySelector('{oven} .cooks').textContent.includes('running')"
        ))
        .await;
    assert!(
        browser.exceptions.is_empty(),
        "the page threw: {:?}",
        browser.exceptions
    );
}

/// The card's plan section (`interface.md` §8.2, §8.3): a chicken plan without food is
/// refused and the page says why; with food, in an ice bath, it is accepted and shown (start,
/// food, estimate, the food-safety watch), survives a reload (`GET /api/v1/schedules`), and
/// "Cancel schedule" cancels it, with nothing sent to the cooker. Planned again, once the
/// bath's ice is gone and the simulated water warms past 4.4 °C, the card says why the cook
/// started early.
#[tokio::test]
async fn on_the_real_daemon_a_plan_is_scheduled_shown_and_cancelled_from_the_page() {
    use support::system::{sim_config, System, A7};
    // The simulator 600 times faster: the bath's ice (as much as water) lasts about 40 s here.
    let sim = anova2mqtt::simulator::SimulatorConfig {
        speed: 600.0,
        ..sim_config()
    };
    let mut sys = System::start(sim, |_| {}).await;
    sys.ready().await;
    sys.ice_bath(A7, 1.0);
    let Some(mut browser) = Browser::launch().await else {
        sys.stop().await;
        return;
    };
    browser.open(&format!("http://{}/", sys.http)).await;
    let q = |inner: &str| card(A7, inner).replace('\'', "\\'");
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent === '1.0 °C'",
            q(".temp")
        ))
        .await;
    // Three hours from now, on the browser's clock; 63 °C for 90 minutes.
    let fill = format!(
        "const at = new Date(Date.now() + 3 * 3600e3); \
         const two = (n) => String(n).padStart(2, '0'); \
         document.querySelector('{}').value = two(at.getHours()) + ':' + two(at.getMinutes()); \
         for (const [name, value] of [['target', '63'], ['timer', '90']]) {{ \
           const input = document.querySelector('{}'.replace('NAME', name)); \
           input.value = value; input.dispatchEvent(new Event('input')); }} \
         true",
        q("input[name=schedule_time]"),
        q("input[name=NAME]")
    );
    let poultry = format!(
        "document.querySelector('{}').value = 'poultry'; true",
        q("select[name=food]")
    );
    browser.eval(&fill).await;
    let click = |action: &str| {
        format!(
            "document.querySelector('{}').click(); true",
            q(&format!("button[data-action={action}]"))
        )
    };
    let response_says = |text: &str| {
        format!(
            "document.querySelector('{}').textContent.includes('{text}')",
            q(".response")
        )
    };
    // No food named: refused, and the page shows why.
    browser.eval(&click("schedule")).await;
    browser.wait_for(&response_says("unsafe")).await;
    assert!(browser.text(&q(".response")).await.contains("food"));
    // Chicken: accepted and shown.
    browser.eval(&poultry).await;
    browser.eval(&click("schedule")).await;
    browser.wait_for(&response_says("Scheduled")).await;
    let shown = browser.text(&q(".schedule .pending")).await;
    for words in [
        "Scheduled: starts",
        "63.0 °C",
        "poultry",
        "min to reach the target",
        "water 1.0 °C",
    ] {
        assert!(shown.contains(words), "{words}: {shown}");
    }
    let retained = sys
        .watcher
        .wait_for("the retained plan", |m| {
            m.topic == format!("anova2mqtt/{A7}/schedule") && !m.payload.is_empty()
        })
        .await
        .json();
    assert_eq!(retained["command"]["target_temperature"], 63, "{retained}");
    assert_eq!(retained["food_safety"]["food"], "poultry", "{retained}");
    // A reload shows it again, from GET /api/v1/schedules.
    browser.open(&format!("http://{}/", sys.http)).await;
    browser
        .wait_for(&format!(
            "document.querySelector('{}')?.textContent.includes('Scheduled: starts')",
            q(".schedule .pending")
        ))
        .await;
    // Cancelled: gone from the card and from MQTT.
    browser.eval(&click("schedule-cancel")).await;
    browser.wait_for(&response_says("Schedule cancelled")).await;
    browser
        .wait_for(&format!(
            "document.querySelector('{}').hidden",
            q(".schedule .pending")
        ))
        .await;
    sys.watcher
        .wait_for("the retained plan cleared", |m| {
            m.topic == format!("anova2mqtt/{A7}/schedule") && m.payload.is_empty()
        })
        .await;
    assert!(
        sys.handle().commands().is_empty(),
        "nothing reached the cooker"
    );
    // Planned again (the reload emptied the form); the ice is gone; the cook starts early and
    // the card says why.
    browser.eval(&fill).await;
    browser.eval(&poultry).await;
    browser.eval(&click("schedule")).await;
    browser.wait_for(&response_says("Scheduled")).await;
    sys.ice_bath(A7, 0.0);
    browser
        .wait_for(&format!(
            "document.querySelector('{}').textContent.includes('⚠ the water reached')",
            q(".schedule .pending")
        ))
        .await;
    assert!(
        !sys.handle().commands().is_empty(),
        "the cook started on the cooker"
    );
    assert!(
        browser.exceptions.is_empty(),
        "the page threw: {:?}",
        browser.exceptions
    );
    drop(browser);
    sys.stop().await;
}
