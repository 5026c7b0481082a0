//! The `CMD_APO_*` commands the gateway sends: the only three a Personal Access Token may send
//! an oven (`docs/anova-oven.md` §1.4), in the nested envelope
//! `{"command", "requestId", "payload": {"id": <oven>, "type": <command>, "payload"?: {…}}}`.
//!
//! A start goes out in its generation's own shape, and a plan can never reach an oven of the
//! other generation: [`OvenV1`] and [`OvenV2`] can only be made from a device of that type
//! ([`OvenAddress::of`]), and [`ApoCommand::StartV1`] / [`ApoCommand::StartV2`] only take the
//! matching one. (A v1 plan puts a real v2 oven into an error state until it is power-cycled.)
//! `CMD_APO_DISCONNECT`, which unpairs the oven, is deliberately not here.

use super::start::{start_v1, start_v2, CookSpec};
use crate::wire::device::{DeviceRef, Generation, TemperatureUnit};
use serde::Serialize;
use serde_json::{json, Value};

/// The address of a Precision Oven 1.0; only [`OvenAddress::of`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvenV1(DeviceRef);

/// The address of a Precision Oven 2.0; only [`OvenAddress::of`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvenV2(DeviceRef);

/// An oven's address, by generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OvenAddress {
    /// `oven_v1`.
    V1(OvenV1),
    /// `oven_v2`.
    V2(OvenV2),
}

impl OvenAddress {
    /// The address of a device whose type names an oven generation we know; `None` otherwise.
    pub fn of(device: &DeviceRef) -> Option<Self> {
        match device.device_type.generation() {
            Generation::OvenV1 => Some(Self::V1(OvenV1(device.clone()))),
            Generation::OvenV2 => Some(Self::V2(OvenV2(device.clone()))),
            _ => None,
        }
    }

    /// The `cookerId` and exact `type`.
    pub fn device(&self) -> &DeviceRef {
        match self {
            Self::V1(OvenV1(d)) | Self::V2(OvenV2(d)) => d,
        }
    }
}

/// The oven commands the gateway sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ApoCommand {
    /// `CMD_APO_START` to a Precision Oven 1.0, in the v1 shape.
    StartV1 {
        /// The oven.
        oven: OvenV1,
        /// The cook.
        cook: CookSpec,
    },
    /// `CMD_APO_START` to a Precision Oven 2.0, in the v2 shape.
    StartV2 {
        /// The oven.
        oven: OvenV2,
        /// The cook.
        cook: CookSpec,
    },
    /// `CMD_APO_STOP`.
    Stop {
        /// The oven.
        oven: OvenAddress,
    },
    /// `CMD_APO_SET_TEMPERATURE_UNIT`: the display only; the wire stays °C.
    SetTemperatureUnit {
        /// The oven.
        oven: OvenAddress,
        /// The new display unit.
        unit: TemperatureUnit,
    },
}

impl ApoCommand {
    /// A start in the shape of the oven's generation.
    pub fn start(oven: OvenAddress, cook: CookSpec) -> Self {
        match oven {
            OvenAddress::V1(oven) => Self::StartV1 { oven, cook },
            OvenAddress::V2(oven) => Self::StartV2 { oven, cook },
        }
    }

