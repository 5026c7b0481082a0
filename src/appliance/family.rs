//! What the bridge core needs from a device family (`src/sous_vide`, `src/oven`).
//!
//! The core's per-device machine (`bridge::machine`) owns everything every device has in
//! common: the command queue and its timeouts, the rate limit, confirmation deadlines, the
//! publish memo, availability. A family supplies the rest as plain functions of narrow inputs
//! (its state, its memory, its limits), so each family rule is a small pure function with its
//! own tests. The trait is implemented by a zero-sized marker type per family and used with
//! static dispatch; `bridge::appliance::Appliance` is the one enum that picks the family.

use super::event::CookEvent;
use super::Kind;
use crate::appliance::record::CurvePoint;
use crate::command::{CommandError, Food, PlanKeys};
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::TopicId;
use crate::wire::CloudCommand;
use crate::wire::DeviceRef;
use crate::wire::DeviceType;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::fmt::Debug;
use std::time::Duration;

/// The limits in a device's `bridge/devices` entry (`docs/interface.md` §3), the same keys for
/// every family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EntryLimits {
    /// Lowest target temperature, °C.
    pub min_temperature_c: f64,
    /// Highest target temperature, °C.
    pub max_temperature_c: f64,
    /// Longest timer, seconds.
    pub max_timer_s: u32,
}

/// The household's ceilings on target temperatures (`safety.max_temperature_c` for cookers,
/// `safety.oven_max_temperature_c` for ovens): one per family, since a household that caps its
/// cooker still roasts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Ceilings {
    /// Cookers, °C.
    pub cooker_c: Option<f64>,
    /// Ovens, °C.
    pub oven_c: Option<f64>,
}

