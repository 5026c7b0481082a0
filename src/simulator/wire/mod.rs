//! The simulator's own wire layer: everything it puts on the socket, and how it reads what
//! clients send ([`client`]). It shares no code with the product's protocol module on purpose:
//! the simulator is the oracle our tests trust, so it must not inherit the product's mistakes.
//!
//! Server frames are built here key for key as the captures in `tests/fixtures/anova-messages/`
//! (`docs/anova-protocol.md` §2, §3): `{"command": …, "payload": …}` for events, and
//! `{"command":"RESPONSE","requestId":…,"payload":{"status":…,"error"?:…}}` for answers.

pub(crate) mod client;

use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;
use time::{Duration, OffsetDateTime, UtcOffset};
pub(crate) use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A device `type` exactly as the cloud spells it (`a7`, `pro`, `oven_v2`, …); comparisons with
/// what a client sends ignore case, as the apps lowercase types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceType(String);

impl DeviceType {
    /// A device type from its wire text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` names the same type, ignoring case.
    pub fn matches(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A temperature unit as commands and states write it (`"C"` / `"F"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TemperatureUnit {
    /// Degrees Celsius.
    C,
    /// Degrees Fahrenheit.
    F,
}

impl TemperatureUnit {
    /// Reads `C`/`c`/`F`/`f` (surrounding blanks ignored).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "C" | "c" => Some(Self::C),
            "F" | "f" => Some(Self::F),
            _ => None,
        }
    }

    /// Converts a value in this unit to °C.
    pub fn to_celsius(self, value: f64) -> f64 {
        match self {
            Self::C => value,
            Self::F => (value - 32.0) * 5.0 / 9.0,
        }
    }
}

impl fmt::Display for TemperatureUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::C => "C",
            Self::F => "F",
        })
    }
}

/// °C to °F, rounded to the hundredths `oven_v1` reports.
pub(crate) fn fahrenheit(celsius: f64) -> f64 {
    round2(celsius * 9.0 / 5.0 + 32.0)
}

/// Rounds to the hundredths every device reports.
pub(crate) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// An instant written as ISO 8601 in whole seconds, UTC (`2024-07-05T21:49:10Z`), as Gen 3 cookers
/// and ovens write their timestamps. Rounds to the nearest second; serialises without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WholeSeconds(pub(crate) OffsetDateTime);

impl fmt::Display for WholeSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.to_offset(UtcOffset::UTC) + Duration::milliseconds(500);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl Serialize for WholeSeconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An instant with milliseconds, as `pairedAt` and oven `updatedTimestamp`s are
/// (`2024-07-05T17:36:59.347Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Millis(pub(crate) OffsetDateTime);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.to_offset(UtcOffset::UTC);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A frame injected with `Fault::RawFrame`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFrame {
    /// A text frame (need not be JSON).
    Text(String),
    /// A binary frame (the apps ignore them).
    Binary(Vec<u8>),
}

/// The event names the simulator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventName {
    ApcWifiList,
    ApcWifiAdded,
    ApcWifiRemoved,
    ApcState,
    ApoWifiList,
    ApoWifiAdded,
    ApoWifiRemoved,
    ApoState,
    ApoWifiFirmwareUpdate,
    UserState,
}

impl EventName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::ApcWifiList => "EVENT_APC_WIFI_LIST",
            Self::ApcWifiAdded => "EVENT_APC_WIFI_ADDED",
            Self::ApcWifiRemoved => "EVENT_APC_WIFI_REMOVED",
            Self::ApcState => "EVENT_APC_STATE",
            Self::ApoWifiList => "EVENT_APO_WIFI_LIST",
            Self::ApoWifiAdded => "EVENT_APO_WIFI_ADDED",
            Self::ApoWifiRemoved => "EVENT_APO_WIFI_REMOVED",
            Self::ApoState => "EVENT_APO_STATE",
            Self::ApoWifiFirmwareUpdate => "EVENT_APO_WIFI_FIRMWARE_UPDATE",
            Self::UserState => "EVENT_USER_STATE",
        }
    }
}

