//! Every item's SLA history (`sla_events`) and its evaluation (`sla_clocks`).
//!
//! A lifecycle change appends the clock event the domain derives from it (`sla_event` of the
//! complaint and action machines) and calls [`refresh`] in the same transaction, so the stored
//! due moments never disagree with the history. `Db::recompute_hospital` (module `recompute`) does the same for every
//! open item after a calendar or policy edit.

use super::ItemKind;
use super::config;
use crate::row;
use crate::{Db, Result, StoreError, new_id, ts};
use chrono::{DateTime, Utc};
use px360_domain::action::{complaint, px_action};
use px360_domain::callcentre::callback as callback_rules;
use px360_domain::sla::escalation::next_escalation_at;
use px360_domain::sla::{
    BusinessCalendar, ClockContext, Evaluation, Goal, History, Ladder, Severity, SlaEvent,
    SlaEventKind, Targets, WarnAt, evaluate,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A clock event as the store writes it: lifecycle states by their snake_case name.
#[derive(Debug, Clone, Copy)]
pub enum Recorded<'a> {
    Opened(&'a str),
    Status(&'a str),
    Responded,
    UpdateSent,
    Escalated(u8),
}

pub async fn append(
    c: &mut AnyConnection,
    kind: ItemKind,
    id: Uuid,
    at: DateTime<Utc>,
    ev: Recorded<'_>,
) -> Result<()> {
    let (k, state, level) = match ev {
        Recorded::Opened(s) => ("opened", Some(s), None),
        Recorded::Status(s) => ("status", Some(s), None),
        Recorded::Responded => ("responded", None, None),
        Recorded::UpdateSent => ("update_sent", None, None),
        Recorded::Escalated(l) => ("escalated", None, Some(i64::from(l))),
    };
    sqlx::query("INSERT INTO sla_events (id, item_kind, item_id, at, kind, state, level) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(kind.as_str())
        .bind(id.to_string())
        .bind(ts(at))
        .bind(k)
        .bind(state)
        .bind(level)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// What the item lists, the detail page and the scheduler read about one clock.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClockView {
    pub item_kind: ItemKind,
    pub item_id: Uuid,
    pub cycle: i64,
    pub is_open: bool,
    pub paused: bool,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// First moment a running goal of the current cycle crossed the warning threshold.
    pub warned_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
    /// Next instant the clock changes by itself (what the breach scan indexes).
    pub next_check_at: Option<DateTime<Utc>>,
    pub evaluated_at: DateTime<Utc>,
    /// Every cycle with elapsed, remaining, due and status per goal (the domain's evaluation).
    #[schema(value_type = Object)]
    pub cycles: serde_json::Value,
}

const CLOCK_COLS: &str = "item_kind, item_id, cycle, is_open, paused, first_response_due_at, first_responded_at, resolution_due_at, resolved_at, warned_at, breached_at, next_check_at, evaluated_at, state";

fn clock_row(r: &sqlx::any::AnyRow) -> Result<ClockView> {
    let state: String = r.try_get("state")?;
    Ok(ClockView {
        item_kind: row::named(r, "item_kind", ItemKind::parse)?,
        item_id: row::uuid(r, "item_id")?,
        cycle: r.try_get("cycle")?,
        is_open: row::flag(r, "is_open")?,
        paused: row::flag(r, "paused")?,
        first_response_due_at: row::opt_time(r, "first_response_due_at")?,
        first_responded_at: row::opt_time(r, "first_responded_at")?,
        resolution_due_at: row::opt_time(r, "resolution_due_at")?,
        resolved_at: row::opt_time(r, "resolved_at")?,
        warned_at: row::opt_time(r, "warned_at")?,
        breached_at: row::opt_time(r, "breached_at")?,
        next_check_at: row::opt_time(r, "next_check_at")?,
        evaluated_at: row::time(r, "evaluated_at")?,
        cycles: serde_json::from_str(&state).unwrap_or(serde_json::Value::Null),
    })
}

pub async fn clock(c: &mut AnyConnection, kind: ItemKind, id: Uuid) -> Result<ClockView> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CLOCK_COLS} FROM sla_clocks WHERE item_kind = $1 AND item_id = $2"
    )))
    .bind(kind.as_str())
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    clock_row(&r)
}

