//! Tests of `world.rs` (kept apart so both files read in one sitting).

use super::*;
use crate::simulator::config::demo_cookers;
use crate::simulator::thermal::ICE_WATER_C;
use crate::simulator::wire::client::CookerRef;
use crate::simulator::wire::round2;
use crate::simulator::wire::{DeviceType, TemperatureUnit};
use serde_json::Value;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2025-03-01 12:00:00 UTC);
const APC: Accessories = Accessories {
    apc: true,
    apo: false,
};
const APO: Accessories = Accessories {
    apc: false,
    apo: true,
};
const BOTH: Accessories = Accessories {
    apc: true,
    apo: true,
};

fn world() -> World {
    let config = SimulatorConfig {
        noise: false,
        ..SimulatorConfig::default()
    };
    World::new(&config, NOW, Instant::now()).expect("a valid simulator config")
}

fn texts(outbox: &mut mpsc::Receiver<Outbound>) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Ok(item) = outbox.try_recv() {
        let text = match item {
            Outbound::Frame { text, .. } => text.to_string(),
            Outbound::Response { text, .. } => text,
            Outbound::Binary(_) => continue,
        };
        frames.push(serde_json::from_str(&text).expect("the simulator sends JSON"));
    }
    frames
}

fn commands(outbox: &mut mpsc::Receiver<Outbound>) -> Vec<String> {
    texts(outbox)
        .iter()
        .map(|f| {
            f["command"]
                .as_str()
                .expect("every frame has a command")
                .to_owned()
        })
        .collect()
}

/// A client frame for `command`, as a client would send it.
fn frame(command: &ApcCommand) -> ClientFrame {
    let mut payload = serde_json::json!({
        "cookerId": command.cooker().cooker_id,
        "type": command.cooker().device_type.as_str(),
    });
    match command {
        ApcCommand::Start {
            target_temperature,
            timer,
            ..
        } => {
            payload["targetTemperature"] = (*target_temperature).into();
            payload["unit"] = "C".into();
            if let Some(timer) = timer {
                payload["timer"] = (*timer).into();
            }
        }
        ApcCommand::Stop { .. } => {}
        other => panic!("not used here: {other:?}"),
    }
    let text = serde_json::json!({
        "command": command.name().as_str(),
        "requestId": "req",
        "payload": payload,
    });
    ClientFrame::parse(&text.to_string()).expect("a frame as the apps send it")
}

fn a7_ref() -> CookerRef {
    CookerRef {
        cooker_id: demo_cookers()[0].cooker_id.clone(),
        device_type: DeviceType::new("a7"),
    }
}

fn start(timer: Option<u32>) -> ClientFrame {
    frame(&ApcCommand::Start {
        cooker: a7_ref(),
        target_temperature: 60.0,
        unit: TemperatureUnit::C,
        timer,
    })
}

#[test]
fn connect_sequence() {
    let mut world = world();
    let (_, mut outbox) = world.register(APC, NOW);
    assert_eq!(
        commands(&mut outbox),
        [
            "EVENT_APC_WIFI_LIST",
            "EVENT_USER_STATE",
            "EVENT_APC_STATE",
            "EVENT_APC_STATE"
        ]
    );
    let (_, mut ovens) = world.register(APO, NOW);
    // The demo oven is offered a firmware update: its event follows the states.
    assert_eq!(
        commands(&mut ovens),
        [
            "EVENT_APO_WIFI_LIST",
            "EVENT_USER_STATE",
            "EVENT_APO_STATE",
            "EVENT_APO_WIFI_FIRMWARE_UPDATE"
        ]
    );
    let (_, mut both) = world.register(BOTH, NOW);
    assert_eq!(
        commands(&mut both),
        [
            "EVENT_APC_WIFI_LIST",
            "EVENT_APO_WIFI_LIST",
            "EVENT_USER_STATE",
            "EVENT_APC_STATE",
            "EVENT_APC_STATE",
            "EVENT_APO_STATE",
            "EVENT_APO_WIFI_FIRMWARE_UPDATE"
        ]
    );
}

