//! Home Assistant MQTT discovery (`interface.md` §4).

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
