//! One simulated cooker: identity, simulated clock, water bath, alarms, and the generation's
//! state machine ([`Gen3Machine`] or [`Gen2Machine`]).
//!
//! Pure: the owner passes the simulated time step to [`SimCooker::advance`] and the wall clock
//! to [`SimCooker::render`]; nothing here sleeps or reads a clock.
//!
//! **Time scaling.** The cooker keeps its own simulated clock (seconds). Every instant it
//! remembers (cook start, stage start, timer start) is a simulated instant, and is reported as
//! `wall_now − (simulated_now − simulated_instant)`. Clients compute a Gen 3 timer's remaining
//! time as `initial − (now − startedAtTimestamp)` with their real clock, so this projection makes
//! them see the scaled countdown; at speed 1 it is the plain truth. `updatedTimestamp` is the
//! real now. Gen 2 reports countdowns in simulated seconds directly.

use super::gen2::Gen2Machine;
use super::gen3::Gen3Machine;
use super::thermal::{round2, sensor_noise, WaterBath};
use super::SimCookerSpec;
use crate::anova::model::{Stage, AT_TEMPERATURE_WINDOW_C};
use crate::anova::protocol::{
    ApcCommand, ApcState, ApcStateEvent, DeviceListEntry, DeviceType, Event, Generation,
    TemperatureUnit,
};
use serde::Serialize;
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// An alarm the simulator can raise on a cooker (`Fault::Alarm`).
///
/// How each one shows on the wire (`anova-protocol.md` §6.3, §6.4; the heater stops for all
/// but the low-water warning):
///
/// | alarm | Gen 3 | Gen 2 |
/// |---|---|---|
/// | `LowWater` | `nodes.lowWater.warning` | `pin-info.water-level-low` |
/// | `WaterCritical` | `lowWater.empty` + `state.mode:lowWater` | `water-level-critical` + `job.mode:LOW WATER` |
/// | `WaterLeak` | `state.mode:waterLeak` | `water-leak` + `job.mode:DEVICE FAILURE` |
/// | `HighTemp` | `state.mode:highTemp` | `job.mode:HIGH TEMP` |
/// | `MotorStuck` | `state.mode:motorStuck` | `motor-stuck` + `job.mode:DEVICE FAILURE` |
/// | `TriacFailed` | `systemInfo.triacsFailed` | `job.mode:DEVICE FAILURE` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alarm {
    /// Water is low (a warning; the cook continues).
    LowWater,
    /// Water is critically low or empty.
    WaterCritical,
    /// A leak.
    WaterLeak,
    /// Over-temperature.
    HighTemp,
    /// The pump motor is stuck.
    MotorStuck,
    /// The heater triacs failed.
    TriacFailed,
}

impl Alarm {
    /// Every alarm.
    pub const ALL: [Alarm; 6] = [
        Alarm::LowWater,
        Alarm::WaterCritical,
        Alarm::WaterLeak,
        Alarm::HighTemp,
        Alarm::MotorStuck,
        Alarm::TriacFailed,
    ];
}

impl fmt::Display for Alarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LowWater => "low water",
            Self::WaterCritical => "water critical",
            Self::WaterLeak => "water leak",
            Self::HighTemp => "high temperature",
            Self::MotorStuck => "motor stuck",
            Self::TriacFailed => "triac failed",
        })
    }
}

/// The alarms currently raised on a cooker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Alarms {
    /// Low-water warning.
    pub low_water: bool,
    /// Critically low / empty.
    pub water_critical: bool,
    /// Leak.
    pub water_leak: bool,
    /// Over-temperature.
    pub high_temp: bool,
    /// Pump stuck.
    pub motor_stuck: bool,
    /// Heater triacs failed.
    pub triac_failed: bool,
}

