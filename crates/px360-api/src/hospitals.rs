//! Hospitals: list, read, create (time zone checked), update, delete (refused while dependents live; API keys revoked).

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::check_optional;
use crate::commit_audited;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::obj;
use crate::own_scope;
use crate::require;
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_store::StoreError;
use px360_store::dependents;
use px360_store::org::Hospital;
use px360_store::org::HospitalChanges;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_hospital;
use px360_store::org::soft_delete;
use px360_store::org::update_hospital as store_update_hospital;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
        check_timezone(tz)?;
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

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hospitals, create_hospital))
        .routes(routes!(get_hospital, update_hospital, delete_hospital))
}
