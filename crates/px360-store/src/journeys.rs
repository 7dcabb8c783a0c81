//! Journey instances as read by the API and UI, and the outcome types of event processing
//! (which lives in `process`).

use crate::{Db, Result, StoreError};
pub use px360_domain::plan::{Processed, Warning};
use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StageView {
    pub id: String,
    pub position: i64,
    pub code: String,
    pub name: String,
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
    pub status: String,
    /// Clinical time: the `timestamp` of the event that completed the stage (UTC).
    pub completed_at: Option<String>,
    /// When PX360 recorded the completion (the worker's processing moment, UTC).
    pub completed_recorded_at: Option<String>,
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
    /// Clinical time: the `timestamp` of the event that started the journey (UTC).
    pub started_at: String,
    /// Clinical time of the event that completed the last stage (UTC).
    pub completed_at: Option<String>,
    /// When PX360 recorded the start (the worker's processing moment, UTC).
    pub started_recorded_at: Option<String>,
    /// When PX360 recorded the completion.
    pub completed_recorded_at: Option<String>,
    /// The hospital's IANA time zone, in which lists show these times.
    #[schema(example = "Asia/Riyadh")]
    pub hospital_timezone: String,
    #[sqlx(skip)]
    pub stages: Vec<StageView>,
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
            crate::page::Cursor::new(&j.started_at, &j.id)
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
        let mut q = sqlx::query_as::<_, StageRow>(sqlx::AssertSqlSafe(sql));
        for j in js.iter() {
            q = q.bind(j.id.clone());
        }
        for row in q.fetch_all(&self.pool).await? {
            if let Some(j) = js.iter_mut().find(|j| j.id == row.journey_instance_id) {
                j.stages.push(row.stage);
            }
        }
        Ok(page)
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
