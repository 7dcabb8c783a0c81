//! Journey templates and instances, and the processing of one inbound event into stage changes.

use crate::{Db, Result, StoreError, new_id, now_ts};
use px360_domain::event::EventPayload;
use px360_domain::journey::{Outcome as StageOutcome, StageState, StageStatus, apply};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Connection, Row};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Warning {
    pub code: String,
    pub detail: String,
}

impl Warning {
    fn new(code: &str, detail: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            detail: detail.into(),
        }
    }
}

/// What became of a claimed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Processed(Processed),
    /// Processing failed; `retry_in` is the backoff, or `None` when the event is now parked.
    Failed {
        error: String,
        retry_in: Option<std::time::Duration>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub warnings: Vec<Warning>,
    pub completed_stage: Option<String>,
    pub received_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StageView {
    pub id: String,
    pub position: i64,
    pub code: String,
    pub name: String,
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
    pub status: String,
    pub completed_at: Option<String>,
    pub completed_by_event_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StageRow {
    journey_instance_id: String,
    #[sqlx(flatten)]
    stage: StageView,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JourneyView {
    pub id: String,
    pub hospital_id: String,
    pub department_id: Option<String>,
    pub patient_id: Option<String>,
    pub encounter_id: String,
    pub template_code: String,
    pub status: String,
    pub started_at: String,
    pub completed_at: Option<String>,
    #[sqlx(skip)]
    pub stages: Vec<StageView>,
}

async fn opt_id(
    tx: &mut AnyConnection,
    sql: &'static str,
    a: &str,
    b: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(sql)
        .bind(a)
        .bind(b)
        .fetch_optional(&mut *tx)
        .await?)
}

impl Db {
    /// Apply the named events (a job's batch): claim those still due, then for each find or start
    /// the encounter's journey, complete the matching stage, record warnings and mark the event
    /// processed, all in one transaction. Events already processed, parked, or failed with a
    /// retry not yet due are skipped, so a job delivered twice (at-least-once queue, sweeper)
    /// applies nothing twice. If the process dies mid-way the transaction aborts and the events
    /// stay as they were for the job's redelivery.
    pub async fn process_events(
        &self,
        worker: &str,
        ids: &[String],
        hold: Option<std::time::Duration>,
    ) -> Result<Vec<(String, Outcome)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (3..ids.len() + 3).map(|i| format!("${i}")).collect();
        let mut tx = self.writer.begin().await?;
        // A write first: takes the SQLite write lock / PostgreSQL row locks up front. A second
        // delivery of the same events waits on the row locks (PostgreSQL) and then finds them
        // no longer due.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE inbound_events SET processed_by = $1 WHERE id IN ({}) \
             AND status IN ('received', 'failed') AND (status = 'received' OR next_attempt_at <= $2) \
             RETURNING id, hospital_id, event_code, encounter_id, patient_identifier, payload, received_at",
            marks.join(", ")
        )))
        .bind(worker)
        .bind(now_ts());
        for id in ids {
            q = q.bind(id);
        }
        let mut rows = q.fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        // RETURNING order is unspecified: apply in arrival order.
        rows.sort_by_cached_key(|r| r.try_get::<String, _>("received_at").unwrap_or_default());
        if let Some(h) = hold {
            for r in &rows {
                tracing::info!(event_id = %r.try_get::<String, _>("id")?, worker, "job.claimed");
            }
            tokio::time::sleep(h).await;
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            // Each event inside a savepoint: a failure rolls back only that event's work, and the
            // failure is recorded in the same transaction as its neighbours' success.
            let mut sp = tx.begin().await?;
            let outcome = match apply_claimed(&mut sp, &id, row).await {
                Ok(p) => {
                    sp.commit().await?;
                    Outcome::Processed(p)
                }
                Err(e) => {
                    sp.rollback().await?;
                    let retry_in =
                        crate::events::record_failure(&mut tx, &id, &e.to_string()).await?;
                    Outcome::Failed {
                        error: e.to_string(),
                        retry_in,
                    }
                }
            };
            out.push((id, outcome));
        }
        tx.commit().await?;
        Ok(out)
    }
}

