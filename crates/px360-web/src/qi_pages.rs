//! QI project pages: the list (`/ui/qi`, each project's red/amber/green status from the API's
//! `qi_chart::status_line`) and the form that creates or edits a project (`/ui/qi/new`,
//! `/ui/qi/{id}/edit`): up to three measures (analytics KPIs with baseline and target), five
//! milestones, the complaint themes and the linked actions. The form posts to the API's own
//! `qi::create` / `qi::update`, so it is validated and audited exactly as the API is.

use crate::error::UiError;
use crate::forms::Errors;
use crate::i18n::{Label, Tr};
use crate::org_names::Names;
use crate::page::{Chrome, Nav, Req, render};
use crate::session::Session;
use crate::work::{Categories, People, Pick, coded};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::qi::{ProjectInput, create, list, load, update};
use px360_api::qi_chart::status_line;
use px360_api::{AppState, own_scope};
use px360_domain::analytics::rollup::Kpi;
use px360_domain::qi::project::{Measure, Milestone, ProjectStatus};
use px360_domain::qi::summary::Rag;
use px360_domain::rbac::{Action, Resource};
use std::collections::HashMap;
use uuid::Uuid;

pub const MEASURE_ROWS: usize = 3;
pub const MILESTONE_ROWS: usize = 5;

/// `analytics-kpi-nps`: the dashboards' names of the KPIs.
pub fn kpi_key(k: Kpi) -> String {
    let name = kpi_code(k);
    format!("analytics-kpi-{}", name.replace('_', "-"))
}

pub fn kpi_code(k: Kpi) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn rag_view(t: &Tr, r: Rag) -> (String, &'static str) {
    match r {
        Rag::Green => (t.get("qi-rag-green"), "text-bg-success"),
        Rag::Amber => (t.get("qi-rag-amber"), "text-bg-warning"),
        Rag::Red => (t.get("qi-rag-red"), "text-bg-danger"),
    }
}

pub fn status_badge(s: ProjectStatus) -> &'static str {
    match s {
        ProjectStatus::Active => "text-bg-primary",
        ProjectStatus::Completed => "text-bg-success",
        ProjectStatus::OnHold => "text-bg-warning",
        ProjectStatus::Cancelled => "text-bg-secondary",
        ProjectStatus::Planning => "text-bg-info",
    }
}

pub struct ListRow {
    pub href: String,
    pub title: String,
    pub place: String,
    pub owner: String,
    pub status: String,
    pub status_badge: &'static str,
    pub rag: (String, &'static str),
    pub measures: String,
}

#[derive(Template)]
#[template(path = "qi_list.html")]
struct ListPage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<ListRow>,
    may_create: bool,
}

pub async fn list_page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let projects = list(&st, p, &ctx, None).await?;
    let names = Names::load(&st, p).await?;
    let people = People::load(&st).await?;
    let mut rows = Vec::with_capacity(projects.len());
    for x in projects.iter().take(px360_api::qi_chart::MAX_SUMMARY) {
        let line = status_line(&st, x).await?;
        let place = match x.department_id {
            Some(_) => format!(
                "{} · {}",
                names.hospital(Some(x.hospital_id)),
                names.department(x.department_id)
            ),
            None => names.hospital(Some(x.hospital_id)),
        };
        rows.push(ListRow {
            href: format!("/ui/qi/{}", x.id),
            title: x.title.clone(),
            place,
            owner: people.name(Some(x.owner_id)).unwrap_or_default(),
            status: t.get(&format!("qi-status-{}", x.status.as_str())),
            status_badge: status_badge(x.status),
            rag: rag_view(&t, line.summary.rag),
            measures: x
                .measures
                .iter()
                .map(|m| t.get(&kpi_key(m.kpi)))
                .collect::<Vec<_>>()
                .join(" · "),
        });
    }
    render(&ListPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Qi, "qi-title"),
        rows,
        may_create: p.may(Resource::QiProject, Action::Create, &own_scope(p)),
        t,
    })
}

/// The form's values as posted (repeated fields: themes and actions).
#[derive(Default, Clone)]
pub struct Posted(pub HashMap<String, Vec<String>>);

impl Posted {
    pub fn parse(body: &[u8]) -> Posted {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            m.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Posted(m)
    }

    pub fn get(&self, k: &str) -> &str {
        self.0
            .get(k)
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    }

