//! PX actions: creation from an origin (complaint, negative survey response, by hand) with the
//! owner resolved from the domain's [`OwnerQuery`], lifecycle changes decided by
//! `px360_domain::action::px_action`, the log, and the action board.
//!
//! A source raises at most one action (unique `origin_kind, origin_id`): the surveys consumer can
//! call [`insert`] for a redelivered `SurveyResponseNegative` and get the first action back.

use crate::row;
use crate::sla::ItemKind;
use crate::sla::clock::{self, ClockItem, Recorded};
use crate::{Db, Result, StoreError, new_id, ts};
use chrono::{DateTime, Utc};
use px360_domain::action::origin::{ActionOrigin, OwnerQuery};
use px360_domain::action::px_action::{ActionEvent, ActionStatus, PxAction};
use px360_domain::rbac::Role;
use px360_domain::sla::Severity;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Action {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    /// manual | complaint | negative_survey | feedback | social_mention | negative_text
    pub origin_kind: String,
    pub origin_id: Option<Uuid>,
    pub category_code: String,
    pub title: String,
    pub description: String,
    #[schema(value_type = String, example = "high")]
    pub severity: Severity,
    #[schema(value_type = String, example = "open")]
    pub status: ActionStatus,
    pub owner_id: Uuid,
    pub due_at: Option<DateTime<Utc>>,
    pub evidence_count: i64,
    pub submitted_by: Option<Uuid>,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTime<Utc>>,
    pub cycle: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Set on board rows: the SLA breach moment, if breached.
    pub breached_at: Option<DateTime<Utc>>,
}

const COLS: &str = "a.id, a.hospital_id, a.department_id, a.origin_kind, a.origin_id, a.category_code, a.title, a.description, a.severity, a.status, a.owner_id, a.due_at, \
    a.evidence_count, a.submitted_by, a.verified_by, a.verified_at, a.cycle, a.created_by, a.created_at, a.updated_at, a.closed_at, k.breached_at";
const FROM: &str =
    "px_actions a LEFT JOIN sla_clocks k ON k.item_kind = 'action' AND k.item_id = a.id";

fn action_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Action> {
    Ok(Action {
        id: row::uuid(r, "id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        department_id: row::opt_uuid(r, "department_id")?,
        origin_kind: r.try_get("origin_kind")?,
        origin_id: row::opt_uuid(r, "origin_id")?,
        category_code: r.try_get("category_code")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        severity: row::named(r, "severity", Severity::parse)?,
        status: row::named(r, "status", ActionStatus::parse)?,
        owner_id: row::uuid(r, "owner_id")?,
        due_at: row::opt_time(r, "due_at")?,
        evidence_count: r.try_get("evidence_count")?,
        submitted_by: row::opt_uuid(r, "submitted_by")?,
        verified_by: row::opt_uuid(r, "verified_by")?,
        verified_at: row::opt_time(r, "verified_at")?,
        cycle: r.try_get("cycle")?,
        created_by: row::opt_uuid(r, "created_by")?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
        closed_at: row::opt_time(r, "closed_at")?,
        breached_at: row::opt_time(r, "breached_at")?,
    })
}

fn origin_key(o: &ActionOrigin) -> (&'static str, Option<Uuid>) {
    match o {
        ActionOrigin::NegativeSurvey { response_id, .. } => ("negative_survey", Some(*response_id)),
        ActionOrigin::Complaint { complaint_id } => ("complaint", Some(*complaint_id)),
        ActionOrigin::Manual => ("manual", None),
        ActionOrigin::Feedback { feedback_id } => ("feedback", Some(*feedback_id)),
        ActionOrigin::SocialMention { mention_id } => ("social_mention", Some(*mention_id)),
        ActionOrigin::NegativeText { item_id, .. } => ("negative_text", Some(*item_id)),
    }
}

/// The user an [`OwnerQuery`] names: the longest-standing active holder of the role there,
/// else the hospital's PX coordinator, else its hospital admin.
pub async fn resolve_owner(c: &mut AnyConnection, q: &OwnerQuery) -> Result<Option<Uuid>> {
    let h = q.hospital_id.map(|h| h.to_string());
    let tries = [
        (q.role, q.department_id.map(|d| d.to_string())),
        (Role::PxCoordinator, None),
        (Role::HospitalAdmin, None),
    ];
    for (role, dept) in tries {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM users WHERE role = $1 AND is_active = 1 AND deleted_at IS NULL AND ($2 IS NULL OR hospital_id = $2) \
             AND ($3 IS NULL OR department_id = $3) ORDER BY created_at, id LIMIT 1",
        )
        .bind(role.as_str())
        .bind(&h)
        .bind(&dept)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(id) = id {
            return Ok(Uuid::parse_str(&id).ok());
        }
    }
    Ok(None)
}

