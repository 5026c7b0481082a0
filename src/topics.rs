//! The MQTT topic tree of `docs/interface.md` §3, in one place: builders for every topic we
//! publish, and a parser for every topic we subscribe to.

use crate::ids::TopicId;

/// The level under `<base>` that holds the bridge's own topics; never a device id.
pub const BRIDGE: &str = "bridge";

/// Builds and parses topics under one base topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    base: String,
}

/// A topic we subscribe to, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// `<base>/<id>/set`: a JSON command.
    Set {
        /// The device's topic id, as the topic spells it.
        id: &'a str,
    },
    /// `<base>/<id>/set/<key>`: one plain value. The key is everything after `set/`, so a
    /// malformed one (`""`, `cook/`) reaches the device's response topic as an unknown key.
    SetKey {
        /// The device's topic id, as the topic spells it.
        id: &'a str,
        /// The command key.
        key: &'a str,
    },
    /// `<base>/<id>/get`: publish the device's state again (zigbee2mqtt's `get`); the payload
    /// is not read.
    Get {
        /// The device's topic id, as the topic spells it.
        id: &'a str,
    },
    /// `<base>/bridge/request/<op>`.
    BridgeRequest {
        /// The operation.
        op: &'a str,
    },
    /// `<base>/bridge/devices`: our own retained device list from an earlier run.
    BridgeDevices,
}

