//! RSA signing keys for the NHS API platform's signed-JWT client authentication, and the JWKS
//! document (with `kid`, `use`, `alg`) the platform fetches to verify our client assertions.
//!
//! [`generate_ephemeral`] creates a key pair at run time for the sandbox quick start: no key ever
//! lives in the repository.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Why a key could not be generated or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generation,
    #[error("not a PEM RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`)")]
    NotPem,
    #[error("the RSA private key was rejected: {0}")]
    Rejected(String),
}

/// A private key (PEM, PKCS#8) with the JWKS of its public half.
pub struct SigningKey {
    pub private_key_pem: SecretString,
    pub kid: String,
    /// `{"keys":[{kty,n,e,alg:"RS512",use:"sig",kid}]}`
    pub jwks: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A fresh 2048-bit RSA key pair whose `kid` is its RFC 7638 thumbprint.
pub fn generate_ephemeral() -> Result<SigningKey, KeyError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
    let der = pair.as_der().map_err(|_| KeyError::Generation)?;
    let pem = to_pem("PRIVATE KEY", der.as_ref());
    let jwk = public_jwk(&pair, None)?;
    let kid = jwk["kid"].as_str().unwrap_or_default().to_owned();
    Ok(SigningKey {
        private_key_pem: SecretString::from(pem),
        kid,
        jwks: json!({ "keys": [jwk] }),
    })
}

/// The JWKS for an existing private key (for publishing at the URL registered with the NHS API
/// platform). `kid` defaults to the key's RFC 7638 thumbprint.
pub fn jwks_for_private_key(pem: &SecretString, kid: Option<&str>) -> Result<Value, KeyError> {
    let pair = parse_private_key(pem.expose_secret())?;
    Ok(json!({ "keys": [public_jwk(&pair, kid)?] }))
}

fn parse_private_key(pem: &str) -> Result<KeyPair, KeyError> {
    let (label, der) = from_pem(pem).ok_or(KeyError::NotPem)?;
    match label.as_str() {
        "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
        "RSA PRIVATE KEY" => KeyPair::from_der(&der),
        _ => return Err(KeyError::NotPem),
    }
    .map_err(|e| KeyError::Rejected(e.to_string()))
}

fn public_jwk(pair: &KeyPair, kid: Option<&str>) -> Result<Value, KeyError> {
    let (n, e) = rsa_public_components(pair.public_key().as_ref())
        .ok_or_else(|| KeyError::Rejected("cannot read the public key".into()))?;
    let n = URL_SAFE_NO_PAD.encode(n);
    let e = URL_SAFE_NO_PAD.encode(e);
    let kid = match kid {
        Some(k) => k.to_owned(),
        None => thumbprint(&n, &e),
    };
    Ok(json!({ "kty": "RSA", "n": n, "e": e, "alg": "RS512", "use": "sig", "kid": kid }))
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Reads `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017).
fn rsa_public_components(der: &[u8]) -> Option<(&[u8], &[u8])> {
    fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (len_bytes, r) = rest.split_at(count);
            rest = r;
            len_bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        (rest.len() >= len).then(|| rest.split_at(len))
    }
    let (seq, _) = tlv(der, 0x30)?;
    let (n, rest) = tlv(seq, 0x02)?;
    let (e, _) = tlv(rest, 0x02)?;
    let n = n.strip_prefix(&[0u8]).unwrap_or(n);
    let e = e.strip_prefix(&[0u8]).unwrap_or(e);
    Some((n, e))
}

fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn from_pem(pem: &str) -> Option<(String, Vec<u8>)> {
    let begin = pem.find("-----BEGIN ")?;
    let rest = &pem[begin + 11..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end = rest.find(&format!("-----END {label}-----"))?;
    let body: String = rest[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some((label, STANDARD.decode(body).ok()?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_key_signs_and_its_jwks_verifies() {
        let key = generate_ephemeral().unwrap();
        let jwk = &key.jwks["keys"][0];
        assert_eq!(jwk["alg"], "RS512");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], key.kid.as_str());

        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS512);
        header.kid = Some(key.kid.clone());
        let enc =
            jsonwebtoken::EncodingKey::from_rsa_pem(key.private_key_pem.expose_secret().as_bytes())
                .unwrap();
        let token = jsonwebtoken::encode(
            &header,
            &serde_json::json!({"sub": "x", "exp": 4_000_000_000u64}),
            &enc,
        )
        .unwrap();
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(key.jwks.clone()).unwrap();
        let dec = jsonwebtoken::DecodingKey::from_jwk(set.find(&key.kid).unwrap()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS512);
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(&token, &dec, &validation).unwrap();
    }

    #[test]
    fn jwks_for_existing_key_matches_the_generated_one() {
        let key = generate_ephemeral().unwrap();
        let again = jwks_for_private_key(&key.private_key_pem, None).unwrap();
        assert_eq!(again, key.jwks);
        let named = jwks_for_private_key(&key.private_key_pem, Some("test-1")).unwrap();
        assert_eq!(named["keys"][0]["kid"], "test-1");
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = jwks_for_private_key(&SecretString::from("nope"), None).unwrap_err();
        assert!(matches!(err, KeyError::NotPem));
    }
}
