//! # anova2mqtt
//!
//! Bridges the Anova Culinary cloud WebSocket to an MQTT broker: cookers appear in Home
//! Assistant through MQTT discovery, every state push becomes retained MQTT state, and commands
//! on MQTT topics become validated cooker commands.
//!
//! Data flows one way through small modules:
//! - [`anova`]: the wire protocol, the normalised [`anova::model::CookerState`], and the
//!   long-lived cloud client that turns the WebSocket into typed events.
//! - [`bridge`]: the sans-IO heart. It takes cloud events, MQTT messages and clock ticks, and
//!   returns publishes and cloud commands; no sockets, no sleeping.
//! - [`mqtt`] and [`homeassistant`]: the topic tree, the broker connection, and the discovery
//!   payloads.
//! - [`simulator`]: a faithful Anova cloud, for `demo`, `simulate` and our tests.
//! - [`http`] and [`metrics`]: the local HTTP API, live stream, web page and Prometheus
//!   metrics, for what cannot speak MQTT.
//! - [`config`], [`telemetry`], [`systemd`]: what the installed daemon needs around that.

pub mod anova;
pub mod backoff;
pub mod bridge;
pub mod broker;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod homeassistant;
pub mod http;
pub mod metrics;
pub mod mqtt;
pub mod secret;
pub mod simulator;
pub mod systemd;
pub mod telemetry;
pub mod tls;
