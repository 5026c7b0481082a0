//! What every part of a device machine needs for one step: the settings and the surroundings.

use crate::appliance::family::Ceilings;
use crate::bridge::io::Now;
use crate::presets::PresetBook;
use crate::topics::Topics;
use std::sync::Arc;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The settings every device machine uses.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `anova.command_timeout`: the longest a command waits for its turn, and for a RESPONSE.
    pub(crate) command_timeout: Duration,
    /// `anova.confirm_timeout`.
    pub(crate) confirm_timeout: Duration,
    /// `limits.commands_per_minute`.
    pub(crate) commands_per_minute: u32,
    /// `safety.max_temperature_c` and `safety.oven_max_temperature_c`.
    pub(crate) ceilings: Ceilings,
    /// Every preset (`docs/interface.md` §8.1).
    pub(crate) presets: Arc<PresetBook>,
}

/// What a machine needs to know about its surroundings for one step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The time of this step.
    pub(crate) now: Now,
    /// The cloud link is up: commands can be sent.
    pub(crate) link_up: bool,
    /// The link as availability shows it: up, or reconnecting after a `refresh`.
    pub(crate) link_shown_up: bool,
    /// The topic tree.
    pub(crate) topics: &'a Topics,
    /// Shared settings.
    pub(crate) settings: &'a Settings,
}

/// RFC 3339 to the second, UTC.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}