#[test]
fn the_connect_sequence_fits_any_number_of_cookers() {
    let config = SimulatorConfig {
        cookers: (0..3000)
            .map(|i| SimCookerSpec::a7(format!("c{i}"), "c"))
            .collect(),
        ..SimulatorConfig::for_tests(Vec::new())
    };
    let mut world = World::new(&config, NOW, Instant::now()).expect("a valid simulator config");
    let (_, mut outbox) = world.register(APC, NOW);
    assert_eq!(commands(&mut outbox).len(), 3002);
}

#[test]
fn response_then_push_to_everyone() {
    let mut world = world();
    let (me, mut mine) = world.register(APC, NOW);
    let (_, mut other) = world.register(APC, NOW);
    commands(&mut mine);
    commands(&mut other);
    assert_eq!(
        world.execute(me, &start(None), NOW, Instant::now()),
        Outcome::Applied
    );
    assert_eq!(commands(&mut mine), ["RESPONSE", "EVENT_APC_STATE"]);
    assert_eq!(commands(&mut other), ["EVENT_APC_STATE"]);
    assert_eq!(
        world.commands.total(),
        0,
        "the server records, not the world"
    );
}

#[test]
fn wrong_type_or_unknown_cooker_is_ok_and_ignored() {
    let mut world = world();
    let (me, mut mine) = world.register(APC, NOW);
    commands(&mut mine);
    let before = world.snapshots();
    for cooker in [
        CookerRef {
            device_type: DeviceType::new("pro"),
            ..a7_ref()
        },
        CookerRef {
            device_type: DeviceType::new(""),
            ..a7_ref()
        },
        CookerRef {
            cooker_id: "nope".into(),
            ..a7_ref()
        },
    ] {
        let stop = frame(&ApcCommand::Stop { cooker });
        assert!(matches!(
            world.execute(me, &stop, NOW, Instant::now()),
            Outcome::Ignored(_)
        ));
        assert_eq!(commands(&mut mine), ["RESPONSE"]);
    }
    assert_eq!(world.snapshots(), before);
}

#[test]
fn one_long_tick_pushes_every_transition() {
    let config = SimulatorConfig {
        cookers: vec![SimCookerSpec {
            water_temperature_c: 59.0,
            ..demo_cookers()[0].clone()
        }],
        noise: false,
        ..SimulatorConfig::default()
    };
    let t0 = Instant::now();
    let mut world = World::new(&config, NOW, t0).expect("a valid simulator config");
    let (me, mut outbox) = world.register(APC, NOW);
    world.execute(me, &start(Some(120)), NOW, t0);
    commands(&mut outbox);
    // A stalled tick: preheat (0.7 °C at 1 °C/min) and the whole timer in one go.
    world.tick(1000.0, NOW, t0);
    let timers: Vec<(Value, Value)> = texts(&mut outbox)
        .iter()
        .map(|f| {
            let state = &f["payload"]["state"];
            (
                state["cook"]["activeStageMode"].clone(),
                state["nodes"]["timer"]["mode"].clone(),
            )
        })
        .collect();
    assert_eq!(
        timers,
        [
            ("running".into(), "running".into()),
            ("running".into(), "completed".into())
        ]
    );
}

#[test]
fn periodic_pushes_follow_the_schedule() {
    let config = SimulatorConfig {
        idle_push_interval: Duration::from_secs(30),
        noise: false,
        ..SimulatorConfig::default()
    };
    let t0 = Instant::now();
    let mut world = World::new(&config, NOW, t0).expect("a valid simulator config");
    let (_, mut outbox) = world.register(APC, NOW);
    commands(&mut outbox);
    world.tick(1.0, NOW, t0 + Duration::from_secs(10));
    assert!(commands(&mut outbox).is_empty());
    world.tick(1.0, NOW, t0 + Duration::from_secs(31));
    assert_eq!(commands(&mut outbox).len(), 2, "one push per cooker");
}

