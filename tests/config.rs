//! Configuration loading, validation and `check-config` output (`docs/interface.md` §1, §2).
//!
//! Every test passes its own files and environment to `load_from`, so nothing here depends on
//! `/etc`, the working directory or the process environment, and tests run in parallel.

use anova2mqtt::config::{
    load_from, render_effective, Config, ConfigError, LoadedConfig, LogFormat, SecretOrigin,
};
use anova2mqtt::homeassistant::DiscoveryMode;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TOKEN: &str = "anova-eyJhbGciOiJIUzI1NiJ9.test-token";

/// A temporary directory holding a config file and whatever else a test writes.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Loads `toml` (as an explicit `--config` file) with `vars` as the whole environment.
fn load(toml: &str, vars: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
    let scratch = Scratch::new();
    let file = scratch.write("config.toml", toml);
    load_from(Some(&file), &[], env(vars))
}

/// The error text for a config that must fail; also checks it never shows the token.
fn error_of(toml: &str, vars: &[(&str, &str)]) -> String {
    let err = load(toml, vars).expect_err("config should be rejected");
    let text = err.to_string();
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    text
}

/// The error text of `validate_for_run` for a config that loads.
fn run_error_of(toml: &str, vars: &[(&str, &str)]) -> String {
    let loaded = load(toml, vars).unwrap();
    loaded.config.validate_for_run().unwrap_err().to_string()
}

fn with_token(rest: &str) -> String {
    format!("[anova]\ntoken = \"{TOKEN}\"\n{rest}")
}

#[test]
fn defaults_apply_without_any_file() {
    let loaded = load_from(
        None,
        &[PathBuf::from("/nonexistent/anova2mqtt.toml")],
        env(&[]),
    )
    .unwrap();
    assert_eq!(loaded.source, None);
    let c = &loaded.config;
    assert_eq!(c.anova.url, "wss://devices.anovaculinary.io");
    assert_eq!(c.anova.accessories, ["APC", "APO"]);
    assert_eq!(c.anova.command_timeout, Duration::from_secs(10));
    assert_eq!(c.anova.confirm_timeout, Duration::from_secs(15));
    assert_eq!(c.anova.stale_after, Duration::from_secs(300));
    assert_eq!(c.anova.watchdog, Duration::from_secs(120));
    assert_eq!(c.mqtt.url, "mqtt://localhost:1883");
    assert!(c.mqtt.client_id.starts_with("anova2mqtt"));
    assert_eq!(c.mqtt.keepalive, Duration::from_secs(30));
    assert_eq!(c.mqtt.base_topic, "anova2mqtt");
    assert!(c.homeassistant.enabled);
    assert_eq!(c.homeassistant.discovery_prefix, "homeassistant");
    assert_eq!(c.homeassistant.discovery_mode, DiscoveryMode::Device);
    assert_eq!(c.homeassistant.status_topic, "homeassistant/status");
    assert_eq!(c.limits.commands_per_minute, 30);
    assert_eq!(c.safety.max_temperature_c, None);
    assert_eq!(c.log.level, "info");
    assert_eq!(c.log.format, LogFormat::Auto);
    assert_eq!(loaded.secrets.anova_token, SecretOrigin::NotSet);
    let endpoint = c.mqtt.endpoint().unwrap();
    assert_eq!(
        (endpoint.host.as_str(), endpoint.port, endpoint.tls),
        ("localhost", 1883, false)
    );
}

#[test]
fn default_file_candidates_are_searched_in_order() {
    let scratch = Scratch::new();
    let second = scratch.write("second.toml", "[mqtt]\nbase_topic = \"second\"\n");
    let candidates = [scratch.path("first.toml"), second.clone()];
    let loaded = load_from(None, &candidates, env(&[])).unwrap();
    assert_eq!(loaded.source.as_deref(), Some(second.as_path()));
    assert_eq!(loaded.config.mqtt.base_topic, "second");

    let first = scratch.write("first.toml", "[mqtt]\nbase_topic = \"first\"\n");
    let loaded = load_from(None, &candidates, env(&[])).unwrap();
    assert_eq!(loaded.source.as_deref(), Some(first.as_path()));
    assert_eq!(loaded.config.mqtt.base_topic, "first");
}