#[derive(Debug, Clone)]
pub struct NewAction {
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub origin: ActionOrigin,
    pub category_code: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub owner_id: Uuid,
    pub created_by: Option<Uuid>,
}

/// Insert an action and start its clock (its due date is the clock's resolution due moment).
/// An origin that already raised an action returns that action with `false`.
pub async fn insert(
    c: &mut AnyConnection,
    n: &NewAction,
    at: DateTime<Utc>,
) -> Result<(Action, bool)> {
    let (okind, oid) = origin_key(&n.origin);
    if let Some(oid) = oid {
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM px_actions WHERE origin_kind = $1 AND origin_id = $2",
        )
        .bind(okind)
        .bind(oid.to_string())
        .fetch_optional(&mut *c)
        .await?;
        if let Some(id) = existing.and_then(|i| Uuid::parse_str(&i).ok()) {
            return Ok((get(c, id).await?, false));
        }
    }
    let id = Uuid::now_v7();
    let now = ts(at);
    sqlx::query(
        "INSERT INTO px_actions (id, hospital_id, department_id, origin_kind, origin_id, origin, category_code, title, description, severity, status, owner_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12, $13, $13)",
    )
    .bind(id.to_string())
    .bind(n.hospital_id.to_string())
    .bind(n.department_id.map(|d| d.to_string()))
    .bind(okind)
    .bind(oid.map(|o| o.to_string()))
    .bind(serde_json::to_string(&n.origin).unwrap_or_else(|_| "{}".into()))
    .bind(&n.category_code)
    .bind(&n.title)
    .bind(&n.description)
    .bind(n.severity.as_str())
    .bind(n.owner_id.to_string())
    .bind(n.created_by.map(|u| u.to_string()))
    .bind(&now)
    .execute(&mut *c)
    .await?;
    log(
        c,
        id,
        "created",
        &serde_json::json!({"origin": okind}),
        n.created_by,
        at,
    )
    .await?;
    let k = clock::open(
        c,
        &ClockItem {
            kind: ItemKind::Action,
            id,
            hospital_id: n.hospital_id,
            department_id: n.department_id,
            category: n.category_code.clone(),
            severity: n.severity,
        },
        at,
        ActionStatus::Open.as_str(),
    )
    .await?;
    set_due(c, id, k.resolution_due_at).await?;
    Ok((get(c, id).await?, true))
}

