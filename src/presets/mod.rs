//! Presets (`docs/interface.md` §8.1): named commands. A few are built in, with values from cited
//! tables (`builtin.rs`); `[[presets]]` tables in the configuration add more, or replace a
//! built-in one of the same name. A command names one with `preset`; the bridge core lays the
//! command's own keys over the preset's ([`PresetBook::find`] and the family's
//! `with_preset`), so MQTT, HTTP and MCP get the same rule.
//!
//! Every preset is checked when the configuration is loaded, as a start from an idle device of
//! its family would be checked (ranges on the most permissive model, the family's rules, food
//! safety): a preset that could never run is a configuration error naming the preset and the
//! key, never a surprise at dinner time.

mod builtin;

use crate::appliance::family::Family;
use crate::appliance::Kind;
use crate::command::{is_preset_name, CommandError, MAX_PRESET_NAME};
use crate::oven::limits::{OvenGeneration, OvenLimits};
use crate::oven::Oven;
use crate::sous_vide::limits::CookerLimits;
use crate::sous_vide::SousVide;
use builtin::BUILT_IN;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest preset title.
const MAX_TITLE_CHARS: usize = 100;

/// Keys a preset may not hold: it says what a cook does, not whether to start one, where to
/// show it, or another preset.
const NOT_IN_PRESETS: [&str; 4] = ["cook", "mode", "preset", "display_unit"];

/// The family a preset is for, as `[[presets]]` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresetFamily {
    /// Sous-vide cookers.
    SousVide,
    /// Precision Ovens.
    Oven,
}

impl PresetFamily {
    /// The device family.
    pub fn kind(self) -> Kind {
        match self {
            Self::SousVide => Kind::Cooker,
            Self::Oven => Kind::Oven,
        }
    }

    fn of(kind: Kind) -> Self {
        match kind {
            Kind::Cooker => Self::SousVide,
            Kind::Oven => Self::Oven,
        }
    }

    /// The name in the configuration and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SousVide => "sous_vide",
            Self::Oven => "oven",
        }
    }
}

/// One `[[presets]]` table: `name`, `title`, `family`, and any command keys of the family
/// (`docs/interface.md` §3.2, §5.2), `stages` included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresetConfig {
    /// The slug commands name it by.
    pub name: String,
    /// What it is, for people choosing one; the name when absent.
    #[serde(default)]
    pub title: Option<String>,
    /// The family it is for.
    pub family: PresetFamily,
    /// Its command keys.
    #[serde(flatten)]
    pub command: Map<String, Value>,
}

/// A preset as the bridge uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// The slug.
    pub name: String,
    /// What it is.
    pub title: String,
    /// The family it is for.
    pub kind: Kind,
    /// Its command keys.
    pub command: Map<String, Value>,
    /// Where its values come from (built-in presets); `None` for the configuration's.
    pub source: Option<&'static str>,
}

/// Every preset, built in and configured, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetBook {
    presets: Vec<Preset>,
}

/// The built-in presets alone.
impl Default for PresetBook {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl PresetBook {
    /// The built-in presets with the configured ones: a configured preset replaces a built-in
    /// one of the same name. Expects a configuration [`problems`] found nothing wrong with; a
    /// preset it would refuse is left out.
    pub fn new(configured: &[PresetConfig]) -> Self {
        let mut presets: Vec<Preset> = BUILT_IN
            .iter()
            .filter_map(|b| {
                let Ok(Value::Object(command)) = serde_json::from_str(b.command) else {
                    return None;
                };
                Some(Preset {
                    name: b.name.to_owned(),
                    title: b.title.to_owned(),
                    kind: b.kind,
                    command,
                    source: Some(b.source),
                })
            })
            .collect();
        for config in configured {
            if check(config).is_err() {
                continue;
            }
            let preset = Preset {
                name: config.name.clone(),
                title: config.title.clone().unwrap_or_else(|| config.name.clone()),
                kind: config.family.kind(),
                command: config.command.clone(),
                source: None,
            };
            match presets.iter_mut().find(|p| p.name == preset.name) {
                Some(slot) => *slot = preset,
                None => presets.push(preset),
            }
        }
        Self { presets }
    }

    /// Every preset, in listing order.
    pub fn all(&self) -> &[Preset] {
        &self.presets
    }

    /// The names of a family's presets, in listing order.
    pub fn names(&self, kind: Kind) -> Vec<String> {
        self.presets
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.name.clone())
            .collect()
    }

    /// The keys of the preset `name` for a device of family `kind`; `invalid_value` naming the
    /// valid presets when there is none of that name, or it is another family's.
    pub fn find(&self, name: &str, kind: Kind) -> Result<&Map<String, Value>, CommandError> {
        let valid = self.names(kind).join(", ");
        let this = noun(kind);
        match self.presets.iter().find(|p| p.name == name) {
            Some(p) if p.kind == kind => Ok(&p.command),
            Some(p) => Err(CommandError::invalid(format!(
                "preset {name:?} is for {}s, not for this {this}; the {this} presets are {valid}",
                noun(p.kind)
            ))),
            None => Err(CommandError::invalid(format!(
                "no preset {name:?}; the {this} presets are {valid}"
            ))),
        }
    }