impl Alarms {
    fn flag(&mut self, alarm: Alarm) -> &mut bool {
        match alarm {
            Alarm::LowWater => &mut self.low_water,
            Alarm::WaterCritical => &mut self.water_critical,
            Alarm::WaterLeak => &mut self.water_leak,
            Alarm::HighTemp => &mut self.high_temp,
            Alarm::MotorStuck => &mut self.motor_stuck,
            Alarm::TriacFailed => &mut self.triac_failed,
        }
    }

    /// Whether `alarm` is raised.
    pub fn is_raised(&self, alarm: Alarm) -> bool {
        *self.clone().flag(alarm)
    }

    /// The heater runs unless an alarm other than the low-water warning is raised.
    pub fn heater_allowed(&self) -> bool {
        !(self.water_critical
            || self.water_leak
            || self.high_temp
            || self.motor_stuck
            || self.triac_failed)
    }

    /// Whether the alarms replace the reported mode (Gen 3 `state.mode`, Gen 2 `job.mode`),
    /// which our normaliser reads as the `alarm` stage.
    fn replace_mode(&self, generation: Generation) -> bool {
        self.water_critical
            || self.water_leak
            || self.high_temp
            || self.motor_stuck
            || (generation == Generation::Gen2 && self.triac_failed)
    }
}

/// What the wire state shares across generations.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// The cloud's id.
    pub cooker_id: String,
    /// The device type.
    pub device_type: DeviceType,
    /// The user's name for it.
    pub name: String,
    /// When it was paired (ISO 8601 with milliseconds).
    pub paired_at: String,
    /// Firmware version string.
    pub firmware: String,
    /// Simulated seconds since the simulator started.
    pub clock_s: f64,
    /// The water.
    pub water: WaterBath,
    /// Raised alarms.
    pub alarms: Alarms,
    /// Phase of the sensor noise, `None` when noise is off.
    pub noise_phase: Option<f64>,
    /// Whether the cooker is connected to the cloud (false while silent).
    pub online: bool,
    /// `systemInfo.lastConnectedTimestamp`.
    pub last_connected: OffsetDateTime,
    /// `systemInfo.lastDisconnectedTimestamp`.
    pub last_disconnected: OffsetDateTime,
    /// `systemInfo.firmwareUpdatedTimestamp`.
    pub firmware_updated: OffsetDateTime,
}

impl Device {
    /// The water temperature as the sensor reports it: hundredths, plus noise when enabled.
    pub fn reported_water_c(&self) -> f64 {
        let noise = self
            .noise_phase
            .map_or(0.0, |phase| sensor_noise(self.clock_s, phase));
        round2(self.water.temperature_c + noise)
    }

    /// Projects the simulated instant `at_s` onto the wall clock, given that the simulated now
    /// is the wall time `now` (see the module docs on time scaling).
    pub fn wall_time(&self, now: OffsetDateTime, at_s: f64) -> OffsetDateTime {
        // Checked: an absurd speed could push the instant out of the calendar's range.
        Duration::checked_seconds_f64((self.clock_s - at_s).max(0.0))
            .and_then(|ago| now.checked_sub(ago))
            .unwrap_or(now)
    }
}

/// ISO 8601 in whole seconds, UTC, as Gen 3 timestamps are (`2024-07-05T21:49:10Z`).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let rounded = t.to_offset(time::UtcOffset::UTC) + Duration::milliseconds(500);
    let whole = rounded.replace_nanosecond(0).unwrap_or(rounded);
    whole.format(&Rfc3339).unwrap_or_default()
}

/// ISO 8601 with milliseconds, as `pairedAt` is (`2024-07-05T17:36:59.347Z`).
fn format_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let millis = t.replace_millisecond(t.millisecond()).unwrap_or(t);
    millis.format(&Rfc3339).unwrap_or_default()
}

/// The generation-specific part.
#[derive(Debug, Clone, PartialEq)]
enum Machine {
    Gen3(Gen3Machine),
    Gen2(Gen2Machine),
}

