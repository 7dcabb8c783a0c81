//! Patients, user accounts and journeys.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::integrations::{before_param, next_page_headers};
use crate::{AppState, filter, obj, own_scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, Resource, Role, scope_for};
use px360_store::StoreError;
use px360_store::auth::{NewUser, User, insert_user};
use px360_store::journeys::JourneyView;
use px360_store::org::{
    Patient, PatientFields, SoftDeletable, insert_patient, soft_delete,
    update_patient as store_update_patient,
};
use serde::Deserialize;
use uuid::Uuid;

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
        (_, Some(d)) => {
            st.db
                .department(d)
                .await
                .map_err(|_| {
                    ApiError::Validation(vec![FieldError::new(
                        "department_id",
                        "unknown department",
                    )])
                })?
                .hospital_id
        }
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
    crate::org::require("mrn", &b.mrn)?;
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
        let dept = st.db.department(d).await.map_err(|_| {
            ApiError::Validation(vec![FieldError::new("department_id", "unknown department")])
        })?;
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

#[utoipa::path(get, path = "/api/users", tag = "accounts", responses((status = 200, body = Vec<User>)), security(("bearer" = [])))]
pub async fn list_users(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<User>>> {
    st.authorize(&p, &ctx, Resource::User, Action::Read, own_scope(&p), None)
        .await?;
    Ok(Json(st.db.users(&filter(&p)).await?))
}

#[utoipa::path(post, path = "/api/users", tag = "accounts", request_body = NewUser, responses((status = 201, body = User), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_user(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(u): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::User,
        Action::Create,
        own_scope(&p),
        None,
    )
    .await?;
    let mut errs = Vec::new();
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
        let dept = st.db.department(d).await.map_err(|_| {
            ApiError::Validation(vec![FieldError::new("department_id", "unknown department")])
        })?;
        if &dept.hospital_id != h {
            return Err(ApiError::Validation(vec![FieldError::new(
                "department_id",
                "belongs to another hospital",
            )]));
        }
    }
    if !p.may_grant(role, &scope) {
        st.authorize(
            &p,
            &ctx,
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
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let created = insert_user(&mut *tx, &u, &hash).await?;
    px360_store::audit::append(&mut tx, &AppState::entry(&p, &ctx, "create", "user", &created.id, created.hospital_id.as_deref(), serde_json::json!({"username": created.username, "role": created.role, "department_id": created.department_id}))).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct JourneyQuery {
    pub patient_id: Option<String>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `X-Next-Cursor` header (or its `Link: rel="next"`):
    /// this page then holds the journeys started strictly before the last journey of that page.
    pub before: Option<String>,
}

#[utoipa::path(get, path = "/api/journeys", tag = "journeys", params(JourneyQuery),
    responses(
        (status = 200, body = Vec<JourneyView>, description = "Journeys in the caller's scope, newest first (start time, then id)",
         headers(
            ("Link" = String, description = "`<…?before=…&limit=…>; rel=\"next\"`: the next (older) page; absent on the last page"),
            ("X-Next-Cursor" = String, description = "The `before` value of the next page; absent on the last page"))),
        (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem, description = "`before` is not a cursor issued by this list")),
    security(("bearer" = [])))]
pub async fn list_journeys(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<JourneyQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<JourneyView>>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::Journey,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    // The scope filter comes from the principal on every page; the cursor is only a position.
    let page = st
        .db
        .journeys(&filter(&p), q.patient_id.as_deref(), before.as_ref(), limit)
        .await?;
    let headers = next_page_headers(
        "/api/journeys",
        &[("patient_id", q.patient_id.as_deref())],
        page.next.as_ref(),
        limit,
    )?;
    Ok((headers, Json(page.rows)))
}

#[utoipa::path(get, path = "/api/journeys/{id}", tag = "journeys", responses((status = 200, body = JourneyView), (status = 404)), security(("bearer" = [])))]
pub async fn get_journey(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<JourneyView>> {
    let j = st.db.journey(&id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Journey,
        Action::Read,
        obj(&j.hospital_id, j.department_id.as_deref()),
        Some(&id),
    )
    .await?;
    Ok(Json(j))
}
