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
    /// From a device list entry.
    pub fn from_entry(entry: &DeviceListEntry) -> Self {
        let name = entry
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map_or_else(
                || format!("Anova {}", super::product_name(&entry.device_type)),
                str::to_owned,
            );
        Self {
            cloud_id: entry.cloud_id.clone(),
            device_type: entry.device_type.clone(),
            name,
        }
    }
}
