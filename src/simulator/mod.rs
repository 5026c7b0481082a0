//! A faithful simulator of the Anova cloud WebSocket (`wss://devices.anovaculinary.io`).
//!
//! It is a product feature (`anova2mqtt simulate` runs it alone, `anova2mqtt demo` embeds it
//! with two cookers) and what our integration tests run against. It speaks the real protocol
//! on `ws://ADDR` and builds every frame with the wire types of [`crate::anova::protocol`], so
//! its frames have the keys, nesting and JSON types of the real captures.
//!
//! What it does (`anova-protocol.md` §1, §2, §6; \[LIVE] observed, \[INF] our inference):
//! - **Connect.** `ws://host:port?token=…` and `ws://host:port/?token=…`, empty query segments
//!   tolerated, `supportedAccessories` (comma list; missing means `APC` \[INF]), optional
//!   `platform`; `ANOVA_V2` echoed when offered; any other path gets 404 \[INF]. The configured token, or when none is
//!   configured any token starting with `anova-`. A bad token gets HTTP 401 on the upgrade or,
//!   selectable, an accepted upgrade closed at once with 1008 and no frames \[INF: both seen].
//!   Then `EVENT_APC_WIFI_LIST`, `EVENT_USER_STATE`, and one `EVENT_APC_STATE` per cooker,
//!   offline ones included (Gen 3 with `online:false` and a stale `updatedTimestamp`) \[LIVE].
//! - **Commands.** A `RESPONSE` echoing the top-level `requestId` after `response_delay`, then a
//!   fresh state push when the command changed something. The error texts and the "ok but
//!   nothing happens" quirks are in the [`routing`] table.
//! - **Pushes.** Per cooker every `idle_push_interval` / `cooking_push_interval`, immediately on
//!   a stage change (preheat done, timer started or done), none at all while unplugged \[LIVE].
//!   A WebSocket ping every `ping_interval`.
//! - **Cookers.** Gen 3 (`a6`–`a9`) and Gen 2 (`pro`, `a4`, `a5`, `honey-badger`) state
//!   machines over a simple thermal model (see `gen3`, `gen2` and `thermal`).
//! - **Time scaling.** Physics advance every `tick_interval` by `real elapsed × speed`
//!   simulated seconds, so a whole cook can run in a second. Gen 3 clients compute the timer's
//!   remaining time as `initial − (now − startedAtTimestamp)` with their real clock, so every
//!   Gen 3 timestamp of a simulated instant is reported as `real_now − simulated time since`
//!   (recomputed at every push; exact at speed 1) and `updatedTimestamp` is the real now.
//!   Gen 2 counts its countdown in simulated seconds directly.
//! - **Faults.** See [`Fault`]: TCP reset, half-open, auth refusal, alarms, unplugged cookers,
//!   withheld responses, close after each response (1005).
//!
//! Not simulated: ovens (an oven command is acknowledged `ok` and does nothing, like a command
//! for an unknown device), telemetry export, `EVENT_APC_WIFI_VERSION`, the background churn of
//! `processedCommandIds`, rate limiting.

mod cli;
mod control;
mod cooker;
mod gen2;
mod gen3;
mod handshake;
mod request_line;
pub mod routing;
mod server;
mod thermal;
mod world;

pub use cli::SimulateArgs;
pub use control::{ControlError, Fault, ReceivedCommand, SimulatorHandle, WaitTimeout};
pub use cooker::{Alarm, CookerSnapshot, SpecError};
pub use server::Simulator;
pub use thermal::AMBIENT_C;

use crate::anova::protocol::{DeviceType, TemperatureUnit};
use crate::secret::Secret;
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// How a connection with a bad or missing token is refused (`anova-protocol.md` §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthFailureMode {
    /// HTTP 401 on the upgrade.
    #[default]
    #[value(name = "http401")]
    Http401,
    /// Accept the upgrade, then close at once with 1008 and no frames.
    #[value(name = "close")]
    CloseAfterUpgrade,
}

