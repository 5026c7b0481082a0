//! The cooker models and what each accepts (`docs/anova-protocol.md` §5), in one table.

use crate::command::MAX_TIMER_S;
use crate::wire::DeviceType;
use serde::Serialize;

/// What a model accepts (`docs/anova-protocol.md` §5), in one place.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ModelLimits {
    /// Lowest target, °C.
    pub min_temperature_c: f64,
    /// Highest target, °C.
    pub max_temperature_c: f64,
    /// Longest timer, seconds.
    pub max_timer_s: u32,
}

/// One row of the model table.
struct ModelInfo {
    device_type: &'static str,
    product: &'static str,
    max_temperature_c: f64,
}

/// Limits per model. The Pro, the A4 (and its `honey-badger` variant) have a documented UI
/// maximum of 92 °C; the a3 accepts the validator's 99.5 °C. The a5 and the Gen 3 models set no
/// per-model limit in the app, so they get the official example client's 95 °C.
const MODELS: &[ModelInfo] = &[
    ModelInfo {
        device_type: "a3",
        product: "Precision Cooker (Wi-Fi)",
        max_temperature_c: 99.5,
    },
    ModelInfo {
        device_type: "a4",
        product: "Precision Cooker (Wi-Fi 2.0)",
        max_temperature_c: 92.0,
    },
    ModelInfo {
        device_type: "honey-badger",
        product: "Precision Cooker (Wi-Fi 2.0)",
        max_temperature_c: 92.0,
    },
    ModelInfo {
        device_type: "a5",
        product: "Precision Cooker",
        max_temperature_c: 95.0,
    },
    ModelInfo {
        device_type: "pro",
        product: "Precision Cooker Pro",
        max_temperature_c: 92.0,
    },
    ModelInfo {
        device_type: "a6",
        product: "Precision Cooker Nano 3.0",
        max_temperature_c: 95.0,
    },
    ModelInfo {
        device_type: "a7",
        product: "Precision Cooker 3.0",
        max_temperature_c: 95.0,
    },
    ModelInfo {
        device_type: "a8",
        product: "Precision Cooker Mini",
        max_temperature_c: 95.0,
    },
    ModelInfo {
        device_type: "a9",
        product: "Precision Cooker Pro 3.0",
        max_temperature_c: 95.0,
    },
];

/// The conservative maximum for a type we do not know.
const UNKNOWN_MAX_TEMPERATURE_C: f64 = 92.0;

fn model_info(device_type: &DeviceType) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| device_type.matches(m.device_type))
}

/// The limits of a device type.
pub fn limits(device_type: &DeviceType) -> ModelLimits {
    ModelLimits {
        min_temperature_c: 0.0,
        max_temperature_c: model_info(device_type)
            .map_or(UNKNOWN_MAX_TEMPERATURE_C, |m| m.max_temperature_c),
        max_timer_s: MAX_TIMER_S,
    }
}

/// The widest limits of any known model: what a value must fit for some cooker to take it.
pub fn widest() -> ModelLimits {
    ModelLimits {
        min_temperature_c: 0.0,
        max_temperature_c: MODELS
            .iter()
            .map(|m| m.max_temperature_c)
            .fold(UNKNOWN_MAX_TEMPERATURE_C, f64::max),
        max_timer_s: MAX_TIMER_S,
    }
}

/// The product name of a device type ("Precision Cooker 3.0" for `a7`).
pub fn product_name(device_type: &DeviceType) -> &'static str {
    model_info(device_type).map_or("Precision Cooker", |m| m.product)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_model() {
        assert_eq!(limits(&DeviceType::new("pro")).max_temperature_c, 92.0);
        assert_eq!(limits(&DeviceType::new("A7")).max_temperature_c, 95.0);
        assert_eq!(limits(&DeviceType::new("a3")).max_temperature_c, 99.5);
        assert_eq!(limits(&DeviceType::new("zz")).max_temperature_c, 92.0);
        assert_eq!(limits(&DeviceType::new("a7")).max_timer_s, 359_940);
        assert_eq!(product_name(&DeviceType::new("a7")), "Precision Cooker 3.0");
    }
}
