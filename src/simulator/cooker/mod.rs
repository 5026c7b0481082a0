//! One simulated cooker: identity, simulated clock, water bath, alarms, and its generation's
//! state machine behind the one [`CookerMachine`] interface.
//!
//! Pure: the owner passes the simulated time step to [`SimCooker::advance`] and the wall clock
//! to [`SimCooker::state_event`]; nothing here sleeps or reads a clock.
//!
//! **Time scaling.** The cooker keeps its own simulated clock (seconds). Every instant it
//! remembers (cook start, stage start, timer start) is a simulated instant, and is reported as
//! `wall_now − (simulated_now − simulated_instant)`. Clients compute a Gen 3 timer's remaining
//! time as `initial − (now − startedAtTimestamp)` with their real clock, so this projection makes
//! them see the scaled countdown; at speed 1 it is the plain truth. `updatedTimestamp` is the
//! real now. Gen 2 reports countdowns in simulated seconds directly.

mod gen2;
mod gen3;
pub(crate) mod machine;

use super::clock::OFFLINE_AT_START;
use super::config::{SimCookerSpec, SpecError};
use super::thermal::{WaterBath, MAX_ICE_RATIO};
use super::wire::client::ApcCommand;
use super::wire::{self, DeviceType, EventName, ListEntry, Millis, TemperatureUnit, Utf8Bytes};
use gen2::Gen2Machine;
use gen3::Gen3Machine;
use machine::{Alarm, Alarms, CookerMachine, CookerStage, Device, AT_TEMPERATURE_WINDOW_C};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// The generation-specific part; [`Machine::get`] is the one place that tells them apart.
#[derive(Debug, Clone, PartialEq)]
enum Machine {
    Gen3(Gen3Machine),
    Gen2(Gen2Machine),
}

impl Machine {
    fn get(&self) -> &dyn CookerMachine {
        match self {
            Self::Gen3(m) => m,
            Self::Gen2(m) => m,
        }
    }

    fn get_mut(&mut self) -> &mut dyn CookerMachine {
        match self {
            Self::Gen3(m) => m,
            Self::Gen2(m) => m,
        }
    }
}

/// Which generation a cooker type is, if it is one we simulate (`docs/anova-protocol.md` §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generation {
    Gen3,
    Gen2,
}

fn generation(device_type: &DeviceType) -> Option<Generation> {
    match device_type.as_str().to_ascii_lowercase().as_str() {
        "a6" | "a7" | "a8" | "a9" => Some(Generation::Gen3),
        "a4" | "a5" | "pro" | "honey-badger" => Some(Generation::Gen2),
        _ => None,
    }
}

/// One simulated cooker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimCooker {
    device: Device,
    machine: Machine,
    /// Preheat rate, °C per simulated second.
    heat_rate_c_per_s: f64,
    /// Since when the cooker has been unplugged (no pushes, frozen, `online:false`).
    silent_since: Option<OffsetDateTime>,
}

/// How far one call to [`SimCooker::advance`] went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Advanced {
    /// Simulated seconds actually advanced (less than asked when a transition came first).
    pub(crate) simulated_s: f64,
    /// The stage changed at the end of this advance.
    pub(crate) transition: bool,
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
    /// Where the cook is.
    pub stage: CookerStage,
    /// Water temperature, °C (exact, without noise).
    pub water_temperature_c: f64,
    /// Ice still floating in the bath, kg per kg of water.
    pub ice_ratio: f64,
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

