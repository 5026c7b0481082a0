//! `CMD_APO_START` as an oven reads it (`docs/anova-oven.md` §1.8, §1.9, §1.11): the payload of
//! either generation becomes one [`Plan`], a list of stages with entry, timer and exit
//! conditions that [`super::cook`] runs. What a real oven cannot run is reported as a
//! [`Rejection`]: the oven acknowledges such a START `ok` and drops it silently \[LIVE ADK].
//!
//! - `oven_v2` stages: `{id, do, entry?, exit?, title?, …}`; preheat is an `entry` condition
//!   (`nodes.temperatureBulbs.<dry|wet>.current.celsius >= x`); the timer starts on
//!   `do.timer.entry` (or `startType`), immediately without one.
//! - `oven_v1` stages are flat: `type: preheat|cook`, a preheat tied to the cook stage that
//!   follows it by id `<cookStageId>-preheat` \[LIVE ADK]. A preheat stage exits when its bulb
//!   reaches the setpoint; a cook stage with `userActionRequired` waits for the user before it
//!   starts (the START itself counts for the first stage \[INF]); its timer starts with the
//!   stage and ends it; a probe target ends it too.
//! - Dropped \[LIVE ADK, APP limits, INF]: no stages; a v1 preheat that does not pair; all three
//!   elements on, or all off, on a v1 oven (observed on v1 firmware 2.1.16); a setpoint out of
//!   range (dry 25–250 °C, bottom element alone v1 ≤ 180 / v2 ≤ 230, bottom alone with the fan
//!   off ≤ 45; wet 25–100 °C; probe 1–100 °C); steam or fan outside 0–100; a timer above
//!   99 h 59 min; a timer and a probe on one v1 stage; a condition the oven cannot read;
//!   a v2-shaped plan on a v1 oven \[INF].
//! - A v1-shaped plan (flat `type: preheat|cook` stages) on a v2 oven: [`Rejection::WrongGeneration`]
//!   \[LIVE bogd/anova-oven-api#4: the oven errors out until power-cycled].

use super::conditions::{Condition, Reading, Unreadable};
use crate::simulator::config::OvenGeneration;
use serde_json::{Map, Value};

/// The longest timer: 99 h 59 min.
const MAX_TIMER_S: u32 = 359_940;

/// Which bulb a stage controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bulb {
    Dry,
    Wet,
}

impl Bulb {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Dry => "dry",
            Self::Wet => "wet",
        }
    }

    /// The node path of this bulb's current temperature.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Dry => "nodes.temperatureBulbs.dry.current.celsius",
            Self::Wet => "nodes.temperatureBulbs.wet.current.celsius",
        }
    }
}

/// The steam generators' target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Steam {
    Off,
    /// `relative-humidity`, percent.
    Humidity(f64),
    /// `steam-percentage`, percent.
    Percentage(f64),
}

/// The three heating elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Elements {
    pub(crate) top: bool,
    pub(crate) bottom: bool,
    pub(crate) rear: bool,
}

impl Elements {
    fn count(self) -> usize {
        usize::from(self.top) + usize::from(self.bottom) + usize::from(self.rear)
    }
}

/// The exhaust vent (v1 knows only open and closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vent {
    Closed,
    OpenMid,
    OpenMax,
}

impl Vent {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::OpenMid => "open-mid",
            Self::OpenMax => "open-max",
        }
    }
}

/// What a stage asks the hardware to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    pub(crate) bulb: Bulb,
    pub(crate) setpoint_c: f64,
    pub(crate) steam: Steam,
    pub(crate) elements: Elements,
    /// 0–100.
    pub(crate) fan: f64,
    pub(crate) vent: Vent,
    pub(crate) probe_target_c: Option<f64>,
}

/// A stage's timer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StageTimer {
    pub(crate) initial_s: u32,
    /// When it starts once the stage runs; `None`: at once.
    pub(crate) start: Option<Condition>,
}

/// One stage, the same for both generations.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanStage {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) settings: Settings,
    /// `None`: the stage runs as soon as it is reached.
    pub(crate) entry: Option<Condition>,
    pub(crate) timer: Option<StageTimer>,
    /// `None`: the stage runs until stopped.
    pub(crate) exit: Option<Condition>,
    /// `do.type: stop`: reaching it ends the cook.
    pub(crate) stop: bool,
}

