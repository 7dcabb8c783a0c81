//! GP Connect Access Record Structured (`POST {provider}/Patient/$gpc.getstructuredrecord`),
//! sent through the Spine Secure Proxy with the `Ssp-*` headers and the audit JWT.
//!
//! The answer is returned as raw bundle bytes (the converter parses them) plus the
//! `Ssp-TraceID` used; GP Connect OperationOutcome codes become [`GpConnectError`] variants the
//! gateway can turn into IHE errors.

mod jwt;
mod params;

use std::sync::Arc;

use bytes::Bytes;
use nhs_number::NhsNumber;
use serde::Deserialize;
use uuid::Uuid;

use crate::config::{ResilienceConfig, TlsConfig};
use crate::context::RequestingContext;
use crate::error::{ConfigError, TransportError};
use crate::fhir;
use crate::sds::SdsRecord;
use crate::tls::build_http_client;
use crate::transport::Upstream;

pub use params::ClinicalAreas;

/// `Ssp-InteractionID` of Access Record Structured.
pub const GET_STRUCTURED_RECORD_INTERACTION: &str =
    "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1";

/// The List extension carrying GP Connect warning codes such as `data-in-transit`.
const LIST_WARNING_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ListWarningCode-1";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpConnectConfig {
    /// Spine Secure Proxy base URL: requests go to `{ssp_url}/{provider FHIR base}/Patient/…`.
    /// Unset: call the provider directly (test harnesses only).
    #[serde(default)]
    pub ssp_url: Option<String>,
    /// Our ASID (`Ssp-From`).
    pub consumer_asid: String,
    /// JWT `iss`: our system's Spine endpoint URL.
    pub issuer: String,
    /// `requesting_device.identifier.value`
    pub device_id: String,
    #[serde(default = "default_model")]
    pub device_model: String,
    #[serde(default = "default_version")]
    pub device_version: String,
    #[serde(default)]
    pub clinical_areas: ClinicalAreas,
    #[serde(default = "ResilienceConfig::gp_connect_default")]
    pub resilience: ResilienceConfig,
    /// Client certificate + NHS CA bundle for the HSCN.
    #[serde(default)]
    pub tls: TlsConfig,
}

fn default_model() -> String {
    "Xhuma".into()
}
fn default_version() -> String {
    env!("CARGO_PKG_VERSION").into()
}

/// A structured record as the provider sent it.
#[derive(Debug, Clone)]
pub struct StructuredRecord {
    /// The STU3 `Bundle`, unparsed.
    pub bundle: Bytes,
    /// The `Ssp-TraceID` of the request that produced it (for audit and support calls).
    pub trace_id: Uuid,
    /// GP Connect List warning codes found in the bundle, e.g. `data-in-transit`,
    /// `confidential-items`, `data-awaiting-filing`.
    pub warnings: Vec<String>,
}

/// Why no structured record came back. The variants mirror GP Connect's
/// `Spine-ErrorOrWarningCode` values where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpConnectError {
    #[error("the GP practice has no record of this patient (PATIENT_NOT_FOUND)")]
    PatientNotFound,
    #[error("the patient has dissented from sharing their record (NO_PATIENT_CONSENT)")]
    NoPatientConsent,
    #[error("the provider rejected the NHS number (INVALID_NHS_NUMBER)")]
    InvalidNhsNumber,
    #[error("the provider or the Spine Secure Proxy denied access ({status}, {code})")]
    AccessDenied { status: u16, code: String },
    #[error("the provider rejected the identifier system (INVALID_IDENTIFIER_SYSTEM)")]
    InvalidIdentifierSystem,
    #[error("the provider rejected a parameter ({code}): {diagnostics}")]
    InvalidParameter { code: String, diagnostics: String },
    #[error("the provider rejected the request ({status}, {code}): {diagnostics}")]
    BadRequest {
        status: u16,
        code: String,
        diagnostics: String,
    },
    #[error("the provider does not implement this operation (NOT_IMPLEMENTED)")]
    NotImplemented,
    #[error("the provider did not answer within the timeout")]
    Timeout,
    #[error("GP Connect circuit breaker open: the provider path is failing")]
    CircuitOpen,
    #[error("could not reach the provider: {0}")]
    Network(String),
    #[error("the provider failed ({status}, {code})")]
    Upstream { status: u16, code: String },
    #[error("the provider answered something that is not a FHIR Bundle: {0}")]
    InvalidResponse(String),
}

