//! Attachments: metadata in `attachments`, bytes in a directory outside the database, named by
//! their SHA-256 (content-addressed: identical files are stored once, and a record's checksum is
//! its file's name, so a file cannot be swapped under its record unnoticed).

use crate::row;
use crate::{Db, Result, StoreError, new_id, now_ts};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use std::path::PathBuf;
use uuid::Uuid;

/// Largest accepted file (bytes). The API's request body limit is 256 KiB; scans and photos
/// beyond this belong in the document system, linked from the complaint.
pub const MAX_BYTES: usize = 200 * 1024;

/// Accepted types, each checked against the file's leading bytes as well as its declared type.
pub const TYPES: [(&str, &[u8]); 4] = [
    ("application/pdf", b"%PDF-"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("text/plain", b""),
];

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    pub owner_kind: String,
    pub owner_id: Uuid,
    pub hospital_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Option<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttachmentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("type {0} is not accepted (pdf, png, jpeg, plain text)")]
    TypeNotAccepted(String),
    #[error("the file's content is not a {0}")]
    ContentMismatch(String),
    #[error("file name must be 1-200 characters without path separators")]
    BadName,
}

/// Check a file before it is stored.
pub fn check(
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> std::result::Result<(), AttachmentError> {
    if name.trim().is_empty() || name.chars().count() > 200 || name.contains(['/', '\\', '\0']) {
        return Err(AttachmentError::BadName);
    }
    if bytes.is_empty() {
        return Err(AttachmentError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(AttachmentError::TooLarge);
    }
    let base = content_type.split(';').next().unwrap_or("").trim();
    let Some((t, magic)) = TYPES.iter().find(|(t, _)| *t == base) else {
        return Err(AttachmentError::TypeNotAccepted(base.to_owned()));
    };
    let ok = if *t == "text/plain" {
        std::str::from_utf8(bytes).is_ok()
    } else {
        bytes.starts_with(magic)
    };
    if !ok {
        return Err(AttachmentError::ContentMismatch((*t).to_owned()));
    }
    Ok(())
}

/// Where the bytes live.
#[derive(Debug, Clone)]
pub struct FileStore {
    pub dir: PathBuf,
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Write the bytes (once per content) and return their SHA-256 hex, which is also the key.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex(&Sha256::digest(bytes));
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.dir.join(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        // Write then rename: a crash never leaves a partial file under the final name.
        let tmp = self.dir.join(format!("{sha}.{}.tmp", Uuid::new_v4()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    /// Read the bytes back and verify them against the key.
    pub async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad key",
            ));
        }
        let bytes = tokio::fs::read(self.dir.join(key)).await?;
        if hex(&Sha256::digest(&bytes)) != key {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "checksum mismatch",
            ));
        }
        Ok(bytes)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const COLS: &str = "id, owner_kind, owner_id, hospital_id, file_name, content_type, size_bytes, sha256, uploaded_by, created_at";

fn attachment_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Attachment> {
    Ok(Attachment {
        id: row::uuid(r, "id")?,
        owner_kind: r.try_get("owner_kind")?,
        owner_id: row::uuid(r, "owner_id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: row::opt_uuid(r, "uploaded_by")?,
        created_at: row::time(r, "created_at")?,
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    c: &mut AnyConnection,
    owner: (&str, Uuid),
    hospital: Uuid,
    file_name: &str,
    content_type: &str,
    size: usize,
    sha256: &str,
    by: Option<Uuid>,
) -> Result<Attachment> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO attachments (id, owner_kind, owner_id, hospital_id, file_name, content_type, size_bytes, sha256, storage_key, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING {COLS}"
    )))
    .bind(new_id())
    .bind(owner.0)
    .bind(owner.1.to_string())
    .bind(hospital.to_string())
    .bind(file_name)
    .bind(content_type)
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(sha256)
    .bind(by.map(|u| u.to_string()))
    .bind(now_ts())
    .fetch_one(&mut *c)
    .await?;
    Ok(attachment_row(&r)?)
}

impl Db {
    pub async fn attachments_of(&self, owner_kind: &str, owner: Uuid) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM attachments WHERE owner_kind = $1 AND owner_id = $2 ORDER BY created_at, id"
        )))
        .bind(owner_kind)
        .bind(owner.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(attachment_row)
            .collect::<sqlx::Result<_>>()?)
    }

    pub async fn attachment(&self, id: Uuid) -> Result<Attachment> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM attachments WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(attachment_row(&r)?)
    }
}
