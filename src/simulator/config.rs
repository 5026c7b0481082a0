//! What the simulator can be told: [`SimulatorConfig`] and the specs of the paired devices.

#[cfg(doc)]
use super::thermal::ICE_WATER_C;
use super::thermal::{AMBIENT_C, MAX_ICE_RATIO, STANDARD_ICE_RATIO};
use super::wire::{DeviceType, TemperatureUnit};
use crate::secret::Secret;
use std::collections::HashSet;
use std::time::Duration;

/// How a connection with a bad or missing token is refused (`docs/anova-protocol.md` §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthFailureMode {
    /// HTTP 401 on the upgrade.
    #[default]
    #[value(name = "http401")]
    Http401,
    /// Accept the upgrade, then close at once with 1008 and no frames.
    #[value(name = "close")]
    CloseAfterUpgrade,
}

/// Everything the simulator can be told.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The accepted token; `None` accepts any token that starts with `anova-`.
    pub token: Option<Secret>,
    /// How bad tokens are refused.
    pub auth_failure: AuthFailureMode,
    /// Periodic state push of an idle cooker (the cloud: about 30 s).
    pub idle_push_interval: Duration,
    /// Periodic state push of a cooking cooker (the cloud: about 2 s).
    pub cooking_push_interval: Duration,
    /// Server WebSocket pings; zero disables them.
    pub ping_interval: Duration,
    /// How often the physics advance, real time.
    pub tick_interval: Duration,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Preheat rate, °C per simulated minute.
    pub preheat_rate_c_per_min: f64,
    /// Delay before each RESPONSE.
    pub response_delay: Duration,
    /// Answer `unauthorized` to the commands a personal access token may not send
    /// (`CMD_APC_SET_TARGET_TEMP`, `CMD_APC_SET_TIMER`, app-only oven commands).
    pub enforce_pat_allow_list: bool,
    /// A deterministic wobble of a few hundredths of a degree on reported water temperatures.
    pub noise: bool,
    /// Log every command at `info` (standalone use) rather than `debug`.
    pub log_commands: bool,
    /// How many received commands [`SimulatorHandle::commands`](super::SimulatorHandle::commands)
    /// keeps (the oldest are forgotten first), so a long soak cannot grow without bound.
    pub command_log_limit: usize,
    /// The paired cookers, in device-list order.
    pub cookers: Vec<SimCookerSpec>,
    /// A fleet of cooking cookers pushing at a fixed rate, after `cookers` in the device list
    /// (`anova2mqtt simulate --cookers N`).
    pub load: Option<LoadSpec>,
    /// The paired Precision Ovens, in device-list order (sent only to connections that ask for
    /// `APO`).
    pub ovens: Vec<SimOvenSpec>,
    /// The ovens' push cadence and physics.
    pub oven: OvenSettings,
}

impl Default for SimulatorConfig {
    /// The cloud's observed cadences, real time, noise on, and the demo pair of cookers.
    fn default() -> Self {
        Self {
            token: None,
            auth_failure: AuthFailureMode::Http401,
            idle_push_interval: Duration::from_secs(30),
            cooking_push_interval: Duration::from_secs(2),
            ping_interval: Duration::from_secs(30),
            tick_interval: Duration::from_millis(50),
            speed: 1.0,
            preheat_rate_c_per_min: 1.0,
            response_delay: Duration::from_millis(100),
            enforce_pat_allow_list: false,
            noise: true,
            log_commands: false,
            command_log_limit: 100_000,
            cookers: demo_cookers(),
            load: None,
            ovens: demo_ovens(),
            oven: OvenSettings::default(),
        }
    }
}

