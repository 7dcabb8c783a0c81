//! Users, passwords (argon2id), rotating refresh tokens and integration API keys.
//!
//! Secrets are only ever stored hashed: passwords with argon2id, refresh tokens and API keys
//! (both 256-bit random) with SHA-256, which is sufficient for high-entropy secrets and keeps the
//! per-request API-key check cheap.

use crate::row;
use crate::{Db, Result, StoreError, new_id, now_ts, ts};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use chrono::{DateTime, Utc};
use px360_domain::audit::hex;
use px360_domain::rbac::Role;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use uuid::Uuid;

/// A user account as stored, typed. It carries the password hash, so it is not a response
/// type: the API builds its JSON `User` from it.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub is_active: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by an administrator's password reset: the user must choose a new password before
    /// doing anything else.
    pub must_change_password: bool,
    pub password_hash: String,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for UserRow {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            email: r.try_get("email")?,
            role: row::named(r, "role", Role::parse)?,
            hospital_id: row::opt_uuid(r, "hospital_id")?,
            department_id: row::opt_uuid(r, "department_id")?,
            is_active: row::flag(r, "is_active")?,
            last_login_at: row::opt_time(r, "last_login_at")?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
            must_change_password: row::flag(r, "must_change_password")?,
            password_hash: r.try_get("password_hash")?,
        })
    }
}

pub(crate) const USER_COLS: &str = "id, username, display_name, email, role, hospital_id, department_id, is_active, last_login_at, created_at, updated_at, must_change_password, password_hash";

pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret: 32 bytes, hex.
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// A validated new account (the API's JSON request is `px360_api::users::NewUser`; its
/// password is hashed before this exists).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

pub async fn insert_user<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    u: &NewUser,
    password_hash: &str,
) -> Result<UserRow> {
    let now = now_ts();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (id, username, display_name, email, password_hash, role, hospital_id, department_id, is_active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) RETURNING {USER_COLS}"
    )))
    .bind(new_id())
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.email)
    .bind(password_hash)
    .bind(u.role.as_str())
    .bind(u.hospital_id.map(|h| h.to_string()))
    .bind(u.department_id.map(|d| d.to_string()))
    .bind(now)
    .fetch_one(ex)
    .await?)
}

/// An integration API key as stored (without its hash).
#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
    pub prefix: String,
    /// Permitted `source_system` values (`"*"`: any); stored as JSON array text.
    pub source_systems: Vec<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for ApiKeyRow {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        let systems: String = r.try_get("source_systems")?;
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::uuid(r, "hospital_id")?,
            name: r.try_get("name")?,
            prefix: r.try_get("prefix")?,
            source_systems: serde_json::from_str(&systems).map_err(|e| {
                sqlx::Error::ColumnDecode {
                    index: "source_systems".into(),
                    source: Box::new(e),
                }
            })?,
            created_by: row::opt_uuid(r, "created_by")?,
            created_at: row::time(r, "created_at")?,
            last_used_at: row::opt_time(r, "last_used_at")?,
            revoked_at: row::opt_time(r, "revoked_at")?,
        })
    }
}

const KEY_COLS: &str = "id, hospital_id, name, prefix, source_systems, created_by, created_at, last_used_at, revoked_at";

struct KeyWithHash {
    key: ApiKeyRow,
    key_hash: String,
    hospital_timezone: String,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for KeyWithHash {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            key: ApiKeyRow::from_row(r)?,
            key_hash: r.try_get("key_hash")?,
            hospital_timezone: r.try_get("hospital_timezone")?,
        })
    }
}

/// A presented key that authenticated, with what intake needs of its (live) hospital.
#[derive(Debug, Clone)]
pub struct AuthenticatedKey {
    pub key: ApiKeyRow,
    /// IANA zone of the key's hospital: offset-less event timestamps are read in it.
    pub hospital_timezone: String,
}

/// An API key as presented: `px360_<prefix>_<secret>`.
pub struct IssuedKey {
    pub key: ApiKeyRow,
    pub plaintext: String,
}