/// `{"command": <name>, "payload": <payload>}`, as the shared text a WebSocket frame carries
/// (cloning it for each connection copies nothing).
pub(crate) fn event<P: Serialize>(name: EventName, payload: &P) -> Utf8Bytes {
    #[derive(serde::Serialize)]
    struct Envelope<'a, P> {
        command: &'static str,
        payload: &'a P,
    }
    let envelope = Envelope {
        command: name.as_str(),
        payload,
    };
    // Our own plain data always serialises.
    serde_json::to_string(&envelope).unwrap_or_default().into()
}

/// `EVENT_APC_STATE` / `EVENT_APO_STATE`: `{"command":…,"payload":{"cookerId":…,"type":…,
/// "state":<body>}}`, with the body written by `write_body` straight into the frame (one buffer
/// per frame, no intermediate JSON tree: this is the load generator's hot path).
pub(crate) fn state_event(
    name: EventName,
    cooker_id: &str,
    device_type: &DeviceType,
    write_body: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
) -> Utf8Bytes {
    let mut out = Vec::with_capacity(1536);
    let written = (|| {
        out.extend_from_slice(b"{\"command\":\"");
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b"\",\"payload\":{\"cookerId\":");
        serde_json::to_writer(&mut out, cooker_id)?;
        out.extend_from_slice(b",\"type\":");
        serde_json::to_writer(&mut out, device_type.as_str())?;
        out.extend_from_slice(b",\"state\":");
        write_body(&mut out)?;
        out.extend_from_slice(b"}}");
        Ok::<_, serde_json::Error>(())
    })();
    match written.map(|()| String::from_utf8(out)) {
        Ok(Ok(text)) => text.into(),
        // serde_json writes UTF-8 only, and our bodies always serialise.
        _ => Utf8Bytes::from_static(""),
    }
}

/// One paired device in `EVENT_APC_WIFI_LIST` / `EVENT_APO_WIFI_LIST` / `…_WIFI_ADDED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListEntry<'a> {
    pub(crate) cooker_id: &'a str,
    pub(crate) device_type: &'a DeviceType,
    pub(crate) name: &'a str,
    pub(crate) paired_at: &'a str,
}

impl Serialize for ListEntry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The key order of the real lists: cookerId, type, pairedAt, name.
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("cookerId", self.cooker_id)?;
        map.serialize_entry("type", self.device_type.as_str())?;
        map.serialize_entry("pairedAt", self.paired_at)?;
        map.serialize_entry("name", self.name)?;
        map.end()
    }
}

/// `EVENT_APO_WIFI_FIRMWARE_UPDATE`'s payload, key for key as the real capture
/// (`EVENT_APO_WIFI_FIRMWARE_UPDATE.oven_v1.real.json`): the installed version and the offer.
#[derive(Debug, serde::Serialize)]
pub(crate) struct FirmwareUpdate<'a> {
    #[serde(rename = "cookerId")]
    pub(crate) cooker_id: &'a str,
    pub(crate) ota: Ota<'a>,
    #[serde(rename = "type")]
    pub(crate) device_type: &'a str,
    pub(crate) version: &'a str,
}

/// The `ota` block of [`FirmwareUpdate`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct Ota<'a> {
    pub(crate) available: bool,
    pub(crate) description: &'a str,
    pub(crate) required: bool,
    pub(crate) url: &'a str,
    pub(crate) version: &'a str,
}

/// `EVENT_APC_WIFI_REMOVED` / `EVENT_APO_WIFI_REMOVED`: `{"cookerId": …}`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Removed<'a> {
    #[serde(rename = "cookerId")]
    pub(crate) cooker_id: &'a str,
}