/// Everything the simulator can be told.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The accepted token; `None` accepts any token that starts with `anova-`.
    pub token: Option<Secret>,
    /// How bad tokens are refused.
    pub auth_failure: AuthFailureMode,
    /// Periodic state push of an idle cooker (the cloud: about 30 s).
    pub idle_push_interval: Duration,
    /// Periodic state push of a cooking cooker (the cloud: about 2 s).
    pub cooking_push_interval: Duration,
    /// Server WebSocket pings; zero disables them.
    pub ping_interval: Duration,
    /// How often the physics advance, real time.
    pub tick_interval: Duration,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Preheat rate, °C per simulated minute.
    pub preheat_rate_c_per_min: f64,
    /// Delay before each RESPONSE.
    pub response_delay: Duration,
    /// Answer `unauthorized` to the commands a personal access token may not send
    /// (`CMD_APC_SET_TARGET_TEMP`, `CMD_APC_SET_TIMER`, app-only oven commands).
    pub enforce_pat_allow_list: bool,
    /// A deterministic wobble of a few hundredths of a degree on reported water temperatures.
    pub noise: bool,
    /// Log every command at `info` (standalone use) rather than `debug`.
    pub log_commands: bool,
    /// The paired cookers, in device-list order.
    pub cookers: Vec<SimCookerSpec>,
}

impl Default for SimulatorConfig {
    /// The cloud's observed cadences, real time, noise on, and the demo pair of cookers.
    fn default() -> Self {
        Self {
            token: None,
            auth_failure: AuthFailureMode::Http401,
            idle_push_interval: Duration::from_secs(30),
            cooking_push_interval: Duration::from_secs(2),
            ping_interval: Duration::from_secs(30),
            tick_interval: Duration::from_millis(50),
            speed: 1.0,
            preheat_rate_c_per_min: 1.0,
            response_delay: Duration::from_millis(100),
            enforce_pat_allow_list: false,
            noise: true,
            log_commands: false,
            cookers: demo_cookers(),
        }
    }
}

/// A configuration value the simulator cannot run with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A duration that must be positive is zero.
    #[error("{0} must be greater than zero")]
    ZeroDuration(&'static str),
    /// A factor that must be a positive number is not.
    #[error("{0} must be a positive number")]
    NotPositive(&'static str),
    /// `speed` above [`MAX_SPEED`].
    #[error("speed must be at most {MAX_SPEED}")]
    TooFast,
    /// A cooker spec is unusable.
    #[error(transparent)]
    Cooker(#[from] SpecError),
}

/// The fastest simulation: a million simulated seconds (11 days) per real second, far beyond
/// any cook, while keeping every reported timestamp in range.
pub const MAX_SPEED: f64 = 1.0e6;

impl SimulatorConfig {
    /// A configuration for tests: fast ticks (10 ms) and responses (10 ms), no noise, the
    /// given cookers, real-time speed (set `speed` to run cooks faster).
    pub fn for_tests(cookers: Vec<SimCookerSpec>) -> Self {
        Self {
            tick_interval: Duration::from_millis(10),
            response_delay: Duration::from_millis(10),
            noise: false,
            cookers,
            ..Self::default()
        }
    }

    /// Sets the accepted token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }

    /// Checks the values before anything starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("idle_push_interval", self.idle_push_interval),
            ("cooking_push_interval", self.cooking_push_interval),
            ("tick_interval", self.tick_interval),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        for (name, value) in [
            ("speed", self.speed),
            ("preheat_rate_c_per_min", self.preheat_rate_c_per_min),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(ConfigError::NotPositive(name));
            }
        }
        if self.speed > MAX_SPEED {
            return Err(ConfigError::TooFast);
        }
        let mut ids = std::collections::HashSet::new();
        for spec in &self.cookers {
            if !ids.insert(spec.cooker_id.as_str()) {
                return Err(SpecError::Duplicate(spec.cooker_id.clone()).into());
            }
        }
        Ok(())
    }
}

/// One simulated cooker, as paired at start.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCookerSpec {
    /// The cloud's `cookerId`.
    pub cooker_id: String,
    /// `a6`–`a9` (Gen 3) or `pro`, `a4`, `a5`, `honey-badger` (Gen 2).
    pub device_type: DeviceType,
    /// The name in the device list.
    pub name: String,
    /// `pairedAt`; `None` makes one up (30 days before the start).
    pub paired_at: Option<String>,
    /// Water temperature at start, °C.
    pub water_temperature_c: f64,
    /// The target kept from an earlier cook, °C.
    pub target_temperature_c: f64,
    /// The timer kept from an earlier cook, seconds.
    pub timer_s: u32,
    /// The unit the cooker displays.
    pub display_unit: TemperatureUnit,
    /// Firmware version.
    pub firmware: String,
    /// Starts unplugged: no pushes, and its cached state (18 hours old, `online:false` on
    /// Gen 3) at connect.
    pub silent: bool,
}

