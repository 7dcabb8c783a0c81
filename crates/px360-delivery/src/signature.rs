//! HMAC checks for provider callbacks, with constant-time comparison (aws-lc-rs
//! `hmac::verify`), so a forger learns nothing from response timing.

use aws_lc_rs::hmac;
use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
}

/// Twilio: base64 of HMAC-SHA1, keyed with the Auth Token, over the full callback URL
/// followed by every POST parameter as name + value, sorted by name, with no separators
/// (https://www.twilio.com/docs/usage/security#validating-requests). Parameters with the
/// same name are ordered by value, which is what Twilio's own validators do.
pub fn verify_twilio(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let tag = base64::engine::general_purpose::STANDARD
        .decode(header)
        .map_err(|_| SignatureError::Malformed)?;
    let data = twilio_signed_string(url, params);
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token);
    hmac::verify(&key, data.as_bytes(), &tag).map_err(|_| SignatureError::Mismatch)
}

fn twilio_signed_string(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let len = url.len() + sorted.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let mut s = String::with_capacity(len);
    s.push_str(url);
    for (k, v) in sorted {
        s.push_str(k);
        s.push_str(v);
    }
    s
}

/// Computes Twilio's signature; for tests and for the loopback sandbox.
pub fn sign_twilio(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token);
    let tag = hmac::sign(&key, twilio_signed_string(url, params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// Meta: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
/// app secret>`
/// (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads).
/// Must be computed over the bytes as received, before any JSON parsing.
pub fn verify_meta(
    app_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let hex_sig = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let tag = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret);
    hmac::verify(&key, raw_body, &tag).map_err(|_| SignatureError::Mismatch)
}

pub fn sign_meta(app_secret: &[u8], raw_body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret);
    format!(
        "sha256={}",
        hex::encode(hmac::sign(&key, raw_body).as_ref())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twilio_doc_params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The worked example of Twilio's security documentation: Auth Token `12345`, URL
    /// `https://mycompany.com/myapp.php?foo=1&bar=2`, signature `0/KCTR6DLpKmkAf8muzZqo1nDgQ=`.
    #[test]
    fn twilio_documented_vector() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let mut params = twilio_doc_params();
        params.reverse(); // order of arrival must not matter
        assert_eq!(
            sign_twilio(b"12345", url, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert_eq!(
            verify_twilio(b"12345", url, &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")),
            Ok(())
        );
        assert_eq!(
            verify_twilio(b"12346", url, &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_twilio(
                b"12345",
                "https://mycompany.com/myapp.php?foo=1&bar=3",
                &params,
                Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
            ),
            Err(SignatureError::Mismatch)
        );
        params[0].1.push('9');
        assert_eq!(
            verify_twilio(b"12345", url, &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_twilio(b"12345", url, &params, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_twilio(b"12345", url, &params, Some("%%%")),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn meta_signature() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let sig = sign_meta(b"app-secret", body);
        assert_eq!(verify_meta(b"app-secret", body, Some(&sig)), Ok(()));
        assert_eq!(
            verify_meta(b"other", body, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_meta(b"app-secret", b"{}", Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_meta(b"app-secret", body, Some("sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_meta(b"app-secret", body, Some("sha256=zz")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_meta(b"app-secret", body, None),
            Err(SignatureError::Missing)
        );
        // Known value: HMAC-SHA256(key "key", "The quick brown fox jumps over the lazy dog").
        assert_eq!(
            sign_meta(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
