//! The rules a parsed configuration must follow. Each check appends a [`Problem`] naming the
//! key, so the user sees every mistake in one go.
//!
//! Values that may hold credentials (URLs) are never echoed back in a message.

use super::{Config, MqttEndpoint, Problem};
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::http::Uri;
use tracing_subscriber::filter::LevelFilter;

/// The highest target any Anova cooker accepts (°C); `safety.max_temperature_c` may only lower
/// the ceiling.
const HIGHEST_COOKER_TEMPERATURE_C: f64 = 99.5;

/// The range of a Precision Oven's targets (°C, the dry bulb's; `docs/anova-oven.md` §1.11):
/// `safety.oven_max_temperature_c` may only lower the top, and below the bottom no cook could
/// start at all.
const OVEN_TEMPERATURE_C: (f64, f64) = (25.0, 250.0);

/// Every problem that holds whatever the command.
pub(super) fn problems(config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    anova(config, &mut out);
    mqtt(config, &mut out);
    let ha = &config.homeassistant;
    topic(
        "homeassistant.discovery_prefix",
        &ha.discovery_prefix,
        &mut out,
    );
    topic("homeassistant.status_topic", &ha.status_topic, &mut out);
    if config.limits.commands_per_minute == 0 {
        out.push(Problem::new(
            "limits.commands_per_minute",
            "must be at least 1",
        ));
    }
    safety(config, &mut out);
    log_level(&config.log.level, &mut out);
    super::http::problems(&config.http, &mut out);
    super::history::problems(&config.history, &mut out);
    super::schedule::problems(&config.schedule, &mut out);
    out.extend(
        crate::presets::problems(
            &config.presets,
            crate::presets::Ceilings {
                cooker_c: config.safety.max_temperature_c,
                oven_c: config.safety.oven_max_temperature_c,
            },
        )
        .into_iter()
        .map(|(key, message)| Problem::new(key, message)),
    );
    out
}

/// The household ceilings: each within what its family's devices accept.
fn safety(config: &Config, out: &mut Vec<Problem>) {
    if let Some(max) = config.safety.max_temperature_c {
        if !(0.0..=HIGHEST_COOKER_TEMPERATURE_C).contains(&max) {
            let hint = if max > HIGHEST_COOKER_TEMPERATURE_C {
                " (it caps sous-vide cookers; ovens have safety.oven_max_temperature_c)"
            } else {
                ""
            };
            out.push(Problem::new(
                "safety.max_temperature_c",
                format!("{max} °C is outside 0 to {HIGHEST_COOKER_TEMPERATURE_C} °C{hint}"),
            ));
        }
    }
    if let Some(max) = config.safety.oven_max_temperature_c {
        let (low, high) = OVEN_TEMPERATURE_C;
        if !(low..=high).contains(&max) {
            out.push(Problem::new(
                "safety.oven_max_temperature_c",
                format!("{max} °C is outside {low} to {high} °C, the ovens' range"),
            ));
        }
    }
}

/// What only the daemon needs on top of [`problems`].
pub(super) fn run_problems(config: &Config) -> Vec<Problem> {
    if config.anova.token.is_some() {
        return Vec::new();
    }
    vec![Problem::new(
        "anova.token",
        "a Personal Access Token is required to run: set anova.token or anova.token_file, \
         the ANOVA2MQTT_ANOVA__TOKEN environment variable, or the systemd credential \
         `anova-token`. Create one in the Anova Oven app under More → Developer → \
         Personal Access Tokens",
    )]
}

