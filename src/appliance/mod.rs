//! The device interface shared by the bridge core and the device families: what a family must
//! provide (`family::Family`), the device identity from the cloud's device list, and cook
//! events.

pub(crate) mod event;
pub(crate) mod family;
mod firmware;
mod info;
pub(crate) mod readings;
pub mod record;

pub use event::{CookEvent, CookEventKind};
pub use firmware::{Firmware, Offer, Update, RELEASE_SUMMARY_MAX};
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
    /// The family a device is taken for when nothing says otherwise, the one assumption every
    /// "else" below relies on: a type this version does not know that does not name an oven
    /// (`a10` is bridged as a cooker), and a device known only from an earlier run's retained
    /// `bridge/devices` or topics (every release before ovens bridged cookers only).
    pub const DEFAULT: Kind = Kind::Cooker;

    /// The family of a device type; `None` for an oven generation this version does not know
    /// (a start in the wrong shape can put an oven into an error state, so it is not bridged).
    /// Any other unknown type is of the [`DEFAULT`](Self::DEFAULT) family.
    pub fn of(device_type: &DeviceType) -> Option<Self> {
        match device_type.generation() {
            Generation::OvenV1 | Generation::OvenV2 => Some(Self::Oven),
            _ if device_type.is_oven() => None,
            _ => Some(Self::DEFAULT),
        }
    }

    /// True for the family whose device list, once it arrived, says which devices the account
    /// has ([`CloudEvent::DeviceListSynced`](crate::cloud::CloudEvent::DeviceListSynced)): the
    /// cookers' list is sent on every connect, as before ovens were bridged. Only then does the
    /// bridge remove what an earlier run published for devices that left the account; an oven
    /// of an earlier run is only marked offline.
    pub fn list_completes_sync(self) -> bool {
        match self {
            Self::Cooker => true,
            Self::Oven => false,
        }
    }
}
