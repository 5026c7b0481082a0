//! Wire types of the Anova cloud WebSocket (`wss://devices.anovaculinary.io`).
//!
//! Every frame is one JSON text frame. Server → client frames are
//! `{"command": "EVENT_…" | "RESPONSE", "payload": …}` (a `RESPONSE` also carries `requestId`);
//! client → server frames are `{"command": "CMD_…", "requestId": "…", "payload": {…}}`.
//! See `anova-protocol.md` §2–4 for the provenance of every field.
//!
//! Two rules shape this module:
//! - **Never fail a whole frame on something new.** Unknown event names become
//!   [`Event::Unknown`], unknown fields are ignored, and every enum has an `Unknown(String)` case
//!   that keeps the value verbatim. Numbers are read leniently (an integer sent as `1200.0` is
//!   still 1200).
//! - **Serialise exactly like the real cloud.** The simulator builds its frames from these same
//!   types, so field names, nesting and the omission of absent fields match the real captures.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;

/// Why a frame could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The frame is not a JSON object with a string `command`.
    #[error("frame is not valid JSON with a \"command\": {0}")]
    InvalidFrame(#[source] serde_json::Error),
    /// A known command whose payload does not have the documented shape.
    #[error("{command}: payload does not match the documented shape: {source}")]
    InvalidPayload {
        /// The frame's `command`.
        command: String,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

// ---------------------------------------------------------------------------------------------
// Small building blocks
// ---------------------------------------------------------------------------------------------

/// Declares a string enum of the wire that keeps values it does not know.
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The exact text used on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(StrVisitor).map(|text| Self::from(text.as_str()))
            }
        }
    };
}

/// Reads a string without caring whether serde can borrow it.
struct StrVisitor;

impl Visitor<'_> for StrVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

/// Lenient number readers: the cloud's JSON comes from several firmware families, so an integer
/// field may arrive as `1200.0` or `"1200"`, and a float as an integer. None of that should cost
/// us the whole frame.
mod lenient {
    use super::*;

    fn to_f64(value: &Value) -> Option<f64> {
        match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    /// An optional integer; non-numbers become `None` rather than an error.
    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let value = Option::<Value>::deserialize(d)?;
        Ok(value.as_ref().and_then(to_f64).and_then(|f| {
            // `as` saturates; a value outside i64 is nonsense we would rather clamp than reject.
            f.is_finite().then(|| f.round() as i64)
        }))
    }

    /// An optional float; non-numbers become `None` rather than an error.
    pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let value = Option::<Value>::deserialize(d)?;
        Ok(value.as_ref().and_then(to_f64).filter(|f| f.is_finite()))
    }

    /// An optional bool that also accepts 0/1 and "true"/"false".
    pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let value = Option::<Value>::deserialize(d)?;
        Ok(match value {
            Some(Value::Bool(b)) => Some(b),
            Some(Value::Number(n)) => n.as_f64().map(|f| f != 0.0),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        })
    }
}

/// Writes a float the way the apps do: whole numbers without a fraction (`60`, not `60.0`).
fn compact_float<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        // Exact for every whole number a temperature can be.
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => serializer.serialize_i64(*v as i64),
        Some(v) => serializer.serialize_f64(*v),
        None => serializer.serialize_none(),
    }
}

/// A device `type` exactly as the cloud spelled it (`a7`, `pro`, …).
///
/// Commands must carry the device's exact `type` (a wrong one is acknowledged `ok` and silently
/// ignored by the cloud), so the original text is kept; comparisons are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceType(pub String);

impl DeviceType {
    /// Builds a device type from its wire text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The exact wire text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Which state schema this type reports (`anova-protocol.md` §3.2 and §4.5).
    pub fn generation(&self) -> Generation {
        match self.0.to_ascii_lowercase().as_str() {
            "a6" | "a7" | "a8" | "a9" => Generation::Gen3,
            "a4" | "a5" | "pro" | "honey-badger" => Generation::Gen2,
            "a3" => Generation::A3,
            "oven_v1" | "oven_v2" => Generation::Oven,
            _ => Generation::Unknown,
        }
    }

    /// True when both name the same type, ignoring case (the app lowercases types).
    pub fn matches(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The state schema family of a device type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// `a6`–`a9`: camelCase `SousVideState` with `{celsius}` objects.
    Gen3,
    /// `a4`, `a5`, `pro`, `honey-badger`: kebab-case `job` / `job-status` body.
    Gen2,
    /// First-generation Wi-Fi `a3`: camelCase, temperatures in the display unit.
    A3,
    /// Precision Ovens; not handled by this gateway.
    Oven,
    /// A type this version does not know.
    Unknown,
}

/// A temperature unit as it appears in commands and Gen 2/Gen 3 state (`"C"` / `"F"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemperatureUnit {
    /// Degrees Celsius.
    C,
    /// Degrees Fahrenheit.
    F,
}

impl TemperatureUnit {
    /// Parses `C`/`c`/`F`/`f`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "C" | "c" => Some(Self::C),
            "F" | "f" => Some(Self::F),
            _ => None,
        }
    }

    /// `"C"` or `"F"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::C => "C",
            Self::F => "F",
        }
    }

    /// Converts a value in this unit to °C.
    pub fn to_celsius(self, value: f64) -> f64 {
        match self {
            Self::C => value,
            Self::F => (value - 32.0) * 5.0 / 9.0,
        }
    }

    /// Converts a °C value to this unit.
    pub fn from_celsius(self, celsius: f64) -> f64 {
        match self {
            Self::C => celsius,
            Self::F => celsius * 9.0 / 5.0 + 32.0,
        }
    }
}

impl fmt::Display for TemperatureUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TemperatureUnit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TemperatureUnit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserializer.deserialize_str(StrVisitor)?;
        Self::parse(&text).ok_or_else(|| de::Error::custom(format!("unknown unit {text:?}")))
    }
}

/// `{ "celsius": n }`, the Gen 3 way of writing a temperature.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Celsius {
    /// Degrees Celsius.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub celsius: Option<f64>,
}

