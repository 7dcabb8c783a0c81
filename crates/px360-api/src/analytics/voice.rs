//! Analytics of the patient's voice (issue 18): themes over time across every free text
//! (survey comments, complaints, feedback, social mentions, call notes) and the feedback counts
//! by kind. Scoped like every analytics read ([`super::scope::resolve`]): aggregates only, so
//! Viewers may read them.

use super::scope::{KpiQuery, Resolved, WEEK_START, resolve};
use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Query, State};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use px360_domain::analytics::period::{Granularity, Period};
use px360_domain::event::FieldError;
use px360_domain::feedback::kind::FeedbackCounts;
use px360_store::sentiment::TextKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ThemesQuery {
    /// Bucket size: day | week | month (default: day for a day or week, week for a month,
    /// month for a quarter).
    pub by: Option<String>,
    /// Only these kinds of text, comma-separated: survey_comment, complaint, feedback,
    /// social_mention, call_note (default: all).
    pub sources: Option<String>,
}

/// One theme's counts over the period's buckets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThemeSeries {
    /// waiting_time | staff_attitude | cleanliness | billing | communication | …
    pub theme: String,
    pub total: i64,
    pub negative: i64,
    pub neutral: i64,
    pub positive: i64,
    /// Texts naming the theme per bucket, in `buckets` order.
    pub counts: Vec<i64>,
    /// Of those, negative ones.
    pub negative_counts: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThemesReport {
    pub period: String,
    /// day | week | month
    pub by: String,
    /// Bucket labels (period labels: `2026-03-01`, `2026-03-01/W`, `2026-03`).
    pub buckets: Vec<String>,
    /// Most frequent first.
    pub themes: Vec<ThemeSeries>,
}

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

fn bucket_size(q: &ThemesQuery, period: &Period) -> ApiResult<Granularity> {
    Ok(match q.by.as_deref() {
        Some("day") => Granularity::Day,
        Some("week") => Granularity::Week,
        Some("month") => Granularity::Month,
        Some(_) => return Err(field("by", "must be day, week or month")),
        None => match period.granularity {
            Granularity::Day | Granularity::Week => Granularity::Day,
            Granularity::Month => Granularity::Week,
            Granularity::Quarter => Granularity::Month,
        },
    })
}

fn by_name(g: Granularity) -> &'static str {
    match g {
        Granularity::Day => "day",
        Granularity::Week => "week",
        Granularity::Month => "month",
        Granularity::Quarter => "quarter",
    }
}

pub fn sources(q: &ThemesQuery) -> ApiResult<Vec<TextKind>> {
    q.sources
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| TextKind::parse(s).ok_or_else(|| field("sources", "unknown kind of text")))
        .collect()
}

