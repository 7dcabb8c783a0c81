//! Patients: list, read, create, update, soft delete.

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::filter;
use crate::obj;
use crate::own_scope;
use axum::Json;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::Action;
use px360_domain::rbac::Resource;
use px360_store::StoreError;
use px360_store::org::Patient;
use px360_store::org::PatientFields;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_patient;
use px360_store::org::soft_delete;
use px360_store::org::update_patient as store_update_patient;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Page {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/patients", tag = "patients", params(Page), responses((status = 200, body = Vec<Patient>)), security(("bearer" = [])))]
pub async fn list_patients(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(pg): Query<Page>,
) -> ApiResult<Json<Vec<Patient>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::Patient,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    Ok(Json(
        st.db
            .patients(
                &filter(&p),
                pg.limit.unwrap_or(100).clamp(1, 500),
                pg.offset.unwrap_or(0).max(0),
            )
            .await?,
    ))
}

async fn load_patient(
    st: &AppState,
    p: &px360_domain::rbac::Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<Patient> {
    let pt = match st.db.patient(id).await {
        Ok(pt) => pt,
        Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        Err(e) => return Err(e.into()),
    };
    st.authorize(
        p,
        ctx,
        Resource::Patient,
        action,
        obj(&pt.hospital_id, pt.department_id.as_deref()),
        Some(id),
    )
    .await?;
    Ok(pt)
}

#[utoipa::path(get, path = "/api/patients/{id}", tag = "patients", responses((status = 200, body = Patient), (status = 404)), security(("bearer" = [])))]
pub async fn get_patient(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Patient>> {
    Ok(Json(load_patient(&st, &p, &ctx, &id, Action::Read).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPatient {
    pub hospital_id: Option<String>,
    pub mrn: String,
    #[serde(flatten)]
    pub fields: PatientFields,
}

/// Changed field names only: values are patient data and stay out of the audit log.
fn changed_fields(f: &PatientFields) -> serde_json::Value {
    let v = serde_json::to_value(f).unwrap_or_default();
    let names: Vec<&String> = v
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({ "fields": names })
}

#[utoipa::path(post, path = "/api/patients", tag = "patients", request_body = NewPatient, responses((status = 201, body = Patient), (status = 409)), security(("bearer" = [])))]
pub async fn create_patient(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(mut b): Json<NewPatient>,
) -> ApiResult<(StatusCode, Json<Patient>)> {
    // Department-scoped staff register patients into their own department by default.
    if b.fields.department_id.is_none() {
        b.fields.department_id = p.scope().department_id().map(|d| d.to_string());
    }
    let hospital = match (&b.hospital_id, &b.fields.department_id) {
        (_, Some(d)) => crate::known_department(&st, d).await?.hospital_id,
        (Some(h), None) => h.clone(),
        (None, None) => p
            .scope()
            .hospital_id()
            .map(|h| h.to_string())
            .ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new("hospital_id", "is required")])
            })?,
    };
    if b.hospital_id.as_ref().is_some_and(|h| h != &hospital) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "hospital_id",
            "does not match the department's hospital",
        )]));
    }
    st.authorize(
        &p,
        &ctx,
        Resource::Patient,
        Action::Create,
        obj(&hospital, b.fields.department_id.as_deref()),
        None,
    )
    .await?;
    crate::require("mrn", &b.mrn)?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let pt = insert_patient(&mut *tx, &hospital, &b.mrn, &b.fields).await?;
    px360_store::audit::append(
        &mut tx,
        &AppState::entry(
            &p,
            &ctx,
            "create",
            "patient",
            &pt.id,
            Some(&hospital),
            changed_fields(&b.fields),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((StatusCode::CREATED, Json(pt)))
}

#[utoipa::path(patch, path = "/api/patients/{id}", tag = "patients", request_body = PatientFields, responses((status = 200, body = Patient)), security(("bearer" = [])))]
pub async fn update_patient(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(f): Json<PatientFields>,
) -> ApiResult<Json<Patient>> {
    let pt = load_patient(&st, &p, &ctx, &id, Action::Update).await?;
    if let Some(d) = &f.department_id {
        // Moving a patient: the target department must be in the same hospital and in scope.
        let dept = crate::known_department(&st, d).await?;
        if dept.hospital_id != pt.hospital_id {
            return Err(ApiError::Validation(vec![FieldError::new(
                "department_id",
                "belongs to another hospital",
            )]));
        }
        st.authorize(
            &p,
            &ctx,
            Resource::Patient,
            Action::Update,
            obj(&dept.hospital_id, Some(&dept.id)),
            Some(&id),
        )
        .await?;
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let updated = store_update_patient(&mut *tx, &id, &f).await?;
    px360_store::audit::append(
        &mut tx,
        &AppState::entry(
            &p,
            &ctx,
            "update",
            "patient",
            &id,
            Some(&pt.hospital_id),
            changed_fields(&f),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/api/patients/{id}", tag = "patients", responses((status = 204)), security(("bearer" = [])))]
pub async fn delete_patient(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let pt = load_patient(&st, &p, &ctx, &id, Action::Delete).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    soft_delete(&mut *tx, SoftDeletable::Patient, &id).await?;
    px360_store::audit::append(
        &mut tx,
        &AppState::entry(
            &p,
            &ctx,
            "delete",
            "patient",
            &id,
            Some(&pt.hospital_id),
            serde_json::json!({"soft_delete": true}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_patients, create_patient))
        .routes(routes!(get_patient, update_patient, delete_patient))
}
