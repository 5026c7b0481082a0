//! The preset expansion every command goes through (`docs/interface.md` §8.1): on its own, so that
//! the device machines that call it do not import the plans that call them.

use crate::appliance::family::Family;
use crate::command::CommandError;
use crate::presets::PresetBook;

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
