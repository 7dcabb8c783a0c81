//! The event-by-event path: one event's lookups and changes, statement by statement. Used when
//! the set-wise path cannot be (see the module above); the outcome for an event is the same.

use super::Claimed;
use crate::journeys::{Processed, Warning};
use crate::{Result, StoreError, new_id, now_ts};
use px360_domain::event::EventPayload;
use px360_domain::journey::{
    Outcome as StageOutcome, StageState, StageStatus, apply as apply_stage,
};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

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

pub(super) async fn apply(
    tx: &mut AnyConnection,
    worker: &str,
    e: &Claimed,
    payload: &EventPayload,
) -> Result<Processed> {
    let hospital = &e.hospital_id;
    // Journeys and stages carry the event's clinical time; `now` is when it was recorded.
    let clinical_at = crate::ts(payload.timestamp);
    let code = &e.event_code;
    let encounter = &e.encounter_id;
    let mut warnings = Vec::new();
    let mut department = None;
    if let Some(dc) = &payload.department_code {
        department = opt_id(tx, "SELECT id FROM departments WHERE hospital_id = $1 AND code = $2 AND deleted_at IS NULL", hospital, dc).await?;
        if department.is_none() {
            warnings.push(Warning::unknown_department(dc));
        }
    }
    if let Some(lic) = &payload.physician_licence {
        let p = opt_id(tx, "SELECT id FROM physicians WHERE hospital_id = $1 AND licence_number = $2 AND deleted_at IS NULL", hospital, lic).await?;
        if p.is_none() {
            warnings.push(Warning::unknown_physician(lic));
        }
    }
    let patient = opt_id(
        tx,
        "SELECT id FROM patients WHERE hospital_id = $1 AND mrn = $2 AND deleted_at IS NULL",
        hospital,
        &e.patient_identifier,
    )
    .await?;
    if patient.is_none() {
        warnings.push(Warning::unknown_patient());
    }

    // The journey's own stages decide (copied when it started), not its template's current ones.
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT ji.id FROM journey_instances ji JOIN stage_instances si ON si.journey_instance_id = ji.id \
         WHERE ji.hospital_id = $1 AND ji.encounter_id = $2 AND si.completing_event_code = $3 LIMIT 1",
    )
    .bind(hospital)
    .bind(encounter)
    .bind(code)
    .fetch_optional(&mut *tx)
    .await?;
    let journey = match existing {
        Some(j) => Some(j),
        None => {
            let template: Option<String> = sqlx::query_scalar(
                "SELECT jt.id FROM journey_templates jt JOIN stage_templates st ON st.journey_template_id = jt.id \
                 WHERE st.completing_event_code = $1 AND st.deleted_at IS NULL AND jt.deleted_at IS NULL AND (jt.hospital_id IS NULL OR jt.hospital_id = $2) \
                 ORDER BY CASE WHEN jt.hospital_id IS NULL THEN 1 ELSE 0 END, jt.code LIMIT 1",
            )
            .bind(code)
            .bind(hospital)
            .fetch_optional(&mut *tx)
            .await?;
            match template {
                None => {
                    warnings.push(Warning::no_template_stage(code));
                    None
                }
                Some(t) => Some(
                    start_journey(
                        tx,
                        e,
                        department.as_deref(),
                        patient.as_deref(),
                        &t,
                        &clinical_at,
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
        match apply_stage(&stages, code) {
            StageOutcome::Complete {
                complete,
                skip,
                journey_done,
            } => {
                sqlx::query("UPDATE stage_instances SET status = 'completed', completed_at = $4, completed_recorded_at = $2, completed_by_event_id = $3, updated_at = $2 WHERE id = $1")
                    .bind(complete.to_string())
                    .bind(&now)
                    .bind(&e.id)
                    .bind(&clinical_at)
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
                    sqlx::query("UPDATE journey_instances SET status = 'completed', completed_at = $3, completed_recorded_at = $2, updated_at = $2 WHERE id = $1")
                        .bind(j)
                        .bind(&now)
                        .bind(&clinical_at)
                        .execute(&mut *tx)
                        .await?;
                }
                completed_stage = Some(complete.to_string());
            }
            StageOutcome::AlreadyCompleted(_) => {
                warnings.push(Warning::stage_already_completed(code))
            }
            StageOutcome::NoMatchingStage => warnings.push(Warning::no_journey_stage(code)),
        }
    }

    let warnings_json =
        serde_json::to_string(&warnings).map_err(|e| StoreError::Invalid(e.to_string()))?;
    sqlx::query("UPDATE inbound_events SET status = 'processed', attempts = attempts + 1, warnings = $2, processed_at = $3, processed_by = $4, last_error = NULL, next_attempt_at = NULL WHERE id = $1")
        .bind(&e.id)
        .bind(warnings_json)
        .bind(&now)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
    Ok(Processed {
        warnings,
        completed_stage,
        received_at: e.received_at.clone(),
    })
}

/// Start the encounter's journey of `template` (or find it, when a concurrent transaction
/// started it first) with one pending stage per template stage.
async fn start_journey(
    tx: &mut AnyConnection,
    e: &Claimed,
    department: Option<&str>,
    patient: Option<&str>,
    template: &str,
    started_at: &str,
) -> Result<String> {
    let now = now_ts();
    let id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO journey_instances (id, hospital_id, department_id, patient_id, patient_identifier, journey_template_id, encounter_id, status, started_at, started_recorded_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $9, $8, $8, $8) ON CONFLICT (hospital_id, encounter_id, journey_template_id) DO NOTHING",
    )
    .bind(&id)
    .bind(&e.hospital_id)
    .bind(department)
    .bind(patient)
    .bind(&e.patient_identifier)
    .bind(template)
    .bind(&e.encounter_id)
    .bind(&now)
    .bind(started_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(sqlx::query_scalar("SELECT id FROM journey_instances WHERE hospital_id = $1 AND encounter_id = $2 AND journey_template_id = $3")
            .bind(&e.hospital_id)
            .bind(&e.encounter_id)
            .bind(template)
            .fetch_one(&mut *tx)
            .await?);
    }
    let stages = sqlx::query("SELECT id, position, completing_event_code FROM stage_templates WHERE journey_template_id = $1 AND deleted_at IS NULL ORDER BY position")
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
