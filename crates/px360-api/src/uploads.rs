//! Taking a file for an item (a complaint, a PX action): one path for the checks, the
//! content-addressed store, the row and the audit record, so every owner enforces the same rules
//! and writes the same audit shape.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use axum::http::{HeaderMap, header};
use px360_domain::event::FieldError;
use px360_domain::rbac::Principal;
use px360_store::Tx;
use px360_store::attachments::{self, Attachment};
use serde::Deserialize;
use uuid::Uuid;

/// `?name=` of an upload.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file's name as shown to staff.
    pub name: String,
}

/// The media type of a request's `Content-Type`, without its parameters ("" when absent).
pub fn media_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map_or("", strip_params)
}

/// `text/plain; charset=utf-8` → `text/plain`.
pub fn strip_params(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// A file whose bytes passed the checks and are in the file store; its row is written by
/// [`Stored::insert`] in the caller's transaction and audited by [`Stored::audit`].
pub struct Stored<'a> {
    owner: (&'static str, Uuid),
    hospital: Uuid,
    name: &'a str,
    content_type: &'a str,
    size: usize,
    sha256: String,
}

impl<'a> Stored<'a> {
    /// Check `body` (allowed type, named by its leading bytes, size) and write it to the
    /// content-addressed store. Nothing is in the database yet: bytes without a row are never
    /// served, and the same bytes uploaded again reuse them.
    pub async fn check_and_put(
        st: &AppState,
        owner: (&'static str, Uuid),
        hospital: Uuid,
        name: &'a str,
        content_type: &'a str,
        body: &[u8],
    ) -> ApiResult<Self> {
        let content_type = strip_params(content_type);
        attachments::check(name, content_type, body)
            .map_err(|e| ApiError::Validation(vec![FieldError::new("file", e.to_string())]))?;
        let sha256 = st.files.put(body).await.map_err(ApiError::internal)?;
        Ok(Self {
            owner,
            hospital,
            name: name.trim(),
            content_type,
            size: body.len(),
            sha256,
        })
    }

    /// The attachment row, uploaded by `p`.
    pub async fn insert(&self, tx: &mut Tx, p: &Principal) -> ApiResult<Attachment> {
        Ok(attachments::insert(
            tx,
            self.owner,
            self.hospital,
            self.name,
            self.content_type,
            self.size,
            &self.sha256,
            Some(p.user_id()),
        )
        .await?)
    }

    /// Audit `attachment.upload` of `f` in `tx` and commit: the record names the owner
    /// (`complaint_id`, `action_id`), the type, size and hash, never the file's name or bytes.
    pub async fn commit(self, tx: Tx, p: &Principal, ctx: &Ctx, f: &Attachment) -> ApiResult<()> {
        let (kind, id) = self.owner;
        let mut detail = serde_json::Map::new();
        detail.insert(format!("{kind}_id"), serde_json::json!(id));
        detail.insert("content_type".into(), self.content_type.into());
        detail.insert("size".into(), self.size.into());
        detail.insert("sha256".into(), self.sha256.into());
        let e = AppState::entry(
            p,
            ctx,
            "attachment.upload",
            "attachment",
            &f.id.to_string(),
            Some(&self.hospital.to_string()),
            serde_json::Value::Object(detail),
        );
        crate::commit_audited(tx, &e).await
    }
}
