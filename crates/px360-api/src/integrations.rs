//! Integration events (API-key authenticated intake; status, listing and replay for operators)
//! and API-key management.

use crate::auth::{Authed, Ctx, KeyAuth};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, obj, own_hospital};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use px360_domain::event::{FieldError, validate};
use px360_domain::rbac::{Action, Resource};
use px360_store::auth::ApiKey;
use px360_store::events::{Caller, EventRecord, Intake};
use px360_store::page::Cursor;
use serde::{Deserialize, Serialize};

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
    let allowed: Vec<String> = serde_json::from_str(&key.source_systems).unwrap_or_default();
    if !allowed.iter().any(|s| s == "*" || s == &ev.source_system) {
        metrics::counter!("px360_events_rejected_total").increment(1);
        return Err(ApiError::Validation(vec![FieldError::new(
            "source_system",
            "is not permitted for this API key",
        )]));
    }
    let caller = Caller {
        api_key_id: key.id.clone(),
        hospital_id: key.hospital_id.clone(),
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
            let status = st.db.event(&id).await?.status;
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
    pub id: String,
    pub hospital_id: String,
    pub source_system: String,
    pub event_code: String,
    pub encounter_id: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub warnings: serde_json::Value,
    pub received_at: String,
    pub next_attempt_at: Option<String>,
    pub processed_at: Option<String>,
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
        obj(&e.hospital_id, None),
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

/// Keyset paging of the list endpoints (`GET /api/integrations/events`, `GET /api/journeys`).
///
/// A cursor is base64url (no padding) of a [`Cursor`] key: a storage timestamp and a row id,
/// never patient data. It only says where the next page starts; the caller's scope filter is
/// applied to every page, so a cursor taken from anywhere shows nothing outside that scope. The
/// next page is announced in headers (`Link: <…>; rel="next"` and `X-Next-Cursor`, both absent
/// on the last page) so that the body stays the plain JSON array it always was.
pub fn encode_cursor(c: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(c.key())
}

/// A cursor issued by [`encode_cursor`], or `None` for anything else.
pub fn decode_cursor(s: &str) -> Option<Cursor> {
    // An issued cursor is under 100 characters; longer input is not worth decoding.
    if s.len() > 256 {
        return None;
    }
    let key = URL_SAFE_NO_PAD.decode(s).ok()?;
    Cursor::from_key(std::str::from_utf8(&key).ok()?)
}

/// The `before` query parameter: absent, or a cursor this API issued; anything else is a field
/// error naming `before` (the handlers answer 422 with it, next to their other field errors).
pub(crate) fn before_param(before: Option<&str>) -> Result<Option<Cursor>, FieldError> {
    before
        .map(|s| {
            decode_cursor(s).ok_or_else(|| {
                FieldError::new(
                    "before",
                    "is not a cursor issued by this list (take it from the X-Next-Cursor or Link header of the previous page)",
                )
            })
        })
        .transpose()
}

/// `Link: <path?filters&before=…&limit=…>; rel="next"` and `X-Next-Cursor` for the page after
/// this one; no headers on the last page. `filters` are the list's other query parameters, so
/// the link continues the same list.
pub(crate) fn next_page_headers(
    path: &str,
    filters: &[(&str, Option<&str>)],
    next: Option<&Cursor>,
    limit: i64,
) -> ApiResult<HeaderMap> {
    let mut h = HeaderMap::new();
    let Some(next) = next else {
        return Ok(h);
    };
    let cursor = encode_cursor(next);
    let mut query: Vec<String> = filters
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", query_escape(v))))
        .collect();
    query.push(format!("before={cursor}"));
    query.push(format!("limit={limit}"));
    let link = format!("<{path}?{}>; rel=\"next\"", query.join("&"));
    // Every part is ASCII by construction (escaped values, base64url, digits).
    let value = |v: String| {
        HeaderValue::try_from(v).map_err(|e| ApiError::Internal(format!("paging header: {e}")))
    };
    h.insert(header::LINK, value(link)?);
    h.insert(HeaderName::from_static("x-next-cursor"), value(cursor)?);
    Ok(h)
}

/// Percent-encoding of a query value (RFC 3986 unreserved characters pass unchanged).
fn query_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
    if let Some(s) = &q.status
        && px360_domain::event::EventStatus::parse(s).is_none()
    {
        errs.push(FieldError::new(
            "status",
            "must be one of received, processed, failed, parked",
        ));
    }
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
        .events(h.as_deref(), q.status.as_deref(), before.as_ref(), limit)
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
        obj(&e.hospital_id, None),
        Some(&id),
    )
    .await?;
    if !st.db.reset_for_replay(&id).await? {
        return Err(ApiError::Conflict(format!(
            "event is {}; only parked or failed events can be replayed",
            e.status
        )));
    }
    st.audit(AppState::entry(
        &p,
        &ctx,
        "event.replay",
        "inbound_event",
        &id,
        Some(&e.hospital_id),
        serde_json::json!({"previous_status": e.status}),
    ))
    .await?;
    if let Err(e) = st.jobs.push_events(vec![id.clone()], None).await {
        // The event is `received` again; the sweeper enqueues it after its grace period.
        tracing::warn!(event_id = %id, error = %e, "replay.push_failed");
    }
    Ok((StatusCode::ACCEPTED, Json(st.db.event(&id).await?.into())))
}

