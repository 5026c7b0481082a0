//! The Gen 2 cooker (`pro`, also used for `a4`/`a5`/`honey-badger`): the state machine of
//! `docs/anova-protocol.md` §6.4 and its kebab-case rendering, key for key as the real capture
//! `EVENT_APC_STATE.pro.preheating.real.json`. Every temperature is °C whatever the display
//! unit. Gen 2 reports countdowns, not timestamps, so everything counts in simulated seconds.
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

use super::machine::{in_window, Alarms, CookerMachine, CookerStage, Device};
use crate::simulator::thermal::AMBIENT_C;
use crate::simulator::wire::client::ApcCommand;
use crate::simulator::wire::{round2, TemperatureUnit};
use serde::Serialize;
use time::OffsetDateTime;

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
pub(crate) struct Gen2Machine {
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
    pub(crate) fn new(target_c: f64, timer_s: u32, display_unit: TemperatureUnit) -> Self {
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

    /// A cooker already cooking at `target_c` without a timer (the load generator's cookers).
    pub(crate) fn cooking(target_c: f64, clock_s: f64) -> Self {
        Self {
            phase: Phase::Cooking { since_s: clock_s },
            job_start_s: clock_s,
            state_change_s: clock_s,
            ..Self::new(target_c, 0, TemperatureUnit::C)
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
}

impl CookerMachine for Gen2Machine {
    fn heating_target(&self) -> Option<f64> {
        (self.phase != Phase::Idle).then_some(self.target_c)
    }

    fn next_deadline(&self, clock_s: f64) -> Option<f64> {
        match self.phase {
            Phase::Cooking { since_s } if self.cook_time_s > 0 => {
                Some((since_s + f64::from(self.cook_time_s) - clock_s).max(0.0))
            }
            _ => None,
        }
    }

    fn update(&mut self, clock_s: f64, water_c: f64) -> bool {
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

    /// False for SET_TARGET_TEMP while idle (the real quirk: acknowledged, nothing changes).
    fn apply(
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

    fn stage(&self) -> CookerStage {
        match self.phase {
            Phase::Idle => CookerStage::Idle,
            Phase::Preheating => CookerStage::Preheating,
            Phase::Cooking { .. } => CookerStage::Cooking,
            Phase::Maintaining { .. } => CookerStage::Maintaining,
        }
    }

    /// `job.mode` turns into `LOW WATER`, `HIGH TEMP` or `DEVICE FAILURE` for every alarm but
    /// the low-water warning.
    fn alarm_replaces_mode(&self, alarms: &Alarms) -> bool {
        !alarms.heater_allowed()
    }

    fn target_c(&self) -> f64 {
        self.target_c
    }

    fn timer_s(&self) -> u32 {
        self.cook_time_s
    }

    fn timer_remaining_s(&self, clock_s: f64) -> u32 {
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

    fn display_unit(&self) -> TemperatureUnit {
        self.display_unit
    }

    fn write_state(
        &self,
        device: &Device,
        _: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        serde_json::to_writer(out, &self.body(device))
    }
}

impl Gen2Machine {
    fn body<'a>(&'a self, device: &'a Device) -> Body<'a> {
        let alarms = &device.alarms;
        let clock_s = device.clock_s;
        let water_c = device.reported_water_c();
        let cooking = self.phase != Phase::Idle;
        let mode = if alarms.water_critical {
            "LOW WATER"
        } else if alarms.high_temp {
            "HIGH TEMP"
        } else if alarms.water_leak || alarms.motor_stuck || alarms.triac_failed {
            "DEVICE FAILURE"
        } else if cooking {
            "COOK"
        } else {
            "IDLE"
        };
        let heater_duty = match self.heating_target() {
            Some(_) if !alarms.heater_allowed() => 0.0,
            Some(target) if device.water.temperature_c < target - 0.3 => 99.9,
            Some(_) => 18.5,
            None => 0.0,
        };
        let pin = u8::from;
        let systick = |at_s: f64| (BOOT_SYSTICK_MS + at_s * 1000.0).round() as i64;
        Body {
            audio_control: AudioControl {
                file_name: "",
                volume: 24,
            },
            boot_id: "",
            cap_touch: CapTouch::default(),
            heater_control: DutyCycle {
                duty_cycle: heater_duty,
            },
            job: Job {
                cook_time_seconds: self.cook_time_s,
                id: &self.job_id,
                mode,
                ota_url: "",
                target_temperature: self.target_c,
                temperature_unit: self.display_unit,
            },
            job_status: JobStatus {
                cook_time_remaining: self.cook_time_remaining(clock_s),
                job_start_systick: systick(self.job_start_s),
                provisioning_pairing_code: 0,
                state: match self.phase {
                    Phase::Idle => "",
                    Phase::Preheating => "PREHEATING",
                    Phase::Cooking { .. } => "COOKING",
                    Phase::Maintaining { .. } => "MAINTAINING",
                },
                state_change_systick: systick(self.state_change_s),
            },
            motor_control: DutyCycle {
                duty_cycle: if cooking && !alarms.motor_stuck {
                    74.925
                } else {
                    0.0
                },
            },
            motor_info: MotorInfo { rpm: 0.0 },
            network_info: NetworkInfo {
                bssid: "00:11:22:33:44:55",
                connection_status: "connected-station",
                is_provisioning: false,
                mac_address: "66:77:88:99:AA:BB",
                mode: "station",
                security_type: "WPA2",
                ssid: "HomeWiFi",
            },
            pin_info: PinInfo {
                device_safe: 1,
                motor_stuck: pin(alarms.motor_stuck),
                water_leak: pin(alarms.water_leak),
                water_level_critical: pin(alarms.water_critical),
                water_level_low: pin(alarms.low_water || alarms.water_critical),
            },
            system_info_2640: SystemInfo2640 {
                firmware_version: &device.firmware,
                firmware_version_sha: &device.firmware,
                largest_free_heap_size: 1208,
                mcu_temperature: 23,
                systick: systick(clock_s),
                total_free_heap_size: 1208,
                total_heap_size: 16384,
            },
            system_info_3220: SystemInfo3220 {
                firmware_version: &device.firmware,
                firmware_version_sha: &device.firmware,
                fw_upgrade_status: 0,
                has_real_cert_catalog: true,
                largest_free_heap_size: 20432,
                systick: systick(clock_s),
                total_free_heap_size: 21376,
                total_heap_size: 65536,
            },
            temperature_info: TemperatureInfo {
                heater_temperature: round2(water_c + heater_duty / 100.0 * 1.3),
                triac_temperature: round2(AMBIENT_C + heater_duty / 100.0 * 12.0),
                water_temperature: water_c,
            },
        }
    }
}

/// Gen 2 job ids look like the app's request ids: 22 hex digits.
fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..22].to_owned()
}

// ----- The wire body, key for key as the capture -------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Body<'a> {
    audio_control: AudioControl,
    boot_id: &'static str,
    cap_touch: CapTouch,
    heater_control: DutyCycle,
    job: Job<'a>,
    job_status: JobStatus,
    motor_control: DutyCycle,
    motor_info: MotorInfo,
    network_info: NetworkInfo,
    pin_info: PinInfo,
    system_info_2640: SystemInfo2640<'a>,
    system_info_3220: SystemInfo3220<'a>,
    temperature_info: TemperatureInfo,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AudioControl {
    file_name: &'static str,
    volume: u8,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "kebab-case")]
struct CapTouch {
    minus_button: u8,
    play_button: u8,
    plus_button: u8,
    target_temperature_button: u8,
    timer_button: u8,
    water_temperature_button: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct DutyCycle {
    duty_cycle: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Job<'a> {
    cook_time_seconds: u32,
    id: &'a str,
    mode: &'static str,
    ota_url: &'static str,
    target_temperature: f64,
    temperature_unit: TemperatureUnit,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JobStatus {
    cook_time_remaining: i64,
    job_start_systick: i64,
    provisioning_pairing_code: u8,
    state: &'static str,
    state_change_systick: i64,
}

#[derive(Serialize)]
struct MotorInfo {
    rpm: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct NetworkInfo {
    bssid: &'static str,
    connection_status: &'static str,
    is_provisioning: bool,
    mac_address: &'static str,
    mode: &'static str,
    security_type: &'static str,
    ssid: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct PinInfo {
    device_safe: u8,
    motor_stuck: u8,
    water_leak: u8,
    water_level_critical: u8,
    water_level_low: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct SystemInfo2640<'a> {
    firmware_version: &'a str,
    firmware_version_sha: &'a str,
    largest_free_heap_size: u32,
    mcu_temperature: u8,
    systick: i64,
    total_free_heap_size: u32,
    total_heap_size: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct SystemInfo3220<'a> {
    firmware_version: &'a str,
    firmware_version_sha: &'a str,
    #[serde(rename = "fwUpgradeStatus")]
    fw_upgrade_status: u8,
    has_real_cert_catalog: bool,
    largest_free_heap_size: u32,
    systick: i64,
    total_free_heap_size: u32,
    total_heap_size: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct TemperatureInfo {
    heater_temperature: f64,
    triac_temperature: f64,
    water_temperature: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::wire::client::CookerRef;
    use crate::simulator::wire::DeviceType;

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
        assert_eq!(m.stage(), CookerStage::Preheating);
        assert_eq!(m.cook_time_remaining(0.0), 120);

        assert!(m.update(30.0, 59.8));
        assert_eq!(m.stage(), CookerStage::Cooking);
        assert_eq!(m.cook_time_remaining(60.0), 90);
        assert_eq!(m.next_deadline(60.0), Some(90.0));

        assert!(m.update(150.0, 60.0));
        assert_eq!(m.stage(), CookerStage::Maintaining);
        // Counting back up after expiry.
        assert_eq!(m.cook_time_remaining(175.0), 25);

        assert!(m.apply(&ApcCommand::Stop { cooker: cooker() }, "r", 200.0, 60.0));
        assert_eq!(m.stage(), CookerStage::Idle);
        assert_eq!(m.cook_time_remaining(200.0), 0);
        assert_eq!(m.heating_target(), None);
    }

    #[test]
    fn without_a_timer_it_stays_cooking_with_zero_remaining() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        m.apply(&start(None), "r", 0.0, 59.9);
        m.update(0.0, 59.9);
        assert_eq!(m.stage(), CookerStage::Cooking);
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
        assert_eq!(m.stage(), CookerStage::Cooking);

        let mut timerless = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        timerless.apply(&start(None), "r", 0.0, 60.0);
        timerless.update(0.0, 60.0);
        timerless.apply(&set_target(65.0), "r2", 10.0, 60.0);
        assert_eq!(timerless.stage(), CookerStage::Preheating);
    }

    #[test]
    fn set_timer_while_idle_updates_cook_time_seconds() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        let set = ApcCommand::SetTimer {
            cooker: cooker(),
            timer: 1200,
        };
        m.apply(&set, "r", 0.0, 20.0);
        assert_eq!(m.timer_s(), 1200);
        assert_eq!(m.stage(), CookerStage::Idle);
    }

    #[test]
    fn first_timer_on_a_timerless_cook_starts_now() {
        let mut m = Gen2Machine::new(55.0, 0, TemperatureUnit::C);
        m.apply(&start(None), "r", 0.0, 60.0);
        m.update(0.0, 60.0);
        let set = ApcCommand::SetTimer {
            cooker: cooker(),
            timer: 100,
        };
        m.apply(&set, "r2", 500.0, 60.0);
        assert_eq!(m.cook_time_remaining(550.0), 50);
        assert!(m.update(600.0, 60.0));
        assert_eq!(m.stage(), CookerStage::Maintaining);
    }

    #[test]
    fn job_id_looks_like_the_app() {
        let id = new_job_id();
        assert_eq!(id.len(), 22);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
