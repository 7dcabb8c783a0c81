//! Deciding whether to believe a XUA assertion: its XML signature against configured trust
//! anchors, the parts the gateway relies on, and its validity window.
//!
//! The XML-DSig work (exclusive canonicalisation, digests, RSA) is bergshamra's, with
//! `DsigContext::new`: only the configured keys are tried (a certificate or key inside the
//! assertion's `KeyInfo` is ignored) and references must point at the signature's ancestors or
//! siblings. On top of that this module pins the profile (enveloped signature, exclusive c14n,
//! RSA with the configured digests) and, against signature wrapping, accepts only a signature
//! whose single reference resolves to the assertion document element the gateway read its
//! fields from ([`SamlAssertion::raw`] is that element alone; see `standalone`).

use bergshamra::core::{Error as DsigError, algorithm, ns};
use bergshamra::keys::loader::load_x509_cert_der;
use bergshamra::xml::uppsala::{self, Document, NodeId};
use bergshamra::{DsigContext, KeysManager, VerifyResult};
use chrono::{DateTime, Duration, Utc};

use super::SamlAssertion;

/// An RSA signature method the deployment accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// Only when an initiating gateway cannot do better (SHA-1 is broken for collisions).
    RsaSha1,
    RsaSha256,
    RsaSha512,
}

impl SignatureAlgorithm {
    /// The configuration name: `rsa-sha1`, `rsa-sha256`, `rsa-sha512`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "rsa-sha1" => Some(Self::RsaSha1),
            "rsa-sha256" => Some(Self::RsaSha256),
            "rsa-sha512" => Some(Self::RsaSha512),
            _ => None,
        }
    }

    fn uri(self) -> &'static str {
        match self {
            Self::RsaSha1 => algorithm::RSA_SHA1,
            Self::RsaSha256 => algorithm::RSA_SHA256,
            Self::RsaSha512 => algorithm::RSA_SHA512,
        }
    }

    fn digest_uri(self) -> &'static str {
        match self {
            Self::RsaSha1 => algorithm::SHA1,
            Self::RsaSha256 => algorithm::SHA256,
            Self::RsaSha512 => algorithm::SHA512,
        }
    }
}

/// What [`SamlVerifier::new`] needs.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// PEM text of the trust anchors (each file may hold several `CERTIFICATE` blocks). Every
    /// certificate's public key is an accepted assertion signer.
    pub trust_anchors_pem: Vec<Vec<u8>>,
    /// Tolerance for clock differences on `NotBefore`, `NotOnOrAfter` and `IssueInstant`.
    pub clock_skew: Duration,
    /// When set, `Conditions/AudienceRestriction` must name it.
    pub audience: Option<String>,
    /// Accepted signature methods (the digest may be the same hash or a stronger one).
    pub algorithms: Vec<SignatureAlgorithm>,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            trust_anchors_pem: Vec::new(),
            clock_skew: Duration::seconds(120),
            audience: None,
            algorithms: vec![SignatureAlgorithm::RsaSha256],
        }
    }
}

/// Why the trust anchors cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustAnchorError {
    #[error("no trust anchor certificate was given")]
    Empty,
    #[error("trust anchor {index} holds no PEM CERTIFICATE block")]
    NoCertificate { index: usize },
    #[error("trust anchor {index} is not a usable X.509 certificate: {reason}")]
    BadCertificate { index: usize, reason: String },
    #[error("no signature algorithm is accepted")]
    NoAlgorithm,
}

/// Which WS-Security fault (WSS 1.1 SOAP Message Security §12) a refusal maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsseFault {
    /// The token could not be authenticated: unsigned, bad signature, untrusted key.
    FailedAuthentication,
    /// The token is not acceptable: a required part is missing, or it is expired.
    InvalidSecurity,
}

/// Why an assertion is not believed. Reasons name the failed check, never attribute values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlRejection {
    #[error("the SAML assertion is not signed (an enveloped ds:Signature is required)")]
    NotSigned,
    #[error("the SAML assertion's signature does not follow the accepted profile: {0}")]
    Profile(String),
    #[error("the SAML assertion's signature does not cover the assertion: {0}")]
    NotCovered(&'static str),
    #[error(
        "the SAML assertion's signature is not valid with any trusted signing certificate: {0}"
    )]
    BadSignature(String),
    #[error("the SAML assertion has no {0}")]
    Missing(&'static str),
    #[error("the SAML assertion is expired")]
    Expired,
    #[error("the SAML assertion is not yet valid")]
    NotYetValid,
    #[error("the SAML assertion is not addressed to this gateway (AudienceRestriction)")]
    WrongAudience,
}

