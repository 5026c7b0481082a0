//! Home Assistant MQTT discovery (`docs/interface.md` §4).
//!
//! Pure builders: given a device (or the bridge) they return the retained discovery messages to
//! publish, in the configured [`DiscoveryMode`]. Nothing here does I/O.
//!
//! - [`schema`]: one typed struct per Home Assistant platform.
//! - each family's own entities: `crate::sous_vide::discovery`.
//! - [`bridge_config`]: the bridge's own device, parent of every device.

mod bridge;
pub(crate) mod discovery;
pub(crate) mod plans;
pub mod schema;

pub use bridge::{bridge_config, bridge_identifier, bridge_removal};
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
