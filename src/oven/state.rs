//! The normalised oven: whatever the generation, an oven becomes one [`OvenState`] in °C and
//! whole seconds with the fields of `docs/interface.md` §5.1.
//!
//! Normalisation is a pure function of the wire body, the time it arrived and the oven's
//! previous normalised state (for a v1 end time that must not wobble, and a paused timer).
//! Rules the wire does not state:
//! - Setpoints and elements are shown only while a cook runs: a v1 oven keeps the last cook's
//!   setpoint and element flags while idle (`docs/anova-oven.md` §1.6).
//! - `stage` is `preheating` while the active stage waits for its entry condition (v2
//!   `activeStageMode: entering`) or is a v1 `preheat` stage.
//! - Stage numbers count the user's stages: a v1 preheat and its cook stage are one.

use super::wire::{
    ApoState, Bulb, BulbMode, CookV1, CookV2, Elements, NodesV1, NodesV2, OvenMode, OvenStatus,
    OvenV1State, OvenV2State, StageKindV1, StageModeV2, SteamGenerators, SteamMode, SystemInfo,
    Timer, TimerMode,
};
use crate::appliance::readings::{
    device_now, parse_timestamp, seconds, seconds_between, steady_end, utc_seconds, HvacAction,
};
use crate::wire::{DeviceType, TemperatureUnit};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// Below the target by more than this, the oven is heating (°C). An oven's bulbs swing by a
/// degree around the target while holding.
const HEATING_WINDOW_C: f64 = 1.0;

/// Where an oven cook is (`docs/interface.md` §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OvenStage {
    /// No cook.
    Idle,
    /// The active stage heats towards its entry condition.
    Preheating,
    /// The active stage runs.
    Cooking,
    /// Over-temperature or a failed part.
    Alarm,
}

impl OvenStage {
    /// Every stage, in the order Home Assistant lists them.
    pub const ALL: [OvenStage; 4] = [Self::Idle, Self::Preheating, Self::Cooking, Self::Alarm];

    /// The JSON text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Preheating => "preheating",
            Self::Cooking => "cooking",
            Self::Alarm => "alarm",
        }
    }
}

/// Which bulb a cook controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TemperatureMode {
    /// The dry bulb: an ordinary oven.
    Dry,
    /// The wet bulb: sous vide.
    Wet,
}

impl TemperatureMode {
    /// The JSON text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dry => "dry",
            Self::Wet => "wet",
        }
    }

    /// The wire's bulb mode.
    pub fn bulb(self) -> BulbMode {
        match self {
            Self::Dry => BulbMode::Dry,
            Self::Wet => BulbMode::Wet,
        }
    }
}

/// What the steam generators do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SteamControl {
    /// No steam.
    Off,
    /// Humidity control, below 100 °C.
    RelativeHumidity,
    /// A share of steam, from 100 °C.
    SteamPercentage,
}

