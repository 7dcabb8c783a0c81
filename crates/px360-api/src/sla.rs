//! A hospital's SLA configuration (business calendar, policy rules) and the caller's
//! notifications. Every edit is audited and then re-evaluates every open item of the hospital,
//! so due moments, warnings and breaches follow the new calendar or targets at once.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::commit_audited;
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::sla::config::{self, Calendar, CalendarInput, Policy, PolicyInput};
use px360_store::sla::scan::Notification;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

async fn gate(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    hospital: Uuid,
    action: Action,
) -> ApiResult<()> {
    st.db.hospital(&hospital.to_string()).await?;
    st.authorize(
        p,
        ctx,
        Resource::SlaConfig,
        action,
        ObjectScope::Hospital {
            hospital_id: hospital,
        },
        Some(&hospital.to_string()),
    )
    .await
}

#[utoipa::path(get, path = "/api/hospitals/{id}/sla/calendar", tag = "sla",
    responses((status = 200, body = Calendar), (status = 404, description = "No calendar: the hospital's clocks run round the clock")), security(("bearer" = [])))]
pub async fn get_calendar(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Calendar>> {
    gate(&st, &p, &ctx, id, Action::Read).await?;
    st.db
        .sla_calendar(id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(put, path = "/api/hospitals/{id}/sla/calendar", tag = "sla", request_body = CalendarInput,
    responses((status = 200, body = Calendar, description = "Stored; every open item was re-evaluated"), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn put_calendar(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<CalendarInput>,
) -> ApiResult<Json<Calendar>> {
    gate(&st, &p, &ctx, id, Action::Update).await?;
    if let Err(reason) = b.validate() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "calendar", &reason,
        )]));
    }
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let cal = config::put_calendar(&mut tx, id, &b, Some(p.user_id())).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "sla.calendar.put",
        "sla_config",
        &id.to_string(),
        Some(&id.to_string()),
        serde_json::json!({"version": cal.version, "time_zone": cal.time_zone, "hours": cal.hours, "holidays": cal.holidays.len()}),
    );
    commit_audited(tx, &e).await?;
    let n = st.db.recompute_hospital(id, Utc::now()).await?;
    tracing::info!(hospital = %id, recomputed = n, "sla.recomputed");
    Ok(Json(cal))
}

#[utoipa::path(get, path = "/api/hospitals/{id}/sla/policies", tag = "sla",
    responses((status = 200, body = Vec<Policy>, description = "The hospital's rules; categories and severities without one use the group default")), security(("bearer" = [])))]
pub async fn list_policies(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<Policy>>> {
    gate(&st, &p, &ctx, id, Action::Read).await?;
    Ok(Json(st.db.sla_policies(id).await?))
}

#[utoipa::path(put, path = "/api/hospitals/{id}/sla/policies", tag = "sla", request_body = PolicyInput,
    responses((status = 200, body = Policy, description = "Stored (insert or replace by category and severity); every open item was re-evaluated"), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put_policy(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<PolicyInput>,
) -> ApiResult<Json<Policy>> {
    gate(&st, &p, &ctx, id, Action::Update).await?;
    if let Err(reason) = b.targets() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "policy", &reason,
        )]));
    }
    if let Some(c) = b.category_code.as_deref().filter(|c| *c != "*")
        && !st
            .db
            .complaint_categories(false)
            .await?
            .iter()
            .any(|x| x.code == c)
        && c != px360_domain::action::origin::SURVEY_CATEGORY
        // The callback queue's own category (call centre).
        && c != px360_domain::callcentre::callback::CALLBACK_CATEGORY
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "category_code",
            "unknown category",
        )]));
    }
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let pol = config::put_policy(&mut tx, id, &b, Some(p.user_id())).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "sla.policy.put",
        "sla_config",
        &id.to_string(),
        Some(&id.to_string()),
        serde_json::to_value(&pol).unwrap_or_default(),
    );
    commit_audited(tx, &e).await?;
    st.db.recompute_hospital(id, Utc::now()).await?;
    Ok(Json(pol))
}

#[utoipa::path(delete, path = "/api/hospitals/{id}/sla/policies/{policy_id}", tag = "sla",
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_policy(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path((id, policy_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    gate(&st, &p, &ctx, id, Action::Update).await?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    config::delete_policy(&mut tx, id, policy_id).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "sla.policy.delete",
        "sla_config",
        &id.to_string(),
        Some(&id.to_string()),
        serde_json::json!({"policy_id": policy_id}),
    );
    commit_audited(tx, &e).await?;
    st.db.recompute_hospital(id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/notifications", tag = "sla",
    responses((status = 200, body = Vec<Notification>, description = "The caller's newest 100 notifications")), security(("bearer" = [])))]
pub async fn my_notifications(
    State(st): State<AppState>,
    Authed(p): Authed,
) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(st.db.notifications_for(p.user_id(), 100).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_calendar, put_calendar))
        .routes(routes!(list_policies, put_policy))
        .routes(routes!(delete_policy))
        .routes(routes!(my_notifications))
}
