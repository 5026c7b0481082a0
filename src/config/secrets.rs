//! Secrets given by value or by reference: `token` / `token_file`, `password` / `password_file`,
//! a password in `mqtt.url`, and systemd credentials (`LoadCredential=anova-token:…` puts the
//! file in `$CREDENTIALS_DIRECTORY`).
//!
//! One rule for every secret: **the closest source wins**. An environment variable is closer
//! than the config file, so `ANOVA2MQTT_ANOVA__TOKEN_FILE` (Docker Compose) beats a `token` in
//! the file, just as `ANOVA2MQTT_ANOVA__TOKEN` beats a `token_file` there. Two ways of giving
//! the same secret in the *same* source are a mistake we cannot settle, so they are an error
//! naming both keys and the source. The systemd credential is read only when nothing else
//! gives the secret.
//!
//! Reading them during [`super::load`] means the rest of the program only ever sees the
//! resolved [`Secret`], and `check-config` can say where each one came from.

use super::Problem;
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

/// How close to the user a setting is; a closer one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Layer {
    /// The config file.
    File,
    /// An `ANOVA2MQTT_*` environment variable.
    Environment,
}

/// Where a key was set: its layer and a description for messages (`file /etc/…`,
/// `environment variable ANOVA2MQTT_…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Provenance {
    /// The layer.
    pub(super) layer: Layer,
    /// For messages.
    pub(super) described: String,
}

/// The keys and credential name of one secret.
#[derive(Debug, Clone, Copy)]
pub(super) struct SecretSpec {
    /// `anova.token`.
    pub(super) value_key: &'static str,
    /// `anova.token_file`.
    pub(super) file_key: &'static str,
    /// The systemd credential read when nothing else gives the secret (`anova-token`).
    pub(super) credential: Option<&'static str>,
    /// Remove surrounding whitespace: right for tokens (they never contain any, and a stray
    /// space or newline is the commonest paste mistake), wrong for passwords, which may.
    pub(super) trim_whitespace: bool,
}

/// The Anova token.
pub(super) const ANOVA_TOKEN: SecretSpec = SecretSpec {
    value_key: "anova.token",
    file_key: "anova.token_file",
    credential: Some(ANOVA_TOKEN_CREDENTIAL),
    trim_whitespace: true,
};

/// The local HTTP API's bearer token.
pub(super) const HTTP_TOKEN: SecretSpec = SecretSpec {
    value_key: "http.token",
    file_key: "http.token_file",
    credential: Some(super::HTTP_TOKEN_CREDENTIAL),
    trim_whitespace: true,
};

/// The broker password.
pub(super) const MQTT_PASSWORD: SecretSpec = SecretSpec {
    value_key: "mqtt.password",
    file_key: "mqtt.password_file",
    credential: Some(MQTT_PASSWORD_CREDENTIAL),
    trim_whitespace: false,
};

/// The secret as given by one source.
#[derive(Debug, Clone)]
pub(super) enum Given {
    /// The text itself.
    Value(Secret),
    /// A file that holds it.
    File(PathBuf),
}

/// One source that gives a secret.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// The key that gave it (`anova.token_file`, or `mqtt.url` for a password in the URL).
    pub(super) key: String,
    /// Where that key was set.
    pub(super) provenance: Provenance,
    /// What it gave.
    pub(super) given: Given,
}

/// What resolving one secret needs besides the secret's own fields.
pub(super) struct Context<'a> {
    /// Where a key was set; `None` when only the default applies.
    pub(super) provenance: &'a dyn Fn(&str) -> Option<Provenance>,
    /// `$CREDENTIALS_DIRECTORY`, when systemd set it.
    pub(super) credentials_dir: Option<&'a Path>,
    /// Things worth telling the user that are not errors (an overridden source, trimmed
    /// whitespace); `check-config` prints them and `run` logs them at debug.
    pub(super) notes: &'a mut Vec<String>,
}

/// Resolves one secret in place: afterwards `value` holds the secret from the closest source
/// (or `None`), and `file` is cleared unless the secret was read from it, so that the effective
/// configuration names exactly one source. `extra` is a further source, such as the password
/// in `mqtt.url`.
pub(super) fn resolve_secret(
    spec: SecretSpec,
    value: &mut Option<Secret>,
    file: &mut Option<PathBuf>,
    extra: Option<Candidate>,
    ctx: &mut Context<'_>,
) -> Result<SecretOrigin, Problem> {
    let candidates = candidates(spec, value.take(), file.take(), extra, ctx);
    let Some(closest) = candidates.iter().map(|c| c.provenance.layer).max() else {
        return credential(spec, value, ctx);
    };
    let (mut winners, losers): (Vec<Candidate>, Vec<Candidate>) = candidates
        .into_iter()
        .partition(|c| c.provenance.layer == closest);
    if winners.len() > 1 {
        return Err(same_source_conflict(spec, &winners));
    }
    let Some(winner) = winners.pop() else {
        return credential(spec, value, ctx);
    };
    for loser in &losers {
        ctx.notes.push(format!(
            "{} from {} is ignored: {} from {} is closer and wins",
            loser.key, loser.provenance.described, winner.key, winner.provenance.described
        ));
    }
    let (secret, origin) = match winner.given {
        // A password in `mqtt.url` says so: "set in mqtt.url (file /etc/…)".
        Given::Value(secret) if winner.key != spec.value_key => (
            secret,
            SecretOrigin::Value(format!("{} ({})", winner.key, winner.provenance.described)),
        ),
        Given::Value(secret) => (secret, SecretOrigin::Value(winner.provenance.described)),
        Given::File(path) => {
            let secret =
                read_secret_file(&path).map_err(|message| Problem::new(&winner.key, message))?;
            *file = Some(path.clone());
            (secret, SecretOrigin::File(path))
        }
    };
    *value = Some(trimmed(spec, secret, ctx)?);
    Ok(origin)
}

