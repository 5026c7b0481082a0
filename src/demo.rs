//! `anova2mqtt demo`: the simulated Anova cloud with two cookers (an `a7` and a `pro`) and a
//! Precision Oven (`oven_v2`), the bridge, and an embedded MQTT broker, in one process — no
//! hardware, account or broker needed.
//! `--mqtt URL` uses an existing broker instead (for example Home Assistant's), where the
//! simulated cookers then appear as devices.
//!
//! On an existing broker the demo must never touch a real installation, which may be running
//! on the same broker with the defaults: so it uses a base topic of its own
//! ([`DEMO_BASE_TOPIC`], which also gives its bridge device its own Home Assistant ids), a
//! client id of its own for every process, and asks the bridge to remove what it published
//! when it stops ([`RunOptions::purge_on_exit`]).

use crate::config::{self, Config, ConfigError};
use crate::daemon::RunOptions;
use crate::ids::{CloudId, TopicId};
use crate::secret::Secret;
use crate::simulator::{demo_cookers, demo_ovens, SimOvenSpec, Simulator, SimulatorConfig};
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The token the demo's simulator accepts (any `anova-…` token would do).
const DEMO_TOKEN: &str = "anova-demo-token";

/// The demo's base topic on an existing broker, where a real bridge may use `anova2mqtt`.
pub const DEMO_BASE_TOPIC: &str = "anova2mqtt-demo";

/// `demo` options.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// A config file for the bridge's settings (Home Assistant, limits, logging). The demo
    /// always uses its own simulated cloud, and on an existing broker its own base topic
    /// (anova2mqtt-demo) and client id, so a real installation is never touched.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use this broker instead of the embedded one; credentials may be in the URL
    /// (mqtt://user:password@homeassistant.local:1883). Topics go under anova2mqtt-demo/, and
    /// everything the demo published is removed when it stops.
    // A build without the embedded broker needs one, and says so.
    #[cfg_attr(
        not(feature = "embedded-broker"),
        arg(
            required = true,
            help = "The MQTT broker to use (this build has no embedded one); credentials may be in the URL (mqtt://user:password@homeassistant.local:1883). Topics go under anova2mqtt-demo/, and everything the demo published is removed when it stops"
        )
    )]
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<String>,
    /// The embedded broker's port on 127.0.0.1 (MQTT 3.1.1 and 5).
    #[cfg_attr(not(feature = "embedded-broker"), arg(hide = true))]
    #[arg(long, value_name = "PORT", default_value_t = 1883)]
    pub mqtt_port: u16,
    /// The web page's and local API's port on 127.0.0.1 (0: any free port).
    #[arg(long, value_name = "PORT", default_value_t = 8770)]
    pub http_port: u16,
    /// Run the simulated physics N times faster (60: a minute of cooking per second).
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub speed: f64,
    /// Make the simulated cloud refuse what a Personal Access Token may not send
    /// (SET_TARGET_TEMP, SET_TIMER), as the real cloud likely does: changes to a running cook
    /// then go through the restart fallback.
    #[arg(long)]
    pub pat_only: bool,
    /// Stand the a7 in an ice bath (1.5 kg of ice in 6 L of water, 1 °C) that warms towards the
    /// 20 °C room (about 2 h until the water passes 4.4 °C, simulated time): for trying delayed
    /// plans and their food-safety watch.
    #[arg(long)]
    pub ice_bath: bool,
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

/// A client id no other process uses, so neither a real bridge nor a second demo is kicked
/// off the broker (a broker drops the older of two connections with one id).
fn demo_client_id() -> String {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("anova2mqtt-demo-{}", &unique[..12])
}

/// Points `config` at the broker of `--mqtt URL`, taking user name and password out of the
/// URL the way `run` does for `mqtt.url`; the command line is the closest source, so they
/// replace configured ones. Returns the broker's host and port.
fn use_broker(config: &mut Config, url: &str) -> anyhow::Result<(String, u16)> {
    let split =
        config::split_url_credentials(url).map_err(|why| anyhow::anyhow!("--mqtt: {why}"))?;
    config.mqtt.url = split.url;
    if let Some(user) = split.username {
        config.mqtt.username = Some(user);
    }
    if let Some(password) = split.password {
        config.mqtt.password = Some(password);
    }
    let endpoint = config
        .mqtt
        .endpoint()
        .map_err(|p| anyhow::anyhow!("--mqtt: {}", p.message))?;
    Ok((endpoint.host, endpoint.port))
}

