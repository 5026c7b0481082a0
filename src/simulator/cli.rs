//! The options of `anova2mqtt simulate`.

use super::config::{
    simulate_devices, AuthFailureMode, LoadModel, LoadSpec, SimulatorConfig, MAX_LOAD_COOKERS,
    MAX_SPEED,
};
use crate::secret::Secret;
use std::net::SocketAddr;
use std::time::Duration;

/// `anova2mqtt simulate`: only the Anova cloud simulator, with the demo's kinds of device (an
/// `a7`, a `pro` and an `oven_v2`) under ids of their own, or with `--cookers N` a load
/// generator of N cooking cookers instead.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Address to listen on (`ws://ADDR`).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8765")]
    pub listen: SocketAddr,
    /// The only token accepted; without it any token starting with `anova-` is.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Simulated seconds per real second (600 runs a 10-minute cook in a second).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = positive_factor)]
    pub speed: f64,
    /// How a bad token is refused: HTTP 401, or an upgrade closed at once with 1008.
    #[arg(long, value_enum, default_value_t = AuthFailureMode::Http401)]
    pub auth_failure: AuthFailureMode,
    /// Behave as for a personal access token: SET_TARGET_TEMP and SET_TIMER get `unauthorized`.
    #[arg(long)]
    pub pat_only: bool,
    /// State push interval of an idle cooker.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = positive_duration)]
    pub idle_push: Duration,
    /// State push interval of a cooking cooker.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = positive_duration)]
    pub cooking_push: Duration,
    /// The a7 stands in an ice bath (1.5 kg of ice in 6 L of water, 1 °C) that warms towards the
    /// 20 °C room: its ice lasts about 1 h 45 min, then the water passes 4.4 °C about 20 minutes
    /// later (simulated time). For trying delayed plans and their food-safety watch.
    #[arg(long, conflicts_with = "cookers")]
    pub ice_bath: bool,
    /// Load generator: N cookers (ids LOAD000001…), all cooking, each pushing every
    /// --push-interval with a water temperature that moves 0.2 °C per push; replaces the demo
    /// devices.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_LOAD_COOKERS as i64))]
    pub cookers: Option<u32>,
    /// Load generator: each cooker's push interval (the fleet's pushes are spread evenly over it).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = positive_duration, requires = "cookers")]
    pub push_interval: Duration,
    /// Load generator: the fleet's models.
    #[arg(long, value_enum, default_value_t = LoadModel::A7, requires = "cookers")]
    pub load_model: LoadModel,
}

impl SimulateArgs {
    /// The simulator configuration these options describe.
    pub fn into_config(self) -> SimulatorConfig {
        let load = self.cookers.map(|n| LoadSpec {
            // At most MAX_LOAD_COOKERS, checked by the parser.
            cookers: n as usize,
            push_interval: self.push_interval,
            model: self.load_model,
        });
        let defaults = SimulatorConfig::default();
        // A load run has exactly its N cookers: no demo devices.
        let (cookers, ovens) = if load.is_some() {
            (Vec::new(), Vec::new())
        } else {
            simulate_devices()
        };
        let config = SimulatorConfig {
            cookers,
            ovens,
            load,
            token: self.token.map(Secret::new),
            auth_failure: self.auth_failure,
            idle_push_interval: self.idle_push,
            cooking_push_interval: self.cooking_push,
            speed: self.speed,
            enforce_pat_allow_list: self.pat_only,
            log_commands: true,
            ..defaults
        };
        if self.ice_bath {
            config.with_ice_bath()
        } else {
            config
        }
    }
}