    pub fn all(&self, k: &str) -> &[String] {
        self.0.get(k).map_or(&[], Vec::as_slice)
    }

    fn has(&self, k: &str, v: &str) -> bool {
        self.all(k).iter().any(|x| x == v)
    }
}

pub struct MeasureRow {
    pub n: usize,
    pub kpis: Vec<Pick>,
    pub baseline: String,
    pub target: String,
}

pub struct MilestoneRow {
    pub n: usize,
    pub title: String,
    pub due: String,
    pub done: String,
}

pub struct Check {
    pub value: String,
    pub label: Label,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "qi_form.html")]
struct FormPage {
    chrome: Chrome,
    t: Tr,
    action: String,
    editing: bool,
    f: Posted,
    errors: Errors,
    problem: Option<String>,
    hospitals: Vec<Pick>,
    departments: Vec<Pick>,
    owners: Vec<Pick>,
    statuses: Vec<Pick>,
    granularities: Vec<Pick>,
    measures: Vec<MeasureRow>,
    milestones: Vec<MilestoneRow>,
    themes: Vec<Check>,
    actions: Vec<Check>,
}

/// The form's values for an existing project.
fn posted_of(x: &px360_store::qi::QiProject) -> Posted {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    let mut put = |k: &str, v: String| m.entry(k.to_owned()).or_default().push(v);
    put("title", x.title.clone());
    put("aim", x.aim.clone());
    put("hospital_id", x.hospital_id.to_string());
    put(
        "department_id",
        x.department_id.map(|d| d.to_string()).unwrap_or_default(),
    );
    put("owner_id", x.owner_id.to_string());
    put("status", x.status.as_str().to_owned());
    put("granularity", x.granularity.clone());
    put("baseline_from", x.baseline_from.to_string());
    put(
        "change_date",
        x.change_date.map(|d| d.to_string()).unwrap_or_default(),
    );
    for (i, ms) in x.measures.iter().enumerate() {
        put(&format!("kpi_{i}"), kpi_code(ms.kpi));
        put(&format!("baseline_{i}"), ms.baseline.to_string());
        put(&format!("target_{i}"), ms.target.to_string());
    }
    for (i, ms) in x.milestones.iter().enumerate() {
        put(&format!("ms_title_{i}"), ms.title.clone());
        put(&format!("ms_due_{i}"), ms.due.to_string());
        put(
            &format!("ms_done_{i}"),
            ms.done.map(|d| d.to_string()).unwrap_or_default(),
        );
    }
    for th in &x.themes {
        put("themes", th.clone());
    }
    for a in &x.action_ids {
        put("action_ids", a.to_string());
    }
    Posted(m)
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    action: String,
    editing: bool,
    f: Posted,
    errors: Errors,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let names = Names::load(st, p).await?;
    let people = People::load(st).await?;
    let cats = Categories::load(st).await?;
    let mut hospitals = Vec::new();
    if p.scope().hospital_id().is_none() {
        hospitals.push(Pick::msg("", t.get("cn-choose"), f.get("hospital_id")));
    }
    hospitals.extend(
        names
            .hospitals
            .iter()
            .map(|h| Pick::data(&h.id.to_string(), &h.name, f.get("hospital_id"))),
    );
    let mut departments = vec![Pick::msg(
        "",
        t.get("qi-whole-hospital"),
        f.get("department_id"),
    )];
    departments.extend(names.departments.iter().map(|d| {
        Pick::data(
            &d.id.to_string(),
            &format!("{} ({})", d.name, names.hospital(Some(d.hospital_id))),
            f.get("department_id"),
        )
    }));
    let me = p.user_id().to_string();
    let owner = if f.get("owner_id").is_empty() {
        me.as_str()
    } else {
        f.get("owner_id")
    };
    let owners = people.able(Resource::QiProject, &own_scope(p), owner);
    let status = if f.get("status").is_empty() {
        "planning"
    } else {
        f.get("status")
    };
    let gran = if f.get("granularity").is_empty() {
        "week"
    } else {
        f.get("granularity")
    };
    let kpi_codes: Vec<String> = Kpi::ALL.iter().map(|k| kpi_code(*k)).collect();
    let measures = (0..MEASURE_ROWS)
        .map(|i| {
            let sel = f.get(&format!("kpi_{i}")).to_owned();
            let mut kpis = vec![Pick::msg("", t.get("qi-no-measure"), &sel)];
            kpis.extend(
                Kpi::ALL
                    .iter()
                    .zip(&kpi_codes)
                    .map(|(k, c)| Pick::msg(c, t.get(&kpi_key(*k)), &sel)),
            );
            MeasureRow {
                n: i,
                kpis,
                baseline: f.get(&format!("baseline_{i}")).to_owned(),
                target: f.get(&format!("target_{i}")).to_owned(),
            }
        })
        .collect();
    let milestones = (0..MILESTONE_ROWS)
        .map(|i| MilestoneRow {
            n: i,
            title: f.get(&format!("ms_title_{i}")).to_owned(),
            due: f.get(&format!("ms_due_{i}")).to_owned(),
            done: f.get(&format!("ms_done_{i}")).to_owned(),
        })
        .collect();
    let themes = cats
        .0
        .iter()
        .filter(|c| c.is_active || f.has("themes", &c.code))
        .map(|c| Check {
            value: c.code.clone(),
            label: cats.name(&t, &c.code),
            checked: f.has("themes", &c.code),
        })
        .collect();
    let board = st
        .db
        .action_board(
            px360_store::actions::Board::Team,
            p.user_id(),
            &px360_api::filter(p),
            chrono::Utc::now(),
            200,
        )
        .await?;
    let mut actions: Vec<Check> = board
        .iter()
        .map(|a| Check {
            value: a.id.to_string(),
            label: Label::data(&a.title),
            checked: f.has("action_ids", &a.id.to_string()),
        })
        .collect();
    // Linked actions that are closed by now stay linked (and listed).
    for id in f.all("action_ids") {
        if !actions.iter().any(|a| &a.value == id)
            && let Ok(u) = Uuid::parse_str(id)
            && let Ok(a) = st.db.px_action(u).await
        {
            actions.push(Check {
                value: id.clone(),
                label: Label::data(&a.title),
                checked: true,
            });
        }
    }
    let problem = errors.others(SHOWN).into_iter().next();
    let status_code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&FormPage {
        chrome: Chrome::new(
            req,
            Some(s),
            Nav::Qi,
            if editing {
                "qi-edit-title"
            } else {
                "qi-new-title"
            },
        ),
        action,
        editing,
        hospitals,
        departments,
        owners,
        statuses: coded(
            &t,
            "qi-status",
            &ProjectStatus::ALL.map(ProjectStatus::as_str),
            status,
            None,
        ),
        granularities: coded(&t, "analytics-granularity", &["week", "month"], gran, None),
        measures,
        milestones,
        themes,
        actions,
        f,
        errors,
        problem,
        t,
    })?;
    *r.status_mut() = status_code;
    Ok(r)
}

