//! Complaints: categories, intake (staff, call centre and HIS integrations through the same
//! endpoint with `source_system` + `external_ref` for idempotent resends), the lifecycle as
//! commands to the domain machine, the timeline, and attachments served only in scope.
//!
//! Every state change, assignment and attachment access is audited in the transaction that makes
//! it. Bodies, descriptions and complainant contact details never enter the audit log or logs.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::paging::{before_param, next_page_headers};
use crate::uploads::Stored;
pub use crate::uploads::UploadQuery;
use crate::{commit_audited, obj, own_scope};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use px360_domain::action::complaint::{self as machine, ComplaintCommand, ComplaintError};
use px360_domain::action::origin::Placement;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, Principal, Resource};
use px360_domain::sla::Severity;
use px360_store::StoreError;
use px360_store::attachments::Attachment;
use px360_store::complaints::{
    self as store, CHANNELS, Category, CategoryInput, Complaint, ComplaintFilter, ComplaintRow,
    NewComplaint, Update,
};
use px360_store::sla::ItemKind;
use px360_store::sla::clock::ClockView;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

fn text(name: &str, v: &str, max: usize) -> ApiResult<()> {
    let n = v.trim().chars().count();
    if n == 0 || n > max {
        return Err(field(name, &format!("is required (1-{max} characters)")));
    }
    Ok(())
}

/// A transaction begin/commit failure, as a store error would answer.
pub(crate) fn tx_err<E>(e: E) -> ApiError
where
    StoreError: From<E>,
{
    StoreError::from(e).into()
}

#[utoipa::path(get, path = "/api/complaint-categories", tag = "complaints", responses((status = 200, body = Vec<Category>)), security(("bearer" = [])))]
pub async fn list_categories(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<Category>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::ComplaintCategory,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    Ok(Json(st.db.complaint_categories(false).await?))
}

#[utoipa::path(put, path = "/api/complaint-categories/{code}", tag = "complaints", request_body = CategoryInput,
    responses((status = 200, body = Category), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put_category(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(code): Path<String>,
    Json(mut b): Json<CategoryInput>,
) -> ApiResult<Json<Category>> {
    st.authorize(
        &p,
        &ctx,
        Resource::ComplaintCategory,
        Action::Update,
        px360_domain::rbac::ObjectScope::Group,
        None,
    )
    .await?;
    if code.is_empty()
        || code.len() > 40
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(field("code", "must be 1-40 of a-z, 0-9 and _"));
    }
    text("name_en", &b.name_en, 100)?;
    text("name_ar", &b.name_ar, 100)?;
    b.code = code;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let cat = store::put_category(&mut tx, &b).await?;
    let e = AppState::entry(
        &p,
        &ctx,
        "complaint_category.put",
        "complaint_category",
        &cat.code,
        None,
        serde_json::json!({"name_en": cat.name_en, "name_ar": cat.name_ar, "is_active": cat.is_active}),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(cat))
}

/// A complaint taken in by staff or sent by another system.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ComplaintInput {
    /// Required when no department is given; otherwise the department's hospital is used.
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub category_code: String,
    /// low | medium | high | critical (default medium).
    pub severity: Option<String>,
    /// staff | call_centre | his | email | phone | letter (public_form is the public page's).
    pub source_channel: String,
    /// Sending system (e.g. `CALLCENTRE`); with `external_ref` a resend returns the first one.
    pub source_system: Option<String>,
    pub external_ref: Option<String>,
    pub patient_id: Option<Uuid>,
    pub physician_id: Option<Uuid>,
    pub encounter_id: Option<String>,
    pub subject: String,
    pub description: String,
    pub complainant_name: Option<String>,
    pub complainant_contact: Option<String>,
    /// en | ar (default en).
    pub language: Option<String>,
}

