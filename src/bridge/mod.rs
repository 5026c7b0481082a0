//! The heart of the daemon, kept sans-IO: a state machine whose inputs are cloud events, MQTT
//! messages, API commands and clock ticks, and whose outputs are publishes, cloud commands and
//! API replies.
//!
//! Nothing in here touches a socket, sleeps, or reads a clock or a random source: the driver
//! (`crate::daemon`) feeds [`Input`]s with the current time, drains [`Output`]s with
//! [`Bridge::poll_output`], and wakes the bridge again at [`Bridge::poll_timeout`] (the whole
//! calling contract is on [`Bridge`]). That makes every rule of `docs/interface.md` a fast,
//! deterministic unit test (`tests/`).
//!
//! The bridge routes; each device's life (state, command queue, publish memo) is its own
//! machine (`machine`), of the family its type names (`appliance`). The bridge keeps what is
//! not one device's: the cloud link, the broker connection, discovery bookkeeping, bridge
//! requests, and the deadlines of every device.

mod appliance;
mod backlog;
mod discovery;
mod health;
mod inbound;
mod io;
mod link;
mod machine;
mod outbox;
mod plans;
mod publishing;
mod requests;
mod timers;

#[cfg(test)]
mod tests;

pub use crate::appliance::record::{
    CookOpened, CookOutcome, CookSummary, CurvePoint, Record, ResumedCook, Source,
};
pub use health::Health;
pub use io::{ApiTicket, HeatSample, Input, Now, Origin, Output, Publish, Qos, Ticket};
pub use link::CloudStatus;
pub use machine::{MAX_QUEUED, STATE_REFRESH};
pub use plans::{plan_silence, PlanSettings};

use crate::appliance::family::Ceilings;
use crate::appliance::DeviceInfo;
use crate::cloud::{CloudError, CloudEvent, DeviceState, LinkState};
use crate::deadlines::Deadlines;
use crate::homeassistant::{self, DiscoveryMode};
use crate::ids::{CloudId, TopicId};
use crate::topics::Topics;
use appliance::Appliance;
use backlog::{Backlog, Bulk};
use discovery::DiscoveryBook;
use link::{BridgeEvent, Link};
use machine::{Ctx, Settings};
use outbox::Outbox;
use plans::PendingPlan;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use timers::{Timer, TimerTable};

/// How many past cooks' heating each device keeps for plan estimates (the driver reads as many
/// from the store at start).
pub(crate) const HEATING_SAMPLES_KEPT: u32 = 50;

/// How long to wait after Home Assistant says `online` before republishing: it has just
/// subscribed, and several births in a row (restarts) collapse into one republish.
pub const HA_REPUBLISH_DELAY: Duration = Duration::from_secs(1);

/// After a `refresh` request the devices keep their availability this long while the link
/// reconnects, so a deliberate reconnect does not make them flap `offline`/`online`.
pub const REFRESH_GRACE: Duration = Duration::from_secs(15);

/// `bridge/devices` is rebuilt at most this often. It lists every device, so rebuilding it for
/// each device that comes online would make start-up with N devices cost N² (and every push
/// that changes availability cost N).
pub const DEVICES_INTERVAL: Duration = Duration::from_secs(1);

/// Home Assistant settings the bridge needs.
#[derive(Debug, Clone, PartialEq)]
pub struct HomeAssistant {
    /// `homeassistant.discovery_prefix`.
    pub discovery_prefix: String,
    /// `homeassistant.discovery_mode`.
    pub mode: DiscoveryMode,
    /// `homeassistant.status_topic`.
    pub status_topic: String,
}

