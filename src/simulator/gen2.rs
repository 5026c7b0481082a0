//! The Gen 2 cooker (`pro`, also used for `a4`/`a5`): the state machine of
//! `anova-protocol.md` §6.4 and its kebab-case rendering, shaped like the real capture
//! `EVENT_APC_STATE.pro.preheating.real.json`. Every temperature is °C whatever the display unit.
//!
//! Pure: no clock, no I/O. Gen 2 reports countdowns, not timestamps, so everything counts in
//! simulated seconds directly.
//!
//! Provenance (\[LIVE] observed, \[INF] our inference):
//! - \[LIVE] START creates `job{mode:COOK, id:<requestId>}` and `PREHEATING`; at temperature
//!   `COOKING` counts down; at 0 `MAINTAINING` with `cook-time-remaining` counting back up;
//!   STOP → `IDLE` with `job-status.state:""`; SET_TARGET_TEMP while idle is acknowledged and
//!   ignored; SET_TIMER while idle updates `cook-time-seconds`.
//! - \[INF] "at temperature" is the same ±0.3 °C window as Gen 3; without a timer the cook stays
//!   `COOKING` with 0 remaining; SET_TIMER while counting keeps the countdown's start (a first
//!   timer on a timerless cook starts now); SET_TARGET_TEMP outside the window sends a cook
//!   whose countdown has not started back to `PREHEATING`; START without `timer` means no timer;
//!   one rendering (the Pro's) for every Gen 2 type.

use super::cooker::Device;
use super::gen3::in_window;
use super::thermal::{round2, AMBIENT_C};
use crate::anova::model::Stage;
use crate::anova::protocol::{
    ApcCommand, AudioControl, DutyCycle, Gen2State, Job, JobMode, JobState, JobStatus, MotorInfo,
    PinInfo, SystemInfoBlock, TemperatureInfo, TemperatureUnit,
};
use serde_json::{json, Map, Value};

/// The Pro's systick when the simulation starts (about 40 hours of uptime, like the capture).
const BOOT_SYSTICK_MS: f64 = 146_000_000.0;

/// Where the job is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No job: `job.mode:IDLE`, `job-status.state:""`.
    Idle,
    /// Heating towards the target.
    Preheating,
    /// At temperature since `since_s` (the countdown's start when there is a timer).
    Cooking { since_s: f64 },
    /// The timer ran out at `ended_s`; holding, the remaining time counts up.
    Maintaining { ended_s: f64 },
}

/// The Gen 2 state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Gen2Machine {
    job_id: String,
    target_c: f64,
    cook_time_s: u32,
    display_unit: TemperatureUnit,
    phase: Phase,
    job_start_s: f64,
    state_change_s: f64,
}

impl Gen2Machine {
    /// An idle cooker whose last job had `target_c` and `timer_s`.
    pub fn new(target_c: f64, timer_s: u32, display_unit: TemperatureUnit) -> Self {
        Self {
            job_id: new_job_id(),
            target_c: round2(target_c),
            cook_time_s: timer_s,
            display_unit,
            phase: Phase::Idle,
            job_start_s: 0.0,
            state_change_s: 0.0,
        }
    }

    /// The setpoint the heater works towards, while a job runs.
    pub fn heating_target(&self) -> Option<f64> {
        (self.phase != Phase::Idle).then_some(self.target_c)
    }

    /// Simulated seconds until the countdown ends, so the owner can stop a physics step there.
    pub fn next_deadline(&self, clock_s: f64) -> Option<f64> {
        match self.phase {
            Phase::Cooking { since_s } if self.cook_time_s > 0 => {
                Some((since_s + f64::from(self.cook_time_s) - clock_s).max(0.0))
            }
            _ => None,
        }
    }

    /// Lets the job react to the water and the clock. Returns true on a change of
    /// `job-status.state`.
    pub fn update(&mut self, clock_s: f64, water_c: f64) -> bool {
        let before = self.phase;
        if self.phase == Phase::Preheating && in_window(water_c, self.target_c) {
            self.phase = Phase::Cooking { since_s: clock_s };
        }
        if let Phase::Cooking { since_s } = self.phase {
            let end_s = since_s + f64::from(self.cook_time_s);
            if self.cook_time_s > 0 && clock_s >= end_s - 1e-9 {
                self.phase = Phase::Maintaining { ended_s: end_s };
            }
        }
        let changed = std::mem::discriminant(&before) != std::mem::discriminant(&self.phase);
        if changed {
            self.state_change_s = clock_s;
        }
        changed
    }

