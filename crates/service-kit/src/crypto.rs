//! One process-wide rustls crypto provider.
//!
//! Several dependencies can each enable a rustls provider; if two are compiled in, rustls
//! cannot pick one and panics at the first TLS connection (see `shared/STACK.md`). Every
//! binary and every test that opens TLS calls [`install_default_provider`] first.

/// Installs aws-lc-rs as the process default provider; a no-op if one is already installed.
pub fn install_default_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