/// What the bridge needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeConfig {
    /// `mqtt.base_topic`.
    pub base_topic: String,
    /// Discovery settings; `None` when `homeassistant.enabled` is false.
    pub homeassistant: Option<HomeAssistant>,
    /// `anova.command_timeout`: a command waits at most this long for its turn.
    pub command_timeout: Duration,
    /// `anova.confirm_timeout`.
    pub confirm_timeout: Duration,
    /// `limits.commands_per_minute`.
    pub commands_per_minute: u32,
    /// `safety.max_temperature_c`: the cookers' ceiling.
    pub max_temperature_c: Option<f64>,
    /// `safety.oven_max_temperature_c`: the ovens' ceiling.
    pub oven_max_temperature_c: Option<f64>,
    /// Our version, for `bridge/info`.
    pub version: String,
    /// Seeds the ids the bridge generates (the driver picks it at random; tests fix it).
    pub seed: u64,
    /// Presets and plans (`docs/interface.md` §8).
    pub plans: PlanSettings,
    /// The `restart` request is served: the driver can start the daemon again (`run`; not the
    /// demo, whose simulated cloud would not survive it).
    pub restart: bool,
}

/// The bridge state machine.
///
/// # The calling contract
///
/// The bridge does no I/O and keeps no clock: whoever owns it (the *driver*,
/// `crate::daemon`'s main loop, or a test) feeds it inputs, polls it for outputs and carries
/// them out, and wakes it when it asked to be woken. Every call takes the current time as a
/// [`Now`] read by the driver just before the call; `Now::instant` must never go backwards.
///
/// **Inputs** change the bridge and may queue outputs:
/// - [`handle`](Self::handle) with one [`Input`]: a cloud event, a broker (dis)connect, an
///   MQTT message, an API command, the result of a cloud command, a change of stream
///   listeners, or a [`Tick`](Input::Tick) when the timeout passed. Inputs are fed in the order
///   they happened; every call also fires the timers that are due, so a `Tick` is only a
///   wake-up.
/// - [`pull_backlog`](Self::pull_backlog): builds the next device's bulk publishes (see
///   below).
/// - [`shutdown`](Self::shutdown): the last input, before the daemon stops.
///
/// **Polls** read what the inputs left; after each input a driver polls in this order:
/// 1. [`poll_output`](Self::poll_output) until it returns `None`, carrying out each
///    [`Output`] without waiting on a peer:
///    - [`Publish`](Output::Publish) and [`Subscribe`](Output::Subscribe): to the broker's
///      queue, in order. (The bridge only makes them while the broker is connected; a publish
///      lost with the connection is made again after [`Input::MqttConnected`].)
///    - [`Cloud`](Output::Cloud): send the command, then feed its result back as
///      [`Input::CloudResult`] with the same ticket, once, at the latest at its `deadline`
///      ([`CloudError::Timeout`] then). A result that never comes is not fatal: the bridge
///      answers the command at the deadline anyway.
///    - [`Reply`](Output::Reply): the one response to the API command with that ticket.
///    - [`Stream`](Output::Stream): to every live-stream listener, as is.
///    - [`CommandDone`](Output::CommandDone): for metrics only.
///    - [`ReconnectCloud`](Output::ReconnectCloud): drop the cloud connection and reconnect;
///      the link changes come back as cloud inputs.
/// 2. The backlog: while [`has_backlog`](Self::has_backlog) and the broker's queue has room
///    for a device's worth of messages, call [`pull_backlog`](Self::pull_backlog) and go back
///    to step 1. When the queue is full, wait for room, not for the next input: a broker
///    connect with thousands of devices streams this way instead of building every message at
///    once.
/// 3. The health: when [`take_status_dirty`](Self::take_status_dirty) is true, read
///    [`health`](Self::health) again (systemd's `STATUS=` line, the local API's `/healthz`).
/// 4. [`poll_timeout`](Self::poll_timeout): when to feed the next [`Input::Tick`] if nothing
///    else arrives first. It moves with every input, so ask again after each one.
///
/// Before an input, a driver that serves the live stream feeds
/// [`Input::StreamListeners`] when listeners came or went, so that the input's stream
/// messages are made only when someone listens.
///
/// **Queries** ([`device_views`](Self::device_views), [`device_view`](Self::device_view),
/// [`device_history`](Self::device_history), [`health`](Self::health),
/// [`has_device`](Self::has_device), …) read the bridge at any time and change nothing.
///
/// At the end, [`shutdown`](Self::shutdown) queues the last publishes (every device
/// `offline`, or removals for the demo); the driver drains [`poll_output`](Self::poll_output)
/// once more and carries out the publishes only, waiting for room at the broker: nothing
/// else can matter any more.
#[derive(Debug)]
pub struct Bridge {
    config: BridgeConfig,
    settings: Settings,
    topics: Topics,
    started_at: OffsetDateTime,
    /// Devices by topic id; a `BTreeMap` so output order is stable.
    devices: BTreeMap<TopicId, Appliance>,
    /// Cooks of the last run whose device has not been listed yet.
    resumed: HashMap<TopicId, ResumedCook>,
    /// Cloud id → topic id.
    ids: HashMap<CloudId, TopicId>,
    /// Devices that are available while the link is shown up (the online count of
    /// [`Health`], kept as devices change instead of counted by a walk).
    reachable: usize,
    link: Link,
    /// The cloud's device list has arrived at least once.
    synced: bool,
    discovery: DiscoveryBook,
    /// The bridge's own timers; each device's deadlines are in `deadlines`.
    timers: TimerTable,
    last_info: Option<String>,
    last_devices: Option<String>,
    /// When `bridge/devices` was last rebuilt ([`Timer::DevicesList`] says when it is due
    /// again after a change).
    devices_built_at: Option<Instant>,
    /// Something `status_line` shows may have changed since the driver last asked.
    status_dirty: bool,
    /// The cook history's status, as `bridge/info` shows it.
    history: String,
    deadlines: Deadlines<TopicId, Instant>,
    /// Devices whose bulk publishes wait for room at the broker.
    backlog: Backlog,
    /// Each device's pending plan (`docs/interface.md` §8.2), at most one.
    plans: BTreeMap<TopicId, PendingPlan>,
    /// When each plan needs its next look.
    plan_deadlines: Deadlines<TopicId, Instant>,
    /// Plans of the last run not looked at yet (a start that passed meanwhile is late).
    resumed_plans: HashSet<TopicId>,
    /// Devices whose schedule changed while the broker was away (nothing is published then):
    /// published at the reconnect's republish.
    schedules_unsent: HashSet<TopicId>,
    /// When each plan was last saved to the store.
    plan_saved_at: HashMap<TopicId, OffsetDateTime>,
    /// The wall-clock time of the last input, for queries that show a plan's figures.
    wall: OffsetDateTime,
    /// Each device's past heating rates (the store's, `Input::HeatingRates`).
    heating: HashMap<TopicId, Vec<HeatSample>>,
    out: Outbox,
}

