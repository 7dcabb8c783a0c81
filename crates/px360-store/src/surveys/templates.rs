//! Survey templates (group-wide or per hospital) and their frozen, published versions.
//!
//! The lifecycle rules are `px360_domain::survey::lifecycle`: a row is loaded into a domain
//! `Template`, the domain edits, publishes or archives it, and the result is written back with
//! its audit record in one transaction. Publishing inserts the frozen version
//! (`survey_versions`), which is never changed afterwards; every invitation and response names
//! the version it used.

use super::{Actor, invalid, json};
use crate::row;
use crate::{Db, Result, StoreError, now_ts};
use chrono::{DateTime, Utc};
use px360_domain::survey::content::SurveyContent;
use px360_domain::survey::lifecycle::{LifecycleError, Status, Template};
use px360_domain::survey::publish::PublishedSurvey;
use px360_domain::survey::trigger::TriggerPolicy;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

/// A survey template as stored: its draft content and trigger policy.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyTemplate {
    pub id: Uuid,
    /// `null` = group-wide.
    pub hospital_id: Option<Uuid>,
    /// Unique within its scope: lowercase letters, digits and `-`.
    pub code: String,
    pub name: String,
    #[schema(value_type = String, example = "published")]
    pub status: Status,
    /// The version the draft content has (or will have once published).
    pub version: u32,
    /// The newest version patients can currently receive.
    pub published_version: Option<u32>,
    /// The draft (`px360_domain::survey::content`).
    #[schema(value_type = Object)]
    pub content: SurveyContent,
    /// When and how invitations go out (`px360_domain::survey::trigger`).
    #[schema(value_type = Object)]
    pub policy: TriggerPolicy,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A frozen version.
#[derive(Debug, Clone)]
pub struct SurveyVersion {
    pub id: Uuid,
    pub template_id: Uuid,
    pub version: u32,
    pub survey: PublishedSurvey,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewSurveyTemplate {
    /// Omit for a group-wide template (PX Admin only).
    pub hospital_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub content: SurveyContent,
    /// Omit for the default policy (100 % sampled, 7-day recontact window, quiet hours 21–08,
    /// 7-day expiry, one reminder after 48 h, WhatsApp → SMS → email).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub policy: TriggerPolicy,
}

/// Changes to a template (`None` keeps the value). New content on a published template opens
/// the next version's draft.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyTemplateChanges {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub content: Option<SurveyContent>,
    #[schema(value_type = Option<Object>)]
    pub policy: Option<TriggerPolicy>,
}

/// Why a template change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SurveyTemplateError {
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SurveyTemplateError {
    fn from(e: sqlx::Error) -> Self {
        SurveyTemplateError::Store(e.into())
    }
}

/// Why a stage's survey reference is refused (journey-template stage writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StageRefError {
    #[error("is not the id of a survey template")]
    Unknown,
    #[error("belongs to another hospital")]
    OtherHospital,
    #[error("has no published version")]
    NotPublished,
    #[error("is archived")]
    Archived,
}

