//! The Gen 3 cooker (`a6`–`a9`, modelled on the `a7`): the state machine of
//! `anova-protocol.md` §6.3 and its `SousVideState` rendering, shaped like the real captures
//! `EVENT_APC_STATE.a7.idle.real.json` and `EVENT_APC_STATE.a7.cooking.real.json`.
//!
//! Pure: no clock, no I/O. The owner advances the simulated clock, moves the water, then calls
//! [`Gen3Machine::update`] to let the stage and timer react.
//!
//! Provenance of the behaviour (\[LIVE] observed on real devices, \[INF] our inference):
//! - \[LIVE] START builds one stage with a ±0.3 °C entry window on both the stage and its timer,
//!   and an empty exit condition, so the cook holds until STOP; `entering` until the water is in
//!   the window; the timer starts when the window is reached; on expiry the timer is
//!   `completed` without `startedAtTimestamp` and the cook keeps holding; STOP removes `cook`,
//!   keeps the setpoint and the timer's `initial`; SET_TARGET_TEMP replaces `stages[0]`.
//! - \[INF] `originSource:"api"` and the title `Cook Stage` for an API start; SET_TARGET_TEMP
//!   while idle only moves the node setpoint; SET_TIMER keeps a running timer's start (0 clears
//!   it); START without `timer` means no timer; START while cooking replaces the cook.

use super::cooker::{format_timestamp, Device};
use super::thermal::round2;
use crate::anova::model::{Stage, AT_TEMPERATURE_WINDOW_C};
use crate::anova::protocol::{
    ApcCommand, Celsius, Gen3Cook, Gen3Mode, Gen3Nodes, Gen3Stage, Gen3StageAction, Gen3State,
    Gen3Status, Gen3SystemInfo, LowWaterNode, StageMode, StageSetpoint, StageTimer,
    TemperatureUnit, TimerMode, TimerNode, WaterTemperatureSensor,
};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use time::OffsetDateTime;

/// How many applied command ids `state.processedCommandIds` keeps.
const PROCESSED_COMMAND_IDS: usize = 10;

/// True when the water is inside the ±0.3 °C window around `setpoint_c`.
pub fn in_window(water_c: f64, setpoint_c: f64) -> bool {
    (water_c - setpoint_c).abs() <= AT_TEMPERATURE_WINDOW_C + 1e-9
}

/// The node timer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimerPhase {
    /// Not counting: no timer, or waiting for the water to reach the window.
    Idle,
    /// Counting since this simulated instant.
    Running { started_s: f64 },
    /// Ran out; the cook keeps holding.
    Completed,
}

/// Whether the active stage's entry condition was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StagePhase {
    /// Preheating: the water is not in the window yet.
    Entering,
    /// At temperature.
    Running,
}

/// The one stage of an API cook.
#[derive(Debug, Clone, PartialEq)]
struct CookStage {
    id: String,
    setpoint_c: f64,
    /// The stage template's `do.timer.initial`: the timer the cook started with. SET_TIMER only
    /// changes the node, as in the real capture (node 1200, template 0).
    template_timer_s: u32,
    started_s: f64,
    phase: StagePhase,
}

/// A running cook.
#[derive(Debug, Clone, PartialEq)]
struct Cook {
    cook_id: String,
    started_s: f64,
    stage: CookStage,
}

/// The Gen 3 state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Gen3Machine {
    /// `nodes.waterTemperatureSensor.setpoint`: the target, kept while idle.
    setpoint_c: f64,
    /// `nodes.timer.initial`: kept while idle.
    timer_initial_s: u32,
    timer: TimerPhase,
    cook: Option<Cook>,
    display_unit: TemperatureUnit,
    processed_command_ids: VecDeque<String>,
}

impl Gen3Machine {
    /// An idle cooker holding `setpoint_c` and `timer_s` from an earlier cook.
    pub fn new(setpoint_c: f64, timer_s: u32, display_unit: TemperatureUnit) -> Self {
        // A real a7 always has a few ids here; start with some so the shape matches.
        let processed_command_ids = (0..3).map(|_| new_id()).collect();
        Self {
            setpoint_c: round2(setpoint_c),
            timer_initial_s: timer_s,
            timer: TimerPhase::Idle,
            cook: None,
            display_unit,
            processed_command_ids,
        }
    }

