//! Quality-improvement projects (issue 18, item 4): the project with its measures, milestones,
//! linked actions and complaint themes (validated by `px360_domain::qi::project::Project::new`
//! in the API and written whole), and its PDSA cycles moved by the domain's machine
//! (`px360_domain::qi::pdsa`). The run chart's series is read from the analytics roll-ups by
//! the API; nothing here is patient data.

use crate::{Db, Result, StoreError, row, ts};
use chrono::{DateTime, NaiveDate, Utc};
use px360_domain::qi::pdsa::{PdsaCommand, PdsaStage};
use px360_domain::qi::project::{Measure, Milestone, ProjectStatus};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QiProject {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub title: String,
    pub aim: String,
    pub owner_id: Uuid,
    #[schema(value_type = String, example = "active")]
    pub status: ProjectStatus,
    /// Run-chart points: `week` or `month`.
    pub granularity: String,
    /// First local day of the run chart.
    pub baseline_from: NaiveDate,
    /// The day the change under test was introduced: points before it are the baseline.
    pub change_date: Option<NaiveDate>,
    /// `{"kpi": "nps", "baseline": 20, "target": 40}`: analytics KPIs with baseline and target.
    #[schema(value_type = Vec<Object>)]
    pub measures: Vec<Measure>,
    /// `{"title": …, "due": "2026-03-01", "done": null}`.
    #[schema(value_type = Vec<Object>)]
    pub milestones: Vec<Milestone>,
    pub action_ids: Vec<Uuid>,
    /// Complaint category codes (themes) the project addresses.
    pub themes: Vec<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A validated project as the API hands it over (insert and whole update).
#[derive(Debug, Clone)]
pub struct ProjectWrite {
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub title: String,
    pub aim: String,
    pub owner_id: Uuid,
    pub status: ProjectStatus,
    pub granularity: String,
    pub baseline_from: NaiveDate,
    pub change_date: Option<NaiveDate>,
    pub measures: Vec<Measure>,
    pub milestones: Vec<Milestone>,
    pub action_ids: Vec<Uuid>,
    pub themes: Vec<String>,
}

const COLS: &str = "id, hospital_id, department_id, title, aim, owner_id, status, granularity, baseline_from, change_date, measures, milestones, action_ids, themes, created_by, created_at, updated_at";

fn decode<T: serde::de::DeserializeOwned>(col: &str, s: &str) -> sqlx::Result<T> {
    serde_json::from_str(s).map_err(|e| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.to_string().into(),
    })
}

fn date(col: &str, s: &str) -> sqlx::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.to_string().into(),
    })
}

fn project_row(r: &sqlx::any::AnyRow) -> sqlx::Result<QiProject> {
    let change: Option<String> = r.try_get("change_date")?;
    Ok(QiProject {
        id: row::uuid(r, "id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        department_id: row::opt_uuid(r, "department_id")?,
        title: r.try_get("title")?,
        aim: r.try_get("aim")?,
        owner_id: row::uuid(r, "owner_id")?,
        status: row::named(r, "status", ProjectStatus::parse)?,
        granularity: r.try_get("granularity")?,
        baseline_from: date("baseline_from", &r.try_get::<String, _>("baseline_from")?)?,
        change_date: change.map(|c| date("change_date", &c)).transpose()?,
        measures: decode("measures", &r.try_get::<String, _>("measures")?)?,
        milestones: decode("milestones", &r.try_get::<String, _>("milestones")?)?,
        action_ids: decode("action_ids", &r.try_get::<String, _>("action_ids")?)?,
        themes: decode("themes", &r.try_get::<String, _>("themes")?)?,
        created_by: row::opt_uuid(r, "created_by")?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub async fn insert(
    c: &mut AnyConnection,
    w: &ProjectWrite,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<QiProject> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO qi_projects ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING {COLS}"
    )))
    .bind(Uuid::now_v7().to_string())
    .bind(w.hospital_id.to_string())
    .bind(w.department_id.map(|d| d.to_string()))
    .bind(&w.title)
    .bind(&w.aim)
    .bind(w.owner_id.to_string())
    .bind(w.status.as_str())
    .bind(&w.granularity)
    .bind(day(w.baseline_from))
    .bind(w.change_date.map(day))
    .bind(json(&w.measures))
    .bind(json(&w.milestones))
    .bind(json(&w.action_ids))
    .bind(json(&w.themes))
    .bind(by.map(|u| u.to_string()))
    .bind(ts(at))
    .fetch_one(&mut *c)
    .await?;
    Ok(project_row(&r)?)
}

/// Replace every editable field (the project stays in its hospital).
pub async fn update(
    c: &mut AnyConnection,
    id: Uuid,
    w: &ProjectWrite,
    at: DateTime<Utc>,
) -> Result<QiProject> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE qi_projects SET department_id = $2, title = $3, aim = $4, owner_id = $5, status = $6, granularity = $7, baseline_from = $8, change_date = $9, \
         measures = $10, milestones = $11, action_ids = $12, themes = $13, updated_at = $14 WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(w.department_id.map(|d| d.to_string()))
    .bind(&w.title)
    .bind(&w.aim)
    .bind(w.owner_id.to_string())
    .bind(w.status.as_str())
    .bind(&w.granularity)
    .bind(day(w.baseline_from))
    .bind(w.change_date.map(day))
    .bind(json(&w.measures))
    .bind(json(&w.milestones))
    .bind(json(&w.action_ids))
    .bind(json(&w.themes))
    .bind(ts(at))
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(project_row(&r)?)
}

