//! Per-channel send rate limits: a token bucket, pure (the caller passes the clock), so
//! the worker can hold one per channel and tests need no sleeping. Providers publish
//! their own throughput limits (Twilio queues per sender, Meta's 80 messages/s default
//! per phone number); staying under them avoids 429 storms.

use std::time::{Duration, Instant};

use serde::Deserialize;

/// `per_second` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A bucket that starts full. `None` when the limit is unusable (non-positive or
    /// non-finite rate, zero burst).
    pub fn new(limit: RateLimit, now: Instant) -> Option<Self> {
        if !(limit.per_second.is_finite() && limit.per_second > 0.0) || limit.burst == 0 {
            return None;
        }
        let capacity = f64::from(limit.burst);
        Some(Self {
            rate: limit.per_second,
            capacity,
            tokens: capacity,
            last: now,
        })
    }

    fn refill(&mut self, now: Instant) {
        // A clock that appears to go backwards adds nothing.
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        if now > self.last {
            self.last = now;
        }
    }

    /// Takes one token, or says how long until one is available.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(
            RateLimit {
                per_second: 2.0,
                burst: 3,
            },
            t0,
        )
        .unwrap();
        for _ in 0..3 {
            assert_eq!(b.try_acquire(t0), Ok(()));
        }
        let wait = b.try_acquire(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        assert!(b.try_acquire(t0 + Duration::from_millis(499)).is_err());
        assert_eq!(b.try_acquire(t0 + Duration::from_millis(500)), Ok(()));
        // An idle hour refills only up to the burst.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(b.try_acquire(later), Ok(()));
        }
        assert!(b.try_acquire(later).is_err());
    }

    #[test]
    fn n_sends_over_time_never_exceed_the_limit() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(
            RateLimit {
                per_second: 10.0,
                burst: 5,
            },
            t0,
        )
        .unwrap();
        let mut sent = 0u32;
        for ms in 0..=10_000u64 {
            if b.try_acquire(t0 + Duration::from_millis(ms)).is_ok() {
                sent += 1;
            }
        }
        // 5 at once plus 10 per second over 10 s.
        assert_eq!(sent, 105);
    }

    #[test]
    fn unusable_limits_are_refused() {
        let t = Instant::now();
        assert!(
            TokenBucket::new(
                RateLimit {
                    per_second: 0.0,
                    burst: 1
                },
                t
            )
            .is_none()
        );
        assert!(
            TokenBucket::new(
                RateLimit {
                    per_second: f64::NAN,
                    burst: 1
                },
                t
            )
            .is_none()
        );
        assert!(
            TokenBucket::new(
                RateLimit {
                    per_second: 1.0,
                    burst: 0
                },
                t
            )
            .is_none()
        );
    }
}
