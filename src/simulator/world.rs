//! Everything the simulated cloud knows, behind one lock: the devices, the open connections'
//! outboxes, the injected faults, and the log of received commands.
//!
//! All frames are queued into the connections' outboxes while the lock is held, so every
//! connection sees the frames in the order the state changed (a RESPONSE before the push that
//! follows it; never a stale state after a fresh one). Nothing here awaits.

use super::config::{SimCookerSpec, SimOvenSpec, SimulatorConfig, SpecError};
use super::cooker::machine::Alarm;
use super::cooker::{CookerSnapshot, SimCooker};
use super::handshake::Accessories;
use super::load::{water_temperature_c, LoadSchedule, LOAD_SETPOINT_C};
use super::oven::{OvenChange, OvenSnapshot};
use super::ovens::{Answer, Ovens, Push};
use super::record::{PushTag, ReceivedCommand};
use super::routing::{route, Verdict};
use super::wire::client::{ApcCommand, ClientFrame};
use super::wire::{self, EventName, RawFrame, Removed, Utf8Bytes};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How many frames a connection may have queued, beyond its connect sequence, before new ones
/// are dropped for it (a client that stopped reading, or a connection frozen by the half-open
/// fault). The load generator waits for room instead of dropping.
const OUTBOX_CAPACITY: usize = 1024;

/// A frame on its way to one connection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outbound {
    /// An event frame, shared between connections; `push` tags a state push for the latency
    /// hook (only while it records).
    Frame {
        text: Utf8Bytes,
        push: Option<PushTag>,
    },
    /// A RESPONSE; `close_after` closes the socket right after it (the 1005 quirk).
    Response { text: String, close_after: bool },
    /// A binary frame (an injected fault).
    Binary(bytes::Bytes),
}

impl Outbound {
    fn frame(text: Utf8Bytes) -> Self {
        Self::Frame { text, push: None }
    }
}

/// Faults that the world itself applies (the ones that act on sockets live in the server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Faults {
    /// New connections fail authentication.
    pub(crate) refuse_auth: bool,
    /// Commands are recorded but never answered nor applied.
    pub(crate) withhold_responses: bool,
    /// Close the socket right after each RESPONSE.
    pub(crate) close_after_response: bool,
    /// Answer after this delay instead of the configured one.
    pub(crate) response_delay: Option<Duration>,
    /// Send every RESPONSE twice.
    pub(crate) duplicate_responses: bool,
}

/// One cooker with its push schedule.
struct CookerSlot {
    cooker: SimCooker,
    /// The id again, cheap to hand to the latency hook.
    id: Arc<str>,
    /// When the next periodic push is due.
    next_push: Instant,
    /// A load cooker: pushed by the load generator, not by the physics tick.
    load: bool,
}

/// The load generator's fleet.
struct LoadFleet {
    schedule: LoadSchedule,
    /// The fleet's ids, in schedule order.
    ids: Vec<String>,
    /// Each load cooker's index in `cookers` (`None` once removed).
    members: Vec<Option<usize>>,
    /// The push interval, simulated seconds (the load cookers' clock moves by one per push).
    interval_s: f64,
}

/// What the load generator should do next.
#[derive(Debug)]
pub(crate) enum LoadStep {
    /// Come back at this instant.
    WaitUntil(Instant),
    /// A connection's outbox is full: wait until it has room (back-pressure), then come back.
    Blocked(mpsc::Sender<Outbound>),
    /// There is no load fleet.
    Off,
}

/// One open connection.
struct ConnectionSlot {
    outbox: mpsc::Sender<Outbound>,
    accessories: Accessories,
    /// Frozen by the half-open fault: it will never read its outbox again.
    frozen: bool,
}

/// Queues `item` for every connection that asked for cookers. A full outbox belongs to a client
/// that stopped reading: it misses this frame.
fn broadcast_apc(connections: &BTreeMap<u64, ConnectionSlot>, item: &Outbound) {
    for slot in connections.values().filter(|c| c.accessories.apc) {
        let _ = slot.outbox.try_send(item.clone());
    }
}

