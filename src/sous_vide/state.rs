//! The normalised cooker model: whatever the generation, a cooker becomes one [`CookerState`]
//! in °C and whole seconds, with the fields of `docs/interface.md` §3.1.
//!
//! Normalisation is a pure function of the wire state, the time it was received, and the
//! previous normalised state of the same cooker. The previous state is needed for two things the
//! wire does not say: when a Gen 3 timer ended (the cloud drops `startedAtTimestamp` once the
//! timer completes), and keeping `cook_ends_at` steady when Gen 2 only reports a countdown.

use super::wire::{
    A3State, ApcState, Gen2State, Gen3Mode, Gen3State, JobMode, JobState, StageMode, TimerMode,
};
use crate::appliance::readings::{self, device_now, seconds, seconds_between, whole_seconds};
pub use crate::appliance::readings::{parse_timestamp, HvacAction};
use crate::wire::{DeviceType, TemperatureUnit};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// The app's "heating" hysteresis and the Gen 3 preheat window: ±0.3 °C around the target.
pub const AT_TEMPERATURE_WINDOW_C: f64 = 0.3;

/// Where a cook is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// No cook.
    Idle,
    /// Heating towards the target.
    Preheating,
    /// At temperature (timer counting, or no timer).
    Cooking,
    /// The timer ended; still holding the temperature.
    Maintaining,
    /// An alarm stopped the cook (low water, leak, over-temperature, stuck motor, failure).
    Alarm,
}

impl Stage {
    /// All stages, in the order Home Assistant lists them.
    pub const ALL: [Stage; 5] = [
        Stage::Idle,
        Stage::Preheating,
        Stage::Cooking,
        Stage::Maintaining,
        Stage::Alarm,
    ];

    /// The JSON text.
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

/// One cooker's state, normalised: °C, whole seconds, RFC 3339 UTC. Serialises to exactly the
/// JSON state of `docs/interface.md` §3.1; fields a model does not report are `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CookerState {
    /// A cook is running (any stage).
    pub cooking: bool,
    /// Derived stage.
    pub stage: Stage,
    /// For the climate entity.
    pub hvac_action: HvacAction,
    /// °C.
    pub water_temperature: Option<f64>,
    /// °C. While idle, the value the next start will use.
    pub target_temperature: Option<f64>,
    /// The unit shown on the cooker.
    pub display_unit: Option<TemperatureUnit>,
    /// The timer is counting down.
    pub timer_running: bool,
    /// Timer length in seconds; 0 = no timer.
    pub timer_total: u32,
    /// Seconds left.
    pub timer_remaining: u32,
    /// When the timer ends (or ended, while maintaining).
    #[serde(with = "time::serde::rfc3339::option")]
    pub cook_ends_at: Option<OffsetDateTime>,
    /// Seconds since the timer ended.
    pub time_maintaining: Option<u32>,
    /// Water is low.
    pub low_water: Option<bool>,
    /// Water is critically low.
    pub water_critical: Option<bool>,
    /// A leak.
    pub water_leak: Option<bool>,
    /// Over-temperature.
    pub high_temp: Option<bool>,
    /// The pump motor is stuck.
    pub motor_stuck: Option<bool>,
    /// The heater triacs failed.
    pub triac_failed: Option<bool>,
    /// Diagnostics, °C.
    pub heater_temperature: Option<f64>,
    /// Diagnostics, °C.
    pub triac_temperature: Option<f64>,
    /// The Anova `type`.
    pub model: String,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Availability: the bridge sets it from the link, the cooker's own flag and staleness.
    /// Normalisation starts it from the cooker's own flag.
    pub online: bool,
    /// The cooker's last push.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// What the cooker itself says about its cloud connection (`systemInfo.online`, A3
    /// `isConnected`); `None` for Gen 2, which has no such flag.
    #[serde(skip)]
    pub reported_online: Option<bool>,
    /// Gen 2: the device's millisecond tick at a wall time, which makes its tick a clock (Gen 2
    /// reports no timestamps). Never published.
    #[serde(skip)]
    pub(crate) clock_anchor: Option<ClockAnchor>,
}

