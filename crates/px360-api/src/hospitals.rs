//! Hospitals: list, read, create (time zone checked), update, delete (refused while dependents live; API keys revoked).

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::error::ApiResult;
use crate::obj_of;
use crate::own_scope;
use crate::scoped::{self, Audit, Checks, Scoped};
use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_store::org::HospitalChanges;
use px360_store::org::HospitalRow;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_hospital;
use px360_store::org::update_hospital as store_update_hospital;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// A hospital as the API shows it (built from the store's typed row).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hospital {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[schema(value_type = String, example = "Asia/Riyadh")]
    #[serde(serialize_with = "crate::time_format::zone")]
    pub timezone: chrono_tz::Tz,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<HospitalRow> for Hospital {
    fn from(h: HospitalRow) -> Self {
        Self {
            id: h.id,
            code: h.code,
            name: h.name,
            timezone: h.timezone,
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

impl Scoped for HospitalRow {
    const RESOURCE: Resource = Resource::Hospital;
    const KIND: &'static str = "hospital";
    const TABLE: SoftDeletable = SoftDeletable::Hospital;
    fn id(&self) -> Uuid {
        self.id
    }
    fn hospital(&self) -> Uuid {
        self.id
    }
    fn location(&self) -> ObjectScope {
        obj_of(self.id, None)
    }
}

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
    let rows = st.db.hospitals(only.as_deref()).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
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
        Some(_) if p.scope().hospital_id() == Some(h.id) => own_scope(&p),
        _ => h.location(),
    };
    st.authorize(&p, &ctx, Resource::Hospital, Action::Read, loc, Some(&id))
        .await?;
    Ok(Json(h.into()))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewHospital {
    pub code: String,
    pub name: String,
    /// IANA time zone (default Europe/London); offset-less event timestamps are read in it.
    #[schema(example = "Asia/Riyadh")]
    pub timezone: Option<String>,
}

/// Create a hospital (PX Admin): the API's and the web form's one path.
pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &NewHospital,
) -> ApiResult<HospitalRow> {
    st.authorize(
        p,
        ctx,
        Resource::Hospital,
        Action::Create,
        ObjectScope::Group,
        None,
    )
    .await?;
    Checks::new()
        .require("code", &b.code)
        .require("name", &b.name)
        .timezone(b.timezone.as_deref())
        .finish()?;
    let tz = b
        .timezone
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(chrono_tz::Europe::London);
    let mut tx = scoped::begin(st).await?;
    let h = insert_hospital(&mut *tx, &b.code, &b.name, tz).await?;
    let a = Audit {
        action: "create",
        id: h.id,
        hospital: h.id,
        changes: serde_json::json!({"code": h.code, "name": h.name}),
    };
    scoped::commit(tx, p, ctx, &h, a).await?;
    Ok(h)
}

#[utoipa::path(post, path = "/api/hospitals", tag = "organisation", request_body = NewHospital, responses((status = 201, body = Hospital), (status = 403), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn create_hospital(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewHospital>,
) -> ApiResult<(StatusCode, Json<Hospital>)> {
    let h = create(&st, &p, &ctx, &b).await?;
    Ok((StatusCode::CREATED, Json(h.into())))
}

/// Load a hospital for `action` through the gate.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<HospitalRow> {
    scoped::load(st, p, ctx, id, action, st.db.hospital(id).await).await
}

/// Update a hospital's name or zone.
pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    c: &HospitalChanges,
) -> ApiResult<HospitalRow> {
    let h = load(st, p, ctx, id, Action::Update).await?;
    Checks::new()
        .optional("name", c.name.as_deref())
        .optional("timezone", c.timezone.as_deref())
        .timezone(c.timezone.as_deref())
        .finish()?;
    let mut tx = scoped::begin(st).await?;
    let updated = store_update_hospital(&mut *tx, id, c).await?;
    let a = Audit {
        action: "update",
        id: h.id,
        hospital: h.id,
        changes: serde_json::to_value(c).unwrap_or_default(),
    };
    scoped::commit(tx, p, ctx, &updated, a).await?;
    Ok(updated)
}

#[utoipa::path(patch, path = "/api/hospitals/{id}", tag = "organisation", request_body = HospitalChanges, responses((status = 200, body = Hospital), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_hospital(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<HospitalChanges>,
) -> ApiResult<Json<Hospital>> {
    Ok(Json(update(&st, &p, &ctx, &id, &c).await?.into()))
}

/// Delete a hospital under the dependents rule; its API keys stop at once in this process.
pub async fn delete(st: &AppState, p: &Principal, ctx: &Ctx, id: &str) -> ApiResult<()> {
    let h = load(st, p, ctx, id, Action::Delete).await?;
    scoped::delete(st, p, ctx, &h).await?;
    // Keys verified in this process stop at once; other processes check the hospital on their
    // next lookup (within the 5 s key cache).
    st.key_cache.clear();
    Ok(())
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
    delete(&st, &p, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes with their OpenAPI operations (registered together, so they
/// cannot drift apart).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hospitals, create_hospital))
        .routes(routes!(get_hospital, update_hospital, delete_hospital))
}
