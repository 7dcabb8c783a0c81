//! Retry decision for a failed send: exponential backoff with jitter, bounded in delay
//! and attempts, and never sooner than the provider's `Retry-After`. Pure: the caller
//! passes the random jitter, so the worker decides and tests replay exactly.

use std::time::Duration;

use serde::Deserialize;

use crate::provider::SendError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Delay before the first retry (before jitter).
    pub base_ms: u64,
    /// Cap on the backoff delay.
    pub max_delay_ms: u64,
    /// Attempts in all, the first send included.
    pub max_attempts: u32,
    /// Cap on a provider's `Retry-After`, so a faulty header cannot park a message forever.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_ms: 2_000,
            max_delay_ms: 15 * 60_000,
            max_attempts: 8,
            max_retry_after_ms: 60 * 60_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// `attempts` is how many sends have been made so far (1 after the first failure);
    /// `jitter` is uniform in `[0, 1)`. "Equal jitter": half the exponential delay is
    /// fixed and half random, which spreads retries of a burst of failures without ever
    /// retrying immediately.
    pub fn decide(&self, attempts: u32, error: &SendError, jitter: f64) -> Decision {
        if !error.is_retryable() || attempts >= self.max_attempts {
            return Decision::GiveUp;
        }
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let exp = attempts.saturating_sub(1).min(32);
        let cap = self
            .base_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_delay_ms);
        let backoff = cap / 2 + ((cap - cap / 2) as f64 * jitter) as u64;
        let floor = error.retry_after().map_or(0, |d| {
            u64::try_from(d.as_millis())
                .unwrap_or(u64::MAX)
                .min(self.max_retry_after_ms)
        });
        Decision::RetryAfter(Duration::from_millis(backoff.max(floor)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> SendError {
        SendError::Transient {
            retry_after: None,
            reason: "x".into(),
        }
    }

    #[test]
    fn exponential_bounded_and_jittered() {
        let p = RetryPolicy {
            base_ms: 1000,
            max_delay_ms: 10_000,
            max_attempts: 6,
            max_retry_after_ms: 60_000,
        };
        let ms = |a, j| match p.decide(a, &transient(), j) {
            Decision::RetryAfter(d) => d.as_millis(),
            Decision::GiveUp => 0,
        };
        assert_eq!((ms(1, 0.0), ms(1, 1.0)), (500, 1000));
        assert_eq!((ms(2, 0.0), ms(2, 1.0)), (1000, 2000));
        assert_eq!((ms(3, 0.5), ms(4, 0.5)), (3000, 6000));
        assert_eq!(ms(5, 1.0), 10_000); // capped
        assert_eq!(p.decide(6, &transient(), 0.5), Decision::GiveUp);
        assert_eq!(ms(2, f64::NAN), 1500);
    }

    #[test]
    fn honours_retry_after_within_its_cap() {
        let p = RetryPolicy::default();
        let rl = |s| SendError::RateLimited {
            retry_after: Some(Duration::from_secs(s)),
        };
        assert_eq!(
            p.decide(1, &rl(30), 0.0),
            Decision::RetryAfter(Duration::from_secs(30))
        );
        assert_eq!(
            p.decide(1, &rl(86_400), 0.0),
            Decision::RetryAfter(Duration::from_secs(3600))
        );
        assert_eq!(
            p.decide(1, &SendError::RateLimited { retry_after: None }, 0.0),
            Decision::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn final_errors_are_not_retried() {
        let p = RetryPolicy::default();
        for e in [
            SendError::Permanent {
                code: "1".into(),
                reason: "x".into(),
            },
            SendError::InvalidRecipient {
                code: "21211".into(),
            },
            SendError::OptedOut {
                code: "21610".into(),
            },
            SendError::Configuration {
                code: "190".into(),
                reason: "x".into(),
            },
        ] {
            assert_eq!(p.decide(1, &e, 0.5), Decision::GiveUp, "{e:?}");
        }
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let p = RetryPolicy {
            max_attempts: u32::MAX,
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.decide(u32::MAX - 1, &transient(), 1.0),
            Decision::RetryAfter(Duration::from_millis(p.max_delay_ms))
        );
    }
}
