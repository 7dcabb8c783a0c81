//! Circuit breakers: after `failure_threshold` consecutive transient failures the upstream is
//! not called for `open_duration`; then one probe is let through (half-open) and its result
//! closes or re-opens the circuit. Business errors (4xx) are not failures of the upstream.
//!
//! A shared Spine service (PDS, SDS, the token endpoint) has one breaker. GP Connect has one
//! breaker per provider (keyed by the practice's ASID, [`Breakers::Keyed`]): every practice
//! runs its own system behind the Spine Secure Proxy, so one failing practice must not make the
//! gateway refuse every other practice's patients.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

    /// Open or half-open: the upstream is not being called normally.
    pub(crate) fn is_open(&self) -> bool {
        !matches!(*self.lock(), State::Closed { .. })
    }

    /// Closed with no failure counted: forgetting it loses nothing.
    fn is_pristine(&self) -> bool {
        matches!(
            *self.lock(),
            State::Closed {
                consecutive_failures: 0
            }
        )
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> State {
        *self.lock()
    }
}

/// At most this many providers are tracked. There are fewer than 7,000 GP practices in
/// England; the bound only matters if something calls with ever-new keys. Beyond it, closed
/// breakers with no failure are forgotten first; if every tracked breaker carries state, a
/// new key gets an untracked breaker (calls are let through, as before breakers existed).
const MAX_KEYED_BREAKERS: usize = 20_000;

/// The breakers of one upstream: one for the whole service, or one per key.
#[derive(Debug)]
pub(crate) enum Breakers {
    Single(CircuitBreaker),
    Keyed {
        map: Mutex<HashMap<String, Arc<CircuitBreaker>>>,
        /// Breakers currently open or half-open, for the metrics gauge.
        open: AtomicU64,
        failure_threshold: u32,
        open_duration: Duration,
    },
}

/// The breaker that guards one call.
#[derive(Debug, Clone)]
pub(crate) enum Guard<'a> {
    Single(&'a CircuitBreaker),
    Keyed(Arc<CircuitBreaker>),
}

impl std::ops::Deref for Guard<'_> {
    type Target = CircuitBreaker;
    fn deref(&self) -> &CircuitBreaker {
        match self {
            Guard::Single(b) => b,
            Guard::Keyed(b) => b,
        }
    }
}

impl Breakers {
    pub(crate) fn single(failure_threshold: u32, open_duration: Duration) -> Self {
        Breakers::Single(CircuitBreaker::new(failure_threshold, open_duration))
    }

    pub(crate) fn keyed(failure_threshold: u32, open_duration: Duration) -> Self {
        Breakers::Keyed {
            map: Mutex::new(HashMap::new()),
            open: AtomicU64::new(0),
            failure_threshold,
            open_duration,
        }
    }

    /// The breaker for `key` (ignored by a single breaker; a keyed set without a key shares
    /// the breaker of the empty key).
    pub(crate) fn guard(&self, key: Option<&str>) -> Guard<'_> {
        match self {
            Breakers::Single(b) => Guard::Single(b),
            Breakers::Keyed {
                map,
                failure_threshold,
                open_duration,
                ..
            } => {
                let key = key.unwrap_or("");
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(b) = map.get(key) {
                    return Guard::Keyed(b.clone());
                }
                if map.len() >= MAX_KEYED_BREAKERS {
                    map.retain(|_, b| !b.is_pristine());
                }
                let b = Arc::new(CircuitBreaker::new(*failure_threshold, *open_duration));
                if map.len() < MAX_KEYED_BREAKERS {
                    map.insert(key.to_owned(), b.clone());
                }
                Guard::Keyed(b)
            }
        }
    }

    /// Records a result on `guard` and keeps the open count up to date.
    pub(crate) fn record(&self, guard: &Guard<'_>, permit: Permit, success: bool) {
        let before = guard.is_open();
        guard.record(permit, success);
        let after = guard.is_open();
        if let Breakers::Keyed { open, .. } = self
            && before != after
        {
            if after {
                open.fetch_add(1, Ordering::Relaxed);
            } else {
                // Saturating: a breaker dropped from the map while open cannot exist (only
                // pristine ones are dropped), but never wrap below zero.
                let _ = open.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(1))
                });
            }
        }
    }

    /// How many breakers are open or half-open (0 or 1 for a single breaker).
    pub(crate) fn open_count(&self) -> u64 {
        match self {
            Breakers::Single(b) => u64::from(b.is_open()),
            Breakers::Keyed { open, .. } => open.load(Ordering::Relaxed),
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        match self {
            Breakers::Single(_) => 1,
            Breakers::Keyed { map, .. } => map.lock().map(|m| m.len()).unwrap_or(0),
        }
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
    fn keyed_breakers_are_independent_and_counted() {
        let set = Breakers::keyed(1, Duration::from_secs(10));
        let a = set.guard(Some("111"));
        set.record(&a, Permit::Normal, false);
        assert!(set.guard(Some("111")).try_acquire().is_none(), "111 open");
        assert_eq!(
            set.guard(Some("222")).try_acquire(),
            Some(Permit::Normal),
            "another key is not affected"
        );
        assert_eq!(set.open_count(), 1);
        // a recorded success on the open one (a probe) closes it and the count follows
        set.record(&set.guard(Some("111")), Permit::Probe, true);
        assert_eq!(set.open_count(), 0);
    }

    #[test]
    fn keyed_set_is_bounded() {
        let set = Breakers::keyed(1, Duration::from_secs(10));
        for i in 0..(MAX_KEYED_BREAKERS + 10) {
            let _ = set.guard(Some(&i.to_string()));
        }
        assert!(set.tracked() <= MAX_KEYED_BREAKERS, "{}", set.tracked());
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
