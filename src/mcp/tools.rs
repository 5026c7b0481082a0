//! The tools (`docs/interface.md` §9): their names, descriptions and annotations, and their input
//! schemas, built from the families' command key tables (`command::keys`) so that a key added
//! there is offered to language models with the same schema and description as in the OpenAPI
//! document. Also how a call's arguments become a command object.
//!
//! One `start_cook`/`change_cook` serves every device: its schema is the union of the
//! cookers' and the ovens' keys, each described for the family (or families) that take it.

use crate::command::keys::{self, Key, Role};
use crate::config::McpMode;
use crate::{oven, sous_vide};
use serde_json::{json, Map, Value};

/// A tool, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolName {
    /// Every device with its state.
    ListDevices,
    /// One device with its state and its running cook.
    GetDevice,
    /// Recorded cooks, newest first.
    ListCooks,
    /// One recorded cook with a curve a model can read.
    GetCook,
    /// The presets: named commands `start_cook` takes as `preset`.
    ListPresets,
    /// `cook: true` with the cook's keys.
    StartCook,
    /// The cook's keys, without `cook`.
    ChangeCook,
    /// `cook: false`.
    StopCook,
    /// `schedule: cancel`: the device's pending plan.
    CancelSchedule,
}

impl ToolName {
    /// Every tool, in the order they are listed.
    pub const ALL: [ToolName; 9] = [
        Self::ListDevices,
        Self::GetDevice,
        Self::ListCooks,
        Self::GetCook,
        Self::ListPresets,
        Self::StartCook,
        Self::ChangeCook,
        Self::StopCook,
        Self::CancelSchedule,
    ];

    /// The tool's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ListDevices => "list_devices",
            Self::GetDevice => "get_device",
            Self::ListCooks => "list_cooks",
            Self::GetCook => "get_cook",
            Self::ListPresets => "list_presets",
            Self::StartCook => "start_cook",
            Self::ChangeCook => "change_cook",
            Self::StopCook => "stop_cook",
            Self::CancelSchedule => "cancel_schedule",
        }
    }

    /// The tool called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.as_str() == name)
    }

    /// True for the tools that only read.
    pub fn reads_only(self) -> bool {
        matches!(
            self,
            Self::ListDevices
                | Self::GetDevice
                | Self::ListCooks
                | Self::GetCook
                | Self::ListPresets
        )
    }

    /// True when `mode` offers the tool.
    pub fn offered_in(self, mode: McpMode) -> bool {
        mode == McpMode::Control || self.reads_only()
    }
}

/// What a client learns about a tool (`tools/list`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Which tool.
    pub name: ToolName,
    /// A human title.
    pub title: &'static str,
    /// What it does and how to use it, for a model.
    pub description: String,
    /// The JSON Schema of its arguments.
    pub input_schema: Map<String, Value>,
    /// `readOnlyHint`.
    pub read_only: bool,
    /// `destructiveHint` (meaningful only when not read-only).
    pub destructive: bool,
    /// `idempotentHint`.
    pub idempotent: bool,
    /// `openWorldHint`: it acts on the world outside the gateway (a real device).
    pub open_world: bool,
}

/// The tools `mode` offers, in order.
pub fn offered(mode: McpMode) -> Vec<ToolSpec> {
    ToolName::ALL
        .into_iter()
        .filter(|tool| tool.offered_in(mode))
        .map(spec)
        .collect()
}

/// What every answer looks like, for the descriptions.
const ANSWER: &str = "The answer is the gateway's response object: `status` ok with the \
    command as carried out (°C, seconds) and any `warnings`, or `status` error with an \
    `error` `code` and a `message` that says what would be accepted; read it, correct the call \
    and try again. Codes: invalid_value, unknown_key, out_of_range, unsafe (refused by the \
    food-safety rules), rate_limited, device_offline, cloud_unavailable, rejected, timeout, \
    not_confirmed (the device never showed the change), unknown_device.";

