//! Journey templates and their stage templates.
//!
//! A template is group-wide (`hospital_id` NULL: the seeded ones, managed by PX Admin) or owned
//! by one hospital. The worker picks, for an event code, the hospital's own template before a
//! group-wide one, and never another hospital's.
//!
//! Stages can be added to and removed from an existing template. A removed stage is soft-deleted
//! (`deleted_at`): journeys already started keep their copy of the stage list, whose
//! `stage_instances` still reference it. Only live stages are listed, numbered 1..n without gaps,
//! and copied into new journeys.

use crate::row;
use crate::{Db, Result, StoreError, new_id, now_ts};
use chrono::{DateTime, Utc};
use px360_domain::event::FieldError;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row, Transaction};
use uuid::Uuid;

/// Most live stages a template may have, at creation and after adding stages.
pub const MAX_STAGES: usize = 50;

/// Why a stage could not be added or removed: a rule of the template, naming the field it
/// concerns (answered as a validation problem), or a storage error.
#[derive(Debug, thiserror::Error)]
pub enum StageEditError {
    #[error("{}: {}", .0.field, .0.message)]
    Rule(FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StageEditError {
    fn from(e: sqlx::Error) -> Self {
        StageEditError::Store(e.into())
    }
}

fn rule(field: &str, message: impl Into<String>) -> StageEditError {
    StageEditError::Rule(FieldError::new(field, message))
}

/// A stage template as stored, typed.
#[derive(Debug, Clone)]
pub struct StageTemplate {
    pub id: Uuid,
    pub journey_template_id: Uuid,
    pub position: i64,
    pub code: String,
    pub name: String,
    /// Event code that completes this stage (unique within the template).
    pub completing_event_code: String,
    /// Id of the survey template sent when this stage completes (published, same scope).
    pub survey_template_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for StageTemplate {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            journey_template_id: row::uuid(r, "journey_template_id")?,
            position: r.try_get("position")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            completing_event_code: r.try_get("completing_event_code")?,
            survey_template_ref: r.try_get("survey_template_ref")?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
        })
    }
}

/// A journey template as stored, typed, with its live stages in order.
#[derive(Debug, Clone)]
pub struct JourneyTemplate {
    pub id: Uuid,
    /// `None` = group-wide template.
    pub hospital_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub stages: Vec<StageTemplate>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for JourneyTemplate {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::opt_uuid(r, "hospital_id")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
            stages: Vec::new(),
        })
    }
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
    /// Move the stage to this 1-based place among the template's stages (the stages in between
    /// shift by one). Journeys already started keep their order.
    pub position: Option<i64>,
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
        let survey = survey_ref(tx, hospital_id, s.survey_template_ref.as_deref())
            .await
            .map_err(|e| match e {
                StageEditError::Rule(f) => {
                    StoreError::Invalid(format!("stages[{}].{}: {}", i + 1, f.field, f.message))
                }
                StageEditError::Store(e) => e,
            })?;
        let st: StageTemplate = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code, survey_template_ref, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {ST_COLS}"
        )))
        .bind(new_id())
        .bind(jt.id.to_string())
        .bind(i as i64 + 1)
        .bind(&s.code)
        .bind(&s.name)
        .bind(&s.completing_event_code)
        .bind(survey)
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

/// A removed stage is not found: it lives on only in the journeys started before its removal.
///
/// `survey_template_ref` names a survey template by id (see [`survey_ref`]); an empty string
/// removes the reference.
pub async fn update_stage(
    conn: &mut AnyConnection,
    template_id: &str,
    stage_id: &str,
    c: &StageChanges,
) -> Result<StageTemplate> {
    // The write first (SQLite write lock up front); a refused reference rolls it back with the
    // caller's transaction.
    let st: StageTemplate = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE stage_templates SET name = COALESCE($3, name), completing_event_code = COALESCE($4, completing_event_code), \
         survey_template_ref = CASE WHEN $5 = '' THEN NULL ELSE COALESCE($5, survey_template_ref) END, updated_at = $6 \
         WHERE id = $2 AND journey_template_id = $1 AND deleted_at IS NULL RETURNING {ST_COLS}"
    )))
    .bind(template_id)
    .bind(stage_id)
    .bind(&c.name)
    .bind(&c.completing_event_code)
    .bind(&c.survey_template_ref)
    .bind(now_ts())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if let Some(r) = c.survey_template_ref.as_deref().filter(|r| !r.is_empty()) {
        let hospital: Option<String> =
            sqlx::query_scalar("SELECT hospital_id FROM journey_templates WHERE id = $1")
                .bind(template_id)
                .fetch_one(&mut *conn)
                .await?;
        survey_ref(conn, hospital.as_deref(), Some(r))
            .await
            .map_err(|e| match e {
                StageEditError::Rule(f) => {
                    StoreError::Invalid(format!("{}: {}", f.field, f.message))
                }
                StageEditError::Store(e) => e,
            })?;
    }
    Ok(st)
}

