//! `[http]` (`docs/interface.md` §6): defaults, environment, the token's sources and redaction, the
//! rule that a public listen address needs a token, and the two commands that read the
//! section: `check-config` and `healthcheck` (run as the real binary).

mod http_support;

use anova2mqtt::config::{load_from, render_effective, ConfigError, LoadedConfig, SecretOrigin};
use http_support::{Mode, TestServer};
use std::path::Path;
use std::process::{Command, Output};

const TOKEN: &str = "http-Secret-Token-9";
const BIN: &str = env!("CARGO_BIN_EXE_anova2mqtt");

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Loads `toml` as the `--config` file with `vars` as the whole environment.
fn load(toml: &str, vars: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, toml).unwrap();
    load_from(Some(&file), &[], env(vars))
}

/// The error text of a config that must fail; it never shows the token.
fn error_of(toml: &str, vars: &[(&str, &str)]) -> String {
    let text = load(toml, vars)
        .expect_err("should be rejected")
        .to_string();
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    text
}

#[test]
fn defaults_are_on_and_loopback_only() {
    let loaded = load("", &[]).unwrap();
    let http = &loaded.config.http;
    assert!(http.enabled);
    assert_eq!(http.listen, "127.0.0.1:8770");
    assert_eq!(http.token, None);
    assert_eq!(http.token_file, None);
    assert_eq!(loaded.secrets.http_token, SecretOrigin::NotSet);
    assert_eq!(http.listen_addr().unwrap().to_string(), "127.0.0.1:8770");
}

#[test]
fn the_environment_overrides_the_file() {
    let loaded = load(
        "[http]\nlisten = \"127.0.0.1:9000\"\n",
        &[
            ("ANOVA2MQTT_HTTP__LISTEN", "0.0.0.0:8771"),
            // A number-only token arrives as an integer from figment; it is text to us.
            ("ANOVA2MQTT_HTTP__TOKEN", "12345678"),
            ("ANOVA2MQTT_HTTP__ENABLED", "false"),
        ],
    )
    .unwrap();
    let http = &loaded.config.http;
    assert_eq!(http.listen, "0.0.0.0:8771");
    assert_eq!(http.token.as_ref().unwrap().expose(), "12345678");
    assert!(!http.enabled);
    assert_eq!(
        loaded.secrets.http_token,
        SecretOrigin::Value("environment variable ANOVA2MQTT_HTTP__TOKEN".to_owned())
    );
}

#[test]
fn a_public_listen_address_needs_a_token() {
    for listen in ["0.0.0.0:8770", "[::]:8770", "192.168.1.20:8770"] {
        let text = error_of(&format!("[http]\nlisten = \"{listen}\"\n"), &[]);
        assert!(text.contains("http.token: is required"), "{text}");
        assert!(
            text.contains(listen.trim_start_matches('[').split(']').next().unwrap()),
            "{text}"
        );
    }
    let with_token = format!("[http]\nlisten = \"0.0.0.0:8770\"\ntoken = \"{TOKEN}\"\n");
    assert!(load(&with_token, &[]).is_ok());
    // A token anyone could guess is no better than none.
    let text = error_of("[http]\nlisten = \"0.0.0.0:8770\"\ntoken = \"a\"\n", &[]);
    assert!(text.contains("http.token: is too weak"), "{text}");
    assert!(load("[http]\nlisten = \"127.0.0.1:8770\"\ntoken = \"a\"\n", &[]).is_ok());
    // Not listening at all needs no token.
    assert!(load("[http]\nenabled = false\nlisten = \"0.0.0.0:8770\"\n", &[]).is_ok());
    // The environment variable names the source of the bad value.
    let text = error_of("", &[("ANOVA2MQTT_HTTP__LISTEN", "0.0.0.0:1")]);
    assert!(text.contains("http.token"), "{text}");
}

#[test]
fn bad_listen_addresses_and_keys_are_named() {
    for bad in ["localhost:8770", "8770", "127.0.0.1", "127.0.0.1:99999"] {
        let text = error_of(&format!("[http]\nlisten = \"{bad}\"\n"), &[]);
        assert!(text.contains("http.listen"), "{bad}: {text}");
        assert!(text.contains("IP:port"), "{text}");
    }
    let text = error_of("[http]\nlisen = \"127.0.0.1:1\"\n", &[]);
    assert!(
        text.contains("http.lisen") && text.contains("did you mean `listen`"),
        "{text}"
    );
    let text = error_of(&format!("[http]\ntoken = \"two {TOKEN}\"\n"), &[]);
    assert!(
        text.contains("http.token") && text.contains("whitespace"),
        "{text}"
    );
}