/// The spec of one tool.
pub(super) fn spec(name: ToolName) -> ToolSpec {
    let device_only = object(device_property(), &["device"]);
    match name {
        ToolName::ListDevices => ToolSpec {
            name,
            title: "List devices",
            description: "Lists every Anova device the gateway knows, sous-vide cookers and \
                Precision Ovens: its `id` (use it in the other tools), name, `model` (oven_v1 \
                and oven_v2 are ovens, anything else a cooker), whether it is `online`, its \
                limits (`min_temperature_c`, `max_temperature_c`, `max_timer_s`) and its current \
                `state` (temperatures in °C, durations in seconds, times in UTC). Call it first."
                .to_owned(),
            input_schema: object(Map::new(), &[]),
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: false,
        },
        ToolName::GetDevice => ToolSpec {
            name,
            title: "Get a device",
            description: "One device with its current state: whether it is `cooking`, the \
                `stage` (idle, preheating, cooking = at temperature, maintaining = timer done \
                and still holding, alarm), the temperatures and the target in °C, the timer \
                (`timer_total`, `timer_remaining` in seconds, `cook_ends_at`), alarms such as \
                `low_water`, and for ovens the bulbs, steam, elements, fan, probe and stages. \
                While idle, the target and timer are what the next start will use. `cook` is \
                the running cook as the history has it (its `cook_id`, when and by whom it was \
                started, its plan), null when none. `schedule` is the pending plan, a cook \
                planned with start_cook's `start_at` or `ready_by` (`start_at`, `ready_by`, the \
                command, the `estimate` of the time to heat, `food_safety`: the food, the \
                latest safe start, the water temperature and the time above 4.4 °C so far), \
                null when none."
                .to_owned(),
            input_schema: device_only,
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: false,
        },
        ToolName::ListCooks => ToolSpec {
            name,
            title: "List recorded cooks",
            description: format!(
                "Lists the cooks the gateway recorded, newest first: `cook_id` (for get_cook), \
                 `device`, `model`, who started it (`source`: mqtt, http, mcp, schedule, or \
                 device for the Anova app or the device's own buttons), `started_at`, \
                 `ended_at`, `running`, how it ended (`outcome`: completed, stopped, \
                 stopped_on_device, failed, unknown), `duration_s`, `time_to_target_s`, the \
                 lowest and highest temperature once at target, and the `plan` (targets, timer, \
                 food, an oven's stages). Times are RFC 3339 UTC. At most {MAX_COOKS} a page; \
                 give `cursor` = `next_cursor` for the next."
            ),
            input_schema: object(cook_list_properties(), &[]),
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: false,
        },
        ToolName::GetCook => ToolSpec {
            name,
            title: "Get a recorded cook",
            description: format!(
                "One recorded cook: its summary (as list_cooks gives it), its events \
                 (cook_started, preheat_complete, cook_changed, timer_finished, cook_stopped …) \
                 and the commands sent during it with their answers, and its temperature curve \
                 in at most {} rows (`points`, default {}): each row is the minute the slice \
                 starts, the lowest and highest controlled temperature in it (water for a \
                 cooker, the controlling bulb for an oven), and the target (ovens: also probe \
                 and humidity), °C.",
                super::curve::POINTS_RANGE.1,
                super::curve::DEFAULT_POINTS
            ),
            input_schema: object(
                {
                    let mut properties = Map::new();
                    properties.insert(
                        "cook_id".into(),
                        json!({"type": "string", "description": "The cook's `cook_id`, as list_cooks or get_device gives it."}),
                    );
                    properties.insert(
                        "points".into(),
                        json!({"type": "integer", "minimum": super::curve::POINTS_RANGE.0,
                            "maximum": super::curve::POINTS_RANGE.1,
                            "description": "How many rows the curve may have."}),
                    );
                    properties
                },
                &["cook_id"],
            ),
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: false,
        },
        ToolName::ListPresets => ToolSpec {
            name,
            title: "List presets",
            description: "Lists the presets: named cooks to start with start_cook's `preset` \
                (any key given with it overrides the preset's own). Each has a `name` (what \
                `preset` takes), a `title`, the `family` of devices it is for (`sous_vide`: \
                cookers; `oven`: Precision Ovens; a preset of the other family is refused), \
                `built_in` and, for built-in ones, the `source` of its temperatures and times \
                (pasteurisation tables, USDA minimum internal temperatures), and the `command` \
                it stands for (°C, seconds). `family` narrows the list."
                .to_owned(),
            input_schema: object(
                {
                    let mut properties = Map::new();
                    properties.insert(
                        "family".into(),
                        json!({"type": "string", "enum": ["sous_vide", "oven"],
                            "description": "Only the presets of this family."}),
                    );
                    properties
                },
                &[],
            ),
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: false,
        },
        ToolName::StartCook => ToolSpec {
            name,
            title: "Start a cook",
            description: format!(
                "Starts a cook on a device and waits (up to about half a minute) until the \
                 device shows it. Cookers: give `target_temperature` (°C, the water temperature) \
                 and usually `timer`. Ovens: `temperature_mode`, `target_temperature`, \
                 `elements`, `fan`, `steam`, `timer` or `probe_target`, or `stages` for a \
                 multi-stage cook. Keys not given come from the device's pending values. When \
                 food is in it, give `food`: the food-safety rules then refuse a plan that \
                 would leave it unsafe. Everything is checked before anything is sent; nothing \
                 reaches the device if any part is wrong. To change a running cook use \
                 change_cook. \
                 To start later, give `start_at` (start then) or `ready_by` (be done then: \
                 the gateway starts early enough for the timer plus the time to heat, \
                 estimated from the device's past cooks): \"HH:MM\" (24-hour clock, the next \
                 such time in the gateway's local time zone) or an RFC 3339 time with its \
                 offset. Such a plan is checked in full and answered at once with a \
                 `schedule` object (`schedule_id`, `start_at`, `ready_by`, the estimate, the \
                 latest safe start); the cook starts by itself later. A delayed sous-vide \
                 cook needs `food` (\"none\" for water only); with perishable food (anything \
                 but vegetables) the target must be at least 54.4 °C, the food must wait in \
                 an ice bath (water at or below 4.4 °C), and the time above 4.4 °C plus the \
                 time to heat to 54.4 °C may not exceed 2 hours (USDA): a plan that cannot \
                 keep to that is refused `unsafe` with what would be safe, and if the water \
                 warms while it waits the gateway starts the cook early. A perishable oven \
                 plan may not wait more than 2 hours. One plan waits per device (a new one \
                 replaces it); cancel_schedule cancels it. {ANSWER}"
            ),
            input_schema: object(command_properties(name), &["device"]),
            read_only: false,
            // It switches a heater on and replaces the settings of a cook already running.
            destructive: true,
            idempotent: false,
            open_world: true,
        },
        ToolName::ChangeCook => ToolSpec {
            name,
            title: "Change a cook",
            description: format!(
                "Changes the running cook (target temperature, timer, the oven's settings or \
                 stages, the display unit) and waits until the device shows the change; while \
                 the device is idle the values become the pending ones the next start uses. An \
                 oven takes no change to a running cook, so the gateway restarts it with a \
                 complete new start (the answer says so in `warnings`). Give only what \
                 changes. {ANSWER}"
            ),
            input_schema: object(command_properties(name), &["device"]),
            read_only: false,
            destructive: true,
            // A second identical change restarts an oven's cook once more.
            idempotent: false,
            open_world: true,
        },
        ToolName::StopCook => ToolSpec {
            name,
            title: "Stop a cook",
            description: format!(
                "Stops the running cook on a device and waits until the device shows it \
                 idle: the heater goes off and the food is no longer kept at temperature. \
                 {ANSWER}"
            ),
            input_schema: device_and_id(),
            read_only: false,
            destructive: true,
            idempotent: true,
            open_world: true,
        },
        ToolName::CancelSchedule => ToolSpec {
            name,
            title: "Cancel a planned cook",
            description: format!(
                "Cancels the device's pending plan: the cook start_cook planned with \
                 `start_at` or `ready_by` that has not started yet (get_device shows it as \
                 `schedule`). The answer names the cancelled plan (`schedule_id`), or says in \
                 `warnings` that none was pending. A cook already running is not touched: \
                 stop_cook stops it (and cancels a pending plan too). {ANSWER}"
            ),
            input_schema: device_and_id(),
            read_only: false,
            // The plan is gone; making it again is a new call.
            destructive: true,
            idempotent: true,
            // The plan is the gateway's: nothing reaches the device.
            open_world: false,
        },
    }
}

