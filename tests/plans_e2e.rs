//! Plans end to end (`docs/interface.md` §8.2, §8.3; issue 23's acceptance): the daemon with a
//! real mosquitto and the simulator over a real WebSocket. A plan made on MQTT survives a
//! restart and runs once; one whose start passed while the daemon was stopped starts late
//! while that is still safe, else is reported missed; Home Assistant's "Cancel schedule"
//! button and "Scheduled start" sensor work in both discovery modes.
//!
//! A long stop of the daemon is played by shifting every time the stored plan holds into the
//! past (the daemon is stopped meanwhile, as the database's only writer): to the daemon that
//! starts again it is exactly a plan made that long ago.

mod http_support;
mod support;

use anova2mqtt::homeassistant::DiscoveryMode;
use anova2mqtt::simulator::{Fault, SimCookerSpec, SimulatorConfig};
use http_support::get;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::system::{sim_config, System, A7, PRO};
use support::{Msg, Watcher};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// RFC 3339 for `seconds` from now, whole seconds.
fn in_seconds(seconds: i64) -> String {
    let at = OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
    at.replace_nanosecond(0)
        .expect("0 ns")
        .format(&Rfc3339)
        .expect("format")
}

fn parse(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The next event of `kind` on the device's event topic.
async fn event(watcher: &mut Watcher, id: &str, kind: &str, within: Duration) -> Value {
    let topic = format!("anova2mqtt/{id}/event");
    watcher
        .wait_for_within(within, kind, |m| {
            m.topic == topic && m.json()["event_type"] == kind
        })
        .await
        .json()
}

/// The first message matching `pred` among those seen after the first `mark` (waits for it).
async fn since(watcher: &mut Watcher, mark: usize, what: &str, pred: impl Fn(&Msg) -> bool) -> Msg {
    watcher.drain();
    if let Some(m) = watcher.seen[mark..].iter().find(|m| pred(m)) {
        return m.clone();
    }
    watcher.next_matching(support::WAIT, what, pred).await
}

/// The responses seen with this `id`: those that answered the plan command (they carry the
/// `schedule`), and those of its runs.
fn responses_to(watcher: &mut Watcher, device: &str, id: &str) -> (Vec<Value>, Vec<Value>) {
    watcher
        .on(&format!("anova2mqtt/{device}/response"))
        .iter()
        .map(Msg::json)
        .filter(|r| r["id"] == id)
        .partition(|r| r.get("schedule").is_some())
}

/// How many cook starts reached the simulated cloud.
fn starts(sys: &System) -> usize {
    sys.handle()
        .commands()
        .iter()
        .filter(|c| c.frame.command == "CMD_APC_START")
        .count()
}

/// The retained plan of a device as last seen (`None`: cleared).
fn schedule_topic(device: &str) -> String {
    format!("anova2mqtt/{device}/schedule")
}

/// Shifts every RFC 3339 time in the database's pending plans (and their `start_at` column)
/// `by` into the past: as if the plan had been made that much earlier.
fn age_pending_plans(db: &Path, by: time::Duration) -> usize {
    fn shift(value: &mut Value, by: time::Duration) {
        match value {
            Value::String(text) => {
                if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
                    *text = (at - by).format(&Rfc3339).expect("format");
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| shift(v, by)),
            Value::Object(map) => map.values_mut().for_each(|v| shift(v, by)),
            _ => {}
        }
    }
    let conn = rusqlite::Connection::open(db).expect("open the history database");
    let plans: Vec<(String, String)> = conn
        .prepare("SELECT schedule_id, data FROM plans WHERE ended_at IS NULL")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (schedule_id, data) in &plans {
        let mut plan: Value = serde_json::from_str(data).expect("a plan is JSON");
        shift(&mut plan, by);
        conn.execute(
            "UPDATE plans SET data = ?1, start_at = start_at - ?2 WHERE schedule_id = ?3",
            rusqlite::params![plan.to_string(), by.whole_seconds(), schedule_id],
        )
        .expect("update");
    }
    plans.len()
}

/// Makes a plan on MQTT and returns its answer (asserted `ok`, with a `schedule`).
async fn plan(sys: &mut System, device: &str, command: &str) -> Value {
    let r = sys
        .command(&format!("anova2mqtt/{device}/set"), command)
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    assert!(r["schedule"]["schedule_id"].is_string(), "{r}");
    r
}

#[tokio::test]
async fn a_restart_keeps_a_pending_plan_and_it_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.sqlite3");
    let mut sys = System::start(sim_config(), move |c| c.history.path = Some(file)).await;
    sys.ready().await;
    let start_at = in_seconds(5);
    let r = plan(
        &mut sys,
        A7,
        &format!(
            r#"{{"id": "kept", "cook": true, "target_temperature": 57, "timer": "2h", "food": "none", "start_at": "{start_at}"}}"#
        ),
    )
    .await;
    let schedule_id = r["schedule"]["schedule_id"].as_str().unwrap().to_owned();
    assert_eq!(
        parse(r["schedule"]["start_at"].as_str().unwrap()),
        parse(&start_at)
    );

    sys.watcher.drain();
    let before_restart = sys.watcher.seen.len();
    sys.restart_daemon().await;
    // The plan is back: republished (retained), in the API, not run early.
    let topic = schedule_topic(A7);
    let republished = since(
        &mut sys.watcher,
        before_restart,
        "the plan republished",
        |m| m.topic == topic && m.json()["schedule_id"] == schedule_id.as_str(),
    )
    .await;
    assert_eq!(
        republished.json()["state"],
        "waiting",
        "{}",
        republished.payload
    );
    let listed = get(sys.http, "/api/v1/schedules", &[]).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains(&schedule_id), "{}", listed.body);
    assert_eq!(starts(&sys), 0, "nothing started before its time");

    let started = event(
        &mut sys.watcher,
        A7,
        "schedule_started",
        Duration::from_secs(9),
    )
    .await;
    assert_eq!(started["schedule_id"], schedule_id.as_str(), "{started}");
    assert_eq!(started["late"], false, "{started}");
    let ran_at = OffsetDateTime::now_utc();
    assert!(
        ran_at >= parse(&start_at),
        "started at its time, not before"
    );
    sys.watcher
        .wait_for("the plan cleared", |m| {
            m.topic == topic && m.payload.is_empty()
        })
        .await;
    // Time for a second run or answer to show, were there one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (made, ran) = responses_to(&mut sys.watcher, A7, "kept");
    assert_eq!(made.len(), 1, "the plan command answered once: {made:?}");
    assert_eq!(ran.len(), 1, "exactly one response to its run: {ran:?}");
    assert_eq!(ran[0]["status"], "ok", "{}", ran[0]);
    assert_eq!(starts(&sys), 1, "one start reached the cloud");
    let cooker = sys.handle().cooker(A7).unwrap();
    assert_eq!(cooker.target_temperature_c, 57.0);
    sys.stop().await;
}