fn anova(config: &Config, out: &mut Vec<Problem>) {
    let anova = &config.anova;
    if let Some(token) = &anova.token {
        if !token.expose().starts_with("anova-") {
            out.push(Problem::new(
                "anova.token",
                "this is not a Personal Access Token (those start with `anova-`); other \
                 Anova tokens expire within an hour. Create one in the Anova Oven app under \
                 More → Developer → Personal Access Tokens",
            ));
        }
    }
    if let Err(message) = cloud_url(&anova.url) {
        out.push(Problem::new("anova.url", message));
    }
    if anova.accessories.is_empty() {
        out.push(Problem::new(
            "anova.accessories",
            "must list at least one device family, such as [\"APC\"]",
        ));
    }
    for family in &anova.accessories {
        if family.is_empty()
            || !family
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push(Problem::new(
                "anova.accessories",
                format!("{family:?} is not a device family name such as \"APC\""),
            ));
        }
    }
    for (key, value, max) in [
        (
            "anova.command_timeout",
            anova.command_timeout,
            MAX_COMMAND_TIMEOUT,
        ),
        (
            "anova.confirm_timeout",
            anova.confirm_timeout,
            MAX_CONFIRM_TIMEOUT,
        ),
        ("anova.stale_after", anova.stale_after, MAX_STALE_AFTER),
        ("anova.watchdog", anova.watchdog, MAX_WATCHDOG),
    ] {
        duration(key, value, max, out);
    }
}

fn mqtt(config: &Config, out: &mut Vec<Problem>) {
    let mqtt = &config.mqtt;
    let endpoint = mqtt_endpoint(&mqtt.url);
    if let Err(message) = &endpoint {
        out.push(Problem::new("mqtt.url", message.clone()));
    }
    let plain_tcp = matches!(endpoint, Ok(MqttEndpoint { tls: false, .. }));
    for (key, file) in [
        ("mqtt.ca_file", &mqtt.ca_file),
        ("mqtt.client_cert_file", &mqtt.client_cert_file),
        ("mqtt.client_key_file", &mqtt.client_key_file),
    ] {
        let Some(path) = file else { continue };
        // A TLS file with a plain URL means the user expects encryption they would not get;
        // an error beats a warning that scrolls by while the password crosses the network.
        if plain_tcp {
            out.push(Problem::new(
                key,
                "is only used with TLS, but mqtt.url starts with mqtt:// (plain TCP); \
                 use mqtts:// or remove this key",
            ));
        }
        readable_file(key, path, out);
    }
    match (&mqtt.client_cert_file, &mqtt.client_key_file) {
        (Some(_), None) => out.push(Problem::new(
            "mqtt.client_key_file",
            "is required with mqtt.client_cert_file",
        )),
        (None, Some(_)) => out.push(Problem::new(
            "mqtt.client_cert_file",
            "is required with mqtt.client_key_file",
        )),
        _ => {}
    }
    if mqtt.password.is_some() && mqtt.username.is_none() {
        out.push(Problem::new(
            "mqtt.password",
            "a password needs mqtt.username as well",
        ));
    }
    if mqtt.client_id.trim().is_empty() {
        out.push(Problem::new("mqtt.client_id", "must not be empty"));
    }
    // MQTT carries the keep-alive in whole seconds in 16 bits, and rumqttc refuses less than
    // a second.
    if mqtt.keepalive < Duration::from_secs(1) || mqtt.keepalive > Duration::from_secs(65_535) {
        out.push(Problem::new(
            "mqtt.keepalive",
            "must be between 1s and 65535s (18h 12m 15s)",
        ));
    }
    topic("mqtt.base_topic", &mqtt.base_topic, out);
}

/// The longest `anova.command_timeout`: the apps give up after 10 s; minutes mean a lost
/// command, and a user waiting for an answer.
const MAX_COMMAND_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The longest `anova.confirm_timeout`: cookers push every few seconds while busy.
const MAX_CONFIRM_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The longest `anova.stale_after`: an idle cooker pushes at least every 30 s, so a day of
/// silence is an unplugged cooker.
const MAX_STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest `anova.watchdog`: a socket that has carried nothing for an hour is dead.
const MAX_WATCHDOG: Duration = Duration::from_secs(60 * 60);

