//! The breach scan: claim the open clocks whose `next_check_at` has come, re-evaluate them, record
//! the escalation steps now due, notify their recipients, and store the next check.
//!
//! Once across several workers: on PostgreSQL the claim is `FOR UPDATE SKIP LOCKED` (two workers
//! take disjoint items and never wait for each other); on SQLite the single writer connection
//! serialises scans. Independently of the claim, each step is recorded through the unique key
//! `(item, cycle, level)` of `sla_escalations`, and only the insert that wins notifies and
//! audits, so a retried or concurrent evaluation (the API refreshing the same item) never
//! escalates twice.

use super::ItemKind;
use super::clock::{Configs, Evaluated, Recorded, append, evaluate_item, save};
use crate::audit::AuditEntry;
use crate::{Backend, Db, Result, new_id, ts};
use chrono::{DateTime, Utc};
use px360_domain::rbac::Role;
use px360_domain::sla::{Escalate, EscalationTarget, decide};
use serde::Serialize;
use sqlx::AnyConnection;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanOutcome {
    /// Clocks claimed and re-evaluated.
    pub evaluated: usize,
    /// Escalation steps recorded by this scan.
    pub escalations: usize,
    /// Notifications created by this scan.
    pub notifications: usize,
}

fn object_type(k: ItemKind) -> &'static str {
    match k {
        ItemKind::Complaint => "complaint",
        ItemKind::Action => "px_action",
        ItemKind::Callback => "callback",
    }
}

/// The person an item is with: a complaint's assignee, an action's owner, a callback's
/// assigned agent.
async fn assignee(c: &mut AnyConnection, kind: ItemKind, id: Uuid) -> Result<Option<String>> {
    let sql = match kind {
        ItemKind::Complaint => "SELECT assignee_id FROM complaints WHERE id = $1",
        ItemKind::Action => "SELECT owner_id FROM px_actions WHERE id = $1",
        ItemKind::Callback => "SELECT assignee_id FROM callbacks WHERE id = $1",
    };
    let v: Option<Option<String>> = sqlx::query_scalar(sql)
        .bind(id.to_string())
        .fetch_optional(&mut *c)
        .await?;
    Ok(v.flatten())
}

async fn users_with(
    c: &mut AnyConnection,
    role: Role,
    hospital: Option<Uuid>,
    department: Option<Uuid>,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM users WHERE role = $1 AND is_active = 1 AND deleted_at IS NULL \
         AND ($2 IS NULL OR hospital_id = $2) AND ($3 IS NULL OR department_id = $3) ORDER BY id",
    )
    .bind(role.as_str())
    .bind(hospital.map(|h| h.to_string()))
    .bind(department.map(|d| d.to_string()))
    .fetch_all(&mut *c)
    .await?)
}

/// Who a step notifies. A step with nobody to notify (no assignee yet, no manager for the
/// department) goes to the hospital's PX coordinators, so no level is silently lost.
pub async fn recipients(
    c: &mut AnyConnection,
    e: &Evaluated,
    to: EscalationTarget,
) -> Result<Vec<String>> {
    let h = Some(e.item.hospital_id);
    let mut who = match to {
        EscalationTarget::Assignee => assignee(c, e.item.kind, e.item.id)
            .await?
            .into_iter()
            .collect(),
        EscalationTarget::Role(Role::PxAdmin) => users_with(c, Role::PxAdmin, None, None).await?,
        EscalationTarget::Role(Role::DepartmentManager) => match e.item.department_id {
            Some(d) => users_with(c, Role::DepartmentManager, h, Some(d)).await?,
            None => Vec::new(),
        },
        EscalationTarget::Role(r) => users_with(c, r, h, None).await?,
    };
    if who.is_empty() {
        who = users_with(c, Role::PxCoordinator, h, None).await?;
    }
    Ok(who)
}

