//! General feedback (compliments, suggestions, concerns): intake from the public QR form
//! ([`submit_public`], used by px360-web), from staff and other systems (`POST /api/feedback`),
//! lists and detail in scope, and (in [`crate::feedback_triage`]) one-click triage and the
//! printable QR codes.
//!
//! Every intake is audited (ids, kind and channel only: the text and contact details are patient
//! data and never enter the audit log or logs), and so is every detail read. Below PX
//! Coordinator, contact details and digits or addresses inside the text are masked.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::commit_audited;
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use crate::paging::{before_param, next_page_headers};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use px360_domain::event::FieldError;
use px360_domain::feedback::qr::QrTarget;
use px360_domain::feedback::submission::{Feedback, FeedbackForm, FieldError as FormError};
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource, Role};
use px360_store::StoreError;
use px360_store::audit::AuditEntry;
use px360_store::feedback::{self as store, FeedbackFilter, FeedbackListRow, FeedbackRow};
use px360_store::sentiment::{StoredAnalysis, TextKind};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// National numbers are completed with this country code (the demo group is in Saudi Arabia).
pub const COUNTRY_CODE: &str = "966";

/// Where a form or request points: the hospital must exist, a department must be the
/// hospital's, and a named staff member an employee of it (of the department, when given).
pub(crate) async fn check_target(
    st: &AppState,
    target: &QrTarget,
    staff: Option<&str>,
) -> ApiResult<Vec<FormError>> {
    use px360_domain::feedback::submission::Field;
    match st.db.hospital(&target.hospital_id.to_string()).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        Err(e) => return Err(e.into()),
    }
    if let Some(d) = target.department_id {
        match st.db.department(&d.to_string()).await {
            Ok(dep) if dep.hospital_id == target.hospital_id => {}
            Ok(_) | Err(StoreError::NotFound) => return Err(ApiError::NotFound),
            Err(e) => return Err(e.into()),
        }
    }
    let mut errs = Vec::new();
    if let Some(s) = staff.map(str::trim).filter(|s| !s.is_empty())
        && let Ok(id) = Uuid::parse_str(s)
    {
        let ok = match st.db.employee(&id.to_string()).await {
            Ok(e) => {
                e.hospital_id == target.hospital_id
                    && target.department_id.is_none_or(|d| d == e.department_id)
            }
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        if !ok {
            errs.push(FormError {
                field: Field::Staff,
                code: "feedback.staff.unknown",
            });
        }
    }
    Ok(errs)
}

/// Why a public submission was not stored: per-field codes for the form to show in the
/// patient's language (nothing the visitor typed is echoed back).
#[derive(Debug)]
pub enum PublicError {
    Fields(Vec<FormError>),
    Api(ApiError),
}

impl From<ApiError> for PublicError {
    fn from(e: ApiError) -> Self {
        PublicError::Api(e)
    }
}

/// The public form's submission (px360-web): validated by the domain, stored with its sentiment
/// (and a compliment routed), audited as from the public. Unknown hospital or department: 404.
pub async fn submit_public(
    st: &AppState,
    ctx: &Ctx,
    target: QrTarget,
    form: &FeedbackForm,
) -> Result<FeedbackRow, PublicError> {
    let mut errs = check_target(st, &target, Some(&form.staff_id)).await?;
    let parsed = Feedback::parse(target, form, COUNTRY_CODE);
    let f = match parsed {
        Ok(f) if errs.is_empty() => f,
        Ok(_) => return Err(PublicError::Fields(errs)),
        Err(mut e) => {
            e.append(&mut errs);
            return Err(PublicError::Fields(e));
        }
    };
    let actor = AuditEntry {
        actor_type: "public",
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        ..AuditEntry::default()
    };
    Ok(store_one(st, &f, "qr_form", None, actor).await?)
}

/// Insert and audit in one transaction.
async fn store_one(
    st: &AppState,
    f: &Feedback,
    channel: &str,
    by: Option<Uuid>,
    mut actor: AuditEntry,
) -> ApiResult<FeedbackRow> {
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let r = store::insert(&mut tx, f, channel, by, now).await?;
    actor.action = "feedback.create".into();
    actor.object_type = Some("feedback");
    actor.object_id = Some(r.feedback.id.to_string());
    actor.hospital_id = Some(r.feedback.hospital_id.to_string());
    actor.changes = Some(serde_json::json!({
        "reference": r.feedback.reference, "kind": r.feedback.kind.as_str(), "channel": channel,
        "department_id": r.feedback.department_id, "staff_id": r.feedback.staff_id,
        "routed_to": r.routed_to, "sentiment_action_id": r.sentiment.action_id,
    }));
    commit_audited(tx, &actor).await?;
    Ok(r.feedback)
}