/// A duration above zero (zero would make timeouts fire at once and watchdogs spin) and at
/// most `max` (a typo such as `1000000000000h` would overflow the clock arithmetic).
fn duration(key: &str, value: Duration, max: Duration, out: &mut Vec<Problem>) {
    if value.is_zero() {
        out.push(Problem::new(
            key,
            "must be longer than zero, such as \"30s\"",
        ));
    } else if value > max {
        out.push(Problem::new(
            key,
            format!("must be at most {}", show_limit(max)),
        ));
    }
}

/// A limit as the README writes it: `24h`, `10m`, `90s` (humantime would say `1day`).
fn show_limit(limit: Duration) -> String {
    let seconds = limit.as_secs();
    match seconds {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A topic root or a topic we subscribe to: non-empty, no wildcards, no empty levels.
fn topic(key: &str, value: &str, out: &mut Vec<Problem>) {
    let message = if value.is_empty() {
        "must not be empty"
    } else if value.contains(['+', '#']) {
        "must not contain the MQTT wildcards + or #"
    } else if value.starts_with('/') || value.ends_with('/') {
        "must not start or end with /"
    } else if value.contains("//") {
        "must not contain an empty level (//)"
    } else if value.contains('\0') {
        "must not contain a NUL character"
    } else {
        return;
    };
    out.push(Problem::new(key, format!("{value:?} {message}")));
}

/// A file the broker connection will read at startup.
fn readable_file(key: &str, path: &Path, out: &mut Vec<Problem>) {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => out.push(Problem::new(
            key,
            format!("{} is not a file", path.display()),
        )),
        Err(err) => out.push(Problem::new(
            key,
            format!("cannot read {}: {err}", path.display()),
        )),
    }
}

/// The level names `log.level` accepts, for messages.
const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];

/// `log.level`: a level, or a `RUST_LOG`-style list of `level` and `target=level` directives.
///
/// A `RUST_LOG`-style filter alone accepts any bare word as a *target* name, so a typo such as
/// `inf` would enable only a target that does not exist and silence every log line. A bare
/// directive must therefore be a level; a target takes `target=level`. Span and field filters
/// (`target[span{field=value}]=level`) are not supported: the daemon logs no spans, and their
/// regular-expression engine was a fifth of the binary's code.
fn log_level(level: &str, out: &mut Vec<Problem>) {
    if let Err(message) = log_filter(level) {
        out.push(Problem::new("log.level", message));
    }
}

/// `" info, rumqttc=warn "` → `"info,rumqttc=warn"`: the filter parser takes the spaces around
/// a directive as part of it, and a space after a comma is what people write. The log filter
/// is read here, on the configuration's side; `telemetry` only installs it.
pub(crate) fn normalize_filter(directives: &str) -> String {
    directives
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// Checks a `log.level` value; the error says what is wrong and what would be right.
pub(crate) fn log_filter(filter: &str) -> Result<(), String> {
    if filter.trim().is_empty() {
        return Err("must not be empty; use a level such as \"info\"".to_owned());
    }
    let valid = LEVELS.join(", ");
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if directive.contains(['[', ']', '{', '}']) {
            return Err(format!(
                "{directive:?}: span and field filters are not supported; use a level or \
                 `target=level` (such as \"info,anova2mqtt::bridge=debug\")"
            ));
        }
        let (target, level) = match directive.rsplit_once('=') {
            Some((target, level)) => (Some(target), level),
            None => (None, directive),
        };
        if target.is_some_and(|t| t.trim().is_empty()) {
            return Err(format!(
                "{directive:?} has no target before `=`; write `target=level`"
            ));
        }
        if level.parse::<LevelFilter>().is_ok() {
            continue;
        }
        let closest = LEVELS
            .iter()
            .map(|name| {
                (
                    super::error::edit_distance(&level.to_ascii_lowercase(), name),
                    name,
                )
            })
            .filter(|(distance, _)| *distance <= 2)
            .min()
            .map(|(_, name)| format!(" (did you mean `{name}`?)"))
            .unwrap_or_default();
        return Err(match target {
            Some(target) => format!(
                "{level:?} in {directive:?} is not a level{closest}; the level after \
                 `{target}=` must be one of: {valid}"
            ),
            None => format!(
                "{level:?} is not a level{closest}; valid levels: {valid}. A filter such as \
                 \"info,anova2mqtt::bridge=debug\" sets a level per target (`target=level`)"
            ),
        });
    }
    normalize_filter(filter)
        .parse::<tracing_subscriber::filter::Targets>()
        .map(drop)
        .map_err(|err| {
            format!(
                "{filter:?} is not a level or RUST_LOG-style filter \
                 (such as \"info,anova2mqtt::bridge=debug\"): {err}"
            )
        })
}

