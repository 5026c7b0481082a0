//! `[history]`: the cook history database (`docs/interface.md` §7).
//!
//! Where the file lives when `history.path` is not set follows the platform's conventions:
//! systemd's `StateDirectory=` (the unit sets `anova2mqtt`, so `/var/lib/anova2mqtt`), the
//! container image's `/data` volume (its `ANOVA2MQTT_HISTORY__PATH`), else the XDG state
//! directory of the user who runs it.

use super::Problem;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// The file's name in the default directories.
pub const HISTORY_FILE: &str = "history.sqlite3";

/// The shortest `history.retention`: retention deletes what ended before it, daily.
const MIN_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// `[history]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryConfig {
    /// Record cooks at all.
    pub enabled: bool,
    /// The database file; when unset, [`HistoryConfig::default_path`].
    pub path: Option<PathBuf>,
    /// Cooks that ended longer ago than this are deleted (daily).
    #[serde(with = "super::serde_helpers::duration")]
    pub retention: Duration,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            path: None,
            retention: Duration::from_secs(365 * 24 * 3600),
        }
    }
}

impl HistoryConfig {
    /// The file the daemon uses: `path`, else the default for this environment (`env` looks
    /// a variable up); `None` when there is no directory to put it in (no `$HOME` either).
    pub fn effective_path(&self, env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        self.path.clone().or_else(|| Self::default_path(env))
    }

    /// `$STATE_DIRECTORY/history.sqlite3` under systemd (the first directory when it lists
    /// several), else `$XDG_STATE_HOME/anova2mqtt/history.sqlite3`, else
    /// `$HOME/.local/state/anova2mqtt/history.sqlite3`.
    pub fn default_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(dirs) = set("STATE_DIRECTORY") {
            let first = dirs.split(':').next().unwrap_or_default().to_owned();
            return Some(PathBuf::from(first).join(HISTORY_FILE));
        }
        let state = set("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".local/state")))?;
        Some(state.join("anova2mqtt").join(HISTORY_FILE))
    }
}

/// The rules of `[history]`.
pub(super) fn problems(config: &HistoryConfig, out: &mut Vec<Problem>) {
    if config.retention < MIN_RETENTION {
        out.push(Problem::new(
            "history.retention",
            "must be at least 1d: cooks that ended longer ago are deleted once a day",
        ));
    }
    if let Some(path) = &config.path {
        if path.as_os_str().is_empty() {
            out.push(Problem::new(
                "history.path",
                "is empty; give the database file, or leave it out for the default",
            ));
        } else if path.is_dir() {
            out.push(Problem::new(
                "history.path",
                format!(
                    "{} is a directory; give the database file, such as {}",
                    path.display(),
                    path.join(HISTORY_FILE).display()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn default_paths_follow_the_environment() {
        let systemd = env(&[
            ("STATE_DIRECTORY", "/var/lib/anova2mqtt:/var/lib/other"),
            ("HOME", "/root"),
        ]);
        assert_eq!(
            HistoryConfig::default_path(systemd),
            Some(PathBuf::from("/var/lib/anova2mqtt/history.sqlite3"))
        );
        let xdg = env(&[("XDG_STATE_HOME", "/home/a/.state"), ("HOME", "/home/a")]);
        assert_eq!(
            HistoryConfig::default_path(xdg),
            Some(PathBuf::from("/home/a/.state/anova2mqtt/history.sqlite3"))
        );
        let relative_xdg = env(&[("XDG_STATE_HOME", "state"), ("HOME", "/home/a")]);
        assert_eq!(
            HistoryConfig::default_path(relative_xdg),
            Some(PathBuf::from(
                "/home/a/.local/state/anova2mqtt/history.sqlite3"
            )),
            "a relative XDG_STATE_HOME is ignored, as the spec says"
        );
        assert_eq!(HistoryConfig::default_path(env(&[])), None);
        let given = HistoryConfig {
            path: Some("/data/history.sqlite3".into()),
            ..HistoryConfig::default()
        };
        assert_eq!(
            given.effective_path(env(&[("STATE_DIRECTORY", "/x")])),
            Some(PathBuf::from("/data/history.sqlite3"))
        );
    }

    #[test]
    fn retention_and_path_are_checked() {
        let mut out = Vec::new();
        problems(&HistoryConfig::default(), &mut out);
        assert!(out.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let config = HistoryConfig {
            retention: Duration::from_secs(3600),
            path: Some(dir.path().to_owned()),
            ..HistoryConfig::default()
        };
        problems(&config, &mut out);
        let keys: Vec<_> = out.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["history.retention", "history.path"]);
    }
}
