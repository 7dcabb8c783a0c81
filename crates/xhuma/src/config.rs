//! Gateway configuration: `xhuma.toml` (or the file given with `--config`), then `XHUMA_*`
//! environment variables, then command-line flags.
//!
//! Environment variables use `_` after the prefix and `__` between nested keys
//! (`XHUMA_REDIS_URL`, `XHUMA_CACHE__DOCUMENT_TTL_SECS`): config-rs would otherwise use the
//! nested separator after the prefix too (STACK.md gotcha 10). Every field has a default,
//! so no configuration at all gives the embedded quick start (sandbox, in-process cache,
//! SQLite audit under `./data`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// Everything the gateway reads at start-up.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where to listen. Loopback by default: the embedded sandbox serves synthetic patients
    /// and an open port on all interfaces would be a surprise on a laptop.
    pub listen: SocketAddr,
    /// Audit database (SQLite) and the generated pseudonymisation key live here.
    pub data_dir: PathBuf,
    /// Redis cache (`redis://` or `rediss://`); in-process cache when unset.
    pub redis_url: Option<SecretString>,
    /// PostgreSQL audit store; SQLite under `data_dir` when unset.
    pub database_url: Option<SecretString>,
    pub cache: CacheConfig,
    pub audit: AuditConfig,
    pub gateway: GatewayConfig,
    /// XUA assertion verification (trust anchors, clock skew, audience).
    pub saml: SamlConfig,
    /// The real Spine. Unset: the sandbox is started in-process (embedded mode).
    pub spine: Option<SpineConfig>,
    /// Inbound TLS; plain HTTP when unset.
    pub tls: Option<TlsConfig>,
    pub limits: LimitsConfig,
    pub preview: PreviewConfig,
    pub telemetry: service_kit::telemetry::TelemetryConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            data_dir: PathBuf::from("./data"),
            redis_url: None,
            database_url: None,
            cache: CacheConfig::default(),
            audit: AuditConfig::default(),
            gateway: GatewayConfig::default(),
            saml: SamlConfig::default(),
            spine: None,
            tls: None,
            limits: LimitsConfig::default(),
            preview: PreviewConfig::default(),
            telemetry: service_kit::telemetry::TelemetryConfig::default(),
        }
    }
}

/// Cache sizes and lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Upper bound of the in-process cache, in bytes of cached values.
    pub max_bytes: u64,
    /// Prefix of every Redis key, so several deployments can share one Redis.
    pub key_prefix: String,
    pub pds_ttl_secs: u64,
    pub sds_ttl_secs: u64,
    pub document_ttl_secs: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            key_prefix: "xhuma".into(),
            pds_ttl_secs: 24 * 3600,
            sds_ttl_secs: 12 * 3600,
            document_ttl_secs: 4 * 3600,
        }
    }
}

impl CacheConfig {
    pub fn pds_ttl(&self) -> Duration {
        Duration::from_secs(self.pds_ttl_secs)
    }
    pub fn sds_ttl(&self) -> Duration {
        Duration::from_secs(self.sds_ttl_secs)
    }
    pub fn document_ttl(&self) -> Duration {
        Duration::from_secs(self.document_ttl_secs)
    }
}

/// Audit trail settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// HMAC key (at least 32 characters) used to pseudonymise NHS numbers. Unset: a random
    /// key is generated once and kept in `data_dir/pseudonym.key`. Every replica writing to
    /// one PostgreSQL audit store must share the same key, or pseudonyms will not join up.
    pub pseudonym_key: Option<SecretString>,
}

