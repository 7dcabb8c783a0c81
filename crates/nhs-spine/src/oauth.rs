//! NHS API platform application-restricted OAuth 2.0: a client assertion JWT signed with our
//! private key (RS512, `kid` header, `jti`, at most 5 minutes) exchanged for an access token,
//! which is cached and refreshed shortly before it expires.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ConfigError, TransportError};
use crate::transport::Upstream;

/// Signed-JWT client authentication against the NHS API platform token endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// e.g. `https://api.service.nhs.uk/oauth2/token`; also the assertion's `aud`.
    pub token_url: String,
    /// The application's API key: `iss` and `sub` of the client assertion.
    pub api_key: SecretString,
    /// Key id registered in our JWKS.
    pub kid: String,
    /// PEM private key given inline (e.g. from a secret store)…
    #[serde(default)]
    pub private_key_pem: Option<SecretString>,
    /// …or read from a file.
    #[serde(default)]
    pub private_key_path: Option<PathBuf>,
    /// Client assertion lifetime; the platform rejects more than 300 s.
    #[serde(default = "default_assertion_lifetime")]
    pub assertion_lifetime_secs: u64,
    /// Refresh this long before the token expires (at most a fifth of its lifetime).
    #[serde(default = "default_refresh_margin")]
    pub refresh_margin_secs: u64,
}

impl OAuthConfig {
    /// The signing key's PEM, inline or read from its file.
    pub fn private_key(&self) -> Result<SecretString, ConfigError> {
        match (&self.private_key_pem, &self.private_key_path) {
            (Some(pem), _) => Ok(pem.clone()),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(SecretString::from)
                .map_err(|source| ConfigError::Read {
                    what: "OAuth private key",
                    path: path.display().to_string(),
                    source,
                }),
            (None, None) => Err(ConfigError::Invalid {
                what: "OAuth configuration",
                detail: "private_key_pem or private_key_path is required".into(),
            }),
        }
    }

    /// The JWKS of the signing key's public half (with `kid`, `use`, `alg`): what the NHS API
    /// platform fetches to verify our client assertions.
    pub fn jwks(&self) -> Result<serde_json::Value, ConfigError> {
        crate::keys::jwks_for_private_key(&self.private_key()?, Some(&self.kid)).map_err(|e| {
            ConfigError::Invalid {
                what: "OAuth private key",
                detail: e.to_string(),
            }
        })
    }
}

fn default_assertion_lifetime() -> u64 {
    300
}
fn default_refresh_margin() -> u64 {
    60
}

/// The token endpoint refused us, or answered something unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("token endpoint refused the client assertion ({status}): {error} {description}")]
    Rejected {
        status: u16,
        error: String,
        description: String,
    },
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot sign the client assertion: {0}")]
    Signing(String),
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: String,
    exp: i64,
    iat: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    /// Apigee sends this as a string ("599"); RFC 6749 says number. Accept both.
    #[serde(deserialize_with = "number_or_string")]
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Num(u64),
        Str(String),
    }
    match N::deserialize(d)? {
        N::Num(n) => Ok(n),
        N::Str(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

struct Cached {
    token: SecretString,
    refresh_at: Instant,
}

pub(crate) struct TokenSource {
    config: OAuthConfig,
    key: EncodingKey,
    upstream: Upstream,
    // Held across the fetch so that concurrent callers wait for one refresh, not stampede.
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.config.token_url)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    pub(crate) fn new(config: OAuthConfig, upstream: Upstream) -> Result<Self, ConfigError> {
        let pem = config.private_key()?;
        let key = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()).map_err(|e| {
            ConfigError::Invalid {
                what: "OAuth private key",
                detail: e.to_string(),
            }
        })?;
        url::Url::parse(&config.token_url).map_err(|e| ConfigError::Url {
            field: "token_url",
            detail: e.to_string(),
        })?;
        Ok(Self {
            config,
            key,
            upstream,
            cache: tokio::sync::Mutex::new(None),
        })
    }

    /// A valid access token, from the cache when it is not about to expire.
    pub(crate) async fn bearer(&self) -> Result<SecretString, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cache = Some(fresh);
        Ok(token)
    }

    /// Forget the cached token (the API said 401: revoked or expired early).
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    fn assertion(&self) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let lifetime = self.config.assertion_lifetime_secs.clamp(1, 300);
        let api_key = self.config.api_key.expose_secret();
        let claims = AssertionClaims {
            iss: api_key,
            sub: api_key,
            aud: &self.config.token_url,
            jti: uuid::Uuid::new_v4().to_string(),
            exp: now + i64::try_from(lifetime).unwrap_or(300),
            iat: now,
        };
        let mut header = Header::new(Algorithm::RS512);
        header.kid = Some(self.config.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| AuthError::Signing(e.to_string()))
    }

    async fn fetch(&self) -> Result<Cached, AuthError> {
        let requested_at = Instant::now();
        // Signing errors surface here; retries sign again so every attempt has a fresh `jti`
        // (the platform rejects replays).
        let mut first = Some(self.assertion()?);
        let resp = self
            .upstream
            .call(|| {
                let assertion = first
                    .take()
                    .unwrap_or_else(|| self.assertion().unwrap_or_default());
                self.upstream.http.post(&self.config.token_url).form(&[
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.as_str()),
                ])
            })
            .await?;
        if resp.status != StatusCode::OK {
            let err: TokenError = serde_json::from_slice(&resp.body).unwrap_or_default();
            return Err(AuthError::Rejected {
                status: resp.status.as_u16(),
                error: err.error,
                description: err.error_description,
            });
        }
        let token: TokenResponse =
            serde_json::from_slice(&resp.body).map_err(|e| TransportError::InvalidResponse {
                upstream: self.upstream.name,
                detail: format!("token response: {e}"),
            })?;
        let lifetime = Duration::from_secs(token.expires_in);
        let margin = Duration::from_secs(self.config.refresh_margin_secs).min(lifetime / 5);
        Ok(Cached {
            token: token.access_token,
            refresh_at: requested_at + lifetime - margin,
        })
    }
}
