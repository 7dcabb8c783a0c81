//! Departments of a hospital: list, create, update, delete (refused while dependents live; accounts scoped to it deactivated).

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::check_optional;
use crate::commit_audited;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::filter;
use crate::obj;
use crate::own_scope;
use crate::require;
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use px360_domain::rbac::Action;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_store::StoreError;
use px360_store::dependents;
use px360_store::org::Department;
use px360_store::org::DepartmentChanges;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_department;
use px360_store::org::soft_delete;
use px360_store::org::update_department as store_update_department;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/departments", tag = "organisation", responses((status = 200, body = Vec<Department>)), security(("bearer" = [])))]
pub async fn list_departments(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<Department>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::Department,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    Ok(Json(st.db.departments(&filter(&p)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewDepartment {
    pub hospital_id: Option<String>,
    pub code: String,
    pub name: String,
}

#[utoipa::path(post, path = "/api/departments", tag = "organisation", request_body = NewDepartment, responses((status = 201, body = Department)), security(("bearer" = [])))]
pub async fn create_department(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewDepartment>,
) -> ApiResult<(StatusCode, Json<Department>)> {
    let hospital = b
        .hospital_id
        .clone()
        .or_else(|| p.scope().hospital_id().map(|h| h.to_string()))
        .ok_or_else(|| {
            ApiError::Validation(vec![px360_domain::event::FieldError::new(
                "hospital_id",
                "is required",
            )])
        })?;
    st.authorize(
        &p,
        &ctx,
        Resource::Department,
        Action::Create,
        obj(&hospital, None),
        Some(&hospital),
    )
    .await?;
    require("code", &b.code)?;
    require("name", &b.name)?;
    st.db.hospital(&hospital).await?;
    let mut tx = st
        .db
        .writer
        .begin()
        .await
        .map_err(px360_store::StoreError::from)?;
    let d = insert_department(&mut *tx, &hospital, &b.code, &b.name).await?;
    px360_store::audit::append(
        &mut tx,
        &AppState::entry(
            &p,
            &ctx,
            "create",
            "department",
            &d.id,
            Some(&hospital),
            serde_json::json!({"code": d.code, "name": d.name}),
        ),
    )
    .await?;
    tx.commit().await.map_err(px360_store::StoreError::from)?;
    Ok((StatusCode::CREATED, Json(d)))
}

async fn load_department(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<Department> {
    let d = st.db.department(id).await?;
    // Departments are managed at hospital level (Hospital Admin and above; the permission table
    // has no department-scoped role that high). The department itself is the object's location,
    // so its own staff, who can see it, are told 403 rather than 404.
    st.authorize(
        p,
        ctx,
        Resource::Department,
        action,
        obj(&d.hospital_id, Some(&d.id)),
        Some(id),
    )
    .await?;
    Ok(d)
}

#[utoipa::path(patch, path = "/api/departments/{id}", tag = "organisation", request_body = DepartmentChanges, responses((status = 200, body = Department), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_department(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<DepartmentChanges>,
) -> ApiResult<Json<Department>> {
    let d = load_department(&st, &p, &ctx, &id, Action::Update).await?;
    check_optional(&[("name", c.name.as_deref())])?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let updated = store_update_department(&mut *tx, &id, &c).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "update",
        "department",
        &id,
        Some(&d.hospital_id),
        serde_json::to_value(&c).unwrap_or_default(),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(updated))
}

/// Refused with 409 (naming them) while the department has live physicians, employees or
/// patients; otherwise soft-deleted, and the accounts scoped to it are deactivated (refresh
/// tokens revoked) in the same transaction.
#[utoipa::path(delete, path = "/api/departments/{id}", tag = "organisation", responses((status = 204), (status = 403), (status = 404), (status = 409, body = crate::error::Problem, description = "live dependents, named in `dependents`")), security(("bearer" = [])))]
pub async fn delete_department(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = load_department(&st, &p, &ctx, &id, Action::Delete).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    soft_delete(&mut *tx, SoftDeletable::Department, &id).await?;
    let blockers = dependents::department_blockers(&mut tx, &id).await?;
    if !blockers.is_empty() {
        tx.rollback().await.map_err(StoreError::from)?;
        return Err(ApiError::Dependents {
            object: "department",
            dependents: blockers,
        });
    }
    let deactivated = dependents::deactivate_department_users(&mut tx, &id).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "delete",
        "department",
        &id,
        Some(&d.hospital_id),
        serde_json::json!({"soft_delete": true, "users_deactivated": deactivated}),
    );
    commit_audited(tx, &e).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_departments, create_department))
        .routes(routes!(update_department, delete_department))
}
