//! The NHS API platform token endpoint for application-restricted access: verifies the signed
//! client assertion (RS512, `kid` in the registered JWKS, `iss` = `sub` = API key, `aud` = this
//! endpoint, `jti` never seen before, `exp` at most 5 minutes ahead) and issues a bearer token.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::faults::{self, Api};

#[derive(Default)]
pub(crate) struct TokenStore {
    tokens: std::sync::Mutex<HashMap<String, Instant>>,
    seen_jti: std::sync::Mutex<HashSet<String>>,
}

impl TokenStore {
    /// Whether `token` was issued here and has not expired.
    pub(crate) fn valid(&self, token: &str) -> bool {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.get(token).is_some_and(|exp| Instant::now() < *exp)
    }

    fn issue(&self, lifetime: Duration) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        tokens.retain(|_, exp| *exp > now);
        tokens.insert(token.clone(), now + lifetime);
        token
    }

    fn first_use_of(&self, jti: &str) -> bool {
        self.seen_jti
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(jti.to_owned())
    }
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    jti: Option<String>,
    exp: i64,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "error": error,
            "error_description": description,
            "message_id": uuid::Uuid::new_v4().to_string()
        })),
    )
        .into_response()
}

pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(status) = faults::apply(&state.faults, &state.fault_counters, Api::Token).await {
        return oauth_error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "server_error",
            "injected failure",
        );
    }
    match check(&state, &form) {
        Ok(()) => {
            let lifetime = Duration::from_secs(state.config.token_lifetime_secs);
            let token = state.tokens.issue(lifetime);
            state.counters.tokens_issued.fetch_add(1, Ordering::Relaxed);
            axum::Json(json!({
                "access_token": token,
                // The platform sends these as strings.
                "expires_in": state.config.token_lifetime_secs.to_string(),
                "token_type": "Bearer",
                "issued_at": chrono::Utc::now().timestamp_millis().to_string()
            }))
            .into_response()
        }
        Err((status, error, description)) => oauth_error(status, error, &description),
    }
}

type Rejection = (StatusCode, &'static str, String);

fn bad(description: impl Into<String>) -> Rejection {
    (
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description.into(),
    )
}

fn check(state: &AppState, form: &HashMap<String, String>) -> Result<(), Rejection> {
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err((
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be 'client_credentials'".into(),
        ));
    }
    if form.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err(bad(
            "Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'",
        ));
    }
    let assertion = form
        .get("client_assertion")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad("Missing client_assertion"))?;
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| bad("Malformed JWT in client_assertion"))?;
    if header.alg != Algorithm::RS512 {
        return Err(bad(
            "Invalid 'alg' header in client_assertion JWT - must be 'RS512'",
        ));
    }
    let kid = header
        .kid
        .ok_or_else(|| bad("Missing 'kid' header in client_assertion JWT"))?;
    let jwk = state
        .jwks
        .as_ref()
        .and_then(|set| set.find(&kid))
        .ok_or_else(|| {
            (
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "Invalid 'kid' header in client_assertion JWT - no matching public key".to_owned(),
            )
        })?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| bad("Registered public key is unusable"))?;
    let mut validation = Validation::new(Algorithm::RS512);
    validation.set_audience(&[state.token_url()]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    validation.leeway = 5;
    let data =
        jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let description = match e.kind() {
                ErrorKind::InvalidSignature => "Unable to verify JWT signature".to_owned(),
                ErrorKind::ExpiredSignature => {
                    "Invalid 'exp' claim in client_assertion JWT - JWT has expired".to_owned()
                }
                ErrorKind::InvalidAudience => {
                    "Invalid 'aud' claim in client_assertion JWT".to_owned()
                }
                ErrorKind::MissingRequiredClaim(c) => {
                    format!("Missing '{c}' claim in client_assertion JWT")
                }
                _ => format!("Invalid client_assertion JWT: {e}"),
            };
            (StatusCode::UNAUTHORIZED, "invalid_request", description)
        })?;
    let claims = data.claims;
    if claims.iss != state.config.api_key || claims.sub != claims.iss {
        return Err((
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "Invalid 'iss'/'sub' claims in client_assertion JWT - must both be the API key".into(),
        ));
    }
    if claims.exp > chrono::Utc::now().timestamp() + 300 + 5 {
        return Err(bad(
            "Invalid 'exp' claim in client_assertion JWT - more than 5 minutes in future",
        ));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or_else(|| bad("Missing 'jti' claim in client_assertion JWT"))?;
    if !state.tokens.first_use_of(&jti) {
        return Err(bad("Non-unique 'jti' claim in client_assertion JWT"));
    }
    Ok(())
}
