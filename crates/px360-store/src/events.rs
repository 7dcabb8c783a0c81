//! Inbound integration events: durable intake with de-duplication, status and retry bookkeeping.

use crate::audit::{AuditEntry, append_many};
use crate::row;
use crate::{Db, Result, StoreError, new_id, now_ts, ts};
use chrono::{DateTime, Utc};
use px360_domain::event::{EventStatus, InboundEvent, retry_delay};
use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// A stored integration event, typed.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub api_key_id: Uuid,
    pub source_system: String,
    pub event_code: String,
    pub encounter_id: String,
    pub patient_identifier: String,
    /// Payload JSON text as received (validated).
    pub payload: String,
    /// The event's clinical time.
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub status: EventStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// JSON array text of processing warnings.
    pub warnings: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for EventRecord {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::uuid(r, "hospital_id")?,
            api_key_id: row::uuid(r, "api_key_id")?,
            source_system: r.try_get("source_system")?,
            event_code: r.try_get("event_code")?,
            encounter_id: r.try_get("encounter_id")?,
            patient_identifier: r.try_get("patient_identifier")?,
            payload: r.try_get("payload")?,
            occurred_at: row::time(r, "occurred_at")?,
            received_at: row::time(r, "received_at")?,
            status: row::named(r, "status", EventStatus::parse)?,
            attempts: r.try_get("attempts")?,
            last_error: r.try_get("last_error")?,
            warnings: r.try_get("warnings")?,
            next_attempt_at: row::opt_time(r, "next_attempt_at")?,
            processed_at: row::opt_time(r, "processed_at")?,
        })
    }
}

const EVENT_COLS: &str = "id, hospital_id, api_key_id, source_system, event_code, encounter_id, patient_identifier, payload, occurred_at, received_at, status, attempts, last_error, warnings, next_attempt_at, processed_at";

/// Result of intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    Accepted(String),
    /// Same hospital, source system, event code and encounter as an earlier event.
    Duplicate(String),
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub api_key_id: String,
    pub hospital_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

struct IntakeJob {
    caller: Caller,
    event: InboundEvent,
    reply: oneshot::Sender<Result<Intake>>,
}

/// Called with the ids of the events a batch accepted, after the batch committed (the worker
/// crate enqueues a job for them; this crate does not know the job queue).
pub type AcceptHook = std::sync::Arc<dyn Fn(Vec<String>) + Send + Sync>;

/// Group commit for event intake: concurrent requests are written in one transaction (up to
/// `max_batch`), and each request is answered only after that transaction committed, so the
/// "durable before 202" contract holds while SQLite's single writer and PostgreSQL's commit
/// flush are paid once per batch instead of once per event.
#[derive(Clone, Debug)]
pub struct IntakeQueue {
    tx: mpsc::Sender<IntakeJob>,
}

impl IntakeQueue {
    /// `on_accept` runs after each commit with the newly accepted ids (never duplicates).
    ///
    /// On SQLite one committer drains the queue (there is one writer anyway). On PostgreSQL
    /// several do, so one batch's inserts run while another waits for its commit; they meet
    /// only at the audit chain's head row, which each takes last, just before committing.
    pub fn start(db: Db, max_batch: usize, on_accept: Option<AcceptHook>) -> Self {
        let (tx, rx) = mpsc::channel::<IntakeJob>(max_batch * 4);
        let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
        let committers = match db.backend {
            crate::Backend::Sqlite => 1,
            crate::Backend::Postgres => 4,
        };
        for _ in 0..committers {
            let (db, rx, on_accept) = (db.clone(), rx.clone(), on_accept.clone());
            tokio::spawn(async move {
                let mut jobs = Vec::with_capacity(max_batch);
                loop {
                    // The lock is held only while taking a batch, not while committing it.
                    if rx.lock().await.recv_many(&mut jobs, max_batch).await == 0 {
                        break;
                    }
                    let batch = std::mem::take(&mut jobs);
                    let outcomes = Self::commit(&db, batch).await;
                    let accepted: Vec<String> = outcomes
                        .iter()
                        .filter_map(|(_, o)| match o {
                            Ok(Intake::Accepted(id)) => Some(id.clone()),
                            _ => None,
                        })
                        .collect();
                    for (reply, o) in outcomes {
                        let _ = reply.send(o);
                    }
                    if let Some(hook) = &on_accept
                        && !accepted.is_empty()
                    {
                        hook(accepted);
                    }
                }
            });
        }
        Self { tx }
    }