    /// Applies one routed command. Returns false when the device ignores it (SET_TARGET_TEMP
    /// while idle, the real quirk). The owner calls [`Self::update`] next.
    pub fn apply(
        &mut self,
        command: &ApcCommand,
        request_id: &str,
        clock_s: f64,
        water_c: f64,
    ) -> bool {
        match command {
            ApcCommand::Start {
                target_temperature,
                unit,
                timer,
                ..
            } => {
                self.job_id = request_id.to_owned();
                self.target_c = round2(unit.to_celsius(*target_temperature));
                self.cook_time_s = timer.unwrap_or(0);
                self.phase = Phase::Preheating;
                self.job_start_s = clock_s;
                self.state_change_s = clock_s;
            }
            ApcCommand::Stop { .. } => {
                self.phase = Phase::Idle;
                self.state_change_s = clock_s;
            }
            ApcCommand::SetTargetTemp {
                target_temperature,
                unit,
                ..
            } => {
                if self.phase == Phase::Idle {
                    return false;
                }
                self.target_c = round2(unit.to_celsius(*target_temperature));
                let countdown_started = match self.phase {
                    Phase::Cooking { .. } => self.cook_time_s > 0,
                    Phase::Maintaining { .. } => true,
                    Phase::Idle | Phase::Preheating => false,
                };
                if !countdown_started && !in_window(water_c, self.target_c) {
                    self.phase = Phase::Preheating;
                    self.state_change_s = clock_s;
                }
            }
            ApcCommand::SetTimer { timer, .. } => {
                if let Phase::Cooking { since_s } = &mut self.phase {
                    if self.cook_time_s == 0 {
                        *since_s = clock_s;
                    }
                }
                self.cook_time_s = *timer;
            }
            ApcCommand::SetTemperatureUnit { unit, .. } => self.display_unit = *unit,
        }
        true
    }

    /// The derived stage (as our normaliser would read it), ignoring alarms.
    pub fn stage(&self) -> Stage {
        match self.phase {
            Phase::Idle => Stage::Idle,
            Phase::Preheating => Stage::Preheating,
            Phase::Cooking { .. } => Stage::Cooking,
            Phase::Maintaining { .. } => Stage::Maintaining,
        }
    }

    /// `job.target-temperature`, °C.
    pub fn target_c(&self) -> f64 {
        self.target_c
    }

    /// `job.cook-time-seconds`.
    pub fn timer_s(&self) -> u32 {
        self.cook_time_s
    }

    /// The display unit.
    pub fn display_unit(&self) -> TemperatureUnit {
        self.display_unit
    }

    /// Seconds left on the countdown (0 when idle, without a timer, or expired).
    pub fn timer_remaining_s(&self, clock_s: f64) -> u32 {
        match self.phase {
            Phase::Idle | Phase::Maintaining { .. } => 0,
            Phase::Preheating => self.cook_time_s,
            Phase::Cooking { .. } if self.cook_time_s == 0 => 0,
            Phase::Cooking { since_s } => {
                let left = f64::from(self.cook_time_s) - (clock_s - since_s);
                // Bounded by the u32 timer above, so the cast cannot truncate.
                left.max(0.0).ceil() as u32
            }
        }
    }

    /// `job-status.cook-time-remaining`: the countdown, or after expiry the time spent
    /// maintaining.
    fn cook_time_remaining(&self, clock_s: f64) -> i64 {
        match self.phase {
            Phase::Maintaining { ended_s } => (clock_s - ended_s).max(0.0).floor() as i64,
            _ => i64::from(self.timer_remaining_s(clock_s)),
        }
    }

