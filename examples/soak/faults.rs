//! Faults, one at a time, picked from the seed: each is injected, healed, and followed by a
//! recovery check (cloud link up, every device available with a state that agrees with the
//! simulator) that must pass within a bound.

use crate::broker::Mosquitto;
use crate::daemon::{STALE_AFTER, WATCHDOG};
use crate::ledger::{answer_bound, is_oven, Kind, Ledger};
use crate::mqtt::{Observed, Publisher, BASE};
use crate::report::Violations;
use crate::rng::Rng;
use anova2mqtt::simulator::{
    CookerStage, Fault, OvenChange, OvenMode, RawFrame, SimulatorHandle, WaterTank,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// The fault kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub(crate) enum FaultKind {
    /// Every cloud connection reset (TCP RST).
    CloudDrop,
    /// The cloud closes with a close code (rate limit, lifetime).
    CloudClose,
    /// Cloud sockets stop moving without closing.
    HalfOpen,
    /// Every new connection refused as unauthorised, for a while; then the user asks for a
    /// reconnect (`bridge/request/refresh`), since the daemon waits 5 minutes after a refused
    /// token by design.
    RefuseAuth,
    /// mosquitto killed and started again (every retained message gone).
    BrokerRestart,
    /// One cooker unplugged for a while.
    Silent,
    /// Frames the client cannot read, or should ignore.
    Garbage,
    /// Home Assistant says `online`.
    HaBirth,
    /// An oven acknowledges a start and drops it (it is unplugged): the start must be answered
    /// `not_confirmed`, never `ok`.
    PlanDropped,
    /// An oven's water tank runs empty, then is filled: the state shows both.
    WaterTank,
    /// An oven's door is opened, then closed: the state shows both.
    Door,
}

pub(crate) const MIX: &[(FaultKind, u32)] = &[
    (FaultKind::CloudDrop, 5),
    (FaultKind::CloudClose, 2),
    (FaultKind::HalfOpen, 2),
    (FaultKind::RefuseAuth, 2),
    (FaultKind::BrokerRestart, 3),
    (FaultKind::Silent, 3),
    (FaultKind::Garbage, 3),
    (FaultKind::HaBirth, 3),
    (FaultKind::PlanDropped, 3),
    (FaultKind::WaterTank, 2),
    (FaultKind::Door, 2),
];

/// Faults that need an oven.
fn needs_oven(kind: FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::PlanDropped | FaultKind::WaterTank | FaultKind::Door
    )
}

/// How long an oven's state may take to show a change at the oven (it pushes at once).
const OVEN_SHOWS: Duration = Duration::from_secs(10);

/// The longest a recovery may take: a watchdog, a backoff or two, and the first pushes.
const RECOVERY_BOUND: Duration = Duration::from_secs(40);
/// How quickly Home Assistant must get discovery again after its birth.
const BIRTH_BOUND: Duration = Duration::from_secs(10);

/// What the faults produced, for the summary.
#[derive(Debug, Default)]
pub(crate) struct FaultStats {
    /// Injected, by kind.
    pub(crate) injected: BTreeMap<FaultKind, u64>,
    /// From heal to everything correct again, by kind.
    pub(crate) recovery: BTreeMap<FaultKind, Vec<Duration>>,
    /// From a cloud drop (reset or close) to the link shown `connected` again.
    pub(crate) link_back: Vec<Duration>,
}

/// Everything the fault injector drives and reads.
pub(crate) struct Injector {
    /// The simulated cloud.
    pub(crate) sim: SimulatorHandle,
    /// The broker (restarted as a fault).
    pub(crate) broker: Mosquitto,
    /// What the observer saw.
    pub(crate) observed: Arc<Mutex<Observed>>,
    /// The ledger (told about broker outages).
    pub(crate) ledger: Arc<Mutex<Ledger>>,
    /// Violations.
    pub(crate) violations: Violations,
    /// `cookerId`s of every device (cookers and ovens), in the simulator's spelling; their
    /// topic ids are the lower-cased forms.
    pub(crate) cookers: Vec<String>,
    /// The ovens among them.
    pub(crate) ovens: Vec<String>,
    /// Publishes Home Assistant's births.
    pub(crate) birth: Publisher,
    /// Seeded choices.
    pub(crate) rng: Rng,
    /// The faults to pick from, by weight.
    pub(crate) mix: Vec<(FaultKind, u32)>,
    /// Results.
    pub(crate) stats: FaultStats,
    /// Dropped-plan starts sent so far (their ids are `soak-1000001`, …).
    pub(crate) dropped_seq: u64,
}

