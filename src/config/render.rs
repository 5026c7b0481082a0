//! `check-config`'s output: the effective configuration as TOML, secrets redacted.

use super::{LoadedConfig, SecretOrigin};
use std::fmt::Write as _;

/// The effective configuration as TOML the user could paste into a config file, preceded by
/// comments saying which file was read, where each secret came from, and which optional keys
/// are unset. Secrets print as `[redacted]`.
pub fn render_effective(loaded: &LoadedConfig) -> String {
    let mut out = String::from("# anova2mqtt effective configuration\n");
    match &loaded.source {
        Some(path) => {
            let _ = writeln!(out, "# file: {}", path.display());
        }
        None => out.push_str("# file: none (defaults and environment variables only)\n"),
    }
    let _ = writeln!(out, "# anova.token: {}", loaded.secrets.anova_token);
    let _ = writeln!(out, "# mqtt.password: {}", loaded.secrets.mqtt_password);
    let _ = writeln!(out, "# http.token: {}", loaded.secrets.http_token);
    let history = &loaded.config.history;
    if history.enabled && history.path.is_none() {
        match history.effective_path(|name| std::env::var(name).ok()) {
            Some(path) => {
                let _ = writeln!(out, "# history.path: default, {}", path.display());
            }
            None => out.push_str(
                "# history.path: no default here (no $STATE_DIRECTORY, $XDG_STATE_HOME or $HOME): set it\n",
            ),
        }
    }
    for warning in &loaded.warnings {
        let _ = writeln!(out, "# warning: {warning}");
    }
    for note in &loaded.notes {
        let _ = writeln!(out, "# note: {note}");
    }
    let unset = unset_keys(loaded);
    if !unset.is_empty() {
        let _ = writeln!(out, "# not set: {}", unset.join(", "));
    }
    out.push('\n');
    // A secret read from a file or credential is shown by that file's key alone, so the
    // output stays a loadable config (both `token` and `token_file` would be an error).
    let mut shown = loaded.config.clone();
    if from_file(&loaded.secrets.anova_token) {
        shown.anova.token = None;
    }
    if from_file(&loaded.secrets.mqtt_password) {
        shown.mqtt.password = None;
    }
    if from_file(&loaded.secrets.http_token) {
        shown.http.token = None;
    }
    match toml::to_string(&shown) {
        Ok(body) => out.push_str(&body),
        // Only a path that is not UTF-8 gets here; say so rather than print half a file.
        Err(err) => {
            let _ = writeln!(out, "# cannot be shown as TOML: {err}");
        }
    }
    out
}

/// Optional keys without a value, as `section.key`.
fn unset_keys(loaded: &LoadedConfig) -> Vec<String> {
    let Ok(serde_json::Value::Object(sections)) = serde_json::to_value(&loaded.config) else {
        return Vec::new();
    };
    let mut unset = Vec::new();
    for (section, keys) in &sections {
        let serde_json::Value::Object(keys) = keys else {
            continue;
        };
        for (key, value) in keys {
            if value.is_null() {
                unset.push(format!("{section}.{key}"));
            }
        }
    }
    unset
}

/// True when the secret was read from a file rather than given as a value.
fn from_file(origin: &SecretOrigin) -> bool {
    matches!(origin, SecretOrigin::File(_) | SecretOrigin::Credential(_))
}
