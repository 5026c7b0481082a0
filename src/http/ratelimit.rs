//! The per-connection limits on requests and on stream clients' messages: a token bucket,
//! I/O-free (the caller passes the time), so its arithmetic is tested without sleeping.

use std::time::{Duration, Instant};

/// How many messages a stream client, or requests a connection, may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Messages that may arrive at once.
    pub burst: u32,
    /// Messages per second in the long run.
    pub per_second: f64,
    /// Over-limit messages in a row after which the connection is closed.
    pub strikes: u32,
}

impl RateLimit {
    /// The requests one HTTP connection may make: bursts of 40, 20 a second (a page load or a
    /// script is far below; a loop hammering the API is not).
    pub const REQUESTS: Self = Self {
        burst: 40,
        per_second: 20.0,
        strikes: 100,
    };
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            burst: 20,
            per_second: 5.0,
            strikes: 20,
        }
    }
}

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Handle it.
    Allow,
    /// Answer it with a `rate_limited` error.
    Limit,
    /// Close the connection: it kept sending while limited.
    Close,
}

/// One connection's bucket.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    /// Messages allowed right now (fractional while refilling).
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Instant,
    /// Limited messages since the last allowed one.
    strikes: u32,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            updated: now,
            strikes: 0,
        }
    }

    /// Takes one token for a message arriving at `now`.
    pub(crate) fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.updated);
        self.updated = now;
        let refill = elapsed.as_secs_f64() * self.limit.per_second.max(0.0);
        self.tokens = (self.tokens + refill).min(f64::from(self.limit.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            return Verdict::Allow;
        }
        self.strikes = self.strikes.saturating_add(1);
        if self.strikes > self.limit.strikes {
            Verdict::Close
        } else {
            Verdict::Limit
        }
    }

    /// How long until the next message would be allowed, for the error message.
    pub(crate) fn retry_after(&self) -> Duration {
        if self.tokens >= 1.0 || self.limit.per_second <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((1.0 - self.tokens) / self.limit.per_second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        burst: 3,
        per_second: 2.0,
        strikes: 2,
    };

    #[test]
    fn a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(LIMIT, start);
        for _ in 0..3 {
            assert_eq!(bucket.take(start), Verdict::Allow);
        }
        assert_eq!(bucket.take(start), Verdict::Limit);
        assert!(bucket.retry_after() > Duration::from_millis(400));
        // Half a second brings one token back at two per second.
        let later = start + Duration::from_millis(500);
        assert_eq!(bucket.take(later), Verdict::Allow);
        assert_eq!(bucket.take(later), Verdict::Limit);
        // Never more than the burst, however long the pause.
        let much_later = later + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(bucket.take(much_later), Verdict::Allow);
        }
        assert_eq!(bucket.take(much_later), Verdict::Limit);
    }

    #[test]
    fn persistent_abuse_closes() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(LIMIT, now);
        let verdicts: Vec<Verdict> = (0..6).map(|_| bucket.take(now)).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Allow,
                Verdict::Allow,
                Verdict::Allow,
                Verdict::Limit,
                Verdict::Limit,
                Verdict::Close
            ]
        );
    }

    #[test]
    fn an_allowed_message_forgives_strikes() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(LIMIT, now);
        for _ in 0..3 {
            bucket.take(now);
        }
        assert_eq!(bucket.take(now), Verdict::Limit);
        assert_eq!(bucket.take(now), Verdict::Limit);
        let later = now + Duration::from_millis(500);
        assert_eq!(bucket.take(later), Verdict::Allow);
        assert_eq!(bucket.take(later), Verdict::Limit);
        assert_eq!(bucket.take(later), Verdict::Limit);
        assert_eq!(bucket.take(later), Verdict::Close);
    }
}
