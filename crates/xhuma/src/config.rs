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
    pub sandbox: SandboxModeConfig,
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
            sandbox: SandboxModeConfig::default(),
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
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// HMAC key (at least 32 characters) used to pseudonymise NHS numbers. Unset: a random
    /// key is generated once and kept in `data_dir/pseudonym.key`. Every replica writing to
    /// one PostgreSQL audit store must share the same key, or pseudonyms will not join up.
    pub pseudonym_key: Option<SecretString>,
    /// The durable audit spool (one per process, on local disk). Unset: `data_dir/audit-spool`.
    pub spool_dir: Option<PathBuf>,
    /// Size at which a spool segment is sealed (and deleted once stored). Default 1 MiB.
    pub spool_segment_bytes: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            pseudonym_key: None,
            spool_dir: None,
            spool_segment_bytes: 1024 * 1024,
        }
    }
}

impl AuditConfig {
    /// Where the spool lives for a gateway with `data_dir`.
    pub fn spool(&self, data_dir: &Path) -> crate::audit::SpoolOptions {
        let mut o = crate::audit::SpoolOptions::in_data_dir(data_dir);
        if let Some(d) = &self.spool_dir {
            o.dir.clone_from(d);
        }
        o.segment_bytes = self.spool_segment_bytes;
        o
    }
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
    /// DocumentRequests in one ITI-39 retrieve; more is answered with an `XDSRepositoryError`.
    pub max_document_requests: usize,
    /// Bytes of documents in one ITI-39 answer (counted as sent: base64 inline, raw in MTOM);
    /// the documents beyond it get `XDSRepositoryOutOfResources` (a PartialSuccess).
    pub max_response_bytes: usize,
    /// Values of one ITI-38 stored-query parameter, or repetitions of one ITI-55/47 query
    /// parameter.
    pub max_query_values: usize,
    /// Characters of one echoed identifier: `wsa:MessageID`, ITI-39 ids, ITI-38 slot values,
    /// HL7 attribute values.
    pub max_id_chars: usize,
    /// Connections open at once; beyond it new clients wait in the listen backlog.
    pub max_connections: usize,
    /// Time for a request's headers to arrive, counted from when the connection waits for
    /// them, so it also closes idle HTTP/1.1 keep-alive connections.
    pub header_read_timeout_ms: u64,
    /// Time for a whole request body to arrive (408 otherwise).
    pub body_read_timeout_ms: u64,
    /// A connection on which nothing is read or written for this long is closed (HTTP/2,
    /// TLS handshakes, a client that stops reading its answer).
    pub idle_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let request = ihe_messaging::RequestLimits::default();
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_ms: 30_000,
            rate_per_second: 200,
            rate_burst: 400,
            max_document_requests: request.max_document_requests,
            max_response_bytes: 32 * 1024 * 1024,
            max_query_values: request.max_query_values,
            max_id_chars: request.max_id_chars,
            max_connections: 1024,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 20_000,
            idle_timeout_ms: 60_000,
        }
    }
}

impl LimitsConfig {
    /// The parser limits these settings stand for.
    pub fn request_limits(&self) -> ihe_messaging::RequestLimits {
        ihe_messaging::RequestLimits {
            max_document_requests: self.max_document_requests,
            max_query_values: self.max_query_values,
            max_id_chars: self.max_id_chars,
            ..ihe_messaging::RequestLimits::default()
        }
    }
}

/// The clinician preview (`GET /preview/{nhs_number}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreviewConfig {
    /// Unset: on when protected (mutual TLS or `token`), and in sandbox mode on loopback.
    /// `true` without protection refuses to start unless sandbox mode listens on loopback.
    pub enabled: Option<bool>,
    /// Bearer token callers must send (`Authorization: Bearer …`), compared in constant
    /// time; at least 32 characters (also `XHUMA_PREVIEW__TOKEN`).
    pub token: Option<SecretString>,
}

