//! What goes into the bridge core and what comes out of it. Plain data: the driver turns
//! sockets into [`Input`]s and [`Output`]s into socket writes.

use crate::appliance::record::{ResumedCook, Source};
use crate::cloud::{CloudError, CloudEvent};
use crate::command::{ErrorCode, Response};
use crate::ids::TopicId;
use crate::wire::CloudCommand;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The current time, both clocks: monotonic for deadlines, wall for what we publish. The
/// driver reads the clocks; the core never does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// For deadlines.
    pub instant: Instant,
    /// For timestamps.
    pub wall: OffsetDateTime,
}

impl Now {
    /// The real current time (for drivers, never called by the core).
    pub fn system() -> Self {
        Self {
            instant: Instant::now(),
            wall: OffsetDateTime::now_utc(),
        }
    }
}

/// Identifies a cloud command the driver runs for us; its result comes back with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Identifies a command that came through the local API; its response goes back with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiTicket(pub u64);

/// Where a command came from, so its one response goes back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `<base>/<id>/set…`: answered on `<base>/<id>/response`.
    Mqtt,
    /// The local API (HTTP, its stream, or the MCP server through it): answered with
    /// [`Output::Reply`]; the source says which door, for the cook history.
    Api(ApiTicket, Source),
    /// A plan whose time came (`docs/interface.md` §8.2): answered on `<base>/<id>/response`
    /// once, by the plan, when it is done trying.
    Schedule,
}

impl Origin {
    /// Who sent a command that came this way.
    pub fn source(self) -> Source {
        match self {
            Self::Mqtt => Source::Mqtt,
            Self::Api(_, source) => source,
            Self::Schedule => Source::Schedule,
        }
    }
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The cloud client reported something.
    Cloud(CloudEvent),
    /// The broker accepted our connection (again): subscribe and republish everything.
    MqttConnected,
    /// The broker connection dropped.
    MqttDisconnected,
    /// A message on a topic we subscribed to.
    Mqtt {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
        /// The retain flag (a retained command is never executed).
        retained: bool,
    },
    /// A command from the local API: the same JSON object as on `<base>/<id>/set`.
    ApiCommand {
        /// Correlates the response.
        ticket: ApiTicket,
        /// Which door it came through: `http` (the REST API and the stream), `mcp`,
        /// `schedule` (a plan whose time came).
        source: Source,
        /// The device's topic id.
        device: TopicId,
        /// The command object.
        payload: Vec<u8>,
    },
    /// The result of a cloud command from [`Output::Cloud`].
    CloudResult {
        /// Which command.
        ticket: Ticket,
        /// The cloud's answer.
        result: Result<(), CloudError>,
    },
    /// Whether anyone listens to the live stream (the local API's WebSocket): only then are
    /// [`Output::Stream`] messages made.
    StreamListeners(bool),
    /// How the cook history is doing (`ok`, `disabled`, `opening`, or the error), for
    /// `bridge/info` and `/healthz` (`docs/interface.md` §7).
    History(String),
    /// The cooks the store says were running when the daemon last stopped (read once at
    /// start, before the cloud's first state): each device's first state continues its cook or
    /// closes it as `unknown`.
    ResumeCooks(Vec<ResumedCook>),
    /// The plans the store kept (`docs/interface.md` §8.2), each as the bridge recorded it
    /// (`Record::PlanSaved`'s `data`), read once at start: each continues, starts late if
    /// that is still safe, or is reported missed.
    ResumePlans(Vec<String>),
    /// A device's past cooks that reached their target (the store's answer, asked by the
    /// driver at start and after each cook): `ready_by` and the food-safety watch estimate
    /// the time to heat from them.
    HeatingRates {
        /// The device.
        device: TopicId,
        /// Each cook's target and heating rate.
        rates: Vec<HeatSample>,
    },
    /// Time passed (wake-ups at the bridge's `poll_timeout`).
    Tick,
}

/// The MQTT quality of service of a publish. Everything in the contract is QoS 1; the type
/// says so where a publish is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qos {
    /// Acknowledged.
    AtLeastOnce,
}

/// One MQTT publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Payload (empty removes a retained message).
    pub payload: String,
    /// Retained.
    pub retain: bool,
    /// QoS.
    pub qos: Qos,
}

/// Something for the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Subscribe to these topic filters (after every broker connect).
    Subscribe(Vec<String>),
    /// Publish.
    Publish(Publish),
    /// Send a command to the cloud and report its result as [`Input::CloudResult`], at the
    /// latest at `deadline` (a later answer is no use: the command has been answered).
    Cloud {
        /// Correlates the result.
        ticket: Ticket,
        /// The command.
        command: CloudCommand,
        /// When the bridge stops waiting.
        deadline: Instant,
    },
    /// The response to an API command.
    Reply {
        /// The command's ticket.
        ticket: ApiTicket,
        /// Its one response.
        response: Response,
    },
    /// Drop the cloud connection and reconnect (the `refresh` request).
    ReconnectCloud,
    /// Log at this level from now on (the `options` request): `error` … `trace`.
    SetLogLevel(&'static str),
    /// Stop as at shutdown and start again with the configuration read anew (the `restart`
    /// request), after this request's response has gone out.
    Restart,
    /// A message for the live stream's listeners, serialised once:
    /// `{"type":"state"|"event"|"bridge"|"devices", …}`.
    Stream(Arc<str>),
    /// Something to remember in the cook history (`docs/interface.md` §7); the driver hands it
    /// to the store without waiting.
    Record(crate::appliance::record::Record),
    /// A command was answered (for metrics): its error code, `None` for ok, and how long it
    /// took from its arrival.
    CommandDone {
        /// The error code.
        code: Option<ErrorCode>,
        /// From arrival to the response.
        took: Duration,
    },
}

/// One past cook's heating (`Input::HeatingRates`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatSample {
    /// Its target, °C.
    pub target_c: f64,
    /// How fast it heated from its first reading to its target, °C per minute.
    pub per_minute: f64,
}
