//! The reconnect policy: exponential backoff with jitter, reset by the caller once a
//! connection got through (the cloud: once it talked on the link; the broker: once it accepted
//! us). Both links use it: the Anova cloud and the MQTT broker.
//!
//! The Anova cloud drops connections routinely and rate-limits clients that reconnect too eagerly
//! (`docs/anova-protocol.md` §1.5; Home Assistant saw 825 failed attempts in 15 h at a fixed
//! interval), and rumqttc has no reconnect delay of its own. So the first retry comes after about
//! `initial`, each further failure multiplies the wait up to `max`, and the jitter spreads many
//! gateways (or one gateway's restarts) apart.
//!
//! The type is pure: the caller supplies the random number, so tests can pin it;
//! [`jitter_sample`] is the real source.

use std::time::Duration;

/// How long to wait between connection attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// The wait after the first failure (and after a connection that got through ends).
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// Each failure multiplies the wait by this.
    pub factor: u32,
    /// The wait is spread uniformly over ±`jitter` of its nominal value (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(5 * 60),
            factor: 2,
            jitter: 0.2,
        }
    }
}

/// The running state of a [`BackoffPolicy`]: how many attempts failed in a row.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    failures: u32,
}

impl Backoff {
    /// A fresh backoff: the next wait is `initial`.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self {
            policy,
            failures: 0,
        }
    }

    /// The wait before the next attempt; counts one more failure.
    ///
    /// `unit_random` is a uniform sample from `[0, 1)`; values outside are clamped, so a bad
    /// random source can never produce a zero or unbounded wait.
    pub fn next_delay(&mut self, unit_random: f64) -> Duration {
        let nominal = self.nominal();
        self.failures = self.failures.saturating_add(1);
        let jitter = self.policy.jitter.clamp(0.0, 1.0);
        let sample = if unit_random.is_finite() {
            unit_random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        // Maps [0, 1) onto [1 - jitter, 1 + jitter).
        let scale = 1.0 - jitter + 2.0 * jitter * sample;
        nominal.mul_f64(scale)
    }

    /// The wait without jitter for the current failure count: `initial × factor^failures`,
    /// capped at `max`.
    fn nominal(&self) -> Duration {
        let factor = self.policy.factor.max(1);
        let growth = factor.checked_pow(self.failures).unwrap_or(u32::MAX);
        self.policy
            .initial
            .checked_mul(growth)
            .unwrap_or(self.policy.max)
            .min(self.policy.max)
    }

    /// Forgets past failures: the next wait is `initial` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures counted since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// A uniform sample from `[0, 1)` for the jitter. A UUID v4 is drawn from the OS random
/// source (a dependency we already have); its last 48 bits are all random.
pub fn jitter_sample() -> f64 {
    const BITS: u32 = 48;
    let sample = uuid::Uuid::new_v4().as_u128() & ((1u128 << BITS) - 1);
    sample as f64 / (1u128 << BITS) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(300),
            factor: 2,
            jitter: 0.2,
        }
    }

    #[test]
    fn doubles_up_to_the_cap_without_jitter_at_the_midpoint() {
        let mut backoff = Backoff::new(policy());
        let waits: Vec<u64> = (0..9).map(|_| backoff.next_delay(0.5).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(backoff.failures(), 9);
    }

    #[test]
    fn jitter_spreads_the_wait_within_bounds() {
        let low = Backoff::new(policy()).next_delay(0.0);
        let high = Backoff::new(policy()).next_delay(0.999_999);
        assert_eq!(low, Duration::from_secs(4));
        assert!(high > Duration::from_millis(5_999) && high < Duration::from_secs(6));
    }

    #[test]
    fn bad_random_input_is_clamped() {
        assert_eq!(
            Backoff::new(policy()).next_delay(f64::NAN),
            Duration::from_secs(5)
        );
        assert_eq!(
            Backoff::new(policy()).next_delay(-3.0),
            Duration::from_secs(4)
        );
        assert_eq!(
            Backoff::new(policy()).next_delay(7.0),
            Duration::from_secs(6)
        );
    }

    #[test]
    fn a_reset_starts_again_from_the_first_wait() {
        let mut backoff = Backoff::new(policy());
        for _ in 0..4 {
            backoff.next_delay(0.5);
        }
        assert_eq!(backoff.next_delay(0.5), Duration::from_secs(80));
        backoff.reset();
        assert_eq!(backoff.failures(), 0);
        assert_eq!(backoff.next_delay(0.5), Duration::from_secs(5));
    }

    #[test]
    fn never_overflows() {
        let mut backoff = Backoff::new(BackoffPolicy {
            factor: 10,
            ..policy()
        });
        for _ in 0..1_000 {
            assert!(backoff.next_delay(0.5) <= Duration::from_secs(300));
        }
    }

    #[test]
    fn random_samples_stay_in_the_unit_interval() {
        for _ in 0..1_000 {
            let sample = jitter_sample();
            assert!((0.0..1.0).contains(&sample));
        }
    }
}
