//! Analytics API (issue 17): KPI tiles with trends, HCAHPS item tables, breakdowns (drill-down
//! and daily series), case KPIs, physician ratings, comments and exports.
//!
//! Every endpoint resolves the request through [`scope::resolve`] (the caller's scope becomes
//! the SQL filter) and reads aggregates only, so Viewers may call all of them but the comments
//! endpoint (patient free text: Staff and up, Resource::SurveyResponse). The report builders
//! are public so the web UI renders exactly what the API answers.

pub mod account;
pub mod callcentre;
pub mod export;
pub mod reports;
pub mod scope;
pub mod voice;

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Query, State};
use reports::{
    Breakdown, BreakdownQuery, CaseReport, CommentsReport, ItemsReport, KpiReport, PhysicianReport,
};
use scope::KpiQuery;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/analytics/kpis", tag = "analytics", params(KpiQuery),
    responses((status = 200, body = KpiReport, description = "KPI tiles of the period with the trend against the previous period"),
              (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_kpis(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<KpiReport>> {
    let r = scope::resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(reports::kpis(&st, &r).await?))
}

#[utoipa::path(get, path = "/api/analytics/items", tag = "analytics", params(KpiQuery),
    responses((status = 200, body = ItemsReport, description = "HCAHPS-style top/middle/bottom box and linear mean per question, and their composite"),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_items(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<ItemsReport>> {
    let r = scope::resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(reports::items(&st, &r).await?))
}

#[utoipa::path(get, path = "/api/analytics/breakdown", tag = "analytics", params(KpiQuery, BreakdownQuery),
    responses((status = 200, body = Breakdown, description = "Survey KPIs per value of one dimension (drill-down; `by=day` is the time series)"),
              (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_breakdown(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
    Query(b): Query<BreakdownQuery>,
) -> ApiResult<Json<Breakdown>> {
    let r = scope::resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(reports::breakdown(&st, &r, &b).await?))
}

#[utoipa::path(get, path = "/api/analytics/cases", tag = "analytics", params(KpiQuery),
    responses((status = 200, body = CaseReport, description = "Complaints by category/severity/source with time to resolve, SLA compliance, action closure and overdue rates"),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_cases(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<CaseReport>> {
    let r = scope::resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(reports::cases(&st, &r).await?))
}

#[utoipa::path(get, path = "/api/analytics/physicians", tag = "analytics", params(KpiQuery),
    responses((status = 200, body = PhysicianReport, description = "Physician ratings ranked within their department; below the minimum sample: insufficient data. Role Physician: only their own"),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_physicians(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<PhysicianReport>> {
    let r = scope::resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(reports::physicians(&st, &p, &r).await?))
}

#[utoipa::path(get, path = "/api/analytics/comments", tag = "analytics", params(KpiQuery),
    responses((status = 200, body = CommentsReport, description = "Free-text answers (no patient identifiers; numbers and addresses masked below PX Coordinator). Not for Viewers; role Physician: only their own"),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_comments(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<CommentsReport>> {
    let r = scope::resolve(&st, &p, &ctx, &q).await?;
    Ok(Json(reports::comments(&st, &p, &ctx, &r).await?))
}

pub fn routes() -> OpenApiRouter<crate::AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_kpis))
        .routes(routes!(get_items))
        .routes(routes!(get_breakdown))
        .routes(routes!(get_cases))
        .routes(routes!(get_physicians))
        .routes(routes!(get_comments))
        .routes(routes!(export::get_export))
        .routes(routes!(account::put_physician_user))
        .routes(routes!(callcentre::get_call_centre))
        .routes(routes!(voice::get_themes))
        .routes(routes!(voice::get_feedback))
}
