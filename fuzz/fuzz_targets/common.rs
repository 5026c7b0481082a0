//! What several targets share: a bridge set up like the daemon's, and a driver that feeds it
//! and collects what it says.

#![allow(dead_code)]

use anova2mqtt::bridge::{Bridge, BridgeConfig, HomeAssistant, Input, Now, Output};
use anova2mqtt::homeassistant::DiscoveryMode;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The daemon's defaults (`docs/interface.md` §2).
pub fn config() -> BridgeConfig {
    BridgeConfig {
        base_topic: "anova2mqtt".to_owned(),
        homeassistant: Some(HomeAssistant {
            discovery_prefix: "homeassistant".to_owned(),
            mode: DiscoveryMode::Device,
            status_topic: "homeassistant/status".to_owned(),
        }),
        command_timeout: Duration::from_secs(10),
        confirm_timeout: Duration::from_secs(15),
        commands_per_minute: 30,
        max_temperature_c: None,
        oven_max_temperature_c: None,
        version: "fuzz".to_owned(),
        seed: 7,
        plans: Default::default(),
        restart: true,
    }
}

/// A fixed wall clock, so a crash replays.
pub fn epoch() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A bridge and its clock, driven as the daemon drives it.
pub struct Driver {
    pub bridge: Bridge,
    pub instant: Instant,
    pub wall: OffsetDateTime,
}

impl Driver {
    pub fn new() -> Self {
        let instant = Instant::now();
        let wall = epoch();
        Self {
            bridge: Bridge::new(config(), Now { instant, wall }),
            instant,
            wall,
        }
    }

    pub fn now(&self) -> Now {
        Now {
            instant: self.instant,
            wall: self.wall,
        }
    }

    /// Moves both clocks forward.
    pub fn advance(&mut self, by: Duration) {
        self.instant += by;
        self.wall += by;
    }

    /// Feeds one input; returns every output it caused.
    pub fn input(&mut self, input: Input) -> Vec<Output> {
        let now = self.now();
        self.bridge.handle(now, input);
        let mut out = Vec::new();
        while let Some(o) = self.bridge.poll_output() {
            out.push(o);
        }
        out
    }
}
