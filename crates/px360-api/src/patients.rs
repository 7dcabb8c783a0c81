//! Patients: list, read, create, update, soft delete.

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
use axum::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use px360_domain::event::FieldError;
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Principal;
use px360_domain::rbac::Resource;
use px360_store::org::ContactChannels;
use px360_store::org::LanguageCode;
use px360_store::org::PatientFields;
use px360_store::org::PatientRow;
use px360_store::org::SoftDeletable;
use px360_store::org::insert_patient;
use px360_store::org::update_patient as store_update_patient;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A patient as the API shows it. The wire format is the one clients already use:
/// `contact_channels` is JSON array text (`"[\"sms\",\"email\"]"`), as stored before rows
/// were typed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Patient {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub mrn: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub preferred_language: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// JSON array text, e.g. `["sms","email"]`.
    pub contact_channels: String,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<PatientRow> for Patient {
    fn from(p: PatientRow) -> Self {
        Self {
            id: p.id,
            hospital_id: p.hospital_id,
            department_id: p.department_id,
            mrn: p.mrn,
            given_name: p.given_name,
            family_name: p.family_name,
            date_of_birth: p.date_of_birth,
            preferred_language: p.preferred_language.as_str().to_owned(),
            email: p.email,
            phone: p.phone,
            contact_channels: p.contact_channels.to_json(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl Scoped for PatientRow {
    const RESOURCE: Resource = Resource::Patient;
    const KIND: &'static str = "patient";
    const TABLE: SoftDeletable = SoftDeletable::Patient;
    fn id(&self) -> Uuid {
        self.id
    }
    fn hospital(&self) -> Uuid {
        self.hospital_id
    }
    fn location(&self) -> ObjectScope {
        obj_of(self.hospital_id, self.department_id)
    }
}
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
    let rows = st
        .db
        .patients(
            &filter(&p),
            pg.limit.unwrap_or(100).clamp(1, 500),
            pg.offset.unwrap_or(0).max(0),
        )
        .await?;
    // Contact details are patient data: in clear in lists only from PX Coordinator up (issue 15,
    // item 8); below, masked as in the survey invitation list. One patient's record
    // (`GET /api/patients/{id}`) stays whole for whoever may read it.
    let clear = crate::survey_invitations::sees_contacts(&p);
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                let mut pt = Patient::from(r);
                if !clear {
                    use px360_store::surveys::{Channel, contacts::mask};
                    pt.email = pt.email.map(|e| mask(Channel::Email, &e));
                    pt.phone = pt.phone.map(|ph| mask(Channel::Sms, &ph));
                }
                pt
            })
            .collect(),
    ))
}

/// Load a patient for `action` through the gate.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<PatientRow> {
    scoped::load(st, p, ctx, id, action, st.db.patient(id).await).await
}

