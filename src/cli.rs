//! The command line (`interface.md` §1): `run` (the default), `demo`, `simulate`,
//! `check-config`, and the global `--config`.

use crate::config::{self, Config};
use crate::{daemon, demo, simulator, telemetry};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status for a configuration error (`EX_CONFIG`); the systemd unit does not restart on it.
pub const EXIT_CONFIG: u8 = 78;

/// Bridges the Anova Culinary cloud (sous-vide cookers) to MQTT and Home Assistant.
#[derive(Debug, Parser)]
#[command(name = "anova2mqtt", version, about, long_about = None)]
pub struct Cli {
    /// The config file [default: /etc/anova2mqtt/config.toml, else ./config/anova2mqtt.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daemon: Anova cloud <-> MQTT (the default).
    Run,
    /// Everything in one process, no hardware or account needed: a simulated Anova cloud with
    /// two cookers, the bridge, and an embedded MQTT broker.
    Demo(demo::DemoArgs),
    /// Only the Anova cloud simulator, speaking the real protocol on ws://ADDR.
    Simulate(simulator::SimulateArgs),
    /// Load and validate the configuration, print it with secrets redacted.
    CheckConfig,
    /// Ask the running daemon's GET /healthz (for Docker's healthcheck): exit 0 when healthy.
    Healthcheck,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every TLS configuration names its provider explicitly; installing the default as well
    // keeps any library that asks for it on the same one (ring). It fails only if already set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command.unwrap_or(Command::Run) {
        Command::CheckConfig => check_config(cli.config),
        Command::Run => run(cli.config),
        Command::Demo(args) => demo(cli.config, args),
        Command::Simulate(args) => simulate(args),
        Command::Healthcheck => healthcheck(cli.config),
    }
}

fn print_config_error(error: &config::ConfigError) -> ExitCode {
    eprintln!("anova2mqtt: configuration error:\n{error}");
    ExitCode::from(EXIT_CONFIG)
}

/// The configuration `run` would use, or the exit status of the error already printed.
fn load_for_run(path: Option<PathBuf>) -> Result<config::LoadedConfig, ExitCode> {
    let loaded = config::load(path.as_deref()).map_err(|e| print_config_error(&e))?;
    loaded
        .config
        .validate_for_run()
        .map_err(|e| print_config_error(&e))?;
    Ok(loaded)
}

fn check_config(path: Option<PathBuf>) -> ExitCode {
    match load_for_run(path) {
        Ok(loaded) => {
            print!("{}", config::render_effective(&loaded));
            ExitCode::SUCCESS
        }
        Err(status) => status,
    }
}

fn healthcheck(path: Option<PathBuf>) -> ExitCode {
    let loaded = match config::load(path.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => return print_config_error(&e),
    };
    match crate::http::healthcheck(&loaded.config.http, std::time::Duration::from_secs(5)) {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("anova2mqtt: unhealthy: {message}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn run(path: Option<PathBuf>) -> ExitCode {
    let loaded = match load_for_run(path) {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    block_on(&loaded.config, |config| async move {
        if let Some(source) = &loaded.source {
            tracing::info!("configuration from {}", source.display());
        }
        daemon::run(&config, shutdown_signal()).await
    })
}

fn demo(path: Option<PathBuf>, args: demo::DemoArgs) -> ExitCode {
    let config = match demo::config(path.as_deref()) {
        Ok(config) => config,
        Err(e) => return print_config_error(&e),
    };
    block_on(&config, |config| demo::run(config, args, shutdown_signal()))
}

fn simulate(args: simulator::SimulateArgs) -> ExitCode {
    let config = Config::default();
    block_on(&config, |_| async move {
        let listen = args.listen;
        simulator::serve_until(listen, args.into_config(), shutdown_signal()).await
    })
}

/// Sets up logging and the runtime, runs `main`, and maps its result to an exit status.
fn block_on<F, Fut>(config: &Config, main: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    if let Err(e) = telemetry::init(&config.log) {
        eprintln!("anova2mqtt: logging: {e:#}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("anova2mqtt: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main(config.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("anova2mqtt: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGTERM (systemd, docker stop) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received"),
    }
}