/// A device family.
pub(crate) trait Family: Sized + 'static {
    /// The normalised state (°C, whole seconds, RFC 3339), published on `<id>/state`.
    type State: Clone + Debug + PartialEq + Serialize;
    /// A parsed command.
    type Changes: Debug;
    /// What a device remembers between commands (values for the next start, refusals).
    type Memory: Default + Debug;
    /// A change to the memory, applied when a command succeeds.
    type Update: Default + Debug;
    /// What the state must show for a command to count as done.
    type Expect: Debug + Default;
    /// A command as its response echoes it (°C, seconds), with the values a start used.
    type Echo: Debug + Default + Serialize;
    /// One device's effective limits (its model's, lowered by the configured ceiling).
    type Limits: Clone + Debug;

    /// The device in messages: `cooker`, `oven`.
    const NOUN: &'static str;

    /// Which family this is (the presets of `docs/interface.md` §8.1 belong to one).
    const KIND: Kind;

    /// The limits of a device type under the family's configured ceiling (`safety.*`).
    fn limits(device_type: &DeviceType, ceilings: Ceilings) -> Self::Limits;

    /// Reads a command object (the caller's id already taken out).
    fn parse(fields: &Map<String, Value>) -> Result<Self::Changes, CommandError>;

    /// Reads the plain value of `<id>/set/<key>`.
    fn parse_key(key: &str, text: &str) -> Result<Self::Changes, CommandError>;

    /// The checks that depend on the device's limits alone, not on its state: made when the
    /// command arrives, so that a command that can never run is refused at once, naming the
    /// part, even when it would have waited behind others (and then been answered `timeout`,
    /// as the soak found). [`Family::plan`] checks again. By default nothing.
    fn check(changes: &Self::Changes, limits: &Self::Limits) -> Result<(), CommandError> {
        let _ = (changes, limits);
        Ok(())
    }

    /// The keys of `docs/interface.md` §8 a command gave (`preset`).
    fn plan_keys(changes: &Self::Changes) -> &PlanKeys;

    /// `command` laid over the keys of the preset it names (`preset`, already read): the keys
    /// the command gives itself win.
    fn with_preset(
        preset: Self::Changes,
        command: Self::Changes,
    ) -> Result<Self::Changes, CommandError>;

    /// True when the command changes what a cook does (a target, a timer, a stage …), as
    /// opposed to only starting, stopping or setting the display unit.
    fn changes_cook(changes: &Self::Changes) -> bool;

    /// `Some(true)` for a command that starts a cook (`cook`/`mode`), `Some(false)` for one
    /// that stops it.
    fn cook_action(changes: &Self::Changes) -> Option<bool>;

    /// A start of `changes` from an idle device that remembers `memory` (and last reported
    /// `state`, when known), checked as that start will be: ranges, the family's rules, food
    /// safety. Used where a start is decided now and made later or elsewhere: a preset checked
    /// at load, a plan checked when it is made.
    fn start_from_idle(
        changes: &Self::Changes,
        memory: &Self::Memory,
        state: Option<&Self::State>,
        limits: &Self::Limits,
    ) -> Result<StartPlan, CommandError>;

    /// Validates a command against the device and plans it. Every range and safety rule is
    /// checked here, before anything is sent.
    fn plan(input: PlanInput<'_, Self>) -> Result<Plan<Self>, CommandError>;

    /// The cloud refused `refused` (with `text`): rework the rest of the running command and
    /// return `Some(Ok(()))` to go on, `Some(Err(..))` to fail with that error, or `None` when
    /// the refusal simply fails the command (`rejected`).
    fn recover(
        refused: &CloudCommand,
        text: &str,
        running: Running<'_, Self>,
    ) -> Option<Result<(), CommandError>>;

    /// True when `state` shows every expected change.
    fn confirmed(expect: &Self::Expect, state: &Self::State) -> bool;

    /// Names what `state` does not show yet, for `not_confirmed`.
    fn unmet(expect: &Self::Expect, state: Option<&Self::State>) -> String;

    /// A start given alone (`set/mode heat`, `set/cook ON`) to this idle device waits this
    /// long before it is planned, so the values a client sends right after it (Home
    /// Assistant's `climate.set_temperature` with `hvac_mode` publishes the mode, then the
    /// temperature) become part of the one start instead of a second one. `None`: at once.
    fn start_settle(changes: &Self::Changes, state: &Self::State) -> Option<Duration> {
        let _ = (changes, state);
        None
    }

    /// True when, on this state, the command only keeps values for the next start: nothing
    /// is sent, and a held start ([`Family::start_settle`]) uses them.
    fn only_pending(changes: &Self::Changes, state: &Self::State) -> bool {
        let _ = (changes, state);
        false
    }

    /// How long to wait for the state to show a command, given `anova.confirm_timeout`.
    fn confirm_window(configured: Duration) -> Duration {
        configured
    }

    /// Applies an update to the memory.
    fn remember(memory: &mut Self::Memory, update: Self::Update);

    /// The state as published: the memory laid over it (values for the next start while
    /// idle), `online` set, and readings rounded against publish storms.
    fn publishable(state: &Self::State, memory: &Self::Memory, online: bool) -> Self::State;

    /// True when two publishable states differ in anything but their timestamp.
    fn differs(a: &Self::State, b: &Self::State) -> bool;

    /// The device's own online flag (true when it has none).
    fn reports_online(state: &Self::State) -> bool;

    /// True while a cook runs.
    fn cooking(state: &Self::State) -> bool;

    /// The temperature a plan's food-safety watch follows while the plan waits (§8.3): a
    /// cooker's water. `None` for a family whose waiting food the bridge cannot watch.
    fn watched_temperature(state: &Self::State) -> Option<f64> {
        let _ = state;
        None
    }

    /// The firmware version the state reports.
    fn firmware(state: &Self::State) -> Option<&str>;

    /// The cook events between two consecutive states. A running cook replaced by another
    /// without a pause is not an event here: the core calls it a change ([`Family::cook_changed`]).
    fn events(previous: &Self::State, current: &Self::State) -> Vec<CookEvent>;

    /// The readings of a cook's curve (`docs/interface.md` §7): cookers the water and the target,
    /// ovens the controlling bulb, target, probe and humidity.
    fn curve_point(state: &Self::State) -> CurvePoint;

    /// What the running cook was asked to do, as the state shows it (target, timer, mode …):
    /// the plan recorded with it.
    fn plan_of(state: &Self::State) -> Map<String, Value>;

    /// True when the running cook changed between two states that both cook: a new target or
    /// timer, or (ovens) a new cook in place of the running one.
    fn cook_changed(previous: &Self::State, current: &Self::State) -> bool;

    /// True when the state shows an alarm or fault (a cook that ends so has `failed`).
    fn faulted(state: &Self::State) -> bool;

    /// The keys every event payload of this family carries (stage, temperatures, timer …).
    fn event_payload(state: &Self::State) -> Map<String, Value>;

    /// The limits a device's `bridge/devices` entry shows.
    fn limits_entry(limits: &Self::Limits) -> EntryLimits;

    /// The discovery messages that create or update the device and its entities.
    fn discovery(
        ctx: &DiscoveryContext<'_>,
        device: &DiscoveryDevice<'_>,
        limits: &Self::Limits,
    ) -> Vec<DiscoveryMessage>;

    /// The messages that remove the device from Home Assistant.
    fn removal(ctx: &DiscoveryContext<'_>, id: &TopicId) -> Vec<DiscoveryMessage>;
}

/// A start decided ahead of time ([`Family::start_from_idle`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StartPlan {
    /// The command that makes exactly this start, every value explicit (°C, durations as
    /// text), so that it reads back the same later: `{"cook": true, …}`.
    pub(crate) command: Map<String, Value>,
    /// The target of the cook (of its first stage), °C.
    pub(crate) target_c: f64,
    /// How long it cooks once at its target (its timer; the stages' timers added up), seconds;
    /// `None` when it has no end of its own (no timer, or a stage that ends on the probe).
    pub(crate) cook_s: Option<u32>,
    /// The food it names.
    pub(crate) food: Option<Food>,
}

