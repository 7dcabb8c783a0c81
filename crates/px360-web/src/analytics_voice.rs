//! `/ui/analytics/voice`: the patient's voice in analytics (issue 18): feedback received per
//! kind and what became complaints and actions (this period and the previous one), and the
//! themes of every free text over the period's buckets with their negative share. The page
//! renders the API's own reports (`px360_api::analytics::voice`), resolved by the same scope
//! rules as every analytics page, so it shows exactly what the API answers the same user.

use crate::analytics::{Opt, names, resolve};
use crate::error::UiError;
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, render};
use crate::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use px360_api::analytics::scope::KpiQuery;
use px360_api::analytics::voice::{self, ThemesQuery};
use px360_api::{AppState, auth::Ctx};
use std::collections::HashMap;

pub struct Tile {
    pub label: String,
    pub value: u64,
    pub previous: u64,
}

pub struct ThemeRow {
    pub name: String,
    pub total: i64,
    pub negative: i64,
    /// Negative share, 0-100.
    pub negative_pct: i64,
    /// Per bucket: the count, or `·` for none (easier to scan than zeros).
    pub counts: Vec<String>,
}

#[derive(Template)]
#[template(path = "analytics_voice.html")]
struct Page {
    chrome: Chrome,
    t: Tr,
    period: String,
    previous: String,
    bad_filter: bool,
    hospitals: Vec<Opt>,
    departments: Vec<Opt>,
    granularities: Vec<Opt>,
    period_value: String,
    tiles: Vec<Tile>,
    buckets: Vec<String>,
    themes: Vec<ThemeRow>,
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Query(mut q): Query<KpiQuery>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let (r, bad_filter) = resolve(&st, p, &ctx, &mut q).await?;
    let fb = voice::feedback(&st, &r).await?;
    let th = voice::themes(&st, &r, &ThemesQuery::default()).await?;
    let (hnames, dnames) = names(&st, p).await?;
    let c = &fb.counts;
    let pv = &fb.previous;
    let tiles = vec![
        ("av-compliments", c.compliments, pv.compliments),
        ("av-suggestions", c.suggestions, pv.suggestions),
        ("av-concerns", c.concerns, pv.concerns),
        ("av-to-complaint", c.to_complaint, pv.to_complaint),
        ("av-to-action", c.to_action, pv.to_action),
    ]
    .into_iter()
    .map(|(k, value, previous)| Tile {
        label: t.get(k),
        value,
        previous,
    })
    .collect();
    let themes = th
        .themes
        .iter()
        .map(|x| ThemeRow {
            name: t.get(&format!("theme-{}", x.theme)),
            total: x.total,
            negative: x.negative,
            negative_pct: if x.total > 0 {
                x.negative * 100 / x.total
            } else {
                0
            },
            counts: x
                .counts
                .iter()
                .map(|n| if *n > 0 { n.to_string() } else { "·".into() })
                .collect(),
        })
        .collect();
    let opts = |m: &HashMap<String, String>, sel: Option<uuid::Uuid>| {
        let mut v: Vec<Opt> = m
            .iter()
            .map(|(id, name)| Opt {
                selected: sel.is_some_and(|s| s.to_string() == *id),
                value: id.clone(),
                label: name.clone(),
            })
            .collect();
        v.sort_by(|a, b| a.label.cmp(&b.label));
        v
    };
    let granularity = q.granularity.clone().unwrap_or_else(|| "month".into());
    render(&Page {
        chrome: Chrome::new(&req, Some(&s), Nav::Analytics, "av-title"),
        period: fb.period.clone(),
        previous: r.previous.label(),
        bad_filter,
        hospitals: opts(&hnames, r.filter.hospital),
        departments: opts(&dnames, r.filter.department),
        granularities: ["day", "week", "month", "quarter"]
            .into_iter()
            .map(|g| Opt {
                value: g.into(),
                label: t.get(&format!("analytics-granularity-{g}")),
                selected: g == granularity,
            })
            .collect(),
        period_value: q.period.clone().unwrap_or_default(),
        tiles,
        buckets: th.buckets,
        themes,
        t,
    })
}
