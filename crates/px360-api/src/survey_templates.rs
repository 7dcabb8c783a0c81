//! Survey templates: list, read, create, edit, preview, publish (freezes a version), archive.
//! Readable by everyone whose scope reaches them (organisation data, no patient data); changed
//! by PX Coordinator and above of the owning hospital, group-wide ones by PX Admin. Every change
//! is audited by the store in the transaction that makes it.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, own_scope};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_domain::survey::content::{Issue, SurveyContent};
use px360_domain::survey::lifecycle::LifecycleError;
use px360_domain::survey::publish::PublishError;
use px360_store::surveys::Actor;
use px360_store::surveys::templates::{
    NewSurveyTemplate, SurveyTemplate, SurveyTemplateChanges, SurveyTemplateError,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) fn actor(p: &Principal, ctx: &Ctx) -> Actor {
    Actor {
        actor_type: "user",
        actor_id: Some(p.user_id().to_string()),
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
    }
}

fn location(hospital: Option<Uuid>) -> ObjectScope {
    match hospital {
        None => ObjectScope::Group,
        Some(h) => ObjectScope::new(Some(h), None),
    }
}

/// Reads: group-wide templates and the caller's own hospital's are in everyone's scope.
fn read_location(p: &Principal, hospital: Option<Uuid>) -> ObjectScope {
    match hospital {
        None => own_scope(p),
        Some(h) if p.scope().hospital_id() == Some(h) => own_scope(p),
        Some(h) => ObjectScope::new(Some(h), None),
    }
}

impl From<SurveyTemplateError> for ApiError {
    fn from(e: SurveyTemplateError) -> Self {
        match e {
            SurveyTemplateError::Store(e) => e.into(),
            SurveyTemplateError::Lifecycle(LifecycleError::Archived) => {
                ApiError::Conflict("the template is archived".into())
            }
            SurveyTemplateError::Lifecycle(LifecycleError::AlreadyPublished) => ApiError::Conflict(
                "this version is already published; edit to start a new draft".into(),
            ),
            SurveyTemplateError::Lifecycle(LifecycleError::Publish(PublishError::Invalid(
                issues,
            ))) => ApiError::Validation(issue_fields(&issues)),
            SurveyTemplateError::Lifecycle(LifecycleError::Publish(PublishError::BadVersion)) => {
                ApiError::Conflict("bad version".into())
            }
        }
    }
}

/// Issues as field errors: `questions.<key>[.<option>]` or `survey`, the message being the
/// issue code (the editor translates it).
fn issue_fields(issues: &[Issue]) -> Vec<FieldError> {
    issues
        .iter()
        .map(|i| {
            let field = match (&i.question, &i.option) {
                (Some(q), Some(o)) => format!("questions.{}.{}", q.as_str(), o.as_str()),
                (Some(q), None) => format!("questions.{}", q.as_str()),
                _ => "survey".to_owned(),
            };
            let code = serde_json::to_value(i)
                .ok()
                .and_then(|v| {
                    let c = v.get("code")?.as_str()?.to_owned();
                    Some(match v.get("detail").and_then(|d| d.as_str()) {
                        Some(d) => format!("{c}:{d}"),
                        None => c,
                    })
                })
                .unwrap_or_else(|| "invalid".into());
            FieldError::new(field, code)
        })
        .collect()
}

async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Action,
) -> ApiResult<SurveyTemplate> {
    let t = st.db.survey_template(id).await?;
    let loc = match action {
        Action::Read => read_location(p, t.hospital_id),
        _ => location(t.hospital_id),
    };
    st.authorize(
        p,
        ctx,
        Resource::SurveyTemplate,
        action,
        loc,
        Some(&id.to_string()),
    )
    .await?;
    Ok(t)
}

#[utoipa::path(get, path = "/api/survey-templates", tag = "surveys",
    responses((status = 200, body = Vec<SurveyTemplate>, description = "Group-wide templates and the caller's hospital's")),
    security(("bearer" = [])))]
pub async fn list_survey_templates(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<SurveyTemplate>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyTemplate,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    Ok(Json(st.db.survey_templates(p.scope().hospital_id()).await?))
}

