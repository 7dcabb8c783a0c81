//! Quality-improvement projects (issue 18, item 4): a project with an owner, an aim, measures
//! tied to analytics KPIs (baseline and target), milestones, linked PX actions and complaint
//! themes, and its PDSA cycles; the run chart and the status for the executive summary are in
//! [`crate::qi_chart`].
//!
//! A project is validated by `px360_domain::qi::project::Project::new` (aim, measures, limits,
//! theme codes) plus the references the domain cannot see (owner, actions, categories). Projects
//! are organisation data without patient data: everyone in scope reads them, PX Coordinators
//! and managers (level 50) run them. Every write is audited in its transaction.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::calls::{field, placement};
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use crate::{commit_audited, obj_of, own_scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use px360_domain::event::FieldError;
use px360_domain::qi::pdsa::{ActDecision, PdsaCommand};
use px360_domain::qi::project::{Measure, Milestone, Project, ProjectDraft, ProjectStatus};
use px360_domain::rbac::{Action, Principal, Resource};
use px360_store::StoreError;
use px360_store::qi::{self as store, PdsaCycle, ProjectWrite, QiProject};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectInput {
    /// Defaults to the caller's hospital, or the department's.
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub title: String,
    pub aim: String,
    /// Default: the caller.
    pub owner_id: Option<Uuid>,
    /// `planning` (default), `active`, `on_hold`, `completed` or `cancelled`.
    pub status: Option<String>,
    /// Run-chart points: `week` (default) or `month`.
    pub granularity: Option<String>,
    /// First day of the run chart (default: twelve weeks before the change date, or today).
    pub baseline_from: Option<NaiveDate>,
    /// The day the change under test went in: points before it are the baseline.
    pub change_date: Option<NaiveDate>,
    /// `[{"kpi": "nps", "baseline": 20, "target": 40}]`: `response_rate`, `nps`, `csat`,
    /// `top_box`, `linear_mean`, `sla_first_response`, `sla_resolution`,
    /// `complaints_received`, `complaint_hours_to_resolve`, `action_closure`, `action_overdue`.
    #[schema(value_type = Vec<Object>)]
    pub measures: Vec<Measure>,
    /// `[{"title": "Brief staff", "due": "2026-03-01", "done": null}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub milestones: Vec<Milestone>,
    #[serde(default)]
    pub action_ids: Vec<Uuid>,
    /// Complaint category codes (themes), e.g. `waiting_time`.
    #[serde(default)]
    pub themes: Vec<String>,
}

fn domain_error(e: &px360_domain::qi::project::ProjectError) -> ApiError {
    use px360_domain::qi::project::ProjectError as E;
    let f = match e {
        E::AimRequired | E::TooLong => "aim".to_owned(),
        E::NoMeasure => "measures".to_owned(),
        E::TooMany => "measures".to_owned(),
        E::BadMeasure { index } => format!("measures[{index}]"),
        E::BadMilestone { index } => format!("milestones[{index}]"),
        E::BadTheme { index } => format!("themes[{index}]"),
    };
    field(&f, e.code())
}

/// Validate a project for `p` at its place: the domain's checks, then the references.
pub async fn validate(
    st: &AppState,
    p: &Principal,
    b: &ProjectInput,
    hospital: Uuid,
    department: Option<Uuid>,
) -> ApiResult<ProjectWrite> {
    let mut errs = Vec::new();
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errs.push(FieldError::new("title", "is required (1-200 characters)"));
    }
    let status = match b.status.as_deref().filter(|s| !s.is_empty()) {
        None => ProjectStatus::Planning,
        Some(s) => ProjectStatus::parse(s).unwrap_or_else(|| {
            errs.push(FieldError::new("status", "is not a known value"));
            ProjectStatus::Planning
        }),
    };
    let granularity = match b.granularity.as_deref().filter(|s| !s.is_empty()) {
        None => "week",
        Some("week") => "week",
        Some("month") => "month",
        Some(_) => {
            errs.push(FieldError::new("granularity", "must be week or month"));
            "week"
        }
    };
    let today = Utc::now().date_naive();
    let baseline_from = b.baseline_from.unwrap_or_else(|| {
        b.change_date
            .map_or(today, |c| c - chrono::Duration::weeks(12))
    });
    if baseline_from > today {
        errs.push(FieldError::new("baseline_from", "is in the future"));
    }
    if b.change_date.is_some_and(|c| c < baseline_from) {
        errs.push(FieldError::new("change_date", "is before baseline_from"));
    }
    let owner = b.owner_id.unwrap_or(p.user_id());
    match st.db.user(&owner.to_string()).await {
        Ok(u) => {
            let up = Principal::new(u.id, u.role, u.hospital_id, u.department_id)
                .ok()
                .filter(|_| u.is_active);
            if !up.is_some_and(|up| {
                up.may(
                    Resource::QiProject,
                    Action::Update,
                    &obj_of(hospital, department),
                )
            }) {
                errs.push(FieldError::new(
                    "owner_id",
                    "this user cannot run the project",
                ));
            }
        }
        Err(StoreError::NotFound) => errs.push(FieldError::new("owner_id", "unknown user")),
        Err(e) => return Err(e.into()),
    }
    let cats = st.db.complaint_categories(true).await?;
    for (i, t) in b.themes.iter().enumerate() {
        if !cats.iter().any(|c| c.code == t.trim()) {
            errs.push(FieldError::new(
                format!("themes[{i}]"),
                "is not an active complaint category",
            ));
        }
    }
    for (i, a) in b.action_ids.iter().enumerate() {
        match st.db.px_action(*a).await {
            Ok(x) if x.hospital_id == hospital => {}
            Ok(_) | Err(StoreError::NotFound) => errs.push(FieldError::new(
                format!("action_ids[{i}]"),
                "unknown action in this hospital",
            )),
            Err(e) => return Err(e.into()),
        }
    }
    let project = Project::new(
        Uuid::nil(),
        owner,
        hospital,
        ProjectDraft {
            aim: b.aim.clone(),
            measures: b.measures.clone(),
            milestones: b.milestones.clone(),
            action_ids: b.action_ids.clone(),
            themes: b.themes.iter().map(|t| t.trim().to_owned()).collect(),
        },
    );
    let project = match project {
        Ok(x) => x,
        Err(e) => {
            if let ApiError::Validation(mut v) = domain_error(&e) {
                errs.append(&mut v);
            }
            return Err(ApiError::Validation(errs));
        }
    };
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    Ok(ProjectWrite {
        hospital_id: hospital,
        department_id: department,
        title: title.to_owned(),
        aim: project.aim,
        owner_id: owner,
        status,
        granularity: granularity.into(),
        baseline_from,
        change_date: b.change_date,
        measures: project.measures,
        milestones: project.milestones,
        action_ids: project.action_ids,
        themes: project.themes,
    })
}

