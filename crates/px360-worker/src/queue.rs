//! The job queue: apalis storage (apalis-sqlite in its own file next to the application database,
//! or apalis-postgres in schema `apalis` of the application's PostgreSQL database), the job
//! argument types, pushing, wake-ups and housekeeping queries.
//!
//! Jobs carry event ids, never payloads: `inbound_events` stays the system of record and the
//! jobs table holds no patient data.

use apalis::prelude::{Strategy, TaskBuilder};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// Queue (apalis `job_type`) of event batches.
pub const EVENTS_QUEUE: &str = "px360.events";
/// Queue of scheduled maintenance jobs (pushed by the beat).
pub const MAINTENANCE_QUEUE: &str = "px360.maintenance";
/// Delivery attempts of one job (in-process retries included) before apalis gives up on it;
/// the sweeper still finds its events afterwards.
const MAX_ATTEMPTS: usize = 25;

/// A batch of accepted events to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBatch {
    pub ids: Vec<String>,
}

/// A scheduled job whose slot the beat claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    pub job: crate::beat::Job,
    /// The claimed slot (storage timestamp format), for tracing duplicates across processes.
    pub slot: String,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job storage: {0}")]
    Db(#[from] sqlx::Error),
    #[error("job storage migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("job storage (PostgreSQL): {0}")]
    Postgres(#[from] apalis_postgres::Error),
    #[error("job storage (SQLite): {0}")]
    Sqlite(#[from] apalis_sqlite::Error),
    #[error("job arguments: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("unsupported database URL for jobs (expected sqlite: or postgres:)")]
    UnsupportedUrl,
}

/// Liveness and polling settings of the job storage.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Worker heartbeat. A worker silent for `missed_heartbeats` of these is dead, and another
    /// worker's heartbeat re-enqueues its jobs (apalis orphan recovery).
    pub heartbeat: Duration,
    pub missed_heartbeats: usize,
    /// Safety poll: catches jobs pushed by other processes on SQLite (no cross-process
    /// notification), scheduled retries coming due, and lost PostgreSQL notifications.
    pub poll_interval: Duration,
    /// Jobs fetched (and locked) per poll.
    pub fetch_batch: usize,
    /// Most event ids carried by one job (accepted batches are coalesced up to this).
    pub push_batch: usize,
    /// PostgreSQL connections for the job storage (each PostgreSQL worker also holds one for
    /// LISTEN). SQLite uses a single connection to the jobs file.
    pub max_connections: u32,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(10),
            missed_heartbeats: 3,
            poll_interval: Duration::from_millis(500),
            fetch_batch: 8,
            push_batch: 256,
            max_connections: 8,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// In-process wake-ups: a push wakes this process's workers of that queue at once instead of
/// at their next poll (PostgreSQL also delivers LISTEN/NOTIFY to other processes).
#[derive(Clone, Default)]
pub(crate) struct Hub(Arc<Mutex<Vec<futures::channel::mpsc::Sender<()>>>>);

impl Hub {
    pub(crate) fn subscribe(&self) -> futures::channel::mpsc::Receiver<()> {
        // Capacity one per sender: wake-ups coalesce while the worker is busy.
        let (tx, rx) = futures::channel::mpsc::channel(0);
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        rx
    }

    fn notify(&self) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain_mut(|tx| match tx.try_send(()) {
                Ok(()) => true,
                Err(e) => e.is_full(),
            });
    }
}

/// Handle on the job queue: push jobs, count them, and (in [`crate::run`]) consume them.
/// Cheap to clone; the API holds one to enqueue accepted events.
#[derive(Clone)]
pub struct JobQueue {
    pub(crate) store: Store,
    pub(crate) cfg: QueueConfig,
    events_hub: Hub,
    maintenance_hub: Hub,
    intake: mpsc::Sender<Vec<String>>,
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueue")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl JobQueue {
    /// Open (creating and migrating) the job storage that belongs to `app_url`: on PostgreSQL
    /// the same database (schema `apalis`), on SQLite `<name>-jobs.db` next to the application
    /// file unless `jobs_url` names another SQLite file. Apalis keeps its own `_sqlx_migrations`,
    /// which is why it cannot share the application's SQLite file.
    pub async fn open(
        app_url: &str,
        jobs_url: Option<&str>,
        cfg: QueueConfig,
    ) -> Result<Self, QueueError> {
        let store = if app_url.starts_with("postgres:") || app_url.starts_with("postgresql:") {
            // Job rows need not wait for their WAL flush: jobs only carry event ids, and if
            // PostgreSQL crashed before a flush, the sweeper re-enqueues the events from
            // `inbound_events` (the system of record, written synchronously). Waiting would
            // queue every push, fetch and ack flush in front of intake's.
            let opts = sqlx::postgres::PgConnectOptions::from_str(app_url)?
                .options([("synchronous_commit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(cfg.max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            apalis_postgres::PostgresStorage::setup(&pool).await?;
            Store::Postgres(pool)
        } else if app_url.starts_with("sqlite:") {
            let url = match jobs_url {
                Some(u) => u.to_owned(),
                None => jobs_sqlite_url(app_url),
            };
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let opts = SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL, not apalis' own OFF: a crash of the process loses nothing, as for
                // the application database.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10));
            // One connection: every job-storage write in this process (push, fetch, lock, ack,
            // heartbeat) queues in-process instead of in SQLite's busy handler, which sleeps up
            // to 100 ms between retries. Other processes still wait on `busy_timeout`.
            let mut pool_opts = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30));
            if memory {
                // A shared in-memory database lives only while a connection is open.
                pool_opts = pool_opts
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            let pool = pool_opts.connect_with(opts).await?;
            // Apalis' own `setup()` would also switch the file to `synchronous = OFF`.
            apalis_sqlite::SqliteStorage::migrations()
                .run(&pool)
                .await?;
            Store::Sqlite(pool)
        } else {
            return Err(QueueError::UnsupportedUrl);
        };
        let (intake, rx) = mpsc::channel(1024);
        let q = Self {
            store,
            cfg,
            events_hub: Hub::default(),
            maintenance_hub: Hub::default(),
            intake,
        };
        tokio::spawn(pusher(q.clone_without_intake(), rx));
        Ok(q)
    }

    /// A handle for the pusher task that does not keep its own channel open.
    fn clone_without_intake(&self) -> Self {
        let (intake, _) = mpsc::channel(1);
        Self {
            store: self.store.clone(),
            cfg: self.cfg.clone(),
            events_hub: self.events_hub.clone(),
            maintenance_hub: self.maintenance_hub.clone(),
            intake,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self.store {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Hand accepted event ids to the background pusher (never blocks the intake path). If the
    /// push is lost (full channel, storage error, crash), the sweeper re-enqueues the events.
    pub fn enqueue_events(&self, ids: Vec<String>) {
        if self.intake.try_send(ids).is_err() {
            metrics::counter!("px360_job_push_failures_total", "queue" => EVENTS_QUEUE)
                .increment(1);
            tracing::warn!("jobs.intake_channel_full");
        }
    }

    /// The intake hook for [`px360_store::events::IntakeQueue`].
    pub fn accept_hook(&self) -> px360_store::events::AcceptHook {
        let q = self.clone();
        Arc::new(move |ids| q.enqueue_events(ids))
    }

    /// Push one job for `ids` now, or at `run_at` (Unix seconds).
    pub async fn push_events(
        &self,
        ids: Vec<String>,
        run_at: Option<u64>,
    ) -> Result<(), QueueError> {
        let args = serde_json::to_vec(&EventBatch { ids })?;
        self.push(EVENTS_QUEUE, args, run_at).await?;
        self.events_hub.notify();
        Ok(())
    }

    pub async fn push_maintenance(&self, job: Maintenance) -> Result<(), QueueError> {
        let args = serde_json::to_vec(&job)?;
        self.push(MAINTENANCE_QUEUE, args, None).await?;
        self.maintenance_hub.notify();
        Ok(())
    }

    async fn push(
        &self,
        queue: &str,
        args: Vec<u8>,
        run_at: Option<u64>,
    ) -> Result<(), QueueError> {
        let mut b = TaskBuilder::new(args).max_attempts(MAX_ATTEMPTS);
        if let Some(t) = run_at {
            b = b.run_at_timestamp(t);
        }
        let task = b.build();
        match &self.store {
            Store::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                apalis_sqlite::queries::push_tasks(&mut *conn, queue, &[task]).await?;
            }
            Store::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                apalis_postgres::queries::push_tasks(&mut *conn, queue, vec![task]).await?;
            }
        }
        Ok(())
    }

    /// Jobs of `queue` waiting or running (failed ones with attempts left included).
    pub async fn pending(&self, queue: &str) -> Result<i64, QueueError> {
        let active = "(status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))";
        Ok(match &self.store {
            Store::Sqlite(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM Jobs WHERE job_type = ?1 AND {active}"
                )))
                .bind(queue)
                .fetch_one(pool)
                .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM apalis.jobs WHERE job_type = $1 AND {active}"
                )))
                .bind(queue)
                .fetch_one(pool)
                .await?
            }
        })
    }

    /// Delete finished jobs older than `keep` and workers not seen for a day that hold none:
    /// apalis keeps every job forever otherwise. Returns the jobs deleted.
    pub async fn prune(&self, keep: Duration) -> Result<u64, QueueError> {
        let now = unix_now();
        let before = now.saturating_sub(keep.as_secs()) as i64;
        let workers_before = now.saturating_sub(86_400) as i64;
        let finished =
            "(status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts))";
        Ok(match &self.store {
            Store::Sqlite(pool) => {
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM Jobs WHERE {finished} AND done_at < ?1"
                )))
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected();
                sqlx::query("DELETE FROM Workers WHERE last_seen < ?1 AND id NOT IN (SELECT lock_by FROM Jobs WHERE lock_by IS NOT NULL)")
                    .bind(workers_before)
                    .execute(pool)
                    .await?;
                n
            }
            Store::Postgres(pool) => {
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM apalis.jobs WHERE {finished} AND done_at < to_timestamp($1)"
                )))
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected();
                sqlx::query("DELETE FROM apalis.workers w WHERE last_seen < to_timestamp($1) AND NOT EXISTS (SELECT 1 FROM apalis.jobs j WHERE j.lock_by = w.id)")
                    .bind(workers_before)
                    .execute(pool)
                    .await?;
                n
            }
        })
    }

    /// Cheap liveness probe of the job storage for `/health/`.
    pub async fn ping(&self) -> Result<(), QueueError> {
        match &self.store {
            Store::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Store::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// What wakes a worker of `queue`: this process's pushes, PostgreSQL notifications, and the
    /// safety poll.
    pub(crate) fn strategy(&self, queue: &str) -> Strategy {
        let hub = if queue == EVENTS_QUEUE {
            &self.events_hub
        } else {
            &self.maintenance_hub
        };
        let mut s = Strategy::new().stream(hub.subscribe());
        if let Store::Postgres(pool) = &self.store {
            s = s.stream(apalis_postgres::Pubsub::new(pool.clone(), queue.to_owned()));
        }
        s.interval(self.cfg.poll_interval)
    }

    pub(crate) fn sqlite_config(&self, queue: &str) -> apalis_sqlite::Config {
        apalis_sqlite::Config::default()
            .queue(queue)
            .batch_size(self.cfg.fetch_batch.max(1))
            .heartbeat_interval(self.cfg.heartbeat)
            .missed_heartbeats(self.cfg.missed_heartbeats)
            // The acknowledgement that marks a job done travels with its (empty) result.
            .persist_results(true)
    }

    pub(crate) fn postgres_config(&self, queue: &str) -> apalis_postgres::Config {
        apalis_postgres::Config::default()
            .queue(queue)
            .batch_size(self.cfg.fetch_batch.max(1))
            .heartbeat_interval(self.cfg.heartbeat)
            .missed_heartbeats(self.cfg.missed_heartbeats)
            .persist_results(true)
    }
}

/// Coalesces accepted batches into jobs of at most `push_batch` ids, off the request path.
/// How long the pusher waits for more accepted events before pushing a job that is not full.
/// Each job costs the worker a fixed few milliseconds (fetch, lock, transaction, ack): under a
/// steady stream of small intake batches, pushing each one as its own job made the worker fall
/// behind at a lower rate than bigger batches did. A few milliseconds of lingering is far below
/// the processing latency target.
const PUSH_LINGER: Duration = Duration::from_millis(15);

async fn pusher(q: JobQueue, mut rx: mpsc::Receiver<Vec<String>>) {
    let mut buf: Vec<Vec<String>> = Vec::new();
    let full = q.cfg.push_batch.max(1);
    while rx.recv_many(&mut buf, 64).await > 0 {
        let deadline = tokio::time::Instant::now() + PUSH_LINGER;
        while buf.iter().map(Vec::len).sum::<usize>() < full {
            match tokio::time::timeout_at(deadline, rx.recv_many(&mut buf, 64)).await {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        let ids: Vec<String> = buf.drain(..).flatten().collect();
        for chunk in ids.chunks(q.cfg.push_batch.max(1)) {
            if let Err(e) = q.push_events(chunk.to_vec(), None).await {
                // The events are committed; the sweeper enqueues them after its grace period.
                metrics::counter!("px360_job_push_failures_total", "queue" => EVENTS_QUEUE)
                    .increment(1);
                tracing::warn!(error = %e, events = chunk.len(), "jobs.push_failed");
            }
        }
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The jobs file for a SQLite application URL: `…/px360.db` → `…/px360-jobs.db`; an in-memory
/// application database gets an in-memory jobs database.
pub fn jobs_sqlite_url(app_url: &str) -> String {
    let rest = app_url
        .strip_prefix("sqlite://")
        .or_else(|| app_url.strip_prefix("sqlite:"))
        .unwrap_or(app_url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        // sqlx gives every `:memory:` pool its own shared-cache database.
        return "sqlite::memory:".into();
    }
    let p = std::path::Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("px360");
    let name = match p.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}-jobs.{ext}"),
        None => format!("{stem}-jobs"),
    };
    format!("sqlite://{}", p.with_file_name(name).display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_file_sits_next_to_the_app_database() {
        assert_eq!(
            jobs_sqlite_url("sqlite:///var/lib/px360/px360.db"),
            "sqlite:///var/lib/px360/px360-jobs.db"
        );
        assert_eq!(
            jobs_sqlite_url("sqlite://data/app.sqlite?mode=rwc"),
            "sqlite://data/app-jobs.sqlite"
        );
        assert_eq!(jobs_sqlite_url("sqlite:px360"), "sqlite://px360-jobs");
        assert_eq!(jobs_sqlite_url("sqlite::memory:"), "sqlite::memory:");
    }
}
