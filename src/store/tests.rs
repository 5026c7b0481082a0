//! The store on its own: records in, the API's answers out, migrations, and every way the
//! database can fail without the caller noticing more than a status.

use super::*;
use crate::bridge::{CookOpened, CookOutcome, CookSummary, CurvePoint, Source};
use serde_json::json;
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;

const COOK: &str = "5a7b6c3e-9f1d-4e2a-8b3c-0d1e2f3a4b5c";
const T0: OffsetDateTime = datetime!(2026-03-01 18:00:00 UTC);

fn secs(s: i64) -> OffsetDateTime {
    T0 + time::Duration::seconds(s)
}

fn opened(cook_id: &str, device: &str, at: OffsetDateTime, family: &'static str) -> Record {
    Record::CookOpened(Box::new(CookOpened {
        cook_id: cook_id.into(),
        device: device.into(),
        model: if family == "oven" { "oven_v2" } else { "a7" }.into(),
        family,
        source: Source::Mqtt,
        started_at: at,
        plan: json!({"target_temperature": 57.5, "timer": 3600}).to_string(),
    }))
}

fn sample(cook_id: &str, at: OffsetDateTime, temperature: f64) -> Record {
    Record::Sample {
        cook_id: cook_id.into(),
        at,
        point: CurvePoint {
            temperature: Some(temperature),
            target: Some(57.5),
            ..CurvePoint::default()
        },
    }
}

fn closed(cook_id: &str, at: OffsetDateTime, outcome: CookOutcome) -> Record {
    Record::CookClosed {
        cook_id: cook_id.into(),
        ended_at: at,
        summary: CookSummary {
            outcome,
            duration_s: 3600,
            time_to_target_s: Some(600),
            min_c: Some(57.3),
            max_c: Some(57.7),
        },
    }
}

fn memory() -> (Store, watch::Receiver<HistoryStatus>) {
    Store::start(Settings::new(None, Duration::from_secs(365 * 86400)), None).expect("thread")
}

fn a_whole_cook(store: &Store) {
    store.record(opened(COOK, "a7", T0, "cooker"));
    store.record(Record::Event {
        cook_id: COOK.into(),
        at: T0,
        kind: "cook_started",
        payload: json!({"event_type": "cook_started", "cook_id": COOK}).to_string(),
    });
    store.record(sample(COOK, T0, 20.0));
    store.record(sample(COOK, secs(10), 21.25));
    store.record(Record::Command {
        device: "a7".into(),
        cook_id: Some(COOK.into()),
        at: secs(1),
        source: Source::Http,
        request: json!({"cook": true}).to_string(),
        response: json!({"id": "1", "status": "ok"}).to_string(),
    });
    store.record(Record::CookChanged {
        cook_id: COOK.into(),
        plan: json!({"target_temperature": 60.0, "timer": 3600}).to_string(),
    });
    store.record(closed(COOK, secs(3600), CookOutcome::Completed));
}

#[tokio::test]
async fn a_cook_round_trips_through_every_query() {
    let (store, status) = memory();
    a_whole_cook(&store);
    store.flush().await.expect("written");
    assert_eq!(*status.borrow(), HistoryStatus::Ok);

    let page = store.list(CookFilter::default()).await.unwrap();
    assert_eq!(page.cooks.len(), 1);
    assert_eq!(page.next_cursor, None);
    let summary = &page.cooks[0];
    assert_eq!(summary["cook_id"], COOK);
    assert_eq!(summary["outcome"], "completed");
    assert_eq!(summary["source"], "mqtt");
    assert_eq!(summary["started_at"], "2026-03-01T18:00:00Z");
    assert_eq!(summary["ended_at"], "2026-03-01T19:00:00Z");
    assert_eq!(summary["running"], false);
    assert_eq!(summary["time_to_target_s"], 600);
    assert_eq!(summary["min_temperature"], 57.3);
    assert_eq!(
        summary["plan"]["target_temperature"], 60.0,
        "the change replaced the plan"
    );

    let cook = store.cook(COOK.into(), None).await.unwrap().expect("found");
    assert_eq!(cook["events"][0]["event_type"], "cook_started");
    assert_eq!(cook["commands"][0]["source"], "http");
    assert_eq!(cook["commands"][0]["command"], json!({"cook": true}));
    assert_eq!(cook["commands"][0]["response"]["status"], "ok");
    assert_eq!(
        cook["curve"]["columns"],
        json!(["seconds", "water_temperature", "target_temperature"])
    );
    assert_eq!(
        cook["curve"]["points"],
        json!([[0, 20.0, 57.5], [10, 21.25, 57.5]])
    );

    let csv = store.csv(COOK.into()).await.unwrap().expect("found");
    assert_eq!(
        csv,
        "time,water_temperature_c,target_temperature_c\r\n\
         2026-03-01T18:00:00Z,20,57.5\r\n\
         2026-03-01T18:00:10Z,21.25,57.5\r\n"
    );
    assert_eq!(store.cook("nope".into(), None).await.unwrap(), None);
    assert_eq!(store.csv("nope".into()).await.unwrap(), None);

    assert_eq!(store.delete(COOK.into()).await.unwrap(), Deleted::Deleted);
    assert_eq!(store.delete(COOK.into()).await.unwrap(), Deleted::NotFound);
    let rows: i64 = store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(rows, 0, "a deleted cook's rows go with it");
}

