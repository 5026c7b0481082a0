//! The MQTT command parsers: `<id>/set` (the envelope, then each family's keys) and
//! `<id>/set/<key>` (a plain value for one key). The input's first line is the topic's key
//! (empty for `set`), the rest is the payload. Nothing may panic, and the caller's id is
//! found whatever else is wrong with the payload.

#![no_main]

use anova2mqtt::command::{id_of, parse_envelope, parse_plain};
use anova2mqtt::{oven, sous_vide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let key = String::from_utf8_lossy(&data[..split]);
    let payload = data.get(split + 1..).unwrap_or_default();
    if key.is_empty() {
        let id = id_of(payload);
        match parse_envelope(payload) {
            Ok(envelope) => {
                assert_eq!(envelope.id, id, "the envelope's id differs from id_of");
                let _ = sous_vide::command::parse(&envelope.fields);
                let _ = oven::command::parse(&envelope.fields);
            }
            Err(refusal) => {
                // Every response carries the caller's id whenever one can be read.
                if id.is_some() {
                    assert!(refusal.id.is_some(), "refused without the id {id:?}");
                }
            }
        }
    } else if let Ok(text) = parse_plain(&key, payload) {
        let _ = sous_vide::command::parse_key(&key, &text);
        let _ = oven::command::parse_key(&key, &text);
    }
});
