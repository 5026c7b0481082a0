//! Configuration (`docs/interface.md` §2).
//!
//! Three layers, later ones winning: the documented defaults (the `Default` impls below), the
//! TOML file, then `ANOVA2MQTT_<SECTION>__<KEY>` environment variables. Secrets may also come
//! from files (`token_file`, `password_file`) or from systemd credentials, so neither the unit
//! file nor `docker inspect` ever shows them.
//!
//! - [`load`] finds the file, layers everything, reads secret files and checks every rule that
//!   holds for any command; [`Config::validate_for_run`] adds what only the daemon needs (a
//!   token).
//! - [`render_effective`] is `check-config`'s output: the effective config as TOML with secrets
//!   redacted.
//!
//! The structs here are both the file's schema and the typed result: what the user writes is
//! what `check-config` prints and what the example file documents. Every section denies unknown
//! keys, so a typo is an error instead of a silently ignored setting.

mod env;
mod error;
mod history;
mod http;
mod load;
mod mcp;
mod redact;
mod render;
mod schedule;
mod secrets;
pub(crate) mod serde_helpers;
mod url_credentials;
mod validate;
mod warnings;
pub(crate) use validate::{log_filter, normalize_filter};

pub use error::{ConfigError, Problem};
pub use history::{HistoryConfig, HISTORY_FILE};
pub use http::{HttpConfig, HTTP_TOKEN_CREDENTIAL};
pub use load::{
    default_config_paths, load, load_from, process_env, LoadedConfig, CREDENTIALS_DIRECTORY,
    ENV_PREFIX,
};
pub use mcp::{McpConfig, McpMode};
pub use render::render_effective;
pub use schedule::ScheduleConfig;
pub(crate) use secrets::read_secret_file;
pub use secrets::{SecretOrigin, SecretOrigins, ANOVA_TOKEN_CREDENTIAL, MQTT_PASSWORD_CREDENTIAL};
pub use url_credentials::{split_url_credentials, UrlCredentials};

use crate::homeassistant::DiscoveryMode;
use crate::presets::PresetConfig;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// The whole configuration, one field per TOML section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The Anova cloud connection.
    pub anova: AnovaConfig,
    /// The MQTT broker connection and topic root.
    pub mqtt: MqttConfig,
    /// Home Assistant discovery.
    pub homeassistant: HomeAssistantConfig,
    /// Protection against runaway automations.
    pub limits: LimitsConfig,
    /// Household safety ceilings on top of the cookers' own limits.
    pub safety: SafetyConfig,
    /// Log output.
    pub log: LogConfig,
    /// The local HTTP API, metrics and web page.
    pub http: HttpConfig,
    /// The cook history database.
    pub history: HistoryConfig,
    /// The MCP server at `/mcp`.
    pub mcp: McpConfig,
    /// `[schedule]`: how plans read times (`docs/interface.md` §8.2).
    pub schedule: ScheduleConfig,
    /// `[[presets]]`: named commands besides the built-in ones (`docs/interface.md` §8.1).
    pub presets: Vec<PresetConfig>,
}

/// `[anova]`: the Anova cloud WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnovaConfig {
    /// The Personal Access Token (`anova-…`). After [`load`], this holds the token from
    /// whichever source gave it (the value itself, `token_file` or the systemd credential).
    pub token: Option<Secret>,
    /// A file holding the token (Docker secrets, systemd credentials by path).
    pub token_file: Option<PathBuf>,
    /// The cloud endpoint; `ws://` is allowed to this machine only (the simulator, tests).
    pub url: String,
    /// Device families requested from the cloud: `APC` cookers, `APO` ovens.
    pub accessories: Vec<String>,
    /// How long to wait for the cloud's RESPONSE to a command.
    #[serde(with = "serde_helpers::duration")]
    pub command_timeout: Duration,
    /// How long to wait for a state push showing that a command took effect.
    #[serde(with = "serde_helpers::duration")]
    pub confirm_timeout: Duration,
    /// A cooker with no state push for this long is offline.
    #[serde(with = "serde_helpers::duration")]
    pub stale_after: Duration,
    /// Reconnect when no frame at all has arrived for this long. Not in `docs/interface.md`: it
    /// catches the half-open sockets TCP alone never notices.
    #[serde(with = "serde_helpers::duration")]
    pub watchdog: Duration,
}

impl Default for AnovaConfig {
    fn default() -> Self {
        Self {
            token: None,
            token_file: None,
            url: "wss://devices.anovaculinary.io".to_owned(),
            accessories: vec!["APC".to_owned(), "APO".to_owned()],
            command_timeout: Duration::from_secs(10),
            confirm_timeout: Duration::from_secs(15),
            stale_after: Duration::from_secs(5 * 60),
            watchdog: Duration::from_secs(2 * 60),
        }
    }
}

