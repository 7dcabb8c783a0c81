//! Call centre (issue 18, item 2): the agent logs inbound and outbound calls, finds the patient
//! by MRN or phone inside their scope, and turns a call into a complaint (the complaint API's
//! own operation, channel `call_centre`, idempotent on the call) or a survey taken by phone
//! (`phone_surveys`). An outbound call may make a callback of the queue (`callbacks`).
//!
//! A call is placed where the agent works: a department-scoped agent's own department,
//! otherwise the hospital (and department) the request names. Calls carry patient data (who
//! called, about whom, notes): Staff and up, no Viewers. Creating, linking and reading one is
//! audited; notes, MRNs and phone numbers never enter the audit log (kinds and counts do).

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use crate::paging::{before_param, next_page_headers};
use crate::{commit_audited, obj_of, own_scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use px360_domain::callcentre::call::{CallError, CallRecord, Caller, Direction, Outcome, Reason};
use px360_domain::callcentre::lookup::PatientKey;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::StoreError;
use px360_store::callcentre::callbacks::{self as cb_store, CallbackRow};
use px360_store::callcentre::calls::{self as store, Call, CallFilter, Link, NewCall};
use px360_store::callcentre::lookup::PatientMatch;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

/// Longest notes kept with a call.
pub const MAX_NOTES: usize = 4000;

/// A call as the agent logs it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CallInput {
    /// Defaults to the caller's hospital, or the department's.
    pub hospital_id: Option<Uuid>,
    /// Defaults to a department-scoped caller's own department.
    pub department_id: Option<Uuid>,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `patient`, `relative` or `other`.
    pub caller: String,
    /// The patient found by the lookup (`GET /api/patient-lookup`).
    pub patient_id: Option<Uuid>,
    /// How the patient was found: `mrn` or `phone`.
    pub lookup_kind: Option<String>,
    /// `appointment`, `complaint`, `compliment`, `enquiry`, `billing`, `survey_follow_up`,
    /// `callback` or `other`.
    pub reason: String,
    /// `resolved`, `complaint_created`, `feedback_created`, `survey_completed`,
    /// `callback_scheduled`, `no_answer` or `transferred`.
    pub outcome: String,
    /// Talk time; 0 only for `no_answer`.
    pub duration_secs: u32,
    /// When the call started (default: now minus the duration).
    pub started_at: Option<DateTime<Utc>>,
    /// Free text (patient data): scored by the sentiment engine, stored with the call and in
    /// the sentiment store (`call_note`; the hospital's sentiment rule applies).
    pub notes: Option<String>,
    /// The open callback this (outbound) call makes: it leaves the queue, on time or late.
    pub callback_id: Option<Uuid>,
}

fn call_error(e: CallError) -> ApiError {
    let f = match e {
        CallError::PatientRequired => "patient_id",
        CallError::BadDuration | CallError::AnsweredWithoutTalk => "duration_secs",
    };
    field(f, e.code())
}

fn parse<T>(
    errs: &mut Vec<FieldError>,
    name: &str,
    v: &str,
    p: fn(&str) -> Option<T>,
) -> Option<T> {
    let r = p(v.trim());
    if r.is_none() {
        errs.push(FieldError::new(name, "is not a known value"));
    }
    r
}

/// Where a new object of the call centre lives: the named department (its hospital), the named
/// hospital, or the caller's own; a department-scoped caller always works in their department.
pub(crate) async fn placement(
    st: &AppState,
    p: &Principal,
    hospital: Option<Uuid>,
    department: Option<Uuid>,
) -> ApiResult<(Uuid, Option<Uuid>)> {
    let department = department.or(p.scope().department_id());
    match department {
        Some(d) => {
            let row = crate::known_department(st, &d.to_string()).await?;
            if hospital.is_some_and(|h| h != row.hospital_id) {
                return Err(field("department_id", "belongs to another hospital"));
            }
            Ok((row.hospital_id, Some(d)))
        }
        None => hospital
            .or(p.scope().hospital_id())
            .map(|h| (h, None))
            .ok_or_else(|| field("hospital_id", "a hospital or a department is required")),
    }
}

