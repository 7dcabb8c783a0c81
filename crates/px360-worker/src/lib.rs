//! PX360 durable worker.
//!
//! The queue is the `inbound_events` table itself (a transactional outbox): an event accepted
//! with 202 *is* a durable job, with no second write to a separate queue that could be lost in
//! between. Workers claim the oldest due event with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite
//! serialises writers) and apply it inside the claiming transaction, so a worker that dies
//! mid-job releases its claim and another worker completes it (at-least-once delivery,
//! effectively-once effect). Failures are retried with exponential backoff and then parked for
//! an operator to replay. [`beat`] runs scheduled jobs once per slot across all processes.

pub mod beat;

use px360_store::Db;
use px360_store::journeys::Outcome;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process (recorded as `processed_by` on each event).
    pub id: String,
    pub concurrency: usize,
    /// How long an idle worker waits before polling again (a local enqueue wakes it at once).
    pub idle_poll: Duration,
    /// Events claimed and applied per transaction (amortises the commit and, on SQLite, the
    /// single writer slot shared with the API).
    pub batch: i64,
    /// Test hook: hold every claimed job this long before applying it (kill tests).
    pub hold: Option<Duration>,
}

impl WorkerConfig {
    pub fn new(id: impl Into<String>, backend: px360_store::Backend) -> Self {
        Self {
            id: id.into(),
            concurrency: match backend {
                px360_store::Backend::Sqlite => 1,
                px360_store::Backend::Postgres => 4,
            },
            idle_poll: Duration::from_millis(50),
            batch: 64,
            hold: None,
        }
    }
}

/// Run `concurrency` claim loops (0: none, an API-only process) until `shutdown` turns true.
/// In-flight jobs finish first.
pub async fn run(db: Db, cfg: WorkerConfig, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
    let mut tasks = Vec::new();
    for n in 0..cfg.concurrency {
        let (db, cfg, wake, shutdown) = (db.clone(), cfg.clone(), wake.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move {
            claim_loop(db, cfg, n, wake, shutdown).await
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn claim_loop(
    db: Db,
    cfg: WorkerConfig,
    n: usize,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    while !*shutdown.borrow() {
        match db.process_next(&cfg.id, cfg.batch, cfg.hold).await {
            Ok(done) if !done.is_empty() => {
                backoff = Duration::from_millis(100);
                for (id, outcome) in done {
                    record(&id, outcome);
                }
            }
            Ok(_) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(cfg.idle_poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                // Database unavailable or similar: back off, do not spin.
                tracing::warn!(worker = %cfg.id, loop_no = n, error = %e, "worker.claim_failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

fn record(id: &str, outcome: Outcome) {
    match outcome {
        Outcome::Processed(p) => {
            metrics::counter!("px360_events_processed_total").increment(1);
            if !p.warnings.is_empty() {
                metrics::counter!("px360_events_processed_with_warnings_total").increment(1);
            }
            if let Ok(received) = chrono::DateTime::parse_from_rfc3339(&p.received_at) {
                let lag = chrono::Utc::now().signed_duration_since(received);
                metrics::histogram!("px360_event_processing_lag_seconds")
                    .record(lag.num_microseconds().unwrap_or(0) as f64 / 1e6);
            }
            tracing::debug!(event_id = %id, warnings = p.warnings.len(), "job.done");
        }
        // The error text stays in the database (`last_error`, readable by operators through
        // the API): it can quote payload values, so it is not logged.
        Outcome::Failed { error: _, retry_in } => {
            metrics::counter!("px360_events_failed_total").increment(1);
            match retry_in {
                Some(d) => tracing::warn!(event_id = %id, retry_in_s = d.as_secs(), "job.failed"),
                None => {
                    metrics::counter!("px360_events_parked_total").increment(1);
                    tracing::error!(event_id = %id, "job.parked");
                }
            }
        }
    }
}

/// Refresh queue gauges (per process; Prometheus scrapes each process).
pub async fn stats_loop(db: Db, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Ok(counts) = db.event_counts().await {
            for status in ["received", "failed", "parked", "processed"] {
                let n = counts
                    .iter()
                    .find(|(s, _)| s == status)
                    .map(|(_, n)| *n)
                    .unwrap_or(0);
                metrics::gauge!("px360_events", "status" => status).set(n as f64);
            }
            let depth: i64 = counts
                .iter()
                .filter(|(s, _)| s == "received" || s == "failed")
                .map(|(_, n)| n)
                .sum();
            metrics::gauge!("px360_queue_depth").set(depth as f64);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