/// Why a cooker spec cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// Only Gen 3 (`a6`–`a9`) and Gen 2 (`a4`, `a5`, `pro`, `honey-badger`) are simulated.
    #[error("cooker {cooker_id:?}: device type {device_type:?} is not simulated (use a6-a9, a4, a5, pro or honey-badger)")]
    UnsupportedType {
        /// The cooker.
        cooker_id: String,
        /// Its type.
        device_type: String,
    },
    /// The id is empty.
    #[error("a cooker needs a non-empty cookerId")]
    EmptyId,
    /// Two cookers with one id.
    #[error("there is already a cooker {0:?}")]
    Duplicate(String),
    /// A temperature that is not a number.
    #[error("cooker {0:?}: water and target temperatures must be finite numbers")]
    Temperature(String),
}

/// One simulated cooker.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCooker {
    device: Device,
    machine: Machine,
    /// Preheat rate, °C per simulated second.
    heat_rate_c_per_s: f64,
    /// Since when the cooker has been unplugged (no pushes, frozen, `online:false`).
    silent_since: Option<OffsetDateTime>,
}

/// How far one call to [`SimCooker::advance`] went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Advanced {
    /// Simulated seconds actually advanced (less than asked when a transition came first).
    pub simulated_s: f64,
    /// The stage changed at the end of this advance.
    pub transition: bool,
}

/// A read-only view of a cooker for assertions and the demo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CookerSnapshot {
    /// The cloud's id.
    pub cooker_id: String,
    /// The device type.
    pub device_type: String,
    /// The user's name.
    pub name: String,
    /// Where the cook is, as our normaliser would derive it.
    pub stage: Stage,
    /// Water temperature, °C (exact, without noise).
    pub water_temperature_c: f64,
    /// Target, °C (kept while idle).
    pub target_temperature_c: f64,
    /// Timer length, seconds.
    pub timer_s: u32,
    /// Timer seconds left (simulated).
    pub timer_remaining_s: u32,
    /// Display unit.
    pub display_unit: TemperatureUnit,
    /// Unplugged: no pushes.
    pub silent: bool,
    /// Raised alarms.
    pub alarms: Vec<Alarm>,
    /// Simulated seconds since the simulator started.
    pub simulated_s: f64,
}

/// How long a cooker that starts unplugged has been away: the real a7 seen offline at connect
/// reported an `updatedTimestamp` about 18 hours old.
const OFFLINE_AT_START: Duration = Duration::hours(18);

impl SimCooker {
    /// Builds a cooker from its spec. `started` is the wall time the simulation starts;
    /// `noise` enables the sensor wobble; `heat_rate_c_per_min` is the preheat rate.
    pub fn new(
        spec: &SimCookerSpec,
        started: OffsetDateTime,
        noise: bool,
        heat_rate_c_per_min: f64,
    ) -> Result<Self, SpecError> {
        if spec.cooker_id.is_empty() {
            return Err(SpecError::EmptyId);
        }
        if !(spec.water_temperature_c.is_finite() && spec.target_temperature_c.is_finite()) {
            return Err(SpecError::Temperature(spec.cooker_id.clone()));
        }
        let machine = match spec.device_type.generation() {
            Generation::Gen3 => Machine::Gen3(Gen3Machine::new(
                spec.target_temperature_c,
                spec.timer_s,
                spec.display_unit,
            )),
            Generation::Gen2 => Machine::Gen2(Gen2Machine::new(
                spec.target_temperature_c,
                spec.timer_s,
                spec.display_unit,
            )),
            _ => {
                return Err(SpecError::UnsupportedType {
                    cooker_id: spec.cooker_id.clone(),
                    device_type: spec.device_type.to_string(),
                })
            }
        };
        // A stable phase per cooker, so two cookers do not wobble in lockstep.
        let phase = spec.cooker_id.bytes().map(f64::from).sum::<f64>() % std::f64::consts::TAU;
        let silent_since = spec.silent.then(|| started - OFFLINE_AT_START);
        // Connected at start (after an earlier disconnection), or gone since `silent_since`.
        let (last_connected, last_disconnected) = match silent_since {
            Some(gone) => (gone - Duration::days(2), gone),
            None => (started, started - Duration::days(1)),
        };
        Ok(Self {
            device: Device {
                cooker_id: spec.cooker_id.clone(),
                device_type: spec.device_type.clone(),
                name: spec.name.clone(),
                paired_at: spec
                    .paired_at
                    .clone()
                    .unwrap_or_else(|| format_millis(started - Duration::days(30))),
                firmware: spec.firmware.clone(),
                clock_s: 0.0,
                water: WaterBath::new(spec.water_temperature_c),
                alarms: Alarms::default(),
                noise_phase: noise.then_some(phase),
                online: silent_since.is_none(),
                last_connected,
                last_disconnected,
                firmware_updated: started - Duration::days(60),
            },
            machine,
            heat_rate_c_per_s: heat_rate_c_per_min / 60.0,
            silent_since,
        })
    }

