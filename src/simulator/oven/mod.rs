//! One simulated Anova Precision Oven (`oven_v1` or `oven_v2`, `docs/anova-oven.md`): identity, the
//! cavity's physics, the running cook, the parts a person touches (door, water tank, food
//! probe, food in the camera's view, the start button), and the wire shape of its state.
//!
//! Pure, like the cookers: the owner advances the simulated clock and passes the wall clock
//! when it renders.
//!
//! Behaviour (\[LIVE] observed, \[INF] our inference):
//! - `CMD_APO_START` replaces any running cook with the plan sent (see [`plan`]); a plan the
//!   oven cannot run is acknowledged `ok` and changes nothing \[LIVE ADK]; the request id joins
//!   `state.processedCommandIds` (the last 10 kept) only when the cook starts \[LIVE ADK: the
//!   echoed id is the `requestId`].
//! - A v1-shaped plan on a v2 oven puts it into an error state \[LIVE bogd#4: "error out … hard
//!   rebooted"]: `state.mode` becomes `"error"`, the heat goes off, and the oven ignores every
//!   command (acknowledged `ok`) until it is power-cycled ([`OvenChange::PowerCycle`]) \[INF].
//! - `CMD_APO_STOP` ends the cook (`state.mode: idle`, no `cook`); the timer node keeps its
//!   `initial`. `CMD_APO_SET_TEMPERATURE_UNIT` changes only `state.temperatureUnit`.
//! - When the last stage exits the cook ends by itself: idle, heat off, the timer node
//!   `completed` \[INF].
//! - An open door stops the elements and the fan and lets heat and steam out; an empty or
//!   removed water tank stops the steam; neither stops the cook or its timer \[INF].
//! - Power-cycling ends any cook and clears the error state \[INF].

mod conditions;
mod cook;
mod physics;
mod plan;
mod render;

pub use render::WaterTank;

use super::clock::{project, world_now, OFFLINE_AT_START};
use super::config::{OvenGeneration, OvenSettings, SimFirmwareOffer, SimOvenSpec, SpecError};
use super::wire::{self, DeviceType, EventName, ListEntry, Millis, TemperatureUnit, Utf8Bytes};
use cook::{Cook, Sensors, TimerPhase};
use physics::{Cavity, Drive, Rates, FRIDGE_C};
use plan::{Rejection, Settings};
use render::{CookView, SystemView, TimerView, View, IDLE_SETTINGS};
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::time::Duration as StdDuration;
use time::{Duration, OffsetDateTime};

/// How many applied command ids `state.processedCommandIds` keeps.
const PROCESSED_COMMAND_IDS: usize = 10;

/// Something a person (or the world) does to an oven ([`Fault::Oven`](super::Fault::Oven)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OvenChange {
    /// Open (true) or close the door.
    Door {
        /// Open.
        open: bool,
    },
    /// The water tank's level.
    WaterTank(WaterTank),
    /// Plug the food probe in (it reads fridge temperature, 4 °C, and starts warming) or out.
    Probe {
        /// Plugged in.
        connected: bool,
    },
    /// Food in the cavity or not, as the `oven_v2` camera sees it (`cavityCamera.isEmpty`).
    Food {
        /// Food is in.
        present: bool,
    },
    /// Someone pressed start on the oven: satisfies a `userAction` condition of the active
    /// stage (a manual timer, a stage that needs the user).
    UserAction,
    /// Unplug and replug: any cook ends, the error state clears.
    PowerCycle,
}

/// What the oven is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OvenMode {
    /// No cook.
    Idle,
    /// A cook runs.
    Cooking,
    /// Errored out by a plan of the wrong generation; only a power cycle helps.
    Error,
}