/// A configuration value the simulator cannot run with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A duration that must be positive is zero.
    #[error("{0} must be greater than zero")]
    ZeroDuration(&'static str),
    /// A factor that must be a positive number is not.
    #[error("{0} must be a positive number")]
    NotPositive(&'static str),
    /// `speed` above [`MAX_SPEED`].
    #[error("speed must be at most {MAX_SPEED}")]
    TooFast,
    /// A device spec is unusable.
    #[error(transparent)]
    Device(#[from] SpecError),
    /// The load fleet is empty or larger than [`MAX_LOAD_COOKERS`].
    #[error("the load generator runs 1 to {MAX_LOAD_COOKERS} cookers")]
    LoadSize,
}

/// The fastest simulation: a million simulated seconds (11 days) per real second, far beyond
/// any cook, while keeping every reported timestamp in range.
pub const MAX_SPEED: f64 = 1.0e6;

impl SimulatorConfig {
    /// The first cooker stands in an ice bath ([`STANDARD_ICE_RATIO`]: 1.5 kg of ice in 6 L of
    /// water) that warms towards the room: `simulate --ice-bath`, `demo --ice-bath`.
    pub fn with_ice_bath(mut self) -> Self {
        if let Some(first) = self.cookers.first_mut() {
            first.ice_ratio = STANDARD_ICE_RATIO;
        }
        self
    }

    /// Checks the values before anything starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("idle_push_interval", self.idle_push_interval),
            ("cooking_push_interval", self.cooking_push_interval),
            ("tick_interval", self.tick_interval),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        for (name, value) in [
            ("oven.v1_idle_push", self.oven.v1_idle_push),
            ("oven.v1_cooking_push", self.oven.v1_cooking_push),
            ("oven.v2_idle_push", self.oven.v2_idle_push),
            ("oven.v2_cooking_push", self.oven.v2_cooking_push),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        for (name, value) in [
            ("speed", self.speed),
            ("preheat_rate_c_per_min", self.preheat_rate_c_per_min),
            ("oven.heat_rate_c_per_min", self.oven.heat_rate_c_per_min),
            (
                "oven.probe_time_constant_s",
                self.oven.probe_time_constant_s,
            ),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(ConfigError::NotPositive(name));
            }
        }
        if self.speed > MAX_SPEED {
            return Err(ConfigError::TooFast);
        }
        if let Some(load) = &self.load {
            if load.push_interval.is_zero() {
                return Err(ConfigError::ZeroDuration("load.push_interval"));
            }
            if !(1..=MAX_LOAD_COOKERS).contains(&load.cookers) {
                return Err(ConfigError::LoadSize);
            }
        }
        let mut ids = HashSet::new();
        let load_ids = self.load.iter().flat_map(LoadSpec::specs);
        let oven_ids = self.ovens.iter().map(|o| o.cooker_id.clone());
        for id in self
            .cookers
            .iter()
            .cloned()
            .chain(load_ids)
            .map(|c| c.cooker_id)
            .chain(oven_ids)
        {
            if !ids.insert(id.clone()) {
                return Err(SpecError::Duplicate(id).into());
            }
        }
        Ok(())
    }
}

/// One simulated cooker, as paired at start.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCookerSpec {
    /// The cloud's `cookerId`.
    pub cooker_id: String,
    /// `a6`–`a9` (Gen 3) or `pro`, `a4`, `a5`, `honey-badger` (Gen 2).
    pub device_type: DeviceType,
    /// The name in the device list.
    pub name: String,
    /// `pairedAt`; `None` makes one up (30 days before the start).
    pub paired_at: Option<String>,
    /// Water temperature at start, °C.
    pub water_temperature_c: f64,
    /// Ice floating in the bath at start, kg per kg of water (0 to [`MAX_ICE_RATIO`]; 0.25 is
    /// 1.5 kg of ice in 6 L). Above 0 the cooker stands in an ice bath: its water starts at
    /// [`ICE_WATER_C`] whatever `water_temperature_c` says, stays there while the ice melts, then
    /// warms towards the room.
    pub ice_ratio: f64,
    /// The target kept from an earlier cook, °C.
    pub target_temperature_c: f64,
    /// The timer kept from an earlier cook, seconds.
    pub timer_s: u32,
    /// The unit the cooker displays.
    pub display_unit: TemperatureUnit,
    /// Firmware version.
    pub firmware: String,
    /// Starts unplugged: no pushes, and its cached state (18 hours old, `online:false` on
    /// Gen 3) at connect.
    pub silent: bool,
}

impl SimCookerSpec {
    /// A Precision Cooker 3.0 (`a7`), idle, water at room temperature.
    pub fn a7(cooker_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            cooker_id: cooker_id.into(),
            device_type: DeviceType::new("a7"),
            name: name.into(),
            paired_at: None,
            water_temperature_c: AMBIENT_C,
            ice_ratio: 0.0,
            target_temperature_c: 60.0,
            timer_s: 0,
            display_unit: TemperatureUnit::C,
            firmware: "01.01.25".to_owned(),
            silent: false,
        }
    }

    /// A Precision Cooker Pro (`pro`), idle, water at room temperature.
    pub fn pro(cooker_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            device_type: DeviceType::new("pro"),
            firmware: "3.3.01".to_owned(),
            ..Self::a7(cooker_id, name)
        }
    }
}