impl SamlRejection {
    pub fn wsse_fault(&self) -> WsseFault {
        match self {
            Self::NotSigned | Self::Profile(_) | Self::NotCovered(_) | Self::BadSignature(_) => {
                WsseFault::FailedAuthentication
            }
            Self::Missing(_) | Self::Expired | Self::NotYetValid | Self::WrongAudience => {
                WsseFault::InvalidSecurity
            }
        }
    }
}

/// Checks assertions against one set of trust anchors. Build once, share across requests.
pub struct SamlVerifier {
    dsig: DsigContext,
    clock_skew: Duration,
    audience: Option<String>,
    algorithms: Vec<SignatureAlgorithm>,
}

impl std::fmt::Debug for SamlVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlVerifier")
            .field("trusted_keys", &self.dsig.keys_manager.len())
            .field("clock_skew", &self.clock_skew)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .finish()
    }
}

impl SamlVerifier {
    pub fn new(cfg: VerifierConfig) -> Result<Self, TrustAnchorError> {
        if cfg.trust_anchors_pem.is_empty() {
            return Err(TrustAnchorError::Empty);
        }
        if cfg.algorithms.is_empty() {
            return Err(TrustAnchorError::NoAlgorithm);
        }
        let mut keys = KeysManager::new();
        for (index, pem) in cfg.trust_anchors_pem.iter().enumerate() {
            let ders = certificates(pem)
                .map_err(|reason| TrustAnchorError::BadCertificate { index, reason })?;
            if ders.is_empty() {
                return Err(TrustAnchorError::NoCertificate { index });
            }
            for der in ders {
                let key =
                    load_x509_cert_der(&der).map_err(|e| TrustAnchorError::BadCertificate {
                        index,
                        reason: e.to_string(),
                    })?;
                keys.add_key(key);
            }
        }
        // Secure defaults: trusted keys only (inline KeyInfo ignored), strict reference
        // positions, local digests required. Never `new_permissive`.
        let dsig = DsigContext::new(keys);
        Ok(Self {
            dsig,
            clock_skew: cfg.clock_skew,
            audience: cfg.audience,
            algorithms: cfg.algorithms,
        })
    }

    /// Accepts `a` only if a trust anchor signed it (enveloped, exclusive c14n, an accepted
    /// RSA method), the signature covers exactly the assertion that was read, it has an
    /// Issuer, a Subject NameID and Conditions, and `now` is inside its validity window.
    pub fn verify(&self, a: &SamlAssertion, now: DateTime<Utc>) -> Result<(), SamlRejection> {
        self.verify_signature(a)?;
        if a.issuer.is_none() {
            return Err(SamlRejection::Missing("Issuer"));
        }
        if a.subject_name_id.is_none() {
            return Err(SamlRejection::Missing("Subject/NameID"));
        }
        if a.issue_instant.is_none() {
            return Err(SamlRejection::Missing("IssueInstant"));
        }
        // No Conditions, or Conditions without an end: an assertion valid for ever is not
        // accepted.
        let Some(not_on_or_after) = a.not_on_or_after else {
            return Err(SamlRejection::Missing("Conditions with NotOnOrAfter"));
        };
        if now >= not_on_or_after + self.clock_skew {
            return Err(SamlRejection::Expired);
        }
        if a.not_before.is_some_and(|nb| now + self.clock_skew < nb)
            || a.issue_instant.is_some_and(|t| now + self.clock_skew < t)
        {
            return Err(SamlRejection::NotYetValid);
        }
        if let Some(want) = &self.audience
            && !a.audiences.iter().any(|got| got == want)
        {
            return Err(SamlRejection::WrongAudience);
        }
        Ok(())
    }