/// A PDSA cycle of a project.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PdsaCycle {
    pub id: Uuid,
    pub project_id: Uuid,
    /// 1, 2, … in order of creation.
    pub seq: i64,
    pub title: String,
    /// `plan`, `do`, `study`, `act` or `closed`.
    pub stage: String,
    /// `adopt`, `adapt` or `abandon` once closed.
    pub decision: Option<String>,
    pub plan_note: Option<String>,
    pub do_note: Option<String>,
    pub study_note: Option<String>,
    pub act_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PdsaCycle {
    /// The domain's stage (a stored row always has one: written through the machine).
    pub fn domain_stage(&self) -> Option<PdsaStage> {
        PdsaStage::from_parts(&self.stage, self.decision.as_deref())
    }
}

const PDSA_COLS: &str = "id, project_id, seq, title, stage, decision, plan_note, do_note, study_note, act_note, created_at, updated_at";

fn pdsa_row(r: &sqlx::any::AnyRow) -> sqlx::Result<PdsaCycle> {
    Ok(PdsaCycle {
        id: row::uuid(r, "id")?,
        project_id: row::uuid(r, "project_id")?,
        seq: r.try_get("seq")?,
        title: r.try_get("title")?,
        stage: r.try_get("stage")?,
        decision: r.try_get("decision")?,
        plan_note: r.try_get("plan_note")?,
        do_note: r.try_get("do_note")?,
        study_note: r.try_get("study_note")?,
        act_note: r.try_get("act_note")?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

/// Start a cycle in Plan; it takes the next number of the project.
pub async fn add_cycle(
    c: &mut AnyConnection,
    project: Uuid,
    title: &str,
    at: DateTime<Utc>,
) -> Result<PdsaCycle> {
    // Touch the project first: the write lock (SQLite) or row lock (PostgreSQL) serialises
    // concurrent additions, so two cycles never get the same number.
    sqlx::query("UPDATE qi_projects SET updated_at = $2 WHERE id = $1")
        .bind(project.to_string())
        .bind(ts(at))
        .execute(&mut *c)
        .await?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM qi_pdsa_cycles WHERE project_id = $1",
    )
    .bind(project.to_string())
    .fetch_one(&mut *c)
    .await?;
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO qi_pdsa_cycles (id, project_id, seq, title, stage, created_at, updated_at) VALUES ($1, $2, $3, $4, 'plan', $5, $5) RETURNING {PDSA_COLS}"
    )))
    .bind(Uuid::now_v7().to_string())
    .bind(project.to_string())
    .bind(seq)
    .bind(title)
    .bind(ts(at))
    .fetch_one(&mut *c)
    .await?;
    Ok(pdsa_row(&r)?)
}

pub async fn cycle(c: &mut AnyConnection, id: Uuid) -> Result<PdsaCycle> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PDSA_COLS} FROM qi_pdsa_cycles WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(pdsa_row(&r)?)
}

/// Store a transition the domain accepted: the new stage, and `note` in the column of the
/// stage being left.
pub async fn advance(
    c: &mut AnyConnection,
    id: Uuid,
    from: PdsaStage,
    next: PdsaStage,
    command: PdsaCommand,
    note: &str,
    at: DateTime<Utc>,
) -> Result<PdsaCycle> {
    let col = match from {
        PdsaStage::Plan => "plan_note",
        PdsaStage::Do => "do_note",
        PdsaStage::Study => "study_note",
        PdsaStage::Act | PdsaStage::Closed(_) => "act_note",
    };
    let decision = match command {
        PdsaCommand::Close(d) => Some(d.as_str()),
        _ => None,
    };
    // The stage it left is part of the condition: a concurrent move of the same cycle fails.
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE qi_pdsa_cycles SET stage = $3, decision = $4, {col} = $5, updated_at = $6 WHERE id = $1 AND stage = $2 RETURNING {PDSA_COLS}"
    )))
    .bind(id.to_string())
    .bind(from.name())
    .bind(next.name())
    .bind(decision)
    .bind(note.trim())
    .bind(ts(at))
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| StoreError::Conflict("the cycle moved meanwhile".into()))?;
    Ok(pdsa_row(&r)?)
}

impl Db {
    pub async fn qi_project(&self, id: Uuid) -> Result<QiProject> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM qi_projects WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(project_row(&r)?)
    }

    /// Projects in scope (a department scope sees only its department's, like every
    /// department-scoped list), most recently changed first.
    pub async fn qi_projects(
        &self,
        hospital: Option<&str>,
        department: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<QiProject>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM qi_projects WHERE ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) \
             AND ($3 IS NULL OR status = $3) ORDER BY updated_at DESC, id DESC LIMIT 500"
        )))
        .bind(hospital.map(str::to_owned))
        .bind(department.map(str::to_owned))
        .bind(status.map(str::to_owned))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(project_row)
            .collect::<sqlx::Result<Vec<_>>>()?)
    }

    pub async fn qi_cycles(&self, project: Uuid) -> Result<Vec<PdsaCycle>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PDSA_COLS} FROM qi_pdsa_cycles WHERE project_id = $1 ORDER BY seq"
        )))
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(pdsa_row)
            .collect::<sqlx::Result<Vec<_>>>()?)
    }
}