/// Every source that gives the secret. Empty values and paths count as not given: that is what
/// `ANOVA2MQTT_ANOVA__TOKEN=${TOKEN}` with an unset shell variable produces.
fn candidates(
    spec: SecretSpec,
    value: Option<Secret>,
    file: Option<PathBuf>,
    extra: Option<Candidate>,
    ctx: &Context<'_>,
) -> Vec<Candidate> {
    let provenance = |key: &str| {
        (ctx.provenance)(key).unwrap_or_else(|| Provenance {
            layer: Layer::File,
            described: "the configuration".to_owned(),
        })
    };
    let mut out = Vec::new();
    if let Some(secret) = value.filter(|s| !s.is_empty()) {
        out.push(Candidate {
            key: spec.value_key.to_owned(),
            provenance: provenance(spec.value_key),
            given: Given::Value(secret),
        });
    }
    if let Some(path) = file.filter(|p| !p.as_os_str().is_empty()) {
        out.push(Candidate {
            key: spec.file_key.to_owned(),
            provenance: provenance(spec.file_key),
            given: Given::File(path),
        });
    }
    out.extend(extra);
    out
}

/// "anova.token and anova.token_file are both set in file /x; give only one".
fn same_source_conflict(spec: SecretSpec, winners: &[Candidate]) -> Problem {
    let keys: Vec<&str> = winners.iter().map(|c| c.key.as_str()).collect();
    let mut sources: Vec<&str> = winners
        .iter()
        .map(|c| c.provenance.described.as_str())
        .collect();
    sources.dedup();
    let both = if keys.len() == 2 { "both" } else { "all" };
    Problem::new(
        spec.value_key,
        format!(
            "{} are {both} set in the same place, so neither wins; give only one",
            keys.join(" and ")
        ),
    )
    .with_origin(sources.join(" and "))
}

/// The systemd credential, when nothing else gave the secret.
fn credential(
    spec: SecretSpec,
    value: &mut Option<Secret>,
    ctx: &mut Context<'_>,
) -> Result<SecretOrigin, Problem> {
    let (Some(dir), Some(name)) = (ctx.credentials_dir, spec.credential) else {
        return Ok(SecretOrigin::NotSet);
    };
    let path = dir.join(name);
    match path.try_exists() {
        Ok(false) => Ok(SecretOrigin::NotSet),
        Ok(true) => {
            let secret = read_secret_file(&path).map_err(|message| {
                Problem::new(spec.value_key, format!("systemd credential: {message}"))
            })?;
            *value = Some(trimmed(spec, secret, ctx)?);
            Ok(SecretOrigin::Credential(path))
        }
        Err(err) => Err(Problem::new(
            spec.value_key,
            format!(
                "cannot check for systemd credential {}: {err}",
                path.display()
            ),
        )),
    }
}

/// Removes surrounding whitespace where the spec allows (and says so); whitespace that is left
/// inside a token is an error that says so, rather than a confusing refusal by the cloud.
fn trimmed(spec: SecretSpec, secret: Secret, ctx: &mut Context<'_>) -> Result<Secret, Problem> {
    if !spec.trim_whitespace {
        return Ok(secret);
    }
    let text = secret.expose();
    let inner = text.trim();
    if inner.is_empty() {
        return Err(Problem::new(spec.value_key, "is only whitespace"));
    }
    if is_placeholder(inner) {
        return Err(Problem::new(
            spec.value_key,
            "is the placeholder from the README or the example config (`anova-…`, `...`), \
             not a token: put your own in its place",
        ));
    }
    if inner.contains(char::is_whitespace) {
        return Err(Problem::new(
            spec.value_key,
            "contains whitespace (a space, tab or line break) inside it; a token has none, \
             so part of it was probably lost or doubled when it was pasted",
        ));
    }
    if let Some(c) = inner.chars().find(|c| !c.is_ascii()) {
        // One character of a token is no secret, and it is not part of a real one anyway.
        return Err(Problem::new(
            spec.value_key,
            format!(
                "contains {c:?} (U+{:04X}), which no token has (they are plain ASCII): an \
                 editor or a web page may have replaced part of it when it was copied",
                u32::from(c)
            ),
        ));
    }
    if inner.len() == text.len() {
        return Ok(secret);
    }
    ctx.notes.push(format!(
        "{}: removed the whitespace around it",
        spec.value_key
    ));
    Ok(Secret::new(inner))
}

