//! SDS FHIR R4 `GET /Device` and `GET /Endpoint` by organisation and interaction id.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::AppState;
use crate::faults::{self, Api};
use crate::fixtures::Practice;
use crate::outcome::{fhir_ok, r4};

const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const INTERACTION_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhsServiceInteractionId";
const GP_CONNECT_INTERACTION: &str =
    "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1";

#[derive(Clone, Copy)]
enum Kind {
    Device,
    Endpoint,
}

pub(crate) async fn devices(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    search(&state, &headers, query.as_deref(), Kind::Device).await
}

pub(crate) async fn endpoints(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    search(&state, &headers, query.as_deref(), Kind::Endpoint).await
}

async fn search(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    kind: Kind,
) -> Response {
    state.counters.sds.fetch_add(1, Ordering::Relaxed);
    if let Some(status) = faults::apply(&state.faults, &state.fault_counters, Api::Sds).await {
        return r4(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "SERVICE_UNAVAILABLE",
            "injected failure",
        );
    }
    let key = headers.get("apikey").and_then(|v| v.to_str().ok());
    if key != Some(state.config.api_key.as_str()) {
        return r4(
            StatusCode::UNAUTHORIZED,
            "ACCESS_DENIED",
            "Invalid or missing apikey header",
        );
    }
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let organization = pairs
        .iter()
        .find(|(k, _)| k == "organization")
        .map(|(_, v)| v.as_str());
    let Some(ods) = organization.and_then(|o| o.strip_prefix(&format!("{ODS_SYSTEM}|"))) else {
        return r4(
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
            "organization must be given as https://fhir.nhs.uk/Id/ods-organization-code|<ODS code>",
        );
    };
    let interaction = pairs
        .iter()
        .filter(|(k, _)| k == "identifier")
        .find_map(|(_, v)| v.strip_prefix(&format!("{INTERACTION_SYSTEM}|")));
    let Some(interaction) = interaction else {
        return r4(
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
            "identifier must include https://fhir.nhs.uk/Id/nhsServiceInteractionId|<interaction id>",
        );
    };
    let practice = state
        .dir
        .practices
        .get(ods)
        .filter(|_| interaction == GP_CONNECT_INTERACTION);
    let self_url = format!(
        "{}{}/{}?{}",
        state.base_url,
        crate::SDS_PATH,
        match kind {
            Kind::Device => "Device",
            Kind::Endpoint => "Endpoint",
        },
        query.unwrap_or_default()
    );
    let entries: Vec<Value> = practice
        .map(|p| match kind {
            Kind::Device => device(state, ods, interaction, p),
            Kind::Endpoint => endpoint(state, ods, interaction, p),
        })
        .into_iter()
        .map(|resource| {
            json!({
                "fullUrl": format!("{}{}/{}/{}", state.base_url, crate::SDS_PATH, resource["resourceType"].as_str().unwrap_or_default(), resource["id"].as_str().unwrap_or_default()),
                "resource": resource,
                "search": { "mode": "match" }
            })
        })
        .collect();
    fhir_ok(
        json!({
            "resourceType": "Bundle",
            "id": uuid::Uuid::new_v4().to_string(),
            "type": "searchset",
            "total": entries.len(),
            "link": [{ "relation": "self", "url": self_url }],
            "entry": entries
        })
        .to_string(),
    )
}

fn interaction_extension(interaction: &str) -> Value {
    json!({
        "url": "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-NhsServiceInteractionId",
        "valueReference": { "identifier": { "system": INTERACTION_SYSTEM, "value": interaction } }
    })
}

fn device(_state: &AppState, ods: &str, interaction: &str, p: &Practice) -> Value {
    json!({
        "resourceType": "Device",
        "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("device/{ods}").as_bytes()).to_string(),
        "identifier": [
            { "system": "https://fhir.nhs.uk/Id/nhsSpineASID", "value": p.asid },
            { "system": "https://fhir.nhs.uk/Id/nhsMhsPartyKey", "value": p.party_key }
        ],
        "extension": [interaction_extension(interaction)],
        "owner": { "identifier": { "system": ODS_SYSTEM, "value": ods } }
    })
}

fn endpoint(state: &AppState, ods: &str, interaction: &str, p: &Practice) -> Value {
    json!({
        "resourceType": "Endpoint",
        "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("endpoint/{ods}").as_bytes()).to_string(),
        "status": "active",
        "connectionType": {
            "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
            "code": "hl7-fhir-rest",
            "display": "HL7 FHIR"
        },
        "payloadType": [{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type",
            "code": "any",
            "display": "Any"
        }]}],
        "address": state.endpoint_address(ods),
        "managingOrganization": { "identifier": { "system": ODS_SYSTEM, "value": ods } },
        "identifier": [
            { "system": "https://fhir.nhs.uk/Id/nhsMhsPartyKey", "value": p.party_key },
            { "system": "https://fhir.nhs.uk/Id/nhsMHSId", "value": p.asid }
        ],
        "extension": [interaction_extension(interaction)]
    })
}
