//! Command traffic: a steady stream with bursts, from several MQTT clients, valid and invalid,
//! with ids and without, some published retained. Each publish waits for its PUBACK, so the
//! daemon receives the commands in the order the ledger records them.

use crate::ledger::{is_oven, Kind, Ledger};
use crate::mqtt::{Publisher, BASE};
use crate::rng::Rng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many MQTT clients send commands.
pub(crate) const CLIENTS: usize = 3;

/// The mix of commands, by weight.
const MIX: &[(Kind, u32)] = &[
    (Kind::Start, 20),
    (Kind::Stop, 12),
    (Kind::Target, 14),
    (Kind::PlainTarget, 4),
    (Kind::OutOfRange, 5),
    (Kind::BadValue, 4),
    (Kind::UnknownKey, 4),
    (Kind::NothingToDo, 4),
    (Kind::NotJson, 3),
    (Kind::PlainBad, 3),
    (Kind::Retained, 2),
];

/// The mix of commands to an oven, by weight: the cookers' (each valid one with its oven
/// meaning: a start from idle is a plan, a target while cooking a whole new plan), plans with
/// stages, and plans no oven or not this generation takes.
const OVEN_MIX: &[(Kind, u32)] = &[
    (Kind::Start, 14),
    (Kind::OvenStages, 8),
    (Kind::Stop, 12),
    (Kind::Target, 12),
    (Kind::PlainTarget, 3),
    (Kind::OutOfRange, 3),
    (Kind::InvalidPlan, 5),
    (Kind::BadValue, 2),
    (Kind::UnknownKey, 2),
    (Kind::NothingToDo, 2),
    (Kind::NotJson, 2),
    (Kind::PlainBad, 2),
    (Kind::Retained, 2),
];

/// What only a Precision Oven 1.0 refuses, by weight (added to [`OVEN_MIX`] for a v1).
const V1_MIX: &[(Kind, u32)] = &[(Kind::WrongGeneration, 6)];

/// Whether an oven is a Precision Oven 1.0 (the soak names them `…ovenv1…`).
pub(crate) fn is_v1(device: &str) -> bool {
    device.contains("ovenv1")
}

/// The command mix for a device.
fn mix_for(device: &str) -> Vec<(Kind, u32)> {
    if !is_oven(device) {
        return MIX.to_vec();
    }
    let mut mix = OVEN_MIX.to_vec();
    if is_v1(device) {
        mix.extend_from_slice(V1_MIX);
    }
    mix
}

