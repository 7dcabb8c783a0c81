//! Integration events: API-key authenticated intake (rate limited per client IP), status, keyset-paged list, replay.

use crate::AppState;
use crate::auth::Authed;
use crate::auth::Ctx;
use crate::auth::KeyAuth;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::own_hospital;
use crate::paging::before_param;
use crate::paging::next_page_headers;
use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use chrono::DateTime;
use chrono::Utc;
use px360_domain::event::EventStatus;
use px360_domain::event::FieldError;
use px360_domain::event::validate;
use px360_domain::rbac::Action;
use px360_domain::rbac::ObjectScope;
use px360_domain::rbac::Resource;
use px360_store::events::Caller;
use px360_store::events::EventRecord;
use px360_store::events::Intake;
use serde::Deserialize;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventAccepted {
    pub event_id: String,
    pub status: String,
    /// True when this event repeats an earlier one (same source system, event code and
    /// encounter): it was not stored or processed again.
    pub duplicate: bool,
}

/// The integration event contract, for the OpenAPI document only: the handler validates the raw
/// JSON with `px360_domain::event::validate` so that every bad field is reported at once (and the
/// `physician_license` spelling is accepted too). The payload comes as `payload` or, as in the
/// design, `payload_json` (an object, or a string holding one); exactly one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(examples(
    json!({"source_system": "HIS", "event_code": "OP_CHECKIN", "encounter_id": "ENC-1",
        "patient_identifier": "RGH-CARD-0001", "payload_json": {"physician_licence": "GMC121", "department_code": "CARD",
        "timestamp": "2026-01-31T12:30:00", "custom_fields": {"clinic": "A"}}}),
    json!({"source_system": "HIS", "event_code": "OP_CHECKIN", "encounter_id": "ENC-1",
        "patient_identifier": "RGH-CARD-0001",
        "payload_json": "{\"department_code\":\"CARD\",\"timestamp\":\"2026-01-31 12:30:00.000\"}"}),
    json!({"source_system": "EPIC", "event_code": "OP_CHECKIN", "encounter_id": "ENC-1",
        "patient_identifier": "RGH-CARD-0001", "payload": {"physician_licence": "GMC121", "department_code": "CARD",
        "timestamp": "2026-01-31T09:30:00Z", "custom_fields": {"clinic": "A"}}})
))]
pub struct EventBody {
    /// Sending system; must be one of the API key's source systems.
    #[schema(max_length = 64, pattern = r"^[A-Za-z0-9_\-.:/]+$")]
    pub source_system: String,
    /// Completes the journey stage whose `completing_event_code` equals it.
    #[schema(max_length = 64, pattern = r"^[A-Za-z0-9_\-.:/]+$")]
    pub event_code: String,
    /// Hospital encounter (visit/admission) identifier; one journey per encounter and template.
    #[schema(max_length = 128, pattern = r"^[A-Za-z0-9_\-.:/]+$")]
    pub encounter_id: String,
    /// The patient's MRN in the API key's hospital.
    #[schema(max_length = 64, pattern = r"^[A-Za-z0-9_\-.:/]+$")]
    pub patient_identifier: String,
    /// The event's details (this API's name); send this or `payload_json`.
    pub payload: Option<EventBodyPayload>,
    /// The event's details under the design's name: the same object, or a JSON string holding
    /// it. Send this or `payload`, not both.
    #[schema(value_type = Object)]
    pub payload_json: Option<serde_json::Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EventBodyPayload {
    /// Licence number of the physician involved (`physician_license` is accepted as well).
    #[schema(max_length = 32)]
    pub physician_licence: Option<String>,
    /// Department code in the API key's hospital, e.g. `CARD`.
    #[schema(max_length = 32)]
    pub department_code: Option<String>,
    /// When the event happened (its clinical time), ISO 8601: with `Z` or an offset it is that
    /// instant (`2026-01-31T09:30:00Z`, `2026-01-31T12:30:00+03:00`); without one it is the
    /// hospital's wall-clock time in the hospital's `timezone` (`2026-01-31T12:30:00`).
    /// Fractional seconds and a space instead of `T` are accepted; seconds may be omitted.
    #[schema(example = "2026-01-31T12:30:00")]
    pub timestamp: String,
    /// Free-form source-specific fields (at most 16 KiB as JSON), stored with the event.
    #[schema(value_type = Object)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

#[utoipa::path(post, path = "/api/integrations/events/", tag = "integrations",
    request_body(content = EventBody, description = "Integration event; a repeat of (source system, event code, encounter) is recognised as a duplicate"),
    responses((status = 202, body = EventAccepted), (status = 200, body = EventAccepted, description = "duplicate"),
              (status = 401, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 429)),
    security(("api_key" = [])))]
pub async fn post_event(
    State(st): State<AppState>,
    KeyAuth(authed): KeyAuth,
    ctx: Ctx,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<EventAccepted>)> {
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::Validation(vec![FieldError::new(
            "",
            format!("body is not valid JSON: {e}"),
        )])
    })?;
    // The zone was validated when the hospital was created or changed; a zone stored before
    // that validation existed falls back to UTC rather than refusing the hospital's events.
    let tz: chrono_tz::Tz = authed
        .hospital_timezone
        .parse()
        .unwrap_or(chrono_tz::Tz::UTC);
    let key = authed.key;
    let ev = validate(&value, tz).map_err(|errs| {
        metrics::counter!("px360_events_rejected_total").increment(1);
        ApiError::Validation(errs)
    })?;
    if !key
        .source_systems
        .iter()
        .any(|s| s == "*" || s == &ev.source_system)
    {
        metrics::counter!("px360_events_rejected_total").increment(1);
        return Err(ApiError::Validation(vec![FieldError::new(
            "source_system",
            "is not permitted for this API key",
        )]));
    }
    let caller = Caller {
        api_key_id: key.id.to_string(),
        hospital_id: key.hospital_id.to_string(),
        ip: ctx.ip,
        user_agent: ctx.user_agent,
    };
    let outcome = st.intake.submit(caller, ev).await?;
    match outcome {
        Intake::Accepted(id) => {
            // The intake queue has handed the id to the job queue after the commit.
            metrics::counter!("px360_events_received_total").increment(1);
            Ok((
                StatusCode::ACCEPTED,
                Json(EventAccepted {
                    event_id: id,
                    status: "received".into(),
                    duplicate: false,
                }),
            ))
        }
        Intake::Duplicate(id) => {
            metrics::counter!("px360_events_duplicate_total").increment(1);
            let status = st.db.event(&id).await?.status.as_str().to_owned();
            Ok((
                StatusCode::OK,
                Json(EventAccepted {
                    event_id: id,
                    status,
                    duplicate: true,
                }),
            ))
        }
    }
}

