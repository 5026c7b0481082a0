//! The test harness: a bridge with its own clock, inputs in, outputs checked.

use super::*;
use crate::sous_vide::state::{CookerState, HvacAction, Stage};
use crate::sous_vide::wire::ApcCommand;
use crate::wire::CloudCommand;
use crate::wire::DeviceType;
use time::macros::datetime;

pub(super) const A7: &str = "A7COOKERID000000000001";
pub(super) const A7_ID: &str = "a7cookerid000000000001";
pub(super) const PRO: &str = "PROCOOKERID0000001";
pub(super) const PRO_ID: &str = "procookerid0000001";
pub(super) const OVEN: &str = "OVENV2ID0000000001";
pub(super) const OVEN_ID: &str = "ovenv2id0000000001";

/// A bridge under test with its clock.
pub(super) struct Harness {
    pub(super) bridge: Bridge,
    start: Instant,
    elapsed: Duration,
    wall0: OffsetDateTime,
}

pub(super) fn config() -> BridgeConfig {
    BridgeConfig {
        base_topic: "anova2mqtt".into(),
        homeassistant: Some(HomeAssistant {
            discovery_prefix: "homeassistant".into(),
            mode: DiscoveryMode::Device,
            status_topic: "homeassistant/status".into(),
        }),
        command_timeout: Duration::from_secs(10),
        confirm_timeout: Duration::from_secs(15),
        commands_per_minute: 30,
        max_temperature_c: None,
        oven_max_temperature_c: None,
        version: "0.1.0".into(),
        seed: 1,
        plans: Default::default(),
        restart: true,
    }
}

pub(super) fn idle_state(model: &str) -> CookerState {
    CookerState::idle_example(model)
}

pub(super) fn cooking_state(
    model: &str,
    target: f64,
    timer_total: u32,
    remaining: u32,
) -> CookerState {
    CookerState {
        cooking: true,
        stage: Stage::Cooking,
        hvac_action: HvacAction::Idle,
        water_temperature: Some(target),
        target_temperature: Some(target),
        timer_running: timer_total > 0,
        timer_total,
        timer_remaining: remaining,
        ..idle_state(model)
    }
}

impl Harness {
    pub(super) fn new(config: BridgeConfig) -> Self {
        let start = Instant::now();
        let wall0 = datetime!(2025-01-01 10:00:00 UTC);
        let bridge = Bridge::new(
            config,
            Now {
                instant: start,
                wall: wall0,
            },
        );
        Self {
            bridge,
            start,
            elapsed: Duration::ZERO,
            wall0,
        }
    }

    /// Connected to the broker and the cloud, with an a7 and a pro, both idle and online.
    pub(super) fn ready() -> Self {
        let mut h = Self::new(config());
        h.input(Input::MqttConnected);
        h.cloud(CloudEvent::Link(LinkState::Up));
        h.add(A7, "a7", "Kitchen");
        h.add(PRO, "pro", "Garage");
        h.cloud(CloudEvent::DeviceListSynced);
        h.state(A7, idle_state("a7"));
        h.state(PRO, idle_state("pro"));
        h.drain();
        h
    }

    /// [`ready`](Self::ready) with an idle `oven_v2` ([`OVEN`]) beside the cookers.
    pub(super) fn with_oven() -> Self {
        let mut h = Self::ready();
        h.add(OVEN, "oven_v2", "Oven");
        h.cloud(CloudEvent::State {
            cloud_id: OVEN.into(),
            state: crate::oven::state::OvenState::idle_example("oven_v2").into(),
        });
        h.drain();
        h
    }

    pub(super) fn now(&self) -> Now {
        Now {
            instant: self.start + self.elapsed,
            wall: self.wall0 + self.elapsed,
        }
    }

    pub(super) fn advance(&mut self, by: Duration) -> Vec<Output> {
        self.elapsed += by;
        self.input(Input::Tick)
    }

    /// How long after its start the clock is.
    pub(super) fn elapsed_now(&self) -> Duration {
        self.elapsed
    }

