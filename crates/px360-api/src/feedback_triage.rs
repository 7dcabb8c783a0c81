//! One-click triage of a feedback item (into a complaint, an action, or an acknowledgement) and
//! the printable QR codes of the public feedback form.
//!
//! Triage goes through the API's own operations: a complaint through the complaint intake
//! (`complaints::validate_intake` and `intake`: the hospital's creation rules, SLA clock,
//! audit), an action through `actions::create` with the feedback as its origin. Both are
//! idempotent (the complaint carries the feedback's reference as its external reference, the
//! action's origin is unique), so a retried click creates nothing twice; the feedback then
//! records the outcome once (a second, different triage is 409). A compliment is never a case
//! (the domain's rule, 422).

use crate::AppState;
use crate::actions::ActionInput;
use crate::auth::{Authed, Ctx};
use crate::commit_audited;
use crate::complaints::{ComplaintInput, intake, tx_err, validate_intake};
use crate::error::{ApiError, ApiResult};
use crate::feedback::load;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use px360_domain::action::origin::ActionOrigin;
use px360_domain::event::FieldError;
use px360_domain::feedback::kind::FeedbackKind;
use px360_domain::feedback::qr::{self, QrTarget};
use px360_domain::rbac::{Action, ObjectScope, Resource};
use px360_store::feedback::{self as store, FeedbackRow, Outcome};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

/// What to turn the item into.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"target": "action", "category_code": "facilities", "severity": "medium"}))]
pub struct TriageInput {
    /// complaint | action | acknowledge
    pub target: String,
    /// A complaint category code (complaint and action).
    pub category_code: Option<String>,
    /// low | medium | high | critical (default medium).
    pub severity: Option<String>,
}

fn subject(f: &FeedbackRow) -> String {
    let first: String = f.body.chars().take(80).collect();
    let first = first.lines().next().unwrap_or("").trim().to_owned();
    if first.is_empty() {
        format!("Feedback {}", f.reference)
    } else {
        first
    }
}

/// Triage `id` as `p` (API and web UI).
pub async fn triage(
    st: &AppState,
    p: &px360_domain::rbac::Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &TriageInput,
) -> ApiResult<FeedbackRow> {
    let f = load(st, p, ctx, id, Action::Update).await?;
    let case = b.target == "complaint" || b.target == "action";
    if !case && b.target != "acknowledge" {
        return Err(field("target", "must be complaint, action or acknowledge"));
    }
    if case && f.kind == FeedbackKind::Compliment {
        return Err(field(
            "target",
            "feedback.triage.compliment_not_a_case: a compliment is acknowledged, never a case",
        ));
    }
    // Decided already: only the same click again (a retry) goes on, to answer the same.
    let wanted = if case {
        b.target.as_str()
    } else {
        "acknowledged"
    };
    if f.status != "new" && f.status != wanted {
        return Err(ApiError::Conflict(format!(
            "feedback already triaged ({})",
            f.status
        )));
    }
    let category = b.category_code.clone().unwrap_or_default();
    if case && category.trim().is_empty() {
        return Err(field(
            "category_code",
            "is required for a complaint or an action",
        ));
    }
    let severity = b.severity.clone().unwrap_or_else(|| "medium".into());
    let outcome = match b.target.as_str() {
        "complaint" => {
            let input = ComplaintInput {
                hospital_id: Some(f.hospital_id),
                department_id: f.department_id,
                category_code: category,
                severity: Some(severity),
                source_channel: "feedback".into(),
                source_system: Some("PX360_FEEDBACK".into()),
                external_ref: Some(f.reference.clone()),
                patient_id: None,
                physician_id: None,
                encounter_id: None,
                subject: subject(&f),
                description: f.body.clone(),
                complainant_name: f.contact_name.clone(),
                complainant_contact: f.contact_email.clone().or(f.contact_phone.clone()),
                language: Some(f.language.clone()),
            };
            let mut n = validate_intake(st, &input).await?;
            st.authorize(
                p,
                ctx,
                Resource::Complaint,
                Action::Create,
                ObjectScope::new(Some(f.hospital_id), f.department_id),
                None,
            )
            .await?;
            n.created_by = Some(p.user_id());
            let e = AppState::entry(p, ctx, "", "complaint", "", None, serde_json::Value::Null);
            let (c, _) = intake(st, &n, e).await?;
            Outcome::Complaint(c.id)
        }
        "action" => {
            let input = ActionInput {
                hospital_id: Some(f.hospital_id),
                department_id: f.department_id,
                title: format!("Feedback {}: {}", f.reference, f.kind.as_str()),
                description: String::new(),
                category_code: category,
                severity,
                owner_id: None,
                complaint_id: None,
            };
            let origin = ActionOrigin::Feedback { feedback_id: id };
            let (a, _) = crate::actions::create(st, p, ctx, &input, Some(origin)).await?;
            Outcome::Action(a.id)
        }
        _ => Outcome::Acknowledged,
    };
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let before = f.status.clone();
    let row = store::set_triaged(&mut tx, id, outcome, p.user_id(), now).await?;
    if before == row.status {
        // A retried click: the outcome was recorded (and audited) the first time.
        tx.rollback().await.map_err(tx_err)?;
        return Ok(crate::feedback::masked_for(p, row));
    }
    let e = AppState::entry(
        p,
        ctx,
        "feedback.triage",
        "feedback",
        &id.to_string(),
        Some(&f.hospital_id.to_string()),
        serde_json::json!({"target": b.target, "complaint_id": row.complaint_id, "action_id": row.action_id}),
    );
    commit_audited(tx, &e).await?;
    Ok(crate::feedback::masked_for(p, row))
}

