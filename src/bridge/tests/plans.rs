//! Plans in the core (`docs/interface.md` §8.2, §8.3): made and answered at once, one per device,
//! run at their time as a normal command with one response, cancelled, retried, resumed,
//! and kept food-safe by the watch of the water — all on the harness's virtual clock.

use super::harness::*;
use super::*;
use crate::sous_vide::state::CookerState;
use crate::sous_vide::wire::ApcCommand;

const MIN: Duration = Duration::from_secs(60);

fn schedule_of(out: &[Output], id: &str) -> Vec<String> {
    on(out, &format!("anova2mqtt/{id}/schedule"))
        .into_iter()
        .map(|p| p.payload.clone())
        .collect()
}

fn events_of(out: &[Output], id: &str) -> Vec<Value> {
    json_on(out, &format!("anova2mqtt/{id}/event"))
}

fn event_types(out: &[Output], id: &str) -> Vec<String> {
    events_of(out, id)
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn water(c: f64) -> CookerState {
    CookerState {
        water_temperature: Some(c),
        ..idle_state("a7")
    }
}

/// A harness whose a7 sits in an ice bath at 2 °C.
fn iced() -> Harness {
    let mut h = Harness::ready();
    h.state(A7, water(2.0));
    h
}

#[test]
fn a_plan_is_answered_at_once_and_runs_at_its_time_with_its_own_response() {
    let mut h = Harness::ready();
    let out = h.set(
        A7_ID,
        r#"{"id":"p1","start_at":"2025-01-01T12:00:00Z","target_temperature":60,"timer":"1h","food":"none"}"#,
    );
    let answer = response(&out, A7_ID);
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(answer["id"], "p1");
    let schedule = &answer["schedule"];
    assert_eq!(schedule["start_at"], "2025-01-01T12:00:00Z");
    assert_eq!(schedule["ready_by"], Value::Null);
    assert!(schedule["schedule_id"]
        .as_str()
        .is_some_and(|s| s.len() == 36));
    assert_eq!(schedule["command"]["target_temperature"], 60.0);
    assert_eq!(answer["command"]["cook"], true);
    // The command echoed as every response echoes one: the timer in seconds, a number.
    assert_eq!(answer["command"]["timer"], 3600);
    assert_eq!(schedule["command"]["timer"], 3600);
    assert!(cloud_commands(&out).is_empty(), "nothing is sent now");
    assert_eq!(event_types(&out, A7_ID), ["schedule_created"]);
    let retained = schedule_of(&out, A7_ID);
    assert_eq!(retained.len(), 1);
    let retained: Value = serde_json::from_str(&retained[0]).unwrap();
    assert_eq!(retained["schedule_id"], schedule["schedule_id"]);
    assert_eq!(
        h.bridge.schedules()[0]["schedule_id"],
        schedule["schedule_id"]
    );

    // Nothing before its time (the bridge looks at least every minute).
    for _ in 0..119 {
        let out = h.advance(MIN);
        assert!(cloud_commands(&out).is_empty());
        no_response(&out, A7_ID);
    }
    let out = h.advance(MIN);
    let (ticket, command) = one_command(&out);
    assert!(
        matches!(command, ApcCommand::Start { target_temperature, timer: Some(3600), .. } if target_temperature == 60.0),
        "{command:?}"
    );
    no_response(&out, A7_ID);
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 60.0, 3600, 3600));
    let answer = response(&out, A7_ID);
    assert_eq!(answer["id"], "p1");
    assert_eq!(answer["status"], "ok", "{answer}");
    let types = event_types(&out, A7_ID);
    assert!(types.contains(&"schedule_started".to_owned()), "{types:?}");
    assert!(types.contains(&"cook_started".to_owned()), "{types:?}");
    assert_eq!(events_of(&out, A7_ID)[0]["source"], "schedule");
    assert_eq!(
        schedule_of(&out, A7_ID),
        [""],
        "the retained plan is cleared"
    );
    assert!(h.bridge.schedules().is_empty());
}