impl SimCooker {
    /// Builds a cooker from its spec. `started` is the wall time the simulation starts;
    /// `noise` enables the sensor wobble; `heat_rate_c_per_min` is the preheat rate.
    pub(crate) fn new(
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
        if !(0.0..=MAX_ICE_RATIO).contains(&spec.ice_ratio) {
            return Err(SpecError::Ice(spec.cooker_id.clone()));
        }
        let (target, timer, unit) = (spec.target_temperature_c, spec.timer_s, spec.display_unit);
        let machine = match generation(&spec.device_type) {
            Some(Generation::Gen3) => Machine::Gen3(Gen3Machine::new(target, timer, unit)),
            Some(Generation::Gen2) => Machine::Gen2(Gen2Machine::new(target, timer, unit)),
            None => {
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
                    .unwrap_or_else(|| Millis(started - Duration::days(30)).to_string()),
                firmware: spec.firmware.clone(),
                clock_s: 0.0,
                water: if spec.ice_ratio > 0.0 {
                    WaterBath::ice_bath(spec.ice_ratio)
                } else {
                    WaterBath::new(spec.water_temperature_c)
                },
                alarms: Alarms::default(),
                noise_phase: noise.then_some(phase),
                online: silent_since.is_none(),
                last_connected,
                last_disconnected,
                firmware_updated: started - Duration::days(60),
                epoch: started,
            },
            machine,
            heat_rate_c_per_s: heat_rate_c_per_min / 60.0,
            silent_since,
        })
    }

    /// A cooker of the load generator: already cooking at `setpoint_c` without a timer, its
    /// water set from outside ([`Self::set_water`]) rather than by the physics.
    pub(crate) fn cooking(
        spec: &SimCookerSpec,
        setpoint_c: f64,
        started: OffsetDateTime,
    ) -> Result<Self, SpecError> {
        let mut cooker = Self::new(spec, started, false, 1.0)?;
        cooker.machine = match cooker.machine {
            Machine::Gen3(_) => Machine::Gen3(Gen3Machine::cooking(setpoint_c, 0.0)),
            Machine::Gen2(_) => Machine::Gen2(Gen2Machine::cooking(setpoint_c, 0.0)),
        };
        Ok(cooker)
    }

    /// The cloud's id.
    pub(crate) fn cooker_id(&self) -> &str {
        &self.device.cooker_id
    }

    /// The device type.
    pub(crate) fn device_type(&self) -> &DeviceType {
        &self.device.device_type
    }

    /// True while unplugged.
    pub(crate) fn is_silent(&self) -> bool {
        self.silent_since.is_some()
    }

    /// True while a cook runs (selects the cooking push interval).
    pub(crate) fn is_cooking(&self) -> bool {
        self.machine.get().heating_target().is_some()
    }

    /// Moves a load cooker to simulated second `clock_s` with its water at `temperature_c`
    /// (the load generator's waveform instead of the physics).
    pub(crate) fn set_load_state(&mut self, clock_s: f64, temperature_c: f64) {
        self.device.clock_s = self.device.clock_s.max(clock_s);
        self.device.water.temperature_c = temperature_c;
    }

    fn update(&mut self) -> bool {
        let (clock, water) = (self.device.clock_s, self.device.water.temperature_c);
        self.machine.get_mut().update(clock, water)
    }

    /// Advances the simulated clock by up to `dt_s` simulated seconds: the water moves, and the
    /// stage and timer react. It stops right after a stage change (preheat done, timer started
    /// or done), at the exact simulated instant, so the owner can push that state before going
    /// on with the rest of `dt_s`. A silent (unplugged) cooker is frozen.
    pub(crate) fn advance(&mut self, dt_s: f64) -> Advanced {
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
            let machine = self.machine.get();
            let mut step = (dt_s - advanced.simulated_s).min(max_step);
            if let Some(deadline) = machine
                .next_deadline(self.device.clock_s)
                .filter(|d| *d > 1e-9)
            {
                step = step.min(deadline);
            }
            let heating = machine
                .heating_target()
                .filter(|_| self.device.alarms.heater_allowed());
            // Also stop where the rising water enters the window, so the timer starts at the
            // exact simulated instant.
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
    pub(crate) fn apply(&mut self, command: &ApcCommand, request_id: &str) -> bool {
        let (clock, water) = (self.device.clock_s, self.device.water.temperature_c);
        let changed = self
            .machine
            .get_mut()
            .apply(command, request_id, clock, water);
        if changed {
            self.update();
        }
        changed
    }

    /// Replaces the bath with ice water at [`ICE_WATER_C`](super::thermal::ICE_WATER_C) holding
    /// `ice_ratio` kg of ice per kg of water (clamped to 0..=[`MAX_ICE_RATIO`]); a running cook
    /// goes on heating it.
    pub(crate) fn set_ice_bath(&mut self, ice_ratio: f64) {
        self.device.water = WaterBath::ice_bath(ice_ratio);
    }

    /// Raises or clears an alarm. Returns true when that changed anything.
    pub(crate) fn set_alarm(&mut self, alarm: Alarm, raised: bool) -> bool {
        let flag = self.device.alarms.flag(alarm);
        let changed = *flag != raised;
        *flag = raised;
        changed
    }

    /// Unplugs (`silent`) or plugs back the cooker at wall time `now`. Returns true on a change.
    pub(crate) fn set_silent(&mut self, silent: bool, _wall: OffsetDateTime) -> bool {
        let now = self.device.world_now();
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
    pub(crate) fn list_entry(&self) -> ListEntry<'_> {
        ListEntry {
            cooker_id: &self.device.cooker_id,
            device_type: &self.device.device_type,
            name: &self.device.name,
            paired_at: &self.device.paired_at,
        }
    }

    /// The `EVENT_APC_STATE` frame the cloud holds for this cooker at wall time `now`. For an
    /// unplugged cooker that is the last state it reported, as of when it went silent
    /// (`online:false` and a stale `updatedTimestamp` on Gen 3).
    pub(crate) fn state_event(&self, _wall: OffsetDateTime) -> Utf8Bytes {
        let now = self.silent_since.unwrap_or_else(|| self.device.world_now());
        wire::state_event(
            EventName::ApcState,
            &self.device.cooker_id,
            &self.device.device_type,
            |out| self.machine.get().write_state(&self.device, now, out),
        )
    }

    /// The water temperature as the last rendered frame reports it.
    pub(crate) fn reported_water_c(&self) -> f64 {
        self.device.reported_water_c()
    }

    /// A read-only view for assertions.
    pub(crate) fn snapshot(&self) -> CookerSnapshot {
        let clock = self.device.clock_s;
        let machine = self.machine.get();
        let alarms = self.device.alarms;
        let stage = if machine.alarm_replaces_mode(&alarms) {
            CookerStage::Alarm
        } else {
            machine.stage()
        };
        CookerSnapshot {
            cooker_id: self.device.cooker_id.clone(),
            device_type: self.device.device_type.to_string(),
            name: self.device.name.clone(),
            stage,
            water_temperature_c: self.device.water.temperature_c,
            ice_ratio: self.device.water.ice_ratio(),
            target_temperature_c: machine.target_c(),
            timer_s: machine.timer_s(),
            timer_remaining_s: machine.timer_remaining_s(clock),
            display_unit: machine.display_unit(),
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
    use crate::simulator::wire::client::CookerRef;
    use serde_json::Value;
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

    /// The `state` body of the frame at `now`.
    fn state(cooker: &SimCooker, now: OffsetDateTime) -> Value {
        let frame: Value = serde_json::from_str(&cooker.state_event(now)).unwrap();
        assert_eq!(frame["command"], "EVENT_APC_STATE");
        assert_eq!(frame["payload"]["cookerId"], cooker.cooker_id());
        frame["payload"]["state"].clone()
    }

    #[test]
    fn a_cooker_can_start_in_an_ice_bath() {
        let spec = SimCookerSpec {
            ice_ratio: 0.25,
            water_temperature_c: 18.0,
            ..SimCookerSpec::a7("ICE", "Ice")
        };
        let mut cooker = SimCooker::new(&spec, NOW, false, 1.0).unwrap();
        let snapshot = cooker.snapshot();
        assert_eq!(snapshot.water_temperature_c, super::super::ICE_WATER_C);
        assert_eq!(snapshot.ice_ratio, 0.25);
        run(&mut cooker, 3600.0);
        let snapshot = cooker.snapshot();
        assert_eq!(snapshot.water_temperature_c, super::super::ICE_WATER_C);
        assert!(snapshot.ice_ratio > 0.0 && snapshot.ice_ratio < 0.25);
        for ice_ratio in [-0.1, 1.5, f64::NAN] {
            let spec = SimCookerSpec {
                ice_ratio,
                ..spec.clone()
            };
            assert_eq!(
                SimCooker::new(&spec, NOW, false, 1.0),
                Err(SpecError::Ice("ICE".into()))
            );
        }
    }

    #[test]
    fn unsupported_types_are_refused() {
        for device_type in ["oven_v2", "a3", ""] {
            let spec = SimCookerSpec {
                device_type: DeviceType::new(device_type),
                ..SimCookerSpec::a7("X", "Oven")
            };
            assert!(matches!(
                SimCooker::new(&spec, NOW, false, 1.0),
                Err(SpecError::UnsupportedType { .. })
            ));
        }
    }

    #[test]
    fn gen3_times_are_on_the_simulated_worlds_clock() {
        let mut cooker = a7();
        cooker.apply(&start(&cooker, 120), "r1");
        // 0.7 °C at 5 °C/min: 8.4 s of preheat, then 100 s of the timer.
        assert!(run(&mut cooker, 108.4));
        let state = state(&cooker, NOW);
        assert_eq!(state["nodes"]["timer"]["mode"], "running");
        // The world's clock started at NOW: the timer started 8.4 simulated seconds in, the
        // state is 108.4 s in, so 20 s are left on the same clock, whatever the speed.
        assert_eq!(
            state["nodes"]["timer"]["startedAtTimestamp"],
            "2025-03-01T12:00:08Z"
        );
        assert_eq!(state["updatedTimestamp"], "2025-03-01T12:01:48Z");
        assert_eq!(state["cook"]["activeStageMode"], "running");
        assert_eq!(cooker.snapshot().timer_remaining_s, 20);
    }

    #[test]
    fn gen3_whole_cook() {
        let mut cooker = a7();
        assert_eq!(cooker.snapshot().stage, CookerStage::Idle);
        assert!(state(&cooker, NOW).get("cook").is_none());
        cooker.apply(&start(&cooker, 120), "r1");
        assert_eq!(cooker.snapshot().stage, CookerStage::Preheating);
        let preheating = state(&cooker, NOW);
        assert_eq!(preheating["state"]["mode"], "cook");
        assert_eq!(preheating["cook"]["activeStageMode"], "entering");
        assert!(run(&mut cooker, 9.0));
        assert_eq!(cooker.snapshot().stage, CookerStage::Cooking);
        assert!(!run(&mut cooker, 100.0));
        assert!(run(&mut cooker, 30.0));
        assert_eq!(cooker.snapshot().stage, CookerStage::Maintaining);
        let done = state(&cooker, NOW);
        assert_eq!(done["nodes"]["timer"]["mode"], "completed");
        assert!(done["nodes"]["timer"].get("startedAtTimestamp").is_none());
        assert_eq!(done["state"]["mode"], "cook");
        let stop = ApcCommand::Stop {
            cooker: CookerRef {
                cooker_id: "A7".into(),
                device_type: DeviceType::new("a7"),
            },
        };
        cooker.apply(&stop, "r2");
        assert_eq!(cooker.snapshot().stage, CookerStage::Idle);
        let idle = state(&cooker, NOW);
        assert_eq!(idle["state"]["mode"], "idle");
        assert_eq!(idle["state"]["processedCommandIds"][4], "r2");
    }

    #[test]
    fn gen2_whole_cook() {
        let mut cooker = pro();
        cooker.apply(&start(&cooker, 120), "r1");
        assert_eq!(state(&cooker, NOW)["job-status"]["state"], "PREHEATING");
        assert!(run(&mut cooker, 9.0));
        let cooking = state(&cooker, NOW);
        assert_eq!(cooking["job-status"]["state"], "COOKING");
        let remaining = cooking["job-status"]["cook-time-remaining"]
            .as_i64()
            .unwrap();
        assert!((119..=120).contains(&remaining), "{remaining}");
        assert!(run(&mut cooker, 130.0));
        let maintaining = state(&cooker, NOW);
        assert_eq!(maintaining["job-status"]["state"], "MAINTAINING");
        assert!(
            maintaining["job-status"]["cook-time-remaining"]
                .as_i64()
                .unwrap()
                > 0
        );
        assert_eq!(maintaining["job"]["id"], "r1");
    }

    #[test]
    fn alarms_show_in_the_state_and_stop_the_heater() {
        let mut cooker = a7();
        cooker.apply(&start(&cooker, 0), "r1");
        assert!(cooker.set_alarm(Alarm::WaterCritical, true));
        assert!(!cooker.set_alarm(Alarm::WaterCritical, true));
        let body = state(&cooker, NOW);
        assert_eq!(body["state"]["mode"], "lowWater");
        assert_eq!(body["nodes"]["lowWater"]["empty"], true);
        let before = cooker.snapshot().water_temperature_c;
        run(&mut cooker, 60.0);
        assert!(cooker.snapshot().water_temperature_c < before, "heater off");
        assert_eq!(cooker.snapshot().stage, CookerStage::Alarm);

        let mut pro = pro();
        pro.set_alarm(Alarm::HighTemp, true);
        assert_eq!(state(&pro, NOW)["job"]["mode"], "HIGH TEMP");
        assert_eq!(pro.snapshot().stage, CookerStage::Alarm);
        pro.set_alarm(Alarm::HighTemp, false);
        pro.set_alarm(Alarm::LowWater, true);
        let body = state(&pro, NOW);
        assert_eq!(body["pin-info"]["water-level-low"], 1);
        assert_eq!(
            body["job"]["mode"], "IDLE",
            "a warning does not replace the mode"
        );
        assert_eq!(pro.snapshot().stage, CookerStage::Idle);
        // Failed triacs: a flag on Gen 3, a failure mode on Gen 2.
        pro.set_alarm(Alarm::TriacFailed, true);
        assert_eq!(pro.snapshot().stage, CookerStage::Alarm);
        let mut a7 = a7();
        a7.set_alarm(Alarm::TriacFailed, true);
        assert_eq!(a7.snapshot().stage, CookerStage::Idle);
        assert_eq!(state(&a7, NOW)["systemInfo"]["triacsFailed"], true);
    }

    #[test]
    fn a_silent_cooker_is_frozen_and_reports_its_last_state_offline() {
        let mut cooker = a7();
        run(&mut cooker, 3600.0);
        assert!(cooker.set_silent(true, NOW));
        assert!(!run(&mut cooker, 600.0));
        // Its last report, an hour into the simulated world, whatever the real time.
        let body = state(&cooker, NOW + Duration::hours(5));
        assert_eq!(body["updatedTimestamp"], "2025-03-01T13:00:00Z");
        assert_eq!(body["systemInfo"]["online"], false);
        assert!(cooker.set_silent(false, NOW));
        assert_eq!(state(&cooker, NOW)["systemInfo"]["online"], true);
    }

    #[test]
    fn a_cooker_can_start_unplugged() {
        let spec = SimCookerSpec {
            silent: true,
            ..SimCookerSpec::a7("A7", "Kitchen")
        };
        let cooker = SimCooker::new(&spec, NOW, false, 1.0).unwrap();
        assert_eq!(
            state(&cooker, NOW)["updatedTimestamp"],
            "2025-02-28T18:00:00Z"
        );
    }

    #[test]
    fn load_cookers_cook_with_the_water_they_are_given() {
        for spec in [SimCookerSpec::a7("L1", "l"), SimCookerSpec::pro("L2", "l")] {
            let mut cooker = SimCooker::cooking(&spec, 55.0, NOW).unwrap();
            assert!(cooker.is_cooking());
            assert_eq!(cooker.snapshot().stage, CookerStage::Cooking);
            cooker.set_load_state(10.0, 54.2);
            assert_eq!(cooker.reported_water_c(), 54.2);
            assert_eq!(cooker.snapshot().simulated_s, 10.0);
        }
    }
}