/// A read-only view of an oven for assertions and the demo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OvenSnapshot {
    /// The cloud's id.
    pub cooker_id: String,
    /// `oven_v1` or `oven_v2`.
    pub device_type: String,
    /// The user's name.
    pub name: String,
    /// Idle, cooking, or in the error state.
    pub mode: OvenMode,
    /// The active stage (0-based), while cooking.
    pub stage_index: Option<usize>,
    /// The stages of the running cook (0 when idle).
    pub stage_count: usize,
    /// The active stage's id.
    pub stage_id: Option<String>,
    /// The active stage is entering: its entry condition (the preheat) does not hold yet.
    pub preheating: bool,
    /// The active stage waits for the user.
    pub pending_user_action: bool,
    /// `dry` or `wet`: the bulb the cook controls (the last cook's when idle).
    pub temperature_mode: String,
    /// The controlling bulb's setpoint, while cooking.
    pub target_temperature_c: Option<f64>,
    /// Dry bulb, °C.
    pub dry_temperature_c: f64,
    /// Wet bulb, °C.
    pub wet_temperature_c: f64,
    /// Relative humidity, %.
    pub humidity: f64,
    /// The food probe is plugged in.
    pub probe_connected: bool,
    /// The probe's reading while plugged in, °C.
    pub probe_temperature_c: Option<f64>,
    /// `idle`, `running` or `completed`.
    pub timer_mode: String,
    /// The timer's length, seconds.
    pub timer_initial_s: u32,
    /// Timer seconds left (simulated).
    pub timer_remaining_s: u32,
    /// The door is open.
    pub door_open: bool,
    /// The water tank.
    pub water_tank: WaterTank,
    /// Food in the cavity (the camera's view).
    pub food_present: bool,
    /// The running cook's `cookId`.
    pub cook_id: Option<String>,
    /// `state.processedCommandIds`, oldest first.
    pub processed_command_ids: Vec<String>,
    /// The display unit.
    pub display_unit: TemperatureUnit,
    /// Unplugged: no pushes.
    pub silent: bool,
    /// Simulated seconds since the simulator started.
    pub simulated_s: f64,
}

/// What a START did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Started {
    /// The cook runs.
    Cooking,
    /// Not a START payload: answer `invalid command`.
    Invalid(String),
    /// Acknowledged and dropped (or ignored): nothing changed.
    Ignored(String),
    /// The wrong generation's plan: the oven errored out.
    Errored,
}

/// How far one call to [`SimOven::advance`] went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Advanced {
    pub(crate) simulated_s: f64,
    /// Something a client would see changed (a stage, the timer, the cook's end).
    pub(crate) transition: bool,
}

/// The idle timer node: what the last cook left.
#[derive(Debug, Clone, Copy, PartialEq)]
struct IdleTimer {
    phase: TimerPhase,
    initial_s: u32,
    elapsed_s: u32,
}

/// One simulated oven.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimOven {
    cooker_id: String,
    device_type: DeviceType,
    generation: OvenGeneration,
    name: String,
    paired_at: String,
    firmware: String,
    firmware_offer: Option<SimFirmwareOffer>,
    clock_s: f64,
    cavity: Cavity,
    rates: Rates,
    cook: Option<Cook>,
    /// What the state shows while idle: the last cook's settings and timer.
    last_settings: Settings,
    last_timer: IdleTimer,
    errored: bool,
    door_open: bool,
    tank: WaterTank,
    probe_connected: bool,
    food_present: bool,
    unit: TemperatureUnit,
    processed: VecDeque<String>,
    silent_since: Option<OffsetDateTime>,
    /// The simulated world's wall clock at simulated second 0 (see [`crate::simulator::clock`]).
    epoch: OffsetDateTime,
    last_connected: OffsetDateTime,
    last_disconnected: OffsetDateTime,
    firmware_updated: OffsetDateTime,
}

impl SimOven {
    /// Builds an oven from its spec; `started` is the wall time the simulation starts.
    pub(crate) fn new(
        spec: &SimOvenSpec,
        started: OffsetDateTime,
        settings: &OvenSettings,
    ) -> Result<Self, SpecError> {
        if spec.cooker_id.is_empty() {
            return Err(SpecError::EmptyId);
        }
        if !spec.temperature_c.is_finite() {
            return Err(SpecError::Temperature(spec.cooker_id.clone()));
        }
        let silent_since = spec.silent.then(|| started - OFFLINE_AT_START);
        let (last_connected, last_disconnected) = match silent_since {
            Some(gone) => (gone - Duration::days(2), gone),
            None => (started, started - Duration::days(1)),
        };
        // A real v1 shows a full list [LIVE bogd]; the one v2 capture shows none.
        let processed = match spec.generation {
            OvenGeneration::V1 => (0..PROCESSED_COMMAND_IDS)
                .map(|_| uuid::Uuid::new_v4().to_string())
                .collect(),
            OvenGeneration::V2 => VecDeque::new(),
        };
        Ok(Self {
            cooker_id: spec.cooker_id.clone(),
            device_type: spec.generation.device_type(),
            generation: spec.generation,
            name: spec.name.clone(),
            paired_at: spec
                .paired_at
                .clone()
                .unwrap_or_else(|| Millis(started - Duration::days(30)).to_string()),
            firmware: spec.firmware.clone(),
            firmware_offer: spec.firmware_offer.clone(),
            clock_s: 0.0,
            cavity: Cavity::new(spec.temperature_c),
            rates: Rates {
                heat_c_per_s: settings.heat_rate_c_per_min / 60.0,
                probe_time_constant_s: settings.probe_time_constant_s,
            },
            cook: None,
            last_settings: IDLE_SETTINGS,
            last_timer: IdleTimer {
                phase: TimerPhase::Idle,
                initial_s: 0,
                elapsed_s: 0,
            },
            errored: false,
            door_open: false,
            tank: WaterTank::Full,
            probe_connected: spec.probe_connected,
            food_present: false,
            unit: spec.display_unit,
            processed,
            silent_since,
            epoch: started,
            last_connected,
            last_disconnected,
            firmware_updated: started - Duration::days(60),
        })
    }

