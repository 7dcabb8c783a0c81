//! Automatic PX actions: the per-hospital creation rules (`action_rules`, the domain's
//! [`CreationRules`] as JSON, the default when a hospital has none), raising an action with its
//! owner notified, and the consumer of the surveys' `survey.response.negative` events.
//!
//! Exactly once, across several workers and retries: the consumer claims unconsumed events with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (the single writer connection serialises it on SQLite),
//! and independently a source raises at most one action (unique `origin_kind, origin_id` of
//! `px_actions`) and a user gets one notification per key (unique `user_id, dedup_key`). The
//! event is marked consumed in the transaction that created the action, its notification and its
//! audit record, so a crash leaves either all of it or none.

use crate::actions::{self, Action, NewAction as StoreAction};
use crate::audit::AuditEntry;
use crate::sla::ItemKind;
use crate::sla::scan::notify;
use crate::{Backend, Db, Result, StoreError, ts};
use chrono::{DateTime, Utc};
use px360_domain::action::origin::{self, CreationRules, SURVEY_CATEGORY};
use px360_domain::sla::{BusinessCalendar, SlaPolicy};
use px360_domain::survey::negative::SurveyResponseNegative;
use serde::Serialize;
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use uuid::Uuid;

/// The hospital's creation rules, or the domain's default.
pub async fn rules_for(c: &mut AnyConnection, hospital: Uuid) -> Result<CreationRules> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT rules FROM action_rules WHERE hospital_id = $1")
            .bind(hospital.to_string())
            .fetch_optional(&mut *c)
            .await?;
    match raw {
        // Validated when stored; a row that no longer parses falls back to the default rather
        // than stopping every action of the hospital.
        Some(s) => Ok(serde_json::from_str(&s).unwrap_or_default()),
        None => Ok(CreationRules::default()),
    }
}

/// Store a hospital's creation rules (the caller audits in the same transaction).
pub async fn put_rules(
    c: &mut AnyConnection,
    hospital: Uuid,
    rules: &CreationRules,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    let json = serde_json::to_string(rules).map_err(|e| StoreError::Invalid(e.to_string()))?;
    sqlx::query(
        "INSERT INTO action_rules (hospital_id, rules, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (hospital_id) DO UPDATE SET rules = excluded.rules, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(hospital.to_string())
    .bind(json)
    .bind(by.map(|u| u.to_string()))
    .bind(ts(at))
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// What the action is about, beyond the domain's plan.
#[derive(Debug, Clone)]
pub struct Raise<'a> {
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub category_code: &'a str,
    pub title: String,
    pub description: String,
    pub created_by: Option<Uuid>,
}

/// A raised action: the action, whether this call created it, and whether its owner was notified
/// by this call.
#[derive(Debug, Clone)]
pub struct Raised {
    pub action: Action,
    pub created: bool,
    pub notified: bool,
}

/// Resolve the plan's owner, insert the action (its clock and due date start with it) and notify
/// the owner in the app; the notification's `email_status = 'pending'` hands it to the email
/// sender. `None` when nobody can own it (no manager, coordinator or admin in the hospital).
pub async fn raise(
    c: &mut AnyConnection,
    plan: &origin::NewAction,
    what: Raise<'_>,
    at: DateTime<Utc>,
) -> Result<Option<Raised>> {
    let Some(owner) = actions::resolve_owner(c, &plan.owner).await? else {
        return Ok(None);
    };
    let (action, created) = actions::insert(
        c,
        &StoreAction {
            hospital_id: what.hospital_id,
            department_id: what.department_id,
            origin: plan.origin.clone(),
            category_code: what.category_code.to_owned(),
            title: what.title,
            description: what.description,
            severity: plan.severity,
            owner_id: owner,
            created_by: what.created_by,
        },
        at,
    )
    .await?;
    let mut notified = false;
    if created {
        let detail = serde_json::json!({
            "action_id": action.id, "title": action.title, "severity": action.severity.as_str(),
            "due_at": action.due_at.map(ts), "origin": action.origin_kind,
        });
        notified = notify(
            c,
            &owner.to_string(),
            "action_assigned",
            (ItemKind::Action, action.id),
            &format!("action:{}:owner:{owner}", action.id),
            &detail,
            at,
        )
        .await?;
    }
    Ok(Some(Raised {
        action,
        created,
        notified,
    }))
}

/// What one consumer pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConsumeOutcome {
    /// Events marked consumed by this pass.
    pub consumed: usize,
    /// Actions created by this pass.
    pub actions: usize,
    /// Owners notified by this pass.
    pub notified: usize,
}

type EventRow = (String, String, String, String);

