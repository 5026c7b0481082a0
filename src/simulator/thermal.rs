//! The water bath: a deliberately simple thermal model, good enough to walk a cooker through
//! preheat, hold and cool-down in a believable way.
//!
//! - Heating: the water rises at a constant rate (°C per simulated minute) and stops exactly at
//!   the setpoint, where the heater then holds it.
//! - Cooling: Newton's law towards the room, so a hot bath loses heat quickly and a lukewarm one
//!   slowly. It applies when the heater is off, and when the water is above a lowered setpoint
//!   (the cooker has no chiller, it can only wait).
//!
//! Everything is in simulated seconds; the caller scales real time.

/// The room the bath stands in, °C.
pub const AMBIENT_C: f64 = 20.0;

/// Newton cooling constant, per simulated second: a bath 40 °C above the room loses about
/// 0.4 °C per minute, which is what an uncovered container of a few litres does.
const COOLING_PER_S: f64 = 0.01 / 60.0;

/// The water of one cooker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaterBath {
    /// Current water temperature, °C (exact; noise is only added when reporting).
    pub(crate) temperature_c: f64,
}

impl WaterBath {
    /// A bath at the given temperature.
    pub(crate) fn new(temperature_c: f64) -> Self {
        Self { temperature_c }
    }

    /// Advances the bath by `dt_s` simulated seconds. `heating_to` is the setpoint while the
    /// heater is allowed to run, `None` when it is off; `heat_rate_c_per_s` is the preheat rate.
    pub(crate) fn advance(&mut self, dt_s: f64, heating_to: Option<f64>, heat_rate_c_per_s: f64) {
        if dt_s <= 0.0 {
            return;
        }
        let t = self.temperature_c;
        self.temperature_c = match heating_to {
            Some(setpoint) if t < setpoint => (t + heat_rate_c_per_s * dt_s).min(setpoint),
            // Above a lowered setpoint: cool, but the heater catches the water at the setpoint.
            Some(setpoint) => cool(t, dt_s).max(setpoint),
            None => cool(t, dt_s),
        };
    }
}

/// Newton cooling towards [`AMBIENT_C`] (also warms cold water slowly towards the room).
fn cool(temperature_c: f64, dt_s: f64) -> f64 {
    newton(temperature_c, AMBIENT_C, COOLING_PER_S, dt_s)
}

/// Newton's law: `value` relaxes toward `toward` at `per_s` (fraction of the gap per second,
/// continuously) for `dt_s` seconds.
pub(crate) fn newton(value: f64, toward: f64, per_s: f64, dt_s: f64) -> f64 {
    toward + (value - toward) * decay(per_s * dt_s)
}

/// `e^-x`. The simulator's two transcendental functions come from the pure-Rust `libm` crate:
/// `f64::exp`/`sin` would make the daemon load the C math library (0.3 MB of its resident
/// memory) for the simulator alone.
pub(crate) fn decay(x: f64) -> f64 {
    libm::exp(-x)
}

/// A small deterministic wobble (a few hundredths of a degree) that real sensors show, as a
/// function of the simulated clock and a per-cooker phase. Only added to reported values.
pub(crate) fn sensor_noise(clock_s: f64, phase: f64) -> f64 {
    0.03 * libm::sin(clock_s * 0.37 + phase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heats_at_the_rate_and_stops_at_the_setpoint() {
        let mut bath = WaterBath::new(50.0);
        bath.advance(60.0, Some(60.0), 1.0 / 60.0);
        assert!((bath.temperature_c - 51.0).abs() < 1e-9);
        bath.advance(3600.0, Some(60.0), 1.0 / 60.0);
        assert_eq!(bath.temperature_c, 60.0);
    }

    #[test]
    fn cools_towards_a_lowered_setpoint_but_not_below() {
        let mut bath = WaterBath::new(70.0);
        bath.advance(60.0, Some(60.0), 1.0 / 60.0);
        assert!(bath.temperature_c < 70.0 && bath.temperature_c > 69.0);
        bath.advance(1.0e6, Some(60.0), 1.0 / 60.0);
        assert_eq!(bath.temperature_c, 60.0);
    }

    #[test]
    fn idle_water_drifts_to_the_room() {
        let mut hot = WaterBath::new(60.0);
        let mut cold = WaterBath::new(5.0);
        for bath in [&mut hot, &mut cold] {
            bath.advance(1.0e6, None, 1.0);
            assert!((bath.temperature_c - AMBIENT_C).abs() < 0.01);
        }
    }

    #[test]
    fn noise_is_small_and_deterministic() {
        for i in 0..1000 {
            let n = sensor_noise(f64::from(i) * 1.7, 0.5);
            assert!(n.abs() <= 0.03);
            assert_eq!(n, sensor_noise(f64::from(i) * 1.7, 0.5));
        }
    }
}
