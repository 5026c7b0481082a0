//! The envelope of a command, before any device family reads it: the payload's size, its JSON,
//! and the caller's `id` (or `transaction`), which every response echoes whatever else is wrong
//! (`docs/interface.md` §3.2).

use super::error::{CommandError, ErrorCode};
use super::values::bounded;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use std::fmt;

/// The largest command payload we read (JSON object or plain value). Larger ones are answered
/// `invalid_json` (with the caller's id when we can find it) and never executed.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// The longest caller id we accept and echo, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// The refusal of a retained message on command or request topic `topic`: it stays on the
/// broker and is refused again at every start until someone clears it, so the message says
/// how (a zero-length retained message deletes it).
pub fn retained_refusal(topic: &str) -> CommandError {
    CommandError::new(
        ErrorCode::RetainedCommand,
        format!(
            "retained messages on command topics are never executed (they would replay on \
             every reconnect), and this one stays on the broker, refused again at every start, \
             until it is cleared: mosquitto_pub -r -n -t '{topic}' (with your broker's -h, -p \
             and login); then publish commands without the retain flag"
        ),
    )
}

/// Which key carried the caller's id; the response uses the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKey {
    /// `id`.
    Id,
    /// `transaction`.
    Transaction,
}

impl IdKey {
    /// The JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Transaction => "transaction",
        }
    }
}

/// The id a response carries: the caller's, as sent (a string or a number), or one we generated.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerId {
    /// `id` or `transaction`.
    pub key: IdKey,
    /// The value, echoed as sent.
    pub value: Value,
}

impl CallerId {
    /// A generated id.
    pub fn generated(id: String) -> Self {
        Self {
            key: IdKey::Id,
            value: Value::String(id),
        }
    }

    /// The id as text, for logs.
    pub fn text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A command object with the caller's id taken out.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The caller's id, if the object had one.
    pub id: Option<CallerId>,
    /// Every other key, in the order sent.
    pub fields: Map<String, Value>,
}

/// A command refused before any family looked at it; the id is echoed when it could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The caller's id, when readable.
    pub id: Option<CallerId>,
    /// What was wrong.
    pub error: CommandError,
}

impl Refusal {
    fn new(id: Option<CallerId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            error: CommandError::new(code, message),
        }
    }
}

/// Reads the JSON object of `<id>/set` (or an API command body).
pub fn parse_envelope(payload: &[u8]) -> Result<Envelope, Refusal> {
    if payload.len() > MAX_COMMAND_BYTES {
        return Err(Refusal::new(
            id_of_object(payload),
            ErrorCode::InvalidJson,
            format!(
                "the payload of {} bytes is larger than the limit of {} bytes",
                payload.len(),
                MAX_COMMAND_BYTES
            ),
        ));
    }
    let strict = serde_json::from_slice::<Strict>(payload);
    let object = match strict {
        Ok(Strict(Value::Object(object))) => object,
        Ok(_) => {
            return Err(Refusal::new(
                None,
                ErrorCode::InvalidJson,
                "payload must be a JSON object such as {\"cook\": true}",
            ))
        }
        Err(e) => {
            // A repeated key is valid JSON to a lenient reader: still echo the id.
            return Err(Refusal::new(
                id_of_object(payload),
                ErrorCode::InvalidJson,
                format!("payload is not valid JSON: {}", bounded(&e.to_string())),
            ));
        }
    };
    let id = match read_id(&object) {
        Ok(id) => id,
        Err((id, message)) => return Err(Refusal::new(Some(id), ErrorCode::InvalidValue, message)),
    };
    let mut fields = object;
    fields.shift_remove("id");
    fields.shift_remove("transaction");
    Ok(Envelope { id, fields })
}

/// Reads the plain payload of `<id>/set/<key>`: UTF-8 text, trimmed, with one pair of quotes
/// removed (Node-RED and shells sometimes quote plain values).
pub fn parse_plain(key: &str, payload: &[u8]) -> Result<String, CommandError> {
    if payload.len() > MAX_COMMAND_BYTES {
        return Err(CommandError::invalid(format!(
            "{key}: the payload of {} bytes is larger than the limit of {} bytes",
            payload.len(),
            MAX_COMMAND_BYTES
        )));
    }
    let text = std::str::from_utf8(payload)
        .map_err(|_| CommandError::invalid(format!("{key}: payload is not UTF-8 text")))?;
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    Ok(text.to_owned())
}

