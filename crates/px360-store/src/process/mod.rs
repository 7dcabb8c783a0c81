//! Applying claimed integration events to patient journeys.
//!
//! A job's batch is claimed with one statement, then applied set-wise ([`batch`]): one query per
//! kind of reference data, every decision in memory (`px360_domain::plan`), multi-row writes; about a dozen
//! statements for the whole batch instead of a dozen per event. When that path cannot be used
//! (a stored payload no longer parses, another worker started one of the same journeys at the
//! same moment, a statement fails), the batch is applied event by event ([`single`]), each
//! inside its own savepoint, so one bad event fails alone and its neighbours still complete.

mod batch;
mod single;

use crate::journeys::Outcome;
use crate::{Backend, Db, Result, StoreError, now_ts};
use px360_domain::event::EventPayload;
use sqlx::{AnyConnection, Connection, Row};

/// An event claimed for processing (the planner's input type).
pub(crate) use px360_domain::plan::PlanEvent as Claimed;

/// The stored payload of a claimed event.
fn payload_of(c: &Claimed) -> Result<EventPayload> {
    serde_json::from_str(&c.payload)
        .map_err(|e| StoreError::Invalid(format!("stored payload: {e}")))
}

impl Db {
    /// Apply the named events (a job's batch): claim those still due, then for each find or start
    /// the encounter's journey, complete the matching stage, record warnings and mark the event
    /// processed, all in one transaction. Events already processed, parked, or failed with a
    /// retry not yet due are skipped, so a job delivered twice (at-least-once queue, sweeper)
    /// applies nothing twice. If the process dies mid-way the transaction aborts and the events
    /// stay as they were for the job's redelivery.
    ///
    /// The worker passes batches of a few dozen: every id is a bound parameter.
    pub async fn process_events(
        &self,
        worker: &str,
        ids: &[String],
        hold: Option<std::time::Duration>,
    ) -> Result<Vec<(String, Outcome)>> {
        Ok(self.process(worker, ids, hold, true).await?.0)
    }

    /// Tests only: [`Db::process_events`], saying whether the set-wise path applied the batch;
    /// `set_wise = false` forces the event-by-event path (the two must agree).
    #[doc(hidden)]
    pub async fn process_events_via(
        &self,
        ids: &[String],
        set_wise: bool,
    ) -> Result<(Vec<(String, Outcome)>, bool)> {
        self.process("test", ids, None, set_wise).await
    }