/// The demo pair: one `a7` and one `pro`.
pub fn demo_cookers() -> Vec<SimCookerSpec> {
    vec![
        SimCookerSpec::a7("a7demo000000000001", "Anova Precision Cooker 3.0"),
        SimCookerSpec::pro("prodemo00000000001", "Anova Precision Cooker Pro"),
    ]
}

/// The devices of `anova2mqtt simulate`: the demo's, under ids of their own (`a7simu…`,
/// `prosimu…`, `ovensimu…`, as long as the demo's). A daemon bridging `simulate` and
/// `anova2mqtt demo --mqtt` on one broker would otherwise share Home Assistant devices (their
/// ids come from the device id), and the demo removes its devices' discovery when it stops.
pub(crate) fn simulate_devices() -> (Vec<SimCookerSpec>, Vec<SimOvenSpec>) {
    let own = |id: &mut String| *id = id.replacen("demo", "simu", 1);
    let mut cookers = demo_cookers();
    cookers.iter_mut().for_each(|c| own(&mut c.cooker_id));
    let mut ovens = demo_ovens();
    ovens.iter_mut().for_each(|o| own(&mut o.cooker_id));
    (cookers, ovens)
}

/// Which Precision Oven (`docs/anova-oven.md` §1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum OvenGeneration {
    /// `oven_v1`, the Precision Oven 1.0.
    #[serde(rename = "oven_v1")]
    V1,
    /// `oven_v2`, the Precision Oven 2.0.
    #[serde(rename = "oven_v2")]
    V2,
}

impl OvenGeneration {
    /// The device `type`.
    pub fn device_type(self) -> DeviceType {
        DeviceType::new(match self {
            Self::V1 => "oven_v1",
            Self::V2 => "oven_v2",
        })
    }
}

/// One simulated Precision Oven, as paired at start.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOvenSpec {
    /// The cloud's `cookerId`.
    pub cooker_id: String,
    /// Which generation.
    pub generation: OvenGeneration,
    /// The name in the device list.
    pub name: String,
    /// `pairedAt`; `None` makes one up (30 days before the start).
    pub paired_at: Option<String>,
    /// Cavity temperature at start, °C.
    pub temperature_c: f64,
    /// The unit the oven displays.
    pub display_unit: TemperatureUnit,
    /// Firmware version.
    pub firmware: String,
    /// Starts unplugged: no pushes, and its cached state (`online:false`) at connect.
    pub silent: bool,
    /// Starts with the food probe plugged in (in food from the fridge, 4 °C).
    pub probe_connected: bool,
    /// A firmware update the cloud offers it, sent as `EVENT_APO_WIFI_FIRMWARE_UPDATE` after
    /// its state on every connect; `None`: no event.
    pub firmware_offer: Option<SimFirmwareOffer>,
}

/// A firmware update the cloud offers an oven (`EVENT_APO_WIFI_FIRMWARE_UPDATE`'s `ota`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFirmwareOffer {
    /// The offered version.
    pub version: String,
    /// The oven insists on it.
    pub required: bool,
    /// The release notes.
    pub description: String,
    /// The firmware image.
    pub url: String,
}

impl SimFirmwareOffer {
    /// The offer of the real capture: a Precision Oven 1.0 on 2.1.7 offered 2.1.8.
    pub fn captured_v1() -> Self {
        Self {
            version: "2.1.8".to_owned(),
            required: false,
            description: "2.1.8 - Prevent cooks when idle or NTC broken https://www.notion.so/anovaculinary/2-1-8-Prevent-cooks-when-idle-or-NTC-broken-5b6491b9e0d643478c5015f0a667a76a?pvs=4".to_owned(),
            url: "https://storage.googleapis.com/anova-app.appspot.com/oven-firmware/oven-controller-2.1.8.bin".to_owned(),
        }
    }
}

