//! Where the core's outputs collect until the driver drains them, with the bookkeeping every
//! output needs: MQTT publishes only while the broker is connected, tickets for cloud commands
//! (and which device each belongs to), and ids the core generates.

use super::io::{HeatSample, Origin, Output, Publish, Qos, Ticket};
use crate::appliance::family::Ids;
use crate::command::Response;
use crate::ids::TopicId;
use crate::wire::CloudCommand;
use serde_json::value::RawValue;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Identifiers made by the core, from a seed the driver chose: ids for commands that came
/// without one, and UUIDs for what a plan must name. Deterministic for a given seed.
#[derive(Debug, Clone)]
pub(crate) struct IdSource {
    /// SplitMix64 state.
    state: u64,
}

impl IdSource {
    /// A source seeded by the driver.
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next pseudo-random 64 bits (SplitMix64: tiny, fast, and good enough to keep ids of
    /// one process apart; nothing here is a secret).
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An id for a command that came without one: `<unix seconds>-<8 hex>`, sortable by time
    /// and unique within the process.
    pub(crate) fn command_id(&mut self, unix_seconds: i64) -> String {
        format!("{unix_seconds}-{:08x}", self.next() as u32)
    }
}

impl Ids for IdSource {
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        // Version 4, RFC 4122 variant.
        let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// A message of the live stream (`docs/interface.md` §6), carrying the JSON the bridge made for
/// MQTT as it is: `{"type": …, "device"?: …, <key>: <json>}`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StreamMessage<'a> {
    /// `{"type":"state","device":…,"state":{…}}`: a device's published state.
    State(&'a TopicId, &'a str),
    /// `{"type":"event","device":…,"event":{…}}`: a device's cook event.
    Event(&'a TopicId, &'a str),
    /// `{"type":"bridge","info":{…}}`: `bridge/info`.
    BridgeInfo(&'a str),
    /// `{"type":"bridge","event":{…}}`: a bridge event.
    BridgeEvent(&'a str),
    /// `{"type":"devices","devices":[…]}`: `bridge/devices`.
    Devices(&'a str),
}

impl StreamMessage<'_> {
    /// The message's text; the embedded JSON is written as it is, not parsed into a tree.
    fn to_text(self) -> Result<String, serde_json::Error> {
        use serde::ser::{SerializeMap, Serializer};
        let (kind, device, key, json) = match self {
            Self::State(device, json) => ("state", Some(device), "state", json),
            Self::Event(device, json) => ("event", Some(device), "event", json),
            Self::BridgeInfo(json) => ("bridge", None, "info", json),
            Self::BridgeEvent(json) => ("bridge", None, "event", json),
            Self::Devices(json) => ("devices", None, "devices", json),
        };
        let raw: &RawValue = serde_json::from_str(json)?;
        let mut text = Vec::with_capacity(json.len() + 64);
        let mut serializer = serde_json::Serializer::new(&mut text);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", kind)?;
        if let Some(device) = device {
            map.serialize_entry("device", device)?;
        }
        map.serialize_entry(key, raw)?;
        map.end()?;
        String::from_utf8(text).map_err(|e| serde::ser::Error::custom(e.to_string()))
    }
}

/// The outputs of the core and what they need.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: VecDeque<Output>,
    /// The broker is connected: publishes go out. While it is away nothing can be delivered;
    /// every retained topic is republished on the next connect, and the rest is moot by then.
    pub(crate) mqtt_connected: bool,
    next_ticket: u64,
    /// Cloud commands in flight → the device whose command sent it.
    in_flight: HashMap<Ticket, TopicId>,
    /// Generated ids.
    pub(crate) ids: IdSource,
    /// Someone listens to the live stream.
    pub(crate) stream: bool,
    /// The cook history is on: [`Output::Record`]s are made.
    pub(crate) recording: bool,
    /// Answers to plans' start commands, for the bridge's plans to take (never outputs).
    pub(crate) plan_answers: Vec<PlanAnswer>,
    /// How fast each cook that ended heated, for the bridge's heating rates (never outputs).
    pub(crate) heated: Vec<(TopicId, HeatSample)>,
}

/// The plan a command starts.
#[derive(Debug, Clone)]
pub(crate) struct PlanTag {
    /// The plan.
    pub(crate) schedule_id: String,
    /// A step of it reached the cloud: the start may have happened, so it is never sent again.
    pub(crate) sent: bool,
}

/// The answer to a plan's start command (`docs/interface.md` §8.2), kept for the plan.
#[derive(Debug)]
pub(crate) struct PlanAnswer {
    /// The device.
    pub(crate) device: TopicId,
    /// The plan and whether a step reached the cloud.
    pub(crate) tag: PlanTag,
    /// The response the command would have had.
    pub(crate) response: Response,
}

impl Outbox {
    /// An empty outbox.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            queue: VecDeque::new(),
            mqtt_connected: false,
            next_ticket: 0,
            in_flight: HashMap::new(),
            ids: IdSource::new(seed),
            stream: false,
            recording: false,
            plan_answers: Vec::new(),
            heated: Vec::new(),
        }
    }