/// How long the embedded broker outlives the bridge at exit.
const EMBEDDED_BROKER_LINGER: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs the demo until `shutdown` completes.
pub async fn run(
    mut config: Config,
    args: DemoArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 10_000.0) {
        anyhow::bail!("--speed must be a number above 0 and at most 10000");
    }
    config.mqtt.client_id = demo_client_id();
    // On the embedded broker everything goes with the process anyway.
    let http_listener = if config.http.enabled {
        config.http.listen = format!("127.0.0.1:{}", args.http_port);
        // The demo's port comes from --http-port, not http.listen: say so.
        let listener = crate::http::bind(&config.http)
            .await
            .map_err(|error| match error {
                crate::http::BindError::InUse { addr } => anyhow::anyhow!(
                    "--http-port: {addr} is already in use (another demo or anova2mqtt?); \
                     choose another port with --http-port, or --http-port 0 for any free one"
                ),
                crate::http::BindError::Other { addr, cause } => {
                    anyhow::anyhow!("--http-port: cannot listen on {addr}: {cause}")
                }
                other => anyhow::Error::new(other),
            })?;
        Some(listener)
    } else {
        None
    };
    let http_addr = http_listener.as_ref().and_then(|l| l.local_addr().ok());
    // The demo's cooks are make-believe: kept in memory, unless the config names a file.
    let history = config
        .history
        .path
        .is_none()
        .then(|| crate::store::Settings::new(None, config.history.retention));
    let options = RunOptions {
        purge_on_exit: args.mqtt.is_some(),
        http_listener,
        history,
        // Its simulated cloud and embedded broker live with this run.
        restart: None,
    };
    let (host, port) = match &args.mqtt {
        Some(url) => {
            config.mqtt.base_topic = DEMO_BASE_TOPIC.to_owned();
            use_broker(&mut config, url)?
        }
        None => {
            let listen = SocketAddr::from(([127, 0, 0, 1], args.mqtt_port));
            let broker = tokio::task::spawn_blocking(move || crate::broker::start_embedded(listen))
                .await
                .context("embedded broker")??;
            // The bridge connects to the same port as people do: the broker there speaks
            // MQTT 3.1.1 and 5, so the logs name the port the user asked for.
            config.mqtt.url = format!("mqtt://{}", broker.addr);
            (broker.addr.ip().to_string(), broker.addr.port())
        }
    };

    let mut simulated = SimulatorConfig {
        speed: args.speed,
        enforce_pat_allow_list: args.pat_only,
        ovens: ovens(),
        ..SimulatorConfig::default()
    };
    if args.ice_bath {
        simulated = simulated.with_ice_bath();
    }
    let simulator = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), simulated)
        .await
        .context("simulator")?;
    config.anova.url = simulator.url();
    config.anova.token = Some(Secret::new(DEMO_TOKEN));
    config
        .validate_for_run()
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    print_banner(&config, &host, port, &args);
    if let Some(addr) = http_addr {
        println!("Web page: http://{addr}/   API: http://{addr}/api/v1/devices   OpenAPI: http://{addr}/api/v1/openapi.json");
    }
    let result = crate::daemon::run_with(&config, options, shutdown).await;
    simulator.shutdown().await;
    if args.mqtt.is_none() {
        // The embedded broker dies with the process: give it a moment to hand the last
        // retained messages (`offline`) to the people subscribed.
        tokio::time::sleep(EMBEDDED_BROKER_LINGER).await;
    }
    result
}

/// The demo's ovens, with the food probe plugged in: nobody can reach into a simulated oven,
/// and the README's probe cook ("until the probe reads 63 °C") must be able to end.
fn ovens() -> Vec<SimOvenSpec> {
    demo_ovens()
        .into_iter()
        .map(|oven| SimOvenSpec {
            probe_connected: true,
            ..oven
        })
        .collect()
}

/// "2 simulated cookers and an oven", in words a person would use.
fn devices_phrase(cookers: usize, ovens: usize) -> String {
    let count = |n: usize, one: &str, many: &str| match n {
        1 => one.to_owned(),
        n => format!("{n} {many}"),
    };
    let cookers = count(cookers, "a simulated cooker", "simulated cookers");
    match ovens {
        0 => cookers,
        n => format!("{cookers} and {}", count(n, "an oven", "ovens")),
    }
}

/// The topic id of a simulated device (the simulator names its devices in its own types).
fn topic_id(cloud_id: &str) -> String {
    TopicId::of(&CloudId::from(cloud_id)).into()
}