impl Topics {
    /// Topics under `base` (without a trailing `/`).
    pub fn new(base: impl Into<String>) -> Self {
        let base: String = base.into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The base topic.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `<base>/bridge/state`: `online`/`offline`, also the last will.
    pub fn bridge_state(&self) -> String {
        format!("{}/{BRIDGE}/state", self.base)
    }

    /// `<base>/bridge/info`.
    pub fn bridge_info(&self) -> String {
        format!("{}/{BRIDGE}/info", self.base)
    }

    /// `<base>/bridge/devices`.
    pub fn bridge_devices(&self) -> String {
        format!("{}/{BRIDGE}/devices", self.base)
    }

    /// `<base>/bridge/presets`: every preset (`docs/interface.md` §8.1), retained.
    pub fn bridge_presets(&self) -> String {
        format!("{}/{BRIDGE}/presets", self.base)
    }

    /// `<base>/bridge/event`.
    pub fn bridge_event(&self) -> String {
        format!("{}/{BRIDGE}/event", self.base)
    }

    /// `<base>/bridge/request/<op>`.
    pub fn bridge_request(&self, op: &str) -> String {
        format!("{}/{BRIDGE}/request/{op}", self.base)
    }

    /// `<base>/bridge/response/<op>`.
    pub fn bridge_response(&self, op: &str) -> String {
        format!("{}/{BRIDGE}/response/{op}", self.base)
    }

    /// `<base>/<id>/<leaf>`, concatenated: the state topic is built for every push, and
    /// `format!` costs several times as much.
    fn device_topic(&self, id: &TopicId, leaf: &str) -> String {
        let id = id.as_str();
        let mut topic = String::with_capacity(self.base.len() + id.len() + leaf.len() + 2);
        topic.push_str(&self.base);
        topic.push('/');
        topic.push_str(id);
        topic.push('/');
        topic.push_str(leaf);
        topic
    }

    /// `<base>/<id>/availability`.
    pub fn availability(&self, id: &TopicId) -> String {
        self.device_topic(id, "availability")
    }

    /// `<base>/<id>/state`.
    pub fn state(&self, id: &TopicId) -> String {
        self.device_topic(id, "state")
    }

    /// `<base>/<id>/set`.
    pub fn set(&self, id: &TopicId) -> String {
        self.device_topic(id, "set")
    }

    /// `<base>/<id>/set/<key>`.
    pub fn set_key(&self, id: &TopicId, key: &str) -> String {
        format!("{}/{id}/set/{key}", self.base)
    }

    /// `<base>/<id>/get`.
    pub fn get(&self, id: &TopicId) -> String {
        self.device_topic(id, "get")
    }

    /// `<base>/<id>/response`.
    pub fn response(&self, id: &TopicId) -> String {
        self.device_topic(id, "response")
    }

    /// `<base>/<id>/schedule`: the pending plan (`docs/interface.md` §8.2), retained.
    pub fn schedule(&self, id: &TopicId) -> String {
        self.device_topic(id, "schedule")
    }

    /// `<base>/<id>/event`.
    pub fn event(&self, id: &TopicId) -> String {
        self.device_topic(id, "event")
    }

    /// `<base>/<id>/last_cook`: the retained summary of the device's last finished cook (Home
    /// Assistant's "Last cook" sensor).
    pub fn last_cook(&self, id: &TopicId) -> String {
        self.device_topic(id, "last_cook")
    }

    /// The filters the bridge subscribes to (besides Home Assistant's status topic).
    pub fn subscriptions(&self) -> Vec<String> {
        vec![
            // `#` also matches the parent level, so this one filter covers `<id>/set` and
            // every `<id>/set/<key>` (two overlapping filters would deliver a command twice).
            format!("{}/+/set/#", self.base),
            format!("{}/+/get", self.base),
            format!("{}/{BRIDGE}/request/+", self.base),
            self.bridge_devices(),
        ]
    }

    /// `<base>/bridge/logging`: the log's lines at `info` and above (zigbee2mqtt's).
    pub fn bridge_logging(&self) -> String {
        format!("{}/{BRIDGE}/logging", self.base)
    }

    /// Decodes a topic we subscribed to; `None` for anything else.
    pub fn parse<'a>(&self, topic: &'a str) -> Option<Incoming<'a>> {
        let rest = topic.strip_prefix(self.base.as_str())?.strip_prefix('/')?;
        // An empty id (`<base>//set`) is still a command: it is answered (on
        // `<base>//response`) that it names no device, rather than left without a word.
        let (first, rest) = rest.split_once('/')?;
        if first == BRIDGE {
            return match rest.split_once('/') {
                Some(("request", op)) if !op.is_empty() && !op.contains('/') => {
                    Some(Incoming::BridgeRequest { op })
                }
                None if rest == "devices" => Some(Incoming::BridgeDevices),
                _ => None,
            };
        }
        match rest.split_once('/') {
            None if rest == "set" => Some(Incoming::Set { id: first }),
            None if rest == "get" => Some(Incoming::Get { id: first }),
            Some(("set", key)) => Some(Incoming::SetKey { id: first, key }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses() {
        let t = Topics::new("anova2mqtt/");
        assert_eq!(t.state(&TopicId::from("abc")), "anova2mqtt/abc/state");
        assert_eq!(
            t.parse("anova2mqtt/abc/set"),
            Some(Incoming::Set { id: "abc" })
        );
        assert_eq!(
            t.parse("anova2mqtt/abc/set/cook"),
            Some(Incoming::SetKey {
                id: "abc",
                key: "cook"
            })
        );
        assert_eq!(
            t.parse("anova2mqtt/bridge/request/health_check"),
            Some(Incoming::BridgeRequest { op: "health_check" })
        );
        assert_eq!(
            t.parse("anova2mqtt/bridge/devices"),
            Some(Incoming::BridgeDevices)
        );
        assert_eq!(t.parse("anova2mqtt/bridge/set"), None);
        assert_eq!(
            t.parse("anova2mqtt/abc/get"),
            Some(Incoming::Get { id: "abc" })
        );
        assert_eq!(t.parse("anova2mqtt/abc/get/x"), None);
        assert_eq!(t.parse("anova2mqtt/abc/state"), None);
        assert_eq!(t.parse("anova2mqttx/abc/set"), None);
        assert_eq!(
            t.parse("anova2mqtt/abc/set/cook/"),
            Some(Incoming::SetKey {
                id: "abc",
                key: "cook/"
            })
        );
        assert_eq!(
            t.parse("anova2mqtt/abc/set//"),
            Some(Incoming::SetKey {
                id: "abc",
                key: "/"
            })
        );
        assert_eq!(t.parse("anova2mqtt/bridge/request/a/b"), None);
        // No id: still a command, to be answered that it names no device.
        assert_eq!(t.parse("anova2mqtt//set"), Some(Incoming::Set { id: "" }));
        assert_eq!(
            t.response(&crate::ids::TopicId::from("")),
            "anova2mqtt//response"
        );
        assert_eq!(
            t.parse("anova2mqtt/abc/set/"),
            Some(Incoming::SetKey { id: "abc", key: "" })
        );
    }
}
