//! What the core asks to be remembered (`docs/interface.md` §7): the life of every cook, its
//! events, the commands sent during it and its temperature curve. The core decides *what* is
//! recorded and emits it as [`Output::Record`](crate::bridge::Output::Record); the store
//! (`crate::store`) decides *how*, on its own thread, and never delays a push.
//!
//! Plain data, like the rest of the core's outputs. Times are wall-clock times as the core
//! received them with its input; temperatures are °C.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Who started a cook or sent a command (`docs/interface.md` §7, `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `<base>/<id>/set…` on MQTT.
    Mqtt,
    /// The local HTTP API or its stream.
    Http,
    /// An assistant through the MCP server.
    Mcp,
    /// A plan whose time came (§8).
    Schedule,
    /// Not us: the Anova app or the device's own buttons.
    Device,
}

impl Source {
    /// Every source, in the order of the contract.
    pub const ALL: [Source; 5] = [
        Self::Mqtt,
        Self::Http,
        Self::Mcp,
        Self::Schedule,
        Self::Device,
    ];

    /// The name in the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mqtt => "mqtt",
            Self::Http => "http",
            Self::Mcp => "mcp",
            Self::Schedule => "schedule",
            Self::Device => "device",
        }
    }

    /// The source of a name from [`Source::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// How a cook ended (`docs/interface.md` §7, `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CookOutcome {
    /// Its timer or last stage finished.
    Completed,
    /// Stopped by one of our commands.
    Stopped,
    /// Stopped elsewhere: the Anova app or the device's buttons.
    StoppedOnDevice,
    /// Ended by an alarm or a fault.
    Failed,
    /// The device or the cloud was gone when it ended, so nobody saw how.
    Unknown,
}

impl CookOutcome {
    /// Every outcome.
    pub const ALL: [CookOutcome; 5] = [
        Self::Completed,
        Self::Stopped,
        Self::StoppedOnDevice,
        Self::Failed,
        Self::Unknown,
    ];

    /// The name in the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Stopped => "stopped",
            Self::StoppedOnDevice => "stopped_on_device",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    /// The outcome of a name from [`CookOutcome::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// The figures of a finished cook, carried by `cook_stopped` and recorded with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CookSummary {
    /// How it ended.
    pub outcome: CookOutcome,
    /// From start to end, seconds.
    pub duration_s: u64,
    /// From start until the device first reached its target, seconds; `None` if it never did.
    pub time_to_target_s: Option<u64>,
    /// The lowest temperature once the target was reached (°C, the controlling reading).
    pub min_c: Option<f64>,
    /// The highest temperature once the target was reached.
    pub max_c: Option<f64>,
}

/// One point of a cook's curve, °C (humidity in %). Cookers fill `temperature` (the water)
/// and `target`; ovens the controlling bulb, target, probe and humidity.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CurvePoint {
    /// The controlling temperature: the water, or the oven's controlling bulb.
    pub temperature: Option<f64>,
    /// The target.
    pub target: Option<f64>,
    /// The food probe (ovens).
    pub probe: Option<f64>,
    /// Relative humidity, % (ovens).
    pub humidity: Option<f64>,
}

/// A cook began.
#[derive(Debug, Clone, PartialEq)]
pub struct CookOpened {
    /// Our id of the cook.
    pub cook_id: String,
    /// The device's topic id.
    pub device: String,
    /// The Anova `type`.
    pub model: String,
    /// `cooker` or `oven`.
    pub family: &'static str,
    /// Who started it.
    pub source: Source,
    /// When.
    pub started_at: OffsetDateTime,
    /// What it was asked to do, as JSON (targets, timer, food, oven stages).
    pub plan: String,
}

/// Something to remember, in the order the core saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A cook began.
    CookOpened(Box<CookOpened>),
    /// A running cook was changed; `plan` replaces the one recorded.
    CookChanged {
        /// The cook.
        cook_id: String,
        /// Its plan from now on, JSON.
        plan: String,
    },
    /// A cook event, as published on `<base>/<id>/event`.
    Event {
        /// The cook.
        cook_id: String,
        /// When.
        at: OffsetDateTime,
        /// Its `event_type`.
        kind: &'static str,
        /// The whole payload, JSON.
        payload: String,
    },
    /// A command and its one response.
    Command {
        /// The device's topic id.
        device: String,
        /// The cook it belongs to, when one was running (or started by it).
        cook_id: Option<String>,
        /// When it was answered.
        at: OffsetDateTime,
        /// Where it came from.
        source: Source,
        /// The command as received (a JSON object; a plain key becomes `{key: value}`).
        request: String,
        /// The response, JSON.
        response: String,
    },
    /// A point of the curve.
    Sample {
        /// The cook.
        cook_id: String,
        /// When.
        at: OffsetDateTime,
        /// The readings.
        point: CurvePoint,
    },
    /// A cook ended.
    CookClosed {
        /// The cook.
        cook_id: String,
        /// When.
        ended_at: OffsetDateTime,
        /// Its figures.
        summary: CookSummary,
    },
    /// A plan (`docs/interface.md` §8.2) was made or changed: the store keeps it so that a restart
    /// continues it.
    PlanSaved {
        /// Its id.
        schedule_id: String,
        /// The device's topic id.
        device: String,
        /// When it starts.
        start_at: OffsetDateTime,
        /// The whole plan as the bridge reads it back ([`crate::bridge::Input::ResumePlans`]).
        data: String,
    },
    /// A plan ended: it started, or was cancelled, replaced, failed or missed.
    PlanEnded {
        /// Its id.
        schedule_id: String,
        /// When.
        ended_at: OffsetDateTime,
        /// `started`, `cancelled`, `replaced`, `failed` or `missed`.
        outcome: &'static str,
    },
}

/// A cook that was still running when the daemon last stopped, as the store remembers it:
/// handed to the bridge at start ([`Input::ResumeCooks`](crate::bridge::Input::ResumeCooks)) so the
/// first state of its device can continue it instead of opening a second one.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumedCook {
    /// Our id of the cook.
    pub cook_id: String,
    /// The device's topic id.
    pub device: String,
    /// Who started it.
    pub source: Source,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// Its plan, JSON.
    pub plan: String,
    /// When it first reached its target, if it did.
    pub reached_at: Option<OffsetDateTime>,
    /// The lowest and highest temperature since then.
    pub min_c: Option<f64>,
    /// See `min_c`.
    pub max_c: Option<f64>,
    /// Its last recorded time (the last sample or event), for an end seen only after a gap.
    pub last_seen: OffsetDateTime,
    /// Its curve so far, thinned to a chart's worth: time, temperature, target.
    pub points: Vec<(OffsetDateTime, f64, Option<f64>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for source in Source::ALL {
            assert_eq!(Source::parse(source.as_str()), Some(source));
            assert_eq!(
                serde_json::to_value(source).unwrap(),
                serde_json::Value::from(source.as_str())
            );
        }
        for outcome in CookOutcome::ALL {
            assert_eq!(CookOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Source::parse("app"), None);
    }
}