    /// Renders the kebab-case state body.
    pub fn render(&self, device: &Device) -> Gen2State {
        let alarms = &device.alarms;
        let clock_s = device.clock_s;
        let water_c = device.reported_water_c();
        let cooking = self.phase != Phase::Idle;
        let mode = if alarms.water_critical {
            JobMode::LowWater
        } else if alarms.high_temp {
            JobMode::HighTemp
        } else if alarms.water_leak || alarms.motor_stuck || alarms.triac_failed {
            JobMode::DeviceFailure
        } else if cooking {
            JobMode::Cook
        } else {
            JobMode::Idle
        };
        let heater_duty = match self.heating_target() {
            Some(_) if !alarms.heater_allowed() => 0.0,
            Some(target) if device.water.temperature_c < target - 0.3 => 99.9,
            Some(_) => 18.5,
            None => 0.0,
        };
        let pin = |raised: bool| Some(i64::from(raised));
        let systick = |at_s: f64| (BOOT_SYSTICK_MS + at_s * 1000.0).round() as i64;
        Gen2State {
            audio_control: Some(AudioControl {
                file_name: Some(String::new()),
                volume: Some(24),
            }),
            boot_id: Some(String::new()),
            cap_touch: Some(zeros(&[
                "minus-button",
                "play-button",
                "plus-button",
                "target-temperature-button",
                "timer-button",
                "water-temperature-button",
            ])),
            heater_control: Some(DutyCycle {
                duty_cycle: Some(heater_duty),
            }),
            job: Some(Job {
                cook_time_seconds: Some(i64::from(self.cook_time_s)),
                id: Some(self.job_id.clone()),
                mode: Some(mode),
                ota_url: Some(String::new()),
                target_temperature: Some(self.target_c),
                temperature_unit: Some(self.display_unit),
            }),
            job_status: Some(JobStatus {
                cook_time_remaining: Some(self.cook_time_remaining(clock_s)),
                job_start_systick: Some(systick(self.job_start_s)),
                provisioning_pairing_code: Some(0),
                state: Some(match self.phase {
                    Phase::Idle => JobState::Idle,
                    Phase::Preheating => JobState::Preheating,
                    Phase::Cooking { .. } => JobState::Cooking,
                    Phase::Maintaining { .. } => JobState::Maintaining,
                }),
                state_change_systick: Some(systick(self.state_change_s)),
            }),
            motor_control: Some(DutyCycle {
                duty_cycle: Some(if cooking && !alarms.motor_stuck {
                    74.925
                } else {
                    0.0
                }),
            }),
            motor_info: Some(MotorInfo { rpm: Some(0.0) }),
            network_info: Some(object(json!({
                "bssid": "00:11:22:33:44:55",
                "connection-status": "connected-station",
                "is-provisioning": false,
                "mac-address": "66:77:88:99:AA:BB",
                "mode": "station",
                "security-type": "WPA2",
                "ssid": "HomeWiFi",
            }))),
            pin_info: Some(PinInfo {
                device_safe: Some(1),
                motor_stuck: pin(alarms.motor_stuck),
                water_leak: pin(alarms.water_leak),
                water_level_critical: pin(alarms.water_critical),
                water_level_low: pin(alarms.low_water || alarms.water_critical),
                water_temp_too_high: None,
            }),
            system_info: None,
            system_info_3220: Some(SystemInfoBlock {
                firmware_version: Some(device.firmware.clone()),
                version_string: None,
                other: object(json!({
                    "firmware-version-sha": device.firmware,
                    "fwUpgradeStatus": 0,
                    "has-real-cert-catalog": true,
                    "largest-free-heap-size": 20432,
                    "systick": systick(clock_s),
                    "total-free-heap-size": 21376,
                    "total-heap-size": 65536,
                })),
            }),
            system_info_2640: Some(SystemInfoBlock {
                firmware_version: Some(device.firmware.clone()),
                version_string: None,
                other: object(json!({
                    "firmware-version-sha": device.firmware,
                    "largest-free-heap-size": 1208,
                    "mcu-temperature": 23,
                    "systick": systick(clock_s),
                    "total-free-heap-size": 1208,
                    "total-heap-size": 16384,
                })),
            }),
            system_info_nxp: None,
            system_info_details: None,
            temperature_info: Some(TemperatureInfo {
                heater_temperature: Some(round2(water_c + heater_duty / 100.0 * 1.3)),
                triac_temperature: Some(round2(AMBIENT_C + heater_duty / 100.0 * 12.0)),
                water_temperature: Some(water_c),
            }),
        }
    }
}

