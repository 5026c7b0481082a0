//! What one cloud push costs on the daemon's hot path: parsing a real state frame,
//! normalising it, and the bridge deciding what to publish. Run with
//! `cargo bench --bench pipeline`; numbers are per operation on this machine.
//!
//! No benchmark framework: each case runs for about half a second after a warm-up, and the
//! best of five rounds is reported (the least disturbed by the rest of the machine).

use anova2mqtt::appliance::DeviceInfo;
use anova2mqtt::bridge::{Bridge, BridgeConfig, HomeAssistant, Input, Now};
use anova2mqtt::cloud::{CloudEvent, LinkState};
use anova2mqtt::command::parse_envelope;
use anova2mqtt::homeassistant::DiscoveryMode;
use anova2mqtt::sous_vide::state::CookerState;
use anova2mqtt::wire::{DeviceType, Event};
use std::hint::black_box;
use std::time::{Duration, Instant};

const A7_COOKING: &str =
    include_str!("../tests/fixtures/anova-messages/EVENT_APC_STATE.a7.cooking.real.json");
const PRO_PREHEATING: &str =
    include_str!("../tests/fixtures/anova-messages/EVENT_APC_STATE.pro.preheating.real.json");

fn measure(name: &str, mut op: impl FnMut()) {
    for _ in 0..1_000 {
        op();
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_millis(100) {
            for _ in 0..100 {
                op();
            }
            n += 100;
        }
        best = best.min(start.elapsed().as_nanos() as f64 / n as f64);
    }
    println!("{name:<52} {best:>9.0} ns/op");
}

fn state_of(text: &str) -> (DeviceType, anova2mqtt::sous_vide::wire::ApcState) {
    match Event::parse(text) {
        Ok(Event::ApcState(e)) => (
            e.device_type
                .clone()
                .unwrap_or_else(|| DeviceType::new("a7")),
            e.state,
        ),
        other => panic!("not a state: {other:?}"),
    }
}

fn main() {
    measure("Event::parse (a7 cooking, 2.9 KB)", || {
        black_box(Event::parse(black_box(A7_COOKING)).ok());
    });
    measure("Event::parse (pro preheating, 2.3 KB)", || {
        black_box(Event::parse(black_box(PRO_PREHEATING)).ok());
    });
    let (a7_type, a7_state) = state_of(A7_COOKING);
    let now = time::OffsetDateTime::now_utc();
    measure("CookerState::from_wire (a7)", || {
        black_box(CookerState::from_wire(&a7_type, black_box(&a7_state), now, None).ok());
    });

    // The bridge with one cooker, connected to both sides.
    let config = BridgeConfig {
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
        version: "bench".into(),
        seed: 1,
        plans: Default::default(),
        restart: false,
    };
    let mut bridge = Bridge::new(config, Now::system());
    bridge.handle(Now::system(), Input::MqttConnected);
    bridge.handle(Now::system(), Input::Cloud(CloudEvent::Link(LinkState::Up)));
    bridge.handle(
        Now::system(),
        Input::Cloud(CloudEvent::DeviceAdded(DeviceInfo {
            cloud_id: "A7COOKERID000000000001".into(),
            device_type: a7_type.clone(),
            name: "Kitchen".into(),
        })),
    );
    let state = CookerState::from_wire(&a7_type, &a7_state, now, None).unwrap();
    let drain = |bridge: &mut Bridge| {
        while bridge.poll_output().is_some() || bridge.pull_backlog(Now::system()) {}
    };
    let push = |bridge: &mut Bridge, state: CookerState| {
        bridge.handle(
            Now::system(),
            Input::Cloud(CloudEvent::State {
                cloud_id: "A7COOKERID000000000001".into(),
                state: state.into(),
            }),
        );
    };
    push(&mut bridge, state.clone());
    drain(&mut bridge);
    measure("Bridge: an unchanged push (nothing to publish)", || {
        push(&mut bridge, state.clone());
        drain(&mut bridge);
    });
    let mut warmer = state.clone();
    let mut step = 0.0;
    measure("Bridge: a push that publishes new state", || {
        step += 0.1;
        warmer.water_temperature = Some(40.0 + (step % 10.0));
        push(&mut bridge, warmer.clone());
        drain(&mut bridge);
    });
    measure("Command parsing (JSON set with four keys)", || {
        let envelope = parse_envelope(black_box(
            br#"{"id":"x","cook":true,"target_temperature":"135F","timer":"1h30m"}"#,
        ));
        black_box(
            envelope
                .map(|e| anova2mqtt::sous_vide::command::parse(&e.fields).is_ok())
                .ok(),
        );
    });
}
