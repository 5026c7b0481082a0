//! The Gen 3 cooker (`a6`–`a9`, modelled on the `a7`): the state machine of
//! `docs/anova-protocol.md` §6.3 and its `SousVideState` rendering, key for key as the real
//! captures `EVENT_APC_STATE.a7.idle.real.json` and `EVENT_APC_STATE.a7.cooking.real.json`.
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

use super::machine::{
    in_window, Alarms, CookerMachine, CookerStage, Device, AT_TEMPERATURE_WINDOW_C,
};
use crate::simulator::wire::client::ApcCommand;
use crate::simulator::wire::{round2, Celsius, Empty, TemperatureUnit, WholeSeconds};
use serde::Serialize;
use std::collections::VecDeque;
use time::OffsetDateTime;

/// How many applied command ids `state.processedCommandIds` keeps.
pub(crate) const PROCESSED_COMMAND_IDS: usize = 10;

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
pub(crate) struct Gen3Machine {
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
    pub(crate) fn new(setpoint_c: f64, timer_s: u32, display_unit: TemperatureUnit) -> Self {
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

    /// A cooker already cooking at `setpoint_c` without a timer, at temperature (the load
    /// generator's cookers).
    pub(crate) fn cooking(setpoint_c: f64, clock_s: f64) -> Self {
        let mut machine = Self::new(setpoint_c, 0, TemperatureUnit::C);
        machine.start(setpoint_c, 0, clock_s);
        if let Some(cook) = &mut machine.cook {
            cook.stage.phase = StagePhase::Running;
        }
        machine
    }

    fn start(&mut self, setpoint_c: f64, timer_s: u32, clock_s: f64) {
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
}

impl CookerMachine for Gen3Machine {
    fn heating_target(&self) -> Option<f64> {
        self.cook.as_ref().map(|c| c.stage.setpoint_c)
    }

    fn next_deadline(&self, clock_s: f64) -> Option<f64> {
        match self.timer {
            TimerPhase::Running { started_s } => {
                Some((started_s + f64::from(self.timer_initial_s) - clock_s).max(0.0))
            }
            _ => None,
        }
    }

    fn update(&mut self, clock_s: f64, water_c: f64) -> bool {
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

    /// Every Gen 3 command changes the state; `request_id` joins `processedCommandIds`.
    fn apply(&mut self, command: &ApcCommand, request_id: &str, clock_s: f64, _: f64) -> bool {
        match command {
            ApcCommand::Start {
                target_temperature,
                unit,
                timer,
                ..
            } => {
                let setpoint_c = round2(unit.to_celsius(*target_temperature));
                self.start(setpoint_c, timer.unwrap_or(0), clock_s);
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

    fn stage(&self) -> CookerStage {
        match &self.cook {
            None => CookerStage::Idle,
            Some(cook) if cook.stage.phase == StagePhase::Entering => CookerStage::Preheating,
            Some(_) if self.timer == TimerPhase::Completed => CookerStage::Maintaining,
            Some(_) => CookerStage::Cooking,
        }
    }

    /// `state.mode` turns into the alarm for all but the low-water warning and failed triacs
    /// (those have their own flags).
    fn alarm_replaces_mode(&self, alarms: &Alarms) -> bool {
        alarms.water_critical || alarms.water_leak || alarms.high_temp || alarms.motor_stuck
    }

    fn target_c(&self) -> f64 {
        self.setpoint_c
    }

    fn timer_s(&self) -> u32 {
        self.timer_initial_s
    }

    fn timer_remaining_s(&self, clock_s: f64) -> u32 {
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

    fn display_unit(&self) -> TemperatureUnit {
        self.display_unit
    }

    fn write_state(
        &self,
        device: &Device,
        now: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        serde_json::to_writer(out, &self.body(device, now))
    }
}

impl Gen3Machine {
    /// `SousVideState` at wall time `now`, borrowing everything it can.
    fn body<'a>(&'a self, device: &'a Device, now: OffsetDateTime) -> Body<'a> {
        let alarms = &device.alarms;
        let mode = if alarms.water_critical {
            "lowWater"
        } else if alarms.water_leak {
            "waterLeak"
        } else if alarms.high_temp {
            "highTemp"
        } else if alarms.motor_stuck {
            "motorStuck"
        } else if self.cook.is_some() {
            "cook"
        } else {
            "idle"
        };
        let timer = TimerNode {
            mode: match self.timer {
                TimerPhase::Idle => "idle",
                TimerPhase::Running { .. } => "running",
                TimerPhase::Completed => "completed",
            },
            initial: self.timer_initial_s,
            started_at_timestamp: match self.timer {
                TimerPhase::Running { started_s } => {
                    Some(WholeSeconds(device.wall_time(now, started_s)))
                }
                _ => None,
            },
        };
        Body {
            version: 1,
            updated_timestamp: WholeSeconds(now),
            system_info: SystemInfo {
                device_id: &device.cooker_id,
                online: device.online,
                firmware_version: &device.firmware,
                release_track: "production",
                firmware_updated_timestamp: WholeSeconds(device.firmware_updated),
                last_connected_timestamp: WholeSeconds(device.last_connected),
                last_disconnected_timestamp: WholeSeconds(device.last_disconnected),
                hardware_version: "1.0.0",
                triacs_failed: alarms.triac_failed,
            },
            state: Status {
                mode,
                temperature_unit: self.display_unit,
                processed_command_ids: &self.processed_command_ids,
                resume_after_power_interruption: false,
            },
            nodes: Nodes {
                low_water: LowWater {
                    warning: alarms.low_water || alarms.water_critical,
                    empty: alarms.water_critical,
                },
                water_temperature_sensor: WaterSensor {
                    current: Celsius {
                        celsius: device.reported_water_c(),
                    },
                    setpoint: Celsius {
                        celsius: self.setpoint_c,
                    },
                    enabled: true,
                },
                timer,
            },
            cook: self.cook.as_ref().map(|cook| cook_body(cook, device, now)),
            metadata: Empty {},
        }
    }
}

fn cook_body<'a>(cook: &'a Cook, device: &Device, now: OffsetDateTime) -> CookBody<'a> {
    let stage = &cook.stage;
    let window = EntryWindow::around(stage.setpoint_c);
    CookBody {
        active_stage_index: 0,
        stage_transition_pending_user_action: false,
        active_stage_id: &stage.id,
        stages: [StageBody {
            action: StageAction {
                timer: StageTimer {
                    entry: window,
                    initial: stage.template_timer_s,
                },
                action_type: "cook",
                water_temperature_sensor: Setpoint {
                    setpoint: Celsius {
                        celsius: stage.setpoint_c,
                    },
                },
            },
            id: &stage.id,
            entry: window,
            // No exit condition: the cook holds until STOP.
            exit: Exit {
                conditions: Empty {},
            },
            title: "Cook Stage",
        }],
        origin_source: "api",
        active_stage_started_timestamp: WholeSeconds(device.wall_time(now, stage.started_s)),
        started_timestamp: WholeSeconds(device.wall_time(now, cook.started_s)),
        active_stage_mode: match stage.phase {
            StagePhase::Entering => "entering",
            StagePhase::Running => "running",
        },
        cook_id: &cook.cook_id,
    }
}

/// Gen 3 ids are UUIDs.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ----- The wire body, key for key as the captures ------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    version: u8,
    updated_timestamp: WholeSeconds,
    system_info: SystemInfo<'a>,
    state: Status<'a>,
    nodes: Nodes,
    #[serde(skip_serializing_if = "Option::is_none")]
    cook: Option<CookBody<'a>>,
    metadata: Empty,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SystemInfo<'a> {
    device_id: &'a str,
    online: bool,
    firmware_version: &'a str,
    release_track: &'static str,
    firmware_updated_timestamp: WholeSeconds,
    last_connected_timestamp: WholeSeconds,
    last_disconnected_timestamp: WholeSeconds,
    hardware_version: &'static str,
    triacs_failed: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    mode: &'static str,
    temperature_unit: TemperatureUnit,
    processed_command_ids: &'a VecDeque<String>,
    resume_after_power_interruption: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Nodes {
    low_water: LowWater,
    water_temperature_sensor: WaterSensor,
    timer: TimerNode,
}

#[derive(Serialize)]
struct LowWater {
    warning: bool,
    empty: bool,
}

#[derive(Serialize)]
struct WaterSensor {
    current: Celsius,
    setpoint: Celsius,
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimerNode {
    mode: &'static str,
    initial: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at_timestamp: Option<WholeSeconds>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CookBody<'a> {
    active_stage_index: u32,
    stage_transition_pending_user_action: bool,
    active_stage_id: &'a str,
    stages: [StageBody<'a>; 1],
    origin_source: &'static str,
    active_stage_started_timestamp: WholeSeconds,
    started_timestamp: WholeSeconds,
    active_stage_mode: &'static str,
    cook_id: &'a str,
}

#[derive(Serialize)]
struct StageBody<'a> {
    #[serde(rename = "do")]
    action: StageAction,
    id: &'a str,
    entry: EntryWindow,
    exit: Exit,
    title: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StageAction {
    timer: StageTimer,
    #[serde(rename = "type")]
    action_type: &'static str,
    water_temperature_sensor: Setpoint,
}

#[derive(Serialize)]
struct StageTimer {
    entry: EntryWindow,
    initial: u32,
}

#[derive(Serialize)]
struct Setpoint {
    setpoint: Celsius,
}

#[derive(Serialize)]
struct Exit {
    conditions: Empty,
}

/// `{"conditions":{"and":{"nodes.waterTemperatureSensor.current.celsius":{">=":lo,"<=":hi}}}}`.
#[derive(Debug, Clone, Copy, Serialize)]
struct EntryWindow {
    conditions: WindowAnd,
}

#[derive(Debug, Clone, Copy, Serialize)]
struct WindowAnd {
    and: WaterWindow,
}

#[derive(Debug, Clone, Copy, Serialize)]
struct WaterWindow {
    #[serde(rename = "nodes.waterTemperatureSensor.current.celsius")]
    bounds: Bounds,
}

#[derive(Debug, Clone, Copy, Serialize)]
struct Bounds {
    #[serde(rename = ">=")]
    low: f64,
    #[serde(rename = "<=")]
    high: f64,
}

impl EntryWindow {
    fn around(setpoint_c: f64) -> Self {
        Self {
            conditions: WindowAnd {
                and: WaterWindow {
                    bounds: Bounds {
                        low: round2(setpoint_c - AT_TEMPERATURE_WINDOW_C),
                        high: round2(setpoint_c + AT_TEMPERATURE_WINDOW_C),
                    },
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::wire::client::CookerRef;
    use crate::simulator::wire::DeviceType;
    use serde_json::json;

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

    fn apply(m: &mut Gen3Machine, command: &ApcCommand, id: &str, clock_s: f64) {
        assert!(m.apply(command, id, clock_s, 0.0));
    }

    #[test]
    fn start_preheat_cook_expire_stop() {
        let mut m = Gen3Machine::new(50.0, 36000, TemperatureUnit::C);
        assert_eq!(m.stage(), CookerStage::Idle);
        apply(
            &mut m,
            &start(60.0, TemperatureUnit::C, Some(600)),
            "r1",
            0.0,
        );
        assert!(!m.update(0.0, 55.0));
        assert_eq!(m.stage(), CookerStage::Preheating);
        assert_eq!(m.heating_target(), Some(60.0));
        assert_eq!(m.timer_remaining_s(0.0), 600);

        // Reaching the window: stage running and timer started, in one transition.
        assert!(m.update(100.0, 59.75));
        assert_eq!(m.stage(), CookerStage::Cooking);
        assert_eq!(m.timer, TimerPhase::Running { started_s: 100.0 });
        assert_eq!(m.next_deadline(400.0), Some(300.0));
        assert_eq!(m.timer_remaining_s(400.0), 300);

        assert!(!m.update(699.0, 60.0));
        assert!(m.update(700.0, 60.0));
        assert_eq!(m.stage(), CookerStage::Maintaining);
        assert_eq!(m.heating_target(), Some(60.0), "holds after the timer");

        apply(&mut m, &ApcCommand::Stop { cooker: cooker() }, "r2", 800.0);
        assert_eq!(m.stage(), CookerStage::Idle);
        assert_eq!(m.heating_target(), None);
        assert_eq!(m.target_c(), 60.0, "setpoint kept");
        assert_eq!(m.timer_s(), 600, "initial kept");
        assert_eq!(m.timer, TimerPhase::Idle);
    }

    #[test]
    fn start_converts_fahrenheit() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::F);
        apply(&mut m, &start(135.0, TemperatureUnit::F, None), "r", 0.0);
        assert_eq!(m.target_c(), 57.22);
        assert_eq!(m.timer_s(), 0);
    }

    #[test]
    fn no_timer_holds_with_the_timer_idle() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        apply(&mut m, &start(60.0, TemperatureUnit::C, Some(0)), "r", 0.0);
        assert!(m.update(10.0, 60.0));
        assert_eq!(m.stage(), CookerStage::Cooking);
        assert_eq!(m.timer, TimerPhase::Idle);
        assert!(!m.update(10_000.0, 60.0));
    }

    #[test]
    fn set_target_replaces_the_stage_and_reenters_only_outside_the_window() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        apply(&mut m, &start(60.0, TemperatureUnit::C, Some(0)), "r", 0.0);
        m.update(1.0, 60.0);
        let first_stage = m.cook.as_ref().unwrap().stage.id.clone();
        let cook_id = m.cook.as_ref().unwrap().cook_id.clone();

        let set = |t| ApcCommand::SetTargetTemp {
            cooker: cooker(),
            target_temperature: t,
            unit: TemperatureUnit::C,
        };
        // Inside the window: straight back to running.
        apply(&mut m, &set(60.2), "r2", 2.0);
        m.update(2.0, 60.0);
        assert_eq!(m.stage(), CookerStage::Cooking);
        let cook = m.cook.as_ref().unwrap();
        assert_ne!(cook.stage.id, first_stage);
        assert_eq!(cook.cook_id, cook_id, "same cook");
        assert_eq!(cook.stage.setpoint_c, 60.2);

        // Outside: preheating again.
        apply(&mut m, &set(70.0), "r3", 3.0);
        m.update(3.0, 60.0);
        assert_eq!(m.stage(), CookerStage::Preheating);
        assert_eq!(m.target_c(), 70.0);
    }

    #[test]
    fn set_timer_keeps_a_running_timer_start() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        apply(
            &mut m,
            &start(60.0, TemperatureUnit::C, Some(600)),
            "r",
            0.0,
        );
        m.update(10.0, 60.0);
        let set = ApcCommand::SetTimer {
            cooker: cooker(),
            timer: 1200,
        };
        apply(&mut m, &set, "r2", 100.0);
        assert_eq!(m.timer, TimerPhase::Running { started_s: 10.0 });
        assert_eq!(m.timer_remaining_s(100.0), 1110);
        // The stage template keeps the START timer, as in the real capture.
        assert_eq!(m.cook.as_ref().unwrap().stage.template_timer_s, 600);
    }

    #[test]
    fn set_timer_while_holding_without_timer_starts_it() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        apply(&mut m, &start(60.0, TemperatureUnit::C, None), "r", 0.0);
        m.update(10.0, 60.0);
        let set = ApcCommand::SetTimer {
            cooker: cooker(),
            timer: 60,
        };
        apply(&mut m, &set, "r2", 20.0);
        assert!(m.update(20.0, 60.0));
        assert_eq!(m.timer, TimerPhase::Running { started_s: 20.0 });
    }

    #[test]
    fn start_while_cooking_replaces_the_cook() {
        let mut m = Gen3Machine::new(50.0, 0, TemperatureUnit::C);
        apply(&mut m, &start(60.0, TemperatureUnit::C, Some(60)), "r", 0.0);
        m.update(10.0, 60.0);
        let old = m.cook.as_ref().unwrap().cook_id.clone();
        apply(
            &mut m,
            &start(60.1, TemperatureUnit::C, Some(120)),
            "r2",
            20.0,
        );
        m.update(20.0, 60.0);
        assert_ne!(m.cook.as_ref().unwrap().cook_id, old);
        assert_eq!(m.timer, TimerPhase::Running { started_s: 20.0 });
        assert_eq!(m.timer_s(), 120);
    }

    #[test]
    fn unit_change_touches_only_the_unit() {
        let mut m = Gen3Machine::new(50.0, 300, TemperatureUnit::C);
        let before = m.clone();
        let set = ApcCommand::SetTemperatureUnit {
            cooker: cooker(),
            unit: TemperatureUnit::F,
        };
        apply(&mut m, &set, "r", 0.0);
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
            let set = ApcCommand::SetTimer {
                cooker: cooker(),
                timer: i,
            };
            apply(&mut m, &set, &format!("id-{i}"), 0.0);
        }
        assert_eq!(m.processed_command_ids.len(), 10);
        assert_eq!(m.processed_command_ids.back().unwrap(), "id-14");
        assert_eq!(m.processed_command_ids.front().unwrap(), "id-5");
    }

    #[test]
    fn entry_window_is_plus_minus_three_tenths() {
        let window = serde_json::to_value(EntryWindow::around(54.47)).unwrap();
        let bounds = &window["conditions"]["and"]["nodes.waterTemperatureSensor.current.celsius"];
        assert_eq!(bounds, &json!({">=": 54.17, "<=": 54.77}));
    }

    #[test]
    fn the_load_generators_cook_is_at_temperature() {
        let m = Gen3Machine::cooking(55.0, 0.0);
        assert_eq!(m.stage(), CookerStage::Cooking);
        assert_eq!(m.heating_target(), Some(55.0));
    }
}
