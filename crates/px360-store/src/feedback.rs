//! General feedback (compliments, suggestions, concerns): intake from the public QR form, staff
//! and the API, with its sentiment and themes stored alongside ([`crate::sentiment`]), a
//! compliment routed to the named staff member's manager (an in-app notification that the
//! notifier also emails), lists with keyset paging, the triage outcome, and the counts for
//! analytics.
//!
//! Contact details and the text are patient data: they are stored and returned to authorised
//! readers only, never logged and never put into audit records.

use crate::page::{Cursor, Filters, Page};
use crate::sentiment::{self, TextItem, TextKind};
use crate::{Db, Result, StoreError, new_id, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::action::origin::OwnerQuery;
use px360_domain::feedback::kind::{FeedbackCounts, FeedbackKind};
use px360_domain::feedback::submission::Feedback as Submission;
use px360_domain::feedback::triage::{ComplimentRoute, route_compliment};
use px360_domain::rbac::Role;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// How feedback arrived.
pub const CHANNELS: [&str; 4] = ["qr_form", "staff", "api", "call_centre"];

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedbackRow {
    pub id: Uuid,
    /// Human reference shown to the patient, e.g. `F260301-4F9A2B`.
    pub reference: String,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    /// compliment | suggestion | concern
    #[schema(value_type = String, example = "compliment")]
    pub kind: FeedbackKind,
    /// en | ar: the language the patient wrote in (and is answered in).
    pub language: String,
    pub body: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// The employee a compliment names, when chosen from the list.
    pub staff_id: Option<Uuid>,
    /// The name the patient typed, when not chosen from the list.
    pub staff_name: Option<String>,
    /// qr_form | staff | api | call_centre
    pub channel: String,
    /// The call it was taken on (channel `call_centre`).
    pub call_id: Option<Uuid>,
    /// new | complaint | action | acknowledged
    pub status: String,
    pub complaint_id: Option<Uuid>,
    pub action_id: Option<Uuid>,
    /// The manager a compliment was routed to.
    pub routed_to: Option<Uuid>,
    pub triaged_by: Option<Uuid>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLS: &str = "id, reference, hospital_id, department_id, kind, language, body, contact_name, contact_email, contact_phone, staff_id, staff_name, \
    channel, call_id, status, complaint_id, action_id, routed_to, triaged_by, triaged_at, created_by, created_at, updated_at";

fn feedback_row(r: &sqlx::any::AnyRow) -> sqlx::Result<FeedbackRow> {
    Ok(FeedbackRow {
        id: row::uuid(r, "id")?,
        reference: r.try_get("reference")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        department_id: row::opt_uuid(r, "department_id")?,
        kind: row::named(r, "kind", FeedbackKind::parse)?,
        language: r.try_get("language")?,
        body: r.try_get("body")?,
        contact_name: r.try_get("contact_name")?,
        contact_email: r.try_get("contact_email")?,
        contact_phone: r.try_get("contact_phone")?,
        staff_id: row::opt_uuid(r, "staff_id")?,
        staff_name: r.try_get("staff_name")?,
        channel: r.try_get("channel")?,
        call_id: row::opt_uuid(r, "call_id")?,
        status: r.try_get("status")?,
        complaint_id: row::opt_uuid(r, "complaint_id")?,
        action_id: row::opt_uuid(r, "action_id")?,
        routed_to: row::opt_uuid(r, "routed_to")?,
        triaged_by: row::opt_uuid(r, "triaged_by")?,
        triaged_at: row::opt_time(r, "triaged_at")?,
        created_by: row::opt_uuid(r, "created_by")?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

/// `F` + the date + six random hex digits (as complaint references: short enough to read out,
/// not guessable from another one).
fn reference(at: DateTime<Utc>) -> String {
    let r = Uuid::new_v4().simple().to_string().to_uppercase();
    format!("F{}-{}", at.format("%y%m%d"), &r[..6])
}

/// What an intake stored.
#[derive(Debug, Clone)]
pub struct Received {
    pub feedback: FeedbackRow,
    /// The compliment's notification went to this manager (None: not a compliment, or nobody
    /// to route it to).
    pub routed_to: Option<Uuid>,
    pub sentiment: sentiment::Recorded,
}

/// Who manages a compliment's staff member: the department manager of the employee's
/// department (the directory has no line-manager field), else as for actions the hospital's PX
/// coordinator, then its hospital admin.
async fn manager_of(c: &mut AnyConnection, route: &ComplimentRoute) -> Result<Option<Uuid>> {
    let q = match route {
        ComplimentRoute::ManagerOfStaff { staff_id } => {
            let r: Option<(String, String)> = sqlx::query_as(
                "SELECT hospital_id, department_id FROM employees WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(staff_id.to_string())
            .fetch_optional(&mut *c)
            .await?;
            let Some((h, d)) = r else {
                return Ok(None);
            };
            OwnerQuery {
                role: Role::DepartmentManager,
                hospital_id: Uuid::parse_str(&h).ok(),
                department_id: Uuid::parse_str(&d).ok(),
            }
        }
        ComplimentRoute::DepartmentManager {
            hospital_id,
            department_id,
            role,
        } => OwnerQuery {
            role: *role,
            hospital_id: Some(*hospital_id),
            department_id: *department_id,
        },
    };
    crate::actions::resolve_owner(c, &q).await
}

/// Store one feedback item, its sentiment and themes (the hospital's sentiment rule applies),
/// and route a compliment. The caller validated the submission (the staff member, if any, is
/// an employee of this hospital) and audits in the same transaction; this is its first write.
pub async fn insert(
    c: &mut AnyConnection,
    f: &Submission,
    channel: &str,
    created_by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Received> {
    let id = Uuid::now_v7();
    let now = ts(at);
    let contact = f.contact.as_ref();
    let staff = f.staff.as_ref();
    sqlx::query(
        "INSERT INTO feedback (id, reference, hospital_id, department_id, kind, language, body, contact_name, contact_email, contact_phone, \
         staff_id, staff_name, channel, status, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'new', $14, $15, $15)",
    )
    .bind(id.to_string())
    .bind(reference(at))
    .bind(f.hospital_id.to_string())
    .bind(f.department_id.map(|d| d.to_string()))
    .bind(f.kind.as_str())
    .bind(f.lang.as_str())
    .bind(&f.text)
    .bind(contact.and_then(|c| c.name.clone()))
    .bind(contact.and_then(|c| c.email.clone()))
    .bind(contact.and_then(|c| c.phone.clone()))
    .bind(staff.and_then(|s| s.id).map(|s| s.to_string()))
    .bind(staff.and_then(|s| s.name.clone()))
    .bind(channel)
    .bind(created_by.map(|u| u.to_string()))
    .bind(&now)
    .execute(&mut *c)
    .await?;
    let actor = created_by.map_or_else(|| channel.to_owned(), |u| u.to_string());
    let recorded = sentiment::record_text(
        c,
        &TextItem {
            kind: TextKind::Feedback,
            id,
            hospital_id: Some(f.hospital_id),
            department_id: f.department_id,
            occurred_at: at,
        },
        &f.text,
        &actor,
        at,
    )
    .await?;
    let mut routed_to = None;
    if let Some(route) = route_compliment(f)
        && let Some(manager) = manager_of(c, &route).await?
    {
        let fb = get(c, id).await?;
        let detail = serde_json::json!({
            "feedback_id": id, "reference": fb.reference, "staff_id": f.staff.as_ref().and_then(|s| s.id),
            "department_id": f.department_id,
        });
        sqlx::query(
            "INSERT INTO notifications (id, user_id, kind, item_kind, item_id, dedup_key, detail, created_at) VALUES ($1, $2, 'compliment', 'feedback', $3, $4, $5, $6) \
             ON CONFLICT (user_id, dedup_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(manager.to_string())
        .bind(id.to_string())
        .bind(format!("compliment:{id}"))
        .bind(detail.to_string())
        .bind(&now)
        .execute(&mut *c)
        .await?;
        sqlx::query("UPDATE feedback SET routed_to = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(manager.to_string())
            .execute(&mut *c)
            .await?;
        routed_to = Some(manager);
    }
    Ok(Received {
        feedback: get(c, id).await?,
        routed_to,
        sentiment: recorded,
    })
}

/// Feedback taken on a call (channel `call_centre`): [`insert`] (sentiment, rule, compliment
/// routing) and the link to its source call. The unique index on `call_id` keeps it one per
/// call; the caller links the call back and audits in the same transaction.
pub async fn insert_from_call(
    c: &mut AnyConnection,
    f: &Submission,
    call: Uuid,
    created_by: Uuid,
    at: DateTime<Utc>,
) -> Result<Received> {
    let mut r = insert(c, f, "call_centre", Some(created_by), at).await?;
    sqlx::query("UPDATE feedback SET call_id = $2 WHERE id = $1")
        .bind(r.feedback.id.to_string())
        .bind(call.to_string())
        .execute(&mut *c)
        .await?;
    r.feedback.call_id = Some(call);
    Ok(r)
}

pub async fn get(c: &mut AnyConnection, id: Uuid) -> Result<FeedbackRow> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM feedback WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(feedback_row(&r)?)
}

/// The outcome of a triage, recorded once: a second triage into the same target (a retried
/// click) is a no-op that returns the item, into another one a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Complaint(Uuid),
    Action(Uuid),
    Acknowledged,
}

impl Outcome {
    pub fn status(self) -> &'static str {
        match self {
            Outcome::Complaint(_) => "complaint",
            Outcome::Action(_) => "action",
            Outcome::Acknowledged => "acknowledged",
        }
    }
}

/// Record a triage; the first statement is the write (SQLite's lock up front).
pub async fn set_triaged(
    c: &mut AnyConnection,
    id: Uuid,
    outcome: Outcome,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<FeedbackRow> {
    let (complaint, action) = match outcome {
        Outcome::Complaint(c) => (Some(c.to_string()), None),
        Outcome::Action(a) => (None, Some(a.to_string())),
        Outcome::Acknowledged => (None, None),
    };
    let n = sqlx::query(
        "UPDATE feedback SET status = $2, complaint_id = $3, action_id = $4, triaged_by = $5, triaged_at = $6, updated_at = $6 \
         WHERE id = $1 AND status = 'new'",
    )
    .bind(id.to_string())
    .bind(outcome.status())
    .bind(&complaint)
    .bind(&action)
    .bind(by.to_string())
    .bind(ts(at))
    .execute(&mut *c)
    .await?
    .rows_affected();
    let fb = get(c, id).await?;
    if n == 0 {
        let same = fb.status == outcome.status()
            && fb.complaint_id.map(|u| u.to_string()) == complaint
            && fb.action_id.map(|u| u.to_string()) == action;
        if !same {
            return Err(StoreError::Conflict(format!(
                "feedback already triaged ({})",
                fb.status
            )));
        }
    }
    Ok(fb)
}

/// The list filters; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub sentiment: Option<String>,
}

/// A list row: the item with its sentiment (text included: the API masks it by role).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedbackListRow {
    #[serde(flatten)]
    pub feedback: FeedbackRow,
    /// negative | neutral | positive (absent before analysis)
    pub sentiment: Option<String>,
    pub score: Option<f64>,
    pub themes: Vec<String>,
}

impl Db {
    pub async fn feedback(&self, id: Uuid) -> Result<FeedbackRow> {
        let mut c = self.pool.acquire().await?;
        get(&mut c, id).await
    }

    /// Newest first by `(created_at, id)`, strictly older than `before`.
    pub async fn feedback_list(
        &self,
        f: &FeedbackFilter,
        before: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<FeedbackListRow>> {
        let mut w = Filters::default();
        w.eq("f.hospital_id", f.hospital_id.as_deref());
        w.eq("f.department_id", f.department_id.as_deref());
        w.eq("f.kind", f.kind.as_deref());
        w.eq("f.status", f.status.as_deref());
        w.eq("t.sentiment", f.sentiment.as_deref());
        w.before("f.created_at", "f.id", before);
        let cols = COLS
            .split(", ")
            .map(|c| format!("f.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, t.sentiment AS t_sentiment, t.score_milli AS t_score, t.themes AS t_themes FROM feedback f \
             LEFT JOIN text_analyses t ON t.item_kind = 'feedback' AND t.item_id = f.id \
             {} ORDER BY f.created_at DESC, f.id DESC LIMIT ${}",
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
            .map(|r| {
                let themes: Option<String> = r.try_get("t_themes")?;
                let score: Option<i64> = r.try_get("t_score")?;
                Ok(FeedbackListRow {
                    feedback: feedback_row(r)?,
                    sentiment: r.try_get("t_sentiment")?,
                    score: score.map(|s| s as f64 / 1000.0),
                    themes: themes
                        .unwrap_or_default()
                        .split(',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |r| {
            Cursor::new(&ts(r.feedback.created_at), &r.feedback.id.to_string())
        }))
    }

    /// Feedback received in `[from, to)` per kind, and how much became a complaint or an
    /// action, of one hospital and department or all.
    pub async fn feedback_counts(
        &self,
        hospital: Option<Uuid>,
        department: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<FeedbackCounts> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT kind, status, COUNT(*) FROM feedback WHERE created_at >= $1 AND created_at < $2 \
             AND ($3 IS NULL OR hospital_id = $3) AND ($4 IS NULL OR department_id = $4) GROUP BY kind, status",
        )
        .bind(ts(from))
        .bind(ts(to))
        .bind(hospital.map(|h| h.to_string()))
        .bind(department.map(|d| d.to_string()))
        .fetch_all(&self.pool)
        .await?;
        let mut out = FeedbackCounts::default();
        for (kind, status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match FeedbackKind::parse(&kind) {
                Some(FeedbackKind::Compliment) => out.compliments += n,
                Some(FeedbackKind::Suggestion) => out.suggestions += n,
                Some(FeedbackKind::Concern) => out.concerns += n,
                None => {}
            }
            match status.as_str() {
                "complaint" => out.to_complaint += n,
                "action" => out.to_action += n,
                _ => {}
            }
        }
        Ok(out)
    }

    /// The staff of a department a patient can name in a compliment (employees, by name).
    pub async fn feedback_staff(&self, department: Uuid) -> Result<Vec<(Uuid, String)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, given_name, family_name FROM employees WHERE department_id = $1 AND deleted_at IS NULL ORDER BY family_name, given_name, id LIMIT 500",
        )
        .bind(department.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, g, f)| Some((Uuid::parse_str(&id).ok()?, format!("{g} {f}"))))
            .collect())
    }
}
