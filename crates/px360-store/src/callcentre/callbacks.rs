//! The callback queue. Every callback has an SLA clock (`sla_clocks`, kind `callback`) like a
//! complaint or an action: its due time is the clock's first-response goal — the hospital's
//! policy for category [`CALLBACK_CATEGORY`] and the callback's priority (falling back to the
//! severity-wide rule and then the group default, as for complaints), counted on the
//! hospital's business calendar. So a calendar, holiday or policy edit moves open callbacks'
//! due times (`Db::recompute_hospital` copies them into `callbacks.due_at`), and the breach
//! scan warns and escalates an overdue callback on the hospital's ladder (the assignee first,
//! else the PX coordinators). The queue is read in the domain's working order (due first,
//! then priority, then age) and each row says whether it is overdue. Making the callback (an
//! outbound call) records whether it was on time and stops the clock; so does cancelling it.

use crate::sla::ItemKind;
use crate::sla::clock::{self, ClockItem};
use crate::{Db, Result, StoreError, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::callcentre::callback::{
    CALLBACK_CATEGORY, Callback, CallbackStatus, QueueStatus, order,
};
use px360_domain::sla::Severity;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallbackRow {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    /// The call it was promised on.
    pub call_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    #[schema(value_type = String, example = "high")]
    pub priority: Severity,
    /// A call reason code (`appointment`, `complaint`, …).
    pub reason: String,
    /// Free text for the agent who calls back (patient data).
    pub note: Option<String>,
    pub assignee_id: Option<Uuid>,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    pub requested_at: DateTime<Utc>,
    /// `null` when the policy sets no first-response target.
    pub due_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
    pub done_call_id: Option<Uuid>,
    /// Made by its due time (`null` while open, or without a target).
    pub on_time: Option<bool>,
    pub created_at: DateTime<Utc>,
}

/// A queue row: the callback and where it stands now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueRow {
    #[serde(flatten)]
    pub callback: CallbackRow,
    /// `overdue`, `waiting` or `no_target`.
    #[schema(value_type = String, example = "waiting")]
    pub queue_status: QueueStatus,
}

const COLS: &str = "id, hospital_id, department_id, call_id, patient_id, priority, reason, note, assignee_id, status, requested_at, due_at, done_at, done_by, done_call_id, on_time, created_at";

fn callback_row(r: &sqlx::any::AnyRow) -> sqlx::Result<CallbackRow> {
    let on_time: Option<i64> = r.try_get("on_time")?;
    Ok(CallbackRow {
        id: row::uuid(r, "id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        department_id: row::opt_uuid(r, "department_id")?,
        call_id: row::opt_uuid(r, "call_id")?,
        patient_id: row::opt_uuid(r, "patient_id")?,
        priority: row::named(r, "priority", Severity::parse)?,
        reason: r.try_get("reason")?,
        note: r.try_get("note")?,
        assignee_id: row::opt_uuid(r, "assignee_id")?,
        status: r.try_get("status")?,
        requested_at: row::time(r, "requested_at")?,
        due_at: row::opt_time(r, "due_at")?,
        done_at: row::opt_time(r, "done_at")?,
        done_by: row::opt_uuid(r, "done_by")?,
        done_call_id: row::opt_uuid(r, "done_call_id")?,
        on_time: on_time.map(|v| v != 0),
        created_at: row::time(r, "created_at")?,
    })
}

fn domain(c: &CallbackRow) -> Callback {
    Callback {
        id: c.id,
        priority: c.priority,
        requested_at: c.requested_at,
        due_at: c.due_at,
    }
}

/// A callback as accepted by the API.
#[derive(Debug, Clone)]
pub struct NewCallback {
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub priority: Severity,
    pub reason: String,
    pub note: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub created_by: Uuid,
}

fn clock_item(id: Uuid, hospital: Uuid, department: Option<Uuid>, priority: Severity) -> ClockItem {
    ClockItem {
        kind: ItemKind::Callback,
        id,
        hospital_id: hospital,
        department_id: department,
        category: CALLBACK_CATEGORY.to_owned(),
        severity: priority,
    }
}

/// Insert an open callback and start its SLA clock; its due time is the clock's first-response
/// due moment (`None` when the policy sets no first-response target).
pub async fn insert(
    c: &mut AnyConnection,
    n: &NewCallback,
    at: DateTime<Utc>,
) -> Result<CallbackRow> {
    let now = ts(at);
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO callbacks (id, hospital_id, department_id, call_id, patient_id, priority, reason, note, assignee_id, status, requested_at, due_at, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, NULL, $11, $10, $10)",
    )
    .bind(id.to_string())
    .bind(n.hospital_id.to_string())
    .bind(n.department_id.map(|d| d.to_string()))
    .bind(n.call_id.map(|d| d.to_string()))
    .bind(n.patient_id.map(|d| d.to_string()))
    .bind(n.priority.as_str())
    .bind(&n.reason)
    .bind(&n.note)
    .bind(n.assignee_id.map(|d| d.to_string()))
    .bind(&now)
    .bind(n.created_by.to_string())
    .execute(&mut *c)
    .await?;
    let item = clock_item(id, n.hospital_id, n.department_id, n.priority);
    let clock = clock::open(c, &item, at, CallbackStatus::Open.as_str()).await?;
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE callbacks SET due_at = $2 WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(clock.first_response_due_at.map(ts))
    .fetch_one(&mut *c)
    .await?;
    Ok(callback_row(&r)?)
}

