//! The cook history end to end (`docs/interface.md` §7): the daemon with a real mosquitto and the
//! simulator over a real WebSocket; what a cook is on MQTT, and what the store keeps of it,
//! read back through the REST API.

mod http_support;
mod support;

use anova2mqtt::simulator::{
    CookerStage, OvenSettings, SimCookerSpec, SimOvenSpec, SimulatorConfig,
};
use http_support::get;
use serde_json::{json, Value};
use std::time::Duration;
use support::system::{sim_config, System, A7, PRO};
use support::Watcher;

const OVEN: &str = "ovenhistory0000001";

/// Fast physics: a cooker heats 55 → 57 °C and runs a 3-minute timer in a few seconds; the
/// oven preheats in a moment.
fn fast() -> SimulatorConfig {
    let warm = |mut spec: SimCookerSpec| {
        spec.water_temperature_c = 55.0;
        spec
    };
    SimulatorConfig {
        speed: 120.0,
        preheat_rate_c_per_min: 1.0,
        cookers: vec![
            warm(SimCookerSpec::a7(A7, "Kitchen")),
            warm(SimCookerSpec::pro(PRO, "Garage")),
        ],
        ovens: vec![SimOvenSpec::v2(OVEN, "Oven")],
        oven: OvenSettings {
            v2_idle_push: Duration::from_millis(300),
            v2_cooking_push: Duration::from_millis(100),
            heat_rate_c_per_min: 600.0,
            ..OvenSettings::default()
        },
        ..sim_config()
    }
}

/// The next event of `kind` on the device's event topic.
async fn event(watcher: &mut Watcher, id: &str, kind: &str) -> Value {
    let topic = format!("anova2mqtt/{id}/event");
    watcher
        .wait_for_within(Duration::from_secs(8), kind, |m| {
            m.topic == topic && m.json()["event_type"] == kind
        })
        .await
        .json()
}

/// The events seen on a device's event topic, in order.
fn events(watcher: &mut Watcher, id: &str) -> Vec<Value> {
    watcher.drain();
    let topic = format!("anova2mqtt/{id}/event");
    watcher
        .seen
        .iter()
        .filter(|m| m.topic == topic)
        .map(|m| m.json())
        .collect()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect()
}

