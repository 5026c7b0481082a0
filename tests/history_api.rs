//! The cook history's REST endpoints over a real HTTP connection (`docs/interface.md` §7): the
//! list with its filters and cursor, one cook, the CSV, forgetting a cook, and their errors.
//! The store is a real one (in memory); `tests/history_e2e.rs` fills it from a real cook.

mod http_support;

use http_support::*;
use serde_json::json;

async fn server() -> TestServer {
    let history = history_with_a_cook().await;
    TestServer::start(anova2mqtt::http::Settings {
        history: Some(history),
        ..quick_settings()
    })
    .await
}

#[tokio::test]
async fn the_list_pages_and_filters() {
    let server = server().await;
    let addr = server.addr;
    let all = get(addr, "/api/v1/cooks", &[]).await;
    assert_eq!(all.status, 200);
    let all = all.json();
    let ids: Vec<_> = all["cooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cook_id"].clone())
        .collect();
    assert_eq!(ids, [json!("oven-cook"), json!(COOK_ID)], "newest first");
    assert_eq!(all["next_cursor"], json!(null));
    assert_eq!(all["cooks"][0]["running"], true);
    assert_eq!(all["cooks"][0]["outcome"], json!(null));
    assert_eq!(all["cooks"][1]["outcome"], "completed");
    assert_eq!(all["cooks"][1]["time_to_target_s"], 900);

    let first = get(addr, "/api/v1/cooks?limit=1", &[]).await.json();
    assert_eq!(first["cooks"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = get(addr, &format!("/api/v1/cooks?limit=1&cursor={cursor}"), &[])
        .await
        .json();
    assert_eq!(second["cooks"][0]["cook_id"], COOK_ID);
    assert_eq!(second["next_cursor"], json!(null));

    let a7 = get(addr, &format!("/api/v1/cooks?device={A7}"), &[])
        .await
        .json();
    assert_eq!(a7["cooks"].as_array().unwrap().len(), 1);
    let window = get(
        addr,
        "/api/v1/cooks?since=2026-11-29T18%3A00%3A00Z&until=2026-11-29T19:00:00%2B00:00",
        &[],
    )
    .await
    .json();
    assert_eq!(window["cooks"][0]["cook_id"], COOK_ID);
    assert_eq!(window["cooks"].as_array().unwrap().len(), 1);

    for (query, names) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("since=yesterday", "since"),
        ("cursor=abc", "cursor"),
        ("devise=a7", "devise"),
    ] {
        let reply = get(addr, &format!("/api/v1/cooks?{query}"), &[]).await;
        assert_eq!(reply.status, 400, "{query}");
        let body = reply.json();
        assert_eq!(body["error"]["code"], "invalid_parameter");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(names),
            "{body}"
        );
    }
}

#[tokio::test]
async fn one_cook_its_csv_and_forgetting_it() {
    let server = server().await;
    let addr = server.addr;
    let cook = get(addr, &format!("/api/v1/cooks/{COOK_ID}"), &[]).await;
    assert_eq!(cook.status, 200);
    let cook = cook.json();
    assert_eq!(
        cook["plan"],
        json!({"target_temperature": 57.0, "timer": 5400})
    );
    let kinds: Vec<_> = cook["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("cook_started"),
            json!("preheat_complete"),
            json!("timer_finished"),
            json!("cook_stopped")
        ]
    );
    assert_eq!(cook["commands"][0]["command"]["cook"], true);
    assert_eq!(cook["curve"]["points"][0], json!([0, 20.4, 57.0]));
    assert_eq!(cook["curve"]["points"].as_array().unwrap().len(), 5);
    let thin = get(addr, &format!("/api/v1/cooks/{COOK_ID}?max_points=2"), &[])
        .await
        .json();
    let points = thin["curve"]["points"].as_array().unwrap();
    assert!(points.len() <= 3, "{points:?}");
    assert_eq!(points.last().unwrap()[0], 6300, "the last point is kept");

    let oven = get(addr, "/api/v1/cooks/oven-cook", &[]).await.json();
    assert_eq!(
        oven["curve"]["columns"],
        json!([
            "seconds",
            "temperature",
            "target_temperature",
            "probe_temperature",
            "humidity"
        ])
    );
    assert_eq!(
        oven["curve"]["points"][0],
        json!([0, 21.5, 200.0, null, 40.0])
    );

    let csv = get(addr, &format!("/api/v1/cooks/{COOK_ID}/samples.csv"), &[]).await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains(&format!("cook-{COOK_ID}.csv")));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "time,water_temperature_c,target_temperature_c");
    assert_eq!(lines[1], "2026-11-29T18:20:00Z,20.4,57");
    assert_eq!(lines.len(), 6);
    let oven_csv = get(addr, "/api/v1/cooks/oven-cook/samples.csv", &[]).await;
    assert_eq!(
        oven_csv.body.lines().collect::<Vec<_>>(),
        [
            "time,temperature_c,target_temperature_c,probe_temperature_c,humidity_pct",
            "2026-11-29T20:16:40Z,21.5,200,,40"
        ]
    );

    let running = request(addr, "DELETE", "/api/v1/cooks/oven-cook", &[], None).await;
    assert_eq!(running.status, 409);
    assert_eq!(running.json()["error"]["code"], "cook_running");
    let deleted = request(
        addr,
        "DELETE",
        &format!("/api/v1/cooks/{COOK_ID}"),
        &[],
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    for path in [
        format!("/api/v1/cooks/{COOK_ID}"),
        format!("/api/v1/cooks/{COOK_ID}/samples.csv"),
    ] {
        let gone = get(addr, &path, &[]).await;
        assert_eq!(gone.status, 404, "{path}");
        assert_eq!(gone.json()["error"]["code"], "unknown_cook");
    }
    let again = request(
        addr,
        "DELETE",
        &format!("/api/v1/cooks/{COOK_ID}"),
        &[],
        None,
    )
    .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn without_history_the_endpoints_say_so() {
    let server = TestServer::start(quick_settings()).await;
    let reply = get(server.addr, "/api/v1/cooks", &[]).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["error"]["code"], "history_disabled");
}

#[tokio::test]
async fn the_history_needs_the_token_like_everything_else() {
    let history = history_with_a_cook().await;
    let mut settings = quick_settings();
    settings.history = Some(history);
    settings.token = Some(anova2mqtt::secret::Secret::new("t0ken-for-tests-only-123"));
    let server = TestServer::start(settings).await;
    let reply = get(server.addr, "/api/v1/cooks", &[]).await;
    assert_eq!(reply.status, 401);
    let reply = get(
        server.addr,
        &format!("/api/v1/cooks/{COOK_ID}/samples.csv?access_token=t0ken-for-tests-only-123"),
        &[],
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "the CSV link works with the token in its query"
    );
}
