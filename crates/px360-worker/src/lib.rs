//! PX360 durable worker: the job queue and its consumers, on apalis.
//!
//! Owns the [`queue::JobQueue`] (apalis-sqlite in its own file next to the application
//! database, or apalis-postgres in schema `apalis` of the application's PostgreSQL database),
//! the event-batch and maintenance job handlers ([`events`]), and the beat ([`beat`]).
//!
//! Why apalis rather than the application table as a queue: apalis gives at-least-once
//! delivery with locking (`FOR UPDATE SKIP LOCKED` and LISTEN/NOTIFY on PostgreSQL), worker
//! heartbeats with re-enqueueing of a dead worker's jobs, scheduled jobs and retries, all
//! maintained upstream. `inbound_events` stays the system of record of each event's status:
//! jobs only carry event ids, and applying a batch skips events that are no longer due, so a
//! job delivered twice changes nothing twice. An event committed but never enqueued (crash
//! between commit and push) is found by the sweeper.

pub mod actions;
pub mod beat;
pub mod events;
pub mod notify;
pub mod queue;
pub mod sla;
pub mod surveys;
pub mod weekly_email;

use apalis::layers::retry::backoff::{ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use apalis::layers::retry::{BackoffRetryPolicy, HasherRng};
use apalis::prelude::*;
use futures::FutureExt;
use px360_store::Db;
use queue::{EVENTS_QUEUE, EventBatch, JobQueue, MAINTENANCE_QUEUE, Maintenance, Store};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub use queue::{QueueConfig, QueueError};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process (recorded as `processed_by` on each event; apalis worker names are
    /// derived from it, and apalis refuses two live workers with one name).
    pub id: String,
    /// Event jobs applied at once (0: no workers, an API-only process).
    pub concurrency: usize,
    /// Events applied per transaction (amortises the commit and, on SQLite, the single writer
    /// slot shared with the API); a job's batch is split into transactions of this size.
    pub batch: usize,
    /// Test hook: hold every claimed batch this long before applying it (kill tests).
    pub hold: Option<Duration>,
    /// The sweeper enqueues events still `received` this long after arrival (or failed with a
    /// retry this overdue): their job was lost.
    pub sweep_grace: Duration,
    /// Finished jobs are deleted from the job storage after this long.
    pub job_retention: Duration,
}

impl WorkerConfig {
    pub fn new(id: impl Into<String>, backend: px360_store::Backend) -> Self {
        Self {
            id: id.into(),
            concurrency: match backend {
                px360_store::Backend::Sqlite => 1,
                px360_store::Backend::Postgres => 4,
            },
            batch: 64,
            hold: None,
            sweep_grace: Duration::from_secs(60),
            job_retention: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] px360_store::StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// State shared by the job handlers.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) db: Db,
    pub(crate) queue: JobQueue,
    pub(crate) cfg: WorkerConfig,
}

/// A job that fails as a whole (database unavailable) is retried in place with exponential
/// backoff; after that apalis re-delivers it (up to its `max_attempts`), and past that the
/// sweeper still finds its events.
fn retry_policy() -> BackoffRetryPolicy<ExponentialBackoff> {
    let backoff = ExponentialBackoffMaker::new(
        Duration::from_millis(200),
        Duration::from_secs(10),
        0.5,
        HasherRng::default(),
    )
    .expect("constant backoff parameters are valid")
    .make_backoff();
    RetryPolicy::retries(4).with_backoff(backoff)
}

/// Build and run one apalis worker on whichever storage the queue has, until `stop`.
macro_rules! run_worker {
    ($q:expr, $queue:expr, $args:ty, $name:expr, $concurrency:expr, $ctx:expr, $handler:expr, $stop:expr) => {
        match &$q.store {
            Store::Sqlite(pool) => {
                let backend = apalis_sqlite::SqliteStorage::<$args>::new(pool)
                    .with_config($q.sqlite_config($queue))
                    .poll_with_strategy($q.strategy($queue));
                WorkerBuilder::new($name)
                    .backend(backend)
                    .data($ctx)
                    .concurrency($concurrency)
                    .retry(retry_policy())
                    .build($handler)
                    .run_until($stop)
                    .await
            }
            Store::Postgres(pool) => {
                let backend = apalis_postgres::PostgresStorage::<$args>::new(pool)
                    .with_config($q.postgres_config($queue))
                    .poll_with_strategy($q.strategy($queue));
                WorkerBuilder::new($name)
                    .backend(backend)
                    .data($ctx)
                    .concurrency($concurrency)
                    .retry(retry_policy())
                    .build($handler)
                    .run_until($stop)
                    .await
            }
        }
    };
}

/// A future that resolves when `shutdown` turns true (apalis' stop signal).
async fn stop_signal(mut shutdown: watch::Receiver<bool>) -> Result<(), std::io::Error> {
    let _ = shutdown.wait_for(|s| *s).await;
    Ok(())
}

/// Run the event worker (`concurrency` jobs at once) and the maintenance worker until
/// `shutdown` turns true; in-flight jobs finish first and fetched-but-unstarted jobs go back to
/// the queue. A worker whose storage fails (database down) is restarted with backoff under a
/// new apalis name; its old jobs are re-enqueued by heartbeat once the old name goes silent.
pub async fn run(db: Db, queue: JobQueue, cfg: WorkerConfig, shutdown: watch::Receiver<bool>) {
    if cfg.concurrency == 0 {
        return;
    }
    let ctx = Ctx {
        db,
        queue: queue.clone(),
        cfg: cfg.clone(),
    };
    let events = {
        let (ctx, queue, stop) = (ctx.clone(), queue.clone(), shutdown.clone());
        supervise("events", shutdown.clone(), move |restart| {
            let (ctx, queue, stop) = (ctx.clone(), queue.clone(), stop.clone());
            let name = format!("{}-events-{restart}", ctx.cfg.id);
            let concurrency = ctx.cfg.concurrency;
            async move {
                run_worker!(
                    queue,
                    EVENTS_QUEUE,
                    EventBatch,
                    name.clone(),
                    concurrency,
                    ctx,
                    events::apply_batch,
                    stop_signal(stop)
                )
            }
        })
    };
    let maintenance = {
        let stop = shutdown.clone();
        supervise("maintenance", shutdown.clone(), move |restart| {
            let (ctx, queue, stop) = (ctx.clone(), queue.clone(), stop.clone());
            let name = format!("{}-maintenance-{restart}", ctx.cfg.id);
            async move {
                run_worker!(
                    queue,
                    MAINTENANCE_QUEUE,
                    Maintenance,
                    name.clone(),
                    1,
                    ctx,
                    events::run_maintenance,
                    stop_signal(stop)
                )
            }
        })
    };
    // Each worker in its own task: apalis fetches whenever a worker is polled, so two workers
    // sharing one task (and its waker) would wake each other with every fetch, forever.
    let (events, maintenance) = (tokio::spawn(events), tokio::spawn(maintenance));
    let _ = events.await;
    let _ = maintenance.await;
}

/// Keep a worker running until `shutdown`: restart it with backoff when it ends with an error.
pub(crate) async fn supervise<F, Fut>(
    label: &'static str,
    mut shutdown: watch::Receiver<bool>,
    mut start: F,
) where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let mut backoff = Duration::from_secs(1);
    for restart in 0.. {
        if *shutdown.borrow() {
            break;
        }
        let started = Instant::now();
        // A panicking job takes its worker down with it: restart the worker like any other
        // failure (the job goes back to the queue when the dead name's heartbeat times out).
        let result = std::panic::AssertUnwindSafe(start(restart))
            .catch_unwind()
            .await;
        if *shutdown.borrow() {
            break;
        }
        match result {
            Ok(Ok(())) => tracing::warn!(worker = label, "worker.stopped_unexpectedly"),
            Ok(Err(e)) => tracing::warn!(worker = label, error = %e, "worker.failed"),
            Err(_) => tracing::error!(worker = label, "worker.panicked"),
        }
        if started.elapsed() > Duration::from_secs(60) {
            backoff = Duration::from_secs(1);
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Refresh queue gauges (per process; Prometheus scrapes each process).
pub async fn stats_loop(db: Db, queue: JobQueue, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Ok(counts) = db.event_counts(None).await {
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
        for q in [EVENTS_QUEUE, MAINTENANCE_QUEUE] {
            if let Ok(n) = queue.pending(q).await {
                metrics::gauge!("px360_jobs_pending", "queue" => q).set(n as f64);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
