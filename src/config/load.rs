//! Finding the file and layering defaults, file and environment (`docs/interface.md` §1, §2).

use super::env::{self, EnvLayer};
use super::error::edit_distance;
use super::secrets::{self, Layer, Provenance};
use super::{url_credentials, validate, Config, ConfigError, Problem, SecretOrigin, SecretOrigins};
use figment::error::Kind;
use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use std::path::{Path, PathBuf};

/// Prefix of the environment variables that override the file: `ANOVA2MQTT_MQTT__URL`.
pub const ENV_PREFIX: &str = "ANOVA2MQTT_";

/// The variable systemd sets to the directory holding `LoadCredential=` files.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// Where the config file is looked for when `--config` is not given, in order.
pub fn default_config_paths() -> Vec<PathBuf> {
    vec![
        PathBuf::from("/etc/anova2mqtt/config.toml"),
        PathBuf::from("config/anova2mqtt.toml"),
    ]
}

/// A loaded configuration and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The configuration, secrets resolved, checked by [`Config::validate`].
    pub config: Config,
    /// The file that was read; `None` when only defaults and the environment apply.
    pub source: Option<PathBuf>,
    /// Where each secret came from.
    pub secrets: SecretOrigins,
    /// What is worth knowing but not wrong: a source that a closer one overrode, whitespace
    /// removed from a token. Never contains a secret. `check-config` prints them; `run` logs
    /// them at debug.
    pub notes: Vec<String>,
    /// What is allowed but risky (a broker password without TLS to another machine, a secret
    /// file anyone can read). Never contains a secret. `check-config` prints them; `run` logs
    /// them at WARN.
    pub warnings: Vec<String>,
}

/// Loads the configuration the way the installed daemon does: `explicit` (from `--config`)
/// or the first of [`default_config_paths`] that exists, then the process environment.
pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    load_from(explicit, &default_config_paths(), process_env())
}

/// The process environment, read without panicking on a variable that is not UTF-8.
pub fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().map(|(name, value)| {
        (
            name.to_string_lossy().into_owned(),
            value.to_string_lossy().into_owned(),
        )
    })
}