/// What discovery needs to know about a device besides its limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiscoveryDevice<'a> {
    /// The topic id.
    pub(crate) id: &'a TopicId,
    /// The name from the Anova app.
    pub(crate) name: &'a str,
    /// The exact Anova `type`.
    pub(crate) device_type: &'a DeviceType,
    /// Firmware version, when reported.
    pub(crate) firmware: Option<&'a str>,
    /// The names of the family's presets (`docs/interface.md` §8.1).
    pub(crate) presets: &'a [String],
}

/// Source of fresh identifiers (UUID v4 text) for what a plan must name, such as an oven's
/// cook and stages. Seeded by the driver, so the core stays deterministic.
pub(crate) trait Ids {
    /// A new UUID v4, lower-case with hyphens.
    fn uuid(&mut self) -> String;
}

/// The narrow inputs of [`Family::plan`].
pub(crate) struct PlanInput<'a, F: Family> {
    /// What the command asks for.
    pub(crate) changes: &'a F::Changes,
    /// The device's last state.
    pub(crate) state: &'a F::State,
    /// What the device remembers.
    pub(crate) memory: &'a F::Memory,
    /// Its limits.
    pub(crate) limits: &'a F::Limits,
    /// Its address on the cloud (`cookerId` and exact `type`).
    pub(crate) device: &'a DeviceRef,
    /// Fresh identifiers.
    pub(crate) ids: &'a mut dyn Ids,
}

/// What a command will do: each family's planner builds one.
#[derive(Debug)]
pub(crate) struct Plan<F: Family> {
    /// Cloud commands, sent one after the other; empty when nothing goes to the cloud.
    pub(crate) steps: VecDeque<CloudCommand>,
    /// The state that confirms them.
    pub(crate) expect: F::Expect,
    /// Applied to the memory on success (at once for a plan without steps).
    pub(crate) update: F::Update,
    /// The command as the response echoes it (°C, seconds), with the values a start used.
    pub(crate) echo: F::Echo,
    /// Only stores values for the next start (`"pending": true` in the response).
    pub(crate) pending: bool,
    /// Said in the response.
    pub(crate) warnings: Vec<String>,
}

impl<F: Family> Plan<F> {
    /// A plan that does nothing yet and echoes `echo`.
    pub(crate) fn echoing(echo: F::Echo) -> Self {
        Self {
            steps: VecDeque::new(),
            expect: F::Expect::default(),
            update: F::Update::default(),
            echo,
            pending: false,
            warnings: Vec::new(),
        }
    }
}

/// The parts of a running command a family may rework in [`Family::recover`].
pub(crate) struct Running<'a, F: Family> {
    /// What was asked.
    pub(crate) changes: &'a F::Changes,
    /// The steps not sent yet.
    pub(crate) steps: &'a mut VecDeque<CloudCommand>,
    /// What confirms the command.
    pub(crate) expect: &'a mut F::Expect,
    /// Said in the response.
    pub(crate) warnings: &'a mut Vec<String>,
    /// The device's last state.
    pub(crate) state: &'a F::State,
    /// What the device remembers (a family may note the refusal).
    pub(crate) memory: &'a mut F::Memory,
    /// The device's address.
    pub(crate) device: &'a DeviceRef,
}