/// The received commands, the newest `limit` of them.
pub(crate) struct CommandLog {
    retained: VecDeque<ReceivedCommand>,
    total: u64,
    limit: usize,
}

impl CommandLog {
    fn new(limit: usize) -> Self {
        Self {
            retained: VecDeque::new(),
            total: 0,
            limit,
        }
    }

    /// Records one command, forgetting the oldest beyond the limit.
    pub(crate) fn push(&mut self, command: ReceivedCommand) {
        self.total += 1;
        self.retained.push_back(command);
        while self.retained.len() > self.limit {
            self.retained.pop_front();
        }
    }

    /// The retained commands, oldest first.
    pub(crate) fn retained(&self) -> impl Iterator<Item = &ReceivedCommand> {
        self.retained.iter()
    }

    /// Removes and returns the retained commands.
    pub(crate) fn drain(&mut self) -> Vec<ReceivedCommand> {
        self.retained.drain(..).collect()
    }

    /// Every command ever received.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

/// The simulated cloud's state.
pub(crate) struct World {
    cookers: Vec<CookerSlot>,
    load: Option<LoadFleet>,
    ovens: Ovens,
    /// `cookerId` → index in `cookers`.
    index: HashMap<String, usize>,
    connections: BTreeMap<u64, ConnectionSlot>,
    next_connection_id: u64,
    /// Injected faults.
    pub(crate) faults: Faults,
    /// Received commands.
    pub(crate) commands: CommandLog,
    /// TCP connections accepted, refused ones included.
    pub(crate) attempts: u64,
    /// Tag state pushes for the latency hook.
    pub(crate) tag_pushes: bool,
    started: OffsetDateTime,
    idle_push: Duration,
    cooking_push: Duration,
    noise: bool,
    preheat_rate_c_per_min: f64,
    enforce_pat_allow_list: bool,
}

/// What [`World::execute`] did, for the log line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Answered with this error text.
    Refused(&'static str),
    /// Answered `ok`; the command changed a device.
    Applied,
    /// Answered `ok`; nothing happened, for this reason.
    Ignored(String),
}

impl World {
    /// A world with the configured devices. `started` is the wall time the simulation starts.
    pub(crate) fn new(
        config: &SimulatorConfig,
        started: OffsetDateTime,
        now: Instant,
    ) -> Result<Self, SpecError> {
        let mut world = Self {
            cookers: Vec::new(),
            load: None,
            ovens: Ovens::new(config, started, now)?,
            index: HashMap::new(),
            connections: BTreeMap::new(),
            next_connection_id: 1,
            faults: Faults::default(),
            commands: CommandLog::new(config.command_log_limit),
            attempts: 0,
            tag_pushes: false,
            started,
            idle_push: config.idle_push_interval,
            cooking_push: config.cooking_push_interval,
            noise: config.noise,
            preheat_rate_c_per_min: config.preheat_rate_c_per_min,
            enforce_pat_allow_list: config.enforce_pat_allow_list,
        };
        for spec in &config.cookers {
            world.insert_cooker(spec, now)?;
        }
        if let Some(load) = &config.load {
            let mut fleet = LoadFleet {
                schedule: LoadSchedule::new(now, load.push_interval, load.cookers),
                ids: Vec::with_capacity(load.cookers),
                members: Vec::with_capacity(load.cookers),
                interval_s: load.push_interval.as_secs_f64(),
            };
            for spec in load.specs() {
                let cooker = SimCooker::cooking(&spec, LOAD_SETPOINT_C, started)?;
                fleet.members.push(Some(world.insert(cooker, now, true)?));
                fleet.ids.push(spec.cooker_id);
            }
            world.load = Some(fleet);
        }
        Ok(world)
    }

    fn insert_cooker(&mut self, spec: &SimCookerSpec, now: Instant) -> Result<usize, SpecError> {
        let cooker = SimCooker::new(spec, self.started, self.noise, self.preheat_rate_c_per_min)?;
        self.insert(cooker, now, false)
    }

