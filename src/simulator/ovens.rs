//! The paired ovens with their push schedules: what the world holds for the `APO` family. It
//! returns the frames to send; the world queues them for the connections that asked for `APO`.

use super::config::{OvenSettings, SimOvenSpec, SimulatorConfig, SpecError};
use super::oven::{OvenChange, OvenSnapshot, SimOven, Started};
use super::record::PushTag;
use super::routing::{OvenCommand, INVALID_COMMAND};
use super::wire::{self, EventName, Removed, Utf8Bytes};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::time::Instant;

/// One oven with its push schedule.
struct OvenSlot {
    oven: SimOven,
    id: Arc<str>,
    next_push: Instant,
}

/// A state push, tagged for the latency hook when it records.
pub(crate) struct Push {
    pub(crate) text: Utf8Bytes,
    pub(crate) tag: Option<PushTag>,
}

/// How the oven answered a command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// `ok`; the oven changed (its state is pushed).
    Applied,
    /// `ok`; nothing happened, for this reason.
    Ignored(String),
    /// An error RESPONSE with this text.
    Refused(&'static str),
}

/// The ovens.
pub(crate) struct Ovens {
    slots: Vec<OvenSlot>,
    index: HashMap<String, usize>,
    settings: OvenSettings,
    started: OffsetDateTime,
}

impl Ovens {
    /// The configured ovens.
    pub(crate) fn new(
        config: &SimulatorConfig,
        started: OffsetDateTime,
        now: Instant,
    ) -> Result<Self, SpecError> {
        let mut ovens = Self {
            slots: Vec::new(),
            index: HashMap::new(),
            settings: config.oven.clone(),
            started,
        };
        for spec in &config.ovens {
            ovens.add(spec, now)?;
        }
        Ok(ovens)
    }

    /// Whether an oven has this id.
    pub(crate) fn contains(&self, cooker_id: &str) -> bool {
        self.index.contains_key(cooker_id)
    }

    /// Pairs an oven; returns its `EVENT_APO_WIFI_ADDED` and state frames.
    pub(crate) fn add(
        &mut self,
        spec: &SimOvenSpec,
        now: Instant,
    ) -> Result<(Utf8Bytes, usize), SpecError> {
        if self.index.contains_key(&spec.cooker_id) {
            return Err(SpecError::Duplicate(spec.cooker_id.clone()));
        }
        let oven = SimOven::new(spec, self.started, &self.settings)?;
        let next_push = now + oven.push_interval(&self.settings);
        let index = self.slots.len();
        self.index.insert(spec.cooker_id.clone(), index);
        let added = wire::event(EventName::ApoWifiAdded, &oven.list_entry());
        self.slots.push(OvenSlot {
            id: oven.cooker_id().into(),
            oven,
            next_push,
        });
        Ok((added, index))
    }

