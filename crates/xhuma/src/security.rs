//! Inbound transport security and abuse limits.
//!
//! * Mutual TLS: rustls (aws-lc-rs) with a `WebPkiClientVerifier` over the configured client
//!   CA, so a client is authenticated by a certificate that chains to that CA and proves
//!   possession of its key, not by the presence of a header. Handshakes run in each
//!   connection's task with a deadline (`listen.rs`), so a slow or silent client cannot stall
//!   accepting others.
//! * Per-client rate limiting (tower_governor) keyed by the peer IP address.
//!
//! Body size and time limits are applied by the handlers (see `soap.rs`), because on SOAP
//! routes they must answer with a SOAP Fault.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::http::Request;
use axum::serve::IncomingStream;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

use crate::config::TlsConfig;

/// The connection's peer, for handlers (`ConnectInfo<PeerAddr>`) and the rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {what} from {path}: {detail}")]
    Read {
        what: &'static str,
        path: String,
        detail: String,
    },
    #[error("invalid TLS configuration: {0}")]
    Invalid(String),
}

fn read_err(what: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsSetupError {
    TlsSetupError::Read {
        what,
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// Builds the rustls server configuration; with `client_ca_path`, client certificates are
/// required and verified.
pub fn server_config(cfg: &TlsConfig) -> Result<rustls::ServerConfig, TlsSetupError> {
    service_kit::crypto::install_default_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cfg.cert_path)
        .map_err(|e| read_err("the server certificate", &cfg.cert_path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| read_err("the server certificate", &cfg.cert_path, e))?;
    if certs.is_empty() {
        return Err(read_err(
            "the server certificate",
            &cfg.cert_path,
            "no certificate in file",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&cfg.key_path)
        .map_err(|e| read_err("the server key", &cfg.key_path, e))?;
    let builder = rustls::ServerConfig::builder();
    let builder = match &cfg.client_ca_path {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in
                CertificateDer::pem_file_iter(ca).map_err(|e| read_err("the client CA", ca, e))?
            {
                let c = c.map_err(|e| read_err("the client CA", ca, e))?;
                roots
                    .add(c)
                    .map_err(|e| TlsSetupError::Invalid(format!("client CA: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .map_err(|e| TlsSetupError::Invalid(format!("client CA: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsSetupError::Invalid(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Rate-limit key: the peer IP from [`PeerAddr`]. Behind a reverse proxy every request has
/// the proxy's address; deployments there rate-limit at the proxy instead.
#[derive(Debug, Clone, Copy)]
pub struct PeerIp;

impl KeyExtractor for PeerIp {
    type Key = std::net::IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        req.extensions()
            .get::<axum::extract::ConnectInfo<PeerAddr>>()
            .map(|ci| ci.0.0.ip())
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// The shared limiter configuration (one token bucket per client IP across all routes).
pub type RateLimit = Arc<
    tower_governor::governor::GovernorConfig<
        PeerIp,
        governor::middleware::NoOpMiddleware<governor::clock::QuantaInstant>,
    >,
>;

/// `None` when rate limiting is disabled (`rate_per_second = 0`).
pub fn rate_limit(per_second: u64, burst: u32) -> Option<RateLimit> {
    if per_second == 0 {
        return None;
    }
    let period = Duration::from_nanos(1_000_000_000 / per_second.max(1));
    let cfg = tower_governor::governor::GovernorConfigBuilder::default()
        .key_extractor(PeerIp)
        .period(period)
        .burst_size(burst.max(1))
        .finish()?;
    let cfg = Arc::new(cfg);
    // Forget idle clients now and then, or the limiter's map grows with every address seen.
    let limiter = cfg.limiter().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.retain_recent();
        }
    });
    Some(cfg)
}