    async fn process(
        &self,
        worker: &str,
        ids: &[String],
        hold: Option<std::time::Duration>,
        set_wise: bool,
    ) -> Result<(Vec<(String, Outcome)>, bool)> {
        if ids.is_empty() {
            return Ok((Vec::new(), false));
        }
        let mut tx = self.writer.begin().await?;
        if self.backend == Backend::Postgres {
            // Processing need not wait for its WAL flush: if PostgreSQL itself crashed before
            // the flush, the events would still be `received` (intake commits synchronously) and
            // the sweeper applies them again. Waiting would put every batch's flush in the queue
            // in front of intake's, which does have to wait (durable before 202).
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await?;
        }
        let claimed = claim(&mut tx, self.backend, worker, ids).await?;
        if claimed.is_empty() {
            tx.rollback().await?;
            return Ok((Vec::new(), false));
        }
        if let Some(h) = hold {
            for c in &claimed {
                tracing::info!(event_id = %c.id, worker, "job.claimed");
            }
            tokio::time::sleep(h).await;
        }
        let parsed: Vec<Result<EventPayload>> = claimed.iter().map(payload_of).collect();
        if set_wise && parsed.iter().all(|p| p.is_ok()) {
            let events: Vec<(&Claimed, &EventPayload)> = claimed
                .iter()
                .zip(&parsed)
                .filter_map(|(c, p)| Some((c, p.as_ref().ok()?)))
                .collect();
            let mut sp = tx.begin().await?;
            match batch::apply(&mut sp, self.backend, worker, &events).await {
                Ok(Some(done)) => {
                    sp.commit().await?;
                    tx.commit().await?;
                    let out = done
                        .into_iter()
                        .map(|(id, p)| (id, Outcome::Processed(p)))
                        .collect();
                    return Ok((out, true));
                }
                Ok(None) => {
                    metrics::counter!("px360_event_batches_fallback_total", "reason" => "conflict")
                        .increment(1);
                }
                // The error text can quote stored values: counted, not logged. The per-event
                // path below records each event's own error where operators can read it.
                Err(_) => {
                    metrics::counter!("px360_event_batches_fallback_total", "reason" => "error")
                        .increment(1);
                }
            }
            sp.rollback().await?;
        }
        let mut out = Vec::with_capacity(claimed.len());
        for (c, payload) in claimed.iter().zip(parsed) {
            // Each event inside a savepoint: a failure rolls back only that event's work, and the
            // failure is recorded in the same transaction as its neighbours' success.
            let mut sp = tx.begin().await?;
            let from_payload = payload.is_err();
            let applied = match payload {
                Ok(p) => single::apply(&mut sp, worker, c, &p).await,
                Err(e) => Err(e),
            };
            let outcome = match applied {
                Ok(p) => {
                    sp.commit().await?;
                    Outcome::Processed(p)
                }
                Err(e) => {
                    sp.rollback().await?;
                    let code = crate::failure::FailureCode::of(&e, from_payload);
                    let text = crate::failure::failure_text(code, &e.to_string());
                    let retry_in =
                        crate::events::record_failure(&mut tx, worker, &c.id, &text).await?;
                    Outcome::Failed {
                        error: e.to_string(),
                        retry_in,
                    }
                }
            };
            out.push((c.id.clone(), outcome));
        }
        tx.commit().await?;
        Ok((out, false))
    }
}

/// Take the named events if they are still due, returning them in arrival order. A second
/// delivery of the same events waits for this transaction and then finds them no longer due:
/// on SQLite because the claim is a write (it takes the write lock up front); on PostgreSQL
/// through the row locks of `FOR UPDATE`, which re-checks the status once the first delivery
/// committed. (PostgreSQL does not write the rows here: each processed event is then written
/// once, not twice.)
async fn claim(
    tx: &mut AnyConnection,
    backend: Backend,
    worker: &str,
    ids: &[String],
) -> Result<Vec<Claimed>> {
    const COLS: &str =
        "id, hospital_id, event_code, encounter_id, patient_identifier, payload, received_at";
    let due = |now: &str| {
        format!(
            "status IN ('received', 'failed') AND (status = 'received' OR next_attempt_at <= {now})"
        )
    };
    let mut m = crate::bulk::Marks::new(backend);
    let q = match backend {
        Backend::Sqlite => {
            let (by, now, list) = (m.one(), m.one(), m.list(ids.len()));
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE inbound_events SET processed_by = {by} WHERE {} AND id IN ({list}) RETURNING {COLS}",
                due(&now)
            )))
            .bind(worker)
        }
        Backend::Postgres => {
            let (now, list) = (m.one(), m.list(ids.len()));
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLS} FROM inbound_events WHERE {} AND id IN ({list}) FOR UPDATE",
                due(&now)
            )))
        }
    };
    let mut q = q.bind(now_ts());
    for id in ids {
        q = q.bind(id);
    }
    let mut claimed = Vec::with_capacity(ids.len());
    for r in q.fetch_all(&mut *tx).await? {
        claimed.push(Claimed {
            id: r.try_get("id")?,
            hospital_id: r.try_get("hospital_id")?,
            event_code: r.try_get("event_code")?,
            encounter_id: r.try_get("encounter_id")?,
            patient_identifier: r.try_get("patient_identifier")?,
            payload: r.try_get("payload")?,
            received_at: r.try_get("received_at")?,
        });
    }
    // RETURNING order is unspecified: apply in arrival order (ids are time-ordered UUIDv7s).
    claimed.sort_by(|a, b| (&a.received_at, &a.id).cmp(&(&b.received_at, &b.id)));
    Ok(claimed)
}
