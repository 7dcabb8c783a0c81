//! PDS FHIR R4 `GET /Patient/{id}` for application-restricted clients.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use nhs_number::NhsNumber;

use crate::AppState;
use crate::faults::{self, Api};
use crate::fixtures::PdsAnswer;
use crate::outcome::{fhir_ok, r4};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// PDS echoes the request and correlation ids.
pub(crate) fn echo_ids(headers: &HeaderMap, resp: &mut Response) {
    for name in ["X-Request-ID", "X-Correlation-ID"] {
        if let Some(v) = headers.get(name) {
            resp.headers_mut().insert(name, v.clone());
        }
    }
}

pub(crate) async fn read_patient(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    state.counters.pds.fetch_add(1, Ordering::Relaxed);
    let mut resp = answer(&state, &id, &headers).await;
    echo_ids(&headers, &mut resp);
    resp
}

async fn answer(state: &AppState, id: &str, headers: &HeaderMap) -> Response {
    if let Some(status) = faults::apply(&state.faults, &state.fault_counters, Api::Pds).await {
        return r4(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "SERVICE_UNAVAILABLE",
            "injected failure",
        );
    }
    if let Some(refusal) = check_access(state, headers) {
        return refusal;
    }
    if NhsNumber::parse(id).is_err() {
        return r4(
            StatusCode::BAD_REQUEST,
            "INVALID_RESOURCE_ID",
            "Resource Id is invalid",
        );
    }
    let mut answer = state.dir.patients.get(id).map(|p| &p.pds);
    if let Some(PdsAnswer::MergedInto(current)) = answer {
        answer = state.dir.patients.get(current.as_str()).map(|p| &p.pds);
    }
    match answer {
        Some(PdsAnswer::Record(record)) => {
            let mut resp = fhir_ok(record.to_string());
            if let Some(v) = record["meta"]["versionId"].as_str()
                && let Ok(etag) = HeaderValue::from_str(&format!("W/\"{v}\""))
            {
                resp.headers_mut().insert("ETag", etag);
            }
            resp
        }
        Some(PdsAnswer::Invalidated) => r4(
            StatusCode::NOT_FOUND,
            "INVALIDATED_RESOURCE",
            "Resource that has been marked as invalid was requested - invalid resources cannot be retrieved",
        ),
        _ => r4(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "Patient record not found",
        ),
    }
}

/// The checks PDS makes on every application-restricted request: a token issued here, a UUID
/// `X-Request-ID` and the end-user organisation. `Some` is the refusal to send.
pub(crate) fn check_access(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let token = header(headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
    if !token.is_some_and(|t| state.tokens.valid(t)) {
        return Some(r4(
            StatusCode::UNAUTHORIZED,
            "ACCESS_DENIED",
            "Invalid Access Token",
        ));
    }
    match header(headers, "x-request-id") {
        None => {
            return Some(r4(
                StatusCode::BAD_REQUEST,
                "MISSING_VALUE",
                "Invalid request with error - X-Request-ID header must be supplied to access this resource",
            ));
        }
        Some(v) if uuid::Uuid::parse_str(v).is_err() => {
            return Some(r4(
                StatusCode::BAD_REQUEST,
                "INVALID_VALUE",
                "Invalid value - X-Request-ID must be a UUID",
            ));
        }
        Some(_) => {}
    }
    if header(headers, "nhsd-end-user-organisation-ods").is_none_or(str::is_empty) {
        return Some(r4(
            StatusCode::BAD_REQUEST,
            "MISSING_VALUE",
            "Invalid request with error - NHSD-End-User-Organisation-ODS header must be supplied for application-restricted access",
        ));
    }
    None
}
