//! How the cloud answers a client command (`docs/anova-protocol.md` §2 and §6.2), before any cooker
//! is looked at. Pure.
//!
//! | command | answer |
//! |---|---|
//! | not a known command name | `Unknown command type` |
//! | `CMD_APC_SET_TARGET_TEMP` / `CMD_APC_SET_TIMER` with the PAT allow-list enforced | `unauthorized` \[INF] |
//! | an APC command with a payload the validators refuse | `invalid command` \[LIVE] |
//! | app-only APC commands (`CMD_APC_DISCONNECT`, `CMD_APC_SET_METADATA`, …) | `invalid command` \[LIVE] |
//! | `CMD_APC_HEALTHCHECK`, `AUTH_TOKEN_V2` | `failed to process command` \[LIVE] |
//! | `CMD_AUTH_TOKEN` | `unauthorized` \[LIVE] |
//! | token management (`CMD_LIST_TOKENS`, …) | `unauthorized`: they need an app session \[INF] |
//! | `CMD_EXPORT_TELEMETRY` | `failed to process command`: telemetry is not simulated |
//! | the five APC commands | `ok`, then routed to the cooker; an unknown `cookerId` or a wrong/missing `type` is still `ok` and silently ignored \[LIVE quirk] |
//! | `CMD_APO_START`, `CMD_APO_STOP`, `CMD_APO_SET_TEMPERATURE_UNIT` (what a PAT may send \[DOC]) | `ok`, then routed to the oven by `payload.id`; an unknown id, or a `payload.type` that is not the command's name, is still `ok` and ignored \[INF, as for cookers]; a START whose inner payload is not an object with a `stages` array, or a unit that is not `C`/`F`, is `invalid command` \[INF] |
//! | app-only oven commands (`CMD_APO_START_STAGE`, `CMD_APO_SET_*`, `CMD_APO_UPDATE_COOK_STAGE(S)`, `CMD_APO_DISCONNECT`, …) | with the allow-list enforced `unauthorized` \[LIVE robdimsdale for START_STAGE]; without it `ok` and nothing happens: the simulator does not model them (it never unpairs an oven) |
//! | any other `CMD_APO_*` | `Unknown command type` |

use super::wire::client::{ApcCommand, ApcCommandName, ClientCommand, ClientFrame};
use super::wire::TemperatureUnit;
use serde_json::Value;

/// The longest timer the app's validators allow: 99 h 59 min (`docs/anova-protocol.md` §5).
const MAX_TIMER_S: u32 = 359_940;

/// The command name is not recognised.
pub(crate) const UNKNOWN_COMMAND: &str = "Unknown command type";
/// A known command that is invalid here or with these parameters.
pub(crate) const INVALID_COMMAND: &str = "invalid command";
/// Accepted but failed.
pub(crate) const FAILED: &str = "failed to process command";
/// Not allowed for this session.
pub(crate) const UNAUTHORIZED: &str = "unauthorized";

/// The validator's temperature range for APC targets, °C (`docs/anova-protocol.md` §5).
const TARGET_RANGE_C: std::ops::RangeInclusive<f64> = 0.0..=99.5;

