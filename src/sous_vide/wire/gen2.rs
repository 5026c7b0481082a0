//! Gen 2 cookers (`a4`, `a5`, `pro`, `honey-badger`): a kebab-case `job` / `job-status` body.

use crate::wire::device::TemperatureUnit;
use crate::wire::lenient::wire_enum;
use crate::wire::lenient::{self};
use serde::Deserialize;

wire_enum! {
    /// Gen 2 `job.mode` (note the spaces).
    pub enum JobMode {
        /// No cook.
        Idle = "IDLE",
        /// Cooking.
        Cook = "COOK",
        /// Booting.
        Startup = "STARTUP",
        /// Updating firmware.
        Ota = "OTA",
        /// Wi-Fi provisioning.
        Provisioning = "PROVISIONING",
        /// Over-temperature alarm.
        HighTemp = "HIGH TEMP",
        /// Hardware failure.
        DeviceFailure = "DEVICE FAILURE",
        /// Low-water alarm.
        LowWater = "LOW WATER",
    }
}

wire_enum! {
    /// Gen 2 `job-status.state`; not an exhaustive list.
    pub enum JobState {
        /// Idle.
        Idle = "",
        /// Heating up to the target.
        Preheating = "PREHEATING",
        /// At temperature, timer counting down.
        Cooking = "COOKING",
        /// Timer done, holding temperature (the remaining time counts back up).
        Maintaining = "MAINTAINING",
        /// Timer done (some firmware).
        TimerExpired = "TIMER EXPIRED",
        /// Setting the timer on the device.
        SetTimer = "SET TIMER",
        /// Seen after boot; "ready to cook".
        StartCook = "START_COOK",
    }
}

/// Gen 2 kebab-case state (`a4`, `a5`, `pro`, `honey-badger`). Temperatures are °C whatever the
/// display unit.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Gen2State {
    /// Speaker.
    #[serde(default)]
    pub audio_control: Option<AudioControl>,
    /// Boot id.
    #[serde(default)]
    pub boot_id: Option<String>,
    /// Heater duty cycle (Pro).
    #[serde(default)]
    pub heater_control: Option<DutyCycle>,
    /// The cook job.
    #[serde(default)]
    pub job: Option<Job>,
    /// The job's progress.
    #[serde(default)]
    pub job_status: Option<JobStatus>,
    /// Pump duty cycle (Pro).
    #[serde(default)]
    pub motor_control: Option<DutyCycle>,
    /// Pump speed (Pro).
    #[serde(default)]
    pub motor_info: Option<MotorInfo>,
    /// Alarm pins.
    #[serde(default)]
    pub pin_info: Option<PinInfo>,
    /// Firmware block (a5).
    #[serde(default)]
    pub system_info: Option<SystemInfoBlock>,
    /// Firmware block of the CC3220 (a4, Pro).
    #[serde(default, rename = "system-info-3220")]
    pub system_info_3220: Option<SystemInfoBlock>,
    /// Firmware block of the CC2640 (Pro).
    #[serde(default, rename = "system-info-2640")]
    pub system_info_2640: Option<SystemInfoBlock>,
    /// Firmware block of NXP-based models.
    #[serde(default)]
    pub system_info_nxp: Option<SystemInfoBlock>,
    /// Another firmware block layout.
    #[serde(default)]
    pub system_info_details: Option<SystemInfoBlock>,
    /// Temperatures.
    #[serde(default)]
    pub temperature_info: Option<TemperatureInfo>,
}

impl Gen2State {
    /// The device's millisecond tick since boot, from the first firmware block that has one.
    pub fn systick(&self) -> Option<i64> {
        [
            &self.system_info,
            &self.system_info_3220,
            &self.system_info_2640,
            &self.system_info_nxp,
            &self.system_info_details,
        ]
        .into_iter()
        .flatten()
        .find_map(|block| block.systick)
    }

    /// The firmware version from the first firmware block present (`docs/anova-protocol.md`
    /// §3.2.2).
    pub fn firmware_version(&self) -> Option<&str> {
        [
            &self.system_info,
            &self.system_info_3220,
            &self.system_info_2640,
            &self.system_info_nxp,
            &self.system_info_details,
        ]
        .into_iter()
        .flatten()
        .find_map(SystemInfoBlock::version)
    }
}

