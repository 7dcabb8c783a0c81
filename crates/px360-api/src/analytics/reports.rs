//! The analytics reports: store reads turned into numbers with the domain's formulas.

use super::scope::{Resolved, own_physicians};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use chrono::{NaiveDate, Utc};
use px360_domain::analytics::Merge;
use px360_domain::analytics::complaints::{ComplaintCell, ComplaintSource, ResolveStats, Severity};
use px360_domain::analytics::items::{BoxScores, CompositeScores, Scale};
use px360_domain::analytics::physician::{DEFAULT_MIN_SAMPLE, PhysicianRating, rank_department};
use px360_domain::analytics::ratio::Ratio;
use px360_domain::analytics::rollup::{Kpi, Rollup, Tile};
use px360_domain::analytics::trend::{Trend, TrendRule};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource, Role};
use px360_domain::survey::key::Key;
use px360_store::analytics::cases::CaseKpis;
use px360_store::analytics::physicians::Comment;
use px360_store::analytics::{AnalyticsFilter, DayRange, Dimension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TileOut {
    /// `response_rate`, `nps`, `csat`, `top_box`, `linear_mean`, `sla_first_response`,
    /// `sla_resolution`, `complaints_received`, `complaint_hours_to_resolve`,
    /// `action_closure`, `action_overdue`.
    #[schema(value_type = String)]
    pub kpi: Kpi,
    pub value: Option<f64>,
    /// Whole number as displayed (standard rounding, halves up).
    pub shown: Option<i64>,
    /// Observations behind the value.
    pub n: u64,
    pub previous: Option<f64>,
    /// `{"kind":"change","direction":"up|down|flat","delta":…}` or `{"kind":"insufficient_data"}`.
    #[schema(value_type = Object)]
    pub trend: Trend,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KpiReport {
    pub period: String,
    pub previous_period: String,
    /// First local day of the period and the first day after it.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tiles: Vec<TileOut>,
}

/// Survey roll-ups plus the case KPIs of a filter and range, as one domain roll-up row.
pub async fn rollup(
    st: &AppState,
    f: &AnalyticsFilter,
    range: &DayRange,
) -> ApiResult<(Rollup, CaseKpis)> {
    let mut r = st.db.analytics_rollup(f, range).await?;
    let cases = st.db.analytics_cases(f, range, Utc::now()).await?;
    r.sla.first_response = cases.sla_first_response;
    r.sla.resolution = cases.sla_resolution;
    r.actions = cases.actions;
    // The tiles read only the complaints' total: one cell holds it.
    if let Ok(all) = Key::parse("all") {
        r.complaints
            .cell_mut(ComplaintCell {
                category: all,
                severity: Severity::Low,
                source: ComplaintSource::Other,
            })
            .merge(&cases.complaints);
    }
    Ok((r, cases))
}

pub async fn kpis(st: &AppState, r: &Resolved) -> ApiResult<KpiReport> {
    let (now, _) = rollup(st, &r.filter, &r.range).await?;
    let (before, _) = rollup(st, &r.filter, &r.previous_range).await?;
    let tiles = now
        .tiles_with_trends(&before, &TrendRule::default())
        .into_iter()
        .map(|(t, trend)| TileOut {
            kpi: t.kpi,
            value: t.value,
            shown: t.shown,
            n: t.n,
            previous: before.tile(t.kpi).value,
            trend,
        })
        .collect();
    Ok(KpiReport {
        period: r.period.label(),
        previous_period: r.previous.label(),
        from: r.range.from,
        to: r.range.to,
        tiles,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Scores {
    pub n: u64,
    pub top: f64,
    pub middle: Option<f64>,
    pub bottom: f64,
    pub linear_mean: f64,
    /// Whole numbers as CMS publishes them.
    pub top_shown: i64,
    pub middle_shown: Option<i64>,
    pub bottom_shown: i64,
    pub linear_mean_shown: i64,
}

impl Scores {
    fn of(n: u64, top: Ratio, middle: Option<Ratio>, bottom: Ratio, linear: Ratio) -> Self {
        Scores {
            n,
            top: top.to_f64(),
            middle: middle.map(Ratio::to_f64),
            bottom: bottom.to_f64(),
            linear_mean: linear.to_f64(),
            top_shown: top.round(),
            middle_shown: middle.map(Ratio::round),
            bottom_shown: bottom.round(),
            linear_mean_shown: linear.round(),
        }
    }

    fn item(s: &BoxScores) -> Self {
        Scores::of(s.n, s.top, s.middle, s.bottom, s.linear_mean)
    }

    fn composite(c: &CompositeScores) -> Self {
        Scores::of(c.n, c.top, c.middle, c.bottom, c.linear_mean)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemOut {
    pub key: String,
    /// `frequency`, `zero_to_ten`, `yes_no`, `rating`.
    #[schema(value_type = String)]
    pub scale: Scale,
    #[serde(flatten)]
    pub scores: Scores,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemsReport {
    pub period: String,
    pub items: Vec<ItemOut>,
    /// Mean of the items' scores (items without answers left out).
    pub composite: Option<Scores>,
}

pub async fn items(st: &AppState, r: &Resolved) -> ApiResult<ItemsReport> {
    let acc = st.db.analytics_items(&r.filter, &r.range).await?;
    let items = acc
        .scores()
        .into_iter()
        .map(|(k, scale, s)| ItemOut {
            key: k.as_str().to_owned(),
            scale,
            scores: Scores::item(&s),
        })
        .collect();
    let keys: Vec<Key> = acc.0.keys().cloned().collect();
    Ok(ItemsReport {
        period: r.period.label(),
        items,
        composite: acc.composite(&keys).as_ref().map(Scores::composite),
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct BreakdownQuery {
    /// `hospital`, `department`, `physician`, `journey`, `stage`, `channel`, `language` or `day`.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BreakdownRow {
    /// The dimension's value ('' = none, e.g. responses without a department).
    pub key: String,
    pub invitations: u64,
    pub responses: u64,
    pub response_rate: Option<f64>,
    pub nps: Option<f64>,
    pub csat: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    pub period: String,
    pub by: String,
    pub rows: Vec<BreakdownRow>,
}

fn value(t: Tile) -> Option<f64> {
    t.value
}

pub async fn breakdown(st: &AppState, r: &Resolved, q: &BreakdownQuery) -> ApiResult<Breakdown> {
    let by = match q.by.as_deref() {
        None => Dimension::Day,
        Some(s) => Dimension::parse(s).ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "by",
                "must be hospital, department, physician, journey, stage, channel, language or day",
            )])
        })?,
    };
    let rows = st.db.analytics_breakdown(&r.filter, &r.range, by).await?;
    Ok(Breakdown {
        period: r.period.label(),
        by: by.as_str().to_owned(),
        rows: rows
            .into_iter()
            .map(|(key, t)| BreakdownRow {
                key,
                invitations: t.response_rate.invitations(),
                responses: t.survey.responses,
                response_rate: value(t.tile(Kpi::ResponseRate)),
                nps: value(t.tile(Kpi::Nps)),
                csat: value(t.tile(Kpi::Csat)),
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseReport {
    pub period: String,
    #[serde(flatten)]
    pub kpis: CaseKpis,
    /// Mean hours from a complaint to its resolution.
    pub mean_hours_to_resolve: Option<f64>,
    pub sla_first_response_compliance: Option<f64>,
    pub sla_resolution_compliance: Option<f64>,
    pub action_closure_rate: Option<f64>,
    pub action_overdue_rate: Option<f64>,
}

pub async fn cases(st: &AppState, r: &Resolved) -> ApiResult<CaseReport> {
    let k = st
        .db
        .analytics_cases(&r.filter, &r.range, Utc::now())
        .await?;
    let f = |x: Option<Ratio>| x.map(Ratio::to_f64);
    Ok(CaseReport {
        period: r.period.label(),
        mean_hours_to_resolve: f(k.complaints.mean_hours()),
        sla_first_response_compliance: f(k.sla_first_response.compliance()),
        sla_resolution_compliance: f(k.sla_resolution.compliance()),
        action_closure_rate: f(k.actions.closure_rate()),
        action_overdue_rate: f(k.actions.overdue_rate()),
        kpis: k,
    })
}

/// Ratings below this many responses are "insufficient data": `PX360_ANALYTICS_MIN_SAMPLE`
/// (default 30, never below 1).
pub fn min_sample() -> u64 {
    static N: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("PX360_ANALYTICS_MIN_SAMPLE")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(DEFAULT_MIN_SAMPLE)
            .max(1)
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhysicianRow {
    pub physician_id: Uuid,
    pub name: String,
    pub hospital_id: Uuid,
    pub department_id: Uuid,
    /// Responses with an answered physician question.
    pub n: u64,
    /// False below the minimum sample: no score is given.
    pub rated: bool,
    pub scores: Option<Scores>,
    /// Rank within the department (1 = best; ties share a rank); none when not rated.
    pub rank: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhysicianReport {
    pub period: String,
    pub min_sample: u64,
    pub physicians: Vec<PhysicianRow>,
}

pub async fn physicians(st: &AppState, p: &Principal, r: &Resolved) -> ApiResult<PhysicianReport> {
    let own = own_physicians(st, p).await?;
    let mut stats = st.db.analytics_physicians(&r.filter, &r.range).await?;
    if let Some(own) = &own {
        stats.retain(|s| own.contains(&s.physician_id));
    }
    let n = min_sample();
    let mut by_dept: BTreeMap<Uuid, Vec<(Uuid, PhysicianRating)>> = BTreeMap::new();
    for s in &stats {
        by_dept
            .entry(s.department_id)
            .or_default()
            .push((s.physician_id, s.acc.rating(n)));
    }
    let info: BTreeMap<Uuid, &px360_store::analytics::physicians::PhysicianStats> =
        stats.iter().map(|s| (s.physician_id, s)).collect();
    let mut rows = Vec::new();
    for (_, ratings) in by_dept {
        for ranked in rank_department(ratings) {
            let Some(s) = info.get(&ranked.physician) else {
                continue;
            };
            let (n, scores) = match ranked.rating {
                PhysicianRating::Rated { n, scores } => (n, Some(Scores::composite(&scores))),
                PhysicianRating::InsufficientData { n } => (n, None),
            };
            rows.push(PhysicianRow {
                physician_id: s.physician_id,
                name: s.name.clone(),
                hospital_id: s.hospital_id,
                department_id: s.department_id,
                n,
                rated: scores.is_some(),
                scores,
                rank: ranked.rank,
            });
        }
    }
    Ok(PhysicianReport {
        period: r.period.label(),
        min_sample: n,
        physicians: rows,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommentsReport {
    pub period: String,
    /// Whether digits and e-mail addresses in the texts were masked (below PX Coordinator).
    pub masked: bool,
    pub comments: Vec<Comment>,
}

/// Runs of 4+ digits (phone, MRN, ID numbers) and e-mail addresses replaced by `***`: a
/// comment can name its writer even though the response carries no identifier.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        let (w, ws) = word.split_at(word.trim_end().len());
        if w.contains('@') {
            out.push_str("***");
        } else {
            let mut digits = 0;
            let mut buf = String::new();
            for c in w.chars() {
                if c.is_ascii_digit() || ('٠'..='٩').contains(&c) {
                    digits += 1;
                    buf.push(c);
                } else {
                    out.push_str(if digits >= 4 { "***" } else { &buf });
                    buf.clear();
                    digits = 0;
                    out.push(c);
                }
            }
            out.push_str(if digits >= 4 { "***" } else { &buf });
        }
        out.push_str(ws);
    }
    out
}

pub async fn comments(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    r: &Resolved,
) -> ApiResult<CommentsReport> {
    // Free text is patient data: not for Viewers.
    st.authorize(
        p,
        ctx,
        Resource::SurveyResponse,
        Action::Read,
        ObjectScope::new(r.filter.hospital, r.filter.department),
        None,
    )
    .await?;
    let mut comments = match own_physicians(st, p).await? {
        None => st.db.analytics_comments(&r.filter, &r.range, 200).await?,
        Some(own) => {
            let mut all = Vec::new();
            for id in own {
                let f = AnalyticsFilter {
                    physician: Some(id),
                    ..r.filter.clone()
                };
                all.extend(st.db.analytics_comments(&f, &r.range, 200).await?);
            }
            all
        }
    };
    let masked = p.role().level() < Role::PxCoordinator.level();
    if masked {
        for c in &mut comments {
            c.text = mask(&c.text);
        }
    }
    Ok(CommentsReport {
        period: r.period.label(),
        masked,
        comments,
    })
}

/// Complaint statistics as exported rows: (group, key, received, resolved, mean hours).
pub fn case_rows(k: &CaseKpis) -> Vec<(String, String, u64, u64, Option<f64>)> {
    let mut out = Vec::new();
    let mut push = |g: &str, m: &BTreeMap<String, ResolveStats>| {
        for (key, s) in m {
            out.push((
                g.to_owned(),
                key.clone(),
                s.received,
                s.resolved,
                s.mean_hours().map(Ratio::to_f64),
            ));
        }
    };
    push("category", &k.by_category);
    push("severity", &k.by_severity);
    push("source", &k.by_source);
    out
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_numbers_and_addresses_only() {
        assert_eq!(
            mask("call me on 0501234567 please"),
            "call me on *** please"
        );
        assert_eq!(mask("mail a.b@example.org now"), "mail *** now");
        assert_eq!(mask("room 12 was cold"), "room 12 was cold");
        assert_eq!(mask("رقمي ٠٥٠١٢٣٤٥٦٧"), "رقمي ***");
        assert_eq!(mask("MRN:12345."), "MRN:***.");
    }
}
