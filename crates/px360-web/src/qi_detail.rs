//! A QI project (`/ui/qi/{id}`): aim, owner, status and its red/amber/green rating, each
//! measure's run chart (the API's `qi_chart::chart`: the KPI per week or month, the median
//! frozen on the points before the change date, target line, IHI signals highlighted; drawn by
//! `assets/qi.js` with the vendored Chart.js, mirrored on Arabic pages), milestones, linked
//! actions and themes, and the PDSA cycles with the form that moves each one a stage on.

use crate::error::UiError;
use crate::forms::Errors;
use crate::i18n::{Label, Tr};
use crate::org_names::Names;
use crate::page::{Chrome, Nav, Req, render};
use crate::qi_pages::{kpi_key, rag_view, status_badge};
use crate::session::Session;
use crate::work::{Categories, People};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::qi::{CycleCommand, CycleInput, add_cycle, load, move_cycle};
use px360_api::qi_chart::{RunChartOut, chart, status_line};
use px360_domain::qi::project::Better;
use px360_domain::rbac::{Action, Resource};
use serde::Deserialize;
use uuid::Uuid;

pub struct MeasureView {
    pub n: usize,
    pub name: String,
    pub baseline: String,
    pub target: String,
    pub latest: String,
    pub met: bool,
    pub improving: bool,
    pub better: String,
    pub median: String,
    /// The chart's data for `assets/qi.js` (JSON in a data attribute: no inline script).
    pub data: String,
    pub signals: Vec<String>,
}

pub struct CycleView {
    pub id: String,
    pub seq: i64,
    pub title: String,
    pub stage: String,
    /// The label of the note the next move records (the plan, the observations, …).
    pub note_label: String,
    pub decision: Option<String>,
    pub notes: Vec<(String, String)>,
    /// The command that moves it on (`None` once closed).
    pub next: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "qi.html")]
