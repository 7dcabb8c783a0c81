//! The staff complaint list of the web UI: every filter of the list page (hospital, department,
//! status, severity, category, source channel, assignee, overdue, a creation date range and a
//! search on the reference) over the keyset paging of `page.rs`, with each row's SLA clock and
//! the patient's MRN (the page masks it for roles that may not see it). Also the two look-ups
//! the staff intake form needs: a patient by MRN within a hospital, and a clock evaluated live.

use crate::page::{Cursor, Filters, Page, like_pattern};
use crate::row;
use crate::sla::ItemKind;
use crate::sla::clock::{Configs, evaluate_item};
use crate::{Db, Result, StoreError, ts};
use chrono::{DateTime, Utc};
use px360_domain::sla::Evaluation;
use sqlx::Row;
use uuid::Uuid;

/// The list filters; all optional and combined with AND. `scope_*` is the caller's scope and is
/// applied on top of the requested hospital and department, so a request cannot widen it.
#[derive(Debug, Clone, Default)]
pub struct ComplaintSearch {
    pub scope_hospital: Option<String>,
    pub scope_department: Option<String>,
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub category_code: Option<String>,
    pub source_channel: Option<String>,
    pub assignee_id: Option<String>,
    /// Only open complaints whose clock is breached or past its resolution due moment at this
    /// instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Created at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_to: Option<DateTime<Utc>>,
    /// A part of the reference (case-insensitive).
    pub reference: Option<String>,
}

/// A list row: the complaint's summary, its clock, and the patient's MRN if linked.
#[derive(Debug, Clone)]
pub struct SearchRow {
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
    pub patient_mrn: Option<String>,
    pub created_at: DateTime<Utc>,
    pub is_open: bool,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
    pub paused: bool,
}

impl Db {
    /// Newest first by `(created_at, id)`, strictly older than `before`, at most `limit`.
    pub async fn search_complaints(
        &self,
        f: &ComplaintSearch,
        before: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<SearchRow>> {
        let overdue = f.overdue_at.map(ts);
        let from = f.created_from.map(ts);
        let to = f.created_to.map(ts);
        let reference = f.reference.as_deref().and_then(like_pattern);
        let mut w = Filters::default();
        w.eq("c.hospital_id", f.scope_hospital.as_deref());
        w.eq("c.department_id", f.scope_department.as_deref());
        w.eq("c.hospital_id", f.hospital_id.as_deref());
        w.eq("c.department_id", f.department_id.as_deref());
        w.eq("c.status", f.status.as_deref());
        w.eq("c.severity", f.severity.as_deref());
        w.eq("c.category_code", f.category_code.as_deref());
        w.eq("c.source_channel", f.source_channel.as_deref());
        w.eq("c.assignee_id", f.assignee_id.as_deref());
        w.bound(
            "(k.is_open = 1 AND (k.breached_at IS NOT NULL OR k.resolution_due_at < {}))",
            overdue.as_deref(),
        );
        w.bound("c.created_at >= {}", from.as_deref());
        w.bound("c.created_at < {}", to.as_deref());
        w.like(&["c.reference"], reference.as_deref());
        w.before("c.created_at", "c.id", before);
        let sql = format!(
            "SELECT c.id, c.reference, c.hospital_id, c.department_id, c.category_code, c.severity, c.source_channel, c.subject, c.status, c.assignee_id, \
             c.created_at, p.mrn, k.is_open, k.resolution_due_at, k.breached_at, k.paused \
             FROM complaints c LEFT JOIN sla_clocks k ON k.item_kind = 'complaint' AND k.item_id = c.id LEFT JOIN patients p ON p.id = c.patient_id \
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
        let flag = |r: &sqlx::any::AnyRow, c: &str| -> sqlx::Result<bool> {
            Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0) != 0)
        };
        let rows = rows
            .iter()
            .map(|r| {
                Ok(SearchRow {
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
                    patient_mrn: r.try_get("mrn")?,
                    created_at: row::time(r, "created_at")?,
                    is_open: flag(r, "is_open")?,
                    resolution_due_at: row::opt_time(r, "resolution_due_at")?,
                    breached_at: row::opt_time(r, "breached_at")?,
                    paused: flag(r, "paused")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |c| {
            Cursor::new(&ts(c.created_at), &c.id.to_string())
        }))
    }

    /// The id of the live patient with this MRN in this hospital.
    pub async fn patient_by_mrn(&self, hospital: Uuid, mrn: &str) -> Result<Uuid> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM patients WHERE hospital_id = $1 AND mrn = $2 AND deleted_at IS NULL",
        )
        .bind(hospital.to_string())
        .bind(mrn.trim())
        .fetch_optional(&self.pool)
        .await?;
        id.and_then(|i| Uuid::parse_str(&i).ok())
            .ok_or(StoreError::NotFound)
    }

    /// The actions raised for a complaint (by the creation rules at intake or by hand), oldest
    /// first.
    pub async fn actions_for_complaint(&self, id: Uuid) -> Result<Vec<crate::actions::Action>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM px_actions WHERE origin_kind = 'complaint' AND origin_id = $1 ORDER BY created_at, id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for i in ids.iter().filter_map(|i| Uuid::parse_str(i).ok()) {
            out.push(self.px_action(i).await?);
        }
        Ok(out)
    }

    /// An item's clock evaluated at `now` from its history (read only: the stored clock is the
    /// scheduler's), for pages that show the elapsed and remaining time of the moment.
    pub async fn sla_live(
        &self,
        kind: ItemKind,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Evaluation> {
        let mut c = self.pool.acquire().await?;
        let mut cfg = Configs::default();
        Ok(evaluate_item(&mut c, &mut cfg, kind, id, now).await?.eval)
    }
}
