//! The append-only audit trail: every inbound transaction and every upstream call.
//!
//! Nothing is disclosed without an audit record. Every event is first appended to a durable
//! local spool ([`spool`]: an append-only file in the data directory, fsync'd in group
//! commits); a request that discloses a record waits for its own event's fsync
//! ([`AuditLog::record_durable`]) and is refused when the spool cannot be written. A
//! background writer ([`drain`]) copies the spool into the database ([`store`]: SQLite or
//! PostgreSQL, append-only, idempotent by event id) and replays it after a database outage or
//! a restart; drained segments are deleted.

mod drain;
mod spool;
mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use service_kit::health::{Check, Status};
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

pub use spool::private_dir;
use spool::{Counters, Pos, Req};

/// Inbound transaction or upstream call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Transaction,
    Upstream,
}

impl Category {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Category::Transaction => "transaction",
            Category::Upstream => "upstream",
        }
    }
}

/// One audit record. `patient_pseudonym` is a [`crate::pseudonym::Pseudonymiser`] output,
/// never an NHS number: the type of the field cannot enforce that, so constructors that take
/// an NHS number are deliberately absent here and live in the flow, next to the pseudonymiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub category: Category,
    pub transaction: &'static str,
    pub outcome: String,
    pub error_code: Option<String>,
    pub patient_pseudonym: Option<String>,
    pub user_id: Option<String>,
    pub user_role: Option<String>,
    pub organisation: Option<String>,
    pub purpose_of_use: Option<String>,
    pub message_id: Option<String>,
    pub relates_to: Option<String>,
    pub trace_id: Option<String>,
    pub document_id: Option<String>,
    pub client_addr: Option<String>,
    pub duration_ms: Option<i64>,
}

impl AuditEvent {
    pub fn new(category: Category, transaction: &'static str, outcome: impl Into<String>) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            category,
            transaction,
            outcome: outcome.into(),
            error_code: None,
            patient_pseudonym: None,
            user_id: None,
            user_role: None,
            organisation: None,
            purpose_of_use: None,
            message_id: None,
            relates_to: None,
            trace_id: None,
            document_id: None,
            client_addr: None,
            duration_ms: None,
        }
    }
}

/// An event as stored: a spool line's JSON, a database row, and what [`AuditLog::recent`]
/// reads back. Owned strings (the id and timestamp in their stored text form).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: String,
    pub category: String,
    /// `transaction` in the spool's JSON (the column name avoids an SQL keyword).
    #[serde(rename = "transaction")]
    pub transaction_name: String,
    pub outcome: String,
    pub error_code: Option<String>,
    pub patient_pseudonym: Option<String>,
    pub user_id: Option<String>,
    pub user_role: Option<String>,
    pub organisation: Option<String>,
    pub purpose_of_use: Option<String>,
    pub message_id: Option<String>,
    pub relates_to: Option<String>,
    pub trace_id: Option<String>,
    pub document_id: Option<String>,
    pub client_addr: Option<String>,
    pub duration_ms: Option<i64>,
}

impl From<AuditEvent> for AuditRow {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            occurred_at: e
                .occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            category: e.category.as_str().to_owned(),
            transaction_name: e.transaction.to_owned(),
            outcome: e.outcome,
            error_code: e.error_code,
            patient_pseudonym: e.patient_pseudonym,
            user_id: e.user_id,
            user_role: e.user_role,
            organisation: e.organisation,
            purpose_of_use: e.purpose_of_use,
            message_id: e.message_id,
            relates_to: e.relates_to,
            trace_id: e.trace_id,
            document_id: e.document_id,
            client_addr: e.client_addr,
            duration_ms: e.duration_ms,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit store: {0}")]
    Database(String),
    #[error("audit store migration failed: {0}")]
    Migrate(String),
    #[error("audit data directory or spool: {0}")]
    Io(#[from] std::io::Error),
    #[error("the audit spool cannot be written: {0}")]
    Spool(String),
    #[error("the audit writer has stopped")]
    WriterStopped,
}

/// Where the spool lives and how large a segment grows before it is sealed.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    pub dir: PathBuf,
    pub segment_bytes: u64,
}

impl SpoolOptions {
    /// `data_dir/audit-spool`, 1 MiB segments.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("audit-spool"),
            segment_bytes: 1024 * 1024,
        }
    }
}

/// Handle to the audit trail; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    pool: AnyPool,
    tx: mpsc::Sender<Req>,
    backend: &'static str,
    counters: Arc<Counters>,
    drained: watch::Receiver<Pos>,
    stop: Arc<watch::Sender<bool>>,
    /// The spool directory's lock, held until [`AuditLog::close`] (or the last handle goes).
    lock: Arc<std::sync::Mutex<Option<std::fs::File>>>,
}

impl AuditLog {
    /// Opens (and migrates) PostgreSQL when `database_url` is set, otherwise
    /// `data_dir/audit.db`, with the spool in `data_dir/audit-spool`.
    pub async fn open(
        database_url: Option<&SecretString>,
        data_dir: &Path,
    ) -> Result<Self, AuditError> {
        Self::open_with(database_url, data_dir, SpoolOptions::in_data_dir(data_dir)).await
    }

