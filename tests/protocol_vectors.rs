//! Every captured wire message is a test vector: it parses, commands round-trip, and each state
//! normalises to the values read off the capture.

use anova2mqtt::simulator::{self as sim, ClientCommand, ClientFrame};
use anova2mqtt::sous_vide::state::{CookerState, HvacAction, Stage};
use anova2mqtt::sous_vide::wire::{ApcCommand, ApcState, DeviceRef};
use anova2mqtt::wire::{DeviceType, Event, TemperatureUnit};
use serde_json::Value;
use std::path::{Path, PathBuf};
use time::macros::datetime;
use time::OffsetDateTime;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anova-messages")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Our copy must hold every file of `../shared/anova-messages/` (when that folder exists), byte
/// for byte, so that new captures added there cannot be forgotten here.
#[test]
fn fixtures_mirror_the_shared_captures() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/anova-messages");
    if !shared.is_dir() {
        eprintln!("../shared/anova-messages is not present; checking our copy only");
        return;
    }
    for file in json_files(&shared) {
        let name = file.file_name().unwrap();
        let ours = fixtures().join(name);
        assert!(
            ours.exists(),
            "{name:?} is missing from tests/fixtures/anova-messages"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            std::fs::read(&ours).unwrap(),
            "{name:?} differs"
        );
    }
}

/// Every file parses: server frames as events, client frames as commands.
#[test]
fn every_capture_parses() {
    for file in json_files(&fixtures()) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        if name.starts_with("CMD_") {
            let frame = ClientFrame::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(name.split('.').next().unwrap(), frame.command, "{name}");
        } else {
            let event = Event::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                !matches!(event, Event::Unknown { .. }),
                "{name} parsed as unknown"
            );
            assert_eq!(name.split('.').next().unwrap(), event.command(), "{name}");
        }
    }
}

/// The product's command for what the simulator's (independent) parser read.
fn ours(command: &sim::ApcCommand) -> ApcCommand {
    let cooker = |c: &sim::CookerRef| DeviceRef {
        cloud_id: c.cooker_id.as_str().into(),
        device_type: DeviceType::new(c.device_type.as_str()),
    };
    let unit = |u: sim::TemperatureUnit| match u {
        sim::TemperatureUnit::C => TemperatureUnit::C,
        sim::TemperatureUnit::F => TemperatureUnit::F,
    };
    match command {
        sim::ApcCommand::Start {
            cooker: c,
            target_temperature,
            unit: u,
            timer,
        } => ApcCommand::Start {
            cooker: cooker(c),
            target_temperature: *target_temperature,
            unit: unit(*u),
            timer: *timer,
        },
        sim::ApcCommand::Stop { cooker: c } => ApcCommand::Stop { cooker: cooker(c) },
        sim::ApcCommand::SetTargetTemp {
            cooker: c,
            target_temperature,
            unit: u,
        } => ApcCommand::SetTargetTemp {
            cooker: cooker(c),
            target_temperature: *target_temperature,
            unit: unit(*u),
        },
        sim::ApcCommand::SetTimer { cooker: c, timer } => ApcCommand::SetTimer {
            cooker: cooker(c),
            timer: *timer,
        },
        sim::ApcCommand::SetTemperatureUnit { cooker: c, unit: u } => {
            ApcCommand::SetTemperatureUnit {
                cooker: cooker(c),
                unit: unit(*u),
            }
        }
    }
}

/// Each command re-serialises to the same JSON value, key for key.
#[test]
fn commands_round_trip() {
    for file in json_files(&fixtures()) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("CMD_") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        let frame = ClientFrame::parse(&text).unwrap();
        let again: Value = serde_json::from_str(&frame.to_json()).unwrap();
        assert_eq!(original, again, "{name}");
        if name.starts_with("CMD_APC_") {
            let ClientCommand::Apc { command, .. } = &frame.body else {
                panic!("{name}: not decoded as an APC command");
            };
            // What the gateway itself would send carries the same command, id and payload
            // (minus the app's optional inner requestId).
            let ours: Value =
                serde_json::from_str(&ours(command).to_frame(&frame.request_id)).unwrap();
            let mut expected = original.clone();
            expected["payload"]
                .as_object_mut()
                .unwrap()
                .remove("requestId");
            assert_eq!(ours, expected, "{name}");
        }
    }
}

#[test]
fn start_command_values() {
    let frame = ClientFrame::parse(&read("CMD_APC_START.a7.documented.json")).unwrap();
    assert_eq!(frame.request_id, "0b6f1c1e-5d1a-4c57-9d0e-2a1c6d7f8e90");
    let ClientCommand::Apc { command, .. } = frame.body else {
        panic!()
    };
    let ApcCommand::Start {
        cooker,
        target_temperature,
        unit,
        timer,
    } = ours(&command)
    else {
        panic!()
    };
    assert_eq!(cooker.cloud_id, "A7COOKERID000000000001");
    assert_eq!(cooker.device_type, DeviceType::new("a7"));
    assert_eq!(
        (target_temperature, unit, timer),
        (65.0, TemperatureUnit::C, Some(3600))
    );
}