#[tokio::test]
async fn pages_filter_and_running_cooks() {
    let (store, _status) = memory();
    for i in 0..7 {
        let id = format!("cook-{i}");
        let device = if i % 2 == 0 { "a7" } else { "oven" };
        store.record(opened(&id, device, secs(i * 100), "cooker"));
        if i != 6 {
            store.record(closed(&id, secs(i * 100 + 50), CookOutcome::Stopped));
        }
    }
    // Two cooks in the same second still page apart.
    store.record(opened("cook-twin", "a7", secs(600), "cooker"));
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list(CookFilter {
                limit: Some(3),
                cursor: cursor.clone(),
                ..CookFilter::default()
            })
            .await
            .unwrap();
        seen.extend(
            page.cooks
                .iter()
                .map(|c| c["cook_id"].as_str().unwrap().to_owned()),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "cook-twin",
            "cook-6",
            "cook-5",
            "cook-4",
            "cook-3",
            "cook-2",
            "cook-1",
            "cook-0"
        ]
    );
    let a7 = store
        .list(CookFilter {
            device: Some("a7".into()),
            since: Some(secs(200)),
            until: Some(secs(600)),
            ..CookFilter::default()
        })
        .await
        .unwrap();
    let ids: Vec<_> = a7.cooks.iter().map(|c| c["cook_id"].clone()).collect();
    assert_eq!(ids, [json!("cook-4"), json!("cook-2")]);
    assert_eq!(
        store.delete("cook-6".into()).await.unwrap(),
        Deleted::Running
    );
    let open = store.open_cooks().await.unwrap();
    let open: Vec<_> = open.iter().map(|c| c.cook_id.as_str()).collect();
    assert_eq!(open, ["cook-6", "cook-twin"]);
}

#[tokio::test]
async fn an_open_cook_resumes_with_its_figures() {
    let (store, _status) = memory();
    store.record(opened(COOK, "a7", T0, "cooker"));
    store.record(sample(COOK, T0, 20.0));
    store.record(Record::Event {
        cook_id: COOK.into(),
        at: secs(600),
        kind: "preheat_complete",
        payload: "{}".into(),
    });
    store.record(sample(COOK, secs(600), 57.4));
    store.record(sample(COOK, secs(700), 57.9));
    store.record(sample(COOK, secs(800), 57.2));
    let open = store.open_cooks().await.unwrap();
    assert_eq!(open.len(), 1);
    let cook = &open[0];
    assert_eq!(cook.device, "a7");
    assert_eq!(cook.source, Source::Mqtt);
    assert_eq!(cook.started_at, T0);
    assert_eq!(cook.reached_at, Some(secs(600)));
    assert_eq!((cook.min_c, cook.max_c), (Some(57.2), Some(57.9)));
    assert_eq!(cook.last_seen, secs(800));
}

#[tokio::test]
async fn heating_rates_come_from_cooks_that_reached_their_target() {
    let (store, _status) = memory();
    a_whole_cook(&store);
    let rates = store.heating_rates("a7".into(), 10).await.unwrap();
    assert_eq!(rates.len(), 1);
    assert_eq!(
        (rates[0].from_c, rates[0].to_c, rates[0].seconds),
        (20.0, 57.5, 600)
    );
    assert!((rates[0].per_minute() - 3.75).abs() < 1e-9);
}

