//! A QI project's run chart and its status line for the executive summary.
//!
//! A measure's series is its analytics KPI per week or month of the project's hospital (and
//! department), from `baseline_from` to the current period, read from the same roll-ups and
//! case tables as the dashboards (`analytics::reports::rollup`; for NPS, CSAT and response
//! rate one daily breakdown merged into periods). Periods without data are gaps. The points
//! before the change date are the baseline: the median is frozen on them and extended over the
//! rest (`px360_domain::qi::run_chart::analyse`, IHI rules), so a shift or trend after the
//! change shows improvement; `px360_domain::qi::summary` rates the project red/amber/green.

use crate::AppState;
use crate::analytics::reports;
use crate::analytics::scope::{WEEK_START, range_of};
use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{NaiveDate, Utc};
use px360_domain::analytics::Merge;
use px360_domain::analytics::period::{Calendar, Granularity, Period};
use px360_domain::analytics::rollup::{Kpi, Rollup};
use px360_domain::qi::project::{Better, Project};
use px360_domain::qi::run_chart::{RunChart, Signal, analyse};
use px360_domain::qi::summary::{MeasureSeries, ProjectSummary, improving, summarise};
use px360_domain::rbac::{Action, Principal};
use px360_store::analytics::{AnalyticsFilter, DayRange, Dimension};
use px360_store::qi::QiProject;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most points a chart reads (five years of weeks).
pub const MAX_PERIODS: usize = 260;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChartPoint {
    /// The period's label (`2026-11-29/W`, `2026-12`).
    pub period: String,
    pub from: NaiveDate,
    /// `null`: no data in the period (a gap).
    pub value: Option<f64>,
    /// Observations behind the value.
    pub n: u64,
    /// Before the change date: part of the baseline the median is frozen on.
    pub baseline: bool,
    /// Part of a shift, a trend or an astronomical point.
    pub signal: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunChartOut {
    pub project_id: Uuid,
    /// Index of the measure in the project.
    pub measure: usize,
    #[schema(value_type = String, example = "nps")]
    pub kpi: Kpi,
    pub baseline: f64,
    pub target: f64,
    /// `higher` or `lower` is better.
    #[schema(value_type = String)]
    pub better: Better,
    /// `week` or `month`.
    pub granularity: String,
    pub change_date: Option<NaiveDate>,
    pub points: Vec<ChartPoint>,
    /// The IHI analysis of the points with a value (`null` when there are none); signal
    /// indexes count only those points.
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<RunChart>,
    /// Points with a value before the change (the frozen baseline).
    pub baseline_points: usize,
    /// A shift or trend in the better direction after the baseline.
    pub improving: bool,
    pub latest: Option<f64>,
}

fn granularity(p: &QiProject) -> Granularity {
    if p.granularity == "month" {
        Granularity::Month
    } else {
        Granularity::Week
    }
}

/// The periods of a project's chart, oldest first, the last one containing today.
async fn periods(st: &AppState, p: &QiProject) -> ApiResult<Vec<Period>> {
    let tz = st.db.hospital(&p.hospital_id.to_string()).await?.timezone;
    let today = Calendar::new(tz, WEEK_START).local_date(Utc::now());
    let g = granularity(p);
    let last = Period::containing(today, g, WEEK_START);
    let mut cur = Period::containing(p.baseline_from.min(today), g, WEEK_START);
    let mut out = Vec::new();
    while cur.start <= last.start {
        out.push(cur);
        cur = cur.next();
    }
    if out.len() > MAX_PERIODS {
        out.drain(..out.len() - MAX_PERIODS);
    }
    Ok(out)
}

/// The KPI per period: `(value, n)`.
async fn series(
    st: &AppState,
    p: &QiProject,
    kpi: Kpi,
    periods: &[Period],
) -> ApiResult<Vec<(Option<f64>, u64)>> {
    let f = AnalyticsFilter {
        hospital: Some(p.hospital_id),
        department: p.department_id,
        ..AnalyticsFilter::default()
    };
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Vec::new());
    };
    if matches!(kpi, Kpi::Nps | Kpi::Csat | Kpi::ResponseRate) {
        // One indexed range of daily roll-ups, merged per period (no per-question items needed).
        let days = st
            .db
            .analytics_breakdown(&f, &DayRange::new(first.start, last.end()), Dimension::Day)
            .await?;
        let mut acc: Vec<Rollup> = vec![Rollup::default(); periods.len()];
        for (day, r) in &days {
            let Ok(d) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
                continue;
            };
            if let Some(i) = periods.iter().position(|x| x.contains(d)) {
                acc[i].merge(r);
            }
        }
        return Ok(acc
            .iter()
            .map(|r| {
                let t = r.tile(kpi);
                (t.value, t.n)
            })
            .collect());
    }
    let mut out = Vec::with_capacity(periods.len());
    for period in periods {
        let (r, _) = reports::rollup(st, &f, &range_of(period)).await?;
        let t = r.tile(kpi);
        out.push((t.value, t.n));
    }
    Ok(out)
}

