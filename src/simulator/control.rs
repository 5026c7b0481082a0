//! The in-process control handle: what tests, the demo and harnesses use to steer the
//! simulated cloud (faults, devices) and to observe it (commands received, pushes written,
//! connections, device states), plus wait helpers so tests never sleep blindly.

use super::config::{SimCookerSpec, SimOvenSpec, SpecError};
use super::cooker::machine::{Alarm, CookerStage};
use super::cooker::CookerSnapshot;
use super::oven::{OvenChange, OvenSnapshot};
use super::record::{PushRecord, ReceivedCommand};
use super::wire::RawFrame;
use super::world::World;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// A fault to inject, or to clear.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Reset every open connection at once (TCP RST, no close frame): the client sees an
    /// abnormal closure (1006).
    DropConnections,
    /// Half-open: while on, every open connection (and each new one, after its upgrade) stops
    /// reading and writing its socket without closing it, so no frames flow and pings go
    /// unanswered. Turning it off only affects new connections; frozen ones stay frozen, like
    /// a dead TCP path, until [`Fault::DropConnections`] or shutdown.
    HalfOpen(bool),
    /// Every new connection fails authentication in the configured
    /// [`AuthFailureMode`](super::AuthFailureMode).
    RefuseAuth(bool),
    /// Raise or clear an alarm on a cooker; its state is pushed at once.
    Alarm {
        /// The cooker.
        cooker_id: String,
        /// Which alarm.
        alarm: Alarm,
        /// Raise (true) or clear (false).
        raised: bool,
    },
    /// Unplug a cooker or an oven (no pushes at all, its physics frozen, commands to it
    /// acknowledged `ok` and ignored; at the next connect the cloud sends its last state, Gen 3
    /// cookers and ovens with `online:false` and a stale `updatedTimestamp`), or plug it back
    /// (its state is pushed at once).
    Silent {
        /// The device.
        cooker_id: String,
        /// Unplugged (true) or back (false).
        silent: bool,
    },
    /// Someone fills a cooker's bath with ice water: the water is at
    /// [`ICE_WATER_C`](super::ICE_WATER_C) at once with `ice_ratio` kg of ice per kg of water
    /// floating in it (0: ice-cold water, its ice just melted; clamped to
    /// [`MAX_ICE_RATIO`](super::MAX_ICE_RATIO)); it stays there while the ice melts, then
    /// warms towards the room. Its state is pushed at once. For plans' food-safety watch.
    IceBath {
        /// The cooker.
        cooker_id: String,
        /// Ice per water, kg/kg (0.25: 1.5 kg of ice in 6 L).
        ice_ratio: f64,
    },
    /// Something a person does to an oven: the door, the water tank, the food probe, food in
    /// the camera's view, the start button, a power cycle (which also clears the
    /// wrong-generation error state). Its state is pushed at once when it changed.
    Oven {
        /// The oven.
        cooker_id: String,
        /// What happens.
        change: OvenChange,
    },
    /// Commands are received (and recorded) but never answered nor applied.
    WithholdResponses(bool),
    /// Close the socket right after each RESPONSE with a close frame without a status code, so the
    /// client sees 1005 (`docs/anova-protocol.md` §1.5). The state push that would follow is not
    /// sent on that socket; a reconnect shows the new state.
    CloseAfterResponse(bool),
    /// Send this frame, as it is, to every open connection (queued after what is already on
    /// its way): garbage for the client's parser, an unknown event, a stray RESPONSE.
    RawFrame(RawFrame),
    /// Close every open connection with a close frame carrying this code (`None`: no status
    /// code, which the client reads as 1005), as the cloud does when it rate-limits or ends a
    /// connection's lifetime (`docs/anova-protocol.md` §1.5).
    CloseConnections(Option<u16>),
    /// Reset every open connection (as [`Fault::DropConnections`]) every `period`, until
    /// cleared with `None`.
    DropEvery(Option<Duration>),
    /// Answer every command after this delay instead of the configured `response_delay`
    /// (`None` restores it): a delay beyond the client's command timeout makes it time out.
    ResponseDelay(Option<Duration>),
    /// Send every RESPONSE twice (clients must ignore duplicates, `docs/anova-protocol.md` §2).
    DuplicateResponses(bool),
}

