//! Complaints: the category taxonomy, intake (staff, public form, other systems), lifecycle
//! changes decided by `px360_domain::action::complaint`, the updates timeline, and lists with
//! keyset paging. Every change appends its SLA clock event and refreshes the clock in the same
//! transaction.

use crate::page::{Cursor, Filters, Page};
use crate::row;
use crate::sla::ItemKind;
use crate::sla::clock::{self, ClockItem, Recorded};
use crate::{Db, Result, StoreError, ts};
use chrono::{DateTime, Utc};
use px360_domain::action::complaint::{ComplaintEvent, ComplaintStatus};
use px360_domain::sla::Severity;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// Channels a complaint arrives by.
pub const CHANNELS: [&str; 9] = [
    "staff",
    "public_form",
    "call_centre",
    "his",
    "email",
    "phone",
    "letter",
    // Triaged from a feedback item, converted from a social mention.
    "feedback",
    "social_media",
];

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    pub code: String,
    pub name_en: String,
    pub name_ar: String,
    pub is_active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryInput {
    pub code: String,
    pub name_en: String,
    pub name_ar: String,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

pub async fn put_category(c: &mut AnyConnection, cat: &CategoryInput) -> Result<Category> {
    let now = crate::now_ts();
    sqlx::query(
        "INSERT INTO complaint_categories (code, name_en, name_ar, is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (code) DO UPDATE SET name_en = $2, name_ar = $3, is_active = $4, updated_at = $5",
    )
    .bind(&cat.code)
    .bind(&cat.name_en)
    .bind(&cat.name_ar)
    .bind(i64::from(cat.is_active))
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(Category {
        code: cat.code.clone(),
        name_en: cat.name_en.clone(),
        name_ar: cat.name_ar.clone(),
        is_active: cat.is_active,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Complaint {
    pub id: Uuid,
    /// Human reference given to the complainant, e.g. `C260111-4F9A2B`.
    pub reference: String,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub category_code: String,
    #[schema(value_type = String, example = "high")]
    pub severity: Severity,
    pub source_channel: String,
    pub source_system: Option<String>,
    pub external_ref: Option<String>,
    pub patient_id: Option<Uuid>,
    pub physician_id: Option<Uuid>,
    pub encounter_id: Option<String>,
    pub subject: String,
    pub description: String,
    pub complainant_name: Option<String>,
    pub complainant_contact: Option<String>,
    /// `en` or `ar`: the language the complainant is answered in.
    pub language: String,
    #[schema(value_type = String, example = "new")]
    pub status: ComplaintStatus,
    pub assignee_id: Option<Uuid>,
    pub cycle: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, reference, hospital_id, department_id, category_code, severity, source_channel, source_system, external_ref, patient_id, physician_id, encounter_id, \
    subject, description, complainant_name, complainant_contact, language, status, assignee_id, cycle, created_by, created_at, updated_at, resolved_at, closed_at";

fn complaint_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Complaint> {
    Ok(Complaint {
        id: row::uuid(r, "id")?,
        reference: r.try_get("reference")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        department_id: row::opt_uuid(r, "department_id")?,
        category_code: r.try_get("category_code")?,
        severity: row::named(r, "severity", Severity::parse)?,
        source_channel: r.try_get("source_channel")?,
        source_system: r.try_get("source_system")?,
        external_ref: r.try_get("external_ref")?,
        patient_id: row::opt_uuid(r, "patient_id")?,
        physician_id: row::opt_uuid(r, "physician_id")?,
        encounter_id: r.try_get("encounter_id")?,
        subject: r.try_get("subject")?,
        description: r.try_get("description")?,
        complainant_name: r.try_get("complainant_name")?,
        complainant_contact: r.try_get("complainant_contact")?,
        language: r.try_get("language")?,
        status: row::named(r, "status", ComplaintStatus::parse)?,
        assignee_id: row::opt_uuid(r, "assignee_id")?,
        cycle: r.try_get("cycle")?,
        created_by: row::opt_uuid(r, "created_by")?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
        resolved_at: row::opt_time(r, "resolved_at")?,
        closed_at: row::opt_time(r, "closed_at")?,
    })
}

/// A complaint as accepted by the API (validated there).
#[derive(Debug, Clone, Default)]
pub struct NewComplaint {
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub category_code: String,
    pub severity: Option<Severity>,
    pub source_channel: String,
    pub source_system: Option<String>,
    pub external_ref: Option<String>,
    pub patient_id: Option<Uuid>,
    pub physician_id: Option<Uuid>,
    pub encounter_id: Option<String>,
    pub subject: String,
    pub description: String,
    pub complainant_name: Option<String>,
    pub complainant_contact: Option<String>,
    pub language: String,
    pub created_by: Option<Uuid>,
}

/// `C` + the date + six random hex digits: short enough to read out on the phone, and not
/// guessable from another complaint's reference.
fn reference(at: DateTime<Utc>) -> String {
    let r = Uuid::new_v4().simple().to_string().to_uppercase();
    format!("C{}-{}", at.format("%y%m%d"), &r[..6])
}

async fn by_external(
    c: &mut AnyConnection,
    hospital: Uuid,
    system: &str,
    ext: &str,
) -> Result<Option<Complaint>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM complaints WHERE hospital_id = $1 AND source_system = $2 AND external_ref = $3"
    )))
    .bind(hospital.to_string())
    .bind(system)
    .bind(ext)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.as_ref().map(complaint_row).transpose()?)
}

