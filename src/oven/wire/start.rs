//! `CMD_APO_START` in each generation's own shape (`docs/anova-oven.md` §1.8, §1.9), built from one
//! generation-neutral description of the cook ([`CookSpec`]).
//!
//! - v1: flat stages. A stage whose timer waits for the preheat (or for the user) is a
//!   `preheat` stage followed by its `cook` stage; the preheat's id is `<cook stage id>-preheat`
//!   (a v1 oven silently drops a plan whose preheats name no cook stage). Steam is left out of
//!   stages without steam (it forces a steam reconfiguration the oven does not expect).
//! - v2: one stage per step; the preheat is the stage's `entry` condition, the timer's start
//!   its own `entry`, and the stage ends on its `exit` condition (timer done, probe reached,
//!   or never: run until stopped).

use super::nodes::BulbMode;
use crate::wire::lenient::compact_float;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

/// When a stage's timer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerStart {
    /// At once, preheat or not.
    Immediately,
    /// When the controlling bulb reaches the target.
    WhenPreheated,
    /// When the user says so on the oven or in the app.
    Manually,
    /// When the camera sees food (v2), or the user says so.
    OnFoodDetected,
}

/// Which elements heat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Elements {
    /// Top.
    pub top: bool,
    /// Bottom.
    pub bottom: bool,
    /// Rear.
    pub rear: bool,
}

/// A stage timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageTimer {
    /// Length, seconds.
    pub seconds: u32,
    /// When it starts.
    pub start: TimerStart,
}

/// A temperature the oven is asked for: °C, and the same in °F for v1 (which writes both).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setpoint {
    /// °C.
    pub celsius: f64,
    /// °F.
    pub fahrenheit: f64,
}

/// One validated stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSpec {
    /// A fresh bare UUID.
    pub id: String,
    /// Shown on the oven and in the app.
    pub title: String,
    /// The bulb the stage controls.
    pub mode: BulbMode,
    /// Its target.
    pub target: Setpoint,
    /// Steam, 0–100 %; 0 = none.
    pub steam: u8,
    /// Elements.
    pub elements: Elements,
    /// Fan, 0–100.
    pub fan: u8,
    /// The timer, if any.
    pub timer: Option<StageTimer>,
    /// The probe target that ends the stage, if any.
    pub probe: Option<Setpoint>,
}

/// A validated cook: its id and its stages, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct CookSpec {
    /// A fresh bare UUID.
    pub cook_id: String,
    /// At least one stage.
    pub stages: Vec<StageSpec>,
}

/// The cook temperature at which steam is a share of steam rather than a humidity.
pub(super) const STEAM_PERCENTAGE_FROM_C: f64 = 100.0;

/// The rack the app assumes.
const RACK_POSITION: u8 = 3;

/// `{celsius}` or `{celsius, fahrenheit}`.
#[derive(Serialize)]
struct SetpointOut {
    #[serde(serialize_with = "compact_float")]
    celsius: Option<f64>,
    #[serde(
        serialize_with = "compact_float",
        skip_serializing_if = "Option::is_none"
    )]
    fahrenheit: Option<f64>,
}

fn setpoint(value: Setpoint, with_fahrenheit: bool) -> SetpointOut {
    SetpointOut {
        celsius: Some(value.celsius),
        fahrenheit: with_fahrenheit.then_some(value.fahrenheit),
    }
}

/// `{"mode": "dry", "dry": {"setpoint": …}}`.
struct BulbsOut {
    mode: BulbMode,
    setpoint: SetpointOut,
}

impl Serialize for BulbsOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Bulb<'a> {
            setpoint: &'a SetpointOut,
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("mode", self.mode.as_str())?;
        map.serialize_entry(
            self.mode.as_str(),
            &Bulb {
                setpoint: &self.setpoint,
            },
        )?;
        map.end()
    }
}

#[derive(Serialize)]
struct On {
    on: bool,
}

#[derive(Serialize)]
struct ElementsOut {
    top: On,
    bottom: On,
    rear: On,
}

impl From<Elements> for ElementsOut {
    fn from(e: Elements) -> Self {
        Self {
            top: On { on: e.top },
            bottom: On { on: e.bottom },
            rear: On { on: e.rear },
        }
    }
}

#[derive(Serialize)]
struct Speed {
    speed: u8,
}

/// `{"mode": "relative-humidity", "relativeHumidity": {"setpoint": n}}` or the steam share.
fn steam(stage: &StageSpec) -> Option<Value> {
    if stage.steam == 0 {
        return None;
    }
    Some(if stage.target.celsius >= STEAM_PERCENTAGE_FROM_C {
        json!({"mode": "steam-percentage", "steamPercentage": {"setpoint": stage.steam}})
    } else {
        json!({"mode": "relative-humidity", "relativeHumidity": {"setpoint": stage.steam}})
    })
}