    /// The next output.
    pub(crate) fn pop(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }

    /// Queues an output that is not a publish.
    pub(crate) fn push(&mut self, output: Output) {
        self.queue.push_back(output);
    }

    /// A QoS 1 publish, when the broker is connected.
    pub(crate) fn publish(&mut self, topic: String, payload: String, retain: bool) {
        if self.mqtt_connected {
            self.queue.push_back(Output::Publish(Publish {
                topic,
                payload,
                retain,
                qos: Qos::AtLeastOnce,
            }));
        }
    }

    /// A message for the live stream, when someone listens.
    pub(crate) fn stream(&mut self, message: StreamMessage<'_>) {
        if !self.stream {
            return;
        }
        match message.to_text() {
            Ok(text) => self.queue.push_back(Output::Stream(text.into())),
            Err(e) => tracing::error!("a stream message was not made: {e}"),
        }
    }

    /// Something for the cook history, built only while history is on.
    pub(crate) fn record(&mut self, make: impl FnOnce() -> crate::appliance::record::Record) {
        if self.recording {
            self.queue.push_back(Output::Record(make()));
        }
    }

    /// Sends a command to the cloud for `device`; its result comes back with the ticket.
    pub(crate) fn send(
        &mut self,
        device: &TopicId,
        command: CloudCommand,
        deadline: Instant,
    ) -> Ticket {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        self.in_flight.insert(ticket, device.clone());
        self.queue.push_back(Output::Cloud {
            ticket,
            command,
            deadline,
        });
        ticket
    }

    /// The device a ticket belongs to; the ticket is spent.
    pub(crate) fn take_ticket(&mut self, ticket: Ticket) -> Option<TopicId> {
        self.in_flight.remove(&ticket)
    }

    /// Answers a command where it came from: MQTT on the device's response topic, the API by
    /// its ticket. `took` is the time since the command arrived.
    pub(crate) fn respond(
        &mut self,
        origin: Origin,
        response_topic: String,
        response: Response,
        took: Duration,
    ) {
        self.queue.push_back(Output::CommandDone {
            code: response.code(),
            took,
        });
        match origin {
            Origin::Mqtt | Origin::Schedule => {
                self.publish(response_topic, response.to_json(), false);
            }
            Origin::Api(ticket, _) => self.queue.push_back(Output::Reply { ticket, response }),
        }
    }

    /// A plan's start command was answered: kept for the plan (counted like any command).
    pub(crate) fn plan_answered(
        &mut self,
        device: &TopicId,
        tag: PlanTag,
        response: Response,
        took: Duration,
    ) {
        self.queue.push_back(Output::CommandDone {
            code: response.code(),
            took,
        });
        self.plan_answers.push(PlanAnswer {
            device: device.clone(),
            tag,
            response,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_uuids_well_formed() {
        let mut a = IdSource::new(7);
        let mut b = IdSource::new(7);
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.command_id(1700000000), b.command_id(1700000000));
        let uuid = a.uuid();
        assert_ne!(uuid, b.uuid().replace('a', "b"));
        let parsed = uuid::Uuid::parse_str(&uuid).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert!(a.command_id(1700000000).starts_with("1700000000-"));
    }

    #[test]
    fn stream_messages_embed_the_json_as_it_is() {
        let id = TopicId::from("a\"7");
        assert_eq!(
            StreamMessage::State(&id, r#"{"x": 1.50}"#)
                .to_text()
                .unwrap(),
            r#"{"type":"state","device":"a\"7","state":{"x": 1.50}}"#
        );
        assert_eq!(
            StreamMessage::BridgeEvent(r#"{"event":"cloud_connected"}"#)
                .to_text()
                .unwrap(),
            r#"{"type":"bridge","event":{"event":"cloud_connected"}}"#
        );
        assert_eq!(
            StreamMessage::Devices("[]").to_text().unwrap(),
            r#"{"type":"devices","devices":[]}"#
        );
        let mut out = Outbox::new(1);
        out.stream(StreamMessage::Devices("[]"));
        assert_eq!(out.pop(), None, "nobody listens");
    }
}
