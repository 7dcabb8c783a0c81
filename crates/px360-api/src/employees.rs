//! Employees: department-scoped staff records (read 20, create/update/delete 60).

use crate::auth::{Authed, Ctx};
use crate::authorize_move;
use crate::error::{ApiError, ApiResult};
use crate::scoped::{self, Audit, Checks, Scoped};
use crate::{AppState, filter, obj_of, own_scope, set_fields};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::employees::{EmployeeChanges, EmployeeRow, NewEmployee};
use px360_store::org::SoftDeletable;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// An employee as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Employee {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Uuid,
    pub employee_number: String,
    pub given_name: String,
    pub family_name: String,
    pub job_title: Option<String>,
    pub user_id: Option<Uuid>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<EmployeeRow> for Employee {
    fn from(e: EmployeeRow) -> Self {
        Self {
            id: e.id,
            hospital_id: e.hospital_id,
            department_id: e.department_id,
            employee_number: e.employee_number,
            given_name: e.given_name,
            family_name: e.family_name,
            job_title: e.job_title,
            user_id: e.user_id,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl Scoped for EmployeeRow {
    const RESOURCE: Resource = Resource::Employee;
    const KIND: &'static str = "employee";
    const TABLE: SoftDeletable = SoftDeletable::Employee;
    fn id(&self) -> Uuid {
        self.id
    }
    fn hospital(&self) -> Uuid {
        self.hospital_id
    }
    fn location(&self) -> ObjectScope {
        obj_of(self.hospital_id, Some(self.department_id))
    }
}

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
    let rows = st.db.employees(&filter(&p)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Load an employee for `action` through the gate.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<EmployeeRow> {
    scoped::load(st, p, ctx, id, action, st.db.employee(id).await).await
}

#[utoipa::path(get, path = "/api/employees/{id}", tag = "organisation", responses((status = 200, body = Employee), (status = 404)), security(("bearer" = [])))]
pub async fn get_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(load(&st, &p, &ctx, &id, Action::Read).await?.into()))
}

/// Create an employee in a department (the department decides the hospital).
pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &NewEmployee,
) -> ApiResult<EmployeeRow> {
    let dept = crate::known_department(st, &b.department_id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Employee,
        Action::Create,
        obj_of(dept.hospital_id, Some(dept.id)),
        None,
    )
    .await?;
    Checks::new()
        .require("employee_number", &b.employee_number)
        .require("given_name", &b.given_name)
        .require("family_name", &b.family_name)
        .optional("job_title", b.job_title.as_deref())
        .finish()?;
    let mut tx = scoped::begin(st).await?;
    let e = px360_store::employees::insert(&mut *tx, &dept.hospital_id.to_string(), b).await?;
    let a = Audit {
        action: "create",
        id: e.id,
        hospital: dept.hospital_id,
        changes: serde_json::json!({"employee_number": e.employee_number, "department_id": e.department_id}),
    };
    scoped::commit(tx, p, ctx, &e, a).await?;
    Ok(e)
}

#[utoipa::path(post, path = "/api/employees", tag = "organisation", request_body = NewEmployee, responses((status = 201, body = Employee), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewEmployee>,
) -> ApiResult<(StatusCode, Json<Employee>)> {
    let e = create(&st, &p, &ctx, &b).await?;
    Ok((StatusCode::CREATED, Json(e.into())))
}

/// Update an employee; a department move stays in the hospital and in scope, a linked account
/// must belong to the same hospital.
pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    c: &EmployeeChanges,
) -> ApiResult<EmployeeRow> {
    let e = load(st, p, ctx, id, Action::Update).await?;
    Checks::new()
        .optional("given_name", c.given_name.as_deref())
        .optional("family_name", c.family_name.as_deref())
        .optional("job_title", c.job_title.as_deref())
        .finish()?;
    if let Some(d) = &c.department_id {
        authorize_move(
            st,
            p,
            ctx,
            Resource::Employee,
            &e.hospital_id.to_string(),
            d,
            id,
        )
        .await?;
    }
    if let Some(u) = &c.user_id {
        // Linking an account: it must exist and belong to the same hospital.
        let user = st.db.user(u).await.map_err(|e| match e {
            px360_store::StoreError::NotFound => {
                ApiError::Validation(vec![FieldError::new("user_id", "unknown user")])
            }
            e => e.into(),
        })?;
        if user.hospital_id != Some(e.hospital_id) {
            return Err(ApiError::Validation(vec![FieldError::new(
                "user_id",
                "belongs to another hospital",
            )]));
        }
    }
    let mut tx = scoped::begin(st).await?;
    let updated = px360_store::employees::update(&mut *tx, id, c).await?;
    let a = Audit {
        action: "update",
        id: e.id,
        hospital: e.hospital_id,
        changes: set_fields(c),
    };
    scoped::commit(tx, p, ctx, &updated, a).await?;
    Ok(updated)
}

#[utoipa::path(patch, path = "/api/employees/{id}", tag = "organisation", request_body = EmployeeChanges, responses((status = 200, body = Employee), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<EmployeeChanges>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(update(&st, &p, &ctx, &id, &c).await?.into()))
}

/// Soft-delete an employee (nothing depends on one).
pub async fn delete(st: &AppState, p: &Principal, ctx: &Ctx, id: &str) -> ApiResult<()> {
    let e = load(st, p, ctx, id, Action::Delete).await?;
    scoped::delete(st, p, ctx, &e).await
}

#[utoipa::path(delete, path = "/api/employees/{id}", tag = "organisation", responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_employee(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    delete(&st, &p, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_employees, create_employee))
        .routes(routes!(get_employee, update_employee, delete_employee))
}
