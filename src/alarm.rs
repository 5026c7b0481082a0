//! A timer for an event loop whose next deadline is recomputed on every turn.
//!
//! A fresh `sleep_until` inside `select!` registers a timer entry on its first poll and drops
//! it when the turn ends: at a thousand pushes a second that is a thousand registrations and
//! removals for a deadline that rarely moves. An alarm keeps one timer and re-arms it only when
//! the deadline changes.

use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// One timer, armed for a deadline or for nothing.
#[derive(Debug)]
pub(crate) struct Alarm {
    sleep: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl Alarm {
    /// An alarm armed for nothing.
    pub(crate) fn new() -> Self {
        // The timer is only registered when first polled, after `set` gave it a deadline.
        let unused = Instant::now() + Duration::from_secs(86_400 * 365);
        Self {
            sleep: Box::pin(tokio::time::sleep_until(unused)),
            armed: None,
        }
    }

    /// Arms it for `at`, or for nothing; the timer is touched only when `at` changed.
    pub(crate) fn set(&mut self, at: Option<Instant>) {
        if at != self.armed {
            if let Some(at) = at {
                self.sleep.as_mut().reset(at);
            }
            self.armed = at;
        }
    }

    /// Completes when the armed deadline passes (never while armed for nothing); it is then
    /// disarmed until the next `set`.
    pub(crate) async fn fired(&mut self) {
        if self.armed.is_none() {
            return std::future::pending().await;
        }
        self.sleep.as_mut().await;
        self.armed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fires_at_the_deadline_once_and_follows_a_moved_deadline() {
        let t0 = Instant::now();
        let mut alarm = Alarm::new();
        let unarmed = tokio::time::timeout(Duration::from_secs(10), alarm.fired()).await;
        assert!(unarmed.is_err(), "armed for nothing never fires");

        alarm.set(Some(t0 + Duration::from_secs(30)));
        alarm.set(Some(t0 + Duration::from_secs(20)));
        alarm.fired().await;
        assert_eq!(Instant::now(), t0 + Duration::from_secs(20));
        let again = tokio::time::timeout(Duration::from_secs(60), alarm.fired()).await;
        assert!(again.is_err(), "disarmed after firing");

        alarm.set(Some(t0 + Duration::from_secs(100)));
        alarm.set(None);
        let cleared = tokio::time::timeout(Duration::from_secs(200), alarm.fired()).await;
        assert!(cleared.is_err(), "cleared before it was due");
    }
}
