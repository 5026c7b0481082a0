//! The shipped examples stay true: the Node-RED flow uses our topics and sends valid commands.

use anova2mqtt::command::{parse_envelope, parse_plain};
use anova2mqtt::ids::{CloudId, TopicId};
use anova2mqtt::simulator::demo_cookers;
use anova2mqtt::sous_vide::command::{parse, parse_key};
use anova2mqtt::topics::{Incoming, Topics};
use serde_json::Value;

#[test]
fn the_node_red_flow_speaks_our_topics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/node-red-flow.json");
    let flow: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let topics = Topics::new("anova2mqtt");
    let cooker = &TopicId::of(&CloudId::from(demo_cookers()[0].cooker_id.as_str()));
    let by_id = |id: &str| flow.iter().find(|n| n["id"] == id).cloned();
    let mut outs = 0;
    for node in &flow {
        let topic = node["topic"].as_str().unwrap_or_default();
        match node["type"].as_str() {
            Some("mqtt out") => {
                outs += 1;
                assert_eq!(node["retain"], "false", "commands must not be retained");
                // Every inject wired to this node sends a valid command.
                for inject in flow.iter().filter(|n| {
                    n["wires"][0]
                        .as_array()
                        .is_some_and(|w| w.contains(&node["id"]))
                }) {
                    let payload = inject["payload"].as_str().unwrap();
                    let parsed = match topics.parse(topic) {
                        Some(Incoming::Set { id }) => {
                            assert_eq!(id, cooker.as_str());
                            let envelope = parse_envelope(payload.as_bytes()).unwrap();
                            parse(&envelope.fields)
                        }
                        Some(Incoming::SetKey { id, key }) => {
                            assert_eq!(id, cooker.as_str());
                            let text = parse_plain(key, payload.as_bytes()).unwrap();
                            parse_key(key, &text)
                        }
                        other => panic!("{topic} is not a command topic: {other:?}"),
                    };
                    assert!(parsed.is_ok(), "{payload} on {topic}: {parsed:?}");
                }
            }
            Some("mqtt in") => {
                let expected = [
                    topics.state(cooker),
                    format!("{}/+/response", topics.base()),
                ];
                assert!(
                    expected.contains(&topic.to_owned()),
                    "unexpected subscription {topic}"
                );
                assert_eq!(node["datatype"], "json");
                assert!(by_id(node["broker"].as_str().unwrap()).is_some());
            }
            _ => {}
        }
    }
    assert_eq!(outs, 2, "start and stop");
}