/// A JSON object literal as a map (anything else becomes an empty map).
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn zeros(keys: &[&str]) -> Map<String, Value> {
    keys.iter().map(|k| ((*k).to_owned(), json!(0))).collect()
}

/// Gen 2 job ids look like the app's request ids: 22 hex digits.
fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..22].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anova::protocol::{CookerRef, DeviceType};

    fn cooker() -> CookerRef {
        CookerRef {
            cooker_id: "p".into(),
            device_type: DeviceType::new("pro"),
        }
    }

    fn start(timer: Option<u32>) -> ApcCommand {
        ApcCommand::Start {
            cooker: cooker(),
            target_temperature: 60.0,
            unit: TemperatureUnit::C,
            timer,
        }
    }

    fn set_target(t: f64) -> ApcCommand {
        ApcCommand::SetTargetTemp {
            cooker: cooker(),
            target_temperature: t,
            unit: TemperatureUnit::C,
        }
    }

    #[test]
    fn start_preheat_countdown_maintain_stop() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        assert!(m.apply(&start(Some(120)), "req-1", 0.0, 50.0));
        assert_eq!(m.job_id, "req-1");
        assert_eq!(m.stage(), Stage::Preheating);
        assert_eq!(m.cook_time_remaining(0.0), 120);

        assert!(m.update(30.0, 59.8));
        assert_eq!(m.stage(), Stage::Cooking);
        assert_eq!(m.cook_time_remaining(60.0), 90);
        assert_eq!(m.next_deadline(60.0), Some(90.0));

        assert!(m.update(150.0, 60.0));
        assert_eq!(m.stage(), Stage::Maintaining);
        // Counting back up after expiry.
        assert_eq!(m.cook_time_remaining(175.0), 25);

        assert!(m.apply(&ApcCommand::Stop { cooker: cooker() }, "r", 200.0, 60.0));
        assert_eq!(m.stage(), Stage::Idle);
        assert_eq!(m.cook_time_remaining(200.0), 0);
        assert_eq!(m.heating_target(), None);
    }

    #[test]
    fn without_a_timer_it_stays_cooking_with_zero_remaining() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        m.apply(&start(None), "r", 0.0, 59.9);
        m.update(0.0, 59.9);
        assert_eq!(m.stage(), Stage::Cooking);
        assert!(!m.update(100_000.0, 60.0));
        assert_eq!(m.cook_time_remaining(100_000.0), 0);
    }

    #[test]
    fn set_target_while_idle_is_ignored() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        let before = m.clone();
        assert!(!m.apply(&set_target(70.0), "r", 0.0, 20.0));
        assert_eq!(m, before);
    }

    #[test]
    fn set_target_while_cooking_changes_it() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        m.apply(&start(Some(600)), "r", 0.0, 60.0);
        m.update(0.0, 60.0);
        assert!(m.apply(&set_target(65.0), "r2", 10.0, 60.0));
        assert_eq!(m.target_c(), 65.0);
        // The countdown already runs: it keeps running.
        assert_eq!(m.stage(), Stage::Cooking);

        let mut timerless = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        timerless.apply(&start(None), "r", 0.0, 60.0);
        timerless.update(0.0, 60.0);
        timerless.apply(&set_target(65.0), "r2", 10.0, 60.0);
        assert_eq!(timerless.stage(), Stage::Preheating);
    }

    #[test]
    fn set_timer_while_idle_updates_cook_time_seconds() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        m.apply(
            &ApcCommand::SetTimer {
                cooker: cooker(),
                timer: 1200,
            },
            "r",
            0.0,
            20.0,
        );
        assert_eq!(m.timer_s(), 1200);
        assert_eq!(m.stage(), Stage::Idle);
    }

    #[test]
    fn first_timer_on_a_timerless_cook_starts_now() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        m.apply(&start(None), "r", 0.0, 60.0);
        m.update(0.0, 60.0);
        m.apply(
            &ApcCommand::SetTimer {
                cooker: cooker(),
                timer: 100,
            },
            "r2",
            500.0,
            60.0,
        );
        assert_eq!(m.cook_time_remaining(550.0), 50);
        assert!(m.update(600.0, 60.0));
        assert_eq!(m.stage(), Stage::Maintaining);
    }

    #[test]
    fn job_id_looks_like_the_app() {
        let id = new_job_id();
        assert_eq!(id.len(), 22);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
