//! What every simulated cooker shares: its identity and physical state ([`Device`]), its alarms,
//! the stage the simulator reports for it, and the one interface both generations' state
//! machines implement ([`CookerMachine`]).

use crate::simulator::clock::{project, world_now};
use crate::simulator::thermal::{sensor_noise, WaterBath};
use crate::simulator::wire::client::ApcCommand;
use crate::simulator::wire::{round2, DeviceType, TemperatureUnit};
use serde::Serialize;
use std::fmt;
use time::OffsetDateTime;

/// The cookers' at-temperature window: a Gen 3 START builds its stage with an entry condition
/// of setpoint ±0.3 °C, on the stage and on its timer (`docs/anova-protocol.md` §5/§6.3, \[LIVE]:
/// the a7 cooking capture's `>= 54.17, <= 54.77` around 54.47). Gen 2 uses the same window
/// \[INF].
pub(crate) const AT_TEMPERATURE_WINDOW_C: f64 = 0.3;

/// True when the water is inside the window around `setpoint_c`.
pub(crate) fn in_window(water_c: f64, setpoint_c: f64) -> bool {
    (water_c - setpoint_c).abs() <= AT_TEMPERATURE_WINDOW_C + 1e-9
}

/// Where a simulated cooker is, as the simulator itself sees it (not a normaliser's reading of
/// the frames: this is the model the frames are rendered from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CookerStage {
    /// No cook.
    Idle,
    /// A cook runs and the water is not in the window yet.
    Preheating,
    /// At temperature; the timer (if any) counts down.
    Cooking,
    /// The timer ran out; the cooker keeps holding the temperature.
    Maintaining,
    /// An alarm replaced the reported mode (Gen 3 `state.mode`, Gen 2 `job.mode`).
    Alarm,
}

impl CookerStage {
    /// `idle`, `preheating`, `cooking`, `maintaining`, `alarm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Preheating => "preheating",
            Self::Cooking => "cooking",
            Self::Maintaining => "maintaining",
            Self::Alarm => "alarm",
        }
    }
}

impl fmt::Display for CookerStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alarm the simulator can raise on a cooker (`Fault::Alarm`).
///
/// How each one shows on the wire (`docs/anova-protocol.md` §6.3, §6.4; the heater stops for all
/// but the low-water warning):
///
/// | alarm | Gen 3 | Gen 2 |
/// |---|---|---|
/// | `LowWater` | `nodes.lowWater.warning` | `pin-info.water-level-low` |
/// | `WaterCritical` | `lowWater.empty` + `state.mode:lowWater` | `water-level-critical` + `job.mode:LOW WATER` |
/// | `WaterLeak` | `state.mode:waterLeak` | `water-leak` + `job.mode:DEVICE FAILURE` |
/// | `HighTemp` | `state.mode:highTemp` | `job.mode:HIGH TEMP` |
/// | `MotorStuck` | `state.mode:motorStuck` | `motor-stuck` + `job.mode:DEVICE FAILURE` |
/// | `TriacFailed` | `systemInfo.triacsFailed` | `job.mode:DEVICE FAILURE` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alarm {
    /// Water is low (a warning; the cook continues).
    LowWater,
    /// Water is critically low or empty.
    WaterCritical,
    /// A leak.
    WaterLeak,
    /// Over-temperature.
    HighTemp,
    /// The pump motor is stuck.
    MotorStuck,
    /// The heater triacs failed.
    TriacFailed,
}

impl Alarm {
    /// Every alarm.
    pub const ALL: [Alarm; 6] = [
        Alarm::LowWater,
        Alarm::WaterCritical,
        Alarm::WaterLeak,
        Alarm::HighTemp,
        Alarm::MotorStuck,
        Alarm::TriacFailed,
    ];
}

impl fmt::Display for Alarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LowWater => "low water",
            Self::WaterCritical => "water critical",
            Self::WaterLeak => "water leak",
            Self::HighTemp => "high temperature",
            Self::MotorStuck => "motor stuck",
            Self::TriacFailed => "triac failed",
        })
    }
}

/// The alarms currently raised on a cooker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Alarms {
    pub(crate) low_water: bool,
    pub(crate) water_critical: bool,
    pub(crate) water_leak: bool,
    pub(crate) high_temp: bool,
    pub(crate) motor_stuck: bool,
    pub(crate) triac_failed: bool,
}

impl Alarms {
    pub(crate) fn flag(&mut self, alarm: Alarm) -> &mut bool {
        match alarm {
            Alarm::LowWater => &mut self.low_water,
            Alarm::WaterCritical => &mut self.water_critical,
            Alarm::WaterLeak => &mut self.water_leak,
            Alarm::HighTemp => &mut self.high_temp,
            Alarm::MotorStuck => &mut self.motor_stuck,
            Alarm::TriacFailed => &mut self.triac_failed,
        }
    }