impl Celsius {
    /// A known temperature.
    pub fn new(celsius: f64) -> Self {
        Self {
            celsius: Some(celsius),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server → client events
// ---------------------------------------------------------------------------------------------

/// One server → client frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `EVENT_APC_WIFI_LIST`: every paired sous-vide cooker; sent on every connect.
    ApcWifiList(Vec<DeviceListEntry>),
    /// `EVENT_APC_STATE`: one cooker's state.
    ApcState(ApcStateEvent),
    /// `EVENT_APC_WIFI_ADDED`: a cooker paired during this session.
    ApcWifiAdded(DeviceListEntry),
    /// `EVENT_APC_WIFI_REMOVED`: a cooker unpaired during this session.
    ApcWifiRemoved(DeviceRemoved),
    /// `EVENT_APC_WIFI_VERSION`: firmware / OTA availability.
    ApcWifiVersion(Vec<FirmwareVersion>),
    /// `EVENT_USER_STATE`: account flags; the gateway ignores it.
    UserState(UserState),
    /// `EVENT_APO_WIFI_LIST`: ovens; recognised, not bridged.
    ApoWifiList(Vec<DeviceListEntry>),
    /// `EVENT_APO_STATE`: an oven's state; recognised, not bridged.
    ApoState(ApoStateEvent),
    /// `RESPONSE`: the answer to one command, matched by `requestId`.
    Response(Response),
    /// Any other `command`, kept so it can be logged.
    Unknown {
        /// The frame's `command`.
        command: String,
        /// The raw payload (`null` when absent).
        payload: Value,
    },
}

/// The envelope read before the payload's type is known.
#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(borrow)]
    command: std::borrow::Cow<'a, str>,
    #[serde(default, rename = "requestId")]
    request_id: Option<String>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<Value>,
}

fn payload_of<'a, T: Deserialize<'a>>(
    command: &str,
    payload: Option<&'a RawValue>,
) -> Result<T, ProtocolError> {
    let raw = payload.map_or("null", RawValue::get);
    serde_json::from_str(raw).map_err(|source| ProtocolError::InvalidPayload {
        command: command.to_owned(),
        source,
    })
}

/// Reads an error text that may be a string or a structured value.
fn error_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => map
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| Some(value.to_string())),
        other => Some(other.to_string()),
    }
}

impl Event {
    /// Parses one text frame from the server.
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let frame: RawFrame<'_> =
            serde_json::from_str(text).map_err(ProtocolError::InvalidFrame)?;
        let command = frame.command.as_ref();
        Ok(match command {
            "EVENT_APC_WIFI_LIST" => Self::ApcWifiList(payload_of(command, frame.payload)?),
            "EVENT_APC_STATE" => Self::ApcState(ApcStateEvent::parse(frame.payload)?),
            "EVENT_APC_WIFI_ADDED" => Self::ApcWifiAdded(payload_of(command, frame.payload)?),
            "EVENT_APC_WIFI_REMOVED" => Self::ApcWifiRemoved(payload_of(command, frame.payload)?),
            "EVENT_APC_WIFI_VERSION" => Self::ApcWifiVersion(payload_of(command, frame.payload)?),
            "EVENT_USER_STATE" => Self::UserState(payload_of(command, frame.payload)?),
            "EVENT_APO_WIFI_LIST" => Self::ApoWifiList(payload_of(command, frame.payload)?),
            "EVENT_APO_STATE" => Self::ApoState(payload_of(command, frame.payload)?),
            "RESPONSE" => {
                let payload: ResponsePayload = match frame.payload {
                    Some(_) => payload_of(command, frame.payload)?,
                    None => ResponsePayload::default(),
                };
                // The app reads the error text from `payload.error` or from the top level.
                let error = payload
                    .error
                    .as_ref()
                    .and_then(error_text)
                    .or_else(|| frame.error.as_ref().and_then(error_text));
                Self::Response(Response {
                    request_id: frame.request_id.unwrap_or_default(),
                    status: payload.status.unwrap_or_default(),
                    error,
                    data: payload.data,
                })
            }
            other => Self::Unknown {
                command: other.to_owned(),
                payload: match frame.payload {
                    Some(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
                    None => Value::Null,
                },
            },
        })
    }

    /// The frame's `command` name.
    pub fn command(&self) -> &str {
        match self {
            Self::ApcWifiList(_) => "EVENT_APC_WIFI_LIST",
            Self::ApcState(_) => "EVENT_APC_STATE",
            Self::ApcWifiAdded(_) => "EVENT_APC_WIFI_ADDED",
            Self::ApcWifiRemoved(_) => "EVENT_APC_WIFI_REMOVED",
            Self::ApcWifiVersion(_) => "EVENT_APC_WIFI_VERSION",
            Self::UserState(_) => "EVENT_USER_STATE",
            Self::ApoWifiList(_) => "EVENT_APO_WIFI_LIST",
            Self::ApoState(_) => "EVENT_APO_STATE",
            Self::Response(_) => "RESPONSE",
            Self::Unknown { command, .. } => command,
        }
    }

    /// Serialises the frame as the real cloud would send it.
    pub fn to_json(&self) -> String {
        fn envelope<T: Serialize>(command: &str, payload: &T) -> String {
            #[derive(Serialize)]
            struct Envelope<'a, T> {
                command: &'a str,
                payload: &'a T,
            }
            // Serialising our own plain data types cannot fail.
            serde_json::to_string(&Envelope { command, payload }).unwrap_or_default()
        }
        match self {
            Self::ApcWifiList(list) | Self::ApoWifiList(list) => envelope(self.command(), list),
            Self::ApcState(state) => envelope(self.command(), state),
            Self::ApcWifiAdded(entry) => envelope(self.command(), entry),
            Self::ApcWifiRemoved(removed) => envelope(self.command(), removed),
            Self::ApcWifiVersion(versions) => envelope(self.command(), versions),
            Self::UserState(user) => envelope(self.command(), user),
            Self::ApoState(state) => envelope(self.command(), state),
            Self::Response(response) => response.to_json(),
            Self::Unknown { command, payload } => envelope(command, payload),
        }
    }
}

/// One paired device, from `EVENT_APC_WIFI_LIST` or `EVENT_APC_WIFI_ADDED`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceListEntry {
    /// The cloud's opaque device id.
    #[serde(rename = "cookerId")]
    pub cooker_id: String,
    /// The device type (`a7`, `pro`, …).
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    /// The name the user gave it in the Anova app (default: the product name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was paired (ISO 8601).
    #[serde(default, rename = "pairedAt", skip_serializing_if = "Option::is_none")]
    pub paired_at: Option<String>,
}