#[test]
fn cancel_and_cook_false_cancel_and_a_new_plan_replaces_the_old_one() {
    let mut h = Harness::ready();
    let plan =
        r#"{"id":"a","start_at":"2025-01-01T11:00:00Z","target_temperature":60,"food":"none"}"#;
    assert_eq!(response(&h.set(A7_ID, plan), A7_ID)["status"], "ok");
    let out = h.set(
        A7_ID,
        r#"{"id":"b","start_at":"2025-01-01T11:30:00Z","target_temperature":61,"food":"none"}"#,
    );
    let answer = response(&out, A7_ID);
    assert_eq!(answer["status"], "ok");
    assert!(
        answer["warnings"][0].as_str().unwrap().contains("replaces"),
        "{answer}"
    );
    assert_eq!(
        event_types(&out, A7_ID),
        ["schedule_cancelled", "schedule_created"]
    );
    assert_eq!(h.bridge.schedules().len(), 1);

    let out = h.set(A7_ID, r#"{"id":"c","schedule":"cancel"}"#);
    assert_eq!(response(&out, A7_ID)["status"], "ok");
    assert_eq!(event_types(&out, A7_ID), ["schedule_cancelled"]);
    assert_eq!(schedule_of(&out, A7_ID), [""]);
    // Nothing pending: said, not refused.
    let out = h.set_key(A7_ID, "schedule", "cancel");
    let answer = response(&out, A7_ID);
    assert_eq!(answer["status"], "ok");
    assert!(answer["warnings"][0].as_str().unwrap().contains("no plan"));

    assert_eq!(response(&h.set(A7_ID, plan), A7_ID)["status"], "ok");
    let out = h.set_key(A7_ID, "cook", "false");
    assert_eq!(event_types(&out, A7_ID), ["schedule_cancelled"]);
    assert!(h.bridge.schedules().is_empty());
    // Never a start after a cancel.
    for _ in 0..120 {
        assert!(cloud_commands(&h.advance(MIN)).is_empty());
    }
}

#[test]
fn bad_plans_are_refused_whole_with_what_would_do() {
    let mut h = Harness::ready();
    let refuse = |h: &mut Harness, json: &str| {
        let out = h.set(A7_ID, json);
        assert!(cloud_commands(&out).is_empty());
        assert!(schedule_of(&out, A7_ID).is_empty(), "no plan was made");
        response(&out, A7_ID)
    };
    let r = refuse(
        &mut h,
        r#"{"start_at":"2025-01-01T09:00:00Z","food":"none"}"#,
    );
    assert_eq!(error_code(&r), "invalid_value");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("has passed"));
    let r = refuse(&mut h, r#"{"start_at":"tomorrow","food":"none"}"#);
    assert_eq!(error_code(&r), "invalid_value");
    let r = refuse(
        &mut h,
        r#"{"start_at":"12:00","ready_by":"13:00","food":"none"}"#,
    );
    assert_eq!(error_code(&r), "invalid_value");
    let r = refuse(&mut h, r#"{"ready_by":"13:00","timer":0,"food":"none"}"#);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("timer"),
        "{r}"
    );
    let r = refuse(
        &mut h,
        r#"{"start_at":"2025-01-01T12:00:00Z","target_temperature":200,"food":"none"}"#,
    );
    assert_eq!(error_code(&r), "out_of_range");
    let r = refuse(
        &mut h,
        r#"{"start_at":"2025-01-09T12:00:00Z","food":"none"}"#,
    );
    assert_eq!(error_code(&r), "out_of_range");
    let r = refuse(&mut h, r#"{"schedule":"cancel","cook":true}"#);
    assert_eq!(error_code(&r), "invalid_value");
    // §8.3: a delayed sous-vide cook names its food.
    let r = refuse(
        &mut h,
        r#"{"start_at":"2025-01-01T12:00:00Z","target_temperature":60}"#,
    );
    assert_eq!(error_code(&r), "unsafe");
    assert_eq!(r["error"]["safe"]["food"], "none");
    // Perishable food cooks at 54.4 °C or more.
    let r = refuse(
        &mut h,
        r#"{"start_at":"2025-01-01T12:00:00Z","target_temperature":54,"food":"beef"}"#,
    );
    assert_eq!(error_code(&r), "unsafe");
    assert_eq!(r["error"]["safe"]["target_temperature"], 54.4);
    // 21 °C water, three hours away: the food would be warm too long; it says by when.
    let r = refuse(
        &mut h,
        r#"{"id":"w","start_at":"2025-01-01T13:00:00Z","target_temperature":60,"food":"poultry"}"#,
    );
    assert_eq!(r["id"], "w");
    assert_eq!(error_code(&r), "unsafe");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("ice"), "{message}");
    // 2 h less 33.4 min to heat 21.04 → 54.4 °C at the default 1 °C/min.
    assert_eq!(r["error"]["safe"]["start_at"], "2025-01-01T11:26:38Z");
}

#[test]
fn ready_by_starts_early_enough_for_the_timer_and_the_heat_up() {
    let mut h = Harness::ready();
    let out = h.set(
        A7_ID,
        r#"{"ready_by":"2025-01-01T18:00:00Z","target_temperature":60,"timer":"2h","food":"none"}"#,
    );
    let answer = response(&out, A7_ID);
    assert_eq!(answer["status"], "ok", "{answer}");
    let schedule = &answer["schedule"];
    assert_eq!(schedule["ready_by"], "2025-01-01T18:00:00Z");
    // 21.04 → 60 °C at the default 1 °C/min: 38 min 58 s, rounded up.
    assert_eq!(schedule["estimate"]["come_up_s"], 2338);
    assert_eq!(schedule["estimate"]["basis"], "default");
    assert_eq!(schedule["start_at"], "2025-01-01T15:21:02Z");

    // With a history of this device's similar cooks, their median rate.
    let mut h = Harness::ready();
    h.input(Input::HeatingRates {
        device: A7_ID.into(),
        rates: [2.0, 3.0, 2.5, 0.5]
            .map(|per_minute| HeatSample {
                target_c: 58.0,
                per_minute,
            })
            .into(),
    });
    let out = h.set(
        A7_ID,
        r#"{"ready_by":"2025-01-01T18:00:00Z","target_temperature":60,"timer":"2h","food":"none"}"#,
    );
    let schedule = &response(&out, A7_ID)["schedule"];
    assert_eq!(schedule["estimate"]["basis"], "history");
    assert_eq!(schedule["estimate"]["cooks"], 4);
    assert_eq!(schedule["estimate"]["heating_rate_c_per_min"], 2.25);
    // A ready_by too soon says when it could be ready.
    let out = h.set(
        A7_ID,
        r#"{"ready_by":"2025-01-01T11:00:00Z","target_temperature":60,"timer":"2h","food":"none"}"#,
    );
    let r = response(&out, A7_ID);
    assert_eq!(error_code(&r), "out_of_range");
    assert!(r["error"]["message"].as_str().unwrap().contains("earliest"));
}

#[test]
fn a_time_of_day_is_read_in_the_configured_zone() {
    let mut config = config();
    config.plans.timezone = jiff::tz::db().get("Europe/Berlin").unwrap();
    let mut h = Harness::new(config);
    h.input(Input::MqttConnected);
    h.cloud(CloudEvent::Link(LinkState::Up));
    h.add(A7, "a7", "Kitchen");
    h.cloud(CloudEvent::DeviceListSynced);
    h.state(A7, idle_state("a7"));
    // 10:00 UTC is 11:00 in Berlin: 18:00 is 17:00 UTC; 07:30 is tomorrow's.
    let out = h.set(A7_ID, r#"{"start_at":"18:00","food":"none"}"#);
    assert_eq!(
        response(&out, A7_ID)["schedule"]["start_at"],
        "2025-01-01T17:00:00Z"
    );
    let out = h.set(A7_ID, r#"{"start_at":"07:30","food":"none"}"#);
    assert_eq!(
        response(&out, A7_ID)["schedule"]["start_at"],
        "2025-01-02T06:30:00Z"
    );
}

#[test]
fn an_ice_bath_that_warms_starts_the_cook_early_with_an_alert() {
    let mut h = iced();
    let out = h.set(
        A7_ID,
        r#"{"id":"ice","start_at":"2025-01-01T18:00:00Z","target_temperature":60,"timer":"1h","food":"poultry"}"#,
    );
    let answer = response(&out, A7_ID);
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(answer["schedule"]["food_safety"]["perishable"], true);
    // Cold water keeps it waiting, reported every 30 s.
    for _ in 0..240 {
        let out = h.advance(Duration::from_secs(30));
        assert!(cloud_commands(&out).is_empty());
        h.state(A7, water(3.5));
    }
    // The ice melted: 12 °C, with six hours to go. Waiting would keep the food warm far
    // longer than 2 hours: the bridge starts now.
    let out = h.state(A7, water(12.0));
    let alert = events_of(&out, A7_ID)
        .into_iter()
        .find(|e| e["event_type"] == "food_safety_alert")
        .expect("a food_safety_alert");
    assert!(
        alert["reason"].as_str().unwrap().contains("12 °C"),
        "{alert}"
    );
    assert_eq!(alert["action"], "started");
    let (ticket, _) = one_command(&out);
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 60.0, 3600, 3600));
    assert_eq!(response(&out, A7_ID)["id"], "ice");
    let started = events_of(&out, A7_ID)
        .into_iter()
        .find(|e| e["event_type"] == "schedule_started")
        .unwrap();
    assert_eq!(started["early"], true);

    // Water a little above 4.4 °C, 40 min before the start: 40 min warm plus 46.4 min to heat
    // from 8 °C is within the 2 hours: it waits and starts on time, without an alert.
    let mut h = iced();
    let plan = r#"{"start_at":"2025-01-01T10:40:00Z","target_temperature":60,"food":"fish"}"#;
    assert_eq!(response(&h.set(A7_ID, plan), A7_ID)["status"], "ok");
    for _ in 0..79 {
        let out = h.advance(Duration::from_secs(30));
        let out2 = h.state(A7, water(8.0));
        assert!(cloud_commands(&out).is_empty() && cloud_commands(&out2).is_empty());
    }
    let out = h.advance(Duration::from_secs(30));
    assert_eq!(cloud_commands(&out).len(), 1);
    assert!(!event_types(&out, A7_ID).contains(&"food_safety_alert".to_owned()));
    let view = &response(&h.set(A7_ID, r#"{"schedule":"cancel"}"#), A7_ID);
    assert_eq!(
        error_code(view),
        "invalid_value",
        "a starting plan is not cancelled"
    );
}

#[test]
fn a_cooker_that_goes_silent_while_food_waits_is_started() {
    let mut h = iced();
    let plan = r#"{"start_at":"2025-01-01T18:00:00Z","target_temperature":60,"food":"beef"}"#;
    assert_eq!(response(&h.set(A7_ID, plan), A7_ID)["status"], "ok");
    let out = h.advance(Duration::from_secs(119));
    assert!(cloud_commands(&out).is_empty());
    let out = h.advance(Duration::from_secs(2));
    assert_eq!(
        cloud_commands(&out).len(),
        1,
        "started after 2 min of silence"
    );
    let alert = events_of(&out, A7_ID)
        .into_iter()
        .find(|e| e["event_type"] == "food_safety_alert")
        .unwrap();
    assert!(alert["reason"]
        .as_str()
        .unwrap()
        .contains("stopped reporting"));
}

#[test]
fn a_start_that_cannot_reach_the_device_is_retried_then_given_up() {
    let mut h = Harness::ready();
    let plan =
        r#"{"id":"r","start_at":"2025-01-01T10:05:00Z","target_temperature":60,"food":"none"}"#;
    assert_eq!(response(&h.set(A7_ID, plan), A7_ID)["status"], "ok");
    h.cloud(CloudEvent::Link(LinkState::Down { reason: "x".into() }));
    let out = h.advance(5 * MIN);
    assert!(cloud_commands(&out).is_empty());
    no_response(&out, A7_ID);
    let view = &h.bridge.schedules()[0];
    assert_eq!(view["state"], "retrying", "{view}");
    // Back in time: it starts at once, still one response.
    h.advance(10 * MIN);
    let out = h.cloud(CloudEvent::Link(LinkState::Up));
    let (ticket, _) = one_command(&out);
    no_response(&out, A7_ID);
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 60.0, 0, 0));
    assert_eq!(response(&out, A7_ID)["id"], "r");

    // Down past the latest start (an hour late for water only): one error response and
    // schedule_failed.
    let mut h = Harness::ready();
    assert_eq!(response(&h.set(A7_ID, plan), A7_ID)["status"], "ok");
    h.cloud(CloudEvent::Link(LinkState::Down { reason: "x".into() }));
    let mut responses = Vec::new();
    let mut failed = 0;
    for _ in 0..70 {
        let out = h.advance(MIN);
        responses.extend(json_on(&out, &format!("anova2mqtt/{A7_ID}/response")));
        failed += event_types(&out, A7_ID)
            .iter()
            .filter(|t| *t == "schedule_failed")
            .count();
    }
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(responses[0]["id"], "r");
    assert_eq!(error_code(&responses[0]), "cloud_unavailable");
    assert_eq!(failed, 1);
    assert!(h.bridge.schedules().is_empty());
}

/// The plan the bridge saved, as the store keeps it.
fn saved(out: &[Output]) -> Option<String> {
    out.iter().rev().find_map(|o| match o {
        Output::Record(Record::PlanSaved { data, .. }) => Some(data.clone()),
        _ => None,
    })
}

/// [`iced`], with the cook history on (plans are saved).
fn recording_iced() -> Harness {
    let mut h = iced();
    h.input(Input::History("ok".into()));
    h
}

/// (A start missed beyond safety is `plans_resumed_before_the_broker_connects_…`.)
#[test]
fn plans_survive_a_restart_and_a_missed_one_starts_late_only_when_safe() {
    // Water only, restarted 20 min after its time: still within the hour, starts late.
    let mut h = recording_iced();
    let out = h.set(
        A7_ID,
        r#"{"id":"late","start_at":"2025-01-01T10:30:00Z","target_temperature":60,"food":"none"}"#,
    );
    let data = saved(&out).expect("saved");
    let mut h2 = Harness::new(config());
    h2.elapsed_to(50 * MIN);
    h2.input(Input::ResumePlans(vec![data]));
    assert_eq!(
        h2.bridge.schedules().len(),
        1,
        "kept before the devices are known"
    );
    h2.input(Input::MqttConnected);
    h2.cloud(CloudEvent::Link(LinkState::Up));
    h2.add(A7, "a7", "Kitchen");
    h2.cloud(CloudEvent::DeviceListSynced);
    let out = h2.state(A7, idle_state("a7"));
    let (ticket, _) = one_command(&out);
    h2.result(ticket, Ok(()));
    let out = h2.state(A7, cooking_state("a7", 60.0, 0, 0));
    assert_eq!(response(&out, A7_ID)["id"], "late");
    let started = events_of(&out, A7_ID)
        .into_iter()
        .find(|e| e["event_type"] == "schedule_started")
        .unwrap();
    assert_eq!(started["late"], true);

    // A plan still ahead simply waits again.
    let mut h = recording_iced();
    let out = h.set(
        A7_ID,
        r#"{"start_at":"2025-01-01T12:00:00Z","target_temperature":60,"food":"none"}"#,
    );
    let data = saved(&out).unwrap();
    let mut h2 = Harness::new(config());
    h2.elapsed_to(5 * MIN);
    let out = h2.input(Input::ResumePlans(vec![data]));
    assert!(event_types(&out, A7_ID).is_empty());
    assert_eq!(h2.bridge.schedules()[0]["start_at"], "2025-01-01T12:00:00Z");
}

/// The daemon resumes its plans before the broker takes it (the driver's order), and what
/// the bridge publishes before that is lost: a missed start is reported once the broker is
/// there, and a plan still ahead is published again when its device is listed.
#[test]
fn plans_resumed_before_the_broker_connects_are_reported_once_it_does() {
    let mut h = recording_iced();
    let out = h.set(
        A7_ID,
        r#"{"id":"gone","start_at":"2025-01-01T11:00:00Z","target_temperature":60,"food":"poultry"}"#,
    );
    let data = saved(&out).expect("saved");
    let mut h2 = Harness::new(config());
    h2.elapsed_to(240 * MIN);
    let out = h2.input(Input::ResumePlans(vec![data]));
    assert!(
        event_types(&out, A7_ID).is_empty(),
        "nothing can be published yet"
    );
    assert_eq!(h2.bridge.schedules().len(), 1, "decided once reported");
    let out = h2.input(Input::MqttConnected);
    assert_eq!(event_types(&out, A7_ID), ["schedule_missed"]);
    assert_eq!(schedule_of(&out, A7_ID), [""], "the retained plan cleared");
    assert!(h2.bridge.schedules().is_empty());

    let mut h = recording_iced();
    let out = h.set(
        A7_ID,
        r#"{"start_at":"2025-01-01T12:00:00Z","target_temperature":60,"food":"none"}"#,
    );
    let data = saved(&out).unwrap();
    let mut h2 = Harness::new(config());
    h2.elapsed_to(5 * MIN);
    h2.input(Input::ResumePlans(vec![data]));
    h2.input(Input::MqttConnected);
    h2.cloud(CloudEvent::Link(LinkState::Up));
    let out = h2.add(A7, "a7", "Kitchen");
    let shown = schedule_of(&out, A7_ID);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains("2025-01-01T12:00:00Z"), "{shown:?}");
}