/// An object schema of `properties`, nothing else allowed.
fn object(properties: Map<String, Value>, required: &[&str]) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

fn device_property() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "device".into(),
        json!({
            "type": "string",
            "description": "The device's `id`, as list_devices gives it (not its name)."
        }),
    );
    map
}

/// The most cooks one `list_cooks` answer holds.
pub(super) const MAX_COOKS: u32 = 50;

/// The cooks one `list_cooks` answer holds when the caller does not say.
pub(super) const DEFAULT_COOKS: u32 = 10;

fn cook_list_properties() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "device".into(),
        json!({"type": "string", "description": "Only this device's cooks (its `id`)."}),
    );
    for (name, what) in [("since", "at or after"), ("until", "before")] {
        map.insert(
            name.into(),
            json!({"type": "string", "format": "date-time", "description":
                format!("Only cooks started {what} this time, RFC 3339 (2026-03-01T18:00:00Z).")}),
        );
    }
    map.insert(
        "limit".into(),
        json!({"type": "integer", "minimum": 1, "maximum": MAX_COOKS,
            "description": format!("At most this many (default {DEFAULT_COOKS}).")}),
    );
    map.insert(
        "cursor".into(),
        json!({"type": "string", "description": "`next_cursor` of the previous page."}),
    );
    map
}

