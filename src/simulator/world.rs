//! Everything the simulated cloud knows, behind one lock: the cookers, the open connections'
//! outboxes, the injected faults, and the log of received commands.
//!
//! All frames are queued into the connections' outboxes while the lock is held, so every
//! connection sees the frames in the order the state changed (a RESPONSE before the push that
//! follows it; never a stale state after a fresh one). Nothing here awaits.

use super::control::ReceivedCommand;
use super::cooker::{Alarm, CookerSnapshot, SimCooker, SpecError};
use super::handshake::Accessories;
use super::routing::{route, Verdict};
use super::{SimCookerSpec, SimulatorConfig};
use crate::anova::protocol::{
    ApcCommand, ClientFrame, DeviceRemoved, Event, Response, Subscription, UserState,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How many frames a connection may have queued before new ones are dropped for it (a client
/// that stopped reading, or a connection frozen by the half-open fault).
const OUTBOX_CAPACITY: usize = 1024;

/// A frame on its way to one connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// An event frame, shared between connections.
    Frame(Arc<str>),
    /// A RESPONSE; `close_after` closes the socket right after it (the 1005 quirk).
    Response {
        /// The frame.
        text: String,
        /// Close the connection once it is written.
        close_after: bool,
    },
}

/// Faults that the world itself applies (the ones that act on sockets live in the server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// New connections fail authentication.
    pub refuse_auth: bool,
    /// Commands are recorded but never answered nor applied.
    pub withhold_responses: bool,
    /// Close the socket right after each RESPONSE.
    pub close_after_response: bool,
}

/// One cooker with its push schedule.
struct CookerSlot {
    cooker: SimCooker,
    /// When the next periodic push is due.
    next_push: Instant,
}

/// One open connection.
struct ConnectionSlot {
    outbox: mpsc::Sender<Outbound>,
    accessories: Accessories,
}

/// The simulated cloud's state.
pub struct World {
    cookers: Vec<CookerSlot>,
    connections: BTreeMap<u64, ConnectionSlot>,
    next_connection_id: u64,
    /// Injected faults.
    pub faults: Faults,
    /// Every command received, in order.
    pub commands: Vec<ReceivedCommand>,
    /// TCP connections accepted, refused ones included.
    pub attempts: u64,
    started: OffsetDateTime,
    idle_push: Duration,
    cooking_push: Duration,
    noise: bool,
    preheat_rate_c_per_min: f64,
    enforce_pat_allow_list: bool,
}