pub fn code_ok(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

const COLS: &str = "id, hospital_id, code, name, status, version, published_version, content, policy, created_at, updated_at";

fn template_row(r: &AnyRow) -> sqlx::Result<SurveyTemplate> {
    let content: String = r.try_get("content")?;
    let policy: String = r.try_get("policy")?;
    let bad = |col: &str, e: String| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.into(),
    };
    let version: i64 = r.try_get("version")?;
    let published: Option<i64> = r.try_get("published_version")?;
    Ok(SurveyTemplate {
        id: row::uuid(r, "id")?,
        hospital_id: row::opt_uuid(r, "hospital_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        status: row::named(r, "status", Status::parse)?,
        version: u32::try_from(version).map_err(|e| bad("version", e.to_string()))?,
        published_version: published
            .map(u32::try_from)
            .transpose()
            .map_err(|e| bad("published_version", e.to_string()))?,
        content: SurveyContent::from_json(&content).map_err(|e| bad("content", e.to_string()))?,
        policy: serde_json::from_str(&policy).map_err(|e| bad("policy", e.to_string()))?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

fn version_row(r: &AnyRow) -> sqlx::Result<SurveyVersion> {
    let stored: String = r.try_get("stored")?;
    let v: i64 = r.try_get("version")?;
    let survey =
        PublishedSurvey::from_stored_json(&stored).map_err(|e| sqlx::Error::ColumnDecode {
            index: "stored".into(),
            source: e.to_string().into(),
        })?;
    Ok(SurveyVersion {
        id: row::uuid(r, "id")?,
        template_id: row::uuid(r, "template_id")?,
        version: u32::try_from(v).unwrap_or(0),
        survey,
        published_at: row::time(r, "published_at")?,
    })
}

impl SurveyTemplate {
    fn domain(&self) -> Template {
        Template {
            id: self.id,
            hospital_id: self.hospital_id,
            status: self.status,
            version: self.version,
            published_version: self.published_version,
            content: self.content.clone(),
        }
    }
}

/// Lock and read a template inside a write transaction (the UPDATE is the first statement, so
/// SQLite takes the write lock up front and PostgreSQL the row lock).
async fn lock(tx: &mut crate::Tx, id: Uuid, now: &str) -> Result<SurveyTemplate> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE survey_templates SET updated_at = $2 WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(template_row(&r)?)
}

async fn write_back(tx: &mut crate::Tx, t: &Template, name: &str, policy: &TriggerPolicy) -> Result<SurveyTemplate> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE survey_templates SET name = $2, status = $3, version = $4, published_version = $5, content = $6, policy = $7 \
         WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(t.id.to_string())
    .bind(name)
    .bind(t.status.as_str())
    .bind(i64::from(t.version))
    .bind(t.published_version.map(i64::from))
    .bind(t.content.to_json())
    .bind(json(policy))
    .fetch_one(&mut **tx)
    .await?;
    Ok(template_row(&r)?)
}

fn name_ok(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= 200
}

impl Db {
    /// Templates visible in a hospital scope: group-wide ones and that hospital's (`None`: all).
    pub async fn survey_templates(&self, hospital: Option<Uuid>) -> Result<Vec<SurveyTemplate>> {
        let rows = match hospital {
            Some(h) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLS} FROM survey_templates WHERE hospital_id IS NULL OR hospital_id = $1 ORDER BY code, id"
            )))
            .bind(h.to_string())
            .fetch_all(&self.pool)
            .await?,
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLS} FROM survey_templates ORDER BY code, id"
            )))
            .fetch_all(&self.pool)
            .await?,
        };
        Ok(rows.iter().map(template_row).collect::<sqlx::Result<_>>()?)
    }

    pub async fn survey_template(&self, id: Uuid) -> Result<SurveyTemplate> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM survey_templates WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(template_row(&r)?)
    }

    /// One frozen version by its id (invitations and responses name it).
    pub async fn survey_version(&self, version_id: Uuid) -> Result<SurveyVersion> {
        let r = sqlx::query(
            "SELECT id, template_id, version, stored, published_at FROM survey_versions WHERE id = $1",
        )
        .bind(version_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(version_row(&r)?)
    }

    /// The version new invitations of a template use: its newest published one, unless the
    /// template is archived.
    pub async fn current_survey_version(&self, template_id: Uuid) -> Result<Option<SurveyVersion>> {
        current_version(&mut *self.pool.acquire().await?, template_id).await
    }

    pub async fn create_survey_template(
        &self,
        actor: &Actor,
        t: &NewSurveyTemplate,
    ) -> Result<SurveyTemplate> {
        if !code_ok(&t.code) {
            return Err(invalid("code: must be 1-64 characters of a-z, 0-9 and -"));
        }
        if !name_ok(&t.name) {
            return Err(invalid("name: is required (1-200 characters)"));
        }
        let id = Uuid::now_v7();
        let now = now_ts();
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO survey_templates (id, hospital_id, code, name, status, version, published_version, content, policy, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'draft', 1, NULL, $5, $6, $7, $8, $8) RETURNING {COLS}"
        )))
        .bind(id.to_string())
        .bind(t.hospital_id.map(|h| h.to_string()))
        .bind(&t.code)
        .bind(t.name.trim())
        .bind(t.content.to_json())
        .bind(json(&t.policy))
        .bind(actor.actor_id.clone())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let row = template_row(&r)?;
        let hospital = row.hospital_id.map(|h| h.to_string());
        crate::audit::append(
            &mut tx,
            &actor.entry(
                "survey_template.create",
                "survey_template",
                &id.to_string(),
                hospital.as_deref(),
                serde_json::json!({"code": row.code, "name": row.name, "version": 1,
                                   "questions": row.content.questions.len()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn update_survey_template(
        &self,
        actor: &Actor,
        id: Uuid,
        c: &SurveyTemplateChanges,
    ) -> std::result::Result<SurveyTemplate, SurveyTemplateError> {
        if let Some(n) = &c.name
            && !name_ok(n)
        {
            return Err(invalid("name: is required (1-200 characters)").into());
        }
        let now = now_ts();
        let mut tx = self.writer.begin().await?;
        let cur = lock(&mut tx, id, &now).await?;
        let mut t = cur.domain();
        if t.status == Status::Archived {
            return Err(LifecycleError::Archived.into());
        }
        if let Some(content) = &c.content {
            t.edit(content.clone())?;
        }
        let name = c.name.as_deref().map(str::trim).unwrap_or(&cur.name);
        let policy = c.policy.as_ref().unwrap_or(&cur.policy);
        let row = write_back(&mut tx, &t, name, policy).await?;
        let hospital = row.hospital_id.map(|h| h.to_string());
        crate::audit::append(
            &mut tx,
            &actor.entry(
                "survey_template.update",
                "survey_template",
                &id.to_string(),
                hospital.as_deref(),
                serde_json::json!({"name": c.name.is_some().then_some(name),
                                   "content_changed": c.content.is_some(),
                                   "policy": c.policy.as_ref().map(|p| p.settings().clone()),
                                   "version": row.version, "status": row.status.as_str()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Validate and freeze the draft as a new version.
    pub async fn publish_survey_template(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> std::result::Result<(SurveyTemplate, SurveyVersion), SurveyTemplateError> {
        let now = now_ts();
        let mut tx = self.writer.begin().await?;
        let cur = lock(&mut tx, id, &now).await?;
        let mut t = cur.domain();
        let published = t.publish()?;
        let row = write_back(&mut tx, &t, &cur.name, &cur.policy).await?;
        let vid = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO survey_versions (id, template_id, version, content_hash, stored, published_by, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(vid.to_string())
        .bind(id.to_string())
        .bind(i64::from(published.version()))
        .bind(published.content_hash())
        .bind(published.to_stored_json())
        .bind(actor.actor_id.clone())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let hospital = row.hospital_id.map(|h| h.to_string());
        crate::audit::append(
            &mut tx,
            &actor.entry(
                "survey_template.publish",
                "survey_template",
                &id.to_string(),
                hospital.as_deref(),
                serde_json::json!({"version": published.version(), "version_id": vid,
                                   "content_hash": published.content_hash()}),
            ),
        )
        .await?;
        tx.commit().await?;
        let version = SurveyVersion {
            id: vid,
            template_id: id,
            version: published.version(),
            published_at: row.updated_at,
            survey: published,
        };
        Ok((row, version))
    }

    /// Stop new invitations. Links already sent stay answerable until they expire.
    pub async fn archive_survey_template(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> std::result::Result<SurveyTemplate, SurveyTemplateError> {
        let now = now_ts();
        let mut tx = self.writer.begin().await?;
        let cur = lock(&mut tx, id, &now).await?;
        let mut t = cur.domain();
        t.archive()?;
        let row = write_back(&mut tx, &t, &cur.name, &cur.policy).await?;
        let hospital = row.hospital_id.map(|h| h.to_string());
        crate::audit::append(
            &mut tx,
            &actor.entry(
                "survey_template.archive",
                "survey_template",
                &id.to_string(),
                hospital.as_deref(),
                serde_json::json!({"version": row.version}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}

pub(crate) async fn current_version(
    conn: &mut sqlx::AnyConnection,
    template_id: Uuid,
) -> Result<Option<SurveyVersion>> {
    let r = sqlx::query(
        "SELECT v.id, v.template_id, v.version, v.stored, v.published_at FROM survey_versions v \
         JOIN survey_templates t ON t.id = v.template_id \
         WHERE t.id = $1 AND t.status <> 'archived' AND v.version = t.published_version",
    )
    .bind(template_id.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(r.as_ref().map(version_row).transpose()?)
}

/// Check a stage's survey reference: the id of a survey template in the journey template's
/// scope (a group-wide journey template may only reference group-wide surveys), published and
/// not archived. Returns the canonical id text to store.
pub async fn check_stage_ref(
    conn: &mut sqlx::AnyConnection,
    journey_hospital_id: Option<&str>,
    survey_ref: &str,
) -> std::result::Result<String, StageRefErrorOrStore> {
    let id = Uuid::parse_str(survey_ref.trim()).map_err(|_| StageRefError::Unknown)?;
    let r = sqlx::query(
        "SELECT hospital_id, status, published_version FROM survey_templates WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from)?
    .ok_or(StageRefError::Unknown)?;
    let hospital: Option<String> = r.try_get("hospital_id").map_err(StoreError::from)?;
    let status: String = r.try_get("status").map_err(StoreError::from)?;
    let published: Option<i64> = r.try_get("published_version").map_err(StoreError::from)?;
    if let Some(h) = &hospital
        && journey_hospital_id != Some(h.as_str())
    {
        return Err(StageRefError::OtherHospital.into());
    }
    if status == "archived" {
        return Err(StageRefError::Archived.into());
    }
    if published.is_none() {
        return Err(StageRefError::NotPublished.into());
    }
    Ok(id.to_string())
}

/// [`check_stage_ref`]'s error: a rule or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StageRefErrorOrStore {
    #[error("survey_template_ref {0}")]
    Rule(#[from] StageRefError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
