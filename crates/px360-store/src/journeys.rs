//! Journey instances as read by the API and UI, and the outcome types of event processing
//! (which lives in `process`).

use crate::{Db, Result, StoreError, row, ts};
use chrono::{DateTime, Utc};
pub use px360_domain::journey::{JourneyStatus, StageStatus};
pub use px360_domain::plan::{Processed, Warning};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

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

/// A journey's stage as stored, typed.
#[derive(Debug, Clone)]
pub struct StageView {
    pub id: Uuid,
    pub position: i64,
    pub code: String,
    pub name: String,
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
    pub status: StageStatus,
    /// Clinical time: the `timestamp` of the event that completed the stage.
    pub completed_at: Option<DateTime<Utc>>,
    /// When PX360 recorded the completion (the worker's processing moment).
    pub completed_recorded_at: Option<DateTime<Utc>>,
    pub completed_by_event_id: Option<Uuid>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for StageView {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            position: r.try_get("position")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            completing_event_code: r.try_get("completing_event_code")?,
            survey_template_ref: r.try_get("survey_template_ref")?,
            status: row::named(r, "status", StageStatus::parse)?,
            completed_at: row::opt_time(r, "completed_at")?,
            completed_recorded_at: row::opt_time(r, "completed_recorded_at")?,
            completed_by_event_id: row::opt_uuid(r, "completed_by_event_id")?,
        })
    }
}

struct StageOfJourney {
    journey_instance_id: Uuid,
    stage: StageView,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for StageOfJourney {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            journey_instance_id: row::uuid(r, "journey_instance_id")?,
            stage: StageView::from_row(r)?,
        })
    }
}

/// A stage completed by one event, with its journey's template ([`Db::stage_completed_by`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedStage {
    pub journey_id: Uuid,
    pub template_code: String,
    pub template_name: String,
    pub code: String,
    pub name: String,
    pub position: i64,
}

/// A journey instance as stored, typed, with its stages in order.
#[derive(Debug, Clone)]
pub struct JourneyView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub encounter_id: String,
    pub template_code: String,
    pub status: JourneyStatus,
    /// Clinical time: the `timestamp` of the event that started the journey.
    pub started_at: DateTime<Utc>,
    /// Clinical time of the event that completed the last stage.
    pub completed_at: Option<DateTime<Utc>>,
    /// When PX360 recorded the start (the worker's processing moment).
    pub started_recorded_at: Option<DateTime<Utc>>,
    /// When PX360 recorded the completion.
    pub completed_recorded_at: Option<DateTime<Utc>>,
    /// The hospital's IANA time zone, in which lists show these times.
    pub hospital_timezone: String,
    pub stages: Vec<StageView>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for JourneyView {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::uuid(r, "hospital_id")?,
            department_id: row::opt_uuid(r, "department_id")?,
            patient_id: row::opt_uuid(r, "patient_id")?,
            encounter_id: r.try_get("encounter_id")?,
            template_code: r.try_get("template_code")?,
            status: row::named(r, "status", JourneyStatus::parse)?,
            started_at: row::time(r, "started_at")?,
            completed_at: row::opt_time(r, "completed_at")?,
            started_recorded_at: row::opt_time(r, "started_recorded_at")?,
            completed_recorded_at: row::opt_time(r, "completed_recorded_at")?,
            hospital_timezone: r.try_get("hospital_timezone")?,
            stages: Vec::new(),
        })
    }
}

