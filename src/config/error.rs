//! Configuration errors. Every problem names the key it is about and, when known, where the
//! value came from (the file or the environment variable), so the user can fix it at once.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The dotted key (`mqtt.url`); empty for problems with a whole file (a TOML syntax
    /// error).
    pub key: String,
    /// What is wrong and, where it helps, how to fix it. Never contains a secret.
    pub message: String,
    /// Where the value came from: `file /etc/anova2mqtt/config.toml`, `environment variable
    /// ANOVA2MQTT_MQTT__URL`, …
    pub origin: Option<String>,
}

impl Problem {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            origin: None,
        }
    }

    /// Adds where the value came from.
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.key.is_empty(), &self.origin) {
            (false, Some(origin)) => write!(f, "{}: {} (in {origin})", self.key, self.message),
            (false, None) => write!(f, "{}: {}", self.key, self.message),
            (true, Some(origin)) => write!(f, "{origin}: {}", self.message),
            (true, None) => f.write_str(&self.message),
        }
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--config FILE` names a file that cannot be read.
    #[error("cannot read config file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// One or more settings are wrong; all of them are listed.
    #[error("invalid configuration:{}", ProblemList(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    /// `Ok` when there are no problems.
    pub(crate) fn from_problems(problems: Vec<Problem>) -> Result<(), Self> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Self::Invalid(problems))
        }
    }

    /// The individual problems (empty for [`ConfigError::File`]).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::File { .. } => &[],
            Self::Invalid(problems) => problems,
        }
    }
}

/// Formats problems one per line, so a long list stays readable in a terminal and the journal.
struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// Levenshtein distance, for "did you mean" hints on a handful of short words.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("tokne", "token"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("url", "url"), 0);
    }
}