    /// The cloud's id.
    pub(crate) fn cooker_id(&self) -> &str {
        &self.cooker_id
    }

    /// True while unplugged.
    pub(crate) fn is_silent(&self) -> bool {
        self.silent_since.is_some()
    }

    /// The push interval for its generation and whether it cooks.
    pub(crate) fn push_interval(&self, settings: &OvenSettings) -> StdDuration {
        match (self.generation, self.cook.is_some()) {
            (OvenGeneration::V1, false) => settings.v1_idle_push,
            (OvenGeneration::V1, true) => settings.v1_cooking_push,
            (OvenGeneration::V2, false) => settings.v2_idle_push,
            (OvenGeneration::V2, true) => settings.v2_cooking_push,
        }
    }

    fn drive(&self) -> Drive {
        Drive {
            settings: self.cook.as_ref().map(|c| c.stage().settings),
            door_open: self.door_open,
            has_water: matches!(self.tank, WaterTank::Full | WaterTank::Low),
        }
    }

    fn sensors(&self) -> Sensors {
        Sensors {
            dry_c: self.cavity.dry_c,
            wet_c: self.cavity.wet_c,
            probe_c: self.probe_connected.then_some(self.cavity.probe_c),
            food_present: self.food_present,
        }
    }

    /// Lets the cook react; true when a client would see a change.
    fn update(&mut self) -> bool {
        let sensors = self.sensors();
        let Some(cook) = &mut self.cook else {
            return false;
        };
        let progress = cook.update(self.clock_s, &sensors);
        if progress.finished {
            self.end_cook(true);
        }
        progress.changed
    }

    /// Ends the cook; `completed` when it ran to its end (the timer node shows `completed`).
    fn end_cook(&mut self, completed: bool) {
        let Some(cook) = self.cook.take() else {
            return;
        };
        let initial_s = cook.stage().timer.as_ref().map_or(0, |t| t.initial_s);
        let done = completed && cook.timer == TimerPhase::Completed;
        self.last_settings = cook.stage().settings;
        self.last_timer = IdleTimer {
            phase: if done {
                TimerPhase::Completed
            } else {
                TimerPhase::Idle
            },
            initial_s,
            elapsed_s: if done { initial_s } else { 0 },
        };
    }

    /// Advances the simulated clock by up to `dt_s` seconds; stops right after a change a
    /// client would see, at the exact simulated instant (preheat reached, timer done, …).
    pub(crate) fn advance(&mut self, dt_s: f64) -> Advanced {
        let mut advanced = Advanced {
            simulated_s: 0.0,
            transition: false,
        };
        if self.is_silent() || dt_s.is_nan() || dt_s <= 0.0 {
            return advanced;
        }
        let max_step = (dt_s / 1000.0).max(1.0);
        while dt_s - advanced.simulated_s > 1e-9 {
            let mut step = (dt_s - advanced.simulated_s).min(max_step);
            if let Some(deadline) = self
                .cook
                .as_ref()
                .and_then(|c| c.next_deadline(self.clock_s))
            {
                if deadline > 1e-9 {
                    step = step.min(deadline);
                }
            }
            let drive = self.drive();
            let below = self.cavity.below_setpoint(&drive);
            if below > 1e-9 && self.cavity.heating(&drive) {
                step = step.min(below / self.rates.heat_c_per_s);
            }
            self.cavity
                .advance(step, &drive, &self.rates, self.probe_connected);
            self.clock_s += step;
            advanced.simulated_s += step;
            if self.update() {
                advanced.transition = true;
                break;
            }
        }
        advanced
    }

    fn remember(&mut self, request_id: &str) {
        self.processed.push_back(request_id.to_owned());
        while self.processed.len() > PROCESSED_COMMAND_IDS {
            self.processed.pop_front();
        }
    }