    /// As [`AuditLog::open`] with the spool where `spool` says. The spool is opened before the
    /// database: events left by a previous run are replayed once the database is reachable.
    pub async fn open_with(
        database_url: Option<&SecretString>,
        data_dir: &Path,
        spool: SpoolOptions,
    ) -> Result<Self, AuditError> {
        private_dir(data_dir)?;
        let counters = Arc::new(Counters::default());
        let opened = spool::open(&spool.dir, spool.segment_bytes.max(4096), counters.clone())?;
        let (pool, backend) = store::open(database_url, data_dir).await?;
        let (drained_tx, drained) = watch::channel((opened.first, 0));
        let (stop, stop_rx) = watch::channel(false);
        counters.publish();
        tokio::spawn(
            drain::Drainer {
                dir: spool.dir.clone(),
                pool: pool.clone(),
                durable: opened.durable,
                drained: drained_tx,
                counters: counters.clone(),
                cursor: (opened.first, 0),
                stop: stop_rx,
            }
            .run(),
        );
        Ok(Self {
            pool,
            tx: opened.tx,
            backend,
            counters,
            drained,
            stop: Arc::new(stop),
            lock: Arc::new(std::sync::Mutex::new(Some(opened.lock))),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Spools an event without waiting for its fsync (upstream calls, refusals: nothing is
    /// disclosed by them, and a later [`AuditLog::record_durable`] covers them, since the
    /// spool commits in order). Waits only when the spool queue is full.
    pub async fn record(&self, event: AuditEvent) {
        let line = spool::encode(&AuditRow::from(event));
        if self
            .tx
            .send(Req::Append { line, done: None })
            .await
            .is_err()
        {
            metrics::counter!("xhuma_audit_spool_errors_total").increment(1);
            tracing::error!("audit spool writer stopped; event dropped");
        }
    }

    /// Spools an event and waits until it (and everything spooled before it) is fsync'd.
    /// Call before disclosing anything; on an error, refuse the request.
    pub async fn record_durable(&self, event: AuditEvent) -> Result<(), AuditError> {
        let line = spool::encode(&AuditRow::from(event));
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Req::Append {
                line,
                done: Some(done),
            })
            .await
            .map_err(|_| AuditError::WriterStopped)?;
        rx.await
            .map_err(|_| AuditError::WriterStopped)?
            .map_err(AuditError::Spool)
    }

    /// Waits until everything recorded so far is in the database.
    pub async fn flush(&self) -> Result<(), AuditError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Req::Sync(tx))
            .await
            .map_err(|_| AuditError::WriterStopped)?;
        let pos = rx
            .await
            .map_err(|_| AuditError::WriterStopped)?
            .map_err(AuditError::Spool)?;
        let mut drained = self.drained.clone();
        drained
            .wait_for(|p| *p >= pos)
            .await
            .map(|_| ())
            .map_err(|_| AuditError::WriterStopped)
    }

    /// Events durably spooled but not yet in the database (also the gauge
    /// `xhuma_audit_backlog_events`).
    pub fn backlog(&self) -> u64 {
        self.counters.backlog()
    }

    /// Seals the active spool segment, so that once drained it is deleted.
    pub async fn rotate(&self) {
        let _ = self.tx.send(Req::Rotate).await;
    }

    /// Database reachability (the spool is checked by [`AuditLog::health`]).
    pub async fn ping(&self) -> Result<(), AuditError> {
        if self.tx.is_closed() {
            return Err(AuditError::WriterStopped);
        }
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(store::db)
    }

    /// Readiness: failed when the spool cannot be written (disclosing requests are refused),
    /// degraded while the database is unreachable (requests are served and spooled), with the
    /// backlog in the detail.
    pub async fn health(&self) -> Check {
        let started = std::time::Instant::now();
        if self.tx.is_closed() || self.counters.broken.load(Ordering::Acquire) {
            return Check::with(
                Status::Fail,
                "the audit spool cannot be written; requests that disclose records are refused",
                started.elapsed(),
            );
        }
        let ping = tokio::time::timeout(Duration::from_secs(2), self.ping()).await;
        let backlog = self.backlog();
        match ping {
            Ok(Ok(())) if backlog == 0 => Check::ok(started.elapsed()),
            Ok(Ok(())) => Check::with(
                Status::Ok,
                format!("{backlog} events spooled, being written"),
                started.elapsed(),
            ),
            Ok(Err(e)) => Check::with(
                Status::Degraded,
                format!("{e}; {backlog} events held in the spool until it returns"),
                started.elapsed(),
            ),
            Err(_) => Check::with(
                Status::Degraded,
                format!("audit store: no answer within 2 s; {backlog} events held in the spool"),
                started.elapsed(),
            ),
        }
    }

    /// The most recent `limit` rows in the database, newest first.
    pub async fn recent(&self, limit: i64) -> Result<Vec<AuditRow>, AuditError> {
        sqlx::query_as::<_, AuditRow>(
            "SELECT id, occurred_at, category, transaction_name, outcome, error_code, \
             patient_pseudonym, user_id, user_role, organisation, purpose_of_use, message_id, \
             relates_to, trace_id, document_id, client_addr, duration_ms \
             FROM audit_event ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(store::db)
    }

    /// The pool, for tests that check the append-only guard.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// At shutdown: waits (at most 5 s) for the database to catch up, stops the background
    /// writer and closes the pool. Whatever is not yet stored stays in the spool and is
    /// replayed at the next start.
    pub async fn close(&self) {
        // Sealing the active segment first lets the drainer delete it once stored.
        self.rotate().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.flush()).await;
        let _ = self.stop.send(true);
        self.pool.close().await;
        let (done, stopped) = oneshot::channel();
        if self.tx.send(Req::Close(done)).await.is_ok() {
            let _ = stopped.await;
        }
        // Another AuditLog (a restarted gateway in the same process) may now open the spool.
        if let Ok(mut l) = self.lock.lock() {
            l.take();
        }
    }
}