    /// The cloud's id.
    pub fn cooker_id(&self) -> &str {
        &self.device.cooker_id
    }

    /// The device type.
    pub fn device_type(&self) -> &DeviceType {
        &self.device.device_type
    }

    /// True while unplugged.
    pub fn is_silent(&self) -> bool {
        self.silent_since.is_some()
    }

    /// True while a cook runs (selects the cooking push interval).
    pub fn is_cooking(&self) -> bool {
        self.heating_target().is_some()
    }

    fn heating_target(&self) -> Option<f64> {
        match &self.machine {
            Machine::Gen3(m) => m.heating_target(),
            Machine::Gen2(m) => m.heating_target(),
        }
    }

    fn next_deadline(&self) -> Option<f64> {
        match &self.machine {
            Machine::Gen3(m) => m.next_deadline(self.device.clock_s),
            Machine::Gen2(m) => m.next_deadline(self.device.clock_s),
        }
    }

    fn update(&mut self) -> bool {
        let (clock, water) = (self.device.clock_s, self.device.water.temperature_c);
        match &mut self.machine {
            Machine::Gen3(m) => m.update(clock, water),
            Machine::Gen2(m) => m.update(clock, water),
        }
    }

    /// Advances the simulated clock by up to `dt_s` simulated seconds: the water moves, and the
    /// stage and timer react. It stops right after a stage change (preheat done, timer started
    /// or done), at the exact simulated instant, so the owner can push that state before going
    /// on with the rest of `dt_s`. A silent (unplugged) cooker is frozen.
    pub fn advance(&mut self, dt_s: f64) -> Advanced {
        let mut advanced = Advanced {
            simulated_s: 0.0,
            transition: false,
        };
        if self.is_silent() || dt_s.is_nan() || dt_s <= 0.0 {
            return advanced;
        }
        // At least 1 s resolution for cooling into a window, and at most ~1000 steps per call.
        let max_step = (dt_s / 1000.0).max(1.0);
        while dt_s - advanced.simulated_s > 1e-9 {
            let mut step = (dt_s - advanced.simulated_s).min(max_step);
            if let Some(deadline) = self.next_deadline().filter(|d| *d > 1e-9) {
                step = step.min(deadline);
            }
            let heating = self
                .heating_target()
                .filter(|_| self.device.alarms.heater_allowed());
            // Also stop where the rising water enters the ±0.3 °C window, so the timer starts
            // at the exact simulated instant.
            if let Some(setpoint) = heating {
                let below = setpoint - AT_TEMPERATURE_WINDOW_C - self.device.water.temperature_c;
                if below > 1e-9 {
                    step = step.min(below / self.heat_rate_c_per_s);
                }
            }
            self.device
                .water
                .advance(step, heating, self.heat_rate_c_per_s);
            self.device.clock_s += step;
            advanced.simulated_s += step;
            if self.update() {
                advanced.transition = true;
                break;
            }
        }
        advanced
    }

