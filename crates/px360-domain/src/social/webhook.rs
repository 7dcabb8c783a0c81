//! The social webhook's shared-secret signature.
//!
//! The sender computes HMAC-SHA256 over the exact raw request body with the shared secret and
//! sends it hex-encoded in the header [`SIGNATURE_HEADER`] as `sha256=<64 hex digits>` (the
//! GitHub-style form most social listening tools can emit). The receiver verifies it before
//! parsing the body; the comparison is constant-time (`hmac`'s `verify_slice`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-PX360-Signature";
/// Secrets shorter than this are refused when configured.
pub const MIN_SECRET_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("social.webhook.signature_missing")]
    Missing,
    #[error("social.webhook.signature_malformed")]
    Malformed,
    #[error("social.webhook.signature_mismatch")]
    Mismatch,
    #[error("social.webhook.secret_too_short")]
    SecretTooShort,
}

impl SignatureError {
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::Missing => "social.webhook.signature_missing",
            SignatureError::Malformed => "social.webhook.signature_malformed",
            SignatureError::Mismatch => "social.webhook.signature_mismatch",
            SignatureError::SecretTooShort => "social.webhook.secret_too_short",
        }
    }
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>, SignatureError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(SignatureError::SecretTooShort);
    }
    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::SecretTooShort)
}

/// The header value a sender puts on `body` (also used by tests and the demo sender).
pub fn sign(secret: &[u8], body: &[u8]) -> Result<String, SignatureError> {
    let mut m = mac(secret)?;
    m.update(body);
    let tag = m.finalize().into_bytes();
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256=");
    for b in tag {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Verifies the header value (or its absence) against the raw body.
pub fn verify(secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let hex = header
        .ok_or(SignatureError::Missing)?
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let tag = unhex(hex).ok_or(SignatureError::Malformed)?;
    let mut m = mac(secret)?;
    m.update(body);
    m.verify_slice(&tag).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn known_answer_from_an_independent_implementation() {
        // printf '[]' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
        assert_eq!(
            sign(SECRET, b"[]").unwrap(),
            "sha256=ad12fdb13ff0ab86ff6c711867d7134adcf79d33f834a741be12988ff846b7e2"
        );
    }

    #[test]
    fn a_signed_body_verifies_and_any_change_does_not() {
        let body = br#"[{"source":"x"}]"#;
        let sig = sign(SECRET, body).unwrap();
        assert_eq!(verify(SECRET, Some(&sig), body), Ok(()));
        assert_eq!(
            verify(SECRET, Some(&sig), br#"[{"source":"y"}]"#),
            Err(SignatureError::Mismatch)
        );
        let other = b"fedcba9876543210fedcba9876543210";
        assert_eq!(
            verify(other, Some(&sig), body),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers_and_short_secrets() {
        assert_eq!(verify(SECRET, None, b""), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, Some(" "), b""), Err(SignatureError::Missing));
        assert_eq!(
            verify(SECRET, Some("md5=00"), b""),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some(&format!("sha256={}", "zz".repeat(32))), b""),
            Err(SignatureError::Malformed)
        );
        assert_eq!(sign(b"short", b""), Err(SignatureError::SecretTooShort));
        assert_eq!(
            SignatureError::Mismatch.code(),
            "social.webhook.signature_mismatch"
        );
    }

    proptest::proptest! {
        #[test]
        fn every_body_round_trips_and_a_flipped_bit_fails(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..500),
            at in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let sig = sign(SECRET, &body).unwrap();
            proptest::prop_assert_eq!(verify(SECRET, Some(&sig), &body), Ok(()));
            let mut tampered = body.clone();
            let i = at.index(tampered.len());
            tampered[i] ^= 1;
            proptest::prop_assert_eq!(verify(SECRET, Some(&sig), &tampered), Err(SignatureError::Mismatch));
        }
    }
}
