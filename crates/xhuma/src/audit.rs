//! The append-only audit trail: every inbound transaction and every upstream call.
//!
//! SQLite under the data directory by default, PostgreSQL when a database URL is given; one
//! set of portable migrations (`migrations/`) runs on both through sqlx's `Any` driver. The
//! store exposes no update or delete, and a trigger on each backend refuses them, so rows can
//! only be added. Events go through a bounded queue to a single writer that commits them in
//! batches: a request waits only to enqueue, and SQLite never sees competing writers.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Largest batch committed in one transaction.
const BATCH: usize = 256;

/// Inbound transaction or upstream call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Transaction,
    Upstream,
}

impl Category {
    fn as_str(self) -> &'static str {
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

/// A row as read back (for tests and operators' tooling).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: String,
    pub category: String,
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

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit store: {0}")]
    Database(String),
    #[error("audit store migration failed: {0}")]
    Migrate(String),
    #[error("cannot create the data directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("the audit writer has stopped")]
    WriterStopped,
}

fn db(e: sqlx::Error) -> AuditError {
    // sqlx error texts can include the connection URL for connect errors; keep the kind only.
    match e {
        sqlx::Error::Database(d) => AuditError::Database(d.message().to_owned()),
        other => AuditError::Database(format!("{}", ErrKind(&other))),
    }
}

struct ErrKind<'a>(&'a sqlx::Error);

impl std::fmt::Display for ErrKind<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            sqlx::Error::Io(e) => write!(f, "I/O error: {}", e.kind()),
            sqlx::Error::PoolTimedOut => f.write_str("connection pool timed out"),
            sqlx::Error::PoolClosed => f.write_str("connection pool closed"),
            sqlx::Error::Tls(_) => f.write_str("TLS error"),
            sqlx::Error::Configuration(_) => f.write_str("invalid database URL"),
            _ => f.write_str("database error"),
        }
    }
}

enum Msg {
    Event(Box<AuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// Handle to the audit store; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    pool: AnyPool,
    tx: mpsc::Sender<Msg>,
    backend: &'static str,
}

impl AuditLog {
    /// Opens (and migrates) PostgreSQL when `database_url` is set, otherwise
    /// `data_dir/audit.db`.
    pub async fn open(
        database_url: Option<&SecretString>,
        data_dir: &Path,
    ) -> Result<Self, AuditError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match database_url {
            Some(u) => (u.expose_secret().to_owned(), "postgres"),
            None => {
                std::fs::create_dir_all(data_dir)?;
                let path = data_dir.join("audit.db");
                (format!("sqlite://{}?mode=rwc", path.display()), "sqlite")
            }
        };
        let sqlite = backend == "sqlite";
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 2 } else { 4 })
            .acquire_timeout(Duration::from_secs(3))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(db)?;
        if sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(db)?;
        }
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| AuditError::Migrate(e.to_string()))?;
        install_append_only_guard(&pool, sqlite).await?;

        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(writer(pool.clone(), rx));
        Ok(Self { pool, tx, backend })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Queues an event. Waits only when the queue is full (the store is slower than traffic).
    pub async fn record(&self, event: AuditEvent) {
        if self.tx.send(Msg::Event(Box::new(event))).await.is_err() {
            metrics::counter!("xhuma_audit_write_errors_total").increment(1);
            tracing::error!("audit writer stopped; event dropped");
        }
    }

    /// Waits until everything queued so far is committed.
    pub async fn flush(&self) -> Result<(), AuditError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Flush(tx))
            .await
            .map_err(|_| AuditError::WriterStopped)?;
        rx.await.map_err(|_| AuditError::WriterStopped)
    }

    /// Readiness probe.
    pub async fn ping(&self) -> Result<(), AuditError> {
        if self.tx.is_closed() {
            return Err(AuditError::WriterStopped);
        }
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db)
    }

    /// The most recent `limit` rows, newest first.
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
        .map_err(db)
    }

    /// The pool, for tests that check the append-only guard.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pool (after a flush); used at shutdown and by tests that drop a database.
    pub async fn close(&self) {
        let _ = self.flush().await;
        self.pool.close().await;
    }
}

