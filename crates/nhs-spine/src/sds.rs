//! SDS FHIR R4: which ASID, MHS party key and FHIR base URL a practice (ODS code) uses for an
//! interaction. Two searches, run concurrently: `Device` (ASID, party key) and `Endpoint`
//! (address), both by `organization` and the `nhsServiceInteractionId` identifier.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::{ResilienceConfig, TlsConfig};
use crate::error::{ConfigError, TransportError};
use crate::fhir;
use crate::gpconnect::GET_STRUCTURED_RECORD_INTERACTION;
use crate::tls::build_http_client;
use crate::transport::Upstream;

const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const INTERACTION_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhsServiceInteractionId";
const ASID_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhsSpineASID";
const PARTY_KEY_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhsMhsPartyKey";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdsConfig {
    /// e.g. `https://int.api.service.nhs.uk/spine-directory/FHIR/R4`
    pub base_url: String,
    /// Sent as the `apikey` header.
    pub api_key: SecretString,
    #[serde(default = "ResilienceConfig::directory_default")]
    pub resilience: ResilienceConfig,
    #[serde(default)]
    pub tls: TlsConfig,
}

/// Where and as whom to reach a practice's system for one interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdsRecord {
    /// The provider system's Spine ASID (our `Ssp-To`).
    pub asid: String,
    pub party_key: String,
    /// The provider's FHIR base URL (`Endpoint.address`), also the GP Connect JWT `aud`.
    pub fhir_base_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SdsError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("SDS has no {what} for this organisation and interaction")]
    NotFound { what: &'static str },
    #[error("SDS refused the API key ({status})")]
    Unauthorised { status: u16 },
    #[error("SDS rejected the search ({status}): {code}")]
    BadRequest { status: u16, code: String },
    #[error("SDS failed ({status}): {code}")]
    Upstream { status: u16, code: String },
}

#[derive(Debug, Clone)]
pub struct SdsClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base_url: String,
    api_key: SecretString,
    upstream: Upstream,
}

#[derive(Deserialize)]
struct Bundle {
    #[serde(default)]
    entry: Vec<Entry>,
}
#[derive(Deserialize)]
struct Entry {
    resource: Resource,
}
#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    identifier: Vec<Identifier>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    status: Option<String>,
}
#[derive(Deserialize)]
struct Identifier {
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

impl Resource {
    fn identifier(&self, system: &str) -> Option<String> {
        self.identifier
            .iter()
            .find(|i| i.system.as_deref() == Some(system))
            .and_then(|i| i.value.clone())
    }
}

impl SdsClient {
    pub fn new(config: SdsConfig) -> Result<Self, ConfigError> {
        let base = url::Url::parse(&config.base_url).map_err(|e| ConfigError::Url {
            field: "sds.base_url",
            detail: e.to_string(),
        })?;
        let http = build_http_client(&config.tls, &config.resilience)?;
        Ok(Self {
            inner: Arc::new(Inner {
                base_url: base.as_str().trim_end_matches('/').to_owned(),
                api_key: config.api_key,
                upstream: Upstream::new("sds", http, config.resilience),
            }),
        })
    }

    /// The practice's GP Connect Access Record Structured endpoint.
    pub async fn lookup_gp_connect(&self, ods_code: &str) -> Result<SdsRecord, SdsError> {
        self.lookup(ods_code, GET_STRUCTURED_RECORD_INTERACTION)
            .await
    }

    pub async fn lookup(
        &self,
        ods_code: &str,
        interaction_id: &str,
    ) -> Result<SdsRecord, SdsError> {
        let (devices, endpoints) = tokio::join!(
            self.search("Device", ods_code, interaction_id),
            self.search("Endpoint", ods_code, interaction_id)
        );
        let devices = devices?;
        let endpoints = endpoints?;
        let device = devices
            .iter()
            .find(|d| d.identifier(ASID_SYSTEM).is_some())
            .ok_or(SdsError::NotFound { what: "Device" })?;
        let endpoint = endpoints
            .iter()
            .filter(|e| e.status.as_deref().is_none_or(|s| s == "active"))
            .find(|e| e.address.is_some())
            .ok_or(SdsError::NotFound { what: "Endpoint" })?;
        let asid = device.identifier(ASID_SYSTEM).unwrap_or_default();
        let party_key = device
            .identifier(PARTY_KEY_SYSTEM)
            .or_else(|| endpoint.identifier(PARTY_KEY_SYSTEM))
            .unwrap_or_default();
        Ok(SdsRecord {
            asid,
            party_key,
            fhir_base_url: endpoint.address.clone().unwrap_or_default(),
        })
    }

    async fn search(
        &self,
        resource: &'static str,
        ods_code: &str,
        interaction_id: &str,
    ) -> Result<Vec<Resource>, SdsError> {
        let url = format!("{}/{resource}", self.inner.base_url);
        let organization = format!("{ODS_SYSTEM}|{ods_code}");
        let identifier = format!("{INTERACTION_SYSTEM}|{interaction_id}");
        let http = &self.inner.upstream.http;
        let resp = self
            .inner
            .upstream
            .call(|| {
                http.get(&url)
                    .query(&[("organization", &organization), ("identifier", &identifier)])
                    .header("apikey", self.inner.api_key.expose_secret())
                    .header("Accept", "application/fhir+json")
                    .header("X-Correlation-Id", uuid::Uuid::new_v4().to_string())
            })
            .await?;
        let code = || fhir::summarise(&resp.body).code.unwrap_or_default();
        match resp.status.as_u16() {
            200 => {
                let bundle: Bundle = serde_json::from_slice(&resp.body).map_err(|e| {
                    TransportError::InvalidResponse {
                        upstream: "sds",
                        detail: format!("{resource} search result: {e}"),
                    }
                })?;
                Ok(bundle.entry.into_iter().map(|e| e.resource).collect())
            }
            status @ (401 | 403) => Err(SdsError::Unauthorised { status }),
            status @ 400..=499 => Err(SdsError::BadRequest {
                status,
                code: code(),
            }),
            status => Err(SdsError::Upstream {
                status,
                code: code(),
            }),
        }
    }
}
