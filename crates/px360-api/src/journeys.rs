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
use px360_domain::rbac::Action;
use px360_domain::rbac::Resource;
use px360_store::journeys::JourneyView;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    Ok((headers, Json(page.rows)))
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
        obj(&j.hospital_id, j.department_id.as_deref()),
        Some(&id),
    )
    .await?;
    Ok(Json(j))
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_journeys))
        .routes(routes!(get_journey))
}
