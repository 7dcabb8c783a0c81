//! Departments of a hospital: list, create, update, delete (refused while dependents live; accounts scoped to it deactivated).

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::filter;
use crate::obj_of;
use crate::own_scope;
use crate::scoped::{self, Audit, Checks, Scoped};
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use px360_domain::event::FieldError;
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_store::org::DepartmentChanges;
use px360_store::org::DepartmentRow;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_department;
use px360_store::org::update_department as store_update_department;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// A department as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Department {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub code: String,
    pub name: String,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<DepartmentRow> for Department {
    fn from(d: DepartmentRow) -> Self {
        Self {
            id: d.id,
            hospital_id: d.hospital_id,
            code: d.code,
            name: d.name,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

impl Scoped for DepartmentRow {
    const RESOURCE: Resource = Resource::Department;
    const KIND: &'static str = "department";
    const TABLE: SoftDeletable = SoftDeletable::Department;
    fn id(&self) -> Uuid {
        self.id
    }
    fn hospital(&self) -> Uuid {
        self.hospital_id
    }
    /// Departments are managed at hospital level (Hospital Admin and above; the permission
    /// table has no department-scoped role that high). The department itself is the object's
    /// location, so its own staff, who can see it, are told 403 rather than 404.
    fn location(&self) -> ObjectScope {
        obj_of(self.hospital_id, Some(self.id))
    }
}

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
    let rows = st.db.departments(&filter(&p)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewDepartment {
    pub hospital_id: Option<String>,
    pub code: String,
    pub name: String,
}

/// Create a department in a hospital (the caller's own when none is named).
pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &NewDepartment,
) -> ApiResult<DepartmentRow> {
    let hospital = b
        .hospital_id
        .clone()
        .or_else(|| p.scope().hospital_id().map(|h| h.to_string()))
        .ok_or_else(|| ApiError::Validation(vec![FieldError::new("hospital_id", "is required")]))?;
    st.authorize(
        p,
        ctx,
        Resource::Department,
        Action::Create,
        crate::obj(&hospital, None),
        Some(&hospital),
    )
    .await?;
    Checks::new()
        .require("code", &b.code)
        .require("name", &b.name)
        .finish()?;
    let h = st.db.hospital(&hospital).await?;
    let mut tx = scoped::begin(st).await?;
    let d = insert_department(&mut *tx, &hospital, &b.code, &b.name).await?;
    let a = Audit {
        action: "create",
        id: d.id,
        hospital: h.id,
        changes: serde_json::json!({"code": d.code, "name": d.name}),
    };
    scoped::commit(tx, p, ctx, &d, a).await?;
    Ok(d)
}

#[utoipa::path(post, path = "/api/departments", tag = "organisation", request_body = NewDepartment, responses((status = 201, body = Department)), security(("bearer" = [])))]
pub async fn create_department(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewDepartment>,
) -> ApiResult<(StatusCode, Json<Department>)> {
    let d = create(&st, &p, &ctx, &b).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// Load a department for `action` through the gate.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<DepartmentRow> {
    scoped::load(st, p, ctx, id, action, st.db.department(id).await).await
}

/// Rename a department (its code is its stable external key).
pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    c: &DepartmentChanges,
) -> ApiResult<DepartmentRow> {
    let d = load(st, p, ctx, id, Action::Update).await?;
    Checks::new().optional("name", c.name.as_deref()).finish()?;
    let mut tx = scoped::begin(st).await?;
    let updated = store_update_department(&mut *tx, id, c).await?;
    let a = Audit {
        action: "update",
        id: d.id,
        hospital: d.hospital_id,
        changes: serde_json::to_value(c).unwrap_or_default(),
    };
    scoped::commit(tx, p, ctx, &updated, a).await?;
    Ok(updated)
}

#[utoipa::path(patch, path = "/api/departments/{id}", tag = "organisation", request_body = DepartmentChanges, responses((status = 200, body = Department), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_department(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<DepartmentChanges>,
) -> ApiResult<Json<Department>> {
    Ok(Json(update(&st, &p, &ctx, &id, &c).await?.into()))
}

/// Delete a department under the dependents rule.
pub async fn delete(st: &AppState, p: &Principal, ctx: &Ctx, id: &str) -> ApiResult<()> {
    let d = load(st, p, ctx, id, Action::Delete).await?;
    scoped::delete(st, p, ctx, &d).await
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
    delete(&st, &p, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_departments, create_department))
        .routes(routes!(update_department, delete_department))
}