    fn insert(&mut self, cooker: SimCooker, now: Instant, load: bool) -> Result<usize, SpecError> {
        if self.index.contains_key(cooker.cooker_id()) || self.ovens.contains(cooker.cooker_id()) {
            return Err(SpecError::Duplicate(cooker.cooker_id().to_owned()));
        }
        let next_push = now + self.push_interval(&cooker);
        let index = self.cookers.len();
        self.index.insert(cooker.cooker_id().to_owned(), index);
        self.cookers.push(CookerSlot {
            id: cooker.cooker_id().into(),
            cooker,
            next_push,
            load,
        });
        Ok(index)
    }

    fn index_of(&self, cooker_id: &str) -> Option<usize> {
        self.index.get(cooker_id).copied()
    }

    fn push_interval(&self, cooker: &SimCooker) -> Duration {
        if cooker.is_cooking() {
            self.cooking_push
        } else {
            self.idle_push
        }
    }

    /// Opens a connection: queues the connect sequence (`docs/anova-protocol.md` §1.3: device list,
    /// user state, one state per device, offline ones included) and returns its id and outbox.
    pub(crate) fn register(
        &mut self,
        accessories: Accessories,
        now: OffsetDateTime,
    ) -> (u64, mpsc::Receiver<Outbound>) {
        let id = self.next_connection_id;
        self.next_connection_id += 1;
        let mut frames = Vec::new();
        if accessories.apc {
            let list: Vec<_> = self.cookers.iter().map(|s| s.cooker.list_entry()).collect();
            frames.push(wire::event(EventName::ApcWifiList, &list));
        }
        if accessories.apo {
            frames.push(self.ovens.list());
        }
        frames.push(wire::user_state());
        if accessories.apc {
            frames.extend(self.cookers.iter().map(|s| s.cooker.state_event(now)));
        }
        if accessories.apo {
            frames.extend(self.ovens.states(now));
            frames.extend(self.ovens.firmware_events());
        }
        // Room for the whole connect sequence, however many devices there are, plus the usual
        // margin: the sequence is bounded by the device count.
        let (outbox, receiver) = mpsc::channel(frames.len() + OUTBOX_CAPACITY);
        for frame in frames {
            let _ = outbox.try_send(Outbound::frame(frame));
        }
        self.connections.insert(
            id,
            ConnectionSlot {
                outbox,
                accessories,
                frozen: false,
            },
        );
        (id, receiver)
    }

    /// Forgets a closed connection.
    pub(crate) fn unregister(&mut self, connection: u64) {
        self.connections.remove(&connection);
    }

    /// Queues an injected frame for every open connection.
    pub(crate) fn broadcast_raw(&self, frame: RawFrame) {
        let item = match frame {
            RawFrame::Text(text) => Outbound::frame(text.into()),
            RawFrame::Binary(bytes) => Outbound::Binary(bytes.into()),
        };
        for slot in self.connections.values() {
            let _ = slot.outbox.try_send(item.clone());
        }
    }

    /// Marks a connection frozen by the half-open fault (nobody waits for its outbox).
    pub(crate) fn freeze(&mut self, connection: u64) {
        if let Some(slot) = self.connections.get_mut(&connection) {
            slot.frozen = true;
        }
    }

    /// The delay before the next RESPONSE: the injected one, else `configured`.
    pub(crate) fn response_delay(&self, configured: Duration) -> Duration {
        self.faults.response_delay.unwrap_or(configured)
    }

    /// Open connections (frozen half-open ones included).
    pub(crate) fn open_connections(&self) -> usize {
        self.connections.len()
    }