/// Feedback recorded by staff (told in person or on the phone) or sent by another system.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"department_id": "0190c0de-0000-7000-8000-000000000001", "kind": "compliment",
    "language": "ar", "text": "شكراً للممرضة سارة على اهتمامها", "staff_name": "سارة"}))]
pub struct FeedbackInput {
    /// Required when no department is given.
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// compliment | suggestion | concern
    pub kind: String,
    /// en | ar: the language the patient wrote in.
    pub language: String,
    pub text: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    /// National (`050…`) or E.164 (`+966…`).
    pub contact_phone: Option<String>,
    /// An employee of the hospital (of the department, when given).
    pub staff_id: Option<Uuid>,
    pub staff_name: Option<String>,
    /// staff (default) | api
    pub channel: Option<String>,
}

pub(crate) fn form_errors(errs: Vec<FormError>) -> ApiError {
    ApiError::Validation(
        errs.into_iter()
            .map(|e| {
                let f = serde_json::to_value(e.field)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "body".into());
                FieldError::new(f, e.code)
            })
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/feedback", tag = "feedback", request_body = FeedbackInput,
    responses((status = 201, body = FeedbackRow), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create_feedback(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<FeedbackInput>,
) -> ApiResult<(StatusCode, Json<FeedbackRow>)> {
    let channel = b.channel.clone().unwrap_or_else(|| "staff".into());
    if channel != "staff" && channel != "api" {
        return Err(ApiError::Validation(vec![FieldError::new(
            "channel",
            "must be staff or api",
        )]));
    }
    let hospital = match (b.hospital_id, b.department_id) {
        (h, Some(d)) => match st.db.department(&d.to_string()).await {
            Ok(dep) if h.is_none_or(|h| h == dep.hospital_id) => dep.hospital_id,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "department_id",
                    "unknown department of this hospital",
                )]));
            }
            Err(e) => return Err(e.into()),
        },
        (Some(h), None) => h,
        (None, None) => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "hospital_id",
                "a hospital or a department is required",
            )]));
        }
    };
    let target = QrTarget {
        hospital_id: hospital,
        department_id: b.department_id,
    };
    st.authorize(
        &p,
        &ctx,
        Resource::Feedback,
        Action::Create,
        ObjectScope::new(Some(hospital), b.department_id),
        None,
    )
    .await?;
    let staff = b.staff_id.map(|s| s.to_string());
    let mut errs = check_target(&st, &target, staff.as_deref()).await?;
    let form = FeedbackForm {
        kind: b.kind.clone(),
        lang: b.language.clone(),
        text: b.text.clone(),
        contact_name: b.contact_name.clone().unwrap_or_default(),
        contact_email: b.contact_email.clone().unwrap_or_default(),
        contact_phone: b.contact_phone.clone().unwrap_or_default(),
        staff_id: staff.unwrap_or_default(),
        staff_name: b.staff_name.clone().unwrap_or_default(),
    };
    let f = match Feedback::parse(target, &form, COUNTRY_CODE) {
        Ok(f) if errs.is_empty() => f,
        Ok(_) => return Err(form_errors(errs)),
        Err(mut e) => {
            e.append(&mut errs);
            return Err(form_errors(e));
        }
    };
    let e = AppState::entry(&p, &ctx, "", "feedback", "", None, serde_json::Value::Null);
    let row = store_one(&st, &f, &channel, Some(p.user_id()), e).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FeedbackQuery {
    /// compliment | suggestion | concern
    pub kind: Option<String>,
    /// new | complaint | action | acknowledged
    pub status: Option<String>,
    /// negative | neutral | positive
    pub sentiment: Option<String>,
    pub department_id: Option<Uuid>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `X-Next-Cursor` header.
    pub before: Option<String>,
}