/// Close the callback's clock (made or cancelled) at `at`. A callback from before clocks
/// existed has none: nothing to close.
async fn stop_clock(
    c: &mut AnyConnection,
    id: Uuid,
    status: CallbackStatus,
    at: DateTime<Utc>,
) -> Result<()> {
    match clock::clock(c, ItemKind::Callback, id).await {
        Ok(_) => {
            clock::append(
                c,
                ItemKind::Callback,
                id,
                at,
                clock::Recorded::Status(status.as_str()),
            )
            .await?;
            clock::refresh(c, ItemKind::Callback, id, at).await?;
            Ok(())
        }
        Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn get(c: &mut AnyConnection, id: Uuid) -> Result<CallbackRow> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM callbacks WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(callback_row(&r)?)
}

/// Mark an open callback made by `call` at `at`; on time when `at` is not after its due time
/// (a callback without a target is always on time). A callback already closed is a conflict.
pub async fn complete(
    c: &mut AnyConnection,
    id: Uuid,
    call: Option<Uuid>,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<CallbackRow> {
    let cur = get(c, id).await?;
    if cur.status != "open" {
        return Err(StoreError::Conflict("callback is not open".into()));
    }
    let on_time = cur.due_at.is_none_or(|d| at <= d);
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE callbacks SET status = 'done', done_at = $2, done_by = $3, done_call_id = $4, on_time = $5, updated_at = $2 \
         WHERE id = $1 AND status = 'open' RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(ts(at))
    .bind(by.to_string())
    .bind(call.map(|x| x.to_string()))
    .bind(i64::from(on_time))
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| StoreError::Conflict("callback is not open".into()))?;
    stop_clock(c, id, CallbackStatus::Done, at).await?;
    Ok(callback_row(&r)?)
}

pub async fn cancel(c: &mut AnyConnection, id: Uuid, at: DateTime<Utc>) -> Result<CallbackRow> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE callbacks SET status = 'cancelled', updated_at = $2 WHERE id = $1 AND status = 'open' RETURNING {COLS}"
    )))
    .bind(id.to_string())
    .bind(ts(at))
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| StoreError::Conflict("callback is not open".into()))?;
    stop_clock(c, id, CallbackStatus::Cancelled, at).await?;
    Ok(callback_row(&r)?)
}

/// Most open callbacks one queue read returns.
pub const MAX_QUEUE: i64 = 500;

impl Db {
    /// Start the clock of every open callback that has none: those taken before callbacks had
    /// clocks. Each is counted from its request on the hospital's current policy and calendar,
    /// so it gets a due time, shows overdue in the queue and is escalated by the breach scan like
    /// any other. Returns how many were started; nothing to do the second time.
    pub async fn start_missing_callback_clocks(&self) -> Result<usize> {
        let mut tx = self.writer.begin().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM callbacks c WHERE c.status = 'open' \
             AND NOT EXISTS (SELECT 1 FROM sla_clocks k WHERE k.item_kind = 'callback' AND k.item_id = c.id) \
             ORDER BY c.requested_at"
        )))
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let cb = callback_row(r)?;
            let item = clock_item(cb.id, cb.hospital_id, cb.department_id, cb.priority);
            let clock = clock::open(
                &mut tx,
                &item,
                cb.requested_at,
                CallbackStatus::Open.as_str(),
            )
            .await?;
            sqlx::query("UPDATE callbacks SET due_at = $2 WHERE id = $1")
                .bind(cb.id.to_string())
                .bind(clock.first_response_due_at.map(ts))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    pub async fn callback(&self, id: Uuid) -> Result<CallbackRow> {
        get(&mut *self.pool.acquire().await?, id).await
    }

    /// Open callbacks in scope, in the domain's working order, each with its status at `now`.
    pub async fn callback_queue(
        &self,
        hospital: Option<&str>,
        department: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM callbacks WHERE status = 'open' AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) \
             ORDER BY CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, id LIMIT {MAX_QUEUE}"
        )))
        .bind(hospital.map(str::to_owned))
        .bind(department.map(str::to_owned))
        .fetch_all(&self.pool)
        .await?;
        let rows = rows
            .iter()
            .map(callback_row)
            .collect::<sqlx::Result<Vec<_>>>()?;
        let mut keys: Vec<Callback> = rows.iter().map(domain).collect();
        order(&mut keys);
        let mut by_id: std::collections::HashMap<Uuid, CallbackRow> =
            rows.into_iter().map(|r| (r.id, r)).collect();
        Ok(keys
            .iter()
            .filter_map(|k| {
                by_id.remove(&k.id).map(|callback| QueueRow {
                    queue_status: k.status(now),
                    callback,
                })
            })
            .collect())
    }

    /// Callbacks of a call (what was promised on it).
    pub async fn callbacks_of_call(&self, call: Uuid) -> Result<Vec<CallbackRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM callbacks WHERE call_id = $1 ORDER BY requested_at, id"
        )))
        .bind(call.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(callback_row)
            .collect::<sqlx::Result<Vec<_>>>()?)
    }
}