/// The a7 in an ice bath (1 °C) for the perishable plans of the missed-start tests.
fn iced() -> SimulatorConfig {
    let mut sim = sim_config();
    sim.cookers = vec![
        SimCookerSpec::a7(A7, "Kitchen"),
        SimCookerSpec::pro(PRO, "Garage"),
    ];
    sim.with_ice_bath()
}

/// A chicken plan (62 °C, 1 h 30 min) on the a7 starting in `start_in_s`, made once the
/// bridge has seen the ice water, so that the plan is made against it; its schedule id.
async fn chicken_in_ice_water(sys: &mut System, id: &str, start_in_s: i64) -> String {
    let state = format!("anova2mqtt/{A7}/state");
    sys.watcher
        .wait_for_within(Duration::from_secs(5), "a cold reading", |m| {
            m.topic == state
                && m.json()["water_temperature"]
                    .as_f64()
                    .is_some_and(|t| t < 4.4)
        })
        .await;
    let r = plan(
        sys,
        A7,
        &format!(
            r#"{{"id": "{id}", "cook": true, "target_temperature": 62, "timer": "1h30m", "food": "poultry", "start_at": "{}"}}"#,
            in_seconds(start_in_s)
        ),
    )
    .await;
    r["schedule"]["schedule_id"].as_str().unwrap().to_owned()
}

/// A perishable plan on an iced a7, then the daemon stopped for `away`: what happens when it
/// comes back.
async fn away_for(away: time::Duration) -> (System, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite3");
    let file = db.clone();
    let mut sys = System::start(iced(), move |c| c.history.path = Some(file)).await;
    sys.ready().await;
    sys.handle()
        .wait_until("the a7 in ice water", Duration::from_secs(5), |h| {
            h.cooker(A7).is_some_and(|c| c.water_temperature_c < 4.4)
        })
        .await
        .unwrap();
    let schedule_id = chicken_in_ice_water(&mut sys, "supper", 10 * 60).await;
    sys.stop_daemon().await;
    assert_eq!(age_pending_plans(&db, away), 1, "the plan was stored");
    sys.watcher.clear();
    sys.start_daemon().await;
    (sys, schedule_id, dir)
}

