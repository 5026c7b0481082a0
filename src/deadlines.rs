//! The next deadline of every device, ordered, so that finding what is due costs O(log n)
//! per device instead of a walk over all devices on every input. The bridge keeps one (command
//! and confirmation deadlines, on its own clock) and the cloud client another (staleness, on
//! tokio's clock), hence the generic instant; each keys its devices by its own id (the
//! bridge by topic id, the client by cloud id), hence the generic key.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Each device's next deadline.
///
/// Re-filing a device, which happens on every push, allocates nothing: the order is keyed by
/// `(deadline, sequence)` and the device's id moves from its old entry to its new one.
/// Devices due at the same instant come out in the order they were filed.
#[derive(Debug)]
pub(crate) struct Deadlines<K, T> {
    order: BTreeMap<(T, u64), K>,
    by_device: HashMap<K, (T, u64)>,
    filed: u64,
}

impl<K, T> Default for Deadlines<K, T> {
    fn default() -> Self {
        Self {
            order: BTreeMap::new(),
            by_device: HashMap::new(),
            filed: 0,
        }
    }
}

impl<K: Clone + Eq + Hash, T: Ord + Copy> Deadlines<K, T> {
    /// Files (or clears, with `None`) a device's next deadline.
    pub(crate) fn set(&mut self, id: &K, at: Option<T>) {
        let Self {
            order,
            by_device,
            filed,
        } = self;
        match (by_device.get_mut(id), at) {
            (Some(key), Some(new)) => {
                if key.0 != new {
                    let name = order.remove(key).unwrap_or_else(|| id.clone());
                    *filed += 1;
                    *key = (new, *filed);
                    order.insert(*key, name);
                }
            }
            (Some(_), None) => {
                if let Some(key) = by_device.remove(id) {
                    order.remove(&key);
                }
            }
            (None, Some(new)) => {
                *filed += 1;
                order.insert((new, *filed), id.clone());
                by_device.insert(id.clone(), (new, *filed));
            }
            (None, None) => {}
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<T> {
        self.order.first_key_value().map(|((at, _), _)| *at)
    }

    /// Takes one device whose deadline is due (its entry is cleared; the caller files the
    /// next one after ticking it).
    pub(crate) fn pop_due(&mut self, now: T) -> Option<K> {
        let ((at, _), _) = self.order.first_key_value()?;
        if *at > now {
            return None;
        }
        let (_, id) = self.order.pop_first()?;
        self.by_device.remove(&id);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn due_devices_come_out_in_order_and_refiling_replaces() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut d: Deadlines<String, _> = Deadlines::default();
        d.set(&"b".to_owned(), Some(t0 + s(2)));
        d.set(&"a".to_owned(), Some(t0 + s(1)));
        d.set(&"c".to_owned(), Some(t0 + s(5)));
        d.set(&"c".to_owned(), Some(t0 + s(3)));
        assert_eq!(d.next(), Some(t0 + s(1)));
        assert_eq!(d.pop_due(t0 + s(2)).as_deref(), Some("a"));
        assert_eq!(d.pop_due(t0 + s(2)).as_deref(), Some("b"));
        assert_eq!(d.pop_due(t0 + s(2)), None);
        d.set(&"c".to_owned(), None);
        assert_eq!(d.next(), None);
        assert!(d.order.is_empty() && d.by_device.is_empty());
    }

    #[test]
    fn equal_deadlines_come_out_in_filing_order_and_refiling_moves_one_entry() {
        let mut d: Deadlines<String, _> = Deadlines::default();
        d.set(&"z".to_owned(), Some(5));
        d.set(&"a".to_owned(), Some(5));
        d.set(&"m".to_owned(), Some(9));
        d.set(&"m".to_owned(), Some(5));
        d.set(&"z".to_owned(), Some(7));
        assert_eq!(d.order.len(), 3);
        assert_eq!(d.pop_due(5).as_deref(), Some("a"));
        assert_eq!(d.pop_due(5).as_deref(), Some("m"));
        assert_eq!(d.pop_due(5), None);
        assert_eq!(d.next(), Some(7));
    }
}