impl SimOvenSpec {
    /// A Precision Oven 1.0, idle and cold.
    pub fn v1(cooker_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            cooker_id: cooker_id.into(),
            generation: OvenGeneration::V1,
            name: name.into(),
            paired_at: None,
            temperature_c: AMBIENT_C,
            display_unit: TemperatureUnit::C,
            firmware: "2.1.7".to_owned(),
            silent: false,
            probe_connected: false,
            firmware_offer: None,
        }
    }

    /// The same oven, offered a firmware update.
    pub fn with_firmware_offer(self, offer: SimFirmwareOffer) -> Self {
        Self {
            firmware_offer: Some(offer),
            ..self
        }
    }

    /// A Precision Oven 2.0, idle and cold.
    pub fn v2(cooker_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            generation: OvenGeneration::V2,
            firmware: "11_225_1.4.2_01.01.26".to_owned(),
            ..Self::v1(cooker_id, name)
        }
    }
}

/// The demo's oven: one `oven_v2`, offered a firmware update so the demo shows one (the
/// version is made up in the v2 firmware's pattern; the notes are the real v1 offer's).
pub fn demo_ovens() -> Vec<SimOvenSpec> {
    vec![
        SimOvenSpec::v2("ovendemo0000000001", "Anova Precision Oven").with_firmware_offer(
            SimFirmwareOffer {
                version: "11_225_1.4.3_01.01.26".to_owned(),
                description: "1.4.3 - Prevent cooks when idle or NTC broken".to_owned(),
                ..SimFirmwareOffer::captured_v1()
            },
        ),
    ]
}

/// The ovens' push cadence (real time, like the cookers': tests set them short) and physics
/// (simulated time, scaled by `speed`).
#[derive(Debug, Clone, PartialEq)]
pub struct OvenSettings {
    /// `oven_v1` idle push (the cloud: about 30 s \[LIVE bogd]).
    pub v1_idle_push: Duration,
    /// `oven_v1` cooking push (about 2 s \[LIVE bogd]).
    pub v1_cooking_push: Duration,
    /// `oven_v2` idle push (about 10 minutes \[LIVE robdimsdale]).
    pub v2_idle_push: Duration,
    /// `oven_v2` cooking push (about 10 s \[LIVE robdimsdale]).
    pub v2_cooking_push: Duration,
    /// How fast the elements heat the controlling bulb, °C per simulated minute.
    pub heat_rate_c_per_min: f64,
    /// The food probe's time constant, simulated seconds (63 % of the way to the cavity).
    pub probe_time_constant_s: f64,
}

impl Default for OvenSettings {
    fn default() -> Self {
        Self {
            v1_idle_push: Duration::from_secs(30),
            v1_cooking_push: Duration::from_secs(2),
            v2_idle_push: Duration::from_secs(600),
            v2_cooking_push: Duration::from_secs(10),
            heat_rate_c_per_min: 15.0,
            probe_time_constant_s: 900.0,
        }
    }
}

/// The largest load fleet (its ids have six digits).
pub const MAX_LOAD_COOKERS: usize = 999_999;

/// The load generator (`anova2mqtt simulate --cookers N`): `cookers` cookers, all cooking at
/// 55 °C, each pushing its state every `push_interval` with a water temperature that moves
/// 0.2 °C at every push; the fleet's pushes are spread evenly over the interval. Their water
/// follows that waveform whatever they are told; commands are otherwise applied as usual.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    /// How many cookers (ids `LOAD000001`, `LOAD000002`, …).
    pub cookers: usize,
    /// Each cooker's push interval.
    pub push_interval: Duration,
    /// Which models the fleet has.
    pub model: LoadModel,
}

impl LoadSpec {
    /// `cookers` `a7`s pushing every second.
    pub fn a7(cookers: usize) -> Self {
        Self {
            cookers,
            push_interval: Duration::from_secs(1),
            model: LoadModel::A7,
        }
    }

    /// The id of the `index`-th (0-based) load cooker.
    pub fn cooker_id(index: usize) -> String {
        format!("LOAD{:06}", index + 1)
    }

    /// The fleet's cookers, in device-list order.
    pub fn specs(&self) -> impl Iterator<Item = SimCookerSpec> + '_ {
        (0..self.cookers).map(|i| {
            let id = Self::cooker_id(i);
            let name = format!("Load cooker {}", i + 1);
            match self.model {
                LoadModel::Pro => SimCookerSpec::pro(id, name),
                LoadModel::Mixed if i % 2 == 1 => SimCookerSpec::pro(id, name),
                LoadModel::A7 | LoadModel::Mixed => SimCookerSpec::a7(id, name),
            }
        })
    }
}

