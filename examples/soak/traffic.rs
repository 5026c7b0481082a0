//! Command traffic: a steady stream with bursts, from several MQTT clients, valid and invalid,
//! with ids and without, some published retained. Each publish waits for its PUBACK, so the
//! daemon receives the commands in the order the ledger records them.

use crate::ledger::{Kind, Ledger};
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

/// Topic and payload of a planned command.
fn message(
    device: &str,
    kind: Kind,
    id: Option<&str>,
    target_c: Option<f64>,
    rng: &mut Rng,
) -> (String, String) {
    let set = format!("{BASE}/{device}/set");
    let id = id.unwrap_or_default();
    let target = target_c.map(|t| format!("{t:.1}")).unwrap_or_default();
    match kind {
        Kind::Start | Kind::Retained => (
            set,
            format!(
                r#"{{"cook": true, "target_temperature": {target}, "timer": "{}m", "id": "{id}"}}"#,
                rng.range(1, 120)
            ),
        ),
        Kind::Stop => (set, format!(r#"{{"cook": false, "id": "{id}"}}"#)),
        Kind::Target => (
            set,
            format!(r#"{{"target_temperature": {target}, "id": "{id}"}}"#),
        ),
        Kind::PlainTarget => (format!("{set}/target_temperature"), target),
        Kind::OutOfRange => (
            set,
            format!(
                r#"{{"target_temperature": {}, "id": "{id}"}}"#,
                rng.range(120, 400)
            ),
        ),
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
        for _ in 0..burst {
            let kind = rng.weighted(MIX);
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