/// A patient the caller may read, in `hospital`; anything else is the same field error (an
/// out-of-scope patient's existence is not disclosed).
pub(crate) async fn readable_patient(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    hospital: Uuid,
) -> ApiResult<px360_store::org::PatientRow> {
    let unknown = || field("patient_id", "unknown patient in this hospital");
    match st.db.patient(&id.to_string()).await {
        Ok(pt)
            if pt.hospital_id == hospital
                && p.may(
                    Resource::Patient,
                    Action::Read,
                    &obj_of(pt.hospital_id, pt.department_id),
                ) =>
        {
            Ok(pt)
        }
        Ok(_) | Err(StoreError::NotFound) => Err(unknown()),
        Err(e) => Err(e.into()),
    }
}

/// Log a call as `p` (API and agent screen): validated by the domain, notes recorded in the
/// sentiment store (which may raise an action by the hospital's rule), the callback it makes
/// closed, audited; one transaction.
pub async fn log_call(st: &AppState, p: &Principal, ctx: &Ctx, b: &CallInput) -> ApiResult<Call> {
    let mut errs = Vec::new();
    let direction = parse(&mut errs, "direction", &b.direction, Direction::parse);
    let caller = parse(&mut errs, "caller", &b.caller, Caller::parse);
    let reason = parse(&mut errs, "reason", &b.reason, Reason::parse);
    let outcome = parse(&mut errs, "outcome", &b.outcome, Outcome::parse);
    let lookup_kind = match b.lookup_kind.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("mrn") => Some("mrn"),
        Some("phone") => Some("phone"),
        Some(_) => {
            errs.push(FieldError::new("lookup_kind", "must be mrn or phone"));
            None
        }
    };
    let notes = b
        .notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTES)
    {
        errs.push(FieldError::new("notes", "must be at most 4000 characters"));
    }
    let (hospital, department) = placement(st, p, b.hospital_id, b.department_id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Call,
        Action::Create,
        obj_of(hospital, department),
        None,
    )
    .await?;
    let patient = match b.patient_id {
        Some(id) => match readable_patient(st, p, id, hospital).await {
            Ok(pt) => Some(pt),
            Err(ApiError::Validation(mut e)) => {
                errs.append(&mut e);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    let (Some(direction), Some(caller), Some(reason), Some(outcome)) =
        (direction, caller, reason, outcome)
    else {
        return Err(ApiError::Validation(errs));
    };
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let now = Utc::now();
    let started = b
        .started_at
        .unwrap_or_else(|| now - chrono::Duration::seconds(i64::from(b.duration_secs)));
    if started > now + chrono::Duration::minutes(5) {
        return Err(field("started_at", "is in the future"));
    }
    // The domain asks for the lookup key only to know a patient is named; the stored MRN
    // stands for it (it need not pass the lookup's input format).
    let key = patient.as_ref().map(|pt| PatientKey::Mrn(pt.mrn.clone()));
    let record = CallRecord::new(
        p.user_id(),
        direction,
        caller,
        key,
        reason,
        outcome,
        b.duration_secs,
        started,
    )
    .map_err(call_error)?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let call = store::insert(
        &mut tx,
        &NewCall {
            hospital_id: hospital,
            department_id: department,
            patient_id: patient.as_ref().map(|pt| pt.id),
            lookup_kind,
            record,
            notes,
            callback_id: b.callback_id,
        },
        now,
    )
    .await?;
    let mut audit = vec![AppState::entry(
        p,
        ctx,
        "call.create",
        "call",
        &call.id.to_string(),
        Some(&hospital.to_string()),
        serde_json::json!({
            "direction": direction.as_str(), "reason": reason.as_str(), "outcome": outcome.as_str(),
            "duration_secs": b.duration_secs, "patient": call.patient_id.is_some(), "lookup_kind": lookup_kind,
            "sentiment": call.sentiment.as_ref().map(|s| s.label.clone()), "callback_id": b.callback_id,
        }),
    )];
    if let Some(cb) = b.callback_id {
        let row = cb_store::get(&mut tx, cb).await.map_err(|e| match e {
            StoreError::NotFound => field("callback_id", "unknown callback"),
            e => e.into(),
        })?;
        if row.hospital_id != hospital
            || !p.may(
                Resource::Callback,
                Action::Update,
                &obj_of(row.hospital_id, row.department_id),
            )
        {
            return Err(field("callback_id", "unknown callback"));
        }
        if direction != Direction::Outbound {
            return Err(field(
                "callback_id",
                "a callback is made by an outbound call",
            ));
        }
        let done = cb_store::complete(&mut tx, cb, Some(call.id), p.user_id(), now)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => field("callback_id", "the callback is not open"),
                e => e.into(),
            })?;
        audit.push(AppState::entry(
            p,
            ctx,
            "callback.complete",
            "callback",
            &cb.to_string(),
            Some(&hospital.to_string()),
            serde_json::json!({"call_id": call.id, "on_time": done.on_time}),
        ));
    }
    px360_store::audit::append_many(&mut tx, &audit).await?;
    tx.commit().await.map_err(tx_err)?;
    Ok(call)
}