/// Validate an intake into a store record (shared with the public form of px360-web).
pub async fn validate_intake(st: &AppState, b: &ComplaintInput) -> ApiResult<NewComplaint> {
    let mut errs = Vec::new();
    let mut check = |name: &str, v: Option<&str>, max: usize, required: bool| {
        let n = v.map(|v| v.trim().chars().count()).unwrap_or(0);
        if (required && n == 0) || n > max || (v.is_some() && n == 0) {
            errs.push(FieldError::new(name, format!("must be 1-{max} characters")));
        }
    };
    check("subject", Some(&b.subject), 200, true);
    check("description", Some(&b.description), 4000, true);
    check(
        "complainant_name",
        b.complainant_name.as_deref(),
        200,
        false,
    );
    check(
        "complainant_contact",
        b.complainant_contact.as_deref(),
        200,
        false,
    );
    check("encounter_id", b.encounter_id.as_deref(), 100, false);
    check("source_system", b.source_system.as_deref(), 50, false);
    check("external_ref", b.external_ref.as_deref(), 100, false);
    let severity = match b.severity.as_deref() {
        None => None,
        Some(s) => match Severity::parse(s) {
            Some(v) => Some(v),
            None => {
                errs.push(FieldError::new(
                    "severity",
                    "must be low, medium, high or critical",
                ));
                None
            }
        },
    };
    if !CHANNELS.contains(&b.source_channel.as_str()) {
        errs.push(FieldError::new("source_channel", "is not a known channel"));
    }
    let language = b.language.clone().unwrap_or_else(|| "en".into());
    if language != "en" && language != "ar" {
        errs.push(FieldError::new("language", "must be en or ar"));
    }
    if b.external_ref.is_some() != b.source_system.is_some() {
        errs.push(FieldError::new(
            "external_ref",
            "source_system and external_ref go together",
        ));
    }
    let cats = st.db.complaint_categories(true).await?;
    if !cats.iter().any(|c| c.code == b.category_code) {
        errs.push(FieldError::new(
            "category_code",
            "is not an active category",
        ));
    }
    // The department decides the hospital: a hospital id next to it must agree.
    let (hospital, department) = match b.department_id {
        Some(d) => match st.db.department(&d.to_string()).await {
            Ok(dept) => {
                let h = Some(dept.hospital_id);
                if b.hospital_id.is_some() && b.hospital_id != h {
                    errs.push(FieldError::new(
                        "department_id",
                        "belongs to another hospital",
                    ));
                }
                (h, Some(d))
            }
            Err(StoreError::NotFound) => {
                errs.push(FieldError::new("department_id", "unknown department"));
                (None, None)
            }
            Err(e) => return Err(e.into()),
        },
        None => (b.hospital_id, None),
    };
    let Some(hospital) = hospital else {
        if errs.is_empty() {
            errs.push(FieldError::new(
                "hospital_id",
                "a hospital or a department is required",
            ));
        }
        return Err(ApiError::Validation(errs));
    };
    if let Some(pid) = b.patient_id {
        match st.db.patient(&pid.to_string()).await {
            Ok(pt) if pt.hospital_id == hospital => {}
            Ok(_) | Err(StoreError::NotFound) => errs.push(FieldError::new(
                "patient_id",
                "unknown patient in this hospital",
            )),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(ph) = b.physician_id {
        match st.db.physician(&ph.to_string()).await {
            Ok(x) if x.hospital_id == hospital => {}
            Ok(_) | Err(StoreError::NotFound) => errs.push(FieldError::new(
                "physician_id",
                "unknown physician in this hospital",
            )),
            Err(e) => return Err(e.into()),
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    Ok(NewComplaint {
        hospital_id: hospital,
        department_id: department,
        category_code: b.category_code.clone(),
        severity,
        source_channel: b.source_channel.clone(),
        source_system: b.source_system.clone(),
        external_ref: b.external_ref.clone(),
        patient_id: b.patient_id,
        physician_id: b.physician_id,
        encounter_id: b.encounter_id.clone(),
        subject: b.subject.trim().to_owned(),
        description: b.description.trim().to_owned(),
        complainant_name: b.complainant_name.clone(),
        complainant_contact: b.complainant_contact.clone(),
        language,
        created_by: None,
    })
}

/// Insert, raise the action the creation rules ask for, audit; one transaction.
pub async fn intake(
    st: &AppState,
    n: &NewComplaint,
    actor: px360_store::audit::AuditEntry,
) -> ApiResult<(Complaint, bool)> {
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let (c, created) = store::insert(&mut tx, n, now).await?;
    if !created {
        tx.rollback().await.map_err(tx_err)?;
        return Ok((c, false));
    }
    let mut action = None;
    let cal = px360_store::sla::config::business_calendar(&mut tx, c.hospital_id).await?;
    // The hospital's own creation rules (category × severity triggers, owner rule).
    let rules = px360_store::action_rules::rules_for(&mut tx, c.hospital_id).await?;
    let plan = rules.for_complaint(
        c.id,
        &c.category_code,
        c.severity,
        Placement {
            hospital_id: Some(c.hospital_id),
            department_id: c.department_id,
        },
        now,
        (&px360_domain::sla::SlaPolicy::demo_default(), &cal),
    );
    if let Some(plan) = plan
        && let Some(r) = px360_store::action_rules::raise(
            &mut tx,
            &plan,
            px360_store::action_rules::Raise {
                hospital_id: c.hospital_id,
                department_id: c.department_id,
                category_code: &c.category_code,
                // The reference and the complaint's own words: the same in every language of
                // the interface (a fixed English prefix stood in Arabic pages).
                title: format!(
                    "{} · {}",
                    c.reference,
                    c.subject.chars().take(150).collect::<String>()
                ),
                description: String::new(),
                created_by: n.created_by,
            },
            now,
        )
        .await?
    {
        action = Some(r.action.id);
    }
    let mut e = actor;
    e.action = "complaint.create".into();
    e.object_type = Some("complaint");
    e.object_id = Some(c.id.to_string());
    e.hospital_id = Some(c.hospital_id.to_string());
    e.changes = Some(serde_json::json!({
        "reference": c.reference, "category": c.category_code, "severity": c.severity.as_str(),
        "channel": c.source_channel, "department_id": c.department_id, "action_id": action,
    }));
    commit_audited(tx, &e).await?;
    Ok((c, true))
}

#[utoipa::path(post, path = "/api/complaints", tag = "complaints", request_body = ComplaintInput,
    responses((status = 201, body = Complaint), (status = 200, body = Complaint, description = "A resend of a complaint already received (same source_system and external_ref)"),
        (status = 403), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn create_complaint(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<ComplaintInput>,
) -> ApiResult<(StatusCode, Json<Complaint>)> {
    if b.source_channel == "public_form" {
        return Err(field(
            "source_channel",
            "public_form is the public page's channel",
        ));
    }
    let mut n = validate_intake(&st, &b).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Complaint,
        Action::Create,
        obj(
            &n.hospital_id.to_string(),
            n.department_id.map(|d| d.to_string()).as_deref(),
        ),
        None,
    )
    .await?;
    n.created_by = Some(p.user_id());
    let e = AppState::entry(
        &p,
        &ctx,
        "complaint.create",
        "complaint",
        "",
        None,
        serde_json::Value::Null,
    );
    let (c, created) = intake(&st, &n, e).await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(c)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ComplaintQuery {
    pub status: Option<String>,
    pub department_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub category_code: Option<String>,
    pub severity: Option<String>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `X-Next-Cursor` header.
    pub before: Option<String>,
}

/// The caller's scope narrowed by the query's filters.
pub fn list_filter(p: &Principal, q: &ComplaintQuery) -> ComplaintFilter {
    let scope = crate::filter(p);
    ComplaintFilter {
        hospital_id: scope.hospital_id,
        // A department-scoped caller's own department wins over a requested one.
        department_id: scope
            .department_id
            .or(q.department_id.map(|d| d.to_string())),
        status: q.status.clone(),
        assignee_id: q.assignee_id.map(|a| a.to_string()),
        category_code: q.category_code.clone(),
        severity: q.severity.clone(),
    }
}

#[utoipa::path(get, path = "/api/complaints", tag = "complaints", params(ComplaintQuery),
    responses((status = 200, body = Vec<ComplaintRow>, description = "Complaints in scope, newest first",
        headers(("X-Next-Cursor" = String, description = "The `before` value of the next page"))),
        (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list_complaints(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<ComplaintQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<ComplaintRow>>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::Complaint,
        Action::Read,
        own_scope(&p),
        None,
    )
    .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let page = st
        .db
        .complaints(&list_filter(&p, &q), before.as_ref(), limit)
        .await?;
    let dept = q.department_id.map(|d| d.to_string());
    let assignee = q.assignee_id.map(|d| d.to_string());
    let headers = next_page_headers(
        "/api/complaints",
        &[
            ("status", q.status.as_deref()),
            ("department_id", dept.as_deref()),
            ("assignee_id", assignee.as_deref()),
            ("category_code", q.category_code.as_deref()),
            ("severity", q.severity.as_deref()),
        ],
        page.next.as_ref(),
        limit,
    )?;
    Ok((headers, Json(page.rows)))
}

/// A complaint in scope for `action`, else 404/403 (audited by `authorize`).
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Action,
) -> ApiResult<Complaint> {
    let c = st.db.complaint(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Complaint,
        action,
        obj(
            &c.hospital_id.to_string(),
            c.department_id.map(|d| d.to_string()).as_deref(),
        ),
        Some(&id.to_string()),
    )
    .await?;
    Ok(c)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplaintDetail {
    pub complaint: Complaint,
    pub clock: ClockView,
    pub updates: Vec<Update>,
    pub attachments: Vec<Attachment>,
}

#[utoipa::path(get, path = "/api/complaints/{id}", tag = "complaints",
    responses((status = 200, body = ComplaintDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_complaint(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ComplaintDetail>> {
    let c = load(&st, &p, &ctx, id, Action::Read).await?;
    Ok(Json(ComplaintDetail {
        clock: st.db.sla_clock(ItemKind::Complaint, id).await?,
        updates: st.db.complaint_updates(id, true).await?,
        attachments: st.db.attachments_of("complaint", id).await?,
        complaint: c,
    }))
}

pub(crate) fn machine_error(e: ComplaintError) -> ApiError {
    match e {
        ComplaintError::NotPermitted { .. } => ApiError::Forbidden,
        ComplaintError::TextRequired(f) => field(&f.replace(' ', "_"), &e.to_string()),
        other => ApiError::Conflict(other.to_string()),
    }
}

/// Apply a lifecycle command as `p` (API and web UI).
pub async fn transition(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    cmd: &ComplaintCommand,
) -> ApiResult<Complaint> {
    let c = load(st, p, ctx, id, Action::Update).await?;
    if let ComplaintCommand::Assign { to } = cmd {
        // The assignee must be an active user who can see the complaint.
        let u = st.db.user(&to.to_string()).await.map_err(|e| match e {
            StoreError::NotFound => field("to", "unknown user"),
            e => e.into(),
        })?;
        let up = Principal::new(u.id, u.role, u.hospital_id, u.department_id)
            .ok()
            .filter(|_| u.is_active)
            .ok_or_else(|| field("to", "unknown user"))?;
        let at = obj(
            &c.hospital_id.to_string(),
            c.department_id.map(|d| d.to_string()).as_deref(),
        );
        if !up.may(Resource::Complaint, Action::Update, &at) {
            return Err(field("to", "this user cannot work on the complaint"));
        }
    }
    let cur = machine::Complaint {
        status: c.status,
        assignee: c.assignee_id,
        cycle: u32::try_from(c.cycle).unwrap_or(1),
    };
    let t = machine::apply(&cur, cmd, p).map_err(machine_error)?;
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let updated = store::apply(&mut tx, id, &t.next, &t.events, Some(p.user_id()), now).await?;
    let mut audit = Vec::new();
    for ev in &t.events {
        let (action, changes) = match ev {
            machine::ComplaintEvent::StatusChanged { from, to } => (
                "complaint.status",
                serde_json::json!({"from": from.as_str(), "to": to.as_str()}),
            ),
            machine::ComplaintEvent::Assigned { from, to } => (
                "complaint.assign",
                serde_json::json!({"from": from, "to": to}),
            ),
            // The summary and reason may name the patient: their length only.
            machine::ComplaintEvent::Resolved { summary } => (
                "complaint.resolve",
                serde_json::json!({"summary_chars": summary.chars().count()}),
            ),
            machine::ComplaintEvent::Reopened { cycle, .. } => {
                ("complaint.reopen", serde_json::json!({"cycle": cycle}))
            }
        };
        audit.push(AppState::entry(
            p,
            ctx,
            action,
            "complaint",
            &id.to_string(),
            Some(&c.hospital_id.to_string()),
            changes,
        ));
    }
    if let ComplaintCommand::Assign { to } = cmd {
        let detail = serde_json::json!({"reference": c.reference});
        px360_store::sla::scan::notify(
            &mut tx,
            &to.to_string(),
            "assigned",
            (ItemKind::Complaint, id),
            &format!("assign:{id}:{}", now.timestamp_micros()),
            &detail,
            now,
        )
        .await?;
    }
    px360_store::audit::append_many(&mut tx, &audit).await?;
    tx.commit().await.map_err(tx_err)?;
    Ok(updated)
}

#[utoipa::path(post, path = "/api/complaints/{id}/transitions", tag = "complaints",
    request_body(content = Object, description = "A command: {\"command\": \"acknowledge\" | \"start_work\" | \"wait_on_patient\" | \"patient_replied\" | \"resolve\" (summary) | \"close\" | \"reopen\" (reason) | \"assign\" (to)}"),
    responses((status = 200, body = Complaint), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn post_transition(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(cmd): Json<ComplaintCommand>,
) -> ApiResult<Json<Complaint>> {
    Ok(Json(transition(&st, &p, &ctx, id, &cmd).await?))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct UpdateInput {
    /// `internal` (a note for staff) or `patient` (a message to the complainant).
    pub visibility: String,
    pub body: String,
}

/// Add a note or a patient message as `p`.
pub async fn add_update(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &UpdateInput,
) -> ApiResult<Update> {
    let c = load(st, p, ctx, id, Action::Update).await?;
    text("body", &b.body, 4000)?;
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let u = match b.visibility.as_str() {
        "internal" => {
            store::add_update(
                &mut tx,
                id,
                "note",
                "internal",
                b.body.trim(),
                Some(p.user_id()),
                now,
            )
            .await?
        }
        "patient" => store::message_patient(&mut tx, id, b.body.trim(), p.user_id(), now).await?,
        _ => return Err(field("visibility", "must be internal or patient")),
    };
    let e = AppState::entry(
        p,
        ctx,
        "complaint.update",
        "complaint",
        &id.to_string(),
        Some(&c.hospital_id.to_string()),
        serde_json::json!({"visibility": b.visibility, "update_id": u.id, "chars": b.body.chars().count()}),
    );
    commit_audited(tx, &e).await?;
    Ok(u)
}

#[utoipa::path(post, path = "/api/complaints/{id}/updates", tag = "complaints", request_body = UpdateInput,
    responses((status = 201, body = Update), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn post_update(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateInput>,
) -> ApiResult<(StatusCode, Json<Update>)> {
    Ok((
        StatusCode::CREATED,
        Json(add_update(&st, &p, &ctx, id, &b).await?),
    ))
}

#[utoipa::path(post, path = "/api/complaints/{id}/attachments", tag = "complaints", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes; its Content-Type must be application/pdf, image/png, image/jpeg or text/plain and match the content"),
    responses((status = 201, body = Attachment), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn upload_attachment(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let c = load(&st, &p, &ctx, id, Action::Update).await?;
    let ct = crate::uploads::media_type(&headers);
    let up =
        Stored::check_and_put(&st, ("complaint", id), c.hospital_id, &q.name, ct, &body).await?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let a = up.insert(&mut tx, &p).await?;
    store::add_update(
        &mut tx,
        id,
        "attachment",
        "internal",
        &a.id.to_string(),
        Some(p.user_id()),
        Utc::now(),
    )
    .await?;
    up.commit(tx, &p, &ctx, &a).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// An attachment's bytes for `p`, if its owner is in `p`'s scope; the access is audited.
pub async fn read_attachment(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
) -> ApiResult<(Attachment, Vec<u8>)> {
    let a = st.db.attachment(id).await?;
    match a.owner_kind.as_str() {
        "complaint" => {
            load(st, p, ctx, a.owner_id, Action::Read).await?;
        }
        _ => {
            let act = st.db.px_action(a.owner_id).await?;
            st.authorize(
                p,
                ctx,
                Resource::PxAction,
                Action::Read,
                obj(
                    &act.hospital_id.to_string(),
                    act.department_id.map(|d| d.to_string()).as_deref(),
                ),
                Some(&id.to_string()),
            )
            .await?;
        }
    }
    let bytes = st.files.get(&a.sha256).await.map_err(ApiError::internal)?;
    st.audit(AppState::entry(
        p,
        ctx,
        "attachment.download",
        "attachment",
        &id.to_string(),
        Some(&a.hospital_id.to_string()),
        serde_json::json!({"owner_kind": a.owner_kind, "owner_id": a.owner_id}),
    ))
    .await?;
    Ok((a, bytes))
}

#[utoipa::path(get, path = "/api/attachments/{id}", tag = "complaints",
    responses((status = 200, description = "The file, as an attachment download"), (status = 404)), security(("bearer" = [])))]
pub async fn download_attachment(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let (a, bytes) = read_attachment(&st, &p, &ctx, id).await?;
    Ok(attachment_response(&a, bytes))
}

/// Served as a download with its checked type, never sniffed or rendered inline.
pub fn attachment_response(a: &Attachment, bytes: Vec<u8>) -> Response {
    let safe: String = a
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories))
        .routes(routes!(put_category))
        .routes(routes!(list_complaints, create_complaint))
        .routes(routes!(get_complaint))
        .routes(routes!(post_transition))
        .routes(routes!(post_update))
        .routes(routes!(upload_attachment))
        .routes(routes!(download_attachment))
}
