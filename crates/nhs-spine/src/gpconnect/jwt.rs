//! The GP Connect audit JWT (Cross-organisation audit and provenance): an *unsecured* JWT
//! (`alg: none`, empty signature, trailing dot) that carries who is asking, from where and why.
//! A new one is made for every request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::context::RequestingContext;

pub(crate) const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
pub(crate) const SDS_USER_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-user-id";
pub(crate) const SDS_ROLE_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
/// GP Connect: consumers without Spine user identifiers send this value.
pub(crate) const UNKNOWN: &str = "UNK";

/// Our system, as the JWT describes it.
#[derive(Debug, Clone)]
pub(crate) struct Issuer {
    /// `iss`: our Spine endpoint URL.
    pub iss: String,
    /// URI system of our local user ids.
    pub local_user_system: String,
    /// `requesting_device`
    pub device_system: String,
    pub device_id: String,
    pub model: String,
    pub version: String,
}

/// A FHIR id: `[A-Za-z0-9\-\.]{1,64}`. SAML user ids (emails, DNs) often are not, so those are
/// replaced by a stable hash; the real value still travels as the local user identifier.
pub(crate) fn fhir_id(user_id: &str) -> String {
    let valid = !user_id.is_empty()
        && user_id.len() <= 64
        && user_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        user_id.to_owned()
    } else {
        let digest = Sha256::digest(user_id.as_bytes());
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

pub(crate) fn claims(issuer: &Issuer, ctx: &RequestingContext, aud: &str, now: i64) -> Value {
    let practitioner_id = fhir_id(&ctx.user_id);
    let mut name = json!({ "family": ctx.family_name, "given": ctx.given_names });
    if let Some(prefix) = &ctx.prefix {
        name["prefix"] = json!([prefix]);
    }
    json!({
        "iss": issuer.iss,
        "sub": practitioner_id,
        "aud": aud,
        "exp": now + 300,
        "iat": now,
        "reason_for_request": "directcare",
        "requested_scope": "patient/*.read",
        "requesting_device": {
            "resourceType": "Device",
            "identifier": [{ "system": issuer.device_system, "value": issuer.device_id }],
            "model": issuer.model,
            "version": issuer.version
        },
        "requesting_organization": {
            "resourceType": "Organization",
            "identifier": [{ "system": ODS_SYSTEM, "value": ctx.organisation_ods }],
            "name": ctx.organisation_name
        },
        "requesting_practitioner": {
            "resourceType": "Practitioner",
            "id": practitioner_id,
            "identifier": [
                { "system": SDS_USER_SYSTEM, "value": ctx.sds_user_id.as_deref().unwrap_or(UNKNOWN) },
                { "system": SDS_ROLE_SYSTEM, "value": ctx.sds_role_profile_id.as_deref().unwrap_or(UNKNOWN) },
                { "system": issuer.local_user_system, "value": ctx.user_id }
            ],
            "name": [name]
        }
    })
}

/// `base64url(header).base64url(payload).` with an empty signature.
pub(crate) fn encode_unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    format!("{header}.{payload}.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ctx(user_id: &str) -> RequestingContext {
        RequestingContext {
            user_id: user_id.into(),
            family_name: "Jones".into(),
            given_names: vec!["Ann".into()],
            prefix: Some("Dr".into()),
            sds_user_id: None,
            sds_role_profile_id: Some("555021935107".into()),
            role: None,
            organisation_ods: "RRK".into(),
            organisation_name: "Example Trust".into(),
            purpose_of_use: None,
        }
    }

    fn issuer() -> Issuer {
        Issuer {
            iss: "https://gateway.example".into(),
            local_user_system: "https://gateway.example/Id/local-user-id".into(),
            device_system: "https://gateway.example/Id/device".into(),
            device_id: "gw-1".into(),
            model: "Xhuma".into(),
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn token_is_unsigned_with_all_required_claims() {
        let c = claims(
            &issuer(),
            &ctx("ann.jones"),
            "https://gp.example/fhir",
            1_700_000_000,
        );
        let token = encode_unsigned(&c);
        assert!(token.ends_with('.'));
        let parts: Vec<_> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "none");
        let payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        for claim in [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "reason_for_request",
            "requested_scope",
            "requesting_device",
            "requesting_organization",
            "requesting_practitioner",
        ] {
            assert!(payload.get(claim).is_some(), "{claim}");
        }
        assert_eq!(
            payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
            300
        );
        assert_eq!(payload["sub"], payload["requesting_practitioner"]["id"]);
        assert_eq!(
            payload["requesting_practitioner"]["identifier"][0]["value"],
            "UNK"
        );
    }

    #[test]
    fn saml_style_user_ids_become_valid_fhir_ids() {
        let id = fhir_id("CN=Ann Jones,O=Example Trust");
        assert_eq!(id.len(), 32);
        assert_eq!(fhir_id("CN=Ann Jones,O=Example Trust"), id, "stable");
        assert_eq!(fhir_id("ann.jones-1"), "ann.jones-1");
    }
}
