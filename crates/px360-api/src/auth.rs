//! Authentication: password login, JWT access tokens, rotating refresh tokens, API keys, and
//! the request extractors that turn credentials into a [`Principal`].

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, header, request::Parts};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use px360_domain::rbac::{Principal, Role};
use px360_store::audit::AuditEntry;
use px360_store::auth::AuthenticatedKey;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// HS256 signing material, shared by every process through the `settings` table.
#[derive(Clone)]
pub struct Keys {
    enc: EncodingKey,
    dec: DecodingKey,
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    did: Option<String>,
    iat: i64,
    exp: i64,
    iss: String,
    /// Password change required (an administrator's reset): until then only the account's own
    /// endpoints answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pwc: bool,
}

/// What a token that requires a password change may still call: the account's own profile and
/// password, and the token endpoints.
fn allowed_before_password_change(path: &str) -> bool {
    path == "/api/me" || path == "/api/me/password" || path.starts_with("/api/auth/")
}

const ISSUER: &str = "px360";

/// Who is calling and from where (for the audit log).
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = crate::client_ip::of(&parts.extensions).map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Ctx { ip, user_agent })
    }
}

/// An authenticated user (Bearer access token).
#[derive(Debug, Clone, Copy)]
pub struct Authed(pub Principal);

fn parse_opt_uuid(s: &Option<String>) -> Option<Option<Uuid>> {
    match s {
        None => Some(None),
        Some(v) => Uuid::parse_str(v).ok().map(Some),
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthenticated(
            "send Authorization: Bearer <access token>",
        ))?;
        let (p, must_change) = verify_access(st, token)?;
        if must_change && !allowed_before_password_change(parts.uri.path()) {
            return Err(ApiError::PasswordChangeRequired);
        }
        Ok(Authed(p))
    }
}

/// Verify an access token (signature, issuer, expiry, claims) into its principal, and whether
/// the account must change its password first. The web UI's session uses this too.
pub fn verify_access(st: &AppState, token: &str) -> ApiResult<(Principal, bool)> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    let claims = jsonwebtoken::decode::<Claims>(token, &st.keys.dec, &v)
        .map_err(|_| ApiError::Unauthenticated("access token invalid or expired"))?
        .claims;
    let bad = || ApiError::Unauthenticated("access token invalid or expired");
    let role = Role::parse(&claims.role).ok_or_else(bad)?;
    let sub = Uuid::parse_str(&claims.sub).map_err(|_| bad())?;
    let hid = parse_opt_uuid(&claims.hid).ok_or_else(bad)?;
    let did = parse_opt_uuid(&claims.did).ok_or_else(bad)?;
    Principal::new(sub, role, hid, did)
        .map(|p| (p, claims.pwc))
        .map_err(|_| bad())
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// An integration caller authenticated by API key (`X-API-Key: …` or `Authorization: Api-Key …`).
pub struct KeyAuth(pub AuthenticatedKey);

impl FromRequestParts<AppState> for KeyAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                parts
                    .headers
                    .get(header::AUTHORIZATION)?
                    .to_str()
                    .ok()?
                    .strip_prefix("Api-Key ")
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated("send X-API-Key: <key>"))?;
        if let Some(k) = st.key_cache.get(presented) {
            return Ok(KeyAuth(k));
        }
        match st.db.authenticate_api_key(presented).await? {
            Some(k) => {
                st.key_cache.put(presented, &k);
                Ok(KeyAuth(k))
            }
            None => {
                let ctx = Ctx::from_request_parts(parts, st).await.unwrap_or_default();
                st.audit_quiet(AuditEntry {
                    actor_type: "anonymous",
                    ip: ctx.ip,
                    user_agent: ctx.user_agent,
                    action: "api_key.rejected".into(),
                    ..Default::default()
                })
                .await;
                Err(ApiError::Unauthenticated("API key unknown or revoked"))
            }
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
}

impl AppState {
    fn access_token(&self, u: &px360_store::auth::UserRow) -> ApiResult<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: u.id.to_string(),
            role: u.role.as_str().to_owned(),
            hid: u.hospital_id.map(|h| h.to_string()),
            did: u.department_id.map(|d| d.to_string()),
            iat: now,
            exp: now + self.cfg.access_ttl.num_seconds(),
            iss: ISSUER.into(),
            pwc: u.must_change_password,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.keys.enc)
            .map_err(|e| ApiError::internal(format!("jwt: {e}")))
    }

    pub(crate) async fn tokens(
        &self,
        u: &px360_store::auth::UserRow,
        family: Option<&str>,
    ) -> ApiResult<TokenResponse> {
        Ok(TokenResponse {
            access_token: self.access_token(u)?,
            token_type: "Bearer",
            expires_in: self.cfg.access_ttl.num_seconds(),
            refresh_token: self
                .db
                .issue_refresh(&u.id.to_string(), family, self.cfg.refresh_ttl)
                .await?,
        })
    }
}

// A fixed argon2id hash verified against when the username is unknown, so that response time
// does not reveal which usernames exist.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem), (status = 429),
        (status = 503, body = crate::error::Problem, description = "database unavailable")))]
