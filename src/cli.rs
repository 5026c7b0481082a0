//! The command line (`docs/interface.md` §1): `run` (the default), `demo`, `simulate`,
//! `check-config`, `healthcheck`, `mcp`, and `--config` (before or after the command, except
//! for `simulate` and `mcp`, which read no config file).

use crate::config::{self, Config};
use crate::{daemon, demo, simulator, telemetry};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Exit status for a configuration error (`EX_CONFIG`); the systemd unit does not restart on it.
pub const EXIT_CONFIG: u8 = 78;

/// Bridges the Anova Culinary cloud (sous-vide cookers and Precision Ovens) to MQTT and Home
/// Assistant.
// Our own `help` command (clap's refuses `help --help`).
#[derive(Debug, Parser)]
#[command(
    name = "anova2mqtt",
    version,
    propagate_version = true,
    about,
    long_about = None,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// The config file [default: /etc/anova2mqtt/config.toml, else ./config/anova2mqtt.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daemon: Anova cloud <-> MQTT (the default).
    Run(ConfigArg),
    /// Everything in one process, no hardware or account needed: a simulated Anova cloud with
    /// two cookers and an oven, the bridge, and an embedded MQTT broker.
    #[cfg_attr(
        not(feature = "embedded-broker"),
        command(
            about = "Everything but the broker in one process, no hardware or account needed: a simulated Anova cloud with two cookers and an oven, and the bridge, on the MQTT broker given with --mqtt (this build has no embedded broker)"
        )
    )]
    Demo(demo::DemoArgs),
    /// Only the Anova cloud simulator, speaking the real protocol on ws://ADDR. It reads no
    /// config file: every setting is an option below.
    Simulate(simulator::SimulateArgs),
    /// Load and validate the configuration, print it with secrets redacted.
    CheckConfig(ConfigArg),
    /// Ask the running daemon's GET /healthz (for Docker's healthcheck): exit 0 when healthy.
    Healthcheck(ConfigArg),
    /// A Model Context Protocol server on stdin/stdout for assistants (Claude Desktop, Claude
    /// Code, …), driving a running daemon through its HTTP API. The token comes from
    /// ANOVA2MQTT_HTTP__TOKEN or --token-file. It reads no config file.
    Mcp(crate::mcp::McpArgs),
    /// Print this help, or the help of the given command (`anova2mqtt help demo`).
    Help {
        /// The command (and subcommand) whose help to print.
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

/// `--config FILE` for the commands that read the configuration. It is not global, so that
/// `simulate`, which reads none, refuses it instead of ignoring it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArg {
    /// The config file [default: /etc/anova2mqtt/config.toml, else ./config/anova2mqtt.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every TLS configuration names its provider explicitly; installing the default as well
    // keeps any library that asks for it on the same one (ring). It fails only if already set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let command = cli.command.unwrap_or(Command::Run(ConfigArg::default()));
    match command {
        Command::CheckConfig(arg) => check_config(config_path(cli.config, arg.config)),
        Command::Run(arg) => run(config_path(cli.config, arg.config)),
        Command::Healthcheck(arg) => healthcheck(config_path(cli.config, arg.config)),
        Command::Demo(mut args) => {
            let path = config_path(cli.config, args.config.take());
            demo(path, args)
        }
        Command::Simulate(args) => {
            if cli.config.is_some() {
                usage_error(
                    "simulate reads no config file, so --config has no effect on it; \
                     give its settings as options (see `anova2mqtt simulate --help`)",
                );
            }
            simulate(args)
        }
        Command::Help { command } => help(&command),
        Command::Mcp(args) => {
            if cli.config.is_some() {
                usage_error(
                    "mcp reads no config file, so --config has no effect on it; give the \
                     daemon's address with --url and its token in ANOVA2MQTT_HTTP__TOKEN or \
                     --token-file (see `anova2mqtt mcp --help`)",
                );
            }
            mcp(args)
        }
    }
}

/// `anova2mqtt help [COMMAND]…`: the help of the program or of the named command, exactly as
/// `anova2mqtt [COMMAND]… --help` prints it (clap exits after printing it; an unknown command
/// is its usual error).
fn help(path: &[String]) -> ExitCode {
    let args = std::iter::once("anova2mqtt")
        .chain(path.iter().map(String::as_str))
        .chain(["--help"]);
    Cli::parse_from(args);
    // Only reached if clap did not print the help and exit.
    ExitCode::FAILURE
}

/// `--config` given before the command (`anova2mqtt --config F run`) or after it.
fn config_path(before: Option<PathBuf>, after: Option<PathBuf>) -> Option<PathBuf> {
    match (before, after) {
        (Some(before), Some(after)) if before != after => {
            usage_error("--config is given twice, with different files; give it once")
        }
        (before, after) => after.or(before),
    }
}

