//! PX360 storage: one schema on SQLite (embedded default) and PostgreSQL (`postgres://`).
//!
//! Owns the migrations (`migrations/sqlite`, `migrations/postgres`), the repositories for every
//! table, the demo seed and the audit hash chain writer. Raw sqlx through `sqlx::Any` is used
//! instead of sea-orm: the schema is small, the SQL is portable (`$n` placeholders work on both),
//! and the hot paths (event ingestion, stage completion, audit append) need exact control over
//! statement order; see the crate README.
//!
//! Invariant for SQLite: every write transaction starts with a write statement, so it takes the
//! write lock up front (waiting on `busy_timeout`) instead of failing on a read→write upgrade.

pub mod action_rules;
pub mod actions;
pub mod analytics;
pub mod attachments;
pub mod audit;
pub mod auth;
mod bulk;
pub mod callcentre;
pub mod checkpoint;
pub mod complaint_search;
pub mod complaints;
pub mod constraint;
pub mod dependents;
pub mod employees;
pub mod events;
pub mod failure;
pub mod feedback;
pub mod journeys;
pub mod lookups;
pub mod notify_email;
pub mod org;
pub mod page;
mod process;
pub mod qi;
pub mod row;
pub mod schedules;
pub mod seed;
pub mod sentiment;
pub mod sla;
pub mod social;
pub mod survey_page;
pub mod surveys;
pub mod templates;
pub mod voice_demo;
pub mod weekly_report;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::time::Duration;
use uuid::Uuid;

pub use px360_domain::{now_ts, ts};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    /// A write broke a unique, foreign-key, not-null or check constraint.
    #[error("constraint violation: {0:?}")]
    Constraint(constraint::Violation),
    /// The database is not reachable (pool closed or timed out, connection lost): the caller
    /// should answer 503, never treat it as "no such object".
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite: or postgres:)")]
    UnsupportedUrl,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if server_going_away(d.code().as_deref()) => {
                StoreError::Unavailable(e)
            }
            sqlx::Error::Database(d) => match constraint::Violation::from_db(d.as_ref()) {
                Some(v) => StoreError::Constraint(v),
                None => StoreError::Db(e),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            _ => StoreError::Db(e),
        }
    }
}

/// PostgreSQL's answers when the server is stopping, starting or lost (SQLSTATE class 08
/// "connection exception", 57P01-57P03 "admin/crash shutdown, cannot connect now"): a pooled
/// connection to a server being stopped gets these instead of an I/O error, and they are an
/// outage (503), not an internal error.
fn server_going_away(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03"))
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A write transaction on either backend.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle on the application database.
///
/// `writer` carries every write transaction. On SQLite it is a single connection, so writers
/// queue in-process (cheap, fair) instead of spinning on `busy_timeout`, and readers on `pool`
/// never wait for a writer (WAL). On PostgreSQL both are the same pool.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub writer: AnyPool,
    pub backend: Backend,
}

impl Db {
    /// Connect (creating a SQLite file if needed) and run migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let opts = || {
            let o = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
            match backend {
                Backend::Sqlite => o.after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        Ok(())
                    })
                }),
                // Plan every execution with its real parameters. The list queries filter with
                // `($1 IS NULL OR col = $1)`; once PostgreSQL switches such a prepared statement
                // to its generic plan it cannot use an index for either case, and a page of the
                // newest journeys became a sequential scan and sort (0.1 ms → 54 ms at 38k rows).
                Backend::Postgres => o.after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("SET plan_cache_mode = force_custom_plan")
                            .await?;
                        Ok(())
                    })
                }),
            }
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let writer = opts().max_connections(1).connect(&url).await?;
                (opts().max_connections(8).connect(&url).await?, writer)
            }
            Backend::Postgres => {
                let p = opts().max_connections(16).connect(&url).await?;
                (p.clone(), p)
            }
        };
        let db = Db {
            pool,
            writer,
            backend,
        };
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.writer).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.writer).await?,
        }
        Ok(())
    }

    /// Cheap liveness probe for `/health/`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Set a setting only if it is absent; returns the value that is now stored (first writer wins,
    /// so concurrent first starts agree on e.g. the JWT signing key).
    pub async fn setting_init(&self, key: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.writer)
        .await?;
        self.setting(key).await?.ok_or(StoreError::NotFound)
    }
}

pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}
