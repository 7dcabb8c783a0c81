//! Journey templates and their stage templates.
//!
//! A template is group-wide (`hospital_id` NULL: the seeded ones, managed by PX Admin) or owned
//! by one hospital. The worker picks, for an event code, the hospital's own template before a
//! group-wide one, and never another hospital's.

use crate::{Db, Result, StoreError, new_id, now_ts};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, Transaction};

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StageTemplate {
    pub id: String,
    pub journey_template_id: String,
    pub position: i64,
    pub code: String,
    pub name: String,
    /// Event code that completes this stage (unique within the template).
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JourneyTemplate {
    pub id: String,
    /// `null` = group-wide template.
    pub hospital_id: Option<String>,
    pub code: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    #[sqlx(skip)]
    pub stages: Vec<StageTemplate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewStageTemplate {
    pub code: String,
    pub name: String,
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewJourneyTemplate {
    /// Owning hospital; omit for a group-wide template (PX Admin only). Hospital-scoped callers
    /// default to their own hospital.
    pub hospital_id: Option<String>,
    pub code: String,
    pub name: String,
    /// In journey order (positions are assigned 1, 2, …).
    pub stages: Vec<NewStageTemplate>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateChanges {
    pub name: Option<String>,
}

/// Changes to one stage (`None` keeps the value). Journeys already started keep the event code
/// they copied when their stages were created.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageChanges {
    pub name: Option<String>,
    pub completing_event_code: Option<String>,
    pub survey_template_ref: Option<String>,
}

const JT_COLS: &str = "id, hospital_id, code, name, created_at, updated_at";
const ST_COLS: &str = "id, journey_template_id, position, code, name, completing_event_code, survey_template_ref, created_at, updated_at";

pub async fn insert(
    tx: &mut Transaction<'static, Any>,
    hospital_id: Option<&str>,
    t: &NewJourneyTemplate,
) -> Result<JourneyTemplate> {
    let now = now_ts();
    let mut jt: JourneyTemplate = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO journey_templates (id, hospital_id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING {JT_COLS}"
    )))
    .bind(new_id())
    .bind(hospital_id)
    .bind(&t.code)
    .bind(&t.name)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    for (i, s) in t.stages.iter().enumerate() {
        let st: StageTemplate = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code, survey_template_ref, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {ST_COLS}"
        )))
        .bind(new_id())
        .bind(&jt.id)
        .bind(i as i64 + 1)
        .bind(&s.code)
        .bind(&s.name)
        .bind(&s.completing_event_code)
        .bind(&s.survey_template_ref)
        .bind(&now)
        .fetch_one(&mut **tx)
        .await?;
        jt.stages.push(st);
    }
    Ok(jt)
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    c: &TemplateChanges,
) -> Result<JourneyTemplate> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE journey_templates SET name = COALESCE($2, name), updated_at = $3 WHERE id = $1 AND deleted_at IS NULL RETURNING {JT_COLS}"
    )))
    .bind(id)
    .bind(&c.name)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn update_stage<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    template_id: &str,
    stage_id: &str,
    c: &StageChanges,
) -> Result<StageTemplate> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE stage_templates SET name = COALESCE($3, name), completing_event_code = COALESCE($4, completing_event_code), \
         survey_template_ref = COALESCE($5, survey_template_ref), updated_at = $6 \
         WHERE id = $2 AND journey_template_id = $1 RETURNING {ST_COLS}"
    )))
    .bind(template_id)
    .bind(stage_id)
    .bind(&c.name)
    .bind(&c.completing_event_code)
    .bind(&c.survey_template_ref)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

impl Db {
    /// Templates visible from a hospital (its own and the group-wide ones); `None` = all.
    pub async fn journey_templates(&self, hospital: Option<&str>) -> Result<Vec<JourneyTemplate>> {
        let mut ts: Vec<JourneyTemplate> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JT_COLS} FROM journey_templates WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id IS NULL OR hospital_id = $1) ORDER BY code"
        )))
        .bind(hospital)
        .fetch_all(&self.pool)
        .await?;
        let stages: Vec<StageTemplate> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT st.{} FROM stage_templates st JOIN journey_templates jt ON jt.id = st.journey_template_id \
             WHERE jt.deleted_at IS NULL AND ($1 IS NULL OR jt.hospital_id IS NULL OR jt.hospital_id = $1) ORDER BY st.journey_template_id, st.position",
            ST_COLS.replace(", ", ", st.")
        )))
        .bind(hospital)
        .fetch_all(&self.pool)
        .await?;
        for s in stages {
            if let Some(t) = ts.iter_mut().find(|t| t.id == s.journey_template_id) {
                t.stages.push(s);
            }
        }
        Ok(ts)
    }

    pub async fn journey_template(&self, id: &str) -> Result<JourneyTemplate> {
        let mut t: JourneyTemplate = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JT_COLS} FROM journey_templates WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        t.stages = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ST_COLS} FROM stage_templates WHERE journey_template_id = $1 ORDER BY position"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(t)
    }
}