async fn cooks(sys: &System, device: &str) -> Vec<Value> {
    let page = get(sys.http, &format!("/api/v1/cooks?device={device}"), &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.json()["cooks"].as_array().cloned().unwrap_or_default()
}

async fn cook(sys: &System, cook_id: &str) -> Value {
    let reply = get(sys.http, &format!("/api/v1/cooks/{cook_id}"), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

#[tokio::test]
async fn a_whole_cooker_cook_is_one_recorded_cook() {
    let mut sys = System::start(fast(), |_| {}).await;
    sys.ready().await;
    let response = sys
        .command(
            &format!("anova2mqtt/{A7}/set"),
            r#"{"id": "dinner", "cook": true, "target_temperature": 57, "timer": 3, "food": "beef"}"#,
        )
        .await;
    assert_eq!(response["status"], "ok", "{response}");
    let started = event(&mut sys.watcher, A7, "cook_started").await;
    let cook_id = started["cook_id"].as_str().expect("cook_id").to_owned();
    assert_eq!(started["source"], "mqtt");
    event(&mut sys.watcher, A7, "preheat_complete").await;
    event(&mut sys.watcher, A7, "timer_finished").await;
    let stop = sys
        .command(&format!("anova2mqtt/{A7}/set/cook"), "off")
        .await;
    assert_eq!(stop["status"], "ok", "{stop}");
    let stopped = event(&mut sys.watcher, A7, "cook_stopped").await;
    assert_eq!(stopped["cook_id"], cook_id.as_str());
    assert_eq!(stopped["outcome"], "completed");
    assert!(stopped["time_to_target_s"].as_u64().is_some(), "{stopped}");
    let published = events(&mut sys.watcher, A7);
    assert_eq!(
        kinds(&published),
        [
            "cook_started",
            "preheat_complete",
            "timer_finished",
            "cook_stopped"
        ]
    );
    assert!(published.iter().all(|e| e["cook_id"] == cook_id.as_str()));
    let last = sys
        .watcher
        .wait_for("last_cook", |m| {
            m.topic == format!("anova2mqtt/{A7}/last_cook")
        })
        .await;
    assert_eq!(last.json()["outcome"], "completed");

    let listed = cooks(&sys, A7).await;
    assert_eq!(listed.len(), 1, "one cook: {listed:?}");
    assert_eq!(listed[0]["cook_id"], cook_id.as_str());
    assert_eq!(listed[0]["outcome"], "completed");
    assert_eq!(listed[0]["source"], "mqtt");
    assert_eq!(listed[0]["plan"]["food"], "beef");
    let recorded = cook(&sys, &cook_id).await;
    assert_eq!(
        kinds(recorded["events"].as_array().unwrap()),
        kinds(&published)
    );
    let commands: Vec<&Value> = recorded["commands"].as_array().unwrap().iter().collect();
    assert_eq!(commands.len(), 2, "the start and the stop: {commands:?}");
    assert_eq!(commands[0]["command"]["target_temperature"], 57);
    assert_eq!(commands[0]["response"]["id"], "dinner");
    assert_eq!(commands[1]["command"], json!({"cook": "off"}));
    // Every point of the curve is a temperature MQTT published during the cook.
    let state_topic = format!("anova2mqtt/{A7}/state");
    let temperatures: Vec<f64> = sys
        .watcher
        .seen
        .iter()
        .filter(|m| m.topic == state_topic)
        .filter_map(|m| m.json()["water_temperature"].as_f64())
        .collect();
    let points = recorded["curve"]["points"].as_array().unwrap();
    assert!(!points.is_empty());
    for point in points {
        let t = point[1].as_f64().unwrap();
        assert!(
            temperatures.iter().any(|p| (p - t).abs() < 1e-9),
            "{t} was never published"
        );
        assert_eq!(point[2], 57.0);
    }
    sys.stop().await;
}

#[tokio::test]
async fn a_change_by_restarting_the_cook_is_one_cook_changed() {
    let sim = SimulatorConfig {
        enforce_pat_allow_list: true,
        ..fast()
    };
    let mut sys = System::start(sim, |_| {}).await;
    sys.ready().await;
    let set = format!("anova2mqtt/{PRO}/set");
    let r = sys
        .command(
            &set,
            r#"{"cook": true, "target_temperature": 56, "timer": 90}"#,
        )
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let started = event(&mut sys.watcher, PRO, "preheat_complete").await;
    let cook_id = started["cook_id"].clone();
    let r = sys.command(&set, r#"{"target_temperature": 56.5}"#).await;
    assert_eq!(r["status"], "ok", "{r}");
    assert!(
        r["warnings"][0].as_str().unwrap().contains("started again"),
        "{r}"
    );
    let changed = event(&mut sys.watcher, PRO, "cook_changed").await;
    assert_eq!(changed["cook_id"], cook_id);
    // Let the restarted cook reach its new target, then stop.
    sys.handle()
        .wait_until("at 56.5 °C", Duration::from_secs(8), |h| {
            h.cooker(PRO).is_some_and(|c| c.water_temperature_c >= 56.4)
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = sys.command(&set, r#"{"cook": false}"#).await;
    assert_eq!(r["status"], "ok", "{r}");
    event(&mut sys.watcher, PRO, "cook_stopped").await;
    let seen = events(&mut sys.watcher, PRO);
    assert_eq!(
        kinds(&seen),
        [
            "cook_started",
            "preheat_complete",
            "cook_changed",
            "cook_stopped"
        ],
        "no stop and start, no second preheat_complete"
    );
    let listed = cooks(&sys, PRO).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["outcome"], "stopped");
    assert_eq!(listed[0]["plan"]["target_temperature"], 56.5);
    sys.stop().await;
}

#[tokio::test]
async fn an_oven_cook_and_a_steam_change_stay_one_cook() {
    let mut sys = System::start(fast(), |_| {}).await;
    sys.ready().await;
    let set = format!("anova2mqtt/{OVEN}/set");
    sys.watcher
        .wait_for("oven online", |m| {
            m.topic == format!("anova2mqtt/{OVEN}/availability") && m.payload == "online"
        })
        .await;
    // A whole cook: preheat, a one-minute timer, and the oven ends it by itself.
    let r = sys
        .command(
            &set,
            r#"{"cook": true, "target_temperature": 180, "timer": "1m"}"#,
        )
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let stopped = event(&mut sys.watcher, OVEN, "cook_stopped").await;
    assert_eq!(stopped["outcome"], "completed");
    let whole = kinds(&events(&mut sys.watcher, OVEN))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert_eq!(
        whole,
        [
            "cook_started",
            "preheat_complete",
            "timer_finished",
            "cook_stopped"
        ]
    );

    // A steam change is a new CMD_APO_START with a new cookId: still one cook.
    sys.watcher.clear();
    let r = sys
        .command(
            &set,
            r#"{"cook": true, "target_temperature": 120, "steam": 20}"#,
        )
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let started = event(&mut sys.watcher, OVEN, "cook_started").await;
    let r = sys.command(&set, r#"{"steam": 60}"#).await;
    assert_eq!(r["status"], "ok", "{r}");
    let changed = event(&mut sys.watcher, OVEN, "cook_changed").await;
    assert_eq!(changed["cook_id"], started["cook_id"]);
    let r = sys.command(&set, r#"{"cook": false}"#).await;
    assert_eq!(r["status"], "ok", "{r}");
    let stopped = event(&mut sys.watcher, OVEN, "cook_stopped").await;
    assert_eq!(stopped["cook_id"], started["cook_id"]);
    assert_eq!(stopped["outcome"], "stopped");
    let seen = events(&mut sys.watcher, OVEN);
    assert_eq!(
        kinds(&seen)
            .iter()
            .filter(|k| k.starts_with("cook_"))
            .count(),
        3,
        "{:?}",
        kinds(&seen)
    );

    let listed = cooks(&sys, OVEN).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        listed[0]["plan"]["steam"], 60.0,
        "the change replaced the plan"
    );
    assert_eq!(listed[1]["outcome"], "completed");
    let first = cook(&sys, listed[1]["cook_id"].as_str().unwrap()).await;
    assert_eq!(
        first["curve"]["columns"],
        json!([
            "seconds",
            "temperature",
            "target_temperature",
            "probe_temperature",
            "humidity"
        ])
    );
    // Points are at most one per 10 s of real time: this quick cook has its first.
    let point = &first["curve"]["points"][0];
    assert_eq!(point[0], 0);
    assert_eq!(point[2], 180.0);
    assert!(first["time_to_target_s"].as_u64().is_some(), "{first}");
    sys.stop().await;
}

/// The Anova app: another client of the same cloud account, sending its own command; it
/// stays connected until the simulated cooker shows `done`.
async fn from_the_app(
    sys: &System,
    frame: String,
    what: &str,
    done: impl Fn(&anova2mqtt::simulator::CookerSnapshot) -> bool,
) {
    use futures_util::SinkExt;
    let url = format!(
        "{}/?token=anova-app-token&supportedAccessories=APC&platform=android",
        sys.sim.url()
    );
    let (mut app, _) = tokio_tungstenite::connect_async(url).await.expect("app");
    app.send(tokio_tungstenite::tungstenite::Message::text(frame))
        .await
        .expect("sent");
    sys.handle()
        .wait_until(what, Duration::from_secs(5), |h| {
            h.cooker(A7).is_some_and(|c| done(&c))
        })
        .await
        .expect("the app's command applied");
    let _ = app.close(None).await;
}

fn a7_ref() -> anova2mqtt::wire::DeviceRef {
    anova2mqtt::wire::DeviceRef {
        cloud_id: A7.into(),
        device_type: anova2mqtt::wire::DeviceType::new("a7"),
    }
}

#[tokio::test]
async fn a_cook_started_and_stopped_in_the_app_is_recorded_as_the_devices() {
    use anova2mqtt::sous_vide::wire::ApcCommand;
    use anova2mqtt::wire::TemperatureUnit;
    let mut sys = System::start(fast(), |_| {}).await;
    sys.ready().await;
    let start = ApcCommand::Start {
        cooker: a7_ref(),
        target_temperature: 58.0,
        unit: TemperatureUnit::C,
        timer: Some(0),
    };
    from_the_app(&sys, start.to_frame("app-start"), "cooking", |c| {
        c.stage != CookerStage::Idle
    })
    .await;
    let started = event(&mut sys.watcher, A7, "cook_started").await;
    assert_eq!(started["source"], "device");
    from_the_app(
        &sys,
        ApcCommand::Stop { cooker: a7_ref() }.to_frame("app-stop"),
        "idle",
        |c| c.stage == CookerStage::Idle,
    )
    .await;
    let stopped = event(&mut sys.watcher, A7, "cook_stopped").await;
    assert_eq!(stopped["cook_id"], started["cook_id"]);
    assert_eq!(stopped["outcome"], "stopped_on_device");
    let listed = cooks(&sys, A7).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["source"], "device");
    assert_eq!(listed[0]["outcome"], "stopped_on_device");
    assert_eq!(listed[0]["plan"]["target_temperature"], 58.0);
    sys.stop().await;
}

#[tokio::test]
async fn a_restart_of_the_daemon_mid_cook_continues_the_cook() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let file = path.clone();
    let mut sys = System::start(fast(), move |c| c.history.path = Some(file)).await;
    sys.ready().await;
    let set = format!("anova2mqtt/{A7}/set");
    let r = sys
        .command(&set, r#"{"cook": true, "target_temperature": 57}"#)
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let started = event(&mut sys.watcher, A7, "preheat_complete").await;
    let cook_id = started["cook_id"].as_str().unwrap().to_owned();

    sys.restart_daemon().await;
    sys.watcher.clear();
    sys.ready().await;
    let r = sys.command(&set, r#"{"cook": false}"#).await;
    assert_eq!(r["status"], "ok", "{r}");
    let stopped = event(&mut sys.watcher, A7, "cook_stopped").await;
    assert_eq!(stopped["cook_id"], cook_id.as_str(), "the same cook");
    assert_eq!(stopped["outcome"], "stopped");
    assert!(stopped["time_to_target_s"].is_u64(), "{stopped}");
    assert_eq!(
        kinds(&events(&mut sys.watcher, A7)),
        ["cook_stopped"],
        "no second cook_started"
    );
    let listed = cooks(&sys, A7).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["source"], "mqtt");
    // The page's live chart goes on from the store.
    let chart = get(sys.http, &format!("/api/v1/devices/{A7}/history"), &[])
        .await
        .json();
    assert!(!chart["points"].as_array().unwrap().is_empty());
    sys.stop().await;
}

/// `bridge/info`'s `history` once it matches `pred`.
async fn history_info(watcher: &mut Watcher, pred: impl Fn(&str) -> bool) -> String {
    let info = watcher
        .wait_for_within(Duration::from_secs(15), "bridge/info history", |m| {
            m.topic == "anova2mqtt/bridge/info" && m.json()["history"].as_str().is_some_and(&pred)
        })
        .await;
    info.json()["history"].as_str().unwrap().to_owned()
}

/// The bridge bridges: a cook starts and stops through MQTT, with its events.
async fn still_bridging(sys: &mut System) {
    let set = format!("anova2mqtt/{A7}/set");
    let r = sys
        .command(&set, r#"{"cook": true, "target_temperature": 57}"#)
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    event(&mut sys.watcher, A7, "cook_started").await;
    let r = sys.command(&set, r#"{"cook": false}"#).await;
    assert_eq!(r["status"], "ok", "{r}");
    event(&mut sys.watcher, A7, "cook_stopped").await;
}

#[tokio::test]
async fn a_corrupt_database_leaves_the_bridge_bridging_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::write(&path, vec![0x42; 16384]).unwrap();
    let file = path.clone();
    let mut sys = System::start(fast(), move |c| c.history.path = Some(file)).await;
    sys.ready().await;
    let said = history_info(&mut sys.watcher, |h| h != "ok" && h != "opening").await;
    assert!(said.contains("not a database"), "{said}");
    let health = get(sys.http, "/healthz", &[]).await;
    assert_eq!(
        health.status, 200,
        "history does not make the bridge unhealthy"
    );
    assert!(health.json()["history"]
        .as_str()
        .unwrap()
        .contains("not a database"));
    still_bridging(&mut sys).await;
    let metrics = get(sys.http, "/metrics", &[]).await.body;
    let errors = http_support::metric(&metrics, "anova2mqtt_history_write_errors_total");
    assert!(errors.is_some_and(|n| n >= 1.0), "{metrics}");
    let cooks = get(sys.http, "/api/v1/cooks", &[]).await;
    assert_eq!(cooks.status, 503);
    assert_eq!(cooks.json()["error"]["code"], "history_unavailable");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        vec![0x42; 16384],
        "left as it was"
    );
    sys.stop().await;
}

#[tokio::test]
async fn a_full_database_leaves_the_bridge_bridging_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = anova2mqtt::store::Settings::new(
        Some(dir.path().join("history.sqlite3")),
        Duration::from_secs(86400 * 365),
    );
    // Not even the schema fits: SQLite's own "database or disk is full", as on a full disk.
    settings.max_pages = Some(5);
    let mut sys = System::start_with_history(fast(), |_| {}, Some(settings)).await;
    sys.ready().await;
    still_bridging(&mut sys).await;
    let said = history_info(&mut sys.watcher, |h| h.contains("full")).await;
    assert!(said.contains("database or disk is full"), "{said}");
    still_bridging(&mut sys).await;
    sys.stop().await;
}

#[tokio::test]
async fn a_read_only_database_leaves_the_bridge_bridging_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = DELETE; CREATE TABLE t (x);")
            .unwrap();
    }
    let read_only = ReadOnly::make(&path);
    let file = path.clone();
    let mut sys = System::start(fast(), move |c| c.history.path = Some(file)).await;
    sys.ready().await;
    let said = history_info(&mut sys.watcher, |h| h != "ok" && h != "opening").await;
    assert!(
        said.contains("readonly") || said.contains("read-only") || said.contains("unable to open"),
        "{said}"
    );
    still_bridging(&mut sys).await;
    sys.stop().await;
    drop(read_only);
}

/// A file the daemon cannot write: mode 0444, and immutable when the tests run as root (root
/// writes through file modes).
struct ReadOnly(std::path::PathBuf);

impl ReadOnly {
    fn make(path: &std::path::Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if root {
            let status = std::process::Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .expect("chattr (e2fsprogs) makes the file read-only for root");
            assert!(status.success(), "chattr +i failed on {}", path.display());
        }
        Self(path.to_owned())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

/// `kill -9` of the real binary in the middle of a cook: the file is not corrupted, and what
/// was recorded more than one batch before the kill is there.
#[tokio::test]
async fn kill_9_mid_cook_loses_at_most_the_last_batch() {
    use anova2mqtt::simulator::Simulator;
    let broker = support::Broker::start();
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), fast())
        .await
        .expect("simulator");
    let mut watcher = Watcher::connect(broker.port, &["anova2mqtt/#"]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/history.sqlite3");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[anova]\nurl = \"{}\"\ntoken = \"anova-kill-test\"\n[mqtt]\nurl = \"{}\"\n\
             client_id = \"kill-{}\"\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [history]\npath = \"{}\"\n",
            sim.url(),
            broker.url(),
            uuid::Uuid::new_v4().simple(),
            db.display()
        ),
    )
    .unwrap();
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_anova2mqtt"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the daemon");
    watcher
        .wait_for("online", |m| {
            m.topic == format!("anova2mqtt/{A7}/availability") && m.payload == "online"
        })
        .await;
    watcher
        .publish(
            &format!("anova2mqtt/{A7}/set"),
            r#"{"cook": true, "target_temperature": 57, "timer": 3}"#,
            false,
        )
        .await;
    let finished = event(&mut watcher, A7, "timer_finished").await;
    let cook_id = finished["cook_id"].as_str().unwrap().to_owned();
    // A batch is written at most 2 s after its first record; wait that and a little more,
    // then kill without warning.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let _ = std::process::Command::new("kill")
        .args(["-9", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();

    let conn = rusqlite::Connection::open(&db).expect("the database opens");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let (ended, source): (Option<i64>, String) = conn
        .query_row(
            "SELECT ended_at, source FROM cooks WHERE cook_id = ?1",
            [&cook_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the cook was recorded");
    assert_eq!(ended, None, "still running when the daemon was killed");
    assert_eq!(source, "mqtt");
    let events: Vec<String> = conn
        .prepare("SELECT kind FROM events e JOIN cooks c ON c.id = e.cook WHERE c.cook_id = ?1 ORDER BY e.rowid")
        .unwrap()
        .query_map([&cook_id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        ["cook_started", "preheat_complete", "timer_finished"]
    );
    let samples: i64 = conn
        .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))
        .unwrap();
    assert!(samples >= 1);
    let commands: i64 = conn
        .query_row("SELECT COUNT(*) FROM commands", [], |r| r.get(0))
        .unwrap();
    assert_eq!(commands, 1, "the start and its response");
}