/// The arguments of the tools that act on a device with nothing else: `device`, `id`.
fn device_and_id() -> Map<String, Value> {
    let mut properties = device_property();
    properties.insert("id".into(), id_property());
    object(properties, &["device"])
}

fn id_property() -> Value {
    json!({
        "type": "string",
        "description": "Any text, echoed in the answer and recorded in the history; generated \
            when absent."
    })
}

/// Whether `tool` takes a key: `cook`/`mode` are the tools' own; a plan (`start_at`,
/// `ready_by`) is a start, so only `start_cook` takes it; `schedule: cancel` is
/// `cancel_schedule`'s.
fn taken(tool: ToolName, name: &str, role: Role) -> bool {
    match role {
        Role::Action => false,
        Role::Plan => tool == ToolName::StartCook && name != "schedule",
        Role::Cook | Role::Setting | Role::Qualifier => true,
    }
}

/// True when `name` is a plan key (`start_at`, `ready_by`, `schedule`) of some family, which
/// `tool` does not take: the call is refused rather than sent, so that `change_cook` never
/// makes a plan and `start_cook` never cancels one.
pub(super) fn plan_key_not_taken(tool: ToolName, name: &str) -> bool {
    let role = keys::find(sous_vide::command::KEYS, name)
        .map(|k| k.role)
        .or_else(|| keys::find(oven::command::KEYS, name).map(|k| k.role));
    role == Some(Role::Plan) && !taken(tool, name, Role::Plan)
}

/// Adds the keys of `table` that `tool` takes to `into`, each with the family's schema.
fn collect<T>(
    into: &mut Vec<(&'static str, Vec<(&'static str, Value)>)>,
    tool: ToolName,
    family: &'static str,
    table: &[Key<T>],
) {
    for key in table.iter().filter(|key| taken(tool, key.name, key.role)) {
        let schema = (key.schema)();
        match into.iter_mut().find(|(name, _)| *name == key.name) {
            Some((_, schemas)) => schemas.push((family, schema)),
            None => into.push((key.name, vec![(family, schema)])),
        }
    }
}

/// `schema` without its description: what a value must look like.
pub(super) fn shape(schema: &Value) -> Value {
    let mut shape = schema.clone();
    if let Value::Object(map) = &mut shape {
        map.remove("description");
    }
    shape
}