#[test]
fn silent_cookers_do_not_push_and_come_back() {
    let mut world = world();
    let id = world.snapshots()[0].cooker_id.clone();
    let (_, mut outbox) = world.register(APC, NOW);
    commands(&mut outbox);
    let t0 = Instant::now();
    assert!(world.set_silent(&id, true, NOW, t0));
    world.tick(1.0, NOW, t0 + Duration::from_secs(3600));
    assert_eq!(commands(&mut outbox).len(), 1, "only the other cooker");
    world.set_silent(&id, false, NOW, t0);
    assert_eq!(commands(&mut outbox), ["EVENT_APC_STATE"]);
}

#[test]
fn add_and_remove_announce() {
    let mut world = world();
    let (me, mut outbox) = world.register(APC, NOW);
    commands(&mut outbox);
    let spec = SimCookerSpec::a7("new", "New");
    world
        .add_cooker(&spec, true, NOW, Instant::now())
        .expect("a new cooker id");
    assert_eq!(
        commands(&mut outbox),
        ["EVENT_APC_WIFI_ADDED", "EVENT_APC_STATE"]
    );
    assert!(matches!(
        world.add_cooker(&spec, false, NOW, Instant::now()),
        Err(SpecError::Duplicate(_))
    ));
    // Removing the first cooker keeps commands reaching the others.
    assert!(world.remove_device(&a7_ref().cooker_id, false));
    let stop = frame(&ApcCommand::Stop {
        cooker: CookerRef {
            cooker_id: "new".into(),
            device_type: DeviceType::new("a7"),
        },
    });
    assert_eq!(
        world.execute(me, &stop, NOW, Instant::now()),
        Outcome::Applied
    );
    commands(&mut outbox);
    assert!(world.remove_device("new", true));
    assert_eq!(commands(&mut outbox), ["EVENT_APC_WIFI_REMOVED"]);
    assert!(!world.remove_device("new", true));
}

fn load_world(cookers: usize, t0: Instant) -> World {
    let config = SimulatorConfig {
        load: Some(crate::simulator::config::LoadSpec::a7(cookers)),
        ..SimulatorConfig::for_tests(Vec::new())
    };
    World::new(&config, NOW, t0).expect("a valid simulator config")
}

#[test]
fn the_load_fleet_pushes_round_robin_with_moving_water() {
    let t0 = Instant::now();
    let mut world = load_world(4, t0);
    let (_, mut outbox) = world.register(APC, NOW);
    assert_eq!(
        commands(&mut outbox).len(),
        6,
        "list, user state, four states"
    );
    // The physics tick leaves load cookers alone.
    world.tick(10.0, NOW, t0 + Duration::from_secs(100));
    assert!(commands(&mut outbox).is_empty());
    let second = t0 + Duration::from_secs(1);
    assert!(matches!(
        world.push_load(second, NOW),
        LoadStep::WaitUntil(due) if due == t0 + Duration::from_millis(1250)
    ));
    let pushes: Vec<(String, f64)> = texts(&mut outbox)
        .iter()
        .map(|f| {
            let payload = &f["payload"];
            let water = &payload["state"]["nodes"]["waterTemperatureSensor"]["current"];
            (
                payload["cookerId"]
                    .as_str()
                    .expect("a state names its cooker")
                    .to_owned(),
                water["celsius"]
                    .as_f64()
                    .expect("a water temperature in °C"),
            )
        })
        .collect();
    let ids: Vec<&str> = pushes.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "LOAD000001",
            "LOAD000002",
            "LOAD000003",
            "LOAD000004",
            "LOAD000001"
        ]
    );
    assert!(((pushes[4].1 - pushes[0].1).abs() - 0.2).abs() < 1e-9);
    assert_eq!(world.load_counters(), (5, 0));
    let load = world
        .snapshot("LOAD000001")
        .expect("the load cooker exists");
    assert_eq!(load.stage, crate::simulator::CookerStage::Cooking);
    assert_eq!(load.water_temperature_c, pushes[4].1);
}

