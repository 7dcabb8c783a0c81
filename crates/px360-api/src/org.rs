//! Hospitals, departments and physicians.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, filter, obj, own_scope};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use px360_domain::rbac::{Action, ObjectScope, Resource};
use px360_store::org::{
    Department, Hospital, NewPhysician, Physician, insert_department, insert_hospital,
    insert_physician,
};
use serde::Deserialize;

#[utoipa::path(get, path = "/api/hospitals", tag = "organisation", responses((status = 200, body = Vec<Hospital>)), security(("bearer" = [])))]
pub async fn list_hospitals(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<Hospital>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::Hospital,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let only = p.scope().hospital_id().map(|h| h.to_string());
    Ok(Json(st.db.hospitals(only.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/hospitals/{id}", tag = "organisation", responses((status = 200, body = Hospital), (status = 404)), security(("bearer" = [])))]
pub async fn get_hospital(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Hospital>> {
    let h = st.db.hospital(&id).await?;
    // A department-scoped user may read their own hospital's record.
    let loc = match p.scope().department_id() {
        Some(_) if p.scope().hospital_id().map(|x| x.to_string()) == Some(h.id.clone()) => {
            own_scope(&p)
        }
        _ => obj(&h.id, None),
    };
    st.authorize(&p, &ctx, Resource::Hospital, Action::Read, loc, Some(&id))
        .await?;
    Ok(Json(h))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewHospital {
    pub code: String,
    pub name: String,
    /// IANA time zone (default Europe/London); offset-less event timestamps are read in it.
    #[schema(example = "Asia/Riyadh")]
    pub timezone: Option<String>,
}

#[utoipa::path(post, path = "/api/hospitals", tag = "organisation", request_body = NewHospital, responses((status = 201, body = Hospital), (status = 403), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn create_hospital(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewHospital>,
) -> ApiResult<(StatusCode, Json<Hospital>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::Hospital,
        Action::Create,
        ObjectScope::Group,
        None,
    )
    .await?;
    require("code", &b.code)?;
    require("name", &b.name)?;
    if let Some(tz) = &b.timezone {
        crate::org_admin::check_timezone(tz)?;
    }
    let mut tx = st
        .db
        .writer
        .begin()
        .await
        .map_err(px360_store::StoreError::from)?;
    let h = insert_hospital(
        &mut *tx,
        &b.code,
        &b.name,
        b.timezone.as_deref().unwrap_or("Europe/London"),
    )
    .await?;
    px360_store::audit::append(
        &mut tx,
        &AppState::entry(
            &p,
            &ctx,
            "create",
            "hospital",
            &h.id,
            Some(&h.id),
            serde_json::json!({"code": h.code, "name": h.name}),
        ),
    )
    .await?;
    tx.commit().await.map_err(px360_store::StoreError::from)?;
    Ok((StatusCode::CREATED, Json(h)))
}

pub(crate) fn require(field: &str, v: &str) -> ApiResult<()> {
    if v.trim().is_empty() || v.len() > 200 {
        return Err(ApiError::Validation(vec![
            px360_domain::event::FieldError::new(field, "is required (1-200 characters)"),
        ]));
    }
    Ok(())
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