/// One oven's state, normalised: °C, whole seconds, RFC 3339 UTC; `null` where the oven does
/// not report a field. Serialises to exactly the JSON state on `<base>/<id>/state`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OvenState {
    /// A cook runs (any stage).
    pub cooking: bool,
    /// Derived stage.
    pub stage: OvenStage,
    /// For the climate entity.
    pub hvac_action: HvacAction,
    /// The bulb the cook controls (the oven's mode while idle).
    pub temperature_mode: Option<TemperatureMode>,
    /// The controlling bulb's reading, °C.
    pub temperature: Option<f64>,
    /// The controlling bulb's target, °C; while idle, what the next start uses.
    pub target_temperature: Option<f64>,
    /// Dry bulb, °C.
    pub dry_temperature: Option<f64>,
    /// Wet bulb, °C.
    pub wet_temperature: Option<f64>,
    /// Sensor by the top element, °C.
    pub top_temperature: Option<f64>,
    /// Sensor by the bottom element, °C.
    pub bottom_temperature: Option<f64>,
    /// What the steam generators do.
    pub steam_mode: Option<SteamControl>,
    /// Relative humidity, % (live even without steam).
    pub humidity: Option<f64>,
    /// Steam target of the running cook, %.
    pub steam_target: Option<f64>,
    /// The probe is plugged in.
    pub probe_connected: Option<bool>,
    /// The probe's reading, °C (`null` while unplugged).
    pub probe_temperature: Option<f64>,
    /// The probe target that ends the stage, °C.
    pub probe_target: Option<f64>,
    /// Top element on.
    pub element_top: Option<bool>,
    /// Bottom element on.
    pub element_bottom: Option<bool>,
    /// Rear element on.
    pub element_rear: Option<bool>,
    /// The elements the running stage asks for (its cook's echo), whatever the live flags
    /// show: an oven switches them all off while its door is open. Not published; a change to
    /// a running cook keeps them.
    #[serde(skip)]
    pub stage_elements: Option<Elements>,
    /// The fan speed the running stage asks for (its cook's echo), 0–100: an oven shows its
    /// fan off while its door is open. Not published; a change to a running cook keeps it.
    #[serde(skip)]
    pub stage_fan: Option<u8>,
    /// Convection fan, 0–100.
    pub fan_speed: Option<u8>,
    /// The door is open.
    pub door_open: Option<bool>,
    /// The vent is open.
    pub vent_open: Option<bool>,
    /// The oven light is on.
    pub lamp_on: Option<bool>,
    /// The water tank is empty.
    pub water_tank_empty: Option<bool>,
    /// The water tank is low (v2).
    pub water_tank_low: Option<bool>,
    /// The water tank is out (v2).
    pub water_tank_removed: Option<bool>,
    /// The waste-water tank is full (v2).
    pub waste_water_tank_full: Option<bool>,
    /// The running stage, 1-based.
    pub stage_index: Option<u32>,
    /// How many stages the cook has.
    pub stage_count: Option<u32>,
    /// The running stage's title.
    pub stage_title: Option<String>,
    /// The timer counts down.
    pub timer_running: bool,
    /// The running stage's timer, seconds; 0 = none.
    pub timer_total: u32,
    /// Seconds left.
    pub timer_remaining: u32,
    /// When the timer ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub cook_ends_at: Option<OffsetDateTime>,
    /// The id of the running cook.
    pub cook_id: Option<String>,
    /// The camera sees food in the cavity (v2).
    pub food_detected: Option<bool>,
    /// Steam boiler, °C.
    pub boiler_temperature: Option<f64>,
    /// The boiler needs descaling.
    pub descale_required: Option<bool>,
    /// The cavity overheated (v2).
    pub cavity_overheated: Option<bool>,
    /// The unit on the oven's display.
    pub display_unit: Option<TemperatureUnit>,
    /// The Anova `type`.
    pub model: String,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Availability (set by the bridge).
    pub online: bool,
    /// The oven's last push.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The oven's own connection flag.
    #[serde(skip)]
    pub reported_online: Option<bool>,
    /// The running stage's timer ran out.
    #[serde(skip)]
    pub timer_completed: bool,
    /// Every stage id of the running cook, as the oven echoes them.
    #[serde(skip)]
    pub stage_ids: Vec<String>,
}

/// Why a body could not be normalised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OvenStateError {
    /// Neither generation's shape.
    #[error("oven state body of an unknown shape for device type {0:?}")]
    UnknownShape(String),
}

/// The readings of one bulb, °C.
fn bulb_c(bulb: Option<&Bulb>) -> Option<f64> {
    bulb?.current?.to_celsius()
}

fn setpoint_c(bulb: Option<&Bulb>) -> Option<f64> {
    bulb?.setpoint?.to_celsius()
}

/// What both generations fill the same way.
struct Common<'a> {
    status: Option<&'a OvenStatus>,
    info: Option<&'a SystemInfo>,
    updated: Option<&'a str>,
    bulbs: Option<&'a super::wire::TemperatureBulbs>,
    steam: Option<&'a SteamGenerators>,
    elements: Option<&'a super::wire::HeatingElements>,
    fan: Option<&'a super::wire::Fan>,
    probe: Option<&'a super::wire::Probe>,
    door: Option<&'a super::wire::Door>,
    water: Option<&'a super::wire::Tank>,
    timer: Option<&'a Timer>,
}

impl OvenState {
    /// Normalises one `EVENT_APO_STATE` body.
    pub fn from_wire(
        device_type: &DeviceType,
        state: &ApoState,
        received_at: OffsetDateTime,
        previous: Option<&OvenState>,
    ) -> Result<Self, OvenStateError> {
        let now = utc_seconds(received_at);
        let mut out = match state {
            ApoState::V1(s) => Self::from_v1(s, now, previous),
            ApoState::V2(s) => Self::from_v2(s, now, previous),
            ApoState::Unknown => return Err(OvenStateError::UnknownShape(device_type.to_string())),
        };
        out.model = device_type.to_string();
        out.hvac_action = match (out.stage, out.temperature, out.target_temperature) {
            (OvenStage::Idle | OvenStage::Alarm, ..) => HvacAction::Off,
            (OvenStage::Preheating, ..) => HvacAction::Heating,
            (_, Some(t), Some(target)) if t + HEATING_WINDOW_C < target => HvacAction::Heating,
            _ => HvacAction::Idle,
        };
        out.online = out.reported_online.unwrap_or(true);
        Ok(out)
    }