    /// The `command` text.
    pub fn name(&self) -> &'static str {
        match self {
            Self::StartV1 { .. } | Self::StartV2 { .. } => "CMD_APO_START",
            Self::Stop { .. } => "CMD_APO_STOP",
            Self::SetTemperatureUnit { .. } => "CMD_APO_SET_TEMPERATURE_UNIT",
        }
    }

    /// The oven's `cookerId` and `type`.
    pub fn device(&self) -> &DeviceRef {
        match self {
            Self::StartV1 {
                oven: OvenV1(d), ..
            }
            | Self::StartV2 {
                oven: OvenV2(d), ..
            } => d,
            Self::Stop { oven } | Self::SetTemperatureUnit { oven, .. } => oven.device(),
        }
    }

    /// The inner `payload`, absent for commands without arguments.
    fn inner(&self) -> Option<Value> {
        match self {
            Self::StartV1 { cook, .. } => Some(start_v1(cook)),
            Self::StartV2 {
                oven: OvenV2(d),
                cook,
            } => Some(start_v2(cook, d.cloud_id.as_str(), d.device_type.as_str())),
            Self::Stop { .. } => None,
            Self::SetTemperatureUnit { unit, .. } => {
                Some(json!({"temperatureUnit": unit.as_str()}))
            }
        }
    }

    /// The whole frame.
    pub fn to_frame(&self, request_id: &str) -> String {
        #[derive(Serialize)]
        struct Envelope<'a> {
            id: &'a str,
            #[serde(rename = "type")]
            command: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            payload: Option<Value>,
        }
        #[derive(Serialize)]
        struct Frame<'a> {
            command: &'static str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: Envelope<'a>,
        }
        serde_json::to_string(&Frame {
            command: self.name(),
            request_id,
            payload: Envelope {
                id: self.device().cloud_id.as_str(),
                command: self.name(),
                payload: self.inner(),
            },
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oven::wire::{BulbMode, Elements, Setpoint, StageSpec, StageTimer, TimerStart};
    use crate::wire::DeviceType;

    const V2_START: &str = include_str!(
        "../../../tests/fixtures/anova-messages/CMD_APO_START.oven_v2.documented.json"
    );

    fn address(id: &str, t: &str) -> OvenAddress {
        OvenAddress::of(&DeviceRef {
            cloud_id: id.into(),
            device_type: DeviceType::new(t),
        })
        .unwrap()
    }

    fn rear() -> Elements {
        Elements {
            top: false,
            bottom: false,
            rear: true,
        }
    }

    #[test]
    fn a_v2_start_is_the_documented_example() {
        let cook = CookSpec {
            cook_id: "e4f5c1d0-7a32-4b84-8f3e-3a1d2b6c9f00".into(),
            stages: vec![StageSpec {
                id: "1d9f6c3e-5b1a-4a9e-9d42-0c7b1f2e3a01".into(),
                title: String::new(),
                mode: BulbMode::Wet,
                target: Setpoint {
                    celsius: 60.0,
                    fahrenheit: 140.0,
                },
                steam: 100,
                elements: rear(),
                fan: 100,
                timer: Some(StageTimer {
                    seconds: 5400,
                    start: TimerStart::Immediately,
                }),
                probe: None,
            }],
        };
        let command = ApoCommand::start(address("OVENID0000000000001", "oven_v2"), cook);
        assert!(matches!(command, ApoCommand::StartV2 { .. }));
        let ours: Value =
            serde_json::from_str(&command.to_frame("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"))
                .unwrap();
        let documented: Value = serde_json::from_str(V2_START).unwrap();
        assert_eq!(ours, documented);
    }

    const V1_START_REAL: &str =
        include_str!("../../../tests/fixtures/anova-messages/CMD_APO_START.oven_v1.real.json");
    const V2_START_REAL: &str =
        include_str!("../../../tests/fixtures/anova-messages/CMD_APO_START.oven_v2.real.json");

    /// A dry stage on the rear element, as in the captures.
    fn dry_rear(id: &str, title: &str, celsius: f64, fahrenheit: f64) -> StageSpec {
        StageSpec {
            id: id.into(),
            title: title.into(),
            mode: BulbMode::Dry,
            target: Setpoint {
                celsius,
                fahrenheit,
            },
            steam: 0,
            elements: rear(),
            fan: 100,
            timer: None,
            probe: None,
        }
    }

    fn without(mut stage: Value, keys: &[&str]) -> Value {
        if let Some(fields) = stage.as_object_mut() {
            for key in keys {
                fields.remove(*key);
            }
        }
        stage
    }

    /// The app's v1 start captured from a Precision Oven 1.0 (`docs/anova-oven.md` §1.9,
    /// `CMD_APO_START.oven_v1.real.json`): the inner payload is `cookId` and `stages` only, and
    /// each preheat/cook pair of the same cook is ours key for key and value for value, but
    /// for the ids and the official example's `stageTransitionType: "automatic"`.
    #[test]
    fn a_v1_start_is_what_the_app_sends() {
        let real: Value = serde_json::from_str(V1_START_REAL).unwrap();
        let real_stages = real["payload"]["payload"]["stages"].as_array().unwrap();
        let when_preheated = |seconds| {
            Some(StageTimer {
                seconds,
                start: TimerStart::WhenPreheated,
            })
        };
        let cook = CookSpec {
            cook_id: "cook-1".into(),
            stages: vec![
                StageSpec {
                    timer: when_preheated(1800),
                    ..dry_rear("a", "First stage", 210.0, 410.0)
                },
                StageSpec {
                    timer: when_preheated(600),
                    ..dry_rear("c", "stage 3, higher temperature", 210.0, 410.0)
                },
            ],
        };
        let command = ApoCommand::start(address("0123456789abcdef", "oven_v1"), cook);
        let frame: Value = serde_json::from_str(&command.to_frame("req")).unwrap();
        assert_eq!(frame["payload"]["id"], "0123456789abcdef");
        assert_eq!(frame["payload"]["type"], "CMD_APO_START");
        let payload = frame["payload"]["payload"].as_object().unwrap();
        assert_eq!(
            payload.keys().collect::<Vec<_>>(),
            real["payload"]["payload"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            "cookId and stages, nothing else"
        );
        let ours = payload["stages"].as_array().unwrap();
        // The app's first and third pairs (its second waits for the user on a rack of its own).
        for (mine, theirs) in [(0, 0), (1, 1), (2, 4), (3, 5)] {
            assert_eq!(ours[mine]["stageTransitionType"], "automatic");
            assert_eq!(
                without(ours[mine].clone(), &["id", "stageTransitionType"]),
                without(real_stages[theirs].clone(), &["id"]),
                "stage {mine} against the app's stage {theirs}"
            );
        }
        // A preheat is bound to its cook stage by id.
        assert_eq!(
            (ours[0]["id"].as_str(), ours[1]["id"].as_str()),
            (Some("a-preheat"), Some("a"))
        );
    }

    /// No `timerAdded`/`probeAdded` on a stage with neither; both with either; none on a preheat;
    /// a stage that waits for the user has no `stageTransitionType`.
    #[test]
    fn v1_flags_as_the_app_sends_them() {
        let stages = |spec: StageSpec| -> Vec<Value> {
            let command = ApoCommand::start(
                address("o", "oven_v1"),
                CookSpec {
                    cook_id: "c".into(),
                    stages: vec![spec],
                },
            );
            let frame: Value = serde_json::from_str(&command.to_frame("r")).unwrap();
            frame["payload"]["payload"]["stages"]
                .as_array()
                .unwrap()
                .clone()
        };
        let open = stages(dry_rear("s", "Roast", 200.0, 392.0));
        assert_eq!(open.len(), 2);
        for stage in &open {
            assert!(stage.get("timerAdded").is_none() && stage.get("probeAdded").is_none());
        }
        assert_eq!(
            (open[0]["title"].as_str(), open[1]["title"].as_str()),
            (Some("Roast"), Some(""))
        );
        let probe = stages(StageSpec {
            probe: Some(Setpoint {
                celsius: 63.0,
                fahrenheit: 145.4,
            }),
            ..dry_rear("s", "", 180.0, 356.0)
        });
        assert!(probe[0].get("probeAdded").is_none());
        assert_eq!(
            (
                probe[1]["timerAdded"].as_bool(),
                probe[1]["probeAdded"].as_bool()
            ),
            (Some(false), Some(true))
        );
        assert_eq!(
            probe[1]["temperatureProbe"]["setpoint"],
            json!({"celsius": 63, "fahrenheit": 145.4})
        );
        let manual = stages(StageSpec {
            timer: Some(StageTimer {
                seconds: 60,
                start: TimerStart::Manually,
            }),
            ..dry_rear("s", "", 180.0, 356.0)
        });
        assert_eq!(manual[1]["userActionRequired"], true);
        assert!(manual[1].get("stageTransitionType").is_none());
        // A timer that starts at once: one cook stage, with the title.
        let at_once = stages(StageSpec {
            timer: Some(StageTimer {
                seconds: 60,
                start: TimerStart::Immediately,
            }),
            ..dry_rear("s", "Keep warm", 80.0, 176.0)
        });
        assert_eq!(at_once.len(), 1);
        assert_eq!(at_once[0]["title"], "Keep warm");
    }

    /// The app's v2 capture (`CMD_APO_START.oven_v2.real.json`: 23.89 °C dry on the rear
    /// element with 100 % humidity, run until stopped): our v2 start for the same cook is the
    /// app's field for field, header included, but for the ids and where it comes from.
    #[test]
    fn a_v2_start_is_what_the_app_sends() {
        let real: Value = serde_json::from_str(V2_START_REAL).unwrap();
        let cook = CookSpec {
            cook_id: "c".into(),
            stages: vec![StageSpec {
                steam: 100,
                ..dry_rear("s", "", 23.89, 75.0)
            }],
        };
        let command = ApoCommand::start(address("oven-1", "oven_v2"), cook);
        let ours: Value = serde_json::from_str(&command.to_frame("r")).unwrap();
        assert_eq!(ours["payload"]["id"], "oven-1");
        assert_eq!(ours["payload"]["type"], "CMD_APO_START");
        let (mine, theirs) = (&ours["payload"]["payload"], &real["payload"]["payload"]);
        // The header: the same keys, ours naming this oven and this gateway.
        assert_eq!(
            (&mine["cookerId"], &mine["type"], &mine["originSource"]),
            (&json!("oven-1"), &json!("oven_v2"), &json!("api"))
        );
        let skip = ["stages", "cookId", "cookerId", "cookableId", "originSource"];
        assert_eq!(without(mine.clone(), &skip), without(theirs.clone(), &skip));
        assert_eq!(keys(mine), keys(theirs));
        assert_eq!(
            without(mine["stages"][0].clone(), &["id"]),
            without(theirs["stages"][0].clone(), &["id"]),
        );
    }

    /// The sorted keys of an object.
    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    /// Which keys each generation's start has, against the captures: the header only for v2;
    /// per v1 stage, the timer and probe keys only on a cook stage with a timer or a probe.
    #[test]
    fn each_generation_has_the_keys_of_its_capture() {
        let v1: Value = serde_json::from_str(V1_START_REAL).unwrap();
        let v2: Value = serde_json::from_str(V2_START_REAL).unwrap();
        let header = [
            "cookableId",
            "cookableType",
            "cookerId",
            "originSource",
            "title",
            "type",
        ];
        let payload = |t: &str, stages: Vec<StageSpec>| -> Value {
            let command = ApoCommand::start(
                address("o", t),
                CookSpec {
                    cook_id: "c".into(),
                    stages,
                },
            );
            let frame: Value = serde_json::from_str(&command.to_frame("r")).unwrap();
            frame["payload"]["payload"].clone()
        };
        let timed = StageSpec {
            timer: Some(StageTimer {
                seconds: 600,
                start: TimerStart::WhenPreheated,
            }),
            ..dry_rear("a", "Roast", 200.0, 392.0)
        };
        let open = dry_rear("b", "", 180.0, 356.0);
        let ours_v1 = payload("oven_v1", vec![timed.clone(), open.clone()]);
        let ours_v2 = payload("oven_v2", vec![timed, open]);
        assert_eq!(keys(&ours_v1), keys(&v1["payload"]["payload"]));
        assert_eq!(keys(&ours_v1), ["cookId", "stages"]);
        assert_eq!(keys(&ours_v2), keys(&v2["payload"]["payload"]));
        for key in header {
            assert!(ours_v1.get(key).is_none(), "v1 has no {key}");
            assert!(ours_v2.get(key).is_some(), "v2 has {key}");
        }
        // v1: preheat, timed cook, preheat, open cook; the capture's stages 0, 1 and 4 show the
        // first three; no capture stage is a cook stage without a timer, so its keys are the
        // preheat's (the app's stage keys but for the ending's).
        let real_v1 = &v1["payload"]["payload"]["stages"];
        let ours = &ours_v1["stages"];
        let without_transition = |v: &Value| {
            keys(&without(v.clone(), &["stageTransitionType"]))
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            without_transition(&ours[0]),
            without_transition(&real_v1[0])
        );
        assert_eq!(
            without_transition(&ours[1]),
            without_transition(&real_v1[1])
        );
        assert_eq!(
            without_transition(&ours[2]),
            without_transition(&real_v1[4])
        );
        assert_eq!(
            without_transition(&ours[3]),
            without_transition(&real_v1[4])
        );
        for ending in ["timerAdded", "probeAdded", "timer", "temperatureProbe"] {
            assert!(ours[0].get(ending).is_none() && ours[2].get(ending).is_none());
            assert!(
                ours[3].get(ending).is_none(),
                "an open cook stage has no {ending}"
            );
        }
        // v2: one stage per step, none of v1's flat keys.
        let real_v2 = &v2["payload"]["payload"]["stages"][0];
        for stage in ours_v2["stages"].as_array().unwrap() {
            assert_eq!(keys(stage), keys(real_v2), "{stage}");
            for flat in ["stepType", "type", "timerAdded", "temperatureBulbs", "vent"] {
                assert!(stage.get(flat).is_none(), "{flat} in {stage}");
            }
        }
    }

    #[test]
    fn stop_and_unit_are_the_documented_envelopes() {
        for t in ["oven_v1", "oven_v2"] {
            let stop = ApoCommand::Stop {
                oven: address("0123456789abcdef", t),
            };
            let frame: Value =
                serde_json::from_str(&stop.to_frame("1eddc2c8-d1f1-446b-b76d-334221134")).unwrap();
            assert_eq!(
                frame,
                json!({"command": "CMD_APO_STOP", "payload": {"type": "CMD_APO_STOP",
                    "id": "0123456789abcdef"}, "requestId": "1eddc2c8-d1f1-446b-b76d-334221134"})
            );
            let unit = ApoCommand::SetTemperatureUnit {
                oven: address("o", t),
                unit: TemperatureUnit::C,
            };
            let frame: Value = serde_json::from_str(&unit.to_frame("r")).unwrap();
            assert_eq!(frame["payload"]["payload"], json!({"temperatureUnit": "C"}));
            assert_eq!(frame["payload"]["type"], "CMD_APO_SET_TEMPERATURE_UNIT");
        }
    }

    #[test]
    fn v2_stages_encode_preheat_timer_start_and_probe() {
        let stage = |timer: Option<StageTimer>, probe: Option<f64>| StageSpec {
            id: "s".into(),
            title: String::new(),
            mode: BulbMode::Dry,
            target: Setpoint {
                celsius: 200.0,
                fahrenheit: 392.0,
            },
            steam: 30,
            elements: rear(),
            fan: 100,
            timer,
            probe: probe.map(|c| Setpoint {
                celsius: c,
                fahrenheit: 0.0,
            }),
        };
        let frame = |spec: StageSpec| -> Value {
            let command = ApoCommand::start(
                address("o", "oven_v2"),
                CookSpec {
                    cook_id: "c".into(),
                    stages: vec![spec],
                },
            );
            let value: Value = serde_json::from_str(&command.to_frame("r")).unwrap();
            value["payload"]["payload"]["stages"][0].clone()
        };
        let preheated = json!({"conditions": {"and": {"nodes.temperatureBulbs.dry.current.celsius": {">=": 200}}}});
        // The app's two-stage example, stage 1: 200 °C with 30 % steam, 20 min after preheat.
        let timed = frame(stage(
            Some(StageTimer {
                seconds: 1200,
                start: TimerStart::WhenPreheated,
            }),
            None,
        ));
        assert_eq!(timed["entry"], preheated);
        assert_eq!(
            timed["do"]["timer"],
            json!({"initial": 1200, "entry": preheated})
        );
        assert_eq!(
            timed["do"]["steamGenerators"],
            json!({"mode": "steam-percentage", "steamPercentage": {"setpoint": 30}})
        );
        assert_eq!(
            timed["exit"],
            json!({"conditions": {"and": {"nodes.timer.mode": {"=": "completed"}}}})
        );
        let food = frame(stage(
            Some(StageTimer {
                seconds: 300,
                start: TimerStart::OnFoodDetected,
            }),
            None,
        ));
        assert_eq!(
            food["do"]["timer"]["entry"],
            json!({"conditions": {"or": {"userAction": {"=": true}, "nodes.cavityCamera.isEmpty": {"=": false}}}})
        );
        let probe = frame(stage(None, Some(57.0)));
        assert_eq!(
            probe["do"]["temperatureProbe"],
            json!({"setpoint": {"celsius": 57}})
        );
        assert_eq!(
            probe["exit"],
            json!({"conditions": {"and": {"nodes.temperatureProbe.current.celsius": {">=": 57}}}})
        );
        assert!(probe["do"].get("timer").is_none());
        let open = frame(stage(None, None));
        assert_eq!(
            open["exit"],
            json!({"conditions": {"and": {}}}),
            "until stopped"
        );
    }
}