/// Exits as clap does for a bad command line: the message, the usage, status 2.
fn usage_error(message: &str) -> ! {
    use clap::CommandFactory;
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
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
            for warning in &loaded.warnings {
                eprintln!("anova2mqtt: warning: {warning}");
            }
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

/// One thread runs everything. The daemon's work per message is a few microseconds; on a
/// multi-threaded runtime most of a push's cost was waking another worker and handing the
/// message over, and every worker kept its own allocator arenas and stack (measured with
/// `examples/load.rs`, README "What it costs"). The embedded demo broker has its own threads.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn run(path: Option<PathBuf>) -> ExitCode {
    let again = path.clone();
    let loaded = match load_for_run(path) {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    block_on(&loaded.config, |config| async move {
        if let Some(source) = &loaded.source {
            tracing::info!("configuration from {}", source.display());
        }
        for warning in &loaded.warnings {
            tracing::warn!("configuration: {warning}");
        }
        for note in &loaded.notes {
            tracing::debug!("configuration: {note}");
        }
        let mut config = config;
        loop {
            let restart = Arc::new(AtomicBool::new(false));
            let options = daemon::RunOptions {
                restart: Some(restart.clone()),
                ..daemon::RunOptions::default()
            };
            daemon::run_with(&config, options, shutdown_signal()).await?;
            if !restart.load(Ordering::Relaxed) {
                return Ok(());
            }
            // The `restart` request: the configuration read anew, as at a start.
            let reloaded = config::load(again.as_deref()).and_then(|l| {
                l.config.validate_for_run()?;
                Ok(l.config)
            });
            config = reloaded
                .map_err(|e| anyhow::anyhow!("configuration error at the restart:\n{e}"))?;
            tracing::info!("starting again with the configuration read anew");
            if let Err(e) = telemetry::set_level(&config.log.level) {
                tracing::warn!("the log level stays: {e:#}");
            }
        }
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

fn mcp(args: crate::mcp::McpArgs) -> ExitCode {
    // Logs go to stderr (the client's log); stdout is the protocol.
    let config = Config::default();
    let token = std::env::var(crate::mcp::TOKEN_VARIABLE).ok();
    block_on(&config, |_| async move {
        tokio::select! {
            result = crate::mcp::serve_stdio(args, token) => result,
            () = shutdown_signal() => Ok(()),
        }
    })
}

/// Sets up logging and the runtime, runs `main`, and maps its result to an exit status.
fn block_on<F, Fut>(config: &Config, main: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let secrets = [
        config.anova.token.as_ref(),
        config.mqtt.password.as_ref(),
        config.http.token.as_ref(),
    ];
    let secrets: Vec<_> = secrets.into_iter().flatten().collect();
    if let Err(e) = telemetry::init(&config.log, &secrets) {
        eprintln!("anova2mqtt: logging: {e:#}");
        return ExitCode::from(EXIT_CONFIG);
    }
    crate::descriptors::raise_and_log();
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("anova2mqtt: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The daemon runs as a spawned task, not as `block_on`'s own future: the runtime polls the
    // I/O driver once more (a zero-timeout `epoll_wait`) every time `block_on`'s future is
    // woken, which for the daemon's main loop meant one extra system call per push.
    let main = runtime.spawn(main(config.clone()));
    let result = match runtime.block_on(main) {
        Ok(result) => result,
        Err(e) => Err(anyhow::anyhow!("the main task failed: {e}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Said once: the log goes to stderr or the journal (which also collects stderr),
            // so a second copy on stderr only repeated it. Straight to stderr only when the
            // log filter hides errors.
            if tracing::enabled!(tracing::Level::ERROR) {
                tracing::error!("{e:#}");
            } else {
                eprintln!("anova2mqtt: {e:#}");
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// `demo --help` promises the embedded broker only in a build that has it (the shipped
    /// build, `--no-default-features`, has not: there `--mqtt` is required and the port hidden).
    #[test]
    fn demo_help_matches_the_builds_broker() {
        let cli = Cli::command();
        let demo = cli.find_subcommand("demo").expect("demo");
        let about = demo
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(about.contains("two cookers and an oven"), "{about}");
        let embedded = cfg!(feature = "embedded-broker");
        assert_eq!(
            about.contains("an embedded MQTT broker"),
            embedded,
            "{about}"
        );
        let port = demo
            .get_arguments()
            .find(|a| a.get_id() == "mqtt_port")
            .expect("--mqtt-port");
        assert_eq!(port.is_hide_set(), !embedded);
        let mqtt = demo
            .get_arguments()
            .find(|a| a.get_id() == "mqtt")
            .expect("--mqtt");
        assert_eq!(mqtt.is_required_set(), !embedded);
    }
}