/// Fields (and groups) the form shows errors next to.
const SHOWN: [&str; 13] = [
    "title",
    "aim",
    "hospital_id",
    "department_id",
    "owner_id",
    "status",
    "granularity",
    "baseline_from",
    "change_date",
    "measures",
    "milestones",
    "themes",
    "action_ids",
];

/// `measures[1]` → `measures`: errors of a row show at its group.
fn group(field: &str) -> String {
    field.split('[').next().unwrap_or(field).to_owned()
}

fn errors_of(t: &Tr, e: ApiError) -> Result<Errors, UiError> {
    match e {
        ApiError::Validation(v) => Ok(Errors(
            v.iter()
                .map(|x| {
                    let g = group(&x.field);
                    let key = format!("qi-error-{}", if g.is_empty() { "form" } else { &g });
                    (g, t.get(&key))
                })
                .collect(),
        )),
        ApiError::Conflict(_) | ApiError::BadRequest(_) => {
            Ok(Errors(vec![("form".into(), t.get("qi-error-form"))]))
        }
        other => Err(other.into()),
    }
}

fn date(v: &str) -> Result<Option<NaiveDate>, ()> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

/// The posted form as the API's input, or the field errors of what does not parse.
fn input(t: &Tr, f: &Posted) -> Result<ProjectInput, Errors> {
    let mut errs = Vec::new();
    let mut bad = |g: &str| errs.push((g.to_owned(), t.get(&format!("qi-error-{g}"))));
    let uuid = |k: &str| Uuid::parse_str(f.get(k).trim()).ok();
    let baseline_from = date(f.get("baseline_from")).unwrap_or_else(|_| {
        bad("baseline_from");
        None
    });
    let change_date = date(f.get("change_date")).unwrap_or_else(|_| {
        bad("change_date");
        None
    });
    let mut measures = Vec::new();
    for i in 0..MEASURE_ROWS {
        let code = f.get(&format!("kpi_{i}")).trim();
        if code.is_empty() {
            continue;
        }
        let kpi = serde_json::from_value::<Kpi>(serde_json::Value::String(code.to_owned())).ok();
        let num = |k: String| f.get(&k).trim().replace(',', ".").parse::<f64>().ok();
        match (
            kpi,
            num(format!("baseline_{i}")),
            num(format!("target_{i}")),
        ) {
            (Some(kpi), Some(baseline), Some(target)) => measures.push(Measure {
                kpi,
                baseline,
                target,
            }),
            _ => bad("measures"),
        }
    }
    let mut milestones = Vec::new();
    for i in 0..MILESTONE_ROWS {
        let title = f.get(&format!("ms_title_{i}")).trim();
        let due = date(f.get(&format!("ms_due_{i}")));
        let done = date(f.get(&format!("ms_done_{i}")));
        if title.is_empty() && matches!(due, Ok(None)) {
            continue;
        }
        match (due, done) {
            (Ok(Some(due)), Ok(done)) => milestones.push(Milestone {
                title: title.to_owned(),
                due,
                done,
            }),
            _ => bad("milestones"),
        }
    }
    if !errs.is_empty() {
        return Err(Errors(errs));
    }
    Ok(ProjectInput {
        hospital_id: uuid("hospital_id"),
        department_id: uuid("department_id"),
        title: f.get("title").to_owned(),
        aim: f.get("aim").to_owned(),
        owner_id: uuid("owner_id"),
        status: Some(f.get("status").to_owned()).filter(|s| !s.is_empty()),
        granularity: Some(f.get("granularity").to_owned()).filter(|s| !s.is_empty()),
        baseline_from,
        change_date,
        measures,
        milestones,
        action_ids: f
            .all("action_ids")
            .iter()
            .filter_map(|a| Uuid::parse_str(a).ok())
            .collect(),
        themes: f.all("themes").to_vec(),
    })
}

