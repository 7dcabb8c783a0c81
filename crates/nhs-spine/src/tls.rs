//! Builds the HTTP client of one upstream, including the mutual-TLS identity and CA bundle.

use std::path::Path;

use crate::config::{ResilienceConfig, TlsConfig};
use crate::error::ConfigError;

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read {
        what,
        path: path.display().to_string(),
        source,
    })
}

/// Installs aws-lc-rs as the process-wide rustls provider unless one is already installed
/// (never `ring`: see STACK.md gotcha 2).
pub(crate) fn ensure_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

pub(crate) fn build_http_client(
    tls: &TlsConfig,
    resilience: &ResilienceConfig,
) -> Result<reqwest::Client, ConfigError> {
    ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(resilience.connect_timeout())
        .user_agent(concat!("xhuma-nhs-spine/", env!("CARGO_PKG_VERSION")))
        // Spine endpoints are addressed directly; a redirect would be a misconfiguration.
        .redirect(reqwest::redirect::Policy::none());

    match (&tls.client_cert_path, &tls.client_key_path) {
        (Some(cert), Some(key)) => {
            let mut pem = read("client certificate", cert)?;
            pem.push(b'\n');
            pem.extend(read("client private key", key)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| ConfigError::Invalid {
                what: "client certificate/key",
                detail: e.to_string(),
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => {
            return Err(ConfigError::Invalid {
                what: "TLS configuration",
                detail: "client_cert_path and client_key_path must be given together".into(),
            });
        }
    }
    if let Some(ca) = &tls.ca_bundle_path {
        let certs =
            reqwest::Certificate::from_pem_bundle(&read("CA bundle", ca)?).map_err(|e| {
                ConfigError::Invalid {
                    what: "CA bundle",
                    detail: e.to_string(),
                }
            })?;
        if certs.is_empty() {
            return Err(ConfigError::Invalid {
                what: "CA bundle",
                detail: "no PEM certificates found".into(),
            });
        }
        builder = builder.tls_certs_only(certs);
    }
    builder
        .build()
        .map_err(|e| ConfigError::Http(e.to_string()))
}