/// Where an item lives and what its SLA is looked up by.
#[derive(Debug, Clone)]
pub struct ClockItem {
    pub kind: ItemKind,
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub category: String,
    pub severity: Severity,
}

/// Start an item's clock at `at` in lifecycle state `state`.
pub async fn open(
    c: &mut AnyConnection,
    item: &ClockItem,
    at: DateTime<Utc>,
    state: &str,
) -> Result<ClockView> {
    sqlx::query(
        "INSERT INTO sla_clocks (item_kind, item_id, hospital_id, department_id, category_code, severity, evaluated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(item.kind.as_str())
    .bind(item.id.to_string())
    .bind(item.hospital_id.to_string())
    .bind(item.department_id.map(|d| d.to_string()))
    .bind(&item.category)
    .bind(item.severity.as_str())
    .bind(ts(at))
    .execute(&mut *c)
    .await?;
    append(c, item.kind, item.id, at, Recorded::Opened(state)).await?;
    refresh(c, item.kind, item.id, at).await
}

/// Calendars, ladders and targets read once per scan or recompute, not once per item.
#[derive(Default)]
pub struct Configs {
    calendars: HashMap<Uuid, Arc<BusinessCalendar>>,
    ladders: HashMap<Uuid, Arc<Ladder>>,
    targets: HashMap<(Uuid, String, Severity), (Targets, WarnAt)>,
}

impl Configs {
    async fn calendar(&mut self, c: &mut AnyConnection, h: Uuid) -> Result<Arc<BusinessCalendar>> {
        if let Some(cal) = self.calendars.get(&h) {
            return Ok(cal.clone());
        }
        let cal = Arc::new(config::business_calendar(c, h).await?);
        self.calendars.insert(h, cal.clone());
        Ok(cal)
    }

    pub(crate) async fn ladder(&mut self, c: &mut AnyConnection, h: Uuid) -> Result<Arc<Ladder>> {
        if let Some(l) = self.ladders.get(&h) {
            return Ok(l.clone());
        }
        let l = Arc::new(config::ladder(c, h).await?);
        self.ladders.insert(h, l.clone());
        Ok(l)
    }

    async fn targets(
        &mut self,
        c: &mut AnyConnection,
        h: Uuid,
        cat: &str,
        sev: Severity,
    ) -> Result<(Targets, WarnAt)> {
        let key = (h, cat.to_owned(), sev);
        if let Some(t) = self.targets.get(&key) {
            return Ok(*t);
        }
        let t = config::targets_for(c, h, cat, sev).await?;
        self.targets.insert(key, t);
        Ok(t)
    }
}

/// An item's evaluated clock and what the scan needs next to it.
pub struct Evaluated {
    pub item: ClockItem,
    pub eval: Evaluation,
    pub ladder: Arc<Ladder>,
    /// False once the item reached a terminal state (closed, cancelled).
    pub open: bool,
}

/// One stored SLA history entry: when, the state, the previous state, the cycle.
pub(crate) type HistoryEntry = (DateTime<Utc>, String, Option<String>, Option<i64>);

fn replay<S: PartialEq + Copy>(
    events: &[HistoryEntry],
    parse: fn(&str) -> Option<S>,
    rules: &px360_domain::sla::ClockRules<S>,
    targets: &Targets,
    warn_at: WarnAt,
    cal: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Result<(Evaluation, Option<S>)> {
    let bad = || StoreError::Invalid("stored SLA history".into());
    let mut evs = Vec::with_capacity(events.len());
    let mut last = None;
    for (at, kind, state, level) in events {
        let st = || state.as_deref().and_then(parse).ok_or_else(bad);
        let kind = match kind.as_str() {
            "opened" => SlaEventKind::Opened { state: st()? },
            "status" => SlaEventKind::Status { state: st()? },
            "responded" => SlaEventKind::Responded,
            "update_sent" => SlaEventKind::UpdateSent,
            "escalated" => SlaEventKind::Escalated {
                level: level.and_then(|l| u8::try_from(l).ok()).ok_or_else(bad)?,
            },
            _ => return Err(bad()),
        };
        if let SlaEventKind::Opened { state } | SlaEventKind::Status { state } = &kind {
            last = Some(*state);
        }
        evs.push(SlaEvent { at: *at, kind });
    }
    let history = History::new(evs).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let ctx = ClockContext {
        rules,
        targets,
        warn_at,
        calendar: cal,
    };
    Ok((evaluate(&history, &ctx, now), last))
}

pub async fn evaluate_item(
    c: &mut AnyConnection,
    cfg: &mut Configs,
    kind: ItemKind,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Evaluated> {
    let r = sqlx::query("SELECT hospital_id, department_id, category_code, severity FROM sla_clocks WHERE item_kind = $1 AND item_id = $2")
        .bind(kind.as_str())
        .bind(id.to_string())
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    let item = ClockItem {
        kind,
        id,
        hospital_id: row::uuid(&r, "hospital_id")?,
        department_id: row::opt_uuid(&r, "department_id")?,
        category: r.try_get("category_code")?,
        severity: row::named(&r, "severity", Severity::parse)?,
    };
    let rows = sqlx::query("SELECT at, kind, state, level FROM sla_events WHERE item_kind = $1 AND item_id = $2 ORDER BY at, id")
        .bind(kind.as_str())
        .bind(id.to_string())
        .fetch_all(&mut *c)
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        events.push((
            row::time(r, "at")?,
            r.try_get::<String, _>("kind")?,
            r.try_get::<Option<String>, _>("state")?,
            r.try_get::<Option<i64>, _>("level")?,
        ));
    }
    evaluate_loaded(c, cfg, item, &events, now).await
}

/// Evaluate an item whose clock row and history are already loaded (the batched recompute
/// loads many at once); only the hospital's configuration is read, once per [`Configs`].
pub(crate) async fn evaluate_loaded(
    c: &mut AnyConnection,
    cfg: &mut Configs,
    item: ClockItem,
    events: &[HistoryEntry],
    now: DateTime<Utc>,
) -> Result<Evaluated> {
    let kind = item.kind;
    let cal = cfg.calendar(c, item.hospital_id).await?;
    let ladder = cfg.ladder(c, item.hospital_id).await?;
    let (mut targets, warn) = cfg
        .targets(c, item.hospital_id, &item.category, item.severity)
        .await?;
    if kind == ItemKind::Callback {
        // A callback promises a call back by its due time, nothing more: the policy's
        // resolution and update targets (from a severity-wide rule) do not apply to it.
        targets = Targets {
            first_response: targets.first_response,
            ..Targets::default()
        };
    }
    let (eval, open) = match kind {
        ItemKind::Complaint => {
            let (e, last) = replay(
                events,
                complaint::ComplaintStatus::parse,
                &complaint::clock_rules(),
                &targets,
                warn,
                &cal,
                now,
            )?;
            (e, last != Some(complaint::ComplaintStatus::Closed))
        }
        ItemKind::Action => {
            let (e, last) = replay(
                events,
                px_action::ActionStatus::parse,
                &px_action::clock_rules(),
                &targets,
                warn,
                &cal,
                now,
            )?;
            let done = matches!(
                last,
                Some(px_action::ActionStatus::Closed | px_action::ActionStatus::Cancelled)
            );
            (e, !done)
        }
        ItemKind::Callback => {
            let (e, last) = replay(
                events,
                callback_rules::CallbackStatus::parse,
                &callback_rules::clock_rules(),
                &targets,
                warn,
                &cal,
                now,
            )?;
            (
                e,
                !last.is_some_and(callback_rules::CallbackStatus::is_final),
            )
        }
    };
    Ok(Evaluated {
        item,
        eval,
        ladder,
        open,
    })
}

fn min_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// An evaluation in its stored form: the `sla_clocks` columns from `is_open` to `state`.
pub(crate) struct Stored {
    pub open: i64,
    pub cycle: i64,
    pub paused: i64,
    pub first_response_due_at: Option<String>,
    pub first_responded_at: Option<String>,
    pub resolution_due_at: Option<String>,
    pub resolved_at: Option<String>,
    pub warned_at: Option<String>,
    pub breached_at: Option<String>,
    pub next_check_at: Option<String>,
    pub evaluated_at: String,
    pub state: String,
}

pub(crate) fn stored(e: &Evaluated, now: DateTime<Utc>) -> Stored {
    let cur = e.eval.current();
    let goal = |g: Goal| cur.and_then(|c| c.goal(g));
    let running = |s: &&px360_domain::sla::SlaState| s.stopped_at.is_none() && !s.paused;
    let mut warned = None;
    let mut breached = None;
    let mut next = None;
    let mut paused = false;
    if let Some(cy) = cur {
        for s in &cy.goals {
            warned = min_opt(warned, s.at_risk_at);
            breached = min_opt(breached, s.breached_at);
            paused |= s.paused;
        }
        for s in cy.goals.iter().filter(running) {
            next = min_opt(next, s.next_change_at);
        }
    }
    next = min_opt(next, next_escalation_at(&e.eval, &e.ladder));
    if !e.open {
        next = None;
    }
    let fr = goal(Goal::FirstResponse);
    let res = goal(Goal::Resolution);
    let opt = |t: Option<DateTime<Utc>>| t.map(ts);
    Stored {
        open: i64::from(e.open),
        cycle: cur.map_or(1, |c| i64::from(c.number)),
        paused: i64::from(paused),
        first_response_due_at: opt(fr.and_then(|s| s.due_at.or(s.breached_at))),
        first_responded_at: opt(fr.and_then(|s| s.stopped_at)),
        resolution_due_at: opt(res.and_then(|s| s.due_at.or(s.breached_at))),
        resolved_at: opt(res.and_then(|s| s.stopped_at)),
        warned_at: opt(warned),
        breached_at: opt(breached),
        next_check_at: opt(next),
        evaluated_at: ts(now),
        state: serde_json::to_string(&e.eval.cycles).unwrap_or_else(|_| "[]".into()),
    }
}

/// Write the evaluation into `sla_clocks`.
pub async fn save(c: &mut AnyConnection, e: &Evaluated, now: DateTime<Utc>) -> Result<ClockView> {
    let v = stored(e, now);
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE sla_clocks SET is_open = $3, cycle = $4, paused = $5, first_response_due_at = $6, first_responded_at = $7, resolution_due_at = $8, resolved_at = $9, \
         warned_at = $10, breached_at = $11, next_check_at = $12, evaluated_at = $13, state = $14 WHERE item_kind = $1 AND item_id = $2 RETURNING {CLOCK_COLS}"
    )))
    .bind(e.item.kind.as_str())
    .bind(e.item.id.to_string())
    .bind(v.open)
    .bind(v.cycle)
    .bind(v.paused)
    .bind(v.first_response_due_at)
    .bind(v.first_responded_at)
    .bind(v.resolution_due_at)
    .bind(v.resolved_at)
    .bind(v.warned_at)
    .bind(v.breached_at)
    .bind(v.next_check_at)
    .bind(v.evaluated_at)
    .bind(v.state)
    .fetch_one(&mut *c)
    .await?;
    clock_row(&r)
}

/// Re-evaluate one item's clock at `now` and store the result.
pub async fn refresh(
    c: &mut AnyConnection,
    kind: ItemKind,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<ClockView> {
    let mut cfg = Configs::default();
    let e = evaluate_item(c, &mut cfg, kind, id, now).await?;
    save(c, &e, now).await
}

impl Db {
    pub async fn sla_clock(&self, kind: ItemKind, id: Uuid) -> Result<ClockView> {
        let mut c = self.pool.acquire().await?;
        clock(&mut c, kind, id).await
    }
}