/// `EVENT_USER_STATE`, as in the real capture (`EVENT_USER_STATE.real.json`).
pub(crate) fn user_state() -> Utf8Bytes {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Subscription {
        has_valid_subscription: bool,
        is_legacy_account: bool,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct UserState {
        is_connected_to_alexa: bool,
        is_connected_to_google_home: bool,
        sous_vide_subscription: Subscription,
        oven_subscription: Subscription,
    }
    let subscription = || Subscription {
        has_valid_subscription: true,
        is_legacy_account: true,
    };
    event(
        EventName::UserState,
        &UserState {
            is_connected_to_alexa: false,
            is_connected_to_google_home: false,
            sous_vide_subscription: subscription(),
            oven_subscription: subscription(),
        },
    )
}

/// A `RESPONSE` frame: `ok`, or `error` with the cloud's error text in `payload.error` (the
/// failure `status` was never captured; `docs/anova-protocol.md` §2 says to use `error`).
pub(crate) fn response(request_id: &str, outcome: Result<(), &str>) -> String {
    #[derive(serde::Serialize)]
    struct Payload<'a> {
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
    }
    #[derive(serde::Serialize)]
    struct Frame<'a> {
        command: &'static str,
        #[serde(rename = "requestId")]
        request_id: &'a str,
        payload: Payload<'a>,
    }
    let payload = match outcome {
        Ok(()) => Payload {
            status: "ok",
            error: None,
        },
        Err(text) => Payload {
            status: "error",
            error: Some(text),
        },
    };
    let frame = Frame {
        command: "RESPONSE",
        request_id,
        payload,
    };
    serde_json::to_string(&frame).unwrap_or_default()
}

/// `{"celsius": x}`, how Gen 3 cookers and ovens write a temperature.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub(crate) struct Celsius {
    pub(crate) celsius: f64,
}

/// An empty JSON object, `{}`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub(crate) struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use time::macros::datetime;

    #[test]
    fn timestamps() {
        let t = datetime!(2024-07-05 21:49:10.6 UTC);
        assert_eq!(WholeSeconds(t).to_string(), "2024-07-05T21:49:11Z");
        let t = datetime!(2024-07-05 17:36:59.347891 UTC);
        assert_eq!(Millis(t).to_string(), "2024-07-05T17:36:59.347Z");
        assert_eq!(
            serde_json::to_string(&WholeSeconds(datetime!(2024-12-31 23:59:59.7 UTC))).unwrap(),
            "\"2025-01-01T00:00:00Z\""
        );
    }

    #[test]
    fn responses_as_documented() {
        let ok: Value = serde_json::from_str(&response("r1", Ok(()))).unwrap();
        assert_eq!(
            ok,
            json!({"command": "RESPONSE", "requestId": "r1", "payload": {"status": "ok"}})
        );
        let error: Value = serde_json::from_str(&response("r2", Err("unauthorized"))).unwrap();
        assert_eq!(
            error,
            json!({"command": "RESPONSE", "requestId": "r2",
                   "payload": {"status": "error", "error": "unauthorized"}})
        );
    }

    #[test]
    fn state_events_wrap_the_body() {
        let frame = state_event(
            EventName::ApcState,
            "id\"1",
            &DeviceType::new("a7"),
            |out| serde_json::to_writer(out, &json!({"version": 1})),
        );
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            value,
            json!({"command": "EVENT_APC_STATE",
                   "payload": {"cookerId": "id\"1", "type": "a7", "state": {"version": 1}}})
        );
    }

    #[test]
    fn list_entries_and_temperatures() {
        let device_type = DeviceType::new("oven_v1");
        let entry = ListEntry {
            cooker_id: "o1",
            device_type: &device_type,
            name: "Oven",
            paired_at: "2024-01-03T21:58:15.159Z",
        };
        assert_eq!(
            serde_json::to_value(entry).unwrap(),
            json!({"cookerId": "o1", "type": "oven_v1",
                   "pairedAt": "2024-01-03T21:58:15.159Z", "name": "Oven"})
        );
        assert_eq!(serde_json::to_value(Empty {}).unwrap(), json!({}));
        assert_eq!(fahrenheit(58.333), 137.0);
        assert!(DeviceType::new("A7").matches("a7"));
        assert_eq!(TemperatureUnit::F.to_celsius(212.0), 100.0);
        assert_eq!(TemperatureUnit::parse(" f"), Some(TemperatureUnit::F));
    }
}
