//! The environment-variable layer, as a figment provider over a given list of variables.
//!
//! It maps names exactly like `Env::prefixed("ANOVA2MQTT_").split("__")` (prefix matched
//! without regard to case, the rest lower-cased, `__` separating section and key, values typed
//! like TOML). figment's own `Env` can only read the process environment; taking the variables
//! as a list lets tests run in parallel without touching process-global state, and lets errors
//! name the exact variable the user set.

use figment::value::{Dict, Map, Value};
use figment::{Error, Metadata, Profile, Provider};

/// The name figment's metadata carries for this layer; errors recognise it by this name.
pub(super) const METADATA_NAME: &str = "environment variables";

/// Configuration from `<prefix><SECTION>__<KEY>` variables.
pub(super) struct EnvLayer {
    /// The prefix, e.g. `ANOVA2MQTT_`.
    prefix: &'static str,
    /// (`section.key`, value) for every matching variable, sorted by key so the result does
    /// not depend on the environment's order.
    entries: Vec<(String, String)>,
}

impl EnvLayer {
    /// Keeps the variables that start with `prefix`.
    pub(super) fn new(prefix: &'static str, vars: &[(String, String)]) -> Self {
        let mut entries: Vec<(String, String)> = vars
            .iter()
            .filter_map(|(name, value)| Some((config_key(prefix, name)?, value.clone())))
            .collect();
        entries.sort();
        Self { prefix, entries }
    }
}

/// The variable that sets the dotted `key` under `prefix`.
pub(super) fn var_name(prefix: &str, key: &str) -> String {
    format!("{prefix}{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// `ANOVA2MQTT_MQTT__CLIENT_ID` → `mqtt.client_id`; `None` for other variables and for names
/// with an empty part (`ANOVA2MQTT_MQTT____URL`), which figment's `Env` skips too.
fn config_key(prefix: &str, name: &str) -> Option<String> {
    let name = name.trim();
    let head = name.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let key = name
        .get(prefix.len()..)?
        .to_ascii_lowercase()
        .replace("__", ".");
    if key.split('.').any(str::is_empty) {
        return None;
    }
    Some(key)
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        let prefix = self.prefix;
        Metadata::named(METADATA_NAME)
            .interpolater(move |_: &Profile, keys: &[&str]| var_name(prefix, &keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut dict = Dict::new();
        for (key, text) in &self.entries {
            let value = typed(text);
            let path: Vec<&str> = key.split('.').collect();
            insert(&mut dict, &path, value);
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// A variable's value typed as figment types it (`5` a number, `true` a bool, `"…"` a string
/// with escapes), except where figment's unescaping would panic: it slices a quoted string at
/// a character count, so any non-ASCII character before a backslash crashed the daemon at
/// startup (found by the `config` fuzz target). Such a value is taken as the plain string it is.
fn typed(text: &str) -> Value {
    if !text.is_ascii() && text.contains('\\') {
        return Value::from(text.to_owned());
    }
    let Ok(value) = text.parse::<Value>();
    value
}

/// Puts `value` at `path` inside `dict`, creating the tables on the way. A later variable
/// replaces a scalar an earlier one put where a table is needed.
fn insert(dict: &mut Dict, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry((*first).to_owned())
                .or_insert_with(|| Dict::new().into());
            if !matches!(entry, Value::Dict(..)) {
                *entry = Dict::new().into();
            }
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_like_figment_env() {
        let p = "ANOVA2MQTT_";
        assert_eq!(
            config_key(p, "ANOVA2MQTT_MQTT__CLIENT_ID").as_deref(),
            Some("mqtt.client_id")
        );
        assert_eq!(
            config_key(p, "anova2mqtt_anova__token").as_deref(),
            Some("anova.token")
        );
        assert_eq!(config_key(p, "ANOVA2MQTT_MQTT____URL"), None);
        assert_eq!(config_key(p, "RUST_LOG"), None);
        assert_eq!(config_key(p, "ANOVA2MQ"), None);
        assert_eq!(var_name(p, "mqtt.client_id"), "ANOVA2MQTT_MQTT__CLIENT_ID");
    }

    #[test]
    fn values_are_typed_and_nested() {
        let vars = vec![
            ("ANOVA2MQTT_MQTT__URL".to_owned(), "mqtt://b".to_owned()),
            (
                "ANOVA2MQTT_LIMITS__COMMANDS_PER_MINUTE".to_owned(),
                "5".to_owned(),
            ),
            ("HOME".to_owned(), "/root".to_owned()),
        ];
        let data = EnvLayer::new("ANOVA2MQTT_", &vars).data().unwrap();
        let dict = &data[&Profile::Default];
        let limits = dict["limits"].as_dict().unwrap();
        assert_eq!(limits["commands_per_minute"].to_u128(), Some(5));
        let mqtt = dict["mqtt"].as_dict().unwrap();
        assert_eq!(mqtt["url"].as_str(), Some("mqtt://b"));
        assert_eq!(dict.len(), 2);
    }

    #[test]
    fn a_quoted_value_with_non_ascii_before_a_backslash_does_not_panic() {
        // `"ééé\n"` sliced figment's string at byte 3, inside the second `é`.
        for text in [
            r#""ééé\n""#,
            r#""pässwörd\n""#,
            r#"["ä\t"]"#,
            r#""é\u0041""#,
            "ü\\",
        ] {
            let vars = vec![("ANOVA2MQTT_MQTT__PASSWORD".to_owned(), text.to_owned())];
            let data = EnvLayer::new("ANOVA2MQTT_", &vars).data().unwrap();
            let mqtt = data[&Profile::Default]["mqtt"].as_dict().unwrap().clone();
            assert_eq!(mqtt["password"].as_str(), Some(text), "{text}");
        }
        // ASCII values keep figment's typing, escapes included.
        let vars = vec![(
            "ANOVA2MQTT_MQTT__PASSWORD".to_owned(),
            r#""a\tb""#.to_owned(),
        )];
        let data = EnvLayer::new("ANOVA2MQTT_", &vars).data().unwrap();
        let mqtt = data[&Profile::Default]["mqtt"].as_dict().unwrap().clone();
        assert_eq!(mqtt["password"].as_str(), Some("a\tb"));
    }
}
