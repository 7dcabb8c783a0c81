//! The scoped-resource pattern of the organisation resources (hospitals, departments,
//! physicians, employees, patients), in one place: load-or-404 through the RBAC gate, field
//! checks that collect every error, a write and its audit record in one transaction, and soft
//! deletion with the dependents rule.
//!
//! The resource modules build their operations (`create`, `update`, `delete`) from these parts
//! and the web UI's administration pages call the same operations, so a form validates, refuses
//! and audits exactly as the JSON API does.

use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, commit_audited};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::org::{SoftDeletable, soft_delete};
use px360_store::{StoreError, Tx, dependents};
use uuid::Uuid;

/// An object that lives in a hospital (and possibly a department) and is guarded by the gate.
pub trait Scoped {
    const RESOURCE: Resource;
    /// Object type in the audit log (`department`, …).
    const KIND: &'static str;
    const TABLE: SoftDeletable;
    fn id(&self) -> Uuid;
    fn hospital(&self) -> Uuid;
    /// Where the object lives, for the gate.
    fn location(&self) -> ObjectScope;
}

/// Load an object and pass the gate for `action`: missing or outside the caller's scope → 404,
/// visible but the role too low → 403 (denials audited by the gate).
pub async fn load<T: Scoped>(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: &str,
    action: Action,
    fetched: Result<T, StoreError>,
) -> ApiResult<T> {
    let obj = fetched?;
    st.authorize(p, ctx, T::RESOURCE, action, obj.location(), Some(id))
        .await?;
    Ok(obj)
}

/// What a write records in the audit log (its object type comes from the resource).
pub struct Audit {
    pub action: &'static str,
    pub id: Uuid,
    pub hospital: Uuid,
    pub changes: serde_json::Value,
}

/// Start a write transaction (its first statement must be a write: SQLite takes its lock up
/// front). Dropping it without [`commit`] rolls it back.
pub async fn begin(st: &AppState) -> ApiResult<Tx> {
    Ok(st.db.writer.begin().await.map_err(StoreError::from)?)
}

/// Commit a write on `obj` together with its audit record (the object type is the resource's).
pub async fn commit<T: Scoped>(
    tx: Tx,
    p: &Principal,
    ctx: &Ctx,
    _obj: &T,
    a: Audit,
) -> ApiResult<()> {
    let e = AppState::entry(
        p,
        ctx,
        a.action,
        T::KIND,
        &a.id.to_string(),
        Some(&a.hospital.to_string()),
        a.changes,
    );
    commit_audited(tx, &e).await
}

/// Soft-delete a loaded object under the dependents rule (see `px360_store::dependents`): a
/// hospital or department with live dependents is refused with 409 naming them; otherwise it is
/// deleted and what only acts for it is switched off in the same transaction (a hospital's API
/// keys revoked, a department's accounts deactivated). One audit record, action `delete`.
pub async fn delete<T: Scoped>(st: &AppState, p: &Principal, ctx: &Ctx, obj: &T) -> ApiResult<()> {
    let id = obj.id().to_string();
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    // The write comes first (SQLite takes its lock up front); a refusal rolls it back.
    soft_delete(&mut *tx, T::TABLE, &id).await?;
    let blockers = match T::TABLE {
        SoftDeletable::Hospital => dependents::hospital_blockers(&mut tx, &id).await?,
        SoftDeletable::Department => dependents::department_blockers(&mut tx, &id).await?,
        _ => Vec::new(),
    };
    if !blockers.is_empty() {
        tx.rollback().await.map_err(StoreError::from)?;
        return Err(ApiError::Dependents {
            object: T::KIND,
            dependents: blockers,
        });
    }
    let changes = match T::TABLE {
        SoftDeletable::Hospital => serde_json::json!({
            "soft_delete": true,
            "api_keys_revoked": dependents::revoke_hospital_keys(&mut tx, &id).await?,
        }),
        SoftDeletable::Department => serde_json::json!({
            "soft_delete": true,
            "users_deactivated": dependents::deactivate_department_users(&mut tx, &id).await?,
        }),
        _ => serde_json::json!({"soft_delete": true}),
    };
    let e = AppState::entry(
        p,
        ctx,
        "delete",
        T::KIND,
        &id,
        Some(&obj.hospital().to_string()),
        changes,
    );
    commit_audited(tx, &e).await
}

/// Field checks that collect every error of a request (a form shows each next to its field).
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// A required text field: 1-200 characters, not blank.
    pub fn require(mut self, field: &str, v: &str) -> Self {
        if v.trim().is_empty() || v.len() > 200 {
            self.0
                .push(FieldError::new(field, "is required (1-200 characters)"));
        }
        self
    }

    /// An optional text field of a partial update: when present, 1-200 characters.
    pub fn optional(mut self, field: &str, v: Option<&str>) -> Self {
        if let Some(v) = v
            && (v.trim().is_empty() || v.len() > 200)
        {
            self.0.push(FieldError::new(
                field,
                "must be 1-200 characters when given",
            ));
        }
        self
    }

    /// A hospital's zone must be an IANA name: offset-less event timestamps are read in it.
    pub fn timezone(mut self, v: Option<&str>) -> Self {
        if let Some(tz) = v
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            self.0.push(FieldError::new(
                "timezone",
                "must be an IANA time zone name such as Europe/London",
            ));
        }
        self
    }

    pub fn error(mut self, e: FieldError) -> Self {
        self.0.push(e);
        self
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// An id named by a request: a malformed one is a field error, not a 500 or a silent miss.
pub fn uuid_field(field: &str, v: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(v)
        .map_err(|_| ApiError::Validation(vec![FieldError::new(field, "must be a UUID")]))
}