    /// The setpoint the heater works towards, while a cook exists.
    pub fn heating_target(&self) -> Option<f64> {
        self.cook.as_ref().map(|c| c.stage.setpoint_c)
    }

    /// Simulated seconds until the next timed transition (the timer running out), so the owner
    /// can stop a physics step exactly there.
    pub fn next_deadline(&self, clock_s: f64) -> Option<f64> {
        match self.timer {
            TimerPhase::Running { started_s } => {
                Some((started_s + f64::from(self.timer_initial_s) - clock_s).max(0.0))
            }
            _ => None,
        }
    }

    /// Lets the stage and the timer react to the water and the clock. Returns true when the
    /// derived stage changed (preheat done, timer started or done), which deserves a push.
    pub fn update(&mut self, clock_s: f64, water_c: f64) -> bool {
        let Some(cook) = &mut self.cook else {
            return false;
        };
        let mut changed = false;
        let inside = in_window(water_c, cook.stage.setpoint_c);
        if cook.stage.phase == StagePhase::Entering && inside {
            cook.stage.phase = StagePhase::Running;
            changed = true;
        }
        // The timer's entry condition is the same window.
        if cook.stage.phase == StagePhase::Running
            && self.timer == TimerPhase::Idle
            && self.timer_initial_s > 0
            && inside
        {
            self.timer = TimerPhase::Running { started_s: clock_s };
            changed = true;
        }
        if let TimerPhase::Running { started_s } = self.timer {
            if clock_s - started_s >= f64::from(self.timer_initial_s) - 1e-9 {
                self.timer = TimerPhase::Completed;
                changed = true;
            }
        }
        changed
    }

    /// Applies one routed command; `request_id` joins `processedCommandIds`. Returns true when
    /// the state changed (every Gen 3 command does). The owner calls [`Self::update`] next.
    pub fn apply(&mut self, command: &ApcCommand, request_id: &str, clock_s: f64) -> bool {
        match command {
            ApcCommand::Start {
                target_temperature,
                unit,
                timer,
                ..
            } => {
                let setpoint_c = round2(unit.to_celsius(*target_temperature));
                let timer_s = timer.unwrap_or(0);
                self.setpoint_c = setpoint_c;
                self.timer_initial_s = timer_s;
                self.timer = TimerPhase::Idle;
                self.cook = Some(Cook {
                    cook_id: new_id(),
                    started_s: clock_s,
                    stage: CookStage {
                        id: new_id(),
                        setpoint_c,
                        template_timer_s: timer_s,
                        started_s: clock_s,
                        phase: StagePhase::Entering,
                    },
                });
            }
            ApcCommand::Stop { .. } => {
                self.cook = None;
                self.timer = TimerPhase::Idle;
            }
            ApcCommand::SetTargetTemp {
                target_temperature,
                unit,
                ..
            } => {
                let setpoint_c = round2(unit.to_celsius(*target_temperature));
                self.setpoint_c = setpoint_c;
                if let Some(cook) = &mut self.cook {
                    // A new stage replaces the old one; it starts `entering` again (and
                    // `update` moves it straight back to `running` if the water is in its
                    // window already).
                    cook.stage = CookStage {
                        id: new_id(),
                        setpoint_c,
                        template_timer_s: cook.stage.template_timer_s,
                        started_s: clock_s,
                        phase: StagePhase::Entering,
                    };
                }
            }
            ApcCommand::SetTimer { timer, .. } => {
                self.timer_initial_s = *timer;
                if *timer == 0 && matches!(self.timer, TimerPhase::Running { .. }) {
                    self.timer = TimerPhase::Idle;
                }
            }
            ApcCommand::SetTemperatureUnit { unit, .. } => self.display_unit = *unit,
        }
        self.processed_command_ids.push_back(request_id.to_owned());
        while self.processed_command_ids.len() > PROCESSED_COMMAND_IDS {
            self.processed_command_ids.pop_front();
        }
        true
    }

    /// The derived stage (as our normaliser would read it), ignoring alarms.
    pub fn stage(&self) -> Stage {
        match &self.cook {
            None => Stage::Idle,
            Some(cook) if cook.stage.phase == StagePhase::Entering => Stage::Preheating,
            Some(_) if self.timer == TimerPhase::Completed => Stage::Maintaining,
            Some(_) => Stage::Cooking,
        }
    }