#[tokio::test]
async fn retention_deletes_old_cooks_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let now = OffsetDateTime::now_utc();
    {
        let (store, _status) = Store::start(
            Settings::new(Some(path.clone()), Duration::from_secs(86400)),
            None,
        )
        .unwrap();
        store.record(opened("old", "a7", now - time::Duration::days(3), "cooker"));
        store.record(closed(
            "old",
            now - time::Duration::days(2),
            CookOutcome::Completed,
        ));
        store.record(opened(
            "old-but-running",
            "a7",
            now - time::Duration::days(3),
            "cooker",
        ));
        store.record(opened(
            "new",
            "a7",
            now - time::Duration::hours(3),
            "cooker",
        ));
        store.record(closed(
            "new",
            now - time::Duration::hours(2),
            CookOutcome::Completed,
        ));
        store.stop(Duration::from_secs(5)).await;
    }
    // Retention runs when the database is opened, and daily after.
    let (store, _status) =
        Store::start(Settings::new(Some(path), Duration::from_secs(86400)), None).unwrap();
    let page = store.list(CookFilter::default()).await.unwrap();
    let mut ids: Vec<_> = page.cooks.iter().map(|c| c["cook_id"].clone()).collect();
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(ids, [json!("new"), json!("old-but-running")]);
}

fn load_v1(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(include_str!("../../tests/fixtures/history/v1.sql"))
        .unwrap();
}

#[tokio::test]
async fn a_database_of_the_previous_schema_is_migrated_with_its_cooks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    load_v1(&path);
    let (store, status) =
        Store::start(Settings::new(Some(path.clone()), Duration::MAX), None).unwrap();
    store.flush().await.expect("opened");
    assert_eq!(*status.borrow(), HistoryStatus::Ok);
    let version: u32 = store
        .read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let cook = store
        .cook("2f1c4e36-0b7a-4a57-9d55-8c9b1f0e6a01".into(), None)
        .await
        .unwrap()
        .expect("the old cook survives");
    assert_eq!(cook["outcome"], "stopped");
    assert_eq!(cook["time_to_target_s"], 600, "worked out from its events");
    assert_eq!(cook["min_temperature"], 56.9, "worked out from its samples");
    assert_eq!(cook["max_temperature"], 57.2);
    assert_eq!(cook["events"].as_array().unwrap().len(), 3);
    assert_eq!(cook["commands"], json!([]));
    assert_eq!(cook["curve"]["points"].as_array().unwrap().len(), 6);
    // The new parts work on the old file.
    store.record(Record::Command {
        device: "prodemo00000000001".into(),
        cook_id: Some("6d0f3b8e-57c2-4c4e-8a3f-2b8e4f1d9c02".into()),
        at: secs(0),
        source: Source::Mcp,
        request: "{}".into(),
        response: "{}".into(),
    });
    store.flush().await.unwrap();
    let open = store.open_cooks().await.unwrap();
    assert_eq!(open[0].cook_id, "6d0f3b8e-57c2-4c4e-8a3f-2b8e4f1d9c02");
    assert_eq!(open[0].source, Source::Device);
    let curve: i64 = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM curve WHERE temperature_c = 56.9 AND time = '2025-12-01T12:26:40Z'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(curve, 1, "the curve view reads °C and RFC 3339");
}

#[tokio::test]
async fn a_database_of_a_newer_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let (store, mut status) =
        Store::start(Settings::new(Some(path.clone()), Duration::MAX), None).unwrap();
    store.record(opened(COOK, "a7", T0, "cooker"));
    let failure = store.flush().await.unwrap_err();
    assert!(failure.contains("newer anova2mqtt"), "{failure}");
    assert!(failure.contains("schema version 99"), "{failure}");
    status.mark_changed();
    let text = status.borrow_and_update().as_text().to_owned();
    assert!(text.contains("left untouched"), "{text}");
    assert!(store.list(CookFilter::default()).await.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before, "never altered");
    assert!(!dir.path().join("history.sqlite3-wal").exists());
}