/// Embedded sandbox mode (no `[spine]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxModeConfig {
    /// Sandbox mode listens on loopback only; `true` allows another address (with a loud
    /// warning at start-up).
    pub allow_non_loopback: bool,
    /// Serve the GP Connect bundles and PDS records of this directory (laid out as
    /// `../shared/fixtures`) instead of the synthetic patients built into the binary (also
    /// `--fixtures DIR`, `XHUMA_SANDBOX__FIXTURES`).
    pub fixtures: Option<PathBuf>,
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
        let l = &self.limits;
        if l.max_document_requests == 0 || l.max_query_values == 0 || l.max_response_bytes == 0 {
            return Err(ConfigError::Invalid(
                "limits.max_document_requests, max_query_values and max_response_bytes must be \
                 positive"
                    .into(),
            ));
        }
        if l.max_id_chars < 64 {
            return Err(ConfigError::Invalid(
                "limits.max_id_chars must be at least 64 (a urn:uuid MessageID is 45)".into(),
            ));
        }
        if l.max_connections == 0
            || l.header_read_timeout_ms == 0
            || l.body_read_timeout_ms == 0
            || l.idle_timeout_ms == 0
        {
            return Err(ConfigError::Invalid(
                "limits.max_connections and the limits.*_timeout_ms must be positive".into(),
            ));
        }
        if l.idle_timeout_ms <= l.request_timeout_ms {
            // A request waiting on GP Connect moves no bytes; it must not count as idle.
            return Err(ConfigError::Invalid(
                "limits.idle_timeout_ms must be longer than limits.request_timeout_ms".into(),
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
        self.check_exposure()
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
        self.preview
            .enabled
            .unwrap_or_else(|| self.preview_protected() || self.sandbox_on_loopback())
    }

    /// Whether every preview caller is authenticated: mutual TLS (the client certificate
    /// identifies the calling system) or the bearer token.
    pub fn preview_protected(&self) -> bool {
        self.preview.token.is_some()
            || self
                .tls
                .as_ref()
                .is_some_and(|t| t.client_ca_path.is_some())
    }

    /// Sandbox mode on a loopback address: only this machine can reach the synthetic
    /// patients, so the preview needs no credential.
    fn sandbox_on_loopback(&self) -> bool {
        self.sandbox_mode() && self.listen.ip().is_loopback()
    }

    /// What may be exposed on the network, checked at start-up: sandbox mode stays on
    /// loopback unless explicitly allowed, and the preview (clinical records as HTML) is
    /// never served to unauthenticated callers off loopback.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        if self.sandbox_mode()
            && !self.listen.ip().is_loopback()
            && !self.sandbox.allow_non_loopback
        {
            return Err(ConfigError::Invalid(format!(
                "sandbox mode (no [spine] section) listens on loopback only, not {}: set \
                 sandbox.allow_non_loopback = true to expose the sandbox, or configure [spine]",
                self.listen
            )));
        }
        if self.preview_enabled() && !self.preview_protected() && !self.sandbox_on_loopback() {
            return Err(ConfigError::Invalid(
                "preview.enabled = true but the preview is not protected: configure mutual \
                 TLS ([tls] client_ca_path) or preview.token, or disable the preview"
                    .into(),
            ));
        }
        if let Some(t) = &self.preview.token {
            use secrecy::ExposeSecret;
            if t.expose_secret().len() < 32 {
                return Err(ConfigError::Invalid(
                    "preview.token must be at least 32 characters".into(),
                ));
            }
        }
        Ok(())
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

    fn with_real_spine() -> Config {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/xhuma.example.toml");
        let mut cfg = Config::load(Some(Path::new(path))).unwrap();
        cfg.tls = None;
        cfg.preview = PreviewConfig::default();
        cfg
    }

    #[test]
    fn preview_must_be_protected_outside_sandbox_loopback() {
        let mut cfg = with_real_spine();
        assert!(!cfg.preview_enabled(), "off by default when unprotected");
        cfg.validate().unwrap();
        cfg.preview.enabled = Some(true);
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("not protected"), "{err}");
        cfg.preview.token = Some(SecretString::from("x".repeat(40)));
        cfg.validate().unwrap();
        cfg.preview.token = Some(SecretString::from("short"));
        assert!(cfg.validate().is_err());
        // Mutual TLS protects it too, and then it is on by default.
        let mut cfg = with_real_spine();
        cfg.tls = Some(TlsConfig {
            cert_path: "c".into(),
            key_path: "k".into(),
            client_ca_path: Some("ca".into()),
        });
        assert!(cfg.preview_enabled());
        cfg.validate().unwrap();
    }

    #[test]
    fn sandbox_stays_on_loopback_unless_allowed() {
        let mut cfg = Config {
            listen: "0.0.0.0:8000".parse().unwrap(),
            ..Config::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("loopback"), "{err}");
        cfg.sandbox.allow_non_loopback = true;
        cfg.validate().unwrap();
        assert!(
            !cfg.preview_enabled(),
            "no unprotected preview off loopback"
        );
        cfg.listen = "[::1]:8000".parse().unwrap();
        cfg.sandbox.allow_non_loopback = false;
        cfg.validate().unwrap();
        assert!(cfg.preview_enabled());
    }

    #[test]
    fn request_limits_default_and_validate() {
        let cfg = Config::default();
        let l = cfg.limits.request_limits();
        assert_eq!(l.max_document_requests, 16);
        assert_eq!(l.max_id_chars, 256);
        assert_eq!(cfg.limits.max_response_bytes, 32 * 1024 * 1024);
        let mut bad = Config::default();
        bad.limits.max_document_requests = 0;
        assert!(bad.validate().is_err());
        let mut bad = Config::default();
        bad.limits.max_id_chars = 10;
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("max_id_chars"), "{err}");
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
