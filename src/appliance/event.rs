//! Cook events: what happened between two consecutive states of one device, published on
//! `<base>/<id>/event` (`docs/interface.md` §3, §5.3).

use serde_json::{Map, Value};

/// The kinds of cook event; each family emits its own subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CookEventKind {
    /// A cook began.
    CookStarted,
    /// The running cook was changed (a new target or timer, an oven's new cook in its place,
    /// or the restart a Personal Access Token needs): the same cook goes on.
    CookChanged,
    /// The device reached its target (or a stage's entry condition).
    PreheatComplete,
    /// A multi-stage cook moved to another stage (ovens).
    StageChanged,
    /// The timer ran out.
    TimerFinished,
    /// The food probe reached its target (ovens).
    ProbeReached,
    /// The cook ended.
    CookStopped,
    /// The water is low (cookers).
    LowWater,
    /// An alarm was raised (cookers).
    Alarm,
    /// The water tank ran empty (ovens).
    WaterTankEmpty,
    /// The door was opened (ovens).
    DoorOpened,
}

impl CookEventKind {
    /// The `event_type` on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CookStarted => "cook_started",
            Self::CookChanged => "cook_changed",
            Self::PreheatComplete => "preheat_complete",
            Self::StageChanged => "stage_changed",
            Self::TimerFinished => "timer_finished",
            Self::ProbeReached => "probe_reached",
            Self::CookStopped => "cook_stopped",
            Self::LowWater => "low_water",
            Self::Alarm => "alarm",
            Self::WaterTankEmpty => "water_tank_empty",
            Self::DoorOpened => "door_opened",
        }
    }
}

/// One cook event with the details its family adds (alarm names, stage numbers, …).
#[derive(Debug, Clone, PartialEq)]
pub struct CookEvent {
    /// What happened.
    pub kind: CookEventKind,
    /// Extra keys of the event payload.
    pub details: Map<String, Value>,
}

impl CookEvent {
    /// An event without details.
    pub fn new(kind: CookEventKind) -> Self {
        Self {
            kind,
            details: Map::new(),
        }
    }

    /// Adds a detail.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}