async fn set_due(c: &mut AnyConnection, id: Uuid, due: Option<DateTime<Utc>>) -> Result<()> {
    sqlx::query("UPDATE px_actions SET due_at = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(due.map(ts))
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn log(
    c: &mut AnyConnection,
    action: Uuid,
    event: &str,
    detail: &serde_json::Value,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO px_action_log (id, action_id, event, detail, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(new_id())
        .bind(action.to_string())
        .bind(event)
        .bind(detail.to_string())
        .bind(actor.map(|a| a.to_string()))
        .bind(ts(at))
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn get(c: &mut AnyConnection, id: Uuid) -> Result<Action> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM {FROM} WHERE a.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(action_row(&r)?)
}

/// The lifecycle projection the domain machine works on.
pub fn projection(a: &Action) -> PxAction {
    PxAction {
        status: a.status,
        owner: a.owner_id,
        severity: a.severity,
        evidence_count: u32::try_from(a.evidence_count).unwrap_or(u32::MAX),
        submitted_by: a.submitted_by,
        cycle: u32::try_from(a.cycle).unwrap_or(1),
    }
}

/// Store a transition's outcome: projection, log entries, clock events, refreshed clock and due.
pub async fn apply(
    c: &mut AnyConnection,
    id: Uuid,
    next: &PxAction,
    events: &[ActionEvent],
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<Action> {
    let now = ts(at);
    let verified = events
        .iter()
        .find_map(|e| match e {
            ActionEvent::Verified { by } => Some(*by),
            _ => None,
        })
        .or_else(|| {
            // Low and medium actions close without verification: the closer is recorded.
            (next.status == ActionStatus::Closed).then_some(by)
        });
    let closed = matches!(next.status, ActionStatus::Closed | ActionStatus::Cancelled);
    sqlx::query(
        "UPDATE px_actions SET status = $2, owner_id = $3, evidence_count = $4, submitted_by = $5, cycle = $6, updated_at = $7, \
         verified_by = CASE WHEN $8 IS NULL THEN verified_by ELSE $8 END, verified_at = CASE WHEN $8 IS NULL THEN verified_at ELSE $7 END, \
         closed_at = CASE WHEN $9 = 1 THEN $7 ELSE NULL END WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(next.status.as_str())
    .bind(next.owner.to_string())
    .bind(i64::from(next.evidence_count))
    .bind(next.submitted_by.map(|u| u.to_string()))
    .bind(i64::from(next.cycle))
    .bind(&now)
    .bind(verified.map(|u| u.to_string()))
    .bind(i64::from(closed))
    .execute(&mut *c)
    .await?;
    for ev in events {
        let v = serde_json::to_value(ev).unwrap_or_default();
        let name = v["event"].as_str().unwrap_or("event").to_owned();
        log(c, id, &name, &v, Some(by), at).await?;
        if let Some(s) = px360_domain::action::px_action::sla_event(ev, at)
            && let px360_domain::sla::SlaEventKind::Status { state } = s.kind
        {
            clock::append(
                c,
                ItemKind::Action,
                id,
                at,
                Recorded::Status(state.as_str()),
            )
            .await?;
        }
    }
    let k = clock::refresh(c, ItemKind::Action, id, at).await?;
    if !closed {
        set_due(c, id, k.resolution_due_at).await?;
    }
    get(c, id).await
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogEntry {
    pub event: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Which part of the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Board {
    /// Open actions the caller owns.
    Mine,
    /// Open actions in the caller's scope (department or hospital).
    Team,
    /// Open actions in scope past their due moment.
    Overdue,
}

impl Db {
    pub async fn px_action(&self, id: Uuid) -> Result<Action> {
        let mut c = self.pool.acquire().await?;
        get(&mut c, id).await
    }

    pub async fn px_action_log(&self, id: Uuid) -> Result<Vec<LogEntry>> {
        let rows = sqlx::query("SELECT event, detail, actor_id, created_at FROM px_action_log WHERE action_id = $1 ORDER BY created_at, id")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let d: String = r.try_get("detail")?;
                Ok(LogEntry {
                    event: r.try_get("event")?,
                    detail: serde_json::from_str(&d).unwrap_or_default(),
                    actor_id: row::opt_uuid(r, "actor_id")?,
                    created_at: row::time(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Open actions of a board, soonest due first (no due date last), at most `limit`.
    pub async fn action_board(
        &self,
        board: Board,
        user: Uuid,
        scope: &crate::org::ScopeFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Action>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM {FROM} WHERE a.status NOT IN ('closed', 'cancelled') \
             AND ($1 IS NULL OR a.hospital_id = $1) AND ($2 IS NULL OR a.department_id = $2) \
             AND ($3 IS NULL OR a.owner_id = $3) AND ($4 IS NULL OR k.breached_at IS NOT NULL OR a.due_at < $4) \
             ORDER BY CASE WHEN a.due_at IS NULL THEN 1 ELSE 0 END, a.due_at, a.id LIMIT $5"
        )))
        .bind(&scope.hospital_id)
        .bind(&scope.department_id)
        .bind((board == Board::Mine).then(|| user.to_string()))
        .bind((board == Board::Overdue).then(|| ts(now)))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(action_row).collect::<sqlx::Result<_>>()?)
    }
}