#[utoipa::path(get, path = "/api/api-keys", tag = "integrations", responses((status = 200, body = Vec<ApiKey>)), security(("bearer" = [])))]
pub async fn list_api_keys(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<ApiKey>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::ApiKey,
        Action::Read,
        own_hospital(&p),
        None,
    )
    .await?;
    let h = p.scope().hospital_id().map(|h| h.to_string());
    Ok(Json(st.db.api_keys(h.as_deref()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewApiKey {
    pub hospital_id: Option<String>,
    pub name: String,
    /// Permitted `source_system` values (`"*"` for any).
    pub source_systems: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Shown once; only a hash is stored.
    pub api_key: String,
}

#[utoipa::path(post, path = "/api/api-keys", tag = "integrations", request_body = NewApiKey, responses((status = 201, body = IssuedApiKey)), security(("bearer" = [])))]
pub async fn create_api_key(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<NewApiKey>,
) -> ApiResult<(StatusCode, Json<IssuedApiKey>)> {
    let hospital = b
        .hospital_id
        .clone()
        .or_else(|| p.scope().hospital_id().map(|h| h.to_string()))
        .ok_or_else(|| ApiError::Validation(vec![FieldError::new("hospital_id", "is required")]))?;
    st.authorize(
        &p,
        &ctx,
        Resource::ApiKey,
        Action::Create,
        obj(&hospital, None),
        Some(&hospital),
    )
    .await?;
    crate::org::require("name", &b.name)?;
    if b.source_systems.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "source_systems",
            "must list at least one source system (or \"*\")",
        )]));
    }
    st.db.hospital(&hospital).await?;
    let issued = st
        .db
        .create_api_key(
            &hospital,
            &b.name,
            &b.source_systems,
            Some(&p.user_id().to_string()),
        )
        .await?;
    st.audit(AppState::entry(
        &p,
        &ctx,
        "create",
        "api_key",
        &issued.key.id,
        Some(&hospital),
        serde_json::json!({"name": b.name, "source_systems": b.source_systems}),
    ))
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedApiKey {
            key: issued.key,
            api_key: issued.plaintext,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/api-keys/{id}", tag = "integrations", responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_api_key(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let k = st.db.api_key(&id).await?;
    st.authorize(
        &p,
        &ctx,
        Resource::ApiKey,
        Action::Delete,
        obj(&k.hospital_id, None),
        Some(&id),
    )
    .await?;
    st.db.revoke_api_key(&id).await?;
    st.key_cache.clear();
    st.audit(AppState::entry(
        &p,
        &ctx,
        "delete",
        "api_key",
        &id,
        Some(&k.hospital_id),
        serde_json::json!({"revoked": true}),
    ))
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod paging_tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor::new(
            "2025-03-01T10:00:00.000000Z",
            "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        )
    }

    #[test]
    fn cursors_round_trip_and_reject_anything_else() {
        let c = cursor();
        let s = encode_cursor(&c);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{s}"
        );
        assert_eq!(decode_cursor(&s), Some(c));
        for bad in ["", "!!", "aGVsbG8", &format!("{s}=="), &"A".repeat(300)] {
            assert_eq!(decode_cursor(bad), None, "{bad:?}");
        }
        let e = before_param(Some("nope")).unwrap_err();
        assert_eq!(e.field, "before");
        assert_eq!(before_param(None).unwrap(), None);
    }

    #[test]
    fn next_page_headers_keep_the_filters() {
        let c = cursor();
        let h = next_page_headers(
            "/api/journeys",
            &[("patient_id", Some("a b&c/é")), ("status", None)],
            Some(&c),
            20,
        )
        .unwrap();
        let enc = encode_cursor(&c);
        assert_eq!(
            h[header::LINK],
            format!(
                "</api/journeys?patient_id=a%20b%26c%2F%C3%A9&before={enc}&limit=20>; rel=\"next\""
            )
        );
        assert_eq!(h["x-next-cursor"], enc.as_str());
        // The last page: no headers at all.
        let h = next_page_headers("/api/journeys", &[], None, 20).unwrap();
        assert!(h.is_empty());
    }
}
