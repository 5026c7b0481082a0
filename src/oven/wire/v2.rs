//! `EVENT_APO_STATE` of a Precision Oven 2.0 (`docs/anova-oven.md` §1.5): temperatures in °C only,
//! a fan in words, `exhaustVent`, two lamps, a camera, water and waste-water tanks, a timer
//! that starts at a timestamp, and a cook of stages with `do`/`entry`/`exit`.

use super::nodes::{
    Door, Fan, HeatingElements, Lamp, Probe, ProbeTarget, SteamGenerators, Tank, TemperatureBulbs,
    Timer,
};
use super::OvenBody;
use crate::wire::lenient::{self, wire_enum};
use serde::Deserialize;

/// The state body of an `oven_v2`.
pub type OvenV2State = OvenBody<NodesV2, CookV2>;

/// `nodes` of an `oven_v2`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodesV2 {
    /// Dry, wet, top and bottom bulbs.
    #[serde(deserialize_with = "lenient::loose")]
    pub temperature_bulbs: Option<TemperatureBulbs>,
    /// Steam.
    #[serde(deserialize_with = "lenient::loose")]
    pub steam_generators: Option<SteamGenerators>,
    /// Elements.
    #[serde(deserialize_with = "lenient::loose")]
    pub heating_elements: Option<HeatingElements>,
    /// Convection fan (`off`/`min`/`mid`/`max`).
    #[serde(deserialize_with = "lenient::loose")]
    pub fan: Option<Fan>,
    /// `{state}`.
    #[serde(deserialize_with = "lenient::loose")]
    pub exhaust_vent: Option<ExhaustVent>,
    /// The light by the door (with the user's preference).
    #[serde(deserialize_with = "lenient::loose")]
    pub door_lamp: Option<Lamp>,
    /// The light in the cavity.
    #[serde(deserialize_with = "lenient::loose")]
    pub cavity_lamp: Option<Lamp>,
    /// The camera's food detection.
    #[serde(deserialize_with = "lenient::loose")]
    pub cavity_camera: Option<Camera>,
    /// The door.
    #[serde(deserialize_with = "lenient::loose")]
    pub door: Option<Door>,
    /// The water tank.
    #[serde(deserialize_with = "lenient::loose")]
    pub water_tank: Option<Tank>,
    /// The waste-water tank.
    #[serde(deserialize_with = "lenient::loose")]
    pub waste_water_tank: Option<Tank>,
    /// The food probe.
    #[serde(deserialize_with = "lenient::loose")]
    pub temperature_probe: Option<Probe>,
    /// The timer.
    #[serde(deserialize_with = "lenient::loose")]
    pub timer: Option<Timer>,
}

wire_enum! {
    /// `exhaustVent.state`.
    pub enum VentState {
        /// Closed.
        Closed = "closed",
        /// Half open.
        OpenMid = "open-mid",
        /// Fully open.
        OpenMax = "open-max",
    }
}

/// v2 `exhaustVent`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ExhaustVent {
    /// How far open.
    #[serde(deserialize_with = "lenient::loose")]
    pub state: Option<VentState>,
}

/// v2 `cavityCamera`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Camera {
    /// Nothing detected in the cavity.
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_empty: Option<bool>,
    /// The camera is on.
    #[serde(deserialize_with = "lenient::boolean")]
    pub enabled: Option<bool>,
}

wire_enum! {
    /// `cook.activeStageMode`.
    pub enum StageModeV2 {
        /// The entry condition is not met yet: preheating.
        Entering = "entering",
        /// Running.
        Running = "running",
    }
}

/// What a stage asks for (only what the normalised state reads from it).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StageDo {
    /// The probe target that ends the stage.
    #[serde(deserialize_with = "lenient::loose")]
    pub temperature_probe: Option<ProbeTarget>,
    /// The elements the stage heats with.
    #[serde(deserialize_with = "lenient::loose")]
    pub heating_elements: Option<super::nodes::HeatingElements>,
    /// The stage's fan.
    #[serde(deserialize_with = "lenient::loose")]
    pub fan: Option<super::nodes::Fan>,
}

/// One stage of a v2 cook.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct StageV2 {
    /// The stage id.
    #[serde(deserialize_with = "lenient::loose")]
    pub id: Option<String>,
    /// Its title.
    #[serde(deserialize_with = "lenient::loose")]
    pub title: Option<String>,
    /// What it asks for.
    #[serde(rename = "do", deserialize_with = "lenient::loose")]
    pub action: Option<StageDo>,
}

/// v2 `cook`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CookV2 {
    /// The id the start carried.
    #[serde(deserialize_with = "lenient::loose")]
    pub cook_id: Option<String>,
    /// The stages.
    #[serde(deserialize_with = "lenient::loose")]
    pub stages: Option<Vec<StageV2>>,
    /// The running stage.
    #[serde(deserialize_with = "lenient::loose")]
    pub active_stage_id: Option<String>,
    /// Its index.
    #[serde(deserialize_with = "lenient::int")]
    pub active_stage_index: Option<i64>,
    /// Entering (preheating) or running.
    #[serde(deserialize_with = "lenient::loose")]
    pub active_stage_mode: Option<StageModeV2>,
    /// When the cook began.
    #[serde(deserialize_with = "lenient::loose")]
    pub started_timestamp: Option<String>,
}
