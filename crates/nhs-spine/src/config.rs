//! Configuration shared by the three clients. Durations are plain milliseconds so that a TOML
//! or environment configuration maps onto them without a duration syntax.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Timeouts, retries and circuit breaker of one upstream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilienceConfig {
    /// Whole-request timeout of one attempt (connect + headers + body).
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// Retries after the first attempt, on timeouts, connection failures and 5xx only.
    pub max_retries: u32,
    /// First backoff; doubles per retry, capped at `backoff_max_ms`, with full jitter.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Consecutive transient failures (after retries) that open the circuit.
    pub breaker_failure_threshold: u32,
    /// How long the circuit stays open before one probe is let through.
    pub breaker_open_ms: u64,
}

impl ResilienceConfig {
    /// GP Connect providers SHALL answer within 3 s: one attempt may use it all, and one quick
    /// retry keeps a transient failure from becoming an error without doubling the wait.
    pub fn gp_connect_default() -> Self {
        Self {
            timeout_ms: 3_000,
            connect_timeout_ms: 1_000,
            max_retries: 1,
            backoff_base_ms: 100,
            backoff_max_ms: 400,
            breaker_failure_threshold: 5,
            breaker_open_ms: 30_000,
        }
    }

    /// PDS and SDS answer in well under a second normally.
    pub fn directory_default() -> Self {
        Self {
            timeout_ms: 5_000,
            connect_timeout_ms: 1_000,
            max_retries: 2,
            backoff_base_ms: 100,
            backoff_max_ms: 1_000,
            breaker_failure_threshold: 5,
            breaker_open_ms: 30_000,
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
    pub(crate) fn breaker_open(&self) -> Duration {
        Duration::from_millis(self.breaker_open_ms)
    }
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        Self::directory_default()
    }
}

/// Mutual TLS towards the Spine (HSCN): our endpoint certificate and key, and the NHS CA bundle
/// that replaces the public web roots. All optional: the sandbox runs over plain HTTP on loopback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain presented as our client identity.
    pub client_cert_path: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the client certificate.
    pub client_key_path: Option<PathBuf>,
    /// PEM bundle of the CAs to trust; when set, only these are trusted.
    pub ca_bundle_path: Option<PathBuf>,
}