/// Gen 2 `audio-control`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AudioControl {
    /// Sound being played.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Volume.
    #[serde(default, deserialize_with = "lenient::int")]
    pub volume: Option<i64>,
}

/// `{ "duty-cycle": % }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DutyCycle {
    /// Percent.
    #[serde(default, deserialize_with = "lenient::float")]
    pub duty_cycle: Option<f64>,
}

/// Gen 2 `motor-info`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
pub struct MotorInfo {
    /// Pump speed.
    #[serde(default, deserialize_with = "lenient::float")]
    pub rpm: Option<f64>,
}

/// Gen 2 `job`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    /// Timer length in seconds; 0 = none.
    #[serde(default, deserialize_with = "lenient::int")]
    pub cook_time_seconds: Option<i64>,
    /// Job id (echoes the requestId of the command that created it).
    #[serde(default)]
    pub id: Option<String>,
    /// `IDLE`, `COOK`, or an alarm / maintenance mode.
    #[serde(default)]
    pub mode: Option<JobMode>,
    /// OTA URL.
    #[serde(default)]
    pub ota_url: Option<String>,
    /// Target °C.
    #[serde(default, deserialize_with = "lenient::float")]
    pub target_temperature: Option<f64>,
    /// Display unit.
    #[serde(default)]
    pub temperature_unit: Option<TemperatureUnit>,
}

/// Gen 2 `job-status`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobStatus {
    /// Counts down while cooking; counts back up after the timer expired.
    #[serde(default, deserialize_with = "lenient::int")]
    pub cook_time_remaining: Option<i64>,
    /// Device tick when the job started.
    #[serde(default, deserialize_with = "lenient::int")]
    pub job_start_systick: Option<i64>,
    /// Pairing code while provisioning.
    #[serde(default, deserialize_with = "lenient::int")]
    pub provisioning_pairing_code: Option<i64>,
    /// `PREHEATING`, `COOKING`, `MAINTAINING`, …
    #[serde(default)]
    pub state: Option<JobState>,
    /// Device tick of the last state change.
    #[serde(default, deserialize_with = "lenient::int")]
    pub state_change_systick: Option<i64>,
}

/// Gen 2 `pin-info`: 0/1 alarm pins; which are present varies by model.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PinInfo {
    /// Unclear semantics (1 on a cooking Pro, 0 on a cooking a4).
    #[serde(default, deserialize_with = "lenient::int")]
    pub device_safe: Option<i64>,
    /// Pump motor stuck.
    #[serde(default, deserialize_with = "lenient::int")]
    pub motor_stuck: Option<i64>,
    /// Leak.
    #[serde(default, deserialize_with = "lenient::int")]
    pub water_leak: Option<i64>,
    /// Critically low water.
    #[serde(default, deserialize_with = "lenient::int")]
    pub water_level_critical: Option<i64>,
    /// Low water.
    #[serde(default, deserialize_with = "lenient::int")]
    pub water_level_low: Option<i64>,
    /// Over-temperature.
    #[serde(default, deserialize_with = "lenient::int")]
    pub water_temp_too_high: Option<i64>,
}

/// A Gen 2 firmware block (`system-info`, `system-info-3220`, …): the fields we read.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct SystemInfoBlock {
    /// Firmware version.
    #[serde(default, rename = "firmware-version")]
    pub firmware_version: Option<String>,
    /// Firmware version (`system-info-nxp`).
    #[serde(default, rename = "version-string")]
    pub version_string: Option<String>,
    /// Milliseconds since the controller booted: the device's own clock.
    #[serde(default, deserialize_with = "lenient::int")]
    pub systick: Option<i64>,
}

impl SystemInfoBlock {
    fn version(&self) -> Option<&str> {
        self.firmware_version
            .as_deref()
            .or(self.version_string.as_deref())
            .filter(|v| !v.is_empty())
    }
}

/// Gen 2 `temperature-info` (°C).
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TemperatureInfo {
    /// Heater temperature (optional per model).
    #[serde(default, deserialize_with = "lenient::float")]
    pub heater_temperature: Option<f64>,
    /// Triac temperature (optional per model).
    #[serde(default, deserialize_with = "lenient::float")]
    pub triac_temperature: Option<f64>,
    /// Water temperature.
    #[serde(default, deserialize_with = "lenient::float")]
    pub water_temperature: Option<f64>,
}