/// The load generator's counters ([`SimulatorHandle::load_pushes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadPushes {
    /// Pushes sent to every reading connection.
    pub sent: u64,
    /// Pushes skipped because the fleet fell more than an interval behind.
    pub skipped: u64,
}

/// A control call that could not be carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    /// No device has this id (or, for an alarm, no cooker; for an oven change, no oven).
    #[error("no simulated device {0:?} of that kind")]
    UnknownCooker(String),
    /// The cooker spec is not usable.
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// A wait helper ran out of time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("timed out after {timeout:?} waiting for {what}")]
pub struct WaitTimeout {
    /// What was awaited.
    pub what: String,
    /// How long we waited.
    pub timeout: Duration,
}

/// State shared by the server tasks and every handle.
pub(crate) struct Shared {
    world: Mutex<World>,
    /// Bumped after every change of the world, so waiters re-check their condition.
    changed: watch::Sender<u64>,
    /// Bumped by [`Fault::DropConnections`]; each connection resets when it changes.
    pub(crate) drop_generation: watch::Sender<u64>,
    /// Bumped by [`Fault::CloseConnections`] with the close code to send.
    pub(crate) close_generation: watch::Sender<(u64, Option<u16>)>,
    /// The period of [`Fault::DropEvery`].
    pub(crate) drop_every: watch::Sender<Option<Duration>>,
    /// The half-open fault.
    pub(crate) half_open: watch::Sender<bool>,
    /// Where the connections report written pushes, once someone asked.
    push_log: Mutex<Option<mpsc::Sender<PushRecord>>>,
}

impl Shared {
    pub(crate) fn new(world: World) -> Self {
        Self {
            world: Mutex::new(world),
            changed: watch::Sender::new(0),
            drop_generation: watch::Sender::new(0),
            close_generation: watch::Sender::new((0, None)),
            drop_every: watch::Sender::new(None),
            half_open: watch::Sender::new(false),
            push_log: Mutex::new(None),
        }
    }

    /// Reports a written push to the latency hook; dropped when its buffer is full.
    pub(crate) fn record_push(&self, record: PushRecord) {
        let log = self.push_log.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = log.as_ref() {
            let _ = sender.try_send(record);
        }
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the world under the lock (never across an `.await`), then wakes waiters.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let result = f(&mut self.lock());
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
        result
    }

    /// Like [`Self::update`], without waking the waiters: for the load generator's pushes,
    /// which change nothing a waiter looks at, a thousand times a second.
    pub(crate) fn update_quietly<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.lock())
    }

    /// Reads the world under the lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.lock())
    }
}

/// The control handle: cheap to clone, `Send + Sync`; no lock is held across an `.await`.
#[derive(Clone)]
pub struct SimulatorHandle {
    pub(super) shared: Arc<Shared>,
}

