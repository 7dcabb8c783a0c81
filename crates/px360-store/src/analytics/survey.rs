//! Survey KPIs read from `analytics_daily`: the headline counters are summed in SQL (one
//! indexed range per tile), the per-question counts merged in Rust from the rows' JSON.

use super::{AnalyticsFilter, DayRange, Dimension, Where};
use crate::{Db, Result};
use px360_domain::analytics::Merge;
use px360_domain::analytics::csat::CsatAcc;
use px360_domain::analytics::items::ItemsAcc;
use px360_domain::analytics::nps::NpsAcc;
use px360_domain::analytics::response_rate::ResponseRateAcc;
use px360_domain::analytics::rollup::Rollup;
use px360_domain::analytics::survey_kpis::SurveyKpis;
use sqlx::Row;
use sqlx::any::AnyRow;

// CAST: SUM of BIGINT is NUMERIC on PostgreSQL, which sqlx::Any cannot read.
const SUMS: &str = "CAST(COALESCE(SUM(invitations), 0) AS BIGINT) AS invitations, CAST(COALESCE(SUM(answered), 0) AS BIGINT) AS answered, CAST(COALESCE(SUM(responses), 0) AS BIGINT) AS responses, CAST(COALESCE(SUM(promoters), 0) AS BIGINT) AS promoters, CAST(COALESCE(SUM(passives), 0) AS BIGINT) AS passives, CAST(COALESCE(SUM(detractors), 0) AS BIGINT) AS detractors, CAST(COALESCE(SUM(csat_satisfied), 0) AS BIGINT) AS csat_satisfied, CAST(COALESCE(SUM(csat_total), 0) AS BIGINT) AS csat_total";

fn count(r: &AnyRow, col: &str) -> sqlx::Result<u64> {
    let v: i64 = r.try_get(col)?;
    Ok(u64::try_from(v).unwrap_or(0))
}

/// A row's summed counters as a roll-up (without the per-question items).
fn totals(r: &AnyRow) -> sqlx::Result<Rollup> {
    let invitations = count(r, "invitations")?;
    let answered = count(r, "answered")?.min(invitations);
    Ok(Rollup {
        response_rate: ResponseRateAcc::new(invitations, answered).unwrap_or_default(),
        survey: SurveyKpis {
            responses: count(r, "responses")?,
            nps: NpsAcc {
                promoters: count(r, "promoters")?,
                passives: count(r, "passives")?,
                detractors: count(r, "detractors")?,
            },
            csat: CsatAcc {
                satisfied: count(r, "csat_satisfied")?,
                total: count(r, "csat_total")?,
            },
            items: ItemsAcc::default(),
        },
        ..Rollup::default()
    })
}

/// The statement with the filter's values bound in order.
fn query<'q>(
    sql: &'q str,
    w: &'q Where,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in w.binds() {
        q = q.bind(b.as_str());
    }
    q
}

impl Db {
    /// The headline survey counters of a filter and range (response rate, NPS, CSAT, responses).
    pub async fn analytics_totals(&self, f: &AnalyticsFilter, range: &DayRange) -> Result<Rollup> {
        let w = Where::new(f, range);
        let sql = format!("SELECT {SUMS} FROM analytics_daily {}", w.sql());
        let r = query(&sql, &w).fetch_one(&self.pool).await?;
        Ok(totals(&r)?)
    }

    /// Totals plus the per-question counts (HCAHPS boxes, linear means, composites).
    pub async fn analytics_rollup(&self, f: &AnalyticsFilter, range: &DayRange) -> Result<Rollup> {
        let mut out = self.analytics_totals(f, range).await?;
        out.survey.items = self.analytics_items(f, range).await?;
        Ok(out)
    }

    pub async fn analytics_items(&self, f: &AnalyticsFilter, range: &DayRange) -> Result<ItemsAcc> {
        let mut w = Where::new(f, range);
        w.raw("responses > 0");
        let sql = format!("SELECT items FROM analytics_daily {}", w.sql());
        let rows = query(&sql, &w).fetch_all(&self.pool).await?;
        let mut acc = ItemsAcc::default();
        for r in rows {
            let s: String = r.try_get("items")?;
            if let Ok(items) = serde_json::from_str::<ItemsAcc>(&s) {
                acc.merge(&items);
            }
        }
        Ok(acc)
    }

    /// The headline counters broken down by one dimension ('' = none), e.g. per department for
    /// a drill-down or per day for a time series, ordered by the dimension's value.
    pub async fn analytics_breakdown(
        &self,
        f: &AnalyticsFilter,
        range: &DayRange,
        by: Dimension,
    ) -> Result<Vec<(String, Rollup)>> {
        let w = Where::new(f, range);
        let col = by.column();
        let sql = format!(
            "SELECT {col} AS k, {SUMS} FROM analytics_daily {} GROUP BY {col} ORDER BY {col}",
            w.sql()
        );
        let rows = query(&sql, &w).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("k")?, totals(r)?)))
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}