/// A device tick (milliseconds since boot) seen at a wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockAnchor {
    wall: OffsetDateTime,
    tick_ms: i64,
}

/// How far behind our receipt a Gen 2 tick clock may fall before it is anchored again (a
/// reboot, a frozen tick, a slow crystal).
const TICK_CLOCK_SLACK: Duration = Duration::seconds(2);

/// The Gen 2 device's time now, from its tick: the anchor's wall time plus the ticks since,
/// anchored afresh at `received` when there is no usable anchor or the tick clock fell behind.
fn tick_clock(
    tick_ms: Option<i64>,
    received: OffsetDateTime,
    previous: Option<&CookerState>,
) -> (OffsetDateTime, Option<ClockAnchor>) {
    let Some(tick_ms) = tick_ms else {
        return (received, None);
    };
    let fresh = ClockAnchor {
        wall: received,
        tick_ms,
    };
    match previous.and_then(|p| p.clock_anchor) {
        Some(anchor) if tick_ms >= anchor.tick_ms => {
            let device = anchor
                .wall
                .checked_add(Duration::milliseconds(tick_ms - anchor.tick_ms));
            match device {
                Some(device) if device + TICK_CLOCK_SLACK >= received => {
                    (whole_seconds(device), Some(anchor))
                }
                _ => (received, Some(fresh)),
            }
        }
        _ => (received, Some(fresh)),
    }
}

/// Why a state could not be normalised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The body matched no known generation.
    #[error("state body of an unknown shape for device type {0:?}")]
    UnknownShape(String),
}

/// Heating when preheating, or when the water is below the target window.
fn hvac_action(cooking: bool, stage: Stage, water: Option<f64>, target: Option<f64>) -> HvacAction {
    if !cooking || stage == Stage::Alarm {
        return HvacAction::Off;
    }
    if stage == Stage::Preheating {
        return HvacAction::Heating;
    }
    match (water, target) {
        (Some(w), Some(t)) if w + AT_TEMPERATURE_WINDOW_C < t => HvacAction::Heating,
        _ => HvacAction::Idle,
    }
}

/// Keeps a previously published end time when the new estimate only wobbled.
fn steady_end(new: OffsetDateTime, previous: Option<&CookerState>) -> OffsetDateTime {
    readings::steady_end(new, previous.and_then(|p| p.cook_ends_at))
}

/// The end time of the timer that just completed, if we saw it running.
fn ended_at(previous: Option<&CookerState>) -> Option<OffsetDateTime> {
    previous.filter(|p| p.cooking).and_then(|p| p.cook_ends_at)
}

impl CookerState {
    /// Normalises one `EVENT_APC_STATE` body.
    ///
    /// `device_type` is the type the cloud gave (the state's own, else the device list's);
    /// `received_at` is when the frame arrived, used for countdowns; `previous` is this cooker's
    /// last normalised state, if any.
    pub fn from_wire(
        device_type: &DeviceType,
        state: &ApcState,
        received_at: OffsetDateTime,
        previous: Option<&CookerState>,
    ) -> Result<Self, ModelError> {
        let now = whole_seconds(received_at.to_offset(time::UtcOffset::UTC));
        let mut normalised = match state {
            ApcState::Gen3(s) => Self::from_gen3(s, now, previous),
            ApcState::Gen2(s) => Self::from_gen2(s, now, previous),
            ApcState::A3(s) => Self::from_a3(s, now, previous),
            ApcState::Unknown(_) => return Err(ModelError::UnknownShape(device_type.to_string())),
        };
        normalised.model = device_type.to_string();
        normalised.hvac_action = hvac_action(
            normalised.cooking,
            normalised.stage,
            normalised.water_temperature,
            normalised.target_temperature,
        );
        normalised.online = normalised.reported_online.unwrap_or(true);
        Ok(normalised)
    }

