//! What still depends on a hospital or department, and the deliberate cascades of deleting one.
//!
//! Policy (documented in `crates/px360/README.md`): a hospital or department that still has live
//! organisational or patient data is not deleted (the API answers 409 naming the dependents);
//! what only exists to act for the deleted parent is switched off with it, in the same
//! transaction: a hospital's API keys are revoked, a department's user accounts deactivated
//! (and their refresh tokens revoked).

use crate::{Result, now_ts};
use sqlx::{AnyConnection, AssertSqlSafe};

/// Live rows of one kind that depend on the object being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependent {
    /// Table name, e.g. `departments`, `patients`.
    pub kind: &'static str,
    pub count: i64,
}

/// Tables whose live rows block deleting a hospital (by `hospital_id`) or a department (by
/// `department_id`).
const HOSPITAL_BLOCKERS: [&str; 5] = [
    "departments",
    "physicians",
    "employees",
    "patients",
    "users",
];
const DEPARTMENT_BLOCKERS: [&str; 3] = ["physicians", "employees", "patients"];

async fn count_live(
    tx: &mut AnyConnection,
    tables: &[&'static str],
    column: &str,
    id: &str,
) -> Result<Vec<Dependent>> {
    let mut out = Vec::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if n > 0 {
            out.push(Dependent {
                kind: table,
                count: n,
            });
        }
    }
    Ok(out)
}

/// Live departments, physicians, employees, patients and users of a hospital.
pub async fn hospital_blockers(tx: &mut AnyConnection, id: &str) -> Result<Vec<Dependent>> {
    count_live(tx, &HOSPITAL_BLOCKERS, "hospital_id", id).await
}

/// Live physicians, employees and patients of a department.
pub async fn department_blockers(tx: &mut AnyConnection, id: &str) -> Result<Vec<Dependent>> {
    count_live(tx, &DEPARTMENT_BLOCKERS, "department_id", id).await
}

/// Revoke every live API key of a hospital; returns their ids.
pub async fn revoke_hospital_keys(
    tx: &mut AnyConnection,
    hospital_id: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = $2 WHERE hospital_id = $1 AND revoked_at IS NULL RETURNING id",
    )
    .bind(hospital_id)
    .bind(now_ts())
    .fetch_all(&mut *tx)
    .await?)
}

/// Deactivate every active account scoped to a department and revoke its refresh tokens;
/// returns the account ids.
pub async fn deactivate_department_users(
    tx: &mut AnyConnection,
    department_id: &str,
) -> Result<Vec<String>> {
    let now = now_ts();
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE users SET is_active = 0, updated_at = $2 WHERE department_id = $1 AND deleted_at IS NULL AND is_active <> 0 RETURNING id",
    )
    .bind(department_id)
    .bind(&now)
    .fetch_all(&mut *tx)
    .await?;
    for id in &ids {
        crate::auth::revoke_user_refresh(&mut *tx, id).await?;
    }
    Ok(ids)
}
