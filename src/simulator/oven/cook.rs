//! A running oven cook: the stages of a [`Plan`] in order, each entered when its entry
//! condition holds (`activeStageMode: entering` until then: the preheat), its timer started
//! when its start condition holds, and left for the next one when its exit condition holds.
//! After the last stage the cook ends. Pure: the oven passes the clock and its sensors.

use super::conditions::{Condition, Reading, Readings};
use super::plan::{Plan, PlanStage};

/// The stage timer (the oven's `nodes.timer`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TimerPhase {
    Idle,
    Running { started_s: f64 },
    Completed,
}

impl TimerPhase {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running { .. } => "running",
            Self::Completed => "completed",
        }
    }
}

/// What the oven's sensors read, for the conditions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sensors {
    pub(crate) dry_c: f64,
    pub(crate) wet_c: f64,
    /// `None` while the probe is unplugged.
    pub(crate) probe_c: Option<f64>,
    pub(crate) food_present: bool,
}

/// What changed in one [`Cook::update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Progress {
    /// Something a client would see changed (stage, mode, timer): push the state.
    pub(crate) changed: bool,
    /// The cook is over (its last stage exited, or a stop stage was reached).
    pub(crate) finished: bool,
}

/// A running cook.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cook {
    pub(crate) plan: Plan,
    /// The active stage's index.
    pub(crate) active: usize,
    /// The active stage's entry condition does not hold yet.
    pub(crate) entering: bool,
    pub(crate) started_s: f64,
    pub(crate) stage_started_s: f64,
    pub(crate) timer: TimerPhase,
    /// The user pressed start on the oven since the stage began.
    user_action: bool,
}

/// The readings a condition sees: the sensors plus the cook's own timer and user action.
struct View<'a> {
    sensors: &'a Sensors,
    timer: TimerPhase,
    user_action: bool,
}

impl Readings for View<'_> {
    fn reading(&self, path: &str) -> Option<Reading> {
        Some(match path {
            "nodes.temperatureBulbs.dry.current.celsius" => Reading::Number(self.sensors.dry_c),
            "nodes.temperatureBulbs.wet.current.celsius" => Reading::Number(self.sensors.wet_c),
            "nodes.temperatureProbe.current.celsius" => Reading::Number(self.sensors.probe_c?),
            "nodes.temperatureProbe.connected" => Reading::Bool(self.sensors.probe_c.is_some()),
            "nodes.cavityCamera.isEmpty" => Reading::Bool(!self.sensors.food_present),
            "nodes.timer.mode" => Reading::Text(self.timer.as_str().to_owned()),
            "userAction" => Reading::Bool(self.user_action),
            _ => return None,
        })
    }
}

impl Cook {
    /// A cook that starts now, entering its first stage.
    pub(crate) fn new(plan: Plan, clock_s: f64) -> Self {
        Self {
            plan,
            active: 0,
            entering: true,
            started_s: clock_s,
            stage_started_s: clock_s,
            timer: TimerPhase::Idle,
            user_action: false,
        }
    }

    /// The active stage.
    pub(crate) fn stage(&self) -> &PlanStage {
        // `active` stays below the length: the cook ends instead of moving past the last.
        &self.plan.stages[self.active.min(self.plan.stages.len() - 1)]
    }

    /// The user pressed start on the oven (or confirmed the food is in).
    pub(crate) fn press(&mut self) {
        self.user_action = true;
    }

    /// Whether the active stage waits for the user (`stageTransitionPendingUserAction`).
    pub(crate) fn pending_user_action(&self, sensors: &Sensors) -> bool {
        let needs_user = |c: &Condition| {
            !c.holds(&self.view(sensors)) && {
                let pressed = View {
                    sensors,
                    timer: self.timer,
                    user_action: true,
                };
                c.holds(&pressed)
            }
        };
        self.entering && self.stage().entry.as_ref().is_some_and(needs_user)
    }

