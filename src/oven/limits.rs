//! What an oven accepts (`docs/interface.md` §5.2, `docs/anova-oven.md` §1.11), and the check of
//! one stage against it. Out of range is rejected, never clamped; every error names the part
//! (`stages[2].target_temperature …`), because the oven itself drops a bad plan silently.

use super::state::TemperatureMode;
use super::wire::{Elements, TimerStart};
use crate::command::{show_temperature, trim, CommandError, ErrorCode, Temperature, MAX_TIMER_S};
use crate::wire::{DeviceType, Generation};

/// Dry bulb range, °C.
pub const DRY_C: (f64, f64) = (25.0, 250.0);
/// Wet bulb range, °C (the schema's; the UI's steam rules below narrow it).
pub const WET_C: (f64, f64) = (25.0, 100.0);
/// Highest wet bulb target without steam, °C.
pub const WET_MAX_WITHOUT_STEAM_C: f64 = 92.0;
/// Highest wet bulb target with steam, °C.
pub const WET_MAX_WITH_STEAM_C: f64 = 98.0;
/// Highest dry target with the fan off: proofing on the bottom element, °C.
pub const PROOFING_MAX_C: f64 = 45.0;
/// Probe target range, °C.
pub const PROBE_C: (f64, f64) = (1.0, 100.0);

/// An oven generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OvenGeneration {
    /// Precision Oven 1.0.
    V1,
    /// Precision Oven 2.0.
    V2,
}

impl OvenGeneration {
    /// The generation of a device type (`oven_v1` is V1; anything else an oven family device
    /// can be is V2).
    pub fn of(device_type: &DeviceType) -> Self {
        match device_type.generation() {
            Generation::OvenV1 => Self::V1,
            _ => Self::V2,
        }
    }

    /// "1.0" or "2.0".
    pub fn version(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::V2 => "2.0",
        }
    }

    /// Highest dry target with the bottom element alone, °C.
    pub fn bottom_only_max_c(self) -> f64 {
        match self {
            Self::V1 => 180.0,
            Self::V2 => 230.0,
        }
    }
}

/// The target an idle oven starts from when none is given, pending or remembered, per bulb
/// (dry, wet): the Anova app's defaults, 180 °C / 350 °F dry and 55 °C / 130 °F wet
/// (`docs/anova-oven.md` §1.11, from the app).
pub const DEFAULT_TARGET_C: (f64, f64) = (180.0, 55.0);

/// One oven's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OvenLimits {
    /// Its generation.
    pub generation: OvenGeneration,
    /// `safety.oven_max_temperature_c`, when configured.
    pub ceiling_c: Option<f64>,
}

/// A stage with every value decided: what is checked and then sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedStage {
    /// The bulb.
    pub mode: TemperatureMode,
    /// Its target.
    pub target: Temperature,
    /// Steam, %.
    pub steam: u8,
    /// Elements.
    pub elements: Elements,
    /// Fan, 0–100.
    pub fan: u8,
    /// Timer, seconds; 0 = none.
    pub timer: u32,
    /// When the timer starts.
    pub timer_start: TimerStart,
    /// Probe target.
    pub probe: Option<Temperature>,
    /// Title.
    pub title: String,
}

fn out_of_range(message: String) -> CommandError {
    CommandError::new(ErrorCode::OutOfRange, message)
}

impl OvenLimits {
    /// The limits of an oven type.
    pub fn of(device_type: &DeviceType, ceiling_c: Option<f64>) -> Self {
        Self {
            generation: OvenGeneration::of(device_type),
            ceiling_c,
        }
    }

    /// The highest target of a bulb, before the element and steam rules.
    pub fn max_c(&self, mode: TemperatureMode) -> f64 {
        let model = match mode {
            TemperatureMode::Dry => DRY_C.1,
            TemperatureMode::Wet => WET_MAX_WITH_STEAM_C,
        };
        self.ceiling_c.map_or(model, |c| c.min(model))
    }

    /// The lowest target of a bulb.
    pub fn min_c(&self, mode: TemperatureMode) -> f64 {
        match mode {
            TemperatureMode::Dry => DRY_C.0,
            TemperatureMode::Wet => WET_C.0,
        }
    }