    /// Applies a command routed to this cooker. Returns false when the device ignores it.
    pub fn apply(&mut self, command: &ApcCommand, request_id: &str) -> bool {
        let (clock, water) = (self.device.clock_s, self.device.water.temperature_c);
        let changed = match &mut self.machine {
            Machine::Gen3(m) => m.apply(command, request_id, clock),
            Machine::Gen2(m) => m.apply(command, request_id, clock, water),
        };
        if changed {
            self.update();
        }
        changed
    }

    /// Raises or clears an alarm. Returns true when that changed anything.
    pub fn set_alarm(&mut self, alarm: Alarm, raised: bool) -> bool {
        let flag = self.device.alarms.flag(alarm);
        let changed = *flag != raised;
        *flag = raised;
        changed
    }

    /// Unplugs (`silent`) or plugs back the cooker at wall time `now`. Returns true on a change.
    pub fn set_silent(&mut self, silent: bool, now: OffsetDateTime) -> bool {
        match (silent, self.silent_since) {
            (true, None) => {
                self.silent_since = Some(now);
                self.device.online = false;
                self.device.last_disconnected = now;
                true
            }
            (false, Some(_)) => {
                self.silent_since = None;
                self.device.online = true;
                self.device.last_connected = now;
                true
            }
            _ => false,
        }
    }

    /// The cooker's entry in `EVENT_APC_WIFI_LIST` / `EVENT_APC_WIFI_ADDED`.
    pub fn list_entry(&self) -> DeviceListEntry {
        DeviceListEntry {
            cooker_id: self.device.cooker_id.clone(),
            device_type: self.device.device_type.clone(),
            name: Some(self.device.name.clone()),
            paired_at: Some(self.device.paired_at.clone()),
        }
    }

    /// The state body the cloud holds for this cooker at wall time `now`. For an unplugged
    /// cooker that is the last state it reported, as of when it went silent (`online:false`
    /// and a stale `updatedTimestamp` on Gen 3).
    pub fn render(&self, now: OffsetDateTime) -> ApcState {
        let now = self.silent_since.unwrap_or(now);
        match &self.machine {
            Machine::Gen3(m) => ApcState::Gen3(Box::new(m.render(&self.device, now))),
            Machine::Gen2(m) => ApcState::Gen2(Box::new(m.render(&self.device))),
        }
    }

    /// The `EVENT_APC_STATE` frame for wall time `now`.
    pub fn state_event(&self, now: OffsetDateTime) -> Event {
        Event::ApcState(ApcStateEvent {
            cooker_id: self.device.cooker_id.clone(),
            device_type: Some(self.device.device_type.clone()),
            state: self.render(now),
        })
    }