    /// Seconds left on the running timer (the initial while it waits).
    pub(crate) fn timer_remaining_s(&self, clock_s: f64) -> u32 {
        let initial = self.stage().timer.as_ref().map_or(0, |t| t.initial_s);
        match self.timer {
            TimerPhase::Idle => initial,
            TimerPhase::Running { started_s } => {
                // Bounded by the u32 initial, so the cast cannot truncate.
                (f64::from(initial) - (clock_s - started_s)).max(0.0).ceil() as u32
            }
            TimerPhase::Completed => 0,
        }
    }

    /// Simulated seconds until the running timer ends, so a physics step can stop there.
    pub(crate) fn next_deadline(&self, clock_s: f64) -> Option<f64> {
        match (self.timer, self.stage().timer.as_ref()) {
            (TimerPhase::Running { started_s }, Some(timer)) => {
                Some((started_s + f64::from(timer.initial_s) - clock_s).max(0.0))
            }
            _ => None,
        }
    }

    fn view<'a>(&self, sensors: &'a Sensors) -> View<'a> {
        View {
            sensors,
            timer: self.timer,
            user_action: self.user_action,
        }
    }

    /// Lets the cook react to the sensors and the clock: enter the stage, start or end its
    /// timer, move on to the next stage (as many as hold at once), or finish.
    pub(crate) fn update(&mut self, clock_s: f64, sensors: &Sensors) -> Progress {
        let mut progress = Progress::default();
        // Every stage can be entered and left at most once per update.
        for _ in 0..=self.plan.stages.len() * 2 {
            let stage = self.stage().clone();
            if stage.stop {
                progress.changed = true;
                progress.finished = true;
                return progress;
            }
            if self.entering {
                let enters = stage
                    .entry
                    .as_ref()
                    .is_none_or(|c| c.holds(&self.view(sensors)));
                if !enters {
                    break;
                }
                self.entering = false;
                progress.changed = true;
            }
            if let Some(timer) = &stage.timer {
                let starts = timer
                    .start
                    .as_ref()
                    .is_none_or(|c| c.holds(&self.view(sensors)));
                if self.timer == TimerPhase::Idle && timer.initial_s > 0 && starts {
                    self.timer = TimerPhase::Running { started_s: clock_s };
                    progress.changed = true;
                }
                if let TimerPhase::Running { started_s } = self.timer {
                    if clock_s - started_s >= f64::from(timer.initial_s) - 1e-9 {
                        self.timer = TimerPhase::Completed;
                        progress.changed = true;
                    }
                }
            }
            let exits = stage
                .exit
                .as_ref()
                .is_some_and(|c| c.holds(&self.view(sensors)));
            if !exits {
                break;
            }
            progress.changed = true;
            if self.active + 1 >= self.plan.stages.len() {
                progress.finished = true;
                return progress;
            }
            self.active += 1;
            self.entering = true;
            self.stage_started_s = clock_s;
            self.timer = TimerPhase::Idle;
            self.user_action = false;
        }
        progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::config::OvenGeneration;
    use crate::simulator::oven::plan::parse;
    use serde_json::{json, Value};

    fn sensors(dry_c: f64) -> Sensors {
        Sensors {
            dry_c,
            wet_c: dry_c - 5.0,
            probe_c: None,
            food_present: false,
        }
    }

    fn stage(id: &str, setpoint: f64, timer: Option<Value>, exit: Value) -> Value {
        let mut action = json!({
            "type": "cook",
            "fan": {"speed": 100},
            "heatingElements": {"top": {"on": false}, "bottom": {"on": false}, "rear": {"on": true}},
            "temperatureBulbs": {"mode": "dry", "dry": {"setpoint": {"celsius": setpoint}}},
        });
        if let Some(timer) = timer {
            action["timer"] = timer;
        }
        json!({
            "id": id,
            "do": action,
            "entry": {"conditions": {"and": {
                "nodes.temperatureBulbs.dry.current.celsius": {">=": setpoint}}}},
            "exit": exit,
        })
    }

    fn until_timer_done() -> Value {
        json!({"conditions": {"and": {"nodes.timer.mode": {"=": "completed"}}}})
    }

    fn cook(stages: Vec<Value>) -> Cook {
        let plan = parse(OvenGeneration::V2, Some(&json!({"stages": stages}))).unwrap();
        Cook::new(plan, 0.0)
    }

    #[test]
    fn preheat_then_a_timer_when_preheated_then_done() {
        let timer = json!({"initial": 60, "entry": {"conditions": {"and": {
            "nodes.temperatureBulbs.dry.current.celsius": {">=": 200}}}}});
        let mut cook = cook(vec![stage("s1", 200.0, Some(timer), until_timer_done())]);
        assert_eq!(cook.update(0.0, &sensors(20.0)), Progress::default());
        assert!(cook.entering);
        let progress = cook.update(100.0, &sensors(200.0));
        assert!(progress.changed && !progress.finished);
        assert!(!cook.entering);
        assert_eq!(cook.timer, TimerPhase::Running { started_s: 100.0 });
        assert_eq!(cook.next_deadline(130.0), Some(30.0));
        assert_eq!(cook.timer_remaining_s(130.0), 30);
        let done = cook.update(160.0, &sensors(200.0));
        assert!(done.finished, "the last stage's timer ended the cook");
    }

    #[test]
    fn stages_run_in_order() {
        let mut cook = cook(vec![
            stage(
                "s1",
                100.0,
                Some(json!({"initial": 10})),
                until_timer_done(),
            ),
            stage("s2", 150.0, None, json!({"conditions": {"and": {}}})),
        ]);
        cook.update(0.0, &sensors(100.0));
        assert_eq!(
            (cook.active, cook.timer),
            (0, TimerPhase::Running { started_s: 0.0 })
        );
        cook.update(10.0, &sensors(100.0));
        assert_eq!(cook.active, 1);
        assert!(cook.entering, "the second stage preheats");
        assert_eq!(cook.stage_started_s, 10.0);
        let progress = cook.update(50.0, &sensors(150.0));
        assert!(progress.changed && !progress.finished);
        assert!(!cook.entering);
        // No exit condition: it runs until stopped.
        assert!(!cook.update(10_000.0, &sensors(150.0)).finished);
    }

    #[test]
    fn a_manual_timer_waits_for_the_user() {
        let timer =
            json!({"initial": 30, "entry": {"conditions": {"and": {"userAction": {"=": true}}}}});
        let mut cook = cook(vec![stage("s1", 100.0, Some(timer), until_timer_done())]);
        cook.update(0.0, &sensors(100.0));
        assert_eq!(cook.timer, TimerPhase::Idle);
        assert_eq!(cook.timer_remaining_s(5.0), 30);
        cook.press();
        assert!(cook.update(5.0, &sensors(100.0)).changed);
        assert_eq!(cook.timer, TimerPhase::Running { started_s: 5.0 });
    }

    #[test]
    fn a_stop_stage_ends_the_cook() {
        let mut stop = stage("s2", 100.0, None, json!({}));
        stop["do"]["type"] = json!("stop");
        let mut cook = cook(vec![
            stage(
                "s1",
                100.0,
                Some(json!({"initial": 10})),
                until_timer_done(),
            ),
            stop,
        ]);
        cook.update(0.0, &sensors(100.0));
        assert!(cook.update(10.0, &sensors(100.0)).finished);
    }

    #[test]
    fn a_user_action_entry_is_pending() {
        let mut second = stage("s2", 100.0, None, json!({}));
        second["userActionRequired"] = json!(true);
        let mut cook = cook(vec![
            stage(
                "s1",
                100.0,
                Some(json!({"initial": 10})),
                until_timer_done(),
            ),
            second,
        ]);
        cook.update(0.0, &sensors(100.0));
        cook.update(10.0, &sensors(100.0));
        assert_eq!(cook.active, 1);
        assert!(cook.pending_user_action(&sensors(100.0)));
        cook.press();
        cook.update(11.0, &sensors(100.0));
        assert!(!cook.entering);
        assert!(!cook.pending_user_action(&sensors(100.0)));
    }
}
