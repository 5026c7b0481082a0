//! First-generation Wi-Fi cookers (`a3`): camelCase, temperatures in the display unit.

use crate::wire::lenient::{self};
use serde::Deserialize;

/// Legacy first-generation Wi-Fi state (`a3`). Temperatures are in the display unit.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A3State {
    /// For example `ver 5.5.1`.
    #[serde(default)]
    pub firmware_version: Option<String>,
    /// A cook is running.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_cooking: Option<bool>,
    /// Water temperature, display unit.
    #[serde(default, deserialize_with = "lenient::float")]
    pub current_temperature: Option<f64>,
    /// Target, display unit.
    #[serde(default, deserialize_with = "lenient::float")]
    pub target_temperature: Option<f64>,
    /// Remaining timer seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub timer_in_seconds: Option<i64>,
    /// `c` / `f`.
    #[serde(default)]
    pub unit: Option<String>,
    /// Timer counting.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_timer_running: Option<bool>,
    /// Speaker on.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_speaker_on: Option<bool>,
    /// Alarm sound enabled.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_alarm_active: Option<bool>,
    /// Current job id.
    #[serde(default, rename = "currentJobID")]
    pub current_job_id: Option<String>,
    /// The current job.
    #[serde(default)]
    pub current_job: Option<A3Job>,
    /// Holding after the timer.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_keeping_warm: Option<bool>,
    /// Ice-bath check.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_checking_temperature_for_ice_bath: Option<bool>,
    /// Ice-bath monitor.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_monitoring_icebath: Option<bool>,
    /// Device connected to the cloud.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub is_connected: Option<bool>,
}

/// A3 `currentJob`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A3Job {
    /// `manual_cook`, …
    #[serde(default)]
    pub job_type: Option<String>,
    /// `cooking`, `heating`, `maintaining`, …
    #[serde(default)]
    pub job_stage: Option<String>,
    /// Target, job unit.
    #[serde(default, deserialize_with = "lenient::float")]
    pub target_temperature: Option<f64>,
    /// Timer length, seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub timer_length: Option<i64>,
    /// `c` / `f`.
    #[serde(default)]
    pub temp_unit: Option<String>,
    /// Ice-bath threshold.
    #[serde(default, deserialize_with = "lenient::float")]
    pub threshold_temperature: Option<f64>,
    /// Unit of the threshold.
    #[serde(default)]
    pub threshold_temperature_unit: Option<String>,
}