#[utoipa::path(post, path = "/api/calls", tag = "call centre", request_body = CallInput,
    responses((status = 201, body = Call), (status = 403), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn create_call(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<CallInput>,
) -> ApiResult<(StatusCode, Json<Call>)> {
    Ok((
        StatusCode::CREATED,
        Json(log_call(&st, &p, &ctx, &b).await?),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CallQuery {
    /// Only this agent's calls; `mine=true` for the caller's own.
    pub agent_id: Option<Uuid>,
    pub mine: Option<bool>,
    pub patient_id: Option<Uuid>,
    pub outcome: Option<String>,
    pub department_id: Option<Uuid>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `X-Next-Cursor` header.
    pub before: Option<String>,
}

/// The caller's scope narrowed by the query.
pub fn call_filter(p: &Principal, q: &CallQuery) -> CallFilter {
    let scope = crate::filter(p);
    let agent = if q.mine == Some(true) {
        Some(p.user_id())
    } else {
        q.agent_id
    };
    CallFilter {
        hospital_id: scope.hospital_id,
        department_id: scope
            .department_id
            .or(q.department_id.map(|d| d.to_string())),
        agent_id: agent.map(|a| a.to_string()),
        patient_id: q.patient_id.map(|x| x.to_string()),
        outcome: q.outcome.clone(),
    }
}

#[utoipa::path(get, path = "/api/calls", tag = "call centre", params(CallQuery),
    responses((status = 200, body = Vec<Call>, description = "Calls in scope, newest first; notes only on a single call",
        headers(("X-Next-Cursor" = String, description = "The `before` value of the next page"))),
        (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list_calls(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<CallQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<Call>>)> {
    st.authorize(&p, &ctx, Resource::Call, Action::Read, own_scope(&p), None)
        .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let page = st
        .db
        .calls(&call_filter(&p, &q), before.as_ref(), limit)
        .await?;
    let (agent, patient, dept) = (
        q.agent_id.map(|d| d.to_string()),
        q.patient_id.map(|d| d.to_string()),
        q.department_id.map(|d| d.to_string()),
    );
    let mine = q.mine.map(|m| m.to_string());
    let headers = next_page_headers(
        "/api/calls",
        &[
            ("agent_id", agent.as_deref()),
            ("mine", mine.as_deref()),
            ("patient_id", patient.as_deref()),
            ("outcome", q.outcome.as_deref()),
            ("department_id", dept.as_deref()),
        ],
        page.next.as_ref(),
        limit,
    )?;
    let rows = page
        .rows
        .into_iter()
        .map(|mut c| {
            c.notes = None;
            c
        })
        .collect();
    Ok((headers, Json(rows)))
}

/// A call in scope for `action`, else 404/403 (audited by `authorize`).
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Action,
) -> ApiResult<Call> {
    let c = st.db.call(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Call,
        action,
        obj_of(c.hospital_id, c.department_id),
        Some(&id.to_string()),
    )
    .await?;
    Ok(c)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallDetail {
    pub call: Call,
    /// Callbacks promised on this call.
    pub callbacks: Vec<CallbackRow>,
}

/// One call with its notes and callbacks for `p`; the read is audited (patient data).
pub async fn read_call(st: &AppState, p: &Principal, ctx: &Ctx, id: Uuid) -> ApiResult<CallDetail> {
    let call = load(st, p, ctx, id, Action::Read).await?;
    let callbacks = st.db.callbacks_of_call(id).await?;
    st.audit(AppState::entry(
        p,
        ctx,
        "call.read",
        "call",
        &id.to_string(),
        Some(&call.hospital_id.to_string()),
        serde_json::json!({"patient": call.patient_id.is_some()}),
    ))
    .await?;
    Ok(CallDetail { call, callbacks })
}

#[utoipa::path(get, path = "/api/calls/{id}", tag = "call centre",
    responses((status = 200, body = CallDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_call(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CallDetail>> {
    Ok(Json(read_call(&st, &p, &ctx, id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct LookupQuery {
    /// An MRN (letters, digits, `-`; case does not matter).
    pub mrn: Option<String>,
    /// A phone number as typed (`+966 50 123 4567`, `0501234567`, `00966…`).
    pub phone: Option<String>,
    /// Narrow a group-wide search to one hospital.
    pub hospital_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LookupResult {
    /// `mrn` or `phone`.
    pub kind: String,
    /// Phone numbers are masked below PX Coordinator.
    pub patients: Vec<PatientMatch>,
}

/// Find patients by MRN or phone inside `p`'s scope (the agent screen's lookup). Audited with
/// the key's kind and the number found, never its value.
pub async fn lookup(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    q: &LookupQuery,
) -> ApiResult<LookupResult> {
    let mut scope = crate::filter(p);
    if let Some(h) = q.hospital_id {
        if scope
            .hospital_id
            .as_deref()
            .is_some_and(|own| own != h.to_string())
        {
            return Err(ApiError::NotFound);
        }
        scope.hospital_id = Some(h.to_string());
    }
    let at = ObjectScope::new(
        scope
            .hospital_id
            .as_deref()
            .and_then(|h| Uuid::parse_str(h).ok()),
        p.scope().department_id(),
    );
    st.authorize(p, ctx, Resource::Call, Action::Create, at, None)
        .await?;
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let key = match (text(&q.mrn), text(&q.phone)) {
        (Some(m), None) => PatientKey::mrn(&m).map_err(|e| field("mrn", e.code()))?,
        (None, Some(ph)) => PatientKey::phone(&ph, px360_store::callcentre::DEFAULT_COUNTRY_CODE)
            .map_err(|e| field("phone", e.code()))?,
        _ => return Err(field("mrn", "give either mrn or phone")),
    };
    let mut patients = st.db.lookup_patients(&scope, &key).await?;
    if !crate::survey_invitations::sees_contacts(p) {
        use px360_store::surveys::{Channel, contacts::mask};
        for pt in &mut patients {
            pt.phone = pt.phone.as_deref().map(|ph| mask(Channel::Sms, ph));
        }
    }
    st.audit(AppState::entry(
        p,
        ctx,
        "patient.lookup",
        "patient",
        "",
        scope.hospital_id.as_deref(),
        serde_json::json!({"kind": key.kind(), "found": patients.len()}),
    ))
    .await?;
    Ok(LookupResult {
        kind: key.kind().into(),
        patients,
    })
}

#[utoipa::path(get, path = "/api/patient-lookup", tag = "call centre", params(LookupQuery),
    responses((status = 200, body = LookupResult), (status = 403), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn get_lookup(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<LookupResult>> {
    Ok(Json(lookup(&st, &p, &ctx, &q).await?))
}

/// A complaint taken on a call: the complaint API's fields without the ones the call decides
/// (hospital, patient, channel).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CallComplaintInput {
    /// The department the complaint is about (default: the patient's, else the call's).
    pub department_id: Option<Uuid>,
    pub category_code: String,
    pub severity: Option<String>,
    pub physician_id: Option<Uuid>,
    pub subject: String,
    pub description: String,
    pub complainant_name: Option<String>,
    pub complainant_contact: Option<String>,
    /// `en` or `ar` (default: the patient's language).
    pub language: Option<String>,
}

/// Create the complaint through `POST /api/complaints`'s own handler (validation, gate,
/// creation rules, audit) with channel `call_centre` and the call as its external reference
/// (a retry returns the same complaint), then link it to the call.
pub async fn complaint_from_call(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &CallComplaintInput,
) -> ApiResult<(Call, px360_store::complaints::Complaint)> {
    let call = load(st, p, ctx, id, Action::Update).await?;
    let Some(patient_id) = call.patient_id else {
        return Err(field("patient_id", CallError::PatientRequired.code()));
    };
    let patient = st.db.patient(&patient_id.to_string()).await?;
    let language = b.language.clone().or_else(|| {
        Some(
            px360_store::surveys::Language::from_preference(patient.preferred_language.as_str())
                .as_str()
                .to_owned(),
        )
    });
    let input = crate::complaints::ComplaintInput {
        hospital_id: Some(call.hospital_id),
        department_id: b
            .department_id
            .or(patient.department_id)
            .or(call.department_id),
        category_code: b.category_code.trim().to_owned(),
        severity: b.severity.clone().filter(|s| !s.trim().is_empty()),
        source_channel: "call_centre".into(),
        source_system: Some("CALLCENTRE".into()),
        external_ref: Some(call.id.to_string()),
        patient_id: Some(patient_id),
        physician_id: b.physician_id,
        encounter_id: None,
        subject: b.subject.clone(),
        description: b.description.clone(),
        complainant_name: b.complainant_name.clone().filter(|s| !s.trim().is_empty()),
        complainant_contact: b
            .complainant_contact
            .clone()
            .filter(|s| !s.trim().is_empty()),
        language,
    };
    let (_, Json(complaint)) = crate::complaints::create_complaint(
        State(st.clone()),
        Authed(*p),
        ctx.clone(),
        Json(input),
    )
    .await?;
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let call = store::link(&mut tx, id, Link::Complaint(complaint.id), now).await?;
    let e = AppState::entry(
        p,
        ctx,
        "call.link",
        "call",
        &id.to_string(),
        Some(&call.hospital_id.to_string()),
        serde_json::json!({"complaint_id": complaint.id, "reference": complaint.reference}),
    );
    commit_audited(tx, &e).await?;
    Ok((call, complaint))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallComplaint {
    pub call: Call,
    pub complaint: px360_store::complaints::Complaint,
}

#[utoipa::path(post, path = "/api/calls/{id}/complaint", tag = "call centre", request_body = CallComplaintInput,
    responses((status = 201, body = CallComplaint), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn post_complaint(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<CallComplaintInput>,
) -> ApiResult<(StatusCode, Json<CallComplaint>)> {
    let (call, complaint) = complaint_from_call(&st, &p, &ctx, id, &b).await?;
    Ok((StatusCode::CREATED, Json(CallComplaint { call, complaint })))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_calls, create_call))
        .routes(routes!(get_call))
        .routes(routes!(get_lookup))
        .routes(routes!(post_complaint))
}
