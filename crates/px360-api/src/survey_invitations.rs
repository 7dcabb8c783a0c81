//! Survey invitations (the recorded send decisions), their messages, and the local outbox.
//! Patient data: readable from Staff up within scope; the address each went to is shown in
//! clear only to PX Coordinator and above, masked below. The local outbox holds the links
//! themselves (anyone holding one can answer as the patient), so it needs PX Coordinator too.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::paging::{before_param, next_page_headers};
use crate::{AppState, own_scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::HeaderMap;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource, Role};
use px360_store::surveys::fallback::Fallback;
use px360_store::surveys::invitations::{Invitation, InvitationListed};
use px360_store::surveys::outbox::{LocalMessage, OutboxRow};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Addresses in clear from PX Coordinator up.
pub(crate) fn sees_contacts(p: &Principal) -> bool {
    p.role().level() >= Role::PxCoordinator.level()
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `X-Next-Cursor` header.
    pub before: Option<String>,
}

#[utoipa::path(get, path = "/api/survey-invitations", tag = "surveys", params(ListQuery),
    responses((status = 200, body = Vec<InvitationListed>, description = "Newest first; `address` masked below PX Coordinator"),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_survey_invitations(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<InvitationListed>>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyInvitation,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let page = st
        .db
        .survey_invitations(
            p.scope().hospital_id(),
            p.scope().department_id(),
            before.as_ref(),
            limit,
            sees_contacts(&p),
        )
        .await?;
    let headers = next_page_headers("/api/survey-invitations", &[], page.next.as_ref(), limit)?;
    Ok((headers, Json(page.rows)))
}

/// One invitation with its messages.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvitationDetail {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub messages: Vec<OutboxRow>,
    /// Channel fallbacks: an address refused on one channel, the next channel tried.
    pub fallbacks: Vec<Fallback>,
}

#[utoipa::path(get, path = "/api/survey-invitations/{id}", tag = "surveys",
    responses((status = 200, body = InvitationDetail), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_survey_invitation(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<InvitationDetail>> {
    let invitation = st.db.survey_invitation(id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyInvitation,
        Action::Read,
        ObjectScope::new(Some(invitation.hospital_id), None),
        Some(&id.to_string()),
    )
    .await?;
    let messages = st.db.survey_outbox_rows(id).await?;
    let fallbacks = st.db.survey_fallbacks(id).await?;
    Ok(Json(InvitationDetail {
        invitation,
        messages,
        fallbacks,
    }))
}

#[utoipa::path(get, path = "/api/survey-local-outbox", tag = "surveys", params(ListQuery),
    responses((status = 200, body = Vec<LocalMessage>, description = "Messages the embedded default delivered locally (nothing was sent anywhere), newest first"),
              (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_local_outbox(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<LocalMessage>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::SurveyInvitation,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    if !sees_contacts(&p) || p.scope().department_id().is_some() {
        return Err(ApiError::Forbidden);
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        st.db
            .survey_local_outbox(p.scope().hospital_id(), limit)
            .await?,
    ))
}

pub fn routes() -> OpenApiRouter<crate::AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_survey_invitations))
        .routes(routes!(get_survey_invitation))
        .routes(routes!(list_local_outbox))
}
