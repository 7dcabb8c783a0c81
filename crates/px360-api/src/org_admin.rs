//! Updates and soft deletes of hospitals, departments and physicians.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, check_optional, commit_audited, obj, set_fields};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, Principal, Resource};
use px360_store::org::{
    Department, DepartmentChanges, Hospital, HospitalChanges, Physician, PhysicianChanges,
    SoftDeletable, soft_delete, update_department as store_update_department,
    update_hospital as store_update_hospital, update_physician as store_update_physician,
};
use px360_store::{StoreError, dependents};

/// A hospital's zone must be an IANA name: offset-less event timestamps are read in it.
pub(crate) fn check_timezone(tz: &str) -> ApiResult<()> {
    if tz.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "timezone",
            "must be an IANA time zone name such as Europe/London",
        )]));
    }
    Ok(())
}

async fn load_hospital(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<Hospital> {
    let h = st.db.hospital(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Hospital,
        action,
        obj(&h.id, None),
        Some(id),
    )
    .await?;
    Ok(h)
}

#[utoipa::path(patch, path = "/api/hospitals/{id}", tag = "organisation", request_body = HospitalChanges, responses((status = 200, body = Hospital), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_hospital(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<HospitalChanges>,
) -> ApiResult<Json<Hospital>> {
    load_hospital(&st, &p, &ctx, &id, Action::Update).await?;
    check_optional(&[
        ("name", c.name.as_deref()),
        ("timezone", c.timezone.as_deref()),
    ])?;
    if let Some(tz) = &c.timezone {
        check_timezone(tz)?;
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let h = store_update_hospital(&mut *tx, &id, &c).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "update",
        "hospital",
        &id,
        Some(&id),
        serde_json::to_value(&c).unwrap_or_default(),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(h))
}

/// Refused with 409 (naming them) while the hospital has live departments, physicians,
/// employees, patients or users; otherwise soft-deleted with its API keys revoked at once.
#[utoipa::path(delete, path = "/api/hospitals/{id}", tag = "organisation", responses((status = 204), (status = 403), (status = 404), (status = 409, body = crate::error::Problem, description = "live dependents, named in `dependents`")), security(("bearer" = [])))]
pub async fn delete_hospital(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    load_hospital(&st, &p, &ctx, &id, Action::Delete).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    // The write comes first (SQLite takes its lock up front); a refusal rolls it back.
    soft_delete(&mut *tx, SoftDeletable::Hospital, &id).await?;
    let blockers = dependents::hospital_blockers(&mut tx, &id).await?;
    if !blockers.is_empty() {
        tx.rollback().await.map_err(StoreError::from)?;
        return Err(ApiError::Dependents {
            object: "hospital",
            dependents: blockers,
        });
    }
    let revoked = dependents::revoke_hospital_keys(&mut tx, &id).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "delete",
        "hospital",
        &id,
        Some(&id),
        serde_json::json!({"soft_delete": true, "api_keys_revoked": revoked}),
    );
    commit_audited(tx, &e).await?;
    // Keys verified in this process stop at once; other processes check the hospital on their
    // next lookup (within the 5 s key cache).
    st.key_cache.clear();
    Ok(StatusCode::NO_CONTENT)
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

/// A department move must stay in the object's hospital and inside the caller's scope.
pub(crate) async fn authorize_move(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    resource: Resource,
    hospital_id: &str,
    department_id: &str,
    object_id: &str,
) -> ApiResult<()> {
    let dept = st.db.department(department_id).await.map_err(|_| {
        ApiError::Validation(vec![FieldError::new("department_id", "unknown department")])
    })?;
    if dept.hospital_id != hospital_id {
        return Err(ApiError::Validation(vec![FieldError::new(
            "department_id",
            "belongs to another hospital",
        )]));
    }
    st.authorize(
        p,
        ctx,
        resource,
        Action::Update,
        obj(&dept.hospital_id, Some(&dept.id)),
        Some(object_id),
    )
    .await
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