    async fn commit(
        db: &Db,
        jobs: Vec<IntakeJob>,
    ) -> Vec<(oneshot::Sender<Result<Intake>>, Result<Intake>)> {
        let items: Vec<(&Caller, &InboundEvent)> =
            jobs.iter().map(|j| (&j.caller, &j.event)).collect();
        match db.intake_many(&items).await {
            Ok(outcomes) => jobs
                .into_iter()
                .zip(outcomes)
                .map(|(j, o)| (j.reply, Ok(o)))
                .collect(),
            // One bad item must not fail its neighbours: retry them one by one.
            Err(_) if jobs.len() > 1 => {
                let mut out = Vec::with_capacity(jobs.len());
                for j in jobs {
                    let r = db.intake_event(&j.caller, &j.event).await;
                    out.push((j.reply, r));
                }
                out
            }
            Err(e) => jobs
                .into_iter()
                .map(|j| {
                    (
                        j.reply,
                        Err(StoreError::Invalid(format!("intake failed: {e}"))),
                    )
                })
                .collect(),
        }
    }

    pub async fn submit(&self, caller: Caller, event: InboundEvent) -> Result<Intake> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(IntakeJob {
                caller,
                event,
                reply,
            })
            .await
            .map_err(|_| StoreError::Invalid("intake queue closed".into()))?;
        rx.await
            .map_err(|_| StoreError::Invalid("intake queue dropped the request".into()))?
    }
}

impl Db {
    /// Store one event durably (with its audit record) before answering. Prefer
    /// [`IntakeQueue`], which commits concurrent requests together.
    pub async fn intake_event(&self, c: &Caller, e: &InboundEvent) -> Result<Intake> {
        let mut out = self.intake_many(&[(c, e)]).await?;
        out.pop().ok_or(StoreError::NotFound)
    }

    /// Store several events (and their audit records) in one transaction, with multi-row
    /// statements: intake shares the database writer with the worker, so its statement count
    /// is the ingest ceiling.
    pub async fn intake_many(&self, items: &[(&Caller, &InboundEvent)]) -> Result<Vec<Intake>> {
        let now = now_ts();
        let mut rows = Vec::with_capacity(items.len());
        for (c, e) in items {
            let payload = serde_json::to_string(&e.payload)
                .map_err(|x| StoreError::Invalid(x.to_string()))?;
            rows.push((new_id(), *c, *e, payload));
        }
        let mut tx = self.writer.begin().await?;
        let mut inserted = std::collections::HashSet::with_capacity(rows.len());
        const COLS: usize = 10;
        for chunk in rows.chunks(crate::bulk::rows_per_statement(COLS)) {
            let sql = format!(
                "INSERT INTO inbound_events (received_at, id, hospital_id, api_key_id, source_system, event_code, encounter_id, patient_identifier, payload, occurred_at, status) \
                 VALUES {} ON CONFLICT (hospital_id, source_system, event_code, encounter_id) DO NOTHING RETURNING id",
                crate::bulk::Marks::on(&tx).tuples(chunk.len(), COLS, ", 'received'")
            );
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for (id, c, e, payload) in chunk {
                q = q
                    .bind(now.as_str())
                    .bind(id.as_str())
                    .bind(c.hospital_id.as_str())
                    .bind(c.api_key_id.as_str())
                    .bind(e.source_system.as_str())
                    .bind(e.event_code.as_str())
                    .bind(e.encounter_id.as_str())
                    .bind(e.patient_identifier.as_str())
                    .bind(payload.as_str())
                    .bind(ts(e.payload.timestamp));
            }
            inserted.extend(q.fetch_all(&mut *tx).await?);
        }
        let mut outcomes = Vec::with_capacity(items.len());
        let mut audit = Vec::with_capacity(items.len());
        for (id, c, e, _) in &rows {
            let outcome = if inserted.contains(id) {
                Intake::Accepted(id.clone())
            } else {
                // Rare (a repeated event): the earlier one's id, possibly from this same batch.
                Intake::Duplicate(
                    sqlx::query_scalar(
                        "SELECT id FROM inbound_events WHERE hospital_id = $1 AND source_system = $2 AND event_code = $3 AND encounter_id = $4",
                    )
                    .bind(&c.hospital_id)
                    .bind(&e.source_system)
                    .bind(&e.event_code)
                    .bind(&e.encounter_id)
                    .fetch_one(&mut *tx)
                    .await?,
                )
            };
            let (action, id) = match &outcome {
                Intake::Accepted(id) => ("event.received", id),
                Intake::Duplicate(id) => ("event.duplicate", id),
            };
            audit.push(AuditEntry {
                actor_type: "api_key",
                actor_id: Some(c.api_key_id.clone()),
                ip: c.ip.clone(),
                user_agent: c.user_agent.clone(),
                action: action.into(),
                object_type: Some("inbound_event"),
                object_id: Some(id.clone()),
                hospital_id: Some(c.hospital_id.clone()),
                changes: Some(serde_json::json!({
                    "source_system": e.source_system, "event_code": e.event_code
                })),
            });
            outcomes.push(outcome);
        }
        // Coarse last-use stamp: at most one write per key per minute.
        let mut keys: Vec<&str> = items.iter().map(|(c, _)| c.api_key_id.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)")
                .bind(k)
                .bind(&now)
                .bind(ts(chrono::Utc::now() - chrono::Duration::seconds(60)))
                .execute(&mut *tx)
                .await?;
        }
        // Last: the chain head is the one row every intake transaction must lock.
        append_many(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    pub async fn event(&self, id: &str) -> Result<EventRecord> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLS} FROM inbound_events WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// A page of events, newest first by `(received_at, id)`: of one hospital or (`None`) the
    /// whole group, optionally of one status, strictly older than `before`.
    pub async fn events(
        &self,
        hospital_id: Option<&str>,
        status: Option<EventStatus>,
        before: Option<&crate::page::Cursor>,
        limit: i64,
    ) -> Result<crate::page::Page<EventRecord>> {
        let mut f = crate::page::Filters::default();
        f.eq("hospital_id", hospital_id);
        f.eq("status", status.map(EventStatus::as_str));
        f.before("received_at", "id", before);
        let sql = format!(
            "SELECT {EVENT_COLS} FROM inbound_events {} ORDER BY received_at DESC, id DESC LIMIT ${}",
            f.sql(),
            f.next_mark()
        );
        let mut q = sqlx::query_as::<_, EventRecord>(sqlx::AssertSqlSafe(sql));
        for v in f.binds() {
            q = q.bind(*v);
        }
        let rows = q
            .bind(limit.saturating_add(1))
            .fetch_all(&self.pool)
            .await?;
        Ok(crate::page::Page::from_rows(rows, limit, |e| {
            crate::page::Cursor::new(&ts(e.received_at), &e.id.to_string())
        }))
    }

