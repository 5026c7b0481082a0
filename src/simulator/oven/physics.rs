//! The oven's cavity: a deliberately simple thermal model, good enough to walk a cook through
//! preheat, hold, steam and a probe in a believable way (\[INF] throughout; no real oven's
//! curves are published).
//!
//! - The controlling bulb (dry, or wet in sous-vide mode) rises at a constant rate while any
//!   element is on and the door is closed, and stops exactly at the setpoint, where the
//!   elements then hold it. Above the setpoint, and with the heat off, it cools by Newton's law.
//! - The other bulb follows: the wet bulb trails the dry one unless the air is saturated; in
//!   wet mode the dry bulb sits a little above the wet one, less so as humidity rises.
//! - Humidity moves toward the steam target while the tank has water and the door is closed,
//!   and falls back toward the room's otherwise; an open door loses heat and steam quickly.
//! - The food probe heats toward the controlling bulb's temperature with a first-order lag.
//!
//! Everything is in simulated seconds.

use super::plan::{Bulb, Settings, Steam};
use crate::simulator::thermal::{decay, newton, AMBIENT_C};

/// Room humidity, %.
const AMBIENT_HUMIDITY: f64 = 40.0;

/// Newton cooling of the closed cavity, per second (a hot oven loses about 1.5 °C per minute
/// at 200 °C).
const COOLING_PER_S: f64 = 0.0015;

/// How much faster the cavity cools and dries with the door open.
const DOOR_OPEN_FACTOR: f64 = 20.0;

/// How fast the trailing bulb follows the controlling one, per second.
const FOLLOW_PER_S: f64 = 0.05;

/// Humidity change while steaming, % per second.
const STEAM_RATE_PER_S: f64 = 0.5;

/// Humidity loss without steam, fraction of the excess per second.
const DRYING_PER_S: f64 = 0.005;

/// A food probe plugged in starts at fridge temperature.
pub(crate) const FRIDGE_C: f64 = 4.0;

/// The cavity's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cavity {
    pub(crate) dry_c: f64,
    pub(crate) wet_c: f64,
    /// Relative humidity, %.
    pub(crate) humidity: f64,
    /// The food probe's reading (also while unplugged: it lies in the food, cooling).
    pub(crate) probe_c: f64,
    /// The steam boiler.
    pub(crate) boiler_c: f64,
}

/// What drives the cavity during one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Drive {
    /// The stage's settings while a cook runs.
    pub(crate) settings: Option<Settings>,
    pub(crate) door_open: bool,
    /// The water tank can feed the steam generators.
    pub(crate) has_water: bool,
}

/// How fast the elements heat, °C per simulated second, and how fast the probe follows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rates {
    pub(crate) heat_c_per_s: f64,
    pub(crate) probe_time_constant_s: f64,
}

impl Cavity {
    /// A cold oven at `temperature_c`.
    pub(crate) fn new(temperature_c: f64) -> Self {
        Self {
            dry_c: temperature_c,
            wet_c: temperature_c,
            humidity: AMBIENT_HUMIDITY,
            probe_c: FRIDGE_C,
            boiler_c: temperature_c,
        }
    }

    /// Whether the elements are heating (below the setpoint), for their watts.
    pub(crate) fn heating(&self, drive: &Drive) -> bool {
        match drive.settings {
            Some(s) if !drive.door_open && s.elements != Default::default() => {
                self.controlled(s.bulb) < s.setpoint_c - 0.5
            }
            _ => false,
        }
    }

    /// Whether the steam generators are producing steam.
    pub(crate) fn steaming(&self, drive: &Drive) -> bool {
        match drive.settings.map(|s| s.steam) {
            Some(Steam::Humidity(target) | Steam::Percentage(target)) => {
                target > 0.0 && drive.has_water && !drive.door_open && self.humidity < target
            }
            _ => false,
        }
    }

    fn controlled(&self, bulb: Bulb) -> f64 {
        match bulb {
            Bulb::Dry => self.dry_c,
            Bulb::Wet => self.wet_c,
        }
    }

    /// The temperature the food sees: the controlling bulb of the cook, else the dry bulb.
    fn food_side(&self, drive: &Drive) -> f64 {
        drive
            .settings
            .map_or(self.dry_c, |s| self.controlled(s.bulb))
    }

    /// How far the controlling bulb is below its setpoint (0 without a cook or when there).
    pub(crate) fn below_setpoint(&self, drive: &Drive) -> f64 {
        drive
            .settings
            .map_or(0.0, |s| (s.setpoint_c - self.controlled(s.bulb)).max(0.0))
    }

