//! How a tool call's arguments become what the gateway is asked: a query of the history, a
//! device, a command object. Arguments a reading tool does not know are refused (a typo is not
//! silently ignored); a cook tool's other keys go to the bridge, which checks them as it checks
//! every command.

use super::tools::{ToolName, DEFAULT_COOKS, MAX_COOKS};
use serde_json::{Map, Value};

/// Why a call's arguments cannot become a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BadArguments(pub String);

/// An optional text argument.
fn text(arguments: &Map<String, Value>, key: &str) -> Result<Option<String>, BadArguments> {
    match arguments.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        Some(other) => Err(BadArguments(format!(
            "{key} {}: give a text",
            crate::command::describe(other)
        ))),
    }
}

/// An optional whole number in `range`.
fn whole(
    arguments: &Map<String, Value>,
    key: &str,
    range: (u64, u64),
) -> Result<Option<u64>, BadArguments> {
    match arguments.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|n| (range.0..=range.1).contains(n))
            .map(Some)
            .ok_or_else(|| {
                BadArguments(format!(
                    "{key} {}: give a whole number from {} to {}",
                    crate::command::describe(value),
                    range.0,
                    range.1
                ))
            }),
    }
}

/// The unknown arguments of a reading tool, refused so a typo is not silently ignored.
fn only(
    arguments: &Map<String, Value>,
    known: &[&str],
    tool: ToolName,
) -> Result<(), BadArguments> {
    match arguments.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(BadArguments(format!(
            "{} is not an argument of {}: it takes {}",
            crate::command::bounded(key),
            tool.as_str(),
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// The query of a `list_cooks` call.
pub(super) fn cook_query_of(
    arguments: &Map<String, Value>,
) -> Result<super::backend::CookQuery, BadArguments> {
    only(
        arguments,
        &["device", "since", "until", "limit", "cursor"],
        ToolName::ListCooks,
    )?;
    let time = |key: &str| -> Result<Option<String>, BadArguments> {
        let Some(value) = text(arguments, key)? else {
            return Ok(None);
        };
        time::OffsetDateTime::parse(&value, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                BadArguments(format!(
                    "{key} {}: give an RFC 3339 time such as 2026-03-01T18:00:00Z",
                    crate::command::describe(&Value::String(value.clone()))
                ))
            })?;
        Ok(Some(value))
    };
    Ok(super::backend::CookQuery {
        device: text(arguments, "device")?,
        since: time("since")?,
        until: time("until")?,
        limit: whole(arguments, "limit", (1, u64::from(MAX_COOKS)))?
            .map_or(DEFAULT_COOKS, |n| n as u32),
        cursor: text(arguments, "cursor")?,
    })
}

/// The cook and the curve's rows a `get_cook` call asks for.
pub(super) fn cook_of(arguments: &Map<String, Value>) -> Result<(String, usize), BadArguments> {
    only(arguments, &["cook_id", "points"], ToolName::GetCook)?;
    let id = text(arguments, "cook_id")?.ok_or_else(|| {
        BadArguments("cook_id is required: give a cook's id, as list_cooks gives it".to_owned())
    })?;
    let (low, high) = super::curve::POINTS_RANGE;
    let points = whole(arguments, "points", (low as u64, high as u64))?
        .map_or(super::curve::DEFAULT_POINTS, |n| n as usize);
    Ok((id, points))
}

/// The family a `list_presets` call narrows the list to (`sous_vide`, `oven`), if any.
pub(super) fn preset_family_of(
    arguments: &Map<String, Value>,
) -> Result<Option<String>, BadArguments> {
    only(arguments, &["family"], ToolName::ListPresets)?;
    match text(arguments, "family")? {
        Some(family) if family == "sous_vide" || family == "oven" => Ok(Some(family)),
        Some(other) => Err(BadArguments(format!(
            "family {}: give sous_vide (cookers) or oven",
            crate::command::describe(&Value::String(other))
        ))),
        None => Ok(None),
    }
}

/// The device a call names.
pub(super) fn device_of(arguments: &Map<String, Value>) -> Result<String, BadArguments> {
    match arguments.get("device") {
        Some(Value::String(id)) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        Some(other) => Err(BadArguments(format!(
            "device {}: give the device's id as a string, as list_devices gives it",
            crate::command::describe(other)
        ))),
        None => Err(BadArguments(
            "device is required: give the device's id, as list_devices gives it".to_owned(),
        )),
    }
}

/// The command object a cook tool sends for `arguments` (the device left out). `cook` and
/// `mode` are the tool's own: `start_cook` and `stop_cook` set them, `change_cook` never does.
pub(super) fn command_of(
    tool: ToolName,
    arguments: &Map<String, Value>,
) -> Result<Map<String, Value>, BadArguments> {
    let mut command = Map::new();
    match tool {
        ToolName::StartCook => {
            command.insert("cook".into(), Value::Bool(true));
        }
        ToolName::StopCook => {
            command.insert("cook".into(), Value::Bool(false));
        }
        ToolName::CancelSchedule => {
            command.insert("schedule".into(), Value::from("cancel"));
        }
        _ => {}
    }
    for (key, value) in arguments {
        match key.as_str() {
            "device" => {}
            "cook" | "mode" => {
                return Err(BadArguments(format!(
                    "{key} is not an argument of {}: start_cook starts, stop_cook stops, \
                     change_cook changes",
                    tool.as_str()
                )))
            }
            "id" | "transaction" => {
                command.insert(key.clone(), value.clone());
            }
            _ if super::tools::plan_key_not_taken(tool, key) => {
                return Err(BadArguments(format!(
                    "{key} is not an argument of {}: start_cook plans a cook with start_at or \
                     ready_by, cancel_schedule cancels the pending plan",
                    tool.as_str()
                )))
            }
            // stop_cook and cancel_schedule take nothing else; the other keys go to the
            // bridge, which answers an unknown one with `unknown_key` and its list of keys.
            _ if matches!(tool, ToolName::StopCook | ToolName::CancelSchedule) => {
                return Err(BadArguments(format!(
                    "{key} is not an argument of {}: it takes device and id",
                    tool.as_str()
                )))
            }
            _ => {
                command.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cook_arguments_are_checked() {
        let args = |v: Value| v.as_object().unwrap().clone();
        let query = cook_query_of(&args(
            json!({"device": "a7", "since": "2026-03-01T18:00:00Z"}),
        ))
        .unwrap();
        assert_eq!(query.device.as_deref(), Some("a7"));
        assert_eq!(query.limit, DEFAULT_COOKS);
        assert!(cook_query_of(&args(json!({"since": "yesterday"}))).is_err());
        assert!(cook_query_of(&args(json!({"limit": 0}))).is_err());
        assert!(cook_query_of(&args(json!({"limit": 51}))).is_err());
        assert!(cook_query_of(&args(json!({"devcie": "a7"}))).is_err());
        assert_eq!(
            cook_of(&args(json!({"cook_id": "c1", "points": 20}))),
            Ok(("c1".to_owned(), 20))
        );
        assert_eq!(cook_of(&args(json!({"cook_id": "c1"}))).unwrap().1, 60);
        assert!(cook_of(&args(json!({"points": 20}))).is_err());
        assert!(cook_of(&args(json!({"cook_id": "c1", "points": 5}))).is_err());
    }

    #[test]
    fn preset_arguments_are_checked() {
        let args = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(preset_family_of(&args(json!({}))), Ok(None));
        assert_eq!(
            preset_family_of(&args(json!({"family": "oven"}))),
            Ok(Some("oven".to_owned()))
        );
        assert!(preset_family_of(&args(json!({"family": "cooker"}))).is_err());
        assert!(preset_family_of(&args(json!({"famliy": "oven"}))).is_err());
    }

    #[test]
    fn arguments_become_a_command() {
        let args = |v: Value| v.as_object().unwrap().clone();
        let start = command_of(
            ToolName::StartCook,
            &args(json!({"device": "a7", "target_temperature": 57, "food": "beef"})),
        )
        .unwrap();
        assert_eq!(
            Value::Object(start),
            json!({"cook": true, "target_temperature": 57, "food": "beef"})
        );
        let stop = command_of(
            ToolName::StopCook,
            &args(json!({"device": "a7", "id": "x"})),
        );
        assert_eq!(
            Value::Object(stop.unwrap()),
            json!({"cook": false, "id": "x"})
        );
        assert!(command_of(ToolName::StopCook, &args(json!({"timer": 1}))).is_err());
        let cancel = command_of(ToolName::CancelSchedule, &args(json!({"device": "a7"})));
        assert_eq!(
            Value::Object(cancel.unwrap()),
            json!({"schedule": "cancel"})
        );
        assert!(command_of(ToolName::CancelSchedule, &args(json!({"food": "beef"}))).is_err());
        assert!(command_of(ToolName::ChangeCook, &args(json!({"cook": false}))).is_err());
        let plan = |tool, key: &str| command_of(tool, &args(json!({"device": "a7", key: "18:00"})));
        assert!(plan(ToolName::StartCook, "start_at").is_ok());
        assert!(plan(ToolName::StartCook, "ready_by").is_ok());
        assert!(plan(ToolName::StartCook, "schedule").is_err());
        assert!(plan(ToolName::ChangeCook, "start_at").is_err());
        assert!(plan(ToolName::ChangeCook, "ready_by").is_err());
        assert_eq!(
            device_of(&args(json!({"device": " a7 "}))),
            Ok("a7".to_owned())
        );
        assert!(device_of(&args(json!({"device": 7}))).is_err());
        assert!(device_of(&args(json!({}))).is_err());
    }
}
