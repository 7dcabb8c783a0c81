//! Calls: insert (validated by `px360_domain::callcentre::call::CallRecord` in the API), read,
//! list newest first with keyset paging, and the links a call gains afterwards (the complaint,
//! phone survey or feedback made from it).

use super::string_list;
use crate::page::{Cursor, Filters, Page};
use crate::sentiment::{TextItem, TextKind, record_text};
use crate::{Db, Result, StoreError, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::callcentre::call::{CallRecord, Caller, Direction, Outcome, Reason};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// The sentiment engine's verdict on a call's notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotesSentiment {
    /// `negative`, `neutral` or `positive`.
    pub label: String,
    /// −1 ..= 1, to three decimals.
    pub score: f64,
    /// Theme ids (`waiting_time`, `staff_attitude`, …).
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Call {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub agent_id: Uuid,
    #[schema(value_type = String, example = "inbound")]
    pub direction: Direction,
    #[schema(value_type = String, example = "patient")]
    pub caller: Caller,
    pub patient_id: Option<Uuid>,
    /// How the patient was found: `mrn` or `phone` (never the value typed).
    pub lookup_kind: Option<String>,
    #[schema(value_type = String, example = "appointment")]
    pub reason: Reason,
    #[schema(value_type = String, example = "resolved")]
    pub outcome: Outcome,
    pub duration_secs: i64,
    pub started_at: DateTime<Utc>,
    /// Free text (patient data).
    pub notes: Option<String>,
    pub sentiment: Option<NotesSentiment>,
    pub complaint_id: Option<Uuid>,
    pub survey_response_id: Option<Uuid>,
    /// The feedback (compliment, suggestion, concern) taken on this call.
    pub feedback_id: Option<Uuid>,
    /// The callback this call made (an outbound call working the queue).
    pub callback_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLS: &str = "id, hospital_id, department_id, agent_id, direction, caller, patient_id, lookup_kind, reason, outcome, duration_secs, started_at, notes, \
    sentiment, sentiment_score, themes, complaint_id, survey_response_id, feedback_id, callback_id, created_at, updated_at";

pub(crate) fn call_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Call> {
    let label: Option<String> = r.try_get("sentiment")?;
    let score: Option<i64> = r.try_get("sentiment_score")?;
    let themes: String = r.try_get("themes")?;
    let sentiment = match label {
        Some(label) => Some(NotesSentiment {
            label,
            score: score.unwrap_or(0) as f64 / 1000.0,
            themes: string_list("themes", &themes)?,
        }),
        None => None,
    };
    Ok(Call {
        id: row::uuid(r, "id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        department_id: row::opt_uuid(r, "department_id")?,
        agent_id: row::uuid(r, "agent_id")?,
        direction: row::named(r, "direction", Direction::parse)?,
        caller: row::named(r, "caller", Caller::parse)?,
        patient_id: row::opt_uuid(r, "patient_id")?,
        lookup_kind: r.try_get("lookup_kind")?,
        reason: row::named(r, "reason", Reason::parse)?,
        outcome: row::named(r, "outcome", Outcome::parse)?,
        duration_secs: r.try_get("duration_secs")?,
        started_at: row::time(r, "started_at")?,
        notes: r.try_get("notes")?,
        sentiment,
        complaint_id: row::opt_uuid(r, "complaint_id")?,
        survey_response_id: row::opt_uuid(r, "survey_response_id")?,
        feedback_id: row::opt_uuid(r, "feedback_id")?,
        callback_id: row::opt_uuid(r, "callback_id")?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

/// A call as accepted by the API: the domain record (agent, direction, caller, reason,
/// outcome, duration, start) and where it lives.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub lookup_kind: Option<&'static str>,
    pub record: CallRecord,
    pub notes: Option<String>,
    pub callback_id: Option<Uuid>,
}

/// The engine's analysis as the call keeps it (label, score to three decimals, theme ids).
pub fn notes_sentiment(a: &px360_sentiment::Analysis) -> NotesSentiment {
    let label = match a.sentiment {
        px360_sentiment::Sentiment::Negative => "negative",
        px360_sentiment::Sentiment::Neutral => "neutral",
        px360_sentiment::Sentiment::Positive => "positive",
    };
    NotesSentiment {
        label: label.to_owned(),
        score: (f64::from(a.score) * 1000.0).round() / 1000.0,
        themes: a.themes.iter().map(|t| t.as_str().to_owned()).collect(),
    }
}

/// Insert a call. Its notes go through [`crate::sentiment::record_text`] (kind `call_note`) in
/// the same transaction: `text_analyses`/`text_themes` hold them (themes over time count calls)
/// and the hospital's sentiment rule may raise an action (audited with the agent as actor);
/// the call row keeps the verdict for its own pages.
pub async fn insert(c: &mut AnyConnection, n: &NewCall, at: DateTime<Utc>) -> Result<Call> {
    let now = ts(at);
    let rec = &n.record;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO calls (id, hospital_id, department_id, agent_id, direction, caller, patient_id, lookup_kind, reason, outcome, duration_secs, started_at, \
         notes, themes, callback_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '[]', $14, $15, $15)",
    )
    .bind(id.to_string())
    .bind(n.hospital_id.to_string())
    .bind(n.department_id.map(|d| d.to_string()))
    .bind(rec.agent_id.to_string())
    .bind(rec.direction.as_str())
    .bind(rec.caller.as_str())
    .bind(n.patient_id.map(|p| p.to_string()))
    .bind(n.lookup_kind)
    .bind(rec.reason.as_str())
    .bind(rec.outcome.as_str())
    .bind(i64::from(rec.duration_secs))
    .bind(ts(rec.started_at))
    .bind(&n.notes)
    .bind(n.callback_id.map(|c| c.to_string()))
    .bind(&now)
    .execute(&mut *c)
    .await?;
    let Some(notes) = n.notes.as_deref().filter(|t| !t.trim().is_empty()) else {
        return get(c, id).await;
    };
    let item = TextItem {
        kind: TextKind::CallNote,
        id,
        hospital_id: Some(n.hospital_id),
        department_id: n.department_id,
        occurred_at: rec.started_at,
    };
    let recorded = record_text(c, &item, notes, &rec.agent_id.to_string(), at).await?;
    let s = notes_sentiment(&recorded.analysis);
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE calls SET sentiment = $2, sentiment_score = $3, themes = $4 WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(&s.label)
    .bind((s.score * 1000.0).round() as i64)
    .bind(serde_json::to_string(&s.themes).unwrap_or_else(|_| "[]".into()))
    .fetch_one(&mut *c)
    .await?;
    Ok(call_row(&r)?)
}

pub async fn get(c: &mut AnyConnection, id: Uuid) -> Result<Call> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM calls WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(call_row(&r)?)
}

/// What a call produced afterwards: its outcome changes and the object is linked.
#[derive(Debug, Clone, Copy)]
pub enum Link {
    Complaint(Uuid),
    SurveyResponse(Uuid),
    Feedback(Uuid),
}

pub async fn link(c: &mut AnyConnection, id: Uuid, l: Link, at: DateTime<Utc>) -> Result<Call> {
    let (col, outcome, target) = match l {
        Link::Complaint(x) => ("complaint_id", Outcome::ComplaintCreated, x),
        Link::SurveyResponse(x) => ("survey_response_id", Outcome::SurveyCompleted, x),
        Link::Feedback(x) => ("feedback_id", Outcome::FeedbackCreated, x),
    };
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE calls SET {col} = $2, outcome = $3, updated_at = $4 WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(target.to_string())
    .bind(outcome.as_str())
    .bind(ts(at))
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(call_row(&r)?)
}

/// Lock the call for the rest of the transaction (its first statement, a write) and return
/// the feedback already taken on it, so two requests for the same call never create two.
pub async fn claim_for_feedback(c: &mut AnyConnection, id: Uuid) -> Result<Option<Uuid>> {
    let r: Option<Option<String>> = sqlx::query_scalar(
        "UPDATE calls SET updated_at = updated_at WHERE id = $1 RETURNING feedback_id",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?;
    let fid = r.ok_or(StoreError::NotFound)?;
    Ok(fid.and_then(|f| Uuid::parse_str(&f).ok()))
}

/// List filters; the API sets hospital and department from the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
    pub agent_id: Option<String>,
    pub patient_id: Option<String>,
    pub outcome: Option<String>,
}

impl Db {
    pub async fn call(&self, id: Uuid) -> Result<Call> {
        get(&mut *self.pool.acquire().await?, id).await
    }

    /// Newest first by `(started_at, id)`, strictly older than `before`.
    pub async fn calls(
        &self,
        f: &CallFilter,
        before: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<Call>> {
        let mut w = Filters::default();
        w.eq("hospital_id", f.hospital_id.as_deref());
        w.eq("department_id", f.department_id.as_deref());
        w.eq("agent_id", f.agent_id.as_deref());
        w.eq("patient_id", f.patient_id.as_deref());
        w.eq("outcome", f.outcome.as_deref());
        w.before("started_at", "id", before);
        let sql = format!(
            "SELECT {COLS} FROM calls {} ORDER BY started_at DESC, id DESC LIMIT ${}",
            w.sql(),
            w.next_mark()
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in w.binds() {
            q = q.bind(*v);
        }
        let rows = q
            .bind(limit.saturating_add(1))
            .fetch_all(&self.pool)
            .await?;
        let rows = rows
            .iter()
            .map(call_row)
            .collect::<sqlx::Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |c| {
            Cursor::new(&ts(c.started_at), &c.id.to_string())
        }))
    }
}
