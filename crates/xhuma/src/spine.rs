//! Thin adapter over `nhs-spine` (and the in-process `spine-sandbox`): builds the three clients
//! from configuration, turns the SAML assertion into a GP Connect requesting context, and
//! keeps cacheable copies of PDS and SDS answers (the client types are not serialisable).

use nhs_number::NhsNumber;
use nhs_spine::gpconnect::{ClinicalAreas, GpConnectClient, GpConnectConfig};
use nhs_spine::pds::{OAuthConfig, PdsClient, PdsConfig, PdsLookup, PdsPatient};
use nhs_spine::sds::{SdsClient, SdsConfig, SdsRecord};
use nhs_spine::{RequestingContext, ResilienceConfig, TlsConfig};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use spine_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

use crate::config::{Config, GatewayConfig, SpineConfig};

/// The sandbox's consumer ASID for the embedded mode.
const SANDBOX_CONSUMER_ASID: &str = "200000000359";

#[derive(Debug, thiserror::Error)]
pub enum SpineSetupError {
    #[error("cannot start the Spine sandbox: {0}")]
    Sandbox(#[from] spine_sandbox::StartError),
    #[error("cannot generate the sandbox signing key: {0}")]
    Key(String),
    #[error("Spine client configuration: {0}")]
    Client(#[from] nhs_spine::error::ConfigError),
}

/// The upstream clients, and the sandbox when it runs in-process.
pub struct Spine {
    pub pds: PdsClient,
    pub sds: SdsClient,
    pub gpc: GpConnectClient,
    pub sandbox: Option<SandboxHandle>,
    /// The public half of our PDS signing key, served at `/.well-known/jwks.json` for the NHS
    /// API platform to fetch.
    pub jwks: serde_json::Value,
}

impl Spine {
    /// Real Spine from `config.spine`, or a sandbox started on a random loopback port with a
    /// signing key generated now (nothing secret is stored anywhere).
    pub async fn start(config: &Config) -> Result<Self, SpineSetupError> {
        match &config.spine {
            Some(s) => Self::from_config(s, None),
            None => {
                let key = nhs_spine::keys::generate_ephemeral()
                    .map_err(|e| SpineSetupError::Key(e.to_string()))?;
                let sandbox_cfg = SandboxConfig {
                    jwks: Some(key.jwks.clone()),
                    fixtures_dir: config.sandbox.fixtures.clone(),
                    ..SandboxConfig::default()
                };
                let api_key = sandbox_cfg.api_key.clone();
                let sandbox = Sandbox::start(sandbox_cfg).await?;
                let spine = SpineConfig {
                    pds: PdsConfig {
                        base_url: sandbox.pds_base_url(),
                        oauth: OAuthConfig {
                            token_url: sandbox.token_url(),
                            api_key: SecretString::from(api_key.clone()),
                            kid: key.kid.clone(),
                            private_key_pem: Some(key.private_key_pem.clone()),
                            private_key_path: None,
                            assertion_lifetime_secs: 300,
                            refresh_margin_secs: 60,
                        },
                        resilience: ResilienceConfig::directory_default(),
                        tls: TlsConfig::default(),
                    },
                    sds: SdsConfig {
                        base_url: sandbox.sds_base_url(),
                        api_key: SecretString::from(api_key),
                        resilience: ResilienceConfig::directory_default(),
                        tls: TlsConfig::default(),
                    },
                    gp_connect: GpConnectConfig {
                        ssp_url: Some(sandbox.ssp_url()),
                        consumer_asid: SANDBOX_CONSUMER_ASID.into(),
                        issuer: "https://xhuma.sandbox.local".into(),
                        device_id: "xhuma-sandbox".into(),
                        device_model: "Xhuma".into(),
                        device_version: env!("CARGO_PKG_VERSION").into(),
                        clinical_areas: ClinicalAreas::default(),
                        resilience: ResilienceConfig::gp_connect_default(),
                        tls: TlsConfig::default(),
                    },
                };
                Self::from_config(&spine, Some(sandbox))
            }
        }
    }

    fn from_config(
        s: &SpineConfig,
        sandbox: Option<SandboxHandle>,
    ) -> Result<Self, SpineSetupError> {
        Ok(Self {
            pds: PdsClient::new(s.pds.clone())?,
            sds: SdsClient::new(s.sds.clone())?,
            gpc: GpConnectClient::new(s.gp_connect.clone())?,
            jwks: s.pds.oauth.jwks()?,
            sandbox,
        })
    }
}

/// Who is asking, for GP Connect's audit JWT and our audit trail. From the XUA SAML
/// assertion when present; otherwise the gateway's own organisation (sandbox mode only, see
/// `GatewayConfig::require_saml`).
pub fn requesting_context(
    saml: Option<&ihe_messaging::SamlAssertion>,
    gw: &GatewayConfig,
) -> RequestingContext {
    let user = saml
        .and_then(|s| s.subject_id.clone().or_else(|| s.subject_name_id.clone()))
        .unwrap_or_else(|| "unknown-user".into());
    let (given_names, family_name) = RequestingContext::split_name(&user);
    // GP Connect wants an ODS code; an OID-form organisation id (common in XUA) is recorded
    // in the audit trail by name instead, and the gateway's own ODS code is sent.
    let org_id = saml
        .and_then(|s| s.organization_id.as_deref())
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned);
    RequestingContext {
        user_id: user.clone(),
        family_name: if family_name.is_empty() {
            "Unknown".into()
        } else {
            family_name
        },
        given_names,
        prefix: None,
        sds_user_id: None,
        sds_role_profile_id: None,
        role: saml
            .and_then(|s| s.role.as_ref())
            .map(|r| r.display_name.clone().unwrap_or_else(|| r.code.clone())),
        organisation_ods: org_id.unwrap_or_else(|| gw.ods_code.clone()),
        organisation_name: saml
            .and_then(|s| s.organization.clone())
            .unwrap_or_else(|| gw.organization_name.clone()),
        purpose_of_use: saml
            .and_then(|s| s.purpose_of_use.as_ref())
            .map(|p| p.code.clone()),
    }
}

/// A PDS answer worth caching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PatientStatus {
    Found,
    Restricted,
    Deceased,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedName {
    pub use_: Option<String>,
    pub prefix: Vec<String>,
    pub given: Vec<String>,
    pub family: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedAddress {
    pub use_: Option<String>,
    pub lines: Vec<String>,
    pub postal_code: Option<String>,
}

/// What the gateway keeps of a PDS record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedPatient {
    pub status: PatientStatus,
    /// The current NHS number (differs from the requested one after a merge).
    pub nhs_number: String,
    pub names: Vec<CachedName>,
    pub gender: Option<String>,
    /// `YYYY-MM-DD`
    pub birth_date: Option<String>,
    pub addresses: Vec<CachedAddress>,
    pub gp_ods_code: Option<String>,
}

impl CachedPatient {
    fn from_pds(status: PatientStatus, p: &PdsPatient) -> Self {
        Self {
            status,
            nhs_number: p.nhs_number.as_str().to_owned(),
            names: p
                .names
                .iter()
                .map(|n| CachedName {
                    use_: n.use_.clone(),
                    prefix: n.prefix.clone(),
                    given: n.given.clone(),
                    family: n.family.clone(),
                })
                .collect(),
            gender: p.gender.clone(),
            birth_date: p.birth_date.clone(),
            addresses: p
                .addresses
                .iter()
                .map(|a| CachedAddress {
                    use_: a.use_.clone(),
                    lines: a.line.clone(),
                    postal_code: a.postal_code.clone(),
                })
                .collect(),
            gp_ods_code: p.gp_ods_code.clone(),
        }
    }

