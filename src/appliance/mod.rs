//! The device interface shared by the bridge core and the device families: what a family must
//! provide ([`family::Family`]), the device identity from the cloud's device list, and cook
//! events.

pub(crate) mod event;
pub(crate) mod family;
mod info;

pub use event::{CookEvent, CookEventKind};
pub use info::DeviceInfo;

use crate::wire::{DeviceType, Generation};

/// The device families the gateway bridges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Sous-vide cookers (`APC`).
    Cooker,
}

impl Kind {
    /// The family of a device type; `None` for a family the gateway does not bridge (ovens,
    /// for now). Cookers of an unknown type are bridged as cookers.
    pub fn of(device_type: &DeviceType) -> Option<Self> {
        match device_type.generation() {
            Generation::Oven => None,
            _ => Some(Self::Cooker),
        }
    }
}

/// The product name of a device type, for a device the app left unnamed.
pub fn product_name(device_type: &DeviceType) -> &'static str {
    crate::sous_vide::models::product_name(device_type)
}