/// The keys of `start_cook` or `change_cook` (`tool`): the device, then every key the
/// families take (but `cook` and `mode`; `start_at` and `ready_by` only for `start_cook`),
/// then `id`. A key of one family says so; a key both take has one schema (the tables agree
/// on it) and both families' descriptions.
pub fn command_properties(tool: ToolName) -> Map<String, Value> {
    let mut keys: Vec<(&'static str, Vec<(&'static str, Value)>)> = Vec::new();
    collect(&mut keys, tool, "Cookers", sous_vide::command::KEYS);
    collect(&mut keys, tool, "Ovens", oven::command::STAGE_KEYS);
    collect(&mut keys, tool, "Ovens", oven::command::KEYS);
    let mut properties = device_property();
    for (name, schemas) in keys {
        let schema = match schemas.as_slice() {
            [(family, schema)] => {
                let text = schema["description"].as_str().unwrap_or_default();
                keys::described(shape(schema), format!("{family} only. {text}"))
            }
            many if many
                .iter()
                .all(|(_, s)| s["description"] == many[0].1["description"]) =>
            {
                many[0].1.clone()
            }
            many => {
                let text: Vec<String> = many
                    .iter()
                    .map(|(family, schema)| {
                        format!(
                            "{family}: {}",
                            schema["description"].as_str().unwrap_or_default()
                        )
                    })
                    .collect();
                keys::described(shape(&many[0].1), text.join(" "))
            }
        };
        properties.insert(name.to_owned(), schema);
    }
    properties.insert("id".into(), id_property());
    properties
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_offers_only_the_reading_tools() {
        let names = |mode| -> Vec<&str> { offered(mode).iter().map(|t| t.name.as_str()).collect() };
        assert_eq!(
            names(McpMode::ReadOnly),
            [
                "list_devices",
                "get_device",
                "list_cooks",
                "get_cook",
                "list_presets"
            ]
        );
        assert_eq!(names(McpMode::Control).len(), ToolName::ALL.len());
        for tool in ToolName::ALL {
            assert_eq!(ToolName::parse(tool.as_str()), Some(tool));
            let spec = spec(tool);
            assert_eq!(spec.read_only, tool.reads_only());
            assert!(spec.description.len() > 80, "{}", tool.as_str());
        }
    }

    /// Every key a family takes (but `cook`/`mode`) is a property of the cook tools, with the
    /// family's value schema; every property but `device` is a key of some family or the
    /// envelope.
    #[test]
    fn the_cook_tools_take_every_key_of_the_tables() {
        let properties = command_properties(ToolName::StartCook);
        let change = command_properties(ToolName::ChangeCook);
        let family_keys = sous_vide::command::KEYS
            .iter()
            .map(|k| (k.name, k.role, (k.schema)()))
            .chain(
                oven::command::STAGE_KEYS
                    .iter()
                    .map(|k| (k.name, k.role, (k.schema)())),
            )
            .chain(
                oven::command::KEYS
                    .iter()
                    .map(|k| (k.name, k.role, (k.schema)())),
            );
        for (name, role, schema) in family_keys {
            match role {
                Role::Action => assert!(!properties.contains_key(name), "{name}"),
                // cancel_schedule's.
                Role::Plan if name == "schedule" => {
                    assert!(!properties.contains_key(name), "{name}")
                }
                _ => assert_eq!(shape(&properties[name]), shape(&schema), "{name}"),
            }
            // A plan is a start: change_cook takes none of its keys, and all the others.
            assert_eq!(
                change.contains_key(name),
                !matches!(role, Role::Action | Role::Plan),
                "{name}"
            );
        }
        for key in ["start_at", "ready_by"] {
            let text = properties[key]["description"].as_str().unwrap();
            assert!(
                text.contains("HH:MM") && text.contains("food"),
                "{key}: {text}"
            );
        }
        for name in properties.keys() {
            let known = name == "device"
                || keys::ENVELOPE_KEYS.contains(&name.as_str())
                || keys::find(sous_vide::command::KEYS, name).is_some()
                || keys::find(oven::command::STAGE_KEYS, name).is_some()
                || keys::find(oven::command::KEYS, name).is_some();
            assert!(known, "{name}");
        }
        assert!(properties["stages"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Ovens only."));
        let target = properties["target_temperature"]["description"]
            .as_str()
            .unwrap();
        assert!(
            target.starts_with("Cookers: ") && target.contains("Ovens: "),
            "{target}"
        );
        assert!(target.contains("restarts the cook"), "{target}");
    }

    /// Home Assistant's MCP client converts every tool's schema with voluptuous-openapi (0.4)
    /// and drops the whole server when one does not convert: it refuses `allOf`, `multipleOf`
    /// and `uniqueItems`, needs a `type` wherever there is no `enum`, `oneOf`, `anyOf` or
    /// `$ref`, and reads `"type": "number"` as "not a whole number".
    #[test]
    fn the_schemas_suit_home_assistants_mcp_client() {
        fn walk(schema: &Value, at: &str) {
            match schema {
                Value::Object(map) => {
                    for keyword in ["allOf", "multipleOf", "uniqueItems"] {
                        assert!(!map.contains_key(keyword), "{keyword} at {at}");
                    }
                    let typed = ["type", "enum", "oneOf", "anyOf", "$ref"]
                        .iter()
                        .any(|k| map.contains_key(*k));
                    assert!(typed, "no type at {at}: {schema}");
                    assert_ne!(map.get("type"), Some(&json!("number")), "at {at}");
                    for (key, value) in map {
                        match key.as_str() {
                            "properties" => {
                                for (name, property) in value.as_object().unwrap() {
                                    walk(property, &format!("{at}.{name}"));
                                }
                            }
                            "items" => walk(value, &format!("{at}[]")),
                            "oneOf" | "anyOf" => {
                                for (i, branch) in value.as_array().unwrap().iter().enumerate() {
                                    walk(branch, &format!("{at}|{i}"));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                other => panic!("not a schema at {at}: {other}"),
            }
        }
        for spec in offered(McpMode::Control) {
            walk(&Value::Object(spec.input_schema), spec.name.as_str());
        }
    }
}