async fn apply_claimed(
    tx: &mut AnyConnection,
    event_id: &str,
    row: &sqlx::any::AnyRow,
) -> Result<Processed> {
    let hospital: String = row.try_get("hospital_id")?;
    let code: String = row.try_get("event_code")?;
    let encounter: String = row.try_get("encounter_id")?;
    let mrn: String = row.try_get("patient_identifier")?;
    let received_at: String = row.try_get("received_at")?;
    let payload: EventPayload = serde_json::from_str(&row.try_get::<String, _>("payload")?)
        .map_err(|e| StoreError::Invalid(format!("stored payload: {e}")))?;

    let mut warnings = Vec::new();
    let mut department = None;
    if let Some(dc) = &payload.department_code {
        department = opt_id(tx, "SELECT id FROM departments WHERE hospital_id = $1 AND code = $2 AND deleted_at IS NULL", &hospital, dc).await?;
        if department.is_none() {
            warnings.push(Warning::new(
                "unknown_department",
                format!("no department with code {dc} in this hospital"),
            ));
        }
    }
    if let Some(lic) = &payload.physician_licence {
        let p = opt_id(tx, "SELECT id FROM physicians WHERE hospital_id = $1 AND licence_number = $2 AND deleted_at IS NULL", &hospital, lic).await?;
        if p.is_none() {
            warnings.push(Warning::new(
                "unknown_physician",
                format!("no physician with licence {lic} in this hospital"),
            ));
        }
    }
    let patient = opt_id(
        tx,
        "SELECT id FROM patients WHERE hospital_id = $1 AND mrn = $2 AND deleted_at IS NULL",
        &hospital,
        &mrn,
    )
    .await?;
    if patient.is_none() {
        // The identifier itself is patient data: keep it out of the warning text.
        warnings.push(Warning::new(
            "unknown_patient",
            "no patient with this identifier in this hospital; journey kept under the identifier",
        ));
    }

    let existing: Option<String> = sqlx::query_scalar(
            "SELECT ji.id FROM journey_instances ji JOIN stage_templates st ON st.journey_template_id = ji.journey_template_id \
             WHERE ji.hospital_id = $1 AND ji.encounter_id = $2 AND st.completing_event_code = $3 LIMIT 1",
        )
        .bind(&hospital)
        .bind(&encounter)
        .bind(&code)
        .fetch_optional(&mut *tx)
        .await?;
    let journey = match existing {
        Some(j) => Some(j),
        None => {
            let template: Option<String> = sqlx::query_scalar(
                    "SELECT jt.id FROM journey_templates jt JOIN stage_templates st ON st.journey_template_id = jt.id \
                     WHERE st.completing_event_code = $1 AND jt.deleted_at IS NULL AND (jt.hospital_id IS NULL OR jt.hospital_id = $2) \
                     ORDER BY CASE WHEN jt.hospital_id IS NULL THEN 1 ELSE 0 END, jt.code LIMIT 1",
                )
                .bind(&code)
                .bind(&hospital)
                .fetch_optional(&mut *tx)
                .await?;
            match template {
                None => {
                    warnings.push(Warning::new(
                        "no_matching_stage",
                        format!("no journey template has a stage completed by {code}"),
                    ));
                    None
                }
                Some(t) => Some(
                    start_journey(
                        tx,
                        &hospital,
                        department.as_deref(),
                        patient.as_deref(),
                        &mrn,
                        &t,
                        &encounter,
                    )
                    .await?,
                ),
            }
        }
    };

    let mut completed_stage = None;
    let now = now_ts();
    if let Some(j) = &journey {
        let rows = sqlx::query("SELECT id, position, completing_event_code, status FROM stage_instances WHERE journey_instance_id = $1 ORDER BY position")
                .bind(j)
                .fetch_all(&mut *tx)
                .await?;
        let mut stages = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            stages.push(StageState {
                stage_instance_id: Uuid::parse_str(&id)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
                position: r.try_get("position")?,
                completing_event_code: r.try_get("completing_event_code")?,
                status: StageStatus::parse(&r.try_get::<String, _>("status")?)
                    .unwrap_or(StageStatus::Pending),
            });
        }
        match apply(&stages, &code) {
            StageOutcome::Complete {
                complete,
                skip,
                journey_done,
            } => {
                sqlx::query("UPDATE stage_instances SET status = 'completed', completed_at = $2, completed_by_event_id = $3, updated_at = $2 WHERE id = $1")
                        .bind(complete.to_string())
                        .bind(&now)
                        .bind(event_id)
                        .execute(&mut *tx)
                        .await?;
                for s in skip {
                    sqlx::query("UPDATE stage_instances SET status = 'skipped', updated_at = $2 WHERE id = $1")
                            .bind(s.to_string())
                            .bind(&now)
                            .execute(&mut *tx)
                            .await?;
                }
                if journey_done {
                    sqlx::query("UPDATE journey_instances SET status = 'completed', completed_at = $2, updated_at = $2 WHERE id = $1")
                            .bind(j)
                            .bind(&now)
                            .execute(&mut *tx)
                            .await?;
                }
                completed_stage = Some(complete.to_string());
            }
            StageOutcome::AlreadyCompleted(_) => warnings.push(Warning::new(
                "stage_already_completed",
                format!("the stage completed by {code} was already completed by an earlier event"),
            )),
            StageOutcome::NoMatchingStage => warnings.push(Warning::new(
                "no_matching_stage",
                format!("journey has no stage completed by {code}"),
            )),
        }
    }

    let warnings_json =
        serde_json::to_string(&warnings).map_err(|e| StoreError::Invalid(e.to_string()))?;
    sqlx::query("UPDATE inbound_events SET status = 'processed', attempts = attempts + 1, warnings = $2, processed_at = $3, last_error = NULL, next_attempt_at = NULL WHERE id = $1")
            .bind(event_id)
            .bind(warnings_json)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
    Ok(Processed {
        warnings,
        completed_stage,
        received_at,
    })
}