/// Refuses UPDATE and DELETE on the audit table. Trigger syntax differs per backend, so this
/// is applied (idempotently) after the shared migrations.
async fn install_append_only_guard(pool: &AnyPool, sqlite: bool) -> Result<(), AuditError> {
    let statements: &[&'static str] = if sqlite {
        &[
            "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event \
             BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
            "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event \
             BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
        ]
    } else {
        &[
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql",
            "CREATE OR REPLACE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON \
             audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        ]
    };
    for s in statements {
        sqlx::raw_sql(*s).execute(pool).await.map_err(db)?;
    }
    Ok(())
}

async fn writer(pool: AnyPool, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<AuditEvent> = Vec::with_capacity(BATCH);
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Event(e) => batch.push(*e),
                Msg::Flush(w) => waiters.push(w),
            }
            if batch.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let n = batch.len();
            // One retry covers a transient connection loss; then the batch is dropped and
            // counted, so a broken store cannot grow memory without bound.
            let mut ok = write_batch(&pool, &batch).await;
            if ok.is_err() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                ok = write_batch(&pool, &batch).await;
            }
            match ok {
                Ok(()) => metrics::counter!("xhuma_audit_events_total").increment(n as u64),
                Err(e) => {
                    metrics::counter!("xhuma_audit_write_errors_total").increment(n as u64);
                    tracing::error!(error = %e, events = n, "audit batch could not be written");
                }
            }
            batch.clear();
        }
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
    }
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Rows per INSERT statement: one statement per row would be a round trip each to sqlx's
/// SQLite worker thread (channel signalling showed up as a large share of the gateway's CPU in
/// a perf profile of the cached ITI-38 load).
const ROWS_PER_STATEMENT: usize = 32;
const COLUMNS: usize = 17;

/// `INSERT … VALUES (…), (…)` for `rows` rows. Placeholders are plain `?` on SQLite: sqlx
/// resolves numbered SQLite placeholders by name with `sqlite3_bind_parameter_name`, a linear
/// scan per parameter, so a multi-row statement with `$n` marks binds in quadratic time (at 64
/// rows it was a fifth of the gateway's CPU); `?` marks are bound by position. PostgreSQL takes
/// `$1 …`.
fn insert_sql(rows: usize, sqlite: bool) -> String {
    let mut sql = String::from(
        "INSERT INTO audit_event (id, occurred_at, category, transaction_name, outcome, \
         error_code, patient_pseudonym, user_id, user_role, organisation, purpose_of_use, \
         message_id, relates_to, trace_id, document_id, client_addr, duration_ms) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..COLUMNS {
            if c > 0 {
                sql.push_str(", ");
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(r * COLUMNS + c + 1).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

async fn write_batch(pool: &AnyPool, batch: &[AuditEvent]) -> Result<(), AuditError> {
    let mut tx = pool.begin().await.map_err(db)?;
    let sqlite = tx.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME;
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        // Only placeholders are generated; every value is bound.
        let sql = sqlx::AssertSqlSafe(insert_sql(chunk.len(), sqlite));
        let mut q = sqlx::query(sql);
        for e in chunk {
            q = q
                .bind(e.id.to_string())
                .bind(ts(&e.occurred_at))
                .bind(e.category.as_str())
                .bind(e.transaction)
                .bind(&e.outcome)
                .bind(&e.error_code)
                .bind(&e.patient_pseudonym)
                .bind(&e.user_id)
                .bind(&e.user_role)
                .bind(&e.organisation)
                .bind(&e.purpose_of_use)
                .bind(&e.message_id)
                .bind(&e.relates_to)
                .bind(&e.trace_id)
                .bind(&e.document_id)
                .bind(&e.client_addr)
                .bind(e.duration_ms);
        }
        q.execute(&mut *tx).await.map_err(db)?;
    }
    tx.commit().await.map_err(db)
}
