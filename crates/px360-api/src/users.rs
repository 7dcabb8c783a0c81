//! User accounts: the `User` JSON type (built from the store's typed row, which carries the
//! password hash; this type has no field for it), list, create, update and soft delete. The
//! same rule applies to creation, update and deletion, for the account as it is and as it would
//! become: only strictly lower roles inside the caller's scope (PX Admin: anyone), so nobody can
//! raise or widen an account beyond their own.

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::commit_audited;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::error::OnConstraint;
use crate::filter;
use crate::own_scope;
use crate::set_fields;
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::DateTime;
use chrono::Utc;
use px360_domain::event::FieldError;
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_domain::rbac::Role;
use px360_domain::rbac::Scope;
use px360_domain::rbac::scope_for;
use px360_store::StoreError;
use px360_store::auth::NewUser as NewUserRow;
use px360_store::auth::UserChanges;
use px360_store::auth::UserRow;
use px360_store::auth::insert_user;
use px360_store::auth::revoke_user_refresh;
use px360_store::auth::set_must_change_password;
use px360_store::auth::update_user as store_update_user;
use px360_store::org::SoftDeletable;
use px360_store::org::soft_delete;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    #[schema(value_type = String, example = "hospital_admin")]
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub is_active: bool,
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            role: u.role,
            hospital_id: u.hospital_id,
            department_id: u.department_id,
            is_active: u.is_active,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A new account as a request gives it (validated into the store's typed `NewUser`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password: String,
    #[schema(example = "nurse")]
    pub role: String,
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
    /// The user must choose their own password at their first sign-in (the web form's accounts
    /// get an initial password from an administrator). Default `false`.
    #[serde(default)]
    pub must_change_password: bool,
}

/// The roles `p` may grant at some scope (strictly lower than their own, PX Admin: any): what
/// a form offers. The chosen role and scope are checked again on submit.
pub fn grantable_roles(p: &Principal) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| {
            // Any hospital/department inside the caller's own scope will do: a placeholder
            // stands for "one of theirs" below the level the caller is scoped at.
            let h = p.scope().hospital_id().unwrap_or(Uuid::nil());
            let d = p.scope().department_id().unwrap_or(Uuid::nil());
            [
                scope_for(*r, None, None),
                scope_for(*r, Some(h), None),
                scope_for(*r, Some(h), Some(d)),
            ]
            .into_iter()
            .flatten()
            .any(|s| p.may_grant(*r, &s))
        })
        .collect()
}

/// Optional id as the audit log and the text-keyed store queries take it.
pub(crate) fn id_text(id: Option<Uuid>) -> Option<String> {
    id.map(|u| u.to_string())
}