/// `[mqtt]`: the broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host[:port]` or `mqtts://host[:port]` (TLS).
    pub url: String,
    /// Broker user name; may be given without a password.
    #[serde(deserialize_with = "serde_helpers::optional_text")]
    pub username: Option<String>,
    /// Broker password. After [`load`], this holds the password from whichever source gave it.
    pub password: Option<Secret>,
    /// A file holding the password.
    pub password_file: Option<PathBuf>,
    /// PEM file of CA certificates to trust instead of the public roots (`mqtts://` only).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate for brokers that require one (`mqtts://` only).
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of `client_cert_file`.
    pub client_key_file: Option<PathBuf>,
    /// The MQTT client id; stable so the broker can tell a reconnect from a second bridge.
    #[serde(deserialize_with = "serde_helpers::text")]
    pub client_id: String,
    /// MQTT keep-alive interval.
    #[serde(with = "serde_helpers::duration")]
    pub keepalive: Duration,
    /// Root of every topic (`docs/interface.md` §3).
    #[serde(deserialize_with = "serde_helpers::text")]
    pub base_topic: String,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: "mqtt://localhost:1883".to_owned(),
            username: None,
            password: None,
            password_file: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            client_id: default_client_id(),
            keepalive: Duration::from_secs(30),
            base_topic: "anova2mqtt".to_owned(),
        }
    }
}

/// Where the broker is, as parsed from [`MqttConfig::url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttEndpoint {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port; 1883 or 8883 when the URL has none.
    pub port: u16,
    /// True for `mqtts://`.
    pub tls: bool,
}

impl MqttConfig {
    /// The broker's host, port and whether to use TLS. Fails only when the URL is invalid,
    /// which [`load`] has already reported.
    pub fn endpoint(&self) -> Result<MqttEndpoint, Problem> {
        validate::mqtt_endpoint(&self.url).map_err(|message| Problem::new("mqtt.url", message))
    }
}

/// `[homeassistant]`: discovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomeAssistantConfig {
    /// Publish discovery at all.
    pub enabled: bool,
    /// Home Assistant's discovery prefix.
    #[serde(deserialize_with = "serde_helpers::text")]
    pub discovery_prefix: String,
    /// One config per device or one per entity.
    pub discovery_mode: DiscoveryMode,
    /// Home Assistant's birth/will topic; `online` there triggers a republish.
    #[serde(deserialize_with = "serde_helpers::text")]
    pub status_topic: String,
}

impl Default for HomeAssistantConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            discovery_prefix: "homeassistant".to_owned(),
            discovery_mode: DiscoveryMode::default(),
            status_topic: "homeassistant/status".to_owned(),
        }
    }
}

/// `[limits]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Commands accepted per cooker per minute; more are answered `rate_limited`.
    pub commands_per_minute: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            commands_per_minute: 30,
        }
    }
}

/// `[safety]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SafetyConfig {
    /// A ceiling for cookers' target temperatures below the model's own maximum, in °C;
    /// `None` leaves the model's maximum.
    pub max_temperature_c: Option<f64>,
    /// The same for ovens (each bulb's target and the probe's): a household that caps its
    /// cooker still roasts.
    pub oven_max_temperature_c: Option<f64>,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A level (`info`) or a `RUST_LOG`-style filter (`info,anova2mqtt::bridge=debug`).
    /// `RUST_LOG` overrides it when set.
    pub level: String,
    /// Where and how log lines are written.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Auto,
        }
    }
}

/// `log.format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// journald when systemd connected stderr to the journal, else text.
    #[default]
    Auto,
    /// Human-readable lines on stderr.
    Text,
    /// One JSON object per line on stderr, for log shippers.
    Json,
    /// Structured entries straight to the journal.
    Journald,
}

impl Config {
    /// Checks every rule that holds whatever the command; all problems at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::from_problems(validate::problems(self))
    }

    /// [`Config::validate`] plus what the daemon (`run`) needs: a token.
    pub fn validate_for_run(&self) -> Result<(), ConfigError> {
        let mut problems = validate::problems(self);
        problems.extend(validate::run_problems(self));
        ConfigError::from_problems(problems)
    }
}

/// `anova2mqtt-<hostname>`, or `anova2mqtt` when the host has no usable name.
pub fn default_client_id() -> String {
    client_id_for_hostname(system_hostname().as_deref())
}

/// The client id for a host name: characters brokers may refuse become `-`, and the result is
/// short enough for any broker that accepts long ids at all.
pub fn client_id_for_hostname(hostname: Option<&str>) -> String {
    let cleaned: String = hostname
        .unwrap_or_default()
        .trim()
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .take(48)
        .collect();
    let cleaned = cleaned.trim_matches('-');
    if cleaned.is_empty() {
        "anova2mqtt".to_owned()
    } else {
        format!("anova2mqtt-{cleaned}")
    }
}

/// The kernel's host name, else `/etc/hostname`, else `$HOSTNAME`.
fn system_hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .into_iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty())
}
