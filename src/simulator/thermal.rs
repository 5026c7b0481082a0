//! The water bath: a deliberately simple thermal model, good enough to walk a cooker through
//! preheat, hold and cool-down in a believable way.
//!
//! - Heating: the water rises at a constant rate (°C per simulated minute) and stops exactly at
//!   the setpoint, where the heater then holds it.
//! - Cooling: Newton's law towards the room, so a hot bath loses heat quickly and a lukewarm one
//!   slowly. It applies when the heater is off, and when the water is above a lowered setpoint
//!   (the cooker has no chiller, it can only wait). Cold water warms towards the room by the
//!   same law.
//! - Ice bath: while ice floats in the bath the water stays at [`ICE_WATER_C`], and the heat
//!   that would have warmed it (from the room by Newton's law, from the heater at its rate)
//!   melts ice instead: `c_water / L_fusion` kilograms of ice per kilogram of water and kelvin.
//!   Once the ice is gone the water warms as any cold water does. With the demo's 0.25 kg of
//!   ice per kg of water ([`STANDARD_ICE_RATIO`]: 1.5 kg of ice in 6 L) in a 20 °C room, the
//!   ice lasts about 1 h 45 min and the water passes 4.4 °C about 20 minutes later; a cook
//!   started from it first spends about 20 minutes melting the ice.
//!
//! Everything is in simulated seconds; the caller scales real time.

/// The room the bath stands in, °C.
pub const AMBIENT_C: f64 = 20.0;

/// Newton cooling constant, per simulated second: a bath 40 °C above the room loses about
/// 0.4 °C per minute, which is what an uncovered container of a few litres does.
const COOLING_PER_S: f64 = 0.01 / 60.0;

/// The water of an ice bath while ice floats in it, °C. A stirred mix of ice and water is at
/// 0 °C; a cooker's probe in a bath nobody stirs (the cooker is idle) reads a little above.
pub const ICE_WATER_C: f64 = 1.0;

/// Kilograms of ice one kelvin's worth of heat per kilogram of water melts: the specific heat of
/// water (4.186 kJ/(kg·K)) over the latent heat of fusion of ice (334 kJ/kg).
const MELT_PER_K: f64 = 4.186 / 334.0;

/// The most ice the simulator accepts, kg per kg of water: a bath of as much ice as water.
pub const MAX_ICE_RATIO: f64 = 1.0;

/// The ice of `simulate --ice-bath` and `demo --ice-bath`: 1.5 kg of ice in 6 L of water.
pub const STANDARD_ICE_RATIO: f64 = 0.25;

/// The water of one cooker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaterBath {
    /// Current water temperature, °C (exact; noise is only added when reporting).
    pub(crate) temperature_c: f64,
    /// Ice floating in the water, kg per kg of water; while there is any, the water is at
    /// [`ICE_WATER_C`].
    ice_ratio: f64,
}

impl WaterBath {
    /// A bath at the given temperature.
    pub(crate) fn new(temperature_c: f64) -> Self {
        Self {
            temperature_c,
            ice_ratio: 0.0,
        }
    }

    /// An ice bath: water at [`ICE_WATER_C`] with `ice_ratio` kg of ice per kg of water still
    /// floating in it (0: ice-cold water whose ice has just melted). Negative or not-a-number
    /// amounts are none.
    pub(crate) fn ice_bath(ice_ratio: f64) -> Self {
        Self {
            temperature_c: ICE_WATER_C,
            ice_ratio: if ice_ratio > 0.0 {
                ice_ratio.min(MAX_ICE_RATIO)
            } else {
                0.0
            },
        }
    }

    /// The ice left, kg per kg of water.
    pub(crate) fn ice_ratio(&self) -> f64 {
        self.ice_ratio
    }

