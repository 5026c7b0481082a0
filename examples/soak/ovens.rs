//! What the soak checks on every oven command the simulated cloud received: only what a
//! Personal Access Token may send (start, stop, unit), each start in the shape of the oven's
//! own generation (`docs/anova-oven.md` §1.8, §1.9; the app's captures) and within what that
//! generation takes, so no plan of the wrong generation ever reaches an oven; and no oven
//! ever in the error state such a plan puts it in.

use crate::report::Violations;
use crate::traffic::is_v1;
use anova2mqtt::simulator::{ApoEnvelope, Fault, OvenChange, OvenMode, SimulatorHandle};
use serde_json::Value;

/// Checks one oven command; returns the first stage's target in °C for a start (the ledger
/// traces it back by that marker).
pub(crate) fn check_sent(envelope: &ApoEnvelope, v: &Violations) -> Option<f64> {
    let oven = &envelope.id;
    match envelope.command_type.as_str() {
        "CMD_APO_START" => {}
        "CMD_APO_STOP" | "CMD_APO_SET_TEMPERATURE_UNIT" => return None,
        other => {
            v.add(format!("{oven}: {other} sent, which a token may not send"));
            return None;
        }
    }
    let Some(payload) = envelope.payload.as_ref().and_then(Value::as_object) else {
        v.add(format!("{oven}: a start without a payload"));
        return None;
    };
    let stages: &[Value] = payload
        .get("stages")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if stages.is_empty() {
        v.add(format!("{oven}: a start without stages"));
        return None;
    }
    let wrong = |why: &str| {
        v.add(format!(
            "{oven}: a plan of the wrong generation was sent ({why}): {}",
            Value::Object(payload.clone())
        ));
    };
    let bulbs_of = |stage: &Value| -> Value {
        if is_v1(oven) {
            stage["temperatureBulbs"].clone()
        } else {
            stage["do"]["temperatureBulbs"].clone()
        }
    };
    if is_v1(oven) {
        let mut keys: Vec<&str> = payload.keys().map(String::as_str).collect();
        keys.sort_unstable();
        if keys != ["cookId", "stages"] {
            wrong(&format!(
                "a 1.0's start holds cookId and stages only, not {keys:?}"
            ));
        }
        for (i, stage) in stages.iter().enumerate() {
            if stage["stepType"] != "stage" || stage.get("do").is_some() {
                wrong(&format!("stage {i} is not a flat v1 stage"));
            }
            // A preheat names the cook stage right after it (`<id>-preheat`), else the oven
            // drops the whole plan.
            if stage["type"] == "preheat" {
                let next = stages.get(i + 1).and_then(|n| n["id"].as_str());
                let paired =
                    next.is_some_and(|n| stage["id"].as_str() == Some(&format!("{n}-preheat")));
                if !paired {
                    wrong(&format!("preheat stage {i} names no cook stage after it"));
                }
            }
            let on = |e: &str| stage["heatingElements"][e]["on"] == true;
            if on("top") && on("bottom") && on("rear") {
                wrong(&format!("stage {i} has all three elements on"));
            }
            let bulbs = &stage["temperatureBulbs"];
            let mode = bulbs["mode"].as_str().unwrap_or("dry");
            let celsius = bulbs[mode]["setpoint"]["celsius"].as_f64().unwrap_or(0.0);
            if mode == "dry" && on("bottom") && !on("top") && !on("rear") && celsius > 180.0 {
                wrong(&format!(
                    "stage {i} heats {celsius} °C with the bottom element alone"
                ));
            }
        }
    } else {
        if payload.get("cookerId").and_then(Value::as_str) != Some(oven.as_str())
            || payload.get("type").and_then(Value::as_str) != Some("oven_v2")
        {
            wrong("a 2.0's start names the oven and its type");
        }
        for (i, stage) in stages.iter().enumerate() {
            if stage.get("do").is_none() || stage.get("stepType").is_some() {
                wrong(&format!("stage {i} is not a v2 stage"));
            }
        }
    }
    let bulbs = bulbs_of(&stages[0]);
    let mode = bulbs["mode"].as_str().unwrap_or("dry");
    let target = bulbs[mode]["setpoint"]["celsius"].as_f64();
    if target.is_none() {
        v.add(format!(
            "{oven}: a start without a target on its first stage"
        ));
    }
    target
}

/// A plan of the wrong generation errors an oven out until it is power cycled: that must never
/// happen. Each time it does, it is a violation, and the oven is power cycled so the soak goes on.
pub(crate) fn check_no_error(sim: &SimulatorHandle, ovens: &[String], v: &Violations) {
    for oven in ovens {
        if sim.oven(oven).is_some_and(|o| o.mode == OvenMode::Error) {
            v.add(format!(
                "{oven} errored out: it was sent a plan of the wrong generation"
            ));
            let _ = sim.inject(Fault::Oven {
                cooker_id: oven.clone(),
                change: OvenChange::PowerCycle,
            });
        }
    }
}