    /// Answers one command on `connection` and applies it: the RESPONSE goes to that
    /// connection, then (when a device changed) a fresh state to every connection.
    pub(crate) fn execute(
        &mut self,
        connection: u64,
        frame: &ClientFrame,
        now: OffsetDateTime,
        instant: Instant,
    ) -> Outcome {
        let mut oven_changed = None;
        let (outcome, changed) = match route(frame, self.enforce_pat_allow_list) {
            Verdict::Error(text) => (Outcome::Refused(text), None),
            Verdict::Ignore(why) => (Outcome::Ignored(why.into()), None),
            Verdict::Apc(command) => match self.apply_to_cooker(&command, &frame.request_id) {
                Ok(index) => (Outcome::Applied, Some(index)),
                // The real quirk: acknowledged `ok` all the same.
                Err(why) => (Outcome::Ignored(why.into()), None),
            },
            Verdict::Apo { oven_id, command } => {
                let (answer, changed) = self.ovens.execute(&oven_id, &command, &frame.request_id);
                oven_changed = changed;
                let outcome = match answer {
                    Answer::Applied => Outcome::Applied,
                    Answer::Ignored(why) => Outcome::Ignored(why),
                    Answer::Refused(text) => Outcome::Refused(text),
                };
                (outcome, None)
            }
        };
        let answer = match outcome {
            Outcome::Refused(text) => Err(text),
            _ => Ok(()),
        };
        if let Some(slot) = self.connections.get(&connection) {
            let text = wire::response(&frame.request_id, answer);
            if self.faults.duplicate_responses {
                let _ = slot.outbox.try_send(Outbound::Response {
                    text: text.clone(),
                    close_after: false,
                });
            }
            let _ = slot.outbox.try_send(Outbound::Response {
                text,
                close_after: self.faults.close_after_response,
            });
        }
        if let Some(index) = changed {
            self.push_state(index, now, instant);
        }
        if let Some(index) = oven_changed {
            self.push_oven(index, now, instant);
        }
        outcome
    }

    fn push_oven(&mut self, index: usize, now: OffsetDateTime, instant: Instant) {
        if let Some(push) = self.ovens.push(index, now, instant, self.tag_pushes) {
            self.broadcast_apo(push);
        }
    }

    fn broadcast_apo(&self, push: Push) {
        let item = Outbound::Frame {
            text: push.text,
            push: push.tag,
        };
        for slot in self.connections.values().filter(|c| c.accessories.apo) {
            let _ = slot.outbox.try_send(item.clone());
        }
    }

    /// Hands a command to its cooker: the index of the cooker it changed, or why nothing
    /// happened.
    fn apply_to_cooker(
        &mut self,
        command: &ApcCommand,
        request_id: &str,
    ) -> Result<usize, &'static str> {
        let target = command.cooker();
        let index = self.index_of(&target.cooker_id).ok_or("unknown cookerId")?;
        let cooker = &mut self.cookers[index].cooker;
        if !cooker.device_type().matches(target.device_type.as_str()) {
            return Err("type does not match the device");
        }
        if cooker.is_silent() {
            return Err("the cooker is offline");
        }
        if !cooker.apply(command, request_id) {
            return Err("the cooker ignores it in this state");
        }
        Ok(index)
    }

    /// Advances every plugged-in cooker by `simulated` seconds and pushes a state for each stage
    /// change and each periodic push that is due.
    pub(crate) fn tick(&mut self, simulated_s: f64, now: OffsetDateTime, instant: Instant) {
        for index in 0..self.cookers.len() {
            let slot = &self.cookers[index];
            if slot.load || slot.cooker.is_silent() {
                continue;
            }
            // Each stage change is pushed as it happens, even when one tick crosses several.
            let mut left = simulated_s;
            let mut pushed = false;
            while left > 1e-9 {
                let step = self.cookers[index].cooker.advance(left);
                if step.transition {
                    self.push_state(index, now, instant);
                    pushed = true;
                }
                if step.simulated_s <= 0.0 {
                    break;
                }
                left -= step.simulated_s;
            }
            if !pushed && instant >= self.cookers[index].next_push {
                self.push_state(index, now, instant);
            }
        }
        for push in self.ovens.tick(simulated_s, now, instant, self.tag_pushes) {
            self.broadcast_apo(push);
        }
    }

    fn push_state(&mut self, index: usize, now: OffsetDateTime, instant: Instant) {
        let Some(slot) = self.cookers.get(index) else {
            return;
        };
        if slot.cooker.is_silent() {
            return;
        }
        let text = slot.cooker.state_event(now);
        let push = self.tag_pushes.then(|| PushTag {
            cooker_id: slot.id.clone(),
            water_temperature_c: Some(slot.cooker.reported_water_c()),
        });
        let next_push = instant + self.push_interval(&slot.cooker);
        self.cookers[index].next_push = next_push;
        self.broadcast_apc(&Outbound::Frame { text, push });
    }

