//! Home Assistant MQTT discovery (`interface.md` §4).
//!
//! Pure builders: given a cooker (or the bridge) they return the retained discovery messages to
//! publish, in the configured [`DiscoveryMode`]. Nothing here does I/O.
//!
//! - [`schema`]: one typed struct per Home Assistant platform.
//! - [`cooker_config`], [`cooker_removal`]: a cooker's device and entities.
//! - [`bridge_config`]: the bridge's own device, parent of every cooker.

mod bridge;
mod cooker;
mod discovery;
pub mod schema;

pub use bridge::{bridge_config, bridge_identifier};
pub use cooker::{cooker_config, cooker_removal, CookerDiscovery, EVENT_TYPES};
pub use discovery::{DiscoveryContext, DiscoveryMessage};

use serde::{Deserialize, Serialize};

/// How discovery is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscoveryMode {
    /// One config per device on `<prefix>/device/<id>/config` (Home Assistant 2024.11+).
    #[default]
    Device,
    /// One config per entity on `<prefix>/<platform>/<node>/<key>/config` (every Home Assistant
    /// version, and other consumers such as openHAB).
    Entity,
}

// Temporary shim with the discovery API's shape, replaced by the real builders.
use crate::anova::protocol::DeviceType;
use crate::mqtt::topics::Topics;

/// Where and how discovery is published.
#[derive(Debug, Clone, Copy)]
pub struct DiscoveryContext<'a> {
    /// Discovery prefix.
    pub prefix: &'a str,
    /// Mode.
    pub mode: DiscoveryMode,
    /// Topics.
    pub topics: &'a Topics,
}

/// A cooker to describe.
#[derive(Debug, Clone, Copy)]
pub struct CookerDiscovery<'a> {
    /// Topic id.
    pub id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Type.
    pub device_type: &'a DeviceType,
    /// Firmware.
    pub firmware: Option<&'a str>,
    /// Min.
    pub min_temperature_c: f64,
    /// Max.
    pub max_temperature_c: f64,
    /// Max timer.
    pub max_timer_s: u32,
}

/// One message.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryMessage {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: String,
}

fn shim_topic(ctx: &DiscoveryContext, id: &str) -> String {
    match ctx.mode {
        DiscoveryMode::Device => format!("{}/device/anova2mqtt_{id}/config", ctx.prefix),
        DiscoveryMode::Entity => format!("{}/switch/anova2mqtt_{id}/cook/config", ctx.prefix),
    }
}

/// Cooker discovery.
pub fn cooker_config(ctx: &DiscoveryContext, cooker: &CookerDiscovery) -> Vec<DiscoveryMessage> {
    vec![DiscoveryMessage {
        topic: shim_topic(ctx, cooker.id),
        payload: format!("{{\"sw\":{:?}}}", cooker.firmware),
    }]
}

/// Cooker removal.
pub fn cooker_removal(ctx: &DiscoveryContext, id: &str) -> Vec<DiscoveryMessage> {
    vec![DiscoveryMessage {
        topic: shim_topic(ctx, id),
        payload: String::new(),
    }]
}

/// Bridge discovery.
pub fn bridge_config(ctx: &DiscoveryContext) -> Vec<DiscoveryMessage> {
    vec![DiscoveryMessage {
        topic: format!("{}/device/anova2mqtt_bridge/config", ctx.prefix),
        payload: "{}".into(),
    }]
}