/// The models of a load fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LoadModel {
    /// Every cooker an `a7` (Gen 3).
    #[default]
    A7,
    /// Every cooker a `pro` (Gen 2).
    Pro,
    /// `a7` and `pro` alternating.
    Mixed,
}

/// Why a device spec cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// Cookers: Gen 3 (`a6`–`a9`) and Gen 2 (`a4`, `a5`, `pro`, `honey-badger`); ovens are
    /// [`SimOvenSpec`]s.
    #[error("cooker {cooker_id:?}: device type {device_type:?} is not simulated (use a6-a9, a4, a5, pro or honey-badger)")]
    UnsupportedType {
        /// The device.
        cooker_id: String,
        /// Its type.
        device_type: String,
    },
    /// The id is empty.
    #[error("a device needs a non-empty cookerId")]
    EmptyId,
    /// Two devices with one id.
    #[error("there is already a device {0:?}")]
    Duplicate(String),
    /// A temperature that is not a number.
    #[error("device {0:?}: temperatures must be finite numbers")]
    Temperature(String),
    /// An amount of ice outside 0 to [`MAX_ICE_RATIO`] kg per kg of water.
    #[error("cooker {0:?}: the ice must be 0 to {MAX_ICE_RATIO} kg per kg of water")]
    Ice(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_has_the_demo_pair() {
        let config = SimulatorConfig::default();
        assert_eq!(config.validate(), Ok(()));
        let types: Vec<&str> = config
            .cookers
            .iter()
            .map(|c| c.device_type.as_str())
            .collect();
        assert_eq!(types, ["a7", "pro"]);
        assert_eq!(config.cookers[0].cooker_id, "a7demo000000000001");
        assert_eq!(config.cookers[1].name, "Anova Precision Cooker Pro");
        assert_eq!(config.ovens[0].generation, OvenGeneration::V2);
        assert!(SimulatorConfig::for_tests(demo_cookers()).ovens.is_empty());
        let clash = SimulatorConfig {
            ovens: vec![SimOvenSpec::v1("a7demo000000000001", "oven")],
            ..config
        };
        assert!(clash.validate().is_err());
    }

    #[test]
    fn load_fleets() {
        let load = LoadSpec {
            model: LoadModel::Mixed,
            ..LoadSpec::a7(3)
        };
        let specs: Vec<_> = load.specs().collect();
        assert_eq!(specs[0].cooker_id, "LOAD000001");
        assert_eq!(specs[2].cooker_id, "LOAD000003");
        let types: Vec<&str> = specs.iter().map(|s| s.device_type.as_str()).collect();
        assert_eq!(types, ["a7", "pro", "a7"]);
        let config = SimulatorConfig {
            load: Some(load),
            ..SimulatorConfig::for_tests(demo_cookers())
        };
        assert_eq!(config.validate(), Ok(()));
        let clash = SimulatorConfig {
            cookers: vec![SimCookerSpec::a7("LOAD000002", "mine")],
            ..config.clone()
        };
        assert_eq!(
            clash.validate(),
            Err(SpecError::Duplicate("LOAD000002".into()).into())
        );
        for load in [LoadSpec::a7(0), LoadSpec::a7(MAX_LOAD_COOKERS + 1)] {
            let config = SimulatorConfig {
                load: Some(load),
                ..config.clone()
            };
            assert_eq!(config.validate(), Err(ConfigError::LoadSize));
        }
        let config = SimulatorConfig {
            load: Some(LoadSpec {
                push_interval: Duration::ZERO,
                ..LoadSpec::a7(1)
            }),
            ..config
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn unusable_values_are_refused() {
        let base = SimulatorConfig::for_tests(demo_cookers());
        let cases = [
            SimulatorConfig {
                tick_interval: Duration::ZERO,
                ..base.clone()
            },
            SimulatorConfig {
                speed: 0.0,
                ..base.clone()
            },
            SimulatorConfig {
                speed: f64::NAN,
                ..base.clone()
            },
            SimulatorConfig {
                speed: 1.0e9,
                ..base.clone()
            },
            SimulatorConfig {
                preheat_rate_c_per_min: -1.0,
                ..base.clone()
            },
            SimulatorConfig {
                cookers: vec![SimCookerSpec::a7("x", "a"), SimCookerSpec::pro("x", "b")],
                ..base.clone()
            },
        ];
        for config in cases {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}