/// The run chart of measure `index` of a project already authorised.
pub async fn chart(st: &AppState, p: &QiProject, index: usize) -> ApiResult<RunChartOut> {
    let m = p
        .measures
        .get(index)
        .ok_or_else(|| crate::calls::field("measure", "no such measure"))?;
    let periods = periods(st, p).await?;
    let values = series(st, p, m.kpi, &periods).await?;
    let is_base = |per: &Period| p.change_date.is_some_and(|c| per.start < c);
    let analysed: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, (v, _))| v.map(|v| (i, v)))
        .collect();
    let pts: Vec<f64> = analysed.iter().map(|(_, v)| *v).collect();
    let k = analysed
        .iter()
        .filter(|(i, _)| is_base(&periods[*i]))
        .count();
    let baseline = (k > 0 && k < pts.len()).then_some(k);
    let analysis = if pts.is_empty() {
        None
    } else {
        Some(analyse(&pts, baseline, &[]).map_err(|e| ApiError::Conflict(e.code().into()))?)
    };
    let mut flagged = vec![false; periods.len()];
    if let Some(a) = &analysis {
        let mut mark = |from: usize, to: usize| {
            for j in from..=to {
                if let Some((i, _)) = analysed.get(j) {
                    flagged[*i] = true;
                }
            }
        };
        for s in &a.signals {
            match *s {
                Signal::Shift { start, end, .. } | Signal::Trend { start, end, .. } => {
                    mark(start, end)
                }
                Signal::Astronomical { index, .. } => mark(index, index),
                _ => {}
            }
        }
    }
    let improving = analysis
        .as_ref()
        .is_some_and(|a| baseline.is_some() && improving(a, k, m.better()));
    Ok(RunChartOut {
        project_id: p.id,
        measure: index,
        kpi: m.kpi,
        baseline: m.baseline,
        target: m.target,
        better: m.better(),
        granularity: p.granularity.clone(),
        change_date: p.change_date,
        points: periods
            .iter()
            .zip(values.iter())
            .enumerate()
            .map(|(i, (per, (v, n)))| ChartPoint {
                period: per.label(),
                from: per.start,
                value: *v,
                n: *n,
                baseline: is_base(per),
                signal: flagged[i],
            })
            .collect(),
        latest: pts.last().copied(),
        analysis,
        baseline_points: k,
        improving,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ChartQuery {
    /// Index of the measure (default 0).
    pub measure: Option<usize>,
}

#[utoipa::path(get, path = "/api/qi/projects/{id}/run-chart", tag = "qi", params(ChartQuery),
    responses((status = 200, body = RunChartOut, description = "The measure per week or month with the IHI run-chart analysis, median frozen on the points before the change date"),
        (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn get_run_chart(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<ChartQuery>,
) -> ApiResult<Json<RunChartOut>> {
    let project = crate::qi::load(&st, &p, &ctx, id, Action::Read).await?;
    Ok(Json(chart(&st, &project, q.measure.unwrap_or(0)).await?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectStatusLine {
    pub project_id: Uuid,
    pub title: String,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    /// The domain's status line: `rag` (green|amber|red), each measure's latest value against
    /// its target and whether it improves, milestones and PDSA cycles.
    #[schema(value_type = Object)]
    pub summary: ProjectSummary,
}

/// Most projects on the executive summary (most recently changed first).
pub const MAX_SUMMARY: usize = 50;

/// The status line of a project already authorised.
pub async fn status_line(st: &AppState, p: &QiProject) -> ApiResult<ProjectStatusLine> {
    let mut charts = Vec::with_capacity(p.measures.len());
    for i in 0..p.measures.len() {
        charts.push(chart(st, p, i).await?);
    }
    let series: Vec<MeasureSeries<'_>> = charts
        .iter()
        .map(|c| MeasureSeries {
            latest: c.latest,
            chart: c
                .analysis
                .as_ref()
                .filter(|_| c.baseline_points > 0)
                .map(|a| (a, c.baseline_points)),
        })
        .collect();
    let stages: Vec<_> = st
        .db
        .qi_cycles(p.id)
        .await?
        .iter()
        .filter_map(|c| c.domain_stage())
        .collect();
    let project = Project {
        id: p.id,
        owner_id: p.owner_id,
        hospital_id: p.hospital_id,
        aim: p.aim.clone(),
        status: p.status,
        measures: p.measures.clone(),
        milestones: p.milestones.clone(),
        action_ids: p.action_ids.clone(),
        themes: p.themes.clone(),
    };
    let tz = st.db.hospital(&p.hospital_id.to_string()).await?.timezone;
    let today = Calendar::new(tz, WEEK_START).local_date(Utc::now());
    Ok(ProjectStatusLine {
        project_id: p.id,
        title: p.title.clone(),
        hospital_id: p.hospital_id,
        department_id: p.department_id,
        summary: summarise(&project, &series, &stages, today),
    })
}

/// Status lines of the projects in `p`'s scope (not cancelled), for the executive summary.
pub async fn summary(st: &AppState, p: &Principal, ctx: &Ctx) -> ApiResult<Vec<ProjectStatusLine>> {
    let projects = crate::qi::list(st, p, ctx, None).await?;
    let mut out = Vec::new();
    for x in projects
        .iter()
        .filter(|x| x.status != px360_domain::qi::project::ProjectStatus::Cancelled)
        .take(MAX_SUMMARY)
    {
        out.push(status_line(st, x).await?);
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/qi/summary", tag = "qi",
    responses((status = 200, body = Vec<ProjectStatusLine>, description = "Red/amber/green status of the projects in scope for the executive summary"), (status = 403)),
    security(("bearer" = [])))]
pub async fn get_summary(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<ProjectStatusLine>>> {
    Ok(Json(summary(&st, &p, &ctx).await?))
}