impl From<TransportError> for GpConnectError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Timeout { .. } => Self::Timeout,
            TransportError::CircuitOpen { .. } => Self::CircuitOpen,
            TransportError::Network { detail, .. } => Self::Network(detail),
            TransportError::InvalidResponse { detail, .. } => Self::InvalidResponse(detail),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GpConnectClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ssp_url: Option<String>,
    consumer_asid: String,
    issuer: jwt::Issuer,
    areas: ClinicalAreas,
    upstream: Upstream,
}

fn check_uri(field: &'static str, value: &str) -> Result<(), ConfigError> {
    url::Url::parse(value)
        .map(|_| ())
        .map_err(|e| ConfigError::Url {
            field,
            detail: e.to_string(),
        })
}

impl GpConnectClient {
    pub fn new(config: GpConnectConfig) -> Result<Self, ConfigError> {
        if let Some(ssp) = &config.ssp_url {
            check_uri("gpconnect.ssp_url", ssp)?;
        }
        check_uri("gpconnect.issuer", &config.issuer)?;
        if config.consumer_asid.is_empty()
            || !config.consumer_asid.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ConfigError::Invalid {
                what: "gpconnect.consumer_asid",
                detail: "an ASID is a string of digits".into(),
            });
        }
        if !config.clinical_areas.any() {
            return Err(ConfigError::Invalid {
                what: "gpconnect.clinical_areas",
                detail: "request at least one clinical area".into(),
            });
        }
        let iss = config.issuer.trim_end_matches('/').to_owned();
        let http = build_http_client(&config.tls, &config.resilience)?;
        Ok(Self {
            inner: Arc::new(Inner {
                ssp_url: config.ssp_url.map(|s| s.trim_end_matches('/').to_owned()),
                consumer_asid: config.consumer_asid,
                issuer: jwt::Issuer {
                    local_user_system: format!("{iss}/Id/local-user-id"),
                    device_system: format!("{iss}/Id/device"),
                    iss,
                    device_id: config.device_id,
                    model: config.device_model,
                    version: config.device_version,
                },
                areas: config.clinical_areas,
                // One breaker per practice (keyed by its ASID): a failing practice must not
                // block the others.
                upstream: Upstream::keyed("gpconnect", http, config.resilience),
            }),
        })
    }

    /// The URL the request is sent to for a provider.
    pub fn request_url(&self, provider: &SdsRecord) -> String {
        let base = provider.fhir_base_url.trim_end_matches('/');
        match &self.inner.ssp_url {
            Some(ssp) => format!("{ssp}/{base}/Patient/$gpc.getstructuredrecord"),
            None => format!("{base}/Patient/$gpc.getstructuredrecord"),
        }
    }

    /// Fetches the patient's structured record from the practice `provider` describes.
    pub async fn get_structured_record(
        &self,
        nhs: &NhsNumber,
        provider: &SdsRecord,
        ctx: &RequestingContext,
    ) -> Result<StructuredRecord, GpConnectError> {
        let url = self.request_url(provider);
        let body =
            params::build(nhs, &self.inner.areas, chrono::Utc::now().date_naive()).to_string();
        let mut trace_id = Uuid::new_v4();
        let inner = &self.inner;
        let mut first = true;
        let resp = inner
            .upstream
            .call_keyed(Some(&provider.asid), || {
                // Each attempt is a new request: new trace id, new JWT (GP Connect: one JWT per
                // request, valid five minutes from its `iat`).
                if !first {
                    trace_id = Uuid::new_v4();
                }
                first = false;
                let claims = jwt::claims(
                    &inner.issuer,
                    ctx,
                    &provider.fhir_base_url,
                    chrono::Utc::now().timestamp(),
                );
                inner
                    .upstream
                    .http
                    .post(&url)
                    .header("Ssp-TraceID", trace_id.to_string())
                    .header("Ssp-From", &inner.consumer_asid)
                    .header("Ssp-To", &provider.asid)
                    .header("Ssp-InteractionID", GET_STRUCTURED_RECORD_INTERACTION)
                    .header(
                        "Authorization",
                        format!("Bearer {}", jwt::encode_unsigned(&claims)),
                    )
                    .header("Accept", "application/fhir+json")
                    .header("Content-Type", "application/fhir+json")
                    .body(body.clone())
            })
            .await?;
        if resp.status.is_success() {
            let warnings = inspect_bundle(&resp.body)?;
            if !warnings.is_empty() {
                tracing::info!(trace_id = %trace_id, ?warnings, "GP Connect record carries warnings");
            }
            return Ok(StructuredRecord {
                bundle: resp.body,
                trace_id,
                warnings,
            });
        }
        let summary = fhir::summarise(&resp.body);
        let status = resp.status.as_u16();
        let code = summary.code.unwrap_or_default();
        let diagnostics = summary.diagnostics.unwrap_or_default();
        tracing::info!(trace_id = %trace_id, status, code = %code, "GP Connect request failed");
        Err(map_error(status, code, diagnostics))
    }
}