impl SimCookerSpec {
    /// A Precision Cooker 3.0 (`a7`), idle, water at room temperature.
    pub fn a7(cooker_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            cooker_id: cooker_id.into(),
            device_type: DeviceType::new("a7"),
            name: name.into(),
            paired_at: None,
            water_temperature_c: AMBIENT_C,
            target_temperature_c: 60.0,
            timer_s: 0,
            display_unit: TemperatureUnit::C,
            firmware: "01.01.25".to_owned(),
            silent: false,
        }
    }

    /// A Precision Cooker Pro (`pro`), idle, water at room temperature.
    pub fn pro(cooker_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            device_type: DeviceType::new("pro"),
            firmware: "3.3.01".to_owned(),
            ..Self::a7(cooker_id, name)
        }
    }
}

/// The demo pair: one `a7` and one `pro`.
pub fn demo_cookers() -> Vec<SimCookerSpec> {
    vec![
        SimCookerSpec::a7("a7demo000000000001", "Anova Precision Cooker 3.0"),
        SimCookerSpec::pro("prodemo00000000001", "Anova Precision Cooker Pro"),
    ]
}

/// Runs the simulator alone (`anova2mqtt simulate`) until `shutdown` completes: logs its URL,
/// one line per connection and one per command.
pub async fn serve_until(
    listen: SocketAddr,
    mut config: SimulatorConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    config.log_commands = true;
    let token_hint = if config.token.is_some() {
        "the configured token"
    } else {
        "any token starting with anova-"
    };
    let cookers: Vec<String> = config
        .cookers
        .iter()
        .map(|c| format!("{} ({})", c.cooker_id, c.device_type))
        .collect();
    let simulator = Simulator::start(listen, config)
        .await
        .with_context(|| format!("cannot start the Anova cloud simulator on {listen}"))?;
    tracing::info!(
        url = %format!("{}/?token=…&supportedAccessories=APC", simulator.url()),
        token = token_hint,
        cookers = %cookers.join(", "),
        "Anova cloud simulator listening"
    );
    shutdown.await;
    simulator.shutdown().await;
    tracing::info!("Anova cloud simulator stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_has_the_demo_pair() {
        let config = SimulatorConfig::default();
        assert_eq!(config.validate(), Ok(()));
        let types: Vec<&str> = config
            .cookers
            .iter()
            .map(|c| c.device_type.as_str())
            .collect();
        assert_eq!(types, ["a7", "pro"]);
        assert_eq!(config.cookers[0].cooker_id, "a7demo000000000001");
        assert_eq!(config.cookers[1].name, "Anova Precision Cooker Pro");
    }

    #[test]
    fn unusable_values_are_refused() {
        let base = SimulatorConfig::for_tests(demo_cookers());
        let cases = [
            SimulatorConfig {
                tick_interval: Duration::ZERO,
                ..base.clone()
            },
            SimulatorConfig {
                speed: 0.0,
                ..base.clone()
            },
            SimulatorConfig {
                speed: f64::NAN,
                ..base.clone()
            },
            SimulatorConfig {
                speed: 1.0e9,
                ..base.clone()
            },
            SimulatorConfig {
                preheat_rate_c_per_min: -1.0,
                ..base.clone()
            },
            SimulatorConfig {
                cookers: vec![SimCookerSpec::a7("x", "a"), SimCookerSpec::pro("x", "b")],
                ..base.clone()
            },
        ];
        for config in cases {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }

    #[tokio::test]
    async fn start_refuses_an_unsupported_cooker() {
        let config = SimulatorConfig::for_tests(vec![SimCookerSpec {
            device_type: DeviceType::new("a3"),
            ..SimCookerSpec::a7("x", "old")
        }]);
        let error = Simulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .err()
            .unwrap();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    }
}
