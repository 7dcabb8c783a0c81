//! The set-wise path: load what a batch needs in one query per kind, plan in memory, write with
//! multi-row statements. About a dozen statements per batch, whatever its size.

use super::Claimed;
use crate::bulk::{Marks, rows_per_statement};
use crate::journeys::Processed;
use crate::{Backend, Result, StoreError, now_ts};
use px360_domain::event::EventPayload;
use px360_domain::journey::StageStatus;
use px360_domain::plan::{self, Journey, Known, Stage, Template, TemplateStage};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::{BTreeSet, HashSet};
use uuid::Uuid;

/// Apply the batch. `Ok(None)`: another transaction started one of the batch's journeys since
/// they were loaded; the caller rolls this attempt back and goes event by event.
pub(super) async fn apply(
    tx: &mut AnyConnection,
    backend: Backend,
    worker: &str,
    events: &[(&Claimed, &EventPayload)],
) -> Result<Option<Vec<(String, Processed)>>> {
    let known = load(tx, backend, events).await?;
    let plan = plan::plan(events, known);
    let now = now_ts();
    if !insert_journeys(tx, &plan.journeys, &now).await? {
        return Ok(None);
    }
    insert_stages(tx, &plan.journeys, &now).await?;
    update_stages(tx, &plan.journeys, &now).await?;
    complete_journeys(tx, &plan.journeys, &now).await?;
    mark_processed(tx, worker, &plan.results, &now).await?;
    Ok(Some(plan.results))
}