#[utoipa::path(get, path = "/api/users", tag = "accounts", responses((status = 200, body = Vec<User>)), security(("bearer" = [])))]
pub async fn list_users(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<User>>> {
    st.authorize(&p, &ctx, Resource::User, Action::Read, own_scope(&p), None)
        .await?;
    Ok(Json(
        st.db
            .users(&filter(&p))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/users", tag = "accounts", request_body = NewUser, responses((status = 201, body = User), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_user(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(u): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let created = create(&st, &p, &ctx, &u).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Create an account: the API's and the web form's one path (same checks, grant rule, audit).
pub async fn create(st: &AppState, p: &Principal, ctx: &Ctx, u: &NewUser) -> ApiResult<UserRow> {
    st.authorize(p, ctx, Resource::User, Action::Create, own_scope(p), None)
        .await?;
    let mut errs = Vec::new();
    if u.display_name.trim().is_empty() || u.display_name.len() > 200 {
        errs.push(FieldError::new(
            "display_name",
            "is required (1-200 characters)",
        ));
    }
    let role = Role::parse(&u.role);
    if role.is_none() {
        errs.push(FieldError::new("role", "unknown role"));
    }
    if u.password.chars().count() < 12 {
        errs.push(FieldError::new(
            "password",
            "must be at least 12 characters",
        ));
    }
    if u.username.trim().is_empty() || u.username.len() > 64 {
        errs.push(FieldError::new("username", "is required (1-64 characters)"));
    }
    let parse = |f: &'static str, v: &Option<String>, errs: &mut Vec<FieldError>| match v {
        None => None,
        Some(s) => Uuid::parse_str(s)
            .map_err(|_| errs.push(FieldError::new(f, "must be a UUID")))
            .ok(),
    };
    let hid = parse("hospital_id", &u.hospital_id, &mut errs);
    let did = parse("department_id", &u.department_id, &mut errs);
    let Some(role) = role.filter(|_| errs.is_empty()) else {
        return Err(ApiError::Validation(errs));
    };
    let scope = scope_for(role, hid, did)
        .map_err(|e| ApiError::Validation(vec![FieldError::new("role", e.to_string())]))?;
    if let (Some(h), Some(d)) = (&u.hospital_id, &u.department_id) {
        let dept = crate::known_department(st, d).await?;
        if &dept.hospital_id.to_string() != h {
            return Err(ApiError::Validation(vec![FieldError::new(
                "department_id",
                "belongs to another hospital",
            )]));
        }
    }
    if !p.may_grant(role, &scope) {
        st.authorize(
            p,
            ctx,
            Resource::User,
            Action::Create,
            px360_domain::rbac::ObjectScope::Group,
            Some("grant"),
        )
        .await
        .ok();
        return Err(ApiError::Forbidden);
    }
    let pw = u.password.clone();
    let hash = tokio::task::spawn_blocking(move || px360_store::auth::hash_password(&pw))
        .await
        .map_err(ApiError::internal)??;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let row = NewUserRow {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        role,
        hospital_id: hid,
        department_id: did,
    };
    let created =
        insert_user(&mut *tx, &row, &hash)
            .await
            .on_constraint("users.username", |_| ApiError::FieldConflict {
                field: "username".into(),
                message: "is taken".into(),
            })?;
    if u.must_change_password {
        set_must_change_password(&mut *tx, &created.id.to_string(), true).await?;
    }
    px360_store::audit::append(
        &mut tx,
        &AppState::entry(
            p,
            ctx,
            "create",
            "user",
            &created.id.to_string(),
            crate::users::id_text(created.hospital_id).as_deref(),
            serde_json::json!({"username": created.username, "role": created.role, "department_id": created.department_id, "must_change_password": u.must_change_password}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(UserRow {
        must_change_password: created.must_change_password || u.must_change_password,
        ..created
    })
}

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
fn current(u: &UserRow) -> ApiResult<(Role, Scope)> {
    let scope = scope_for(u.role, u.hospital_id, u.department_id)
        .map_err(|_| ApiError::internal(format!("user {} has an inconsistent role/scope", u.id)))?;
    Ok((u.role, scope))
}

fn location(u: &UserRow) -> ObjectScope {
    ObjectScope::new(u.hospital_id, u.department_id)
}

/// Load the target, pass the gate for `action`, then require that the caller may grant the
/// account's current role at its current scope.
async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<(UserRow, Role, Scope)> {
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
    Ok(Json(update(&st, &p, &ctx, &id, &c).await?.into()))
}

/// Change an account: the API's and the web form's one path. A new password set by someone
/// else (an administrator's reset) must be changed by the user at their next sign-in.
pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    c: &UserChanges,
) -> ApiResult<UserRow> {
    let (st, p, ctx, id, c) = (st, *p, ctx, id.to_owned(), c);
    // Checked before the gate: the caller's own account is always theirs to know about, and
    // the answer should say why (409), not that their role is too low (403).
    if p.user_id().to_string() == id && (is_rescope(c) || c.is_active == Some(false)) {
        return Err(ApiError::Conflict(
            "you cannot change the role, scope or active state of your own account".into(),
        ));
    }
    let (u, _, _) = load(st, &p, ctx, &id, Action::Update).await?;
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
    let rescope = is_rescope(c);
    let new_role = match &c.role {
        Some(r) => Role::parse(r).or_else(|| {
            errs.push(FieldError::new("role", "unknown role"));
            None
        }),
        None => Some(u.role),
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
        let role = new_role.ok_or_else(|| ApiError::internal("role vanished"))?;
        // A rescope names the complete new scope: absent hospital/department mean none.
        let scope = scope_for(role, h, d)
            .map_err(|e| ApiError::Validation(vec![FieldError::new("role", e.to_string())]))?;
        if let (Some(hs), Some(ds)) = (&c.hospital_id, &c.department_id) {
            let dept = crate::known_department(st, ds).await?;
            if &dept.hospital_id.to_string() != hs {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "department_id",
                    "belongs to another hospital",
                )]));
            }
        }
        if !p.may_grant(role, &scope) {
            deny(st, &p, ctx, Action::Update, &id).await;
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
                .map_err(ApiError::internal)??,
        ),
        None => None,
    };
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let updated = store_update_user(&mut *tx, &id, c, hash.as_deref(), scope_cols).await?;
    // Sessions end when the password, the role/scope or the active state change; access tokens
    // already issued stay valid for their remaining lifetime (at most 10 minutes).
    if hash.is_some() || rescope || c.is_active == Some(false) {
        revoke_user_refresh(&mut *tx, &id).await?;
    }
    // Someone else's new password is a reset: the user chooses their own at next sign-in.
    let reset = hash.is_some() && p.user_id().to_string() != id;
    if reset {
        set_must_change_password(&mut *tx, &id, true).await?;
    }
    let mut changes = set_fields(c);
    if reset {
        changes["must_change_password"] = serde_json::json!(true);
    }
    if let Some(r) = &c.role {
        changes["role"] = serde_json::json!(r);
    }
    let e = AppState::entry(
        &p,
        ctx,
        "update",
        "user",
        &id,
        id_text(updated.hospital_id.or(u.hospital_id)).as_deref(),
        changes,
    );
    commit_audited(tx, &e).await?;
    Ok(UserRow {
        must_change_password: updated.must_change_password || reset,
        ..updated
    })
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
    delete(&st, &p, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Soft-delete an account (never one's own) and end its sessions.
pub async fn delete(st: &AppState, p: &Principal, ctx: &Ctx, id: &str) -> ApiResult<()> {
    if p.user_id().to_string() == id {
        return Err(ApiError::Conflict(
            "you cannot delete your own account".into(),
        ));
    }
    let (u, _, _) = load(st, p, ctx, id, Action::Delete).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    soft_delete(&mut *tx, SoftDeletable::User, id).await?;
    revoke_user_refresh(&mut *tx, id).await?;
    let e = AppState::entry(
        p,
        ctx,
        "delete",
        "user",
        id,
        id_text(u.hospital_id).as_deref(),
        serde_json::json!({"soft_delete": true, "username": u.username}),
    );
    commit_audited(tx, &e).await
}

/// Load an account for `action`: the gate, then the grant rule (only accounts the caller could
/// have created are theirs to change).
pub async fn load_for(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<UserRow> {
    load(st, p, ctx, id, action).await.map(|(u, _, _)| u)
}

/// This resource's routes with their OpenAPI operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user, delete_user))
}