pub async fn login(
    State(st): State<AppState>,
    ctx: Ctx,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    // Only "no such user" is a failed login; a database outage answers 503 (it must not look
    // like a wrong password, nor be audited as one).
    let user = match st.db.user_by_username(&req.username).await {
        Ok(u) => Some(u),
        Err(px360_store::StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => DUMMY_HASH
            .get_or_init(|| {
                px360_store::auth::hash_password("not-a-real-password").unwrap_or_default()
            })
            .clone(),
    };
    let password = req.password;
    let ok =
        tokio::task::spawn_blocking(move || px360_store::auth::verify_password(&password, &hash))
            .await
            .unwrap_or(false);
    match user {
        Some(u) if ok && u.is_active => {
            let id = u.id.to_string();
            st.db.touch_login(&id).await?;
            st.audit(AuditEntry {
                actor_type: "user",
                actor_id: Some(id.clone()),
                ip: ctx.ip,
                user_agent: ctx.user_agent,
                action: "login".into(),
                object_type: Some("user"),
                object_id: Some(id),
                hospital_id: u.hospital_id.map(|h| h.to_string()),
                changes: None,
            })
            .await?;
            metrics::counter!("px360_logins_total", "outcome" => "success").increment(1);
            Ok(Json(st.tokens(&u, None).await?))
        }
        _ => {
            st.audit(AuditEntry {
                actor_type: "anonymous",
                actor_id: user.as_ref().map(|u| u.id.to_string()),
                ip: ctx.ip,
                user_agent: ctx.user_agent,
                action: "login.failed".into(),
                object_type: Some("user"),
                object_id: user.as_ref().map(|u| u.id.to_string()),
                hospital_id: None,
                changes: None,
            })
            .await?;
            metrics::counter!("px360_logins_total", "outcome" => "failure").increment(1);
            Err(ApiError::Unauthenticated("username or password incorrect"))
        }
    }
}

#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
pub async fn refresh(
    State(st): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    use px360_store::StoreError;
    let (user_id, family) =
        st.db
            .consume_refresh(&req.refresh_token)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    ApiError::Unauthenticated("refresh token invalid, expired, used or revoked")
                }
                e => e.into(),
            })?;
    let u = st.db.user(&user_id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::Unauthenticated("account no longer exists"),
        e => e.into(),
    })?;
    if !u.is_active {
        st.db.revoke_refresh_family(&family).await?;
        return Err(ApiError::Unauthenticated("account disabled"));
    }
    Ok(Json(st.tokens(&u, Some(&family)).await?))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshRequest, responses((status = 204)))]
pub async fn logout(
    State(st): State<AppState>,
    ctx: Ctx,
    Json(req): Json<RefreshRequest>,
) -> ApiResult<axum::http::StatusCode> {
    if st.db.revoke_refresh(&req.refresh_token).await?.is_some() {
        st.audit(AuditEntry {
            actor_type: "user",
            ip: ctx.ip,
            user_agent: ctx.user_agent,
            action: "logout".into(),
            ..Default::default()
        })
        .await?;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: String,
    pub role: &'static str,
    pub role_level: u8,
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
}

#[utoipa::path(get, path = "/api/me", tag = "auth", responses((status = 200, body = Me)), security(("bearer" = [])))]
pub async fn me(Authed(p): Authed) -> Json<Me> {
    Json(Me {
        user_id: p.user_id().to_string(),
        role: p.role().as_str(),
        role_level: p.role().level(),
        hospital_id: p.scope().hospital_id().map(|u| u.to_string()),
        department_id: p.scope().department_id().map(|u| u.to_string()),
    })
}

/// Short-lived cache of verified API keys, so the intake hot path does not query the key table
/// on every request. Entries expire after `ttl`; revoking through this process clears the cache
/// at once, other processes stop accepting a revoked key within `ttl`.
pub struct KeyCache {
    ttl: std::time::Duration,
    map:
        std::sync::Mutex<std::collections::HashMap<String, (AuthenticatedKey, std::time::Instant)>>,
}

impl KeyCache {
    pub fn new(ttl: std::time::Duration) -> Self {
        Self {
            ttl,
            map: Default::default(),
        }
    }

    // Keyed by the SHA-256 of the presented key: the plaintext secret is not kept in memory.
    fn get(&self, presented: &str) -> Option<AuthenticatedKey> {
        let h = px360_store::auth::sha256_hex(presented);
        let map = self.map.lock().ok()?;
        map.get(&h)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(k, _)| k.clone())
    }

    fn put(&self, presented: &str, key: &AuthenticatedKey) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(
                px360_store::auth::sha256_hex(presented),
                (key.clone(), std::time::Instant::now()),
            );
        }
    }

    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

/// Login (rate limited per client IP), refresh, logout and `GET /api/me`, with their OpenAPI
/// operations.
pub(crate) fn routes(cfg: &crate::ApiConfig) -> OpenApiRouter<AppState> {
    let mut login = OpenApiRouter::new().routes(routes!(login));
    if let Some(c) = tower_governor::governor::GovernorConfigBuilder::default()
        .key_extractor(crate::client_ip::ClientIpKey)
        .period(cfg.login_period)
        .burst_size(cfg.login_burst)
        .finish()
    {
        login = login.layer(tower_governor::GovernorLayer::new(c));
    }
    OpenApiRouter::new()
        .merge(login)
        .routes(routes!(refresh))
        .routes(routes!(logout))
}
