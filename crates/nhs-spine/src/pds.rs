//! PDS FHIR R4: read a patient by NHS number, application-restricted.
//!
//! Outcomes are typed ([`PdsLookup`]): a merged (superseded) NHS number is answered by PDS with
//! the record of the current number, a restricted (S-flag, `meta.security` `R`/`V`) record lacks
//! address, telecom and GP, and a deceased patient carries `deceasedDateTime`.

use std::sync::Arc;

use nhs_number::NhsNumber;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

use crate::config::{ResilienceConfig, TlsConfig};
use crate::context::RequestingContext;
use crate::error::{ConfigError, TransportError};
use crate::fhir;
use crate::oauth::TokenSource;
pub use crate::oauth::{AuthError, OAuthConfig};
use crate::tls::build_http_client;
use crate::transport::Upstream;

const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

/// Where PDS is and how to authenticate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdsConfig {
    /// e.g. `https://int.api.service.nhs.uk/personal-demographics/FHIR/R4`
    pub base_url: String,
    pub oauth: OAuthConfig,
    #[serde(default = "ResilienceConfig::directory_default")]
    pub resilience: ResilienceConfig,
    #[serde(default)]
    pub tls: TlsConfig,
}

/// A human name as PDS gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HumanName {
    #[serde(rename = "use", default)]
    pub use_: Option<String>,
    #[serde(default)]
    pub family: Option<String>,
    #[serde(default)]
    pub given: Vec<String>,
    #[serde(default)]
    pub prefix: Vec<String>,
    #[serde(default)]
    pub suffix: Vec<String>,
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Address {
    #[serde(rename = "use", default)]
    pub use_: Option<String>,
    #[serde(default)]
    pub line: Vec<String>,
    #[serde(rename = "postalCode", default)]
    pub postal_code: Option<String>,
}

/// Demographics of one patient. `raw` keeps the whole R4 Patient for mappings that need more.
#[derive(Debug, Clone, PartialEq)]
pub struct PdsPatient {
    pub nhs_number: NhsNumber,
    pub version_id: Option<String>,
    pub names: Vec<HumanName>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub deceased_date_time: Option<String>,
    pub addresses: Vec<Address>,
    /// ODS code of the registered GP practice (absent for restricted patients).
    pub gp_ods_code: Option<String>,
    /// `meta.security` confidentiality code: `U`, `R` (restricted, S-flag) or `V`.
    pub confidentiality: Option<String>,
    pub raw: Value,
}

impl PdsPatient {
    pub fn is_restricted(&self) -> bool {
        matches!(self.confidentiality.as_deref(), Some("R" | "V"))
    }

    /// The `usual` name, else the first.
    pub fn usual_name(&self) -> Option<&HumanName> {
        self.names
            .iter()
            .find(|n| n.use_.as_deref() == Some("usual"))
            .or_else(|| self.names.first())
    }
}

/// What PDS said about an NHS number.
#[derive(Debug, Clone, PartialEq)]
pub enum PdsLookup {
    Found(Box<PdsPatient>),
    /// S-flagged: do not disclose location details; no GP practice is given.
    Restricted(Box<PdsPatient>),
    Deceased(Box<PdsPatient>),
    /// The NHS number asked for was superseded by `current` (PDS answers with that record).
    Merged {
        current: NhsNumber,
        patient: Box<PdsPatient>,
    },
    NotFound,
    /// The record was marked invalid and cannot be retrieved.
    Invalidated,
}

/// Why a PDS read failed.
#[derive(Debug, thiserror::Error)]
pub enum PdsError {
    #[error("PDS authentication failed: {0}")]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("PDS rejected the NHS number as invalid")]
    InvalidNhsNumber,
    #[error("PDS denied access ({status}): {code}")]
    AccessDenied { status: u16, code: String },
    #[error("PDS rate limit reached")]
    TooManyRequests,
    #[error("PDS rejected the request ({status}): {code} {diagnostics}")]
    BadRequest {
        status: u16,
        code: String,
        diagnostics: String,
    },
    #[error("PDS failed ({status}): {code}")]
    Upstream { status: u16, code: String },
}

/// PDS FHIR API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PdsClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base_url: String,
    upstream: Upstream,
    tokens: TokenSource,
}

