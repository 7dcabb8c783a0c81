//! The audit database: SQLite under the data directory by default, PostgreSQL when a
//! database URL is given; one set of portable migrations (`migrations/`) runs on both through
//! sqlx's `Any` driver. The store exposes no update or delete, and a trigger on each backend
//! refuses them, so rows can only be added. Inserts are idempotent by event id
//! (`ON CONFLICT (id) DO NOTHING`): replaying a spool segment after a crash between insert
//! and segment deletion never duplicates a row.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use super::AuditError;
use super::AuditRow;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub(crate) fn db(e: sqlx::Error) -> AuditError {
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

/// Opens (and migrates) PostgreSQL when `database_url` is set, otherwise
/// `data_dir/audit.db` (created 0600). Returns the pool and the backend name.
pub(crate) async fn open(
    database_url: Option<&SecretString>,
    data_dir: &Path,
) -> Result<(AnyPool, &'static str), AuditError> {
    sqlx::any::install_default_drivers();
    let (url, backend) = match database_url {
        Some(u) => (u.expose_secret().to_owned(), "postgres"),
        None => {
            let path = data_dir.join("audit.db");
            // Created here, private, before SQLite opens it: SQLite would create it with the
            // process umask, and gives its -wal and -shm files the database file's mode.
            super::spool::private_append(&path, false)?;
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
                    // The spool is the durable copy; the store may lag a crash by a commit.
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
    Ok((pool, backend))
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

/// Rows per INSERT statement: one statement per row would be a round trip each to sqlx's
/// SQLite worker thread (channel signalling showed up as a large share of the gateway's CPU in
/// a perf profile of the cached ITI-38 load).
const ROWS_PER_STATEMENT: usize = 32;
const COLUMNS: usize = 17;

/// `INSERT … VALUES (…), (…) ON CONFLICT (id) DO NOTHING` for `rows` rows. Placeholders are
/// plain `?` on SQLite: sqlx resolves numbered SQLite placeholders by name with
/// `sqlite3_bind_parameter_name`, a linear scan per parameter, so a multi-row statement with
/// `$n` marks binds in quadratic time (at 64 rows it was a fifth of the gateway's CPU); `?`
/// marks are bound by position. PostgreSQL takes `$1 …`.
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
    sql.push_str(" ON CONFLICT (id) DO NOTHING");
    sql
}

/// Inserts `batch` in one transaction; rows already present are left as they are.
pub(crate) async fn insert(pool: &AnyPool, batch: &[AuditRow]) -> Result<(), AuditError> {
    let mut tx = pool.begin().await.map_err(db)?;
    let sqlite = tx.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME;
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        // Only placeholders are generated; every value is bound.
        let sql = sqlx::AssertSqlSafe(insert_sql(chunk.len(), sqlite));
        let mut q = sqlx::query(sql);
        for e in chunk {
            q = q
                .bind(&e.id)
                .bind(&e.occurred_at)
                .bind(&e.category)
                .bind(&e.transaction_name)
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