/// A stage's survey reference must be the id of a published, not archived survey template in
/// the journey template's scope (`crate::surveys::templates::check_stage_ref`). Returns the
/// value to store.
async fn survey_ref(
    conn: &mut AnyConnection,
    journey_hospital: Option<&str>,
    r: Option<&str>,
) -> std::result::Result<Option<String>, StageEditError> {
    use crate::surveys::templates::{StageRefErrorOrStore, check_stage_ref};
    let Some(r) = r.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    match check_stage_ref(conn, journey_hospital, r).await {
        Ok(id) => Ok(Some(id)),
        Err(StageRefErrorOrStore::Rule(e)) => Err(rule("survey_template_ref", e.to_string())),
        Err(StageRefErrorOrStore::Store(e)) => Err(e.into()),
    }
}

/// First statement of every stage edit. Bumping the template's `updated_at` takes the SQLite write
/// lock up front and, on PostgreSQL, the template's row lock, so concurrent edits of one
/// template's stages run one after the other and each renumbers the positions the previous one
/// committed.
async fn lock_template(conn: &mut AnyConnection, id: &str, now: &str) -> Result<JourneyTemplate> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE journey_templates SET updated_at = $2 WHERE id = $1 AND deleted_at IS NULL RETURNING {JT_COLS}"
    )))
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

async fn live_stages(conn: &mut AnyConnection, template_id: &str) -> Result<Vec<StageTemplate>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ST_COLS} FROM stage_templates WHERE journey_template_id = $1 AND deleted_at IS NULL ORDER BY position"
    )))
    .bind(template_id)
    .fetch_all(conn)
    .await?)
}

/// Move the live stages at `from` and after by `delta` (+1 or -1). Positions are unique among live
/// stages and both engines check that row by row within one UPDATE, so a direct shift can collide
/// with a neighbour not yet moved; parking the rows at negative positions first cannot collide
/// (live positions are >= 1).
async fn shift_from(
    conn: &mut AnyConnection,
    template_id: &str,
    from: i64,
    delta: i64,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE stage_templates SET position = -(position + $3), updated_at = $4 \
         WHERE journey_template_id = $1 AND deleted_at IS NULL AND position >= $2",
    )
    .bind(template_id)
    .bind(from)
    .bind(delta)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE stage_templates SET position = -position \
         WHERE journey_template_id = $1 AND deleted_at IS NULL AND position < 0",
    )
    .bind(template_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Add a stage to an existing template at the 1-based `position` among its live stages (default:
/// last); the stages from that position on move down one. Journeys already started are not
/// changed. Returns the template with its live stages, and the new stage.
pub async fn add_stage(
    tx: &mut Transaction<'static, Any>,
    template_id: &str,
    s: &NewStageTemplate,
    position: Option<i64>,
) -> std::result::Result<(JourneyTemplate, StageTemplate), StageEditError> {
    let now = now_ts();
    let mut jt = lock_template(tx, template_id, &now).await?;
    let live = live_stages(tx, template_id).await?;
    if live.len() >= MAX_STAGES {
        return Err(rule(
            "stages",
            format!("the template already has the maximum of {MAX_STAGES} stages"),
        ));
    }
    if let Some(other) = live
        .iter()
        .find(|o| o.completing_event_code == s.completing_event_code)
    {
        return Err(rule(
            "completing_event_code",
            format!("is already used by stage {} of this template", other.code),
        ));
    }
    let last = live.len() as i64 + 1;
    let position = match position {
        None => last,
        Some(p) if (1..=last).contains(&p) => p,
        Some(_) => {
            return Err(rule(
                "position",
                format!(
                    "must be between 1 and {last} (the template has {} stages)",
                    live.len()
                ),
            ));
        }
    };
    let hospital = jt.hospital_id.map(|h| h.to_string());
    let survey = survey_ref(tx, hospital.as_deref(), s.survey_template_ref.as_deref()).await?;
    shift_from(tx, template_id, position, 1, &now).await?;
    let added: StageTemplate = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code, survey_template_ref, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {ST_COLS}"
    )))
    .bind(new_id())
    .bind(template_id)
    .bind(position)
    .bind(&s.code)
    .bind(&s.name)
    .bind(&s.completing_event_code)
    .bind(survey)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    jt.stages = live_stages(tx, template_id).await?;
    Ok((jt, added))
}

