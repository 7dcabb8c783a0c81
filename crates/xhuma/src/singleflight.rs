//! Single flight: concurrent requests for the same key share one upstream call.
//!
//! An EHR often sends ITI-38 for the same patient from several sessions at once; GP Connect
//! is slow and rate-limited, so only the first caller fetches and the others wait for its
//! result. The work runs in its own task, so a leader whose client hangs up does not cancel
//! the call the followers are waiting on, and the entry is removed when the work ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

type Flight<V> = Shared<BoxFuture<'static, Result<V, FlightError>>>;

/// The shared work did not produce a value (it panicked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared upstream call failed unexpectedly")]
pub struct FlightError;

struct RemoveOnDrop<K: Eq + Hash, V> {
    flights: Arc<Mutex<HashMap<K, Flight<V>>>>,
    key: Option<K>,
}

impl<K: Eq + Hash, V> Drop for RemoveOnDrop<K, V> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.flights
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&k);
        }
    }
}

/// A set of in-flight calls keyed by `K`, each yielding a cloneable `V`.
pub struct SingleFlight<K, V> {
    flights: Arc<Mutex<HashMap<K, Flight<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self {
            flights: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<K, V> SingleFlight<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `work` unless a call for `key` is already in flight, in which case its result is
    /// awaited instead. Returns the value and whether this caller started the call.
    pub async fn run<F, Fut>(&self, key: K, work: F) -> Result<(V, bool), FlightError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let (flight, leader) = {
            let mut map = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(&key) {
                Some(f) => (f.clone(), false),
                None => {
                    // The work runs in the leader's span, so its upstream calls stay in the
                    // leader's trace.
                    let fut = tracing::Instrument::in_current_span(work());
                    let flights = self.flights.clone();
                    let k = key.clone();
                    // Spawned while the lock is held, so the task's removal cannot run
                    // before the insert below.
                    let handle = tokio::spawn(async move {
                        // Removes the entry even when the work panics.
                        let _done = RemoveOnDrop {
                            flights,
                            key: Some(k),
                        };
                        fut.await
                    });
                    let flight: Flight<V> = async move { handle.await.map_err(|_| FlightError) }
                        .boxed()
                        .shared();
                    map.insert(key, flight.clone());
                    (flight, true)
                }
            }
        };
        flight.await.map(|v| (v, leader))
    }

    /// Number of calls in flight (for tests and metrics).
    pub fn in_flight(&self) -> usize {
        self.flights.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_call() {
        let sf = Arc::new(SingleFlight::<String, u32>::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let sf = sf.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                sf.run("p1".to_string(), move || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    7
                })
                .await
                .unwrap()
            }));
        }
        let mut leaders = 0;
        for t in tasks {
            let (v, leader) = t.await.unwrap();
            assert_eq!(v, 7);
            leaders += usize::from(leader);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(leaders, 1);
        assert_eq!(sf.in_flight(), 0);
    }

    #[tokio::test]
    async fn different_keys_and_later_calls_run_again() {
        let sf = SingleFlight::<u8, u8>::new();
        assert_eq!(sf.run(1, || async { 1 }).await.unwrap(), (1, true));
        assert_eq!(sf.run(2, || async { 2 }).await.unwrap(), (2, true));
        assert_eq!(sf.run(1, || async { 3 }).await.unwrap(), (3, true));
    }

    #[tokio::test]
    async fn cancelled_leader_does_not_cancel_followers() {
        let sf = Arc::new(SingleFlight::<u8, u8>::new());
        let leader = {
            let sf = sf.clone();
            tokio::spawn(async move {
                sf.run(1, || async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    9
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let follower = {
            let sf = sf.clone();
            tokio::spawn(async move { sf.run(1, || async { 0 }).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        leader.abort();
        assert_eq!(follower.await.unwrap().unwrap(), (9, false));
    }

    #[tokio::test]
    async fn panicking_work_is_an_error_not_a_hang() {
        let sf = SingleFlight::<u8, u8>::new();
        let r = sf.run(1, || async { panic!("boom") }).await;
        assert_eq!(r, Err(FlightError));
        assert_eq!(sf.run(1, || async { 2 }).await.unwrap(), (2, true));
    }
}