    /// Checks one stage; `at` prefixes every key named in an error (`""` or `stages[2].`).
    pub fn check(&self, stage: &ResolvedStage, at: &str) -> Result<(), CommandError> {
        let target = stage.target;
        let c = target.celsius();
        let shown = show_temperature(target);
        let key = format!("{at}target_temperature");
        let (min, max) = match stage.mode {
            TemperatureMode::Dry => DRY_C,
            TemperatureMode::Wet => WET_C,
        };
        let bulb = stage.mode.as_str();
        if c < min - 1e-9 || c > max + 1e-9 {
            return Err(out_of_range(format!(
                "{key} {shown} is outside the {bulb} bulb's {}–{} °C",
                trim(min),
                trim(max)
            )));
        }
        if let Some(ceiling) = self.ceiling_c {
            if c > ceiling + 1e-9 {
                return Err(out_of_range(format!(
                    "{key} {shown} is above the configured safety.oven_max_temperature_c of {} °C",
                    trim(ceiling)
                )));
            }
        }
        if stage.mode == TemperatureMode::Wet {
            let (limit, why) = if stage.steam == 0 {
                (WET_MAX_WITHOUT_STEAM_C, "without steam")
            } else {
                (WET_MAX_WITH_STEAM_C, "with steam")
            };
            if c > limit + 1e-9 {
                return Err(out_of_range(format!(
                    "{key} {shown} is above the wet bulb's {} °C {why}",
                    trim(limit)
                )));
            }
        }
        let e = stage.elements;
        if !(e.top || e.bottom || e.rear) {
            return Err(CommandError::invalid(format!(
                "{at}elements: at least one of top, bottom, rear must heat"
            )));
        }
        if self.generation == OvenGeneration::V1 && e.top && e.bottom && e.rear {
            return Err(CommandError::invalid(format!(
                "{at}elements: a Precision Oven 1.0 drops a cook with all three elements on; use one or two"
            )));
        }
        let bottom_only = e.bottom && !e.top && !e.rear;
        if stage.mode == TemperatureMode::Dry && bottom_only {
            let limit = self.generation.bottom_only_max_c();
            if c > limit + 1e-9 {
                return Err(out_of_range(format!(
                    "{key} {shown} is above the {} °C of the bottom element alone on a Precision Oven {}",
                    trim(limit),
                    self.generation.version()
                )));
            }
        }
        if stage.fan == 0 {
            let proofing =
                stage.mode == TemperatureMode::Dry && bottom_only && c <= PROOFING_MAX_C + 1e-9;
            if !proofing {
                return Err(out_of_range(format!(
                    "{at}fan off is only for proofing: dry bulb, bottom element alone, at most {} °C",
                    trim(PROOFING_MAX_C)
                )));
            }
        }
        if stage.timer > MAX_TIMER_S {
            return Err(out_of_range(format!(
                "{at}timer is above the maximum of 99 h 59 min"
            )));
        }
        if let Some(probe) = stage.probe {
            let p = probe.celsius();
            if p < PROBE_C.0 - 1e-9 || p > PROBE_C.1 + 1e-9 {
                return Err(out_of_range(format!(
                    "{at}probe_target {} is outside {}–{} °C (0 clears it)",
                    show_temperature(probe),
                    trim(PROBE_C.0),
                    trim(PROBE_C.1)
                )));
            }
            if stage.timer > 0 {
                return Err(CommandError::invalid(format!(
                    "{at}timer and {at}probe_target: a stage ends on its timer or on its probe, not both"
                )));
            }
        }
        if stage.timer > 0
            && stage.timer_start == TimerStart::OnFoodDetected
            && self.generation == OvenGeneration::V1
        {
            return Err(CommandError::invalid(format!(
                "{at}timer_start on_food_detected needs the camera of a Precision Oven 2.0"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(mode: TemperatureMode, c: f64) -> ResolvedStage {
        ResolvedStage {
            mode,
            target: Temperature::from_celsius(c),
            steam: 0,
            elements: Elements {
                top: false,
                bottom: false,
                rear: true,
            },
            fan: 100,
            timer: 0,
            timer_start: TimerStart::WhenPreheated,
            probe: None,
            title: String::new(),
        }
    }

    const V1: OvenLimits = OvenLimits {
        generation: OvenGeneration::V1,
        ceiling_c: None,
    };
    const V2: OvenLimits = OvenLimits {
        generation: OvenGeneration::V2,
        ceiling_c: None,
    };

    fn bottom() -> Elements {
        Elements {
            top: false,
            bottom: true,
            rear: false,
        }
    }

    /// The validation table of the README, row by row: (limits, stage, accepted?, message part).
    #[test]
    fn validation_table() {
        use TemperatureMode::{Dry, Wet};
        let wet_steam = |c| ResolvedStage {
            steam: 50,
            ..stage(Wet, c)
        };
        let bottom_only = |c| ResolvedStage {
            elements: bottom(),
            ..stage(Dry, c)
        };
        let fan_off = |s: ResolvedStage| ResolvedStage { fan: 0, ..s };
        let all_three = ResolvedStage {
            elements: Elements {
                top: true,
                bottom: true,
                rear: true,
            },
            ..stage(Dry, 200.0)
        };
        let none = ResolvedStage {
            elements: Elements::default(),
            ..stage(Dry, 200.0)
        };
        let probe = |p: f64, timer: u32| ResolvedStage {
            probe: Some(Temperature::from_celsius(p)),
            timer,
            ..stage(Dry, 160.0)
        };
        let food_timer = ResolvedStage {
            timer: 600,
            timer_start: TimerStart::OnFoodDetected,
            ..stage(Dry, 180.0)
        };
        let rows: Vec<(OvenLimits, ResolvedStage, Option<&str>)> = vec![
            (V2, stage(Dry, 25.0), None),
            (V2, stage(Dry, 250.0), None),
            (
                V2,
                stage(Dry, 24.0),
                Some("target_temperature 24 °C is outside the dry bulb's 25–250 °C"),
            ),
            (
                V2,
                stage(Dry, 251.0),
                Some("outside the dry bulb's 25–250 °C"),
            ),
            (V2, stage(Wet, 92.0), None),
            (
                V2,
                stage(Wet, 93.0),
                Some("above the wet bulb's 92 °C without steam"),
            ),
            (V2, wet_steam(98.0), None),
            (
                V2,
                wet_steam(99.0),
                Some("above the wet bulb's 98 °C with steam"),
            ),
            (V1, bottom_only(180.0), None),
            (
                V1,
                bottom_only(181.0),
                Some("above the 180 °C of the bottom element alone on a Precision Oven 1.0"),
            ),
            (V2, bottom_only(230.0), None),
            (
                V2,
                bottom_only(231.0),
                Some("230 °C of the bottom element alone on a Precision Oven 2.0"),
            ),
            (V2, fan_off(bottom_only(45.0)), None),
            (
                V2,
                fan_off(bottom_only(46.0)),
                Some("fan off is only for proofing"),
            ),
            (
                V2,
                fan_off(stage(Dry, 40.0)),
                Some("fan off is only for proofing"),
            ),
            (V1, all_three.clone(), Some("all three elements on")),
            (V2, all_three, None),
            (V2, none, Some("at least one of top, bottom, rear")),
            (V2, probe(1.0, 0), None),
            (
                V2,
                probe(101.0, 0),
                Some("probe_target 101 °C is outside 1–100 °C"),
            ),
            (V2, probe(60.0, 600), Some("not both")),
            (
                V1,
                food_timer.clone(),
                Some("needs the camera of a Precision Oven 2.0"),
            ),
            (V2, food_timer, None),
            (
                OvenLimits {
                    ceiling_c: Some(200.0),
                    ..V2
                },
                stage(Dry, 210.0),
                Some("safety.oven_max_temperature_c of 200 °C"),
            ),
        ];
        for (limits, stage, expected) in rows {
            let result = limits.check(&stage, "");
            match expected {
                None => assert!(result.is_ok(), "{stage:?}: {result:?}"),
                Some(part) => {
                    let error = result.expect_err(part);
                    assert!(
                        error.message.contains(part),
                        "{part:?} not in {:?}",
                        error.message
                    );
                }
            }
        }
        let error = V2.check(&stage(Dry, 300.0), "stages[2].").unwrap_err();
        assert_eq!(error.code, ErrorCode::OutOfRange);
        assert!(error
            .message
            .starts_with("stages[2].target_temperature 300 °C"));
    }
}