    /// The node setpoint, °C.
    pub fn target_c(&self) -> f64 {
        self.setpoint_c
    }

    /// The node timer length, seconds.
    pub fn timer_s(&self) -> u32 {
        self.timer_initial_s
    }

    /// Seconds left on the timer, in simulated time.
    pub fn timer_remaining_s(&self, clock_s: f64) -> u32 {
        match (self.cook.is_some(), self.timer) {
            (false, _) | (true, TimerPhase::Completed) => 0,
            (true, TimerPhase::Idle) => self.timer_initial_s,
            (true, TimerPhase::Running { started_s }) => {
                let left = f64::from(self.timer_initial_s) - (clock_s - started_s);
                // Bounded by the u32 timer above, so the cast cannot truncate.
                left.max(0.0).ceil() as u32
            }
        }
    }

    /// The display unit.
    pub fn display_unit(&self) -> TemperatureUnit {
        self.display_unit
    }

    /// Renders `SousVideState` as the cloud would push it at wall time `now`.
    pub fn render(&self, device: &Device, now: OffsetDateTime) -> Gen3State {
        let alarms = &device.alarms;
        let mode = if alarms.water_critical {
            Gen3Mode::LowWater
        } else if alarms.water_leak {
            Gen3Mode::WaterLeak
        } else if alarms.high_temp {
            Gen3Mode::HighTemp
        } else if alarms.motor_stuck {
            Gen3Mode::MotorStuck
        } else if self.cook.is_some() {
            Gen3Mode::Cook
        } else {
            Gen3Mode::Idle
        };
        let timer = TimerNode {
            mode: Some(match self.timer {
                TimerPhase::Idle => TimerMode::Idle,
                TimerPhase::Running { .. } => TimerMode::Running,
                TimerPhase::Completed => TimerMode::Completed,
            }),
            initial: Some(i64::from(self.timer_initial_s)),
            started_at_timestamp: match self.timer {
                TimerPhase::Running { started_s } => {
                    Some(format_timestamp(device.wall_time(now, started_s)))
                }
                _ => None,
            },
        };
        Gen3State {
            version: Some(1),
            updated_timestamp: Some(format_timestamp(now)),
            system_info: Some(Gen3SystemInfo {
                device_id: Some(device.cooker_id.clone()),
                online: Some(device.online),
                firmware_version: Some(device.firmware.clone()),
                hardware_version: Some("1.0.0".to_owned()),
                release_track: Some("production".to_owned()),
                firmware_updated_timestamp: Some(format_timestamp(device.firmware_updated)),
                last_connected_timestamp: Some(format_timestamp(device.last_connected)),
                last_disconnected_timestamp: Some(format_timestamp(device.last_disconnected)),
                triacs_failed: Some(alarms.triac_failed),
                ota_update: None,
            }),
            state: Some(Gen3Status {
                mode: Some(mode),
                temperature_unit: Some(self.display_unit),
                processed_command_ids: Some(self.processed_command_ids.iter().cloned().collect()),
                resume_after_power_interruption: Some(false),
            }),
            nodes: Some(Gen3Nodes {
                low_water: Some(LowWaterNode {
                    warning: Some(alarms.low_water || alarms.water_critical),
                    empty: Some(alarms.water_critical),
                }),
                timer: Some(timer),
                water_temperature_sensor: Some(WaterTemperatureSensor {
                    enabled: Some(true),
                    setpoint: Some(Celsius::new(self.setpoint_c)),
                    current: Some(Celsius::new(device.reported_water_c())),
                }),
                probe: None,
            }),
            cook: self
                .cook
                .as_ref()
                .map(|cook| render_cook(cook, device, now)),
            metadata: Some(Map::new()),
        }
    }
}

