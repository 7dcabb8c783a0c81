//! Physicians: list, create, update (moves stay in the hospital and in scope), delete.

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::authorize_move;
use crate::check_optional;
use crate::commit_audited;
use crate::error::ApiResult;
use crate::filter;
use crate::obj;
use crate::own_scope;
use crate::require;
use crate::set_fields;
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use px360_domain::rbac::Action;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_store::StoreError;
use px360_store::org::NewPhysician;
use px360_store::org::Physician;
use px360_store::org::PhysicianChanges;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_physician;
use px360_store::org::soft_delete;
use px360_store::org::update_physician as store_update_physician;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    Ok(Json(st.db.physicians(&filter(&p)).await?))
}

#[utoipa::path(post, path = "/api/physicians", tag = "organisation", request_body = NewPhysician, responses((status = 201, body = Physician)), security(("bearer" = [])))]
pub async fn create_physician(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewPhysician>,
) -> ApiResult<(StatusCode, Json<Physician>)> {
    // The department decides the hospital: never trust a hospital id next to it.
    let dept = st.db.department(&b.department_id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Physician,
        Action::Create,
        obj(&dept.hospital_id, Some(&dept.id)),
        Some(&dept.id),
    )
    .await?;
    require("licence_number", &b.licence_number)?;
    require("given_name", &b.given_name)?;
    require("family_name", &b.family_name)?;
    let mut tx = st
        .db
        .writer
        .begin()
        .await
        .map_err(px360_store::StoreError::from)?;
    let ph = insert_physician(&mut *tx, &dept.hospital_id, &b).await?;
    px360_store::audit::append(&mut tx, &AppState::entry(&p, &ctx, "create", "physician", &ph.id, Some(&dept.hospital_id), serde_json::json!({"licence_number": ph.licence_number, "department_id": ph.department_id}))).await?;
    tx.commit().await.map_err(px360_store::StoreError::from)?;
    Ok((StatusCode::CREATED, Json(ph)))
}

async fn load_physician(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<Physician> {
    let ph = st.db.physician(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Physician,
        action,
        obj(&ph.hospital_id, Some(&ph.department_id)),
        Some(id),
    )
    .await?;
    Ok(ph)
}

#[utoipa::path(patch, path = "/api/physicians/{id}", tag = "organisation", request_body = PhysicianChanges, responses((status = 200, body = Physician), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_physician(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<PhysicianChanges>,
) -> ApiResult<Json<Physician>> {
    let ph = load_physician(&st, &p, &ctx, &id, Action::Update).await?;
    check_optional(&[
        ("given_name", c.given_name.as_deref()),
        ("family_name", c.family_name.as_deref()),
        ("specialty", c.specialty.as_deref()),
    ])?;
    if let Some(d) = &c.department_id {
        authorize_move(&st, &p, &ctx, Resource::Physician, &ph.hospital_id, d, &id).await?;
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let updated = store_update_physician(&mut *tx, &id, &c).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "update",
        "physician",
        &id,
        Some(&ph.hospital_id),
        set_fields(&c),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/api/physicians/{id}", tag = "organisation", responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_physician(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let ph = load_physician(&st, &p, &ctx, &id, Action::Delete).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    soft_delete(&mut *tx, SoftDeletable::Physician, &id).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "delete",
        "physician",
        &id,
        Some(&ph.hospital_id),
        serde_json::json!({"soft_delete": true}),
    );
    commit_audited(tx, &e).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_physicians, create_physician))
        .routes(routes!(update_physician, delete_physician))
}