    fn verify_signature(&self, a: &SamlAssertion) -> Result<(), SamlRejection> {
        let doc = uppsala::parse(&a.raw).map_err(|_| {
            SamlRejection::BadSignature("the assertion is not well-formed XML".into())
        })?;
        let root = doc
            .document_element()
            .ok_or(SamlRejection::NotCovered("no assertion element"))?;
        let sigs = doc.child_elements_by_name_ns(root, ns::DSIG, ns::node::SIGNATURE);
        let sig = match sigs.as_slice() {
            [] => return Err(SamlRejection::NotSigned),
            [one] => *one,
            _ => return Err(SamlRejection::Profile("more than one ds:Signature".into())),
        };
        // The profile is checked before any transform runs.
        self.check_profile(&doc, sig)?;
        let result =
            bergshamra::dsig::verify::verify_document_with_source(&self.dsig, &doc, Some(&a.raw))
                .map_err(|e| SamlRejection::BadSignature(dsig_error(&e)))?;
        let (signature_node, references) = match result {
            VerifyResult::Valid {
                signature_node,
                references,
                ..
            } => (signature_node, references),
            VerifyResult::Invalid { reason } => {
                return Err(SamlRejection::BadSignature(reason));
            }
        };
        // Consume only what the signature resolved: its one reference must be the assertion
        // element itself, by its ID, and the signature must be the one enveloped in it.
        if signature_node != sig {
            return Err(SamlRejection::NotCovered(
                "the verified signature is not the assertion's own",
            ));
        }
        let [reference] = references.as_slice() else {
            return Err(SamlRejection::NotCovered(
                "the signature must have exactly one Reference",
            ));
        };
        let id = doc.get_attribute(root, "ID").unwrap_or_default();
        if id.is_empty()
            || reference.resolved_node != Some(root)
            || reference.uri.strip_prefix('#') != Some(id)
            || !reference.digest_verified
        {
            return Err(SamlRejection::NotCovered(
                "the Reference must point at the assertion's ID",
            ));
        }
        Ok(())
    }

    /// Enveloped signature, exclusive c14n, an accepted RSA method and a digest at least as
    /// strong as its hash. Anything else (XPath/XSLT transforms, inclusive c14n, HMAC) is
    /// refused before bergshamra evaluates it.
    fn check_profile(&self, doc: &Document<'_>, sig: NodeId) -> Result<(), SamlRejection> {
        let profile = |m: &str| SamlRejection::Profile(m.to_owned());
        let child = |parent: NodeId, local: &str| {
            doc.first_child_element_by_name_ns(parent, ns::DSIG, local)
        };
        let algorithm_of = |el: Option<NodeId>| el.and_then(|e| doc.get_attribute(e, "Algorithm"));

        let signed_info =
            child(sig, ns::node::SIGNED_INFO).ok_or_else(|| profile("no SignedInfo"))?;
        match algorithm_of(child(signed_info, ns::node::CANONICALIZATION_METHOD)) {
            Some(algorithm::EXC_C14N | algorithm::EXC_C14N_WITH_COMMENTS) => {}
            _ => return Err(profile("CanonicalizationMethod must be exclusive c14n")),
        }
        let method = algorithm_of(child(signed_info, ns::node::SIGNATURE_METHOD));
        let Some(used) = self
            .algorithms
            .iter()
            .copied()
            .find(|a| Some(a.uri()) == method)
        else {
            return Err(profile("SignatureMethod is not an accepted RSA method"));
        };
        let references = doc.child_elements_by_name_ns(signed_info, ns::DSIG, ns::node::REFERENCE);
        for reference in references {
            let mut enveloped = false;
            if let Some(transforms) = child(reference, ns::node::TRANSFORMS) {
                for t in doc.child_elements_by_name_ns(transforms, ns::DSIG, ns::node::TRANSFORM) {
                    match doc.get_attribute(t, "Algorithm") {
                        Some(algorithm::ENVELOPED_SIGNATURE) => enveloped = true,
                        Some(algorithm::EXC_C14N | algorithm::EXC_C14N_WITH_COMMENTS) => {}
                        _ => {
                            return Err(profile(
                                "only the enveloped-signature and exclusive c14n transforms \
                                 are accepted",
                            ));
                        }
                    }
                }
            }
            if !enveloped {
                return Err(profile("the signature must be enveloped"));
            }
            let digest = algorithm_of(child(reference, ns::node::DIGEST_METHOD));
            let strong_enough = [algorithm::SHA256, algorithm::SHA512]
                .into_iter()
                .chain((used == SignatureAlgorithm::RsaSha1).then_some(algorithm::SHA1))
                .chain(std::iter::once(used.digest_uri()))
                .any(|d| Some(d) == digest);
            if !strong_enough {
                return Err(profile("DigestMethod is not accepted"));
            }
        }
        Ok(())
    }
}

/// bergshamra's error text, without echoing document content at length.
fn dsig_error(e: &DsigError) -> String {
    e.to_string().chars().take(200).collect()
}

/// The DER bytes of every `CERTIFICATE` block in PEM text.
fn certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use base64::Engine as _;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = std::str::from_utf8(pem).map_err(|_| "the PEM file is not text".to_owned())?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let end = after
            .find(END)
            .ok_or_else(|| "a CERTIFICATE block is not terminated".to_owned())?;
        let b64: String = after[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("a CERTIFICATE block is not base64: {e}"))?;
        out.push(der);
        rest = &after[end + END.len()..];
    }
    Ok(out)
}