/// Insert a complaint, start its SLA clock and open its timeline. A system resending a
/// complaint it already sent (same source system and external reference) gets the first one
/// back with `false`.
pub async fn insert(
    c: &mut AnyConnection,
    n: &NewComplaint,
    at: DateTime<Utc>,
) -> Result<(Complaint, bool)> {
    if let (Some(sys), Some(ext)) = (&n.source_system, &n.external_ref)
        && let Some(existing) = by_external(c, n.hospital_id, sys, ext).await?
    {
        return Ok((existing, false));
    }
    let id = Uuid::now_v7();
    let severity = n.severity.unwrap_or(Severity::Medium);
    let now = ts(at);
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO complaints (id, reference, hospital_id, department_id, category_code, severity, source_channel, source_system, external_ref, patient_id, physician_id, \
         encounter_id, subject, description, complainant_name, complainant_contact, language, status, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'new', $18, $19, $19) RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(reference(at))
    .bind(n.hospital_id.to_string())
    .bind(n.department_id.map(|d| d.to_string()))
    .bind(&n.category_code)
    .bind(severity.as_str())
    .bind(&n.source_channel)
    .bind(&n.source_system)
    .bind(&n.external_ref)
    .bind(n.patient_id.map(|d| d.to_string()))
    .bind(n.physician_id.map(|d| d.to_string()))
    .bind(&n.encounter_id)
    .bind(&n.subject)
    .bind(&n.description)
    .bind(&n.complainant_name)
    .bind(&n.complainant_contact)
    .bind(&n.language)
    .bind(n.created_by.map(|d| d.to_string()))
    .bind(&now)
    .fetch_one(&mut *c)
    .await?;
    let cmp = complaint_row(&r)?;
    add_update(
        c,
        id,
        "created",
        "internal",
        &format!("received by {}", n.source_channel),
        n.created_by,
        at,
    )
    .await?;
    clock::open(
        c,
        &ClockItem {
            kind: ItemKind::Complaint,
            id,
            hospital_id: n.hospital_id,
            department_id: n.department_id,
            category: n.category_code.clone(),
            severity,
        },
        at,
        ComplaintStatus::New.as_str(),
    )
    .await?;
    // Sentiment and themes of the complaint's text, stored with it (analytics themes).
    crate::sentiment::record_text(
        c,
        &crate::sentiment::TextItem {
            kind: crate::sentiment::TextKind::Complaint,
            id,
            hospital_id: Some(n.hospital_id),
            department_id: n.department_id,
            occurred_at: at,
        },
        &format!("{}\n{}", n.subject, n.description),
        &n.created_by
            .map_or_else(|| n.source_channel.clone(), |u| u.to_string()),
        at,
    )
    .await?;
    Ok((cmp, true))
}