/// What to do with one command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Answer with this error text.
    Error(&'static str),
    /// Answer `ok`; nothing happens, for this reason.
    Ignore(&'static str),
    /// Answer `ok` and route the command to its cooker.
    Apc(ApcCommand),
    /// Answer `ok` (unless the oven finds the payload invalid) and route it to the oven.
    Apo {
        /// `payload.id`.
        oven_id: String,
        /// What to do.
        command: OvenCommand,
    },
}

/// Commands of the sous-vide app that a third-party session cannot use.
const APP_ONLY_APC: &[&str] = &[
    "CMD_APC_DISCONNECT",
    "CMD_APC_SET_METADATA",
    "CMD_APC_START_ICEBATH_MONITORING",
    "CMD_APC_OTA",
    "CMD_APC_REGISTER_PUSH_TOKEN",
    "CMD_APC_A3_SET_CREDENTIALS",
    "CMD_NAME_WIFI_DEVICE",
];

/// Token management needs an app (Firebase) session.
const TOKEN_MANAGEMENT: &[&str] = &[
    "CMD_LIST_TOKENS",
    "CMD_CREATE_TOKEN",
    "CMD_RENAME_TOKEN",
    "CMD_DELETE_TOKEN",
];

/// Oven commands a personal access token may send.
const PAT_OVEN: &[&str] = &[
    "CMD_APO_START",
    "CMD_APO_STOP",
    "CMD_APO_SET_TEMPERATURE_UNIT",
];

/// Oven commands only the app sends (`docs/anova-oven.md` §1.10 \[APP]).
const APP_ONLY_OVEN: &[&str] = &[
    "CMD_APO_START_STAGE",
    "CMD_APO_UPDATE_COOK_STAGE",
    "CMD_APO_UPDATE_COOK_STAGES",
    "CMD_APO_SET_TEMPERATURE_BULBS",
    "CMD_APO_SET_FAN",
    "CMD_APO_SET_HEATING_ELEMENTS",
    "CMD_APO_SET_STEAM_GENERATORS",
    "CMD_APO_SET_TIMER",
    "CMD_APO_SET_PROBE",
    "CMD_APO_SET_VENT",
    "CMD_APO_SET_LAMP",
    "CMD_APO_SET_LAMP_PREFERENCE",
    "CMD_APO_NAME_WIFI_DEVICE",
    "CMD_APO_SET_REPORT_STATE_RATE",
    "CMD_APO_SET_REPORT_STATE_RATE_DEFAULT",
    "CMD_APO_START_DESCALE",
    "CMD_APO_ABORT_DESCALE",
    "CMD_APO_OTA",
    "CMD_APO_START_LIVE_STREAM",
    "CMD_APO_STOP_LIVE_STREAM",
    "CMD_APO_SET_TIME_ZONE",
    "CMD_APO_SET_CONFIGURATION",
    "CMD_APO_GET_CONFIGURATION",
    "CMD_APO_SET_METADATA",
    "CMD_APO_SET_BOILER_TIME",
    "CMD_APO_HEALTHCHECK",
    "CMD_APO_REQUEST_DIAGNOSTIC",
    "CMD_APO_REPORT_LOGS",
    "CMD_APO_SET_SUBSCRIPTION",
    "CMD_APO_SET_IMAGE_ANALYSIS",
    "CMD_APO_REGISTER_PUSH_TOKEN",
    "CMD_APO_DISCONNECT",
];

/// An oven command a PAT may send, decoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OvenCommand {
    /// `CMD_APO_START` with its inner payload (the oven reads the plan: its generation decides
    /// the shape).
    Start(Option<Value>),
    /// `CMD_APO_STOP`.
    Stop,
    /// `CMD_APO_SET_TEMPERATURE_UNIT`.
    SetTemperatureUnit(TemperatureUnit),
}

/// Reads one client text frame; `None` for text that is not a command frame at all (there is
/// nothing to answer). A known command with a payload that does not decode still yields a frame
/// (with [`ClientCommand::Invalid`]) so it can be answered `invalid command`.
pub(crate) fn parse_command(text: &str) -> Option<ClientFrame> {
    ClientFrame::parse(text).ok()
}

/// Decides the answer to `frame`; `enforce_pat_allow_list` makes the server behave as it
/// (most likely) does for a personal access token.
pub(crate) fn route(frame: &ClientFrame, enforce_pat_allow_list: bool) -> Verdict {
    let name = frame.command.as_str();
    if let Some(apc) = ApcCommandName::parse(name) {
        if enforce_pat_allow_list
            && matches!(
                apc,
                ApcCommandName::SetTargetTemp | ApcCommandName::SetTimer
            )
        {
            return Verdict::Error(UNAUTHORIZED);
        }
        return match &frame.body {
            ClientCommand::Apc { command, .. } if is_valid(command) => {
                Verdict::Apc(command.clone())
            }
            _ => Verdict::Error(INVALID_COMMAND),
        };
    }
    match name {
        "AUTH_TOKEN_V2" | "CMD_APC_HEALTHCHECK" | "CMD_EXPORT_TELEMETRY" => Verdict::Error(FAILED),
        "CMD_AUTH_TOKEN" => Verdict::Error(UNAUTHORIZED),
        _ if TOKEN_MANAGEMENT.contains(&name) => Verdict::Error(UNAUTHORIZED),
        _ if APP_ONLY_APC.contains(&name) => Verdict::Error(INVALID_COMMAND),
        _ if PAT_OVEN.contains(&name) => route_oven(frame),
        _ if APP_ONLY_OVEN.contains(&name) => {
            if enforce_pat_allow_list {
                Verdict::Error(UNAUTHORIZED)
            } else {
                Verdict::Ignore("app-only oven commands are not simulated")
            }
        }
        _ => Verdict::Error(UNKNOWN_COMMAND),
    }
}