/// A small deterministic random source for the model-based test (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The reference model's view of the a7's one plan.
#[derive(Debug, Clone)]
struct ModelPlan {
    id: String,
    start_at: OffsetDateTime,
    perishable: bool,
    /// Seconds the water was above 4.4 °C (or unseen) since the plan was made, as the model
    /// counts it from what it fed the bridge.
    exposure_s: f64,
    /// The bridge sent `food_safety_alert` for it (it may start early from then on).
    alerted: bool,
}

/// Model-based test of the plan machine (`docs/interface.md` §8.2, §8.3) against a reference
/// model: random plans, cancellations, replacements, stops, water that warms and cools, a
/// cooker that goes silent, link loss, clock jumps and restarts. After every step:
/// - every command that makes or cancels a plan got exactly one response, at once;
/// - every plan start got at most one response (`id` of the plan), and starts at most once;
/// - at most one plan is pending;
/// - no start without a pending plan (never after a cancel, a stop or a replacement);
/// - no start before its time unless with a `food_safety_alert` at that moment;
/// - a perishable plan never waits with more than 2 h in the danger zone counting the time
///   to heat to 54.4 °C (the model's own count, one step of slack).
#[test]
fn the_plan_machine_keeps_its_rules_under_random_operations() {
    for seed in 1..=40u64 {
        run_model(seed);
    }
}