    /// An idle, online cooker at 21 °C with every alarm reported clear: a starting point for
    /// tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn idle_example(model: &str) -> Self {
        let now = time::macros::datetime!(2025-01-01 10:00:00 UTC);
        Self {
            water_temperature: Some(21.04),
            target_temperature: Some(56.0),
            display_unit: Some(TemperatureUnit::C),
            timer_total: 3600,
            low_water: Some(false),
            water_critical: Some(false),
            water_leak: Some(false),
            high_temp: Some(false),
            motor_stuck: Some(false),
            triac_failed: Some(false),
            model: model.into(),
            firmware: Some("01.01.25".into()),
            reported_online: Some(true),
            ..Self::blank(now)
        }
    }

    /// An empty state, filled in by the generation-specific readers.
    fn blank(now: OffsetDateTime) -> Self {
        Self {
            cooking: false,
            stage: Stage::Idle,
            hvac_action: HvacAction::Off,
            water_temperature: None,
            target_temperature: None,
            display_unit: None,
            timer_running: false,
            timer_total: 0,
            timer_remaining: 0,
            cook_ends_at: None,
            time_maintaining: None,
            low_water: None,
            water_critical: None,
            water_leak: None,
            high_temp: None,
            motor_stuck: None,
            triac_failed: None,
            heater_temperature: None,
            triac_temperature: None,
            model: String::new(),
            firmware: None,
            online: true,
            updated_at: now,
            reported_online: None,
            clock_anchor: None,
        }
    }

    fn from_gen3(s: &Gen3State, now: OffsetDateTime, previous: Option<&CookerState>) -> Self {
        let mut out = Self::blank(now);
        let status = s.state.as_ref();
        let nodes = s.nodes.as_ref();
        let mode = status.and_then(|st| st.mode.clone());
        let timer = nodes.and_then(|n| n.timer.as_ref());
        let sensor = nodes.and_then(|n| n.water_temperature_sensor.as_ref());

        let reported = s.updated_timestamp.as_deref().and_then(parse_timestamp);
        out.updated_at = reported.unwrap_or(now);
        // Remaining and maintaining times on the device's clock (see `device_now`).
        let now = device_now(now, reported);
        out.water_temperature = sensor.and_then(|w| w.current).and_then(|c| c.celsius);
        out.target_temperature = sensor
            .and_then(|w| w.setpoint)
            .and_then(|c| c.celsius)
            .or_else(|| {
                // The node setpoint is authoritative; the active stage's is a fallback.
                let cook = s.cook.as_ref()?;
                let index = usize::try_from(cook.active_stage_index.unwrap_or(0)).ok()?;
                cook.stages
                    .as_ref()?
                    .get(index)?
                    .action
                    .as_ref()?
                    .water_temperature_sensor
                    .as_ref()?
                    .setpoint?
                    .celsius
            });
        out.display_unit = status.and_then(|st| st.temperature_unit);

        let alarm = matches!(
            mode,
            Some(
                Gen3Mode::LowWater
                    | Gen3Mode::WaterLeak
                    | Gen3Mode::HighTemp
                    | Gen3Mode::MotorStuck
            )
        );
        out.cooking = match &mode {
            Some(Gen3Mode::Cook) => true,
            Some(Gen3Mode::Idle) => false,
            // An alarm or a mode we do not know: a cook exists while the `cook` object does.
            _ => s.cook.is_some(),
        };
        let timer_mode = timer.and_then(|t| t.mode.clone());
        let initial = seconds(timer.and_then(|t| t.initial).unwrap_or(0));
        out.timer_total = initial;
        let stage_mode = s.cook.as_ref().and_then(|c| c.active_stage_mode.clone());
        out.stage = if alarm {
            Stage::Alarm
        } else if !out.cooking {
            Stage::Idle
        } else if stage_mode == Some(StageMode::Entering) {
            Stage::Preheating
        } else if timer_mode == Some(TimerMode::Completed) {
            Stage::Maintaining
        } else {
            Stage::Cooking
        };

        let started = timer
            .and_then(|t| t.started_at_timestamp.as_deref())
            .and_then(parse_timestamp);
        match (out.cooking, timer_mode) {
            (true, Some(TimerMode::Running)) => {
                out.timer_running = true;
                match started {
                    Some(started) => {
                        let elapsed = seconds(seconds_between(started, now));
                        out.timer_remaining = initial.saturating_sub(elapsed);
                        out.cook_ends_at = Some(started + Duration::seconds(i64::from(initial)));
                    }
                    None => out.timer_remaining = initial,
                }
            }
            (true, Some(TimerMode::Completed)) => {
                out.timer_remaining = 0;
                out.cook_ends_at = ended_at(previous);
                out.time_maintaining = out
                    .cook_ends_at
                    .map(|end| seconds(seconds_between(end, now)));
            }
            (true, Some(TimerMode::Paused)) => {
                out.timer_remaining = previous.map_or(initial, |p| p.timer_remaining.min(initial));
            }
            // Preheating, or holding before the timer starts: the whole timer is still ahead.
            (true, _) => out.timer_remaining = initial,
            (false, _) => out.timer_remaining = 0,
        }

        let low_water = nodes.and_then(|n| n.low_water);
        let mode_known = mode
            .as_ref()
            .is_some_and(|m| !matches!(m, Gen3Mode::Unknown(_)));
        let flag = |m: Gen3Mode| mode_known.then(|| mode.as_ref() == Some(&m));
        let warning = low_water.and_then(|l| l.warning);
        let empty = low_water.and_then(|l| l.empty);
        out.low_water = match (warning, empty, flag(Gen3Mode::LowWater)) {
            (None, None, None) => None,
            (w, e, m) => Some(w.unwrap_or(false) || e.unwrap_or(false) || m.unwrap_or(false)),
        };
        out.water_critical = empty;
        out.water_leak = flag(Gen3Mode::WaterLeak);
        out.high_temp = flag(Gen3Mode::HighTemp);
        out.motor_stuck = flag(Gen3Mode::MotorStuck);

        let info = s.system_info.as_ref();
        out.triac_failed = info.and_then(|i| i.triacs_failed);
        out.firmware = info.and_then(|i| i.firmware_version.clone());
        out.reported_online = info.and_then(|i| i.online);
        out
    }

    fn from_gen2(s: &Gen2State, now: OffsetDateTime, previous: Option<&CookerState>) -> Self {
        // Gen 2 reports only countdowns: its tick is the clock that keeps end times steady and
        // on the same clock as `updated_at`, at any speed of a simulated world.
        let (now, anchor) = tick_clock(s.systick(), now, previous);
        let mut out = Self::blank(now);
        out.clock_anchor = anchor;
        let job = s.job.as_ref();
        let mode = job.and_then(|j| j.mode.clone());
        let job_state = s.job_status.as_ref().and_then(|j| j.state.clone());
        let remaining_raw = s.job_status.as_ref().and_then(|j| j.cook_time_remaining);

        out.water_temperature = s.temperature_info.and_then(|t| t.water_temperature);
        out.heater_temperature = s.temperature_info.and_then(|t| t.heater_temperature);
        out.triac_temperature = s.temperature_info.and_then(|t| t.triac_temperature);
        out.target_temperature = job.and_then(|j| j.target_temperature);
        out.display_unit = job.and_then(|j| j.temperature_unit);
        out.timer_total = seconds(job.and_then(|j| j.cook_time_seconds).unwrap_or(0));
        out.firmware = s.firmware_version().map(str::to_owned);

        let alarm = matches!(
            mode,
            Some(JobMode::LowWater | JobMode::HighTemp | JobMode::DeviceFailure)
        );
        let job_running = matches!(
            job_state,
            Some(
                JobState::Preheating
                    | JobState::Cooking
                    | JobState::Maintaining
                    | JobState::TimerExpired
            )
        );
        out.cooking = match &mode {
            Some(JobMode::Cook) => true,
            Some(JobMode::Unknown(_)) | None => job_running,
            Some(_) => alarm && job_running,
        };
        out.stage = if alarm {
            Stage::Alarm
        } else if !out.cooking {
            Stage::Idle
        } else {
            match job_state {
                Some(JobState::Preheating) => Stage::Preheating,
                Some(JobState::Maintaining | JobState::TimerExpired) => Stage::Maintaining,
                _ => Stage::Cooking,
            }
        };

        match out.stage {
            Stage::Preheating => {
                out.timer_remaining = remaining_raw
                    .map_or(out.timer_total, seconds)
                    .min(out.timer_total);
            }
            Stage::Cooking if out.timer_total > 0 => {
                let remaining = remaining_raw
                    .map_or(out.timer_total, seconds)
                    .min(out.timer_total);
                out.timer_running = true;
                out.timer_remaining = remaining;
                out.cook_ends_at = Some(steady_end(
                    now + Duration::seconds(i64::from(remaining)),
                    previous,
                ));
            }
            Stage::Maintaining => {
                // After expiry the "remaining" time counts back up: it is time spent maintaining.
                let maintaining = remaining_raw.map(seconds);
                out.time_maintaining = maintaining;
                out.cook_ends_at = ended_at(previous).or_else(|| {
                    maintaining.map(|m| steady_end(now - Duration::seconds(i64::from(m)), previous))
                });
            }
            _ => {}
        }

        let pins = s.pin_info;
        let pin = |value: Option<i64>| value.map(|v| v != 0);
        let with_mode = |pin: Option<bool>, in_mode: bool| match (pin, in_mode) {
            (Some(p), m) => Some(p || m),
            (None, true) => Some(true),
            (None, false) => None,
        };
        out.low_water = with_mode(
            pin(pins.and_then(|p| p.water_level_low)),
            mode == Some(JobMode::LowWater),
        );
        out.water_critical = pin(pins.and_then(|p| p.water_level_critical));
        out.water_leak = pin(pins.and_then(|p| p.water_leak));
        out.high_temp = with_mode(
            pin(pins.and_then(|p| p.water_temp_too_high)),
            mode == Some(JobMode::HighTemp),
        );
        out.motor_stuck = pin(pins.and_then(|p| p.motor_stuck));
        out
    }

    fn from_a3(s: &A3State, now: OffsetDateTime, previous: Option<&CookerState>) -> Self {
        let mut out = Self::blank(now);
        // A3 reports temperatures in its display unit.
        let unit = s
            .unit
            .as_deref()
            .or(s.current_job.as_ref().and_then(|j| j.temp_unit.as_deref()))
            .and_then(TemperatureUnit::parse)
            .unwrap_or(TemperatureUnit::C);
        out.display_unit = Some(unit);
        out.water_temperature = s.current_temperature.map(|t| unit.to_celsius(t));
        out.target_temperature = s
            .target_temperature
            .or(s.current_job.as_ref().and_then(|j| j.target_temperature))
            .map(|t| unit.to_celsius(t));
        out.cooking = s.is_cooking.unwrap_or(false);
        let job_stage = s
            .current_job
            .as_ref()
            .and_then(|j| j.job_stage.as_deref())
            .unwrap_or("")
            .to_ascii_lowercase();
        out.stage = if !out.cooking {
            Stage::Idle
        } else if s.is_keeping_warm == Some(true) || job_stage == "maintaining" {
            Stage::Maintaining
        } else if matches!(job_stage.as_str(), "heating" | "preheating") {
            Stage::Preheating
        } else {
            Stage::Cooking
        };
        out.timer_total = seconds(
            s.current_job
                .as_ref()
                .and_then(|j| j.timer_length)
                .unwrap_or(0),
        );
        out.timer_running = out.cooking && s.is_timer_running == Some(true);
        out.timer_remaining = seconds(s.timer_in_seconds.unwrap_or(0));
        if out.timer_running {
            let end = now + Duration::seconds(i64::from(out.timer_remaining));
            out.cook_ends_at = Some(steady_end(end, previous));
        }
        out.firmware = s.firmware_version.clone();
        out.reported_online = s.is_connected;
        out
    }

    /// The alarm flags other than low water, by name.
    pub fn alarms(&self) -> [(&'static str, Option<bool>); 5] {
        [
            ("water_critical", self.water_critical),
            ("water_leak", self.water_leak),
            ("high_temp", self.high_temp),
            ("motor_stuck", self.motor_stuck),
            ("triac_failed", self.triac_failed),
        ]
    }

    /// True when any alarm other than low water is raised.
    pub fn alarm_active(&self) -> bool {
        self.alarms()
            .into_iter()
            .any(|(_, flag)| flag == Some(true))
            || self.stage == Stage::Alarm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sous_vide::wire::ApcStateEvent;
    use crate::wire::Event;
    use time::macros::datetime;

    fn state_of(json: &str) -> ApcStateEvent {
        match Event::parse(json).unwrap() {
            Event::ApcState(s) => s,
            other => panic!("not a state: {other:?}"),
        }
    }

    fn normalise(json: &str, now: OffsetDateTime, previous: Option<&CookerState>) -> CookerState {
        let event = state_of(json);
        let device_type = event.device_type.clone().unwrap();
        CookerState::from_wire(&device_type, &event.state, now, previous).unwrap()
    }

    const GEN3_COMPLETED: &str = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":{
        "state":{"mode":"cook","temperatureUnit":"C"},
        "nodes":{"timer":{"mode":"completed","initial":600},"waterTemperatureSensor":{"current":{"celsius":60.0},"setpoint":{"celsius":60.0}}},
        "cook":{"activeStageMode":"running"},"systemInfo":{"online":true}}}}"#;

    #[test]
    fn gen3_maintaining_counts_from_the_end_we_saw() {
        let running = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":{
            "state":{"mode":"cook","temperatureUnit":"C"},
            "nodes":{"timer":{"mode":"running","initial":600,"startedAtTimestamp":"2025-01-01T10:00:00Z"},
                     "waterTemperatureSensor":{"current":{"celsius":60.0},"setpoint":{"celsius":60.0}}},
            "cook":{"activeStageMode":"running"},"systemInfo":{"online":true}}}}"#;
        let before = normalise(running, datetime!(2025-01-01 10:09:00 UTC), None);
        assert_eq!(before.stage, Stage::Cooking);
        assert_eq!(before.timer_remaining, 60);
        assert_eq!(
            before.cook_ends_at,
            Some(datetime!(2025-01-01 10:10:00 UTC))
        );

        let after = normalise(
            GEN3_COMPLETED,
            datetime!(2025-01-01 10:12:30 UTC),
            Some(&before),
        );
        assert_eq!(after.stage, Stage::Maintaining);
        assert_eq!(after.timer_remaining, 0);
        assert!(!after.timer_running);
        assert_eq!(after.cook_ends_at, Some(datetime!(2025-01-01 10:10:00 UTC)));
        assert_eq!(after.time_maintaining, Some(150));
        assert_eq!(after.hvac_action, HvacAction::Idle);
    }

    #[test]
    fn gen3_maintaining_without_history_is_unknown_time() {
        let state = normalise(GEN3_COMPLETED, datetime!(2025-01-01 10:12:30 UTC), None);
        assert_eq!(state.stage, Stage::Maintaining);
        assert_eq!(state.time_maintaining, None);
        assert_eq!(state.cook_ends_at, None);
    }

    #[test]
    fn gen3_alarm_mode_replaces_cook() {
        let json = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":{
            "state":{"mode":"lowWater","temperatureUnit":"C"},
            "nodes":{"lowWater":{"warning":true,"empty":true},"timer":{"mode":"idle","initial":0}},
            "cook":{"activeStageMode":"running"},"systemInfo":{"online":true,"triacsFailed":false}}}}"#;
        let state = normalise(json, datetime!(2025-01-01 10:00:00 UTC), None);
        assert_eq!(state.stage, Stage::Alarm);
        assert!(state.cooking);
        assert_eq!(state.hvac_action, HvacAction::Off);
        assert_eq!(state.low_water, Some(true));
        assert_eq!(state.water_critical, Some(true));
        assert_eq!(state.water_leak, Some(false));
        assert!(state.alarm_active());
    }

    #[test]
    fn gen2_maintaining_counts_up() {
        let json = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"P","type":"pro","state":{
            "job":{"mode":"COOK","target-temperature":60,"cook-time-seconds":3600,"temperature-unit":"F"},
            "job-status":{"state":"MAINTAINING","cook-time-remaining":125},
            "temperature-info":{"water-temperature":59.91},
            "pin-info":{"water-level-low":0,"water-temp-too-high":0}}}}"#;
        let state = normalise(json, datetime!(2025-01-01 10:00:00 UTC), None);
        assert_eq!(state.stage, Stage::Maintaining);
        assert_eq!(state.time_maintaining, Some(125));
        assert_eq!(state.timer_remaining, 0);
        assert_eq!(state.cook_ends_at, Some(datetime!(2025-01-01 09:57:55 UTC)));
        assert_eq!(state.display_unit, Some(TemperatureUnit::F));
        assert_eq!(state.target_temperature, Some(60.0));
        assert_eq!(state.high_temp, Some(false));
        assert_eq!(state.water_leak, None);
    }

    #[test]
    fn gen2_end_time_does_not_wobble() {
        let at = |remaining: i64| {
            format!(
                r#"{{"command":"EVENT_APC_STATE","payload":{{"cookerId":"P","type":"pro","state":{{
                "job":{{"mode":"COOK","target-temperature":60,"cook-time-seconds":3600}},
                "job-status":{{"state":"COOKING","cook-time-remaining":{remaining}}},
                "temperature-info":{{"water-temperature":60.0}}}}}}}}"#
            )
        };
        let first = normalise(&at(1000), datetime!(2025-01-01 10:00:00 UTC), None);
        // Two seconds later the device says 999 left: the estimate moved by one second.
        let second = normalise(&at(999), datetime!(2025-01-01 10:00:02 UTC), Some(&first));
        assert_eq!(second.cook_ends_at, first.cook_ends_at);
        assert_eq!(second.timer_remaining, 999);
        // A real change (the timer was changed) moves it.
        let third = normalise(&at(2000), datetime!(2025-01-01 10:00:04 UTC), Some(&second));
        assert_eq!(third.cook_ends_at, Some(datetime!(2025-01-01 10:33:24 UTC)));
    }

    #[test]
    fn gen2_low_water_mode_is_an_alarm() {
        let json = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"P","type":"pro","state":{
            "job":{"mode":"LOW WATER","target-temperature":60},
            "job-status":{"state":"COOKING"}}}}"#;
        let state = normalise(json, datetime!(2025-01-01 10:00:00 UTC), None);
        assert_eq!(state.stage, Stage::Alarm);
        assert_eq!(state.low_water, Some(true));
        assert!(state.cooking);
    }

    #[test]
    fn gen2_start_cook_after_boot_is_idle() {
        let json = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"P","type":"pro","state":{
            "job":{"mode":"IDLE","target-temperature":55},"job-status":{"state":"START_COOK"}}}}"#;
        let state = normalise(json, datetime!(2025-01-01 10:00:00 UTC), None);
        assert_eq!(state.stage, Stage::Idle);
        assert!(!state.cooking);
        assert_eq!(state.hvac_action, HvacAction::Off);
    }

    #[test]
    fn serialises_to_the_interface_fields() {
        let state = normalise(GEN3_COMPLETED, datetime!(2025-01-01 10:12:30.75 UTC), None);
        let json = serde_json::to_value(&state).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "cooking",
            "stage",
            "hvac_action",
            "water_temperature",
            "target_temperature",
            "display_unit",
            "timer_running",
            "timer_total",
            "timer_remaining",
            "cook_ends_at",
            "time_maintaining",
            "low_water",
            "water_critical",
            "water_leak",
            "high_temp",
            "motor_stuck",
            "triac_failed",
            "heater_temperature",
            "triac_temperature",
            "model",
            "firmware",
            "online",
            "updated_at",
        ];
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys_sorted, expected);
        assert_eq!(json["updated_at"], "2025-01-01T10:12:30Z");
        assert_eq!(json["display_unit"], "C");
        assert_eq!(json["stage"], "maintaining");
    }
}
