//! Self-service: every signed-in user, whatever their role, may change their own display name
//! and password. No RBAC gate beyond being authenticated: the object is always the caller's own
//! account, and nothing that widens access (role, scope, active state) can be changed here.

use crate::auth::{Authed, Ctx, TokenResponse};
use crate::error::{ApiError, ApiResult};
use crate::users::{User, id_text};
use crate::{AppState, commit_audited};
use axum::Json;
use axum::extract::State;
use px360_domain::event::FieldError;
use px360_store::StoreError;
use px360_store::auth::{UserChanges, UserRow, revoke_user_refresh, update_user};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Shortest password accepted (the same rule as `PATCH /api/users/{id}`).
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MyProfileChanges {
    /// 1-200 characters.
    #[schema(example = "Dr Sara Al-Harbi")]
    pub display_name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters, different from the current one.
    pub new_password: String,
}

async fn own_account(st: &AppState, p: &px360_domain::rbac::Principal) -> ApiResult<UserRow> {
    st.db
        .user(&p.user_id().to_string())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::Unauthenticated("account no longer exists"),
            other => other.into(),
        })
}

fn entry(
    p: &px360_domain::rbac::Principal,
    ctx: &Ctx,
    u: &UserRow,
    changes: serde_json::Value,
) -> px360_store::audit::AuditEntry {
    AppState::entry(
        p,
        ctx,
        "update",
        "user",
        &u.id.to_string(),
        id_text(u.hospital_id).as_deref(),
        changes,
    )
}

/// Change the caller's own display name.
#[utoipa::path(patch, path = "/api/me", tag = "auth", request_body = MyProfileChanges,
    responses((status = 200, body = User), (status = 401), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn update_me(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<MyProfileChanges>,
) -> ApiResult<Json<User>> {
    let name = b.display_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Validation(vec![FieldError::new(
            "display_name",
            "must be 1-200 characters",
        )]));
    }
    let u = own_account(&st, &p).await?;
    let changes = UserChanges {
        display_name: Some(name.to_owned()),
        ..Default::default()
    };
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let updated = update_user(&mut *tx, &u.id.to_string(), &changes, None, None).await?;
    let e = entry(
        &p,
        &ctx,
        &u,
        serde_json::json!({"fields": ["display_name"], "self_service": true}),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(updated.into()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct MyLanguage {
    /// en | ar: the language of the emails PX360 sends the caller (escalations, new actions).
    pub language: String,
}

/// Set the caller's preferred language for notification emails.
#[utoipa::path(put, path = "/api/me/language", tag = "auth", request_body = MyLanguage,
    responses((status = 204), (status = 401), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn put_my_language(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<MyLanguage>,
) -> ApiResult<axum::http::StatusCode> {
    if b.language != "en" && b.language != "ar" {
        return Err(ApiError::Validation(vec![FieldError::new(
            "language",
            "must be en or ar",
        )]));
    }
    let u = own_account(&st, &p).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    px360_store::notify_email::set_user_language(&mut tx, u.id, &b.language).await?;
    let e = entry(
        &p,
        &ctx,
        &u,
        serde_json::json!({"fields": ["language"], "language": b.language, "self_service": true}),
    );
    commit_audited(tx, &e).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Change the caller's own password. The current password is required; every refresh token of
/// the account is revoked (other sessions end at their next refresh, within the access token's
/// lifetime) and this session continues with the new token pair in the answer.
#[utoipa::path(post, path = "/api/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 200, body = TokenResponse), (status = 401), (status = 422, body = crate::error::Problem, description = "`current_password` incorrect or `new_password` too short")),
    security(("bearer" = [])))]
pub async fn change_password(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<PasswordChange>,
) -> ApiResult<Json<TokenResponse>> {
    let u = own_account(&st, &p).await?;
    let stored = u.password_hash.clone();
    let current = b.current_password.clone();
    let ok =
        tokio::task::spawn_blocking(move || px360_store::auth::verify_password(&current, &stored))
            .await
            .unwrap_or(false);
    if !ok {
        st.audit_quiet(AppState::entry(
            &p,
            &ctx,
            "password_change.refused",
            "user",
            &u.id.to_string(),
            id_text(u.hospital_id).as_deref(),
            serde_json::json!({"reason": "current password incorrect"}),
        ))
        .await;
        return Err(ApiError::Validation(vec![FieldError::new(
            "current_password",
            "is incorrect",
        )]));
    }
    let mut errs = Vec::new();
    if b.new_password.chars().count() < MIN_PASSWORD_CHARS {
        errs.push(FieldError::new(
            "new_password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    } else if b.new_password == b.current_password {
        errs.push(FieldError::new(
            "new_password",
            "must differ from the current password",
        ));
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let pw = b.new_password;
    let hash = tokio::task::spawn_blocking(move || px360_store::auth::hash_password(&pw))
        .await
        .map_err(ApiError::internal)??;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    update_user(
        &mut *tx,
        &u.id.to_string(),
        &UserChanges::default(),
        Some(&hash),
        None,
    )
    .await?;
    revoke_user_refresh(&mut *tx, &u.id.to_string()).await?;
    // Their own choice now: a reset's "change at next sign-in" is satisfied.
    px360_store::auth::set_must_change_password(&mut *tx, &u.id.to_string(), false).await?;
    let u = px360_store::auth::UserRow {
        must_change_password: false,
        ..u
    };
    let e = entry(
        &p,
        &ctx,
        &u,
        serde_json::json!({"fields": ["password"], "self_service": true}),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(st.tokens(&u, None).await?))
}

/// `GET`/`PATCH /api/me` and `POST /api/me/password`, with their OpenAPI operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(crate::auth::me, update_me))
        .routes(routes!(change_password))
        .routes(routes!(put_my_language))
}