fn positive_factor(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 && value <= MAX_SPEED => Ok(value),
        _ => Err(format!(
            "{text:?} is not a number between 0 and {MAX_SPEED}"
        )),
    }
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(value) if !value.is_zero() => Ok(value),
        Ok(_) => Err("must be greater than zero".to_owned()),
        Err(error) => Err(format!("{text:?}: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::STANDARD_ICE_RATIO;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        simulate: SimulateArgs,
    }

    fn parse(args: &[&str]) -> Result<SimulateArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("simulate").chain(args.iter().copied()))
            .map(|c| c.simulate)
    }

    #[test]
    fn defaults() {
        let config = parse(&[]).unwrap().into_config();
        assert_eq!(config.idle_push_interval, Duration::from_secs(30));
        assert_eq!(config.cooking_push_interval, Duration::from_secs(2));
        assert_eq!(config.auth_failure, AuthFailureMode::Http401);
        assert!(!config.enforce_pat_allow_list);
        assert!(config.token.is_none());
        assert_eq!(config.cookers.len(), 2);
        assert_eq!(config.ovens.len(), 1);
        assert_eq!(parse(&[]).unwrap().listen.to_string(), "127.0.0.1:8765");
    }

    #[test]
    fn every_option() {
        let args = parse(&[
            "--listen",
            "0.0.0.0:9000",
            "--token",
            "anova-x",
            "--speed",
            "60",
            "--auth-failure",
            "close",
            "--pat-only",
            "--idle-push",
            "5s",
            "--cooking-push",
            "500ms",
        ])
        .unwrap();
        let config = args.into_config();
        assert_eq!(config.token.as_ref().map(Secret::expose), Some("anova-x"));
        assert_eq!(config.speed, 60.0);
        assert_eq!(config.auth_failure, AuthFailureMode::CloseAfterUpgrade);
        assert!(config.enforce_pat_allow_list);
        assert_eq!(config.idle_push_interval, Duration::from_secs(5));
        assert_eq!(config.cooking_push_interval, Duration::from_millis(500));
        assert_eq!(config.cookers[0].ice_ratio, 0.0);
    }

    #[test]
    fn the_ice_bath() {
        let config = parse(&["--ice-bath"]).unwrap().into_config();
        assert_eq!(config.cookers[0].ice_ratio, STANDARD_ICE_RATIO);
        assert_eq!(config.cookers[1].ice_ratio, 0.0, "only the a7");
        assert_eq!(config.validate(), Ok(()));
        assert!(parse(&["--ice-bath", "--cookers", "3"]).is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["--speed", "0"]).is_err());
        assert!(parse(&["--speed", "fast"]).is_err());
        assert!(parse(&["--speed", "1e9"]).is_err());
        assert!(parse(&["--idle-push", "0s"]).is_err());
        assert!(parse(&["--auth-failure", "teapot"]).is_err());
        assert!(parse(&["--cookers", "0"]).is_err());
        assert!(parse(&["--cookers", "1000000"]).is_err());
        assert!(
            parse(&["--push-interval", "1s"]).is_err(),
            "needs --cookers"
        );
        assert!(parse(&["--cookers", "5", "--push-interval", "0s"]).is_err());
    }

    /// Issue 27 item 10: a daemon bridging `simulate` and `demo --mqtt` on one broker must not
    /// share a device id (Home Assistant's ids come from it; the demo removes its own devices'
    /// discovery when it stops, and took the daemon's with it).
    #[test]
    fn simulate_has_device_ids_of_its_own() {
        let config = parse(&[]).unwrap().into_config();
        let demo = SimulatorConfig::default();
        let ids = |cookers: &[super::super::SimCookerSpec], ovens: &[super::super::SimOvenSpec]| {
            cookers
                .iter()
                .map(|c| c.cooker_id.clone())
                .chain(ovens.iter().map(|o| o.cooker_id.clone()))
                .collect::<Vec<_>>()
        };
        let (own, demos) = (
            ids(&config.cookers, &config.ovens),
            ids(&demo.cookers, &demo.ovens),
        );
        assert_eq!(
            own,
            [
                "a7simu000000000001",
                "prosimu00000000001",
                "ovensimu0000000001"
            ]
        );
        assert!(
            own.iter().all(|id| !demos.contains(id)),
            "{own:?} {demos:?}"
        );
        // The same devices otherwise.
        let types = |c: &SimulatorConfig| {
            let cookers = c.cookers.iter().map(|c| c.device_type.to_string());
            let ovens = c
                .ovens
                .iter()
                .map(|o| o.generation.device_type().to_string());
            cookers.chain(ovens).collect::<Vec<_>>()
        };
        assert_eq!(types(&config), types(&demo));
    }

    #[test]
    fn the_load_generator() {
        let config = parse(&["--cookers", "10000"]).unwrap().into_config();
        assert!(config.cookers.is_empty(), "no demo pair");
        assert!(config.ovens.is_empty(), "no demo oven");
        assert_eq!(config.load, Some(LoadSpec::a7(10_000)));
        assert_eq!(config.validate(), Ok(()));
        let args = [
            "--cookers",
            "3",
            "--push-interval",
            "250ms",
            "--load-model",
            "mixed",
        ];
        let load = parse(&args).unwrap().into_config().load.unwrap();
        assert_eq!(load.push_interval, Duration::from_millis(250));
        assert_eq!(load.model, LoadModel::Mixed);
        assert!(parse(&[]).unwrap().into_config().load.is_none());
    }
}
