//! The cloud client's frame handling without its socket, for the `cloud_frame` and `bridge`
//! fuzz targets: a text frame is parsed and applied to the device registry exactly as
//! `connection` does, and the [`CloudEvent`]s the bridge would get come out. It also checks
//! that the single pass over a cooker's state agrees with the general parser.

use super::registry::Registry;
use crate::cloud::CloudEvent;
use crate::wire::{DeviceListEntry, DeviceType, Event};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// The client's registry behind the parser.
#[derive(Debug)]
pub struct FrameReader {
    registry: Registry,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self {
            registry: Registry::new(Duration::from_secs(300)),
        }
    }
}

impl FrameReader {
    /// One text frame, received at `wall`: the events the bridge gets. With `announce`, a state
    /// of a device the registry does not know first makes it known (as a device list would),
    /// so that every state the fuzzer writes is normalised, not kept aside.
    pub fn frame(&mut self, text: &str, wall: OffsetDateTime, announce: bool) -> Vec<CloudEvent> {
        // The single pass over a cooker's state answers only where the general path gives the
        // same event: the fuzzer checks that on every frame it writes.
        if let Some(fast) = crate::sous_vide::wire::parse_state_frame(text) {
            let general = Event::parse_general(text);
            assert!(
                matches!(&general, Ok(Event::ApcState(g)) if *g == fast),
                "the single pass read {fast:?}, the general path {general:?}"
            );
        }
        let Ok(event) = Event::parse(text) else {
            return Vec::new();
        };
        let now = Instant::now();
        let mut events = Vec::new();
        if announce {
            let device = match &event {
                Event::ApcState(s) => Some((s.cloud_id.clone(), s.device_type.clone(), "a7")),
                Event::ApoState(s) => Some((s.cloud_id.clone(), s.device_type.clone(), "oven_v2")),
                _ => None,
            };
            if let Some((cloud_id, device_type, fallback)) = device {
                let entry = DeviceListEntry {
                    cloud_id,
                    device_type: device_type.unwrap_or_else(|| DeviceType::new(fallback)),
                    name: None,
                    paired_at: None,
                };
                events.extend(self.registry.device_added(&entry, now));
            }
        }
        events.extend(self.registry.apply(event, wall, now).unwrap_or_default());
        events
    }
}