    /// Whether `alarm` is raised.
    pub(crate) fn is_raised(&self, alarm: Alarm) -> bool {
        *self.clone().flag(alarm)
    }

    /// The heater runs unless an alarm other than the low-water warning is raised.
    pub(crate) fn heater_allowed(&self) -> bool {
        !(self.water_critical
            || self.water_leak
            || self.high_temp
            || self.motor_stuck
            || self.triac_failed)
    }
}

/// What both generations share: identity, the simulated clock, the water, alarms, connection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Device {
    pub(crate) cooker_id: String,
    pub(crate) device_type: DeviceType,
    pub(crate) name: String,
    /// `pairedAt` (ISO 8601 with milliseconds).
    pub(crate) paired_at: String,
    pub(crate) firmware: String,
    /// Simulated seconds since the simulator started.
    pub(crate) clock_s: f64,
    pub(crate) water: WaterBath,
    pub(crate) alarms: Alarms,
    /// Phase of the sensor noise; `None` when noise is off.
    pub(crate) noise_phase: Option<f64>,
    /// Connected to the cloud (false while silent).
    pub(crate) online: bool,
    pub(crate) last_connected: OffsetDateTime,
    pub(crate) last_disconnected: OffsetDateTime,
    pub(crate) firmware_updated: OffsetDateTime,
    /// The simulated world's wall clock at simulated second 0 (see [`crate::simulator::clock`]).
    pub(crate) epoch: OffsetDateTime,
}

impl Device {
    /// The water temperature as the sensor reports it: hundredths, plus noise when enabled.
    pub(crate) fn reported_water_c(&self) -> f64 {
        let noise = self
            .noise_phase
            .map_or(0.0, |phase| sensor_noise(self.clock_s, phase));
        round2(self.water.temperature_c + noise)
    }

    /// The simulated world's wall clock now.
    pub(crate) fn world_now(&self) -> OffsetDateTime {
        world_now(self.epoch, self.clock_s)
    }

    /// Projects the simulated instant `at_s` onto the wall clock, given that the simulated now
    /// is the wall time `now` (see [`crate::simulator::clock`]).
    pub(crate) fn wall_time(&self, now: OffsetDateTime, at_s: f64) -> OffsetDateTime {
        project(now, self.clock_s, at_s)
    }
}

/// The one interface of a cooker generation's state machine. Pure: the owner ([`SimCooker`])
/// moves the clock and the water, then lets the machine react; nothing here reads a clock.
///
/// [`SimCooker`]: super::SimCooker
pub(crate) trait CookerMachine {
    /// The setpoint the heater works towards, while a cook runs.
    fn heating_target(&self) -> Option<f64>;

    /// Simulated seconds until the next timed transition (a timer running out), so a physics
    /// step can stop exactly there.
    fn next_deadline(&self, clock_s: f64) -> Option<f64>;

    /// Lets the cook react to the water and the clock. True when the stage changed (preheat
    /// done, timer started or done), which deserves a push.
    fn update(&mut self, clock_s: f64, water_c: f64) -> bool;

    /// Applies a command routed to this cooker. False when the device ignores it.
    fn apply(&mut self, command: &ApcCommand, request_id: &str, clock_s: f64, water_c: f64)
        -> bool;

    /// The stage, ignoring alarms.
    fn stage(&self) -> CookerStage;

    /// Whether these alarms replace the reported mode on this generation.
    fn alarm_replaces_mode(&self, alarms: &Alarms) -> bool;

    /// The target, °C (kept while idle).
    fn target_c(&self) -> f64;

    /// The timer length, seconds.
    fn timer_s(&self) -> u32;

    /// Timer seconds left, in simulated time.
    fn timer_remaining_s(&self, clock_s: f64) -> u32;

    /// The display unit.
    fn display_unit(&self) -> TemperatureUnit;

    /// Writes the `state` body of `EVENT_APC_STATE` as the cloud would push it at wall time
    /// `now`.
    fn write_state(
        &self,
        device: &Device,
        now: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_three_tenths() {
        assert!(in_window(54.17, 54.47));
        assert!(in_window(54.77, 54.47));
        assert!(!in_window(54.16, 54.47));
    }

    #[test]
    fn alarms_that_stop_the_heater() {
        let mut alarms = Alarms::default();
        *alarms.flag(Alarm::LowWater) = true;
        assert!(alarms.heater_allowed());
        assert!(alarms.is_raised(Alarm::LowWater));
        *alarms.flag(Alarm::TriacFailed) = true;
        assert!(!alarms.heater_allowed());
        assert_eq!(CookerStage::Maintaining.to_string(), "maintaining");
    }
}