fn run_model(seed: u64) {
    let mut rng = Rng(seed);
    let mut h = Harness::ready();
    h.input(Input::History("ok".into()));
    let mut water_c = 2.0_f64;
    let mut silent = false;
    let mut link_up = true;
    let mut plan: Option<ModelPlan> = None;
    let mut saved: Option<String> = None;
    let mut started_ids: Vec<String> = Vec::new();
    let mut answered_ids: Vec<String> = Vec::new();
    let mut awaiting: Option<(Ticket, String)> = None;
    let mut counter = 0;
    let rate = 1.0; // the default cooker rate, °C/min
    for step in 0..300 {
        let ctx = format!("seed {seed} step {step}");
        let op = rng.below(100);
        let before = h.now().wall;
        let mut outs: Vec<Output>;
        let mut made_or_cancelled: Option<String> = None;
        match op {
            // Make a plan (sometimes perishable, sometimes too far for warm water).
            0..=11 => {
                counter += 1;
                let id = format!("plan-{counter}");
                let minutes = 5 + rng.below(600);
                let perishable = rng.below(2) == 0;
                let at = before + time::Duration::minutes(minutes as i64);
                let food = if perishable { "poultry" } else { "none" };
                let json = format!(
                    r#"{{"id":"{id}","start_at":"{}","target_temperature":60,"food":"{food}"}}"#,
                    crate::bridge::machine::rfc3339(at)
                );
                outs = h.set(A7_ID, &json);
                let answer = response(&outs, A7_ID);
                assert_eq!(answer["id"], id.as_str(), "{ctx}");
                if answer["status"] == "ok" {
                    assert!(
                        awaiting.is_none(),
                        "{ctx}: a plan was made while one started"
                    );
                    plan = Some(ModelPlan {
                        id: id.clone(),
                        start_at: at,
                        perishable,
                        exposure_s: 0.0,
                        alerted: false,
                    });
                    saved = saved_after(&outs).or(saved);
                } else {
                    // Refused: only for the food-safety budget (warm water, perishable), or
                    // because a start is under way. Nothing changed then.
                    let code = error_code(&answer).to_owned();
                    assert!(
                        (code == "unsafe" && perishable) || code == "invalid_value",
                        "{ctx}: {answer}"
                    );
                }
                made_or_cancelled = Some(id);
            }
            12..=15 => {
                counter += 1;
                let id = format!("cancel-{counter}");
                outs = h.set(A7_ID, &format!(r#"{{"id":"{id}","schedule":"cancel"}}"#));
                let answer = response(&outs, A7_ID);
                if answer["status"] == "ok" {
                    plan = None;
                } else {
                    assert!(awaiting.is_some(), "{ctx}: {answer}");
                }
                made_or_cancelled = Some(id);
            }
            16..=17 => {
                outs = h.set_key(A7_ID, "cook", "false");
                if awaiting.is_none() {
                    plan = None;
                }
            }
            18..=27 => {
                water_c = [1.0, 3.0, 4.0, 6.0, 12.0, 20.0][rng.below(6) as usize];
                outs = Vec::new();
            }
            28..=30 => {
                silent = !silent;
                outs = Vec::new();
            }
            31..=33 => {
                link_up = !link_up;
                outs = h.cloud(CloudEvent::Link(if link_up {
                    LinkState::Up
                } else {
                    LinkState::Down { reason: "x".into() }
                }));
                if link_up {
                    outs.extend(h.state(A7, water(water_c)));
                }
            }
            // A restart of the daemon (only between starts): the new bridge resumes the
            // saved plan after a short time away.
            34..=35 if awaiting.is_none() => {
                let away = time::Duration::minutes(rng.below(30) as i64);
                let elapsed = h.elapsed_now() + Duration::from_secs(away.whole_seconds() as u64);
                h = Harness::new(config());
                h.elapsed_to(elapsed);
                h.input(Input::History("ok".into()));
                outs = match (&plan, &saved) {
                    (Some(_), Some(data)) => h.input(Input::ResumePlans(vec![data.clone()])),
                    _ => Vec::new(),
                };
                outs.extend(h.input(Input::MqttConnected));
                outs.extend(h.cloud(CloudEvent::Link(LinkState::Up)));
                outs.extend(h.add(A7, "a7", "Kitchen"));
                outs.extend(h.add(PRO, "pro", "Garage"));
                outs.extend(h.cloud(CloudEvent::DeviceListSynced));
                outs.extend(h.state(A7, water(water_c)));
                outs.extend(h.state(PRO, idle_state("pro")));
                link_up = true;
                silent = false;
                if let Some(p) = plan.as_mut() {
                    // Nobody watched while the daemon was away: warm.
                    p.exposure_s += away.as_seconds_f64();
                }
            }
            _ => {
                // Time passes: 30 s steps, now and then a jump of the clock.
                let by = if rng.below(20) == 0 {
                    Duration::from_secs(60 * (5 + rng.below(60)))
                } else {
                    Duration::from_secs(30)
                };
                outs = h.advance(by);
                if let Some(p) = plan.as_mut() {
                    if silent || water_c > 4.4 {
                        p.exposure_s += by.as_secs_f64();
                    }
                }
                if !silent && link_up {
                    outs.extend(h.state(A7, water(water_c)));
                }
            }
        }
        // Invariants.
        if let Some(id) = &made_or_cancelled {
            let responses = json_on(&outs, &format!("anova2mqtt/{A7_ID}/response"));
            let own = responses.iter().filter(|r| r["id"] == id.as_str()).count();
            assert_eq!(own, 1, "{ctx}: {responses:?}");
        }
        saved = saved_after(&outs).or(saved);
        let now = h.now().wall;
        let alert = events_of(&outs, A7_ID)
            .iter()
            .any(|e| e["event_type"] == "food_safety_alert");
        if alert {
            if let Some(p) = plan.as_mut() {
                p.alerted = true;
            }
        }
        for (ticket, command) in cloud_commands(&outs) {
            if let ApcCommand::Start { .. } = command {
                let p = plan
                    .clone()
                    .unwrap_or_else(|| panic!("{ctx}: a start without a pending plan"));
                assert!(
                    !started_ids.contains(&p.id) || awaiting.is_some(),
                    "{ctx}: started twice"
                );
                assert!(
                    now >= p.start_at || p.alerted,
                    "{ctx}: started early without an alert: op {op}, {p:?}, now {now}, {:?}",
                    events_of(&outs, A7_ID)
                );
                if !started_ids.contains(&p.id) {
                    started_ids.push(p.id.clone());
                }
                awaiting = Some((ticket, p.id.clone()));
            }
        }
        for r in json_on(&outs, &format!("anova2mqtt/{A7_ID}/response")) {
            if let Some(id) = r["id"].as_str().filter(|id| id.starts_with("plan-")) {
                if made_or_cancelled.as_deref() == Some(id) {
                    continue;
                }
                assert!(
                    !answered_ids.contains(&id.to_owned()),
                    "{ctx}: two responses for {id}"
                );
                answered_ids.push(id.to_owned());
                if awaiting.as_ref().is_some_and(|(_, a)| a == id) {
                    awaiting = None;
                }
                if plan.as_ref().is_some_and(|p| p.id == id) {
                    plan = None;
                }
            }
        }
        for e in events_of(&outs, A7_ID) {
            if matches!(
                e["event_type"].as_str(),
                Some("schedule_missed" | "schedule_failed")
            ) {
                plan = None;
                awaiting = None;
            }
        }
        // The device takes the start: the cloud says ok and the state shows the cook.
        if let Some((ticket, _)) = awaiting.clone() {
            if link_up {
                h.result(ticket, Ok(()));
                let outs = h.state(A7, cooking_state("a7", 60.0, 0, 0));
                for r in json_on(&outs, &format!("anova2mqtt/{A7_ID}/response")) {
                    let id = r["id"].as_str().unwrap_or_default().to_owned();
                    assert!(!answered_ids.contains(&id), "{ctx}: two responses for {id}");
                    answered_ids.push(id);
                }
                awaiting = None;
                plan = None;
                // Back to idle for the next plan.
                h.state(A7, water(water_c));
            }
        }
        let pending = h.bridge.schedules();
        assert!(pending.len() <= 1, "{ctx}: {pending:?}");
        if awaiting.is_none() {
            assert_eq!(
                pending.first().and_then(|p| p["id"].as_str()),
                plan.as_ref().map(|p| p.id.as_str()),
                "{ctx}: the pending plan"
            );
        }
        if let (Some(p), true) = (&plan, awaiting.is_none()) {
            if p.perishable && pending.len() == 1 {
                // Still waiting: within the budget (one step and the heat-up's rounding of
                // slack), counting the heat-up from the water as the model fed it.
                let from = if silent { 25.0 } else { water_c };
                let come_up = ((54.4 - from).max(0.0) * 60.0 / rate).ceil();
                let slack = 30.0 + 60.0;
                assert!(
                    p.exposure_s + come_up <= 7200.0 + slack || p.exposure_s < 1.0,
                    "{ctx}: food waited too long: {} s above 4.4 °C + {come_up} s to heat",
                    p.exposure_s
                );
            }
        }
    }
}

/// The last plan the bridge saved in `out`.
fn saved_after(out: &[Output]) -> Option<String> {
    saved(out)
}

#[test]
fn a_plan_counts_a_cooker_silent_before_the_cloud_client_counts_it_offline() {
    use crate::bridge::plan_silence;
    let s = Duration::from_secs;
    assert_eq!(
        plan_silence(s(300)),
        time::Duration::minutes(2),
        "the default"
    );
    assert_eq!(plan_silence(s(60)), time::Duration::seconds(30));
    assert_eq!(plan_silence(s(86_400)), time::Duration::minutes(2));
    assert_eq!(
        plan_silence(Duration::from_millis(10)),
        time::Duration::seconds(1)
    );
}

/// A plan that ends while the broker is away (nothing is published then) leaves its schedule
/// retained on the broker; the reconnect's republish clears it.
#[test]
fn a_plan_that_ends_while_the_broker_is_away_is_cleared_at_the_reconnect() {
    let mut h = Harness::ready();
    let plan =
        r#"{"id":"a","start_at":"2025-01-01T11:00:00Z","target_temperature":60,"food":"none"}"#;
    assert_eq!(response(&h.set(A7_ID, plan), A7_ID)["status"], "ok");
    h.input(Input::MqttDisconnected);
    let out = h.set(A7_ID, r#"{"schedule":"cancel"}"#);
    assert!(
        schedule_of(&out, A7_ID).is_empty(),
        "nothing reaches a broker that is away"
    );
    let mut out = h.input(Input::MqttConnected);
    out.extend(h.drain());
    assert_eq!(schedule_of(&out, A7_ID), [String::new()]);
}

/// The cooks that end while the daemon runs count for the next plan's estimate at once (the
/// store's rates are read only at start): two cooks from 20 to 60 °C in 10 minutes each make
/// the estimate 4 °C per minute from history.
#[test]
fn cooks_that_end_while_running_feed_the_next_estimate() {
    let mut h = Harness::ready();
    for _ in 0..2 {
        let (ticket, _) = one_command(&h.set(
            A7_ID,
            r#"{"cook": true, "target_temperature": 60, "timer": 0}"#,
        ));
        h.result(ticket, Ok(()));
        h.state(
            A7,
            CookerState {
                stage: crate::sous_vide::state::Stage::Preheating,
                water_temperature: Some(20.0),
                ..cooking_state("a7", 60.0, 0, 0)
            },
        );
        h.advance(Duration::from_secs(600));
        h.state(A7, cooking_state("a7", 60.0, 0, 0));
        h.advance(Duration::from_secs(600));
        let (ticket, _) = one_command(&h.set_key(A7_ID, "cook", "off"));
        h.result(ticket, Ok(()));
        h.state(A7, idle_state("a7"));
        h.advance(Duration::from_secs(60));
    }
    let out = h.set(
        A7_ID,
        r#"{"ready_by":"13:00","target_temperature":62,"timer":"1h","food":"none"}"#,
    );
    let answer = response(&out, A7_ID);
    let estimate = &answer["schedule"]["estimate"];
    assert_eq!(estimate["basis"], "history", "{answer}");
    assert_eq!(estimate["cooks"], 2);
    assert_eq!(estimate["heating_rate_c_per_min"], 4.0);
}
