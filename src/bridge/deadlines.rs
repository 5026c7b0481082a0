//! The next deadline of every device, ordered, so that finding what is due costs O(log n)
//! per device instead of a walk over all devices on every input.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// Each device's next deadline.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    order: BTreeSet<(Instant, String)>,
    by_device: HashMap<String, Instant>,
}

impl Deadlines {
    /// Files (or clears, with `None`) a device's next deadline.
    pub(crate) fn set(&mut self, id: &str, at: Option<Instant>) {
        match (self.by_device.get(id).copied(), at) {
            (Some(old), Some(new)) if old == new => {}
            (old, new) => {
                if let Some(old) = old {
                    self.order.remove(&(old, id.to_owned()));
                    self.by_device.remove(id);
                }
                if let Some(new) = new {
                    self.order.insert((new, id.to_owned()));
                    self.by_device.insert(id.to_owned(), new);
                }
            }
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.order.first().map(|(at, _)| *at)
    }

    /// Takes one device whose deadline is due (its entry is cleared; the caller files the
    /// next one after ticking it).
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<String> {
        let (at, _) = self.order.first()?;
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
    use std::time::Duration;

    #[test]
    fn due_devices_come_out_in_order_and_refiling_replaces() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut d = Deadlines::default();
        d.set("b", Some(t0 + s(2)));
        d.set("a", Some(t0 + s(1)));
        d.set("c", Some(t0 + s(5)));
        d.set("c", Some(t0 + s(3)));
        assert_eq!(d.next(), Some(t0 + s(1)));
        assert_eq!(d.pop_due(t0 + s(2)).as_deref(), Some("a"));
        assert_eq!(d.pop_due(t0 + s(2)).as_deref(), Some("b"));
        assert_eq!(d.pop_due(t0 + s(2)), None);
        d.set("c", None);
        assert_eq!(d.next(), None);
    }
}
