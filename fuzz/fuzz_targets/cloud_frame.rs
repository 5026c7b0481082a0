//! Any cloud frame, of every device family, through the client's parser and registry (which
//! normalises states), then through the bridge (which publishes them). Several frames per
//! input, separated by NUL bytes, so a state can follow a device list or another state. Nothing
//! may panic.

#![no_main]

#[path = "common.rs"]
mod common;

use anova2mqtt::bridge::Input;
use anova2mqtt::cloud::client::fuzzing::FrameReader;
use anova2mqtt::cloud::{CloudEvent, LinkState};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut reader = FrameReader::default();
    let mut driver = common::Driver::new();
    driver.input(Input::MqttConnected);
    driver.input(Input::Cloud(CloudEvent::Link(LinkState::Up)));
    for frame in text.split('\0').take(16) {
        for event in reader.frame(frame, driver.wall, true) {
            driver.input(Input::Cloud(event));
        }
        driver.advance(Duration::from_secs(2));
        driver.input(Input::Tick);
    }
});