#[utoipa::path(post, path = "/api/feedback/{id}/triage", tag = "feedback", request_body = TriageInput,
    responses((status = 200, body = FeedbackRow, description = "The item with its outcome (a repeated identical triage answers the same)"),
        (status = 403), (status = 404), (status = 409, body = crate::error::Problem, description = "Already triaged differently"),
        (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn post_triage(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<TriageInput>,
) -> ApiResult<Json<FeedbackRow>> {
    Ok(Json(triage(&st, &p, &ctx, id, &b).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct QrQuery {
    /// The department's own code (absent: the hospital's).
    pub department_id: Option<Uuid>,
    /// png (default) | svg
    pub format: Option<String>,
}

/// The public base URL of the UI: the configured public URL, else this request's host.
pub fn public_base(st: &AppState, headers: &HeaderMap) -> String {
    let configured = st.cfg.surveys.public_base_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return format!("{configured}/ui");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!("{}://{host}/ui", if https { "https" } else { "http" })
}

/// The QR code of a hospital's (or department's) feedback form, for `p` to print: the target
/// must be in the caller's scope. Returns (content type, file name, bytes, the encoded URL).
pub async fn qr_code(
    st: &AppState,
    p: &px360_domain::rbac::Principal,
    ctx: &Ctx,
    headers: &HeaderMap,
    hospital: Uuid,
    q: &QrQuery,
) -> ApiResult<(&'static str, String, Vec<u8>, String)> {
    let h = st.db.hospital(&hospital.to_string()).await?;
    let mut name = h.code.clone();
    if let Some(d) = q.department_id {
        let dep = st.db.department(&d.to_string()).await?;
        if dep.hospital_id != hospital {
            return Err(ApiError::NotFound);
        }
        name = format!("{}-{}", h.code, dep.code);
    }
    st.authorize(
        p,
        ctx,
        Resource::Feedback,
        Action::Read,
        ObjectScope::new(Some(hospital), q.department_id),
        Some(&hospital.to_string()),
    )
    .await?;
    let target = QrTarget {
        hospital_id: hospital,
        department_id: q.department_id,
    };
    let url = target
        .url(&public_base(st, headers))
        .map_err(|e| ApiError::BadRequest(e.code().to_owned()))?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let out = match q.format.as_deref().unwrap_or("png") {
        "png" => (
            "image/png",
            format!("feedback-qr-{safe}.png"),
            qr::png(&url).map_err(|e| ApiError::internal(e.code()))?,
        ),
        "svg" => (
            "image/svg+xml",
            format!("feedback-qr-{safe}.svg"),
            qr::svg(&url)
                .map_err(|e| ApiError::internal(e.code()))?
                .into_bytes(),
        ),
        _ => return Err(field("format", "must be png or svg")),
    };
    Ok((out.0, out.1, out.2, url))
}

#[utoipa::path(get, path = "/api/hospitals/{id}/feedback-qr", tag = "feedback", params(QrQuery),
    responses((status = 200, description = "The QR code (PNG or SVG) of the public feedback form of the hospital or department, as a download; `X-Feedback-Url` names the encoded URL"),
        (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn get_qr(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(q): Query<QrQuery>,
) -> ApiResult<Response> {
    let (ct, file, bytes, url) = qr_code(&st, &p, &ctx, &headers, id, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::HeaderName::from_static("x-feedback-url"),
                url.clone(),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_triage))
        .routes(routes!(get_qr))
}