/// [`load`] with the default file candidates and the environment given, so tests never
/// depend on `/etc` or the process environment. `env` holds every variable (the
/// `ANOVA2MQTT_` ones, `CREDENTIALS_DIRECTORY` and `RUST_LOG`); others are ignored.
///
/// Errors: [`ConfigError::File`] when `explicit` cannot be read; otherwise
/// [`ConfigError::Invalid`] listing every problem found: every unknown key, every value that
/// cannot be read, and every rule broken by the rest.
pub fn load_from(
    explicit: Option<&Path>,
    default_candidates: &[PathBuf],
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<LoadedConfig, ConfigError> {
    let vars: Vec<(String, String)> = env.into_iter().collect();
    let source = find_file(explicit, default_candidates)?;

    let mut figment = Figment::new();
    if let Some(path) = &source {
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(EnvLayer::new(ENV_PREFIX, &vars));

    let (mut config, mut problems) = extract(&figment, source.as_deref())?;

    let credentials_dir = vars
        .iter()
        .find(|(name, value)| name == CREDENTIALS_DIRECTORY && !value.is_empty())
        .map(|(_, value)| PathBuf::from(value));
    let provenance = |key: &str| provenance(&figment, key);
    let mut notes = Vec::new();
    let url_password =
        url_credentials::take_from_mqtt_url(&mut config, &provenance, &mut problems, &mut notes);
    let mut ctx = secrets::Context {
        provenance: &provenance,
        credentials_dir: credentials_dir.as_deref(),
        notes: &mut notes,
    };
    let mut origin_of_secret = |result: Result<SecretOrigin, Problem>| {
        result.unwrap_or_else(|problem| {
            problems.push(problem);
            SecretOrigin::NotSet
        })
    };
    let anova = &mut config.anova;
    let anova_token = origin_of_secret(secrets::resolve_secret(
        secrets::ANOVA_TOKEN,
        &mut anova.token,
        &mut anova.token_file,
        None,
        &mut ctx,
    ));
    let mqtt = &mut config.mqtt;
    let mqtt_password = origin_of_secret(secrets::resolve_secret(
        secrets::MQTT_PASSWORD,
        &mut mqtt.password,
        &mut mqtt.password_file,
        url_password,
        &mut ctx,
    ));
    let http = &mut config.http;
    let http_token = origin_of_secret(secrets::resolve_secret(
        secrets::HTTP_TOKEN,
        &mut http.token,
        &mut http.token_file,
        None,
        &mut ctx,
    ));
    let secrets = SecretOrigins {
        anova_token,
        mqtt_password,
        http_token,
    };
    problems.extend(validate::problems(&config));
    problems.extend(rust_log_problem(&vars));
    let problems = problems
        .into_iter()
        .map(|problem| {
            let origin = match problem.key.as_str() {
                "anova.token" => secret_origin(&secrets.anova_token)
                    .or_else(|| origin_of(&figment, "anova.token")),
                "mqtt.password" => secret_origin(&secrets.mqtt_password)
                    .or_else(|| origin_of(&figment, "mqtt.password")),
                "http.token" => {
                    secret_origin(&secrets.http_token).or_else(|| origin_of(&figment, "http.token"))
                }
                key => origin_of(&figment, key),
            };
            match origin {
                Some(origin) if problem.origin.is_none() => problem.with_origin(origin),
                _ => problem,
            }
        })
        .collect();
    ConfigError::from_problems(problems)?;
    let warnings = super::warnings::warnings(&config, &secrets);
    Ok(LoadedConfig {
        config,
        source,
        secrets,
        notes,
        warnings,
    })
}

/// `RUST_LOG`, which wins over `log.level` when set (`telemetry::build_filter`), checked by
/// the same rule, so `check-config` refuses what `run` would refuse.
fn rust_log_problem(vars: &[(String, String)]) -> Option<Problem> {
    let (_, value) = vars
        .iter()
        .find(|(name, value)| name == "RUST_LOG" && !value.trim().is_empty())?;
    let message = validate::log_filter(value).err()?;
    Some(
        Problem::new("RUST_LOG", message)
            .with_origin("the environment; when set, it wins over log.level"),
    )
}

/// The layers as a [`Config`], with a problem for every unknown key and every value that
/// cannot be read. serde stops at the first error, so each failing key is taken out and the
/// rest read again; the keys taken out keep their defaults, and the rules that [`load_from`]
/// checks next see every other value. Only a file that is not TOML at all stops early.
fn extract(figment: &Figment, file: Option<&Path>) -> Result<(Config, Vec<Problem>), ConfigError> {
    // Only the file can fail to read (its TOML syntax); say which file, and never show a
    // secret on the line the parser quotes.
    let in_file = |mut problem: Problem| {
        if let Some(text) = file.and_then(|path| std::fs::read_to_string(path).ok()) {
            problem.message = super::redact::toml_error(&problem.message, &text);
        }
        match (file, &problem.origin) {
            (Some(path), None) => problem.with_origin(format!("file {}", path.display())),
            _ => problem,
        }
    };
    let mut data = figment
        .data()
        .map_err(|err| {
            ConfigError::Invalid(
                figment_problems(err, figment)
                    .into_iter()
                    .map(in_file)
                    .collect(),
            )
        })?
        .remove(&Profile::Default)
        .unwrap_or_default();
    let mut problems = Vec::new();
    let schema = serde_json::to_value(Config::default()).unwrap_or_default();
    remove_unknown_keys(&mut data, &schema, "", figment, &mut problems);
    // Each round removes at least one key, so this ends; the bound is a second safety net.
    for _ in 0..=count_keys(&data) {
        let err = match Figment::from(Layered(data.clone())).extract::<Config>() {
            Ok(config) => return Ok((config, problems)),
            Err(err) => err,
        };
        let mut removed = false;
        for err in err {
            removed |= remove_path(&mut data, &err.path);
            problems.extend(figment_problems(err, figment));
        }
        if !removed {
            break;
        }
    }
    Err(ConfigError::Invalid(problems))
}

/// The already-layered values, as a provider to extract from again.
struct Layered(Dict);

impl Provider for Layered {
    fn metadata(&self) -> Metadata {
        Metadata::named("the configuration")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

/// Takes every key that `schema` (the serialised defaults) does not have out of `data`, with a
/// problem for each, so that all of them are reported at once. This relies on every setting
/// being serialised, `None` included (as `null`): a field with `skip_serializing_if` would be
/// reported as unknown. Fields with `#[serde(skip)]` are unknown to the file, as they should be.
fn remove_unknown_keys(
    data: &mut Dict,
    schema: &serde_json::Value,
    prefix: &str,
    figment: &Figment,
    problems: &mut Vec<Problem>,
) {
    let Some(known) = schema.as_object() else {
        return;
    };
    let expected: Vec<&str> = known.keys().map(String::as_str).collect();
    data.retain(|key, value| {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let Some(schema) = known.get(key) else {
            let message = match (prefix.is_empty(), section_and_key(key, known)) {
                (true, Some(meant)) => misplaced_key_message(&meant),
                _ => unknown_key_message(key, &expected),
            };
            let problem = Problem::new(&path, message);
            problems.push(match origin_of(figment, &path) {
                Some(origin) => problem.with_origin(origin),
                None => problem,
            });
            return false;
        };
        if let Value::Dict(_, inner) = value {
            remove_unknown_keys(inner, schema, &path, figment, problems);
        }
        true
    });
}

/// Removes the value at `path`; false when there is none (nothing left to take out).
fn remove_path(data: &mut Dict, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => data.remove(last).is_some(),
        [first, rest @ ..] => match data.get_mut(first) {
            Some(Value::Dict(_, inner)) => remove_path(inner, rest),
            // A key below a value that is not a table: take out the value itself.
            Some(_) => data.remove(first).is_some(),
            None => false,
        },
    }
}

/// How many keys `data` holds, tables and their keys alike.
fn count_keys(data: &Dict) -> usize {
    data.values()
        .map(|value| match value {
            Value::Dict(_, inner) => 1 + count_keys(inner),
            _ => 1,
        })
        .sum()
}

/// The file to read: `explicit` must be readable; a missing default is fine.
fn find_file(
    explicit: Option<&Path>,
    default_candidates: &[PathBuf],
) -> Result<Option<PathBuf>, ConfigError> {
    let readable = |path: &Path| -> Result<PathBuf, ConfigError> {
        let file_error = |source| ConfigError::File {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::File::open(path)
            .and_then(|file| file.metadata())
            .map_err(file_error)?;
        if meta.is_dir() {
            return Err(file_error(std::io::Error::other(
                "is a directory, not a file",
            )));
        }
        Ok(path.to_owned())
    };
    if let Some(path) = explicit {
        return readable(path).map(Some);
    }
    for path in default_candidates {
        let exists = path.try_exists().map_err(|source| ConfigError::File {
            path: path.clone(),
            source,
        })?;
        if exists {
            return readable(path).map(Some);
        }
    }
    Ok(None)
}

/// Describes the layer that set `key`, or the closest enclosing key for an element of a list
/// (`anova.accessories.0`): `file /etc/…` or `environment variable ANOVA2MQTT_…`.
fn origin_of(figment: &Figment, key: &str) -> Option<String> {
    let mut key = key;
    loop {
        if let Some(found) = provenance(figment, key) {
            return Some(found.described);
        }
        key = &key[..key.rfind('.')?];
    }
}

/// The layer that set `key` and its description; `None` when only the default applies.
fn provenance(figment: &Figment, key: &str) -> Option<Provenance> {
    let metadata = figment.find_metadata(key)?;
    if metadata.name == env::METADATA_NAME {
        return Some(Provenance {
            layer: Layer::Environment,
            described: format!("environment variable {}", env::var_name(ENV_PREFIX, key)),
        });
    }
    let described = match &metadata.source {
        Some(Source::File(path)) => format!("file {}", path.display()),
        _ => metadata.name.to_string(),
    };
    Some(Provenance {
        layer: Layer::File,
        described,
    })
}

/// Where a secret-related problem comes from, if a source was given at all.
fn secret_origin(origin: &SecretOrigin) -> Option<String> {
    match origin {
        SecretOrigin::NotSet => None,
        SecretOrigin::Value(described) => Some(described.clone()),
        SecretOrigin::File(path) => Some(format!("file {}", path.display())),
        SecretOrigin::Credential(path) => Some(format!("systemd credential {}", path.display())),
    }
}

/// Turns figment's errors into problems that name the key and the file or variable.
fn figment_problems(err: figment::Error, figment: &Figment) -> Vec<Problem> {
    err.into_iter()
        .map(|err| {
            let mut key = err.path.join(".");
            let message = match &err.kind {
                Kind::UnknownField(field, expected) => {
                    // figment usually puts the unknown key at the end of the path already.
                    if err.path.last() != Some(field) {
                        if !key.is_empty() {
                            key.push('.');
                        }
                        key.push_str(field);
                    }
                    unknown_key_message(field, expected)
                }
                // Only the type of a wrong value, never its text: a token put under the wrong
                // key must not end up in the error.
                Kind::InvalidType(actual, expected) => {
                    format!(
                        "must be {}, not {}",
                        describe_expected(expected),
                        describe_actual(actual)
                    )
                }
                Kind::UnknownVariant(value, expected) => format!(
                    "unknown value {value:?}; expected one of: {}",
                    expected.join(", ")
                ),
                kind => kind.to_string(),
            };
            let origin = origin_of(figment, &key).or_else(|| {
                let metadata = err.metadata.as_ref()?;
                match &metadata.source {
                    Some(Source::File(path)) => Some(format!("file {}", path.display())),
                    _ => Some(metadata.name.to_string()),
                }
            });
            let problem = Problem::new(key, message);
            match origin {
                Some(origin) => problem.with_origin(origin),
                None => problem,
            }
        })
        .collect()
}

/// A top-level key that is a section and one of its keys joined by `_`: `anova_token`, which
/// is what `ANOVA2MQTT_ANOVA_TOKEN` (one underscore too few) becomes. `anova.token` then.
fn section_and_key(
    key: &str,
    sections: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    key.match_indices('_').find_map(|(at, _)| {
        let (section, rest) = (&key[..at], &key[at + 1..]);
        let keys = sections.get(section)?.as_object()?;
        keys.contains_key(rest).then(|| format!("{section}.{rest}"))
    })
}

/// What to write instead of a section and key run together.
fn misplaced_key_message(meant: &str) -> String {
    format!(
        "unknown key; did you mean `{meant}`? In the environment that is {}: two underscores \
         between the section and the key. In the file, `{}` under `[{}]`",
        super::env::var_name(ENV_PREFIX, meant),
        meant.split_once('.').map_or(meant, |(_, key)| key),
        meant.split_once('.').map_or("", |(section, _)| section),
    )
}

/// "unknown key; did you mean `token`?" with the known keys listed.
fn unknown_key_message(field: &str, expected: &[&str]) -> String {
    let closest = expected
        .iter()
        .map(|candidate| (edit_distance(field, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min();
    let known = expected.join(", ");
    match closest {
        Some((_, candidate)) => {
            format!("unknown key; did you mean `{candidate}`? (known: {known})")
        }
        None if expected.is_empty() => "unknown key".to_owned(),
        None => format!("unknown key (known: {known})"),
    }
}

/// A wrong value in a user's words, never its text: "text", "a number (2.5)", "a list".
fn describe_actual(actual: &figment::error::Actual) -> String {
    use figment::error::Actual;
    match actual {
        Actual::Str(_) | Actual::Char(_) => "text".to_owned(),
        Actual::Bool(b) => format!("{b}"),
        Actual::Unsigned(n) => format!("the number {n}"),
        Actual::Signed(n) => format!("the number {n}"),
        Actual::Float(n) => format!("the number {n}"),
        Actual::Seq => "a list".to_owned(),
        Actual::Map => "a table".to_owned(),
        Actual::Unit | Actual::Option => "empty".to_owned(),
        other => other.to_string(),
    }
}

/// What serde expected, in a user's words rather than Rust's (`u32` → "a whole number").
fn describe_expected(expected: &str) -> String {
    let range = |max: u64| format!("a whole number from 0 to {max}, such as 30 (without quotes)");
    match expected {
        "u8" => range(u8::MAX.into()),
        "u16" => range(u16::MAX.into()),
        "u32" => range(u32::MAX.into()),
        "u64" | "usize" => range(u64::MAX),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number (without quotes)".to_owned(),
        "f32" | "f64" => "a number such as 85 or 85.5 (without quotes)".to_owned(),
        "a boolean" => "true or false (without quotes)".to_owned(),
        "a string" => "text (in quotes in the file)".to_owned(),
        "a sequence" => "a list, such as [\"APC\", \"APO\"]".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert!(unknown_key_message("tokne", &["token", "url"]).contains("did you mean `token`"));
        assert!(!unknown_key_message("zzzzzz", &["token", "url"]).contains("did you mean"));
    }
}