#[utoipa::path(get, path = "/api/patients/{id}", tag = "patients", responses((status = 200, body = Patient), (status = 404)), security(("bearer" = [])))]
pub async fn get_patient(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Patient>> {
    Ok(Json(load(&st, &p, &ctx, &id, Action::Read).await?.into()))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewPatient {
    pub hospital_id: Option<String>,
    pub mrn: String,
    #[serde(flatten)]
    pub fields: PatientFields,
}

/// Changed field names only: values are patient data and stay out of the audit log.
fn changed_fields(f: &PatientFields) -> serde_json::Value {
    crate::set_fields(f)
}

/// The checks of every patient write: text fields, the language code and the channels.
fn check_fields(c: Checks, f: &PatientFields) -> Checks {
    let mut c = c
        .optional("given_name", f.given_name.as_deref())
        .optional("family_name", f.family_name.as_deref())
        .optional("date_of_birth", f.date_of_birth.as_deref())
        .optional("email", f.email.as_deref())
        .optional("phone", f.phone.as_deref());
    if let Some(d) = f.date_of_birth.as_deref()
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        c = c.error(FieldError::new(
            "date_of_birth",
            "must be a date (YYYY-MM-DD)",
        ));
    }
    if f.preferred_language
        .as_deref()
        .is_some_and(|l| LanguageCode::parse(l).is_none())
    {
        c = c.error(FieldError::new(
            "preferred_language",
            "must be a language code such as en or ar",
        ));
    }
    if let Some(ch) = &f.contact_channels
        && let Err(bad) = ContactChannels::parse(ch)
    {
        c = c.error(FieldError::new(
            "contact_channels",
            format!("unknown channel {bad:?} (allowed: email, sms, whatsapp, phone, post)"),
        ));
    }
    c
}

/// Register a patient: into the named department (its hospital), the caller's own department
/// by default, or a hospital without a department.
pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &NewPatient,
) -> ApiResult<PatientRow> {
    let mut b = b.clone();
    // Department-scoped staff register patients into their own department by default.
    if b.fields.department_id.is_none() {
        b.fields.department_id = p.scope().department_id().map(|d| d.to_string());
    }
    let hospital = match (&b.hospital_id, &b.fields.department_id) {
        (_, Some(d)) => crate::known_department(st, d)
            .await?
            .hospital_id
            .to_string(),
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
        p,
        ctx,
        Resource::Patient,
        Action::Create,
        crate::obj(&hospital, b.fields.department_id.as_deref()),
        None,
    )
    .await?;
    check_fields(Checks::new().require("mrn", &b.mrn), &b.fields).finish()?;
    let mut tx = scoped::begin(st).await?;
    let pt = insert_patient(&mut *tx, &hospital, &b.mrn, &b.fields).await?;
    let a = Audit {
        action: "create",
        id: pt.id,
        hospital: pt.hospital_id,
        changes: changed_fields(&b.fields),
    };
    scoped::commit(tx, p, ctx, &pt, a).await?;
    Ok(pt)
}

#[utoipa::path(post, path = "/api/patients", tag = "patients", request_body = NewPatient, responses((status = 201, body = Patient), (status = 409)), security(("bearer" = [])))]
pub async fn create_patient(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewPatient>,
) -> ApiResult<(StatusCode, Json<Patient>)> {
    let pt = create(&st, &p, &ctx, &b).await?;
    Ok((StatusCode::CREATED, Json(pt.into())))
}

/// Update a patient; a department move stays in the hospital and in the caller's scope.
pub async fn update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    f: &PatientFields,
) -> ApiResult<PatientRow> {
    let pt = load(st, p, ctx, id, Action::Update).await?;
    check_fields(Checks::new(), f).finish()?;
    if let Some(d) = &f.department_id {
        // Moving a patient: the target department must be in the same hospital and in scope.
        crate::authorize_move(
            st,
            p,
            ctx,
            Resource::Patient,
            &pt.hospital_id.to_string(),
            d,
            id,
        )
        .await?;
    }
    let mut tx = scoped::begin(st).await?;
    let updated = store_update_patient(&mut *tx, id, f).await?;
    let a = Audit {
        action: "update",
        id: pt.id,
        hospital: pt.hospital_id,
        changes: changed_fields(f),
    };
    scoped::commit(tx, p, ctx, &updated, a).await?;
    Ok(updated)
}

#[utoipa::path(patch, path = "/api/patients/{id}", tag = "patients", request_body = PatientFields, responses((status = 200, body = Patient)), security(("bearer" = [])))]
pub async fn update_patient(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(f): Json<PatientFields>,
) -> ApiResult<Json<Patient>> {
    Ok(Json(update(&st, &p, &ctx, &id, &f).await?.into()))
}

/// Soft-delete a patient (their journeys stay, as history).
pub async fn delete(st: &AppState, p: &Principal, ctx: &Ctx, id: &str) -> ApiResult<()> {
    let pt = load(st, p, ctx, id, Action::Delete).await?;
    scoped::delete(st, p, ctx, &pt).await
}

#[utoipa::path(delete, path = "/api/patients/{id}", tag = "patients", responses((status = 204)), security(("bearer" = [])))]
pub async fn delete_patient(
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
        .routes(routes!(list_patients, create_patient))
        .routes(routes!(get_patient, update_patient, delete_patient))
}
