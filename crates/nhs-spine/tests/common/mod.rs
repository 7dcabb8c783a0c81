//! Shared set-up: a sandbox on a random loopback port with a run-time key registered, and the
//! three clients pointed at it.
#![allow(dead_code, clippy::unwrap_used)]

use nhs_spine::gpconnect::{ClinicalAreas, GpConnectClient, GpConnectConfig};
use nhs_spine::keys::generate_ephemeral;
use nhs_spine::pds::{OAuthConfig, PdsClient, PdsConfig};
use nhs_spine::sds::{SdsClient, SdsConfig};
use nhs_spine::{RequestingContext, ResilienceConfig, TlsConfig};
use secrecy::SecretString;
use spine_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

pub const CONSUMER_ASID: &str = "200000000359";

pub struct Env {
    pub sandbox: SandboxHandle,
    pub pds_config: PdsConfig,
    pub sds_config: SdsConfig,
    pub gpc_config: GpConnectConfig,
}

pub fn fast_resilience() -> ResilienceConfig {
    ResilienceConfig {
        timeout_ms: 2_000,
        connect_timeout_ms: 500,
        max_retries: 2,
        backoff_base_ms: 10,
        backoff_max_ms: 40,
        breaker_failure_threshold: 50,
        breaker_open_ms: 1_000,
    }
}

pub async fn start(tweak: impl FnOnce(&mut SandboxConfig)) -> Env {
    let key = generate_ephemeral().unwrap();
    let mut config = SandboxConfig {
        jwks: Some(key.jwks.clone()),
        slow_delay_ms: 1_000,
        // These tests name the ../shared/fixtures patients.
        fixtures_dir: Some(spine_sandbox::SHARED_FIXTURES_DIR.into()),
        ..SandboxConfig::default()
    };
    tweak(&mut config);
    let api_key = config.api_key.clone();
    let sandbox = Sandbox::start(config).await.unwrap();
    let pds_config = PdsConfig {
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
        resilience: fast_resilience(),
        tls: TlsConfig::default(),
    };
    let sds_config = SdsConfig {
        base_url: sandbox.sds_base_url(),
        api_key: SecretString::from(api_key),
        resilience: fast_resilience(),
        tls: TlsConfig::default(),
    };
    let gpc_config = GpConnectConfig {
        ssp_url: Some(sandbox.ssp_url()),
        consumer_asid: CONSUMER_ASID.into(),
        issuer: "https://xhuma.test".into(),
        device_id: "xhuma-test".into(),
        device_model: "Xhuma".into(),
        device_version: "0.1.0".into(),
        clinical_areas: ClinicalAreas::default(),
        resilience: fast_resilience(),
        tls: TlsConfig::default(),
    };
    Env {
        sandbox,
        pds_config,
        sds_config,
        gpc_config,
    }
}

impl Env {
    pub fn pds(&self) -> PdsClient {
        PdsClient::new(self.pds_config.clone()).unwrap()
    }
    pub fn sds(&self) -> SdsClient {
        SdsClient::new(self.sds_config.clone()).unwrap()
    }
    pub fn gpc(&self) -> GpConnectClient {
        GpConnectClient::new(self.gpc_config.clone()).unwrap()
    }
}

pub fn ctx() -> RequestingContext {
    RequestingContext {
        user_id: "CN=Ann Jones,O=Example Trust".into(),
        family_name: "Jones".into(),
        given_names: vec!["Ann".into()],
        prefix: Some("Dr".into()),
        sds_user_id: None,
        sds_role_profile_id: None,
        role: Some("Clinician".into()),
        organisation_ods: "RRK".into(),
        organisation_name: "Example University Hospitals".into(),
        purpose_of_use: Some("TREATMENT".into()),
    }
}

pub fn nhs(s: &str) -> nhs_spine::NhsNumber {
    nhs_spine::NhsNumber::parse(s).unwrap()
}

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{rel}", spine_sandbox::SHARED_FIXTURES_DIR)).unwrap()
}