#[utoipa::path(get, path = "/api/survey-templates/{id}", tag = "surveys",
    responses((status = 200, body = SurveyTemplate), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_survey_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SurveyTemplate>> {
    Ok(Json(load(&st, &p, &ctx, id, Action::Read).await?))
}

#[utoipa::path(post, path = "/api/survey-templates", tag = "surveys", request_body = NewSurveyTemplate,
    responses((status = 201, body = SurveyTemplate), (status = 403, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem, description = "The code is taken in this scope"),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create_survey_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(mut b): Json<NewSurveyTemplate>,
) -> ApiResult<(StatusCode, Json<SurveyTemplate>)> {
    // Hospital-scoped callers create in their own hospital unless they name it.
    if b.hospital_id.is_none() {
        b.hospital_id = p.scope().hospital_id();
    }
    // The named hospital is the object: one the caller cannot see at all answers 404, as a
    // department created in another hospital does.
    let hospital = b.hospital_id.map(|h| h.to_string());
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyTemplate,
        Action::Create,
        location(b.hospital_id),
        hospital.as_deref(),
    )
    .await?;
    let t = st
        .db
        .create_survey_template(&actor(&p, &ctx), &b)
        .await
        .map_err(|e| match e {
            px360_store::StoreError::Constraint(v)
                if v.kind == px360_store::constraint::ViolationKind::Unique =>
            {
                ApiError::FieldConflict {
                    field: "code".into(),
                    message: "is already used by another survey template in this scope".into(),
                }
            }
            e => e.into(),
        })?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(patch, path = "/api/survey-templates/{id}", tag = "surveys", request_body = SurveyTemplateChanges,
    responses((status = 200, body = SurveyTemplate, description = "New content on a published template opens the next version's draft"),
              (status = 409, body = crate::error::Problem, description = "Archived")),
    security(("bearer" = [])))]
pub async fn update_survey_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<SurveyTemplateChanges>,
) -> ApiResult<Json<SurveyTemplate>> {
    load(&st, &p, &ctx, id, Action::Update).await?;
    Ok(Json(
        st.db
            .update_survey_template(&actor(&p, &ctx), id, &b)
            .await?,
    ))
}

/// The outcome of a preview: the content as patients would see it and what still blocks
/// publishing.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preview {
    #[schema(value_type = Object)]
    pub content: SurveyContent,
    pub publishable: bool,
    #[schema(value_type = Vec<Object>)]
    pub issues: Vec<serde_json::Value>,
}

#[utoipa::path(post, path = "/api/survey-templates/{id}/preview", tag = "surveys",
    responses((status = 200, body = Preview)), security(("bearer" = [])))]
pub async fn preview_survey_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Preview>> {
    let t = load(&st, &p, &ctx, id, Action::Read).await?;
    let issues = t.content.publish_issues();
    Ok(Json(Preview {
        publishable: issues.is_empty(),
        issues: issues
            .iter()
            .filter_map(|i| serde_json::to_value(i).ok())
            .collect(),
        content: t.content,
    }))
}

/// A published version.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Published {
    pub template: SurveyTemplate,
    pub version_id: Uuid,
    pub version: u32,
    pub content_hash: String,
}

#[utoipa::path(post, path = "/api/survey-templates/{id}/publish", tag = "surveys",
    responses((status = 200, body = Published),
              (status = 409, body = crate::error::Problem, description = "Archived, or this version is already published"),
              (status = 422, body = crate::error::Problem, description = "Not ready: each issue names its question (and option) and a code")),
    security(("bearer" = [])))]
pub async fn publish_survey_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Published>> {
    load(&st, &p, &ctx, id, Action::Update).await?;
    let (template, v) = st.db.publish_survey_template(&actor(&p, &ctx), id).await?;
    Ok(Json(Published {
        template,
        version_id: v.id,
        version: v.version,
        content_hash: v.survey.content_hash().to_owned(),
    }))
}

#[utoipa::path(post, path = "/api/survey-templates/{id}/archive", tag = "surveys",
    responses((status = 200, body = SurveyTemplate), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn archive_survey_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SurveyTemplate>> {
    load(&st, &p, &ctx, id, Action::Update).await?;
    Ok(Json(
        st.db.archive_survey_template(&actor(&p, &ctx), id).await?,
    ))
}

pub fn routes() -> OpenApiRouter<crate::AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_survey_templates, create_survey_template))
        .routes(routes!(get_survey_template, update_survey_template))
        .routes(routes!(preview_survey_template))
        .routes(routes!(publish_survey_template))
        .routes(routes!(archive_survey_template))
}