    /// Sets the clock to this long after its start (forward only), with no input.
    pub(super) fn elapsed_to(&mut self, elapsed: Duration) {
        assert!(elapsed >= self.elapsed);
        self.elapsed = elapsed;
    }

    pub(super) fn input(&mut self, input: Input) -> Vec<Output> {
        let now = self.now();
        self.bridge.handle(now, input);
        self.drain()
    }

    /// Every output, the backlog's bulk publishes included (as a driver with room pulls
    /// them).
    pub(super) fn drain(&mut self) -> Vec<Output> {
        let now = self.now();
        let mut all = Vec::new();
        loop {
            all.extend(std::iter::from_fn(|| self.bridge.poll_output()));
            if !self.bridge.pull_backlog(now) {
                return all;
            }
        }
    }

    pub(super) fn cloud(&mut self, event: CloudEvent) -> Vec<Output> {
        self.input(Input::Cloud(event))
    }

    pub(super) fn add(&mut self, cloud_id: &str, model: &str, name: &str) -> Vec<Output> {
        self.cloud(CloudEvent::DeviceAdded(DeviceInfo {
            cloud_id: cloud_id.into(),
            device_type: DeviceType::new(model),
            name: name.into(),
        }))
    }

    pub(super) fn state(&mut self, cloud_id: &str, state: CookerState) -> Vec<Output> {
        self.cloud(CloudEvent::State {
            cloud_id: cloud_id.into(),
            state: state.into(),
        })
    }

    pub(super) fn mqtt(&mut self, topic: &str, payload: &str, retained: bool) -> Vec<Output> {
        self.input(Input::Mqtt {
            topic: topic.into(),
            payload: payload.as_bytes().to_vec(),
            retained,
        })
    }

    pub(super) fn set(&mut self, id: &str, json: &str) -> Vec<Output> {
        self.mqtt(&format!("anova2mqtt/{id}/set"), json, false)
    }

    pub(super) fn set_key(&mut self, id: &str, key: &str, value: &str) -> Vec<Output> {
        self.mqtt(&format!("anova2mqtt/{id}/set/{key}"), value, false)
    }

    pub(super) fn result(&mut self, ticket: Ticket, result: Result<(), CloudError>) -> Vec<Output> {
        self.input(Input::CloudResult { ticket, result })
    }
}

pub(super) fn publishes(outputs: &[Output]) -> Vec<&Publish> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Publish(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub(super) fn on<'a>(outputs: &'a [Output], topic: &str) -> Vec<&'a Publish> {
    publishes(outputs)
        .into_iter()
        .filter(|p| p.topic == topic)
        .collect()
}

pub(super) fn json_on(outputs: &[Output], topic: &str) -> Vec<Value> {
    on(outputs, topic)
        .into_iter()
        .map(|p| serde_json::from_str(&p.payload).unwrap_or(Value::Null))
        .collect()
}

pub(super) fn response(outputs: &[Output], id: &str) -> Value {
    let responses = json_on(outputs, &format!("anova2mqtt/{id}/response"));
    assert_eq!(
        responses.len(),
        1,
        "expected exactly one response in {outputs:#?}"
    );
    responses.into_iter().next().unwrap_or(Value::Null)
}

pub(super) fn no_response(outputs: &[Output], id: &str) {
    assert!(
        on(outputs, &format!("anova2mqtt/{id}/response")).is_empty(),
        "unexpected response in {outputs:#?}"
    );
}

pub(super) fn cloud_commands(outputs: &[Output]) -> Vec<(Ticket, ApcCommand)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Cloud {
                ticket,
                command: CloudCommand::Cooker(command),
                ..
            } => Some((*ticket, command.clone())),
            _ => None,
        })
        .collect()
}

pub(super) fn one_command(outputs: &[Output]) -> (Ticket, ApcCommand) {
    let commands = cloud_commands(outputs);
    assert_eq!(
        commands.len(),
        1,
        "expected one cloud command in {outputs:#?}"
    );
    commands
        .into_iter()
        .next()
        .expect("the assertion above saw exactly one")
}

pub(super) fn error_code(response: &Value) -> &str {
    assert_eq!(response["status"], "error", "{response}");
    response["error"]["code"].as_str().unwrap_or("")
}