#[test]
fn app_style_commands_keep_their_inner_request_id() {
    let frame = ClientFrame::parse(&read("CMD_APC_SET_TIMER.pro.app-style.json")).unwrap();
    let ClientCommand::Apc {
        command,
        inner_request_id,
    } = frame.body
    else {
        panic!()
    };
    assert_eq!(inner_request_id.as_deref(), Some("73bdf585197415a1f0ff6e"));
    assert!(matches!(
        ours(&command),
        ApcCommand::SetTimer { timer: 1200, .. }
    ));
}

#[test]
fn responses() {
    let Event::Response(ok) = Event::parse(&read("RESPONSE.ok.documented.json")).unwrap() else {
        panic!()
    };
    assert!(ok.is_ok());
    assert_eq!(ok.request_id, "0b6f1c1e-5d1a-4c57-9d0e-2a1c6d7f8e90");
    let Event::Response(err) = Event::parse(&read("RESPONSE.error.synthetic.json")).unwrap() else {
        panic!()
    };
    assert!(!err.is_ok());
    assert_eq!(err.error.as_deref(), Some("invalid command"));
}

#[test]
fn device_list() {
    let Event::ApcWifiList(list) =
        Event::parse(&read("EVENT_APC_WIFI_LIST.a4+a7.real.json")).unwrap()
    else {
        panic!()
    };
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].cloud_id, "A4COOKERID000000000001");
    assert_eq!(list[0].device_type, DeviceType::new("a4"));
    assert_eq!(list[1].name.as_deref(), Some("Anova Precision Cooker 3.0"));
    assert_eq!(
        list[1].paired_at.as_deref(),
        Some("2024-07-05T17:36:59.347Z")
    );
}

#[test]
fn user_state() {
    let Event::UserState(user) = Event::parse(&read("EVENT_USER_STATE.real.json")).unwrap() else {
        panic!()
    };
    assert_eq!(user.is_connected_to_alexa, Some(false));
    assert_eq!(
        user.sous_vide_subscription.unwrap().has_valid_subscription,
        Some(true)
    );
}

#[test]
fn oven_messages_parse() {
    let event = Event::parse(&read("EVENT_APO_STATE.oven_v2.cooking.real.json")).unwrap();
    let Event::ApoState(oven) = event else {
        panic!()
    };
    assert_eq!(oven.cloud_id, "OVENID0000000000001");
    let frame = ClientFrame::parse(&read("CMD_APO_START.oven_v2.documented.json")).unwrap();
    let ClientCommand::Apo(envelope) = frame.body else {
        panic!("not an oven envelope")
    };
    assert_eq!(envelope.command_type, "CMD_APO_START");
}

/// A Precision Oven 1.0 on 2.1.7 offered 2.1.8: every field read.
#[test]
fn oven_firmware_update_is_read() {
    let event = Event::parse(&read("EVENT_APO_WIFI_FIRMWARE_UPDATE.oven_v1.real.json")).unwrap();
    let Event::ApoWifiFirmwareUpdate(firmware) = event else {
        panic!("not a firmware update: {event:?}")
    };
    assert_eq!(firmware.cloud_id, "01234XXXXXXXXX");
    assert_eq!(firmware.device_type, Some(DeviceType::new("oven_v1")));
    assert_eq!(firmware.version.as_deref(), Some("2.1.7"));
    let ota = firmware.ota.expect("the capture offers an update");
    assert_eq!(ota.available, Some(true));
    assert_eq!(ota.required, Some(false));
    assert_eq!(ota.version.as_deref(), Some("2.1.8"));
    assert!(ota
        .description
        .as_deref()
        .is_some_and(|d| d.starts_with("2.1.8 - Prevent cooks when idle or NTC broken")));
    assert_eq!(
        ota.url.as_deref(),
        Some("https://storage.googleapis.com/anova-app.appspot.com/oven-firmware/oven-controller-2.1.8.bin")
    );
}

/// The app's real oven starts, read by the simulator's independent parser as the oven
/// envelope: the command, the oven and the stages as sent.
#[test]
fn the_apps_real_oven_starts_parse() {
    for (name, stages) in [
        ("CMD_APO_START.oven_v1.real.json", 6),
        ("CMD_APO_START.oven_v2.real.json", 1),
    ] {
        let frame = ClientFrame::parse(&read(name)).unwrap();
        let ClientCommand::Apo(envelope) = frame.body else {
            panic!("{name}: not an oven envelope")
        };
        assert_eq!(envelope.command_type, "CMD_APO_START", "{name}");
        let payload = envelope.payload.expect("a START has a payload");
        assert_eq!(
            payload["stages"].as_array().map(Vec::len),
            Some(stages),
            "{name}"
        );
    }
}