impl Db {
    pub async fn user_by_username(&self, username: &str) -> Result<UserRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE username = $1 AND deleted_at IS NULL"
        )))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn user(&self, id: &str) -> Result<UserRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn users(&self, f: &crate::org::ScopeFilter) -> Result<Vec<UserRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) ORDER BY username"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn touch_login(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
            .bind(user_id)
            .bind(now_ts())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Store a new refresh token (in `family`, or a new family on login); returns the plaintext.
    pub async fn issue_refresh(
        &self,
        user_id: &str,
        family: Option<&str>,
        ttl: chrono::Duration,
    ) -> Result<String> {
        let token = random_secret();
        let now = chrono::Utc::now();
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(family.map(str::to_owned).unwrap_or_else(new_id))
        .bind(sha256_hex(&token))
        .bind(ts(now + ttl))
        .bind(ts(now))
        .execute(&self.writer)
        .await?;
        Ok(token)
    }

    /// Consume a refresh token. Returns (user_id, family_id). Presenting an already-used token
    /// is treated as theft: the whole family is revoked.
    pub async fn consume_refresh(&self, token: &str) -> Result<(String, String)> {
        let hash = sha256_hex(token);
        let now = now_ts();
        let row: Option<(String, String)> = sqlx::query_as(
            "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING user_id, family_id",
        )
        .bind(&hash)
        .bind(&now)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(r) = row {
            return Ok(r);
        }
        let reused: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT family_id, used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
        if let Some((family, Some(_))) = reused {
            self.revoke_refresh_family(&family).await?;
        }
        Err(StoreError::NotFound)
    }

    pub async fn revoke_refresh_family(&self, family: &str) -> Result<()> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
        )
        .bind(family)
        .bind(now_ts())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Revoke the family a presented token belongs to (logout).
    pub async fn revoke_refresh(&self, token: &str) -> Result<Option<String>> {
        let family: Option<String> =
            sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
                .bind(sha256_hex(token))
                .fetch_optional(&self.pool)
                .await?;
        if let Some(f) = &family {
            self.revoke_refresh_family(f).await?;
        }
        Ok(family)
    }

    pub async fn create_api_key(
        &self,
        hospital_id: &str,
        name: &str,
        source_systems: &[String],
        created_by: Option<&str>,
    ) -> Result<IssuedKey> {
        let prefix = &random_secret()[..12];
        let plaintext = format!("px360_{prefix}_{}", random_secret());
        let systems = serde_json::to_string(source_systems)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let key = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO api_keys (id, hospital_id, name, prefix, key_hash, source_systems, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {KEY_COLS}"
        )))
        .bind(new_id())
        .bind(hospital_id)
        .bind(name)
        .bind(prefix)
        .bind(sha256_hex(&plaintext))
        .bind(systems)
        .bind(created_by)
        .bind(now_ts())
        .fetch_one(&self.writer)
        .await?;
        Ok(IssuedKey { key, plaintext })
    }

    /// Resolve a presented key; `None` when unknown, malformed, revoked, or its hospital is
    /// deleted (deleting a hospital also revokes its keys; the join covers keys of a hospital
    /// deleted before that rule existed).
    pub async fn authenticate_api_key(&self, presented: &str) -> Result<Option<AuthenticatedKey>> {
        let Some(prefix) = presented
            .strip_prefix("px360_")
            .and_then(|r| r.split('_').next())
        else {
            return Ok(None);
        };
        let cols = KEY_COLS
            .split(", ")
            .map(|c| format!("k.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query_as::<_, KeyWithHash>(sqlx::AssertSqlSafe(format!(
            "SELECT {cols}, k.key_hash, h.timezone AS hospital_timezone FROM api_keys k \
             JOIN hospitals h ON h.id = k.hospital_id AND h.deleted_at IS NULL \
             WHERE k.prefix = $1 AND k.revoked_at IS NULL"
        )))
        .bind(prefix)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        if !constant_time_eq(row.key_hash.as_bytes(), sha256_hex(presented).as_bytes()) {
            return Ok(None);
        }
        Ok(Some(AuthenticatedKey {
            key: row.key,
            hospital_timezone: row.hospital_timezone,
        }))
    }

    pub async fn api_key(&self, id: &str) -> Result<ApiKeyRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLS} FROM api_keys WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn api_keys(&self, hospital_id: Option<&str>) -> Result<Vec<ApiKeyRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLS} FROM api_keys WHERE ($1 IS NULL OR hospital_id = $1) ORDER BY created_at"
        )))
        .bind(hospital_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn revoke_api_key(&self, id: &str) -> Result<()> {
        let r =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now_ts())
                .execute(&self.writer)
                .await?;
        if r.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Db {
    pub async fn purge_refresh_tokens(&self) -> Result<u64> {
        let cutoff = ts(chrono::Utc::now() - chrono::Duration::days(1));
        Ok(
            sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
                .bind(cutoff)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// Changes to a user account (`None` keeps the value). Role and scope change together and are
/// checked by the caller against `px360_domain::rbac::scope_for` and `may_grant`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// New password (at least 12 characters); revokes the user's refresh tokens.
    pub password: Option<String>,
    pub is_active: Option<bool>,
    /// New role; `hospital_id`/`department_id` give the new scope (required as the role needs).
    pub role: Option<String>,
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
}

/// Applies already-validated changes. `scope` is `Some((hospital, department))` when the role or
/// scope changes (both columns are then set, NULLs included).
pub async fn update_user<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    c: &UserChanges,
    password_hash: Option<&str>,
    scope: Option<(Option<&str>, Option<&str>)>,
) -> Result<UserRow> {
    let (set_scope, h, d) = match scope {
        Some((h, d)) => (1i64, h, d),
        None => (0, None, None),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET display_name = COALESCE($2, display_name), email = COALESCE($3, email), \
         password_hash = COALESCE($4, password_hash), is_active = COALESCE($5, is_active), role = COALESCE($6, role), \
         hospital_id = CASE WHEN $7 = 1 THEN $8 ELSE hospital_id END, department_id = CASE WHEN $7 = 1 THEN $9 ELSE department_id END, \
         updated_at = $10 WHERE id = $1 AND deleted_at IS NULL RETURNING {USER_COLS}"
    )))
    .bind(id)
    .bind(&c.display_name)
    .bind(&c.email)
    .bind(password_hash)
    .bind(c.is_active.map(i64::from))
    .bind(&c.role)
    .bind(set_scope)
    .bind(h)
    .bind(d)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Revoke every refresh token of a user (deactivation, deletion, password or role change).
pub async fn revoke_user_refresh<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(now_ts())
    .execute(ex)
    .await?;
    Ok(())
}

/// Set or clear the "must change password at next sign-in" flag (an administrator's reset sets
/// it, the user's own change clears it).
pub async fn set_must_change_password<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &str,
    must: bool,
) -> Result<()> {
    sqlx::query("UPDATE users SET must_change_password = $2 WHERE id = $1")
        .bind(user_id)
        .bind(i64::from(must))
        .execute(ex)
        .await?;
    Ok(())
}