/// Build the report for a resolved request (API and web UI).
pub async fn themes(st: &AppState, r: &Resolved, q: &ThemesQuery) -> ApiResult<ThemesReport> {
    let by = bucket_size(q, &r.period)?;
    let kinds = sources(q)?;
    // Local days span UTC ±14 h: read the widest window, then keep each hour's local day.
    let lo = r.range.from.and_time(NaiveTime::MIN).and_utc() - Duration::hours(14);
    let hi = r.range.to.and_time(NaiveTime::MIN).and_utc() + Duration::hours(14);
    let rows = st
        .db
        .theme_counts(r.filter.hospital, r.filter.department, &kinds, lo, hi)
        .await?;
    let zones: HashMap<Uuid, Tz> = st
        .db
        .hospitals(None)
        .await?
        .into_iter()
        .map(|h| (h.id, h.timezone))
        .collect();
    let mut buckets: Vec<String> = Vec::new();
    let mut day = r.range.from;
    while day < r.range.to {
        let label = Period::containing(day, by, WEEK_START).label();
        if buckets.last() != Some(&label) {
            buckets.push(label);
        }
        day = day.succ_opt().unwrap_or(r.range.to);
    }
    let index: HashMap<&str, usize> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_str(), i))
        .collect();
    let mut series: BTreeMap<String, ThemeSeries> = BTreeMap::new();
    for c in rows {
        let Ok(hour) = NaiveDateTime::parse_from_str(&format!("{}:00", c.hour), "%Y-%m-%dT%H:%M")
        else {
            continue;
        };
        let tz = c
            .hospital_id
            .and_then(|h| zones.get(&h).copied())
            .unwrap_or(chrono_tz::UTC);
        let local: NaiveDate = hour.and_utc().with_timezone(&tz).date_naive();
        if local < r.range.from || local >= r.range.to {
            continue;
        }
        let label = Period::containing(local, by, WEEK_START).label();
        let Some(&i) = index.get(label.as_str()) else {
            continue;
        };
        let s = series
            .entry(c.theme.clone())
            .or_insert_with(|| ThemeSeries {
                theme: c.theme.clone(),
                total: 0,
                negative: 0,
                neutral: 0,
                positive: 0,
                counts: vec![0; buckets.len()],
                negative_counts: vec![0; buckets.len()],
            });
        s.total += c.count;
        s.counts[i] += c.count;
        match c.sentiment.as_str() {
            "negative" => {
                s.negative += c.count;
                s.negative_counts[i] += c.count;
            }
            "positive" => s.positive += c.count,
            _ => s.neutral += c.count,
        }
    }
    let mut themes: Vec<ThemeSeries> = series.into_values().collect();
    themes.sort_by(|a, b| b.total.cmp(&a.total).then(a.theme.cmp(&b.theme)));
    Ok(ThemesReport {
        period: r.period.label(),
        by: by_name(by).to_owned(),
        buckets,
        themes,
    })
}

#[utoipa::path(get, path = "/api/analytics/themes", tag = "analytics", params(KpiQuery, ThemesQuery),
    responses((status = 200, body = ThemesReport, description = "Themes of free text (survey comments, complaints, feedback, social mentions, call notes) per bucket of the period, with their sentiment"),
              (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_themes(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
    Query(t): Query<ThemesQuery>,
) -> ApiResult<Json<ThemesReport>> {
    let r = resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(themes(&st, &r, &t).await?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackReport {
    pub period: String,
    pub total: u64,
    #[schema(value_type = Object)]
    pub counts: FeedbackCounts,
    #[schema(value_type = Object)]
    pub previous: FeedbackCounts,
}

/// Feedback counts of the period and the previous one (API and web UI).
pub async fn feedback(st: &AppState, r: &Resolved) -> ApiResult<FeedbackReport> {
    let tz = match r.filter.hospital {
        Some(h) => st.db.hospital(&h.to_string()).await?.timezone,
        None => chrono_tz::UTC,
    };
    let bounds = |from: NaiveDate, to: NaiveDate| {
        let at = |d: NaiveDate| {
            d.and_time(NaiveTime::MIN)
                .and_local_timezone(tz)
                .earliest()
                .map(|t| t.to_utc())
                .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc())
        };
        (at(from), at(to))
    };
    let (a, b) = bounds(r.range.from, r.range.to);
    let counts = st
        .db
        .feedback_counts(r.filter.hospital, r.filter.department, a, b)
        .await?;
    let (a, b) = bounds(r.previous_range.from, r.previous_range.to);
    let previous = st
        .db
        .feedback_counts(r.filter.hospital, r.filter.department, a, b)
        .await?;
    Ok(FeedbackReport {
        period: r.period.label(),
        total: counts.total(),
        counts,
        previous,
    })
}

#[utoipa::path(get, path = "/api/analytics/feedback", tag = "analytics", params(KpiQuery),
    responses((status = 200, body = FeedbackReport, description = "Feedback received per kind (compliments, suggestions, concerns) and triaged into complaints or actions, this period and the previous one"),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_feedback(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<FeedbackReport>> {
    let r = resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(feedback(&st, &r).await?))
}