#[tokio::test]
async fn a_corrupt_database_is_reported_and_a_repaired_one_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let metrics = Arc::new(Metrics::new());
    let (store, status) = Store::start(
        Settings::new(Some(path.clone()), Duration::MAX),
        Some(metrics.clone()),
    )
    .unwrap();
    store.record(opened(COOK, "a7", T0, "cooker"));
    let failure = store.flush().await.unwrap_err();
    assert!(failure.contains("not a database"), "{failure}");
    assert!(matches!(&*status.borrow(), HistoryStatus::Failing(_)));
    assert!(metrics
        .render(None)
        .contains("anova2mqtt_history_write_errors_total 1"));
    // The user moves the broken file away: the next attempt starts a new database, and the
    // records kept meanwhile are written.
    std::fs::remove_file(&path).unwrap();
    let page = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if let Ok(page) = store.list(CookFilter::default()).await {
                if !page.cooks.is_empty() {
                    return page;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("recovers within the retry pause");
    assert_eq!(page.cooks[0]["cook_id"], COOK);
    assert_eq!(*status.borrow(), HistoryStatus::Ok);
}

#[tokio::test]
async fn a_full_database_keeps_the_batch_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let mut settings = Settings::new(Some(path), Duration::MAX);
    // As many pages as the empty schema takes: the first cook does not fit.
    settings.max_pages = Some(15);
    let metrics = Arc::new(Metrics::new());
    let (store, status) = Store::start(settings, Some(metrics.clone())).unwrap();
    store.record(opened(COOK, "a7", T0, "cooker"));
    for i in 0..2_000 {
        store.record(sample(COOK, secs(i * 10), 20.0 + i as f64 / 100.0));
    }
    let failure = store.flush().await.unwrap_err();
    assert!(failure.contains("full"), "{failure}");
    assert!(status.borrow().as_text().contains("full"));
    assert!(metrics
        .render(None)
        .contains("anova2mqtt_history_write_errors_total"));
    // Reads still answer (from what is on disk).
    assert!(store.list(CookFilter::default()).await.is_ok());
}

#[test]
fn the_fixture_is_the_first_schema() {
    let fixture = rusqlite::Connection::open_in_memory().unwrap();
    fixture
        .execute_batch(include_str!("../../tests/fixtures/history/v1.sql"))
        .unwrap();
    let made = rusqlite::Connection::open_in_memory().unwrap();
    schema::create_at_version(&made, 1).unwrap();
    let layout = |c: &rusqlite::Connection| -> Vec<(String, String)> {
        let mut stmt = c
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .map(|(n, s): (String, String)| (n, s.split_whitespace().collect::<Vec<_>>().join(" ")))
            .collect()
    };
    assert_eq!(layout(&fixture), layout(&made));
}

#[test]
fn centi_degrees_are_bounded() {
    assert_eq!(write::centi(Some(57.255)), Some(5726));
    assert_eq!(write::centi(Some(f64::NAN)), None);
    assert_eq!(write::centi(Some(1e9)), Some(32_767));
    assert_eq!(write::centi(None), None);
}

#[tokio::test]
async fn pending_plans_are_kept_until_they_end_also_in_a_migrated_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    load_v1(&path);
    let (store, _status) =
        Store::start(Settings::new(Some(path.clone()), Duration::MAX), None).unwrap();
    let saved = |id: &str, data: &str| Record::PlanSaved {
        schedule_id: id.into(),
        device: "a7".into(),
        start_at: secs(3600),
        data: data.into(),
    };
    store.record(saved("p1", "{\"v\":1}"));
    store.record(saved("p2", "{\"v\":2}"));
    // Saved again: replaced, not added.
    store.record(saved("p1", "{\"v\":3}"));
    store.flush().await.unwrap();
    assert_eq!(
        store.pending_plans().await.unwrap(),
        ["{\"v\":3}", "{\"v\":2}"]
    );
    store.record(Record::PlanEnded {
        schedule_id: "p1".into(),
        ended_at: secs(60),
        outcome: "cancelled",
    });
    // An ended plan is never brought back by a late save.
    store.record(saved("p1", "{\"v\":4}"));
    store.flush().await.unwrap();
    assert_eq!(store.pending_plans().await.unwrap(), ["{\"v\":2}"]);
    drop(store);
    // Kept across a restart.
    let (store, _status) = Store::start(Settings::new(Some(path), Duration::MAX), None).unwrap();
    assert_eq!(store.pending_plans().await.unwrap(), ["{\"v\":2}"]);
}
