//! Journey templates and stage templates: readable by everyone whose scope reaches them; created
//! and changed by PX Admin (group-wide templates) and the owning hospital's Hospital Admin.
//! Stages can be added to and removed from an existing template; journeys already started keep
//! the stage list they started with.

use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult, OnConstraint};
use crate::{AppState, commit_audited, obj, own_scope};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::StoreError;
use px360_store::templates::{
    self as store, MAX_STAGES, NewJourneyTemplate, NewStageTemplate, StageChanges, StageEditError,
    TemplateChanges,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// A stage of a journey template, as answered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageTemplate {
    pub id: Uuid,
    pub journey_template_id: Uuid,
    pub position: i64,
    pub code: String,
    pub name: String,
    /// Event code that completes this stage (unique within the template).
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<store::StageTemplate> for StageTemplate {
    fn from(s: store::StageTemplate) -> Self {
        Self {
            id: s.id,
            journey_template_id: s.journey_template_id,
            position: s.position,
            code: s.code,
            name: s.name,
            completing_event_code: s.completing_event_code,
            survey_template_ref: s.survey_template_ref,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A journey template with its live stages in order, as answered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JourneyTemplate {
    pub id: Uuid,
    /// `null` = group-wide template.
    pub hospital_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    pub stages: Vec<StageTemplate>,
}

impl From<store::JourneyTemplate> for JourneyTemplate {
    fn from(t: store::JourneyTemplate) -> Self {
        Self {
            id: t.id,
            hospital_id: t.hospital_id,
            code: t.code,
            name: t.name,
            created_at: t.created_at,
            updated_at: t.updated_at,
            stages: t.stages.into_iter().map(Into::into).collect(),
        }
    }
}

/// A stage to add to an existing template.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewStage {
    pub code: String,
    pub name: String,
    /// Event code that completes this stage (unique among the template's stages).
    pub completing_event_code: String,
    pub survey_template_ref: Option<String>,
    /// 1-based place among the template's stages; the stages from there on move down one. Omit
    /// to add the stage last.
    pub position: Option<i64>,
}

impl From<StageEditError> for ApiError {
    fn from(e: StageEditError) -> Self {
        match e {
            StageEditError::Rule(f) => ApiError::Validation(vec![f]),
            StageEditError::Store(e) => e.into(),
        }
    }
}

/// Where a template lives for writes: group-wide templates need a group scope (PX Admin).
pub fn location(t_hospital: Option<&str>) -> ObjectScope {
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
    Ok(Json(
        st.db
            .journey_templates(only.as_deref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Load a template and check `action` on it (out of scope: 404; role too low: 403). Shared with
/// the web UI's template pages.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> ApiResult<store::JourneyTemplate> {
    let t = st.db.journey_template(id).await?;
    let h = t.hospital_id.map(|h| h.to_string());
    let loc = match action {
        Action::Read => read_location(p, h.as_deref()),
        _ => location(h.as_deref()),
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
    Ok(Json(load(&st, &p, &ctx, &id, Action::Read).await?.into()))
}

/// The rule for template, stage and event codes (shared with the web UI's forms).
pub fn code_ok(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

const CODE: &str = "must be 1-64 characters of A-Z, 0-9 and _";

/// Field checks of one stage; `prefix` places the field names (`stages[1].` in a new template,
/// empty for a stage added on its own).
pub fn stage_errors(s: &NewStageTemplate, prefix: &str, errs: &mut Vec<FieldError>) {
    if !code_ok(&s.code) {
        errs.push(FieldError::new(format!("{prefix}code"), CODE));
    }
    if s.name.trim().is_empty() || s.name.len() > 200 {
        errs.push(FieldError::new(
            format!("{prefix}name"),
            "is required (1-200 characters)",
        ));
    }
    if !code_ok(&s.completing_event_code) {
        errs.push(FieldError::new(
            format!("{prefix}completing_event_code"),
            CODE,
        ));
    }
}

/// Every field error of a new template (shared with the web UI's form).
pub fn validate(t: &NewJourneyTemplate) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !code_ok(&t.code) {
        errs.push(FieldError::new("code", CODE));
    }
    if t.name.trim().is_empty() || t.name.len() > 200 {
        errs.push(FieldError::new("name", "is required (1-200 characters)"));
    }
    if t.stages.is_empty() || t.stages.len() > MAX_STAGES {
        errs.push(FieldError::new(
            "stages",
            format!("must list 1-{MAX_STAGES} stages"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, s) in t.stages.iter().enumerate() {
        stage_errors(s, &format!("stages[{i}]."), &mut errs);
        if code_ok(&s.completing_event_code) && !seen.insert(s.completing_event_code.as_str()) {
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
        st.db.hospital(h).await.map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::Validation(vec![FieldError::new("hospital_id", "unknown hospital")])
            }
            e => e.into(),
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
        &t.id.to_string(),
        t.hospital_id.map(|h| h.to_string()).as_deref(),
        serde_json::json!({"code": t.code, "name": t.name, "stages": stages}),
    );
    commit_audited(tx, &a).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
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
        t.hospital_id.map(|h| h.to_string()).as_deref(),
        serde_json::to_value(&c).unwrap_or_default(),
    );
    commit_audited(tx, &a).await?;
    updated.stages = t.stages;
    Ok(Json(updated.into()))
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
    // The upper bound depends on the stages live when the transaction runs: the store checks it.
    if c.position.is_some_and(|p| p < 1) {
        errs.push(FieldError::new("position", "must be 1 or more when given"));
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    // The only unique key this update can break is the event code's (a move renumbers the
    // positions without collisions).
    let mut s = px360_store::templates::update_stage(&mut tx, &id, &stage_id, &c)
        .await
        .on_constraint("stage_templates.completing_event_code", |_| {
            ApiError::Conflict(
                "completing_event_code is already used by another stage of this template".into(),
            )
        })?;
    let mut from = None;
    if let Some(position) = c.position {
        let (moved, previous) =
            px360_store::templates::move_stage(&mut tx, &id, &stage_id, position).await?;
        from = Some(previous);
        if let Some(now) = moved.stages.into_iter().find(|x| x.id == s.id) {
            s = now;
        }
    }
    let a = AppState::entry(
        &p,
        &ctx,
        "update",
        "stage_template",
        &stage_id,
        t.hospital_id.map(|h| h.to_string()).as_deref(),
        serde_json::json!({"journey_template_id": id, "changes": c, "previous_position": from}),
    );
    commit_audited(tx, &a).await?;
    Ok(Json(s.into()))
}

#[utoipa::path(post, path = "/api/journey-templates/{id}/stages", tag = "journeys", request_body = NewStage, responses((status = 201, description = "The template with its stages renumbered", body = JourneyTemplate), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_stage(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<NewStage>,
) -> ApiResult<(StatusCode, Json<JourneyTemplate>)> {
    let t = load(&st, &p, &ctx, &id, Action::Update).await?;
    let stage = NewStageTemplate {
        code: b.code,
        name: b.name,
        completing_event_code: b.completing_event_code,
        survey_template_ref: b.survey_template_ref,
    };
    let mut errs = Vec::new();
    stage_errors(&stage, "", &mut errs);
    // The upper bound depends on the stages live when the transaction runs: the store checks it.
    if b.position.is_some_and(|p| p < 1) {
        errs.push(FieldError::new("position", "must be 1 or more when given"));
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let (updated, added) =
        px360_store::templates::add_stage(&mut tx, &id, &stage, b.position).await?;
    let a = AppState::entry(
        &p,
        &ctx,
        "create",
        "stage_template",
        &added.id.to_string(),
        t.hospital_id.map(|h| h.to_string()).as_deref(),
        serde_json::json!({
            "journey_template_id": id,
            "position": added.position,
            "code": added.code,
            "name": added.name,
            "completing_event_code": added.completing_event_code,
            "survey_template_ref": added.survey_template_ref,
        }),
    );
    commit_audited(tx, &a).await?;
    Ok((StatusCode::CREATED, Json(updated.into())))
}

/// Answers 200 with the template (not 204 like other deletes) because the positions of the
/// remaining stages change.
#[utoipa::path(delete, path = "/api/journey-templates/{id}/stages/{stage_id}", tag = "journeys", responses((status = 200, description = "The template with its remaining stages renumbered", body = JourneyTemplate), (status = 403), (status = 404), (status = 422, description = "The stage is the template's last")), security(("bearer" = [])))]
pub async fn remove_stage(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path((id, stage_id)): Path<(String, String)>,
) -> ApiResult<Json<JourneyTemplate>> {
    let t = load(&st, &p, &ctx, &id, Action::Update).await?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let (updated, removed) = px360_store::templates::remove_stage(&mut tx, &id, &stage_id).await?;
    let a = AppState::entry(
        &p,
        &ctx,
        "delete",
        "stage_template",
        &stage_id,
        t.hospital_id.map(|h| h.to_string()).as_deref(),
        serde_json::json!({
            "journey_template_id": id,
            "soft_delete": true,
            "position": removed.position,
            "code": removed.code,
            "completing_event_code": removed.completing_event_code,
        }),
    );
    commit_audited(tx, &a).await?;
    Ok(Json(updated.into()))
}

/// This resource's routes with their OpenAPI operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates, create_template))
        .routes(routes!(get_template, update_template))
        .routes(routes!(add_stage))
        .routes(routes!(update_stage, remove_stage))
}
