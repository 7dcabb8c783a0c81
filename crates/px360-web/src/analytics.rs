//! Analytics pages: `/ui/analytics` (KPI tiles with trend arrows, a daily time series and an
//! item distribution chart, filters, drill-down group → hospital → department → physician →
//! comments), `/ui/analytics/summary` (the executive summary: every hospital side by side),
//! `/ui/analytics/comments` and `/ui/analytics/export`.
//!
//! The pages render the API's own reports (`px360_api::analytics`), so a page shows exactly
//! what the API answers the same user: the same scope in SQL, the same suppression, the same
//! masking. Charts are Chart.js (vendored); their data travels in a `data-charts` attribute
//! (the CSP allows no inline script) and `assets/analytics.js` draws them, mirrored on Arabic
//! pages.

use crate::error::UiError;
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, render};
use crate::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use px360_api::analytics::export;
use px360_api::analytics::reports::{
    self, BreakdownQuery, BreakdownRow, KpiReport, PhysicianReport, TileOut,
};
use px360_api::analytics::scope::{self, KpiQuery, Resolved};
use px360_api::error::ApiError;
use px360_api::{AppState, auth::Ctx, filter};
use px360_domain::analytics::rollup::Kpi;
use px360_domain::analytics::trend::{Direction, Trend};
use px360_domain::rbac::{Action, Principal, Resource};
use std::collections::HashMap;

pub struct TileView {
    pub label: String,
    pub value: String,
    pub arrow: &'static str,
    pub arrow_class: &'static str,
    pub trend: String,
    pub n: u64,
}

pub struct Row {
    pub name: String,
    pub href: Option<String>,
    pub invitations: u64,
    pub responses: u64,
    pub response_rate: String,
    pub nps: String,
    pub csat: String,
}