async fn load(
    tx: &mut AnyConnection,
    backend: Backend,
    events: &[(&Claimed, &EventPayload)],
) -> Result<Known> {
    fn set<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        it.collect::<BTreeSet<_>>().into_iter().collect()
    }
    let hospitals = set(events.iter().map(|(e, _)| e.hospital_id.as_str()));
    let departments = set(events
        .iter()
        .filter_map(|(_, p)| p.department_code.as_deref()));
    let licences = set(events
        .iter()
        .filter_map(|(_, p)| p.physician_licence.as_deref()));
    let mrns = set(events.iter().map(|(e, _)| e.patient_identifier.as_str()));
    let encounters = set(events.iter().map(|(e, _)| e.encounter_id.as_str()));
    let codes = set(events.iter().map(|(e, _)| e.event_code.as_str()));
    let pair = |r: &AnyRow, a: &str, b: &str| -> Result<(String, String)> {
        Ok((r.try_get(a)?, r.try_get(b)?))
    };

    let mut known = Known::default();
    for r in in_hospitals(
        tx,
        "SELECT hospital_id, code, id FROM departments WHERE deleted_at IS NULL",
        "code",
        &hospitals,
        &departments,
        "",
    )
    .await?
    {
        known
            .departments
            .insert(pair(&r, "hospital_id", "code")?, r.try_get("id")?);
    }
    for r in in_hospitals(
        tx,
        "SELECT hospital_id, licence_number FROM physicians WHERE deleted_at IS NULL",
        "licence_number",
        &hospitals,
        &licences,
        "",
    )
    .await?
    {
        known
            .physicians
            .insert(pair(&r, "hospital_id", "licence_number")?);
    }
    for r in in_hospitals(
        tx,
        "SELECT hospital_id, mrn, id FROM patients WHERE deleted_at IS NULL",
        "mrn",
        &hospitals,
        &mrns,
        "",
    )
    .await?
    {
        known
            .patients
            .insert(pair(&r, "hospital_id", "mrn")?, r.try_get("id")?);
    }
    known.templates = templates(tx, &hospitals, &codes).await?;

    // On PostgreSQL the journeys are locked, so a concurrent batch touching the same journey
    // waits instead of deciding from the same stale stage states. SQLite's writer is already
    // exclusive.
    let lock = match backend {
        Backend::Postgres => " ORDER BY id FOR UPDATE",
        Backend::Sqlite => "",
    };
    let wanted: HashSet<(&str, &str)> = events
        .iter()
        .map(|(e, _)| (e.hospital_id.as_str(), e.encounter_id.as_str()))
        .collect();
    let rows = in_hospitals(
        tx,
        "SELECT id, hospital_id, encounter_id, journey_template_id FROM journey_instances WHERE 1 = 1",
        "encounter_id",
        &hospitals,
        &encounters,
        lock,
    )
    .await?;
    for r in rows {
        let (h, enc): (String, String) = pair(&r, "hospital_id", "encounter_id")?;
        if !wanted.contains(&(h.as_str(), enc.as_str())) {
            continue;
        }
        known.journeys.push(Journey {
            id: r.try_get("id")?,
            hospital_id: h,
            encounter_id: enc,
            template_id: r.try_get("journey_template_id")?,
            new: None,
            completed: false,
            completed_at: None,
            stages: Vec::new(),
        });
    }
    if !known.journeys.is_empty() {
        let sql = format!(
            "SELECT id, journey_instance_id, stage_template_id, position, completing_event_code, status \
             FROM stage_instances WHERE journey_instance_id IN ({}) ORDER BY position",
            Marks::on(tx).list(known.journeys.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for j in &known.journeys {
            q = q.bind(j.id.as_str());
        }
        for r in q.fetch_all(&mut *tx).await? {
            let journey: String = r.try_get("journey_instance_id")?;
            let id: String = r.try_get("id")?;
            let stage = Stage {
                id: Uuid::parse_str(&id).map_err(|e| StoreError::Invalid(e.to_string()))?,
                template_stage_id: r.try_get("stage_template_id")?,
                position: r.try_get("position")?,
                completing_event_code: r.try_get("completing_event_code")?,
                status: StageStatus::parse(&r.try_get::<String, _>("status")?)
                    .unwrap_or(StageStatus::Pending),
                completed_by: None,
                completed_at: None,
                changed: false,
            };
            if let Some(j) = known.journeys.iter_mut().find(|j| j.id == journey) {
                j.stages.push(stage);
            }
        }
    }
    Ok(known)
}

/// `{select} AND hospital_id IN (…) AND {column} IN (…){tail}` (`select` ends in a WHERE
/// condition); nothing when `values` is empty.
async fn in_hospitals(
    tx: &mut AnyConnection,
    select: &str,
    column: &str,
    hospitals: &[&str],
    values: &[&str],
    tail: &str,
) -> Result<Vec<AnyRow>> {
    if values.is_empty() || hospitals.is_empty() {
        return Ok(Vec::new());
    }
    let mut m = Marks::on(tx);
    let sql = format!(
        "{select} AND hospital_id IN ({}) AND {column} IN ({}){tail}",
        m.list(hospitals.len()),
        m.list(values.len()),
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for v in hospitals.iter().chain(values) {
        q = q.bind(*v);
    }
    Ok(q.fetch_all(&mut *tx).await?)
}

/// Live templates of the batch's hospitals (and group-wide ones) that have a stage completed by
/// one of the batch's event codes, each with all its stages.
async fn templates(
    tx: &mut AnyConnection,
    hospitals: &[&str],
    codes: &[&str],
) -> Result<Vec<Template>> {
    let mut m = Marks::on(tx);
    let sql = format!(
        "SELECT jt.id AS template_id, jt.hospital_id, jt.code AS template_code, st.id, st.position, st.completing_event_code \
         FROM journey_templates jt JOIN stage_templates st ON st.journey_template_id = jt.id \
         WHERE jt.deleted_at IS NULL AND st.deleted_at IS NULL AND (jt.hospital_id IS NULL OR jt.hospital_id IN ({})) \
         AND jt.id IN (SELECT journey_template_id FROM stage_templates WHERE deleted_at IS NULL AND completing_event_code IN ({})) \
         ORDER BY jt.id, st.position",
        m.list(hospitals.len()),
        m.list(codes.len()),
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for v in hospitals.iter().chain(codes) {
        q = q.bind(*v);
    }
    let mut out: Vec<Template> = Vec::new();
    for r in q.fetch_all(&mut *tx).await? {
        let id: String = r.try_get("template_id")?;
        let stage = TemplateStage {
            id: r.try_get("id")?,
            position: r.try_get("position")?,
            completing_event_code: r.try_get("completing_event_code")?,
        };
        match out.last_mut() {
            Some(t) if t.id == id => t.stages.push(stage),
            _ => out.push(Template {
                id,
                hospital_id: r.try_get("hospital_id")?,
                code: r.try_get("template_code")?,
                stages: vec![stage],
            }),
        }
    }
    Ok(out)
}

/// Insert the journeys the batch started. False when one already exists (started by a
/// concurrent transaction after the load).
async fn insert_journeys(tx: &mut AnyConnection, journeys: &[Journey], now: &str) -> Result<bool> {
    let new: Vec<_> = journeys
        .iter()
        .filter_map(|j| Some((j, j.new.as_ref()?)))
        .collect();
    const COLS: usize = 14;
    for chunk in new.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO journey_instances (id, hospital_id, department_id, patient_id, patient_identifier, journey_template_id, encounter_id, status, completed_at, started_at, started_recorded_at, completed_recorded_at, created_at, updated_at) \
             VALUES {} ON CONFLICT (hospital_id, encounter_id, journey_template_id) DO NOTHING RETURNING id",
            Marks::on(tx).tuples(chunk.len(), COLS, "")
        );
        let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
        for (j, n) in chunk {
            q = q
                .bind(j.id.as_str())
                .bind(j.hospital_id.as_str())
                .bind(n.department_id.as_deref())
                .bind(n.patient_id.as_deref())
                .bind(n.patient_identifier.as_str())
                .bind(j.template_id.as_str())
                .bind(j.encounter_id.as_str())
                .bind(if j.completed { "completed" } else { "active" })
                .bind(j.completed_at.as_deref())
                .bind(n.started_at.as_str())
                .bind(now)
                .bind(j.completed.then_some(now))
                .bind(now)
                .bind(now);
        }
        if q.fetch_all(&mut *tx).await?.len() != chunk.len() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Stages of new journeys, already in their final state.
async fn insert_stages(tx: &mut AnyConnection, journeys: &[Journey], now: &str) -> Result<()> {
    let stages: Vec<(&Journey, &Stage)> = journeys
        .iter()
        .filter(|j| j.new.is_some())
        .flat_map(|j| j.stages.iter().map(move |s| (j, s)))
        .collect();
    const COLS: usize = 11;
    for chunk in stages.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO stage_instances (id, journey_instance_id, stage_template_id, position, completing_event_code, status, completed_at, completed_recorded_at, completed_by_event_id, created_at, updated_at) VALUES {}",
            Marks::on(tx).tuples(chunk.len(), COLS, "")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (j, s) in chunk {
            q = q
                .bind(s.id.to_string())
                .bind(j.id.as_str())
                .bind(s.template_stage_id.as_str())
                .bind(s.position)
                .bind(s.completing_event_code.as_str())
                .bind(s.status.as_str())
                .bind(s.completed_at.as_deref())
                .bind((s.status == StageStatus::Completed).then_some(now))
                .bind(s.completed_by.as_deref())
                .bind(now)
                .bind(now);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Status changes of stages that existed before the batch.
async fn update_stages(tx: &mut AnyConnection, journeys: &[Journey], now: &str) -> Result<()> {
    let changed: Vec<&Stage> = journeys
        .iter()
        .filter(|j| j.new.is_none())
        .flat_map(|j| j.stages.iter().filter(|s| s.changed))
        .collect();
    // column4: the processing moment; column5: the clinical time of the completing event.
    const COLS: usize = 5;
    for chunk in changed.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "UPDATE stage_instances SET status = v.column2, \
             completed_by_event_id = COALESCE(v.column3, stage_instances.completed_by_event_id), \
             completed_at = CASE WHEN v.column2 = 'completed' THEN v.column5 ELSE stage_instances.completed_at END, \
             completed_recorded_at = CASE WHEN v.column2 = 'completed' THEN v.column4 ELSE stage_instances.completed_recorded_at END, updated_at = v.column4 \
             FROM (VALUES {}) AS v WHERE stage_instances.id = v.column1",
            Marks::on(tx).tuples(chunk.len(), COLS, "")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for s in chunk {
            q = q
                .bind(s.id.to_string())
                .bind(s.status.as_str())
                .bind(s.completed_by.as_deref())
                .bind(now)
                .bind(s.completed_at.as_deref());
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Journeys that existed before the batch and are now complete, each with its own clinical
/// completion time.
async fn complete_journeys(tx: &mut AnyConnection, journeys: &[Journey], now: &str) -> Result<()> {
    let done: Vec<(&str, &str)> = journeys
        .iter()
        .filter(|j| j.new.is_none() && j.completed)
        .map(|j| (j.id.as_str(), j.completed_at.as_deref().unwrap_or(now)))
        .collect();
    const COLS: usize = 2;
    for chunk in done.chunks(rows_per_statement(COLS)) {
        let mut m = Marks::on(tx);
        let sql = format!(
            "UPDATE journey_instances SET status = 'completed', completed_recorded_at = {}, updated_at = {}, completed_at = v.column2 \
             FROM (VALUES {}) AS v WHERE journey_instances.id = v.column1",
            m.one(),
            m.one(),
            m.tuples(chunk.len(), COLS, "")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now).bind(now);
        for (id, at) in chunk {
            q = q.bind(*id).bind(*at);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

async fn mark_processed(
    tx: &mut AnyConnection,
    worker: &str,
    results: &[(String, Processed)],
    now: &str,
) -> Result<()> {
    const COLS: usize = 2;
    for chunk in results.chunks(rows_per_statement(COLS)) {
        let mut m = Marks::on(tx);
        let sql = format!(
            "UPDATE inbound_events SET status = 'processed', attempts = attempts + 1, warnings = v.column2, processed_at = {}, processed_by = {}, \
             last_error = NULL, next_attempt_at = NULL FROM (VALUES {}) AS v WHERE inbound_events.id = v.column1",
            m.one(),
            m.one(),
            m.tuples(chunk.len(), COLS, "")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now).bind(worker);
        for (id, p) in chunk {
            let warnings = serde_json::to_string(&p.warnings)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            q = q.bind(id.as_str()).bind(warnings);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}