/// One of the three oven commands a PAT may send.
fn route_oven(frame: &ClientFrame) -> Verdict {
    let ClientCommand::Apo(envelope) = &frame.body else {
        return Verdict::Error(INVALID_COMMAND);
    };
    if envelope.command_type != frame.command {
        return Verdict::Ignore("payload.type is not the command's name");
    }
    let command = match frame.command.as_str() {
        "CMD_APO_START" => OvenCommand::Start(envelope.payload.clone()),
        "CMD_APO_STOP" => OvenCommand::Stop,
        _ => {
            let unit = envelope
                .payload
                .as_ref()
                .and_then(|p| p.get("temperatureUnit"))
                .and_then(Value::as_str)
                .and_then(TemperatureUnit::parse);
            match unit {
                Some(unit) => OvenCommand::SetTemperatureUnit(unit),
                None => return Verdict::Error(INVALID_COMMAND),
            }
        }
    };
    Verdict::Apo {
        oven_id: envelope.id.clone(),
        command,
    }
}

/// The app validators' ranges: target 0–99.5 °C, timer at most 99 h 59 min.
fn is_valid(command: &ApcCommand) -> bool {
    let target_ok =
        |target: f64, unit: TemperatureUnit| TARGET_RANGE_C.contains(&unit.to_celsius(target));
    match command {
        ApcCommand::Start {
            target_temperature,
            unit,
            timer,
            ..
        } => target_ok(*target_temperature, *unit) && timer.is_none_or(|t| t <= MAX_TIMER_S),
        ApcCommand::SetTargetTemp {
            target_temperature,
            unit,
            ..
        } => target_ok(*target_temperature, *unit),
        ApcCommand::SetTimer { timer, .. } => *timer <= MAX_TIMER_S,
        ApcCommand::Stop { .. } | ApcCommand::SetTemperatureUnit { .. } => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str, pat: bool) -> Verdict {
        route(&parse_command(text).expect("a command"), pat)
    }

    fn apc(command: &str, payload: &str) -> String {
        format!(r#"{{"command":"{command}","requestId":"r","payload":{payload}}}"#)
    }

    #[test]
    fn unknown_names() {
        assert_eq!(
            verdict(&apc("CMD_MAKE_COFFEE", "{}"), false),
            Verdict::Error(UNKNOWN_COMMAND)
        );
    }

    #[test]
    fn the_pat_allow_list() {
        let set_target = apc(
            "CMD_APC_SET_TARGET_TEMP",
            r#"{"cookerId":"c","type":"a7","targetTemperature":60,"unit":"C"}"#,
        );
        let set_timer = apc(
            "CMD_APC_SET_TIMER",
            r#"{"cookerId":"c","type":"a7","timer":60}"#,
        );
        let stop = apc("CMD_APC_STOP", r#"{"cookerId":"c","type":"a7"}"#);
        for text in [&set_target, &set_timer] {
            assert_eq!(verdict(text, true), Verdict::Error(UNAUTHORIZED));
            assert!(matches!(verdict(text, false), Verdict::Apc(_)));
        }
        assert!(matches!(verdict(&stop, true), Verdict::Apc(_)));
        assert_eq!(
            verdict(&apc("CMD_APO_SET_LAMP", "{}"), true),
            Verdict::Error(UNAUTHORIZED)
        );
        assert!(matches!(
            verdict(&apc("CMD_APO_SET_LAMP", "{}"), false),
            Verdict::Ignore(_)
        ));
        let stop = r#"{"id":"o","type":"CMD_APO_STOP"}"#;
        assert_eq!(
            verdict(&apc("CMD_APO_STOP", stop), true),
            Verdict::Apo {
                oven_id: "o".into(),
                command: OvenCommand::Stop
            }
        );
    }

    #[test]
    fn oven_commands() {
        let start = r#"{"id":"o","type":"CMD_APO_START","payload":{"stages":[]}}"#;
        assert!(matches!(
            verdict(&apc("CMD_APO_START", start), false),
            Verdict::Apo {
                command: OvenCommand::Start(Some(_)),
                ..
            }
        ));
        let unit =
            r#"{"id":"o","type":"CMD_APO_SET_TEMPERATURE_UNIT","payload":{"temperatureUnit":"F"}}"#;
        assert!(matches!(
            verdict(&apc("CMD_APO_SET_TEMPERATURE_UNIT", unit), false),
            Verdict::Apo {
                command: OvenCommand::SetTemperatureUnit(TemperatureUnit::F),
                ..
            }
        ));
        let kelvin =
            r#"{"id":"o","type":"CMD_APO_SET_TEMPERATURE_UNIT","payload":{"temperatureUnit":"K"}}"#;
        assert_eq!(
            verdict(&apc("CMD_APO_SET_TEMPERATURE_UNIT", kelvin), false),
            Verdict::Error(INVALID_COMMAND)
        );
        let mismatch = r#"{"id":"o","type":"CMD_APO_START"}"#;
        assert!(matches!(
            verdict(&apc("CMD_APO_STOP", mismatch), false),
            Verdict::Ignore(_)
        ));
        for app_only in [
            "CMD_APO_START_STAGE",
            "CMD_APO_UPDATE_COOK_STAGES",
            "CMD_APO_DISCONNECT",
        ] {
            assert_eq!(
                verdict(&apc(app_only, "{}"), true),
                Verdict::Error(UNAUTHORIZED)
            );
        }
        assert_eq!(
            verdict(&apc("CMD_APO_BAKE_BREAD", "{}"), true),
            Verdict::Error(UNKNOWN_COMMAND)
        );
    }

    #[test]
    fn observed_error_texts() {
        for (name, text) in [
            ("CMD_APC_DISCONNECT", INVALID_COMMAND),
            ("CMD_APC_SET_METADATA", INVALID_COMMAND),
            ("CMD_APC_START_ICEBATH_MONITORING", INVALID_COMMAND),
            ("AUTH_TOKEN_V2", FAILED),
            ("CMD_APC_HEALTHCHECK", FAILED),
            ("CMD_AUTH_TOKEN", UNAUTHORIZED),
            ("CMD_LIST_TOKENS", UNAUTHORIZED),
        ] {
            assert_eq!(
                verdict(&apc(name, "{}"), false),
                Verdict::Error(text),
                "{name}"
            );
        }
    }

    #[test]
    fn invalid_payloads() {
        for payload in [
            r#"{"cookerId":"c","type":"a7"}"#,
            r#"{"cookerId":"c","type":"a7","targetTemperature":60,"unit":"K"}"#,
            r#"{"cookerId":"c","type":"a7","targetTemperature":150,"unit":"C"}"#,
            r#"{"cookerId":"c","type":"a7","targetTemperature":60,"timer":400000}"#,
            r#"{"cookerId":"c","type":"a7","targetTemperature":60,"timer":-1}"#,
            r#""not an object""#,
        ] {
            assert_eq!(
                verdict(&apc("CMD_APC_START", payload), false),
                Verdict::Error(INVALID_COMMAND),
                "{payload}"
            );
        }
        // 211 °F is 99.4 °C: fine.
        let ok = apc(
            "CMD_APC_START",
            r#"{"cookerId":"c","type":"a7","targetTemperature":211,"unit":"F"}"#,
        );
        assert!(matches!(verdict(&ok, false), Verdict::Apc(_)));
    }

    #[test]
    fn invalid_payload_keeps_the_request_id() {
        let frame = parse_command(&apc(
            "CMD_APC_SET_TEMPERATURE_UNIT",
            r#"{"cookerId":"c","unit":"K"}"#,
        ))
        .unwrap();
        assert_eq!(frame.request_id, "r");
        assert!(matches!(frame.body, ClientCommand::Invalid { .. }));
    }

    #[test]
    fn not_a_command_is_not_answered() {
        assert_eq!(parse_command("hello"), None);
        assert_eq!(parse_command(r#"{"payload":{}}"#), None);
    }
}
