//! The HTTP API's request body readers, for the `http_body` fuzz target.

use serde_json::Value;

/// The id a `POST /api/v1/devices/{id}/command` body carries, as the adapter reads it for the
/// errors it answers itself.
pub fn command_id(body: &[u8]) -> Option<Value> {
    super::rest::command_id(body)
}

/// A stream (`/api/v1/stream`) message of type `command`, as the stream hands it to the
/// bridge: the device and the command payload, with the message's `id` added when the command
/// has none. `None` when the message is not a command the stream would forward.
pub fn stream_command(text: &str) -> Option<(String, String)> {
    let message: Value = serde_json::from_str(text).ok()?;
    if message.get("type").and_then(Value::as_str) != Some("command") {
        return None;
    }
    let device = message.get("device").and_then(Value::as_str)?;
    let command = message.get("command")?;
    Some((
        device.to_owned(),
        super::stream::with_command_id(command, message.get("id")),
    ))
}