    /// A patient found by a PDS search (restricted / deceased as a read would classify it).
    pub fn from_search(p: &PdsPatient) -> Self {
        let status = if p.is_restricted() {
            PatientStatus::Restricted
        } else if p.deceased_date_time.is_some() {
            PatientStatus::Deceased
        } else {
            PatientStatus::Found
        };
        Self::from_pds(status, p)
    }

    pub fn nhs(&self) -> Option<NhsNumber> {
        NhsNumber::parse(&self.nhs_number).ok()
    }
}

/// The PDS outcome as the flow sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientLookup {
    Known(CachedPatient),
    NotFound,
}

/// Maps a PDS lookup; `None` for outcomes that are answered as "not found" (invalidated).
pub fn from_pds(lookup: &PdsLookup) -> PatientLookup {
    match lookup {
        PdsLookup::Found(p) => {
            PatientLookup::Known(CachedPatient::from_pds(PatientStatus::Found, p))
        }
        PdsLookup::Restricted(p) => {
            PatientLookup::Known(CachedPatient::from_pds(PatientStatus::Restricted, p))
        }
        PdsLookup::Deceased(p) => {
            PatientLookup::Known(CachedPatient::from_pds(PatientStatus::Deceased, p))
        }
        PdsLookup::Merged { patient, .. } => {
            let status = if patient.is_restricted() {
                PatientStatus::Restricted
            } else if patient.deceased_date_time.is_some() {
                PatientStatus::Deceased
            } else {
                PatientStatus::Found
            };
            PatientLookup::Known(CachedPatient::from_pds(status, patient))
        }
        PdsLookup::NotFound | PdsLookup::Invalidated => PatientLookup::NotFound,
    }
}

/// A cacheable SDS record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedSds {
    pub asid: String,
    pub party_key: String,
    pub fhir_base_url: String,
}

impl From<&SdsRecord> for CachedSds {
    fn from(r: &SdsRecord) -> Self {
        Self {
            asid: r.asid.clone(),
            party_key: r.party_key.clone(),
            fhir_base_url: r.fhir_base_url.clone(),
        }
    }
}

impl From<&CachedSds> for SdsRecord {
    fn from(r: &CachedSds) -> Self {
        SdsRecord {
            asid: r.asid.clone(),
            party_key: r.party_key.clone(),
            fhir_base_url: r.fhir_base_url.clone(),
        }
    }
}