/// What [`World::execute`] did, for the log line.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Answered with this error text.
    Refused(&'static str),
    /// Answered `ok`; the command changed a cooker.
    Applied,
    /// Answered `ok`; nothing happened, for this reason.
    Ignored(&'static str),
}

impl World {
    /// A world with the configured cookers. `started` is the wall time the simulation starts.
    pub fn new(
        config: &SimulatorConfig,
        started: OffsetDateTime,
        now: Instant,
    ) -> Result<Self, SpecError> {
        let mut world = Self {
            cookers: Vec::new(),
            connections: BTreeMap::new(),
            next_connection_id: 1,
            faults: Faults::default(),
            commands: Vec::new(),
            attempts: 0,
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
        Ok(world)
    }

    fn insert_cooker(&mut self, spec: &SimCookerSpec, now: Instant) -> Result<usize, SpecError> {
        if self.index_of(&spec.cooker_id).is_some() {
            return Err(SpecError::Duplicate(spec.cooker_id.clone()));
        }
        let cooker = SimCooker::new(spec, self.started, self.noise, self.preheat_rate_c_per_min)?;
        let next_push = now + self.push_interval(&cooker);
        self.cookers.push(CookerSlot { cooker, next_push });
        Ok(self.cookers.len() - 1)
    }

    fn index_of(&self, cooker_id: &str) -> Option<usize> {
        self.cookers
            .iter()
            .position(|s| s.cooker.cooker_id() == cooker_id)
    }

    fn push_interval(&self, cooker: &SimCooker) -> Duration {
        if cooker.is_cooking() {
            self.cooking_push
        } else {
            self.idle_push
        }
    }

    /// Opens a connection: queues the connect sequence (`anova-protocol.md` §1.3: device list,
    /// user state, one state per cooker, offline ones included) and returns its id and outbox.
    pub fn register(
        &mut self,
        accessories: Accessories,
        now: OffsetDateTime,
    ) -> (u64, mpsc::Receiver<Outbound>) {
        let id = self.next_connection_id;
        self.next_connection_id += 1;
        let (outbox, receiver) = mpsc::channel(OUTBOX_CAPACITY);
        let mut frames = Vec::new();
        if accessories.apc {
            let list = self.cookers.iter().map(|s| s.cooker.list_entry()).collect();
            frames.push(Event::ApcWifiList(list));
        }
        if accessories.apo {
            // No ovens are simulated.
            frames.push(Event::ApoWifiList(Vec::new()));
        }
        frames.push(Event::UserState(user_state()));
        if accessories.apc {
            frames.extend(self.cookers.iter().map(|s| s.cooker.state_event(now)));
        }
        for frame in frames {
            // A fresh channel has room for the whole connect sequence.
            let _ = outbox.try_send(Outbound::Frame(frame.to_json().into()));
        }
        self.connections.insert(
            id,
            ConnectionSlot {
                outbox,
                accessories,
            },
        );
        (id, receiver)
    }

    /// Forgets a closed connection.
    pub fn unregister(&mut self, connection: u64) {
        self.connections.remove(&connection);
    }

    /// Open connections (frozen half-open ones included).
    pub fn open_connections(&self) -> usize {
        self.connections.len()
    }

    /// Answers one command on `connection` and applies it: the RESPONSE goes to that
    /// connection, then (when a cooker changed) a fresh state to every connection.
    pub fn execute(
        &mut self,
        connection: u64,
        frame: &ClientFrame,
        now: OffsetDateTime,
        instant: Instant,
    ) -> Outcome {
        let (response, outcome, changed) = match route(frame, self.enforce_pat_allow_list) {
            Verdict::Error(text) => (
                Response::error(&frame.request_id, text),
                Outcome::Refused(text),
                None,
            ),
            Verdict::Ignore => (
                Response::ok(&frame.request_id),
                Outcome::Ignored("no such device"),
                None,
            ),
            Verdict::Apc(command) => match self.apply_to_cooker(&command, &frame.request_id) {
                Ok(index) => (
                    Response::ok(&frame.request_id),
                    Outcome::Applied,
                    Some(index),
                ),
                // The real quirk: acknowledged `ok` all the same.
                Err(why) => (Response::ok(&frame.request_id), Outcome::Ignored(why), None),
            },
        };
        if let Some(slot) = self.connections.get(&connection) {
            let _ = slot.outbox.try_send(Outbound::Response {
                text: response.to_json(),
                close_after: self.faults.close_after_response,
            });
        }
        if let Some(index) = changed {
            self.push_state(index, now, instant);
        }
        outcome
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
    pub fn tick(&mut self, simulated_s: f64, now: OffsetDateTime, instant: Instant) {
        for index in 0..self.cookers.len() {
            if self.cookers[index].cooker.is_silent() {
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
    }

    fn push_state(&mut self, index: usize, now: OffsetDateTime, instant: Instant) {
        let Some(slot) = self.cookers.get(index) else {
            return;
        };
        if slot.cooker.is_silent() {
            return;
        }
        let frame = slot.cooker.state_event(now).to_json();
        let next_push = instant + self.push_interval(&slot.cooker);
        self.cookers[index].next_push = next_push;
        self.broadcast_apc(frame.into());
    }

    fn broadcast_apc(&self, frame: Arc<str>) {
        for slot in self.connections.values().filter(|c| c.accessories.apc) {
            // A full outbox belongs to a client that stopped reading: it misses this frame.
            let _ = slot.outbox.try_send(Outbound::Frame(frame.clone()));
        }
    }

    /// Adds a cooker (it is in the next connection's device list); `announce` also sends
    /// `EVENT_APC_WIFI_ADDED` and its state to the open connections.
    pub fn add_cooker(
        &mut self,
        spec: &SimCookerSpec,
        announce: bool,
        now: OffsetDateTime,
        instant: Instant,
    ) -> Result<(), SpecError> {
        let index = self.insert_cooker(spec, instant)?;
        if announce {
            let entry = self.cookers[index].cooker.list_entry();
            self.broadcast_apc(Event::ApcWifiAdded(entry).to_json().into());
            self.push_state(index, now, instant);
        }
        Ok(())
    }

    /// Removes a cooker; `announce` also sends `EVENT_APC_WIFI_REMOVED`. False when unknown.
    pub fn remove_cooker(&mut self, cooker_id: &str, announce: bool) -> bool {
        let Some(index) = self.index_of(cooker_id) else {
            return false;
        };
        self.cookers.remove(index);
        if announce {
            let removed = Event::ApcWifiRemoved(DeviceRemoved {
                cooker_id: cooker_id.to_owned(),
            });
            self.broadcast_apc(removed.to_json().into());
        }
        true
    }

    /// Raises or clears an alarm and pushes the new state. False when the cooker is unknown.
    pub fn set_alarm(
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

    /// Unplugs a cooker or plugs it back (which pushes its state at once). False when unknown.
    pub fn set_silent(
        &mut self,
        cooker_id: &str,
        silent: bool,
        now: OffsetDateTime,
        instant: Instant,
    ) -> bool {
        let Some(index) = self.index_of(cooker_id) else {
            return false;
        };
        if self.cookers[index].cooker.set_silent(silent, now) && !silent {
            self.push_state(index, now, instant);
        }
        true
    }

    /// A cooker's current state.
    pub fn snapshot(&self, cooker_id: &str) -> Option<CookerSnapshot> {
        self.index_of(cooker_id)
            .map(|i| self.cookers[i].cooker.snapshot())
    }

    /// Every cooker's current state, in device-list order.
    pub fn snapshots(&self) -> Vec<CookerSnapshot> {
        self.cookers.iter().map(|s| s.cooker.snapshot()).collect()
    }
}

/// `EVENT_USER_STATE`, as in the real capture.
fn user_state() -> UserState {
    let subscription = Subscription {
        has_valid_subscription: Some(true),
        is_legacy_account: Some(true),
        product_id: None,
        renewal_period: None,
    };
    UserState {
        is_connected_to_alexa: Some(false),
        is_connected_to_google_home: Some(false),
        sous_vide_subscription: Some(subscription.clone()),
        oven_subscription: Some(subscription),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anova::protocol::{ApcCommand, CookerRef, DeviceType, TemperatureUnit};
    use crate::simulator::demo_cookers;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);
    const APC: Accessories = Accessories {
        apc: true,
        apo: false,
    };

    fn world() -> World {
        let config = SimulatorConfig {
            noise: false,
            ..SimulatorConfig::default()
        };
        World::new(&config, NOW, Instant::now()).unwrap()
    }

    fn commands(outbox: &mut mpsc::Receiver<Outbound>) -> Vec<String> {
        let mut names = Vec::new();
        while let Ok(item) = outbox.try_recv() {
            let text = match item {
                Outbound::Frame(text) => text.to_string(),
                Outbound::Response { text, .. } => text,
            };
            names.push(Event::parse(&text).unwrap().command().to_owned());
        }
        names
    }

    fn frame(command: ApcCommand) -> ClientFrame {
        ClientFrame::parse(&command.to_frame("req")).unwrap()
    }

    fn a7_ref() -> CookerRef {
        CookerRef {
            cooker_id: demo_cookers()[0].cooker_id.clone(),
            device_type: DeviceType::new("a7"),
        }
    }

    #[test]
    fn connect_sequence() {
        let mut world = world();
        let (_, mut outbox) = world.register(APC, NOW);
        assert_eq!(
            commands(&mut outbox),
            [
                "EVENT_APC_WIFI_LIST",
                "EVENT_USER_STATE",
                "EVENT_APC_STATE",
                "EVENT_APC_STATE"
            ]
        );
        let (_, mut ovens) = world.register(
            Accessories {
                apc: false,
                apo: true,
            },
            NOW,
        );
        assert_eq!(
            commands(&mut ovens),
            ["EVENT_APO_WIFI_LIST", "EVENT_USER_STATE"]
        );
    }

    #[test]
    fn response_then_push_to_everyone() {
        let mut world = world();
        let (me, mut mine) = world.register(APC, NOW);
        let (_, mut other) = world.register(APC, NOW);
        commands(&mut mine);
        commands(&mut other);
        let start = frame(ApcCommand::Start {
            cooker: a7_ref(),
            target_temperature: 60.0,
            unit: TemperatureUnit::C,
            timer: None,
        });
        assert_eq!(
            world.execute(me, &start, NOW, Instant::now()),
            Outcome::Applied
        );
        assert_eq!(commands(&mut mine), ["RESPONSE", "EVENT_APC_STATE"]);
        assert_eq!(commands(&mut other), ["EVENT_APC_STATE"]);
    }

    #[test]
    fn wrong_type_or_unknown_cooker_is_ok_and_ignored() {
        let mut world = world();
        let (me, mut mine) = world.register(APC, NOW);
        commands(&mut mine);
        let before = world.snapshots();
        for cooker in [
            CookerRef {
                device_type: DeviceType::new("pro"),
                ..a7_ref()
            },
            CookerRef {
                device_type: DeviceType::new(""),
                ..a7_ref()
            },
            CookerRef {
                cooker_id: "nope".into(),
                ..a7_ref()
            },
        ] {
            let stop = frame(ApcCommand::Stop { cooker });
            assert!(matches!(
                world.execute(me, &stop, NOW, Instant::now()),
                Outcome::Ignored(_)
            ));
            assert_eq!(commands(&mut mine), ["RESPONSE"]);
        }
        assert_eq!(world.snapshots(), before);
    }

    #[test]
    fn one_long_tick_pushes_every_transition() {
        let config = SimulatorConfig {
            cookers: vec![SimCookerSpec {
                water_temperature_c: 59.0,
                ..demo_cookers()[0].clone()
            }],
            noise: false,
            ..SimulatorConfig::default()
        };
        let t0 = Instant::now();
        let mut world = World::new(&config, NOW, t0).unwrap();
        let (me, mut outbox) = world.register(APC, NOW);
        let start = frame(ApcCommand::Start {
            cooker: a7_ref(),
            target_temperature: 60.0,
            unit: TemperatureUnit::C,
            timer: Some(120),
        });
        world.execute(me, &start, NOW, t0);
        commands(&mut outbox);
        // A stalled tick: preheat (0.7 °C at 1 °C/min) and the whole timer in one go.
        world.tick(1000.0, NOW, t0);
        let mut stages = Vec::new();
        while let Ok(Outbound::Frame(text)) = outbox.try_recv() {
            let Event::ApcState(state) = Event::parse(&text).unwrap() else {
                panic!("a state")
            };
            let normalised = crate::anova::model::CookerState::from_wire(
                &DeviceType::new("a7"),
                &state.state,
                NOW,
                None,
            )
            .unwrap();
            stages.push(normalised.stage);
        }
        use crate::anova::model::Stage;
        assert_eq!(stages, [Stage::Cooking, Stage::Maintaining]);
    }

    #[test]
    fn periodic_pushes_follow_the_schedule() {
        let config = SimulatorConfig {
            idle_push_interval: Duration::from_secs(30),
            noise: false,
            ..SimulatorConfig::default()
        };
        let t0 = Instant::now();
        let mut world = World::new(&config, NOW, t0).unwrap();
        let (_, mut outbox) = world.register(APC, NOW);
        commands(&mut outbox);
        world.tick(1.0, NOW, t0 + Duration::from_secs(10));
        assert!(commands(&mut outbox).is_empty());
        world.tick(1.0, NOW, t0 + Duration::from_secs(31));
        assert_eq!(commands(&mut outbox).len(), 2, "one push per cooker");
    }

    #[test]
    fn silent_cookers_do_not_push_and_come_back() {
        let mut world = world();
        let id = world.snapshots()[0].cooker_id.clone();
        let (_, mut outbox) = world.register(APC, NOW);
        commands(&mut outbox);
        let t0 = Instant::now();
        assert!(world.set_silent(&id, true, NOW, t0));
        world.tick(1.0, NOW, t0 + Duration::from_secs(3600));
        assert_eq!(commands(&mut outbox).len(), 1, "only the other cooker");
        world.set_silent(&id, false, NOW, t0);
        assert_eq!(commands(&mut outbox), ["EVENT_APC_STATE"]);
    }

    #[test]
    fn add_and_remove_announce() {
        let mut world = world();
        let (_, mut outbox) = world.register(APC, NOW);
        commands(&mut outbox);
        let spec = SimCookerSpec::a7("new", "New");
        world.add_cooker(&spec, true, NOW, Instant::now()).unwrap();
        assert_eq!(
            commands(&mut outbox),
            ["EVENT_APC_WIFI_ADDED", "EVENT_APC_STATE"]
        );
        assert!(matches!(
            world.add_cooker(&spec, false, NOW, Instant::now()),
            Err(SpecError::Duplicate(_))
        ));
        assert!(world.remove_cooker("new", true));
        assert_eq!(commands(&mut outbox), ["EVENT_APC_WIFI_REMOVED"]);
        assert!(!world.remove_cooker("new", true));
    }
}
