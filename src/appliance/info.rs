//! A paired device, from the cloud's device list.

use crate::ids::CloudId;
use crate::wire::{DeviceListEntry, DeviceType};

/// A paired device, from the device list.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// The cloud's id of the device (`cookerId`), verbatim.
    pub cloud_id: CloudId,
    /// The exact device type.
    pub device_type: DeviceType,
    /// The name from the Anova app (the product name when the list has none).
    pub name: String,
}

impl DeviceInfo {
    /// From a device list entry; a device the app left unnamed is called `Anova <product>`.
    pub fn from_entry(entry: &DeviceListEntry, product: &str) -> Self {
        let name = entry
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map_or_else(|| format!("Anova {product}"), str::to_owned);
        Self {
            cloud_id: entry.cloud_id.clone(),
            device_type: entry.device_type.clone(),
            name,
        }
    }
}
