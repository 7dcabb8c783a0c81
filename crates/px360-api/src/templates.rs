//! Journey templates and stage templates: readable by everyone whose scope reaches them; created
//! and changed by PX Admin (group-wide templates) and the owning hospital's Hospital Admin.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, commit_audited, obj, own_scope};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::StoreError;
use px360_store::templates::{
    JourneyTemplate, NewJourneyTemplate, StageChanges, StageTemplate, TemplateChanges,
};
use std::collections::HashSet;

/// Where a template lives for writes: group-wide templates need a group scope (PX Admin).
fn location(t_hospital: Option<&str>) -> ObjectScope {
    match t_hospital {
        None => ObjectScope::Group,
        Some(h) => obj(h, None),
    }
}

/// Reads: group-wide templates and the caller's own hospital's templates are in everyone's
/// scope (department-scoped users included), like the caller's own hospital record.
fn read_location(p: &Principal, t_hospital: Option<&str>) -> ObjectScope {
    let own_hospital = p.scope().hospital_id().map(|h| h.to_string());
    match t_hospital {
        None => own_scope(p),
        Some(h) if own_hospital.as_deref() == Some(h) => own_scope(p),
        Some(h) => obj(h, None),
    }
}

#[utoipa::path(get, path = "/api/journey-templates", tag = "journeys", responses((status = 200, body = Vec<JourneyTemplate>)), security(("bearer" = [])))]
pub async fn list_templates(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<JourneyTemplate>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::JourneyTemplate,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let only = p.scope().hospital_id().map(|h| h.to_string());
    Ok(Json(st.db.journey_templates(only.as_deref()).await?))
}

async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<JourneyTemplate> {
    let t = st.db.journey_template(id).await?;
    let loc = match action {
        Action::Read => read_location(p, t.hospital_id.as_deref()),
        _ => location(t.hospital_id.as_deref()),
    };
    st.authorize(p, ctx, Resource::JourneyTemplate, action, loc, Some(id))
        .await?;
    Ok(t)
}

#[utoipa::path(get, path = "/api/journey-templates/{id}", tag = "journeys", responses((status = 200, body = JourneyTemplate), (status = 404)), security(("bearer" = [])))]
pub async fn get_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<JourneyTemplate>> {
    Ok(Json(load(&st, &p, &ctx, &id, Action::Read).await?))
}

fn code_ok(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn validate(t: &NewJourneyTemplate) -> Vec<FieldError> {
    let mut errs = Vec::new();
    const CODE: &str = "must be 1-64 characters of A-Z, 0-9 and _";
    if !code_ok(&t.code) {
        errs.push(FieldError::new("code", CODE));
    }
    if t.name.trim().is_empty() || t.name.len() > 200 {
        errs.push(FieldError::new("name", "is required (1-200 characters)"));
    }
    if t.stages.is_empty() || t.stages.len() > 50 {
        errs.push(FieldError::new("stages", "must list 1-50 stages"));
    }
    let mut seen = HashSet::new();
    for (i, s) in t.stages.iter().enumerate() {
        if !code_ok(&s.code) {
            errs.push(FieldError::new(format!("stages[{i}].code"), CODE));
        }
        if s.name.trim().is_empty() || s.name.len() > 200 {
            errs.push(FieldError::new(
                format!("stages[{i}].name"),
                "is required (1-200 characters)",
            ));
        }
        if !code_ok(&s.completing_event_code) {
            errs.push(FieldError::new(
                format!("stages[{i}].completing_event_code"),
                CODE,
            ));
        } else if !seen.insert(s.completing_event_code.as_str()) {
            errs.push(FieldError::new(
                format!("stages[{i}].completing_event_code"),
                "is already used by an earlier stage of this template",
            ));
        }
    }
    errs
}

#[utoipa::path(post, path = "/api/journey-templates", tag = "journeys", request_body = NewJourneyTemplate, responses((status = 201, body = JourneyTemplate), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(mut b): Json<NewJourneyTemplate>,
) -> ApiResult<(StatusCode, Json<JourneyTemplate>)> {
    if b.hospital_id.is_none() {
        b.hospital_id = p.scope().hospital_id().map(|h| h.to_string());
    }
    st.authorize(
        &p,
        &ctx,
        Resource::JourneyTemplate,
        Action::Create,
        location(b.hospital_id.as_deref()),
        None,
    )
    .await?;
    let errs = validate(&b);
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    if let Some(h) = &b.hospital_id {
        st.db.hospital(h).await.map_err(|_| {
            ApiError::Validation(vec![FieldError::new("hospital_id", "unknown hospital")])
        })?;
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let t = px360_store::templates::insert(&mut tx, b.hospital_id.as_deref(), &b).await?;
    let stages: Vec<_> = t
        .stages
        .iter()
        .map(|s| s.completing_event_code.as_str())
        .collect();
    let a = AppState::entry(
        &p,
        &ctx,
        "create",
        "journey_template",
        &t.id,
        t.hospital_id.as_deref(),
        serde_json::json!({"code": t.code, "name": t.name, "stages": stages}),
    );
    commit_audited(tx, &a).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(patch, path = "/api/journey-templates/{id}", tag = "journeys", request_body = TemplateChanges, responses((status = 200, body = JourneyTemplate), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_template(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(c): Json<TemplateChanges>,
) -> ApiResult<Json<JourneyTemplate>> {
    let t = load(&st, &p, &ctx, &id, Action::Update).await?;
    crate::check_optional(&[("name", c.name.as_deref())])?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let mut updated = px360_store::templates::update(&mut *tx, &id, &c).await?;
    let a = AppState::entry(
        &p,
        &ctx,
        "update",
        "journey_template",
        &id,
        t.hospital_id.as_deref(),
        serde_json::to_value(&c).unwrap_or_default(),
    );
    commit_audited(tx, &a).await?;
    updated.stages = t.stages;
    Ok(Json(updated))
}

#[utoipa::path(patch, path = "/api/journey-templates/{id}/stages/{stage_id}", tag = "journeys", request_body = StageChanges, responses((status = 200, body = StageTemplate), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_stage(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path((id, stage_id)): Path<(String, String)>,
    Json(c): Json<StageChanges>,
) -> ApiResult<Json<StageTemplate>> {
    let t = load(&st, &p, &ctx, &id, Action::Update).await?;
    let mut errs = Vec::new();
    if let Some(n) = &c.name
        && (n.trim().is_empty() || n.len() > 200)
    {
        errs.push(FieldError::new(
            "name",
            "must be 1-200 characters when given",
        ));
    }
    if let Some(code) = &c.completing_event_code
        && !code_ok(code)
    {
        errs.push(FieldError::new(
            "completing_event_code",
            "must be 1-64 characters of A-Z, 0-9 and _",
        ));
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let s = px360_store::templates::update_stage(&mut *tx, &id, &stage_id, &c).await?;
    let a = AppState::entry(
        &p,
        &ctx,
        "update",
        "stage_template",
        &stage_id,
        t.hospital_id.as_deref(),
        serde_json::json!({"journey_template_id": id, "changes": c}),
    );
    commit_audited(tx, &a).await?;
    Ok(Json(s))
}
