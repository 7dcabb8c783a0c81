//! Case-side KPIs, read live: complaints by category, severity and source with time to resolve,
//! SLA compliance (first response, resolution) of those complaints, and PX action closure and
//! overdue rates. These tables hold orders of magnitude fewer rows than survey responses, and
//! an action's "overdue" changes with the clock, so they are not rolled up: each read is one
//! indexed range per table (`(hospital_id, created_at)`), counted with the domain's
//! accumulators. A case counts in the period (local day of its hospital) it was opened.

use super::{AnalyticsFilter, DayRange, zone};
use crate::{Db, Result, row, ts};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use px360_domain::action::px_action::ActionStatus;
use px360_domain::analytics::Merge;
use px360_domain::analytics::actions::{ActionState, ActionsAcc};
use px360_domain::analytics::complaints::ResolveStats;
use px360_domain::analytics::sla_compliance::{GoalCounts, SlaOutcome};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CaseKpis {
    /// All complaints opened in the range.
    #[schema(value_type = Object)]
    pub complaints: ResolveStats,
    #[schema(value_type = Object)]
    pub by_category: BTreeMap<String, ResolveStats>,
    #[schema(value_type = Object)]
    pub by_severity: BTreeMap<String, ResolveStats>,
    #[schema(value_type = Object)]
    pub by_source: BTreeMap<String, ResolveStats>,
    #[schema(value_type = Object)]
    pub sla_first_response: GoalCounts,
    #[schema(value_type = Object)]
    pub sla_resolution: GoalCounts,
    #[schema(value_type = Object)]
    pub actions: ActionsAcc,
}

/// Met, breached or still open: done by `due` is met, done later or not done past `due` breached.
fn outcome(
    due: Option<DateTime<Utc>>,
    done: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<SlaOutcome> {
    let due = due?;
    Some(match done {
        Some(d) if d <= due => SlaOutcome::Met,
        Some(_) => SlaOutcome::Breached,
        None if now > due => SlaOutcome::Breached,
        None => SlaOutcome::Open,
    })
}

fn count(g: &mut GoalCounts, o: Option<SlaOutcome>) {
    let slot = match o {
        Some(SlaOutcome::Met) => &mut g.met,
        Some(SlaOutcome::Breached) => &mut g.breached,
        Some(SlaOutcome::Open) => &mut g.open,
        None => return,
    };
    *slot = slot.saturating_add(1);
}

impl Db {
    pub async fn analytics_cases(
        &self,
        f: &AnalyticsFilter,
        range: &DayRange,
        now: DateTime<Utc>,
    ) -> Result<CaseKpis> {
        let lo = ts(range.from.and_time(NaiveTime::MIN).and_utc() - Duration::hours(14));
        let hi = ts(range.to.and_time(NaiveTime::MIN).and_utc() + Duration::hours(14));
        let h = f.hospital.map(|h| h.to_string());
        let d = f.department.map(|d| d.to_string());
        let in_range = |at: DateTime<Utc>, tz: &str| {
            let day = at.with_timezone(&zone(tz)).date_naive();
            range.from <= day && day < range.to
        };
        let mut out = CaseKpis::default();
        let rows = sqlx::query(
            "SELECT c.category_code AS category, c.severity AS severity, c.source_channel AS source, c.created_at AS created_at, \
             c.resolved_at AS resolved_at, h.timezone AS timezone, s.first_response_due_at AS fr_due, s.first_responded_at AS fr_at, \
             s.resolution_due_at AS res_due, s.resolved_at AS res_at \
             FROM complaints c JOIN hospitals h ON h.id = c.hospital_id \
             LEFT JOIN sla_clocks s ON s.item_kind = 'complaint' AND s.item_id = c.id \
             WHERE c.created_at >= $1 AND c.created_at < $2 AND ($3 IS NULL OR c.hospital_id = $3) AND ($4 IS NULL OR c.department_id = $4)",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(h.clone())
        .bind(d.clone())
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let created = row::time(r, "created_at")?;
            let tz: String = r.try_get("timezone")?;
            if !in_range(created, &tz) {
                continue;
            }
            let mut one = ResolveStats::default();
            one.add_received();
            if let Some(res) = row::opt_time(r, "resolved_at")? {
                // A resolve time before the creation (clock skew) counts as zero.
                let _ = one.add_resolved((res - created).num_seconds().max(0));
            }
            out.complaints.merge(&one);
            let key = |c: &str| -> sqlx::Result<String> { r.try_get(c) };
            out.by_category
                .entry(key("category")?)
                .or_default()
                .merge(&one);
            out.by_severity
                .entry(key("severity")?)
                .or_default()
                .merge(&one);
            out.by_source.entry(key("source")?).or_default().merge(&one);
            count(
                &mut out.sla_first_response,
                outcome(row::opt_time(r, "fr_due")?, row::opt_time(r, "fr_at")?, now),
            );
            count(
                &mut out.sla_resolution,
                outcome(
                    row::opt_time(r, "res_due")?,
                    row::opt_time(r, "res_at")?,
                    now,
                ),
            );
        }
        let rows = sqlx::query(
            "SELECT a.status AS status, a.due_at AS due_at, a.closed_at AS closed_at, a.created_at AS created_at, h.timezone AS timezone \
             FROM px_actions a JOIN hospitals h ON h.id = a.hospital_id \
             WHERE a.created_at >= $1 AND a.created_at < $2 AND ($3 IS NULL OR a.hospital_id = $3) AND ($4 IS NULL OR a.department_id = $4)",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(h)
        .bind(d)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let tz: String = r.try_get("timezone")?;
            if !in_range(row::time(r, "created_at")?, &tz) {
                continue;
            }
            let status: String = r.try_get("status")?;
            let Some(status) = ActionStatus::parse(&status) else {
                continue;
            };
            if let Some(s) = ActionState::of_status(
                status,
                row::opt_time(r, "due_at")?,
                row::opt_time(r, "closed_at")?,
                now,
            ) {
                out.actions.add(s);
            }
        }
        Ok(out)
    }
}