fn normalise(name: &str, now: OffsetDateTime) -> CookerState {
    let Event::ApcState(event) = Event::parse(&read(name)).unwrap() else {
        panic!("{name}")
    };
    CookerState::from_wire(event.device_type.as_ref().unwrap(), &event.state, now, None).unwrap()
}

#[test]
fn a7_idle_normalises() {
    let s = normalise(
        "EVENT_APC_STATE.a7.idle.real.json",
        datetime!(2024-06-13 03:11:50 UTC),
    );
    assert!(!s.cooking);
    assert_eq!(s.stage, Stage::Idle);
    assert_eq!(s.hvac_action, HvacAction::Off);
    assert_eq!(s.water_temperature, Some(25.25));
    assert_eq!(s.target_temperature, Some(84.4));
    assert_eq!(s.display_unit, Some(TemperatureUnit::C));
    assert!(!s.timer_running);
    assert_eq!((s.timer_total, s.timer_remaining), (36000, 0));
    assert_eq!(s.cook_ends_at, None);
    assert_eq!(s.time_maintaining, None);
    assert_eq!(s.low_water, Some(false));
    assert_eq!(s.water_critical, Some(false));
    assert_eq!(
        (s.water_leak, s.high_temp, s.motor_stuck),
        (Some(false), Some(false), Some(false))
    );
    assert_eq!(s.triac_failed, Some(false));
    assert_eq!((s.heater_temperature, s.triac_temperature), (None, None));
    assert_eq!(s.model, "a7");
    assert_eq!(s.firmware.as_deref(), Some("01.01.12"));
    assert!(s.online);
    assert_eq!(s.updated_at, datetime!(2024-06-13 03:11:47 UTC));
}

#[test]
fn a7_cooking_normalises() {
    // Received at the capture's own updatedTimestamp: 46 s after the timer started.
    let s = normalise(
        "EVENT_APC_STATE.a7.cooking.real.json",
        datetime!(2024-07-05 21:49:56 UTC),
    );
    assert!(s.cooking);
    assert_eq!(s.stage, Stage::Cooking);
    // 55.27 °C is above 54.46 − 0.3: holding.
    assert_eq!(s.hvac_action, HvacAction::Idle);
    assert_eq!(s.water_temperature, Some(55.27));
    assert_eq!(s.target_temperature, Some(54.46));
    // Displayed in °F, reported in °C.
    assert_eq!(s.display_unit, Some(TemperatureUnit::F));
    assert!(s.timer_running);
    assert_eq!(s.timer_total, 1200);
    assert_eq!(s.timer_remaining, 1200 - 46);
    assert_eq!(s.cook_ends_at, Some(datetime!(2024-07-05 22:09:10 UTC)));
    assert_eq!(s.time_maintaining, None);
    assert_eq!(s.low_water, Some(false));
    assert_eq!(s.triac_failed, Some(false));
    assert_eq!(s.firmware.as_deref(), Some("01.01.25"));
    assert_eq!(s.updated_at, datetime!(2024-07-05 21:49:56 UTC));
    assert!(s.online);
}

#[test]
fn pro_preheating_normalises() {
    let now = datetime!(2024-01-01 12:00:00 UTC);
    let s = normalise("EVENT_APC_STATE.pro.preheating.real.json", now);
    assert!(s.cooking);
    assert_eq!(s.stage, Stage::Preheating);
    assert_eq!(s.hvac_action, HvacAction::Heating);
    assert_eq!(s.water_temperature, Some(4.1));
    assert_eq!(s.target_temperature, Some(69.0));
    assert_eq!(s.display_unit, Some(TemperatureUnit::C));
    assert!(!s.timer_running);
    assert_eq!((s.timer_total, s.timer_remaining), (6960, 6960));
    assert_eq!(s.cook_ends_at, None);
    assert_eq!(s.time_maintaining, None);
    assert_eq!(s.low_water, Some(false));
    assert_eq!(s.water_critical, Some(false));
    assert_eq!(s.water_leak, Some(false));
    assert_eq!(s.motor_stuck, Some(false));
    // The Pro has no over-temperature pin and no triac flag.
    assert_eq!((s.high_temp, s.triac_failed), (None, None));
    assert_eq!(s.heater_temperature, Some(5.42));
    assert_eq!(s.triac_temperature, Some(11.0));
    assert_eq!(s.model, "pro");
    assert_eq!(s.firmware.as_deref(), Some("3.3.01"));
    // Gen 2 has no online flag and no timestamp: it is online, as of when it arrived.
    assert!(s.online);
    assert_eq!(s.reported_online, None);
    assert_eq!(s.updated_at, now);
}

