//! The device registry: which cookers and ovens the account has, their last normalised state,
//! and states that arrived too early. Pure: every method takes the event and the time and
//! returns the [`CloudEvent`]s to hand on.
//!
//! Rules (`docs/anova-protocol.md` §1.3, §3.1, §3.2, `docs/anova-oven.md` §1.2):
//! - `EVENT_APC_WIFI_LIST` and `EVENT_APO_WIFI_LIST` are sent on every connect and each
//!   *replaces* its own family in the registry: devices of that family missing from it were
//!   unpaired, new ones are announced, unchanged ones are not re-announced, and a changed name
//!   or type is announced again. The cooker list ends with [`CloudEvent::DeviceListSynced`]
//!   (the bridge then cleans up cookers of an earlier run), as before ovens were bridged.
//! - The cloud does not promise that the list comes before the states, so a state for a device
//!   we do not know yet is kept (the latest per device, bounded) until the device is known.
//! - An oven generation this version does not know (`Kind::of` is `None`) is ignored.
//! - A device's firmware (`EVENT_APC_WIFI_VERSION`, `EVENT_APO_WIFI_FIRMWARE_UPDATE`) is kept,
//!   the latest per device (bounded for devices not listed yet), and handed on for a listed
//!   device at once, for a new one right after its [`CloudEvent::DeviceAdded`].

use super::staleness::{limit_for, Staleness};
use crate::appliance::{DeviceInfo, Firmware, Kind};
use crate::cloud::{CloudEvent, DeviceState};
use crate::ids::CloudId;
use crate::oven::state::OvenState;
use crate::oven::wire::ApoStateEvent;
use crate::sous_vide::state::CookerState;
use crate::sous_vide::wire::ApcStateEvent;
use crate::wire::{DeviceListEntry, DeviceType, Event, FirmwareVersion};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// How many unknown devices may have a state waiting for their device list entry. An account
/// has a handful of devices; the bound only guards against a misbehaving server.
const MAX_EARLY_STATES: usize = 32;

/// A listed device as the bridge knows it.
fn device_info(entry: &DeviceListEntry) -> DeviceInfo {
    DeviceInfo::from_entry(entry, product_name(&entry.device_type))
}

/// The product name of a device type, for a device the app left unnamed.
fn product_name(device_type: &DeviceType) -> &'static str {
    match Kind::of(device_type) {
        Some(Kind::Oven) => crate::oven::discovery::product_name(
            crate::oven::limits::OvenGeneration::of(device_type),
        ),
        Some(Kind::Cooker) => crate::sous_vide::models::product_name(device_type),
        // An oven generation this version does not know.
        None => "Precision Oven",
    }
}

/// A state event of either family.
#[derive(Debug)]
pub(crate) enum StateEvent {
    /// `EVENT_APC_STATE`.
    Cooker(ApcStateEvent),
    /// `EVENT_APO_STATE`.
    Oven(ApoStateEvent),
}

impl StateEvent {
    fn cloud_id(&self) -> &CloudId {
        match self {
            Self::Cooker(e) => &e.cloud_id,
            Self::Oven(e) => &e.cloud_id,
        }
    }

    fn into_cloud_id(self) -> CloudId {
        match self {
            Self::Cooker(e) => e.cloud_id,
            Self::Oven(e) => e.cloud_id,
        }
    }

    fn device_type(&self) -> Option<&DeviceType> {
        match self {
            Self::Cooker(e) => e.device_type.as_ref(),
            Self::Oven(e) => e.device_type.as_ref(),
        }
    }
}

impl From<ApcStateEvent> for StateEvent {
    fn from(event: ApcStateEvent) -> Self {
        Self::Cooker(event)
    }
}

impl From<ApoStateEvent> for StateEvent {
    fn from(event: ApoStateEvent) -> Self {
        Self::Oven(event)
    }
}

/// A state that arrived before its device's list entry.
#[derive(Debug)]
struct EarlyState {
    event: StateEvent,
    received_at: OffsetDateTime,
}

/// Known devices and what we last heard from them.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Keyed by cloud id; ordered so events come out in a stable order.
    devices: BTreeMap<CloudId, DeviceInfo>,
    /// The last normalised state of each device: `from_wire` needs it for timer ends and
    /// steady end times. Kept across reconnects.
    states: HashMap<CloudId, DeviceState>,
    /// States waiting for their device to become known.
    early: BTreeMap<CloudId, EarlyState>,
    /// What the cloud last said of each device's firmware (also of devices not listed yet).
    firmware: BTreeMap<CloudId, Firmware>,
    staleness: Staleness,
}