pub struct PhysicianView {
    pub name: String,
    pub n: u64,
    pub score: Option<i64>,
    pub top: Option<i64>,
    pub rank: Option<u32>,
    pub comments_href: Option<String>,
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct Page {
    chrome: Chrome,
    t: Tr,
    chart_js: String,
    analytics_js: String,
    period: String,
    previous: String,
    bad_filter: bool,
    hospitals: Vec<Opt>,
    departments: Vec<Opt>,
    granularities: Vec<Opt>,
    period_value: String,
    tiles: Vec<TileView>,
    level_title: String,
    rows: Vec<Row>,
    physicians: Option<Vec<PhysicianView>>,
    min_sample_text: String,
    charts: String,
    export_query: String,
    comments_href: Option<String>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{}", x.round() as i64))
        .unwrap_or_else(|| "–".into())
}

/// Is up good for this KPI (for the arrow's colour)?
fn up_is_good(k: Kpi) -> bool {
    !matches!(
        k,
        Kpi::ActionOverdue | Kpi::ComplaintsReceived | Kpi::ComplaintHoursToResolve
    )
}

fn kpi_key(k: Kpi) -> String {
    let name = serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("analytics-kpi-{}", name.replace('_', "-"))
}

pub fn tiles(t: &Tr, k: &KpiReport) -> Vec<TileView> {
    k.tiles
        .iter()
        .map(|x: &TileOut| {
            let (arrow, arrow_class, trend) = match x.trend {
                Trend::InsufficientData => (
                    "",
                    "text-body-secondary",
                    t.get("analytics-trend-insufficient"),
                ),
                Trend::Change { direction, delta } => {
                    let good = match direction {
                        Direction::Flat => None,
                        Direction::Up => Some(up_is_good(x.kpi)),
                        Direction::Down => Some(!up_is_good(x.kpi)),
                    };
                    let arrow = match direction {
                        Direction::Up => "▲",
                        Direction::Down => "▼",
                        Direction::Flat => "▬",
                    };
                    let class = match good {
                        Some(true) => "text-success",
                        Some(false) => "text-danger",
                        None => "text-body-secondary",
                    };
                    let d = delta.round() as i64;
                    (
                        arrow,
                        class,
                        t.with("analytics-trend-delta", &[("delta", d.into())]),
                    )
                }
            };
            TileView {
                label: t.get(&kpi_key(x.kpi)),
                value: x.shown.map(|s| s.to_string()).unwrap_or_else(|| "–".into()),
                arrow,
                arrow_class,
                trend,
                n: x.n,
            }
        })
        .collect()
}

fn query_string(q: &KpiQuery) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("period", &q.period),
        ("granularity", &q.granularity),
        ("hospital_id", &q.hospital_id),
        ("department_id", &q.department_id),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

/// Resolve the filters; a malformed one falls back to the defaults with a notice (never a 500).
pub(crate) async fn resolve(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    q: &mut KpiQuery,
) -> Result<(Resolved, bool), UiError> {
    match scope::resolve(st, p, ctx, q).await {
        Ok(r) => Ok((r, false)),
        Err(ApiError::Validation(_)) => {
            *q = KpiQuery::default();
            Ok((scope::resolve(st, p, ctx, q).await?, true))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn names(
    st: &AppState,
    p: &Principal,
) -> Result<(HashMap<String, String>, HashMap<String, String>), UiError> {
    let f = filter(p);
    let hospitals = st
        .db
        .hospitals(f.hospital_id.as_deref())
        .await?
        .into_iter()
        .map(|h| (h.id.to_string(), h.name))
        .collect();
    let departments = st
        .db
        .departments(&f)
        .await?
        .into_iter()
        .map(|d| (d.id.to_string(), d.name))
        .collect();
    Ok((hospitals, departments))
}

fn rows(
    b: &[BreakdownRow],
    names: &HashMap<String, String>,
    t: &Tr,
    href: impl Fn(&str) -> Option<String>,
) -> Vec<Row> {
    b.iter()
        .map(|r| Row {
            name: names.get(&r.key).cloned().unwrap_or_else(|| {
                if r.key.is_empty() {
                    t.get("analytics-none")
                } else {
                    r.key.clone()
                }
            }),
            href: if r.key.is_empty() { None } else { href(&r.key) },
            invitations: r.invitations,
            responses: r.responses,
            response_rate: pct(r.response_rate),
            nps: pct(r.nps),
            csat: pct(r.csat),
        })
        .collect()
}

fn physician_views(ph: &PhysicianReport, q: &KpiQuery, may_comment: bool) -> Vec<PhysicianView> {
    ph.physicians
        .iter()
        .map(|r| PhysicianView {
            name: r.name.clone(),
            n: r.n,
            score: r.scores.as_ref().map(|s| s.linear_mean_shown),
            top: r.scores.as_ref().map(|s| s.top_shown),
            rank: r.rank,
            comments_href: may_comment.then(|| {
                format!(
                    "/ui/analytics/comments?{}&physician_id={}",
                    query_string(q),
                    r.physician_id
                )
            }),
        })
        .collect()
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
    let k = reports::kpis(&st, &r).await?;
    let (hnames, dnames) = names(&st, p).await?;
    // Drill-down: the next level below what is selected.
    let qs = query_string(&KpiQuery {
        hospital_id: None,
        department_id: None,
        ..q.clone()
    });
    let (level, by) = match (&r.filter.hospital, &r.filter.department) {
        (None, _) => ("analytics-by-hospital", "hospital"),
        (Some(_), None) => ("analytics-by-department", "department"),
        (Some(_), Some(_)) => ("analytics-by-physician", "physician"),
    };
    let b = reports::breakdown(
        &st,
        &r,
        &BreakdownQuery {
            by: Some(by.into()),
        },
    )
    .await?;
    let may_comment = p.may(
        Resource::SurveyResponse,
        Action::Read,
        &px360_api::own_scope(p),
    );
    let (table, physicians) = if by == "physician" {
        let ph = reports::physicians(&st, p, &r).await?;
        (
            Vec::new(),
            Some((physician_views(&ph, &q, may_comment), ph.min_sample)),
        )
    } else {
        let link_names = if by == "hospital" { &hnames } else { &dnames };
        let hosp = r.filter.hospital;
        let table = rows(&b.rows, link_names, &t, |key| {
            Some(match (by, hosp) {
                ("hospital", _) => format!("/ui/analytics?{qs}&hospital_id={key}"),
                (_, Some(h)) => format!("/ui/analytics?{qs}&hospital_id={h}&department_id={key}"),
                _ => format!("/ui/analytics?{qs}&department_id={key}"),
            })
        });
        (table, None)
    };
    let series = reports::breakdown(
        &st,
        &r,
        &BreakdownQuery {
            by: Some("day".into()),
        },
    )
    .await?;
    let items = reports::items(&st, &r).await?;
    let charts = serde_json::json!({
        "rtl": req.lang.dir() == "rtl",
        "series": {
            "labels": series.rows.iter().map(|x| x.key.clone()).collect::<Vec<_>>(),
            "datasets": [
                {"label": t.get("analytics-kpi-nps"), "data": series.rows.iter().map(|x| x.nps.map(f64::round)).collect::<Vec<_>>()},
                {"label": t.get("analytics-kpi-csat"), "data": series.rows.iter().map(|x| x.csat.map(f64::round)).collect::<Vec<_>>()},
                {"label": t.get("analytics-kpi-response-rate"), "data": series.rows.iter().map(|x| x.response_rate.map(f64::round)).collect::<Vec<_>>()},
            ],
        },
        "dist": {
            "labels": items.items.iter().map(|i| t.get_or(&format!("analytics-q-{}", i.key), &i.key)).collect::<Vec<_>>(),
            "datasets": [
                {"label": t.get("analytics-box-top"), "data": items.items.iter().map(|i| i.scores.top_shown).collect::<Vec<_>>()},
                {"label": t.get("analytics-box-middle"), "data": items.items.iter().map(|i| i.scores.middle_shown).collect::<Vec<_>>()},
                {"label": t.get("analytics-box-bottom"), "data": items.items.iter().map(|i| i.scores.bottom_shown).collect::<Vec<_>>()},
            ],
        },
    });
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
    let export_query = query_string(&q);
    render(&Page {
        chrome: Chrome::new(&req, Some(&s), Nav::Analytics, "analytics-title"),
        chart_js: crate::assets::url(crate::assets::CHART_JS),
        analytics_js: crate::assets::url(crate::assets::ANALYTICS_JS),
        period: k.period.clone(),
        previous: k.previous_period.clone(),
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
        tiles: tiles(&t, &k),
        level_title: t.get(level),
        rows: table,
        min_sample_text: t.count(
            "analytics-min-sample",
            "n",
            i64::try_from(
                physicians
                    .as_ref()
                    .map(|p| p.1)
                    .unwrap_or_else(reports::min_sample),
            )
            .unwrap_or(i64::MAX),
        ),
        physicians: physicians.map(|p| p.0),
        charts: charts.to_string(),
        export_query,
        comments_href: may_comment.then(|| format!("/ui/analytics/comments?{}", query_string(&q))),
        t,
    })
}

pub struct HospitalSummary {
    pub name: String,
    pub href: String,
    pub values: Vec<String>,
}

#[derive(Template)]
#[template(path = "analytics_summary.html")]
struct Summary {
    chrome: Chrome,
    t: Tr,
    period: String,
    tiles: Vec<TileView>,
    columns: Vec<String>,
    hospitals: Vec<HospitalSummary>,
    /// QI projects' status lines (issue 18): title, status, rating, measures.
    qi: Vec<QiLine>,
}

pub struct QiLine {
    pub href: String,
    pub title: String,
    pub status: String,
    pub rag: (String, &'static str),
    pub measures: Vec<String>,
    pub milestones: String,
}

/// The executive summary's QI table: every project in scope (not cancelled) with its rating.
async fn qi_lines(st: &AppState, p: &Principal, ctx: &Ctx, t: &Tr) -> Result<Vec<QiLine>, UiError> {
    let lines = px360_api::qi_chart::summary(st, p, ctx).await?;
    Ok(lines
        .iter()
        .map(|l| {
            let s = &l.summary;
            QiLine {
                href: format!("/ui/qi/{}", l.project_id),
                title: l.title.clone(),
                status: t.get(&format!("qi-status-{}", s.status.as_str())),
                rag: crate::qi_pages::rag_view(t, s.rag),
                measures: s
                    .measures
                    .iter()
                    .map(|m| {
                        let v = |x: f64| format!("{}", x.round() as i64);
                        format!(
                            "{}: {} / {}{}",
                            t.get(&crate::qi_pages::kpi_key(m.kpi)),
                            m.latest.map(v).unwrap_or_else(|| "–".into()),
                            v(m.target),
                            if m.improving { " ↑" } else { "" }
                        )
                    })
                    .collect(),
                milestones: format!("{}/{}", s.milestones_done, s.milestones_total),
            }
        })
        .collect())
}

/// The executive summary: the scope's tiles and every hospital in it side by side.
pub async fn summary(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Query(mut q): Query<KpiQuery>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    q.hospital_id = None;
    q.department_id = None;
    let (r, _) = resolve(&st, p, &ctx, &mut q).await?;
    let k = reports::kpis(&st, &r).await?;
    let (hnames, _) = names(&st, p).await?;
    let shown = [
        Kpi::Nps,
        Kpi::Csat,
        Kpi::ResponseRate,
        Kpi::LinearMean,
        Kpi::SlaResolution,
        Kpi::ComplaintsReceived,
        Kpi::ActionOverdue,
    ];
    let mut hospitals = Vec::new();
    let mut list: Vec<(&String, &String)> = hnames.iter().collect();
    list.sort_by(|a, b| a.1.cmp(b.1));
    for (id, name) in list {
        let hq = KpiQuery {
            hospital_id: Some(id.clone()),
            ..q.clone()
        };
        let hr = scope::resolve(&st, p, &ctx, &hq).await?;
        let hk = reports::kpis(&st, &hr).await?;
        hospitals.push(HospitalSummary {
            name: name.clone(),
            href: format!("/ui/analytics?{}", query_string(&hq)),
            values: shown
                .iter()
                .map(|kpi| {
                    hk.tiles
                        .iter()
                        .find(|x| x.kpi == *kpi)
                        .and_then(|x| x.shown)
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "–".into())
                })
                .collect(),
        });
    }
    let qi = qi_lines(&st, p, &ctx, &t).await?;
    render(&Summary {
        chrome: Chrome::new(&req, Some(&s), Nav::Analytics, "analytics-summary-title"),
        qi,
        period: k.period.clone(),
        tiles: tiles(&t, &k),
        columns: shown.iter().map(|k| t.get(&kpi_key(*k))).collect(),
        hospitals,
        t,
    })
}

pub struct CommentView {
    pub date: String,
    /// The question's name from the catalogue, or its key as data.
    pub question: crate::i18n::Label,
    pub text: String,
}

#[derive(Template)]
#[template(path = "analytics_comments.html")]
struct Comments {
    chrome: Chrome,
    t: Tr,
    period: String,
    masked: bool,
    comments: Vec<CommentView>,
}

/// Comments (free text): Staff and up, role Physician only their own; masked below PX
/// Coordinator. Viewers get the 403 page.
pub async fn comments(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Query(mut q): Query<KpiQuery>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let (r, _) = resolve(&st, p, &ctx, &mut q).await?;
    let c = reports::comments(&st, p, &ctx, &r).await?;
    render(&Comments {
        chrome: Chrome::new(&req, Some(&s), Nav::Analytics, "analytics-comments-title"),
        period: c.period.clone(),
        masked: c.masked,
        comments: c
            .comments
            .into_iter()
            .map(|x| CommentView {
                date: x.submitted_at.format("%Y-%m-%d").to_string(),
                question: t.label(&format!("analytics-q-{}", x.question), &x.question),
                text: x.text,
            })
            .collect(),
        t,
    })
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ExportParams {
    pub table: String,
    pub format: Option<String>,
    pub by: Option<String>,
}

/// A download of a table the page shows (same report, same audit record as the API's).
pub async fn download(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Query(mut q): Query<KpiQuery>,
    Query(e): Query<ExportParams>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let (r, _) = resolve(&st, p, &ctx, &mut q).await?;
    let format = match e.format.as_deref() {
        Some("xlsx") => "xlsx",
        _ => "csv",
    };
    let table = match export::table(&st, p, &r, &e.table, e.by.clone()).await {
        Ok(t) => t,
        Err(ApiError::Validation(_)) => return Err(UiError::NotFound),
        Err(x) => return Err(x.into()),
    };
    Ok(export::export_response(&st, p, &ctx, &r, &table, format, req.lang.dir() == "rtl").await?)
}