/// Event status for operators (payload withheld: it may carry patient data).
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventStatusView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub source_system: String,
    pub event_code: String,
    pub encounter_id: String,
    #[schema(value_type = String, example = "processed")]
    pub status: EventStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub warnings: serde_json::Value,
    #[serde(with = "crate::time_format")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<EventRecord> for EventStatusView {
    fn from(e: EventRecord) -> Self {
        Self {
            warnings: serde_json::from_str(&e.warnings).unwrap_or_default(),
            id: e.id,
            hospital_id: e.hospital_id,
            source_system: e.source_system,
            event_code: e.event_code,
            encounter_id: e.encounter_id,
            status: e.status,
            attempts: e.attempts,
            last_error: e.last_error,
            received_at: e.received_at,
            next_attempt_at: e.next_attempt_at,
            processed_at: e.processed_at,
        }
    }
}

#[utoipa::path(get, path = "/api/integrations/events/{id}", tag = "integrations", responses((status = 200, body = EventStatusView), (status = 404)), security(("bearer" = [])))]
pub async fn get_event(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<EventStatusView>> {
    let e = st.db.event(&id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Event,
        Action::Read,
        ObjectScope::new(Some(e.hospital_id), None),
        Some(&id),
    )
    .await?;
    Ok(Json(e.into()))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EventQuery {
    /// received | processed | failed | parked
    pub status: Option<String>,
    /// Page size, 1-1000 (default 100).
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `X-Next-Cursor` header (or its `Link: rel="next"`):
    /// this page then holds the events strictly older than the last event of that page.
    pub before: Option<String>,
}

#[utoipa::path(get, path = "/api/integrations/events", tag = "integrations", params(EventQuery),
    responses(
        (status = 200, body = Vec<EventStatusView>, description = "Events newest first (received time, then id), in the caller's hospital (the whole group for group-level roles)",
         headers(
            ("Link" = String, description = "`<…?before=…&limit=…>; rel=\"next\"`: the next (older) page; absent on the last page"),
            ("X-Next-Cursor" = String, description = "The `before` value of the next page; absent on the last page"))),
        (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem, description = "`status` unknown or `before` not a cursor issued by this list")),
    security(("bearer" = [])))]
pub async fn list_events(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<EventQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<EventStatusView>>)> {
    st.authorize(
        &p,
        &ctx,
        Resource::Event,
        Action::Read,
        own_hospital(&p),
        None,
    )
    .await?;
    let mut errs = Vec::new();
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => px360_domain::event::EventStatus::parse(s).or_else(|| {
            errs.push(FieldError::new(
                "status",
                "must be one of received, processed, failed, parked",
            ));
            None
        }),
    };
    let before = before_param(q.before.as_deref()).unwrap_or_else(|e| {
        errs.push(e);
        None
    });
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    // The scope filter comes from the principal on every page; the cursor is only a position.
    let h = p.scope().hospital_id().map(|h| h.to_string());
    let page = st
        .db
        .events(h.as_deref(), status, before.as_ref(), limit)
        .await?;
    let headers = next_page_headers(
        "/api/integrations/events",
        &[("status", q.status.as_deref())],
        page.next.as_ref(),
        limit,
    )?;
    Ok((
        headers,
        Json(page.rows.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(post, path = "/api/integrations/events/{id}/replay", tag = "integrations", responses((status = 202, body = EventStatusView), (status = 409)), security(("bearer" = [])))]
pub async fn replay_event(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<EventStatusView>)> {
    let e = st.db.event(&id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::Event,
        Action::Operate,
        ObjectScope::new(Some(e.hospital_id), None),
        Some(&id),
    )
    .await?;
    if !st.db.reset_for_replay(&id).await? {
        return Err(ApiError::Conflict(format!(
            "event is {}; only parked or failed events can be replayed",
            e.status.as_str()
        )));
    }
    st.audit(AppState::entry(
        &p,
        &ctx,
        "event.replay",
        "inbound_event",
        &id,
        Some(&e.hospital_id.to_string()),
        serde_json::json!({"previous_status": e.status.as_str()}),
    ))
    .await?;
    if let Err(e) = st.jobs.push_events(vec![id.clone()], None).await {
        // The event is `received` again; the sweeper enqueues it after its grace period.
        tracing::warn!(event_id = %id, error = %e, "replay.push_failed");
    }
    Ok((StatusCode::ACCEPTED, Json(st.db.event(&id).await?.into())))
}

/// Intake (rate limited per client IP), status, list and replay, with their OpenAPI operations.
pub(crate) fn routes(cfg: &crate::ApiConfig) -> OpenApiRouter<AppState> {
    let mut intake = OpenApiRouter::new().routes(routes!(post_event));
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
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(replay_event))
}