    /// `CMD_APO_START` with its inner payload.
    pub(crate) fn start(&mut self, payload: Option<&Value>, request_id: &str) -> Started {
        if self.errored {
            return Started::Ignored("the oven is in its error state".into());
        }
        match plan::parse(self.generation, payload) {
            Ok(plan) => {
                self.end_cook(false);
                self.cook = Some(Cook::new(plan, self.clock_s));
                self.remember(request_id);
                self.update();
                Started::Cooking
            }
            Err(Rejection::Invalid(why)) => Started::Invalid(why),
            Err(Rejection::Dropped(why)) => Started::Ignored(format!("plan dropped: {why}")),
            Err(Rejection::WrongGeneration) => {
                self.end_cook(false);
                self.errored = true;
                Started::Errored
            }
        }
    }

    /// `CMD_APO_STOP`; false when it changed nothing (no cook, or errored).
    pub(crate) fn stop(&mut self, request_id: &str) -> bool {
        if self.errored {
            return false;
        }
        self.end_cook(false);
        self.remember(request_id);
        true
    }

    /// `CMD_APO_SET_TEMPERATURE_UNIT`; false while errored.
    pub(crate) fn set_unit(&mut self, unit: TemperatureUnit, request_id: &str) -> bool {
        if self.errored {
            return false;
        }
        self.unit = unit;
        self.remember(request_id);
        true
    }

    /// Applies a change from outside; true when the state changed.
    pub(crate) fn change(&mut self, change: OvenChange) -> bool {
        let changed = match change {
            OvenChange::Door { open } => std::mem::replace(&mut self.door_open, open) != open,
            OvenChange::WaterTank(level) => std::mem::replace(&mut self.tank, level) != level,
            OvenChange::Probe { connected } => {
                let was = std::mem::replace(&mut self.probe_connected, connected);
                if connected && !was {
                    self.cavity.probe_c = FRIDGE_C;
                }
                was != connected
            }
            OvenChange::Food { present } => {
                std::mem::replace(&mut self.food_present, present) != present
            }
            OvenChange::UserAction => {
                if let Some(cook) = &mut self.cook {
                    cook.press();
                }
                self.cook.is_some()
            }
            OvenChange::PowerCycle => {
                self.end_cook(false);
                self.errored = false;
                true
            }
        };
        // A probe, food or the user may satisfy a condition at once.
        self.update() || changed
    }

    /// Unplugs (`silent`) or plugs back the oven at wall time `now`; true on a change.
    pub(crate) fn set_silent(&mut self, silent: bool, _wall: OffsetDateTime) -> bool {
        let now = world_now(self.epoch, self.clock_s);
        match (silent, self.silent_since) {
            (true, None) => {
                self.silent_since = Some(now);
                self.last_disconnected = now;
                true
            }
            (false, Some(_)) => {
                self.silent_since = None;
                self.last_connected = now;
                true
            }
            _ => false,
        }
    }

    /// `EVENT_APO_WIFI_FIRMWARE_UPDATE` when the cloud offers it an update.
    pub(crate) fn firmware_event(&self) -> Option<Utf8Bytes> {
        let offer = self.firmware_offer.as_ref()?;
        Some(wire::event(
            EventName::ApoWifiFirmwareUpdate,
            &wire::FirmwareUpdate {
                cooker_id: &self.cooker_id,
                ota: wire::Ota {
                    available: true,
                    description: &offer.description,
                    required: offer.required,
                    url: &offer.url,
                    version: &offer.version,
                },
                device_type: self.device_type.as_str(),
                version: &self.firmware,
            },
        ))
    }