    /// A read-only view for assertions.
    pub fn snapshot(&self) -> CookerSnapshot {
        let clock = self.device.clock_s;
        let (stage, target, timer, remaining, unit) = match &self.machine {
            Machine::Gen3(m) => (
                m.stage(),
                m.target_c(),
                m.timer_s(),
                m.timer_remaining_s(clock),
                m.display_unit(),
            ),
            Machine::Gen2(m) => (
                m.stage(),
                m.target_c(),
                m.timer_s(),
                m.timer_remaining_s(clock),
                m.display_unit(),
            ),
        };
        let alarms = self.device.alarms;
        let stage = if alarms.replace_mode(self.device.device_type.generation()) {
            Stage::Alarm
        } else {
            stage
        };
        CookerSnapshot {
            cooker_id: self.device.cooker_id.clone(),
            device_type: self.device.device_type.to_string(),
            name: self.device.name.clone(),
            stage,
            water_temperature_c: self.device.water.temperature_c,
            target_temperature_c: target,
            timer_s: timer,
            timer_remaining_s: remaining,
            display_unit: unit,
            silent: self.is_silent(),
            alarms: Alarm::ALL
                .into_iter()
                .filter(|a| alarms.is_raised(*a))
                .collect(),
            simulated_s: clock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anova::model::CookerState;
    use crate::anova::protocol::{CookerRef, Gen3Mode, JobMode};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);

    fn a7() -> SimCooker {
        let spec = SimCookerSpec {
            water_temperature_c: 59.0,
            ..SimCookerSpec::a7("A7", "Kitchen")
        };
        SimCooker::new(&spec, NOW, false, 5.0).unwrap()
    }

    fn pro() -> SimCooker {
        let spec = SimCookerSpec {
            water_temperature_c: 59.0,
            ..SimCookerSpec::pro("PRO", "Pro")
        };
        SimCooker::new(&spec, NOW, false, 5.0).unwrap()
    }

    fn start(cooker: &SimCooker, timer: u32) -> ApcCommand {
        ApcCommand::Start {
            cooker: CookerRef {
                cooker_id: cooker.cooker_id().to_owned(),
                device_type: cooker.device_type().clone(),
            },
            target_temperature: 60.0,
            unit: TemperatureUnit::C,
            timer: Some(timer),
        }
    }

    /// Advances by `dt_s` through any number of transitions; true when there was one.
    fn run(cooker: &mut SimCooker, dt_s: f64) -> bool {
        let mut left = dt_s;
        let mut transition = false;
        while left > 1e-9 {
            let step = cooker.advance(left);
            if step.simulated_s <= 0.0 {
                break;
            }
            left -= step.simulated_s;
            transition |= step.transition;
        }
        transition
    }

    fn normalised(cooker: &SimCooker, now: OffsetDateTime) -> CookerState {
        CookerState::from_wire(cooker.device_type(), &cooker.render(now), now, None).unwrap()
    }

    #[test]
    fn unsupported_types_are_refused() {
        let spec = SimCookerSpec {
            device_type: DeviceType::new("oven_v2"),
            ..SimCookerSpec::a7("X", "Oven")
        };
        assert!(matches!(
            SimCooker::new(&spec, NOW, false, 1.0),
            Err(SpecError::UnsupportedType { .. })
        ));
    }

    #[test]
    fn gen3_timer_start_is_projected_onto_the_wall_clock() {
        let mut cooker = a7();
        cooker.apply(&start(&cooker, 120), "r1");
        // 0.7 °C at 5 °C/min: 8.4 s of preheat, then 100 s of the timer.
        assert!(run(&mut cooker, 108.4));
        let state = normalised(&cooker, NOW);
        assert_eq!(state.stage, Stage::Cooking);
        // Started 100 simulated seconds before "now" whatever the speed: 20 s left.
        assert_eq!(state.timer_remaining, 20);
        assert_eq!(state.cook_ends_at, Some(NOW + Duration::seconds(20)));
    }

    #[test]
    fn gen3_whole_cook_through_the_normaliser() {
        let mut cooker = a7();
        assert_eq!(normalised(&cooker, NOW).stage, Stage::Idle);
        cooker.apply(&start(&cooker, 120), "r1");
        assert_eq!(normalised(&cooker, NOW).stage, Stage::Preheating);
        assert!(run(&mut cooker, 9.0));
        assert_eq!(normalised(&cooker, NOW).stage, Stage::Cooking);
        assert!(!run(&mut cooker, 100.0));
        assert!(run(&mut cooker, 30.0));
        assert_eq!(normalised(&cooker, NOW).stage, Stage::Maintaining);
        let stop = ApcCommand::Stop {
            cooker: CookerRef {
                cooker_id: "A7".into(),
                device_type: DeviceType::new("a7"),
            },
        };
        cooker.apply(&stop, "r2");
        assert_eq!(normalised(&cooker, NOW).stage, Stage::Idle);
    }

    #[test]
    fn gen2_whole_cook_through_the_normaliser() {
        let mut cooker = pro();
        cooker.apply(&start(&cooker, 120), "r1");
        assert_eq!(normalised(&cooker, NOW).stage, Stage::Preheating);
        assert!(run(&mut cooker, 9.0));
        let cooking = normalised(&cooker, NOW);
        assert_eq!(cooking.stage, Stage::Cooking);
        assert!(cooking.timer_remaining <= 120 && cooking.timer_remaining >= 119);
        assert!(run(&mut cooker, 130.0));
        let maintaining = normalised(&cooker, NOW);
        assert_eq!(maintaining.stage, Stage::Maintaining);
        assert!(maintaining.time_maintaining.unwrap() > 0);
    }

    #[test]
    fn alarms_show_in_the_state_and_stop_the_heater() {
        let mut cooker = a7();
        cooker.apply(&start(&cooker, 0), "r1");
        assert!(cooker.set_alarm(Alarm::WaterCritical, true));
        assert!(!cooker.set_alarm(Alarm::WaterCritical, true));
        let ApcState::Gen3(state) = cooker.render(NOW) else {
            panic!("gen 3")
        };
        assert_eq!(state.state.unwrap().mode, Some(Gen3Mode::LowWater));
        assert_eq!(state.nodes.unwrap().low_water.unwrap().empty, Some(true));
        let before = cooker.snapshot().water_temperature_c;
        run(&mut cooker, 60.0);
        assert!(cooker.snapshot().water_temperature_c < before, "heater off");
        assert_eq!(cooker.snapshot().stage, Stage::Alarm);
        assert_eq!(normalised(&cooker, NOW).stage, Stage::Alarm);

        let mut pro = pro();
        pro.set_alarm(Alarm::HighTemp, true);
        let ApcState::Gen2(state) = pro.render(NOW) else {
            panic!("gen 2")
        };
        assert_eq!(state.job.unwrap().mode, Some(JobMode::HighTemp));
        pro.set_alarm(Alarm::HighTemp, false);
        pro.set_alarm(Alarm::LowWater, true);
        let state = normalised(&pro, NOW);
        assert_eq!(state.low_water, Some(true));
        assert_eq!(
            state.stage,
            Stage::Idle,
            "a warning does not replace the mode"
        );
    }

    #[test]
    fn a_silent_cooker_is_frozen_and_reports_its_last_state_offline() {
        let mut cooker = a7();
        let went = NOW - Duration::hours(3);
        assert!(cooker.set_silent(true, went));
        assert!(!run(&mut cooker, 600.0));
        let ApcState::Gen3(state) = cooker.render(NOW) else {
            panic!("gen 3")
        };
        assert_eq!(
            state.updated_timestamp.as_deref(),
            Some("2025-03-01T09:00:00Z")
        );
        assert_eq!(state.system_info.unwrap().online, Some(false));
        assert!(cooker.set_silent(false, NOW));
        let ApcState::Gen3(state) = cooker.render(NOW) else {
            panic!("gen 3")
        };
        assert_eq!(state.system_info.unwrap().online, Some(true));
    }

    #[test]
    fn a_cooker_can_start_unplugged() {
        let spec = SimCookerSpec {
            silent: true,
            ..SimCookerSpec::a7("A7", "Kitchen")
        };
        let cooker = SimCooker::new(&spec, NOW, false, 1.0).unwrap();
        let ApcState::Gen3(state) = cooker.render(NOW) else {
            panic!("gen 3")
        };
        assert_eq!(
            state.updated_timestamp.as_deref(),
            Some("2025-02-28T18:00:00Z")
        );
    }

    #[test]
    fn timestamps_are_whole_seconds() {
        assert_eq!(
            format_timestamp(datetime!(2024-07-05 21:49:10.6 UTC)),
            "2024-07-05T21:49:11Z"
        );
        assert_eq!(
            format_millis(datetime!(2024-07-05 17:36:59.347891 UTC)),
            "2024-07-05T17:36:59.347Z"
        );
    }
}