/// `EVENT_APC_WIFI_REMOVED`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRemoved {
    /// The device that was unpaired.
    #[serde(rename = "cookerId")]
    pub cooker_id: String,
}

/// One entry of `EVENT_APC_WIFI_VERSION`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirmwareVersion {
    /// The device.
    #[serde(rename = "cookerId")]
    pub cooker_id: String,
    /// The installed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What the cloud offers, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ota: Option<Value>,
}

/// `EVENT_USER_STATE`: account flags.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserState {
    /// Linked to Alexa.
    #[serde(
        default,
        rename = "isConnectedToAlexa",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_connected_to_alexa: Option<bool>,
    /// Linked to Google Home.
    #[serde(
        default,
        rename = "isConnectedToGoogleHome",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_connected_to_google_home: Option<bool>,
    /// Sous-vide app subscription.
    #[serde(
        default,
        rename = "sousVideSubscription",
        skip_serializing_if = "Option::is_none"
    )]
    pub sous_vide_subscription: Option<Subscription>,
    /// Oven app subscription.
    #[serde(
        default,
        rename = "ovenSubscription",
        skip_serializing_if = "Option::is_none"
    )]
    pub oven_subscription: Option<Subscription>,
}

/// A subscription flag block of `EVENT_USER_STATE`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Subscription {
    /// Whether the subscription is valid.
    #[serde(
        default,
        rename = "hasValidSubscription",
        skip_serializing_if = "Option::is_none"
    )]
    pub has_valid_subscription: Option<bool>,
    /// A pre-subscription account.
    #[serde(
        default,
        rename = "isLegacyAccount",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_legacy_account: Option<bool>,
    /// Store product id.
    #[serde(default, rename = "productId", skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Renewal period.
    #[serde(
        default,
        rename = "renewalPeriod",
        skip_serializing_if = "Option::is_none"
    )]
    pub renewal_period: Option<String>,
}

/// `EVENT_APO_STATE`, kept raw: ovens are recognised but not bridged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApoStateEvent {
    /// The oven.
    #[serde(rename = "cookerId")]
    pub cooker_id: String,
    /// `oven_v1` / `oven_v2`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub device_type: Option<DeviceType>,
    /// The oven state, verbatim.
    #[serde(default)]
    pub state: Value,
}

/// `EVENT_APC_STATE`: `{cookerId, type, state}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApcStateEvent {
    /// The cooker.
    #[serde(rename = "cookerId")]
    pub cooker_id: String,
    /// Its type; missing in some captures (then the device list's type applies).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub device_type: Option<DeviceType>,
    /// The generation-specific body.
    pub state: ApcState,
}

/// The body of `EVENT_APC_STATE`, whose shape depends on the generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ApcState {
    /// `a6`–`a9`.
    Gen3(Box<Gen3State>),
    /// `a4`, `a5`, `pro`, `honey-badger`.
    Gen2(Box<Gen2State>),
    /// `a3`.
    A3(Box<A3State>),
    /// A body we cannot place; kept verbatim.
    Unknown(Value),
}

impl ApcState {
    /// Picks the body's schema: by `type` first, as the app does, and by content when the type
    /// is missing, unknown, or its schema does not fit (`anova-protocol.md` §3.2).
    pub fn parse(
        device_type: Option<&DeviceType>,
        raw: &RawValue,
    ) -> Result<Self, serde_json::Error> {
        let by_type = device_type.map(DeviceType::generation);
        let typed = match by_type {
            Some(Generation::Gen3) => serde_json::from_str(raw.get())
                .map(|s| Self::Gen3(Box::new(s)))
                .ok(),
            Some(Generation::Gen2) => serde_json::from_str(raw.get())
                .map(|s| Self::Gen2(Box::new(s)))
                .ok(),
            Some(Generation::A3) => serde_json::from_str(raw.get())
                .map(|s| Self::A3(Box::new(s)))
                .ok(),
            _ => None,
        };
        if let Some(state) = typed.filter(|s| s.fits_content(raw)) {
            return Ok(state);
        }
        // Content fallback: look at the top-level keys only.
        let keys: Map<String, Value> = serde_json::from_str(raw.get())?;
        if keys.contains_key("systemInfo") && keys.contains_key("nodes") {
            Ok(Self::Gen3(Box::new(serde_json::from_str(raw.get())?)))
        } else if keys.contains_key("job") || keys.contains_key("job-status") {
            Ok(Self::Gen2(Box::new(serde_json::from_str(raw.get())?)))
        } else if keys.contains_key("isCooking") {
            Ok(Self::A3(Box::new(serde_json::from_str(raw.get())?)))
        } else {
            Ok(Self::Unknown(Value::Object(keys)))
        }
    }

    /// A typed parse always succeeds on an empty object (every field is optional), so a body
    /// chosen by `type` is only trusted when it has that generation's landmark keys.
    fn fits_content(&self, raw: &RawValue) -> bool {
        match self {
            Self::Gen3(s) => s.nodes.is_some() || s.state.is_some() || s.system_info.is_some(),
            Self::Gen2(s) => s.job.is_some() || s.job_status.is_some(),
            Self::A3(s) => s.is_cooking.is_some() || s.current_temperature.is_some(),
            Self::Unknown(_) => raw.get().trim() == "{}",
        }
    }
}

impl ApcStateEvent {
    fn parse(payload: Option<&RawValue>) -> Result<Self, ProtocolError> {
        #[derive(Deserialize)]
        struct Header<'a> {
            #[serde(rename = "cookerId")]
            cooker_id: String,
            #[serde(default, rename = "type")]
            device_type: Option<DeviceType>,
            #[serde(borrow)]
            state: &'a RawValue,
        }
        let header: Header<'_> = payload_of("EVENT_APC_STATE", payload)?;
        let state =
            ApcState::parse(header.device_type.as_ref(), header.state).map_err(|source| {
                ProtocolError::InvalidPayload {
                    command: "EVENT_APC_STATE".to_owned(),
                    source,
                }
            })?;
        Ok(Self {
            cooker_id: header.cooker_id,
            device_type: header.device_type,
            state,
        })
    }
}

// --- Gen 3 --------------------------------------------------------------------------------------

wire_enum! {
    /// Gen 3 `state.mode`; the alarm modes replace `cook`.
    pub enum Gen3Mode {
        /// No cook.
        Idle = "idle",
        /// Cooking (any stage).
        Cook = "cook",
        /// Water too low; the heater is off.
        LowWater = "lowWater",
        /// A leak was detected.
        WaterLeak = "waterLeak",
        /// Over-temperature.
        HighTemp = "highTemp",
        /// The pump motor is stuck.
        MotorStuck = "motorStuck",
    }
}

