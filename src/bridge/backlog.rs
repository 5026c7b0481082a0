//! Bulk publishing that waits for room: a device's discovery (a few dozen retained configs)
//! and, for a full republish, its retained state. Building all of it at once for a large
//! account (a broker connect or a Home Assistant birth with 10,000 devices is some 300,000
//! messages) would hold every payload in memory at the same time and overflow the queue to the
//! broker. Instead the bridge files device ids here and builds one device's messages whenever
//! the driver has room for them ([`Bridge::pull_backlog`](super::Bridge::pull_backlog)).

use crate::ids::TopicId;
use std::collections::{HashMap, VecDeque};

/// What one device still has to publish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Bulk {
    /// Its discovery configs.
    pub(crate) discovery: bool,
    /// Its retained state and availability, whether or not they changed.
    pub(crate) retained: bool,
}

/// Devices waiting for their bulk publishes, first filed first served; filing a device again
/// merges into its place in the line.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    order: VecDeque<TopicId>,
    waiting: HashMap<TopicId, Bulk>,
}

impl Backlog {
    /// Files `bulk` for device `id`.
    pub(crate) fn file(&mut self, id: &TopicId, bulk: Bulk) {
        match self.waiting.get_mut(id) {
            Some(waiting) => {
                waiting.discovery |= bulk.discovery;
                waiting.retained |= bulk.retained;
            }
            None => {
                self.waiting.insert(id.clone(), bulk);
                self.order.push_back(id.clone());
            }
        }
    }

    /// The next device and what it has to publish.
    pub(crate) fn next(&mut self) -> Option<(TopicId, Bulk)> {
        let id = self.order.pop_front()?;
        let bulk = self.waiting.remove(&id).unwrap_or_default();
        Some((id, bulk))
    }

    /// True when nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Forgets everything (the broker went away: the next connect republishes it all).
    pub(crate) fn clear(&mut self) {
        self.order.clear();
        self.waiting.clear();
        self.order.shrink_to_fit();
        self.waiting.shrink_to_fit();
    }

    /// Forgets one device (it left the account).
    pub(crate) fn remove(&mut self, id: &TopicId) {
        if self.waiting.remove(id).is_some() {
            self.order.retain(|waiting| waiting != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> TopicId {
        TopicId::from(text)
    }

    const DISCOVERY: Bulk = Bulk {
        discovery: true,
        retained: false,
    };
    const RETAINED: Bulk = Bulk {
        discovery: false,
        retained: true,
    };

    #[test]
    fn devices_come_out_in_filing_order_and_refiling_merges() {
        let mut backlog = Backlog::default();
        backlog.file(&id("a"), DISCOVERY);
        backlog.file(&id("b"), RETAINED);
        backlog.file(&id("a"), RETAINED);
        assert_eq!(
            backlog.next(),
            Some((
                "a".into(),
                Bulk {
                    discovery: true,
                    retained: true
                }
            ))
        );
        assert_eq!(backlog.next(), Some((id("b"), RETAINED)));
        assert_eq!(backlog.next(), None);
        assert!(backlog.is_empty());
    }

    #[test]
    fn removed_and_cleared_devices_are_gone() {
        let mut backlog = Backlog::default();
        backlog.file(&id("a"), DISCOVERY);
        backlog.file(&id("b"), DISCOVERY);
        backlog.remove(&id("a"));
        assert_eq!(backlog.next(), Some((id("b"), DISCOVERY)));
        backlog.file(&id("c"), DISCOVERY);
        backlog.clear();
        assert!(backlog.is_empty());
        assert_eq!(backlog.next(), None);
    }
}