    fn broadcast_apc(&self, item: &Outbound) {
        broadcast_apc(&self.connections, item);
    }

    /// Sends every load push that is due at `now`, in schedule order. Unlike the other pushes,
    /// these wait for room in every reading connection's outbox instead of being dropped, so
    /// a slow reader slows the fleet down (back-pressure) rather than losing frames.
    pub(crate) fn push_load(&mut self, now: Instant, wall: OffsetDateTime) -> LoadStep {
        let Self {
            load,
            cookers,
            connections,
            tag_pushes,
            ..
        } = self;
        let Some(fleet) = load else {
            return LoadStep::Off;
        };
        while let Some(due) = fleet.schedule.peek(now) {
            let full = connections.values().find(|c| {
                c.accessories.apc && !c.frozen && !c.outbox.is_closed() && c.outbox.capacity() == 0
            });
            if let Some(full) = full {
                return LoadStep::Blocked(full.outbox.clone());
            }
            let slot = fleet.members[due.cooker].and_then(|i| cookers.get_mut(i));
            if let Some(slot) = slot.filter(|s| !s.cooker.is_silent()) {
                let water_c = water_temperature_c(due.cooker, due.push);
                let clock_s = due.push as f64 * fleet.interval_s;
                slot.cooker.set_load_state(clock_s, water_c);
                let text = slot.cooker.state_event(wall);
                let push = tag_pushes.then(|| PushTag {
                    cooker_id: slot.id.clone(),
                    water_temperature_c: Some(slot.cooker.reported_water_c()),
                });
                broadcast_apc(connections, &Outbound::Frame { text, push });
            }
            fleet.schedule.advance();
        }
        LoadStep::WaitUntil(fleet.schedule.next_due())
    }

    /// Load pushes sent and skipped (the fleet fell more than an interval behind) so far.
    pub(crate) fn load_counters(&self) -> (u64, u64) {
        self.load
            .as_ref()
            .map_or((0, 0), |f| (f.schedule.sent(), f.schedule.skipped()))
    }

    /// Adds a cooker (it is in the next connection's device list); `announce` also sends
    /// `EVENT_APC_WIFI_ADDED` and its state to the open connections.
    pub(crate) fn add_cooker(
        &mut self,
        spec: &SimCookerSpec,
        announce: bool,
        now: OffsetDateTime,
        instant: Instant,
    ) -> Result<(), SpecError> {
        let index = self.insert_cooker(spec, instant)?;
        if announce {
            let entry = self.cookers[index].cooker.list_entry();
            let added = wire::event(EventName::ApcWifiAdded, &entry);
            self.broadcast_apc(&Outbound::frame(added));
            self.push_state(index, now, instant);
        }
        Ok(())
    }

    /// Pairs an oven (it is in the next `APO` connection's device list); `announce` also sends
    /// `EVENT_APO_WIFI_ADDED` and its state to the open `APO` connections.
    pub(crate) fn add_oven(
        &mut self,
        spec: &SimOvenSpec,
        announce: bool,
        now: OffsetDateTime,
        instant: Instant,
    ) -> Result<(), SpecError> {
        if self.index.contains_key(&spec.cooker_id) {
            return Err(SpecError::Duplicate(spec.cooker_id.clone()));
        }
        let (added, index) = self.ovens.add(spec, instant)?;
        if announce {
            self.broadcast_apo(Push {
                text: added,
                tag: None,
            });
            self.push_oven(index, now, instant);
        }
        Ok(())
    }

    /// Applies a change to an oven and pushes its state when it changed. False when unknown.
    pub(crate) fn change_oven(
        &mut self,
        cooker_id: &str,
        change: OvenChange,
        now: OffsetDateTime,
        instant: Instant,
    ) -> bool {
        match self.ovens.change(cooker_id, change) {
            None => false,
            Some(changed) => {
                if let Some(index) = changed {
                    self.push_oven(index, now, instant);
                }
                true
            }
        }
    }

