//! Places on the stream: one per authenticated client, and a separate, small and short-lived
//! set for connections that have not authenticated yet.
//!
//! A connection without the token in its upgrade request has [`super::Settings::auth_deadline`]
//! to send it as its first message. Such connections cost their sender nothing, so they must
//! not take the places of clients that did authenticate: they wait in their own set of
//! [`super::Settings::max_pending_auth`], and when it is full the one that has waited longest
//! is closed for the newcomer (a page opening its stream sends its token at once, so a flood of
//! silent upgrades closes only other silent upgrades). A connection takes a client place only
//! once its token is accepted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// The stream's places.
pub(super) struct StreamSlots {
    /// One permit per authenticated client.
    clients: Arc<Semaphore>,
    /// Connections waiting to authenticate, oldest first.
    pending: Mutex<VecDeque<(u64, CancellationToken)>>,
    max_pending: usize,
    next_id: AtomicU64,
}

/// A connection's place while it has not authenticated; dropping it frees the place.
pub(super) struct Pending {
    id: u64,
    /// Cancelled when a newer connection took the place.
    pub(super) evicted: CancellationToken,
    slots: Arc<StreamSlots>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.slots.lock().retain(|(id, _)| *id != self.id);
    }
}

impl StreamSlots {
    /// `clients` authenticated clients and `pending` connections waiting to authenticate (each
    /// at least 1).
    pub(super) fn new(clients: usize, pending: usize) -> Arc<Self> {
        Arc::new(Self {
            clients: Arc::new(Semaphore::new(clients.max(1))),
            pending: Mutex::new(VecDeque::new()),
            max_pending: pending.max(1),
            next_id: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, CancellationToken)>> {
        // Nothing panics while holding it; a poisoned queue is still a correct queue.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A client's place, if one is free.
    pub(super) fn client(&self) -> Option<OwnedSemaphorePermit> {
        self.clients.clone().try_acquire_owned().ok()
    }

    /// A place to wait for authentication: always given, closing the connection that has
    /// waited longest when all are taken.
    pub(super) fn pending(self: &Arc<Self>) -> Pending {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let evicted = CancellationToken::new();
        let mut pending = self.lock();
        while pending.len() >= self.max_pending {
            match pending.pop_front() {
                Some((_, oldest)) => oldest.cancel(),
                None => break,
            }
        }
        pending.push_back((id, evicted.clone()));
        drop(pending);
        Pending {
            id,
            evicted,
            slots: self.clone(),
        }
    }

    /// Connections waiting to authenticate.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_waiting_makes_room_and_clients_are_counted_apart() {
        let slots = StreamSlots::new(1, 2);
        let first = slots.pending();
        let second = slots.pending();
        let third = slots.pending();
        assert!(first.evicted.is_cancelled());
        assert!(!second.evicted.is_cancelled() && !third.evicted.is_cancelled());
        assert_eq!(slots.waiting(), 2);
        drop(second);
        assert_eq!(slots.waiting(), 1);
        drop(first);
        assert_eq!(slots.waiting(), 1);

        let client = slots.client().expect("a free client place");
        assert!(slots.client().is_none());
        drop(client);
        assert!(slots.client().is_some());
    }
}