    /// The oven's entry in `EVENT_APO_WIFI_LIST` / `EVENT_APO_WIFI_ADDED`.
    pub(crate) fn list_entry(&self) -> ListEntry<'_> {
        ListEntry {
            cooker_id: &self.cooker_id,
            device_type: &self.device_type,
            name: &self.name,
            paired_at: &self.paired_at,
        }
    }

    fn timer_view(&self, now: OffsetDateTime) -> TimerView {
        let Some(cook) = &self.cook else {
            return TimerView {
                phase: self.last_timer.phase,
                initial_s: self.last_timer.initial_s,
                elapsed_s: self.last_timer.elapsed_s,
                started_at: None,
            };
        };
        let initial_s = cook.stage().timer.as_ref().map_or(0, |t| t.initial_s);
        let (elapsed_s, started_at) = match cook.timer {
            TimerPhase::Idle => (0, None),
            TimerPhase::Running { started_s } => (
                // At most the u32 initial: the timer completes there.
                ((self.clock_s - started_s).max(0.0) as u32).min(initial_s),
                Some(project(now, self.clock_s, started_s)),
            ),
            TimerPhase::Completed => (initial_s, None),
        };
        TimerView {
            phase: cook.timer,
            initial_s,
            elapsed_s,
            started_at,
        }
    }

    /// The `EVENT_APO_STATE` frame the cloud holds for this oven at wall time `now` (for an
    /// unplugged oven: its last state, `online:false`, as of when it went silent).
    pub(crate) fn state_event(&self, _wall: OffsetDateTime) -> Utf8Bytes {
        let now = self
            .silent_since
            .unwrap_or_else(|| world_now(self.epoch, self.clock_s));
        let drive = self.drive();
        let sensors = self.sensors();
        let elapsed = |since_s: f64| (self.clock_s - since_s).max(0.0) as u64;
        let cook = self.cook.as_ref().map(|cook| CookView {
            meta: &cook.plan.meta,
            echo: &cook.plan.echo,
            active_index: cook.active,
            active_id: &cook.stage().id,
            entering: cook.entering,
            started_at: project(now, self.clock_s, cook.started_s),
            stage_started_at: project(now, self.clock_s, cook.stage_started_s),
            seconds_elapsed: elapsed(cook.started_s),
            stage_seconds_elapsed: elapsed(cook.stage_started_s),
            pending_user_action: cook.pending_user_action(&sensors),
        });
        let view = View {
            generation: self.generation,
            now,
            mode: if self.errored {
                "error"
            } else if self.cook.is_some() {
                "cook"
            } else {
                "idle"
            },
            unit: self.unit,
            processed: &self.processed,
            cavity: self.cavity,
            settings: drive.settings.unwrap_or(self.last_settings),
            cooking: self.cook.is_some(),
            heating: self.cavity.heating(&drive),
            steaming: self.cavity.steaming(&drive),
            door_open: self.door_open,
            tank: self.tank,
            probe_connected: self.probe_connected,
            food_present: self.food_present,
            timer: self.timer_view(now),
            cook,
            system: SystemView {
                device_id: &self.cooker_id,
                firmware: &self.firmware,
                online: self.silent_since.is_none(),
                last_connected: self.last_connected,
                last_disconnected: self.last_disconnected,
                firmware_updated: self.firmware_updated,
            },
        };
        let body = render::state(&view);
        wire::state_event(
            EventName::ApoState,
            &self.cooker_id,
            &self.device_type,
            |out| serde_json::to_writer(out, &body),
        )
    }

    /// A read-only view for assertions.
    pub(crate) fn snapshot(&self) -> OvenSnapshot {
        let sensors = self.sensors();
        let settings = self
            .cook
            .as_ref()
            .map_or(self.last_settings, |c| c.stage().settings);
        let timer = self.timer_view(OffsetDateTime::UNIX_EPOCH);
        OvenSnapshot {
            cooker_id: self.cooker_id.clone(),
            device_type: self.device_type.to_string(),
            name: self.name.clone(),
            mode: match (self.errored, self.cook.is_some()) {
                (true, _) => OvenMode::Error,
                (false, true) => OvenMode::Cooking,
                (false, false) => OvenMode::Idle,
            },
            stage_index: self.cook.as_ref().map(|c| c.active),
            stage_count: self.cook.as_ref().map_or(0, |c| c.plan.stages.len()),
            stage_id: self.cook.as_ref().map(|c| c.stage().id.clone()),
            preheating: self.cook.as_ref().is_some_and(|c| c.entering),
            pending_user_action: self
                .cook
                .as_ref()
                .is_some_and(|c| c.pending_user_action(&sensors)),
            temperature_mode: settings.bulb.as_str().to_owned(),
            target_temperature_c: self.cook.as_ref().map(|_| settings.setpoint_c),
            dry_temperature_c: self.cavity.dry_c,
            wet_temperature_c: self.cavity.wet_c,
            humidity: self.cavity.humidity,
            probe_connected: self.probe_connected,
            probe_temperature_c: sensors.probe_c,
            timer_mode: timer.phase.as_str().to_owned(),
            timer_initial_s: timer.initial_s,
            timer_remaining_s: self
                .cook
                .as_ref()
                .map_or(0, |c| c.timer_remaining_s(self.clock_s)),
            door_open: self.door_open,
            water_tank: self.tank,
            food_present: self.food_present,
            cook_id: self.cook.as_ref().map(|c| c.plan.meta.cook_id.clone()),
            processed_command_ids: self.processed.iter().cloned().collect(),
            display_unit: self.unit,
            silent: self.is_silent(),
            simulated_s: self.clock_s,
        }
    }
}

#[cfg(test)]
mod tests;
