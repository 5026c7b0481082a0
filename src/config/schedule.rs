//! `[schedule]`: how plans read times (`docs/interface.md` §8.2).

use super::error::Problem;
use serde::{Deserialize, Serialize};

/// `[schedule]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// `schedule.timezone`: the IANA time zone (`Europe/Berlin`) in which a plan's local
    /// `HH:MM` is read; the system's when absent.
    pub timezone: Option<String>,
}

impl ScheduleConfig {
    /// The time zone: the named one (from the system's database, else the one built in), or
    /// the system's (UTC when the system has none).
    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, String> {
        match &self.timezone {
            Some(name) => jiff::tz::db().get(name.trim()).map_err(|_| {
                format!(
                    "{name:?} is not a time zone this system or anova2mqtt knows; give an IANA \
                     name such as \"Europe/Berlin\" or \"America/New_York\", or leave it out \
                     for the system's"
                )
            }),
            None => Ok(jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC)),
        }
    }
}

/// What is wrong with `[schedule]`.
pub(super) fn problems(config: &ScheduleConfig, out: &mut Vec<Problem>) {
    if config.timezone.is_some() {
        if let Err(message) = config.time_zone() {
            out.push(Problem::new("schedule.timezone", message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        let named = |n: &str| ScheduleConfig {
            timezone: Some(n.to_owned()),
        };
        assert!(named("Europe/Berlin").time_zone().is_ok());
        assert!(named("America/New_York").time_zone().is_ok());
        let mut out = Vec::new();
        problems(&named("Mars/Olympus"), &mut out);
        assert_eq!(out.len(), 1);
        assert!(ScheduleConfig::default().time_zone().is_ok());
        assert!(toml::from_str::<ScheduleConfig>("zone = \"UTC\"").is_err());
    }
}