impl SimulatorHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Injects (or clears) a fault.
    pub fn inject(&self, fault: Fault) -> Result<(), ControlError> {
        let now = OffsetDateTime::now_utc();
        let instant = Instant::now();
        match fault {
            Fault::DropConnections => {
                self.shared
                    .drop_generation
                    .send_modify(|g| *g = g.wrapping_add(1));
            }
            Fault::HalfOpen(on) => {
                self.shared.half_open.send_replace(on);
            }
            Fault::RefuseAuth(on) => self.shared.update(|w| w.faults.refuse_auth = on),
            Fault::WithholdResponses(on) => {
                self.shared.update(|w| w.faults.withhold_responses = on);
            }
            Fault::CloseAfterResponse(on) => {
                self.shared.update(|w| w.faults.close_after_response = on);
            }
            Fault::Alarm {
                cooker_id,
                alarm,
                raised,
            } => {
                if !self
                    .shared
                    .update(|w| w.set_alarm(&cooker_id, alarm, raised, now, instant))
                {
                    return Err(ControlError::UnknownCooker(cooker_id));
                }
            }
            Fault::Silent { cooker_id, silent } => {
                if !self
                    .shared
                    .update(|w| w.set_silent(&cooker_id, silent, now, instant))
                {
                    return Err(ControlError::UnknownCooker(cooker_id));
                }
            }
            Fault::IceBath {
                cooker_id,
                ice_ratio,
            } => {
                if !self
                    .shared
                    .update(|w| w.set_ice_bath(&cooker_id, ice_ratio, now, instant))
                {
                    return Err(ControlError::UnknownCooker(cooker_id));
                }
            }
            Fault::Oven { cooker_id, change } => {
                if !self
                    .shared
                    .update(|w| w.change_oven(&cooker_id, change, now, instant))
                {
                    return Err(ControlError::UnknownCooker(cooker_id));
                }
            }
            Fault::RawFrame(frame) => self.shared.update(|w| w.broadcast_raw(frame)),
            Fault::CloseConnections(code) => {
                self.shared
                    .close_generation
                    .send_modify(|(g, c)| (*g, *c) = (g.wrapping_add(1), code));
            }
            Fault::DropEvery(period) => {
                self.shared.drop_every.send_replace(period);
            }
            Fault::ResponseDelay(delay) => self.shared.update(|w| w.faults.response_delay = delay),
            Fault::DuplicateResponses(on) => {
                self.shared.update(|w| w.faults.duplicate_responses = on);
            }
        }
        Ok(())
    }

    /// Pairs an oven: it is in the next `APO` connection's `EVENT_APO_WIFI_LIST`. With
    /// `announce`, open `APO` connections also get `EVENT_APO_WIFI_ADDED` and its state.
    pub fn add_oven(&self, spec: SimOvenSpec, announce: bool) -> Result<(), ControlError> {
        let now = OffsetDateTime::now_utc();
        let instant = Instant::now();
        self.shared
            .update(|w| w.add_oven(&spec, announce, now, instant))?;
        Ok(())
    }

    /// An oven's current simulated state.
    pub fn oven(&self, cooker_id: &str) -> Option<OvenSnapshot> {
        self.shared.read(|w| w.oven_snapshot(cooker_id))
    }

    /// Every oven's current simulated state, in device-list order.
    pub fn ovens(&self) -> Vec<OvenSnapshot> {
        self.shared.read(World::oven_snapshots)
    }

    /// Waits until an oven's state satisfies `condition`; returns that state. `what` names the
    /// condition in the timeout error.
    pub async fn wait_for_oven(
        &self,
        cooker_id: &str,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut(&OvenSnapshot) -> bool,
    ) -> Result<OvenSnapshot, WaitTimeout> {
        let what = format!("oven {cooker_id}: {what}");
        let mut seen = None;
        self.wait_until(&what, timeout, |h| {
            seen = h.oven(cooker_id).filter(|s| condition(s));
            seen.is_some()
        })
        .await?;
        seen.ok_or(WaitTimeout { what, timeout })
    }

    /// Adds a cooker: it is in the next connection's `EVENT_APC_WIFI_LIST`. With `announce`,
    /// open connections also get `EVENT_APC_WIFI_ADDED` and its state.
    pub fn add_cooker(&self, spec: SimCookerSpec, announce: bool) -> Result<(), ControlError> {
        let now = OffsetDateTime::now_utc();
        let instant = Instant::now();
        self.shared
            .update(|w| w.add_cooker(&spec, announce, now, instant))?;
        Ok(())
    }

    /// Unpairs a cooker or an oven: it is gone from the next device list. With `announce`, open
    /// connections also get `EVENT_APC_WIFI_REMOVED` (`EVENT_APO_WIFI_REMOVED` for an oven).
    pub fn remove_cooker(&self, cooker_id: &str, announce: bool) -> Result<(), ControlError> {
        if self.shared.update(|w| w.remove_device(cooker_id, announce)) {
            Ok(())
        } else {
            Err(ControlError::UnknownCooker(cooker_id.to_owned()))
        }
    }

    /// The commands received so far, in order (the newest
    /// [`command_log_limit`](super::SimulatorConfig::command_log_limit) of them).
    pub fn commands(&self) -> Vec<ReceivedCommand> {
        self.shared
            .read(|w| w.commands.retained().cloned().collect())
    }

    /// How many commands were received since the start, drained or forgotten ones included.
    pub fn commands_received(&self) -> u64 {
        self.shared.read(|w| w.commands.total())
    }

    /// Starts recording when each state push is written to a socket (off by default; it costs
    /// one small record per push while on). Records go to the returned receiver, which holds
    /// at most `capacity` of them: when the reader falls behind, newer records are dropped, so
    /// the simulator never waits for it. A second call replaces the first receiver.
    pub fn push_times(&self, capacity: usize) -> mpsc::Receiver<PushRecord> {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        *self
            .shared
            .push_log
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(sender);
        self.shared.update(|w| w.tag_pushes = true);
        receiver
    }

    /// The load generator's pushes so far: how many were sent, and how many were skipped
    /// because the fleet fell more than one push interval behind (the readers could not keep
    /// up). Both 0 without a load fleet.
    pub fn load_pushes(&self) -> LoadPushes {
        let (sent, skipped) = self.shared.read(World::load_counters);
        LoadPushes { sent, skipped }
    }

    /// TCP connections accepted so far, refused ones included.
    pub fn connection_attempts(&self) -> u64 {
        self.shared.read(|w| w.attempts)
    }

    /// Connections past the upgrade and still open (frozen half-open ones included).
    pub fn open_connections(&self) -> usize {
        self.shared.read(World::open_connections)
    }

    /// A cooker's current simulated state.
    pub fn cooker(&self, cooker_id: &str) -> Option<CookerSnapshot> {
        self.shared.read(|w| w.snapshot(cooker_id))
    }

    /// Every cooker's current simulated state, in device-list order.
    pub fn cookers(&self) -> Vec<CookerSnapshot> {
        self.shared.read(World::snapshots)
    }

    /// Waits until `condition` holds, re-checking after every change of the simulated world.
    /// `what` names the condition in the timeout error.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut(&SimulatorHandle) -> bool,
    ) -> Result<(), WaitTimeout> {
        let deadline = Instant::now() + timeout;
        let mut changes = self.shared.changed.subscribe();
        loop {
            changes.borrow_and_update();
            if condition(self) {
                return Ok(());
            }
            let woke = tokio::time::timeout_at(deadline, changes.changed()).await;
            // The sender lives as long as `self.shared`, so `changed` cannot fail.
            if woke.is_err() {
                return if condition(self) {
                    Ok(())
                } else {
                    Err(WaitTimeout {
                        what: what.to_owned(),
                        timeout,
                    })
                };
            }
        }
    }

    /// Waits until at least `count` commands were received in all; returns the recorded ones.
    pub async fn wait_for_commands(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedCommand>, WaitTimeout> {
        let what = format!("{count} command(s)");
        self.wait_until(&what, timeout, |h| h.commands_received() >= count as u64)
            .await?;
        Ok(self.commands())
    }

    /// Waits until exactly `count` connections are open.
    pub async fn wait_for_open_connections(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        let what = format!("{count} open connection(s)");
        self.wait_until(&what, timeout, |h| h.open_connections() == count)
            .await
    }

    /// Waits until at least `count` connection attempts were made.
    pub async fn wait_for_connection_attempts(
        &self,
        count: u64,
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        let what = format!("{count} connection attempt(s)");
        self.wait_until(&what, timeout, |h| h.connection_attempts() >= count)
            .await
    }

    /// Waits until a cooker reaches `stage`; returns its state then.
    pub async fn wait_for_stage(
        &self,
        cooker_id: &str,
        stage: CookerStage,
        timeout: Duration,
    ) -> Result<CookerSnapshot, WaitTimeout> {
        let what = format!("cooker {cooker_id} to be {}", stage.as_str());
        let mut seen = None;
        self.wait_until(&what, timeout, |h| {
            seen = h.cooker(cooker_id).filter(|s| s.stage == stage);
            seen.is_some()
        })
        .await?;
        seen.ok_or(WaitTimeout { what, timeout })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_can_be_shared_across_tasks() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<SimulatorHandle>();
    }
}