    /// Unpairs an oven; its `EVENT_APO_WIFI_REMOVED`, or `None` when unknown.
    pub(crate) fn remove(&mut self, cooker_id: &str) -> Option<Utf8Bytes> {
        let index = self.index.remove(cooker_id)?;
        self.slots.remove(index);
        self.index = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.oven.cooker_id().to_owned(), i))
            .collect();
        Some(wire::event(
            EventName::ApoWifiRemoved,
            &Removed { cooker_id },
        ))
    }

    /// `EVENT_APO_WIFI_LIST`.
    pub(crate) fn list(&self) -> Utf8Bytes {
        let entries: Vec<_> = self.slots.iter().map(|s| s.oven.list_entry()).collect();
        wire::event(EventName::ApoWifiList, &entries)
    }

    /// Every oven's current state, in device-list order (the connect sequence).
    pub(crate) fn states(&self, now: OffsetDateTime) -> impl Iterator<Item = Utf8Bytes> + '_ {
        self.slots.iter().map(move |s| s.oven.state_event(now))
    }

    /// The firmware offers, after the states in the connect sequence.
    pub(crate) fn firmware_events(&self) -> impl Iterator<Item = Utf8Bytes> + '_ {
        self.slots.iter().filter_map(|s| s.oven.firmware_event())
    }

    /// Renders oven `index`'s state and reschedules its periodic push.
    pub(crate) fn push(
        &mut self,
        index: usize,
        now: OffsetDateTime,
        instant: Instant,
        tag: bool,
    ) -> Option<Push> {
        let slot = self.slots.get_mut(index)?;
        if slot.oven.is_silent() {
            return None;
        }
        slot.next_push = instant + slot.oven.push_interval(&self.settings);
        Some(Push {
            text: slot.oven.state_event(now),
            tag: tag.then(|| PushTag {
                cooker_id: slot.id.clone(),
                water_temperature_c: None,
            }),
        })
    }

    /// Advances every plugged-in oven; a push for each change a client would see and each
    /// periodic push due.
    pub(crate) fn tick(
        &mut self,
        simulated_s: f64,
        now: OffsetDateTime,
        instant: Instant,
        tag: bool,
    ) -> Vec<Push> {
        let mut pushes = Vec::new();
        for index in 0..self.slots.len() {
            if self.slots[index].oven.is_silent() {
                continue;
            }
            let mut left = simulated_s;
            let mut pushed = false;
            while left > 1e-9 {
                let step = self.slots[index].oven.advance(left);
                if step.transition {
                    pushes.extend(self.push(index, now, instant, tag));
                    pushed = true;
                }
                if step.simulated_s <= 0.0 {
                    break;
                }
                left -= step.simulated_s;
            }
            if !pushed && instant >= self.slots[index].next_push {
                pushes.extend(self.push(index, now, instant, tag));
            }
        }
        pushes
    }

    /// Hands a command to its oven: the answer, and the oven's index when it changed.
    pub(crate) fn execute(
        &mut self,
        oven_id: &str,
        command: &OvenCommand,
        request_id: &str,
    ) -> (Answer, Option<usize>) {
        let Some(&index) = self.index.get(oven_id) else {
            return (Answer::Ignored("unknown oven id".into()), None);
        };
        let oven = &mut self.slots[index].oven;
        if oven.is_silent() {
            return (Answer::Ignored("the oven is offline".into()), None);
        }
        let changed = match command {
            OvenCommand::Start(payload) => match oven.start(payload.as_ref(), request_id) {
                Started::Cooking | Started::Errored => true,
                Started::Invalid(_) => return (Answer::Refused(INVALID_COMMAND), None),
                Started::Ignored(why) => return (Answer::Ignored(why), None),
            },
            OvenCommand::Stop => oven.stop(request_id),
            OvenCommand::SetTemperatureUnit(unit) => oven.set_unit(*unit, request_id),
        };
        if changed {
            (Answer::Applied, Some(index))
        } else {
            (
                Answer::Ignored("the oven is in its error state".into()),
                None,
            )
        }
    }

    /// Applies a change from outside; the oven's index when its state changed, `None` when
    /// unknown.
    pub(crate) fn change(&mut self, cooker_id: &str, change: OvenChange) -> Option<Option<usize>> {
        let index = *self.index.get(cooker_id)?;
        Some(self.slots[index].oven.change(change).then_some(index))
    }

    /// Unplugs or plugs back an oven; `Some(true)` when it came back (push it), `None` when
    /// unknown.
    pub(crate) fn set_silent(
        &mut self,
        cooker_id: &str,
        silent: bool,
        now: OffsetDateTime,
    ) -> Option<(usize, bool)> {
        let index = *self.index.get(cooker_id)?;
        let changed = self.slots[index].oven.set_silent(silent, now);
        Some((index, changed && !silent))
    }

    /// An oven's current state.
    pub(crate) fn snapshot(&self, cooker_id: &str) -> Option<OvenSnapshot> {
        let index = *self.index.get(cooker_id)?;
        Some(self.slots[index].oven.snapshot())
    }

    /// Every oven's state, in device-list order.
    pub(crate) fn snapshots(&self) -> Vec<OvenSnapshot> {
        self.slots.iter().map(|s| s.oven.snapshot()).collect()
    }
}
