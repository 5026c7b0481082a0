//! What the simulator records for tests and harnesses: the commands it received, and (when
//! asked) when each state push was written to a socket.

use super::wire::client::ClientFrame;
use std::sync::Arc;

/// A command the simulator received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedCommand {
    /// Which connection it came on (ids start at 1, in accept order of successful upgrades).
    pub connection: u64,
    /// When it arrived.
    pub received_at: tokio::time::Instant,
    /// The parsed frame; a known APC command with a payload that does not decode has
    /// [`ClientCommand::Invalid`](super::ClientCommand::Invalid) as its body.
    pub frame: ClientFrame,
}

/// One state push written to a socket, for latency measurements
/// ([`SimulatorHandle::push_times`](super::SimulatorHandle::push_times)).
#[derive(Debug, Clone, PartialEq)]
pub struct PushRecord {
    /// The connection it was written to.
    pub connection: u64,
    /// The device whose state it carried.
    pub cooker_id: Arc<str>,
    /// The water temperature in the frame, °C, exactly as sent (cookers only; `None` for ovens).
    pub water_temperature_c: Option<f64>,
    /// When the write (and its flush) completed.
    pub written_at: std::time::Instant,
}

/// What a state push carries for the latency hook; attached only while recording is on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PushTag {
    pub(crate) cooker_id: Arc<str>,
    pub(crate) water_temperature_c: Option<f64>,
}
