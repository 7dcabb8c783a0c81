//! Employees: department-scoped staff records (read 20, create/update/delete 60).

use crate::auth::{Authed, Ctx};
use crate::authorize_move;
use crate::error::{ApiError, ApiResult};
use crate::require;
use crate::{AppState, check_optional, commit_audited, filter, obj, own_scope, set_fields};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, Principal, Resource};
use px360_store::StoreError;
use px360_store::employees::{Employee, EmployeeChanges, NewEmployee};
use px360_store::org::{SoftDeletable, soft_delete};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/employees", tag = "organisation", responses((status = 200, body = Vec<Employee>)), security(("bearer" = [])))]
pub async fn list_employees(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<Employee>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::Employee,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    Ok(Json(st.db.employees(&filter(&p)).await?))
}

async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<Employee> {
    let e = st.db.employee(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Employee,
        action,
        obj(&e.hospital_id, Some(&e.department_id)),
        Some(id),
    )
    .await?;
    Ok(e)
}

#[utoipa::path(get, path = "/api/employees/{id}", tag = "organisation", responses((status = 200, body = Employee), (status = 404)), security(("bearer" = [])))]
pub async fn get_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(load(&st, &p, &ctx, &id, Action::Read).await?))
}

#[utoipa::path(post, path = "/api/employees", tag = "organisation", request_body = NewEmployee, responses((status = 201, body = Employee), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewEmployee>,
) -> ApiResult<(StatusCode, Json<Employee>)> {
    // The department decides the hospital.
    let dept = crate::known_department(&st, &b.department_id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Employee,
        Action::Create,
        obj(&dept.hospital_id, Some(&dept.id)),
        None,
    )
    .await?;
    require("employee_number", &b.employee_number)?;
    require("given_name", &b.given_name)?;
    require("family_name", &b.family_name)?;
    check_optional(&[("job_title", b.job_title.as_deref())])?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let e = px360_store::employees::insert(&mut *tx, &dept.hospital_id, &b).await?;
    let a = AppState::entry(
        &p,
        &ctx,
        "create",
        "employee",
        &e.id,
        Some(&dept.hospital_id),
        serde_json::json!({"employee_number": e.employee_number, "department_id": e.department_id}),
    );
    commit_audited(tx, &a).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

#[utoipa::path(patch, path = "/api/employees/{id}", tag = "organisation", request_body = EmployeeChanges, responses((status = 200, body = Employee), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<EmployeeChanges>,
) -> ApiResult<Json<Employee>> {
    let e = load(&st, &p, &ctx, &id, Action::Update).await?;
    check_optional(&[
        ("given_name", c.given_name.as_deref()),
        ("family_name", c.family_name.as_deref()),
        ("job_title", c.job_title.as_deref()),
    ])?;
    if let Some(d) = &c.department_id {
        authorize_move(&st, &p, &ctx, Resource::Employee, &e.hospital_id, d, &id).await?;
    }
    if let Some(u) = &c.user_id {
        // Linking an account: it must exist and belong to the same hospital.
        let user = st.db.user(u).await.map_err(|e| match e {
            px360_store::StoreError::NotFound => {
                ApiError::Validation(vec![FieldError::new("user_id", "unknown user")])
            }
            e => e.into(),
        })?;
        if user.hospital_id.map(|h| h.to_string()).as_deref() != Some(e.hospital_id.as_str()) {
            return Err(ApiError::Validation(vec![FieldError::new(
                "user_id",
                "belongs to another hospital",
            )]));
        }
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let updated = px360_store::employees::update(&mut *tx, &id, &c).await?;
    let a = AppState::entry(
        &p,
        &ctx,
        "update",
        "employee",
        &id,
        Some(&e.hospital_id),
        set_fields(&c),
    );
    commit_audited(tx, &a).await?;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/api/employees/{id}", tag = "organisation", responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let e = load(&st, &p, &ctx, &id, Action::Delete).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    soft_delete(&mut *tx, SoftDeletable::Employee, &id).await?;
    let a = AppState::entry(
        &p,
        &ctx,
        "delete",
        "employee",
        &id,
        Some(&e.hospital_id),
        serde_json::json!({"soft_delete": true}),
    );
    commit_audited(tx, &a).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_employees, create_employee))
        .routes(routes!(get_employee, update_employee, delete_employee))
}