wire_enum! {
    /// Gen 3 `nodes.timer.mode`.
    pub enum TimerMode {
        /// Not counting (no cook, or waiting for the water to reach temperature).
        Idle = "idle",
        /// Counting down from `startedAtTimestamp`.
        Running = "running",
        /// Paused.
        Paused = "paused",
        /// Ran out; the cook keeps holding temperature.
        Completed = "completed",
    }
}

wire_enum! {
    /// Gen 3 `cook.activeStageMode`.
    pub enum StageMode {
        /// The stage's entry condition is not met yet: preheating.
        Entering = "entering",
        /// At temperature.
        Running = "running",
    }
}

/// Gen 3 `SousVideState` (`a6`–`a9`). All temperatures are °C.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Gen3State {
    /// Schema version, 1 in every capture.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<i64>,
    /// Last time the device reported; old when the device is offline.
    #[serde(
        default,
        rename = "updatedTimestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_timestamp: Option<String>,
    /// Device identity, firmware and connectivity.
    #[serde(
        default,
        rename = "systemInfo",
        skip_serializing_if = "Option::is_none"
    )]
    pub system_info: Option<Gen3SystemInfo>,
    /// Mode, display unit, recently applied commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Gen3Status>,
    /// Sensors and timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Gen3Nodes>,
    /// The running cook; absent when idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cook: Option<Gen3Cook>,
    /// Free-form metadata, usually `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// Gen 3 `systemInfo`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3SystemInfo {
    /// Equals the `cookerId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Whether the device is connected to the cloud.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub online: Option<bool>,
    /// For example `01.01.25`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// For example `1.0.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_version: Option<String>,
    /// For example `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_track: Option<String>,
    /// When the firmware was last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_updated_timestamp: Option<String>,
    /// Last connection to the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_connected_timestamp: Option<String>,
    /// Last disconnection from the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_disconnected_timestamp: Option<String>,
    /// Hardware fault of the heater triacs.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub triacs_failed: Option<bool>,
    /// OTA progress, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ota_update: Option<Value>,
}

/// Gen 3 `state`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3Status {
    /// `idle`, `cook`, or an alarm mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Gen3Mode>,
    /// The unit shown on the device (values stay °C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_unit: Option<TemperatureUnit>,
    /// Ring of recently applied command ids; churns on its own, so never used for confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_command_ids: Option<Vec<String>>,
    /// Preference.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub resume_after_power_interruption: Option<bool>,
}

/// Gen 3 `nodes`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3Nodes {
    /// Water level alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_water: Option<LowWaterNode>,
    /// The cook timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<TimerNode>,
    /// Water temperature and setpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_temperature_sensor: Option<WaterTemperatureSensor>,
    /// Food probe (in the schema, never seen on a6/a7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeNode>,
}

/// Gen 3 `nodes.lowWater`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LowWaterNode {
    /// Water is low.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub warning: Option<bool>,
    /// Water is critically low.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub empty: Option<bool>,
}

/// Gen 3 `nodes.timer`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimerNode {
    /// `idle`, `running`, `paused`, `completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TimerMode>,
    /// Timer length in seconds; kept while idle; 0 or absent = no timer.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub initial: Option<i64>,
    /// When the timer started (set while `running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_timestamp: Option<String>,
}

/// Gen 3 `nodes.waterTemperatureSensor`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WaterTemperatureSensor {
    /// Whether the sensor is enabled (default true).
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    /// The target; persists while idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setpoint: Option<Celsius>,
    /// The water temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Celsius>,
}

/// Gen 3 `nodes.probe`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProbeNode {
    /// Whether a probe is plugged in.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub connected: Option<bool>,
    /// Probe temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Celsius>,
    /// Probe target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setpoint: Option<Celsius>,
}

/// Gen 3 `cook`, present while a cook exists.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3Cook {
    /// Id of this cook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cook_id: Option<String>,
    /// Id of the active stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_stage_id: Option<String>,
    /// Index of the active stage.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub active_stage_index: Option<i64>,
    /// `entering` (preheating) or `running`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_stage_mode: Option<StageMode>,
    /// When the active stage started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_stage_started_timestamp: Option<String>,
    /// When the cook started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_timestamp: Option<String>,
    /// Waiting for the user to move on.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub stage_transition_pending_user_action: Option<bool>,
    /// Who started it: `android`, `ios`, `api`, `hardware`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_source: Option<String>,
    /// `manual`, `recipe`, `guide`, `ice-bath`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookable_type: Option<String>,
    /// Recipe or guide id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookable_id: Option<String>,
    /// The stage graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<Gen3Stage>>,
}

/// One stage of a Gen 3 cook.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Gen3Stage {
    /// Stage id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Stage title (`Cook Stage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the stage does.
    #[serde(default, rename = "do", skip_serializing_if = "Option::is_none")]
    pub action: Option<Gen3StageAction>,
    /// Entry condition tree, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<Value>,
    /// Exit condition tree, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<Value>,
}

/// The `do` block of a Gen 3 stage.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gen3StageAction {
    /// `cook` or `stop`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    /// The stage setpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_temperature_sensor: Option<StageSetpoint>,
    /// The stage timer template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<StageTimer>,
}

/// `do.waterTemperatureSensor` of a Gen 3 stage.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StageSetpoint {
    /// The stage target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setpoint: Option<Celsius>,
}

/// `do.timer` of a Gen 3 stage.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StageTimer {
    /// Timer length (the node's `initial` is authoritative).
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub initial: Option<i64>,
    /// When the timer starts: the ±0.3 °C window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<Value>,
}

// --- Gen 2 --------------------------------------------------------------------------------------

wire_enum! {
    /// Gen 2 `job.mode` (note the spaces).
    pub enum JobMode {
        /// No cook.
        Idle = "IDLE",
        /// Cooking.
        Cook = "COOK",
        /// Booting.
        Startup = "STARTUP",
        /// Updating firmware.
        Ota = "OTA",
        /// Wi-Fi provisioning.
        Provisioning = "PROVISIONING",
        /// Over-temperature alarm.
        HighTemp = "HIGH TEMP",
        /// Hardware failure.
        DeviceFailure = "DEVICE FAILURE",
        /// Low-water alarm.
        LowWater = "LOW WATER",
    }
}