impl Db {
    pub async fn journeys(
        &self,
        f: &crate::org::ScopeFilter,
        patient_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<JourneyView>> {
        let mut js: Vec<JourneyView> = sqlx::query_as(
            "SELECT ji.id, ji.hospital_id, ji.department_id, ji.patient_id, ji.encounter_id, jt.code AS template_code, ji.status, ji.started_at, ji.completed_at \
             FROM journey_instances ji JOIN journey_templates jt ON jt.id = ji.journey_template_id \
             WHERE ($1 IS NULL OR ji.hospital_id = $1) AND ($2 IS NULL OR ji.department_id = $2) AND ($3 IS NULL OR ji.patient_id = $3) \
             ORDER BY ji.started_at DESC LIMIT $4",
        )
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .bind(patient_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if js.is_empty() {
            return Ok(js);
        }
        // One query for all stages of the page (not one per journey).
        let marks: Vec<String> = (1..=js.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT si.journey_instance_id, si.id, si.position, st.code, st.name, si.completing_event_code, st.survey_template_ref, si.status, si.completed_at, si.completed_by_event_id \
             FROM stage_instances si JOIN stage_templates st ON st.id = si.stage_template_id WHERE si.journey_instance_id IN ({}) ORDER BY si.position",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, StageRow>(sqlx::AssertSqlSafe(sql));
        for j in &js {
            q = q.bind(j.id.clone());
        }
        for row in q.fetch_all(&self.pool).await? {
            if let Some(j) = js.iter_mut().find(|j| j.id == row.journey_instance_id) {
                j.stages.push(row.stage);
            }
        }
        Ok(js)
    }

    pub async fn journey(&self, id: &str) -> Result<JourneyView> {
        let mut j: JourneyView = sqlx::query_as(
            "SELECT ji.id, ji.hospital_id, ji.department_id, ji.patient_id, ji.encounter_id, jt.code AS template_code, ji.status, ji.started_at, ji.completed_at \
             FROM journey_instances ji JOIN journey_templates jt ON jt.id = ji.journey_template_id WHERE ji.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        j.stages = self.stages(id).await?;
        Ok(j)
    }

    async fn stages(&self, journey_id: &str) -> Result<Vec<StageView>> {
        Ok(sqlx::query_as(
            "SELECT si.id, si.position, st.code, st.name, si.completing_event_code, st.survey_template_ref, si.status, si.completed_at, si.completed_by_event_id \
             FROM stage_instances si JOIN stage_templates st ON st.id = si.stage_template_id WHERE si.journey_instance_id = $1 ORDER BY si.position",
        )
        .bind(journey_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn start_journey(
    tx: &mut AnyConnection,
    hospital: &str,
    department: Option<&str>,
    patient: Option<&str>,
    patient_identifier: &str,
    template: &str,
    encounter: &str,
) -> Result<String> {
    let now = now_ts();
    let id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO journey_instances (id, hospital_id, department_id, patient_id, patient_identifier, journey_template_id, encounter_id, status, started_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8, $8) ON CONFLICT (hospital_id, encounter_id, journey_template_id) DO NOTHING",
    )
    .bind(&id)
    .bind(hospital)
    .bind(department)
    .bind(patient)
    .bind(patient_identifier)
    .bind(template)
    .bind(encounter)
    .bind(&now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(sqlx::query_scalar("SELECT id FROM journey_instances WHERE hospital_id = $1 AND encounter_id = $2 AND journey_template_id = $3")
            .bind(hospital)
            .bind(encounter)
            .bind(template)
            .fetch_one(&mut *tx)
            .await?);
    }
    let stages = sqlx::query("SELECT id, position, completing_event_code FROM stage_templates WHERE journey_template_id = $1 ORDER BY position")
        .bind(template)
        .fetch_all(&mut *tx)
        .await?;
    for s in stages {
        sqlx::query(
            "INSERT INTO stage_instances (id, journey_instance_id, stage_template_id, position, completing_event_code, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)",
        )
        .bind(new_id())
        .bind(&id)
        .bind(s.try_get::<String, _>("id")?)
        .bind(s.try_get::<i64, _>("position")?)
        .bind(s.try_get::<String, _>("completing_event_code")?)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(id)
}
