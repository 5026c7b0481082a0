//! The installed binary: `check-config` errors, logging choice, SIGTERM, systemd notify and the
//! watchdog, and `demo`. Every test runs the real `anova2mqtt` executable.

mod support;

use anova2mqtt::mqtt::connection::{MqttConnection, MqttEvent, MqttSettings};
use anova2mqtt::simulator::{demo_cookers, SimCookerSpec, Simulator, SimulatorConfig};
use serde_json::json;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{Broker, Watcher, WAIT};

const BIN: &str = env!("CARGO_BIN_EXE_anova2mqtt");

/// A command with a clean environment (no RUST_LOG, no ANOVA2MQTT_* from the developer's
/// shell), run from an empty directory so no default config file is found.
fn anova2mqtt(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // Tests run in parallel: the local API takes any free port, never the default one.
        .env("ANOVA2MQTT_HTTP__LISTEN", "127.0.0.1:0")
        .current_dir(dir);
    command
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn check_config(config: &str, env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "config.toml", config);
    let mut command = anova2mqtt(dir.path());
    command.arg("check-config").arg("--config").arg(&path);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// What is wrong, the config file, extra environment, and the key the error must name.
type ErrorCase<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn check_config_names_the_key_of_each_error() {
    let cases: &[ErrorCase] = &[
        (
            "a bad URL scheme",
            "[anova]\ntoken = \"anova-x\"\nurl = \"http://devices.anovaculinary.io\"\n",
            &[],
            "anova.url",
        ),
        (
            "a bad broker URL",
            "[anova]\ntoken = \"anova-x\"\n[mqtt]\nurl = \"tcp://localhost\"\n",
            &[],
            "mqtt.url",
        ),
        ("a missing token", "", &[], "anova.token"),
        (
            "a token that is not a PAT",
            "[anova]\ntoken = \"eyJhbGciOi\"\n",
            &[],
            "anova.token",
        ),
        (
            "a negative duration",
            "[anova]\ntoken = \"anova-x\"\nstale_after = \"-5s\"\n",
            &[],
            "anova.stale_after",
        ),
        (
            "a duration without unit",
            "[mqtt]\nkeepalive = \"30\"\n[anova]\ntoken = \"anova-x\"\n",
            &[],
            "mqtt.keepalive",
        ),
        (
            "an unknown key in the file",
            "[anova]\ntoken = \"anova-x\"\n[mqtt]\nurll = \"mqtt://x\"\n",
            &[],
            "mqtt.urll",
        ),
        (
            "an unknown key in the environment",
            "[anova]\ntoken = \"anova-x\"\n",
            &[("ANOVA2MQTT_MQTT__PORTT", "1")],
            "mqtt.portt",
        ),
        (
            "a bad discovery mode",
            "[anova]\ntoken = \"anova-x\"\n[homeassistant]\ndiscovery_mode = \"both\"\n",
            &[],
            "homeassistant.discovery_mode",
        ),
        (
            "a missing token file",
            "[anova]\ntoken_file = \"/nonexistent/token\"\n",
            &[],
            "anova.token_file",
        ),
        (
            "a typo in the log level",
            "[anova]\ntoken = \"anova-x\"\n[log]\nlevel = \"inf\"\n",
            &[],
            "log.level",
        ),
        (
            "the README's placeholder token",
            "",
            &[("ANOVA2MQTT_ANOVA__TOKEN", "anova-…")],
            "anova.token: is the placeholder",
        ),
        (
            "a RUST_LOG that run would refuse",
            "[anova]\ntoken = \"anova-x\"\n",
            &[("RUST_LOG", "debgu")],
            "RUST_LOG: \"debgu\" is not a level (did you mean `debug`?)",
        ),
        (
            "a huge duration",
            "[anova]\ntoken = \"anova-x\"\nstale_after = \"1000000000000h\"\n",
            &[],
            "anova.stale_after",
        ),
    ];
    for (what, config, env, key) in cases {
        let out = check_config(config, env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(78),
            "{what}: exit status; stderr: {stderr}"
        );
        assert!(stderr.contains(key), "{what}: {key} not named in: {stderr}");
        assert!(out.stdout.is_empty(), "{what}: printed a config anyway");
    }
}

/// `check-config` and `run` judge `RUST_LOG` alike: both exit 78 with the same words (issue 27
/// item 4: check-config passed `RUST_LOG=debgu`, run refused it).
#[test]
fn check_config_and_run_refuse_the_same_rust_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "config.toml", "[anova]\ntoken = \"anova-x\"\n");
    let mut outputs = Vec::new();
    for command in ["check-config", "run"] {
        let out = anova2mqtt(dir.path())
            .arg(command)
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "info,anova2mqtt=debgu")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(78), "{command}: {stderr}");
        assert!(
            stderr.contains("RUST_LOG: \"debgu\" in"),
            "{command}: {stderr}"
        );
        outputs.push(stderr);
    }
    assert_eq!(outputs[0], outputs[1]);
    // A valid RUST_LOG passes both ways (run then goes on to connect; check-config is enough).
    let out = anova2mqtt(dir.path())
        .args(["check-config", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info,anova2mqtt=debug")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_config_lists_every_unknown_key_and_the_valid_log_levels() {
    let out = check_config(
        "[anova]\ntoken = \"anova-x\"\ntokne = \"y\"\n[mqtt]\nurll = \"mqtt://x\"\n[log]\nlevel = \"verbose\"\n",
        &[("ANOVA2MQTT_HOMEASSISTANT__ENABLD", "false")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    for expected in [
        "anova.tokne: unknown key; did you mean `token`?",
        "mqtt.urll: unknown key; did you mean `url`?",
        "homeassistant.enabld: unknown key; did you mean `enabled`?",
        "log.level: \"verbose\" is not a level",
        "error, warn, info, debug, trace, off",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from: {stderr}"
        );
    }
}

/// Docker Compose sets `ANOVA2MQTT_ANOVA__TOKEN_FILE`; a config file with `token = …` (as the
/// example suggests) must not make the container exit 78 and restart in a loop.
#[test]
fn check_config_lets_the_environment_win_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = write(dir.path(), "anova_token", "anova-from-docker-secret\n");
    let out = check_config(
        "[anova]\ntoken = \"anova-from-the-file\"\n",
        &[("ANOVA2MQTT_ANOVA__TOKEN_FILE", token_file.to_str().unwrap())],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "# anova.token: read from file {}",
            token_file.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("# note: anova.token from file"), "{stdout}");
    assert!(!stdout.contains("anova-from"), "{stdout}");
}

#[test]
fn check_config_prints_the_effective_config_without_secrets() {
    let out = check_config(
        "[anova]\ntoken = \"anova-supersecret-token\"\n[mqtt]\npassword = \"hunter2\"\nusername = \"u\"\n",
        &[
            ("ANOVA2MQTT_MQTT__BASE_TOPIC", "kitchen"),
            // Closer than the file, so its password wins; it is a secret all the same.
            ("ANOVA2MQTT_MQTT__URL", "mqtt://u:url-pass-word@broker.lan"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("base_topic = \"kitchen\""), "{stdout}");
    assert!(stdout.contains("[redacted]"), "{stdout}");
    assert!(stdout.contains("url = \"mqtt://broker.lan\""), "{stdout}");
    assert!(
        stdout.contains(
            "# mqtt.password: set in mqtt.url (environment variable ANOVA2MQTT_MQTT__URL)"
        ),
        "{stdout}"
    );
    for secret in ["supersecret", "hunter2", "url-pass-word"] {
        assert!(!stdout.contains(secret), "{secret} leaked: {stdout}");
    }
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = anova2mqtt(dir.path()).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    for command in ["run", "demo", "simulate", "check-config"] {
        let out = anova2mqtt(dir.path())
            .args([command, "--version"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{command} --version: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("anova2mqtt-{command} {}", env!("CARGO_PKG_VERSION")),
        );
    }
    let out = anova2mqtt(dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["run", "demo", "simulate", "check-config", "--config"] {
        assert!(help.contains(command), "{command} missing from --help");
    }
    // Issue 27 item 13: ovens too, the demo's oven, and `help --help`.
    assert!(
        help.contains("sous-vide cookers and Precision Ovens"),
        "{help}"
    );
    let demo = anova2mqtt(dir.path())
        .args(["demo", "--help"])
        .output()
        .unwrap();
    let demo_help = String::from_utf8_lossy(&demo.stdout);
    assert!(demo_help.contains("two cookers and an oven"), "{demo_help}");
    // This build has the embedded broker (the default features), and says so.
    assert!(demo_help.contains("--mqtt-port"), "{demo_help}");
    let out = anova2mqtt(dir.path())
        .args(["help", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success(), "help --help: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Usage: anova2mqtt help"),
        "{out:?}"
    );
    let out = anova2mqtt(dir.path())
        .args(["help", "demo"])
        .output()
        .unwrap();
    assert!(out.status.success(), "help demo: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), demo_help);
}

/// `simulate` reads no configuration: `--config` is refused, not silently ignored, and the
/// commands that do read one take it before or after the command name.
#[test]
fn simulate_refuses_config_and_the_others_take_it_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "c.toml", "[anova]\ntoken = \"anova-x\"\n");
    let config = config.to_str().unwrap();
    for args in [
        &["simulate", "--config", config][..],
        &["--config", config, "simulate"],
    ] {
        let out = anova2mqtt(dir.path()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--config"), "{args:?}: {stderr}");
    }
    for args in [
        &["check-config", "--config", config][..],
        &["--config", config, "check-config"],
    ] {
        let out = anova2mqtt(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
}

/// Runs the daemon (cloud unreachable, text logs, `env` added) until its log shows the second
/// attempt to reach the broker; its log.
fn run_until_second_broker_attempt(dir: &Path, env: &[(&str, &str)]) -> String {
    let stderr_path = dir.join("stderr.log");
    let mut child = anova2mqtt(dir)
        .arg("run")
        .envs([
            ("ANOVA2MQTT_ANOVA__TOKEN", "anova-x"),
            ("ANOVA2MQTT_ANOVA__URL", "ws://127.0.0.1:9"),
            ("ANOVA2MQTT_LOG__FORMAT", "text"),
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let log = loop {
        let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        if log.contains("attempt=2") || Instant::now() >= deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(log.contains("attempt=2"), "{log}");
    log
}

/// With the broker down at start, every failed attempt is logged with the next wait, and the
/// waits grow.
#[test]
fn run_logs_every_failed_broker_connect_with_the_next_retry() {
    let dir = tempfile::tempdir().unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let broker = format!("mqtt://127.0.0.1:{closed_port}");
    let log = run_until_second_broker_attempt(dir.path(), &[("ANOVA2MQTT_MQTT__URL", &broker)]);
    let first = log
        .lines()
        .find(|l| l.contains("cannot connect to the MQTT broker"))
        .unwrap_or_else(|| panic!("no first failure in {log}"));
    assert!(
        first.contains("WARN") && first.contains("retrying in"),
        "{first}"
    );
    let second = log
        .lines()
        .find(|l| l.contains("attempt=2"))
        .unwrap_or_default();
    assert!(
        second.contains("INFO") && second.contains("still cannot connect to the MQTT broker"),
        "{second}"
    );
    // About 1 s, then about 2 s (with jitter): the second wait is in whole seconds above 1.
    let wait = |line: &str| {
        let text = line.split("retrying in ").nth(1).unwrap_or_default();
        let text = text.split(" broker=").next().unwrap_or_default();
        humantime::parse_duration(text.trim()).unwrap_or_default()
    };
    assert!(wait(second) > wait(first), "{first}\n{second}");
}

/// A wrong broker password (issue 27 item 8): every retry is a warning that names the
/// settings to check and which are set, never the password (real mosquitto with a password
/// file).
#[test]
fn a_wrong_broker_password_names_the_settings_on_every_retry() {
    let Some(broker) = Broker::start_mosquitto_requiring_login("anova2mqtt", "right-password")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = run_until_second_broker_attempt(
        dir.path(),
        &[
            ("ANOVA2MQTT_MQTT__URL", broker.url().as_str()),
            ("ANOVA2MQTT_MQTT__USERNAME", "anova2mqtt"),
            ("ANOVA2MQTT_MQTT__PASSWORD", "wrong-password"),
        ],
    );
    let refusals: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cannot connect to the MQTT broker"))
        .collect();
    assert!(refusals.len() >= 2, "{log}");
    for line in refusals {
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains("the broker refused the login"), "{line}");
        assert!(
            line.contains("check mqtt.username and mqtt.password") && line.contains("both are set"),
            "{line}"
        );
    }
    assert!(!log.contains("wrong-password"), "{log}");
}

/// A daemon process against a broker and a simulator.
struct Daemon {
    child: Child,
    _dir: tempfile::TempDir,
    stderr: PathBuf,
}

impl Daemon {
    fn spawn(broker: &Broker, sim: &Simulator, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = write(
            dir.path(),
            "config.toml",
            &format!(
                "[anova]\nurl = \"{}\"\ntoken_file = \"{}\"\n[mqtt]\nurl = \"{}\"\nclient_id = \"cli-{}\"\n",
                sim.url(),
                write(dir.path(), "token", "anova-cli-test-token\n").display(),
                broker.url(),
                uuid::Uuid::new_v4().simple()
            ),
        );
        let stderr = dir.path().join("stderr.log");
        let mut command = anova2mqtt(dir.path());
        command
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            command.env(k, v);
        }
        Self {
            child: command.spawn().unwrap(),
            _dir: dir,
            stderr,
        }
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; its status and how long it took.
    fn wait(&mut self, limit: Duration) -> (std::process::ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            assert!(
                start.elapsed() < limit,
                "still running after {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// systemd's `TimeoutStopSec` in `systemd/anova2mqtt.service`: a stop must end before it.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The daemon's shutdown waits (`daemon::run_with`) each log when they run out.
fn assert_no_shutdown_timeout(log: &str) {
    for warning in [
        "did not take every device's last state in time",
        "the cloud connection did not close in time",
    ] {
        assert!(
            !log.contains(warning),
            "the shutdown waited: {warning}\n{log}"
        );
    }
}

async fn simulator() -> Simulator {
    Simulator::start(
        ([127, 0, 0, 1], 0).into(),
        SimulatorConfig::for_tests(demo_cookers()),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn sigterm_publishes_offline_and_exits_zero_promptly() {
    let broker = Broker::start();
    let sim = simulator().await;
    let mut watcher = Watcher::connect(
        broker.port,
        &["anova2mqtt/bridge/state", "anova2mqtt/+/availability"],
    )
    .await;
    let mut daemon = Daemon::spawn(&broker, &sim, &[]);
    watcher
        .wait_for("online", |m| {
            m.topic == "anova2mqtt/bridge/state" && m.payload == "online"
        })
        .await;
    watcher
        .wait_for("a cooker online", |m| {
            m.topic.ends_with("/availability") && m.payload == "online"
        })
        .await;
    daemon.terminate();
    // Nothing retained says a device is reachable once the daemon is gone (issue 14).
    watcher
        .next_matching(WAIT, "a cooker offline", |m| {
            m.topic.ends_with("/availability") && m.payload == "offline"
        })
        .await;
    watcher
        .next_matching(WAIT, "offline", |m| {
            m.topic == "anova2mqtt/bridge/state" && m.payload == "offline"
        })
        .await;
    let (status, took) = daemon.wait(STOP_TIMEOUT);
    assert!(
        status.success(),
        "exit status {status:?}:\n{}",
        daemon.log()
    );
    // Promptly means that no wait of the shutdown ran into its own limit (the broker taking
    // the last states, the cloud socket's close): that is what a slow stop would be, whatever
    // the machine's load. The clock only has to stay under the service manager's limit.
    assert_no_shutdown_timeout(&daemon.log());
    assert!(took < STOP_TIMEOUT, "took {took:?}");
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/anova2mqtt.service"
    ))
    .unwrap();
    assert!(
        unit.contains(&format!("TimeoutStopSec={}", STOP_TIMEOUT.as_secs())),
        "STOP_TIMEOUT is the unit's"
    );
    // The cloud socket was closed, not left to time out.
    sim.handle()
        .wait_for_open_connections(0, WAIT)
        .await
        .unwrap();
    // The token never reached the logs.
    assert!(
        !daemon.log().contains("anova-cli-test-token"),
        "{}",
        daemon.log()
    );
    assert!(
        daemon.log().contains("token=[redacted]"),
        "{}",
        daemon.log()
    );
}

/// A requested `refresh` is not a fault (issue 27 item 15): no WARN "link down", and
/// `health_check` keeps no `last_error` for it; the reconnect is counted.
#[tokio::test]
async fn a_requested_refresh_is_no_fault_in_the_log_or_the_health_check() {
    let broker = Broker::start();
    let sim = simulator().await;
    let mut watcher = Watcher::connect(broker.port, &["anova2mqtt/bridge/#"]).await;
    let daemon = Daemon::spawn(&broker, &sim, &[("ANOVA2MQTT_LOG__FORMAT", "text")]);
    watcher
        .wait_for("connected", |m| {
            m.topic == "anova2mqtt/bridge/info" && m.json()["cloud"] == "connected"
        })
        .await;
    watcher
        .publish("anova2mqtt/bridge/request/refresh", r#"{"id":"r"}"#, false)
        .await;
    watcher
        .wait_for("the reconnect counted", |m| {
            m.topic == "anova2mqtt/bridge/info"
                && m.json()["reconnects"] == 1
                && m.json()["cloud"] == "connected"
        })
        .await;
    watcher
        .publish(
            "anova2mqtt/bridge/request/health_check",
            r#"{"id":"h"}"#,
            false,
        )
        .await;
    let health = watcher
        .wait_for("the health check", |m| {
            m.topic == "anova2mqtt/bridge/response/health_check"
        })
        .await
        .json();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(
        health["data"]["last_error"],
        serde_json::Value::Null,
        "{health}"
    );
    assert_eq!(health["data"]["reconnects"], 1, "{health}");
    let log = daemon.log();
    assert!(
        log.contains("reconnecting to the Anova cloud, as requested"),
        "{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.contains("WARN") && l.contains("link down")),
        "{log}"
    );
}

/// zigbee2mqtt's conventions on the real binary (issue 27 item 16): `<id>/get` answers with
/// the state, `bridge/request/options` changes the log level at runtime, the log's lines come
/// on `bridge/logging`, and `bridge/request/restart` starts the daemon again.
#[tokio::test]
async fn zigbee2mqtt_get_options_logging_and_restart() {
    let broker = Broker::start();
    let sim = simulator().await;
    let a7 = demo_cookers()[0].cooker_id.to_lowercase();
    let state = format!("anova2mqtt/{a7}/state");
    let mut watcher = Watcher::connect(broker.port, &["anova2mqtt/#"]).await;
    let daemon = Daemon::spawn(&broker, &sim, &[("ANOVA2MQTT_LOG__FORMAT", "text")]);
    watcher
        .wait_for("the a7's state", |m| m.topic == state)
        .await;
    watcher
        .wait_for("online", |m| {
            m.topic == "anova2mqtt/bridge/state" && m.payload == "online"
        })
        .await;

    // get: the state again, at once.
    watcher.clear();
    watcher
        .publish(&format!("anova2mqtt/{a7}/get"), "", false)
        .await;
    let again = watcher
        .next_matching(WAIT, "the state on get", |m| m.topic == state)
        .await;
    assert_eq!(again.json()["model"], "a7", "{}", again.payload);

    // options: the log level, and the log's own line about it on bridge/logging.
    watcher
        .publish(
            "anova2mqtt/bridge/request/options",
            r#"{"id":"o","options":{"log":{"level":"debug"}}}"#,
            false,
        )
        .await;
    let r = watcher
        .next_matching(WAIT, "the options response", |m| {
            m.topic == "anova2mqtt/bridge/response/options"
        })
        .await
        .json();
    assert_eq!(r["status"], "ok", "{r}");
    let line = watcher
        .next_matching(WAIT, "the log line", |m| {
            m.topic == "anova2mqtt/bridge/logging" && m.json()["message"] == "log level now debug"
        })
        .await;
    assert_eq!(line.json()["level"], "info");
    assert!(!line.retained);
    // The daemon logs at debug now (an empty command is ignored with a debug line).
    watcher
        .publish(&format!("anova2mqtt/{a7}/set"), "", false)
        .await;
    let deadline = Instant::now() + WAIT;
    while !daemon
        .log()
        .contains("empty payload on a command topic ignored")
    {
        assert!(Instant::now() < deadline, "{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // restart: answered, offline, online again, and the devices back.
    watcher.clear();
    watcher
        .publish("anova2mqtt/bridge/request/restart", r#"{"id":"r"}"#, false)
        .await;
    let r = watcher
        .next_matching(WAIT, "the restart response", |m| {
            m.topic == "anova2mqtt/bridge/response/restart"
        })
        .await
        .json();
    assert_eq!((&r["id"], &r["status"]), (&json!("r"), &json!("ok")), "{r}");
    watcher
        .next_matching(WAIT, "offline", |m| {
            m.topic == "anova2mqtt/bridge/state" && m.payload == "offline"
        })
        .await;
    watcher
        .next_matching(WAIT, "online again", |m| {
            m.topic == "anova2mqtt/bridge/state" && m.payload == "online"
        })
        .await;
    watcher
        .next_matching(WAIT, "the a7 online again", |m| {
            m.topic == format!("anova2mqtt/{a7}/availability") && m.payload == "online"
        })
        .await;
    assert!(
        daemon
            .log()
            .contains("starting again with the configuration read anew"),
        "{}",
        daemon.log()
    );
}

// The notify socket is read with blocking calls; the simulator needs a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_status_and_watchdog_reach_the_notify_socket() {
    let broker = Broker::start();
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let socket_text = socket_path.to_string_lossy().into_owned();
    // WatchdogSec=1: a ping every half second while the main loop answers.
    let mut daemon = Daemon::spawn(
        &broker,
        &sim,
        &[
            ("NOTIFY_SOCKET", &socket_text),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + WAIT;
    let has =
        |seen: &[String], what: &str| seen.iter().any(|m| m.lines().any(|l| l.starts_with(what)));
    while !(has(&seen, "READY=1")
        && has(&seen, "WATCHDOG=1")
        && has(&seen, "STATUS=cloud connected"))
    {
        assert!(
            Instant::now() < deadline,
            "saw only {seen:?}\n{}",
            daemon.log()
        );
        let mut buf = [0u8; 1024];
        if let Ok(n) = socket.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    daemon.terminate();
    let deadline = Instant::now() + WAIT;
    while !has(&seen, "STOPPING=1") {
        assert!(Instant::now() < deadline, "no STOPPING=1 in {seen:?}");
        let mut buf = [0u8; 1024];
        if let Ok(n) = socket.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    assert!(daemon.wait(WAIT).0.success());
}

#[tokio::test]
async fn logging_follows_journal_stream() {
    let broker = Broker::start();
    let sim = simulator().await;
    // Plain text with timestamps when stderr is not the journal.
    let mut daemon = Daemon::spawn(&broker, &sim, &[("JOURNAL_STREAM", "1:2")]);
    wait_for_log(&daemon, "connected to the MQTT broker").await;
    let log = daemon.log();
    assert!(
        log.lines()
            .any(|l| l.starts_with("20") && l.contains("INFO")),
        "{log}"
    );
    daemon.terminate();
    daemon.wait(WAIT);

    // When JOURNAL_STREAM names the very file stderr writes to, systemd's journal is the output.
    // This machine has no journal socket, so the daemon says so and writes text for the
    // journal instead: no timestamps (the journal adds its own).
    let dir = tempfile::tempdir().unwrap();
    let stderr_path = dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let meta = stderr.metadata().unwrap();
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    let config = write(
        dir.path(),
        "config.toml",
        &format!(
            "[anova]\nurl = \"{}\"\ntoken = \"anova-x\"\n[mqtt]\nurl = \"{}\"\nclient_id = \"cli-journal\"\n",
            sim.url(),
            broker.url()
        ),
    );
    let mut child = anova2mqtt(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .env("JOURNAL_STREAM", &stream)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let log = loop {
        let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        if log.contains("connected to the MQTT broker") {
            break log;
        }
        assert!(Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    if Path::new("/run/systemd/journal/socket").exists() {
        return; // a real journal took the logs
    }
    assert!(log.contains("cannot log to the journal"), "{log}");
    assert!(
        log.lines().all(|l| !l.starts_with("20")),
        "timestamps in journal text: {log}"
    );
}

async fn wait_for_log(daemon: &Daemon, text: &str) {
    let deadline = Instant::now() + WAIT;
    while !daemon.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no {text:?} in:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn demo_publishes_discovery_and_state_on_its_embedded_broker() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut child = anova2mqtt(dir.path())
        .args([
            "demo",
            "--mqtt-port",
            &port.to_string(),
            "--http-port",
            "0",
            "--speed",
            "60",
        ])
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Ready in about a second: the broker accepts connections.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    anova2mqtt::broker::wait_listening(addr, WAIT).unwrap();
    let mut watcher = Watcher::connect(port, &["anova2mqtt/#", "homeassistant/#"]).await;
    for cooker in demo_cookers() {
        let id = cooker.cooker_id;
        let config = format!("homeassistant/device/anova2mqtt_{id}/config");
        // Live or retained, depending on who was first.
        let m = watcher
            .wait_for("discovery", |m| m.topic == config && !m.payload.is_empty())
            .await;
        assert_eq!(m.json()["device"]["manufacturer"], "Anova");
        let state = format!("anova2mqtt/{id}/state");
        let m = watcher.wait_for("state", |m| m.topic == state).await;
        assert_eq!(m.json()["online"], true);
    }
    // About a second when the machine is idle; the bound leaves room for a loaded 2-core CI
    // machine running other tests' brokers and daemons, and still catches a start that hangs.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let banner = std::fs::read_to_string(&stdout_path).unwrap();
    assert!(
        banner.contains(&format!(
            "mosquitto_sub -h 127.0.0.1 -p {port} -v -t 'anova2mqtt/#'"
        )),
        "{banner}"
    );
    assert!(banner.contains("mosquitto_pub"), "{banner}");
    assert!(banner.contains("oven_v2"), "the demo oven: {banner}");
    // The devices counted in words, and an oven command that works as printed (issue 27
    // item 13).
    assert!(
        banner.contains("2 simulated cookers and an oven,") && !banner.contains("(s)"),
        "{banner}"
    );
    let roast = banner
        .lines()
        .find(|l| l.contains("mosquitto_pub") && l.contains("\"target_temperature\": 200"))
        .unwrap_or_else(|| panic!("no oven command in {banner}"));
    let oven_topic = roast
        .split_whitespace()
        .skip_while(|w| *w != "-t")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    assert!(
        oven_topic.starts_with("anova2mqtt/oven") && oven_topic.ends_with("/set"),
        "{roast}"
    );
    let ran = Command::new("sh")
        .arg("-c")
        .arg(roast.trim())
        .status()
        .unwrap();
    assert!(ran.success(), "{roast}");
    let response_topic = oven_topic.replace("/set", "/response");
    let r = watcher
        .wait_for("the oven's response", |m| m.topic == response_topic)
        .await;
    assert_eq!(r.json()["status"], "ok", "{}", r.payload);
    // A command works end to end.
    watcher
        .publish(
            "anova2mqtt/a7demo000000000001/set",
            r#"{"id":"d","cook":true,"target_temperature":57}"#,
            false,
        )
        .await;
    let r = watcher
        .wait_for("response", |m| {
            m.topic == "anova2mqtt/a7demo000000000001/response"
        })
        .await;
    assert_eq!(r.json()["status"], "ok", "{}", r.payload);
    // The same port speaks MQTT 5 (what `mosquitto_sub -V mqttv5` uses), and the log names it.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut v5 = MqttConnection::start(
        &MqttSettings {
            host: "127.0.0.1".into(),
            port,
            tls: None,
            username: None,
            password: None,
            client_id: "mqtt5-person".into(),
            keepalive: Duration::from_secs(5),
            will_topic: "person/state".into(),
        },
        &shutdown,
    )
    .unwrap();
    let connected = tokio::time::timeout(WAIT, v5.events.recv()).await.unwrap();
    assert_eq!(connected, Some(MqttEvent::Connected));
    v5.handle.subscribe(vec!["anova2mqtt/bridge/state".into()]);
    let state = tokio::time::timeout(WAIT, v5.events.recv()).await.unwrap();
    assert!(
        matches!(&state, Some(MqttEvent::Message { payload, retained: true, .. }) if payload == b"online"),
        "{state:?}"
    );
    shutdown.cancel();
    let log = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(
        log.contains(&format!(
            "connected to the MQTT broker broker=127.0.0.1:{port}"
        )),
        "{log}"
    );
    // Ctrl-C (SIGINT) exits cleanly and promptly, with `offline` retained.
    watcher.clear();
    let interrupted = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(interrupted.elapsed() < WAIT, "demo still running");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let took = interrupted.elapsed();
    assert!(status.success(), "{status:?}");
    // Typically 10 ms. Promptly means no wait of the shutdown ran into its limit; the clock's
    // bound leaves room for a loaded 2-core CI machine.
    assert_no_shutdown_timeout(&std::fs::read_to_string(&stderr_path).unwrap());
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    watcher
        .wait_for("offline", |m| {
            m.topic == "anova2mqtt/bridge/state" && m.payload == "offline"
        })
        .await;
}

/// `demo --mqtt` on a broker where a real bridge runs with the defaults: the demo has its own
/// base topic, client id and Home Assistant ids, so it neither kicks the real bridge off the
/// broker nor touches its retained topics or discovery.
#[tokio::test]
async fn demo_on_a_real_broker_leaves_a_real_installation_alone() {
    let broker = Broker::start();
    let sim = Simulator::start(
        ([127, 0, 0, 1], 0).into(),
        SimulatorConfig::for_tests(vec![SimCookerSpec::a7("realkitchen0000001", "Kitchen")]),
    )
    .await
    .unwrap();
    let mut watcher = Watcher::connect(broker.port, &["#"]).await;
    // The real installation: every default, the default client id included.
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "config.toml",
        &format!(
            "[anova]\nurl = \"{}\"\ntoken = \"anova-real\"\n[mqtt]\nurl = \"{}\"\n",
            sim.url(),
            broker.url()
        ),
    );
    let real_log = dir.path().join("real.log");
    let mut real = anova2mqtt(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .env("ANOVA2MQTT_LOG__FORMAT", "text")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&real_log).unwrap())
        .spawn()
        .unwrap();
    watcher
        .wait_for("the real cooker online", |m| {
            m.topic == "anova2mqtt/realkitchen0000001/availability" && m.payload == "online"
        })
        .await;
    watcher.clear();

    let demo_log = dir.path().join("demo.log");
    let mut demo = anova2mqtt(dir.path())
        .args(["demo", "--mqtt", &broker.url(), "--http-port", "0"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&demo_log).unwrap())
        .spawn()
        .unwrap();
    let demo_cooker = &demo_cookers()[0].cooker_id;
    watcher
        .wait_for("the demo's cooker", |m| {
            m.topic == format!("anova2mqtt-demo/{demo_cooker}/availability")
                && m.payload == "online"
        })
        .await;
    let demo_bridge = watcher
        .wait_for("the demo's bridge discovery", |m| {
            m.topic
                .starts_with("homeassistant/device/anova2mqtt_bridge")
        })
        .await;
    assert_eq!(
        demo_bridge.topic,
        "homeassistant/device/anova2mqtt_bridge_anova2mqtt-demo/config"
    );
    // The real bridge still serves (a kicked-off one would have lost its connection, and its
    // will would have said `offline`).
    watcher
        .publish(
            "anova2mqtt/bridge/request/health_check",
            r#"{"id":"still-there"}"#,
            false,
        )
        .await;
    let health = watcher
        .wait_for("the real bridge's health", |m| {
            m.topic == "anova2mqtt/bridge/response/health_check"
        })
        .await;
    assert_eq!(health.json()["id"], "still-there", "{}", health.payload);
    assert_eq!(health.json()["data"]["devices"], 1, "{}", health.payload);
    let _ = Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status();
    let status = demo.wait().unwrap();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&demo_log).unwrap()
    );

    // The demo removed everything it had published: a newcomer finds nothing retained of it.
    let mut newcomer = Watcher::connect(broker.port, &["#"]).await;
    newcomer
        .publish("marker", "after the retained ones", false)
        .await;
    newcomer
        .wait_for("the marker", |m| m.topic == "marker")
        .await;
    let left: Vec<&str> = newcomer
        .seen
        .iter()
        .filter(|m| m.retained && m.topic.contains("demo"))
        .map(|m| m.topic.as_str())
        .collect();
    assert!(left.is_empty(), "the demo left {left:?}");
    assert!(
        newcomer
            .seen
            .iter()
            .any(|m| m.retained && m.topic == "anova2mqtt/realkitchen0000001/state"),
        "the real cooker's state is gone"
    );

    // Nothing of the real installation's was removed or marked offline, and nothing was
    // published under its base topic but by the real bridge (which has one cooker).
    watcher.drain();
    for m in &watcher.seen {
        let real_bridge_discovery =
            m.topic.contains("anova2mqtt_bridge") && !m.topic.contains("anova2mqtt-demo");
        let real_topic = m.topic.starts_with("anova2mqtt/")
            || real_bridge_discovery
            || m.topic.contains("realkitchen");
        if real_topic {
            assert!(
                !m.payload.is_empty() && m.payload != "offline",
                "the demo touched {} ({:?})",
                m.topic,
                m.payload
            );
            assert!(!m.topic.contains("demo0000"), "{m:?}");
        }
    }
    // The real bridge stayed connected the whole time.
    let log = std::fs::read_to_string(&real_log).unwrap();
    assert_eq!(
        log.matches("connected to the MQTT broker").count(),
        1,
        "{log}"
    );
    assert!(!log.contains("connection lost"), "{log}");
    let _ = Command::new("kill")
        .args(["-TERM", &real.id().to_string()])
        .status();
    let _ = real.wait();
}

/// Issue 27 item 10: a daemon bridging `anova2mqtt simulate` and `demo --mqtt` on one broker.
/// The simulator's devices have ids of their own, so stopping the demo (which removes its
/// devices' Home Assistant discovery) leaves the daemon's devices in Home Assistant.
#[tokio::test]
async fn stopping_the_demo_leaves_a_bridged_simulators_devices_alone() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut simulate = anova2mqtt(dir.path())
        .args(["simulate", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The simulator listens before the daemon starts: a daemon that found nothing there would
    // wait out its reconnect backoff, longer than a discovery wait on a loaded machine.
    let simulator = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let listening = Instant::now();
    while std::net::TcpStream::connect_timeout(&simulator, Duration::from_millis(100)).is_err() {
        assert!(
            listening.elapsed() < Duration::from_secs(10),
            "the simulator never listened on {simulator}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let config = write(
        dir.path(),
        "config.toml",
        &format!(
            "[anova]\nurl = \"ws://127.0.0.1:{port}\"\ntoken = \"anova-simulated\"\n[mqtt]\nurl = \"{}\"\n",
            broker.url()
        ),
    );
    let mut watcher = Watcher::connect(broker.port, &["#"]).await;
    let mut daemon = anova2mqtt(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The daemon's three devices, discovered; none of them has a demo device's id.
    let devices = watcher
        .wait_for("the daemon's device list", |m| {
            m.topic == "anova2mqtt/bridge/devices" && m.json().as_array().map(Vec::len) == Some(3)
        })
        .await
        .json();
    let ids: Vec<String> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    let demo_ids: Vec<String> = demo_cookers().into_iter().map(|c| c.cooker_id).collect();
    assert!(ids.iter().all(|id| !demo_ids.contains(id)), "{ids:?}");
    let is_discovery_of = |m: &support::Msg, id: &str| {
        m.topic.starts_with("homeassistant/")
            && m.topic.ends_with("/config")
            && m.topic.contains(id)
            && !m.payload.is_empty()
    };
    for id in &ids {
        watcher
            .wait_for(&format!("{id}'s discovery"), |m| is_discovery_of(m, id))
            .await;
    }
    watcher.drain();
    let discovered: std::collections::BTreeSet<String> = watcher
        .seen
        .iter()
        .filter(|m| ids.iter().any(|id| is_discovery_of(m, id)))
        .map(|m| m.topic.clone())
        .collect();

    let demo_log = dir.path().join("demo.log");
    let mut demo = anova2mqtt(dir.path())
        .args(["demo", "--mqtt", &broker.url(), "--http-port", "0"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&demo_log).unwrap())
        .spawn()
        .unwrap();
    let demo_cooker = &demo_ids[0];
    watcher
        .wait_for("the demo's cooker", |m| {
            m.topic == format!("anova2mqtt-demo/{demo_cooker}/availability")
                && m.payload == "online"
        })
        .await;
    let _ = Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status();
    let status = demo.wait().unwrap();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&demo_log).unwrap()
    );

    // The daemon's discovery is still retained, and nothing emptied it meanwhile.
    watcher.drain();
    for m in &watcher.seen {
        assert!(
            !(discovered.contains(&m.topic) && m.payload.is_empty()),
            "the demo removed {}",
            m.topic
        );
    }
    let mut newcomer = Watcher::connect(broker.port, &["homeassistant/#", "marker"]).await;
    newcomer
        .publish("marker", "after the retained ones", false)
        .await;
    newcomer
        .wait_for("the marker", |m| m.topic == "marker")
        .await;
    for topic in &discovered {
        assert!(
            newcomer
                .seen
                .iter()
                .any(|m| m.retained && &m.topic == topic && !m.payload.is_empty()),
            "{topic} is gone"
        );
    }
    for child in [&mut daemon, &mut simulate] {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }
}

/// Starts `demo` on ports the system chooses with `options`; returns it, its banner and the
/// embedded broker's port (which the banner names).
async fn demo_with(dir: &Path, options: &[&str]) -> (Child, String, u16) {
    let stdout_path = dir.join("stdout");
    let child = anova2mqtt(dir)
        .args(["demo", "--mqtt-port", "0", "--http-port", "0"])
        .args(options)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let banner = loop {
        let banner = std::fs::read_to_string(&stdout_path).unwrap_or_default();
        if banner.contains("Press Ctrl-C") {
            break banner;
        }
        assert!(Instant::now() < deadline, "no banner: {banner}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let port: u16 = banner
        .split("mosquitto_sub -h 127.0.0.1 -p ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {banner}"));
    (child, banner, port)
}

/// `demo --ice-bath`: the a7 stands in ice water (1 °C), the pro at room temperature.
#[tokio::test]
async fn demo_ice_bath_cools_the_a7() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner, port) = demo_with(dir.path(), &["--ice-bath"]).await;
    assert!(banner.contains("ice bath"), "{banner}");
    let [a7, pro] = [0, 1].map(|i| demo_cookers()[i].cooker_id.clone());
    let state = |id: &str| format!("anova2mqtt/{id}/state");
    let mut watcher = Watcher::connect(port, &[&state(&a7), &state(&pro)]).await;
    let water = |m: &support::Msg| m.json()["water_temperature"].as_f64();
    let cold = watcher
        .wait_for("the a7's state", |m| m.topic == state(&a7))
        .await;
    assert!(
        water(&cold).is_some_and(|t| (0.9..1.1).contains(&t)),
        "{}",
        cold.payload
    );
    let room = watcher
        .wait_for("the pro's state", |m| m.topic == state(&pro))
        .await;
    assert!(water(&room).is_some_and(|t| t > 19.0), "{}", room.payload);
    let _ = child.kill();
    let _ = child.wait();
}

/// `demo --pat-only`: the simulated cloud refuses target changes to a running cook, as the real
/// one does for a Personal Access Token, and the bridge makes them by restarting the cook.
#[tokio::test]
async fn demo_pat_only_shows_the_restart_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner, port) = demo_with(dir.path(), &["--pat-only", "--speed", "60"]).await;
    assert!(banner.contains("Personal Access Token"), "{banner}");
    let a7 = &demo_cookers()[0].cooker_id;
    let availability = format!("anova2mqtt/{a7}/availability");
    let mut watcher =
        Watcher::connect(port, &[&format!("anova2mqtt/{a7}/response"), &availability]).await;
    // The banner comes before the bridge connects: wait until it serves the cooker.
    watcher
        .wait_for("the cooker online", |m| {
            m.topic == availability && m.payload == "online"
        })
        .await;
    let set = format!("anova2mqtt/{a7}/set");
    let response = |id: &'static str| move |m: &support::Msg| m.json()["id"] == id;
    watcher
        .publish(
            &set,
            r#"{"id":"start","cook":true,"target_temperature":57,"timer":"1h"}"#,
            false,
        )
        .await;
    let started = watcher.wait_for("the start", response("start")).await;
    assert_eq!(started.json()["status"], "ok", "{}", started.payload);
    watcher
        .publish(&set, r#"{"id":"change","target_temperature":58}"#, false)
        .await;
    let changed = watcher.wait_for("the change", response("change")).await;
    let json = changed.json();
    assert_eq!(json["status"], "ok", "{}", changed.payload);
    assert!(
        json["warnings"].as_array().is_some_and(|w| !w.is_empty()),
        "the restart is not mentioned: {}",
        changed.payload
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn demo_refuses_a_taken_port_clearly() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = anova2mqtt(dir.path())
        .args(["demo", "--mqtt-port", &port.to_string(), "--http-port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--mqtt-port"), "{stderr}");
    // Said once (issue 27 item 7): one ERROR line, no second copy on stderr, and the system's
    // words not repeated.
    assert_said_once(&stderr, &format!("127.0.0.1:{port} is already in use"));

    // The web page's port: the demo's own option, never http.listen / http.enabled.
    let out = anova2mqtt(dir.path())
        .args(["demo", "--mqtt-port", "0", "--http-port", &port.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--http-port"), "{stderr}");
    assert!(
        !stderr.contains("http.listen") && !stderr.contains("http.enabled"),
        "{stderr}"
    );
    assert_said_once(&stderr, &format!("127.0.0.1:{port} is already in use"));
    drop(listener);
}

/// `text` is on exactly one line of `stderr`, an ERROR log line, and the system's
/// "Address already in use" nowhere.
fn assert_said_once(stderr: &str, text: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(text)).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("ERROR"), "{stderr}");
    assert_eq!(stderr.matches(text).count(), 1, "{stderr}");
    assert!(!stderr.contains("Address already in use"), "{stderr}");
}