fn render_cook(cook: &Cook, device: &Device, now: OffsetDateTime) -> Gen3Cook {
    let stage = &cook.stage;
    let window = entry_window(stage.setpoint_c);
    Gen3Cook {
        cook_id: Some(cook.cook_id.clone()),
        active_stage_id: Some(stage.id.clone()),
        active_stage_index: Some(0),
        active_stage_mode: Some(match stage.phase {
            StagePhase::Entering => StageMode::Entering,
            StagePhase::Running => StageMode::Running,
        }),
        active_stage_started_timestamp: Some(format_timestamp(
            device.wall_time(now, stage.started_s),
        )),
        started_timestamp: Some(format_timestamp(device.wall_time(now, cook.started_s))),
        stage_transition_pending_user_action: Some(false),
        origin_source: Some("api".to_owned()),
        cookable_type: None,
        cookable_id: None,
        stages: Some(vec![Gen3Stage {
            id: Some(stage.id.clone()),
            title: Some("Cook Stage".to_owned()),
            action: Some(Gen3StageAction {
                action_type: Some("cook".to_owned()),
                water_temperature_sensor: Some(StageSetpoint {
                    setpoint: Some(Celsius::new(stage.setpoint_c)),
                }),
                timer: Some(StageTimer {
                    initial: Some(i64::from(stage.template_timer_s)),
                    entry: Some(window.clone()),
                }),
            }),
            entry: Some(window),
            // No exit condition: the cook holds until STOP.
            exit: Some(json!({ "conditions": {} })),
        }]),
    }
}

/// `{"conditions":{"and":{"nodes.waterTemperatureSensor.current.celsius":{">=":lo,"<=":hi}}}}`.
fn entry_window(setpoint_c: f64) -> Value {
    json!({
        "conditions": {
            "and": {
                "nodes.waterTemperatureSensor.current.celsius": {
                    ">=": round2(setpoint_c - AT_TEMPERATURE_WINDOW_C),
                    "<=": round2(setpoint_c + AT_TEMPERATURE_WINDOW_C),
                }
            }
        }
    })
}