    /// Advances the bath by `dt_s` simulated seconds. `heating_to` is the setpoint while the
    /// heater is allowed to run, `None` when it is off; `heat_rate_c_per_s` is the preheat rate.
    pub(crate) fn advance(&mut self, dt_s: f64, heating_to: Option<f64>, heat_rate_c_per_s: f64) {
        if dt_s <= 0.0 {
            return;
        }
        let dt_s = self.melt(dt_s, heating_to, heat_rate_c_per_s);
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

impl WaterBath {
    /// Melts ice for up to `dt_s` seconds while the water stays at [`ICE_WATER_C`]; returns the
    /// seconds left once the ice is gone (all of `dt_s` when there was none).
    fn melt(&mut self, dt_s: f64, heating_to: Option<f64>, heat_rate_c_per_s: f64) -> f64 {
        if self.ice_ratio <= 0.0 {
            return dt_s;
        }
        self.temperature_c = ICE_WATER_C;
        // Heat in, as kelvin per second of the water it would have warmed: the room's by
        // Newton's law at the ice water's temperature, plus the heater's while it runs.
        let room = COOLING_PER_S * (AMBIENT_C - ICE_WATER_C);
        let heater = match heating_to {
            Some(setpoint) if setpoint > ICE_WATER_C => heat_rate_c_per_s,
            _ => 0.0,
        };
        let melting_per_s = (room + heater) * MELT_PER_K;
        if melting_per_s <= 0.0 {
            return 0.0;
        }
        let melting_for_s = self.ice_ratio / melting_per_s;
        if dt_s < melting_for_s {
            self.ice_ratio -= melting_per_s * dt_s;
            0.0
        } else {
            self.ice_ratio = 0.0;
            dt_s - melting_for_s
        }
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

    /// Advances in steps of `step_s` until `done`, at most `limit_s`; the simulated seconds it
    /// took, `None` when it never happened.
    fn seconds_until(
        bath: &mut WaterBath,
        step_s: f64,
        limit_s: f64,
        heating_to: Option<f64>,
        mut done: impl FnMut(&WaterBath) -> bool,
    ) -> Option<f64> {
        let mut t = 0.0;
        while t < limit_s {
            if done(bath) {
                return Some(t);
            }
            bath.advance(step_s, heating_to, 1.0 / 60.0);
            t += step_s;
        }
        None
    }

    #[test]
    fn an_ice_bath_holds_the_water_cold_until_the_ice_is_gone() {
        let mut bath = WaterBath::ice_bath(STANDARD_ICE_RATIO);
        assert_eq!(bath.temperature_c, ICE_WATER_C);
        // The room's heat melts the ice: 0.25 kg/kg at (1/6000 × 19 K) × 4.186/334 per second.
        let expected = STANDARD_ICE_RATIO / (COOLING_PER_S * 19.0 * MELT_PER_K);
        assert!((expected / 60.0 - 105.0).abs() < 1.0, "{expected} s");
        let melted = seconds_until(&mut bath, 10.0, 1.0e5, None, |b| b.ice_ratio() == 0.0);
        let melted = melted.expect("the ice melts");
        assert!((melted - expected).abs() <= 10.0, "{melted} vs {expected}");
        assert!(
            (bath.temperature_c - ICE_WATER_C).abs() < 0.02,
            "still ice-cold"
        );
        // Then the water warms by Newton's law: 1 → 4.4 °C in ln(19 / 15.6) / k ≈ 20 min.
        let warm = seconds_until(&mut bath, 10.0, 1.0e5, None, |b| b.temperature_c > 4.4);
        let warm = warm.expect("the water warms");
        assert!((warm / 60.0 - 19.7).abs() < 0.5, "{warm} s");
    }

    #[test]
    fn the_water_never_drops_nor_jumps_while_an_ice_bath_warms() {
        let mut bath = WaterBath::ice_bath(0.05);
        let mut last = bath.temperature_c;
        for _ in 0..2000 {
            bath.advance(7.3, None, 1.0 / 60.0);
            let t = bath.temperature_c;
            assert!(t >= last - 1e-12, "{t} after {last}");
            assert!(t - last < 0.1, "a step of 7.3 s moves {}", t - last);
            assert!(t <= AMBIENT_C);
            last = t;
        }
        assert!(
            last > 10.0,
            "after 4 h it is well on its way to the room: {last}"
        );
    }

    #[test]
    fn step_size_does_not_change_the_physics() {
        let mut coarse = WaterBath::ice_bath(0.1);
        let mut fine = coarse.clone();
        coarse.advance(9000.0, None, 1.0 / 60.0);
        for _ in 0..9000 {
            fine.advance(1.0, None, 1.0 / 60.0);
        }
        assert!((coarse.temperature_c - fine.temperature_c).abs() < 1e-6);
        assert!(
            coarse.temperature_c > ICE_WATER_C,
            "the ice is gone after 9000 s"
        );
    }

    #[test]
    fn a_heater_melts_the_ice_before_the_water_rises() {
        let mut bath = WaterBath::ice_bath(STANDARD_ICE_RATIO);
        // The heater (1 °C/min) and the room (19 K × 1 %/min) melt 0.25 kg/kg in
        // 0.25 / ((1/60 + 19/6000) × 4.186/334) s ≈ 17 min.
        let expected = STANDARD_ICE_RATIO / ((1.0 / 60.0 + COOLING_PER_S * 19.0) * MELT_PER_K);
        assert!((expected / 60.0 - 16.8).abs() < 0.1, "{expected} s");
        let rising = seconds_until(&mut bath, 5.0, 1.0e4, Some(60.0), |b| {
            b.temperature_c > ICE_WATER_C
        });
        let rising = rising.expect("the water rises");
        assert!((rising - expected).abs() <= 5.0, "{rising} s");
        let at_target = seconds_until(&mut bath, 5.0, 1.0e4, Some(60.0), |b| {
            b.temperature_c >= 60.0
        });
        assert!((at_target.expect("reaches the target") / 60.0 - 59.0).abs() < 0.2);
    }

    #[test]
    fn ice_amounts_are_bounded() {
        assert_eq!(WaterBath::ice_bath(-1.0).ice_ratio(), 0.0);
        assert_eq!(WaterBath::ice_bath(f64::NAN).ice_ratio(), 0.0);
        assert_eq!(WaterBath::ice_bath(50.0).ice_ratio(), MAX_ICE_RATIO);
        let mut plain = WaterBath::new(30.0);
        plain.advance(60.0, None, 1.0);
        assert!(plain.temperature_c < 30.0, "no ice, plain Newton cooling");
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
