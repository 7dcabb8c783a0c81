//! A per-upstream circuit breaker: after `failure_threshold` consecutive transient failures the
//! upstream is not called for `open_duration`; then one probe is let through (half-open) and its
//! result closes or re-opens the circuit. Business errors (4xx) are not failures of the upstream.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Closed {
        consecutive_failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is in flight; everyone else is refused until it reports back.
    HalfOpen,
}

#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    state: Mutex<State>,
    failure_threshold: u32,
    open_duration: Duration,
}

/// Permission to call the upstream; report the result with [`CircuitBreaker::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permit {
    Normal,
    Probe,
}

impl CircuitBreaker {
    pub(crate) fn new(failure_threshold: u32, open_duration: Duration) -> Self {
        Self {
            state: Mutex::new(State::Closed {
                consecutive_failures: 0,
            }),
            failure_threshold: failure_threshold.max(1),
            open_duration,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked while holding a plain enum: the
        // value is still meaningful.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `None` while the circuit is open.
    pub(crate) fn try_acquire(&self) -> Option<Permit> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Some(Permit::Normal),
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                Some(Permit::Probe)
            }
            State::Open { .. } | State::HalfOpen => None,
        }
    }

    pub(crate) fn record(&self, permit: Permit, success: bool) {
        let mut state = self.lock();
        if success {
            *state = State::Closed {
                consecutive_failures: 0,
            };
            return;
        }
        let open = State::Open {
            until: Instant::now() + self.open_duration,
        };
        *state = match (*state, permit) {
            (_, Permit::Probe) | (State::HalfOpen, _) => open,
            (
                State::Closed {
                    consecutive_failures,
                },
                Permit::Normal,
            ) => {
                let n = consecutive_failures + 1;
                if n >= self.failure_threshold {
                    open
                } else {
                    State::Closed {
                        consecutive_failures: n,
                    }
                }
            }
            (s @ State::Open { .. }, Permit::Normal) => s,
        };
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> State {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_half_opens_and_closes_on_success() {
        let b = CircuitBreaker::new(2, Duration::from_millis(30));
        let p = b.try_acquire();
        assert_eq!(p, Some(Permit::Normal));
        b.record(Permit::Normal, false);
        assert!(matches!(b.state(), State::Closed { .. }));
        b.record(Permit::Normal, false);
        assert!(matches!(b.state(), State::Open { .. }));
        assert_eq!(b.try_acquire(), None);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.try_acquire(), Some(Permit::Probe));
        // only one probe at a time
        assert_eq!(b.try_acquire(), None);
        b.record(Permit::Probe, true);
        assert_eq!(b.try_acquire(), Some(Permit::Normal));
    }

    #[test]
    fn failed_probe_reopens() {
        let b = CircuitBreaker::new(1, Duration::from_millis(20));
        b.record(Permit::Normal, false);
        std::thread::sleep(Duration::from_millis(25));
        assert_eq!(b.try_acquire(), Some(Permit::Probe));
        b.record(Permit::Probe, false);
        assert_eq!(b.try_acquire(), None);
    }

    #[test]
    fn success_resets_the_failure_count() {
        let b = CircuitBreaker::new(2, Duration::from_secs(10));
        b.record(Permit::Normal, false);
        b.record(Permit::Normal, true);
        b.record(Permit::Normal, false);
        assert!(matches!(b.state(), State::Closed { .. }));
    }
}