/// Remove a live stage from a template: soft-deleted, so the `stage_instances` of journeys
/// already started keep their reference and their stage list; the live stages after it move up
/// one. The last live stage cannot be removed. Returns the template with its live stages, and the
/// removed stage as it was.
pub async fn remove_stage(
    tx: &mut Transaction<'static, Any>,
    template_id: &str,
    stage_id: &str,
) -> std::result::Result<(JourneyTemplate, StageTemplate), StageEditError> {
    let now = now_ts();
    let mut jt = lock_template(tx, template_id, &now).await?;
    let live = live_stages(tx, template_id).await?;
    let removed = live
        .iter()
        .find(|s| s.id.to_string() == stage_id)
        .cloned()
        .ok_or(StoreError::NotFound)?;
    if live.len() == 1 {
        return Err(rule(
            "stages",
            "a template must keep at least one stage, and this is its last one",
        ));
    }
    sqlx::query(
        "UPDATE stage_templates SET deleted_at = $3, updated_at = $3 \
         WHERE id = $2 AND journey_template_id = $1 AND deleted_at IS NULL",
    )
    .bind(template_id)
    .bind(stage_id)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    shift_from(tx, template_id, removed.position + 1, -1, &now).await?;
    jt.stages = live_stages(tx, template_id).await?;
    Ok((jt, removed))
}

/// Move a live stage to the 1-based `position` among the template's live stages; the stages in
/// between shift by one. Journeys already started keep their own order. Returns the template
/// with its live stages renumbered, and the moved stage's previous position.
pub async fn move_stage(
    tx: &mut Transaction<'static, Any>,
    template_id: &str,
    stage_id: &str,
    position: i64,
) -> std::result::Result<(JourneyTemplate, i64), StageEditError> {
    let now = now_ts();
    let mut jt = lock_template(tx, template_id, &now).await?;
    let mut live = live_stages(tx, template_id).await?;
    let from = live
        .iter()
        .position(|s| s.id.to_string() == stage_id)
        .ok_or(StoreError::NotFound)?;
    let last = live.len() as i64;
    if !(1..=last).contains(&position) {
        return Err(rule(
            "position",
            format!("must be between 1 and {last} (the template has {last} stages)"),
        ));
    }
    let previous = live[from].position;
    let moved = live.remove(from);
    live.insert((position - 1) as usize, moved);
    // Park every live stage at its negated position (cannot collide: live positions are >= 1),
    // then number them in the new order.
    sqlx::query(
        "UPDATE stage_templates SET position = -position, updated_at = $2 \
         WHERE journey_template_id = $1 AND deleted_at IS NULL",
    )
    .bind(template_id)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    for (i, s) in live.iter().enumerate() {
        sqlx::query("UPDATE stage_templates SET position = $2 WHERE id = $1")
            .bind(s.id.to_string())
            .bind(i as i64 + 1)
            .execute(&mut **tx)
            .await?;
    }
    jt.stages = live_stages(tx, template_id).await?;
    Ok((jt, previous))
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
             WHERE st.deleted_at IS NULL AND jt.deleted_at IS NULL AND ($1 IS NULL OR jt.hospital_id IS NULL OR jt.hospital_id = $1) \
             ORDER BY st.journey_template_id, st.position",
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
            "SELECT {ST_COLS} FROM stage_templates WHERE journey_template_id = $1 AND deleted_at IS NULL ORDER BY position"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(t)
    }
}