/// The cook object's own fields besides the stages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CookMeta {
    pub(crate) cook_id: String,
    pub(crate) origin_source: String,
    pub(crate) cookable_type: String,
    pub(crate) cookable_id: String,
    pub(crate) title: String,
    pub(crate) rack_position: Value,
}

/// A START the oven will run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub(crate) meta: CookMeta,
    pub(crate) stages: Vec<PlanStage>,
    /// The stages as the oven echoes them in `cook.stages`.
    pub(crate) echo: Vec<Value>,
}

/// Why a START does not become a cook.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rejection {
    /// Not a START payload at all (not an object, no `stages` array): `invalid command` \[INF].
    Invalid(String),
    /// Acknowledged `ok` and silently dropped: nothing changes \[LIVE ADK].
    Dropped(String),
    /// A v1-shaped plan on a v2 oven: the oven errors out \[LIVE bogd#4].
    WrongGeneration,
}

impl From<Unreadable> for Rejection {
    fn from(unreadable: Unreadable) -> Self {
        Self::Dropped(format!("unreadable condition: {}", unreadable.0))
    }
}

fn dropped(why: impl Into<String>) -> Rejection {
    Rejection::Dropped(why.into())
}

/// Reads a START's inner payload for an oven of `generation`.
pub(crate) fn parse(
    generation: OvenGeneration,
    payload: Option<&Value>,
) -> Result<Plan, Rejection> {
    let payload = payload
        .and_then(Value::as_object)
        .ok_or_else(|| Rejection::Invalid("payload is not an object".into()))?;
    let stages = payload
        .get("stages")
        .and_then(Value::as_array)
        .ok_or_else(|| Rejection::Invalid("no stages array".into()))?;
    if stages.is_empty() {
        return Err(dropped("no stages"));
    }
    let objects = stages
        .iter()
        .map(|s| {
            s.as_object()
                .ok_or_else(|| dropped("a stage is not an object"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let v1_shaped = objects.iter().any(|s| !s.contains_key("do"));
    let (stages, echo) = match (generation, v1_shaped) {
        (OvenGeneration::V2, true) => return Err(Rejection::WrongGeneration),
        (OvenGeneration::V1, false) => return Err(dropped("a v2 plan on a v1 oven")),
        (OvenGeneration::V1, true) => (v1_stages(&objects)?, v1_echo(&objects)),
        (OvenGeneration::V2, false) => (v2_stages(&objects)?, v2_echo(&objects)),
    };
    let text = |key: &str, default: &str| {
        payload
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    let rack_position = objects
        .iter()
        .find_map(|s| s.get("rackPosition"))
        .cloned()
        .unwrap_or(Value::from(3));
    let meta = CookMeta {
        cook_id: payload
            .get("cookId")
            .and_then(Value::as_str)
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
        origin_source: text("originSource", "api"),
        cookable_type: text("cookableType", "manual"),
        cookable_id: text("cookableId", ""),
        title: text("title", ""),
        rack_position,
    };
    Ok(Plan { meta, stages, echo })
}

type Object = Map<String, Value>;

fn number(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64).filter(|n| n.is_finite())
}

/// `{celsius, fahrenheit?}` → °C (°F alone is converted).
fn celsius_of(setpoint: Option<&Value>) -> Option<f64> {
    let setpoint = setpoint?;
    number(setpoint.get("celsius"))
        .or_else(|| number(setpoint.get("fahrenheit")).map(|f| (f - 32.0) * 5.0 / 9.0))
}

/// The hardware part of a v1 stage or a v2 `do`, checked against the oven's limits.
fn settings(generation: OvenGeneration, object: &Object) -> Result<Settings, Rejection> {
    let bulbs = object
        .get("temperatureBulbs")
        .ok_or_else(|| dropped("no temperatureBulbs"))?;
    let bulb = match bulbs.get("mode").and_then(Value::as_str) {
        Some("dry") => Bulb::Dry,
        Some("wet") => Bulb::Wet,
        other => return Err(dropped(format!("bulb mode {other:?}"))),
    };
    let setpoint_c = celsius_of(bulbs.get(bulb.as_str()).and_then(|b| b.get("setpoint")))
        .ok_or_else(|| dropped("no bulb setpoint"))?;
    let on = |name: &str| {
        object
            .get("heatingElements")
            .and_then(|e| e.get(name))
            .and_then(|e| e.get("on"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let elements = Elements {
        top: on("top"),
        bottom: on("bottom"),
        rear: on("rear"),
    };
    let fan = number(object.get("fan").and_then(|f| f.get("speed"))).unwrap_or(100.0);
    let steam = match object.get("steamGenerators") {
        None => Steam::Off,
        Some(steam) => {
            let setpoint = |key: &str| number(steam.get(key).and_then(|s| s.get("setpoint")));
            match steam.get("mode").and_then(Value::as_str) {
                Some("relative-humidity") => {
                    Steam::Humidity(setpoint("relativeHumidity").unwrap_or(0.0))
                }
                Some("steam-percentage") => {
                    Steam::Percentage(setpoint("steamPercentage").unwrap_or(0.0))
                }
                Some("idle") | None => Steam::Off,
                Some(other) => return Err(dropped(format!("steam mode {other:?}"))),
            }
        }
    };
    let vent = match generation {
        OvenGeneration::V1 => {
            let open = object
                .get("vent")
                .and_then(|v| v.get("open"))
                .and_then(Value::as_bool);
            if open == Some(true) {
                Vent::OpenMax
            } else {
                Vent::Closed
            }
        }
        OvenGeneration::V2 => match object
            .get("exhaustVent")
            .and_then(|v| v.get("state"))
            .and_then(Value::as_str)
        {
            None | Some("closed") => Vent::Closed,
            Some("open-mid") => Vent::OpenMid,
            Some("open-max") => Vent::OpenMax,
            Some(other) => return Err(dropped(format!("vent {other:?}"))),
        },
    };
    let probe_target_c = celsius_of(
        object
            .get("temperatureProbe")
            .and_then(|p| p.get("setpoint")),
    );
    let settings = Settings {
        bulb,
        setpoint_c,
        steam,
        elements,
        fan,
        vent,
        probe_target_c,
    };
    check_limits(generation, &settings)?;
    Ok(settings)
}

/// What the oven refuses to run (see the module docs).
fn check_limits(generation: OvenGeneration, s: &Settings) -> Result<(), Rejection> {
    let out = |what: &str, value: f64| Err(dropped(format!("{what} {value} out of range")));
    let bottom_only = s.elements
        == Elements {
            bottom: true,
            ..Elements::default()
        };
    let dry_max = match (bottom_only, s.fan == 0.0, generation) {
        (true, true, _) => 45.0,
        (true, false, OvenGeneration::V1) => 180.0,
        (true, false, OvenGeneration::V2) => 230.0,
        (false, _, _) => 250.0,
    };
    let range = match s.bulb {
        Bulb::Dry => 25.0..=dry_max,
        Bulb::Wet => 25.0..=100.0,
    };
    if !range.contains(&s.setpoint_c) {
        return out("setpoint", s.setpoint_c);
    }
    if generation == OvenGeneration::V1 && matches!(s.elements.count(), 0 | 3) {
        return Err(dropped("all three elements on, or all off (v1)"));
    }
    if !(0.0..=100.0).contains(&s.fan) {
        return out("fan", s.fan);
    }
    if let Steam::Humidity(x) | Steam::Percentage(x) = s.steam {
        if !(0.0..=100.0).contains(&x) {
            return out("steam", x);
        }
    }
    if let Some(probe) = s.probe_target_c {
        if !(1.0..=100.0).contains(&probe) {
            return out("probe target", probe);
        }
    }
    Ok(())
}

fn timer_initial(timer: &Value) -> Result<u32, Rejection> {
    let initial = number(timer.get("initial")).unwrap_or(0.0);
    if !(0.0..=f64::from(MAX_TIMER_S)).contains(&initial) {
        return Err(dropped(format!("timer {initial} out of range")));
    }
    // In range, so the conversion is exact enough.
    Ok(initial.round() as u32)
}

fn user_action() -> Condition {
    Condition::equals("userAction", Reading::Bool(true))
}

fn timer_completed() -> Condition {
    Condition::equals("nodes.timer.mode", Reading::Text("completed".into()))
}

fn probe_reached(target_c: f64) -> Condition {
    Condition::at_least("nodes.temperatureProbe.current.celsius", target_c)
}

/// The documented `timer.startType` values as conditions.
fn start_type(start: Option<&str>, settings: &Settings) -> Option<Condition> {
    match start? {
        "when-preheated" => Some(Condition::at_least(
            settings.bulb.path(),
            settings.setpoint_c,
        )),
        "manual" => Some(user_action()),
        "on-detection" => Some(Condition::Any(vec![
            user_action(),
            Condition::equals("nodes.cavityCamera.isEmpty", Reading::Bool(false)),
        ])),
        _ => None,
    }
}

fn text_of(object: &Object, key: &str) -> String {
    object
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn v2_stages(objects: &[&Object]) -> Result<Vec<PlanStage>, Rejection> {
    let mut stages = Vec::with_capacity(objects.len());
    for (index, stage) in objects.iter().enumerate() {
        let action = stage
            .get("do")
            .and_then(Value::as_object)
            .ok_or_else(|| dropped("do is not an object"))?;
        let stop = match action.get("type").and_then(Value::as_str) {
            Some("cook") | None => false,
            Some("stop") => true,
            Some(other) => return Err(dropped(format!("stage type {other:?}"))),
        };
        let settings = settings(OvenGeneration::V2, action)?;
        let timer = match action.get("timer") {
            None => None,
            Some(timer) => {
                let start = match Condition::parse_wrapper(timer.get("entry"))? {
                    Some(condition) => Some(condition),
                    None => start_type(timer.get("startType").and_then(Value::as_str), &settings),
                };
                Some(StageTimer {
                    initial_s: timer_initial(timer)?,
                    start,
                })
            }
        };
        let mut entry = Condition::parse_wrapper(stage.get("entry"))?;
        // "true = manual" \[DOC]; the START itself starts the first stage \[INF].
        let manual = stage.get("userActionRequired").and_then(Value::as_bool) == Some(true);
        if manual && index > 0 {
            entry = Some(match entry {
                Some(condition) => Condition::All(vec![condition, user_action()]),
                None => user_action(),
            });
        }
        stages.push(PlanStage {
            id: text_of(stage, "id"),
            title: text_of(stage, "title"),
            settings,
            entry,
            timer,
            exit: Condition::parse_wrapper(stage.get("exit"))?,
            stop,
        });
    }
    Ok(stages)
}

fn v1_stages(objects: &[&Object]) -> Result<Vec<PlanStage>, Rejection> {
    let mut stages = Vec::with_capacity(objects.len());
    for (index, stage) in objects.iter().enumerate() {
        let id = text_of(stage, "id");
        let kind = stage.get("type").and_then(Value::as_str);
        let settings = settings(OvenGeneration::V1, stage)?;
        let manual = stage.get("userActionRequired").and_then(Value::as_bool) == Some(true);
        let entry = (manual && index > 0).then(user_action);
        let plan_stage = match kind {
            Some("preheat") => {
                // Bound to the cook stage right after it by id [LIVE ADK].
                let cook_id = id.strip_suffix("-preheat");
                let next = objects.get(index + 1);
                let paired = next.is_some_and(|n| {
                    n.get("type").and_then(Value::as_str) == Some("cook")
                        && Some(text_of(n, "id").as_str()) == cook_id
                });
                if !paired {
                    return Err(dropped(format!("preheat stage {id:?} does not pair")));
                }
                PlanStage {
                    id,
                    title: text_of(stage, "title"),
                    exit: Some(Condition::at_least(
                        settings.bulb.path(),
                        settings.setpoint_c,
                    )),
                    // The oven preheats with the fan at 100 whatever the stage says [LIVE ADK].
                    settings: Settings {
                        fan: 100.0,
                        ..settings
                    },
                    entry,
                    timer: None,
                    stop: false,
                }
            }
            Some("cook") => {
                let timer = match stage.get("timer") {
                    Some(timer) => {
                        let start_type = timer.get("startType").and_then(Value::as_str);
                        Some(StageTimer {
                            initial_s: timer_initial(timer)?,
                            start: start_type_v1(start_type, &settings),
                        })
                    }
                    None => None,
                };
                let exit = match (&timer, settings.probe_target_c) {
                    (Some(_), Some(_)) => return Err(dropped("a timer and a probe on one stage")),
                    (Some(t), None) if t.initial_s > 0 => Some(timer_completed()),
                    (_, Some(target)) => Some(probe_reached(target)),
                    _ => None,
                };
                PlanStage {
                    id,
                    title: text_of(stage, "title"),
                    settings,
                    entry,
                    timer,
                    exit,
                    stop: false,
                }
            }
            Some("stop") => PlanStage {
                id,
                title: text_of(stage, "title"),
                settings,
                entry,
                timer: None,
                exit: None,
                stop: true,
            },
            other => return Err(dropped(format!("stage type {other:?}"))),
        };
        stages.push(plan_stage);
    }
    Ok(stages)
}

/// v1 has no camera: a timer waiting for food waits for the user \[INF].
fn start_type_v1(start: Option<&str>, settings: &Settings) -> Option<Condition> {
    match start {
        Some("on-detection") => Some(user_action()),
        other => start_type(other, settings),
    }
}

/// What a v1 oven echoes: the stages without the app's bookkeeping keys, the preheat fan
/// rewritten to 100 \[LIVE ADK].
fn v1_echo(objects: &[&Object]) -> Vec<Value> {
    const STRIPPED: [&str; 7] = [
        "stepType",
        "description",
        "rackPosition",
        "stageTransitionType",
        "timerAdded",
        "probeAdded",
        "timerStartOnDetect",
    ];
    objects
        .iter()
        .map(|stage| {
            let mut echo: Object = stage
                .iter()
                .filter(|(k, _)| !STRIPPED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if echo.get("type").and_then(Value::as_str) == Some("preheat") {
                echo.insert("fan".into(), serde_json::json!({"speed": 100}));
            }
            Value::Object(echo)
        })
        .collect()
}

/// What a v2 oven echoes: the stages without `description` and `rackPosition` (which moves to
/// the cook object), as in the real capture.
fn v2_echo(objects: &[&Object]) -> Vec<Value> {
    objects
        .iter()
        .map(|stage| {
            let echo: Object = stage
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "description" | "rackPosition"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Object(echo)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn capture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/anova-messages/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let frame: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        frame["payload"]["payload"].clone()
    }

    fn capture_start() -> Value {
        capture("CMD_APO_START.oven_v2.documented.json")
    }

    /// What the Android app sends a Precision Oven 1.0 (BOGD): three preheat/cook pairs whose
    /// preheat ids do not name their cook stage. ADK saw a v1 oven (firmware 2.1.16) drop such a
    /// plan silently when more than one pair did not pair (`docs/anova-oven.md`, "What ADK learned
    /// on a v1 oven", a \[CONFLICT] with this capture of an older app); the simulator follows the
    /// observed oven. Every stage is readable: only the pairing refuses it.
    #[test]
    fn the_apps_real_v1_start_is_read_stage_by_stage_and_dropped_for_its_pairing() {
        let payload = capture("CMD_APO_START.oven_v1.real.json");
        let verdict = parse(OvenGeneration::V1, Some(&payload));
        assert_eq!(
            verdict,
            Err(dropped(
                "preheat stage \"android-1b7dbdd2-dd07-4f9c-95d1-76c5aea20c60\" does not pair"
            ))
        );
        let stages = payload["stages"].as_array().unwrap();
        let setpoints: Vec<f64> = stages
            .iter()
            .map(|s| {
                settings(OvenGeneration::V1, s.as_object().unwrap())
                    .unwrap()
                    .setpoint_c
            })
            .collect();
        assert_eq!(setpoints, [210.0, 210.0, 170.0, 170.0, 210.0, 210.0]);
        let third = settings(OvenGeneration::V1, stages[2].as_object().unwrap()).unwrap();
        assert_eq!(third.steam, Steam::Percentage(100.0));
        assert_eq!(
            parse(OvenGeneration::V2, Some(&payload)),
            Err(Rejection::WrongGeneration)
        );
    }

    /// What the Android app sends a Precision Oven 2.0 (BOGD issue #4): one stage at 23.89 °C
    /// (75 °F), below the 25 °C the app's own `temperatureRanges` allow a dry bulb
    /// (`docs/anova-oven.md` limits table), so the simulated oven drops it; the same stage at 25 °C
    /// runs, with every other field read as sent.
    #[test]
    fn the_apps_real_v2_start_is_read_and_its_setpoint_checked() {
        let payload = capture("CMD_APO_START.oven_v2.real.json");
        assert_eq!(
            parse(OvenGeneration::V2, Some(&payload)),
            Err(dropped("setpoint 23.89 out of range"))
        );
        let mut at_25 = payload.clone();
        at_25["stages"][0]["do"]["temperatureBulbs"]["dry"]["setpoint"]["celsius"] = json!(25);
        let plan = parse(OvenGeneration::V2, Some(&at_25)).unwrap();
        assert_eq!(
            plan.meta.cook_id,
            "android-2541f13c-ba5d-428d-8ba6-c6f47709b24s"
        );
        assert_eq!(plan.meta.origin_source, "android");
        assert_eq!(plan.meta.cookable_type, "manual");
        assert_eq!(plan.stages.len(), 1);
        let stage = &plan.stages[0].settings;
        assert_eq!(stage.setpoint_c, 25.0);
        assert_eq!(stage.steam, Steam::Humidity(100.0));
        assert_eq!(stage.fan, 100.0);
        assert!(plan.stages[0].entry.is_some());
        assert!(parse(OvenGeneration::V1, Some(&at_25)).is_err());
    }

    fn v1_pair(cook_id: &str, preheat_id: &str) -> Vec<Value> {
        let stage = |id: &str, kind: &str| {
            json!({
                "stepType": "stage", "id": id, "title": "", "description": "", "type": kind,
                "userActionRequired": false,
                "temperatureBulbs": {"mode": "dry", "dry": {"setpoint": {"celsius": 200, "fahrenheit": 392}}},
                "heatingElements": {"top": {"on": false}, "bottom": {"on": true}, "rear": {"on": true}},
                "fan": {"speed": 50}, "vent": {"open": false}, "rackPosition": 3,
            })
        };
        let mut cook = stage(cook_id, "cook");
        cook["timerAdded"] = json!(true);
        cook["timer"] = json!({"initial": 600});
        vec![stage(preheat_id, "preheat"), cook]
    }

    #[test]
    fn the_documented_v2_start() {
        let plan = parse(OvenGeneration::V2, Some(&capture_start())).unwrap();
        assert_eq!(plan.meta.cook_id, "e4f5c1d0-7a32-4b84-8f3e-3a1d2b6c9f00");
        assert_eq!(plan.meta.rack_position, json!(3));
        let stage = &plan.stages[0];
        assert_eq!(stage.settings.bulb, Bulb::Wet);
        assert_eq!(stage.settings.setpoint_c, 60.0);
        assert_eq!(stage.settings.steam, Steam::Humidity(100.0));
        assert!(stage.settings.elements.rear && !stage.settings.elements.top);
        assert_eq!(stage.entry, None, "no preheat");
        let timer = stage.timer.as_ref().unwrap();
        assert_eq!((timer.initial_s, &timer.start), (5400, &None));
        assert_eq!(stage.exit, Some(timer_completed()));
        // The echo loses description and rackPosition, as the capture's echo does.
        assert!(plan.echo[0].get("description").is_none());
        assert!(plan.echo[0].get("rackPosition").is_none());
        assert_eq!(plan.echo[0]["do"], capture_start()["stages"][0]["do"]);
    }

    #[test]
    fn v1_pairs_and_the_echo() {
        let payload = json!({"cookId": "c1", "stages": v1_pair("abc", "abc-preheat")});
        let plan = parse(OvenGeneration::V1, Some(&payload)).unwrap();
        assert_eq!(plan.stages.len(), 2);
        assert_eq!(
            plan.stages[0].exit,
            Some(Condition::at_least(Bulb::Dry.path(), 200.0))
        );
        assert_eq!(plan.stages[1].exit, Some(timer_completed()));
        let echo = &plan.echo;
        for key in ["stepType", "description", "rackPosition", "timerAdded"] {
            assert!(echo.iter().all(|s| s.get(key).is_none()), "{key}");
        }
        assert_eq!(echo[0]["fan"]["speed"], 100, "preheat fan rewritten");
        assert_eq!(echo[1]["fan"]["speed"], 50);
        assert_eq!(echo[1]["timer"]["initial"], 600);
    }

    #[test]
    fn what_an_oven_drops() {
        let dropped = |generation, payload: Value| {
            matches!(
                parse(generation, Some(&payload)),
                Err(Rejection::Dropped(_))
            )
        };
        // An unpaired preheat.
        let unpaired = json!({"stages": v1_pair("abc", "other-preheat")});
        assert!(dropped(OvenGeneration::V1, unpaired));
        // All three elements on (v1).
        let mut stages = v1_pair("abc", "abc-preheat");
        stages[1]["heatingElements"]["top"] = json!({"on": true});
        assert!(dropped(OvenGeneration::V1, json!({"stages": stages})));
        // Out of range, on either generation.
        let mut hot = capture_start();
        hot["stages"][0]["do"]["temperatureBulbs"]["wet"]["setpoint"]["celsius"] = json!(120);
        assert!(dropped(OvenGeneration::V2, hot));
        let mut bottom = capture_start();
        bottom["stages"][0]["do"]["temperatureBulbs"] =
            json!({"mode": "dry", "dry": {"setpoint": {"celsius": 240}}});
        bottom["stages"][0]["do"]["heatingElements"] =
            json!({"top": {"on": false}, "bottom": {"on": true}, "rear": {"on": false}});
        assert!(dropped(OvenGeneration::V2, bottom.clone()));
        bottom["stages"][0]["do"]["temperatureBulbs"]["dry"]["setpoint"]["celsius"] = json!(220);
        assert!(
            parse(OvenGeneration::V2, Some(&bottom)).is_ok(),
            "v2 allows 230"
        );
        let mut long = capture_start();
        long["stages"][0]["do"]["timer"]["initial"] = json!(400_000);
        assert!(dropped(OvenGeneration::V2, long));
        assert!(dropped(OvenGeneration::V2, json!({"stages": []})));
        // A v2 plan on a v1 oven.
        assert!(dropped(OvenGeneration::V1, capture_start()));
    }

    #[test]
    fn a_v1_plan_on_a_v2_oven_is_the_wrong_generation() {
        let payload = json!({"cookId": "c1", "stages": v1_pair("abc", "abc-preheat")});
        assert_eq!(
            parse(OvenGeneration::V2, Some(&payload)),
            Err(Rejection::WrongGeneration)
        );
    }

    #[test]
    fn not_a_start_payload_is_invalid() {
        for payload in [None, Some(json!("x")), Some(json!({"stages": 3}))] {
            assert!(matches!(
                parse(OvenGeneration::V2, payload.as_ref()),
                Err(Rejection::Invalid(_))
            ));
        }
    }

    #[test]
    fn timer_start_modes() {
        let mut start = capture_start();
        let timer = &mut start["stages"][0]["do"]["timer"];
        timer["entry"] = json!({"conditions": {"or": {
            "userAction": {"=": true}, "nodes.cavityCamera.isEmpty": {"=": false}}}});
        let plan = parse(OvenGeneration::V2, Some(&start)).unwrap();
        assert!(matches!(
            plan.stages[0].timer.as_ref().unwrap().start,
            Some(Condition::Any(_))
        ));
        let mut start = capture_start();
        start["stages"][0]["do"]["timer"]["startType"] = json!("when-preheated");
        let plan = parse(OvenGeneration::V2, Some(&start)).unwrap();
        assert_eq!(
            plan.stages[0].timer.as_ref().unwrap().start,
            Some(Condition::at_least(Bulb::Wet.path(), 60.0))
        );
    }
}