/// The parts of a URL we check, without its text (it may carry credentials).
struct UrlParts {
    scheme: String,
    host: String,
    port: Option<u16>,
    has_path: bool,
}

/// Parses `url` with the parser the WebSocket client uses, refusing credentials and queries.
fn url_parts(url: &str, schemes: &str) -> Result<UrlParts, String> {
    let uri: Uri = url
        .parse()
        .map_err(|err| format!("is not a valid URL ({err}); expected {schemes}"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(format!("must be a URL starting with {schemes}"));
    };
    if authority.as_str().contains('@') {
        return Err("must not contain credentials; use the username/password keys".to_owned());
    }
    if uri.query().is_some() {
        return Err("must not contain a query (?…)".to_owned());
    }
    let host = authority.host();
    // `port_u16` is `None` both for "no port" and for a port that is not a number below
    // 65536; only the first may fall back to the default.
    let has_port_text = authority
        .as_str()
        .strip_prefix(host)
        .is_some_and(|rest| !rest.is_empty());
    if has_port_text && authority.port_u16().is_none_or(|port| port == 0) {
        return Err("has an invalid port (expected a number from 1 to 65535)".to_owned());
    }
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    Ok(UrlParts {
        scheme: scheme.to_ascii_lowercase(),
        host: host.to_owned(),
        port: authority.port_u16(),
        has_path: !matches!(uri.path(), "" | "/"),
    })
}

/// `anova.url`: `ws://` or `wss://` with a host; a path is allowed.
pub(super) fn cloud_url(url: &str) -> Result<(), String> {
    let parts = url_parts(url, "wss:// (or ws:// for the simulator)")?;
    match parts.scheme.as_str() {
        "wss" => Ok(()),
        "ws" if super::http::is_loopback_host(&parts.host) => Ok(()),
        // The token travels in the URL: over ws:// anyone on the way reads it.
        "ws" => Err(format!(
            "ws:// would send the Anova token unencrypted to {}; it is only allowed to this \
             machine (127.0.0.1, ::1, localhost: the simulator, tests). Use wss://",
            parts.host
        )),
        other => Err(format!(
            "scheme {other}:// is not supported; expected wss:// (or ws:// for the simulator)"
        )),
    }
}

/// `mqtt.url`: `mqtt://host[:port]` or `mqtts://host[:port]`.
pub(super) fn mqtt_endpoint(url: &str) -> Result<MqttEndpoint, String> {
    let parts = url_parts(url, "mqtt:// or mqtts://")?;
    let (tls, default_port) = match parts.scheme.as_str() {
        "mqtt" => (false, 1883),
        "mqtts" => (true, 8883),
        other => {
            return Err(format!(
                "scheme {other}:// is not supported; expected mqtt:// or mqtts://"
            ))
        }
    };
    if parts.has_path {
        return Err("must not have a path; the topic root is mqtt.base_topic".to_owned());
    }
    Ok(MqttEndpoint {
        host: parts.host,
        port: parts.port.unwrap_or(default_port),
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Result<(String, u16, bool), String> {
        mqtt_endpoint(url).map(|e| (e.host, e.port, e.tls))
    }

    #[test]
    fn mqtt_urls() {
        assert_eq!(
            endpoint("mqtt://localhost"),
            Ok(("localhost".into(), 1883, false))
        );
        assert_eq!(
            endpoint("mqtts://broker.lan"),
            Ok(("broker.lan".into(), 8883, true))
        );
        assert_eq!(
            endpoint("mqtt://10.0.0.2:1884/"),
            Ok(("10.0.0.2".into(), 1884, false))
        );
        assert_eq!(
            endpoint("MQTTS://[::1]:8884"),
            Ok(("::1".into(), 8884, true))
        );
        for bad in [
            "localhost:1883",
            "localhost",
            "tcp://localhost",
            "mqtt://",
            "mqtt://h/topic",
            "mqtt://h?x=1",
            "mqtt://h:99999",
            "mqtt://h:",
            "mqtt://h:x",
            "mqtt://h:0",
            "",
        ] {
            assert!(endpoint(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn credentials_in_urls_are_refused_without_echo() {
        let err = endpoint("mqtt://user:hunter2@broker").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        let err = cloud_url("wss://devices.anovaculinary.io/?token=anova-secret").unwrap_err();
        assert!(!err.contains("anova-secret"), "{err}");
    }

    #[test]
    fn cloud_urls() {
        assert!(cloud_url("wss://devices.anovaculinary.io").is_ok());
        assert!(cloud_url("ws://127.0.0.1:8080/").is_ok());
        assert!(cloud_url("ws://localhost:8080").is_ok());
        assert!(cloud_url("ws://[::1]:8080").is_ok());
        let err = cloud_url("ws://devices.anovaculinary.io").unwrap_err();
        assert!(
            err.contains("unencrypted") && err.contains("wss://"),
            "{err}"
        );
        assert!(cloud_url("ws://192.168.1.5:8080").is_err());
        assert!(cloud_url("https://devices.anovaculinary.io").is_err());
        assert!(cloud_url("devices.anovaculinary.io").is_err());
    }

    #[test]
    fn log_levels_and_filters() {
        for good in [
            "info",
            "INFO",
            "warn",
            "off",
            "info,rumqttc=warn",
            "anova2mqtt=debug",
            "info,anova2mqtt::bridge=debug",
            " debug , rumqttd=off ",
        ] {
            assert_eq!(log_filter(good), Ok(()), "{good}");
        }
        let err = log_filter("inf").unwrap_err();
        assert!(err.contains("did you mean `info`"), "{err}");
        assert!(
            err.contains("error, warn, info, debug, trace, off"),
            "{err}"
        );
        let err = log_filter("verbose").unwrap_err();
        assert!(err.contains("\"verbose\" is not a level"), "{err}");
        assert!(!err.contains("did you mean"), "{err}");
        let err = log_filter("info,rumqttc=loud").unwrap_err();
        assert!(err.contains("rumqttc="), "{err}");
        assert!(log_filter("").is_err());
        assert!(log_filter("info,=[").is_err());
        assert!(log_filter("info,=debug").unwrap_err().contains("no target"));
        let err = log_filter("info,anova2mqtt[cook{id=1}]=trace").unwrap_err();
        assert!(
            err.contains("span and field filters are not supported"),
            "{err}"
        );
    }

    #[test]
    fn durations_have_bounds() {
        let mut out = Vec::new();
        duration("k", Duration::from_secs(60), MAX_WATCHDOG, &mut out);
        assert!(out.is_empty());
        duration("k", Duration::ZERO, MAX_WATCHDOG, &mut out);
        duration("k", Duration::from_secs(3601), MAX_WATCHDOG, &mut out);
        let messages: Vec<&str> = out.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "must be longer than zero, such as \"30s\"",
                "must be at most 1h"
            ]
        );
    }

    #[test]
    fn topics() {
        for (value, ok) in [
            ("anova2mqtt", true),
            ("home/anova", true),
            ("", false),
            ("a/+", false),
            ("a/#", false),
            ("/a", false),
            ("a/", false),
            ("a//b", false),
        ] {
            let mut out = Vec::new();
            topic("mqtt.base_topic", value, &mut out);
            assert_eq!(out.is_empty(), ok, "{value:?}: {out:?}");
            if !ok {
                assert_eq!(out[0].key, "mqtt.base_topic");
            }
        }
    }
}
