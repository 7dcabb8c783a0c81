//! Updating and soft-deleting user accounts. The same rule as creation applies to both the
//! account as it is and as it would become: only strictly lower roles inside the caller's scope
//! (PX Admin: anyone), so nobody can raise or widen an account beyond their own.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, commit_audited, obj, set_fields};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource, Role, Scope, scope_for};
use px360_store::StoreError;
use px360_store::auth::{User, UserChanges, revoke_user_refresh, update_user as store_update_user};
use px360_store::org::{SoftDeletable, soft_delete};
use uuid::Uuid;

fn uuid_field(field: &'static str, v: &Option<String>) -> ApiResult<Option<Uuid>> {
    v.as_deref()
        .map(|s| {
            Uuid::parse_str(s)
                .map_err(|_| ApiError::Validation(vec![FieldError::new(field, "must be a UUID")]))
        })
        .transpose()
}

/// The account's role and scope as stored (rows are written only through validated paths, so a
/// mismatch is an internal error, not a client one).
fn current(u: &User) -> ApiResult<(Role, Scope)> {
    let bad = || ApiError::Internal(format!("user {} has an inconsistent role/scope", u.id));
    let role = Role::parse(&u.role).ok_or_else(bad)?;
    let h = uuid_field("hospital_id", &u.hospital_id).map_err(|_| bad())?;
    let d = uuid_field("department_id", &u.department_id).map_err(|_| bad())?;
    let scope = scope_for(role, h, d).map_err(|_| bad())?;
    Ok((role, scope))
}

fn location(u: &User) -> ObjectScope {
    match &u.hospital_id {
        None => ObjectScope::Group,
        Some(h) => obj(h, u.department_id.as_deref()),
    }
}

/// Load the target, pass the gate for `action`, then require that the caller may grant the
/// account's current role at its current scope.
async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<(User, Role, Scope)> {
    let u = st.db.user(id).await?;
    st.authorize(p, ctx, Resource::User, action, location(&u), Some(id))
        .await?;
    let (role, scope) = current(&u)?;
    if !p.may_grant(role, &scope) {
        deny(st, p, ctx, action, id).await;
        return Err(ApiError::Forbidden);
    }
    Ok((u, role, scope))
}

/// Record a denial through the gate (a group-level probe always fails for non-PX-Admins).
async fn deny(st: &AppState, p: &Principal, ctx: &Ctx, action: Action, id: &str) {
    st.authorize(p, ctx, Resource::User, action, ObjectScope::Group, Some(id))
        .await
        .ok();
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "accounts", request_body = UserChanges, responses((status = 200, body = User), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_user(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<UserChanges>,
) -> ApiResult<Json<User>> {
    // Checked before the gate: the caller's own account is always theirs to know about, and
    // the answer should say why (409), not that their role is too low (403).
    if p.user_id().to_string() == id && (is_rescope(&c) || c.is_active == Some(false)) {
        return Err(ApiError::Conflict(
            "you cannot change the role, scope or active state of your own account".into(),
        ));
    }
    let (u, _, _) = load(&st, &p, &ctx, &id, Action::Update).await?;
    let mut errs = Vec::new();
    if let Some(n) = &c.display_name
        && (n.trim().is_empty() || n.len() > 200)
    {
        errs.push(FieldError::new(
            "display_name",
            "must be 1-200 characters when given",
        ));
    }
    if c.password
        .as_ref()
        .is_some_and(|pw| pw.chars().count() < 12)
    {
        errs.push(FieldError::new(
            "password",
            "must be at least 12 characters",
        ));
    }
    let rescope = is_rescope(&c);
    let new_role = match &c.role {
        Some(r) => Role::parse(r).or_else(|| {
            errs.push(FieldError::new("role", "unknown role"));
            None
        }),
        None => Role::parse(&u.role),
    };
    let h = uuid_field("hospital_id", &c.hospital_id)
        .map_err(|e| errs.push(field_of(e)))
        .ok()
        .flatten();
    let d = uuid_field("department_id", &c.department_id)
        .map_err(|e| errs.push(field_of(e)))
        .ok()
        .flatten();
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    if p.user_id().to_string() == id && (rescope || c.is_active == Some(false)) {
        return Err(ApiError::Conflict(
            "you cannot change the role, scope or active state of your own account".into(),
        ));
    }
    let scope_cols = if rescope {
        let role = new_role.ok_or_else(|| ApiError::Internal("role vanished".into()))?;
        // A rescope names the complete new scope: absent hospital/department mean none.
        let scope = scope_for(role, h, d)
            .map_err(|e| ApiError::Validation(vec![FieldError::new("role", e.to_string())]))?;
        if let (Some(hs), Some(ds)) = (&c.hospital_id, &c.department_id) {
            let dept = st.db.department(ds).await.map_err(|_| {
                ApiError::Validation(vec![FieldError::new("department_id", "unknown department")])
            })?;
            if &dept.hospital_id != hs {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "department_id",
                    "belongs to another hospital",
                )]));
            }
        }
        if !p.may_grant(role, &scope) {
            deny(&st, &p, &ctx, Action::Update, &id).await;
            return Err(ApiError::Forbidden);
        }
        Some((c.hospital_id.as_deref(), c.department_id.as_deref()))
    } else {
        None
    };
    let hash = match c.password.clone() {
        Some(pw) => Some(
            tokio::task::spawn_blocking(move || px360_store::auth::hash_password(&pw))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??,
        ),
        None => None,
    };
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let updated = store_update_user(&mut *tx, &id, &c, hash.as_deref(), scope_cols).await?;
    // Sessions end when the password, the role/scope or the active state change; access tokens
    // already issued stay valid for their remaining lifetime (at most 10 minutes).
    if hash.is_some() || rescope || c.is_active == Some(false) {
        revoke_user_refresh(&mut *tx, &id).await?;
    }
    let mut changes = set_fields(&c);
    if let Some(r) = &c.role {
        changes["role"] = serde_json::json!(r);
    }
    let e = AppState::entry(
        &p,
        &ctx,
        "update",
        "user",
        &id,
        updated.hospital_id.as_deref().or(u.hospital_id.as_deref()),
        changes,
    );
    commit_audited(tx, &e).await?;
    Ok(Json(updated))
}

fn is_rescope(c: &UserChanges) -> bool {
    c.role.is_some() || c.hospital_id.is_some() || c.department_id.is_some()
}

fn field_of(e: ApiError) -> FieldError {
    match e {
        ApiError::Validation(mut v) if !v.is_empty() => v.remove(0),
        _ => FieldError::new("body", "invalid"),
    }
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "accounts", responses((status = 204), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn delete_user(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if p.user_id().to_string() == id {
        return Err(ApiError::Conflict(
            "you cannot delete your own account".into(),
        ));
    }
    let (u, _, _) = load(&st, &p, &ctx, &id, Action::Delete).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    soft_delete(&mut *tx, SoftDeletable::User, &id).await?;
    revoke_user_refresh(&mut *tx, &id).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "delete",
        "user",
        &id,
        u.hospital_id.as_deref(),
        serde_json::json!({"soft_delete": true, "username": u.username}),
    );
    commit_audited(tx, &e).await?;
    Ok(StatusCode::NO_CONTENT)
}
