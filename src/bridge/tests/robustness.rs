//! Rules the fuzzers and the soak (issue 13) hold the bridge to, and the regressions they found.

use super::harness::*;

/// A command object with nothing to do is `invalid_value`, says so, and carries the caller's
/// id (or transaction) — for cookers and ovens alike (issue 9: clients waited forever for it).
#[test]
fn a_command_with_nothing_to_do_is_invalid_value_and_echoes_the_id() {
    let mut h = Harness::with_oven();
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

/// Found by the soak: a target out of range, sent while another command ran, waited its turn
/// and was answered `timeout` ("waited behind earlier commands"), not `out_of_range`. The
/// model's ranges do not depend on the state, so it is refused on arrival, and the queue
/// behind the running command is untouched.
#[test]
fn an_out_of_range_value_is_refused_on_arrival_even_behind_a_running_command() {
    let mut h = Harness::ready();
    let (ticket, _) =
        one_command(&h.set(A7_ID, r#"{"id":"run","cook":true,"target_temperature":57}"#));
    for (payload, id) in [
        (r#"{"id":"hot","target_temperature":150}"#, "hot"),
        (r#"{"id":"long","timer":"200h"}"#, "long"),
    ] {
        let out = h.set(A7_ID, payload);
        let response = response(&out, A7_ID);
        assert_eq!(response["id"], id);
        assert_eq!(error_code(&response), "out_of_range", "{response}");
        assert!(cloud_commands(&out).is_empty());
    }
    let out = h.set_key(A7_ID, "target_temperature", "300F");
    assert_eq!(error_code(&response(&out, A7_ID)), "out_of_range");
    // The running command goes on and is answered once.
    h.result(ticket, Ok(()));
    let out = h.state(A7, cooking_state("a7", 57.0, 0, 0));
    assert_eq!(response(&out, A7_ID)["id"], "run");
}

/// Issue 26, finding 9: payloads a JSON parser refuses still get the caller's id, a repeated
/// `id` is refused echoing the first, and a command on `<base>//set` (no device id) is
/// answered on `<base>//response`.
#[test]
fn badly_formed_commands_keep_the_callers_id_and_none_goes_unanswered() {
    let mut h = Harness::ready();
    for (payload, id) in [
        (r#"{"id":"n1","target_temperature":NaN}"#, "n1"),
        (r#"{"id":"n2","target_temperature":-Infinity}"#, "n2"),
        (r#"{"id":"n3","timer":1e309}"#, "n3"),
        (r#"{"id":"first","cook":true,"id":"second"}"#, "first"),
    ] {
        let out = h.set(A7_ID, payload);
        let r = response(&out, A7_ID);
        assert_eq!(error_code(&r), "invalid_json", "{payload}");
        assert_eq!(r["id"], id, "{payload}");
        assert!(cloud_commands(&out).is_empty());
    }
    let out = h.mqtt("anova2mqtt//set", r#"{"id":"nobody","cook":true}"#, false);
    let r = &json_on(&out, "anova2mqtt//response")[0];
    assert_eq!(r["id"], "nobody");
    assert_eq!(error_code(r), "device_offline");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("names no device")),
        "{r}"
    );
    let out = h.mqtt("anova2mqtt//set/cook", "ON", false);
    assert_eq!(json_on(&out, "anova2mqtt//response").len(), 1);
    assert!(cloud_commands(&out).is_empty());
}