#[tokio::test]
async fn a_plan_missed_while_stopped_starts_late_while_still_safe() {
    // Away 30 min, its start 20 min ago: 30 min counted warm + 54 min to heat from 1 °C at the
    // default 1 °C/min is within the 2 hours.
    let (mut sys, schedule_id, _dir) = away_for(time::Duration::minutes(30)).await;
    let started = event(
        &mut sys.watcher,
        A7,
        "schedule_started",
        Duration::from_secs(8),
    )
    .await;
    assert_eq!(started["schedule_id"], schedule_id.as_str(), "{started}");
    assert_eq!(started["late"], true, "{started}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (_, ran) = responses_to(&mut sys.watcher, A7, "supper");
    assert_eq!(ran.len(), 1, "one response to its late run: {ran:?}");
    assert_eq!(ran[0]["status"], "ok", "{}", ran[0]);
    assert_eq!(starts(&sys), 1);
    assert_eq!(sys.handle().cooker(A7).unwrap().target_temperature_c, 62.0);
    sys.watcher.drain();
    assert!(
        !sys.watcher
            .seen
            .iter()
            .any(|m| m.json()["event_type"] == "schedule_missed"),
        "not missed"
    );
    sys.stop().await;
}

#[tokio::test]
async fn a_plan_missed_while_stopped_too_long_is_reported_missed() {
    // Away 3 h: the food may have been warm all that time, over the 2-hour budget.
    let (mut sys, schedule_id, _dir) = away_for(time::Duration::hours(3)).await;
    let missed = event(
        &mut sys.watcher,
        A7,
        "schedule_missed",
        Duration::from_secs(8),
    )
    .await;
    assert_eq!(missed["schedule_id"], schedule_id.as_str(), "{missed}");
    let reason = missed["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not safe"), "{missed}");
    let topic = schedule_topic(A7);
    sys.watcher
        .wait_for("the plan cleared", |m| {
            m.topic == topic && m.payload.is_empty()
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(starts(&sys), 0, "nothing started");
    sys.watcher.drain();
    assert!(
        !sys.watcher
            .seen
            .iter()
            .any(|m| m.json()["event_type"] == "schedule_started"),
        "never started"
    );
    let listed = get(sys.http, "/api/v1/schedules", &[]).await;
    assert!(!listed.body.contains(&schedule_id), "{}", listed.body);
    sys.stop().await;
}

/// Home Assistant's discovery config of one of the a7's entities, in either mode.
async fn discovered(
    watcher: &mut Watcher,
    mode: DiscoveryMode,
    platform: &str,
    key: &str,
) -> Value {
    let node = format!("anova2mqtt_{A7}");
    match mode {
        DiscoveryMode::Entity => {
            let topic = format!("homeassistant/{platform}/{node}/{key}/config");
            watcher
                .wait_for(&topic, |m| m.topic == topic && !m.payload.is_empty())
                .await
                .json()
        }
        _ => {
            let topic = format!("homeassistant/device/{node}/config");
            let config = watcher
                .wait_for(&topic, |m| m.topic == topic && !m.payload.is_empty())
                .await
                .json();
            let component = config["components"][key].clone();
            assert_eq!(component["platform"], platform, "{config}");
            component
        }
    }
}

async fn cancel_with_the_button(mode: DiscoveryMode) {
    let mut sys = System::start(sim_config(), |c| c.homeassistant.discovery_mode = mode).await;
    sys.ready().await;
    let start_at = in_seconds(3600);
    let r = plan(
        &mut sys,
        A7,
        &format!(
            r#"{{"id": "tonight", "cook": true, "target_temperature": 57, "timer": 60, "food": "none", "start_at": "{start_at}"}}"#
        ),
    )
    .await;
    let schedule_id = r["schedule"]["schedule_id"].as_str().unwrap().to_owned();

    // The sensor reads the retained plan, which holds the start it shows.
    let sensor = discovered(&mut sys.watcher, mode, "sensor", "scheduled_start").await;
    assert_eq!(sensor["name"], "Scheduled start", "{sensor}");
    assert_eq!(sensor["device_class"], "timestamp", "{sensor}");
    let state_topic = sensor["state_topic"]
        .as_str()
        .expect("state_topic")
        .to_owned();
    assert_eq!(state_topic, schedule_topic(A7));
    let retained = Watcher::connect(sys.broker.port, &[&state_topic]).await;
    let mut retained = retained;
    let shown = retained
        .wait_for("the retained plan", |m| {
            m.topic == state_topic && m.retained
        })
        .await;
    assert_eq!(
        parse(shown.json()["start_at"].as_str().unwrap()),
        parse(&start_at)
    );

    // The button, pressed as Home Assistant presses it.
    let button = discovered(&mut sys.watcher, mode, "button", "cancel_schedule").await;
    assert_eq!(button["name"], "Cancel schedule", "{button}");
    let command_topic = button["command_topic"].as_str().expect("command_topic");
    let press = button["payload_press"].as_str().expect("payload_press");
    let answer = sys.command(command_topic, press).await;
    assert_eq!(answer["status"], "ok", "{answer}");
    assert!(
        answer.get("warnings").is_none(),
        "a plan was pending: {answer}"
    );
    let cancelled = event(
        &mut sys.watcher,
        A7,
        "schedule_cancelled",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        cancelled["schedule_id"],
        schedule_id.as_str(),
        "{cancelled}"
    );
    sys.watcher
        .wait_for("the plan cleared", |m| {
            m.topic == state_topic && m.payload.is_empty()
        })
        .await;
    let listed = get(sys.http, "/api/v1/schedules", &[]).await;
    assert!(!listed.body.contains(&schedule_id), "{}", listed.body);
    assert_eq!(starts(&sys), 0);
    sys.stop().await;
}

#[tokio::test]
async fn home_assistant_cancels_a_plan_in_device_discovery() {
    cancel_with_the_button(DiscoveryMode::Device).await;
}

#[tokio::test]
async fn home_assistant_cancels_a_plan_in_entity_discovery() {
    cancel_with_the_button(DiscoveryMode::Entity).await;
}

#[tokio::test]
async fn a_cooker_that_goes_silent_while_a_plan_waits_is_started_at_once() {
    // The cloud client counts a device offline after 3 s of silence; a waiting plan counts it
    // silent after half of that (2 minutes with the default 5), while a start still reaches it.
    let mut sys = System::start(iced(), |c| {
        c.anova.stale_after = Duration::from_secs(3);
    })
    .await;
    sys.ready().await;
    let schedule_id = chicken_in_ice_water(&mut sys, "watched", 3600).await;
    assert_eq!(starts(&sys), 0);

    let silent_from = tokio::time::Instant::now();
    sys.handle()
        .inject(Fault::Silent {
            cooker_id: A7.into(),
            silent: true,
        })
        .unwrap();
    let alert = event(
        &mut sys.watcher,
        A7,
        "food_safety_alert",
        Duration::from_secs(5),
    )
    .await;
    let waited = silent_from.elapsed();
    assert!(
        waited >= Duration::from_millis(1200),
        "not before 1.5 s of silence: {waited:?}"
    );
    assert_eq!(alert["schedule_id"], schedule_id.as_str(), "{alert}");
    assert_eq!(alert["action"], "started", "{alert}");
    let reason = alert["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("stopped reporting"), "{alert}");
    sys.handle()
        .wait_for_commands(1, Duration::from_secs(2))
        .await
        .expect("the start reaches the cloud");
    assert_eq!(starts(&sys), 1, "the start went out at once");
    let topic = schedule_topic(A7);
    sys.watcher
        .wait_for_within(Duration::from_secs(8), "the plan ended", |m| {
            m.topic == topic && m.payload.is_empty()
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, ran) = responses_to(&mut sys.watcher, A7, "watched");
    assert_eq!(ran.len(), 1, "exactly one response to the run: {ran:?}");
    // The unplugged cooker never took the start: the bridge says so, once.
    assert_eq!(ran[0]["error"]["code"], "device_offline", "{}", ran[0]);
    event(
        &mut sys.watcher,
        A7,
        "schedule_failed",
        Duration::from_secs(1),
    )
    .await;
    sys.stop().await;
}

/// A cooker that heats 40 °C a minute in real time (the simulator at speed 1), from 55 °C.
fn quick_heater() -> SimulatorConfig {
    let warm = |mut spec: SimCookerSpec| {
        spec.water_temperature_c = 55.0;
        spec
    };
    SimulatorConfig {
        speed: 1.0,
        preheat_rate_c_per_min: QUICK_RATE,
        cookers: vec![
            warm(SimCookerSpec::a7(A7, "Kitchen")),
            warm(SimCookerSpec::pro(PRO, "Garage")),
        ],
        ..sim_config()
    }
}

/// The heating rate of [`quick_heater`], °C per minute.
const QUICK_RATE: f64 = 40.0;

/// Writes two past cooks of the a7 into the history database, each heating 20 -> 60 °C in a
/// minute (the rate of [`quick_heater`]): the history a ready-by plan estimates from. (Two
/// real cooks of a few seconds would measure their time to target in whole seconds, too
/// coarse for a rate.)
fn past_cooks(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the history database");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for (n, started) in [now - 86_400, now - 2 * 86_400].into_iter().enumerate() {
        conn.execute(
            "INSERT INTO cooks (cook_id, device, model, family, source, started_at, ended_at,
                                outcome, duration_s, plan, time_to_target_s)
             VALUES (?1, ?2, 'a7', 'sous_vide', 'mqtt', ?3, ?3 + 3600, 'completed', 3600,
                     '{}', 60)",
            rusqlite::params![format!("past-{n}"), A7, started],
        )
        .expect("a past cook");
        let cook = conn.last_insert_rowid();
        for (at, temperature) in [(0, 20.0), (30, 40.0), (60, 60.0)] {
            conn.execute(
                "INSERT INTO samples (cook, at, temperature, target) VALUES (?1, ?2, ?3, 6000)",
                rusqlite::params![cook, started + at, (temperature * 100.0) as i64],
            )
            .expect("a sample");
        }
    }
}

/// How close to `ready_by` a ready-by cook's timer ends: the come-up estimate is whole
/// seconds, the cooker pushes every 100 ms, and the plan starts on the daemon's clock.
const READY_BY_TOLERANCE: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn a_ready_by_cook_is_done_by_its_time_using_this_cookers_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite3");
    let file = db.clone();
    let mut sys = System::start(quick_heater(), move |c| c.history.path = Some(file)).await;
    sys.ready().await;
    sys.stop_daemon().await;
    past_cooks(&db);
    sys.watcher.clear();
    sys.start_daemon().await;
    sys.ready().await;

    // Ready 7 s from now: 3 s to heat 55 -> 57 °C at 40 °C/min, then a 2 s timer.
    let ready_by = in_seconds(7);
    let r = plan(
        &mut sys,
        A7,
        &format!(
            r#"{{"id": "by-seven", "cook": true, "target_temperature": 57, "timer": "2s", "food": "none", "ready_by": "{ready_by}"}}"#
        ),
    )
    .await;
    let estimate = &r["schedule"]["estimate"];
    assert_eq!(estimate["basis"], "history", "{r}");
    assert_eq!(estimate["cooks"], 2, "{r}");
    assert_eq!(estimate["heating_rate_c_per_min"], QUICK_RATE, "{r}");
    assert_eq!(
        parse(r["schedule"]["ready_by"].as_str().unwrap()),
        parse(&ready_by)
    );
    let start_at = parse(r["schedule"]["start_at"].as_str().unwrap());
    let come_up = estimate["come_up_s"].as_i64().unwrap();
    assert!((2..=4).contains(&come_up), "{r}");
    assert_eq!(
        start_at,
        parse(&ready_by) - time::Duration::seconds(2 + come_up),
        "the timer and the come-up before ready_by: {r}"
    );

    event(
        &mut sys.watcher,
        A7,
        "schedule_started",
        Duration::from_secs(8),
    )
    .await;
    event(
        &mut sys.watcher,
        A7,
        "preheat_complete",
        Duration::from_secs(8),
    )
    .await;
    event(
        &mut sys.watcher,
        A7,
        "timer_finished",
        Duration::from_secs(8),
    )
    .await;
    let done = OffsetDateTime::now_utc();
    let off = (done - parse(&ready_by)).abs();
    eprintln!("done {off} from ready_by");
    assert!(
        off <= READY_BY_TOLERANCE,
        "done at {done}, ready_by {ready_by}: {off} off"
    );
    sys.stop().await;
}