pub async fn new_form(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::QiProject,
        Action::Create,
        own_scope(p),
        None,
    )
    .await?;
    form_page(
        &st,
        &req,
        &s,
        "/ui/qi/new".into(),
        false,
        Posted::default(),
        Errors::default(),
    )
    .await
}

pub async fn create_post(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    body: Bytes,
) -> Result<Response, UiError> {
    let t = req.t();
    let f = Posted::parse(&body);
    let action = "/ui/qi/new".to_owned();
    let b = match input(&t, &f) {
        Ok(b) => b,
        Err(errs) => return form_page(&st, &req, &s, action, false, f, errs).await,
    };
    match create(&st, &s.principal, &ctx, &b).await {
        Ok(x) => Ok(Redirect::to(&format!("/ui/qi/{}?done=created", x.id)).into_response()),
        Err(e) => {
            let errs = errors_of(&t, e)?;
            form_page(&st, &req, &s, action, false, f, errs).await
        }
    }
}

fn parse_id(id: &str) -> Result<Uuid, UiError> {
    Uuid::parse_str(id).map_err(|_| UiError::NotFound)
}

pub async fn edit_form(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let x = load(&st, &s.principal, &ctx, id, Action::Update).await?;
    form_page(
        &st,
        &req,
        &s,
        format!("/ui/qi/{id}/edit"),
        true,
        posted_of(&x),
        Errors::default(),
    )
    .await
}

pub async fn edit_post(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let t = req.t();
    let f = Posted::parse(&body);
    let action = format!("/ui/qi/{id}/edit");
    let b = match input(&t, &f) {
        Ok(b) => b,
        Err(errs) => return form_page(&st, &req, &s, action, true, f, errs).await,
    };
    match update(&st, &s.principal, &ctx, id, &b).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/qi/{id}?done=saved")).into_response()),
        Err(e) => {
            let errs = errors_of(&t, e)?;
            form_page(&st, &req, &s, action, true, f, errs).await
        }
    }
}