    /// The list served by `GET /api/v1/presets` and retained on `<base>/bridge/presets`:
    /// `name`, `title`, `family`, `built_in`, `source` (where a built-in preset's values come
    /// from) and `command` (its keys as a response echoes them: °C, seconds).
    pub fn listing(&self) -> Value {
        Value::Array(
            self.presets
                .iter()
                .map(|p| {
                    let mut entry = Map::new();
                    entry.insert("name".into(), Value::from(p.name.as_str()));
                    entry.insert("title".into(), Value::from(p.title.as_str()));
                    entry.insert(
                        "family".into(),
                        Value::from(PresetFamily::of(p.kind).as_str()),
                    );
                    entry.insert("built_in".into(), Value::Bool(p.source.is_some()));
                    entry.insert("source".into(), p.source.map_or(Value::Null, Value::from));
                    entry.insert("command".into(), echo(p.kind, &p.command));
                    Value::Object(entry)
                })
                .collect(),
        )
    }
}

fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Cooker => SousVide::NOUN,
        Kind::Oven => Oven::NOUN,
    }
}

/// A preset's keys as a response echoes them (°C, seconds, words).
fn echo(kind: Kind, command: &Map<String, Value>) -> Value {
    let echoed = match kind {
        Kind::Cooker => crate::sous_vide::command::parse(command).map(serde_json::to_value),
        Kind::Oven => crate::oven::command::parse(command).map(|changes| {
            serde_json::to_value(crate::oven::command::OvenEcho {
                changes,
                cook_id: None,
            })
        }),
    };
    match echoed {
        Ok(Ok(value)) => value,
        _ => Value::Object(command.clone()),
    }
}

/// The household's ceilings (`safety.max_temperature_c`, `safety.oven_max_temperature_c`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ceilings {
    /// Cookers, °C.
    pub cooker_c: Option<f64>,
    /// Ovens, °C.
    pub oven_c: Option<f64>,
}

/// Every problem of the configured presets: `(key, message)`, the key naming the preset
/// (`presets.<name>`), the message the command key.
pub fn problems(configured: &[PresetConfig], ceilings: Ceilings) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, config) in configured.iter().enumerate() {
        let key = if is_preset_name(&config.name) {
            format!("presets.{}", config.name)
        } else {
            format!("presets[{}]", i + 1)
        };
        if configured[..i].iter().any(|c| c.name == config.name) {
            out.push((key, "a second preset of the same name".to_owned()));
            continue;
        }
        if let Err(message) = check_with(config, ceilings) {
            out.push((key, message));
        }
    }
    out
}

/// [`problems`] for one preset, without a household ceiling.
fn check(config: &PresetConfig) -> Result<(), String> {
    check_with(config, Ceilings::default())
}

fn check_with(config: &PresetConfig, ceilings: Ceilings) -> Result<(), String> {
    if !is_preset_name(&config.name) {
        return Err(format!(
            "name {:?}: a preset's name is a slug of a-z, 0-9, - and _ (at most \
             {MAX_PRESET_NAME} characters), such as \"chicken-breast\"",
            crate::command::bounded(&config.name)
        ));
    }
    if let Some(title) = &config.title {
        if title.trim().is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(format!(
                "title: give a text of 1 to {MAX_TITLE_CHARS} characters, or leave it out"
            ));
        }
    }
    if let Some(key) = NOT_IN_PRESETS
        .iter()
        .find(|key| config.command.contains_key(**key))
    {
        return Err(format!(
            "{key}: a preset says what a cook does; a command starts it (`cook: true`) or sets \
             the unit itself"
        ));
    }
    let result = match config.family {
        PresetFamily::SousVide => {
            let widest = CookerLimits {
                model: crate::sous_vide::models::widest(),
                ceiling_c: ceilings.cooker_c,
            };
            could_run::<SousVide>(&config.command, &[widest])
        }
        PresetFamily::Oven => could_run::<Oven>(
            &config.command,
            &[OvenGeneration::V2, OvenGeneration::V1].map(|generation| OvenLimits {
                generation,
                ceiling_c: ceilings.oven_c,
            }),
        ),
    };
    result.map_err(|e| e.message)
}

/// A preset's keys read and checked as a start from an idle device of the family, on any of
/// `limits` (the family's models): `Ok` when one of them would take it; else the error of the
/// first.
fn could_run<F: Family>(
    command: &Map<String, Value>,
    limits: &[F::Limits],
) -> Result<(), CommandError> {
    let changes = F::parse(command)?;
    let mut first = None;
    for limits in limits {
        match F::start_from_idle(&changes, &F::Memory::default(), None, limits) {
            Ok(_) => return Ok(()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
