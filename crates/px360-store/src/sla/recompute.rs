//! Recompute every open item of a hospital after its calendar or policy changed.
//!
//! Batched, because a hospital can have 100,000 open items (issue 16 asks ≤ 10 s): per batch of
//! [`BATCH`] items walked in key order, one query reads their clock rows, one their histories
//! (an index range on `sla_events_item`), the pure engine re-evaluates each, and multi-row
//! `UPDATE … FROM (VALUES …)` statements (both engines) write them back, all in one write
//! transaction, so a concurrent lifecycle change of an item is never overwritten by an older
//! evaluation. Item by item (three statements each) this took about ten times as long.
//! Callbacks have clocks too; their rows' `due_at` is refreshed from the clocks at the end.

use super::ItemKind;
use super::clock::{ClockItem, Configs, HistoryEntry, Stored, evaluate_loaded, stored};
use crate::{Backend, Db, Result, row};
use chrono::{DateTime, Utc};
use px360_domain::sla::Severity;
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;

/// Items per transaction.
const BATCH: i64 = 500;
/// Items per multi-row UPDATE (14 parameters each; well inside both engines' limits).
const UPDATE_ROWS: usize = 100;

type Key = (String, String);

async fn write(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    rows: &[(Key, Stored)],
) -> Result<()> {
    for chunk in rows.chunks(UPDATE_ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                // Positional `?` on SQLite: sqlx resolves `$n` names there by a linear scan per
                // parameter, quadratic over 1,400 parameters (see the README's Benchmarks).
                let p: Vec<String> = (1..=14)
                    .map(|j| match backend {
                        Backend::Sqlite => "?".to_owned(),
                        Backend::Postgres => format!("${}", i * 14 + j),
                    })
                    .collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "UPDATE sla_clocks SET is_open = v.column3, cycle = v.column4, paused = v.column5, first_response_due_at = v.column6, \
             first_responded_at = v.column7, resolution_due_at = v.column8, resolved_at = v.column9, warned_at = v.column10, \
             breached_at = v.column11, next_check_at = v.column12, evaluated_at = v.column13, state = v.column14 \
             FROM (VALUES {}) AS v WHERE sla_clocks.item_kind = v.column1 AND sla_clocks.item_id = v.column2",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((kind, id), s) in chunk {
            q = q
                .bind(kind.clone())
                .bind(id.clone())
                .bind(s.open)
                .bind(s.cycle)
                .bind(s.paused)
                .bind(s.first_response_due_at.clone())
                .bind(s.first_responded_at.clone())
                .bind(s.resolution_due_at.clone())
                .bind(s.resolved_at.clone())
                .bind(s.warned_at.clone())
                .bind(s.breached_at.clone())
                .bind(s.next_check_at.clone())
                .bind(s.evaluated_at.clone())
                .bind(s.state.clone());
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

impl Db {
    /// Re-evaluate every open item of a hospital (after its calendar or policy changed), in
    /// transactions of [`BATCH`] items walked in key order; returns how many.
    pub async fn recompute_hospital(&self, hospital: Uuid, now: DateTime<Utc>) -> Result<usize> {
        let mut after: Key = (String::new(), String::new());
        let mut done = 0;
        let mut cfg = Configs::default();
        loop {
            let mut tx = self.writer.begin().await?;
            let items = sqlx::query(
                "SELECT item_kind, item_id, department_id, category_code, severity FROM sla_clocks \
                 WHERE hospital_id = $1 AND is_open = 1 AND (item_kind, item_id) > ($2, $3) ORDER BY item_kind, item_id LIMIT $4",
            )
            .bind(hospital.to_string())
            .bind(&after.0)
            .bind(&after.1)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
            if items.is_empty() {
                tx.rollback().await?;
                break;
            }
            let key = |r: &sqlx::any::AnyRow| -> Result<Key> {
                Ok((r.try_get("item_kind")?, r.try_get("item_id")?))
            };
            let first = key(&items[0])?;
            let last = key(&items[items.len() - 1])?;
            let rows = sqlx::query(
                "SELECT item_kind, item_id, at, kind, state, level FROM sla_events \
                 WHERE (item_kind, item_id) >= ($1, $2) AND (item_kind, item_id) <= ($3, $4) ORDER BY item_kind, item_id, at, id",
            )
            .bind(&first.0)
            .bind(&first.1)
            .bind(&last.0)
            .bind(&last.1)
            .fetch_all(&mut *tx)
            .await?;
            let mut history: HashMap<Key, Vec<HistoryEntry>> = HashMap::new();
            for r in &rows {
                history.entry(key(r)?).or_default().push((
                    row::time(r, "at")?,
                    r.try_get::<String, _>("kind")?,
                    r.try_get::<Option<String>, _>("state")?,
                    r.try_get::<Option<i64>, _>("level")?,
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for r in &items {
                let k = key(r)?;
                let (Some(kind), Ok(id)) = (ItemKind::parse(&k.0), Uuid::parse_str(&k.1)) else {
                    continue;
                };
                let item = ClockItem {
                    kind,
                    id,
                    hospital_id: hospital,
                    department_id: row::opt_uuid(r, "department_id")?,
                    category: r.try_get("category_code")?,
                    severity: row::named(r, "severity", Severity::parse)?,
                };
                let events = history.remove(&k).unwrap_or_default();
                let e = evaluate_loaded(&mut tx, &mut cfg, item, &events, now).await?;
                out.push((k, stored(&e, now)));
            }
            write(&mut tx, self.backend, &out).await?;
            tx.commit().await?;
            done += items.len();
            after = last;
        }
        // Open callbacks keep their due time in their own row too (the queue's order and the
        // on-time verdict read it): copy the recomputed first-response due moments.
        sqlx::query(
            "UPDATE callbacks SET due_at = (SELECT k.first_response_due_at FROM sla_clocks k WHERE k.item_kind = 'callback' AND k.item_id = callbacks.id), \
             updated_at = $2 WHERE hospital_id = $1 AND status = 'open' \
             AND EXISTS (SELECT 1 FROM sla_clocks k WHERE k.item_kind = 'callback' AND k.item_id = callbacks.id)",
        )
        .bind(hospital.to_string())
        .bind(crate::ts(now))
        .execute(&self.writer)
        .await?;
        Ok(done)
    }
}