/// The top of a v2 start payload (the app's v2 capture has it; v1 starts carry none).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CookHeader<'a> {
    cook_id: &'a str,
    cooker_id: &'a str,
    cookable_id: &'static str,
    title: &'static str,
    #[serde(rename = "type")]
    device_type: &'a str,
    origin_source: &'static str,
    cookable_type: &'static str,
}

impl<'a> CookHeader<'a> {
    fn new(cook: &'a CookSpec, cooker_id: &'a str, device_type: &'a str) -> Self {
        Self {
            cook_id: &cook.cook_id,
            cooker_id,
            cookable_id: "",
            title: "",
            device_type,
            origin_source: "api",
            cookable_type: "manual",
        }
    }
}

// --- v1 ---------------------------------------------------------------------------------------

/// One flat v1 stage, as the app sends it (`docs/anova-oven.md` §1.9, the capture in
/// `anova-messages/CMD_APO_START.oven_v1.real.json`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StageV1Out<'a> {
    step_type: &'static str,
    id: String,
    title: &'a str,
    description: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    user_action_required: bool,
    /// `automatic` as in the official example, on a stage that goes on by itself; the app
    /// sends none, and none on a stage that waits for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_transition_type: Option<&'static str>,
    temperature_bulbs: BulbsOut,
    heating_elements: ElementsOut,
    fan: Speed,
    vent: VentOpen,
    rack_position: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    steam_generators: Option<Value>,
    #[serde(flatten)]
    ending: Option<EndingV1>,
}

#[derive(Serialize)]
struct VentOpen {
    open: bool,
}

/// What only a cook stage with a timer or a probe carries (the app sends both flags then, and
/// neither on a stage with neither).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EndingV1 {
    timer_added: bool,
    probe_added: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    timer: Option<Initial>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature_probe: Option<ProbeOut>,
}

#[derive(Serialize)]
struct Initial {
    initial: u32,
}

#[derive(Serialize)]
struct ProbeOut {
    setpoint: SetpointOut,
}

/// Which of a stage's v1 stages this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartV1 {
    /// The preheat before the cook stage.
    Preheat,
    /// The cook stage after its preheat.
    CookAfterPreheat,
    /// A cook stage with no preheat of its own (its timer starts at once).
    CookAlone,
}

fn stage_v1(stage: &StageSpec, part: PartV1) -> StageV1Out<'_> {
    let preheat = part == PartV1::Preheat;
    let waits_for_user = stage
        .timer
        .is_some_and(|t| matches!(t.start, TimerStart::Manually | TimerStart::OnFoodDetected));
    // A cook stage that waits for the user starts its timer when the user goes on.
    let user_action_required = !preheat && waits_for_user;
    StageV1Out {
        step_type: "stage",
        id: if preheat {
            format!("{}-preheat", stage.id)
        } else {
            stage.id.clone()
        },
        // The app titles the pair once, on its preheat, and sends "" on the cook stage.
        title: match part {
            PartV1::CookAfterPreheat => "",
            PartV1::Preheat | PartV1::CookAlone => &stage.title,
        },
        description: "",
        kind: if preheat { "preheat" } else { "cook" },
        user_action_required,
        stage_transition_type: (!user_action_required).then_some("automatic"),
        temperature_bulbs: BulbsOut {
            mode: stage.mode.clone(),
            setpoint: setpoint(stage.target, true),
        },
        heating_elements: stage.elements.into(),
        fan: Speed { speed: stage.fan },
        vent: VentOpen { open: false },
        rack_position: RACK_POSITION,
        steam_generators: steam(stage),
        ending: (!preheat && (stage.timer.is_some() || stage.probe.is_some())).then(|| EndingV1 {
            timer_added: stage.timer.is_some(),
            probe_added: stage.probe.is_some(),
            timer: stage.timer.map(|t| Initial { initial: t.seconds }),
            temperature_probe: stage.probe.map(|p| ProbeOut {
                setpoint: setpoint(p, true),
            }),
        }),
    }
}

/// The inner payload of a v1 start: `cookId` and the stages, nothing else, as both real
/// sources send it (the app's capture and the official example). The v2 header fields
/// (`cookerId`, `type`, `originSource`, …) are not sent: whether a 1.0 ignores them is
/// unverified.
pub(crate) fn start_v1(cook: &CookSpec) -> Value {
    let mut stages = Vec::new();
    for stage in &cook.stages {
        // Only a timer that starts at once needs no preheat stage of its own.
        let immediate = stage
            .timer
            .is_some_and(|t| t.start == TimerStart::Immediately);
        if immediate {
            stages.push(stage_v1(stage, PartV1::CookAlone));
        } else {
            stages.push(stage_v1(stage, PartV1::Preheat));
            stages.push(stage_v1(stage, PartV1::CookAfterPreheat));
        }
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        cook_id: &'a str,
        stages: Vec<StageV1Out<'a>>,
    }
    to_value(&Payload {
        cook_id: &cook.cook_id,
        stages,
    })
}