/// Topic and payload of a planned command.
pub(crate) fn message(
    device: &str,
    kind: Kind,
    id: Option<&str>,
    target_c: Option<f64>,
    rng: &mut Rng,
) -> (String, String) {
    let set = format!("{BASE}/{device}/set");
    let id = id.unwrap_or_default();
    let target = target_c.map(|t| format!("{t:.1}")).unwrap_or_default();
    let oven = is_oven(device);
    match kind {
        Kind::Start | Kind::Retained if oven => (
            set,
            format!(
                r#"{{"cook": true, "target_temperature": {target}, "timer": "{}m", "id": "{id}"}}"#,
                rng.range(1, 30)
            ),
        ),
        Kind::Start | Kind::Retained | Kind::DroppedPlan => (
            set,
            format!(
                r#"{{"cook": true, "target_temperature": {target}, "timer": "{}m", "id": "{id}"}}"#,
                rng.range(1, 120)
            ),
        ),
        Kind::Stop => (set, format!(r#"{{"cook": false, "id": "{id}"}}"#)),
        Kind::Target if oven && rng.chance(0.5) => (
            set,
            format!(
                r#"{{"target_temperature": {target}, "fan": {}, "id": "{id}"}}"#,
                rng.range(5, 10) * 10
            ),
        ),
        Kind::Target => (
            set,
            format!(r#"{{"target_temperature": {target}, "id": "{id}"}}"#),
        ),
        Kind::PlainTarget => (format!("{set}/target_temperature"), target),
        Kind::OutOfRange => (
            set,
            format!(
                r#"{{"target_temperature": {}, "id": "{id}"}}"#,
                if oven {
                    rng.range(260, 600)
                } else {
                    rng.range(120, 400)
                }
            ),
        ),
        Kind::OvenStages => (
            set,
            format!(
                r#"{{"cook": true, "id": "{id}", "stages": [{{"title": "Sear", "target_temperature": {target}, "timer": "{}m"}}, {{"title": "Rest", "target_temperature": {}, "timer": "{}m", "steam": {}, "timer_start": "{}"}}]}}"#,
                rng.range(1, 20),
                rng.range(60, 200),
                rng.range(1, 20),
                rng.range(0, 5) * 20,
                ["immediately", "when_preheated", "manually"][rng.below(3) as usize]
            ),
        ),
        Kind::InvalidPlan => {
            let plans = [
                // A timer and a probe on one stage.
                r#""cook": true, "stages": [{"target_temperature": 150, "timer": "10m", "probe_target": 60}]"#,
                // The wet bulb above 92 °C without steam.
                r#""cook": true, "temperature_mode": "wet", "target_temperature": 95"#,
                // No stages.
                r#""cook": true, "stages": []"#,
                // No element.
                r#""cook": true, "target_temperature": 150, "elements": []"#,
                // A second stage out of range.
                r#""cook": true, "stages": [{"target_temperature": 150}, {"target_temperature": 300}]"#,
            ];
            let plan = plans[rng.below(plans.len() as u64) as usize];
            (set, format!(r#"{{{plan}, "id": "{id}"}}"#))
        }
        Kind::WrongGeneration => {
            let plans = [
                r#""cook": true, "target_temperature": 200, "elements": ["top", "bottom", "rear"]"#,
                r#""cook": true, "target_temperature": 210, "elements": ["bottom"]"#,
                r#""cook": true, "target_temperature": 180, "timer": "5m", "timer_start": "on_food_detected""#,
                r#""cook": true, "stages": [{"target_temperature": 150, "timer": "5m"}, {"target_temperature": 200, "elements": "bottom"}]"#,
            ];
            let plan = plans[rng.below(plans.len() as u64) as usize];
            (set, format!(r#"{{{plan}, "id": "{id}"}}"#))
        }
        Kind::BadValue => (set, format!(r#"{{"cook": "maybe", "id": "{id}"}}"#)),
        Kind::UnknownKey => (set, format!(r#"{{"temprature": 55, "id": "{id}"}}"#)),
        Kind::NothingToDo => (set, format!(r#"{{"id": "{id}"}}"#)),
        Kind::NotJson => (set, r#"{"cook": tru"#.to_owned()),
        Kind::PlainBad => (format!("{set}/cook"), "maybe".to_owned()),
    }
}

/// Sends commands until `stop` is set.
pub(crate) async fn run(
    port: u16,
    devices: Vec<String>,
    mut rng: Rng,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
) {
    let mut clients: Vec<Publisher> = (0..CLIENTS)
        .map(|i| Publisher::connect(&format!("soak-client-{i}"), port))
        .collect();
    let mut id_seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // Mostly single commands; now and then a burst at one device, which fills its queue.
        let burst = if rng.chance(0.12) { rng.range(3, 7) } else { 1 };
        let device = devices[rng.below(devices.len() as u64) as usize].clone();
        let mix = mix_for(&device);
        for _ in 0..burst {
            let kind = rng.weighted(&mix);
            id_seq += 1;
            let planned = match ledger.lock() {
                Ok(mut l) => l.plan(&device, kind, id_seq),
                Err(_) => return,
            };
            let (topic, payload) = message(
                &device,
                kind,
                planned.id.as_deref(),
                planned.target_c,
                &mut rng,
            );
            let client = &mut clients[rng.below(CLIENTS as u64) as usize];
            let acked = client
                .publish(
                    &topic,
                    payload.as_bytes(),
                    kind == Kind::Retained,
                    Duration::from_secs(2),
                )
                .await;
            if !acked {
                if let Ok(mut l) = ledger.lock() {
                    l.unacknowledged(planned.index);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.range(100, 700))).await;
    }
}