fn summary_of(w: &QiProject) -> serde_json::Value {
    let kpis: Vec<_> = w.measures.iter().map(|m| m.kpi).collect();
    serde_json::json!({"status": w.status.as_str(), "owner_id": w.owner_id, "kpis": kpis,
        "milestones": w.milestones.len(), "actions": w.action_ids.len(), "themes": w.themes})
}

/// Create a project as `p`; audited.
pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &ProjectInput,
) -> ApiResult<QiProject> {
    let (h, d) = placement(st, p, b.hospital_id, b.department_id).await?;
    st.authorize(
        p,
        ctx,
        Resource::QiProject,
        Action::Create,
        obj_of(h, d),
        None,
    )
    .await?;
    let w = validate(st, p, b, h, d).await?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let project = store::insert(&mut tx, &w, Some(p.user_id()), Utc::now()).await?;
    let e = AppState::entry(
        p,
        ctx,
        "qi_project.create",
        "qi_project",
        &project.id.to_string(),
        Some(&h.to_string()),
        summary_of(&project),
    );
    commit_audited(tx, &e).await?;
    Ok(project)
}

#[utoipa::path(post, path = "/api/qi/projects", tag = "qi", request_body = ProjectInput,
    responses((status = 201, body = QiProject), (status = 403), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn create_project(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<ProjectInput>,
) -> ApiResult<(StatusCode, Json<QiProject>)> {
    Ok((StatusCode::CREATED, Json(create(&st, &p, &ctx, &b).await?)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ProjectQuery {
    pub status: Option<String>,
}

/// Projects in `p`'s scope.
pub async fn list(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    status: Option<&str>,
) -> ApiResult<Vec<QiProject>> {
    st.authorize(
        p,
        ctx,
        Resource::QiProject,
        Action::Read,
        own_scope(p),
        None,
    )
    .await?;
    let f = crate::filter(p);
    let status = status.filter(|s| ProjectStatus::parse(s).is_some());
    Ok(st
        .db
        .qi_projects(f.hospital_id.as_deref(), f.department_id.as_deref(), status)
        .await?)
}

#[utoipa::path(get, path = "/api/qi/projects", tag = "qi", params(ProjectQuery),
    responses((status = 200, body = Vec<QiProject>, description = "Projects in scope, most recently changed first"), (status = 403)), security(("bearer" = [])))]
pub async fn list_projects(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<ProjectQuery>,
) -> ApiResult<Json<Vec<QiProject>>> {
    Ok(Json(list(&st, &p, &ctx, q.status.as_deref()).await?))
}

/// A project in scope for `action`, else 404/403.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Action,
) -> ApiResult<QiProject> {
    let x = st.db.qi_project(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::QiProject,
        action,
        obj_of(x.hospital_id, x.department_id),
        Some(&id.to_string()),
    )
    .await?;
    Ok(x)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectDetail {
    pub project: QiProject,
    pub cycles: Vec<PdsaCycle>,
}

#[utoipa::path(get, path = "/api/qi/projects/{id}", tag = "qi",
    responses((status = 200, body = ProjectDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_project(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ProjectDetail>> {
    let project = load(&st, &p, &ctx, id, Action::Read).await?;
    Ok(Json(ProjectDetail {
        cycles: st.db.qi_cycles(id).await?,
        project,
    }))
}

/// Replace a project's fields as `p` (it stays in its hospital); audited.
pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &ProjectInput,
) -> ApiResult<QiProject> {
    let cur = load(st, p, ctx, id, Action::Update).await?;
    if b.hospital_id.is_some_and(|h| h != cur.hospital_id) {
        return Err(field("hospital_id", "a project stays in its hospital"));
    }
    let d = b.department_id.or(cur.department_id);
    if let Some(dep) = d {
        crate::authorize_move(
            st,
            p,
            ctx,
            Resource::QiProject,
            &cur.hospital_id.to_string(),
            &dep.to_string(),
            &id.to_string(),
        )
        .await?;
    }
    let w = validate(st, p, b, cur.hospital_id, d).await?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let project = store::update(&mut tx, id, &w, Utc::now()).await?;
    let e = AppState::entry(
        p,
        ctx,
        "qi_project.update",
        "qi_project",
        &id.to_string(),
        Some(&cur.hospital_id.to_string()),
        summary_of(&project),
    );
    commit_audited(tx, &e).await?;
    Ok(project)
}

#[utoipa::path(put, path = "/api/qi/projects/{id}", tag = "qi", request_body = ProjectInput,
    responses((status = 200, body = QiProject), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn put_project(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<ProjectInput>,
) -> ApiResult<Json<QiProject>> {
    Ok(Json(update(&st, &p, &ctx, id, &b).await?))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CycleInput {
    /// What this cycle tests (1-200 characters).
    pub title: String,
}

/// Start a PDSA cycle (in Plan) as `p`; audited.
pub async fn add_cycle(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &CycleInput,
) -> ApiResult<PdsaCycle> {
    let x = load(st, p, ctx, id, Action::Update).await?;
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(field("title", "is required (1-200 characters)"));
    }
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let c = store::add_cycle(&mut tx, id, title, Utc::now()).await?;
    let e = AppState::entry(
        p,
        ctx,
        "qi_project.cycle.create",
        "qi_project",
        &id.to_string(),
        Some(&x.hospital_id.to_string()),
        serde_json::json!({"cycle_id": c.id, "seq": c.seq}),
    );
    commit_audited(tx, &e).await?;
    Ok(c)
}

#[utoipa::path(post, path = "/api/qi/projects/{id}/cycles", tag = "qi", request_body = CycleInput,
    responses((status = 201, body = PdsaCycle), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn post_cycle(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<CycleInput>,
) -> ApiResult<(StatusCode, Json<PdsaCycle>)> {
    Ok((
        StatusCode::CREATED,
        Json(add_cycle(&st, &p, &ctx, id, &b).await?),
    ))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CycleCommand {
    /// `start_do` (the plan is written), `start_study` (the test is done), `start_act` (the
    /// study is done) or `close` (with `decision`).
    pub command: String,
    /// `adopt`, `adapt` or `abandon`, for `close`.
    pub decision: Option<String>,
    /// What the stage being left recorded: the plan, the observations, the learning, the
    /// reason for the decision (1-2000 characters).
    pub note: String,
}

/// Move a cycle one stage on with the domain's machine as `p`; audited.
pub async fn move_cycle(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    cycle: Uuid,
    b: &CycleCommand,
) -> ApiResult<PdsaCycle> {
    let x = load(st, p, ctx, id, Action::Update).await?;
    let mut c = st.db.pool.acquire().await.map_err(tx_err)?;
    let cur = store::cycle(&mut c, cycle).await?;
    drop(c);
    if cur.project_id != id {
        return Err(ApiError::NotFound);
    }
    let command = match b.command.as_str() {
        "start_do" => PdsaCommand::StartDo,
        "start_study" => PdsaCommand::StartStudy,
        "start_act" => PdsaCommand::StartAct,
        "close" => PdsaCommand::Close(
            b.decision
                .as_deref()
                .and_then(ActDecision::parse)
                .ok_or_else(|| field("decision", "must be adopt, adapt or abandon"))?,
        ),
        _ => return Err(field("command", "is not a known command")),
    };
    let from = cur
        .domain_stage()
        .ok_or_else(|| ApiError::internal("stored PDSA stage"))?;
    let next = from.apply(command, &b.note).map_err(|e| match e {
        px360_domain::qi::pdsa::PdsaError::NoteRequired => field("note", e.code()),
        other => ApiError::Conflict(other.code().into()),
    })?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let moved = store::advance(&mut tx, cycle, from, next, command, &b.note, Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => ApiError::Conflict(m),
            e => e.into(),
        })?;
    let e = AppState::entry(
        p,
        ctx,
        "qi_project.cycle.move",
        "qi_project",
        &id.to_string(),
        Some(&x.hospital_id.to_string()),
        serde_json::json!({"cycle_id": cycle, "from": from.name(), "to": next.name(), "decision": moved.decision}),
    );
    commit_audited(tx, &e).await?;
    Ok(moved)
}

#[utoipa::path(post, path = "/api/qi/projects/{id}/cycles/{cycle_id}/transitions", tag = "qi", request_body = CycleCommand,
    responses((status = 200, body = PdsaCycle), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn post_cycle_transition(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path((id, cycle_id)): Path<(Uuid, Uuid)>,
    Json(b): Json<CycleCommand>,
) -> ApiResult<Json<PdsaCycle>> {
    Ok(Json(move_cycle(&st, &p, &ctx, id, cycle_id, &b).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, put_project))
        .routes(routes!(post_cycle))
        .routes(routes!(post_cycle_transition))
        .routes(routes!(crate::qi_chart::get_run_chart))
        .routes(routes!(crate::qi_chart::get_summary))
}