impl Bridge {
    /// A bridge that has seen nothing yet.
    pub fn new(config: BridgeConfig, now: Now) -> Self {
        let topics = Topics::new(config.base_topic.clone());
        let settings = Settings {
            command_timeout: config.command_timeout,
            confirm_timeout: config.confirm_timeout,
            commands_per_minute: config.commands_per_minute,
            ceilings: Ceilings {
                cooker_c: config.max_temperature_c,
                oven_c: config.oven_max_temperature_c,
            },
            presets: config.plans.presets.clone(),
        };
        let out = Outbox::new(config.seed);
        Self {
            config,
            settings,
            topics,
            started_at: now.wall,
            devices: BTreeMap::new(),
            resumed: HashMap::new(),
            ids: HashMap::new(),
            reachable: 0,
            link: Link::new(),
            synced: false,
            discovery: DiscoveryBook::default(),
            timers: TimerTable::default(),
            last_info: None,
            last_devices: None,
            devices_built_at: None,
            status_dirty: true,
            history: "disabled".to_owned(),
            deadlines: Deadlines::default(),
            backlog: Backlog::default(),
            plans: BTreeMap::new(),
            plan_deadlines: Deadlines::default(),
            resumed_plans: HashSet::new(),
            schedules_unsent: HashSet::new(),
            plan_saved_at: HashMap::new(),
            heating: HashMap::new(),
            wall: now.wall,
            out,
        }
    }

