//! `anova2mqtt demo`: the simulated Anova cloud with two cookers (an `a7` and a `pro`) and a
//! Precision Oven (`oven_v2`), the bridge, and an embedded MQTT broker, in one process — no
//! hardware, account or broker needed.
//! `--mqtt URL` uses an existing broker instead (for example Home Assistant's), where the
//! simulated cookers then appear as devices.

use crate::config::{self, Config, ConfigError};
use crate::secret::Secret;
use crate::simulator::{demo_cookers, demo_ovens, Simulator, SimulatorConfig};
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;

/// The token the demo's simulator accepts (any `anova-…` token would do).
const DEMO_TOKEN: &str = "anova-demo-token";

/// `demo` options.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Use this broker instead of the embedded one (e.g. mqtt://user:pass@homeassistant.local:1883).
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<String>,
    /// The embedded broker's port on 127.0.0.1.
    #[arg(long, value_name = "PORT", default_value_t = 1883)]
    pub mqtt_port: u16,
    /// Run the simulated physics N times faster (60: a minute of cooking per second).
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub speed: f64,
}

/// The demo's configuration: defaults and `ANOVA2MQTT_*` variables, plus the file only when
/// `--config` names one (a production config would point the demo at a real account).
pub fn config(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let loaded = match explicit {
        Some(path) => config::load(Some(path))?,
        None => config::load_from(None, &[], config::process_env())?,
    };
    let mut config = loaded.config;
    if config.log.level == crate::config::LogConfig::default().level {
        // The embedded broker logs every connection and subscription, and an error for each
        // readiness probe; the demo is about the bridge.
        config.log.level = format!("{},rumqttd=off", config.log.level);
    }
    Ok(config)
}

/// Splits `mqtt://user:pass@host:port` into the URL without credentials and the credentials.
fn split_credentials(url: &str) -> (String, Option<String>, Option<Secret>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None, None);
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, None), |(a, p)| (a, Some(p)));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None, None);
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u.to_owned(), Some(Secret::new(p))),
        None => (userinfo.to_owned(), None),
    };
    let mut clean = format!("{scheme}://{host}");
    if let Some(path) = path {
        clean.push('/');
        clean.push_str(path);
    }
    (clean, Some(user), password)
}

/// Runs the demo until `shutdown` completes.
pub async fn run(
    mut config: Config,
    args: DemoArgs,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 10_000.0) {
        anyhow::bail!("--speed must be a number above 0 and at most 10000");
    }
    let (mqtt_url, host, port) = match &args.mqtt {
        Some(url) => {
            let (clean, user, password) = split_credentials(url);
            if user.is_some() {
                config.mqtt.username = user;
                config.mqtt.password = password;
            }
            config.mqtt.url = clean.clone();
            let endpoint = config
                .mqtt
                .endpoint()
                .map_err(|p| anyhow::anyhow!("--mqtt: {}", p.message))?;
            (clean, endpoint.host, endpoint.port)
        }
        None => {
            let listen = SocketAddr::from(([127, 0, 0, 1], args.mqtt_port));
            let broker = tokio::task::spawn_blocking(move || crate::broker::start_embedded(listen))
                .await
                .context("embedded broker")??;
            // The bridge uses the broker's MQTT 5 listener; people use the port they asked for.
            config.mqtt.url = format!("mqtt://{}", broker.v5);
            (
                format!("mqtt://{}", broker.v4),
                "127.0.0.1".to_owned(),
                args.mqtt_port,
            )
        }
    };

    let simulator = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SimulatorConfig {
            speed: args.speed,
            ..SimulatorConfig::default()
        },
    )
    .await
    .context("simulator")?;
    config.anova.url = simulator.url();
    config.anova.token = Some(Secret::new(DEMO_TOKEN));
    config
        .validate_for_run()
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    print_banner(&config, &mqtt_url, &host, port, args.speed);
    let result = crate::daemon::run(&config, shutdown).await;
    simulator.shutdown().await;
    result
}

fn print_banner(config: &Config, mqtt_url: &str, host: &str, port: u16, speed: f64) {
    let base = &config.mqtt.base_topic;
    let cookers = demo_cookers();
    let first = cookers
        .first()
        .map(|c| crate::mqtt::topics::cooker_topic_id(&c.cooker_id))
        .unwrap_or_default();
    let creds = match &config.mqtt.username {
        Some(user) => format!(" -u {user} -P '…'"),
        None => String::new(),
    };
    let sub = format!("mosquitto_sub -h {host} -p {port}{creds}");
    let publ = format!("mosquitto_pub -h {host} -p {port}{creds}");
    println!(
        "anova2mqtt demo: {} simulated cookers, MQTT broker {mqtt_url}",
        cookers.len()
    );
    for c in &cookers {
        println!(
            "  {:<28} {:<4} topic {base}/{}",
            c.name,
            c.device_type,
            crate::mqtt::topics::cooker_topic_id(&c.cooker_id)
        );
    }
    for oven in demo_ovens() {
        println!(
            "  {:<28} {} (sent to clients that ask for APO) topic {base}/{}",
            oven.name,
            oven.generation.device_type(),
            crate::mqtt::topics::cooker_topic_id(&oven.cooker_id)
        );
    }
    println!();
    println!("Watch everything:");
    println!("  {sub} -v -t '{base}/#'");
    println!("Start a cook at 57 °C for 1 h (the answer comes on {base}/{first}/response):");
    println!("  {publ} -t {base}/{first}/set -m '{{\"cook\": true, \"target_temperature\": 57, \"timer\": \"1h\"}}'");
    println!("Stop it:");
    println!("  {publ} -t {base}/{first}/set/cook -m OFF");
    if speed == 1.0 {
        println!(
            "The physics run in real time; `--speed 60` shows a whole cook in a minute or two."
        );
    } else {
        println!("The physics run {speed}x faster than real time.");
    }
    println!("Press Ctrl-C to stop.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_out_of_the_url() {
        let (url, user, pass) = split_credentials("mqtt://ha:s3cret@homeassistant.local:1883");
        assert_eq!(url, "mqtt://homeassistant.local:1883");
        assert_eq!(user.as_deref(), Some("ha"));
        assert_eq!(
            pass.map(|p| p.expose().to_owned()).as_deref(),
            Some("s3cret")
        );
        let (url, user, _) = split_credentials("mqtt://127.0.0.1:1883");
        assert_eq!((url.as_str(), user), ("mqtt://127.0.0.1:1883", None));
    }
}