    /// Operator replay of a parked (or failed) event: resets attempts. Returns false when the
    /// event is not in a replayable state.
    pub async fn reset_for_replay(&self, id: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE inbound_events SET status = 'received', attempts = 0, next_attempt_at = NULL WHERE id = $1 AND status IN ('parked', 'failed')",
        )
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Events that should have been processed by now but were not (lost enqueue, crashed
    /// process): received more than `grace` ago, or failed with a due retry.
    pub async fn overdue_events(&self, grace: chrono::Duration, limit: i64) -> Result<Vec<String>> {
        let now = chrono::Utc::now();
        Ok(sqlx::query_scalar(
            "SELECT id FROM inbound_events WHERE (status = 'received' AND received_at < $1) OR (status = 'failed' AND next_attempt_at < $2) ORDER BY received_at LIMIT $3",
        )
        .bind(ts(now - grace))
        .bind(ts(now - grace))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Events per status, in one hospital or (`None`) the whole group.
    pub async fn event_counts(&self, hospital_id: Option<&str>) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM inbound_events WHERE ($1 IS NULL OR hospital_id = $1) GROUP BY status",
        )
        .bind(hospital_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Record a failed attempt inside the claiming transaction. Returns the retry delay, or `None`
/// when the event is now parked.
pub(crate) async fn record_failure(
    tx: &mut sqlx::AnyConnection,
    worker: &str,
    id: &str,
    error: &str,
) -> Result<Option<std::time::Duration>> {
    let attempts: i64 = sqlx::query_scalar(
        "UPDATE inbound_events SET attempts = attempts + 1, last_error = $2, processed_by = $3 WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .bind(error.chars().take(1000).collect::<String>())
    .bind(worker)
    .fetch_one(&mut *tx)
    .await?;
    let delay = retry_delay(attempts);
    let (status, next) = match delay {
        Some(d) => (
            EventStatus::Failed,
            Some(ts(
                chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or_default()
            )),
        ),
        None => (EventStatus::Parked, None),
    };
    sqlx::query("UPDATE inbound_events SET status = $2, next_attempt_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(next)
        .execute(&mut *tx)
        .await?;
    Ok(delay)
}
