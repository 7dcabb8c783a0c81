//! Agent statistics, read live: the calls started in a time range and the callbacks made in it,
//! added per agent with the domain's mergeable accumulator
//! (`px360_domain::callcentre::stats::AgentStats`). A callback counts for the agent who made it.
//! Calls are orders of magnitude fewer than survey responses, so there is no roll-up table.

use crate::{Db, Result, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::analytics::Merge;
use px360_domain::callcentre::call::{CallRecord, Caller, Direction, Outcome, Reason};
use px360_domain::callcentre::stats::AgentStats;
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

/// What the statistics cover: a scope (hospital, department) and a UTC time range `[from, to)`.
#[derive(Debug, Clone)]
pub struct StatsFilter {
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// One agent's (or the team's) numbers: the domain accumulator and calls per outcome.
#[derive(Debug, Clone, Default)]
pub struct AgentLine {
    pub stats: AgentStats,
    pub outcomes: BTreeMap<&'static str, u64>,
}

impl AgentLine {
    fn merge(&mut self, o: &AgentLine) {
        self.stats.merge(&o.stats);
        for (k, v) in &o.outcomes {
            *self.outcomes.entry(*k).or_default() += v;
        }
    }
}

/// Per agent, and the whole team; plus open callbacks already past their due time.
#[derive(Debug, Clone, Default)]
pub struct TeamStats {
    pub agents: BTreeMap<Uuid, AgentLine>,
    pub team: AgentLine,
    pub callbacks_open_overdue: u64,
}

impl Db {
    pub async fn agent_stats(&self, f: &StatsFilter, now: DateTime<Utc>) -> Result<TeamStats> {
        let (from, to) = (ts(f.from), ts(f.to));
        let rows = sqlx::query(
            "SELECT agent_id, direction, reason, outcome, duration_secs, started_at FROM calls \
             WHERE started_at >= $1 AND started_at < $2 AND ($3 IS NULL OR hospital_id = $3) AND ($4 IS NULL OR department_id = $4)",
        )
        .bind(&from)
        .bind(&to)
        .bind(f.hospital_id.clone())
        .bind(f.department_id.clone())
        .fetch_all(&self.pool)
        .await?;
        let mut out = TeamStats::default();
        for r in &rows {
            // Stored rows were validated on insert; the record is rebuilt as it was.
            let rec = CallRecord {
                agent_id: row::uuid(r, "agent_id")?,
                direction: row::named(r, "direction", Direction::parse)?,
                caller: Caller::Other,
                patient: None,
                reason: row::named(r, "reason", Reason::parse)?,
                outcome: row::named(r, "outcome", Outcome::parse)?,
                duration_secs: u32::try_from(r.try_get::<i64, _>("duration_secs")?).unwrap_or(0),
                started_at: row::time(r, "started_at")?,
            };
            let line = out.agents.entry(rec.agent_id).or_default();
            line.stats.add_call(&rec);
            *line.outcomes.entry(rec.outcome.as_str()).or_default() += 1;
        }
        let done = sqlx::query(
            "SELECT done_by, on_time FROM callbacks WHERE status = 'done' AND done_at >= $1 AND done_at < $2 \
             AND done_by IS NOT NULL AND ($3 IS NULL OR hospital_id = $3) AND ($4 IS NULL OR department_id = $4)",
        )
        .bind(&from)
        .bind(&to)
        .bind(f.hospital_id.clone())
        .bind(f.department_id.clone())
        .fetch_all(&self.pool)
        .await?;
        for r in &done {
            let by = row::uuid(r, "done_by")?;
            let on_time: Option<i64> = r.try_get("on_time")?;
            out.agents
                .entry(by)
                .or_default()
                .stats
                .add_callback(on_time.unwrap_or(1) != 0);
        }
        for s in out.agents.values() {
            out.team.merge(s);
        }
        let overdue: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM callbacks WHERE status = 'open' AND due_at IS NOT NULL AND due_at < $1 \
             AND ($2 IS NULL OR hospital_id = $2) AND ($3 IS NULL OR department_id = $3)",
        )
        .bind(ts(now))
        .bind(f.hospital_id.clone())
        .bind(f.department_id.clone())
        .fetch_one(&self.pool)
        .await?;
        out.callbacks_open_overdue = u64::try_from(overdue).unwrap_or(0);
        Ok(out)
    }
}