/// The caller's id of a payload that is not executed (a retained command, a bridge request):
/// read whatever can be read.
pub fn id_of(payload: &[u8]) -> Option<CallerId> {
    if payload.len() > MAX_COMMAND_BYTES * 64 {
        return None;
    }
    id_of_object(payload)
}

/// The caller's id of a payload refused as a whole, bounded: an id that is itself bad (too
/// long, not a string or number) is still echoed, as on every other path (found by the
/// `mqtt_command` fuzz target: a repeated key and a 140-character id got a generated id).
///
/// Read by [`scan_id`], not a JSON parser: the payload is refused precisely because a parser
/// would not take it (`NaN`, `1e309`, bytes that are not UTF-8, nesting deeper than the
/// parser's limit, a repeated key), and its `id` is usually readable all the same.
fn id_of_object(payload: &[u8]) -> Option<CallerId> {
    scan_id(payload).map(bound_id)
}

/// A tolerant reading of the top-level `id` (else `transaction`) of a JSON object that may be
/// broken elsewhere: the object's keys are walked without building values, and of a repeated
/// key the first is taken (what the strict reader refuses, the response echoes as sent first).
/// A string id is unescaped (kept raw when that fails); any other value is echoed as its text,
/// `null` as no id. `None` when the payload is not an object or breaks before an id.
pub(crate) fn scan_id(payload: &[u8]) -> Option<CallerId> {
    let mut scan = Scanner {
        bytes: payload,
        at: 0,
    };
    scan.skip_space();
    if !scan.eat(b'{') {
        return None;
    }
    let (mut id, mut transaction) = (None, None);
    loop {
        scan.skip_space();
        let Some(key) = scan.string() else { break };
        scan.skip_space();
        if !scan.eat(b':') {
            break;
        }
        scan.skip_space();
        let start = scan.at;
        if !scan.skip_value() {
            break;
        }
        let slot = match key {
            b"\"id\"" => &mut id,
            b"\"transaction\"" => &mut transaction,
            _ => &mut None,
        };
        if slot.is_none() {
            *slot = Some(id_value(&payload[start..scan.at]));
        }
        scan.skip_space();
        if !scan.eat(b',') {
            break;
        }
    }
    let (key, value) = match (id, transaction) {
        (Some(value), _) => (IdKey::Id, value),
        (None, Some(value)) => (IdKey::Transaction, value),
        (None, None) => return None,
    };
    (!value.is_null()).then_some(CallerId { key, value })
}

/// An id's raw JSON text as the value to echo.
fn id_value(raw: &[u8]) -> Value {
    if let Ok(value @ (Value::String(_) | Value::Number(_) | Value::Null)) =
        serde_json::from_slice::<Value>(raw)
    {
        return value;
    }
    let text = raw
        .strip_prefix(b"\"")
        .and_then(|inner| inner.strip_suffix(b"\""))
        .unwrap_or(raw);
    Value::String(bounded(&String::from_utf8_lossy(text)))
}

