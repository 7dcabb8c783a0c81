//! `PUT /api/physicians/{id}/user`: link a physician record to the user account of that
//! physician, so that role Physician sees their own ratings and comments (and only those).
//! Managed like the physician record itself (Department Manager and up, in scope), audited as
//! `physician.link_user`.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, commit_audited};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Resource, Role};
use px360_store::StoreError;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhysicianUser {
    /// A user with role Physician in the physician's hospital; `null` unlinks.
    pub user_id: Option<Uuid>,
}

#[utoipa::path(put, path = "/api/physicians/{id}/user", tag = "analytics", request_body = PhysicianUser,
    responses((status = 204), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn put_physician_user(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<PhysicianUser>,
) -> ApiResult<StatusCode> {
    let ph = st.db.physician(&id.to_string()).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Physician,
        Action::Update,
        ObjectScope::new(Some(ph.hospital_id), Some(ph.department_id)),
        Some(&id.to_string()),
    )
    .await?;
    if let Some(u) = b.user_id {
        let bad = || ApiError::Validation(vec![FieldError::new("user_id", "must be an account with role physician in the physician's hospital")]);
        let user = match st.db.user(&u.to_string()).await {
            Ok(user) => user,
            Err(StoreError::NotFound) => return Err(bad()),
            Err(e) => return Err(e.into()),
        };
        if user.role != Role::Physician || user.hospital_id != Some(ph.hospital_id) {
            return Err(bad());
        }
    }
    let mut tx = crate::scoped::begin(&st).await?;
    px360_store::analytics::physicians::set_physician_user(&mut tx, id, b.user_id).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "physician.link_user",
        "physician",
        &id.to_string(),
        Some(&ph.hospital_id.to_string()),
        serde_json::json!({"user_id": b.user_id}),
    );
    commit_audited(tx, &e).await?;
    Ok(StatusCode::NO_CONTENT)
}
