//! GP Connect Access Record Structured behind a Spine Secure Proxy. The proxy checks the `Ssp-*`
//! headers (trace id, consumer ASID, provider ASID, interaction), the provider checks the JWT and
//! the `Parameters`, then answers from the fixtures or with a scenario's error.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nhs_number::NhsNumber;
use serde_json::Value;

use crate::AppState;
use crate::faults::{self, Api};
use crate::fixtures::{GpBehaviour, Record};
use crate::jwt_check;
use crate::outcome::{fhir_ok, stu3};

const INTERACTION: &str =
    "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1";
const OPERATION_PATH: &str = "/STU3/1/gpconnect/structured/fhir/Patient/$gpc.getstructuredrecord";
const NHS_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// Top-level parameters of the operation (GP Connect 1.6).
const KNOWN_PARAMETERS: [&str; 10] = [
    "patientNHSNumber",
    "includeAllergies",
    "includeMedication",
    "includeConsultations",
    "includeProblems",
    "includeImmunisations",
    "includeUncategorisedData",
    "includeInvestigations",
    "includeReferrals",
    "includeDiaryEntries",
];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /ssp/{provider FHIR base}/Patient/$gpc.getstructuredrecord`
pub(crate) async fn via_ssp(
    State(state): State<Arc<AppState>>,
    Path(target): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The proxy only forwards to endpoints registered in SDS: ours.
    let prefix = format!("{}/gpc/", state.base_url);
    let ods = target
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(OPERATION_PATH))
        .filter(|ods| state.dir.practices.contains_key(*ods));
    match ods {
        Some(ods) => handle(&state, ods, &headers, &body).await,
        None => stu3(
            StatusCode::FORBIDDEN,
            "ACCESS_DENIED",
            "The Spine Secure Proxy has no registered endpoint at the requested URL",
        ),
    }
}

/// `POST /gpc/{ods}/STU3/1/gpconnect/structured/fhir/Patient/$gpc.getstructuredrecord`
pub(crate) async fn direct(
    State(state): State<Arc<AppState>>,
    Path(ods): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !state.dir.practices.contains_key(&ods) {
        return stu3(
            StatusCode::NOT_FOUND,
            "REFERENCE_NOT_FOUND",
            "Unknown practice endpoint",
        );
    }
    handle(&state, &ods, &headers, &body).await
}

async fn handle(state: &AppState, ods: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    state.counters.gpconnect.fetch_add(1, Ordering::Relaxed);
    if let Some(status) = faults::apply(&state.faults, &state.fault_counters, Api::GpConnect).await
    {
        return stu3(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "INTERNAL_SERVER_ERROR",
            "injected failure",
        );
    }
    if let Err(reject) = check_ssp(state, ods, headers) {
        return reject.into_response();
    }
    let now = chrono::Utc::now().timestamp();
    if let Err(diagnostics) = jwt_check::validate(
        header(headers, "authorization"),
        &state.endpoint_address(ods),
        now,
    ) {
        return stu3(StatusCode::BAD_REQUEST, "BAD_REQUEST", &diagnostics);
    }
    let nhs = match check_parameters(body) {
        Ok(n) => n,
        Err(reject) => return reject.into_response(),
    };
    let (nhs, areas) = nhs;
    let patient = state
        .dir
        .patients
        .get(nhs.as_str())
        .filter(|p| p.practice.as_deref() == Some(ods));
    let Some(behaviour) = patient.and_then(|p| p.gp.as_ref()) else {
        return stu3(
            StatusCode::NOT_FOUND,
            "PATIENT_NOT_FOUND",
            "Patient not found at this practice",
        );
    };
    match behaviour {
        GpBehaviour::Records(records) => fhir_ok(pick(records, &areas).bytes.clone()),
        GpBehaviour::Error { status, code } => stu3(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            "scenario patient",
        ),
        GpBehaviour::Slow(record) => {
            tokio::time::sleep(Duration::from_millis(state.config.slow_delay_ms)).await;
            fhir_ok(record.bytes.clone())
        }
        GpBehaviour::Failing => stu3(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "scenario patient: the provider fails",
        ),
        GpBehaviour::Flaky(record) => {
            let n = {
                let mut counts = state.flaky.lock().await;
                let c = counts.entry(nhs.as_str().to_owned()).or_default();
                *c += 1;
                *c
            };
            if n % 3 == 0 {
                fhir_ok(record.bytes.clone())
            } else {
                stu3(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "INTERNAL_SERVER_ERROR",
                    "scenario patient: transient failure",
                )
            }
        }
    }
}

/// The record written for the first requested area, else the first record.
fn pick<'a>(records: &'a [Record], areas: &[String]) -> &'a Record {
    areas
        .iter()
        .find_map(|a| records.iter().find(|r| r.area == Some(a.as_str())))
        .unwrap_or(&records[0])
}

fn check_ssp(state: &AppState, ods: &str, headers: &HeaderMap) -> Result<(), Reject> {
    let bad = |d: &str| Err(Reject(StatusCode::BAD_REQUEST, "BAD_REQUEST", d.to_owned()));
    let denied = |d: &str| Err(Reject(StatusCode::FORBIDDEN, "ACCESS_DENIED", d.to_owned()));
    match header(headers, "ssp-traceid") {
        None => return bad("Ssp-TraceID header is required"),
        Some(v) if uuid::Uuid::parse_str(v).is_err() => return bad("Ssp-TraceID must be a UUID"),
        Some(_) => {}
    }
    let Some(from) = header(headers, "ssp-from") else {
        return bad("Ssp-From header is required");
    };
    if from.is_empty() || !from.bytes().all(|b| b.is_ascii_digit()) {
        return bad("Ssp-From must be an ASID");
    }
    if !state.config.consumer_asids.is_empty()
        && !state.config.consumer_asids.iter().any(|a| a == from)
    {
        return denied("Ssp-From is not an ASID registered for this interaction");
    }
    let Some(to) = header(headers, "ssp-to") else {
        return bad("Ssp-To header is required");
    };
    let expected = state.dir.practices.get(ods).map(|p| p.asid.as_str());
    if Some(to) != expected {
        return denied("Ssp-To does not match the ASID of the requested endpoint");
    }
    match header(headers, "ssp-interactionid") {
        None => bad("Ssp-InteractionID header is required"),
        Some(i) if i != INTERACTION => {
            denied("Ssp-InteractionID does not match the requested operation")
        }
        Some(_) => Ok(()),
    }
}

/// An error answer of the proxy or the provider, made into a response at the handler.
struct Reject(StatusCode, &'static str, String);

impl Reject {
    fn into_response(self) -> Response {
        stu3(self.0, self.1, &self.2)
    }
}

fn invalid_param(d: &str) -> Reject {
    Reject(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_PARAMETER",
        d.to_owned(),
    )
}

/// The NHS number and the requested areas, or the provider's error answer.
fn check_parameters(body: &[u8]) -> Result<(NhsNumber, Vec<String>), Reject> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| {
        Reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_RESOURCE",
            "The body is not valid JSON".into(),
        )
    })?;
    if parsed["resourceType"] != "Parameters" {
        return Err(Reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_RESOURCE",
            "The body must be a Parameters resource".into(),
        ));
    }
    let params = parsed["parameter"].as_array().cloned().unwrap_or_default();
    let mut nhs = None;
    let mut areas = Vec::new();
    for p in &params {
        let name = p["name"].as_str().unwrap_or_default();
        if !KNOWN_PARAMETERS.contains(&name) {
            return Err(invalid_param(&format!("Unknown parameter '{name}'")));
        }
        if areas.iter().any(|a| a == name) || (name == "patientNHSNumber" && nhs.is_some()) {
            return Err(invalid_param(&format!(
                "Parameter '{name}' is given more than once"
            )));
        }
        let part = |part: &str| {
            p["part"]
                .as_array()
                .and_then(|parts| parts.iter().find(|x| x["name"] == part))
        };
        match name {
            "patientNHSNumber" => {
                let id = &p["valueIdentifier"];
                if id["system"] != NHS_SYSTEM {
                    return Err(Reject(
                        StatusCode::BAD_REQUEST,
                        "INVALID_IDENTIFIER_SYSTEM",
                        "patientNHSNumber must use https://fhir.nhs.uk/Id/nhs-number".into(),
                    ));
                }
                let value = id["value"].as_str().unwrap_or_default();
                nhs = Some(NhsNumber::parse(value).map_err(|_| {
                    Reject(
                        StatusCode::BAD_REQUEST,
                        "INVALID_NHS_NUMBER",
                        "The NHS number is not valid".into(),
                    )
                })?);
            }
            "includeAllergies"
                if part("includeResolvedAllergies")
                    .and_then(|x| x["valueBoolean"].as_bool())
                    .is_none() =>
            {
                return Err(invalid_param(
                    "includeAllergies requires includeResolvedAllergies (boolean)",
                ));
            }
            "includeMedication" => {
                if part("includePrescriptionIssues")
                    .and_then(|x| x["valueBoolean"].as_bool())
                    .is_none()
                {
                    return Err(invalid_param(
                        "includeMedication requires includePrescriptionIssues (boolean)",
                    ));
                }
                if let Some(from) = part("medicationSearchFromDate") {
                    let date = from["valueDate"]
                        .as_str()
                        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    match date {
                        None => {
                            return Err(invalid_param("medicationSearchFromDate must be a date"));
                        }
                        Some(d) if d > chrono::Utc::now().date_naive() => {
                            return Err(invalid_param(
                                "medicationSearchFromDate must not be in the future",
                            ));
                        }
                        Some(_) => {}
                    }
                }
            }
            "includeConsultations" => {
                if let Some(n) = part("includeNumberOfMostRecent")
                    && n["valuePositiveInt"].as_u64().is_none_or(|n| n == 0)
                {
                    return Err(invalid_param(
                        "includeNumberOfMostRecent must be a positive integer",
                    ));
                }
            }
            _ => {}
        }
        if name != "patientNHSNumber" {
            areas.push(name.to_owned());
        }
    }
    let nhs = nhs.ok_or_else(|| invalid_param("patientNHSNumber is required"))?;
    Ok((nhs, areas))
}
