//! Integration API keys: list, issue (the secret shown once), revoke.

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::obj;
use crate::own_hospital;
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::DateTime;
use chrono::Utc;
use px360_domain::event::FieldError;
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Resource;
use px360_store::auth::ApiKeyRow;
use serde::Deserialize;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// An integration API key (never its secret or hash).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
    /// Public part of the key (`px360_<prefix>_…`), to recognise it in lists.
    pub prefix: String,
    /// Permitted `source_system` values (`"*"`: any).
    pub source_systems: Vec<String>,
    pub created_by: Option<Uuid>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(k: ApiKeyRow) -> Self {
        Self {
            id: k.id,
            hospital_id: k.hospital_id,
            name: k.name,
            prefix: k.prefix,
            source_systems: k.source_systems,
            created_by: k.created_by,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[utoipa::path(get, path = "/api/api-keys", tag = "integrations", responses((status = 200, body = Vec<ApiKey>)), security(("bearer" = [])))]
pub async fn list_api_keys(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<ApiKey>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::ApiKey,
        Action::Read,
        own_hospital(&p),
        None,
    )
    .await?;
    let h = p.scope().hospital_id().map(|h| h.to_string());
    Ok(Json(
        st.db
            .api_keys(h.as_deref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewApiKey {
    pub hospital_id: Option<String>,
    pub name: String,
    /// Permitted `source_system` values (`"*"` for any).
    pub source_systems: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Shown once; only a hash is stored.
    pub api_key: String,
}

#[utoipa::path(post, path = "/api/api-keys", tag = "integrations", request_body = NewApiKey, responses((status = 201, body = IssuedApiKey)), security(("bearer" = [])))]
pub async fn create_api_key(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewApiKey>,
) -> ApiResult<(StatusCode, Json<IssuedApiKey>)> {
    let hospital = b
        .hospital_id
        .clone()
        .or_else(|| p.scope().hospital_id().map(|h| h.to_string()))
        .ok_or_else(|| ApiError::Validation(vec![FieldError::new("hospital_id", "is required")]))?;
    st.authorize(
        &p,
        &ctx,
        Resource::ApiKey,
        Action::Create,
        obj(&hospital, None),
        Some(&hospital),
    )
    .await?;
    crate::require("name", &b.name)?;
    if b.source_systems.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "source_systems",
            "must list at least one source system (or \"*\")",
        )]));
    }
    st.db.hospital(&hospital).await?;
    let issued = st
        .db
        .create_api_key(
            &hospital,
            &b.name,
            &b.source_systems,
            Some(&p.user_id().to_string()),
        )
        .await?;
    st.audit(AppState::entry(
        &p,
        &ctx,
        "create",
        "api_key",
        &issued.key.id.to_string(),
        Some(&hospital),
        serde_json::json!({"name": b.name, "source_systems": b.source_systems}),
    ))
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedApiKey {
            key: issued.key.into(),
            api_key: issued.plaintext,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/api-keys/{id}", tag = "integrations", responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_api_key(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let k = st.db.api_key(&id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::ApiKey,
        Action::Delete,
        ObjectScope::new(Some(k.hospital_id), None),
        Some(&id),
    )
    .await?;
    st.db.revoke_api_key(&id).await?;
    st.key_cache.clear();
    st.audit(AppState::entry(
        &p,
        &ctx,
        "delete",
        "api_key",
        &id,
        Some(&k.hospital_id.to_string()),
        serde_json::json!({"revoked": true}),
    ))
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}