    /// Advances the cavity by `dt_s` simulated seconds.
    pub(crate) fn advance(&mut self, dt_s: f64, drive: &Drive, rates: &Rates, probe_in: bool) {
        if dt_s.is_nan() || dt_s <= 0.0 {
            return;
        }
        let loss = if drive.door_open {
            COOLING_PER_S * DOOR_OPEN_FACTOR
        } else {
            COOLING_PER_S
        };
        let heat = drive
            .settings
            .filter(|s| !drive.door_open && s.elements != Default::default());
        // The controlling bulb: heat to the setpoint, or cool (never below a setpoint held).
        let bulb = drive.settings.map_or(Bulb::Dry, |s| s.bulb);
        let controlled = self.controlled(bulb);
        let next = match heat {
            Some(s) if controlled < s.setpoint_c => {
                (controlled + rates.heat_c_per_s * dt_s).min(s.setpoint_c)
            }
            Some(s) => newton(controlled, AMBIENT_C, loss, dt_s).max(s.setpoint_c),
            None => newton(controlled, AMBIENT_C, loss, dt_s),
        };
        // Humidity first: the trailing bulb depends on it.
        let target_humidity = match drive.settings.map(|s| s.steam) {
            Some(Steam::Humidity(t) | Steam::Percentage(t))
                if t > 0.0 && drive.has_water && !drive.door_open =>
            {
                Some(t)
            }
            _ => None,
        };
        self.humidity = match target_humidity {
            Some(t) if self.humidity < t => (self.humidity + STEAM_RATE_PER_S * dt_s).min(t),
            Some(t) => newton(self.humidity, t, DRYING_PER_S, dt_s),
            None => newton(
                self.humidity,
                AMBIENT_HUMIDITY,
                DRYING_PER_S * loss / COOLING_PER_S,
                dt_s,
            ),
        };
        let dryness = (1.0 - self.humidity / 100.0).clamp(0.0, 1.0);
        let follow = 1.0 - decay(FOLLOW_PER_S * dt_s);
        match bulb {
            Bulb::Dry => {
                self.dry_c = next;
                // The wet bulb trails below the dry one, by less as the air gets wetter.
                let wet_target = next - dryness * 0.3 * (next - AMBIENT_C).max(0.0);
                self.wet_c += (wet_target - self.wet_c) * follow;
            }
            Bulb::Wet => {
                self.wet_c = next;
                let dry_target = next + dryness * 5.0;
                self.dry_c += (dry_target - self.dry_c) * follow;
            }
        }
        let boiler_target = if self.steaming(drive) {
            100.0
        } else {
            AMBIENT_C
        };
        self.boiler_c += (boiler_target - self.boiler_c) * follow;
        // The probe: a first-order lag toward the food side, only while it is in the food.
        if probe_in {
            let k = 1.0 - decay(dt_s / rates.probe_time_constant_s.max(1e-9));
            let food = self.food_side(drive);
            self.probe_c += (food - self.probe_c) * k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::oven::plan::{Elements, Vent};

    const RATES: Rates = Rates {
        heat_c_per_s: 0.25,
        probe_time_constant_s: 600.0,
    };

    fn settings(bulb: Bulb, setpoint_c: f64, steam: Steam) -> Settings {
        Settings {
            bulb,
            setpoint_c,
            steam,
            elements: Elements {
                rear: true,
                ..Elements::default()
            },
            fan: 100.0,
            vent: Vent::Closed,
            probe_target_c: None,
        }
    }

    fn drive(settings: Option<Settings>) -> Drive {
        Drive {
            settings,
            door_open: false,
            has_water: true,
        }
    }

    #[test]
    fn dry_heats_at_the_rate_and_holds() {
        let mut cavity = Cavity::new(20.0);
        let roast = drive(Some(settings(Bulb::Dry, 200.0, Steam::Off)));
        assert!(cavity.heating(&roast));
        cavity.advance(60.0, &roast, &RATES, false);
        assert!((cavity.dry_c - 35.0).abs() < 1e-9);
        assert!(cavity.wet_c < cavity.dry_c);
        cavity.advance(10_000.0, &roast, &RATES, false);
        assert_eq!(cavity.dry_c, 200.0);
        assert!(!cavity.heating(&roast));
        assert_eq!(cavity.below_setpoint(&roast), 0.0);
    }

    #[test]
    fn wet_mode_with_steam() {
        let mut cavity = Cavity::new(20.0);
        let sous_vide = drive(Some(settings(Bulb::Wet, 60.0, Steam::Humidity(100.0))));
        for _ in 0..100 {
            cavity.advance(10.0, &sous_vide, &RATES, false);
        }
        assert_eq!(cavity.wet_c, 60.0);
        assert!(cavity.humidity > 99.0);
        assert!(
            cavity.dry_c > 59.9 && cavity.dry_c < 61.0,
            "{}",
            cavity.dry_c
        );
        assert!(cavity.boiler_c > 20.0);
    }

    #[test]
    fn without_water_there_is_no_steam() {
        let mut cavity = Cavity::new(20.0);
        let dry_tank = Drive {
            has_water: false,
            ..drive(Some(settings(Bulb::Wet, 60.0, Steam::Humidity(100.0))))
        };
        assert!(!cavity.steaming(&dry_tank));
        cavity.advance(600.0, &dry_tank, &RATES, false);
        assert!(cavity.humidity <= AMBIENT_HUMIDITY + 1e-9);
    }

    #[test]
    fn an_open_door_stops_the_heat_and_cools_fast() {
        let mut hot = Cavity::new(200.0);
        let mut open = hot;
        let roast = settings(Bulb::Dry, 200.0, Steam::Off);
        let door = Drive {
            door_open: true,
            ..drive(Some(roast))
        };
        open.advance(60.0, &door, &RATES, false);
        hot.advance(60.0, &drive(None), &RATES, false);
        assert!(open.dry_c < hot.dry_c);
        assert!(!open.heating(&door));
    }

    #[test]
    fn the_probe_lags_toward_the_cavity() {
        let mut cavity = Cavity::new(20.0);
        cavity.dry_c = 100.0;
        let hold = drive(Some(settings(Bulb::Dry, 100.0, Steam::Off)));
        cavity.advance(600.0, &hold, &RATES, true);
        // One time constant: 63 % of the way from 4 to 100.
        assert!(
            (cavity.probe_c - (FRIDGE_C + 96.0 * 0.632)).abs() < 0.5,
            "{}",
            cavity.probe_c
        );
        let before = cavity.probe_c;
        cavity.advance(600.0, &hold, &RATES, false);
        assert_eq!(cavity.probe_c, before, "out of the food it does not move");
    }
}
