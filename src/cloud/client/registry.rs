//! The device registry: which cookers the account has, their last normalised state, and
//! states that arrived too early. Pure: every method takes the event and the time and returns
//! the [`CloudEvent`]s to hand on.
//!
//! Rules (`anova-protocol.md` §1.3, §3.1, §3.2):
//! - `EVENT_APC_WIFI_LIST` is sent on every connect and *replaces* the registry: cookers missing
//!   from it were unpaired, new ones are announced, unchanged ones are not re-announced, and a
//!   changed name or type is announced again.
//! - The cloud does not promise that the list comes before the states, so a state for a cooker
//!   we do not know yet is kept (the latest per cooker, bounded) until the cooker is known.
//! - Ovens are not bridged; their entries and states are ignored.

use super::staleness::Staleness;
use crate::appliance::{DeviceInfo, Kind};
use crate::cloud::CloudEvent;
use crate::sous_vide::state::CookerState;
use crate::sous_vide::wire::ApcStateEvent;
use crate::wire::DeviceListEntry;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// How many unknown cookers may have a state waiting for their device list entry. An account
/// has a handful of cookers; the bound only guards against a misbehaving server.
const MAX_EARLY_STATES: usize = 32;

/// A state that arrived before its cooker's device list entry.
#[derive(Debug)]
struct EarlyState {
    event: ApcStateEvent,
    received_at: OffsetDateTime,
}

/// Known cookers and what we last heard from them.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Keyed by `cookerId`; ordered so events come out in a stable order.
    devices: BTreeMap<String, DeviceInfo>,
    /// The last normalised state of each cooker: `from_wire` needs it for Gen 3 timer ends and
    /// steady end times. Kept across reconnects.
    states: HashMap<String, CookerState>,
    /// States waiting for their cooker to become known.
    early: BTreeMap<String, EarlyState>,
    staleness: Staleness,
}

impl Registry {
    /// An empty registry.
    pub(crate) fn new(stale_after: Duration) -> Self {
        Self {
            devices: BTreeMap::new(),
            states: HashMap::new(),
            early: BTreeMap::new(),
            staleness: Staleness::new(stale_after),
        }
    }

    /// A new connection starts: early states of the old one are outdated (the cloud resends
    /// every state after its device list).
    pub(crate) fn begin_connection(&mut self) {
        self.early.clear();
    }

    /// `EVENT_APC_WIFI_LIST`: replaces the registry.
    pub(crate) fn device_list(
        &mut self,
        entries: &[DeviceListEntry],
        now: Instant,
    ) -> Vec<CloudEvent> {
        let fresh: BTreeMap<String, DeviceInfo> = entries
            .iter()
            .filter(|entry| Kind::of(&entry.device_type).is_some())
            .map(|entry| (entry.cooker_id.clone(), DeviceInfo::from_entry(entry)))
            .collect();
        let gone: Vec<String> = self
            .devices
            .keys()
            .filter(|id| !fresh.contains_key(*id))
            .cloned()
            .collect();
        let mut events = Vec::new();
        for cooker_id in gone {
            self.forget(&cooker_id);
            events.push(CloudEvent::DeviceRemoved { cooker_id });
        }
        for info in fresh.into_values() {
            events.extend(self.upsert(info, now));
        }
        events.push(CloudEvent::DeviceListSynced);
        // The list is authoritative: early states of cookers it does not name are dropped.
        for (cooker_id, early) in std::mem::take(&mut self.early) {
            if self.devices.contains_key(&cooker_id) {
                events.extend(self.normalise(early.event, early.received_at, now));
            } else {
                tracing::debug!(%cooker_id, "dropping a state of a cooker the device list lacks");
            }
        }
        events
    }

    /// `EVENT_APC_WIFI_ADDED`: a cooker paired mid-session (or renamed).
    pub(crate) fn device_added(
        &mut self,
        entry: &DeviceListEntry,
        now: Instant,
    ) -> Vec<CloudEvent> {
        if Kind::of(&entry.device_type).is_none() {
            return Vec::new();
        }
        let mut events: Vec<CloudEvent> = self
            .upsert(DeviceInfo::from_entry(entry), now)
            .into_iter()
            .collect();
        if let Some(early) = self.early.remove(&entry.cooker_id) {
            events.extend(self.normalise(early.event, early.received_at, now));
        }
        events
    }

    /// `EVENT_APC_WIFI_REMOVED`: a cooker unpaired mid-session.
    pub(crate) fn device_removed(&mut self, cooker_id: &str) -> Vec<CloudEvent> {
        self.early.remove(cooker_id);
        if self.devices.contains_key(cooker_id) {
            self.forget(cooker_id);
            vec![CloudEvent::DeviceRemoved {
                cooker_id: cooker_id.to_owned(),
            }]
        } else {
            Vec::new()
        }
    }

    /// `EVENT_APC_STATE`: normalised and handed on, or kept until its cooker is known.
    pub(crate) fn state(
        &mut self,
        event: ApcStateEvent,
        received_at: OffsetDateTime,
        now: Instant,
    ) -> Vec<CloudEvent> {
        if event
            .device_type
            .as_ref()
            .is_some_and(|t| Kind::of(t).is_none())
        {
            return Vec::new();
        }
        if self.devices.contains_key(&event.cooker_id) {
            return self
                .normalise(event, received_at, now)
                .into_iter()
                .collect();
        }
        let cooker_id = event.cooker_id.clone();
        if self.early.len() < MAX_EARLY_STATES || self.early.contains_key(&cooker_id) {
            tracing::debug!(%cooker_id, "state before the cooker's device list entry; keeping it");
            self.early
                .insert(cooker_id, EarlyState { event, received_at });
        } else {
            tracing::debug!(%cooker_id, "too many states for unknown cookers; dropping one");
        }
        Vec::new()
    }

