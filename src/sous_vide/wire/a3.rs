//! First-generation Wi-Fi cookers (`a3`): camelCase, temperatures in the display unit.

use crate::wire::lenient::{self};
use serde::{Deserialize, Serialize};

/// Legacy first-generation Wi-Fi state (`a3`). Temperatures are in the display unit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A3State {
    /// For example `ver 5.5.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// A cook is running.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_cooking: Option<bool>,
    /// Water temperature, display unit.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_temperature: Option<f64>,
    /// Target, display unit.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_temperature: Option<f64>,
    /// Remaining timer seconds.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub timer_in_seconds: Option<i64>,
    /// `c` / `f`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Timer counting.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_timer_running: Option<bool>,
    /// Speaker on.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_speaker_on: Option<bool>,
    /// Alarm sound enabled.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_alarm_active: Option<bool>,
    /// Current job id.
    #[serde(
        default,
        rename = "currentJobID",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_job_id: Option<String>,
    /// The current job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_job: Option<A3Job>,
    /// Holding after the timer.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_keeping_warm: Option<bool>,
    /// Ice-bath check.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_checking_temperature_for_ice_bath: Option<bool>,
    /// Ice-bath monitor.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_monitoring_icebath: Option<bool>,
    /// Device connected to the cloud.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_connected: Option<bool>,
}

/// A3 `currentJob`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A3Job {
    /// `manual_cook`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    /// `cooking`, `heating`, `maintaining`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_stage: Option<String>,
    /// Target, job unit.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_temperature: Option<f64>,
    /// Timer length, seconds.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub timer_length: Option<i64>,
    /// `c` / `f`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_unit: Option<String>,
    /// Ice-bath threshold.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub threshold_temperature: Option<f64>,
    /// Unit of the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_temperature_unit: Option<String>,
}
