//! Responses: partial answers saved as the patient goes, the submission (validated, scored,
//! the negative-response rule applied, durable before the thank-you page), and the survey
//! domain events a negative response raises for the action centre.
//!
//! Answers are patient data: they are stored, returned to authorised readers, and never logged
//! or put into audit records (those name only ids, versions and flags).

use super::invitations::{COLS as INV_COLS, invitation_row};
use super::{Actor, Language, TokenError, hash_token, json};
use crate::page::{Cursor, Page};
use crate::{Db, Result, StoreError, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::survey::answer::Answers;
use px360_domain::survey::negative::NegativeReason;
use px360_domain::survey::response::{self, Outcome, ResponseErrors, Submission};
use px360_domain::survey::scoring::{self, NpsCategory, ResponseScores};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use uuid::Uuid;

/// Why answers were not stored.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The answers themselves: each with its question key and a catalogue code.
    #[error(transparent)]
    Invalid(#[from] ResponseErrors),
}

impl From<StoreError> for AnswerError {
    fn from(e: StoreError) -> Self {
        AnswerError::Token(TokenError::Store(e))
    }
}

impl From<sqlx::Error> for AnswerError {
    fn from(e: sqlx::Error) -> Self {
        AnswerError::Token(TokenError::Store(e.into()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyResponse {
    pub id: Uuid,
    pub invitation_id: Uuid,
    pub hospital_id: Uuid,
    pub template_id: Uuid,
    pub version_id: Uuid,
    pub version: i64,
    pub content_hash: String,
    pub language: Language,
    /// Answers by question key.
    #[schema(value_type = Object)]
    pub answers: Answers,
    pub is_partial: bool,
    #[schema(value_type = Option<Object>)]
    pub scores: Option<ResponseScores>,
    #[schema(value_type = Option<String>)]
    pub nps_category: Option<NpsCategory>,
    pub is_negative: bool,
    #[schema(value_type = Option<Vec<Object>>)]
    pub negative_reasons: Option<Vec<NegativeReason>>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// A survey domain event (today: `survey.response.negative`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyEvent {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub kind: String,
    pub response_id: Uuid,
    pub invitation_id: Uuid,
    pub template_id: Uuid,
    /// `px360_domain::survey::negative::SurveyResponseNegative` (keys and rule conditions, no
    /// answers' text, no patient identifiers).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// What a submission stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub response_id: Uuid,
    pub language: Language,
    pub negative: bool,
    pub scores: ResponseScores,
}

const COLS: &str = "id, invitation_id, hospital_id, template_id, version_id, version, content_hash, language, answers, is_partial, scores, nps_category, is_negative, negative_reasons, started_at, updated_at, submitted_at";

fn decode<T: serde::de::DeserializeOwned>(col: &str, s: &str) -> sqlx::Result<T> {
    serde_json::from_str(s).map_err(|e| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.to_string().into(),
    })
}

fn response_row(r: &AnyRow) -> sqlx::Result<SurveyResponse> {
    let answers: String = r.try_get("answers")?;
    let scores: Option<String> = r.try_get("scores")?;
    let nps: Option<String> = r.try_get("nps_category")?;
    let reasons: Option<String> = r.try_get("negative_reasons")?;
    Ok(SurveyResponse {
        id: row::uuid(r, "id")?,
        invitation_id: row::uuid(r, "invitation_id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        template_id: row::uuid(r, "template_id")?,
        version_id: row::uuid(r, "version_id")?,
        version: r.try_get("version")?,
        content_hash: r.try_get("content_hash")?,
        language: row::named(r, "language", Language::parse)?,
        answers: decode("answers", &answers)?,
        is_partial: row::flag(r, "is_partial")?,
        scores: scores.map(|s| decode("scores", &s)).transpose()?,
        nps_category: nps
            .map(|s| decode("nps_category", &format!("\"{s}\"")))
            .transpose()?,
        is_negative: row::flag(r, "is_negative")?,
        negative_reasons: reasons
            .map(|s| decode("negative_reasons", &s))
            .transpose()?,
        started_at: row::time(r, "started_at")?,
        updated_at: row::time(r, "updated_at")?,
        submitted_at: row::opt_time(r, "submitted_at")?,
    })
}

fn nps_name(c: NpsCategory) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Answers saved so far for an invitation (a partial response).
pub(crate) async fn saved_answers(pool: &AnyPool, invitation_id: Uuid) -> Result<Option<Answers>> {
    let s: Option<String> =
        sqlx::query_scalar("SELECT answers FROM survey_responses WHERE invitation_id = $1")
            .bind(invitation_id.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(s.map(|s| decode("answers", &s)).transpose()?)
}

impl Db {
    /// Save what the patient answered so far (any subset, each answer valid). Returns the
    /// questions still missing.
    pub async fn survey_save_partial(
        &self,
        token: &str,
        submission: &Submission,
    ) -> std::result::Result<Vec<String>, AnswerError> {
        let (mut tx, link) = self.begin_answer(token).await?;
        let outcome = response::validate(&link.version.survey, submission)?;
        let missing = match &outcome {
            Outcome::Partial(p) => p.missing().iter().map(|k| k.as_str().to_owned()).collect(),
            Outcome::Complete(_) => Vec::new(),
        };
        upsert(&mut tx, &link, outcome.answers(), true, None).await?;
        tx.commit().await?;
        Ok(missing)
    }

    /// Submit: every required answer present and valid; scored; the negative rule applied (a
    /// negative response records its domain event); pending reminders cancelled. Committed
    /// before returning, so the thank-you page is shown only for a durable answer.
    pub async fn survey_submit(
        &self,
        token: &str,
        submission: &Submission,
    ) -> std::result::Result<Submitted, AnswerError> {
        let (mut tx, link) = self.begin_answer(token).await?;
        let survey = &link.version.survey;
        let complete = response::validate(survey, submission)?.require_complete()?;
        let scores = scoring::score(survey, complete.answers());
        let negative = survey.negative(&complete);
        let now = Utc::now();
        let response_id = upsert(
            &mut tx,
            &link,
            complete.answers(),
            false,
            Some((
                &scores,
                negative.as_ref().map(|n| n.reasons.as_slice()),
                now,
            )),
        )
        .await?;
        let inv = &link.invitation;
        sqlx::query(
            "UPDATE survey_invitations SET status = 'answered', answered_at = $2, updated_at = $2 WHERE id = $1",
        )
        .bind(inv.id.to_string())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        // An answer stops the reminders.
        sqlx::query(
            "UPDATE survey_outbox SET status = 'cancelled', last_error = 'answered', updated_at = $2 \
             WHERE invitation_id = $1 AND status = 'pending'",
        )
        .bind(inv.id.to_string())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        let is_negative = negative.is_some();
        if let Some(n) = negative {
            let event = n.into_event(survey, response_id, now);
            sqlx::query(
                "INSERT INTO survey_events (id, hospital_id, kind, response_id, invitation_id, template_id, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (response_id, kind) DO NOTHING",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(inv.hospital_id.to_string())
            .bind(px360_domain::survey::negative::SurveyResponseNegative::EVENT_TYPE)
            .bind(response_id.to_string())
            .bind(inv.id.to_string())
            .bind(inv.template_id.to_string())
            .bind(json(&event))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            metrics::counter!("px360_survey_negative_responses_total").increment(1);
        }
        // The comments' sentiment and themes, stored with the response (and the hospital's
        // sentiment rule applied) in this transaction.
        if let Some(text) = crate::sentiment::answers_text(complete.answers()) {
            let dept = super::invitations::department_of(&mut tx, inv.id).await?;
            crate::sentiment::record_text(
                &mut tx,
                &crate::sentiment::TextItem {
                    kind: crate::sentiment::TextKind::SurveyComment,
                    id: response_id,
                    hospital_id: Some(inv.hospital_id),
                    department_id: dept,
                    occurred_at: now,
                },
                &text,
                "survey_submit",
                now,
            )
            .await?;
        }
        let h = inv.hospital_id.to_string();
        crate::audit::append(
            &mut tx,
            &Actor::patient().entry(
                "survey.response.submit",
                "survey_response",
                &response_id.to_string(),
                Some(&h),
                serde_json::json!({"invitation_id": inv.id, "version": survey.version(),
                                   "negative": is_negative}),
            ),
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("px360_survey_responses_total").increment(1);
        Ok(Submitted {
            response_id,
            language: inv.language,
            negative: is_negative,
            scores,
        })
    }

    /// The write transaction of an answer, with the token checked inside it: the first statement
    /// touches the invitation row (write lock / row lock), so a concurrent submit of the same
    /// link waits and then finds it answered.
    async fn begin_answer(
        &self,
        token: &str,
    ) -> std::result::Result<(crate::Tx, super::invitations::SurveyLink), AnswerError> {
        let hash = hash_token(token);
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE survey_invitations SET updated_at = updated_at \
             WHERE id = (SELECT invitation_id FROM survey_tokens WHERE token_hash = $1) RETURNING {INV_COLS}"
        )))
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(TokenError::Unknown)?;
        let invitation = invitation_row(&r)?;
        let link = self.link_of(invitation, Utc::now()).await?;
        Ok((tx, link))
    }

    pub async fn survey_response(&self, id: Uuid) -> Result<SurveyResponse> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM survey_responses WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(response_row(&r)?)
    }

    /// A page of responses, newest first (by last change), of one hospital (and department: the
    /// journey's, or the phone call's) or all.
    pub async fn survey_responses(
        &self,
        hospital: Option<Uuid>,
        department: Option<Uuid>,
        before: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<SurveyResponse>> {
        let mut w = crate::page::Filters::default();
        let h = hospital.map(|h| h.to_string());
        let d = department.map(|d| d.to_string());
        w.eq("r.hospital_id", h.as_deref());
        w.eq("COALESCE(ji.department_id, i.department_id)", d.as_deref());
        w.before("r.updated_at", "r.id", before);
        let cols = COLS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id \
             LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id {} ORDER BY r.updated_at DESC, r.id DESC LIMIT {}",
            w.sql(),
            limit.clamp(0, 1000) + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in w.binds() {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let out = rows
            .iter()
            .map(response_row)
            .collect::<sqlx::Result<Vec<_>>>()?;
        Ok(Page::from_rows(out, limit, |r| {
            Cursor::new(&ts(r.updated_at), &r.id.to_string())
        }))
    }

    /// Survey domain events, newest first, of one hospital or all.
    pub async fn survey_events(
        &self,
        hospital: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<SurveyEvent>> {
        let h = hospital.map(|h| h.to_string());
        let rows = sqlx::query(
            "SELECT id, hospital_id, kind, response_id, invitation_id, template_id, payload, created_at, consumed_at \
             FROM survey_events WHERE ($1 IS NULL OR hospital_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(h)
        .bind(limit.clamp(0, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let payload: String = r.try_get("payload")?;
                Ok(SurveyEvent {
                    id: row::uuid(r, "id")?,
                    hospital_id: row::uuid(r, "hospital_id")?,
                    kind: r.try_get("kind")?,
                    response_id: row::uuid(r, "response_id")?,
                    invitation_id: row::uuid(r, "invitation_id")?,
                    template_id: row::uuid(r, "template_id")?,
                    payload: decode("payload", &payload)?,
                    created_at: row::time(r, "created_at")?,
                    consumed_at: row::opt_time(r, "consumed_at")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}

type Final<'a> = (
    &'a ResponseScores,
    Option<&'a [NegativeReason]>,
    DateTime<Utc>,
);

/// Insert or update the invitation's one response row.
async fn upsert(
    tx: &mut crate::Tx,
    link: &super::invitations::SurveyLink,
    answers: &Answers,
    partial: bool,
    fin: Option<Final<'_>>,
) -> Result<Uuid> {
    let inv = &link.invitation;
    let survey = &link.version.survey;
    let now = ts(Utc::now());
    let (scores, nps, negative, reasons, submitted) = match fin {
        Some((s, reasons, at)) => (
            Some(json(s)),
            s.nps_category.map(nps_name),
            i64::from(reasons.is_some()),
            reasons.map(json),
            Some(ts(at)),
        ),
        None => (None, None, 0, None, None),
    };
    let id: String = sqlx::query_scalar(
        "INSERT INTO survey_responses (id, invitation_id, hospital_id, template_id, version_id, version, content_hash, language, \
         answers, is_partial, scores, nps_category, is_negative, negative_reasons, started_at, updated_at, submitted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) \
         ON CONFLICT (invitation_id) DO UPDATE SET answers = excluded.answers, is_partial = excluded.is_partial, \
         scores = excluded.scores, nps_category = excluded.nps_category, is_negative = excluded.is_negative, \
         negative_reasons = excluded.negative_reasons, updated_at = excluded.updated_at, submitted_at = excluded.submitted_at \
         RETURNING id",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(inv.id.to_string())
    .bind(inv.hospital_id.to_string())
    .bind(inv.template_id.to_string())
    .bind(link.version.id.to_string())
    .bind(i64::from(survey.version()))
    .bind(survey.content_hash())
    .bind(inv.language.as_str())
    .bind(json(answers))
    .bind(i64::from(partial))
    .bind(scores)
    .bind(nps)
    .bind(negative)
    .bind(reasons)
    .bind(&now)
    .bind(submitted)
    .fetch_one(&mut **tx)
    .await?;
    Uuid::parse_str(&id).map_err(|_| StoreError::Invalid("response id".into()))
}
