//! Server → client frames: the envelope, the dispatch by `command`, and the events every
//! family shares (device lists, account flags). Each family's state body is its own module's.

use super::device::DeviceType;
use super::payload::{payload_of, ProtocolError};
use super::response::{Response, ResponsePayload};
use crate::ids::CloudId;
use crate::oven::wire::ApoStateEvent;
use crate::sous_vide::wire::ApcStateEvent;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

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
    /// `EVENT_APO_WIFI_LIST`: every paired oven; sent on every connect.
    ApoWifiList(Vec<DeviceListEntry>),
    /// `EVENT_APO_STATE`: one oven's state.
    ApoState(ApoStateEvent),
    /// `EVENT_APO_WIFI_ADDED`: an oven paired during this session.
    ApoWifiAdded(DeviceListEntry),
    /// `EVENT_APO_WIFI_REMOVED`: an oven unpaired during this session.
    ApoWifiRemoved(DeviceRemoved),
    /// `EVENT_APO_WIFI_FIRMWARE_UPDATE`: an oven's installed firmware and what the cloud offers
    /// (one object, where the cookers' `EVENT_APC_WIFI_VERSION` is a list).
    ApoWifiFirmwareUpdate(FirmwareVersion),
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
pub(crate) struct RawFrame<'a> {
    #[serde(borrow)]
    pub(crate) command: std::borrow::Cow<'a, str>,
    #[serde(default, rename = "requestId")]
    pub(crate) request_id: Option<String>,
    #[serde(default, borrow)]
    pub(crate) payload: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) error: Option<Value>,
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
        // The busiest frame by far, in one pass when it has the usual shape.
        if let Some(state) = crate::sous_vide::wire::parse_state_frame(text) {
            return Ok(Self::ApcState(state));
        }
        Self::parse_general(text)
    }

    /// Any frame: the envelope first, then the payload by `command`.
    pub(crate) fn parse_general(text: &str) -> Result<Self, ProtocolError> {
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
            "EVENT_APO_STATE" => Self::ApoState(ApoStateEvent::parse(frame.payload)?),
            "EVENT_APO_WIFI_ADDED" => Self::ApoWifiAdded(payload_of(command, frame.payload)?),
            "EVENT_APO_WIFI_REMOVED" => Self::ApoWifiRemoved(payload_of(command, frame.payload)?),
            "EVENT_APO_WIFI_FIRMWARE_UPDATE" => {
                Self::ApoWifiFirmwareUpdate(payload_of(command, frame.payload)?)
            }
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
            Self::ApoWifiAdded(_) => "EVENT_APO_WIFI_ADDED",
            Self::ApoWifiRemoved(_) => "EVENT_APO_WIFI_REMOVED",
            Self::ApoWifiFirmwareUpdate(_) => "EVENT_APO_WIFI_FIRMWARE_UPDATE",
            Self::Response(_) => "RESPONSE",
            Self::Unknown { command, .. } => command,
        }
    }
}

/// One paired device, from `EVENT_APC_WIFI_LIST` / `EVENT_APO_WIFI_LIST` or their `…_ADDED`
/// events.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeviceListEntry {
    /// The cloud's opaque device id.
    #[serde(rename = "cookerId")]
    pub cloud_id: CloudId,
    /// The device type (`a7`, `pro`, …).
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    /// The name the user gave it in the Anova app (default: the product name).
    #[serde(default)]
    pub name: Option<String>,
    /// When it was paired (ISO 8601).
    #[serde(default, rename = "pairedAt")]
    pub paired_at: Option<String>,
}

/// `EVENT_APC_WIFI_REMOVED`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeviceRemoved {
    /// The device that was unpaired.
    #[serde(rename = "cookerId")]
    pub cloud_id: CloudId,
}

/// A device's firmware: one entry of `EVENT_APC_WIFI_VERSION`, or the payload of
/// `EVENT_APO_WIFI_FIRMWARE_UPDATE` (which also names the device type).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FirmwareVersion {
    /// The device.
    #[serde(rename = "cookerId")]
    pub cloud_id: CloudId,
    /// The device type; the oven's event carries it, the cookers' list does not.
    #[serde(default, rename = "type")]
    pub device_type: Option<DeviceType>,
    /// The installed version.
    #[serde(default)]
    pub version: Option<String>,
    /// What the cloud offers; absent when it offers nothing.
    #[serde(default)]
    pub ota: Option<Ota>,
}

/// The `ota` block of a firmware event: an update the cloud offers. Only the Anova app can
/// install it (`CMD_APC_OTA` is not open to a Personal Access Token).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Ota {
    /// Whether an update is offered.
    #[serde(default)]
    pub available: Option<bool>,
    /// Whether the device insists on it.
    #[serde(default)]
    pub required: Option<bool>,
    /// The offered version.
    #[serde(default)]
    pub version: Option<String>,
    /// Release notes, as the cloud words them.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the firmware image is.
    #[serde(default)]
    pub url: Option<String>,
}

/// `EVENT_USER_STATE`: account flags.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct UserState {
    /// Linked to Alexa.
    #[serde(default, rename = "isConnectedToAlexa")]
    pub is_connected_to_alexa: Option<bool>,
    /// Linked to Google Home.
    #[serde(default, rename = "isConnectedToGoogleHome")]
    pub is_connected_to_google_home: Option<bool>,
    /// Sous-vide app subscription.
    #[serde(default, rename = "sousVideSubscription")]
    pub sous_vide_subscription: Option<Subscription>,
    /// Oven app subscription.
    #[serde(default, rename = "ovenSubscription")]
    pub oven_subscription: Option<Subscription>,
}

/// A subscription flag block of `EVENT_USER_STATE`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Subscription {
    /// Whether the subscription is valid.
    #[serde(default, rename = "hasValidSubscription")]
    pub has_valid_subscription: Option<bool>,
    /// A pre-subscription account.
    #[serde(default, rename = "isLegacyAccount")]
    pub is_legacy_account: Option<bool>,
    /// Store product id.
    #[serde(default, rename = "productId")]
    pub product_id: Option<String>,
    /// Renewal period.
    #[serde(default, rename = "renewalPeriod")]
    pub renewal_period: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