/// Below PX Coordinator: contact details and digits or addresses in the text masked.
pub fn masked_for(p: &Principal, mut f: FeedbackRow) -> FeedbackRow {
    if p.role().level() >= Role::PxCoordinator.level() {
        return f;
    }
    use px360_store::surveys::{Channel, contacts::mask};
    f.contact_name = f.contact_name.map(|_| "•••".to_owned());
    f.contact_email = f.contact_email.map(|e| mask(Channel::Email, &e));
    f.contact_phone = f.contact_phone.map(|ph| mask(Channel::Sms, &ph));
    f.body = crate::analytics::reports::mask(&f.body);
    f
}

/// The caller's scope narrowed by the query's filters.
pub fn list_filter(p: &Principal, q: &FeedbackQuery) -> FeedbackFilter {
    let scope = crate::filter(p);
    FeedbackFilter {
        hospital_id: scope.hospital_id,
        department_id: scope
            .department_id
            .or(q.department_id.map(|d| d.to_string())),
        kind: q.kind.clone(),
        status: q.status.clone(),
        sentiment: q.sentiment.clone(),
    }
}

/// A page of feedback in `p`'s scope (API and web UI), masked for the role.
pub async fn list(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    q: &FeedbackQuery,
) -> ApiResult<px360_store::page::Page<FeedbackListRow>> {
    st.authorize(
        p,
        ctx,
        Resource::Feedback,
        Action::Read,
        crate::own_scope(p),
        None,
    )
    .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let mut page = st
        .db
        .feedback_list(&list_filter(p, q), before.as_ref(), limit)
        .await?;
    for r in &mut page.rows {
        r.feedback = masked_for(p, r.feedback.clone());
    }
    Ok(page)
}

#[utoipa::path(get, path = "/api/feedback", tag = "feedback", params(FeedbackQuery),
    responses((status = 200, body = Vec<FeedbackListRow>, description = "Feedback in scope, newest first; contact details and numbers in the text masked below PX Coordinator",
        headers(("X-Next-Cursor" = String, description = "The `before` value of the next page"))),
        (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list_feedback(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<FeedbackQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<FeedbackListRow>>)> {
    let page = list(&st, &p, &ctx, &q).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let dept = q.department_id.map(|d| d.to_string());
    let headers = next_page_headers(
        "/api/feedback",
        &[
            ("kind", q.kind.as_deref()),
            ("status", q.status.as_deref()),
            ("sentiment", q.sentiment.as_deref()),
            ("department_id", dept.as_deref()),
        ],
        page.next.as_ref(),
        limit,
    )?;
    Ok((headers, Json(page.rows)))
}

/// A feedback item in scope for `action`, else 404/403 (audited by `authorize`).
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Action,
) -> ApiResult<FeedbackRow> {
    let f = st.db.feedback(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Feedback,
        action,
        ObjectScope::new(Some(f.hospital_id), f.department_id),
        Some(&id.to_string()),
    )
    .await?;
    Ok(f)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackDetail {
    pub feedback: FeedbackRow,
    /// Sentiment and themes of the text (absent before analysis).
    pub analysis: Option<StoredAnalysis>,
    /// The named staff member's name, when chosen from the list.
    pub staff_display_name: Option<String>,
}

/// One item for `p` (API and web UI), masked for the role; the disclosure is audited.
pub async fn detail(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
) -> ApiResult<FeedbackDetail> {
    let f = load(st, p, ctx, id, Action::Read).await?;
    let staff_display_name = match f.staff_id {
        Some(s) => st
            .db
            .employee(&s.to_string())
            .await
            .ok()
            .map(|e| format!("{} {}", e.given_name, e.family_name)),
        None => None,
    };
    st.audit(AppState::entry(
        p,
        ctx,
        "feedback.read",
        "feedback",
        &id.to_string(),
        Some(&f.hospital_id.to_string()),
        serde_json::json!({"masked": p.role().level() < Role::PxCoordinator.level()}),
    ))
    .await?;
    Ok(FeedbackDetail {
        analysis: st.db.text_analysis(TextKind::Feedback, id).await?,
        feedback: masked_for(p, f),
        staff_display_name,
    })
}

#[utoipa::path(get, path = "/api/feedback/{id}", tag = "feedback",
    responses((status = 200, body = FeedbackDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_feedback(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<FeedbackDetail>> {
    Ok(Json(detail(&st, &p, &ctx, id).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_feedback, create_feedback))
        .routes(routes!(get_feedback))
        .merge(crate::feedback_triage::routes())
}
