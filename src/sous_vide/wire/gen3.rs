//! Gen 3 cookers (`a6`–`a9`): camelCase `SousVideState` with `{celsius}` temperatures.

use crate::wire::device::{Celsius, TemperatureUnit};
use crate::wire::lenient::wire_enum;
use crate::wire::lenient::{self, Unread};
use serde::Deserialize;

wire_enum! {
    /// Gen 3 `state.mode`; the alarm modes replace `cook`.
    pub enum Gen3Mode {
        /// No cook.
        Idle = "idle",
        /// Cooking (any stage).
        Cook = "cook",
        /// Water too low; the heater is off.
        LowWater = "lowWater",
        /// A leak was detected.
        WaterLeak = "waterLeak",
        /// Over-temperature.
        HighTemp = "highTemp",
        /// The pump motor is stuck.
        MotorStuck = "motorStuck",
    }
}

wire_enum! {
    /// Gen 3 `nodes.timer.mode`.
    pub enum TimerMode {
        /// Not counting (no cook, or waiting for the water to reach temperature).
        Idle = "idle",
        /// Counting down from `startedAtTimestamp`.
        Running = "running",
        /// Paused.
        Paused = "paused",
        /// Ran out; the cook keeps holding temperature.
        Completed = "completed",
    }
}

wire_enum! {
    /// Gen 3 `cook.activeStageMode`.
    pub enum StageMode {
        /// The stage's entry condition is not met yet: preheating.
        Entering = "entering",
        /// At temperature.
        Running = "running",
    }
}

/// Gen 3 `SousVideState` (`a6`–`a9`). All temperatures are °C.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Gen3State {
    /// Schema version, 1 in every capture.
    #[serde(default, deserialize_with = "lenient::int")]
    pub version: Option<i64>,
    /// Last time the device reported; old when the device is offline.
    #[serde(default, rename = "updatedTimestamp")]
    pub updated_timestamp: Option<String>,
    /// Device identity, firmware and connectivity.
    #[serde(default, rename = "systemInfo")]
    pub system_info: Option<Gen3SystemInfo>,
    /// Mode, display unit, recently applied commands.
    #[serde(default)]
    pub state: Option<Gen3Status>,
    /// Sensors and timer.
    #[serde(default)]
    pub nodes: Option<Gen3Nodes>,
    /// The running cook; absent when idle.
    #[serde(default)]
    pub cook: Option<Gen3Cook>,
}

/// Gen 3 `systemInfo`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3SystemInfo {
    /// Equals the `cookerId`.
    #[serde(default)]
    pub device_id: Option<Unread>,
    /// Whether the device is connected to the cloud.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub online: Option<bool>,
    /// For example `01.01.25`.
    #[serde(default)]
    pub firmware_version: Option<String>,
    /// For example `1.0.0`.
    #[serde(default)]
    pub hardware_version: Option<Unread>,
    /// For example `production`.
    #[serde(default)]
    pub release_track: Option<Unread>,
    /// When the firmware was last updated.
    #[serde(default)]
    pub firmware_updated_timestamp: Option<Unread>,
    /// Last connection to the cloud.
    #[serde(default)]
    pub last_connected_timestamp: Option<Unread>,
    /// Last disconnection from the cloud.
    #[serde(default)]
    pub last_disconnected_timestamp: Option<Unread>,
    /// Hardware fault of the heater triacs.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub triacs_failed: Option<bool>,
    /// OTA progress.
    #[serde(default)]
    pub ota_update: Option<Unread>,
}

/// Gen 3 `state`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3Status {
    /// `idle`, `cook`, or an alarm mode.
    #[serde(default)]
    pub mode: Option<Gen3Mode>,
    /// The unit shown on the device (values stay °C).
    #[serde(default)]
    pub temperature_unit: Option<TemperatureUnit>,
    /// Ring of recently applied command ids; churns on its own, so never used for confirmation.
    #[serde(default)]
    pub processed_command_ids: Option<Unread>,
    /// Preference.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub resume_after_power_interruption: Option<bool>,
}

/// Gen 3 `nodes`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3Nodes {
    /// Water level alarms.
    #[serde(default)]
    pub low_water: Option<LowWaterNode>,
    /// The cook timer.
    #[serde(default)]
    pub timer: Option<TimerNode>,
    /// Water temperature and setpoint.
    #[serde(default)]
    pub water_temperature_sensor: Option<WaterTemperatureSensor>,
    /// Food probe (in the schema, never seen on a6/a7).
    #[serde(default)]
    pub probe: Option<ProbeNode>,
}