/// A cursor over a JSON text that skips values without reading them.
struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// A string with its quotes, as raw bytes; `None` when there is none here or it never
    /// ends.
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        if !self.eat(b'"') {
            return None;
        }
        while let Some(byte) = self.peek() {
            self.at += 1;
            match byte {
                b'\\' => self.at += 1,
                b'"' => return self.bytes.get(start..self.at),
                _ => {}
            }
        }
        None
    }

    /// Skips one value of any kind, nested ones included (counted, not recursed into, so no
    /// depth is too deep); false when the text ends or breaks first.
    fn skip_value(&mut self) -> bool {
        match self.peek() {
            Some(b'"') => self.string().is_some(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(byte) = self.peek() {
                    match byte {
                        b'"' => {
                            if self.string().is_none() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
                false
            }
            // A number, a literal, or a bare word a parser would refuse (`NaN`, `Infinity`).
            Some(_) => {
                let start = self.at;
                while let Some(byte) = self.peek() {
                    if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.at += 1;
                }
                self.at > start
            }
            None => false,
        }
    }
}

/// `id` (else `transaction`): a string or number, at most [`MAX_ID_CHARS`]. A bad one is
/// echoed (bounded) with the reason.
fn read_id(object: &Map<String, Value>) -> Result<Option<CallerId>, (CallerId, String)> {
    let (key, value) = match (object.get("id"), object.get("transaction")) {
        (Some(v), _) => (IdKey::Id, v),
        (None, Some(v)) => (IdKey::Transaction, v),
        (None, None) => return Ok(None),
    };
    let id = CallerId {
        key,
        value: value.clone(),
    };
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() > MAX_ID_CHARS => Err((
            bound_id(id),
            format!("{} is longer than {MAX_ID_CHARS} characters", key.as_str()),
        )),
        Value::String(_) | Value::Number(_) => Ok(Some(id)),
        _ => Err((
            bound_id(id),
            format!("{} must be a string or a number", key.as_str()),
        )),
    }
}

/// An id cut to a size we are willing to echo.
fn bound_id(id: CallerId) -> CallerId {
    let value = match id.value {
        Value::String(s) if s.chars().count() > MAX_ID_CHARS => {
            Value::String(s.chars().take(MAX_ID_CHARS).collect())
        }
        Value::String(s) => Value::String(s),
        Value::Number(n) => Value::Number(n),
        other => Value::String(bounded(&other.to_string())),
    };
    CallerId { key: id.key, value }
}

/// A JSON value read strictly: an object that repeats a key, at any depth, is an error (a
/// lenient reader would silently keep the last one: `{"cook":true,"cook":false}` stops).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "the key {} appears twice",
                    bounded(&format!("{key:?}"))
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retained_refusal_says_how_to_clear_its_topic() {
        let error = retained_refusal("anova2mqtt/a7/set/cook");
        assert_eq!(error.code, ErrorCode::RetainedCommand);
        assert!(
            error
                .message
                .contains("mosquitto_pub -r -n -t 'anova2mqtt/a7/set/cook'"),
            "{}",
            error.message
        );
    }
    use serde_json::json;

    fn envelope(text: &str) -> Result<Envelope, Refusal> {
        parse_envelope(text.as_bytes())
    }

    #[test]
    fn the_id_is_taken_out_and_echoed_as_sent() {
        let e = envelope(r#"{"id":"abc","cook":true}"#).unwrap();
        assert_eq!(e.id.as_ref().map(|i| &i.value), Some(&json!("abc")));
        assert_eq!(Value::Object(e.fields), json!({"cook": true}));
        let e = envelope(r#"{"transaction":7,"cook":true}"#).unwrap();
        let id = e.id.unwrap();
        assert_eq!((id.key, id.value), (IdKey::Transaction, json!(7)));
        assert_eq!(envelope(r#"{"cook":true}"#).unwrap().id, None);
    }

    #[test]
    fn a_bad_id_is_echoed_bounded_when_the_payload_is_refused_as_a_whole() {
        let long = "o".repeat(140);
        for payload in [
            format!(r#"{{"cook":true,"cook":false,"id":"{long}"}}"#),
            format!(
                r#"{{"id":"{long}","x":"{}"}}"#,
                "y".repeat(MAX_COMMAND_BYTES)
            ),
        ] {
            let r = envelope(&payload).unwrap_err();
            assert_eq!(r.error.code, ErrorCode::InvalidJson);
            assert_eq!(r.id.map(|i| i.value), Some(json!("o".repeat(MAX_ID_CHARS))));
        }
        let r = envelope(r#"{"cook":1,"cook":2,"transaction":[1]}"#).unwrap_err();
        let id = r.id.unwrap();
        assert_eq!((id.key, id.value), (IdKey::Transaction, json!("[1]")));
    }

    #[test]
    fn structural_errors_keep_the_id_when_there_is_one() {
        let r = envelope("{nope").unwrap_err();
        assert_eq!((r.error.code, r.id), (ErrorCode::InvalidJson, None));
        assert_eq!(
            envelope("[1,2]").unwrap_err().error.code,
            ErrorCode::InvalidJson
        );
        assert_eq!(
            envelope("57").unwrap_err().error.code,
            ErrorCode::InvalidJson
        );
        let r = envelope(r#"{"id":"d","cook":true,"cook":false}"#).unwrap_err();
        assert_eq!(r.error.code, ErrorCode::InvalidJson);
        assert!(
            r.error.message.contains("\"cook\" appears twice"),
            "{}",
            r.error
        );
        assert_eq!(r.id.unwrap().value, json!("d"));
        let r = envelope(r#"{"id":"n","stages":[{"title":"a","title":"b"}]}"#).unwrap_err();
        assert!(r.error.message.contains("\"title\" appears twice"));
        let r = envelope(r#"{"id":{"x":1},"cook":true}"#).unwrap_err();
        assert_eq!(r.error.code, ErrorCode::InvalidValue);
        assert!(r.id.is_some());
    }

    #[test]
    fn ids_and_payloads_are_bounded() {
        let long = "i".repeat(1000);
        let r = envelope(&format!(r#"{{"id":"{long}","cook":true}}"#)).unwrap_err();
        assert_eq!(r.error.code, ErrorCode::InvalidValue);
        assert_eq!(r.id.unwrap().text().len(), MAX_ID_CHARS);
        let big = format!(
            r#"{{"id":"big","pad":"{}"}}"#,
            "x".repeat(MAX_COMMAND_BYTES)
        );
        let r = envelope(&big).unwrap_err();
        assert_eq!(r.error.code, ErrorCode::InvalidJson);
        assert!(r.error.message.contains("larger than the limit"));
        assert_eq!(r.id.unwrap().value, json!("big"));
    }

    #[test]
    fn the_id_is_read_from_payloads_a_json_parser_refuses() {
        let deep = format!(
            "{{\"id\":\"deep\",\"x\":{}1{}}}",
            "[".repeat(300),
            "]".repeat(300)
        );
        let mut invalid_utf8 = br#"{"id":"utf","cook":""#.to_vec();
        invalid_utf8.extend_from_slice(&[0xff, 0xfe]);
        invalid_utf8.extend_from_slice(br#""}"#);
        for (payload, id) in [
            (
                br#"{"id":"nan","target_temperature":NaN}"#.to_vec(),
                json!("nan"),
            ),
            (
                br#"{"target_temperature":Infinity,"id":7}"#.to_vec(),
                json!(7),
            ),
            (
                br#"{"id":"big","target_temperature":1e309}"#.to_vec(),
                json!("big"),
            ),
            (invalid_utf8, json!("utf")),
            (deep.into_bytes(), json!("deep")),
            (
                br#"{"id":"first","cook":true,"id":"second"}"#.to_vec(),
                json!("first"),
            ),
            (
                br#"{"x":"a \"quoted\" id","id":"q\"1","y":NaN}"#.to_vec(),
                json!("q\"1"),
            ),
            (br#"{"transaction":"t","cook":NaN}"#.to_vec(), json!("t")),
            (
                br#"{"transaction":"t","id":"i","cook":NaN}"#.to_vec(),
                json!("i"),
            ),
        ] {
            let refusal = parse_envelope(&payload).unwrap_err();
            assert_eq!(refusal.error.code, ErrorCode::InvalidJson, "{payload:?}");
            assert_eq!(refusal.id.map(|i| i.value), Some(id), "{payload:?}");
        }
        // Nothing readable: no id (a generated one is answered).
        for payload in [
            &b"{nope"[..],
            b"[{\"id\":1}]",
            b"{\"id\":null,\"x\":NaN}",
            b"{\"x\":NaN,",
        ] {
            assert_eq!(parse_envelope(payload).unwrap_err().id, None, "{payload:?}");
        }
        // An id that is itself a broken value is echoed as its text, bounded.
        let r = parse_envelope(br#"{"id":NaN,"cook":true}"#).unwrap_err();
        assert_eq!(r.id.map(|i| i.value), Some(json!("NaN")));
    }

    #[test]
    fn plain_values() {
        assert_eq!(parse_plain("cook", b" \"on\" ").unwrap(), "on");
        assert!(parse_plain("cook", &[0xff, 0xfe]).is_err());
        assert_eq!(
            id_of(br#"{"transaction":"t"}"#).map(|i| i.key),
            Some(IdKey::Transaction)
        );
    }
}