struct Page {
    chrome: Chrome,
    t: Tr,
    chart_js: String,
    qi_js: String,
    id: String,
    title: String,
    aim: String,
    place: String,
    owner: String,
    status: String,
    status_badge: &'static str,
    rag: (String, &'static str),
    baseline_from: String,
    change_date: Option<String>,
    measures: Vec<MeasureView>,
    milestones: Vec<(String, String, Option<String>, bool)>,
    actions: Vec<(String, Label)>,
    themes: Vec<Label>,
    cycles: Vec<CycleView>,
    decisions: Vec<(String, String)>,
    pdsa: (usize, usize),
    may_update: bool,
    notice: Option<String>,
    problem: Option<String>,
    errors: Errors,
}

fn num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

fn measure_view(t: &Tr, c: &RunChartOut, rtl: bool) -> MeasureView {
    let median = c.analysis.as_ref().map(|a| a.median);
    let data = serde_json::json!({
        "labels": c.points.iter().map(|p| p.from.to_string()).collect::<Vec<_>>(),
        "values": c.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        "baseline": c.points.iter().map(|p| p.baseline).collect::<Vec<_>>(),
        "signal": c.points.iter().map(|p| p.signal).collect::<Vec<_>>(),
        "median": median,
        "target": c.target,
        "rtl": rtl,
        "names": {
            "before": t.get("qi-chart-before"),
            "after": t.get("qi-chart-after"),
            "median": t.get("qi-chart-median"),
            "target": t.get("qi-chart-target"),
        },
    });
    let signals = c
        .analysis
        .as_ref()
        .map(|a| {
            a.signals
                .iter()
                .map(|s| {
                    let rule = serde_json::to_value(s)
                        .ok()
                        .and_then(|v| v.get("rule").and_then(|r| r.as_str()).map(str::to_owned))
                        .unwrap_or_default();
                    t.get(&format!("qi-signal-{rule}"))
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default();
    MeasureView {
        n: c.measure,
        name: t.get(&kpi_key(c.kpi)),
        baseline: num(c.baseline),
        target: num(c.target),
        latest: c.latest.map(num).unwrap_or_else(|| "–".into()),
        met: c.latest.is_some_and(|v| match c.better {
            Better::Higher => v >= c.target,
            Better::Lower => v <= c.target,
        }),
        improving: c.improving,
        better: t.get(match c.better {
            Better::Higher => "qi-better-higher",
            Better::Lower => "qi-better-lower",
        }),
        median: median.map(num).unwrap_or_else(|| "–".into()),
        data: data.to_string(),
        signals,
    }
}

fn next_command(stage: &str) -> Option<&'static str> {
    match stage {
        "plan" => Some("start_do"),
        "do" => Some("start_study"),
        "study" => Some("start_act"),
        "act" => Some("close"),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    problem: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let x = load(st, p, ctx, id, Action::Read).await?;
    let line = status_line(st, &x).await?;
    let names = Names::load(st, p).await?;
    let people = People::load(st).await?;
    let cats = Categories::load(st).await?;
    let rtl = req.lang.dir() == "rtl";
    let mut measures = Vec::new();
    for i in 0..x.measures.len() {
        measures.push(measure_view(&t, &chart(st, &x, i).await?, rtl));
    }
    let today = chrono::Utc::now().date_naive();
    let mut actions = Vec::new();
    for a in &x.action_ids {
        if let Ok(row) = st.db.px_action(*a).await {
            actions.push((format!("/ui/actions/{a}"), Label::data(&row.title)));
        }
    }
    let cycles = st
        .db
        .qi_cycles(id)
        .await?
        .into_iter()
        .map(|c| {
            let notes = [
                ("qi-pdsa-plan", &c.plan_note),
                ("qi-pdsa-do", &c.do_note),
                ("qi-pdsa-study", &c.study_note),
                ("qi-pdsa-act", &c.act_note),
            ]
            .into_iter()
            .filter_map(|(k, n)| n.as_ref().map(|n| (t.get(k), n.clone())))
            .collect();
            CycleView {
                id: c.id.to_string(),
                seq: c.seq,
                title: c.title.clone(),
                stage: t.get(&format!("qi-stage-{}", c.stage)),
                note_label: t.get(&format!("qi-note-{}", c.stage)),
                decision: c
                    .decision
                    .as_ref()
                    .map(|d| t.get(&format!("qi-decision-{d}"))),
                notes,
                next: next_command(&c.stage)
                    .map(|cmd| (cmd.to_owned(), t.get(&format!("qi-command-{cmd}")))),
            }
        })
        .collect();
    let place = match x.department_id {
        Some(_) => format!(
            "{} · {}",
            names.hospital(Some(x.hospital_id)),
            names.department(x.department_id)
        ),
        None => names.hospital(Some(x.hospital_id)),
    };
    let mut r = render(&Page {
        chrome: Chrome::new(req, Some(s), Nav::Qi, "qi-project-title"),
        chart_js: crate::assets::url(crate::assets::CHART_JS),
        qi_js: crate::assets::url(crate::assets::QI_JS),
        id: id.to_string(),
        title: x.title.clone(),
        aim: x.aim.clone(),
        place,
        owner: people.name(Some(x.owner_id)).unwrap_or_default(),
        status: t.get(&format!("qi-status-{}", x.status.as_str())),
        status_badge: status_badge(x.status),
        rag: rag_view(&t, line.summary.rag),
        baseline_from: x.baseline_from.to_string(),
        change_date: x.change_date.map(|d| d.to_string()),
        measures,
        milestones: x
            .milestones
            .iter()
            .map(|m| {
                (
                    m.title.clone(),
                    m.due.to_string(),
                    m.done.map(|d| d.to_string()),
                    m.done.is_none() && m.due < today,
                )
            })
            .collect(),
        actions,
        themes: x.themes.iter().map(|th| cats.name(&t, th)).collect(),
        cycles,
        decisions: ["adopt", "adapt", "abandon"]
            .iter()
            .map(|d| ((*d).to_owned(), t.get(&format!("qi-decision-{d}"))))
            .collect(),
        pdsa: (line.summary.pdsa_open, line.summary.pdsa_closed),
        may_update: p.may(
            Resource::QiProject,
            Action::Update,
            &px360_api::obj_of(x.hospital_id, x.department_id),
        ),
        notice: req.param("done").map(|d| {
            t.get(&format!(
                "qi-done-{}",
                if d == "created" { "created" } else { "saved" }
            ))
        }),
        problem,
        errors,
        t,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

fn parse_id(id: &str) -> Result<Uuid, UiError> {
    Uuid::parse_str(id).map_err(|_| UiError::NotFound)
}

pub async fn detail(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    page(
        &st,
        &req,
        &s,
        &ctx,
        parse_id(&id)?,
        None,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// A PDSA form's refusal: the page again with the message (422 about a field, 409 when the
/// cycle moved meanwhile).
async fn refused(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    e: ApiError,
) -> Result<Response, UiError> {
    let t = req.t();
    let (status, msg, errors) = match e {
        ApiError::Validation(v) => {
            let f = v
                .first()
                .map(|x| x.field.clone())
                .filter(|f| ["note", "title", "decision", "command"].contains(&f.as_str()))
                .unwrap_or_else(|| "form".into());
            let m = t.get(&format!("qi-error-pdsa-{f}"));
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                m.clone(),
                Errors(vec![(f, m)]),
            )
        }
        ApiError::Conflict(_) => (
            StatusCode::CONFLICT,
            t.get("qi-error-pdsa-state"),
            Errors::default(),
        ),
        other => return Err(other.into()),
    };
    page(st, req, s, ctx, id, Some(msg), errors, status).await
}

#[derive(Deserialize, Default)]
pub struct NewCycleForm {
    #[serde(default)]
    pub title: String,
}

pub async fn new_cycle(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<NewCycleForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    match add_cycle(&st, &s.principal, &ctx, id, &CycleInput { title: f.title }).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/qi/{id}?done=saved#pdsa")).into_response()),
        Err(e) => refused(&st, &req, &s, &ctx, id, e).await,
    }
}

#[derive(Deserialize, Default)]
pub struct MoveForm {
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

pub async fn move_one(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((id, cycle)): Path<(String, String)>,
    Form(f): Form<MoveForm>,
) -> Result<Response, UiError> {
    let (id, cycle) = (parse_id(&id)?, parse_id(&cycle)?);
    let cmd = CycleCommand {
        command: f.command,
        decision: Some(f.decision).filter(|d| !d.is_empty()),
        note: f.note,
    };
    match move_cycle(&st, &s.principal, &ctx, id, cycle, &cmd).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/qi/{id}?done=saved#pdsa")).into_response()),
        Err(e) => refused(&st, &req, &s, &ctx, id, e).await,
    }
}