#[test]
fn a3_cooking_normalises_from_fahrenheit() {
    let now = datetime!(2024-07-05 21:00:00 UTC);
    let s = normalise("EVENT_APC_STATE.a3.cooking.real.json", now);
    assert!(s.cooking);
    assert_eq!(s.stage, Stage::Cooking);
    assert_eq!(s.display_unit, Some(TemperatureUnit::F));
    // 96 °F and 97.5 °F.
    assert!((s.water_temperature.unwrap() - 35.5556).abs() < 1e-3);
    assert!((s.target_temperature.unwrap() - 36.3889).abs() < 1e-3);
    // 35.56 + 0.3 < 36.39: still heating.
    assert_eq!(s.hvac_action, HvacAction::Heating);
    assert!(!s.timer_running);
    assert_eq!((s.timer_total, s.timer_remaining), (0, 0));
    assert_eq!(s.firmware.as_deref(), Some("ver 5.5.1"));
    assert_eq!(s.reported_online, Some(true));
    assert_eq!(s.low_water, None);
    assert_eq!(s.model, "a3");
}

#[test]
fn state_bodies_are_chosen_by_type() {
    for (name, gen3, gen2, a3) in [
        ("EVENT_APC_STATE.a7.idle.real.json", true, false, false),
        (
            "EVENT_APC_STATE.pro.preheating.real.json",
            false,
            true,
            false,
        ),
        ("EVENT_APC_STATE.a3.cooking.real.json", false, false, true),
    ] {
        let Event::ApcState(e) = Event::parse(&read(name)).unwrap() else {
            panic!()
        };
        assert_eq!(matches!(e.state, ApcState::Gen3(_)), gen3, "{name}");
        assert_eq!(matches!(e.state, ApcState::Gen2(_)), gen2, "{name}");
        assert_eq!(matches!(e.state, ApcState::A3(_)), a3, "{name}");
    }
}

/// Bad input from the network never panics: every capture, mutated thousands of ways (bytes
/// flipped, cut short, values swapped for other JSON types), goes through the parser and the
/// normaliser. A deterministic generator keeps failures reproducible.
#[test]
fn mutated_frames_never_panic() {
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }
    const REPLACEMENTS: [&str; 9] = [
        "null",
        "true",
        "-1",
        "1e999",
        "\"x\"",
        "[]",
        "{}",
        "99999999999999999999",
        "\"2024-13-45T99:99:99Z\"",
    ];
    let mut rng = XorShift(0x5eed_cafe_f00d_beef);
    let now = datetime!(2024-07-05 21:49:56 UTC);
    let mut parsed = 0;
    for file in json_files(&fixtures()) {
        let original = std::fs::read_to_string(&file).unwrap();
        for _ in 0..1_500 {
            let mut bytes = original.clone().into_bytes();
            match rng.below(3) {
                0 => {
                    // Flip a few bytes.
                    for _ in 0..=rng.below(4) {
                        let i = rng.below(bytes.len());
                        bytes[i] = (rng.next() & 0x7f) as u8;
                    }
                }
                1 => bytes.truncate(rng.below(bytes.len())),
                _ => {
                    // Replace the value after a random `:` with another JSON type.
                    let colons: Vec<usize> = bytes
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b':')
                        .map(|(i, _)| i)
                        .collect();
                    if let Some(&at) = colons.get(rng.below(colons.len().max(1))) {
                        let end = bytes[at + 1..]
                            .iter()
                            .position(|b| matches!(b, b',' | b'}' | b']'))
                            .map_or(bytes.len(), |p| at + 1 + p);
                        let replacement = REPLACEMENTS[rng.below(REPLACEMENTS.len())].as_bytes();
                        bytes.splice(at + 1..end, replacement.iter().copied());
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(Event::ApcState(event)) = Event::parse(&text) {
                parsed += 1;
                let device_type = event
                    .device_type
                    .clone()
                    .unwrap_or_else(|| DeviceType::new("a7"));
                if let Ok(state) = CookerState::from_wire(&device_type, &event.state, now, None) {
                    // Whatever came in, what goes out is well-formed.
                    let json = serde_json::to_value(&state).unwrap();
                    assert!(json.is_object());
                    assert!(state.water_temperature.is_none_or(f64::is_finite));
                    assert!(state.target_temperature.is_none_or(f64::is_finite));
                }
            }
            let _ = ClientFrame::parse(&text);
        }
    }
    // The mutations left many state frames readable: the lenient parser did its job.
    assert!(parsed > 1_000, "only {parsed} mutated state frames parsed");
}
