//! Presets and plans in the core (`docs/interface.md` §8): the settings every device's commands
//! read (the preset book), and later each device's pending plan.

use crate::appliance::family::Family;
use crate::command::CommandError;
use crate::presets::PresetBook;
use std::sync::Arc;

/// What the configuration says about presets and plans; the default has the built-in presets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanSettings {
    /// Every preset, built in and configured.
    pub presets: Arc<PresetBook>,
}

/// `changes` laid over the preset it names, if any (`docs/interface.md` §8.1): an unknown preset,
/// or one of another family, is `invalid_value` naming the valid ones.
pub(crate) fn expand_preset<F: Family>(
    changes: F::Changes,
    presets: &PresetBook,
) -> Result<F::Changes, CommandError> {
    let Some(name) = F::plan_keys(&changes).preset.clone() else {
        return Ok(changes);
    };
    let keys = presets.find(&name, F::KIND)?;
    // Every preset was checked when the configuration was loaded; should one still not read,
    // the command is refused rather than run without it.
    let preset = F::parse(keys).map_err(|e| {
        CommandError::invalid(format!("preset {name:?} cannot be used: {}", e.message))
    })?;
    F::with_preset(preset, changes)
}
