//! Presets and plans in the core (`docs/interface.md` §8): the settings every device's commands
//! read (the preset book, the time zone), the preset expansion every command goes through,
//! and each device's pending plan (`pending.rs`), its food safety (`safety.rs`), its times
//! (`when.rs`) and how the bridge runs it (`schedule.rs`, `run.rs`).

pub(crate) mod expand;
mod pending;
mod run;
mod safety;
mod schedule;
mod when;

pub(crate) use pending::PendingPlan;

use crate::presets::PresetBook;
use std::sync::Arc;

/// The heating rate assumed for a cooker without a history of similar cooks, °C per minute.
/// Conservative on purpose (a slower rate plans an earlier start and a longer time to 54.4 °C,
/// both on the safe side): a 1,000 W cooker heats 6 L of water at about 2.4 °C per minute
/// before losses (1000 W / (6 kg × 4186 J/kg·K)), and an ice bath's ice must melt first.
pub(crate) const DEFAULT_COOKER_RATE: f64 = 1.0;

/// The same for an oven (the air or wet bulb), °C per minute: a Precision Oven preheats to
/// 200 °C in about 15–20 minutes; assumed half as fast.
pub(crate) const DEFAULT_OVEN_RATE: f64 = 5.0;

/// What the configuration says about presets and plans; the default has the built-in presets,
/// UTC and the default heating rates.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSettings {
    /// Every preset, built in and configured.
    pub presets: Arc<PresetBook>,
    /// `schedule.timezone`: where `HH:MM` is read.
    pub timezone: jiff::tz::TimeZone,
    /// A cooker's heating rate without similar past cooks, °C per minute (`DEFAULT_COOKER_RATE`).
    pub cooker_rate: f64,
    /// An oven's heating rate without similar past cooks, °C per minute (`DEFAULT_OVEN_RATE`).
    pub oven_rate: f64,
    /// How long a cooker may send nothing before a waiting plan counts it silent and starts
    /// its cook (§8.3): [`plan_silence`] of the cloud client's `anova.stale_after`.
    pub silent_after: time::Duration,
}

/// How long a cooker may send nothing before a waiting plan counts it silent, given the
/// cloud client's `anova.stale_after` (after which the device counts offline and a start
/// could no longer reach it): 2 minutes (`SILENT_AFTER`), or half of
/// `stale_after` when that is shorter, so that the start still goes out while the device
/// counts online; at least a second.
pub fn plan_silence(stale_after: std::time::Duration) -> time::Duration {
    let half = time::Duration::try_from(stale_after / 2).unwrap_or(pending::SILENT_AFTER);
    half.clamp(time::Duration::seconds(1), pending::SILENT_AFTER)
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            presets: Arc::default(),
            timezone: jiff::tz::TimeZone::UTC,
            cooker_rate: DEFAULT_COOKER_RATE,
            oven_rate: DEFAULT_OVEN_RATE,
            silent_after: pending::SILENT_AFTER,
        }
    }
}