impl Db {
    /// A page of journeys in a scope, newest first by `(started_at, id)`, optionally of one
    /// patient, strictly older than `before`; each with its stages.
    pub async fn journeys(
        &self,
        f: &crate::org::ScopeFilter,
        patient_id: Option<&str>,
        before: Option<&crate::page::Cursor>,
        limit: i64,
    ) -> Result<crate::page::Page<JourneyView>> {
        let mut w = crate::page::Filters::default();
        w.eq("ji.hospital_id", f.hospital_id.as_deref());
        w.eq("ji.department_id", f.department_id.as_deref());
        w.eq("ji.patient_id", patient_id);
        w.before("ji.started_at", "ji.id", before);
        let sql = format!(
            "SELECT ji.id, ji.hospital_id, ji.department_id, ji.patient_id, ji.encounter_id, jt.code AS template_code, ji.status, ji.started_at, ji.completed_at, \
             ji.started_recorded_at, ji.completed_recorded_at, h.timezone AS hospital_timezone \
             FROM journey_instances ji JOIN journey_templates jt ON jt.id = ji.journey_template_id JOIN hospitals h ON h.id = ji.hospital_id \
             {} ORDER BY ji.started_at DESC, ji.id DESC LIMIT ${}",
            w.sql(),
            w.next_mark()
        );
        let mut q = sqlx::query_as::<_, JourneyView>(sqlx::AssertSqlSafe(sql));
        for v in w.binds() {
            q = q.bind(*v);
        }
        let rows = q
            .bind(limit.saturating_add(1))
            .fetch_all(&self.pool)
            .await?;
        let mut page = crate::page::Page::from_rows(rows, limit, |j| {
            crate::page::Cursor::new(&ts(j.started_at), &j.id.to_string())
        });
        let js = &mut page.rows;
        if js.is_empty() {
            return Ok(page);
        }
        // One query for all stages of the page (not one per journey).
        let marks: Vec<String> = (1..=js.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT si.journey_instance_id, si.id, si.position, st.code, st.name, si.completing_event_code, st.survey_template_ref, si.status, si.completed_at, si.completed_recorded_at, si.completed_by_event_id \
             FROM stage_instances si JOIN stage_templates st ON st.id = si.stage_template_id WHERE si.journey_instance_id IN ({}) ORDER BY si.position",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, StageOfJourney>(sqlx::AssertSqlSafe(sql));
        for j in js.iter() {
            q = q.bind(j.id.to_string());
        }
        for row in q.fetch_all(&self.pool).await? {
            if let Some(j) = js.iter_mut().find(|j| j.id == row.journey_instance_id) {
                j.stages.push(row.stage);
            }
        }
        Ok(page)
    }

    /// The stage an event completed and its journey's template (what the integrations page
    /// shows after a test event); `None` when the event completed no stage.
    pub async fn stage_completed_by(&self, event_id: &str) -> Result<Option<CompletedStage>> {
        let r = sqlx::query(
            "SELECT ji.id AS journey_id, jt.code AS template_code, jt.name AS template_name, st.code, st.name, si.position \
             FROM stage_instances si JOIN stage_templates st ON st.id = si.stage_template_id \
             JOIN journey_instances ji ON ji.id = si.journey_instance_id \
             JOIN journey_templates jt ON jt.id = ji.journey_template_id WHERE si.completed_by_event_id = $1",
        )
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else {
            return Ok(None);
        };
        Ok(Some(CompletedStage {
            journey_id: row::uuid(&r, "journey_id")?,
            template_code: r.try_get("template_code")?,
            template_name: r.try_get("template_name")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            position: r.try_get("position")?,
        }))
    }

    pub async fn journey(&self, id: &str) -> Result<JourneyView> {
        let mut j: JourneyView = sqlx::query_as(
            "SELECT ji.id, ji.hospital_id, ji.department_id, ji.patient_id, ji.encounter_id, jt.code AS template_code, ji.status, ji.started_at, ji.completed_at, \
             ji.started_recorded_at, ji.completed_recorded_at, h.timezone AS hospital_timezone \
             FROM journey_instances ji JOIN journey_templates jt ON jt.id = ji.journey_template_id JOIN hospitals h ON h.id = ji.hospital_id WHERE ji.id = $1",
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
            "SELECT si.id, si.position, st.code, st.name, si.completing_event_code, st.survey_template_ref, si.status, si.completed_at, si.completed_recorded_at, si.completed_by_event_id \
             FROM stage_instances si JOIN stage_templates st ON st.id = si.stage_template_id WHERE si.journey_instance_id = $1 ORDER BY si.position",
        )
        .bind(journey_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