fn info(observed: &Observed) -> Option<(String, u64)> {
    let info: Value =
        serde_json::from_str(observed.payload(&format!("{BASE}/bridge/info"))?).ok()?;
    Some((
        info.get("cloud")?.as_str()?.to_owned(),
        info.get("reconnects")?.as_u64()?,
    ))
}

impl Injector {
    fn observed<R>(&self, f: impl FnOnce(&Observed) -> R) -> R {
        let guard = self.observed.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    fn reconnects(&self) -> u64 {
        self.observed(info).map_or(0, |(_, n)| n)
    }

    /// True when every device but `skip` is available and its state agrees with the simulator
    /// (cooking or not), and the cloud link is shown connected (with more than `reconnects`
    /// reconnects when given). With `republished_since`, availability must have been published
    /// again since then (after a broker restart wiped it).
    fn healthy(
        &self,
        skip: Option<&str>,
        reconnects: Option<u64>,
        republished_since: Option<Instant>,
    ) -> bool {
        let cooking: Vec<(String, Option<bool>)> = self
            .cookers
            .iter()
            .filter(|c| Some(c.as_str()) != skip)
            .map(|c| {
                let sim = if is_oven(c) {
                    self.sim.oven(c).map(|o| o.mode == OvenMode::Cooking)
                } else {
                    self.sim.cooker(c).map(|s| s.stage != CookerStage::Idle)
                };
                (c.to_lowercase(), sim)
            })
            .collect();
        self.observed(|o| {
            let Some((cloud, n)) = info(o) else {
                return false;
            };
            if cloud != "connected" || reconnects.is_some_and(|before| n <= before) {
                return false;
            }
            if let Some(since) = republished_since {
                if o.since(&format!("{BASE}/bridge/state"), since) != Some("online") {
                    return false;
                }
            }
            cooking.iter().all(|(id, sim)| {
                let availability = format!("{BASE}/{id}/availability");
                let available = match republished_since {
                    Some(since) => o.since(&availability, since),
                    None => o.payload(&availability),
                };
                let state: Option<Value> = o
                    .payload(&format!("{BASE}/{id}/state"))
                    .and_then(|s| serde_json::from_str(s).ok());
                let shown = state
                    .as_ref()
                    .and_then(|s| s.get("cooking"))
                    .and_then(Value::as_bool);
                available == Some("online") && shown.is_some() && shown == *sim
            })
        })
    }

    /// Waits until [`Self::healthy`]; returns how long it took from `since`, or records a
    /// violation after `bound`.
    async fn recovery(
        &mut self,
        kind: FaultKind,
        since: Instant,
        bound: Duration,
        skip: Option<&str>,
        reconnects: Option<u64>,
        republished_since: Option<Instant>,
    ) -> Option<Duration> {
        loop {
            if self.healthy(skip, reconnects, republished_since) {
                let took = since.elapsed();
                self.stats.recovery.entry(kind).or_default().push(took);
                return Some(took);
            }
            if since.elapsed() > bound {
                let snapshot = self.observed(|o| {
                    let mut lines: Vec<String> = o
                        .last
                        .iter()
                        .filter(|(t, _)| t.ends_with("/availability") || t.ends_with("/info"))
                        .map(|(t, s)| format!("{t}={}", s.payload))
                        .collect();
                    lines.sort();
                    lines.join(", ")
                });
                self.violations.add(format!(
                    "{kind:?}: not recovered {:.0} s after it healed ({snapshot})",
                    bound.as_secs_f64()
                ));
                return None;
            }
            sleep(Duration::from_millis(100)).await;
        }
    }

    fn pick_oven(&mut self) -> String {
        self.ovens[self.rng.below(self.ovens.len() as u64) as usize].clone()
    }

    /// An unplugged oven acknowledges a start and drops it: the start is sent (through the
    /// ledger, which checks its answer is `not_confirmed` or a transient refusal, never `ok`),
    /// and the oven is plugged back once it is answered.
    async fn plan_dropped(&mut self) {
        let oven = self.pick_oven();
        let silent = |silent| Fault::Silent {
            cooker_id: oven.clone(),
            silent,
        };
        if let Err(e) = self.sim.inject(silent(true)) {
            eprintln!("soak: fault not injected: {e}");
            return;
        }
        self.dropped_seq += 1;
        let device = oven.to_lowercase();
        let planned = match self.ledger.lock() {
            Ok(mut l) => l.plan(&device, Kind::DroppedPlan, 1_000_000 + self.dropped_seq),
            Err(_) => return,
        };
        let (topic, payload) = crate::traffic::message(
            &device,
            Kind::DroppedPlan,
            planned.id.as_deref(),
            planned.target_c,
            &mut self.rng,
        );
        let sent = Instant::now();
        if !self
            .birth
            .publish(&topic, payload.as_bytes(), false, Duration::from_secs(2))
            .await
        {
            if let Ok(mut l) = self.ledger.lock() {
                l.unacknowledged(planned.index);
            }
        }
        while sent.elapsed() < answer_bound() {
            let answered = self
                .ledger
                .lock()
                .map(|l| l.first_answer(planned.index).is_some())
                .unwrap_or(true);
            if answered {
                break;
            }
            sleep(Duration::from_millis(100)).await;
        }
        if let Err(e) = self.sim.inject(silent(false)) {
            eprintln!("soak: fault not healed: {e}");
        }
        let at = Instant::now();
        self.recovery(FaultKind::PlanDropped, at, RECOVERY_BOUND, None, None, None)
            .await;
    }

    /// Something at the oven (the water tank empties, the door opens), and back: the state
    /// shows each within [`OVEN_SHOWS`].
    async fn at_the_oven(&mut self, kind: FaultKind) {
        let oven = self.pick_oven();
        let (field, on, off) = match kind {
            FaultKind::WaterTank => (
                "water_tank_empty",
                OvenChange::WaterTank(WaterTank::Empty),
                OvenChange::WaterTank(WaterTank::Full),
            ),
            _ => (
                "door_open",
                OvenChange::Door { open: true },
                OvenChange::Door { open: false },
            ),
        };
        let topic = format!("{BASE}/{}/state", oven.to_lowercase());
        let at = Instant::now();
        for (change, shown) in [(on, true), (off, false)] {
            if let Err(e) = self.sim.inject(Fault::Oven {
                cooker_id: oven.clone(),
                change,
            }) {
                eprintln!("soak: fault not injected: {e}");
                return;
            }
            let since = Instant::now();
            loop {
                let now = self.observed(|o| {
                    o.payload(&topic)
                        .and_then(|s| serde_json::from_str::<Value>(s).ok())
                        .and_then(|s| s.get(field).and_then(Value::as_bool))
                });
                if now == Some(shown) {
                    break;
                }
                if since.elapsed() > OVEN_SHOWS {
                    self.violations.add(format!(
                        "{oven}: {field} not shown {shown} {:.0} s after it happened (shown: {now:?})",
                        OVEN_SHOWS.as_secs_f64()
                    ));
                    break;
                }
                sleep(Duration::from_millis(100)).await;
            }
            sleep(Duration::from_millis(self.rng.range(500, 3000))).await;
        }
        self.recovery(kind, at, RECOVERY_BOUND, None, None, None)
            .await;
    }

    /// Waits until the daemon shows everything healthy (at the start, before any fault).
    pub(crate) async fn ready(&mut self, bound: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < bound {
            if self.healthy(None, None, None) {
                return true;
            }
            sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Injects one random fault, heals it, and checks the recovery.
    pub(crate) async fn one(&mut self) {
        let mut kind = self.rng.weighted(&self.mix);
        if needs_oven(kind) && self.ovens.is_empty() {
            kind = FaultKind::Garbage;
        }
        *self.stats.injected.entry(kind).or_default() += 1;
        let fault = |r: Result<(), anova2mqtt::simulator::ControlError>| {
            if let Err(e) = r {
                eprintln!("soak: fault not injected: {e}");
            }
        };
        match kind {
            FaultKind::CloudDrop | FaultKind::CloudClose => {
                let before = self.reconnects();
                let at = Instant::now();
                if kind == FaultKind::CloudDrop {
                    fault(self.sim.inject(Fault::DropConnections));
                } else {
                    let codes = [
                        None,
                        Some(1000),
                        Some(1001),
                        Some(1008),
                        Some(1011),
                        Some(4000),
                    ];
                    let code = codes[self.rng.below(codes.len() as u64) as usize];
                    fault(self.sim.inject(Fault::CloseConnections(code)));
                }
                if let Some(took) = self
                    .recovery(kind, at, RECOVERY_BOUND, None, Some(before), None)
                    .await
                {
                    self.stats.link_back.push(took);
                }
            }
            FaultKind::HalfOpen => {
                let before = self.reconnects();
                fault(self.sim.inject(Fault::HalfOpen(true)));
                sleep(Duration::from_millis(self.rng.range(500, 4000))).await;
                // The frozen sockets stay frozen: the daemon's watchdog must notice them.
                fault(self.sim.inject(Fault::HalfOpen(false)));
                let at = Instant::now();
                self.recovery(
                    kind,
                    at,
                    RECOVERY_BOUND + WATCHDOG,
                    None,
                    Some(before),
                    None,
                )
                .await;
            }
            FaultKind::RefuseAuth => {
                let before = self.reconnects();
                fault(self.sim.inject(Fault::RefuseAuth(true)));
                fault(self.sim.inject(Fault::DropConnections));
                sleep(Duration::from_millis(self.rng.range(1000, 8000))).await;
                fault(self.sim.inject(Fault::RefuseAuth(false)));
                let at = Instant::now();
                // After a refused token the daemon retries only after 5 minutes (a revoked
                // token must not hammer the cloud); a user who fixed things asks for a
                // reconnect, which must work at once.
                if !self
                    .birth
                    .publish(
                        &format!("{BASE}/bridge/request/refresh"),
                        br#"{"id": "soak-refresh"}"#,
                        false,
                        Duration::from_secs(2),
                    )
                    .await
                {
                    self.violations
                        .add("the refresh request was not acknowledged by the broker".to_owned());
                }
                self.recovery(kind, at, RECOVERY_BOUND, None, Some(before), None)
                    .await;
            }
            FaultKind::BrokerRestart => {
                let down = Instant::now();
                if let Ok(mut l) = self.ledger.lock() {
                    l.broker_down.push((down, None));
                }
                self.broker.stop();
                sleep(Duration::from_millis(self.rng.range(200, 3000))).await;
                if let Err(e) = self.broker.restart() {
                    self.violations
                        .add(format!("mosquitto did not restart: {e}"));
                    return;
                }
                let at = Instant::now();
                self.recovery(kind, at, RECOVERY_BOUND, None, None, Some(at))
                    .await;
                if let Ok(mut l) = self.ledger.lock() {
                    if let Some(last) = l.broker_down.last_mut() {
                        last.1 = Some(Instant::now());
                    }
                }
            }
            FaultKind::Silent => {
                let cooker =
                    self.cookers[self.rng.below(self.cookers.len() as u64) as usize].clone();
                fault(self.sim.inject(Fault::Silent {
                    cooker_id: cooker.clone(),
                    silent: true,
                }));
                let quiet = Duration::from_millis(
                    self.rng
                        .range(1000, (STALE_AFTER.as_millis() as u64) + 6000),
                );
                sleep(quiet).await;
                // Past `stale_after` (and a push interval of margin) it must be shown offline;
                // an idle Precision Oven 2.0 has five times as long.
                let idle_v2 = is_oven(&cooker)
                    && !crate::traffic::is_v1(&cooker)
                    && self
                        .sim
                        .oven(&cooker)
                        .is_some_and(|o| o.mode != OvenMode::Cooking);
                let limit = if idle_v2 {
                    STALE_AFTER * 5
                } else {
                    STALE_AFTER
                };
                if quiet > limit + Duration::from_secs(3) {
                    let topic = format!("{BASE}/{}/availability", cooker.to_lowercase());
                    let shown = self.observed(|o| o.payload(&topic).map(str::to_owned));
                    if shown.as_deref() != Some("offline") {
                        self.violations.add(format!(
                            "{cooker} silent for {:.1} s but its availability is {shown:?}",
                            quiet.as_secs_f64()
                        ));
                    }
                }
                fault(self.sim.inject(Fault::Silent {
                    cooker_id: cooker,
                    silent: false,
                }));
                let at = Instant::now();
                self.recovery(kind, at, RECOVERY_BOUND, None, None, None)
                    .await;
            }
            FaultKind::Garbage => {
                let before = self.reconnects();
                let victim = self.cookers[0].clone();
                let frames = [
                    "not json at all".to_owned(),
                    "{\"command\":".to_owned(),
                    "[]".to_owned(),
                    "null".to_owned(),
                    "{\"command\":42}".to_owned(),
                    "{\"command\":\"EVENT_APC_STATE\",\"payload\":{\"cookerId\":5}}".to_owned(),
                    format!("{{\"command\":\"EVENT_APC_STATE\",\"payload\":{{\"cookerId\":\"{victim}\",\"type\":\"a7\",\"state\":\"garbage\"}}}}"),
                    "{\"command\":\"RESPONSE\",\"requestId\":\"nobody\",\"payload\":{\"status\":\"ok\"}}".to_owned(),
                    "{\"command\":\"EVENT_FROM_THE_FUTURE\",\"payload\":[1,2,3]}".to_owned(),
                    "{\"command\":\"EVENT_APC_WIFI_REMOVED\",\"payload\":{\"cookerId\":\"not-a-cooker\"}}".to_owned(),
                    String::from_utf8_lossy(&(0..64).map(|_| self.rng.below(256) as u8).collect::<Vec<u8>>()).into_owned(),
                ];
                for _ in 0..self.rng.range(2, 6) {
                    let text = frames[self.rng.below(frames.len() as u64) as usize].clone();
                    fault(self.sim.inject(Fault::RawFrame(RawFrame::Text(text))));
                }
                fault(
                    self.sim
                        .inject(Fault::RawFrame(RawFrame::Binary(vec![0xff, 0, 1]))),
                );
                let at = Instant::now();
                sleep(Duration::from_secs(2)).await;
                if self.reconnects() != before {
                    self.violations
                        .add("garbage frames cost the cloud link".to_owned());
                }
                self.recovery(kind, at, RECOVERY_BOUND, None, None, None)
                    .await;
            }
            FaultKind::PlanDropped => self.plan_dropped().await,
            FaultKind::WaterTank | FaultKind::Door => self.at_the_oven(kind).await,
            FaultKind::HaBirth => {
                let at = Instant::now();
                if !self
                    .birth
                    .publish(
                        "homeassistant/status",
                        b"online",
                        false,
                        Duration::from_secs(2),
                    )
                    .await
                {
                    return;
                }
                let ids: Vec<String> = self.cookers.iter().map(|c| c.to_lowercase()).collect();
                loop {
                    let done = self.observed(|o| {
                        ids.iter().all(|id| {
                            o.last.iter().any(|(t, s)| {
                                t.starts_with("homeassistant/")
                                    && t.ends_with("/config")
                                    && t.contains(id.as_str())
                                    && s.at >= at
                            })
                        })
                    });
                    if done {
                        self.stats
                            .recovery
                            .entry(kind)
                            .or_default()
                            .push(at.elapsed());
                        break;
                    }
                    if at.elapsed() > BIRTH_BOUND {
                        self.violations.add(
                            "no discovery republished after a Home Assistant birth".to_owned(),
                        );
                        break;
                    }
                    sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}
