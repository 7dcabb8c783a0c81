//! Complaints from other systems (call centre, HIS) with the hospital's integration API key, and
//! the per-hospital action creation rules.
//!
//! Intake: the key decides the hospital (a department elsewhere is "unknown"); `source_system`
//! must be one of the key's systems; `external_ref` (or the `Idempotency-Key` header) is the
//! idempotency key: a retried POST answers 200 with the complaint first created, never a second
//! one (unique `hospital_id, source_system, external_ref`; a concurrent twin that loses the race
//! reads the winner). Validation errors are problem+json naming each field; the creation is
//! audited with the key as the actor, and the action the hospital's rules ask for is raised in
//! the same transaction.

use crate::AppState;
use crate::auth::{Authed, Ctx, KeyAuth};
use crate::commit_audited;
use crate::complaints::{ComplaintInput, intake, tx_err, validate_intake};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use px360_domain::action::origin::CreationRules;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Resource};
use px360_store::StoreError;
use px360_store::audit::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Channels another system may file under (staff and public_form belong to the UI).
const SYSTEM_CHANNELS: [&str; 5] = ["call_centre", "his", "email", "phone", "letter"];

/// A complaint sent by another system.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"source_system": "CALLCENTRE", "external_ref": "CC-2026-000123",
    "source_channel": "call_centre", "department_id": "0190c0de-0000-7000-8000-000000000001",
    "category_code": "waiting_time", "severity": "high", "subject": "Waited four hours",
    "description": "The caller waited four hours in the emergency department.", "language": "ar"}))]
pub struct SystemComplaint {
    /// Sending system; must be one of the API key's source systems.
    pub source_system: String,
    /// The sender's own id of this complaint: the idempotency key (or send `Idempotency-Key`).
    pub external_ref: Option<String>,
    /// call_centre | his | email | phone | letter
    pub source_channel: String,
    /// A department of the key's hospital (or `department_code`).
    pub department_id: Option<Uuid>,
    /// The department's code in the key's hospital, e.g. `ED`.
    pub department_code: Option<String>,
    pub category_code: String,
    /// low | medium | high | critical (default medium).
    pub severity: Option<String>,
    pub patient_id: Option<Uuid>,
    pub physician_id: Option<Uuid>,
    pub encounter_id: Option<String>,
    pub subject: String,
    pub description: String,
    pub complainant_name: Option<String>,
    pub complainant_contact: Option<String>,
    /// en | ar (default en): the complainant's language.
    pub language: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComplaintReceipt {
    pub complaint_id: Uuid,
    /// The reference to give the complainant.
    pub reference: String,
    pub status: String,
    /// True when this repeats an earlier POST (same source_system and external_ref).
    pub duplicate: bool,
}

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

#[utoipa::path(post, path = "/api/integrations/complaints", tag = "integrations", request_body = SystemComplaint,
    params(("Idempotency-Key" = Option<String>, Header, description = "Used as external_ref when the body has none")),
    responses((status = 201, body = ComplaintReceipt), (status = 200, body = ComplaintReceipt, description = "A retry of a complaint already received"),
        (status = 401, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 429)),
    security(("api_key" = [])))]
pub async fn post_complaint(
    State(st): State<AppState>,
    KeyAuth(authed): KeyAuth,
    ctx: Ctx,
    headers: HeaderMap,
    Json(b): Json<SystemComplaint>,
) -> ApiResult<(StatusCode, Json<ComplaintReceipt>)> {
    let key = authed.key;
    let hospital = key.hospital_id;
    let mut errs = Vec::new();
    if !key
        .source_systems
        .iter()
        .any(|s| s == "*" || s == &b.source_system)
    {
        errs.push(FieldError::new(
            "source_system",
            "is not permitted for this API key",
        ));
    }
    if !SYSTEM_CHANNELS.contains(&b.source_channel.as_str()) {
        errs.push(FieldError::new(
            "source_channel",
            "must be call_centre, his, email, phone or letter",
        ));
    }
    let header_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let external_ref = b.external_ref.clone().or(header_key);
    if external_ref.is_none() {
        errs.push(FieldError::new(
            "external_ref",
            "is required (or the Idempotency-Key header): it makes a retry safe",
        ));
    }
    // The department must be the key's hospital's; another hospital's is as unknown as a
    // missing one (the key sees nothing outside its hospital).
    let mut department = None;
    if let Some(d) = b.department_id {
        match st.db.department(&d.to_string()).await {
            Ok(dep) if dep.hospital_id == hospital => department = Some(d),
            Ok(_) | Err(StoreError::NotFound) => errs.push(FieldError::new(
                "department_id",
                "unknown department in this hospital",
            )),
            Err(e) => return Err(e.into()),
        }
    } else if let Some(code) = b.department_code.as_deref() {
        match px360_store::action_rules::department_by_code(&st.db, hospital, code).await? {
            Some(d) => department = Some(d),
            None => errs.push(FieldError::new(
                "department_code",
                "unknown department in this hospital",
            )),
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let input = ComplaintInput {
        hospital_id: Some(hospital),
        department_id: department,
        category_code: b.category_code,
        severity: b.severity,
        source_channel: b.source_channel,
        source_system: Some(b.source_system),
        external_ref,
        patient_id: b.patient_id,
        physician_id: b.physician_id,
        encounter_id: b.encounter_id,
        subject: b.subject,
        description: b.description,
        complainant_name: b.complainant_name,
        complainant_contact: b.complainant_contact,
        language: b.language,
    };
    let n = validate_intake(&st, &input).await?;
    let actor = AuditEntry {
        actor_type: "api_key",
        actor_id: Some(key.id.to_string()),
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        ..AuditEntry::default()
    };
    let (c, created) = match intake(&st, &n, actor.clone()).await {
        // A concurrent twin committed first: its complaint is the answer.
        Err(ApiError::FieldConflict { .. } | ApiError::Conflict(_)) => {
            intake(&st, &n, actor).await?
        }
        other => other?,
    };
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        code,
        Json(ComplaintReceipt {
            complaint_id: c.id,
            reference: c.reference,
            status: c.status.as_str().to_owned(),
            duplicate: !created,
        }),
    ))
}

