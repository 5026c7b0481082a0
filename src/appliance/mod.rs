//! The device interface shared by the bridge core and the device families: what a family must
//! provide ([`family::Family`]), the device identity from the cloud's device list, and cook
//! events.

pub(crate) mod event;
pub(crate) mod family;
mod info;
pub(crate) mod readings;

pub use event::{CookEvent, CookEventKind};
pub use info::DeviceInfo;
pub use readings::HvacAction;

use crate::wire::{DeviceType, Generation};

/// The device families the gateway bridges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Sous-vide cookers (`APC`).
    Cooker,
    /// Precision Ovens (`APO`).
    Oven,
}

impl Kind {
    /// The family of a device type; `None` for an oven generation this version does not know
    /// (a start in the wrong shape can put an oven into an error state, so it is not bridged).
    /// Cookers of an unknown type are bridged as cookers.
    pub fn of(device_type: &DeviceType) -> Option<Self> {
        match device_type.generation() {
            Generation::OvenV1 | Generation::OvenV2 => Some(Self::Oven),
            _ if device_type.is_oven() => None,
            _ => Some(Self::Cooker),
        }
    }
}

/// The product name of a device type, for a device the app left unnamed.
pub fn product_name(device_type: &DeviceType) -> &'static str {
    match Kind::of(device_type) {
        Some(Kind::Oven) => crate::oven::discovery::product_name(
            crate::oven::limits::OvenGeneration::of(device_type),
        ),
        _ if device_type.is_oven() => "Precision Oven",
        _ => crate::sous_vide::models::product_name(device_type),
    }
}