/// Gen 3 `nodes.lowWater`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
pub struct LowWaterNode {
    /// Water is low.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub warning: Option<bool>,
    /// Water is critically low.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub empty: Option<bool>,
}

/// Gen 3 `nodes.timer`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimerNode {
    /// `idle`, `running`, `paused`, `completed`.
    #[serde(default)]
    pub mode: Option<TimerMode>,
    /// Timer length in seconds; kept while idle; 0 or absent = no timer.
    #[serde(default, deserialize_with = "lenient::int")]
    pub initial: Option<i64>,
    /// When the timer started (set while `running`).
    #[serde(default)]
    pub started_at_timestamp: Option<String>,
}

/// Gen 3 `nodes.waterTemperatureSensor`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct WaterTemperatureSensor {
    /// Whether the sensor is enabled (default true).
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub enabled: Option<bool>,
    /// The target; persists while idle.
    #[serde(default)]
    pub setpoint: Option<Celsius>,
    /// The water temperature.
    #[serde(default)]
    pub current: Option<Celsius>,
}

/// Gen 3 `nodes.probe`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ProbeNode {
    /// Whether a probe is plugged in.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub connected: Option<bool>,
    /// Probe temperature.
    #[serde(default)]
    pub current: Option<Celsius>,
    /// Probe target.
    #[serde(default)]
    pub setpoint: Option<Celsius>,
}

/// Gen 3 `cook`, present while a cook exists.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3Cook {
    /// Id of this cook.
    #[serde(default)]
    pub cook_id: Option<Unread>,
    /// Id of the active stage.
    #[serde(default)]
    pub active_stage_id: Option<Unread>,
    /// Index of the active stage.
    #[serde(default, deserialize_with = "lenient::int")]
    pub active_stage_index: Option<i64>,
    /// `entering` (preheating) or `running`.
    #[serde(default)]
    pub active_stage_mode: Option<StageMode>,
    /// When the active stage started.
    #[serde(default)]
    pub active_stage_started_timestamp: Option<Unread>,
    /// When the cook started.
    #[serde(default)]
    pub started_timestamp: Option<Unread>,
    /// Waiting for the user to move on.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub stage_transition_pending_user_action: Option<bool>,
    /// Who started it: `android`, `ios`, `api`, `hardware`, …
    #[serde(default)]
    pub origin_source: Option<Unread>,
    /// `manual`, `recipe`, `guide`, `ice-bath`, …
    #[serde(default)]
    pub cookable_type: Option<Unread>,
    /// Recipe or guide id.
    #[serde(default)]
    pub cookable_id: Option<Unread>,
    /// The stage graph.
    #[serde(default)]
    pub stages: Option<Vec<Gen3Stage>>,
}

/// One stage of a Gen 3 cook.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Gen3Stage {
    /// Stage id.
    #[serde(default)]
    pub id: Option<Unread>,
    /// Stage title (`Cook Stage`).
    #[serde(default)]
    pub title: Option<Unread>,
    /// What the stage does.
    #[serde(default, rename = "do")]
    pub action: Option<Gen3StageAction>,
    /// Entry condition tree (the ±0.3 °C window; the bridge reads the setpoint instead).
    #[serde(default)]
    pub entry: Option<Unread>,
    /// Exit condition tree.
    #[serde(default)]
    pub exit: Option<Unread>,
}

/// The `do` block of a Gen 3 stage.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3StageAction {
    /// `cook` or `stop`.
    #[serde(default, rename = "type")]
    pub action_type: Option<Unread>,
    /// The stage setpoint.
    #[serde(default)]
    pub water_temperature_sensor: Option<StageSetpoint>,
    /// The stage timer template.
    #[serde(default)]
    pub timer: Option<StageTimer>,
}

/// `do.waterTemperatureSensor` of a Gen 3 stage.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct StageSetpoint {
    /// The stage target.
    #[serde(default)]
    pub setpoint: Option<Celsius>,
}

/// `do.timer` of a Gen 3 stage.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct StageTimer {
    /// Timer length (the node's `initial` is authoritative).
    #[serde(default, deserialize_with = "lenient::int")]
    pub initial: Option<i64>,
    /// When the timer starts: the ±0.3 °C window.
    #[serde(default)]
    pub entry: Option<Unread>,
}
