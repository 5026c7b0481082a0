//! How the cloud answers a client command (`anova-protocol.md` §2 and §6.2), before any cooker
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
//! | oven commands | `ok` and nothing happens: the simulator has no ovens, and an unknown device id is acknowledged `ok` \[LIVE quirk]; with the allow-list enforced, app-only oven commands get `unauthorized` \[LIVE robdimsdale] |
//! | the five APC commands | `ok`, then routed to the cooker; an unknown `cookerId` or a wrong/missing `type` is still `ok` and silently ignored \[LIVE quirk] |

use super::wire::client::{ApcCommand, ApcCommandName, ClientCommand, ClientFrame};
use super::wire::TemperatureUnit;

/// The longest timer the app's validators allow: 99 h 59 min (`anova-protocol.md` §5).
const MAX_TIMER_S: u32 = 359_940;

/// The command name is not recognised.
pub(crate) const UNKNOWN_COMMAND: &str = "Unknown command type";
/// A known command that is invalid here or with these parameters.
pub(crate) const INVALID_COMMAND: &str = "invalid command";
/// Accepted but failed.
pub(crate) const FAILED: &str = "failed to process command";
/// Not allowed for this session.
pub(crate) const UNAUTHORIZED: &str = "unauthorized";

/// The validator's temperature range for APC targets, °C (`anova-protocol.md` §5).
const TARGET_RANGE_C: std::ops::RangeInclusive<f64> = 0.0..=99.5;

/// What to do with one command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Answer with this error text.
    Error(&'static str),
    /// Answer `ok`; nothing happens.
    Ignore,
    /// Answer `ok` and route the command to its cooker.
    Apc(ApcCommand),
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

/// Oven commands only the app sends.
const APP_ONLY_OVEN: &[&str] = &[
    "CMD_APO_START_STAGE",
    "CMD_APO_UPDATE_COOK_STAGE",
    "CMD_APO_UPDATE_COOK_STAGES",
    "CMD_APO_SET_TEMPERATURE_BULBS",
    "CMD_APO_SET_FAN",
    "CMD_APO_SET_STEAM_GENERATORS",
    "CMD_APO_SET_TIMER",
    "CMD_APO_SET_PROBE",
    "CMD_APO_SET_LAMP",
    "CMD_APO_SET_LAMP_PREFERENCE",
    "CMD_APO_SET_VENT",
    "CMD_APO_START_DESCALE",
    "CMD_APO_OTA",
    "CMD_APO_START_LIVE_STREAM",
    "CMD_APO_DISCONNECT",
];

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
        _ if PAT_OVEN.contains(&name) => Verdict::Ignore,
        _ if APP_ONLY_OVEN.contains(&name) => {
            if enforce_pat_allow_list {
                Verdict::Error(UNAUTHORIZED)
            } else {
                Verdict::Ignore
            }
        }
        _ => Verdict::Error(UNKNOWN_COMMAND),
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
        assert_eq!(
            verdict(&apc("CMD_APO_SET_LAMP", "{}"), false),
            Verdict::Ignore
        );
        assert_eq!(verdict(&apc("CMD_APO_STOP", "{}"), true), Verdict::Ignore);
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