    /// An idle, online oven at 21 °C: a starting point for tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn idle_example(model: &str) -> Self {
        Self {
            temperature_mode: Some(TemperatureMode::Dry),
            temperature: Some(21.0),
            dry_temperature: Some(21.0),
            wet_temperature: Some(20.5),
            door_open: Some(false),
            water_tank_empty: Some(false),
            display_unit: Some(TemperatureUnit::C),
            model: model.into(),
            firmware: Some("2.1.7".into()),
            reported_online: Some(true),
            ..Self::blank(time::macros::datetime!(2025-01-01 10:00:00 UTC))
        }
    }

    /// An empty idle state.
    fn blank(now: OffsetDateTime) -> Self {
        Self {
            cooking: false,
            stage: OvenStage::Idle,
            hvac_action: HvacAction::Off,
            temperature_mode: None,
            temperature: None,
            target_temperature: None,
            dry_temperature: None,
            wet_temperature: None,
            top_temperature: None,
            bottom_temperature: None,
            steam_mode: None,
            humidity: None,
            steam_target: None,
            probe_connected: None,
            probe_temperature: None,
            probe_target: None,
            element_top: None,
            element_bottom: None,
            element_rear: None,
            stage_elements: None,
            stage_fan: None,
            fan_speed: None,
            door_open: None,
            vent_open: None,
            lamp_on: None,
            water_tank_empty: None,
            water_tank_low: None,
            water_tank_removed: None,
            waste_water_tank_full: None,
            stage_index: None,
            stage_count: None,
            stage_title: None,
            timer_running: false,
            timer_total: 0,
            timer_remaining: 0,
            cook_ends_at: None,
            cook_id: None,
            food_detected: None,
            boiler_temperature: None,
            descale_required: None,
            cavity_overheated: None,
            display_unit: None,
            model: String::new(),
            firmware: None,
            online: true,
            updated_at: now,
            reported_online: None,
            timer_completed: false,
            stage_ids: Vec::new(),
        }
    }

    /// The fields both generations report alike; `cooking` must be set first.
    fn fill_common(&mut self, c: &Common<'_>, now: OffsetDateTime) {
        self.updated_at = c.updated.and_then(parse_timestamp).unwrap_or(now);
        self.display_unit = c.status.and_then(|s| s.temperature_unit);
        self.cavity_overheated = c.status.and_then(|s| s.cavity_overheated);
        self.firmware = c.info.and_then(|i| i.firmware_version.clone());
        self.reported_online = c.info.and_then(|i| i.online);

        let mode = match c.bulbs.and_then(|b| b.mode.clone()) {
            Some(BulbMode::Wet) => Some(TemperatureMode::Wet),
            Some(BulbMode::Dry) => Some(TemperatureMode::Dry),
            _ => None,
        };
        self.temperature_mode = mode;
        let dry = c.bulbs.and_then(|b| b.dry.as_ref());
        let wet = c.bulbs.and_then(|b| b.wet.as_ref());
        self.dry_temperature = bulb_c(dry);
        self.wet_temperature = bulb_c(wet);
        self.top_temperature = bulb_c(c.bulbs.and_then(|b| b.dry_top.as_ref()));
        self.bottom_temperature = bulb_c(c.bulbs.and_then(|b| b.dry_bottom.as_ref()));
        let controlling = match mode {
            Some(TemperatureMode::Wet) => wet,
            _ => dry,
        };
        self.temperature = bulb_c(controlling);
        // A v1 oven keeps the last cook's setpoint while idle: only a running cook has one.
        self.target_temperature = if self.cooking {
            setpoint_c(controlling)
        } else {
            None
        };

        let steam = c.steam;
        self.steam_mode = steam.and_then(|s| s.mode.as_ref()).map(|m| match m {
            SteamMode::RelativeHumidity => SteamControl::RelativeHumidity,
            SteamMode::SteamPercentage => SteamControl::SteamPercentage,
            _ => SteamControl::Off,
        });
        self.humidity = steam
            .and_then(|s| s.relative_humidity)
            .and_then(|h| h.current);
        if self.cooking {
            self.steam_target = match self.steam_mode {
                Some(SteamControl::RelativeHumidity) => steam
                    .and_then(|s| s.relative_humidity)
                    .and_then(|h| h.setpoint),
                Some(SteamControl::SteamPercentage) => steam
                    .and_then(|s| s.steam_percentage)
                    .and_then(|h| h.setpoint),
                _ => None,
            };
        }
        let boiler = steam.and_then(|s| s.boiler);
        self.boiler_temperature = boiler.and_then(|b| b.celsius);
        self.descale_required = boiler.and_then(|b| b.descale_required);

        let probe = c.probe;
        self.probe_connected = probe.and_then(|p| p.connected);
        if self.probe_connected == Some(true) {
            self.probe_temperature = probe.and_then(|p| p.current).and_then(|r| r.to_celsius());
            if self.cooking {
                self.probe_target = probe.and_then(|p| p.setpoint).and_then(|r| r.to_celsius());
            }
        }

        let elements = c.elements;
        // A v1 oven keeps the last cook's element flags while idle: nothing heats then.
        let on =
            |e: Option<super::wire::Element>| e.and_then(|e| e.on).map(|on| on && self.cooking);
        self.element_top = on(elements.and_then(|e| e.top));
        self.element_bottom = on(elements.and_then(|e| e.bottom));
        self.element_rear = on(elements.and_then(|e| e.rear));
        self.fan_speed = c
            .fan
            .and_then(|f| f.speed.as_ref())
            .and_then(|s| s.percent());
        self.door_open = c.door.and_then(|d| d.closed).map(|closed| !closed);
        self.water_tank_empty = c.water.and_then(|w| w.empty);
        self.water_tank_low = c.water.and_then(|w| w.low);
        self.water_tank_removed = c.water.and_then(|w| w.removed);

        let failed = |flag: Option<bool>| flag == Some(true);
        let part_failed = elements.is_some_and(|e| {
            [e.top, e.bottom, e.rear]
                .iter()
                .any(|x| failed(x.and_then(|x| x.failed)))
        }) || failed(c.fan.and_then(|f| f.failed))
            || failed(boiler.and_then(|b| b.failed))
            || failed(c.info.and_then(|i| i.triacs_failed));
        if failed(self.cavity_overheated) || part_failed {
            self.stage = OvenStage::Alarm;
        }
    }

    fn cooking_of(status: Option<&OvenStatus>, has_cook: bool) -> bool {
        match status.and_then(|s| s.mode.as_ref()) {
            Some(OvenMode::Cook) => true,
            Some(OvenMode::Idle | OvenMode::Descale) => false,
            _ => has_cook,
        }
    }

    fn from_v2(s: &OvenV2State, now: OffsetDateTime, previous: Option<&OvenState>) -> Self {
        let mut out = Self::blank(now);
        let nodes: Option<&NodesV2> = s.nodes.as_ref();
        out.cooking = Self::cooking_of(s.state.as_ref(), s.cook.is_some());
        let common = Common {
            status: s.state.as_ref(),
            info: s.system_info.as_ref(),
            updated: s.updated_timestamp.as_deref(),
            bulbs: nodes.and_then(|n| n.temperature_bulbs.as_ref()),
            steam: nodes.and_then(|n| n.steam_generators.as_ref()),
            elements: nodes.and_then(|n| n.heating_elements.as_ref()),
            fan: nodes.and_then(|n| n.fan.as_ref()),
            probe: nodes.and_then(|n| n.temperature_probe.as_ref()),
            door: nodes.and_then(|n| n.door.as_ref()),
            water: nodes.and_then(|n| n.water_tank.as_ref()),
            timer: nodes.and_then(|n| n.timer.as_ref()),
        };
        out.fill_common(&common, now);
        out.vent_open = nodes
            .and_then(|n| n.exhaust_vent.as_ref())
            .and_then(|v| v.state.as_ref())
            .map(|state| state != &super::wire::VentState::Closed);
        out.lamp_on = nodes
            .and_then(|n| n.door_lamp.or(n.cavity_lamp))
            .and_then(|l| l.on);
        out.waste_water_tank_full = nodes.and_then(|n| n.waste_water_tank).and_then(|t| t.full);
        out.food_detected = nodes
            .and_then(|n| n.cavity_camera)
            .filter(|c| c.enabled != Some(false))
            .and_then(|c| c.is_empty)
            .map(|empty| !empty);
        if out.cooking {
            if let Some(cook) = &s.cook {
                out.read_cook_v2(cook);
            }
            // Remaining times on the oven's clock (see `device_now`).
            let clock = device_now(now, common.updated.and_then(parse_timestamp));
            out.read_timer(common.timer, clock, previous, TimerClock::StartedAt);
        }
        out
    }

    fn read_cook_v2(&mut self, cook: &CookV2) {
        let stages = cook.stages.as_deref().unwrap_or_default();
        self.cook_id = cook.cook_id.clone();
        self.stage_ids = stages.iter().filter_map(|s| s.id.clone()).collect();
        let active = active_index(
            cook.active_stage_index,
            cook.active_stage_id.as_deref(),
            stages.iter().map(|s| s.id.as_deref()),
        );
        self.stage_count = u32::try_from(stages.len()).ok().filter(|n| *n > 0);
        self.stage_index = active.and_then(|i| u32::try_from(i + 1).ok());
        let stage = active.and_then(|i| stages.get(i));
        let action = stage.and_then(|s| s.action.as_ref());
        self.stage_elements = action
            .and_then(|d| d.heating_elements)
            .and_then(|e| e.configured());
        self.stage_fan = action
            .and_then(|d| d.fan.as_ref())
            .and_then(|f| f.speed.as_ref())
            .and_then(|s| s.percent());
        self.stage_title = stage
            .and_then(|s| s.title.clone())
            .filter(|t| !t.trim().is_empty());
        if self.probe_target.is_none() && self.probe_connected == Some(true) {
            self.probe_target = stage
                .and_then(|s| s.action.as_ref())
                .and_then(|d| d.temperature_probe)
                .and_then(|p| p.setpoint)
                .and_then(|r| r.to_celsius());
        }
        if self.stage != OvenStage::Alarm {
            self.stage = if cook.active_stage_mode == Some(StageModeV2::Entering) {
                OvenStage::Preheating
            } else {
                OvenStage::Cooking
            };
        }
    }

    fn from_v1(s: &OvenV1State, now: OffsetDateTime, previous: Option<&OvenState>) -> Self {
        let mut out = Self::blank(now);
        let nodes: Option<&NodesV1> = s.nodes.as_ref();
        out.cooking = Self::cooking_of(s.state.as_ref(), s.cook.is_some());
        let common = Common {
            status: s.state.as_ref(),
            info: s.system_info.as_ref(),
            updated: s.updated_timestamp.as_deref(),
            bulbs: nodes.and_then(|n| n.temperature_bulbs.as_ref()),
            steam: nodes.and_then(|n| n.steam_generators.as_ref()),
            elements: nodes.and_then(|n| n.heating_elements.as_ref()),
            fan: nodes.and_then(|n| n.fan.as_ref()),
            probe: nodes.and_then(|n| n.temperature_probe.as_ref()),
            door: nodes.and_then(|n| n.door.as_ref()),
            water: nodes.and_then(|n| n.water_tank.as_ref()),
            timer: nodes.and_then(|n| n.timer.as_ref()),
        };
        out.fill_common(&common, now);
        out.vent_open = nodes.and_then(|n| n.vent).and_then(|v| v.open);
        out.lamp_on = nodes.and_then(|n| n.lamp).and_then(|l| l.on);
        if out.cooking {
            if let Some(cook) = &s.cook {
                out.read_cook_v1(cook);
            }
            // Remaining times on the oven's clock (see `device_now`).
            let clock = device_now(now, common.updated.and_then(parse_timestamp));
            out.read_timer(common.timer, clock, previous, TimerClock::Elapsed);
        }
        out
    }

    fn read_cook_v1(&mut self, cook: &CookV1) {
        let stages = cook.stages.as_deref().unwrap_or_default();
        self.cook_id = cook.cook_id.clone();
        self.stage_ids = stages.iter().filter_map(|s| s.id.clone()).collect();
        let active = active_index(
            cook.active_stage_index,
            cook.active_stage_id.as_deref(),
            stages.iter().map(|s| s.id.as_deref()),
        );
        let is_preheat = |s: &super::wire::StageV1| s.kind == Some(StageKindV1::Preheat);
        // A preheat and the cook stage after it are one stage for the user.
        let user_stages = stages.iter().filter(|s| !is_preheat(s)).count();
        self.stage_count = u32::try_from(user_stages).ok().filter(|n| *n > 0);
        if let Some(i) = active {
            let before = stages.iter().take(i).filter(|s| !is_preheat(s)).count();
            self.stage_index = u32::try_from(before + 1).ok();
            let stage = stages.get(i);
            self.stage_elements = stage
                .and_then(|s| s.heating_elements)
                .and_then(|e| e.configured());
            // A preheat's fan is the oven's 100; the cook stage after it has the stage's own.
            self.stage_fan = stages
                .iter()
                .skip(i)
                .find(|s| !is_preheat(s))
                .and_then(|s| s.fan.as_ref())
                .and_then(|f| f.speed.as_ref())
                .and_then(|s| s.percent());
            let titled =
                |s: &super::wire::StageV1| s.title.clone().filter(|t| !t.trim().is_empty());
            let own_title = stage.and_then(titled);
            let cook_title = stages
                .iter()
                .skip(i)
                .find(|s| !is_preheat(s))
                .and_then(titled);
            // The app titles a pair on its preheat and sends "" on the cook stage.
            let preheat_title = i
                .checked_sub(1)
                .and_then(|before| stages.get(before))
                .filter(|s| is_preheat(s) && !stage.is_some_and(is_preheat))
                .and_then(titled);
            self.stage_title = own_title.or(cook_title).or(preheat_title);
            if self.probe_target.is_none() && self.probe_connected == Some(true) {
                // The cook stage carries the probe target; a preheat's is on the stage after it.
                self.probe_target = stages
                    .iter()
                    .skip(i)
                    .find(|s| !is_preheat(s))
                    .and_then(|s| s.temperature_probe)
                    .and_then(|p| p.setpoint)
                    .and_then(|r| r.to_celsius());
            }
            if self.stage != OvenStage::Alarm {
                self.stage = if stage.is_some_and(is_preheat) {
                    OvenStage::Preheating
                } else {
                    OvenStage::Cooking
                };
            }
        } else if self.stage != OvenStage::Alarm {
            self.stage = OvenStage::Cooking;
        }
    }

    /// The running stage's timer.
    fn read_timer(
        &mut self,
        timer: Option<&Timer>,
        now: OffsetDateTime,
        previous: Option<&OvenState>,
        clock: TimerClock,
    ) {
        if self.stage == OvenStage::Idle && !self.cooking {
            return;
        }
        let Some(timer) = timer else { return };
        let initial = seconds(timer.initial.unwrap_or(0));
        self.timer_total = initial;
        match timer.mode {
            Some(TimerMode::Running) => {
                self.timer_running = true;
                match clock {
                    TimerClock::StartedAt => {
                        let started = timer
                            .started_at_timestamp
                            .as_deref()
                            .and_then(parse_timestamp);
                        match started {
                            Some(started) => {
                                let elapsed = seconds(seconds_between(started, now));
                                self.timer_remaining = initial.saturating_sub(elapsed);
                                self.cook_ends_at =
                                    Some(started + Duration::seconds(i64::from(initial)));
                            }
                            None => self.timer_remaining = initial,
                        }
                    }
                    TimerClock::Elapsed => {
                        let elapsed = seconds(timer.current.unwrap_or(0));
                        self.timer_remaining = initial.saturating_sub(elapsed);
                        let end = now + Duration::seconds(i64::from(self.timer_remaining));
                        self.cook_ends_at =
                            Some(steady_end(end, previous.and_then(|p| p.cook_ends_at)));
                    }
                }
            }
            Some(TimerMode::Completed) => {
                self.timer_remaining = 0;
                self.timer_completed = true;
            }
            Some(TimerMode::Paused) => {
                self.timer_remaining = match (clock, timer.current) {
                    (TimerClock::Elapsed, Some(elapsed)) => {
                        initial.saturating_sub(seconds(elapsed))
                    }
                    _ => previous.map_or(initial, |p| p.timer_remaining.min(initial)),
                };
            }
            // Waiting for its start condition: the whole timer is still ahead.
            _ => self.timer_remaining = initial,
        }
    }
}

/// How a generation's timer says how far it is.
#[derive(Debug, Clone, Copy)]
enum TimerClock {
    /// v2: `startedAtTimestamp`.
    StartedAt,
    /// v1: `current`, the seconds elapsed.
    Elapsed,
}

/// The active stage: by index when it is in range, else by id.
fn active_index<'a>(
    index: Option<i64>,
    id: Option<&str>,
    ids: impl Iterator<Item = Option<&'a str>>,
) -> Option<usize> {
    let ids: Vec<Option<&str>> = ids.collect();
    index
        .and_then(|i| usize::try_from(i).ok())
        .filter(|i| *i < ids.len())
        .or_else(|| id.and_then(|id| ids.iter().position(|s| *s == Some(id))))
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