wire_enum! {
    /// Gen 2 `job-status.state`; not an exhaustive list.
    pub enum JobState {
        /// Idle.
        Idle = "",
        /// Heating up to the target.
        Preheating = "PREHEATING",
        /// At temperature, timer counting down.
        Cooking = "COOKING",
        /// Timer done, holding temperature (the remaining time counts back up).
        Maintaining = "MAINTAINING",
        /// Timer done (some firmware).
        TimerExpired = "TIMER EXPIRED",
        /// Setting the timer on the device.
        SetTimer = "SET TIMER",
        /// Seen after boot; "ready to cook".
        StartCook = "START_COOK",
    }
}

/// Gen 2 kebab-case state (`a4`, `a5`, `pro`, `honey-badger`). Temperatures are °C whatever the
/// display unit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Gen2State {
    /// Speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_control: Option<AudioControl>,
    /// Boot id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// Touch buttons (Pro), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_touch: Option<Map<String, Value>>,
    /// Heater duty cycle (Pro).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heater_control: Option<DutyCycle>,
    /// The cook job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// The job's progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<JobStatus>,
    /// Pump duty cycle (Pro).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motor_control: Option<DutyCycle>,
    /// Pump speed (Pro).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motor_info: Option<MotorInfo>,
    /// Wi-Fi details, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_info: Option<Map<String, Value>>,
    /// Alarm pins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_info: Option<PinInfo>,
    /// Firmware block (a5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_info: Option<SystemInfoBlock>,
    /// Firmware block of the CC3220 (a4, Pro).
    #[serde(
        default,
        rename = "system-info-3220",
        skip_serializing_if = "Option::is_none"
    )]
    pub system_info_3220: Option<SystemInfoBlock>,
    /// Firmware block of the CC2640 (Pro).
    #[serde(
        default,
        rename = "system-info-2640",
        skip_serializing_if = "Option::is_none"
    )]
    pub system_info_2640: Option<SystemInfoBlock>,
    /// Firmware block of NXP-based models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_info_nxp: Option<SystemInfoBlock>,
    /// Another firmware block layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_info_details: Option<SystemInfoBlock>,
    /// Temperatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_info: Option<TemperatureInfo>,
}

impl Gen2State {
    /// The firmware version from the first firmware block present (`anova-protocol.md` §3.2.2).
    pub fn firmware_version(&self) -> Option<&str> {
        [
            &self.system_info,
            &self.system_info_3220,
            &self.system_info_2640,
            &self.system_info_nxp,
            &self.system_info_details,
        ]
        .into_iter()
        .flatten()
        .find_map(SystemInfoBlock::version)
    }
}

/// Gen 2 `audio-control`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AudioControl {
    /// Sound being played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Volume.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume: Option<i64>,
}

/// `{ "duty-cycle": % }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DutyCycle {
    /// Percent.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub duty_cycle: Option<f64>,
}

/// Gen 2 `motor-info`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MotorInfo {
    /// Pump speed.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub rpm: Option<f64>,
}

/// Gen 2 `job`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    /// Timer length in seconds; 0 = none.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub cook_time_seconds: Option<i64>,
    /// Job id (echoes the requestId of the command that created it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `IDLE`, `COOK`, or an alarm / maintenance mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<JobMode>,
    /// OTA URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ota_url: Option<String>,
    /// Target °C.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_temperature: Option<f64>,
    /// Display unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_unit: Option<TemperatureUnit>,
}

/// Gen 2 `job-status`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobStatus {
    /// Counts down while cooking; counts back up after the timer expired.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub cook_time_remaining: Option<i64>,
    /// Device tick when the job started.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub job_start_systick: Option<i64>,
    /// Pairing code while provisioning.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub provisioning_pairing_code: Option<i64>,
    /// `PREHEATING`, `COOKING`, `MAINTAINING`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<JobState>,
    /// Device tick of the last state change.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub state_change_systick: Option<i64>,
}

/// Gen 2 `pin-info`: 0/1 alarm pins; which are present varies by model.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PinInfo {
    /// Unclear semantics (1 on a cooking Pro, 0 on a cooking a4).
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_safe: Option<i64>,
    /// Pump motor stuck.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub motor_stuck: Option<i64>,
    /// Leak.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub water_leak: Option<i64>,
    /// Critically low water.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub water_level_critical: Option<i64>,
    /// Low water.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub water_level_low: Option<i64>,
    /// Over-temperature.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub water_temp_too_high: Option<i64>,
}

/// A Gen 2 firmware block (`system-info`, `system-info-3220`, …), with the fields we read typed
/// and the rest kept verbatim so a simulator can reproduce the real shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SystemInfoBlock {
    /// Firmware version.
    #[serde(
        default,
        rename = "firmware-version",
        skip_serializing_if = "Option::is_none"
    )]
    pub firmware_version: Option<String>,
    /// Firmware version (`system-info-nxp`).
    #[serde(
        default,
        rename = "version-string",
        skip_serializing_if = "Option::is_none"
    )]
    pub version_string: Option<String>,
    /// Everything else (heap sizes, systick, …).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl SystemInfoBlock {
    fn version(&self) -> Option<&str> {
        self.firmware_version
            .as_deref()
            .or(self.version_string.as_deref())
            .filter(|v| !v.is_empty())
    }
}

/// Gen 2 `temperature-info` (°C).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TemperatureInfo {
    /// Heater temperature (optional per model).
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub heater_temperature: Option<f64>,
    /// Triac temperature (optional per model).
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub triac_temperature: Option<f64>,
    /// Water temperature.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub water_temperature: Option<f64>,
}

// --- A3 -----------------------------------------------------------------------------------------