// --- v2 ---------------------------------------------------------------------------------------

/// `{"conditions": {"and": {path: {op: value}}}}`.
fn conditions(join: &str, leaves: &[(String, &str, Value)]) -> Value {
    let mut map = serde_json::Map::new();
    for (path, op, value) in leaves {
        map.insert(path.clone(), json!({ *op: value }));
    }
    json!({"conditions": {join: map}})
}

fn preheated(stage: &StageSpec) -> Value {
    let path = format!("nodes.temperatureBulbs.{}.current.celsius", stage.mode);
    conditions(
        "and",
        &[(
            path,
            ">=",
            crate::command::json_number(stage.target.celsius),
        )],
    )
}

#[derive(Serialize)]
struct TimerV2Out {
    initial: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DoV2Out {
    #[serde(rename = "type")]
    kind: &'static str,
    fan: Speed,
    heating_elements: ElementsOut,
    exhaust_vent: VentState,
    #[serde(skip_serializing_if = "Option::is_none")]
    steam_generators: Option<Value>,
    temperature_bulbs: BulbsOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    timer: Option<TimerV2Out>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature_probe: Option<ProbeOut>,
}

#[derive(Serialize)]
struct VentState {
    state: &'static str,
}

#[derive(Serialize)]
struct StageV2Out<'a> {
    id: &'a str,
    #[serde(rename = "do")]
    action: DoV2Out,
    exit: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<Value>,
    title: &'a str,
    description: &'static str,
    #[serde(rename = "rackPosition")]
    rack_position: u8,
}

fn stage_v2(stage: &StageSpec) -> StageV2Out<'_> {
    let timer_entry = stage.timer.and_then(|t| match t.start {
        TimerStart::Immediately => None,
        TimerStart::WhenPreheated => Some(preheated(stage)),
        TimerStart::Manually => Some(conditions(
            "and",
            &[("userAction".into(), "=", Value::Bool(true))],
        )),
        TimerStart::OnFoodDetected => Some(conditions(
            "or",
            &[
                ("userAction".into(), "=", Value::Bool(true)),
                ("nodes.cavityCamera.isEmpty".into(), "=", Value::Bool(false)),
            ],
        )),
    });
    // The official example starts a timed stage at once: no preheat entry then. Every other
    // stage preheats first, so the state shows the preheat as the stage's entering phase.
    let immediate = stage
        .timer
        .is_some_and(|t| t.start == TimerStart::Immediately);
    let exit = match (stage.timer, stage.probe) {
        (Some(_), _) => conditions(
            "and",
            &[("nodes.timer.mode".into(), "=", Value::from("completed"))],
        ),
        (None, Some(probe)) => conditions(
            "and",
            &[(
                "nodes.temperatureProbe.current.celsius".into(),
                ">=",
                crate::command::json_number(probe.celsius),
            )],
        ),
        (None, None) => json!({"conditions": {"and": {}}}),
    };
    StageV2Out {
        id: &stage.id,
        action: DoV2Out {
            kind: "cook",
            fan: Speed { speed: stage.fan },
            heating_elements: stage.elements.into(),
            exhaust_vent: VentState { state: "closed" },
            steam_generators: steam(stage),
            temperature_bulbs: BulbsOut {
                mode: stage.mode.clone(),
                setpoint: setpoint(stage.target, false),
            },
            timer: stage.timer.map(|t| TimerV2Out {
                initial: t.seconds,
                entry: timer_entry,
            }),
            temperature_probe: stage.probe.map(|p| ProbeOut {
                setpoint: setpoint(p, false),
            }),
        },
        exit,
        entry: (!immediate).then(|| preheated(stage)),
        title: &stage.title,
        description: "",
        rack_position: RACK_POSITION,
    }
}

/// The inner payload of a v2 start.
pub(crate) fn start_v2(cook: &CookSpec, cooker_id: &str, device_type: &str) -> Value {
    #[derive(Serialize)]
    struct Payload<'a> {
        stages: Vec<StageV2Out<'a>>,
        #[serde(flatten)]
        header: CookHeader<'a>,
    }
    to_value(&Payload {
        stages: cook.stages.iter().map(stage_v2).collect(),
        header: CookHeader::new(cook, cooker_id, device_type),
    })
}

fn to_value(payload: &impl Serialize) -> Value {
    // Plain structs of strings, numbers and maps with string keys always serialise.
    serde_json::to_value(payload).unwrap_or(Value::Null)
}
