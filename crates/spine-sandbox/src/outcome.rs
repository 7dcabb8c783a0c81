//! OperationOutcome error answers in the shapes the NHS APIs use: R4 with the
//! `Spine-ErrorOrWarningCode` system for PDS and SDS, STU3 with the GP Connect profile for
//! GP Connect and the Spine Secure Proxy.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub(crate) const FHIR_JSON: &str = "application/fhir+json";

fn fhir_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    resp
}

/// FHIR issue type for a Spine error code.
fn issue_type(code: &str) -> &'static str {
    match code {
        "RESOURCE_NOT_FOUND" | "PATIENT_NOT_FOUND" => "not-found",
        "ACCESS_DENIED" | "NO_PATIENT_CONSENT" => "forbidden",
        "INVALIDATED_RESOURCE" | "INTERNAL_SERVER_ERROR" => "processing",
        "MISSING_VALUE" => "required",
        "NOT_IMPLEMENTED" => "not-supported",
        "SERVICE_UNAVAILABLE" => "transient",
        "INVALID_RESOURCE" => "structure",
        _ => "value",
    }
}

/// PDS / SDS (FHIR R4) error.
pub(crate) fn r4(status: StatusCode, code: &str, diagnostics: &str) -> Response {
    fhir_response(
        status,
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": "error",
                "code": issue_type(code),
                "details": { "coding": [{
                    "system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
                    "version": "1",
                    "code": code,
                    "display": code.replace('_', " ").to_lowercase()
                }]},
                "diagnostics": diagnostics
            }]
        }),
    )
}

/// GP Connect / SSP (FHIR STU3) error.
pub(crate) fn stu3(status: StatusCode, code: &str, diagnostics: &str) -> Response {
    fhir_response(
        status,
        json!({
            "resourceType": "OperationOutcome",
            "meta": { "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"] },
            "issue": [{
                "severity": "error",
                "code": issue_type(code),
                "details": { "coding": [{
                    "system": "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1",
                    "code": code,
                    "display": code.replace('_', " ").to_lowercase()
                }]},
                "diagnostics": diagnostics
            }]
        }),
    )
}

pub(crate) fn fhir_ok(body: impl Into<axum::body::Body>) -> Response {
    let mut resp = Response::new(body.into());
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    resp
}