impl PdsClient {
    pub fn new(config: PdsConfig) -> Result<Self, ConfigError> {
        let base = url::Url::parse(&config.base_url).map_err(|e| ConfigError::Url {
            field: "pds.base_url",
            detail: e.to_string(),
        })?;
        let http = build_http_client(&config.tls, &config.resilience)?;
        let tokens = TokenSource::new(
            config.oauth,
            Upstream::new("pds_token", http.clone(), config.resilience.clone()),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                base_url: base.as_str().trim_end_matches('/').to_owned(),
                upstream: Upstream::new("pds", http, config.resilience),
                tokens,
            }),
        })
    }

    /// `GET /Patient/{nhs}` on behalf of `ctx`'s organisation.
    pub async fn read_patient(
        &self,
        nhs: &NhsNumber,
        ctx: &RequestingContext,
    ) -> Result<PdsLookup, PdsError> {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let mut resp = self.get(nhs, ctx, &correlation_id).await?;
        if resp.status == StatusCode::UNAUTHORIZED {
            // The cached token may have been revoked or expired early: one fresh try.
            self.inner.tokens.invalidate().await;
            resp = self.get(nhs, ctx, &correlation_id).await?;
        }
        let summary = || fhir::summarise(&resp.body);
        match resp.status.as_u16() {
            200 => {
                let patient = parse_patient(&resp.body)?;
                Ok(classify(nhs, patient))
            }
            404 => match summary().code.as_deref() {
                Some("INVALIDATED_RESOURCE") => Ok(PdsLookup::Invalidated),
                _ => Ok(PdsLookup::NotFound),
            },
            400 => {
                let s = summary();
                match s.code.as_deref() {
                    Some("INVALID_RESOURCE_ID") => Err(PdsError::InvalidNhsNumber),
                    _ => Err(PdsError::BadRequest {
                        status: 400,
                        code: s.code.unwrap_or_default(),
                        diagnostics: s.diagnostics.unwrap_or_default(),
                    }),
                }
            }
            status @ (401 | 403) => Err(PdsError::AccessDenied {
                status,
                code: summary().code.unwrap_or_else(|| "ACCESS_DENIED".into()),
            }),
            429 => Err(PdsError::TooManyRequests),
            status @ 400..=499 => {
                let s = summary();
                Err(PdsError::BadRequest {
                    status,
                    code: s.code.unwrap_or_default(),
                    diagnostics: s.diagnostics.unwrap_or_default(),
                })
            }
            status => Err(PdsError::Upstream {
                status,
                code: summary().code.unwrap_or_default(),
            }),
        }
    }

    async fn get(
        &self,
        nhs: &NhsNumber,
        ctx: &RequestingContext,
        correlation_id: &str,
    ) -> Result<crate::transport::RawResponse, PdsError> {
        let url = format!("{}/Patient/{}", self.inner.base_url, nhs.as_str());
        self.send(&url, &[], ctx, correlation_id).await
    }

    /// One authenticated GET with the PDS headers; `query` pairs are URL-encoded by reqwest.
    pub(crate) async fn send(
        &self,
        url: &str,
        query: &[(&'static str, String)],
        ctx: &RequestingContext,
        correlation_id: &str,
    ) -> Result<crate::transport::RawResponse, PdsError> {
        let token = self.inner.tokens.bearer().await?;
        let http = &self.inner.upstream.http;
        Ok(self
            .inner
            .upstream
            .call(|| {
                http.get(url)
                    .query(query)
                    .bearer_auth(token.expose_secret())
                    .header("Accept", "application/fhir+json")
                    .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
                    .header("X-Correlation-ID", correlation_id)
                    .header("NHSD-End-User-Organisation-ODS", &ctx.organisation_ods)
            })
            .await?)
    }

    /// Like [`Self::send`], retrying once with a fresh token after a 401.
    pub(crate) async fn send_retrying_auth(
        &self,
        url: &str,
        query: &[(&'static str, String)],
        ctx: &RequestingContext,
    ) -> Result<crate::transport::RawResponse, PdsError> {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let resp = self.send(url, query, ctx, &correlation_id).await?;
        if resp.status == StatusCode::UNAUTHORIZED {
            self.inner.tokens.invalidate().await;
            return self.send(url, query, ctx, &correlation_id).await;
        }
        Ok(resp)
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.inner.base_url
    }
}

fn classify(requested: &NhsNumber, patient: PdsPatient) -> PdsLookup {
    if &patient.nhs_number != requested {
        return PdsLookup::Merged {
            current: patient.nhs_number.clone(),
            patient: Box::new(patient),
        };
    }
    if patient.is_restricted() {
        PdsLookup::Restricted(Box::new(patient))
    } else if patient.deceased_date_time.is_some() {
        PdsLookup::Deceased(Box::new(patient))
    } else {
        PdsLookup::Found(Box::new(patient))
    }
}

#[derive(Deserialize)]
struct RawPatient {
    #[serde(rename = "resourceType", default)]
    resource_type: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    meta: Option<RawMeta>,
    #[serde(default)]
    name: Vec<HumanName>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(rename = "birthDate", default)]
    birth_date: Option<String>,
    #[serde(rename = "deceasedDateTime", default)]
    deceased_date_time: Option<String>,
    #[serde(default)]
    address: Vec<Address>,
    #[serde(rename = "generalPractitioner", default)]
    general_practitioner: Vec<RawReference>,
}

#[derive(Deserialize)]
struct RawMeta {
    #[serde(rename = "versionId", default)]
    version_id: Option<String>,
    #[serde(default)]
    security: Vec<RawCoding>,
}

#[derive(Deserialize)]
struct RawCoding {
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(default)]
    identifier: Option<RawIdentifier>,
}

#[derive(Deserialize)]
struct RawIdentifier {
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// Parses a PDS R4 Patient leniently: unknown elements are ignored, the id must be a valid NHS
/// number.
pub fn parse_patient(body: &[u8]) -> Result<PdsPatient, TransportError> {
    let invalid = |detail: String| TransportError::InvalidResponse {
        upstream: "pds",
        detail,
    };
    let raw: Value = serde_json::from_slice(body).map_err(|e| invalid(format!("not JSON: {e}")))?;
    parse_patient_value(raw)
}

/// [`parse_patient`] for a Patient already parsed as JSON (e.g. a searchset entry).
pub fn parse_patient_value(raw: Value) -> Result<PdsPatient, TransportError> {
    let invalid = |detail: String| TransportError::InvalidResponse {
        upstream: "pds",
        detail,
    };
    let p: RawPatient =
        serde_json::from_value(raw.clone()).map_err(|e| invalid(format!("not a Patient: {e}")))?;
    if p.resource_type != "Patient" {
        return Err(invalid(format!(
            "expected a Patient, got {:?}",
            p.resource_type
        )));
    }
    let nhs_number = NhsNumber::parse(&p.id)
        .map_err(|e| invalid(format!("Patient.id is not an NHS number: {e}")))?;
    let gp_ods_code = p
        .general_practitioner
        .into_iter()
        .filter_map(|r| r.identifier)
        .find(|i| i.system.as_deref() == Some(ODS_SYSTEM))
        .and_then(|i| i.value);
    let (version_id, confidentiality) = match p.meta {
        Some(m) => (m.version_id, m.security.into_iter().find_map(|c| c.code)),
        None => (None, None),
    };
    Ok(PdsPatient {
        nhs_number,
        version_id,
        names: p.name,
        gender: p.gender,
        birth_date: p.birth_date,
        deceased_date_time: p.deceased_date_time,
        addresses: p.address,
        gp_ods_code,
        confidentiality,
        raw,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../../shared/fixtures/pds/{rel}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn parses_and_classifies_the_pds_fixtures() {
        let p = parse_patient(&fixture("xhuma/9690937286.json")).unwrap();
        assert_eq!(p.gp_ods_code.as_deref(), Some("B82617"));
        assert_eq!(p.usual_name().unwrap().family.as_deref(), Some("SKELLY"));
        let nhs = p.nhs_number.clone();
        assert!(matches!(classify(&nhs, p), PdsLookup::Found(_)));

        let s = parse_patient(&fixture("sandbox-mocks/Sensitive_Patient.json")).unwrap();
        let nhs = s.nhs_number.clone();
        assert!(matches!(classify(&nhs, s), PdsLookup::Restricted(_)));

        let d = parse_patient(&fixture("sandbox-mocks/Patient.json")).unwrap();
        let nhs = d.nhs_number.clone();
        assert!(matches!(classify(&nhs, d), PdsLookup::Deceased(_)));

        let m = parse_patient(&fixture("sandbox-mocks/Minimal_Patient.json")).unwrap();
        assert!(m.names.is_empty() && m.gp_ods_code.is_none());
        let other = NhsNumber::parse("9000000009").unwrap();
        assert!(matches!(classify(&other, m), PdsLookup::Merged { .. }));
    }

    #[test]
    fn rejects_non_patients_clearly() {
        let err = parse_patient(&fixture("errorResponses/ACCESS_DENIED.json")).unwrap_err();
        assert!(err.to_string().contains("expected a Patient"), "{err}");
        assert!(parse_patient(b"{").is_err());
    }
}