fn print_banner(config: &Config, host: &str, port: u16, args: &DemoArgs) {
    let base = &config.mqtt.base_topic;
    let cookers = demo_cookers();
    let first = cookers
        .first()
        .map(|c| topic_id(&c.cooker_id))
        .unwrap_or_default();
    let creds = match &config.mqtt.username {
        Some(user) => format!(" -u {user} -P '…'"),
        None => String::new(),
    };
    let sub = format!("mosquitto_sub -h {host} -p {port}{creds}");
    let publ = format!("mosquitto_pub -h {host} -p {port}{creds}");
    let broker = match args.mqtt {
        Some(_) => format!("your MQTT broker {host}:{port}, topics under {base}/"),
        None => format!("an MQTT broker on {host}:{port} (MQTT 3.1.1 and 5)"),
    };
    let ovens = ovens();
    println!(
        "anova2mqtt demo: {}, {broker}",
        devices_phrase(cookers.len(), ovens.len())
    );
    for c in &cookers {
        println!(
            "  {:<28} {:<4} topic {base}/{}",
            c.name,
            c.device_type,
            topic_id(&c.cooker_id)
        );
    }
    for oven in &ovens {
        println!(
            "  {:<28} {:<7} topic {base}/{}",
            oven.name,
            oven.generation.device_type(),
            topic_id(&oven.cooker_id)
        );
    }
    println!();
    println!("Watch everything:");
    println!("  {sub} -v -t '{base}/#'");
    println!("Start a cook at 57 °C for 1 h (the answer comes on {base}/{first}/response):");
    println!("  {publ} -t {base}/{first}/set -m '{{\"cook\": true, \"target_temperature\": 57, \"timer\": \"1h\"}}'");
    println!("Stop it:");
    println!("  {publ} -t {base}/{first}/set/cook -m OFF");
    if let Some(oven) = ovens.first() {
        let oven = topic_id(&oven.cooker_id);
        println!("Roast in the oven at 200 °C for 30 min (and stop it the same way):");
        println!("  {publ} -t {base}/{oven}/set -m '{{\"cook\": true, \"target_temperature\": 200, \"timer\": \"30m\"}}'");
    }
    if args.speed == 1.0 {
        println!(
            "The physics run in real time; `--speed 60` shows a whole cook in a minute or two."
        );
    } else {
        println!("The physics run {}x faster than real time.", args.speed);
    }
    if args.ice_bath {
        println!("The {} stands in an ice bath at 1 °C that warms towards the 20 °C room: try a delayed plan (start_at, food) on it.", cookers.first().map_or("first cooker", |c| c.name.as_str()));
    }
    if args.pat_only {
        println!("The cloud refuses target and timer changes to a running cook, as for a Personal Access Token: the bridge restarts the cook instead.");
    }
    if args.mqtt.is_some() {
        println!("Press Ctrl-C to stop; the demo then removes what it published.");
    } else {
        println!("Press Ctrl-C to stop.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_counts_devices_in_words() {
        assert_eq!(devices_phrase(2, 1), "2 simulated cookers and an oven");
        assert_eq!(devices_phrase(1, 2), "a simulated cooker and 2 ovens");
        assert_eq!(devices_phrase(2, 0), "2 simulated cookers");
    }

    #[test]
    fn the_broker_url_gives_its_credentials_to_the_config() {
        let mut config = Config::default();
        config.mqtt.password = Some(Secret::new("configured"));
        let (host, port) =
            use_broker(&mut config, "mqtt://ha:s3cret@homeassistant.local:1884").unwrap();
        assert_eq!((host.as_str(), port), ("homeassistant.local", 1884));
        assert_eq!(config.mqtt.url, "mqtt://homeassistant.local:1884");
        assert_eq!(config.mqtt.username.as_deref(), Some("ha"));
        assert_eq!(config.mqtt.password.as_ref().unwrap().expose(), "s3cret");

        let mut config = Config::default();
        use_broker(&mut config, "mqtt://127.0.0.1:1883").unwrap();
        assert_eq!(config.mqtt.username, None);
        let err = use_broker(&mut config, "tcp://h").unwrap_err().to_string();
        assert!(err.starts_with("--mqtt: "), "{err}");
    }

    #[test]
    fn every_demo_has_its_own_client_id() {
        let (a, b) = (demo_client_id(), demo_client_id());
        assert!(a.starts_with("anova2mqtt-demo-") && a != b, "{a} {b}");
        assert_ne!(a, config::default_client_id());
    }
}