/// The placeholders of the README (`anova-…your token…`) and the example config (`anova-...`,
/// `...`): an ellipsis, in one character or three, where the token should be.
fn is_placeholder(token: &str) -> bool {
    let rest = token.strip_prefix("anova-").unwrap_or(token);
    rest.starts_with('…')
        || rest.starts_with("...")
        || rest.to_ascii_lowercase().contains("your token")
}

/// Reads a secret file, dropping the line ending editors and `echo` add.
pub(crate) fn read_secret_file(path: &Path) -> Result<Secret, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(layer: Layer) -> Provenance {
        Provenance {
            layer,
            described: match layer {
                Layer::File => "file /x.toml".to_owned(),
                Layer::Environment => "environment".to_owned(),
            },
        }
    }

    /// Resolves with `value` and `file` set in the given layers.
    fn resolve(
        value: Option<(&str, Layer)>,
        file: Option<(&Path, Layer)>,
    ) -> (Result<SecretOrigin, Problem>, Option<Secret>, Vec<String>) {
        let layers = move |key: &str| match key {
            "anova.token" => value.map(|(_, l)| at(l)),
            "anova.token_file" => file.map(|(_, l)| at(l)),
            _ => None,
        };
        let mut notes = Vec::new();
        let mut ctx = Context {
            provenance: &layers,
            credentials_dir: None,
            notes: &mut notes,
        };
        let mut secret = value.map(|(v, _)| Secret::new(v));
        let mut path = file.map(|(p, _)| p.to_owned());
        let result = resolve_secret(ANOVA_TOKEN, &mut secret, &mut path, None, &mut ctx);
        (result, secret, notes)
    }

    #[test]
    fn the_closest_source_wins_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "anova-from-file\n").unwrap();

        let (origin, secret, notes) = resolve(
            Some(("anova-from-value", Layer::File)),
            Some((&path, Layer::Environment)),
        );
        assert_eq!(origin.unwrap(), SecretOrigin::File(path.clone()));
        assert_eq!(secret.unwrap().expose(), "anova-from-file");
        assert!(notes[0].starts_with("anova.token from file /x.toml is ignored"));

        let (origin, secret, _) = resolve(
            Some(("anova-from-value", Layer::Environment)),
            Some((&path, Layer::File)),
        );
        assert_eq!(origin.unwrap(), SecretOrigin::Value("environment".into()));
        assert_eq!(secret.unwrap().expose(), "anova-from-value");
    }

    #[test]
    fn both_in_one_source_is_an_error_naming_both_and_the_source() {
        let path = Path::new("/nonexistent");
        for layer in [Layer::File, Layer::Environment] {
            let (origin, _, _) = resolve(Some(("anova-x", layer)), Some((path, layer)));
            let problem = origin.unwrap_err();
            let text = problem.to_string();
            assert!(
                text.contains("anova.token and anova.token_file are both set"),
                "{text}"
            );
            assert_eq!(problem.origin, Some(at(layer).described));
        }
    }

    /// Issue 27 item 11: the README's placeholder passed check-config.
    #[test]
    fn placeholders_and_non_ascii_tokens_are_refused_without_showing_them() {
        for (token, expected) in [
            ("anova-…your token…", "placeholder"),
            ("anova-…", "placeholder"),
            ("anova-...", "placeholder"),
            ("...", "placeholder"),
            ("anova-AbC\u{2013}dEf", "'–' (U+2013)"),
            ("anova-x\u{e9}y", "U+00E9"),
        ] {
            let (origin, _, _) = resolve(Some((token, Layer::File)), None);
            let text = origin.unwrap_err().to_string();
            assert!(text.starts_with("anova.token: "), "{text}");
            assert!(text.contains(expected), "{token}: {text}");
            assert!(!text.contains("AbC") && !text.contains("dEf"), "{text}");
        }
        let (origin, _, _) = resolve(Some(("anova-AbC.dEf...x", Layer::File)), None);
        assert!(origin.is_ok(), "dots inside a token are not a placeholder");
    }

    #[test]
    fn tokens_are_trimmed_and_inner_whitespace_is_named() {
        let (origin, secret, notes) = resolve(Some((" anova-x\t\n", Layer::File)), None);
        assert!(origin.is_ok());
        assert_eq!(secret.unwrap().expose(), "anova-x");
        assert_eq!(notes, ["anova.token: removed the whitespace around it"]);

        let (origin, _, _) = resolve(Some(("anova-x y", Layer::File)), None);
        let text = origin.unwrap_err().to_string();
        assert!(text.contains("whitespace"), "{text}");
        assert!(!text.contains("anova-x"), "{text}");
    }
}