/// Legacy first-generation Wi-Fi state (`a3`). Temperatures are in the display unit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A3State {
    /// For example `ver 5.5.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// A cook is running.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_cooking: Option<bool>,
    /// Water temperature, display unit.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_temperature: Option<f64>,
    /// Target, display unit.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_temperature: Option<f64>,
    /// Remaining timer seconds.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub timer_in_seconds: Option<i64>,
    /// `c` / `f`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Timer counting.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_timer_running: Option<bool>,
    /// Speaker on.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_speaker_on: Option<bool>,
    /// Alarm sound enabled.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_alarm_active: Option<bool>,
    /// Current job id.
    #[serde(
        default,
        rename = "currentJobID",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_job_id: Option<String>,
    /// The current job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_job: Option<A3Job>,
    /// Holding after the timer.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_keeping_warm: Option<bool>,
    /// Ice-bath check.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_checking_temperature_for_ice_bath: Option<bool>,
    /// Ice-bath monitor.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_monitoring_icebath: Option<bool>,
    /// Device connected to the cloud.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_connected: Option<bool>,
}

/// A3 `currentJob`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A3Job {
    /// `manual_cook`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    /// `cooking`, `heating`, `maintaining`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_stage: Option<String>,
    /// Target, job unit.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_temperature: Option<f64>,
    /// Timer length, seconds.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub timer_length: Option<i64>,
    /// `c` / `f`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_unit: Option<String>,
    /// Ice-bath threshold.
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub threshold_temperature: Option<f64>,
    /// Unit of the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_temperature_unit: Option<String>,
}

// --- RESPONSE -----------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ResponsePayload {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

/// `RESPONSE`: the cloud's answer to one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The `requestId` of the command this answers.
    pub request_id: String,
    /// `ok` on success; anything else is a failure.
    pub status: String,
    /// The error text, from `payload.error` or the top-level `error`.
    pub error: Option<String>,
    /// Extra data some commands return.
    pub data: Option<Value>,
}

impl Response {
    /// A success answer.
    pub fn ok(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            status: "ok".to_owned(),
            error: None,
            data: None,
        }
    }

    /// A failure answer with the cloud's error text (status `error`, as the simulator uses).
    pub fn error(request_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            status: "error".to_owned(),
            error: Some(text.into()),
            data: None,
        }
    }

    /// Success is exactly `payload.status == "ok"`.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }

    /// Serialises as `{"command":"RESPONSE","requestId":…,"payload":{"status":…,"error"?:…}}`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Payload<'a> {
            status: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a Value>,
        }
        #[derive(Serialize)]
        struct Frame<'a> {
            command: &'static str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: Payload<'a>,
        }
        serde_json::to_string(&Frame {
            command: "RESPONSE",
            request_id: &self.request_id,
            payload: Payload {
                status: &self.status,
                error: self.error.as_deref(),
                data: self.data.as_ref(),
            },
        })
        .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Client → server commands
// ---------------------------------------------------------------------------------------------

/// The sous-vide commands the gateway sends (`anova-protocol.md` §4.2). Each carries the cooker
/// and its exact `type`; the payload is flat.
#[derive(Debug, Clone, PartialEq)]
pub enum ApcCommand {
    /// `CMD_APC_START`: start a cook at `target_temperature` read in `unit`, with an optional
    /// timer in seconds (0 = none).
    Start {
        /// Target cooker.
        cooker: CookerRef,
        /// Target, in `unit`.
        target_temperature: f64,
        /// Unit of `target_temperature`.
        unit: TemperatureUnit,
        /// Timer in seconds; `None` leaves the key out.
        timer: Option<u32>,
    },
    /// `CMD_APC_STOP`.
    Stop {
        /// Target cooker.
        cooker: CookerRef,
    },
    /// `CMD_APC_SET_TARGET_TEMP` (undocumented; changes a running cook).
    SetTargetTemp {
        /// Target cooker.
        cooker: CookerRef,
        /// Target, in `unit`.
        target_temperature: f64,
        /// Unit of `target_temperature`.
        unit: TemperatureUnit,
    },
    /// `CMD_APC_SET_TIMER` (undocumented).
    SetTimer {
        /// Target cooker.
        cooker: CookerRef,
        /// Timer in seconds.
        timer: u32,
    },
    /// `CMD_APC_SET_TEMPERATURE_UNIT`: the display unit only.
    SetTemperatureUnit {
        /// Target cooker.
        cooker: CookerRef,
        /// New display unit.
        unit: TemperatureUnit,
    },
}

/// `cookerId` and `type`, the address of every APC command.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CookerRef {
    /// The cloud's device id.
    #[serde(rename = "cookerId")]
    pub cooker_id: String,
    /// The device's exact type.
    #[serde(rename = "type")]
    pub device_type: DeviceType,
}

/// The wire name of each command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandName {
    /// `CMD_APC_START`.
    Start,
    /// `CMD_APC_STOP`.
    Stop,
    /// `CMD_APC_SET_TARGET_TEMP`.
    SetTargetTemp,
    /// `CMD_APC_SET_TIMER`.
    SetTimer,
    /// `CMD_APC_SET_TEMPERATURE_UNIT`.
    SetTemperatureUnit,
}

impl CommandName {
    /// The `command` text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "CMD_APC_START",
            Self::Stop => "CMD_APC_STOP",
            Self::SetTargetTemp => "CMD_APC_SET_TARGET_TEMP",
            Self::SetTimer => "CMD_APC_SET_TIMER",
            Self::SetTemperatureUnit => "CMD_APC_SET_TEMPERATURE_UNIT",
        }
    }

    /// Parses a `command` text.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "CMD_APC_START" => Self::Start,
            "CMD_APC_STOP" => Self::Stop,
            "CMD_APC_SET_TARGET_TEMP" => Self::SetTargetTemp,
            "CMD_APC_SET_TIMER" => Self::SetTimer,
            "CMD_APC_SET_TEMPERATURE_UNIT" => Self::SetTemperatureUnit,
            _ => return None,
        })
    }
}

impl fmt::Display for CommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The flat payload of every APC command; absent keys are left out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct FlatPayload {
    #[serde(rename = "cookerId", default)]
    cooker_id: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    device_type: Option<DeviceType>,
    #[serde(
        rename = "targetTemperature",
        default,
        deserialize_with = "lenient::float",
        serialize_with = "compact_float",
        skip_serializing_if = "Option::is_none"
    )]
    target_temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<TemperatureUnit>,
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    timer: Option<i64>,
    /// The app's second, different requestId inside the payload; accepted and ignored.
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    inner_request_id: Option<String>,
}

impl ApcCommand {
    /// The command's wire name.
    pub fn name(&self) -> CommandName {
        match self {
            Self::Start { .. } => CommandName::Start,
            Self::Stop { .. } => CommandName::Stop,
            Self::SetTargetTemp { .. } => CommandName::SetTargetTemp,
            Self::SetTimer { .. } => CommandName::SetTimer,
            Self::SetTemperatureUnit { .. } => CommandName::SetTemperatureUnit,
        }
    }