impl Db {
    /// One pass of the negative-survey consumer over at most `limit` unconsumed events, in one
    /// transaction; `by` names the worker (recorded as `consumed_by` and in the audit log).
    pub async fn consume_survey_events(
        &self,
        by: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<ConsumeOutcome> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.writer.begin().await?;
        // Uses survey_events_unconsumed (partial, created_at).
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, hospital_id, invitation_id, payload FROM survey_events WHERE consumed_at IS NULL AND kind = $1 \
             ORDER BY created_at LIMIT $2{lock}"
        )))
        .bind(SurveyResponseNegative::EVENT_TYPE)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = ConsumeOutcome::default();
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(out);
        }
        let mut rules: HashMap<Uuid, CreationRules> = HashMap::new();
        let mut calendars: HashMap<Uuid, BusinessCalendar> = HashMap::new();
        let policy = SlaPolicy::demo_default();
        let mut audit = Vec::new();
        for (id, hospital, invitation, payload) in &rows {
            let parsed = Uuid::parse_str(hospital)
                .ok()
                .zip(serde_json::from_str::<SurveyResponseNegative>(payload).ok());
            let mut action_id = None;
            if let Some((h, mut ev)) = parsed {
                ev.hospital_id = Some(h);
                if let Entry::Vacant(v) = rules.entry(h) {
                    v.insert(rules_for(&mut tx, h).await?);
                }
                if let Entry::Vacant(v) = calendars.entry(h) {
                    v.insert(crate::sla::config::business_calendar(&mut tx, h).await?);
                }
                let dept = match Uuid::parse_str(invitation) {
                    Ok(i) => crate::surveys::invitations::department_of(&mut tx, i).await?,
                    Err(_) => None,
                };
                // The plan's due date is the domain's estimate; the stored clock (the hospital's
                // own policy and calendar) sets the action's real due date on insert.
                let plan = match (rules.get(&h), calendars.get(&h)) {
                    (Some(r), Some(cal)) => r.for_negative_survey(&ev, dept, (&policy, cal)),
                    _ => None,
                };
                if let Some(plan) = plan {
                    let raised = raise(
                        &mut tx,
                        &plan,
                        Raise {
                            hospital_id: h,
                            department_id: dept,
                            category_code: SURVEY_CATEGORY,
                            title: "Negative survey response".into(),
                            description: serde_json::to_string(&ev.reasons).unwrap_or_default(),
                            created_by: None,
                        },
                        now,
                    )
                    .await?;
                    if let Some(r) = raised {
                        action_id = Some(r.action.id);
                        out.actions += usize::from(r.created);
                        out.notified += usize::from(r.notified);
                        if r.created {
                            audit.push(AuditEntry {
                                actor_type: "system",
                                actor_id: Some(by.to_owned()),
                                action: "px_action.create".into(),
                                object_type: Some("px_action"),
                                object_id: Some(r.action.id.to_string()),
                                hospital_id: Some(h.to_string()),
                                changes: Some(serde_json::json!({
                                    "origin": "negative_survey", "response_id": ev.response_id,
                                    "survey_event_id": id, "owner_id": r.action.owner_id,
                                    "severity": r.action.severity.as_str(),
                                    "due_at": r.action.due_at.map(ts), "department_id": dept,
                                })),
                                ..AuditEntry::default()
                            });
                        }
                    } else {
                        audit.push(AuditEntry {
                            actor_type: "system",
                            actor_id: Some(by.to_owned()),
                            action: "survey_event.no_owner".into(),
                            object_type: Some("survey_event"),
                            object_id: Some(id.clone()),
                            hospital_id: Some(h.to_string()),
                            ..AuditEntry::default()
                        });
                    }
                }
            }
            let n = sqlx::query(
                "UPDATE survey_events SET consumed_at = $2, consumed_by = $3, action_id = $4 WHERE id = $1 AND consumed_at IS NULL",
            )
            .bind(id)
            .bind(ts(now))
            .bind(by)
            .bind(action_id.map(|a| a.to_string()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            out.consumed += usize::try_from(n).unwrap_or(0);
        }
        crate::audit::append_many(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A hospital's action creation rules (the default when none are stored).
    pub async fn action_rules(&self, hospital: Uuid) -> Result<CreationRules> {
        let mut c = self.pool.acquire().await?;
        rules_for(&mut c, hospital).await
    }
}

/// A live department of `hospital` by its code (integration senders know codes, not ids).
pub async fn department_by_code(db: &Db, hospital: Uuid, code: &str) -> Result<Option<Uuid>> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM departments WHERE hospital_id = $1 AND code = $2 AND deleted_at IS NULL",
    )
    .bind(hospital.to_string())
    .bind(code)
    .fetch_optional(&db.pool)
    .await?;
    Ok(id.and_then(|i| Uuid::parse_str(&i).ok()))
}
