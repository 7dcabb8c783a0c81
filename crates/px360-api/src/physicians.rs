//! Physicians: list, create, update (moves stay in the hospital and in scope), delete.

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::authorize_move;
use crate::error::ApiResult;
use crate::filter;
use crate::obj_of;
use crate::own_scope;
use crate::scoped::{self, Audit, Checks, Scoped};
use crate::set_fields;
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_store::org::NewPhysician;
use px360_store::org::PhysicianChanges;
use px360_store::org::PhysicianRow;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_physician;
use px360_store::org::update_physician as store_update_physician;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// A physician as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Physician {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Uuid,
    pub licence_number: String,
    pub given_name: String,
    pub family_name: String,
    pub specialty: Option<String>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<PhysicianRow> for Physician {
    fn from(p: PhysicianRow) -> Self {
        Self {
            id: p.id,
            hospital_id: p.hospital_id,
            department_id: p.department_id,
            licence_number: p.licence_number,
            given_name: p.given_name,
            family_name: p.family_name,
            specialty: p.specialty,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl Scoped for PhysicianRow {
    const RESOURCE: Resource = Resource::Physician;
    const KIND: &'static str = "physician";
    const TABLE: SoftDeletable = SoftDeletable::Physician;
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

#[utoipa::path(get, path = "/api/physicians", tag = "organisation", responses((status = 200, body = Vec<Physician>)), security(("bearer" = [])))]
pub async fn list_physicians(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<Physician>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::Physician,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let rows = st.db.physicians(&filter(&p)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Create a physician in a department (the department decides the hospital).
pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &NewPhysician,
) -> ApiResult<PhysicianRow> {
    // The department decides the hospital: never trust a hospital id next to it.
    let dept = st.db.department(&b.department_id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Physician,
        Action::Create,
        obj_of(dept.hospital_id, Some(dept.id)),
        Some(&b.department_id),
    )
    .await?;
    Checks::new()
        .require("licence_number", &b.licence_number)
        .require("given_name", &b.given_name)
        .require("family_name", &b.family_name)
        .optional("specialty", b.specialty.as_deref())
        .finish()?;
    let mut tx = scoped::begin(st).await?;
    let ph = insert_physician(&mut *tx, &dept.hospital_id.to_string(), b).await?;
    let a = Audit {
        action: "create",
        id: ph.id,
        hospital: dept.hospital_id,
        changes: serde_json::json!({"licence_number": ph.licence_number, "department_id": ph.department_id}),
    };
    scoped::commit(tx, p, ctx, &ph, a).await?;
    Ok(ph)
}

#[utoipa::path(post, path = "/api/physicians", tag = "organisation", request_body = NewPhysician, responses((status = 201, body = Physician)), security(("bearer" = [])))]
pub async fn create_physician(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewPhysician>,
) -> ApiResult<(StatusCode, Json<Physician>)> {
    let ph = create(&st, &p, &ctx, &b).await?;
    Ok((StatusCode::CREATED, Json(ph.into())))
}

/// Load a physician for `action` through the gate.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<PhysicianRow> {
    scoped::load(st, p, ctx, id, action, st.db.physician(id).await).await
}

/// Update a physician; a department move stays in the hospital and in the caller's scope.
pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    c: &PhysicianChanges,
) -> ApiResult<PhysicianRow> {
    let ph = load(st, p, ctx, id, Action::Update).await?;
    Checks::new()
        .optional("given_name", c.given_name.as_deref())
        .optional("family_name", c.family_name.as_deref())
        .optional("specialty", c.specialty.as_deref())
        .finish()?;
    if let Some(d) = &c.department_id {
        authorize_move(
            st,
            p,
            ctx,
            Resource::Physician,
            &ph.hospital_id.to_string(),
            d,
            id,
        )
        .await?;
    }
    let mut tx = scoped::begin(st).await?;
    let updated = store_update_physician(&mut *tx, id, c).await?;
    let a = Audit {
        action: "update",
        id: ph.id,
        hospital: ph.hospital_id,
        changes: set_fields(c),
    };
    scoped::commit(tx, p, ctx, &updated, a).await?;
    Ok(updated)
}

#[utoipa::path(patch, path = "/api/physicians/{id}", tag = "organisation", request_body = PhysicianChanges, responses((status = 200, body = Physician), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_physician(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<PhysicianChanges>,
) -> ApiResult<Json<Physician>> {
    Ok(Json(update(&st, &p, &ctx, &id, &c).await?.into()))
}

/// Soft-delete a physician (nothing depends on one).
pub async fn delete(st: &AppState, p: &Principal, ctx: &Ctx, id: &str) -> ApiResult<()> {
    let ph = load(st, p, ctx, id, Action::Delete).await?;
    scoped::delete(st, p, ctx, &ph).await
}

#[utoipa::path(delete, path = "/api/physicians/{id}", tag = "organisation", responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_physician(
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
        .routes(routes!(list_physicians, create_physician))
        .routes(routes!(update_physician, delete_physician))
}
