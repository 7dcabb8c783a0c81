//! Journey instances: keyset-paged list and one journey with its stages.

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::filter;
use crate::obj;
use crate::own_scope;
use crate::paging::before_param;
use crate::paging::next_page_headers;
use axum::Json;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::http::header::HeaderMap;
use chrono::{DateTime, Utc};
use px360_domain::journey::{JourneyStatus, StageStatus};
use px360_domain::rbac::Action;
use px360_domain::rbac::Resource;
use px360_store::journeys as store;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// A journey's stage, as answered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageView {
    pub id: Uuid,
    pub position: i64,
    pub code: String,
    pub name: String,
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
    #[schema(value_type = String, example = "completed")]
    pub status: StageStatus,
    /// Clinical time: the `timestamp` of the event that completed the stage (UTC).
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<DateTime<Utc>>,
    /// When PX360 recorded the completion (the worker's processing moment, UTC).
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_recorded_at: Option<DateTime<Utc>>,
    pub completed_by_event_id: Option<Uuid>,
}

impl From<store::StageView> for StageView {
    fn from(s: store::StageView) -> Self {
        Self {
            id: s.id,
            position: s.position,
            code: s.code,
            name: s.name,
            completing_event_code: s.completing_event_code,
            survey_template_ref: s.survey_template_ref,
            status: s.status,
            completed_at: s.completed_at,
            completed_recorded_at: s.completed_recorded_at,
            completed_by_event_id: s.completed_by_event_id,
        }
    }
}

/// A journey with its stages, as answered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JourneyView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub encounter_id: String,
    pub template_code: String,
    #[schema(value_type = String, example = "active")]
    pub status: JourneyStatus,
    /// Clinical time: the `timestamp` of the event that started the journey (UTC).
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<Utc>,
    /// Clinical time of the event that completed the last stage (UTC).
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<DateTime<Utc>>,
    /// When PX360 recorded the start (the worker's processing moment, UTC).
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_recorded_at: Option<DateTime<Utc>>,
    /// When PX360 recorded the completion.
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_recorded_at: Option<DateTime<Utc>>,
    /// The hospital's IANA time zone, in which lists show these times.
    #[schema(example = "Asia/Riyadh")]
    pub hospital_timezone: String,
    pub stages: Vec<StageView>,
}

impl From<store::JourneyView> for JourneyView {
    fn from(j: store::JourneyView) -> Self {
        Self {
            id: j.id,
            hospital_id: j.hospital_id,
            department_id: j.department_id,
            patient_id: j.patient_id,
            encounter_id: j.encounter_id,
            template_code: j.template_code,
            status: j.status,
            started_at: j.started_at,
            completed_at: j.completed_at,
            started_recorded_at: j.started_recorded_at,
            completed_recorded_at: j.completed_recorded_at,
            hospital_timezone: j.hospital_timezone,
            stages: j.stages.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct JourneyQuery {
    pub patient_id: Option<String>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `X-Next-Cursor` header (or its `Link: rel="next"`):
    /// this page then holds the journeys started strictly before the last journey of that page.
    pub before: Option<String>,
}

#[utoipa::path(get, path = "/api/journeys", tag = "journeys", params(JourneyQuery),
    responses(
        (status = 200, body = Vec<JourneyView>, description = "Journeys in the caller's scope, newest first (start time, then id)",
         headers(
            ("Link" = String, description = "`<…?before=…&limit=…>; rel=\"next\"`: the next (older) page; absent on the last page"),
            ("X-Next-Cursor" = String, description = "The `before` value of the next page; absent on the last page"))),
        (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem, description = "`before` is not a cursor issued by this list")),
    security(("bearer" = [])))]
pub async fn list_journeys(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<JourneyQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<JourneyView>>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::Journey,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    // The scope filter comes from the principal on every page; the cursor is only a position.
    let page = st
        .db
        .journeys(&filter(&p), q.patient_id.as_deref(), before.as_ref(), limit)
        .await?;
    let headers = next_page_headers(
        "/api/journeys",
        &[("patient_id", q.patient_id.as_deref())],
        page.next.as_ref(),
        limit,
    )?;
    Ok((
        headers,
        Json(page.rows.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(get, path = "/api/journeys/{id}", tag = "journeys", responses((status = 200, body = JourneyView), (status = 404)), security(("bearer" = [])))]
pub async fn get_journey(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<JourneyView>> {
    let j = st.db.journey(&id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Journey,
        Action::Read,
        obj(
            &j.hospital_id.to_string(),
            j.department_id.map(|d| d.to_string()).as_deref(),
        ),
        Some(&id),
    )
    .await?;
    Ok(Json(j.into()))
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_journeys))
        .routes(routes!(get_journey))
}