/// Who the gateway is in IHE and CDA terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Our XCA/XCPD homeCommunityId (bare OID).
    pub home_community_id: String,
    /// Our XDS repositoryUniqueId (bare OID).
    pub repository_unique_id: String,
    /// HL7 V3 sender device id (OID).
    pub device_oid: String,
    pub device_name: String,
    /// The organisation operating the gateway.
    pub organization_oid: String,
    pub organization_name: String,
    /// ODS code of the organisation operating the gateway (the requesting organisation when
    /// the SAML assertion names none).
    pub ods_code: String,
    /// `assignedAuthor/id/@root` of generated documents.
    pub author_id_root: String,
    /// Refuse SOAP requests without a valid XUA SAML assertion. Unset: required with the
    /// real Spine, optional in sandbox mode.
    pub require_saml: Option<bool>,
}

impl Default for GatewayConfig {
    /// Test OIDs under the IHE testing arc; production deployments register their own.
    fn default() -> Self {
        Self {
            home_community_id: "1.3.6.1.4.1.21367.2017.2.6.19".into(),
            repository_unique_id: "1.3.6.1.4.1.21367.2017.2.6.19.1".into(),
            device_oid: "1.3.6.1.4.1.21367.2017.2.6.19.2".into(),
            device_name: "Xhuma gateway".into(),
            organization_oid: "1.3.6.1.4.1.21367.2017.2.6.19.3".into(),
            organization_name: "Xhuma GP Connect gateway (sandbox)".into(),
            ods_code: "X26".into(),
            author_id_root: "1.3.6.1.4.1.21367.2017.2.6.19.4".into(),
            require_saml: None,
        }
    }
}

/// XUA (SAML 2.0) assertion verification. See [`crate::xua`] for what is checked when.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamlConfig {
    /// PEM files holding the certificates of the identity providers (initiating gateways)
    /// whose assertion signatures are accepted; each file may hold several certificates.
    /// Required when `gateway.require_saml` is on. When set in a deployment that does not
    /// require SAML, assertions that are sent are still verified.
    pub trust_anchors: Vec<PathBuf>,
    /// Clock difference tolerated on NotBefore / NotOnOrAfter / IssueInstant.
    pub clock_skew_secs: u64,
    /// When set, `Conditions/AudienceRestriction/Audience` must name it (e.g. our
    /// homeCommunityId as `urn:oid:…`, or our endpoint URL).
    pub audience: Option<String>,
    /// Accepted signature methods: `rsa-sha256` (default), `rsa-sha512`, `rsa-sha1`.
    pub signature_algorithms: Vec<String>,
}

impl Default for SamlConfig {
    fn default() -> Self {
        Self {
            trust_anchors: Vec::new(),
            clock_skew_secs: 120,
            audience: None,
            signature_algorithms: vec!["rsa-sha256".into()],
        }
    }
}

/// The real NHS endpoints (the `nhs-spine` client configurations).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpineConfig {
    pub pds: nhs_spine::pds::PdsConfig,
    pub sds: nhs_spine::sds::SdsConfig,
    pub gp_connect: nhs_spine::gpconnect::GpConnectConfig,
}

/// Inbound TLS. With `client_ca_path`, clients must present a certificate that chains to
/// that CA (mutual TLS).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub client_ca_path: Option<PathBuf>,
}

/// Request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    pub request_timeout_ms: u64,
    /// Sustained requests per second per client address; 0 disables rate limiting.
    pub rate_per_second: u64,
    pub rate_burst: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_ms: 30_000,
            rate_per_second: 200,
            rate_burst: 400,
        }
    }
}