pub async fn get(c: &mut AnyConnection, id: Uuid) -> Result<Complaint> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM complaints WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(complaint_row(&r)?)
}

/// Store the outcome of a lifecycle transition: the new projection, a timeline entry per
/// event, the SLA clock events, and the refreshed clock.
pub async fn apply(
    c: &mut AnyConnection,
    id: Uuid,
    next: &px360_domain::action::complaint::Complaint,
    events: &[ComplaintEvent],
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Complaint> {
    let now = ts(at);
    let resolved = next.status == ComplaintStatus::Resolved;
    let closed = next.status == ComplaintStatus::Closed;
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE complaints SET status = $2, assignee_id = $3, cycle = $4, updated_at = $5, \
         resolved_at = CASE WHEN $6 = 1 THEN $5 WHEN status = 'resolved' AND $7 = 1 THEN resolved_at ELSE NULL END, \
         closed_at = CASE WHEN $7 = 1 THEN $5 ELSE NULL END WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(next.status.as_str())
    .bind(next.assignee.map(|u| u.to_string()))
    .bind(i64::from(next.cycle))
    .bind(&now)
    .bind(i64::from(resolved))
    .bind(i64::from(closed))
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    for ev in events {
        let (kind, body) = match ev {
            ComplaintEvent::StatusChanged { from, to } => {
                ("status", format!("{} → {}", from.as_str(), to.as_str()))
            }
            ComplaintEvent::Assigned { to, .. } => ("assignment", to.to_string()),
            ComplaintEvent::Resolved { summary } => ("resolution", summary.clone()),
            ComplaintEvent::Reopened { cycle, reason } => {
                ("reopen", format!("cycle {cycle}: {reason}"))
            }
        };
        add_update(c, id, kind, "internal", &body, by, at).await?;
        if let Some(s) = px360_domain::action::complaint::sla_event(ev, at)
            && let px360_domain::sla::SlaEventKind::Status { state } = s.kind
        {
            clock::append(
                c,
                ItemKind::Complaint,
                id,
                at,
                Recorded::Status(state.as_str()),
            )
            .await?;
        }
    }
    clock::refresh(c, ItemKind::Complaint, id, at).await?;
    Ok(complaint_row(&r)?)
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Update {
    pub id: Uuid,
    /// created | status | assignment | resolution | reopen | note | message | attachment
    pub kind: String,
    /// `internal` (staff only) or `patient` (sent to the complainant).
    pub visibility: String,
    pub body: String,
    pub author_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn add_update(
    c: &mut AnyConnection,
    complaint: Uuid,
    kind: &str,
    visibility: &str,
    body: &str,
    author: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Update> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO complaint_updates (id, complaint_id, kind, visibility, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id.to_string())
        .bind(complaint.to_string())
        .bind(kind)
        .bind(visibility)
        .bind(body)
        .bind(author.map(|a| a.to_string()))
        .bind(ts(at))
        .execute(&mut *c)
        .await?;
    Ok(Update {
        id,
        kind: kind.into(),
        visibility: visibility.into(),
        body: body.into(),
        author_id: author,
        created_at: at,
    })
}

/// A message to the patient is the first response (stops that clock) and an update (restarts
/// the next-update clock).
pub async fn message_patient(
    c: &mut AnyConnection,
    complaint: Uuid,
    body: &str,
    author: Uuid,
    at: DateTime<Utc>,
) -> Result<Update> {
    let u = add_update(c, complaint, "message", "patient", body, Some(author), at).await?;
    clock::append(c, ItemKind::Complaint, complaint, at, Recorded::Responded).await?;
    clock::append(c, ItemKind::Complaint, complaint, at, Recorded::UpdateSent).await?;
    clock::refresh(c, ItemKind::Complaint, complaint, at).await?;
    Ok(u)
}

/// The list filters; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
    pub status: Option<String>,
    pub assignee_id: Option<String>,
    pub category_code: Option<String>,
    pub severity: Option<String>,
}

/// A list row: the complaint's summary and its SLA clock.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ComplaintRow {
    pub id: Uuid,
    pub reference: String,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub category_code: String,
    pub severity: String,
    pub source_channel: String,
    pub subject: String,
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
    pub paused: bool,
}

impl Db {
    pub async fn complaint_categories(&self, active_only: bool) -> Result<Vec<Category>> {
        let rows = sqlx::query("SELECT code, name_en, name_ar, is_active FROM complaint_categories WHERE ($1 = 0 OR is_active = 1) ORDER BY code")
            .bind(i64::from(active_only))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Category {
                    code: r.try_get("code")?,
                    name_en: r.try_get("name_en")?,
                    name_ar: r.try_get("name_ar")?,
                    is_active: row::flag(r, "is_active")?,
                })
            })
            .collect()
    }

    pub async fn complaint(&self, id: Uuid) -> Result<Complaint> {
        let mut c = self.pool.acquire().await?;
        get(&mut c, id).await
    }

    pub async fn complaint_by_reference(&self, reference: &str) -> Result<Complaint> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM complaints WHERE reference = $1"
        )))
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(complaint_row(&r)?)
    }

    /// The timeline, oldest first; internal notes only when `internal`.
    pub async fn complaint_updates(&self, id: Uuid, internal: bool) -> Result<Vec<Update>> {
        let rows = sqlx::query("SELECT id, kind, visibility, body, author_id, created_at FROM complaint_updates WHERE complaint_id = $1 AND ($2 = 1 OR visibility = 'patient') ORDER BY created_at, id")
            .bind(id.to_string())
            .bind(i64::from(internal))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Update {
                    id: row::uuid(r, "id")?,
                    kind: r.try_get("kind")?,
                    visibility: r.try_get("visibility")?,
                    body: r.try_get("body")?,
                    author_id: row::opt_uuid(r, "author_id")?,
                    created_at: row::time(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Newest first by `(created_at, id)`, strictly older than `before`.
    pub async fn complaints(
        &self,
        f: &ComplaintFilter,
        before: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<ComplaintRow>> {
        let mut w = Filters::default();
        w.eq("c.hospital_id", f.hospital_id.as_deref());
        w.eq("c.department_id", f.department_id.as_deref());
        w.eq("c.status", f.status.as_deref());
        w.eq("c.assignee_id", f.assignee_id.as_deref());
        w.eq("c.category_code", f.category_code.as_deref());
        w.eq("c.severity", f.severity.as_deref());
        w.before("c.created_at", "c.id", before);
        let sql = format!(
            "SELECT c.id, c.reference, c.hospital_id, c.department_id, c.category_code, c.severity, c.source_channel, c.subject, c.status, c.assignee_id, c.created_at, \
             k.resolution_due_at, k.breached_at, k.paused FROM complaints c LEFT JOIN sla_clocks k ON k.item_kind = 'complaint' AND k.item_id = c.id \
             {} ORDER BY c.created_at DESC, c.id DESC LIMIT ${}",
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
                Ok(ComplaintRow {
                    id: row::uuid(r, "id")?,
                    reference: r.try_get("reference")?,
                    hospital_id: row::uuid(r, "hospital_id")?,
                    department_id: row::opt_uuid(r, "department_id")?,
                    category_code: r.try_get("category_code")?,
                    severity: r.try_get("severity")?,
                    source_channel: r.try_get("source_channel")?,
                    subject: r.try_get("subject")?,
                    status: r.try_get("status")?,
                    assignee_id: row::opt_uuid(r, "assignee_id")?,
                    created_at: row::time(r, "created_at")?,
                    resolution_due_at: row::opt_time(r, "resolution_due_at")?,
                    breached_at: row::opt_time(r, "breached_at")?,
                    paused: r.try_get::<Option<i64>, _>("paused")?.unwrap_or(0) != 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |c| {
            Cursor::new(&ts(c.created_at), &c.id.to_string())
        }))
    }
}
