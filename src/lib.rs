//! # anova2mqtt
//!
//! Bridges the Anova Culinary cloud WebSocket to an MQTT broker: devices appear in Home
//! Assistant through MQTT discovery, every state push becomes retained MQTT state, and commands
//! on MQTT topics become validated device commands. `ARCHITECTURE.md` is the map.
//!
//! Data flows one way through small modules:
//! - [`wire`] and each family's `wire` ([`sous_vide::wire`]): the cloud protocol as serde types.
//! - the families ([`sous_vide`]): the normalised state in °C, limits, command keys,
//!   validation, planning and Home Assistant entities, behind [`appliance`]'s interface.
//! - [`cloud`]: the long-lived client that turns the WebSocket into typed [`cloud::CloudEvent`]s.
//! - [`command`]: the command envelope, value readers, food safety and the response builder.
//! - [`bridge`]: the sans-IO core. Cloud events, MQTT messages, API commands and clock ticks in;
//!   publishes, cloud commands and replies out; one state machine per device.
//! - adapters: [`mqtt`] and [`topics`], [`homeassistant`] discovery, [`http`] (API, stream,
//!   page) and [`metrics`], [`mcp`] (the Model Context Protocol server), the daemon driver
//!   ([`daemon`]).
//! - [`simulator`]: a faithful, independent Anova cloud, for `demo`, `simulate` and our tests.
//! - [`config`], [`telemetry`], [`systemd`]: what the installed daemon needs around that.
//! - [`ids`]: a device's cloud id and topic id, as types that cannot be mixed up.
//! - [`presets`]: named commands (`docs/interface.md` §8.1), built in with cited values or
//!   configured.

mod alarm;
pub mod appliance;
pub mod backoff;
pub mod bridge;
pub mod broker;
pub mod cli;
pub mod cloud;
pub mod command;
pub mod config;
pub mod daemon;
mod deadlines;
pub mod demo;
pub mod descriptors;
pub mod homeassistant;
pub mod http;
pub mod ids;
pub mod mcp;
pub mod metrics;
pub mod mqtt;
pub mod oven;
pub mod presets;
pub mod secret;
pub mod simulator;
pub mod sous_vide;
pub mod store;
pub mod systemd;
pub mod telemetry;
pub mod tls;
pub mod topics;
pub mod wire;
