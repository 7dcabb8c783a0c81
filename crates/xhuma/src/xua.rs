//! XUA: whether the SAML assertion of a SOAP request is believed.
//!
//! | deployment | no assertion | assertion sent |
//! |---|---|---|
//! | `require_saml` on (default with the real Spine; `saml.trust_anchors` mandatory) | refused, `wsse:InvalidSecurity` | verified (below); refused unless it passes |
//! | `require_saml` off, `saml.trust_anchors` set | served | verified; refused unless it passes |
//! | `require_saml` off, no trust anchors (the embedded sandbox default) | served | read, **not verified**: its attributes are audited and passed to GP Connect as the caller's claims |
//!
//! Verification ([`ihe_messaging::saml::SamlVerifier`]): an enveloped XML signature (exclusive
//! c14n, RSA-SHA256, or the configured `signature_algorithms`) by the key of one of the
//! trust-anchor certificates, whose one Reference is the assertion itself (so a second,
//! unsigned or wrapped assertion is never what is read), then Issuer, Subject/NameID,
//! IssueInstant, Conditions with NotOnOrAfter in the future and NotBefore in the past (both
//! within `clock_skew_secs`), and the audience when `saml.audience` is set. A bad, untrusted
//! or missing signature is answered with `wsse:FailedAuthentication`; missing parts, an
//! expired assertion or another audience with `wsse:InvalidSecurity`. Mutual TLS, when
//! configured, is checked before any of this and independently of it.

use std::path::Path;

use chrono::{DateTime, Utc};
use ihe_messaging::saml::{
    SamlVerifier, SignatureAlgorithm, TrustAnchorError, VerifierConfig, WsseFault,
};
use ihe_messaging::{SamlAssertion, SoapFault, WsaSubcode};

use crate::config::Config;

enum Verifier {
    /// No trust anchors configured (only allowed when SAML is not required).
    Off,
    Ready(Box<SamlVerifier>),
    /// The trust anchors are configured but could not be loaded: refuse every assertion.
    Broken(String),
}

/// The XUA policy of one gateway, built once at start.
pub struct Xua {
    required: bool,
    verifier: Verifier,
}

/// Why the trust anchors could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum XuaConfigError {
    #[error("saml.trust_anchors: cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("saml.trust_anchors: {0}")]
    Anchors(#[from] TrustAnchorError),
}

impl Xua {
    /// Loads the trust anchors named in the configuration.
    pub fn from_config(cfg: &Config) -> Result<Self, XuaConfigError> {
        let required = cfg.require_saml();
        if cfg.saml.trust_anchors.is_empty() {
            // `Config::validate` refuses this combination when SAML is required; a
            // configuration built in code that skips validation gets a verifier that refuses
            // every assertion rather than one that believes them.
            let verifier = if required {
                Verifier::Broken("no saml.trust_anchors are configured".into())
            } else {
                Verifier::Off
            };
            return Ok(Self { required, verifier });
        }
        let mut pems = Vec::with_capacity(cfg.saml.trust_anchors.len());
        for path in &cfg.saml.trust_anchors {
            pems.push(read(path)?);
        }
        let verifier = SamlVerifier::new(VerifierConfig {
            trust_anchors_pem: pems,
            clock_skew: chrono::Duration::seconds(
                i64::try_from(cfg.saml.clock_skew_secs).unwrap_or(i64::MAX),
            ),
            audience: cfg.saml.audience.clone(),
            algorithms: cfg
                .saml
                .signature_algorithms
                .iter()
                .filter_map(|n| SignatureAlgorithm::from_name(n))
                .collect(),
        })?;
        Ok(Self {
            required,
            verifier: Verifier::Ready(Box::new(verifier)),
        })
    }

    /// [`Xua::from_config`], failing closed: when the anchors cannot be loaded every assertion
    /// is refused (the binary refuses to start in that case before getting here).
    pub fn from_config_or_closed(cfg: &Config) -> Self {
        Self::from_config(cfg).unwrap_or_else(|e| {
            tracing::error!(error = %e, "SAML trust anchors unusable: every assertion is refused");
            Self {
                required: cfg.require_saml(),
                verifier: Verifier::Broken(e.to_string()),
            }
        })
    }

    /// Ok when the request may be served with `saml` as its caller's identity.
    pub fn check(&self, saml: Option<&SamlAssertion>, now: DateTime<Utc>) -> Result<(), SoapFault> {
        let Some(assertion) = saml else {
            if self.required {
                return Err(fault(
                    WsaSubcode::InvalidSecurity,
                    "a WS-Security SAML assertion (IHE XUA) is required".into(),
                ));
            }
            return Ok(());
        };
        match &self.verifier {
            Verifier::Off => Ok(()),
            Verifier::Broken(why) => {
                tracing::error!(reason = %why, "SAML assertion refused: no usable trust anchors");
                Err(SoapFault::receiver(
                    "the gateway cannot verify SAML assertions (its trust anchors are not usable)",
                ))
            }
            Verifier::Ready(v) => v.verify(assertion, now).map_err(|r| {
                tracing::warn!(reason = %r, "SAML assertion refused");
                let sub = match r.wsse_fault() {
                    WsseFault::FailedAuthentication => WsaSubcode::FailedAuthentication,
                    WsseFault::InvalidSecurity => WsaSubcode::InvalidSecurity,
                };
                fault(sub, r.to_string())
            }),
        }
    }
}

fn fault(sub: WsaSubcode, reason: String) -> SoapFault {
    SoapFault {
        subcode: Some(sub),
        ..SoapFault::sender(reason)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, XuaConfigError> {
    std::fs::read(path).map_err(|source| XuaConfigError::Read {
        path: path.display().to_string(),
        source,
    })
}