#[test]
fn a_full_outbox_holds_the_fleet_back_instead_of_losing_pushes() {
    let t0 = Instant::now();
    let mut world = load_world(2, t0);
    let (_, mut outbox) = world.register(APC, NOW);
    commands(&mut outbox);
    // A reader that stopped: its outbox fills up.
    let mut now = t0;
    let mut steps = 0;
    let blocked = loop {
        now += Duration::from_millis(500);
        steps += 1;
        assert!(steps < 10_000, "never blocked");
        match world.push_load(now, NOW) {
            LoadStep::Blocked(_) => break world.load_counters().0,
            LoadStep::WaitUntil(_) => {}
            LoadStep::Off => panic!("no fleet"),
        }
    };
    assert!(blocked > OUTBOX_CAPACITY as u64);
    assert_eq!(blocked, outbox.len() as u64, "every push sent is queued");
    assert!(matches!(world.push_load(now, NOW), LoadStep::Blocked(_)));
    // Room again: the fleet goes on.
    let _ = outbox.try_recv();
    assert!(matches!(world.push_load(now, NOW), LoadStep::WaitUntil(_)));
    assert_eq!(world.load_counters().0, blocked + 1);
}

#[test]
fn without_a_fleet_the_load_generator_is_off() {
    assert!(matches!(
        world().push_load(Instant::now(), NOW),
        LoadStep::Off
    ));
}

#[test]
fn the_command_log_is_bounded() {
    let mut log = CommandLog::new(2);
    for i in 0..5 {
        log.push(ReceivedCommand {
            connection: i,
            received_at: Instant::now(),
            frame: frame(&ApcCommand::Stop { cooker: a7_ref() }),
        });
    }
    assert_eq!(log.total(), 5);
    let kept: Vec<u64> = log.retained().map(|c| c.connection).collect();
    assert_eq!(kept, [3, 4]);
    assert_eq!(log.drain().len(), 2);
    assert_eq!(log.retained().count(), 0);
    assert_eq!(log.total(), 5);
}

#[test]
fn an_ice_bath_is_pushed_at_once_and_warms_while_the_cooker_waits() {
    let mut world = world();
    let id = world.snapshots()[0].cooker_id.clone();
    let (_, mut outbox) = world.register(APC, NOW);
    texts(&mut outbox);
    let t0 = Instant::now();
    assert!(world.set_ice_bath(&id, 0.01, NOW, t0));
    let water = |frames: &[Value]| -> Vec<f64> {
        frames
            .iter()
            .filter(|f| f["payload"]["cookerId"] == id.as_str())
            .filter_map(|f| {
                f["payload"]["state"]["nodes"]["waterTemperatureSensor"]["current"]["celsius"]
                    .as_f64()
            })
            .collect()
    };
    assert_eq!(water(&texts(&mut outbox)), [ICE_WATER_C], "pushed at once");
    // 0.01 kg/kg melts in about 4 min; 30 simulated minutes later the water is past 4.4 °C.
    world.tick(1800.0, NOW, t0 + Duration::from_secs(31));
    let snapshot = world.snapshot(&id).expect("the cooker");
    assert_eq!(snapshot.ice_ratio, 0.0);
    assert!(snapshot.water_temperature_c > 4.4, "{snapshot:?}");
    assert!(snapshot.water_temperature_c < 10.0, "{snapshot:?}");
    let pushed = water(&texts(&mut outbox));
    assert_eq!(
        pushed,
        [round2(snapshot.water_temperature_c)],
        "the idle push"
    );
    assert!(!world.set_ice_bath("nobody", 0.1, NOW, t0));
}
