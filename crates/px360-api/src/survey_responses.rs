//! Survey responses (answers, scores, the negative flag) and the survey domain events. Patient
//! data: readable from Staff up within scope.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::paging::{before_param, next_page_headers};
use crate::survey_invitations::ListQuery;
use crate::{AppState, own_scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::HeaderMap;
use px360_domain::rbac::{Action, ObjectScope, Resource};
use px360_store::surveys::responses::{SurveyEvent, SurveyResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

#[utoipa::path(get, path = "/api/survey-responses", tag = "surveys", params(ListQuery),
    responses((status = 200, body = Vec<SurveyResponse>, description = "Newest first (last change)"),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_survey_responses(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<SurveyResponse>>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyResponse,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let page = st
        .db
        .survey_responses(
            p.scope().hospital_id(),
            p.scope().department_id(),
            before.as_ref(),
            limit,
        )
        .await?;
    let headers = next_page_headers("/api/survey-responses", &[], page.next.as_ref(), limit)?;
    Ok((headers, Json(page.rows)))
}

#[utoipa::path(get, path = "/api/survey-responses/{id}", tag = "surveys",
    responses((status = 200, body = SurveyResponse), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_survey_response(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SurveyResponse>> {
    let r = st.db.survey_response(id).await?;
    // Placed where the list places it (the journey's department, or the phone call's), so a
    // department's reader opens what its list shows and nothing else.
    let department = st.db.invitation_department(r.invitation_id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyResponse,
        Action::Read,
        ObjectScope::new(Some(r.hospital_id), department),
        Some(&id.to_string()),
    )
    .await?;
    Ok(Json(r))
}

#[utoipa::path(get, path = "/api/survey-events", tag = "surveys", params(ListQuery),
    responses((status = 200, body = Vec<SurveyEvent>, description = "Survey domain events (a negative response), newest first")),
    security(("bearer" = [])))]
pub async fn list_survey_events(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<SurveyEvent>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyResponse,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    // Events are per hospital: a department-scoped reader sees none it could not place.
    if p.scope().department_id().is_some() {
        return Err(ApiError::Forbidden);
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        st.db.survey_events(p.scope().hospital_id(), limit).await?,
    ))
}

pub fn routes() -> OpenApiRouter<crate::AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_survey_responses))
        .routes(routes!(get_survey_response))
        .routes(routes!(list_survey_events))
}