    /// The topic tree.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// The next output to carry out. Bulk publishes wait in the backlog until
    /// [`Bridge::pull_backlog`] asks for them.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// True when devices wait for their bulk publishes (discovery, a full republish).
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Builds the next device's bulk publishes into the outputs; the driver calls it while the
    /// broker queue has room for them (a device's discovery is a few dozen messages). False
    /// when nothing waits.
    pub fn pull_backlog(&mut self, now: Now) -> bool {
        let Some((id, bulk)) = self.backlog.next() else {
            return false;
        };
        if bulk.discovery {
            self.publish_device_discovery(&id);
        }
        if bulk.retained {
            self.with_device(now, &id, |d, ctx, out| d.publish(ctx, out, true));
            // The pending plan again; a clear the broker missed while it was away, once
            // (else a plan that ended then would stay retained there).
            if self.plans.contains_key(&id) || self.schedules_unsent.remove(&id) {
                self.publish_schedule(now, &id);
            }
        }
        true
    }

    /// True once after anything [`health`](Self::health) shows may have changed, so that the
    /// driver rebuilds the status line and republishes the health for `/healthz` only then,
    /// not for every push.
    pub fn take_status_dirty(&mut self) -> bool {
        std::mem::take(&mut self.status_dirty)
    }

    /// When the bridge next needs an [`Input::Tick`], if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.deadlines.next(),
            self.timers.next_timeout(),
            self.plan_deadlines.next(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// True when the cloud link is up.
    pub fn cloud_connected(&self) -> bool {
        self.link.up()
    }

    /// The number of known devices.
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// Every device as the API shows it: its `bridge/devices` entry with its `state`.
    pub fn device_views(&self) -> Value {
        let shown = self.link_shown_up();
        Value::Array(
            self.devices
                .iter()
                .map(|(id, d)| self.with_schedule(id, d.view(shown)))
                .collect(),
        )
    }

    /// True for a known device (topic id).
    pub fn has_device(&self, id: &TopicId) -> bool {
        self.devices.contains_key(id)
    }

    /// The cook history's status: `ok`, `disabled`, `opening`, or the error.
    pub fn history_status(&self) -> &str {
        &self.history
    }

    /// One device as the API shows it; `None` for an unknown topic id.
    pub fn device_view(&self, id: &TopicId) -> Option<Value> {
        let shown = self.link_shown_up();
        self.devices
            .get(id)
            .map(|d| self.with_schedule(id, d.view(shown)))
    }

    /// The current (or last) cook's temperatures of one device, for the web page's chart.
    pub fn device_history(&self, id: &TopicId) -> Option<Value> {
        self.devices.get(id).map(Appliance::history)
    }

    /// A one-line status for systemd's `STATUS=` ([`Health::status_line`]).
    pub fn status_line(&self) -> String {
        self.health().status_line()
    }

    /// Feeds one input.
    pub fn handle(&mut self, now: Now, input: Input) {
        self.wall = now.wall;
        match input {
            Input::Cloud(event) => self.on_cloud(now, event),
            Input::MqttConnected => {
                self.status_dirty = true;
                self.on_mqtt_connected(now);
            }
            Input::MqttDisconnected => {
                self.out.mqtt_connected = false;
                self.status_dirty = true;
                // Nothing can be delivered now; the next connect republishes everything.
                self.backlog.clear();
                self.reschedule_all();
            }
            Input::Mqtt {
                topic,
                payload,
                retained,
            } => self.on_mqtt(now, &topic, &payload, retained),
            Input::ApiCommand {
                ticket,
                source,
                device,
                payload,
            } => self.on_api_command(now, ticket, source, &device, &payload),
            Input::ResumeCooks(cooks) => self.resume_cooks(cooks),
            Input::ResumePlans(plans) => self.resume_plans(now, plans),
            Input::HeatingRates { device, rates } => {
                self.heating.insert(device, rates);
            }
            Input::CloudResult { ticket, result } => self.on_cloud_result(now, ticket, result),
            Input::StreamListeners(listening) => self.out.stream = listening,
            Input::History(status) => {
                self.out.recording = status != "disabled";
                if status != self.history {
                    self.history = status;
                    self.status_dirty = true;
                    self.publish_info(false);
                }
            }
            Input::Tick => {}
        }
        self.run_due(now);
        self.take_plan_answers(now);
        self.take_heating_rates();
        // The unit tests check after every input that the kept online count is the counted
        // one (`health` asserts it under `cfg(test)`).
        #[cfg(test)]
        let _ = self.health();
    }

    /// The heating of cooks that ended meanwhile, newest first among the kept ones, so that a
    /// daemon running for weeks estimates from its latest cooks, not only those before its
    /// start.
    fn take_heating_rates(&mut self) {
        for (device, sample) in std::mem::take(&mut self.out.heated) {
            let rates = self.heating.entry(device).or_default();
            rates.insert(0, sample);
            rates.truncate(HEATING_SAMPLES_KEPT as usize);
        }
    }

    /// Everything to publish before the daemon stops: every device's availability
    /// `offline`, so nothing retained says a device is reachable; with `purge` (the demo),
    /// every retained topic and discovery config this bridge published is removed instead.
    pub fn shutdown(&mut self, purge: bool) {
        let ids: Vec<TopicId> = self.devices.keys().cloned().collect();
        if purge {
            for id in &ids {
                self.remove_retained(id);
            }
            if let Some(ctx) = self.discovery_context() {
                for m in homeassistant::bridge_removal(&ctx) {
                    self.out.publish(m.topic, m.payload, true);
                }
            }
            self.out
                .publish(self.topics.bridge_info(), String::new(), true);
            self.out
                .publish(self.topics.bridge_devices(), String::new(), true);
            self.out
                .publish(self.topics.bridge_presets(), String::new(), true);
        } else {
            for id in &ids {
                self.out
                    .publish(self.topics.availability(id), "offline".into(), true);
            }
        }
    }

    /// The cooks of the last run: each goes to its device (now, or when it is listed).
    fn resume_cooks(&mut self, cooks: Vec<ResumedCook>) {
        for cook in cooks {
            let id = TopicId::from(cook.device.clone());
            match self.devices.get_mut(&id) {
                Some(device) => device.resume(cook),
                None => {
                    self.resumed.insert(id, cook);
                }
            }
        }
    }

    /// Cooks of the last run on devices the account no longer lists: nobody saw how they
    /// ended (`unknown`), at their last recorded moment.
    fn close_orphaned_cooks(&mut self) {
        for (_, cook) in self.resumed.drain() {
            let summary = CookSummary {
                outcome: CookOutcome::Unknown,
                duration_s: u64::try_from((cook.last_seen - cook.started_at).whole_seconds())
                    .unwrap_or(0),
                time_to_target_s: cook
                    .reached_at
                    .map(|at| u64::try_from((at - cook.started_at).whole_seconds()).unwrap_or(0)),
                min_c: cook.min_c,
                max_c: cook.max_c,
            };
            self.out.record(|| Record::CookClosed {
                cook_id: cook.cook_id,
                ended_at: cook.last_seen,
                summary,
            });
        }
    }

    // --- helpers ---------------------------------------------------------------------------

    /// A device came, went, or changed availability or firmware: `bridge/devices` is rebuilt
    /// now, or within [`DEVICES_INTERVAL`] of the last rebuild.
    fn devices_changed(&mut self, now: Now) {
        self.status_dirty = true;
        if self.timers.is_set(Timer::DevicesList) {
            return;
        }
        let earliest = self
            .devices_built_at
            .map_or(now.instant, |at| at + DEVICES_INTERVAL);
        if earliest <= now.instant {
            self.rebuild_devices(now);
        } else {
            self.timers.set(Timer::DevicesList, earliest);
        }
    }

    fn rebuild_devices(&mut self, now: Now) {
        self.timers.stop(Timer::DevicesList);
        // Before the device list is known nothing is built, and the first real list must not
        // wait for the interval.
        if self.synced {
            self.devices_built_at = Some(now.instant);
            self.publish_devices(false);
        }
    }

    /// The link as availability shows it: up, or reconnecting after a `refresh`.
    fn link_shown_up(&self) -> bool {
        self.link.up() || self.timers.is_set(Timer::RefreshGrace)
    }

    /// Runs `f` on one device's machine, then files its next deadline.
    fn with_device<R>(
        &mut self,
        now: Now,
        id: &TopicId,
        f: impl FnOnce(&mut Appliance, Ctx<'_>, &mut Outbox) -> R,
    ) -> Option<R> {
        let ctx = Ctx {
            now,
            link_up: self.link.up(),
            link_shown_up: self.link_shown_up(),
            topics: &self.topics,
            settings: &self.settings,
        };
        let device = self.devices.get_mut(id)?;
        let was_reachable = device.available(true);
        let result = f(device, ctx, &mut self.out);
        let next = device.next_deadline(&self.settings, self.out.mqtt_connected);
        match (was_reachable, device.available(true)) {
            (false, true) => self.reachable += 1,
            (true, false) => self.reachable -= 1,
            _ => {}
        }
        self.deadlines.set(id, next);
        Some(result)
    }

    /// Runs `f` on every device (link changes, republishing).
    fn each_device(&mut self, now: Now, mut f: impl FnMut(&mut Appliance, Ctx<'_>, &mut Outbox)) {
        let ids: Vec<TopicId> = self.devices.keys().cloned().collect();
        for id in ids {
            self.with_device(now, &id, |d, ctx, out| f(d, ctx, out));
        }
    }

    /// Re-files every device's deadline (the broker connection changes refresh deadlines).
    fn reschedule_all(&mut self) {
        for (id, device) in &self.devices {
            self.deadlines.set(
                id,
                device.next_deadline(&self.settings, self.out.mqtt_connected),
            );
        }
    }

    /// Fires the bridge's own timers that expired, in [`Timer::VALUES`] order (each at most
    /// once per step), then ticks the devices whose deadline passed.
    fn run_due(&mut self, now: Now) {
        for timer in Timer::VALUES {
            if self.timers.take_expired(timer, now.instant) {
                self.on_timer(now, timer);
            }
        }
        while let Some(id) = self.deadlines.pop_due(now.instant) {
            self.with_device(now, &id, |d, ctx, out| d.on_tick(ctx, out));
        }
        self.take_plan_answers(now);
        self.run_due_plans(now);
    }

    /// One of the bridge's own timers fired.
    fn on_timer(&mut self, now: Now, timer: Timer) {
        match timer {
            Timer::Republish => self.republish_all(now),
            Timer::RefreshGrace => {
                if !self.link.up() {
                    self.each_device(now, |d, ctx, out| d.publish(ctx, out, false));
                    self.devices_changed(now);
                }
            }
            Timer::DevicesList => self.rebuild_devices(now),
        }
    }

    // --- cloud -----------------------------------------------------------------------------

    fn on_cloud_result(&mut self, now: Now, ticket: Ticket, result: Result<(), CloudError>) {
        let Some(id) = self.out.take_ticket(ticket) else {
            return;
        };
        self.with_device(now, &id, |d, ctx, out| {
            d.on_result(ctx, out, ticket, result)
        });
    }

    fn on_cloud(&mut self, now: Now, event: CloudEvent) {
        match event {
            CloudEvent::Link(link) => self.on_link(now, link),
            CloudEvent::DeviceAdded(info) => self.on_device_added(now, info),
            CloudEvent::DeviceRemoved { cloud_id } => self.on_device_removed(now, &cloud_id),
            CloudEvent::DeviceListSynced => {
                self.synced = true;
                self.close_orphaned_cooks();
                self.clean_up_previous_run();
                self.devices_changed(now);
            }
            CloudEvent::State { cloud_id, state } => self.on_state(now, &cloud_id, state),
            CloudEvent::Firmware { cloud_id, firmware } => {
                if let Some(id) = self.ids.get(&cloud_id).cloned() {
                    self.with_device(now, &id, |d, ctx, out| d.on_firmware(ctx, out, firmware));
                }
            }
            CloudEvent::Stale { cloud_id } => {
                if let Some(id) = self.ids.get(&cloud_id).cloned() {
                    self.with_device(now, &id, |d, ctx, out| d.on_stale(ctx, out));
                    self.devices_changed(now);
                    // A plan that watches the water cannot see it any more.
                    self.look_at_plan(now, &id);
                }
            }
        }
    }

    fn on_link(&mut self, now: Now, link: LinkState) {
        let was_up = self.link.up();
        let was_shown = self.link_shown_up();
        if let Some(event) = self.link.change(link) {
            self.bridge_event(&event);
        }
        if self.link.up() {
            // Reconnected: a refresh's grace is over.
            self.timers.stop(Timer::RefreshGrace);
        }
        let came_up = !was_up && self.link.up();
        self.status_dirty = true;
        self.publish_info(false);
        if was_up && !self.link.up() {
            self.each_device(now, |d, ctx, out| d.on_link_down(ctx, out));
        }
        if was_shown != self.link_shown_up() {
            self.each_device(now, |d, ctx, out| d.publish(ctx, out, false));
            self.devices_changed(now);
        }
        if came_up {
            self.plans_may_retry(now);
        }
    }

    fn on_device_added(&mut self, now: Now, info: DeviceInfo) {
        let id = TopicId::of(&info.cloud_id);
        if let Some(existing) = self.ids.get(&info.cloud_id).cloned() {
            // A rename or a type change: keep the state, refresh discovery (a device that
            // changed family starts anew).
            if let Some(device) = self.devices.get_mut(&existing) {
                if device.fits(&info) {
                    device.rename(info, &self.settings);
                } else {
                    // Made anew, without a state: not reachable until it pushes one.
                    if device.available(true) {
                        self.reachable -= 1;
                    }
                    *device = Appliance::new(info, existing.clone(), &self.settings);
                }
            }
            self.backlog.file(
                &existing,
                Bulk {
                    discovery: true,
                    retained: false,
                },
            );
            self.devices_changed(now);
            return;
        }
        if self.devices.contains_key(&id) {
            tracing::warn!(
                cloud_id = %info.cloud_id,
                topic_id = %id,
                "two devices share one topic id; ignoring the second"
            );
            return;
        }
        tracing::info!(device = %id, name = info.name, model = %info.device_type, "device added");
        let event = BridgeEvent::DeviceAdded {
            id: id.clone(),
            cloud_id: info.cloud_id.clone(),
            name: info.name.clone(),
            model: info.device_type.as_str().to_owned(),
        };
        self.ids.insert(info.cloud_id.clone(), id.clone());
        let mut device = Appliance::new(info, id.clone(), &self.settings);
        if let Some(cook) = self.resumed.remove(&id) {
            device.resume(cook);
        }
        self.devices.insert(id.clone(), device);
        self.bridge_event(&event);
        self.backlog.file(
            &id,
            Bulk {
                discovery: true,
                retained: false,
            },
        );
        self.with_device(now, &id, |d, ctx, out| d.publish(ctx, out, false));
        // A plan resumed at start-up was published before the broker took the daemon.
        if self.plans.contains_key(&id) {
            self.publish_schedule(now, &id);
        }
        self.publish_info(false);
        self.devices_changed(now);
        self.look_at_plan(now, &id);
    }

    fn on_device_removed(&mut self, now: Now, cloud_id: &CloudId) {
        let Some(id) = self.ids.remove(cloud_id) else {
            return;
        };
        tracing::info!(device = %id, "device removed from the account");
        self.plan_device_removed(now, &id);
        self.with_device(now, &id, |d, ctx, out| d.on_removed(ctx, out));
        self.remove_retained(&id);
        if self.devices.remove(&id).is_some_and(|d| d.available(true)) {
            self.reachable -= 1;
        }
        self.backlog.remove(&id);
        self.deadlines.set(&id, None);
        self.bridge_event(&BridgeEvent::DeviceRemoved {
            id,
            cloud_id: cloud_id.clone(),
        });
        self.publish_info(false);
        self.devices_changed(now);
    }

    fn on_state(&mut self, now: Now, cloud_id: &CloudId, state: DeviceState) {
        let Some(id) = self.ids.get(cloud_id).cloned() else {
            tracing::debug!(
                %cloud_id,
                "state for a device not in the device list; ignored"
            );
            return;
        };
        let Some(news) = self.with_device(now, &id, |d, ctx, out| d.on_state(ctx, out, state))
        else {
            return;
        };
        if news.discovery_outdated {
            self.backlog.file(
                &id,
                Bulk {
                    discovery: true,
                    retained: false,
                },
            );
        }
        // `bridge/devices` only changes with a device's availability or firmware; do not
        // rebuild it for every push.
        if news.firmware_news || news.availability_changed {
            self.devices_changed(now);
        }
        self.plan_reading(now, &id);
    }
}