#[test]
fn a_missing_explicit_file_is_an_error() {
    let scratch = Scratch::new();
    let missing = scratch.path("nope.toml");
    let err = load_from(Some(&missing), &[], env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::File { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.toml"), "{err}");

    let err = load_from(Some(scratch.dir.path()), &[], env(&[])).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
}

#[test]
fn file_values_and_env_overrides() {
    let toml = with_token(
        r#"url = "ws://127.0.0.1:8080"
accessories = ["APC", "APO"]
command_timeout = "3s"
stale_after = "1h 30m"

[mqtt]
url = "mqtts://broker.lan"
username = "bridge"
password = "from-file"
keepalive = "45s"
base_topic = "kitchen/anova"

[homeassistant]
enabled = false
discovery_mode = "entity"

[limits]
commands_per_minute = 5

[safety]
max_temperature_c = 80
oven_max_temperature_c = 230

[log]
level = "info,anova2mqtt::bridge=debug"
format = "json"
"#,
    );
    let loaded = load(
        &toml,
        &[
            ("ANOVA2MQTT_MQTT__BASE_TOPIC", "from-env"),
            ("ANOVA2MQTT_LIMITS__COMMANDS_PER_MINUTE", "7"),
            ("anova2mqtt_homeassistant__discovery_prefix", "ha"),
            ("ANOVA2MQTT_ANOVA__CONFIRM_TIMEOUT", "20s"),
            ("OTHER_VARIABLE", "ignored"),
        ],
    )
    .unwrap();
    let c = &loaded.config;
    assert_eq!(c.anova.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(c.anova.url, "ws://127.0.0.1:8080");
    assert_eq!(c.anova.accessories, ["APC", "APO"]);
    assert_eq!(c.anova.command_timeout, Duration::from_secs(3));
    assert_eq!(c.anova.confirm_timeout, Duration::from_secs(20));
    assert_eq!(c.anova.stale_after, Duration::from_secs(5400));
    assert_eq!(c.mqtt.username.as_deref(), Some("bridge"));
    assert_eq!(c.mqtt.password.as_ref().unwrap().expose(), "from-file");
    assert_eq!(c.mqtt.keepalive, Duration::from_secs(45));
    assert_eq!(c.mqtt.base_topic, "from-env");
    assert!(!c.homeassistant.enabled);
    assert_eq!(c.homeassistant.discovery_mode, DiscoveryMode::Entity);
    assert_eq!(c.homeassistant.discovery_prefix, "ha");
    assert_eq!(c.limits.commands_per_minute, 7);
    assert_eq!(c.safety.max_temperature_c, Some(80.0));
    assert_eq!(c.safety.oven_max_temperature_c, Some(230.0));
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(c.log.level, "info,anova2mqtt::bridge=debug");
    let endpoint = c.mqtt.endpoint().unwrap();
    assert_eq!(
        (endpoint.host.as_str(), endpoint.port, endpoint.tls),
        ("broker.lan", 8883, true)
    );
    c.validate_for_run().unwrap();
    assert!(
        matches!(&loaded.secrets.anova_token, SecretOrigin::Value(o) if o.starts_with("file "))
    );
}

#[test]
fn numeric_env_values_are_text_for_secrets_and_names() {
    let loaded = load(
        "",
        &[
            ("ANOVA2MQTT_MQTT__USERNAME", "1234"),
            ("ANOVA2MQTT_MQTT__PASSWORD", "98765"),
            ("ANOVA2MQTT_MQTT__CLIENT_ID", "42"),
        ],
    )
    .unwrap();
    let mqtt = &loaded.config.mqtt;
    assert_eq!(mqtt.username.as_deref(), Some("1234"));
    assert_eq!(mqtt.password.as_ref().unwrap().expose(), "98765");
    assert_eq!(mqtt.client_id, "42");
    assert_eq!(
        loaded.secrets.mqtt_password,
        SecretOrigin::Value("environment variable ANOVA2MQTT_MQTT__PASSWORD".to_owned())
    );
}

#[test]
fn unknown_key_in_the_file_is_named() {
    let text = error_of("[anova]\ntokne = \"x\"\n", &[]);
    assert!(text.contains("anova.tokne: unknown key"), "{text}");
    assert!(text.contains("did you mean `token`"), "{text}");
    assert!(text.contains("config.toml"), "{text}");

    let text = error_of("[mqt]\nurl = \"mqtt://x\"\n", &[]);
    assert!(text.contains("mqt: unknown key"), "{text}");
}

#[test]
fn every_unknown_key_is_listed_with_every_bad_value() {
    let err = load(
        "[anova]\ntokne = \"x\"\ncommand_timeout = \"soon\"\n[mqt]\nurl = \"mqtt://x\"\n\
         [mqtt]\nurll = \"mqtt://x\"\nkeepalive = \"forever\"\n[log]\nlevl = \"info\"\n",
        &[("ANOVA2MQTT_HOMEASSISTANT__ENABLD", "true")],
    )
    .unwrap_err();
    let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
    for key in [
        "anova.tokne",
        "mqt",
        "mqtt.urll",
        "log.levl",
        "homeassistant.enabld",
        "anova.command_timeout",
        "mqtt.keepalive",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    let text = err.to_string();
    assert!(
        text.contains("log.levl: unknown key; did you mean `level`?"),
        "{text}"
    );
    assert!(text.contains("did you mean `enabled`"), "{text}");
    assert!(text.contains("ANOVA2MQTT_HOMEASSISTANT__ENABLD"), "{text}");
}

#[test]
fn a_toml_syntax_error_names_the_file_and_a_bad_list_item_its_key() {
    let scratch = Scratch::new();
    let file = scratch.write("broken.toml", "[anova\ntoken=\n");
    let text = load_from(Some(&file), &[], env(&[]))
        .unwrap_err()
        .to_string();
    assert!(text.contains(&format!("file {}", file.display())), "{text}");
    assert!(text.contains("TOML parse error"), "{text}");

    let text = error_of("[anova]\naccessories = [1]\n", &[]);
    assert!(
        text.contains(
            "anova.accessories.0: must be text (in quotes in the file), not the number 1"
        ),
        "{text}"
    );
    assert!(text.contains("config.toml"), "{text}");
}

#[test]
fn unknown_key_in_the_environment_is_named() {
    let text = error_of("", &[("ANOVA2MQTT_MQTT__URLL", "mqtt://x")]);
    assert!(text.contains("mqtt.urll: unknown key"), "{text}");
    assert!(
        text.contains("environment variable ANOVA2MQTT_MQTT__URLL"),
        "{text}"
    );
}

/// Issue 27 item 12: one underscore too few between section and key, and a number written as
/// text, get messages in a user's words.
#[test]
fn a_single_underscore_and_a_quoted_number_are_explained() {
    let text = error_of("", &[("ANOVA2MQTT_ANOVA_TOKEN", "anova-x")]);
    assert!(
        text.contains(
            "anova_token: unknown key; did you mean `anova.token`? In the environment that is \
             ANOVA2MQTT_ANOVA__TOKEN: two underscores between the section and the key"
        ),
        "{text}"
    );
    assert!(
        text.contains("environment variable ANOVA2MQTT_ANOVA_TOKEN"),
        "{text}"
    );
    assert!(!text.contains("anova-x"), "{text}");
    let text = error_of("", &[("ANOVA2MQTT_MQTT_BASE_TOPIC", "x")]);
    assert!(text.contains("ANOVA2MQTT_MQTT__BASE_TOPIC"), "{text}");
    // The same mistake in a file: the key under its section.
    let text = error_of("http_listen = \"0.0.0.0:1\"\n", &[]);
    assert!(text.contains("`listen` under `[http]`"), "{text}");

    let text = error_of("[limits]\ncommands_per_minute = \"30\"\n", &[]);
    assert!(
        text.contains(
            "limits.commands_per_minute: must be a whole number from 0 to 4294967295, such as \
             30 (without quotes), not text"
        ),
        "{text}"
    );
    assert!(!text.contains("u32"), "{text}");
    let text = error_of("", &[("ANOVA2MQTT_HOMEASSISTANT__ENABLED", "yes")]);
    assert!(
        text.contains("homeassistant.enabled: must be true or false"),
        "{text}"
    );
}

#[test]
fn bad_discovery_mode_is_named() {
    let text = error_of("[homeassistant]\ndiscovery_mode = \"devices\"\n", &[]);
    assert!(text.contains("homeassistant.discovery_mode: "), "{text}");
    assert!(text.contains("entity"), "{text}");
}

#[test]
fn bad_log_format_and_level_are_named() {
    let text = error_of("[log]\nformat = \"syslog\"\n", &[]);
    assert!(text.contains("log.format"), "{text}");
    let text = error_of("[log]\nlevel = \"info,=[\"\n", &[]);
    assert!(text.contains("log.level"), "{text}");
}

#[test]
fn negative_and_zero_durations_are_named() {
    let text = error_of("[anova]\ncommand_timeout = \"-5s\"\n", &[]);
    assert!(text.contains("anova.command_timeout"), "{text}");
    assert!(text.contains("\"30s\""), "{text}");

    let text = error_of("", &[("ANOVA2MQTT_ANOVA__STALE_AFTER", "0s")]);
    assert!(
        text.contains("anova.stale_after: must be longer than zero"),
        "{text}"
    );
    assert!(text.contains("ANOVA2MQTT_ANOVA__STALE_AFTER"), "{text}");

    let text = error_of("", &[("ANOVA2MQTT_MQTT__KEEPALIVE", "30")]);
    assert!(text.contains("mqtt.keepalive"), "{text}");
    assert!(text.contains("needs a unit"), "{text}");

    let text = error_of("[mqtt]\nkeepalive = \"500ms\"\n", &[]);
    assert!(text.contains("mqtt.keepalive"), "{text}");
}

#[test]
fn huge_durations_name_the_key_and_the_maximum() {
    let text = error_of(
        "[anova]\nstale_after = \"1000000000000h\"\nwatchdog = \"2h\"\n",
        &[("ANOVA2MQTT_ANOVA__COMMAND_TIMEOUT", "1h")],
    );
    assert!(
        text.contains("anova.stale_after: must be at most 24h"),
        "{text}"
    );
    assert!(
        text.contains("anova.watchdog: must be at most 1h"),
        "{text}"
    );
    assert!(
        text.contains("anova.command_timeout: must be at most 5m"),
        "{text}"
    );
    assert!(text.contains("ANOVA2MQTT_ANOVA__COMMAND_TIMEOUT"), "{text}");
}

#[test]
fn an_unknown_log_level_is_named_with_the_valid_ones() {
    for (level, hint) in [("inf", "did you mean `info`?"), ("verbose", "valid levels")] {
        let text = error_of(&format!("[log]\nlevel = \"{level}\"\n"), &[]);
        assert!(text.contains("log.level"), "{text}");
        assert!(text.contains(hint), "{text}");
        assert!(
            text.contains("error, warn, info, debug, trace, off"),
            "{text}"
        );
    }
    for filter in [
        "info,rumqttc=warn",
        "anova2mqtt=debug",
        "info, anova2mqtt::bridge=debug",
    ] {
        let loaded = load(&format!("[log]\nlevel = \"{filter}\"\n"), &[]).unwrap();
        assert_eq!(loaded.config.log.level, filter);
    }
}

#[test]
fn bad_url_schemes_are_named() {
    let text = error_of("[anova]\nurl = \"https://devices.anovaculinary.io\"\n", &[]);
    assert!(text.contains("anova.url"), "{text}");
    assert!(text.contains("wss://"), "{text}");

    let text = error_of("[mqtt]\nurl = \"tcp://broker:1883\"\n", &[]);
    assert!(text.contains("mqtt.url"), "{text}");
    assert!(text.contains("mqtt://"), "{text}");

    let text = error_of("", &[("ANOVA2MQTT_MQTT__URL", "broker.lan")]);
    assert!(text.contains("mqtt.url"), "{text}");

    let text = error_of(
        "[anova]\nurl = \"wss://user:s3cret-pw@devices.anovaculinary.io\"\n",
        &[],
    );
    assert!(text.contains("anova.url"), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
}

#[test]
fn ws_is_only_for_this_machine() {
    for url in [
        "ws://devices.anovaculinary.io",
        "ws://192.168.1.5:8080",
        "ws://[fe80::1]:80",
    ] {
        let text = error_of(&with_token(&format!("url = \"{url}\"\n")), &[]);
        assert!(text.contains("anova.url"), "{text}");
        assert!(
            text.contains("unencrypted") && text.contains("wss://"),
            "{text}"
        );
    }
    for url in [
        "ws://127.0.0.1:8080",
        "ws://localhost:8080",
        "ws://[::1]:8080",
    ] {
        assert!(
            load(&with_token(&format!("url = \"{url}\"\n")), &[]).is_ok(),
            "{url}"
        );
    }
}

#[test]
fn a_toml_syntax_error_never_shows_a_secret_on_the_quoted_line() {
    for broken in [
        format!("[anova]\ntoken = \"{TOKEN}\n"),
        format!("[anova]\ntoken = {TOKEN}\n"),
        format!("anova = {{ token = \"{TOKEN}\", url = 5\n"),
        format!("[anova]\ntoken = \"\"\"\n{TOKEN}\n"),
    ] {
        let text = error_of(&broken, &[]);
        assert!(text.contains("TOML parse error"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
    let text = error_of("[mqtt]\npassword = s3cret-pw-\"x\n", &[]);
    assert!(!text.contains("s3cret-pw"), "{text}");
    // Other lines are shown as they are.
    let text = error_of("[mqtt]\nbase_topic = \"home\n", &[]);
    assert!(text.contains("base_topic = \"home"), "{text}");
}

#[test]
fn a_broker_password_without_tls_to_another_machine_is_a_warning() {
    let config = |url: &str| {
        with_token(&format!(
            "[mqtt]\nurl = \"{url}\"\nusername = \"u\"\npassword = \"pw-123\"\n"
        ))
    };
    let loaded = load(&config("mqtt://broker.lan:1883"), &[]).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].starts_with("mqtt.password:"),
        "{:?}",
        loaded.warnings
    );
    assert!(loaded.warnings[0].contains("mqtts://"));
    assert!(!loaded.warnings[0].contains("pw-123"));
    let rendered = render_effective(&loaded);
    assert!(rendered.contains("# warning: mqtt.password:"), "{rendered}");
    for quiet in [
        "mqtts://broker.lan",
        "mqtt://127.0.0.1:1883",
        "mqtt://localhost",
    ] {
        assert!(
            load(&config(quiet), &[]).unwrap().warnings.is_empty(),
            "{quiet}"
        );
    }
}

#[test]
fn a_secret_file_everyone_can_read_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new();
    std::fs::set_permissions(scratch.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let token = scratch.write("token", &format!("{TOKEN}\n"));
    let config = scratch.write(
        "config.toml",
        &format!("[anova]\ntoken_file = \"{}\"\n", token.display()),
    );
    let load = || load_from(Some(&config), &[], env(&[])).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warnings = load().warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("anova.token_file:") && warnings[0].contains("chmod 600"),
        "{warnings:?}"
    );
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(load().warnings.is_empty());
}

#[test]
fn all_problems_are_reported_together() {
    let err = load(
        r#"[anova]
url = "http://x"
[mqtt]
url = "ftp://x"
base_topic = "a/#"
[homeassistant]
discovery_prefix = "/homeassistant"
status_topic = ""
[limits]
commands_per_minute = 0
[safety]
max_temperature_c = 120
"#,
        &[],
    )
    .unwrap_err();
    let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "anova.url",
            "mqtt.url",
            "mqtt.base_topic",
            "homeassistant.discovery_prefix",
            "homeassistant.status_topic",
            "limits.commands_per_minute",
            "safety.max_temperature_c",
        ]
    );
}

/// A cooker ceiling cannot be raised to oven temperatures; the error points to the oven's own
/// key, which has the ovens' range (issue 27 item 3).
#[test]
fn the_safety_ceilings_are_per_family_with_their_own_ranges() {
    let text = error_of("[safety]\nmax_temperature_c = 250\n", &[]);
    assert!(text.contains("safety.max_temperature_c"), "{text}");
    assert!(
        text.contains("ovens have safety.oven_max_temperature_c"),
        "{text}"
    );
    for bad in ["20", "260"] {
        let text = error_of(&format!("[safety]\noven_max_temperature_c = {bad}\n"), &[]);
        assert!(
            text.contains("safety.oven_max_temperature_c") && text.contains("25 to 250 °C"),
            "{text}"
        );
    }
    let loaded = load(
        "[safety]\nmax_temperature_c = 85\n",
        &[("ANOVA2MQTT_SAFETY__OVEN_MAX_TEMPERATURE_C", "220")],
    )
    .unwrap();
    assert_eq!(loaded.config.safety.max_temperature_c, Some(85.0));
    assert_eq!(loaded.config.safety.oven_max_temperature_c, Some(220.0));
}

#[test]
fn a_missing_token_is_reported_for_run() {
    let text = run_error_of("", &[]);
    assert!(text.contains("anova.token"), "{text}");
    assert!(text.contains("Personal Access Token"), "{text}");
    // Other commands may run without one.
    load("", &[]).unwrap().config.validate().unwrap();

    // An empty variable (an unset shell variable in a compose file) is no token either.
    let text = run_error_of("", &[("ANOVA2MQTT_ANOVA__TOKEN", "")]);
    assert!(text.contains("anova.token"), "{text}");
}

#[test]
fn a_token_that_is_not_a_personal_access_token_is_named() {
    let text = error_of(
        "",
        &[("ANOVA2MQTT_ANOVA__TOKEN", "eyJhbGciOiJSUzI1NiJ9.firebase")],
    );
    assert!(text.contains("anova.token"), "{text}");
    assert!(text.contains("Personal Access Token"), "{text}");
    assert!(text.contains("anova-"), "{text}");
    assert!(text.contains("ANOVA2MQTT_ANOVA__TOKEN"), "{text}");
    assert!(!text.contains("firebase"), "{text}");
}

#[test]
fn token_and_token_file_in_one_source_are_an_error_naming_both_and_the_source() {
    let scratch = Scratch::new();
    let token_file = scratch.write("token", &format!("{TOKEN}\n"));
    let config = scratch.write(
        "config.toml",
        &with_token(&format!("token_file = {token_file:?}\n")),
    );
    let text = load_from(Some(&config), &[], env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("anova.token and anova.token_file are both set in the same place"),
        "{text}"
    );
    assert!(
        text.contains(&format!("file {}", config.display())),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");

    let text = error_of(
        "",
        &[
            ("ANOVA2MQTT_ANOVA__TOKEN", TOKEN),
            ("ANOVA2MQTT_ANOVA__TOKEN_FILE", token_file.to_str().unwrap()),
        ],
    );
    assert!(text.contains("anova.token and anova.token_file"), "{text}");
    assert!(text.contains("ANOVA2MQTT_ANOVA__TOKEN "), "{text}");
    assert!(text.contains("ANOVA2MQTT_ANOVA__TOKEN_FILE"), "{text}");
}

/// The Docker Compose file sets `ANOVA2MQTT_ANOVA__TOKEN_FILE`; a user who also follows the
/// example config and writes `token = …` into the file must not get exit 78. The closest
/// source (the environment) wins, either way round, for the token and the broker password.
#[test]
fn the_environment_wins_over_the_file_per_secret() {
    let scratch = Scratch::new();
    let token_file = scratch.write("anova_token", &format!("{TOKEN}\n"));
    let file_token = "anova-from-the-config-file";
    let loaded = load(
        &format!("[anova]\ntoken = \"{file_token}\"\n"),
        &[("ANOVA2MQTT_ANOVA__TOKEN_FILE", token_file.to_str().unwrap())],
    )
    .unwrap();
    assert_eq!(loaded.config.anova.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(
        loaded.secrets.anova_token,
        SecretOrigin::File(token_file.clone())
    );
    assert_eq!(loaded.config.anova.token_file.as_ref(), Some(&token_file));
    assert!(
        loaded.notes.iter().any(|n| n.starts_with("anova.token from file")
            && n.contains("anova.token_file from environment variable ANOVA2MQTT_ANOVA__TOKEN_FILE is closer and wins")),
        "{:?}",
        loaded.notes
    );
    // check-config shows only the winner, so its output stays a loadable file.
    let shown = render_effective(&loaded);
    assert!(!shown.contains(file_token), "{shown}");
    assert!(!shown.contains("\ntoken ="), "{shown}");
    assert!(shown.contains("# note: anova.token from file"), "{shown}");

    // The reverse: token_file in the file, the token itself in the environment.
    let missing = scratch.path("no-such-file");
    let loaded = load(
        &format!("[anova]\ntoken_file = {missing:?}\n"),
        &[("ANOVA2MQTT_ANOVA__TOKEN", TOKEN)],
    )
    .unwrap();
    assert_eq!(loaded.config.anova.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(loaded.config.anova.token_file, None);
    assert_eq!(
        loaded.secrets.anova_token,
        SecretOrigin::Value("environment variable ANOVA2MQTT_ANOVA__TOKEN".into())
    );

    // The same rule for the broker password.
    let password_file = scratch.write("mqtt_password", "from-secret-file\n");
    let loaded = load(
        "[mqtt]\nusername = \"u\"\npassword = \"from-config\"\n",
        &[(
            "ANOVA2MQTT_MQTT__PASSWORD_FILE",
            password_file.to_str().unwrap(),
        )],
    )
    .unwrap();
    assert_eq!(
        loaded.config.mqtt.password.as_ref().unwrap().expose(),
        "from-secret-file"
    );
    let loaded = load(
        &format!("[mqtt]\nusername = \"u\"\npassword_file = {password_file:?}\n"),
        &[("ANOVA2MQTT_MQTT__PASSWORD", "from-env")],
    )
    .unwrap();
    assert_eq!(
        loaded.config.mqtt.password.as_ref().unwrap().expose(),
        "from-env"
    );
}

#[test]
fn a_token_with_whitespace_around_it_is_trimmed_inside_it_is_named() {
    let loaded = load(&format!("[anova]\ntoken = \"  {TOKEN} \\n\"\n"), &[]).unwrap();
    assert_eq!(loaded.config.anova.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(
        loaded.notes,
        ["anova.token: removed the whitespace around it"]
    );
    loaded.config.validate_for_run().unwrap();

    let scratch = Scratch::new();
    let file = scratch.write("token", &format!("{TOKEN}  \n"));
    let loaded = load(&format!("[anova]\ntoken_file = {file:?}\n"), &[]).unwrap();
    assert_eq!(loaded.config.anova.token.as_ref().unwrap().expose(), TOKEN);

    let text = error_of("", &[("ANOVA2MQTT_ANOVA__TOKEN", "anova-abc def")]);
    assert!(text.contains("anova.token: contains whitespace"), "{text}");
    assert!(text.contains("ANOVA2MQTT_ANOVA__TOKEN"), "{text}");
    assert!(!text.contains("abc"), "{text}");
}

#[test]
fn credentials_in_the_broker_url_are_accepted_as_secrets() {
    let loaded = load(
        "[mqtt]\nurl = \"mqtt://bridge:s3cret%40pw@broker.lan:1884\"\n",
        &[],
    )
    .unwrap();
    let mqtt = &loaded.config.mqtt;
    assert_eq!(mqtt.url, "mqtt://broker.lan:1884");
    assert_eq!(mqtt.username.as_deref(), Some("bridge"));
    assert_eq!(mqtt.password.as_ref().unwrap().expose(), "s3cret@pw");
    assert!(
        matches!(&loaded.secrets.mqtt_password, SecretOrigin::Value(o) if o.starts_with("mqtt.url (file ")),
        "{:?}",
        loaded.secrets.mqtt_password
    );
    let shown = render_effective(&loaded);
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(
        shown.contains("url = \"mqtt://broker.lan:1884\""),
        "{shown}"
    );
    assert!(shown.contains("password = \"[redacted]\""), "{shown}");

    // A password in the URL and mqtt.password in one source: an error naming both.
    let text = error_of(
        "[mqtt]\nurl = \"mqtt://u:s3cret@b\"\npassword = \"other-pw\"\n",
        &[],
    );
    assert!(
        text.contains("mqtt.password and mqtt.url are both set in the same place"),
        "{text}"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("other-pw"),
        "{text}"
    );

    // In different sources the closer one wins.
    let loaded = load(
        "[mqtt]\nusername = \"file-user\"\npassword = \"file-pw\"\n",
        &[("ANOVA2MQTT_MQTT__URL", "mqtt://env-user:env-pw@b")],
    )
    .unwrap();
    let mqtt = &loaded.config.mqtt;
    assert_eq!(mqtt.username.as_deref(), Some("env-user"));
    assert_eq!(mqtt.password.as_ref().unwrap().expose(), "env-pw");

    // A bad %-escape is named without the password.
    let text = error_of("[mqtt]\nurl = \"mqtt://u:s3cret%zz@b\"\n", &[]);
    assert!(text.contains("mqtt.url"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn secrets_come_from_files() {
    let scratch = Scratch::new();
    let token_file = scratch.write("token", &format!("{TOKEN}\r\n"));
    let password_file = scratch.write("password", "pa ss\n");
    let loaded = load(
        "[mqtt]\nusername = \"bridge\"\n",
        &[
            ("ANOVA2MQTT_ANOVA__TOKEN_FILE", token_file.to_str().unwrap()),
            (
                "ANOVA2MQTT_MQTT__PASSWORD_FILE",
                password_file.to_str().unwrap(),
            ),
        ],
    )
    .unwrap();
    let c = &loaded.config;
    assert_eq!(c.anova.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(c.mqtt.password.as_ref().unwrap().expose(), "pa ss");
    assert_eq!(loaded.secrets.anova_token, SecretOrigin::File(token_file));
    assert_eq!(
        loaded.secrets.mqtt_password,
        SecretOrigin::File(password_file)
    );
    c.validate_for_run().unwrap();
}

#[test]
fn missing_or_empty_secret_files_are_named() {
    let scratch = Scratch::new();
    let missing = scratch.path("no-such-token");
    let text = error_of(&format!("[anova]\ntoken_file = {missing:?}\n"), &[]);
    assert!(text.contains("anova.token_file"), "{text}");
    assert!(text.contains("no-such-token"), "{text}");

    let empty = scratch.write("empty", "\n");
    let text = error_of(
        "[mqtt]\nusername = \"u\"\n",
        &[("ANOVA2MQTT_MQTT__PASSWORD_FILE", empty.to_str().unwrap())],
    );
    assert!(text.contains("mqtt.password_file"), "{text}");
    assert!(text.contains("empty"), "{text}");
}

#[test]
fn systemd_credentials_are_read_when_nothing_else_is_set() {
    let scratch = Scratch::new();
    let creds = scratch.path("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("anova-token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(creds.join("mqtt-password"), "1234").unwrap();
    let creds_var = ("CREDENTIALS_DIRECTORY", creds.to_str().unwrap());

    let loaded = load("[mqtt]\nusername = \"bridge\"\n", &[creds_var]).unwrap();
    assert_eq!(loaded.config.anova.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(
        loaded.config.mqtt.password.as_ref().unwrap().expose(),
        "1234"
    );
    assert_eq!(
        loaded.secrets.anova_token,
        SecretOrigin::Credential(creds.join("anova-token"))
    );

    // A value given explicitly wins over the credential.
    let loaded = load(
        "[mqtt]\nusername = \"bridge\"\npassword = \"explicit\"\n",
        &[creds_var],
    )
    .unwrap();
    assert_eq!(
        loaded.config.mqtt.password.as_ref().unwrap().expose(),
        "explicit"
    );

    // No credential file: nothing set, and no error until `run` needs the token.
    let empty_dir = scratch.path("empty-credentials");
    std::fs::create_dir(&empty_dir).unwrap();
    let loaded = load(
        "",
        &[("CREDENTIALS_DIRECTORY", empty_dir.to_str().unwrap())],
    )
    .unwrap();
    assert_eq!(loaded.config.anova.token, None);
    assert_eq!(loaded.secrets.anova_token, SecretOrigin::NotSet);
}

#[test]
fn mqtt_credentials_and_tls_files() {
    let text = error_of("[mqtt]\npassword = \"pw\"\n", &[]);
    assert!(
        text.contains("mqtt.password: a password needs mqtt.username"),
        "{text}"
    );
    // A user name alone is fine: some brokers accept any password-less user.
    load("[mqtt]\nusername = \"u\"\n", &[]).unwrap();

    let scratch = Scratch::new();
    let ca = scratch.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
    let text = error_of(&format!("[mqtt]\nca_file = {ca:?}\n"), &[]);
    assert!(text.contains("mqtt.ca_file"), "{text}");
    assert!(text.contains("mqtts://"), "{text}");
    load(
        &format!("[mqtt]\nurl = \"mqtts://b\"\nca_file = {ca:?}\n"),
        &[],
    )
    .unwrap();

    let missing = scratch.path("missing.pem");
    let text = error_of(
        &format!("[mqtt]\nurl = \"mqtts://b\"\nca_file = {missing:?}\n"),
        &[],
    );
    assert!(text.contains("mqtt.ca_file"), "{text}");
    assert!(text.contains("missing.pem"), "{text}");

    let text = error_of(
        &format!("[mqtt]\nurl = \"mqtts://b\"\nclient_cert_file = {ca:?}\n"),
        &[],
    );
    assert!(text.contains("mqtt.client_key_file: is required"), "{text}");
}

#[test]
fn render_effective_redacts_secrets_and_names_sources() {
    let scratch = Scratch::new();
    let token_file = scratch.write("token", TOKEN);
    let config = scratch.write(
        "config.toml",
        &format!("[anova]\ntoken_file = {token_file:?}\n[mqtt]\nusername = \"u\"\n"),
    );
    let loaded = load_from(
        Some(&config),
        &[],
        env(&[("ANOVA2MQTT_MQTT__PASSWORD", "hunter2-password")]),
    )
    .unwrap();
    let text = render_effective(&loaded);
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("hunter2-password"), "{text}");
    assert!(
        text.contains(&format!("# file: {}", config.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "# anova.token: read from file {}",
            token_file.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("# mqtt.password: set in environment variable ANOVA2MQTT_MQTT__PASSWORD"),
        "{text}"
    );
    // The token came from its file, so only `token_file` is shown; the password is a value.
    assert!(!text.contains("\ntoken ="), "{text}");
    assert!(text.contains("password = \"[redacted]\""), "{text}");
    assert!(
        text.contains("mqtt.ca_file"),
        "unset keys are listed: {text}"
    );
    assert!(text.contains("command_timeout = \"10s\""), "{text}");

    // A token given as a value prints as `[redacted]`.
    let inline_token = load_from(None, &[], env(&[("ANOVA2MQTT_ANOVA__TOKEN", TOKEN)])).unwrap();
    let inline = render_effective(&inline_token);
    assert!(!inline.contains(TOKEN), "{inline}");
    assert!(inline.contains("token = \"[redacted]\""), "{inline}");
    assert!(inline.contains("# file: none"), "{inline}");

    // The body is TOML with the same settings (secrets aside).
    let body: Config = toml::from_str(&text).unwrap();
    assert_eq!(
        body.anova.command_timeout,
        loaded.config.anova.command_timeout
    );
    assert_eq!(body.mqtt.username, loaded.config.mqtt.username);
}

/// Every dotted key of a serialised config, null or not.
fn keys_of(value: &serde_json::Value) -> Vec<String> {
    let mut keys = Vec::new();
    for (section, table) in value.as_object().unwrap() {
        // `[[presets]]` is a list of tables, documented on its own.
        let Some(table) = table.as_object() else {
            continue;
        };
        for key in table.keys() {
            keys.push(format!("{section}.{key}"));
        }
    }
    keys
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/anova2mqtt.example.toml")
}

#[test]
fn the_example_file_loads_and_is_valid_for_run() {
    let loaded = load_from(
        Some(&example_path()),
        &[],
        env(&[("ANOVA2MQTT_ANOVA__TOKEN", TOKEN)]),
    )
    .unwrap();
    loaded.config.validate_for_run().unwrap();
}

/// Issue 27 item 14: the example is installed 0644, so it must steer the token elsewhere, and
/// its placeholder uncommented as is must not pass for a token.
#[test]
fn the_example_file_keeps_the_token_out_of_itself() {
    let example = std::fs::read_to_string(example_path()).unwrap();
    let header: String = example
        .lines()
        .take_while(|line| line.starts_with('#') || line.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(header.contains("Keep the Anova token"), "{header}");
    assert!(
        header.contains("credential") && header.contains("token_file"),
        "{header}"
    );
    assert!(!header.contains("set your token"), "{header}");
    let uncommented = example.replace("# token = \"anova-...\"", "token = \"anova-...\"");
    assert_ne!(uncommented, example, "the placeholder line moved");
    let text = error_of(&uncommented, &[]);
    assert!(text.contains("anova.token: is the placeholder"), "{text}");
}

#[test]
fn the_example_file_documents_every_key() {
    let example = std::fs::read_to_string(example_path()).unwrap();
    // Every key appears, commented or not, under its section header.
    let default = serde_json::to_value(Config::default()).unwrap();
    for key in keys_of(&default) {
        let (section, name) = key.split_once('.').unwrap();
        let header = format!("[{section}]");
        let start = example
            .find(&header)
            .unwrap_or_else(|| panic!("section {header} missing from the example"));
        let rest = &example[start + header.len()..];
        let end = rest.find("\n[").unwrap_or(rest.len());
        let section_text = &rest[..end];
        let documented = section_text.lines().any(|line| {
            let line = line.trim_start_matches(['#', ' ']);
            line.starts_with(&format!("{name} =")) || line.starts_with(&format!("{name}="))
        });
        assert!(documented, "{key} is not documented in the example file");
    }
    assert!(
        example.contains("#[[presets]]"),
        "[[presets]] is documented"
    );
}

#[test]
fn the_example_file_uncommented_is_the_defaults() {
    // Uncommenting every `# key = default` line must give the documented defaults (secrets,
    // files and the host-specific client id aside), so the comments cannot drift from the code.
    let example = std::fs::read_to_string(example_path()).unwrap();
    let skipped = [
        "token",
        "token_file",
        "username",
        "password",
        "password_file",
        "ca_file",
        "client_cert_file",
        "client_key_file",
        "client_id",
        "max_temperature_c",
        "oven_max_temperature_c",
        "path",
        // The default is the system's zone: no value to write.
        "timezone",
    ];
    let uncommented: String = example
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.contains(" = ")
                    && !skipped.iter().any(|k| rest.starts_with(&format!("{k} ="))) =>
            {
                rest
            }
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let parsed: Config = toml::from_str(&uncommented).unwrap();
    assert_eq!(parsed, Config::default());
}

#[test]
fn client_ids_come_from_sanitised_host_names() {
    use anova2mqtt::config::client_id_for_hostname;
    assert_eq!(
        client_id_for_hostname(Some("kitchen-pi")),
        "anova2mqtt-kitchen-pi"
    );
    assert_eq!(
        client_id_for_hostname(Some("My.Host.lan\n")),
        "anova2mqtt-my-host-lan"
    );
    assert_eq!(client_id_for_hostname(Some("  ")), "anova2mqtt");
    assert_eq!(client_id_for_hostname(Some("...")), "anova2mqtt");
    assert_eq!(client_id_for_hostname(None), "anova2mqtt");
    assert!(client_id_for_hostname(Some(&"x".repeat(200))).len() <= 60);
}

#[test]
fn presets_are_read_and_checked_at_load() {
    let loaded = load(
        &with_token(
            r#"
[[presets]]
name = "salmon"
title = "Salmon fillet"
family = "sous_vide"
target_temperature = "122F"
timer = "30m"
food = "fish"

[[presets]]
name = "bread"
family = "oven"
stages = [
  { title = "Proof", target_temperature = 35, elements = ["bottom"], fan = "off", timer = "1h" },
  { title = "Bake", target_temperature = 230, steam = 30, timer = "35m" },
]
"#,
        ),
        &[],
    )
    .unwrap();
    let presets = &loaded.config.presets;
    assert_eq!(presets.len(), 2);
    assert_eq!(presets[0].name, "salmon");
    assert_eq!(presets[0].command["target_temperature"], "122F");
    assert_eq!(presets[1].command["stages"][1]["steam"], 30);
    // check-config shows them, as TOML that loads again.
    let text = render_effective(&loaded);
    assert!(text.contains("[[presets]]"), "{text}");
    let body: Config = toml::from_str(&text).unwrap();
    assert_eq!(body.presets, loaded.config.presets);

    let text = error_of(
        &with_token(
            r#"
[[presets]]
name = "lava"
family = "sous_vide"
target_temperature = 120
"#,
        ),
        &[],
    );
    assert!(
        text.contains("presets.lava: target_temperature 120 °C is above"),
        "{text}"
    );
    let text = error_of(
        &with_token("[[presets]]\nname = \"x\"\nfamily = \"grill\"\ntarget_temperature = 60\n"),
        &[],
    );
    assert!(text.contains("presets"), "{text}");
    assert!(text.contains("sous_vide"), "{text}");
}