#[test]
fn the_token_comes_from_a_file_or_a_systemd_credential() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("http-token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let loaded = load(&format!("[http]\ntoken_file = {file:?}\n"), &[]).unwrap();
    assert_eq!(loaded.config.http.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(loaded.secrets.http_token, SecretOrigin::File(file.clone()));

    let text = error_of(
        &format!("[http]\ntoken = \"{TOKEN}\"\ntoken_file = {file:?}\n"),
        &[],
    );
    assert!(
        text.contains("http.token and http.token_file are both set in the same place"),
        "{text}"
    );

    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let text = error_of(&format!("[http]\ntoken_file = {empty:?}\n"), &[]);
    assert!(
        text.contains("http.token_file") && text.contains("is empty"),
        "{text}"
    );

    let credentials = tempfile::tempdir().unwrap();
    std::fs::write(credentials.path().join("http-token"), TOKEN).unwrap();
    let credentials_dir = credentials.path().to_str().unwrap();
    let loaded = load("", &[("CREDENTIALS_DIRECTORY", credentials_dir)]).unwrap();
    assert_eq!(loaded.config.http.token.as_ref().unwrap().expose(), TOKEN);
    assert!(matches!(
        loaded.secrets.http_token,
        SecretOrigin::Credential(_)
    ));
}

#[test]
fn check_config_output_redacts_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("http-token");
    std::fs::write(&file, TOKEN).unwrap();
    let from_file = load(&format!("[http]\ntoken_file = {file:?}\n"), &[]).unwrap();
    let text = render_effective(&from_file);
    assert!(!text.contains(TOKEN), "{text}");
    assert!(
        text.contains(&format!("# http.token: read from file {}", file.display())),
        "{text}"
    );
    assert!(
        text.contains("[http]") && text.contains("listen = \"127.0.0.1:8770\""),
        "{text}"
    );

    let inline = load(&format!("[http]\ntoken = \"{TOKEN}\"\n"), &[]).unwrap();
    let text = render_effective(&inline);
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("token = \"[redacted]\""), "{text}");
}

/// The real binary in an empty directory with a clean environment and `config` as its file.
fn anova2mqtt(dir: &Path, config: &str, args: &[&str]) -> Output {
    let file = dir.join("config.toml");
    std::fs::write(&file, config).unwrap();
    Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(dir)
        .args(args)
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap()
}

#[test]
fn check_config_refuses_a_public_listen_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = anova2mqtt(
        dir.path(),
        "[anova]\ntoken = \"anova-x\"\n[http]\nlisten = \"0.0.0.0:8770\"\n",
        &["check-config"],
    );
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("http.token: is required"), "{stderr}");

    let out = anova2mqtt(
        dir.path(),
        &format!("[anova]\ntoken = \"anova-x\"\n[http]\nlisten = \"0.0.0.0:8770\"\ntoken = \"{TOKEN}\"\n"),
        &["check-config"],
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("listen = \"0.0.0.0:8770\""), "{stdout}");
    assert!(!stdout.contains(TOKEN), "{stdout}");
}

/// `anova2mqtt healthcheck` (the Docker probe) against a server: exit 0 and the JSON when
/// healthy, 1 when not or when nothing listens.
#[tokio::test]
async fn healthcheck_asks_healthz() {
    let server = TestServer::start(http_support::quick_settings()).await;
    let config = format!("[http]\nlisten = \"{}\"\n", server.addr);
    let run = |config: String| {
        tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().unwrap();
            anova2mqtt(dir.path(), &config, &["healthcheck"])
        })
    };

    let out = run(config.clone()).await.unwrap();
    assert!(out.status.success(), "{out:?}");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["status"], "ok");

    server.set_health(|health| health.cloud = "auth_failed".to_owned());
    let out = run(config.clone()).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("503") && stderr.contains("auth_failed"),
        "{stderr}"
    );

    server.set_mode(Mode::Answer);
    drop(server);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = run(format!("[http]\nlisten = \"{closed}\"\n"))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}