/// The clinician preview (`GET /preview/{nhs_number}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreviewConfig {
    /// Unset: on in sandbox mode, and with the real Spine only behind mutual TLS (the
    /// client certificate authenticates the user's system).
    pub enabled: Option<bool>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads `file` (when given, it must exist; otherwise `xhuma.toml` if present) and the
    /// `XHUMA_*` environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        match file {
            Some(path) => builder = builder.add_source(config::File::from(path).required(true)),
            None => {
                builder = builder.add_source(config::File::with_name("xhuma.toml").required(false))
            }
        }
        builder = builder.add_source(
            config::Environment::with_prefix("XHUMA")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true),
        );
        let cfg: Config = builder.build()?.try_deserialize()?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(key) = &self.audit.pseudonym_key {
            use secrecy::ExposeSecret;
            if key.expose_secret().len() < 32 {
                return Err(ConfigError::Invalid(
                    "audit.pseudonym_key must be at least 32 characters".into(),
                ));
            }
        }
        if self.limits.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "limits.max_body_bytes must be at least 1024".into(),
            ));
        }
        if self.require_saml() && self.saml.trust_anchors.is_empty() {
            return Err(ConfigError::Invalid(
                "saml.trust_anchors must list the identity providers' signing certificates \
                 (PEM files) when SAML is required (gateway.require_saml, on by default with \
                 the real Spine)"
                    .into(),
            ));
        }
        for name in &self.saml.signature_algorithms {
            if ihe_messaging::saml::SignatureAlgorithm::from_name(name).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "saml.signature_algorithms: `{name}` is not one of rsa-sha256, rsa-sha512, \
                     rsa-sha1"
                )));
            }
        }
        if self.saml.clock_skew_secs > 3600 {
            return Err(ConfigError::Invalid(
                "saml.clock_skew_secs must be at most 3600".into(),
            ));
        }
        if self.cache.max_bytes == 0 {
            return Err(ConfigError::Invalid(
                "cache.max_bytes must be positive".into(),
            ));
        }
        Ok(())
    }

    /// True when the Spine sandbox runs in-process.
    pub fn sandbox_mode(&self) -> bool {
        self.spine.is_none()
    }

    /// Whether SOAP requests must carry a valid SAML assertion.
    pub fn require_saml(&self) -> bool {
        self.gateway.require_saml.unwrap_or(!self.sandbox_mode())
    }

    /// Whether the clinician preview is served.
    pub fn preview_enabled(&self) -> bool {
        self.preview.enabled.unwrap_or_else(|| {
            self.sandbox_mode()
                || self
                    .tls
                    .as_ref()
                    .is_some_and(|t| t.client_ca_path.is_some())
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses_and_is_complete() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/xhuma.example.toml");
        let cfg = Config::load(Some(Path::new(path))).unwrap();
        assert!(
            cfg.spine.is_some(),
            "the example documents the Spine section"
        );
        assert!(cfg.tls.is_some(), "the example documents TLS");
        assert_eq!(cfg.cache.pds_ttl(), Duration::from_secs(86_400));
    }

    #[test]
    fn defaults_are_the_embedded_quick_start() {
        let cfg = Config::default();
        assert!(cfg.sandbox_mode());
        assert!(cfg.preview_enabled());
        assert_eq!(cfg.listen.port(), 8000);
        assert!(cfg.listen.ip().is_loopback());
        assert_eq!(cfg.cache.document_ttl(), Duration::from_secs(4 * 3600));
        cfg.validate().unwrap();
    }

    #[test]
    fn short_pseudonym_key_is_rejected() {
        let mut cfg = Config::default();
        cfg.audit.pseudonym_key = Some(SecretString::from("short"));
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("pseudonym_key"), "{err}");
    }

    #[test]
    fn environment_maps_with_single_underscore_after_prefix() {
        // config-rs reads the environment given to it; use a custom source map to avoid
        // mutating the process environment (tests run in parallel).
        let env = config::Environment::with_prefix("XHUMA")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .source(Some(
                [
                    (
                        "XHUMA_REDIS_URL".to_string(),
                        "redis://127.0.0.1:6379".to_string(),
                    ),
                    (
                        "XHUMA_CACHE__DOCUMENT_TTL_SECS".to_string(),
                        "60".to_string(),
                    ),
                    ("XHUMA_LISTEN".to_string(), "127.0.0.1:9999".to_string()),
                ]
                .into_iter()
                .collect(),
            ));
        let cfg: Config = config::Config::builder()
            .add_source(env)
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        assert!(cfg.redis_url.is_some());
        assert_eq!(cfg.cache.document_ttl_secs, 60);
        assert_eq!(cfg.listen.port(), 9999);
    }
}