    /// An oven's current state.
    pub(crate) fn oven_snapshot(&self, cooker_id: &str) -> Option<OvenSnapshot> {
        self.ovens.snapshot(cooker_id)
    }

    /// Every oven's current state, in device-list order.
    pub(crate) fn oven_snapshots(&self) -> Vec<OvenSnapshot> {
        self.ovens.snapshots()
    }

    /// Unpairs a cooker or an oven; `announce` also sends `EVENT_APC_WIFI_REMOVED` /
    /// `EVENT_APO_WIFI_REMOVED`. False when unknown.
    pub(crate) fn remove_device(&mut self, cooker_id: &str, announce: bool) -> bool {
        if let Some(removed) = self.ovens.remove(cooker_id) {
            if announce {
                self.broadcast_apo(Push {
                    text: removed,
                    tag: None,
                });
            }
            return true;
        }
        self.remove_cooker(cooker_id, announce)
    }

    /// Removes a cooker; `announce` also sends `EVENT_APC_WIFI_REMOVED`. False when unknown.
    fn remove_cooker(&mut self, cooker_id: &str, announce: bool) -> bool {
        let Some(index) = self.index_of(cooker_id) else {
            return false;
        };
        self.cookers.remove(index);
        // Later cookers moved up by one.
        self.index = self
            .cookers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.cooker.cooker_id().to_owned(), i))
            .collect();
        if let Some(fleet) = &mut self.load {
            let index = &self.index;
            fleet.members = fleet.ids.iter().map(|id| index.get(id).copied()).collect();
        }
        if announce {
            let removed = wire::event(EventName::ApcWifiRemoved, &Removed { cooker_id });
            self.broadcast_apc(&Outbound::frame(removed));
        }
        true
    }

    /// Raises or clears an alarm and pushes the new state. False when the cooker is unknown.
    pub(crate) fn set_alarm(
        &mut self,
        cooker_id: &str,
        alarm: Alarm,
        raised: bool,
        now: OffsetDateTime,
        instant: Instant,
    ) -> bool {
        let Some(index) = self.index_of(cooker_id) else {
            return false;
        };
        if self.cookers[index].cooker.set_alarm(alarm, raised) {
            self.push_state(index, now, instant);
        }
        true
    }

    /// Fills a cooker's bath with ice water (see [`SimCooker::set_ice_bath`]) and pushes its
    /// state at once. False when no cooker has that id.
    pub(crate) fn set_ice_bath(
        &mut self,
        cooker_id: &str,
        ice_ratio: f64,
        now: OffsetDateTime,
        instant: Instant,
    ) -> bool {
        let Some(index) = self.index_of(cooker_id) else {
            return false;
        };
        self.cookers[index].cooker.set_ice_bath(ice_ratio);
        self.push_state(index, now, instant);
        true
    }

    /// Unplugs a device or plugs it back (which pushes its state at once). False when unknown.
    pub(crate) fn set_silent(
        &mut self,
        cooker_id: &str,
        silent: bool,
        now: OffsetDateTime,
        instant: Instant,
    ) -> bool {
        if let Some((index, back)) = self.ovens.set_silent(cooker_id, silent, now) {
            if back {
                self.push_oven(index, now, instant);
            }
            return true;
        }
        let Some(index) = self.index_of(cooker_id) else {
            return false;
        };
        if self.cookers[index].cooker.set_silent(silent, now) && !silent {
            self.push_state(index, now, instant);
        }
        true
    }

    /// A cooker's current state.
    pub(crate) fn snapshot(&self, cooker_id: &str) -> Option<CookerSnapshot> {
        self.index_of(cooker_id)
            .map(|i| self.cookers[i].cooker.snapshot())
    }

    /// Every cooker's current state, in device-list order.
    pub(crate) fn snapshots(&self) -> Vec<CookerSnapshot> {
        self.cookers.iter().map(|s| s.cooker.snapshot()).collect()
    }
}

#[cfg(test)]
#[path = "world_tests.rs"]
mod tests;
