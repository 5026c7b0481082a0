//! Secrets given by reference: `token_file`, `password_file`, and systemd credentials
//! (`LoadCredential=anova-token:…` puts the file in `$CREDENTIALS_DIRECTORY`).
//!
//! Reading them during [`super::load`] means the rest of the program only ever sees the
//! resolved [`Secret`], and `check-config` can say where each one came from.

use super::{Config, Problem};
use crate::secret::Secret;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The systemd credential name read for the Anova token when no other source is set.
pub const ANOVA_TOKEN_CREDENTIAL: &str = "anova-token";
/// The systemd credential name read for the MQTT password when no other source is set.
pub const MQTT_PASSWORD_CREDENTIAL: &str = "mqtt-password";

/// Where a secret came from, for `check-config`. Never holds the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SecretOrigin {
    /// No source gave it.
    #[default]
    NotSet,
    /// The value itself, in the config file or an environment variable (described).
    Value(String),
    /// Read from the `*_file` path.
    File(PathBuf),
    /// Read from a systemd credential.
    Credential(PathBuf),
}

impl fmt::Display for SecretOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSet => f.write_str("not set"),
            Self::Value(origin) => write!(f, "set in {origin}"),
            Self::File(path) => write!(f, "read from file {}", path.display()),
            Self::Credential(path) => write!(f, "read from systemd credential {}", path.display()),
        }
    }
}

/// Where each secret came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretOrigins {
    /// `anova.token`.
    pub anova_token: SecretOrigin,
    /// `mqtt.password`.
    pub mqtt_password: SecretOrigin,
    /// `http.token`.
    pub http_token: SecretOrigin,
}

/// The keys and credential name of one secret.
struct SecretKeys {
    /// `anova.token`.
    value: &'static str,
    /// `anova.token_file`.
    file: &'static str,
    /// `anova-token`.
    credential: &'static str,
}

/// Resolves every secret in place. `value_origin` describes where a directly given value came
/// from (a file or an environment variable). Problems are appended, not returned early, so the
/// user sees everything at once.
pub(super) fn resolve(
    config: &mut Config,
    credentials_dir: Option<&Path>,
    value_origin: impl Fn(&str) -> String,
    problems: &mut Vec<Problem>,
) -> SecretOrigins {
    let anova_token = resolve_one(
        &mut config.anova.token,
        config.anova.token_file.as_deref(),
        &SecretKeys {
            value: "anova.token",
            file: "anova.token_file",
            credential: ANOVA_TOKEN_CREDENTIAL,
        },
        credentials_dir,
        &value_origin,
    );
    let mqtt_password = resolve_one(
        &mut config.mqtt.password,
        config.mqtt.password_file.as_deref(),
        &SecretKeys {
            value: "mqtt.password",
            file: "mqtt.password_file",
            credential: MQTT_PASSWORD_CREDENTIAL,
        },
        credentials_dir,
        &value_origin,
    );
    let http_token = resolve_one(
        &mut config.http.token,
        config.http.token_file.as_deref(),
        &SecretKeys {
            value: "http.token",
            file: "http.token_file",
            credential: super::HTTP_TOKEN_CREDENTIAL,
        },
        credentials_dir,
        &value_origin,
    );
    let mut origin_of = |result: Result<SecretOrigin, Problem>| match result {
        Ok(origin) => origin,
        Err(problem) => {
            problems.push(problem);
            SecretOrigin::NotSet
        }
    };
    SecretOrigins {
        anova_token: origin_of(anova_token),
        mqtt_password: origin_of(mqtt_password),
        http_token: origin_of(http_token),
    }
}

/// Resolves one secret: the value, else its file, else its systemd credential.
fn resolve_one(
    value: &mut Option<Secret>,
    file: Option<&Path>,
    keys: &SecretKeys,
    credentials_dir: Option<&Path>,
    value_origin: &impl Fn(&str) -> String,
) -> Result<SecretOrigin, Problem> {
    // An empty value (`ANOVA2MQTT_ANOVA__TOKEN=` from an unset shell variable) is no value.
    if value.as_ref().is_some_and(Secret::is_empty) {
        *value = None;
    }
    match (value.is_some(), file) {
        (true, Some(_)) => Err(Problem::new(
            keys.file,
            format!("give either {} or {}, not both", keys.value, keys.file),
        )),
        (true, None) => Ok(SecretOrigin::Value(value_origin(keys.value))),
        (false, Some(path)) => {
            let text =
                read_secret_file(path).map_err(|message| Problem::new(keys.file, message))?;
            *value = Some(text);
            Ok(SecretOrigin::File(path.to_owned()))
        }
        (false, None) => {
            let Some(dir) = credentials_dir else {
                return Ok(SecretOrigin::NotSet);
            };
            let path = dir.join(keys.credential);
            match path.try_exists() {
                Ok(false) => Ok(SecretOrigin::NotSet),
                Ok(true) => {
                    let text = read_secret_file(&path).map_err(|message| {
                        Problem::new(keys.value, format!("systemd credential: {message}"))
                    })?;
                    *value = Some(text);
                    Ok(SecretOrigin::Credential(path))
                }
                Err(err) => Err(Problem::new(
                    keys.value,
                    format!(
                        "cannot check for systemd credential {}: {err}",
                        path.display()
                    ),
                )),
            }
        }
    }
}

/// Reads a secret file, dropping the line ending editors and `echo` add.
fn read_secret_file(path: &Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path).map_err(|err| describe_read_error(path, &err))?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.is_empty() {
        return Err(format!("file {} is empty", path.display()));
    }
    Ok(Secret::new(text))
}

/// "cannot read /x: No such file or directory (os error 2)", without the file's content.
fn describe_read_error(path: &Path, err: &io::Error) -> String {
    format!("cannot read {}: {err}", path.display())
}
