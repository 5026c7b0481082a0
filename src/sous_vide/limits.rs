//! A cooker's effective limits and the range checks of `docs/interface.md` §3.2. Out-of-range
//! values are rejected, never clamped: a cook at a silently different temperature is worse than an
//! error the user sees.

use crate::command::{show_duration, show_temperature, trim, CommandError, ErrorCode, Temperature};
use crate::sous_vide::models::{limits as model_limits, ModelLimits};
use crate::wire::DeviceType;

/// One cooker's limits: its model's, lowered by `safety.max_temperature_c`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CookerLimits {
    /// The model's own limits.
    pub model: ModelLimits,
    /// The household ceiling, when configured.
    pub ceiling_c: Option<f64>,
}

impl CookerLimits {
    /// The limits of a cooker type.
    pub fn of(device_type: &DeviceType, ceiling_c: Option<f64>) -> Self {
        Self {
            model: model_limits(device_type),
            ceiling_c,
        }
    }

    /// The highest target accepted.
    pub fn max_temperature_c(&self) -> f64 {
        match self.ceiling_c {
            Some(c) => c.min(self.model.max_temperature_c),
            None => self.model.max_temperature_c,
        }
    }

    /// Checks a target temperature against the model's range and the configured ceiling.
    pub fn check_target(&self, target: Temperature) -> Result<(), CommandError> {
        let celsius = target.celsius();
        let out = |message: String| Err(CommandError::new(ErrorCode::OutOfRange, message));
        let min = self.model.min_temperature_c;
        if celsius < min - 1e-9 {
            return out(format!(
                "target_temperature {} is below this cooker's minimum of {} °C",
                show_temperature(target),
                trim(min)
            ));
        }
        let model_max = self.model.max_temperature_c;
        if celsius > model_max + 1e-9 {
            return out(format!(
                "target_temperature {} is above this cooker's maximum of {} °C",
                show_temperature(target),
                trim(model_max)
            ));
        }
        if let Some(ceiling) = self.ceiling_c {
            if celsius > ceiling + 1e-9 {
                return out(format!(
                    "target_temperature {} is above the configured safety.max_temperature_c of {} °C",
                    show_temperature(target),
                    trim(ceiling)
                ));
            }
        }
        Ok(())
    }

    /// Checks a timer (seconds) against the model's maximum.
    pub fn check_timer(&self, timer: u32) -> Result<(), CommandError> {
        if timer > self.model.max_timer_s {
            return Err(CommandError::new(
                ErrorCode::OutOfRange,
                format!(
                    "timer {} is above the maximum of {}",
                    show_duration(u64::from(timer)),
                    show_duration(u64::from(self.model.max_timer_s))
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::TemperatureUnit;

    fn pro() -> CookerLimits {
        CookerLimits {
            model: ModelLimits {
                min_temperature_c: 0.0,
                max_temperature_c: 92.0,
                max_timer_s: 359_940,
            },
            ceiling_c: None,
        }
    }

    fn c(v: f64) -> Temperature {
        Temperature::from_celsius(v)
    }

    #[test]
    fn target_range() {
        assert!(pro().check_target(c(0.0)).is_ok());
        assert!(pro().check_target(c(92.0)).is_ok());
        let err = pro().check_target(c(120.0)).unwrap_err();
        assert_eq!(err.code, ErrorCode::OutOfRange);
        assert_eq!(
            err.message,
            "target_temperature 120 °C is above this cooker's maximum of 92 °C"
        );
        assert_eq!(
            pro().check_target(c(-1.0)).unwrap_err().code,
            ErrorCode::OutOfRange
        );
        let f = Temperature {
            value: 200.0,
            unit: TemperatureUnit::F,
        };
        let err = pro().check_target(f).unwrap_err();
        assert!(err.message.contains("200 °F (93.33 °C)"), "{}", err.message);
    }

    #[test]
    fn ceiling() {
        let limits = CookerLimits {
            ceiling_c: Some(85.0),
            ..pro()
        };
        assert_eq!(limits.max_temperature_c(), 85.0);
        let err = limits.check_target(c(86.0)).unwrap_err();
        assert!(err.message.contains("safety.max_temperature_c of 85 °C"));
        let limits = CookerLimits {
            ceiling_c: Some(99.0),
            ..pro()
        };
        assert_eq!(limits.max_temperature_c(), 92.0);
    }

    #[test]
    fn timer_range() {
        assert!(pro().check_timer(359_940).is_ok());
        let err = pro().check_timer(360_000).unwrap_err();
        assert_eq!(err.code, ErrorCode::OutOfRange);
        assert_eq!(
            err.message,
            "timer 100 h is above the maximum of 99 h 59 min"
        );
    }
}