async fn gate(
    st: &AppState,
    p: &px360_domain::rbac::Principal,
    ctx: &Ctx,
    hospital: Uuid,
    action: Action,
) -> ApiResult<()> {
    st.db.hospital(&hospital.to_string()).await?;
    st.authorize(
        p,
        ctx,
        Resource::SlaConfig,
        action,
        ObjectScope::Hospital {
            hospital_id: hospital,
        },
        Some(&hospital.to_string()),
    )
    .await
}

/// When actions are raised automatically in a hospital, and who owns them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"negative_survey": "medium",
    "complaints": [{"category": "safety", "min_severity": "low"}, {"category": null, "min_severity": "high"}],
    "owner": {"kind": "department_manager"}}))]
pub struct ActionRules {
    /// Severity of actions from negative survey responses (low | medium | high | critical);
    /// null raises none.
    #[schema(value_type = Option<String>)]
    pub negative_survey: Option<String>,
    /// Complaints of `category` (null: any) at or above `min_severity` raise an action.
    #[schema(value_type = Vec<Object>)]
    pub complaints: serde_json::Value,
    /// `{"kind": "department_manager"}` (falls back to the PX coordinator, then the hospital
    /// admin) or `{"kind": "hospital_role", "role": "px_coordinator"}`.
    #[schema(value_type = Object)]
    pub owner: serde_json::Value,
}

fn to_api(r: &CreationRules) -> ActionRules {
    let v = serde_json::to_value(r).unwrap_or_default();
    ActionRules {
        negative_survey: v["negative_survey"].as_str().map(str::to_owned),
        complaints: v["complaints"].clone(),
        owner: v["owner"].clone(),
    }
}

#[utoipa::path(get, path = "/api/hospitals/{id}/action-rules", tag = "actions",
    responses((status = 200, body = ActionRules), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_action_rules(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ActionRules>> {
    gate(&st, &p, &ctx, id, Action::Read).await?;
    Ok(Json(to_api(&st.db.action_rules(id).await?)))
}

#[utoipa::path(put, path = "/api/hospitals/{id}/action-rules", tag = "actions", request_body = ActionRules,
    responses((status = 200, body = ActionRules), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn put_action_rules(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<ActionRules>,
) -> ApiResult<Json<ActionRules>> {
    gate(&st, &p, &ctx, id, Action::Update).await?;
    let v = serde_json::json!({"negative_survey": b.negative_survey, "complaints": b.complaints, "owner": b.owner});
    let rules: CreationRules = serde_json::from_value(v).map_err(|e| {
        // serde names the offending part; the message carries no patient data.
        let f = ["negative_survey", "complaints", "owner"]
            .into_iter()
            .find(|f| e.to_string().contains(f))
            .unwrap_or("rules");
        field(f, &format!("is not valid: {e}"))
    })?;
    if let Some(c) = rules
        .complaints
        .iter()
        .filter_map(|t| t.category.as_deref())
        .find(|c| c.is_empty())
    {
        return Err(field("complaints", &format!("category {c:?} is empty")));
    }
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    px360_store::action_rules::put_rules(&mut tx, id, &rules, Some(p.user_id()), Utc::now())
        .await?;
    let out = to_api(&rules);
    let e = AppState::entry(
        &p,
        &ctx,
        "action_rules.put",
        "action_rules",
        &id.to_string(),
        Some(&id.to_string()),
        serde_json::to_value(&rules).unwrap_or_default(),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(out))
}

pub(crate) fn routes(cfg: &crate::ApiConfig) -> OpenApiRouter<AppState> {
    let mut intake = OpenApiRouter::new().routes(routes!(post_complaint));
    if let Some(c) = tower_governor::governor::GovernorConfigBuilder::default()
        .key_extractor(crate::client_ip::ClientIpKey)
        .period(cfg.events_period)
        .burst_size(cfg.events_burst)
        .finish()
    {
        intake = intake.layer(tower_governor::GovernorLayer::new(c));
    }
    OpenApiRouter::new()
        .merge(intake)
        .routes(routes!(get_action_rules, put_action_rules))
}