    /// The cooker this command addresses.
    pub fn cooker(&self) -> &CookerRef {
        match self {
            Self::Start { cooker, .. }
            | Self::Stop { cooker }
            | Self::SetTargetTemp { cooker, .. }
            | Self::SetTimer { cooker, .. }
            | Self::SetTemperatureUnit { cooker, .. } => cooker,
        }
    }

    fn flat_payload(&self) -> FlatPayload {
        let cooker = self.cooker();
        let mut payload = FlatPayload {
            cooker_id: cooker.cooker_id.clone(),
            device_type: Some(cooker.device_type.clone()),
            ..FlatPayload::default()
        };
        match self {
            Self::Start {
                target_temperature,
                unit,
                timer,
                ..
            } => {
                payload.target_temperature = Some(*target_temperature);
                payload.unit = Some(*unit);
                payload.timer = timer.map(i64::from);
            }
            Self::Stop { .. } => {}
            Self::SetTargetTemp {
                target_temperature,
                unit,
                ..
            } => {
                payload.target_temperature = Some(*target_temperature);
                payload.unit = Some(*unit);
            }
            Self::SetTimer { timer, .. } => payload.timer = Some(i64::from(*timer)),
            Self::SetTemperatureUnit { unit, .. } => payload.unit = Some(*unit),
        }
        payload
    }

    /// Serialises the command frame: `{"command", "requestId", "payload": {cookerId, type, …}}`.
    pub fn to_frame(&self, request_id: &str) -> String {
        #[derive(Serialize)]
        struct Frame<'a> {
            command: &'static str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: FlatPayload,
        }
        serde_json::to_string(&Frame {
            command: self.name().as_str(),
            request_id,
            payload: self.flat_payload(),
        })
        .unwrap_or_default()
    }
}

/// A client → server frame as the cloud (our simulator) reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// The `command` text.
    pub command: String,
    /// The top-level `requestId` the RESPONSE must echo.
    pub request_id: String,
    /// The decoded command.
    pub body: ClientCommand,
}

/// What a client asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientCommand {
    /// One of the five APC commands, with the cooker it addresses as sent. `cooker.device_type`
    /// is empty when the client left `type` out (the real cloud then ignores the command).
    Apc {
        /// The decoded command.
        command: ApcCommand,
        /// The inner `payload.requestId` the app adds, if any.
        inner_request_id: Option<String>,
    },
    /// An APC command with a payload the cloud would refuse (for example START without a
    /// target): `invalid command`.
    Invalid {
        /// What was wrong.
        reason: String,
    },
    /// Any other command (APO, app-only, unknown), kept verbatim.
    Other {
        /// The raw payload.
        payload: Value,
    },
}

impl ClientFrame {
    /// Parses one text frame sent by a client.
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let frame: RawFrame<'_> =
            serde_json::from_str(text).map_err(ProtocolError::InvalidFrame)?;
        let command = frame.command.into_owned();
        let request_id = frame.request_id.unwrap_or_default();
        let body = match CommandName::parse(&command) {
            Some(name) => {
                let payload: FlatPayload = payload_of(&command, frame.payload)?;
                Self::decode_apc(name, payload)
            }
            None => ClientCommand::Other {
                payload: match frame.payload {
                    Some(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
                    None => Value::Null,
                },
            },
        };
        Ok(Self {
            command,
            request_id,
            body,
        })
    }