fn map_error(status: u16, code: String, diagnostics: String) -> GpConnectError {
    match code.as_str() {
        "PATIENT_NOT_FOUND" => GpConnectError::PatientNotFound,
        "NO_PATIENT_CONSENT" => GpConnectError::NoPatientConsent,
        "INVALID_NHS_NUMBER" => GpConnectError::InvalidNhsNumber,
        "INVALID_IDENTIFIER_SYSTEM" => GpConnectError::InvalidIdentifierSystem,
        "ACCESS_DENIED" => GpConnectError::AccessDenied { status, code },
        "INVALID_PARAMETER" | "INVALID_RESOURCE" | "INVALID_IDENTIFIER_VALUE" => {
            GpConnectError::InvalidParameter { code, diagnostics }
        }
        "NOT_IMPLEMENTED" => GpConnectError::NotImplemented,
        _ => match status {
            401 | 403 => GpConnectError::AccessDenied { status, code },
            404 => GpConnectError::PatientNotFound,
            400..=499 => GpConnectError::BadRequest {
                status,
                code,
                diagnostics,
            },
            501 => GpConnectError::NotImplemented,
            _ => GpConnectError::Upstream { status, code },
        },
    }
}

#[derive(Deserialize)]
struct BundleProbe {
    #[serde(rename = "resourceType")]
    resource_type: String,
    #[serde(default)]
    entry: Vec<EntryProbe>,
}
#[derive(Deserialize)]
struct EntryProbe {
    #[serde(default)]
    resource: Option<ResourceProbe>,
}
#[derive(Deserialize)]
struct ResourceProbe {
    #[serde(rename = "resourceType", default)]
    resource_type: String,
    #[serde(default)]
    extension: Vec<ExtensionProbe>,
}
#[derive(Deserialize)]
struct ExtensionProbe {
    #[serde(default)]
    url: String,
    #[serde(rename = "valueCode", default)]
    value_code: Option<String>,
}

/// Checks the answer is a JSON Bundle (an HTML error page from a proxy is not) and collects
/// the List warning codes, skipping everything else without building a tree.
fn inspect_bundle(body: &[u8]) -> Result<Vec<String>, GpConnectError> {
    let probe: BundleProbe = serde_json::from_slice(body)
        .map_err(|e| GpConnectError::InvalidResponse(format!("not a JSON Bundle: {e}")))?;
    if probe.resource_type != "Bundle" {
        return Err(GpConnectError::InvalidResponse(format!(
            "expected a Bundle, got {:?}",
            probe.resource_type
        )));
    }
    let mut warnings: Vec<String> = probe
        .entry
        .into_iter()
        .filter_map(|e| e.resource)
        .filter(|r| r.resource_type == "List")
        .flat_map(|r| r.extension)
        .filter(|x| x.url == LIST_WARNING_EXTENSION)
        .filter_map(|x| x.value_code)
        .collect();
    warnings.sort();
    warnings.dedup();
    Ok(warnings)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fixture_bundles_pass_inspection() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/gpconnect/xhuma"
        );
        for f in ["9690937278.json", "9692136744.json"] {
            let body = std::fs::read(format!("{dir}/{f}")).unwrap();
            inspect_bundle(&body).unwrap();
        }
    }

    #[test]
    fn malformed_and_non_bundles_are_rejected() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/gpconnect/spec-examples"
        );
        let body = std::fs::read(format!("{dir}/consultations_response1.malformed.json")).unwrap();
        assert!(matches!(
            inspect_bundle(&body),
            Err(GpConnectError::InvalidResponse(_))
        ));
        assert!(inspect_bundle(br#"{"resourceType":"Patient"}"#).is_err());
    }

    #[test]
    fn error_codes_map_to_variants() {
        assert_eq!(
            map_error(404, "PATIENT_NOT_FOUND".into(), String::new()),
            GpConnectError::PatientNotFound
        );
        assert_eq!(
            map_error(403, "NO_PATIENT_CONSENT".into(), String::new()),
            GpConnectError::NoPatientConsent
        );
        assert_eq!(
            map_error(400, "INVALID_NHS_NUMBER".into(), String::new()),
            GpConnectError::InvalidNhsNumber
        );
        assert!(matches!(
            map_error(403, "ACCESS_DENIED".into(), String::new()),
            GpConnectError::AccessDenied { .. }
        ));
        assert!(matches!(
            map_error(502, String::new(), String::new()),
            GpConnectError::Upstream { status: 502, .. }
        ));
    }
}