/// Insert a notification once per (user, key); true when this call created it.
pub async fn notify(
    c: &mut AnyConnection,
    user: &str,
    kind: &str,
    item: (ItemKind, Uuid),
    dedup_key: &str,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, item_kind, item_id, dedup_key, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (user_id, dedup_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(user)
    .bind(kind)
    .bind(item.0.as_str())
    .bind(item.1.to_string())
    .bind(dedup_key)
    .bind(detail.to_string())
    .bind(ts(now))
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Record one step if no one has; notify and audit only then.
async fn escalate(
    c: &mut AnyConnection,
    e: &Evaluated,
    step: &Escalate,
    by: &str,
    now: DateTime<Utc>,
    audit: &mut Vec<AuditEntry>,
    out: &mut ScanOutcome,
) -> Result<()> {
    let (kind, id) = (e.item.kind, e.item.id);
    let goal = serde_json::to_value(step.reason.goal).unwrap_or_default();
    let trigger = serde_json::to_value(step.reason.trigger).unwrap_or_default();
    let won = sqlx::query(
        "INSERT INTO sla_escalations (id, item_kind, item_id, cycle, level, goal, fires_on, due_at, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (item_kind, item_id, cycle, level) DO NOTHING",
    )
    .bind(new_id())
    .bind(kind.as_str())
    .bind(id.to_string())
    .bind(i64::from(step.cycle))
    .bind(i64::from(step.level))
    .bind(goal.to_string())
    .bind(trigger.to_string())
    .bind(ts(step.at))
    .bind(ts(now))
    .bind(by)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1;
    if !won {
        return Ok(());
    }
    append(c, kind, id, step.at, Recorded::Escalated(step.level)).await?;
    out.escalations += 1;
    let detail = serde_json::json!({
        "cycle": step.cycle, "level": step.level, "goal": goal, "trigger": trigger,
        "due_at": ts(step.at), "to": step.to,
    });
    let key = format!("esc:{}:{}:{}:{}", kind.as_str(), id, step.cycle, step.level);
    let who = recipients(c, e, step.to).await?;
    for u in &who {
        if notify(c, u, "sla_escalation", (kind, id), &key, &detail, now).await? {
            out.notifications += 1;
        }
    }
    let mut changes = detail;
    changes["notified"] = serde_json::json!(who);
    audit.push(AuditEntry {
        actor_type: "system",
        actor_id: Some(by.to_owned()),
        action: if step.level == 1 {
            "sla.warn".into()
        } else {
            "sla.escalate".into()
        },
        object_type: Some(object_type(kind)),
        object_id: Some(id.to_string()),
        hospital_id: Some(e.item.hospital_id.to_string()),
        changes: Some(changes),
        ..AuditEntry::default()
    });
    Ok(())
}

/// Evaluate one item at `now`, record what is due, store the next check.
#[allow(clippy::too_many_arguments)]
pub async fn process(
    c: &mut AnyConnection,
    cfg: &mut Configs,
    kind: ItemKind,
    id: Uuid,
    by: &str,
    now: DateTime<Utc>,
    audit: &mut Vec<AuditEntry>,
    out: &mut ScanOutcome,
) -> Result<()> {
    let mut e = evaluate_item(c, cfg, kind, id, now).await?;
    let due = if e.open {
        decide(&e.eval, &e.ladder, now)
    } else {
        Vec::new()
    };
    if !due.is_empty() {
        for step in &due {
            escalate(c, &e, step, by, now, audit, out).await?;
        }
        e = evaluate_item(c, cfg, kind, id, now).await?;
    }
    save(c, &e, now).await?;
    out.evaluated += 1;
    Ok(())
}

impl Db {
    /// One scan pass over at most `limit` due clocks, in one transaction; `by` names the worker.
    pub async fn sla_scan(&self, now: DateTime<Utc>, limit: i64, by: &str) -> Result<ScanOutcome> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.writer.begin().await?;
        // Uses sla_clocks_due: an index range over the due moments of open items.
        let keys: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT item_kind, item_id FROM sla_clocks WHERE is_open = 1 AND next_check_at IS NOT NULL AND next_check_at <= $1 \
             ORDER BY next_check_at LIMIT $2{lock}"
        )))
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = ScanOutcome::default();
        if keys.is_empty() {
            tx.rollback().await?;
            return Ok(out);
        }
        let mut cfg = Configs::default();
        let mut audit = Vec::new();
        for (k, id) in &keys {
            let (Some(kind), Ok(id)) = (ItemKind::parse(k), Uuid::parse_str(id)) else {
                continue;
            };
            process(&mut tx, &mut cfg, kind, id, by, now, &mut audit, &mut out).await?;
        }
        crate::audit::append_many(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A user's newest notifications.
    pub async fn notifications_for(&self, user: Uuid, limit: i64) -> Result<Vec<Notification>> {
        type NotificationColumns = (
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
        );
        let rows: Vec<NotificationColumns> = sqlx::query_as(
            "SELECT id, kind, item_kind, item_id, detail, created_at, read_at FROM notifications WHERE user_id = $1 AND kind <> 'weekly_report' ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, kind, item_kind, item_id, detail, created_at, read_at)| Notification {
                    id,
                    kind,
                    item_kind,
                    item_id,
                    detail: serde_json::from_str(&detail).unwrap_or_default(),
                    created_at,
                    read_at,
                },
            )
            .collect())
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub item_kind: String,
    pub item_id: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub created_at: String,
    pub read_at: Option<String>,
}