    /// Serialises the frame back: APC commands with their flat payload (and the app's inner
    /// `requestId` when it had one), anything else with its payload verbatim.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Frame<'a, P> {
            command: &'a str,
            #[serde(rename = "requestId")]
            request_id: &'a str,
            payload: P,
        }
        let frame = |payload| {
            serde_json::to_string(&Frame {
                command: &self.command,
                request_id: &self.request_id,
                payload,
            })
            .unwrap_or_default()
        };
        match &self.body {
            ClientCommand::Apc {
                command,
                inner_request_id,
            } => {
                let mut payload = command.flat_payload();
                payload.inner_request_id = inner_request_id.clone();
                serde_json::to_value(payload).map(frame).unwrap_or_default()
            }
            ClientCommand::Invalid { .. } => frame(Value::Null),
            ClientCommand::Other { payload } => frame(payload.clone()),
        }
    }

    fn decode_apc(name: CommandName, payload: FlatPayload) -> ClientCommand {
        let inner_request_id = payload.inner_request_id.clone();
        let cooker = CookerRef {
            cooker_id: payload.cooker_id,
            device_type: payload.device_type.unwrap_or_else(|| DeviceType::new("")),
        };
        let invalid = |reason: &str| ClientCommand::Invalid {
            reason: reason.to_owned(),
        };
        let timer = match payload.timer {
            None => None,
            Some(t) => match u32::try_from(t) {
                Ok(t) => Some(t),
                Err(_) => return invalid("timer out of range"),
            },
        };
        let command = match name {
            CommandName::Start => {
                let Some(target_temperature) = payload.target_temperature else {
                    return invalid("targetTemperature missing");
                };
                ApcCommand::Start {
                    cooker,
                    target_temperature,
                    unit: payload.unit.unwrap_or(TemperatureUnit::C),
                    timer,
                }
            }
            CommandName::Stop => ApcCommand::Stop { cooker },
            CommandName::SetTargetTemp => {
                let Some(target_temperature) = payload.target_temperature else {
                    return invalid("targetTemperature missing");
                };
                ApcCommand::SetTargetTemp {
                    cooker,
                    target_temperature,
                    unit: payload.unit.unwrap_or(TemperatureUnit::C),
                }
            }
            CommandName::SetTimer => {
                let Some(timer) = timer else {
                    return invalid("timer missing");
                };
                ApcCommand::SetTimer { cooker, timer }
            }
            CommandName::SetTemperatureUnit => {
                let Some(unit) = payload.unit else {
                    return invalid("unit missing");
                };
                ApcCommand::SetTemperatureUnit { cooker, unit }
            }
        };
        ClientCommand::Apc {
            command,
            inner_request_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cooker() -> CookerRef {
        CookerRef {
            cooker_id: "A7COOKERID000000000001".into(),
            device_type: DeviceType::new("a7"),
        }
    }

    #[test]
    fn unknown_event_is_kept_not_an_error() {
        let event = Event::parse(r#"{"command":"EVENT_SOMETHING_NEW","payload":{"x":1}}"#).unwrap();
        assert_eq!(
            event,
            Event::Unknown {
                command: "EVENT_SOMETHING_NEW".into(),
                payload: serde_json::json!({"x": 1})
            }
        );
    }

    #[test]
    fn not_json_is_an_error() {
        assert!(matches!(
            Event::parse("hello"),
            Err(ProtocolError::InvalidFrame(_))
        ));
        assert!(matches!(
            Event::parse(r#"{"payload":1}"#),
            Err(ProtocolError::InvalidFrame(_))
        ));
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"pro","state":
            {"job":{"mode":"SOUS VIDE 2"},"job-status":{"state":"DEFROSTING","cook-time-remaining":"12"}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        let ApcState::Gen2(state) = event.state else {
            panic!("not gen 2");
        };
        let job = state.job.unwrap();
        assert_eq!(job.mode, Some(JobMode::Unknown("SOUS VIDE 2".into())));
        let status = state.job_status.unwrap();
        assert_eq!(status.state, Some(JobState::Unknown("DEFROSTING".into())));
        assert_eq!(status.cook_time_remaining, Some(12));
    }

    #[test]
    fn state_without_type_falls_back_on_content() {
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","state":
            {"systemInfo":{"online":true},"nodes":{}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        assert!(matches!(event.state, ApcState::Gen3(_)));
    }

    #[test]
    fn state_with_wrong_type_falls_back_on_content() {
        // Claims to be an a7 but carries a Gen 2 body.
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":
            {"job":{"mode":"IDLE"},"job-status":{"state":""}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        assert!(matches!(event.state, ApcState::Gen2(_)));
    }

    #[test]
    fn lenient_numbers() {
        let text = r#"{"command":"EVENT_APC_STATE","payload":{"cookerId":"X","type":"a7","state":
            {"nodes":{"timer":{"mode":"idle","initial":1200.0},"waterTemperatureSensor":{"current":{"celsius":"21.5"}}}}}}"#;
        let Event::ApcState(event) = Event::parse(text).unwrap() else {
            panic!("not a state");
        };
        let ApcState::Gen3(state) = event.state else {
            panic!("not gen 3");
        };
        let nodes = state.nodes.unwrap();
        assert_eq!(nodes.timer.unwrap().initial, Some(1200));
        assert_eq!(
            nodes
                .water_temperature_sensor
                .unwrap()
                .current
                .unwrap()
                .celsius,
            Some(21.5)
        );
    }

    #[test]
    fn response_error_text_from_payload_or_top_level() {
        let a = Event::parse(r#"{"command":"RESPONSE","requestId":"r1","payload":{"status":"error","error":"invalid command"}}"#).unwrap();
        let b = Event::parse(r#"{"command":"RESPONSE","requestId":"r1","error":"unauthorized","payload":{"status":"failed"}}"#).unwrap();
        let c = Event::parse(r#"{"command":"RESPONSE","requestId":"r1"}"#).unwrap();
        match (a, b, c) {
            (Event::Response(a), Event::Response(b), Event::Response(c)) => {
                assert_eq!(a.error.as_deref(), Some("invalid command"));
                assert!(!a.is_ok());
                assert_eq!(b.error.as_deref(), Some("unauthorized"));
                assert!(!c.is_ok());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn response_round_trips() {
        for response in [
            Response::ok("abc"),
            Response::error("abc", "Unknown command type"),
        ] {
            assert_eq!(
                Event::parse(&response.to_json()).unwrap(),
                Event::Response(response)
            );
        }
    }

    #[test]
    fn start_without_timer_leaves_the_key_out() {
        let frame = ApcCommand::Start {
            cooker: cooker(),
            target_temperature: 57.5,
            unit: TemperatureUnit::C,
            timer: None,
        }
        .to_frame("r");
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"command":"CMD_APC_START","requestId":"r","payload":
                {"cookerId":"A7COOKERID000000000001","type":"a7","targetTemperature":57.5,"unit":"C"}})
        );
    }

    #[test]
    fn every_command_round_trips_through_the_server_parser() {
        let commands = [
            ApcCommand::Start {
                cooker: cooker(),
                target_temperature: 135.0,
                unit: TemperatureUnit::F,
                timer: Some(5400),
            },
            ApcCommand::Stop { cooker: cooker() },
            ApcCommand::SetTargetTemp {
                cooker: cooker(),
                target_temperature: 60.0,
                unit: TemperatureUnit::C,
            },
            ApcCommand::SetTimer {
                cooker: cooker(),
                timer: 1200,
            },
            ApcCommand::SetTemperatureUnit {
                cooker: cooker(),
                unit: TemperatureUnit::F,
            },
        ];
        for command in commands {
            let frame = ClientFrame::parse(&command.to_frame("req-1")).unwrap();
            assert_eq!(frame.request_id, "req-1");
            assert_eq!(frame.command, command.name().as_str());
            assert_eq!(
                frame.body,
                ClientCommand::Apc {
                    command,
                    inner_request_id: None
                }
            );
        }
    }

    #[test]
    fn start_without_target_is_invalid() {
        let frame = ClientFrame::parse(
            r#"{"command":"CMD_APC_START","requestId":"r","payload":{"cookerId":"X","type":"a7"}}"#,
        )
        .unwrap();
        assert!(matches!(frame.body, ClientCommand::Invalid { .. }));
    }

    #[test]
    fn temperature_conversions() {
        assert!((TemperatureUnit::F.to_celsius(135.0) - 57.2222).abs() < 1e-3);
        assert!((TemperatureUnit::F.from_celsius(100.0) - 212.0).abs() < 1e-9);
        assert_eq!(TemperatureUnit::parse("f"), Some(TemperatureUnit::F));
        assert_eq!(TemperatureUnit::parse("K"), None);
    }

    #[test]
    fn device_type_generation_ignores_case() {
        assert_eq!(DeviceType::new("A7").generation(), Generation::Gen3);
        assert_eq!(
            DeviceType::new("Honey-Badger").generation(),
            Generation::Gen2
        );
        assert_eq!(DeviceType::new("a3").generation(), Generation::A3);
        assert_eq!(DeviceType::new("a99").generation(), Generation::Unknown);
        assert!(DeviceType::new("PRO").matches("pro"));
    }
}
