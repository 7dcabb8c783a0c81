//! Validation of the GP Connect audit JWT as a provider does it: unsecured (`alg: none`, empty
//! signature), every required claim present and well formed, a five-minute lifetime, and an
//! audience equal to the provider endpoint being called.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const SDS_USER_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-user-id";
const SDS_ROLE_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
const SKEW_SECS: i64 = 60;

fn is_fhir_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn is_uri(s: &str) -> bool {
    url::Url::parse(s).is_ok()
}

fn identifiers(resource: &Value) -> Vec<(&str, &str)> {
    resource["identifier"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|i| Some((i["system"].as_str()?, i["value"].as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// `Ok(claims)` or the diagnostics text of a 400 BAD_REQUEST.
pub(crate) fn validate(
    authorization: Option<&str>,
    expected_aud: &str,
    now: i64,
) -> Result<Value, String> {
    let token = authorization
        .and_then(|a| a.strip_prefix("Bearer "))
        .ok_or("Authorization header with a Bearer JWT is required")?;
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err("JWT must have three dot-separated parts".into());
    };
    let decode = |part: &str, what: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| format!("JWT {what} is not base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| format!("JWT {what} is not JSON"))
    };
    let header = decode(header, "header")?;
    if header["alg"] != "none" {
        return Err("JWT alg must be 'none' (GP Connect JWTs are unsigned)".into());
    }
    if !signature.is_empty() {
        return Err("JWT signature must be empty".into());
    }
    let claims = decode(payload, "payload")?;
    let str_claim = |name: &str| -> Result<&str, String> {
        claims[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("JWT claim '{name}' is missing or not a string"))
    };
    let int_claim = |name: &str| -> Result<i64, String> {
        claims[name]
            .as_i64()
            .ok_or_else(|| format!("JWT claim '{name}' is missing or not an integer"))
    };
    if !is_uri(str_claim("iss")?) {
        return Err("JWT claim 'iss' must be a URI".into());
    }
    let sub = str_claim("sub")?;
    let aud = str_claim("aud")?;
    if aud.trim_end_matches('/') != expected_aud.trim_end_matches('/') {
        return Err("JWT claim 'aud' must be the provider endpoint being called".into());
    }
    let (exp, iat) = (int_claim("exp")?, int_claim("iat")?);
    if exp - iat != 300 {
        return Err("JWT 'exp' must be exactly 5 minutes after 'iat'".into());
    }
    if iat > now + SKEW_SECS {
        return Err("JWT 'iat' is in the future".into());
    }
    if exp < now - SKEW_SECS {
        return Err("JWT has expired".into());
    }
    if str_claim("reason_for_request")? != "directcare" {
        return Err("JWT claim 'reason_for_request' must be 'directcare'".into());
    }
    if str_claim("requested_scope")? != "patient/*.read" {
        return Err("JWT claim 'requested_scope' must be 'patient/*.read'".into());
    }

    let device = &claims["requesting_device"];
    if device["resourceType"] != "Device" {
        return Err("JWT claim 'requesting_device' must be a Device resource".into());
    }
    if !identifiers(device)
        .iter()
        .any(|(s, v)| is_uri(s) && !v.is_empty())
    {
        return Err("requesting_device needs an identifier with a URI system and a value".into());
    }
    if device["model"].as_str().is_none_or(str::is_empty)
        || device["version"].as_str().is_none_or(str::is_empty)
    {
        return Err("requesting_device needs model and version".into());
    }

    let org = &claims["requesting_organization"];
    if org["resourceType"] != "Organization" {
        return Err("JWT claim 'requesting_organization' must be an Organization resource".into());
    }
    if org["name"].as_str().is_none_or(str::is_empty) {
        return Err("requesting_organization needs a name".into());
    }
    if !identifiers(org)
        .iter()
        .any(|(s, v)| *s == ODS_SYSTEM && !v.is_empty())
    {
        return Err(format!(
            "requesting_organization needs an identifier with system {ODS_SYSTEM}"
        ));
    }

    let practitioner = &claims["requesting_practitioner"];
    if practitioner["resourceType"] != "Practitioner" {
        return Err("JWT claim 'requesting_practitioner' must be a Practitioner resource".into());
    }
    let id = practitioner["id"].as_str().unwrap_or_default();
    if !is_fhir_id(id) {
        return Err("requesting_practitioner.id must be a valid FHIR id".into());
    }
    if id != sub {
        return Err("JWT claim 'sub' must equal requesting_practitioner.id".into());
    }
    let ids = identifiers(practitioner);
    for system in [SDS_USER_SYSTEM, SDS_ROLE_SYSTEM] {
        if !ids.iter().any(|(s, v)| *s == system && !v.is_empty()) {
            return Err(format!(
                "requesting_practitioner needs an identifier with system {system}"
            ));
        }
    }
    if ids.iter().any(|(s, _)| !is_uri(s)) {
        return Err("requesting_practitioner identifier systems must be URIs".into());
    }
    let has_family = practitioner["name"]
        .as_array()
        .and_then(|n| n.first())
        .and_then(|n| n["family"].as_str())
        .is_some_and(|f| !f.is_empty());
    if !has_family {
        return Err("requesting_practitioner needs a name with a family name".into());
    }
    Ok(claims)
}
