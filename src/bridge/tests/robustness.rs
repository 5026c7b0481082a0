//! Rules the fuzzers and the soak (issue 13) hold the bridge to, and the regressions they found.

use super::harness::*;
use super::*;
use crate::oven::state::OvenState;

const OVEN: &str = "OVENV2ID0000000001";
const OVEN_ID: &str = "ovenv2id0000000001";

fn with_oven() -> Harness {
    let mut h = Harness::ready();
    h.add(OVEN, "oven_v2", "Oven");
    h.cloud(CloudEvent::State {
        cooker_id: OVEN.into(),
        state: OvenState::idle_example("oven_v2").into(),
    });
    h.drain();
    h
}

/// A command object with nothing to do is `invalid_value`, says so, and carries the caller's
/// id (or transaction) — for cookers and ovens alike (issue 9: clients waited forever for it).
#[test]
fn a_command_with_nothing_to_do_is_invalid_value_and_echoes_the_id() {
    let mut h = with_oven();
    for device in [A7_ID, OVEN_ID] {
        for (payload, key, id) in [
            (r#"{"id":"x"}"#, "id", "x"),
            (r#"{"transaction":"t"}"#, "transaction", "t"),
        ] {
            let out = h.set(device, payload);
            let response = response(&out, device);
            assert_eq!(response[key], id, "{device} {payload}: {response}");
            assert_eq!(
                error_code(&response),
                "invalid_value",
                "{device}: {response}"
            );
            let message = response["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("does nothing"), "{device}: {message}");
            assert!(cloud_commands(&out).is_empty());
        }
    }
}