impl Registry {
    /// An empty registry.
    pub(crate) fn new(stale_after: Duration) -> Self {
        Self {
            devices: BTreeMap::new(),
            states: HashMap::new(),
            early: BTreeMap::new(),
            firmware: BTreeMap::new(),
            staleness: Staleness::new(stale_after),
        }
    }

    /// A new connection starts: early states of the old one are outdated (the cloud resends
    /// every state after its device list).
    pub(crate) fn begin_connection(&mut self) {
        self.early.clear();
    }

    /// `EVENT_APC_WIFI_LIST` (`family` cookers) or `EVENT_APO_WIFI_LIST` (ovens): replaces
    /// that family in the registry.
    pub(crate) fn device_list(
        &mut self,
        entries: &[DeviceListEntry],
        family: Kind,
        now: Instant,
    ) -> Vec<CloudEvent> {
        let fresh: BTreeMap<CloudId, DeviceInfo> = entries
            .iter()
            .filter(|entry| Kind::of(&entry.device_type) == Some(family))
            .map(|entry| (entry.cloud_id.clone(), device_info(entry)))
            .collect();
        let gone: Vec<CloudId> = self
            .devices
            .iter()
            .filter(|(id, info)| {
                Kind::of(&info.device_type) == Some(family) && !fresh.contains_key(*id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        let mut events = Vec::new();
        for cloud_id in gone {
            self.forget(&cloud_id);
            events.push(CloudEvent::DeviceRemoved { cloud_id });
        }
        for info in fresh.into_values() {
            events.extend(self.upsert(info, now));
        }
        if family.list_completes_sync() {
            events.push(CloudEvent::DeviceListSynced);
        }
        // The list is authoritative for its family: early states of its devices that it does
        // not name are dropped.
        for (cloud_id, early) in std::mem::take(&mut self.early) {
            let of_family = match &early.event {
                StateEvent::Cooker(_) => Kind::Cooker,
                StateEvent::Oven(_) => Kind::Oven,
            };
            if self.devices.contains_key(&cloud_id) {
                events.extend(self.normalise(early.event, early.received_at, now));
            } else if of_family == family {
                tracing::debug!(%cloud_id, "dropping a state of a device the device list lacks");
            } else {
                self.early.insert(cloud_id, early);
            }
        }
        events
    }

    /// `EVENT_APC_WIFI_ADDED` / `EVENT_APO_WIFI_ADDED`: a device paired mid-session (or
    /// renamed).
    pub(crate) fn device_added(
        &mut self,
        entry: &DeviceListEntry,
        now: Instant,
    ) -> Vec<CloudEvent> {
        if Kind::of(&entry.device_type).is_none() {
            return Vec::new();
        }
        let mut events = self.upsert(device_info(entry), now);
        if let Some(early) = self.early.remove(&entry.cloud_id) {
            events.extend(self.normalise(early.event, early.received_at, now));
        }
        events
    }

    /// `EVENT_APC_WIFI_REMOVED` / `EVENT_APO_WIFI_REMOVED`: a device unpaired mid-session.
    pub(crate) fn device_removed(&mut self, cloud_id: &CloudId) -> Vec<CloudEvent> {
        self.early.remove(cloud_id);
        if self.devices.contains_key(cloud_id) {
            self.forget(cloud_id);
            vec![CloudEvent::DeviceRemoved {
                cloud_id: cloud_id.clone(),
            }]
        } else {
            Vec::new()
        }
    }

    /// Applies a parsed frame: the events to hand on. Frames that are not the registry's
    /// business (`RESPONSE`, events the bridge does not use) come back as `Err`.
    pub(crate) fn apply(
        &mut self,
        event: Event,
        received_at: OffsetDateTime,
        now: Instant,
    ) -> Result<Vec<CloudEvent>, Box<Event>> {
        Ok(match event {
            Event::ApcWifiList(entries) => self.device_list(&entries, Kind::Cooker, now),
            Event::ApoWifiList(entries) => self.device_list(&entries, Kind::Oven, now),
            Event::ApcWifiAdded(entry) | Event::ApoWifiAdded(entry) => {
                self.device_added(&entry, now)
            }
            Event::ApcWifiRemoved(removed) | Event::ApoWifiRemoved(removed) => {
                self.device_removed(&removed.cloud_id)
            }
            Event::ApcState(state) => self.state(state, received_at, now),
            Event::ApoState(state) => self.state(state, received_at, now),
            Event::ApcWifiVersion(entries) => {
                entries.iter().flat_map(|e| self.firmware(e)).collect()
            }
            Event::ApoWifiFirmwareUpdate(entry) => self.firmware(&entry),
            other => return Err(Box::new(other)),
        })
    }

    /// `EVENT_APC_STATE` / `EVENT_APO_STATE`: normalised and handed on, or kept until its
    /// device is known.
    pub(crate) fn state(
        &mut self,
        event: impl Into<StateEvent>,
        received_at: OffsetDateTime,
        now: Instant,
    ) -> Vec<CloudEvent> {
        let event = event.into();
        if event.device_type().is_some_and(|t| Kind::of(t).is_none()) {
            return Vec::new();
        }
        if self.devices.contains_key(event.cloud_id()) {
            return self
                .normalise(event, received_at, now)
                .into_iter()
                .collect();
        }
        let cloud_id = event.cloud_id().clone();
        if self.early.len() < MAX_EARLY_STATES || self.early.contains_key(&cloud_id) {
            tracing::debug!(%cloud_id, "state before the device's device list entry; keeping it");
            self.early
                .insert(cloud_id, EarlyState { event, received_at });
        } else {
            tracing::debug!(%cloud_id, "too many states for unknown devices; dropping one");
        }
        Vec::new()
    }

    /// A firmware event entry: kept, and handed on when its device is listed.
    pub(crate) fn firmware(&mut self, entry: &FirmwareVersion) -> Vec<CloudEvent> {
        if entry
            .device_type
            .as_ref()
            .is_some_and(|t| Kind::of(t).is_none())
        {
            return Vec::new();
        }
        let firmware = Firmware::from_wire(entry);
        let cloud_id = &entry.cloud_id;
        let listed = self.devices.contains_key(cloud_id);
        if !listed
            && !self.firmware.contains_key(cloud_id)
            && self.firmware.len() >= MAX_EARLY_STATES
        {
            tracing::debug!(%cloud_id, "too many firmware events for unknown devices; dropping one");
            return Vec::new();
        }
        self.firmware.insert(cloud_id.clone(), firmware.clone());
        if listed {
            vec![CloudEvent::Firmware {
                cloud_id: cloud_id.clone(),
                firmware,
            }]
        } else {
            Vec::new()
        }
    }

    /// The devices that went stale by `now`.
    pub(crate) fn expire_stale(&mut self, now: Instant) -> Vec<CloudEvent> {
        self.staleness
            .expire(now)
            .into_iter()
            .map(|cloud_id| CloudEvent::Stale { cloud_id })
            .collect()
    }

    /// When the next device goes stale, if any is still fresh.
    pub(crate) fn next_stale_deadline(&self) -> Option<Instant> {
        self.staleness.next_deadline()
    }

    /// Adds or updates a device; announces it when it is new (with its firmware, when the
    /// cloud told it before the list) or its name or type changed.
    fn upsert(&mut self, info: DeviceInfo, now: Instant) -> Vec<CloudEvent> {
        match self.devices.get(&info.cloud_id) {
            Some(known) if *known == info => Vec::new(),
            Some(known) => {
                // A state of another type is no useful `previous` for the new one.
                if known.device_type != info.device_type {
                    self.states.remove(&info.cloud_id);
                }
                self.devices.insert(info.cloud_id.clone(), info.clone());
                vec![CloudEvent::DeviceAdded(info)]
            }
            None => {
                // The staleness clock starts now, so a device that never pushes goes stale too.
                let limit = limit_for(self.staleness.stale_after(), &info.device_type, false);
                self.staleness.pushed_within(&info.cloud_id, now, limit);
                self.devices.insert(info.cloud_id.clone(), info.clone());
                let firmware = self.firmware.get(&info.cloud_id).cloned();
                let cloud_id = info.cloud_id.clone();
                let mut events = vec![CloudEvent::DeviceAdded(info)];
                events.extend(firmware.map(|firmware| CloudEvent::Firmware { cloud_id, firmware }));
                events
            }
        }
    }

    fn forget(&mut self, cloud_id: &CloudId) {
        self.devices.remove(cloud_id);
        self.firmware.remove(cloud_id);
        self.states.remove(cloud_id);
        self.staleness.forget(cloud_id);
    }

    /// Normalises a state of a known device: the state's own `type`, else the registry's.
    fn normalise(
        &mut self,
        event: StateEvent,
        received_at: OffsetDateTime,
        now: Instant,
    ) -> Option<CloudEvent> {
        let info = self.devices.get(event.cloud_id())?;
        let device_type = event.device_type().unwrap_or(&info.device_type);
        let previous = self.states.get(event.cloud_id());
        let normalised: Result<DeviceState, String> = match &event {
            StateEvent::Cooker(e) => {
                let previous = match previous {
                    Some(DeviceState::Cooker(p)) => Some(p),
                    _ => None,
                };
                CookerState::from_wire(device_type, &e.state, received_at, previous)
                    .map(DeviceState::from)
                    .map_err(|e| e.to_string())
            }
            StateEvent::Oven(e) => {
                let previous = match previous {
                    Some(DeviceState::Oven(p)) => Some(p.as_ref()),
                    _ => None,
                };
                OvenState::from_wire(device_type, &e.state, received_at, previous)
                    .map(DeviceState::from)
                    .map_err(|e| e.to_string())
            }
        };
        let normalised = normalised.map(|state| {
            let limit = limit_for(self.staleness.stale_after(), device_type, state.cooking());
            (state, limit)
        });
        // Every push of a known device: its id moves out of the event, and the kept state is
        // overwritten in place (no key copied for a map that already has it).
        let cloud_id = event.into_cloud_id();
        match normalised {
            Ok((state, limit)) => {
                self.staleness.pushed_within(&cloud_id, now, limit);
                match self.states.get_mut(&cloud_id) {
                    Some(kept) => *kept = state.clone(),
                    None => {
                        self.states.insert(cloud_id.clone(), state.clone());
                    }
                }
                Some(CloudEvent::State { cloud_id, state })
            }
            Err(error) => {
                tracing::warn!(%cloud_id, "ignoring a state push: {error}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{DeviceType, Event};

    const A7_IDLE: &str =
        include_str!("../../../tests/fixtures/anova-messages/EVENT_APC_STATE.a7.idle.real.json");
    const PRO: &str = include_str!(
        "../../../tests/fixtures/anova-messages/EVENT_APC_STATE.pro.preheating.real.json"
    );
    const A7: &str = "A7COOKERID000000000001";
    const PRO_ID: &str = "PROCOOKERID0000001";

    fn entry(id: &str, device_type: &str, name: &str) -> DeviceListEntry {
        DeviceListEntry {
            cloud_id: id.into(),
            device_type: DeviceType::new(device_type),
            name: Some(name.to_owned()),
            paired_at: None,
        }
    }

    fn state_event(text: &str) -> ApcStateEvent {
        match Event::parse(text).unwrap() {
            Event::ApcState(state) => state,
            other => panic!("not a state: {other:?}"),
        }
    }

    fn registry() -> Registry {
        Registry::new(Duration::from_secs(300))
    }

    fn wall() -> OffsetDateTime {
        time::macros::datetime!(2024-06-13 03:12:00 UTC)
    }

    /// One line per event; a sync lists the devices the registry then knows.
    fn summary(r: &Registry, events: &[CloudEvent]) -> Vec<String> {
        let known: Vec<&str> = r.devices.keys().map(CloudId::as_str).collect();
        events
            .iter()
            .map(|e| match e {
                CloudEvent::DeviceAdded(info) => format!("added {} {}", info.cloud_id, info.name),
                CloudEvent::DeviceRemoved { cloud_id } => format!("removed {cloud_id}"),
                CloudEvent::DeviceListSynced => format!("synced {}", known.join(",")),
                CloudEvent::State { cloud_id, state } => {
                    format!("state {cloud_id} {}", state.model())
                }
                CloudEvent::Stale { cloud_id } => format!("stale {cloud_id}"),
                CloudEvent::Link(link) => format!("link {link:?}"),
                CloudEvent::Firmware { cloud_id, firmware } => format!(
                    "firmware {cloud_id} {:?} -> {:?}",
                    firmware.installed,
                    firmware.offer.as_ref().map(|o| o.version.as_str())
                ),
            })
            .collect()
    }

    #[test]
    fn a_firmware_offer_is_handed_on_for_a_listed_device_even_when_it_came_first() {
        const OFFER: &str = include_str!(
            "../../../tests/fixtures/anova-messages/EVENT_APO_WIFI_FIRMWARE_UPDATE.oven_v1.real.json"
        );
        let now = Instant::now();
        let mut r = registry();
        let event = || Event::parse(OFFER).unwrap();
        // Before the oven is listed: kept, nothing handed on.
        assert!(r.apply(event(), wall(), now).unwrap().is_empty());
        let listed = r.device_list(
            &[entry("01234XXXXXXXXX", "oven_v1", "Oven")],
            Kind::Oven,
            now,
        );
        assert_eq!(
            summary(&r, &listed),
            [
                "added 01234XXXXXXXXX Oven",
                r#"firmware 01234XXXXXXXXX Some("2.1.7") -> Some("2.1.8")"#
            ]
        );
        // Listed: handed on at once; a relisting does not repeat it.
        let again = r.apply(event(), wall(), now).unwrap();
        assert_eq!(summary(&r, &again).len(), 1);
        let relisted = r.device_list(
            &[entry("01234XXXXXXXXX", "oven_v1", "Oven")],
            Kind::Oven,
            now,
        );
        assert!(relisted.is_empty());
        // The cookers' version list: one event per listed entry.
        r.device_list(&[entry(A7, "a7", "A")], Kind::Cooker, now);
        let list = Event::parse(&format!(
            r#"{{"command":"EVENT_APC_WIFI_VERSION","payload":[{{"cookerId":"{A7}","version":"1.0","ota":{{"available":false}}}},{{"cookerId":"unknown","version":"1"}}]}}"#
        ))
        .unwrap();
        let events = r.apply(list, wall(), now).unwrap();
        assert_eq!(
            summary(&r, &events),
            [format!(r#"firmware {A7} Some("1.0") -> None"#)]
        );
    }

    #[test]
    fn a_fresh_list_adds_removes_and_reannounces_only_changes() {
        let now = Instant::now();
        let mut r = registry();
        let first = r.device_list(
            &[entry("a", "a7", "A"), entry("b", "pro", "B")],
            Kind::Cooker,
            now,
        );
        assert_eq!(
            summary(&r, &first),
            ["added a A", "added b B", "synced a,b"]
        );

        let second = r.device_list(
            &[
                entry("b", "pro", "B"),
                entry("c", "a6", "C"),
                entry("a", "a7", "Renamed"),
            ],
            Kind::Cooker,
            now,
        );
        assert_eq!(
            summary(&r, &second),
            ["added a Renamed", "added c C", "synced a,b,c"],
            "b unchanged is not re-announced"
        );

        let third = r.device_list(&[entry("c", "a6", "C")], Kind::Cooker, now);
        assert_eq!(summary(&r, &third), ["removed a", "removed b", "synced c"]);

        let empty = r.device_list(&[], Kind::Cooker, now);
        assert_eq!(summary(&r, &empty), ["removed c", "synced "]);
    }

    #[test]
    fn each_list_replaces_its_own_family() {
        let now = Instant::now();
        let mut r = registry();
        let events = r.device_list(
            &[entry("o", "oven_v2", "Oven"), entry("a", "a7", "A")],
            Kind::Cooker,
            now,
        );
        assert_eq!(summary(&r, &events), ["added a A", "synced a"]);
        let ovens = r.device_list(&[entry("o", "oven_v2", "Oven")], Kind::Oven, now);
        assert_eq!(summary(&r, &ovens), ["added o Oven"], "the cooker stays");
        let cookers = r.device_list(&[], Kind::Cooker, now);
        assert_eq!(
            summary(&r, &cookers),
            ["removed a", "synced o"],
            "the oven stays"
        );
        let ovens = r.device_list(&[], Kind::Oven, now);
        assert_eq!(summary(&r, &ovens), ["removed o"]);
        // An oven generation we do not know is not bridged.
        assert!(r.device_added(&entry("o3", "oven_v3", "O"), now).is_empty());
    }

    #[test]
    fn oven_states_are_normalised_and_an_idle_v2_oven_is_stale_late() {
        let text = include_str!(
            "../../../tests/fixtures/anova-messages/EVENT_APO_STATE.oven_v2.cooking.real.json"
        );
        let Event::ApoState(event) = Event::parse(text).unwrap() else {
            panic!("not an oven state")
        };
        let t0 = Instant::now();
        let after = Duration::from_secs(300);
        let mut r = registry();
        r.device_list(
            &[entry(event.cloud_id.as_str(), "oven_v2", "Oven")],
            Kind::Oven,
            t0,
        );
        assert_eq!(
            r.next_stale_deadline(),
            Some(t0 + after * 5),
            "idle until it says"
        );
        let events = r.state(event.clone(), wall(), t0);
        assert_eq!(
            summary(&r, &events),
            [format!("state {} oven_v2", event.cloud_id)]
        );
        assert_eq!(
            r.next_stale_deadline(),
            Some(t0 + after),
            "cooking: the usual limit"
        );
    }

    #[test]
    fn a_state_before_the_list_is_delivered_after_it() {
        let now = Instant::now();
        let mut r = registry();
        assert!(r.state(state_event(A7_IDLE), wall(), now).is_empty());
        assert!(r.state(state_event(PRO), wall(), now).is_empty());
        let events = r.device_list(&[entry(A7, "a7", "Mine")], Kind::Cooker, now);
        assert_eq!(
            summary(&r, &events),
            [
                format!("added {A7} Mine"),
                format!("synced {A7}"),
                format!("state {A7} a7")
            ],
            "the pro is not in the list, so its early state is dropped"
        );
        // Dropped, not kept: a later WIFI_ADDED for the pro brings no stale state.
        let added = r.device_added(&entry(PRO_ID, "pro", "Pro"), now);
        assert_eq!(summary(&r, &added), [format!("added {PRO_ID} Pro")]);
    }

    #[test]
    fn an_early_state_waits_for_wifi_added_and_a_new_connection_clears_it() {
        let now = Instant::now();
        let mut r = registry();
        r.device_list(&[], Kind::Cooker, now);
        assert!(r.state(state_event(PRO), wall(), now).is_empty());
        let added = r.device_added(&entry(PRO_ID, "pro", "Pro"), now);
        assert_eq!(
            summary(&r, &added),
            [format!("added {PRO_ID} Pro"), format!("state {PRO_ID} pro")]
        );

        assert!(r.state(state_event(A7_IDLE), wall(), now).is_empty());
        r.begin_connection();
        let added = r.device_added(&entry(A7, "a7", "A7"), now);
        assert_eq!(summary(&r, &added), [format!("added {A7} A7")]);
    }

    #[test]
    fn early_states_are_bounded() {
        let now = Instant::now();
        let mut r = registry();
        for i in 0..(MAX_EARLY_STATES + 10) {
            let mut event = state_event(A7_IDLE);
            event.cloud_id = format!("cooker{i:03}").into();
            r.state(event, wall(), now);
        }
        assert_eq!(r.early.len(), MAX_EARLY_STATES);
    }

    #[test]
    fn state_type_falls_back_to_the_registry() {
        let now = Instant::now();
        let mut r = registry();
        r.device_list(&[entry(A7, "a7", "A7")], Kind::Cooker, now);
        let mut event = state_event(A7_IDLE);
        event.device_type = None;
        let events = r.state(event, wall(), now);
        assert_eq!(summary(&r, &events), [format!("state {A7} a7")]);
    }

    #[test]
    fn removal_mid_session_forgets_the_cooker() {
        let now = Instant::now();
        let mut r = registry();
        r.device_list(&[entry(A7, "a7", "A7")], Kind::Cooker, now);
        let removed = r.device_removed(&A7.into());
        assert_eq!(summary(&r, &removed), [format!("removed {A7}")]);
        assert!(
            r.device_removed(&A7.into()).is_empty(),
            "unknown: nothing to report"
        );
        assert_eq!(r.next_stale_deadline(), None);
        assert!(r.states.is_empty());
    }

    #[test]
    fn silence_makes_a_cooker_stale_and_its_next_push_fresh() {
        let t0 = Instant::now();
        let after = Duration::from_secs(300);
        let mut r = registry();
        r.device_list(&[entry(A7, "a7", "A7")], Kind::Cooker, t0);
        r.state(state_event(A7_IDLE), wall(), t0 + Duration::from_secs(1));
        assert_eq!(
            r.next_stale_deadline(),
            Some(t0 + Duration::from_secs(1) + after)
        );
        assert!(r.expire_stale(t0 + after).is_empty());
        let stale = r.expire_stale(t0 + after + Duration::from_secs(1));
        assert_eq!(summary(&r, &stale), [format!("stale {A7}")]);
        assert_eq!(r.next_stale_deadline(), None);
        let fresh = r.state(state_event(A7_IDLE), wall(), t0 + after * 2);
        assert_eq!(summary(&r, &fresh), [format!("state {A7} a7")]);
        assert_eq!(r.next_stale_deadline(), Some(t0 + after * 3));
    }
}