/// Gen 3 ids are UUIDs.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anova::protocol::{CookerRef, DeviceType};

    fn cooker() -> CookerRef {
        CookerRef {
            cooker_id: "c".into(),
            device_type: DeviceType::new("a7"),
        }
    }

    fn start(target: f64, unit: TemperatureUnit, timer: Option<u32>) -> ApcCommand {
        ApcCommand::Start {
            cooker: cooker(),
            target_temperature: target,
            unit,
            timer,
        }
    }

    #[test]
    fn start_preheat_cook_expire_stop() {
        let mut m = Gen3Machine::new(50.0, 36000, TemperatureUnit::C);
        assert_eq!(m.stage(), Stage::Idle);
        m.apply(&start(60.0, TemperatureUnit::C, Some(600)), "r1", 0.0);
        assert!(!m.update(0.0, 55.0));
        assert_eq!(m.stage(), Stage::Preheating);
        assert_eq!(m.heating_target(), Some(60.0));
        assert_eq!(m.timer_remaining_s(0.0), 600);

        // Reaching the window: stage running and timer started, in one transition.
        assert!(m.update(100.0, 59.75));
        assert_eq!(m.stage(), Stage::Cooking);
        assert_eq!(m.timer, TimerPhase::Running { started_s: 100.0 });
        assert_eq!(m.next_deadline(400.0), Some(300.0));
        assert_eq!(m.timer_remaining_s(400.0), 300);

        assert!(!m.update(699.0, 60.0));
        assert!(m.update(700.0, 60.0));
        assert_eq!(m.stage(), Stage::Maintaining);
        assert_eq!(m.heating_target(), Some(60.0), "holds after the timer");

        m.apply(&ApcCommand::Stop { cooker: cooker() }, "r2", 800.0);
        assert_eq!(m.stage(), Stage::Idle);
        assert_eq!(m.heating_target(), None);
        assert_eq!(m.target_c(), 60.0, "setpoint kept");
        assert_eq!(m.timer_s(), 600, "initial kept");
        assert_eq!(m.timer, TimerPhase::Idle);
    }

    #[test]
    fn start_converts_fahrenheit() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::F);
        m.apply(&start(135.0, TemperatureUnit::F, None), "r", 0.0);
        assert_eq!(m.target_c(), 57.22);
        assert_eq!(m.timer_s(), 0);
    }

    #[test]
    fn no_timer_holds_with_the_timer_idle() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        m.apply(&start(60.0, TemperatureUnit::C, Some(0)), "r", 0.0);
        assert!(m.update(10.0, 60.0));
        assert_eq!(m.stage(), Stage::Cooking);
        assert_eq!(m.timer, TimerPhase::Idle);
        assert!(!m.update(10_000.0, 60.0));
    }

    #[test]
    fn set_target_replaces_the_stage_and_reenters_only_outside_the_window() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        m.apply(&start(60.0, TemperatureUnit::C, Some(0)), "r", 0.0);
        m.update(1.0, 60.0);
        let first_stage = m.cook.as_ref().unwrap().stage.id.clone();
        let cook_id = m.cook.as_ref().unwrap().cook_id.clone();

        let set = |t| ApcCommand::SetTargetTemp {
            cooker: cooker(),
            target_temperature: t,
            unit: TemperatureUnit::C,
        };
        // Inside the window: straight back to running.
        m.apply(&set(60.2), "r2", 2.0);
        m.update(2.0, 60.0);
        assert_eq!(m.stage(), Stage::Cooking);
        let cook = m.cook.as_ref().unwrap();
        assert_ne!(cook.stage.id, first_stage);
        assert_eq!(cook.cook_id, cook_id, "same cook");
        assert_eq!(cook.stage.setpoint_c, 60.2);

        // Outside: preheating again.
        m.apply(&set(70.0), "r3", 3.0);
        m.update(3.0, 60.0);
        assert_eq!(m.stage(), Stage::Preheating);
        assert_eq!(m.target_c(), 70.0);
    }

    #[test]
    fn set_timer_keeps_a_running_timer_start() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        m.apply(&start(60.0, TemperatureUnit::C, Some(600)), "r", 0.0);
        m.update(10.0, 60.0);
        m.apply(
            &ApcCommand::SetTimer {
                cooker: cooker(),
                timer: 1200,
            },
            "r2",
            100.0,
        );
        assert_eq!(m.timer, TimerPhase::Running { started_s: 10.0 });
        assert_eq!(m.timer_remaining_s(100.0), 1110);
        // The stage template keeps the START timer, as in the real capture.
        assert_eq!(m.cook.as_ref().unwrap().stage.template_timer_s, 600);
    }

    #[test]
    fn set_timer_while_holding_without_timer_starts_it() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        m.apply(&start(60.0, TemperatureUnit::C, None), "r", 0.0);
        m.update(10.0, 60.0);
        m.apply(
            &ApcCommand::SetTimer {
                cooker: cooker(),
                timer: 60,
            },
            "r2",
            20.0,
        );
        assert!(m.update(20.0, 60.0));
        assert_eq!(m.timer, TimerPhase::Running { started_s: 20.0 });
    }

    #[test]
    fn start_while_cooking_replaces_the_cook() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        m.apply(&start(60.0, TemperatureUnit::C, Some(60)), "r", 0.0);
        m.update(10.0, 60.0);
        let old = m.cook.as_ref().unwrap().cook_id.clone();
        m.apply(&start(60.1, TemperatureUnit::C, Some(120)), "r2", 20.0);
        m.update(20.0, 60.0);
        assert_ne!(m.cook.as_ref().unwrap().cook_id, old);
        assert_eq!(m.timer, TimerPhase::Running { started_s: 20.0 });
        assert_eq!(m.timer_s(), 120);
    }

    #[test]
    fn unit_change_touches_only_the_unit() {
        let mut m = Gen3Machine::new(50.0, 300, TemperatureUnit::C);
        let before = m.clone();
        m.apply(
            &ApcCommand::SetTemperatureUnit {
                cooker: cooker(),
                unit: TemperatureUnit::F,
            },
            "r",
            0.0,
        );
        assert_eq!(m.display_unit(), TemperatureUnit::F);
        assert_eq!(
            (m.target_c(), m.timer_s()),
            (before.target_c(), before.timer_s())
        );
    }

    #[test]
    fn processed_command_ids_keep_the_last_ten() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        for i in 0..15 {
            m.apply(
                &ApcCommand::SetTimer {
                    cooker: cooker(),
                    timer: i,
                },
                &format!("id-{i}"),
                0.0,
            );
        }
        assert_eq!(m.processed_command_ids.len(), 10);
        assert_eq!(m.processed_command_ids.back().unwrap(), "id-14");
        assert_eq!(m.processed_command_ids.front().unwrap(), "id-5");
    }

    #[test]
    fn entry_window_is_plus_minus_three_tenths() {
        let window = entry_window(54.47);
        let bounds = &window["conditions"]["and"]["nodes.waterTemperatureSensor.current.celsius"];
        assert_eq!(bounds[">="], json!(54.17));
        assert_eq!(bounds["<="], json!(54.77));
    }
}