    /// The cookers that went stale by `now`.
    pub(crate) fn expire_stale(&mut self, now: Instant) -> Vec<CloudEvent> {
        self.staleness
            .expire(now)
            .into_iter()
            .map(|cooker_id| CloudEvent::Stale { cooker_id })
            .collect()
    }

    /// When the next cooker goes stale, if any is still fresh.
    pub(crate) fn next_stale_deadline(&self) -> Option<Instant> {
        self.staleness.next_deadline()
    }

    /// Adds or updates a cooker; announces it when it is new or its name or type changed.
    fn upsert(&mut self, info: DeviceInfo, now: Instant) -> Option<CloudEvent> {
        match self.devices.get(&info.cooker_id) {
            Some(known) if *known == info => None,
            Some(known) => {
                // A state of another type is no useful `previous` for the new one.
                if known.device_type != info.device_type {
                    self.states.remove(&info.cooker_id);
                }
                self.devices.insert(info.cooker_id.clone(), info.clone());
                Some(CloudEvent::DeviceAdded(info))
            }
            None => {
                // The staleness clock starts now, so a cooker that never pushes goes stale too.
                self.staleness.pushed(&info.cooker_id, now);
                self.devices.insert(info.cooker_id.clone(), info.clone());
                Some(CloudEvent::DeviceAdded(info))
            }
        }
    }

    fn forget(&mut self, cooker_id: &str) {
        self.devices.remove(cooker_id);
        self.states.remove(cooker_id);
        self.staleness.forget(cooker_id);
    }

    /// Normalises a state of a known cooker: the state's own `type`, else the registry's.
    fn normalise(
        &mut self,
        event: ApcStateEvent,
        received_at: OffsetDateTime,
        now: Instant,
    ) -> Option<CloudEvent> {
        let info = self.devices.get(&event.cooker_id)?;
        let device_type = event.device_type.as_ref().unwrap_or(&info.device_type);
        let previous = self.states.get(&event.cooker_id);
        match CookerState::from_wire(device_type, &event.state, received_at, previous) {
            Ok(state) => {
                self.staleness.pushed(&event.cooker_id, now);
                self.states.insert(event.cooker_id.clone(), state.clone());
                Some(CloudEvent::State {
                    cooker_id: event.cooker_id,
                    state,
                })
            }
            Err(error) => {
                tracing::warn!(cooker_id = %event.cooker_id, "ignoring a state push: {error}");
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
            cooker_id: id.to_owned(),
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
        let known: Vec<&str> = r.devices.keys().map(String::as_str).collect();
        events
            .iter()
            .map(|e| match e {
                CloudEvent::DeviceAdded(info) => format!("added {} {}", info.cooker_id, info.name),
                CloudEvent::DeviceRemoved { cooker_id } => format!("removed {cooker_id}"),
                CloudEvent::DeviceListSynced => format!("synced {}", known.join(",")),
                CloudEvent::State { cooker_id, state } => {
                    format!("state {cooker_id} {}", state.model)
                }
                CloudEvent::Stale { cooker_id } => format!("stale {cooker_id}"),
                CloudEvent::Link(link) => format!("link {link:?}"),
            })
            .collect()
    }

    #[test]
    fn a_fresh_list_adds_removes_and_reannounces_only_changes() {
        let now = Instant::now();
        let mut r = registry();
        let first = r.device_list(&[entry("a", "a7", "A"), entry("b", "pro", "B")], now);
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
            now,
        );
        assert_eq!(
            summary(&r, &second),
            ["added a Renamed", "added c C", "synced a,b,c"],
            "b unchanged is not re-announced"
        );

        let third = r.device_list(&[entry("c", "a6", "C")], now);
        assert_eq!(summary(&r, &third), ["removed a", "removed b", "synced c"]);

        let empty = r.device_list(&[], now);
        assert_eq!(summary(&r, &empty), ["removed c", "synced "]);
    }

    #[test]
    fn ovens_are_ignored() {
        let mut r = registry();
        let events = r.device_list(
            &[entry("o", "oven_v2", "Oven"), entry("a", "a7", "A")],
            Instant::now(),
        );
        assert_eq!(summary(&r, &events), ["added a A", "synced a"]);
        assert!(r
            .device_added(&entry("o2", "oven_v1", "O"), Instant::now())
            .is_empty());
    }

    #[test]
    fn a_state_before_the_list_is_delivered_after_it() {
        let now = Instant::now();
        let mut r = registry();
        assert!(r.state(state_event(A7_IDLE), wall(), now).is_empty());
        assert!(r.state(state_event(PRO), wall(), now).is_empty());
        let events = r.device_list(&[entry(A7, "a7", "Mine")], now);
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
        r.device_list(&[], now);
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
            event.cooker_id = format!("cooker{i:03}");
            r.state(event, wall(), now);
        }
        assert_eq!(r.early.len(), MAX_EARLY_STATES);
    }

    #[test]
    fn state_type_falls_back_to_the_registry() {
        let now = Instant::now();
        let mut r = registry();
        r.device_list(&[entry(A7, "a7", "A7")], now);
        let mut event = state_event(A7_IDLE);
        event.device_type = None;
        let events = r.state(event, wall(), now);
        assert_eq!(summary(&r, &events), [format!("state {A7} a7")]);
    }

    #[test]
    fn removal_mid_session_forgets_the_cooker() {
        let now = Instant::now();
        let mut r = registry();
        r.device_list(&[entry(A7, "a7", "A7")], now);
        let removed = r.device_removed(A7);
        assert_eq!(summary(&r, &removed), [format!("removed {A7}")]);
        assert!(
            r.device_removed(A7).is_empty(),
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
        r.device_list(&[entry(A7, "a7", "A7")], t0);
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
