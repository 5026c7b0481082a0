//! The preset a device's published state names (`preset`, `docs/interface.md` §8.1): the one whose
//! values the next start will use while the device is idle, the one the running cook was
//! started from while it cooks. Home Assistant's "Preset" select and the web page show it.
//!
//! Family-independent: it follows what each successful command did ([`PresetEffect`], decided
//! when the command is planned) and the end of a cook.

use crate::appliance::Update;
use serde::Serialize;

/// What a successful command does to the preset shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum PresetEffect {
    /// Nothing the preset is about (the display unit, a start of a running cook).
    #[default]
    Keep,
    /// New values for the next start; from this preset, or from none.
    Pending(Option<String>),
    /// A start from idle: the cook runs this preset (the command's, else the one whose
    /// pending values it used).
    Start(Option<String>),
    /// A change of the running cook.
    Running(Option<String>),
    /// A stop; with new values for the next start when the stop carried some.
    Stop(Option<Option<String>>),
}

impl PresetEffect {
    /// The effect of a command that names `preset` (after expansion), changes what a cook
    /// does or not, and asks to start (`Some(true)`), stop (`Some(false)`) or neither, on a
    /// device that is `cooking`.
    pub(crate) fn of(
        preset: Option<&str>,
        changes_cook: bool,
        cook: Option<bool>,
        cooking: bool,
    ) -> Self {
        let named = preset.map(str::to_owned);
        match (cook, cooking) {
            (Some(false), _) => Self::Stop(changes_cook.then_some(named)),
            (Some(true), false) if changes_cook => Self::Start(named),
            // A start with the pending values carries their preset into the cook.
            (Some(true), false) => Self::Start(None),
            (_, true) if changes_cook => Self::Running(named),
            (None, false) if changes_cook => Self::Pending(named),
            _ => Self::Keep,
        }
    }
}

/// The preset of the pending values and of the running cook.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ShownPreset {
    idle: Option<String>,
    cook: Option<String>,
}

impl ShownPreset {
    /// A command succeeded.
    pub(crate) fn apply(&mut self, effect: PresetEffect, changes_cook: bool) {
        match effect {
            PresetEffect::Keep => {}
            PresetEffect::Pending(preset) => self.idle = preset,
            PresetEffect::Start(preset) => {
                let pending = self.idle.take();
                self.cook = if changes_cook { preset } else { pending };
            }
            PresetEffect::Running(preset) => self.cook = preset,
            PresetEffect::Stop(pending) => {
                self.cook = None;
                if let Some(preset) = pending {
                    self.idle = preset;
                }
            }
        }
    }

    /// A cook ended: the state no longer shows its preset.
    pub(crate) fn cook_ended(&mut self) {
        self.cook = None;
    }

    /// The preset the state shows.
    pub(crate) fn shown(&self, cooking: bool) -> Option<&str> {
        if cooking {
            self.cook.as_deref()
        } else {
            self.idle.as_deref()
        }
    }
}

/// A family's published state with what the core adds: `preset`, and `firmware_update`
/// (`appliance::Update`; not `update`, which Jinja templates such as Home Assistant's read as
/// the dictionary's method).
#[derive(Serialize)]
pub(crate) struct Published<'a, S: Serialize> {
    /// The state.
    #[serde(flatten)]
    pub(crate) state: &'a S,
    /// The preset it shows.
    pub(crate) preset: Option<&'a str>,
    /// Installed and offered firmware.
    #[serde(rename = "firmware_update")]
    pub(crate) update: &'a Update,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_follows_its_values_through_a_cook() {
        let mut shown = ShownPreset::default();
        let chicken = Some("chicken-breast");
        // Chosen while idle: the next start's values.
        shown.apply(PresetEffect::of(chicken, true, None, false), true);
        assert_eq!(shown.shown(false), chicken);
        // Started without naming it: the cook runs it.
        shown.apply(PresetEffect::of(None, false, Some(true), false), false);
        assert_eq!((shown.shown(true), shown.shown(false)), (chicken, None));
        // Its target changed while cooking: no longer the preset.
        shown.apply(PresetEffect::of(None, true, None, true), true);
        assert_eq!(shown.shown(true), None);
        // Started from the preset directly, then the cook ends on its own.
        shown.apply(PresetEffect::of(chicken, true, Some(true), false), true);
        assert_eq!(shown.shown(true), chicken);
        shown.cook_ended();
        assert_eq!((shown.shown(true), shown.shown(false)), (None, None));
        // A target set while idle replaces the preset's values.
        shown.apply(PresetEffect::of(chicken, true, None, false), true);
        shown.apply(PresetEffect::of(None, true, None, false), true);
        assert_eq!(shown.shown(false), None);
        // The display unit alone keeps it; a stop clears the cook's.
        shown.apply(PresetEffect::of(chicken, true, None, false), true);
        shown.apply(PresetEffect::of(None, false, None, false), false);
        assert_eq!(shown.shown(false), chicken);
        shown.apply(PresetEffect::of(chicken, true, Some(true), false), true);
        shown.apply(PresetEffect::of(None, false, Some(false), true), false);
        assert_eq!((shown.shown(true), shown.shown(false)), (None, None));
    }
}
