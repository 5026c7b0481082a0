//! `EVENT_APO_STATE` of a Precision Oven 1.0 (`docs/anova-oven.md` §1.6): temperatures in °C and
//! °F, a numeric fan, `vent` and `lamp` nodes, a timer that counts elapsed seconds, and a cook of
//! flat stages where a preheat stage precedes its cook stage.

use super::nodes::{
    Door, Fan, HeatingElements, Lamp, Probe, ProbeTarget, SteamGenerators, Tank, TemperatureBulbs,
    Timer,
};
use super::OvenBody;
use crate::wire::lenient::{self, wire_enum};
use serde::Deserialize;

/// The state body of an `oven_v1`.
pub type OvenV1State = OvenBody<NodesV1, CookV1>;

/// `nodes` of an `oven_v1`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodesV1 {
    /// Dry, wet, top and bottom bulbs.
    #[serde(deserialize_with = "lenient::loose")]
    pub temperature_bulbs: Option<TemperatureBulbs>,
    /// Steam.
    #[serde(deserialize_with = "lenient::loose")]
    pub steam_generators: Option<SteamGenerators>,
    /// Elements.
    #[serde(deserialize_with = "lenient::loose")]
    pub heating_elements: Option<HeatingElements>,
    /// Convection fan, 0–100.
    #[serde(deserialize_with = "lenient::loose")]
    pub fan: Option<Fan>,
    /// `{open}`.
    #[serde(deserialize_with = "lenient::loose")]
    pub vent: Option<Vent>,
    /// The oven light.
    #[serde(deserialize_with = "lenient::loose")]
    pub lamp: Option<Lamp>,
    /// The door.
    #[serde(deserialize_with = "lenient::loose")]
    pub door: Option<Door>,
    /// The water tank (`{empty}`).
    #[serde(deserialize_with = "lenient::loose")]
    pub water_tank: Option<Tank>,
    /// The food probe.
    #[serde(deserialize_with = "lenient::loose")]
    pub temperature_probe: Option<Probe>,
    /// The timer (`current` = seconds elapsed).
    #[serde(deserialize_with = "lenient::loose")]
    pub timer: Option<Timer>,
}

/// v1 `vent`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Vent {
    /// Open.
    #[serde(deserialize_with = "lenient::boolean")]
    pub open: Option<bool>,
}

wire_enum! {
    /// The `type` of a v1 stage.
    pub enum StageKindV1 {
        /// Heats up; its cook stage follows.
        Preheat = "preheat",
        /// Cooks.
        Cook = "cook",
        /// Ends the cook.
        Stop = "stop",
    }
}

/// One stage of a v1 cook as the state echoes it (stripped of the app's extra keys).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct StageV1 {
    /// The stage id (`<cook stage id>-preheat` for a preheat).
    #[serde(deserialize_with = "lenient::loose")]
    pub id: Option<String>,
    /// Preheat or cook.
    #[serde(rename = "type", deserialize_with = "lenient::loose")]
    pub kind: Option<StageKindV1>,
    /// The stage title.
    #[serde(deserialize_with = "lenient::loose")]
    pub title: Option<String>,
    /// The probe target that ends the stage.
    #[serde(rename = "temperatureProbe", deserialize_with = "lenient::loose")]
    pub temperature_probe: Option<ProbeTarget>,
    /// The elements the stage heats with.
    #[serde(rename = "heatingElements", deserialize_with = "lenient::loose")]
    pub heating_elements: Option<super::nodes::HeatingElements>,
    /// The stage's fan (a 1.0 echoes a preheat's as 100 whatever was sent).
    #[serde(deserialize_with = "lenient::loose")]
    pub fan: Option<super::nodes::Fan>,
}

/// v1 `cook`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CookV1 {
    /// The id the start carried.
    #[serde(deserialize_with = "lenient::loose")]
    pub cook_id: Option<String>,
    /// Every stage, preheats included.
    #[serde(deserialize_with = "lenient::loose")]
    pub stages: Option<Vec<StageV1>>,
    /// The running stage.
    #[serde(deserialize_with = "lenient::loose")]
    pub active_stage_id: Option<String>,
    /// Its index in `stages`.
    #[serde(deserialize_with = "lenient::int")]
    pub active_stage_index: Option<i64>,
    /// Seconds since the cook began.
    #[serde(deserialize_with = "lenient::int")]
    pub seconds_elapsed: Option<i64>,
    /// The oven waits for the user to go on.
    #[serde(deserialize_with = "lenient::boolean")]
    pub stage_transition_pending_user_action: Option<bool>,
}
